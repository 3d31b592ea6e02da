"""harness/processes_cost.py - the Python half of Chapter 3's measurements
of what a process costs (harness/03-processes-cost.c has the C half and
writes the tables).

The chapter's script, harness/03-processes.py, hands COMMANDS to
bench.main(), so the harness runs them as

    python3 harness/03-processes.py cost-startup MIB REPS SPAWN_REPS BUDGET
        Allocate a bytearray of MIB MiB with every byte written, then start
        and join a multiprocessing.Process whose target does nothing, with
        each start method this platform has (fork, forkserver, spawn), one
        at a time and interleaved: REPS times for fork and forkserver,
        SPAWN_REPS for spawn, after one of each as warm-up; or fewer, once
        BUDGET seconds are spent and each has run at least MINIMUM times.
        Prints
        BENCH methods=fork,forkserver,spawn rss_kib=K
              fork=N fork_q=MEDIAN,Q1,Q3,P10,P90 ...   (seconds)

    python3 harness/03-processes.py cost-memory INTS LISTS
        What a fork child of this process adds to memory, read from its
        /proc/PID/smaps_rollup while it waits: a child that only reads a
        list of INTS ints, and one that only runs gc.collect() over a list
        of LISTS one-item lists; each without and then with gc.freeze() in
        the parent before the fork. Prints
        BENCH ints_kib=K lists_kib=K ints.idle=RSS,PSS,SC,SD,PC,PD
              ints.read=... ints-frozen.idle=... ints-frozen.read=...
              lists.idle=... lists.collect=... lists-frozen.idle=...
              lists-frozen.collect=...
        (kB: Rss, Pss, Shared_Clean, Shared_Dirty, Private_Clean,
        Private_Dirty).

The functions a child runs are defined here, at the top of a module, so
that the spawn and forkserver start methods can find them by name in the
child (they pickle the target, and import this module there).

Standard library only; Python 3.9 or later, Linux (/proc).
"""
import gc
import multiprocessing
import os
import sys
import time

ROLLUP = ("Rss", "Pss", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty")


def quantiles(xs):
    """Median, quartiles, 10th and 90th percentile of xs, interpolated as
    the C side's bench_quantile() does (R's type 7)."""
    xs = sorted(xs)

    def q(p):
        h = p * (len(xs) - 1)
        i = int(h)
        if i + 1 >= len(xs):
            return xs[-1]
        return xs[i] + (h - i) * (xs[i + 1] - xs[i])
    return [q(p) for p in (0.5, 0.25, 0.75, 0.10, 0.90)]


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def rollup(pid):
    """The ROLLUP fields of process pid's smaps_rollup, in kB."""
    fields = {}
    with open("/proc/%s/smaps_rollup" % pid) as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in ROLLUP:
                fields[name] = int(rest.split()[0])
    return [fields[name] for name in ROLLUP]


# --- cost-startup -------------------------------------------------------

def nothing():
    pass


# DOC: py-startup
def start_one(context):
    """Start a process that does nothing and wait for it: seconds."""
    start = time.perf_counter()
    p = context.Process(target=nothing)
    p.start()
    p.join()
    took = time.perf_counter() - start
    if p.exitcode != 0:
        sys.exit("cost-startup: a %s child exited with %s"
                 % (context.get_start_method(), p.exitcode))
    return took
# DOC-END: py-startup


MINIMUM = 3


def cost_startup(mib, reps, spawn_reps, budget):
    mib, reps, spawn_reps, budget = int(mib), int(reps), int(spawn_reps), float(budget)
    # Repeating a one-byte bytearray writes every byte (bytearray(n) alone
    # would be zeroed pages the kernel has not yet given).
    memory = bytearray(b"\x5a") * (mib << 20)
    have = multiprocessing.get_all_start_methods()
    methods = [m for m in ("fork", "forkserver", "spawn") if m in have]
    contexts = {m: multiprocessing.get_context(m) for m in methods}
    wanted = {m: spawn_reps if m == "spawn" else reps for m in methods}
    times = {m: [] for m in methods}
    for m in methods:
        start_one(contexts[m])          # warm-up; starts forkserver's server
    deadline = time.perf_counter() + budget
    for r in range(max(wanted.values())):
        if r >= MINIMUM and time.perf_counter() > deadline:
            break
        for m in methods:
            if r < wanted[m]:
                times[m].append(start_one(contexts[m]))
    line = "BENCH methods=%s rss_kib=%d" % (",".join(methods), rss_kib())
    for m in methods:
        line += " %s=%d %s_q=%s" % (m, len(times[m]), m,
                                    ",".join("%.9g" % v for v in quantiles(times[m])))
    print(line)
    del memory


# --- cost-memory --------------------------------------------------------

# What a fork child inherits: set by the parent before each fork.
data = None


def read_every_item():
    # Each item fetched gets its reference count raised and lowered again:
    # a write into the object, so into the page that holds it.
    for x in data:
        pass


def collect():
    gc.collect()


# DOC: py-memory-child
def stand(conn, action):
    """The child: stand still while the parent reads our smaps_rollup,
    do action, stand still again."""
    conn.send("idle")
    conn.recv()
    action()
    conn.send("done")
    conn.recv()
# DOC-END: py-memory-child


def measure(context, action):
    """Fork a child that runs stand(action): its rollup before and after."""
    ours, theirs = context.Pipe()
    p = context.Process(target=stand, args=(theirs, action))
    p.start()
    stages = []
    for _ in range(2):
        ours.recv()
        stages.append(rollup(p.pid))
        ours.send("go")
    p.join()
    if p.exitcode != 0:
        sys.exit("cost-memory: the fork child exited with %s" % p.exitcode)
    return stages


def cost_memory(ints, lists):
    global data
    context = multiprocessing.get_context("fork")
    fields = {}
    cases = (("ints", int(ints), lambda n: list(range(10**9, 10**9 + n)),
              read_every_item, "read"),
             ("lists", int(lists), lambda n: [[i] for i in range(n)],
              collect, "collect"))
    for name, n, build, action, stage in cases:
        before = rollup("self")[5]
        data = build(n)
        fields[name + "_kib"] = str(rollup("self")[5] - before)
        for frozen in (False, True):
            if frozen:
                gc.freeze()             # every object now: never examined again
            idle, done = measure(context, action)
            key = name + ("-frozen" if frozen else "")
            fields[key + ".idle"] = ",".join(map(str, idle))
            fields[key + "." + stage] = ",".join(map(str, done))
            if frozen:
                gc.unfreeze()
        data = None
    print("BENCH " + " ".join("%s=%s" % kv for kv in fields.items()))


COMMANDS = {"cost-startup": cost_startup, "cost-memory": cost_memory}
