# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: parse_keyfile
short_description: Read a key file of C(org_id,api_key) lines (or a list of orgs) into a validated list of orgs
version_added: 1.0.0
author: multi_hauser contributors (!UNKNOWN)
description:
  - Parses the text of a key file, one C(org_id,api_key) line per FullStory org, into a list of
    dictionaries in file order.
  - Lines end in LF or CRLF; the last line may lack its newline and the text may start with a UTF-8
    byte order mark. A carriage return anywhere else is an error.
  - Blank lines, lines whose first non-blank character is C(#), and spaces or tabs around fields
    are ignored.
  - An org id is 1 to 64 characters from C([A-Za-z0-9_-]). An API key is printable ASCII without
    whitespace, quotes or backslashes. Org ids must be unique.
  - The input may also be a list of C({org_id, api_key}) mappings (for example from
    vault-encrypted variables); it is validated by the same rules, and errors name the item as
    C(<source>[index]).
  - On invalid input the filter fails with every problem found, one per line, each naming the
    source and line. Messages never quote a field value, so they never reveal a key.
options:
  _input:
    description:
      - The text of the key file, for example from P(ansible.builtin.file#lookup), which also
        decrypts a vault-encrypted file.
      - Or a list of mappings with exactly the keys C(org_id) and C(api_key).
    type: raw
    required: true
  source:
    description:
      - The name of the key file (or variable), used in error messages.
      - The default is C(key file) for text and C(multi_hauser_orgs) for a list.
    type: string
seealso:
  - plugin: hauser.multi_hauser.stagger_delays
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Read the orgs from a (possibly vault-encrypted) key file
  ansible.builtin.set_fact:
    multi_hauser_orgs: >-
      {{ lookup('ansible.builtin.file', 'keys.csv')
         | hauser.multi_hauser.parse_keyfile(source='keys.csv') }}
  # With keys.csv:
  #   # org_id,api_key
  #   o-1A2B3C-na1,na1.abcdef123456
  #   o-4D5E6F-na1,na1.987654fedcba
  # multi_hauser_orgs is:
  #   - {org_id: o-1A2B3C-na1, api_key: na1.abcdef123456, line: 2}
  #   - {org_id: o-4D5E6F-na1, api_key: na1.987654fedcba, line: 3}

- name: Validate orgs given as a (vault-encrypted) variable
  ansible.builtin.set_fact:
    orgs: "{{ my_orgs | hauser.multi_hauser.parse_keyfile(source='my_orgs') }}"
  # line is then the item's 1-based position in the list.
"""

RETURN = r"""
_value:
  description: The orgs in file order.
  type: list
  elements: dictionary
  contains:
    org_id:
      description: The FullStory org id.
      type: string
    api_key:
      description: The org's FullStory API key.
      type: string
    line:
      description: The line of the key file the org was read from, or the item's position in a list (1-based).
      type: integer
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.orgs import KeyFileError
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.orgs import parse_keyfile as _parse_keyfile
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.orgs import validate_orgs
from ansible_collections.hauser.multi_hauser.plugins.plugin_utils.plain import plain


def parse_keyfile(data, source=None):
    data = plain(data)
    try:
        if isinstance(data, list):
            return validate_orgs(data, source=str(source or "multi_hauser_orgs"))
        return _parse_keyfile(data, source=str(source or "key file"))
    except KeyFileError as error:
        # Neither chained nor given as orig_exc: the message alone is known to hold no key.
        raise AnsibleFilterError(str(error)) from None


class FilterModule(object):

    def filters(self):
        return {"parse_keyfile": parse_keyfile}
