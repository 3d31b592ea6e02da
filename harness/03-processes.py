#!/usr/bin/env python3
"""harness/03-processes.py - Chapter 3's Python side: the notes' CPU-bound
code with threads and with processes, and what a process costs.

The command line, the timing and the standard modes (py-serial, py-threads,
py-processes: a fork-context multiprocessing.Pool) are harness/bench.py's
(read its top first). This file adds:

    workloads  cpu   the notes' cpu_intensive_task, Chapter 1's own
                     (harness/01-gil.py), not a copy
    commands   those of harness/processes_cost.py (its COMMANDS): the
               Python halves of the startup, memory and comm experiments
               (harness/03-processes-cost.c)

The image workload has no Python side: its C modes are the chapter's
subject, and Python would mostly time NumPy.

By hand, for example:
    python3 harness/03-processes.py run cpu py-processes 2 2000000 0 7813

Standard library only; Python 3.9 or later.
"""
import importlib

import bench
import processes_cost

# Chapter 1's script is a module like any other, but its name starts with
# a digit, so it cannot be named in an import statement. A forked worker
# of multiprocessing finds its functions under the same module name, since
# it is a copy of this process.
gil = importlib.import_module("01-gil")

# The Python halves of the startup, memory and comm experiments.
COMMANDS = dict(processes_cost.COMMANDS)

WORKLOADS = {"cpu": gil.cpu_share}

if __name__ == "__main__":
    bench.main(WORKLOADS, commands=COMMANDS)
