"""The image's monitor: a container of the built image (conftest.py) serves /metrics, a real
Prometheus scrapes it and sees every org up under its own org label, and docker stop still ends
the container at once, with exit status 0, while the monitor runs.

The container runs on the host's network (the only way a Prometheus of this machine reaches it:
the engine has no bridge), its /metrics on 127.0.0.1 and a port chosen free at run time
(MULTI_HAUSER_METRICS_ADDRESS, MULTI_HAUSER_METRICS_PORT), its orgs exporting to a fake
FullStory API of this test (tests/fake_fullstory) on loopback from two days back. Prometheus is
Debian's (tests/harness/lib.sh, ensure_prometheus), started by tests/harness/promserver.py.
"""

import importlib.util
import json
import re
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from dockerhelpers import FIGURES, docker, stop_cleanly, wait_all_running, wait_for
from test_image import assert_no_secret, keyfile_text, new_org_ids

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "harness"))
import promserver  # noqa: E402  pylint: disable=wrong-import-position

ORG_COUNT = 3


def _load_fake_api():
    spec = importlib.util.spec_from_file_location("fake_fullstory_serve", REPO / "tests" / "fake_fullstory" / "serve.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(name="fake_api")
def fixture_fake_api():
    with _load_fake_api().serving() as control:
        yield control


@pytest.fixture(name="prometheus_dir")
def fixture_prometheus_dir(tmp_path):
    """Where the test's Prometheus keeps its files; it is stopped when the test ends, whatever happened."""
    directory = tmp_path / "prometheus"
    yield directory
    promserver.stop(directory)


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as answer:  # nosec: loopback only
        return answer.status, answer.headers.get("Content-Type", ""), answer.read().decode("utf-8")


def query(prometheus, expression):
    """{org label: value} of the series Prometheus returns for expression now."""
    status, _type, body = get("%s/api/v1/query?%s" % (prometheus["url"], urllib.parse.urlencode({"query": expression})))
    assert status == 200, body
    return dict((series["metric"].get("org", ""), series["value"][1]) for series in json.loads(body)["data"]["result"])


def test_prometheus_scrapes_the_containers_metrics_and_docker_stop_stays_prompt(
        containers, session_secrets, fake_api, prometheus_dir):
    org_ids = new_org_ids(ORG_COUNT)
    keys = [session_secrets.api_key(index) for index in range(ORG_COUNT)]
    port = promserver.free_port()
    start = (datetime.now(timezone.utc) - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    name = containers.run("metrics", keyfile=keyfile_text(org_ids, keys), network="host", env={
        "MULTI_HAUSER_METRICS_ADDRESS": "127.0.0.1",
        "MULTI_HAUSER_METRICS_PORT": str(port),
        "MULTI_HAUSER_CONFIG_EXTRA": json.dumps({"ApiURL": fake_api.url,
                                                 "StartTime": start.strftime("%Y-%m-%dT%H:%M:%SZ")}),
    })
    wait_all_running(name, org_ids, timeout=30)

    # /metrics itself: the text format, every org, no key.
    def serving():
        try:
            return get("http://127.0.0.1:%d/metrics" % port)
        except OSError:
            return None

    status, content_type, text = wait_for("/metrics on 127.0.0.1:%d" % port, serving, timeout=30)
    assert status == 200 and content_type.startswith("text/plain; version=0.0.4"), (status, content_type)
    for org_id in org_ids:
        assert 'multi_hauser_org_up{org="%s"}' % org_id in text, text
    assert_no_secret(text, session_secrets, "/metrics")

    started = time.monotonic()
    prometheus = promserver.start(prometheus_dir, ["127.0.0.1:%d" % port], interval="1s")
    wait_for("Prometheus to see every org up, by its org id",
             lambda: query(prometheus, "multi_hauser_org_up") == dict.fromkeys(org_ids, "1"), timeout=60)
    FIGURES["Prometheus start -> every org up (s)"] = "%.1f" % (time.monotonic() - started)
    # The org label holds the org id and nothing else; the target's instance is the container's port.
    labels = json.loads(get("%s/api/v1/label/org/values" % prometheus["url"])[2])["data"]
    assert sorted(labels) == sorted(org_ids), labels
    instances = query(prometheus, "count by (instance) (multi_hauser_org_up)")
    assert list(instances.values()) == [str(ORG_COUNT)], instances
    # Each org caught up through the fake API and waits: the monitor read its lines from PROCESS_LOG events.
    wait_for("every org waiting", lambda: sorted(query(prometheus, 'multi_hauser_org_state{state="waiting"} == 1'))
             == sorted(org_ids), timeout=60)
    assert not query(prometheus, "multi_hauser_org_consecutive_failures > 0")

    # docker stop, with the monitor and its /metrics server running: a container that did not end
    # within docker's timeout would be killed (exit status 137), not exit 0.
    status = docker("exec", name, "supervisorctl", "status", check=False).stdout
    for program in ("multi-hauser-monitor", "multi-hauser-metrics"):
        assert re.search(r"^%s\s+RUNNING" % program, status, re.M), status
    seconds, log = stop_cleanly(name)
    FIGURES["docker stop with the monitor, %d orgs (s)" % ORG_COUNT] = "%.1f" % seconds
    assert "SIGKILL" not in log, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    assert_no_secret(log, session_secrets, "docker logs")
