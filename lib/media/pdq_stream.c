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
 * Memory is O(window * cols), never O(rows * cols).
 */
#include "media/pdq_internal.h"
#include "common/internal.h"

#include <pthread.h>
#include <string.h>

#define LANES 8
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

/* Rows enter and leave the lane-interleaved batches through plain float
 * pointers: writing one lane of a vector variable makes compilers load and
 * store the whole vector, and the next row's write then stalls on it. */

/* Hot loops get an AVX2 clone picked at load time where the CPU has it;
 * the arithmetic is the same IEEE single precision either way. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__)
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

/* A column-wise running box filter over rows arriving one by one. */
typedef struct vbox {
  box_plan plan;
  int ncols, ri, cnt, emitted;
  float *sum;  /* ncols */
  float *ring; /* (w + 1) rows of ncols */
  float *out;  /* ncols */
} vbox;

static int vbox_init(vbox *b, int n, int w, int ncols) {
  memset(b, 0, sizeof *b);
  b->plan = plan_for(n, w);
  b->ncols = ncols;
  b->sum = vigil__calloc((size_t)ncols, sizeof(float));
  b->ring = vigil__mallocarray((size_t)(w + 1) * (size_t)ncols, sizeof(float));
  b->out = vigil__mallocarray((size_t)ncols, sizeof(float));
  return b->sum && b->ring && b->out ? VIGIL_OK : VIGIL_ENOMEM;
}

static void vbox_free(vbox *b) {
  free(b->sum);
  free(b->ring);
  free(b->out);
}

static inline float *vbox_slot(vbox *b, int row) {
  return b->ring + (size_t)(row % (b->plan.w + 1)) * (size_t)b->ncols;
}

/* The row for index b->ri has been written to vbox_slot(b, b->ri).  Returns
 * 1 when b->out holds a new output row (index b->emitted - 1). */
VIGIL__HOT static int vbox_commit(vbox *b) {
  const box_plan *p = &b->plan;
  const int nc = b->ncols;
  float *restrict sum = b->sum, *restrict out = b->out;
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
VIGIL__HOT static void vbox_tail(vbox *b, int k) {
  const box_plan *p = &b->plan;
  const int nc = b->ncols;
  float *restrict sum = b->sum, *restrict out = b->out;
  const float *restrict old = vbox_slot(b, p->p3 + k);
  for (int c = 0; c < nc; c++) sum[c] -= old[c];
  b->cnt--;
  const float d = (float)b->cnt;
  for (int c = 0; c < nc; c++) out[c] = sum[c] / d;
  b->emitted++;
}

/* Luma by table: LR[r] is exactly the float product 0.299f * r the
 * reference computes, so LR[r] + LG[g] + LB[b], added in the same order,
 * is bit-identical and saves three conversions and multiplies a pixel. */
static float luma_r[256], luma_g[256], luma_b[256];
static pthread_once_t luma_once = PTHREAD_ONCE_INIT;
static void luma_init(void) {
  for (int i = 0; i < 256; i++) {
    luma_r[i] = VIGIL__LUMA_R * (float)i;
    luma_g[i] = VIGIL__LUMA_G * (float)i;
    luma_b[i] = VIGIL__LUMA_B * (float)i;
  }
}

struct vigil__pdq_stream {
  int rows, cols, direct; /* direct: a 64x64 picture is taken as it is */
  box_plan hplan;
  vf8 *batch1, *h1, *batch2, *h2; /* cols vectors each */
  int nb1, nb2, pushed;
  vbox v1, v2;
  int colsel[64], rowsel[64], next_out;
  float out[64][64];
};

void vigil__pdq_stream_free(vigil__pdq_stream *s) {
  if (!s) return;
  free(s->batch1);
  free(s->h1);
  free(s->batch2);
  free(s->h2);
  vbox_free(&s->v1);
  vbox_free(&s->v2);
  free(s);
}

static vf8 *alloc_lanes(int cols) {
  size_t bytes = (size_t)cols * sizeof(vf8);
  vf8 *v = aligned_alloc(sizeof(vf8), bytes);
  if (v) memset(v, 0, bytes); /* unused lanes of a last, partial batch stay finite */
  return v;
}

int vigil__pdq_stream_new(vigil__pdq_stream **out, int rows, int cols, vigil_error *err) {
  *out = NULL;
  if (rows < VIGIL__PDQ_MIN_DIM || cols < VIGIL__PDQ_MIN_DIM)
    return vigil__seterr(err, VIGIL_EINVAL, "picture %dx%d too small for PDQ", cols, rows);
  pthread_once(&luma_once, luma_init);
  vigil__pdq_stream *s = calloc(1, sizeof *s);
  if (!s) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  s->rows = rows;
  s->cols = cols;
  s->direct = rows == 64 && cols == 64;
  /* Window sizes: (dim + 2*64 - 1) / (2*64), as the reference rounds. */
  int wh = (cols + 127) / 128, wv = (rows + 127) / 128;
  s->hplan = plan_for(cols, wh);
  for (int i = 0; i < 64; i++) {
    s->rowsel[i] = (int)(((i + 0.5) * rows) / 64);
    s->colsel[i] = (int)(((i + 0.5) * cols) / 64);
  }
  int rc = VIGIL_OK;
  if (!s->direct) {
    s->batch1 = alloc_lanes(cols);
    s->h1 = alloc_lanes(cols);
    s->batch2 = alloc_lanes(cols);
    s->h2 = alloc_lanes(cols);
    if (!s->batch1 || !s->h1 || !s->batch2 || !s->h2) rc = VIGIL_ENOMEM;
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

/* A V2 output row: keep it if one of the 64 sampled rows is at its index. */
static void v2_emitted(vigil__pdq_stream *s) {
  int oi = s->v2.emitted - 1;
  while (s->next_out < 64 && s->rowsel[s->next_out] == oi) {
    memcpy(s->out[s->next_out], s->v2.out, sizeof s->out[0]);
    s->next_out++;
  }
}

/* H2 over the batched V1 rows, then their 64 sampled columns into V2. */
static void flush2(vigil__pdq_stream *s) {
  if (!s->nb2) return;
  box_lanes(s->batch2, s->h2, &s->hplan);
  for (int r = 0; r < s->nb2; r++) {
    float *slot = vbox_slot(&s->v2, s->v2.ri);
    const float *h = (const float *)s->h2 + r;
    for (int k = 0; k < 64; k++) slot[k] = h[(size_t)s->colsel[k] * LANES];
    if (vbox_commit(&s->v2)) v2_emitted(s);
  }
  s->nb2 = 0;
}

static void v1_emitted(vigil__pdq_stream *s) {
  const float *row = s->v1.out;
  float *b = (float *)s->batch2 + s->nb2;
  for (int c = 0; c < s->cols; c++) b[(size_t)c * LANES] = row[c];
  if (++s->nb2 == LANES) flush2(s);
}

/* H1 over the batched luma rows, then each row into V1. */
static void flush1(vigil__pdq_stream *s) {
  if (!s->nb1) return;
  box_lanes(s->batch1, s->h1, &s->hplan);
  for (int r = 0; r < s->nb1; r++) {
    float *slot = vbox_slot(&s->v1, s->v1.ri);
    const float *h = (const float *)s->h1 + r;
    for (int c = 0; c < s->cols; c++) slot[c] = h[(size_t)c * LANES];
    if (vbox_commit(&s->v1)) v1_emitted(s);
  }
  s->nb1 = 0;
}

static void row_pushed(vigil__pdq_stream *s) {
  s->pushed++;
  if (++s->nb1 == LANES) flush1(s);
}

void vigil__pdq_stream_push_rgb(vigil__pdq_stream *s, const uint8_t *rgb) {
  if (s->direct) {
    for (int c = 0; c < 64; c++, rgb += 3) s->out[s->pushed][c] = luma_r[rgb[0]] + luma_g[rgb[1]] + luma_b[rgb[2]];
    s->pushed++;
    return;
  }
  float *b = (float *)s->batch1 + s->nb1;
  for (int c = 0; c < s->cols; c++, rgb += 3) b[(size_t)c * LANES] = luma_r[rgb[0]] + luma_g[rgb[1]] + luma_b[rgb[2]];
  row_pushed(s);
}

void vigil__pdq_stream_push_grey(vigil__pdq_stream *s, const uint8_t *grey) {
  if (s->direct) {
    for (int c = 0; c < 64; c++) s->out[s->pushed][c] = (float)grey[c];
    s->pushed++;
    return;
  }
  float *b = (float *)s->batch1 + s->nb1;
  for (int c = 0; c < s->cols; c++) b[(size_t)c * LANES] = (float)grey[c];
  row_pushed(s);
}

void vigil__pdq_stream_push_luma(vigil__pdq_stream *s, const float *luma) {
  if (s->direct) {
    memcpy(s->out[s->pushed], luma, sizeof s->out[0]);
    s->pushed++;
    return;
  }
  float *b = (float *)s->batch1 + s->nb1;
  for (int c = 0; c < s->cols; c++) b[(size_t)c * LANES] = luma[c];
  row_pushed(s);
}

void vigil__pdq_stream_finish(vigil__pdq_stream *s, float out[64][64]) {
  if (!s->direct) {
    flush1(s);
    for (int k = 0; k < s->v1.plan.p4; k++) {
      vbox_tail(&s->v1, k);
      v1_emitted(s);
    }
    flush2(s);
    for (int k = 0; k < s->v2.plan.p4; k++) {
      vbox_tail(&s->v2, k);
      v2_emitted(s);
    }
  }
  memcpy(out, s->out, sizeof s->out);
}
