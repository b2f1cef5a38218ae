/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil/video.h - vPDQ video hashes, byte-identical with the reference
 * (facebook/ThreatExchange vpdq, `vpdq-hash-video`) on the same FFmpeg, and
 * the MD5 and SHA-256 of the file's bytes, computed as the file streams by.
 *
 * A video is decoded with Debian's libavformat/libavcodec, frames are chosen
 * as the reference chooses them (every frameMod-th frame in decoder output
 * order), converted to RGB24 by libswscale's SWS_AREA at the native or a
 * downsample size, and hashed by PDQ at frame size.  docs/video.md lists the
 * reference's rules and quirks, which vigil keeps by default.
 *
 * Untrusted input: by default decoding runs in a forked worker process under
 * seccomp-bpf with limits on address space, CPU and wall time; a decoder
 * crash, hang or limit is an error of that one call (VIGIL_ECORRUPT or
 * VIGIL_ELIMIT with a message saying which), never a crash of the caller.
 *
 * Threads: every function may be called from any number of threads at once
 * (each call forks its own worker).  Frame callbacks run in the calling
 * thread.
 *
 * Ownership: options and paths are only read during a call.  Frames given to
 * a callback are valid during that callback only; the array returned by
 * vigil_video_hash_all belongs to the caller (vigil_video_frames_free).
 */
#ifndef VIGIL_VIDEO_H
#define VIGIL_VIDEO_H

#include "vigil/common.h"
#include "vigil/pdq.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Length of one reference line, without its newline, is at most this. */
#define VIGIL_VIDEO_LINE_MAX 128

typedef struct vigil_video_opts {
  double seconds_per_hash; /* 1 (default): one frame per second as exchanged lists; 0: every frame */
  int downsample_width;    /* 0 (default): native size; else frames are scaled to this size */
  int downsample_height;   /* both or neither */
  int flush_all;           /* 0 (default): the reference's end-of-file quirk; 1: flush the decoder always */
  /* 1 (default; 0 when the environment has VIGIL_VIDEO_SKIP=0): when frames are selected (seconds_per_hash
   * > 0), H.264 pictures no other picture refers to are not decoded unless selected; the output is the
   * same (docs/video.md says how, and when every frame is decoded anyway).  0: decode every frame. */
  int skip_nonref;
  int sandbox;             /* 1 (default): decode in a seccomp-confined worker process */
  int threads;             /* decoder threads for one video, 1 (default) to 64, and above 1 one hashing
                            * thread beside them (frames still reach callbacks in the calling thread,
                            * in order); the output does not change */
  uint64_t max_pixels;     /* frame size limit (width * height), default 40000000 */
  uint64_t max_frames;     /* decoded frames limit, default 2000000 */
  double max_duration;     /* seconds of video (frame number / fps), default 6 hours */
  double max_fps;          /* frame-rate limit, default 1000 */
  uint64_t max_memory;     /* worker address space in bytes, default 4 GiB (not enforced under ASan) */
  unsigned max_cpu_seconds;  /* worker CPU time, default 3600 */
  unsigned max_wall_seconds; /* worker wall time, default 3600 */
  /* Called every 25 decoded frames (with threads, an IDR period per decoder: as periods are
   * done), in the calling thread (NULL: never): frames decoded so far,
   * the seconds of video they make, and the container's duration in seconds (0 when unknown). */
  void (*progress)(void *ctx, uint64_t frames, double seconds, double total_seconds);
  void *progress_ctx;
} vigil_video_opts;

/* One hashed frame. */
typedef struct vigil_video_frame {
  int64_t frame_number; /* decoder output order, from 0 */
  int quality;          /* 0..100 */
  vigil_pdq_hash hash;
  double timestamp; /* (float)frame_number / (float)fps, as the reference computes it */
} vigil_video_frame;

/* What was learned about the video; filled on success. */
typedef struct vigil_video_info {
  int width, height;      /* coded frame size of the stream */
  int hash_width, hash_height; /* size frames were hashed at */
  double fps;             /* avg_frame_rate, or r_frame_rate when that is 0/0 */
  int fps_num, fps_den;
  uint64_t frames;        /* frames the decoder output */
  uint64_t hashed;        /* frames hashed */
  uint64_t skipped;       /* frames counted but not decoded (opts.skip_nonref): not selected, not referenced */
  double duration;        /* frames / fps, in seconds */
  uint64_t bytes;         /* file size */
  char codec[32];         /* decoder name, "h264" */
  char container[64];     /* demuxer name, "mov,mp4,m4a,3gp,3g2,mj2" */
  char md5[33];           /* lower-case hex of the file's bytes */
  char sha256[65];
} vigil_video_info;

/* Called for each hashed frame, in increasing frame number.  Return VIGIL_OK
 * to go on; a negative VIGIL_E* code stops hashing and is returned. */
typedef int (*vigil_video_frame_fn)(void *ctx, const vigil_video_frame *frame);

/* Defaults above. */
VIGIL_API void vigil_video_opts_default(vigil_video_opts *opts);

/* Hash the video read from fd (from its current offset; a pipe works, a
 * seekable file lets MP4 files with the index at the end be read).  fd is not
 * closed.  opts may be NULL (defaults); info may be NULL. */
VIGIL_API int vigil_video_hash_fd(int fd, const vigil_video_opts *opts, vigil_video_frame_fn fn, void *ctx,
                                  vigil_video_info *info, vigil_error *err);
VIGIL_API int vigil_video_hash_file(const char *path, const vigil_video_opts *opts, vigil_video_frame_fn fn,
                                    void *ctx, vigil_video_info *info, vigil_error *err);

/* All at once: *frames is a malloc'd array of *nframes frames (NULL, 0 when
 * none or on failure); free it with vigil_video_frames_free. */
VIGIL_API int vigil_video_hash_all(const char *path, const vigil_video_opts *opts, vigil_video_frame **frames,
                                   size_t *nframes, vigil_video_info *info, vigil_error *err);
VIGIL_API void vigil_video_frames_free(vigil_video_frame *frames);

/* The reference's line "frame,quality,hash,timestamp" (no newline) into out;
 * returns its length. */
VIGIL_API int vigil_video_format_line(const vigil_video_frame *f, char out[VIGIL_VIDEO_LINE_MAX]);

/* Whether the first bytes of a file look like a video container this
 * library opens (MP4/MOV/3GP, Matroska/WebM, AVI, MPEG-TS/PS, FLV, Ogg, ASF,
 * NUT, YUV4MPEG2, RealMedia, MXF, WTV, IVF, DV, and H.264, HEVC, AV1, MPEG
 * and H.263 elementary streams); 24 bytes are enough, 376 let MPEG-TS be
 * recognised.  HEIF and AVIF
 * pictures (an ftyp box with a picture's major brand) are not videos. */
VIGIL_API int vigil_video_sniff(const void *data, size_t len);


/* ---- Matching: which bank video, and which seconds of it -----------------
 *
 * A vPDQ index holds bank videos (an id and its frame list); a query compares
 * a query video's frames with every bank video at once and reports, per bank
 * video with at least one frame pair within the threshold, the two
 * percentages and the aligned segments.  Exact: candidate frames come from
 * the exact PDQ index of vigil/match.h over the unique frame hashes, so every
 * pair within the threshold is found, as a brute-force scan finds it.
 *
 * Two semantics (docs/video.md): python-threatexchange/HMA's, the default
 * (quality >= 50, unique frame hashes, distance <= 31, match at query >= 80%),
 * and the C++ reference's (quality >= 50, every frame, distance < 31).
 *
 * Threads: queries (const index) may run in any number of threads at once;
 * add, remove and free need the index alone.  Frames are copied in; results belong
 * to the caller (vigil_vpdq_results_free). */

/* Timestamps beyond this many seconds (about 31 years) are refused by the
 * index and queries. */
#define VIGIL_VPDQ_MAX_TIMESTAMP 1e9

typedef struct vigil_vpdq_opts {
  int quality_min;         /* frames of lower quality are ignored on both sides; 50 */
  int threshold;           /* Hamming distance, 0..256; 31 */
  int strict;              /* 0 (HMA): distance <= threshold; 1 (reference): distance < threshold */
  int dedup;               /* 1 (HMA): unique frame hashes are counted; 0 (reference): every frame */
  double query_pct_min;    /* a result is a match when query_pct >= this... 80 */
  double compared_pct_min; /* ...and compared_pct >= this; 0 */
  int segments;            /* 1 (default): localise the matching parts; 0: percentages only */
  int max_segments;        /* per bank video, 1..1024; 16 */
} vigil_vpdq_opts;

/* One aligned part: query seconds [query_start, query_end] show bank seconds
 * [bank_start, bank_end] (timestamps of the first and last matched frames). */
typedef struct vigil_vpdq_segment {
  double query_start, query_end;
  double bank_start, bank_end;
  double speed;    /* bank seconds per query second (1: same speed) */
  double share;    /* matched query frames / query frames in [query_start, query_end] */
  size_t frames;   /* matched query frames in the segment */
} vigil_vpdq_segment;

typedef struct vigil_vpdq_result {
  uint64_t id;                 /* the bank video */
  double query_pct;            /* matched / total query frames (unique hashes when dedup), 0..100 */
  double compared_pct;         /* the same for the bank video */
  int match;                   /* both percentages reach their minimum */
  size_t query_matched, query_total;
  size_t compared_matched, compared_total;
  vigil_vpdq_segment *segments; /* sorted by query_start; NULL when none */
  size_t nsegments;
} vigil_vpdq_result;

typedef struct vigil_vpdq_index vigil_vpdq_index;

/* HMA semantics (the default). */
VIGIL_API void vigil_vpdq_opts_default(vigil_vpdq_opts *opts);
/* The C++ reference's semantics (strict < 31, no de-duplication). */
VIGIL_API void vigil_vpdq_opts_reference(vigil_vpdq_opts *opts);

VIGIL_API int vigil_vpdq_index_new(vigil_vpdq_index **out, vigil_error *err);
VIGIL_API void vigil_vpdq_index_free(vigil_vpdq_index *ix);
/* Adds bank video id with its n frames (any order; timestamps 0..VIGIL_VPDQ_MAX_TIMESTAMP).
 * VIGIL_EEXIST when id is present; VIGIL_ELIMIT past 2^31 frames in all. */
VIGIL_API int vigil_vpdq_index_add(vigil_vpdq_index *ix, uint64_t id, const vigil_video_frame *frames, size_t n,
                                   vigil_error *err);
/* Many videos at once, all or none: the way to load a bank (the PDQ index
 * is rebuilt once for the batch rather than grown video by video, which
 * takes less memory and time).  VIGIL_EEXIST also for an id twice in it. */
typedef struct vigil_vpdq_video {
  uint64_t id;
  const vigil_video_frame *frames;
  size_t n;
} vigil_vpdq_video;
VIGIL_API int vigil_vpdq_index_add_many(vigil_vpdq_index *ix, const vigil_vpdq_video *videos, size_t n,
                                        vigil_error *err);
/* Takes bank video id out: it is never reported again.  VIGIL_ENOTFOUND
 * when absent or already removed.  Its id stays taken (adding it again is
 * VIGIL_EEXIST) and its memory is held until the index is rebuilt. */
VIGIL_API int vigil_vpdq_index_remove(vigil_vpdq_index *ix, uint64_t id, vigil_error *err);
/* Videos held (removed ones not counted). */
VIGIL_API size_t vigil_vpdq_index_videos(const vigil_vpdq_index *ix);
/* Whether video id is in the index and not removed. */
VIGIL_API int vigil_vpdq_index_has(const vigil_vpdq_index *ix, uint64_t id);
/* Frames held (of videos not removed), and unique frame hashes. */
VIGIL_API size_t vigil_vpdq_index_frames(const vigil_vpdq_index *ix);
VIGIL_API size_t vigil_vpdq_index_unique(const vigil_vpdq_index *ix);
/* Frames of removed videos still held: a rebuild gives their memory back. */
VIGIL_API size_t vigil_vpdq_index_removed_frames(const vigil_vpdq_index *ix);
/* Bytes of memory the index holds (its PDQ index, frames, tables). */
VIGIL_API size_t vigil_vpdq_index_memory(const vigil_vpdq_index *ix);

/* Saving and loading (docs/video.md, "Index file").  save writes PATH.tmp.PID,
 * fsyncs it and renames it over PATH: the videos, their frames and the PDQ
 * index of the unique frame hashes, and meta[0..meta_len) (the caller's
 * bytes, such as the store position the index reflects; at most
 * VIGIL_VPDQ_META_MAX).  load validates everything before using any of it
 * (checksums, sizes, ranges): VIGIL_ENOTFOUND when there is no file,
 * VIGIL_ECORRUPT when it is truncated, damaged or not an index,
 * VIGIL_EFORMAT for another version; *meta (malloc'd, NULL when empty; meta
 * and meta_len may be NULL) gets the bytes saved with it.  A loaded index
 * reads its PDQ part through a read-only mapping of the file until its first
 * change (vigil/match.h), so the file must not be rewritten in place
 * meanwhile; a save renames over it, which is safe.  save reads a const
 * index (queries may run meanwhile). */
#define VIGIL_VPDQ_META_MAX (64 << 20)
VIGIL_API int vigil_vpdq_index_save(const vigil_vpdq_index *ix, const char *path, const void *meta, size_t meta_len,
                                    vigil_error *err);
VIGIL_API int vigil_vpdq_index_load(vigil_vpdq_index **out, const char *path, void **meta, size_t *meta_len,
                                    vigil_error *err);

/* Compares the query's n frames with every bank video.  *results (malloc'd,
 * *nresults long, NULL when 0) lists each bank video with at least one frame
 * pair within the threshold, matches first, then by query_pct descending,
 * then id.  opts NULL: HMA semantics. */
VIGIL_API int vigil_vpdq_index_query(const vigil_vpdq_index *ix, const vigil_video_frame *query, size_t n,
                                     const vigil_vpdq_opts *opts, vigil_vpdq_result **results, size_t *nresults,
                                     vigil_error *err);
VIGIL_API void vigil_vpdq_results_free(vigil_vpdq_result *results, size_t n);

/* A still against the bank videos: a known video's frame shown as a
 * picture.  Per bank video with a frame of quality >= quality_min within
 * threshold (inclusive, 0..256) of h, its closest such frame (the earliest
 * on a tie); sorted by distance, then id.  *hits is malloc'd (free()),
 * NULL when none.  Exact, through the same PDQ index as queries. */
typedef struct vigil_vpdq_frame_hit {
  uint64_t id;      /* the bank video */
  double timestamp; /* seconds into it of the closest frame */
  int distance;
} vigil_vpdq_frame_hit;
VIGIL_API int vigil_vpdq_index_lookup(const vigil_vpdq_index *ix, const vigil_pdq_hash *h, int threshold,
                                      int quality_min, vigil_vpdq_frame_hit **hits, size_t *n, vigil_error *err);

/* Two frame lists by brute force (every pair compared), as the reference and
 * python-threatexchange's brute matcher do; out->id is 0.  Segments too when
 * opts->segments.  Free out->segments with free(). */
VIGIL_API int vigil_vpdq_compare(const vigil_video_frame *query, size_t nq, const vigil_video_frame *bank,
                                 size_t nb, const vigil_vpdq_opts *opts, vigil_vpdq_result *out, vigil_error *err);

/* ---- Serialisations of frame lists ---------------------------------------
 *
 * python-threatexchange's vPDQ signal (HMA's too): a JSON array of strings
 * "<hex>,<quality>,<timestamp>", the timestamp in Python's "{:.3}" format.
 * Read: *frames is malloc'd (vigil_video_frames_free), numbered from 0 in
 * list order (the format does not carry frame numbers); "" reads as [].
 * Written: byte for byte what python-threatexchange's vpdq_to_json writes;
 * *text is malloc'd and NUL-terminated (free()). */
VIGIL_API int vigil_vpdq_from_te(const char *text, size_t len, vigil_video_frame **frames, size_t *n,
                                 vigil_error *err);
VIGIL_API int vigil_vpdq_to_te(const vigil_video_frame *frames, size_t n, char **text, size_t *len,
                               vigil_error *err);
/* A timestamp as Python's "{:.3}" writes it ("18.8", "5.0", "1.23e+02"); returns its length. */
VIGIL_API int vigil_vpdq_format_ts(double ts, char out[32]);
/* The reference's per-frame file: lines "frame,quality,hash,timestamp"
 * (vigil_video_format_line's); blank lines skipped; errors name the line. */
VIGIL_API int vigil_vpdq_from_reference(const char *text, size_t len, vigil_video_frame **frames, size_t *n,
                                        vigil_error *err);

#ifdef __cplusplus
}
#endif
#endif
