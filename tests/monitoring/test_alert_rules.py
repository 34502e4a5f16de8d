"""The Prometheus alert rules (roles/multi_hauser/templates/alert_rules.yml.j2): promtool accepts them,
they fire and clear as alert_rules_test.yml says (rendered with that file's values), the shipped
roles/multi_hauser/files/alert_rules.yml is the template rendered with the defaults, and the
alert_rules playbook writes exactly that and refuses a threshold of the wrong kind.

promtool comes with Debian's prometheus package: apt-get install -y --no-install-recommends prometheus
"""

import os
import pathlib
import shutil
import subprocess
import sys

import jinja2
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "roles" / "multi_hauser" / "templates" / "alert_rules.yml.j2"
SHIPPED = ROOT / "roles" / "multi_hauser" / "files" / "alert_rules.yml"
UNIT_TESTS = pathlib.Path(__file__).resolve().parent / "alert_rules_test.yml"
PLAYBOOK = ROOT / "playbooks" / "alert_rules.yml"
ROLE_DEFAULTS = ROOT / "roles" / "multi_hauser" / "defaults" / "main.yml"

DEFAULTS = {
    "multi_hauser_alert_stale_margin": 3600,
    "multi_hauser_alert_stale_for": "15m",
    "multi_hauser_alert_down_for": "10m",
    "multi_hauser_alert_retrying_after": 21600,
    "multi_hauser_alert_silent_after": 600,
}
# The values alert_rules_test.yml is written for (its header says the same): none is a default.
CHOSEN = {
    "multi_hauser_alert_stale_margin": 1800,
    "multi_hauser_alert_stale_for": "10m",
    "multi_hauser_alert_down_for": "5m",
    "multi_hauser_alert_retrying_after": 7200,
    "multi_hauser_alert_silent_after": 300,
}
ORG_ALERTS = {"MultiHauserOrgExportStale", "MultiHauserOrgDown", "MultiHauserOrgRetrying"}
ALERTS = ORG_ALERTS | {"MultiHauserMonitorSilent"}


def render(variables):
    """The template as Ansible's template module renders it (trim_blocks, the final newline kept)."""
    environment = jinja2.Environment(trim_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    return environment.from_string(TEMPLATE.read_text()).render(**variables)


@pytest.fixture(name="promtool")
def fixture_promtool():
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: install Debian's prometheus package "
                    "(apt-get install -y --no-install-recommends prometheus)")
    return path


def run(command, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    return done.returncode, done.stdout + done.stderr


def rules(text):
    (group,) = yaml.safe_load(text)["groups"]
    assert group["name"] == "multi_hauser"
    return {rule["alert"]: rule for rule in group["rules"]}


def test_the_shipped_file_is_the_template_rendered_with_the_defaults():
    assert SHIPPED.read_text() == render(DEFAULTS)
    assert render({}) == render(DEFAULTS), "the template's own defaults are not DEFAULTS"


def test_the_role_defaults_of_the_thresholds_are_the_templates():
    role_defaults = yaml.safe_load(ROLE_DEFAULTS.read_text())
    declared = dict((name, role_defaults[name]) for name in DEFAULTS if name in role_defaults)
    assert declared == dict((name, DEFAULTS[name]) for name in declared)


def test_the_thresholds_go_where_they_belong():
    rendered = rules(render(CHOSEN))
    stale = rendered["MultiHauserOrgExportStale"]
    assert stale["expr"].endswith("multi_hauser_org_export_duration_seconds + 1800")
    assert stale["for"] == "10m"
    assert rendered["MultiHauserOrgDown"]["for"] == "5m"
    assert rendered["MultiHauserOrgRetrying"]["expr"].endswith("> 7200")
    assert rendered["MultiHauserMonitorSilent"]["expr"].endswith("> 300")


@pytest.mark.parametrize("variables", [DEFAULTS, CHOSEN], ids=["defaults", "chosen"])
def test_every_alert_says_how_severe_it_is_and_names_its_org(variables):
    rendered = rules(render(variables))
    assert set(rendered) == ALERTS
    for name, rule in rendered.items():
        assert rule["labels"]["severity"] in ("warning", "critical"), name
        assert set(rule["annotations"]) == {"summary", "description"}, name
        subject = "{{ $labels.org }}" if name in ORG_ALERTS else "{{ $labels.instance }}"
        assert subject in rule["annotations"]["summary"] and subject in rule["annotations"]["description"], name


def test_promtool_accepts_the_shipped_file(promtool):
    code, output = run([promtool, "check", "rules", str(SHIPPED)])
    assert code == 0, output
    assert "SUCCESS: 4 rules found" in output


def test_the_alerts_fire_and_clear_as_the_unit_tests_say(promtool, tmp_path):
    (tmp_path / "alert_rules.yml").write_text(render(CHOSEN))
    shutil.copy(UNIT_TESTS, tmp_path)
    code, output = run([promtool, "check", "rules", "alert_rules.yml"], cwd=tmp_path)
    assert code == 0, output
    code, output = run([promtool, "test", "rules", UNIT_TESTS.name], cwd=tmp_path)
    assert code == 0, output
    assert "SUCCESS" in output


@pytest.fixture(name="playbook")
def fixture_playbook(promtool, tmp_path):
    """ansible-playbook alert_rules.yml on this machine, with promtool found first in promtool_dir (the
    real one by default); returns (status, output, the rules file's path)."""
    if os.geteuid() != 0:
        pytest.fail("the playbook writes a file owned by root: run the tests as root")
    path = tmp_path / "rules" / "multi_hauser.yml"
    path.parent.mkdir()

    def play(*extra_vars, promtool_dir=os.path.dirname(promtool)):
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "local"),
                   ANSIBLE_REMOTE_TEMP=str(tmp_path / "remote"), PATH=promtool_dir + os.pathsep + os.environ["PATH"])
        command = [sys.executable, "-m", "ansible", "playbook", str(PLAYBOOK), "-i", "localhost,", "-c", "local",
                   "-e", "multi_hauser_alert_rules_hosts=all", "-e", "multi_hauser_alert_rules_path=%s" % path,
                   "-e", "ansible_become=false", "-e", "ansible_python_interpreter=%s" % sys.executable]
        for extra in extra_vars:
            command += ["-e", extra]
        code, output = run(command, env=env)
        return code, output, path

    return play


@pytest.fixture(name="refusing_promtool")
def fixture_refusing_promtool(tmp_path):
    """A directory holding a promtool that refuses every file."""
    directory = tmp_path / "refusing"
    directory.mkdir()
    script = directory / "promtool"
    script.write_text("#!/bin/sh\necho 'promtool stand-in: refused' >&2\nexit 1\n")
    script.chmod(0o755)
    return str(directory)


def test_the_playbook_writes_the_shipped_file(playbook):
    code, output, path = playbook()
    assert code == 0, output
    assert path.read_text() == SHIPPED.read_text()
    assert path.stat().st_mode & 0o7777 == 0o644


def test_the_playbook_writes_nothing_promtool_refuses_unless_told_not_to_check(playbook, refusing_promtool):
    code, output, path = playbook(promtool_dir=refusing_promtool)
    assert code != 0
    assert "promtool stand-in: refused" in output
    assert not path.exists()
    code, output, path = playbook("multi_hauser_alert_rules_validate=false", promtool_dir=refusing_promtool)
    assert code == 0, output
    assert path.read_text() == SHIPPED.read_text()


@pytest.mark.parametrize("extra, message", [
    ("multi_hauser_alert_rules_path=relative.yml", "multi_hauser_alert_rules_path: give the absolute path"),
    ("multi_hauser_alert_stale_margin=1h", "multi_hauser_alert_stale_margin must be a whole number of seconds, not 1h"),
    ("multi_hauser_alert_down_for=10", "multi_hauser_alert_down_for must be a Prometheus duration such as 10m, not 10"),
])
def test_the_playbook_refuses_a_bad_setting(playbook, extra, message):
    code, output, path = playbook(extra)
    assert code != 0
    assert message in output
    assert not path.exists()
