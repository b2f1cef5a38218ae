/* SPDX-License-Identifier: Apache-2.0 */
/*
 * video_internal.h - the stages of video hashing, private to lib/video.
 *
 *   video.c          public API: options, dispatch to a worker or in-process
 *   video_sandbox.c  the forked worker: limits, seccomp, results over a pipe
 *   video_decode.c   demux, decode, frame selection, RGB24, PDQ (one process)
 *   video_skip.c     which H.264 pictures need no decoding, and every
 *                    frame's output number from its pts (video_skip.h)
 *   video_io.c       the AVIOContext over a file descriptor that digests the
 *                    bytes (MD5, SHA-256) as the demuxer reads them
 */
#ifndef VIGIL_VIDEO_INTERNAL_H
#define VIGIL_VIDEO_INTERNAL_H

#include "vigil/video.h"

#include <stdint.h>

/* Hooks for the decode loop.  before_parse runs after the input is open and
 * every library is initialised, just before the first hostile byte is parsed:
 * the worker installs its seccomp filter there.  A non-zero return stops. */
typedef struct vigil__video_hooks {
  int (*before_parse)(void *ctx, vigil_error *err);
  void *ctx;
} vigil__video_hooks;

/* Decodes and hashes in the calling process.  url names the input for the
 * demuxer's probe (its extension is a hint, as when the reference opens a
 * path); fd is read from its current offset. */
int vigil__video_decode(int fd, const char *url, const vigil_video_opts *o, const vigil__video_hooks *hooks,
                        vigil_video_frame_fn fn, void *ctx, vigil_video_info *info, vigil_error *err);

/* The same in a sandboxed worker process. */
int vigil__video_decode_sandboxed(int fd, const char *url, const vigil_video_opts *o, vigil_video_frame_fn fn,
                                  void *ctx, vigil_video_info *info, vigil_error *err);

/* Checks options; VIGIL_EINVAL with a message when one is out of range. */
int vigil__video_check_opts(const vigil_video_opts *o, vigil_error *err);

/* video_io.c: a reader over fd that digests every byte of the file once. */
typedef struct vigil__video_io vigil__video_io;
int vigil__video_io_new(vigil__video_io **out, int fd, vigil_error *err);
/* The AVIOContext (as void *, so this header needs no FFmpeg). */
void *vigil__video_io_avio(vigil__video_io *io);
/* Reads whatever the demuxer skipped, then writes the hex digests and size. */
int vigil__video_io_finish(vigil__video_io *io, vigil_video_info *info, vigil_error *err);
void vigil__video_io_free(vigil__video_io *io);

/* Test hook (single-threaded test programs only): when set, the worker makes
 * this system call after its filter is in place, to prove the filter kills. */
extern long vigil__video_test_forbidden_syscall;

/* Test hook (single-threaded test programs only): how a damaged video is
 * concealed (video_decode.c, conceal_as_reference): 0 as the reference (a
 * plain decoder, again with slice threads at the first damage), 1 by the
 * plain decoder alone, 2 with slice threads from the start. */
extern int vigil__video_test_conceal;

/* Test hook (single-threaded test programs only): when 0 or more, the worker
 * reads one byte from this descriptor first thing after the fork, before it
 * ties its life to its parent's, so a test can kill the parent in that gap. */
extern int vigil__video_test_child_gate_fd;

/* The exit status of a worker whose parent died before the worker could
 * tie its life to the parent's (video_sandbox.c). */
#define VIGIL__VIDEO_ORPHAN_EXIT 122

#endif
