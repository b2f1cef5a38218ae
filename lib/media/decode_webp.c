/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode_webp.c - WebP through libwebp.
 *
 * Still pictures only: the first frame of an animation would need the
 * demuxer's canvas compositing, so an animated file is refused clearly.
 * libwebp decodes the whole picture into one buffer; the pixel limit and
 * the memory budget are checked on the header's dimensions first.  The
 * incremental decoder is used so that a file that ends early keeps the rows
 * it reached, as browsers show them (decode.h).
 */
#include "media/decode.h"
#include "common/internal.h"

#include <webp/decode.h>

int vigil__decode_webp(const uint8_t *data, size_t len, const vigil_hash_opts *o, vigil__pixsink *sink,
                       vigil_image_info *info, vigil_error *err) {
  WebPBitstreamFeatures f;
  VP8StatusCode st = WebPGetFeatures(data, len, &f);
  if (st != VP8_STATUS_OK)
    return vigil__seterr(err, VIGIL_ECORRUPT, "corrupt WebP: %s",
                         st == VP8_STATUS_NOT_ENOUGH_DATA ? "file ends early" : "bad header");
  info->width = f.width;
  info->height = f.height;
  int rc = vigil__check_dims(f.width, f.height, o, "WebP", err);
  if (rc) return rc;
  if (f.has_animation) return vigil__seterr(err, VIGIL_EFORMAT, "unsupported format: animated WebP");
  /* The RGB picture, plus a few rows of decoder state per column. */
  rc = vigil__check_mem((uint64_t)f.width * (uint64_t)f.height * 3 + (uint64_t)f.width * 64, f.width, f.height, o,
                        "WebP", err);
  if (rc) return rc;
  WebPIDecoder *idec = WebPINewRGB(MODE_RGB, NULL, 0, 0);
  if (!idec) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  st = WebPIAppend(idec, data, len);
  int last_y = 0, w = 0, h = 0, stride = 0;
  uint8_t *rgb = WebPIDecGetRGB(idec, &last_y, &w, &h, &stride);
  if ((st != VP8_STATUS_OK && st != VP8_STATUS_SUSPENDED) || !rgb || w != f.width || h != f.height) {
    WebPIDelete(idec);
    if (st == VP8_STATUS_OUT_OF_MEMORY) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory decoding a WebP");
    return vigil__seterr(err, VIGIL_ECORRUPT, "corrupt WebP (%s)", st == VP8_STATUS_OK ? "no picture" : "bad data");
  }
  if (last_y > h) last_y = h;
  rc = vigil__pixsink_begin(sink, w, h, 0, err);
  for (int y = 0; rc == VIGIL_OK && y < last_y; y++) vigil__pixsink_row(sink, rgb + (size_t)y * (size_t)stride);
  if (rc == VIGIL_OK && (st == VP8_STATUS_SUSPENDED || last_y < h))
    rc = vigil__damaged(sink, last_y, o, info, "WebP", "file ends early", err);
  WebPIDelete(idec);
  return rc;
}
