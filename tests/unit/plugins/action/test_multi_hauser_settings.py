"""multi_hauser_settings in a real ansible-playbook run: every role variable means what it says,
from YAML or from -e as a string, and bad ones stop the run naming the variable, never a value."""

import json
import re

import pytest

from conftest import with_role_defaults

SHOW = {"ansible.builtin.debug": {"msg": "SETTINGS={{ __settings.settings | to_json }}"}}


def settings_play(purpose="deploy", **task):
    action = {"hauser.multi_hauser.multi_hauser_settings": {"purpose": purpose}, "register": "__settings"}
    action.update(task)
    return with_role_defaults([action, SHOW])


def shown(run):
    assert run.rc == 0, run.output[-3000:]
    return json.loads(re.search(r'"SETTINGS=(.*)"\n', run.stdout).group(1).replace('\\"', '"'))


LOCAL = {"multi_hauser_provider": "local", "multi_hauser_local_save_dir": "/srv/x", "multi_hauser_keyfile": "keys.csv"}


@pytest.mark.parametrize("given, expected", [
    ("false", False), ("False", False), ("no", False), ("0", False), ("true", True), ("yes", True), ("1", True),
])
def test_a_boolean_from_extra_vars_as_a_string_means_what_it_says(playbook, given, expected):
    run = playbook(settings_play(), options=["-e", "multi_hauser_storage_only=" + given],
                   extra_vars=dict(LOCAL))
    assert shown(run)["storage_only"] is expected


def test_numbers_from_extra_vars_are_numbers(playbook):
    run = playbook(settings_play(), options=["-e", "multi_hauser_backoff_steps_max=3", "-e", "multi_hauser_start_timeout=7",
                                             "-e", "multi_hauser_shard_weight=2.5"], extra_vars=dict(LOCAL))
    settings = shown(run)
    assert (settings["backoff_steps_max"], settings["start_timeout"], settings["shard_weight"]) == (3, 7, 2.5)


@pytest.mark.parametrize("option, message", [
    ("multi_hauser_storage_only=maybe", "multi_hauser_storage_only is not valid: true or false expected"),
    ("multi_hauser_backoff_steps_max=eight", "multi_hauser_backoff_steps_max is not valid: a whole number expected"),
    ("multi_hauser_provider=azure", "multi_hauser_provider must be gcp, aws or local"),
    ("multi_hauser_backoff=30", 'multi_hauser_backoff is not valid: time: missing unit in duration "30"'),
    ("multi_hauser_shard_weight=nan", "multi_hauser_shard_weight is not valid: a number expected"),
])
def test_a_value_of_the_wrong_kind_fails_naming_the_variable(playbook, option, message):
    run = playbook(settings_play(), options=["-e", option], extra_vars=dict(LOCAL))
    assert run.rc != 0
    assert message in run.stdout


def test_the_provider_s_settings_must_be_set(playbook):
    run = playbook(settings_play(), extra_vars={"multi_hauser_keyfile": "keys.csv"})
    assert run.rc != 0
    assert "multi_hauser_gcs_bucket must be set when multi_hauser_provider is gcp" in run.stdout


BOTH = {"multi_hauser_keyfile": "keys.csv", "multi_hauser_orgs": [{"org_id": "o-1", "api_key": "na1.k"}]}


@pytest.mark.parametrize("orgs", [{}, BOTH])
def test_the_orgs_come_from_exactly_one_place(playbook, orgs):
    variables = {"multi_hauser_provider": "local", "multi_hauser_local_save_dir": "/srv/x"}
    variables.update(orgs)
    run = playbook(settings_play(), extra_vars=variables)
    assert run.rc != 0
    assert "exactly one of them" in run.stdout


def test_the_status_needs_neither_orgs_nor_the_provider_s_settings(playbook):
    assert shown(playbook(settings_play("status")))["provider"] == "gcp"


def test_an_image_refuses_every_secret_naming_each(playbook):
    secret = "s3cr3t-Pa55word-Zq9"
    run = playbook(settings_play("image"), options=["-vvv"], extra_vars={
        "multi_hauser_redshift_password": secret, "multi_hauser_keyfile": "keys.csv"})
    assert run.rc != 0
    assert "An image must hold no key and no credential" in run.stdout
    assert "multi_hauser_keyfile" in run.stdout and "multi_hauser_redshift_password" in run.stdout
    assert secret not in run.output


def test_the_result_holds_secrets_and_is_never_shown(playbook):
    secret = "s3cr3t-Pa55word-Zq9"
    variables = {"multi_hauser_provider": "aws", "multi_hauser_s3_bucket": "b", "multi_hauser_s3_region": "r",
                 "multi_hauser_redshift_host": "h", "multi_hauser_redshift_db": "d", "multi_hauser_redshift_user": "u",
                 "multi_hauser_redshift_password": secret, "multi_hauser_redshift_credentials": "aws_iam_role=x",
                 "multi_hauser_keyfile": "keys.csv"}
    check = {"ansible.builtin.assert": {"that": ["__settings.settings.redshift_password == '%s'" % secret]}}
    run = playbook(with_role_defaults([{"hauser.multi_hauser.multi_hauser_settings": {}, "register": "__settings"}, check]),
                   options=["-vvv"], extra_vars=variables)
    assert run.rc == 0, run.output[-3000:]
    assert "censored" in run.stdout
    assert run.output.count(secret) == 0
