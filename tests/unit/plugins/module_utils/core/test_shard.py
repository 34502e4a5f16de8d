import pytest
from rendezvous import documented_owner

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.shard import ShardError, assign_orgs, owner

ORGS = [{"org_id": "o-%04d-na1" % i, "api_key": "KEY%08d" % i, "line": i + 1} for i in range(3000)]
THREE = {"vm-1": 1, "vm-2": 1, "vm-3": 1}


def hosts_of(orgs):
    return {org["org_id"]: org["host"] for org in orgs}


def test_assignment_is_the_documented_rendezvous_hash():
    assigned = assign_orgs(ORGS[:200], THREE)
    assert all(org["host"] == documented_owner(org["org_id"], THREE) for org in assigned)


def test_each_host_gets_about_its_share():
    counts = {}
    for org in assign_orgs(ORGS, {"vm-1": 1, "vm-2": 1, "vm-3": 2}):
        counts[org["host"]] = counts.get(org["host"], 0) + 1
    assert 600 < counts["vm-1"] < 900 and 600 < counts["vm-2"] < 900 and 1300 < counts["vm-3"] < 1700


def test_adding_a_host_moves_only_the_orgs_it_wins():
    before = hosts_of(assign_orgs(ORGS, THREE))
    after = hosts_of(assign_orgs(ORGS, dict(THREE, **{"vm-4": 1})))
    moved = [org_id for org_id in before if before[org_id] != after[org_id]]
    assert all(after[org_id] == "vm-4" for org_id in moved)
    assert 600 < len(moved) < 900  # about a quarter


@pytest.mark.parametrize("leaving", ["vm-2", "drain"])
def test_removing_or_draining_a_host_moves_only_its_orgs(leaving):
    before = hosts_of(assign_orgs(ORGS, THREE))
    weights = {"vm-1": 1, "vm-3": 1} if leaving == "vm-2" else dict(THREE, **{"vm-2": 0})
    after = hosts_of(assign_orgs(ORGS, weights))
    assert {org_id for org_id in before if before[org_id] != after[org_id]} == \
        {org_id for org_id in before if before[org_id] == "vm-2"}
    assert "vm-2" not in after.values()


def test_a_pin_moves_exactly_that_org():
    before = hosts_of(assign_orgs(ORGS[:50], THREE))
    org_id = ORGS[7]["org_id"]
    target = next(host for host in THREE if host != before[org_id])
    after = hosts_of(assign_orgs(ORGS[:50], THREE, {org_id: target}))
    assert after[org_id] == target
    assert {k: v for k, v in after.items() if k != org_id} == {k: v for k, v in before.items() if k != org_id}


def test_assignment_does_not_change_its_input_and_keeps_order():
    orgs = [dict(org) for org in ORGS[:5]]
    assigned = assign_orgs(orgs, THREE)
    assert [org["org_id"] for org in assigned] == [org["org_id"] for org in ORGS[:5]]
    assert all("host" not in org for org in orgs)


@pytest.mark.parametrize("weights, pins, message", [
    (THREE, {"o-0001-na1": "vm-9"}, "multi_hauser_pins: org o-0001-na1 is pinned to vm-9, which is not one of the hosts"),
    (THREE, {"o-9999-na1": "vm-1"}, "multi_hauser_pins: org o-9999-na1 is pinned but is not one of the orgs"),
    ({}, {}, "multi_hauser_shard_hosts: no hosts"),
    ({"vm-1": 0}, {}, "every host has weight 0"),
    ({"vm-1": -1}, {}, "multi_hauser_shard_weight of vm-1 must be a number of 0 or more"),
])
def test_bad_hosts_weights_and_pins_are_errors(weights, pins, message):
    with pytest.raises(ShardError, match=message):
        assign_orgs(ORGS[:10], weights, pins)


def test_one_host_runs_everything():
    assert {owner(org["org_id"], {"only": 1}) for org in ORGS[:100]} == {"only"}
