/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ftyp.h - ISO base media files that are still pictures, not video.
 *
 * HEIF pictures (HEIC, what phones save) and AVIF pictures are ISO base
 * media files, as MP4 and MOV are: they start with an ftyp box, and only
 * its major brand tells a picture from a video.  The video sniffer and the
 * video decoder (which refuse them), the picture decoder (which names them
 * in its error) and the evidence sniffer (which labels them) all ask here,
 * so that a photo is never sent to the video decoder nor filed as
 * video/mp4.  The brands are those of ISO/IEC 23008-12 (HEIF) and of the
 * AV1 Image File Format specification; image sequences (msf1, hevc, avis)
 * count as pictures too, as their formats are picture formats.
 */
#ifndef VIGIL_COMMON_FTYP_H
#define VIGIL_COMMON_FTYP_H

#include <stddef.h>
#include <stdint.h>

typedef enum vigil__ftyp_image {
  VIGIL__FTYP_NONE = 0, /* not a picture brand (or not an ftyp box) */
  VIGIL__FTYP_HEIC,     /* HEIF with HEVC-coded pictures */
  VIGIL__FTYP_HEIF,     /* HEIF, the codec not said by the brand */
  VIGIL__FTYP_AVIF,     /* HEIF with AV1-coded pictures */
} vigil__ftyp_image;

/* The picture kind of a major brand's four characters. */
vigil__ftyp_image vigil__ftyp_brand_image(const char brand[4]);

/* The picture kind of a file from its first n bytes: an ftyp box at the
 * start whose major brand is a picture one; NONE otherwise (an MP4, a MOV,
 * anything else, fewer than 12 bytes). */
vigil__ftyp_image vigil__ftyp_image_of(const uint8_t *p, size_t n);

/* "HEIF (HEIC)", "HEIF" or "AVIF", for messages; NULL for NONE. */
const char *vigil__ftyp_image_name(vigil__ftyp_image k);

#endif
