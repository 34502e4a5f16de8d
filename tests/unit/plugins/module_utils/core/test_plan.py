"""plan: which host of its deployment runs each org (the README's weighted rendezvous hashing,
checked against the independent oracle of test_shard.py), with which ExportDelay; what each host
stops; and, when hosts are lost, which orgs wait and which move."""

import json


from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.plan import held_back, make_plan, moves, table
from test_shard import documented_owner

ORGS = [{"org_id": "o-%03d-na1" % index, "api_key": "na1.KEY%05d/secret" % index, "line": index * 2 + 1}
        for index in range(40)]
SLOTS = ["1h", "2h", "3h"]  # base 1h, step 1h, window 3h


def settings(shard_hosts, keyfile="keys.csv", pins=None, **delays):
    result = {"keyfile": keyfile, "orgs": [], "shard_hosts": list(shard_hosts), "pins": pins or {},
              "export_delay_base": "1h", "export_delay_step": "1h", "export_delay_window": "3h"}
    result.update(delays)
    return result


class Reader:
    """read_orgs: the orgs of each key file, counting the reads."""

    def __init__(self, orgs_of=None):
        self.orgs_of = orgs_of or {"keys.csv": ORGS}
        self.reads = []

    def __call__(self, host_settings):
        self.reads.append(host_settings["keyfile"])
        return [dict(org) for org in self.orgs_of[host_settings["keyfile"]]]


def ids(orgs):
    return [org["org_id"] for org in orgs]


def owners(weights, pins=None, orgs=ORGS):
    pins = pins or {}
    return {org["org_id"]: pins.get(org["org_id"]) or documented_owner(org["org_id"], weights) for org in orgs}


def own(assignment, host, orgs=ORGS):
    """The ids of host's orgs, in key-file order."""
    return [org["org_id"] for org in orgs if assignment[org["org_id"]] == host]


# --- phase 1 --------------------------------------------------------------------------------------

WEIGHTS = {"vm-1": 1, "vm-2": 2, "vm-3": 0.5}


def _pins():
    """Two orgs pinned elsewhere than the hashing puts them."""
    unpinned = owners(WEIGHTS)
    first = next(org["org_id"] for org in ORGS if unpinned[org["org_id"]] != "vm-3")
    second = next(org["org_id"] for org in ORGS if unpinned[org["org_id"]] != "vm-1" and org["org_id"] != first)
    return {first: "vm-3", second: "vm-1"}


def test_one_deployment_over_weighted_hosts_with_pins_is_the_documented_hashing():
    pins = _pins()
    plan, files = make_plan({host: settings(WEIGHTS, pins=pins) for host in WEIGHTS}, WEIGHTS, None, Reader())
    expected = owners(WEIGHTS, pins)
    assert plan["assignment"] == expected
    assert files == {}
    for host in WEIGHTS:
        host_plan = plan["hosts"][host]
        assert ids(host_plan["orgs"]) == own(expected, host)
        assert [org["line"] for org in host_plan["orgs"]] == \
            [org["line"] for org in ORGS if expected[org["org_id"]] == host]
        # a fresh stagger on each host: its i-th org gets slot i mod 3
        assert [org["export_delay"] for org in host_plan["orgs"]] == \
            [SLOTS[index % 3] for index in range(len(host_plan["orgs"]))]
        assert (host_plan["found"], host_plan["stop"], host_plan["lost_hosts"], host_plan["held_back"]) == \
            ([], [], [], [])
        assert host_plan["shard_hosts"] == list(WEIGHTS)
    for org_id, host in pins.items():
        assert expected[org_id] == host != documented_owner(org_id, WEIGHTS)


def test_a_host_of_weight_zero_gets_no_org_and_stops_what_it_ran():
    weights = dict(WEIGHTS, **{"vm-3": 0})
    found = {"vm-3": {"o-001-na1": "2h", "o-002-na1": "1h"}}
    plan = make_plan({host: settings(weights) for host in weights}, weights, found, Reader())[0]
    assert plan["hosts"]["vm-3"]["orgs"] == []
    assert plan["hosts"]["vm-3"]["stop"] == ["o-001-na1", "o-002-na1"]
    assert plan["assignment"] == owners(weights)


def test_the_plan_holds_no_key():
    plan = make_plan({host: settings(WEIGHTS) for host in WEIGHTS}, WEIGHTS, None, Reader())[0]
    shown = json.dumps(plan) + "\n".join(table(plan))
    assert not any(org["api_key"] in shown or "secret" in shown for org in ORGS)


def test_an_org_keeps_its_delay_while_it_stays_on_its_host_and_what_left_is_stopped():
    weights = {"vm-1": 1, "vm-2": 1}
    before = owners(weights)
    mine, theirs = own(before, "vm-1"), own(before, "vm-2")
    kept = mine[4]  # a fresh stagger would give it slot 4 mod 144 = 24h40m
    found = {"vm-1": {kept: "30h", mine[0]: None, theirs[0]: "24h"},  # theirs[0] moved away (or was never ours)
             "vm-2": {mine[1]: "33h"}}  # a delay on another host is not vm-1's to keep
    defaults = dict(export_delay_base="24h", export_delay_step="10m", export_delay_window="24h")
    plan = make_plan({host: settings(weights, **defaults) for host in weights}, weights, found, Reader())[0]
    host_plan = plan["hosts"]["vm-1"]
    delays = {org["org_id"]: org["export_delay"] for org in host_plan["orgs"]}
    assert delays[kept] == "30h"
    assert delays[mine[1]] != "33h"
    assert len(set(delays.values())) == len(delays)  # fewer orgs than slots: no two share a delay
    assert host_plan["found"] == sorted([kept, mine[0], theirs[0]])
    assert host_plan["stop"] == [theirs[0]]
    assert plan["hosts"]["vm-2"]["stop"] == [mine[1]]


def test_read_orgs_is_called_once_per_deployment_and_each_host_runs_its_own_deployments_orgs():
    other = [{"org_id": "x-%d" % index, "api_key": "na1.OTHER%d" % index, "line": index + 1} for index in range(5)]
    third = [{"org_id": "y-%d" % index, "api_key": "na1.THIRD%d" % index, "line": index + 1} for index in range(3)]
    reader = Reader({"keys.csv": ORGS, "other.csv": other, "third.csv": third})
    host_settings = {
        "vm-a": settings(["vm-a", "vm-b"]), "vm-b": settings(["vm-a", "vm-b"]),
        "vm-c": settings(["vm-c"], keyfile="other.csv"),  # each VM its own deployment
        "vm-d": settings(["vm-d"], keyfile="third.csv"),
    }
    weights = {"vm-a": 1, "vm-b": 1, "vm-c": 1, "vm-d": 1}
    plan = make_plan(host_settings, weights, None, reader)[0]
    assert sorted(reader.reads) == ["keys.csv", "other.csv", "third.csv"]
    pair = owners({"vm-a": 1, "vm-b": 1})
    assert ids(plan["hosts"]["vm-a"]["orgs"]) == own(pair, "vm-a")
    assert ids(plan["hosts"]["vm-b"]["orgs"]) == own(pair, "vm-b")
    assert ids(plan["hosts"]["vm-c"]["orgs"]) == ids(other)
    assert ids(plan["hosts"]["vm-d"]["orgs"]) == ids(third)
    assert plan["hosts"]["vm-c"]["shard_hosts"] == ["vm-c"]
    assert plan["assignment"] == dict(pair, **{org_id: "vm-c" for org_id in ids(other)},
                                      **{org_id: "vm-d" for org_id in ids(third)})
    # the same key file with other pins is another deployment
    reader = Reader()
    pins = {"o-000-na1": "vm-b"}
    make_plan({"vm-a": settings(["vm-a", "vm-b"]), "vm-b": settings(["vm-a", "vm-b"], pins=pins)},
              {"vm-a": 1, "vm-b": 1}, None, reader)
    assert reader.reads == ["keys.csv", "keys.csv"]


def test_the_orgs_of_a_host_not_in_the_play_are_assigned_to_it_and_the_others_hold_back():
    weights = {"vm-1": 1, "vm-2": 1, "vm-9": 1}  # vm-9: in the inventory, not in this play (--limit, unreachable)
    assignment = owners(weights)
    on_1, on_2 = own(assignment, "vm-1"), own(assignment, "vm-2")
    # before the run: vm-1 ran some of its orgs, vm-2 ran one of vm-1's orgs
    found = {"vm-1": {org_id: "1h" for org_id in on_1[:3]}, "vm-2": {on_1[3]: "2h"}}
    plan = make_plan({host: settings(weights) for host in ("vm-1", "vm-2")}, weights, found, Reader())[0]
    assert sorted(plan["hosts"]) == ["vm-1", "vm-2"]
    assert plan["assignment"] == assignment  # vm-9's orgs too
    assert set(own(assignment, "vm-9")) and not set(own(assignment, "vm-9")) & set(on_1 + on_2)
    for host in ("vm-1", "vm-2"):
        assert plan["hosts"][host]["lost_hosts"] == ["vm-9"]
    # what no host of the play ran may run on vm-9: it waits
    assert plan["hosts"]["vm-1"]["held_back"] == on_1[4:]
    assert plan["hosts"]["vm-2"]["held_back"] == on_2


def test_the_render_callback_renders_each_hosts_own_staggered_orgs_once():
    calls = []

    def render(host, orgs):
        calls.append((host, [dict(org) for org in orgs]))
        return ["files of %s" % host]

    plan, files = make_plan({host: settings(WEIGHTS) for host in WEIGHTS}, WEIGHTS, None, Reader(), render)
    assert sorted(call[0] for call in calls) == sorted(WEIGHTS)
    assert files == {host: ["files of %s" % host] for host in WEIGHTS}
    by_id = {org["org_id"]: org for org in ORGS}
    for host, orgs in calls:
        assert ids(orgs) == ids(plan["hosts"][host]["orgs"])
        for org, planned in zip(orgs, plan["hosts"][host]["orgs"]):
            # what rendering needs: the key, the line and the planned delay
            assert org["api_key"] == by_id[org["org_id"]]["api_key"]
            assert (org["line"], org["export_delay"]) == (planned["line"], planned["export_delay"])


# --- phase 2 --------------------------------------------------------------------------------------

THREE = {"vm-1": 1, "vm-2": 1, "vm-3": 1}


def _grown_plan():
    """vm-3 joins vm-1 and vm-2, which ran the orgs; the last two orgs are new in the key file."""
    before = owners({"vm-1": 1, "vm-2": 1}, orgs=ORGS[:-2])
    found = {"vm-1": {org_id: "1h" for org_id in own(before, "vm-1", ORGS[:-2])},
             "vm-2": {org_id: "1h" for org_id in own(before, "vm-2", ORGS[:-2])},
             "vm-3": {}}
    plan = make_plan({host: settings(THREE) for host in THREE}, THREE, found, Reader())[0]
    return plan, before, owners(THREE)


def test_with_every_host_healthy_nothing_is_held_back_and_every_start_elsewhere_is_a_move():
    plan, before, after = _grown_plan()
    healthy = sorted(THREE)
    assert all(held_back(plan, host, healthy) == [] for host in healthy)
    expected = []
    for host in healthy:
        for org in ORGS:
            org_id = org["org_id"]
            if after[org_id] == host and before.get(org_id) != host:
                expected.append("%s: %s -> %s" % (org_id, before.get(org_id, "(new)"), host))
    assert moves(plan, healthy) == expected
    assert sorted(line for line in expected if "(new)" in line) == \
        sorted("%s: (new) -> %s" % (org["org_id"], after[org["org_id"]]) for org in ORGS[-2:])
    assert any(line.endswith("-> vm-3") and "(new)" not in line for line in expected)  # vm-3 takes over orgs


def test_when_a_host_drops_out_what_it_may_still_run_is_held_back_and_not_moved():
    plan, before, after = _grown_plan()
    healthy = ["vm-2", "vm-3"]  # vm-1 failed before it stopped the orgs it gives up
    for host in healthy:
        assert plan["hosts"][host]["lost_hosts"] == [] and plan["hosts"][host]["held_back"] == []  # phase 1
    # vm-3's orgs that vm-2 did not run: vm-1's, and the new ones, which vm-1 may run (a newer key file)
    expected_held = [org["org_id"] for org in ORGS
                     if after[org["org_id"]] == "vm-3" and before.get(org["org_id"]) != "vm-2"]
    assert held_back(plan, "vm-3", healthy) == expected_held
    assert held_back(plan, "vm-2", healthy) == [org["org_id"] for org in ORGS
                                                if after[org["org_id"]] == "vm-2" and org["org_id"] not in before]
    assert moves(plan, healthy) == ["%s: vm-2 -> vm-3" % org["org_id"] for org in ORGS
                                    if after[org["org_id"]] == "vm-3" and before.get(org["org_id"]) == "vm-2"]
    assert moves(plan, healthy)  # there is something to move in this example


def test_an_org_run_by_another_deployment_is_still_held_back_when_a_host_of_its_own_is_lost():
    # prod exports the orgs of keys.csv over prod-1 and prod-2; staging exports the same orgs from staging-1
    host_settings = {"prod-1": settings(["prod-1", "prod-2"]), "staging-1": settings(["staging-1"])}
    weights = {"prod-1": 1, "prod-2": 1, "staging-1": 1}
    found = {"prod-1": {}, "staging-1": {org["org_id"]: "1h" for org in ORGS}}
    plan = make_plan(host_settings, weights, found, Reader())[0]  # prod-2 is unreachable
    prod_1 = ids(plan["hosts"]["prod-1"]["orgs"])
    assert prod_1 and plan["hosts"]["prod-1"]["lost_hosts"] == ["prod-2"]
    assert held_back(plan, "prod-1", ["prod-1", "staging-1"]) == prod_1


# --- table ----------------------------------------------------------------------------------------


def test_the_table_lists_every_org_in_key_file_order_with_its_host_and_delay():
    plan = make_plan({host: settings(WEIGHTS) for host in WEIGHTS}, WEIGHTS, None, Reader())[0]
    lines = table(plan)
    assert lines[0].split() == ["ORG", "HOST", "EXPORTDELAY"]
    assert lines[-1].startswith("(ExportDelay as a fresh deploy staggers it")
    rows = [line.split() for line in lines[1:-1]]
    delays = {org["org_id"]: org["export_delay"] for host in WEIGHTS for org in plan["hosts"][host]["orgs"]}
    assert rows == [[org["org_id"], plan["assignment"][org["org_id"]], delays[org["org_id"]]] for org in ORGS]
    # the columns line up
    host_column = lines[0].index("HOST")
    delay_column = lines[0].index("EXPORTDELAY")
    for line, row in zip(lines[1:-1], rows):
        assert line.index(row[1], len(row[0])) == host_column
        assert line.rindex(row[2]) == delay_column


def test_the_table_does_not_call_the_delays_fresh_once_a_host_was_asked():
    found = {"vm-1": {"o-000-na1": "2h"}}
    plan = make_plan({host: settings(WEIGHTS) for host in WEIGHTS}, WEIGHTS, found, Reader())[0]
    lines = table(plan)
    assert not any("fresh" in line for line in lines)
    assert len(lines) == 1 + len(ORGS)


def test_the_table_of_no_orgs_is_its_header():
    plan = make_plan({"vm-1": settings(["vm-1"])}, {"vm-1": 1}, None, Reader({"keys.csv": []}))[0]
    assert table(plan)[0].split() == ["ORG", "HOST", "EXPORTDELAY"] and len(table(plan)) == 2
