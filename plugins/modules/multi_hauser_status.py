#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: multi_hauser_status
short_description: Report the state of every org's hauser on a host
version_added: 1.0.0
author: multi_hauser contributors (!UNKNOWN)
description:
  - Reads the state of every org's program from supervisord (as C(supervisorctl status) shows it),
    each org's ExportDelay from its C(config.toml), the last line of its log and how many hauser
    processes run with its config, in one round trip. An org whose hauser runs without its
    program (left behind by a supervisord that died) is reported too.
  - Never returns anything else from the config, which holds a key; a secret in a log line (the
    org's key, any value of its config's secret keys, the values of O(secrets)) is masked. Reads
    no file through a link.
  - Used by the C(hauser.multi_hauser.status) playbook.
options:
  base_dir:
    description: The parent of every org's working directory.
    type: path
    default: /var/lib/multi-hauser
  log_dir:
    description: Where each org's log is, as C(<log_dir>/<org_id>.log).
    type: path
    default: /var/log/multi-hauser
  secrets:
    description: More values to mask in the log lines (the deployment's other secrets).
    type: list
    elements: str
    default: []
  monitor_config:
    description: The monitor's config, which says where its state file is.
    type: path
    default: /etc/multi-hauser/monitor.json
extends_documentation_fragment:
  - hauser.multi_hauser.supervisor
attributes:
  check_mode:
    description: Reads only, so it runs in check mode too.
    support: full
  diff_mode:
    description: Changes nothing, so there is nothing to show.
    support: none
"""

EXAMPLES = r"""
- name: Read the state of every org
  hauser.multi_hauser.multi_hauser_status:
  become: true
  register: status
"""

RETURN = r"""
orgs:
  description: One item per org program supervisord knows of, sorted by org id.
  type: list
  elements: dict
  returned: always
  contains:
    org_id:
      description: The org id.
      type: str
    state:
      description: The program's supervisord state (RUNNING, STARTING, BACKOFF, FATAL, ...), or
        C(NO PROGRAM) for an org whose hauser runs without a program.
      type: str
    processes:
      description: How many hauser processes run with the org's config (1 for a RUNNING org).
      type: int
    pid:
      description: The process id, or 0 when not running.
      type: int
    uptime:
      description: How long it has been running, as supervisord reports it, or C(-).
      type: str
    export_delay:
      description: The ExportDelay in its config, or C(-).
      type: str
    last_log_line:
      description: The last line of its log, secrets masked, or an empty string.
      type: str
    export_state:
      description: Where the monitor says its export is, C(waiting), C(exporting), C(retrying),
        C(starting) or C(down); C(-) without the monitor.
      type: str
    last_export_end:
      description: Where its export stands (the end of the last window finished), as a Unix time;
        null when unknown.
      type: float
    next_export:
      description: When hauser exports next (after its wait, or its retry pause), as a Unix time;
        null when unknown.
      type: float
    consecutive_failures:
      description: Export cycles that failed in a row.
      type: int
    stale:
      description: Whether its export stands further behind than its ExportDelay and ExportDuration
        allow, by more than an hour (as the alert MultiHauserOrgExportStale says by default).
      type: bool
"""

import os
import re
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.files import EXPORT_DELAY, OrgFiles, describe
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import (
    CONFIG_NAME,
    MONITOR_CONFIG,
    PROGRAM_DIR,
    Layout,
)
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.monitoring import summaries
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.secrets import config_secrets, mask_values
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.supervisor import (
    SUPERVISOR_ARGUMENT_SPEC,
    Supervisor,
    SupervisorError,
)

_RUNNING_DETAIL = re.compile(r"^pid \d+, uptime (.+)$")
# An org of which the monitor knows nothing (no monitor, or not yet).
NO_EXPORT = {"export_state": "-", "last_export_end": None, "next_export": None, "consecutive_failures": 0,
             "stale": False}


def last_line(path, tail_bytes=4096):
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - tail_bytes))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except (IOError, OSError):
        return ""
    lines = [line for line in lines if line.strip()]
    return lines[-1] if lines else ""


def hauser_processes(layout):
    """org id -> how many processes run hauser with the org's config (-c <base>/<org>/config.toml)."""
    counts = {}
    prefix = layout.org_dir("")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                argv = handle.read().decode("utf-8", "replace").split("\0")
        except (IOError, OSError):
            continue  # gone meanwhile
        for index, arg in enumerate(argv[:-1]):
            config = argv[index + 1]
            if arg == "-c" and config.startswith(prefix) and config.endswith("/" + CONFIG_NAME):
                org_id = config[len(prefix):-len(CONFIG_NAME) - 1]
                if "/" not in org_id:
                    counts[org_id] = counts.get(org_id, 0) + 1
                break
    return counts


def main():
    module = AnsibleModule(
        argument_spec=dict(
            base_dir=dict(type="path", default="/var/lib/multi-hauser"),
            log_dir=dict(type="path", default="/var/log/multi-hauser"),
            secrets=dict(type="list", elements="str", default=[], no_log=True),
            monitor_config=dict(type="path", default=MONITOR_CONFIG),
            **SUPERVISOR_ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not os.path.exists(params["supervisor_config"]):
        module.exit_json(changed=False, orgs=[], msg="supervisor is not installed")
    try:
        processes = Supervisor(params["supervisor_config"]).processes()
    except SupervisorError as error:
        module.fail_json(msg=str(error))
    layout = Layout(params["base_dir"], PROGRAM_DIR, params["log_dir"])
    files = OrgFiles(layout, -1, -1, check=True)
    running = hauser_processes(layout)
    exports = summaries(params["monitor_config"], time.time())
    orgs = []
    try:
        for name, info in processes.items():
            org_id = layout.org_of_program(name)
            if info["group"] != name or not org_id:
                continue
            config = files.config_text(org_id) or ""
            uptime = _RUNNING_DETAIL.match(info.get("description") or "")
            delay = EXPORT_DELAY.search(config)
            orgs.append(dict(
                org_id=org_id,
                state=info["statename"],
                pid=int(info.get("pid") or 0),
                uptime=uptime.group(1) if uptime else "-",
                export_delay=delay.group(1) if delay else "-",
                processes=running.pop(org_id, 0),
                last_log_line=mask_values(last_line(layout.log_path(org_id)),
                                          sorted(config_secrets(config) + params["secrets"], key=len, reverse=True)),
                **exports.get(org_id, NO_EXPORT)
            ))
    except OSError as error:
        module.fail_json(msg=describe(error))
    for org_id, count in running.items():  # a hauser without its program
        orgs.append(dict(org_id=org_id, state="NO PROGRAM", pid=0, uptime="-", export_delay="-", processes=count,
                         last_log_line="", **NO_EXPORT))
    module.exit_json(changed=False, orgs=sorted(orgs, key=lambda org: org["org_id"]))


if __name__ == "__main__":
    main()
