"""multi_hauser_probe, run as a process of its own as Ansible runs it: which paths differ (type,
owner, group, mode, content, link target), which packages dpkg says are not installed, whether the
service user is as it should be, the service's state as systemctl reports it, and the org programs
found with their ExportDelay.

This machine has dpkg-query (Debian) but no systemd as PID 1: the real systemctl answers nothing
here, which the module reports as "unknown". That systemctl's answers are passed through is
checked with a stand-in systemctl first on PATH; how a real systemd answers is not tested here."""

import grp
import hashlib
import json
import os
import pwd
import subprocess
import sys

import pytest

import ansible_collections.hauser.multi_hauser.plugins.modules.multi_hauser_probe as probe
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import MARKER

COLLECTIONS_DIR = os.path.abspath(os.path.join(os.path.dirname(probe.__file__), *[os.pardir] * 5))
MODULE = "ansible_collections.hauser.multi_hauser.plugins.modules.multi_hauser_probe"
KEY = "na1.Zx9Qw8Er7Ty6/probe-key"
NOBODY = pwd.getpwnam("nobody")
NOGROUP = grp.getgrgid(NOBODY.pw_gid).gr_name
NOT_INSTALLED = "mh-surely-not-installed-package"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="files owned by another user need root")


def run_module(tmp_path, path_prefix=None, **args):
    path = tmp_path / "args.json"
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=COLLECTIONS_DIR)
    if path_prefix:
        env["PATH"] = path_prefix + os.pathsep + env["PATH"]
    process = subprocess.run([sys.executable, "-m", MODULE, str(path)], capture_output=True, text=True, env=env,
                             timeout=120, check=False)
    try:
        return json.loads(process.stdout), process.stdout + process.stderr
    except ValueError:
        pytest.fail("the module printed no result (rc %d): %s %s" % (process.returncode, process.stdout, process.stderr))


def make_file(path, content=b"hello\n", owner=NOBODY.pw_uid, group=NOBODY.pw_gid, mode=0o640):
    path.write_bytes(content)
    os.chown(path, owner, group)
    os.chmod(path, mode)
    return str(path)


def make_dir(path, owner=0, group=0, mode=0o755):
    path.mkdir()
    os.chown(path, owner, group)
    os.chmod(path, mode)
    return str(path)


@pytest.fixture
def paths(tmp_path):
    """name -> (what the path should be, whether the module must say it differs)."""
    files = tmp_path / "files"
    files.mkdir()
    digest = hashlib.sha256(b"hello\n").hexdigest()
    good = dict(owner="nobody", group=NOGROUP, mode="0640", sha256=digest)
    f = make_file(files / "file")
    d = make_dir(files / "dir")
    os.symlink("/opt/multi-hauser/1.5.1/hauser", str(files / "link"))
    os.symlink(f, str(files / "link-to-file"))
    cases = {
        "file as it should be": (dict(path=f, **good), False),
        "file, sha256 in upper case": (dict(path=f, **dict(good, sha256=digest.upper())), False),
        "file, nothing but its type asked": (dict(path=f), False),
        "file, other mode": (dict(path=f, **dict(good, mode="0644")), True),
        "file, other owner": (dict(path=f, **dict(good, owner="root")), True),
        "file, other group": (dict(path=f, **dict(good, group="root")), True),
        "file, owner that does not exist": (dict(path=f, **dict(good, owner="mh-no-such-user")), True),
        "file, other content": (dict(path=f, **dict(good, sha256=hashlib.sha256(b"other").hexdigest())), True),
        "file where a directory should be": (dict(path=f, state="directory"), True),
        "file where a link should be": (dict(path=f, state="link", src=f), True),
        "missing file": (dict(path=str(files / "missing")), True),
        "missing directory": (dict(path=str(files / "missing-dir"), state="directory"), True),
        "directory as it should be": (dict(path=d, state="directory", owner="root", group="root", mode="0755"), False),
        "directory, content is not asked of it": (dict(path=d, state="directory", sha256=digest), False),
        "directory, other mode": (dict(path=d, state="directory", mode="0750"), True),
        "directory, other owner": (dict(path=d, state="directory", owner="nobody"), True),
        "directory where a file should be": (dict(path=d), True),
        "link as it should be": (dict(path=str(files / "link"), state="link", src="/opt/multi-hauser/1.5.1/hauser",
                                      owner="root", group="root"), False),
        "link, its mode is not asked": (dict(path=str(files / "link"), state="link", mode="0600"), False),
        "link to another target": (dict(path=str(files / "link"), state="link", src="/opt/multi-hauser/1.5.0/hauser"),
                                   True),
        "link where a file should be, not followed": (dict(path=str(files / "link-to-file"), **good), True),
        "absent, and nothing there": (dict(path=str(files / "missing"), state="absent"), False),
        "absent, but a file there": (dict(path=f, state="absent"), True),
        "absent, but a directory there": (dict(path=d, state="absent"), True),
        "absent, but a link there": (dict(path=str(files / "link"), state="absent"), True),
    }
    return cases


def test_paths_that_differ(tmp_path, paths):
    result = run_module(tmp_path, paths=[case[0] for case in paths.values()])[0]
    assert not result.get("failed"), result
    differing = [expected["path"] for expected, differs in paths.values() if differs]
    assert result["differ"] == differing, {name: case[1] for name, case in paths.items()}
    assert result["changed"] is False


def test_each_path_alone(tmp_path, paths):
    """The same, path by path (a check for the one above: no case depends on another)."""
    for name, (expected, differs) in paths.items():
        assert probe.path_differs(dict({"state": "file"}, **expected)) is differs, name


def test_packages_user_architecture_and_nothing_of_a_config(tmp_path):
    base, programs = tmp_path / "base", tmp_path / "conf.d"
    programs.mkdir()
    result, output = run_module(
        tmp_path, packages=["bash", NOT_INSTALLED, "coreutils"],
        user=dict(name="nobody", group=NOGROUP, home=NOBODY.pw_dir, shell=NOBODY.pw_shell),
        base_dir=str(base), program_dir=str(programs))
    assert not result.get("failed"), result
    assert result["missing_packages"] == [NOT_INSTALLED]
    assert result["user_differs"] is False
    assert result["architecture"] == os.uname().machine
    assert result["programs"] == {} and result["differ"] == []
    assert "service" not in result
    assert KEY not in output


def test_no_packages_asked_none_missing(tmp_path):
    result = run_module(tmp_path, program_dir=str(tmp_path))[0]
    assert result["missing_packages"] == [] and result["user_differs"] is False


@pytest.mark.parametrize("change, differs", [
    ({}, False),
    ({"home": "/var/lib/multi-hauser"}, True),
    ({"shell": "/bin/bash"}, True),
    ({"group": "root"}, True),  # a group that exists but is not the user's primary group
    ({"group": "mh-no-such-group"}, True),
    ({"name": "mh-no-such-user"}, True),
])
def test_user_differs(change, differs):
    expected = dict(name="nobody", group=NOGROUP, home=NOBODY.pw_dir, shell=NOBODY.pw_shell)
    expected.update(change)
    assert probe.user_differs(expected) is differs


def test_programs_found_with_their_export_delay(tmp_path):
    base, programs = tmp_path / "base", tmp_path / "conf.d"
    programs.mkdir()
    for org_id, marked in (("acme", True), ("noconfig", True), ("by-hand", False)):
        (programs / ("hauser-%s.conf" % org_id)).write_text(
            ("; %s\n" % MARKER if marked else "") + "[program:hauser-%s]\ncommand=/bin/true\n" % org_id)
    (programs / "other.conf").write_text("; %s\n[program:other]\ncommand=/bin/true\n" % MARKER)
    for org_id in ("acme", "by-hand"):
        (base / org_id).mkdir(parents=True)
        (base / org_id / "config.toml").write_text('FsApiToken = "%s"\nExportDelay = "24h10m"\n' % KEY)
    result, output = run_module(tmp_path, base_dir=str(base), program_dir=str(programs))
    assert not result.get("failed"), result
    assert result["programs"] == {"acme": "24h10m", "noconfig": None}
    assert KEY not in output


def _systemctl_says(query):
    done = subprocess.run(["systemctl", query, "supervisor"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def test_the_service_state_as_this_machines_systemctl_reports_it(tmp_path):
    result = run_module(tmp_path, service="supervisor", program_dir=str(tmp_path))[0]
    assert not result.get("failed"), result
    assert result["service"] == {"active": _systemctl_says("is-active"), "enabled": _systemctl_says("is-enabled")}
    if not os.path.isdir("/run/systemd/system"):  # no systemd here: systemctl prints nothing on stdout
        assert result["service"] == {"active": "unknown", "enabled": "unknown"}


def test_the_service_state_is_what_systemctl_prints(tmp_path):
    stand_in = tmp_path / "bin"
    stand_in.mkdir()
    calls = tmp_path / "calls"
    script = stand_in / "systemctl"
    script.write_text('#!/bin/sh\necho "$@" >> %s\ncase "$1" in\n  is-active) echo inactive; exit 3 ;;\n'
                      '  is-enabled) echo enabled ;;\nesac\n' % calls)
    script.chmod(0o755)
    result = run_module(tmp_path, path_prefix=str(stand_in), service="supervisor", program_dir=str(tmp_path))[0]
    assert not result.get("failed"), result
    assert result["service"] == {"active": "inactive", "enabled": "enabled"}
    assert calls.read_text().splitlines() == ["is-active supervisor", "is-enabled supervisor"]


def test_a_content_digest_is_never_shown(tmp_path):
    content = b"the content of a credentials file\n"
    digest = hashlib.sha256(content).hexdigest()
    path = make_file(tmp_path / "credentials.json", content=content, mode=0o600)
    result, output = run_module(tmp_path, program_dir=str(tmp_path), paths=[
        dict(path=path, owner="nobody", group=NOGROUP, mode="0600", sha256=digest),
        dict(path=path, sha256=hashlib.sha256(b"other").hexdigest())])
    assert not result.get("failed"), result
    assert result["differ"] == [path]
    assert digest not in output and hashlib.sha256(b"other").hexdigest() not in output
