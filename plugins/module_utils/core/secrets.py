# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is secret, in one place, and how it is masked wherever it could show.

Secret are each org's API key, the settings of SECRET_SETTINGS and the values of the hauser
config keys of SECRET_CONFIG_KEYS. Diffs of configs mask those keys' lines by name, so a host
needs no list of values to hide them; everything else that could carry a secret (results,
messages) is masked by value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

MASK = "********"

# Settings (role variables without their prefix) whose values are secret.
SECRET_SETTINGS = ("redshift_password",)
# What an image build refuses: the orgs (they hold the keys) and every secret setting; they come
# when the container runs.
IMAGE_REFUSED = ("keyfile", "orgs", "gcp_credentials_file") + SECRET_SETTINGS
# hauser config keys whose values are secret, in whatever section.
SECRET_CONFIG_KEYS = ("FsApiToken", "Password")

# A key's line, the key bare or quoted (TOML reads "FsApiToken" = ... as FsApiToken = ...).
_SECRET_LINE = re.compile(
    r'(?im)^(\s*(["\']?)(?:%s)\2\s*=\s*).*$' % "|".join(re.escape(key) for key in SECRET_CONFIG_KEYS))


def secret_values(settings, orgs=()):
    """Every secret value of these settings and orgs, longest first (so that masking a value
    never leaves part of a longer one that contains it)."""
    values = set(org["api_key"] for org in orgs if org.get("api_key"))
    for name in SECRET_SETTINGS:
        value = settings.get(name)
        if value:
            values.add(str(value))
    return sorted(values, key=lambda value: (-len(value), value))


def mask_values(text, values):
    """text with every occurrence of each of the values replaced by MASK."""
    for value in values:
        if value:
            text = text.replace(value, MASK)
    return text


def mask_config(text):
    """A hauser config.toml with the value of every secret key masked."""
    return _SECRET_LINE.sub(lambda match: match.group(1) + '"%s"' % MASK, text)
