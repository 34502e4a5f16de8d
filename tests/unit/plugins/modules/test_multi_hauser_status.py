"""multi_hauser_status against a real supervisord: each org program's state, pid and uptime as
supervisord reports them (read back through supervisor's own client), its ExportDelay from its
config and the last line of its log; programs that are not an org's are left out.

The module runs as a process of its own, with its arguments in a JSON file (the protocol of
Ansible's module wrapper), as in test_multi_hauser_orgs.py."""

import json
import os
import re
import subprocess
import sys
import time

import pytest

import ansible_collections.hauser.multi_hauser.plugins.modules.multi_hauser_status as status_module
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.exports import States

COLLECTIONS_DIR = os.path.abspath(os.path.join(os.path.dirname(status_module.__file__), *[os.pardir] * 5))
MODULE = "ansible_collections.hauser.multi_hauser.plugins.modules.multi_hauser_status"
KEY = "na1.Zx9Qw8Er7Ty6/status-key"


def run_module(tmp_path, **args):
    path = tmp_path / "args.json"
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    process = subprocess.run([sys.executable, "-m", MODULE, str(path)], capture_output=True, text=True,
                             env=dict(os.environ, PYTHONPATH=COLLECTIONS_DIR), timeout=120, check=False)
    try:
        return json.loads(process.stdout), process.stdout + process.stderr
    except ValueError:
        pytest.fail("the module printed no result (rc %d): %s %s" % (process.returncode, process.stdout, process.stderr))


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def deployment(start_supervisord, tmp_path):
    """A host with org programs in every state, programs that are no org's, configs and logs."""
    base, logs = tmp_path / "base", tmp_path / "logs"
    write(base / "running" / "config.toml", '# marker\nFsApiToken = "%s"\nExportDelay = "25h10m"\n' % KEY)
    write(base / "fatal" / "config.toml", 'FsApiToken = "%s"\nexportdelay="24h"\n' % KEY)
    write(base / "exited" / "config.toml", 'FsApiToken = "%s"\n' % KEY)  # no ExportDelay
    write(logs / "running.log", "2026/11/28 19:56:41 starting\n2026/11/28 19:56:42 exporting\n\n  \n")
    write(logs / "fatal.log", "x" * 10000 + "\n" + "y" * 5000 + "\n2026/11/28 19:56:43 giving up\n")
    programs = {
        "hauser-running": {},
        "hauser-stopped": {"autostart": "false"},
        "hauser-fatal": {"command": "/bin/false", "startsecs": 1},
        "hauser-exited": {"command": "/bin/true"},
        "other": {},  # not an org's program
        "hauser-pool": {"numprocs": 2, "process_name": "%(program_name)s_%(process_num)d"},  # a group of two
    }
    supervisord = start_supervisord(programs)
    supervisord.wait_until(lambda infos: infos["hauser-fatal"]["statename"] == "FATAL"
                           and infos["hauser-exited"]["statename"] == "EXITED", what="the programs settling")
    return supervisord, str(base), str(logs)


def test_status_of_every_org_program(deployment, tmp_path):
    supervisord, base, logs = deployment
    result, output = run_module(tmp_path, base_dir=base, log_dir=logs, supervisor_config=supervisord.config)
    assert not result.get("failed"), result
    assert result["changed"] is False
    infos = supervisord.infos()  # supervisor's own client, after the module
    orgs = {org["org_id"]: org for org in result["orgs"]}
    assert [org["org_id"] for org in result["orgs"]] == ["exited", "fatal", "running", "stopped"]  # sorted, ours only
    assert {org_id: org["state"] for org_id, org in orgs.items()} == \
        {"exited": "EXITED", "fatal": "FATAL", "running": "RUNNING", "stopped": "STOPPED"}
    running = orgs["running"]
    assert running["pid"] == infos["hauser-running"]["pid"] != 0
    hours, minutes, seconds = (int(part) for part in re.match(r"^(\d+):(\d\d):(\d\d)$", running["uptime"]).groups())
    elapsed = infos["hauser-running"]["now"] - infos["hauser-running"]["start"]
    assert 0 <= elapsed - (hours * 3600 + minutes * 60 + seconds) <= 5
    for org_id in ("exited", "fatal", "stopped"):
        assert (orgs[org_id]["pid"], orgs[org_id]["uptime"]) == (0, "-")
    assert {org_id: org["export_delay"] for org_id, org in orgs.items()} == \
        {"exited": "-", "fatal": "24h", "running": "25h10m", "stopped": "-"}
    assert {org_id: org["last_log_line"] for org_id, org in orgs.items()} == \
        {"exited": "", "fatal": "2026/11/28 19:56:43 giving up", "running": "2026/11/28 19:56:42 exporting",
         "stopped": ""}
    assert KEY not in output  # nothing of a config but its ExportDelay


def test_check_mode_reads_all_the_same(deployment, tmp_path):
    supervisord, base, logs = deployment
    result = run_module(tmp_path, base_dir=base, log_dir=logs, supervisor_config=supervisord.config,
                        _ansible_check_mode=True)[0]
    assert not result.get("failed"), result
    assert [org["org_id"] for org in result["orgs"]] == ["exited", "fatal", "running", "stopped"]


def test_a_host_without_supervisor_has_no_orgs(tmp_path):
    result = run_module(tmp_path, supervisor_config=str(tmp_path / "missing" / "supervisord.conf"))[0]
    assert not result.get("failed"), result
    assert result["orgs"] == [] and result["msg"] == "supervisor is not installed"


def test_a_supervisord_that_does_not_answer_fails_the_task_saying_so(tmp_path):
    config = tmp_path / "supervisord.conf"
    config.write_text("[supervisorctl]\nserverurl = unix://%s\n" % (tmp_path / "nobody-listens.sock"))
    result = run_module(tmp_path, supervisor_config=str(config))[0]
    assert result.get("failed") is True
    assert "cannot reach supervisord" in result["msg"] and "is it running?" in result["msg"]


# --- hauser processes, with and without their program ---------------------------------------------

PASSWORD = "Redshift-pw-Qm4"
EXTRA_SECRET = "proxy-pass-Vb8"
SLEEP = "__import__('time').sleep(600)"


@pytest.fixture
def processes(start_supervisord, tmp_path):
    """A host where hausers run as a supervisord that died leaves them: an org whose program runs
    one hauser and another left over, an org with no program at all, and processes that only look
    like hausers. Each process stands for hauser by its command line, -c <base>/<org>/config.toml."""
    base, logs = tmp_path / "base", tmp_path / "logs"
    write(base / "running" / "config.toml",
          'FsApiToken = "%s"\nExportDelay = "24h"\n\n[redshift]\nPassword = "%s"\n' % (KEY, PASSWORD))
    write(logs / "running.log", "2026/11/28 19:56:42 key %s, password %s, proxy %s\n" % (KEY, PASSWORD, EXTRA_SECRET))
    write(tmp_path / "elsewhere" / "config.toml", 'ExportDelay = "99h"\n')
    (base / "linked").mkdir()
    os.symlink(str(tmp_path / "elsewhere" / "config.toml"), str(base / "linked" / "config.toml"))
    hauser = '%s -c "%s" -c %%s' % (sys.executable, SLEEP)
    supervisord = start_supervisord({
        "hauser-running": {"command": hauser % (base / "running" / "config.toml")},
        "hauser-linked": {"command": hauser % (base / "linked" / "config.toml")},
    })
    left = []
    for config in (base / "running" / "config.toml", base / "ghost" / "config.toml",
                   base / "ghost" / "nested" / "config.toml", tmp_path / "other" / "x" / "config.toml"):
        left.append(subprocess.Popen([sys.executable, "-c", SLEEP, "-c", str(config)]))
    yield supervisord, str(base), str(logs)
    for process in left:
        process.kill()
        process.wait()


def test_each_org_s_hauser_processes_are_counted_and_those_without_a_program_listed(processes, tmp_path):
    supervisord, base, logs = processes
    result, output = run_module(tmp_path, base_dir=base, log_dir=logs, supervisor_config=supervisord.config,
                                secrets=[EXTRA_SECRET])
    assert not result.get("failed"), result
    orgs = {org["org_id"]: org for org in result["orgs"]}
    assert [org["org_id"] for org in result["orgs"]] == ["ghost", "linked", "running"]
    assert (orgs["running"]["state"], orgs["running"]["processes"]) == ("RUNNING", 2)
    assert (orgs["linked"]["state"], orgs["linked"]["processes"]) == ("RUNNING", 1)
    assert orgs["ghost"] == {"org_id": "ghost", "state": "NO PROGRAM", "pid": 0, "uptime": "-", "export_delay": "-",
                             "processes": 1, "last_log_line": "", "export_state": "-", "last_export_end": None,
                             "next_export": None, "consecutive_failures": 0, "stale": False}
    # the config is not read through a link
    assert orgs["linked"]["export_delay"] == "-" and orgs["running"]["export_delay"] == "24h"
    # the log line's secrets: those of the config, and those given
    assert orgs["running"]["last_log_line"] == "2026/11/28 19:56:42 key ********, password ********, proxy ********"
    for secret in (KEY, PASSWORD, EXTRA_SECRET):
        assert secret not in output


def test_the_monitor_s_view_of_each_org_s_export(deployment, tmp_path):
    supervisord, base, logs = deployment
    now = time.time()
    day, hour = 86400.0, 3600.0
    states = States()
    fresh = states.org("running", now - day)  # waiting, its export within its delay and duration
    fresh.state, fresh.last_export_end, fresh.next_export = "waiting", now - 26 * hour, now + hour
    failing = states.org("fatal", now - day)  # retrying, 2 days behind
    failing.state, failing.last_export_end, failing.consecutive_failures = "retrying", now - 2 * day, 9
    new = states.org("exited", now - 60)  # seen a minute ago, never exported
    state_path = tmp_path / "state.json"
    states.save_atomically(str(state_path))
    timing = {"export_delay_seconds": 25 * hour, "export_duration_seconds": 6 * hour, "log": None}
    config = {"version": 1, "state": str(state_path), "textfile": "", "listen": None, "supervisor_config": "",
              "orgs": {"running": timing, "fatal": timing, "exited": timing}}
    (tmp_path / "monitor.json").write_text(json.dumps(config))
    result, _output = run_module(tmp_path, base_dir=base, log_dir=logs, supervisor_config=supervisord.config,
                                 monitor_config=str(tmp_path / "monitor.json"))
    assert not result.get("failed"), result
    orgs = {org["org_id"]: org for org in result["orgs"]}
    seen = dict((org_id, (org["export_state"], org["last_export_end"], org["next_export"],
                          org["consecutive_failures"], org["stale"])) for org_id, org in orgs.items())
    assert seen == {
        "running": ("waiting", fresh.last_export_end, fresh.next_export, 0, False),
        "fatal": ("retrying", failing.last_export_end, None, 9, True),
        "exited": ("starting", None, None, 0, False),
        "stopped": ("-", None, None, 0, False),  # not in the monitor's config
    }
    assert new.first_seen == now - 60


def test_without_a_monitor_config_no_export_is_known(deployment, tmp_path):
    supervisord, base, logs = deployment
    result = run_module(tmp_path, base_dir=base, log_dir=logs, supervisor_config=supervisord.config,
                        monitor_config=str(tmp_path / "missing.json"))[0]
    assert not result.get("failed"), result
    assert set(org["export_state"] for org in result["orgs"]) == {"-"}
