import pytest
from ansible.errors import AnsibleFilterError
from ansible.parsing.utils.yaml import from_yaml

from ansible_collections.hauser.multi_hauser.plugins.filter.parse_keyfile import FilterModule as ParseKeyfileFilters
from ansible_collections.hauser.multi_hauser.plugins.filter.stagger_delays import FilterModule

stagger_delays = FilterModule().filters()["stagger_delays"]
parse_keyfile = ParseKeyfileFilters().filters()["parse_keyfile"]


def test_filter_is_registered():
    assert set(FilterModule().filters()) == {"stagger_delays"}


def test_staggers_parsed_orgs():
    orgs = parse_keyfile("o-1,k1\no-2,k2\no-3,k3")
    assert stagger_delays(orgs, step="10m") == [
        {"org_id": "o-1", "api_key": "k1", "line": 1, "export_delay": "24h"},
        {"org_id": "o-2", "api_key": "k2", "line": 2, "export_delay": "24h10m"},
        {"org_id": "o-3", "api_key": "k3", "line": 3, "export_delay": "24h20m"},
    ]


def test_accepts_options_as_ansible_loads_them():
    options = from_yaml("base: 2h\nstep: 1h", file_name="/inventory/group_vars/all.yml")
    orgs = [{"org_id": "o-1"}, {"org_id": "o-2"}]
    assert [org["export_delay"] for org in stagger_delays(orgs, **options)] == ["2h", "3h"]


@pytest.mark.parametrize("orgs, kwargs, message", [
    ([{"org_id": "o-1"}], {"base": "30m"}, 'stagger_delays: base must be at least 1h (hauser\'s minimum ExportDelay), got "30m"'),
    ([{"org_id": "o-1"}], {"step": "0s"}, 'stagger_delays: step must be at least 1s, got "0s"'),
    ([{"org_id": "o-1"}], {"window": "5m"}, 'stagger_delays: window ("5m") must be at least step ("10m")'),
    ([{"org_id": "o-1"}], {"step": "10"}, 'stagger_delays: step is not a valid duration: time: missing unit in duration "10"'),
    ([{"org_id": "o-1"}], {"step": 600}, 'stagger_delays: step must be a Go duration string such as "10m", got int'),
    ("o-1,k1", {}, "stagger_delays: expected a list of orgs, got str"),
    ([{"org_id": "o-1"}, "o-2,k2"], {}, "stagger_delays: org 1 is not a mapping (got str)"),
])
def test_errors_become_filter_errors(orgs, kwargs, message):
    with pytest.raises(AnsibleFilterError) as caught:
        stagger_delays(orgs, **kwargs)
    assert caught.value.message == message
    assert caught.value.orig_exc is None
    assert caught.value.__suppress_context__
