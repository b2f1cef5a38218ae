/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_match.c - POST /v1/match: is this content known?
 *
 * Two ways in.  A JSON body names a hash: {"pdq": hex} (optionally with
 * "quality"), {"md5": hex} or {"sha256": hex}, plus options.  Any other
 * body is the content itself (raw image bytes or a multipart upload): it is
 * hashed (PDQ, MD5, SHA-256) and all three are looked up, options then come
 * from the query string.  Options: threshold (PDQ distance, default 31),
 * dihedral (also the 7 rotations and flips), banks and tags (filters),
 * force (match a PDQ hash of quality under 50), review (default true: a
 * match in a bank flagged for review opens a review case), and the caller's
 * content_id, uploader_id and url, kept on the case.  The media itself is
 * not stored unless the operator enables evidence retention (evidence.c).
 */
#include "server/cases.h"
#include "server/store.h"
#include "server/req.h"
#include "server/banks.h"
#include "server/handlers.h"
#include "server/jobs.h"
#include "server/gate.h"

#include "vigil/report.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/bank.h"
#include "vigil/media.h"

#define MAX_FILTER 16
/* Hits in one response, and in the detail of the case a match opens: the
 * closest come first (PDQ hits arrive sorted by distance), so a reviewer
 * sees what matters, and a near-duplicate-heavy bank cannot make one
 * request write megabytes into a case. */
#define MAX_HITS 100

typedef struct match_req {
  int threshold, dihedral, force, review, have_quality, quality;
  int cross_media; /* also the frames of vpdq bank videos (a still of a known video) */
  const char *banks[MAX_FILTER], *tags[MAX_FILTER];
  size_t nbanks, ntags;
  char listbuf[2][1024]; /* query-string lists, split in place */
  const char *content_id, *uploader_id, *url;
  /* the content's hashes */
  int have_pdq, have_md5, have_sha;
  vigil_pdq_hash pdq[VIGIL_DIH_COUNT];
  int npdq;
  uint8_t md5[VIGIL_BANK_VALUE_MAX], sha[VIGIL_BANK_VALUE_MAX];
  int pdq_rc; /* the content could not be hashed: why */
  vigil_error pdq_err;
} match_req;

static int options_from_query(vigil__req *r, match_req *m) {
  int64_t t;
  if (!vigil__query_int(r, "threshold", 0, VIGIL_BANK_MAX_THRESHOLD, VIGIL_PDQ_MATCH_THRESHOLD, &t)) return 0;
  m->threshold = (int)t;
  if (!vigil__query_bool(r, "dihedral", &m->dihedral) || !vigil__query_bool(r, "force", &m->force) ||
      !vigil__query_bool(r, "review", &m->review) || !vigil__query_bool(r, "cross_media", &m->cross_media) ||
      !vigil__query_list(r, "banks", m->listbuf[0], sizeof m->listbuf[0], m->banks, MAX_FILTER, &m->nbanks) ||
      !vigil__query_list(r, "tags", m->listbuf[1], sizeof m->listbuf[1], m->tags, MAX_FILTER, &m->ntags))
    return 0;
  m->content_id = vigil__req_query(r, "content_id");
  m->uploader_id = vigil__req_query(r, "uploader_id");
  m->url = vigil__req_query(r, "url");
  return 1;
}

/* A list member of the body into list; left alone when absent (the query
 * string's list, if any, then stands). */
static int json_list(vigil__req *r, const char *name, const char **list, size_t *n) {
  json_t *a = json_object_get(r->json, name);
  if (!a) return 1;
  *n = 0;
  if (!json_is_array(a) || json_array_size(a) > MAX_FILTER) {
    vigil__reply_error(r, 400, "wrong_type", "'%s' must be an array of at most %d strings", name, MAX_FILTER);
    return 0;
  }
  for (size_t i = 0; i < json_array_size(a); i++) {
    json_t *s = json_array_get(a, i);
    if (!json_is_string(s)) {
      vigil__reply_error(r, 400, "wrong_type", "'%s' must be an array of strings", name);
      return 0;
    }
    list[(*n)++] = json_string_value(s);
  }
  return 1;
}

static int options_from_json(vigil__req *r, match_req *m) {
  static const char *const allowed[] = {"pdq", "quality", "md5", "sha256", "threshold", "dihedral", "banks",
                                        "tags", "force", "review", "content_id", "uploader_id", "url",
                                        "cross_media", NULL};
  if (!vigil__json_only(r, allowed)) return 0;
  json_t *t = json_object_get(r->json, "threshold"), *q = json_object_get(r->json, "quality");
  if (t && (!json_is_integer(t) || json_integer_value(t) < 0 || json_integer_value(t) > VIGIL_BANK_MAX_THRESHOLD)) {
    vigil__reply_error(r, 400, "wrong_type", "'threshold' must be an integer from 0 to %d", VIGIL_BANK_MAX_THRESHOLD);
    return 0;
  }
  if (t) m->threshold = (int)json_integer_value(t);
  if (q && (!json_is_integer(q) || json_integer_value(q) < 0 || json_integer_value(q) > 100)) {
    vigil__reply_error(r, 400, "wrong_type", "'quality' must be an integer from 0 to 100");
    return 0;
  }
  if (q) m->have_quality = 1, m->quality = (int)json_integer_value(q);
  if (!vigil__json_bool(r, "dihedral", &m->dihedral) || !vigil__json_bool(r, "force", &m->force) ||
      !vigil__json_bool(r, "cross_media", &m->cross_media) ||
      !vigil__json_bool(r, "review", &m->review) || !json_list(r, "banks", m->banks, &m->nbanks) ||
      !json_list(r, "tags", m->tags, &m->ntags))
    return 0;
  const char *pdq, *md5, *sha, *cid, *uid, *url;
  if (!vigil__json_str(r, "pdq", 0, 64, &pdq) || !vigil__json_str(r, "md5", 0, 32, &md5) ||
      !vigil__json_str(r, "sha256", 0, 64, &sha) || !vigil__json_str(r, "content_id", 0, 512, &cid) ||
      !vigil__json_str(r, "uploader_id", 0, 512, &uid) || !vigil__json_str(r, "url", 0, 2048, &url))
    return 0;
  if (cid) m->content_id = cid; /* the body's member wins over the query string's */
  if (uid) m->uploader_id = uid;
  if (url) m->url = url;
  if (!pdq && !md5 && !sha) {
    vigil__reply_error(r, 400, "missing_field", "give 'pdq', 'md5' or 'sha256' (or send the content itself)");
    return 0;
  }
  vigil_error e;
  if (pdq) {
    if (vigil_signal_parse(VIGIL_SIGNAL_PDQ, pdq, strlen(pdq), m->pdq[0].bytes, &e)) {
      vigil__reply_error(r, 400, "invalid", "pdq: %s", e.message);
      return 0;
    }
    m->have_pdq = 1;
    m->npdq = 1;
  }
  if (md5) {
    if (vigil_signal_parse(VIGIL_SIGNAL_MD5, md5, strlen(md5), m->md5, &e)) {
      vigil__reply_error(r, 400, "invalid", "md5: %s", e.message);
      return 0;
    }
    m->have_md5 = 1;
  }
  if (sha) {
    if (vigil_signal_parse(VIGIL_SIGNAL_SHA256, sha, strlen(sha), m->sha, &e)) {
      vigil__reply_error(r, 400, "invalid", "sha256: %s", e.message);
      return 0;
    }
    m->have_sha = 1;
  }
  return 1;
}

/* The dihedral variants of a given hash cannot be derived from the hash
 * alone (they need the DCT), so "dihedral" only applies to content. */
static int hash_content(vigil__req *r, match_req *m, json_t *hashes) {
  if (r->body_len == 0) {
    vigil__reply_error(r, 400, "empty_body", "no content: send image bytes or a JSON object naming a hash");
    return 0;
  }
  vigil_hash_opts opts;
  vigil_hash_opts_default(&opts);
  opts.dihedral = m->dihedral;
  vigil_pdq_result res;
  vigil_image_info info;
  vigil_error e;
  vigil_error_clear(&e);
  int rc = vigil__hash_upload(r, &opts, &res, &info, &e);
  if (rc == VIGIL_ENOMEM || rc == VIGIL__HASH_BUSY) { /* looked at nothing: the client must retry */
    vigil__reply_hash_error(r, rc, &e);
    return 0;
  }
  unsigned n = 0;
  if (!EVP_Digest(r->body, r->body_len, m->md5, &n, EVP_md5(), NULL) ||
      !EVP_Digest(r->body, r->body_len, m->sha, &n, EVP_sha256(), NULL)) {
    vigil__reply_error(r, 500, "internal", "could not compute the content's digests");
    return 0;
  }
  m->have_md5 = m->have_sha = 1;
  char hex[65];
  vigil_signal_to_hex(m->md5, 16, hex);
  json_object_set_new(hashes, "md5", json_string(hex));
  vigil_signal_to_hex(m->sha, 32, hex);
  json_object_set_new(hashes, "sha256", json_string(hex));
  if (rc == VIGIL_OK) {
    memcpy(m->pdq, res.hash, sizeof m->pdq);
    m->npdq = res.nhashes;
    m->have_pdq = 1;
    m->have_quality = 1;
    m->quality = res.quality;
    vigil_pdq_to_hex(&res.hash[0], hex);
    json_object_set_new(hashes, "pdq", json_string(hex));
    json_object_set_new(hashes, "quality", json_integer(res.quality));
    if (info.damaged) {
      json_object_set_new(hashes, "damaged", json_true());
      json_object_set_new(hashes, "rows_decoded", json_integer(info.rows_decoded));
      json_object_set_new(hashes, "rows", json_integer(info.height));
    }
  } else {
    /* Not a picture we can hash: the exact digests are still looked up,
     * but without a match the answer is the hashing error, never 200. */
    m->pdq_rc = rc;
    m->pdq_err = e;
    json_object_set_new(hashes, "pdq_error", json_string(e.message));
  }
  return 1;
}

/* Adds the matches of list to arr unless their entry is already there, up
 * to MAX_HITS; *over counts those left out.  The duplicate check scans at
 * most MAX_HITS kept entries, so the cost is linear in the hits. */
static void add_matches(json_t *arr, const vigil_bank_match *list, size_t n, const char *how, size_t *over) {
  for (size_t i = 0; i < n; i++) {
    int dup = 0;
    for (size_t k = 0; k < json_array_size(arr) && !dup; k++)
      dup = (uint64_t)json_integer_value(json_object_get(json_array_get(arr, k), "id")) == list[i].entry.id;
    if (dup) continue;
    if (json_array_size(arr) >= MAX_HITS) {
      (*over)++;
      continue;
    }
    json_t *o = vigil__entry_json(&list[i].entry);
    if (!o) continue;
    json_object_set_new(o, "distance", json_integer(list[i].distance));
    json_object_set_new(o, "matched_by", json_string(how));
    if (list[i].variant) json_object_set_new(o, "variant", json_string(vigil_dihedral_name(list[i].variant)));
    json_array_append_new(arr, o);
  }
}

/* Cross-media, on request: the picture against every frame of the vpdq
 * bank videos (a still of a known video), each bank video once, with its
 * closest frame's time. */
static int frames_of_videos(vigil__req *r, match_req *m, const vigil_bank_filter *f, json_t *matches, size_t *over) {
  vigil_bank_frame_match *fm = NULL;
  size_t n = 0;
  vigil__banks *b = vigil__server_banks(r->srv);
  int rc = vigil_bank_match_pdq_in_videos(b->m, m->pdq, m->npdq, m->threshold, f, &fm, &n, &r->err);
  for (size_t i = 0; !rc && i < n; i++) {
    if (json_array_size(matches) >= MAX_HITS) {
      (*over)++;
      continue;
    }
    json_t *o = vigil__entry_json(&fm[i].entry);
    if (!o) continue;
    json_object_set_new(o, "distance", json_integer(fm[i].distance));
    json_object_set_new(o, "matched_by", json_string("pdq_in_video"));
    json_object_set_new(o, "bank_timestamp", json_real(fm[i].timestamp));
    if (fm[i].variant) json_object_set_new(o, "variant", json_string(vigil_dihedral_name(fm[i].variant)));
    json_array_append_new(matches, o);
  }
  free(fm);
  return rc;
}

static int open_case_if_flagged(vigil__req *r, match_req *m, json_t *hashes, json_t *matches, json_t *out) {
  if (!m->review || json_array_size(matches) == 0) return VIGIL_OK;
  const char *flagged = NULL;
  int best = 1000;
  vigil__review_memo memo = {.n = 0};
  for (size_t i = 0; i < json_array_size(matches); i++) {
    json_t *o = json_array_get(matches, i);
    int review = 0;
    const char *bank = json_string_value(json_object_get(o, "bank"));
    int rc = vigil__bank_review_memo(vigil__req_store(r), &memo, bank, &review, &r->err);
    if (rc) return rc;
    int d = (int)json_integer_value(json_object_get(o, "distance"));
    if (review && d < best) flagged = bank, best = d;
  }
  if (!flagged) return VIGIL_OK;
  char why[512];
  if (!vigil__server_store_ok(r->srv, why, sizeof why)) /* a case written now would be lost */
    return vigil__seterr(&r->err, VIGIL_ESTORE, "%s", why);
  char reason[200];
  snprintf(reason, sizeof reason, "matched bank %s at distance %d", flagged, best);
  json_t *wrap = vigil__match_case_detail(matches);
  /* Evidence retention (evidence.c): the upload is staged before the case
   * exists, named after it once it does. */
  const char *evdir = r->is_json ? NULL : vigil__server_evidence_dir(r->srv);
  char staged[4096] = "";
  if (wrap && evdir) {
    int rc = vigil__evidence_stage(evdir, r->body, r->body_len, staged, sizeof staged, &r->err);
    if (rc) {
      json_decref(wrap);
      return rc;
    }
    json_object_set_new(wrap, "evidence", json_pack("{s:s, s:I}", "sha256", json_string_value(json_object_get(hashes, "sha256")),
                                                    "bytes", (json_int_t)r->body_len));
  }
  vigil_case_new c = {0};
  c.source = "match";
  c.pdq = json_string_value(json_object_get(hashes, "pdq"));
  c.md5 = json_string_value(json_object_get(hashes, "md5"));
  c.sha256 = json_string_value(json_object_get(hashes, "sha256"));
  c.content_id = m->content_id;
  c.uploader_id = m->uploader_id;
  c.url = m->url;
  c.reason = reason;
  return vigil__match_case_open(r, &c, wrap, evdir, staged, out);
}

int vigil__h_match(vigil__req *r) {
  int async = vigil__jobs_async(r); /* ?async=true: answered 202, done by a job (jobs.c) */
  if (async) return async > 0 ? vigil__jobs_submit(r, "match") : VIGIL_OK;
  if (r->spool.fd >= 0) return vigil__h_match_video(r); /* h_match_video.c */
  match_req *m = calloc(1, sizeof *m);
  if (!m) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  m->threshold = VIGIL_PDQ_MATCH_THRESHOLD;
  m->review = 1;
  json_t *hashes = json_object(), *matches = json_array(), *out = json_object();
  int rc = VIGIL_OK;
  if (!hashes || !matches || !out) {
    rc = vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
    goto done;
  }
  if (r->is_json) {
    /* the query string's options apply to a JSON body too (they were
     * once ignored there, silently); a member of the body wins */
    if (!options_from_query(r, m) || !options_from_json(r, m)) goto done;
    char hex[65];
    if (m->have_pdq) vigil_pdq_to_hex(&m->pdq[0], hex), json_object_set_new(hashes, "pdq", json_string(hex));
    if (m->have_md5) vigil_signal_to_hex(m->md5, 16, hex), json_object_set_new(hashes, "md5", json_string(hex));
    if (m->have_sha) vigil_signal_to_hex(m->sha, 32, hex), json_object_set_new(hashes, "sha256", json_string(hex));
    if (m->dihedral)
      json_object_set_new(out, "dihedral_ignored",
                          json_string("the rotations and flips of a hash cannot be derived from the hash; send the "
                                      "content to match them"));
  } else {
    if (!options_from_query(r, m) || !hash_content(r, m, hashes)) goto done;
  }
  vigil_bank_filter f = {m->banks, m->nbanks, m->tags, m->ntags};
  vigil__banks *b = vigil__server_banks(r->srv);
  if ((rc = vigil__banks_lock_query(b, &r->err))) goto done;
  vigil_bank_match *list = NULL;
  size_t n = 0, over = 0;
  if (m->have_pdq && m->have_quality && m->quality < VIGIL_PDQ_MIN_QUALITY && !m->force) {
    json_object_set_new(out, "pdq_skipped", json_sprintf("quality %d is under %d (set force to match anyway)",
                                                          m->quality, VIGIL_PDQ_MIN_QUALITY));
  } else if (m->have_pdq) {
    rc = vigil_bank_match_pdq(b->m, m->pdq, m->npdq, m->threshold, &f, &list, &n, &r->err);
    if (!rc) add_matches(matches, list, n, "pdq", &over);
    free(list);
    if (!rc && m->cross_media) rc = frames_of_videos(r, m, &f, matches, &over);
  }
  struct {
    int have;
    vigil_signal_type t;
    const uint8_t *v;
    const char *name;
  } exact[2] = {{m->have_md5, VIGIL_SIGNAL_MD5, m->md5, "md5"}, {m->have_sha, VIGIL_SIGNAL_SHA256, m->sha, "sha256"}};
  for (int i = 0; !rc && i < 2; i++) {
    if (!exact[i].have) continue;
    list = NULL;
    n = 0;
    rc = vigil_bank_match_exact(b->st, exact[i].t, exact[i].v, &f, &list, &n, &r->err);
    if (!rc) add_matches(matches, list, n, exact[i].name, &over);
    free(list);
  }
  vigil__banks_unlock_query(b);
  if (rc) goto done;
  if (m->pdq_rc && json_array_size(matches) == 0) {
    /* "No match" would claim a look that did not happen. */
    vigil__reply_hash_error(r, m->pdq_rc, &m->pdq_err);
    goto done;
  }
  if ((rc = open_case_if_flagged(r, m, hashes, matches, out))) goto done;
  json_object_set(out, "hashes", hashes);
  json_object_set(out, "matches", matches);
  json_object_set_new(out, "threshold", json_integer(m->threshold));
  if (over) {
    json_object_set_new(out, "truncated", json_true());
    json_object_set_new(out, "matches_left_out", json_integer((json_int_t)over));
  }
  if (json_object_get(out, "case_id")) {
    r->audit_detail = json_pack("{s:O}", "case_id", json_object_get(out, "case_id"));
    r->force_audit = 1;
  }
  /* recorded before the answer, so an answered match has its deliveries */
  if (json_array_size(matches) && (rc = vigil__server_emit(r, VIGIL_EVENT_MATCH, out))) goto done;
  rc = vigil__reply_json(r, 200, out);
  out = NULL;
done:
  json_decref(hashes);
  json_decref(matches);
  json_decref(out);
  free(m);
  return rc;
}
