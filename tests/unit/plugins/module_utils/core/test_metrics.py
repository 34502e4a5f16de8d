"""metrics: the orgs' export states as Prometheus' text exposition format, read back by a strict
parser written here (and by promtool, where Debian's prometheus package is installed)."""

import math
import re
import shutil
import subprocess

import pytest

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.exports import STATES, OrgState, States
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.metrics import (
    escape_label_value,
    format_value,
    render,
)

NOW = 1764396000.25
PLAN = {"export_delay_seconds": 86400.0, "export_duration_seconds": 21600}
NAMES = [
    ("multi_hauser_org_up", "gauge"),
    ("multi_hauser_org_restarts_total", "counter"),
    ("multi_hauser_org_last_export_end_timestamp_seconds", "gauge"),
    ("multi_hauser_org_next_export_timestamp_seconds", "gauge"),
    ("multi_hauser_org_consecutive_failures", "gauge"),
    ("multi_hauser_org_retrying_since_timestamp_seconds", "gauge"),
    ("multi_hauser_org_first_seen_timestamp_seconds", "gauge"),
    ("multi_hauser_org_export_delay_seconds", "gauge"),
    ("multi_hauser_org_export_duration_seconds", "gauge"),
    ("multi_hauser_org_state", "gauge"),
    ("multi_hauser_monitor_last_update_timestamp_seconds", "gauge"),
]

# The text format (Prometheus' exposition_formats.md), strictly: no blank lines, no comments but
# HELP and TYPE, single spaces, no timestamps.
_METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
_SAMPLE = re.compile(r"(%s)(?:\{(%s(?:,%s)*)\})? (\S+)\Z" % (_METRIC_NAME, _LABEL, _LABEL))
_ONE_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
_VALUE = re.compile(r"(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NaN|[+-]Inf)\Z")


def _unescape(value):
    return re.sub(r"\\(.)", lambda match: {"\\": "\\", '"': '"', "n": "\n"}[match.group(1)], value)


def parse(text):
    """name -> {"help", "type", "samples": {labels (sorted tuple): value}}, in order; fails the
    test at anything the format does not allow."""
    assert text.endswith("\n") and not text.endswith("\n\n")
    families = {}
    current = None
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP "):
            name, _space, help_text = line[len("# HELP "):].partition(" ")
            assert re.match(_METRIC_NAME + r"\Z", name) and help_text and name not in families, line
            families[name] = {"help": help_text, "samples": {}}
            current = name
        elif line.startswith("# TYPE "):
            name, kind = line[len("# TYPE "):].split(" ")
            assert name == current and "type" not in families[name] and not families[name]["samples"], line
            assert kind in ("gauge", "counter"), line
            families[name]["type"] = kind
        else:
            match = _SAMPLE.match(line)
            assert match, line
            name, labels, value = match.groups()
            assert name == current and "type" in families[name], line
            assert _VALUE.match(value), line
            pairs = tuple(sorted((label, _unescape(text)) for label, text in _ONE_LABEL.findall(labels or "")))
            assert len(set(label for label, _text in pairs)) == len(pairs), line
            assert pairs not in families[name]["samples"], line
            families[name]["samples"][pairs] = float(value)
    return families


def _failing_org():
    org = OrgState(NOW - 7 * 86400)
    org.apply_process_event("PROCESS_STATE_RUNNING", {"from_state": "STARTING"}, NOW - 100)
    org.apply_line("2025/11/29 05:00:00 Creating export for 2025-11-27 18:00:00 +0000 UTC to "
                   "2025-11-28 00:00:00 +0000 UTC", NOW)
    org.apply_line("2025/11/29 05:00:00 Creating export for 2025-11-28 00:00:00 +0000 UTC to "
                   "2025-11-28 06:00:00 +0000 UTC", NOW)
    for pause in ("30s", "1m0s"):
        org.apply_line("2025/11/29 05:00:01 failed to process exports: fullstory: response error: Status:401 "
                       "Unauthorized, StatusCode:401, RetryAfter:0s", NOW)
        org.apply_line("2025/11/29 05:00:01 Pausing; will retry operation in %s" % pause, NOW)
    return org


# hauser's lines carry the local time: these tests write and read them in UTC.
pytestmark = pytest.mark.usefixtures("utc_zone")


def _states():
    waiting = OrgState(NOW - 86400)
    waiting.apply_line("2025/11/29 05:00:00 Waiting until 2025-11-29 08:00:00 +0100 CET m=+3600.000000001 to start "
                       "next export", NOW)
    return States({"o-failing": _failing_org(), "o-waiting": waiting, "o-gone": OrgState(NOW)})


def _value(families, name, **labels):
    return families[name]["samples"].get(tuple(sorted(labels.items())))


def test_every_metric_once_with_its_help_and_type_in_order():
    families = parse(render(_states(), {"o-waiting": PLAN, "o-failing": PLAN}, NOW))
    assert [(name, family["type"]) for name, family in families.items()] == NAMES
    assert all(family["help"] for family in families.values())


def test_the_values_of_a_failing_org():
    families = parse(render(_states(), {"o-failing": PLAN}, NOW))
    org = "o-failing"
    assert _value(families, "multi_hauser_org_up", org=org) == 1
    assert _value(families, "multi_hauser_org_restarts_total", org=org) == 0
    assert _value(families, "multi_hauser_org_last_export_end_timestamp_seconds", org=org) == 1764288000  # 28th 00:00
    assert _value(families, "multi_hauser_org_consecutive_failures", org=org) == 2
    assert _value(families, "multi_hauser_org_retrying_since_timestamp_seconds", org=org) == 1764392401
    assert _value(families, "multi_hauser_org_next_export_timestamp_seconds", org=org) == 1764392401 + 60
    assert _value(families, "multi_hauser_org_first_seen_timestamp_seconds", org=org) == NOW - 7 * 86400
    assert _value(families, "multi_hauser_org_export_delay_seconds", org=org) == 86400
    assert _value(families, "multi_hauser_org_export_duration_seconds", org=org) == 21600
    assert dict((pairs[1][1], value) for pairs, value in families["multi_hauser_org_state"]["samples"].items()) == \
        dict((state, 1 if state == "retrying" else 0) for state in STATES)
    assert families["multi_hauser_monitor_last_update_timestamp_seconds"]["samples"] == {(): NOW}


def test_unknown_times_have_no_sample():
    families = parse(render(_states(), {"o-waiting": PLAN}, NOW))
    assert _value(families, "multi_hauser_org_next_export_timestamp_seconds", org="o-waiting") == 1764399600
    for name in ("multi_hauser_org_last_export_end_timestamp_seconds", "multi_hauser_org_retrying_since_timestamp_seconds"):
        assert families[name]["samples"] == {}, name
    assert _value(families, "multi_hauser_org_consecutive_failures", org="o-waiting") == 0


def test_an_org_without_a_state_yet():
    families = parse(render(States(), {"o-new": PLAN}, NOW))
    assert _value(families, "multi_hauser_org_up", org="o-new") == 0
    assert _value(families, "multi_hauser_org_restarts_total", org="o-new") == 0
    assert _value(families, "multi_hauser_org_consecutive_failures", org="o-new") == 0
    assert _value(families, "multi_hauser_org_first_seen_timestamp_seconds", org="o-new") == NOW
    assert _value(families, "multi_hauser_org_state", org="o-new", state="starting") == 1
    assert sum(families["multi_hauser_org_state"]["samples"].values()) == 1


def test_only_the_deployed_orgs_sorted():
    text = render(_states(), {"o-waiting": PLAN, "o-b": PLAN, "o-failing": PLAN,
                              "o-a": {"export_duration_seconds": "6h"}}, NOW)
    families = parse(text)
    orgs = [dict(pairs)["org"] for pairs in families["multi_hauser_org_up"]["samples"]]
    assert orgs == ["o-a", "o-b", "o-failing", "o-waiting"]
    assert "o-gone" not in text
    # A plan without its numbers: no sample of them.
    assert _value(families, "multi_hauser_org_export_delay_seconds", org="o-a") is None
    assert _value(families, "multi_hauser_org_export_duration_seconds", org="o-a") is None
    assert _value(families, "multi_hauser_org_export_delay_seconds", org="o-b") == 86400
    assert text == render(_states(), {"o-a": {"export_duration_seconds": "6h"}, "o-b": PLAN, "o-failing": PLAN,
                                      "o-waiting": PLAN}, NOW)


def test_label_values_are_escaped():
    org_id = 'o-\\1"\n2'
    families = parse(render(States(), {org_id: PLAN}, NOW))
    assert _value(families, "multi_hauser_org_up", org=org_id) == 0
    assert escape_label_value('a\\b"c\nd') == 'a\\\\b\\"c\\nd'


@pytest.mark.parametrize("value, text", [
    (0, "0"), (7, "7"), (True, "1"), (1764396000.0, "1764396000.0"), (1764396000.000211, "1764396000.000211"),
    (float("nan"), "NaN"), (float("inf"), "+Inf"), (float("-inf"), "-Inf"), (1e300, "1e+300"),
])
def test_values(value, text):
    assert format_value(value) == text
    assert _VALUE.match(text)
    assert math.isnan(float(text)) if value != value else float(text) == value  # pylint: disable=comparison-with-itself


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian's prometheus package) is not installed")
def test_promtool_accepts_it():
    text = render(_states(), {"o-waiting": PLAN, "o-failing": PLAN, "o-new": {}}, NOW)
    result = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True,
                            check=False, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
