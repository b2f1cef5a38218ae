/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_hma.c - lookups in the shape of Meta's Hasher-Matcher-Actioner (HMA
 * 2.0, "Open Media Match"), so an HMA client can point at vigil:
 *
 *   GET  /m/raw_lookup?signal_type=pdq&signal=HEX[&banks=A,B][&include_distance=true]
 *        -> {"matches": [ID, ...]} or [{"bank_content_id": ID, "distance": "4"}]
 *   GET  /m/lookup?signal_type=pdq&signal=HEX[&banks=A,B]
 *        -> {"BANK": [{"bank_content_id": ID, "distance": "4"}], ...}
 *   POST /m/lookup  (multipart upload of a photo)
 *        -> {"pdq": {"BANK": [...]}}
 *   POST /h/hash    (multipart upload of a photo)  -> {"pdq": HEX}
 *
 * Ids are vigil's bank entry ids, distances strings as HMA prints them.
 * Differences, documented in docs/server.md: URLs are never fetched (the
 * service makes no outbound requests; send the bytes), only enabled banks
 * are searched (HMA's raw_lookup ignores the enable flag), there is no
 * per-bank roll-out coin flip, and signal types are pdq, md5, sha256,
 * video_md5 (which also finds md5 entries) and vpdq (a frame list as
 * python-threatexchange serialises it).  POST /m/lookup takes a video too:
 *        -> {"video_md5": {"BANK": [...]}, "vpdq": {"BANK": [...]}}
 * Every route opens a case (source "hma") on a match in a bank flagged for
 * review, as /v1/match does; a vpdq signal's case carries the segments.
 */
#include "server/req.h"
#include "server/banks.h"
#include "server/cases.h"
#include "server/handlers.h"
#include "server/gate.h"
#include "server/vhash.h"
#include "common/hex.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/bank.h"
#include "vigil/media.h"

#define MAX_BANKS 16

typedef struct hma_q {
  const char *banks[MAX_BANKS];
  size_t nbanks;
  char buf[1024];
} hma_q;

static int parse_banks(vigil__req *r, hma_q *q) {
  const char *b = vigil__req_query(r, "banks");
  q->nbanks = 0;
  if (!b) return 1;
  if (strlen(b) >= sizeof q->buf) goto bad;
  strcpy(q->buf, b);
  for (char *save = NULL, *t = strtok_r(q->buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (q->nbanks == MAX_BANKS) goto bad;
    q->banks[q->nbanks++] = t;
  }
  return 1;
bad:
  vigil__reply_error(r, 400, "invalid", "banks: at most %d comma-separated names", MAX_BANKS);
  return 0;
}

static vigil_signal_type signal_type_of(const char *name) {
  if (!name) return VIGIL_SIGNAL_NONE;
  vigil_signal_type t = vigil_signal_from_name(name, strlen(name));
  return vigil_signal_value_len(t) ? t : VIGIL_SIGNAL_NONE;
}

/* Matches of one signal, or replies with an error (returns 0 then). */
static int lookup(vigil__req *r, vigil_signal_type t, const uint8_t *value, const hma_q *q, vigil_bank_match **out,
                  size_t *n, int *rc) {
  vigil_bank_filter f = {q->banks, q->nbanks, NULL, 0};
  vigil__banks *b = vigil__server_banks(r->srv);
  *out = NULL;
  *n = 0;
  if ((*rc = vigil__banks_lock_query(b, &r->err))) return 0;
  if (t == VIGIL_SIGNAL_PDQ) {
    vigil_pdq_hash h;
    memcpy(h.bytes, value, VIGIL_PDQ_BYTES);
    *rc = vigil_bank_match_pdq(b->m, &h, 1, VIGIL_PDQ_MATCH_THRESHOLD, &f, out, n, &r->err);
  } else {
    *rc = vigil_bank_match_exact(b->st, t, value, &f, out, n, &r->err);
  }
  if (!*rc && t == VIGIL_SIGNAL_VIDEO_MD5) {
    /* a video's MD5 may also be banked as a plain md5 entry (HMA took
     * video_md5 as md5 before vigil had the type): both are looked up */
    vigil_bank_match *more = NULL;
    size_t nmore = 0;
    *rc = vigil_bank_match_exact(b->st, VIGIL_SIGNAL_MD5, value, &f, &more, &nmore, &r->err);
    if (!*rc && nmore) {
      vigil_bank_match *all = realloc(*out, (*n + nmore) * sizeof **out);
      if (!all) *rc = vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
      else {
        memcpy(all + *n, more, nmore * sizeof *more);
        *out = all;
        *n += nmore;
      }
    }
    free(more);
  }
  vigil__banks_unlock_query(b);
  if (*rc) {
    free(*out);
    *out = NULL;
    *n = 0;
  }
  return *rc == VIGIL_OK;
}

/* As /v1/match does: a hit in a bank flagged for review opens a case
 * (source "hma"), so an HMA client's uploads reach the review queue too.
 * The HMA answer itself is unchanged (its clients read it by bank name);
 * the case is on record in the audit log. */
static int open_case_if_flagged(vigil__req *r, vigil_signal_type t, const uint8_t *value, const vigil_bank_match *m,
                                size_t n) {
  const char *flagged = NULL;
  int best = 1 << 20;
  vigil__review_memo memo = {.n = 0};
  for (size_t i = 0; i < n; i++) {
    int review = 0;
    int rc = vigil__bank_review_memo(vigil__req_store(r), &memo, m[i].entry.bank, &review, &r->err);
    if (rc) return rc;
    if (review && m[i].distance < best) flagged = m[i].entry.bank, best = m[i].distance;
  }
  if (!flagged) return VIGIL_OK;
  char hex[2 * VIGIL_BANK_VALUE_MAX + 1], reason[200];
  vigil_signal_to_hex(value, vigil_signal_value_len(t), hex);
  snprintf(reason, sizeof reason, "matched bank %s at distance %d (HMA lookup)", flagged, best);
  json_t *hits = json_array();
  for (size_t i = 0; hits && i < n && i < 100; i++) {
    json_t *o = vigil__entry_json(&m[i].entry);
    if (o) json_object_set_new(o, "distance", json_integer(m[i].distance));
    if (!o || json_array_append_new(hits, o) != 0) {
      json_decref(hits);
      hits = NULL;
    }
  }
  json_t *d = hits ? json_pack("{s:o}", "matches", hits) : NULL;
  char *detail = d ? json_dumps(d, JSON_COMPACT) : NULL;
  json_decref(d);
  if (!detail) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  vigil_case_new c = {0};
  c.source = "hma";
  if (t == VIGIL_SIGNAL_PDQ) c.pdq = hex;
  else if (t == VIGIL_SIGNAL_MD5 || t == VIGIL_SIGNAL_VIDEO_MD5) c.md5 = hex;
  else if (t == VIGIL_SIGNAL_SHA256) c.sha256 = hex;
  c.reason = reason;
  c.detail_json = detail;
  c.opened_by = r->key.id;
  int64_t id = 0;
  int rc = vigil_case_open(vigil__req_store(r), &c, &id, &r->err);
  free(detail);
  if (rc) return rc;
  r->audit_detail = json_pack("{s:I}", "case_id", (json_int_t)id);
  r->force_audit = 1;
  return VIGIL_OK;
}

static json_t *by_bank(const vigil_bank_match *m, size_t n) {
  json_t *o = json_object();
  for (size_t i = 0; o && i < n; i++) {
    json_t *list = json_object_get(o, m[i].entry.bank);
    if (!list) {
      list = json_array();
      json_object_set_new(o, m[i].entry.bank, list);
    }
    char d[16];
    snprintf(d, sizeof d, "%d", m[i].distance);
    json_array_append_new(list, json_pack("{s:I, s:s}", "bank_content_id", (json_int_t)m[i].entry.id, "distance", d));
  }
  return o;
}

/* signal_type + signal from the query string. */
static int query_signal(vigil__req *r, vigil_signal_type *t, uint8_t *value) {
  if (vigil__req_query(r, "url"))
    return vigil__reply_error(r, 400, "url_not_supported",
                              "vigil does not fetch URLs; POST the content as multipart/form-data instead"),
           0;
  const char *st = vigil__req_query(r, "signal_type"), *sig = vigil__req_query(r, "signal");
  if (!st || !sig)
    return vigil__reply_error(r, 400, "missing_field", "both signal and signal_type are required"), 0;
  if ((*t = signal_type_of(st)) == VIGIL_SIGNAL_NONE)
    return vigil__reply_error(r, 400, "invalid", "No such SignalType '%.64s'", st), 0;
  vigil_error e;
  if (vigil_signal_parse(*t, sig, strlen(sig), value, &e))
    return vigil__reply_error(r, 400, "invalid", "invalid signal: %s", e.message), 0;
  return 1;
}

static int vpdq_signal_lookup(vigil__req *r, const hma_q *q, int raw, int with_distance);

/* signal_type=vpdq: the signal is a frame list, not a fixed-size value. */
static int is_vpdq(vigil__req *r) {
  const char *st = vigil__req_query(r, "signal_type");
  return st && !strcmp(st, "vpdq") && !vigil__req_query(r, "url");
}

int vigil__h_hma_raw_lookup(vigil__req *r) {
  hma_q q;
  vigil_signal_type t;
  uint8_t value[VIGIL_BANK_VALUE_MAX];
  int with_distance = 0;
  if (!vigil__query_bool(r, "include_distance", &with_distance)) return VIGIL_OK;
  if (!parse_banks(r, &q)) return VIGIL_OK;
  if (is_vpdq(r)) return vpdq_signal_lookup(r, &q, 1, with_distance);
  if (!query_signal(r, &t, value)) return VIGIL_OK;
  vigil_bank_match *m;
  size_t n;
  int rc;
  if (!lookup(r, t, value, &q, &m, &n, &rc)) return rc;
  if ((rc = open_case_if_flagged(r, t, value, m, n))) {
    free(m);
    return rc;
  }
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < n; i++) {
    if (!with_distance) {
      json_array_append_new(arr, json_integer((json_int_t)m[i].entry.id));
      continue;
    }
    char d[16];
    snprintf(d, sizeof d, "%d", m[i].distance);
    json_array_append_new(arr, json_pack("{s:I, s:s}", "bank_content_id", (json_int_t)m[i].entry.id, "distance", d));
  }
  free(m);
  if (!arr) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  return vigil__reply_json(r, 200, json_pack("{s:o}", "matches", arr));
}

int vigil__h_hma_lookup(vigil__req *r) {
  hma_q q;
  vigil_signal_type t;
  uint8_t value[VIGIL_BANK_VALUE_MAX];
  if (!parse_banks(r, &q)) return VIGIL_OK;
  if (is_vpdq(r)) return vpdq_signal_lookup(r, &q, 0, 0);
  if (!query_signal(r, &t, value)) return VIGIL_OK;
  vigil_bank_match *m;
  size_t n;
  int rc;
  if (!lookup(r, t, value, &q, &m, &n, &rc)) return rc;
  if ((rc = open_case_if_flagged(r, t, value, m, n))) {
    free(m);
    return rc;
  }
  json_t *o = by_bank(m, n);
  free(m);
  if (!o) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  return vigil__reply_json(r, 200, o);
}

/* The PDQ hash of an uploaded photo, or a reply (400/413/422/503) and 0:
 * a lookup never answers "no match" for a picture it could not hash. */
static int hash_upload(vigil__req *r, vigil_pdq_hash *h) {
  if (r->body_len == 0)
    return vigil__reply_error(r, 400, "missing_file", "Missing multipart/form-data file upload"), 0;
  vigil_pdq_result res;
  vigil_hash_opts opts;
  vigil_hash_opts_default(&opts);
  vigil_error e;
  vigil_error_clear(&e);
  int rc = vigil__hash_upload(r, &opts, &res, NULL, &e);
  if (rc) return vigil__reply_hash_error(r, rc, &e), 0;
  *h = res.hash[0];
  return 1;
}

/* The vPDQ lookup of a video's frames: {"BANK": [{"bank_content_id",
 * "distance"}]} with python-threatexchange's way of printing a vPDQ
 * similarity as the distance ("92%[88%]": query and compared percentages). */
static int vpdq_hits(vigil__req *r, const hma_q *q, const vigil_video_frame *frames, size_t n,
                     vigil_bank_video_hit **hits, size_t *nh) {
  vigil_bank_filter f = {q->banks, q->nbanks, NULL, 0};
  vigil__banks *b = vigil__server_banks(r->srv);
  int rc = vigil__banks_lock_query(b, &r->err);
  if (rc) return rc;
  rc = vigil_bank_match_video_filtered(b->m, frames, n, NULL, &f, hits, nh, &r->err); /* HMA's semantics */
  vigil__banks_unlock_query(b);
  return rc;
}

/* python-threatexchange's VPDQSimilarityInfo.pretty_str: "92%[88%]". */
static void vpdq_distance(const vigil_bank_video_hit *h, char out[48]) {
  snprintf(out, 48, "%.0f%%[%.0f%%]", h->query_pct, h->compared_pct);
}

/* The matching hits as bank matches (distance 0), for open_case_if_flagged. */
static vigil_bank_match *hits_as_matches(const vigil_bank_video_hit *h, size_t nh, size_t *n) {
  vigil_bank_match *m = calloc(nh ? nh : 1, sizeof *m);
  *n = 0;
  for (size_t i = 0; m && i < nh; i++)
    if (h[i].matched) m[(*n)++].entry = h[i].entry;
  return m;
}

static int vpdq_by_bank(vigil__req *r, const hma_q *q, const vigil_video_frame *frames, size_t n, json_t **out,
                        vigil_bank_match **vm, size_t *nvm) {
  vigil_bank_video_hit *hits = NULL;
  size_t nh = 0;
  *out = NULL;
  *vm = NULL;
  *nvm = 0;
  int rc = vpdq_hits(r, q, frames, n, &hits, &nh);
  if (rc) return rc;
  json_t *o = json_object();
  for (size_t i = 0; o && i < nh; i++) {
    if (!hits[i].matched) continue;
    json_t *list = json_object_get(o, hits[i].entry.bank);
    if (!list) {
      list = json_array();
      json_object_set_new(o, hits[i].entry.bank, list);
    }
    char d[48];
    vpdq_distance(&hits[i], d);
    json_array_append_new(list,
                          json_pack("{s:I, s:s}", "bank_content_id", (json_int_t)hits[i].entry.id, "distance", d));
  }
  size_t nm = 0;
  vigil_bank_match *m = o ? hits_as_matches(hits, nh, &nm) : NULL;
  vigil_bank_video_hits_free(hits, nh);
  if (!o || !m) {
    json_decref(o);
    free(m);
    return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  }
  *out = o;
  *vm = m; /* the caller opens the case, one for digest and frames together */
  *nvm = nm;
  return VIGIL_OK;
}

/* POST /m/lookup with a video (spooled, server.c): as HMA answers for a
 * video, {"video_md5": {...}, "vpdq": {...}}.  A video that cannot be
 * hashed is an error (422/413/503), unless its MD5 matched. */
static int lookup_video(vigil__req *r, const hma_q *q) {
  uint8_t md5[VIGIL_BANK_VALUE_MAX];
  vigil_error e;
  if (vigil_signal_parse(VIGIL_SIGNAL_MD5, r->spool.md5_hex, 32, md5, &e))
    return vigil__seterr(&r->err, VIGIL_EINTERNAL, "digest: %s", e.message);
  vigil_bank_match *m;
  size_t n;
  int rc;
  if (!lookup(r, VIGIL_SIGNAL_VIDEO_MD5, md5, q, &m, &n, &rc)) return rc;
  json_t *out = json_object(), *md5s = by_bank(m, n);
  if (!out || !md5s || json_object_set_new(out, "video_md5", md5s)) {
    json_decref(out);
    free(m);
    return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  }
  vigil_video_frame *frames = NULL;
  size_t nframes = 0;
  vigil_error_clear(&e);
  int hrc = vigil__video_hash(r, r->conn == NULL, &frames, &nframes, NULL, &e);
  if (hrc && n == 0) {
    json_decref(out);
    free(m);
    vigil__reply_video_error(r, hrc, &e);
    return VIGIL_OK;
  }
  json_t *vp = NULL;
  vigil_bank_match *vm = NULL;
  size_t nvm = 0;
  if (!hrc) rc = vpdq_by_bank(r, q, frames, nframes, &vp, &vm, &nvm);
  else { /* the digest matched, so the answer stands; that the frames were not looked at is said */
    json_object_set_new(out, "vpdq_error", json_string(e.message));
    snprintf(r->logmsg, sizeof r->logmsg, "vpdq not hashed: %s", e.message);
  }
  vigil_video_frames_free(frames);
  if (!rc && vp) json_object_set_new(out, "vpdq", vp);
  if (!rc && nvm) { /* one case for the digest and the frame matches together */
    vigil_bank_match *all = realloc(m, (n + nvm) * sizeof *m);
    if (!all) rc = vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
    else {
      memcpy(all + n, vm, nvm * sizeof *vm);
      m = all;
      n += nvm;
    }
  }
  free(vm);
  if (!rc) rc = open_case_if_flagged(r, VIGIL_SIGNAL_VIDEO_MD5, md5, m, n);
  free(m);
  if (rc) {
    json_decref(out);
    return rc;
  }
  return vigil__reply_json(r, 200, out);
}

int vigil__h_hma_lookup_post(vigil__req *r) {
  hma_q q;
  vigil_pdq_hash h;
  if (!parse_banks(r, &q)) return VIGIL_OK;
  if (r->spool.fd >= 0) return lookup_video(r, &q);
  if (!hash_upload(r, &h)) return VIGIL_OK;
  vigil_bank_match *m;
  size_t n;
  int rc;
  if (!lookup(r, VIGIL_SIGNAL_PDQ, h.bytes, &q, &m, &n, &rc)) return rc;
  if ((rc = open_case_if_flagged(r, VIGIL_SIGNAL_PDQ, h.bytes, m, n))) {
    free(m);
    return rc;
  }
  json_t *o = by_bank(m, n);
  free(m);
  if (!o) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  return vigil__reply_json(r, 200, json_pack("{s:o}", "pdq", o));
}

int vigil__h_hma_hash(vigil__req *r) {
  vigil_pdq_hash h;
  if (!hash_upload(r, &h)) return VIGIL_OK;
  char hex[VIGIL_PDQ_HEX_LEN + 1];
  vigil_pdq_to_hex(&h, hex);
  return vigil__reply_json(r, 200, json_pack("{s:s}", "pdq", hex));
}

int vigil__h_hma_hash_get(vigil__req *r) {
  return vigil__reply_error(r, 400, "url_not_supported",
                            "vigil does not fetch URLs; POST the content as multipart/form-data to /h/hash");
}

/* The content id of a case a frame list opens: the caller's content_id,
 * else "vpdq-sha256:" and the SHA-256 of the list as python-threatexchange
 * serialises it (vigil_vpdq_to_te): the same list looked up again, however
 * it was spelled, names the same content (a sighting of the same case,
 * unless --no-group-sightings: sightings.c). */
static int vpdq_content_id(vigil__req *r, const vigil_video_frame *frames, size_t n, char out[80], const char **id) {
  *id = vigil__req_query(r, "content_id"); /* its length is checked by vigil_case_open (a 400) */
  if (*id && **id) return VIGIL_OK;
  *id = out;
  char *text = NULL;
  size_t len = 0;
  int rc = vigil_vpdq_to_te(frames, n, &text, &len, &r->err);
  if (rc) return rc;
  uint8_t d[EVP_MAX_MD_SIZE];
  unsigned dn = 0;
  int ok = EVP_Digest(text, len, d, &dn, EVP_sha256(), NULL);
  free(text);
  if (!ok || dn != 32) return vigil__seterr(&r->err, VIGIL_EINTERNAL, "vpdq: SHA-256 of the frame list failed");
  memcpy(out, "vpdq-sha256:", 12);
  vigil__hex_encode(d, dn, out + 12);
  return VIGIL_OK;
}

/* As /v1/match does for a video: a vPDQ match in a bank flagged for review
 * opens a case (source "hma") whose detail carries the matching bank
 * videos with both percentages and the aligned segments.  A frame list has
 * no file digest, so the case is named by its content id (above). */
static int vpdq_case_if_flagged(vigil__req *r, const vigil_video_frame *frames, size_t nframes,
                                const vigil_bank_video_hit *h, size_t nh) {
  const char *flagged = NULL;
  double best = -1;
  json_t *matches = json_array();
  if (!matches) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  int rc = VIGIL_OK;
  vigil__review_memo memo = {.n = 0};
  for (size_t i = 0; i < nh; i++) {
    if (!h[i].matched) continue; /* frames in common, under the percentages: no case, as /v1/match */
    int review = 0;
    if ((rc = vigil__bank_review_memo(vigil__req_store(r), &memo, h[i].entry.bank, &review, &r->err))) break;
    json_t *o = vigil__video_hit_json(&h[i]);
    if (!o || json_array_append_new(matches, o)) {
      rc = vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
      break;
    }
    if (review && h[i].query_pct > best) flagged = h[i].entry.bank, best = h[i].query_pct;
  }
  if (rc || !flagged) {
    json_decref(matches);
    return rc;
  }
  char derived[80], reason[200];
  const char *content_id = NULL;
  if ((rc = vpdq_content_id(r, frames, nframes, derived, &content_id))) {
    json_decref(matches);
    return rc;
  }
  snprintf(reason, sizeof reason, "video matched bank %s (vpdq, %.1f%% of the frames; HMA lookup)", flagged, best);
  json_t *wrap = vigil__match_case_detail(matches);
  json_decref(matches);
  if (wrap) {
    json_object_set_new(wrap, "media", json_string("video"));
    json_object_set_new(wrap, "signal_type", json_string("vpdq"));
    json_object_set_new(wrap, "frames", json_integer((json_int_t)nframes));
  }
  vigil_case_new c = {0};
  c.source = "hma";
  c.content_id = content_id;
  c.reason = reason;
  json_t *out = json_object(); /* case_id lands here; HMA's answer is unchanged */
  if (!out) {
    json_decref(wrap);
    return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  }
  rc = vigil__match_case_open(r, &c, wrap, NULL, "", out);
  if (!rc) {
    r->audit_detail = json_pack("{s:O}", "case_id", json_object_get(out, "case_id"));
    r->force_audit = 1;
  }
  json_decref(out);
  return rc;
}

/* GET /m/raw_lookup or /m/lookup with signal_type=vpdq: the signal is
 * python-threatexchange's serialisation of a frame list (HMA's), matched
 * with HMA's semantics; the answer has the route's HMA shape, a vPDQ
 * match's distance printed as python-threatexchange prints it.  A match in
 * a bank flagged for review opens a case carrying the segments. */
static int vpdq_signal_lookup(vigil__req *r, const hma_q *q, int raw, int with_distance) {
  const char *sig = vigil__req_query(r, "signal");
  if (!sig) return vigil__reply_error(r, 400, "missing_field", "both signal and signal_type are required");
  vigil_video_frame *frames = NULL;
  size_t n = 0;
  vigil_error e;
  if (vigil_vpdq_from_te(sig, strlen(sig), &frames, &n, &e))
    return vigil__reply_error(r, 400, "invalid", "invalid signal: %s", e.message);
  vigil_bank_video_hit *hits = NULL;
  size_t nh = 0;
  int rc = vpdq_hits(r, q, frames, n, &hits, &nh);
  if (!rc) rc = vpdq_case_if_flagged(r, frames, n, hits, nh);
  vigil_video_frames_free(frames);
  if (rc) {
    vigil_bank_video_hits_free(hits, nh);
    return rc;
  }
  json_t *out = raw ? json_array() : json_object();
  for (size_t i = 0; out && i < nh; i++) {
    if (!hits[i].matched) continue;
    char d[48];
    vpdq_distance(&hits[i], d);
    json_t *item = json_pack("{s:I, s:s}", "bank_content_id", (json_int_t)hits[i].entry.id, "distance", d);
    if (raw && !with_distance) {
      json_decref(item);
      item = json_integer((json_int_t)hits[i].entry.id);
    }
    json_t *list = raw ? out : json_object_get(out, hits[i].entry.bank);
    if (!list) {
      list = json_array();
      json_object_set_new(out, hits[i].entry.bank, list);
    }
    json_array_append_new(list, item);
  }
  vigil_bank_video_hits_free(hits, nh);
  if (!out) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  return vigil__reply_json(r, 200, raw ? json_pack("{s:o}", "matches", out) : out);
}
