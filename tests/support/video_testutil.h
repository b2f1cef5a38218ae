/* SPDX-License-Identifier: Apache-2.0 */
/*
 * video_testutil.h - videos made by the tests themselves: YUV4MPEG2 files
 * (a text header and raw 4:2:0 frames, which libavformat demuxes), so that
 * sizes, frame rates and frame counts no real encoder would write can be
 * fed to the video hasher, H.264 clips of a chosen structure (libx264), and
 * clips of other codecs and containers.
 */
#ifndef VIGIL_VIDEO_TESTUTIL_H
#define VIGIL_VIDEO_TESTUTIL_H

#include <stddef.h>

#include "vigil/video.h"

/* A fresh temporary directory (removed by tv_cleanup); path under it. */
const char *tv_path(const char *name);
void tv_cleanup(void);

/* Writes a Y4M header for w x h at rate num:den (the numbers are written as
 * given, absurd or not) and nframes frames of a moving pattern; returns
 * path or NULL. */
const char *tv_y4m(const char *name, long w, long h, long num, long den, int nframes);

/* A 320x240 H.264 clip (libx264: bframes B-frames, B-pyramid, GOP 50
 * unless x264_params, libx264's own option string, says otherwise), 25
 * fps, of moving texture, in the container the extension of path picks; 0
 * when written, -1 without libx264. */
int tv_x264(const char *path, int nframes, int bframes, const char *x264_params);

/* The same texture, w x h, with any encoder libavcodec has (options: the
 * encoder's, "key=value,key=value"), in the container the extension of
 * path picks or the muxer fmt names; 0 when written, -1 when the encoder
 * or the muxer is missing or refuses. */
int tv_encode(const char *path, const char *fmt, const char *encoder, int w, int h, int nframes,
              const char *options);

/* Writes len bytes. */
const char *tv_write(const char *name, const void *data, size_t len);

/* Starts a thread writing a Y4M stream of w x h frames at 1000 fps into a pipe: nframes
 * frames then end of file, or endless (nframes < 0) until the reader goes
 * away, or a header and then nothing, holding the pipe open (stall != 0).
 * Returns the read end; tv_pipe_join ends the writer. */
int tv_y4m_pipe(int w, int h, long nframes, int stall);
void tv_pipe_join(void);

/* The reference's per-frame lines of a video, collected by tv_add_line (a
 * vigil_video_frame_fn; ctx is a tv_lines, zeroed to start): s holds them,
 * each ending in '\n', NUL-terminated; the caller frees s. */
typedef struct tv_lines {
  char *s;
  size_t n, cap;
} tv_lines;
int tv_add_line(void *ctx, const vigil_video_frame *frame);

#endif
