# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of hauser.multi_hauser.multi_hauser_settings (documented in plugins/modules/)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.plugins.action import ActionBase

from ansible_collections.hauser.multi_hauser.plugins.module_utils import core
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import host_layout
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.secrets import (
    image_refusals,
    secret_looking_environment,
    secret_values,
)
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.settings import (
    ROLE_NAMING,
    SETTINGS,
    SettingsError,
    Text,
    check_required,
    convert,
    image_settings,
)
from ansible_collections.hauser.multi_hauser.plugins.plugin_utils.plain import plain

PREFIX = "multi_hauser_"
PURPOSES = ("deploy", "image", "plan", "status")


class ActionModule(ActionBase):
    """Reads this host's role variables, each templated and converted to its kind, and checks
    them for the purpose; runs on the controller only."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("purpose",))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        purpose = self._task.args.get("purpose", "deploy")
        if purpose not in PURPOSES:
            result.update(failed=True, msg="purpose must be one of %s" % ", ".join(PURPOSES))
            return result
        raw = {}
        for name in list(SETTINGS) + ["keyfile", "orgs"]:
            if PREFIX + name not in task_vars:
                result.update(failed=True, msg="%s%s is not defined: use the hauser.multi_hauser.multi_hauser role, "
                                               "whose defaults define every setting" % (PREFIX, name))
                return result
            raw[name] = plain(self._templar.template(task_vars[PREFIX + name]))
        try:
            settings = convert(raw, ROLE_NAMING, names=SETTINGS)
            settings["keyfile"] = Text().convert(raw["keyfile"], PREFIX + "keyfile")
            settings["orgs"] = raw["orgs"]
            _check_environment(settings)
            if purpose == "image":
                _refuse_secrets(settings)
            elif purpose in ("deploy", "plan"):
                _check_orgs_source(settings)
            if purpose == "deploy":
                check_required(settings, ROLE_NAMING)
        except SettingsError as error:
            # The messages name variables, never a value.
            result.update(failed=True, msg=str(error))
            return result
        layout = host_layout(settings)
        result.update(changed=False, settings=settings, layout=layout, secrets=secret_values(settings))
        if purpose == "image":
            result.update(image_settings=image_settings(settings, layout), core_dir=os.path.dirname(core.__file__))
        # The settings hold secrets (the orgs of multi_hauser_orgs, passwords): the result is
        # registered for the plan and never shown.
        result["_ansible_no_log"] = True
        return result


def _check_orgs_source(settings):
    if bool(settings["keyfile"]) == bool(settings["orgs"]):
        raise SettingsError(
            "Give the orgs either as multi_hauser_keyfile (a key file on the controller, plain or "
            "vault-encrypted) or as multi_hauser_orgs (a list of {org_id, api_key}): exactly one of them.")


def _check_environment(settings):
    """Secrets belong in multi_hauser_secret_environment, whose files only root may read."""
    looking = secret_looking_environment(settings["environment"])
    if looking:
        raise SettingsError(
            "multi_hauser_environment: %s look like secrets (by name, or a URL with a password): give them "
            "as multi_hauser_secret_environment, which only root may read" % ", ".join(looking))
    both = sorted(set(settings["environment"]) & set(settings["secret_environment"]))
    if both:
        raise SettingsError("multi_hauser_environment and multi_hauser_secret_environment both set %s"
                            % ", ".join(both))


def _refuse_secrets(settings):
    given = [PREFIX + name for name in image_refusals(settings)]
    if given:
        raise SettingsError(
            "An image must hold no key and no credential: with multi_hauser_mode=image, leave %s empty "
            "and give them when the container runs." % ", ".join(given))
