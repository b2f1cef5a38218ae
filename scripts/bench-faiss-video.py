#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench-faiss-video.py - bench/bench_video_match against its peer, faiss, in one run.

  scripts/install-bench-deps          # python3-faiss and python3-numpy from Debian
  cmake --build build/release --target bench_video_match
  scripts/bench-faiss-video.py [--bench PATH] [--videos 10000] [--frames 200]
                               [--query-seconds 600] [--queries 5] [--seed N] [--keep DIR]

The peer is python-threatexchange's vPDQ index (threatexchange/extensions/vpdq,
vpdq_index.py and vpdq_faiss.py, read for facts): the unique frame hashes of
quality >= 50 of every bank video in one faiss IndexBinaryFlat (an exhaustive
scan), unique hash -> the videos that hold it beside it; a query video's unique
frame hashes of quality >= 50 go to range_search in one call at radius 32
(faiss keeps distance < radius, so <= 31), and the matches are gathered per
video in Python sets to give the query-match and compared-match percentages.

The program first runs bench_video_match with --dump DIR, which builds the
bank and the queries from its seed, answers them with vigil's index (timed
there, CPU time of one thread) and writes the corpus, the queries and its
answers to DIR.  This script then builds the peer's index on the very same
frame hashes, asks the very same queries on one thread
(faiss.omp_set_num_threads(1)), times each (CPU time of the process), and
checks the peer's answer against vigil's video by video: the matched and total
unique query hashes and bank hashes of every video with a pair must be equal,
so both are exact or neither is.  It prints vigil's and the peer's
milliseconds per query (median and range) and their ratio.

The peer's bookkeeping of which videos hold a unique hash is kept in numpy
arrays rather than python-threatexchange's dict of hex strings and lists: that
builds faster and in less memory, and leaves the query path (the faiss call
and the per-video sets) as python-threatexchange runs it.  vigil's answer also
carries the aligned segments, which the peer does not compute.

Exit status: 0 when every answer agrees, 1 when one differs or
bench_video_match fails, 2 on bad usage.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
    import faiss
except ImportError as e:
    raise SystemExit(f"bench-faiss-video: {e.name} is missing; run scripts/install-bench-deps")

QUALITY_MIN = 50  # VPDQ_QUALITY_THRESHOLD
DISTANCE_MAX = 31  # VPDQ_DISTANCE_THRESHOLD; range_search gets DISTANCE_MAX + 1


def read_vigil(path):
    """bench_video_match's vigil.txt: the sizes, per query its time and answers."""
    meta, ms, clips, answers = None, [], [], []
    with open(path) as f:
        for line in f:
            w = line.split()
            if w[0] == "videos":
                meta = {w[i]: int(w[i + 1]) for i in range(0, len(w), 2)}
            elif w[0] == "query":
                ms.append(float(w[3]))
                clips.append((int(w[5]), int(w[6])))
                answers.append({})
            elif w[0] == "result":
                k, vid = int(w[1]), int(w[2])
                answers[k][vid] = tuple(int(x) for x in w[3:7])
    if meta is None or len(ms) != meta["queries"]:
        raise SystemExit(f"bench-faiss-video: {path} is incomplete")
    return meta, ms, clips, answers


def unique_rows(h):
    """Unique 32-byte rows of h: (index of a first occurrence per unique row, row -> unique number)."""
    v = np.ascontiguousarray(h).view(np.dtype((np.void, 32))).ravel()
    _, first, inv = np.unique(v, return_index=True, return_inverse=True)
    return first, inv.ravel()


class Peer:
    """python-threatexchange's VPDQIndex over faiss IndexBinaryFlat."""

    def __init__(self, hashes, quality, nframes):
        nvid = len(quality) // nframes
        keep = np.nonzero(quality >= QUALITY_MIN)[0]
        first, inv = unique_rows(hashes[keep])
        self.nunique = len(first)
        # (unique hash, video) once each, as a video's features are de-duplicated
        pair = np.unique(inv.astype(np.int64) * nvid + keep // nframes)
        pu, pv = pair // nvid, pair % nvid
        self.videos = pv.astype(np.int32)  # sorted by unique hash: a CSR table
        self.start = np.searchsorted(pu, np.arange(self.nunique + 1))
        self.total = np.bincount(pv, minlength=nvid)  # unique hashes of quality >= 50 per video
        self.index = faiss.IndexBinaryFlat(256)
        self.index.add(hashes[keep][first])

    def memory(self):
        return self.index.ntotal * 32 + self.videos.nbytes + self.start.nbytes + self.total.nbytes

    def query(self, q):
        """q: the query's frame hashes (all of quality >= 50).

        Returns (search s, whole query s, {video: counts}, number of videos matched)."""
        t0 = time.process_time()
        # prepare_vpdq_feature: unique hashes in order of first appearance
        seen, feats = set(), []
        for i in range(len(q)):
            b = q[i].tobytes()
            if b not in seen:
                seen.add(b)
                feats.append(i)
        qs = q[feats]
        t1 = time.process_time()
        lims, _, ids = self.index.range_search(qs, DISTANCE_MAX + 1)
        t2 = time.process_time()
        query_matched, index_matched = {}, {}
        for i in range(len(feats)):
            for u in ids[lims[i]:lims[i + 1]].tolist():
                for v in self.videos[self.start[u]:self.start[u + 1]].tolist():
                    query_matched.setdefault(v, set()).add(i)
                    index_matched.setdefault(v, set()).add(u)
        answer = {}
        for v, qm in query_matched.items():
            answer[v] = (len(qm), len(feats), len(index_matched[v]), int(self.total[v]))
        matches = [v for v, a in answer.items() if a[0] * 100 / a[1] >= 80]  # query % >= 80, as the peer does
        t3 = time.process_time()
        return t2 - t1, t3 - t0, answer, len(matches)


def spread(xs):
    s = sorted(xs)
    return f"median {s[len(s) // 2]:.2f}, {s[0]:.2f}-{s[-1]:.2f}"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", default=os.path.join(here, "..", "build", "release", "bench", "bench_video_match"))
    ap.add_argument("--videos", type=int, default=10000)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--query-seconds", type=int, default=600)
    ap.add_argument("--queries", type=int, default=5)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--keep", metavar="DIR", help="dump into DIR (created) and keep it")
    a = ap.parse_args()
    if not os.access(a.bench, os.X_OK):
        ap.error(f"{a.bench} is not built: cmake --build build/release --target bench_video_match")

    faiss.omp_set_num_threads(1)
    tmp = None
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
        d = a.keep
    else:
        d = tmp = tempfile.mkdtemp(prefix="bench-faiss-video.")
    try:
        cmd = [a.bench, "--videos", str(a.videos), "--frames", str(a.frames), "--query-seconds",
               str(a.query_seconds), "--queries", str(a.queries), "--dump", d]
        if a.seed is not None:
            cmd += ["--seed", str(a.seed)]
        print("$ " + " ".join(cmd), flush=True)
        rc = subprocess.run(cmd).returncode
        if rc not in (0, 1):  # 1: vigil differs from bench_video_match's own scan; still compare
            print(f"bench-faiss-video: bench_video_match failed ({rc})")
            return 1
        meta, vms, clips, vans = read_vigil(os.path.join(d, "vigil.txt"))
        nv, nf, qsec, nq = meta["videos"], meta["frames"], meta["query_seconds"], meta["queries"]
        hashes = np.fromfile(os.path.join(d, "bank.hashes"), dtype=np.uint8).reshape(-1, 32)
        quality = np.fromfile(os.path.join(d, "bank.quality"), dtype=np.uint8)
        queries = np.fromfile(os.path.join(d, "queries.hashes"), dtype=np.uint8).reshape(-1, 32)
        if len(hashes) != nv * nf or len(quality) != nv * nf or len(queries) != nq * qsec:
            print("bench-faiss-video: the dump's sizes do not match vigil.txt")
            return 1

        t0 = time.time()
        peer = Peer(hashes, quality, nf)
        build = time.time() - t0
        path = os.path.join(d, "peer.faissindex")
        faiss.write_index_binary(peer.index, path)
        t0 = time.time()
        loaded = faiss.read_index_binary(path)
        load = time.time() - t0
        del loaded
        os.unlink(path)
        print(f"faiss {faiss.__version__} IndexBinaryFlat, one thread: {peer.nunique} unique hashes of quality "
              f">= {QUALITY_MIN}, index + hash->videos {peer.memory() / 1e6:.1f} MB "
              f"({peer.memory() / (nv * nf):.1f} bytes per frame hash), built in {build:.2f} s, "
              f"faiss index file read in {load:.2f} s", flush=True)

        search, total, bad = [], [], 0
        for k in range(nq):
            s, t, ans, nmatch = peer.query(queries[k * qsec:(k + 1) * qsec])
            search.append(1e3 * s)
            total.append(1e3 * t)
            if ans != vans[k]:
                bad = 1
                only_v = sorted(set(vans[k]) - set(ans))
                only_p = sorted(set(ans) - set(vans[k]))
                differ = sorted(v for v in set(ans) & set(vans[k]) if ans[v] != vans[k][v])
                print(f"query {k}: DIFFER: {len(vans[k])} videos from vigil, {len(ans)} from faiss; "
                      f"only vigil {only_v[:5]}, only faiss {only_p[:5]}, counts differ {differ[:5]}")
            elif clips[k][0] not in ans or clips[k][1] not in ans:
                bad = 1
                print(f"query {k}: a copied clip's video is missing from both answers")
            print(f"query {k}: vigil {vms[k]:.2f} ms, faiss search {search[-1]:.2f} ms, peer's whole query "
                  f"{total[-1]:.2f} ms, {len(ans)} videos with a pair, {nmatch} at query % >= 80", flush=True)

        med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
        print(f"bank: {nv} videos x {nf} frame hashes = {nv * nf}; query: {qsec} s at one hash per second; "
              f"{nq} queries; one thread; CPU time")
        print(f"vigil, the full answer (percentages and segments):  {spread(vms)} ms per query")
        print(f"faiss IndexBinaryFlat range_search (radius 32):     {spread(search)} ms per query")
        print(f"python-threatexchange's query (search + per video): {spread(total)} ms per query")
        print(f"ratio (medians): faiss search / vigil = {med(search) / med(vms):.1f}x, "
              f"peer's query / vigil = {med(total) / med(vms):.1f}x; answers "
              f"{'DIFFER' if bad else 'identical, video by video (exact)'}")
        print(f"peak RSS of this script: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        return 1 if bad or rc else 0
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
