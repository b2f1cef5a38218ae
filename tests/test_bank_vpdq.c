/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_bank_vpdq.c - vpdq entries in banks: one video's frame list per
 * entry, with the entry model of the other types, on SQLite and (when
 * PostgreSQL is installed) on PostgreSQL.
 *
 *   - identity: the SHA-256 of python-threatexchange's serialisation, so
 *     the same list added twice, or read back from an export, is one entry;
 *   - the three text formats and the reference's per-frame file, round
 *     trips byte for byte where the format allows, and malformed input
 *     reported by line number;
 *   - matching through the bank matcher: percentages, segments, filters,
 *     and a removal (or a disabled bank) stopping matches after a sync;
 *     a picture's hash against the videos' frames (a still of a known
 *     video), with the frame's time.
 */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank_testutil.h"
#include "pgtest.h"
#include "vigil/bank.h"

static char pg_uri[512];
static int have_pg;

/* n frames, one per second from t0, random hashes (seeded), quality 90. */
static vigil_video_frame *make_frames(uint64_t seed, size_t n, double t0) {
  vigil_video_frame *f = calloc(n, sizeof *f);
  assert_non_null(f);
  uint64_t rng = seed;
  for (size_t i = 0; i < n; i++) {
    bt_random_hash(&rng, f[i].hash.bytes);
    f[i].quality = 90;
    f[i].frame_number = (int64_t)i * 30;
    f[i].timestamp = t0 + (double)i;
  }
  return f;
}

/* Field by field: the struct has padding. */
static void assert_frames_equal(const vigil_video_frame *a, const vigil_video_frame *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(a[i].frame_number, b[i].frame_number);
    assert_int_equal(a[i].quality, b[i].quality);
    assert_memory_equal(a[i].hash.bytes, b[i].hash.bytes, 32);
    assert_true(memcmp(&a[i].timestamp, &b[i].timestamp, sizeof(double)) == 0);
  }
}

static vigil_bank_store *open_loc(const char *loc) {
  vigil_bank_store *st = NULL;
  vigil_error err;
  if (vigil_bank_store_open(&st, loc, &err)) fail_msg("open %s: %s", loc, err.message);
  return st;
}

static void add_video(vigil_bank_store *st, const char *bank, const char *extid, const vigil_video_frame *f, size_t n,
                      int expect_added, uint64_t *id) {
  vigil_bank_entry *e = calloc(1, sizeof *e);
  assert_non_null(e);
  snprintf(e->bank, sizeof e->bank, "%s", bank);
  snprintf(e->external_id, sizeof e->external_id, "%s", extid);
  snprintf(e->tags, sizeof e->tags, "csam");
  e->type = VIGIL_SIGNAL_VPDQ;
  e->frames = f;
  e->nframes = n;
  vigil_error err;
  int added = -1;
  if (vigil_bank_add(st, e, &added, &err)) fail_msg("add: %s", err.message);
  assert_int_equal(added, expect_added);
  assert_true(e->id > 0);
  if (id) *id = e->id;
  free(e);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  char *buf = malloc(1 << 22);
  assert_non_null(buf);
  size_t n = fread(buf, 1, (1 << 22) - 1, f);
  fclose(f);
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

static void import_text(vigil_bank_store *st, const char *bank, const char *name, const char *text,
                        vigil_bank_format fmt, int skip_bad, int want_rc, vigil_bank_import_report *rep) {
  char path[600];
  bt_write(path, sizeof path, name, text, (size_t)-1);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  vigil_bank_import_opts o;
  vigil_bank_import_opts_default(&o);
  o.format = fmt;
  o.skip_bad = skip_bad;
  o.external_id = "ref-video";
  vigil_error err;
  int rc = vigil_bank_import(st, bank, f, &o, rep, &err);
  fclose(f);
  if (rc != want_rc) fail_msg("import %s: rc %d (%s)", name, rc, rc ? err.message : "");
}

/* ---- identity and the store ------------------------------------------- */

static void identity_and_frames(vigil_bank_store *st) {
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "vids", NULL, &err), VIGIL_OK);
  vigil_video_frame *f = make_frames(1, 20, 0);
  uint64_t id1, id2;
  add_video(st, "vids", "V1", f, 20, 1, &id1);
  add_video(st, "vids", "V1 again", f, 20, 0, &id2); /* the same list: existing */
  assert_true(id1 == id2);
  /* the identity is SHA-256 of the te serialisation: a list that only
   * differs below its precision is the same entry */
  vigil_video_frame *g = make_frames(1, 20, 0);
  g[3].timestamp += 0.001;
  g[4].frame_number = 9999;
  add_video(st, "vids", "V1 rounded", g, 20, 0, NULL);
  g[3].quality = 91; /* a real difference */
  add_video(st, "vids", "V1b", g, 20, 1, NULL);
  /* the stored frames come back exactly, frame numbers and all */
  vigil_video_frame *back = NULL;
  size_t n = 0;
  assert_int_equal(vigil_bank_entry_frames(st, id1, &back, &n, &err), VIGIL_OK);
  assert_int_equal(n, 20);
  assert_frames_equal(back, f, 20);
  vigil_video_frames_free(back);
  /* entry_get carries no frames; the value is the identity */
  vigil_bank_entry e;
  assert_int_equal(vigil_bank_entry_get(st, id1, &e, &err), VIGIL_OK);
  assert_int_equal(e.type, VIGIL_SIGNAL_VPDQ);
  assert_null(e.frames);
  uint8_t idv[32];
  assert_int_equal(vigil_bank_vpdq_identity(f, 20, idv, &err), VIGIL_OK);
  assert_memory_equal(e.value, idv, 32);
  /* remove by identity */
  assert_int_equal(vigil_bank_remove(st, "vids", VIGIL_SIGNAL_VPDQ, idv, "withdrawn", &err), VIGIL_OK);
  assert_int_equal(vigil_bank_entry_get(st, id1, &e, &err), VIGIL_OK);
  assert_true(e.removed > 0);
  /* refused: no frames, empty, frames on another type, bad fields */
  vigil_bank_entry *b = calloc(1, sizeof *b);
  snprintf(b->bank, sizeof b->bank, "vids");
  b->type = VIGIL_SIGNAL_VPDQ;
  assert_int_equal(vigil_bank_add(st, b, NULL, &err), VIGIL_EINVAL);
  assert_non_null(strstr(err.message, "at least one frame"));
  b->frames = f;
  b->nframes = 20;
  f[2].quality = 101;
  assert_int_equal(vigil_bank_add(st, b, NULL, &err), VIGIL_EINVAL);
  assert_non_null(strstr(err.message, "frame 3"));
  f[2].quality = 90;
  f[2].timestamp = NAN;
  assert_int_equal(vigil_bank_add(st, b, NULL, &err), VIGIL_EINVAL);
  f[2].timestamp = 2;
  b->type = VIGIL_SIGNAL_MD5;
  b->value_len = 16;
  assert_int_equal(vigil_bank_add(st, b, NULL, &err), VIGIL_EINVAL);
  assert_non_null(strstr(err.message, "only vpdq entries carry frames"));
  free(b);
  vigil_bank_info info;
  assert_int_equal(vigil_bank_get(st, "vids", &info, &err), VIGIL_OK);
  assert_int_equal(info.by_type[VIGIL_SIGNAL_VPDQ], 1);
  assert_int_equal(info.removed, 1);
  /* dropping the bank deletes the frames with the entries */
  assert_int_equal(vigil_bank_drop(st, "vids", &err), VIGIL_OK);
  assert_int_equal(vigil_bank_entry_frames(st, id1, &back, &n, &err), VIGIL_ENOTFOUND);
  assert_null(back);
  free(f);
  free(g);
}

static void test_identity_sqlite(void **state) {
  (void)state;
  vigil_bank_store *st = bt_store("id.db");
  identity_and_frames(st);
  vigil_bank_store_close(st);
}

/* ---- formats --------------------------------------------------------------- */

/* A list as python-threatexchange writes it (timestamps to 3 significant digits). */
static const char TE_LIST[] =
    "[\"f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,100,0.0\", "
    "\"f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b23,87,1.0\", "
    "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef,45,18.8\", "
    "\"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210,61,1.23e+02\"]";

static void formats(vigil_bank_store *st) {
  vigil_error err;
  vigil_bank_import_report rep;
  assert_int_equal(vigil_bank_create(st, "te", NULL, &err), VIGIL_OK);
  char *text = malloc(8192);
  snprintf(text, 8192, "# a comment\nvpdq %s\nmd5 d41d8cd98f00b204e9800998ecf8427e\n", TE_LIST);
  import_text(st, "te", "in.te", text, VIGIL_BANK_FMT_TE, 0, VIGIL_OK, &rep);
  assert_int_equal(rep.added, 2);
  vigil_bank_import_report_free(&rep);
  import_text(st, "te", "in.te", text, VIGIL_BANK_FMT_TE, 0, VIGIL_OK, &rep); /* again: idempotent */
  assert_int_equal(rep.added, 0);
  assert_int_equal(rep.existing, 2);
  vigil_bank_import_report_free(&rep);

  /* te export writes the list back byte for byte */
  char path[600];
  bt_path(path, sizeof path, "out.te");
  FILE *f = fopen(path, "wb");
  assert_int_equal(vigil_bank_export(st, "te", f, VIGIL_BANK_FMT_TE, 1, &err), VIGIL_OK);
  fclose(f);
  char *out = slurp(path, NULL);
  char want[8192];
  snprintf(want, sizeof want, "vpdq %s\n", TE_LIST);
  assert_non_null(strstr(out, want));
  free(out);

  /* CSV and JSON Lines round trips into fresh banks: the same identity */
  const vigil_bank_format fmts[] = {VIGIL_BANK_FMT_CSV, VIGIL_BANK_FMT_JSONL};
  const char *names[] = {"rt_csv", "rt_jsonl"};
  for (int k = 0; k < 2; k++) {
    bt_path(path, sizeof path, k ? "out.jsonl" : "out.csv");
    f = fopen(path, "wb");
    assert_int_equal(vigil_bank_export(st, "te", f, fmts[k], 0, &err), VIGIL_OK);
    fclose(f);
    assert_int_equal(vigil_bank_create(st, names[k], NULL, &err), VIGIL_OK);
    f = fopen(path, "rb");
    vigil_bank_import_opts o;
    vigil_bank_import_opts_default(&o);
    o.format = fmts[k];
    if (vigil_bank_import(st, names[k], f, &o, &rep, &err)) fail_msg("re-import %s: %s", names[k], err.message);
    fclose(f);
    assert_int_equal(rep.added, 2);
    vigil_bank_import_report_free(&rep);
    /* and the te export of the copy is the original list */
    bt_path(path, sizeof path, "copy.te");
    f = fopen(path, "wb");
    assert_int_equal(vigil_bank_export(st, names[k], f, VIGIL_BANK_FMT_TE, 1, &err), VIGIL_OK);
    fclose(f);
    out = slurp(path, NULL);
    assert_non_null(strstr(out, want));
    free(out);
  }

  /* JSON Lines keeps full precision and frame numbers */
  assert_int_equal(vigil_bank_create(st, "full", NULL, &err), VIGIL_OK);
  vigil_video_frame *fr = make_frames(7, 5, 0.123456789);
  add_video(st, "full", "F", fr, 5, 1, NULL);
  bt_path(path, sizeof path, "full.jsonl");
  f = fopen(path, "wb");
  assert_int_equal(vigil_bank_export(st, "full", f, VIGIL_BANK_FMT_JSONL, 0, &err), VIGIL_OK);
  fclose(f);
  out = slurp(path, NULL);
  assert_non_null(strstr(out, "\"frames\":[[0,90,\""));
  assert_non_null(strstr(out, "[120,90,\""));
  assert_int_equal(vigil_bank_create(st, "full2", NULL, &err), VIGIL_OK);
  import_text(st, "full2", "full.jsonl", out, VIGIL_BANK_FMT_JSONL, 0, VIGIL_OK, &rep);
  assert_int_equal(rep.added, 1);
  vigil_bank_import_report_free(&rep);
  free(out);
  vigil_bank_match *mm = NULL;
  size_t nm = 0;
  uint8_t idv[32];
  assert_int_equal(vigil_bank_vpdq_identity(fr, 5, idv, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_match_exact(st, VIGIL_SIGNAL_VPDQ, idv, NULL, &mm, &nm, &err), VIGIL_OK);
  assert_int_equal(nm, 2);
  vigil_video_frame *back = NULL;
  size_t nb = 0;
  assert_int_equal(vigil_bank_entry_frames(st, mm[1].entry.id, &back, &nb, &err), VIGIL_OK);
  assert_int_equal(nb, 5);
  assert_frames_equal(back, fr, 5); /* timestamps to the last bit */
  vigil_video_frames_free(back);
  free(mm);
  free(fr);

  /* malformed input, by line number */
  assert_int_equal(vigil_bank_create(st, "bad", NULL, &err), VIGIL_OK);
  snprintf(text, 8192,
           "vpdq %s\n"
           "vpdq [\"f8f8,100,0.0\"]\n"
           "vpdq []\n"
           "\n"
           "vpdq [\"f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,101,0.0\"]\n"
           "vpdq [\"f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,100,nan\"]\n"
           "vpdq not json\n"
           "vpdq\n",
           TE_LIST);
  import_text(st, "bad", "bad.te", text, VIGIL_BANK_FMT_TE, 0, VIGIL_EINVAL, &rep);
  assert_int_equal(rep.bad, 6);
  assert_int_equal(rep.added, 0);
  const uint64_t lines[] = {2, 3, 5, 6, 7, 8};
  for (int i = 0; i < 6; i++) assert_int_equal(rep.errors[i].line, lines[i]);
  assert_non_null(strstr(rep.errors[0].message, "64 hex digits"));
  assert_non_null(strstr(rep.errors[1].message, "at least one frame"));
  assert_non_null(strstr(rep.errors[2].message, "quality"));
  vigil_bank_import_report_free(&rep);
  assert_int_equal(bt_count(st, "bad", 1), 0); /* all or nothing */
  const char *jl =
      "{\"signal_type\":\"vpdq\",\"frames\":[[0,100,\"f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22\","
      "0.5]]}\n"
      "{\"signal_type\":\"vpdq\",\"frames\":[[0,100,\"zz\",0.5]]}\n"
      "{\"signal_type\":\"vpdq\",\"frames\":[[0,100,\"f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22\","
      "0.5]],\"value\":\"00000000000000000000000000000000000000000000000000000000000000ff\"}\n"
      "{\"signal_type\":\"md5\",\"value\":\"d41d8cd98f00b204e9800998ecf8427e\",\"frames\":[]}\n"
      "{\"signal_type\":\"vpdq\",\"value\":\"00000000000000000000000000000000000000000000000000000000000000ff\"}\n";
  import_text(st, "bad", "bad.jsonl", jl, VIGIL_BANK_FMT_JSONL, 1, VIGIL_OK, &rep);
  assert_int_equal(rep.added, 1);
  assert_int_equal(rep.bad, 4);
  assert_int_equal(rep.errors[0].line, 2);
  assert_non_null(strstr(rep.errors[0].message, "frames[0]"));
  assert_int_equal(rep.errors[1].line, 3);
  assert_non_null(strstr(rep.errors[1].message, "not the identity"));
  assert_int_equal(rep.errors[2].line, 4);
  assert_int_equal(rep.errors[3].line, 5);
  vigil_bank_import_report_free(&rep);
  free(text);
}

static void test_formats_sqlite(void **state) {
  (void)state;
  vigil_bank_store *st = bt_store("fmt.db");
  formats(st);
  vigil_bank_store_close(st);
}

/* The reference's per-frame file: the whole file is one entry. */
static void test_reference_file(void **state) {
  (void)state;
  vigil_bank_store *st = bt_store("ref.db");
  vigil_error err;
  vigil_bank_import_report rep;
  assert_int_equal(vigil_bank_create(st, "ref", NULL, &err), VIGIL_OK);
  vigil_video_frame *f = make_frames(3, 6, 0);
  char text[4096];
  size_t o = 0;
  for (size_t i = 0; i < 6; i++) {
    char line[VIGIL_VIDEO_LINE_MAX];
    vigil_video_format_line(&f[i], line);
    o += (size_t)snprintf(text + o, sizeof text - o, "%s\n", line);
  }
  import_text(st, "ref", "v.vpdq", text, VIGIL_BANK_FMT_VPDQ, 0, VIGIL_OK, &rep);
  assert_int_equal(rep.added, 1);
  assert_int_equal(rep.lines, 6);
  vigil_bank_import_report_free(&rep);
  import_text(st, "ref", "v.vpdq", text, VIGIL_BANK_FMT_VPDQ, 0, VIGIL_OK, &rep);
  assert_int_equal(rep.existing, 1);
  vigil_bank_import_report_free(&rep);
  /* the same video given as frames through the API is the same entry */
  add_video(st, "ref", "api", f, 6, 0, NULL);
  vigil_bank_match *mm = NULL;
  size_t nm = 0;
  uint8_t idv[32];
  assert_int_equal(vigil_bank_vpdq_identity(f, 6, idv, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_match_exact(st, VIGIL_SIGNAL_VPDQ, idv, NULL, &mm, &nm, &err), VIGIL_OK);
  assert_int_equal(nm, 1);
  assert_string_equal(mm[0].entry.external_id, "ref-video");
  free(mm);
  /* malformed lines by number; skip_bad keeps the good frames */
  char bad[8192];
  snprintf(bad, sizeof bad, "%s0,100,abc,0.0\n\n7,50,%s,x\n", text,
           "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22");
  import_text(st, "ref", "bad.vpdq", bad, VIGIL_BANK_FMT_VPDQ, 0, VIGIL_EINVAL, &rep);
  assert_int_equal(rep.bad, 2);
  assert_int_equal(rep.errors[0].line, 7);
  assert_int_equal(rep.errors[1].line, 9);
  vigil_bank_import_report_free(&rep);
  import_text(st, "ref", "bad.vpdq", bad, VIGIL_BANK_FMT_VPDQ, 1, VIGIL_OK, &rep);
  assert_int_equal(rep.existing, 1); /* the good frames are the same video */
  vigil_bank_import_report_free(&rep);
  import_text(st, "ref", "empty.vpdq", "\n", VIGIL_BANK_FMT_VPDQ, 0, VIGIL_EINVAL, &rep);
  assert_true(rep.nerrors >= 1);
  vigil_bank_import_report_free(&rep);
  /* export in that format is refused: it holds one video, a bank many */
  FILE *out = fopen("/dev/null", "wb");
  assert_int_equal(vigil_bank_export(st, "ref", out, VIGIL_BANK_FMT_VPDQ, 0, &err), VIGIL_EINVAL);
  assert_non_null(strstr(err.message, "holds one video"));
  fclose(out);
  free(f);
  vigil_bank_store_close(st);
}

/* Hostile input: valid vpdq lines of every format with bytes changed,
 * cut or repeated; the import answers OK or an error, never anything
 * else, and the store stays usable. */
static void test_mutated_input(void **state) {
  (void)state;
  vigil_bank_store *st = bt_store("mut.db");
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "m", NULL, &err), VIGIL_OK);
  char *seeds[4];
  seeds[0] = malloc(4096);
  snprintf(seeds[0], 4096, "vpdq %s\n", TE_LIST);
  seeds[1] = malloc(4096);
  snprintf(seeds[1], 4096, "signal_type,value\nvpdq,\"%s\"\n", "[\"\"f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,100,0.0\"\"]");
  seeds[2] = strdup("{\"signal_type\":\"vpdq\",\"frames\":[[0,100,\"f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22\","
                    "0.5],[30,60,\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",1e3]]}\n");
  seeds[3] = strdup("0,100,f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,0.000\n"
                    "30,61,0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef,1.000\n");
  const vigil_bank_format fmts[] = {VIGIL_BANK_FMT_TE, VIGIL_BANK_FMT_CSV, VIGIL_BANK_FMT_JSONL, VIGIL_BANK_FMT_VPDQ};
  static const char junk[] = "[]\",0123456789abcdefe+-.nN \t\n\\{}:x\x80\xff";
  uint64_t rng = 77;
  char *buf = malloc(16384);
  assert_non_null(buf);
  size_t ok = 0, bad = 0;
  for (int round = 0; round < 400; round++) {
    int k = round % 4;
    size_t len = strlen(seeds[k]);
    memcpy(buf, seeds[k], len);
    int edits = 1 + (int)((rng = rng * 6364136223846793005ULL + 1442695040888963407ULL) >> 60) % 4;
    for (int e = 0; e < edits; e++) {
      rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
      size_t at = (size_t)(rng >> 33) % len;
      switch ((rng >> 20) % 3) {
      case 0: buf[at] = junk[(rng >> 8) % (sizeof junk - 1)]; break;
      case 1: len = at + 1; break; /* cut */
      default:                     /* repeat a piece */
        if (len + (len - at) < 16000) {
          memmove(buf + len, buf + at, len - at);
          len += len - at;
        }
      }
    }
    buf[len] = 0;
    char path[600];
    bt_write(path, sizeof path, "mut.in", buf, len);
    FILE *f = fopen(path, "rb");
    vigil_bank_import_opts o;
    vigil_bank_import_opts_default(&o);
    o.format = fmts[k];
    o.skip_bad = round % 2;
    vigil_bank_import_report rep;
    int rc = vigil_bank_import(st, "m", f, &o, &rep, &err);
    fclose(f);
    if (rc != VIGIL_OK && rc != VIGIL_EINVAL && rc != VIGIL_ELIMIT) fail_msg("round %d: rc %d: %s", round, rc, err.message);
    if (rc == VIGIL_OK) ok++;
    else bad++;
    vigil_bank_import_report_free(&rep);
  }
  assert_true(ok > 0 && bad > 0);
  /* what went in exports and matches */
  FILE *out = fopen("/dev/null", "wb");
  for (int k = 0; k < 3; k++) assert_int_equal(vigil_bank_export(st, "m", out, fmts[k], 0, &err), VIGIL_OK);
  fclose(out);
  vigil_bank_matcher *m = NULL;
  assert_int_equal(vigil_bank_matcher_open(&m, st, &err), VIGIL_OK);
  vigil_bank_matcher_free(m);
  for (int k = 0; k < 4; k++) free(seeds[k]);
  free(buf);
  vigil_bank_store_close(st);
}

/* ---- matching ----------------------------------------------------------- */

static void matching(vigil_bank_store *st) {
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "known", NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_create(st, "other", NULL, &err), VIGIL_OK);
  vigil_video_frame *a = make_frames(11, 60, 0), *b = make_frames(12, 40, 0);
  uint64_t ida, idb;
  add_video(st, "known", "A", a, 60, 1, &ida);
  vigil_bank_matcher *m = NULL;
  assert_int_equal(vigil_bank_matcher_open(&m, st, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_videos(m), 1);
  add_video(st, "other", "B", b, 40, 1, &idb); /* after the matcher opened: a sync brings it */
  assert_int_equal(vigil_bank_matcher_sync(m, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_videos(m), 2);

  /* the query: seconds 10..29 of A (3 bits changed per frame) then 10 s of noise */
  vigil_video_frame *q = make_frames(99, 30, 100);
  uint64_t rng = 5;
  for (int i = 0; i < 20; i++) {
    bt_flip(&rng, a[10 + i].hash.bytes, 3, q[i].hash.bytes);
    q[i].timestamp = 100 + i;
  }
  vigil_bank_video_hit *h = NULL;
  size_t n = 0;
  assert_int_equal(vigil_bank_match_video(m, q, 30, NULL, &h, &n, &err), VIGIL_OK);
  assert_int_equal(n, 1);
  assert_int_equal(h[0].entry.id, ida);
  assert_string_equal(h[0].entry.bank, "known");
  assert_string_equal(h[0].entry.external_id, "A");
  assert_string_equal(h[0].entry.tags, "csam");
  assert_null(h[0].entry.frames);
  assert_true(fabs(h[0].query_pct - 100.0 * 20 / 30) < 1e-9);
  assert_true(fabs(h[0].compared_pct - 100.0 * 20 / 60) < 1e-9);
  assert_false(h[0].matched); /* 66.7% < 80% */
  assert_int_equal(h[0].nsegments, 1);
  assert_true(fabs(h[0].segments[0].query_start - 100) < 1e-9 && fabs(h[0].segments[0].query_end - 119) < 1e-9);
  assert_true(fabs(h[0].segments[0].bank_start - 10) < 1e-9 && fabs(h[0].segments[0].bank_end - 29) < 1e-9);
  vigil_bank_video_hits_free(h, n);
  /* a lower minimum makes it a match; the filter leaves banks out */
  vigil_vpdq_opts o;
  vigil_vpdq_opts_default(&o);
  o.query_pct_min = 50;
  assert_int_equal(vigil_bank_match_video(m, q, 30, &o, &h, &n, &err), VIGIL_OK);
  assert_int_equal(n, 1);
  assert_true(h[0].matched);
  vigil_bank_video_hits_free(h, n);
  const char *only[] = {"other"};
  vigil_bank_filter flt = {only, 1, NULL, 0};
  assert_int_equal(vigil_bank_match_video_filtered(m, q, 30, &o, &flt, &h, &n, &err), VIGIL_OK);
  assert_int_equal(n, 0);
  assert_null(h);
  /* B whole matches B */
  assert_int_equal(vigil_bank_match_video(m, b, 40, NULL, &h, &n, &err), VIGIL_OK);
  assert_int_equal(n, 1);
  assert_int_equal(h[0].entry.id, idb);
  assert_true(h[0].matched);
  assert_true(h[0].query_pct == 100 && h[0].compared_pct == 100);
  vigil_bank_video_hits_free(h, n);

  /* a still of a known video: A's frame at 7 s, 4 bits off, as a picture's hash */
  vigil_pdq_hash still[2];
  bt_flip(&rng, a[7].hash.bytes, 4, still[0].bytes);
  bt_random_hash(&rng, still[1].bytes); /* a second "variant" that matches nothing */
  vigil_bank_frame_match *fm = NULL;
  size_t nf = 0;
  assert_int_equal(vigil_bank_match_pdq_in_videos(m, &still[1], 2 - 1, 31, NULL, &fm, &nf, &err), VIGIL_OK);
  assert_int_equal(nf, 0);
  assert_int_equal(vigil_bank_match_pdq_in_videos(m, still, 2, 31, NULL, &fm, &nf, &err), VIGIL_OK);
  assert_int_equal(nf, 1);
  assert_int_equal(fm[0].entry.id, ida);
  assert_int_equal(fm[0].distance, 4);
  assert_int_equal(fm[0].variant, 0);
  assert_true(fm[0].timestamp == 7.0);
  free(fm);
  assert_int_equal(vigil_bank_match_pdq_in_videos(m, still, 2, 3, NULL, &fm, &nf, &err), VIGIL_OK);
  assert_int_equal(nf, 0); /* inclusive threshold: 4 > 3 */
  assert_int_equal(vigil_bank_match_pdq_in_videos(m, still, 2, 65, NULL, &fm, &nf, &err), VIGIL_EINVAL);
  assert_int_equal(vigil_bank_match_pdq_in_videos(m, &b[39].hash, 1, 0, &flt, &fm, &nf, &err), VIGIL_OK);
  assert_int_equal(nf, 1);
  assert_true(fm[0].entry.id == idb && fm[0].timestamp == 39.0);
  free(fm);

  /* a removal stops matching: at once (the store says so) and after a sync */
  assert_int_equal(vigil_bank_remove_id(st, idb, "withdrawn", &err), VIGIL_OK);
  assert_int_equal(vigil_bank_match_video(m, b, 40, NULL, &h, &n, &err), VIGIL_OK);
  assert_int_equal(n, 0);
  assert_int_equal(vigil_bank_matcher_sync(m, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_videos(m), 1);
  assert_int_equal(vigil_bank_match_video(m, b, 40, NULL, &h, &n, &err), VIGIL_OK);
  assert_int_equal(n, 0);
  assert_int_equal(vigil_bank_match_pdq_in_videos(m, &b[39].hash, 1, 0, NULL, &fm, &nf, &err), VIGIL_OK);
  assert_int_equal(nf, 0);
  /* a disabled bank does not match; enabled again, it does */
  assert_int_equal(vigil_bank_set_enabled(st, "known", 0, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_sync(m, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_videos(m), 0);
  assert_int_equal(vigil_bank_match_video(m, a, 60, NULL, &h, &n, &err), VIGIL_OK);
  assert_int_equal(n, 0);
  assert_int_equal(vigil_bank_set_enabled(st, "known", 1, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_sync(m, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_match_video(m, a, 60, NULL, &h, &n, &err), VIGIL_OK);
  assert_int_equal(n, 1);
  vigil_bank_video_hits_free(h, n);
  /* hostile query fields are refused, not matched */
  q[0].quality = 200;
  assert_int_equal(vigil_bank_match_video(m, q, 30, NULL, &h, &n, &err), VIGIL_EINVAL);
  vigil_bank_matcher_free(m);
  /* a fresh matcher loads only active entries */
  assert_int_equal(vigil_bank_matcher_open(&m, st, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_matcher_videos(m), 1);
  vigil_bank_matcher_free(m);
  free(a);
  free(b);
  free(q);
}

/* The match functions in several threads at once (readers of one matcher). */
typedef struct reader_arg {
  vigil_bank_matcher *m;
  const vigil_video_frame *q;
  size_t n;
  int ok;
} reader_arg;

static void *reader(void *p) {
  reader_arg *a = p;
  a->ok = 1;
  for (int i = 0; i < 20 && a->ok; i++) {
    vigil_bank_video_hit *h = NULL;
    size_t n = 0;
    vigil_error err;
    if (vigil_bank_match_video(a->m, a->q, a->n, NULL, &h, &n, &err) || n != 1 || !h[0].matched) a->ok = 0;
    vigil_bank_video_hits_free(h, n);
    vigil_bank_frame_match *fm = NULL;
    if (vigil_bank_match_pdq_in_videos(a->m, &a->q[3].hash, 1, 31, NULL, &fm, &n, &err) || n != 1) a->ok = 0;
    free(fm);
  }
  return NULL;
}

static void test_concurrent_readers(void **state) {
  (void)state;
  vigil_bank_store *st = bt_store("threads.db");
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "t", NULL, &err), VIGIL_OK);
  vigil_video_frame *v = make_frames(21, 30, 0);
  add_video(st, "t", "T", v, 30, 1, NULL);
  vigil_bank_matcher *m = NULL;
  assert_int_equal(vigil_bank_matcher_open(&m, st, &err), VIGIL_OK);
  pthread_t th[4];
  reader_arg args[4];
  for (int i = 0; i < 4; i++) {
    args[i] = (reader_arg){m, v, 30, 0};
    assert_int_equal(pthread_create(&th[i], NULL, reader, &args[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    assert_true(args[i].ok);
  }
  vigil_bank_matcher_free(m);
  vigil_bank_store_close(st);
  free(v);
}

static void test_matching_sqlite(void **state) {
  (void)state;
  vigil_bank_store *st = bt_store("match.db");
  matching(st);
  vigil_bank_store_close(st);
}

/* A store made before vpdq entries existed (no bank_frames table) opens,
 * keeps its entries and takes vpdq entries. */
static void test_old_store(void **state) {
  (void)state;
  char path[600], cmd[1400];
  bt_path(path, sizeof path, "old.db");
  vigil_bank_store *st = bt_store("old.db");
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "b", NULL, &err), VIGIL_OK);
  vigil_bank_store_close(st);
  snprintf(cmd, sizeof cmd, "sqlite3 %s 'DROP TABLE bank_frames' 2>&1", path);
  if (system(cmd) != 0) {
    printf("sqlite3 not installed: old-store check skipped\n");
    return;
  }
  st = open_loc(path);
  vigil_video_frame *f = make_frames(4, 3, 0);
  add_video(st, "b", "x", f, 3, 1, NULL);
  free(f);
  vigil_bank_store_close(st);
}

static void test_postgresql(void **state) {
  (void)state;
  if (!have_pg) {
    printf("PostgreSQL not installed: the PostgreSQL runs skipped\n");
    return;
  }
  void (*const parts[])(vigil_bank_store *) = {identity_and_frames, formats, matching};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    char loc[600];
    tu_pg_fresh_db(loc, sizeof loc);
    vigil_bank_store *st = open_loc(loc);
    parts[i](st);
    vigil_bank_store_close(st);
  }
}

static int teardown(void **state) {
  (void)state;
  bt_cleanup();
  return 0;
}

int main(void) {
  have_pg = tu_pg_start(pg_uri, sizeof pg_uri) == 0;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_identity_sqlite), cmocka_unit_test(test_formats_sqlite),
      cmocka_unit_test(test_reference_file),  cmocka_unit_test(test_mutated_input),
      cmocka_unit_test(test_matching_sqlite),
      cmocka_unit_test(test_old_store),       cmocka_unit_test(test_concurrent_readers),
      cmocka_unit_test(test_postgresql),
  };
  return cmocka_run_group_tests(tests, NULL, teardown);
}
