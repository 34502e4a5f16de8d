"""Make ``import ansible_collections.hauser.multi_hauser...`` (and the tests' oracles) work under plain pytest.

Python finds the collection only at <dir>/ansible_collections/hauser/multi_hauser. Unless the
checkout already sits at such a place, a symlink to it is made under .cache/ (git-ignored) and
<dir> goes first on sys.path. ansible_collections stays a namespace package, so the collections
installed with the ansible package in site-packages still import as well.
"""

import os
import sys
import time

import pytest

_REPO_ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
_COLLECTION_PATH = ["ansible_collections", "hauser", "multi_hauser"]


def _collections_dir():
    parts = _REPO_ROOT.split(os.sep)
    if parts[-3:] == _COLLECTION_PATH:
        return os.sep.join(parts[:-3])
    collections_dir = os.path.join(_REPO_ROOT, ".cache", "pytest-collections")
    link = os.path.join(collections_dir, *_COLLECTION_PATH)
    if os.path.realpath(link) != _REPO_ROOT:
        os.makedirs(os.path.dirname(link), exist_ok=True)
        # Replaced in one step, so that test runs in parallel never see a missing link.
        temporary = "%s.%d" % (link, os.getpid())
        os.symlink(_REPO_ROOT, temporary)
        os.replace(temporary, link)
    return collections_dir


sys.path.insert(0, _collections_dir())
# The tests' own oracles (tests/oracles), shared with the molecule scenarios.
sys.path.insert(0, os.path.join(_REPO_ROOT, "tests", "oracles"))


@pytest.fixture
def utc_zone(monkeypatch):
    """The local time zone is UTC for the test (hauser's log lines carry the local time)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
