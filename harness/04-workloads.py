#!/usr/bin/env python3
"""harness/04-workloads.py - Chapter 4's Python side: the notes' six
workloads, repaired, and two C extensions, timed.

The command line, the timing and the standard modes (py-serial, py-threads,
py-processes) are harness/bench.py's (read its top first). The workloads
are harness/04-workloads.c's, unit for unit, with the same results:

    prime    the notes' is_prime, false for n < 2
    matmul   the notes' matrix_multiplication on lists
    image    the notes' process_image, returning the new list it forgot to
             make, on the harness's picture (BENCH_WORKDIR/picture.raw)
    read     the notes' read_file on the harness's files (BENCH_WORKDIR/files)
    fetch    the notes' fetch_webpage, requests.get(url).text, against the
             harness's server (BENCH_SERVER)
    query    the notes' query_database, with the database it never opened:
             the sqlite3 module on BENCH_WORKDIR/items.sqlite
    numpy    numpy.dot(a, b), BLAS held to one thread
    hashlib  hashlib.sha256 of a 1 MiB buffer

Where CPython lets go of the GIL, from its source (the book relies on it):
  - sqlite3: around every sqlite3_step(), in pysqlite_step(),
    Modules/_sqlite/util.c lines 28-37 (Py_BEGIN_ALLOW_THREADS at line 32,
    as of commit 0c8a88d4 of python/cpython); cursor.c calls it for each
    row. Building each row's tuple holds the GIL.
  - hashlib: Modules/_hashopenssl.c, EVP_update() and the constructor
    (py_evp_fromname), release it around EVP_hash() when the buffer holds
    at least HASHLIB_GIL_MINSIZE bytes, 2048, defined in Modules/hashlib.h
    (in 3.11: `if (self->lock == NULL && view.len >= HASHLIB_GIL_MINSIZE)`,
    then Py_BEGIN_ALLOW_THREADS around the hash).
  - numpy: numpy.dot of two 2-d float64 arrays goes to cblas_matrixproduct()
    in numpy/core/src/multiarray/cblasfuncs.c, whose matrix-matrix branch
    calls gemm() (cblas_dgemm) between NPY_BEGIN_ALLOW_THREADS and
    NPY_END_ALLOW_THREADS. (numpy.dot, not a @ b: the @ operator is a ufunc
    with a BLAS path of its own, matmul.c.src, not read for this book.)
  - reads and socket waits release it in CPython's io and socket modules.

numpy and requests are not in the standard library: a python3 without one
of them cannot run numpy or fetch; the probe says so and the harness leaves
those py- rows out, saying why.

By hand, for example (the files come from a `bench run`; BENCH_WORKDIR must
name its folder while it runs):
    python3 harness/04-workloads.py run prime py-threads 2 2000 1000000000 8

Python 3.9 or later.
"""
import os

# One BLAS thread, set before numpy is imported (OpenBLAS reads it when it
# is loaded): the table compares workers, not BLAS's own threads. The
# py-serial row's cpu_per_wall near 1 shows it was honoured.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
              "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_name] = "1"

import hashlib
import importlib.util
import sqlite3
import sys
import threading

import bench

try:
    import requests
except ImportError:
    requests = None

if importlib.util.find_spec("numpy") is not None:
    import numpy
else:
    numpy = None


def workdir(name):
    path = os.environ.get("BENCH_WORKDIR")
    if not path:
        sys.exit("%s: BENCH_WORKDIR is not set: the harness makes this workload's files "
                 "and names their folder there" % sys.argv[0])
    return os.path.join(path, name)


# DOC: py-cpu
def is_prime(n):
    # The notes' loop; the repair: 0 and 1 are not prime (the loop never
    # runs for them). n ** 0.5 is exact enough below 2 ** 52.
    if n < 2:
        return False
    for i in range(2, int(n ** 0.5) + 1):
        if n % i == 0:
            return False
    return True


def process_image(pixels):
    # The notes' loop, repaired: it made new_value and threw it away, then
    # returned a new_pixels it never made. In whole numbers, as C's
    # image_pixel(): pixel * 6 // 5 + 100, clamped to a byte.
    new_pixels = []
    for pixel in pixels:
        new_value = pixel * 6 // 5 + 100
        new_pixels.append(new_value if new_value < 255 else 255)
    return new_pixels


def matrix_multiplication(matrix_a, matrix_b):
    # The notes' own three loops.
    result = []
    for i in range(len(matrix_a)):
        row = []
        for j in range(len(matrix_b[0])):
            sum_product = 0
            for k in range(len(matrix_b)):
                sum_product += matrix_a[i][k] * matrix_b[k][j]
            row.append(sum_product)
        result.append(row)
    return result
# DOC-END: py-cpu


# DOC: py-io
def fetch_webpage(url):
    response = requests.get(url)
    return response.text


def read_file(filename):
    # 'rb': the files are bytes, not text.
    with open(filename, 'rb') as f:
        data = f.read()
    return data


_local = threading.local()


def query_database(sql):
    # The repair: a connection to open. One per thread (a connection may
    # not move between threads) and per process, read-only, as C's
    # open_database() once per worker.
    db = getattr(_local, "db", None)
    if db is None or _local.pid != os.getpid():
        db = _local.db = sqlite3.connect("file:%s?mode=ro" % workdir("items.sqlite"),
                                         uri=True)
        _local.pid = os.getpid()
    result = db.execute(sql).fetchall()
    return result
# DOC-END: py-io


# The units, as harness/04-workloads.c's.

def prime_share(first, n, base):
    return sum(base + i for i in range(first, n) if is_prime(base + i))


def _matrices(size, u):
    a = [[float((i * 7 + j * 3 + u) % 16 - 8) for j in range(size)] for i in range(size)]
    b = [[float((i * 5 + j * 11 + 2 * u) % 16 - 8) for j in range(size)] for i in range(size)]
    return a, b


def _check(rows):
    total, w = 0, 1
    for row in rows:
        for v in row:
            total += int(v) * w
            w += 1
    return total


def matmul_share(first, n, size):
    return sum(_check(matrix_multiplication(*_matrices(size, u))) for u in range(first, n))


IMAGE_BAND, IMAGE_STRIDE, IMAGE_WIDTH = 16, 1031, 512


def image_share(first, n, factor):
    # Only the bands this share needs: the picture is tens of MB, and the
    # py- rows do its first bands only.
    row = IMAGE_WIDTH * factor * 3
    total = 0
    with open(workdir("picture.raw"), "rb") as f:
        f.seek(first * IMAGE_BAND * row)
        pixels = f.read((n - first) * IMAGE_BAND * row)
    for band in range(first, n):
        lo = band * IMAGE_BAND * row
        hi = min(lo + IMAGE_BAND * row, first * IMAGE_BAND * row + len(pixels))
        base = first * IMAGE_BAND * row
        new = process_image(pixels[lo - base:hi - base])
        start = -(-lo // IMAGE_STRIDE) * IMAGE_STRIDE
        total += sum((p + 1) * new[p - lo] for p in range(start, hi, IMAGE_STRIDE))
    return total


def read_share(first, n, size):
    # Each file's size if it had it; C checks each byte's digest too.
    total = 0
    for i in range(first, n):
        data = read_file(workdir("files/%04d" % i))
        total += len(data) if len(data) == size else 0
    return total


def fetch_share(first, n, param):
    server = bench.server()
    return sum(fetch_webpage("http://%s/task/%d" % (server, i)) == "%d\n" % i
               for i in range(first, n))


QUERY_GROUPS, QUERY_ROWS = 256, 100


def query_share(first, n, param):
    total = 0
    for i in range(first, n):
        rows = query_database("SELECT id, name, value FROM items WHERE grp = %d ORDER BY id"
                              % (i % QUERY_GROUPS))
        total += len(rows) if len(rows) == QUERY_ROWS else 0
    return total


def numpy_share(first, n, size):
    i, j = numpy.indices((size, size))
    weights = numpy.arange(1, size * size + 1, dtype=numpy.int64).reshape(size, size)
    total = 0
    for u in range(first, n):
        a = ((i * 7 + j * 3 + u) % 16 - 8).astype(numpy.float64)
        b = ((i * 5 + j * 11 + 2 * u) % 16 - 8).astype(numpy.float64)
        c = numpy.dot(a, b)     # BLAS's dgemm, without the GIL
        total += int((c.astype(numpy.int64) * weights).sum())
    return total


_buffer = {}


def hashlib_share(first, n, size):
    buf = _buffer.get(size)
    if buf is None:
        buf = _buffer[size] = (bytes(range(256)) * (size // 256 + 1))[:size]
    total = 0
    for u in range(first, n):
        h = hashlib.sha256(u.to_bytes(8, "little"))
        h.update(buf)   # 1 MiB: hashed without the GIL
        total += int.from_bytes(h.digest()[:8], "little")
    return total


if requests is None:
    fetch_share = bench.Lacking(
        "the requests module is not installed for this python3 (%s): install it for "
        "that interpreter (pip install requests; on Debian, python3-requests serves "
        "/usr/bin/python3), or put a python3 that has it first on PATH" % sys.executable)
if numpy is None:
    numpy_share = bench.Lacking(
        "the numpy module is not installed for this python3 (%s): install it for that "
        "interpreter (pip install numpy; on Debian, python3-numpy serves /usr/bin/python3), "
        "or put a python3 that has it first on PATH" % sys.executable)

WORKLOADS = {"prime": prime_share, "matmul": matmul_share, "image": image_share,
             "read": read_share, "fetch": fetch_share, "query": query_share,
             "numpy": numpy_share, "hashlib": hashlib_share}

if __name__ == "__main__":
    os.environ["no_proxy"] = "127.0.0.1"
    bench.main(WORKLOADS)
