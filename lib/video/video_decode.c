/* SPDX-License-Identifier: Apache-2.0 */
/*
 * video_decode.c - one video, demuxed, decoded and hashed as the reference
 * (ThreatExchange vpdq-hash-video 0.2.5) does it, in the calling process.
 *
 * What must match the reference bit for bit, and where it comes from
 * (vpdq/cpp/vpdq/cpp/hashing/{ffmpegwrapper,filehasher,hasher}.cpp, read for
 * facts; docs/video.md lists them):
 *   - the first video stream; fps = avg_frame_rate, r_frame_rate when that
 *     is 0/0, as a double;
 *   - frame numbers count the decoder's output frames from 0;
 *   - frameMod = max(1, (int)(seconds_per_hash * fps)), a frame is hashed
 *     when number % frameMod == 0;
 *   - sws_scale to RGB24 with SWS_AREA alone, into a frame buffer of
 *     alignment 1 (row stride 3 * width), at the stream's codecpar size or
 *     the downsample size;
 *   - PDQ from float luma at that size (lib/pdq's stream, the path
 *     python-threatexchange's full-resolution hashes take);
 *   - timestamp (float)number / (float)fps;
 *   - the end-of-file quirk: the flush packet the reference sends carries
 *     stream index 0, so when the video is not stream 0 the decoder is never
 *     drained (opts->flush_all drains it always).
 * Where the reference would misbehave on hostile input (a frame whose size
 * or pixel format differs from the first, which it scales with a context
 * made for other dimensions), vigil rebuilds the scaler for the new frame.
 *
 * Bounded memory: one decoded frame, one RGB frame and the PDQ stream's
 * rows (with threads, a few decoded frames wait for the hashing thread:
 * video_hasher.c); hashes go to the callback as they are computed (the
 * reference keeps every frame it has yet to hash in an unbounded queue).
 */
#include "video/video_internal.h"
#include "video/video_hasher.h"
#include "common/internal.h"
#include "pdq/pdq_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

/* Containers vigil opens (libavformat's demuxer names).  Still-picture
 * demuxers (image2, *_pipe) are left out: a picture is hashed as a picture,
 * and each demuxer not listed is attack surface not exposed. */
static const char FORMATS[] = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,flv,mpeg,mpegvideo,ogg,asf,"
                              "h264,hevc,m4v,ivf,obu,nut,rm,gif,dv,mxf,wtv,live_flv,h263,vc1,yuv4mpegpipe";

typedef struct state {
  const vigil_video_opts *o;
  vigil_video_frame_fn fn;
  void *ctx;
  AVFormatContext *fc;
  AVCodecContext *cc;
  vigil__video_hasher *hasher;
  AVFrame *frame;
  AVPacket *pkt;
  int vi;
  double fps;
  int64_t frame_mod;
  int dst_w, dst_h;
  uint64_t decoded, hashed;
  double total_seconds;
} state;

static int averr(vigil_error *err, int code, const char *what, int e) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(e, buf, sizeof buf);
  if (e == AVERROR(ENOMEM)) code = VIGIL_ENOMEM;
  return vigil__seterr(err, code, "%s: %s", what, buf);
}

/* Demuxers that open other files (playlists, references) get this instead of
 * a file: the only input is the one we were given. */
static int deny_open(struct AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                     AVDictionary **options) {
  (void)s, (void)pb, (void)url, (void)flags, (void)options;
  return AVERROR(EPERM);
}

/* Sends one packet (NULL: drain) and hashes what comes out. */
static int decode_packet(state *st, const AVPacket *pkt, vigil_error *err) {
  int e = avcodec_send_packet(st->cc, pkt);
  if (e < 0 && e != AVERROR_EOF)
    return averr(err, VIGIL_ECORRUPT, "the decoder refused a packet", e);
  for (;;) {
    e = avcodec_receive_frame(st->cc, st->frame);
    if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) return VIGIL_OK;
    if (e < 0) return averr(err, VIGIL_ECORRUPT, "decoding failed", e);
    int64_t number = (int64_t)st->decoded++;
    int rc = VIGIL_OK;
    if (st->decoded > st->o->max_frames)
      rc = vigil__seterr(err, VIGIL_ELIMIT, "over %llu frames (the frame limit)",
                         (unsigned long long)st->o->max_frames);
    else if ((double)number / st->fps > st->o->max_duration)
      rc = vigil__seterr(err, VIGIL_ELIMIT, "longer than %.0f s (the duration limit)", st->o->max_duration);
    else if ((uint64_t)st->frame->width * (uint64_t)st->frame->height > st->o->max_pixels)
      rc = vigil__seterr(err, VIGIL_ELIMIT, "frame of %dx%d pixels is over the limit of %llu", st->frame->width,
                         st->frame->height, (unsigned long long)st->o->max_pixels);
    else if (number % st->frame_mod == 0 && (rc = vigil__video_hasher_put(st->hasher, st->frame, number, err)) == 0)
      st->hashed++;
    if (rc == VIGIL_OK && st->o->progress && st->decoded % 25 == 0)
      st->o->progress(st->o->progress_ctx, st->decoded, (double)st->decoded / st->fps, st->total_seconds);
    av_frame_unref(st->frame);
    if (rc) return rc;
  }
}

static int open_input(state *st, vigil__video_io *io, const char *url, const vigil__video_hooks *hooks,
                      vigil_video_info *info, vigil_error *err) {
  const vigil_video_opts *o = st->o;
  st->fc = avformat_alloc_context();
  if (!st->fc) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  st->fc->pb = vigil__video_io_avio(io);
  st->fc->flags |= AVFMT_FLAG_CUSTOM_IO;
  st->fc->io_open = deny_open;
  if (!(st->fc->format_whitelist = av_strdup(FORMATS))) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  if (hooks && hooks->before_parse) {
    int rc = hooks->before_parse(hooks->ctx, err);
    if (rc) return rc;
  }
  int e = avformat_open_input(&st->fc, url ? url : "", NULL, NULL);
  if (e < 0) {
    st->fc = NULL; /* freed by avformat_open_input */
    if (e == AVERROR_INVALIDDATA || e == AVERROR(EINVAL) || e == AVERROR_EOF)
      return vigil__seterr(err, VIGIL_EFORMAT, "not a video vigil opens (no known container recognised)");
    return averr(err, VIGIL_EFORMAT, "the demuxer refused the file", e);
  }
  e = avformat_find_stream_info(st->fc, NULL);
  if (e < 0) return averr(err, VIGIL_ECORRUPT, "cannot read the stream information", e);
  st->vi = -1;
  for (unsigned i = 0; i < st->fc->nb_streams; i++)
    if (st->fc->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
      st->vi = (int)i;
      break;
    }
  if (st->vi < 0) return vigil__seterr(err, VIGIL_EFORMAT, "no video stream (%s)", st->fc->iformat->name);
  AVStream *vs = st->fc->streams[st->vi];
  const AVCodecParameters *par = vs->codecpar;
  snprintf(info->container, sizeof info->container, "%s", st->fc->iformat->name);
  if (st->fc->duration > 0) st->total_seconds = (double)st->fc->duration / AV_TIME_BASE;
  if (par->width <= 0 || par->height <= 0)
    return vigil__seterr(err, VIGIL_ECORRUPT, "the video stream has no frame size");
  if ((uint64_t)par->width * (uint64_t)par->height > o->max_pixels)
    return vigil__seterr(err, VIGIL_ELIMIT, "frames of %dx%d pixels are over the limit of %llu", par->width,
                         par->height, (unsigned long long)o->max_pixels);
  AVRational r = vs->avg_frame_rate;
  if (r.num == 0 || r.den == 0) r = vs->r_frame_rate;
  st->fps = (double)r.num / (double)r.den;
  if (!(st->fps > 0) || !isfinite(st->fps))
    return vigil__seterr(err, VIGIL_ECORRUPT, "the video has no usable frame rate (%d/%d)", r.num, r.den);
  if (st->fps > o->max_fps)
    return vigil__seterr(err, VIGIL_ELIMIT, "frame rate %.3f is over the limit of %.0f", st->fps, o->max_fps);
  info->fps = st->fps;
  info->fps_num = r.num;
  info->fps_den = r.den;
  info->width = par->width;
  info->height = par->height;
  double m = o->seconds_per_hash * st->fps;
  st->frame_mod = m >= (double)INT_MAX ? INT_MAX : (int64_t)(int)m;
  if (st->frame_mod < 1) st->frame_mod = 1;
  st->dst_w = o->downsample_width > 0 ? o->downsample_width : par->width;
  st->dst_h = o->downsample_height > 0 ? o->downsample_height : par->height;
  if (st->dst_w < VIGIL__PDQ_MIN_DIM || st->dst_h < VIGIL__PDQ_MIN_DIM)
    return vigil__seterr(err, VIGIL_EFORMAT, "frames of %dx%d are too small to hash (a side under %d)", st->dst_w,
                         st->dst_h, VIGIL__PDQ_MIN_DIM);
  info->hash_width = st->dst_w;
  info->hash_height = st->dst_h;

  const AVCodec *codec = avcodec_find_decoder(par->codec_id);
  if (!codec)
    return vigil__seterr(err, VIGIL_EFORMAT, "no decoder for the video codec (%s)", avcodec_get_name(par->codec_id));
  snprintf(info->codec, sizeof info->codec, "%s", codec->name);
  if (!(st->cc = avcodec_alloc_context3(codec))) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  e = avcodec_parameters_to_context(st->cc, par);
  if (e < 0) return averr(err, VIGIL_ECORRUPT, "bad codec parameters", e);
  /* Decoded pictures do not depend on threads (the reference uses slice
   * threads where a codec has them).  Frame threads hold more frames in the
   * decoder, though, and those are the frames the end-of-file quirk loses
   * when the video is not stream 0: there, one thread keeps the count the
   * reference's. */
  int threads = o->threads;
  if (st->vi != 0 && !o->flush_all) threads = 1;
  st->cc->thread_count = threads;
  if (threads > 1) st->cc->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
  st->cc->max_pixels = (int64_t)(o->max_pixels > INT64_MAX ? INT64_MAX : o->max_pixels);
  e = avcodec_open2(st->cc, codec, NULL);
  if (e < 0) return averr(err, VIGIL_EFORMAT, "cannot open the video decoder", e);
  st->frame = av_frame_alloc();
  st->pkt = av_packet_alloc();
  if (!st->frame || !st->pkt) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  /* With threads, the selected frames are hashed in a thread of their own
   * while the decoder goes on (video_hasher.c). */
  return vigil__video_hasher_new(&st->hasher, o->threads > 1, st->dst_w, st->dst_h, st->fps, st->fn, st->ctx, err);
}

int vigil__video_decode(int fd, const char *url, const vigil_video_opts *o, const vigil__video_hooks *hooks,
                        vigil_video_frame_fn fn, void *ctx, vigil_video_info *info, vigil_error *err) {
  vigil_video_info local;
  if (!info) info = &local;
  memset(info, 0, sizeof *info);
  state st;
  memset(&st, 0, sizeof st);
  st.o = o;
  st.fn = fn;
  st.ctx = ctx;
  vigil__video_io *io = NULL;
  int rc = vigil__video_io_new(&io, fd, err);
  if (rc == VIGIL_OK) rc = open_input(&st, io, url, hooks, info, err);
  while (rc == VIGIL_OK) {
    int e = av_read_frame(st.fc, st.pkt);
    if (e < 0) break; /* end of file, or a damaged tail: hash what was read, as the reference does */
    if (st.pkt->stream_index == st.vi) rc = decode_packet(&st, st.pkt, err);
    av_packet_unref(st.pkt);
  }
  /* The reference's flush packet is a blank one: stream index 0. */
  if (rc == VIGIL_OK && (st.vi == 0 || o->flush_all)) rc = decode_packet(&st, NULL, err);
  if (rc == VIGIL_OK) {
    rc = vigil__video_hasher_finish(st.hasher, err);
  } else if (st.hasher) {
    /* As without threads: the frames before a failure reach the callback,
     * and what stopped at an earlier frame (its error, or the callback's
     * non-zero return, which sets no message) is what is reported. */
    vigil_error e2;
    vigil_error_clear(&e2);
    int rc2 = vigil__video_hasher_finish(st.hasher, &e2);
    if (rc2) {
      rc = rc2;
      if (err && e2.code) *err = e2;
      else if (err) vigil_error_clear(err);
    }
  }
  if (rc == VIGIL_OK) rc = vigil__video_io_finish(io, info, err);
  if (rc == VIGIL_OK) {
    info->frames = st.decoded;
    info->hashed = st.hashed;
    info->duration = (double)st.decoded / st.fps;
  }
  av_packet_free(&st.pkt);
  av_frame_free(&st.frame);
  vigil__video_hasher_free(st.hasher);
  avcodec_free_context(&st.cc);
  avformat_close_input(&st.fc);
  vigil__video_io_free(io);
  if (rc) {
    vigil_video_info keep = *info;
    memset(info, 0, sizeof *info);
    (void)keep;
  }
  return rc;
}
