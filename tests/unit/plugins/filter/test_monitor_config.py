"""The monitor_config filter, with its inputs as Ansible hands them over, and its errors as Ansible
shows them."""

import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible.parsing.utils.yaml import from_yaml

from ansible_collections.hauser.multi_hauser.plugins.filter.monitor_config import FilterModule
from ansible_collections.hauser.multi_hauser.plugins.filter.parse_keyfile import FilterModule as ParseKeyfileFilters
from ansible_collections.hauser.multi_hauser.plugins.filter.stagger_delays import FilterModule as StaggerFilters
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.monitoring import read_config

monitor_config = FilterModule().filters()["monitor_config"]
parse_keyfile = ParseKeyfileFilters().filters()["parse_keyfile"]
stagger_delays = StaggerFilters().filters()["stagger_delays"]
KEY = "na1.Zx9Qw8Er7Ty6/abc"
KEY2 = "na1.Pl0Ok9Ij8Uh7/def"
SETTINGS = {"mode": "vm", "base_dir": "/var/lib/multi-hauser", "log_dir": "/var/log/multi-hauser",
            "export_duration": "6h", "config_extra": {}, "metrics_textfile_dir": "/var/lib/node_exporter",
            "metrics_port": 0, "metrics_address": "0.0.0.0"}


def tagged(value):
    """value as Ansible's loader gives it: every string, number, list and dict tagged with its origin."""
    return from_yaml(json.dumps(value), file_name="/inventory/group_vars/multi_hauser.yml")


def orgs():
    """The plan's orgs of a host: from the key file (with their keys), staggered."""
    return stagger_delays(parse_keyfile("o-1,%s\no-2,%s\n" % (KEY, KEY2)), step="10m")


def failure(*args):
    with pytest.raises(AnsibleFilterError) as caught:
        monitor_config(*args)
    error = caught.value
    # nothing else Ansible could show, even at -vvv, carries the input
    assert error.orig_exc is None and error.__cause__ is None and error.__suppress_context__
    assert KEY not in str(error)
    return error.message


def test_filter_is_registered():
    assert set(FilterModule().filters()) == {"monitor_config"}


def test_the_config_of_a_host_as_json_without_its_keys(tmp_path):
    text = monitor_config(tagged(orgs()), tagged(SETTINGS))
    assert KEY not in text and KEY2 not in text
    config = json.loads(text)
    assert config["orgs"] == {
        "o-1": {"log": "/var/log/multi-hauser/o-1.log", "export_delay_seconds": 86400.0,
                "export_duration_seconds": 21600.0},
        "o-2": {"log": "/var/log/multi-hauser/o-2.log", "export_delay_seconds": 87000.0,
                "export_duration_seconds": 21600.0},
    }
    assert (config["textfile"], config["listen"]) == ("/var/lib/node_exporter/multi_hauser.prom", None)
    assert config["supervisor_config"] == "/etc/supervisor/supervisord.conf"
    # what the monitor on the host reads
    path = tmp_path / "monitor.json"
    path.write_text(text)
    assert read_config(str(path)) == config


def test_the_supervisord_config_given():
    config = json.loads(monitor_config(orgs(), SETTINGS, tagged("/etc/multi-hauser/supervisord.conf")))
    assert config["supervisor_config"] == "/etc/multi-hauser/supervisord.conf"


def test_config_extra_as_ansible_loads_it_sets_every_orgs_timing():
    settings = dict(SETTINGS, config_extra=from_yaml("ExportDelay: 30h\nexportduration: 1h", file_name="/vars.yml"))
    config = json.loads(monitor_config(tagged(orgs()), settings))
    assert [(entry["export_delay_seconds"], entry["export_duration_seconds"]) for entry in config["orgs"].values()] \
        == [(108000.0, 3600.0), (108000.0, 3600.0)]


def test_the_same_input_gives_the_same_text():
    """The module compares it with monitor.json: a second run must find it unchanged."""
    assert monitor_config(orgs(), SETTINGS) == monitor_config(tagged(list(reversed(orgs()))), tagged(SETTINGS))


@pytest.mark.parametrize("org_list, settings, message", [
    (orgs(), dict(SETTINGS, config_extra={"FsApiToken": KEY}),
     "monitor_config: multi_hauser_config_extra: FsApiToken cannot be set here (each org's key comes from the key file)"),
    (orgs(), dict(SETTINGS, config_extra={"ExportDelay": "soon"}),
     'monitor_config: multi_hauser_config_extra: ExportDelay is not valid: not a Go duration such as "10m"'),
    ([dict(orgs()[0], export_delay="one day")], SETTINGS, 'monitor_config: not a Go duration such as "10m"'),
    (orgs(), dict(SETTINGS, export_duration="6"),
     'monitor_config: a number without its unit (a Go duration such as "10m" expected)'),
    ([{"org_id": "o-1", "api_key": KEY}], SETTINGS, "monitor_config: 'export_delay'"),
    (orgs(), dict((key, value) for key, value in SETTINGS.items() if key != "base_dir"), "monitor_config: 'base_dir'"),
])
def test_errors_become_filter_errors(org_list, settings, message):
    text = failure(tagged(org_list), tagged(settings))
    assert text == message
    assert "soon" not in text and "one day" not in text  # no value is shown
