/* SPDX-License-Identifier: Apache-2.0 */
/*
 * media.c - what kind of file a piece of evidence is, from its first
 * bytes: the extension an export names it by and the media type the
 * manifest states, so NCMEC's analysts open a video as a video rather
 * than guess at "case-7.bin".
 *
 * Evidence is kept by the service as DIR/case-<id>.bin whatever it is (a
 * picture or, since video matching, the video itself), so the kind is
 * sniffed here rather than trusted from a name or a Content-Type.  What
 * is not recognised stays application/octet-stream and .bin: nothing is
 * guessed.
 */
#include "common/ftyp.h"
#include "report/tipline.h"

#include <string.h>

/* An EBML file (Matroska or WebM): the DocType element (0x42 0x82) in the
 * header says which; WebM when it reads "webm". */
static int ebml_is_webm(const uint8_t *p, size_t n) {
  size_t lim = n < 64 ? n : 64;
  for (size_t i = 4; i + 7 <= lim; i++)
    if (p[i] == 0x42 && p[i + 1] == 0x82 && !memcmp(p + i + 3, "webm", 4)) return 1;
  return 0;
}

const char *vigil__report_media(const uint8_t *p, size_t n, const char **ext) {
  const char *e = "bin", *t = "application/octet-stream";
  if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) e = "jpg", t = "image/jpeg";
  else if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) e = "png", t = "image/png";
  else if (n >= 6 && (!memcmp(p, "GIF87a", 6) || !memcmp(p, "GIF89a", 6))) e = "gif", t = "image/gif";
  else if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4)) e = "webp", t = "image/webp";
  else if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "AVI ", 4)) e = "avi", t = "video/x-msvideo";
  else if (n >= 2 && p[0] == 'B' && p[1] == 'M') e = "bmp", t = "image/bmp";
  else if (n >= 12 && !memcmp(p + 4, "ftyp", 4)) {
    vigil__ftyp_image pic = vigil__ftyp_image_of(p, n); /* a phone's photo is an ISO media file too */
    if (pic == VIGIL__FTYP_HEIC) e = "heic", t = "image/heic";
    else if (pic == VIGIL__FTYP_HEIF) e = "heif", t = "image/heif";
    else if (pic == VIGIL__FTYP_AVIF) e = "avif", t = "image/avif";
    else if (!memcmp(p + 8, "qt  ", 4)) e = "mov", t = "video/quicktime";
    else if (!memcmp(p + 8, "3gp", 3)) e = "3gp", t = "video/3gpp";
    else e = "mp4", t = "video/mp4";
  } else if (n >= 4 && !memcmp(p, "\x1a\x45\xdf\xa3", 4)) {
    if (ebml_is_webm(p, n)) e = "webm", t = "video/webm";
    else e = "mkv", t = "video/x-matroska";
  } else if (n >= 4 && !memcmp(p, "FLV\x01", 4)) e = "flv", t = "video/x-flv";
  else if (n >= 4 && !memcmp(p, "OggS", 4)) e = "ogv", t = "video/ogg";
  else if (n >= 4 && !memcmp(p, "\x00\x00\x01\xba", 4)) e = "mpg", t = "video/mpeg";
  else if (n >= 377 && p[0] == 0x47 && p[188] == 0x47 && p[376] == 0x47) e = "ts", t = "video/mp2t";
  if (ext) *ext = e;
  return t;
}
