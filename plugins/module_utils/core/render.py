# -*- coding: utf-8 -*-
# Copyright (c) 2026, multi_hauser contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each org's hauser config.toml and supervisord program, rendered from Jinja templates.

One implementation for both ways the collection runs hauser: the plan renders on the Ansible
controller (VMs), the image's entrypoint renders when the container starts.

Data flow: settings + one org (from the key file) -> ``org_context`` -> the config template
(ours prints ``hauser_config | toml``) and the program template.

Jinja2 is imported where templates are rendered: the controller and the image have it, a VM
(which only receives rendered files) need not.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.config import (
    ConfigError,
    check_table_names,
    hauser_config,
    to_toml,
    toml_value,
)
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import MARKER, PROGRAM_DIR, Layout
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.secrets import mask_values, secret_values
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.settings import environment_value_problem


def supervisor_value(value):
    """A value for a supervisord environment= line, quoted so that supervisord passes it on
    exactly: in double quotes, or in single quotes when it holds a double one (supervisord's
    lexer takes either, and no escape), with % doubled (its expansion character)."""
    text = str(value)
    problem = environment_value_problem(text)
    if problem:
        raise ConfigError("an environment value cannot be given to hauser: %s" % problem)
    quote = "'" if '"' in text else '"'
    return quote + text.replace("%", "%%") + quote


def layout_of(settings):
    return Layout(settings["base_dir"], settings.get("program_dir") or PROGRAM_DIR, settings.get("log_dir", ""),
                  settings.get("local_save_dir", ""))


def program_environment(settings):
    """The environment of every org's hauser: its home and user, the credentials file when the
    deployment installs one, then the settings' own variables, the secret ones last."""
    environment = {"HOME": settings["base_dir"], "USER": settings["user"]}
    if settings.get("credentials_path"):
        environment["GOOGLE_APPLICATION_CREDENTIALS"] = settings["credentials_path"]
    environment.update(settings.get("environment") or {})
    environment.update(settings.get("secret_environment") or {})
    return environment


def template_settings(settings):
    """What templates see as ``settings``: the settings, the marker and every org's environment."""
    seen = dict(settings)
    seen["marker"] = MARKER
    seen["environment"] = program_environment(settings)
    return seen


def org_context(org, settings, layout):
    """The variables a config or program template sees for one org."""
    org_id = org["org_id"]
    return {
        "org": org,
        "settings": settings,
        "org_dir": layout.org_dir(org_id),
        "config_path": layout.config_path(org_id),
        "log_path": layout.log_path(org_id),
        "program_name": layout.program_name(org_id),
        "hauser_config": hauser_config(org, settings, layout),
    }


def _masked(message, org, settings):
    """A message with the org's key and every secret setting masked: a template's error may quote
    what the template looked up."""
    return mask_values(message, secret_values(settings, [org]))


def _environment():
    import jinja2.sandbox  # pylint: disable=import-outside-toplevel  # only where templates are rendered

    env = jinja2.sandbox.SandboxedEnvironment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False,
        trim_blocks=True, lstrip_blocks=True,  # as Ansible's template module
    )
    env.filters["toml"] = to_toml
    env.filters["toml_value"] = toml_value
    env.filters["supervisor_value"] = supervisor_value
    return env


def render_org_files(orgs, settings, config_template, program_template, source="key file"):
    """Render every org's files: a list of dicts with org_id, dirs, config and program.

    Templates are given as text. Errors name the org's line, never a key.
    """
    import jinja2  # pylint: disable=import-outside-toplevel

    env = _environment()
    templates = {}
    for name, text in (("config", config_template), ("program", program_template)):
        try:
            templates[name] = env.from_string(text)
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError("the %s template has a syntax error on its line %d: %s" % (name, exc.lineno, exc.message))
    check_table_names(orgs, source)
    layout = layout_of(settings)
    seen_settings = template_settings(settings)
    rendered = []
    for org in orgs:
        try:
            context = org_context(org, seen_settings, layout)
        except ConfigError as exc:
            raise ConfigError(_masked(str(exc), org, settings)) from None
        files = {"org_id": org["org_id"], "dirs": layout.org_dirs(org["org_id"], settings["provider"])}
        for name, template in templates.items():
            try:
                text = template.render(context)
            except Exception as exc:  # pylint: disable=broad-except  # a template's own error, whatever it is
                if isinstance(exc, (jinja2.TemplateError, ConfigError)):
                    why = getattr(exc, "message", None) or str(exc)
                else:  # a Python error of the template's own code, 1 / 0 say
                    why = "%s: %s" % (type(exc).__name__, exc)
                # Said without the exception's chain, which may quote a value of the template.
                raise ConfigError(_masked("the %s template failed for the org on line %d: %s"
                                          % (name, org["line"], why), org, settings)) from None
            # Templates read by Ansible's file lookup have lost their final newline.
            files[name] = text if text.endswith("\n") else text + "\n"
        rendered.append(files)
    return rendered
