"""The assign_orgs filter with tagged inputs: the README's weighted rendezvous hashing (checked by the
oracle of tests/unit/plugins/module_utils/core/test_shard.py), pins, and errors that Ansible shows."""

import importlib.util
import json
import pathlib

import pytest
from ansible.errors import AnsibleFilterError
from ansible.parsing.utils.yaml import from_yaml

from ansible_collections.hauser.multi_hauser.plugins.filter.assign_orgs import FilterModule

_ORACLE_PATH = pathlib.Path(__file__).resolve().parents[1] / "module_utils" / "core" / "test_shard.py"
_spec = importlib.util.spec_from_file_location("_shard_oracle", _ORACLE_PATH)
_oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_oracle)
documented_owner = _oracle.documented_owner

ORGS = [{"org_id": "o-%03d-na1" % index, "api_key": "na1.KEY%05d/secret" % index, "line": index + 1}
        for index in range(60)]
WEIGHTS = {"vm-1": 1, "vm-2": 2, "vm-3": 0.5, "vm-4": 0}

assign_orgs = FilterModule().filters()["assign_orgs"]


def tagged(value):
    return from_yaml(json.dumps(value), file_name="/inventory/group_vars/multi_hauser.yml")


def test_filter_is_registered():
    assert set(FilterModule().filters()) == {"assign_orgs"}


def test_tagged_orgs_and_weights_are_spread_by_the_documented_hashing():
    assigned = assign_orgs(tagged(ORGS), tagged(WEIGHTS))
    assert [org["org_id"] for org in assigned] == [org["org_id"] for org in ORGS]
    assert [org["host"] for org in assigned] == [documented_owner(org["org_id"], WEIGHTS) for org in ORGS]
    assert all(org["api_key"] == original["api_key"] and org["line"] == original["line"]
               for org, original in zip(assigned, ORGS))
    assert "vm-4" not in {org["host"] for org in assigned}  # weight 0 drains a host
    assert {org["host"] for org in assigned} == {"vm-1", "vm-2", "vm-3"}


def test_tagged_pins_send_an_org_where_they_say():
    unpinned = {org["org_id"]: documented_owner(org["org_id"], WEIGHTS) for org in ORGS}
    org_id = next(org_id for org_id, host in unpinned.items() if host != "vm-4")
    assigned = assign_orgs(tagged(ORGS), tagged(WEIGHTS), tagged({org_id: "vm-4"}))
    hosts = {org["org_id"]: org["host"] for org in assigned}
    assert hosts[org_id] == "vm-4"  # a pin wins even over weight 0
    assert {k: v for k, v in hosts.items() if k != org_id} == {k: v for k, v in unpinned.items() if k != org_id}


def test_the_input_is_not_changed():
    orgs = tagged(ORGS)
    assign_orgs(orgs, tagged(WEIGHTS))
    assert orgs == ORGS


@pytest.mark.parametrize("weights, pins, message", [
    (WEIGHTS, {"o-001-na1": "vm-9"},
     "multi_hauser_pins: org o-001-na1 is pinned to vm-9, which is not one of the hosts (vm-1, vm-2, vm-3, vm-4)"),
    (WEIGHTS, {"o-999-na1": "vm-1"}, "multi_hauser_pins: org o-999-na1 is pinned but is not one of the orgs"),
    ({}, None, "multi_hauser_shard_hosts: no hosts to run the orgs on"),
    ({"vm-1": 0, "vm-2": 0}, None, "multi_hauser_shard_weight: every host has weight 0, so no host can run an org"),
    ({"vm-1": -1}, None, "multi_hauser_shard_weight of vm-1 must be a number of 0 or more"),
    ({"vm-1": "2"}, None, "multi_hauser_shard_weight of vm-1 must be a number of 0 or more"),
])
def test_errors_become_filter_errors_that_show_no_key(weights, pins, message):
    with pytest.raises(AnsibleFilterError) as caught:
        assign_orgs(tagged(ORGS), tagged(weights), tagged(pins) if pins else None)
    error = caught.value
    assert error.message == message
    assert error.orig_exc is None and error.__cause__ is None and error.__suppress_context__
    assert "secret" not in str(error) and "KEY" not in str(error)
