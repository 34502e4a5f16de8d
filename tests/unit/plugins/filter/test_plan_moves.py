"""The plan_moves filter: the lines a run prints for the orgs it moves, "org: from -> to", on a
registered (tagged) plan; held-back orgs are not started, so not listed."""

import json

from ansible.parsing.utils.yaml import from_yaml

from ansible_collections.hauser.multi_hauser.plugins.filter.plan_moves import FilterModule
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.plan import make_plan

plan_moves = FilterModule().filters()["plan_moves"]


def org(org_id, line, delay="24h"):
    return {"org_id": org_id, "line": line, "export_delay": delay}


def host_plan(orgs, found):
    return {"shard_hosts": ["vm-1", "vm-2", "vm-3"], "orgs": orgs, "found": sorted(found), "stop": [],
            "lost_hosts": [], "held_back": []}


# o-a stays on vm-1, o-d on vm-2; o-b moves vm-1 -> vm-2, o-c vm-2 -> vm-1, o-e vm-3 -> vm-1; o-f is new;
# o-g ran on vm-1 and vm-2 at once, and goes to vm-3.
PLAN = {
    "hosts": {
        "vm-1": host_plan([org("o-a", 1), org("o-c", 3), org("o-e", 5)], ["o-a", "o-b", "o-g"]),
        "vm-2": host_plan([org("o-b", 2), org("o-d", 4)], ["o-c", "o-d", "o-g"]),
        "vm-3": host_plan([org("o-f", 6), org("o-g", 7)], ["o-e"]),
    },
    "assignment": {},
}


def tagged(value):
    return from_yaml(json.dumps(value), file_name="/registered/plan.yml")


def test_filter_is_registered():
    assert set(FilterModule().filters()) == {"plan_moves"}


def test_every_start_of_an_org_elsewhere_is_a_move_and_a_new_org_comes_from_nowhere():
    assert plan_moves(tagged(PLAN), tagged(["vm-1", "vm-2", "vm-3"])) == [
        "o-c: vm-2 -> vm-1",
        "o-e: vm-3 -> vm-1",
        "o-b: vm-1 -> vm-2",
        "o-f: (new) -> vm-3",
        "o-g: vm-1, vm-2 -> vm-3",
    ]


def test_the_lines_follow_the_order_of_the_healthy_hosts():
    assert plan_moves(tagged(PLAN), ["vm-3", "vm-2", "vm-1"])[0] == "o-f: (new) -> vm-3"


def test_orgs_held_back_for_a_lost_host_are_not_moved():
    # vm-3 is lost: vm-1 must not start o-e, which vm-3 may still run; nor is vm-3 a source any more
    assert plan_moves(tagged(PLAN), ["vm-1", "vm-2"]) == ["o-c: vm-2 -> vm-1", "o-b: vm-1 -> vm-2"]
    # vm-2 is lost: o-c (from vm-2) waits, o-f (new, vm-2 might run it) waits, o-g was seen on vm-1
    assert plan_moves(tagged(PLAN), ["vm-1", "vm-3"]) == ["o-e: vm-3 -> vm-1", "o-g: vm-1 -> vm-3"]


def test_nothing_moves_when_every_host_runs_what_it_should():
    orgs = [{"org_id": "o-%d" % index, "api_key": "na1.K%d" % index, "line": index + 1} for index in range(10)]
    weights = {"vm-1": 1, "vm-2": 1}
    settings = {"keyfile": "keys.csv", "shard_hosts": ["vm-1", "vm-2"], "pins": {}, "export_delay_base": "24h",
                "export_delay_step": "10m", "export_delay_window": "24h"}
    first = make_plan({"vm-1": settings, "vm-2": settings}, weights, None, lambda _settings: orgs)[0]
    assert len(plan_moves(tagged(first), ["vm-1", "vm-2"])) == 10  # a first deploy: every org is new
    assert all(" (new) -> " in line for line in plan_moves(tagged(first), ["vm-1", "vm-2"]))
    found = {host: {item["org_id"]: item["export_delay"] for item in first["hosts"][host]["orgs"]} for host in weights}
    second = make_plan({"vm-1": settings, "vm-2": settings}, weights, found, lambda _settings: orgs)[0]
    assert plan_moves(tagged(second), ["vm-1", "vm-2"]) == []
