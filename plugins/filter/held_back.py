# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: held_back
short_description: The orgs a host must not start yet, because a lost host may still run them
version_added: 1.0.0
author: multi_hauser contributors (!UNKNOWN)
description:
  - The second phase of the plan that M(hauser.multi_hauser.multi_hauser_plan) makes. Once every
    healthy host has stopped the orgs it gives up, a host of a deployment one of whose hosts failed
    or could not be reached (it is no longer among O(healthy_hosts)) must not start an org that no
    healthy host ran before the run, since the lost host may still run it.
  - Empty when no host of the deployment is lost.
options:
  _input:
    description: The plan (the C(plan) that M(hauser.multi_hauser.multi_hauser_plan) returns).
    type: dictionary
    required: true
  host:
    description: The host.
    type: string
    required: true
  healthy_hosts:
    description: The hosts still in the play, usually C(ansible_play_hosts).
    type: list
    elements: string
    required: true
"""

EXAMPLES = r"""
- name: The orgs not to start here
  ansible.builtin.set_fact:
    held: "{{ multi_hauser_plan | hauser.multi_hauser.held_back(inventory_hostname, ansible_play_hosts) }}"
"""

RETURN = r"""
_value:
  description: The org ids, in key-file order.
  type: list
  elements: string
"""

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.plan import held_back as _held_back
from ansible_collections.hauser.multi_hauser.plugins.plugin_utils.plain import plain


def held_back(plan, host, healthy_hosts):
    return _held_back(plain(plan), plain(host), plain(healthy_hosts))


class FilterModule(object):

    def filters(self):
        return {"held_back": held_back}
