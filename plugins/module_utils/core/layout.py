# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where each org's files are on a host, and what its supervisord program is called.

The one place that says so: the rendering on the controller, the modules on a VM and the
image's entrypoint all ask a Layout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

# Every org's supervisord program is <PROGRAM_PREFIX><org_id>, in <program_dir>/<PROGRAM_PREFIX><org_id>.conf.
PROGRAM_PREFIX = "hauser-"
PROGRAM_SUFFIX = ".conf"
CONFIG_NAME = "config.toml"
TMP_NAME = "tmp"
# A line every program file this collection writes holds; a file without it is not ours.
MARKER = "Managed by Ansible (hauser.multi_hauser); changes here are overwritten."

# Debian's supervisor, and this collection's own directory of root-owned files.
PROGRAM_DIR = "/etc/supervisor/conf.d"
SUPERVISOR_CONF = "/etc/supervisor/supervisord.conf"
ETC_DIR = "/etc/multi-hauser"
# The collection's code on a host (a VM or the image): its module_utils/core package, under the
# path the controller imports it from, beside the scripts that import it.
LIB_DIR = "/usr/local/lib/multi-hauser"
CORE_DIR = posixpath.join(LIB_DIR, "ansible_collections/hauser/multi_hauser/plugins/module_utils/core")
MONITOR_CONFIG = posixpath.join(ETC_DIR, "monitor.json")
# In the image: root's directory of what the monitor and the entrypoint write at run time for the
# metrics server (the metrics, and where to serve them), readable by every user.
IMAGE_RUN_DIR = "/run/multi-hauser"
SERVER_CONFIG_NAME = "metrics-server.json"
# The GCP credentials, when a deployment installs them.
CREDENTIALS = posixpath.join(ETC_DIR, "gcp-credentials.json")
BINARY_LINK = "/usr/local/bin/hauser"


def host_layout(settings):
    """The paths of a host's deployment that do not depend on an org (see Layout for those), and
    the marker of the files it writes."""
    return {
        "marker": MARKER,
        "binary": posixpath.join(settings["install_dir"], settings["version"], "hauser"),
        "binary_link": BINARY_LINK,
        "version_dir": posixpath.join(settings["install_dir"], settings["version"]),
        "program_dir": PROGRAM_DIR,
        "supervisor_conf": SUPERVISOR_CONF,
        "etc_dir": ETC_DIR,
        "lib_dir": LIB_DIR,
        "core_dir": CORE_DIR,
        "monitor_config": MONITOR_CONFIG,
        "image_run_dir": IMAGE_RUN_DIR,
        # In an image, supervisord runs as PID 1 with a config of its own.
        "container_supervisord_conf": posixpath.join(ETC_DIR, "supervisord.conf"),
        "credentials": CREDENTIALS if settings.get("gcp_credentials_file") else "",
    }


class Layout(object):
    """The paths of one deployment on a host, from its directories."""

    def __init__(self, base_dir, program_dir, log_dir="", local_save_dir=""):
        self.base_dir = base_dir
        self.program_dir = program_dir
        self.log_dir = log_dir
        self.local_save_dir = local_save_dir

    def org_dir(self, org_id):
        """The org's working directory."""
        return posixpath.join(self.base_dir, org_id)

    def config_path(self, org_id):
        return posixpath.join(self.org_dir(org_id), CONFIG_NAME)

    def tmp_dir(self, org_id):
        """hauser's TmpDir, where it stages each export's CSV file."""
        return posixpath.join(self.org_dir(org_id), TMP_NAME)

    def save_dir(self, org_id):
        """The local provider's SaveDir."""
        return posixpath.join(self.local_save_dir, org_id)

    def log_path(self, org_id):
        return posixpath.join(self.log_dir, org_id + ".log")

    @staticmethod
    def program_name(org_id):
        return PROGRAM_PREFIX + org_id

    @staticmethod
    def program_file_name(org_id):
        return PROGRAM_PREFIX + org_id + PROGRAM_SUFFIX

    def program_path(self, org_id):
        return posixpath.join(self.program_dir, self.program_file_name(org_id))

    @staticmethod
    def org_of_program(name):
        """The org id of a program name, or None for a program that is not an org's."""
        return name[len(PROGRAM_PREFIX):] if name.startswith(PROGRAM_PREFIX) else None

    @staticmethod
    def org_of_program_file(file_name):
        """The org id of a file name in the program directory, or None."""
        if file_name.startswith(PROGRAM_PREFIX) and file_name.endswith(PROGRAM_SUFFIX):
            return file_name[len(PROGRAM_PREFIX):-len(PROGRAM_SUFFIX)] or None
        return None

    def org_dirs(self, org_id, provider):
        """The directories an org needs besides its working directory, owned by the hauser user."""
        dirs = [self.tmp_dir(org_id)]
        if provider == "local":
            dirs.append(self.save_dir(org_id))
        return dirs
