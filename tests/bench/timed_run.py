"""Run a command and print its wall-clock seconds and the CPU seconds it cost, here and in containers.

Run: python tests/bench/timed_run.py CONTAINER[,CONTAINER...] LOG -- COMMAND...
Prints one line, "RC WALL CONTROLLER_CPU VM_CPU" (seconds, VM_CPU "n/a" when a container's cgroup
is not found, or when CONTAINER is "-": no container), and writes the command's output to LOG.
CONTROLLER_CPU is the user and system time of the command and everything it waited for
(ansible-playbook, its workers, ssh); VM_CPU is what the containers' cgroups used meanwhile, summed
over the comma-separated containers (the modules, supervisord, the programs it starts). CPU
seconds hardly depend on what else the machine runs; wall-clock seconds do.
"""

import glob
import resource
import subprocess
import sys
import time


def cgroup_reader(container):
    """A function returning the container's CPU seconds so far, or None (cgroup v1 or v2)."""
    cid = subprocess.check_output(["docker", "inspect", "--format", "{{.Id}}", container], text=True).strip()
    for path in glob.glob("/sys/fs/cgroup/cpuacct/docker/%s/cpuacct.usage" % cid):
        return lambda: int(_read(path)) / 1e9
    for path in (glob.glob("/sys/fs/cgroup/system.slice/docker-%s.scope/cpu.stat" % cid)
                 + glob.glob("/sys/fs/cgroup/docker/%s/cpu.stat" % cid)):
        return lambda: int(dict(line.split() for line in _read(path).splitlines())["usage_usec"]) / 1e6
    return lambda: None


def cgroups_reader(containers):
    """A function returning the CPU seconds so far of every container summed, or None ("-": none)."""
    readers = [cgroup_reader(name) for name in containers.split(",") if name and name != "-"]

    def total():
        seconds = [reader() for reader in readers]
        return None if not seconds or None in seconds else sum(seconds)

    return total


def _read(path):
    with open(path, encoding="ascii") as handle:
        return handle.read()


def main(argv):
    if len(argv) < 4 or argv[2] != "--":
        sys.exit("usage: timed_run.py CONTAINER[,CONTAINER...] LOG -- COMMAND...")
    containers, log, command = argv[0], argv[1], argv[3:]
    vm_cpu = cgroups_reader(containers)
    before, vm_before, start = resource.getrusage(resource.RUSAGE_CHILDREN), vm_cpu(), time.time()
    with open(log, "w", encoding="utf-8") as out:
        rc = subprocess.call(command, stdout=out, stderr=subprocess.STDOUT)
    wall, vm_after, after = time.time() - start, vm_cpu(), resource.getrusage(resource.RUSAGE_CHILDREN)
    controller = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    vm = "n/a" if vm_before is None or vm_after is None else "%.1f" % (vm_after - vm_before)
    print("%d %.1f %.1f %s" % (rc, wall, controller, vm))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
