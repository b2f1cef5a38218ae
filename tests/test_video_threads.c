/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_video_threads.c - hashing with threads (the decoder's frame threads
 * and the hashing thread beside it, lib/video/video_hasher.c) gives the
 * frames one thread gives, in the same order and in the calling thread; a
 * callback that stops, and a limit met mid-video, stop it the same way.
 * In-process runs let ThreadSanitizer watch both threads (label `threads`);
 * one sandboxed run checks that the worker's filter lets the thread start.
 */
#include "testutil.h"
#include "video_testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/video.h"

#include "tsan_ffmpeg.h" /* TSAN, and FFmpeg left to itself under it */

typedef struct got {
  vigil_video_frame f[512];
  size_t n;
  size_t stop_after; /* 0: never */
  pthread_t caller;
  int wrong_thread;
} got;

static int keep(void *ctx, const vigil_video_frame *f) {
  got *g = ctx;
  if (!pthread_equal(pthread_self(), g->caller)) g->wrong_thread = 1;
  if (g->n < sizeof g->f / sizeof g->f[0]) g->f[g->n++] = *f;
  return g->stop_after && g->n == g->stop_after ? VIGIL_ELIMIT : VIGIL_OK;
}

static int hash(const char *path, int threads, int sandbox, double sph, uint64_t max_frames, got *g,
                vigil_error *e) {
  memset(g->f, 0, sizeof g->f);
  g->n = 0;
  g->caller = pthread_self();
  g->wrong_thread = 0;
  vigil_video_opts o;
  vigil_video_opts_default(&o);
  o.threads = threads;
  o.sandbox = sandbox;
  o.seconds_per_hash = sph;
  if (max_frames) o.max_frames = max_frames;
  vigil_error_clear(e);
  return vigil_video_hash_file(path, &o, keep, g, NULL, e);
}

static void assert_same(const got *a, const got *b) {
  assert_int_equal(a->n, b->n);
  for (size_t i = 0; i < a->n; i++) {
    assert_int_equal(a->f[i].frame_number, b->f[i].frame_number);
    assert_int_equal(a->f[i].quality, b->f[i].quality);
    assert_memory_equal(a->f[i].hash.bytes, b->f[i].hash.bytes, VIGIL_PDQ_BYTES);
    assert_true(a->f[i].timestamp == b->f[i].timestamp);
  }
}

static got g1, g2;

/* Every frame and one per second, with 2 and 3 threads, on the codecs of
 * the fuzz seeds (B-frames in H.264 and MPEG-4 reorder the output). */
static void test_same_frames(void **state) {
  (void)state;
  static const char *const clips[] = {"h264-bframes.mp4", "mpeg4-bframes.avi", "vp8.webm", "mpeg2.ts", "flv1.flv",
                                      "many.y4m"};
  for (size_t c = 0; c < sizeof clips / sizeof *clips; c++) {
    char path[4200];
    if (strstr(clips[c], ".y4m")) { /* more frames than the hashing ring holds */
      const char *y = tv_y4m(clips[c], 320, 240, 25, 1, 60);
      assert_non_null(y);
      snprintf(path, sizeof path, "%s", y);
    } else
      snprintf(path, sizeof path, "%s/fuzz/seeds/fuzz_video/%s", VIGIL_SOURCE_DIR, clips[c]);
    size_t every = 0;
    for (int m = 0; m < 2; m++) {
      double sph = m ? 1.0 : 0.0;
      vigil_error e;
      assert_int_equal(hash(path, 1, 0, sph, 0, &g1, &e), 0);
      assert_true(g1.n > 0);
      if (!m) every = g1.n;
      for (int t = 2; t <= 3; t++) {
        int rc = hash(path, t, 0, sph, 0, &g2, &e);
        if (rc) printf("%s, %d threads: %s\n", clips[c], t, e.message);
        assert_int_equal(rc, 0);
        assert_false(g2.wrong_thread);
        assert_same(&g1, &g2);
        for (size_t i = 1; i < g2.n; i++) assert_true(g2.f[i].frame_number > g2.f[i - 1].frame_number);
      }
    }
    printf("  %s: %zu frames, the same hashes with 1, 2 and 3 threads\n", clips[c], every);
  }
}

/* The sandboxed worker starts its hashing thread under the filter (not
 * under ThreadSanitizer, whose runtime makes system calls of its own that
 * the filter does not allow; the release and ASan builds run this). */
static void test_sandboxed(void **state) {
  (void)state;
#ifdef TSAN
  printf("  skipped under ThreadSanitizer\n");
  return;
#endif
  char path[4200];
  snprintf(path, sizeof path, "%s/fuzz/seeds/fuzz_video/h264-bframes.mp4", VIGIL_SOURCE_DIR);
  vigil_error e;
  assert_int_equal(hash(path, 1, 0, 0, 0, &g1, &e), 0);
  int rc = hash(path, 2, 1, 0, 0, &g2, &e);
  if (rc) printf("sandboxed, 2 threads: %s\n", e.message);
  assert_int_equal(rc, 0);
  assert_false(g2.wrong_thread);
  assert_same(&g1, &g2);
}

/* A callback that returns non-zero stops the video at that frame: no
 * frame after it is delivered, with or without threads. */
static void test_callback_stops(void **state) {
  (void)state;
  const char *p = tv_y4m("stop.y4m", 64, 48, 25, 1, 40);
  assert_non_null(p);
  vigil_error e;
  for (int t = 1; t <= 2; t++) {
    g1.stop_after = 5;
    int rc = hash(p, t, 0, 0, 0, &g1, &e);
    g1.stop_after = 0;
    assert_int_equal(rc, VIGIL_ELIMIT);
    assert_int_equal(g1.n, 5);
    for (size_t i = 0; i < 5; i++) assert_int_equal(g1.f[i].frame_number, (int64_t)i);
  }
}

/* A limit met mid-video: the frames before it are delivered, then the
 * limit's error, as with one thread. */
static void test_limit_midway(void **state) {
  (void)state;
  const char *p = tv_y4m("limit.y4m", 64, 48, 25, 1, 40);
  assert_non_null(p);
  vigil_error e1, e2;
  assert_int_equal(hash(p, 1, 0, 0, 17, &g1, &e1), VIGIL_ELIMIT);
  assert_int_equal(hash(p, 2, 0, 0, 17, &g2, &e2), VIGIL_ELIMIT);
  assert_string_equal(e1.message, e2.message);
  assert_int_equal(g1.n, 17);
  assert_same(&g1, &g2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_frames),
      cmocka_unit_test(test_sandboxed),
      cmocka_unit_test(test_callback_stops),
      cmocka_unit_test(test_limit_midway),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  tv_cleanup();
  return rc;
}
