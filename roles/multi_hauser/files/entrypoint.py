# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The container image's entrypoint: key file -> orgs -> each org's files -> supervisord as PID 1.

    python3 entrypoint.py [KEYFILE]        (default: $MULTI_HAUSER_KEYFILE or /secrets/keys.csv)

The same code as the collection's filters parses the key file, staggers the delays and renders
the templates (keyfile.py, go_duration.py, hauser_config.py lie beside this file). The image's
build-time settings are defaults; each can be overridden by an environment variable
MULTI_HAUSER_<SETTING> (see SETTINGS). Bad input exits with status 2 before any hauser starts,
naming the file and line and never showing a key.
"""

from __future__ import absolute_import, division, print_function

import grp
import json
import os
import pwd
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from hauser_config import ConfigError, render_org_files  # noqa: E402
from keyfile import KeyFileError, StaggerError, parse_keyfile, stagger_delays  # noqa: E402

SHARE_DIR = "/usr/local/share/multi-hauser"
DEFAULT_KEYFILE = "/secrets/keys.csv"
# Every org's program in one supervisord group: supervisord stops its groups one after another,
# about a second apart, so with a group per program docker stop would take a second per org and
# end in SIGKILL (exit 137) past 10 s; the programs of one group are stopped all at once. Org
# ids hold no ".", so no org's program file can have this name.
GROUP = "orgs"
GROUP_FILE = "orgs.group.conf"


def _boolean(text):
    if text.strip().lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off", ""):
        raise ValueError(text)
    return text.strip().lower() in ("1", "true", "yes", "on")


# Setting name -> how its environment variable's text becomes the value.
SETTINGS = {
    "provider": str,
    "storage_only": _boolean,
    "gcs_bucket": str,
    "bigquery_project": str,
    "bigquery_dataset": str,
    "s3_bucket": str,
    "s3_region": str,
    "s3_timeout": str,
    "redshift_host": str,
    "redshift_port": str,
    "redshift_db": str,
    "redshift_user": str,
    "redshift_password": str,
    "redshift_database_schema": str,
    "redshift_credentials": str,
    "redshift_varchar_max": int,
    "local_save_dir": str,
    "export_duration": str,
    "export_delay_base": str,
    "export_delay_step": str,
    "export_delay_window": str,
    "backoff": str,
    "backoff_steps_max": int,
    "config_extra": json.loads,
}
_EXPECTED = {int: "a whole number", json.loads: "a JSON object", _boolean: "true or false"}
REQUIRED = {
    "gcp": ("gcs_bucket", "bigquery_project", "bigquery_dataset"),
    "gcp_storage_only": ("gcs_bucket",),
    "aws": ("s3_bucket", "s3_region", "redshift_host", "redshift_db", "redshift_user",
            "redshift_password", "redshift_credentials"),
    "aws_storage_only": ("s3_bucket", "s3_region"),
    "local": ("local_save_dir",),
}


class StartError(Exception):
    """Bad input: reported in one line, exit status 2, before anything starts."""


def env_name(setting):
    return "MULTI_HAUSER_" + setting.upper()


def load_settings(environ):
    with open(os.path.join(SHARE_DIR, "settings.json")) as handle:
        settings = json.load(handle)
    for setting, convert in SETTINGS.items():
        text = environ.get(env_name(setting))
        if text is None:
            continue
        try:
            settings[setting] = convert(text)
        except ValueError:
            raise StartError("%s is not valid: %s expected" % (env_name(setting), _EXPECTED[convert]))
    if settings["provider"] not in ("gcp", "aws", "local"):
        raise StartError("%s must be gcp, aws or local" % env_name("provider"))
    storage_only = settings["storage_only"] and settings["provider"] != "local"
    for setting in REQUIRED[settings["provider"] + ("_storage_only" if storage_only else "")]:
        if not str(settings.get(setting, "")):
            raise StartError("%s must be set (in the image's build or at run time) with provider %s"
                             % (env_name(setting), settings["provider"]))
    return settings


def read_orgs(path, settings):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise StartError("cannot read the key file %s: %s" % (path, exc.strerror))
    try:
        orgs = parse_keyfile(data, source=path)
        return stagger_delays(orgs, base=settings["export_delay_base"], step=settings["export_delay_step"],
                              window=settings["export_delay_window"])
    except (KeyFileError, StaggerError) as exc:
        raise StartError(str(exc))


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


def write_file(path, content, uid, gid, mode):
    handle, temp_path = tempfile.mkstemp(dir=os.path.dirname(path))
    os.fchown(handle, uid, gid)
    os.fchmod(handle, mode)
    os.write(handle, content.encode("utf-8"))
    os.close(handle)
    os.rename(temp_path, path)


def make_dir(path, uid, gid):
    if not os.path.isdir(path):
        os.makedirs(path)
    os.chown(path, uid, gid)
    os.chmod(path, 0o750)


def write_orgs(files, settings):
    """Each org's directories, config (root:hauser 0640) and program; stale programs go."""
    account = pwd.getpwnam(settings["user"])
    gid = grp.getgrgid(account.pw_gid).gr_gid
    program_dir = settings["program_dir"]
    wanted = set([GROUP_FILE])
    programs = []
    for org in files:
        org_dir = os.path.join(settings["base_dir"], org["org_id"])
        for path in [org_dir] + org["dirs"]:
            make_dir(path, account.pw_uid, gid)
        write_file(os.path.join(org_dir, "config.toml"), org["config"], 0, gid, 0o640)
        name = settings["program_prefix"] + org["org_id"] + ".conf"
        write_file(os.path.join(program_dir, name), org["program"], 0, 0, 0o644)
        wanted.add(name)
        programs.append(settings["program_prefix"] + org["org_id"])
    write_file(os.path.join(program_dir, GROUP_FILE),
               "; %s\n[group:%s]\nprograms=%s\n" % (settings["marker"], GROUP, ",".join(programs)), 0, 0, 0o644)
    for name in os.listdir(program_dir):
        if name.endswith(".conf") and name not in wanted:
            os.unlink(os.path.join(program_dir, name))  # an org of a previous start of this container


def main(argv, environ):
    keyfile = argv[1] if len(argv) > 1 else environ.get("MULTI_HAUSER_KEYFILE", DEFAULT_KEYFILE)
    try:
        settings = load_settings(environ)
        orgs = read_orgs(keyfile, settings)
        with open(os.path.join(SHARE_DIR, "config.toml.j2")) as handle:
            config_template = handle.read()
        with open(os.path.join(SHARE_DIR, "program.conf.j2")) as handle:
            program_template = handle.read()
        settings["orgs_source"] = keyfile
        files = render_org_files(orgs, settings, config_template, program_template)
        check_credentials_readable(settings["user"], environ)
    except (StartError, ConfigError) as exc:
        sys.stderr.write("multi-hauser: %s\n" % exc)
        return 2
    write_orgs(files, settings)
    sys.stdout.write("multi-hauser: %d org(s) from %s; starting supervisord\n" % (len(files), keyfile))
    sys.stdout.flush()
    environ.setdefault("SUPERVISORD_LOGLEVEL", "info")
    os.execve("/usr/bin/supervisord", ["supervisord", "-n", "-c", settings["supervisord_conf"]], environ)


if __name__ == "__main__":
    sys.exit(main(sys.argv, dict(os.environ)))
