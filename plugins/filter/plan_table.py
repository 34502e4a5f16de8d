# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: plan_table
short_description: The plan of a run as lines of a table, one per org
version_added: 1.0.0
author: multi_hauser contributors (!UNKNOWN)
description:
  - From the plan that M(hauser.multi_hauser.multi_hauser_plan) makes, a header and one line per
    org in key-file order with its id, the inventory host it runs on and its ExportDelay.
  - When no host was asked what it runs (the C(hauser.multi_hauser.plan) playbook), the last line
    says that the delays are those of a fresh stagger.
options:
  _input:
    description: The plan.
    type: dictionary
    required: true
"""

EXAMPLES = r"""
- name: Print the plan
  ansible.builtin.debug:
    msg: "{{ multi_hauser_plan | hauser.multi_hauser.plan_table }}"
"""

RETURN = r"""
_value:
  description: The table's lines, a header first.
  type: list
  elements: string
"""

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.plan import table
from ansible_collections.hauser.multi_hauser.plugins.plugin_utils.plain import plain


def plan_table(plan):
    return table(plain(plan))


class FilterModule(object):

    def filters(self):
        return {"plan_table": plan_table}
