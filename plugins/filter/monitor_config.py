# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: monitor_config
short_description: The monitor's config for the orgs a host runs, as JSON
version_added: 1.0.0
author: multi_hauser contributors (!UNKNOWN)
description:
  - What the monitor, the supervisord event listener C(multi-hauser-monitor), reads from
    C(/etc/multi-hauser/monitor.json) on a VM (the image's entrypoint writes the same with the same
    code). For each org, the ExportDelay and ExportDuration hauser runs it with and, on a VM, its
    log file; then the state file, and where the metrics go.
  - Holds no key, and reads no config.
options:
  _input:
    description: The orgs, each with C(org_id) and C(export_delay) (the plan's orgs of the host).
    type: list
    elements: dictionary
    required: true
  settings:
    description: The host's settings, as M(hauser.multi_hauser.multi_hauser_settings) returns them.
    type: dictionary
    required: true
  supervisor_config:
    description: supervisord's config file, whose C([supervisorctl]) section says how to reach it.
    type: string
    default: /etc/supervisor/supervisord.conf
"""

EXAMPLES = r"""
- name: The monitor's config of this host
  ansible.builtin.set_fact:
    monitor_json: "{{ plan.hosts[inventory_hostname].orgs | hauser.multi_hauser.monitor_config(settings) }}"
"""

RETURN = r"""
_value:
  description: The config, as JSON text.
  type: string
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.config import ConfigError
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.durations import DurationError
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import SUPERVISOR_CONF
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.monitoring import config_text
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.monitoring import (
    monitor_config as _monitor_config,
)
from ansible_collections.hauser.multi_hauser.plugins.plugin_utils.plain import plain


def monitor_config(orgs, settings, supervisor_config=SUPERVISOR_CONF):
    try:
        return config_text(_monitor_config(plain(orgs), plain(settings), plain(supervisor_config)))
    except (ConfigError, DurationError, KeyError) as error:
        # Not chained: a DurationError's own message quotes the value that reason leaves out.
        raise AnsibleFilterError("monitor_config: %s" % (error.reason if isinstance(error, DurationError) else error)) from None


class FilterModule(object):

    def filters(self):
        return {"monitor_config": monitor_config}
