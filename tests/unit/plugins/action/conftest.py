"""Action plugins run as Ansible runs them: a real ansible-playbook process on this machine, the
collection found through ANSIBLE_COLLECTIONS_PATH (the checkout, see tests/unit/conftest.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import ansible_collections.hauser.multi_hauser as collection

REPO = Path(__file__).resolve().parents[4]
COLLECTIONS_DIR = str(Path(collection.__path__[0]).parents[2])
ROLE_DEFAULTS = REPO / "roles" / "multi_hauser" / "defaults" / "main.yml"
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))


class Run(object):
    def __init__(self, process):
        self.rc = process.returncode
        self.stdout = process.stdout
        self.stderr = process.stderr
        self.output = process.stdout + process.stderr


@pytest.fixture
def playbook(tmp_path):
    """playbook(plays, inventory=None, extra_vars=None, options=(), name=None, prefix=()) -> Run:
    writes the plays (a list, or the name of one of the collection's playbooks) and runs them."""
    count = [0]

    def run(plays, inventory=None, extra_vars=None, options=(), prefix=()):
        count[0] += 1
        if isinstance(plays, str):
            target = plays
        else:
            target = str(tmp_path / ("play-%d.yml" % count[0]))
            Path(target).write_text(yaml.safe_dump(plays, sort_keys=False))
        inventory_path = tmp_path / ("inventory-%d.yml" % count[0])
        inventory_path.write_text(yaml.safe_dump(inventory or {"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
        argv = list(prefix) + [ANSIBLE_PLAYBOOK, "-i", str(inventory_path)]
        if extra_vars:  # before the options: an -e of the options wins
            vars_path = tmp_path / ("vars-%d.yml" % count[0])
            vars_path.write_text(yaml.safe_dump(extra_vars))
            argv += ["-e", "@%s" % vars_path]
        argv += list(options) + [target]
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_DIR, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
                   ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="0", ANSIBLE_HOST_KEY_CHECKING="0",
                   ANSIBLE_RETRY_FILES_ENABLED="0")
        process = subprocess.run(argv, capture_output=True, text=True, cwd=str(tmp_path), env=env,
                                 timeout=300, check=False)
        return Run(process)

    return run


def with_role_defaults(tasks, **play):
    """One play on localhost whose variables are the role's defaults, then tasks."""
    play.setdefault("hosts", "localhost")
    play.setdefault("gather_facts", False)
    play["vars_files"] = [str(ROLE_DEFAULTS)]
    play.setdefault("vars", {})["role_path"] = str(REPO / "roles" / "multi_hauser")
    play["tasks"] = tasks
    return [play]
