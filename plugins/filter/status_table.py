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
    EXPORTDELAY, the last log line, and a FLAG. The flag is C(NOT RUNNING) for an org that runs on no
    host, C(ON n HOSTS) for one that runs on more than one, and C(WRONG HOST) for one that runs
    elsewhere than it should.
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

RUNNING = ("RUNNING", "STARTING")
HEADER = ("ORG", "SHOULD RUN ON", "RUNS ON", "STATE", "UPTIME", "EXPORTDELAY", "FLAG", "LAST LOG LINE")


def _flag(org_id, running_on, should_run_on):
    if not running_on:
        return "NOT RUNNING"
    if len(running_on) > 1:
        return "ON %d HOSTS" % len(running_on)
    if should_run_on not in (None, running_on[0]):
        return "WRONG HOST"
    return ""


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
        flag = _flag(org_id, running_on, assignment.get(org_id))
        should = assignment.get(org_id, "-")
        if not present:
            rows.append((org_id, should, "-", "-", "-", "-", flag, ""))
        for host, org in present:
            rows.append((org_id, should, host, org["state"], org["uptime"], org["export_delay"], flag,
                         org["last_log_line"][:100]))
    widths = [max(len(row[column]) for row in [HEADER] + rows) for column in range(len(HEADER) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1]
             for row in [HEADER] + rows]
    return [line.rstrip() for line in lines] + ([] if rows else ["(no org programs found)"])


class FilterModule(object):

    def filters(self):
        return {"status_table": status_table}
