"""secrets: which values are secret, and that masking leaves nothing of them, in text (by value) and
in configs (by key, in any section and any case, as hauser matches keys)."""

import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.config import to_toml
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.secrets import (
    MASK,
    SECRET_CONFIG_KEYS,
    mask_config,
    mask_values,
    secret_values,
)

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
