/* SPDX-License-Identifier: Apache-2.0 */
/*
 * image.c - format detection, limits and the hash-a-file entry points.
 *
 * The format comes from the magic bytes alone; the decoder for it streams
 * rows into a pixel sink (pixsink.c) that hashes as it goes.
 */
#include "media/decode.h"
#include "common/internal.h"
#include "common/grow.h"
#include "common/ftyp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

void vigil_hash_opts_default(vigil_hash_opts *o) {
  memset(o, 0, sizeof *o);
  o->mode = VIGIL_MODE_FULLRES;
  o->max_pixels = VIGIL_DEFAULT_MAX_PIXELS;
  o->max_bytes = VIGIL_DEFAULT_MAX_BYTES;
  o->min_rows_percent = VIGIL_DEFAULT_MIN_ROWS_PERCENT;
}

const char *vigil_image_format_name(vigil_image_format f) {
  switch (f) {
  case VIGIL_FMT_JPEG: return "jpeg";
  case VIGIL_FMT_PNG: return "png";
  case VIGIL_FMT_WEBP: return "webp";
  case VIGIL_FMT_GIF: return "gif";
  case VIGIL_FMT_BMP: return "bmp";
  default: return "unknown";
  }
}

vigil_image_format vigil_image_sniff(const void *data, size_t len) {
  const uint8_t *p = data;
  if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return VIGIL_FMT_JPEG;
  if (len >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) return VIGIL_FMT_PNG;
  if (len >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4)) return VIGIL_FMT_WEBP;
  if (len >= 6 && (!memcmp(p, "GIF87a", 6) || !memcmp(p, "GIF89a", 6))) return VIGIL_FMT_GIF;
  if (len >= 14 && p[0] == 'B' && p[1] == 'M') return VIGIL_FMT_BMP;
  return VIGIL_FMT_UNKNOWN;
}

/* A name for common formats we do not decode, for a clearer error. */
static const char *unsupported_name(const uint8_t *p, size_t len) {
  if (len >= 4 && (!memcmp(p, "II*\0", 4) || !memcmp(p, "MM\0*", 4))) return "TIFF";
  if (len >= 12 && !memcmp(p + 4, "ftyp", 4)) {
    const char *pic = vigil__ftyp_image_name(vigil__ftyp_image_of(p, len));
    return pic ? pic : "an ISO media file (MP4/MOV; use video hashing)";
  }
  if (len >= 4 && !memcmp(p, "%PDF", 4)) return "PDF";
  if (len >= 4 && !memcmp(p, "8BPS", 4)) return "Photoshop PSD";
  if (len >= 12 && !memcmp(p, "\0\0\0\x0cjXL ", 8)) return "JPEG XL";
  if (len >= 2 && p[0] == 0xFF && p[1] == 0x0A) return "JPEG XL";
  if (len >= 4 && !memcmp(p, "\0\0\1\0", 4)) return "ICO";
  return NULL;
}

int vigil__check_dims(int64_t w, int64_t h, const vigil_hash_opts *o, const char *what, vigil_error *err) {
  if (w <= 0 || h <= 0)
    return vigil__seterr(err, VIGIL_ECORRUPT, "%s header gives an empty picture (%lldx%lld)", what,
                         (long long)w, (long long)h);
  uint64_t px = (uint64_t)w * (uint64_t)h;
  if (w > INT32_MAX / 4 || h > INT32_MAX / 4 || px > o->max_pixels)
    return vigil__seterr(err, VIGIL_ELIMIT,
                         "%s picture is %lldx%lld = %llu pixels, over the limit of %llu (decompression bomb?)",
                         what, (long long)w, (long long)h, (unsigned long long)px,
                         (unsigned long long)o->max_pixels);
  return VIGIL_OK;
}

/* The hashing state (pdq_stream.c): a few float vectors per column and a
 * vertical window of about height/128 rows of floats, rounded up. */
static uint64_t sink_bytes(int64_t w, int64_t h) { return (uint64_t)w * (uint64_t)(320 + 8 * (h / 128 + 2)); }

int vigil__check_mem(uint64_t decoder, int64_t w, int64_t h, const vigil_hash_opts *o, const char *what,
                     vigil_error *err) {
  if (!o->max_decode_bytes) return VIGIL_OK;
  uint64_t need = decoder + sink_bytes(w, h);
  if (need > o->max_decode_bytes)
    return vigil__seterr(err, VIGIL_ELIMIT,
                         "%s picture of %lldx%lld needs about %llu bytes to decode, over the decode memory budget "
                         "of %zu",
                         what, (long long)w, (long long)h, (unsigned long long)need, o->max_decode_bytes);
  return VIGIL_OK;
}

static int min_pct(const vigil_hash_opts *o) {
  int pct = o->min_rows_percent;
  if (pct <= 0) pct = VIGIL_DEFAULT_MIN_ROWS_PERCENT;
  return pct > 100 ? 100 : pct;
}

int vigil__damaged_enough(int good, int h, const vigil_hash_opts *o) {
  int pct = min_pct(o);
  return h > 0 && pct < 100 && (int64_t)good * 100 >= (int64_t)pct * h;
}

int vigil__damaged(vigil__pixsink *sink, int good, const vigil_hash_opts *o, vigil_image_info *info,
                   const char *what, const char *why, vigil_error *err) {
  int h = sink->height, pct = min_pct(o);
  if (good < 0) good = 0;
  if (good > h) good = h;
  info->damaged = 1;
  info->rows_decoded = good;
  if (!sink->begun || !vigil__damaged_enough(good, h, o))
    return vigil__seterr(err, VIGIL_ECORRUPT,
                         "damaged %s (%s): only %d of %d rows decode (%d%%), under the %d%% needed to hash a "
                         "damaged picture",
                         what, why, good, h, h > 0 ? (int)((int64_t)good * 100 / h) : 0, pct);
  if (sink->src_y < h) {
    size_t n = (size_t)sink->width * (sink->grey ? 1 : 3);
    uint8_t *row = malloc(n);
    if (!row) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    memset(row, 128, n);
    while (sink->src_y < h) vigil__pixsink_row(sink, row);
    free(row);
  }
  return VIGIL_OK;
}

int vigil_hash_memory(const void *data, size_t len, const vigil_hash_opts *opts, vigil_pdq_result *out,
                      vigil_image_info *info, vigil_error *err) {
  vigil_hash_opts defaults;
  vigil_image_info local;
  if (!opts) {
    vigil_hash_opts_default(&defaults);
    opts = &defaults;
  }
  if (!info) info = &local;
  memset(info, 0, sizeof *info);
  if (!data || !out) return vigil__seterr(err, VIGIL_EINVAL, "missing argument");
  memset(out, 0, sizeof *out);
  if (len == 0) return vigil__seterr(err, VIGIL_ECORRUPT, "empty input");
  if (len > opts->max_bytes)
    return vigil__seterr(err, VIGIL_ELIMIT, "input is %zu bytes, over the limit of %zu", len, opts->max_bytes);
  vigil_image_format f = vigil_image_sniff(data, len);
  vigil__decoder dec = NULL;
  switch (f) {
  case VIGIL_FMT_JPEG: dec = vigil__decode_jpeg; break;
  case VIGIL_FMT_PNG: dec = vigil__decode_png; break;
  case VIGIL_FMT_WEBP: dec = vigil__decode_webp; break;
  case VIGIL_FMT_GIF: dec = vigil__decode_gif; break;
  case VIGIL_FMT_BMP: dec = vigil__decode_bmp; break;
  default: {
    const char *name = unsupported_name(data, len);
    if (name) return vigil__seterr(err, VIGIL_EFORMAT, "unsupported format: %s", name);
    return vigil__seterr(err, VIGIL_EFORMAT, "unsupported format: not a JPEG, PNG, WebP, GIF or BMP image");
  }
  }
  info->format = f;
  info->rows_decoded = -1;
  vigil__pixsink sink;
  vigil__pixsink_init(&sink, opts->mode, opts->dihedral);
  int rc = dec(data, len, opts, &sink, info, err);
  if (rc == VIGIL_OK) rc = vigil__pixsink_finish(&sink, opts->dihedral, out, err);
  vigil__pixsink_free(&sink);
  if (info->rows_decoded < 0) info->rows_decoded = rc == VIGIL_OK ? sink.height : 0;
  return rc;
}

/* Reads at most max_bytes + 1 bytes from fd: one more than allowed tells an
 * input over the limit from one exactly at it, without ever holding more
 * (a device such as /dev/zero never ends). */
static int read_bounded(int fd, size_t max_bytes, uint8_t **data, size_t *len, vigil_error *err) {
  size_t cap = 1 << 16, n = 0;
  if (cap > max_bytes + 1) cap = max_bytes + 1;
  uint8_t *buf = malloc(cap);
  if (!buf) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory reading input");
  for (;;) {
    if (n == cap) {
      if (n > max_bytes) {
        free(buf);
        return vigil__seterr(err, VIGIL_ELIMIT, "input is over the limit of %zu bytes", max_bytes);
      }
      size_t nc = cap > (max_bytes + 1) / 2 ? max_bytes + 1 : cap * 2;
      uint8_t *nb = realloc(buf, nc);
      if (!nb) {
        free(buf);
        return vigil__seterr(err, VIGIL_ENOMEM, "out of memory reading input of over %zu bytes", n);
      }
      buf = nb;
      cap = nc;
    }
    ssize_t got = read(fd, buf + n, cap - n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int e = errno;
      free(buf);
      return vigil__seterr(err, VIGIL_EIO, "read error: %s", strerror(e));
    }
    if (got == 0) break;
    n += (size_t)got;
  }
  if (n > max_bytes) {
    free(buf);
    return vigil__seterr(err, VIGIL_ELIMIT, "input is over the limit of %zu bytes", max_bytes);
  }
  *data = buf;
  *len = n;
  return VIGIL_OK;
}

int vigil_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *len, vigil_error *err) {
  *data = NULL;
  *len = 0;
  if (!strcmp(path, "-")) return read_bounded(STDIN_FILENO, max_bytes, data, len, err);
  /* O_NONBLOCK: opening a FIFO nobody writes to would wait forever.  It is
   * cleared once open, so a pipe with a writer is read to its end. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return vigil__seterr(err, VIGIL_EIO, "%s", strerror(errno));
  struct stat st;
  int rc = VIGIL_OK;
  if (fstat(fd, &st) != 0) rc = vigil__seterr(err, VIGIL_EIO, "%s", strerror(errno));
  else if (S_ISDIR(st.st_mode)) rc = vigil__seterr(err, VIGIL_EIO, "is a directory");
  else if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_bytes)
    rc = vigil__seterr(err, VIGIL_ELIMIT, "file is %lld bytes, over the limit of %zu", (long long)st.st_size,
                       max_bytes);
  else if (!S_ISREG(st.st_mode)) {
    /* Blocking reads from here; a FIFO with no writer reads as empty (an
     * error later, never a hang), a device is read up to the limit. */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  }
  if (rc == VIGIL_OK) rc = read_bounded(fd, max_bytes, data, len, err);
  close(fd);
  return rc;
}

int vigil_hash_file(const char *path, const vigil_hash_opts *opts, vigil_pdq_result *out,
                    vigil_image_info *info, vigil_error *err) {
  vigil_hash_opts defaults;
  if (!opts) {
    vigil_hash_opts_default(&defaults);
    opts = &defaults;
  }
  uint8_t *data;
  size_t len;
  int rc = vigil_read_file(path, opts->max_bytes, &data, &len, err);
  if (rc == VIGIL_OK) {
    rc = vigil_hash_memory(data, len, opts, out, info, err);
    free(data);
  }
  return rc;
}
