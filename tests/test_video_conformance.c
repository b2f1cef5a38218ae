/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_video_conformance.c - vigil's vPDQ output against the reference's
 * files (../shared/vpdq/debian-ffmpeg: vpdq-hash-video built against the same
 * Debian FFmpeg), byte for byte, in the four modes: every frame (r0), one hash
 * per second (r1), each at native size and downsampled to 128x128 (s128).
 * Each clip is decoded once per mode through the sandboxed worker, as `vigil
 * hash` does, and once more with two decoder threads (one hash per second, three clips).  Also checks the MD5 against an independent digest of the
 * file.  Skips (exit 77) without ../shared.
 */
#include "testutil.h"
#include "video_testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "vigil/video.h"

/* Sanitizer builds (TU_ASAN) are -O0: hashing every frame at full size of every clip
 * takes minutes there, so they check that mode on one clip only (the
 * release build checks all). */

static char shared_dir[4096];


static void md5_hex(const char *path, char out[33]) {
  size_t len;
  uint8_t *data = tu_slurp(path, &len);
  assert_non_null(data);
  unsigned char d[16];
  unsigned dl = 0;
  EVP_Digest(data, len, d, &dl, EVP_md5(), NULL);
  for (int i = 0; i < 16; i++) sprintf(out + 2 * i, "%02x", d[i]);
  free(data);
}

static void test_debian_ffmpeg(void **state) {
  (void)state;
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/vpdq/debian-ffmpeg/videos", shared_dir);
  struct dirent **names;
  int n = scandir(dir, &names, NULL, alphasort);
  assert_true(n > 0);
  static const struct {
    const char *suffix;
    double sph;
    int ds;
  } modes[] = {{"r0", 0, 0}, {"r1", 1, 0}, {"r0s128", 0, 128}, {"r1s128", 1, 128}};
  int files = 0, exact = 0, skipped = 0;
  for (int i = 0; i < n; i++) {
    const char *nm = names[i]->d_name;
    if (nm[0] == '.') {
      free(names[i]);
      continue;
    }
    char video[4500], stem[256];
    snprintf(video, sizeof video, "%s/%s", dir, nm);
    snprintf(stem, sizeof stem, "%s", nm);
    char *dot = strrchr(stem, '.');
    if (dot) *dot = 0;
    for (size_t m = 0; m < 4; m++) {
#if TU_ASAN
      if (m == 0 && strncmp(nm, "c07_", 4) != 0) {
        skipped++;
        continue;
      }
#endif
      char exp_path[4600];
      snprintf(exp_path, sizeof exp_path, "%s/vpdq/debian-ffmpeg/expected/%s.%s.txt", shared_dir, stem,
               modes[m].suffix);
      size_t elen;
      char *want = (char *)tu_slurp(exp_path, &elen);
      assert_non_null(want);
      vigil_video_opts o;
      vigil_video_opts_default(&o);
      o.seconds_per_hash = modes[m].sph;
      o.downsample_width = o.downsample_height = modes[m].ds;
      tv_lines got = {0};
      vigil_video_info info;
      vigil_error e;
      vigil_error_clear(&e);
      int rc = vigil_video_hash_file(video, &o, tv_add_line, &got, &info, &e);
      if (rc) printf("%s %s: error %s\n", nm, modes[m].suffix, e.message);
      assert_int_equal(rc, 0);
      int same = got.n == elen && !memcmp(got.s, want, elen);
      if (!same) {
        /* first differing line, for the log */
        size_t k = 0;
        while (k < got.n && k < elen && got.s[k] == want[k]) k++;
        size_t ls = k;
        while (ls > 0 && want[ls - 1] != '\n') ls--;
        printf("MISMATCH %s.%s at byte %zu: got '%.80s' want '%.80s'\n", stem, modes[m].suffix, k,
               got.s ? got.s + ls : "", want + ls);
      }
      files++;
      exact += same;
      if (m == 1 && (!strncmp(nm, "c02_", 4) || !strncmp(nm, "c07_", 4) || !strncmp(nm, "c09_", 4))) {
        /* frame threads in the decoder (the sandbox lets the worker make
         * threads for them): the same bytes, on H.264 with B-frames, VP9 and
         * MPEG-4 Part 2 (three clips keep the test short) */
        tv_lines got2 = {0};
        o.threads = 2;
        assert_int_equal(vigil_video_hash_file(video, &o, tv_add_line, &got2, NULL, &e), 0);
        if (got2.n != elen || memcmp(got2.s, want, elen)) printf("MISMATCH %s.%s with 2 threads\n", stem, modes[m].suffix);
        files++;
        exact += got2.n == elen && !memcmp(got2.s, want, elen);
        free(got2.s);
      }
      if (m == 1) {
        char md5[33];
        md5_hex(video, md5);
        assert_string_equal(info.md5, md5);
        assert_int_equal(strlen(info.sha256), 64);
      }
      free(got.s);
      free(want);
    }
    free(names[i]);
  }
  free(names);
  printf("debian-ffmpeg: %d/%d outputs byte-identical (%d left to the release build)\n", exact, files, skipped);
  assert_true(files + skipped >= 31);
  assert_int_equal(exact, files);
}

/* The end-of-file quirk: in an audio-first MP4 with B-frames the reference
 * loses the frames still in the decoder; flush_all keeps them, and the lines
 * before them are the reference's. */
static void test_flush_all(void **state) {
  (void)state;
  char video[4200], exp_path[4200];
  snprintf(video, sizeof video, "%s/vpdq/debian-ffmpeg/videos/c10_h264_640x360_25_audiofirst.mp4", shared_dir);
  snprintf(exp_path, sizeof exp_path, "%s/vpdq/debian-ffmpeg/expected/c10_h264_640x360_25_audiofirst.r0s128.txt",
           shared_dir);
  size_t elen;
  char *want = (char *)tu_slurp(exp_path, &elen);
  assert_non_null(want);
  vigil_video_opts o;
  vigil_video_opts_default(&o);
  o.seconds_per_hash = 0;
  o.downsample_width = o.downsample_height = 128;
  o.flush_all = 1;
  tv_lines got = {0};
  vigil_video_info info;
  assert_int_equal(vigil_video_hash_file(video, &o, tv_add_line, &got, &info, NULL), 0);
  size_t want_lines = 0, got_lines = 0;
  for (size_t i = 0; i < elen; i++) want_lines += want[i] == '\n';
  for (size_t i = 0; i < got.n; i++) got_lines += got.s[i] == '\n';
  printf("audio-first: the reference hashes %zu frames, flush_all %zu\n", want_lines, got_lines);
  assert_true(got_lines > want_lines);
  assert_int_equal(info.frames, got_lines);
  assert_true(got.n > elen);
  assert_memory_equal(got.s, want, elen);
  free(got.s);
  free(want);
}

int main(void) {
  if (!tu_shared("vpdq/debian-ffmpeg/videos", shared_dir, sizeof shared_dir)) return 77;
  snprintf(shared_dir, sizeof shared_dir, "%s", VIGIL_SHARED_DIR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_debian_ffmpeg),
      cmocka_unit_test(test_flush_all),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
