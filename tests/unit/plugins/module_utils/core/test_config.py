"""config: each org's hauser config for every provider, extra keys, hauser 1.5.1's start-up checks
and the TOML it is written as (read back with Python's own TOML parser, tomllib).

What hauser 1.5.1 reads was checked against its config/config.go (tag v1.5.1): Redshift's Port
is a string, VarCharMax and BackoffStepsMax are ints, durations are strings parsed by
time.ParseDuration, keys match case-insensitively."""

import datetime
import pathlib
import re
import tomllib

import pytest
import yaml
from hypothesis import given, settings as hypothesis_settings
from hypothesis import strategies as st

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.config import (
    KNOWN_KEYS,
    ConfigError,
    check_config,
    check_table_names,
    hauser_config,
    merge_extra,
    to_toml,
    toml_value,
)
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import Layout
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.settings import SETTINGS, SettingsError, convert

ROOT = pathlib.Path(__file__).resolve().parents[5]
KEY = "na1.Zx9Qw8Er7Ty6/abc"
PASSWORD = "Redshift-pw-8c1d"
LAYOUT = Layout("/var/lib/multi-hauser", "/etc/supervisor/conf.d", "/var/log/multi-hauser", "/srv/fullstory")
ORG = {"org_id": "o-1A2B3C-na1", "api_key": KEY, "line": 7, "export_delay": "24h10m"}
DAY_NS = 24 * 3600 * 10 ** 9
MINUTE_NS = 60 * 10 ** 9


ROLE_DEFAULTS = yaml.safe_load((ROOT / "roles" / "multi_hauser" / "defaults" / "main.yml").read_text())


def role_settings(**overrides):
    """The settings as the multi_hauser_settings action makes them from the role's defaults."""
    raw = {name[len("multi_hauser_"):]: value for name, value in ROLE_DEFAULTS.items()}
    # values that Ansible templates in a play
    raw.update(download_url="http://127.0.0.1/hauser", shard_hosts=["vm-1"], config_template="config.toml.j2")
    raw.update(overrides)
    return convert(raw, names=SETTINGS)


GCP = dict(provider="gcp", gcs_bucket="my-bucket", bigquery_project="my-project", bigquery_dataset="fullstory")
AWS = dict(provider="aws", s3_bucket="my-s3", s3_region="eu-west-1", redshift_host="rs.example.com",
           redshift_db="dev", redshift_user="hauser", redshift_password=PASSWORD,
           redshift_credentials="aws_iam_role=arn:aws:iam::123456789012:role/hauser")
LOCAL = dict(provider="local", local_save_dir="/srv/fullstory")


def config_of(org=None, **settings):
    return hauser_config(org or ORG, role_settings(**settings), LAYOUT)


def written(config):
    """The config as hauser reads it: written as TOML, parsed back."""
    return tomllib.loads(to_toml(config))


# --- hauser_config per provider -------------------------------------------------------------------


def _common(parsed, settings):
    assert parsed["FsApiToken"] == KEY
    assert parsed["ExportDelay"] == ORG["export_delay"]
    assert parsed["ExportDuration"] == settings["export_duration"]
    assert parsed["Backoff"] == settings["backoff"]
    assert parsed["BackoffStepsMax"] == settings["backoff_steps_max"]
    assert parsed["TmpDir"] == "/var/lib/multi-hauser/o-1A2B3C-na1/tmp"


def test_gcp_config_loads_into_bigquery_with_the_orgs_own_tables_and_prefix():
    parsed = written(config_of(**GCP))
    _common(parsed, role_settings(**GCP))
    assert parsed["Provider"] == "gcp"
    assert parsed["StorageOnly"] is False
    assert parsed["FilePrefix"] == "o-1A2B3C-na1/"
    assert parsed["gcs"] == {"Bucket": "my-bucket"}
    assert parsed["bigquery"] == {"Project": "my-project", "Dataset": "fullstory",
                                  "ExportTable": "fs_export_o_1A2B3C_na1", "SyncTable": "fs_sync_o_1A2B3C_na1"}
    assert "s3" not in parsed and "redshift" not in parsed and "local" not in parsed


def test_gcp_storage_only_keeps_the_bucket_and_says_storage_only():
    settings = dict(GCP)
    settings.update(storage_only=True, bigquery_project="", bigquery_dataset="")
    parsed = written(config_of(**settings))
    assert parsed["StorageOnly"] is True
    assert parsed["gcs"] == {"Bucket": "my-bucket"}
    assert parsed["FilePrefix"] == "o-1A2B3C-na1/"


def test_aws_config_has_the_redshift_types_hauser_decodes():
    parsed = written(config_of(**AWS))
    _common(parsed, role_settings(**AWS))
    assert parsed["Provider"] == "aws"
    assert parsed["StorageOnly"] is False
    assert parsed["FilePrefix"] == "o-1A2B3C-na1/"
    assert parsed["s3"] == {"Bucket": "my-s3", "Region": "eu-west-1", "Timeout": role_settings()["s3_timeout"]}
    redshift = parsed["redshift"]
    # hauser's RedshiftConfig.Port is a Go string: a TOML integer there fails hauser's start
    assert redshift["Port"] == "5439" and isinstance(redshift["Port"], str)
    assert redshift["VarCharMax"] == 65535 and isinstance(redshift["VarCharMax"], int)
    assert redshift["Password"] == PASSWORD
    assert (redshift["Host"], redshift["DB"], redshift["User"], redshift["DatabaseSchema"]) == \
        ("rs.example.com", "dev", "hauser", "public")
    assert redshift["Credentials"] == AWS["redshift_credentials"]
    assert (redshift["ExportTable"], redshift["SyncTable"]) == ("fs_export_o_1A2B3C_na1", "fs_sync_o_1A2B3C_na1")


def test_aws_port_given_as_a_string_is_written_as_that_string():
    assert written(config_of(redshift_port="5440", **AWS))["redshift"]["Port"] == "5440"


def test_aws_storage_only():
    parsed = written(config_of(storage_only="true", **AWS))
    assert parsed["StorageOnly"] is True
    assert parsed["s3"]["Bucket"] == "my-s3"


def test_local_config_saves_under_the_orgs_own_directory_and_has_no_bucket_keys():
    parsed = written(config_of(**LOCAL))
    _common(parsed, role_settings(**LOCAL))
    assert parsed["Provider"] == "local"
    assert parsed["local"] == {"SaveDir": "/srv/fullstory/o-1A2B3C-na1"}
    for key in ("FilePrefix", "StorageOnly", "gcs", "bigquery", "s3", "redshift"):
        assert key not in parsed


@pytest.mark.parametrize("org_id, export_table, sync_table", [
    ("o-1A2B3C-na1", "fs_export_o_1A2B3C_na1", "fs_sync_o_1A2B3C_na1"),
    ("plain_id", "fs_export_plain_id", "fs_sync_plain_id"),
    ("a--b", "fs_export_a__b", "fs_sync_a__b"),
])
def test_table_names_replace_dashes(org_id, export_table, sync_table):
    org = dict(ORG, org_id=org_id)
    for provider, section in ((GCP, "bigquery"), (AWS, "redshift")):
        parsed = written(config_of(org, **provider))
        assert (parsed[section]["ExportTable"], parsed[section]["SyncTable"]) == (export_table, sync_table)


def test_config_extra_is_merged_and_checked():
    parsed = written(config_of(config_extra={"SaveAsJson": True, "bigquery": {"PartitionExpiration": "720h"}},
                               **dict(GCP, storage_only=True)))
    assert parsed["SaveAsJson"] is True
    assert parsed["bigquery"]["PartitionExpiration"] == "720h"
    assert parsed["bigquery"]["Project"] == "my-project"  # the section is merged, not replaced
    with pytest.raises(ConfigError) as caught:
        config_of(config_extra={"ExportDelay": "30m"}, **GCP)
    assert str(caught.value) == "org on line 7: ExportDelay must be at least 1h"


def test_errors_name_the_line_and_never_the_key():
    settings = role_settings(**GCP)
    settings["export_duration"] = "7h"  # which the settings refuse (see test_settings.py): hauser_config checks it too
    with pytest.raises(ConfigError) as caught:
        hauser_config(ORG, settings, LAYOUT)
    assert str(caught.value) == "org on line 7: ExportDuration must be between 15m and 24h and an even fraction of 24 hours"
    assert KEY not in str(caught.value) and "na1.Zx9Q" not in str(caught.value)


# hauser 1.5.1 refuses these at start (config.Validate, or the TOML decoder for a value that does not
# fit its field); the collection checks what hauser would refuse before any host changes: the
# settings (naming the variable) or, for rules that tie keys together, each org's config (naming
# its line).
HAUSER_REFUSES = [
    pytest.param({"SaveAsJson": True}, GCP, "org on line 7: SaveAsJson needs the local provider or StorageOnly "
                 "(hauser loads no JSON into a database)", id="SaveAsJson-while-loading-bigquery"),
    pytest.param({"SaveAsJson": True}, AWS, "org on line 7: SaveAsJson needs the local provider or StorageOnly "
                 "(hauser loads no JSON into a database)", id="SaveAsJson-while-loading-redshift"),
    pytest.param({"bigquery": {"PartitionExpiration": "-1h"}}, GCP,
                 "multi_hauser_config_extra: [bigquery] PartitionExpiration must not be negative",
                 id="negative-PartitionExpiration"),
    pytest.param({"bigquery": {"PartitionExpiration": "30d"}}, GCP,
                 'multi_hauser_config_extra: [bigquery] PartitionExpiration is not valid: an unknown unit '
                 '(ns, us, ms, s, m and h are known)',
                 id="PartitionExpiration-not-a-duration"),
    pytest.param({"s3": {"Timeout": "5 minutes"}}, AWS,
                 'multi_hauser_config_extra: [s3] Timeout is not valid: an unknown unit (ns, us, ms, s, m and h are known)',
                 id="s3-Timeout-not-a-duration"),
    pytest.param({"s3": {"Timeout": "0s"}}, AWS,
                 "org on line 7: [s3] Timeout must be more than 0s (hauser times out every S3 call)", id="s3-Timeout-0"),
    pytest.param({"redshift": {"VarCharMax": 0}}, AWS,
                 "org on line 7: [redshift] VarCharMax must be more than 0 (hauser panics)", id="VarCharMax-0"),
    pytest.param({"IncludeMobileAppsFields": "yes"}, GCP,
                 "multi_hauser_config_extra: IncludeMobileAppsFields must be true or false", id="string-for-a-bool"),
    pytest.param({"StartTime": "yesterday"}, GCP,
                 "multi_hauser_config_extra: StartTime must be a date-time such as 2026-01-01T00:00:00Z",
                 id="StartTime-not-a-time"),
]


def refusal(extra, provider):
    """What the collection says of these config_extra keys, or None when it takes them."""
    try:
        config_of(config_extra=extra, **provider)
    except (ConfigError, SettingsError) as error:
        return str(error)
    return None


@pytest.mark.parametrize("extra, provider, message", HAUSER_REFUSES)
def test_configs_that_hauser_refuses_at_start_are_refused_before_deploying(extra, provider, message):
    assert refusal(extra, provider) == message


@pytest.mark.parametrize("extra, provider", [
    ({"SaveAsJson": True, "StorageOnly": True}, GCP), ({"SaveAsJson": True}, LOCAL),
    ({"s3": {"Timeout": "0s"}}, GCP),  # no S3 calls with gcp
    ({"redshift": {"VarCharMax": 0}, "StorageOnly": True}, AWS),  # no Redshift when storage only
])
def test_what_hauser_refuses_only_with_other_keys_is_taken_without_them(extra, provider):
    assert refusal(extra, provider) is None


@pytest.mark.parametrize("setting, message", [
    ({"redshift_varchar_max": 0}, "multi_hauser_redshift_varchar_max is not valid: a whole number from 1 to 65535 expected"),
    ({"s3_timeout": "0s"}, "multi_hauser_s3_timeout must be more than 0s"),
])
def test_values_documented_to_break_hauser_are_refused(setting, message):
    with pytest.raises(SettingsError) as caught:
        config_of(**dict(AWS, **setting))
    assert str(caught.value) == message


@pytest.mark.parametrize("extra", [{"redshift": {"Port": 5440}}, {"SegmentId": 7}])
def test_a_number_for_a_string_key_is_refused_or_written_as_a_string(extra):
    try:
        config = config_of(config_extra=extra, **AWS)
    except (ConfigError, SettingsError):
        return
    parsed = written(config)
    value = parsed["redshift"]["Port"] if "redshift" in extra else parsed["SegmentId"]
    assert isinstance(value, str)


# hauser 1.5.1's TOML decoder takes only a TOML date-time for its time.Time fields, never a string.
@pytest.mark.parametrize("extra", [{"StartTime": "2026-01-01T00:00:00Z"}, {"local": {"StartTime": "2026-01-01T00:00:00Z"}},
                                   {"StartTime": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)}])
def test_a_start_time_is_written_as_a_toml_date_time(extra):
    config = config_of(config_extra=extra, **LOCAL)
    parsed = written(config)
    start_time = parsed["local"]["StartTime"] if "local" in extra else parsed["StartTime"]
    assert start_time == datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize("start_time", ["2026-01-01T00:00:00 and then some", "yesterday", "2026-13-01T00:00:00Z"])
def test_a_start_time_that_is_no_date_time_is_refused(start_time):
    with pytest.raises(SettingsError, match="^multi_hauser_config_extra: StartTime must be a date-time such as "):
        config_of(config_extra={"StartTime": start_time}, **GCP)


# --- merge_extra ----------------------------------------------------------------------------------

BASE = {"FsApiToken": KEY, "ExportDelay": "24h", "gcs": {"Bucket": "b"}}


def test_merge_extra_spells_keys_and_sections_as_hauser_does_whatever_the_case():
    merged = merge_extra(BASE, {"exportdelay": "25h", "SAVEASJSON": True, "GCS": {"gcsonly": True},
                                "BigQuery": {"partitionEXPIRATION": "1h"}})
    assert merged == {"FsApiToken": KEY, "ExportDelay": "25h", "SaveAsJson": True,
                      "gcs": {"Bucket": "b", "GCSOnly": True}, "bigquery": {"PartitionExpiration": "1h"}}


def test_merge_extra_changes_nothing_it_is_given():
    extra = {"gcs": {"Bucket": "other"}}
    merged = merge_extra(BASE, extra)
    assert merged["gcs"] == {"Bucket": "other"}
    assert BASE["gcs"] == {"Bucket": "b"} and extra == {"gcs": {"Bucket": "other"}}


def test_merge_extra_of_nothing_is_a_copy():
    assert merge_extra(BASE, None) == BASE and merge_extra(BASE, {}) == BASE


IGNORED = " (hauser would silently ignore it"


@pytest.mark.parametrize("extra, message", [
    ({"ExportDelai": "25h"}, "multi_hauser_config_extra: ExportDelai is not a hauser 1.5.1 config key"
                             + IGNORED + "; did you mean ExportDelay?)"),
    ({"gcs": {"Bukket": "x"}}, "multi_hauser_config_extra: [gcs] Bukket is not a hauser 1.5.1 config key"
                               + IGNORED + "; did you mean Bucket?)"),
    ({"Redshift": {"Bucket": "x"}}, "multi_hauser_config_extra: [redshift] Bucket is not a key of [redshift]"
                                    + IGNORED + "; it is one of [gcs] and [s3])"),
    ({"local": {"Backoff": "1s"}}, "multi_hauser_config_extra: [local] Backoff is not a key of "
                                   "[local]" + IGNORED + "; it is one of the top level)"),
    ({"warehouse_settings": {"Bucket": "x"}}, "multi_hauser_config_extra: warehouse_settings is not a hauser"),
    ({"bigqurey": {"Project": "x"}}, "multi_hauser_config_extra: bigqurey is not a hauser 1.5.1 config key"
                                     + IGNORED + "; did you mean bigquery?)"),
    ({"gcs": "my-bucket"}, "multi_hauser_config_extra: [gcs] must be a section: a dictionary of its keys"),
])
def test_merge_extra_refuses_keys_hauser_does_not_know(extra, message):
    with pytest.raises(ConfigError) as caught:
        merge_extra(BASE, extra)
    assert str(caught.value).startswith(message)


def test_merge_extra_names_where_the_keys_came_from():
    with pytest.raises(ConfigError, match=r"^MULTI_HAUSER_CONFIG_EXTRA: ExportDelai is not"):
        merge_extra(BASE, {"ExportDelai": 1}, where="MULTI_HAUSER_CONFIG_EXTRA")


# The kind of each key's value in hauser 1.5.1's Config struct (config/config.go), by section.
HAUSER_KINDS = {
    None: {"FsApiToken": str, "Provider": str, "Warehouse": str, "ExportDuration": "duration",
           "ExportDelay": "duration", "StartTime": "time", "Backoff": "duration", "BackoffStepsMax": int, "TmpDir": str,
           "SaveAsJson": bool, "StorageOnly": bool, "FilePrefix": str, "SegmentId": str, "ApiURL": str,
           "AdditionalHttpHeader": "headers", "IncludeMobileAppsFields": bool},
    "gcs": {"Bucket": str, "GCSOnly": bool},
    "bigquery": {"Project": str, "Dataset": str, "ExportTable": str, "SyncTable": str, "PartitionExpiration": "duration"},
    "s3": {"Bucket": str, "Region": str, "Timeout": "duration", "S3Only": bool},
    "redshift": {"Host": str, "Port": str, "DB": str, "User": str, "Password": str, "ExportTable": str, "SyncTable": str,
                 "DatabaseSchema": str, "Credentials": str, "VarCharMax": int},
    "local": {"SaveDir": str, "StartTime": "time", "UseStartTime": bool},
}
SAMPLE = {str: "x", bool: True, int: 8, "duration": "1h", "time": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
          "headers": [{"Key": "X-Team", "Value": "data"}]}
# Values of the wrong kind for each kind; "Sekr1t" stands for what a message must never show (a
# duration that Go cannot read is quoted, as Go's own message does: durations are no secrets).
WRONG = {str: [True, 1.5, None, ["Sekr1t"], {"a": "Sekr1t"}], bool: ["true", 1, None, "Sekr1t"],
         int: ["8", 1.5, True, -1, None, 1 << 31, "Sekr1t"], "duration": [90, "1d", None, "-1h", ["1h"]],
         "time": ["yesterday", 20260101, None, "Sekr1t"],
         "headers": [{"Key": "X", "Value": "Sekr1t"}, [{"Key": "X"}], [{"Key": "X", "Value": 1}], "X: Sekr1t",
                     [{"Key": "X", "Value": "Sekr1t", "Other": "y"}], ["Sekr1t"]]}


def test_the_known_keys_are_those_of_hauser():
    assert dict((section, sorted(keys)) for section, keys in KNOWN_KEYS.items()) == \
        dict((section, sorted(kinds)) for section, kinds in HAUSER_KINDS.items())


def _placed(section, key, value):
    return {key: value} if section is None else {section: {key: value}}


@pytest.mark.parametrize("section", sorted(KNOWN_KEYS, key=str))
def test_every_known_key_of_every_section_is_accepted_in_any_case(section):
    for key, kind in HAUSER_KINDS[section].items():
        if section is None and key == "FsApiToken":
            continue  # refused: below
        merged = merge_extra({}, {(section or "").upper() or key.swapcase(): {key.swapcase(): SAMPLE[kind]}}
                             if section else {key.swapcase(): SAMPLE[kind]})
        assert (merged[section] if section else merged)[key] == SAMPLE[kind]


@pytest.mark.parametrize("section", sorted(KNOWN_KEYS, key=str))
def test_a_value_of_the_wrong_kind_for_its_key_is_refused_naming_the_key_and_never_the_value(section):
    for key, kind in HAUSER_KINDS[section].items():
        if key in ("ExportDuration", "ExportDelay", "FsApiToken"):
            continue  # their own rules (below): a negative one is said by them
        name = ("[%s] " % section if section else "") + key
        for value in WRONG[kind]:
            with pytest.raises(ConfigError) as caught:
                merge_extra({}, _placed(section, key, value))
            message = str(caught.value)
            assert message.startswith("multi_hauser_config_extra: %s" % name), (key, value)
            assert "Sekr1t" not in message
            if isinstance(value, dict):
                continue  # to check_config, which sees what check_extra took, a mapping is a section
            with pytest.raises(ConfigError, match=r"^org on line 3: %s" % re.escape(name)):
                check_config(dict(GOOD, **_placed(section, key, value)), "org on line 3")


@pytest.mark.parametrize("key", ["Backoff", "[s3] Timeout", "[bigquery] PartitionExpiration"])
def test_a_negative_duration_is_refused(key):
    section, _space, name = key[1:].partition("] ") if key.startswith("[") else (None, "", key)
    with pytest.raises(ConfigError) as caught:
        merge_extra({}, _placed(section, name, "-1s"))
    assert str(caught.value) == "multi_hauser_config_extra: %s must not be negative" % key
    merge_extra({}, _placed(section, name, "0s"))


def test_negative_export_durations_and_delays_keep_their_own_rules():
    assert merge_extra({}, {"ExportDelay": "-1h", "ExportDuration": "-6h"}) == {"ExportDelay": "-1h", "ExportDuration": "-6h"}
    with pytest.raises(ConfigError, match="^here: ExportDelay must be at least 1h$"):
        check_config(dict(GOOD, ExportDelay="-1h"), "here")
    with pytest.raises(ConfigError, match="^here: ExportDuration must be between 15m and 24h and an even fraction"):
        check_config(dict(GOOD, ExportDuration="-6h"), "here")


def test_additional_http_headers_are_a_list_of_key_and_value_strings_in_any_case():
    headers = [{"key": "X-Team", "VALUE": "data"}, {"Key": "X-Env", "Value": "prod"}]
    merged = merge_extra({}, {"additionalhttpheader": headers})
    assert merged == {"AdditionalHttpHeader": [{"Key": "X-Team", "Value": "data"}, {"Key": "X-Env", "Value": "prod"}]}
    assert written(merged) == merged
    with pytest.raises(ConfigError, match="^multi_hauser_config_extra: AdditionalHttpHeader holds a key other than Key "
                                          "and Value$"):
        merge_extra({}, {"AdditionalHttpHeader": [{"Key": "X", "Valeu": "y"}]})


@pytest.mark.parametrize("provider, extra, message", [
    ("gcp", {"SaveAsJson": True}, "here: SaveAsJson needs the local provider or StorageOnly (hauser loads no JSON into a "
                                  "database)"),
    ("aws", {"s3": {"Timeout": "0s"}}, "here: [s3] Timeout must be more than 0s (hauser times out every S3 call)"),
    ("aws", {"redshift": {"VarCharMax": 0}}, "here: [redshift] VarCharMax must be more than 0 (hauser panics)"),
])
def test_check_config_ties_keys_together_as_hauser_does(provider, extra, message):
    with pytest.raises(ConfigError) as caught:
        check_config(dict(GOOD, Provider=provider, **extra), "here")
    assert str(caught.value) == message


def test_what_storage_only_makes_no_problem():
    check_config(dict(GOOD, Provider="gcp", StorageOnly=True, SaveAsJson=True), "here")
    check_config(dict(GOOD, Provider="aws", StorageOnly=True, redshift={"VarCharMax": 0}), "here")
    with pytest.raises(ConfigError, match=r"^here: \[s3\] Timeout must be more than 0s"):
        check_config(dict(GOOD, Provider="aws", StorageOnly=True, s3={"Timeout": "0s"}), "here")


# --- check_config ---------------------------------------------------------------------------------

GOOD = {"ExportDuration": "6h", "ExportDelay": "24h", "Backoff": "30s", "BackoffStepsMax": 8}


def test_a_good_config_passes():
    check_config(dict(GOOD), "here")


@pytest.mark.parametrize("key", ["ExportDuration", "ExportDelay", "Backoff"])
@pytest.mark.parametrize("value, error", [
    ("1d", "an unknown unit (ns, us, ms, s, m and h are known)"),
    ("90", 'a number without its unit (a Go duration such as "10m" expected)'),
    (90, 'a Go duration such as "10m" expected')])
def test_durations_are_read_as_hauser_reads_them_and_refused_without_showing_the_value(key, value, error):
    with pytest.raises(ConfigError) as caught:
        check_config(dict(GOOD, **{key: value}), "org on line 3")
    assert str(caught.value) == "org on line 3: %s is not valid: %s" % (key, error)


def _day_fractions():
    """Every ExportDuration hauser takes: 24h / n for the n that divide a day into whole nanoseconds
    and give at least 15 minutes."""
    return [DAY_NS // n for n in range(1, 97) if DAY_NS % n == 0]


@pytest.mark.parametrize("nanoseconds", _day_fractions())
def test_every_even_fraction_of_a_day_from_15m_to_24h_is_an_export_duration(nanoseconds):
    check_config(dict(GOOD, ExportDuration="%dns" % nanoseconds), "here")


@given(st.integers(min_value=-DAY_NS, max_value=2 * DAY_NS))
def test_no_other_export_duration_is_accepted(nanoseconds):
    fractions = set(_day_fractions())
    try:
        check_config(dict(GOOD, ExportDuration="%dns" % nanoseconds), "here")
    except ConfigError as error:
        assert nanoseconds not in fractions
        assert str(error) == "here: ExportDuration must be between 15m and 24h and an even fraction of 24 hours"
    else:
        assert nanoseconds in fractions


@pytest.mark.parametrize("value", ["14m59s", "24h1ns", "25h", "7h", "0s", "-6h"])
def test_export_duration_examples_hauser_refuses(value):
    with pytest.raises(ConfigError, match="ExportDuration must be between 15m and 24h"):
        check_config(dict(GOOD, ExportDuration=value), "here")


@pytest.mark.parametrize("value, accepted", [("1h", True), ("59m59s", False), ("-1h", False), ("3600s", True),
                                             ("47h50m", True)])
def test_export_delay_is_at_least_an_hour(value, accepted):
    if accepted:
        check_config(dict(GOOD, ExportDelay=value), "here")
    else:
        with pytest.raises(ConfigError, match="^here: ExportDelay must be at least 1h$"):
            check_config(dict(GOOD, ExportDelay=value), "here")


@pytest.mark.parametrize("value, accepted", [(0, True), (8, True), (1000, True), (-1, False), ("8", False),
                                             (True, False), (1.5, False), (None, False)])
def test_backoff_steps_max_is_a_whole_number(value, accepted):
    if accepted:
        check_config(dict(GOOD, BackoffStepsMax=value), "here")
    else:
        with pytest.raises(ConfigError, match="^here: BackoffStepsMax must be a whole number of 0 or more$"):
            check_config(dict(GOOD, BackoffStepsMax=value), "here")


# --- TOML -----------------------------------------------------------------------------------------

# Every character but lone surrogates (not text): quotes, backslashes, controls, DEL, non-ASCII.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
SCALARS = st.one_of(TEXT, st.booleans(), st.integers(min_value=-2 ** 63, max_value=2 ** 63 - 1),
                    st.floats(allow_nan=False, allow_infinity=False))


@given(SCALARS)
def test_toml_value_reads_back_as_the_same_value(value):
    parsed = tomllib.loads("v = %s\n" % toml_value(value))["v"]
    assert parsed == value and type(parsed) is type(value)


@given(st.lists(SCALARS, max_size=5))
def test_toml_lists_read_back(values):
    assert tomllib.loads("v = %s\n" % toml_value(values))["v"] == values


@pytest.mark.parametrize("text", ['say "hi"', "back\\slash", "tab\there", "line\nbreak", "cr\rlf", "\x00\x1f\x7f",
                                  "\b\f", "é ü 日本 🙂", "'single'", "#not a comment", "= [ ] { }"])
def test_toml_escapes_what_would_end_or_break_a_string(text):
    assert tomllib.loads("v = %s\n" % toml_value(text))["v"] == text


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_toml_value_refuses_non_finite_floats(value):
    # TOML 0.4, which hauser 1.5.1's BurntSushi/toml v0.3.1 reads, has no nan or inf
    with pytest.raises(ConfigError, match="cannot write .* as a TOML value"):
        toml_value(value)


@pytest.mark.parametrize("value", [{"a": 1}, [{"a": 1}, 2], None, b"bytes", object()])
def test_toml_value_refuses_what_it_cannot_write(value):
    with pytest.raises(ConfigError, match="cannot write a .* as a TOML value"):
        toml_value(value)


def test_to_toml_writes_sections_and_arrays_of_tables():
    config = {
        "FsApiToken": KEY, "BackoffStepsMax": 8, "StorageOnly": False,
        "AdditionalHttpHeader": [{"Key": "X-One", "Value": "1"}, {"Key": "X-Two", "Value": 'a "quoted" value'}],
        "gcs": {"Bucket": "b"}, "bigquery": {"Project": "p", "Dataset": "d"},
        "Empty": [],
    }
    assert tomllib.loads(to_toml(config)) == config


KEYS = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)


@hypothesis_settings(max_examples=50)
@given(st.dictionaries(KEYS, st.one_of(SCALARS, st.dictionaries(KEYS, SCALARS, max_size=3),
                                       st.lists(st.dictionaries(KEYS, SCALARS, max_size=3), min_size=1, max_size=2)),
                       max_size=6))
def test_to_toml_reads_back_as_the_config(config):
    assert tomllib.loads(to_toml(config)) == config


@given(TEXT.filter(lambda text: "\x00" not in text), TEXT.filter(lambda text: "\x00" not in text))
def test_a_whole_org_config_reads_back_whatever_the_values(bucket, password):
    # (a NUL is refused by the settings, see test_settings.py)
    settings = dict(AWS)
    settings.update(s3_bucket=bucket, redshift_password=password)
    config = config_of(**settings)
    assert written(config) == config


# --- table names ----------------------------------------------------------------------------------


def test_org_ids_that_give_the_same_tables_are_refused_naming_both_lines():
    orgs = [{"org_id": "o-1", "line": 2}, {"org_id": "other", "line": 3}, {"org_id": "o_1", "line": 5}]
    with pytest.raises(ConfigError) as caught:
        check_table_names(orgs, "keys.csv")
    assert str(caught.value) == ("keys.csv: the org ids of lines 2 and 5 give the same table names (fs_export_o_1); "
                                 "hauser would mix their data")


def test_org_ids_that_differ_only_in_case_share_tables_and_are_refused():
    # Redshift folds unquoted table names to lower case
    orgs = [{"org_id": "O-1abc", "line": 2}, {"org_id": "o_1ABC", "line": 4}]
    with pytest.raises(ConfigError) as caught:
        check_table_names(orgs, "keys.csv")
    assert str(caught.value) == ("keys.csv: the org ids of lines 2 and 4 give the same table names (fs_export_o_1ABC); "
                                 "hauser would mix their data")


def test_table_names_keep_the_case_of_the_org_id():
    parsed = written(config_of(dict(ORG, org_id="O-AbC"), **GCP))
    assert (parsed["bigquery"]["ExportTable"], parsed["bigquery"]["SyncTable"]) == ("fs_export_O_AbC", "fs_sync_O_AbC")


def test_org_ids_with_distinct_tables_pass():
    check_table_names([{"org_id": "o-1", "line": 1}, {"org_id": "o-2", "line": 2}, {"org_id": "o__1", "line": 3}],
                      "keys.csv")


@pytest.mark.parametrize("spelled", ["FsApiToken", "fsapitoken", "FSAPITOKEN"])
def test_the_api_key_cannot_come_from_config_extra_one_for_every_org(spelled):
    with pytest.raises(ConfigError) as caught:
        merge_extra(dict(BASE), {spelled: "Zq9xWsecret"})
    assert str(caught.value) == ("multi_hauser_config_extra: FsApiToken cannot be set here (each org's key comes "
                                 "from the key file)")


@pytest.mark.parametrize("extra, problem", [
    ({"FilePrefix": "a\udcffb"}, "not valid UTF-8 (in the value of FilePrefix)"),
    ({"FilePrefix": "a\x00b"}, "a NUL character (in the value of FilePrefix)"),
    ({"redshift": {"Password": "Zq9xW\x00"}}, "a NUL character (in the value of [redshift] Password)"),
    ({"AdditionalHttpHeader": [{"Key": "X-Token", "Value": "Zq9xW\udcff"}]},
     "not valid UTF-8 (in the value of AdditionalHttpHeader)"),
    ({"Zq9xW\udcff": "x"}, "not valid UTF-8 (in a key)"),
])
def test_text_that_toml_cannot_hold_is_refused_before_anything_is_written(extra, problem):
    with pytest.raises(ConfigError) as caught:
        merge_extra(dict(BASE), extra)
    assert str(caught.value) == "multi_hauser_config_extra is not valid: " + problem
    assert "Zq9xW" not in str(caught.value)


@pytest.mark.parametrize("key, message", [
    ("ExportDelays", "ExportDelays is not a hauser 1.5.1 config key" + IGNORED + "; did you mean ExportDelay?)"),
    ("Zq9xW secret pasted here", "a key (not shown) is not a hauser 1.5.1 config key" + IGNORED + ")"),
    # a value that looks like a key, but like none of hauser's
    ("Zq9xWf610271279f685a608834a8a2a2e4132", "a key (not shown) is not a hauser 1.5.1 config key" + IGNORED + ")"),
    ("x" * 65, "a key (not shown) is not a hauser 1.5.1 config key" + IGNORED + ")"),
])
def test_an_unknown_key_is_named_only_when_it_is_like_one_of_hausers(key, message):
    with pytest.raises(ConfigError) as caught:
        merge_extra(dict(BASE), {key: "x"})
    assert str(caught.value) == "multi_hauser_config_extra: " + message


def test_a_string_too_long_for_a_config_is_refused():
    with pytest.raises(ConfigError, match="^multi_hauser_config_extra: the value of FilePrefix is longer than 4096 "):
        merge_extra(dict(BASE), {"FilePrefix": "a" * 4097})
