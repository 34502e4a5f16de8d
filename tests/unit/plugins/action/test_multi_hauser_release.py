"""multi_hauser_release in a real ansible-playbook run: the stand-in's releases served on loopback
under GitHub's layout, downloaded once into the cache, verified, and hauser alone unpacked."""

import hashlib
import importlib.util
import json
import re
import tarfile
from pathlib import Path

import pytest

STANDIN = Path(__file__).resolve().parents[3] / "hauser_standin"


def _load(name):
    spec = importlib.util.spec_from_file_location("hauser_standin_" + name, STANDIN / (name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    """(directory, base URL of the release server) with the release files of 1.5.1."""
    build, serve = _load("build"), _load("serve")
    directory = tmp_path_factory.mktemp("releases")
    build.build_release("1.5.1", directory)
    with serve.serving(directory) as url:
        yield directory, url + serve.DOWNLOAD_PREFIX


def release_play(**args):
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"hauser.multi_hauser.multi_hauser_release": dict({"version": "1.5.1"}, **args), "register": "release"},
        {"ansible.builtin.debug": {"msg": "RELEASE={{ release | to_json }}"}}]}]


def result(run):
    assert run.rc == 0, run.output[-3000:]
    return json.loads(re.search(r'"RELEASE=(.*)"\n', run.stdout).group(1).replace('\\"', '"'))


def hauser_in(archive):
    with tarfile.open(archive) as tar:
        return tar.extractfile("hauser").read()


def test_a_release_is_downloaded_once_verified_and_unpacked(playbook, releases, tmp_path):
    directory, url = releases
    args = dict(download_url=url + "/v1.5.1", cache_dir=str(tmp_path / "cache"))
    first = result(playbook(release_play(**args)))
    assert sorted(first["downloaded"]) == ["hauser_1.5.1_checksums.txt", "hauser_1.5.1_linux_x86_64.tar.gz"]
    assert first["changed"] is True
    expected = hauser_in(directory / "hauser_1.5.1_linux_x86_64.tar.gz")
    assert Path(first["binary"]).read_bytes() == expected
    assert first["sha256"] == hashlib.sha256(expected).hexdigest()
    assert Path(first["binary"]).stat().st_mode & 0o777 == 0o755
    again = result(playbook(release_play(**args)))
    assert again["downloaded"] == [] and again["changed"] is False and again["binary"] == first["binary"]


def test_an_archive_whose_checksum_does_not_match_is_refused(playbook, releases, tmp_path):
    _directory, url = releases
    run = playbook(release_play(download_url=url + "/v1.5.1", cache_dir=str(tmp_path / "cache"), archive_sha256="0" * 64))
    assert run.rc != 0
    assert "does not have the SHA-256" in run.stdout
    assert not list((tmp_path / "cache").rglob("hauser"))


def test_an_offline_archive_is_checked_and_nothing_downloaded(playbook, releases, tmp_path):
    directory, _url = releases
    archive = directory / "hauser_1.5.1_linux_x86_64.tar.gz"
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    found = result(playbook(release_play(archive=str(archive), archive_sha256=digest, download_url="http://127.0.0.1:9/",
                                         cache_dir=str(tmp_path / "cache"))))
    assert found["downloaded"] == []
    assert Path(found["binary"]).read_bytes() == hauser_in(archive)
    assert sorted(path.name for path in (tmp_path / "cache").rglob("*") if path.is_file()) == ["hauser"]
    run = playbook(release_play(archive=str(archive), archive_sha256="1" * 64, cache_dir=str(tmp_path / "other")))
    assert run.rc != 0 and "its SHA-256 is not multi_hauser_archive_sha256" in run.stdout


def test_an_unreachable_server_fails_naming_the_url(playbook, tmp_path):
    run = playbook(release_play(download_url="http://127.0.0.1:9/v1.5.1", cache_dir=str(tmp_path / "cache"), timeout=5))
    assert run.rc != 0
    assert "cannot download http://127.0.0.1:9/v1.5.1/hauser_1.5.1_checksums.txt" in run.stdout
