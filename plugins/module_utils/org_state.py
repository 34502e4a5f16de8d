# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the modules share about a host: how to reach supervisord, and what an org's files say
(read without ever returning the key they hold)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# The modules' options that say how to reach supervisord (documented in doc_fragments/supervisor.py).
SUPERVISOR_ARGUMENT_SPEC = dict(
    supervisor_config=dict(type="path", default="/etc/supervisor/supervisord.conf"),
)

_EXPORT_DELAY = re.compile(r'^\s*ExportDelay\s*=\s*"([^"]*)"', re.IGNORECASE | re.MULTILINE)


def export_delay(config_path):
    """The ExportDelay of an org's config.toml, or None when unreadable or absent."""
    try:
        with open(config_path) as handle:
            match = _EXPORT_DELAY.search(handle.read())
    except (IOError, OSError):
        return None
    return match.group(1) if match else None
