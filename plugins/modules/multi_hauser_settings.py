#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: multi_hauser_settings
short_description: Read and check the hauser.multi_hauser.multi_hauser role's variables for this host
version_added: 1.0.0
author: multi_hauser contributors (!UNKNOWN)
description:
  - Templates every C(multi_hauser_*) variable of the role for this host and converts it to its
    kind, whether it comes from YAML or from C(-e) as a string (C(false) is false, C(8) is 8); a
    value of the wrong kind fails naming the variable.
  - Checks that the orgs come from exactly one of C(multi_hauser_keyfile) and C(multi_hauser_orgs),
    and that the provider's settings are set; with C(multi_hauser_mode=image), that no key and no
    credential would go into the image.
  - Runs on the controller only; contacts no host. The result holds secrets (passwords, the orgs
    of C(multi_hauser_orgs)) and is never shown; the C(hauser.multi_hauser.multi_hauser) role
    registers it for its plan (M(hauser.multi_hauser.multi_hauser_plan)).
options: {}
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
- name: Read and check the settings
  hauser.multi_hauser.multi_hauser_settings:
  register: __multi_hauser_settings
"""

RETURN = r"""
settings:
  description: Every setting, converted to its kind, without the prefix C(multi_hauser_).
  type: dict
  returned: success
paths:
  description: The paths of this host's deployment that do not depend on an org (the hauser binary, supervisord's include directory...).
  type: dict
  returned: success
"""
