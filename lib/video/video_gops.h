/* SPDX-License-Identifier: Apache-2.0 */
/*
 * video_gops.h - one H.264 video decoded and hashed on several cores at
 * once, an IDR period per decoder, with the frame numbers one decoder would
 * give (video_gops.c).
 */
#ifndef VIGIL_VIDEO_GOPS_H
#define VIGIL_VIDEO_GOPS_H

#include "video/video_skip.h"
#include "vigil/video.h"

#include <stdatomic.h>
#include <stdint.h>

struct AVFormatContext;

/* What the pass needs; the demuxer stands at the video's first packet. */
typedef struct vigil__gops_job {
  struct AVFormatContext *fc;
  int vi;                        /* the video stream */
  const vigil__pts_table *pts;   /* after finish: every video packet, and the ranks */
  const uint8_t *send;           /* by demux index: the decoder needs the packet */
  uint8_t *sent;                 /* by rank, zeroed, nranked bytes: the pass marks the frames sent */
  int64_t frame_mod;             /* frames whose rank is a multiple are hashed */
  int dst_w, dst_h;              /* the size frames are hashed at */
  double fps;
  uint64_t max_pixels;           /* per decoded frame */
  unsigned workers;              /* decoding threads, >= 1 */
  vigil_video_frame *out;        /* nranked / frame_mod + 1 slots: the hash of rank r in slot r / frame_mod */
  void (*progress)(void *ctx, uint64_t frames, double seconds, double total_seconds);
  void *progress_ctx;
  double total_seconds;
} vigil__gops_job;

/* The answer when the numbering could not be proven (or anything else went
 * wrong): the caller decodes every frame with one decoder instead, which
 * says what the error is, if there is one.  Nothing has reached a callback. */
#define VIGIL__GOPS_FALL_BACK 1

/* Runs the pass: VIGIL_OK with every selected frame's hash in job->out and
 * *nsent frames sent to decoders, or VIGIL__GOPS_FALL_BACK. */
int vigil__video_gops_run(const vigil__gops_job *job, uint64_t *nsent);

/* Test hook (single-threaded test programs only): when non-zero, the pass
 * gives up when that IDR period (from 1) is done, as if a check had failed. */
extern size_t vigil__video_test_gops_fallback;
/* Test counter: videos the pass hashed (bumped by video_decode.c, from any
 * thread). */
extern atomic_size_t vigil__video_test_gops_done;

#endif
