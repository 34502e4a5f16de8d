"""Build the hauser stand-in's release files, laid out like a hauser release on GitHub:

    hauser_<version>_linux_x86_64.tar.gz   holding `hauser` (a Python zipapp) and `LICENSE`
    hauser_<version>_checksums.txt         `<sha256>  <file name>` lines

The bytes depend only on the sources, the version and the kind of breakage (fixed times, owners
and order), so the checksums stay the same from build to build.

    python3 tests/hauser_standin/build.py --version 1.5.0 --version 1.5.1 --out DIR
    python3 tests/hauser_standin/build.py --broken 1.6.1=version --broken 1.6.2=start --out DIR

--version VERSION builds a good release (repeatable). --broken VERSION=KIND (repeatable) builds a
release that is deliberately broken, for rollback tests, packaged exactly like a good one (its
archive and a checksums file that matches it). KIND is one of:

    version         `hauser -version` (and any other run) fails at once as a program whose
                    shared library is missing does: "<path>: error while loading shared
                    libraries: libresolv.so.2: cannot open shared object file: No such file or
                    directory", exit status 127
    wrong-version   `hauser -version` prints "hauser dev build <no version set>" (hauser built
                    without its version) and exits 0; it runs like a good release otherwise
    start           `hauser -version` prints "hauser VERSION"; a run loads its config (and logs
                    what config.Load logs), then exits 1 with the log.Fatal line "stand-in:
                    release VERSION is built broken: it exits at start"
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
GO_DURATION = HERE.parents[1] / "plugins" / "module_utils" / "core" / "durations.py"  # carried as go_duration.py
# hauser 1.5.1's release day; an archive dated 1970 makes GNU tar warn.
RELEASE_TIME = 1710892800
SHEBANG = b"#!/usr/bin/env python3\n"
LICENSE = """\
hauser test stand-in

This archive comes from the tests of the hauser.multi_hauser Ansible collection. Its `hauser`
is a test stand-in for FullStory's hauser, NOT FullStory's hauser, and holds none of its code:
it checks a hauser config as hauser 1.5.1 does, then runs hauser's export loop against a
FullStory API on loopback: it never contacts any other host.

Copyright (c) 2026, multi_hauser contributors
GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""


def archive_name(version):
    return "hauser_%s_linux_x86_64.tar.gz" % version


def checksums_name(version):
    return "hauser_%s_checksums.txt" % version


BROKEN_KINDS = ("version", "wrong-version", "start")


def build_release(version, out_dir, broken=None):
    """Write the release files of version into out_dir, built broken the way broken says (one
    of BROKEN_KINDS) if it says; return their paths."""
    if broken is not None and broken not in BROKEN_KINDS:
        raise ValueError("not a kind of broken release: %r" % broken)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    program = zipapp(version, broken)
    archive = _tar_gz([("hauser", 0o755, program), ("LICENSE", 0o644, LICENSE.encode())])
    checksums = "%s  %s\n" % (hashlib.sha256(archive).hexdigest(), archive_name(version))
    archive_path = _write(out_dir / archive_name(version), archive)
    checksums_path = _write(out_dir / checksums_name(version), checksums.encode())
    return archive_path, checksums_path


def zipapp(version, broken=None):
    """The stand-in program: a shebang line, then a zip of its modules."""
    files = {path.relative_to(APP_DIR).as_posix(): path.read_bytes()
             for path in APP_DIR.rglob("*.py")}
    files["go_duration.py"] = GO_DURATION.read_bytes()
    build_info = "VERSION = %r\n" % version
    if broken is not None:
        build_info += "BROKEN = %r\n" % broken
    files["standin/build_info.py"] = build_info.encode()
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


def _broken(text):
    version, equals, kind = text.partition("=")
    if not equals or kind not in BROKEN_KINDS:
        raise argparse.ArgumentTypeError("not VERSION=KIND with KIND one of %s: %r"
                                         % (", ".join(BROKEN_KINDS), text))
    return _version(version), kind


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--version", dest="versions", action="append", type=_version,
                        default=[], help="hauser version to build (repeatable)")
    parser.add_argument("--broken", action="append", type=_broken, default=[],
                        metavar="VERSION=KIND",
                        help="version to build broken on purpose: KIND is %s (repeatable)"
                        % ", ".join(BROKEN_KINDS))
    parser.add_argument("--out", required=True, type=Path, help="directory to write into")
    args = parser.parse_args(argv)
    if not args.versions and not args.broken:
        parser.error("give at least one --version or --broken")
    builds = [(version, None) for version in args.versions] + args.broken
    if len({build[0] for build in builds}) < len(builds):
        parser.error("each version may be built once")
    for version, broken in builds:
        for path in build_release(version, args.out, broken):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
