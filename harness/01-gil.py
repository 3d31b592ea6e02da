#!/usr/bin/env python3
"""harness/01-gil.py - Chapter 1's Python side: the notes' own code, timed.

The C harness (harness/bench*.c) runs this script, one measurement per run,
and reads the one line it prints:

    python3 harness/01-gil.py run WORKLOAD MODE WORKERS UNITS PARAM CHUNK
        WORKLOAD cpu or io; MODE py-serial, py-threads or py-processes.
        The work is units [0, UNITS) in chunks of CHUNK units, which WORKERS
        workers take one at a time, each coming back for the next when it is
        done, as the C modes take them. Prints
        BENCH wall_s=... cpu_s=... result=...
        (cpu: the sum of squares modulo 2**64, checked against C's; io: the
        number of tasks done). Times come from time.perf_counter() and
        resource.getrusage() of this process and its reaped children.

    python3 harness/01-gil.py convoy INTERVAL_US SPINNER MAX_SECONDS MAX_COUNT PAUSE_US
        Round trips, PAUSE_US apart, from a client process to an echo server
        thread in a forked server process, beside a thread spinning on the
        CPU-bound loop if SPINNER is 1, under sys.setswitchinterval(). Stops
        after MAX_SECONDS or MAX_COUNT trips. Prints
        BENCH count=N rtt_us=A,B,... (the first trip discarded).

Standard library only; Python 3.9 or later.
"""
import multiprocessing
import os
import resource
import socket
import sys
import threading
import time


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
def download_url(url, seconds):
    # The notes call requests.get(url) here. There is no network, so the
    # task waits as a download would: time.sleep, like a blocking socket
    # read, releases the GIL for as long as it waits.
    time.sleep(seconds)
    return url
# DOC-END: py-io


def cpu_share(first, n, param):
    """Units [first, n) of the CPU-bound workload."""
    return cpu_intensive_task(n, first)


def io_share(first, n, param):
    """Tasks [first, n) of the I/O-bound workload, param microseconds each."""
    done = 0
    for i in range(first, n):
        download_url("https://example.invalid/%d" % i, param / 1e6)
        done += 1
    return done


WORKLOADS = {"cpu": cpu_share, "io": io_share}


def chunks(units, chunk, param):
    """Units [0, units) in chunks of chunk units, in order (as in C)."""
    return [(lo, min(lo + chunk, units), param) for lo in range(0, units, chunk)]


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


def in_processes(task, parts, workers):
    # fork, as the C processes mode. The pool gives the next batch of
    # chunks to the next idle worker; a batch, not one chunk, because each
    # hand-out is a message through a pipe and a pickle, not one atomic add
    # as in C: four batches per worker keep the balance and cut the cost.
    # close and join reap the workers, so that RUSAGE_CHILDREN counts
    # their CPU time.
    pool = multiprocessing.get_context("fork").Pool(workers)
    batch = max(1, len(parts) // (4 * workers))
    try:
        results = list(pool.imap_unordered(_call, [(task, part) for part in parts],
                                           chunksize=batch))
    finally:
        pool.close()
        pool.join()
    return sum(results)


def _call(args):
    task, part = args
    return task(*part)


MODES = {"py-serial": in_serial, "py-threads": in_threads, "py-processes": in_processes}


def cpu_seconds():
    self = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return self.ru_utime + self.ru_stime + children.ru_utime + children.ru_stime


def run(workload, mode, workers, units, param, chunk):
    task, how = WORKLOADS[workload], MODES[mode]
    parts = chunks(units, chunk, param)
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    result = how(task, parts, workers)
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    # Python's integers do not wrap; C's unsigned ones wrap modulo 2**64.
    print("BENCH wall_s=%.9f cpu_s=%.9f result=%d" % (wall, cpu, result % 2**64))


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


def main(argv):
    if sys.version_info < (3, 9):
        sys.exit("harness/01-gil.py: Python 3.9 or later needed, this is %s"
                 % sys.version.split()[0])
    if len(argv) == 8 and argv[1] == "run" and argv[2] in WORKLOADS and argv[3] in MODES:
        run(argv[2], argv[3], int(argv[4]), int(argv[5]), int(argv[6]), int(argv[7]))
    elif len(argv) == 7 and argv[1] == "convoy":
        convoy(int(argv[2]), argv[3] == "1", float(argv[4]), int(argv[5]), int(argv[6]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
