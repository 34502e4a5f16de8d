# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible's values as plain Python values, for the code of module_utils/core, which knows
nothing of Ansible: tagged, unsafe and vault-encrypted strings become str (a vault string is
decrypted), tagged dates and times plain ones, mappings dict and sequences list, all the way down."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
from collections.abc import Mapping

try:
    from ansible.parsing.vault import EncryptedString as _VaultString
except ImportError:  # ansible-core < 2.19
    from ansible.parsing.yaml.objects import AnsibleVaultEncryptedUnicode as _VaultString


def _text(value):
    """An exact str. str() alone is not enough: ansible-core < 2.19's unsafe strings return
    themselves from __str__; str.__str__ copies any str subclass into a plain str."""
    if isinstance(value, _VaultString):
        value = str(value)  # decrypted
    return str.__str__(value) if isinstance(value, str) else str(value)


def plain(value):
    if isinstance(value, (str, _VaultString)):
        return _text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, datetime.datetime):
        return datetime.datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                                 value.microsecond, value.tzinfo)
    if isinstance(value, datetime.date):
        return datetime.date(value.year, value.month, value.day)
    if isinstance(value, Mapping):
        return dict((_text(key), plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(item) for item in value]
    return value
