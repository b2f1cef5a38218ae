/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_video_gops.c - a video hashed with threads, an IDR period per
 * decoder (lib/video/video_gops.c), gives the lines one thread gives, byte
 * for byte: libx264 clips of many structures (short and open GOPs,
 * B-pyramids, interlaced fields, no B-frames, in-band parameter sets) in
 * MP4, Matroska and MPEG-TS, every frame and one hash per second and two,
 * with 2 and 3 threads, in-process and in the sandboxed worker; a pass that
 * gives up late (after periods were hashed) hands over only the every-frame
 * pass's hashes; damaged clips are numbered as with one thread (their
 * concealed pictures may differ: docs/video.md); progress comes
 * in the calling thread up to the last frame.  Also the
 * parameter-set digest the pass is admitted on.  Label `threads`.
 */
#include "testutil.h"
#include "video_testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "video/video_gops.h"
#include "video/video_skip.h"
#include "vigil/video.h"

#include "tsan_ffmpeg.h" /* TSAN, and FFmpeg left to itself under it */

static void test_params_digest(void **state) {
  (void)state;
  unsigned kind;
  uint64_t d1, d2, d3;
  const uint8_t idr[] = {0, 0, 0, 3, 0x67, 0x42, 0x1f, 0, 0, 0, 2, 0x68, 0xce, 0, 0, 0, 2, 0x65, 0x88};
  assert_int_equal(vigil__h264_scan(idr, sizeof idr, 4, &kind, &d1), 0);
  assert_true(kind & VIGIL__AU_IDR);
  assert_true(d1 != 0);
  const uint8_t idr_b[] = {0, 0, 1, 0x67, 0x42, 0x1f, 0, 0, 1, 0x68, 0xce, 0, 0, 1, 0x65, 0x99};
  assert_int_equal(vigil__h264_scan(idr_b, sizeof idr_b, 0, &kind, &d2), 0);
  assert_true(d2 == d1); /* the same parameter sets, framed otherwise, with another slice */
  const uint8_t other_pps[] = {0, 0, 0, 3, 0x67, 0x42, 0x1f, 0, 0, 0, 2, 0x68, 0xcf, 0, 0, 0, 2, 0x65, 0x88};
  assert_int_equal(vigil__h264_scan(other_pps, sizeof other_pps, 4, &kind, &d3), 0);
  assert_true(d3 != d1);
  const uint8_t p_only[] = {0, 0, 0, 2, 0x41, 0x9a};
  assert_int_equal(vigil__h264_scan(p_only, sizeof p_only, 4, &kind, &d3), 0);
  assert_true(d3 == 0);
  const uint8_t cut[] = {0, 0, 0, 9, 0x67, 0x42};
  assert_int_equal(vigil__h264_scan(cut, sizeof cut, 4, &kind, &d3), -1);
  assert_true(d3 == 0 && kind == 0);
}

/* Hashes path with 1 thread and with `threads`; asserts the same lines and
 * info (or, with may_fail, the same error).  1 when the threads' run went
 * through the period-parallel pass. */
static int g_damaged; /* the next compares are of damaged copies */

static int compare(const char *path, double sph, int threads, int sandbox, int may_fail) {
  tv_lines out[2] = {{0}, {0}};
  vigil_video_info info[2];
  int rcs[2];
  vigil_error e[2] = {{0}, {0}};
  size_t before = 0;
  for (int k = 0; k < 2; k++) {
    vigil_video_opts o;
    vigil_video_opts_default(&o);
    o.seconds_per_hash = sph;
    o.sandbox = k ? sandbox : 0;
    o.threads = k ? threads : 1;
    if (k) before = atomic_load(&vigil__video_test_gops_done);
    rcs[k] = vigil_video_hash_file(path, &o, tv_add_line, &out[k], &info[k], &e[k]);
    if (rcs[k] && !may_fail) fail_msg("%s, %d threads: %s", path, o.threads, e[k].message);
  }
  int engaged = atomic_load(&vigil__video_test_gops_done) > before;
  assert_int_equal(rcs[0], rcs[1]);
  if (rcs[0]) {
    assert_string_equal(e[0].message, e[1].message);
  } else {
    assert_non_null(out[0].s);
    if (g_damaged && strcmp(out[0].s, out[1].s)) {
      /* A damaged picture the period's decoder did not mark is concealed
       * as a plain decoder does; one thread conceals as the reference's
       * slice threads (docs/video.md#quirks-kept-by-default).  The numbering
       * must still be one decoder's: the same frames, numbers and times. */
      size_t differ = 0;
      for (const char *a = out[0].s, *b = out[1].s; *a && *b; a = strchr(a, '\n') + 1, b = strchr(b, '\n') + 1) {
        const char *ha = strchr(strchr(a, ',') + 1, ','), *hb = strchr(strchr(b, ',') + 1, ',');
        assert_int_equal(strtoll(a, NULL, 10), strtoll(b, NULL, 10));
        const char *ta = strchr(ha + 1, ','), *tb = strchr(hb + 1, ','); /* the timestamps */
        assert_int_equal(strcspn(ta, "\n"), strcspn(tb, "\n"));
        assert_memory_equal(ta, tb, strcspn(ta, "\n"));
        differ += strncmp(ha, hb, 65) != 0;
      }
      assert_int_equal(strlen(out[0].s), strlen(out[1].s));
      fprintf(stderr, "%s: %zu frames concealed otherwise with %d threads\n", path, differ, threads);
    } else if (strcmp(out[0].s, out[1].s)) {
      fprintf(stderr, "%s at %g s per hash:\n-- 1 thread --\n%s-- %d threads --\n%s", path, sph, out[0].s, threads,
              out[1].s);
      fail_msg("%s: the threads changed the output", path);
    }
    assert_int_equal(info[0].frames, info[1].frames);
    assert_int_equal(info[0].hashed, info[1].hashed);
    assert_string_equal(info[0].md5, info[1].md5);
    assert_string_equal(info[0].sha256, info[1].sha256);
    if (!sandbox && atomic_load(&vigil__video_test_gops_done) > before)
      assert_int_equal(info[0].skipped, info[1].skipped); /* the same plan */
  }
  free(out[0].s);
  free(out[1].s);
  return engaged;
}

static void test_same_lines(void **state) {
  (void)state;
  static const char *const names[] = {"gop.mp4", "gop.mkv", "gop.ts"};
  for (size_t i = 0; i < 3; i++) {
    const char *path = tv_path(names[i]);
    if (tv_x264(path, 130, 3, "keyint=25:min-keyint=25") != 0) {
      if (i == 0) skip(); /* a libavcodec without libx264 */
      fail_msg("cannot write %s", path);
    }
    for (int t = 2; t <= 3; t++) {
      assert_true(compare(path, 0, t, 0, 0));
      assert_true(compare(path, 1, t, 0, 0));
      assert_true(compare(path, 2, t, 0, 0));
    }
#ifndef TSAN /* whose runtime needs more address space than the worker is allowed */
    compare(path, 0, 2, 1, 0); /* the sandboxed worker: its filter lets the decoders' threads run */
#endif
    fprintf(stderr, "%s: the same lines with 1, 2 and 3 threads\n", names[i]);
  }
  /* Structures: each clip must give the same lines; where it has several
   * IDR periods the pass must have run. */
  static const struct {
    const char *params;
    int bframes;
    int periods; /* the pass must engage */
  } kinds[] = {
      {"keyint=10:min-keyint=10", 3, 1},      {"open-gop=1:keyint=20:min-keyint=20", 3, 0},
      {"b-pyramid=none:ref=4:keyint=30", 3, 1}, {"b-pyramid=strict:b-adapt=2:keyint=30", 3, 1},
      {"weightb=1:weightp=2:ref=3:keyint=30", 3, 1}, {"interlaced=1:tff=1:keyint=30", 3, 1},
      {"keyint=30:repeat-headers=1", 3, 1}, {"keyint=30", 0, 1},
      {"bframes=8:b-adapt=0:keyint=40", 8, 1}, {"intra-refresh=1:keyint=40", 3, 0},
      {"keyint=250", 3, 0},
  };
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
    const char *p = tv_path(i % 2 ? "kind.ts" : "kind.mp4");
    assert_int_equal(tv_x264(p, 90, kinds[i].bframes, kinds[i].params), 0);
    int a = compare(p, 0, 2, 0, 0);
    int b = compare(p, 1, 2, 0, 0);
    fprintf(stderr, "%s: the same lines%s\n", kinds[i].params, a ? ", period-parallel" : "");
    if (kinds[i].periods) assert_true(a && b);
  }
}

typedef struct prog {
  pthread_t caller;
  int calls, wrong_thread, backwards;
  uint64_t last;
} prog;

static void on_progress(void *ctx, uint64_t frames, double seconds, double total) {
  (void)seconds, (void)total;
  prog *p = ctx;
  if (!pthread_equal(pthread_self(), p->caller)) p->wrong_thread = 1;
  if (frames < p->last) p->backwards = 1;
  p->last = frames;
  p->calls++;
}

/* Progress comes in the calling thread, never backwards, up to every frame. */
static void test_progress(void **state) {
  (void)state;
  const char *path = tv_path("prog.mp4");
  if (tv_x264(path, 100, 3, "keyint=20:min-keyint=20") != 0) skip();
  prog p = {.caller = pthread_self()};
  vigil_video_opts o;
  vigil_video_opts_default(&o);
  o.threads = 2;
  o.sandbox = 0;
  o.progress = on_progress;
  o.progress_ctx = &p;
  vigil_video_info info;
  vigil_error e;
  size_t before = atomic_load(&vigil__video_test_gops_done);
  assert_int_equal(vigil_video_hash_file(path, &o, NULL, NULL, &info, &e), VIGIL_OK);
  assert_true(atomic_load(&vigil__video_test_gops_done) > before);
  assert_true(p.calls >= 3); /* five periods */
  assert_false(p.wrong_thread);
  assert_false(p.backwards);
  assert_int_equal(p.last, info.frames);
}

/* The pass giving up after its second period was hashed: the every-frame
 * pass runs from the start, and only its hashes come out. */
static void test_fallback(void **state) {
  (void)state;
  const char *path = tv_path("late.mp4");
  if (tv_x264(path, 100, 3, "keyint=20:min-keyint=20") != 0) skip();
  vigil__video_test_gops_fallback = 3;
  assert_false(compare(path, 0, 2, 0, 0));
  assert_false(compare(path, 1, 2, 0, 0));
  vigil__video_test_gops_fallback = 0;
  assert_true(compare(path, 0, 2, 0, 0));
}

/* Damaged copies: cut short, and bytes overwritten in the middle, of clips
 * with several IDR periods (the pass gives up).  One thread and two give
 * the same lines or the same error.  (A damaged one-period clip takes frame
 * threads, whose concealment depends on timing: docs/video.md.) */
static void test_damaged(void **state) {
  (void)state;
  static const char *const names[] = {"dmg.mkv", "dmg.ts"};
  for (size_t i = 0; i < 2; i++) {
    const char *path = tv_path(names[i]);
    if (tv_x264(path, 120, 3, "keyint=20:min-keyint=20") != 0) skip();
    size_t len;
    uint8_t *data = tu_slurp(path, &len);
    assert_non_null(data);
    char name[64];
    g_damaged = 1;
    snprintf(name, sizeof name, "cut-%s", names[i]);
    compare(tv_write(name, data, len * 3 / 5), 0, 2, 0, 1);
    for (size_t k = len / 3; k < len / 3 + 4000 && k < len; k += 97) data[k] ^= 0x5a;
    snprintf(name, sizeof name, "bad-%s", names[i]);
    compare(tv_write(name, data, len), 0, 2, 0, 1);
    compare(tv_write(name, data, len), 1, 2, 0, 1);
    g_damaged = 0;
    free(data);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_params_digest),
      cmocka_unit_test(test_same_lines),
      cmocka_unit_test(test_fallback),
      cmocka_unit_test(test_progress),
      cmocka_unit_test(test_damaged),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  tv_cleanup();
  return rc;
}
