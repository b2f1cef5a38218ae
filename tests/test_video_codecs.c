/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_video_codecs.c - codecs and containers beyond H.264 in MP4, made by
 * the test with libavcodec's encoders:
 *   - every container vigil opens is recognised by its first bytes
 *     (vigil_video_sniff), as `vigil hash` and the service decide by
 *     content, and its frames are hashed in the sandbox;
 *   - each decoder family, sandboxed with two and three threads (a hashing
 *     thread, and frame or slice threads where the decoder has them), gives
 *     the lines of one thread in-process, run after run (dav1d names its
 *     threads, which the sandbox must allow; FFmpeg 5.1's Theora decoder
 *     varied from run to run with frame threads, on a clip with scene cuts);
 *   - `vigil hash --format vpdq` hashes an animated GIF's frames as the
 *     reference does, and refuses other pictures (they have no frame lines).
 * An encoder Debian's FFmpeg lacks is skipped with a message; the
 * reference comparison of such clips is docs/video.md#conformance.
 */
#include "testutil.h"
#include "run.h"
#include "video_testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gif_lib.h>
#include <libavutil/log.h>


/* Whether this test can use the encoder: libx265 leaks memory of its own
 * (its frame filters), which LeakSanitizer would lay at this test's door. */
static int usable(const char *encoder) {
#if TU_ASAN
  if (!strcmp(encoder, "libx265")) {
    fprintf(stderr, "# libx265 leaks under LeakSanitizer: its clips skipped in this build\n");
    return 0;
  }
#endif
  (void)encoder;
  return 1;
}

typedef struct clip {
  const char *name;    /* file name: its extension picks the muxer unless fmt does */
  const char *fmt;     /* a muxer, or NULL */
  const char *encoder; /* libavcodec's name */
  int w, h;
  const char *options;
} clip;

/* The clip of nframes written, its path; NULL (said on stderr) when this
 * build or Debian's FFmpeg cannot make it. */
static const char *made(const clip *c, int nframes) {
  const char *path = tv_path(c->name);
  if (!usable(c->encoder)) return NULL;
  if (tv_encode(path, c->fmt, c->encoder, c->w, c->h, nframes, c->options) != 0) {
    fprintf(stderr, "# %s: no %s encoder or muxer here, skipped\n", c->name, c->encoder);
    return NULL;
  }
  return path;
}

/* Lines of a video hashed every frame: sandboxed or not, with threads. */
static int hash_lines(const char *path, int sandbox, int threads, tv_lines *out, vigil_video_info *info,
                      vigil_error *e) {
  vigil_video_opts o;
  vigil_video_opts_default(&o);
  o.seconds_per_hash = 0;
  o.sandbox = sandbox;
  o.threads = threads;
  memset(out, 0, sizeof *out);
  return vigil_video_hash_file(path, &o, tv_add_line, out, info, e);
}

static const clip containers[] = {
    {"c.nut", NULL, "mpeg4", 320, 240, NULL},
    {"c.y4m", "yuv4mpegpipe", "wrapped_avframe", 320, 240, NULL},
    {"c.rm", NULL, "rv10", 320, 240, NULL},
    {"c.mxf", NULL, "mpeg2video", 320, 240, NULL},
    {"c.wtv", NULL, "mpeg2video", 320, 240, NULL},
    {"c.ivf", NULL, "libvpx", 320, 240, "deadline=realtime,cpu-used=8"},
    {"c.m1v", "mpeg1video", "mpeg1video", 320, 240, NULL},
    {"c.m4v", "m4v", "mpeg4", 320, 240, NULL},
    {"c.h264", "h264", "libx264", 320, 240, "preset=veryfast"},
    {"c.hevc", "hevc", "libx265", 320, 240, "preset=ultrafast,x265-params=log-level=error"},
    {"c.obu", "obu", "libaom-av1", 320, 240, "cpu-used=8,usage=realtime"},
    {"c.h263", "h263", "h263", 352, 288, NULL},
    {"c.dv", "dv", "dvvideo", 720, 576, NULL},
    {"c.mkv", NULL, "mpeg4", 320, 240, NULL},
    {"c.avi", NULL, "mpeg4", 320, 240, NULL},
    {"c.ts", NULL, "mpeg2video", 320, 240, NULL},
    {"c.mpg", "mpeg", "mpeg2video", 320, 240, NULL},
    {"c.flv", NULL, "flv", 320, 240, NULL},
    {"c.ogg", NULL, "libtheora", 320, 240, NULL},
    {"c.asf", NULL, "wmv2", 320, 240, NULL},
    {"c.3gp", NULL, "h263", 352, 288, NULL},
    {"c.mov", NULL, "mpeg4", 320, 240, NULL},
};

/* Each container: recognised by its first 512 bytes, and 12 frames hashed in the sandbox. */
static void test_containers_sniffed(void **state) {
  (void)state;
  int tried = 0;
  for (size_t i = 0; i < sizeof containers / sizeof *containers; i++) {
    const clip *c = &containers[i];
    const char *path = made(c, 12);
    if (!path) continue;
    tried++;
    unsigned char head[512];
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    assert_true(n > 0);
    if (!vigil_video_sniff(head, (size_t)n)) fail_msg("%s (%s) is not recognised as a video", c->name, c->encoder);
    tv_lines l;
    vigil_video_info info;
    vigil_error e;
    vigil_error_clear(&e);
    if (hash_lines(path, 1, 1, &l, &info, &e) != 0) fail_msg("%s: %s", c->name, e.message);
    if (info.frames != 12) fail_msg("%s: %llu frames, not 12", c->name, (unsigned long long)info.frames);
    free(l.s);
  }
  assert_true(tried >= 12); /* FFmpeg's own encoders and muxers are always there */
}

static const clip decoders[] = {
    {"d-av1.mkv", NULL, "libaom-av1", 320, 240, "cpu-used=8,usage=realtime"},
    {"d-hevc.mkv", NULL, "libx265", 320, 240, "preset=ultrafast,x265-params=log-level=error"},
    {"d-vp9.webm", NULL, "libvpx-vp9", 320, 240, "deadline=realtime,cpu-used=8"},
    {"d-vp8.webm", NULL, "libvpx", 320, 240, "deadline=realtime,cpu-used=8"},
    {"d-theora.ogg", NULL, "libtheora", 320, 240, NULL},
    {"d-mpeg4.avi", NULL, "mpeg4", 320, 240, "bf=2"},
    {"d-mpeg2.mpg", "mpeg", "mpeg2video", 320, 240, "bf=2"},
    {"d-h264.mp4", NULL, "libx264", 320, 240, "preset=veryfast"},
};

/* Threads in the sandbox give one thread's lines, every run. */
static void test_decoder_threads(void **state) {
  (void)state;
  int tried = 0;
  for (size_t i = 0; i < sizeof decoders / sizeof *decoders; i++) {
    const clip *c = &decoders[i];
    const char *path = made(c, 24);
    if (!path) continue;
    tried++;
    tv_lines one;
    vigil_video_info info;
    vigil_error e;
    vigil_error_clear(&e);
    if (hash_lines(path, 0, 1, &one, &info, &e) != 0) fail_msg("%s: %s", c->name, e.message);
    assert_int_equal(info.frames, 24);
    for (int run = 0; run < 4; run++) {
      int threads = 2 + run % 2;
      tv_lines l;
      vigil_error_clear(&e);
      if (hash_lines(path, 1, threads, &l, &info, &e) != 0)
        fail_msg("%s, %d threads in the sandbox: %s", c->name, threads, e.message);
      if (l.n != one.n || memcmp(l.s, one.s, one.n) != 0)
        fail_msg("%s: %d threads (run %d) gave other lines than one thread", c->name, threads, run + 1);
      free(l.s);
    }
    free(one.s);
  }
  if (!tried) skip();
}

/* A 64x64 GIF of n frames, each a different pattern, 0.1 s apart. */
static const char *animated_gif(int n) {
  const char *path = tv_path("anim.gif");
  int e = 0;
  GifFileType *g = EGifOpenFileName(path, false, &e);
  assert_non_null(g);
  ColorMapObject *map = GifMakeMapObject(256, NULL);
  assert_non_null(map);
  for (int i = 0; i < 256; i++) map->Colors[i] = (GifColorType){(GifByteType)i, (GifByteType)(255 - i), (GifByteType)(i * 7)};
  EGifSetGifVersion(g, true);
  assert_int_equal(EGifPutScreenDesc(g, 64, 64, 8, 0, map), GIF_OK);
  for (int f = 0; f < n; f++) {
    unsigned char gce[4] = {0, 10, 0, 0}; /* no transparency, 10 hundredths of a second */
    assert_int_equal(EGifPutExtension(g, GRAPHICS_EXT_FUNC_CODE, 4, gce), GIF_OK);
    assert_int_equal(EGifPutImageDesc(g, 0, 0, 64, 64, false, NULL), GIF_OK);
    GifPixelType row[64];
    for (int y = 0; y < 64; y++) {
      for (int x = 0; x < 64; x++) row[x] = (GifPixelType)(((x * (f + 1)) ^ (y * (3 - f % 3)) ^ (x * y >> (f + 2))) & 255);
      assert_int_equal(EGifPutLine(g, row, 64), GIF_OK);
    }
  }
  GifFreeMapObject(map);
  assert_int_equal(EGifCloseFile(g, &e), GIF_OK);
  return path;
}

/* --format vpdq: a GIF is a video (the reference hashes its frames), any
 * other picture an error, the batch going on. */
static void test_cli_vpdq_gif(void **state) {
  (void)state;
  char cmd[8192], *out = NULL;
  snprintf(cmd, sizeof cmd, "%s hash --format vpdq --seconds-per-hash 0 %s", VIGIL_CLI, animated_gif(3));
  assert_int_equal(tu_run(cmd, &out), 0);
  const char *l1 = strchr(out, '\n'), *l2 = l1 ? strchr(l1 + 1, '\n') : NULL;
  assert_non_null(l2);
  assert_true(!strncmp(out, "0,", 2) && !strncmp(l1 + 1, "1,", 2) && !strncmp(l2 + 1, "2,", 2));
  assert_string_equal(l2 + 1 + strcspn(l2 + 1, "\n"), "\n"); /* three lines, no more */
  assert_true(strstr(out, ",0.100\n") && strstr(out, ",0.200\n"));
  free(out);
  /* the same GIF in the default format is a picture: one line, its first frame */
  snprintf(cmd, sizeof cmd, "%s hash %s", VIGIL_CLI, tv_path("anim.gif"));
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strchr(out, '\n'));
  assert_string_equal(strchr(out, '\n'), "\n");
  free(out);
  snprintf(cmd, sizeof cmd, "%s hash --format vpdq %s/samples/rings.jpg %s 2>&1", VIGIL_CLI, VIGIL_SOURCE_DIR,
           tv_path("anim.gif"));
  assert_int_equal(tu_run(cmd, &out), 1);
  assert_non_null(strstr(out, "rings.jpg: a picture, not a video"));
  assert_non_null(strstr(out, "anim.gif\n0,")); /* the GIF after it was hashed (one frame a second) */
  free(out);
}

static int teardown(void **state) {
  (void)state;
  tv_cleanup();
  return 0;
}

int main(void) {
  av_log_set_level(AV_LOG_ERROR); /* the encoders' statistics */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_containers_sniffed),
      cmocka_unit_test(test_decoder_threads),
      cmocka_unit_test(test_cli_vpdq_gif),
  };
  return cmocka_run_group_tests(tests, NULL, teardown);
}
