/* SPDX-License-Identifier: Apache-2.0 */
/*
 * video_gops.c - one H.264 video decoded and hashed on several cores, an
 * IDR period per decoder, numbered as one decoder numbers its frames.
 *
 * Frame threads inside one decoder keep two cores only partly busy (each
 * waits on the other's reference pictures), while pictures never refer
 * across an IDR: from one IDR to the next (a period) a video can be decoded
 * by a decoder of its own.  The calling thread demuxes and hands whole
 * periods (their packets, by reference) to `workers` threads; each decodes
 * its periods with one single-threaded decoder and hashes the selected
 * frames into job->out, the slot of each fixed by its number.
 *
 * Numbers: as in the one-hash-per-second pass (video_decode.c), a frame's
 * number is the rank of its pts among all the video's frames (the demux-only
 * pass built the table), which is its place in one decoder's output order
 * when the checks hold, and they are checked here for every period:
 *   - the demuxer gives the very packets the table holds;
 *   - each period's frames come out in rank order, each the frame of a
 *     packet sent in that period, as many as were sent, none damaged;
 *   - the ranks of a period all follow those of the period before;
 *   - every selected frame was hashed.
 * Anything else answers VIGIL__GOPS_FALL_BACK before a hash is handed
 * over, and the caller decodes every frame with one decoder.  Damage too:
 * a damaged picture is concealed from the pictures decoded before it, which
 * here are not one decoder's, so the decoders stop at any damage they see
 * (AV_EF_EXPLODE) and frames marked damaged fail the checks.
 *
 * What a decoder carries across an IDR besides pictures (the parameter sets
 * and what an SEI of the first access unit says about the encoder, which
 * selects libavcodec's workarounds for old x264 builds): the caller admits
 * only videos whose in-band parameter sets are all the first packet's, and
 * a decoder whose first period is not the video's first decodes the first
 * packet once, then is flushed, so that it has seen what one decoder would
 * have seen.
 *
 * Bounded memory: at most workers + 2 periods' packets are held (the
 * caller admits periods of at most VIGIL__GOPS_MAX_PERIOD bytes), each
 * worker's decoder frames, one RGB frame and PDQ rows each, and one hash
 * per selected frame (as the skip pass holds them).
 */
#include "video/video_gops.h"
#include "video/video_hasher.h"
#include "common/grow.h"
#include "common/internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

size_t vigil__video_test_gops_fallback;
atomic_size_t vigil__video_test_gops_done;

/* One IDR period's packets, as sent to its decoder. */
typedef struct period {
  struct period *next;
  size_t index; /* from 0, in demux order */
  AVPacket **pkts;
  size_t n, cap;
  uint64_t nsent;     /* packets whose frame is output (not discarded) */
  int64_t lo, hi;     /* their lowest and highest rank */
  uint64_t frames;    /* the period's frames, sent or not: for progress */
  int starts_video;   /* its first packet is the video's first */
} period;

typedef struct shared {
  const vigil__gops_job *job;
  AVPacket *first; /* the video's first packet, for priming (set before period 0 is handed over) */
  pthread_mutex_t mu;
  pthread_cond_t cv;        /* a period was queued, finished, or the pass ends */
  period *head, *tail;      /* waiting periods, in order */
  unsigned inflight;        /* queued or being decoded */
  int done;                 /* no more periods will come */
  int failed;               /* a check failed: everyone stops */
  uint64_t frames_done;     /* for progress */
} shared;

static void period_free(period *p) {
  if (!p) return;
  for (size_t i = 0; i < p->n; i++) av_packet_free(&p->pkts[i]);
  free(p->pkts);
  free(p);
}

/* ---- a worker ---------------------------------------------------------------- */

typedef struct worker {
  shared *sh;
  AVCodecContext *cc;
  AVFrame *frame;
  vigil__video_hasher *hasher;
  int primed; /* has decoded the video's first packet */
  int64_t last_rank;
  uint64_t nout;
  const period *cur;
  pthread_t thread;
  int started;
} worker;

/* The hasher's callback: the hash goes to its number's slot. */
static int to_slot(void *ctx, const vigil_video_frame *f) {
  worker *w = ctx;
  const vigil__gops_job *job = w->sh->job;
  job->out[f->frame_number / job->frame_mod] = *f;
  return VIGIL_OK;
}

/* Takes the frames the decoder has ready; with no period (priming), drops
 * them.  VIGIL_OK or VIGIL__GOPS_FALL_BACK. */
static int take_frames(worker *w) {
  const vigil__gops_job *job = w->sh->job;
  const period *p = w->cur;
  for (;;) {
    int e = avcodec_receive_frame(w->cc, w->frame);
    if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) return VIGIL_OK;
    if (e < 0) return VIGIL__GOPS_FALL_BACK;
    int rc = VIGIL_OK;
    if (p) {
      AVFrame *f = w->frame;
      int64_t r = f->pts == AV_NOPTS_VALUE ? -1 : vigil__pts_table_rank(job->pts, f->pts);
      /* the range first: sent[] beyond it is the demuxing thread's */
      if (f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT) || r < p->lo || r > p->hi ||
          r <= w->last_rank || !job->sent[r] ||
          (uint64_t)f->width * (uint64_t)f->height > job->max_pixels)
        rc = VIGIL__GOPS_FALL_BACK;
      else {
        w->last_rank = r;
        w->nout++;
        vigil_error err;
        if (r % job->frame_mod == 0 && vigil__video_hasher_put(w->hasher, f, r, &err) != VIGIL_OK)
          rc = VIGIL__GOPS_FALL_BACK;
      }
    }
    av_frame_unref(w->frame);
    if (rc) return rc;
  }
}

static int send_one(worker *w, const AVPacket *pkt) {
  int e = avcodec_send_packet(w->cc, pkt);
  if (e < 0 && e != AVERROR_EOF) return VIGIL__GOPS_FALL_BACK;
  return take_frames(w);
}

/* Decodes the video's first packet and throws its frame away, then resets
 * the decoder: what the first access unit sets beyond its picture stays. */
static int prime(worker *w) {
  w->cur = NULL;
  int rc = send_one(w, w->sh->first);
  if (rc == VIGIL_OK) rc = send_one(w, NULL);
  avcodec_flush_buffers(w->cc);
  w->primed = 1;
  return rc;
}

static int decode_period(worker *w, const period *p) {
  int rc = VIGIL_OK;
  if (!w->primed && !p->starts_video) rc = prime(w);
  w->primed = 1;
  w->cur = p;
  w->last_rank = -1;
  w->nout = 0;
  for (size_t i = 0; rc == VIGIL_OK && i < p->n; i++) rc = send_one(w, p->pkts[i]);
  if (rc == VIGIL_OK) rc = send_one(w, NULL); /* drain: the period's last frames */
  avcodec_flush_buffers(w->cc);
  if (rc == VIGIL_OK && w->nout != p->nsent) rc = VIGIL__GOPS_FALL_BACK;
  if (rc == VIGIL_OK && vigil__video_test_gops_fallback && p->index + 1 == vigil__video_test_gops_fallback)
    rc = VIGIL__GOPS_FALL_BACK;
  w->cur = NULL;
  return rc;
}

static void *work(void *arg) {
  worker *w = arg;
  shared *sh = w->sh;
  pthread_mutex_lock(&sh->mu);
  for (;;) {
    while (!sh->head && !sh->done && !sh->failed) pthread_cond_wait(&sh->cv, &sh->mu);
    if (sh->failed || !sh->head) break;
    period *p = sh->head;
    sh->head = p->next;
    if (!sh->head) sh->tail = NULL;
    pthread_mutex_unlock(&sh->mu);
    int rc = decode_period(w, p);
    uint64_t frames = p->frames;
    period_free(p);
    pthread_mutex_lock(&sh->mu);
    sh->inflight--;
    sh->frames_done += frames;
    if (rc) sh->failed = 1;
    pthread_cond_broadcast(&sh->cv);
  }
  pthread_mutex_unlock(&sh->mu);
  return NULL;
}

static int worker_open(worker *w, shared *sh) {
  const vigil__gops_job *job = sh->job;
  const AVCodecParameters *par = job->fc->streams[job->vi]->codecpar;
  const AVCodec *codec = avcodec_find_decoder(par->codec_id);
  vigil_error err;
  w->sh = sh;
  if (!codec || !(w->cc = avcodec_alloc_context3(codec)) || avcodec_parameters_to_context(w->cc, par) < 0)
    return VIGIL__GOPS_FALL_BACK;
  w->cc->thread_count = 1;
  /* A damaged picture is concealed from the pictures decoded before it,
   * which here are not the ones one decoder would have: any damage the
   * decoder sees stops the pass instead (AV_EF_EXPLODE). */
  w->cc->err_recognition |= AV_EF_EXPLODE;
  w->cc->max_pixels = (int64_t)(job->max_pixels > INT64_MAX ? INT64_MAX : job->max_pixels);
  if (avcodec_open2(w->cc, codec, NULL) < 0 || !(w->frame = av_frame_alloc()) ||
      vigil__video_hasher_new(&w->hasher, 0, job->dst_w, job->dst_h, job->fps, to_slot, w, &err) != VIGIL_OK)
    return VIGIL__GOPS_FALL_BACK;
  if (pthread_create(&w->thread, NULL, work, w) != 0) return VIGIL__GOPS_FALL_BACK;
  w->started = 1;
  return VIGIL_OK;
}

static void worker_close(worker *w) {
  vigil__video_hasher_free(w->hasher);
  av_frame_free(&w->frame);
  avcodec_free_context(&w->cc);
}

/* ---- the demuxing thread ----------------------------------------------------- */

/* Hands period p over, waiting while workers + 2 are in flight; takes p.
 * VIGIL_OK, or VIGIL__GOPS_FALL_BACK when the pass has failed. */
static int hand_over(shared *sh, period *p) {
  const vigil__gops_job *job = sh->job;
  pthread_mutex_lock(&sh->mu);
  while (!sh->failed && sh->inflight >= job->workers + 2) {
    pthread_cond_wait(&sh->cv, &sh->mu);
  }
  int failed = sh->failed;
  uint64_t done = sh->frames_done;
  if (!failed) {
    p->next = NULL;
    if (sh->tail) sh->tail->next = p;
    else sh->head = p;
    sh->tail = p;
    sh->inflight++;
    pthread_cond_broadcast(&sh->cv);
  }
  pthread_mutex_unlock(&sh->mu);
  if (failed) {
    period_free(p);
    return VIGIL__GOPS_FALL_BACK;
  }
  if (job->progress) job->progress(job->progress_ctx, done, (double)done / job->fps, job->total_seconds);
  return VIGIL_OK;
}

static int period_add(period *p, AVPacket *pkt) {
  if (vigil__grow_from((void **)&p->pkts, &p->cap, p->n + 1, sizeof *p->pkts, 64) != VIGIL_OK)
    return VIGIL__GOPS_FALL_BACK;
  if (!(p->pkts[p->n] = av_packet_clone(pkt))) return VIGIL__GOPS_FALL_BACK;
  p->n++;
  return VIGIL_OK;
}

/* Reads every packet, checks it against the table and hands the periods
 * over.  *j: video packets read. */
static int demux(shared *sh, AVPacket *pkt, size_t *j, uint64_t *nsent) {
  const vigil__gops_job *job = sh->job;
  const vigil__pts_table *t = job->pts;
  period *cur = NULL;
  size_t nperiods = 0;
  int64_t prev_hi = -1; /* the highest rank handed over */
  int rc = VIGIL_OK;
  while (rc == VIGIL_OK) {
    if (av_read_frame(job->fc, pkt) < 0) break;
    if (pkt->stream_index != job->vi) {
      av_packet_unref(pkt);
      continue;
    }
    size_t d = (*j)++;
    int discard = d < t->n && (t->kind[d] & VIGIL__AU_DISCARD);
    if (d >= t->n || pkt->pts != t->order[d] || !discard != !(pkt->flags & AV_PKT_FLAG_DISCARD)) {
      rc = VIGIL__GOPS_FALL_BACK;
    } else {
      if ((t->kind[d] & VIGIL__AU_IDR) && cur && cur->n > 0) { /* a new period */
        prev_hi = cur->hi > prev_hi ? cur->hi : prev_hi;
        rc = hand_over(sh, cur);
        cur = NULL;
      }
      if (rc == VIGIL_OK && !cur) {
        if (!(cur = calloc(1, sizeof *cur))) rc = VIGIL__GOPS_FALL_BACK;
        else {
          cur->index = nperiods++;
          cur->lo = INT64_MAX;
          cur->hi = -1;
        }
      }
      if (rc == VIGIL_OK) {
        cur->frames += !discard;
        if (d == 0 && av_packet_ref(sh->first, pkt) < 0) rc = VIGIL__GOPS_FALL_BACK;
        if (rc == VIGIL_OK && job->send[d]) {
          if (!cur->n) cur->starts_video = d == 0;
          rc = period_add(cur, pkt);
          int64_t r = discard ? -1 : vigil__pts_table_rank(t, pkt->pts);
          if (rc == VIGIL_OK && !discard) {
            if (r < 0 || r <= prev_hi) rc = VIGIL__GOPS_FALL_BACK;
            else {
              job->sent[r] = 1;
              cur->nsent++;
              (*nsent)++;
              if (r < cur->lo) cur->lo = r;
              if (r > cur->hi) cur->hi = r;
            }
          }
        }
      }
    }
    av_packet_unref(pkt);
  }
  if (rc == VIGIL_OK && cur && cur->n > 0) {
    rc = hand_over(sh, cur);
    cur = NULL;
  } else if (cur) { /* the tail nothing selected needs: counted, never decoded */
    pthread_mutex_lock(&sh->mu);
    sh->frames_done += cur->frames;
    pthread_mutex_unlock(&sh->mu);
  }
  period_free(cur);
  return rc;
}

int vigil__video_gops_run(const vigil__gops_job *job, uint64_t *nsent) {
  *nsent = 0;
  if (job->workers < 1 || job->pts->n == 0) return VIGIL__GOPS_FALL_BACK;
  shared sh;
  memset(&sh, 0, sizeof sh);
  sh.job = job;
  AVPacket *pkt = av_packet_alloc(), *first = av_packet_alloc();
  worker *ws = calloc(job->workers, sizeof *ws);
  int rc = pkt && first && ws ? VIGIL_OK : VIGIL__GOPS_FALL_BACK;
  int locks = 0;
  if (rc == VIGIL_OK && pthread_mutex_init(&sh.mu, NULL) == 0) {
    locks = 1;
    if (pthread_cond_init(&sh.cv, NULL) == 0) locks = 2;
  }
  if (locks < 2) rc = VIGIL__GOPS_FALL_BACK;
  sh.first = first;
  for (unsigned i = 0; rc == VIGIL_OK && i < job->workers; i++) rc = worker_open(&ws[i], &sh);
  size_t j = 0;
  if (rc == VIGIL_OK) rc = demux(&sh, pkt, &j, nsent);
  if (locks == 2) {
    pthread_mutex_lock(&sh.mu);
    sh.done = 1;
    if (rc) sh.failed = 1;
    pthread_cond_broadcast(&sh.cv);
    /* the last periods: progress as each is done */
    uint64_t shown = 0;
    while (job->progress && !sh.failed) {
      if (sh.frames_done == shown) {
        if (sh.inflight == 0) break;
        pthread_cond_wait(&sh.cv, &sh.mu);
      } else {
        shown = sh.frames_done;
        pthread_mutex_unlock(&sh.mu);
        job->progress(job->progress_ctx, shown, (double)shown / job->fps, job->total_seconds);
        pthread_mutex_lock(&sh.mu);
      }
    }
    pthread_mutex_unlock(&sh.mu);
  }
  for (unsigned i = 0; ws && i < job->workers; i++)
    if (ws[i].started) pthread_join(ws[i].thread, NULL);
  if (rc == VIGIL_OK && (sh.failed || j != job->pts->n)) rc = VIGIL__GOPS_FALL_BACK;
  /* every selected frame was hashed (a frame sent came out, and selected ones are always sent) */
  for (size_t r = 0; rc == VIGIL_OK && r < job->pts->nranked; r += (size_t)job->frame_mod)
    if (!job->sent[r]) rc = VIGIL__GOPS_FALL_BACK;
  while (sh.head) { /* left by a failure */
    period *p = sh.head;
    sh.head = p->next;
    period_free(p);
  }
  for (unsigned i = 0; ws && i < job->workers; i++) worker_close(&ws[i]);
  free(ws);
  if (locks == 2) pthread_cond_destroy(&sh.cv);
  if (locks >= 1) pthread_mutex_destroy(&sh.mu);
  av_packet_free(&pkt);
  av_packet_free(&first);
  return rc;
}
