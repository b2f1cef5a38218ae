/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil/network.h - link ads into the groups (operations) behind them.
 *
 * A linker collects ads, finds two kinds of links and groups the ads:
 *
 *   identifier links  ads sharing a normalised phone, e-mail, handle or an
 *                     image PDQ hash within a Hamming threshold;
 *   template links    ads whose normalised word-shingle sets are near
 *                     duplicates (MinHash/LSH candidates, verified by exact
 *                     Jaccard similarity of the shingle sets).
 *
 * Groups are the connected components of both kinds of links (union-find),
 * except that "hub" identifiers - a number shared by several otherwise
 * separate groups, such as a hotel or agency line - are detected and kept as
 * evidence without merging anything (see docs/network.md).  Each group gets
 * counts of distinct phones/names/locations, aggregated indicator scores, the
 * text template its ads share (constant words and typed slots), and a risk
 * score with its reasons; groups are ranked by risk.
 *
 * Extraction is a swap point: vigil_link_extractor says how identifiers and
 * an indicator score come out of an ad's text.  By default the text
 * capability's contact extractor and ad scanner (vigil/text.h) are used;
 * a small built-in one (NANP phones in digits with any separators, plain
 * e-mails, a few handle prefixes, "my name is" names, a short indicator
 * lexicon) is there for callers that want no dependency.
 *
 * State (shingle sets, LSH band keys, template links, identifiers) can be
 * saved to and loaded from SQLite so a day's new ads are added without
 * reprocessing the old ones.
 *
 * Threads: a linker is changed by one thread at a time (add, group, load,
 * free); its const functions (counts, groups, members, hubs, the writers,
 * save) only read it, so they may run in several threads at once while no
 * thread changes it.  Separate linkers are independent.  vigil_linker_add_jsonl and
 * _add_file run up to vigil_link_opts.threads workers, the calling thread
 * among them, and join the others before returning; the extractor's scan
 * runs on each worker with the thread state its thread_init made there.
 * The built-in extractor may be shared by any number of linkers.
 *
 * Ownership: vigil_linker_new copies the options and the extractor
 * structure, but keeps the extractor's ctx: a caller's extractor (such as
 * one from vigil_link_text_extractor_new) must outlive every linker using
 * it.  Input buffers and paths are only read during a call.  A group
 * returned by vigil_linker_group_get, its strings, and the ids that
 * vigil_linker_group_members lists belong to the linker: they stay valid
 * until the next add, group, load or free.  The array holding those ids is
 * the caller's, as is every stream passed to a vigil_linker_fwrite_
 * function (written and flushed, never closed).
 */
#ifndef VIGIL_NETWORK_H
#define VIGIL_NETWORK_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "vigil/common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum vigil_evidence_kind {
  VIGIL_EV_PHONE = 0, /* value: national digits, e.g. "2135550123" */
  VIGIL_EV_EMAIL = 1, /* value: lowercased address */
  VIGIL_EV_HANDLE = 2, /* value: "service:name", lowercased */
  VIGIL_EV_IMAGE = 3,  /* value: 64 hex digits of a PDQ hash */
  VIGIL_EV_NAME = 4,   /* value: a stated name; counted, never used to link */
  VIGIL_EV_KINDS = 5
};

/* Receives one piece of evidence found at text[start .. start+span). */
typedef void (*vigil_link_emit_fn)(void *ectx, int kind, const char *value, size_t start, size_t span);

/* How evidence and an indicator score come out of an ad's text.  scan()
 * runs on worker threads: each worker calls thread_init once (when given)
 * and passes the per-thread state it made to scan(); thread_done frees it.
 * scan() reports evidence through emit and returns the ad's indicator score
 * in [0,1]; it must accept any bytes (invalid UTF-8 too). */
typedef struct vigil_link_extractor {
  int (*thread_init)(void *ctx, void **tctx); /* NULL: tctx = ctx */
  void (*thread_done)(void *tctx);            /* may be NULL */
  double (*scan)(void *tctx, const char *text, size_t len, vigil_link_emit_fn emit, void *ectx);
  void *ctx;
} vigil_link_extractor;

/* The small built-in extractor (never NULL; needs no thread state). */
VIGIL_API const vigil_link_extractor *vigil_link_builtin_extractor(void);

/* An extractor over the text capability (vigil/text.h): normalised,
 * obfuscation-aware contacts (phones as national digits when +1, else
 * E.164 digits; e-mails; handles as "platform:name") and its ad-indicator
 * risk as the score, plus the built-in extractor's stated names.  Free it
 * with vigil_link_text_extractor_free. */
VIGIL_API int vigil_link_text_extractor_new(vigil_link_extractor **out, vigil_error *err);
VIGIL_API void vigil_link_text_extractor_free(vigil_link_extractor *ex);

typedef struct vigil_link_opts {
  int use_identifiers;      /* link by shared phones/e-mails/handles/images (default 1) */
  int use_templates;        /* link by near-duplicate text (default 1) */
  int min_size;             /* smallest group reported (default 2) */
  double jaccard;           /* template link: shingle Jaccard at least this (default 0.5) */
  int min_shingles;         /* ads with fewer shingles never template-link (default 8) */
  int pdq_distance;         /* image link: PDQ Hamming distance at most this (default 31) */
  int hub_min_groups;       /* identifier is a hub when it touches >= this many separate... */
  double hub_min_cover;     /* ...established groups covering >= this share of its ads (3, 0.5) */
  int hub_max_degree;       /* ...or when more than this many ads carry it (default 1000; 0 = no cap) */
  int threads;              /* worker threads for text processing (default 2) */
  int max_templates;        /* extract templates for this many top groups (default 200) */
  const vigil_link_extractor *extractor; /* NULL: the text capability's (built-in if it fails) */
  /* Polled on the calling thread while ads are added (every few hundred
   * lines) and between grouping steps; when it returns non-zero the call
   * stops with VIGIL_EIO "cancelled" (a server whose client has gone, or
   * that is stopping).  NULL: never. */
  int (*cancelled)(void *arg);
  void *cancel_arg;
} vigil_link_opts;

VIGIL_API void vigil_link_opts_init(vigil_link_opts *o);

typedef struct vigil_linker vigil_linker;

VIGIL_API int vigil_linker_new(vigil_linker **out, const vigil_link_opts *opts, vigil_error *err);
VIGIL_API void vigil_linker_free(vigil_linker *l);

/* Adds ads from a buffer of JSON Lines: one object per line with "id" and
 * "text" or "title"/"body"; optional "posted_at", "location", "url",
 * "images" (array of PDQ hex strings or {"pdq": hex} objects) and
 * "phones"/"emails"/"handles" (arrays of strings, used instead of extraction).
 * Lines that are not valid ads are skipped and counted in *bad (may be NULL);
 * the first problem is described in err even when VIGIL_OK is returned with
 * *bad > 0.  Duplicate ids are skipped as bad lines. */
VIGIL_API int vigil_linker_add_jsonl(vigil_linker *l, const char *buf, size_t len, size_t *bad, vigil_error *err);
/* The same, reading a file ("-" is stdin). */
VIGIL_API int vigil_linker_add_file(vigil_linker *l, const char *path, size_t *bad, vigil_error *err);

VIGIL_API size_t vigil_linker_ad_count(const vigil_linker *l);

/* Groups the ads (cheap: union-find over the stored links) and ranks them. */
VIGIL_API int vigil_linker_group(vigil_linker *l, vigil_error *err);

/* One ranked group, valid until the next add/group/free. */
typedef struct vigil_link_group {
  size_t rank;         /* 0 = highest risk */
  size_t n_ads;
  size_t n_phones, n_emails, n_handles, n_images, n_names, n_locations;
  size_t n_hubs;       /* hub identifiers seen in the group (not used to link) */
  size_t n_template_links, n_identifier_links;
  double score_mean, score_max; /* indicator scores of the members */
  double risk;         /* [0,1] */
  const char *reasons; /* "; "-separated, human readable */
  const char *template_text; /* the main template with [SLOT] markers, or "" */
} vigil_link_group;

VIGIL_API size_t vigil_linker_group_count(const vigil_linker *l);
VIGIL_API const vigil_link_group *vigil_linker_group_get(const vigil_linker *l, size_t rank);
/* The rank of the group holding the ad with this id in *rank; VIGIL_ENOTFOUND
 * for an unknown id or an ad in no group of at least min_size ads, VIGIL_EINVAL
 * before vigil_linker_group. */
VIGIL_API int vigil_linker_group_of(const vigil_linker *l, const char *ad_id, size_t *rank, vigil_error *err);
/* Ids of a group's members, in input order, in a new array (*ids, free it
 * with free(); the strings in it belong to the linker); *n receives the
 * count.  VIGIL_ENOTFOUND for a rank past the last group. */
VIGIL_API int vigil_linker_group_members(const vigil_linker *l, size_t rank, const char ***ids, size_t *n,
                                         vigil_error *err);
/* Whether the identifier (kind, value) was judged a hub. */
VIGIL_API int vigil_linker_is_hub(const vigil_linker *l, int kind, const char *value);

/* Outputs of a grouped linker (VIGIL_EINVAL before vigil_linker_group).
 * The write_ functions create or truncate path (the file is left partly
 * written on failure, and the message names path); the fwrite_ functions
 * write to an open stream, flush it and leave it open (a memory stream from
 * open_memstream holds the whole output when they return). */
VIGIL_API int vigil_linker_write_json(const vigil_linker *l, const char *path, vigil_error *err);
VIGIL_API int vigil_linker_write_graphml(const vigil_linker *l, const char *path, vigil_error *err);
VIGIL_API int vigil_linker_write_dot(const vigil_linker *l, const char *path, vigil_error *err);
VIGIL_API int vigil_linker_write_html(const vigil_linker *l, const char *path, vigil_error *err);
VIGIL_API int vigil_linker_fwrite_json(const vigil_linker *l, FILE *f, vigil_error *err);
VIGIL_API int vigil_linker_fwrite_graphml(const vigil_linker *l, FILE *f, vigil_error *err);
VIGIL_API int vigil_linker_fwrite_dot(const vigil_linker *l, FILE *f, vigil_error *err);
VIGIL_API int vigil_linker_fwrite_html(const vigil_linker *l, FILE *f, vigil_error *err);

/* State for incremental runs: save everything needed to add more ads later
 * (overwrites path); load replaces an empty linker's content with it. */
VIGIL_API int vigil_linker_save(const vigil_linker *l, const char *path, vigil_error *err);
VIGIL_API int vigil_linker_load(vigil_linker *l, const char *path, vigil_error *err);

#ifdef __cplusplus
}
#endif
#endif
