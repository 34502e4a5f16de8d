# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: assign_orgs
short_description: Spread orgs over hosts by weighted rendezvous hashing
version_added: 1.0.0
author: multi_hauser contributors (!UNKNOWN)
description:
  - Adds C(host) to each org of a list made by P(hauser.multi_hauser.parse_keyfile#filter), the
    host that runs it.
  - >-
    Each (org, host) pair gets a pseudo-random number I(u) in (0, 1), the first 8 bytes of the
    SHA-256 of the org id, a newline and the host name; the org goes to the host with the highest
    C(-weight / ln(u)). The assignment needs no state and is stable. Adding a host moves only the
    orgs it wins, about 1/n of them; removing a host, or draining it with weight 0, moves only that
    host's orgs.
  - A pin sends an org to a named host regardless of the hashing.
options:
  _input:
    description: The orgs.
    type: list
    elements: dictionary
    required: true
  weights:
    description: Host name to weight (a number of 0 or more; 0 gives the host no org).
    type: dictionary
    required: true
  pins:
    description: Org id to host name. A pin to a host not in O(weights) is an error.
    type: dictionary
    default: {}
"""

EXAMPLES = r"""
- name: Which orgs run on this host
  ansible.builtin.set_fact:
    my_org_ids: >-
      {{ orgs | hauser.multi_hauser.assign_orgs({'vm-1': 1, 'vm-2': 1, 'vm-3': 2}, {'o-1A2B3C-na1': 'vm-1'})
         | selectattr('host', 'equalto', inventory_hostname) | map(attribute='org_id') }}
"""

RETURN = r"""
_value:
  description: New copies of the orgs, in input order, each with C(host) added.
  type: list
  elements: dictionary
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.shard import ShardError
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.shard import assign_orgs as _assign_orgs
from ansible_collections.hauser.multi_hauser.plugins.plugin_utils.plain import plain


def assign_orgs(orgs, weights, pins=None):
    try:
        return _assign_orgs(plain(orgs), plain(weights), dict((k, str(v)) for k, v in plain(pins or {}).items()))
    except ShardError as error:
        raise AnsibleFilterError(str(error)) from None


class FilterModule(object):

    def filters(self):
        return {"assign_orgs": assign_orgs}
