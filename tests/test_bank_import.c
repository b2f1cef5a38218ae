/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_bank_import.c - the bank store and its import/export paths:
 * validators, bank lifecycle, line-numbered errors in each format, the
 * all-or-nothing rule and --skip-bad, idempotent re-import, batch mode's
 * validation pass, hostile inputs (huge lines, NUL bytes, invalid UTF-8)
 * and removals travelling through an export into another store.
 */
#include "bank_testutil.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank/bank_backend.h"
#include "vigil/bank.h"

static const char H1[] = "224f638e224f8e72084e73b1217fa2510db68bd1f4b6ed51edb652a950036ffc";
static const char H2[] = "5e910449de91500eff81147ede4e54a2027f52320d6f0b7f09aeae55a4ff55aa";
static const char M1[] = "1b8fb4e1b8b5d67ab26630faad1f3e10";
static const char S1[] = "3c7789601318daba8e7d321b9c635325d9d6734f715ca74f4008070697245d59";

/* Imports text (a string) into bank with options; returns the status. */
static int import_str(vigil_bank_store *st, const char *bank, const char *text, size_t len,
                      const vigil_bank_import_opts *o, vigil_bank_import_report *rep) {
  char p[600];
  bt_write(p, sizeof p, "in.txt", text, len);
  FILE *f = fopen(p, "rb");
  assert_non_null(f);
  vigil_error err;
  int rc = vigil_bank_import(st, bank, f, o, rep, &err);
  fclose(f);
  return rc;
}

static vigil_bank_import_opts opts(vigil_bank_format fmt) {
  vigil_bank_import_opts o;
  vigil_bank_import_opts_default(&o);
  o.format = fmt;
  return o;
}

static void test_validators(void **state) {
  (void)state;
  uint8_t v[32];
  vigil_error err;
  assert_int_equal(vigil_signal_parse(VIGIL_SIGNAL_PDQ, H1, 64, v, &err), VIGIL_OK);
  assert_int_equal(v[0], 0x22);
  assert_int_equal(vigil_signal_parse(VIGIL_SIGNAL_PDQ, H1, 63, v, &err), VIGIL_EINVAL);
  assert_non_null(strstr(err.message, "64 hex digits"));
  assert_int_equal(vigil_signal_parse(VIGIL_SIGNAL_MD5, "1b8fb4e1b8b5d67ab26630faad1f3e1g", 32, v, &err),
                   VIGIL_EINVAL);
  assert_non_null(strstr(err.message, "'g' at position 32"));
  /* vpdq values are identities (SHA-256 of the frame list): 64 hex digits */
  assert_int_equal(vigil_signal_parse(VIGIL_SIGNAL_VPDQ, H1, 64, v, &err), VIGIL_OK);
  assert_int_equal(vigil_signal_parse(VIGIL_SIGNAL_NONE, H1, 64, v, &err), VIGIL_EINVAL);
  assert_int_equal(vigil_signal_from_name("sha256", 6), VIGIL_SIGNAL_SHA256);
  assert_int_equal(vigil_signal_from_name("sha25", 5), VIGIL_SIGNAL_NONE);
  char hex[65];
  vigil_signal_to_hex(v, 0, hex);
  assert_string_equal(hex, "");

  char tags[VIGIL_BANK_TAGS_MAX + 1];
  assert_int_equal(vigil_bank_tags_normalize(" csam; A1,csam  ncii ", 21, tags, &err), VIGIL_OK);
  assert_string_equal(tags, "csam,A1,ncii");
  assert_true(vigil_bank_tags_has(tags, "A1"));
  assert_false(vigil_bank_tags_has(tags, "a1"));
  assert_false(vigil_bank_tags_has(tags, "csa"));
  assert_int_equal(vigil_bank_tags_normalize("bad/tag", 7, tags, &err), VIGIL_EINVAL);

  assert_true(vigil_bank_name_valid("ncmec-2024.v1_x"));
  assert_false(vigil_bank_name_valid(""));
  assert_false(vigil_bank_name_valid("a b"));
  assert_false(vigil_bank_name_valid("../etc"));

  assert_int_equal(vigil__bank_text_valid("caf\xc3\xa9", 5, 256, "x", &err), VIGIL_OK);
  assert_int_equal(vigil__bank_text_valid("\xc3", 1, 256, "x", &err), VIGIL_EINVAL);
  assert_int_equal(vigil__bank_text_valid("\xc0\xaf", 2, 256, "x", &err), VIGIL_EINVAL);       /* overlong */
  assert_int_equal(vigil__bank_text_valid("\xed\xa0\x80", 3, 256, "x", &err), VIGIL_EINVAL);   /* surrogate */
  assert_int_equal(vigil__bank_text_valid("a\tb", 3, 256, "x", &err), VIGIL_EINVAL);           /* control */
  assert_int_equal(vigil__bank_text_valid("abc", 3, 2, "x", &err), VIGIL_EINVAL);              /* too long */

  int64_t t;
  assert_int_equal(vigil__bank_time_parse("2024-02-29T12:34:56Z", 20, &t), 0);
  char back[32];
  vigil__bank_time_format(t, back);
  assert_string_equal(back, "2024-02-29T12:34:56Z");
  assert_int_equal(vigil__bank_time_parse("1970-01-01T00:00:00Z", 20, &t), 0);
  assert_int_equal(t, 0);
  assert_int_not_equal(vigil__bank_time_parse("2024-13-01T00:00:00Z", 20, &t), 0);
  assert_int_not_equal(vigil__bank_time_parse("2024-01-01 00:00:00Z", 20, &t), 0);
}

static void test_bank_lifecycle(void **state) {
  (void)state;
  vigil_bank_store *st = bt_store("life.db");
  vigil_error err;
  assert_string_equal(vigil_bank_store_backend(st), "sqlite");
  assert_int_equal(vigil_bank_create(st, "b1", "first", &err), VIGIL_OK);
  assert_int_equal(vigil_bank_create(st, "b1", NULL, &err), VIGIL_EEXIST);
  assert_int_equal(vigil_bank_create(st, "bad name", NULL, &err), VIGIL_EINVAL);
  assert_int_equal(vigil_bank_create(st, "a0", NULL, &err), VIGIL_OK);
  vigil_bank_info *v;
  size_t n;
  assert_int_equal(vigil_bank_list(st, &v, &n, &err), VIGIL_OK);
  assert_int_equal(n, 2);
  assert_string_equal(v[0].name, "a0"); /* sorted by name */
  assert_string_equal(v[1].description, "first");
  assert_true(v[1].enabled);
  free(v);

  vigil_bank_entry e;
  memset(&e, 0, sizeof e);
  strcpy(e.bank, "b1");
  e.type = VIGIL_SIGNAL_PDQ;
  e.value_len = 32;
  assert_int_equal(vigil_signal_parse(e.type, H1, 64, e.value, &err), VIGIL_OK);
  strcpy(e.tags, "csam;A1");
  strcpy(e.external_id, "x-1");
  int added;
  assert_int_equal(vigil_bank_add(st, &e, &added, &err), VIGIL_OK);
  assert_true(added);
  uint64_t id = e.id;
  assert_true(id > 0);
  e.added = 0;
  assert_int_equal(vigil_bank_add(st, &e, &added, &err), VIGIL_OK); /* same identity */
  assert_false(added);
  assert_int_equal(e.id, id);
  strcpy(e.bank, "a0"); /* same value, other bank: another entry */
  e.added = 0;
  assert_int_equal(vigil_bank_add(st, &e, &added, &err), VIGIL_OK);
  assert_true(added);
  strcpy(e.bank, "nope");
  assert_int_equal(vigil_bank_add(st, &e, &added, &err), VIGIL_ENOTFOUND);

  vigil_bank_entry g;
  assert_int_equal(vigil_bank_entry_get(st, id, &g, &err), VIGIL_OK);
  assert_string_equal(g.bank, "b1");
  assert_string_equal(g.tags, "csam,A1");
  assert_string_equal(g.external_id, "x-1");
  assert_int_equal(g.removed, 0);

  /* removal keeps the row */
  assert_int_equal(vigil_bank_remove(st, "b1", VIGIL_SIGNAL_PDQ, g.value, "withdrawn by source", &err), VIGIL_OK);
  assert_int_equal(vigil_bank_remove(st, "b1", VIGIL_SIGNAL_PDQ, g.value, "again", &err), VIGIL_OK); /* no-op */
  assert_int_equal(vigil_bank_entry_get(st, id, &g, &err), VIGIL_OK);
  assert_true(g.removed > 0);
  assert_string_equal(g.removed_reason, "withdrawn by source");
  uint8_t other[32] = {1};
  assert_int_equal(vigil_bank_remove(st, "b1", VIGIL_SIGNAL_PDQ, other, NULL, &err), VIGIL_ENOTFOUND);
  assert_int_equal(vigil_bank_remove_id(st, 999999, NULL, &err), VIGIL_ENOTFOUND);
  vigil_bank_info b;
  assert_int_equal(vigil_bank_get(st, "b1", &b, &err), VIGIL_OK);
  assert_int_equal(b.active, 0);
  assert_int_equal(b.removed, 1);
  assert_int_equal(bt_count(st, "b1", 0), 0);
  assert_int_equal(bt_count(st, "b1", 1), 1);

  assert_int_equal(vigil_bank_set_enabled(st, "a0", 0, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_get(st, "a0", &b, &err), VIGIL_OK);
  assert_false(b.enabled);
  assert_int_equal(vigil_bank_set_enabled(st, "zz", 0, &err), VIGIL_ENOTFOUND);

  assert_int_equal(vigil_bank_drop(st, "a0", &err), VIGIL_OK);
  assert_int_equal(vigil_bank_get(st, "a0", &b, &err), VIGIL_ENOTFOUND);
  assert_int_equal(bt_count(st, NULL, 1), 1);
  assert_int_equal(vigil_bank_drop(st, "a0", &err), VIGIL_ENOTFOUND);
  vigil_bank_store_close(st);

  /* A PostgreSQL location nobody listens at: a store error naming the cause. */
  assert_int_equal(vigil_bank_store_open(&st, "postgresql://vigil@127.0.0.1:1/none", &err), VIGIL_ESTORE);
  assert_non_null(strstr(err.message, "PostgreSQL"));
  assert_null(st);
}

static void test_csv_errors_all_or_nothing(void **state) {
  (void)state;
  vigil_bank_store *st = bt_store("csv.db");
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "b", NULL, &err), VIGIL_OK);
  char text[2048];
  snprintf(text, sizeof text,
           "signal_type,value,external_id,tags\n"
           "pdq,%s,e1,\"csam,A1\"\n"         /* 2: good */
           "pdq,%.63s,e2,\n"                 /* 3: wrong length */
           "md5,%.31sx,e3,\n"                /* 4: bad hex */
           "video,%s,e4,\n"                  /* 5: unknown type */
           "\n"                              /* 6: blank, skipped */
           "sha256,%s,e6\n"                  /* 7: missing a field */
           "md5,%s,\"unterminated,\n"        /* 8: bad quoting */
           "md5,%s,e8,bad/tag\n"             /* 9: bad tag */
           "sha256,%s,e9,ok\r\n",            /* 10: good, CRLF */
           H1, H2, M1, H1, S1, M1, M1, S1);
  vigil_bank_import_opts o = opts(VIGIL_BANK_FMT_CSV);
  vigil_bank_import_report rep;
  assert_int_equal(import_str(st, "b", text, (size_t)-1, &o, &rep), VIGIL_EINVAL);
  assert_int_equal(rep.bad, 6);
  assert_int_equal(rep.nerrors, 6);
  uint64_t want[] = {3, 4, 5, 7, 8, 9};
  for (int i = 0; i < 6; i++) assert_int_equal(rep.errors[i].line, want[i]);
  assert_non_null(strstr(rep.errors[0].message, "64 hex digits"));
  assert_non_null(strstr(rep.errors[1].message, "bad hex digit 'x'"));
  assert_non_null(strstr(rep.errors[2].message, "unknown signal type 'video'"));
  assert_non_null(strstr(rep.errors[3].message, "fields"));
  assert_non_null(strstr(rep.errors[4].message, "quoted"));
  assert_non_null(strstr(rep.errors[5].message, "tag"));
  assert_false(rep.committed);
  assert_int_equal(rep.added, 0);
  vigil_bank_import_report_free(&rep);
  assert_int_equal(bt_count(st, "b", 1), 0); /* nothing written */

  /* --skip-bad: the two good lines go in */
  o.skip_bad = 1;
  assert_int_equal(import_str(st, "b", text, (size_t)-1, &o, &rep), VIGIL_OK);
  assert_int_equal(rep.added, 2);
  assert_int_equal(rep.bad, 6);
  assert_true(rep.committed);
  vigil_bank_import_report_free(&rep);
  assert_int_equal(bt_count(st, "b", 1), 2);
  /* and again: idempotent */
  assert_int_equal(import_str(st, "b", text, (size_t)-1, &o, &rep), VIGIL_OK);
  assert_int_equal(rep.added, 0);
  assert_int_equal(rep.existing, 2);
  vigil_bank_import_report_free(&rep);
  assert_int_equal(bt_count(st, "b", 1), 2);

  /* a bad header is fatal and says why */
  o.skip_bad = 1;
  assert_int_equal(import_str(st, "b", "signal_type,hash\npdq,00\n", (size_t)-1, &o, &rep), VIGIL_OK);
  assert_int_equal(rep.bad, 1);
  assert_int_equal(rep.errors[0].line, 1);
  assert_non_null(strstr(rep.errors[0].message, "unknown column 'hash'"));
  vigil_bank_import_report_free(&rep);
  o.skip_bad = 0;
  assert_int_equal(import_str(st, "b", "", 0, &o, &rep), VIGIL_EINVAL); /* no header at all */
  assert_int_equal(rep.bad, 1);
  vigil_bank_import_report_free(&rep);
  /* missing bank */
  assert_int_equal(import_str(st, "nobank", "signal_type,value\n", (size_t)-1, &o, &rep), VIGIL_ENOTFOUND);
  vigil_bank_import_report_free(&rep);
  vigil_bank_store_close(st);
}

static void test_te_and_jsonl(void **state) {
  (void)state;
  vigil_bank_store *st = bt_store("fmt.db");
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "b", NULL, &err), VIGIL_OK);
  char text[2048];
  snprintf(text, sizeof text, "# a comment\npdq %s\n  md5\t%s  \nsha256 %s extra\nphoto_md5 %s\npdq\n", H1, M1, S1,
           M1);
  vigil_bank_import_opts o = opts(VIGIL_BANK_FMT_TE);
  o.source = "partner-x";
  o.tags = "ncii";
  vigil_bank_import_report rep;
  assert_int_equal(import_str(st, "b", text, (size_t)-1, &o, &rep), VIGIL_EINVAL);
  assert_int_equal(rep.bad, 3);
  assert_int_equal(rep.errors[0].line, 4);
  assert_int_equal(rep.errors[1].line, 5);
  assert_int_equal(rep.errors[2].line, 6);
  vigil_bank_import_report_free(&rep);
  assert_int_equal(bt_count(st, "b", 1), 0);
  o.skip_bad = 1;
  assert_int_equal(import_str(st, "b", text, (size_t)-1, &o, &rep), VIGIL_OK);
  assert_int_equal(rep.added, 2);
  vigil_bank_import_report_free(&rep);

  vigil_bank_entry g;
  assert_int_equal(vigil_bank_entry_get(st, 1, &g, &err), VIGIL_OK);
  assert_string_equal(g.source, "partner-x");
  assert_string_equal(g.tags, "ncii");

  snprintf(text, sizeof text,
           "{\"signal_type\":\"pdq\",\"value\":\"%s\",\"tags\":[\"csam\",\"A1\"],\"external_id\":\"j1\"}\n" /* 1 */
           "{\"signal_type\":\"pdq\",\"value\":\"%s\",\"colour\":\"red\"}\n"                              /* 2 */
           "[1,2]\n"                                                                                      /* 3 */
           "{\"signal_type\":\"md5\",\"value\":\"%s\"\n"                                                   /* 4 */
           "{\"signal_type\":\"md5\",\"value\":\"%s\",\"tags\":[1]}\n"                                     /* 5 */
           "{\"signal_type\":\"sha256\",\"value\":\"%s\",\"source\":\"s\\u0000\"}\n"                       /* 6 */
           "{\"signal_type\":\"sha256\",\"value\":\"%s\",\"removed\":\"2024-01-01T00:00:00Z\","
           "\"removed_reason\":\"withdrawn\"}\n", /* 7: imported as removed */
           H2, H2, M1, M1, S1, S1);
  o = opts(VIGIL_BANK_FMT_JSONL);
  assert_int_equal(import_str(st, "b", text, (size_t)-1, &o, &rep), VIGIL_EINVAL);
  assert_int_equal(rep.bad, 5);
  uint64_t want[] = {2, 3, 4, 5, 6};
  for (int i = 0; i < 5; i++) assert_int_equal(rep.errors[i].line, want[i]);
  assert_non_null(strstr(rep.errors[0].message, "unknown key 'colour'"));
  vigil_bank_import_report_free(&rep);
  o.skip_bad = 1;
  assert_int_equal(import_str(st, "b", text, (size_t)-1, &o, &rep), VIGIL_OK);
  assert_int_equal(rep.added, 2);
  vigil_bank_import_report_free(&rep);
  vigil_bank_info b;
  assert_int_equal(vigil_bank_get(st, "b", &b, &err), VIGIL_OK);
  assert_int_equal(b.active, 3);
  assert_int_equal(b.removed, 1);
  vigil_bank_store_close(st);
}

static void test_hostile(void **state) {
  (void)state;
  vigil_bank_store *st = bt_store("hostile.db");
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "b", NULL, &err), VIGIL_OK);
  /* a 3 MiB line between two good ones, a NUL byte, invalid UTF-8 */
  size_t big = 3u << 20;
  char *text = malloc(big + 4096);
  assert_non_null(text);
  size_t o = (size_t)sprintf(text, "signal_type,value,external_id\npdq,%s,a\n", H1);
  memset(text + o, 'A', big);
  o += big;
  o += (size_t)sprintf(text + o, "\nmd5,%s,nul", M1);
  text[o++] = '\0';
  o += (size_t)sprintf(text + o, "x\nsha256,%s,\xff\xfe\nmd5,%s,ok\n", S1, M1);
  vigil_bank_import_opts op = opts(VIGIL_BANK_FMT_CSV);
  op.skip_bad = 1;
  vigil_bank_import_report rep;
  assert_int_equal(import_str(st, "b", text, o, &op, &rep), VIGIL_OK);
  assert_int_equal(rep.lines, 6);
  assert_int_equal(rep.bad, 3);
  assert_int_equal(rep.errors[0].line, 3);
  assert_non_null(strstr(rep.errors[0].message, "longer than"));
  assert_int_equal(rep.errors[1].line, 4);
  assert_non_null(strstr(rep.errors[1].message, "NUL"));
  assert_int_equal(rep.errors[2].line, 5);
  assert_non_null(strstr(rep.errors[2].message, "UTF-8"));
  assert_int_equal(rep.added, 2);
  vigil_bank_import_report_free(&rep);

  /* random bytes in every format: errors, never a crash; max_errors holds */
  uint64_t rng = 12345;
  for (int round = 0; round < 30; round++) {
    size_t n = 1 + tu_rand(&rng) % 4000;
    for (size_t i = 0; i < n; i++) {
      uint64_t r = tu_rand(&rng);
      text[i] = (r & 7) == 0 ? '\n' : (char)(r >> 8);
    }
    op = opts((vigil_bank_format)(round % 3));
    op.skip_bad = round & 1;
    op.max_errors = 3;
    int rc = import_str(st, "b", text, n, &op, &rep);
    assert_true(rc == VIGIL_OK || rc == VIGIL_EINVAL);
    assert_true(rep.nerrors <= 3);
    vigil_bank_import_report_free(&rep);
  }
  free(text);
  vigil_bank_store_close(st);
}

static int count_commits(void *ctx, uint64_t batch_no, uint64_t lines) {
  (void)lines;
  *(uint64_t *)ctx = batch_no;
  return 0;
}

static void test_batches(void **state) {
  (void)state;
  vigil_bank_store *st = bt_store("batch.db");
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "b", NULL, &err), VIGIL_OK);
  size_t cap = 1 << 20, o = 0;
  char *text = malloc(cap);
  assert_non_null(text);
  uint64_t rng = 99;
  o += (size_t)sprintf(text, "signal_type,value\n");
  for (int i = 0; i < 2500; i++) {
    uint8_t h[32];
    char hex[65];
    bt_random_hash(&rng, h);
    vigil_signal_to_hex(h, 32, hex);
    o += (size_t)sprintf(text + o, "pdq,%s\n", i == 2400 ? "not-hex" : hex);
  }
  vigil_bank_import_opts op = opts(VIGIL_BANK_FMT_CSV);
  op.batch = 1000;
  uint64_t last = 0;
  op.on_commit = count_commits;
  op.ctx = &last;
  vigil_bank_import_report rep;
  /* seekable input: validated first, so the bad line 2402 leaves nothing behind */
  assert_int_equal(import_str(st, "b", text, o, &op, &rep), VIGIL_EINVAL);
  assert_int_equal(rep.bad, 1);
  assert_int_equal(rep.errors[0].line, 2402);
  assert_int_equal(last, 0);
  vigil_bank_import_report_free(&rep);
  assert_int_equal(bt_count(st, "b", 1), 0);
  /* with skip_bad: batches of 1000 entries, 3 commits */
  op.skip_bad = 1;
  assert_int_equal(import_str(st, "b", text, o, &op, &rep), VIGIL_OK);
  assert_int_equal(rep.added, 2499);
  assert_int_equal(rep.batches, 3);
  assert_int_equal(last, 3);
  vigil_bank_import_report_free(&rep);
  assert_int_equal(bt_count(st, "b", 1), 2499);

  /* an unseekable input (a pipe) with a bad line stops there; earlier batches stay */
  assert_int_equal(vigil_bank_create(st, "p", NULL, &err), VIGIL_OK);
  char p[600];
  bt_write(p, sizeof p, "pipe.csv", text, o);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "cat %s", p);
  FILE *f = popen(cmd, "r");
  assert_non_null(f);
  op.skip_bad = 0;
  last = 0;
  assert_int_equal(vigil_bank_import(st, "p", f, &op, &rep, &err), VIGIL_EINVAL);
  pclose(f);
  assert_int_equal(last, 2);
  assert_true(rep.committed);
  assert_int_equal(rep.added, 2000);
  assert_int_equal(rep.errors[0].line, 2402);
  vigil_bank_import_report_free(&rep);
  assert_int_equal(bt_count(st, "p", 1), 2000);
  free(text);
  vigil_bank_store_close(st);
}

typedef struct collect {
  char buf[8192];
  size_t n;
} collect;

static void test_export_roundtrip(void **state) {
  (void)state;
  vigil_bank_store *st = bt_store("exp.db");
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "b", NULL, &err), VIGIL_OK);
  char text[2048];
  snprintf(text, sizeof text,
           "value,signal_type,external_id,tags,source\n"
           "%s,pdq,\"id, with comma\",\"csam,A1\",src\n"
           "%s,md5,\"say \"\"hi\"\"\",ncii,\n"
           "%s,sha256,caf\xc3\xa9,,\n",
           H1, M1, S1);
  vigil_bank_import_opts op = opts(VIGIL_BANK_FMT_CSV);
  vigil_bank_import_report rep;
  assert_int_equal(import_str(st, "b", text, (size_t)-1, &op, &rep), VIGIL_OK);
  assert_int_equal(rep.added, 3);
  vigil_bank_import_report_free(&rep);
  uint8_t m[32];
  assert_int_equal(vigil_signal_parse(VIGIL_SIGNAL_MD5, M1, 32, m, &err), VIGIL_OK);
  assert_int_equal(vigil_bank_remove(st, "b", VIGIL_SIGNAL_MD5, m, "withdrawn, by NCMEC", &err), VIGIL_OK);

  for (int fmt = 0; fmt < 3; fmt++) {
    char p[600];
    bt_path(p, sizeof p, "export.out");
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(vigil_bank_export(st, "b", f, (vigil_bank_format)fmt, 0, &err), VIGIL_OK);
    fclose(f);
    size_t len;
    char *out = (char *)tu_slurp(p, &len);
    assert_non_null(out);
    out = realloc(out, len + 1);
    out[len] = '\0';
    if (fmt == VIGIL_BANK_FMT_TE) {
      assert_null(strstr(out, M1)); /* removed: not listed */
      assert_non_null(strstr(out, H1));
    } else {
      assert_non_null(strstr(out, M1));
      assert_non_null(strstr(out, "withdrawn, by NCMEC"));
    }
    /* import into a second store: the removal travels with the export */
    char name[32];
    snprintf(name, sizeof name, "copy%d.db", fmt);
    vigil_bank_store *st2 = bt_store(name);
    assert_int_equal(vigil_bank_create(st2, "c", NULL, &err), VIGIL_OK);
    /* an active copy of the md5 entry first: the import must withdraw it */
    vigil_bank_entry e;
    memset(&e, 0, sizeof e);
    strcpy(e.bank, "c");
    e.type = VIGIL_SIGNAL_MD5;
    e.value_len = 16;
    memcpy(e.value, m, 16);
    assert_int_equal(vigil_bank_add(st2, &e, NULL, &err), VIGIL_OK);
    op = opts((vigil_bank_format)fmt);
    assert_int_equal(import_str(st2, "c", out, len, &op, &rep), VIGIL_OK);
    vigil_bank_info b;
    assert_int_equal(vigil_bank_get(st2, "c", &b, &err), VIGIL_OK);
    if (fmt == VIGIL_BANK_FMT_TE) {
      assert_int_equal(b.active, 3);
    } else {
      assert_int_equal(rep.removed, 1);
      assert_int_equal(b.active, 2);
      assert_int_equal(b.removed, 1);
      vigil_bank_entry g;
      assert_int_equal(vigil_bank_entry_get(st2, e.id, &g, &err), VIGIL_OK);
      assert_string_equal(g.removed_reason, "withdrawn, by NCMEC");
      /* text fields survive the trip */
      assert_int_equal(vigil_bank_entry_get(st2, e.id + 1, &g, &err), VIGIL_OK);
      assert_string_equal(g.external_id, "id, with comma");
      assert_string_equal(g.tags, "csam,A1");
      assert_string_equal(g.source, "src");
    }
    vigil_bank_import_report_free(&rep);
    vigil_bank_store_close(st2);
    free(out);
  }
  vigil_bank_store_close(st);
}

/* Export with the disputed entries' ids: JSON Lines marks each entry
 * true or false, the line formats are written as without them, and the
 * marked export imports again (the mark is read and left). */
static void test_export_disputed(void **state) {
  (void)state;
  vigil_bank_store *st = bt_store("disp.db");
  vigil_error err;
  assert_int_equal(vigil_bank_create(st, "d", NULL, &err), VIGIL_OK);
  char text[1024];
  snprintf(text, sizeof text, "signal_type,value\npdq,%s\nmd5,%s\nsha256,%s\n", H1, M1, S1);
  vigil_bank_import_opts op = opts(VIGIL_BANK_FMT_CSV);
  vigil_bank_import_report rep;
  assert_int_equal(import_str(st, "d", text, (size_t)-1, &op, &rep), VIGIL_OK);
  vigil_bank_import_report_free(&rep);
  uint8_t m[32];
  vigil_bank_entry md5;
  uint64_t id = 0;
  assert_int_equal(vigil_signal_parse(VIGIL_SIGNAL_MD5, M1, 32, m, &err), VIGIL_OK);
  for (uint64_t i = 1; i < 10 && !id; i++)
    if (vigil_bank_entry_get(st, i, &md5, &err) == VIGIL_OK && md5.type == VIGIL_SIGNAL_MD5) id = i;
  assert_true(id > 0);
  uint64_t ids[] = {0, id, id + 1000}; /* sorted; only id is in the bank */
  for (int fmt = 0; fmt < 3; fmt++) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    vigil_bank_export_opts eo;
    vigil_bank_export_opts_default(&eo);
    eo.format = (vigil_bank_format)fmt;
    eo.mark_disputed = 1;
    eo.disputed = ids;
    eo.ndisputed = 3;
    assert_int_equal(vigil_bank_export_with(st, "d", f, &eo, &err), VIGIL_OK);
    fclose(f);
    if (fmt == VIGIL_BANK_FMT_JSONL) {
      int yes = 0, no = 0;
      for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        int mine = strstr(line, M1) != NULL;
        assert_non_null(strstr(line, mine ? "\"disputed\":true" : "\"disputed\":false"));
        yes += mine;
        no += !mine;
      }
      assert_int_equal(yes, 1);
      assert_int_equal(no, 2);
    } else {
      assert_null(strstr(buf, "disputed"));
    }
    free(buf);
  }
  /* ids out of order are refused, not read as fewer disputes */
  {
    uint64_t rev[3] = {ids[2], ids[1], ids[0]};
    FILE *nf = fopen("/dev/null", "w");
    assert_non_null(nf);
    vigil_bank_export_opts ro;
    vigil_bank_export_opts_default(&ro);
    ro.format = VIGIL_BANK_FMT_JSONL;
    ro.mark_disputed = 1;
    ro.disputed = rev;
    ro.ndisputed = 3;
    assert_int_equal(vigil_bank_export_with(st, "d", nf, &ro, &err), VIGIL_EINVAL);
    assert_non_null(strstr(err.message, "ascending"));
    fclose(nf);
  }
  /* the marked export imports again; a mark that is not a boolean is refused */
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  vigil_bank_export_opts eo;
  vigil_bank_export_opts_default(&eo);
  eo.format = VIGIL_BANK_FMT_JSONL;
  eo.mark_disputed = 1;
  eo.disputed = ids;
  eo.ndisputed = 3;
  assert_int_equal(vigil_bank_export_with(st, "d", f, &eo, &err), VIGIL_OK);
  fclose(f);
  vigil_bank_store *st2 = bt_store("disp2.db");
  assert_int_equal(vigil_bank_create(st2, "e", NULL, &err), VIGIL_OK);
  op = opts(VIGIL_BANK_FMT_JSONL);
  assert_int_equal(import_str(st2, "e", buf, len, &op, &rep), VIGIL_OK);
  assert_int_equal(rep.added, 3);
  vigil_bank_import_report_free(&rep);
  free(buf);
  snprintf(text, sizeof text, "{\"signal_type\":\"md5\",\"value\":\"%s\",\"disputed\":\"yes\"}\n", M1);
  assert_int_equal(import_str(st2, "e", text, (size_t)-1, &op, &rep), VIGIL_EINVAL);
  assert_non_null(strstr(rep.errors[0].message, "disputed"));
  vigil_bank_import_report_free(&rep);
  /* a count without ids is refused */
  eo.disputed = NULL;
  f = open_memstream(&buf, &len);
  assert_int_equal(vigil_bank_export_with(st, "d", f, &eo, &err), VIGIL_EINVAL);
  fclose(f);
  free(buf);
  vigil_bank_store_close(st2);
  vigil_bank_store_close(st);
}

static int teardown(void **state) {
  (void)state;
  bt_cleanup();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_validators),
      cmocka_unit_test(test_bank_lifecycle),
      cmocka_unit_test(test_csv_errors_all_or_nothing),
      cmocka_unit_test(test_te_and_jsonl),
      cmocka_unit_test(test_hostile),
      cmocka_unit_test(test_batches),
      cmocka_unit_test(test_export_roundtrip),
      cmocka_unit_test(test_export_disputed),
  };
  return cmocka_run_group_tests(tests, NULL, teardown);
}
