#!/usr/bin/env python3
"""harness/01-gil.py - Chapter 1's Python side: the notes' own code, timed.

The command line, the timing and the standard modes are harness/bench.py's
(read its top first). This file adds:

    workloads  cpu   the notes' cpu_intensive_task
               io    tasks that each wait, time.sleep in place of a download
               net   the notes' download_url for real: urllib.request against
                     the harness's local HTTP server (address: BENCH_SERVER)
    modes      py-spawn  multiprocessing with the "spawn" start method
    commands   convoy INTERVAL_US SPINNER MAX_SECONDS MAX_COUNT PAUSE_US
                   Round trips, PAUSE_US apart, from a client process to an
                   echo server thread in a forked server process, beside a
                   thread spinning on the CPU-bound loop if SPINNER is 1,
                   under sys.setswitchinterval(). Stops after MAX_SECONDS or
                   MAX_COUNT trips. Prints
                   BENCH count=N rtt_us=A,B,... (the first trip discarded).
               lost-updates STATEMENT THREADS ITERATIONS INTERVAL_US
                   THREADS threads each run STATEMENT (plain or call, see
                   py-lost-updates below) ITERATIONS times on one global
                   counter, under sys.setswitchinterval(). Prints
                   BENCH expected=N got=M

By hand, for example (net needs its server: `bench serve net` starts one):
    python3 harness/01-gil.py run cpu py-threads 2 2000000 0 7813

Standard library only; Python 3.9 or later.
"""
import os
import socket
import sys
import threading
import time
import urllib.request

import bench


# DOC: py-cpu
def cpu_intensive_task(n, first=0):
    # 大量数学计算 (lots of arithmetic): the notes' loop. `first` is the
    # one change, so that workers can each take a piece of range(n).
    result = 0
    for i in range(first, n):
        result += i * i
    return result
# DOC-END: py-cpu


# DOC: py-io
def fake_download_url(url, seconds):
    # The notes call requests.get(url) here. This stand-in only waits, as a
    # download would: time.sleep, like a blocking socket read, releases the
    # GIL for as long as it waits. (The net workload downloads for real.)
    time.sleep(seconds)
    return url
# DOC-END: py-io


# No proxy: the server is on this machine, and urllib would otherwise send
# the requests to any proxy named in the environment (http_proxy).
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# DOC: py-net
def download_url(url):
    # The notes' download_url, with the standard library's urllib instead of
    # requests. CPython's socket module lets go of the GIL while a socket
    # waits (connect, send, recv); building the request and parsing the
    # answer is Python code, and needs it.
    with OPENER.open(url, timeout=60) as response:
        return response.read()
# DOC-END: py-net


def cpu_share(first, n, param):
    """Units [first, n) of the CPU-bound workload."""
    return cpu_intensive_task(n, first)


def io_share(first, n, param):
    """Tasks [first, n) of the waiting workload, param microseconds each."""
    done = 0
    for i in range(first, n):
        fake_download_url("https://example.invalid/%d" % i, param / 1e6)
        done += 1
    return done


def net_share(first, n, param):
    """Tasks [first, n) of the download workload: how many came back right."""
    server = bench.server()
    done = 0
    for i in range(first, n):
        if download_url("http://%s/task/%d" % (server, i)) == b"%d\n" % i:
            done += 1
    return done


def in_spawn(task, parts, workers):
    # Each worker a fresh python3 that imports this script again (as
    # __mp_main__, so the `if __name__` block below does not run) before it
    # can take its first chunk: the start-up cost fork avoids.
    return bench.in_pool(task, parts, workers, "spawn")


# DOC: py-convoy
def echo(sock):
    # The echo server: send back every byte until the client closes. recv
    # and sendall release the GIL while they block, and must win it back.
    while True:
        data = sock.recv(1)
        if not data:
            break
        sock.sendall(data)


def spin(stop):
    # The CPU-bound neighbour: the notes' loop, over and over.
    while not stop.is_set():
        cpu_intensive_task(100_000)


def client(sock, pause, samples, max_count, deadline):
    # A remote client, in a process of its own: pause, send a byte, time
    # the reply; again and again.
    while len(samples) <= max_count and time.perf_counter() < deadline:
        time.sleep(pause)
        start = time.perf_counter()
        sock.sendall(b"x")
        sock.recv(1)
        samples.append(time.perf_counter() - start)
# DOC-END: py-convoy


def server(sock, interval_us, spinner):
    """The server process: the echo server, beside a spinner if asked."""
    sys.setswitchinterval(interval_us / 1e6)
    stop = threading.Event()
    spinning = threading.Thread(target=spin, args=(stop,))
    if spinner:
        spinning.start()
    sock.sendall(b"r")          # ready: the client may start
    echo(sock)
    stop.set()
    if spinner:
        spinning.join()


def convoy(interval_us, spinner, max_seconds, max_count, pause_us):
    interval_us, spinner = int(interval_us), spinner == "1"
    max_seconds, max_count, pause_us = float(max_seconds), int(max_count), int(pause_us)
    # Fork before any thread exists; the child is the server.
    sock, server_sock = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        sock.close()
        status = 1
        try:
            server(server_sock, interval_us, spinner)
            status = 0
        finally:
            os._exit(status)
    server_sock.close()
    if sock.recv(1) != b"r":
        sys.exit("harness/01-gil.py: the convoy server did not start")
    samples = []
    # One trip more than counted: the first is a warm-up.
    client(sock, pause_us / 1e6, samples, max_count, time.perf_counter() + max_seconds)
    sock.shutdown(socket.SHUT_WR)
    _, status = os.waitpid(pid, 0)
    sock.close()
    if status != 0:
        sys.exit("harness/01-gil.py: the convoy server failed (wait status %d)" % status)
    samples = samples[1:]
    print("BENCH count=%d rtt_us=%s"
          % (len(samples), ",".join("%.3f" % (s * 1e6) for s in samples)))


# Where can the GIL change hands? Only where the interpreter checks its
# "eval breaker", and since CPython 3.10 (bpo-29988, GH-18334: "Only check
# evalbreaker after calls and on backwards edges") that is not between any
# two instructions but at a few places: on a backward jump (the end of each
# loop iteration) and at calls (from 3.11 also at a Python function's
# entry, the RESUME instruction).
#   3.10, Python/ceval.c: JUMP_ABSOLUTE and the CALL_* instructions end in
#         CHECK_EVAL_BREAKER(); DISPATCH(), which ends the others, no
#         longer checks.
#   3.11, Python/ceval.c: JUMP_BACKWARD, RESUME (a function's entry) and
#         the CALL instructions check.
#   3.12 and later, Python/bytecodes.c: the same, written as
#         `macro(JUMP_BACKWARD) = _CHECK_PERIODIC + _JUMP_BACKWARD;`,
#         RESUME's _CHECK_PERIODIC_IF_NOT_YIELD_FROM, and `macro(CALL) =
#         ... + _CHECK_PERIODIC` (3.14).
# So `counter += 1` (load, add, store) runs between two checks: no other
# thread can run between its load and its store, and no update should be
# lost, although nothing in the language promises it. Put a call between
# load and store, and the callee's entry is a check: a thread switched out
# there stores a stale count when it comes back, and every increment the
# others made meanwhile is lost. Before 3.10 the check came between almost
# any two instructions, and both lose updates. The experiment measures it.
# DOC: py-lost-updates
counter = 0


def one():
    return 1


def add_plain(iterations):
    global counter
    for _ in range(iterations):
        counter += 1                  # load, add, store


def add_with_call(iterations):
    global counter
    for _ in range(iterations):
        counter = counter + one()     # load, call, add, store
# DOC-END: py-lost-updates


def lost_updates(statement, threads, iterations, interval_us):
    global counter
    target = {"plain": add_plain, "call": add_with_call}[statement]
    threads, iterations = int(threads), int(iterations)
    sys.setswitchinterval(int(interval_us) / 1e6)
    counter = 0
    workers = [threading.Thread(target=target, args=(iterations,)) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    print("BENCH expected=%d got=%d" % (threads * iterations, counter))


WORKLOADS = {"cpu": cpu_share, "io": io_share, "net": net_share}
MODES = {"py-spawn": in_spawn}
COMMANDS = {"convoy": convoy, "lost-updates": lost_updates}

if __name__ == "__main__":
    bench.main(WORKLOADS, MODES, COMMANDS)
