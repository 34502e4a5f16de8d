"""secrets: which values are secret, and that masking leaves nothing of them, in text (by value) and
in configs (by key, in any section and any case, as hauser matches keys)."""

import pathlib
import tomllib

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.config import to_toml
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.secrets import (
    IMAGE_REFUSED,
    MASK,
    SECRET_CONFIG_KEYS,
    SECRET_SETTINGS,
    config_secrets,
    image_refusals,
    mask_config,
    mask_values,
    secret_looking_environment,
    secret_values,
)

ROLE = pathlib.Path(__file__).resolve().parents[5] / "roles" / "multi_hauser"

KEY = "na1.Zx9Qw8Er7Ty6/abc"
KEY2 = "na1.Pl0Ok9Ij8Uh7/defgh"
PASSWORD = "Redshift-pw-8c1d"
ORGS = [{"org_id": "o-1", "api_key": KEY, "line": 1}, {"org_id": "o-2", "api_key": KEY2, "line": 2}]


def test_secret_values_are_the_keys_and_the_redshift_password_longest_first():
    settings = {"redshift_password": PASSWORD, "gcs_bucket": "not-a-secret", "redshift_user": "hauser"}
    assert secret_values(settings, ORGS) == [KEY2, KEY, PASSWORD]


def test_secret_values_of_equal_length_are_in_a_stable_order_and_counted_once():
    orgs = [{"org_id": "a", "api_key": "bbbb"}, {"org_id": "b", "api_key": "aaaa"}, {"org_id": "c", "api_key": "bbbb"}]
    assert secret_values({}, orgs) == ["aaaa", "bbbb"]
    assert secret_values({}, list(reversed(orgs))) == ["aaaa", "bbbb"]


def test_empty_secrets_are_no_secrets():
    assert secret_values({"redshift_password": ""}, [{"org_id": "a", "api_key": ""}]) == []
    assert secret_values({"redshift_password": None}) == []
    assert secret_values({}) == []


def test_a_secret_inside_a_longer_one_leaves_nothing_of_the_longer_one():
    # the Redshift password is part of an org's key: masked in the order secret_values gives
    settings = {"redshift_password": "cdef"}
    orgs = [{"org_id": "o-1", "api_key": "abcdefgh"}]
    masked = mask_values("key abcdefgh, password cdef.", secret_values(settings, orgs))
    assert masked == "key %s, password %s." % (MASK, MASK)


def test_mask_values_masks_every_occurrence_and_nothing_else():
    assert mask_values("%s and %s again; bucket b" % (KEY, KEY), [KEY]) == "%s and %s again; bucket b" % (MASK, MASK)
    assert mask_values("nothing secret", [KEY, ""]) == "nothing secret"


# Secrets and text without "*", of which the mask is made.
ALPHABET = st.characters(blacklist_characters="*", blacklist_categories=("Cs",))


@given(st.lists(st.text(ALPHABET, min_size=1, max_size=8), min_size=1, max_size=4),
       st.lists(st.text(ALPHABET, max_size=8), max_size=6))
def test_no_secret_survives_masking(secrets, filler):
    text = "".join(part for pair in zip(filler + [""] * len(secrets), secrets + [""] * len(filler)) for part in pair)
    orgs = [{"org_id": "o-%d" % index, "api_key": secret} for index, secret in enumerate(secrets)]
    masked = mask_values(text, secret_values({}, orgs))
    for secret in secrets:
        assert secret not in masked


def _config(token_key="FsApiToken", password_key="Password", section="redshift"):
    return to_toml({token_key: KEY, "ExportDelay": "24h", "PasswordFile": "/etc/pw", "Other": "Password = x",
                    section: {password_key: PASSWORD, "User": "hauser"}})


@pytest.mark.parametrize("token_key, password_key, section", [
    ("FsApiToken", "Password", "redshift"),
    ("fsapitoken", "PASSWORD", "Redshift"),
    ("FSAPITOKEN", "password", "REDSHIFT"),
    ("FsApiToken", "Password", "bigquery"),  # in whatever section
])
def test_mask_config_masks_every_secret_key_and_keeps_the_rest(token_key, password_key, section):
    masked = mask_config(_config(token_key, password_key, section))
    assert KEY not in masked and PASSWORD not in masked
    assert tomllib.loads(masked) == {token_key: MASK, "ExportDelay": "24h", "PasswordFile": "/etc/pw",
                                     "Other": "Password = x", section: {password_key: MASK, "User": "hauser"}}


@pytest.mark.parametrize("key", SECRET_CONFIG_KEYS)
@pytest.mark.parametrize("line", ['{key} = "{value}"', "  {key}   =   '{value}'", "\t{key}={value}",
                                  '{key} = "{value}" # a comment'])
def test_mask_config_masks_every_secret_key_however_it_is_written(key, line):
    text = "[section]\n" + line.format(key=key, value=KEY) + "\nUser = \"hauser\"\n"
    masked = mask_config(text)
    assert KEY not in masked
    assert masked.splitlines()[2] == 'User = "hauser"' and len(masked.splitlines()) == 3


@pytest.mark.parametrize("key", SECRET_CONFIG_KEYS)
def test_mask_config_masks_a_quoted_secret_key(key):
    assert KEY not in mask_config('"%s" = "%s"\n' % (key, KEY))


# --- what is secret ---------------------------------------------------------------------------------

def test_the_secret_settings_and_config_keys():
    assert sorted(SECRET_SETTINGS) == ["redshift_credentials", "redshift_password", "secret_environment"]
    assert sorted(SECRET_CONFIG_KEYS) == ["Credentials", "FsApiToken", "Password"]
    assert set(SECRET_SETTINGS) | {"keyfile", "orgs", "gcp_credentials_file"} == set(IMAGE_REFUSED)


def test_the_role_marks_every_secret_setting_no_log():
    options = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert sorted(name for name, option in options.items() if option.get("no_log")) == \
        sorted("multi_hauser_" + name for name in SECRET_SETTINGS)


def test_secret_values_hold_the_secret_environment_and_config_extra_s_secrets():
    settings = {
        "redshift_password": PASSWORD, "redshift_credentials": "aws_iam_role=arn:x",
        "secret_environment": {"AWS_SECRET_ACCESS_KEY": "aws-secret-1", "EMPTY": ""},
        "environment": {"TZ": "Europe/Paris"},  # not secret
        "config_extra": {"fsapitoken": "extra-token", "Redshift": {"PASSWORD": "extra-pw", "User": "u"},
                         "bigquery": {"Credentials": "extra-credentials"},
                         "AdditionalHttpHeader": [{"Key": "Authorization", "Value": "Bearer hdr-1"},
                                                  {"Key": "X-Env", "Value": "prod"}]},
        "gcs_bucket": "bucket",
    }
    assert sorted(secret_values(settings, ORGS)) == sorted([
        KEY, KEY2, PASSWORD, "aws_iam_role=arn:x", "aws-secret-1", "extra-token", "extra-pw", "extra-credentials",
        "Bearer hdr-1", "prod"])
    values = secret_values(settings, ORGS)
    assert [len(value) for value in values] == sorted((len(value) for value in values), reverse=True)


@pytest.mark.parametrize("settings, refused", [
    ({}, []),
    ({"keyfile": "keys.csv", "orgs": [], "redshift_password": ""}, ["keyfile"]),
    ({"orgs": [{"org_id": "o-1", "api_key": KEY}], "gcp_credentials_file": "/home/me/sa.json"},
     ["orgs", "gcp_credentials_file"]),
    ({"redshift_credentials": "aws_iam_role=x", "secret_environment": {"A": "b"}},
     ["redshift_credentials", "secret_environment"]),
    ({"config_extra": {"SaveAsJson": True, "redshift": {"User": "u"}}}, []),
    ({"config_extra": {"redshift": {"Password": "pw"}}}, ["config_extra"]),
    ({"config_extra": {"AdditionalHttpHeader": [{"Key": "X-Env", "Value": "prod"}]}}, ["config_extra"]),
    ({"config_extra": {"FsApiToken": KEY}, "redshift_password": PASSWORD}, ["redshift_password", "config_extra"]),
])
def test_image_refusals_name_each_secret_an_image_must_not_hold(settings, refused):
    assert image_refusals(settings) == refused


@pytest.mark.parametrize("name, value, looks_secret", [
    ("AWS_SECRET_ACCESS_KEY", "x", True), ("DB_PASSWORD", "x", True), ("db_passwd", "x", True), ("GITHUB_TOKEN", "x", True),
    ("PRIVATE_KEY_PATH", "/x", True), ("FULLSTORY_API_KEY", "x", True), ("APIKEY", "x", True),
    ("GOOGLE_CREDENTIALS", "x", True),
    ("HTTPS_PROXY", "http://user:pw@proxy:3128", True), ("ALL_PROXY", "socks5://u:p@proxy:1080", True),
    ("HTTPS_PROXY", "http://proxy:3128", False), ("HTTPS_PROXY", "http://user@proxy:3128", False),
    ("NO_PROXY", "localhost,127.0.0.1", False), ("TZ", "UTC", False), ("KEYBOARD", "x", False),
    ("LINK", "see http://host/a:b@c", False),
])
def test_secret_looking_environment(name, value, looks_secret):
    assert secret_looking_environment({name: value, "TZ": "UTC"}) == ([name] if looks_secret else [])


# --- masking configs: by key, in the sections and tables where the keys are secret -------------------

HEADERS = """FsApiToken = "%s"
Value = "top-level value"

[[AdditionalHttpHeader]]
Key = "Authorization"
Value = "Bearer hdr-secret-1"

[[ "AdditionalHttpHeader" ]]
Key = "X-Other"
'value' = 'hdr-secret-2'

[gcs]
Bucket = "b"
Value = "a gcs value"
""" % KEY


def test_mask_config_masks_header_values_only_in_their_tables():
    masked = mask_config(HEADERS)
    for secret in (KEY, "hdr-secret-1", "hdr-secret-2"):
        assert secret not in masked
    parsed = tomllib.loads(masked)
    assert parsed["Value"] == "top-level value" and parsed["gcs"]["Value"] == "a gcs value"
    assert [header["Key"] for header in parsed["AdditionalHttpHeader"]] == ["Authorization", "X-Other"]
    assert parsed["AdditionalHttpHeader"][0]["Value"] == MASK and parsed["AdditionalHttpHeader"][1]["value"] == MASK


def test_a_written_config_with_headers_is_masked_whole():
    config = {"FsApiToken": KEY, "AdditionalHttpHeader": [{"Key": "A", "Value": "hdr-a"}, {"Key": "B", "Value": "hdr-b"}],
              "redshift": {"Password": PASSWORD, "Credentials": "cred-x"}}
    masked = mask_config(to_toml(config))
    assert tomllib.loads(masked) == {"FsApiToken": MASK, "AdditionalHttpHeader": [{"Key": "A", "Value": MASK},
                                                                                  {"Key": "B", "Value": MASK}],
                                     "redshift": {"Password": MASK, "Credentials": MASK}}


def test_header_values_are_masked_whatever_the_case_of_their_table():
    text = '[[additionalhttpheader]]\nKey = "Authorization"\nValue = "Bearer hdr-secret-3"\n'
    assert "hdr-secret-3" not in mask_config(text)
    assert config_secrets(text) == ["Bearer hdr-secret-3"]


def test_config_secrets_are_the_values_of_the_secret_keys_of_a_config():
    assert sorted(config_secrets(HEADERS)) == sorted([KEY, "Bearer hdr-secret-1", "hdr-secret-2"])
    written = to_toml({"FsApiToken": KEY, "ExportDelay": "24h", "redshift": {"Password": PASSWORD, "User": "hauser",
                                                                             "Credentials": "aws_iam_role=x"}})
    assert sorted(config_secrets(written)) == sorted([KEY, PASSWORD, "aws_iam_role=x"])
    assert config_secrets('ExportDelay = "24h"\n') == []


def test_config_secrets_of_a_config_that_does_not_parse_are_read_line_by_line():
    text = 'FsApiToken = "%s"\n[redshift\n  password = \'%s\'\nUser = "hauser"\nValue = "hdr-v"\nCredentials = \n' % (
        KEY, PASSWORD)
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(text)
    assert sorted(config_secrets(text)) == sorted([KEY, PASSWORD, "hdr-v"])
