/* SPDX-License-Identifier: Apache-2.0 */
/*
 * video.c - the public video API: options, files and descriptors, the
 * reference's line format and content sniffing.  The work is done by
 * video_decode.c, in a sandboxed worker (video_sandbox.c) unless the caller
 * turned the sandbox off.
 */
#include "video/video_internal.h"
#include "common/internal.h"
#include "common/ftyp.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void vigil_video_opts_default(vigil_video_opts *o) {
  memset(o, 0, sizeof *o);
  o->seconds_per_hash = 1;
  o->sandbox = 1;
  o->threads = 1;
  /* The switch for diagnosis: the same output either way, so a difference
   * between the two is a bug worth a report. */
  const char *skip = getenv("VIGIL_VIDEO_SKIP");
  o->skip_nonref = !(skip && !strcmp(skip, "0"));
  o->max_pixels = 40000000;
  o->max_frames = 2000000;
  o->max_duration = 6 * 3600;
  o->max_fps = 1000;
  o->max_memory = (uint64_t)4 << 30;
  o->max_cpu_seconds = 3600;
  o->max_wall_seconds = 3600;
}

int vigil__video_check_opts(const vigil_video_opts *o, vigil_error *err) {
  if (!(o->seconds_per_hash >= 0) || !isfinite(o->seconds_per_hash) || o->seconds_per_hash > 1e6)
    return vigil__seterr(err, VIGIL_EINVAL, "seconds per hash must be between 0 and 1000000");
  if ((o->downsample_width > 0) != (o->downsample_height > 0) || o->downsample_width < 0 ||
      o->downsample_height < 0)
    return vigil__seterr(err, VIGIL_EINVAL, "give both downsample sides or neither");
  if (o->downsample_width > 0 &&
      (o->downsample_width < 5 || o->downsample_height < 5 || o->downsample_width > 16384 ||
       o->downsample_height > 16384))
    return vigil__seterr(err, VIGIL_EINVAL, "downsample size %dx%d: sides must be 5..16384", o->downsample_width,
                         o->downsample_height);
  if (o->threads < 1 || o->threads > 64)
    return vigil__seterr(err, VIGIL_EINVAL, "decoder threads must be 1..64, not %d", o->threads);
  if (!o->max_pixels || !o->max_frames || !(o->max_duration > 0) || !(o->max_fps > 0))
    return vigil__seterr(err, VIGIL_EINVAL, "video limits must be positive");
  if (o->sandbox && (!o->max_cpu_seconds || !o->max_wall_seconds || o->max_memory < ((uint64_t)64 << 20)))
    return vigil__seterr(err, VIGIL_EINVAL, "sandbox limits: CPU and wall time must be positive, memory 64 MiB or more");
  return VIGIL_OK;
}

static int hash_fd_url(int fd, const char *url, const vigil_video_opts *opts, vigil_video_frame_fn fn, void *ctx,
                       vigil_video_info *info, vigil_error *err) {
  vigil_video_opts def;
  if (!opts) {
    vigil_video_opts_default(&def);
    opts = &def;
  }
  if (info) memset(info, 0, sizeof *info);
  int rc = vigil__video_check_opts(opts, err);
  if (rc) return rc;
  if (opts->sandbox) return vigil__video_decode_sandboxed(fd, url, opts, fn, ctx, info, err);
  return vigil__video_decode(fd, url, opts, NULL, fn, ctx, info, err);
}

int vigil_video_hash_fd(int fd, const vigil_video_opts *opts, vigil_video_frame_fn fn, void *ctx,
                        vigil_video_info *info, vigil_error *err) {
  if (fd < 0) return vigil__seterr(err, VIGIL_EINVAL, "bad file descriptor");
  return hash_fd_url(fd, NULL, opts, fn, ctx, info, err);
}

int vigil_video_hash_file(const char *path, const vigil_video_opts *opts, vigil_video_frame_fn fn, void *ctx,
                          vigil_video_info *info, vigil_error *err) {
  if (info) memset(info, 0, sizeof *info);
  if (!path) return vigil__seterr(err, VIGIL_EINVAL, "missing path");
  if (opts) {
    int rc = vigil__video_check_opts(opts, err);
    if (rc) return rc;
  }
  int fd;
  do fd = open(path, O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return vigil__seterr(err, VIGIL_EIO, "cannot open: %s", strerror(errno));
  int rc = hash_fd_url(fd, path, opts, fn, ctx, info, err);
  close(fd);
  return rc;
}

typedef struct collect {
  vigil_video_frame *v;
  size_t n, cap;
} collect;

static int collect_fn(void *ctx, const vigil_video_frame *f) {
  collect *c = ctx;
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 64;
    vigil_video_frame *nv = vigil__mallocarray(cap, sizeof *nv);
    if (!nv) return VIGIL_ENOMEM;
    if (c->n) memcpy(nv, c->v, c->n * sizeof *nv);
    free(c->v);
    c->v = nv;
    c->cap = cap;
  }
  c->v[c->n++] = *f;
  return VIGIL_OK;
}

int vigil_video_hash_all(const char *path, const vigil_video_opts *opts, vigil_video_frame **frames,
                         size_t *nframes, vigil_video_info *info, vigil_error *err) {
  if (!frames || !nframes) return vigil__seterr(err, VIGIL_EINVAL, "missing argument");
  *frames = NULL;
  *nframes = 0;
  collect c = {0};
  int rc = vigil_video_hash_file(path, opts, collect_fn, &c, info, err);
  if (rc == VIGIL_ENOMEM && (!err || !err->message[0])) vigil__seterr(err, rc, "out of memory for frame hashes");
  if (rc) {
    free(c.v);
    return rc;
  }
  *frames = c.v;
  *nframes = c.n;
  return VIGIL_OK;
}

void vigil_video_frames_free(vigil_video_frame *frames) { free(frames); }

int vigil_video_format_line(const vigil_video_frame *f, char out[VIGIL_VIDEO_LINE_MAX]) {
  char hex[VIGIL_PDQ_HEX_LEN + 1];
  vigil_pdq_to_hex(&f->hash, hex);
  int n = snprintf(out, VIGIL_VIDEO_LINE_MAX, "%lld,%d,%s,%.3f", (long long)f->frame_number, f->quality, hex,
                   f->timestamp);
  return n < VIGIL_VIDEO_LINE_MAX ? n : VIGIL_VIDEO_LINE_MAX - 1;
}

int vigil_video_sniff(const void *data, size_t len) {
  const uint8_t *p = data;
  if (!p || len < 12) return 0;
  /* HEIF and AVIF pictures are ISO base media files too: pictures, not video */
  if (vigil__ftyp_image_of(p, len)) return 0;
  /* ISO base media (MP4, MOV, 3GP): a box type among the usual first ones. */
  static const char *const boxes[] = {"ftyp", "moov", "mdat", "free", "wide", "skip", "pnot"};
  for (size_t i = 0; i < sizeof boxes / sizeof *boxes; i++)
    if (!memcmp(p + 4, boxes[i], 4)) return 1;
  /* Containers by their magic (each a demuxer of FORMATS in video_decode.c). */
  static const struct {
    const char *magic;
    size_t len;
  } magics[] = {
      {"\x1a\x45\xdf\xa3", 4},                                     /* Matroska, WebM */
      {"FLV\x01", 4},                                                /* FLV */
      {"OggS", 4},                                                   /* Ogg (Theora) */
      {"\x30\x26\xb2\x75\x8e\x66\xcf\x11", 8},                     /* ASF, WMV */
      {"\x00\x00\x01\xba", 4},                                     /* MPEG program stream */
      {"\x00\x00\x01\xb3", 4},                                     /* MPEG-1/2 video, a sequence header */
      {"\x00\x00\x01\xb0", 4},                                     /* MPEG-4 Part 2 video, elementary */
      {"DKIF", 4},                                                   /* IVF (VP8, VP9, AV1) */
      {"nut/multimedia container", 24},                              /* NUT */
      {"YUV4MPEG2 ", 10},                                            /* YUV4MPEG2 (raw frames) */
      {".RMF", 4},                                                   /* RealMedia */
      {"\x06\x0e\x2b\x34\x02\x05\x01\x01\x0d\x01\x02", 11},         /* MXF, a partition pack */
      {"\xb7\xd8\x00\x20\x37\x49\xda\x11\xa6\x4e\x00\x07", 12},     /* WTV */
      {"\x12\x00\x0a", 3},                                          /* AV1 OBUs: temporal unit, sequence header */
  };
  for (size_t i = 0; i < sizeof magics / sizeof *magics; i++)
    if (len >= magics[i].len && !memcmp(p, magics[i].magic, magics[i].len)) return 1;
  if (!memcmp(p, "RIFF", 4) && !memcmp(p + 8, "AVI ", 4)) return 1;                  /* AVI */
  if (len >= 377 && p[0] == 0x47 && p[188] == 0x47 && p[376] == 0x47) return 1;     /* MPEG-TS */
  if (p[0] == 0 && p[1] == 0 && (p[2] & 0xfc) == 0x80) return 1;                     /* H.263: a picture start code */
  if (p[0] == 0x1f && p[1] == 0x07 && p[2] == 0x00 && (p[3] & 0x7f) == 0x3f) return 1; /* DV: a DIF header */
  /* H.264 and HEVC elementary streams: a start code, then a parameter set
   * or an access unit delimiter (H.264: an SPS, whose nal_ref_idc is never
   * 0, or an AUD; HEVC: a VPS or an AUD of layer 0, temporal id 0). */
  int at = !memcmp(p, "\x00\x00\x00\x01", 4) ? 4 : !memcmp(p, "\x00\x00\x01", 3) ? 3 : 0;
  if (at) {
    unsigned b = p[at], b2 = p[at + 1];
    if ((b & 0x9f) == 0x07 && (b & 0x60)) return 1;       /* H.264 SPS */
    if (b == 0x09) return 1;                               /* H.264 AUD */
    if ((b == 0x40 || b == 0x46) && b2 == 0x01) return 1; /* HEVC VPS, AUD */
  }
  return 0;
}
