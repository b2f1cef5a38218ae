/* SPDX-License-Identifier: Apache-2.0 */
/*
 * video_testutil.c - see video_testutil.h.
 */
#include "video_testutil.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/video.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>

static char dir[256];

const char *tv_path(const char *name) {
  static char path[512];
  if (!dir[0]) {
    snprintf(dir, sizeof dir, "/tmp/vigil-video-XXXXXX");
    if (!mkdtemp(dir)) return NULL;
  }
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}

void tv_cleanup(void) {
  if (!dir[0]) return;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
  dir[0] = 0;
}

const char *tv_write(const char *name, const void *data, size_t len) {
  const char *p = tv_path(name);
  FILE *f = p ? fopen(p, "wb") : NULL;
  if (!f) return NULL;
  int ok = fwrite(data, 1, len, f) == len;
  ok &= fclose(f) == 0;
  return ok ? p : NULL;
}

/* One 4:2:0 frame: a diagonal pattern that moves with t. */
static void frame(unsigned char *buf, int w, int h, int t) {
  unsigned char *y = buf, *u = buf + (size_t)w * h, *v = u + (size_t)((w + 1) / 2) * ((h + 1) / 2);
  for (int r = 0; r < h; r++)
    for (int c = 0; c < w; c++) y[(size_t)r * w + c] = (unsigned char)((c * 7 + r * 3 + t * 5) & 255);
  size_t cn = (size_t)((w + 1) / 2) * ((h + 1) / 2);
  memset(u, 128, cn);
  memset(v, 100 + t % 50, cn);
}

static size_t frame_bytes(int w, int h) { return (size_t)w * h + 2 * (size_t)((w + 1) / 2) * ((h + 1) / 2); }

const char *tv_y4m(const char *name, long w, long h, long num, long den, int nframes) {
  const char *p = tv_path(name);
  FILE *f = p ? fopen(p, "wb") : NULL;
  if (!f) return NULL;
  fprintf(f, "YUV4MPEG2 W%ld H%ld F%ld:%ld Ip A1:1 C420jpeg\n", w, h, num, den);
  if (nframes > 0 && w > 0 && h > 0 && w * h <= 4096 * 4096) {
    unsigned char *buf = malloc(frame_bytes((int)w, (int)h));
    for (int t = 0; buf && t < nframes; t++) {
      frame(buf, (int)w, (int)h, t);
      fputs("FRAME\n", f);
      fwrite(buf, 1, frame_bytes((int)w, (int)h), f);
    }
    free(buf);
  }
  return fclose(f) == 0 ? p : NULL;
}

typedef struct writer {
  int fd, w, h, stall;
  long n;
  unsigned char *buf; /* a batch of frames, allocated before the thread starts */
} writer;

enum { PER_WRITE = 64 }; /* frames per write: a million tiny frames go by quickly */

static pthread_t wthread;
static sem_t wrunning; /* posted once the writer thread runs its own code */
static writer wr;
static int wstarted;

static int write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    ssize_t k = write(fd, c, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    c += k;
    n -= (size_t)k;
  }
  return 0;
}

static void *write_frames(void *arg) {
  writer *x = arg;
  sem_post(&wrunning);
  char head[128];
  int hl = snprintf(head, sizeof head, "YUV4MPEG2 W%d H%d F1000:1 Ip A1:1 C420jpeg\n", x->w, x->h);
  if (write_all(x->fd, head, (size_t)hl) == 0 && !x->stall) {
    size_t fb = 6 + frame_bytes(x->w, x->h), per = PER_WRITE;
    unsigned char *buf = x->buf;
    for (long t = 0; buf && (x->n < 0 || t < x->n); t += (long)per) {
      size_t k = 0;
      for (; k < per && (x->n < 0 || t + (long)k < x->n); k++) {
        memcpy(buf + k * fb, "FRAME\n", 6);
        frame(buf + k * fb + 6, x->w, x->h, (int)(t + (long)k));
      }
      if (write_all(x->fd, buf, k * fb) != 0) break; /* the reader went away */
    }
    close(x->fd);
    x->fd = -1;
  } else if (x->stall) {
    pause(); /* cancelled by tv_pipe_join */
  }
  return NULL;
}

int tv_y4m_pipe(int w, int h, long nframes, int stall) {
  int p[2];
  if (pipe(p) != 0) return -1;
  signal(SIGPIPE, SIG_IGN);
  wr.fd = p[1];
  wr.w = w;
  wr.h = h;
  wr.n = nframes;
  wr.stall = stall;
  /* The writer thread allocates nothing: the code under test forks (the
   * video sandbox), and a fork taken while this thread held the allocator's
   * lock (AddressSanitizer's is not released in the child) would leave the
   * child stuck in its first malloc. */
  wr.buf = stall ? NULL : malloc((6 + frame_bytes(w, h)) * PER_WRITE);
  if ((!stall && !wr.buf) || sem_init(&wrunning, 0, 0) != 0 ||
      pthread_create(&wthread, NULL, write_frames, &wr) != 0) {
    free(wr.buf);
    wr.buf = NULL;
    close(p[0]);
    close(p[1]);
    return -1;
  }
  /* and its start-up (the runtime's own bookkeeping) is over before the caller forks */
  while (sem_wait(&wrunning) != 0 && errno == EINTR) {
  }
  sem_destroy(&wrunning);
  wstarted = 1;
  return p[0];
}

void tv_pipe_join(void) {
  if (!wstarted) return;
  if (wr.stall) pthread_cancel(wthread);
  pthread_join(wthread, NULL);
  free(wr.buf);
  wr.buf = NULL;
  if (wr.fd >= 0) close(wr.fd);
  wr.fd = -1;
  wstarted = 0;
}

int tv_add_line(void *ctx, const vigil_video_frame *frame) {
  tv_lines *b = ctx;
  char line[VIGIL_VIDEO_LINE_MAX];
  int n = vigil_video_format_line(frame, line);
  if (b->n + (size_t)n + 2 > b->cap) {
    size_t cap = (b->cap + (size_t)n + 2) * 2;
    char *ns = realloc(b->s, cap);
    if (!ns) return VIGIL_ENOMEM;
    b->s = ns;
    b->cap = cap;
  }
  memcpy(b->s + b->n, line, (size_t)n);
  b->n += (size_t)n;
  b->s[b->n++] = '\n';
  b->s[b->n] = 0;
  return VIGIL_OK;
}

/* Encodes nframes w x h frames of moving texture (yuv420p, 25 fps, GOP 50)
 * with the named encoder into path, in the container the extension of path
 * picks or the muxer named by fmt; opts go to the encoder (freed here). */
static int encode_clip(const char *path, const char *fmt, const char *encoder, int w, int h, int nframes,
                       int bframes, AVDictionary **opts) {
  const AVCodec *c = avcodec_find_encoder_by_name(encoder);
  AVFormatContext *oc = NULL;
  int rc = -1;
  if (!c || avformat_alloc_output_context2(&oc, NULL, fmt, path) < 0) {
    av_dict_free(opts);
    return -1;
  }
  AVStream *st = avformat_new_stream(oc, NULL);
  AVCodecContext *cc = avcodec_alloc_context3(c);
  AVFrame *f = av_frame_alloc();
  AVPacket *pkt = av_packet_alloc();
  if (!st || !cc || !f || !pkt) goto out;
  cc->width = w;
  cc->height = h;
  cc->time_base = (AVRational){1, 25};
  cc->framerate = (AVRational){25, 1};
  cc->pix_fmt = AV_PIX_FMT_YUV420P;
  cc->gop_size = 50;
  if (bframes >= 0) cc->max_b_frames = bframes;
  cc->thread_count = 1;
  if (oc->oformat->flags & AVFMT_GLOBALHEADER) cc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (avcodec_open2(cc, c, opts) < 0) goto out;
  if (avcodec_parameters_from_context(st->codecpar, cc) < 0) goto out;
  st->time_base = cc->time_base;
  st->avg_frame_rate = cc->framerate;
  if (!(oc->oformat->flags & AVFMT_NOFILE) && avio_open(&oc->pb, path, AVIO_FLAG_WRITE) < 0) goto out;
  if (avformat_write_header(oc, NULL) < 0) goto out;
  f->format = cc->pix_fmt;
  f->width = w;
  f->height = h;
  if (av_frame_get_buffer(f, 0) < 0) goto out;
  for (int t = 0; t <= nframes; t++) {
    if (t < nframes) {
      if (av_frame_make_writable(f) < 0) goto out;
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          f->data[0][y * f->linesize[0] + x] = (uint8_t)((x * x / 37 + y * 3 + t * 5) ^ (y * y / 71 + x / 3 + t));
      for (int p = 1; p < 3; p++)
        for (int y = 0; y < h / 2; y++)
          for (int x = 0; x < w / 2; x++) f->data[p][y * f->linesize[p] + x] = (uint8_t)(128 + ((x + y * p + t) & 31));
      f->pts = t;
    }
    if (avcodec_send_frame(cc, t < nframes ? f : NULL) < 0) goto out;
    while (avcodec_receive_packet(cc, pkt) == 0) {
      av_packet_rescale_ts(pkt, cc->time_base, st->time_base);
      pkt->stream_index = 0;
      if (av_interleaved_write_frame(oc, pkt) < 0) goto out;
    }
  }
  if (av_write_trailer(oc) < 0) goto out;
  rc = 0;
out:
  av_dict_free(opts);
  if (oc && oc->pb) avio_closep(&oc->pb);
  av_packet_free(&pkt);
  av_frame_free(&f);
  avcodec_free_context(&cc);
  avformat_free_context(oc);
  return rc;
}

int tv_x264(const char *path, int nframes, int bframes, const char *x264_params) {
  AVDictionary *opts = NULL;
  av_dict_set(&opts, "preset", "veryfast", 0);
  av_dict_set(&opts, "b-pyramid", "normal", 0);
  if (x264_params) av_dict_set(&opts, "x264-params", x264_params, 0);
  return encode_clip(path, NULL, "libx264", 320, 240, nframes, bframes, &opts);
}

int tv_encode(const char *path, const char *fmt, const char *encoder, int w, int h, int nframes,
              const char *options) {
  AVDictionary *opts = NULL;
  if (options && av_dict_parse_string(&opts, options, "=", ",", 0) < 0) {
    av_dict_free(&opts);
    return -1;
  }
  return encode_clip(path, fmt, encoder, w, h, nframes, -1, &opts);
}
