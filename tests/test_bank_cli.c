/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_bank_cli.c - `vigil bank` and `vigil match` end to end, through the
 * built binary (VIGIL_CLI): exit codes, line-numbered import errors,
 * idempotent re-import, matching images by PDQ, MD5 and SHA-256, filters,
 * removal and disable, low-quality rejection, --db and $VIGIL_DB.
 */
#include "bank_testutil.h"
#include "testutil.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "vigil/media.h"

static char db[600], out_path[600], err_path[600];
static char *out_text, *err_text;

/* Runs "vigil ARGS" (with --db unless nodb) and captures its output. */
static int vigil(int nodb, const char *fmt, ...) {
  char args[4096], cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  char *sp = strchr(args, ' ');
  /* --db goes after the command name: "bank create x" -> "bank --db D create x" */
  if (nodb) snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s", VIGIL_CLI, args, out_path, err_path);
  else if (sp)
    snprintf(cmd, sizeof cmd, "%s %.*s --db %s%s >%s 2>%s", VIGIL_CLI, (int)(sp - args), args, db, sp, out_path,
             err_path);
  else snprintf(cmd, sizeof cmd, "%s %s --db %s >%s 2>%s", VIGIL_CLI, args, db, out_path, err_path);
  int st = system(cmd);
  free(out_text);
  free(err_text);
  size_t n;
  out_text = (char *)tu_slurp(out_path, &n);
  out_text = realloc(out_text, n + 1);
  out_text[n] = '\0';
  err_text = (char *)tu_slurp(err_path, &n);
  err_text = realloc(err_text, n + 1);
  err_text[n] = '\0';
  assert_true(WIFEXITED(st));
  return WEXITSTATUS(st);
}

static void digest(const char *path, const EVP_MD *md, char *hex) {
  size_t len;
  uint8_t *data = tu_slurp(path, &len);
  assert_non_null(data);
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int dl;
  assert_int_equal(EVP_Digest(data, len, d, &dl, md, NULL), 1);
  vigil_signal_to_hex(d, dl, hex);
  free(data);
}

static void pdq_of(const char *path, char *hex) {
  vigil_pdq_result r;
  vigil_error err;
  assert_int_equal(vigil_hash_file(path, NULL, &r, NULL, &err), VIGIL_OK);
  vigil_pdq_to_hex(&r.hash[0], hex);
}

/* A flat grey 32x32 BMP: PDQ quality 0. */
static const char *flat_bmp(char *buf, size_t cap) {
  uint8_t b[54 + 32 * 32 * 3];
  memset(b, 0, sizeof b);
  b[0] = 'B', b[1] = 'M';
  uint32_t size = sizeof b, off = 54, hdr = 40, w = 32, h = 32, img = 32 * 32 * 3;
  memcpy(b + 2, &size, 4);
  memcpy(b + 10, &off, 4);
  memcpy(b + 14, &hdr, 4);
  memcpy(b + 18, &w, 4);
  memcpy(b + 22, &h, 4);
  b[26] = 1;
  b[28] = 24;
  memcpy(b + 34, &img, 4);
  memset(b + 54, 0x80, img);
  return bt_write(buf, cap, "flat.bmp", b, sizeof b);
}

static void test_cli(void **state) {
  (void)state;
  bt_path(db, sizeof db, "cli.db");
  bt_path(out_path, sizeof out_path, "out.txt");
  bt_path(err_path, sizeof err_path, "err.txt");
  char rings[4096], mirrored[4096], waves[4096], square[4096];
  snprintf(rings, sizeof rings, "%s/samples/rings.jpg", VIGIL_SOURCE_DIR);
  snprintf(mirrored, sizeof mirrored, "%s/samples/rings-mirrored.jpg", VIGIL_SOURCE_DIR);
  snprintf(waves, sizeof waves, "%s/samples/waves.png", VIGIL_SOURCE_DIR);
  snprintf(square, sizeof square, "%s/samples/square.bmp", VIGIL_SOURCE_DIR);

  assert_int_equal(vigil(1, "bank --help"), 0);
  assert_non_null(strstr(out_text, "usage: vigil bank"));
  assert_int_equal(vigil(1, "match --help"), 0);
  assert_non_null(strstr(out_text, "usage: vigil match"));
  assert_int_equal(vigil(1, "bank"), 2);
  assert_int_equal(vigil(0, "bank frobnicate"), 2);
  assert_int_equal(vigil(0, "match"), 2);
  assert_int_equal(vigil(0, "match --threshold 300 %s", rings), 2);
  assert_int_equal(vigil(0, "match --threshold 65 %s", rings), 2); /* over VIGIL_BANK_MAX_THRESHOLD */

  assert_int_equal(vigil(0, "bank create ncmec --description NCMEC"), 0);
  assert_int_equal(vigil(0, "bank create ncmec"), 1);
  assert_int_equal(vigil(0, "bank create stopncii"), 0);
  assert_int_equal(vigil(0, "bank create 'bad name'"), 2);

  char hp[65], hm[65], hw_md5[33], hs_sha[65], csv[2048], p[600];
  pdq_of(rings, hp);
  pdq_of(mirrored, hm);
  digest(waves, EVP_md5(), hw_md5);
  digest(square, EVP_sha256(), hs_sha);
  snprintf(csv, sizeof csv,
           "signal_type,value,external_id,tags\n"
           "pdq,%s,ring-1,\"csam,A1\"\n"
           "md5,%s,wave-1,csam\n"
           "pdq,%s0,bad-1,\n"
           "sha256,%s,square-1,ncii\n",
           hp, hw_md5, hp, hs_sha);
  bt_write(p, sizeof p, "ncmec.csv", csv, (size_t)-1);
  assert_int_equal(vigil(0, "bank import ncmec %s", p), 1);
  assert_non_null(strstr(err_text, "ncmec.csv:4: pdq value must be 64 hex digits"));
  assert_non_null(strstr(err_text, "nothing imported"));
  assert_int_equal(vigil(0, "bank export ncmec"), 0);
  assert_null(strstr(out_text, hp)); /* all or nothing */
  assert_int_equal(vigil(0, "bank import ncmec %s --skip-bad", p), 1);
  assert_non_null(strstr(out_text, "3 added, 0 existing"));
  assert_int_equal(vigil(0, "bank import ncmec --skip-bad %s", p), 1);
  assert_non_null(strstr(out_text, "0 added, 3 existing"));

  /* a TE file into the second bank, via $VIGIL_DB and --create */
  snprintf(csv, sizeof csv, "pdq %s\n", hm);
  bt_write(p, sizeof p, "partner.txt", csv, (size_t)-1);
  char envcmd[4096];
  snprintf(envcmd, sizeof envcmd, "VIGIL_DB=%s %s bank import partner %s --create --tag ncii --source partner >%s 2>&1",
           db, VIGIL_CLI, p, out_path);
  assert_int_equal(system(envcmd), 0);
  assert_int_equal(vigil(0, "bank list"), 0);
  assert_non_null(strstr(out_text, "partner"));
  assert_non_null(strstr(out_text, "ncmec"));
  assert_int_equal(vigil(0, "bank stats ncmec --format json"), 0);
  json_error_t je;
  json_t *o = json_loads(out_text, 0, &je);
  assert_non_null(o);
  assert_int_equal(json_integer_value(json_object_get(o, "active")), 3);
  assert_int_equal(json_integer_value(json_object_get(o, "pdq")), 1);
  json_decref(o);

  /* match images: PDQ, MD5, SHA-256 */
  assert_int_equal(vigil(0, "match %s %s %s", rings, waves, square), 0);
  assert_non_null(strstr(out_text, ",pdq,0,orig,ncmec,"));
  assert_non_null(strstr(out_text, ",ring-1,\"csam,A1\","));
  assert_non_null(strstr(out_text, ",md5,0,orig,ncmec,"));
  assert_non_null(strstr(out_text, ",sha256,0,orig,ncmec,"));
  /* the mirrored picture: far from ring-1 as it is, found with --dihedral */
  assert_int_equal(vigil(0, "match --bank ncmec %s", mirrored), 0);
  assert_null(strstr(out_text, "ring-1"));
  assert_int_equal(vigil(0, "match --bank ncmec --dihedral --format json %s", mirrored), 0);
  o = json_loads(out_text, 0, &je);
  assert_non_null(o);
  json_t *ms = json_object_get(o, "matches");
  assert_int_equal(json_array_size(ms), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(ms, 0), "external_id")), "ring-1");
  assert_string_equal(json_string_value(json_object_get(json_array_get(ms, 0), "variant")), "flipy");
  assert_string_equal(json_string_value(json_object_get(o, "pdq")), hm);
  json_decref(o);
  /* bare hashes and typed values */
  assert_int_equal(vigil(0, "match %s md5:%s sha256:%s", hp, hw_md5, hs_sha), 0);
  assert_non_null(strstr(out_text, "ring-1"));
  assert_non_null(strstr(out_text, "wave-1"));
  assert_non_null(strstr(out_text, "square-1"));
  assert_int_equal(vigil(0, "match md5:zz"), 1);
  /* filters */
  assert_int_equal(vigil(0, "match --tag ncii %s %s", mirrored, square), 0);
  assert_non_null(strstr(out_text, "square-1"));
  assert_non_null(strstr(out_text, ",partner,"));
  assert_null(strstr(out_text, "ring-1"));
  assert_int_equal(vigil(0, "match --bank partner %s", square), 0);
  assert_string_equal(out_text, "");
  assert_int_equal(vigil(0, "match --bank nosuch %s", square), 2);
  /* threshold: exact copy matches at 0 */
  assert_int_equal(vigil(0, "match --threshold 0 %s", rings), 0);
  assert_non_null(strstr(out_text, "ring-1"));

  /* removal: stops matching, shows in the export */
  assert_int_equal(vigil(0, "bank remove ncmec pdq %s --reason 'withdrawn by NCMEC'", hp), 0);
  assert_int_equal(vigil(0, "match %s", rings), 0);
  assert_null(strstr(out_text, "ring-1"));
  assert_int_equal(vigil(0, "bank export ncmec --format csv"), 0);
  assert_non_null(strstr(out_text, "withdrawn by NCMEC"));
  assert_int_equal(vigil(0, "bank export ncmec --active"), 0);
  assert_null(strstr(out_text, hp));
  assert_int_equal(vigil(0, "bank remove ncmec md5 %s", hp), 2); /* bad md5 length */
  assert_int_equal(vigil(0, "bank remove ncmec sha256 %s", hp), 1); /* no such entry */
  /* add it back as another entry? same identity: stays removed */
  assert_int_equal(vigil(0, "bank add ncmec pdq %s --id again", hp), 0);
  assert_non_null(strstr(out_text, "already present"));

  /* disable / enable */
  assert_int_equal(vigil(0, "bank disable ncmec"), 0);
  assert_int_equal(vigil(0, "match %s", waves), 0);
  assert_null(strstr(out_text, "wave-1"));
  assert_int_equal(vigil(0, "bank enable ncmec"), 0);
  assert_int_equal(vigil(0, "match %s", waves), 0);
  assert_non_null(strstr(out_text, "wave-1"));

  /* an entry the service's reviewers disputed is marked in the JSON Lines export */
  assert_int_equal(vigil(0, "bank export ncmec --format jsonl"), 0);
  long long wave_id = 0;
  int entries = 0;
  for (char *line = strtok(out_text, "\n"); line; line = strtok(NULL, "\n")) {
    json_t *j = json_loads(line, 0, NULL);
    assert_non_null(j);
    assert_true(json_is_false(json_object_get(j, "disputed")));
    if (!strcmp(json_string_value(json_object_get(j, "external_id")), "wave-1"))
      wave_id = json_integer_value(json_object_get(j, "id"));
    entries++;
    json_decref(j);
  }
  assert_true(wave_id > 0);
  sqlite3 *sdb;
  assert_int_equal(sqlite3_open(db, &sdb), SQLITE_OK);
  char ins[300];
  snprintf(ins, sizeof ins,
           "INSERT INTO server_entry_disputes(bank, entry_id, case_id, by_who, at) VALUES('ncmec', %lld, 1,"
           " 'user:alice', '2026-01-01T00:00:00.000Z')",
           wave_id);
  assert_int_equal(sqlite3_exec(sdb, ins, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(sdb);
  assert_int_equal(vigil(0, "bank export ncmec --format jsonl"), 0);
  int marked = 0, lines = 0;
  for (char *line = strtok(out_text, "\n"); line; line = strtok(NULL, "\n")) {
    json_t *j = json_loads(line, 0, NULL);
    assert_non_null(j);
    int mine = json_integer_value(json_object_get(j, "id")) == wave_id;
    assert_int_equal(json_is_true(json_object_get(j, "disputed")), mine);
    marked += mine;
    lines++;
    json_decref(j);
  }
  assert_int_equal(marked, 1);
  assert_int_equal(lines, entries);
  assert_int_equal(vigil(0, "bank export ncmec --format csv"), 0);
  assert_null(strstr(out_text, "disputed"));

  /* low quality: rejected unless --force; exact lookups still run */
  char flat[600];
  flat_bmp(flat, sizeof flat);
  char flat_pdq[65];
  pdq_of(flat, flat_pdq);
  assert_int_equal(vigil(0, "bank add ncmec pdq %s --id flat --tag csam", flat_pdq), 0);
  assert_int_equal(vigil(0, "match %s", flat), 1);
  assert_non_null(strstr(err_text, "quality"));
  assert_null(strstr(out_text, "flat"));
  assert_int_equal(vigil(0, "match --force %s", flat), 0);
  assert_non_null(strstr(out_text, ",flat,"));
  /* not an image: exact lookups run, PDQ reported */
  assert_int_equal(vigil(0, "match %s", p), 1);
  assert_non_null(strstr(err_text, "not matched by PDQ"));

  /* drop needs --yes when the bank has entries */
  assert_int_equal(vigil(0, "bank drop partner"), 2);
  assert_int_equal(vigil(0, "bank drop partner --yes"), 0);
  assert_int_equal(vigil(0, "bank list --format json"), 0);
  assert_null(strstr(out_text, "partner"));
  assert_int_equal(vigil(0, "bank import nosuch %s", p), 2);
}

static int teardown(void **state) {
  (void)state;
  free(out_text);
  free(err_text);
  bt_cleanup();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_cli)};
  return cmocka_run_group_tests(tests, NULL, teardown);
}
