# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: status_table
short_description: One table of every org's hauser on every host, with where each org should run
version_added: 1.0.0
author: multi_hauser contributors (!UNKNOWN)
description:
  - Turns what M(hauser.multi_hauser.multi_hauser_status) reports on each host into the lines of one
    table; used by the C(hauser.multi_hauser.status) playbook.
  - Columns are ORG, SHOULD RUN ON (from the assignment, C(-) when unknown), RUNS ON, STATE, UPTIME,
    EXPORTDELAY, LAST EXPORT (where the org's export stands, the end of the last window it
    finished), NEXT EXPORT (when hauser exports next), a FLAG and the last log line. The times are
    UTC, as the monitor knows them (C(-) without it).
  - The flag is C(NOT RUNNING) for an org that runs on no host, C(ON n HOSTS) for one that runs on
    more than one, and C(WRONG HOST) for one that runs elsewhere than it should; C(n PROCESSES)
    where n hauser processes run for the org on one host (a supervisord that died left its hausers
    behind); C(STALE) for an org whose export stands further behind than its ExportDelay and
    ExportDuration allow, by more than an hour; C(RETRYING) (with the number of failures in a
    row) for one whose last export cycles failed. An org may have several flags.
options:
  _input:
    description: Host name to the list of orgs its M(hauser.multi_hauser.multi_hauser_status) returned.
    type: dictionary
    required: true
  assignment:
    description: Org id to the host it should run on.
    type: dictionary
    default: {}
"""

EXAMPLES = r"""
- name: Print the table
  ansible.builtin.debug:
    msg: "{{ {'vm-1': status.orgs} | hauser.multi_hauser.status_table({'o-1A2B3C-na1': 'vm-1'}) }}"
"""

RETURN = r"""
_value:
  description: The table's lines, a header first.
  type: list
  elements: string
"""

import datetime

UTC = datetime.timezone.utc

# A hauser that runs without its program (left by a supervisord that died) exports all the same.
RUNNING = ("RUNNING", "STARTING", "NO PROGRAM")
HEADER = ("ORG", "SHOULD RUN ON", "RUNS ON", "STATE", "UPTIME", "EXPORTDELAY", "LAST EXPORT", "NEXT EXPORT", "FLAG",
          "LAST LOG LINE")


def _time(seconds):
    if seconds is None:
        return "-"
    return datetime.datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _flags(running_on, should_run_on, present):
    """What is wrong with an org, as the FLAG column says it (several flags at once)."""
    flags = []
    if not running_on:
        flags.append("NOT RUNNING")
    elif len(running_on) > 1:
        flags.append("ON %d HOSTS" % len(running_on))
    elif should_run_on not in (None, running_on[0]):
        flags.append("WRONG HOST")
    flags.extend("%d PROCESSES" % org.get("processes", 1) for _host, org in present if org.get("processes", 1) > 1)
    # Of the hosts that run it (or, if none does, of every host that knows it): the export's health.
    watched = [org for host, org in present if host in running_on] or [org for _host, org in present]
    if any(org.get("stale") for org in watched):
        flags.append("STALE")
    failures = [org.get("consecutive_failures") or 0 for org in watched if org.get("export_state") == "retrying"]
    if failures:
        flags.append("RETRYING (%d failure%s)" % (max(failures), "" if max(failures) == 1 else "s"))
    return ", ".join(flags)


def status_table(statuses, assignment=None):
    assignment = assignment or {}
    programs = {}  # org id -> [(host, status)]
    for host, orgs in sorted(statuses.items()):
        for org in orgs or []:
            programs.setdefault(org["org_id"], []).append((host, org))
    rows = []
    for org_id in sorted(set(programs) | set(assignment)):
        present = programs.get(org_id, [])
        running_on = [host for host, org in present if org["state"] in RUNNING]
        flag = _flags(running_on, assignment.get(org_id), present)
        should = assignment.get(org_id, "-")
        if not present:
            rows.append((org_id, should, "-", "-", "-", "-", "-", "-", flag, ""))
        for host, org in present:
            rows.append((org_id, should, host, org["state"], org["uptime"], org["export_delay"],
                         _time(org.get("last_export_end")), _time(org.get("next_export")), flag,
                         org["last_log_line"][:100]))
    widths = [max(len(row[column]) for row in [HEADER] + rows) for column in range(len(HEADER) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1]
             for row in [HEADER] + rows]
    return [line.rstrip() for line in lines] + ([] if rows else ["(no org programs found)"])


class FilterModule(object):

    def filters(self):
        return {"status_table": status_table}
