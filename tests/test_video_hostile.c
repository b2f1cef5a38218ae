/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_video_hostile.c - inputs an uploader controls: empty, not a video, a
 * picture named .mp4, truncated, absurd dimensions and frame rates, a
 * million tiny frames, limits, HEIF and AVIF pictures (ISO media files
 * with a picture's brand).  Each must end in a clear error or a correct
 * result, never a crash, a hang or unbounded memory.  The videos are Y4M
 * files written by the test (tests/support/video_testutil.c); the truncated
 * MP4 comes from ../shared when it is there.
 */
#include "testutil.h"
#include "video_testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/video.h"

static int count_fn(void *ctx, const vigil_video_frame *f) {
  (void)f;
  ++*(size_t *)ctx;
  return VIGIL_OK;
}

/* Hashes path with default options (sandboxed) and returns the code. */
static int hash(const char *path, vigil_video_opts *o, size_t *n, vigil_error *e) {
  vigil_video_opts d;
  if (!o) {
    vigil_video_opts_default(&d);
    o = &d;
  }
  size_t local = 0;
  if (!n) n = &local;
  *n = 0;
  vigil_error_clear(e);
  int rc = vigil_video_hash_file(path, o, count_fn, n, NULL, e);
  printf("  %s: rc %d %s\n", strrchr(path, '/') + 1, rc, rc ? e->message : "");
  if (rc) assert_true(e->message[0] != 0);
  return rc;
}

static void test_not_videos(void **state) {
  (void)state;
  vigil_error e;
  assert_int_equal(hash(tv_write("empty.mp4", "", 0), NULL, NULL, &e), VIGIL_EFORMAT);
  const char text[] = "this is not a video, just some words in a file\n";
  assert_int_equal(hash(tv_write("words.mp4", text, sizeof text - 1), NULL, NULL, &e), VIGIL_EFORMAT);
  /* a picture renamed .mp4: still-picture demuxers are refused */
  size_t len;
  uint8_t *jpg = tu_slurp(VIGIL_SOURCE_DIR "/samples/rings.jpg", &len);
  assert_non_null(jpg);
  assert_false(vigil_video_sniff(jpg, len));
  assert_int_equal(hash(tv_write("rings.mp4", jpg, len), NULL, NULL, &e), VIGIL_EFORMAT);
  free(jpg);
  uint8_t *png = tu_slurp(VIGIL_SOURCE_DIR "/samples/waves.png", &len);
  assert_non_null(png);
  assert_int_equal(hash(tv_write("waves.mp4", png, len), NULL, NULL, &e), VIGIL_EFORMAT);
  free(png);
  assert_int_equal(vigil_video_hash_file(tv_path("absent.mp4"), NULL, NULL, NULL, NULL, &e), VIGIL_EIO);
  assert_int_equal(vigil_video_hash_file("/", NULL, NULL, NULL, NULL, &e), VIGIL_EINVAL);
}

/* HEIF and AVIF pictures are ISO media files as MP4 is (an ftyp box first,
 * only its major brand differs): not videos to the sniffer, and refused as
 * still pictures by the decoder even when handed over as a video. */
static void test_still_pictures(void **state) {
  (void)state;
  static const char *const brands[] = {"heic", "heix", "mif1", "msf1", "avif", "avis"};
  uint8_t f[36] = {0,   0,   0,   24,  'f', 't', 'y', 'p', 0, 0,  0,   0,   0,   0,   0, 0, 'm', 'i',
                   'f', '1', 'm', 'i', 'a', 'f', 0,   0,   0, 12, 'm', 'e', 't', 'a', 0, 0, 0,   0};
  vigil_error e;
  for (size_t i = 0; i < sizeof brands / sizeof brands[0]; i++) {
    memcpy(f + 8, brands[i], 4);
    if (vigil_video_sniff(f, sizeof f)) fail_msg("brand %s taken for a video", brands[i]);
    char name[32];
    snprintf(name, sizeof name, "picture-%s.mp4", brands[i]);
    assert_int_equal(hash(tv_write(name, f, sizeof f), NULL, NULL, &e), VIGIL_EFORMAT);
    if (!strstr(e.message, "still picture") || !strstr(e.message, brands[i][0] == 'a' ? "AVIF" : "HEIF"))
      fail_msg("brand %s: '%s'", brands[i], e.message);
  }
  /* the same box with a video's brand is a video to the sniffer */
  memcpy(f + 8, "isom", 4);
  assert_true(vigil_video_sniff(f, sizeof f));
  memcpy(f + 8, "qt  ", 4);
  assert_true(vigil_video_sniff(f, sizeof f));
}

static void test_good_y4m(void **state) {
  (void)state;
  vigil_error e;
  size_t n;
  vigil_video_opts o;
  vigil_video_opts_default(&o);
  o.seconds_per_hash = 0;
  assert_int_equal(hash(tv_y4m("ok.y4m", 64, 48, 25, 1, 30), &o, &n, &e), 0);
  assert_int_equal(n, 30);
  o.seconds_per_hash = 1;
  assert_int_equal(hash(tv_y4m("ok.y4m", 64, 48, 25, 1, 30), &o, &n, &e), 0);
  assert_int_equal(n, 2); /* frames 0 and 25 */
}

typedef struct prog {
  int calls;
  uint64_t last;
  double seconds, total;
} prog;

static void on_progress(void *ctx, uint64_t frames, double seconds, double total) {
  prog *p = ctx;
  p->calls++;
  p->last = frames;
  p->seconds = seconds;
  p->total = total;
}

/* Progress reaches the caller every 25 frames, from the worker and in-process alike. */
static void test_progress(void **state) {
  (void)state;
  const char *path = tv_y4m("prog.y4m", 16, 16, 25, 1, 60);
  for (int sandbox = 0; sandbox <= 1; sandbox++) {
    vigil_video_opts o;
    vigil_video_opts_default(&o);
    o.sandbox = sandbox;
    prog p = {0, 0, 0, 0};
    o.progress = on_progress;
    o.progress_ctx = &p;
    assert_int_equal(vigil_video_hash_file(path, &o, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(p.calls, 2);
    assert_int_equal(p.last, 50);
    assert_true(p.seconds > 1.99 && p.seconds < 2.01);
  }
}

static void test_truncated(void **state) {
  (void)state;
  vigil_error e;
  size_t full, n;
  vigil_video_opts o;
  vigil_video_opts_default(&o);
  o.seconds_per_hash = 0;
  const char *p = tv_y4m("trunc.y4m", 64, 48, 25, 1, 20);
  assert_int_equal(hash(p, &o, &full, &e), 0);
  size_t len;
  uint8_t *d = tu_slurp(p, &len);
  assert_non_null(d);
  /* cut in the middle of frame 10: the complete frames are hashed */
  size_t frame = 6 + 64 * 48 * 3 / 2, head = len - 20 * frame;
  assert_int_equal(hash(tv_write("cut.y4m", d, head + 10 * frame + 100), &o, &n, &e), 0);
  assert_int_equal(n, 10);
  free(d);
  /* an MP4 cut in half (its index is at the start): no crash, whatever it yields */
  char mp4[4096];
  if (tu_shared("vpdq/debian-ffmpeg/videos/c01_h264_640x360_25_pan.mp4", mp4, sizeof mp4)) {
    d = tu_slurp(mp4, &len);
    assert_non_null(d);
    for (size_t cut = 40; cut < len; cut = cut * 4) {
      int rc = hash(tv_write("cut.mp4", d, cut), &o, &n, &e);
      assert_true(rc == 0 || rc == VIGIL_EFORMAT || rc == VIGIL_ECORRUPT);
    }
    free(d);
  }
}

static void test_absurd(void **state) {
  (void)state;
  vigil_error e;
  size_t n;
  /* dimensions far over the pixel limit: refused before any allocation */
  assert_int_equal(hash(tv_y4m("huge.y4m", 10000, 10000, 25, 1, 0), NULL, NULL, &e), VIGIL_ELIMIT);
  assert_non_null(strstr(e.message, "limit"));
  int rc = hash(tv_y4m("huger.y4m", 100000, 100000, 25, 1, 0), NULL, NULL, &e); /* the demuxer refuses it */
  assert_true(rc == VIGIL_ELIMIT || rc == VIGIL_EFORMAT);
  rc = hash(tv_y4m("zero.y4m", 0, 0, 25, 1, 0), NULL, NULL, &e);
  assert_true(rc == VIGIL_EFORMAT || rc == VIGIL_ECORRUPT);
  rc = hash(tv_y4m("tiny.y4m", 3, 3, 25, 1, 5), NULL, NULL, &e);
  assert_int_equal(rc, VIGIL_EFORMAT); /* under 5 pixels a side, as the reference */
  /* absurd frame rates */
  assert_int_equal(hash(tv_y4m("fast.y4m", 16, 16, 1000000000, 1, 3), NULL, NULL, &e), VIGIL_ELIMIT);
  /* one frame per 11.6 days: frame 1 is past the duration limit */
  assert_int_equal(hash(tv_y4m("slow.y4m", 16, 16, 1, 1000000, 3), NULL, NULL, &e), VIGIL_ELIMIT);
  rc = hash(tv_y4m("norate.y4m", 16, 16, 0, 0, 3), NULL, &n, &e);
  assert_true(rc == 0 || rc == VIGIL_ECORRUPT || rc == VIGIL_EFORMAT);
  /* limits the caller sets */
  vigil_video_opts o;
  vigil_video_opts_default(&o);
  o.max_frames = 10;
  assert_int_equal(hash(tv_y4m("many.y4m", 16, 16, 25, 1, 30), &o, NULL, &e), VIGIL_ELIMIT);
  vigil_video_opts_default(&o);
  o.max_pixels = 1000;
  assert_int_equal(hash(tv_y4m("big.y4m", 64, 48, 25, 1, 2), &o, NULL, &e), VIGIL_ELIMIT);
}

/* A million 8x8 frames through a pipe: bounded memory, every frame counted. */
static void test_million_frames(void **state) {
  (void)state;
  int fd = tv_y4m_pipe(8, 8, 1000000, 0);
  assert_true(fd >= 0);
  vigil_video_opts o;
  vigil_video_opts_default(&o);
  size_t n = 0;
  vigil_video_info info;
  vigil_error e;
  int rc = vigil_video_hash_fd(fd, &o, count_fn, &n, &info, &e);
  if (rc) printf("million: %s\n", e.message);
  close(fd);
  tv_pipe_join();
  assert_int_equal(rc, 0);
  assert_int_equal(info.frames, 1000000);
  assert_int_equal(n, 1000000 / 1000); /* one per second at 1000 fps */
  assert_int_equal(info.bytes, 1000000ull * (6 + 96) + strlen("YUV4MPEG2 W8 H8 F1000:1 Ip A1:1 C420jpeg\n"));
}

static void test_bad_opts(void **state) {
  (void)state;
  vigil_video_opts o;
  vigil_error e;
  vigil_video_opts_default(&o);
  o.seconds_per_hash = -1;
  assert_int_equal(vigil_video_hash_file("x", &o, NULL, NULL, NULL, &e), VIGIL_EINVAL);
  vigil_video_opts_default(&o);
  o.downsample_width = 64;
  assert_int_equal(vigil_video_hash_file("x", &o, NULL, NULL, NULL, &e), VIGIL_EINVAL);
  assert_int_equal(vigil_video_hash_fd(-1, NULL, NULL, NULL, NULL, &e), VIGIL_EINVAL);
}

static int teardown(void **state) {
  (void)state;
  tv_cleanup();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_not_videos),     cmocka_unit_test(test_still_pictures), cmocka_unit_test(test_good_y4m),
      cmocka_unit_test(test_progress),       cmocka_unit_test(test_truncated),      cmocka_unit_test(test_absurd),
      cmocka_unit_test(test_million_frames), cmocka_unit_test(test_bad_opts),
  };
  return cmocka_run_group_tests(tests, NULL, teardown);
}
