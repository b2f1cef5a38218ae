/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pdq_stream.c - PDQ's Jarosz tent filter and 64x64 decimation, one row at a
 * time, bit-identical to the reference's whole-picture passes.
 *
 * The reference blurs the full-resolution luma with four 1-D box passes
 * (rows, columns, rows, columns), each a running float sum whose rounding
 * history we must replay exactly, then samples 64x64 pixel centres.  Here:
 *
 *   H1: input rows are staged 16 at a time (RGB rows as bytes, written
 *       there by the decoder or borrowed from a picture already in memory;
 *       grey and luma as floats), then gathered into two lane-interleaved
 *       batches (element [col*8 + lane]), RGB turned to luma on the way, and
 *       box-filtered along the row with one 8-wide vector per column, so 8
 *       independent sums advance together, two batches' chains interleaved.
 *       Every 8 output columns are transposed in registers and written as
 *       rows straight into V1's ring: no interleaved result is stored.
 *   V1: each H1 row enters a column-wise running sum (vectorised across
 *       columns) that keeps a ring of the last window + 16 rows (a flush's
 *       rows are written before any of them is summed).  Where the
 *       kernels have v1_lanes (AVX2 and FMA), 8 rows are summed at a time
 *       and written straight into H2's lane batches, transposed in
 *       registers; otherwise rows go to a row-major stage first.
 *   H2: V1 output rows are batched again, 32 at a time (four lane batches,
 *       four sums in flight), and filtered as H1, but divided and kept only
 *       at the 64 sampled columns.
 *   V2: only those 64 columns are carried further, and only the 64 sampled
 *       output rows are kept.
 *
 * Why this shape: at 1-2 megapixels the stream runs beside the JPEG decoder
 * in the same caches, and every buffer it does not touch is a miss the
 * decoder does not take (a baseline 1600x1004 JPEG went from 1.78x to 1.38x
 * its decode time when the luma rows, the H1 and H2 output batches and the
 * decoder's row copy were dropped).
 *
 * Invariants: every float value is computed by the same operations, in the
 * same order, as the reference's box1DFloat on that row or column; lanes and
 * columns are independent, so vectorising across them changes nothing.
 * Memory is O(window * cols), never O(rows * cols); the buffers are kept
 * per thread between pictures (scratch.c).
 */
#include "pdq/pdq_internal.h"
#include "pdq/pdq_simd.h"
#include "common/internal.h"

#include <string.h>

#define LANES 8
/* Rows per flush: two lane batches, so the row passes run two independent
 * running sums at once (one sum's add-subtract chain is latency-bound). */
#define BATCHES 2
#define FLUSH_ROWS (LANES * BATCHES)
/* H2 takes twice as many rows per flush (see box_sel4). */
#define BATCHES2 4
#define FLUSH2_ROWS (LANES * BATCHES2)
typedef float vf8 __attribute__((vector_size(LANES * sizeof(float))));

/* The reference's four phases for a vector of length n and window w. */
typedef struct box_plan {
  int n, w, p1, p2, p3, p4;
} box_plan;

static box_plan plan_for(int n, int w) {
  box_plan p;
  int half = (w + 2) / 2;
  p.n = n;
  p.w = w;
  p.p1 = half - 1;
  p.p2 = w - half + 1;
  p.p3 = n - w;
  p.p4 = half - 1;
  return p;
}

/* A macro, not a function: returning a 32-byte vector by value changes the
 * ABI between SSE and AVX builds. */
#define splat(x) ((vf8){(x), (x), (x), (x), (x), (x), (x), (x)})

/* Hot loops get an AVX2 clone picked at load time where the CPU has it;
 * the arithmetic is the same IEEE single precision either way. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define VIGIL__SANITIZED 1 /* ifunc resolvers run before a sanitizer's runtime is up */
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define VIGIL__SANITIZED 1
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !defined(VIGIL__SANITIZED)
#define VIGIL__HOT __attribute__((target_clones("avx2", "default")))
#else
#define VIGIL__HOT
#endif

/* 8x8 transpose: v[r] holds row r of a tile on entry, column r on exit
 * (unpack, shuffle and 128-bit permute steps; pure data movement). */
static inline __attribute__((always_inline)) void transpose8(vf8 *v) {
  vf8 t0 = __builtin_shufflevector(v[0], v[1], 0, 8, 1, 9, 4, 12, 5, 13);
  vf8 t1 = __builtin_shufflevector(v[0], v[1], 2, 10, 3, 11, 6, 14, 7, 15);
  vf8 t2 = __builtin_shufflevector(v[2], v[3], 0, 8, 1, 9, 4, 12, 5, 13);
  vf8 t3 = __builtin_shufflevector(v[2], v[3], 2, 10, 3, 11, 6, 14, 7, 15);
  vf8 t4 = __builtin_shufflevector(v[4], v[5], 0, 8, 1, 9, 4, 12, 5, 13);
  vf8 t5 = __builtin_shufflevector(v[4], v[5], 2, 10, 3, 11, 6, 14, 7, 15);
  vf8 t6 = __builtin_shufflevector(v[6], v[7], 0, 8, 1, 9, 4, 12, 5, 13);
  vf8 t7 = __builtin_shufflevector(v[6], v[7], 2, 10, 3, 11, 6, 14, 7, 15);
  vf8 u0 = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
  vf8 u1 = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
  vf8 u2 = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);
  vf8 u3 = __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
  vf8 u4 = __builtin_shufflevector(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);
  vf8 u5 = __builtin_shufflevector(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);
  vf8 u6 = __builtin_shufflevector(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);
  vf8 u7 = __builtin_shufflevector(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);
  v[0] = __builtin_shufflevector(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11);
  v[1] = __builtin_shufflevector(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11);
  v[2] = __builtin_shufflevector(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11);
  v[3] = __builtin_shufflevector(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11);
  v[4] = __builtin_shufflevector(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15);
  v[5] = __builtin_shufflevector(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15);
  v[6] = __builtin_shufflevector(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15);
  v[7] = __builtin_shufflevector(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15);
}

/* Where a row pass's outputs go: rows[0..16) are the row-major destinations
 * of the 16 lanes (lanes of a partial flush point at a junk row).  The
 * outputs of 8 consecutive columns are kept in tile[] and written as rows
 * after a transpose, so the lane-interleaved result is never stored. */
typedef struct row_sink {
  float *const *rows;
  vf8 tile[2][LANES];
} row_sink;

/* (Vectors by pointer: by value they would change the ABI between clones.) */
static inline __attribute__((always_inline)) void sink_put(row_sink *k, int oi, const vf8 *a, const vf8 *b) {
  k->tile[0][oi & 7] = *a;
  k->tile[1][oi & 7] = *b;
  if ((oi & 7) == 7) {
    int c0 = oi - 7;
    for (int h = 0; h < 2; h++) {
      transpose8(k->tile[h]);
      for (int r = 0; r < LANES; r++) memcpy(k->rows[h * LANES + r] + c0, &k->tile[h][r], sizeof(vf8));
    }
  }
}

/* The last n < 8 columns, from c0 on. */
static void sink_tail(row_sink *k, int c0, int n) {
  for (int h = 0; h < 2; h++)
    for (int j = 0; j < n; j++)
      for (int r = 0; r < LANES; r++) k->rows[h * LANES + r][c0 + j] = k->tile[h][j][r];
}

/* The box filter along the rows of two lane batches (16 rows) at once: for
 * each lane, the reference's four phases in its order of operations; the
 * two batches' sums are independent chains interleaved so that their
 * add-subtract latencies overlap. */
VIGIL__HOT static void box_rows2(const vf8 *in0, const vf8 *in1, const box_plan *p, row_sink *k,
                                 const vigil__pdq_kernels *kern) {
  vf8 s0 = splat(0.0f), s1 = splat(0.0f);
  int cnt = 0, li = 0, ri = 0, oi = 0;
  for (int i = 0; i < p->p1; i++, ri++) {
    s0 += in0[ri];
    s1 += in1[ri];
    cnt++;
  }
  for (int i = 0; i < p->p2; i++, ri++, oi++) {
    s0 += in0[ri];
    s1 += in1[ri];
    cnt++;
    vf8 d = splat((float)cnt);
    vf8 a = s0 / d, b = s1 / d;
    sink_put(k, oi, &a, &b);
  }
  vf8 div = splat((float)cnt);
  for (int i = 0; i < p->p3;) {
    if (!(oi & 7) && i + LANES <= p->p3 && kern->rows_tiles) {
      /* The bulk by the FMA kernel: the same sums, the same quotients. */
      int ntiles = (p->p3 - i) / LANES;
      float sums[2 * LANES];
      memcpy(sums, &s0, sizeof s0);
      memcpy(sums + LANES, &s1, sizeof s1);
      kern->rows_tiles((const float *)in0, (const float *)in1, ri, li, ntiles, (float)cnt, sums, k->rows, oi);
      memcpy(&s0, sums, sizeof s0);
      memcpy(&s1, sums + LANES, sizeof s1);
      i += ntiles * LANES, ri += ntiles * LANES, li += ntiles * LANES, oi += ntiles * LANES;
      continue;
    }
    if (!(oi & 7) && i + LANES <= p->p3) {
      /* The bulk: 8 columns at a time, the tile kept in registers. */
      vf8 a[LANES], b[LANES];
      for (int j = 0; j < LANES; j++, ri++, li++) {
        s0 += in0[ri];
        s1 += in1[ri];
        s0 -= in0[li];
        s1 -= in1[li];
        a[j] = s0 / div;
        b[j] = s1 / div;
      }
      transpose8(a);
      transpose8(b);
      for (int r = 0; r < LANES; r++) {
        memcpy(k->rows[r] + oi, &a[r], sizeof(vf8));
        memcpy(k->rows[LANES + r] + oi, &b[r], sizeof(vf8));
      }
      i += LANES;
      oi += LANES;
      continue;
    }
    /* Up to the first tile boundary, and the last few columns. */
    s0 += in0[ri];
    s1 += in1[ri];
    s0 -= in0[li];
    s1 -= in1[li];
    vf8 a = s0 / div, b = s1 / div;
    sink_put(k, oi, &a, &b);
    i++, ri++, li++, oi++;
  }
  for (int j = 0; j < p->p4; j++, li++, oi++) {
    s0 -= in0[li];
    s1 -= in1[li];
    cnt--;
    vf8 d = splat((float)cnt);
    vf8 a = s0 / d, b = s1 / d;
    sink_put(k, oi, &a, &b);
  }
  if (oi & 7) sink_tail(k, oi & ~7, oi & 7);
}

/* The row pass for H2, whose output is read only at the 64 sampled
 * columns, over four lane batches (32 rows) at once: the running sums
 * advance over every column exactly as in box_rows2 (so each value is the
 * same), but only sel[k]'s outputs are divided and written, to out[b][k].
 * Four independent chains, because one column's add-subtract pair is a
 * 6-cycle dependency that two chains left mostly idle.  sel is
 * non-decreasing (it repeats when there are fewer than 64 columns). */
#define SUMS4(op, idx)                                                                                                  \
  do {                                                                                                                 \
    s0 op in0[idx];                                                                                                    \
    s1 op in1[idx];                                                                                                    \
    s2 op in2[idx];                                                                                                    \
    s3 op in3[idx];                                                                                                    \
  } while (0)
#define OUT4(k, d)                                                                                                     \
  do {                                                                                                                 \
    out[0][k] = s0 / (d);                                                                                              \
    out[1][k] = s1 / (d);                                                                                              \
    out[2][k] = s2 / (d);                                                                                              \
    out[3][k] = s3 / (d);                                                                                              \
  } while (0)

VIGIL__HOT static void box_sel4(const vf8 *const *in, vf8 *const *out, const box_plan *p, const int *sel) {
  const vf8 *in0 = in[0], *in1 = in[1], *in2 = in[2], *in3 = in[3];
  vf8 s0 = splat(0.0f), s1 = splat(0.0f), s2 = splat(0.0f), s3 = splat(0.0f);
  int cnt = 0, li = 0, ri = 0, oi = 0, k = 0;
  for (int i = 0; i < p->p1; i++, ri++) {
    SUMS4(+=, ri);
    cnt++;
  }
  for (int i = 0; i < p->p2; i++, ri++, oi++) {
    SUMS4(+=, ri);
    cnt++;
    for (; k < 64 && sel[k] == oi; k++) {
      vf8 d = splat((float)cnt);
      OUT4(k, d);
    }
  }
  vf8 div = splat((float)cnt);
  for (int i = 0; i < p->p3; i++, ri++, li++, oi++) {
    SUMS4(+=, ri);
    SUMS4(-=, li);
    for (; k < 64 && sel[k] == oi; k++) OUT4(k, div);
  }
  for (int i = 0; i < p->p4; i++, li++, oi++) {
    SUMS4(-=, li);
    cnt--;
    for (; k < 64 && sel[k] == oi; k++) {
      vf8 d = splat((float)cnt);
      OUT4(k, d);
    }
  }
}
#undef SUMS4
#undef OUT4

/* A column-wise running box filter over rows arriving one by one. */
typedef struct vbox {
  box_plan plan;
  const vigil__pdq_kernels *k; /* cols_step, where there is one */
  int ncols, ri, cnt, emitted, ringrows;
  float *sum;  /* ncols */
  float *ring; /* w + FLUSH_ROWS rows of ncols: a flush's rows are written before any is summed */
  float *out;  /* ncols */
} vbox;

static size_t ring_bytes(const vbox *b) { return (size_t)b->ringrows * (size_t)b->ncols * sizeof(float); }

static int vbox_init(vbox *b, int n, int w, int ncols, const vigil__pdq_kernels *k) {
  memset(b, 0, sizeof *b);
  b->k = k;
  b->plan = plan_for(n, w);
  b->ncols = ncols;
  b->ringrows = w + FLUSH_ROWS;
  b->sum = vigil__scratch_get((size_t)ncols * sizeof(float));
  b->ring = vigil__scratch_get(ring_bytes(b)); /* every row is written before it is read */
  b->out = vigil__scratch_get((size_t)ncols * sizeof(float));
  if (b->sum) memset(b->sum, 0, (size_t)ncols * sizeof(float)); /* the running sums start at 0 */
  return b->sum && b->ring && b->out ? VIGIL_OK : VIGIL_ENOMEM;
}

static void vbox_free(vbox *b) {
  vigil__scratch_put(b->sum, (size_t)b->ncols * sizeof(float));
  vigil__scratch_put(b->ring, ring_bytes(b));
  vigil__scratch_put(b->out, (size_t)b->ncols * sizeof(float));
}

static inline float *vbox_slot(vbox *b, int row) {
  return b->ring + (size_t)(row % b->ringrows) * (size_t)b->ncols;
}

/* The row for index b->ri has been written to vbox_slot(b, b->ri).  Returns
 * 1 when `out` received a new output row (index b->emitted - 1). */
VIGIL__HOT static int vbox_commit(vbox *b, float *restrict out) {
  const box_plan *p = &b->plan;
  const int nc = b->ncols;
  float *restrict sum = b->sum;
  const float *restrict row = vbox_slot(b, b->ri);
  int ri = b->ri++;
  if (b->k->cols_step && ri >= p->p1) {
    /* Phases 2 and 3 by the FMA kernel: the same sums and quotients. */
    if (ri < p->p1 + p->p2) b->cnt++;
    b->k->cols_step(sum, row, ri < p->p1 + p->p2 ? NULL : vbox_slot(b, ri - p->w), out, nc, (float)b->cnt);
    b->emitted++;
    return 1;
  }
  if (ri < p->p1 + p->p2) {
    for (int c = 0; c < nc; c++) sum[c] += row[c];
    b->cnt++;
    if (ri < p->p1) return 0;
  } else {
    const float *restrict old = vbox_slot(b, ri - p->w);
    for (int c = 0; c < nc; c++) {
      sum[c] += row[c];
      sum[c] -= old[c];
    }
  }
  const float d = (float)b->cnt;
  for (int c = 0; c < nc; c++) out[c] = sum[c] / d;
  b->emitted++;
  return 1;
}

/* Phase 4, step k (0 <= k < p4): after the last input row. */
VIGIL__HOT static void vbox_tail(vbox *b, int k, float *restrict out) {
  const box_plan *p = &b->plan;
  const int nc = b->ncols;
  float *restrict sum = b->sum;
  const float *restrict old = vbox_slot(b, p->p3 + k);
  b->cnt--;
  if (b->k->cols_step) {
    b->k->cols_step(sum, NULL, old, out, nc, (float)b->cnt);
    b->emitted++;
    return;
  }
  for (int c = 0; c < nc; c++) sum[c] -= old[c];
  const float d = (float)b->cnt;
  for (int c = 0; c < nc; c++) out[c] = sum[c] / d;
  b->emitted++;
}

/* What the staged input rows hold: one kind per picture (a decoder pushes
 * every row the same way). */
enum { STAGED_NONE, STAGED_RGB, STAGED_FLOAT };

struct vigil__pdq_stream {
  int rows, cols, direct; /* direct: a 64x64 picture is taken as it is */
  int kind;               /* STAGED_*: RGB rows are turned to luma as they are interleaved */
  box_plan hplan;
  vf8 *batch1, *batch2;      /* BATCHES (BATCHES2) x cols vectors, lane-interleaved */
  float *junk;               /* cols floats: where the lanes of a partial flush write */
  uint8_t *stage1;           /* FLUSH_ROWS input rows of 4 * cols bytes: RGB triplets or floats */
  const uint8_t *rowp[FLUSH_ROWS]; /* the staged rows: in stage1, or the caller's (push_rgb_stable) */
  float *stage2;             /* FLUSH2_ROWS row-major V1 output rows */
  vf8 *sel;                  /* BATCHES2 x 64: H2 at the 64 sampled columns */
  int nb1, nb2, pushed;
  int nb2_direct;            /* the nb2 staged V1 rows are already lane-interleaved in batch2 (v1_lanes) */
  const vigil__pdq_kernels *k;
  vbox v1, v2;
  int colsel[64], rowsel[64], next_out;
  float out[64][64];
};

void vigil__pdq_stream_free(vigil__pdq_stream *s) {
  if (!s) return;
  size_t lanes = (size_t)BATCHES * (size_t)s->cols * sizeof(vf8);
  size_t lanes2 = (size_t)BATCHES2 * (size_t)s->cols * sizeof(vf8);
  vigil__scratch_put(s->batch1, lanes);
  vigil__scratch_put(s->junk, (size_t)s->cols * sizeof(float));
  vigil__scratch_put(s->batch2, lanes2);
  vigil__scratch_put(s->sel, (size_t)BATCHES2 * 64 * sizeof(vf8));
  vigil__scratch_put(s->stage1, lanes);
  vigil__scratch_put(s->stage2, lanes2);
  vbox_free(&s->v1);
  vbox_free(&s->v2);
  free(s);
}

/* 64-byte aligned, reused between pictures, with stale contents: every
 * lane is written before it is read (to_lanes fills the unused lanes of a
 * partial batch with its last row). */
static vf8 *alloc_lanes(int cols) { return vigil__scratch_get((size_t)cols * sizeof(vf8)); }

int vigil__pdq_stream_new(vigil__pdq_stream **out, int rows, int cols, int dihedral, vigil_error *err) {
  *out = NULL;
  if (rows < VIGIL__PDQ_MIN_DIM || cols < VIGIL__PDQ_MIN_DIM)
    return vigil__seterr(err, VIGIL_EINVAL, "picture %dx%d too small for PDQ", cols, rows);
  vigil__pdq_stream *s = calloc(1, sizeof *s);
  if (!s) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  s->k = vigil__pdq_kernels_get();
  s->rows = rows;
  s->cols = cols;
  s->direct = rows == 64 && cols == 64 && !dihedral;
  /* Window sizes: (dim + 2*64 - 1) / (2*64), as the reference rounds. */
  int wh = (cols + 127) / 128, wv = (rows + 127) / 128;
  s->hplan = plan_for(cols, wh);
  for (int i = 0; i < 64; i++) {
    s->rowsel[i] = (int)(((i + 0.5) * rows) / 64);
    s->colsel[i] = (int)(((i + 0.5) * cols) / 64);
  }
  int rc = VIGIL_OK;
  if (!s->direct) {
    s->batch1 = alloc_lanes(BATCHES * cols);
    s->junk = vigil__scratch_get((size_t)cols * sizeof(float));
    s->batch2 = alloc_lanes(BATCHES2 * cols);
    s->stage1 = (uint8_t *)alloc_lanes(BATCHES * cols);
    s->stage2 = (float *)alloc_lanes(BATCHES2 * cols);
    s->sel = alloc_lanes(BATCHES2 * 64);
    if (!s->batch1 || !s->junk || !s->batch2 || !s->stage1 || !s->stage2 || !s->sel) rc = VIGIL_ENOMEM;
    if (rc == VIGIL_OK) rc = vbox_init(&s->v1, rows, wv, cols, s->k);
    if (rc == VIGIL_OK) rc = vbox_init(&s->v2, rows, wv, 64, s->k);
  }
  if (rc != VIGIL_OK) {
    vigil__pdq_stream_free(s);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory for a %dx%d picture", cols, rows);
  }
  *out = s;
  return VIGIL_OK;
}

/* Staged rows (up to FLUSH2_ROWS, rp[i] the i-th) into lane batches: batch
 * b gets rows b*8 .. b*8+7.  A last, partial batch repeats its last row in
 * the unused lanes, which keeps them finite; their results are never read. */
static void to_lanes(vigil__pdq_stream *s, const uint8_t *const *rp, int rgb, int nrows, vf8 *batch) {
  const int cols = s->cols;
  for (int b = 0; b * LANES < nrows; b++) {
    const uint8_t *p[LANES];
    for (int r = 0; r < LANES; r++) p[r] = rp[b * LANES + r < nrows ? b * LANES + r : nrows - 1];
    float *dst = (float *)(batch + (size_t)b * cols);
    if (rgb) s->k->luma_interleave8(p, cols, dst);
    else s->k->interleave8((const float *const *)(const void *)p, cols, dst);
  }
}

/* A V2 output row: keep it if one of the 64 sampled rows is at its index. */
static void v2_emitted(vigil__pdq_stream *s) {
  int oi = s->v2.emitted - 1;
  while (s->next_out < 64 && s->rowsel[s->next_out] == oi) {
    memcpy(s->out[s->next_out], s->v2.out, sizeof s->out[0]);
    s->next_out++;
  }
}

/* H2 over the staged V1 rows, then their 64 sampled columns into V2. */
static void flush2(vigil__pdq_stream *s) {
  if (!s->nb2) return;
  if (!s->nb2_direct) {
    const uint8_t *rp[FLUSH2_ROWS];
    for (int r = 0; r < s->nb2; r++) rp[r] = (const uint8_t *)(s->stage2 + (size_t)r * (size_t)s->cols);
    to_lanes(s, rp, 0, s->nb2, s->batch2);
  }
  /* Batches past the last row read batch 0 again; their output is not read. */
  const vf8 *in[BATCHES2];
  vf8 *out[BATCHES2];
  for (int b = 0; b < BATCHES2; b++) {
    in[b] = b * LANES < s->nb2 ? s->batch2 + (size_t)b * (size_t)s->cols : s->batch2;
    out[b] = s->sel + (size_t)b * 64;
  }
  box_sel4(in, out, &s->hplan, s->colsel);
  for (int r = 0; r < s->nb2; r++) {
    float *slot = vbox_slot(&s->v2, s->v2.ri);
    const float *h = (const float *)(s->sel + (size_t)(r / LANES) * 64) + r % LANES;
    for (int k = 0; k < 64; k++) slot[k] = h[(size_t)k * LANES];
    if (vbox_commit(&s->v2, s->v2.out)) v2_emitted(s);
  }
  s->nb2 = 0;
  s->nb2_direct = 0;
}

/* V1 over the nb1 rows H1 just wrote to its ring, by the v1_lanes kernel:
 * up to 8 rows at a time straight into batch2's lanes, each value by the
 * same operations as vbox_commit.  A batch that ends part-filled is
 * flushed at once, so the next rows start at lane 0. */
static void v1_direct(vigil__pdq_stream *s) {
  vbox *b = &s->v1;
  const box_plan *p = &b->plan;
  int r = 0;
  for (; r < s->nb1 && b->ri < p->p1; r++) vbox_commit(b, s->junk); /* phase 1: summed, nothing out */
  while (r < s->nb1) {
    int n = s->nb1 - r < LANES ? s->nb1 - r : LANES;
    const float *add[LANES], *sub[LANES];
    float d[LANES];
    for (int j = 0; j < n; j++) {
      int ri = b->ri + j;
      add[j] = vbox_slot(b, ri);
      if (ri < p->p1 + p->p2) {
        sub[j] = NULL;
        b->cnt++;
      } else {
        sub[j] = vbox_slot(b, ri - p->w);
      }
      d[j] = (float)b->cnt;
    }
    s->k->v1_lanes(b->sum, add, sub, d, n, b->ncols, (float *)(s->batch2 + (size_t)(s->nb2 / LANES) * (size_t)s->cols));
    b->ri += n;
    b->emitted += n;
    r += n;
    s->nb2 += n;
    s->nb2_direct = 1;
    if (s->nb2 == FLUSH2_ROWS || n < LANES) flush2(s);
  }
}

/* Where V1 writes its next output row. */
static inline float *v1_target(vigil__pdq_stream *s) { return s->stage2 + (size_t)s->nb2 * (size_t)s->cols; }

static void v1_emitted(vigil__pdq_stream *s) {
  if (++s->nb2 == FLUSH2_ROWS) flush2(s);
}

/* H1 over the staged rows (RGB or floats), then each row into V1. */
static void flush1(vigil__pdq_stream *s) {
  if (!s->nb1) return;
  to_lanes(s, s->rowp, s->kind == STAGED_RGB, s->nb1, s->batch1);
  float *dst[FLUSH_ROWS];
  for (int r = 0; r < FLUSH_ROWS; r++) dst[r] = r < s->nb1 ? vbox_slot(&s->v1, s->v1.ri + r) : s->junk;
  row_sink k = {.rows = dst};
  box_rows2(s->batch1, s->nb1 > LANES ? s->batch1 + s->cols : s->batch1, &s->hplan, &k, s->k);
  if (s->k->v1_lanes && !(s->nb2 % LANES) && (!s->nb2 || s->nb2_direct)) {
    v1_direct(s);
  } else {
    for (int r = 0; r < s->nb1; r++)
      if (vbox_commit(&s->v1, v1_target(s))) v1_emitted(s);
  }
  s->nb1 = 0;
}

static void row_pushed(vigil__pdq_stream *s) {
  s->pushed++;
  if (++s->nb1 == FLUSH_ROWS) flush1(s);
}

/* A flush reads all its staged rows as one kind; a row of another kind
 * first flushes the rows before it (no caller mixes kinds today: each
 * decoder pushes every row of a picture the same way). */
static void stage_kind(vigil__pdq_stream *s, int kind) {
  if (s->nb1 && s->kind != kind) flush1(s);
  s->kind = kind;
}

/* The next staging row, of the given kind (STAGED_*). */
static inline uint8_t *stage1_row(vigil__pdq_stream *s, int kind) {
  stage_kind(s, kind);
  uint8_t *row = s->stage1 + (size_t)s->nb1 * (size_t)s->cols * sizeof(float);
  s->rowp[s->nb1] = row;
  return row;
}

void vigil__pdq_stream_push_rgb(vigil__pdq_stream *s, const uint8_t *rgb) {
  if (s->direct) {
    s->k->luma_rgb(rgb, s->out[s->pushed], 64);
    s->pushed++;
    return;
  }
  uint8_t *row = stage1_row(s, STAGED_RGB);
  if (rgb != row) memcpy(row, rgb, (size_t)s->cols * 3);
  row_pushed(s);
}

uint8_t *vigil__pdq_stream_rgb_slot(vigil__pdq_stream *s) {
  return s->direct ? NULL : s->stage1 + (size_t)s->nb1 * (size_t)s->cols * sizeof(float);
}

void vigil__pdq_stream_push_rgb_stable(vigil__pdq_stream *s, const uint8_t *rgb) {
  if (s->direct) {
    vigil__pdq_stream_push_rgb(s, rgb);
    return;
  }
  stage_kind(s, STAGED_RGB);
  s->rowp[s->nb1] = rgb;
  row_pushed(s);
}

void vigil__pdq_stream_push_grey(vigil__pdq_stream *s, const uint8_t *grey) {
  if (s->direct) {
    for (int c = 0; c < 64; c++) s->out[s->pushed][c] = (float)grey[c];
    s->pushed++;
    return;
  }
  float *b = (float *)stage1_row(s, STAGED_FLOAT);
  for (int c = 0; c < s->cols; c++) b[c] = (float)grey[c];
  row_pushed(s);
}

void vigil__pdq_stream_push_luma(vigil__pdq_stream *s, const float *luma) {
  if (s->direct) {
    memcpy(s->out[s->pushed], luma, sizeof s->out[0]);
    s->pushed++;
    return;
  }
  memcpy(stage1_row(s, STAGED_FLOAT), luma, (size_t)s->cols * sizeof(float));
  row_pushed(s);
}

void vigil__pdq_stream_finish(vigil__pdq_stream *s, float out[64][64]) {
  if (!s->direct) {
    flush1(s);
    if (s->nb2_direct) flush2(s); /* the tail rows below go through stage2 */
    for (int k = 0; k < s->v1.plan.p4; k++) {
      vbox_tail(&s->v1, k, v1_target(s));
      v1_emitted(s);
    }
    flush2(s);
    for (int k = 0; k < s->v2.plan.p4; k++) {
      vbox_tail(&s->v2, k, s->v2.out);
      v2_emitted(s);
    }
  }
  memcpy(out, s->out, sizeof s->out);
}
