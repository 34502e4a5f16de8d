# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: stagger_delays
short_description: Give each org its own hauser ExportDelay
version_added: 1.0.0
author: multi_hauser contributors (!UNKNOWN)
description:
  - Returns a copy of the list of orgs in which each org has an C(export_delay), a Go duration string
    for hauser's C(ExportDelay), so that the orgs do not all export at the same moment.
  - The org at index I(i) gets O(base) + O(step) x (I(i) mod (O(window) // O(step))). The delays
    spread over [O(base), O(base) + O(window)) and start again at O(base) after
    O(window) // O(step) orgs, so no delay grows without bound as orgs are added.
  - The input list and its dictionaries are not changed.
options:
  _input:
    description:
      - The orgs, for example the result of P(hauser.multi_hauser.parse_keyfile#filter).
    type: list
    elements: dictionary
    required: true
  base:
    description:
      - The delay of the first org, a Go duration string. At least C(1h), hauser's minimum.
    type: string
    default: 24h
  step:
    description:
      - The difference between the delays of consecutive orgs, a Go duration string greater than 0.
    type: string
    default: 10m
  window:
    description:
      - The span the delays are spread over, a Go duration string at least O(step).
    type: string
    default: 24h
  previous:
    description:
      - The delays the orgs had before, org id to Go duration string (for example read from the
        configs on a host). An org keeps its delay while that is still one of the slots
        O(base) + O(step) x I(k) and no earlier org kept it, so that adding or removing an org
        changes no other org's delay; the other orgs take the least used slots, lowest first, in
        list order. Without it, org I(i) gets slot I(i) mod (O(window) // O(step)).
    type: dictionary
    default: {}
seealso:
  - plugin: hauser.multi_hauser.parse_keyfile
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Read the orgs and give them staggered export delays
  ansible.builtin.set_fact:
    multi_hauser_orgs: >-
      {{ lookup('ansible.builtin.file', 'keys.csv')
         | hauser.multi_hauser.parse_keyfile(source='keys.csv')
         | hauser.multi_hauser.stagger_delays(step='10m') }}
  # Org 0 gets export_delay 24h, org 1 24h10m, org 2 24h20m, ...,
  # org 143 47h50m, and org 144 24h again.
"""

RETURN = r"""
_value:
  description: Copies of the input dictionaries, each with an added C(export_delay).
  type: list
  elements: dictionary
  contains:
    export_delay:
      description: The org's ExportDelay, a compact Go duration string such as C(24h10m).
      type: string
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.stagger import StaggerError
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.stagger import stagger_delays as _stagger_delays
from ansible_collections.hauser.multi_hauser.plugins.plugin_utils.plain import plain


def stagger_delays(orgs, base="24h", step="10m", window="24h", previous=None):
    try:
        return _stagger_delays(plain(orgs), base=plain(base), step=plain(step), window=plain(window),
                               previous=dict((k, str(v)) for k, v in plain(previous or {}).items()))
    except StaggerError as error:
        raise AnsibleFilterError(str(error)) from None


class FilterModule(object):

    def filters(self):
        return {"stagger_delays": stagger_delays}
