/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server/vhash.h - hashing a spooled video upload for a request or a job
 * (vhash.c), and the answer when that fails.
 */
#ifndef VIGIL_SERVER_VHASH_H
#define VIGIL_SERVER_VHASH_H

#include "server/gate.h"
#include "server/req.h"
#include "vigil/video.h"

/* What vigil__video_hash returns when no video slot could be had (the
 * queue is full, or the wait ran out): positive, never a library status. */
#define VIGIL__VIDEO_BUSY 2
/* ...and when the server began to stop while hashing. */
#define VIGIL__VIDEO_STOPPING 3

/* Hashes r's spooled video (r->spool.fd) in the sandboxed worker, within
 * the node's video slots (--video-workers): a request waits in the queue
 * up to the connection timeout, a job (wait_forever) as long as it takes.
 * *frames is malloc'd (vigil_video_frames_free).  Replies nothing. */
int vigil__video_hash(vigil__req *r, int wait_forever, vigil_video_frame **frames, size_t *n, vigil_video_info *info,
                      vigil_error *err);
/* The reply for a failed vigil__video_hash: 422 not a video we can
 * decode, 413 over a limit (duration, frames, size), 503 + Retry-After
 * when busy, out of memory or stopping.  Never a 2xx. */
void vigil__reply_video_error(vigil__req *r, int rc, const vigil_error *err);
/* The frames as the API shows them: [{"frame", "quality", "pdq", "timestamp"}]. */
json_t *vigil__video_frames_json(const vigil_video_frame *f, size_t n);
/* {"width", "height", "fps", "duration", "frames", "hashed", "codec", "container", "bytes"}. */
json_t *vigil__video_info_json(const vigil_video_info *info);

vigil__gate *vigil__server_video_gate(vigil_server *srv);

#endif
