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
 * One hash per second on H.264 (try_skip): a first, demux-only pass reads
 * every video packet's pts; then the packets are demuxed again and the
 * pictures nothing refers to (video_skip.c) whose numbers are not selected
 * are never sent to the decoder.  Each frame out is numbered by its pts rank,
 * which is its place in the decoder's output order.  Hashes are held until
 * the pass proves the numbering (the same packets again, frames out in rank
 * order, as many out as sent); anything else (and any input where that
 * cannot be known beforehand: a pipe, a missing or repeated pts, reordering
 * deeper than the decoder's delay, the end-of-file quirk) decodes every frame
 * from the start, as without the skip.  The digests are unaffected: the
 * reader digests each byte once, the first time it is read in order.
 *
 * Damage (conceal_as_reference): the reference's slice threads conceal a
 * damaged H.264 or VP9 picture otherwise than a plain decoder; a plain
 * decoder watches, and the first damage sends the video through again with
 * slice threads, the hashes already delivered not delivered twice.
 *
 * Bounded memory: one decoded frame, one RGB frame and the PDQ stream's
 * rows (with threads, a few decoded frames wait for the hashing thread:
 * video_hasher.c); hashes go to the callback as they are computed (the
 * reference keeps every frame it has yet to hash in an unbounded queue),
 * except in the skip pass, which holds one hash per selected frame until
 * its numbering is proven.
 */
#include "video/video_internal.h"
#include "video/video_gops.h"
#include "video/video_hasher.h"
#include "video/video_skip.h"
#include "common/grow.h"
#include "common/internal.h"
#include "common/ftyp.h"
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

/* Hashes held back from the callback while a plain decoder watches for
 * damage: a frame decoded after a damaged one (a B-frame referring to it)
 * can come out before it, at most the decoder's reorder depth (16 in
 * H.264) earlier. */
#define LAG 20

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
  uint64_t decoded, hashed, progress_at;
  double total_seconds;
  /* The skip pass (one hash per second on H.264, see skip_pass): */
  int skipping;          /* numbers come from pts ranks; hashes are held in out */
  vigil__pts_table pts;  /* every video packet's pts, from the demux-only pass */
  uint8_t *send;         /* by demux index: the decoder needs the packet */
  uint8_t *sent;         /* by rank: the packet went to the decoder */
  uint64_t nsent, nout;  /* packets sent, frames out */
  uint64_t skipped;      /* packets not sent, when the pass held */
  int64_t last_rank;     /* of the last frame out */
  vigil_video_frame *out; /* held hashes, in frame order */
  size_t nheld, cap_held;
  /* What the demux-only pass learned for the period-parallel pass (video_gops.c): */
  int skip;                  /* the skip pass may leave packets out */
  int gops;                  /* every in-band parameter set is the first packet's, none malformed */
  uint64_t params0;          /* the first packet's parameter sets (digest), 0: none */
  size_t nperiods;           /* IDR periods */
  uint64_t period_bytes, max_period_bytes;
  int malformed;             /* a packet the NAL parser did not understand */
  int one_thread;            /* decode with one thread: see try_skip */
  /* Damage and the reference's slice threads (see conceal_as_reference): */
  int damaged;               /* damage was met: decode as the reference conceals it */
  int watching;              /* this pass decodes plainly and starts again at the first damage */
  int64_t resume;            /* frames below this number were delivered by an earlier pass */
  vigil_video_frame lag[LAG];
  size_t nlag;               /* hashes held back, oldest first */
  int stopped;               /* the callback said stop: it is called no more */
} state;

/* The largest IDR period the period-parallel pass holds (workers + 2 of them
 * at most): a 2 s period of 1080p at 8 Mbit/s is 2 MiB. */
#define MAX_PERIOD_BYTES (16u << 20)

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

/* The hasher's callback (in this thread, in frame order): held while the
 * skip pass has yet to prove its numbering, else the caller's. */
/* The caller's callback, remembering a stop. */
static int call_back(state *st, const vigil_video_frame *f) {
  int rc = st->fn ? st->fn(st->ctx, f) : VIGIL_OK;
  if (rc) st->stopped = 1;
  return rc;
}

static int deliver(void *ctx, const vigil_video_frame *f) {
  state *st = ctx;
  if (f->frame_number < st->resume) return VIGIL_OK; /* an earlier pass delivered it */
  if (st->watching) { /* held back: see LAG */
    int rc = VIGIL_OK;
    if (st->nlag == LAG) {
      rc = call_back(st, &st->lag[0]);
      st->resume = st->lag[0].frame_number + 1;
      memmove(st->lag, st->lag + 1, (LAG - 1) * sizeof *st->lag);
      st->nlag--;
    }
    st->lag[st->nlag++] = *f;
    return rc;
  }
  if (!st->skipping) return call_back(st, f);
  /* out of memory: the pass falls back to hashing every frame as it goes */
  if (vigil__grow_from((void **)&st->out, &st->cap_held, st->nheld + 1, sizeof *st->out, 64) != VIGIL_OK)
    return VIGIL_ENOMEM;
  st->out[st->nheld++] = *f;
  return VIGIL_OK;
}

/* decode_packet's answer in the skip pass when the numbering cannot be
 * trusted: the video is decoded again, every frame (not an error). */
#define FALL_BACK 1

/* decode_packet's answer when a watching pass meets damage: the video is
 * decoded again as the reference decodes damaged video (not an error). */
#define REDO 2

/* The frame's number in the skip pass: its pts rank, when that frame was sent,
 * comes after the last one out and decoded cleanly; -1 otherwise. */
static int64_t skip_number(state *st) {
  int64_t pts = st->frame->pts;
  /* A damaged picture is concealed from the last one decoded, which
   * depends on what was skipped: decode everything instead. */
  if (st->frame->decode_error_flags || (st->frame->flags & AV_FRAME_FLAG_CORRUPT)) {
    st->damaged = 1;
    return -1;
  }
  if (pts == AV_NOPTS_VALUE) return -1;
  int64_t r = vigil__pts_table_rank(&st->pts, pts);
  if (r < 0 || r <= st->last_rank || !st->sent[r]) return -1;
  st->last_rank = r;
  st->nout++;
  return r;
}

/* Sends one packet (NULL: drain) and hashes what comes out.  VIGIL_OK, an
 * error, or FALL_BACK (skip pass only). */
static int decode_packet(state *st, const AVPacket *pkt, vigil_error *err) {
  int e = avcodec_send_packet(st->cc, pkt);
  if (e < 0 && e != AVERROR_EOF && st->watching) return REDO;
  if (e < 0 && e != AVERROR_EOF)
    return averr(err, VIGIL_ECORRUPT, "the decoder refused a packet", e);
  for (;;) {
    e = avcodec_receive_frame(st->cc, st->frame);
    if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) return VIGIL_OK;
    if (e < 0 && st->watching) return REDO;
    if (e < 0) return averr(err, VIGIL_ECORRUPT, "decoding failed", e);
    if (st->watching && (st->frame->decode_error_flags || (st->frame->flags & AV_FRAME_FLAG_CORRUPT))) {
      av_frame_unref(st->frame);
      return REDO;
    }
    int64_t number;
    if (st->skipping) {
      if ((number = skip_number(st)) < 0) {
        av_frame_unref(st->frame);
        return FALL_BACK;
      }
      st->decoded = (uint64_t)number + 1; /* frames the reference has output by now */
    } else {
      number = (int64_t)st->decoded++;
    }
    int rc = VIGIL_OK;
    if (st->decoded > st->o->max_frames)
      rc = vigil__seterr(err, VIGIL_ELIMIT, "over %llu frames (the frame limit)",
                         (unsigned long long)st->o->max_frames);
    else if ((double)number / st->fps > st->o->max_duration)
      rc = vigil__seterr(err, VIGIL_ELIMIT, "longer than %.0f s (the duration limit)", st->o->max_duration);
    else if ((uint64_t)st->frame->width * (uint64_t)st->frame->height > st->o->max_pixels)
      rc = vigil__seterr(err, VIGIL_ELIMIT, "frame of %dx%d pixels is over the limit of %llu", st->frame->width,
                         st->frame->height, (unsigned long long)st->o->max_pixels);
    else if (number % st->frame_mod == 0 && number >= st->resume &&
             (rc = vigil__video_hasher_put(st->hasher, st->frame, number, err)) == 0)
      st->hashed++;
    else if (number % st->frame_mod == 0 && number < st->resume)
      st->hashed++; /* delivered by the pass before */
    if (rc == VIGIL_OK && st->o->progress && st->decoded >= st->progress_at + 25) {
      st->progress_at = st->decoded - st->decoded % 25;
      st->o->progress(st->o->progress_ctx, st->decoded, (double)st->decoded / st->fps, st->total_seconds);
    }
    av_frame_unref(st->frame);
    if (rc) return rc;
  }
}

/* Whether a decoder's frame threads give one thread's pictures: those of
 * H.264, HEVC, VP8, VP9, AV1 and MPEG-4 Part 2 do on intact streams (the
 * clips of docs/video.md#conformance, 2 to 4 threads, again and again).
 * Others get slice threads only, as the reference: FFmpeg 5.1's VP3/Theora
 * decoder gave other pictures from run to run with frame threads. */
static int frame_threads_exact(enum AVCodecID id) {
  switch (id) {
  case AV_CODEC_ID_H264:
  case AV_CODEC_ID_HEVC:
  case AV_CODEC_ID_VP8:
  case AV_CODEC_ID_VP9:
  case AV_CODEC_ID_AV1:
  case AV_CODEC_ID_MPEG4: return 1;
  default: return 0;
  }
}

int vigil__video_test_conceal;

/* The reference decodes with slice threads (thread_type FF_THREAD_SLICE,
 * thread_count 0: one more than the cores) wherever a decoder has them, and
 * on damaged H.264 (and VP9) pictures libavcodec conceals damage otherwise
 * when slice threads are active, whatever their number: other pictures,
 * hashes up to 130 bits apart.  On intact video the pictures are the same
 * either way, and slice threads cost CPU where the decoder splits its
 * work (VP9: 1.43x the plain decode in bench_video; H.264 with one slice a
 * picture: no difference beyond noise) and add threads to every video, so
 * a plain decoder watches for damage (a frame marked damaged,
 * a packet refused); at the first, the video is decoded again from the
 * start with slice threads (2: enough to make them active), and what was
 * already delivered is not delivered again.  The hashes of the last LAG
 * frames are held back until then.  The reference on one core has no slice
 * threads, so its own output on damaged video depends on the machine;
 * vigil gives what it gives on two cores or more, where hash lists are
 * made.  With frame threads (threads > 1) the second pass is the same one
 * decoder with slice threads, the hashing thread beside it. */
static void conceal_as_reference(state *st, const AVCodec *codec, int threads) {
  int slices = (codec->capabilities & AV_CODEC_CAP_SLICE_THREADS) != 0;
  st->watching = 0;
  st->nlag = 0;
  if (vigil__video_test_conceal == 1) return;
  if (vigil__video_test_conceal == 2 && threads == 1) st->damaged = 1;
  if (st->damaged) { /* threads is 1 */
    if (slices) {
      st->cc->thread_count = 2;
      st->cc->thread_type = FF_THREAD_SLICE;
    }
  } else {
    /* frame threads conceal damage their own way too (and not the same way
     * twice): the same watch, and one decoder for the second pass */
    st->watching = threads == 1 ? slices : frame_threads_exact(codec->id);
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
  /* A HEIF or AVIF picture is an ISO media file that the mov demuxer would
   * open; it is a picture, refused here whoever sent it as a video.  The
   * first bytes are read into the reader's buffer and the reader is put
   * back where it was, within that buffer (no seek, so a pipe works). */
  uint8_t head[12];
  int got = avio_read(st->fc->pb, head, (int)sizeof head);
  if (got > 0) {
    const char *pic = vigil__ftyp_image_name(vigil__ftyp_image_of(head, (size_t)got));
    if (pic)
      return vigil__seterr(err, VIGIL_EFORMAT, "%s still picture, not a video (a format vigil does not decode)", pic);
    if (avio_seek(st->fc->pb, -(int64_t)got, SEEK_CUR) < 0)
      return vigil__seterr(err, VIGIL_EIO, "cannot go back over the first bytes of the input");
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
  if ((st->vi != 0 && !o->flush_all) || st->one_thread || st->damaged) threads = 1;
  st->cc->thread_count = threads;
  if (threads > 1) st->cc->thread_type = frame_threads_exact(par->codec_id) ? FF_THREAD_FRAME | FF_THREAD_SLICE
                                                                             : FF_THREAD_SLICE;
  conceal_as_reference(st, codec, threads);
  st->cc->max_pixels = (int64_t)(o->max_pixels > INT64_MAX ? INT64_MAX : o->max_pixels);
  e = avcodec_open2(st->cc, codec, NULL);
  if (e < 0) return averr(err, VIGIL_EFORMAT, "cannot open the video decoder", e);
  st->frame = av_frame_alloc();
  st->pkt = av_packet_alloc();
  if (!st->frame || !st->pkt) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  /* With threads, the selected frames are hashed in a thread of their own
   * while the decoder goes on (video_hasher.c). */
  return vigil__video_hasher_new(&st->hasher, o->threads > 1, st->dst_w, st->dst_h, st->fps, deliver, st, err);
}

/* Frees what open_input made (the reader stays). */
static void close_input(state *st) {
  av_packet_free(&st->pkt);
  av_frame_free(&st->frame);
  vigil__video_hasher_free(st->hasher);
  st->hasher = NULL;
  avcodec_free_context(&st->cc);
  avformat_close_input(&st->fc);
}

/* Whether the frames can be numbered before they are decoded (the skip
 * pass, the period-parallel pass): H.264, a reader that can go back, and the
 * decoder drained at the end (the end-of-file quirk loses the frames the
 * decoder holds, and which those are depends on what it was sent).  Returns
 * the NAL length size, or -1 when not.  The skip pass also needs one hash
 * per several frames; the period-parallel pass, threads. */
static int numbering_eligible(state *st) {
  const AVCodecParameters *par = st->fc->streams[st->vi]->codecpar;
  if (par->codec_id != AV_CODEC_ID_H264) return -1;
  st->skip = st->o->skip_nonref && st->frame_mod >= 2;
  if (!st->skip && st->o->threads < 2) return -1;
  if (!st->fc->pb || !(st->fc->pb->seekable & AVIO_SEEKABLE_NORMAL)) return -1;
  if (st->vi != 0 && !st->o->flush_all) return -1;
  return vigil__h264_nal_length_size(par->extradata, par->extradata_size > 0 ? (size_t)par->extradata_size : 0);
}

/* The demux-only pass: every video packet's pts and kind into st->pts, and
 * the plan of which to send into st->send.  1 when the skip pass can number
 * frames by pts rank, 0 when it cannot, or an error. */
static int read_pts(state *st, int nal_ls, vigil_error *err) {
  uint64_t n = 0;
  int ok = 1;
  st->gops = 1;
  while (ok) {
    int e = av_read_frame(st->fc, st->pkt);
    if (e < 0) break;
    if (st->pkt->stream_index == st->vi) {
      const AVPacket *p = st->pkt;
      unsigned kind;
      uint64_t params;
      if (vigil__h264_scan(p->data, p->size > 0 ? (size_t)p->size : 0, nal_ls, &kind, &params) != 0)
        st->gops = 0, st->malformed = 1;
      if (n == 0) st->params0 = params;
      else if (params && params != st->params0) st->gops = 0; /* a decoder starting later would not know them */
      if (kind & VIGIL__AU_IDR) {
        st->nperiods++;
        st->period_bytes = 0;
      }
      st->period_bytes += p->size > 0 ? (uint64_t)p->size : 0;
      if (st->period_bytes > st->max_period_bytes) st->max_period_bytes = st->period_bytes;
      if (p->flags & AV_PKT_FLAG_DISCARD) kind |= VIGIL__AU_DISCARD;
      if (p->pts == AV_NOPTS_VALUE || ++n > st->o->max_frames ||
          av_packet_get_side_data(p, AV_PKT_DATA_NEW_EXTRADATA, NULL) || (n == 1 && !(kind & VIGIL__AU_IDR)))
        ok = 0;
      else if (vigil__pts_table_add(&st->pts, p->pts, kind) != VIGIL_OK)
        ok = -1;
    }
    av_packet_unref(st->pkt);
  }
  if (ok < 0) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory for the frame table");
  if (!ok || n == 0) return 0;
  int rc = vigil__pts_table_finish(&st->pts);
  if (rc == VIGIL_ENOMEM) return vigil__seterr(err, rc, "out of memory for the frame table");
  if (rc != VIGIL_OK || st->pts.nranked == 0) return 0; /* a repeated pts */
  /* The limits: when the whole video is over one, the every-frame pass says so. */
  if ((double)(st->pts.nranked - 1) / st->fps > st->o->max_duration) return 0;
  /* Output order is rank order only when the decoder holds back enough
   * frames from the start (it never has to raise its delay). */
  if (vigil__pts_table_delay(&st->pts) > (size_t)st->cc->has_b_frames) return 0;
  st->sent = calloc(st->pts.nranked, 1);
  st->send = malloc(st->pts.n);
  if (!st->sent || !st->send) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory for the frame table");
  if (st->skip) vigil__pts_table_plan(&st->pts, st->frame_mod, st->send);
  else memset(st->send, 1, st->pts.n);
  return 1;
}

size_t vigil__video_test_skip_fallback;

/* The skip pass, after read_pts: packets demuxed again must be the same ones;
 * those the plan says nothing selected needs are not sent; each frame out is
 * numbered by its pts rank and must come in rank order, and as many frames
 * must come out as were sent.  VIGIL_OK (hashes in st->out) or FALL_BACK. */
static int skip_pass(state *st, vigil_error *err) {
  st->watching = 0; /* damage is seen by skip_number, and ends the pass */
  st->skipping = 1;
  st->last_rank = -1;
  size_t j = 0;
  int rc = VIGIL_OK;
  while (rc == VIGIL_OK) {
    int e = av_read_frame(st->fc, st->pkt);
    if (e < 0) break;
    const AVPacket *p = st->pkt;
    if (p->stream_index == st->vi) {
      int64_t r;
      int discard = j < st->pts.n && (st->pts.kind[j] & VIGIL__AU_DISCARD);
      if (j >= st->pts.n || p->pts != st->pts.order[j] || !discard != !(p->flags & AV_PKT_FLAG_DISCARD) ||
          (vigil__video_test_skip_fallback && j + 1 == vigil__video_test_skip_fallback))
        rc = FALL_BACK;
      else if (!st->send[j++])
        ; /* nothing selected needs it */
      else if (discard) /* decoded for the pictures that refer to it; its frame is not output */
        rc = decode_packet(st, p, err);
      else if ((r = vigil__pts_table_rank(&st->pts, p->pts)) < 0)
        rc = FALL_BACK;
      else {
        st->sent[r] = 1;
        st->nsent++;
        rc = decode_packet(st, p, err);
      }
    }
    av_packet_unref(st->pkt);
  }
  if (rc == VIGIL_OK) rc = decode_packet(st, NULL, err);
  if (rc == VIGIL_OK) rc = vigil__video_hasher_finish(st->hasher, err); /* every hash held */
  if (rc == VIGIL_OK && (j != st->pts.n || st->nout != st->nsent)) rc = FALL_BACK;
  /* An error here (a packet refused, a limit) may not be the one, or may
   * not come where, decoding every frame meets it: that pass says.  Out of
   * memory for the held hashes too: that pass holds none. */
  if (rc < 0) rc = FALL_BACK;
  if (rc == VIGIL_OK) st->decoded = st->pts.nranked;
  st->skipping = 0;
  st->skipped = st->pts.nranked - st->nsent;
  return rc;
}

/* Back to the start of the file with a fresh demuxer and decoder, for the
 * every-frame pass: the same as the first opening, so the same packets. */
static int reopen(state *st, vigil__video_io *io, const char *url, vigil_video_info *info, vigil_error *err) {
  close_input(st);
  st->decoded = st->hashed = st->progress_at = 0;
  st->nheld = 0;
  if (avio_seek((AVIOContext *)vigil__video_io_avio(io), 0, SEEK_SET) < 0)
    return vigil__seterr(err, VIGIL_EIO, "cannot read the input again from its start");
  return open_input(st, io, url, NULL, info, err);
}

/* Seeks the demuxer to the start of the file: by timestamp, or to byte 0. */
static int seek_start(state *st, int byte) {
  if (byte) return av_seek_frame(st->fc, -1, 0, AVSEEK_FLAG_BYTE) >= 0;
  int64_t first = st->fc->streams[st->vi]->start_time;
  return av_seek_frame(st->fc, st->vi, first == AV_NOPTS_VALUE ? INT64_MIN : first, AVSEEK_FLAG_BACKWARD) >= 0;
}

/* Whether the next video packet is the file's first (as read_pts saw it). */
static int at_first_packet(state *st) {
  for (;;) {
    if (av_read_frame(st->fc, st->pkt) < 0) return 0;
    int video = st->pkt->stream_index == st->vi;
    int64_t pts = st->pkt->pts;
    av_packet_unref(st->pkt);
    if (video) return pts == st->pts.order[0];
  }
}

/* Back to the first packet without reopening (which would probe the stream
 * again): a timestamp seek (MP4, Matroska), else a byte seek to 0 (MPEG-TS,
 * whose timestamp seek lands near the start, not on it).  Each is tried,
 * then made again for real; skip_pass checks every packet after.  1 when
 * there. */
static int rewind_demuxer(state *st) {
  int byte_ok = !(st->fc->iformat->flags & AVFMT_NO_BYTE_SEEK);
  for (int byte = 0; byte <= byte_ok; byte++)
    if (seek_start(st, byte) && at_first_packet(st) && seek_start(st, byte)) return 1;
  return 0;
}

/* The period-parallel pass (video_gops.c), after read_pts: VIGIL_OK with
 * the hashes in st->out, or FALL_BACK. */
static int gops_pass(state *st) {
  size_t nslots = (st->pts.nranked + (size_t)st->frame_mod - 1) / (size_t)st->frame_mod;
  free(st->out);
  st->nheld = st->cap_held = 0;
  if (!(st->out = vigil__mallocarray(nslots ? nslots : 1, sizeof *st->out))) return FALL_BACK;
  st->cap_held = nslots;
  vigil__gops_job job = {.fc = st->fc,
                         .vi = st->vi,
                         .pts = &st->pts,
                         .send = st->send,
                         .sent = st->sent,
                         .frame_mod = st->frame_mod,
                         .dst_w = st->dst_w,
                         .dst_h = st->dst_h,
                         .fps = st->fps,
                         .max_pixels = st->o->max_pixels,
                         .workers = (unsigned)st->o->threads,
                         .out = st->out,
                         .progress = st->o->progress,
                         .progress_ctx = st->o->progress_ctx,
                         .total_seconds = st->total_seconds};
  uint64_t nsent = 0;
  if (vigil__video_gops_run(&job, &nsent) != VIGIL_OK) return FALL_BACK;
  st->nheld = nslots;
  st->hashed = nslots;
  st->decoded = st->pts.nranked;
  st->skipped = st->pts.nranked - nsent;
  atomic_fetch_add(&vigil__video_test_gops_done, 1);
  return VIGIL_OK;
}

/* Tries the period-parallel pass (threads) or the skip pass; VIGIL_OK with
 * *done when it hashed the video, VIGIL_OK without when the input is back at
 * its start for the every-frame pass. */
static int try_skip(state *st, vigil__video_io *io, const char *url, vigil_video_info *info, int *done,
                    vigil_error *err) {
  *done = 0;
  int nal_ls = numbering_eligible(st);
  if (nal_ls < 0) return VIGIL_OK;
  int rc = read_pts(st, nal_ls, err);
  if (rc < 0) return rc;
  int gops = rc == 1 && st->o->threads > 1 && st->gops && st->nperiods >= 2 &&
             st->max_period_bytes <= MAX_PERIOD_BYTES;
  if (rc == 1 && (gops || st->skip) && rewind_demuxer(st)) {
    rc = gops ? gops_pass(st) : skip_pass(st, err);
    if (rc == VIGIL_OK) {
      *done = 1;
      return VIGIL_OK;
    }
    if (err) vigil_error_clear(err); /* what made the pass give up is not the caller's error */
    /* A damaged picture is concealed from other pictures, and with frame
     * threads not always from the ones one thread uses: where damage is
     * likely (the period-parallel pass gave up, or a packet made no
     * sense), one decoder thread gives the reference's frames. */
    if (gops) st->one_thread = 1;
  }
  if (st->malformed) st->one_thread = 1;
  return reopen(st, io, url, info, err);
}

/* Every frame from where the demuxer stands, then the drain; VIGIL_OK (every
 * hash delivered), an error, or REDO (a watching pass met damage: nothing
 * held back was delivered, st->resume says what was). */
static int every_frame_pass(state *st, vigil_error *err) {
  int rc = VIGIL_OK;
  while (rc == VIGIL_OK) {
    int e = av_read_frame(st->fc, st->pkt);
    if (e < 0) break; /* end of file, or a damaged tail: hash what was read, as the reference does */
    if (st->pkt->stream_index == st->vi) rc = decode_packet(st, st->pkt, err);
    av_packet_unref(st->pkt);
  }
  /* The reference's flush packet is a blank one: stream index 0. */
  if (rc == VIGIL_OK && (st->vi == 0 || st->o->flush_all)) rc = decode_packet(st, NULL, err);
  if (rc == VIGIL_OK) {
    rc = vigil__video_hasher_finish(st->hasher, err);
  } else if (st->hasher) {
    /* As without threads: the frames before a failure reach the callback,
     * and what stopped at an earlier frame (its error, or the callback's
     * non-zero return, which sets no message) is what is reported.  With
     * REDO, what the hashing thread still had goes to the held-back hashes. */
    vigil_error e2;
    vigil_error_clear(&e2);
    int rc2 = vigil__video_hasher_finish(st->hasher, &e2);
    if (rc2) {
      rc = rc2;
      if (err && e2.code) *err = e2;
      else if (err) vigil_error_clear(err);
    }
  }
  if (rc == REDO) return REDO;
  /* The held-back hashes: the pass is over, no damage can take them back.
   * They are of frames before whatever ended it (a limit, an error), so
   * they reach the callback as without the watch, unless it said stop;
   * if it says stop now, that came first and is what is reported. */
  int watching = st->watching;
  st->watching = 0;
  for (size_t i = 0; watching && !st->stopped && i < st->nlag; i++) {
    int rc2 = deliver(st, &st->lag[i]);
    if (rc2) {
      rc = rc2;
      if (err) vigil_error_clear(err);
    }
  }
  st->nlag = 0;
  return rc;
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
  int skipped = 0;
  int rc = vigil__video_io_new(&io, fd, err);
  if (rc == VIGIL_OK) rc = open_input(&st, io, url, hooks, info, err);
  if (rc == VIGIL_OK) rc = try_skip(&st, io, url, info, &skipped, err);
  if (rc == VIGIL_OK && skipped) { /* the numbering held: hand the hashes over */
    for (size_t i = 0; rc == VIGIL_OK && fn && i < st.nheld; i++) rc = fn(ctx, &st.out[i]);
  } else if (rc == VIGIL_OK) {
    rc = every_frame_pass(&st, err);
    if (rc == REDO) { /* damage, concealed otherwise than by the reference: see conceal_as_reference */
      st.damaged = 1;
      rc = reopen(&st, io, url, info, err);
      if (rc == VIGIL_OK) rc = every_frame_pass(&st, err);
    }
  }
  if (rc == VIGIL_OK) rc = vigil__video_io_finish(io, info, err);
  if (rc == VIGIL_OK) {
    info->frames = st.decoded;
    info->hashed = st.hashed;
    info->skipped = skipped ? st.skipped : 0;
    info->duration = (double)st.decoded / st.fps;
  }
  close_input(&st);
  vigil__pts_table_free(&st.pts);
  free(st.sent);
  free(st.send);
  free(st.out);
  vigil__video_io_free(io);
  if (rc) memset(info, 0, sizeof *info);
  return rc;
}
