/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_video_damage.c - a damaged video is concealed as the reference
 * conceals it.  The reference decodes with slice threads, and libavcodec
 * conceals damaged H.264 pictures otherwise when they are active; vigil
 * decodes plainly and, at the first damage, again with slice threads
 * (video_decode.c, conceal_as_reference).  So on damaged copies of an H.264
 * clip, every frame and one per second, in and out of the sandbox, vigil's
 * lines must equal those of slice threads from the start, and at least one
 * copy must come out otherwise from the plain decoder alone (else the test
 * would prove nothing).  An intact clip gives the same lines every way, and
 * the hashes held back while watching still reach the callback when a
 * limit ends the video.
 */
#include "testutil.h"
#include "video_testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/log.h>

#include "video/video_internal.h"

static int hash_lines(const char *path, double sph, int sandbox, int conceal, tv_lines *out,
                      vigil_video_info *info) {
  vigil_video_opts o;
  vigil_video_opts_default(&o);
  o.seconds_per_hash = sph;
  o.sandbox = sandbox;
  memset(out, 0, sizeof *out);
  vigil__video_test_conceal = conceal;
  vigil_error e;
  vigil_error_clear(&e);
  int rc = vigil_video_hash_file(path, &o, tv_add_line, out, info, &e);
  vigil__video_test_conceal = 0;
  if (rc) fprintf(stderr, "# %s: %s\n", path, e.message);
  return rc;
}

static int same(const tv_lines *a, const tv_lines *b) { return a->n == b->n && !memcmp(a->s, b->s, a->n); }

static void test_damaged_h264(void **state) {
  (void)state;
  const char *clean = tv_path("clean.mp4");
  if (tv_x264(clean, 60, 3, NULL) != 0) skip();
  size_t len;
  uint8_t *data = tu_slurp(clean, &len);
  assert_non_null(data);
  int exercised = 0, copies = 0;
  for (int v = 0; v < 6; v++) {
    /* a few bytes overwritten in the second half of the file (frames, not the header) */
    uint8_t *d = malloc(len);
    assert_non_null(d);
    memcpy(d, data, len);
    unsigned x = 2654435761u * (unsigned)(v + 1);
    for (int k = 0; k < 2 + 3 * v; k++) {
      x = x * 1103515245u + 12345u;
      d[len / 2 + (x >> 8) % (len / 2 - 16)] ^= (uint8_t)(1u + (x & 0x7f));
    }
    char name[32];
    snprintf(name, sizeof name, "damaged%d.mp4", v);
    const char *path = tv_write(name, d, len);
    free(d);
    for (int every = 0; every <= 1; every++) {
      double sph = every ? 0 : 1;
      tv_lines def, slices, plain, boxed;
      vigil_video_info info;
      if (hash_lines(path, sph, 0, 2, &slices, &info) != 0) continue; /* damaged past decoding */
      copies++;
      assert_int_equal(hash_lines(path, sph, 0, 0, &def, &info), 0);
      assert_int_equal(hash_lines(path, sph, 0, 1, &plain, &info), 0);
      assert_int_equal(hash_lines(path, sph, 1, 0, &boxed, &info), 0);
      if (!same(&def, &slices)) fail_msg("%s, %s: not the frames slice threads give", name, every ? "every frame" : "1/s");
      if (!same(&boxed, &def)) fail_msg("%s, %s: other frames in the sandbox", name, every ? "every frame" : "1/s");
      if (!same(&plain, &slices)) exercised++;
      free(def.s);
      free(slices.s);
      free(plain.s);
      free(boxed.s);
    }
  }
  free(data);
  fprintf(stderr, "# %d damaged hashings, %d where the concealment mattered\n", copies, exercised);
  assert_true(copies >= 4);
  assert_true(exercised >= 1);
}

/* An intact clip: the plain decoder's lines, decoded once (the same as slice threads give). */
static void test_intact_h264(void **state) {
  (void)state;
  const char *clean = tv_path("intact.mp4");
  if (tv_x264(clean, 60, 3, NULL) != 0) skip();
  tv_lines def, slices, plain;
  vigil_video_info info;
  assert_int_equal(hash_lines(clean, 0, 0, 0, &def, &info), 0);
  assert_int_equal(info.frames, 60);
  assert_int_equal(hash_lines(clean, 0, 0, 1, &plain, &info), 0);
  assert_int_equal(hash_lines(clean, 0, 0, 2, &slices, &info), 0);
  assert_true(same(&def, &plain));
  assert_true(same(&def, &slices));
  free(def.s);
  free(slices.s);
  free(plain.s);
}

static int calls, stop_after;
static int count_and_stop(void *ctx, const vigil_video_frame *f) {
  (void)ctx, (void)f;
  return ++calls == stop_after ? VIGIL_EEXIST : VIGIL_OK;
}

/* The held-back hashes are not lost: a limit that ends the video still
 * delivers every frame before it, as the plain decoder alone does, and a
 * callback that says stop is called no more. */
static void test_held_back_delivered(void **state) {
  (void)state;
  const char *clean = tv_path("limit.mp4");
  if (tv_x264(clean, 60, 3, NULL) != 0) skip();
  for (int sandbox = 0; sandbox <= 1; sandbox++)
    for (int conceal = 0; conceal <= 1; conceal++) {
      vigil_video_opts o;
      vigil_video_opts_default(&o);
      o.seconds_per_hash = 0;
      o.sandbox = sandbox;
      o.max_frames = 30;
      vigil__video_test_conceal = conceal;
      calls = 0;
      stop_after = 0;
      vigil_error e;
      assert_int_equal(vigil_video_hash_file(clean, &o, count_and_stop, NULL, NULL, &e), VIGIL_ELIMIT);
      assert_int_equal(calls, 30); /* frames 0-29, the limit at the 31st */
      calls = 0;
      stop_after = 5;
      o.max_frames = 0;
      vigil_video_opts_default(&o);
      o.seconds_per_hash = 0;
      o.sandbox = sandbox;
      assert_int_equal(vigil_video_hash_file(clean, &o, count_and_stop, NULL, NULL, &e), VIGIL_EEXIST);
      assert_int_equal(calls, 5);
      vigil__video_test_conceal = 0;
    }
}

static int teardown(void **state) {
  (void)state;
  tv_cleanup();
  return 0;
}

int main(void) {
  av_log_set_level(AV_LOG_QUIET); /* the decoder's complaints about the damage */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_damaged_h264),
      cmocka_unit_test(test_intact_h264),
      cmocka_unit_test(test_held_back_delivered),
  };
  return cmocka_run_group_tests(tests, NULL, teardown);
}
