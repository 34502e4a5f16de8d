"""Build the hauser stand-in's release files, laid out like a hauser release on GitHub:

    hauser_<version>_linux_x86_64.tar.gz   holding `hauser` (a Python zipapp) and `LICENSE`
    hauser_<version>_checksums.txt         `<sha256>  <file name>` lines

The bytes depend only on the sources and the version (fixed times, owners and order), so the
checksums stay the same from build to build.

    python3 tests/hauser_standin/build.py --version 1.5.0 --version 1.5.1 --out DIR
"""

import argparse
import gzip
import hashlib
import io
import os
import re
import sys
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP_DIR = HERE / "app"
GO_DURATION = HERE.parents[1] / "plugins" / "module_utils" / "go_duration.py"
# hauser 1.5.1's release day; an archive dated 1970 makes GNU tar warn.
RELEASE_TIME = 1710892800
SHEBANG = b"#!/usr/bin/env python3\n"
LICENSE = """\
hauser test stand-in

This archive comes from the tests of the hauser.multi_hauser Ansible collection. Its `hauser`
is a test stand-in for FullStory's hauser, NOT FullStory's hauser, and holds none of its code:
it checks a hauser config as hauser 1.5.1 does, then waits for a signal. It exports nothing.

Copyright (c) 2026, multi_hauser contributors
GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""


def archive_name(version):
    return "hauser_%s_linux_x86_64.tar.gz" % version


def checksums_name(version):
    return "hauser_%s_checksums.txt" % version


def build_release(version, out_dir):
    """Write the release files of version into out_dir; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = _tar_gz([("hauser", 0o755, zipapp(version)), ("LICENSE", 0o644, LICENSE.encode())])
    checksums = "%s  %s\n" % (hashlib.sha256(archive).hexdigest(), archive_name(version))
    archive_path = _write(out_dir / archive_name(version), archive)
    checksums_path = _write(out_dir / checksums_name(version), checksums.encode())
    return archive_path, checksums_path


def zipapp(version):
    """The stand-in program: a shebang line, then a zip of its modules."""
    files = {path.relative_to(APP_DIR).as_posix(): path.read_bytes()
             for path in APP_DIR.rglob("*.py")}
    files["go_duration.py"] = GO_DURATION.read_bytes()
    files["standin/build_info.py"] = ("VERSION = %r\n" % version).encode()
    buffer = io.BytesIO()
    buffer.write(SHEBANG)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(2024, 3, 20, 0, 0, 0))
            info.create_system = 3  # Unix, whatever the building platform
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def _tar_gz(members):
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, mode, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, RELEASE_TIME
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    gz_buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz_buffer, mtime=0) as gz:
        gz.write(tar_buffer.getvalue())
    return gz_buffer.getvalue()


def _write(path, data):
    """Replace path at once, so that a server never hands out half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)
    return path


def _version(text):
    if not re.fullmatch(r"\d+\.\d+\.\d+", text):
        raise argparse.ArgumentTypeError("not a version like 1.5.1: %r" % text)
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--version", dest="versions", action="append", type=_version,
                        required=True, help="hauser version to build (repeatable)")
    parser.add_argument("--out", required=True, type=Path, help="directory to write into")
    args = parser.parse_args(argv)
    for version in args.versions:
        for path in build_release(version, args.out):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
