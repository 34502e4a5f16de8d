"""settings: a value means what it says whatever its source (YAML, -e, an environment variable), a
value of the wrong kind is refused naming the variable as the user spelled it, each provider's
required settings (the README's variable table), and the image's defaults."""

import json
import math
import pathlib
import re
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
    Environment,
    HauserKeys,
    Integer,
    Number,
    Path,
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

# (kind, value as YAML or JSON gives it, the same as -e or the environment gives it, what it means).
# Not every value is within the bounds of every setting of its kind: a value means the same from
# either source, or is refused from both.
CONVERTED = {
    Boolean: [(True, "true", True), (False, "false", False), (True, "TRUE", True), (False, "False", False),
              (True, " yes ", True), (False, "no", False), (True, "on", True), (False, "off", False),
              (1, "1", True), (0, "0", False), (True, "y", True), (False, "n", False), (False, "", False)],
    Integer: [(8, "8", 8), (0, "0", 0), (1, "1", 1), (-1, "-1", -1), (8, " 8 ", 8), (8, "+8", 8), (8.0, "8", 8),
              (64, "64", 64), (65535, "65535", 65535), (65536, "65536", 65536)],
    Number: [(2, "2", 2.0), (0.5, "0.5", 0.5), (0, "0", 0.0), (1000, "1e3", 1000.0), (1.25, " 1.25 ", 1.25),
             (1001, "1001", 1001.0)],
    Duration: [("10m", "10m", "10m"), ("1h30m", "1h30m", "1h30m"), ("0s", "0s", "0s"), ("1h", "1h", "1h"),
               ("6h", "6h", "6h"), ("24h", "24h", "24h"), ("168h", "168h", "168h"), ("30s", "30s", "30s")],
    Dictionary: [({"a": 1}, '{"a": 1}', {"a": 1}), ({}, "", {}), ({}, "{}", {}),
                 ({"o-1": "vm-1"}, '{"o-1": "vm-1"}', {"o-1": "vm-1"})],
    HauserKeys: [({}, "", {}), ({}, "{}", {}), ({"SaveAsJson": True}, '{"SaveAsJson": true}', {"SaveAsJson": True}),
                 ({"bigquery": {"PartitionExpiration": "720h"}}, '{"bigquery": {"PartitionExpiration": "720h"}}',
                  {"bigquery": {"PartitionExpiration": "720h"}})],
    Environment: [({}, "", {}), ({"HTTPS_PROXY": "http://proxy:3128"}, '{"HTTPS_PROXY": "http://proxy:3128"}',
                                 {"HTTPS_PROXY": "http://proxy:3128"}), ({"N": 8}, '{"N": 8}', {"N": "8"})],
    TextList: [(["vm-1", "vm-2"], '["vm-1", "vm-2"]', ["vm-1", "vm-2"]), ([], "[]", []), (("vm-1",), '["vm-1"]', ["vm-1"]),
               (["vm-1", "vm-2"], " vm-1, vm-2 ", ["vm-1", "vm-2"]), ([], "", [])],
    Text: [("my-bucket", "my-bucket", "my-bucket"), (5439, "5439", "5439"), ("", "", ""), ("hauser", "hauser", "hauser"),
           ("1.5.1", "1.5.1", "1.5.1"), ("https://example.com/x", "https://example.com/x", "https://example.com/x"),
           ("10MB", "10MB", "10MB")],
    Path: [("/srv/x", "/srv/x", "/srv/x"), ("/srv/x/", "/srv/x/", "/srv/x"), ("/srv//x/./y", "/srv//x/./y", "/srv/x/y"),
           ("", "", "")],
}


def _outcome(name, value, naming):
    try:
        return convert({name: value}, naming)[name]
    except SettingsError:
        return SettingsError


@pytest.mark.parametrize("kind", sorted(CONVERTED, key=lambda kind: kind.__name__))
def test_every_setting_of_a_kind_means_the_same_from_yaml_and_from_a_string(kind):
    assert names_of(kind), "no setting is a %s" % kind.__name__
    for name in names_of(kind):
        taken = 0
        for native, text, meant in CONVERTED[kind]:
            from_yaml = _outcome(name, native, ROLE_NAMING)
            from_string = _outcome(name, text, IMAGE_NAMING)
            assert (from_yaml is SettingsError) == (from_string is SettingsError), (name, native, text)
            if from_yaml is not SettingsError:
                taken += 1
                assert from_yaml == from_string == meant and isinstance(from_yaml, type(meant)), (name, native, text)
        assert taken, "%s takes none of the values of its kind" % name


# Each whole-number setting's bounds (the role's argument spec describes them).
INTEGER_BOUNDS = {"redshift_port": (1, 65535), "redshift_varchar_max": (1, 65535), "backoff_steps_max": (0, 64),
                  "log_backups": (0, 1000), "start_timeout": (0, 3600), "apt_cache_valid_time": (0, 316224000),
                  "metrics_port": (0, 65535), "keep_versions": (1, 100)}

REFUSED = {
    Boolean: ([2, 1.0, None, [], "maybe", "truee"], "true or false expected"),
    Number: ([True, None, "nan", "inf", "-Infinity", float("nan"), float("inf"), "", "two", "9" * 65, [1]],
             "a number from 0 to 1000 expected"),
    Duration: ([None, True, ["10m"], {"a": "10m"}], 'a Go duration such as "10m" expected'),
    Dictionary: (["[1]", "{bad", "null", '"text"', 1, ["a"], None], "a JSON object expected"),
    HauserKeys: (["[1]", "{bad", "null", '"text"', 1, ["a"], None], "a JSON object expected"),
    Environment: (["[1]", "{bad", "null", '"text"', 1, ["a"], None], "a mapping of variable names to strings expected"),
    TextList: (["[1]", '["a", null]', "[bad", {"a": 1}, [1], ["a", None], None, 5, True],
               "a list of strings expected"),
    Text: ([True, None, ["x"], {"a": 1}], "a string expected"),
    Path: ([True, None, ["/x"], {"a": 1}, "relative/path", "/", "//", "/srv/../etc", "/srv/x\n"],
           "an absolute path without blanks expected"),
}
INTEGER_REFUSED = [True, 8.5, None, "8.5", "8h", "", "1e3", "eight", "1" * 19, [8]]


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
def test_a_whole_number_of_the_wrong_kind_is_refused_saying_its_bounds(naming, pattern):
    assert sorted(INTEGER_BOUNDS) == names_of(Integer)
    for name, (low, high) in INTEGER_BOUNDS.items():
        for value in INTEGER_REFUSED:
            with pytest.raises(SettingsError) as caught:
                convert({name: value}, naming)
            assert str(caught.value) == "%s is not valid: a whole number from %d to %d expected" % (
                spelled(pattern, name), low, high), value


@pytest.mark.parametrize("name", sorted(INTEGER_BOUNDS))
def test_whole_numbers_are_taken_up_to_their_bounds_and_refused_beyond(name):
    low, high = INTEGER_BOUNDS[name]
    for value in (low, high):
        assert convert({name: value})[name] == convert({name: str(value)}, IMAGE_NAMING)[name] == value
    for value in (low - 1, high + 1, str(low - 1), str(high + 1)):
        with pytest.raises(SettingsError, match="^multi_hauser_%s is not valid: a whole number from %d to %d expected$"
                           % (name, low, high)):
            convert({name: value})


def test_the_shard_weight_is_a_number_from_0_to_1000():
    assert [convert({"shard_weight": value})["shard_weight"] for value in (0, "0.001", 1000, "1e3")] == \
        [0.0, 0.001, 1000.0, 1000.0]
    for value in (-0.001, "-1", 1000.5, "1e4", 1e400):
        with pytest.raises(SettingsError, match="^multi_hauser_shard_weight is not valid: a number from 0 to 1000 expected$"):
            convert({"shard_weight": value})


# name -> (durations taken, [(a duration refused, the message after the variable's name)]).
DURATION_BOUNDS = {
    "s3_timeout": (["1ns", "5m", "24h"], [("0s", "must be more than 0s"), ("-1s", "must be more than 0s"),
                                          ("24h1ns", "must be from 0(ns|s) to 24h")]),
    "export_delay_base": (["1h", "24h", "168h"], [
        ("59m59s", "must be from 1h to 168h"), ("168h1s", "must be from 1h to 168h")]),
    "export_delay_step": (["1s", "10m", "168h"], [
        ("999ms", "must be from 1s to 168h"), ("0s", "must be from 1s to 168h"), ("169h", "must be from 1s to 168h")]),
    "export_delay_window": (["1s", "24h", "168h"], [
        ("0s", "must be from 1s to 168h"), ("168h1ns", "must be from 1s to 168h")]),
    "export_duration": (["15m", "6h", "24h", "1h30m"], [
        ("14m59s", "must be from 15m to 24h"), ("25h", "must be from 15m to 24h"), ("-6h", "must be from 15m to 24h"),
        ("7h", r"must be an even fraction of 24h \(hauser refuses others\)"),
        ("17m", r"must be an even fraction of 24h \(hauser refuses others\)")]),
    "backoff": (["0s", "30s", "24h"], [("-1s", "must be from 0(ns|s) to 24h"), ("24h1s", "must be from 0(ns|s) to 24h")]),
}


def test_every_duration_setting_has_its_bounds_here():
    assert sorted(DURATION_BOUNDS) == names_of(Duration)


@pytest.mark.parametrize("naming, pattern", NAMINGS)
@pytest.mark.parametrize("name", sorted(DURATION_BOUNDS))
def test_durations_are_taken_within_their_bounds_and_refused_beyond(naming, pattern, name):
    taken, refused = DURATION_BOUNDS[name]
    for value in taken:
        assert convert({name: value}, naming)[name] == value
    for value, message in refused:
        with pytest.raises(SettingsError) as caught:
            convert({name: value}, naming)
        assert re.match("^%s %s$" % (re.escape(spelled(pattern, name)), message), str(caught.value)), value


@pytest.mark.parametrize("naming, pattern", NAMINGS)
def test_a_duration_given_as_a_number_is_refused_as_go_refuses_it(naming, pattern):
    for name in names_of(Duration):
        with pytest.raises(SettingsError) as caught:
            convert({name: 600}, naming)
        assert str(caught.value) == '%s is not valid: a number without its unit (a Go duration such as "10m" ' \
            'expected)' % spelled(pattern, name)


@pytest.mark.parametrize("naming, pattern", NAMINGS)
def test_a_duration_that_go_refuses_is_refused_with_its_reason_never_the_value(naming, pattern):
    for name in names_of(Duration):
        for value, reason in [("10 minutes", "an unknown unit (ns, us, ms, s, m and h are known)"),
                              ("Zq9xW", 'not a Go duration such as "10m"')]:
            with pytest.raises(SettingsError) as caught:
                convert({name: value}, naming)
            assert str(caught.value) == '%s is not valid: %s' % (spelled(pattern, name), reason)


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
    assert Integer(-10 ** 17, 10 ** 17).convert(str(number), "n") == number


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_finite_number_from_a_string(number):
    assert Number(-math.inf, math.inf).convert(repr(number), "n") == number


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
    "MULTI_HAUSER_METRICS_PORT", "MULTI_HAUSER_METRICS_ADDRESS",
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
STAGGER = {"export_delay_step": "10m", "export_delay_window": "24h"}


@pytest.mark.parametrize("provider, storage_only", sorted(REQUIRED))
def test_only_the_required_settings_need_to_be_set(provider, storage_only):
    settings = {name: "" for name in EVERY_PROVIDER_SETTING}
    settings.update(provider=provider, storage_only=storage_only, **STAGGER)
    settings.update((name, "set") for name in REQUIRED[(provider, storage_only)])
    check_required(settings)
    check_required(settings, IMAGE_NAMING)


@pytest.mark.parametrize("provider, storage_only", sorted(REQUIRED))
def test_each_required_setting_left_empty_is_named(provider, storage_only):
    for missing in REQUIRED[(provider, storage_only)]:
        settings = {name: "set" for name in EVERY_PROVIDER_SETTING}
        settings.update(provider=provider, storage_only=storage_only, **STAGGER)
        settings[missing] = ""
        with pytest.raises(SettingsError) as caught:
            check_required(settings)
        assert str(caught.value) == "multi_hauser_%s must be set when multi_hauser_provider is %s" % (missing, provider)
        del settings[missing]  # not given at all
        with pytest.raises(SettingsError) as caught:
            check_required(settings, IMAGE_NAMING)
        assert str(caught.value) == ("MULTI_HAUSER_%s must be set when MULTI_HAUSER_PROVIDER is %s "
                                     "(in the image's build or at run time)" % (missing.upper(), provider))


DIRECTORIES = {"base_dir": "/var/lib/multi-hauser", "install_dir": "/opt/multi-hauser",
               "log_dir": "/var/log/multi-hauser", "local_save_dir": "/srv/fullstory"}


def _local(**overrides):
    settings = dict(DIRECTORIES, provider="local", storage_only=True, **STAGGER)
    settings.update(overrides)
    return settings


@pytest.mark.parametrize("name, value, other", [
    # the save directory as the base directory: each org's save directory would be its org
    # directory, hauser's, around root's config.toml
    ("local_save_dir", "/var/lib/multi-hauser", "base_dir"),
    ("local_save_dir", "/var/lib/multi-hauser/save", "base_dir"),
    ("local_save_dir", "/var/log/multi-hauser/save", "log_dir"),
    ("local_save_dir", "/var/log", "log_dir"),
    ("log_dir", "/var/lib/multi-hauser/logs", "base_dir"),
    ("install_dir", "/srv/fullstory/bin", "local_save_dir"),
])
def test_deployment_directories_must_be_apart(name, value, other):
    if value in ("/var/log",):
        settings = _local(**{name: "/var/log/mh", other: "/var/log/mh/logs"})
    else:
        settings = _local(**{name: value})
    with pytest.raises(SettingsError) as caught:
        check_required(settings)
    names = sorted([name, other], key=["base_dir", "install_dir", "log_dir", "local_save_dir"].index)
    assert str(caught.value) == ("multi_hauser_%s and multi_hauser_%s must be apart: neither the same directory nor "
                                 "one inside the other" % tuple(names))
    with pytest.raises(SettingsError, match="^MULTI_HAUSER_%s and MULTI_HAUSER_%s must be apart" % tuple(
            name.upper() for name in names)):
        check_required(settings, IMAGE_NAMING)


def test_a_save_dir_elsewhere_and_sharing_a_prefix_is_fine():
    check_required(_local(local_save_dir="/var/lib/multi-hauser-save"))
    # another provider has no save directory
    check_required(dict(_local(local_save_dir="/var/lib/multi-hauser"), provider="aws", storage_only=True,
                        s3_bucket="b", s3_region="r"))


@pytest.mark.parametrize("name", sorted(DIRECTORIES))
@pytest.mark.parametrize("value", ["/var/lib", "/srv", "/tmp", "/etc", "/home", "/usr/local", "/var/log"])
def test_a_directory_of_the_system_is_refused(name, value):
    settings = dict((other, "/x/" + other) for other in DIRECTORIES)
    settings = _local(**dict(settings, **{name: value}))
    with pytest.raises(SettingsError) as caught:
        check_required(settings)
    assert str(caught.value) == ("multi_hauser_%s is not valid: %s is a directory of the system (it would become this "
                                 "deployment's, root:<group> 0750); name a directory of its own" % (name, value))


def test_config_extra_nested_deeper_than_python_can_read_is_refused():
    for depth in (10000, 200000):
        with pytest.raises(SettingsError) as caught:
            convert({"config_extra": "[" * depth})
        assert str(caught.value) == "multi_hauser_config_extra is not valid: a JSON object expected"


DSN_SETTINGS = ["redshift_user", "redshift_password", "redshift_host", "redshift_db"]


def _aws(storage_only=False, **overrides):
    settings = {name: "set" for name in EVERY_PROVIDER_SETTING}
    settings.update(provider="aws", storage_only=storage_only, **STAGGER)
    settings.update(overrides)
    return settings


@pytest.mark.parametrize("name", DSN_SETTINGS)
@pytest.mark.parametrize("value", ["Pw with-blank", "Pw\twith-tab", "Pw\\backslash", "'Pw-quoted'", "Pw-newline\n"])
def test_what_hauser_would_put_unquoted_into_its_connection_string_is_refused(name, value):
    with pytest.raises(SettingsError) as caught:
        check_required(_aws(**{name: value}))
    assert str(caught.value) == ("multi_hauser_%s may hold no whitespace, backslash or leading quote: hauser puts it "
                                 "unquoted into its connection string" % name)
    with pytest.raises(SettingsError, match="^MULTI_HAUSER_%s may hold" % name.upper()):
        check_required(_aws(**{name: value}), IMAGE_NAMING)
    # no Redshift connection when storage only, nor with another provider
    check_required(_aws(storage_only=True, **{name: value}))
    check_required(dict(_aws(**{name: value}), provider="gcp"))


@pytest.mark.parametrize("name", DSN_SETTINGS)
def test_quotes_inside_and_other_punctuation_are_no_problem_in_the_connection_string(name):
    check_required(_aws(**{name: "it's-a=p@ss:w0rd;#!%"}))


@pytest.mark.parametrize("step, window, accepted", [("10m", "24h", True), ("10m", "10m", True), ("20m", "10m", False),
                                                    ("1h", "59m59s", False)])
def test_the_export_delay_window_is_at_least_its_step(step, window, accepted):
    settings = _aws(export_delay_step=step, export_delay_window=window)
    if accepted:
        check_required(settings)
        return
    with pytest.raises(SettingsError) as caught:
        check_required(settings)
    assert str(caught.value) == "multi_hauser_export_delay_window must be at least multi_hauser_export_delay_step"
    with pytest.raises(SettingsError) as caught:
        check_required(settings, IMAGE_NAMING)
    assert str(caught.value) == "MULTI_HAUSER_EXPORT_DELAY_WINDOW must be at least MULTI_HAUSER_EXPORT_DELAY_STEP"


# --- text: bounded, valid UTF-8, of its pattern -----------------------------------------------------

TEXT_NAMES = names_of(Text) + names_of(Path)
SECRET_LOOKING = "Sekr1t-Zq9xW"


@pytest.mark.parametrize("naming, pattern", NAMINGS)
def test_text_longer_than_4096_characters_is_refused(naming, pattern):
    for name in TEXT_NAMES:
        with pytest.raises(SettingsError) as caught:
            convert({name: "/" + "a" * 4096}, naming)
        assert str(caught.value) == "%s is not valid: longer than 4096 characters" % spelled(pattern, name)
    assert convert({"gcs_bucket": "a" * 4096})["gcs_bucket"] == "a" * 4096


@pytest.mark.parametrize("naming, pattern", NAMINGS)
@pytest.mark.parametrize("value, problem", [
    ("/" + SECRET_LOOKING + "\x00", "it holds a NUL character"),
    # what os.environ makes of bytes that are not UTF-8
    ("/" + SECRET_LOOKING + "\udcff", "not valid UTF-8"),
])
def test_text_with_a_nul_or_not_utf8_is_refused_naming_the_variable_not_the_value(naming, pattern, value, problem):
    for name in TEXT_NAMES + names_of(TextList):
        with pytest.raises(SettingsError) as caught:
            convert({name: [value] if name in names_of(TextList) else value}, naming)
        # an item of a list is named by its index
        shown = spelled(pattern, name) + ("[0]" if name in names_of(TextList) else "")
        assert str(caught.value) == "%s is not valid: %s" % (shown, problem)
        assert SECRET_LOOKING not in str(caught.value)


@pytest.mark.parametrize("name, taken, refused, expected", [
    ("version", ["1.5.1", "10.20.300"], ["1.5", "v1.5.1", "1.5.1-rc1", "1.5.1 ", "latest", ""],
     "a version such as 1.5.1"),
    ("download_url", ["https://github.com/fullstorydev/hauser/releases/download/v1.5.1", "http://127.0.0.1:8080/x"],
     ["ftp://example.com/x", "github.com/x", "https://", "https://example.com/a b", ""], "an http:// or https:// URL"),
    ("archive_sha256", ["", "0" * 64, "aB" * 32], ["0" * 63, "0" * 65, "g" * 64], "64 hexadecimal digits"),
    ("log_maxbytes", ["10MB", "1024", "1KB", "2GB"], ["10 MB", "10mb", "10TB", "-1", "", "1" * 13],
     "a size such as 10MB"),
    ("user", ["hauser", "_svc", "a-b_1", "a" * 32], ["Hauser", "1abc", "a" * 33, "ha user", "", "../x"],
     "a user or group name (lower case letters, digits, _ and -)"),
    ("group", ["hauser", "nogroup"], ["Group", "-x", "a:b"], "a user or group name (lower case letters, digits, _ and -)"),
])
def test_text_of_a_pattern(name, taken, refused, expected):
    for value in taken:
        assert convert({name: value})[name] == value
    for value in refused:
        with pytest.raises(SettingsError) as caught:
            convert({name: value})
        assert str(caught.value) == "multi_hauser_%s is not valid: %s expected" % (name, expected), value


@pytest.mark.parametrize("name, value", [("version", "1.5.1\n"), ("user", "hauser\n"), ("log_maxbytes", "10MB\n"),
                                         ("archive_sha256", "0" * 64 + "\n"), ("download_url", "https://example.com/x\n")])
def test_a_value_of_a_pattern_with_a_trailing_newline_is_refused(name, value):
    with pytest.raises(SettingsError):
        convert({name: value})


def test_an_optional_path_may_be_empty_and_the_others_may_not():
    assert convert({"local_save_dir": ""})["local_save_dir"] == ""
    for name in ("base_dir", "install_dir", "log_dir"):
        with pytest.raises(SettingsError, match="^multi_hauser_%s is not valid: an absolute path without blanks expected$" % name):
            convert({name: ""})


def test_a_read_write_path_holding_a_line_break_is_refused():
    with pytest.raises(SettingsError):
        convert({"supervisor_read_write_paths": ["/srv/data\nExecStartPre=/bin/true"]})


# --- mappings -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", names_of(Dictionary) + names_of(HauserKeys) + names_of(Environment))
def test_a_mapping_of_more_than_1000_entries_is_refused(name):
    many = dict(("V%d" % index, "x") for index in range(1001))
    for value in (many, json.dumps(many)):
        with pytest.raises(SettingsError) as caught:
            convert({name: value})
        assert str(caught.value) == "multi_hauser_%s is not valid: more than 1000 entries" % name
    with pytest.raises(SettingsError, match="^multi_hauser_%s is not valid: too long$" % name):
        convert({name: '{"A": "%s"}' % ("x" * 64 * 4096)})


def test_pins_of_1000_entries_are_taken():
    pins = dict(("o-%d" % index, "vm-1") for index in range(1000))
    assert convert({"pins": pins})["pins"] == pins


@pytest.mark.parametrize("naming, pattern", NAMINGS)
@pytest.mark.parametrize("extra, message", [
    ({"ExportDelai": "25h"}, "ExportDelai is not a hauser 1.5.1 config key (hauser would silently ignore it; did "
                             "you mean ExportDelay?)"),
    ({"SaveAsJson": "yes"}, "SaveAsJson must be true or false"),
    ({"redshift": {"VarCharMax": "big"}}, "[redshift] VarCharMax must be a whole number of 0 or more"),
    ({"Backoff": "-30s"}, "Backoff must not be negative"),
    ({"FsApiToken": [SECRET_LOOKING]}, "FsApiToken cannot be set here (each org's key comes from the key file)"),
    ({"redshift": {"Password": {"p": SECRET_LOOKING}}}, "[redshift] Password must be a string"),
])
def test_config_extra_is_checked_as_hauser_reads_it_naming_the_variable_and_no_value(naming, pattern, extra, message):
    for value in (extra, json.dumps(extra)):
        with pytest.raises(SettingsError) as caught:
            convert({"config_extra": value}, naming)
        assert str(caught.value) == "%s: %s" % (spelled(pattern, "config_extra"), message)
        assert SECRET_LOOKING not in str(caught.value)


def test_config_extra_is_spelled_as_hauser_spells_its_keys():
    assert convert({"config_extra": '{"saveasjson": true, "BIGQUERY": {"partitionexpiration": "720h"}}'})[
        "config_extra"] == {"SaveAsJson": True, "bigquery": {"PartitionExpiration": "720h"}}


ENVIRONMENTS = names_of(Environment)


def test_the_secret_environment_is_an_environment_too():
    assert ENVIRONMENTS == ["environment", "secret_environment"]


@pytest.mark.parametrize("name", ENVIRONMENTS)
@pytest.mark.parametrize("variable", ["HTTP PROXY", "1ABC", "A-B", "A=B", "A,B", "", "A" * 129, u"\u00c4B", "A\nB"])
def test_an_environment_variable_name_that_is_no_plain_name_is_refused(name, variable):
    with pytest.raises(SettingsError) as caught:
        convert({name: {variable: "x"}})
    assert str(caught.value) == ("multi_hauser_%s: a variable name must be letters, digits and _, not starting with a "
                                 "digit (one is not)" % name)


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_plain_environment_variable_names_are_taken(name):
    environment = {"_X": "1", "a1": "2", "A" * 128: "3", "HTTPS_PROXY": "http://proxy:3128"}
    assert convert({name: environment})[name] == environment


@pytest.mark.parametrize("name", ENVIRONMENTS)
@pytest.mark.parametrize("value, problem", [
    (SECRET_LOOKING + "\nX", "line break"), (SECRET_LOOKING + "\rX", "line break"), ("a ;" + SECRET_LOOKING, "; or #"),
    ("a\t#" + SECRET_LOOKING, "; or #"), ("'" + SECRET_LOOKING, "quote"), (SECRET_LOOKING + "'", "quote"),
    ('"' + SECRET_LOOKING, "quote"), (SECRET_LOOKING + '"', "quote"), ("it's \"%s\" x" % SECRET_LOOKING, "both kinds"),
])
def test_an_environment_value_supervisord_would_not_pass_on_exactly_is_refused_and_not_shown(name, value, problem):
    with pytest.raises(SettingsError) as caught:
        convert({name: {"VAR": value}})
    message = str(caught.value)
    assert message.startswith("multi_hauser_%s[VAR] cannot be given to hauser: " % name) and problem in message
    assert SECRET_LOOKING not in message


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_environment_values_supervisord_passes_on_exactly_are_taken(name):
    environment = {"A": "a;b#c", "B": "50% off", "C": "it's", "D": 'say "hi" now', "E": "", "F": "x=y,z", "G": "a b"}
    assert convert({name: environment})[name] == environment


def test_the_supervisor_settings():
    assert convert({"supervisor_sandbox": "false", "supervisor_restart": "yes",
                    "supervisor_read_write_paths": "/srv/a,/srv/b"}) == {
        "supervisor_sandbox": False, "supervisor_restart": True, "supervisor_read_write_paths": ["/srv/a", "/srv/b"]}


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
