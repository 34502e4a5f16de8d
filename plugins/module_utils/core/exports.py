# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each org's export state, from the lines its hauser logs and supervisord's process events.

hauser 1.5.1 says what it does only in its log (internal/service.go, Run and ProcessNext), and
supervisord alone knows whether the process runs. OrgState folds both into a few numbers that
the monitoring rules need: where the org's export stands (last_export_end), when hauser will
try next, how long it has been failing. It keeps no text of a line: an error line or a results
URL may carry credentials, so an error is kept as a short classification ("HTTP 401") only.

States is the state file (one per host, every org of it): JSON, read back defensively, since a
crash or a full disk may have left it corrupt. LogTailer reads each org's log file as
supervisord writes and rotates it on a VM, and keeps its place in the same state file.

Standard library only, and Python 3.6 or later: this runs on the hosts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import datetime
import errno
import json
import math
import os
import re
import stat
import time

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.durations import (
    SECOND,
    DurationError,
    parse_duration,
)
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.files import Dir
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import PROGRAM_PREFIX

STATES = ("starting", "waiting", "exporting", "retrying", "down")
FIELDS = ("state", "up", "restarts", "last_export_end", "window_start", "window_end", "next_export",
          "consecutive_failures", "retrying_since", "last_error", "first_seen", "updated")

# Only the start of a longer line is read: hauser's lines of interest are short, an error's
# text (which may quote a whole response) is not.
MAX_LINE_CHARS = 64 * 1024
# Times outside [MIN_TIME, then + MAX_AHEAD] are not believed: a clock gone wrong or a line made up.
MIN_TIME = 946684800.0  # 2000-01-01T00:00:00Z
MAX_AHEAD = 366 * 86400.0
# A state file holds a few hundred bytes per org; far more is not one of ours.
MAX_STATE_BYTES = 4 * 1024 * 1024
STATE_FILE_MODE = 0o640
STATE_VERSION = 1
# The log tailer: what one call reads of a file at most, and what of a file seen for the first
# time (its history before that is not replayed).
MAX_READ_BYTES = 1024 * 1024
FIRST_SIGHT_BYTES = 256 * 1024

# What last_error may say: the classification of hauser's error, never its text.
ERROR_HTTP = "HTTP %d"
ERROR_TIMEOUT = "timeout"
ERROR_EXPORT_FAILED = "export failed"  # FullStory's operation ended FAILED
ERROR_LOAD_FAILED = "load failed"  # into the warehouse
ERROR_SYNC_FAILED = "sync point failed"
ERROR_MAX_RETRIES = "max retries"
ERROR_OTHER = "error"
_ERROR_KINDS = re.compile(r"(?:HTTP [0-9]{3}|%s)\Z" % "|".join(
    (ERROR_TIMEOUT, ERROR_EXPORT_FAILED, ERROR_LOAD_FAILED, ERROR_SYNC_FAILED, ERROR_MAX_RETRIES, ERROR_OTHER)))

# Go's log prefix (log.LstdFlags): the local date and time of hauser's process.
_LOG_PREFIX = re.compile(r"([0-9]{4})/([0-9]{2})/([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ")
# Go's time.Time String(): "2006-01-02 15:04:05.999999999 -0700 MST", then " m=+0.000000001"
# when the time carries a monotonic clock reading (time.Now() and what is added to it).
_GO_TIME_TEXT = (r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})? [+-][0-9]{4} [^ ]+"
                 r"(?: m=[+-][0-9]+\.[0-9]{9})?")
_GO_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})? "
                      r"([+-])([0-9]{2})([0-9]{2}) ")
_STATUS_CODE = re.compile(r"StatusCode:([0-9]{3})(?![0-9])")

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
_NO_FILE = (errno.ENOENT, errno.ELOOP, errno.ENOTDIR, errno.ENXIO)


def _clock(year, month, day, hour, minute, second):
    """The time tuple of a calendar date and time, or None when there is no such date."""
    try:
        return datetime.datetime(year, month, day, hour, minute, second).timetuple()
    except ValueError:
        return None


def _sane(seconds, now):
    """seconds when it is a believable Unix time at now (see MIN_TIME, MAX_AHEAD), else None."""
    if seconds is None or not MIN_TIME <= seconds <= now + MAX_AHEAD:
        return None
    return seconds


def parse_log_time(line, now):
    """(Unix time, rest of the line) of a line that starts with Go's log prefix, else (None, line).

    Go's log prints the local time of hauser's process, without its zone, so the prefix is read
    as this host's local time (time.mktime): the reader must run in the same time zone as
    hauser (on one host, under one supervisord, they do). In the hour that a change from summer
    time repeats, mktime picks one of the two; the times inside hauser's messages carry their
    offset and are exact."""
    match = _LOG_PREFIX.match(line)
    if not match:
        return None, line
    clock = _clock(*(int(part) for part in match.groups()))
    try:
        seconds = time.mktime(clock[:8] + (-1,)) if clock else None
    except (OverflowError, ValueError):
        seconds = None
    return _sane(seconds, now), line[match.end():]


def parse_go_time(text, now):
    """The Unix time of Go's time.Time String() (its numeric offset decides; the zone's name and
    a monotonic suffix are ignored), or None when it is not one or not believable."""
    match = _GO_TIME.match(text + " ")
    if not match:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
    clock = _clock(year, month, day, hour, minute, second)
    hours, minutes = int(match.group(9)), int(match.group(10))
    if clock is None or minutes > 59:
        return None
    offset = (hours * 60 + minutes) * 60 * (-1 if match.group(8) == "-" else 1)
    fraction = float("0" + match.group(7)) if match.group(7) else 0.0
    return _sane(calendar.timegm(clock) - offset + fraction, now)


def classify_error(text):
    """What kind of error hauser's `failed to process exports: <error>` reports, in a few words
    that carry nothing of the text: HTTP <status> for client.StatusError's
    `... StatusCode:<n> ...`, timeout, export failed (client.ExportError), or error."""
    match = _STATUS_CODE.search(text)
    if match:
        return ERROR_HTTP % int(match.group(1))
    if text.startswith("failed to complete export: "):
        return ERROR_EXPORT_FAILED
    lowered = text.lower()
    if "timeout" in lowered or "deadline exceeded" in lowered:
        return ERROR_TIMEOUT
    return ERROR_OTHER


def _is_number(value):
    return value.__class__ in (int, float) and math.isfinite(value)


def _is_time(value):
    return _is_number(value) and MIN_TIME <= value < 1e11


def _is_time_or_none(value):
    return value is None or _is_time(value)


def _is_count(value):
    return value.__class__ is int and 0 <= value < 1 << 53


def _is_error_or_none(value):
    return value is None or (value.__class__ is str and _ERROR_KINDS.match(value) is not None)


_TIME_FIELDS = frozenset(("last_export_end", "window_start", "window_end", "next_export", "retrying_since",
                          "first_seen", "updated"))
# How from_dict checks each field it takes from a state file.
_FIELD_CHECKS = {
    "state": lambda value: value in STATES,
    "up": lambda value: value.__class__ is bool,
    "restarts": _is_count,
    "last_export_end": _is_time_or_none,
    "window_start": _is_time_or_none,
    "window_end": _is_time_or_none,
    "next_export": _is_time_or_none,
    "consecutive_failures": _is_count,
    "retrying_since": _is_time_or_none,
    "last_error": _is_error_or_none,
    "first_seen": _is_time,
    "updated": _is_time,
}


class OrgState(object):
    """One org's export state (FIELDS), every time a Unix time in seconds (a float) or None:

    state: "starting" (a new process, nothing logged yet), "waiting" (caught up, sleeping until
    next_export), "exporting" (window_start to window_end), "retrying" (the last cycle failed;
    hauser pauses until next_export), "down" (supervisord says the process is not running: set
    and lifted by process events alone, so that lines read late from a process that has ended
    count their failures but do not bring it back up). up: RUNNING. restarts: starts that
    supervisord made on its own. last_export_end: the end of the last window finished, or the
    start of the window hauser creates (its sync point, or StartTime) if that is later: where
    the org's export stands, even for an org that never finished a window since the monitor
    started, or one whose every attempt fails.
    consecutive_failures, retrying_since (the first of them) and last_error (a classification,
    see classify_error): the current run of failed cycles. first_seen: when this state was made
    (what the rules go by for an org that never finished a window); updated: its last change.

    A window is finished when, after its `Creating export`, hauser creates the next window or
    waits, with no failure between (hauser saves the sync point, the window's end, as the last
    step of a cycle, and ProcessNext runs again at once). A `Creating export` for the same window
    (same start or same end: a default StartTime moves at each start) is the window done again
    after a restart, not finished. Any cycle that ends without an error (a window finished, or a
    `Waiting until`) ends a run of failures."""

    def __init__(self, first_seen):
        self.state = "starting"
        self.up = False
        self.restarts = 0
        self.last_export_end = None
        self.window_start = None
        self.window_end = None
        self.next_export = None
        self.consecutive_failures = 0
        self.retrying_since = None
        self.last_error = None
        self.first_seen = float(first_seen)
        self.updated = float(first_seen)
        # Not kept: what a `Failed to load file` or `Failed to save sync point` line said of the
        # `failed to process exports` line that follows it.
        self._cause = None

    def to_dict(self):
        return dict((name, getattr(self, name)) for name in FIELDS)

    @classmethod
    def from_dict(cls, data, now):
        """The state a state file holds; a field of the wrong type is reset to its default (and
        anything that is not a dict gives a fresh state)."""
        org = cls(now)
        if data.__class__ is not dict:
            return org
        for name in FIELDS:
            value = data.get(name)
            if name in data and _FIELD_CHECKS[name](value):
                setattr(org, name, float(value) if name in _TIME_FIELDS and value is not None else value)
        if (org.window_start is None) != (org.window_end is None):
            org.window_start = org.window_end = None
        return org

    def apply_line(self, text, received):
        """Take one line of hauser's output (its trailing newline optional), read at received
        (Unix time, used when the line has no believable log prefix). Lines other than the
        export loop's are ignored. Returns whether the state changed."""
        text = text[:MAX_LINE_CHARS].rstrip("\r\n")
        when, message = parse_log_time(text, received)
        when = received if when is None else when
        before = self.to_dict()
        for pattern, handler in _LINE_HANDLERS:
            match = pattern.match(message)
            if match:
                handler(self, match, when, received)
                break
        return self._changed(before, when)

    def apply_process_event(self, event_name, headers, received):
        """Take one of supervisord's PROCESS_STATE_<STATE> events for the org's program (headers:
        its header dict, from_state among them). A start from EXITED or BACKOFF is supervisord
        restarting the process on its own (counted in restarts); one from STOPPED is someone
        starting it. Events sent while no listener ran are not replayed: a listener that starts
        gives each program's current state (supervisor.getAllProcessInfo) as an event. Returns
        whether the state changed."""
        before = self.to_dict()
        name = event_name[len("PROCESS_STATE_"):] if event_name.startswith("PROCESS_STATE_") else ""
        if name == "STARTING":
            if headers.get("from_state") in ("EXITED", "BACKOFF"):
                self.restarts += 1
            self._gone()
            self.state = "starting"
        elif name == "RUNNING":
            self.up = True
            if self.state == "down":
                self.state = "starting"
        elif name == "STOPPING":
            self.up = False
        elif name in ("BACKOFF", "EXITED", "STOPPED", "FATAL"):
            self._gone()
            self.state = "down"
        return self._changed(before, received)

    def _changed(self, before, when):
        if self.to_dict() == before:
            return False
        self.updated = max(self.updated, float(when))
        return True

    def _gone(self):
        """The process ended: nothing is being exported, nothing is planned."""
        self.up = False
        self.window_start = self.window_end = None
        self.next_export = None

    def _set_state(self, state):
        if self.state != "down":
            self.state = state

    def _finish_window(self):
        self.last_export_end = self.window_end
        self.window_start = self.window_end = None
        self._end_failures()

    def _end_failures(self):
        self.consecutive_failures = 0
        self.retrying_since = None
        self.last_error = None

    def _creating(self, match, when, received):
        start, end = parse_go_time(match.group(1), received), parse_go_time(match.group(2), received)
        if start is None or end is None:
            return
        if self.window_end is not None and start != self.window_start and end != self.window_end:
            self._finish_window()
        # A window starts at hauser's sync point, the end of the last window it finished (in this
        # run or an earlier one, which this monitor may not have seen), or at StartTime when it
        # finished none: all that StartTime asks for before it is exported.
        if self.last_export_end is None or start > self.last_export_end:
            self.last_export_end = start
        self.window_start, self.window_end = start, end
        self.next_export = None
        self._cause = None
        self._set_state("exporting")

    def _exporting(self, match, when, received):
        self._set_state("exporting")

    def _waiting(self, match, when, received):
        if self.window_end is not None:
            self._finish_window()
        self._end_failures()
        self.next_export = parse_go_time(match.group(1), received)
        self._set_state("waiting")

    def _failed(self, match, when, received):
        self.consecutive_failures += 1
        if self.retrying_since is None:
            self.retrying_since = when
        kind = classify_error(match.group(1))
        self.last_error = self._cause if kind == ERROR_OTHER and self._cause else kind
        self._cause = None
        self.window_start = self.window_end = None
        self.next_export = None
        self._set_state("retrying")

    def _pausing(self, match, when, received):
        try:
            pause = max(parse_duration(match.group(1)), 0)
        except DurationError:
            return
        self.next_export = _sane(when + pause / float(SECOND), received)
        self._set_state("retrying")

    def _max_retries(self, match, when, received):
        self.last_error = ERROR_MAX_RETRIES
        self.next_export = None

    def _load_failed(self, match, when, received):
        self._cause = ERROR_LOAD_FAILED

    def _sync_failed(self, match, when, received):
        self._cause = ERROR_SYNC_FAILED


# hauser 1.5.1's lines (internal/service.go), anchored at the message's start, each matched in
# linear time, and the OrgState method for each.
_LINE_HANDLERS = (
    (re.compile(r"Creating export for (%s) to (%s)\Z" % (_GO_TIME_TEXT, _GO_TIME_TEXT)), OrgState._creating),
    (re.compile(r"Export progress: -?[0-9]+%\Z"), OrgState._exporting),
    (re.compile(r"Fetching export for operation id "), OrgState._exporting),
    (re.compile(r"Waiting until (%s) to start next export\Z" % _GO_TIME_TEXT), OrgState._waiting),
    (re.compile(r"failed to process exports: (.*)\Z", re.DOTALL), OrgState._failed),
    # A Go duration prints in 24 characters at most (-2562047h47m16.854775808s).
    (re.compile(r"Pausing; will retry operation in ([^ ]{1,32})\Z"), OrgState._pausing),
    (re.compile(r"Reached max retries; exiting\Z"), OrgState._max_retries),
    (re.compile(r"Failed to load file '"), OrgState._load_failed),
    (re.compile(r"Failed to save sync point for "), OrgState._sync_failed),
)


def _open_regular(path):
    """(fd, stat) of the regular file at path, opened without following a link; None when
    there is none there (nothing, a link, a directory, a socket, a FIFO...)."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        if error.errno in _NO_FILE:
            return None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return None
    return fd, info


def _read_at(fd, offset, limit):
    """Up to limit bytes of fd from offset (fewer only at its end)."""
    chunks = []
    while limit > 0:
        chunk = os.pread(fd, min(limit, 65536), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
        limit -= len(chunk)
    return b"".join(chunks)


def replace_file(path, text, mode=STATE_FILE_MODE):
    """Write text to path as a new file in the same directory (created exclusively, never
    through a link, with its mode, synced) renamed over path: a reader sees the old file or the
    new one, never half of one, and a link at path is replaced, not followed."""
    directory = os.path.dirname(path) or "."
    with Dir(os.open(directory, _DIR_FLAGS), directory) as target:
        target.write(os.path.basename(path), text, os.geteuid(), os.getegid(), mode)


class States(object):
    """Every org's OrgState (orgs: org id -> OrgState) and the log tailer's places (logs), as
    one JSON state file."""

    def __init__(self, orgs=None, logs=None):
        self.orgs = {} if orgs is None else orgs
        self.logs = {} if logs is None else logs

    def org(self, org_id, now):
        """The org's state, a fresh one (first seen now) if it has none yet."""
        if org_id not in self.orgs:
            self.orgs[org_id] = OrgState(now)
        return self.orgs[org_id]

    def apply_process_event(self, event_name, headers, received):
        """Give a PROCESS_STATE event to the org whose program (hauser-<org>) it is about. Returns
        that org's id, or None for another program's event."""
        name = headers.get("processname", "")
        if not name.startswith(PROGRAM_PREFIX) or len(name) == len(PROGRAM_PREFIX):
            return None
        org_id = name[len(PROGRAM_PREFIX):]
        self.org(org_id, received).apply_process_event(event_name, headers, received)
        return org_id

    def retain(self, org_ids):
        """Forget the orgs that are not among org_ids (no longer deployed here)."""
        keep = set(org_ids)
        for org_id in [org_id for org_id in self.orgs if org_id not in keep]:
            del self.orgs[org_id]

    def to_json(self):
        return json.dumps({
            "version": STATE_VERSION,
            "orgs": dict((org_id, org.to_dict()) for org_id, org in self.orgs.items()),
            "logs": self.logs,
        }, sort_keys=True, allow_nan=False)

    @classmethod
    def from_json(cls, text, now=None):
        """The states a state file holds. Never fails: text that is too long, not JSON or not
        ours gives fresh states; an org's entry that is not right starts that org afresh (first
        seen now), a field of the wrong type is reset, unknown fields are dropped."""
        now = time.time() if now is None else now
        if len(text) > MAX_STATE_BYTES:
            return cls()
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return cls()
        if data.__class__ is not dict or data.get("version").__class__ is not int or data["version"] != STATE_VERSION:
            return cls()
        orgs = data.get("orgs")
        orgs = orgs if orgs.__class__ is dict else {}
        return cls(dict((org_id, OrgState.from_dict(entry, now)) for org_id, entry in orgs.items()),
                   LogTailer.clean_positions(data.get("logs")))

    def save_atomically(self, path):
        """Write the state file (see replace_file)."""
        replace_file(path, self.to_json())

    @classmethod
    def load(cls, path, now=None):
        """The states of the state file at path; fresh ones when there is none, when a link or
        anything but a regular file is there, or when it is too large or not text."""
        opened = _open_regular(path)
        if opened is None:
            return cls()
        fd, _info = opened
        try:
            data = _read_at(fd, 0, MAX_STATE_BYTES + 1)  # from_json refuses more than MAX_STATE_BYTES
        finally:
            os.close(fd)
        try:
            return cls.from_json(data.decode("utf-8"), now)
        except UnicodeDecodeError:
            return cls()


class _LineReader(object):
    """The complete lines read from one or two files (a rotated one, then the new one), within
    a byte budget; a partial line at the end of the rotated file goes on in the new one."""

    def __init__(self, budget):
        self.budget = budget
        self.lines = []
        self.partial = b""

    def read(self, fd, offset, skip):
        """Read fd from offset, skipping up to the first newline first if skip (the rest of a
        line begun before). Returns (offset, skip, at_end): where the next read of this file
        starts, whether it skips, and whether the file's end was reached."""
        data = _read_at(fd, offset, self.budget)
        self.budget -= len(data)
        at_end = self.budget > 0
        if not data:
            return offset, skip, at_end
        if skip:
            newline = data.find(b"\n")
            if newline < 0:
                return offset + len(data), True, at_end
            offset, data, skip = offset + newline + 1, data[newline + 1:], False
        carried, data = len(self.partial), self.partial + data
        self.partial = b""
        last = data.rfind(b"\n")
        if last < 0 and not at_end:
            # A line longer than the budget: its start is taken as a line, its rest skipped.
            self.lines.append(data.decode("utf-8", "replace"))
            return offset + len(data) - carried, True, False
        self.lines.extend(line.decode("utf-8", "replace") for line in data[:last + 1].split(b"\n")[:-1])
        if at_end:
            self.partial = data[last + 1:]
        return offset + max(last + 1 - carried, 0), False, at_end


class LogTailer(object):
    """The lines added to log files since the last look, as supervisord writes each org's
    output to <log_dir>/<org>.log and rotates it (renamed to <org>.log.1, a new file begun).

    positions (path -> {"inode", "offset", "skip"}) is where it stands in each file: a dict of
    the caller's, States.logs, so that it goes into the state file and a restarted listener
    goes on where it stopped. Files are opened without following a link: a link at a log path
    is no log file."""

    def __init__(self, positions, max_bytes=MAX_READ_BYTES, first_sight_bytes=FIRST_SIGHT_BYTES):
        self.positions = positions
        self.max_bytes = max_bytes
        self.first_sight_bytes = first_sight_bytes

    @staticmethod
    def clean_positions(data):
        """The positions of a state file that are right (others are dropped: their files are
        then read as if seen for the first time)."""
        if data.__class__ is not dict:
            return {}
        return dict((path, {"inode": entry["inode"], "offset": entry["offset"], "skip": entry["skip"]})
                    for path, entry in data.items()
                    if path.__class__ is str and entry.__class__ is dict and _is_count(entry.get("inode"))
                    and _is_count(entry.get("offset")) and entry.get("skip").__class__ is bool)

    def retain(self, paths):
        """Forget the files that are not among paths."""
        keep = set(paths)
        for path in [path for path in self.positions if path not in keep]:
            del self.positions[path]

    def read_new(self, path):
        """The complete lines (text, without their newline) added to the file at path since the
        last call: at most max_bytes of it per call (the rest comes at the next calls), a partial
        last line left for the next call. After a rotation (another file at path, or one shorter
        than the place reached), the rest of <path>.1 if it is the file read before, then the
        new file from its start. A file seen for the first time is read from its last
        first_sight_bytes on. No file at path: no lines, and the place is kept."""
        opened = _open_regular(path)
        if opened is None:
            return []
        fd, info = opened
        try:
            reader = _LineReader(self.max_bytes)
            start = self._start(path, info, reader)
            if start is not None:
                self._read(path, fd, info, reader, start)
            return reader.lines
        finally:
            os.close(fd)

    def _read(self, path, fd, info, reader, start):
        offset, skip, _at_end = reader.read(fd, start[0], start[1])
        self.positions[path] = {"inode": info.st_ino, "offset": offset, "skip": skip}

    def _start(self, path, info, reader):
        """Where to start reading the file at path, (offset, skip), having read what was left
        of the rotated file first; None when the budget ran out in the rotated file (the place
        then stays there)."""
        position = self.positions.get(path)
        if position is None:
            start = info.st_size - self.first_sight_bytes - 1
            # From just before the tail: the skip to the first newline then loses no whole line.
            return (start, True) if start > 0 else (0, False)
        if position["inode"] == info.st_ino:
            if info.st_size < position["offset"]:
                return 0, False  # truncated in place
            return position["offset"], position["skip"]
        rotated = _open_regular(path + ".1")
        if rotated is None:
            return 0, False
        fd, rotated_info = rotated
        try:
            if rotated_info.st_ino == position["inode"]:
                self._read(path, fd, rotated_info, reader, (position["offset"], position["skip"]))
                if reader.budget == 0:
                    return None
        finally:
            os.close(fd)
        return 0, False
