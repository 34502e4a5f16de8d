# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # How the modules reach supervisord (plugins/module_utils/core/supervisor.py: SUPERVISOR_ARGUMENT_SPEC).
    DOCUMENTATION = r"""
options:
  supervisor_config:
    description: supervisord's main config file; the module reaches supervisord at the
      C(serverurl) (with the C(username) and C(password)) of its C([supervisorctl]) section, as
      C(supervisorctl -c) does.
    type: path
    default: /etc/supervisor/supervisord.conf
"""
