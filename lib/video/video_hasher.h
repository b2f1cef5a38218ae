/* SPDX-License-Identifier: Apache-2.0 */
/*
 * video_hasher.h - RGB24 conversion and PDQ of the selected frames, in the
 * decoding thread or pipelined in a hashing thread of their own
 * (video_hasher.c).  Either way the callback runs in the calling thread,
 * in frame order, and the output is the same bytes.
 */
#ifndef VIGIL_VIDEO_HASHER_H
#define VIGIL_VIDEO_HASHER_H

#include "vigil/video.h"

#include <stdint.h>

struct AVFrame;
typedef struct vigil__video_hasher vigil__video_hasher;

/* threaded: hash in a thread of its own.  Frames are converted to
 * dst_w x dst_h; timestamps are (float)number / (float)fps. */
int vigil__video_hasher_new(vigil__video_hasher **out, int threaded, int dst_w, int dst_h, double fps,
                            vigil_video_frame_fn fn, void *ctx, vigil_error *err);
/* Hashes the frame now (no thread: the frame is left as it was) or later
 * (threaded: its reference is taken and the frame left blank); delivers the
 * results that are ready.  Either way the caller may unref the frame after.
 * An error (of this frame or an earlier one, or a callback's non-zero
 * return) stops the video. */
int vigil__video_hasher_put(vigil__video_hasher *h, struct AVFrame *frame, int64_t number, vigil_error *err);
/* Waits for every frame put and delivers the rest. */
int vigil__video_hasher_finish(vigil__video_hasher *h, vigil_error *err);
/* Stops the thread (frames not yet hashed are dropped) and frees. */
void vigil__video_hasher_free(vigil__video_hasher *h);

#endif
