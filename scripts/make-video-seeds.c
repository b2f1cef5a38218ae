/* SPDX-License-Identifier: Apache-2.0 */
/*
 * make-video-seeds.c - writes the tiny videos in fuzz/seeds/fuzz_video/ (a
 * few KB each, 32x32, 6 frames, one per container and codec family) that the
 * video fuzz target starts from.  Uses Debian's libavcodec encoders and
 * libavformat muxers.  Build and run by hand:
 *   cc -O2 scripts/make-video-seeds.c -o /tmp/mkv $(pkg-config --cflags --libs libavformat libavcodec libavutil) \
 *     && /tmp/mkv fuzz/seeds/fuzz_video
 */
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <stdio.h>
#include <string.h>

static int encode(AVFormatContext *oc, AVCodecContext *cc, AVStream *st, AVFrame *f) {
  if (avcodec_send_frame(cc, f) < 0) return -1;
  AVPacket *pkt = av_packet_alloc();
  int rc = 0;
  while (avcodec_receive_packet(cc, pkt) == 0) {
    av_packet_rescale_ts(pkt, cc->time_base, st->time_base);
    pkt->stream_index = st->index;
    if (av_interleaved_write_frame(oc, pkt) < 0) rc = -1;
  }
  av_packet_free(&pkt);
  return rc;
}

static int make(const char *dir, const char *name, const char *codec, int bframes) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  const AVCodec *c = avcodec_find_encoder_by_name(codec);
  if (!c) {
    fprintf(stderr, "no encoder %s: skipping %s\n", codec, name);
    return 0;
  }
  AVFormatContext *oc = NULL;
  if (avformat_alloc_output_context2(&oc, NULL, NULL, path) < 0) return -1;
  AVStream *st = avformat_new_stream(oc, NULL);
  AVCodecContext *cc = avcodec_alloc_context3(c);
  cc->width = 32;
  cc->height = 32;
  cc->time_base = (AVRational){1, 25};
  cc->framerate = (AVRational){25, 1};
  cc->pix_fmt = c->pix_fmts ? c->pix_fmts[0] : AV_PIX_FMT_YUV420P;
  cc->gop_size = 4;
  cc->max_b_frames = bframes;
  cc->bit_rate = 20000;
  if (oc->oformat->flags & AVFMT_GLOBALHEADER) cc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (!strcmp(codec, "libx264")) av_opt_set(cc->priv_data, "preset", "ultrafast", 0);
  if (avcodec_open2(cc, c, NULL) < 0) return -1;
  avcodec_parameters_from_context(st->codecpar, cc);
  st->time_base = cc->time_base;
  if (avio_open(&oc->pb, path, AVIO_FLAG_WRITE) < 0) return -1;
  if (avformat_write_header(oc, NULL) < 0) return -1;
  AVFrame *f = av_frame_alloc();
  f->format = cc->pix_fmt;
  f->width = 32;
  f->height = 32;
  av_frame_get_buffer(f, 0);
  for (int t = 0; t < 6; t++) {
    av_frame_make_writable(f);
    for (int y = 0; y < 32; y++)
      for (int x = 0; x < 32; x++) f->data[0][y * f->linesize[0] + x] = (uint8_t)(x * 8 + y * 3 + t * 20);
    for (int p = 1; p < 3 && f->data[p]; p++)
      for (int y = 0; y < 16; y++) memset(f->data[p] + y * f->linesize[p], 128 + t * (p == 1 ? 5 : -5), 16);
    f->pts = t;
    if (encode(oc, cc, st, f) < 0) return -1;
  }
  encode(oc, cc, st, NULL);
  av_write_trailer(oc);
  avio_closep(&oc->pb);
  av_frame_free(&f);
  avcodec_free_context(&cc);
  avformat_free_context(oc);
  printf("wrote %s\n", path);
  return 0;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : ".";
  int rc = 0;
  rc |= make(dir, "h264-bframes.mp4", "libx264", 2);
  rc |= make(dir, "mpeg4-bframes.avi", "mpeg4", 2);
  rc |= make(dir, "vp8.webm", "libvpx", 0);
  rc |= make(dir, "mpeg2.ts", "mpeg2video", 0);
  rc |= make(dir, "flv1.flv", "flv", 0);
  return rc ? 1 : 0;
}
