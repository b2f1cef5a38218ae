/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vhash.c - video uploads hashed for the service (vhash.h).
 *
 * Decoding a video takes seconds to minutes of a core, so videos have
 * their own gate (--video-workers at once, --video-queue waiting): however
 * many videos arrive, the picture decode gate and the request threads stay
 * free for image matching.  Decoding runs in lib/video's sandboxed worker
 * process, so a hostile file costs one failed call, never the server.  A
 * frame callback checks for a stopping server and ends the work early.
 *
 * The slots bound how many cores videos take, not how they share them
 * with pictures: a decoding worker competes with the request threads for
 * the CPU.  So the thread that hashes a video (a request's own thread, or
 * a job thread, both used for nothing else afterwards) lowers its priority
 * to nice VIGIL__VIDEO_NICE first, and the worker process it forks inherits
 * it: with every core busy decoding videos, image matching still gets the
 * CPU when it needs it (docs/performance.md has the numbers).
 */
#include "server/vhash.h"
#include "server/gate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define VIGIL__VHASH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define VIGIL__VHASH_SANITIZED 1
#endif
#endif
#ifndef VIGIL__VHASH_SANITIZED
#define VIGIL__VHASH_SANITIZED 0
#endif

/* Nice value of video decoding (0..19; higher yields more). */
#define VIGIL__VIDEO_NICE 10

/* Lowers the calling thread's priority (Linux: nice is per thread, and a
 * fork inherits the forking thread's).  Never raises it; a failure leaves
 * the priority as it was, which costs latency, not correctness. */
static void lower_priority(void) {
  id_t tid = (id_t)syscall(SYS_gettid);
  errno = 0;
  int cur = getpriority(PRIO_PROCESS, tid);
  if (errno == 0 && cur < VIGIL__VIDEO_NICE) (void)setpriority(PRIO_PROCESS, tid, VIGIL__VIDEO_NICE);
}

typedef struct collect {
  vigil_video_frame *v;
  size_t n, cap;
  vigil_server *srv;
  int stopped;
} collect;

static int on_frame(void *ctx, const vigil_video_frame *f) {
  collect *c = ctx;
  if (vigil__server_stopping(c->srv)) {
    c->stopped = 1;
    return VIGIL_EINTERNAL;
  }
  if (c->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 256;
    vigil_video_frame *nv = realloc(c->v, cap * sizeof *nv);
    if (!nv) return VIGIL_ENOMEM;
    c->v = nv;
    c->cap = cap;
  }
  c->v[c->n++] = *f;
  return VIGIL_OK;
}

int vigil__video_hash(vigil__req *r, int wait_forever, vigil_video_frame **frames, size_t *n, vigil_video_info *info,
                      vigil_error *err) {
  *frames = NULL;
  *n = 0;
  vigil__gate *g = vigil__server_video_gate(r->srv);
  for (;;) {
    if (vigil__gate_enter(g)) break;
    if (!wait_forever) {
      vigil__seterr(err, VIGIL_ELIMIT, "every video slot is taken and the queue is full");
      return VIGIL__VIDEO_BUSY;
    }
    if (vigil__server_stopping(r->srv)) {
      vigil__seterr(err, VIGIL_EINTERNAL, "the server is stopping");
      return VIGIL__VIDEO_STOPPING;
    }
    struct timespec ts = {0, 100 * 1000 * 1000}; /* the queue was full: try again shortly */
    nanosleep(&ts, NULL);
  }
  /* only on a thread of the video's own: a pool thread (a handler run
   * inline when no thread could be had) serves other connections after */
  if (!r->conn || atomic_load(&r->offload) == 1) lower_priority();
  vigil_video_opts o;
  vigil_video_opts_default(&o); /* sandboxed, one frame per second, the reference's limits */
#if VIGIL__VHASH_SANITIZED
  /* The sandbox forks without exec.  Under a sanitizer the child of a
   * process with many threads (a server) can block for ever on the
   * sanitizer allocator's lock, held by another thread at the fork (seen
   * in av_malloc in the child); glibc's malloc is made fork-safe, those
   * allocators are not.  Sanitizer builds decode in-process here. */
  o.sandbox = 0;
#endif
  collect c = {NULL, 0, 0, r->srv, 0};
  int rc = lseek(r->spool.fd, 0, SEEK_SET) == 0 ? vigil_video_hash_fd(r->spool.fd, &o, on_frame, &c, info, err)
                                                : vigil__seterr(err, VIGIL_EIO, "cannot rewind the spooled upload");
  vigil__gate_leave(g);
  if (c.stopped) {
    free(c.v);
    vigil__seterr(err, VIGIL_EINTERNAL, "the server is stopping");
    return VIGIL__VIDEO_STOPPING;
  }
  if (rc == VIGIL_ENOMEM && err && !err->message[0]) vigil__seterr(err, rc, "out of memory for frame hashes");
  if (rc) {
    free(c.v);
    return rc;
  }
  *frames = c.v;
  *n = c.n;
  return VIGIL_OK;
}

void vigil__reply_video_error(vigil__req *r, int rc, const vigil_error *e) {
  switch (rc) {
  case VIGIL_ELIMIT: vigil__reply_error(r, 413, "video_too_large", "%s", e->message); break;
  case VIGIL_EFORMAT:
  case VIGIL_ECORRUPT:
  case VIGIL_EINVAL: vigil__reply_error(r, 422, "bad_video", "%s", e->message); break;
  case VIGIL_ENOMEM:
  case VIGIL__VIDEO_BUSY:
  case VIGIL__VIDEO_STOPPING:
    r->retry_after = VIGIL__RETRY_AFTER_S;
    vigil__reply_error(r, 503, "overloaded", "%s",
                       rc == VIGIL__VIDEO_BUSY       ? "too many videos are being hashed; retry later or send a job"
                       : rc == VIGIL__VIDEO_STOPPING ? "the server is stopping; retry"
                                                     : "out of memory hashing the video; retry later");
    break;
  default: r->err = *e; vigil__reply_from_err(r, rc);
  }
}

json_t *vigil__video_frames_json(const vigil_video_frame *f, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; i++) {
    char hex[VIGIL_PDQ_HEX_LEN + 1];
    vigil_pdq_to_hex(&f[i].hash, hex);
    json_t *o = json_pack("{s:I, s:i, s:s, s:f}", "frame", (json_int_t)f[i].frame_number, "quality", f[i].quality,
                          "pdq", hex, "timestamp", f[i].timestamp);
    if (!o || json_array_append_new(a, o)) {
      json_decref(a);
      return NULL;
    }
  }
  return a;
}

json_t *vigil__video_info_json(const vigil_video_info *in) {
  return json_pack("{s:i, s:i, s:f, s:f, s:I, s:I, s:s, s:s, s:I}", "width", in->width, "height", in->height, "fps",
                   in->fps, "duration", in->duration, "frames", (json_int_t)in->frames, "hashed",
                   (json_int_t)in->hashed, "codec", in->codec, "container", in->container, "bytes",
                   (json_int_t)in->bytes);
}
