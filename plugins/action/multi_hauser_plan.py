# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of hauser.multi_hauser.multi_hauser_plan (documented in plugins/modules/)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.config import ConfigError
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.orgs import (
    MAX_KEYFILE_BYTES,
    KeyFileError,
    parse_keyfile,
    validate_orgs,
)
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.plan import make_plan, orgs_source
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.render import render_org_files
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.secrets import secret_values
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.settings import SETTINGS, SettingsError
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.shard import ShardError
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.stagger import StaggerError
from ansible_collections.hauser.multi_hauser.plugins.plugin_utils.plain import plain

_PLAN_ERRORS = (ConfigError, KeyFileError, SettingsError, ShardError, StaggerError)


class ActionModule(ActionBase):
    """Makes the plan of the run once, on the controller, for every host of the play."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("settings", "found", "program_template", "render"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        self._task_vars = task_vars or {}
        args = self._task.args
        render = bool(args.get("render", True))
        hostvars = self._task_vars["hostvars"]
        play_hosts = list(self._task_vars["ansible_play_hosts"])
        settings_var = args.get("settings", "__multi_hauser_settings")
        found = plain(args["found"]) if args.get("found") is not None else None
        self._texts = {}
        self._notes = []
        try:
            registered = dict((host, plain(hostvars[host][settings_var])) for host in play_hosts)
            host_settings = dict((host, checked["settings"]) for host, checked in registered.items())
            weights = self._weights(host_settings, hostvars)
            renderer = self._renderer(registered, self._text(args["program_template"])) if render else None
            plan, files = make_plan(host_settings, weights, found, self._read_orgs, renderer)
        except _PLAN_ERRORS as error:
            # The messages name settings, files and lines, never a key.
            result.update(failed=True, msg=str(error))
            if self._notes:
                result["warnings"] = sorted(set(self._notes))
            return result
        result.update(changed=False, plan=plan)
        if self._notes:
            result["warnings"] = sorted(set(self._notes))
        if render:
            # The files hold every org's key, and what each host masks besides the keys (which
            # diffs mask by name) holds the other secrets: registered for the hosts, never shown.
            secrets = dict((host, secret_values(settings)) for host, settings in host_settings.items())
            result.update(files=files, secrets=secrets, _ansible_no_log=True)
        return result

    def _weights(self, host_settings, hostvars):
        """Every shard host's weight: from its settings when it is in the play, else its variable."""
        weights = {}
        for settings in host_settings.values():
            for host in settings["shard_hosts"]:
                if host in weights:
                    continue
                if host in host_settings:
                    weights[host] = host_settings[host]["shard_weight"]
                elif host in hostvars:
                    raw = plain(self._templar.template(hostvars[host].get("multi_hauser_shard_weight", 1)))
                    weights[host] = SETTINGS["shard_weight"].convert(raw, "multi_hauser_shard_weight of %s" % host)
                else:
                    raise SettingsError("multi_hauser_shard_hosts names %s, which is not in the inventory" % host)
        return weights

    def _renderer(self, registered, program_template):
        """render(host, orgs) for make_plan: with the host's settings, its paths and its config template."""
        def render(host, orgs):
            settings = registered[host]["settings"]
            return render_org_files(orgs, dict(settings, **_render_paths(registered[host]["layout"])),
                                    self._text(settings["config_template"]), program_template,
                                    source=orgs_source(settings))
        return render

    def _text(self, path):
        """A file on the controller (as the file lookup finds it, vault-encrypted or not), read once,
        and only when not larger than a key file may be (vault's encoding takes some 2.3 times
        the size)."""
        if path not in self._texts:
            lookup = lookup_loader.get("ansible.builtin.file", loader=self._loader, templar=self._templar)
            try:
                found = lookup.find_file_in_search_path(self._task_vars, "files", path)
            except AnsibleError:
                found = None
            if not found:
                raise SettingsError("cannot find %s on the controller" % path)
            if os.path.getsize(found) > 3 * MAX_KEYFILE_BYTES:
                raise SettingsError("%s on the controller: larger than a key file or template may be" % path)
            try:
                self._texts[path] = str(lookup.run([found], variables=self._task_vars)[0])
            except AnsibleError:
                raise SettingsError("cannot read %s on the controller" % path)
        return self._texts[path]

    def _read_orgs(self, settings):
        if settings["keyfile"]:
            return parse_keyfile(self._text(settings["keyfile"]), source=settings["keyfile"], notes=self._notes)
        return validate_orgs(settings["orgs"], source="multi_hauser_orgs")


def _render_paths(paths):
    return {"hauser_path": paths["binary"], "program_dir": paths["program_dir"],
            "credentials_path": paths["credentials"]}
