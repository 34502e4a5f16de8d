"""The held_back filter (phase 2 of the plan), on a plan as Ansible hands it back (registered, so
every value tagged): which orgs a host must not start because a lost host may still run them."""

import json

import pytest
from ansible.parsing.utils.yaml import from_yaml

from ansible_collections.hauser.multi_hauser.plugins.filter.held_back import FilterModule

SHARD_HOSTS = ["vm-1", "vm-2", "vm-3"]


def org(org_id, line, delay="24h"):
    return {"org_id": org_id, "line": line, "export_delay": delay}


def host_plan(orgs, found, shard_hosts=None):
    planned = [item["org_id"] for item in orgs]
    return {"shard_hosts": shard_hosts or SHARD_HOSTS, "orgs": orgs, "found": sorted(found),
            "stop": sorted(org_id for org_id in found if org_id not in planned), "lost_hosts": [], "held_back": []}


# o-a stays on vm-1, o-d on vm-2; o-b moves vm-1 -> vm-2, o-c vm-2 -> vm-1, o-e vm-3 -> vm-1; o-f is new.
# vm-4 is a deployment of its own.
PLAN = {
    "hosts": {
        "vm-1": host_plan([org("o-a", 1), org("o-c", 3, "24h10m"), org("o-e", 5, "24h20m")], ["o-a", "o-b"]),
        "vm-2": host_plan([org("o-b", 2), org("o-d", 4, "24h10m")], ["o-c", "o-d"]),
        "vm-3": host_plan([org("o-f", 6)], ["o-e"]),
        "vm-4": host_plan([org("x-1", 1)], [], shard_hosts=["vm-4"]),
    },
    "assignment": {"o-a": "vm-1", "o-b": "vm-2", "o-c": "vm-1", "o-d": "vm-2", "o-e": "vm-1", "o-f": "vm-3",
                   "x-1": "vm-4"},
}

held_back = FilterModule().filters()["held_back"]


def tagged(value):
    return from_yaml(json.dumps(value), file_name="/registered/plan.yml")


def test_filter_is_registered():
    assert set(FilterModule().filters()) == {"held_back"}


@pytest.mark.parametrize("host", sorted(PLAN["hosts"]))
def test_nothing_is_held_back_while_every_host_is_healthy(host):
    assert held_back(tagged(PLAN), tagged(host), tagged(sorted(PLAN["hosts"]))) == []


@pytest.mark.parametrize("lost, expected", [
    # vm-3 may still run o-e, which vm-1 takes over
    ("vm-3", {"vm-1": ["o-e"], "vm-2": [], "vm-4": []}),
    # vm-2 may still run o-c; and o-f, which no host ran, might run on vm-2 from a newer key file
    ("vm-2", {"vm-1": ["o-c"], "vm-3": ["o-f"], "vm-4": []}),
    # vm-1 may still run o-b, which vm-2 takes over
    ("vm-1", {"vm-2": ["o-b"], "vm-3": ["o-f"], "vm-4": []}),
])
def test_what_a_lost_host_may_still_run_is_held_back(lost, expected):
    healthy = tagged([host for host in sorted(PLAN["hosts"]) if host != lost])
    assert {host: held_back(tagged(PLAN), host, healthy) for host in expected} == expected


def test_with_two_hosts_lost_only_what_a_healthy_host_ran_starts():
    assert held_back(tagged(PLAN), "vm-1", ["vm-1", "vm-4"]) == ["o-c", "o-e"]
    assert held_back(tagged(PLAN), "vm-2", ["vm-2"]) == ["o-b"]
