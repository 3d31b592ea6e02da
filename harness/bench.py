"""harness/bench.py - the Python side of the measurement harness, shared by
every chapter, as harness/bench*.c is its C side.

A chapter's script, harness/CH.py, imports this module, declares its
workloads, any Python modes and experiments of its own, and hands them to
main():

    import bench

    def cpu_share(first, n, param):     # units [first, n) of the workload
        ...

    def in_spawn(task, parts, workers):  # a mode: run every part, sum them
        return bench.in_pool(task, parts, workers, "spawn")

    if __name__ == "__main__":
        bench.main(workloads={"cpu": cpu_share},
                   modes={"py-spawn": in_spawn},
                   commands={"convoy": convoy})

The standard modes (py-serial, py-threads, py-processes) are always there;
the C side must declare a chapter's own (struct bench_pymode in bench.h),
and checks at start-up, through `probe`, that the script implements them.

The C harness runs the script, one measurement per process, and reads the
one BENCH line it prints:

    python3 harness/CH.py run WORKLOAD MODE WORKERS UNITS PARAM CHUNK
        The work is units [0, UNITS) in chunks of CHUNK units, which WORKERS
        workers take one at a time, each coming back for the next when it is
        done, as the C modes take them. PARAM goes unchanged to every chunk.
        A workload that has a server finds its address ("127.0.0.1:PORT")
        with server(), from the environment variable BENCH_SERVER. Prints
        BENCH wall_s=... cpu_s=... result=...
        (the results of all chunks added modulo 2**64, as C adds them).
        Times: time.perf_counter(), and resource.getrusage() of this
        process and its reaped children.

    python3 harness/CH.py probe
        What this python3 is, and what the script implements:
        BENCH usable=1 implementation=CPython version=3.11.7 language=3.11.7
              gil=on free_threaded=0 modes=py-serial,... workloads=cpu,...
        BENCH-EXECUTABLE /usr/bin/python3.11
        BENCH-LACKS fetch the requests module is not installed ...
        usable=0 (and nothing else measured) for a python3 older than 3.9.
        A BENCH-LACKS line for each workload this python3 cannot run (a
        module it needs is missing: the chapter declares the workload as
        bench.Lacking(why)); the C side then measures it without py- rows
        and says why in env.md and in the table's caption.

    python3 harness/CH.py COMMAND ARG...
        One of the chapter's experiments; it prints its own BENCH line.

Standard library only; Python 3.9 or later (the version check below runs
before anything newer is needed, so an old python3 is reported, not
crashed on).
"""
import sys

MINIMUM = (3, 9)

if sys.version_info < MINIMUM:
    if sys.argv[1:2] == ["probe"]:
        print("BENCH usable=0 language=%d.%d.%d" % tuple(sys.version_info[:3]))
        sys.exit(0)
    sys.exit("%s: Python %d.%d or later needed, this is %s"
             % (sys.argv[0], MINIMUM[0], MINIMUM[1], sys.version.split()[0]))

import multiprocessing
import os
import platform
import resource
import sysconfig
import threading
import time


class Lacking:
    """A workload this python3 cannot run, in place of its function in
    main()'s workloads, and why ("the requests module is not installed
    ..."): the probe reports it, and the harness leaves out its py- rows
    rather than fail."""

    def __init__(self, why):
        self.why = why


def server():
    """The address of the workload's server, "127.0.0.1:PORT"."""
    address = os.environ.get("BENCH_SERVER")
    if not address:
        sys.exit("%s: BENCH_SERVER is not set: this workload needs its server "
                 "(the harness starts it; by hand: bench serve WORKLOAD)" % sys.argv[0])
    return address


def chunks(units, chunk, param):
    """Units [0, units) in chunks of chunk units, in order (as in C)."""
    return [(lo, min(lo + chunk, units), param) for lo in range(0, units, chunk)]


# The standard modes. Each gets the task, a function of (first, n, param),
# the list of chunks, each a tuple of its arguments, and the worker count,
# and returns the sum of the task's results over all chunks.

def in_serial(task, parts, workers):
    return sum(task(*part) for part in parts)


def in_threads(task, parts, workers):
    # One shared iterator hands out the chunks; next() under a lock, so
    # that no chunk goes to two threads.
    todo, lock = iter(parts), threading.Lock()
    results = [None] * workers

    def worker(k):
        done = 0
        while True:
            with lock:
                part = next(todo, None)
            if part is None:
                break
            done += task(*part)
        results[k] = done

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if None in results:
        raise RuntimeError("a worker thread failed")
    return sum(results)


def in_pool(task, parts, workers, method):
    # A multiprocessing.Pool of workers started by method ("fork",
    # "spawn", "forkserver"), explicitly: the default differs between
    # platforms and versions. The pool gives the next batch of chunks to
    # the next idle worker; a batch, not one chunk, because each hand-out
    # is a message through a pipe and a pickle, not one atomic add as in C:
    # four batches per worker keep the balance and cut the cost. close and
    # join reap the workers, so that RUSAGE_CHILDREN counts their CPU time.
    pool = multiprocessing.get_context(method).Pool(workers)
    batch = max(1, len(parts) // (4 * workers))
    try:
        results = list(pool.imap_unordered(_call, [(task, part) for part in parts],
                                           chunksize=batch))
    finally:
        pool.close()
        pool.join()
    return sum(results)


def in_processes(task, parts, workers):
    # fork, as the C processes mode: each worker starts as a copy of this
    # process, with the script already imported.
    return in_pool(task, parts, workers, "fork")


def _call(args):
    task, part = args
    return task(*part)


STANDARD_MODES = {"py-serial": in_serial, "py-threads": in_threads,
                  "py-processes": in_processes}


def cpu_seconds():
    self = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return self.ru_utime + self.ru_stime + children.ru_utime + children.ru_stime


def run(task, how, workers, units, param, chunk):
    parts = chunks(units, chunk, param)
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    result = how(task, parts, workers)
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    # Python's integers do not wrap; C's unsigned ones wrap modulo 2**64.
    print("BENCH wall_s=%.9f cpu_s=%.9f result=%d" % (wall, cpu, result % 2**64))


def describe():
    """What this python3 is: implementation, versions, GIL."""
    impl = platform.python_implementation()
    if impl == "CPython":
        version = platform.python_version()
    else:
        version = "%d.%d.%d" % tuple(sys.implementation.version[:3])
    # A free-threaded build (3.13 and later) is compiled with
    # Py_GIL_DISABLED; even there the GIL can be turned back on at run time
    # (PYTHON_GIL=1, or an extension that needs it), which
    # sys._is_gil_enabled() (3.13 and later) tells. Every CPython before
    # 3.13 has a GIL; for other implementations we do not guess.
    free_threaded = sysconfig.get_config_var("Py_GIL_DISABLED") == 1
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    if is_enabled is not None:
        gil = "on" if is_enabled() else "off"
    elif impl == "CPython":
        gil = "on"
    else:
        gil = "unknown"
    return {"implementation": impl, "version": version,
            "language": platform.python_version(), "gil": gil,
            "free_threaded": int(free_threaded)}


def probe(workloads, modes):
    facts = describe()
    print("BENCH usable=1 %s modes=%s workloads=%s"
          % (" ".join("%s=%s" % kv for kv in facts.items()),
             ",".join(modes),
             ",".join(w for w, f in workloads.items() if not isinstance(f, Lacking))))
    print("BENCH-EXECUTABLE %s" % sys.executable)
    for w, f in workloads.items():
        if isinstance(f, Lacking):
            print("BENCH-LACKS %s %s" % (w, " ".join(f.why.split())))


def usage(workloads, modes, commands):
    sys.exit("usage: %s run WORKLOAD MODE WORKERS UNITS PARAM CHUNK\n"
             "       %s probe\n"
             "       %s COMMAND ARG...\n"
             "workloads: %s; modes: %s; commands: %s"
             % (sys.argv[0], sys.argv[0], sys.argv[0], " ".join(workloads),
                " ".join(modes), " ".join(commands) or "none"))


def main(workloads, modes=None, commands=None, argv=None):
    """The command line of a chapter's script (see the top of this file)."""
    argv = sys.argv if argv is None else argv
    modes = dict(STANDARD_MODES, **(modes or {}))
    commands = commands or {}
    if len(argv) == 2 and argv[1] == "probe":
        probe(workloads, modes)
    elif len(argv) == 8 and argv[1] == "run" and argv[2] in workloads and argv[3] in modes:
        if isinstance(workloads[argv[2]], Lacking):
            sys.exit("%s: cannot run workload %s: %s" % (argv[0], argv[2], workloads[argv[2]].why))
        run(workloads[argv[2]], modes[argv[3]], *(int(a) for a in argv[4:8]))
    elif len(argv) >= 2 and argv[1] in commands:
        commands[argv[1]](*argv[2:])
    else:
        usage(workloads, modes, commands)
