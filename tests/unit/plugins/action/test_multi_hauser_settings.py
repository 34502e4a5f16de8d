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


def failures(run):
    """The results of the failed tasks, read from the `fatal: [host]: FAILED! => {...}` lines (the
    message itself JSON-escaped there; only ansible-core 2.19 prints it unescaped too)."""
    return [json.loads(line.split("FAILED! => ", 1)[1]) for line in run.stdout.splitlines() if "FAILED! => " in line]


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
    ("multi_hauser_backoff_steps_max=eight",
     "multi_hauser_backoff_steps_max is not valid: a whole number from 0 to 64 expected"),
    ("multi_hauser_backoff_steps_max=65",
     "multi_hauser_backoff_steps_max is not valid: a whole number from 0 to 64 expected"),
    ("multi_hauser_provider=azure", "multi_hauser_provider must be gcp, aws or local"),
    ("multi_hauser_backoff=30", 'multi_hauser_backoff is not valid: a number without its unit (a Go duration such as "10m" '
     'expected)'),
    ("multi_hauser_shard_weight=nan", "multi_hauser_shard_weight is not valid: a number from 0 to 1000 expected"),
    ("multi_hauser_export_delay_step=0s", "multi_hauser_export_delay_step must be from 1s to 168h"),
])
def test_a_value_of_the_wrong_kind_fails_naming_the_variable(playbook, option, message):
    run = playbook(settings_play(), options=["-e", option], extra_vars=dict(LOCAL))
    assert run.rc != 0
    assert any(message in failure.get("msg", "") for failure in failures(run)), run.stdout


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


@pytest.mark.parametrize("given, expected", [("false", False), ("no", False), ("true", True), ("1", True)])
def test_a_removal_needs_neither_orgs_nor_the_provider_s_settings_and_its_booleans_mean_what_they_say(
        playbook, given, expected):
    run = playbook(settings_play("remove"), options=[
        "-e", "multi_hauser_remove_data=" + given, "-e", "multi_hauser_remove_user=" + given,
        "-e", "multi_hauser_remove_supervisor=" + given])
    settings = shown(run)
    assert (settings["remove_data"], settings["remove_user"], settings["remove_supervisor"]) == (expected,) * 3


def test_a_removal_knows_where_a_deploy_installs_the_credentials(playbook):
    show = {"ansible.builtin.debug": {"msg": "CREDENTIALS={{ __settings.layout.credentials }}"}}
    run = playbook(with_role_defaults([
        {"hauser.multi_hauser.multi_hauser_settings": {"purpose": "remove"}, "register": "__settings"}, show]))
    assert run.rc == 0, run.output[-3000:]
    assert "CREDENTIALS=/etc/multi-hauser/gcp-credentials.json" in run.stdout


@pytest.mark.parametrize("option, message", [
    ("multi_hauser_base_dir=/var/lib", "multi_hauser_base_dir is not valid: /var/lib is a directory of the system"),
    ("multi_hauser_log_dir=/var/lib/multi-hauser/logs", "multi_hauser_base_dir and multi_hauser_log_dir must be apart"),
    ("multi_hauser_mode=image", "multi_hauser_mode must be vm to remove a deployment"),
    ("multi_hauser_remove_data=maybe", "multi_hauser_remove_data is not valid: true or false expected"),
])
def test_a_removal_refuses_directories_that_are_not_the_deployment_s_own(playbook, option, message):
    run = playbook(settings_play("remove"), options=["-e", option])
    assert run.rc != 0
    assert message in run.stdout


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


SECRET = "Sekr1t-Zq9xW-value"
AWS = {"multi_hauser_provider": "aws", "multi_hauser_s3_bucket": "b", "multi_hauser_s3_region": "r",
       "multi_hauser_redshift_host": "h", "multi_hauser_redshift_db": "d", "multi_hauser_redshift_user": "u",
       "multi_hauser_redshift_password": "pw-" + SECRET, "multi_hauser_redshift_credentials": "aws_iam_role=x",
       "multi_hauser_keyfile": "keys.csv"}
# (purpose, the task's variables): each case a task of one run, its message kept.
CASES = {
    "secret-looking names and URLs": ("deploy", dict(LOCAL, multi_hauser_environment={
        "AWS_SECRET_ACCESS_KEY": SECRET, "HTTPS_PROXY": "http://user:%s@proxy:3128" % SECRET, "TZ": "UTC",
        "NO_PROXY": "localhost", "HTTP_PROXY": "http://proxy:3128"})),
    "both environments": ("deploy", dict(LOCAL, multi_hauser_environment={"TZ": "UTC", "LANG": "C"},
                                         multi_hauser_secret_environment={"TZ": SECRET, "X_TOKEN": SECRET})),
    "secret-looking in the status too": ("status", {"multi_hauser_environment": {"DB_PASSWORD": SECRET}}),
    "every secret of an image": ("image", {
        "multi_hauser_keyfile": "keys.csv", "multi_hauser_orgs": [{"org_id": "o-1", "api_key": SECRET}],
        "multi_hauser_gcp_credentials_file": "/home/me/sa.json", "multi_hauser_redshift_password": SECRET,
        "multi_hauser_redshift_credentials": SECRET, "multi_hauser_secret_environment": {"X_TOKEN": SECRET},
        "multi_hauser_config_extra": {"redshift": {"Password": SECRET}}}),
    "a header value in an image": ("image", {"multi_hauser_config_extra": {
        "AdditionalHttpHeader": [{"Key": "Authorization", "Value": "Bearer " + SECRET}]}}),
    "a password in an image's config_extra": ("image", {"multi_hauser_config_extra": {"redshift": {"password": SECRET}}}),
    "an image without secrets": ("image", {"multi_hauser_config_extra": {"SaveAsJson": True},
                                           "multi_hauser_environment": {"TZ": "UTC"}}),
    "the deployment's secrets": ("deploy", dict(AWS, multi_hauser_secret_environment={"X_TOKEN": "env-" + SECRET},
                                                multi_hauser_config_extra={"AdditionalHttpHeader": [
                                                    {"Key": "X-Auth", "Value": "header-" + SECRET}]})),
}


def test_secrets_go_only_where_they_are_kept_secret(playbook, tmp_path):
    tasks = []
    for index, (purpose, variables) in enumerate(CASES.values()):
        tasks.append({"hauser.multi_hauser.multi_hauser_settings": {"purpose": purpose}, "vars": variables,
                      "register": "case_%d" % index, "ignore_errors": True})
    results = "{{ [%s] | to_json }}" % ", ".join(
        "case_%d.msg | default(case_%d.secrets | default([]) | sort)" % (index, index) for index in range(len(CASES)))
    # no_log: the outcome of the last case is the secrets themselves
    tasks.append({"ansible.builtin.copy": {"content": results, "dest": str(tmp_path / "outcomes.json")},
                  "no_log": True})
    run = playbook(with_role_defaults(tasks), options=["-vvv"])
    assert run.rc == 0, run.output[-3000:]
    outcome = dict(zip(CASES, json.loads((tmp_path / "outcomes.json").read_text())))
    assert SECRET not in run.output
    assert outcome["secret-looking names and URLs"] == (
        "multi_hauser_environment: AWS_SECRET_ACCESS_KEY, HTTPS_PROXY look like secrets (by name, or a URL with a "
        "password): give them as multi_hauser_secret_environment, which only root may read")
    assert outcome["both environments"] == "multi_hauser_environment and multi_hauser_secret_environment both set TZ"
    assert outcome["secret-looking in the status too"].startswith("multi_hauser_environment: DB_PASSWORD look like")
    assert outcome["every secret of an image"] == (
        "An image must hold no key and no credential: with multi_hauser_mode=image, leave multi_hauser_keyfile, "
        "multi_hauser_orgs, multi_hauser_gcp_credentials_file, multi_hauser_redshift_password, "
        "multi_hauser_redshift_credentials, multi_hauser_secret_environment, multi_hauser_config_extra empty and give "
        "them when the container runs.")
    for case in ("a header value in an image", "a password in an image's config_extra"):
        assert outcome[case] == ("An image must hold no key and no credential: with multi_hauser_mode=image, leave "
                                 "multi_hauser_config_extra empty and give them when the container runs.")
    assert outcome["an image without secrets"] == []
    assert outcome["the deployment's secrets"] == sorted(["pw-" + SECRET, "aws_iam_role=x", "env-" + SECRET,
                                                         "header-" + SECRET])
