"""The hauser stand-in: built like a release, it accepts and rejects configs as hauser 1.5.1 does,
never shows the API token, and its release files are served under GitHub's URL layout."""

import collections
import copy
import datetime
import hashlib
import io
import json
import os
import re
import select
import signal
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

TOKEN = "Zq8vK2pL9wX3mT5r"
ENV_TOKEN = "Hm4Rt7Yb1Nc6Gd0s"
RUNNING = re.compile(
    r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d hauser stand-in (?P<version>\S+) running: "
    r"config=(?P<config>\S+) dir=(?P<dir>\S+) provider=(?P<provider>\S+) "
    r"ExportDelay=(?P<delay>\S+) token=(?P<token>\S+)$",
    re.MULTILINE,
)
LOG_LINE = r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d "
GO_DURATION = Path(__file__).resolve().parents[2] / "plugins" / "module_utils" / "core" / "durations.py"


# Configs, as dicts of top-level keys and [section] dicts.

def gcp_config():
    return {
        "FsApiToken": TOKEN, "Backoff": "30s", "BackoffStepsMax": 8, "TmpDir": "tmp/csv",
        "ExportDuration": "6h", "ExportDelay": "1450m", "Provider": "gcp",
        "gcs": {"Bucket": "fs-exports"},
        "bigquery": {"Project": "analytics", "Dataset": "fullstory",
                     "ExportTable": "fs_export_o_1A2B3C_na1", "SyncTable": "fs_sync_o_1A2B3C_na1"},
    }


def aws_config():
    return {
        "FsApiToken": TOKEN, "ExportDuration": "1h", "ExportDelay": "3h", "Provider": "aws",
        "s3": {"Bucket": "fs-exports/hauser", "Region": "us-east-2", "Timeout": "5m"},
        "redshift": {"Host": "example.redshift.amazonaws.com", "Port": "5439", "DB": "dev",
                     "User": "hauser", "Password": "pa55=word", "ExportTable": "fsexport",
                     "SyncTable": "fssync", "DatabaseSchema": "public",
                     "Credentials": "aws_iam_role=arn:aws:iam::123:role/x", "VarCharMax": 65535},
    }


def local_config(save_dir="/"):
    return {"FsApiToken": TOKEN, "Provider": "local", "local": {"SaveDir": str(save_dir)}}


CONFIGS = {"gcp": gcp_config, "aws": aws_config, "local": local_config}


def changed(config, changes):
    """config with changes applied: "Key" or "section.Key" -> value, None deletes."""
    config = copy.deepcopy(config)
    for path, value in changes.items():
        *sections, key = path.split(".")
        table = config
        for section in sections:
            table = table.setdefault(section, {})
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return config


def render(config):
    lines = ["%s = %s" % (key, _toml(value)) for key, value in config.items()
             if not isinstance(value, dict)]
    for name, table in config.items():
        if isinstance(table, dict):
            lines.append("[%s]" % name)
            lines.extend("%s = %s" % (key, _toml(value)) for key, value in table.items())
    return "\n".join(lines) + "\n"


def _toml(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[%s]" % ", ".join(map(_toml, value))
    if isinstance(value, dict):
        return "{%s}" % ", ".join("%s = %s" % (key, _toml(item)) for key, item in value.items())
    return json.dumps(value)


# Running the stand-in.

def clean_env(**extra):
    env = {key: value for key, value in os.environ.items()
           if key not in ("FULLSTORY_API_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS")}
    env.update(extra)
    return env


def assert_no_token(*outputs):
    for text in outputs:
        for secret in (TOKEN, ENV_TOKEN):
            for start in range(len(secret) - 4):
                assert secret[start:start + 5] not in text


def _command(hauser, org_dir, args, config, program):
    """Write config (a dict or TOML text) to org_dir/config.toml; return the command line."""
    if config is not None:
        (org_dir / "config.toml").write_text(config if isinstance(config, str) else render(config))
    return [*program, str(hauser), *args]


Result = collections.namedtuple("Result", "status stdout stderr")


@pytest.fixture
def run(hauser, org_dir):
    """Run the stand-in to its end in org_dir; return its Result."""
    def run_hauser(*args, config=None, env=None, program=()):
        command = _command(hauser, org_dir, args, config, program)
        result = subprocess.run(command, cwd=org_dir, env=env or clean_env(), capture_output=True,
                                text=True, timeout=10, check=False)
        assert_no_token(result.stdout, result.stderr)
        return Result(result.returncode, result.stdout, result.stderr)
    return run_hauser


class Started:
    def __init__(self, process, stderr):
        self.process = process
        self.stderr = stderr
        self.running = RUNNING.search(stderr)


@pytest.fixture
def start(hauser, org_dir):
    """Start the stand-in in org_dir and wait for its "running" line; kill it at teardown."""
    processes = []

    def start_hauser(*args, config=None, env=None, program=()):
        command = _command(hauser, org_dir, args, config, program)
        process = subprocess.Popen(command, cwd=org_dir, env=env or clean_env(),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        processes.append(process)
        stderr = _read_until_running(process)
        assert_no_token(stderr)
        return Started(process, stderr)

    yield start_hauser
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()
        process.stderr.close()


def _read_until_running(process, timeout=10):
    deadline = time.monotonic() + timeout
    text = ""
    while not RUNNING.search(text):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([process.stderr], [], [], remaining)[0]:
            pytest.fail("no running line within %ss:\n%s" % (timeout, text))
        chunk = os.read(process.stderr.fileno(), 65536).decode()
        if not chunk:
            pytest.fail("exited with %s before running:\n%s" % (process.wait(), text))
        text += chunk
    return text


def assert_stays_up_until(started, signum):
    time.sleep(0.2)
    assert started.process.poll() is None
    started.process.send_signal(signum)
    assert started.process.wait(timeout=5) == -signum
    assert started.process.stdout.read() == b""


# Version and flags.

@pytest.mark.parametrize("flag", ["-version", "--version", "-version=true"])
def test_version_prints_the_built_version(run, flag):
    assert run(flag) == (0, "hauser 1.5.1\n", "")


def test_each_build_reports_its_own_version(installed):
    result = subprocess.run([str(installed["1.5.0"]), "-version"], capture_output=True, text=True,
                            check=True)
    assert result.stdout == "hauser 1.5.0\n"


@pytest.mark.parametrize("args", [
    ("-c", "config.toml"), ("--c", "config.toml"), ("-c=config.toml",), ("--c=config.toml",),
    ("-version=false", "-c", "config.toml"), (), ("-c", "config.toml", "extra", "-version"),
])
def test_config_flag_is_parsed_like_go(start, org_dir, args):
    (org_dir / "config.toml").write_text(render(gcp_config()))
    started = start(*args)
    assert started.running["config"] == str(org_dir / "config.toml")


@pytest.mark.parametrize("args, message", [
    (("-config", "x.toml"), "flag provided but not defined: -config"),
    (("-c",), "flag needs an argument: -c"),
    (("---c", "x"), "bad flag syntax: ---c"),
    (("-version=yes",), 'invalid boolean value "yes" for -version: parse error'),
])
def test_bad_flags_print_usage_and_exit_2(run, args, message):
    status, stdout, stderr = run(*args)
    assert (status, stdout) == (2, "")
    assert stderr.startswith(message + "\nUsage of ")
    assert '  -c string\n    \tconfiguration file (default "config.toml")\n' in stderr


def test_help_prints_usage_and_exits_0(run):
    result = run("-h")
    assert result.status == 0
    assert result.stderr.startswith("Usage of ") and "  -version\n    \tprint version\n" in result.stderr


# Valid configs: start, log the running line, idle, end on a signal.

@pytest.mark.parametrize("provider", sorted(CONFIGS))
def test_valid_config_starts_and_ends_on_sigterm(start, org_dir, provider):
    started = start(config=CONFIGS[provider]())
    assert started.running.groupdict() == {
        "version": "1.5.1", "config": str(org_dir / "config.toml"), "dir": str(org_dir),
        "provider": provider, "delay": {"gcp": "24h10m0s", "aws": "3h0m0s", "local": "24h0m0s"}[provider],
        "token": "FsApiToken",
    }
    assert_stays_up_until(started, signal.SIGTERM)


def test_sigint_ends_it_too(start):
    assert_stays_up_until(start(config=gcp_config()), signal.SIGINT)


def test_validate_logs_its_defaults_and_warnings(start):
    started = start(config={"Warehouse": "bigquery", "StorageOnly": True, "gcs": {"Bucket": "b"}})
    assert re.findall(LOG_LINE + r"(.*)$", started.stderr, re.MULTILINE)[:3] == [
        'INFO: "ExportDuration" not set in config. Defaulting to 1 hour',
        'INFO: "StartTime" not set in config. Defaulting to 30 days in the past',
        'WARNING: The "Warehouse" option is deprecated. Please use "Provider" instead.',
    ]
    assert started.running["provider"] == "gcp"
    assert started.running["delay"] == "24h0m0s"


def test_local_provider_warns_that_it_is_storage_only(start, tmp_path):
    started = start(config=changed(local_config(tmp_path), {"SaveAsJson": True}))
    assert ('WARNING: The "local" provider only supports "StorageOnly = true".\n'
            "          This value will be ignored in your configuration file.\n") in started.stderr


@pytest.mark.parametrize("changes", [
    {"StorageOnly": True, "bigquery": None},
    {"gcs.GCSOnly": True, "bigquery": None, "SaveAsJson": True},
    {"StartTime": datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)},
    {"StartTime": datetime.datetime(2024, 1, 1, 12, 30), "local.StartTime": datetime.datetime(2024, 1, 1)},
    {"PROVIDER": "gcp", "Provider": None, "exportdelay": "2h", "ExportDelay": None},
    {"ExportDelai": "5m", "bigquery.Unknown": 1},
    {"GCS.Unknown": 1},  # a second table for the same struct adds to it
    {"AdditionalHttpHeader": [{"Key": "X-A", "Value": "1"}], "IncludeMobileAppsFields": True},
    {"ExportDuration": "15m"}, {"ExportDuration": "24h"}, {"ExportDuration": "90m"},
    {"ExportDelay": "1h"}, {"ExportDelay": "100000h"}, {"bigquery.PartitionExpiration": "720h"},
], ids=repr)
def test_gcp_variants_that_hauser_accepts(start, changes):
    start(config=changed(gcp_config(), changes))


@pytest.mark.parametrize("changes", [
    {"StorageOnly": True, "redshift": None},
    {"s3.S3Only": True, "redshift": None},
    {"redshift.DatabaseSchema": "search_path"},
], ids=repr)
def test_aws_variants_that_hauser_accepts(start, changes):
    start(config=changed(aws_config(), changes))


def test_case_insensitive_keys_and_start_time_as_toml_datetime(start):
    config = render(changed(gcp_config(), {"Provider": None, "gcs": None}))
    config = 'PROVIDER = "gcp"\nstarttime = 2024-01-01T00:00:00Z\n' + config + '[GCS]\nbucket = "b"\n'
    assert start(config=config).running["provider"] == "gcp"


def test_tmp_dir_is_created(start, org_dir):
    start(config=gcp_config())
    assert (org_dir / "tmp" / "csv").is_dir()


def test_use_start_time_removes_the_local_sync_file(start, tmp_path):
    sync_file = tmp_path / ".sync.hauser"
    sync_file.write_text("2024-01-01T00:00:00Z")
    start(config=changed(local_config(tmp_path), {"local.UseStartTime": True}))
    assert not sync_file.exists()


# The API token: FULLSTORY_API_TOKEN replaces FsApiToken; never shown.

@pytest.mark.parametrize("config_token, env_token, source", [
    (TOKEN, ENV_TOKEN, "FULLSTORY_API_TOKEN"),
    (None, ENV_TOKEN, "FULLSTORY_API_TOKEN"),
    (TOKEN, "", "FsApiToken"),
    (None, "", "empty"),
])
def test_token_source_is_logged_never_the_token(start, config_token, env_token, source):
    config = changed(gcp_config(), {"FsApiToken": config_token})
    started = start(config=config, env=clean_env(FULLSTORY_API_TOKEN=env_token))
    assert started.running["token"] == source


@pytest.mark.parametrize("config", [
    'FsApiToken = "%s\x01"\nProvider = "gcp"\n' % TOKEN,
    'FsApiToken = "%s\nProvider = "gcp"\n' % TOKEN,
    'FsApiToken = %s\n' % TOKEN,
    '%s = 1\n%s = 2\n' % (TOKEN, TOKEN),
    'FsApiToken = ["%s", 1]\n' % TOKEN,
    'FsApiToken = "%s"\nFsApiToken.x = "%s"\n' % (TOKEN, TOKEN),
], ids=["control-char", "unterminated", "bare", "duplicate-key", "wrong-type", "dotted"])
def test_token_is_not_echoed_by_errors(run, config):
    result = run(config=config, env=clean_env(FULLSTORY_API_TOKEN=ENV_TOKEN))
    assert result.status == 1 and result.stderr  # and run() asserted that neither token shows


# Invalid configs: exit status and message as hauser's.

INVALID = {
    # config.Load: reading and decoding
    "Backoff as integer": (gcp_config, {"Backoff": 30}, 'time: missing unit in duration "30"'),
    "ExportDelay no unit": (gcp_config, {"ExportDelay": "1450"}, 'time: missing unit in duration "1450"'),
    "ExportDelay bad unit": (gcp_config, {"ExportDelay": "1d"}, 'time: unknown unit "d" in duration "1d"'),
    "ExportDuration bool": (gcp_config, {"ExportDuration": True}, 'time: invalid duration "true"'),
    "Timeout table": (aws_config, {"s3.Timeout": {"a": 1}},
                      "toml: cannot load TOML value of type map[string]interface {} into a Go "
                      "primitive (string-like)"),
    "StartTime empty": (gcp_config, {"StartTime": ""},
                        "toml: cannot load TOML value of type string into a Go time.Time"),
    "StartTime quoted": (gcp_config, {"StartTime": "2024-01-01T00:00:00Z"},
                         "toml: cannot load TOML value of type string into a Go time.Time"),
    "BackoffStepsMax string": (gcp_config, {"BackoffStepsMax": "8"},
                               "toml: cannot load TOML value of type string into a Go integer"),
    "StorageOnly string": (gcp_config, {"StorageOnly": "yes"},
                           "toml: cannot load TOML value of type string into a Go boolean"),
    "FsApiToken integer": (gcp_config, {"FsApiToken": 5},
                           "toml: cannot load TOML value of type int64 into a Go string"),
    "headers not array": (gcp_config, {"AdditionalHttpHeader": "x"},
                          "toml: cannot load TOML value of type string into a Go slice"),
    "gcs not table": (gcp_config, {"gcs": None, "GCS": "b"},
                      "toml: type mismatch for config.GCSConfig: expected table but found string"),
    # config.Validate
    "ExportDuration short": (gcp_config, {"ExportDuration": "10m"},
                             "ExportDuration '10m0s' out of range. The range of valid values is "
                             "from 15m0s to 24h0m0s"),
    "ExportDuration long": (gcp_config, {"ExportDuration": "24h0m1s"},
                            "ExportDuration '24h0m1s' out of range. The range of valid values is "
                            "from 15m0s to 24h0m0s"),
    "ExportDuration negative": (gcp_config, {"ExportDuration": "-6h"},
                                "ExportDuration '-6h0m0s' out of range. The range of valid values "
                                "is from 15m0s to 24h0m0s"),
    "ExportDuration uneven": (gcp_config, {"ExportDuration": "7h"},
                              "ExportDuration must be an even fraction of 24 hours"),
    "ExportDelay small": (gcp_config, {"ExportDelay": "59m59s"},
                          '"ExportDelay" configuration value is too small. Minimum value is 1 hour'),
    "PartitionExpiration negative": (gcp_config, {"bigquery.PartitionExpiration": "-1s"},
                                     "BigQuery expiration value must be positive"),
    "no provider": (gcp_config, {"Provider": None},
                    "warehouse type must be specified in configuration"),
    "unknown warehouse": (gcp_config, {"Provider": None, "Warehouse": "snowflake"},
                          "warehouse type 'snowflake' unrecognized"),
    "SaveAsJson gcp": (gcp_config, {"SaveAsJson": True},
                       "hauser doesn't currently support loading JSON into a database. Ensure "
                       "SaveAsJson = false in .toml file"),
    "SaveAsJson aws": (aws_config, {"SaveAsJson": True},
                       "hauser doesn't currently support loading JSON into a database. Ensure "
                       "SaveAsJson = false in .toml file"),
    # core.MakeStorage and warehouse constructors
    "unknown provider": (gcp_config, {"Provider": "bigquery"}, "unknown provider type: bigquery"),
    "provider case": (gcp_config, {"Provider": "GCP"}, "unknown provider type: GCP"),
    "local SaveDir missing": (local_config, {"local.SaveDir": "/nonexistent/save"},
                              "Cannot find folder /nonexistent/save, make sure it exists"),
    "local SaveDir empty": (local_config, {"local": None},
                            "Cannot find folder , make sure it exists"),
    "DatabaseSchema empty": (aws_config, {"redshift.DatabaseSchema": None},
                             "DatabaseSchema definition missing from Redshift configuration. More "
                             "information: https://github.com/fullstorydev/hauser/blob/master/"
                             "Redshift.md#database-schema-configuration"),
    # what hauser only finds out on its first calls
    "bigquery Project": (gcp_config, {"bigquery.Project": ""},
                         "stand-in: [bigquery] Project is not set; hauser 1.5.1 cannot connect to "
                         "BigQuery"),
    "bigquery Dataset": (gcp_config, {"bigquery.Dataset": None},
                         "stand-in: [bigquery] Dataset is not set; hauser 1.5.1 cannot find or "
                         "create its tables"),
    "bigquery ExportTable": (gcp_config, {"bigquery.ExportTable": None},
                             "stand-in: [bigquery] ExportTable is not set; hauser 1.5.1 cannot "
                             "find or create its tables"),
    "bigquery SyncTable": (gcp_config, {"bigquery.SyncTable": None},
                           "stand-in: [bigquery] SyncTable is not set; hauser 1.5.1 cannot find or "
                           "create its tables"),
    "bigquery table name": (gcp_config, {"bigquery.ExportTable": "fs_export_o-1A2B3C-na1"},
                            'stand-in: [bigquery] ExportTable "fs_export_o-1A2B3C-na1" is not made '
                            "of letters, digits and underscores; hauser 1.5.1 puts it unquoted "
                            "into SQL"),
    "gcs Bucket": (gcp_config, {"gcs": None},
                   "stand-in: [gcs] Bucket is not set; hauser 1.5.1 fails on its first GCS call"),
    "gcs Bucket storage only": (gcp_config, {"StorageOnly": True, "gcs.Bucket": ""},
                                "stand-in: [gcs] Bucket is not set; hauser 1.5.1 fails on its "
                                "first GCS call"),
    "s3 Bucket": (aws_config, {"s3.Bucket": None},
                  "stand-in: [s3] Bucket is not set; hauser 1.5.1 fails on its first S3 call"),
    "s3 Region": (aws_config, {"s3.Region": ""},
                  "stand-in: [s3] Region is not set; hauser 1.5.1 fails on its first S3 call"),
    "s3 Timeout missing": (aws_config, {"StorageOnly": True, "s3.Timeout": None},
                           "stand-in: [s3] Timeout is 0s, it must be more than 0s; hauser 1.5.1 "
                           "times out every S3 call"),
    "s3 Timeout negative": (aws_config, {"s3.Timeout": "-5m"},
                            "stand-in: [s3] Timeout is -5m0s, it must be more than 0s; hauser "
                            "1.5.1 times out every S3 call"),
    "redshift Credentials": (aws_config, {"redshift.Credentials": ""},
                             "stand-in: [redshift] Credentials is not set; hauser 1.5.1 cannot "
                             "COPY exports into Redshift"),
    "redshift SyncTable name": (aws_config, {"redshift.SyncTable": "fs sync"},
                                'stand-in: [redshift] SyncTable "fs sync" is not made of letters, '
                                "digits and underscores; hauser 1.5.1 puts it unquoted into SQL"),
    "redshift Password space": (aws_config, {"redshift.Password": "pass word"},
                                "stand-in: [redshift] Password holds whitespace, a backslash or a "
                                "leading quote; hauser 1.5.1 puts it unquoted into its connection "
                                "string"),
    "redshift Password quote": (aws_config, {"redshift.Password": "'secret"},
                                "stand-in: [redshift] Password holds whitespace, a backslash or a "
                                "leading quote; hauser 1.5.1 puts it unquoted into its connection "
                                "string"),
    **{
        "redshift %s" % key: (aws_config, {"redshift." + key: None},
                              "stand-in: [redshift] %s is not set; hauser 1.5.1 cannot connect to "
                              "Redshift" % key)
        for key in ("Host", "Port", "DB", "User", "Password")
    },
    **{
        "redshift %s" % key: (aws_config, {"redshift." + key: ""},
                              "stand-in: [redshift] %s is not set; hauser 1.5.1 cannot find or "
                              "create its tables" % key)
        for key in ("ExportTable", "SyncTable")
    },
}


@pytest.mark.parametrize("make_config, changes, message", INVALID.values(), ids=INVALID.keys())
def test_invalid_config_fails_like_hauser(run, make_config, changes, message):
    status, stdout, stderr = run("-c", "config.toml", config=changed(make_config(), changes))
    assert (status, stdout) == (1, "")
    assert re.search(LOG_LINE + re.escape(message) + "\n\\Z", stderr, re.MULTILINE), stderr


@pytest.mark.parametrize("var_char_max, bound", [(0, -1), (-10, -11)])
def test_var_char_max_not_positive_panics(run, var_char_max, bound):
    result = run(config=changed(aws_config(), {"redshift.VarCharMax": var_char_max}))
    assert result.status == 2
    assert result.stderr.endswith(
        "panic: runtime error: slice bounds out of range [:%d]\n\ngoroutine 1 [running]:\n"
        "github.com/fullstorydev/hauser/warehouse.(*Redshift).ValueToString(...)\n" % bound)


def test_var_char_max_is_not_needed_when_storage_only(start):
    start(config=changed(aws_config(), {"StorageOnly": True, "redshift.VarCharMax": 0}))


def test_unreadable_google_credentials_fail_the_gcs_client(run, org_dir):
    env = clean_env(GOOGLE_APPLICATION_CREDENTIALS=str(org_dir / "missing.json"))
    result = run(config=gcp_config(), env=env)
    assert result.status == 1 and result.stderr.endswith(" Failed to create GCS client\n")


@pytest.mark.parametrize("config, message", [
    ('Provider = "gcp"\nExportDelay = \n', "Near line 2 (column 15): Invalid value"),
    ('Provider = "gcp"\n[gcs\n', "Near line 2 (column 5): Expected ']' at the end of a table declaration"),
    ('Provider = "gcp"\nbigquery.Project = "x"\n', "Near line 2: bare keys cannot contain '.'"),
    ('Provider = "gcp"\n"bigquery".Project = "x"\n',
     "Near line 2: expected key separator '=', but got '.' instead"),
    ('Provider = "gcp"\nStartTime = 2024-01-01 00:00:00Z\n',
     "Near line 2: expected a top-level item to end with a newline, comment, or EOF, but got '0' "
     "instead"),
], ids=["invalid value", "unclosed table", "dotted key", "quoted dotted key", "spaced datetime"])
def test_toml_syntax_errors(run, config, message):
    result = run(config=config)
    assert result.status == 1
    assert result.stderr.endswith(" %s\n" % message), result.stderr


def test_dotted_key_text_inside_a_multiline_string_is_no_error(start):
    config = render(gcp_config()).replace('Provider = "gcp"', 'Provider = "gcp"\nSegmentId = """\na.b = 1\n"""')
    start(config=config)


def test_missing_config_file(run):
    result = run("-c", "absent.toml")
    assert result.status == 1 and result.stderr.endswith(" open absent.toml: no such file or directory\n")


def test_default_config_file_is_config_toml_in_the_working_directory(run):
    result = run()
    assert result.status == 1 and result.stderr.endswith(" open config.toml: no such file or directory\n")


def test_config_file_that_is_a_directory(run, org_dir):
    (org_dir / "conf.d").mkdir()
    result = run("-c", "conf.d")
    assert result.status == 1 and result.stderr.endswith(" read conf.d: is a directory\n")


# Other Pythons: the stand-in must also run on Debian 13's Python 3.13.

def test_runs_on_python_3_13(run, start, python_313):
    assert run("-version", program=[python_313]) == (0, "hauser 1.5.1\n", "")
    result = run(config='Provider = "gcp"\nExportDelay = \n', program=[python_313])
    assert result.status == 1 and result.stderr.endswith(" Near line 2 (column 15): Invalid value\n")
    started = start(config=gcp_config(), program=[python_313])
    assert_stays_up_until(started, signal.SIGTERM)


# Release files.

def test_archive_holds_hauser_and_license_at_its_root(build_module, tmp_path):
    archive_path = build_module.build_release("1.5.1", tmp_path)[0]
    assert archive_path.name == "hauser_1.5.1_linux_x86_64.tar.gz"
    with tarfile.open(archive_path) as archive:
        members = archive.getmembers()
        assert [(m.name, m.isfile(), m.mode, m.uid, m.gid) for m in members] == [
            ("hauser", True, 0o755, 0, 0), ("LICENSE", True, 0o644, 0, 0)]
        program = archive.extractfile("hauser").read()
        license_text = archive.extractfile("LICENSE").read().decode()
    assert program.startswith(b"#!/usr/bin/env python3\n")
    assert "NOT FullStory's hauser" in license_text and "stand-in" in license_text
    with zipfile.ZipFile(io.BytesIO(program)) as zipapp:
        assert "__main__.py" in zipapp.namelist()
        assert zipapp.read("go_duration.py") == GO_DURATION.read_bytes()
        assert zipapp.read("standin/build_info.py") == b"VERSION = '1.5.1'\n"


@pytest.mark.parametrize("version", ["1.5.0", "1.5.1"])
def test_checksums_file_lists_the_archive(release_dir, version):
    archive = "hauser_%s_linux_x86_64.tar.gz" % version
    digest = hashlib.sha256((release_dir / archive).read_bytes()).hexdigest()
    checksums = (release_dir / ("hauser_%s_checksums.txt" % version)).read_text()
    assert checksums == "%s  %s\n" % (digest, archive)


def test_build_is_reproducible(build_module, tmp_path):
    # Two builds in a row: the sources (go_duration.py among them) may be edited between tests.
    first, second = (tmp_path / "first", tmp_path / "second")
    for out_dir in (first, second):
        for version in ("1.5.0", "1.5.1"):
            build_module.build_release(version, out_dir)
    assert sorted(path.name for path in first.iterdir()) == sorted(path.name for path in second.iterdir())
    for path in first.iterdir():
        assert path.read_bytes() == (second / path.name).read_bytes()


def test_build_command_prints_the_paths(tmp_path, build_module):
    result = subprocess.run(
        [sys.executable, build_module.__file__, "--version", "1.5.0", "--version", "1.5.1",
         "--out", str(tmp_path)], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == [str(tmp_path / name) for name in (
        "hauser_1.5.0_linux_x86_64.tar.gz", "hauser_1.5.0_checksums.txt",
        "hauser_1.5.1_linux_x86_64.tar.gz", "hauser_1.5.1_checksums.txt")]


def test_build_command_rejects_a_bad_version(tmp_path, build_module):
    result = subprocess.run([sys.executable, build_module.__file__, "--version", "v1.5.1",
                             "--out", str(tmp_path)], capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "not a version like 1.5.1" in result.stderr


# The release server.

def fetch(url, method="GET"):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=5) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, b"", error.headers


@pytest.mark.parametrize("asset", ["hauser_1.5.1_linux_x86_64.tar.gz", "hauser_1.5.1_checksums.txt"])
def test_server_serves_assets_under_github_release_urls(release_dir, serve_module, asset):
    with serve_module.serving(release_dir) as base_url:
        url = "%s/fullstorydev/hauser/releases/download/v1.5.1/%s" % (base_url, asset)
        assert base_url.startswith("http://127.0.0.1:")
        assert fetch(url)[:2] == (200, (release_dir / asset).read_bytes())
        status, body, headers = fetch(url, method="HEAD")
        assert (status, body) == (200, b"")
        assert headers["Content-Length"] == str((release_dir / asset).stat().st_size)


@pytest.mark.parametrize("path", [
    "/fullstorydev/hauser/releases/download/v1.5.0/hauser_1.5.1_linux_x86_64.tar.gz",
    "/fullstorydev/hauser/releases/download/1.5.1/hauser_1.5.1_linux_x86_64.tar.gz",
    "/fullstorydev/hauser/releases/download/v1.5.1/hauser_1.5.1_osx_x86_64.tar.gz",
    "/fullstorydev/hauser/releases/download/v1.5.1/..%2Fhauser_1.5.1_checksums.txt",
    "/fullstorydev/hauser/releases/download/v1.5.1/../v1.5.1/hauser_1.5.1_checksums.txt",
    "/fullstorydev/hauser/releases/download/v1.5.1/LICENSE",
    "/hauser_1.5.1_checksums.txt",
    "/",
])
def test_server_answers_404_to_anything_else(release_dir, serve_module, path):
    with serve_module.serving(release_dir) as base_url:
        assert fetch(base_url + path)[0] == 404


def test_server_refuses_non_loopback_addresses(release_dir, serve_module):
    with pytest.raises(ValueError, match="only 127.0.0.0/8"):
        serve_module.make_server(release_dir, bind="0.0.0.0")


def test_serve_command_writes_its_port_and_logs_requests(release_dir, serve_module, tmp_path):
    port_file = tmp_path / "port"
    server = subprocess.Popen(
        [sys.executable, serve_module.__file__, "--dir", str(release_dir), "--port", "0",
         "--port-file", str(port_file)], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not port_file.exists() or not port_file.read_text().endswith("\n"):
            assert time.monotonic() < deadline and server.poll() is None
            time.sleep(0.05)
        url = "http://127.0.0.1:%s/fullstorydev/hauser/releases/download/v1.5.0/" \
              "hauser_1.5.0_checksums.txt" % port_file.read_text().strip()
        assert fetch(url)[0] == 200
    finally:
        server.terminate()
        stderr = server.communicate(timeout=5)[1]
    assert "GET /fullstorydev/hauser/releases/download/v1.5.0/hauser_1.5.0_checksums.txt" in stderr
