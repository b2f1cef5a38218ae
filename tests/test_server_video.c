/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_video.c - video uploads to POST /v1/hash and /v1/match
 * (lib/server/spool.c, vhash.c, h_match_video.c).
 *
 *   - A video is hashed (frames one a second) with its video_md5 and
 *     SHA-256, whether labelled video/... or recognised by its first bytes,
 *     raw or as a multipart part.
 *   - Something that is not a decodable video answers 422 on both routes,
 *     never 200 "no match"; a video over --max-video answers 413 as it
 *     streams, one declared over it before it is read.
 *   - The exact lookup by video_md5 finds a banked video and, in a bank
 *     flagged for review, opens a case (keeping the video as evidence
 *     when retention is on); another video matches nothing.
 *   - HMA's /m/lookup takes a video, /m/raw_lookup signal_type=video_md5.
 *
 * The clips are YUV4MPEG2 files the test writes (tests/support), so
 * nothing here needs ../shared.
 */
#include "testutil.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "httpc.h"
#include "servefix.h"
#include "video_testutil.h"
#include "vigil/server.h"
#include "vigil/video.h"

static tu_fix fx;
static uint8_t *clip, *clip2, *big;
static size_t clip_len, clip2_len, big_len;
static char clip_md5[33];
static FILE *serve_log; /* the last start's log, closed after the server stops */

static uint8_t *slurp(const char *path, size_t *len) {
  FILE *f = path ? fopen(path, "rb") : NULL;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = n > 0 ? malloc((size_t)n) : NULL;
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return b;
}

static int setup(void **state) {
  (void)state;
  if (tu_fix_init(&fx, "video") != 0) return -1;
  clip = slurp(tv_y4m("a.y4m", 64, 64, 10, 1, 30), &clip_len);   /* 3 s at 10 fps */
  clip2 = slurp(tv_y4m("b.y4m", 64, 48, 25, 1, 50), &clip2_len); /* 2 s at 25 fps */
  big = slurp(tv_y4m("c.y4m", 64, 64, 10, 1, 60), &big_len);     /* 368 KB */
  if (!clip || !clip2 || !big) return -1;
  uint8_t d[16];
  unsigned n = 0;
  EVP_Digest(clip, clip_len, d, &n, EVP_md5(), NULL);
  for (unsigned i = 0; i < n; i++) snprintf(clip_md5 + 2 * i, 3, "%02x", d[i]);
  vigil_server_config cfg;
  tu_fix_config(&fx, &cfg);
  cfg.max_body = 100000; /* pictures: 100 KB; videos: 300 KB, spooled */
  cfg.max_video = 300000;
  return tu_fix_start(&fx, &cfg);
}

static int teardown(void **state) {
  (void)state;
  free(clip);
  free(clip2);
  free(big);
  tv_cleanup();
  int rc = tu_fix_end(&fx);
  if (serve_log) fclose(serve_log);
  return rc;
}

static json_t *upload(const char *path, const char *ctype, const void *body, size_t len, int *status) {
  tu_http_resp r;
  assert_int_equal(tu_http(fx.port, "POST", path, fx.submitter, ctype, body, len, &r), 0);
  *status = r.status;
  json_t *o = json_loadb(r.body, r.body_len, 0, NULL);
  tu_http_free(&r);
  assert_non_null(o);
  return o;
}

/* The newest case (highest id), as GET /v1/cases/{id} shows it; NULL if none. */
static json_t *newest_case(size_t *count) {
  json_t *o;
  assert_int_equal(tu_json_call(fx.port, "GET", "/v1/cases?status=all&limit=1000", fx.reviewer, NULL, &o), 200);
  json_t *cases = json_object_get(o, "cases"), *c;
  size_t i;
  json_int_t best = 0;
  json_array_foreach(cases, i, c) {
    json_int_t id = json_integer_value(json_object_get(c, "id"));
    if (id > best) best = id;
  }
  *count = json_array_size(cases);
  json_decref(o);
  if (!best) return NULL;
  char path[64];
  snprintf(path, sizeof path, "/v1/cases/%lld", (long long)best);
  assert_int_equal(tu_json_call(fx.port, "GET", path, fx.reviewer, NULL, &o), 200);
  return o;
}

/* Sightings on record of the cases of the video with this MD5, all cases together. */
static json_int_t sightings_of(const char *md5) {
  json_t *o;
  assert_int_equal(tu_json_call(fx.port, "GET", "/v1/cases?status=all&limit=1000", fx.reviewer, NULL, &o), 200);
  json_t *c;
  size_t i;
  json_int_t n = 0;
  json_array_foreach(json_object_get(o, "cases"), i, c) {
    char path[64];
    json_t *k;
    snprintf(path, sizeof path, "/v1/cases/%lld", (long long)json_integer_value(json_object_get(c, "id")));
    assert_int_equal(tu_json_call(fx.port, "GET", path, fx.reviewer, NULL, &k), 200);
    const char *m = json_string_value(json_object_get(k, "md5"));
    if (m && !strcmp(m, md5)) n += json_integer_value(json_object_get(json_object_get(k, "sightings"), "count"));
    json_decref(k);
  }
  json_decref(o);
  return n;
}

static const char *errcode(json_t *o) {
  return json_string_value(json_object_get(json_object_get(o, "error"), "code"));
}

static void test_hash_video(void **state) {
  (void)state;
  int st;
  /* bigger than max_body: only a spooled upload gets through */
  assert_true(clip_len > 100000);
  json_t *o = upload("/v1/hash", "video/x-yuv4mpeg", clip, clip_len, &st);
  assert_int_equal(st, 200);
  assert_string_equal(json_string_value(json_object_get(o, "type")), "video");
  assert_string_equal(json_string_value(json_object_get(o, "video_md5")), clip_md5);
  assert_int_equal(strlen(json_string_value(json_object_get(o, "sha256"))), 64);
  json_t *frames = json_object_get(o, "frames");
  assert_int_equal(json_array_size(frames), 3); /* one a second */
  assert_int_equal(json_integer_value(json_object_get(o, "nframes")), 3);
  json_t *f1 = json_array_get(frames, 1);
  assert_int_equal(json_integer_value(json_object_get(f1, "frame")), 10);
  assert_int_equal(strlen(json_string_value(json_object_get(f1, "pdq"))), 64);
  assert_true(json_real_value(json_object_get(f1, "timestamp")) == 1.0);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "video"), "width")), 64);
  json_decref(o);
}

static void test_bad_video(void **state) {
  (void)state;
  int st;
  /* labelled a video, is not one: 422 on both routes, never "no match" */
  static const char junk[] = "this is not a video at all, only some text bytes";
  json_t *o = upload("/v1/hash", "video/mp4", junk, sizeof junk - 1, &st);
  assert_int_equal(st, 422);
  assert_string_equal(errcode(o), "bad_video");
  json_decref(o);
  o = upload("/v1/match", "video/mp4", junk, sizeof junk - 1, &st);
  assert_int_equal(st, 422);
  assert_string_equal(errcode(o), "bad_video");
  json_decref(o);
  /* unlabelled, recognised by its first bytes (an MP4 box), truncated */
  uint8_t mp4[4096];
  memset(mp4, 0, sizeof mp4);
  memcpy(mp4,
         "\0\0\0\x18"
         "ftypmp42\0\0\0\0mp42isom",
         24);
  memcpy(mp4 + 24, "\0\0\x10\0moov", 8);
  o = upload("/v1/match", "application/octet-stream", mp4, sizeof mp4, &st);
  assert_int_equal(st, 422);
  assert_string_equal(errcode(o), "bad_video");
  json_decref(o);
  o = upload("/v1/hash", NULL, mp4, 40, &st); /* short: decided at the end of the body */
  assert_int_equal(st, 422);
  assert_string_equal(errcode(o), "bad_video");
  json_decref(o);
}

static void test_too_large(void **state) {
  (void)state;
  int st;
  /* declared over both limits: refused before a byte is read */
  tu_http_resp r;
  uint8_t *huge = calloc(1, 400001);
  assert_non_null(huge);
  assert_int_equal(tu_http(fx.port, "POST", "/v1/hash", fx.submitter, "video/mp4", huge, 400001, &r), 0);
  assert_int_equal(r.status, 413);
  tu_http_free(&r);
  free(huge);
  /* under the declared limit, over max_video once spooled */
  json_t *o = upload("/v1/hash", "video/x-yuv4mpeg", big, big_len > 350000 ? 350000 : big_len, &st);
  assert_int_equal(st, 413);
  assert_string_equal(errcode(o), "body_too_large");
  json_decref(o);
  /* a picture-sized limit still holds for what is not a video */
  uint8_t *img = calloc(1, 150000);
  assert_non_null(img);
  o = upload("/v1/hash", "image/jpeg", img, 150000, &st);
  assert_int_equal(st, 413);
  json_decref(o);
  free(img);
}

static void test_match_video_md5(void **state) {
  (void)state;
  int st;
  json_t *o = NULL;
  assert_int_equal(
      tu_json_call(fx.port, "POST", "/v1/banks", fx.admin, "{\"name\":\"known-videos\",\"review\":true}", NULL), 201);
  char body[256];
  snprintf(body, sizeof body, "{\"signal_type\":\"video_md5\",\"value\":\"%s\",\"external_id\":\"v-1\"}", clip_md5);
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/banks/known-videos/entries", fx.admin, body, NULL), 201);
  o = upload("/v1/match?content_id=upload-7", "video/x-yuv4mpeg", clip, clip_len, &st);
  assert_int_equal(st, 200);
  json_t *m = json_array_get(json_object_get(o, "matches"), 0);
  assert_non_null(m);
  assert_string_equal(json_string_value(json_object_get(m, "matched_by")), "video_md5");
  assert_string_equal(json_string_value(json_object_get(m, "external_id")), "v-1");
  assert_string_equal(json_string_value(json_object_get(json_object_get(o, "hashes"), "video_md5")), clip_md5);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "hashes"), "frames")), 3);
  json_int_t case_id = json_integer_value(json_object_get(o, "case_id"));
  assert_true(case_id > 0);
  json_decref(o);
  char path[64];
  snprintf(path, sizeof path, "/v1/cases/%lld", (long long)case_id);
  assert_int_equal(tu_json_call(fx.port, "GET", path, fx.reviewer, NULL, &o), 200);
  assert_string_equal(json_string_value(json_object_get(o, "content_id")), "upload-7");
  assert_string_equal(json_string_value(json_object_get(o, "md5")), clip_md5);
  assert_non_null(strstr(json_string_value(json_object_get(o, "reason")), "video_md5"));
  json_decref(o);
  /* another video: hashed, looked up, nothing */
  o = upload("/v1/match", "video/x-yuv4mpeg", clip2, clip2_len, &st);
  assert_int_equal(st, 200);
  assert_int_equal(json_array_size(json_object_get(o, "matches")), 0);
  assert_null(json_object_get(o, "case_id"));
  json_decref(o);
  /* options are checked */
  o = upload("/v1/match?semantics=fuzzy", "video/x-yuv4mpeg", clip2, clip2_len, &st);
  assert_int_equal(st, 400);
  json_decref(o);
}

/* HMA's lookups with a video: POST /m/lookup answers per signal type,
 * GET /m/raw_lookup takes signal_type=video_md5. */
static void test_hma_video(void **state) {
  (void)state;
  int st;
  json_t *o = upload("/m/lookup", "video/x-yuv4mpeg", clip, clip_len, &st);
  assert_int_equal(st, 200);
  json_t *hits = json_object_get(json_object_get(o, "video_md5"), "known-videos");
  assert_int_equal(json_array_size(hits), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(hits, 0), "distance")), "0");
  json_decref(o);
  static const char junk[] = "not a video, not at all";
  o = upload("/m/lookup", "video/mp4", junk, sizeof junk - 1, &st);
  assert_int_equal(st, 422); /* never an empty answer for what was not looked at */
  json_decref(o);
  char path[160];
  size_t before, after;
  json_int_t seen = sightings_of(clip_md5);
  json_decref(newest_case(&before));
  snprintf(path, sizeof path, "/m/raw_lookup?signal_type=video_md5&signal=%s", clip_md5);
  assert_int_equal(tu_json_call(fx.port, "GET", path, fx.submitter, NULL, &o), 200);
  assert_int_equal(json_array_size(json_object_get(o, "matches")), 1);
  json_decref(o);
  /* known-videos is flagged for review: the HMA lookup is on record as a case of that video, a new one or a
   * sighting of the undecided case the earlier look-up opened (one case per piece of content) */
  json_t *c = newest_case(&after);
  assert_true(after == before || after == before + 1);
  if (after == before + 1) assert_string_equal(json_string_value(json_object_get(c, "source")), "hma");
  json_decref(c);
  assert_int_equal(sightings_of(clip_md5), seen + 1);
}

/* A vpdq entry made from the clip's own frames: /v1/match finds it by its
 * frames, with both percentages and the aligned segment, and HMA's lookup
 * prints the match as python-threatexchange does. */
static void test_match_vpdq(void **state) {
  (void)state;
  int st;
  json_t *h = upload("/v1/hash", "video/x-yuv4mpeg", clip, clip_len, &st);
  assert_int_equal(st, 200);
  json_t *frames = json_array(), *f;
  size_t i;
  /* also as HMA's vpdq signal, percent-encoded for a query string */
  char te[4096] = "[", *q = te + 1, sig[12288], *o8 = sig;
  json_array_foreach(json_object_get(h, "frames"), i, f) {
    json_array_append_new(frames, json_pack("[O, O, O, O]", json_object_get(f, "frame"), json_object_get(f, "quality"),
                                            json_object_get(f, "pdq"), json_object_get(f, "timestamp")));
    char ts[32];
    vigil_vpdq_format_ts(json_real_value(json_object_get(f, "timestamp")), ts);
    q += snprintf(q, sizeof te - (size_t)(q - te) - 2, "%s\"%s,%d,%s\"", i ? ", " : "",
                  json_string_value(json_object_get(f, "pdq")), (int)json_integer_value(json_object_get(f, "quality")),
                  ts);
  }
  strcat(te, "]");
  for (const char *c = te; *c; c++) o8 += sprintf(o8, "%%%02X", (unsigned char)*c);
  char pdq1[65], pdq2[65];
  snprintf(pdq1, sizeof pdq1, "%s",
           json_string_value(json_object_get(json_array_get(json_object_get(h, "frames"), 1), "pdq")));
  snprintf(pdq2, sizeof pdq2, "%s",
           json_string_value(json_object_get(json_array_get(json_object_get(h, "frames"), 2), "pdq")));
  json_decref(h);
  json_t *line = json_pack("{s:s, s:s, s:o}", "signal_type", "vpdq", "external_id", "known-clip", "frames", frames);
  char *text = json_dumps(line, JSON_COMPACT);
  json_decref(line);
  assert_non_null(text);
  tu_http_resp r;
  assert_int_equal(tu_http(fx.port, "POST", "/v1/banks/vpdq-bank/import?format=jsonl", fx.admin, "application/x-ndjson",
                           text, strlen(text), &r),
                   0);
  assert_int_equal(r.status, 404); /* no such bank yet */
  tu_http_free(&r);
  assert_int_equal(
      tu_json_call(fx.port, "POST", "/v1/banks", fx.admin, "{\"name\":\"vpdq-bank\",\"review\":true}", NULL), 201);
  assert_int_equal(tu_http(fx.port, "POST", "/v1/banks/vpdq-bank/import?format=jsonl", fx.admin, "application/x-ndjson",
                           text, strlen(text), &r),
                   0);
  assert_int_equal(r.status, 200);
  tu_http_free(&r);
  free(text);
  json_t *o = upload("/v1/match?banks=vpdq-bank&content_id=upload-9", "video/x-yuv4mpeg", clip, clip_len, &st);
  assert_int_equal(st, 200);
  json_t *m = json_array_get(json_object_get(o, "matches"), 0);
  assert_non_null(m);
  assert_string_equal(json_string_value(json_object_get(m, "matched_by")), "vpdq");
  assert_string_equal(json_string_value(json_object_get(m, "external_id")), "known-clip");
  assert_true(json_is_true(json_object_get(m, "match")));
  assert_true(json_number_value(json_object_get(m, "query_pct")) == 100.0);
  assert_true(json_number_value(json_object_get(m, "compared_pct")) == 100.0);
  json_t *seg = json_array_get(json_object_get(m, "segments"), 0);
  assert_non_null(seg);
  assert_true(json_number_value(json_object_get(seg, "query_start")) == 0.0);
  assert_true(json_number_value(json_object_get(seg, "bank_end")) == 2.0);
  json_int_t case_id = json_integer_value(json_object_get(o, "case_id"));
  assert_true(case_id > 0);
  json_decref(o);
  /* the case carries the segments (the clip's case from the MD5 match,
   * which this sighting joined, now lists the vPDQ entry too) */
  char path[64];
  snprintf(path, sizeof path, "/v1/cases/%lld", (long long)case_id);
  assert_int_equal(tu_json_call(fx.port, "GET", path, fx.reviewer, NULL, &o), 200);
  json_t *dms = json_object_get(json_object_get(o, "detail"), "matches"), *dm = NULL;
  for (size_t i = 0; i < json_array_size(dms); i++)
    if (json_array_get(json_object_get(json_array_get(dms, i), "segments"), 0)) dm = json_array_get(dms, i);
  assert_non_null(dm);
  assert_string_equal(json_string_value(json_object_get(dm, "bank")), "vpdq-bank");
  assert_true(json_integer_value(json_object_get(json_object_get(o, "sightings"), "count")) >= 2);
  json_decref(o);
  /* HMA: {"vpdq": {"BANK": [{"bank_content_id", "distance": "100%[100%]"}]}} */
  o = upload("/m/lookup?banks=vpdq-bank", "video/x-yuv4mpeg", clip, clip_len, &st);
  assert_int_equal(st, 200);
  json_t *hits = json_object_get(json_object_get(o, "vpdq"), "vpdq-bank");
  assert_int_equal(json_array_size(hits), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(hits, 0), "distance")), "100%[100%]");
  json_decref(o);
  char *path2 = malloc(strlen(sig) + 200);
  assert_non_null(path2);
  size_t before, after;
  json_decref(newest_case(&before));
  sprintf(path2, "/m/raw_lookup?signal_type=vpdq&include_distance=true&signal=%s", sig);
  assert_int_equal(tu_json_call(fx.port, "GET", path2, fx.submitter, NULL, &o), 200);
  json_t *hit = json_array_get(json_object_get(o, "matches"), 0);
  assert_string_equal(json_string_value(json_object_get(hit, "distance")), "100%[100%]");
  json_decref(o);
  /* vpdq-bank is flagged for review: the frame list opened a case named by
   * its SHA-256, carrying the match's percentages and segments */
  json_t *c = newest_case(&after);
  assert_int_equal(after, before + 1);
  assert_string_equal(json_string_value(json_object_get(c, "source")), "hma");
  const char *cid = json_string_value(json_object_get(c, "content_id"));
  assert_non_null(cid);
  assert_int_equal(strncmp(cid, "vpdq-sha256:", 12), 0);
  assert_int_equal(strlen(cid), 12 + 64);
  json_t *detail = json_object_get(c, "detail");
  assert_string_equal(json_string_value(json_object_get(detail, "signal_type")), "vpdq");
  assert_int_equal(json_integer_value(json_object_get(detail, "frames")), 3);
  dm = json_array_get(json_object_get(detail, "matches"), 0);
  assert_string_equal(json_string_value(json_object_get(dm, "external_id")), "known-clip");
  assert_true(json_number_value(json_object_get(dm, "query_pct")) == 100.0);
  seg = json_array_get(json_object_get(dm, "segments"), 0);
  assert_non_null(seg);
  assert_true(json_number_value(json_object_get(seg, "bank_end")) == 2.0);
  json_decref(c);
  /* the same list spelled with the caller's content id; a bank not flagged
   * for review (review=false) opens none */
  sprintf(path2, "/m/raw_lookup?signal_type=vpdq&content_id=upload-10&signal=%s", sig);
  assert_int_equal(tu_json_call(fx.port, "GET", path2, fx.submitter, NULL, &o), 200);
  json_decref(o);
  c = newest_case(&after);
  assert_int_equal(after, before + 2);
  assert_string_equal(json_string_value(json_object_get(c, "content_id")), "upload-10");
  json_decref(c);
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/banks/vpdq-bank", fx.admin, "{\"review\":false}", NULL), 200);
  sprintf(path2, "/m/raw_lookup?signal_type=vpdq&signal=%s", sig);
  assert_int_equal(tu_json_call(fx.port, "GET", path2, fx.submitter, NULL, &o), 200);
  assert_int_equal(json_array_size(json_object_get(o, "matches")), 1);
  json_decref(o);
  json_decref(newest_case(&after));
  assert_int_equal(after, before + 2);
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/banks/vpdq-bank", fx.admin, "{\"review\":true}", NULL), 200);
  sprintf(path2, "/m/lookup?signal_type=vpdq&banks=vpdq-bank&signal=%s", sig);
  assert_int_equal(tu_json_call(fx.port, "GET", path2, fx.submitter, NULL, &o), 200);
  assert_int_equal(json_array_size(json_object_get(o, "vpdq-bank")), 1);
  json_decref(o);
  assert_int_equal(
      tu_json_call(fx.port, "GET", "/m/raw_lookup?signal_type=vpdq&signal=%5B%22zz%22%5D", fx.submitter, NULL, NULL),
      400);
  free(path2);

  /* across media, on request: a still of the known video... */
  char body[300];
  snprintf(body, sizeof body, "{\"pdq\":\"%s\",\"banks\":[\"vpdq-bank\"],\"cross_media\":true,\"review\":false}", pdq1);
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/match", fx.submitter, body, &o), 200);
  m = json_array_get(json_object_get(o, "matches"), 0);
  assert_string_equal(json_string_value(json_object_get(m, "matched_by")), "pdq_in_video");
  assert_int_equal(json_integer_value(json_object_get(m, "distance")), 0);
  assert_true(json_number_value(json_object_get(m, "bank_timestamp")) == 1.0);
  json_decref(o);
  snprintf(body, sizeof body, "{\"pdq\":\"%s\",\"banks\":[\"vpdq-bank\"],\"review\":false}", pdq1);
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/match", fx.submitter, body, &o), 200);
  assert_int_equal(json_array_size(json_object_get(o, "matches")), 0); /* not without asking */
  json_decref(o);
  /* ...and a known picture shown in the upload, with the frame's time */
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/banks", fx.admin, "{\"name\":\"pictures\"}", NULL), 201);
  snprintf(body, sizeof body, "{\"signal_type\":\"pdq\",\"value\":\"%s\"}", pdq2);
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/banks/pictures/entries", fx.admin, body, NULL), 201);
  o = upload("/v1/match?banks=pictures&cross_media=true", "video/x-yuv4mpeg", clip, clip_len, &st);
  assert_int_equal(st, 200);
  m = json_array_get(json_object_get(o, "matches"), 0);
  assert_non_null(m);
  assert_string_equal(json_string_value(json_object_get(m, "matched_by")), "pdq_frame");
  assert_true(json_number_value(json_object_get(m, "query_timestamp")) == 2.0);
  json_decref(o);
  o = upload("/v1/match?banks=pictures", "video/x-yuv4mpeg", clip, clip_len, &st);
  assert_int_equal(st, 200);
  assert_int_equal(json_array_size(json_object_get(o, "matches")), 0);
  json_decref(o);
}

/* With evidence retention on, the case a video opens keeps the video itself. */
static void test_video_evidence(void **state) {
  (void)state;
  tu_fix_stop(&fx);
  vigil_server_config bad;
  tu_fix_config(&fx, &bad);
  bad.spool_dir = "/nonexistent/spool";
  vigil_server *none = NULL;
  vigil_error e;
  assert_int_equal(vigil_server_start(&none, &bad, &e), VIGIL_EINVAL); /* said at start, not a 503 per video */
  assert_null(none);
  char evdir[400];
  snprintf(evdir, sizeof evdir, "%s/evidence", fx.dir);
  assert_int_equal(mkdir(evdir, 0700), 0);
  vigil_server_config cfg;
  tu_fix_config(&fx, &cfg);
  cfg.max_body = 100000;
  cfg.max_video = 300000;
  cfg.evidence_dir = evdir;
  char logpath[400];
  snprintf(logpath, sizeof logpath, "%s/serve.log", fx.dir);
  cfg.log = serve_log = fopen(logpath, "w+");
  assert_non_null(cfg.log);
  assert_int_equal(tu_fix_start(&fx, &cfg), 0);
  /* the video index saved at the first start (DB.vpdq-index) was loaded,
   * and the vpdq entry added since read from the store */
  fflush(cfg.log);
  rewind(cfg.log);
  char line[2048];
  int loaded = 0;
  while (fgets(line, sizeof line, cfg.log))
    if (strstr(line, "video index loaded from its file") && strstr(line, "1 videos")) loaded = 1;
  assert_true(loaded);
  int st;
  json_t *o = upload("/v1/match?content_id=upload-8", "video/x-yuv4mpeg", clip, clip_len, &st);
  assert_int_equal(st, 200);
  assert_true(json_is_true(json_object_get(o, "evidence_kept")));
  json_int_t case_id = json_integer_value(json_object_get(o, "case_id"));
  json_decref(o);
  char path[80];
  snprintf(path, sizeof path, "/v1/cases/%lld/evidence", (long long)case_id);
  tu_http_resp r;
  assert_int_equal(tu_http(fx.port, "GET", path, fx.reviewer, NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.body_len, clip_len);
  assert_memory_equal(r.body, clip, clip_len);
  tu_http_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hash_video),      cmocka_unit_test(test_bad_video), cmocka_unit_test(test_too_large),
      cmocka_unit_test(test_match_video_md5), cmocka_unit_test(test_hma_video), cmocka_unit_test(test_match_vpdq),
      cmocka_unit_test(test_video_evidence),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
