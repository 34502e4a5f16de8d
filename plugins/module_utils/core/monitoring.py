# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitor: a supervisord event listener that keeps every org's export state and its metrics.

One implementation for a VM and the image. The deployment writes the monitor's config (which
orgs, with the ExportDelay and ExportDuration it planned for each, where their logs are and where
the metrics go): monitor_config() makes it, on the controller for a VM, in the entrypoint for the
image. The listener (Monitor, fed by run_listener) takes supervisord's PROCESS_STATE events, and
each org's output: on a VM from the log files supervisord writes (so that no program file
changes, and no org restarts, when monitoring is turned on), in the image from the PROCESS_LOG
events its programs send (they write no log file). At each TICK it keeps the state file and the
metrics: a node_exporter textfile on a VM; in the image a file that a server of its own
(run_server, a program of user nobody) serves as /metrics. The listener runs as root, as it must
to ask supervisord (whose socket is root's) for its programs; nothing of it listens on the network.

It reads no config.toml (each holds a key) and keeps no text of a line (see exports.py).
Standard library only, Python 3.6 or later: this runs on the hosts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import posixpath
import stat
import sys
import threading
import time

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.config import check_extra
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.durations import SECOND, parse_duration
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.exports import LogTailer, States
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.files import Dir
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import (
    IMAGE_RUN_DIR,
    MONITOR_CONFIG,
    SERVER_CONFIG_NAME,
    Layout,
)
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.metrics import render

# supervisord's name of the listener; its program file in the program directory (a VM).
MONITOR_NAME = "multi-hauser-monitor"
MONITOR_PROGRAM_FILE = MONITOR_NAME + ".conf"
CONFIG_PATH = MONITOR_CONFIG
# In the base directory (root's): no org id holds a ".", so no org directory has this name.
STATE_NAME = ".monitor-state.json"
TEXTFILE_NAME = "multi_hauser.prom"
SERVER_CONFIG_PATH = posixpath.join(IMAGE_RUN_DIR, SERVER_CONFIG_NAME)
# The metrics of a few thousand orgs are a few MB.
MAX_METRICS_BYTES = 64 * 1024 * 1024
CONFIG_VERSION = 1
MAX_CONFIG_BYTES = 16 * 1024 * 1024
# supervisord sends an event of at most its buffer's size; a header line is short.
MAX_HEADER_BYTES = 4096
MAX_EVENT_BYTES = 4 * 1024 * 1024
# How often the monitor asks supervisord for every program's state (events may be lost when
# its buffer is full, and none are replayed for a listener that starts), and writes its outputs
# when nothing changed (the metrics' last update: the rules see a monitor that went silent).
RECONCILE_SECONDS = 60
REFRESH_SECONDS = 60
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class MonitorError(Exception):
    """The monitor's config cannot be read; the message names the file."""


def timing(export_delay, settings):
    """(ExportDelay, ExportDuration) in seconds of an org as hauser runs it: its staggered delay
    and the deployment's duration, unless multi_hauser_config_extra sets either for every org."""
    extra = check_extra(settings.get("config_extra") or {})
    delay = extra.get("ExportDelay", export_delay)
    duration = extra.get("ExportDuration", settings["export_duration"])
    return parse_duration(delay) / SECOND, parse_duration(duration) / SECOND


def monitor_config(orgs, settings, supervisor_config):
    """The monitor's config (a dict, as JSON in CONFIG_PATH) for these orgs (each with org_id
    and export_delay) of a deployment with these settings: each org's timing and, on a VM, its
    log file; the state file; the textfile (metrics_textfile_dir on a VM; in the image, in
    metrics_dir (IMAGE_RUN_DIR) when metrics_port is set) and the address and port of /metrics
    (the image)."""
    layout = Layout(settings["base_dir"], "", settings.get("log_dir", ""))
    vm = settings.get("mode", "vm") == "vm"
    entries = {}
    for org in orgs:
        delay, duration = timing(org["export_delay"], settings)
        entries[org["org_id"]] = {"log": layout.log_path(org["org_id"]) if vm else None,
                                  "export_delay_seconds": delay, "export_duration_seconds": duration}
    textfile_dir = settings.get("metrics_textfile_dir") or ""
    port = settings.get("metrics_port") or 0
    if vm:
        textfile = posixpath.join(textfile_dir, TEXTFILE_NAME) if textfile_dir else ""
    else:
        textfile = posixpath.join(settings.get("metrics_dir") or IMAGE_RUN_DIR, TEXTFILE_NAME) if port else ""
    return {
        "version": CONFIG_VERSION,
        "orgs": entries,
        "state": posixpath.join(settings["base_dir"], STATE_NAME),
        "textfile": textfile,
        "listen": [settings.get("metrics_address") or "0.0.0.0", port] if not vm and port else None,
        "supervisor_config": supervisor_config,
    }


# What the status table calls STALE, as the alert rule MultiHauserOrgExportStale does with its
# default margin: the org's export stands further behind now than its ExportDelay and
# ExportDuration allow, by more than the margin (an org whose export stands nowhere yet counts from
# when the monitor first saw it).
STALE_MARGIN_SECONDS = 3600


def is_stale(state, timing, now, margin=STALE_MARGIN_SECONDS):
    """Whether an org (its OrgState, and its entry of the monitor's config) is STALE."""
    since = state.last_export_end if state.last_export_end is not None else state.first_seen
    return now - since > timing["export_delay_seconds"] + timing["export_duration_seconds"] + margin


def summaries(config_path, now):
    """org id -> what the status table shows of its export (the state file's view, or nothing
    when there is no monitor): export_state, last_export_end, next_export (Unix times or None),
    consecutive_failures, stale."""
    try:
        config = read_config(config_path)
    except MonitorError:
        return {}
    states = States.load(config["state"], now)
    found = {}
    for org_id, timing in config["orgs"].items():
        state = states.orgs.get(org_id)
        if state is not None:
            found[org_id] = {"export_state": state.state, "last_export_end": state.last_export_end,
                             "next_export": state.next_export, "consecutive_failures": state.consecutive_failures,
                             "stale": is_stale(state, timing, now)}
    return found


def config_text(config):
    return json.dumps(config, indent=1, sort_keys=True) + "\n"


def _is_number(value):
    return value.__class__ in (int, float) and value >= 0


def read_small_file(path, limit, what):
    """The bytes of the regular file at path, of at most limit bytes: MonitorError naming the
    file (as what) if it is missing, too large, or not a regular file (a link is not followed,
    a FIFO not waited on)."""
    try:
        # O_NONBLOCK: a FIFO planted there is refused below, not waited on for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise MonitorError("cannot read %s: %s" % (path, error.strerror))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            raise MonitorError("%s is not %s (not a regular file, or too large)" % (path, what))
        data = b""
        while len(data) <= limit:
            chunk = os.read(fd, limit + 1 - len(data))
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    if len(data) > limit:
        raise MonitorError("%s is not %s (too large)" % (path, what))
    return data


def _read_json(path, what):
    try:
        return json.loads(read_small_file(path, MAX_CONFIG_BYTES, what).decode("utf-8"))
    except (ValueError, RecursionError):
        raise MonitorError("%s is not %s (not JSON)" % (path, what))


def _check_listen(path, listen):
    if listen is not None and not (listen.__class__ is list and len(listen) == 2 and isinstance(listen[0], str)
                                   and listen[1].__class__ is int and 0 < listen[1] < 65536):
        raise MonitorError("%s: listen is not an address and a port" % path)


def read_config(path):
    """The monitor's config at path, checked: MonitorError naming the file if it is missing,
    too large, not a regular file (a link is not followed) or not what monitor_config writes."""
    config = _read_json(path, "a monitor config")
    if config.__class__ is not dict or config.get("version") != CONFIG_VERSION \
            or config.get("orgs").__class__ is not dict or not isinstance(config.get("state"), str):
        raise MonitorError("%s is not a monitor config of this version" % path)
    for org_id, entry in config["orgs"].items():
        if entry.__class__ is not dict or not (entry.get("log") is None or isinstance(entry.get("log"), str)) \
                or not _is_number(entry.get("export_delay_seconds")) \
                or not _is_number(entry.get("export_duration_seconds")):
            raise MonitorError("%s: the entry of org %s is not right" % (path, org_id))
    _check_listen(path, config.get("listen"))
    return config


def server_config(config):
    """What the metrics server of the image needs of the monitor's config (no org in it)."""
    return {"version": CONFIG_VERSION, "textfile": config["textfile"], "listen": config["listen"]}


def read_server_config(path):
    config = _read_json(path, "a metrics server config")
    if config.__class__ is not dict or config.get("version") != CONFIG_VERSION \
            or not isinstance(config.get("textfile"), str):
        raise MonitorError("%s is not a metrics server config of this version" % path)
    _check_listen(path, config.get("listen"))
    if config["listen"] is not None and not posixpath.isabs(config["textfile"]):
        raise MonitorError("%s: textfile is not an absolute path" % path)
    return config


def open_dir(path):
    """A Dir for path, reached from / one name at a time without following a link: a directory
    that another user owns (node_exporter's, the prometheus user's) may have a link planted in
    it, and root writes only where the path really leads."""
    if not posixpath.isabs(path):
        raise OSError(errno.EINVAL, "not an absolute path", path)
    fd = os.open("/", _DIR_FLAGS)
    try:
        for name in [part for part in path.split("/") if part]:
            child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
    except OSError:
        os.close(fd)
        raise
    return Dir(fd, path)


def write_file(path, text, mode):
    """text as the file at path, root's with mode: a new file renamed over the old one in its
    directory (reached without following a link), so a reader never sees half of it."""
    with open_dir(posixpath.dirname(path)) as directory:
        directory.write(posixpath.basename(path), text, os.geteuid(), os.getegid(), mode)


def _fields(line):
    return dict(field.split(":", 1) for field in line.split() if ":" in field)


class Monitor(object):
    """Every org's export state, from supervisord's events (on_event) and the orgs' output; kept
    in the state file and the metrics at each tick. clock and supervisor are for tests: the time,
    and a function giving supervisord's getAllProcessInfo."""

    def __init__(self, config_path, clock=time.time, supervisor=None, log=None):
        self.config_path = config_path
        self.clock = clock
        self.supervisor = supervisor or self._supervisor_processes
        self.log = log or (lambda message: sys.stderr.write("multi-hauser-monitor: %s\n" % message))
        self.config = None
        self.config_stamp = None
        self.states = None
        self.metrics = ""  # the metrics last written
        self.dirty = True
        self.last_reconcile = None
        self.last_write = None
        self.problems = set()

    # --- the config, and what follows from it -------------------------------------------------

    def load_config(self):
        """(Re)reads the config when it changed; keeps the one it has if the new one is broken."""
        try:
            info = os.stat(self.config_path)
            stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
        except OSError:
            stamp = None
        if stamp == self.config_stamp and self.config is not None:
            return
        try:
            config = read_config(self.config_path)
        except MonitorError as error:
            if self.config is None:
                raise  # the caller says it: no config to go on with
            self.say_once("config", str(error))
            return
        self.problems.discard("config")
        self.config_stamp = stamp
        first = self.config is None or self.config["state"] != config["state"]
        self.config = config
        if first:
            self.states = States.load(config["state"], self.clock())
        self.states.retain(config["orgs"])
        self.dirty = True

    def say_once(self, kind, message):
        if kind not in self.problems:
            self.problems.add(kind)
            self.log(message)

    # --- events -----------------------------------------------------------------------------

    def on_event(self, name, payload):
        """One event of supervisord: its eventname and payload (text)."""
        now = self.clock()
        if name.startswith("PROCESS_STATE_"):
            head = _fields(payload.split("\n", 1)[0])
            if self.states.apply_process_event(name, head, now) in self.config["orgs"]:
                self.dirty = True
        elif name.startswith("PROCESS_LOG_"):
            head, _newline, data = payload.partition("\n")
            org_id = Layout.org_of_program(_fields(head).get("processname", ""))
            if org_id in self.config["orgs"]:
                org = self.states.org(org_id, now)
                for line in data.splitlines():
                    if org.apply_line(line, now):
                        self.dirty = True
        elif name.startswith("TICK_"):
            self.tick()

    def tick(self):
        """Reads what the orgs logged, asks supervisord for every program's state now and then,
        and writes the state file and the metrics when something changed (or a while passed)."""
        self.load_config()
        now = self.clock()
        self._read_logs(now)
        if self.last_reconcile is None or now - self.last_reconcile >= RECONCILE_SECONDS:
            self.last_reconcile = now
            self.reconcile(now)
        if self.dirty or self.last_write is None or now - self.last_write >= REFRESH_SECONDS:
            self.write(now)

    def _read_logs(self, now):
        logs = dict((org_id, entry["log"]) for org_id, entry in self.config["orgs"].items() if entry.get("log"))
        tailer = LogTailer(self.states.logs)
        tailer.retain(logs.values())
        for org_id, path in sorted(logs.items()):
            lines = tailer.read_new(path)
            if lines:
                org = self.states.org(org_id, now)
                for line in lines:
                    org.apply_line(line, now)
                self.dirty = True  # the place in the log moved, at least

    def reconcile(self, now):
        """Brings each org's up and state in line with what supervisord says now."""
        try:
            processes = self.supervisor()
        except Exception as error:  # pylint: disable=broad-except  # supervisord away: events still come
            self.say_once("supervisor", "cannot ask supervisord for its programs' states (%s)"
                          % type(error).__name__)
            return
        self.problems.discard("supervisor")
        for info in processes:
            org_id = Layout.org_of_program(info.get("name", ""))
            if org_id not in self.config["orgs"]:
                continue
            state = info.get("statename", "")
            org = self.states.org(org_id, now)
            running = state == "RUNNING"
            if running != org.up or (not running and state not in ("STARTING",) and org.state != "down"):
                if org.apply_process_event("PROCESS_STATE_" + state, {}, now):
                    self.dirty = True

    def _supervisor_processes(self):
        from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.supervisor import Supervisor

        return list(Supervisor(self.config["supervisor_config"], timeout=10).processes().values())

    # --- outputs ----------------------------------------------------------------------------

    def write(self, now):
        text = self.metrics = render(self.states, self.config["orgs"], now)
        try:
            self.states.save_atomically(self.config["state"])
            self.problems.discard("state")
        except OSError as error:
            self.say_once("state", "cannot write %s: %s" % (self.config["state"], error.strerror))
        if self.config.get("textfile"):
            try:
                write_file(self.config["textfile"], text, 0o644)
                self.problems.discard("textfile")
            except OSError as error:
                self.say_once("textfile", "cannot write %s: %s" % (self.config["textfile"], error.strerror))
        self.dirty = False
        self.last_write = now

    def metrics_text(self):
        return self.metrics


def serve_textfile(textfile, address, port):
    """The metrics file textfile as /metrics over HTTP, in a thread of its own; read at each
    request (never following a link), 503 while it cannot be read. Returns the server."""
    from http.server import BaseHTTPRequestHandler, HTTPServer  # pylint: disable=import-outside-toplevel

    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # a client that sends nothing holds the (one) server thread no longer

        def do_GET(self):  # pylint: disable=invalid-name  # http.server's name
            if self.path.split("?", 1)[0] != "/metrics":
                self.send_error(404)
                return
            try:
                body = read_small_file(textfile, MAX_METRICS_BYTES, "the metrics")
            except MonitorError:
                self.send_error(503, "no metrics yet")
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # no line per scrape in the container's log
            pass

    class Server(HTTPServer):
        def handle_error(self, request, client_address):
            pass  # a client that went away mid-answer: no traceback in the container's log

    server = Server((address, port), Handler)
    thread = threading.Thread(target=server.serve_forever, name="metrics")
    thread.daemon = True
    thread.start()
    return server


def run_server(path, wait=None):
    """The image's metrics server, as its program runs it: serves what read_server_config(path)
    says until the process ends (wait, for tests, returns when the server should stop). Returns
    False when there is nothing to serve (no port)."""
    config = read_server_config(path)
    if config["listen"] is None:
        return False
    server = serve_textfile(config["textfile"], config["listen"][0], config["listen"][1])
    try:
        (wait or threading.Event().wait)()
    finally:
        server.shutdown()
        server.server_close()
    return True


def read_event(stdin):
    """(eventname, payload) of the next event supervisord sends on stdin (bytes), or None at
    its end."""
    header = stdin.readline(MAX_HEADER_BYTES)
    if not header:
        return None
    fields = _fields(header.decode("utf-8", "replace"))
    length = int(fields.get("len", "0"))
    if not 0 <= length <= MAX_EVENT_BYTES:
        raise ValueError("an event of %d bytes" % length)
    payload = b""
    while len(payload) < length:
        chunk = stdin.read(length - len(payload))
        if not chunk:
            return None
        payload += chunk
    return fields.get("eventname", ""), payload.decode("utf-8", "replace")


def run_listener(monitor, stdin, stdout):
    """supervisord's event listener protocol: READY, an event, its RESULT; until stdin ends.
    An event the monitor cannot take is acknowledged all the same (and said once on stderr),
    so that supervisord never holds events back for it."""
    monitor.load_config()
    monitor.tick()
    while True:
        stdout.write(b"READY\n")
        stdout.flush()
        event = read_event(stdin)
        if event is None:
            return
        try:
            monitor.on_event(*event)
        except Exception as error:  # pylint: disable=broad-except  # never a traceback that may quote a line
            monitor.say_once("event", "an event could not be taken (%s)" % type(error).__name__)
        stdout.write(b"RESULT 2\nOK")
        stdout.flush()
