# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: plan_moves
short_description: The orgs a run moves between hosts, one line each
version_added: 1.0.0
author: multi_hauser contributors (!UNKNOWN)
description:
  - From the plan that M(hauser.multi_hauser.multi_hauser_plan) makes, one line per org that a host
    of O(healthy_hosts) starts and did not run before, naming the hosts that ran it, or C((new)).
    Orgs held back (P(hauser.multi_hauser.held_back#filter)) are not started, so not listed.
options:
  _input:
    description: The plan.
    type: dictionary
    required: true
  healthy_hosts:
    description: The hosts still in the play, usually C(ansible_play_hosts).
    type: list
    elements: string
    required: true
"""

EXAMPLES = r"""
- name: Report the moves
  ansible.builtin.debug:
    msg: "{{ multi_hauser_plan | hauser.multi_hauser.plan_moves(ansible_play_hosts) }}"
"""

RETURN = r"""
_value:
  description: "Lines such as C(o-1A2B3C-na1: vm-1 -> vm-4)."
  type: list
  elements: string
"""

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.plan import moves
from ansible_collections.hauser.multi_hauser.plugins.plugin_utils.plain import plain


def plan_moves(plan, healthy_hosts):
    return moves(plain(plan), plain(healthy_hosts))


class FilterModule(object):

    def filters(self):
        return {"plan_moves": plan_moves}
