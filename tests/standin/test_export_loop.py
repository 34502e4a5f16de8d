"""The stand-in's export loop, hauser 1.5.1's (internal/service.go, client/*.go): the built stand-in,
run from its release archive against the fake FullStory API with the local provider, logs what
hauser logs in hauser's order and formats, writes what hauser writes, backs off as hauser does,
and sends nothing anywhere but loopback.

The expected lines are regular expressions made from hauser's Go format strings; expected times
are computed here independently of the stand-in's code."""

import csv
import datetime
import gzip
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import zipfile
import zoneinfo
from pathlib import Path

import pytest

from test_hauser_standin import (
    ENV_TOKEN, LOG_LINE, RUNNING, TOKEN, assert_no_token, changed, clean_env, render,
)

RUN_PATCHED = Path(__file__).resolve().parent / "run_patched.py"
HOUR, MINUTE = 3600, 60
# Go's time.Time String(): "2006-01-02 15:04:05.999999999 -0700 MST".
GO_TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,9})? [+-]\d{4} [^ ]+"
GO_TIME_UTC = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC"
# log.Printf format strings of internal/service.go, as patterns of whole lines.
CREATING = re.compile(LOG_LINE + r"Creating export for (?P<start>%s) to (?P<end>%s)$"
                      % (GO_TIME, GO_TIME_UTC))
PROGRESS = re.compile(LOG_LINE + r"Export progress: (?P<percent>-?\d+)%$")
FETCHING = re.compile(LOG_LINE + r"Fetching export for operation id (?P<operation>\S*)$")
WAITING = re.compile(LOG_LINE + r"Waiting until (?P<until>%s) m=\+(?P<mono>\d+\.\d{9}) to start "
                     r"next export$" % GO_TIME)
FAILED = re.compile(LOG_LINE + r"failed to process exports: (?P<error>.*)$")
PAUSING = re.compile(LOG_LINE + r"Pausing; will retry operation in (?P<duration>\S+)$")
MAX_RETRIES = re.compile(LOG_LINE + r"Reached max retries; exiting$")
KINDS = {"creating": CREATING, "progress": PROGRESS, "fetching": FETCHING, "waiting": WAITING,
         "failed": FAILED, "pausing": PAUSING, "max": MAX_RETRIES}
# warehouse.BaseExportFields, in order: the CSV header (the schema's DB names).
HEADER = (
    "IndvId UserId SessionId PageId UserCreated UserAppKey UserDisplayName UserEmail EventStart "
    "EventType EventSubType EventCustomName EventTargetText EventTargetSelector EventPageOffset "
    "EventSessionOffset EventModFrustrated EventModDead EventModError EventModSuspicious "
    "EventVarErrorKind EventVarFields EventWebSourceFileUrl EventFirstInputDelay "
    "EventCumulativeLayoutShift SessionStart PageName PageStart PageDuration PageActiveDuration "
    "PageUrl PageRefererUrl PageIp PageLatLong PageUserAgent PageBrowser PageBrowserVersion "
    "PageDevice PagePlatform PageOperatingSystem PageScreenWidth PageScreenHeight "
    "PageViewportWidth PageViewportHeight PageNumEvents PageNumDerivedEvents PageNumInfos "
    "PageNumWarnings PageNumErrors PageClusterId PageMaxScrollDepthPercent LoadDomContentTime "
    "LoadEventTime LoadFirstPaintTime LoadLargestPaintTime ReqUrl ReqMethod ReqStatus CustomVars"
).split()
MOBILE = ("AppName AppPackageName AppDeviceModel AppDeviceVendor AppVersion AppOsVersion "
          "AppViewName EventMobileSourceFile").split()
RFC3339_MICRO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")


# Times, computed here as hauser would.

def utc(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)


def go_utc(seconds):
    """Go's String() of a whole-second UTC time."""
    return utc(seconds).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def rfc3339(seconds):
    return utc(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


def go_time_seconds(text):
    """The Unix time of a Go time.Time String() (the zone's offset decides)."""
    date, clock, offset = text.split(" ")[:3]
    whole, _dot, fraction = clock.partition(".")
    moment = datetime.datetime.strptime(date + " " + whole + " " + offset, "%Y-%m-%d %H:%M:%S %z")
    return moment.timestamp() + (float("0." + fraction) if fraction else 0.0)


def available_end(duration, delay, margin=8):
    """The end of the last window hauser may export now: (now - delay) truncated to duration.
    Waits first when that moves within margin seconds, so that a test (which must end within
    them) sees the same windows throughout."""
    ahead = duration - (time.time() - delay) % duration
    if ahead < margin:
        time.sleep(ahead + 0.5)
    return int(time.time() - delay) // duration * duration


# Configs and runs.

def loop_config(save_dir, api_url, **changes):
    """A local-provider config against api_url: 1h windows, 1h delay, quick backoff."""
    config = {
        "FsApiToken": TOKEN, "Provider": "local", "ApiURL": api_url, "TmpDir": "tmp",
        "ExportDuration": "1h", "ExportDelay": "1h", "Backoff": "100ms", "BackoffStepsMax": 3,
        "local": {"SaveDir": str(save_dir)},
    }
    return changed(config, {key.replace("__", "."): value for key, value in changes.items()})


def start_time(seconds):
    return utc(seconds)


class Run:
    """A stand-in process whose stderr lines are collected as they come, with arrival times."""

    def __init__(self, command, cwd, env):
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.lines, self.arrivals = [], []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self.arrivals.append(time.monotonic())
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, pattern, timeout=10, count=1):
        """The count-th line matching pattern, once it came; fails with the log otherwise."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                matches = [m for m in map(pattern.match, self.lines) if m]
                if len(matches) >= count:
                    return matches[count - 1]
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._reader.is_alive():
                    pytest.fail("no %r within %ss; log:\n%s" % (pattern.pattern, timeout,
                                                                self.text()))
                self._changed.wait(min(remaining, 0.2))

    def wait_exit(self, timeout=10):
        status = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return status

    def text(self):
        return "\n".join(self.lines)

    def loop_lines(self):
        """The lines after the running line, as (kind, match) for the loop's lines."""
        lines = self.lines[next(i for i, line in enumerate(self.lines) if RUNNING.match(line)) + 1:]
        result = []
        for line in lines:
            for kind, pattern in KINDS.items():
                match = pattern.match(line)
                if match:
                    result.append((kind, match))
                    break
            else:
                result.append(("other", line))
        return result

    def kinds(self):
        return [line[0] for line in self.loop_lines()]

    def stop(self):
        """End it (SIGTERM) if it runs; return what it wrote to stdout."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=5)
        self._reader.join(timeout=5)
        stdout = self.process.stdout.read()
        self.process.stdout.close()
        self.process.stderr.close()
        return stdout


@pytest.fixture
def loop(hauser, org_dir):
    """Start the stand-in in org_dir with a config (dict); patches run it through run_patched.py
    with module constants changed (name -> value) and socket events audited to org_dir/audit."""
    runs = []

    def start(config, env=None, patches=None, audit=False, program=None):
        config_name = "config.toml" if not runs else "config-%d.toml" % len(runs)
        (org_dir / config_name).write_text(render(config))
        prefix = list(program or [])
        if patches or audit:
            prefix = [program[0] if program else sys.executable, str(RUN_PATCHED)]
            for name, value in (patches or {}).items():
                prefix += ["--set", "%s=%s" % (name, json.dumps(value))]
            if audit:
                prefix += ["--audit", str(org_dir / "audit")]
        run = Run(prefix + [str(hauser), "-c", config_name], org_dir, env or clean_env())
        runs.append(run)
        return run

    yield start
    for run in runs:
        stdout = "" if run.process.stdout.closed else run.stop()
        assert_no_token(run.text(), stdout)


def audit_events(org_dir):
    path = org_dir / "audit"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def tmp_files(org_dir):
    return os.listdir(org_dir / "tmp") if (org_dir / "tmp").exists() else []


def sync_point(save_dir):
    return (save_dir / ".sync.hauser").read_bytes()


@pytest.fixture
def save_dir(tmp_path):
    directory = tmp_path / "save"
    directory.mkdir()
    return directory


# One cycle, in hauser's order and formats.

def test_one_window_is_exported_then_it_waits(loop, fake, save_dir, org_dir):
    end = available_end(HOUR, HOUR)
    start = end - HOUR
    config = loop_config(save_dir, fake.url, StartTime=start_time(start),
                         AdditionalHttpHeader=[{"Key": "x-test-header", "Value": "hello"}])
    run = loop(config, env=clean_env(TZ="Europe/Berlin"))
    waiting = run.wait_for(WAITING)
    lines = run.loop_lines()
    assert [line[0] for line in lines] == ["creating", "progress", "fetching", "waiting"], run.text()
    creating, progress, fetching = (line[1] for line in lines[:3])
    # StartTime from the config is in UTC; the window's end too.
    assert creating.group("start", "end") == (go_utc(start), go_utc(end))
    assert progress["percent"] == "100"
    stats = fake.stats(TOKEN)
    assert fetching["operation"] == stats["windows"][0]["operation_id"]
    # time.Now().Add(wait) is local time (TZ), with Go's monotonic suffix.
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    until = datetime.datetime.fromtimestamp(end + HOUR + HOUR, berlin)
    assert waiting["until"].startswith(until.strftime("%Y-%m-%d %H:%M:%S"))
    assert waiting["until"].endswith(until.strftime(" %z %Z"))
    wait_seconds = end + 2 * HOUR - time.time()
    assert 0 <= float(waiting["mono"]) - wait_seconds < 30

    # What the local provider wrote: the CSV, and the window's end as the sync point.
    assert sync_point(save_dir) == rfc3339(end).encode()
    with open(save_dir / ("%d.csv" % start), newline="", encoding="utf-8") as csv_file:
        rows = list(csv.reader(csv_file))
    assert rows[0] == HEADER
    records = [dict(zip(HEADER, row)) for row in rows[1:]]
    assert len(records) == 3
    for record in records:
        assert RFC3339_MICRO.match(record["EventStart"]), record["EventStart"]
        assert rfc3339(start) <= record["EventStart"] < rfc3339(end)
        assert record["CustomVars"] == '{"evt_value_real":12.5,"user_plan_str":"pro"}'
        assert record["EventFirstInputDelay"] == ""  # not in the export: empty
    assert records[2]["EventTargetText"] == 'Buy "now", today'
    assert '"Buy ""now"", today"' in (save_dir / ("%d.csv" % start)).read_text()
    assert tmp_files(org_dir) == []  # the temporary CSV is removed

    # What the API saw: one export of that window, the headers, no Authorization on the download.
    assert stats["exports_created"] == 1
    assert [(w["start"], w["end"]) for w in stats["windows"]] == [(rfc3339(start), rfc3339(end))]
    assert stats["requests_by_endpoint"] == {"create": 1, "operation": 1, "results": 1,
                                             "download": 1}
    assert stats["requests_by_status"] == {"200": 4}
    assert stats["downloads_with_authorization"] == 0
    body = stats["last_create_body"]
    assert body["segmentId"] == "everyone" and body["segmentTimeRange"] == {"start": "", "end": ""}
    assert (body["type"], body["format"]) == ("TYPE_EVENT", "FORMAT_JSON")
    assert body["fields"] == HEADER[:-1] + ["user_*", "evt_*", "page_*"]


def test_api_requests_carry_go_s_headers(loop, fake, save_dir):
    end = available_end(HOUR, HOUR)
    config = loop_config(save_dir, fake.url, StartTime=start_time(end - HOUR),
                         AdditionalHttpHeader=[{"Key": "x-test-header", "Value": "hello"}])
    run = loop(config)
    run.wait_for(WAITING)
    key = fake.key(TOKEN)
    headers = {name.lower(): value for name, value in key["stats"]["last_headers"].items()}
    # The last request is the download: a plain GET, no Authorization, no additional header.
    assert headers["user-agent"] == "Go-http-client/1.1"
    assert headers["accept-encoding"] == "gzip"
    assert "x-test-header" not in headers


def test_additional_headers_go_with_each_api_request(loop, fake, save_dir):
    end = available_end(HOUR, HOUR)
    config = loop_config(save_dir, fake.url, StartTime=start_time(end - HOUR),
                         AdditionalHttpHeader=[{"Key": "x-test-header", "Value": "hello"}])
    fake.set_key(TOKEN, endpoints=["results"], status=500)  # so that no download comes last
    run = loop(config)
    assert run.wait_exit() == 1
    headers = fake.stats(TOKEN)["last_headers"]
    assert headers["X-Test-Header"] == "hello"  # canonicalized as Go's Header.Set does


def test_catching_up_exports_window_after_window_then_waits(loop, fake, save_dir):
    end = available_end(HOUR, HOUR)
    start = end - 3 * HOUR
    run = loop(loop_config(save_dir, fake.url, StartTime=start_time(start)))
    run.wait_for(WAITING)
    assert run.kinds() == ["creating", "progress", "fetching"] * 3 + ["waiting"], run.text()
    windows = [match.group("start", "end") for kind, match in run.loop_lines() if kind == "creating"]
    assert windows == [(go_utc(start + i * HOUR), go_utc(start + (i + 1) * HOUR)) for i in range(3)]
    assert sorted(path.name for path in save_dir.iterdir()) == sorted(
        [".sync.hauser"] + ["%d.csv" % (start + i * HOUR) for i in range(3)])
    assert sync_point(save_dir) == rfc3339(end).encode()
    assert fake.stats(TOKEN)["exports_created"] == 3


def test_a_start_time_between_windows_ends_its_first_window_on_the_grid(loop, fake, save_dir):
    end = available_end(HOUR, HOUR)
    start = end - HOUR - 25 * MINUTE
    run = loop(loop_config(save_dir, fake.url, StartTime=start_time(start)))
    run.wait_for(WAITING)
    windows = [match.group("start", "end") for kind, match in run.loop_lines() if kind == "creating"]
    assert windows == [(go_utc(start), go_utc(end - HOUR)), (go_utc(end - HOUR), go_utc(end))]


def test_default_start_time_is_30_days_ago_with_nanoseconds(loop, fake, save_dir):
    fake.set_key(TOKEN, status=500)
    before = time.time()
    run = loop(loop_config(save_dir, fake.url, BackoffStepsMax=0))
    creating = run.wait_for(CREATING)
    start = go_time_seconds(creating["start"])
    assert creating["start"].endswith(" +0000 UTC")
    assert before - 30 * 24 * HOUR - 1 <= start <= time.time() - 30 * 24 * HOUR
    assert go_time_seconds(creating["end"]) == (int(start) // HOUR + 1) * HOUR
    assert run.wait_exit() == 1


# The sync point across restarts.

def test_a_restart_resumes_from_the_sync_point(loop, fake, save_dir):
    end = available_end(HOUR, HOUR)
    (save_dir / ".sync.hauser").write_text(rfc3339(end - 2 * HOUR))
    config = loop_config(save_dir, fake.url, StartTime=start_time(end - 30 * HOUR))
    first = loop(config)
    first.wait_for(WAITING)
    windows = [match["start"] for kind, match in first.loop_lines() if kind == "creating"]
    assert windows == [go_utc(end - 2 * HOUR), go_utc(end - HOUR)]  # the file's Z: UTC
    first.stop()
    assert first.process.returncode == -signal.SIGTERM
    second = loop(config)
    second.wait_for(WAITING)
    assert second.kinds() == ["waiting"]
    assert fake.stats(TOKEN)["exports_created"] == 2


@pytest.mark.parametrize("zone, offset, shown", [
    ("UTC", "+02:00", "+0200 +0200"),  # not Local's offset: a zone without a name
    ("UTC", "+00:00", "+0000 UTC"),  # Local's offset: Local
    ("Europe/Berlin", "local", "local"),  # Berlin's own offset then: Berlin's abbreviation
])
def test_a_sync_point_prints_in_the_zone_time_parse_gives_it(loop, fake, save_dir, zone, offset,
                                                             shown):
    end = available_end(HOUR, HOUR)
    synced = end - HOUR
    if offset == "local":
        local = datetime.datetime.fromtimestamp(synced, zoneinfo.ZoneInfo(zone))
        offset = local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]
        shown = local.strftime("%z %Z")
    sign = 1 if offset[0] == "+" else -1
    seconds = sign * (int(offset[1:3]) * HOUR + int(offset[4:6]) * MINUTE)
    written = utc(synced + seconds).strftime("%Y-%m-%dT%H:%M:%S") + offset
    (save_dir / ".sync.hauser").write_text(written)
    run = loop(loop_config(save_dir, fake.url), env=clean_env(TZ=zone))
    creating = run.wait_for(CREATING)
    assert creating["start"] == utc(synced + seconds).strftime("%Y-%m-%d %H:%M:%S ") + shown
    assert creating["end"] == go_utc(end)
    run.wait_for(WAITING)
    assert sync_point(save_dir) == rfc3339(end).encode()  # written back in UTC


@pytest.mark.parametrize("content, error", [
    ("garbage", 'parsing time "garbage" as "2006-01-02T15:04:05Z07:00": cannot parse "garbage" '
                'as "2006"'),
    ("2026-01-01T00:00:00Z\n", 'parsing time "2026-01-01T00:00:00Z\\x0a": extra text: "\\x0a"'),
    ("2026-13-01T00:00:00Z", 'parsing time "2026-13-01T00:00:00Z": month out of range'),
    ("", 'parsing time "" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "2006"'),
])
def test_a_bad_sync_file_fails_each_cycle_with_time_parse_s_error(loop, fake, save_dir, content,
                                                                  error):
    (save_dir / ".sync.hauser").write_text(content)
    run = loop(loop_config(save_dir, fake.url, BackoffStepsMax=0))
    assert run.wait_exit() == 1
    assert run.kinds() == ["failed", "max"]
    assert run.loop_lines()[0][1]["error"] == error


def test_a_sync_file_that_is_a_directory_fails_to_read(loop, fake, save_dir):
    (save_dir / ".sync.hauser").mkdir()
    run = loop(loop_config(save_dir, fake.url, BackoffStepsMax=0))
    assert run.wait_exit() == 1
    assert run.loop_lines()[0][1]["error"] == "failed to read sync file: read %s: is a directory" % (
        save_dir / ".sync.hauser")


def test_a_file_prefix_writes_under_it_but_never_finds_its_sync_point(loop, fake, save_dir):
    """LocalDisk.ReadFile reads SaveDir/.sync.hauser whatever it is asked for, while the sync
    point goes to SaveDir/<FilePrefix>.sync.hauser: hauser exports its first window again and
    again, and so does the stand-in."""
    end = available_end(HOUR, HOUR)
    start = end - 2 * HOUR
    run = loop(loop_config(save_dir, fake.url, StartTime=start_time(start), FilePrefix="org/"))
    run.wait_for(FETCHING, count=3)
    run.stop()
    windows = [match.group("start", "end") for kind, match in run.loop_lines() if kind == "creating"]
    assert set(windows[:3]) == {(go_utc(start), go_utc(start + HOUR))}
    assert sorted(os.listdir(save_dir)) == ["org"]
    assert sorted(os.listdir(save_dir / "org")) == [".sync.hauser", "%d.csv" % start]
    assert sync_point(save_dir / "org") == rfc3339(start + HOUR).encode()


def test_save_as_json_saves_the_download_as_it_is(loop, fake, save_dir, org_dir):
    end = available_end(HOUR, HOUR)
    start = end - HOUR
    run = loop(loop_config(save_dir, fake.url, StartTime=start_time(start), SaveAsJson=True))
    run.wait_for(WAITING)
    assert sorted(os.listdir(save_dir)) == [".sync.hauser", "%d.json" % start]
    records = json.loads((save_dir / ("%d.json" % start)).read_text())
    assert len(records) == 3 and records[0]["user_plan_str"] == "pro"
    assert tmp_files(org_dir) == []


def test_mobile_app_fields_add_their_columns(loop, fake, save_dir):
    end = available_end(HOUR, HOUR)
    start = end - HOUR
    run = loop(loop_config(save_dir, fake.url, StartTime=start_time(start),
                           IncludeMobileAppsFields=True))
    run.wait_for(WAITING)
    header = (save_dir / ("%d.csv" % start)).read_text().splitlines()[0].split(",")
    assert header == HEADER + MOBILE
    assert fake.stats(TOKEN)["last_create_body"]["fields"] == \
        HEADER[:-1] + ["user_*", "evt_*", "page_*"] + MOBILE


# Failures and the backoff.

def test_401_backs_off_doubling_then_exits_1(loop, fake, save_dir):
    fake.set_key(TOKEN, status=401)
    run = loop(loop_config(save_dir, fake.url))
    assert run.wait_exit() == 1
    assert run.kinds() == ["creating", "failed", "pausing"] * 3 + ["creating", "failed", "max"]
    errors = {match["error"] for kind, match in run.loop_lines() if kind == "failed"}
    assert errors == {"fullstory: response error: Status:401 Unauthorized, StatusCode:401, "
                      "RetryAfter:0s"}
    pauses = [match["duration"] for kind, match in run.loop_lines() if kind == "pausing"]
    assert pauses == ["100ms", "200ms", "400ms"]
    assert fake.stats(TOKEN)["requests_by_status"] == {"401": 4}
    assert not (save_dir / ".sync.hauser").exists()


def test_429_s_retry_after_shows_in_the_error(loop, fake, save_dir):
    fake.set_key(TOKEN, status=429, retry_after=7)
    run = loop(loop_config(save_dir, fake.url, BackoffStepsMax=0))
    assert run.wait_exit() == 1
    assert run.loop_lines()[1][1]["error"] == (
        "fullstory: response error: Status:429 Too Many Requests, StatusCode:429, RetryAfter:7s")
    assert run.kinds() == ["creating", "failed", "max"]


def test_500_then_recovery_resets_the_backoff(loop, fake, save_dir):
    end = available_end(HOUR, HOUR)
    # Request by request: two 500s, the first window's four requests, a 500 for the second.
    fake.set_key(TOKEN, [{"status": 500}, {"status": 500}, {}, {}, {}, {}, {"status": 500}])
    run = loop(loop_config(save_dir, fake.url, StartTime=start_time(end - 2 * HOUR)))
    run.wait_for(WAITING)
    assert run.kinds() == [
        "creating", "failed", "pausing", "creating", "failed", "pausing",
        "creating", "progress", "fetching",
        "creating", "failed", "pausing", "creating", "progress", "fetching", "waiting"], run.text()
    pauses = [match["duration"] for kind, match in run.loop_lines() if kind == "pausing"]
    assert pauses == ["100ms", "200ms", "100ms"]
    errors = {match["error"] for kind, match in run.loop_lines() if kind == "failed"}
    assert errors == {"fullstory: response error: Status:500 Internal Server Error, "
                      "StatusCode:500, RetryAfter:0s"}
    assert sync_point(save_dir) == rfc3339(end).encode()


@pytest.mark.parametrize("endpoint", ["operation", "results", "download"])
def test_a_failure_later_in_the_cycle_fails_it_whole(loop, fake, save_dir, endpoint):
    end = available_end(HOUR, HOUR)
    fake.set_key(TOKEN, status=503, endpoints=[endpoint])
    run = loop(loop_config(save_dir, fake.url, StartTime=start_time(end - HOUR), BackoffStepsMax=0))
    assert run.wait_exit() == 1
    expected = {"operation": ["creating", "failed", "max"],
                "results": ["creating", "progress", "fetching", "failed", "max"],
                "download": ["creating", "progress", "fetching", "failed", "max"]}[endpoint]
    assert run.kinds() == expected
    assert run.loop_lines()[-2][1]["error"] == (
        "fullstory: response error: Status:503 Service Unavailable, StatusCode:503, "
        "RetryAfter:0s")
    assert os.listdir(save_dir) == []


def test_a_failed_operation_is_hauser_s_export_error(loop, fake, save_dir):
    fake.set_key(TOKEN, operation="FAILED", error_details="export quota exceeded")
    run = loop(loop_config(save_dir, fake.url, BackoffStepsMax=0))
    assert run.wait_exit() == 1
    assert run.kinds() == ["creating", "failed", "max"]
    assert run.loop_lines()[1][1]["error"] == "failed to complete export: export quota exceeded"


@pytest.mark.parametrize("corrupt, lines, error", [
    ("json", ["Failed json decode of array open token: invalid character '<' looking for "
              "beginning of value"], "invalid character '<' looking for beginning of value"),
    ("gzip", [], "gzip: invalid header"),
    ("empty", [], "EOF"),
    ("truncated", ["failed json decode of record: unexpected EOF"], "unexpected EOF"),
])
def test_a_bad_download_fails_the_cycle_as_go_s_readers_fail(loop, fake, save_dir, org_dir,
                                                             corrupt, lines, error):
    end = available_end(HOUR, HOUR)
    fake.set_key(TOKEN, corrupt=corrupt, records=20)
    run = loop(loop_config(save_dir, fake.url, StartTime=start_time(end - HOUR), BackoffStepsMax=0))
    assert run.wait_exit() == 1
    assert run.kinds() == ["creating", "progress", "fetching"] + ["other"] * len(lines) + [
        "failed", "max"]
    others = [line for kind, line in run.loop_lines() if kind == "other"]
    assert [line.split(" ", 2)[2] for line in others] == lines
    assert run.loop_lines()[-2][1]["error"] == error
    assert os.listdir(save_dir) == [] and tmp_files(org_dir) == []


def test_a_refused_connection_is_go_s_dial_error(loop, save_dir):
    run = loop(loop_config(save_dir, "http://127.0.0.1:9", BackoffStepsMax=0))
    assert run.wait_exit() == 1
    assert run.loop_lines()[1][1]["error"] == (
        'Post "http://127.0.0.1:9/segments/v1/exports": dial tcp 127.0.0.1:9: connect: '
        "connection refused")


@pytest.mark.parametrize("api_url, error", [
    ("api.fullstory.com", 'Post "api.fullstory.com/segments/v1/exports": unsupported protocol '
                          'scheme ""'),
    ("127.0.0.1:8080", 'parse "127.0.0.1:8080/segments/v1/exports": first path segment in URL '
                       "cannot contain colon"),
    ("http://[::1", 'parse "http://[::1/segments/v1/exports": missing \']\' in host'),
])
def test_a_malformed_api_url_fails_as_net_url_does(loop, save_dir, api_url, error):
    run = loop(loop_config(save_dir, api_url, BackoffStepsMax=0))
    assert run.wait_exit() == 1
    assert run.loop_lines()[1][1]["error"] == error


# Timing: a slow API, the 5 s polls, signals, the CPU.

def test_a_slow_api_is_waited_for(loop, fake, save_dir):
    end = available_end(HOUR, HOUR)
    fake.set_key(TOKEN, delay_seconds=1.5, endpoints=["create"])
    run = loop(loop_config(save_dir, fake.url, StartTime=start_time(end - HOUR)))
    run.wait_for(WAITING)
    assert run.kinds() == ["creating", "progress", "fetching", "waiting"]
    creating = next(i for i, line in enumerate(run.lines) if CREATING.match(line))
    assert run.arrivals[creating + 1] - run.arrivals[creating] >= 1.4


def test_operations_are_polled_every_5_seconds(loop, fake, save_dir):
    end = available_end(HOUR, HOUR, margin=15)
    fake.set_key(TOKEN, polls=1)
    run = loop(loop_config(save_dir, fake.url, StartTime=start_time(end - HOUR)))
    run.wait_for(WAITING, timeout=15)
    assert run.kinds() == ["creating", "progress", "progress", "fetching", "waiting"]
    assert [match["percent"] for kind, match in run.loop_lines() if kind == "progress"] == [
        "0", "100"]
    polls = [i for i, line in enumerate(run.lines) if PROGRESS.match(line)]
    assert 4.9 <= run.arrivals[polls[1]] - run.arrivals[polls[0]] < 6.5
    assert fake.stats(TOKEN)["requests_by_endpoint"]["operation"] == 2


def test_sigterm_ends_it_at_once_in_a_slow_request(loop, fake, save_dir):
    fake.set_key(TOKEN, delay_seconds=30)
    run = loop(loop_config(save_dir, fake.url))
    run.wait_for(CREATING)
    time.sleep(0.2)
    run.process.send_signal(signal.SIGTERM)
    assert run.wait_exit(timeout=2) == -signal.SIGTERM


def cpu_ticks(pid):
    fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_no_cpu_while_waiting_or_pausing_and_sigterm_ends_either(loop, fake, save_dir):
    end = available_end(HOUR, HOUR)
    waiting = loop(loop_config(save_dir, fake.url, StartTime=start_time(end - HOUR)))
    fake_pausing = save_dir.parent / "pausing"
    fake_pausing.mkdir()
    pausing = loop(loop_config(fake_pausing, "http://127.0.0.1:9", Backoff="1h"))
    waiting.wait_for(WAITING)
    pausing.wait_for(PAUSING)
    before = {run: cpu_ticks(run.process.pid) for run in (waiting, pausing)}
    time.sleep(1.0)
    for run in (waiting, pausing):
        assert cpu_ticks(run.process.pid) - before[run] <= 1
        run.process.send_signal(signal.SIGTERM)
        assert run.wait_exit(timeout=2) == -signal.SIGTERM


# The network: loopback only.

def test_the_default_api_url_fails_without_any_traffic(loop, save_dir, org_dir):
    config = loop_config(save_dir, None, BackoffStepsMax=1)
    config.pop("ApiURL")
    run = loop(config, patches={"standin.network.UNREACHABLE_SECONDS": 0.1}, audit=True)
    assert run.wait_exit() == 1
    assert run.kinds() == ["creating", "failed", "pausing", "creating", "failed", "max"]
    assert run.loop_lines()[1][1]["error"] == (
        'Post "https://api.fullstory.com/segments/v1/exports": dial tcp: lookup '
        "api.fullstory.com: i/o timeout")
    assert (org_dir / "audit").exists() and audit_events(org_dir) == []


def test_the_default_api_url_waits_as_an_unanswered_lookup(hauser):
    with zipfile.ZipFile(hauser) as program:
        network = program.read("standin/network.py").decode()
        service = program.read("standin/service.py").decode()
    assert re.search(r"^UNREACHABLE_SECONDS = 10$", network, re.MULTILINE)
    assert re.search(r"^PROGRESS_POLL_SECONDS = 5$", service, re.MULTILINE)


def test_a_download_location_off_loopback_is_not_contacted(loop, fake, save_dir, org_dir):
    end = available_end(HOUR, HOUR)
    fake.set_key(TOKEN, location_base="http://192.0.2.10:8080")
    run = loop(loop_config(save_dir, fake.url, StartTime=start_time(end - HOUR), BackoffStepsMax=0),
               patches={"standin.network.UNREACHABLE_SECONDS": 0}, audit=True)
    assert run.wait_exit() == 1
    error = run.loop_lines()[-2][1]["error"]
    assert re.fullmatch(r'Get "http://192\.0\.2\.10:8080/_download/\w+": dial tcp '
                        r"192\.0\.2\.10:8080: i/o timeout", error), error
    assert {tuple(address) for event, address in audit_events(org_dir)} == {
        ("127.0.0.1", fake.port)}


def test_localhost_is_dialled_as_127_0_0_1_without_a_lookup(loop, fake, save_dir, org_dir):
    end = available_end(HOUR, HOUR)
    api_url = "http://localhost:%d" % fake.port
    run = loop(loop_config(save_dir, api_url, StartTime=start_time(end - HOUR)), audit=True)
    run.wait_for(WAITING)
    events = audit_events(org_dir)
    assert {event[0] for event in events} == {"socket.connect"}
    assert {tuple(event[1]) for event in events} == {("127.0.0.1", fake.port)}


@pytest.mark.parametrize("changes, lines", [
    ({"Provider": "gcp", "StorageOnly": True, "gcs": {"Bucket": "b"}},
     ["failed to process exports: failed to create sync file reader: stand-in: Google Cloud "
      "Storage is out of reach, the stand-in talks to nothing but loopback"]),
    ({"Provider": "gcp", "gcs": {"Bucket": "b"},
      "bigquery": {"Project": "p", "Dataset": "d", "ExportTable": "e", "SyncTable": "s"}},
     ["failed to process exports: stand-in: BigQuery is out of reach, the stand-in talks to "
      "nothing but loopback"]),
    ({"Provider": "aws", "StorageOnly": True,
      "s3": {"Bucket": "b/hauser", "Region": "us-east-2", "Timeout": "5m"}},
     ["failed to process exports: failed to create sync file reader: failed to read s3 file "
      ".sync.hauser: stand-in: Amazon S3 is out of reach, the stand-in talks to nothing but "
      "loopback"]),
    ({"Provider": "aws", "s3": {"Bucket": "b", "Region": "us-east-2", "Timeout": "5m"},
      "redshift": {"Host": "example.redshift.amazonaws.com", "Port": "5439", "DB": "dev",
                   "User": "u", "Password": "p", "ExportTable": "e", "SyncTable": "s",
                   "DatabaseSchema": "public", "Credentials": "c", "VarCharMax": 65535}},
     ["Couldn't connect to DB: redshift ping error : (stand-in: Redshift at "
      "example.redshift.amazonaws.com:5439 is out of reach, the stand-in talks to nothing but "
      "loopback)",
      "failed to process exports: redshift ping error : (stand-in: Redshift at "
      "example.redshift.amazonaws.com:5439 is out of reach, the stand-in talks to nothing but "
      "loopback)"]),
], ids=["gcs", "bigquery", "s3", "redshift"])
def test_the_cloud_providers_fail_each_cycle_through_the_backoff(loop, save_dir, org_dir, changes,
                                                                 lines):
    config = changed(loop_config(save_dir, None, BackoffStepsMax=0), {"ApiURL": None, "local": None})
    config.update(changes)
    run = loop(config, patches={"standin.network.UNREACHABLE_SECONDS": 0}, audit=True)
    assert run.wait_exit() == 1
    loop_lines = [line.split(" ", 2)[2] for line in
                  run.lines[next(i for i, l in enumerate(run.lines) if RUNNING.match(l)) + 1:]]
    assert loop_lines == lines + ["Reached max retries; exiting"]
    assert audit_events(org_dir) == []


# The token.

def test_the_token_goes_to_the_api_only(loop, fake, save_dir):
    end = available_end(HOUR, HOUR)
    config = loop_config(save_dir, fake.url, StartTime=start_time(end - HOUR))
    run = loop(config, env=clean_env(FULLSTORY_API_TOKEN=ENV_TOKEN))
    run.wait_for(WAITING)
    assert fake.stats(ENV_TOKEN)["exports_created"] == 1  # the environment's token won
    assert fake.stats(TOKEN)["requests"] == 0
    assert_no_token(run.text(), (save_dir / ("%d.csv" % (end - HOUR))).read_text(),
                    sync_point(save_dir).decode())


def test_a_token_in_a_logged_url_is_masked(loop, save_dir):
    run = loop(loop_config(save_dir, "http://127.0.0.1:9/" + TOKEN, BackoffStepsMax=0))
    assert run.wait_exit() == 1
    assert run.loop_lines()[1][1]["error"] == (
        'Post "http://127.0.0.1:9/***/segments/v1/exports": dial tcp 127.0.0.1:9: connect: '
        "connection refused")
    assert_no_token(run.text())


# Other Pythons.

def test_a_cycle_on_python_3_13(loop, fake, save_dir, python_313):
    end = available_end(HOUR, HOUR)
    run = loop(loop_config(save_dir, fake.url, StartTime=start_time(end - HOUR)),
               program=[python_313])
    run.wait_for(WAITING)
    assert run.kinds() == ["creating", "progress", "fetching", "waiting"]
    assert sync_point(save_dir) == rfc3339(end).encode()


@pytest.fixture
def standin_modules(hauser):
    """The built program's modules, imported from its zipapp here (and forgotten afterwards)."""
    sys.path.insert(0, str(hauser))
    try:
        from standin import bundle, schema  # pylint: disable=import-outside-toplevel
        yield bundle, schema
    finally:
        sys.path.remove(str(hauser))
        for name in [name for name in sys.modules
                     if name.split(".")[0] in ("standin", "go_duration")]:
            del sys.modules[name]


def test_gzip_members_and_checksums_as_go_reads_them(standin_modules):
    """Go reads every member, keeps what it inflated before an error, and a checksum error after
    the last record goes unnoticed by the JSON decoder."""
    bundle, schema = standin_modules
    two = gzip.compress(b'[{"IndvId":1},', mtime=0) + gzip.compress(b'{"IndvId":2}]', mtime=0)
    assert bundle.gunzip_all(two) == (b'[{"IndvId":1},{"IndvId":2}]', None)
    good = gzip.compress(b'[{"IndvId":1}]', mtime=0)
    bad_crc = good[:-8] + b"\0\0\0\0" + good[-4:]
    data, error = bundle.gunzip_all(bad_crc)
    assert (data, str(error)) == (b'[{"IndvId":1}]', "gzip: invalid checksum")
    out = io.StringIO()
    stream = bundle.Stream(data, error)
    assert bundle.write_bundle_to_csv(stream, schema.make_schema(False), out) == 1
    assert str(bundle.gunzip_all(good + b"xx")[1]) == "unexpected EOF"
    with pytest.raises(bundle.GoError, match="^gzip: invalid header$"):
        bundle.new_gzip_reader(b"0123456789abcdef", None)


def test_the_loop_s_modules_load_after_the_running_line(hauser):
    """The export loop's modules are imported once start-up is done, so that 500 stand-ins do
    not start slower; and start-up imports none of them."""
    with zipfile.ZipFile(hauser) as program:
        main = program.read("standin/main.py").decode()
    imports = re.findall(r"^from standin import (.+)$", main, re.MULTILINE)
    assert imports[0] == "build_info, config, flags, startup"
    assert re.search(r"log\(_running_line\(config_path, conf\)\)\n\s+from standin import service",
                     main)


def test_no_cpu_in_a_slow_request(loop, fake, save_dir):
    fake.set_key(TOKEN, delay_seconds=5)
    run = loop(loop_config(save_dir, fake.url))
    run.wait_for(CREATING)
    time.sleep(0.2)
    before = cpu_ticks(run.process.pid)
    time.sleep(1.0)
    assert cpu_ticks(run.process.pid) - before <= 1
