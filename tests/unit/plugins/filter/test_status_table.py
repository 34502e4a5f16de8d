"""The status_table filter: one table over every host's multi_hauser_status result, as the status
playbook prints it, with its flags (README, "Status")."""

import json

import pytest
from ansible.parsing.utils.yaml import from_yaml

from ansible_collections.hauser.multi_hauser.plugins.filter.status_table import FilterModule

COLUMNS = ["ORG", "SHOULD RUN ON", "RUNS ON", "STATE", "UPTIME", "EXPORTDELAY", "LAST EXPORT", "NEXT EXPORT", "FLAG",
           "LAST LOG LINE"]
FLAG = COLUMNS.index("FLAG")

status_table = FilterModule().filters()["status_table"]


def tagged(value):
    return from_yaml(json.dumps(value), file_name="/registered/status.yml")


def status(org_id, state="RUNNING", uptime="0:04:27", export_delay="24h", last_log_line="2026/11/28 19:56:42 ok"):
    return {"org_id": org_id, "state": state, "pid": 4242 if state == "RUNNING" else 0, "uptime": uptime,
            "export_delay": export_delay, "last_log_line": last_log_line}


def cells(lines):
    """Each line cut at the header's column starts: what a reader sees in each column."""
    header = lines[0]
    starts, position = [], 0
    for name in COLUMNS:
        position = header.index(name, position)
        starts.append(position)
    return [[line[start:end].strip() for start, end in zip(starts, starts[1:] + [None])] for line in lines]


def rows(lines):
    table = cells(lines)
    assert table[0] == COLUMNS
    return {(row[0], row[2]): row for row in table[1:]}


def test_filter_is_registered():
    assert set(FilterModule().filters()) == {"status_table"}


def test_the_readme_example():
    statuses = {"vm-1": [status("o-DEMO01-na1")],
                "vm-2": [status("o-DEMO02-na1"), status("o-DEMO03-na1", "STOPPED", "-", "24h10m")]}
    assignment = {"o-DEMO01-na1": "vm-1", "o-DEMO02-na1": "vm-2", "o-DEMO03-na1": "vm-2"}
    lines = status_table(tagged(statuses), tagged(assignment))
    assert cells(lines)[1:] == [
        ["o-DEMO01-na1", "vm-1", "vm-1", "RUNNING", "0:04:27", "24h", "-", "-", "", "2026/11/28 19:56:42 ok"],
        ["o-DEMO02-na1", "vm-2", "vm-2", "RUNNING", "0:04:27", "24h", "-", "-", "", "2026/11/28 19:56:42 ok"],
        ["o-DEMO03-na1", "vm-2", "vm-2", "STOPPED", "-", "24h10m", "-", "-", "NOT RUNNING", "2026/11/28 19:56:42 ok"],
    ]
    assert all(line == line.rstrip() for line in lines)


def test_flags():
    statuses = {
        "vm-1": [status("both"), status("wrong"), status("starting", "STARTING", "-"), status("fatal", "FATAL", "-"),
                 status("backoff", "BACKOFF", "-"), status("unassigned")],
        "vm-2": [status("both"), status("elsewhere", "EXITED", "-")],
        "vm-3": [status("both", "STOPPED", "-")],
    }
    assignment = {"both": "vm-1", "wrong": "vm-2", "starting": "vm-1", "fatal": "vm-1", "backoff": "vm-1",
                  "elsewhere": "vm-2", "missing": "vm-3"}
    table = rows(status_table(tagged(statuses), tagged(assignment)))
    flags = {key: row[FLAG] for key, row in table.items()}
    assert flags == {
        ("both", "vm-1"): "ON 2 HOSTS", ("both", "vm-2"): "ON 2 HOSTS", ("both", "vm-3"): "ON 2 HOSTS",
        ("wrong", "vm-1"): "WRONG HOST",
        ("starting", "vm-1"): "",  # about to run: not flagged
        ("fatal", "vm-1"): "NOT RUNNING", ("backoff", "vm-1"): "NOT RUNNING",
        ("elsewhere", "vm-2"): "NOT RUNNING",
        ("unassigned", "vm-1"): "",  # no assignment given for it: no host is wrong
        ("missing", "-"): "NOT RUNNING",
    }
    assert table[("unassigned", "vm-1")][1] == "-"
    assert table[("missing", "-")] == ["missing", "vm-3", "-", "-", "-", "-", "-", "-", "NOT RUNNING", ""]


def test_rows_are_sorted_by_org_then_host():
    statuses = {"vm-2": [status("b"), status("a")], "vm-1": [status("b", "STOPPED")]}
    lines = status_table(tagged(statuses))
    assert [(row[0], row[2]) for row in cells(lines)[1:]] == [("a", "vm-2"), ("b", "vm-1"), ("b", "vm-2")]


def test_long_last_log_lines_are_cut_and_columns_stay_aligned():
    long_line = "x" * 150
    statuses = {"a-much-longer-host-name": [status("o-" + "7" * 40, last_log_line=long_line)], "vm-1": [status("o-1")]}
    lines = status_table(statuses)
    table = cells(lines)
    assert table[1][:3] == ["o-1", "-", "vm-1"]
    assert table[2][0] == "o-" + "7" * 40 and table[2][2] == "a-much-longer-host-name"
    assert table[2][-1] == "x" * 100


def test_no_programs_anywhere():
    assert status_table({"vm-1": [], "vm-2": None}) == ["  ".join(COLUMNS[:-1]) + "  " + COLUMNS[-1],
                                                        "(no org programs found)"]


@pytest.mark.parametrize("assignment", [None, {}])
def test_without_assignment_nothing_is_a_wrong_host(assignment):
    lines = status_table({"vm-1": [status("a")], "vm-2": [status("b")]}, assignment)
    assert [row[1] for row in cells(lines)[1:]] == ["-", "-"]
    assert [row[FLAG] for row in cells(lines)[1:]] == ["", ""]


def counted(org_id, processes, state="RUNNING", **kwargs):
    return dict(status(org_id, state, **kwargs), processes=processes)


def test_several_processes_of_an_org_on_a_host_are_flagged_with_its_other_flags():
    statuses = {
        "vm-1": [counted("twice", 2), counted("once", 1), counted("moved", 3), counted("everywhere", 2)],
        "vm-2": [counted("everywhere", 1), counted("stale", 2, "STOPPED", uptime="-")],
    }
    assignment = {"twice": "vm-1", "once": "vm-1", "moved": "vm-2", "everywhere": "vm-1", "stale": "vm-2"}
    table = rows(status_table(tagged(statuses), tagged(assignment)))
    flags = {key: row[FLAG] for key, row in table.items()}
    assert flags == {
        ("twice", "vm-1"): "2 PROCESSES", ("once", "vm-1"): "",
        ("moved", "vm-1"): "WRONG HOST, 3 PROCESSES",
        ("everywhere", "vm-1"): "ON 2 HOSTS, 2 PROCESSES", ("everywhere", "vm-2"): "ON 2 HOSTS, 2 PROCESSES",
        ("stale", "vm-2"): "NOT RUNNING, 2 PROCESSES",
    }


def test_a_hauser_without_its_program_counts_as_running():
    statuses = {"vm-1": [counted("ghost", 1, "NO PROGRAM", uptime="-", export_delay="-", last_log_line="")],
                "vm-2": [counted("ghost", 1)], "vm-3": [counted("left", 1, "NO PROGRAM", uptime="-")]}
    table = rows(status_table(tagged(statuses), tagged({"ghost": "vm-2", "left": "vm-3"})))
    assert table[("ghost", "vm-1")][3] == "NO PROGRAM" and table[("ghost", "vm-1")][FLAG] == "ON 2 HOSTS"
    assert table[("left", "vm-3")][FLAG] == ""  # it runs, where it should


def test_results_without_a_process_count_are_read_as_one_process():
    table = rows(status_table(tagged({"vm-1": [status("a")]})))
    assert table[("a", "vm-1")][FLAG] == ""


def exporting(org_id, state="RUNNING", uptime="0:04:27", **export):
    return dict(status(org_id, state, uptime), **export)


def test_the_export_columns_say_where_each_org_stands_in_utc():
    statuses = {"vm-1": [exporting("a", export_state="waiting", last_export_end=1796126400.0,
                                   next_export=1796151600.0000057, consecutive_failures=0, stale=False),
                         exporting("b", export_state="-", last_export_end=None, next_export=None)]}
    table = rows(status_table(tagged(statuses)))
    assert table[("a", "vm-1")][6:9] == ["2026-12-01 12:00 UTC", "2026-12-01 19:00 UTC", ""]
    assert table[("b", "vm-1")][6:9] == ["-", "-", ""]


def test_an_org_behind_or_failing_is_flagged_stale_or_retrying_with_its_failures():
    statuses = {"vm-1": [exporting("behind", export_state="waiting", last_export_end=1.0e9, stale=True,
                                   consecutive_failures=0),
                         exporting("failing", export_state="retrying", last_export_end=1.0e9, stale=True,
                                   consecutive_failures=7),
                         exporting("blip", export_state="retrying", last_export_end=1796126400.0, stale=False,
                                   consecutive_failures=1),
                         exporting("recovered", export_state="exporting", stale=False, consecutive_failures=0)],
                # a host that no longer runs it, with an old state: not what the org is now
                "vm-2": [exporting("blip", "STOPPED", export_state="down", stale=True, consecutive_failures=3)]}
    flags = dict((key, row[FLAG]) for key, row in rows(status_table(tagged(statuses))).items())
    assert flags == {("behind", "vm-1"): "STALE", ("failing", "vm-1"): "STALE, RETRYING (7 failures)",
                     ("blip", "vm-1"): "RETRYING (1 failure)", ("blip", "vm-2"): "RETRYING (1 failure)",
                     ("recovered", "vm-1"): ""}


def test_an_org_that_runs_nowhere_is_flagged_by_what_its_hosts_last_knew():
    statuses = {"vm-1": [exporting("down", "FATAL", uptime="-", export_state="down", stale=True,
                                   consecutive_failures=0)]}
    assert rows(status_table(tagged(statuses)))[("down", "vm-1")][FLAG] == "NOT RUNNING, STALE"
