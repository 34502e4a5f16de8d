"""multi_hauser_plan through the collection's plan playbook, in a real ansible-playbook run against
an inventory whose hosts cannot be reached: the plan is made on the controller alone, once, from a
key file read once, and shows no key."""

import json
import re
import shutil
import subprocess

import pytest

from conftest import with_role_defaults

KEYS = {"o-AAA111-na1": "na1.Kq7Ww2Ee9Rr4", "o-BBB222-na1": "na1.Tt5Yy8Uu1Ii3", "o-CCC333-eu1": "na1.Oo6Pp0Aa2Ss7",
        "o-DDD444-na1": "na1.Dd3Ff8Gg5Hh1", "o-EEE555-na1": "na1.Jj9Kk4Ll6Zz0"}
LINE = re.compile(r'"(o-\S+)\s+(\S+)\s+(\S+)"')


def unreachable(*hosts, **host_vars):
    """An inventory of hosts whose SSH port nothing listens on: any contact would fail the run."""
    return {"multi_hauser": {"hosts": dict(
        (host, dict({"ansible_host": "127.0.0.1", "ansible_port": 9, "ansible_connection": "ssh"},
                    **host_vars.get(host, {}))) for host in hosts)}}


def write_keys(tmp_path):
    path = tmp_path / "keys.csv"
    path.write_text("".join("%s,%s\n" % item for item in KEYS.items()))
    return path


def plan_lines(run):
    assert run.rc == 0, run.output[-3000:]
    return [match.groups() for match in LINE.finditer(run.stdout)]


def test_the_plan_names_each_org_s_host_and_delay_without_contacting_a_host(playbook, tmp_path):
    keys = write_keys(tmp_path)
    run = playbook("hauser.multi_hauser.plan", inventory=unreachable("vm-1", "vm-2", "vm-3"),
                   extra_vars={"multi_hauser_keyfile": str(keys)})
    lines = plan_lines(run)
    assert [org for org, _host, _delay in lines] == list(KEYS)  # key-file order
    hosts = dict((org, host) for org, host, _delay in lines)
    assert set(hosts.values()) <= {"vm-1", "vm-2", "vm-3"}
    # each host staggers its own orgs in key-file order, from 24h in steps of 10m
    for host in set(hosts.values()):
        delays = [delay for _org, on, delay in lines if on == host]
        assert delays == ["24h", "24h10m", "24h20m", "24h30m", "24h40m"][:len(delays)]
    assert "as a fresh deploy staggers it" in run.stdout
    assert "unreachable=0" in run.stdout and "UNREACHABLE" not in run.stdout
    for key in KEYS.values():
        assert key not in run.output


def test_a_pin_and_a_weight_show_in_the_plan(playbook, tmp_path):
    keys = write_keys(tmp_path)
    inventory = unreachable("vm-1", "vm-2", **{"vm-2": {"multi_hauser_shard_weight": 0}})
    inventory["multi_hauser"]["vars"] = {"multi_hauser_pins": {"o-CCC333-eu1": "vm-2"}}
    lines = plan_lines(playbook("hauser.multi_hauser.plan", inventory=inventory,
                                extra_vars={"multi_hauser_keyfile": str(keys)}))
    assert dict((org, host) for org, host, _delay in lines) == dict(
        (org, "vm-2" if org == "o-CCC333-eu1" else "vm-1") for org in KEYS)


def test_a_bad_key_file_fails_naming_file_and_lines_and_no_key(playbook, tmp_path):
    keys = tmp_path / "bad.csv"
    keys.write_text("o-AAA111-na1,na1.Kq7Ww2Ee9Rr4\no-AAA111-na1,na1.Tt5Yy8Uu1Ii3\n../etc,na1.Oo6Pp0Aa2Ss7\n")
    run = playbook("hauser.multi_hauser.plan", inventory=unreachable("vm-1"),
                   options=["-vvv"], extra_vars={"multi_hauser_keyfile": str(keys)})
    assert run.rc != 0
    assert "%s lines 1 and 2: duplicate org id" % keys in run.stdout
    assert "%s line 3: org id has a character outside" % keys in run.stdout
    for key in ("Kq7Ww2Ee9Rr4", "Tt5Yy8Uu1Ii3", "Oo6Pp0Aa2Ss7"):
        assert key not in run.output


def test_a_vault_encrypted_key_file_is_decrypted(playbook, tmp_path):
    keys = write_keys(tmp_path)
    password = tmp_path / "vault-password"
    password.write_text("a vault password for the tests\n")
    subprocess.run(["ansible-vault", "encrypt", "--vault-password-file", str(password), str(keys)],
                   check=True, capture_output=True)
    assert "Kq7Ww2Ee9Rr4" not in keys.read_text()
    lines = plan_lines(playbook("hauser.multi_hauser.plan", inventory=unreachable("vm-1"),
                                options=["--vault-password-file", str(password)],
                                extra_vars={"multi_hauser_keyfile": str(keys)}))
    assert [org for org, _host, _delay in lines] == list(KEYS)


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed (the harness installs it)")
def test_the_key_file_is_opened_once_however_many_hosts(playbook, tmp_path):
    keys = write_keys(tmp_path)
    trace = tmp_path / "trace"
    hosts = ["vm-%d" % number for number in range(1, 21)]
    run = playbook("hauser.multi_hauser.plan", inventory=unreachable(*hosts),
                   extra_vars={"multi_hauser_keyfile": str(keys)},
                   prefix=["strace", "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", str(trace)])
    assert len(set(host for _org, host, _delay in plan_lines(run))) > 1
    opened = [line for line in trace.read_text().splitlines() if '"%s"' % keys in line and "ENOENT" not in line]
    assert len(opened) == 1, opened


def test_the_deploy_s_plan_renders_each_host_s_files_and_shows_none(playbook, tmp_path):
    """The plan action as the deploy calls it (render), for hosts found running orgs: sticky
    delays, what each host gives up, and files that hold the keys, in a result never shown."""
    keys = write_keys(tmp_path)
    tasks = [
        {"hauser.multi_hauser.multi_hauser_settings": {}, "register": "__multi_hauser_settings"},
        {"hauser.multi_hauser.multi_hauser_plan": {
            "found": {"localhost": {"o-BBB222-na1": "24h30m", "o-ZZZ999-na1": "24h"}},
            "program_template": "{{ role_path }}/templates/program.conf.j2"},
         "run_once": True, "register": "plan"},
        {"ansible.builtin.assert": {"that": [
            "plan.plan.hosts.localhost.stop == ['o-ZZZ999-na1']",
            "plan.plan.hosts.localhost.orgs | selectattr('org_id', 'equalto', 'o-BBB222-na1')"
            " | map(attribute='export_delay') | first == '24h30m'",
            "plan.files.localhost | map(attribute='org_id') | list == %r" % list(KEYS),
            "'na1.Kq7Ww2Ee9Rr4' in plan.files.localhost[0].config",
            "plan.files.localhost[0].program is search('command=/opt/multi-hauser/1.5.1/hauser -c "
            "/var/lib/multi-hauser/o-AAA111-na1/config.toml')",
        ]}},
    ]
    run = playbook(with_role_defaults(tasks), options=["-vvv"], extra_vars={
        "multi_hauser_keyfile": str(keys), "multi_hauser_provider": "local", "multi_hauser_local_save_dir": "/srv/x"})
    assert run.rc == 0, run.output[-3000:]
    for key in KEYS.values():
        assert key not in run.output


def test_a_csv_header_is_skipped_and_said_in_a_warning(playbook, tmp_path):
    keys = tmp_path / "keys.csv"
    keys.write_text("org_id,api_key\n" + "".join("%s,%s\n" % item for item in KEYS.items()))
    run = playbook("hauser.multi_hauser.plan", inventory=unreachable("vm-1"), extra_vars={"multi_hauser_keyfile": str(keys)})
    assert [org for org, _host, _delay in plan_lines(run)] == list(KEYS)
    # Compared without whitespace: ansible-core < 2.19 wraps a warning at 80 columns, at a space or
    # after a hyphen (of the path too).
    warning = "[WARNING]: %s line 1 names the columns (a CSV header): skipped" % keys
    assert "".join(warning.split()) in "".join(run.output.split()), run.output[-3000:]


def test_a_key_file_that_is_missing_or_too_large_fails_before_it_is_read(playbook, tmp_path):
    large = tmp_path / "large.csv"
    with open(str(large), "wb") as handle:
        handle.truncate(3 * 16 * 1024 * 1024 + 1)  # sparse: larger than a key file may be, yet nothing to read
    tasks = []
    for index, path in enumerate((tmp_path / "missing.csv", large)):
        tasks += [
            {"hauser.multi_hauser.multi_hauser_settings": {"purpose": "plan"}, "register": "__multi_hauser_settings",
             "vars": {"multi_hauser_keyfile": str(path)}},
            {"hauser.multi_hauser.multi_hauser_plan": {"render": False}, "register": "plan_%d" % index,
             "ignore_errors": True},
        ]
    tasks.append({"ansible.builtin.copy": {"content": "{{ [plan_0.msg, plan_1.msg] | to_json }}",
                                           "dest": str(tmp_path / "messages.json")}})
    run = playbook(with_role_defaults(tasks))
    assert run.rc == 0, run.output[-3000:]
    assert json.loads((tmp_path / "messages.json").read_text()) == [
        "cannot find %s on the controller" % (tmp_path / "missing.csv"),
        "%s on the controller: larger than a key file or template may be" % large]
