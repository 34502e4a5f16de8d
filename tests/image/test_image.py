"""The multi-hauser container image, built by the collection's build_image playbook (conftest.py):
its configuration, its entrypoint with good and bad key files, settings overridden at run time
(and bad ones refused), the files it writes (links and foreign files planted in their place
replaced, never followed), docker stop, secrets given at run time, and the absence of any key
or credential in the image or in a build (which refuses every secret setting).

The image's hauser is the stand-in (tests/hauser_standin), which logs
"hauser stand-in 1.5.1 running: config=... ExportDelay=... token=FsApiToken" once started.
"""

import hashlib
import json
import os
import re
import secrets
import stat
import tarfile
import time
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import pytest

from dockerhelpers import (
    FIGURES,
    PROGRAM_PREFIX,
    STANDIN_RUNNING,
    container_state,
    docker,
    environ_readers,
    export_scan,
    go_minutes,
    is_hauser_process,
    logs,
    org_configs,
    path_stats,
    processes,
    run_build_image,
    session_name,
    split_logs,
    stop_cleanly,
    supervisor_status,
    wait_all_running,
    wait_for,
)

BASE_DIR = "/var/lib/multi-hauser"
SAVE_DIR = "/srv/hauser-data"  # the image's multi_hauser_local_save_dir (conftest.py)
PROGRAM_DIR = "/etc/supervisor/conf.d"
HAUSER_UID = HAUSER_GID = 999  # the image's user hauser (test_built_from_the_slim_base_without_python)
NOBODY_UID = 65534  # Debian's nobody: the image's /metrics server runs as it
MONITOR_CONFIG = "/etc/multi-hauser/monitor.json"
KEYFILE = "/secrets/keys.csv"
DAY_MINUTES = 24 * 60

# "[org] 2026/11/28 20:17:51 hauser stand-in 1.5.1 running: config=... ExportDelay=24h10m0s token=FsApiToken"
_RUNNING_LINE = re.compile(
    r"^\[(?P<org>[^\]]+)\] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d " + re.escape(STANDIN_RUNNING)
    + r": config=(?P<config>\S+) .*\bExportDelay=(?P<delay>\S+) token=(?P<token>\S+)$"
)


def duration_minutes(text):
    """A Go duration string of whole minutes ("24h", "24h10m", "24h10m0s", "1450m") in minutes."""
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:0s)?", text)
    assert match and text, "not a duration of whole minutes: %r" % text
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)


def new_org_ids(count):
    """Distinct org ids shaped like FullStory's (o-1A2B3C-na1)."""
    org_ids = []
    while len(org_ids) < count:
        org_id = "o-%s-na1" % secrets.token_hex(3).upper()
        if org_id not in org_ids:
            org_ids.append(org_id)
    return org_ids


def running_lines(log):
    """{org: [match of its stand-in "running" line]} from a container log."""
    found = {}
    for line in log.splitlines():
        match = _RUNNING_LINE.match(line)
        if match:
            found.setdefault(match.group("org"), []).append(match)
    return found


def wait_running_lines(name, org_ids, timeout=60):
    """Wait until docker logs shows every org's stand-in line; return ({org: [matches]}, log)."""
    wanted = set(org_ids)

    def probe():
        log = logs(name)
        found = running_lines(log)
        return (found, log) if wanted <= set(found) else None

    return wait_for("the stand-in line of each of %d org(s) in docker logs of %s" % (len(wanted), name),
                    probe, timeout)


def assert_delays(found, org_ids, minutes):
    """Each org's stand-in line, exactly one, names its own config and the expected ExportDelay."""
    for org_id, expected in zip(org_ids, minutes):
        matches = found.get(org_id, [])
        assert len(matches) == 1, "org %s: %d stand-in lines, expected 1" % (org_id, len(matches))
        match = matches[0]
        assert match.group("config") == "%s/%s/config.toml" % (BASE_DIR, org_id), match.group(0)
        assert match.group("delay") == go_minutes(expected), "org %s: %s" % (org_id, match.group(0))
        assert match.group("token") == "FsApiToken", match.group(0)


def assert_no_secret(text, session_secrets, where):
    assert session_secrets.marker not in text, "key or credential material in %s" % where


def wait_exited_or_started(name, timeout=30):
    """The container's State once it has exited, or once its log says supervisord starts (a start
    that should have been refused fails at once, not at the timeout)."""
    def probe():
        state = container_state(name)
        return state if state["Status"] == "exited" or "starting supervisord" in logs(name) else None

    return wait_for("container %s to exit or start supervisord" % name, probe, timeout)


def assert_refused_before_start(name, expected, session_secrets, forbidden=()):
    """The container exited with 2 before supervisord or any hauser started, saying each expected
    text on a "multi-hauser:" line, with no Python traceback, and showing no key, no credential and
    nothing forbidden."""
    state = wait_exited_or_started(name)
    log = logs(name)
    assert state["Status"] == "exited", "container %s started instead of exiting with 2; log:\n%s" % (name, log[-4000:])
    assert state["ExitCode"] == 2, "exit code %s, expected 2; log:\n%s" % (state["ExitCode"], log)
    messages = [line for line in log.splitlines() if line.startswith("multi-hauser: ")]
    assert messages, "no multi-hauser: message in the log:\n%s" % log
    for text in expected:
        assert any(text in line for line in messages), "%r not in the messages %r" % (text, messages)
    for sign_of_start in (STANDIN_RUNNING, "spawned:", "supervisord started", "starting supervisord"):
        assert sign_of_start not in log, "%r in the log of a refused start:\n%s" % (sign_of_start, log)
    assert "Traceback" not in log, "a Python traceback in the log of a refused start:\n%s" % log
    assert_no_secret(log, session_secrets, "the log of %s" % name)
    for text in forbidden:
        assert text not in log, "%r (from the key file) shown in the log:\n%s" % (text, log)
    # Nothing was written: no org's directory, config, save directory or program.
    written = [line for line in docker("diff", name).stdout.splitlines()
               if BASE_DIR + "/" in line or "/etc/supervisor/conf.d/" in line or SAVE_DIR + "/" in line]
    assert not written, "files written by a refused start: %s" % written
    return messages


def keyfile_text(org_ids, keys, final_newline=True):
    text = "# org_id,api_key\n" + "".join("%s,%s\n" % pair for pair in zip(org_ids, keys))
    return text if final_newline else text.rstrip("\n")


def start_orgs(containers, session_secrets, count, label, env=None, volumes=()):
    org_ids = new_org_ids(count)
    keys = [session_secrets.api_key(index) for index in range(count)]
    name = containers.run(label, keyfile=keyfile_text(org_ids, keys), env=env, volumes=volumes)
    return name, org_ids, keys


# --- the image ---------------------------------------------------------------------------------


def test_image_config(image, galaxy_version):
    config = image["inspect"]["Config"]
    assert config["Entrypoint"] == ["/usr/bin/python3", "/usr/local/lib/multi-hauser/entrypoint.py"]
    assert config["Cmd"] == [KEYFILE]
    assert config["StopSignal"] == "SIGTERM"
    labels = config["Labels"] or {}
    assert labels.get("hauser.version") == "1.5.1"
    assert labels.get("hauser.multi_hauser.version") == galaxy_version
    # Else every container of the image would look like a stale builder to the next build.
    assert labels.get("hauser.multi_hauser.builder") == ""
    assert image["inspect"]["Architecture"] == "amd64"


def test_built_from_the_slim_base_without_python(image, build_env):
    slim = build_env["slim"]
    no_python = docker("run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", slim,
                       "-c", "command -v python3 || command -v python || ls /usr/bin/python*", check=False)
    assert no_python.returncode != 0, "the base %s has Python: %s" % (slim, no_python.stdout)
    base_layers = docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", slim).stdout.strip()
    layers = image["inspect"]["RootFS"]["Layers"]
    base_layers = json.loads(base_layers)
    assert layers[:len(base_layers)] == base_layers, "the image is not built on %s" % slim
    assert len(layers) > len(base_layers)

    probe = docker(
        "run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", image["name"], "-c",
        "cat /etc/debian_version; python3 --version; /usr/bin/supervisord --version; hauser -version;"
        " id -u hauser; ls /var/lib/apt/lists | grep -v -e '^lock$' -e '^partial$' | wc -l;"
        " ls -A /secrets 2>/dev/null | wc -l",
    ).stdout.split("\n")
    debian, python, supervisor, hauser, uid, apt_lists, secrets_dir = probe[:7]
    assert debian.startswith("12."), debian
    assert python.startswith("Python 3."), python
    assert supervisor.startswith("4."), supervisor
    assert hauser == "hauser 1.5.1", hauser
    assert int(uid) != 0, "user hauser is root"
    assert apt_lists == "0", "apt lists left in the image"
    assert secrets_dir == "0", "the image has something in /secrets"
    FIGURES["image layers (base + build)"] = "%d + %d" % (len(base_layers), len(layers) - len(base_layers))


# --- running orgs ------------------------------------------------------------------------------

FLEET_SIZES = [3, 100]


@pytest.fixture(scope="module")
def fleet(module_containers, session_secrets):
    """fleet(count): a container running count generated orgs, started once per module."""
    fleets = {}

    def get(count):
        if count not in fleets:
            name, org_ids, keys = start_orgs(module_containers, session_secrets, count, "fleet%d" % count)
            states = wait_all_running(name, org_ids, timeout=30 + count)
            seconds = time.monotonic() - module_containers.started[name]
            FIGURES["docker run -> all RUNNING, %d orgs (s)" % count] = "%.1f" % seconds
            fleets[count] = {"name": name, "org_ids": org_ids, "keys": keys, "states": states}
        return fleets[count]

    return get


@pytest.mark.parametrize("count", FLEET_SIZES)
def test_orgs_run_unprivileged_with_prefixed_logs_and_staggered_delays(fleet, count, session_secrets):
    run = fleet(count)
    name, org_ids, keys = run["name"], run["org_ids"], run["keys"]

    # supervisord is PID 1 and runs one program per org, plus the log listener, all RUNNING.
    states = run["states"]
    assert set(states) == {PROGRAM_PREFIX + org_id for org_id in org_ids} | {
        "logprefix", "multi-hauser-monitor", "multi-hauser-metrics"}, states
    assert all(state == "RUNNING" for state in states.values()), states

    procs, hauser_uid = processes(name)
    assert hauser_uid != 0
    pid1 = [proc for proc in procs if proc["pid"] == 1]
    assert pid1 and "/usr/bin/supervisord" in pid1[0]["argv"], pid1
    hausers = [proc for proc in procs if is_hauser_process(proc)]
    assert len(hausers) == count, [proc["argv"] for proc in hausers]
    assert sorted(proc["argv"][proc["argv"].index("-c") + 1] for proc in hausers) == sorted(
        "%s/%s/config.toml" % (BASE_DIR, org_id) for org_id in org_ids)
    for proc in hausers:
        assert proc["uids"] == [hauser_uid] * 4, "hauser not running as user hauser: %r" % proc
        assert proc["env"].get("HOME") == BASE_DIR and proc["env"].get("USER") == "hauser", proc
    # Anything else whose command line says hauser, but supervisord itself and the monitor (which
    # asks supervisord, through its root-only socket, for its programs, and listens on no port), is
    # not root either; /metrics is served by nobody.
    monitor = "/usr/local/lib/multi-hauser/monitor.py"
    for proc in procs:
        if proc["pid"] != 1 and "hauser" in " ".join(proc["argv"]) and proc["argv"][1:] != [monitor, MONITOR_CONFIG]:
            assert 0 not in proc["uids"], "runs as root: %r" % proc
    servers = [proc for proc in procs if proc["argv"][1:] == [monitor, "--serve"]]
    assert [proc["uids"] for proc in servers] == [[NOBODY_UID] * 4], servers

    # docker logs: each org's own stand-in line, prefixed with the org, its ExportDelay staggered by
    # 10m from 24h; every stand-in line is prefixed; no key; info level (no DEBG) by default.
    found, log = wait_running_lines(name, org_ids)
    delays = [DAY_MINUTES + 10 * (index % (DAY_MINUTES // 10)) for index in range(count)]
    assert_delays(found, org_ids, delays)
    assert set(found) == set(org_ids), set(found) - set(org_ids)
    unprefixed = [line for line in log.splitlines() if STANDIN_RUNNING in line and not _RUNNING_LINE.match(line)]
    assert not unprefixed, unprefixed
    assert " DEBG " not in log
    assert_no_secret(log, session_secrets, "docker logs")

    # Each org's config holds its own key, exactly, readable by root and the hauser group only.
    configs, hauser_gid = org_configs(name)
    assert set(configs) == set(org_ids)
    for org_id, key, minutes in zip(org_ids, keys, delays):
        config = configs[org_id]
        parsed = tomllib.loads(config["text"])
        assert parsed["FsApiToken"] == key, "org %s: the key did not survive rendering" % org_id
        assert duration_minutes(parsed["ExportDelay"]) == minutes, (org_id, parsed["ExportDelay"])
        assert parsed["Provider"] == "local"
        assert parsed["local"]["SaveDir"] == "/srv/hauser-data/" + org_id
        assert (config["uid"], config["gid"], config["mode"]) == (0, hauser_gid, 0o640), (org_id, config)


@pytest.mark.parametrize("count", FLEET_SIZES)
def test_docker_stop_ends_every_hauser_with_sigterm_quickly(fleet, count):
    run = fleet(count)
    name = run["name"]
    seconds, log = stop_cleanly(name)
    FIGURES["docker stop, %d orgs (s)" % count] = "%.1f" % seconds
    assert seconds < 10, "docker stop took %.1f s: hauser was killed at the timeout" % seconds
    assert "received SIGTERM indicating exit request" in log
    for org_id in run["org_ids"]:
        assert "stopped: %s%s (terminated by SIGTERM)" % (PROGRAM_PREFIX, org_id) in log, org_id
    assert "SIGKILL" not in log


def test_last_line_without_final_newline_runs(containers, session_secrets):
    org_ids = new_org_ids(2)
    keys = [session_secrets.api_key(index) for index in range(2)]
    text = keyfile_text(org_ids, keys, final_newline=False)
    assert not text.endswith("\n")
    name = containers.run("nonewline", keyfile=text)
    wait_all_running(name, org_ids, timeout=30)
    found = wait_running_lines(name, org_ids)[0]
    assert_delays(found, org_ids, [DAY_MINUTES, DAY_MINUTES + 10])


# --- bad input: exit 2 before anything starts ----------------------------------------------------


def _lines(*lines):
    return "".join(line + "\n" for line in lines)


BAD_KEY_FILES = {
    # id: (key file text from (org ids, keys), texts the message must hold, texts it must not show)
    "missing": (None, ["cannot read the key file " + KEYFILE], []),
    "org-id-escapes-on-line-3": (
        lambda o, k: _lines(o[0] + "," + k[0], o[1] + "," + k[1], "../etc," + k[2]),
        [KEYFILE + " line 3", "org id"], ["../etc"]),
    "columns-swapped-on-line-3": (
        lambda o, k: _lines(o[0] + "," + k[0], o[1] + "," + k[1], k[2] + "," + o[2]),
        [KEYFILE + " line 3"], []),
    "three-fields-on-line-3": (
        lambda o, k: _lines(o[0] + "," + k[0], "# comment", o[2] + "," + k[2] + ",extra"),
        [KEYFILE + " line 3", "expected 2 fields"], ["extra"]),
    "duplicate-org-on-lines-1-and-4": (
        lambda o, k: _lines(o[0] + "," + k[0], o[1] + "," + k[1], o[2] + "," + k[2], o[0] + "," + k[3]),
        [KEYFILE + " lines 1 and 4", "duplicate"], []),
    "comments-only": (lambda o, k: "# org_id,api_key\n\n   # none yet\n", [KEYFILE, "no orgs"], []),
    # Both lines named; neither org id shown (messages quote no field of a key file).
    "org-ids-differing-only-in-case-on-lines-2-and-4": (
        lambda o, k: _lines(o[0] + "," + k[0], o[1] + "," + k[1], "# comment", o[1].swapcase() + "," + k[2]),
        [KEYFILE + " lines 2 and 4", "org ids that differ only in case"], lambda o: [o[1], o[1].swapcase()]),
    "header-then-org-ids-differing-only-in-case": (
        lambda o, k: _lines("org_id,api_key", o[0] + "," + k[0], o[0].swapcase() + "," + k[1]),
        [KEYFILE + " lines 2 and 3", "org ids that differ only in case"], lambda o: [o[0], o[0].swapcase()]),
    "empty": (lambda o, k: "", [KEYFILE, "no orgs"], []),
}


@pytest.mark.parametrize("case", list(BAD_KEY_FILES), ids=list(BAD_KEY_FILES))
def test_bad_key_file_is_refused_before_any_hauser_starts(containers, session_secrets, case):
    make, expected, forbidden = BAD_KEY_FILES[case]
    org_ids = new_org_ids(3)
    keys = [session_secrets.api_key(index) for index in range(4)]
    text = make(org_ids, keys) if make else None
    forbidden = forbidden(org_ids) if callable(forbidden) else forbidden
    name = containers.run("bad-" + case[:20], keyfile=text)
    assert_refused_before_start(name, expected, session_secrets, forbidden + keys)


def test_credentials_unreadable_by_hauser_are_refused(containers, session_secrets, tmp_path):
    credentials = tmp_path / "gcp.json"
    credentials.write_text(session_secrets.credentials_json())
    credentials.chmod(0o600)
    if os.geteuid() == 0:
        os.chown(credentials, 0, 0)
    name, _org_ids, keys = start_orgs(
        containers, session_secrets, 2, "credsunreadable",
        env={"GOOGLE_APPLICATION_CREDENTIALS": "/secrets/gcp.json"},
        volumes=[(credentials, "/secrets/gcp.json")])
    assert_refused_before_start(
        name, ["GOOGLE_APPLICATION_CREDENTIALS (/secrets/gcp.json) cannot be read by the user hauser"],
        session_secrets, keys)


def test_readable_credentials_reach_every_hauser(containers, session_secrets, tmp_path):
    credentials = tmp_path / "gcp.json"
    credentials.write_text(session_secrets.credentials_json())
    credentials.chmod(0o644)
    name, org_ids, _keys = start_orgs(
        containers, session_secrets, 2, "credsreadable",
        env={"GOOGLE_APPLICATION_CREDENTIALS": "/secrets/gcp.json"},
        volumes=[(credentials, "/secrets/gcp.json")])
    wait_all_running(name, org_ids, timeout=30)
    hausers = [proc for proc in processes(name)[0] if is_hauser_process(proc)]
    assert len(hausers) == 2
    for proc in hausers:
        assert proc["env"].get("GOOGLE_APPLICATION_CREDENTIALS") == "/secrets/gcp.json", proc
    assert_no_secret(logs(name), session_secrets, "docker logs")


# --- settings at run time --------------------------------------------------------------------------

DELAY_OVERRIDES = {
    "step-5m": ({"MULTI_HAUSER_EXPORT_DELAY_STEP": "5m"}, [0, 5, 10]),
    "step-5m-window-10m": ({"MULTI_HAUSER_EXPORT_DELAY_STEP": "5m", "MULTI_HAUSER_EXPORT_DELAY_WINDOW": "10m"},
                           [0, 5, 0]),
    "base-25h": ({"MULTI_HAUSER_EXPORT_DELAY_BASE": "25h"}, [60, 70, 80]),
}


@pytest.mark.parametrize("case", list(DELAY_OVERRIDES), ids=list(DELAY_OVERRIDES))
def test_export_delay_overridden_at_run_time(containers, session_secrets, case):
    env, offsets = DELAY_OVERRIDES[case]
    name, org_ids, _keys = start_orgs(containers, session_secrets, 3, "delay-" + case, env=env)
    wait_all_running(name, org_ids, timeout=30)
    found = wait_running_lines(name, org_ids)[0]
    assert_delays(found, org_ids, [DAY_MINUTES + offset for offset in offsets])


# Where a case's value holds SECRET, a secret of the session takes its place: a value that the
# refusal must never show (the log is searched for the session's marker, and for the value itself).
SECRET = "@SECRET@"
_AWS = {"MULTI_HAUSER_PROVIDER": "aws", "MULTI_HAUSER_S3_BUCKET": "bucket", "MULTI_HAUSER_S3_REGION": "eu-west-1",
        "MULTI_HAUSER_REDSHIFT_HOST": "redshift.invalid", "MULTI_HAUSER_REDSHIFT_DB": "warehouse",
        "MULTI_HAUSER_REDSHIFT_USER": "etl_user", "MULTI_HAUSER_REDSHIFT_CREDENTIALS": SECRET}

BAD_OVERRIDES = {
    "gcp-without-bucket": ({"MULTI_HAUSER_PROVIDER": "gcp"}, ["MULTI_HAUSER_GCS_BUCKET"]),
    "unknown-provider": ({"MULTI_HAUSER_PROVIDER": "azure"}, ["MULTI_HAUSER_PROVIDER must be gcp, aws or local"]),
    "steps-max-not-a-number": ({"MULTI_HAUSER_BACKOFF_STEPS_MAX": "eight"},
                               ["MULTI_HAUSER_BACKOFF_STEPS_MAX is not valid"]),
    # The bound is now said whole (1h to 168h); the message used to be "... base must be at least 1h".
    "delay-base-under-1h": ({"MULTI_HAUSER_EXPORT_DELAY_BASE": "30m"},
                            ["MULTI_HAUSER_EXPORT_DELAY_BASE must be from 1h to 168h"]),
    # MULTI_HAUSER_CONFIG_EXTRA: a JSON object of hauser 1.5.1's keys, each value of its kind.
    "config-extra-not-an-object": ({"MULTI_HAUSER_CONFIG_EXTRA": "[1]"},
                                   ["MULTI_HAUSER_CONFIG_EXTRA is not valid: a JSON object expected"]),
    "config-extra-not-json": ({"MULTI_HAUSER_CONFIG_EXTRA": "{" + SECRET},
                              ["MULTI_HAUSER_CONFIG_EXTRA is not valid: a JSON object expected"]),
    "config-extra-unknown-key": ({"MULTI_HAUSER_CONFIG_EXTRA": '{"ExportDelays": "%s"}' % SECRET},
                                 ["MULTI_HAUSER_CONFIG_EXTRA: ExportDelays is not a hauser 1.5.1 config key"]),
    "config-extra-unknown-key-of-a-section": (
        {"MULTI_HAUSER_CONFIG_EXTRA": '{"local": {"SaveDirectory": "%s"}}' % SECRET},
        ["MULTI_HAUSER_CONFIG_EXTRA: [local] SaveDirectory is not a hauser 1.5.1 config key"]),
    "config-extra-boolean-of-another-kind": ({"MULTI_HAUSER_CONFIG_EXTRA": '{"SaveAsJson": "%s"}' % SECRET},
                                             ["MULTI_HAUSER_CONFIG_EXTRA: SaveAsJson must be true or false"]),
    "config-extra-integer-of-another-kind": (
        {"MULTI_HAUSER_CONFIG_EXTRA": '{"BackoffStepsMax": "%s"}' % SECRET},
        ["MULTI_HAUSER_CONFIG_EXTRA: BackoffStepsMax must be a whole number of 0 or more"]),
    "config-extra-time-of-another-kind": ({"MULTI_HAUSER_CONFIG_EXTRA": '{"StartTime": "%s"}' % SECRET},
                                          ["MULTI_HAUSER_CONFIG_EXTRA: StartTime must be a date-time"]),
    "config-extra-string-of-another-kind": ({"MULTI_HAUSER_CONFIG_EXTRA": '{"FilePrefix": ["%s"]}' % SECRET},
                                            ["MULTI_HAUSER_CONFIG_EXTRA: FilePrefix must be a string"]),
    "config-extra-headers-of-another-kind": (
        {"MULTI_HAUSER_CONFIG_EXTRA": '{"AdditionalHttpHeader": {"Authorization": "%s"}}' % SECRET},
        ["MULTI_HAUSER_CONFIG_EXTRA: AdditionalHttpHeader must be a list of {Key, Value} strings"]),
    # Durations, numbers and paths out of their bounds.
    "delay-step-1ns": ({"MULTI_HAUSER_EXPORT_DELAY_STEP": "1ns"},
                       ["MULTI_HAUSER_EXPORT_DELAY_STEP must be from 1s to 168h"]),
    "delay-base-over-168h": ({"MULTI_HAUSER_EXPORT_DELAY_BASE": "169h"},
                             ["MULTI_HAUSER_EXPORT_DELAY_BASE must be from 1h to 168h"]),
    "delay-window-under-step": ({"MULTI_HAUSER_EXPORT_DELAY_STEP": "20m", "MULTI_HAUSER_EXPORT_DELAY_WINDOW": "10m"},
                                ["MULTI_HAUSER_EXPORT_DELAY_WINDOW must be at least MULTI_HAUSER_EXPORT_DELAY_STEP"]),
    "s3-timeout-0s": ({"MULTI_HAUSER_S3_TIMEOUT": "0h0m0s"}, ["MULTI_HAUSER_S3_TIMEOUT must be more than 0s"]),
    "export-duration-not-a-fraction-of-24h": ({"MULTI_HAUSER_EXPORT_DURATION": "7h"},
                                              ["MULTI_HAUSER_EXPORT_DURATION must be an even fraction of 24h"]),
    "backoff-negative": ({"MULTI_HAUSER_BACKOFF": "-30s"}, ["MULTI_HAUSER_BACKOFF must be from 0ns to 24h"]),
    "redshift-port-negative": ({"MULTI_HAUSER_REDSHIFT_PORT": "-5439"},
                               ["MULTI_HAUSER_REDSHIFT_PORT is not valid: a whole number from 1 to 65535 expected"]),
    "redshift-varchar-max-too-large": ({"MULTI_HAUSER_REDSHIFT_VARCHAR_MAX": "65536"},
                                       ["MULTI_HAUSER_REDSHIFT_VARCHAR_MAX is not valid"]),
    "storage-only-not-a-boolean": ({"MULTI_HAUSER_STORAGE_ONLY": SECRET},
                                   ["MULTI_HAUSER_STORAGE_ONLY is not valid: true or false expected"]),
    "save-dir-relative": ({"MULTI_HAUSER_LOCAL_SAVE_DIR": "srv/" + SECRET},
                          ["MULTI_HAUSER_LOCAL_SAVE_DIR is not valid: an absolute path"]),
    "save-dir-with-dot-dot": ({"MULTI_HAUSER_LOCAL_SAVE_DIR": "/srv/../" + SECRET},
                              ["MULTI_HAUSER_LOCAL_SAVE_DIR is not valid: an absolute path"]),
    "setting-too-long": ({"MULTI_HAUSER_S3_REGION": SECRET * 200},
                         ["MULTI_HAUSER_S3_REGION is not valid: longer than 4096 characters"]),
    "redshift-password-with-a-blank": (dict(_AWS, MULTI_HAUSER_REDSHIFT_PASSWORD="pass " + SECRET),
                                       ["MULTI_HAUSER_REDSHIFT_PASSWORD may hold no whitespace"]),
}
# Cases whose message says their value: a provider's name, which is no secret.
VALUE_SAID = {"gcp-without-bucket"}

# Values that once passed and broke later (a traceback, a hauser that cannot start) or showed themselves.
BAD_OVERRIDES.update({
    "delay-step-not-a-duration": ({"MULTI_HAUSER_EXPORT_DELAY_STEP": SECRET},
                                  ['MULTI_HAUSER_EXPORT_DELAY_STEP is not valid: not a Go duration such as "10m"']),
    "config-extra-duration-not-a-duration": (
        {"MULTI_HAUSER_CONFIG_EXTRA": '{"ExportDelay": "%s"}' % SECRET},
        ['MULTI_HAUSER_CONFIG_EXTRA: ExportDelay is not valid: not a Go duration such as "10m"']),
    # hauser's TOML reader takes no number for a string: every hauser would exit at start
    "config-extra-number-for-a-string-key": (
        {"MULTI_HAUSER_CONFIG_EXTRA": '{"FilePrefix": 5}'}, ["MULTI_HAUSER_CONFIG_EXTRA: FilePrefix must be a string"]),
    "config-extra-lone-surrogate": (
        {"MULTI_HAUSER_CONFIG_EXTRA": '{"FilePrefix": "\\udcff%s"}' % SECRET},
        ["MULTI_HAUSER_CONFIG_EXTRA is not valid: not valid UTF-8 (in the value of FilePrefix)"]),
    "config-extra-nested-too-deep": (
        {"MULTI_HAUSER_CONFIG_EXTRA": "[" * 10000}, ["MULTI_HAUSER_CONFIG_EXTRA is not valid: a JSON object expected"]),
    # one key for every org would export one org's data under every org's name
    "config-extra-api-key": (
        {"MULTI_HAUSER_CONFIG_EXTRA": '{"fsApiToken": "%s"}' % SECRET},
        ["MULTI_HAUSER_CONFIG_EXTRA: FsApiToken cannot be set here (each org's key comes from the key file)"]),
    # a key like none of hauser's may be a value pasted in the wrong place
    "config-extra-unknown-key-that-is-a-value": (
        {"MULTI_HAUSER_CONFIG_EXTRA": '{"%s": "x"}' % SECRET},
        ["MULTI_HAUSER_CONFIG_EXTRA: a key (not shown) is not a hauser 1.5.1 config key"]),
    "config-extra-unknown-key-like-one-of-hausers": (
        {"MULTI_HAUSER_CONFIG_EXTRA": '{"gcs": {"Buckets": "%s"}}' % SECRET},
        ["MULTI_HAUSER_CONFIG_EXTRA: [gcs] Buckets is not a hauser 1.5.1 config key (hauser would silently ignore "
         "it; did you mean Bucket?)"]),
    # the save directory as the base directory: each org's save directory would be its org directory
    "save-dir-is-the-base-dir": ({"MULTI_HAUSER_LOCAL_SAVE_DIR": "/var/lib/multi-hauser"},
                                 ["MULTI_HAUSER_BASE_DIR and MULTI_HAUSER_LOCAL_SAVE_DIR must be apart"]),
    "save-dir-of-the-system": ({"MULTI_HAUSER_LOCAL_SAVE_DIR": "/var/lib"},
                               ["MULTI_HAUSER_LOCAL_SAVE_DIR is not valid: /var/lib is a directory of the system"]),
    "supervisord-loglevel-unknown": ({"SUPERVISORD_LOGLEVEL": SECRET},
                                     ["SUPERVISORD_LOGLEVEL must be critical, error, warn, info, debug, trace, blather"]),
})
VALUE_SAID |= {"save-dir-is-the-base-dir", "save-dir-of-the-system"}
BAD_OVERRIDE_CASES = [pytest.param(case, id=case) for case in BAD_OVERRIDES]


@pytest.mark.parametrize("case", BAD_OVERRIDE_CASES)
def test_bad_override_is_refused_before_any_hauser_starts(containers, session_secrets, case):
    env, expected = BAD_OVERRIDES[case]
    secret = session_secrets.secret("bad setting at run time")
    env = dict((variable, value.replace(SECRET, secret)) for variable, value in env.items())
    name, _org_ids, keys = start_orgs(containers, session_secrets, 2, "badenv-" + case[:20], env=env)
    # Never the value, neither whole nor a distinctive part of it.
    shown_never = [] if case in VALUE_SAID else [value for value in env.values() if len(value) >= 3]
    assert_refused_before_start(name, expected, session_secrets, keys + shown_never + [secret])


# Bytes that are not UTF-8 cannot come through docker: its CLI and API carry the environment as
# JSON strings, in which such a byte becomes U+FFFD (valid UTF-8), and --env-file refuses it. A
# process that starts the entrypoint can pass any bytes, though (a wrapper, an init): a shell in
# the container sets the variable and execs the image's entrypoint, as PID 1.
BAD_BYTES = {
    "s3-region": ("MULTI_HAUSER_S3_REGION", r"eu-west-\377", ["MULTI_HAUSER_S3_REGION is not valid: not valid UTF-8"]),
    "delay-step": ("MULTI_HAUSER_EXPORT_DELAY_STEP", r"10m\377",
                   ["MULTI_HAUSER_EXPORT_DELAY_STEP is not valid: not valid UTF-8"]),
    "save-dir": ("MULTI_HAUSER_LOCAL_SAVE_DIR", r"/srv/\377", ["MULTI_HAUSER_LOCAL_SAVE_DIR is not valid: not valid UTF-8"]),
}
# No case of a NUL: no environment variable can hold one (execve(2) takes NUL-terminated strings,
# docker's runc refuses one, "environment variable value can't contain null").
BAD_BYTES_CASES = [pytest.param(case, id=case) for case in BAD_BYTES] + [
    pytest.param("config-extra", id="config-extra"),
]
BAD_BYTES["config-extra"] = ("MULTI_HAUSER_CONFIG_EXTRA", r'{"FilePrefix": "\377"}',
                             ["MULTI_HAUSER_CONFIG_EXTRA is not valid: not valid UTF-8"])


@pytest.mark.parametrize("case", BAD_BYTES_CASES)
def test_setting_of_bytes_that_are_not_utf8_is_refused(image, containers, session_secrets, case):
    variable, printf_format, expected = BAD_BYTES[case]
    entrypoint = " ".join(image["inspect"]["Config"]["Entrypoint"])
    script = "%s=$(printf '%s') && export %s && exec %s %s" % (
        variable, printf_format.replace("'", "'\\''"), variable, entrypoint, KEYFILE)
    org_ids = new_org_ids(2)
    keys = [session_secrets.api_key(index) for index in range(2)]
    name = containers.run("badbytes-" + case, keyfile=keyfile_text(org_ids, keys), entrypoint="/bin/sh",
                          args=["-c", script])
    assert_refused_before_start(name, expected, session_secrets, keys)


def test_supervisord_loglevel_from_the_environment(containers, session_secrets):
    name, org_ids, _keys = start_orgs(containers, session_secrets, 1, "debug", env={"SUPERVISORD_LOGLEVEL": "debug"})
    wait_all_running(name, org_ids, timeout=30)
    wait_for("supervisord DEBG lines in docker logs", lambda: " DEBG " in logs(name), 30)
    wait_running_lines(name, org_ids)
    assert_no_secret(logs(name), session_secrets, "docker logs at debug level")


# --- the entrypoint's files: links and foreign files replaced, never followed ----------------------

ROOT_ONLY = "/root-only"  # where a test mounts root's own files, read-write, as targets of planted links
# In the image: root's files and directories that a link may point at (the collection's code, which
# root runs: a hauser-owned copy would hand root's entrypoint and monitor to hauser). Not
# /etc/multi-hauser, where the entrypoint writes the monitor's config at each start.
IMAGE_TARGETS = ("/etc/shadow", "/root", "/usr/local/lib/multi-hauser")


def need_root():
    if os.geteuid() != 0:
        pytest.skip("makes files of uid %d and root-only files on the host: needs root" % HAUSER_UID)


def make_dir(path, uid, gid, mode):
    path.mkdir()
    os.chown(path, uid, gid)
    path.chmod(mode)
    return path


def make_file(path, content, uid, gid, mode):
    path.write_text(content)
    os.chown(path, uid, gid)
    path.chmod(mode)
    return path


def make_link(target, path, uid=HAUSER_UID, gid=HAUSER_GID):
    os.symlink(target, path)
    os.lchown(path, uid, gid)
    return path


def tree(root):
    """{path under root: (kind, uid, gid, mode, inode, mtime, content digest | link target)} of root
    and everything below it, links never followed (the number of links apart: see links())."""
    found = {}

    def visit(path, relative):
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            what = os.readlink(path)
        elif stat.S_ISREG(info.st_mode):
            what = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        else:
            what = None
        found[relative] = (stat.S_IFMT(info.st_mode), info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode),
                           info.st_ino, info.st_mtime_ns, what)
        if stat.S_ISDIR(info.st_mode):
            for entry in sorted(os.listdir(path)):
                visit(os.path.join(path, entry), os.path.join(relative, entry))

    visit(str(root), ".")
    return found


def owner_mode(path):
    info = os.lstat(path)
    return stat.S_IFMT(info.st_mode), info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)


DIRECTORY, REGULAR = stat.S_IFDIR, stat.S_IFREG


def test_entrypoint_replaces_planted_links_and_takes_the_old_layout_over(containers, session_secrets, tmp_path):
    """A persistent /var/lib/multi-hauser (and save directory) of an earlier container, where the
    hauser user replaced every entry it could rename by a link to a root-only file or directory:
    the org directories of the older layout were hauser's. And what only root could have planted:
    a link where an org's directory goes, a hard link, a FIFO, a file where a directory goes. The
    entrypoint replaces each, never following, reading or showing one; takes the old org
    directories over in place; the targets keep owner, mode and content; every org runs."""
    need_root()
    secret = session_secrets.secret("root-only file")
    root_only = make_dir(tmp_path / "root-only", 0, 0, 0o700)
    make_file(root_only / "secret.txt", "root only: %s\n" % secret, 0, 0, 0o600)
    make_file(root_only / "hard.txt", "root only, hard link: %s\n" % secret, 0, 0, 0o600)
    for directory in ("dir", "dir2"):
        make_dir(root_only / directory, 0, 0, 0o700)
        make_file(root_only / directory / "inside.txt", "root only, inside: %s\n" % secret, 0, 0, 0o600)
    base = make_dir(tmp_path / "base", 0, HAUSER_GID, 0o750)
    save = make_dir(tmp_path / "save", 0, HAUSER_GID, 0o750)

    org_ids = new_org_ids(4)
    old_a, old_b, link_c, planted_d = org_ids
    # The older layout: the org's directory is hauser's, and so may be every entry in it.
    for org_id in (old_a, old_b):
        make_dir(base / org_id, HAUSER_UID, HAUSER_GID, 0o750)
        make_file(base / org_id / "leftover.json", "{}\n", HAUSER_UID, HAUSER_GID, 0o640)
    make_link(ROOT_ONLY + "/secret.txt", base / old_a / "config.toml")
    make_link(ROOT_ONLY + "/dir", base / old_a / "tmp")
    make_link(ROOT_ONLY + "/dir", save / old_a)
    make_link("/etc/shadow", base / old_b / "config.toml")
    make_link("/root", base / old_b / "tmp")
    make_link("/usr/local/lib/multi-hauser", save / old_b)
    # What only root could plant in its own directories.
    make_link(ROOT_ONLY + "/dir2", base / link_c, 0, 0)
    make_file(save / link_c, "a file where a directory goes: %s\n" % secret, 0, 0, 0o600)
    make_dir(base / planted_d, 0, HAUSER_GID, 0o750)
    os.link(root_only / "hard.txt", base / planted_d / "config.toml")
    os.mkfifo(base / planted_d / "tmp", 0o600)
    os.chown(base / planted_d / "tmp", HAUSER_UID, HAUSER_GID)
    make_link(ROOT_ONLY + "/secret.txt", save / planted_d)

    targets_before = tree(root_only)
    inodes_before = {org_id: os.lstat(base / org_id).st_ino for org_id in (old_a, old_b)}
    keys = [session_secrets.api_key(index) for index in range(4)]
    name = containers.run("links", keyfile=keyfile_text(org_ids, keys), volumes=[
        (base, BASE_DIR, "rw"), (save, SAVE_DIR, "rw"), (root_only, ROOT_ONLY, "rw")])
    wait_all_running(name, org_ids, timeout=30)
    found, log = wait_running_lines(name, org_ids)
    assert_delays(found, org_ids, [DAY_MINUTES + 10 * index for index in range(4)])

    # The targets: unchanged, and nothing of them shown.
    after = tree(root_only)
    assert after == targets_before, "the root-only targets changed:\n%s" % "\n".join(
        "%s: %s -> %s" % (path, targets_before.get(path), after.get(path))
        for path in sorted(set(after) | set(targets_before)) if after.get(path) != targets_before.get(path))
    assert os.lstat(root_only / "hard.txt").st_nlink == 1, "the hard link planted as a config.toml was kept"
    assert_no_secret(log, session_secrets, "docker logs")
    for text in (ROOT_ONLY, "/etc/shadow", "root only"):
        assert text not in log, "%r in docker logs:\n%s" % (text, log[-4000:])
    changed = [line for line in docker("diff", name).stdout.splitlines()
               if any(line.split(" ", 1)[1] == path or line.split(" ", 1)[1].startswith(path + "/")
                      for path in IMAGE_TARGETS)]
    assert not changed, "the image's root-only files changed: %s" % changed
    assert path_stats(name, IMAGE_TARGETS) == path_stats(None, IMAGE_TARGETS, image=containers.image)

    # The new layout, the older org directories taken over in place (their other files kept).
    assert owner_mode(base) == owner_mode(save) == (DIRECTORY, 0, HAUSER_GID, 0o750)
    for org_id, key in zip(org_ids, keys):
        org_dir = base / org_id
        assert owner_mode(org_dir) == (DIRECTORY, 0, HAUSER_GID, 0o750), org_id
        config = org_dir / "config.toml"
        assert owner_mode(config) == (REGULAR, 0, HAUSER_GID, 0o640), org_id
        assert os.lstat(config).st_nlink == 1, org_id
        parsed = tomllib.loads(config.read_text())
        assert parsed["FsApiToken"] == key and parsed["TmpDir"] == "%s/%s/tmp" % (BASE_DIR, org_id), org_id
        assert parsed["local"]["SaveDir"] == "%s/%s" % (SAVE_DIR, org_id), org_id
        assert owner_mode(org_dir / "tmp") == (DIRECTORY, HAUSER_UID, HAUSER_GID, 0o750), org_id
        assert owner_mode(save / org_id) == (DIRECTORY, HAUSER_UID, HAUSER_GID, 0o750), org_id
    for org_id in (old_a, old_b):
        assert os.lstat(base / org_id).st_ino == inodes_before[org_id], "%s: not taken over in place" % org_id
        assert (base / org_id / "leftover.json").read_text() == "{}\n", org_id
    programs = ["%s/%s%s.conf" % (PROGRAM_DIR, PROGRAM_PREFIX, org_id) for org_id in org_ids]
    for path, info in path_stats(name, programs).items():
        assert info is not None and info[:4] == [REGULAR, 0, 0, 0o600], (path, info)


def _refused_on_path(name, expected, session_secrets, untouched):
    """The container exited with 2 before supervisord started, its message naming the path (each
    expected text), with no traceback and no secret; and each (directory, tree before) untouched."""
    state = wait_exited_or_started(name)
    log = logs(name)
    assert state["Status"] == "exited" and state["ExitCode"] == 2, "%s; log:\n%s" % (state["Status"], log[-4000:])
    messages = [line for line in log.splitlines() if line.startswith("multi-hauser: ")]
    for text in expected:
        assert any(text in line for line in messages), "%r not in the messages %r" % (text, messages)
    for sign_of_start in (STANDIN_RUNNING, "spawned:", "supervisord started", "starting supervisord", "Traceback"):
        assert sign_of_start not in log, "%r in the log of a refused start:\n%s" % (sign_of_start, log)
    assert_no_secret(log, session_secrets, "the log of %s" % name)
    for directory, before in untouched:
        assert tree(directory) == before, "%s changed" % directory


UNTRUSTED = "is not owned by root, or others may write in it: root will not manage files under it"
# id: (where the directory is mounted, its owner, group and mode, what it holds, the settings,
#      the path the message names)
UNSAFE_DIRS = {
    "base-dir-owned-by-hauser": (BASE_DIR, HAUSER_UID, HAUSER_GID, 0o750, (), {}, BASE_DIR),
    "base-dir-writable-by-its-group": (BASE_DIR, 0, HAUSER_GID, 0o770, (), {}, BASE_DIR),
    "base-dir-writable-by-others": (BASE_DIR, 0, 0, 0o757, (), {}, BASE_DIR),
    "save-dir-owned-by-hauser": (SAVE_DIR, HAUSER_UID, HAUSER_GID, 0o750, (), {}, SAVE_DIR),
    # root's save directory, in a directory that hauser owns (and may rename its entries)
    "save-dir-below-a-dir-of-hauser": (SAVE_DIR, HAUSER_UID, HAUSER_GID, 0o750, ("exports",),
                                       {"MULTI_HAUSER_LOCAL_SAVE_DIR": SAVE_DIR + "/exports"}, SAVE_DIR),
    "program-dir-owned-by-hauser": (PROGRAM_DIR, HAUSER_UID, HAUSER_GID, 0o755, (), {}, PROGRAM_DIR),
}


@pytest.mark.parametrize("case", list(UNSAFE_DIRS), ids=list(UNSAFE_DIRS))
def test_deployment_directory_others_may_change_stops_the_container(containers, session_secrets, tmp_path, case):
    need_root()
    target, uid, gid, mode, inside, env, named = UNSAFE_DIRS[case]
    mounted = make_dir(tmp_path / "mounted", uid, gid, mode)
    for entry in inside:
        make_dir(mounted / entry, 0, HAUSER_GID, 0o750)
    before = tree(mounted)
    name, _org_ids, _keys = start_orgs(containers, session_secrets, 2, "unsafe-" + case[:20], env=env,
                                       volumes=[(mounted, target, "rw")])
    _refused_on_path(name, ["%s (on the way to " % named, UNTRUSTED], session_secrets, [(mounted, before)])


# id: (where the directory is mounted, its owner, group and mode, the entry planted in it from the
#      org ids (a directory), the path of the entry in the container)
PLANTED_DIRS = {
    "config-of-an-old-org-dir": (BASE_DIR, 0, HAUSER_GID, 0o750, lambda o: "%s/config.toml" % o,
                                 lambda o: "%s/%s/config.toml" % (BASE_DIR, o)),
    "program-file": (PROGRAM_DIR, 0, 0, 0o755, lambda o: "%s%s.conf" % (PROGRAM_PREFIX, o),
                     lambda o: "%s/%s%s.conf" % (PROGRAM_DIR, PROGRAM_PREFIX, o)),
    "group-file": (PROGRAM_DIR, 0, 0, 0o755, lambda o: "orgs.group.conf", lambda o: PROGRAM_DIR + "/orgs.group.conf"),
}


@pytest.mark.parametrize("case", list(PLANTED_DIRS), ids=list(PLANTED_DIRS))
def test_directory_where_a_file_of_ours_goes_stops_the_container(containers, session_secrets, tmp_path, case):
    need_root()
    target, uid, gid, mode, entry, named = PLANTED_DIRS[case]
    org_ids = new_org_ids(2)
    mounted = make_dir(tmp_path / "mounted", uid, gid, mode)
    planted = mounted / entry(org_ids[0])
    if planted.parent != mounted:  # an org directory of the older layout, hauser's
        make_dir(planted.parent, HAUSER_UID, HAUSER_GID, 0o750)
    make_dir(planted, HAUSER_UID, HAUSER_GID, 0o750)
    make_file(planted / "inside.txt", "planted: %s\n" % session_secrets.secret("planted file"),
              HAUSER_UID, HAUSER_GID, 0o640)
    before = tree(planted)
    keys = [session_secrets.api_key(index) for index in range(2)]
    name = containers.run("planted-" + case[:20], keyfile=keyfile_text(org_ids, keys),
                          volumes=[(mounted, target, "rw")])
    _refused_on_path(name, ["%s is a directory, where a file of ours should be" % named(org_ids[0])],
                     session_secrets, [(planted, before)])
    assert "planted" not in logs(name)


# --- one container for several checks: a key file with a CSV header, secrets given at run time ----

HEADER_NOTE = "multi-hauser: %s line 1 names the columns (a CSV header): skipped" % KEYFILE
# Secrets come when the container runs, as environment variables that supervisord passes to every
# hauser: one a hauser reads itself, one a setting of the image (MULTI_HAUSER_REDSHIFT_PASSWORD,
# unused by the local provider, but in the environment all the same).
RUN_TIME_SECRETS = ("AWS_SECRET_ACCESS_KEY", "MULTI_HAUSER_REDSHIFT_PASSWORD")


@pytest.fixture(scope="module")
def shared_run(module_containers, session_secrets):
    """A container of 3 orgs from a key file whose first line is a CSV header, given the secrets of
    RUN_TIME_SECRETS with docker run -e."""
    org_ids = new_org_ids(3)
    keys = [session_secrets.api_key(index) for index in range(3)]
    environment = dict((variable, session_secrets.secret("run-time secret environment"))
                       for variable in RUN_TIME_SECRETS)
    text = "org_id,api_key\n" + "".join("%s,%s\n" % pair for pair in zip(org_ids, keys))
    name = module_containers.run("shared", keyfile=text, env=environment)
    wait_all_running(name, org_ids, timeout=30)
    return {"name": name, "org_ids": org_ids, "keys": keys, "environment": environment}


# A spreadsheet's export: a byte order mark, quoted column names, CRLF line ends.
HEADER_STYLES = {"plain": None, "spreadsheet": '\ufeff"org_id","api_key"\r\n'}


@pytest.mark.parametrize("style", list(HEADER_STYLES))
def test_csv_header_line_is_skipped_with_a_note(request, containers, session_secrets, style):
    if HEADER_STYLES[style] is None:
        run = request.getfixturevalue("shared_run")
        name, org_ids = run["name"], run["org_ids"]
    else:
        org_ids = new_org_ids(2)
        keys = [session_secrets.api_key(index) for index in range(2)]
        name = containers.run("header-" + style, keyfile=HEADER_STYLES[style] + "".join(
            "%s,%s\r\n" % pair for pair in zip(org_ids, keys)))
        wait_all_running(name, org_ids, timeout=30)
    stdout, stderr = split_logs(name)
    assert HEADER_NOTE in stdout.splitlines(), "no note of the header on stdout:\n%s" % stdout[-3000:]
    assert HEADER_NOTE not in stderr
    assert "multi-hauser: %d org(s) from %s; starting supervisord" % (len(org_ids), KEYFILE) in stdout
    # The header is no org: exactly the key file's orgs run, staggered from the first.
    programs = set(program for program in supervisor_status(name) if program.startswith(PROGRAM_PREFIX))
    assert programs == set(PROGRAM_PREFIX + org_id for org_id in org_ids), programs
    found = wait_running_lines(name, org_ids)[0]
    assert_delays(found, org_ids, [DAY_MINUTES + 10 * index for index in range(len(org_ids))])


# The entrypoint, which the image holds as it is: reading it proves that a scan read files.
IMAGE_ENTRYPOINT = "/usr/local/lib/multi-hauser/entrypoint.py"
NOBODY = "65534:65534"


def test_run_time_secret_environment_reaches_every_hauser_and_nothing_else(shared_run, session_secrets):
    name, environment = shared_run["name"], shared_run["environment"]
    procs, hauser_uid = processes(name, env_names=RUN_TIME_SECRETS)
    hausers = [proc for proc in procs if is_hauser_process(proc)]
    assert len(hausers) == len(shared_run["org_ids"]), [proc["argv"] for proc in hausers]
    for proc in hausers:
        for variable, value in environment.items():
            assert proc["env"].get(variable) == value, "%s did not reach hauser %s exactly" % (variable, proc["pid"])
    hauser_pids = set(proc["pid"] for proc in procs if proc["uids"][0] == hauser_uid)

    log = logs(name)
    assert_no_secret(log, session_secrets, "docker logs")
    for variable, value in environment.items():
        assert value not in log, "%s in docker logs" % variable
        # Whose environment others (nobody) and hauser can read: none, and hauser's own processes.
        readable, holding = environ_readers(name, NOBODY, value)
        assert not holding, "%s readable by uid 65534 in /proc/%s/environ" % (variable, sorted(holding))
        readable, holding = environ_readers(name, "hauser", value)
        assert holding and holding <= hauser_pids, (variable, sorted(holding), sorted(hauser_pids))
    # No file of the container's filesystem holds one (the program files hold no run-time value),
    # unless only root may read it.
    started = time.monotonic()
    hits, count, known = export_scan(name, [value.encode() for value in environment.values()], IMAGE_ENTRYPOINT)
    FIGURES["docker export + scan of a container (s)"] = "%.1f" % (time.monotonic() - started)
    assert known == KNOWN_IMAGE_FILE.read_bytes() and count > 1000, "the scan read nothing (%d entries)" % count
    for found in hits.values():
        shown = dict((path, (uid, gid, oct(mode))) for path, (uid, gid, mode) in found.items()
                     if uid != 0 or mode & 0o077)
        assert not shown, "a run-time secret in files that uid %d or others may read: %s" % (HAUSER_UID, shown)
    FIGURES["files holding a run-time secret (root-only)"] = sum(len(found) for found in hits.values())


# --- builds that must fail, and leave nothing behind ----------------------------------------------

_BUILDER_NAME = re.compile(r"multi-hauser-builder-[a-z0-9]{8}")


def failed_build(image, build_env, tmp_path, extra_vars):
    """Run build_image that must fail: based on the built image (Python already there, so no apt),
    to a name that must not appear. Return its output, after checking that it failed and left
    neither its builder container, nor the builder's commit, nor the image."""
    target = session_name("mh-it/must-not-exist:%s" % secrets.token_hex(3))
    variables = {
        "multi_hauser_image": target,
        "multi_hauser_base_image": image["name"],
        "multi_hauser_builder_network": "host",
        "multi_hauser_provider": "local",
        "multi_hauser_local_save_dir": "/srv/hauser-data",
        "multi_hauser_download_url": build_env["releases"] + "/v{{ multi_hauser_version }}",
        "multi_hauser_cache_dir": str(tmp_path / "cache"),
    }
    variables.update(extra_vars)
    code, output, _seconds = run_build_image(variables, tmp_path / "build.log", timeout=600)
    finished = datetime.now(timezone.utc)
    assert code != 0, "the build did not fail:\n%s" % output[-4000:]
    assert "The image was not built" in output, output[-4000:]
    assert docker("image", "inspect", target, check=False).returncode != 0, "%s was made" % target

    builders = set(_BUILDER_NAME.findall(output))
    assert builders, "no builder container named in the output:\n%s" % output[-4000:]
    for builder in builders:
        assert docker("container", "inspect", builder, check=False).returncode != 0, "%s was left" % builder
        assert docker("image", "inspect", builder + ":committed", check=False).returncode != 0
    # No builder container at all, but one that a build started after this one ended.
    left = docker("ps", "--all", "--quiet", "--filter", "label=hauser.multi_hauser.builder=" + target).stdout.split()
    for container in left:
        created = docker("inspect", "--format", "{{.Created}}", container, check=False).stdout.strip()
        if created:
            when = datetime.strptime(created[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
            assert when > finished, "builder container %s (created %s) left behind" % (container, created)
    return output


@pytest.mark.parametrize("variable", ["multi_hauser_keyfile", "multi_hauser_gcp_credentials_file"])
def test_build_refuses_keys_and_credentials(image, build_env, tmp_path, session_secrets, variable):
    secret_file = tmp_path / "secret"
    if variable == "multi_hauser_keyfile":
        secret_file.write_text(keyfile_text(new_org_ids(2), [session_secrets.api_key(i) for i in range(2)]))
    else:
        secret_file.write_text(session_secrets.credentials_json())
    output = failed_build(image, build_env, tmp_path, {variable: str(secret_file)})
    assert "An image must hold no key and no credential" in output, output[-4000:]
    assert_no_secret(output, session_secrets, "the build's output")


REFUSED_IN_IMAGE = "An image must hold no key and no credential: with multi_hauser_mode=image, leave %s empty"
LOOKS_SECRET = "multi_hauser_environment: %s look like secrets"
# id: (extra variables from the session's secrets (s), the text the refusal must hold). Each is
# given alone; structured values arrive as they are (-e @file).
BUILD_SECRETS = {
    "orgs": (lambda s: {"multi_hauser_orgs": [{"org_id": org_id, "api_key": s.api_key(index)}
                                              for index, org_id in enumerate(new_org_ids(2))]},
             REFUSED_IN_IMAGE % "multi_hauser_orgs"),
    "redshift-password": (lambda s: {"multi_hauser_redshift_password": s.secret("build: Redshift password")},
                          REFUSED_IN_IMAGE % "multi_hauser_redshift_password"),
    "redshift-credentials": (lambda s: {"multi_hauser_redshift_credentials": "aws_access_key_id=AKIAEXAMPLE;"
                                        "aws_secret_access_key=" + s.secret("build: Redshift credentials")},
                             REFUSED_IN_IMAGE % "multi_hauser_redshift_credentials"),
    "secret-environment": (lambda s: {"multi_hauser_secret_environment": {
        "AWS_SECRET_ACCESS_KEY": s.secret("build: secret environment")}},
        REFUSED_IN_IMAGE % "multi_hauser_secret_environment"),
    # refused in any mode: one key for every org
    "config-extra-fsapitoken": (lambda s: {"multi_hauser_config_extra": {"FsApiToken": s.api_key()}},
                                "multi_hauser_config_extra: FsApiToken cannot be set here (each org's key comes "
                                "from the key file)"),
    "config-extra-redshift-password": (lambda s: {"multi_hauser_config_extra": {
        "redshift": {"Password": s.secret("build: config_extra")}}}, REFUSED_IN_IMAGE % "multi_hauser_config_extra"),
    "config-extra-redshift-credentials": (lambda s: {"multi_hauser_config_extra": {
        "redshift": {"Credentials": s.secret("build: config_extra")}}}, REFUSED_IN_IMAGE % "multi_hauser_config_extra"),
    "config-extra-header-value": (lambda s: {"multi_hauser_config_extra": {"AdditionalHttpHeader": [
        {"Key": "Authorization", "Value": "Bearer " + s.secret("build: config_extra")}]}},
        REFUSED_IN_IMAGE % "multi_hauser_config_extra"),
    # hauser matches its keys in any case: so does the refusal.
    "config-extra-other-spellings": (lambda s: {"multi_hauser_config_extra": {
        "REDSHIFT": {"password": s.secret("build: config_extra")},
        "additionalhttpheader": [{"key": "X-Token", "value": s.secret("build: config_extra")}]}},
        REFUSED_IN_IMAGE % "multi_hauser_config_extra"),
    # Secrets belong in multi_hauser_secret_environment, which the build refuses.
    "environment-secret-name": (lambda s: {"multi_hauser_environment": {"FS_API_TOKEN": s.secret("build: environment")}},
                                LOOKS_SECRET % "FS_API_TOKEN"),
    "environment-url-with-password": (lambda s: {"multi_hauser_environment": {
        "HTTPS_PROXY": "http://proxy-user:%s@proxy.invalid:3128" % s.secret("build: environment")}},
        LOOKS_SECRET % "HTTPS_PROXY"),
}


@pytest.mark.parametrize("case", list(BUILD_SECRETS), ids=list(BUILD_SECRETS))
def test_build_refuses_every_secret(image, build_env, tmp_path, session_secrets, case):
    make, expected = BUILD_SECRETS[case]
    known = len(session_secrets.values)
    extra_vars = make(session_secrets)
    given = session_secrets.values[known:]
    assert given, "the case uses no secret of the session"
    started = time.monotonic()
    output = failed_build(image, build_env, tmp_path, extra_vars)
    FIGURES["refused build (s)"] = "%.1f" % (time.monotonic() - started)
    assert expected in output, output[-4000:]
    assert_no_secret(output, session_secrets, "the build's output")
    for value in given:
        assert value not in output


def test_failed_download_leaves_no_builder(image, build_env, tmp_path):
    output = failed_build(image, build_env, tmp_path, {"multi_hauser_download_url": "http://127.0.0.1:9/"})
    assert "Download the release's checksums" in output, output[-4000:]


# --- last: nothing of any key or credential of the session is in the image ------------------------

# The role's entrypoint, which the image holds as it is: finding it proves that the layers were read.
KNOWN_IMAGE_FILE = Path(__file__).resolve().parents[2] / "roles" / "multi_hauser" / "files" / "entrypoint.py"


def scan_saved_image(path, needle):
    """Search a `docker save` archive for needle: its members' names and contents, and inside each
    member that is a tar (a layer), every file's name, link target and content.
    Return (hits, number of layers read, whether a file with the content of KNOWN_IMAGE_FILE was seen)."""
    known_content = KNOWN_IMAGE_FILE.read_bytes()
    hits, layers, known = [], 0, False
    with tarfile.open(path) as outer:
        for member in outer:
            if not member.isfile():
                continue
            if needle in member.name.encode():
                hits.append(member.name)
            try:
                with tarfile.open(fileobj=outer.extractfile(member), mode="r|*") as layer:
                    layers += 1
                    for entry in layer:
                        where = "%s:%s" % (member.name, entry.name)
                        if needle in entry.name.encode() or needle in (entry.linkname or "").encode():
                            hits.append(where)
                        if entry.isfile():
                            content = layer.extractfile(entry).read()
                            if needle in content:
                                hits.append(where)
                            known = known or content == known_content
                continue
            except tarfile.ReadError:
                pass
            if needle in outer.extractfile(member).read():
                hits.append(member.name)
    return hits, layers, known


def test_no_key_or_credential_in_the_image(image, session_secrets, tmp_path):
    """Every secret of the session holds its marker: the API keys and credentials, the secrets of
    the refused builds, the values given at run time (secret environment, bad settings), the
    content of the root-only files that links pointed at. So one search for the marker is a search
    for each of them, whole, in the image's every layer, its history and its configuration."""
    marker = session_secrets.marker.encode()
    assert session_secrets.values, "no key or credential was used in this session"
    assert all(session_secrets.marker in value for value in session_secrets.values)
    FIGURES["secrets of the session searched for"] = ", ".join(
        "%d %s" % (count, kind) for kind, count in sorted(session_secrets.kinds.items()))

    archive = tmp_path / "image.tar"
    started = time.monotonic()
    try:
        docker("save", "--output", archive, image["name"], timeout=600)
        hits, layers, known = scan_saved_image(archive, marker)
    finally:
        archive.unlink(missing_ok=True)  # 200 MB, in a temporary directory pytest keeps
    FIGURES["docker save + scan of every layer (s)"] = "%.1f" % (time.monotonic() - started)
    assert layers >= len(image["inspect"]["RootFS"]["Layers"]), "only %d layer tars read" % layers
    assert known, "the scan did not see the entrypoint: it read nothing"
    assert not hits, "key or credential material in the image: %s" % hits

    history = docker("history", "--no-trunc", image["name"]).stdout
    assert len(history.splitlines()) > 1, history
    assert_no_secret(history, session_secrets, "docker history")
    assert_no_secret(docker("image", "inspect", image["name"]).stdout, session_secrets, "docker image inspect")
    assert_no_secret(image["build_output"], session_secrets, "the build's output")
