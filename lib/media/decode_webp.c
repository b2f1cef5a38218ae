/*
 * decode_webp.c - WebP through libwebp.
 *
 * Still pictures only: the first frame of an animation would need the
 * demuxer's canvas compositing, so an animated file is refused clearly.
 * libwebp decodes the whole picture at once; the pixel limit is checked on
 * the header's dimensions first.
 */
#include "media/decode.h"
#include "common/internal.h"

#include <webp/decode.h>

int vigil__decode_webp(const uint8_t *data, size_t len, const vigil_hash_opts *o, vigil__pixsink *sink,
                       vigil_image_info *info, vigil_error *err) {
  WebPBitstreamFeatures f;
  VP8StatusCode st = WebPGetFeatures(data, len, &f);
  if (st != VP8_STATUS_OK)
    return vigil__seterr(err, st == VP8_STATUS_NOT_ENOUGH_DATA ? VIGIL_ECORRUPT : VIGIL_ECORRUPT,
                         "corrupt WebP: %s", st == VP8_STATUS_NOT_ENOUGH_DATA ? "file ends early" : "bad header");
  info->width = f.width;
  info->height = f.height;
  int rc = vigil__check_dims(f.width, f.height, o, "WebP", err);
  if (rc) return rc;
  if (f.has_animation) return vigil__seterr(err, VIGIL_EFORMAT, "unsupported format: animated WebP");
  int w = 0, h = 0;
  uint8_t *rgb = WebPDecodeRGB(data, len, &w, &h);
  if (!rgb) return vigil__seterr(err, VIGIL_ECORRUPT, "corrupt or truncated WebP");
  rc = vigil__pixsink_begin(sink, w, h, 0, err);
  for (int y = 0; rc == VIGIL_OK && y < h; y++) vigil__pixsink_row(sink, rgb + (size_t)y * (size_t)w * 3);
  WebPFree(rgb);
  return rc;
}
