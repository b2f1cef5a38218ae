/*
 * decode.h - the decoders' common contract.
 *
 * Each decoder reads a complete encoded image from memory, checks its
 * dimensions with vigil__check_dims() before allocating anything sized by
 * them, fills `info`, and delivers every row to the pixel sink.  On any
 * error it returns a vigil status with a message naming what is wrong.
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

#endif
