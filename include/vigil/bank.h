/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil/bank.h - hash banks: named lists of known-media hashes, their
 * storage, import/export, and matching against them.
 *
 * Model.  A store holds banks; a bank is a named list of entries.  An entry
 * is one signal (a PDQ hash, an MD5 or a SHA-256 of the file bytes, a
 * video's MD5 or its vPDQ frame list) with the
 * bank's own id for it (external id), tags (e.g. "csam", "ncii", "A1"), the
 * source it came from, the time it was added and, once withdrawn, the time
 * and reason of its removal.  Removal never deletes the row: a removed entry
 * stops matching, is still exported (marked removed) and stays auditable.
 *
 * Identity.  An entry is identified by (bank, signal type, value): adding
 * the same signal to the same bank again changes nothing, so re-importing a
 * file is idempotent.  Entry ids (row ids) are stable and are the ids used
 * in the PDQ index (vigil/match.h).
 *
 * vPDQ entries.  A vpdq entry is one video: its frame list (hash, quality,
 * timestamp, frame number) travels in entry.frames, and its value, the
 * identity, is the SHA-256 of the list as python-threatexchange serialises
 * it (vigil_vpdq_to_te; vigil_bank_vpdq_identity computes it), so the same
 * list read from that serialisation, from the reference's per-frame file
 * or from vigil's JSON Lines is one entry, and an export re-imported is
 * idempotent.  The frame numbers and full-precision timestamps are kept
 * as given by the first import.
 *
 * Durability.  A write the store has acknowledged (a function returned
 * VIGIL_OK, or an import reported a committed batch) survives a crash or
 * kill -9.  The store runs on SQLite (a path, or "sqlite:PATH") or on
 * PostgreSQL (a postgresql:// URI), which several processes and hosts may
 * share; both behave the same through these functions.  Bank-level
 * changes (create, drop, enable, disable) are written to the store's
 * audit table in the same transaction, and each import adds a row too.
 *
 * Threads: a store or matcher is used by one thread at a time, with one
 * exception: the match functions (pdq, exact, video) may run in several
 * threads at once
 * while no other call uses that matcher or store (readers-writer, kept by
 * the caller).
 *
 * Ownership: strings, values, frames and filters are only read during a
 * call; entries and infos are copied into the caller's structures.  An
 * entry's frames pointer belongs to whoever filled it: the caller for
 * vigil_bank_add; the store for the entries vigil_bank_foreach passes to its
 * callback (valid during that callback only); everywhere else the store
 * leaves frames NULL (vigil_bank_entry_frames reads them).  Arrays
 * returned through a pointer (*banks, *out) are malloc'd: free() them; an
 * import report's errors are freed by vigil_bank_import_report_free, on
 * failure too.  A matcher keeps its store: close the store after freeing
 * the matcher.  Import and export read and write the caller's FILE and
 * never close it.
 */
#ifndef VIGIL_BANK_H
#define VIGIL_BANK_H

#include <stdio.h>

#include "vigil/common.h"
#include "vigil/pdq.h"
#include "vigil/video.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vigil_signal_type {
  VIGIL_SIGNAL_NONE = 0,
  VIGIL_SIGNAL_PDQ = 1,      /* 256-bit PDQ hash, 64 hex digits */
  VIGIL_SIGNAL_MD5 = 2,      /* MD5 of the file bytes, 32 hex digits */
  VIGIL_SIGNAL_SHA256 = 3,   /* SHA-256 of the file bytes, 64 hex digits */
  VIGIL_SIGNAL_VPDQ = 4,     /* a video's vPDQ frame list; value: its identity, a SHA-256 (64 hex digits) */
  VIGIL_SIGNAL_VIDEO_MD5 = 5 /* MD5 of a video file's bytes (python-threatexchange's video_md5), 32 hex digits */
} vigil_signal_type;

#define VIGIL_SIGNAL_COUNT 6 /* one more than the largest vigil_signal_type */

#define VIGIL_BANK_NAME_MAX 64   /* bank names: 1..64 of [A-Za-z0-9_.-] */
#define VIGIL_BANK_TEXT_MAX 256  /* external id, source, reason, description: bytes of UTF-8 */
#define VIGIL_BANK_TAGS_MAX 512  /* all tags joined with ',' */
#define VIGIL_BANK_TAG_MAX 64    /* one tag: 1..64 of [A-Za-z0-9_.:-] */
#define VIGIL_BANK_VALUE_MAX 32  /* bytes of the largest value (SHA-256, PDQ) */
#define VIGIL_BANK_FRAMES_MAX 200000 /* frames of one vpdq entry (55 hours at one per second) */

/* "pdq", "md5", "sha256", "vpdq", "video_md5"; NULL for an unknown type. */
VIGIL_API const char *vigil_signal_name(vigil_signal_type t);
/* Parses a signal type name (lower case); VIGIL_SIGNAL_NONE if unknown. */
VIGIL_API vigil_signal_type vigil_signal_from_name(const char *name, size_t len);
/* Bytes of a value of that type (0 if the type is not accepted).  For vpdq
 * the value is the 32-byte identity of the frame list. */
VIGIL_API size_t vigil_signal_value_len(vigil_signal_type t);
/* Parses a hex value of type t (either case) into out; the message says what
 * is wrong (length, bad digit and its position). */
VIGIL_API int vigil_signal_parse(vigil_signal_type t, const char *hex, size_t len, uint8_t out[VIGIL_BANK_VALUE_MAX],
                       vigil_error *err);
/* Lower-case hex of a value: out needs 2*len+1 bytes. */
VIGIL_API void vigil_signal_to_hex(const uint8_t *value, size_t len, char *out);

/* Canonical tag list from "a,b c;d" (separators: comma, semicolon, blanks):
 * validated, duplicates dropped, order kept, joined with ','. */
VIGIL_API int vigil_bank_tags_normalize(const char *in, size_t len, char out[VIGIL_BANK_TAGS_MAX + 1], vigil_error *err);
/* Whether the canonical list `tags` contains `tag`. */
VIGIL_API int vigil_bank_tags_has(const char *tags, const char *tag);

/* True if name is a valid bank name. */
VIGIL_API int vigil_bank_name_valid(const char *name);

typedef struct vigil_bank_entry {
  uint64_t id; /* row id, assigned by the store */
  char bank[VIGIL_BANK_NAME_MAX + 1];
  vigil_signal_type type;
  uint8_t value[VIGIL_BANK_VALUE_MAX];
  size_t value_len;
  char external_id[VIGIL_BANK_TEXT_MAX + 1];
  char tags[VIGIL_BANK_TAGS_MAX + 1]; /* canonical, ',' separated */
  char source[VIGIL_BANK_TEXT_MAX + 1];
  int64_t added;   /* Unix seconds, UTC */
  int64_t removed; /* 0 while active; else Unix seconds of the removal */
  char removed_reason[VIGIL_BANK_TEXT_MAX + 1];
  /* vpdq only: the video's frames (1..VIGIL_BANK_FRAMES_MAX); see Ownership above.  NULL and 0 for other types. */
  const vigil_video_frame *frames;
  size_t nframes;
} vigil_bank_entry;

typedef struct vigil_bank_info {
  uint64_t id;
  char name[VIGIL_BANK_NAME_MAX + 1];
  char description[VIGIL_BANK_TEXT_MAX + 1];
  int enabled; /* matched against only when enabled */
  int64_t created;
  uint64_t active, removed;             /* entry counts */
  uint64_t by_type[VIGIL_SIGNAL_COUNT]; /* active entries per vigil_signal_type */
} vigil_bank_info;

typedef struct vigil_bank_store vigil_bank_store;

/* Opens (creating tables if needed) a store: "sqlite:PATH" or a plain
 * PATH for SQLite; "postgresql://..." or "postgres://..." (a libpq URI)
 * for PostgreSQL, which several processes and hosts may share. */
VIGIL_API int vigil_bank_store_open(vigil_bank_store **out, const char *location, vigil_error *err);
VIGIL_API void vigil_bank_store_close(vigil_bank_store *st);
/* The backend's name: "sqlite" or "postgresql". */
VIGIL_API const char *vigil_bank_store_backend(const vigil_bank_store *st);

/* Banks.  create: VIGIL_EEXIST if the name is taken.  drop deletes a bank
 * with all its entries (the only operation that deletes rows; it is
 * recorded in the audit log). */
VIGIL_API int vigil_bank_create(vigil_bank_store *st, const char *name, const char *description, vigil_error *err);
VIGIL_API int vigil_bank_drop(vigil_bank_store *st, const char *name, vigil_error *err);
VIGIL_API int vigil_bank_set_enabled(vigil_bank_store *st, const char *name, int enabled, vigil_error *err);
/* Info with entry counts; VIGIL_ENOTFOUND if absent. */
VIGIL_API int vigil_bank_get(vigil_bank_store *st, const char *name, vigil_bank_info *out, vigil_error *err);
/* *banks is malloc'd (free() it), sorted by name. */
VIGIL_API int vigil_bank_list(vigil_bank_store *st, vigil_bank_info **banks, size_t *n, vigil_error *err);

/* Adds one entry (e->bank names the bank; e->id, e->added are set on
 * return).  *added (may be NULL) is 1 when new, 0 when the identity was
 * already present (nothing changes then).  A vpdq entry gives its frames
 * (quality 0..100, timestamps 0..VIGIL_VPDQ_MAX_TIMESTAMP); its value is
 * computed from them and set on return. */
VIGIL_API int vigil_bank_add(vigil_bank_store *st, vigil_bank_entry *e, int *added, vigil_error *err);
/* Marks an entry removed (by bank, type and value).  VIGIL_ENOTFOUND if
 * there is no such entry; removing a removed entry is a no-op. */
VIGIL_API int vigil_bank_remove(vigil_bank_store *st, const char *bank, vigil_signal_type t, const uint8_t *value,
                      const char *reason, vigil_error *err);
/* The same by entry id. */
VIGIL_API int vigil_bank_remove_id(vigil_bank_store *st, uint64_t id, const char *reason, vigil_error *err);
/* Entry by id; VIGIL_ENOTFOUND if absent.  out->frames is NULL. */
VIGIL_API int vigil_bank_entry_get(vigil_bank_store *st, uint64_t id, vigil_bank_entry *out, vigil_error *err);
/* The frames of vpdq entry id: *frames is malloc'd (vigil_video_frames_free).
 * VIGIL_ENOTFOUND when there is no such entry or it is not a vpdq entry;
 * VIGIL_ECORRUPT when the stored list does not decode. */
VIGIL_API int vigil_bank_entry_frames(vigil_bank_store *st, uint64_t id, vigil_video_frame **frames, size_t *n,
                                      vigil_error *err);
/* The identity of a frame list: SHA-256 of its python-threatexchange
 * serialisation (vigil_vpdq_to_te).  VIGIL_EINVAL for an empty list or a
 * frame out of range. */
VIGIL_API int vigil_bank_vpdq_identity(const vigil_video_frame *frames, size_t n, uint8_t out[32], vigil_error *err);

/* Calls fn for each entry of bank (all banks if NULL), in id order;
 * removed entries only if include_removed.  A non-zero return from fn stops
 * the walk and is returned. */
typedef int (*vigil_bank_entry_fn)(void *ctx, const vigil_bank_entry *e);
VIGIL_API int vigil_bank_foreach(vigil_bank_store *st, const char *bank, int include_removed, vigil_bank_entry_fn fn,
                       void *ctx, vigil_error *err);

/* ---- import / export ---- */

/* A vpdq entry's value in csv, te and jsonl is its frame list in
 * python-threatexchange's serialisation (a JSON array of "hex,quality,ts"
 * strings); jsonl also takes and writes "frames" (docs/bank.md), which keeps
 * frame numbers and full-precision timestamps. */
typedef enum vigil_bank_format {
  VIGIL_BANK_FMT_CSV = 0, /* header line, then one entry per line (docs/bank.md) */
  VIGIL_BANK_FMT_TE = 1,  /* python-threatexchange: "<signal_type> <value>" */
  VIGIL_BANK_FMT_JSONL = 2, /* one JSON object per line */
  VIGIL_BANK_FMT_VPDQ = 3   /* import only: the reference's per-frame file, the whole input one vpdq entry */
} vigil_bank_format;

/* The format named "csv", "te", "jsonl" or "vpdq" (also "json", "txt"): a
 * vigil_bank_format, which is never negative, or VIGIL_EINVAL (negative, as
 * every error) for an unknown name or NULL. */
VIGIL_API int vigil_bank_format_from_name(const char *name);

#define VIGIL_BANK_LINE_MAX 1048000 /* longer lines are errors (a vpdq line of about 13,000 frames) */

typedef struct vigil_bank_import_opts {
  vigil_bank_format format;
  int skip_bad;        /* commit the good lines and report the bad ones */
  uint64_t batch;      /* 0: one transaction for the whole input; else commit every `batch` entries */
  const char *source;  /* default source for entries that name none (may be NULL) */
  const char *tags;    /* tags added to every entry (may be NULL) */
  int max_errors;      /* errors kept in the report (default 20 when 0) */
  /* Called after each committed batch (batch numbers from 1) with the
   * number of input lines it covers so far; a non-zero return aborts the
   * import (what was committed stays). */
  int (*on_commit)(void *ctx, uint64_t batch_no, uint64_t lines_done);
  void *ctx;
  const char *external_id; /* VIGIL_BANK_FMT_VPDQ: the entry's external id (may be NULL) */
} vigil_bank_import_opts;

typedef struct vigil_bank_import_error {
  uint64_t line;
  char message[160];
} vigil_bank_import_error;

typedef struct vigil_bank_import_report {
  uint64_t lines;     /* input lines read (blank and comment lines included) */
  uint64_t added;     /* new entries */
  uint64_t existing;  /* identities already present: unchanged */
  uint64_t removed;   /* entries newly marked removed by the input */
  uint64_t bad;       /* lines with errors */
  uint64_t batches;   /* committed transactions */
  int committed;      /* 1 if anything was committed */
  size_t nerrors;     /* errors kept in errors[] (the first ones) */
  vigil_bank_import_error *errors; /* malloc'd; vigil_bank_import_report_free() */
} vigil_bank_import_report;

VIGIL_API void vigil_bank_import_opts_default(vigil_bank_import_opts *o);
VIGIL_API void vigil_bank_import_report_free(vigil_bank_import_report *r);

/* Imports a stream into an existing bank.  Without skip_bad any bad line
 * fails the import (VIGIL_EINVAL; the report counts every bad line and
 * describes the first max_errors) and nothing is written: with batches, a
 * seekable input is validated completely before the first batch is
 * written; an unseekable one stops at the first bad line with the earlier
 * batches committed (they are reported).  Safe to repeat: identities
 * already present are counted as existing. */
VIGIL_API int vigil_bank_import(vigil_bank_store *st, const char *bank, FILE *in, const vigil_bank_import_opts *o,
                      vigil_bank_import_report *rep, vigil_error *err);

/* Writes a bank (all banks if NULL) in the format (not VIGIL_BANK_FMT_VPDQ);
 * removed entries are written with their removal time and reason unless
 * active_only. */
VIGIL_API int vigil_bank_export(vigil_bank_store *st, const char *bank, FILE *out, vigil_bank_format fmt, int active_only,
                      vigil_error *err);

/* Export with options (vigil_bank_export_opts_default: CSV, every entry,
 * no dispute marks). */
typedef struct vigil_bank_export_opts {
  vigil_bank_format format;
  int active_only;
  /* Entries reported as false positives, e.g. the review service's
   * (vigil_server_disputed_entries): with mark_disputed, JSON Lines gives
   * every entry "disputed": true when its id is among disputed[0..ndisputed)
   * (ascending and distinct: VIGIL_EINVAL otherwise), else false.  CSV and
   * te have no room for it and are written as without it.  The caller keeps
   * the array. */
  int mark_disputed;
  const uint64_t *disputed;
  size_t ndisputed;
} vigil_bank_export_opts;

VIGIL_API void vigil_bank_export_opts_default(vigil_bank_export_opts *o);
VIGIL_API int vigil_bank_export_with(vigil_bank_store *st, const char *bank, FILE *out, const vigil_bank_export_opts *o,
                                     vigil_error *err);

/* ---- matching ---- */

/* A matcher holds the PDQ entries of the enabled banks in a vigil_pdq_index
 * and their vpdq entries in a vigil_vpdq_index (ids = entry ids), and
 * answers queries with entry metadata. */
typedef struct vigil_bank_matcher vigil_bank_matcher;

VIGIL_API int vigil_bank_matcher_open(vigil_bank_matcher **out, vigil_bank_store *st, vigil_error *err);
/* The same, with the video (vpdq) index kept in a file between runs
 * (docs/bank.md, "Saved video index"): loaded instead of built when it
 * matches the store (its banks still there with the same enabled flags,
 * position not past the
 * store's, the same live videos with the same identities), then brought up
 * to date; built from the store otherwise.  Saved (PATH.tmp.PID, fsync,
 * rename) after a build, or when more than 1% of the videos were added
 * since the file.  A missing, invalid or stale file, or one that cannot be
 * written, is not an error: the index is built and f->why says what
 * happened.  f is the caller's; it is used during this call only. */
typedef struct vigil_bank_index_file {
  const char *path; /* in: the file */
  int loaded;       /* out: the video index came from the file */
  int saved;        /* out: the file was written */
  size_t caught_up; /* out: videos added from the store after loading */
  char why[768];    /* out: why the file was not used or not written ("" when all went well) */
} vigil_bank_index_file;
VIGIL_API int vigil_bank_matcher_open_file(vigil_bank_matcher **out, vigil_bank_store *st, vigil_bank_index_file *f,
                                           vigil_error *err);
VIGIL_API void vigil_bank_matcher_free(vigil_bank_matcher *m);
/* Brings the index up to date with the store in place: new entries are
 * added, removed ones taken out; a changed set of enabled banks reloads. */
VIGIL_API int vigil_bank_matcher_sync(vigil_bank_matcher *m, vigil_error *err);
/* Number of PDQ hashes in the index. */
VIGIL_API size_t vigil_bank_matcher_size(const vigil_bank_matcher *m);
/* Number of vpdq entries (videos) in the video index. */
VIGIL_API size_t vigil_bank_matcher_videos(const vigil_bank_matcher *m);

typedef struct vigil_bank_filter {
  const char *const *banks; /* only these banks (NULL/0: all enabled banks) */
  size_t nbanks;
  const char *const *tags; /* only entries with at least one of these tags */
  size_t ntags;
} vigil_bank_filter;

typedef struct vigil_bank_match {
  vigil_bank_entry entry;
  int distance; /* PDQ: Hamming distance; exact signals: 0 */
  int variant;  /* dihedral variant of the query that matched (0 for exact) */
} vigil_bank_match;

/* The largest PDQ threshold a bank lookup takes.  The usual one is 31;
 * past 64 a lookup is a scan of the whole bank and nearly every entry
 * "matches" (two unrelated pictures are about 128 bits apart), so a
 * request could cost minutes and fill a case with noise. */
#define VIGIL_BANK_MAX_THRESHOLD 64

/* PDQ radius search with nq query hashes (1, or 8 dihedral variants):
 * every active entry of an enabled bank within threshold (inclusive, 0 to
 * VIGIL_BANK_MAX_THRESHOLD; more is VIGIL_EINVAL), each once, sorted by
 * distance then id.  *out is malloc'd (free()). */
VIGIL_API int vigil_bank_match_pdq(vigil_bank_matcher *m, const vigil_pdq_hash *qs, int nq, int threshold,
                         const vigil_bank_filter *f, vigil_bank_match **out, size_t *n, vigil_error *err);
/* Exact lookup of an MD5 or SHA-256 (or PDQ at distance 0) among active
 * entries of enabled banks, sorted by id. */
VIGIL_API int vigil_bank_match_exact(vigil_bank_store *st, vigil_signal_type t, const uint8_t *value,
                           const vigil_bank_filter *f, vigil_bank_match **out, size_t *n, vigil_error *err);

/* One bank video a query video matched: the entry (frames NULL), the two
 * percentages of vigil/video.h, whether they reach the request's minimums,
 * and the aligned segments (query seconds <-> bank seconds). */
typedef struct vigil_bank_video_hit {
  vigil_bank_entry entry;
  double query_pct;    /* matched / all query frames (unique hashes with HMA semantics), 0..100 */
  double compared_pct; /* the same for the bank video */
  int matched;         /* query_pct >= opts->query_pct_min and compared_pct >= opts->compared_pct_min */
  size_t query_matched, query_total, compared_matched, compared_total;
  vigil_vpdq_segment *segments; /* sorted by query_start; NULL when none */
  size_t nsegments;
} vigil_bank_video_hit;

/* Compares the query's n frames with every active vpdq entry of the enabled
 * banks (opts NULL: HMA semantics, vigil_vpdq_opts_default).  *out lists
 * each bank video with at least one frame pair within the threshold, matches
 * first, then by query_pct descending, then entry id; free it with
 * vigil_bank_video_hits_free.  Exact: every frame pair within the threshold
 * is found.  Threads as vigil_bank_match_pdq. */
VIGIL_API int vigil_bank_match_video(vigil_bank_matcher *m, const vigil_video_frame *q, size_t n,
                                     const vigil_vpdq_opts *opts, vigil_bank_video_hit **out, size_t *nout,
                                     vigil_error *err);
/* The same, only the bank videos that pass the filter (NULL: all). */
VIGIL_API int vigil_bank_match_video_filtered(vigil_bank_matcher *m, const vigil_video_frame *q, size_t n,
                                              const vigil_vpdq_opts *opts, const vigil_bank_filter *f,
                                              vigil_bank_video_hit **out, size_t *nout, vigil_error *err);
VIGIL_API void vigil_bank_video_hits_free(vigil_bank_video_hit *h, size_t n);

/* A picture against the vpdq entries: a still of a known video.  nq query
 * hashes (1, or the 8 dihedral variants) against every frame of quality
 * >= 50 of the active vpdq entries of enabled banks: each bank video with a
 * frame within threshold (inclusive, 0..VIGIL_BANK_MAX_THRESHOLD) once,
 * with its closest frame's distance, the variant that gave it and the
 * frame's time; sorted by distance then id.  *out is malloc'd (free()).
 * Threads as vigil_bank_match_pdq. */
typedef struct vigil_bank_frame_match {
  vigil_bank_entry entry; /* a vpdq entry (frames NULL) */
  int distance;
  int variant;
  double timestamp; /* seconds into the bank video */
} vigil_bank_frame_match;
VIGIL_API int vigil_bank_match_pdq_in_videos(vigil_bank_matcher *m, const vigil_pdq_hash *qs, int nq, int threshold,
                                             const vigil_bank_filter *f, vigil_bank_frame_match **out, size_t *n,
                                             vigil_error *err);

#ifdef __cplusplus
}
#endif
#endif
