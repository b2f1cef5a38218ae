/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_video_cli.c - `vigil hash` on videos end to end: recognised by
 * content, --format vpdq equal to the reference's file byte for byte,
 * --seconds-per-hash and --downsample, the JSON object, the CSV rows, and a
 * batch that goes on past a file that is not a video.  Skips (exit 77)
 * without ../shared.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

#define D VIGIL_SHARED_DIR "/vpdq/debian-ffmpeg"
#define CLIP "c07_vp9_853x479_25_odd"

static void expect_file(const char *got, const char *rel) {
  char path[4096];
  snprintf(path, sizeof path, D "/expected/%s", rel);
  size_t n;
  char *want = (char *)tu_slurp(path, &n);
  assert_non_null(want);
  assert_int_equal(strlen(got), n);
  assert_memory_equal(got, want, n);
  free(want);
}

static void test_vpdq_modes(void **state) {
  (void)state;
  char *out;
  /* every frame at 128x128 and one per second at full size: both paths of the
   * reference's modes, cheap enough for the -O0 sanitizer build */
  assert_int_equal(
      tu_run(VIGIL_CLI " hash --format vpdq --seconds-per-hash 0 --downsample 128x128 " D "/videos/" CLIP ".webm", &out),
      0);
  expect_file(out, CLIP ".r0s128.txt");
  free(out);
  assert_int_equal(tu_run(VIGIL_CLI " hash --format vpdq " D "/videos/" CLIP ".webm", &out), 0);
  expect_file(out, CLIP ".r1.txt");
  free(out);
}

static void test_json_and_batch(void **state) {
  (void)state;
  char *out;
  /* a text file among videos: reported, the others still hashed, exit 1 */
  int rc = tu_run(VIGIL_CLI " hash --format json -j 2 " D "/videos/" CLIP ".webm " VIGIL_SOURCE_DIR
                            "/README.md " D "/videos/c10_h264_640x360_25_audiofirst.mp4 2>/dev/null",
                  &out);
  assert_int_equal(rc, 1);
  char *save = NULL, *line = strtok_r(out, "\n", &save);
  assert_non_null(line);
  json_error_t je;
  json_t *o = json_loads(line, 0, &je);
  assert_non_null(o);
  assert_string_equal(json_string_value(json_object_get(o, "kind")), "video");
  assert_string_equal(json_string_value(json_object_get(o, "codec")), "vp9");
  assert_int_equal(json_integer_value(json_object_get(o, "width")), 853);
  assert_int_equal(json_integer_value(json_object_get(o, "height")), 479);
  assert_int_equal(strlen(json_string_value(json_object_get(o, "md5"))), 32);
  assert_int_equal(strlen(json_string_value(json_object_get(o, "sha256"))), 64);
  json_t *h = json_object_get(o, "hashes");
  assert_true(json_array_size(h) > 1);
  /* one hash per second at 25 fps: frames 0, 25, 50, ... */
  assert_int_equal(json_integer_value(json_object_get(json_array_get(h, 1), "frame")), 25);
  json_decref(o);
  line = strtok_r(NULL, "\n", &save); /* README.md: the error object */
  assert_non_null(line);
  assert_non_null(strstr(line, "\"error\""));
  line = strtok_r(NULL, "\n", &save);
  assert_non_null(line);
  o = json_loads(line, 0, &je);
  assert_non_null(o);
  assert_string_equal(json_string_value(json_object_get(o, "codec")), "h264");
  json_decref(o);
  free(out);
}

static void test_csv_rows(void **state) {
  (void)state;
  char *out;
  assert_int_equal(tu_run(VIGIL_CLI " hash --seconds-per-hash 2 " D "/videos/" CLIP ".webm", &out), 0);
  /* hash,quality,path,frame,timestamp; every 50th frame at 25 fps */
  char *save = NULL, *line = strtok_r(out, "\n", &save);
  assert_int_equal(strcspn(line, ","), 64);
  assert_non_null(strstr(line, CLIP ".webm,0,0.000"));
  line = strtok_r(NULL, "\n", &save);
  assert_non_null(strstr(line, CLIP ".webm,50,2.000"));
  free(out);
}

static void test_usage(void **state) {
  (void)state;
  assert_int_equal(tu_run(VIGIL_CLI " hash --downsample 3x3 x.mp4 2>/dev/null", NULL), 2);
  assert_int_equal(tu_run(VIGIL_CLI " hash --seconds-per-hash -1 x.mp4 2>/dev/null", NULL), 2);
  assert_int_equal(tu_run(VIGIL_CLI " hash --format xml x.mp4 2>/dev/null", NULL), 2);
}

int main(void) {
  char buf[4096];
  if (!tu_shared("vpdq/debian-ffmpeg/videos", buf, sizeof buf)) return 77;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vpdq_modes),
      cmocka_unit_test(test_json_and_batch),
      cmocka_unit_test(test_csv_rows),
      cmocka_unit_test(test_usage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
