/* SPDX-License-Identifier: Apache-2.0 */
/*
 * make-conformance-clips.c - writes one clip for scripts/check-vpdq-reference,
 * which compares vigil's vPDQ lines with the reference's on clips nobody
 * tuned either on: codecs, sizes, frame rates, pixel formats and containers
 * other than ../shared's.  The picture is a moving scene (two sine fields, a
 * box that moves, a cut every 3 s, a little noise) so that frames differ and
 * have quality; an AAC stream can come first (the reference's end-of-file
 * quirk).  Uses Debian's libavcodec encoders and libavformat muxers:
 *   cc -O2 scripts/make-conformance-clips.c -o /tmp/mkclip \
 *     $(pkg-config --cflags --libs libavformat libavcodec libswscale libavutil) -lm
 *   /tmp/mkclip OUT ENCODER PIXFMT W H FPS_NUM FPS_DEN FRAMES [fmt=MUXER] [audio_first] [KEY=VALUE ...]
 * KEY=VALUE pairs are the encoder's options.
 */
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static AVFormatContext *oc;

static void die(const char *what, int e) {
  char b[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(e, b, sizeof b);
  fprintf(stderr, "make-conformance-clips: %s: %s\n", what, b);
  exit(1);
}

/* Sends a frame (NULL: drains) and writes what comes out. */
static void put(AVCodecContext *c, AVStream *s, AVFrame *f) {
  int e = avcodec_send_frame(c, f);
  if (e < 0 && e != AVERROR_EOF) die("encoding", e);
  AVPacket *p = av_packet_alloc();
  if (!p) die("out of memory", AVERROR(ENOMEM));
  while ((e = avcodec_receive_packet(c, p)) == 0) {
    av_packet_rescale_ts(p, c->time_base, s->time_base);
    p->stream_index = s->index;
    if ((e = av_interleaved_write_frame(oc, p)) < 0) die("writing", e);
  }
  av_packet_free(&p);
}

static AVCodecContext *open_audio(AVStream **as) {
  const AVCodec *ae = avcodec_find_encoder_by_name("aac");
  AVCodecContext *ac = ae ? avcodec_alloc_context3(ae) : NULL;
  if (!ac || !(*as = avformat_new_stream(oc, NULL))) die("no AAC encoder", AVERROR(ENOSYS));
  ac->sample_rate = 44100;
  ac->sample_fmt = AV_SAMPLE_FMT_FLTP;
  av_channel_layout_default(&ac->ch_layout, 1);
  ac->bit_rate = 64000;
  ac->time_base = (AVRational){1, 44100};
  if (oc->oformat->flags & AVFMT_GLOBALHEADER) ac->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  int e = avcodec_open2(ac, ae, NULL);
  if (e < 0) die("opening AAC", e);
  avcodec_parameters_from_context((*as)->codecpar, ac);
  (*as)->time_base = ac->time_base;
  return ac;
}

/* Frame i of the scene, in RGB. */
static void paint(AVFrame *rgb, int i, int fn, int fd, unsigned *seed) {
  int w = rgb->width, h = rgb->height, scene = (int)((double)i * fd / fn / 3.0);
  double t = i * 0.05;
  int bx = (int)((0.5 + 0.4 * sin(t + scene)) * w), by = (int)((0.5 + 0.4 * cos(1.3 * t)) * h);
  for (int y = 0; y < h; y++) {
    uint8_t *r = rgb->data[0] + (ptrdiff_t)y * rgb->linesize[0];
    for (int x = 0; x < w; x++) {
      *seed = *seed * 1103515245u + 12345u;
      int n = (int)((*seed >> 16) & 15), box = abs(x - bx) < w / 6 && abs(y - by) < h / 6;
      int v = (int)(128 + 100 * sin((x + scene * 37) * 0.03 + t) * cos((y - scene * 11) * 0.05 - t * 0.7));
      r[3 * x] = box ? (uint8_t)(scene * 53) : (uint8_t)(v + n);
      r[3 * x + 1] = (uint8_t)(x * 255 / w + y * (scene + 1) + n);
      r[3 * x + 2] = box ? 200 : (uint8_t)(255 - v + ((x ^ y) & 31));
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 9) {
    fprintf(stderr, "usage: %s OUT ENCODER PIXFMT W H FPS_NUM FPS_DEN FRAMES [fmt=MUXER] [audio_first] [KEY=VALUE ...]\n",
            argv[0]);
    return 2;
  }
  const char *out = argv[1], *codec = argv[2], *muxer = NULL;
  int w = atoi(argv[4]), h = atoi(argv[5]), fn = atoi(argv[6]), fd = atoi(argv[7]), n = atoi(argv[8]);
  int audio_first = 0;
  AVDictionary *opts = NULL;
  for (int i = 9; i < argc; i++) {
    if (!strcmp(argv[i], "audio_first")) audio_first = 1;
    else if (!strncmp(argv[i], "fmt=", 4)) muxer = argv[i] + 4;
    else if (av_dict_parse_string(&opts, argv[i], "=", ",", 0) < 0) die(argv[i], AVERROR(EINVAL));
  }
  int e = avformat_alloc_output_context2(&oc, NULL, muxer, out);
  if (e < 0) die("no muxer", e);
  AVStream *as = NULL, *vs;
  AVCodecContext *ac = audio_first ? open_audio(&as) : NULL;
  const AVCodec *ve = avcodec_find_encoder_by_name(codec);
  AVCodecContext *vc = ve ? avcodec_alloc_context3(ve) : NULL;
  if (!vc || !(vs = avformat_new_stream(oc, NULL))) die(codec, AVERROR_ENCODER_NOT_FOUND);
  vc->width = w;
  vc->height = h;
  vc->pix_fmt = av_get_pix_fmt(argv[3]);
  vc->time_base = (AVRational){fd, fn};
  vc->framerate = (AVRational){fn, fd};
  if (oc->oformat->flags & AVFMT_GLOBALHEADER) vc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if ((e = avcodec_open2(vc, ve, &opts)) < 0) die("opening the encoder", e);
  av_dict_free(&opts);
  avcodec_parameters_from_context(vs->codecpar, vc);
  vs->time_base = vc->time_base;
  vs->avg_frame_rate = vc->framerate;
  if (!(oc->oformat->flags & AVFMT_NOFILE) && (e = avio_open(&oc->pb, out, AVIO_FLAG_WRITE)) < 0) die(out, e);
  if ((e = avformat_write_header(oc, NULL)) < 0) die("the container header", e);
  AVFrame *rgb = av_frame_alloc(), *f = av_frame_alloc();
  if (!rgb || !f) die("out of memory", AVERROR(ENOMEM));
  rgb->format = AV_PIX_FMT_RGB24;
  rgb->width = w;
  rgb->height = h;
  f->format = vc->pix_fmt;
  f->width = w;
  f->height = h;
  if (av_frame_get_buffer(rgb, 0) < 0 || av_frame_get_buffer(f, 0) < 0) die("out of memory", AVERROR(ENOMEM));
  struct SwsContext *sws = sws_getContext(w, h, AV_PIX_FMT_RGB24, w, h, vc->pix_fmt, SWS_BICUBIC, NULL, NULL, NULL);
  if (!sws) die("no conversion to that pixel format", AVERROR(EINVAL));
  unsigned seed = 12345;
  int64_t apts = 0;
  for (int i = 0; i < n; i++) {
    paint(rgb, i, fn, fd, &seed);
    if (av_frame_make_writable(f) < 0) die("out of memory", AVERROR(ENOMEM));
    sws_scale(sws, (const uint8_t *const *)rgb->data, rgb->linesize, 0, h, f->data, f->linesize);
    f->pts = i;
    while (ac && av_rescale_q(apts, ac->time_base, vc->time_base) <= i) { /* a quiet tone, ahead of the frame */
      AVFrame *a = av_frame_alloc();
      if (!a) die("out of memory", AVERROR(ENOMEM));
      a->format = ac->sample_fmt;
      a->nb_samples = ac->frame_size;
      a->sample_rate = ac->sample_rate;
      av_channel_layout_copy(&a->ch_layout, &ac->ch_layout);
      if (av_frame_get_buffer(a, 0) < 0) die("out of memory", AVERROR(ENOMEM));
      float *s = (float *)a->data[0];
      for (int k = 0; k < a->nb_samples; k++) s[k] = 0.1f * sinf((float)(apts + k) * 0.05f);
      a->pts = apts;
      apts += a->nb_samples;
      put(ac, as, a);
      av_frame_free(&a);
    }
    put(vc, vs, f);
  }
  put(vc, vs, NULL);
  if (ac) put(ac, as, NULL);
  if ((e = av_write_trailer(oc)) < 0) die("the container trailer", e);
  if (!(oc->oformat->flags & AVFMT_NOFILE)) avio_closep(&oc->pb);
  sws_freeContext(sws);
  av_frame_free(&rgb);
  av_frame_free(&f);
  avcodec_free_context(&vc);
  avcodec_free_context(&ac);
  avformat_free_context(oc);
  return 0;
}
