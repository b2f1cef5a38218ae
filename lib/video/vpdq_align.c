/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vpdq_align.c - clip localisation: which seconds of the query show which
 * seconds of a bank video.
 *
 * Input is every frame pair within the threshold between the query and one
 * bank video, with their timestamps.  A copied part of a video puts its
 * pairs on a line bank_t = speed * query_t + offset: speed 1 for a plain
 * copy, another for a sped-up or slowed-down one; a trimmed start, an
 * inserted intro or a cut only changes the offset from one part to the next.
 * So the pairs vote, Hough-like, for (speed, offset): speeds on a geometric
 * grid from 0.5 to 2 (2.3% apart), offsets in bins one sampling interval
 * wide, each query frame voting once per bin with the weight of its closest
 * pair there (threshold + 1 - distance).  The weight matters: a query frame
 * matches several neighbouring bank frames (footage drifts slowly), a band
 * seconds wide in which many lines would fit equally by count; the closest
 * frames lie on the true line.  The strongest line is refined
 * by least squares on the pairs near it, its pairs (one per query frame,
 * the closest) are cut into runs where the query skips more than a few
 * intervals, and each run long enough becomes a segment.  Its query frames
 * are then taken out and the next line is searched, until no line has
 * enough votes or max_segments is reached.  Of a query frame's pairs on a
 * line the closest (smallest distance) is kept.  Repeated content (a static shot
 * matching everywhere) spreads its votes over many offsets and so does not
 * make lines.
 *
 * Segment boundaries are the timestamps of the first and last matched
 * frames, so a boundary is off by at most about one sampling interval plus
 * the frames a transform left unmatched.
 */
#include "video/vpdq_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "common/internal.h"

#define NSPEEDS 61 /* odd: the middle one is exactly 1 */
#define SPEED_LO 0.5
#define SPEED_HI 2.0
#define MAX_BINS (1u << 22) /* offset bins; wider bins past this */
#define MIN_RUN 3           /* query frames a segment needs (fewer when the query is shorter) */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double vigil__vpdq_interval(const double *ts, size_t n) {
  if (n < 2) return 0;
  double *d = vigil__mallocarray(n, sizeof *d);
  if (!d) return 0; /* an unknown interval only loosens alignment */
  size_t m = 0;
  for (size_t i = 1; i < n; i++)
    if (ts[i] > ts[i - 1]) d[m++] = ts[i] - ts[i - 1];
  double r = 0;
  if (m) {
    qsort(d, m, sizeof *d, cmp_double);
    r = d[m / 2];
  }
  free(d);
  return r;
}

typedef struct inlier {
  uint32_t qi;
  double qt, bt, res;
} inlier;

static int cmp_segment(const void *a, const void *b) {
  const vigil_vpdq_segment *x = a, *y = b;
  return (x->query_start > y->query_start) - (x->query_start < y->query_start);
}

/* Number of query timestamps in [a, b]. */
static size_t count_between(const double *qts, size_t nq, double a, double b) {
  size_t lo = 0, hi = nq;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (qts[mid] < a) lo = mid + 1;
    else hi = mid;
  }
  size_t first = lo;
  hi = nq;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (qts[mid] <= b) lo = mid + 1;
    else hi = mid;
  }
  return lo - first;
}

/* Collects alive pairs within tol of bt = r*qt + b, one per query frame
 * (the smallest distance, then the first in time); pairs are sorted by qi,
 * so the list comes out by qi. */
static size_t collect(const vigil__vpdq_pair *p, size_t n, const uint8_t *alive, double r, double b, double tol,
                      inlier *out) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (!alive[i]) continue;
    double res = fabs(p[i].bt - (r * p[i].qt + b));
    if (res > tol) continue;
    if (m && out[m - 1].qi == p[i].qi) continue; /* pairs of one frame come closest first */
    out[m++] = (inlier){p[i].qi, p[i].qt, p[i].bt, res};
  }
  return m;
}

/* Least-squares line through the inliers; keeps r, b when it is degenerate. */
static void fit(const inlier *in, size_t m, double *r, double *b) {
  if (m < 3) return;
  double mq = 0, mb = 0;
  for (size_t i = 0; i < m; i++) mq += in[i].qt, mb += in[i].bt;
  mq /= (double)m;
  mb /= (double)m;
  double sqq = 0, sqb = 0;
  for (size_t i = 0; i < m; i++) {
    sqq += (in[i].qt - mq) * (in[i].qt - mq);
    sqb += (in[i].qt - mq) * (in[i].bt - mb);
  }
  if (sqq <= 1e-12) return;
  double nr = sqb / sqq;
  if (!(nr >= SPEED_LO * 0.9 && nr <= SPEED_HI * 1.1)) return;
  *r = nr;
  *b = mb - nr * mq;
}

static int cmp_pair(const void *a, const void *b) {
  const vigil__vpdq_pair *x = a, *y = b;
  if (x->qi != y->qi) return (x->qi > y->qi) - (x->qi < y->qi);
  if (x->dist != y->dist) return x->dist - y->dist;
  return (x->bt > y->bt) - (x->bt < y->bt);
}

int vigil__vpdq_align(vigil__vpdq_pair *p, size_t n, const double *qts, size_t nq, double qdt, double bdt,
                      int threshold, int max_segments, vigil_vpdq_segment **segs, size_t *nsegs, vigil_error *err) {
  *segs = NULL;
  *nsegs = 0;
  if (n == 0 || nq == 0 || max_segments <= 0) return VIGIL_OK;
  qsort(p, n, sizeof *p, cmp_pair);
  size_t min_run = nq < MIN_RUN ? nq : MIN_RUN;
  double dt = qdt > bdt ? qdt : bdt;
  if (!(dt > 0)) dt = 1.0;
  double tol = dt;                            /* a line's pairs lie this close to it */
  double gap = 8 * qdt > 4.0 ? 8 * qdt : 4.0; /* a run ends where the query skips more */
  double speeds[NSPEEDS];
  for (int k = 0; k < NSPEEDS; k++) speeds[k] = SPEED_LO * exp(log(SPEED_HI / SPEED_LO) * k / (NSPEEDS - 1));
  speeds[NSPEEDS / 2] = 1.0;

  double qmin = p[0].qt, qmax = p[0].qt, bmin = p[0].bt, bmax = p[0].bt;
  for (size_t i = 1; i < n; i++) {
    if (p[i].qt < qmin) qmin = p[i].qt;
    if (p[i].qt > qmax) qmax = p[i].qt;
    if (p[i].bt < bmin) bmin = p[i].bt;
    if (p[i].bt > bmax) bmax = p[i].bt;
  }
  /* Every offset bt - r*qt over the grid lies in [olo, ohi]. */
  double olo = bmin - SPEED_HI * qmax, ohi = bmax - SPEED_LO * qmin;
  double w = tol;
  double span = ohi - olo;
  if (span / w > (double)(MAX_BINS - 4)) w = span / (double)(MAX_BINS - 4);
  size_t nbins = (size_t)(span / w) + 4;

  int rc = VIGIL_ENOMEM;
  uint32_t *cnt = calloc(nbins, sizeof *cnt), *stamp = calloc(nbins, sizeof *stamp);
  uint32_t *touched = vigil__mallocarray(n, sizeof *touched);
  uint8_t *alive = malloc(n), *claimed = calloc(nq, 1);
  inlier *in = vigil__mallocarray(n, sizeof *in);
  vigil_vpdq_segment *out = NULL;
  size_t nout = 0, cap = 0;
  if (!cnt || !stamp || !touched || !alive || !claimed || !in) goto done;
  memset(alive, 1, n);

  for (int round = 0; round < 4 * max_segments && nout < (size_t)max_segments; round++) {
    uint32_t best = 0;
    int bestk = -1;
    size_t bestbin = 0;
    for (int k = 0; k < NSPEEDS; k++) {
      double r = speeds[k];
      size_t nt = 0;
      for (size_t i = 0; i < n; i++) {
        if (!alive[i]) continue;
        size_t bin = (size_t)((p[i].bt - r * p[i].qt - olo) / w);
        if (bin >= nbins - 1) bin = nbins - 2;
        if (stamp[bin] == p[i].qi + 1) continue; /* one vote per query frame and bin: its closest */
        if (stamp[bin] == 0) touched[nt++] = (uint32_t)bin;
        stamp[bin] = p[i].qi + 1;
        cnt[bin] += (uint32_t)(threshold + 1 - (p[i].dist < threshold ? p[i].dist : threshold));
      }
      for (size_t t = 0; t < nt; t++) {
        size_t bin = touched[t];
        uint32_t s = cnt[bin] + cnt[bin + 1]; /* a line near a bin edge votes in two */
        int closer = bestk < 0 || abs(k - NSPEEDS / 2) < abs(bestk - NSPEEDS / 2);
        if (s > best || (s == best && closer)) best = s, bestk = k, bestbin = bin;
      }
      for (size_t t = 0; t < nt; t++) cnt[touched[t]] = 0, stamp[touched[t]] = 0;
    }
    if (bestk < 0 || best < min_run) break;

    double r = speeds[bestk], b = olo + (double)(bestbin + 1) * w;
    size_t m = collect(p, n, alive, r, b, 1.5 * w, in);
    fit(in, m, &r, &b);
    m = collect(p, n, alive, r, b, 1.5 * tol, in);
    fit(in, m, &r, &b);
    m = collect(p, n, alive, r, b, tol, in);

    for (size_t s = 0; s < m && nout < (size_t)max_segments;) {
      size_t e = s + 1;
      while (e < m && in[e].qt - in[e - 1].qt <= gap) e++;
      if (e - s >= min_run) {
        if (vigil__grow((void **)&out, &cap, nout + 1, sizeof *out)) goto done;
        vigil_vpdq_segment *g = &out[nout++];
        g->query_start = in[s].qt;
        g->query_end = in[e - 1].qt;
        g->bank_start = in[s].bt;
        g->bank_end = in[e - 1].bt;
        g->speed = r;
        g->frames = e - s;
        size_t all = count_between(qts, nq, g->query_start, g->query_end);
        g->share = all ? (double)g->frames / (double)all : 1.0;
        if (g->share > 1.0) g->share = 1.0;
        for (size_t i = s; i < e; i++) claimed[in[i].qi] = 1;
      }
      s = e;
    }
    /* The line's pairs are spent whether or not they made a segment, so
     * every round removes at least the votes it found. */
    for (size_t i = 0; i < n; i++) {
      if (!alive[i]) continue;
      if (claimed[p[i].qi] || fabs(p[i].bt - (r * p[i].qt + b)) <= tol) alive[i] = 0;
    }
    size_t bb = bestbin;
    for (size_t i = 0; i < n; i++) { /* and the bin that won, at the grid speed */
      if (!alive[i]) continue;
      size_t bin = (size_t)((p[i].bt - speeds[bestk] * p[i].qt - olo) / w);
      if (bin == bb || bin == bb + 1) alive[i] = 0;
    }
  }
  if (nout) qsort(out, nout, sizeof *out, cmp_segment);
  *segs = out;
  *nsegs = nout;
  out = NULL;
  rc = VIGIL_OK;
done:
  if (rc != VIGIL_OK) vigil__seterr(err, rc, "vpdq: out of memory aligning %zu frame pairs", n);
  free(out);
  free(cnt);
  free(stamp);
  free(touched);
  free(alive);
  free(claimed);
  free(in);
  return rc;
}
