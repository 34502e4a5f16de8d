# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is secret, in one place, and how it is masked wherever it could show.

Secret are each org's API key, the settings of SECRET_SETTINGS (every value of the secret
environment), and the values of hauser's config keys of SECRET_CONFIG_KEYS and of the Value of
each AdditionalHttpHeader, wherever they come from (config_extra too). This one list is what
the role's argument spec marks no_log (a unit test holds the two together), what the image
build refuses, what diffs, results and messages mask, and what the status table's last log
lines mask. Diffs of configs mask the secret keys' lines by name; everything else is masked by
value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

MASK = "********"

# Settings (role variables without their prefix) whose values are secret.
SECRET_SETTINGS = ("redshift_password", "redshift_credentials", "secret_environment")
# Settings whose value names a file whose content is secret.
SECRET_FILE_SETTINGS = ("gcp_credentials_file",)
# hauser config keys whose values are secret, in whatever section.
SECRET_CONFIG_KEYS = ("FsApiToken", "Password", "Credentials")
# And in each table of this array, this key's value (an HTTP header may carry a token). hauser
# matches names whatever their case: so does the masking.
SECRET_TABLE_KEYS = {"additionalhttpheader": ("Value",)}
# What an image build refuses: the orgs (they hold the keys), every secret setting and file, and
# secret config keys in config_extra; they come when the container runs.
IMAGE_REFUSED = ("keyfile", "orgs") + SECRET_FILE_SETTINGS + SECRET_SETTINGS
# An environment variable that multi_hauser_environment should not carry: its name says secret, or
# its value is a URL with a password (a proxy's, say).
_SECRET_NAME = re.compile(r"(?i)(secret|passw|token|private|api_?key|credential)")
_URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@", re.IGNORECASE)

_KEY_LINE = re.compile(
    r'(?im)^(\s*(["\']?)(?:%s)\2\s*=\s*).*$' % "|".join(re.escape(key) for key in SECRET_CONFIG_KEYS))
_TABLE_HEADER = re.compile(r'^\s*\[\[\s*(["\']?)([A-Za-z0-9_-]+)\1\s*\]\]\s*(#.*)?$')
_SECTION_HEADER = re.compile(r"^\s*\[")
_VALUE = r'^(\s*(["\']?)(?:%s)\2\s*=\s*).*$'
_TOML_STRING = re.compile(r'''^\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')''')


def _config_extra_secrets(extra):
    """The secret values of config_extra: those of the secret keys, in any section, and of each
    AdditionalHttpHeader's Value."""
    values = []
    for key, value in (extra or {}).items():
        if isinstance(value, dict):
            values.extend(str(item) for name, item in value.items()
                          if str(name).lower() in [secret.lower() for secret in SECRET_CONFIG_KEYS])
        elif str(key).lower() in [secret.lower() for secret in SECRET_CONFIG_KEYS]:
            values.append(str(value))
        elif str(key).lower() in SECRET_TABLE_KEYS and isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, dict):
                    values.extend(str(part) for name, part in item.items() if str(name).lower()
                                  in [secret.lower() for secret in SECRET_TABLE_KEYS[str(key).lower()]])
    return values


def secret_values(settings, orgs=()):
    """Every secret value of these settings and orgs, longest first (so that masking a value
    never leaves part of a longer one that contains it)."""
    values = set(org["api_key"] for org in orgs if org.get("api_key"))
    for name in SECRET_SETTINGS:
        value = settings.get(name)
        if isinstance(value, dict):
            values.update(str(item) for item in value.values())
        elif value:
            values.add(str(value))
    values.update(_config_extra_secrets(settings.get("config_extra")))
    return sorted((value for value in values if value), key=lambda value: (-len(value), value))


def image_refusals(settings):
    """The settings that an image build must refuse, by name (without the prefix)."""
    refused = [name for name in IMAGE_REFUSED if settings.get(name)]
    if _config_extra_secrets(settings.get("config_extra")):
        refused.append("config_extra")
    return refused


def secret_looking_environment(environment):
    """The names of multi_hauser_environment's variables that look like secrets."""
    return sorted(name for name, value in environment.items()
                  if _SECRET_NAME.search(name) or _URL_PASSWORD.search(str(value)))


def mask_values(text, values):
    """text with every occurrence of each of the values replaced by MASK."""
    for value in values:
        if value:
            text = text.replace(value, MASK)
    return text


def mask_config(text):
    """A hauser config.toml with the value of every secret key masked: the keys of
    SECRET_CONFIG_KEYS wherever they are, and those of SECRET_TABLE_KEYS in their tables."""
    lines = []
    table_keys = ()
    for line in text.split("\n"):
        header = _TABLE_HEADER.match(line)
        if header:
            table_keys = SECRET_TABLE_KEYS.get(header.group(2).lower(), ())
        elif _SECTION_HEADER.match(line):
            table_keys = ()
        line = _KEY_LINE.sub(lambda match: match.group(1) + '"%s"' % MASK, line)
        if table_keys:
            line = re.sub(_VALUE % "|".join(re.escape(key) for key in table_keys),
                          lambda match: match.group(1) + '"%s"' % MASK, line, flags=re.IGNORECASE)
        lines.append(line)
    return "\n".join(lines)


def config_secrets(text):
    """The values of the secret keys of a config.toml (to mask them where the config is not
    shown, in a log line): every secret key's, and each secret table key's."""
    try:
        import tomllib  # pylint: disable=import-outside-toplevel  # Python 3.11 and later
        config = tomllib.loads(text)
    except (ImportError, ValueError):
        return _config_secrets_by_line(text)
    return [value for value in _config_extra_secrets(config) if value]


def _config_secrets_by_line(text):
    """config_secrets() where tomllib is missing or the text does not parse: quoted values of
    the secret keys' lines, as written."""
    values = []
    keys = SECRET_CONFIG_KEYS + tuple(key for table in SECRET_TABLE_KEYS.values() for key in table)
    line_pattern = re.compile(r'^\s*(["\']?)(%s)\1\s*=\s*(.*)$' % "|".join(re.escape(key) for key in keys),
                              re.IGNORECASE)
    for line in text.split("\n"):
        match = line_pattern.match(line)
        string = _TOML_STRING.match(match.group(3)) if match else None
        if string:
            value = string.group(1) if string.group(1) is not None else string.group(2)
            if value:
                values.append(value)
    return values
