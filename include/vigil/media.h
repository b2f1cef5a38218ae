/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil/media.h - decoding images and hashing them with PDQ.
 *
 * Formats are recognised by their content, never by file name: JPEG
 * (libjpeg-turbo), PNG (libpng), WebP (libwebp), GIF first frame (giflib)
 * and BMP.  Every input is treated as hostile: sizes are checked against a
 * pixel limit and the decode memory budget before any pixel buffer is
 * allocated.  A damaged file (truncated, or corrupt part-way) is hashed as a
 * viewer shows it when enough of its rows decode (min_rows_percent, 90 by
 * default), and the result says so (vigil_image_info.damaged); otherwise it
 * is an error, never a silent partial hash.  docs/media.md gives the
 * formats, the limits and how decoded rows reach PDQ (vigil/pdq.h).
 *
 * Threads: every function may be called from any number of threads at
 * once; a call's decoder state is its own, and the PDQ code below shares
 * only read-only tables and per-thread buffers (vigil/pdq.h).  Standard
 * input (path "-") is the one shared resource: read it from one thread.
 *
 * Ownership: data, opts and paths are only read during a call; results go
 * into the caller's vigil_pdq_result and vigil_image_info, which are
 * zeroed first, so a failed call leaves no hash.  vigil_read_file's *data
 * is malloc'd: free() it.  Messages in err do not name the file (the
 * caller knows it).
 */
#ifndef VIGIL_MEDIA_H
#define VIGIL_MEDIA_H

#include "vigil/common.h"
#include "vigil/pdq.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vigil_image_format {
  VIGIL_FMT_UNKNOWN = 0,
  VIGIL_FMT_JPEG,
  VIGIL_FMT_PNG,
  VIGIL_FMT_WEBP,
  VIGIL_FMT_GIF,
  VIGIL_FMT_BMP
} vigil_image_format;

#define VIGIL_DEFAULT_MAX_PIXELS 100000000ULL /* 100 megapixels */
#define VIGIL_DEFAULT_MAX_BYTES (256u << 20)   /* 256 MiB of encoded input */
#define VIGIL_DEFAULT_MIN_ROWS_PERCENT 90      /* of a damaged picture's rows that must decode */

typedef struct vigil_hash_opts {
  vigil_hash_mode mode;
  int dihedral;        /* also compute the 7 other dihedral variants */
  int fast;            /* decode JPEG at a reduced DCT scale (approximate hashes) */
  uint64_t max_pixels; /* refuse larger pictures before allocating */
  size_t max_bytes;    /* refuse larger encoded inputs */
  /* A damaged picture is hashed when at least this percentage of its rows
   * decode (the rest shown as a viewer shows missing rows); under it the
   * call fails with VIGIL_ECORRUPT.  0 means the default (90); 100 refuses
   * every damaged picture. */
  int min_rows_percent;
  /* Refuse (VIGIL_ELIMIT) before allocating when decoding the picture would
   * take more than this many bytes of memory (decoder buffers and hashing
   * state, estimated from the header).  0: no budget beyond max_pixels. */
  size_t max_decode_bytes;
} vigil_hash_opts;

typedef struct vigil_image_info {
  vigil_image_format format;
  int width, height; /* as stored in the file */
  int grey;          /* decoded as a single grey channel */
  int damaged;       /* the file is truncated or corrupt part-way; hashed from the rows that decode */
  int rows_decoded;  /* rows that decoded (of the decoded height); all of them when not damaged */
} vigil_image_info;

VIGIL_API void vigil_hash_opts_default(vigil_hash_opts *opts);

/* "jpeg", "png", ... ; "unknown" for VIGIL_FMT_UNKNOWN. */
VIGIL_API const char *vigil_image_format_name(vigil_image_format f);

/* Format from the first bytes of a file (at least 12 bytes are needed). */
VIGIL_API vigil_image_format vigil_image_sniff(const void *data, size_t len);

/* Decode and hash.  opts may be NULL (defaults); info may be NULL. */
VIGIL_API int vigil_hash_memory(const void *data, size_t len, const vigil_hash_opts *opts, vigil_pdq_result *out,
                      vigil_image_info *info, vigil_error *err);
VIGIL_API int vigil_hash_file(const char *path, const vigil_hash_opts *opts, vigil_pdq_result *out,
                    vigil_image_info *info, vigil_error *err);

/* Read a whole file (or stdin for "-") into memory, at most max_bytes. */
VIGIL_API int vigil_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *len, vigil_error *err);

#ifdef __cplusplus
}
#endif
#endif
