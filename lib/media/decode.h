/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode.h - the decoders' common contract.
 *
 * Each decoder reads a complete encoded image from memory, checks its
 * dimensions with vigil__check_dims() and what it will allocate with
 * vigil__check_mem() before allocating anything sized by them, fills
 * `info`, and delivers every row to the pixel sink.  On any error it
 * returns a vigil status with a message naming what is wrong.
 *
 * A file that breaks off part-way (truncated, or corrupt data after some
 * rows) is not an error by itself: browsers show the rows that decode, and
 * so does vigil.  The decoder hands the count of good rows to
 * vigil__damaged(), which refuses when too few decode and otherwise
 * delivers the missing rows as a viewer shows them (mid grey, as libjpeg
 * fills them) and marks the result damaged.
 */
#ifndef VIGIL_DECODE_H
#define VIGIL_DECODE_H

#include "pdq/pixsink.h"
#include "vigil/media.h"

typedef int (*vigil__decoder)(const uint8_t *data, size_t len, const vigil_hash_opts *o,
                              vigil__pixsink *sink, vigil_image_info *info, vigil_error *err);

int vigil__decode_jpeg(const uint8_t *data, size_t len, const vigil_hash_opts *o, vigil__pixsink *sink,
                       vigil_image_info *info, vigil_error *err);
int vigil__decode_png(const uint8_t *data, size_t len, const vigil_hash_opts *o, vigil__pixsink *sink,
                      vigil_image_info *info, vigil_error *err);
int vigil__decode_webp(const uint8_t *data, size_t len, const vigil_hash_opts *o, vigil__pixsink *sink,
                       vigil_image_info *info, vigil_error *err);
int vigil__decode_gif(const uint8_t *data, size_t len, const vigil_hash_opts *o, vigil__pixsink *sink,
                      vigil_image_info *info, vigil_error *err);
int vigil__decode_bmp(const uint8_t *data, size_t len, const vigil_hash_opts *o, vigil__pixsink *sink,
                      vigil_image_info *info, vigil_error *err);

/* Zero or negative sides, or more pixels than o->max_pixels: an error. */
int vigil__check_dims(int64_t width, int64_t height, const vigil_hash_opts *o, const char *what,
                      vigil_error *err);

/* Refuses (VIGIL_ELIMIT) a decode that would allocate more than
 * o->max_decode_bytes: `decoder` bytes of the decoder's own plus the
 * hashing state for a width x height picture. */
int vigil__check_mem(uint64_t decoder, int64_t width, int64_t height, const vigil_hash_opts *o, const char *what,
                     vigil_error *err);

/* Whether `good` of h rows is enough to hash a damaged picture
 * (o->min_rows_percent). */
int vigil__damaged_enough(int good, int h, const vigil_hash_opts *o);

/* A picture whose rows from `good` on did not decode (why: a short reason).
 * Under o->min_rows_percent of the sink's height: VIGIL_ECORRUPT.
 * Otherwise the rows the sink has not yet received are delivered as mid
 * grey, info says damaged, and VIGIL_OK is returned. */
int vigil__damaged(vigil__pixsink *sink, int good, const vigil_hash_opts *o, vigil_image_info *info,
                   const char *what, const char *why, vigil_error *err);

#endif
