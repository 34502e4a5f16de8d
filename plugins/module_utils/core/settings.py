# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every setting of a deployment, once: its kind, and what each provider requires.

The role's variables are these settings with the prefix ``multi_hauser_`` (their defaults and
documentation are in the role's meta/argument_specs.yml, whose types a unit test holds to
these kinds); the image takes the settings of IMAGE_SETTINGS from ``MULTI_HAUSER_<NAME>``
environment variables. Whatever the source, a value means what it says: ``"false"`` from
``-e`` or from the environment is False, ``"8"`` is 8, and anything else of the wrong kind is
an error that names the variable.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import re
from collections.abc import Mapping, Sequence

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.durations import DurationError, parse_duration

PROVIDERS = ("gcp", "aws", "local")
_TRUE = ("true", "yes", "on", "1", "y", "t")
_FALSE = ("false", "no", "off", "0", "n", "f", "")
_WHOLE_NUMBER = re.compile(r"^\s*[+-]?[0-9]{1,18}\s*$")


class SettingsError(ValueError):
    """A setting of the wrong kind, out of bounds, or missing; the message names its variable."""


class _Kind(object):
    expected = "a value"

    def convert(self, value, name):
        raise NotImplementedError

    def _refuse(self, name):
        raise SettingsError("%s is not valid: %s expected" % (name, self.expected))


class Text(_Kind):
    expected = "a string"

    def convert(self, value, name):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self._refuse(name)
        return str(value)


class Choice(Text):
    def __init__(self, *choices):
        self.choices = choices

    def convert(self, value, name):
        value = Text.convert(self, value, name)
        if value not in self.choices:
            raise SettingsError("%s must be %s" % (name, " or ".join(
                [", ".join(self.choices[:-1]), self.choices[-1]] if len(self.choices) > 1 else self.choices)))
        return value


class Boolean(_Kind):
    expected = "true or false"

    def convert(self, value, name):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        self._refuse(name)


class Integer(_Kind):
    expected = "a whole number"

    def convert(self, value, name):
        if isinstance(value, bool):
            self._refuse(name)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _WHOLE_NUMBER.match(value):
            return int(value)
        self._refuse(name)


class Number(_Kind):
    expected = "a number"

    def convert(self, value, name):
        if isinstance(value, bool):
            self._refuse(name)
        if isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str) and len(value) <= 64:
            try:
                number = float(value)
            except ValueError:
                self._refuse(name)
        else:
            self._refuse(name)
        if math.isnan(number) or math.isinf(number):
            self._refuse(name)
        return number


class Duration(Text):
    """A Go duration string, checked as hauser's time.ParseDuration reads it."""

    expected = 'a Go duration such as "10m"'

    def convert(self, value, name):
        if not isinstance(value, str):
            self._refuse(name)
        try:
            parse_duration(value)
        except DurationError as error:
            raise SettingsError("%s is not valid: %s" % (name, error))
        return value


class Dictionary(_Kind):
    """A mapping; from a string (-e, the environment), a JSON object."""

    expected = "a JSON object"

    def convert(self, value, name):
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except ValueError:
                self._refuse(name)
        if not isinstance(value, Mapping):
            self._refuse(name)
        return dict(value)


class TextList(_Kind):
    """A list of strings; from a string, a JSON array."""

    expected = "a list of strings"

    def convert(self, value, name):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                self._refuse(name)
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
            self._refuse(name)
        if not all(isinstance(item, str) for item in value):
            self._refuse(name)
        return [str(item) for item in value]


# name -> kind, for every setting the code reads a value of (not the orgs themselves: a key file
# or a list of orgs, read and validated by orgs.py).
SETTINGS = {
    "mode": Choice("vm", "image"),
    "provider": Choice(*PROVIDERS),
    "storage_only": Boolean(),
    "gcs_bucket": Text(),
    "bigquery_project": Text(),
    "bigquery_dataset": Text(),
    "gcp_credentials_file": Text(),
    "s3_bucket": Text(),
    "s3_region": Text(),
    "s3_timeout": Duration(),
    "redshift_host": Text(),
    "redshift_port": Integer(),
    "redshift_db": Text(),
    "redshift_user": Text(),
    "redshift_password": Text(),
    "redshift_database_schema": Text(),
    "redshift_credentials": Text(),
    "redshift_varchar_max": Integer(),
    "local_save_dir": Text(),
    "version": Text(),
    "download_url": Text(),
    "archive": Text(),
    "archive_sha256": Text(),
    "cache_dir": Text(),
    "shard_hosts": TextList(),
    "shard_weight": Number(),
    "pins": Dictionary(),
    "export_delay_base": Duration(),
    "export_delay_step": Duration(),
    "export_delay_window": Duration(),
    "export_duration": Duration(),
    "backoff": Duration(),
    "backoff_steps_max": Integer(),
    "config_extra": Dictionary(),
    "config_template": Text(),
    "environment": Dictionary(),
    "user": Text(),
    "group": Text(),
    "base_dir": Text(),
    "install_dir": Text(),
    "log_dir": Text(),
    "log_maxbytes": Text(),
    "log_backups": Integer(),
    "start_timeout": Integer(),
    "apt_cache_valid_time": Integer(),
}

# The settings an image takes at run time, from MULTI_HAUSER_<NAME>: what shapes each org's files.
IMAGE_SETTINGS = (
    "provider", "storage_only", "gcs_bucket", "bigquery_project", "bigquery_dataset",
    "s3_bucket", "s3_region", "s3_timeout",
    "redshift_host", "redshift_port", "redshift_db", "redshift_user", "redshift_password",
    "redshift_database_schema", "redshift_credentials", "redshift_varchar_max",
    "local_save_dir", "export_duration", "export_delay_base", "export_delay_step", "export_delay_window",
    "backoff", "backoff_steps_max", "config_extra",
)

# What the image's entrypoint renders with besides IMAGE_SETTINGS, fixed when the image is built.
IMAGE_BUILD_SETTINGS = ("mode", "base_dir", "log_dir", "log_maxbytes", "log_backups", "user", "environment")

# What each provider needs set, with and without storage only (the local provider always stores only).
REQUIRED = {
    ("gcp", False): ("gcs_bucket", "bigquery_project", "bigquery_dataset"),
    ("gcp", True): ("gcs_bucket",),
    ("aws", False): ("s3_bucket", "s3_region", "redshift_host", "redshift_db", "redshift_user",
                     "redshift_password", "redshift_credentials"),
    ("aws", True): ("s3_bucket", "s3_region"),
    ("local", False): ("local_save_dir",),
    ("local", True): ("local_save_dir",),
}


class Naming(object):
    """How messages name a setting: the role's variable, or the image's environment variable."""

    def __init__(self, prefix, upper=False, where=""):
        self.prefix = prefix
        self.upper = upper
        self.where = where  # said after a missing setting, e.g. where it can be given

    def __call__(self, setting):
        return self.prefix + (setting.upper() if self.upper else setting)


ROLE_NAMING = Naming("multi_hauser_")
IMAGE_NAMING = Naming("MULTI_HAUSER_", upper=True, where=" (in the image's build or at run time)")


def convert(raw, naming=ROLE_NAMING, names=None):
    """The settings of raw (name -> value as given) of the given names (default: all that raw
    has), each converted to its kind; SettingsError names the first that is not valid."""
    settings = {}
    for name in (names if names is not None else raw):
        if name in raw:
            settings[name] = SETTINGS[name].convert(raw[name], naming(name))
    return settings


def check_required(settings, naming=ROLE_NAMING):
    """SettingsError naming the first setting that the provider needs and that is empty."""
    provider = settings["provider"]
    for name in REQUIRED[(provider, bool(settings["storage_only"]))]:
        if not str(settings.get(name, "")):
            raise SettingsError("%s must be set when %s is %s%s"
                                % (naming(name), naming("provider"), provider, naming.where))


def image_settings(settings, layout):
    """The image's defaults: the settings its entrypoint renders with, and where things are."""
    defaults = dict((name, settings[name]) for name in IMAGE_SETTINGS + IMAGE_BUILD_SETTINGS)
    defaults.update(hauser_path=layout["binary"], program_dir=layout["program_dir"], credentials_path="",
                    supervisord_conf=layout["container_supervisord_conf"])
    return defaults
