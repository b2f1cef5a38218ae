/* SPDX-License-Identifier: Apache-2.0 */
/*
 * video_hasher.c - the selected frames' RGB24 conversion and PDQ hash, in
 * the decoding thread or in a thread of their own beside it.
 *
 * Hashing a frame (SWS_AREA to RGB24, luma, the Jarosz passes, the DCT)
 * costs 0.4-0.8x its decode, so with one core for the decoder and one for
 * the hashes a video goes through nearly twice as fast.  With threads, the
 * decoder hands each selected frame over by reference (av_frame_move_ref,
 * no copy) into a ring of RING slots; one hashing thread takes them in
 * order, and the results come back to the calling thread, which delivers
 * them to the callback in frame order: the callback, the progress callback
 * and every error stay in the calling thread, as video.h promises.
 *
 * Bounded memory: at most RING frames wait or are hashed at once; a
 * decoder that gets ahead waits for a free slot.  Output: the same function
 * hashes every frame in both modes (one SwsContext and one RGB frame, owned
 * by whichever thread hashes), so the bytes cannot depend on the mode.
 *
 * Errors: a frame that cannot be converted stops the video with its error,
 * reported when that frame's turn comes (frames before it are delivered
 * first, as without threads); a callback that returns non-zero stops it too.
 */
#include "video/video_hasher.h"
#include "common/internal.h"
#include "pdq/pdq_internal.h"

#include <pthread.h>
#include <string.h>

#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

/* Frames in flight: enough to ride out one slow frame (a large I-frame on
 * the decoder's side, a page-fault storm on the hasher's), small enough that
 * 1080p costs 12 MiB at most. */
#define RING 4

typedef struct slot {
  AVFrame *frame;
  int64_t number;
  int rc;
  vigil_error err;
  vigil_video_frame out;
} slot;

struct vigil__video_hasher {
  int dst_w, dst_h;
  float fps_f;
  vigil_video_frame_fn fn;
  void *ctx;
  /* owned by the hashing thread (the caller's when there is none) */
  struct SwsContext *sws;
  AVFrame *rgb;
  /* the ring: slot i % RING; submitted >= hashed >= delivered */
  int threaded, started, stop;
  int failed; /* a delivery failed: nothing more is delivered */
  uint64_t submitted, hashed, delivered;
  slot ring[RING];
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t work, done;
};

/* Rows per conversion call when the frame is converted in slices. */
#define SLICE 16

/* Whether a frame is converted SLICE rows at a time.  sws_scale takes a
 * picture in slices, top to bottom, and writes the same rows it writes for
 * the whole picture; at the native size of 8-bit 4:2:0 (nearly every
 * video) each slice's rows come out at once, so PDQ can read them at once.
 * Other sizes and formats are converted whole. */
static int sliced(const vigil__video_hasher *h, const AVFrame *f) {
  return f->width == h->dst_w && f->height == h->dst_h &&
         (f->format == AV_PIX_FMT_YUV420P || f->format == AV_PIX_FMT_YUVJ420P);
}

/* One frame to its hash, in whichever thread hashes. */
static int hash_one(vigil__video_hasher *h, const AVFrame *f, int64_t number, vigil_video_frame *out,
                    vigil_error *err) {
  h->sws = sws_getCachedContext(h->sws, f->width, f->height, (enum AVPixelFormat)f->format, h->dst_w, h->dst_h,
                                AV_PIX_FMT_RGB24, SWS_AREA, NULL, NULL, NULL);
  if (!h->sws) {
    const char *fmt = av_get_pix_fmt_name((enum AVPixelFormat)f->format);
    return vigil__seterr(err, VIGIL_EFORMAT, "frame %lld: cannot convert %dx%d %s to RGB", (long long)number,
                         f->width, f->height, fmt ? fmt : "?");
  }
  vigil__pdq_stream *ps;
  int rc = vigil__pdq_stream_new(&ps, h->dst_h, h->dst_w, 0, err);
  if (rc) return rc;
  const uint8_t *row = h->rgb->data[0];
  if (sliced(h, f)) {
    /* 16 rows at a time: the stream reads each RGB row while it is still
     * in the cache the conversion wrote it to.  Each call returns the
     * output rows it completed (all of its slice's on the unscaled path;
     * a row or so fewer, made up at the end, where the scaler needs the
     * next chroma row first). */
    int out_y = 0;
    for (int y = 0; y < f->height && rc == VIGIL_OK; y += SLICE) {
      int n = f->height - y < SLICE ? f->height - y : SLICE;
      const uint8_t *src[4] = {f->data[0] + (ptrdiff_t)y * f->linesize[0],
                               f->data[1] + (ptrdiff_t)(y >> 1) * f->linesize[1],
                               f->data[2] + (ptrdiff_t)(y >> 1) * f->linesize[2], NULL};
      int got = sws_scale(h->sws, src, f->linesize, y, n, h->rgb->data, h->rgb->linesize);
      if (got < 0 || got > h->dst_h - out_y) break;
      for (int k = 0; k < got; k++, row += h->rgb->linesize[0]) vigil__pdq_stream_push_rgb_stable(ps, row);
      out_y += got;
    }
    if (out_y != h->dst_h)
      rc = vigil__seterr(err, VIGIL_EINTERNAL, "frame %lld: the RGB conversion gave %d rows of %d", (long long)number,
                         out_y, h->dst_h);
  } else {
    /* a failed conversion leaves the last frame's pixels in rgb: never hashed */
    int got = sws_scale(h->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, h->rgb->data,
                        h->rgb->linesize);
    if (got != h->dst_h)
      rc = vigil__seterr(err, VIGIL_EINTERNAL, "frame %lld: the RGB conversion gave %d rows of %d", (long long)number,
                         got, h->dst_h);
    for (int y = 0; !rc && y < h->dst_h; y++, row += h->rgb->linesize[0]) vigil__pdq_stream_push_rgb_stable(ps, row);
  }
  if (rc) {
    vigil__pdq_stream_free(ps);
    return rc;
  }
  float buf[64][64];
  vigil__pdq_stream_finish(ps, buf);
  vigil__pdq_stream_free(ps);
  vigil_pdq_result res;
  vigil__pdq_from_64x64(buf, 0, &res);
  out->frame_number = number;
  out->quality = res.quality;
  out->hash = res.hash[0];
  out->timestamp = (double)((float)number / h->fps_f);
  return VIGIL_OK;
}

static void *run(void *arg) {
  vigil__video_hasher *h = arg;
  pthread_mutex_lock(&h->mu);
  for (;;) {
    while (!h->stop && h->hashed == h->submitted) pthread_cond_wait(&h->work, &h->mu);
    if (h->stop) break;
    slot *s = &h->ring[h->hashed % RING];
    pthread_mutex_unlock(&h->mu);
    /* The slot is this thread's until `hashed` passes it. */
    vigil_error_clear(&s->err);
    s->rc = hash_one(h, s->frame, s->number, &s->out, &s->err);
    av_frame_unref(s->frame);
    pthread_mutex_lock(&h->mu);
    h->hashed++;
    pthread_cond_signal(&h->done);
  }
  pthread_mutex_unlock(&h->mu);
  return NULL;
}

int vigil__video_hasher_new(vigil__video_hasher **out, int threaded, int dst_w, int dst_h, double fps,
                            vigil_video_frame_fn fn, void *ctx, vigil_error *err) {
  *out = NULL;
  vigil__video_hasher *h = calloc(1, sizeof *h);
  if (!h) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  h->dst_w = dst_w;
  h->dst_h = dst_h;
  h->fps_f = (float)fps;
  h->fn = fn;
  h->ctx = ctx;
  h->threaded = threaded;
  int rc = VIGIL_OK;
  if (!(h->rgb = av_frame_alloc())) rc = VIGIL_ENOMEM;
  for (int i = 0; rc == VIGIL_OK && i < RING; i++)
    if (!(h->ring[i].frame = av_frame_alloc())) rc = VIGIL_ENOMEM;
  if (rc == VIGIL_OK) {
    /* Alignment 1: rows of exactly 3 * width bytes, as the reference's buffer. */
    h->rgb->format = AV_PIX_FMT_RGB24;
    h->rgb->width = dst_w;
    h->rgb->height = dst_h;
    if (av_frame_get_buffer(h->rgb, 1) < 0) {
      vigil__video_hasher_free(h);
      return vigil__seterr(err, VIGIL_ENOMEM, "out of memory for a %dx%d frame", dst_w, dst_h);
    }
  }
  if (rc == VIGIL_OK && threaded) {
    if (pthread_mutex_init(&h->mu, NULL)) rc = VIGIL_ENOMEM;
    else if (pthread_cond_init(&h->work, NULL)) {
      pthread_mutex_destroy(&h->mu);
      rc = VIGIL_ENOMEM;
    } else if (pthread_cond_init(&h->done, NULL)) {
      pthread_cond_destroy(&h->work);
      pthread_mutex_destroy(&h->mu);
      rc = VIGIL_ENOMEM;
    } else if (pthread_create(&h->thread, NULL, run, h)) {
      pthread_cond_destroy(&h->done);
      pthread_cond_destroy(&h->work);
      pthread_mutex_destroy(&h->mu);
      vigil__video_hasher_free(h);
      return vigil__seterr(err, VIGIL_ENOMEM, "cannot start the hashing thread");
    } else {
      h->started = 1;
    }
  }
  if (rc != VIGIL_OK) {
    vigil__video_hasher_free(h);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  *out = h;
  return VIGIL_OK;
}

/* Delivers hashed frames in order: all of them when `all` (waiting for the
 * thread), else those already hashed, and with a full ring at least one. */
static int deliver(vigil__video_hasher *h, int all, vigil_error *err) {
  pthread_mutex_lock(&h->mu);
  for (;;) {
    int must = all ? h->delivered < h->submitted : h->submitted - h->delivered == RING;
    while (must && h->hashed == h->delivered) pthread_cond_wait(&h->done, &h->mu);
    if (h->hashed == h->delivered) break;
    slot *s = &h->ring[h->delivered % RING];
    pthread_mutex_unlock(&h->mu);
    int rc = s->rc;
    if (rc) vigil__seterr(err, rc, "%s", s->err.message);
    else if (h->fn) rc = h->fn(h->ctx, &s->out);
    pthread_mutex_lock(&h->mu);
    h->delivered++;
    if (rc) {
      h->failed = 1;
      pthread_mutex_unlock(&h->mu);
      return rc;
    }
  }
  pthread_mutex_unlock(&h->mu);
  return VIGIL_OK;
}

int vigil__video_hasher_put(vigil__video_hasher *h, AVFrame *frame, int64_t number, vigil_error *err) {
  if (!h->started) {
    vigil_video_frame out;
    int rc = hash_one(h, frame, number, &out, err);
    return rc ? rc : h->fn ? h->fn(h->ctx, &out) : VIGIL_OK;
  }
  int rc = deliver(h, 0, err); /* makes room: at most RING - 1 in flight after it */
  if (rc) return rc;
  slot *s = &h->ring[h->submitted % RING]; /* free: delivered, so the thread is done with it */
  s->number = number;
  av_frame_move_ref(s->frame, frame);
  pthread_mutex_lock(&h->mu);
  h->submitted++;
  pthread_cond_signal(&h->work);
  pthread_mutex_unlock(&h->mu);
  return VIGIL_OK;
}

int vigil__video_hasher_finish(vigil__video_hasher *h, vigil_error *err) {
  return h->started && !h->failed ? deliver(h, 1, err) : VIGIL_OK;
}

void vigil__video_hasher_free(vigil__video_hasher *h) {
  if (!h) return;
  if (h->started) {
    pthread_mutex_lock(&h->mu);
    h->stop = 1;
    pthread_cond_signal(&h->work);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    pthread_cond_destroy(&h->done);
    pthread_cond_destroy(&h->work);
    pthread_mutex_destroy(&h->mu);
  }
  for (int i = 0; i < RING; i++) av_frame_free(&h->ring[i].frame);
  av_frame_free(&h->rgb);
  sws_freeContext(h->sws);
  free(h);
}
