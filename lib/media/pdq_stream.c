/*
 * pdq_stream.c - PDQ's Jarosz tent filter and 64x64 decimation, one row at a
 * time, bit-identical to the reference's whole-picture passes.
 *
 * The reference blurs the full-resolution luma with four 1-D box passes
 * (rows, columns, rows, columns), each a running float sum whose rounding
 * history we must replay exactly, then samples 64x64 pixel centres.  Here:
 *
 *   H1: rows are gathered 8 at a time into a lane-interleaved batch
 *       (element [col*8 + lane]) and box-filtered along the row with one
 *       8-wide vector per column, so 8 independent sums advance together.
 *   V1: each H1 row enters a column-wise running sum (vectorised across
 *       columns) that keeps a ring of the last window+1 rows.
 *   H2: V1 output rows are batched 8 at a time again and filtered as H1.
 *   V2: only the 64 sampled columns are carried further, and only the 64
 *       sampled output rows are kept.
 *
 * Invariants: every float value is computed by the same operations, in the
 * same order, as the reference's box1DFloat on that row or column; lanes and
 * columns are independent, so vectorising across them changes nothing.
 * Memory is O(window * cols), never O(rows * cols); the buffers are kept
 * per thread between pictures (scratch.c).
 */
#include "media/pdq_internal.h"
#include "media/pdq_simd.h"
#include "common/internal.h"

#include <string.h>

#define LANES 8
/* Rows per flush: two lane batches, so the row passes run two independent
 * running sums at once (one sum's add-subtract chain is latency-bound). */
#define BATCHES 2
#define FLUSH_ROWS (LANES * BATCHES)
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

/* Box filter of LANES interleaved vectors of length p->n. */
VIGIL__HOT static void box_lanes(const vf8 *in, vf8 *out, const box_plan *p) {
  vf8 sum = splat(0.0f);
  int cnt = 0, li = 0, ri = 0, oi = 0;
  for (int i = 0; i < p->p1; i++) {
    sum += in[ri++];
    cnt++;
  }
  for (int i = 0; i < p->p2; i++) {
    sum += in[ri++];
    cnt++;
    out[oi++] = sum / splat((float)cnt);
  }
  vf8 div = splat((float)cnt);
  for (int i = 0; i < p->p3; i++) {
    sum += in[ri++];
    sum -= in[li++];
    out[oi++] = sum / div;
  }
  for (int i = 0; i < p->p4; i++) {
    sum -= in[li++];
    cnt--;
    out[oi++] = sum / splat((float)cnt);
  }
}

/* box_lanes on two batches at once: the same operations per lane, in the
 * same order, interleaved so that the two dependency chains overlap. */
VIGIL__HOT static void box_lanes2(const vf8 *in0, const vf8 *in1, vf8 *out0, vf8 *out1, const box_plan *p) {
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
    out0[oi] = s0 / d;
    out1[oi] = s1 / d;
  }
  vf8 div = splat((float)cnt);
  for (int i = 0; i < p->p3; i++, ri++, li++, oi++) {
    s0 += in0[ri];
    s1 += in1[ri];
    s0 -= in0[li];
    s1 -= in1[li];
    out0[oi] = s0 / div;
    out1[oi] = s1 / div;
  }
  for (int i = 0; i < p->p4; i++, li++, oi++) {
    s0 -= in0[li];
    s1 -= in1[li];
    cnt--;
    vf8 d = splat((float)cnt);
    out0[oi] = s0 / d;
    out1[oi] = s1 / d;
  }
}

/* A column-wise running box filter over rows arriving one by one. */
typedef struct vbox {
  box_plan plan;
  int ncols, ri, cnt, emitted, ringrows;
  float *sum;  /* ncols */
  float *ring; /* w + FLUSH_ROWS rows of ncols: a flush's rows are written before any is summed */
  float *out;  /* ncols */
} vbox;

static size_t ring_bytes(const vbox *b) { return (size_t)b->ringrows * (size_t)b->ncols * sizeof(float); }

static int vbox_init(vbox *b, int n, int w, int ncols) {
  memset(b, 0, sizeof *b);
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
  for (int c = 0; c < nc; c++) sum[c] -= old[c];
  b->cnt--;
  const float d = (float)b->cnt;
  for (int c = 0; c < nc; c++) out[c] = sum[c] / d;
  b->emitted++;
}

struct vigil__pdq_stream {
  int rows, cols, direct; /* direct: a 64x64 picture is taken as it is */
  box_plan hplan;
  vf8 *batch1, *h1, *batch2, *h2; /* BATCHES x cols vectors each, lane-interleaved */
  float *stage1, *stage2;          /* FLUSH_ROWS row-major rows each: luma, V1 output */
  int nb1, nb2, pushed;
  const vigil__pdq_kernels *k;
  vbox v1, v2;
  int colsel[64], rowsel[64], next_out;
  float out[64][64];
};

void vigil__pdq_stream_free(vigil__pdq_stream *s) {
  if (!s) return;
  size_t lanes = (size_t)BATCHES * (size_t)s->cols * sizeof(vf8);
  vigil__scratch_put(s->batch1, lanes);
  vigil__scratch_put(s->h1, lanes);
  vigil__scratch_put(s->batch2, lanes);
  vigil__scratch_put(s->h2, lanes);
  vigil__scratch_put(s->stage1, lanes);
  vigil__scratch_put(s->stage2, lanes);
  vbox_free(&s->v1);
  vbox_free(&s->v2);
  free(s);
}

static vf8 *alloc_lanes(int cols) {
  size_t bytes = (size_t)cols * sizeof(vf8);
  vf8 *v = vigil__scratch_get(bytes); /* 64-byte aligned, reused between pictures */
  if (v) memset(v, 0, bytes); /* unused lanes of a last, partial batch stay finite */
  return v;
}

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
    s->h1 = alloc_lanes(BATCHES * cols);
    s->batch2 = alloc_lanes(BATCHES * cols);
    s->h2 = alloc_lanes(BATCHES * cols);
    s->stage1 = (float *)alloc_lanes(BATCHES * cols);
    s->stage2 = (float *)alloc_lanes(BATCHES * cols);
    if (!s->batch1 || !s->h1 || !s->batch2 || !s->h2 || !s->stage1 || !s->stage2) rc = VIGIL_ENOMEM;
    if (rc == VIGIL_OK) rc = vbox_init(&s->v1, rows, wv, cols);
    if (rc == VIGIL_OK) rc = vbox_init(&s->v2, rows, wv, 64);
  }
  if (rc != VIGIL_OK) {
    vigil__pdq_stream_free(s);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory for a %dx%d picture", cols, rows);
  }
  *out = s;
  return VIGIL_OK;
}

/* Between row-major rows and the lane-interleaved layout, a tile of
 * columns at a time so that the strided side stays in L1. */
#define TILE 256
static void interleave(const vigil__pdq_kernels *k, const float *rows, int nrows, int cols, float *dst) {
  if (nrows == LANES) {
    const float *ptrs[LANES];
    for (int r = 0; r < LANES; r++) ptrs[r] = rows + (size_t)r * (size_t)cols;
    k->interleave8(ptrs, cols, dst);
    return;
  }
  for (int c0 = 0; c0 < cols; c0 += TILE) {
    int c1 = c0 + TILE < cols ? c0 + TILE : cols;
    for (int r = 0; r < nrows; r++) {
      const float *src = rows + (size_t)r * (size_t)cols;
      float *d = dst + r;
      for (int c = c0; c < c1; c++) d[(size_t)c * LANES] = src[c];
    }
  }
}

static void deinterleave(const vigil__pdq_kernels *k, const float *src, int nrows, int cols, float *const *rows) {
  if (nrows == LANES) {
    k->deinterleave8(src, cols, rows);
    return;
  }
  for (int c0 = 0; c0 < cols; c0 += TILE) {
    int c1 = c0 + TILE < cols ? c0 + TILE : cols;
    for (int r = 0; r < nrows; r++) {
      const float *s = src + r;
      float *d = rows[r];
      for (int c = c0; c < c1; c++) d[c] = s[(size_t)c * LANES];
    }
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

/* The row pass over nrows staged rows (up to FLUSH_ROWS): into lane
 * batches, box-filtered, results left in out (batch b at out + b*cols). */
static void row_pass(vigil__pdq_stream *s, const float *stage, int nrows, vf8 *batch, vf8 *out) {
  const int cols = s->cols;
  int nb = (nrows + LANES - 1) / LANES;
  for (int b = 0; b < nb; b++) {
    int rows = nrows - b * LANES < LANES ? nrows - b * LANES : LANES;
    interleave(s->k, stage + (size_t)b * LANES * (size_t)cols, rows, cols, (float *)(batch + (size_t)b * cols));
  }
  if (nb == 2) box_lanes2(batch, batch + cols, out, out + cols, &s->hplan);
  else box_lanes(batch, out, &s->hplan);
}

/* Row r of a row pass's output, as a lane-interleaved column array. */
static inline const float *pass_row(const vf8 *out, int cols, int r) {
  return (const float *)(out + (size_t)(r / LANES) * (size_t)cols) + r % LANES;
}

/* H2 over the staged V1 rows, then their 64 sampled columns into V2. */
static void flush2(vigil__pdq_stream *s) {
  if (!s->nb2) return;
  row_pass(s, s->stage2, s->nb2, s->batch2, s->h2);
  for (int r = 0; r < s->nb2; r++) {
    float *slot = vbox_slot(&s->v2, s->v2.ri);
    const float *h = pass_row(s->h2, s->cols, r);
    for (int k = 0; k < 64; k++) slot[k] = h[(size_t)s->colsel[k] * LANES];
    if (vbox_commit(&s->v2, s->v2.out)) v2_emitted(s);
  }
  s->nb2 = 0;
}

/* Where V1 writes its next output row. */
static inline float *v1_target(vigil__pdq_stream *s) { return s->stage2 + (size_t)s->nb2 * (size_t)s->cols; }

static void v1_emitted(vigil__pdq_stream *s) {
  if (++s->nb2 == FLUSH_ROWS) flush2(s);
}

/* H1 over the staged luma rows, then each row into V1. */
static void flush1(vigil__pdq_stream *s) {
  if (!s->nb1) return;
  row_pass(s, s->stage1, s->nb1, s->batch1, s->h1);
  for (int b = 0; b * LANES < s->nb1; b++) {
    int rows = s->nb1 - b * LANES < LANES ? s->nb1 - b * LANES : LANES;
    float *slots[LANES];
    for (int r = 0; r < rows; r++) slots[r] = vbox_slot(&s->v1, s->v1.ri + b * LANES + r);
    deinterleave(s->k, (const float *)(s->h1 + (size_t)b * (size_t)s->cols), rows, s->cols, slots);
  }
  for (int r = 0; r < s->nb1; r++)
    if (vbox_commit(&s->v1, v1_target(s))) v1_emitted(s);
  s->nb1 = 0;
}

static void row_pushed(vigil__pdq_stream *s) {
  s->pushed++;
  if (++s->nb1 == FLUSH_ROWS) flush1(s);
}

static inline float *stage1_row(vigil__pdq_stream *s) { return s->stage1 + (size_t)s->nb1 * (size_t)s->cols; }

void vigil__pdq_stream_push_rgb(vigil__pdq_stream *s, const uint8_t *rgb) {
  if (s->direct) {
    s->k->luma_rgb(rgb, s->out[s->pushed], 64);
    s->pushed++;
    return;
  }
  s->k->luma_rgb(rgb, stage1_row(s), s->cols);
  row_pushed(s);
}

void vigil__pdq_stream_push_grey(vigil__pdq_stream *s, const uint8_t *grey) {
  if (s->direct) {
    for (int c = 0; c < 64; c++) s->out[s->pushed][c] = (float)grey[c];
    s->pushed++;
    return;
  }
  float *b = stage1_row(s);
  for (int c = 0; c < s->cols; c++) b[c] = (float)grey[c];
  row_pushed(s);
}

void vigil__pdq_stream_push_luma(vigil__pdq_stream *s, const float *luma) {
  if (s->direct) {
    memcpy(s->out[s->pushed], luma, sizeof s->out[0]);
    s->pushed++;
    return;
  }
  memcpy(stage1_row(s), luma, (size_t)s->cols * sizeof(float));
  row_pushed(s);
}

void vigil__pdq_stream_finish(vigil__pdq_stream *s, float out[64][64]) {
  if (!s->direct) {
    flush1(s);
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
