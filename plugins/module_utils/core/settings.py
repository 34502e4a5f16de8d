# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every setting of a deployment, once: its kind, its bounds, and what each provider requires.

The role's variables are these settings with the prefix ``multi_hauser_`` (their defaults and
documentation are in the role's meta/argument_specs.yml, whose types a unit test holds to
these kinds); the image takes the settings of IMAGE_SETTINGS from ``MULTI_HAUSER_<NAME>``
environment variables. Whatever the source, a value means what it says: ``"false"`` from
``-e`` or from the environment is False, ``"8"`` is 8, and anything else of the wrong kind, out
of its bounds or too large to be meant is an error that names the variable and never shows the
value (some settings are secrets).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import posixpath
import re
from collections.abc import Mapping, Sequence

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.config import ConfigError, check_extra
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.durations import (
    HOUR,
    MINUTE,
    SECOND,
    DurationError,
    parse_duration,
)
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.stagger import (
    MAX_BASE,
    MAX_WINDOW,
    MIN_EXPORT_DELAY,
    MIN_STEP,
)

PROVIDERS = ("gcp", "aws", "local")
_TRUE = ("true", "yes", "on", "1", "y", "t")
_FALSE = ("false", "no", "off", "0", "n", "f", "")
_WHOLE_NUMBER = re.compile(r"^\s*[+-]?[0-9]{1,18}\s*$")
# No setting is meant to be longer; a longer one is a mistake (a file pasted into a variable).
MAX_TEXT = 4096
MAX_ENTRIES = 1000
_DAY = 24 * HOUR


class SettingsError(ValueError):
    """A setting of the wrong kind, out of bounds, or missing; the message names its variable."""


class _Kind(object):
    expected = "a value"

    def convert(self, value, name):
        raise NotImplementedError

    def _refuse(self, name, expected=None):
        raise SettingsError("%s is not valid: %s expected" % (name, expected or self.expected))


def _text(value, name, refuse, max_length=MAX_TEXT):
    """value as a string: from a string or a number, of valid UTF-8 and a bounded length."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        refuse(name)
    text = str(value)
    if len(text) > max_length:
        raise SettingsError("%s is not valid: longer than %d characters" % (name, max_length))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes that were not UTF-8, as os.environ keeps them
        raise SettingsError("%s is not valid: not valid UTF-8" % name) from None
    if "\x00" in text:
        raise SettingsError("%s is not valid: it holds a NUL character" % name)
    return text


class Text(_Kind):
    """A string, of at most max_length characters, matching pattern (described) when given."""

    expected = "a string"

    def __init__(self, pattern=None, described=None, max_length=MAX_TEXT):
        self.pattern = re.compile(pattern) if pattern else None
        self.described = described
        self.max_length = max_length

    def convert(self, value, name):
        text = _text(value, name, self._refuse, self.max_length)
        if self.pattern is not None and not self.pattern.fullmatch(text):
            self._refuse(name, self.described)
        return text


class Path(Text):
    """An absolute path (or empty, when optional), normalized, never / itself."""

    expected = "an absolute path without blanks"

    def __init__(self, optional=False):
        Text.__init__(self)
        self.optional = optional

    def convert(self, value, name):
        text = Text.convert(self, value, name)
        if not text and self.optional:
            return text
        # Not / itself, no .., and no blank or control character: paths go unquoted into program
        # files (command=, directory=) and systemd's ReadWritePaths=.
        if not text.startswith("/") or posixpath.normpath(text) in ("/", "//") or ".." in text.split("/") \
                or re.search(r"[\s\x00-\x1f\x7f]", text):
            self._refuse(name, self.expected)
        return "/" + posixpath.normpath(text).lstrip("/")


class Choice(Text):
    def __init__(self, *choices):
        Text.__init__(self)
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
    """A whole number between minimum and maximum."""

    def __init__(self, minimum, maximum):
        self.minimum = minimum
        self.maximum = maximum
        self.expected = "a whole number from %d to %d" % (minimum, maximum)

    def convert(self, value, name):
        number = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and _WHOLE_NUMBER.match(value):
            number = int(value)
        if number is None or not self.minimum <= number <= self.maximum:
            self._refuse(name)
        return number


class Number(_Kind):
    """A finite number between minimum and maximum."""

    def __init__(self, minimum, maximum):
        self.minimum = minimum
        self.maximum = maximum
        self.expected = "a number from %g to %g" % (minimum, maximum)

    def convert(self, value, name):
        if isinstance(value, bool):
            self._refuse(name)
        number = None
        if isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str) and len(value) <= 64:
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None or math.isnan(number) or math.isinf(number) or not self.minimum <= number <= self.maximum:
            self._refuse(name)
        return number


def _go(nanoseconds):
    """A bound, as the messages say it."""
    for unit, size in (("h", HOUR), ("m", MINUTE), ("s", SECOND)):
        if nanoseconds and nanoseconds % size == 0:
            return "%d%s" % (nanoseconds // size, unit)
    return "%dns" % nanoseconds


class Duration(_Kind):
    """A Go duration string, as hauser's time.ParseDuration reads it, between minimum and maximum."""

    def __init__(self, minimum=0, maximum=None, fraction_of_day=False, positive=False):
        self.minimum = minimum
        self.maximum = maximum
        self.fraction_of_day = fraction_of_day
        self.positive = positive

    def convert(self, value, name):
        text = _text(value, name, lambda name: self._refuse(name, 'a Go duration such as "10m"'), 64)
        try:
            nanoseconds = parse_duration(text)
        except DurationError as error:
            raise SettingsError("%s is not valid: %s" % (name, error.reason)) from None
        if self.positive and nanoseconds <= 0:
            raise SettingsError("%s must be more than 0s" % name)
        if nanoseconds < self.minimum or (self.maximum is not None and nanoseconds > self.maximum):
            raise SettingsError("%s must be from %s to %s" % (name, _go(self.minimum), _go(self.maximum))
                                if self.maximum is not None else "%s must be at least %s" % (name, _go(self.minimum)))
        if self.fraction_of_day and _DAY % nanoseconds:
            raise SettingsError("%s must be an even fraction of 24h (hauser refuses others)" % name)
        return text


def _mapping(value, name, refuse):
    if isinstance(value, str):
        if len(value) > 64 * MAX_TEXT:
            raise SettingsError("%s is not valid: too long" % name)
        try:
            value = json.loads(value) if value.strip() else {}
        except (ValueError, RecursionError):  # nested deeper than Python's stack
            refuse(name)
    if not isinstance(value, Mapping):
        refuse(name)
    if len(value) > MAX_ENTRIES:
        raise SettingsError("%s is not valid: more than %d entries" % (name, MAX_ENTRIES))
    return dict(value)


class Dictionary(_Kind):
    """A mapping; from a string (-e, the environment), a JSON object. keys and values: kinds of
    its entries' keys and values, when they are checked here."""

    expected = "a JSON object"

    def __init__(self, keys=None, values=None):
        self.keys = keys
        self.values = values

    def convert(self, value, name):
        mapping = _mapping(value, name, self._refuse)
        if self.keys is None:
            return mapping
        return dict((self.keys.convert(key, "%s key" % name),
                     self.values.convert(item, "%s[%s]" % (name, key)))
                    for key, item in mapping.items())


class TextList(_Kind):
    """A list of strings (each of the kind item, when given); from a string, a JSON array or
    names separated by commas."""

    expected = "a list of strings"

    def __init__(self, item=None):
        self.item = item

    def convert(self, value, name):
        if isinstance(value, str):
            stripped = value.strip()
            if stripped.startswith("["):
                try:
                    value = json.loads(stripped)
                except ValueError:
                    self._refuse(name)
            else:
                value = [item.strip() for item in stripped.split(",") if item.strip()]
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence) or len(value) > MAX_ENTRIES \
                or not all(isinstance(item, str) for item in value):
            self._refuse(name)
        if self.item is not None:
            return [self.item.convert(item, "%s[%d]" % (name, index)) for index, item in enumerate(value)]
        return [_text(item, "%s[%d]" % (name, index), self._refuse) for index, item in enumerate(value)]


# The environment of every hauser process. supervisord reads its environment= line through an
# INI parser that ends the line at " ;" or " #" (inline comments) and then through a shell-like
# lexer that keeps a value whole only inside quotes and strips quotes from both of its ends; % is
# its expansion character. So a name is a plain variable name, and a value may hold neither a
# line break nor a blank before ";" or "#", nor start or end with a quote, nor hold both kinds
# of quote: such values cannot arrive as written, and are refused before any host changes.
ENVIRONMENT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_LOST_IN_SUPERVISORD = re.compile(r"[\r\n\x00]|\s[;#]")


def environment_value_problem(value):
    """Why supervisord would not pass value to hauser exactly as written, or None."""
    if _LOST_IN_SUPERVISORD.search(value):
        return "it holds a line break, a NUL, or a blank before ; or # (supervisord cuts the line there)"
    if value and (value[0] in "'\"" or value[-1] in "'\""):
        return "it starts or ends with a quote (supervisord strips quotes from both ends)"
    if '"' in value and "'" in value:
        return "it holds both kinds of quote (supervisord keeps a value whole only inside one kind)"
    return None


class Environment(Dictionary):
    """Environment variables: names of ENVIRONMENT_NAME, values that supervisord passes exactly."""

    expected = "a mapping of variable names to strings"

    def convert(self, value, name):
        mapping = _mapping(value, name, self._refuse)
        environment = {}
        for key, item in mapping.items():
            if not isinstance(key, str) or not ENVIRONMENT_NAME.match(key):
                raise SettingsError("%s: a variable name must be letters, digits and _, not starting with a digit"
                                    " (one is not)" % name)
            text = _text(item, "%s[%s]" % (name, key), lambda where: self._refuse(where, "a string"))
            problem = environment_value_problem(text)
            if problem:
                raise SettingsError("%s[%s] cannot be given to hauser: %s" % (name, key, problem))
            environment[key] = text
        return environment


class HauserKeys(Dictionary):
    """More hauser config keys: each one hauser 1.5.1 knows, its value of the kind hauser reads."""

    def convert(self, value, name):
        try:
            return check_extra(_mapping(value, name, self._refuse), name)
        except ConfigError as error:
            raise SettingsError(str(error)) from None


_NAME = Text(r"^[a-z_][a-z0-9_-]{0,31}$", "a user or group name (lower case letters, digits, _ and -)")

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
    # hauser times out every S3 call with 0
    "s3_timeout": Duration(positive=True, maximum=_DAY),
    "redshift_host": Text(),
    "redshift_port": Integer(1, 65535),
    "redshift_db": Text(),
    "redshift_user": Text(),
    "redshift_password": Text(),
    "redshift_database_schema": Text(),
    "redshift_credentials": Text(),
    # hauser panics with 0; Redshift's VARCHAR holds at most 65535 bytes
    "redshift_varchar_max": Integer(1, 65535),
    "local_save_dir": Path(optional=True),
    "version": Text(r"^[0-9]+\.[0-9]+\.[0-9]+$", "a version such as 1.5.1"),
    "download_url": Text(r"^https?://\S+$", "an http:// or https:// URL"),
    "archive": Text(),
    "archive_sha256": Text(r"^([0-9a-fA-F]{64})?$", "64 hexadecimal digits"),
    "cache_dir": Text(),
    "shard_hosts": TextList(),
    "shard_weight": Number(0, 1000),
    "pins": Dictionary(),
    "export_delay_base": Duration(MIN_EXPORT_DELAY, MAX_BASE),
    "export_delay_step": Duration(MIN_STEP, MAX_WINDOW),
    "export_delay_window": Duration(MIN_STEP, MAX_WINDOW),
    "export_duration": Duration(15 * MINUTE, _DAY, fraction_of_day=True),
    "backoff": Duration(0, _DAY),
    "backoff_steps_max": Integer(0, 64),
    "config_extra": HauserKeys(),
    "config_template": Text(),
    "environment": Environment(),
    "secret_environment": Environment(),
    "user": _NAME,
    "group": _NAME,
    "base_dir": Path(),
    "install_dir": Path(),
    "log_dir": Path(),
    "log_maxbytes": Text(r"^[0-9]{1,12}(KB|MB|GB)?$", "a size such as 10MB"),
    "log_backups": Integer(0, 1000),
    "start_timeout": Integer(0, 3600),
    "keep_versions": Integer(1, 100),
    "apt_cache_valid_time": Integer(0, 10 * 366 * 86400),
    "supervisor_sandbox": Boolean(),
    "supervisor_read_write_paths": TextList(Path()),
    "supervisor_restart": Boolean(),
    # The monitor: each org's export state, as node_exporter's textfile (a VM) or /metrics (the image).
    "monitor": Boolean(),
    "metrics_textfile_dir": Path(optional=True),
    "metrics_port": Integer(0, 65535),
    "metrics_address": Text(r"^[0-9A-Za-z.:-]{1,253}$", "an IP address or a host name"),
    # The removal (the role's remove entry point): what goes besides the orgs' programs and files.
    "remove_user": Boolean(),
    "remove_data": Boolean(),
    "remove_supervisor": Boolean(),
}

# The settings an image takes at run time, from MULTI_HAUSER_<NAME>: what shapes each org's files.
IMAGE_SETTINGS = (
    "provider", "storage_only", "gcs_bucket", "bigquery_project", "bigquery_dataset",
    "s3_bucket", "s3_region", "s3_timeout",
    "redshift_host", "redshift_port", "redshift_db", "redshift_user", "redshift_password",
    "redshift_database_schema", "redshift_credentials", "redshift_varchar_max",
    "local_save_dir", "export_duration", "export_delay_base", "export_delay_step", "export_delay_window",
    "backoff", "backoff_steps_max", "config_extra", "metrics_port", "metrics_address",
)

# What the image's entrypoint renders with besides IMAGE_SETTINGS, fixed when the image is built.
IMAGE_BUILD_SETTINGS = ("mode", "base_dir", "log_dir", "log_maxbytes", "log_backups", "user", "environment",
                        "monitor")

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

# hauser puts the Redshift password and user unquoted into its connection string: whitespace, a
# backslash or a leading quote would change what it connects with.
_UNQUOTED_IN_DSN = re.compile(r"[\s\\]|^'")


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


# Directories of the system that a deployment directory must not be: each becomes root:<group>
# 0750 (or root's 0750), which would lock every other user and service out of it.
SYSTEM_DIRS = frozenset("/" + path for path in (
    "bin boot dev etc home lib lib32 lib64 libx32 media mnt opt proc root run sbin srv sys tmp usr var "
    "etc/supervisor etc/supervisor/conf.d etc/systemd usr/bin usr/lib usr/libexec usr/local usr/local/bin "
    "usr/local/lib usr/local/sbin usr/local/share usr/sbin usr/share var/backups var/cache var/lib var/local "
    "var/log var/mail var/opt var/run var/spool var/tmp var/log/supervisor").split())


def _directories(settings):
    """(setting, path) of each directory this deployment owns on a host."""
    names = ["base_dir", "install_dir", "log_dir"] + (["local_save_dir"] if settings["provider"] == "local" else [])
    return [(name, settings[name]) for name in names if settings.get(name)]


def _inside(path, directory):
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def check_directories(settings, naming=ROLE_NAMING):
    """SettingsError when a deployment directory is a directory of the system, or the same as
    another or inside it: each has its own owners and modes, and hauser owns parts of some (an
    org's save directory, in an org directory, would hand root's config.toml to hauser)."""
    directories = _directories(settings)
    for name, path in directories:
        if path in SYSTEM_DIRS:
            raise SettingsError("%s is not valid: %s is a directory of the system (it would become this "
                                "deployment's, root:<group> 0750); name a directory of its own" % (naming(name), path))
    for index, (name, path) in enumerate(directories):
        for other_name, other_path in directories[index + 1:]:
            if _inside(path, other_path) or _inside(other_path, path):
                raise SettingsError("%s and %s must be apart: neither the same directory nor one inside the other"
                                    % (naming(name), naming(other_name)))


def check_required(settings, naming=ROLE_NAMING):
    """SettingsError naming the first setting that the provider needs and that is empty, or
    whose value hauser would misread; and when the ExportDelay window is shorter than its step."""
    provider = settings["provider"]
    for name in REQUIRED[(provider, bool(settings["storage_only"]))]:
        if not str(settings.get(name, "")).strip():
            raise SettingsError("%s must be set when %s is %s%s"
                                % (naming(name), naming("provider"), provider, naming.where))
    if provider == "aws" and not settings["storage_only"]:
        for name in ("redshift_user", "redshift_password", "redshift_host", "redshift_db"):
            if _UNQUOTED_IN_DSN.search(settings[name]):
                raise SettingsError("%s may hold no whitespace, backslash or leading quote: hauser puts it "
                                    "unquoted into its connection string" % naming(name))
    if parse_duration(settings["export_delay_window"]) < parse_duration(settings["export_delay_step"]):
        raise SettingsError("%s must be at least %s" % (naming("export_delay_window"), naming("export_delay_step")))
    check_directories(settings, naming)


def image_settings(settings, layout):
    """The image's defaults: the settings its entrypoint renders with, and where things are."""
    defaults = dict((name, settings[name]) for name in IMAGE_SETTINGS + IMAGE_BUILD_SETTINGS)
    defaults.update(hauser_path=layout["binary"], program_dir=layout["program_dir"], credentials_path="",
                    supervisord_conf=layout["container_supervisord_conf"], monitor_config=layout["monitor_config"],
                    metrics_dir=layout["image_run_dir"])
    return defaults
