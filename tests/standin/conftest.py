"""Fixtures for the tests of the hauser stand-in: its build and serve modules, a built stand-in,
and the fake FullStory API (tests/fake_fullstory)."""

import glob
import importlib.util
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

STANDIN_DIR = Path(__file__).resolve().parents[1] / "hauser_standin"
FAKE_DIR = Path(__file__).resolve().parents[1] / "fake_fullstory"
VERSIONS = ("1.5.0", "1.5.1")
ORG = "o-1A2B3C-na1"


def _load(name, directory=STANDIN_DIR, prefix="hauser_standin_"):
    # Loaded under a distinct name: "build" alone is also the name of a PyPI package.
    spec = importlib.util.spec_from_file_location(prefix + name, directory / (name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def build_module():
    return _load("build")


@pytest.fixture(scope="session")
def serve_module():
    return _load("serve")


@pytest.fixture(scope="session")
def release_dir(tmp_path_factory, build_module):
    """A directory holding the release files of VERSIONS."""
    directory = tmp_path_factory.mktemp("releases")
    for version in VERSIONS:
        build_module.build_release(version, directory)
    return directory


@pytest.fixture(scope="session")
def installed(tmp_path_factory, release_dir, build_module):
    """version -> path of the `hauser` unpacked from that version's archive."""
    root = tmp_path_factory.mktemp("installed")
    programs = {}
    for version in VERSIONS:
        with tarfile.open(release_dir / build_module.archive_name(version)) as archive:
            archive.extract("hauser", root / version, filter="data")
        programs[version] = root / version / "hauser"
    return programs


@pytest.fixture(scope="session")
def hauser(installed):
    """The stand-in of hauser 1.5.1, as the release archive installs it."""
    return installed["1.5.1"]


@pytest.fixture(scope="session")
def fake_module():
    return _load("serve", FAKE_DIR, "fake_fullstory_")


@pytest.fixture
def fake(fake_module):
    """A fake FullStory API on a free loopback port, for the test: its Control (.url, .port)."""
    with fake_module.serving() as control:
        yield control


@pytest.fixture
def org_dir(tmp_path):
    """An org's working directory, where the stand-in runs."""
    directory = tmp_path / ORG
    directory.mkdir()
    return directory


@pytest.fixture(scope="session")
def python_313():
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13")))
    candidates.append(shutil.which("python3.13"))
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", ""], capture_output=True, check=False).returncode == 0:
            return candidate
    return pytest.skip("no python3.13 here")
