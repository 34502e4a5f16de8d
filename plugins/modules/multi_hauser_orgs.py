#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: multi_hauser_orgs
short_description: Keep every org's hauser files and supervisord program in step, in one round trip
version_added: 1.0.0
author: multi_hauser contributors (!UNKNOWN)
description:
  - Writes each org's working directories, C(config.toml) and supervisord program file, removes the
    programs of orgs no longer listed (keeping their working directories), and applies the
    difference to a running supervisord so that a change touches only the orgs it concerns.
  - A new org's program is added and started, a removed org's program is stopped and removed, a
    changed program is replaced, and an org whose config alone changed is restarted; every other
    org keeps running untouched. supervisord itself is never restarted or reloaded.
  - All of this goes to supervisord through its XML-RPC interface (the one supervisorctl uses, at
    the C(serverurl) of the C([supervisorctl]) section of O(supervisor_config)), a few requests in
    all whatever the number of orgs; the programs that stop are stopped all at once, and the task
    waits until every program it started is C(RUNNING) (see O(start_timeout)).
  - Program files are C(hauser-<org_id>.conf) in O(program_dir) and hold the collection's marker
    line; only such files are ever changed or removed.
  - The files come rendered by the plan on the controller (M(hauser.multi_hauser.multi_hauser_plan)),
    so that hundreds of orgs cost one task and one remote round trip. Use it through the
    C(hauser.multi_hauser.multi_hauser) role rather than directly.
options:
  orgs:
    description: Every org this host runs, with its rendered files. Required with O(stage=all).
    type: list
    elements: dict
    suboptions:
      org_id:
        description: The org id; names the working directory and the program file.
        type: str
        required: true
      config:
        description: The content of C(config.toml); it holds the API key.
        type: str
        required: true
      program:
        description: The content of the supervisord program file, which defines the program
          C(hauser-<org_id>).
        type: str
        required: true
      dirs:
        description: Directories the org needs, created owned by O(owner) and mode 0750.
        type: list
        elements: path
        default: []
  keep:
    description: With O(stage=stop), the ids of the orgs this host keeps; every other managed
      program goes. Required with O(stage=stop).
    type: list
    elements: str
  base_dir:
    description: The parent of every org's working directory, which holds its C(config.toml).
    type: path
    required: true
  program_dir:
    description: Where the program files go (supervisord's include directory).
    type: path
    default: /etc/supervisor/conf.d
  owner:
    description: The user hauser runs as; it owns the working directories.
    type: str
    required: true
  group:
    description: Its group; config files are C(root:<group>) mode 0640.
    type: str
    required: true
  secrets:
    description: Values never to be shown, in diffs or anywhere else, besides the values of the
      config keys that hold secrets (C(FsApiToken), C(Password)), which diffs always mask.
    type: list
    elements: str
    default: []
  restart_all:
    description: Restart every org that is not otherwise added or restarted, for example because
      the hauser binary or the credentials file they all use changed.
    type: bool
    default: false
  stage:
    description:
      - C(all) does everything above.
      - C(stop) only stops and removes the programs of orgs not in O(keep), so that, when orgs move
        between hosts, every host can stop what it gives up before any host starts what it takes.
    type: str
    choices: [all, stop]
    default: all
  start_timeout:
    description:
      - Seconds to wait until every program the task started is C(RUNNING), that is has run for
        its C(startsecs). A program that supervisord gives up on (C(FATAL)) within that time fails
        the task, naming the org and its log; one still starting at the end is named in a warning.
      - C(0) does not wait.
    type: int
    default: 60
  stop_timeout:
    description: Seconds to wait until every program the task stops has stopped (supervisord kills
      a program after its C(stopwaitsecs)); the task fails naming those still stopping.
    type: int
    default: 60
  canary:
    description:
      - When the programs switch an org from one hauser binary to another (a new version), switch
        one org first, the canary, and the others only once it runs; if the canary, or then any
        org, does not reach C(RUNNING) within O(start_timeout), every org that switched goes back
        to the binary it ran before and the task fails, naming the orgs and showing the last line
        each logged (secrets masked). Orgs never run twice (each is stopped before it starts again).
      - A second run with the same binary tries the canary again, and leaves the others alone.
    type: bool
    default: false
  monitor_program:
    description:
      - With O(stage=all), the program file of the monitor, the supervisord event listener
        C(multi-hauser-monitor) that keeps every org's export state and metrics; it goes to
        C(multi-hauser-monitor.conf) in O(program_dir), and a change restarts the listener alone.
      - Empty to have no monitor (one there is stopped and removed, with its config).
    type: str
    default: ""
  monitor_config:
    description:
      - The monitor's config (JSON), C(monitor.json) in O(etc_dir); the listener reads it again when
        it changes, without a restart.
      - A mapping is written as the JSON the filter P(hauser.multi_hauser.monitor_config#filter)
        makes of it, since ansible-core before 2.19 turns a template's JSON text back into a mapping.
    type: raw
    default: ""
  etc_dir:
    description: The collection's own directory of root's files.
    type: path
    default: /etc/multi-hauser
extends_documentation_fragment:
  - hauser.multi_hauser.supervisor
attributes:
  check_mode:
    description: Reports what would change and changes nothing.
    support: full
  diff_mode:
    description: Shows each changed file, with keys and passwords masked.
    support: full
"""

EXAMPLES = r"""
- name: Keep the orgs' files and programs in step (as the multi_hauser role does)
  hauser.multi_hauser.multi_hauser_orgs:
    orgs: "{{ __multi_hauser_plan.files[inventory_hostname] }}"
    base_dir: /var/lib/multi-hauser
    owner: hauser
    group: hauser
"""

RETURN = r"""
added:
  description: Orgs whose program was added (and started).
  type: list
  elements: str
  returned: always
restarted:
  description: Orgs restarted because their config or program changed.
  type: list
  elements: str
  returned: always
removed:
  description: Orgs whose program was stopped and removed; their working directories remain.
  type: list
  elements: str
  returned: always
started:
  description: Orgs that were not running and were started.
  type: list
  elements: str
  returned: always
unchanged:
  description: How many orgs needed nothing.
  type: int
  returned: always
existing:
  description: The orgs whose programs this host had before the task.
  type: list
  elements: str
  returned: always
delays:
  description: The ExportDelay in the config of each of those orgs, before the task.
  type: dict
  returned: always
rolled_back_to:
  description: When the task failed because a new binary did not run, the binary every org runs
    again.
  type: str
  returned: on failure, after a roll back
monitor:
  description: What became of the monitor's listener, C(added), C(restarted), C(removed), C(started)
    (it was not running) or C(unchanged).
  type: str
  returned: always
"""

import grp
import os
import pwd
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.files import OrgFiles, describe, sync_all
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import ETC_DIR, PROGRAM_DIR, Layout
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.monitoring import (
    MONITOR_NAME,
    MONITOR_PROGRAM_FILE,
    config_text,
)
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.secrets import config_secrets, mask_values
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.supervisor import (
    ACTIVE_STATES,
    FAULT_ALREADY_ADDED,
    FAULT_ALREADY_STARTED,
    FAULT_SPAWN_ERROR,
    FAULT_NOT_RUNNING,
    SUPERVISOR_ARGUMENT_SPEC,
    Supervisor,
    SupervisorError,
    namespec,
)


class Changes(object):
    """What the files' sync means for each org: to add, to restart (its program or its config
    changed), to remove; and, found not running, to start."""

    def __init__(self):
        self.added = []
        self.program_changed = []
        self.config_changed = []
        self.removed = []
        self.stopped = []
        # The monitor's listener: "added", "restarted", "removed", "started" or "unchanged".
        self.monitor = "unchanged"
        # Whether the monitor's config changed: a change, though the listener takes it by itself.
        self.monitor_config_changed = False

    @property
    def restarted(self):
        return sorted(self.program_changed + self.config_changed)

    def moving(self):
        return set(self.added + self.program_changed + self.config_changed + self.removed)

    def any(self):
        return bool(self.moving() or self.stopped or self.monitor != "unchanged")


def invocation(params):
    """The arguments as the result shows them: the rendered files by count. Returning them all,
    each config masked, would cost AnsibleModule a search of every file for every hidden value."""
    shown = dict((name, value) for name, value in params.items() if name not in ("orgs", "secrets"))
    shown["orgs"] = "%d orgs, files not shown" % len(params.get("orgs") or ())
    shown["secrets"] = "%d values, not shown" % len(params.get("secrets") or ())
    return {"module_args": shown}


def fail(module, msg):
    module.fail_json(msg=mask_values(msg, module.params["secrets"]), invocation=invocation(module.params))


def sync_files(files, existing, records, keep, restart_all):
    """Writes the records' files and removes the programs of orgs not wanted (neither a record's
    nor in keep); returns Changes. existing: org id -> program file of the orgs the host had.
    records is None for stage stop, which writes nothing and keeps the orgs of keep."""
    changes = Changes()
    wanted = set(keep) | set(record["org_id"] for record in records or ())
    for change in sync_all(files, existing, records or ()):
        if change.new:
            changes.added.append(change.org_id)
        elif change.program_changed:
            changes.program_changed.append(change.org_id)
        elif change.config_changed or restart_all:
            changes.config_changed.append(change.org_id)
    for org_id, path in sorted(existing.items()):
        if org_id not in wanted:
            changes.removed.append(org_id)
            files.remove(org_id, path)
    return changes


def sync_monitor(files, params, existed):
    """Writes or removes the monitor's program and config; returns what that means for its
    listener, and whether the config changed (the listener reads it again by itself)."""
    program_dir, etc_dir = params["program_dir"], params["etc_dir"]
    if not params["monitor_program"]:
        config_changed = files.remove_root_file(etc_dir, "monitor.json")
        return "removed" if files.remove_root_file(program_dir, MONITOR_PROGRAM_FILE) else "unchanged", config_changed
    config_changed = files.sync_root_file(etc_dir, "monitor.json", params["monitor_config"], 0o640)
    if files.sync_root_file(program_dir, MONITOR_PROGRAM_FILE, params["monitor_program"], 0o644):
        return "restarted" if existed else "added", config_changed
    return "unchanged", config_changed


_COMMAND = re.compile(r"^command=(\S+)", re.MULTILINE)


def binary_of(program):
    """The binary a program file runs (its command's first word), or None."""
    match = _COMMAND.search(program or "")
    return match.group(1) if match else None


def on_binary(record, binary):
    """The record with its program running binary instead of the one it names."""
    return dict(record, program=_COMMAND.sub(lambda match: "command=" + binary, record["program"], count=1))


def last_log_line(path, tail_bytes=4096):
    """The last line of a log file (never read through a link), or an empty string."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except (OSError, TypeError):
        return ""
    try:
        size = os.fstat(fd).st_size
        os.lseek(fd, max(0, size - tail_bytes), os.SEEK_SET)
        lines = [line for line in os.read(fd, tail_bytes).decode("utf-8", "replace").splitlines() if line.strip()]
    finally:
        os.close(fd)
    return lines[-1] if lines else ""


def switching_orgs(files, existing, records):
    """The orgs whose program switches from one hauser binary to another, in the records' order."""
    switching = []
    for record in records or ():
        if record["org_id"] in existing:
            before = binary_of(files.program_text(record["org_id"]))
            if before is not None and before != binary_of(record["program"]):
                switching.append(record["org_id"])
    return switching


def _version(binary):
    """What to call a binary in a message: its version directory's name (<install_dir>/<version>/hauser)."""
    return "hauser %s" % os.path.basename(os.path.dirname(binary)) if binary else "hauser"


class Upgrade(object):
    """A switch to a new hauser binary: the canary (the first switching org) first, then the
    others; when an org does not start, every org that switched goes back."""

    def __init__(self, module, files, layout, records, keep, switching):
        self.module = module
        self.files = files
        self.layout = layout
        self.records = records
        self.keep = keep
        by_id = dict((record["org_id"], record) for record in records)
        self.canary = switching[0]
        self.later = set(switching[1:])
        self.new = binary_of(by_id[self.canary]["program"])
        self.old = binary_of(files.program_text(self.canary))

    def first_records(self):
        return [record for record in self.records if record["org_id"] not in self.later]

    def switch_the_others(self, apply, changes):
        """Writes the other switching orgs' files and restarts them; rolls every switched org back
        if one does not start. Returns the problems that are not the new binary's."""
        if not self.later:
            return []
        try:
            others = sync_files(self.files, self.files.managed_programs(), self.records, self.keep, False)
        except OSError as error:
            fail(self.module, describe(error))
        supervisor, processes = apply.connect()
        problems = apply.run(supervisor, processes, others)
        changes.program_changed.extend(others.program_changed)
        changes.config_changed.extend(others.config_changed)
        if problems:
            self.roll_back(apply, self.records, problems)
        return []

    def roll_back(self, apply, written, problems):
        """Every org of written that runs the new binary runs the old one again; then fails,
        naming the orgs that did not start and what each logged last (secrets masked)."""
        moved = [record for record in written if binary_of(record["program"]) == self.new]
        secrets = sorted(set(self.module.params["secrets"]) | set(
            value for record in written for value in config_secrets(record["config"])), key=len, reverse=True)
        # What the new binary logged last, before the old one logs again.
        infos = apply.infos(apply.connect()[0])
        logged = []
        for record in moved:
            line = last_log_line(infos.get(self.layout.program_name(record["org_id"]), {}).get("stdout_logfile"))
            if line:
                logged.append("%s: %s" % (record["org_id"], mask_values(line, secrets)[:300]))
        back = [on_binary(record, self.old) if record in moved else record for record in written]
        untouched = set(record["org_id"] for record in self.records) - set(record["org_id"] for record in written)
        try:
            changes = sync_files(self.files, self.files.managed_programs(), back, self.keep | untouched, False)
        except OSError as error:
            fail(self.module, describe(error))
        supervisor, processes = apply.connect()
        still = apply.run(supervisor, processes, changes)
        which = "the canary, %s," % self.canary if written is not self.records else "%d org(s)" % len(moved)
        msg = ("%s did not start for %s on this host, so every org that switched to it runs %s again: %s%s%s." % (
            _version(self.new), which, _version(self.old), "; ".join(problems),
            "; last logged: " + " | ".join(logged) if logged else "",
            "; and going back did not work either: " + "; ".join(still) if still else ""))
        self.module.fail_json(msg=mask_values(msg, secrets), rolled_back_to=self.old,
                              rolled_back=sorted(record["org_id"] for record in moved),
                              invocation=invocation(self.module.params))


class Apply(object):
    """Applies Changes to supervisord: stops what goes or restarts, all at once; then removes,
    adds and starts in one request; then waits until what started runs."""

    def __init__(self, module, layout, strict=False):
        self.module = module
        self.layout = layout
        self.params = module.params
        # An org still not RUNNING at the end of the wait is a problem (with a new binary), not a warning.
        self.strict = strict

    def fail(self, msg):
        fail(self.module, msg)

    def connect(self):
        try:
            supervisor = Supervisor(self.params["supervisor_config"])
            return supervisor, supervisor.processes()
        except SupervisorError as error:
            self.fail(str(error))

    def find_stopped(self, changes, records, processes):
        """Orgs not otherwise touched whose program is not running (stopped, exited, given up, or
        not loaded in supervisord at all)."""
        moving = changes.moving()
        changes.stopped = sorted(
            record["org_id"] for record in records
            if record["org_id"] not in moving
            and processes.get(self.layout.program_name(record["org_id"]), {}).get("statename") not in ACTIVE_STATES)

    def find_monitor_stopped(self, changes, processes):
        if changes.monitor == "unchanged" and self.params["monitor_program"] \
                and processes.get(MONITOR_NAME, {}).get("statename") not in ACTIVE_STATES:
            changes.monitor = "started"

    def run(self, supervisor, processes, changes):
        name = self.layout.program_name
        ours = set(name(org_id) for org_id in changes.added + changes.program_changed + changes.removed
                   + changes.stopped)
        if changes.monitor != "unchanged":
            ours.add(MONITOR_NAME)
        groups_added, groups_changed, groups_removed = [
            [group for group in groups if group in ours] for groups in self._call(supervisor, "reloadConfig")[0]]
        # Stop every program that goes, changes or restarts, all at once, and wait for all of them.
        to_stop = groups_removed + groups_changed + [name(org_id) for org_id in changes.config_changed]
        to_stop = [group for group in to_stop if processes.get(group, {}).get("statename") in ACTIVE_STATES]
        calls = [("stopProcess", (namespec(group), False)) for group in to_stop]
        failed = _failures(calls, self._multicall(supervisor, calls), FAULT_NOT_RUNNING)
        if failed:
            self.fail("supervisord could not stop: %s" % "; ".join(
                "%s (%s)" % (group, failure[1]) for group, failure in sorted(failed.items())))
        still = self._wait(supervisor, to_stop, lambda info: info["statename"] not in ACTIVE_STATES,
                           self.params["stop_timeout"])
        if still:
            self.fail("still stopping after %d s: %s" % (self.params["stop_timeout"], ", ".join(sorted(still))))
        # Then remove, add and start, in one request.
        to_start = groups_changed + groups_added + [name(org_id) for org_id in changes.config_changed + changes.stopped]
        if changes.monitor == "started":
            to_start.append(MONITOR_NAME)
        to_start = sorted(set(to_start), key=to_start.index)
        calls = ([("removeProcessGroup", (group,)) for group in groups_removed + groups_changed]
                 + [("addProcessGroup", (group,)) for group in groups_changed + groups_added]
                 + [("startProcess", (namespec(group), False)) for group in to_start])
        # A program that failed to spawn is retried by supervisord until it gives up (FATAL), which
        # wait_started reports with the reason and the program's log.
        failed = _failures(calls, self._multicall(supervisor, calls),
                           FAULT_ALREADY_ADDED, FAULT_ALREADY_STARTED, FAULT_SPAWN_ERROR)
        # One program that cannot start must not hide how the others fare: wait for them first.
        problems = ["supervisord could not %s %s: %s" % (method, group, why)
                    for group, (method, why) in sorted(failed.items())]
        problems += self.wait_started(supervisor, [group for group in to_start if group not in failed])
        return problems

    def wait_started(self, supervisor, groups):
        """Waits until each of these programs is RUNNING (past its startsecs) or has given up
        (FATAL); returns what to say of those that gave up, warns about those still starting."""
        timeout = self.params["start_timeout"]
        if not groups or timeout <= 0:
            return []
        pending = self._wait(supervisor, groups, lambda info: info["statename"] in ("RUNNING", "FATAL"), timeout)
        infos = self._call(supervisor, "getAllProcessInfo")
        infos = dict((info["name"], info) for info in infos)

        def org_of(group):  # the monitor's group is no org's
            return self.layout.org_of_program(group) or group

        fatal = sorted(group for group in groups if infos.get(group, {}).get("statename") == "FATAL")
        if pending and self.strict:  # a new binary: what does not run within the time fails
            return ["not RUNNING after %d s (multi_hauser_start_timeout): %s" % (
                timeout, ", ".join(sorted(org_of(group) for group in pending)))] + self._fatal(infos, fatal, org_of)
        if pending:
            self.module.warn("%d org(s) not yet RUNNING after %d s (multi_hauser_start_timeout): %s" % (
                len(pending), timeout, ", ".join(sorted(org_of(group) for group in pending))))
        return self._fatal(infos, fatal, org_of)

    @staticmethod
    def _fatal(infos, fatal, org_of):
        if not fatal:
            return []
        described = []
        for group in fatal:
            info = infos[group]
            why = info.get("spawnerr") or info.get("description") or "exited"
            described.append("%s (%s; its log: %s)" % (org_of(group), why, info.get("stdout_logfile") or "-"))
        return ["hauser could not start for %d org(s); supervisord gave up (FATAL): %s" % (
            len(fatal), "; ".join(described))]

    def infos(self, supervisor):
        try:
            return supervisor.processes()
        except SupervisorError as error:
            self.fail(str(error))

    def _call(self, supervisor, method, *args):
        try:
            return supervisor.call(method, *args)
        except SupervisorError as error:
            self.fail(str(error))

    def _multicall(self, supervisor, calls):
        try:
            return supervisor.multicall(calls)
        except SupervisorError as error:
            self.fail(str(error))

    def _wait(self, supervisor, names, done, timeout):
        try:
            return supervisor.wait(names, done, timeout)
        except SupervisorError as error:
            self.fail(str(error))


def _failures(calls, results, *harmless):
    """(program, (method, fault string)) for each call that failed for a reason not in harmless."""
    failed = {}
    for (method, args), result in zip(calls, results):
        if isinstance(result, tuple) and result[0] not in harmless:
            failed[args[0].split(":")[0]] = (method, result[1])
    return failed


def _owner_ids(module):
    try:
        return pwd.getpwnam(module.params["owner"]).pw_uid, grp.getgrnam(module.params["group"]).gr_gid
    except KeyError:
        if not module.check_mode:
            fail(module, "user or group %s:%s does not exist" % (module.params["owner"], module.params["group"]))
        return -1, -1  # check mode on a fresh host: everything is new anyway


def main():
    module = AnsibleModule(
        argument_spec=dict(
            orgs=dict(type="list", elements="dict", options=dict(
                org_id=dict(type="str", required=True),
                config=dict(type="str", required=True, no_log=True),
                program=dict(type="str", required=True),
                dirs=dict(type="list", elements="path", default=[]),
            )),
            keep=dict(type="list", elements="str"),
            base_dir=dict(type="path", required=True),
            program_dir=dict(type="path", default=PROGRAM_DIR),
            owner=dict(type="str", required=True),
            group=dict(type="str", required=True),
            secrets=dict(type="list", elements="str", default=[], no_log=True),
            restart_all=dict(type="bool", default=False),
            stage=dict(type="str", default="all", choices=["all", "stop"]),
            start_timeout=dict(type="int", default=60),
            stop_timeout=dict(type="int", default=60),
            canary=dict(type="bool", default=False),
            monitor_program=dict(type="str", default=""),
            monitor_config=dict(type="raw", default=""),
            etc_dir=dict(type="path", default=ETC_DIR),
            **SUPERVISOR_ARGUMENT_SPEC
        ),
        required_if=[("stage", "all", ["orgs"]), ("stage", "stop", ["keep"])],
        supports_check_mode=True,
    )
    params = module.params
    if isinstance(params["monitor_config"], dict):
        params["monitor_config"] = config_text(params["monitor_config"])
    elif not isinstance(params["monitor_config"], str):
        module.fail_json(msg="monitor_config must be the monitor's config, JSON text or a mapping")
    stop_only = params["stage"] == "stop"
    records = None if stop_only else module.params["orgs"] or []
    layout = Layout(params["base_dir"], params["program_dir"])
    uid, gid = _owner_ids(module)
    files = OrgFiles(layout, uid, gid, check=module.check_mode, secrets=params["secrets"])
    keep = set(params["keep"] or ())
    try:
        existing = files.managed_programs()
        delays = dict((org_id, files.export_delay(org_id)) for org_id in existing)
        switching = switching_orgs(files, existing, records) if params["canary"] else []
    except OSError as error:
        fail(module, describe(error))
    # (In check mode the whole change is shown, as one.)
    upgrade = Upgrade(module, files, layout, records, keep, switching) if switching and not module.check_mode else None
    # With a new binary, the canary first: every record but the other switching orgs, which stay.
    first = records if upgrade is None else upgrade.first_records()
    try:
        changes = sync_files(files, existing, first, keep | (upgrade.later if upgrade else set()),
                             params["restart_all"] and not stop_only)
        if not stop_only:
            changes.monitor, changes.monitor_config_changed = sync_monitor(files, params, os.path.exists(
                os.path.join(params["program_dir"], MONITOR_PROGRAM_FILE)))
    except OSError as error:
        fail(module, describe(error))
    if changes.moving() or records or params["monitor_program"] or changes.monitor != "unchanged":
        if os.path.exists(params["supervisor_config"]):
            apply = Apply(module, layout, strict=upgrade is not None)
            supervisor, processes = apply.connect()
            if records is not None:
                apply.find_stopped(changes, records, processes)
                apply.find_monitor_stopped(changes, processes)
            problems = apply.run(supervisor, processes, changes) if changes.any() and not module.check_mode else []
            if upgrade is not None:
                if problems:
                    upgrade.roll_back(apply, first, problems)
                problems = upgrade.switch_the_others(apply, changes)
            if problems:
                fail(module, "; ".join(problems))
        elif not module.check_mode:  # in check mode on a fresh host, supervisor is not installed yet
            fail(module, "%s not found: is supervisor installed?" % params["supervisor_config"])
    result = dict(
        changed=bool(changes.any() or changes.monitor_config_changed or files.attrs_changed),
        added=sorted(changes.added),
        restarted=changes.restarted,
        removed=sorted(changes.removed),
        started=changes.stopped,
        unchanged=len(records or ()) - len(changes.added) - len(changes.program_changed) - len(changes.config_changed),
        existing=sorted(existing),
        delays=dict((org_id, delay) for org_id, delay in delays.items() if delay),
        monitor=changes.monitor,
    )
    if module._diff:
        result["diff"] = files.diff
    module.exit_json(invocation=invocation(params), **result)


if __name__ == "__main__":
    main()
