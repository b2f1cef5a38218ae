/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net_internal.h - the linker's private data, shared by the files in lib/network.
 *
 * Ads live in one growing array (index = uint32 ad number, input order).
 * Identifiers (phones, e-mails, handles, images, names) are interned once
 * into a table keyed by (kind, value); an ad's evidence refers to them by
 * number with the byte span where it was found (for highlighting).
 *
 * Template links are found online as ads arrive: each ad's sorted shingle
 * hashes give a one-permutation MinHash signature cut into NET_BANDS band
 * keys; a hash map from band key to the newest ad in that bucket plus a
 * per-(ad,band) "next" array chain the buckets.  A new ad is verified against
 * the first few ads of each of its buckets by exact Jaccard of the shingle
 * sets; verified links are kept (they explain the groups) and also merged in
 * a template union-find so that ads already known to be linked are not
 * verified again.  Grouping (group.c) is redone from these stored links on
 * every call; it is linear and cheap compared with text processing.
 */
#ifndef VIGIL_NET_INTERNAL_H
#define VIGIL_NET_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "common/internal.h"
#include "common/grow.h"
#include "vigil/network.h"

#define NET_BANDS 16
#define NET_ROWS 4
#define NET_K (NET_BANDS * NET_ROWS) /* MinHash values per ad */
#define NET_SHINGLE 3                /* words per shingle */
#define NET_VERIFY 4                 /* bucket members verified per new ad and band */
#define NET_NONE UINT32_MAX

/* ---- small containers (util.c) ---- */
typedef struct vigil__net_u64map { /* open addressing, key 0 reserved as empty */
  uint64_t *keys;
  uint32_t *vals;
  size_t cap, n;
} vigil__net_u64map;
int vigil__net_u64map_init(vigil__net_u64map *m, size_t hint);
void vigil__net_u64map_free(vigil__net_u64map *m);
uint32_t *vigil__net_u64map_slot(vigil__net_u64map *m, uint64_t key, int *created); /* NULL on ENOMEM */
uint32_t vigil__net_u64map_get(const vigil__net_u64map *m, uint64_t key);          /* NET_NONE if absent */

uint32_t vigil__net_uf_find(uint32_t *parent, uint32_t x);
/* Union by index (smaller root wins, keeps results deterministic); returns 1 if merged. */
int vigil__net_uf_union(uint32_t *parent, uint32_t a, uint32_t b);

uint64_t vigil__net_hash64(const void *p, size_t n, uint64_t seed);
static inline uint64_t vigil__net_mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

/* ---- text (shingle.c) ---- */
typedef struct vigil__net_tok {
  uint32_t start, len; /* bytes in the text */
  uint64_t exact;      /* hash of the lowercased token */
  uint64_t norm;       /* same, but every all-digit token hashes as "#" */
  uint8_t digits;      /* the token is all digits */
} vigil__net_tok;
/* Word tokens (runs of letters/numbers, Unicode-aware; invalid bytes separate). */
int vigil__net_tokenize(const char *text, size_t len, vigil__net_tok **out, size_t *n);
/* Sorted unique 32-bit hashes of NET_SHINGLE-word shingles of normalised tokens. */
int vigil__net_shingles(const vigil__net_tok *t, size_t nt, uint32_t **out, uint32_t *n);
void vigil__net_band_keys(const uint32_t *sh, uint32_t n, uint64_t keys[NET_BANDS]);
double vigil__net_jaccard(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb);

/* ---- the linker ---- */
typedef struct vigil__net_ev {
  uint32_t ident;
  uint32_t start, span;
  uint8_t kind;
} vigil__net_ev;

typedef struct vigil__net_ad {
  char *id, *text, *location, *posted_at, *url;
  uint32_t text_len, title_len; /* text = title "\n" body; title_len bytes of title */
  vigil__net_ev *ev;
  uint32_t n_ev;
  uint32_t *sh; /* sorted unique shingle hashes */
  uint32_t n_sh;
  uint64_t bands[NET_BANDS];
  float score;
} vigil__net_ad;

typedef struct vigil__net_ident {
  char *value;
  uint8_t kind;
  uint8_t hub; /* set by grouping */
  uint32_t canon; /* images: the representative of near-equal hashes; else itself */
} vigil__net_ident;

typedef struct vigil__net_edge {
  uint32_t a, b;
  float sim;
} vigil__net_edge;

typedef struct vigil__net_slot_ex { /* a template item */
  char *text;    /* constant: the words; slot: the type name (NAME, PHONE, ...) */
  int slot;      /* 0 constant, 1 slot */
  char **ex;     /* slot: up to 4 distinct example fillers */
  int n_ex;
} vigil__net_titem;

typedef struct vigil__net_template {
  uint32_t medoid;  /* ad number the constants come from */
  uint32_t n_used;  /* members aligned */
  vigil__net_titem *items;
  size_t n_items;
  double mdl_bits, raw_bits; /* description length with the template, and without */
  double keep;                /* the consensus share chosen by MDL */
  char *rendered;             /* constants and [SLOT] markers */
} vigil__net_template;

typedef struct vigil__net_group {
  vigil_link_group pub;
  uint32_t *members; /* ascending ad numbers */
  size_t n;
  uint32_t *idents; /* distinct identifiers seen in the group (hubs included) */
  size_t n_idents;
  char **locations; /* point into the ads, or into placebuf */
  size_t n_loc;
  char *placebuf;   /* places read from URLs (place_of), owned */
  const char *first_seen, *last_seen; /* posted_at range, or NULL */
  vigil__net_template *tpl; /* template of the largest template component, or NULL */
  char *reasons;
  double risk;
  uint32_t root;
} vigil__net_group;

struct vigil_linker {
  vigil_link_opts o;
  vigil_link_extractor ex;
  vigil_link_extractor *owned_ex; /* the default text extractor, freed with the linker */
  vigil__net_ad *ads;
  size_t n_ads, cap_ads;
  vigil__net_u64map idmap; /* ad id hash -> ad number (collisions checked by strcmp chain) */
  vigil__net_ident *idents;
  size_t n_idents, cap_idents;
  vigil__net_u64map identmap; /* hash(kind,value) -> ident number, probing on collision */
  struct vigil_pdq_index *img_ix; /* image identifiers by PDQ hash (id = ident number), for image links */
  /* LSH */
  vigil__net_u64map buckets; /* band key -> newest ad */
  uint32_t *next;     /* [ad * NET_BANDS + band] -> older ad in the bucket */
  uint32_t *tuf;      /* template union-find over ads */
  vigil__net_edge *tedges;
  size_t n_tedges, cap_tedges;
  /* grouping results */
  int grouped;
  vigil__net_group *groups;
  size_t n_groups;
  long *group_of;   /* per ad: rank or -1 */
  uint32_t *uf;     /* final union-find */
  uint32_t *ident_off, *ident_ads; /* CSR: ads of each identifier */
  vigil__net_edge *iedges; /* identifier links kept for explanation (spanning) */
  uint32_t *iedge_ident;
  size_t n_iedges;
};

/* linker.c */
int vigil__net_ident_intern(vigil_linker *l, int kind, const char *value, uint32_t *out, vigil_error *err);
uint32_t vigil__net_ad_lookup(const vigil_linker *l, const char *id);
int vigil__net_ad_index_id(vigil_linker *l, uint32_t ad, vigil_error *err);
/* Inserts an ad (already holding shingles and band keys) into the LSH
 * buckets, verifying and recording template links. */
int vigil__net_lsh_insert(vigil_linker *l, uint32_t ad, vigil_error *err);
int vigil__net_reserve_ads(vigil_linker *l, size_t n, vigil_error *err);
void vigil__net_ad_free(vigil__net_ad *a);
void vigil__net_groups_free(vigil_linker *l);
int vigil__net_image_link(vigil_linker *l, uint32_t ident, vigil_error *err);

/* template.c */
int vigil__net_template_build(const vigil_linker *l, const uint32_t *members, size_t n, vigil__net_template **out,
                       vigil_error *err);
void vigil__net_template_free(vigil__net_template *t);

/* extract.c */
/* Stated names only, from the built-in patterns (thread-safe). */
void vigil__net_builtin_names(const char *text, size_t len, vigil_link_emit_fn emit, void *ectx);

/* outputs (out_*.c) */
/* A writer's first step (out_graph.c): VIGIL_EINVAL unless l and f are
 * given and the ads are grouped. */
int vigil__net_begin_out(const vigil_linker *l, FILE *f, vigil_error *err);
/* A writer's last step: flushes f (never closes it) and turns a failed
 * write anywhere in it into VIGIL_EIO; rc, the writer's own status, wins. */
int vigil__net_end_out(FILE *f, int rc, vigil_error *err);
/* The vigil_linker_write_* functions: opens path (once the ads are
 * grouped), runs the FILE* writer, closes, and prefixes an error with path. */
typedef int (*vigil__net_fwriter)(const vigil_linker *l, FILE *f, vigil_error *err);
int vigil__net_write_path(const vigil_linker *l, const char *path, vigil__net_fwriter w, vigil_error *err);
/* Template links bucketed by group rank: (*off)[g]..(*off)[g+1] index into *idx. */
int vigil__net_edges_by_group(const vigil_linker *l, uint32_t **off, uint32_t **idx);
void vigil__net_xml_escape(FILE *f, const char *s, size_t n);
const char *vigil__net_kind_name(int kind);

#endif
