# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of hauser.multi_hauser.multi_hauser_release (documented in plugins/modules/)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import re
import shutil
import tarfile
import tempfile

from ansible.module_utils.urls import open_url
from ansible.plugins.action import ActionBase

from ansible_collections.hauser.multi_hauser.plugins.plugin_utils.plain import plain

_CHUNK = 1 << 20


class ReleaseError(Exception):
    pass


class ActionModule(ActionBase):
    """Fetches the hauser release once into the controller's cache, verifies it, unpacks hauser."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("version", "download_url", "archive", "archive_sha256", "cache_dir", "timeout"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = plain(self._task.args)
        try:
            binary, downloaded = fetch(
                version=args["version"], download_url=args.get("download_url") or "",
                archive=args.get("archive") or "", archive_sha256=(args.get("archive_sha256") or "").lower(),
                cache_dir=os.path.expanduser(args["cache_dir"]), timeout=int(args.get("timeout") or 60))
        except ReleaseError as error:
            result.update(failed=True, msg=str(error))
            return result
        result.update(changed=bool(downloaded), binary=binary, sha256=sha256_of(binary), downloaded=downloaded)
        return result


def asset_names(version):
    return "hauser_%s_linux_x86_64.tar.gz" % version, "hauser_%s_checksums.txt" % version


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(version, download_url, archive, archive_sha256, cache_dir, timeout):
    """(path of the unpacked hauser, [files downloaded]). A release is downloaded once per version
    and checked against its checksums file (or archive_sha256); a given archive is only checked."""
    asset, checksums = asset_names(version)
    version_dir = os.path.join(cache_dir, version)
    _makedirs(version_dir)
    downloaded = []
    expected = archive_sha256
    if not archive and not expected:
        checksums_path = os.path.join(version_dir, checksums)
        if not os.path.isfile(checksums_path):
            _download("Download the release's checksums", download_url.rstrip("/") + "/" + checksums, checksums_path,
                      timeout)
            downloaded.append(checksums)
        with open(checksums_path) as handle:
            found = re.findall(r"(?m)^([0-9a-f]{64})\s+\*?%s$" % re.escape(asset), handle.read())
        expected = found[0] if found else ""
    if (archive_sha256 or not archive) and not re.match(r"^[0-9a-f]{64}$", expected):
        raise ReleaseError("%s has no SHA-256 for %s (or multi_hauser_archive_sha256 is not 64 hex digits)"
                           % (checksums, asset))
    if archive:
        if not os.path.isfile(archive) or (expected and sha256_of(archive) != expected):
            raise ReleaseError("multi_hauser_archive (%s) does not exist on the controller, or its SHA-256 is "
                               "not multi_hauser_archive_sha256" % archive)
        archive_path = archive
    else:
        archive_path = os.path.join(version_dir, asset)
        if not os.path.isfile(archive_path) or sha256_of(archive_path) != expected:
            _download("Download the release archive", download_url.rstrip("/") + "/" + asset, archive_path, timeout)
            downloaded.append(asset)
            if sha256_of(archive_path) != expected:
                os.unlink(archive_path)
                raise ReleaseError("%s from %s does not have the SHA-256 that %s gives" % (asset, download_url, checksums))
    # One directory per archive content, so that a different archive of the same version is never
    # mistaken for the one unpacked before.
    binary = os.path.join(version_dir, sha256_of(archive_path)[:16], "hauser")
    if not os.path.isfile(binary):
        _unpack_hauser(archive_path, binary)
    return binary, downloaded


def _makedirs(path):
    if not os.path.isdir(path):
        os.makedirs(path, 0o755)


def _download(step, url, path, timeout):
    """url saved at path, replacing it at once when complete; a failure is said as the step's."""
    handle, temp_path = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".download-")
    try:
        with os.fdopen(handle, "wb") as out:
            response = open_url(url, timeout=timeout)
            shutil.copyfileobj(response, out, _CHUNK)
        os.chmod(temp_path, 0o644)
        os.rename(temp_path, path)
    except Exception as error:  # pylint: disable=broad-except  # any failure of the download is reported
        if os.path.exists(temp_path):
            os.unlink(temp_path)
        raise ReleaseError("%s: cannot download %s: %s" % (step, url, error))


def _unpack_hauser(archive_path, binary):
    """Only the member named hauser, a regular file, is extracted, whatever else the archive holds."""
    _makedirs(os.path.dirname(binary))
    try:
        with tarfile.open(archive_path, "r:gz") as tar:
            member = tar.getmember("hauser")
            if not member.isfile():
                raise ReleaseError("%s: hauser is not a regular file" % archive_path)
            source = tar.extractfile(member)
            handle, temp_path = tempfile.mkstemp(dir=os.path.dirname(binary), prefix=".unpack-")
            with os.fdopen(handle, "wb") as out:
                shutil.copyfileobj(source, out, _CHUNK)
            os.chmod(temp_path, 0o755)
            os.rename(temp_path, binary)
    except (tarfile.TarError, KeyError, OSError) as error:
        raise ReleaseError("cannot unpack hauser from %s: %s" % (archive_path, error))
