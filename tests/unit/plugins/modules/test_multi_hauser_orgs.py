"""multi_hauser_orgs against a real supervisord: what a host runs after each task, and what the task
reports.

The module runs as a process of its own, as Ansible runs it: once through `ansible localhost -m
hauser.multi_hauser.multi_hauser_orgs` (the collection found by its name), otherwise directly with
its arguments in a JSON file (the protocol Ansible's wrapper uses, without its seconds of start-up).
The programs are /bin/sleep under supervisord, with startsecs=0 (RUNNING at once) except where the
wait for RUNNING is the point: there startsecs=1, and RUNNING means a program ran for a second."""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time

import pytest

import ansible_collections.hauser.multi_hauser.plugins.modules.multi_hauser_orgs as orgs_module
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import MARKER as LAYOUT_MARKER
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.monitoring import config_text, monitor_config

# .../<collections>/ansible_collections/hauser/multi_hauser/plugins/modules/multi_hauser_orgs.py
COLLECTIONS_DIR = os.path.abspath(os.path.join(os.path.dirname(orgs_module.__file__), *[os.pardir] * 5))
MODULE = "ansible_collections.hauser.multi_hauser.plugins.modules.multi_hauser_orgs"
MARKER = "; " + LAYOUT_MARKER
PREFIX = "hauser-"


def program(org_id, command="/bin/sleep 600", startsecs=0, **options):
    settings = dict(command=command, autostart="true", autorestart="false", startsecs=startsecs,
                    startretries=0, stopwaitsecs=5)
    settings.update(options)
    return "%s\n[program:%s%s]\n%s" % (MARKER, PREFIX, org_id, "".join("%s = %s\n" % item for item in settings.items()))


def org(org_id, config='ExportDelay = "1m"\nFsApiToken = "key-%(org_id)s"\n', **program_options):
    return {"org_id": org_id, "config": config % {"org_id": org_id}, "program": program(org_id, **program_options)}


class Host:
    """The module's view of a host: a supervisord, and the directories the task manages."""

    def __init__(self, supervisord, tmp_path):
        self.supervisord = supervisord
        self.tmp_path = tmp_path
        self.base_dir = str(tmp_path / "base")
        self.runs = 0

    def args(self, orgs, **params):
        args = dict(orgs=orgs, base_dir=self.base_dir, program_dir=self.supervisord.conf_d,
                    owner="root", group="root", supervisor_config=self.supervisord.config)
        args.update(params)
        return args

    def run(self, orgs, check=False, **params):
        """The module's result (a dict; "failed" in it when the task failed)."""
        self.runs += 1
        args = self.args(orgs, **params)
        args["_ansible_check_mode"] = check
        path = self.tmp_path / ("args-%d.json" % self.runs)
        path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        process = subprocess.run([sys.executable, "-m", MODULE, str(path)], capture_output=True, text=True,
                                 env=dict(os.environ, PYTHONPATH=COLLECTIONS_DIR), timeout=120, check=False)
        try:
            return json.loads(process.stdout)
        except ValueError:
            pytest.fail("the module printed no result (rc %d): %s %s" % (process.returncode, process.stdout, process.stderr))

    def run_with_ansible(self, orgs, **params):
        """The same through `ansible localhost -m hauser.multi_hauser.multi_hauser_orgs`. Its result is read
        from ansible.builtin.minimal's `localhost | CHANGED => {...}`: a callback of ansible-core itself
        in every version the collection supports (json is ansible.posix's; tree is deprecated in 2.19)."""
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_DIR, ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
                   ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal", ANSIBLE_LOCALHOST_WARNING="0",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_NOCOLOR="1")
        process = subprocess.run(
            ["ansible", "localhost", "-m", "hauser.multi_hauser.multi_hauser_orgs", "-a", json.dumps(self.args(orgs, **params))],
            capture_output=True, text=True, env=env, cwd=str(self.tmp_path), timeout=120, check=False)
        try:
            host, result = process.stdout.split(" => ", 1)
            assert host.split(" | ")[0].strip() == "localhost", process.stdout
            return json.loads(result)
        except (ValueError, LookupError):
            pytest.fail("ansible gave no result (rc %d): %s %s" % (process.returncode, process.stdout, process.stderr))

    def config_path(self, org_id):
        return os.path.join(self.base_dir, org_id, "config.toml")

    def program_path(self, org_id):
        return os.path.join(self.supervisord.conf_d, "%s%s.conf" % (PREFIX, org_id))

    def states(self):
        return {name[len(PREFIX):]: state for name, state in self.supervisord.states().items()}

    def pids(self):
        return {name[len(PREFIX):]: pid for name, pid in self.supervisord.pids().items()}

    def running(self):
        """org -> pid of every org whose program is RUNNING; fails naming any other."""
        states = self.states()
        assert set(states.values()) <= {"RUNNING"}, states
        return self.pids()


@pytest.fixture
def host(start_supervisord, tmp_path):
    return Host(start_supervisord(), tmp_path)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _text(warning):
    """A warning's text: ansible-core 2.19 returns a module's warnings as structured events."""
    return warning if isinstance(warning, str) else warning["event"]["msg"]


def _environment(pid):
    with open("/proc/%d/environ" % pid, "rb") as handle:
        return dict(item.split("=", 1) for item in handle.read().decode().split("\0") if "=" in item)


def test_added_orgs_run_when_the_task_returns_and_a_second_run_changes_nothing(host):
    orgs = [org("acme", startsecs=1), org("globex", startsecs=1), org("initech", startsecs=1)]
    result = host.run_with_ansible(orgs)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["added"] == ["acme", "globex", "initech"]
    # RUNNING (past startsecs), not merely STARTING, when the task is over
    assert host.states() == {"acme": "RUNNING", "globex": "RUNNING", "initech": "RUNNING"}
    pids = host.running()
    for item in orgs:
        with open(host.config_path(item["org_id"])) as handle:
            assert handle.read() == item["config"]
        with open(host.program_path(item["org_id"])) as handle:
            assert handle.read() == item["program"]

    again = host.run(orgs)
    assert not again.get("failed"), again
    assert again["changed"] is False
    assert (again["added"], again["restarted"], again["removed"], again["started"]) == ([], [], [], [])
    assert again["unchanged"] == 3
    assert again["existing"] == ["acme", "globex", "initech"]
    assert host.running() == pids


def test_a_changed_config_restarts_that_org_alone(host):
    orgs = [org("acme"), org("globex"), org("initech")]
    assert host.run(orgs)["added"] == ["acme", "globex", "initech"]
    before = host.running()

    orgs[1] = org("globex", config='ExportDelay = "5m"\nFsApiToken = "a-new-key"\n')
    result = host.run(orgs)
    assert not result.get("failed"), result
    assert result["changed"] is True and result["restarted"] == ["globex"] and result["added"] == []
    assert result["delays"] == {"acme": "1m", "globex": "1m", "initech": "1m"}  # as they were before
    after = host.running()
    assert after["globex"] != before["globex"]
    assert {name: pid for name, pid in after.items() if name != "globex"} == \
        {name: pid for name, pid in before.items() if name != "globex"}
    with open(host.config_path("globex")) as handle:
        assert "a-new-key" in handle.read()


def test_a_changed_program_restarts_that_org_alone_with_the_new_program(host):
    orgs = [org("acme", environment='COLOUR="red"'), org("globex", environment='COLOUR="red"'),
            org("initech", environment='COLOUR="red"')]
    host.run(orgs)
    before = host.running()
    assert _environment(before["acme"])["COLOUR"] == "red"

    orgs[0] = org("acme", environment='COLOUR="blue"')
    result = host.run(orgs)
    assert not result.get("failed"), result
    assert result["restarted"] == ["acme"]
    after = host.running()
    assert after["acme"] != before["acme"]
    assert _environment(after["acme"])["COLOUR"] == "blue"  # supervisord took the new program
    assert (after["globex"], after["initech"]) == (before["globex"], before["initech"])


def test_restart_all_restarts_every_org(host):
    orgs = [org("acme"), org("globex")]
    host.run(orgs)
    before = host.running()
    result = host.run(orgs, restart_all=True)
    assert not result.get("failed"), result
    assert result["restarted"] == ["acme", "globex"]
    after = host.running()
    assert after["acme"] != before["acme"] and after["globex"] != before["globex"]


def test_a_removed_org_goes_and_its_working_directory_stays(host):
    orgs = [org("acme"), org("globex"), org("initech")]
    host.run(orgs)
    before = host.running()

    result = host.run([orgs[0], orgs[2]])
    assert not result.get("failed"), result
    assert result["changed"] is True and result["removed"] == ["globex"]
    assert sorted(host.states()) == ["acme", "initech"]
    assert not _alive(before["globex"])
    assert not os.path.exists(host.program_path("globex"))
    assert not os.path.exists(host.config_path("globex"))  # it holds the key
    assert os.path.isdir(os.path.join(host.base_dir, "globex"))
    assert host.running() == {"acme": before["acme"], "initech": before["initech"]}

    # stage=stop keeps the orgs listed in keep, and removes every other
    result = host.run(None, stage="stop", keep=["initech"])
    assert not result.get("failed"), result
    assert result["removed"] == ["acme"] and result["added"] == [] and result["restarted"] == []
    assert host.running() == {"initech": before["initech"]}
    assert not os.path.exists(host.program_path("acme"))
    assert os.path.exists(host.program_path("initech")) and os.path.exists(host.config_path("initech"))


def test_an_org_that_cannot_start_fails_the_task_by_name(host):
    orgs = [org("acme", startsecs=1), org("broken", command="/bin/false", startsecs=1), org("initech", startsecs=1)]
    result = host.run(orgs)
    assert result.get("failed") is True
    assert "FATAL" in result["msg"]
    assert re.search(r"\bbroken\b", result["msg"]), result["msg"]
    assert "acme" not in result["msg"] and "initech" not in result["msg"]
    states = host.states()
    assert states == {"acme": "RUNNING", "broken": "FATAL", "initech": "RUNNING"}


def _with_a_missing_command(host):
    return host.run([org("acme", startsecs=1), org("nobin", command="/nonexistent/hauser", startsecs=1),
                     org("initech", startsecs=1)])


def test_an_org_whose_command_is_missing_fails_the_task_by_name(host):
    result = _with_a_missing_command(host)
    assert result.get("failed") is True
    assert re.search(r"\bnobin\b", result["msg"]) and "/nonexistent/hauser" in result["msg"], result["msg"]
    assert "acme" not in result["msg"] and "initech" not in result["msg"]
    assert host.states()["nobin"] == "FATAL"


def test_an_org_whose_command_is_missing_does_not_hide_the_others(host):
    result = host.run([org("acme", startsecs=1), org("nobin", command="/nonexistent/hauser", startsecs=1),
                       org("broken", command="/bin/false", startsecs=1)])
    assert result.get("failed") is True
    assert re.search(r"\bnobin\b", result["msg"]) and re.search(r"\bbroken\b", result["msg"]), result["msg"]
    assert host.states() == {"acme": "RUNNING", "nobin": "FATAL", "broken": "FATAL"}


def test_an_org_still_starting_at_the_timeout_is_a_warning(host):
    orgs = [org("acme"), org("slow", startsecs=30)]
    result = host.run(orgs, start_timeout=1)
    assert not result.get("failed"), result
    assert result["added"] == ["acme", "slow"]
    warnings = [_text(warning) for warning in result.get("warnings", [])]
    assert len(warnings) == 1 and "not yet RUNNING" in warnings[0], warnings
    assert re.search(r"\bslow\b", warnings[0]) and "acme" not in warnings[0], warnings
    assert host.states() == {"acme": "RUNNING", "slow": "STARTING"}


def test_a_program_stopped_by_hand_is_started_again(host):
    orgs = [org("acme"), org("globex")]
    host.run(orgs)
    before = host.running()
    stop = host.supervisord.supervisorctl("stop", PREFIX + "acme")
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert host.states()["acme"] == "STOPPED"

    result = host.run(orgs)
    assert not result.get("failed"), result
    assert result["changed"] is True and result["started"] == ["acme"] and result["restarted"] == []
    after = host.running()
    assert after["globex"] == before["globex"] and after["acme"] != before["acme"]


def test_a_program_removed_from_supervisord_by_hand_is_added_again(host):
    orgs = [org("acme"), org("globex")]
    host.run(orgs)
    before = host.running()
    for command in ("stop", "remove"):
        done = host.supervisord.supervisorctl(command, PREFIX + "acme")
        assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(host.states()) == ["globex"]

    result = host.run(orgs)
    assert not result.get("failed"), result
    assert result["changed"] is True and result["started"] == ["acme"]
    after = host.running()
    assert sorted(after) == ["acme", "globex"] and after["globex"] == before["globex"]


def test_after_a_stop_timeout_the_next_run_finishes_the_job(host):
    # acme ignores SIGTERM: supervisord kills it only after stopwaitsecs
    stubborn = dict(command="/bin/sh -c \"trap '' TERM; exec /bin/sleep 600\"", stopwaitsecs=2)
    host.run([org("acme", environment='COLOUR="red"', **stubborn)])
    old_pid = host.running()["acme"]

    orgs = [org("acme", environment='COLOUR="blue"', **stubborn), org("newco")]
    result = host.run(orgs, stop_timeout=1)
    assert result.get("failed") is True
    assert "still stopping" in result["msg"] and "acme" in result["msg"], result["msg"]
    host.supervisord.wait_until(lambda infos: infos[PREFIX + "acme"]["statename"] == "STOPPED",
                                what="supervisord killing acme")

    # the files were written by the failed run; supervisord must still get the new program and org
    result = host.run(orgs)
    assert not result.get("failed"), result
    after = host.running()
    assert sorted(after) == ["acme", "newco"]
    assert after["acme"] != old_pid and _environment(after["acme"])["COLOUR"] == "blue"


def test_the_diff_shows_no_key(host):
    host.run([org("acme")])
    result = host.run([org("acme", config='ExportDelay = "2m"\nFsApiToken = "the-new-key"\nOther = "the-old-key"\n')],
                      _ansible_diff=True, secrets=["the-new-key", "the-old-key"])
    assert not result.get("failed"), result
    [diff] = result["diff"]
    assert diff["before_header"] == host.config_path("acme")
    assert 'ExportDelay = "2m"' in diff["after"] and 'ExportDelay = "1m"' in diff["before"]
    shown = json.dumps(result)
    assert "key-acme" not in shown and "the-new-key" not in shown and "the-old-key" not in shown
    with open(host.config_path("acme")) as handle:
        assert "the-new-key" in handle.read()


def test_check_mode_reports_and_changes_nothing(host):
    orgs = [org("acme"), org("globex")]
    host.run(orgs)
    before = host.running()
    files_before = {path: open(path).read() for path in (host.config_path("acme"), host.config_path("globex"))}
    program_files = sorted(os.listdir(host.supervisord.conf_d))

    changed = [org("acme", config='ExportDelay = "9m"\n'), org("globex"), org("newco")]
    result = host.run(changed, check=True)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["restarted"] == ["acme"] and result["added"] == ["newco"]
    assert host.running() == before
    assert {path: open(path).read() for path in files_before} == files_before
    assert sorted(os.listdir(host.supervisord.conf_d)) == program_files
    assert not os.path.exists(os.path.join(host.base_dir, "newco"))

    result = host.run([org("acme")], check=True)
    assert result["removed"] == ["globex"]
    assert host.running() == before and os.path.exists(host.config_path("globex"))


def test_many_orgs_at_once(host):
    orgs = [org("org%02d" % number, startsecs=1) for number in range(40)]
    result = host.run(orgs)
    assert not result.get("failed"), result
    assert result["added"] == sorted(item["org_id"] for item in orgs)
    pids = host.running()
    assert len(pids) == 40

    result = host.run(orgs[:10])
    assert not result.get("failed"), result
    assert result["removed"] == ["org%02d" % number for number in range(10, 40)]
    assert host.running() == {name: pid for name, pid in pids.items() if name < "org10"}
    assert len(os.listdir(host.supervisord.conf_d)) == 10
    assert not any(_alive(pid) for name, pid in pids.items() if name >= "org10")


@pytest.mark.parametrize("args, message", [
    ({"stage": "all"}, "stage is all but all of the following are missing: orgs"),
    ({"stage": "stop"}, "stage is stop but all of the following are missing: keep"),
    ({"orgs": [{"org_id": "o-1", "config": 'FsApiToken = "na1.invalid-args-key"'}]}, "program"),
])
def test_invalid_arguments_fail_clearly_and_show_no_key(tmp_path, args, message):
    params = dict(base_dir=str(tmp_path), program_dir=str(tmp_path),
                  owner="root", group="root", secrets=["na1.invalid-args-key"], **args)
    path = tmp_path / "args.json"
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": params}))
    process = subprocess.run([sys.executable, "-m", MODULE, str(path)], capture_output=True, text=True,
                             env=dict(os.environ, PYTHONPATH=COLLECTIONS_DIR), timeout=120, check=False)
    result = json.loads(process.stdout)
    assert result.get("failed") and message in result["msg"]
    assert "na1.invalid-args-key" not in process.stdout + process.stderr


# --- the monitor's listener, kept in the same round trip -------------------------------------

MONITOR = "multi-hauser-monitor"
CORE_DIR = os.path.join(COLLECTIONS_DIR, "ansible_collections", "hauser", "multi_hauser", "plugins", "module_utils", "core")
LISTENER_SCRIPT = os.path.join(COLLECTIONS_DIR, "ansible_collections", "hauser", "multi_hauser", "roles", "multi_hauser",
                               "files", "monitor.py")


class MonitoredHost(Host):
    """A host with the monitor's code installed as the role installs it, and its files."""

    def __init__(self, supervisord, tmp_path):
        super().__init__(supervisord, tmp_path)
        self.lib = tmp_path / "lib"
        core = self.lib / "ansible_collections" / "hauser" / "multi_hauser" / "plugins" / "module_utils" / "core"
        core.mkdir(parents=True)
        for name in os.listdir(CORE_DIR):
            if name.endswith(".py"):
                shutil.copy(os.path.join(CORE_DIR, name), str(core / name))
        shutil.copy(LISTENER_SCRIPT, str(self.lib / "monitor.py"))
        self.etc_dir = str(tmp_path / "etc")
        self.textfile_dir = tmp_path / "node_exporter"
        self.textfile_dir.mkdir()
        self.monitor_json = os.path.join(self.etc_dir, "monitor.json")
        self.monitor_conf = os.path.join(supervisord.conf_d, MONITOR + ".conf")

    def monitor_program(self, **options):
        settings = dict(command="/usr/bin/python3 %s/monitor.py %s" % (self.lib, self.monitor_json),
                        events="PROCESS_STATE,TICK_5", buffer_size=1024, autostart="true", autorestart="true",
                        startsecs=1, stderr_logfile=str(self.tmp_path / "monitor.err"))
        settings.update(options)
        return "%s\n[eventlistener:%s]\n%s" % (MARKER, MONITOR, "".join("%s = %s\n" % item for item in settings.items()))

    def monitor_config(self, org_ids):
        orgs = [{"org_id": org_id, "export_delay": "24h"} for org_id in org_ids]
        settings = {"mode": "vm", "base_dir": self.base_dir, "log_dir": self.supervisord.logs, "export_duration": "6h",
                    "metrics_textfile_dir": str(self.textfile_dir)}
        return config_text(monitor_config(orgs, settings, self.supervisord.config))

    def run_monitored(self, orgs, program=None, config=None, **params):
        return self.run(orgs, etc_dir=self.etc_dir,
                        monitor_program=self.monitor_program() if program is None else program,
                        monitor_config=self.monitor_config([item["org_id"] for item in orgs]) if config is None
                        else config, **params)

    def listener(self):
        """The listener's (statename, pid), or None when supervisord has no such program."""
        info = self.supervisord.infos().get(MONITOR)
        return (info["statename"], info["pid"]) if info else None

    def org_pids(self):
        return {name[len(PREFIX):]: pid for name, pid in self.supervisord.pids().items() if name.startswith(PREFIX)}

    def metrics_orgs(self):
        with open(str(self.textfile_dir / "multi_hauser.prom")) as handle:
            return sorted(set(re.findall(r'org="([^"]+)"', handle.read())))


@pytest.fixture
def monitored(start_supervisord, tmp_path):
    return MonitoredHost(start_supervisord(), tmp_path)


def _owner_and_mode(path):
    info = os.lstat(path)
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)


def _wait_for(condition, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("%s did not happen within %d s" % (what, timeout))
        time.sleep(0.2)


def _metrics_orgs_are(host, org_ids):
    def holds():
        try:
            return host.metrics_orgs() == org_ids
        except OSError:
            return False
    return holds


def test_the_monitor_is_added_with_the_orgs_and_a_second_run_changes_nothing(monitored):
    orgs = [org("acme"), org("globex")]
    result = monitored.run_monitored(orgs)
    assert not result.get("failed"), result
    assert (result["changed"], result["monitor"], result["added"]) == (True, "added", ["acme", "globex"])
    state, pid = monitored.listener()
    assert state == "RUNNING"
    assert _owner_and_mode(monitored.monitor_conf) == (0, 0, 0o644)
    assert _owner_and_mode(monitored.monitor_json) == (0, 0, 0o640)
    with open(monitored.monitor_json) as handle:
        assert handle.read() == monitored.monitor_config(["acme", "globex"])
    # the listener runs the real monitor: it reads that config, and writes the orgs' metrics
    _wait_for(_metrics_orgs_are(monitored, ["acme", "globex"]), "the metrics of both orgs")
    org_pids = monitored.org_pids()

    again = monitored.run_monitored(orgs)
    assert not again.get("failed"), again
    assert (again["changed"], again["monitor"]) == (False, "unchanged")
    assert monitored.listener() == ("RUNNING", pid)
    assert monitored.org_pids() == org_pids


def test_a_monitor_config_given_as_a_mapping_is_written_as_its_json_text(monitored):
    # ansible-core < 2.19 hands the module the filter's JSON text as a mapping (a template's result
    # that looks like a dict is read as one): the same file, and then nothing to change.
    orgs = [org("acme"), org("globex")]
    text = monitored.monitor_config(["acme", "globex"])
    result = monitored.run_monitored(orgs, config=json.loads(text))
    assert not result.get("failed"), result
    with open(monitored.monitor_json) as handle:
        assert handle.read() == text
    again = monitored.run_monitored(orgs, config=text)
    assert not again.get("failed"), again
    assert (again["changed"], again["monitor"]) == (False, "unchanged")


def test_a_monitor_config_of_another_kind_fails(monitored):
    result = monitored.run_monitored([org("acme")], config=["not", "a", "config"])
    assert result.get("failed") and "monitor_config must be" in result["msg"], result
    assert not os.path.exists(monitored.monitor_json)


def test_a_changed_monitor_program_restarts_the_listener_alone(monitored):
    orgs = [org("acme"), org("globex")]
    monitored.run_monitored(orgs)
    _state, pid = monitored.listener()
    org_pids = monitored.org_pids()

    result = monitored.run_monitored(orgs, program=monitored.monitor_program(buffer_size=2048))
    assert not result.get("failed"), result
    assert (result["changed"], result["monitor"], result["restarted"]) == (True, "restarted", [])
    state, new_pid = monitored.listener()
    assert state == "RUNNING" and new_pid != pid
    assert monitored.org_pids() == org_pids
    with open(monitored.monitor_conf) as handle:
        assert "buffer_size = 2048" in handle.read()


def test_a_changed_monitor_config_alone_is_rewritten_and_read_without_a_restart(monitored):
    orgs = [org("acme"), org("globex")]
    monitored.run_monitored(orgs)
    listener = monitored.listener()
    org_pids = monitored.org_pids()
    _wait_for(_metrics_orgs_are(monitored, ["acme", "globex"]), "the metrics of both orgs")

    # a config that changes, the orgs' files alone unchanged (a new ExportDelay of the org planned elsewhere)
    config = monitored.monitor_config(["acme"])
    result = monitored.run_monitored(orgs, config=config)
    assert not result.get("failed"), result
    assert (result["changed"], result["monitor"], result["restarted"]) == (True, "unchanged", [])
    with open(monitored.monitor_json) as handle:
        assert handle.read() == config
    assert _owner_and_mode(monitored.monitor_json) == (0, 0, 0o640)
    assert monitored.listener() == listener
    assert monitored.org_pids() == org_pids
    _wait_for(_metrics_orgs_are(monitored, ["acme"]), "the listener taking the new config")


def test_a_stopped_listener_is_started(monitored):
    orgs = [org("acme")]
    monitored.run_monitored(orgs)
    _state, pid = monitored.listener()
    stop = monitored.supervisord.supervisorctl("stop", MONITOR)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert monitored.listener()[0] == "STOPPED"

    result = monitored.run_monitored(orgs)
    assert not result.get("failed"), result
    assert (result["changed"], result["monitor"], result["started"]) == (True, "started", [])
    state, new_pid = monitored.listener()
    assert state == "RUNNING" and new_pid != pid


def test_an_empty_monitor_program_removes_the_listener_and_its_files(monitored):
    orgs = [org("acme")]
    monitored.run_monitored(orgs)
    _state, pid = monitored.listener()
    org_pids = monitored.org_pids()

    result = monitored.run_monitored(orgs, program="", config="")
    assert not result.get("failed"), result
    assert (result["changed"], result["monitor"], result["removed"]) == (True, "removed", [])
    assert monitored.listener() is None  # its group is gone from supervisord
    assert not _alive(pid)
    assert not os.path.exists(monitored.monitor_conf) and not os.path.exists(monitored.monitor_json)
    assert monitored.org_pids() == org_pids

    again = monitored.run_monitored(orgs, program="", config="")
    assert (again["changed"], again["monitor"]) == (False, "unchanged")


def test_check_mode_changes_nothing_of_the_monitor(monitored):
    orgs = [org("acme")]
    fresh = monitored.run_monitored(orgs, check=True)
    assert not fresh.get("failed"), fresh
    assert (fresh["changed"], fresh["monitor"]) == (True, "added")
    assert monitored.listener() is None
    assert not os.path.exists(monitored.monitor_conf) and not os.path.exists(monitored.etc_dir)

    monitored.run_monitored(orgs)
    listener = monitored.listener()
    files = {path: open(path).read() for path in (monitored.monitor_conf, monitored.monitor_json)}
    for program, config, outcome in ((monitored.monitor_program(buffer_size=2048), None, "restarted"),
                                     (None, monitored.monitor_config([]), "unchanged"),
                                     ("", "", "removed")):
        result = monitored.run_monitored(orgs, program=program, config=config, check=True)
        assert not result.get("failed"), result
        assert (result["changed"], result["monitor"]) == (True, outcome)
        assert monitored.listener() == listener
        assert {path: open(path).read() for path in files} == files


def test_stage_stop_leaves_the_monitor_alone(monitored):
    orgs = [org("acme"), org("globex")]
    monitored.run_monitored(orgs)
    listener = monitored.listener()
    files = {path: open(path).read() for path in (monitored.monitor_conf, monitored.monitor_json)}

    result = monitored.run(None, stage="stop", keep=["acme"], etc_dir=monitored.etc_dir)
    assert not result.get("failed"), result
    assert (result["removed"], result["monitor"]) == (["globex"], "unchanged")
    assert monitored.listener() == listener
    assert {path: open(path).read() for path in files} == files
