#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: multi_hauser_probe
short_description: Read, in one round trip, what a host's deployment has and how it differs from what it should have
version_added: 1.0.0
author: multi_hauser contributors (!UNKNOWN)
description:
  - Reports the host's architecture, which of the given packages are not installed, whether the
    service user and group are as they should be, which of the given paths differ from what they
    should be (type, owner, group, mode, content), whether supervisord's service runs and is
    enabled, and the org programs the host runs now with each org's ExportDelay.
  - Changes nothing. The C(hauser.multi_hauser.multi_hauser) role runs it first, so that the plan
    can keep each org's ExportDelay and the install steps with nothing to do are skipped without a
    round trip of their own.
  - Never returns anything of a config but its ExportDelay (a config holds a key).
options:
  paths:
    description: Paths and what each should be.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The path.
        type: path
        required: true
      state:
        description: What it should be, or C(absent) for nothing; a link is not followed.
        type: str
        choices: [file, directory, link, absent]
        default: file
      owner:
        description: Its owner's name.
        type: str
      group:
        description: Its group's name.
        type: str
      mode:
        description: Its mode, in octal.
        type: str
      sha256:
        description: A file's content, as its SHA-256 (never shown, of a credentials file say).
        type: str
      src:
        description: A link's target.
        type: str
  packages:
    description: Distribution packages that should be installed.
    type: list
    elements: str
    default: []
  user:
    description: The service user as it should be.
    type: dict
    suboptions:
      name:
        description: Its name.
        type: str
        required: true
      group:
        description: Its primary group.
        type: str
        required: true
      home:
        description: Its home directory.
        type: str
        required: true
      shell:
        description: Its shell.
        type: str
        required: true
  service:
    description: A systemd service whose state to report.
    type: str
  base_dir:
    description: The parent of every org's working directory.
    type: path
    default: /var/lib/multi-hauser
  program_dir:
    description: supervisord's include directory, where the org programs are.
    type: path
    default: /etc/supervisor/conf.d
  install_dir:
    description: Where each hauser version is installed, in a directory of its own; with it, the
      versions installed are returned.
    type: path
attributes:
  check_mode:
    description: Reads only, so it runs in check mode too.
    support: full
  diff_mode:
    description: Changes nothing, so there is nothing to show.
    support: none
"""

EXAMPLES = r"""
- name: Read what the host has
  hauser.multi_hauser.multi_hauser_probe:
    paths:
      - {path: /opt/multi-hauser/1.5.1/hauser, owner: root, group: root, mode: "0755"}
    packages: [supervisor]
    service: supervisor
  register: probe
"""

RETURN = r"""
architecture:
  description: The machine's architecture, as C(uname -m) says.
  type: str
  returned: always
differ:
  description: The given paths that do not exist or differ from what they should be.
  type: list
  elements: str
  returned: always
missing_packages:
  description: The given packages that are not installed.
  type: list
  elements: str
  returned: always
user_differs:
  description: Whether the service user or its group is missing or not as given.
  type: bool
  returned: always
service:
  description: The service's C(active) and C(enabled) state, as systemctl reports them.
  type: dict
  returned: when a service is given
programs:
  description: Org id to the ExportDelay of its config (or null), for every org program the host has.
  type: dict
  returned: always
versions:
  description: The hauser versions installed in O(install_dir), the most recently installed first.
  type: list
  elements: str
  returned: when O(install_dir) is given
"""

import grp
import hashlib
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.files import OrgFiles, describe
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import PROGRAM_DIR, Layout

_TYPES = {"file": stat.S_ISREG, "directory": stat.S_ISDIR, "link": stat.S_ISLNK}


def _uid(name):
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


def _gid(name):
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def path_differs(expected):
    path = expected["path"]
    try:
        info = os.lstat(path)
    except OSError:
        return expected["state"] != "absent"
    if expected["state"] == "absent":
        return True
    if not _TYPES[expected["state"]](info.st_mode):
        return True
    if expected.get("owner") and info.st_uid != _uid(expected["owner"]):
        return True
    if expected.get("group") and info.st_gid != _gid(expected["group"]):
        return True
    if expected["state"] != "link" and expected.get("mode") and info.st_mode & 0o7777 != int(expected["mode"], 8):
        return True
    if expected["state"] == "link":
        return bool(expected.get("src")) and os.readlink(path) != expected["src"]
    if expected["state"] == "file" and expected.get("sha256"):
        return _sha256(path) != expected["sha256"].lower()
    return False


def user_differs(expected):
    try:
        account = pwd.getpwnam(expected["name"])
        group = grp.getgrnam(expected["group"])
    except KeyError:
        return True
    return (account.pw_gid, account.pw_dir, account.pw_shell) != (group.gr_gid, expected["home"], expected["shell"])


def installed_versions(install_dir):
    """The versions installed in install_dir (each a directory of its own, links not counted),
    the most recently installed first."""
    try:
        names = os.listdir(install_dir)
    except OSError:
        return []
    found = []
    for name in names:
        try:
            info = os.lstat(os.path.join(install_dir, name))
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode):
            found.append((info.st_mtime, name))
    return [name for _mtime, name in sorted(found, reverse=True)]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                state=dict(type="str", default="file", choices=["file", "directory", "link", "absent"]),
                owner=dict(type="str"),
                group=dict(type="str"),
                mode=dict(type="str"),
                sha256=dict(type="str", no_log=True),
                src=dict(type="str"),
            )),
            packages=dict(type="list", elements="str", default=[]),
            user=dict(type="dict", options=dict(
                name=dict(type="str", required=True),
                group=dict(type="str", required=True),
                home=dict(type="str", required=True),
                shell=dict(type="str", required=True),
            )),
            service=dict(type="str"),
            base_dir=dict(type="path", default="/var/lib/multi-hauser"),
            program_dir=dict(type="path", default=PROGRAM_DIR),
            install_dir=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    result = dict(changed=False, architecture=os.uname()[4])
    result["differ"] = [expected["path"] for expected in params["paths"] if path_differs(expected)]
    missing = []
    if params["packages"]:
        dpkg = ["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\n"]
        _rc, out, _err = module.run_command(dpkg + params["packages"])
        installed = set(line.split()[0] for line in out.splitlines() if line.endswith(" installed"))
        missing = [name for name in params["packages"] if name not in installed]
    result["missing_packages"] = missing
    result["user_differs"] = user_differs(params["user"]) if params["user"] else False
    if params["service"]:
        states = {}
        for query in ("is-active", "is-enabled"):
            _rc, out, _err = module.run_command(["systemctl", query, params["service"]])
            states[query[3:]] = out.strip() or "unknown"
        result["service"] = states
    files = OrgFiles(Layout(params["base_dir"], params["program_dir"]), -1, -1, check=True)
    try:
        result["programs"] = dict((org_id, files.export_delay(org_id)) for org_id in files.managed_programs())
    except OSError as error:
        module.fail_json(msg=describe(error))
    if params["install_dir"]:
        result["versions"] = installed_versions(params["install_dir"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
