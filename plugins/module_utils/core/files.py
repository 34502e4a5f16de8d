# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each org's files on disk: written as rendered, compared with what was there, removed.

One implementation for the module that keeps a VM's orgs in step and for the image's entrypoint.
Configs are root:<group> 0640 (they hold the key), program files root 0644, the org's
directories <user>:<group> 0750. Every write goes to a new file beside the old one, renamed over
it, so that supervisord or hauser never read half a file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import tempfile

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import MARKER
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.secrets import mask_config, mask_values

CONFIG_MODE = 0o640
PROGRAM_MODE = 0o644
DIR_MODE = 0o750

_EXPORT_DELAY = re.compile(r'^\s*ExportDelay\s*=\s*"([^"]*)"', re.IGNORECASE | re.MULTILINE)


def read_text(path):
    """The file's text, or None when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8")
    except (IOError, OSError, UnicodeDecodeError):
        return None


def write_atomically(path, content, uid, gid, mode):
    """Write a new file beside the old one with its final owner and mode, then rename it."""
    handle, temp_path = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".multi-hauser-")
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


def _attrs_differ(path, uid, gid, mode):
    try:
        stat = os.lstat(path)
    except OSError:
        return True
    return (stat.st_uid, stat.st_gid, stat.st_mode & 0o7777) != (uid, gid, mode)


class OrgChange(object):
    """What syncing one org's files changed."""

    def __init__(self, org_id, new, program_changed, config_changed):
        self.org_id = org_id
        self.new = new
        self.program_changed = program_changed
        self.config_changed = config_changed


class OrgFiles(object):
    """The org files of one layout on this machine, owned by uid:gid. In check mode, nothing is
    written; diffs say what would change, with the secret config keys and the values of secrets
    masked."""

    def __init__(self, layout, uid, gid, check=False, secrets=()):
        self.layout = layout
        self.uid = uid
        self.gid = gid
        self.check = check
        self.secrets = sorted(secrets, key=len, reverse=True)
        self.diff = []
        self.attrs_changed = False

    def mask(self, text):
        return mask_values(mask_config(text or ""), self.secrets)

    def managed_programs(self):
        """org id -> program file, for every program file of the layout that holds the MARKER."""
        found = {}
        try:
            names = os.listdir(self.layout.program_dir)
        except OSError:
            return found
        for name in names:
            org_id = self.layout.org_of_program_file(name)
            if org_id:
                path = os.path.join(self.layout.program_dir, name)
                if MARKER in (read_text(path) or ""):
                    found[org_id] = path
        return found

    def export_delay(self, org_id):
        """The ExportDelay of the org's config.toml, or None when unreadable or absent."""
        match = _EXPORT_DELAY.search(read_text(self.layout.config_path(org_id)) or "")
        return match.group(1) if match else None

    def sync(self, org, existing):
        """Writes one org's directories, config and program (a record with org_id, dirs, config
        and program); existing: whether it had a program before. Returns an OrgChange."""
        org_id = org["org_id"]
        for path in [self.layout.org_dir(org_id)] + list(org.get("dirs") or ()):
            self._sync_dir(path)
        config_changed = self._sync_file(self.layout.config_path(org_id), org["config"], 0, self.gid, CONFIG_MODE)
        program_changed = self._sync_file(self.layout.program_path(org_id), org["program"], 0, 0, PROGRAM_MODE)
        return OrgChange(org_id, not existing, program_changed, config_changed)

    def remove(self, org_id, program_path):
        """Removes an org's program and its config (which holds a key); its directories stay."""
        self.diff.append({"before_header": program_path, "after_header": program_path,
                          "before": self.mask(read_text(program_path)), "after": ""})
        if self.check:
            return
        os.unlink(program_path)
        config = self.layout.config_path(org_id)
        if os.path.exists(config):
            os.unlink(config)

    def _sync_file(self, path, content, uid, gid, mode):
        """Returns True when the content changed (the org must restart)."""
        current = read_text(path)
        if current != content:
            before, after = self.mask(current), self.mask(content)
            self.diff.append({
                "before_header": path if current is not None else "/dev/null",
                "after_header": path if before != after else path + " (a secret changed; not shown)",
                "before": before,
                "after": after,
            })
            if not self.check:
                write_atomically(path, content, uid, gid, mode)
            return True
        if _attrs_differ(path, uid, gid, mode):
            self.attrs_changed = True
            if not self.check:
                os.chown(path, uid, gid)
                os.chmod(path, mode)
        return False

    def _sync_dir(self, path):
        if os.path.isdir(path) and not _attrs_differ(path, self.uid, self.gid, DIR_MODE):
            return
        self.attrs_changed = True
        if not os.path.isdir(path):
            self.diff.append({"before_header": path, "after_header": path,
                              "before": {"path": path, "state": "absent"},
                              "after": {"path": path, "state": "directory"}})
        if not self.check:
            if not os.path.isdir(path):
                os.makedirs(path, DIR_MODE)
            os.chown(path, self.uid, self.gid)
            os.chmod(path, DIR_MODE)
