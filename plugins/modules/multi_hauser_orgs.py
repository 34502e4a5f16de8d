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
  - The files come rendered by the P(hauser.multi_hauser.org_files#filter) filter on the controller,
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
          C(<program_prefix><org_id>).
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
    required: true
  program_prefix:
    description: Programs are named C(<prefix><org_id>), in files C(<prefix><org_id>.conf);
      such files that hold O(marker) and whose org is no longer listed are removed.
    type: str
    required: true
  marker:
    description: A line every managed program file holds.
    type: str
    required: true
  owner:
    description: The user hauser runs as; it owns the working directories.
    type: str
    required: true
  group:
    description: Its group; config files are C(root:<group>) mode 0640.
    type: str
    required: true
  secrets:
    description: Values never to be shown, in diffs or anywhere else.
    type: list
    elements: str
    default: []
  secret_keys:
    description: Config keys whose values a diff masks (an old key is on no list).
    type: list
    elements: str
    default: [FsApiToken, Password]
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
    orgs: "{{ orgs | hauser.multi_hauser.org_files(settings, config_template_text, program_template_text) }}"
    base_dir: /var/lib/multi-hauser
    program_dir: /etc/supervisor/conf.d
    program_prefix: hauser-
    marker: Managed by Ansible
    owner: hauser
    group: hauser
    secrets: "{{ orgs | map(attribute='api_key') }}"
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
"""

import grp
import os
import pwd
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hauser.multi_hauser.plugins.module_utils.org_state import SUPERVISOR_ARGUMENT_SPEC, export_delay
from ansible_collections.hauser.multi_hauser.plugins.module_utils.supervisor_rpc import (
    ACTIVE_STATES, FAULT_ALREADY_ADDED, FAULT_ALREADY_STARTED, FAULT_NOT_RUNNING, Supervisor, SupervisorError, namespec)

CONFIG_NAME = "config.toml"


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8")
    except (IOError, OSError):
        return None


def _attrs_differ(path, uid, gid, mode):
    try:
        stat = os.lstat(path)
    except OSError:
        return True
    return (stat.st_uid, stat.st_gid, stat.st_mode & 0o7777) != (uid, gid, mode)


def _write_atomically(path, content, uid, gid, mode):
    """Write a new file beside the old one with its final owner and mode, then rename it."""
    directory = os.path.dirname(path)
    handle, temp_path = tempfile.mkstemp(dir=directory, prefix=".multi-hauser-")
    try:
        os.fchown(handle, uid, gid)
        os.fchmod(handle, mode)
        os.write(handle, content.encode("utf-8"))
        os.fsync(handle)
        os.close(handle)
        os.rename(temp_path, path)
    except BaseException:
        try:
            os.close(handle)
        except OSError:
            pass  # already closed
        os.unlink(temp_path)
        raise


class Orgs(object):
    """Compares what a host has with what it should have, and makes it so."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check = module.check_mode
        try:
            self.uid = pwd.getpwnam(self.params["owner"]).pw_uid
            self.gid = grp.getgrnam(self.params["group"]).gr_gid
        except KeyError:
            if not self.check:
                module.fail_json(msg="user or group %s:%s does not exist" % (self.params["owner"], self.params["group"]))
            self.uid = self.gid = -1  # check mode on a fresh host: everything is new anyway
        self.diff = []
        self.attrs_changed = False
        self.existing = self.managed_programs()
        self.delays = {}
        for org_id in self.existing:
            delay = export_delay(self.config_path(org_id))
            if delay:
                self.delays[org_id] = delay

    def program_path(self, org_id):
        return os.path.join(self.params["program_dir"], "%s%s.conf" % (self.params["program_prefix"], org_id))

    def config_path(self, org_id):
        return os.path.join(self.params["base_dir"], org_id, CONFIG_NAME)

    def mask(self, text):
        if text is None:
            return ""
        keys = "|".join(re.escape(key) for key in self.params["secret_keys"])
        if keys:
            text = re.sub(r'(?im)^(\s*(?:%s)\s*=\s*).*$' % keys, r'\1"********"', text)
        for secret in self.params["secrets"]:
            if secret:
                text = text.replace(secret, "********")
        return text

    def sync_file(self, path, content, uid, gid, mode):
        """Returns True when the content changed (the org must restart)."""
        current = _read(path)
        if current != content:
            before, after = self.mask(current), self.mask(content)
            self.diff.append({
                "before_header": path if current is not None else "/dev/null",
                "after_header": path if before != after else path + " (a secret changed; not shown)",
                "before": before,
                "after": after,
            })
            if not self.check:
                _write_atomically(path, content, uid, gid, mode)
            return True
        if _attrs_differ(path, uid, gid, mode):
            self.attrs_changed = True
            if not self.check:
                os.chown(path, uid, gid)
                os.chmod(path, mode)
        return False

    def sync_dir(self, path, uid, gid, mode):
        if os.path.isdir(path) and not _attrs_differ(path, uid, gid, mode):
            return
        self.attrs_changed = True
        if not os.path.isdir(path):
            self.diff.append({"before_header": path, "after_header": path,
                              "before": {"path": path, "state": "absent"},
                              "after": {"path": path, "state": "directory"}})
        if not self.check:
            if not os.path.isdir(path):
                os.makedirs(path, mode)
            os.chown(path, uid, gid)
            os.chmod(path, mode)

    def managed_programs(self):
        """org id -> program file, for every program file this module wrote."""
        found = {}
        prefix = self.params["program_prefix"]
        try:
            names = os.listdir(self.params["program_dir"])
        except OSError:
            return found
        for name in names:
            if name.startswith(prefix) and name.endswith(".conf"):
                path = os.path.join(self.params["program_dir"], name)
                if self.params["marker"] in (_read(path) or ""):
                    found[name[len(prefix):-len(".conf")]] = path
        return found

    def sync(self, stop_only):
        """Returns (added, program_changed, config_changed, removed) as lists of org ids.

        With stop_only, only the programs of orgs no longer listed are removed."""
        added, program_changed, config_changed, removed = [], [], [], []
        existing = self.existing
        if stop_only:
            wanted = set(self.params["keep"])
        else:
            wanted = set(org["org_id"] for org in self.params["orgs"])
        for org in [] if stop_only else self.params["orgs"]:
            org_id = org["org_id"]
            for path in [os.path.join(self.params["base_dir"], org_id)] + org["dirs"]:
                self.sync_dir(path, self.uid, self.gid, 0o750)
            config_new = self.sync_file(self.config_path(org_id), org["config"], 0, self.gid, 0o640)
            program_new = self.sync_file(self.program_path(org_id), org["program"], 0, 0, 0o644)
            if org_id not in existing:
                added.append(org_id)
            elif program_new:
                program_changed.append(org_id)
            elif config_new:
                config_changed.append(org_id)
        for org_id, path in sorted(existing.items()):
            if org_id in wanted:
                continue
            removed.append(org_id)
            self.diff.append({"before_header": path, "after_header": path,
                              "before": self.mask(_read(path)), "after": ""})
            config = self.config_path(org_id)
            if not self.check:
                os.unlink(path)
                if os.path.exists(config):
                    os.unlink(config)  # it holds a key; the working directory stays
        return added, program_changed, config_changed, removed

    def apply(self, added, program_changed, config_changed, removed, start_stopped):
        """Applies the changed files to supervisord: stops what goes or restarts, all at once; then
        removes, adds and starts in one request; then waits until what started runs. Returns the
        orgs that were not running and got started (if start_stopped)."""
        prefix = self.params["program_prefix"]
        moving = set(added + program_changed + config_changed + removed)
        if not (moving or start_stopped):
            return []
        if not os.path.exists(self.params["supervisor_config"]):
            if self.check:
                return []  # check mode on a fresh host: supervisor is not installed yet
            self.module.fail_json(msg="%s not found: is supervisor installed?" % self.params["supervisor_config"])
        try:
            supervisor = Supervisor(self.params["supervisor_config"])
            processes = supervisor.processes()
        except SupervisorError as error:
            self.module.fail_json(msg=str(error))
        stopped = sorted(
            org["org_id"] for org in self.params["orgs"]
            if org["org_id"] not in moving
            and processes.get(prefix + org["org_id"], {}).get("statename") not in ACTIVE_STATES
        ) if start_stopped else []  # stopped, exited, given up, or not loaded in supervisord at all
        if self.check or not (moving or stopped):
            return stopped
        try:
            self._apply(supervisor, processes, added, program_changed, config_changed, removed, stopped)
        except SupervisorError as error:
            self.module.fail_json(msg=str(error))
        return stopped

    def _apply(self, supervisor, processes, added, program_changed, config_changed, removed, stopped):
        prefix = self.params["program_prefix"]
        ours = set(prefix + org_id for org_id in added + program_changed + removed + stopped)
        groups_added, groups_changed, groups_removed = [
            [group for group in groups if group in ours] for groups in supervisor.call("reloadConfig")[0]]
        # Stop every program that goes, changes or restarts, all at once, and wait for all of them.
        to_stop = groups_removed + groups_changed + [prefix + org_id for org_id in config_changed]
        to_stop = [group for group in to_stop if processes.get(group, {}).get("statename") in ACTIVE_STATES]
        calls = [("stopProcess", (namespec(group), False)) for group in to_stop]
        failed = self._failures(calls, supervisor.multicall(calls), FAULT_NOT_RUNNING)
        if failed:
            self.module.fail_json(msg="supervisord could not stop: %s" % "; ".join(
                "%s (%s)" % (name, failure[1]) for name, failure in sorted(failed.items())))
        still = supervisor.wait(to_stop, lambda info: info["statename"] not in ACTIVE_STATES, self.params["stop_timeout"])
        if still:
            self.module.fail_json(msg="still stopping after %d s: %s" % (self.params["stop_timeout"], ", ".join(sorted(still))))
        # Then remove, add and start, in one request.
        to_start = groups_changed + groups_added + [prefix + org_id for org_id in config_changed + stopped]
        to_start = sorted(set(to_start), key=to_start.index)
        calls = ([("removeProcessGroup", (group,)) for group in groups_removed + groups_changed]
                 + [("addProcessGroup", (group,)) for group in groups_changed + groups_added]
                 + [("startProcess", (namespec(group), False)) for group in to_start])
        results = supervisor.multicall(calls)
        failed = self._failures(calls, results, FAULT_ALREADY_ADDED, FAULT_ALREADY_STARTED)
        # One program that cannot start must not hide how the others fare: wait for them first.
        problems = ["supervisord could not %s %s: %s" % (method, name, why)
                    for name, (method, why) in sorted(failed.items())]
        problems += self.wait_started(supervisor, [group for group in to_start if group not in failed])
        if problems:
            self.module.fail_json(msg="; ".join(problems))

    @staticmethod
    def _failures(calls, results, *harmless):
        """(program, (method, fault string)) for each call that failed for a reason not in harmless."""
        failed = {}
        for (method, args), result in zip(calls, results):
            if isinstance(result, tuple) and result[0] not in harmless:
                failed[args[0].split(":")[0]] = (method, result[1])
        return failed

    def wait_started(self, supervisor, groups):
        """Waits until each of these programs is RUNNING (past its startsecs) or has given up
        (FATAL); returns what to say of those that gave up, warns about those still starting."""
        timeout = self.params["start_timeout"]
        if not groups or timeout <= 0:
            return []
        pending = supervisor.wait(groups, lambda info: info["statename"] in ("RUNNING", "FATAL"), timeout)
        infos = supervisor.processes()
        prefix = self.params["program_prefix"]
        fatal = sorted(group for group in groups if infos.get(group, {}).get("statename") == "FATAL")
        if pending:
            self.module.warn("%d org(s) not yet RUNNING after %d s (multi_hauser_start_timeout): %s" % (
                len(pending), timeout, ", ".join(sorted(group[len(prefix):] for group in pending))))
        if not fatal:
            return []
        described = []
        for group in fatal:
            info = infos[group]
            why = info.get("spawnerr") or info.get("description") or "exited"
            described.append("%s (%s; its log: %s)" % (group[len(prefix):], why, info.get("stdout_logfile") or "-"))
        return ["hauser could not start for %d org(s); supervisord gave up (FATAL): %s" % (
            len(fatal), "; ".join(described))]


class OrgsModule(AnsibleModule):
    """AnsibleModule, but logging and returning its arguments in short: the rendered files by count.

    AnsibleModule would search the text of every rendered file for every hidden value (each
    config and each key), a cost that grows with the square of the orgs (seconds at 1,000), and
    would return the files, keys masked, to the controller for nothing."""

    def summary(self):
        # Also called by a fail_json of argument validation, when some parameters may be missing.
        given = getattr(self, "params", None) or {}
        params = dict((name, value) for name, value in given.items() if name not in ("orgs", "secrets"))
        params["orgs"] = ["%s (files not shown)" % org.get("org_id") for org in given.get("orgs") or ()
                          if isinstance(org, dict)]
        params["secrets"] = "%d values, not shown" % len(given.get("secrets") or ())
        return params

    def _log_invocation(self):
        self.log("Invoked with %d orgs, stage %s" % (len(self.params.get("orgs") or ()), self.params.get("stage")))

    def exit_json(self, **kwargs):
        kwargs.setdefault("invocation", {"module_args": self.summary()})
        AnsibleModule.exit_json(self, **kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs.setdefault("invocation", {"module_args": self.summary()})
        AnsibleModule.fail_json(self, msg, **kwargs)


def main():
    org_spec = dict(
        org_id=dict(type="str", required=True),
        config=dict(type="str", required=True, no_log=True),
        program=dict(type="str", required=True),
        dirs=dict(type="list", elements="path", default=[]),
    )
    module = OrgsModule(
        argument_spec=dict(
            orgs=dict(type="list", elements="dict", options=org_spec),
            keep=dict(type="list", elements="str"),
            base_dir=dict(type="path", required=True),
            program_dir=dict(type="path", required=True),
            program_prefix=dict(type="str", required=True),
            marker=dict(type="str", required=True),
            owner=dict(type="str", required=True),
            group=dict(type="str", required=True),
            secrets=dict(type="list", elements="str", default=[], no_log=True),
            secret_keys=dict(type="list", elements="str", default=["FsApiToken", "Password"], no_log=False),
            restart_all=dict(type="bool", default=False),
            stage=dict(type="str", default="all", choices=["all", "stop"]),
            start_timeout=dict(type="int", default=60),
            stop_timeout=dict(type="int", default=60),
            **SUPERVISOR_ARGUMENT_SPEC
        ),
        required_if=[("stage", "all", ["orgs"]), ("stage", "stop", ["keep"])],
        supports_check_mode=True,
    )
    if module.params["orgs"] is None:
        module.params["orgs"] = []
    orgs = Orgs(module)
    existing = sorted(orgs.existing)
    stop_only = module.params["stage"] == "stop"
    added, program_changed, config_changed, removed = orgs.sync(stop_only)
    if module.params["restart_all"] and not stop_only:
        config_changed = [org["org_id"] for org in module.params["orgs"]
                          if org["org_id"] not in added and org["org_id"] not in program_changed]
    started = orgs.apply(added, program_changed, config_changed, removed, start_stopped=not stop_only)
    result = dict(
        changed=bool(added or program_changed or config_changed or removed or started or orgs.attrs_changed),
        added=sorted(added),
        restarted=sorted(program_changed + config_changed),
        removed=sorted(removed),
        started=started,
        unchanged=len(module.params["orgs"]) - len(added) - len(program_changed) - len(config_changed),
        existing=existing,
        delays=orgs.delays,
    )
    if module._diff:
        result["diff"] = orgs.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
