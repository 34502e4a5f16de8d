"""settings: a value means what it says whatever its source (YAML, -e, an environment variable), a
value of the wrong kind is refused naming the variable as the user spelled it, each provider's
required settings (the README's variable table), and the image's defaults."""

import json
import pathlib
import tomllib

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import host_layout
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.render import render_org_files
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.secrets import IMAGE_REFUSED
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.settings import (
    IMAGE_NAMING,
    IMAGE_SETTINGS,
    ROLE_NAMING,
    SETTINGS,
    Boolean,
    Choice,
    Dictionary,
    Duration,
    Integer,
    Number,
    SettingsError,
    Text,
    TextList,
    check_required,
    convert,
    image_settings,
)

ROOT = pathlib.Path(__file__).resolve().parents[5]
DEFAULTS = yaml.safe_load((ROOT / "roles" / "multi_hauser" / "defaults" / "main.yml").read_text())
NAMINGS = [(ROLE_NAMING, "multi_hauser_%s"), (IMAGE_NAMING, "MULTI_HAUSER_%s")]


def names_of(kind):
    return sorted(name for name, setting in SETTINGS.items() if setting.__class__ is kind)


def spelled(pattern, name):
    return pattern % (name.upper() if pattern.startswith("MULTI") else name)


# --- each kind, from native values and from strings -----------------------------------------------

# (kind, value as YAML or JSON gives it, the same as -e or the environment gives it, what it means)
CONVERTED = {
    Boolean: [(True, "true", True), (False, "false", False), (True, "TRUE", True), (False, "False", False),
              (True, " yes ", True), (False, "no", False), (True, "on", True), (False, "off", False),
              (1, "1", True), (0, "0", False), (True, "y", True), (False, "n", False), (False, "", False)],
    Integer: [(8, "8", 8), (0, "0", 0), (-1, "-1", -1), (8, " 8 ", 8), (8, "+8", 8), (8.0, "8", 8),
              (65535, "65535", 65535)],
    Number: [(2, "2", 2.0), (0.5, "0.5", 0.5), (0, "0", 0.0), (1000, "1e3", 1000.0), (1.25, " 1.25 ", 1.25)],
    Duration: [("10m", "10m", "10m"), ("1h30m", "1h30m", "1h30m"), ("0s", "0s", "0s")],
    Dictionary: [({"a": 1}, '{"a": 1}', {"a": 1}), ({}, "", {}), ({}, "{}", {}),
                 ({"bigquery": {"PartitionExpiration": "720h"}}, '{"bigquery": {"PartitionExpiration": "720h"}}',
                  {"bigquery": {"PartitionExpiration": "720h"}})],
    TextList: [(["vm-1", "vm-2"], '["vm-1", "vm-2"]', ["vm-1", "vm-2"]), ([], "[]", []), (("vm-1",), '["vm-1"]', ["vm-1"])],
    Text: [("my-bucket", "my-bucket", "my-bucket"), (5439, "5439", "5439"), ("", "", "")],
}

REFUSED = {
    Boolean: ([2, 1.0, None, [], "maybe", "truee"], "true or false expected"),
    Integer: ([True, 8.5, None, "8.5", "8h", "", "1e3", "eight", "1" * 19, [8]], "a whole number expected"),
    Number: ([True, None, "nan", "inf", "-Infinity", float("nan"), float("inf"), "", "two", "9" * 65, [1]],
             "a number expected"),
    Duration: ([600, None, True, ["10m"]], 'a Go duration such as "10m" expected'),
    Dictionary: (["[1]", "{bad", "null", '"text"', 1, ["a"], None], "a JSON object expected"),
    TextList: (["vm-1,vm-2", "", '"vm-1"', "{}", {"a": 1}, [1], ["a", None], None, "vm-1"], "a list of strings expected"),
    Text: ([True, None, ["x"], {"a": 1}], "a string expected"),
}


@pytest.mark.parametrize("kind", sorted(CONVERTED, key=lambda kind: kind.__name__))
def test_every_setting_of_a_kind_means_the_same_from_yaml_and_from_a_string(kind):
    assert names_of(kind), "no setting is a %s" % kind.__name__
    for name in names_of(kind):
        for native, text, meant in CONVERTED[kind]:
            from_yaml = convert({name: native})[name]
            from_string = convert({name: text}, IMAGE_NAMING)[name]
            assert from_yaml == from_string == meant and isinstance(from_yaml, type(meant)), (name, native, text)


@pytest.mark.parametrize("naming, pattern", NAMINGS)
@pytest.mark.parametrize("kind", sorted(REFUSED, key=lambda kind: kind.__name__))
def test_a_value_of_the_wrong_kind_is_refused_naming_the_variable(kind, naming, pattern):
    values, expected = REFUSED[kind]
    for name in names_of(kind):
        for value in values:
            with pytest.raises(SettingsError) as caught:
                convert({name: value}, naming)
            assert str(caught.value) == "%s is not valid: %s" % (spelled(pattern, name), expected), value


@pytest.mark.parametrize("naming, pattern", NAMINGS)
def test_a_duration_that_go_refuses_is_refused_with_gos_reason(naming, pattern):
    for name in names_of(Duration):
        with pytest.raises(SettingsError) as caught:
            convert({name: "10 minutes"}, naming)
        assert str(caught.value) == '%s is not valid: time: unknown unit " minutes" in duration "10 minutes"' \
            % spelled(pattern, name)


@pytest.mark.parametrize("naming, pattern", NAMINGS)
@pytest.mark.parametrize("name, value, message", [
    ("provider", "s3", "%s must be gcp, aws or local"),
    ("provider", "GCP", "%s must be gcp, aws or local"),
    ("provider", "", "%s must be gcp, aws or local"),
    ("mode", "container", "%s must be vm or image"),
    ("mode", None, "%s is not valid: a string expected"),
])
def test_choices_say_what_they_may_be(naming, pattern, name, value, message):
    with pytest.raises(SettingsError) as caught:
        convert({name: value}, naming)
    assert str(caught.value) == message % spelled(pattern, name)


@pytest.mark.parametrize("name, values", [("provider", ["gcp", "aws", "local"]), ("mode", ["vm", "image"])])
def test_every_choice_is_taken(name, values):
    assert [convert({name: value})[name] for value in values] == values


def test_one_choice_is_named_alone():
    with pytest.raises(SettingsError, match="^x must be only$"):
        Choice("only").convert("other", "x")


@given(st.integers(min_value=-10 ** 17, max_value=10 ** 17))
def test_any_whole_number_from_a_string(number):
    assert Integer().convert(str(number), "n") == number


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_finite_number_from_a_string(number):
    assert Number().convert(repr(number), "n") == number


@given(st.sampled_from(["true", "yes", "on", "1", "y", "t", "false", "no", "off", "0", "n", "f"]), st.randoms())
def test_booleans_in_any_case(word, random):
    mixed = "".join(character.upper() if random.random() < 0.5 else character for character in word)
    assert Boolean().convert(mixed, "b") is (word in ("true", "yes", "on", "1", "y", "t"))


def _as_given_on_the_command_line(value):
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


@pytest.mark.parametrize("name", sorted(name for name in SETTINGS if "{{" not in str(DEFAULTS.get("multi_hauser_" + name))))
def test_every_role_default_is_valid_and_means_the_same_given_with_e(name):
    default = DEFAULTS["multi_hauser_" + name]
    assert convert({name: _as_given_on_the_command_line(default)})[name] == convert({name: default})[name]


def test_convert_takes_only_the_names_asked_for():
    assert convert({"provider": "aws", "mode": "nonsense"}, names=["provider", "backoff"]) == {"provider": "aws"}


def test_the_image_environment_as_the_entrypoint_reads_it():
    environ = {"MULTI_HAUSER_STORAGE_ONLY": "true", "MULTI_HAUSER_REDSHIFT_PORT": "5440",
               "MULTI_HAUSER_BACKOFF_STEPS_MAX": "3", "MULTI_HAUSER_CONFIG_EXTRA": '{"SaveAsJson": true}',
               "MULTI_HAUSER_PROVIDER": "aws", "MULTI_HAUSER_EXPORT_DELAY_STEP": "5m", "HOME": "/root"}
    overrides = {name: environ[IMAGE_NAMING(name)] for name in IMAGE_SETTINGS if IMAGE_NAMING(name) in environ}
    assert convert(overrides, IMAGE_NAMING) == {"storage_only": True, "redshift_port": 5440, "backoff_steps_max": 3,
                                                "config_extra": {"SaveAsJson": True}, "provider": "aws",
                                                "export_delay_step": "5m"}


# The README's table "Environment variables" of the image, written out.
README_IMAGE_VARIABLES = [
    "MULTI_HAUSER_PROVIDER", "MULTI_HAUSER_STORAGE_ONLY", "MULTI_HAUSER_GCS_BUCKET", "MULTI_HAUSER_BIGQUERY_PROJECT",
    "MULTI_HAUSER_BIGQUERY_DATASET", "MULTI_HAUSER_S3_BUCKET", "MULTI_HAUSER_S3_REGION", "MULTI_HAUSER_S3_TIMEOUT",
    "MULTI_HAUSER_REDSHIFT_HOST", "MULTI_HAUSER_REDSHIFT_PORT", "MULTI_HAUSER_REDSHIFT_DB", "MULTI_HAUSER_REDSHIFT_USER",
    "MULTI_HAUSER_REDSHIFT_PASSWORD", "MULTI_HAUSER_REDSHIFT_DATABASE_SCHEMA", "MULTI_HAUSER_REDSHIFT_CREDENTIALS",
    "MULTI_HAUSER_REDSHIFT_VARCHAR_MAX", "MULTI_HAUSER_LOCAL_SAVE_DIR", "MULTI_HAUSER_EXPORT_DELAY_BASE",
    "MULTI_HAUSER_EXPORT_DELAY_STEP", "MULTI_HAUSER_EXPORT_DELAY_WINDOW", "MULTI_HAUSER_EXPORT_DURATION",
    "MULTI_HAUSER_BACKOFF", "MULTI_HAUSER_BACKOFF_STEPS_MAX", "MULTI_HAUSER_CONFIG_EXTRA",
]


def test_the_image_takes_exactly_the_environment_variables_of_the_readme():
    assert sorted(IMAGE_NAMING(name) for name in IMAGE_SETTINGS) == sorted(README_IMAGE_VARIABLES)


# --- required settings ----------------------------------------------------------------------------

# From the README's variable table: "Required with the ... provider[, unless storage only]".
REQUIRED = {
    ("gcp", False): ["gcs_bucket", "bigquery_project", "bigquery_dataset"],
    ("gcp", True): ["gcs_bucket"],
    ("aws", False): ["s3_bucket", "s3_region", "redshift_host", "redshift_db", "redshift_user", "redshift_password",
                     "redshift_credentials"],
    ("aws", True): ["s3_bucket", "s3_region"],
    ("local", False): ["local_save_dir"],
    ("local", True): ["local_save_dir"],
}
EVERY_PROVIDER_SETTING = sorted(set(name for names in REQUIRED.values() for name in names))


@pytest.mark.parametrize("provider, storage_only", sorted(REQUIRED))
def test_only_the_required_settings_need_to_be_set(provider, storage_only):
    settings = {name: "" for name in EVERY_PROVIDER_SETTING}
    settings.update(provider=provider, storage_only=storage_only)
    settings.update((name, "set") for name in REQUIRED[(provider, storage_only)])
    check_required(settings)
    check_required(settings, IMAGE_NAMING)


@pytest.mark.parametrize("provider, storage_only", sorted(REQUIRED))
def test_each_required_setting_left_empty_is_named(provider, storage_only):
    for missing in REQUIRED[(provider, storage_only)]:
        settings = {name: "set" for name in EVERY_PROVIDER_SETTING}
        settings.update(provider=provider, storage_only=storage_only)
        settings[missing] = ""
        with pytest.raises(SettingsError) as caught:
            check_required(settings)
        assert str(caught.value) == "multi_hauser_%s must be set when multi_hauser_provider is %s" % (missing, provider)
        del settings[missing]  # not given at all
        with pytest.raises(SettingsError) as caught:
            check_required(settings, IMAGE_NAMING)
        assert str(caught.value) == ("MULTI_HAUSER_%s must be set when MULTI_HAUSER_PROVIDER is %s "
                                     "(in the image's build or at run time)" % (missing.upper(), provider))


# --- the image's defaults -------------------------------------------------------------------------

ORGS = [{"org_id": "o-1A2B3C-na1", "api_key": "na1.Zx9Qw8Er7Ty6/abc", "line": 1, "export_delay": "24h"}]
TEMPLATES = ROOT / "roles" / "multi_hauser" / "templates"


def _image_build_settings(**overrides):
    raw = {name[len("multi_hauser_"):]: value for name, value in DEFAULTS.items()}
    raw.update(download_url="http://127.0.0.1/hauser", shard_hosts=[], config_template="config.toml.j2",
               mode="image", gcs_bucket="my-bucket", bigquery_project="p", bigquery_dataset="d")
    raw.update(overrides)
    return convert(raw, names=SETTINGS)


def test_the_image_defaults_hold_no_key_and_no_credential():
    settings = _image_build_settings()
    settings.update(keyfile="keys.csv", orgs=ORGS)  # what the build refuses; never in the image in any case
    defaults = image_settings(settings, host_layout(settings))
    for name in IMAGE_REFUSED:
        assert not defaults.get(name), name
    assert defaults["credentials_path"] == ""  # the container is given GOOGLE_APPLICATION_CREDENTIALS
    assert "na1.Zx9Q" not in json.dumps(defaults)


@pytest.mark.parametrize("environ, section", [
    ({"MULTI_HAUSER_PROVIDER": "local", "MULTI_HAUSER_LOCAL_SAVE_DIR": "/data"}, "local"),
    ({"MULTI_HAUSER_BIGQUERY_DATASET": "other-dataset"}, "bigquery"),
    ({"MULTI_HAUSER_PROVIDER": "aws", "MULTI_HAUSER_S3_BUCKET": "b", "MULTI_HAUSER_S3_REGION": "eu-west-1",
      "MULTI_HAUSER_REDSHIFT_HOST": "rs", "MULTI_HAUSER_REDSHIFT_DB": "dev", "MULTI_HAUSER_REDSHIFT_USER": "u",
      "MULTI_HAUSER_REDSHIFT_PASSWORD": "pw", "MULTI_HAUSER_REDSHIFT_CREDENTIALS": "aws_iam_role=x"}, "redshift"),
])
def test_the_entrypoint_renders_image_programs_from_the_image_defaults_and_the_environment(environ, section):
    settings = _image_build_settings()
    paths = host_layout(settings)
    # as the image holds them (settings.json), then overridden at run time as the entrypoint does
    defaults = json.loads(json.dumps(image_settings(settings, paths)))
    environ = dict(environ, MULTI_HAUSER_EXPORT_DURATION="24h")
    defaults.update(convert({name: environ[IMAGE_NAMING(name)] for name in IMAGE_SETTINGS if IMAGE_NAMING(name) in environ},
                            IMAGE_NAMING))
    check_required(defaults, IMAGE_NAMING)
    [record] = render_org_files(ORGS, defaults, (TEMPLATES / "config.toml.j2").read_text(),
                                (TEMPLATES / "program.conf.j2").read_text())
    config = tomllib.loads(record["config"])
    assert config["ExportDuration"] == "24h" and section in config
    if section == "bigquery":
        assert config["bigquery"]["Dataset"] == "other-dataset" and config["gcs"]["Bucket"] == "my-bucket"
    assert "command=%s -c " % paths["binary"] in record["program"]
    assert "stdout_events_enabled=true" in record["program"]
    assert defaults["supervisord_conf"] == paths["container_supervisord_conf"]
    assert defaults["program_dir"] == paths["program_dir"]
