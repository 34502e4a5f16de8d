"""monitoring: the monitor's config, the files it writes as root, the Monitor fed with supervisord's
events, the listener protocol and /metrics; at the end the listener script itself, installed as on
a host, under a real supervisord with a program that prints hauser's lines.

The Monitor runs with a clock and a stand-in for supervisord's getAllProcessInfo of the test's
own; what it shows is read back from its outputs (the textfile, /metrics, the state file), as
node_exporter, Prometheus or a restarted monitor read them."""

import errno
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import socket
import stat
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from hauser_log import go_utc, logged, utc

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core import monitoring
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.config import ConfigError
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.monitoring import (
    MAX_CONFIG_BYTES,
    RECONCILE_SECONDS,
    REFRESH_SECONDS,
    Monitor,
    MonitorError,
    config_text,
    monitor_config,
    open_dir,
    read_config,
    run_listener,
    read_server_config,
    server_config,
    run_server,
    serve_textfile,
    write_file,
)

REPO = Path(__file__).resolve().parents[5]
LISTENER_SCRIPT = REPO / "roles" / "multi_hauser" / "files" / "monitor.py"
CORE_DIR = Path(monitoring.__file__).resolve().parent
KEY = "na1.Zx9Qw8Er7Ty6/abc"


NOW = utc("2026-11-30 10:00:00")
START = utc("2026-11-29 04:00:00")  # the window's start: hauser's sync point
END = START + 6 * 3600
CREATING = logged(NOW - 60, "Creating export for %s to %s" % (go_utc(START), go_utc(END)))
STATUS_401 = "fullstory: response error: Status:401 Unauthorized, StatusCode:401, RetryAfter:0s"
FAILED = logged(NOW - 30, "failed to process exports: %s" % STATUS_401)
WAITING = logged(NOW - 10, "Waiting until 2026-11-30 11:00:00 +0000 UTC m=+3600.000000001 to start next export")


# hauser's lines carry the local time: these tests write and read them in UTC.
pytestmark = pytest.mark.usefixtures("utc_zone")


# --- reading the outputs back ----------------------------------------------------------------

_SAMPLE = re.compile(r'([a-z_]+)(?:\{([^}]*)\})? (\S+)\Z')


def samples(text):
    """(name, org, state label) -> value of every sample of a text exposition."""
    found = {}
    for line in text.splitlines():
        if line.startswith("# "):
            continue
        match = _SAMPLE.match(line)
        assert match, line
        labels = dict(re.findall(r'([a-z_]+)="([^"]*)"', match.group(2) or ""))
        found[(match.group(1), labels.get("org"), labels.get("state"))] = float(match.group(3))
    return found


def view(text):
    """org -> what the metrics say of it: its state and each org metric (without the prefix)."""
    orgs = {}
    for (name, org_id, state), value in samples(text).items():
        if org_id is None:
            continue
        entry = orgs.setdefault(org_id, {})
        if state is not None:
            if value == 1:
                entry["state"] = state
        else:
            entry[name[len("multi_hauser_org_"):]] = value
    return orgs


def last_update(text):
    return samples(text)[("multi_hauser_monitor_last_update_timestamp_seconds", None, None)]


# --- the monitor's config ----------------------------------------------------------------------

SETTINGS = {"mode": "vm", "base_dir": "/var/lib/multi-hauser", "log_dir": "/var/log/multi-hauser",
            "export_duration": "6h", "config_extra": {}, "metrics_textfile_dir": "/var/lib/node_exporter",
            "metrics_port": 9101, "metrics_address": ""}
ORGS = [{"org_id": "o-1", "api_key": KEY, "line": 1, "export_delay": "24h"},
        {"org_id": "o-2", "api_key": KEY, "line": 2, "export_delay": "24h10m"}]


def test_the_config_of_a_vm():
    config = monitor_config(ORGS, SETTINGS, "/etc/supervisor/supervisord.conf")
    assert config == {
        "version": 1,
        "orgs": {
            "o-1": {"log": "/var/log/multi-hauser/o-1.log", "export_delay_seconds": 86400.0,
                    "export_duration_seconds": 21600.0},
            "o-2": {"log": "/var/log/multi-hauser/o-2.log", "export_delay_seconds": 87000.0,
                    "export_duration_seconds": 21600.0},
        },
        "state": "/var/lib/multi-hauser/.monitor-state.json",
        "textfile": "/var/lib/node_exporter/multi_hauser.prom",
        "listen": None,  # a VM serves no /metrics: node_exporter does
        "supervisor_config": "/etc/supervisor/supervisord.conf",
    }
    assert KEY not in config_text(config)


def test_a_vm_without_a_textfile_dir_writes_no_textfile():
    config = monitor_config(ORGS, dict(SETTINGS, metrics_textfile_dir=""), "/etc/supervisor/supervisord.conf")
    assert (config["textfile"], config["listen"]) == ("", None)


def test_the_config_in_the_image():
    settings = dict(SETTINGS, mode="image")
    config = monitor_config(ORGS, settings, "/etc/multi-hauser/supervisord.conf")
    assert [entry["log"] for entry in config["orgs"].values()] == [None, None]  # the output comes as events
    # the metrics, for the image's metrics server, in root's run-time directory
    assert config["textfile"] == "/run/multi-hauser/multi_hauser.prom"
    assert config["listen"] == ["0.0.0.0", 9101]
    assert monitor_config(ORGS, dict(settings, metrics_port=0), "x")["textfile"] == ""
    assert monitor_config(ORGS, dict(settings, metrics_address="127.0.0.1"), "x")["listen"] == ["127.0.0.1", 9101]
    assert monitor_config(ORGS, dict(settings, metrics_port=0), "x")["listen"] is None


@pytest.mark.parametrize("extra, delays, duration", [
    ({"ExportDelay": "2h"}, [7200.0, 7200.0], 21600.0),  # set for every org: the stagger is gone
    ({"exportduration": "1h"}, [86400.0, 87000.0], 3600.0),  # hauser's keys match in any case
    ({"ExportDelay": "30h", "ExportDuration": "30m", "Backoff": "1m"}, [108000.0, 108000.0], 1800.0),
])
def test_config_extra_sets_the_timing_hauser_runs_with(extra, delays, duration):
    config = monitor_config(ORGS, dict(SETTINGS, config_extra=extra), "x")
    assert [entry["export_delay_seconds"] for entry in config["orgs"].values()] == delays
    assert set(entry["export_duration_seconds"] for entry in config["orgs"].values()) == {duration}


def test_a_bad_config_extra_is_refused_as_the_renderer_refuses_it():
    with pytest.raises(ConfigError, match="FsApiToken cannot be set here"):
        monitor_config(ORGS, dict(SETTINGS, config_extra={"FsApiToken": KEY}), "x")


def test_the_config_written_is_the_config_read(tmp_path):
    config = monitor_config(ORGS, dict(SETTINGS, mode="image"), "/etc/multi-hauser/supervisord.conf")
    path = tmp_path / "monitor.json"
    path.write_text(config_text(config))
    assert read_config(str(path)) == config


# --- read_config -------------------------------------------------------------------------------

GOOD = monitor_config(ORGS, SETTINGS, "/etc/supervisor/supervisord.conf")


def _broken(change):
    config = json.loads(json.dumps(GOOD))
    change(config)
    return json.dumps(config)


@pytest.mark.parametrize("text, message", [
    ("{", "is not a monitor config (not JSON)"),
    (b"\xff\xfe{}", "is not a monitor config (not JSON)"),
    ("[" * 100000 + "]" * 100000, "is not a monitor config (not JSON)"),
    ("[]", "is not a monitor config of this version"),
    (_broken(lambda config: config.update(version=2)), "is not a monitor config of this version"),
    (_broken(lambda config: config.pop("state")), "is not a monitor config of this version"),
    (_broken(lambda config: config.update(orgs=[])), "is not a monitor config of this version"),
    (_broken(lambda config: config["orgs"].update({"o-3": "o-3.log"})), "the entry of org o-3 is not right"),
    (_broken(lambda config: config["orgs"]["o-2"].update(log=7)), "the entry of org o-2 is not right"),
    (_broken(lambda config: config["orgs"]["o-2"].update(export_delay_seconds="24h")),
     "the entry of org o-2 is not right"),
    (_broken(lambda config: config["orgs"]["o-2"].update(export_delay_seconds=-1)),
     "the entry of org o-2 is not right"),
    (_broken(lambda config: config["orgs"]["o-1"].pop("export_duration_seconds")),
     "the entry of org o-1 is not right"),
    (_broken(lambda config: config.update(listen=["0.0.0.0"])), "listen is not an address and a port"),
    (_broken(lambda config: config.update(listen=["0.0.0.0", "9101"])), "listen is not an address and a port"),
    (_broken(lambda config: config.update(listen=["0.0.0.0", 0])), "listen is not an address and a port"),
    (_broken(lambda config: config.update(listen=["0.0.0.0", 65536])), "listen is not an address and a port"),
    (_broken(lambda config: config.update(listen=[9101, "0.0.0.0"])), "listen is not an address and a port"),
])
def test_a_config_that_is_not_right_names_the_file(tmp_path, text, message):
    path = tmp_path / "monitor.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(MonitorError) as caught:
        read_config(str(path))
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_a_missing_config_names_the_file(tmp_path):
    path = str(tmp_path / "monitor.json")
    with pytest.raises(MonitorError, match="cannot read %s: No such file or directory" % re.escape(path)):
        read_config(path)


def test_a_link_to_a_config_is_not_followed(tmp_path):
    real = tmp_path / "real.json"
    real.write_text(config_text(GOOD))
    link = tmp_path / "monitor.json"
    link.symlink_to(real)
    with pytest.raises(MonitorError, match="cannot read %s" % re.escape(str(link))):
        read_config(str(link))


def test_a_fifo_is_no_config_and_is_not_waited_on(tmp_path):
    path = tmp_path / "monitor.json"
    os.mkfifo(str(path))
    outcome = []

    def read():
        try:
            read_config(str(path))
        except MonitorError as error:
            outcome.append(str(error))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(2)
    if reader.is_alive():  # unblock the reader, then fail
        os.close(os.open(str(path), os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("read_config waited for a writer of a FIFO")
    assert outcome == ["%s is not a monitor config (not a regular file, or too large)" % path]


@pytest.mark.parametrize("make", ["directory", "too large"])
def test_other_files_are_no_config(tmp_path, make):
    path = tmp_path / "monitor.json"
    if make == "directory":
        path.mkdir()
    else:
        with open(str(path), "w") as handle:
            handle.write(config_text(GOOD))
            handle.truncate(MAX_CONFIG_BYTES + 1)
    with pytest.raises(MonitorError) as caught:
        read_config(str(path))
    assert str(path) in str(caught.value)


# --- open_dir and write_file: root's files in another user's directory --------------------------


def test_write_file_writes_roots_file_with_its_mode_in_one_step(tmp_path):
    directory = tmp_path / "textfile"
    directory.mkdir()
    path = directory / "multi_hauser.prom"
    path.write_text("old\n")
    reader = open(str(path))
    old_umask = os.umask(0o077)
    try:
        write_file(str(path), "new\n", 0o644)
    finally:
        os.umask(old_umask)
    info = os.lstat(str(path))
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o644, os.geteuid(), os.getegid())
    assert path.read_text() == "new\n"
    # a reader that had the old file keeps all of it: a new file was renamed over it
    assert reader.read() == "old\n"
    reader.close()
    assert os.listdir(str(directory)) == ["multi_hauser.prom"]  # no temporary file left


def test_a_link_at_the_file_name_is_replaced_not_followed(tmp_path):
    directory = tmp_path / "textfile"
    directory.mkdir()
    target = tmp_path / "shadow"
    target.write_text("root:x:0:0\n")
    (directory / "multi_hauser.prom").symlink_to(target)
    write_file(str(directory / "multi_hauser.prom"), "metrics\n", 0o644)
    assert target.read_text() == "root:x:0:0\n"
    assert not os.path.islink(str(directory / "multi_hauser.prom"))
    assert (directory / "multi_hauser.prom").read_text() == "metrics\n"


@pytest.mark.parametrize("link_at", ["the directory", "a parent"])
def test_a_link_on_the_way_is_not_followed(tmp_path, link_at):
    elsewhere = tmp_path / "etc"
    (elsewhere / "sub").mkdir(parents=True)
    (elsewhere / "sub" / "multi_hauser.prom").write_text("kept\n")
    if link_at == "the directory":
        (tmp_path / "textfile").symlink_to(elsewhere / "sub")
        path = tmp_path / "textfile" / "multi_hauser.prom"
    else:
        (tmp_path / "textfile").symlink_to(elsewhere)
        path = tmp_path / "textfile" / "sub" / "multi_hauser.prom"
    with pytest.raises(OSError) as caught:
        write_file(str(path), "metrics\n", 0o644)
    assert caught.value.errno in (errno.ELOOP, errno.ENOTDIR)
    assert (elsewhere / "sub" / "multi_hauser.prom").read_text() == "kept\n"
    assert os.listdir(str(elsewhere / "sub")) == ["multi_hauser.prom"]
    with pytest.raises(OSError):
        open_dir(str(path.parent))


def test_open_dir_takes_an_absolute_path_only():
    with pytest.raises(OSError) as caught:
        open_dir("var/lib/node_exporter")
    assert caught.value.errno == errno.EINVAL
    with open_dir("/") as root:
        assert "proc" in root.names()


# --- the Monitor -------------------------------------------------------------------------------


class Clock:
    def __init__(self, now=NOW):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds
        return self.now


class FakeSupervisord:
    """What getAllProcessInfo answers: each program's state, or an error."""

    def __init__(self):
        self.states = {}
        self.error = None
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.error is not None:
            raise self.error
        return [{"name": name, "group": name, "statename": state} for name, state in self.states.items()]


def state_event(org_id, name, from_state):
    """A PROCESS_STATE event as supervisord sends it (for a program of that name)."""
    program = org_id if org_id.startswith("multi-") else "hauser-" + org_id
    return ("PROCESS_STATE_" + name,
            "processname:%s groupname:%s from_state:%s pid:4242" % (program, program, from_state))


def log_event(org_id, *lines):
    """A PROCESS_LOG_STDOUT event of the org's program, with these lines."""
    return ("PROCESS_LOG_STDOUT", "processname:hauser-%s groupname:hauser-%s pid:1 channel:stdout\n%s"
            % (org_id, org_id, "".join(line + "\n" for line in lines)))


class Host:
    """The monitor's directories in tmp_path, its config, and monitors on them."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.base = tmp_path / "base"
        self.logs = tmp_path / "logs"
        self.textfile_dir = tmp_path / "node_exporter"
        for directory in (self.base, self.logs, self.textfile_dir, tmp_path / "etc"):
            directory.mkdir()
        self.config_path = tmp_path / "etc" / "monitor.json"
        self.state_path = self.base / ".monitor-state.json"
        self.textfile = self.textfile_dir / "multi_hauser.prom"
        self.clock = Clock()
        self.supervisord = FakeSupervisord()
        self.said = []

    def write_config(self, org_ids=("o-1", "o-2"), delays=None, **settings):
        """The config for these orgs, renamed into place as the module writes it."""
        settings = dict({"mode": "vm", "base_dir": str(self.base), "log_dir": str(self.logs), "export_duration": "6h",
                         "metrics_textfile_dir": str(self.textfile_dir)}, **settings)
        orgs = [{"org_id": org_id, "export_delay": (delays or {}).get(org_id, "24h")} for org_id in org_ids]
        self.write_config_text(config_text(monitor_config(orgs, settings, "unused")))

    def write_config_text(self, text):
        temporary = self.config_path.with_suffix(".new")
        temporary.write_text(text)
        os.replace(str(temporary), str(self.config_path))

    def monitor(self, cls=Monitor):
        return cls(str(self.config_path), clock=self.clock, supervisor=self.supervisord, log=self.said.append)

    def log(self, org_id, *lines):
        with open(str(self.logs / (org_id + ".log")), "a") as handle:
            handle.write("".join(line + "\n" for line in lines))

    def shown(self):
        """What the textfile says, by org."""
        return view(self.textfile.read_text())

    def saved(self):
        return json.loads(self.state_path.read_text())


@pytest.fixture
def host(tmp_path):
    host = Host(tmp_path)
    host.write_config()
    return host


def started(host, **kwargs):
    monitor = host.monitor(**kwargs)
    monitor.load_config()
    return monitor


def test_process_events_bring_an_org_up_and_count_the_restarts(host):
    monitor = started(host)
    monitor.on_event(*state_event("o-1", "STARTING", "STOPPED"))
    monitor.on_event(*state_event("o-1", "RUNNING", "STARTING"))
    monitor.tick()
    shown = host.shown()
    assert (shown["o-1"]["up"], shown["o-1"]["restarts_total"], shown["o-1"]["state"]) == (1, 0, "starting")
    assert (shown["o-2"]["up"], shown["o-2"]["state"]) == (0, "starting")  # nothing heard of it yet

    monitor.on_event(*state_event("o-1", "EXITED", "RUNNING"))
    host.clock.advance(5)
    monitor.tick()
    assert (host.shown()["o-1"]["up"], host.shown()["o-1"]["state"]) == (0, "down")

    monitor.on_event(*state_event("o-1", "STARTING", "EXITED"))  # supervisord restarting it on its own
    monitor.on_event(*state_event("o-1", "RUNNING", "STARTING"))
    host.clock.advance(5)
    monitor.tick()
    assert (host.shown()["o-1"]["up"], host.shown()["o-1"]["restarts_total"]) == (1, 1)


def test_the_output_of_an_orgs_program_as_events_gives_its_state_in_the_image(host):
    host.write_config(mode="image")
    monitor = started(host)
    monitor.on_event(*log_event("o-1", CREATING, logged(NOW - 55, "Export progress: 50%")))
    monitor.tick()
    shown = view(monitor.metrics_text())
    assert shown["o-1"]["state"] == "exporting"
    assert shown["o-1"]["last_export_end_timestamp_seconds"] == START  # where its export stands
    assert shown["o-2"]["state"] == "starting"  # another org's lines are not its own
    assert not host.textfile.exists()  # in the image, /metrics alone

    monitor.on_event(*log_event("o-1", WAITING))
    host.clock.advance(5)
    monitor.tick()
    shown = view(monitor.metrics_text())
    assert shown["o-1"]["state"] == "waiting"
    assert shown["o-1"]["next_export_timestamp_seconds"] == utc("2026-11-30 11:00:00")


def test_the_log_files_are_read_at_each_tick_on_a_vm(host):
    host.log("o-1", CREATING)
    monitor = started(host)
    monitor.tick()
    assert host.shown()["o-1"]["state"] == "exporting"
    assert host.shown()["o-1"]["last_export_end_timestamp_seconds"] == START

    host.log("o-1", FAILED, logged(NOW - 30, "Pausing; will retry operation in 30s"))
    host.log("o-2", CREATING)
    monitor.on_event(*state_event("o-2", "RUNNING", "STARTING"))  # not a tick: no log is read
    assert host.shown()["o-1"]["state"] == "exporting"
    host.clock.advance(5)
    monitor.on_event("TICK_5", "when:%d" % host.clock.now)
    shown = host.shown()
    assert (shown["o-1"]["state"], shown["o-1"]["consecutive_failures"]) == ("retrying", 1)
    assert shown["o-1"]["next_export_timestamp_seconds"] == NOW
    assert (shown["o-2"]["state"], shown["o-2"]["up"]) == ("exporting", 1)
    # each line is read once
    host.clock.advance(5)
    monitor.tick()
    assert host.shown()["o-1"]["consecutive_failures"] == 1


def test_supervisords_view_is_taken_every_reconcile_seconds(host):
    host.supervisord.states = {"hauser-o-1": "RUNNING", "hauser-o-2": "EXITED"}
    monitor = started(host)
    monitor.tick()
    shown = host.shown()
    assert (shown["o-1"]["up"], shown["o-2"]["up"], shown["o-2"]["state"]) == (1, 0, "down")

    host.supervisord.states = {"hauser-o-1": "FATAL", "hauser-o-2": "RUNNING"}
    host.clock.advance(RECONCILE_SECONDS - 5)
    monitor.tick()
    assert host.supervisord.calls == 1
    assert (host.shown()["o-1"]["up"], host.shown()["o-2"]["up"]) == (1, 0)
    host.clock.advance(5)
    monitor.tick()
    assert host.supervisord.calls == 2
    shown = host.shown()
    assert (shown["o-1"]["up"], shown["o-1"]["state"]) == (0, "down")
    assert (shown["o-2"]["up"], shown["o-2"]["state"]) == (1, "starting")  # no longer down
    assert shown["o-1"]["restarts_total"] == 0  # what reconcile finds is no restart


def test_an_unreachable_supervisord_is_said_once_and_events_still_count(host):
    host.supervisord.error = ConnectionRefusedError(111, "Connection refused: unix:///run/supervisor.sock")
    monitor = started(host)
    for _tick in range(3):
        monitor.tick()
        host.clock.advance(RECONCILE_SECONDS)
    assert host.supervisord.calls == 3
    assert host.said == ["cannot ask supervisord for its programs' states (ConnectionRefusedError)"]
    monitor.on_event(*state_event("o-1", "RUNNING", "STARTING"))
    monitor.tick()
    assert host.shown()["o-1"]["up"] == 1
    # back, then away again: said again
    host.supervisord.error = None
    host.clock.advance(RECONCILE_SECONDS)
    monitor.tick()
    host.supervisord.error = ConnectionRefusedError(111, "Connection refused")
    host.clock.advance(RECONCILE_SECONDS)
    monitor.tick()
    assert len(host.said) == 2


def test_the_state_survives_a_restart_of_the_monitor(host):
    host.log("o-1", CREATING, FAILED)
    first = started(host)
    first.on_event(*state_event("o-1", "STARTING", "BACKOFF"))
    first.on_event(*state_event("o-1", "RUNNING", "STARTING"))
    first.tick()
    info = os.stat(str(host.state_path))
    assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o640, 0)
    assert host.saved()["orgs"]["o-1"]["restarts"] == 1

    host.log("o-1", logged(NOW - 5, "failed to process exports: %s" % STATUS_401))  # while no monitor ran
    host.clock.advance(30)
    second = started(host)
    second.tick()
    shown = host.shown()
    assert shown["o-1"]["restarts_total"] == 1
    assert shown["o-1"]["last_export_end_timestamp_seconds"] == START
    assert shown["o-1"]["first_seen_timestamp_seconds"] == NOW  # the org is not new to the second monitor
    assert shown["o-1"]["consecutive_failures"] == 2  # the line written meanwhile, and no line read twice


def test_the_textfile_is_written_0644_and_only_when_there_is_one(host):
    monitor = started(host)
    old_umask = os.umask(0o077)
    try:
        monitor.tick()
    finally:
        os.umask(old_umask)
    info = os.stat(str(host.textfile))
    assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o644, 0)  # node_exporter reads it
    assert host.textfile.read_text() == monitor.metrics_text()
    assert sorted(view(monitor.metrics_text())) == ["o-1", "o-2"]

    os.unlink(str(host.textfile))
    host.write_config(metrics_textfile_dir="")
    host.clock.advance(REFRESH_SECONDS)
    monitor.tick()
    assert os.listdir(str(host.textfile_dir)) == []
    assert last_update(monitor.metrics_text()) == host.clock.now


def test_the_outputs_are_refreshed_every_refresh_seconds_even_without_a_change(host):
    monitor = started(host)
    monitor.tick()
    assert last_update(host.textfile.read_text()) == NOW
    host.clock.advance(REFRESH_SECONDS - 5)
    monitor.tick()
    assert last_update(host.textfile.read_text()) == NOW  # nothing changed: not written
    host.clock.advance(5)
    monitor.tick()
    assert last_update(host.textfile.read_text()) == NOW + REFRESH_SECONDS


def test_a_new_config_is_taken_at_the_next_tick(host):
    monitor = started(host)
    monitor.on_event(*state_event("o-2", "RUNNING", "STARTING"))
    monitor.tick()
    assert sorted(host.shown()) == ["o-1", "o-2"]

    host.write_config(org_ids=("o-1", "o-3"), delays={"o-3": "25h"})
    host.clock.advance(5)
    monitor.tick()
    shown = host.shown()
    assert sorted(shown) == ["o-1", "o-3"]
    assert shown["o-3"]["export_delay_seconds"] == 25 * 3600
    assert "o-2" not in host.saved()["orgs"]
    assert host.said == []


def test_a_broken_new_config_keeps_the_old_one_and_is_said_once(host):
    monitor = started(host)
    monitor.tick()
    host.write_config_text('{"version": 1, "orgs": {}')
    for _tick in range(4):
        host.clock.advance(REFRESH_SECONDS)
        monitor.tick()
    assert host.said == ["%s is not a monitor config (not JSON)" % host.config_path]
    assert sorted(host.shown()) == ["o-1", "o-2"]  # still written, with the config it had
    assert last_update(host.textfile.read_text()) == host.clock.now

    host.write_config(org_ids=("o-1",))
    host.clock.advance(5)
    monitor.tick()
    assert sorted(host.shown()) == ["o-1"]
    assert len(host.said) == 1


def test_a_first_config_that_is_missing_stops_the_monitor(host):
    os.unlink(str(host.config_path))
    monitor = host.monitor()
    with pytest.raises(MonitorError, match=re.escape(str(host.config_path))):
        monitor.load_config()


def test_a_file_that_cannot_be_written_is_said_once(host):
    shutil.rmtree(str(host.textfile_dir))
    host.textfile_dir.write_text("not a directory\n")
    monitor = started(host)
    for _tick in range(3):
        monitor.tick()
        host.clock.advance(REFRESH_SECONDS)
    assert host.said == ["cannot write %s: Not a directory" % host.textfile]
    assert host.saved()["version"] == 1  # the state file is written all the same

    os.unlink(str(host.textfile_dir))
    host.textfile_dir.mkdir()
    monitor.tick()
    assert sorted(host.shown()) == ["o-1", "o-2"]
    assert len(host.said) == 1


def test_an_org_not_in_the_config_is_ignored(host):
    host.supervisord.states = {"hauser-o-9": "RUNNING", "multi-hauser-monitor": "RUNNING", "hauser-o-1": "RUNNING"}
    host.log("o-9", CREATING)
    monitor = started(host)
    monitor.on_event(*state_event("o-9", "STARTING", "EXITED"))
    monitor.on_event(*state_event("multi-hauser-monitor", "STARTING", "EXITED"))
    monitor.on_event(*log_event("o-9", CREATING))
    monitor.on_event("PROCESS_LOG_STDOUT", "processname:cron groupname:cron pid:1 channel:stdout\n%s\n" % CREATING)
    monitor.tick()
    assert sorted(host.shown()) == ["o-1", "o-2"]
    assert host.shown()["o-1"]["up"] == 1
    assert host.said == []


# --- the listener protocol ---------------------------------------------------------------------


def envelope(serial, name, payload):
    """An event as supervisord writes it to a listener's stdin: its header line, then its payload."""
    data = payload.encode("utf-8")
    return ("ver:3.0 server:supervisor serial:%d pool:multi-hauser-monitor poolserial:%d eventname:%s len:%d\n"
            % (serial, serial, name, len(data))).encode("ascii") + data


def test_the_listener_answers_each_event_in_order(host):
    host.write_config(mode="image")
    events = [state_event("o-1", "STARTING", "STOPPED"), state_event("o-1", "RUNNING", "STARTING"),
              log_event("o-1", CREATING), ("TICK_5", "when:%d" % NOW)]
    stdin = io.BytesIO(b"".join(envelope(serial, *event) for serial, event in enumerate(events, 1)))
    stdout = io.BytesIO()
    monitor = host.monitor()
    assert run_listener(monitor, stdin, stdout) is None  # at the end of its input
    assert stdout.getvalue() == b"READY\n" + b"RESULT 2\nOKREADY\n" * 4
    shown = view(monitor.metrics_text())
    assert (shown["o-1"]["up"], shown["o-1"]["state"]) == (1, "exporting")
    assert shown["o-1"]["last_export_end_timestamp_seconds"] == START
    assert host.saved()["orgs"]["o-1"]["last_export_end"] == START


def test_an_event_that_fails_is_acknowledged_and_said_once_without_its_text(host, capsys):
    class Failing(Monitor):
        def on_event(self, name, payload):
            if "secret" in payload:
                raise ValueError("cannot take %s" % payload)
            super().on_event(name, payload)

    host.write_config(mode="image")
    events = [log_event("o-1", "a secret"), log_event("o-1", "a secret"), state_event("o-1", "RUNNING", "STARTING"),
              ("TICK_5", "when:%d" % NOW)]
    stdin = io.BytesIO(b"".join(envelope(serial, *event) for serial, event in enumerate(events, 1)))
    stdout = io.BytesIO()
    monitor = Failing(str(host.config_path), clock=host.clock, supervisor=host.supervisord)
    run_listener(monitor, stdin, stdout)
    assert stdout.getvalue() == b"READY\n" + b"RESULT 2\nOKREADY\n" * 4
    err = capsys.readouterr().err
    assert err == "multi-hauser-monitor: an event could not be taken (ValueError)\n"
    assert view(monitor.metrics_text())["o-1"]["up"] == 1  # the events after it were taken


@pytest.mark.parametrize("stdin", [b"", envelope(1, *log_event("o-1", CREATING))[:-10]])
def test_the_listener_ends_at_the_end_of_its_input(host, stdin):
    stdout = io.BytesIO()
    run_listener(host.monitor(), io.BytesIO(stdin), stdout)
    assert stdout.getvalue() == b"READY\n"


# --- /metrics ----------------------------------------------------------------------------------


def test_metrics_over_http(host, tmp_path):
    monitor = started(host)
    monitor.on_event(*state_event("o-1", "RUNNING", "STARTING"))
    monitor.tick()
    textfile = tmp_path / "served.prom"
    server = serve_textfile(str(textfile), "127.0.0.1", 0)
    try:
        url = "http://127.0.0.1:%d" % server.server_address[1]
        with pytest.raises(urllib.error.HTTPError) as caught:  # nothing written yet
            urllib.request.urlopen(url + "/metrics", timeout=10)
        assert caught.value.code == 503
        textfile.write_text(monitor.metrics_text())
        with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
            body = response.read().decode("utf-8")
        assert body == monitor.metrics_text()
        assert view(body)["o-1"]["up"] == 1
        with urllib.request.urlopen(url + "/metrics?name[]=x", timeout=10) as response:
            assert response.status == 200
        for path in ("/", "/metrics/x", "/state"):
            with pytest.raises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(url + path, timeout=10)
            assert caught.value.code == 404
        # a link put where the metrics go is not followed
        secret = tmp_path / "secret"
        secret.write_text("root only\n")
        textfile.unlink()
        textfile.symlink_to(secret)
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(url + "/metrics", timeout=10)
        assert caught.value.code == 503 and b"root only" not in caught.value.read()
    finally:
        server.shutdown()
        server.server_close()


def test_a_client_that_goes_away_mid_answer_leaves_no_traceback(tmp_path, capfd):
    textfile = tmp_path / "multi_hauser.prom"
    textfile.write_text("multi_hauser_org_up{org=\"o-1\"} 1\n" * 500000)  # far more than a socket buffers
    server = serve_textfile(str(textfile), "127.0.0.1", 0)
    try:
        client = socket.create_connection(server.server_address, timeout=10)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        client.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        client.recv(1)
        client.close()  # a reset, with most of the answer unsent
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % server.server_address[1], timeout=10) as answer:
            assert answer.status == 200  # the server goes on
    finally:
        server.shutdown()
        server.server_close()
    assert "Traceback" not in capfd.readouterr().err


def test_the_metrics_server_serves_what_its_config_says_until_told_to_stop(tmp_path):
    textfile = tmp_path / "multi_hauser.prom"
    textfile.write_text("multi_hauser_monitor_up 1\n")
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    path = tmp_path / "metrics-server.json"
    path.write_text(config_text({"version": 1, "textfile": str(textfile), "listen": ["127.0.0.1", port]}))
    bodies = []

    def wait():
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as response:
            bodies.append(response.read())

    assert run_server(str(path), wait=wait) is True
    assert bodies == [b"multi_hauser_monitor_up 1\n"]
    path.write_text(config_text({"version": 1, "textfile": "", "listen": None}))
    assert run_server(str(path), wait=lambda: pytest.fail("served without a port")) is False


@pytest.mark.parametrize("config, message", [
    ({"version": 2, "textfile": "", "listen": None}, "not a metrics server config of this version"),
    ({"version": 1, "textfile": "", "listen": ["0.0.0.0", 0]}, "listen is not an address and a port"),
    ({"version": 1, "textfile": "relative.prom", "listen": ["0.0.0.0", 9101]}, "textfile is not an absolute path"),
])
def test_a_bad_metrics_server_config_is_refused_naming_the_file(tmp_path, config, message):
    path = tmp_path / "metrics-server.json"
    path.write_text(config_text(config))
    with pytest.raises(MonitorError, match=message) as caught:
        read_server_config(str(path))
    assert str(path) in str(caught.value)


# --- the listener script ------------------------------------------------------------------------


def _load_script():
    spec = importlib.util.spec_from_file_location("multi_hauser_monitor_script", str(LISTENER_SCRIPT))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_without_a_config_says_so_and_exits_2(tmp_path, capsys):
    missing = str(tmp_path / "monitor.json")
    assert _load_script().main(["monitor.py", missing]) == 2
    assert capsys.readouterr().err == "multi-hauser-monitor: cannot read %s: No such file or directory\n" % missing


FAKE_HAUSER = r'''
import sys, time
def say(message):
    print(time.strftime("%Y/%m/%d %H:%M:%S ", time.localtime()) + message, flush=True)
start, end = (time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(int(t))) for t in sys.argv[1:3])
say("Creating export for %s to %s" % (start, end))
say("Export progress: 40%")
time.sleep(600)
'''


def install_as_on_a_host(tmp_path):
    """The listener and the core package as the role installs them (lib_dir): no other code."""
    lib = tmp_path / "lib"
    core = lib / "ansible_collections" / "hauser" / "multi_hauser" / "plugins" / "module_utils" / "core"
    core.mkdir(parents=True)
    for source in CORE_DIR.glob("*.py"):
        shutil.copy(str(source), str(core / source.name))
    shutil.copy(str(LISTENER_SCRIPT), str(lib / "monitor.py"))
    hauser = tmp_path / "fake-hauser.py"
    hauser.write_text(FAKE_HAUSER)
    return lib, hauser


def add_listener(supervisord, lib, config_path, events, stderr_log):
    with open(os.path.join(supervisord.conf_d, "multi-hauser-monitor.conf"), "w") as handle:
        handle.write("[eventlistener:multi-hauser-monitor]\ncommand=/usr/bin/python3 %s/monitor.py %s\n"
                     "events=%s\nbuffer_size=1024\nautostart=true\nautorestart=true\nstartsecs=1\n"
                     "stderr_logfile=%s\n" % (lib, config_path, events, stderr_log))
    update = supervisord.supervisorctl("update")
    assert update.returncode == 0, update.stdout + update.stderr
    supervisord.wait_until(lambda infos: infos.get("multi-hauser-monitor", {}).get("statename") == "RUNNING",
                           what="the listener RUNNING")


def wait_for(read, condition, what, timeout=30):
    """Polls read() until condition(value) holds; returns the value."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        try:
            value = read()
        except (OSError, ValueError, KeyError):
            value = None
        if value is not None and condition(value):
            return value
        time.sleep(0.1)
    pytest.fail("%s did not hold within %d s; last seen: %r" % (what, timeout, value))


def _window():
    """A window hauser would create now: from two days ago, whole hours."""
    start = int(time.time()) // 3600 * 3600 - 2 * 86400
    return start, start + 6 * 3600


def test_the_listener_under_supervisord_on_a_vm(start_supervisord, tmp_path):
    lib, hauser = install_as_on_a_host(tmp_path)
    start, end = _window()
    for name in ("base", "logs", "node_exporter"):
        (tmp_path / name).mkdir()
    log = tmp_path / "logs" / "o-1.log"
    # startsecs longer than a TICK_5: a restarted program is seen not up before it is RUNNING again
    supervisord = start_supervisord({"hauser-o-1": dict(
        command="/usr/bin/python3 %s %d %d" % (hauser, start, end), startsecs=6, autorestart="true",
        startretries=3, redirect_stderr="true", stdout_logfile=str(log))})
    settings = {"mode": "vm", "base_dir": str(tmp_path / "base"), "log_dir": str(tmp_path / "logs"),
                "export_duration": "6h", "metrics_textfile_dir": str(tmp_path / "node_exporter")}
    config_path = tmp_path / "monitor.json"
    config_path.write_text(config_text(monitor_config([{"org_id": "o-1", "export_delay": "24h"}], settings,
                                                      supervisord.config)))
    add_listener(supervisord, lib, config_path, "PROCESS_STATE,TICK_5", tmp_path / "monitor.err")
    textfile = tmp_path / "node_exporter" / "multi_hauser.prom"

    def org():
        return view(textfile.read_text())["o-1"]

    shown = wait_for(org, lambda shown: shown["up"] == 1 and shown["state"] == "exporting", "o-1 up and exporting")
    assert (shown["last_export_end_timestamp_seconds"], shown["restarts_total"]) == (start, 0)
    assert shown["export_delay_seconds"] == 86400
    assert stat.S_IMODE(os.stat(str(textfile)).st_mode) == 0o644
    state = json.loads((tmp_path / "base" / ".monitor-state.json").read_text())
    assert (state["orgs"]["o-1"]["last_export_end"], state["orgs"]["o-1"]["up"]) == (start, True)
    assert list(state["logs"]) == [str(log)]

    os.kill(supervisord.infos()["hauser-o-1"]["pid"], signal.SIGKILL)
    wait_for(org, lambda shown: (shown["up"], shown["restarts_total"]) == (0, 1), "o-1 seen down, restarted")
    shown = wait_for(org, lambda shown: shown["up"] == 1, "o-1 up again")
    assert (shown["restarts_total"], shown["last_export_end_timestamp_seconds"]) == (1, start)
    assert (tmp_path / "monitor.err").read_text() == ""  # nothing went wrong to say


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_listener_under_supervisord_in_the_image(start_supervisord, tmp_path):
    lib, hauser = install_as_on_a_host(tmp_path)
    start, end = _window()
    (tmp_path / "base").mkdir()
    # as the image runs an org: its output goes to the listener as events, to no file
    (tmp_path / "run").mkdir()
    server_config_path = tmp_path / "run" / "metrics-server.json"
    # and its metrics server, a program of its own (user nobody in the image)
    supervisord = start_supervisord({
        "hauser-o-1": dict(command="/usr/bin/python3 %s %d %d" % (hauser, start, end), autostart="false",
                           redirect_stderr="true", stdout_logfile="NONE", stdout_events_enabled="true"),
        "multi-hauser-metrics": dict(command="/usr/bin/python3 %s/monitor.py --serve %s" % (lib, server_config_path),
                                     autostart="false", startsecs="0", autorestart="unexpected", exitcodes="0",
                                     redirect_stderr="true", stdout_logfile=str(tmp_path / "metrics.log"))})
    port = _free_port()
    settings = {"mode": "image", "base_dir": str(tmp_path / "base"), "log_dir": "", "export_duration": "6h",
                "metrics_port": port, "metrics_address": "127.0.0.1", "metrics_dir": str(tmp_path / "run")}
    config_path = tmp_path / "monitor.json"
    config = monitor_config([{"org_id": "o-1", "export_delay": "24h"}], settings, supervisord.config)
    config_path.write_text(config_text(config))
    server_config_path.write_text(config_text(server_config(config)))
    add_listener(supervisord, lib, config_path, "PROCESS_STATE,TICK_5,PROCESS_LOG_STDOUT", tmp_path / "monitor.err")
    for program in ("multi-hauser-metrics", "hauser-o-1"):
        started_program = supervisord.supervisorctl("start", program)
        assert started_program.returncode == 0, started_program.stdout + started_program.stderr

    def org():
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as response:
            return view(response.read().decode("utf-8"))["o-1"]

    shown = wait_for(org, lambda shown: shown["state"] == "exporting" and shown["up"] == 1, "o-1 exporting")
    assert (shown["last_export_end_timestamp_seconds"], shown["restarts_total"]) == (start, 0)
    assert sorted(os.listdir(str(tmp_path / "run"))) == ["metrics-server.json", "multi_hauser.prom"]
    assert (tmp_path / "monitor.err").read_text() == ""
    assert (tmp_path / "metrics.log").read_text() == ""
