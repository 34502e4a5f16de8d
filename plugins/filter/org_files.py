# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: org_files
short_description: Render each org's hauser config and supervisord program
version_added: 1.0.0
author: multi_hauser contributors (!UNKNOWN)
description:
  - Renders, for every org of a list made by P(hauser.multi_hauser.stagger_delays#filter), its
    hauser C(config.toml) and its supervisord program file from two Jinja templates, on the
    controller and in one call, so that hundreds of orgs cost no extra round trip to a host.
  - The templates see C(org) (C(org_id), C(api_key), C(line), C(export_delay)), C(settings),
    C(org_dir), C(config_path), C(log_path), C(program_name) and C(hauser_config), the org's
    config as a dictionary of hauser keys, with filters C(toml) (a dictionary as TOML),
    C(toml_value) and C(supervisor_value).
  - Before rendering it checks what hauser 1.5.1 would refuse at start, so that a bad setting fails
    the play before any host changes, naming the setting and never showing a key; unknown
    keys in C(settings.config_extra), which hauser would silently ignore, are errors too.
  - The role's plan (M(hauser.multi_hauser.multi_hauser_plan)) and the container image's entrypoint
    render with the same code; the output holds the API keys.
options:
  _input:
    description: The orgs, with C(org_id), C(api_key), C(line) and C(export_delay).
    type: list
    elements: dictionary
    required: true
  settings:
    description:
      - The settings without their prefix C(multi_hauser_) (provider, buckets, C(base_dir),
        C(log_dir), C(local_save_dir), C(user), C(environment), C(export_duration), C(backoff)...),
        as M(hauser.multi_hauser.multi_hauser_settings) returns them, with C(hauser_path) (the
        binary), C(program_dir) and C(credentials_path) (empty for none).
      - C(orgs_source) names the key file in messages.
    type: dictionary
    required: true
  config_template:
    description: The text of the config template.
    type: string
    required: true
  program_template:
    description: The text of the supervisord program template.
    type: string
    required: true
"""

EXAMPLES = r"""
- name: Keep every org's files and program in step
  hauser.multi_hauser.multi_hauser_orgs:
    orgs: >-
      {{ orgs | hauser.multi_hauser.org_files(settings,
                  lookup('ansible.builtin.file', 'config.toml.j2'),
                  lookup('ansible.builtin.file', 'program.conf.j2')) }}
"""

RETURN = r"""
_value:
  description: One item per org, in input order.
  type: list
  elements: dictionary
  contains:
    org_id:
      description: The org id.
      type: string
    dirs:
      description: Directories the org needs besides its working directory.
      type: list
      elements: string
    config:
      description: The rendered C(config.toml); it holds the API key.
      type: string
    program:
      description: The rendered supervisord program file.
      type: string
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.config import ConfigError
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.render import render_org_files
from ansible_collections.hauser.multi_hauser.plugins.plugin_utils.plain import plain


def org_files(orgs, settings, config_template, program_template):
    settings = plain(settings)
    try:
        return render_org_files(plain(orgs), settings, plain(config_template), plain(program_template),
                                source=settings.get("orgs_source", "key file"))
    except ConfigError as error:
        # The message names settings and lines only; the original exception is not chained.
        raise AnsibleFilterError(str(error)) from None


class FilterModule(object):

    def filters(self):
        return {"org_files": org_files}
