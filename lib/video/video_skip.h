/* SPDX-License-Identifier: Apache-2.0 */
/*
 * video_skip.h - what the one-hash-per-second path needs to leave frames
 * undecoded without changing a frame number (video_skip.c).
 */
#ifndef VIGIL_VIDEO_SKIP_H
#define VIGIL_VIDEO_SKIP_H

#include <stddef.h>
#include <stdint.h>

/* How an H.264 stream's packets frame their NAL units, from the codec's
 * extradata as libavcodec's decoder reads it: 0 for Annex B start codes, 1,
 * 2 or 4 for AVCC length prefixes of that many bytes; -1 when unusable. */
int vigil__h264_nal_length_size(const uint8_t *extradata, size_t size);

/* 1 when no other picture can refer to the access unit in data: it has at
 * least one slice, every slice has nal_ref_idc 0 and it carries nothing but
 * slices, access-unit delimiters, filler and SEI about its own picture
 * (timing, captions: video_skip.c's sei_harmless); a parameter set, other
 * SEI or end of sequence keeps it.  0 otherwise, including for anything
 * malformed: a packet that is not understood is decoded. */
int vigil__h264_disposable(const uint8_t *data, size_t size, int nal_length_size);

/* 1 when the access unit holds an IDR slice (a clean start for decoding). */
int vigil__h264_has_idr(const uint8_t *data, size_t size, int nal_length_size);

/* What a packet is, as bits (0 when malformed): */
#define VIGIL__AU_IDR 1     /* an IDR slice: no later picture refers to one before it */
#define VIGIL__AU_SLICES 2  /* nothing but slices, delimiters, filler and SEI about its picture */
#define VIGIL__AU_NONREF 4  /* slices, all with nal_ref_idc 0 */
#define VIGIL__AU_DISCARD 8 /* (set by the caller) the demuxer marked it: its frame is never output */
unsigned vigil__h264_classify(const uint8_t *data, size_t size, int nal_length_size);

/* classify's bits into *kind and, into *params, a digest (FNV-1a, 64 bits)
 * of the access unit's parameter-set NAL units (sequence, picture, sequence
 * extension and subset sequence parameter sets, in order, bytes as they
 * are), 0 when it holds none: two equal digests mean, for any practical
 * purpose, the same parameter sets.  -1 (both 0) when the access unit is
 * malformed, else 0.  One pass over the bytes. */
int vigil__h264_scan(const uint8_t *data, size_t size, int nal_length_size, unsigned *kind, uint64_t *params);

/* The video packets' presentation timestamps, in demux order, and their
 * ranks: a frame's place in the decoder's output order.  A packet the
 * demuxer marks discarded (outside an MP4 edit list) is decoded but its frame
 * is never output, so it has no rank. */
typedef struct vigil__pts_table {
  int64_t *order;  /* pts in demux (decode) order */
  uint8_t *kind;   /* by demux index: VIGIL__AU_* bits */
  int64_t *sorted; /* the pts of the frames output, ascending; built by finish */
  size_t n, cap;   /* packets */
  size_t nranked;  /* entries of sorted: the frames output */
} vigil__pts_table;

/* Appends one packet's timestamp and VIGIL__AU_* bits; VIGIL_ENOMEM or
 * VIGIL_OK. */
int vigil__pts_table_add(vigil__pts_table *t, int64_t pts, unsigned kind);
/* Sorts; VIGIL_OK, VIGIL_ENOMEM, or VIGIL_EEXIST when a timestamp repeats. */
int vigil__pts_table_finish(vigil__pts_table *t);
/* The rank of pts among the output frames' timestamps, or -1 when it is not
 * one of them. */
int64_t vigil__pts_table_rank(const vigil__pts_table *t, int64_t pts);
/* Frames a decoder must hold back to output every frame in rank order:
 * max(0, max over demux index d of d - rank(order[d])), discarded packets
 * counted in d (which only errs on the side of more).  After finish. */
size_t vigil__pts_table_delay(const vigil__pts_table *t);
/* Which packets the decoder needs when frames whose rank is a multiple of
 * frame_mod are hashed: send[d] for each demux index d; returns how many
 * are not needed.  A packet is not needed when
 *   - it is disposable (VIGIL__AU_SLICES | VIGIL__AU_NONREF) and not
 *     selected (or discarded), or
 *   - it is all slices and comes, in demux order, after the last selected
 *     frame of its IDR period (from one IDR packet to the next): pictures
 *     refer only to pictures decoded before them, never across an IDR, so
 *     nothing selected needs it.  A period whose tail holds anything but
 *     slices (a parameter set, SEI) keeps its tail, except its IDR packet,
 *     which is sent and refers to nothing.
 * After finish. */
size_t vigil__pts_table_plan(const vigil__pts_table *t, int64_t frame_mod, uint8_t *send);
void vigil__pts_table_free(vigil__pts_table *t);

/* Test hook (single-threaded test programs only): when non-zero, the skip
 * pass gives up at that video packet as if a check had failed, so that the
 * every-frame pass after it is tested.  Defined in video_decode.c. */
extern size_t vigil__video_test_skip_fallback;

#endif
