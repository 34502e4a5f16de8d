"""Session fixtures of the image tests: one real build of the image with the installed collection,
the secrets the session hands out (to look for them in the image afterwards), and containers
that are always removed.

The harness (tests/harness/test.sh, stage image) provides:
  MH_SLIM_IMAGE            a local Debian 12 slim image without Python, the build's base
  MH_RELEASES_URL          the hauser stand-in's releases, served on loopback like GitHub's
  ANSIBLE_COLLECTIONS_PATH where the built collection artifact is installed
Nothing is skipped: without them the fixtures fail and say what is missing.
"""

import json
import os
import secrets
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from dockerhelpers import (CONTAINER_PREFIX, FIGURES, IMAGE, docker, reap_dead_sessions, remove_session_containers,
                           run_build_image, session_labels)

REPO = Path(__file__).resolve().parents[2]


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("multi-hauser image: measured figures")
        for name, value in FIGURES.items():
            terminalreporter.write_line("%-45s %s" % (name, value))


def _require_env(name, why):
    value = os.environ.get(name, "")
    if not value:
        pytest.fail("environment variable %s is not set: %s. Run these tests through "
                    "tests/harness/test.sh image, which sets it." % (name, why), pytrace=False)
    return value


@pytest.fixture(scope="session")
def galaxy_version():
    return yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]


@pytest.fixture(scope="session")
def build_env():
    """What every build of the session needs, checked once."""
    slim = _require_env("MH_SLIM_IMAGE", "the local Debian 12 slim base image to build from")
    releases = _require_env("MH_RELEASES_URL", "the URL of the hauser stand-in's releases")
    collections = _require_env("ANSIBLE_COLLECTIONS_PATH", "where the collection artifact is installed")
    manifests = [Path(path) / "ansible_collections" / "hauser" / "multi_hauser" / "MANIFEST.json"
                 for path in collections.split(os.pathsep) if path]
    if not any(manifest.is_file() for manifest in manifests):
        pytest.fail("no installed collection artifact (MANIFEST.json) under ANSIBLE_COLLECTIONS_PATH=%s"
                    % collections, pytrace=False)
    info = docker("info", "--format", "{{.ServerVersion}}", check=False)
    if info.returncode != 0:
        pytest.fail("no Docker engine answers: %s" % info.stderr.strip(), pytrace=False)
    if docker("image", "inspect", slim, check=False).returncode != 0:
        pytest.fail("MH_SLIM_IMAGE=%s is not a local image" % slim, pytrace=False)
    return {"slim": slim, "releases": releases, "collections": collections}


@pytest.fixture(scope="session", autouse=True)
def _no_stale_containers():
    """Containers and images of aborted earlier sessions (whose process is gone) are removed first;
    a session that still runs, a second copy of the suite, keeps its own. Every container of this
    session (mh-it-SESSION-*) is removed when it ends, also one a failed test left."""
    reap_dead_sessions()
    yield
    remove_session_containers()


@pytest.fixture(scope="session")
def image(build_env, tmp_path_factory):
    """The image, built once per session by a real run of the installed collection's build_image
    playbook (a fresh download cache, so the release is fetched and verified too). Its tag is this
    session's (dockerhelpers.IMAGE), removed when the session ends; never reused from an earlier
    session: its creation time is checked."""
    work = tmp_path_factory.mktemp("build")
    previous = docker("image", "inspect", "--format", "{{.Id}}", IMAGE, check=False).stdout.strip()
    started = datetime.now(timezone.utc).replace(microsecond=0)
    code, output, seconds = run_build_image(
        {
            "multi_hauser_image": IMAGE,
            "multi_hauser_base_image": build_env["slim"],
            "multi_hauser_builder_network": "host",
            "multi_hauser_provider": "local",
            "multi_hauser_local_save_dir": "/srv/hauser-data",
            "multi_hauser_download_url": build_env["releases"] + "/v{{ multi_hauser_version }}",
            "multi_hauser_cache_dir": str(work / "cache"),
        },
        work / "build.log",
    )
    assert code == 0, "build_image failed (exit %d, log %s):\n%s" % (code, work / "build.log", output[-6000:])
    FIGURES["build_image run (s)"] = "%.1f" % seconds
    info = json.loads(docker("image", "inspect", "--format", "{{json .}}", IMAGE).stdout)
    created = datetime.strptime(info["Created"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    assert created >= started, "%s was created at %s, before this session's build started (%s)" % (
        IMAGE, info["Created"], started.isoformat())
    FIGURES["image size (MB)"] = "%.1f" % (info["Size"] / 1e6)
    if previous and previous != info["Id"]:
        docker("image", "rm", previous, check=False)  # the previous session's, now untagged
    yield {"name": IMAGE, "id": info["Id"], "inspect": info, "build_output": output,
           "build_seconds": seconds}
    remove_session_containers()
    docker("image", "rm", "--force", IMAGE, check=False)


class Secrets:
    """Every key and credential the session uses contains one random marker, so that a search for
    the marker finds any of them; each value is also kept, for the record, with its kind (an API
    key, a credentials file, a secret setting of a build, a run-time secret environment value,
    the content of a root-only file...): kinds counts them."""

    def __init__(self):
        self.marker = "mhitsecret" + secrets.token_hex(8)
        self.values = []
        self.kinds = Counter()

    def _keep(self, value, kind):
        self.values.append(value)
        self.kinds[kind] += 1
        return value

    def api_key(self, index=0):
        # Realistic punctuation, which the TOML rendering must carry as it is.
        return self._keep("na1.%s%04d/%s+=%%#" % (self.marker, index, secrets.token_urlsafe(12)), "API key")

    def credentials_json(self):
        return self._keep(
            '{"type": "service_account", "client_email": "it@example.invalid", '
            '"private_key": "-----BEGIN PRIVATE KEY-----\\n%s%s\\n-----END PRIVATE KEY-----\\n"}\n'
            % (self.marker, secrets.token_hex(16)), "credentials file"
        )

    def secret(self, kind):
        """Any other secret value of the session (a password, a token, an environment value): plain
        characters, valid wherever a value goes (an environment value, a TOML or JSON string)."""
        return self._keep("%s%s" % (self.marker, secrets.token_hex(8)), kind)


@pytest.fixture(scope="session")
def session_secrets():
    return Secrets()


class Containers:
    """Starts containers of the image (named mh-it-SESSION-*, labelled with the session, --network
    none unless told otherwise) and removes them all."""

    def __init__(self, image_name, tmp_dir):
        self.image = image_name
        self.tmp_dir = tmp_dir
        self.names = []
        self.started = {}

    def run(self, label, keyfile=None, env=None, volumes=(), args=(), image=None, entrypoint=None, network="none"):
        """docker run -d; keyfile (text or bytes) is mounted read-only at /secrets/keys.csv.
        volumes: (source, target) mounted read-only, or (source, target, options), e.g. "rw".
        network: "none", or "host" for a container that serves or reaches loopback ports.

        Return the container's name; started[name] is the monotonic time just before docker run."""
        name = "%s%s-%s" % (CONTAINER_PREFIX, label, secrets.token_hex(3))
        argv = ["run", "--detach", "--name", name, "--network", network] + session_labels()
        if entrypoint is not None:
            argv += ["--entrypoint", entrypoint]
        if keyfile is not None:
            path = self.tmp_dir / (name + ".csv")
            path.write_bytes(keyfile if isinstance(keyfile, bytes) else keyfile.encode("utf-8"))
            path.chmod(0o644)
            argv += ["--volume", "%s:/secrets/keys.csv:ro" % path]
        for volume in volumes:
            source, target, options = (tuple(volume) + ("ro",))[:3]
            argv += ["--volume", "%s:%s:%s" % (source, target, options)]
        for key, value in (env or {}).items():
            argv += ["--env", "%s=%s" % (key, value)]
        self.names.append(name)
        self.started[name] = time.monotonic()
        docker(*(argv + [image or self.image] + list(args)))
        return name

    def remove_all(self):
        if self.names:
            docker("rm", "--force", "--volumes", *self.names, check=False)
            self.names = []


@pytest.fixture
def containers(image, tmp_path):
    """Containers for one test, removed when it ends."""
    started = Containers(image["name"], tmp_path)
    yield started
    started.remove_all()


@pytest.fixture(scope="module")
def module_containers(image, tmp_path_factory):
    """Containers shared by the tests of a module (the fleets), removed when the module ends."""
    started = Containers(image["name"], tmp_path_factory.mktemp("fleet"))
    yield started
    started.remove_all()
