"""Releases built broken on purpose (build.py --broken), for rollback tests: packaged exactly like
good ones, reproducible, and failing the way their kind says."""

import hashlib
import io
import re
import subprocess
import sys
import tarfile
import zipfile

import pytest

from test_hauser_standin import LOG_LINE, RUNNING, clean_env, gcp_config, render

BROKEN = {"1.6.1": "version", "1.6.2": "start", "1.6.3": "wrong-version"}


@pytest.fixture(scope="module")
def broken_dir(tmp_path_factory, build_module):
    directory = tmp_path_factory.mktemp("broken")
    for version, kind in BROKEN.items():
        build_module.build_release(version, directory, broken=kind)
    return directory


@pytest.fixture(scope="module")
def broken(broken_dir, build_module, tmp_path_factory):
    """version -> the `hauser` unpacked from that broken release's archive."""
    root = tmp_path_factory.mktemp("broken-installed")
    programs = {}
    for version in BROKEN:
        with tarfile.open(broken_dir / build_module.archive_name(version)) as archive:
            archive.extract("hauser", root / version, filter="data")
        programs[version] = root / version / "hauser"
    return programs


def run(program, *args, cwd=None):
    return subprocess.run([str(program), *args], capture_output=True, text=True, cwd=cwd,
                          env=clean_env(), timeout=10, check=False)


@pytest.mark.parametrize("version", sorted(BROKEN))
def test_a_broken_release_is_packaged_like_a_good_one(broken_dir, build_module, version):
    archive = broken_dir / build_module.archive_name(version)
    with tarfile.open(archive) as tar:
        assert [(m.name, m.mode, m.uid) for m in tar.getmembers()] == [
            ("hauser", 0o755, 0), ("LICENSE", 0o644, 0)]
        program = tar.extractfile("hauser").read()
    checksums = (broken_dir / build_module.checksums_name(version)).read_text()
    assert checksums == "%s  %s\n" % (hashlib.sha256(archive.read_bytes()).hexdigest(),
                                      archive.name)
    with zipfile.ZipFile(io.BytesIO(program)) as zipapp:
        assert zipapp.read("standin/build_info.py") == (
            "VERSION = %r\nBROKEN = %r\n" % (version, BROKEN[version])).encode()


def test_broken_builds_are_reproducible(build_module, tmp_path):
    for out in ("first", "second"):
        build_module.build_release("1.6.2", tmp_path / out, broken="start")
    for name in ("hauser_1.6.2_linux_x86_64.tar.gz", "hauser_1.6.2_checksums.txt"):
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()


def test_a_broken_build_differs_from_a_good_one(build_module, tmp_path):
    good = build_module.build_release("1.6.2", tmp_path / "good")[0].read_bytes()
    bad = build_module.build_release("1.6.2", tmp_path / "bad", broken="start")[0].read_bytes()
    assert good != bad


@pytest.mark.parametrize("args", [("-version",), ("-c", "config.toml")])
def test_version_kind_fails_every_run_like_a_missing_shared_library(broken, tmp_path, args):
    (tmp_path / "config.toml").write_text(render(gcp_config()))
    result = run(broken["1.6.1"], *args, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (127, "")
    assert result.stderr == (
        "%s: error while loading shared libraries: libresolv.so.2: cannot open shared object "
        "file: No such file or directory\n" % broken["1.6.1"])


def test_wrong_version_kind_reports_go_s_unset_version(broken):
    assert run(broken["1.6.3"], "-version").stdout == "hauser dev build <no version set>\n"


def test_start_kind_passes_version_then_exits_1_once_its_config_is_loaded(broken, tmp_path):
    version = run(broken["1.6.2"], "-version")
    assert (version.returncode, version.stdout, version.stderr) == (0, "hauser 1.6.2\n", "")
    (tmp_path / "config.toml").write_text(render(gcp_config()))
    result = run(broken["1.6.2"], "-c", "config.toml", cwd=tmp_path)
    assert result.returncode == 1 and not RUNNING.search(result.stderr)
    lines = result.stderr.splitlines()
    assert re.fullmatch(LOG_LINE + re.escape('INFO: "StartTime" not set in config. Defaulting to '
                                             '30 days in the past'), lines[0])
    assert re.fullmatch(LOG_LINE + re.escape("stand-in: release 1.6.2 is built broken: it exits "
                                             "at start"), lines[-1])
    # A bad config still fails as config.Load fails.
    (tmp_path / "config.toml").write_text('Provider = "gcp"\nExportDelay = "5m"\n')
    result = run(broken["1.6.2"], "-c", "config.toml", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.endswith(
        ' "ExportDelay" configuration value is too small. Minimum value is 1 hour\n')


def test_the_build_command_builds_broken_releases(build_module, tmp_path):
    result = subprocess.run(
        [sys.executable, build_module.__file__, "--version", "1.5.1", "--broken", "1.6.1=version",
         "--broken", "1.6.2=start", "--out", str(tmp_path)], capture_output=True, text=True,
        check=True)
    assert result.stdout.splitlines() == [str(tmp_path / name) for name in (
        "hauser_1.5.1_linux_x86_64.tar.gz", "hauser_1.5.1_checksums.txt",
        "hauser_1.6.1_linux_x86_64.tar.gz", "hauser_1.6.1_checksums.txt",
        "hauser_1.6.2_linux_x86_64.tar.gz", "hauser_1.6.2_checksums.txt")]


@pytest.mark.parametrize("args, message", [
    (["--broken", "1.6.1=sometimes"], "not VERSION=KIND with KIND one of version, wrong-version, "
                                      "start"),
    (["--broken", "v1.6.1=start"], "not a version like 1.5.1"),
    (["--broken", "1.6.1"], "not VERSION=KIND"),
    ([], "give at least one --version or --broken"),
    (["--version", "1.6.1", "--broken", "1.6.1=start"], "each version may be built once"),
])
def test_the_build_command_refuses_bad_broken_releases(build_module, tmp_path, args, message):
    result = subprocess.run([sys.executable, build_module.__file__, *args, "--out", str(tmp_path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2 and message in result.stderr


def test_build_release_refuses_an_unknown_kind(build_module, tmp_path):
    with pytest.raises(ValueError, match="not a kind of broken release"):
        build_module.build_release("1.6.1", tmp_path, broken="sometimes")
