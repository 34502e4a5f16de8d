"""hauser's command line, parsed by the rules of Go's flag package (flag.Parse, ExitOnError)."""

import sys

from standin.goruntime import go_quote

DEFAULT_CONFIG = "config.toml"
_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


class _UsageError(Exception):
    """A bad command line: Go prints the error and the usage, and exits 2."""


class _HelpRequested(Exception):
    """-h or -help: Go prints the usage and exits 0."""


def parse(args):
    """Return (config file, print version) for hauser's flags `-c FILE` and `-version`.

    Like a Go program, exits 2 with a usage message on a bad flag, 0 on -h/-help."""
    options = {"c": DEFAULT_CONFIG, "version": False}
    args = list(args)
    try:
        while args:
            args = _parse_one(args, options)
    except _HelpRequested:
        sys.stderr.write(_usage())
        sys.exit(0)
    except _UsageError as error:
        sys.stderr.write("%s\n%s" % (error, _usage()))
        sys.exit(2)
    return options["c"], options["version"]


def _parse_one(args, options):
    """Apply the first flag of args to options; return the arguments left to parse."""
    arg = args[0]
    if len(arg) < 2 or arg[0] != "-" or arg == "--":
        return []  # flags end at the first non-flag argument, or at "--"
    name = arg[2:] if arg[1] == "-" else arg[1:]
    if not name or name[0] in "-=":
        raise _UsageError("bad flag syntax: " + arg)
    rest = args[1:]
    name, equals, value = name.partition("=")
    if name not in options:
        if name in ("h", "help"):
            raise _HelpRequested()
        raise _UsageError("flag provided but not defined: -" + name)
    if name == "version":
        options[name] = _parse_bool(value if equals else "true", name)
        return rest
    if not equals:
        if not rest:
            raise _UsageError("flag needs an argument: -" + name)
        value, rest = rest[0], rest[1:]
    options[name] = value
    return rest


def _parse_bool(value, name):
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _UsageError("invalid boolean value %s for -%s: parse error" % (go_quote(value), name))


def _usage():
    return (
        "Usage of %s:\n"
        "  -c string\n"
        "    \tconfiguration file (default \"%s\")\n"
        "  -version\n"
        "    \tprint version\n"
    ) % (sys.argv[0], DEFAULT_CONFIG)
