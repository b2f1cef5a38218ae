/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_match_video.c - POST /v1/match with a video: is this a known video,
 * and which seconds of it?
 *
 * The core has spooled the upload to a private file and computed its MD5
 * and SHA-256 as it arrived (spool.h), so the exact lookups (video_md5,
 * md5, sha256 entries) are made before any decoding.  Then the video is
 * hashed in the sandboxed worker (vhash.c) and its frame list compared
 * with the vPDQ banks: per bank video the query and compared percentages
 * and the aligned segments (this upload's 0:42-1:15 is 2:03-2:36 of it).
 *
 * A video that cannot be hashed never reads as "no match": with no exact
 * match the answer is the hashing error (422, 413 or 503, vhash.h); with
 * one, 200 and the error beside the matches ("vpdq_error").  A match in a
 * bank flagged for review opens a case carrying the matches and their
 * segments, as an image match does (h_match.c).
 *
 * Query options: threshold (frame distance, default 31), semantics (hma,
 * the default, or reference: docs/video.md), query_pct and compared_pct
 * (the minimum percentages of a match), banks, tags, review, content_id,
 * uploader_id, url.
 */
#include "server/banks.h"
#include "server/cases.h"
#include "server/handlers.h"
#include "server/req.h"
#include "server/store.h"
#include "server/vhash.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/bank.h"
#include "vigil/report.h"
#include "vigil/video.h"

#define MAX_FILTER 16
#define MAX_HITS 100
#define MAX_SEGMENTS_SHOWN 64

typedef struct vmatch {
  vigil_vpdq_opts opts;
  int review;
  int cross_media; /* also each frame against the PDQ (picture) banks */
  const char *banks[MAX_FILTER], *tags[MAX_FILTER];
  size_t nbanks, ntags;
  char listbuf[2][1024];
  const char *content_id, *uploader_id, *url;
} vmatch;

static int query_pct(vigil__req *r, const char *name, double *out) {
  const char *v = vigil__req_query(r, name);
  if (!v) return 1;
  char *end;
  double d = strtod(v, &end);
  if (!*v || *end || !(d >= 0 && d <= 100)) {
    vigil__reply_error(r, 400, "invalid", "%s: expected a percentage from 0 to 100", name);
    return 0;
  }
  *out = d;
  return 1;
}

static int options(vigil__req *r, vmatch *m) {
  const char *sem = vigil__req_query(r, "semantics");
  if (!sem || !strcmp(sem, "hma")) vigil_vpdq_opts_default(&m->opts);
  else if (!strcmp(sem, "reference")) vigil_vpdq_opts_reference(&m->opts);
  else {
    vigil__reply_error(r, 400, "invalid", "semantics: expected hma or reference");
    return 0;
  }
  int64_t t;
  if (!vigil__query_int(r, "threshold", 0, VIGIL_BANK_MAX_THRESHOLD, m->opts.threshold, &t)) return 0;
  m->opts.threshold = (int)t;
  if (!query_pct(r, "query_pct", &m->opts.query_pct_min) || !query_pct(r, "compared_pct", &m->opts.compared_pct_min))
    return 0;
  m->review = 1;
  if (!vigil__query_bool(r, "review", &m->review) || !vigil__query_bool(r, "cross_media", &m->cross_media) ||
      !vigil__query_list(r, "banks", m->listbuf[0], sizeof m->listbuf[0], m->banks, MAX_FILTER, &m->nbanks) ||
      !vigil__query_list(r, "tags", m->listbuf[1], sizeof m->listbuf[1], m->tags, MAX_FILTER, &m->ntags))
    return 0;
  m->content_id = vigil__req_query(r, "content_id");
  m->uploader_id = vigil__req_query(r, "uploader_id");
  m->url = vigil__req_query(r, "url");
  return 1;
}

/* The exact lookups: the file's MD5 as video_md5 and as md5, its SHA-256. */
static int exact_matches(vigil__req *r, const vigil_bank_filter *f, json_t *matches) {
  vigil__banks *b = vigil__server_banks(r->srv);
  uint8_t md5[VIGIL_BANK_VALUE_MAX], sha[VIGIL_BANK_VALUE_MAX];
  vigil_error e;
  if (vigil_signal_parse(VIGIL_SIGNAL_MD5, r->spool.md5_hex, 32, md5, &e) ||
      vigil_signal_parse(VIGIL_SIGNAL_SHA256, r->spool.sha_hex, 64, sha, &e))
    return vigil__seterr(&r->err, VIGIL_EINTERNAL, "digest: %s", e.message);
  struct {
    vigil_signal_type t;
    const uint8_t *v;
    const char *name;
  } q[3] = {
      {VIGIL_SIGNAL_VIDEO_MD5, md5, "video_md5"}, {VIGIL_SIGNAL_MD5, md5, "md5"}, {VIGIL_SIGNAL_SHA256, sha, "sha256"}};
  int rc = vigil__banks_lock_query(b, &r->err);
  if (rc) return rc;
  for (int i = 0; !rc && i < 3; i++) {
    vigil_bank_match *list = NULL;
    size_t n = 0;
    rc = vigil_bank_match_exact(b->st, q[i].t, q[i].v, f, &list, &n, &r->err);
    for (size_t k = 0; !rc && k < n && json_array_size(matches) < MAX_HITS; k++) {
      json_t *o = vigil__entry_json(&list[k].entry);
      if (!o) continue;
      json_object_set_new(o, "distance", json_integer(0));
      json_object_set_new(o, "matched_by", json_string(q[i].name));
      json_array_append_new(matches, o);
    }
    free(list);
  }
  vigil__banks_unlock_query(b);
  return rc;
}

/* One bank video as the answer shows it: the entry, the percentages and
 * the aligned segments (at most MAX_SEGMENTS_SHOWN, longest first as the
 * library sorts them by query_start; segments_total says when cut).  Also
 * the detail of the case an HMA vPDQ lookup opens (h_hma.c). */
json_t *vigil__video_hit_json(const vigil_bank_video_hit *h) {
  json_t *o = vigil__entry_json(&h->entry);
  json_t *segs = json_array();
  if (!o || !segs) {
    json_decref(o);
    json_decref(segs);
    return NULL;
  }
  for (size_t k = 0; k < h->nsegments && k < MAX_SEGMENTS_SHOWN; k++) {
    const vigil_vpdq_segment *g = &h->segments[k];
    json_array_append_new(segs,
                          json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:I}", "query_start", g->query_start, "query_end",
                                    g->query_end, "bank_start", g->bank_start, "bank_end", g->bank_end, "speed",
                                    g->speed, "share", g->share, "frames", (json_int_t)g->frames));
  }
  json_object_set_new(o, "matched_by", json_string("vpdq"));
  json_object_set_new(o, "match", json_boolean(h->matched));
  json_object_set_new(o, "query_pct", json_real(h->query_pct));
  json_object_set_new(o, "compared_pct", json_real(h->compared_pct));
  json_object_set_new(o, "query_matched", json_integer((json_int_t)h->query_matched));
  json_object_set_new(o, "query_total", json_integer((json_int_t)h->query_total));
  json_object_set_new(o, "compared_matched", json_integer((json_int_t)h->compared_matched));
  json_object_set_new(o, "compared_total", json_integer((json_int_t)h->compared_total));
  json_object_set_new(o, "segments", segs);
  if (h->nsegments > MAX_SEGMENTS_SHOWN)
    json_object_set_new(o, "segments_total", json_integer((json_int_t)h->nsegments));
  return o;
}

/* The vPDQ comparison of the frames with the vPDQ banks: bank videos that
 * reach the percentages go to matches; those sharing frames without
 * reaching them (a short known clip inside a long upload has a low query
 * share) to vpdq_partial, so a reviewer sees them, without a case. */
static int vpdq_matches(vigil__req *r, const vmatch *m, const vigil_bank_filter *f, const vigil_video_frame *frames,
                        size_t n, json_t *matches, json_t *out) {
  vigil__banks *b = vigil__server_banks(r->srv);
  vigil_bank_video_hit *hits = NULL;
  size_t nh = 0;
  int rc = vigil__banks_lock_query(b, &r->err);
  if (rc) return rc;
  rc = vigil_bank_match_video_filtered(b->m, frames, n, &m->opts, f, &hits, &nh, &r->err);
  vigil__banks_unlock_query(b);
  if (rc) return rc;
  json_t *partial = json_array();
  size_t over = 0;
  for (size_t i = 0; partial && i < nh; i++) {
    json_t *dst = hits[i].matched ? matches : partial;
    if (json_array_size(dst) >= MAX_HITS) {
      over++;
      continue;
    }
    json_t *o = vigil__video_hit_json(&hits[i]);
    if (!o || json_array_append_new(dst, o)) {
      rc = vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
      break;
    }
  }
  vigil_bank_video_hits_free(hits, nh);
  if (!partial) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  if (json_array_size(partial)) json_object_set_new(out, "vpdq_partial", partial);
  else json_decref(partial);
  if (over) {
    json_object_set_new(out, "truncated", json_true());
    json_object_set_new(out, "matches_left_out", json_integer((json_int_t)over));
  }
  return rc;
}

/* Cross-media, on request: each frame of quality >= 50 against the PDQ
 * (picture) banks, a known picture shown in the video.  Each bank entry
 * once, at its closest frame, with that frame's time in the upload. */
static int frames_in_pictures(vigil__req *r, const vmatch *m, const vigil_bank_filter *f,
                              const vigil_video_frame *frames, size_t n, json_t *matches) {
  vigil__banks *b = vigil__server_banks(r->srv);
  json_t *seen = json_object(); /* entry id -> its match object */
  if (!seen) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  int rc = vigil__banks_lock_query(b, &r->err);
  for (size_t i = 0; !rc && i < n; i++) {
    if (frames[i].quality < VIGIL_PDQ_MIN_QUALITY) continue;
    vigil_bank_match *list = NULL;
    size_t k = 0;
    rc = vigil_bank_match_pdq(b->m, &frames[i].hash, 1, m->opts.threshold, f, &list, &k, &r->err);
    for (size_t j = 0; !rc && j < k; j++) {
      char key[24];
      snprintf(key, sizeof key, "%llu", (unsigned long long)list[j].entry.id);
      json_t *o = json_object_get(seen, key);
      if (o && json_integer_value(json_object_get(o, "distance")) <= list[j].distance) continue;
      if (!o && json_object_size(seen) >= MAX_HITS) continue;
      if (!o) {
        if (!(o = vigil__entry_json(&list[j].entry))) continue;
        json_object_set_new(o, "matched_by", json_string("pdq_frame"));
        json_object_set_new(seen, key, o);
      }
      json_object_set_new(o, "distance", json_integer(list[j].distance));
      json_object_set_new(o, "query_timestamp", json_real(frames[i].timestamp));
    }
    free(list);
  }
  vigil__banks_unlock_query(b);
  const char *key;
  json_t *o;
  json_object_foreach(seen, key, o) if (!rc && json_array_size(matches) < MAX_HITS) json_array_append(matches, o);
  json_decref(seen);
  return rc;
}

/* A flagged bank among the matches (an exact or a matching vPDQ hit) opens
 * a case with the matches, segments included. */
static int open_case_if_flagged(vigil__req *r, const vmatch *m, json_t *matches, json_t *out) {
  if (!m->review || json_array_size(matches) == 0) return VIGIL_OK;
  const char *flagged = NULL, *how = NULL;
  double best = -1;
  vigil__review_memo memo = {.n = 0};
  for (size_t i = 0; i < json_array_size(matches); i++) {
    json_t *o = json_array_get(matches, i);
    if (json_is_false(json_object_get(o, "match"))) continue; /* frames in common, under the percentages */
    int review = 0;
    const char *bank = json_string_value(json_object_get(o, "bank"));
    int rc = vigil__bank_review_memo(vigil__req_store(r), &memo, bank, &review, &r->err);
    if (rc) return rc;
    json_t *qp = json_object_get(o, "query_pct");
    double score = qp ? json_real_value(qp) : 101; /* exact beats any share */
    if (review && score > best) flagged = bank, best = score, how = json_string_value(json_object_get(o, "matched_by"));
  }
  if (!flagged) return VIGIL_OK;
  char why[512];
  if (!vigil__server_store_ok(r->srv, why, sizeof why)) return vigil__seterr(&r->err, VIGIL_ESTORE, "%s", why);
  char reason[200];
  if (best > 100) snprintf(reason, sizeof reason, "video matched bank %s by %s", flagged, how ? how : "digest");
  else snprintf(reason, sizeof reason, "video matched bank %s (vpdq, %.1f%% of the upload)", flagged, best);
  json_t *wrap = vigil__match_case_detail(matches);
  if (wrap) json_object_set_new(wrap, "media", json_string("video"));
  /* evidence retention (evidence.c): the video itself, copied from its
   * spool file before the case exists, named after it once it does */
  const char *evdir = vigil__server_evidence_dir(r->srv);
  char staged[4096] = "";
  if (wrap && evdir) {
    int rc = vigil__evidence_stage_spool(evdir, &r->spool, staged, sizeof staged, &r->err);
    if (rc) {
      json_decref(wrap);
      return rc;
    }
    json_object_set_new(wrap, "evidence",
                        json_pack("{s:s, s:I}", "sha256", r->spool.sha_hex, "bytes", (json_int_t)r->spool.len));
  }
  vigil_case_new c = {0};
  c.source = "match";
  c.md5 = r->spool.md5_hex;
  c.sha256 = r->spool.sha_hex;
  c.content_id = m->content_id;
  c.uploader_id = m->uploader_id;
  c.url = m->url;
  c.reason = reason;
  return vigil__match_case_open(r, &c, wrap, evdir, staged, out);
}

int vigil__h_match_video(vigil__req *r) {
  vmatch *m = calloc(1, sizeof *m);
  json_t *matches = json_array(), *out = json_object();
  vigil_video_frame *frames = NULL;
  size_t nframes = 0;
  int rc = VIGIL_OK;
  if (!m || !matches || !out) {
    rc = vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
    goto done;
  }
  if (!options(r, m)) goto done;
  vigil_bank_filter f = {m->banks, m->nbanks, m->tags, m->ntags};
  if ((rc = exact_matches(r, &f, matches))) goto done;
  json_t *hashes = json_pack("{s:s, s:s}", "video_md5", r->spool.md5_hex, "sha256", r->spool.sha_hex);
  if (!hashes || json_object_set_new(out, "hashes", hashes)) {
    rc = vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
    goto done;
  }
  vigil_video_info info;
  vigil_error e;
  vigil_error_clear(&e);
  int hrc = vigil__video_hash(r, r->conn == NULL, &frames, &nframes, &info, &e);
  if (hrc) {
    if (json_array_size(matches) == 0) { /* "no match" would claim a look that did not happen */
      vigil__reply_video_error(r, hrc, &e);
      goto done;
    }
    json_object_set_new(out, "vpdq_error", json_string(e.message));
  } else {
    json_object_set_new(hashes, "frames", json_integer((json_int_t)nframes));
    json_object_set_new(out, "video", vigil__video_info_json(&info));
    if ((rc = vpdq_matches(r, m, &f, frames, nframes, matches, out))) goto done;
    if (m->cross_media && (rc = frames_in_pictures(r, m, &f, frames, nframes, matches))) goto done;
  }
  if ((rc = open_case_if_flagged(r, m, matches, out))) goto done;
  json_object_set(out, "matches", matches);
  json_object_set_new(out, "type", json_string("video"));
  json_object_set_new(out, "threshold", json_integer(m->opts.threshold));
  if (json_object_get(out, "case_id")) {
    r->audit_detail = json_pack("{s:O}", "case_id", json_object_get(out, "case_id"));
    r->force_audit = 1;
  }
  if (json_array_size(matches) && (rc = vigil__server_emit(r, VIGIL_EVENT_MATCH, out))) goto done;
  rc = vigil__reply_json(r, 200, out);
  out = NULL;
done:
  vigil_video_frames_free(frames);
  json_decref(matches);
  json_decref(out);
  free(m);
  return rc;
}
