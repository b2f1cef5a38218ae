#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench-faiss.py - the peer for bench/bench_match.c: faiss answering the same
kind of radius-31 PDQ queries, single-threaded.

  scripts/install-bench-deps          # python3-faiss from Debian
  scripts/bench-faiss.py [--n 1000000] [--queries 500] [--shape random|clustered|both]

Indexes measured (radius search, exact for distance <= 31):
  IndexBinaryMultiHash(256, nhash=16, b=16), nflip=1 - what Meta's HMA uses:
      16 tables of 16 bits, each probed at Hamming distance <= 1, which by
      pigeonhole finds every hash within 31 bits;
  IndexBinaryFlat(256) - exhaustive scan.
The data follow bench_match's recipe (uniform random; or skewed per-bit
probabilities with clusters of 1..2048 near-duplicates), and queries are one
third fresh hashes and two thirds near-duplicates (0..40 bits) of stored
ones.  Queries go one at a time, as an upload path sends them.  Rates are
per second of process CPU time, like bench_match's.
"""
import argparse
import time

import numpy as np

try:
    import faiss
except ImportError:
    raise SystemExit("bench-faiss: python3-faiss is missing; run scripts/install-bench-deps")


def flip(h, rng, maxd):
    """Flips up to maxd random bits in each row of h (in place)."""
    n = h.shape[0]
    d = rng.integers(0, maxd + 1, size=n)
    for k in range(maxd):
        rows = np.nonzero(d > k)[0]
        if len(rows) == 0:
            break
        bits = rng.integers(0, 256, size=len(rows))
        h[rows, bits // 8] ^= (1 << (bits % 8)).astype(np.uint8)


def biased(rng, n, bias):
    bits = (rng.random((n, 256)) < bias).astype(np.uint8)
    return np.packbits(bits, axis=1, bitorder="little")


def make_data(rng, n, shape):
    if shape == "random":
        return rng.integers(0, 256, size=(n, 32), dtype=np.uint8), None
    bias = rng.integers(40, 217, size=256) / 256.0
    sizes = []
    total = 0
    while total < n:
        s = 1 << int(rng.integers(0, 12))
        sizes.append(min(s, n - total))
        total += sizes[-1]
    centers = biased(rng, len(sizes), bias)
    h = np.repeat(centers, sizes, axis=0)
    spread = np.repeat(rng.integers(0, 48, size=len(sizes)), sizes)
    # Per-row spread: flip in groups of equal spread.
    for s in np.unique(spread):
        rows = np.nonzero(spread == s)[0]
        sub = h[rows]
        flip(sub, rng, int(s))
        h[rows] = sub
    return h, bias


def make_queries(rng, h, nq, bias):
    q = np.empty((nq, 32), dtype=np.uint8)
    fresh = np.arange(nq) % 3 == 0
    nf = int(fresh.sum())
    if bias is None:
        q[fresh] = rng.integers(0, 256, size=(nf, 32), dtype=np.uint8)
    else:
        q[fresh] = biased(rng, nf, bias)
    near = h[rng.integers(0, len(h), size=nq - nf)].copy()
    flip(near, rng, 40)
    q[~fresh] = near
    return q


def timed(index, q, radius):
    hits = 0
    t0 = time.process_time()
    for i in range(len(q)):
        lims, D, I = index.range_search(q[i:i + 1], radius)
        hits += int(lims[-1])
    return len(q) / (time.process_time() - t0), hits / len(q)


def run(shape, n, nq, nflat, seed):
    rng = np.random.default_rng(seed)
    h, bias = make_data(rng, n, shape)
    q = make_queries(rng, h, nq, bias)
    radius = 32  # faiss range_search keeps distance < radius: <= 31

    t0 = time.time()
    mh = faiss.IndexBinaryMultiHash(256, 16, 16)
    mh.nflip = 1
    mh.add(h)
    build = time.time() - t0
    qps, per = timed(mh, q, radius)
    print(f"faiss {shape}: n={n} IndexBinaryMultiHash(16x16, nflip 1): build {build:.2f} s, "
          f"{qps:.0f} queries/s ({1000.0 / qps:.2f} ms/query), {per:.1f} matches/query")
    del mh

    flat = faiss.IndexBinaryFlat(256)
    flat.add(h)
    fq, fper = timed(flat, q[:nflat], radius)
    print(f"faiss {shape}: n={n} IndexBinaryFlat: {fq:.1f} queries/s ({1000.0 / fq:.2f} ms/query), "
          f"{fper:.1f} matches/query")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000000)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--flat-queries", type=int, default=50)
    ap.add_argument("--shape", default="both", choices=["random", "clustered", "both"])
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    faiss.omp_set_num_threads(1)
    print(f"bench-faiss: faiss {faiss.__version__}, one thread, radius 31 inclusive")
    for shape in (["random", "clustered"] if a.shape == "both" else [a.shape]):
        run(shape, a.n, a.queries, min(a.flat_queries, a.queries), a.seed)


if __name__ == "__main__":
    main()
