#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: multi_hauser_plan
short_description: Plan a run once, on the controller, for every host of the play
version_added: 1.0.0
author: multi_hauser contributors (!UNKNOWN)
description:
  - Reads each deployment's orgs once (its key file, decrypted when vault-encrypted, or
    C(multi_hauser_orgs)), validates them, assigns every org to one host of its deployment by
    weighted rendezvous hashing (P(hauser.multi_hauser.assign_orgs#filter)), staggers each host's
    ExportDelay (an org keeps the delay it has on its host, as O(found) says) and renders every
    org's config and supervisord program for its host.
  - Bad input fails the task, naming the variable, or the file and line, before any host changes;
    no message shows a key.
  - The plan itself (which org runs where, with which ExportDelay, what each host gives up) holds
    no key. The rendered files do; the result that holds them is never shown.
  - Runs on the controller only, once per play (C(run_once)); contacts no host. It reads each play
    host's settings from C(hostvars[host][settings]), as M(hauser.multi_hauser.multi_hauser_settings)
    registered them.
options:
  settings:
    description: The name under which each host registered its M(hauser.multi_hauser.multi_hauser_settings) result.
    type: str
    default: __multi_hauser_settings
  found:
    description:
      - Host to what it runs now, org id to the ExportDelay of its config, as
        M(hauser.multi_hauser.multi_hauser_probe) returns it in C(programs).
      - Omitted, every host is taken to run nothing yet (a fresh stagger).
    type: dict
  render:
    description: Whether to render each org's files; without, only the plan is made.
    type: bool
    default: true
  program_template:
    description: The supervisord program template on the controller. Required with O(render=true).
    type: path
attributes:
  action:
    description: Runs as an action plugin, on the controller.
    support: full
  check_mode:
    description: Changes nothing, so it runs in check mode too.
    support: full
  diff_mode:
    description: Changes nothing on a host, so there is nothing to show.
    support: none
"""

EXAMPLES = r"""
- name: Plan the run
  hauser.multi_hauser.multi_hauser_plan:
    found: >-
      {{ dict(ansible_play_hosts
              | zip(ansible_play_hosts | map('extract', hostvars, ['__multi_hauser_host', 'programs']))) }}
    program_template: "{{ role_path }}/templates/program.conf.j2"
  run_once: true
  register: __multi_hauser_plan
"""

RETURN = r"""
plan:
  description: The plan, with no key in it.
  type: dict
  returned: success
  contains:
    hosts:
      description:
        - Play host to its part of the plan, C(shard_hosts) (its deployment's hosts), C(orgs) (each
          with C(org_id), C(line) and C(export_delay), in key-file order), C(found) (the orgs it
          runs now), C(stop) (those it gives up), C(lost_hosts) (its deployment's hosts not in the
          play) and C(held_back) (orgs not to start, because a lost host may still run them).
      type: dict
files:
  description: Host to the rendered files of its orgs (they hold the keys).
  type: dict
  returned: success, with O(render=true)
"""
