"""The plan_table filter: a registered (tagged) plan as the lines --check prints."""

import json

from ansible.parsing.utils.yaml import from_yaml

from ansible_collections.hauser.multi_hauser.plugins.filter.plan_table import FilterModule

plan_table = FilterModule().filters()["plan_table"]


def org(org_id, line, delay):
    return {"org_id": org_id, "line": line, "export_delay": delay}


def plan(found):
    return {"hosts": {
        "vm-1": {"shard_hosts": ["vm-1", "a-long-host-name"], "found": found,
                 "orgs": [org("o-a", 1, "24h"), org("o-longer-org-id", 4, "24h10m")]},
        "a-long-host-name": {"shard_hosts": ["vm-1", "a-long-host-name"], "found": [],
                             "orgs": [org("o-b", 2, "24h"), org("o-c", 3, "24h10m")]},
    }, "assignment": {}}


def tagged(value):
    return from_yaml(json.dumps(value), file_name="/registered/plan.yml")


def test_filter_is_registered():
    assert set(FilterModule().filters()) == {"plan_table"}


def test_one_aligned_line_per_org_in_key_file_order():
    lines = plan_table(tagged(plan(found=["o-a"])))
    assert lines == [
        "ORG              HOST              EXPORTDELAY",
        "o-a              vm-1              24h",
        "o-b              a-long-host-name  24h",
        "o-c              a-long-host-name  24h10m",
        "o-longer-org-id  vm-1              24h10m",
    ]


def test_delays_of_a_plan_no_host_was_asked_about_are_said_to_be_fresh():
    lines = plan_table(tagged(plan(found=[])))
    assert len(lines) == 6
    assert lines[-1] == ("(ExportDelay as a fresh deploy staggers it; a deployed host keeps each org's delay while "
                         "the org stays there)")


def test_a_plan_without_orgs():
    assert plan_table({"hosts": {}, "assignment": {}})[0].split() == ["ORG", "HOST", "EXPORTDELAY"]
