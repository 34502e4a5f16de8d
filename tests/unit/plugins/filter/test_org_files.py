"""The org_files filter, with its inputs as Ansible hands them over (strings, numbers, lists and
dictionaries tagged with where they came from), and its errors as Ansible shows them."""

import datetime
import json
import pathlib
import tomllib

import pytest
from ansible.errors import AnsibleFilterError
from ansible.parsing.utils.yaml import from_yaml

from ansible_collections.hauser.multi_hauser.plugins.filter.org_files import FilterModule
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.render import render_org_files

TEMPLATES = pathlib.Path(__file__).resolve().parents[4] / "roles" / "multi_hauser" / "templates"
CONFIG_TEMPLATE = (TEMPLATES / "config.toml.j2").read_text()
PROGRAM_TEMPLATE = (TEMPLATES / "program.conf.j2").read_text()
KEY = "na1.Zx9Qw8Er7Ty6/abc"
KEY2 = "na1.Pl0Ok9Ij8Uh7/def"
ORGS = [{"org_id": "o-1A2B3C-na1", "api_key": KEY, "line": 3, "export_delay": "24h"},
        {"org_id": "o-4D5E6F-na1", "api_key": KEY2, "line": 4, "export_delay": "24h10m"}]
SETTINGS = {
    "mode": "vm", "provider": "gcp", "storage_only": False, "gcs_bucket": "my-bucket",
    "bigquery_project": "my-project", "bigquery_dataset": "fullstory", "export_duration": "6h",
    "backoff": "30s", "backoff_steps_max": 8, "config_extra": {}, "environment": {"HTTPS_PROXY": "http://proxy:3128"},
    "user": "hauser", "base_dir": "/var/lib/multi-hauser", "log_dir": "/var/log/multi-hauser", "log_maxbytes": "10MB",
    "log_backups": 5, "local_save_dir": "", "hauser_path": "/opt/multi-hauser/1.5.1/hauser",
    "program_dir": "/etc/supervisor/conf.d", "credentials_path": "", "orgs_source": "keys.csv",
}

org_files = FilterModule().filters()["org_files"]


def tagged(value):
    """value as Ansible's loader gives it: every string, number, list and dict tagged with its origin."""
    return from_yaml(json.dumps(value), file_name="/inventory/group_vars/multi_hauser.yml")


def failure(*args):
    with pytest.raises(AnsibleFilterError) as caught:
        org_files(*args)
    error = caught.value
    # nothing else Ansible could show, even at -vvv, carries the input
    assert error.orig_exc is None and error.__cause__ is None and error.__suppress_context__
    assert KEY not in str(error) and KEY2 not in str(error)
    return error.message


def test_filter_is_registered():
    assert set(FilterModule().filters()) == {"org_files"}


def test_tagged_inputs_render_as_plain_ones():
    files = org_files(tagged(ORGS), tagged(SETTINGS), tagged(CONFIG_TEMPLATE), tagged(PROGRAM_TEMPLATE))
    assert files == render_org_files(ORGS, SETTINGS, CONFIG_TEMPLATE, PROGRAM_TEMPLATE)
    config = tomllib.loads(files[1]["config"])
    assert (config["FsApiToken"], config["ExportDelay"], config["BackoffStepsMax"]) == (KEY2, "24h10m", 8)
    assert 'HTTPS_PROXY="http://proxy:3128"' in files[1]["program"]
    assert json.loads(json.dumps(files)) == files  # plain data, as a module argument must be


def test_a_bad_setting_names_the_orgs_line():
    settings = dict(SETTINGS, export_duration="7h")
    assert failure(tagged(ORGS), tagged(settings), CONFIG_TEMPLATE, PROGRAM_TEMPLATE) == \
        "org on line 3: ExportDuration must be between 15m and 24h and an even fraction of 24 hours"


def test_an_unknown_extra_key_names_the_variable():
    settings = dict(SETTINGS, config_extra={"bigquery": {"PartitionExpiry": "720h"}})
    assert failure(tagged(ORGS), tagged(settings), CONFIG_TEMPLATE, PROGRAM_TEMPLATE).startswith(
        "multi_hauser_config_extra: [bigquery] PartitionExpiry is not a hauser 1.5.1 config key")


def test_org_ids_that_share_tables_name_the_orgs_source_and_lines():
    orgs = ORGS + [{"org_id": "o_4D5E6F_na1", "api_key": "na1.third", "line": 8, "export_delay": "24h"}]
    settings = dict(SETTINGS, orgs_source="multi_hauser_orgs")
    assert failure(tagged(orgs), tagged(settings), CONFIG_TEMPLATE, PROGRAM_TEMPLATE).startswith(
        "multi_hauser_orgs: the org ids of lines 4 and 8 give the same table names (fs_export_o_4D5E6F_na1)")


def test_template_errors_name_the_template_and_line():
    assert failure(tagged(ORGS), tagged(SETTINGS), CONFIG_TEMPLATE, "[program:{{ program_name }]\n").startswith(
        "the program template has a syntax error on its line 1: ")
    assert failure(tagged(ORGS), tagged(SETTINGS), "{{ org.nope }}", PROGRAM_TEMPLATE).startswith(
        "the config template failed for the org on line 3: ")


def test_a_yaml_timestamp_for_start_time_reaches_hauser_as_a_toml_datetime():
    extra = from_yaml("config_extra: {StartTime: 2026-01-01T00:00:00Z}", file_name="/inventory/vars.yml")
    assert isinstance(extra["config_extra"]["StartTime"], datetime.datetime)
    first = org_files(tagged(ORGS), dict(SETTINGS, **extra), CONFIG_TEMPLATE, PROGRAM_TEMPLATE)[0]
    assert tomllib.loads(first["config"])["StartTime"] == datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def test_a_custom_template_raising_a_python_error_is_a_filter_error():
    assert failure(tagged(ORGS), tagged(SETTINGS), "ExportDelay = {{ 24 // 0 }}", PROGRAM_TEMPLATE).startswith(
        "the config template failed for the org on line 3")
