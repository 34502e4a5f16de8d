"""Per-task seconds of several ansible-playbook runs, side by side, from their logs.

Run: python tests/bench/task_times.py [--min SECONDS] LABEL=LOG [LABEL=LOG ...]
Each log is the output of a run with the ansible.posix.profile_tasks callback enabled and
PROFILE_TASKS_SORT_ORDER=none, PROFILE_TASKS_TASK_OUTPUT_LIMIT=all (as tests/harness/bench.sh runs
them): its TASKS RECAP lists every task in execution order with the seconds until the next one.
Runs of the same playbook list the same tasks, so they are matched by position (by name when the
lists differ). Only tasks that take at least --min seconds in some run are shown; the last line
is the sum over all tasks, the one before it what the shown tasks leave out.
"""

import argparse
import re
import sys

RECAP_LINE = re.compile(r"^(?P<name>.*?) -+ (?P<seconds>[0-9]+\.[0-9]+)s$")
ROLE_PREFIX = re.compile(r"^[\w.]+ : ")  # "hauser.multi_hauser.multi_hauser : " before a role's tasks


def read_recap(path):
    """[(task name, seconds)] from the TASKS RECAP of one log, in execution order."""
    tasks, in_recap = [], False
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line.startswith("TASKS RECAP"):
                tasks, in_recap = [], True
                continue
            if in_recap:
                match = RECAP_LINE.match(line)
                if match:
                    tasks.append((ROLE_PREFIX.sub("", match.group("name")), float(match.group("seconds"))))
    return tasks


def align(runs):
    """[(name, [seconds per run])]: by position when every run has the same number of tasks."""
    lengths = set(len(tasks) for tasks in runs)
    if len(lengths) == 1:
        return [(runs[0][index][0], [tasks[index][1] for tasks in runs]) for index in range(lengths.pop())]
    order, table = [], {}
    for number, tasks in enumerate(runs):
        for name, seconds in tasks:
            if name not in table:
                order.append(name)
                table[name] = [0.0] * len(runs)
            table[name][number] += seconds
    return [(name, table[name]) for name in order]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, default=0.5, help="show tasks taking this long in some run")
    parser.add_argument("--width", type=int, default=60, help="task name column width")
    parser.add_argument("runs", nargs="+", metavar="LABEL=LOG")
    args = parser.parse_args(argv)
    labels, runs = [], []
    for run in args.runs:
        label, path = (run.split("=", 1) + [""])[:2]
        labels.append(label)
        runs.append(read_recap(path))
    rows = align(runs)
    column = max([10] + [len(label) for label in labels])
    print("%-*s %s" % (args.width, "task", " ".join("%*s" % (column, label) for label in labels)))
    hidden = [0.0] * len(runs)
    for name, seconds in rows:
        if max(seconds) >= args.min:
            if len(name) > args.width:
                name = name[:args.width - 3] + "..."
            print("%-*s %s" % (args.width, name, " ".join("%*.2f" % (column, value) for value in seconds)))
        else:
            hidden = [total + value for total, value in zip(hidden, seconds)]
    print("%-*s %s" % (args.width, "(other tasks)", " ".join("%*.2f" % (column, value) for value in hidden)))
    totals = [sum(task[1] for task in tasks) for tasks in runs]
    print("%-*s %s" % (args.width, "(all tasks)", " ".join("%*.2f" % (column, value) for value in totals)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
