# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each org's files on disk: written as rendered, compared with what was there, removed.

One implementation for the module that keeps a VM's orgs in step and for the image's entrypoint.

Root never acts through a path that a less privileged user could have changed. The layout gives
that user (hauser) no directory above root's files: an org's directory is root:<group> 0750 and
holds its config.toml (root:<group> 0640, it holds the key); only the org's tmp/ and save
directory are <user>:<group> 0750, and root writes nothing in them. And below each of the
deployment's directories (the base, program and save directories, each checked to be root's and
writable by root alone), every operation goes through an open directory, without following a
link: a link or a file of another owner where one of ours should be is replaced, never followed,
read or shown. An org directory of the older layout (owned by the hauser user) is taken over in
place, its entries then checked one by one.

Every write goes to a new file beside the old one, renamed over it, so that supervisord or hauser
never read half a file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import errno
import os
import posixpath
import re
import stat

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import CONFIG_NAME, MARKER
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.secrets import mask_config, mask_values

CONFIG_MODE = 0o640
PROGRAM_MODE = 0o600  # read by supervisord, as root, alone: it may hold secret environment variables
ORG_DIR_MODE = 0o750
DIR_MODE = 0o750
# A config or program file is a few kilobytes; anything much larger is not one of ours.
MAX_FILE_BYTES = 1 << 20

EXPORT_DELAY = re.compile(r'^\s*ExportDelay\s*=\s*"([^"]*)"', re.IGNORECASE | re.MULTILINE)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
NOT_OURS = object()  # what read() returns for a link, a directory or a file of several links


class UnsafePathError(OSError):
    """A directory of the deployment that a user other than root could change, or a directory
    where a file of ours should be."""


def describe(error):
    """What to say of an OSError of this module: its message, naming the path."""
    if isinstance(error, UnsafePathError):
        return error.strerror
    return "%s: %s" % (error.filename, error.strerror) if error.filename else str(error)


def check_trusted(path):
    """Fails (UnsafePathError) unless path and each directory above it are root's and no one else
    may rename their entries: owned by root, and not writable by group or others unless sticky
    (/tmp). Links on the way are followed: the configured directories are the operator's."""
    real = os.path.realpath(path)
    current = real
    while True:
        info = os.stat(current)
        writable = info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX
        if info.st_uid != 0 or writable:
            raise UnsafePathError(errno.EPERM, "%s (on the way to %s) is not owned by root, or others may write "
                                               "in it: root will not manage files under it" % (current, path))
        if current == "/":
            return real
        current = os.path.dirname(current)


class Dir(object):
    """An open directory, and what root does in it by name, never following a link."""

    def __init__(self, fd, path):
        self.fd = fd
        self.path = path

    @classmethod
    def trusted(cls, path):
        """A deployment directory that check_trusted() accepts."""
        check_trusted(path)
        return cls(os.open(path, _DIR_FLAGS & ~os.O_NOFOLLOW), path)

    def close(self):
        os.close(self.fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def join(self, name):
        return posixpath.join(self.path, name)

    def lstat(self, name):
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except OSError as error:
            if error.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise

    def names(self):
        return os.listdir(self.fd)

    def read(self, name):
        """The text of a regular file (one link to it, of a sane size), None when there is none,
        NOT_OURS for anything else: a link is not followed, a directory, a device or a file of
        several links not read."""
        try:
            fd = os.open(name, _READ_FLAGS, dir_fd=self.fd)
        except OSError as error:
            if error.errno == errno.ENOENT:
                return None
            if error.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
                return NOT_OURS
            raise
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_size > MAX_FILE_BYTES:
                return NOT_OURS
            data = b""
            while len(data) <= MAX_FILE_BYTES:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(fd)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return NOT_OURS

    def write(self, name, content, uid, gid, mode):
        """A new file beside the entry, with its final owner and mode, renamed over the entry
        (which, a link or not, is replaced and never followed)."""
        temp = ".multi-hauser-%s" % binascii.hexlify(os.urandom(8)).decode("ascii")
        fd = os.open(temp, _CREATE_FLAGS, 0o600, dir_fd=self.fd)
        try:
            os.fchown(fd, uid, gid)
            os.fchmod(fd, mode)
            data = content.encode("utf-8")
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(temp, dir_fd=self.fd)
            raise
        os.close(fd)
        try:
            os.rename(temp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except OSError as error:
            os.unlink(temp, dir_fd=self.fd)
            if error.errno in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST):  # a directory planted there
                raise self.directory_in_the_way(name, error.errno)
            raise

    def directory_in_the_way(self, name, number=errno.EISDIR):
        return UnsafePathError(number, "%s is a directory, where a file of ours should be: remove it" % self.join(name))

    def set_attrs(self, name, uid, gid, mode):
        """Owner and mode of a regular file, through a descriptor opened without following a link.
        Returns whether they changed."""
        fd = os.open(name, _READ_FLAGS, dir_fd=self.fd)
        try:
            return _fix(fd, uid, gid, mode)
        finally:
            os.close(fd)

    def unlink(self, name):
        try:
            os.unlink(name, dir_fd=self.fd)
        except OSError as error:
            if error.errno != errno.ENOENT:
                raise

    def subdir(self, name, uid, gid, mode, check=False):
        """(Dir, what changed) for the directory name in this one, with that owner and mode:
        made if missing; a link or a file there is removed first (never followed). In check
        mode nothing changes, and the Dir is None if the directory does not exist yet."""
        info = self.lstat(name)
        changed = []
        if info is not None and not stat.S_ISDIR(info.st_mode):
            changed.append("replaced")  # a link, or another kind of file
            if not check:
                os.unlink(name, dir_fd=self.fd)
            info = None
        if info is None:
            changed.append("created")
            if check:
                return None, changed
            os.mkdir(name, 0o700, dir_fd=self.fd)
        fd = os.open(name, _DIR_FLAGS, dir_fd=self.fd)
        sub = Dir(fd, self.join(name))
        if check:
            info = os.fstat(fd)
            if (info.st_uid, info.st_gid, info.st_mode & 0o7777) != (uid, gid, mode):
                changed.append("attributes")
        elif _fix(fd, uid, gid, mode):
            changed.append("attributes")
        return sub, changed


def _fix(fd, uid, gid, mode):
    info = os.fstat(fd)
    changed = False
    if (info.st_uid, info.st_gid) != (uid, gid):
        os.fchown(fd, uid, gid)
        changed = True
    if info.st_mode & 0o7777 != mode:
        os.fchmod(fd, mode)
        changed = True
    return changed


class OrgChange(object):
    """What syncing one org's files changed."""

    def __init__(self, org_id, new, program_changed, config_changed):
        self.org_id = org_id
        self.new = new
        self.program_changed = program_changed
        self.config_changed = config_changed


class OrgFiles(object):
    """The org files of one layout on this machine; the org's own directories owned by uid:gid.
    In check mode, nothing is written; diffs say what would change, with the secret config keys
    and the values of secrets masked."""

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

    def _root(self, path, create=False):
        """A deployment directory, or None when it does not exist (a fresh host, in check mode).
        With create, a missing one is made, root:<group> 0750, in a parent check_trusted() accepts."""
        try:
            return Dir.trusted(path)
        except OSError as error:
            if error.errno != errno.ENOENT:
                raise
        if self.check:
            # What the run would do: make it in the nearest directory there is, if that is trusted.
            parent = posixpath.dirname(path.rstrip("/")) or "/"
            while not os.path.lexists(parent):
                parent = posixpath.dirname(parent)
            check_trusted(parent)
            return None
        if not create:
            return None
        with Dir.trusted(posixpath.dirname(path.rstrip("/")) or "/") as parent:
            directory, _changed = parent.subdir(posixpath.basename(path.rstrip("/")), 0, self.gid, ORG_DIR_MODE)
        self.attrs_changed = True
        return directory

    def managed_programs(self):
        """org id -> program file, for every program file of the layout that holds the MARKER."""
        found = {}
        programs = self._root(self.layout.program_dir)
        if programs is None:
            return found
        with programs:
            for name in programs.names():
                org_id = self.layout.org_of_program_file(name)
                if org_id:
                    text = programs.read(name)
                    if text is not None and text is not NOT_OURS and MARKER in text:
                        found[org_id] = programs.join(name)
        return found

    def program_text(self, org_id):
        """The org's program file, or None: never through a link, never a file not ours."""
        with _Closing(self._root(self.layout.program_dir)) as programs:
            text = programs.read(self.layout.program_file_name(org_id)) if programs is not None else None
        return text if isinstance(text, str) else None

    def config_text(self, org_id):
        """The org's config.toml, or None: never through a link, never a file not root's."""
        base = self._root(self.layout.base_dir)
        if base is None:
            return None
        with base:
            try:
                fd = os.open(org_id, _DIR_FLAGS, dir_fd=base.fd)
            except OSError:
                return None
            with Dir(fd, base.join(org_id)) as org_dir:
                text = org_dir.read(CONFIG_NAME)
        return text if isinstance(text, str) else None

    def export_delay(self, org_id):
        """The ExportDelay of the org's config.toml, or None when unreadable or absent."""
        match = EXPORT_DELAY.search(self.config_text(org_id) or "")
        return match.group(1) if match else None

    def sync(self, org, existing):
        """Writes one org's directories, config and program (a record with org_id, dirs, config
        and program); existing: whether it had a program before. Returns an OrgChange."""
        org_id = org["org_id"]
        org_path = self.layout.org_dir(org_id)
        base = self._root(self.layout.base_dir, create=True)
        with _Closing(base):
            if base is not None:
                org_dir = self._subdir(base, org_id, 0, self.gid, ORG_DIR_MODE)
            else:  # check mode on a fresh host
                org_dir = None
                self._note_missing(org_path)
            with _Closing(org_dir):
                for path in org.get("dirs") or ():
                    self._sync_org_owned_dir(path, org_path, org_dir)
                config_changed = self._sync_file(org_dir, org_path, CONFIG_NAME, org["config"], 0, self.gid,
                                                 CONFIG_MODE)
        with _Closing(self._root(self.layout.program_dir, create=True)) as programs:
            program_changed = self._sync_file(programs, self.layout.program_dir,
                                              self.layout.program_file_name(org_id), org["program"], 0, 0,
                                              PROGRAM_MODE)
        return OrgChange(org_id, not existing, program_changed, config_changed)

    def remove(self, org_id, program_path):
        """Removes an org's program and its config (which holds a key); its directories stay."""
        with _Closing(self._root(self.layout.program_dir)) as programs:
            name = posixpath.basename(program_path)
            before = programs.read(name) if programs else None
            self.diff.append({"before_header": program_path, "after_header": program_path,
                              "before": self.mask(before) if isinstance(before, str) else "", "after": ""})
            if self.check or programs is None:
                return
            programs.unlink(name)
        base = self._root(self.layout.base_dir)
        with _Closing(base):
            try:
                fd = os.open(org_id, _DIR_FLAGS, dir_fd=base.fd)
            except OSError:
                return  # no directory, or not one (not ours to follow)
            with Dir(fd, base.join(org_id)) as org_dir:
                org_dir.unlink(CONFIG_NAME)

    def sync_root_file(self, directory_path, name, content, mode):
        """A file of root's (not an org's) in a deployment directory: written when its content
        differs (diffed, masked), its owner and mode kept. Returns whether the content changed."""
        directory = self._root(directory_path, create=True)
        with _Closing(directory):
            return self._sync_file(directory, directory_path, name, content, 0, 0, mode)

    def remove_root_file(self, directory_path, name):
        """Removes such a file. Returns whether there was one."""
        with _Closing(self._root(directory_path)) as directory:
            current = directory.read(name) if directory is not None else None
            if current is None:
                return False
            path = directory.join(name)
            self.diff.append({"before_header": path, "after_header": path,
                              "before": self.mask(current) if isinstance(current, str) else "", "after": ""})
            if not self.check:
                directory.unlink(name)
            return True

    def _subdir(self, parent, name, uid, gid, mode):
        sub, changed = parent.subdir(name, uid, gid, mode, check=self.check)
        if changed:
            self.attrs_changed = True
            path = parent.join(name)
            if "created" in changed:
                self.diff.append({"before_header": path, "after_header": path,
                                  "before": {"path": path, "state": "absent" if "replaced" not in changed
                                             else "not a directory (replaced, not followed)"},
                                  "after": {"path": path, "state": "directory"}})
        return sub

    def _sync_org_owned_dir(self, path, org_path, org_dir):
        """One of the org's own directories, <user>:<group>: in its org directory (tmp/), or the
        child of another deployment directory (its save directory)."""
        parent_path, name = posixpath.split(path)
        if parent_path == org_path:
            if org_dir is not None:
                with _Closing(self._subdir(org_dir, name, self.uid, self.gid, DIR_MODE)):
                    pass
            elif self.check:
                self._note_missing(path)
            return
        parent = self._root(parent_path, create=True)
        if parent is None:  # check mode
            self._note_missing(path)
            return
        with parent:
            with _Closing(self._subdir(parent, name, self.uid, self.gid, DIR_MODE)):
                pass

    def _note_missing(self, path):
        self.attrs_changed = True
        self.diff.append({"before_header": path, "after_header": path,
                          "before": {"path": path, "state": "absent"}, "after": {"path": path, "state": "directory"}})

    def _sync_file(self, directory, directory_path, name, content, uid, gid, mode):
        """Returns True when the content changed (the org must restart)."""
        path = posixpath.join(directory_path, name)
        current = directory.read(name) if directory is not None else None
        if current is NOT_OURS or current != content:
            foreign = current is NOT_OURS
            if foreign and self.check:  # what the run would refuse, check mode refuses
                info = directory.lstat(name)
                if info is not None and stat.S_ISDIR(info.st_mode):
                    raise directory.directory_in_the_way(name)
            before = "" if foreign or current is None else self.mask(current)
            after = self.mask(content)
            self.diff.append({
                "before_header": path + " (not a file of ours: replaced, not read)" if foreign
                else path if current is not None else "/dev/null",
                "after_header": path if before != after or foreign else path + " (a secret changed; not shown)",
                "before": before,
                "after": after,
            })
            if not self.check:
                directory.write(name, content, uid, gid, mode)
            return True
        if not self.check:
            if directory.set_attrs(name, uid, gid, mode):
                self.attrs_changed = True
        else:
            info = directory.lstat(name)
            if (info.st_uid, info.st_gid, info.st_mode & 0o7777) != (uid, gid, mode):
                self.attrs_changed = True
        return False


def sync_all(files, existing, records):
    """files.sync() of each record, after the same pass in check mode: what would stop the run
    (a directory others may change, a directory where a file of ours goes) stops it before any
    file changes. Returns the OrgChange of each record."""
    if not files.check:
        rehearsal = OrgFiles(files.layout, files.uid, files.gid, check=True)
        for record in records:
            rehearsal.sync(record, record["org_id"] in existing)
    return [files.sync(record, record["org_id"] in existing) for record in records]


class _Closing(object):
    """with _Closing(dir_or_none) as d: closes a Dir, if there is one."""

    def __init__(self, directory):
        self.directory = directory

    def __enter__(self):
        return self.directory

    def __exit__(self, *exc):
        if self.directory is not None:
            self.directory.close()


def write_atomically(path, content, uid, gid, mode):
    """A file in a deployment directory (check_trusted), written as Dir.write does."""
    with Dir.trusted(posixpath.dirname(path)) as directory:
        directory.write(posixpath.basename(path), content, uid, gid, mode)
