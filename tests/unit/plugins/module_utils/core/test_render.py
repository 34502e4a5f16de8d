"""render: every org's config.toml and supervisord program from the role's own templates, read
back as hauser reads a config (tomllib) and as supervisord reads a program (supervisor's own
config parser, the version Debian 12 ships)."""

import pathlib
import pwd
import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from supervisor.datatypes import RestartUnconditionally
from supervisor.options import ServerOptions, UnhosedConfigParser

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.config import ConfigError
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import MARKER
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.render import (
    program_environment,
    render_org_files,
    supervisor_value,
)
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.settings import SettingsError
from test_config import AWS, GCP, LOCAL, role_settings

TEMPLATES = pathlib.Path(__file__).resolve().parents[5] / "roles" / "multi_hauser" / "templates"
CONFIG_TEMPLATE = (TEMPLATES / "config.toml.j2").read_text()
PROGRAM_TEMPLATE = (TEMPLATES / "program.conf.j2").read_text()
KEY = "na1.Zx9Qw8Er7Ty6/abc"
KEY2 = "na1.Pl0Ok9Ij8Uh7/def"
HAUSER = "/opt/multi-hauser/1.5.1/hauser"
# A user that exists here, so that supervisord's parser accepts the program's user= line.
USER = "nobody"
ORGS = [
    {"org_id": "o-1A2B3C-na1", "api_key": KEY, "line": 2, "export_delay": "24h"},
    {"org_id": "o-4D5E6F-na1", "api_key": KEY2, "line": 5, "export_delay": "24h10m"},
]


@pytest.fixture
def dirs(tmp_path):
    """base, log and program directories (supervisord's parser wants the log directory to exist)."""
    for name in ("base", "log", "conf.d"):
        (tmp_path / name).mkdir()
    return tmp_path


def settings_for(dirs, provider=None, credentials_path="", **overrides):
    """The settings the plan renders a VM's files with: the role's, and the host's paths."""
    settings = role_settings(**dict(provider or GCP, user=USER, base_dir=str(dirs / "base"), log_dir=str(dirs / "log"),
                                    **overrides))
    settings.update(hauser_path=HAUSER, program_dir=str(dirs / "conf.d"), credentials_path=credentials_path)
    return settings


def render(settings, orgs=None, config_template=CONFIG_TEMPLATE, program_template=PROGRAM_TEMPLATE, **kwargs):
    return render_org_files(orgs or ORGS, settings, config_template, program_template, **kwargs)


def supervisor_group(program):
    """The process group supervisord makes of a program file."""
    parser = UnhosedConfigParser()
    parser.read_string(program)
    [group] = ServerOptions().process_groups_from_parser(parser)
    return group


def supervisor_reads(program):
    """The process config supervisord makes of a program file."""
    [process] = supervisor_group(program).process_configs
    return process


# --- the role's templates -------------------------------------------------------------------------


def test_each_config_is_the_orgs_hauser_config_as_toml(dirs):
    settings = settings_for(dirs)
    files = render(settings)
    assert [record["org_id"] for record in files] == ["o-1A2B3C-na1", "o-4D5E6F-na1"]
    for org, record in zip(ORGS, files):
        config = tomllib.loads(record["config"])
        assert config["FsApiToken"] == org["api_key"]
        assert config["ExportDelay"] == org["export_delay"]
        assert config["Provider"] == "gcp"
        assert config["TmpDir"] == str(dirs / "base" / org["org_id"] / "tmp")
        assert config["FilePrefix"] == org["org_id"] + "/"
        assert config["bigquery"]["ExportTable"] == "fs_export_" + org["org_id"].replace("-", "_")
        assert config["gcs"]["Bucket"] == "my-bucket"
        assert (config["ExportDuration"], config["Backoff"], config["BackoffStepsMax"]) == \
            (settings["export_duration"], settings["backoff"], settings["backoff_steps_max"])
        assert record["dirs"] == [str(dirs / "base" / org["org_id"] / "tmp")]
        assert record["config"].endswith("\n")
    # each org's key is in its own config only
    assert KEY2 not in files[0]["config"] and KEY not in files[1]["config"]


def test_a_vm_program_runs_hauser_on_the_orgs_config_as_the_user_and_logs_to_the_orgs_log(dirs):
    record = render(settings_for(dirs))[0]
    assert MARKER in record["program"]  # what tells the modules the program file is theirs
    group = supervisor_group(record["program"])
    process = supervisor_reads(record["program"])
    org_dir = str(dirs / "base" / "o-1A2B3C-na1")
    assert group.name == process.name == "hauser-o-1A2B3C-na1"
    assert process.command == "%s -c %s/config.toml" % (HAUSER, org_dir)
    assert process.directory == org_dir
    assert process.uid == pwd.getpwnam(USER).pw_uid
    assert process.umask == 0o027
    assert process.environment == {"HOME": str(dirs / "base"), "USER": USER}
    assert process.autostart is True and process.autorestart is RestartUnconditionally
    assert process.redirect_stderr is True
    assert process.stdout_logfile == str(dirs / "log" / "o-1A2B3C-na1.log")
    assert process.stdout_logfile_maxbytes == 10 * 1024 * 1024 and process.stdout_logfile_backups == 5
    assert process.stdout_events_enabled is False


def test_an_image_program_sends_its_output_to_the_container_log(dirs):
    record = render(settings_for(dirs, mode="image"))[0]
    process = supervisor_reads(record["program"])
    assert process.stdout_logfile is None  # NONE: no log file in a container
    assert process.stdout_events_enabled is True
    assert str(dirs / "log") not in record["program"]
    assert process.command == "%s -c %s/config.toml" % (HAUSER, dirs / "base" / "o-1A2B3C-na1")


def test_the_log_settings_reach_supervisord(dirs):
    record = render(settings_for(dirs, log_maxbytes="1MB", log_backups="2"))[0]
    process = supervisor_reads(record["program"])
    assert (process.stdout_logfile_maxbytes, process.stdout_logfile_backups) == (1024 * 1024, 2)


def test_the_local_provider_needs_the_orgs_save_directory_too(dirs):
    record = render(settings_for(dirs, LOCAL))[0]
    assert record["dirs"] == [str(dirs / "base" / "o-1A2B3C-na1" / "tmp"), "/srv/fullstory/o-1A2B3C-na1"]
    assert tomllib.loads(record["config"])["local"] == {"SaveDir": "/srv/fullstory/o-1A2B3C-na1"}


def test_aws_configs_render_with_the_password(dirs):
    record = render(settings_for(dirs, AWS))[0]
    assert tomllib.loads(record["config"])["redshift"]["Password"] == AWS["redshift_password"]


def test_rendering_does_not_change_the_orgs_or_settings(dirs):
    settings = settings_for(dirs)
    orgs = [dict(org) for org in ORGS]
    before = (repr(settings), repr(orgs))
    render(settings, orgs)
    assert (repr(settings), repr(orgs)) == before


def test_org_ids_that_share_tables_are_refused_naming_the_source(dirs):
    orgs = ORGS + [{"org_id": "o_1A2B3C_na1", "api_key": "na1.third", "line": 9, "export_delay": "24h"}]
    with pytest.raises(ConfigError, match=r"^keys\.csv: the org ids of lines 2 and 9 give the same table names"):
        render(settings_for(dirs), orgs, source="keys.csv")


# --- the environment ------------------------------------------------------------------------------


def test_program_environment_without_credentials():
    assert program_environment({"base_dir": "/var/lib/mh", "user": "hauser", "credentials_path": ""}) == \
        {"HOME": "/var/lib/mh", "USER": "hauser"}


def test_program_environment_with_credentials_and_variables_of_the_settings():
    environment = program_environment({"base_dir": "/var/lib/mh", "user": "hauser",
                                       "credentials_path": "/etc/multi-hauser/gcp-credentials.json",
                                       "environment": {"HTTPS_PROXY": "http://proxy:3128"}})
    assert environment == {"HOME": "/var/lib/mh", "USER": "hauser",
                           "GOOGLE_APPLICATION_CREDENTIALS": "/etc/multi-hauser/gcp-credentials.json",
                           "HTTPS_PROXY": "http://proxy:3128"}


def test_supervisord_gives_hauser_the_credentials_and_the_variables(dirs):
    environment = {"HTTPS_PROXY": "http://user@proxy:3128", "NO_PROXY": "localhost,127.0.0.1,.internal",
                   "GREETING": "50% off, today", "EMPTY": ""}
    record = render(settings_for(dirs, credentials_path="/etc/multi-hauser/gcp-credentials.json",
                                 environment=environment))[0]
    process = supervisor_reads(record["program"])
    assert process.environment == dict(
        {"HOME": str(dirs / "base"), "USER": USER,
         "GOOGLE_APPLICATION_CREDENTIALS": "/etc/multi-hauser/gcp-credentials.json"}, **environment)


def _as_supervisord_reads(value):
    parser = UnhosedConfigParser()
    parser.read_string("[program:x]\ncommand=/bin/true\nenvironment=A=%s,B=\"b\"\n" % supervisor_value(value))
    [group] = ServerOptions().process_groups_from_parser(parser)
    return group.process_configs[0].environment


@pytest.mark.parametrize("value, written", [("plain", '"plain"'), ("50%", '"50%%"'), ("%(ENV_HOME)s", '"%%(ENV_HOME)s"'),
                                            ("a,b", '"a,b"'), (8, '"8"'), ('say "hi" now', "'say \"hi\" now'"),
                                            ("it's", '"it\'s"'), ("back\\slash", '"back\\slash"'),
                                            ("a;b#c", '"a;b#c"'), ("x=y", '"x=y"'), ("", '""')])
def test_supervisor_value_quotes_and_doubles_percent_signs(value, written):
    assert supervisor_value(value) == written
    assert _as_supervisord_reads(value) == {"A": str(value), "B": "b"}


@pytest.mark.parametrize("value, problem", [
    ("two\nlines", "it holds a line break, a NUL, or a blank before ; or # (supervisord cuts the line there)"),
    ("cr\r", "it holds a line break, a NUL, or a blank before ; or # (supervisord cuts the line there)"),
    ("nul\x00", "it holds a line break, a NUL, or a blank before ; or # (supervisord cuts the line there)"),
    ("a ;comment", "it holds a line break, a NUL, or a blank before ; or # (supervisord cuts the line there)"),
    ("a\t#comment", "it holds a line break, a NUL, or a blank before ; or # (supervisord cuts the line there)"),
    ('say "hi"', "it starts or ends with a quote (supervisord strips quotes from both ends)"),
    ("'quoted'", "it starts or ends with a quote (supervisord strips quotes from both ends)"),
    ("it'", "it starts or ends with a quote (supervisord strips quotes from both ends)"),
    ("it's \"x\" y", "it holds both kinds of quote (supervisord keeps a value whole only inside one kind)"),
])
def test_supervisor_value_refuses_what_supervisord_cannot_read_back(value, problem):
    with pytest.raises(ConfigError) as caught:
        supervisor_value(value)
    assert str(caught.value) == "an environment value cannot be given to hauser: " + problem


# Any text but lone surrogates (which are no text): quotes, backslashes, ; and #, blanks, controls.
ENV_TEXT = st.text(st.characters(max_codepoint=0x24F, blacklist_categories=("Cs",)), max_size=30)


@given(ENV_TEXT)
def test_supervisord_reads_back_every_value_supervisor_value_writes(value):
    try:
        written = supervisor_value(value)
    except ConfigError:
        return  # refused before any host changes
    assert written.startswith(("'", '"'))
    assert _as_supervisord_reads(value) == {"A": value, "B": "b"}


@pytest.mark.parametrize("value", ["it'", "'quoted'", '"quoted"', "x\""])
def test_a_value_with_a_quote_at_an_end_is_refused_rather_than_losing_it(value):
    # supervisord strips quote characters at both ends of a value (dict_of_key_value_pairs: .strip('\'"'))
    with pytest.raises(ConfigError, match="starts or ends with a quote"):
        supervisor_value(value)


@pytest.mark.parametrize("name", ["HTTP PROXY", "A,B", "A=B", "1A", "A-B"])
def test_an_environment_name_supervisord_cannot_parse_is_refused_before_any_host_changes(dirs, name):
    with pytest.raises(SettingsError, match=r"^multi_hauser_environment: a variable name must be letters, digits"):
        settings_for(dirs, environment={name: "x"})


def test_the_secret_environment_reaches_hauser_after_the_other_variables(dirs):
    settings = settings_for(dirs, environment={"HTTPS_PROXY": "http://proxy:3128", "TZ": "UTC"},
                            secret_environment={"AWS_SECRET_ACCESS_KEY": "Sekr1t/Key+x", "PROXY_PASS": 'p"w'})
    environment = program_environment(settings)
    assert list(environment)[-2:] == ["AWS_SECRET_ACCESS_KEY", "PROXY_PASS"]
    record = render(settings)[0]
    assert supervisor_reads(record["program"]).environment == {
        "HOME": str(dirs / "base"), "USER": USER, "HTTPS_PROXY": "http://proxy:3128", "TZ": "UTC",
        "AWS_SECRET_ACCESS_KEY": "Sekr1t/Key+x", "PROXY_PASS": 'p"w'}
    assert "Sekr1t/Key+x" not in record["config"]


def test_a_template_error_never_shows_a_secret_environment_value(dirs):
    settings = settings_for(dirs, secret_environment={"TOKEN_X": "Sekr1t-value-9"})
    with pytest.raises(ConfigError) as caught:
        render(settings, config_template="{{ settings.config_extra[settings.secret_environment.TOKEN_X] }}")
    assert "Sekr1t-value-9" not in str(caught.value)


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["config", "program"])
def test_a_template_syntax_error_names_the_template_and_its_line(dirs, which):
    broken = "# line 1\n# line 2\n{% if org.org_id %}\n{{ org.org_id }\n"
    templates = {"config_template": CONFIG_TEMPLATE, "program_template": PROGRAM_TEMPLATE}
    templates[which + "_template"] = broken
    with pytest.raises(ConfigError) as caught:
        render(settings_for(dirs), **templates)
    message = str(caught.value)
    assert message.startswith("the %s template has a syntax error on its line 4: " % which)


@pytest.mark.parametrize("which", ["config", "program"])
@pytest.mark.parametrize("template", [
    "{{ hauser_config.NoSuchKey }}",
    "{{ settings.no_such_setting }}",
    "{{ org.api_key.__class__ }}",  # the sandbox keeps templates out of Python's internals
    "{% if org.line > 1 %}{{ undefined_name }}{% endif %}",
])
def test_a_template_failing_at_runtime_names_the_template_and_the_orgs_line_and_no_key(dirs, which, template):
    templates = {"config_template": CONFIG_TEMPLATE, "program_template": PROGRAM_TEMPLATE}
    templates[which + "_template"] = template
    with pytest.raises(ConfigError) as caught:
        render(settings_for(dirs), **templates)
    message = str(caught.value)
    assert message.startswith("the %s template failed for the org on line 2: " % which)
    assert KEY not in message and KEY2 not in message


@pytest.mark.parametrize("template", ["{{ 1 / 0 }}", "{{ hauser_config.BackoffStepsMax + 's' }}"])
def test_a_custom_template_that_raises_a_python_error_gives_a_config_error(dirs, template):
    with pytest.raises(ConfigError, match="the config template failed for the org on line 2"):
        render(settings_for(dirs), config_template=template)


@pytest.mark.parametrize("templates, which", [
    # a list holding a table, which toml_value cannot write as a value
    ({"config_template": CONFIG_TEMPLATE + "SegmentId = {{ [1, {'a': 1}] | toml_value }}\n"}, "config"),
    ({"program_template": PROGRAM_TEMPLATE + "environment=LABEL={{ 'say \"hi\"' | supervisor_value }}\n"}, "program"),
])
def test_errors_of_the_template_filters_name_the_template_and_the_orgs_line(dirs, templates, which):
    with pytest.raises(ConfigError, match="the %s template failed for the org on line 2" % which):
        render(settings_for(dirs), **templates)


def test_a_runtime_error_never_shows_a_key_even_when_the_template_looks_it_up(dirs):
    with pytest.raises(ConfigError) as caught:
        render(settings_for(dirs), config_template="{{ settings.config_extra[org.api_key] }}")
    assert KEY not in str(caught.value)


# --- a custom config template ---------------------------------------------------------------------

CUSTOM = """\
# my own config for {{ org.org_id }} in {{ org_dir }}
FsApiToken = {{ org.api_key | toml_value }}
ExportDelay = {{ org.export_delay | toml_value }}
TmpDir = {{ hauser_config.TmpDir | toml_value }}
SegmentId = {{ ("segment-" ~ org.line) | toml_value }}
Provider = "local"

[local]
SaveDir = {{ ("/data/" ~ org.org_id) | toml_value }}"""


def test_a_custom_config_template_sees_the_org_and_its_hauser_config(dirs):
    files = render(settings_for(dirs, LOCAL), config_template=CUSTOM)
    for org, record in zip(ORGS, files):
        assert record["config"].startswith("# my own config for %s in %s\n" % (org["org_id"], dirs / "base" / org["org_id"]))
        assert record["config"].endswith('"\n')  # the newline the file lookup takes off is put back
        assert tomllib.loads(record["config"]) == {
            "FsApiToken": org["api_key"], "ExportDelay": org["export_delay"],
            "TmpDir": str(dirs / "base" / org["org_id"] / "tmp"), "SegmentId": "segment-%d" % org["line"],
            "Provider": "local", "local": {"SaveDir": "/data/" + org["org_id"]}}


def test_a_custom_template_still_gets_the_checks_of_hauser_config(dirs):
    settings = settings_for(dirs)
    settings["export_duration"] = "7h"  # refused by the settings; hauser_config checks it all the same
    with pytest.raises(ConfigError, match="^org on line 2: ExportDuration must be"):
        render(settings, config_template="FsApiToken = {{ org.api_key | toml_value }}")
