#!/usr/bin/env python3
"""harness/02-threads.py - Chapter 2's Python side: the notes' download_url,
timed.

The command line, the timing and the standard modes (py-serial, py-threads,
py-processes) are harness/bench.py's (read its top first). This file adds
one workload:

    fetch   the notes' download_url, requests.get(url).text, for tasks
            [first, n): each a GET of /task/N from the harness's local HTTP
            server (address: BENCH_SERVER), which answers "N" after a delay

requests is not in the standard library. A python3 without it cannot run
the workload: the probe then says so, and the harness leaves the py- rows
out and writes why in env.md and in the table's caption.

By hand (the workload needs its server: `bench serve fetch` starts one):
    BENCH_SERVER=127.0.0.1:PORT python3 harness/02-threads.py run fetch py-threads 4 16 5000 1

Python 3.9 or later.
"""
import os
import sys

import bench

try:
    import requests
except ImportError:
    requests = None


# DOC: py-fetch
def download_url(url):
    # The notes' own download_url. requests.get() runs Python code under
    # the GIL (building the request, parsing the answer) and lets go of it
    # while its socket waits, as every blocking call in CPython's socket
    # module does.
    return requests.get(url).text
# DOC-END: py-fetch


def fetch_share(first, n, param):
    """Tasks [first, n) of the fetch workload: how many came back right."""
    server = bench.server()
    done = 0
    for i in range(first, n):
        if download_url("http://%s/task/%d" % (server, i)) == "%d\n" % i:
            done += 1
    return done


if requests is None:
    fetch_share = bench.Lacking(
        "the requests module is not installed for this python3 (%s): install it for "
        "that interpreter (pip install requests; on Debian, python3-requests serves "
        "/usr/bin/python3), or put a python3 that has it first on PATH" % sys.executable)

WORKLOADS = {"fetch": fetch_share}

if __name__ == "__main__":
    # The server is on this machine: no proxy named in the environment may
    # see the requests (the harness sets this too; by hand it may not be).
    os.environ["no_proxy"] = "127.0.0.1"
    bench.main(WORKLOADS)
