"""exports: each org's export state from what hauser 1.5.1 logs and supervisord's process events,
the state file, and the log tailer across supervisord's rotations.

The lines are written here from hauser's format strings (internal/service.go: log.Printf of
"Creating export for %s to %s", "Export progress: %d%%", "Fetching export for operation id %s",
"Waiting until %s to start next export", "failed to process exports: %s", "Pausing; will retry
operation in %s", log.Fatalf "Reached max retries; exiting"; client/client.go's StatusError), with
Go's log prefix and time.Time String(); the last tests take them from the hauser stand-in run
against the fake FullStory API."""

import contextlib
import importlib.util
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hauser_log import go_utc, logged, utc

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.exports import (
    FIELDS,
    FIRST_SIGHT_BYTES,
    MAX_READ_BYTES,
    MAX_STATE_BYTES,
    LogTailer,
    OrgState,
    States,
    classify_error,
    parse_go_time,
    parse_log_time,
)

HOUR = 3600
TESTS_DIR = Path(__file__).resolve().parents[4]


STATUS_401 = "fullstory: response error: Status:401 Unauthorized, StatusCode:401, RetryAfter:0s"


class Hauser(object):
    """Prints hauser's lines with a clock of its own (each line a few seconds after the last)."""

    def __init__(self, now):
        self.now = now
        self.lines = []

    def say(self, message, after=2):
        self.now += after
        self.lines.append(logged(self.now, message))
        return self.now

    def window(self, start, end, polls=2, operation="op-000001"):
        """A window exported without an error, up to its last line (the cycle's end is the next
        Creating export or Waiting until)."""
        self.say("Creating export for %s to %s" % (start, end))
        for poll in range(polls):
            self.say("Export progress: %d%%" % (100 * (poll + 1) // polls), after=5)
        self.say("Fetching export for operation id %s" % operation)

    def failure(self, error, pause):
        """A failed cycle: the time of its failure line, then the pause's end."""
        failed = self.say("failed to process exports: %s" % error)
        self.say("Pausing; will retry operation in %s" % pause, after=0)
        return failed

    def feed(self, org, received=None):
        """Give org the lines printed since the last feed; received defaults to the clock."""
        for line in self.lines:
            org.apply_line(line + "\n", self.now if received is None else received)
        self.lines = []
        return org


def event(org, name, from_state, received, **headers):
    """A supervisord PROCESS_STATE_<name> event for hauser-o-1."""
    headers.update({"processname": "hauser-o-1", "groupname": "hauser-o-1", "from_state": from_state, "pid": "4242"})
    return org.apply_process_event("PROCESS_STATE_" + name, headers, received)


@pytest.fixture(autouse=True)
def local_zone(monkeypatch):
    """The tests run in UTC unless they choose another zone with the function this yields."""
    def use(zone):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
    use("UTC")
    yield use
    monkeypatch.undo()
    time.tzset()


# hauser's default StartTime (config.Load: now - 30 days, in UTC) keeps its nanoseconds.
START_TIME = "2025-10-28 05:17:42.123456789 +0000 UTC"
W0 = utc("2025-10-28 06:00:00")  # the first window's end: StartTime + 6h truncated to 6h
CAUGHT_UP = utc("2025-11-27 05:00:00")  # when the catch-up runs (ExportDelay 24h)


def caught_up(windows=3):
    """An org's state and hauser after a catch-up of windows 6h windows from StartTime, then
    waiting: the last end is W0 + 6h * (windows - 1)."""
    hauser = Hauser(CAUGHT_UP)
    org = OrgState(CAUGHT_UP)
    hauser.window(START_TIME, go_utc(W0))
    for index in range(1, windows):
        hauser.window(go_utc(W0 + (index - 1) * 6 * HOUR), go_utc(W0 + index * 6 * HOUR))
    hauser.say("Waiting until 2025-10-29 07:00:00.000211327 +0100 CET m=+3600.000000001 to start next export")
    return hauser.feed(org), hauser


# --- the export loop's lines -----------------------------------------------------------------


def test_a_clean_catch_up_of_several_windows_then_waiting():
    hauser = Hauser(CAUGHT_UP)
    org = OrgState(CAUGHT_UP)
    hauser.window(START_TIME, go_utc(W0))
    hauser.feed(org)
    # Nothing finished yet: the export stands at the window's start (StartTime, here).
    assert (org.state, org.window_end) == ("exporting", W0)
    assert org.window_start == pytest.approx(utc("2025-10-28 05:17:42") + 0.123456789, abs=1e-6)
    assert org.last_export_end == org.window_start
    ends = []
    for index in range(1, 4):
        hauser.window(go_utc(W0 + (index - 1) * 6 * HOUR), go_utc(W0 + index * 6 * HOUR))
        hauser.feed(org)
        ends.append(org.last_export_end)
    # Each Creating export finishes the window before it.
    assert ends == [W0, W0 + 6 * HOUR, W0 + 12 * HOUR]
    hauser.say("Waiting until 2025-10-29 19:00:00.000211327 +0100 CET m=+3600.000000001 to start next export")
    hauser.feed(org)
    assert org.state == "waiting"
    assert org.last_export_end == W0 + 18 * HOUR
    assert (org.window_start, org.window_end) == (None, None)
    # The time of Waiting until is local (time.Now), with its offset: 18:00 UTC.
    assert org.next_export == pytest.approx(utc("2025-10-29 18:00:00") + 0.000211327, abs=1e-6)
    assert (org.consecutive_failures, org.retrying_since, org.last_error) == (0, None, None)
    assert org.updated == hauser.now
    # The wait over, the next window: nothing is planned while it runs.
    hauser.say("Creating export for %s to %s" % (go_utc(W0 + 18 * HOUR), go_utc(W0 + 24 * HOUR)), after=HOUR)
    hauser.feed(org)
    assert (org.state, org.next_export, org.window_end) == ("exporting", None, W0 + 24 * HOUR)


def test_a_401_loop_counts_failures_and_keeps_the_last_export():
    org, hauser = caught_up()
    last_end = org.last_export_end
    window = (go_utc(last_end), go_utc(last_end + 6 * HOUR))
    first_failure, waited = None, 2
    # Backoff 30s: the pauses double (BackoffOnError: Backoff * 2^step, printed as a Go duration).
    for count, (pause, seconds) in enumerate((("30s", 30), ("1m0s", 60), ("2m0s", 120), ("4m0s", 240)), 1):
        hauser.say("Creating export for %s to %s" % window, after=waited)
        failed = hauser.failure(STATUS_401, pause)
        waited = seconds
        first_failure = first_failure or failed
        hauser.feed(org)
        assert org.consecutive_failures == count
        assert org.state == "retrying"
        assert org.last_export_end == last_end
        assert org.retrying_since == first_failure
        assert org.next_export == failed + seconds
        assert org.last_error == "HTTP 401"
        assert (org.window_start, org.window_end) == (None, None)
    assert "Unauthorized" not in json.dumps(org.to_dict())


def test_an_org_whose_every_create_is_refused_stands_at_its_start_time():
    """A key refused from the first day: no window ever finishes, yet the export has a place,
    StartTime, which falls behind as time passes (what the staleness alert goes by)."""
    hauser = Hauser(CAUGHT_UP)
    org = OrgState(CAUGHT_UP)
    for pause in ("30s", "1m0s", "2m0s"):
        hauser.say("Creating export for %s to %s" % (START_TIME, go_utc(W0)))
        hauser.failure(STATUS_401, pause)
    hauser.say("Reached max retries; exiting")
    hauser.feed(org)
    assert (org.consecutive_failures, org.last_error) == (3, "max retries")
    assert org.last_export_end == pytest.approx(utc("2025-10-28 05:17:42") + 0.123456789, abs=1e-6)
    # hauser restarted by supervisord takes a new default StartTime (now - 30 days): a later start
    hauser.say("Creating export for %s to %s" % ("2025-10-28 05:30:00 +0000 UTC", go_utc(W0)), after=60)
    hauser.failure(STATUS_401, "30s")
    hauser.feed(org)
    assert org.last_export_end == utc("2025-10-28 05:30:00")
    # an earlier start (an older line read late) does not move it back
    hauser.say("Creating export for %s to %s" % (START_TIME, go_utc(W0)))
    hauser.feed(org)
    assert org.last_export_end == utc("2025-10-28 05:30:00")


def test_recovery_resets_the_failures():
    org, hauser = caught_up()
    last_end = org.last_export_end
    window = (go_utc(last_end), go_utc(last_end + 6 * HOUR))
    for _round in range(3):
        hauser.say("Creating export for %s to %s" % window)
        hauser.failure(STATUS_401, "30s")
    hauser.window(*window)
    hauser.feed(org)
    # The window's lines alone do not end the failures: the cycle has not ended yet.
    assert (org.state, org.consecutive_failures, org.last_export_end) == ("exporting", 3, last_end)
    hauser.window(go_utc(last_end + 6 * HOUR), go_utc(last_end + 12 * HOUR))
    hauser.feed(org)
    assert org.last_export_end == last_end + 6 * HOUR
    assert (org.consecutive_failures, org.retrying_since, org.last_error) == (0, None, None)
    assert org.state == "exporting"


def test_a_cycle_failing_before_its_window_ends_when_hauser_waits():
    """A sync point that cannot be read fails before any Creating export; once it can, hauser
    may be caught up and wait: that cycle had no error."""
    org, hauser = caught_up()
    hauser.failure("failed to create sync file reader: open /srv/save/o-1/.sync.hauser: permission denied", "30s")
    hauser.feed(org)
    assert (org.consecutive_failures, org.last_error, org.state) == (1, "error", "retrying")
    hauser.say("Waiting until 2025-10-29 07:00:00 +0100 CET m=+3600.000000001 to start next export", after=30)
    hauser.feed(org)
    assert (org.consecutive_failures, org.retrying_since, org.last_error, org.state) == (0, None, None, "waiting")
    assert org.next_export == utc("2025-10-29 06:00:00")


def test_max_retries_then_supervisord_restarts_it():
    org, hauser = caught_up()
    event(org, "RUNNING", "STARTING", hauser.now)
    last_end = org.last_export_end
    window = (go_utc(last_end), go_utc(last_end + 6 * HOUR))
    for pause in ("30s", "1m0s"):
        hauser.say("Creating export for %s to %s" % window)
        hauser.failure(STATUS_401, pause)
    hauser.say("Creating export for %s to %s" % window)
    hauser.say("failed to process exports: " + STATUS_401)
    hauser.say("Reached max retries; exiting", after=0)
    hauser.feed(org)
    first_failure = org.retrying_since
    assert (org.consecutive_failures, org.last_error, org.next_export, org.up) == (3, "max retries", None, True)
    # hauser exits 1; autorestart=true starts it again.
    event(org, "EXITED", "RUNNING", hauser.now + 0.1, expected="0")
    assert (org.state, org.up, org.restarts) == ("down", False, 0)
    event(org, "STARTING", "EXITED", hauser.now + 1)
    assert (org.state, org.up, org.restarts) == ("starting", False, 1)
    event(org, "RUNNING", "STARTING", hauser.now + 2)
    assert (org.state, org.up, org.restarts) == ("starting", True, 1)
    # The new process starts from the same sync point: the failures go on counting.
    hauser.say("Creating export for %s to %s" % window, after=1)
    hauser.failure(STATUS_401, "30s")
    hauser.feed(org)
    assert (org.consecutive_failures, org.retrying_since, org.last_export_end) == (4, first_failure, last_end)
    assert (org.state, org.last_error) == ("retrying", "HTTP 401")


def test_a_deploy_is_no_restart_and_a_start_after_backoff_is_one():
    org = OrgState(1000000000)
    for name, from_state in (("STARTING", "STOPPED"), ("RUNNING", "STARTING"), ("STOPPING", "RUNNING")):
        event(org, name, from_state, 1000000001)
    assert (org.up, org.state) == (False, "starting")
    for name, from_state in (("STOPPED", "STOPPING"), ("STARTING", "STOPPED"), ("RUNNING", "STARTING")):
        event(org, name, from_state, 1000000001)
    assert (org.restarts, org.up, org.state) == (0, True, "starting")
    # A start that exits at once: BACKOFF, STARTING again (counted), then supervisord gives up.
    for name, from_state in (("EXITED", "RUNNING"), ("STARTING", "EXITED"), ("BACKOFF", "STARTING"),
                             ("STARTING", "BACKOFF"), ("BACKOFF", "STARTING"), ("FATAL", "BACKOFF")):
        event(org, name, from_state, 1000000002)
    assert (org.restarts, org.up, org.state) == (2, False, "down")
    assert org.updated == 1000000002


def test_lines_read_after_the_process_ended_keep_it_down():
    """The listener may see EXITED before it reads the process's last lines."""
    org, hauser = caught_up()
    event(org, "EXITED", "RUNNING", hauser.now + 5)
    hauser.say("failed to process exports: " + STATUS_401)
    hauser.say("Reached max retries; exiting", after=0)
    hauser.feed(org, received=hauser.now + 6)
    assert (org.state, org.consecutive_failures, org.last_error) == ("down", 1, "max retries")
    assert org.retrying_since == hauser.now
    assert org.updated == hauser.now + 3  # the event's time: a late line does not take it back
    event(org, "STARTING", "EXITED", hauser.now + 6)
    assert (org.state, org.restarts) == ("starting", 1)


def test_a_restart_that_creates_the_same_window_again_does_not_finish_it():
    org, hauser = caught_up()
    event(org, "RUNNING", "STARTING", hauser.now)
    last_end = org.last_export_end
    window = (go_utc(last_end), go_utc(last_end + 6 * HOUR))
    hauser.say("Creating export for %s to %s" % window)
    hauser.say("Export progress: 40%", after=5)
    hauser.feed(org)
    # A deploy restarts it in the middle (SIGTERM: no line); hauser does the window again.
    for name, from_state in (("STOPPING", "RUNNING"), ("STOPPED", "STOPPING"), ("STARTING", "STOPPED"),
                             ("RUNNING", "STARTING")):
        event(org, name, from_state, hauser.now + 1)
    hauser.window(*window)
    hauser.feed(org)
    assert (org.last_export_end, org.window_end, org.state) == (last_end, last_end + 6 * HOUR, "exporting")
    assert org.restarts == 0
    hauser.say("Waiting until 2025-10-29 13:00:00 +0100 CET m=+3600.000000001 to start next export")
    hauser.feed(org)
    assert org.last_export_end == last_end + 6 * HOUR


@pytest.mark.parametrize("start, end", [
    (START_TIME, W0),  # a sync point read again gives the same window
    ("2025-10-28 05:20:01.9 +0000 UTC", W0),  # without one, each start of hauser takes a new default StartTime
    (START_TIME, W0 - 3 * HOUR),  # a deploy changed ExportDuration to 1h
])
def test_a_restart_seen_only_in_the_lines_does_not_finish_the_window(start, end):
    """The listener may read a process's lines after the events of its restart, or miss the
    events (while it was itself restarted)."""
    hauser = Hauser(CAUGHT_UP)
    org = OrgState(CAUGHT_UP)
    hauser.say("Creating export for %s to %s" % (START_TIME, go_utc(W0)))
    hauser.say("Export progress: 40%", after=5)
    hauser.say("Creating export for %s to %s" % (start, go_utc(end)), after=150)
    hauser.feed(org)
    # Where the export stands: the later of the two starts (a default StartTime moves).
    assert (org.window_end, org.state) == (end, "exporting")
    assert org.last_export_end == pytest.approx(max(parse_go_time(START_TIME, CAUGHT_UP), parse_go_time(start, CAUGHT_UP)))
    hauser.say("Creating export for %s to %s" % (go_utc(end), go_utc(end + 6 * HOUR)))
    hauser.feed(org)
    assert (org.last_export_end, org.window_start) == (end, end)


def test_a_start_whose_exit_event_was_lost():
    """supervisord drops events when a listener's buffer is full: a STARTING alone says that
    the process before it has ended."""
    org, hauser = caught_up()
    event(org, "RUNNING", "STARTING", hauser.now)
    hauser.say("Creating export for %s to %s" % (go_utc(org.last_export_end), go_utc(org.last_export_end + 6 * HOUR)))
    hauser.feed(org)
    event(org, "STARTING", "EXITED", hauser.now + 1)
    assert (org.up, org.state, org.window_end, org.restarts) == (False, "starting", None, 1)


def test_a_restart_read_late_does_not_finish_the_window():
    org, hauser = caught_up()
    last_end = org.last_export_end
    window = (go_utc(last_end), go_utc(last_end + 6 * HOUR))
    hauser.say("Creating export for %s to %s" % window)
    hauser.say("Export progress: 40%", after=5)
    for name, from_state in (("STOPPING", "RUNNING"), ("STOPPED", "STOPPING"), ("STARTING", "STOPPED")):
        event(org, name, from_state, hauser.now + 1)
    hauser.say("Creating export for %s to %s" % window, after=2)
    hauser.feed(org)
    assert (org.last_export_end, org.window_end, org.state) == (last_end, last_end + 6 * HOUR, "exporting")


def test_what_a_failure_is_called():
    assert classify_error(STATUS_401) == "HTTP 401"
    assert classify_error("fullstory: response error: Status:429 Too Many Requests, StatusCode:429, "
                          "RetryAfter:10s") == "HTTP 429"
    assert classify_error('Post "https://api.fullstory.com/segments/v1/exports": dial tcp: lookup '
                          'api.fullstory.com: i/o timeout') == "timeout"
    assert classify_error('Get "https://x.example/download?sig=abc": context deadline exceeded') == "timeout"
    assert classify_error('Get "https://x.example/download?sig=abc": net/http: request canceled '
                          '(Client.Timeout exceeded while awaiting headers)') == "timeout"
    assert classify_error("failed to complete export: export failed") == "export failed"
    assert classify_error("operation id does not correspond to an export") == "error"
    assert classify_error("unexpected EOF") == "error"
    assert classify_error("StatusCode:4011") == "error"


def test_load_and_sync_point_failures_name_their_cause():
    org, hauser = caught_up()
    last_end = org.last_export_end
    window = (go_utc(last_end), go_utc(last_end + 6 * HOUR))
    hauser.window(*window)
    error = "googleapi: Error 403: Access Denied: Table p:d.fs_export_o_1, forbidden"
    hauser.say("Failed to load file '/var/lib/multi-hauser/o-1/tmp/o-1/%d.csv' to warehouse: %s" % (last_end, error))
    hauser.failure(error, "30s")
    hauser.feed(org)
    assert (org.last_error, org.consecutive_failures) == ("load failed", 1)
    hauser.window(*window)
    hauser.say("Failed to save sync point for %s: %s" % (window[1], error))
    hauser.failure(error, "1m0s")
    hauser.feed(org)
    assert (org.last_error, org.consecutive_failures) == ("sync point failed", 2)
    # The cause is that of its cycle only: the next cycle fails otherwise.
    hauser.say("Creating export for %s to %s" % window)
    hauser.failure("unexpected EOF", "2m0s")
    hauser.feed(org)
    assert (org.last_error, org.consecutive_failures) == ("error", 3)
    assert org.last_export_end == last_end


def test_no_text_of_an_error_is_kept():
    org, hauser = caught_up()
    hauser.say("Creating export for %s to %s" % (go_utc(org.last_export_end), go_utc(org.last_export_end + 6 * HOUR)))
    hauser.failure('Get "https://user:s3cr3t-token@storage.example/x?X-Amz-Signature=deadbeef": EOF', "30s")
    hauser.feed(org)
    text = States({"o-1": org}).to_json()
    assert org.last_error == "error"
    for secret in ("s3cr3t", "deadbeef", "storage.example"):
        assert secret not in text


def test_other_lines_change_nothing():
    org, hauser = caught_up()
    before = org.to_dict()
    for line in ('2025/11/27 06:00:00 INFO: "StartTime" not set in config. Defaulting to 30 days in the past',
                 "2025/11/27 06:00:00 hauser stand-in 1.5.1 running: config=config.toml dir=/x provider=local",
                 "2025/11/27 06:00:00 failed json decode of record: unexpected EOF",
                 "panic: runtime error: invalid memory address or nil pointer dereference",
                 "", "\n", "2025/11/27 06:00:00 Creating export for yesterday to today",
                 "2025/11/27 06:00:00 Export progress: lots",
                 "2025/11/27 06:00:00  Creating export for %s to %s" % (go_utc(W0), go_utc(W0 + 6 * HOUR)),
                 "2025/11/27 06:00:00 Pausing; will retry operation in soon",
                 "2025/11/27 06:00:00 Reached max retries; exiting now",
                 "2025/11/27 6:00:00 failed to process exports: EOF"):
        assert org.apply_line(line, CAUGHT_UP + 100) is False, line
    assert org.to_dict() == before


def test_a_line_without_a_log_prefix_happens_when_it_was_read():
    org = OrgState(CAUGHT_UP)
    assert org.apply_line("failed to process exports: " + STATUS_401, CAUGHT_UP + 7) is True
    assert org.retrying_since == CAUGHT_UP + 7


@pytest.mark.parametrize("prefix", [
    "1999/12/31 23:59:59 ",  # before 2000
    "2027/11/29 06:00:00 ",  # more than a year ahead of when it was read
    "2025/02/30 06:00:00 ",  # no such day
    "2025/11/29 24:00:00 ",
])
def test_a_log_prefix_out_of_range_is_not_believed(prefix):
    org = OrgState(CAUGHT_UP)
    org.apply_line(prefix + "failed to process exports: " + STATUS_401, CAUGHT_UP + 7)
    assert org.retrying_since == CAUGHT_UP + 7


def test_the_log_prefix_is_local_time(local_zone):
    local_zone("Europe/Berlin")
    assert parse_log_time("2025/11/29 07:00:05 Export progress: 1%", CAUGHT_UP) == (
        utc("2025-11-29 06:00:05"), "Export progress: 1%")
    # Summer time.
    assert parse_log_time("2025/07/01 08:00:00 x", CAUGHT_UP)[0] == utc("2025-07-01 06:00:00")
    local_zone("America/St_Johns")
    assert parse_log_time("2025/11/29 02:30:05 x", CAUGHT_UP)[0] == utc("2025-11-29 06:00:05")


@pytest.mark.parametrize("text, expected", [
    ("2025-11-29 06:00:00 +0000 UTC", utc("2025-11-29 06:00:00")),
    ("2025-11-29 07:00:00 +0100 CET", utc("2025-11-29 06:00:00")),
    ("2025-11-29 08:00:00 +0200 +0200", utc("2025-11-29 06:00:00")),  # a fixed zone without a name
    ("2025-11-29 02:30:00 -0330 NST", utc("2025-11-29 06:00:00")),
    ("2025-11-29 07:00:00.5 +0100 CET m=+3600.000000001", utc("2025-11-29 06:00:00") + 0.5),
    ("2025-11-29 06:00:00.000000001 +0000 UTC m=-2591999.999999999", utc("2025-11-29 06:00:00") + 1e-9),
    ("0001-01-01 00:00:00 +0000 UTC", None),  # Go's zero time
    ("1970-01-01 00:00:00 +0000 UTC", None),
    ("2025-02-29 06:00:00 +0000 UTC", None),
    ("2025-11-29 06:00:00 +0060 X", None),
    ("2025-11-29 06:00:00 UTC", None),
])
def test_go_times(text, expected):
    result = parse_go_time(text, CAUGHT_UP)
    assert result == (expected if expected is None else pytest.approx(expected, abs=1e-6))


def test_a_window_with_times_out_of_range_is_ignored():
    org = OrgState(CAUGHT_UP)
    assert org.apply_line("Creating export for 0001-01-01 00:00:00 +0000 UTC to 2025-11-29 06:00:00 +0000 UTC",
                          CAUGHT_UP) is False
    assert org.apply_line("Creating export for 2025-11-29 00:00:00 +0000 UTC to 2031-11-29 06:00:00 +0000 UTC",
                          CAUGHT_UP) is False
    assert org.window_end is None


def test_an_absurd_pause_plans_nothing():
    org = OrgState(CAUGHT_UP)
    org.apply_line("failed to process exports: EOF", CAUGHT_UP)
    org.apply_line("Pausing; will retry operation in 2562047h47m16.854775807s", CAUGHT_UP)
    assert org.next_export is None
    org.apply_line("Pausing; will retry operation in 0s", CAUGHT_UP)
    assert org.next_export == CAUGHT_UP
    # Backoff x 2^step overflows Go's int64 into a negative duration: hauser does not sleep.
    org.apply_line("Pausing; will retry operation in -2562047h47m16.854775808s", CAUGHT_UP + 1)
    assert org.next_export == CAUGHT_UP + 1


def test_only_the_start_of_a_long_line_is_read():
    org = OrgState(CAUGHT_UP)
    org.apply_line("failed to process exports: " + "x" * (1 << 20) + " StatusCode:401", CAUGHT_UP)
    assert (org.consecutive_failures, org.last_error) == (1, "error")
    window = "Creating export for %s to %s" % (go_utc(W0), go_utc(W0 + 6 * HOUR))
    assert org.apply_line(window + " " * (1 << 17), CAUGHT_UP) is False


@pytest.mark.parametrize("line", [
    "Creating export for " + "2025-11-29 00:00:00 +0000 " * 20000 + "UTC to x",
    "Creating export for " + "2025-11-29 00:00:00.1" * 20000,
    "Waiting until " + "2025-11-29 00:00:00 +0000 UTC m=+1" * 20000,
    "Pausing; will retry operation in " + "1h" * 40000 + " ",
    "failed to process exports: " + "StatusCode:" * 10000 + "timeou" * 10000,
    "2025/11/29 00:00:00 " * 20000,
])
def test_hostile_lines_take_linear_time(line):
    org = OrgState(CAUGHT_UP)
    started = time.monotonic()
    for _round in range(10):
        org.apply_line(line, CAUGHT_UP)
    assert time.monotonic() - started < 1.0


# --- process events through States -----------------------------------------------------------


def test_process_events_reach_the_org_of_the_program():
    states = States()
    assert states.apply_process_event("PROCESS_STATE_RUNNING", {"processname": "hauser-o-1", "from_state": "STARTING"},
                                      CAUGHT_UP) == "o-1"
    assert states.orgs["o-1"].up is True
    assert states.orgs["o-1"].first_seen == CAUGHT_UP
    for name in ("multi-hauser-monitor", "hauser-", "hauser"):
        assert states.apply_process_event("PROCESS_STATE_RUNNING", {"processname": name}, CAUGHT_UP) is None
    assert sorted(states.orgs) == ["o-1"]
    assert states.apply_process_event("PROCESS_STATE_UNKNOWN", {"processname": "hauser-o-1"}, CAUGHT_UP + 1) == "o-1"
    assert states.orgs["o-1"].updated == CAUGHT_UP


def test_retain_drops_the_orgs_no_longer_deployed():
    states = States()
    for org_id in ("o-1", "o-2", "o-3"):
        states.org(org_id, CAUGHT_UP)
    states.retain(["o-3", "o-1", "o-9"])
    assert sorted(states.orgs) == ["o-1", "o-3"]


# --- the state file --------------------------------------------------------------------------


def _busy_states():
    org, hauser = caught_up()
    event(org, "STARTING", "EXITED", hauser.now)
    event(org, "RUNNING", "STARTING", hauser.now)
    hauser.say("Creating export for %s to %s" % (go_utc(org.last_export_end), go_utc(org.last_export_end + 6 * HOUR)))
    hauser.failure(STATUS_401, "30s")
    hauser.feed(org)
    return States({"o-1": org, "o-2": OrgState(CAUGHT_UP)}, {"/var/log/multi-hauser/o-1.log": {
        "inode": 1234, "offset": 5678, "skip": False}})


def test_the_state_survives_json():
    states = _busy_states()
    again = States.from_json(states.to_json(), now=CAUGHT_UP + 999)
    assert dict((org_id, org.to_dict()) for org_id, org in again.orgs.items()) == \
        dict((org_id, org.to_dict()) for org_id, org in states.orgs.items())
    assert again.logs == states.logs
    assert again.orgs["o-1"].to_dict()["last_error"] == "HTTP 401"
    assert sorted(json.loads(states.to_json())["orgs"]["o-1"]) == sorted(FIELDS)


@pytest.mark.parametrize("text", [
    "", "{", "not json", "null", "[]", '"x"', "1e999", "{}",
    '{"version": 2, "orgs": {"o-1": {}}}', '{"version": true, "orgs": {"o-1": {}}}',
    '{"version": "1", "orgs": {"o-1": {}}}', '{"orgs": {"o-1": {}}}',
    "[" * 100000 + "]" * 100000,
    '{"version": 1, "orgs": {"o-1": {}}, "pad": "%s"}' % ("x" * MAX_STATE_BYTES),
])
def test_a_state_file_that_is_not_ours_gives_fresh_states(text):
    states = States.from_json(text, now=CAUGHT_UP)
    assert (states.orgs, states.logs) == ({}, {})


def test_a_truncated_state_file_gives_fresh_states():
    text = _busy_states().to_json()
    for end in range(0, len(text), 7):
        states = States.from_json(text[:end], now=CAUGHT_UP)
        assert (states.orgs, states.logs) == ({}, {})


def test_a_bad_org_entry_starts_that_org_afresh_and_bad_fields_are_reset():
    good = _busy_states().orgs["o-1"].to_dict()
    bad = dict(good, state="dancing", restarts=True, consecutive_failures="3", up=1, last_error="Status:401 secret",
               next_export=float("nan"), retrying_since=-5, window_start="x", window_end=CAUGHT_UP, first_seen="yesterday",
               api_key="na1.secret", url="https://x")
    text = json.dumps({"version": 1, "orgs": {"o-1": good, "o-2": [1, 2], "o-3": bad, "o-4": None},
                       "logs": {"a.log": {"inode": 1, "offset": -1, "skip": False}, "b.log": [1, 2],
                                "c.log": {"inode": 3, "offset": 4, "skip": "no"},
                                "d.log": {"inode": 5, "offset": 6, "skip": True, "extra": 1}}})
    states = States.from_json(text, now=CAUGHT_UP + 999)
    assert states.orgs["o-1"].to_dict() == good
    for org_id in ("o-2", "o-4"):
        assert states.orgs[org_id].to_dict() == OrgState(CAUGHT_UP + 999).to_dict()
    reset = states.orgs["o-3"].to_dict()
    fresh = OrgState(CAUGHT_UP + 999).to_dict()
    for name in ("state", "restarts", "consecutive_failures", "up", "last_error", "next_export", "retrying_since",
                 "first_seen", "window_start", "window_end"):
        assert reset[name] == fresh[name], name
    for name in ("last_export_end", "updated"):
        assert reset[name] == good[name]
    assert "secret" not in states.to_json() and "https" not in states.to_json()
    assert states.logs == {"d.log": {"inode": 5, "offset": 6, "skip": True}}


@pytest.mark.parametrize("logs", [[1, 2], "o-1.log", None, 7])
def test_log_places_that_are_not_a_mapping_are_dropped(logs):
    text = json.dumps({"version": 1, "orgs": {"o-1": OrgState(CAUGHT_UP).to_dict()}, "logs": logs})
    states = States.from_json(text, now=CAUGHT_UP + 999)
    assert (sorted(states.orgs), states.logs) == (["o-1"], {})
    assert states.orgs["o-1"].first_seen == CAUGHT_UP


def test_save_and_load(tmp_path):
    path = str(tmp_path / "state.json")
    states = _busy_states()
    states.save_atomically(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    loaded = States.load(path, now=CAUGHT_UP + 5)
    assert loaded.orgs["o-1"].to_dict() == states.orgs["o-1"].to_dict()
    states.retain([])
    states.save_atomically(path)
    assert States.load(path).orgs == {}
    assert os.listdir(str(tmp_path)) == ["state.json"]


def test_a_link_at_the_state_path_is_replaced_and_never_read(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text(_busy_states().to_json())
    path = tmp_path / "state.json"
    path.symlink_to(target)
    assert States.load(str(path)).orgs == {}
    States().save_atomically(str(path))
    assert not path.is_symlink()
    assert "o-1" in target.read_text()
    assert States.load(str(path)).orgs == {}


@pytest.mark.parametrize("make", [
    lambda path: None,  # no file yet
    lambda path: path.mkdir(),
    lambda path: path.write_bytes(b'{"version": 1, "orgs": {"o-\xff": {}}}'),
    lambda path: path.write_bytes(b" " * (MAX_STATE_BYTES + 1) + b"{}"),
    lambda path: os.mkfifo(str(path)),
])
def test_a_state_path_without_a_state_file_gives_fresh_states(tmp_path, make):
    path = tmp_path / "state.json"
    make(path)
    states = States.load(str(path))
    assert (states.orgs, states.logs) == ({}, {})


# --- the log tailer --------------------------------------------------------------------------


def _append(path, text):
    with open(path, "ab") as log:
        log.write(text.encode("utf-8"))


def _seen(tmp_path, text="one\n", **options):
    """The path of a log file holding text, and a tailer that has read it."""
    path = str(tmp_path / "o-1.log")
    _append(path, text)
    tailer = LogTailer({}, **options)
    tailer.read_new(path)
    return path, tailer


def test_lines_come_once_and_a_partial_line_waits(tmp_path):
    path = str(tmp_path / "o-1.log")
    _append(path, "one\ntwo\nthr")
    tailer = LogTailer({})
    assert tailer.read_new(path) == ["one", "two"]
    assert tailer.read_new(path) == []
    _append(path, "ee\nfour\n")
    assert tailer.read_new(path) == ["three", "four"]
    assert tailer.positions[path]["offset"] == os.path.getsize(path)


def test_a_rotation_reads_the_rest_of_the_old_file_then_the_new(tmp_path):
    path, tailer = _seen(tmp_path)
    _append(path, "two\nthree, cut by the rota")
    os.rename(path, path + ".1")
    assert tailer.read_new(path) == []  # between the rename and the new file
    _append(path, "tion\nfour\n")
    assert tailer.read_new(path) == ["two", "three, cut by the rotation", "four"]
    _append(path, "five\n")
    assert tailer.read_new(path) == ["five"]


def test_two_rotations_between_reads_lose_the_older_file_only(tmp_path):
    path, tailer = _seen(tmp_path)
    _append(path, "lost\n")
    os.rename(path, path + ".2")
    _append(path, "also lost\n")
    os.rename(path, path + ".1")
    _append(path, "new\n")
    assert tailer.read_new(path) == ["new"]


def test_a_file_truncated_in_place_is_read_from_its_start(tmp_path):
    path, tailer = _seen(tmp_path, "one\ntwo\n")
    with open(path, "wb") as log:
        log.write(b"new\n")
    assert tailer.read_new(path) == ["new"]


def test_a_link_at_the_log_path_is_not_followed(tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text("root:secret-hash:19000:0:99999:7:::\n")
    path, tailer = _seen(tmp_path)
    os.rename(path, path + ".1")
    os.symlink(str(secret), path)
    assert tailer.read_new(path) == []
    assert tailer.positions[path]["offset"] == 4  # kept for when a real file is back
    fresh = LogTailer({})
    assert fresh.read_new(path) == [] and fresh.positions == {}
    # A link in place of the rotated file is not followed either.
    os.unlink(path)
    os.rename(path + ".1", str(tmp_path / "moved"))
    os.symlink(str(secret), path + ".1")
    _append(path, "two\n")
    assert tailer.read_new(path) == ["two"]


def test_a_fifo_at_the_log_path_does_not_block(tmp_path):
    path = str(tmp_path / "o-1.log")
    os.mkfifo(path)
    assert LogTailer({}).read_new(path) == []


def test_a_huge_log_is_read_from_its_tail_and_a_mebibyte_a_call(tmp_path):
    path = str(tmp_path / "o-1.log")
    line = "2025/11/29 06:00:00 Export progress: %07d%%\n"
    size = len(line % 0)
    _append(path, "".join(line % number for number in range(200000)))  # 9 MB
    tailer = LogTailer({})
    first = tailer.read_new(path)
    # The last 256 KiB, from the first whole line there on.
    assert first[-1] == (line % 199999).rstrip("\n")
    assert len(first) == FIRST_SIGHT_BYTES // size
    assert first[0] == (line % (200000 - len(first))).rstrip("\n")
    _append(path, "".join(line % number for number in range(200000, 300000)))  # 4.6 MB more
    batches = []
    while True:
        batch = tailer.read_new(path)
        if not batch:
            break
        assert len(batch) * size <= MAX_READ_BYTES
        batches.append(batch)
    assert len(batches) == -(-100000 * size // MAX_READ_BYTES)
    assert [item for batch in batches for item in batch] == [(line % n).rstrip("\n") for n in range(200000, 300000)]


def test_a_line_longer_than_a_call_reads_gives_its_start(tmp_path):
    path, tailer = _seen(tmp_path, max_bytes=1000)
    _append(path, "failed to process exports: " + "x" * 2500 + "\ntwo\n")
    first = tailer.read_new(path)
    assert len(first) == 1 and first[0].startswith("failed to process exports: xxx") and len(first[0]) == 1000
    # Its rest is skipped, a call's budget at a time.
    assert tailer.read_new(path) == []
    assert tailer.read_new(path) == ["two"]


def test_the_rotated_file_is_read_within_the_budget_too(tmp_path):
    path, tailer = _seen(tmp_path, max_bytes=100)
    old = ["old %02d" % number for number in range(40)]  # 7 bytes each
    _append(path, "".join(item + "\n" for item in old))
    os.rename(path, path + ".1")
    _append(path, "new\n")
    lines = []
    for _round in range(5):
        lines.extend(tailer.read_new(path))
    assert lines == old + ["new"]


def test_the_tailer_goes_on_from_the_state_file(tmp_path):
    path = str(tmp_path / "o-1.log")
    _append(path, "one\n")
    states = States()
    assert LogTailer(states.logs).read_new(path) == ["one"]
    _append(path, "two\n")
    again = States.from_json(states.to_json())
    tailer = LogTailer(again.logs)
    assert tailer.read_new(path) == ["two"]
    tailer.retain([])
    assert again.logs == {}


def test_lines_through_the_tailer_into_the_state(tmp_path):
    """What the listener does on a VM: the tailer's lines, then apply_line."""
    org, hauser = caught_up()
    path = str(tmp_path / "o-1.log")
    hauser.say("Creating export for %s to %s" % (go_utc(org.last_export_end), go_utc(org.last_export_end + 6 * HOUR)))
    hauser.failure(STATUS_401, "30s")
    _append(path, "".join(line + "\n" for line in hauser.lines))
    for line in LogTailer({}).read_new(path):
        org.apply_line(line, hauser.now + 60)
    assert (org.consecutive_failures, org.retrying_since) == (1, hauser.now)


# --- the hauser stand-in against the fake FullStory API --------------------------------------

TOKEN = "Zq8vK2pL9wX3mT5r"


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    """The stand-in of hauser 1.5.1 (tests/hauser_standin), built as its release ships it."""
    build = _load(TESTS_DIR / "hauser_standin" / "build.py", "hauser_standin_build_for_exports")
    program = tmp_path_factory.mktemp("standin") / "hauser"
    program.write_bytes(build.zipapp("1.5.1"))
    return program


@pytest.fixture
def fake():
    serve = _load(TESTS_DIR / "fake_fullstory" / "serve.py", "fake_fullstory_for_exports")
    with serve.serving() as control:
        yield control


@contextlib.contextmanager
def running(standin, directory, settings):
    """The stand-in running in directory with a local-provider config; yields its process."""
    (directory / "save").mkdir()
    config = dict({"FsApiToken": TOKEN, "Provider": "local", "TmpDir": "tmp", "ExportDuration": "1h",
                   "ExportDelay": "1h", "Backoff": "100ms", "BackoffStepsMax": 2}, **settings)
    # Strings quoted, numbers and the StartTime (a TOML datetime) as they are.
    (directory / "config.toml").write_text("".join(
        "%s = %s\n" % (key, value if key == "StartTime" or not isinstance(value, str) else json.dumps(value))
        for key, value in config.items()) + '[local]\nSaveDir = "%s"\n' % (directory / "save"))
    env = dict(os.environ, TZ="Europe/Berlin")
    process = subprocess.Popen([sys.executable, str(standin), "-c", "config.toml"], cwd=str(directory), env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        process.stderr.close()


def _lines_until(process, ending, timeout=30):
    lines = []
    deadline = time.monotonic() + timeout
    for line in process.stderr:
        lines.append(line)
        if ending in line or time.monotonic() > deadline:
            break
    return lines


def _available_end():
    """The end of the last 1h window that a 1h ExportDelay lets hauser export now, away from
    the moment it moves."""
    if (time.time() - HOUR) % HOUR > HOUR - 20:
        time.sleep(HOUR - (time.time() - HOUR) % HOUR + 1)
    return int(time.time() - HOUR) // HOUR * HOUR


def test_the_standin_catching_up(standin, fake, tmp_path, local_zone):
    local_zone("Europe/Berlin")
    end = _available_end()
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(end - 3 * HOUR))
    with running(standin, tmp_path, {"ApiURL": fake.url, "StartTime": start}) as process:
        lines = _lines_until(process, "Waiting until")
    org = OrgState(time.time())
    for line in lines:
        org.apply_line(line, time.time())
    assert sum("Creating export" in line for line in lines) == 3, lines
    assert (org.state, org.last_export_end, org.consecutive_failures) == ("waiting", end, 0), lines
    # It waits until the next window's end plus ExportDelay.
    assert org.next_export == pytest.approx(end + 2 * HOUR, abs=2)


def test_the_standin_refused_by_the_api(standin, fake, tmp_path, local_zone):
    local_zone("Europe/Berlin")
    fake.set_key(TOKEN, status=401)
    end = _available_end()
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(end - HOUR))
    begun = time.time()
    with running(standin, tmp_path, {"ApiURL": fake.url, "StartTime": start}) as process:
        lines = _lines_until(process, "Reached max retries")
        assert process.wait(timeout=10) == 1
    org = OrgState(begun)
    for line in lines:
        org.apply_line(line, time.time())
    # Every create refused: the export stands at the StartTime it logs, and falls behind from there.
    assert (org.consecutive_failures, org.last_error, org.last_export_end) == (3, "max retries", end - HOUR), lines
    assert begun - 1 <= org.retrying_since <= time.time()
    assert TOKEN not in States({"o-1": org}).to_json()
