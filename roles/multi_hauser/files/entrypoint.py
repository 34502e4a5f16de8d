# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The container image's entrypoint: key file -> orgs -> each org's files -> supervisord as PID 1.

    python3 entrypoint.py [KEYFILE]        (default: $MULTI_HAUSER_KEYFILE or /secrets/keys.csv)

The collection's module_utils/core package lies beside this file, under the path the controller
imports it from: the same code parses the key file, staggers the delays, renders the templates
and writes the files as the collection does for a VM. The image's build-time settings are
defaults; each setting of IMAGE_SETTINGS can be overridden by an environment variable
MULTI_HAUSER_<SETTING>. Bad input exits with status 2 before any hauser starts, naming the
variable, or the file and line, and never showing a key.
"""

from __future__ import absolute_import, division, print_function

import grp
import json
import os
import pwd
import sys

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.config import ConfigError
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.files import (
    Dir,
    OrgFiles,
    describe,
    sync_all,
    write_atomically,
)
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import MARKER, SERVER_CONFIG_NAME
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.monitoring import (
    config_text,
    monitor_config,
    server_config,
)
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.orgs import KeyFileError, parse_keyfile, read_keyfile
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.render import layout_of, render_org_files
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.settings import (
    IMAGE_NAMING,
    IMAGE_SETTINGS,
    SettingsError,
    check_required,
    convert,
)
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.stagger import StaggerError, stagger_delays

SHARE_DIR = "/usr/local/share/multi-hauser"
DEFAULT_KEYFILE = "/secrets/keys.csv"
# Every org's program in one supervisord group: supervisord stops its groups one after another,
# about a second apart, so with a group per program docker stop would take a second per org and
# end in SIGKILL (exit 137) past 10 s; the programs of one group are stopped all at once. Org
# ids hold no ".", so no org's program file can have this name.
GROUP = "orgs"
GROUP_FILE = "orgs.group.conf"


# supervisord's log levels: it reads SUPERVISORD_LOGLEVEL into its config (loglevel=).
LOG_LEVELS = ("critical", "error", "warn", "info", "debug", "trace", "blather")


class StartError(Exception):
    """Bad input: reported in one line, exit status 2, before anything starts."""


def load_settings(environ):
    """The build-time settings, each overridden by its MULTI_HAUSER_<SETTING> when set."""
    with open(os.path.join(SHARE_DIR, "settings.json")) as handle:
        settings = json.load(handle)
    overrides = dict((name, environ[IMAGE_NAMING(name)]) for name in IMAGE_SETTINGS if IMAGE_NAMING(name) in environ)
    settings.update(convert(overrides, IMAGE_NAMING))
    check_required(settings, IMAGE_NAMING)
    return settings


def read_orgs(path, settings):
    try:
        data = read_keyfile(path)
    except (IOError, OSError) as exc:
        raise StartError("cannot read the key file %s: %s" % (path, exc.strerror))
    notes = []
    orgs = parse_keyfile(data, source=path, notes=notes)
    for note in notes:
        sys.stdout.write("multi-hauser: %s\n" % note)
    return stagger_delays(orgs, base=settings["export_delay_base"], step=settings["export_delay_step"],
                          window=settings["export_delay_window"])


def check_credentials_readable(user, environ):
    """hauser, running as user, must be able to read GOOGLE_APPLICATION_CREDENTIALS."""
    path = environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if not path:
        return
    account = pwd.getpwnam(user)
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)
            with open(path, "rb"):
                pass
            os._exit(0)
        except (IOError, OSError):
            os._exit(1)
    status = os.waitpid(pid, 0)[1]
    if status != 0:
        raise StartError(
            "GOOGLE_APPLICATION_CREDENTIALS (%s) cannot be read by the user %s that hauser runs as "
            "(uid %d, gid %d): make it readable by that uid or gid, e.g. mode 0644 or group %d"
            % (path, user, account.pw_uid, account.pw_gid, account.pw_gid)
        )


def write_orgs(files, settings):
    """Each org's directories, config and program, as for a VM; the programs of orgs of an
    earlier start of this container go; then the group of every org's program."""
    account = pwd.getpwnam(settings["user"])
    org_files = OrgFiles(layout_of(settings), account.pw_uid, grp.getgrgid(account.pw_gid).gr_gid)
    existing = org_files.managed_programs()
    sync_all(org_files, existing, files)
    wanted = set(org["org_id"] for org in files)
    for org_id, path in existing.items():
        if org_id not in wanted:
            org_files.remove(org_id, path)
    programs = ",".join(org_files.layout.program_name(org["org_id"]) for org in files)
    write_atomically(os.path.join(settings["program_dir"], GROUP_FILE),
                     "; %s\n[group:%s]\nprograms=%s\n" % (MARKER, GROUP, programs), 0, 0, 0o644)


def write_monitor_config(orgs, settings):
    """What the monitor reads (each org's timing, where its state and metrics go), and what its
    metrics server reads (where the metrics are, where to serve them), in root's directory for it."""
    if settings.get("monitor"):
        config = monitor_config(orgs, settings, settings["supervisord_conf"])
        write_atomically(settings["monitor_config"], config_text(config), 0, 0, 0o640)
        run_dir = settings["metrics_dir"]
        with Dir.trusted(os.path.dirname(run_dir)) as parent:
            parent.subdir(os.path.basename(run_dir), 0, 0, 0o755)[0].close()
        write_atomically(os.path.join(run_dir, SERVER_CONFIG_NAME), config_text(server_config(config)), 0, 0, 0o644)


def main(argv, environ):
    keyfile = argv[1] if len(argv) > 1 else environ.get("MULTI_HAUSER_KEYFILE", DEFAULT_KEYFILE)
    try:
        settings = load_settings(environ)
        orgs = read_orgs(keyfile, settings)
        with open(os.path.join(SHARE_DIR, "config.toml.j2")) as handle:
            config_template = handle.read()
        with open(os.path.join(SHARE_DIR, "program.conf.j2")) as handle:
            program_template = handle.read()
        files = render_org_files(orgs, settings, config_template, program_template, source=keyfile)
        check_credentials_readable(settings["user"], environ)
        if environ.setdefault("SUPERVISORD_LOGLEVEL", "info") not in LOG_LEVELS:
            raise StartError("SUPERVISORD_LOGLEVEL must be %s" % ", ".join(LOG_LEVELS))
    except (StartError, ConfigError, KeyFileError, SettingsError, StaggerError) as exc:
        sys.stderr.write("multi-hauser: %s\n" % exc)
        return 2
    try:
        write_orgs(files, settings)
        write_monitor_config(orgs, settings)
    except OSError as exc:  # a directory others may change, or something planted where a file of ours goes
        sys.stderr.write("multi-hauser: %s\n" % describe(exc))
        return 2
    sys.stdout.write("multi-hauser: %d org(s) from %s; starting supervisord\n" % (len(files), keyfile))
    sys.stdout.flush()
    os.execve("/usr/bin/supervisord", ["supervisord", "-n", "-c", settings["supervisord_conf"]], environ)


if __name__ == "__main__":
    sys.exit(main(sys.argv, dict(os.environ)))
