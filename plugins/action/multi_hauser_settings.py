# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of hauser.multi_hauser.multi_hauser_settings (documented in plugins/modules/)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os

from ansible.plugins.action import ActionBase

from ansible_collections.hauser.multi_hauser.plugins.module_utils import core
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import CREDENTIALS, host_layout
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
    check_directories,
    check_required,
    convert,
    image_settings,
)
from ansible_collections.hauser.multi_hauser.plugins.plugin_utils.plain import plain

PREFIX = "multi_hauser_"
PURPOSES = ("deploy", "image", "plan", "status", "remove")


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
            if purpose == "remove":
                _check_removal(settings)
        except SettingsError as error:
            # The messages name variables, never a value.
            result.update(failed=True, msg=str(error))
            return result
        layout = host_layout(settings)
        if purpose == "remove":
            # Whatever the settings say now, a deploy may have installed the credentials.
            layout["credentials"] = CREDENTIALS
        result.update(changed=False, settings=settings, layout=layout, secrets=secret_values(settings))
        if purpose in ("deploy", "image"):
            files = _lib_files(layout, task_vars.get("role_path"), purpose == "image")
            # What the install copies, and what multi_hauser_probe compares (the same paths).
            result["lib_files"] = [{"src": item["src"], "path": item["path"]} for item in files]
            result["lib_paths"] = [dict(path=layout["core_dir"], state="directory", owner="root", group="root",
                                        mode="0755")] + [
                dict(path=item["path"], owner="root", group="root", mode="0644", sha256=item["sha256"])
                for item in files]
        if purpose == "image":
            result.update(image_settings=image_settings(settings, layout))
        # The settings hold secrets (the orgs of multi_hauser_orgs, passwords): the result is
        # registered for the plan and never shown.
        result["_ansible_no_log"] = True
        return result


# The role's scripts that run on a host, beside the core package: the monitor (a VM and the
# image), the entrypoint and the log prefixer (the image).
HOST_SCRIPTS = ("monitor.py",)
IMAGE_SCRIPTS = ("entrypoint.py", "logprefix.py")


def _lib_files(layout, role_path, image):
    """The collection's code a host runs, as the install copies it: src on the controller, path
    on the host, sha256 (so that an unchanged file costs no round trip)."""
    core_dir = os.path.dirname(core.__file__)
    sources = [(os.path.join(core_dir, name), layout["core_dir"] + "/" + name)
               for name in sorted(os.listdir(core_dir)) if name.endswith(".py")]
    if role_path:
        sources += [(os.path.join(role_path, "files", name), layout["lib_dir"] + "/" + name)
                    for name in HOST_SCRIPTS + (IMAGE_SCRIPTS if image else ())]
    files = []
    for src, path in sources:
        with open(src, "rb") as handle:
            files.append({"src": src, "path": path, "sha256": hashlib.sha256(handle.read()).hexdigest()})
    return files


def _check_orgs_source(settings):
    if bool(settings["keyfile"]) == bool(settings["orgs"]):
        raise SettingsError(
            "Give the orgs either as multi_hauser_keyfile (a key file on the controller, plain or "
            "vault-encrypted) or as multi_hauser_orgs (a list of {org_id, api_key}): exactly one of them.")


def _check_removal(settings):
    """A removal needs no orgs and no provider's settings; the directories it deletes must be the
    deployment's own, as a deploy checks them."""
    if settings["mode"] != "vm":
        raise SettingsError("multi_hauser_mode must be vm to remove a deployment from a host (an image is "
                            "removed with docker rmi)")
    check_directories(settings, ROLE_NAMING)


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
