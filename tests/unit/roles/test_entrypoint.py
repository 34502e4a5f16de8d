"""The image's entrypoint (roles/multi_hauser/files/entrypoint.py), imported with the collection on
sys.path as the image carries it: from its settings.json and a key file to each org's files, and
bad input or a file it cannot write ending it with status 2 and one line naming the variable, the
file and line, or the path. supervisord is never started: os.execve is replaced by a stand-in that
records what would have been started."""

import importlib.util
import json
import os
import pathlib
import pwd
import shutil
import stat

import pytest
import yaml

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import MARKER, host_layout
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.settings import SETTINGS, convert, image_settings

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the entrypoint gives files to another user: root only")

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "multi_hauser"
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
USER = "nobody"
GID = pwd.getpwnam(USER).pw_gid
KEY = "na1.Entry9Pt4Key/abc"
KEY2 = "na1.Entry7Zx2Key/def"


def _load_entrypoint():
    spec = importlib.util.spec_from_file_location("multi_hauser_entrypoint", str(ROLE / "files" / "entrypoint.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


entrypoint = _load_entrypoint()


class Started(Exception):
    """What os.execve would have run."""


class Image:
    """The image's share directory, its directories and a key file, in a scratch directory."""

    def __init__(self, root, monkeypatch):
        self.root = root
        self.share = root / "share"
        self.share.mkdir()
        for name in ("config.toml.j2", "program.conf.j2"):
            shutil.copy(str(ROLE / "templates" / name), str(self.share / name))
        self.base = root / "var" / "base"
        self.programs = root / "conf.d"
        self.logs = root / "logs"
        for path in (self.base.parent, self.programs, self.logs):
            path.mkdir(parents=True)
        self.keyfile = root / "keys.csv"
        self.keyfile.write_text("o-1,%s\no-2,%s\n" % (KEY, KEY2))
        self.settings()
        monkeypatch.setattr(entrypoint, "SHARE_DIR", str(self.share))
        self.started = []

        def execve(path, argv, environ):
            self.started.append((path, argv))
            raise Started(path)

        monkeypatch.setattr(entrypoint.os, "execve", execve)

    def settings(self, **overrides):
        """settings.json as the image build writes it."""
        raw = dict((name[len("multi_hauser_"):], value) for name, value in DEFAULTS.items())
        raw.update(download_url="http://127.0.0.1/hauser", shard_hosts=[], config_template="config.toml.j2",
                   mode="image", gcs_bucket="my-bucket", bigquery_project="p", bigquery_dataset="d", user=USER,
                   base_dir=str(self.base), log_dir=str(self.logs))
        raw.update(overrides)
        settings = convert(raw, names=SETTINGS)
        defaults = image_settings(settings, host_layout(settings))
        defaults["program_dir"] = str(self.programs)
        (self.root / "etc").mkdir(exist_ok=True)
        defaults["monitor_config"] = str(self.root / "etc" / "monitor.json")
        defaults["metrics_dir"] = str(self.root / "run" / "multi-hauser")
        (self.root / "run").mkdir(exist_ok=True)
        (self.share / "settings.json").write_text(json.dumps(defaults))

    def main(self, capsys, environ=None):
        """(exit status or "started", stdout, stderr) of the entrypoint."""
        try:
            status = entrypoint.main(["entrypoint.py", str(self.keyfile)], dict(environ or {}))
        except Started:
            status = "started"
        captured = capsys.readouterr()
        return status, captured.out, captured.err


@pytest.fixture
def image(tmp_path, monkeypatch):
    return Image(tmp_path, monkeypatch)


def owner_and_mode(path):
    info = os.lstat(str(path))
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)


def test_each_org_s_files_are_written_as_for_a_vm_before_supervisord_starts(image, capsys):
    status, out, err = image.main(capsys)
    assert status == "started", err
    assert image.started == [("/usr/bin/supervisord", ["supervisord", "-n", "-c", "/etc/multi-hauser/supervisord.conf"])]
    assert out == "multi-hauser: 2 org(s) from %s; starting supervisord\n" % image.keyfile
    assert owner_and_mode(image.base) == (0, GID, 0o750)
    for org_id, key in (("o-1", KEY), ("o-2", KEY2)):
        assert owner_and_mode(image.base / org_id) == (0, GID, 0o750)
        assert owner_and_mode(image.base / org_id / "tmp") == (pwd.getpwnam(USER).pw_uid, GID, 0o750)
        assert owner_and_mode(image.base / org_id / "config.toml") == (0, GID, 0o640)
        assert key in (image.base / org_id / "config.toml").read_text()
        assert owner_and_mode(image.programs / ("hauser-%s.conf" % org_id)) == (0, 0, 0o600)
    group = (image.programs / "orgs.group.conf").read_text()
    assert group == "; %s\n[group:orgs]\nprograms=hauser-o-1,hauser-o-2\n" % MARKER
    assert owner_and_mode(image.programs / "orgs.group.conf") == (0, 0, 0o644)
    assert KEY not in out + err


def test_a_key_file_header_is_said_on_stdout(image, capsys):
    image.keyfile.write_text("org_id,api_key\no-1,%s\n" % KEY)
    status, out, _err = image.main(capsys)
    assert status == "started"
    assert out.splitlines()[0] == "multi-hauser: %s line 1 names the columns (a CSV header): skipped" % image.keyfile


def test_bad_settings_or_key_files_exit_2_naming_the_variable_or_line_and_no_secret(image, capsys):
    status, _out, err = image.main(capsys, {"MULTI_HAUSER_BACKOFF_STEPS_MAX": "65"})
    assert (status, err) == (2, "multi-hauser: MULTI_HAUSER_BACKOFF_STEPS_MAX is not valid: a whole number from 0 to 64 "
                                "expected\n")
    image.keyfile.write_text("o-1,%s\no-1,%s x\n" % (KEY, KEY2))
    status, _out, err = image.main(capsys)
    assert status == 2 and err.startswith("multi-hauser: %s lines 1 and 2: duplicate org id\n" % image.keyfile)
    assert KEY not in err and KEY2 not in err and image.started == []


def test_a_program_directory_others_may_change_exits_2_naming_it(image, capsys):
    os.chown(str(image.programs), pwd.getpwnam(USER).pw_uid, GID)
    status, _out, err = image.main(capsys)
    assert status == 2
    assert err == ("multi-hauser: %s (on the way to %s) is not owned by root, or others may write in it: root will not "
                   "manage files under it\n" % (image.programs, image.programs))
    assert os.listdir(str(image.programs)) == [] and image.started == []


def test_a_directory_where_a_config_should_be_exits_2_naming_it(image, capsys):
    (image.base / "o-2" / "config.toml" / "inside").mkdir(parents=True)
    status, _out, err = image.main(capsys)
    assert status == 2
    assert err == ("multi-hauser: %s is a directory, where a file of ours should be: remove it\n"
                   % (image.base / "o-2" / "config.toml"))
    assert image.started == []


def test_a_base_directory_that_cannot_be_made_exits_2_naming_the_path(image, capsys):
    image.settings(base_dir=str(image.root / "missing" / "base"))
    status, _out, err = image.main(capsys)
    assert (status, err) == (2, "multi-hauser: %s: No such file or directory\n" % (image.root / "missing"))
    assert image.started == []


def test_the_orgs_of_an_earlier_start_that_are_gone_lose_their_program_and_config(image, capsys):
    assert image.main(capsys)[0] == "started"
    image.keyfile.write_text("o-1,%s\n" % KEY)
    assert image.main(capsys)[0] == "started"
    assert sorted(os.listdir(str(image.programs))) == ["hauser-o-1.conf", "orgs.group.conf"]
    assert not (image.base / "o-2" / "config.toml").exists() and (image.base / "o-2" / "tmp").is_dir()
    assert "programs=hauser-o-1\n" in (image.programs / "orgs.group.conf").read_text()


def test_the_monitor_is_told_each_org_s_timing_and_where_metrics_go(image, capsys):
    image.settings(export_duration="1h", metrics_port=9123, metrics_address="127.0.0.1")
    assert image.main(capsys)[0] == "started"
    path = image.root / "etc" / "monitor.json"
    config = json.loads(path.read_text())
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    run_dir = image.root / "run" / "multi-hauser"
    assert config["listen"] == ["127.0.0.1", 9123] and config["textfile"] == str(run_dir / "multi_hauser.prom")
    # What the metrics server (user nobody) reads: where the metrics are and where to serve them, no org.
    server = run_dir / "metrics-server.json"
    assert owner_and_mode(run_dir) == (0, 0, 0o755) and owner_and_mode(server) == (0, 0, 0o644)
    assert json.loads(server.read_text()) == {"version": 1, "textfile": config["textfile"],
                                              "listen": ["127.0.0.1", 9123]}
    assert config["state"] == str(image.base / ".monitor-state.json")
    assert sorted(config["orgs"]) == ["o-1", "o-2"]
    # the image's programs log to no file: their lines come to the monitor as events
    assert [entry["log"] for entry in config["orgs"].values()] == [None, None]
    assert [entry["export_duration_seconds"] for entry in config["orgs"].values()] == [3600.0, 3600.0]
    delays = sorted(entry["export_delay_seconds"] for entry in config["orgs"].values())
    assert delays == [86400.0, 86400.0 + 600.0]
    assert KEY not in path.read_text()


def test_without_the_monitor_no_monitor_config_is_written(image, capsys):
    image.settings(monitor=False)
    assert image.main(capsys)[0] == "started"
    assert not (image.root / "etc" / "monitor.json").exists()
    assert not (image.root / "run" / "multi-hauser").exists()


def test_a_link_planted_as_the_metrics_directory_is_replaced_not_followed(image, capsys, tmp_path):
    image.settings(metrics_port=9123)
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    (image.root / "run" / "multi-hauser").symlink_to(target)
    assert image.main(capsys)[0] == "started"
    run_dir = image.root / "run" / "multi-hauser"
    assert not run_dir.is_symlink() and owner_and_mode(run_dir) == (0, 0, 0o755)
    assert os.listdir(str(target)) == [] and owner_and_mode(target)[2] == 0o700
