/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_media_cli_formats.c - `vigil hash` and `vigil match` as one
 * interface with `vigil bank`:
 *
 *   - `vigil hash --format te` prints threatexchange lines (pdq, md5,
 *     sha256, checked against OpenSSL here) that `vigil bank import
 *     --format te` takes as they are; --format json carries md5 and sha256.
 *   - `vigil match` tells a mistyped hash from a file name (63 hex digits,
 *     a bare MD5) instead of answering "no such file".
 *   - One output flag: every command that prints records takes
 *     `--format json` and prints JSON objects, and --db is taken before
 *     the subcommand as after it.
 *   - `vigil match -r DIR` looks up the regular files under DIR, skips
 *     symbolic links (a loop) and FIFOs (which would block), and
 *     reports progress with rate, ETA and failures on a terminal.
 */
#include "testutil.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256], db[300];

/* Runs cmd; its output (all of it read, so it never dies of SIGPIPE) into
 * out, truncated to cap. */
static int run(const char *cmd, char *out, size_t cap) {
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  size_t n = fread(out, 1, cap - 1, p);
  out[n] = 0;
  char sink[4096];
  while (fread(sink, 1, sizeof sink, p) > 0) {
  }
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void hex_digest(const EVP_MD *md, const uint8_t *p, size_t n, char *hex) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  assert_int_equal(EVP_Digest(p, n, d, &len, md, NULL), 1);
  for (unsigned i = 0; i < len; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/vigil-test-cliformats-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(db, sizeof db, "%s/banks.db", dir);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void test_hash_te_imports(void **state) {
  (void)state;
  size_t len;
  uint8_t *jpg = tu_slurp(VIGIL_SOURCE_DIR "/samples/rings.jpg", &len);
  assert_non_null(jpg);
  char md5[65] = "", sha[65] = "", want[200];
  hex_digest(EVP_md5(), jpg, len, md5);
  hex_digest(EVP_sha256(), jpg, len, sha);
  free(jpg);
  char cmd[2048], out[8192];
  snprintf(cmd, sizeof cmd, "'%s' hash --format te '%s/samples/rings.jpg'", VIGIL_CLI, VIGIL_SOURCE_DIR);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  snprintf(want, sizeof want, "\nmd5 %s\n", md5);
  assert_non_null(strstr(out, want));
  snprintf(want, sizeof want, "\nsha256 %s\n", sha);
  assert_non_null(strstr(out, want));
  assert_non_null(strstr(out, "\npdq 224f638e224f8e72084e73b1217fa2510db68bd1f4b6ed51edb652a950036ffc\n"));
  /* straight into a bank, then matched by all three */
  snprintf(cmd, sizeof cmd,
           "'%s' bank --db '%s' create te >/dev/null && '%s' hash --format te '%s/samples/rings.jpg' | "
           "'%s' bank --db '%s' import te --format te - 2>&1",
           VIGIL_CLI, db, VIGIL_CLI, VIGIL_SOURCE_DIR, VIGIL_CLI, db);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "3 added"));
  snprintf(cmd, sizeof cmd, "'%s' match --db '%s' '%s/samples/rings.jpg'", VIGIL_CLI, db, VIGIL_SOURCE_DIR);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, ",md5,0,"));
  assert_non_null(strstr(out, ",sha256,0,"));
  assert_non_null(strstr(out, ",pdq,0,"));
  snprintf(cmd, sizeof cmd, "'%s' hash --format json '%s/samples/rings.jpg'", VIGIL_CLI, VIGIL_SOURCE_DIR);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  snprintf(want, sizeof want, "\"md5\":\"%s\"", md5);
  assert_non_null(strstr(out, want));
}

static void test_match_hash_typos(void **state) {
  (void)state;
  char cmd[2048], out[8192];
  /* one digit short of a PDQ hash; and a bare MD5 */
  snprintf(cmd, sizeof cmd,
           "'%s' match --db '%s' 224f638e224f8e72084e73b1217fa2510db68bd1f4b6ed51edb652a950036ff 2>&1 >/dev/null",
           VIGIL_CLI, db);
  assert_int_equal(run(cmd, out, sizeof out), 1);
  assert_non_null(strstr(out, "63 hex digits"));
  assert_null(strstr(out, "No such file"));
  snprintf(cmd, sizeof cmd, "'%s' match --db '%s' f79d04d2d1fdbaf13d5ed66fe5a16bc3 2>&1 >/dev/null", VIGIL_CLI, db);
  assert_int_equal(run(cmd, out, sizeof out), 1);
  assert_non_null(strstr(out, "md5:f79d04d2d1fdbaf13d5ed66fe5a16bc3"));
}

static void test_match_recursive(void **state) {
  (void)state;
  char tree[400], cmd[4096];
  static char out[1 << 20];
  snprintf(tree, sizeof tree, "%s/tree", dir);
  snprintf(cmd, sizeof cmd,
           "mkdir -p '%s/a/b' && for i in $(seq 55); do cp '%s/samples/rings.jpg' '%s/a/b/r'$i.jpg; done && "
           "ln -s . '%s/a/loop' && ln -s . '%s/a/loop2' && mkfifo '%s/a/fifo'",
           tree, VIGIL_SOURCE_DIR, tree, tree, tree, tree);
  assert_int_equal(system(cmd), 0);
  snprintf(cmd, sizeof cmd, "VIGIL_PROGRESS=1 timeout 60 '%s' match --db '%s' -r '%s' 2>&1", VIGIL_CLI, db, tree);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  size_t hits = 0;
  for (const char *p = out; (p = strstr(p, ",md5,0,")); p++) hits++;
  assert_int_equal(hits, 55); /* each picture once: no link followed */
  assert_non_null(strstr(out, "fifo: skipped: not a regular file"));
  assert_non_null(strstr(out, "55/55 looked up"));
  assert_non_null(strstr(out, "/s, ETA "));
  assert_non_null(strstr(out, "0 failed"));
  /* without -r a directory is said to be one */
  snprintf(cmd, sizeof cmd, "'%s' match --db '%s' '%s' 2>&1", VIGIL_CLI, db, tree);
  assert_int_equal(run(cmd, out, sizeof out), 1);
  assert_non_null(strstr(out, "use -r"));
}

static void test_format_flag_names(void **state) {
  (void)state;
  char in[400], convo[400];
  snprintf(in, sizeof in, "%s/ad.jsonl", dir);
  snprintf(convo, sizeof convo, "%s/c.jsonl", dir);
  FILE *f = fopen(in, "w");
  assert_non_null(f);
  fputs("{\"id\":\"a1\",\"text\":\"call 916-555-0142\"}\n", f);
  fclose(f);
  f = fopen(convo, "w");
  assert_non_null(f);
  fputs("{\"id\":\"c1\",\"participants\":[{\"id\":\"a\",\"age\":30},{\"id\":\"b\",\"age\":13}],"
        "\"messages\":[{\"from\":\"a\",\"text\":\"hi\"}]}\n",
        f);
  fclose(f);
  const char *cmds[] = {"hash --format json '" VIGIL_SOURCE_DIR "/samples/rings.jpg'",
                        "match --db '%s' --format json '" VIGIL_SOURCE_DIR "/samples/rings.jpg'",
                        "bank --db '%s' list --format json",
                        "bank list --db '%s' --format json",
                        "bank --db '%s' stats --format json",
                        "keys --db '%s' create --role auditor --format json",
                        "keys list --db '%s' --format json"};
  char cmd[2048], fmt[600], out[65536];
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    snprintf(fmt, sizeof fmt, "'%%s' %s 2>/dev/null", cmds[i]);
    snprintf(cmd, sizeof cmd, fmt, VIGIL_CLI, db);
    int st = run(cmd, out, sizeof out);
    if (st != 0) print_message("%s -> %d\n", cmd, st);
    assert_int_equal(st, 0);
    json_t *o = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
    if (!json_is_object(o)) print_message("%s: not JSON: %.200s\n", cmd, out);
    assert_true(json_is_object(o));
    json_decref(o);
  }
  snprintf(cmd, sizeof cmd, "'%s' text scan --format json '%s' 2>/dev/null", VIGIL_CLI, in);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  json_t *o = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
  assert_true(json_is_object(o));
  json_decref(o);
  snprintf(cmd, sizeof cmd, "'%s' convo score --format json '%s' 2>/dev/null", VIGIL_CLI, convo);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  o = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
  assert_true(json_is_object(o));
  json_decref(o);
  /* an unknown name is refused the same way everywhere, naming itself */
  snprintf(cmd, sizeof cmd, "'%s' keys list --db '%s' --format yaml 2>&1", VIGIL_CLI, db);
  assert_int_equal(run(cmd, out, sizeof out), 2);
  assert_non_null(strstr(out, "'yaml'"));
  snprintf(cmd, sizeof cmd, "'%s' convo score --format yaml '%s' 2>&1", VIGIL_CLI, convo);
  assert_int_equal(run(cmd, out, sizeof out), 2);
  assert_non_null(strstr(out, "'yaml'"));
  /* the old output flags are refused, pointing at the one that replaced
   * them, and print nothing on stdout */
  const char *old[] = {"keys list --db '%s' --json", "keys --db '%s' list --json", "hooks list --db '%s' --json",
                       "outbox list --db '%s' --json"};
  for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) {
    snprintf(fmt, sizeof fmt, "'%%s' %s 2>&1 >/dev/null", old[i]);
    snprintf(cmd, sizeof cmd, fmt, VIGIL_CLI, db);
    assert_int_equal(run(cmd, out, sizeof out), 2);
    if (!strstr(out, "use --format json")) print_message("%s: %s\n", cmd, out);
    assert_non_null(strstr(out, "--json is no longer read: use --format json"));
    snprintf(fmt, sizeof fmt, "'%%s' %s 2>/dev/null", old[i]);
    snprintf(cmd, sizeof cmd, fmt, VIGIL_CLI, db);
    assert_int_equal(run(cmd, out, sizeof out), 2);
    assert_string_equal(out, "");
  }
  snprintf(cmd, sizeof cmd, "'%s' convo score --pretty '%s' 2>&1", VIGIL_CLI, convo);
  assert_int_equal(run(cmd, out, sizeof out), 2);
  assert_non_null(strstr(out, "--pretty is no longer read: the output is --format json"));
  assert_null(strstr(out, "\"risk\""));
}

/* --db is taken before the subcommand as after it (and as --db=LOC), by
 * every command that takes one.  $VIGIL_DB points nowhere, so a command
 * that ignored the flag where it stands would fail on the good store and
 * name the wrong path on the missing one. */
static void test_db_flag_everywhere(void **state) {
  (void)state;
  char good[400], typo[400], cfg[400], outdir[400], cmd[4096], flag[600], out[16384];
  snprintf(good, sizeof good, "%s/dbflag.db", dir);
  snprintf(typo, sizeof typo, "%s/dbflag-typo.db", dir);
  snprintf(cfg, sizeof cfg, "%s/report.conf", dir);
  snprintf(outdir, sizeof outdir, "%s/report-out", dir);
  FILE *f = fopen(cfg, "w");
  assert_non_null(f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "'%s' bank create --db '%s' dbflag >/dev/null 2>&1", VIGIL_CLI, good);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  /* each command with %1$s where the flag goes: before, then after the subcommand */
  static const struct {
    const char *before, *after;
    int ok; /* its exit status on the good store */
  } cmds[] = {
      {"bank %s list", "bank list %s", 0},
      {"bank %s stats", "bank stats %s", 0},
      {"keys %s list", "keys list %s", 0},
      {"users %s list", "users list %s", 0},
      {"hooks %s list", "hooks list %s", 0},
      {"outbox %s list", "outbox list %s", 0},
      {"match %s '" VIGIL_SOURCE_DIR "/samples/rings.jpg'", "match '" VIGIL_SOURCE_DIR "/samples/rings.jpg' %s", 0},
      /* no case 1 in the good store: 1; what matters is the missing one */
      {"report %s export --config '%s' --out '%s' 1", "report export --config '%s' --out '%s' 1 %s", -1},
  };
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
    for (int where = 0; where < 2; where++)
      for (int store = 0; store < 2; store++) {
        int eq = (where + store + (int)i) & 1; /* --db LOC and --db=LOC in turn */
        const char *loc = store ? typo : good;
        snprintf(flag, sizeof flag, eq ? "--db='%s'" : "--db '%s'", loc);
        char line[2048];
        if (strstr(cmds[i].before, "report")) {
          if (where) snprintf(line, sizeof line, cmds[i].after, cfg, outdir, flag);
          else snprintf(line, sizeof line, cmds[i].before, flag, cfg, outdir);
        } else {
          snprintf(line, sizeof line, where ? cmds[i].after : cmds[i].before, flag);
        }
        snprintf(cmd, sizeof cmd, "VIGIL_DB='%s/elsewhere/none.db' '%s' %s 2>&1 </dev/null", dir, VIGIL_CLI, line);
        int st = run(cmd, out, sizeof out);
        if (store) {
          if (st != 2 || !strstr(out, typo)) print_message("%s -> %d: %.300s\n", cmd, st, out);
          assert_int_equal(st, 2);
          assert_non_null(strstr(out, "no vigil database"));
          assert_non_null(strstr(out, typo));
          assert_int_equal(access(typo, F_OK), -1); /* and it was not created */
        } else if (cmds[i].ok >= 0) {
          if (st != cmds[i].ok) print_message("%s -> %d: %.300s\n", cmd, st, out);
          assert_int_equal(st, cmds[i].ok);
          assert_null(strstr(out, "elsewhere"));
        } else {
          assert_null(strstr(out, "no vigil database"));
        }
      }
  /* serve has no subcommand: the flag anywhere, and a missing store refused */
  snprintf(cmd, sizeof cmd, "VIGIL_DB='%s/elsewhere/none.db' '%s' serve --listen 127.0.0.1:0 --db='%s' 2>&1", dir,
           VIGIL_CLI, typo);
  assert_int_equal(run(cmd, out, sizeof out), 2);
  assert_non_null(strstr(out, typo));
}

/* Every error names its input: a file that is missing, not a picture,
 * damaged beyond hashing, or a bank file with a bad line is named (as
 * given) in the message about it, by hash, match and bank import alike. */
static void test_errors_name_input(void **state) {
  (void)state;
  char edb[400], junk[400], cut[400], missing[400], badte[400], cmd[4096], out[16384];
  snprintf(edb, sizeof edb, "%s/errs.db", dir);
  snprintf(junk, sizeof junk, "%s/not-a-picture.jpg", dir);
  snprintf(cut, sizeof cut, "%s/cut-short.jpg", dir);
  snprintf(missing, sizeof missing, "%s/no-such-file.jpg", dir);
  snprintf(badte, sizeof badte, "%s/bad-lines.te", dir);
  FILE *f = fopen(junk, "w");
  assert_non_null(f);
  fputs("only some text, long enough to be sniffed as no known format at all\n", f);
  fclose(f);
  size_t len;
  uint8_t *jpg = tu_slurp(VIGIL_SOURCE_DIR "/samples/rings.jpg", &len);
  assert_non_null(jpg);
  f = fopen(cut, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(jpg, 1, len / 8, f), len / 8); /* too little decodes to hash */
  fclose(f);
  free(jpg);
  f = fopen(badte, "w");
  assert_non_null(f);
  fputs("pdq nothex\n", f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "'%s' bank create --db '%s' errs >/dev/null 2>&1", VIGIL_CLI, edb);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  const char *const pics[] = {junk, cut, missing};
  for (int i = 0; i < 3; i++) {
    snprintf(cmd, sizeof cmd, "'%s' hash '%s' 2>&1 >/dev/null", VIGIL_CLI, pics[i]);
    assert_int_equal(run(cmd, out, sizeof out), 1);
    if (!strstr(out, pics[i])) print_message("%s: %s\n", cmd, out);
    assert_non_null(strstr(out, pics[i]));
    snprintf(cmd, sizeof cmd, "'%s' match --db '%s' '%s' 2>&1 >/dev/null", VIGIL_CLI, edb, pics[i]);
    assert_int_equal(run(cmd, out, sizeof out), 1);
    if (!strstr(out, pics[i])) print_message("%s: %s\n", cmd, out);
    assert_non_null(strstr(out, pics[i]));
  }
  const char *const banks[] = {badte, missing};
  for (int i = 0; i < 2; i++) {
    snprintf(cmd, sizeof cmd, "'%s' bank import --db '%s' --format te errs '%s' 2>&1 >/dev/null", VIGIL_CLI, edb,
             banks[i]);
    assert_int_equal(run(cmd, out, sizeof out), 1);
    if (!strstr(out, banks[i])) print_message("%s: %s\n", cmd, out);
    assert_non_null(strstr(out, banks[i]));
  }
  /* the bad line is named by its number too */
  snprintf(cmd, sizeof cmd, "'%s' bank import --db '%s' --format te errs '%s' 2>&1 >/dev/null", VIGIL_CLI, edb, badte);
  assert_int_equal(run(cmd, out, sizeof out), 1);
  char at[450];
  snprintf(at, sizeof at, "%s:1:", badte);
  assert_non_null(strstr(out, at));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hash_te_imports),    cmocka_unit_test(test_match_hash_typos),
      cmocka_unit_test(test_match_recursive),    cmocka_unit_test(test_format_flag_names),
      cmocka_unit_test(test_db_flag_everywhere), cmocka_unit_test(test_errors_name_input),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
