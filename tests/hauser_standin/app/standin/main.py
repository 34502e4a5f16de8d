"""hauser's main: flags, -version, config.Load, start-up, a line saying it runs, then hauser's
export loop (service.run) until a signal or a fatal error ends it.

A release built broken (build.py --broken) fails on purpose, the way its kind says:

    version         every run fails at once like a binary whose shared library is missing
                    (exit status 127), -version included
    wrong-version   -version prints "hauser dev build <no version set>", a build without its
                    version; it runs like a good one otherwise
    start           -version works; a run loads its config, then exits 1 with a log.Fatal line
"""

import os
import signal
import sys

from standin import build_info, config, flags, startup
from standin.build_info import VERSION
from standin.goruntime import Fatal, Panic, exit_fatal, exit_panic, go_string, log, set_secret

BROKEN = getattr(build_info, "BROKEN", None)
_GO_UNSET_VERSION = "dev build <no version set>"


def main(argv):
    # hauser handles no signal: SIGINT, like SIGTERM, ends it at once.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if BROKEN == "version":
        _fail_to_load(argv[0])
    config_path, print_version = flags.parse(argv[1:])
    if print_version:
        version = _GO_UNSET_VERSION if BROKEN == "wrong-version" else VERSION
        sys.stdout.write("%s %s\n" % (os.path.basename(argv[0]), version))
        return 0
    try:
        conf = config.load(config_path)
        set_secret(conf["FsApiToken"])
        if BROKEN == "start":
            raise Fatal("stand-in: release %s is built broken: it exits at start" % VERSION)
        startup.start(conf)
    except Fatal as error:
        exit_fatal(error)
    except Panic as error:
        exit_panic(error)
    log(_running_line(config_path, conf))
    from standin import service  # pylint: disable=import-outside-toplevel
    service.run(conf)
    return 1


def _fail_to_load(program):
    """What the dynamic loader says when a program's shared library is missing."""
    sys.stderr.write("%s: error while loading shared libraries: libresolv.so.2: cannot open shared "
                     "object file: No such file or directory\n" % program)
    sys.stderr.flush()
    sys.exit(127)


def _running_line(config_path, conf):
    return "hauser stand-in %s running: config=%s dir=%s provider=%s ExportDelay=%s token=%s" % (
        VERSION,
        os.path.abspath(config_path),
        os.getcwd(),
        conf["Provider"],
        go_string(conf["ExportDelay"]),
        config.token_source(conf),
    )
