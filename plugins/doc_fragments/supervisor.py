# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # How the modules reach supervisord (plugins/module_utils/org_state.py: SUPERVISOR_ARGUMENT_SPEC).
    DOCUMENTATION = r"""
options:
  supervisorctl:
    description: The supervisorctl command.
    type: path
    default: /usr/bin/supervisorctl
  supervisor_config:
    description: supervisord's main config file.
    type: path
    default: /etc/supervisor/supervisord.conf
"""
