/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_video.c - any bytes through the video path: demuxing (every
 * container vigil opens), decoding, frame selection, RGB conversion, PDQ and
 * the file digests, with one thread and with two (an IDR period per decoder
 * on H.264, frame threads otherwise).  Runs in-process (no sandbox) so that sanitizers see
 * every byte FFmpeg and vigil touch; must never crash, leak or read out of
 * bounds.  Seeds: fuzz/seeds/fuzz_video/ (scripts/make-video-seeds.c).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "vigil/video.h"

static int count(void *ctx, const vigil_video_frame *f) {
  (void)f;
  ++*(size_t *)ctx;
  return VIGIL_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  av_log_set_level(AV_LOG_QUIET);
  int fd = memfd_create("fuzz-video", MFD_CLOEXEC);
  if (fd < 0) abort();
  size_t off = 0;
  while (off < size) {
    ssize_t n = write(fd, data + off, size - off);
    if (n <= 0) abort();
    off += (size_t)n;
  }
  if (lseek(fd, 0, SEEK_SET) != 0) abort();
  vigil_video_opts o;
  vigil_video_opts_default(&o);
  o.sandbox = 0;
  o.max_pixels = 1 << 20; /* keep each run quick */
  o.max_frames = 300;
  o.seconds_per_hash = (size & 1) ? 0 : 1;
  if (size & 2) o.downsample_width = o.downsample_height = 16;
  o.flush_all = (size & 4) != 0;
  o.threads = (size & 8) ? 2 : 1; /* an IDR period per decoder (the H.264 seed has two) */
  size_t n = 0;
  vigil_video_info info;
  vigil_error e;
  (void)vigil_video_hash_fd(fd, &o, count, &n, &info, &e);
  close(fd);
  return 0;
}
