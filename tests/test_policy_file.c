/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_policy_file.c - operator policy files: each kind of mistake is
 * rejected with its line (and column) named; a valid `base default` file
 * changes decisions as written; the store never swaps in an invalid file
 * and keeps old policies alive for readers that still hold them; and the
 * `vigil policy check` / `decide` commands behave as documented.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "vigil/policy.h"

#define HDR "vigil-policy 1\nbase default\n"

static int mismatches;

/* Loads text and expects failure with `want` in the message. */
static void expect_error(const char *text, size_t len, const char *want) {
  vigil_policy *p = NULL;
  vigil_error e;
  int rc = vigil_policy_load(text, len, "ops.policy", &p, &e);
  if (rc == VIGIL_OK || !strstr(e.message, want)) {
    printf("text:\n%s\nwanted '%s', got rc=%d '%s'\n", text, want, rc, rc ? e.message : "");
    mismatches++;
  }
  if (rc == VIGIL_OK) vigil_policy_free(p);
  else assert_null(p);
}
#define EXPECT_ERROR(text, want) expect_error(text, strlen(text), want)

static void test_errors_name_their_line(void **state) {
  (void)state;
  EXPECT_ERROR("", "ops.policy:1: empty policy");
  EXPECT_ERROR("# just a comment\n\n", "empty policy");
  EXPECT_ERROR("vigil-policy 2\n", "ops.policy:1:1: the first line must be `vigil-policy 1`");
  EXPECT_ERROR("\n# header later\nvigil-policy 1 extra\n", "ops.policy:3:1:");
  EXPECT_ERROR(HDR "\nfrobnicate yes\n", "ops.policy:4:1: unknown directive 'frobnicate'");
  EXPECT_ERROR("vigil-policy 1\nrule r1 then=allow source=VIGIL \"x\"\nbase default\n",
               "ops.policy:2:");                                   /* VIGIL undeclared without the base */
  EXPECT_ERROR(HDR "rule a then=allow \"x\"\nbase default\n", "ops.policy:3:1: rule 'a' needs source=");
  EXPECT_ERROR(HDR "rule a then=allow source=VIGIL \"x\"\nbase none\n", "ops.policy:4:1: `base` must come right after");
  EXPECT_ERROR(HDR "setting dm 13-15 default=none self=everybody parent=none source=VIGIL\n",
               "ops.policy:3:36: unknown audience 'everybody'");
  EXPECT_ERROR(HDR "setting dm 13-15 default=none self=friends parent=none source=VIGIL\n",
               "ops.policy:3:1: parent=none is stricter than self=friends");
  EXPECT_ERROR(HDR "setting dm 13-15 default=everyone self=friends parent=friends source=VIGIL\n",
               "ops.policy:3:1: default=everyone is looser than self=friends");
  EXPECT_ERROR(HDR "setting dms 13-15 default=none self=none parent=none source=VIGIL\n",
               "ops.policy:3:9: unknown setting 'dms'");
  EXPECT_ERROR(HDR "setting dm 13-16 default=none self=none parent=none source=VIGIL\n",
               "ops.policy:3:12: unknown band '13-16'");
  EXPECT_ERROR(HDR "setting dm 13-15 default=none self=none parent=none source=NOPE\n",
               "ops.policy:3:60: citation 'NOPE' is not declared");
  EXPECT_ERROR(HDR "setting dm 13-15 default=none self=none parent=none source=VIGIL\n"
                   "setting dm 13-15 default=none self=none parent=none source=VIGIL\n",
               "ops.policy:4:12: setting dm for band 13-15 is already defined on line 3");
  EXPECT_ERROR(HDR "setting dm unknown default=none self=none parent=everyone source=VIGIL\n",
               "band unknown (default=none self=none parent=everyone) must be at least as strict as band u13");
  EXPECT_ERROR(HDR "quiet 13-15 21:00-25:00 source=VIGIL\n", "ops.policy:3:13: expected quiet hours as HH:MM-HH:MM");
  EXPECT_ERROR(HDR "quiet 13-15 21:00-21:00 source=VIGIL\n", "start and end at the same time");
  EXPECT_ERROR(HDR "rule blocked then=allow source=VIGIL \"x\"\n",
               "ops.policy:3:6: rule id 'blocked' is already used on line 82 of the default policy");
  EXPECT_ERROR(HDR "rule r1 then=allow source=VIGIL \"x\"\nrule r1 then=deny source=VIGIL \"y\"\n",
               "ops.policy:4:6: rule id 'r1' is already used on line 3");
  EXPECT_ERROR(HDR "rule r1 action=dm,comment then=deny source=VIGIL \"x\"\n", "ops.policy:3:16: unknown action 'dm'");
  EXPECT_ERROR(HDR "rule r1 action=dm_text,coment then=deny source=VIGIL \"x\"\n",
               "ops.policy:3:24: unknown action 'coment'");
  EXPECT_ERROR(HDR "rule r1 colour=red then=deny source=VIGIL \"x\"\n", "ops.policy:3:9: unexpected 'colour=red'");
  EXPECT_ERROR(HDR "rule r1 then=maybe source=VIGIL \"x\"\n", "ops.policy:3:14: unknown verdict 'maybe'");
  EXPECT_ERROR(HDR "rule r1 then=check:target.dmm source=VIGIL \"x\"\n", "unknown setting 'dmm'");
  EXPECT_ERROR(HDR "rule r1 then=deny with=filtered source=VIGIL \"x\"\n", "ops.policy:3:19: with= conditions only apply");
  EXPECT_ERROR(HDR "rule r1 then=allow else=deny source=VIGIL \"x\"\n", "ops.policy:3:20: else= only applies");
  EXPECT_ERROR(HDR "rule r1 then=allow source=VIGIL\n", "needs a \"sentence\"");
  EXPECT_ERROR(HDR "rule r1 then=allow source=VIGIL \"unterminated\n", "ops.policy:3:33: unterminated quoted string");
  EXPECT_ERROR(HDR "rule r1 then=allow source=VIGIL \"bad \\n escape\"\n", "ops.policy:3:38: unknown escape");
  EXPECT_ERROR(HDR "rule r1 then=allow then=deny source=VIGIL \"x\"\n", "ops.policy:3:20: then= given twice");
  EXPECT_ERROR(HDR "rule 9lives then=allow source=VIGIL \"x\"\n", "ops.policy:3:6: bad rule id");
  EXPECT_ERROR(HDR "rule r1 risk=maybe then=deny source=VIGIL \"x\"\n", "unknown risk class");
  EXPECT_ERROR(HDR "min-confidence 1.5\n", "ops.policy:3:1: expected: min-confidence");
  EXPECT_ERROR(HDR "source VIGIL \"again\"\n", "ops.policy:3:8: citation 'VIGIL' is already declared");
  EXPECT_ERROR(HDR "rule r1 then=allow source=VIGIL \"caf\xc3\"\n", "ops.policy:3:37: invalid UTF-8");
  EXPECT_ERROR(HDR "rule r1 then=allow source=VIGIL \"\x01\"\n", "ops.policy:3:34: control character");
  EXPECT_ERROR("vigil-policy 1\nbase none\n", "no `setting visibility` line covers band u13");
  static const char nul[] = "vigil-policy 1\nbase default\n# a\0b\n";
  expect_error(nul, sizeof nul - 1, "ops.policy:3:4: NUL byte");
  /* Limits: a very long line, a very large file, too many words. */
  size_t big = 5000;
  char *t = malloc(big + 64);
  assert_non_null(t);
  strcpy(t, HDR "# ");
  memset(t + strlen(t), 'a', big);
  strcpy(t + strlen(HDR) + 2 + big, "\n");
  EXPECT_ERROR(t, "ops.policy:3: line is 5002 bytes long");
  free(t);
  size_t huge = (2u << 20);
  t = calloc(1, huge + 1);
  assert_non_null(t);
  memset(t, '\n', huge);
  vigil_policy *p = NULL;
  vigil_error e;
  assert_int_equal(vigil_policy_load(t, huge, "huge", &p, &e), VIGIL_ELIMIT);
  free(t);
  EXPECT_ERROR(HDR "rule a b c d e f g h i j k l m n o p q r s t u v w x y z 1 2 3 4 5 6 7\n", "too many words");
  assert_int_equal(mismatches, 0);
}

/* Random bytes and truncations of the default never crash the loader. */
static void test_hostile_text(void **state) {
  (void)state;
  const char *d = vigil_policy_default_text();
  size_t n = strlen(d);
  uint64_t rng = 7;
  char *buf = malloc(n + 1);
  assert_non_null(buf);
  for (int i = 0; i < 300; i++) {
    memcpy(buf, d, n);
    size_t len = n;
    int flips = 1 + (int)(tu_rand(&rng) % 4);
    for (int k = 0; k < flips; k++) buf[tu_rand(&rng) % n] = (char)tu_rand(&rng);
    if (i % 3 == 0) len = tu_rand(&rng) % n;
    vigil_policy *p = NULL;
    vigil_error e;
    int rc = vigil_policy_load(buf, len, "mutant", &p, &e);
    if (rc == VIGIL_OK) vigil_policy_free(p);
    else assert_non_null(strstr(e.message, "mutant"));
  }
  free(buf);
  /* The default text itself, loaded as an operator file, is complete. */
  vigil_policy *p = NULL;
  vigil_error e;
  assert_int_equal(vigil_policy_load(d, n, "copy-of-default", &p, &e), VIGIL_OK);
  assert_int_equal(vigil_policy_rule_count(p), 31);
  vigil_policy_free(p);
}

static const char override_text[] =
    HDR
    "# Let 16-17 friends message each other with media, and keep 13-15 quiet from 20:00.\n"
    "source OPS-1 \"Trust and safety decision 2026-11\"\n"
    "quiet 13-15 20:00-07:00 source=OPS-1\n"
    "rule teen-friends-media action=dm_media actor=16-17 target=16-17 rel=friend,known then=allow source=OPS-1 "
    "\"Friends aged 16-17 may exchange media.\"\n";

static void test_override_file(void **state) {
  (void)state;
  vigil_policy *p = NULL, *def = NULL;
  vigil_error e;
  assert_int_equal(vigil_policy_load(override_text, strlen(override_text), "ops.policy", &p, &e), VIGIL_OK);
  assert_int_equal(vigil_policy_load_default(&def, &e), VIGIL_OK);
  vigil_policy_account a, t;
  vigil_policy_account_init(&a);
  vigil_policy_account_init(&t);
  a.band = t.band = VIGIL_BAND_16_17;
  vigil_policy_request r = {VIGIL_ACT_DM_MEDIA, &a, &t, VIGIL_RELF_FRIENDS, 12 * 60};
  vigil_policy_decision d;
  vigil_policy_decide(def, &r, &d);
  assert_int_equal(d.outcome, VIGIL_POLICY_DENY);
  vigil_policy_decide(p, &r, &d);
  assert_int_equal(d.outcome, VIGIL_POLICY_ALLOW);
  assert_string_equal(d.reasons[0], "teen-friends-media");
  assert_string_equal(d.rule_origin, "ops.policy");
  assert_int_equal(d.rule_line, 6);
  assert_string_equal(d.source, "OPS-1");
  assert_string_equal(vigil_policy_source_text(p, "OPS-1"), "Trust and safety decision 2026-11");
  /* The rest of the default still applies, with default origins. */
  a.band = VIGIL_BAND_ADULT;
  vigil_policy_decide(p, &r, &d);
  assert_string_equal(d.reasons[0], "adult-dm-not-known");
  assert_string_equal(d.rule_origin, "default");
  /* The overridden quiet hours. */
  t.band = VIGIL_BAND_13_15;
  r.action = VIGIL_ACT_NOTIFY;
  r.local_minute = 20 * 60 + 15;
  vigil_policy_decide(def, &r, &d);
  assert_int_equal(d.outcome, VIGIL_POLICY_ALLOW);
  vigil_policy_decide(p, &r, &d);
  assert_int_equal(d.outcome, VIGIL_POLICY_DENY);
  int st, en;
  vigil_policy_quiet(p, VIGIL_BAND_13_15, &st, &en);
  assert_int_equal(st, 20 * 60);
  assert_int_equal(en, 7 * 60);
  vigil_policy_free(p);
  vigil_policy_free(def);
}

static int dm_outcome(const vigil_policy *p) {
  vigil_policy_account a, t;
  vigil_policy_account_init(&a);
  vigil_policy_account_init(&t);
  a.band = t.band = VIGIL_BAND_16_17;
  vigil_policy_request r = {VIGIL_ACT_DM_MEDIA, &a, &t, VIGIL_RELF_FRIENDS, 12 * 60};
  vigil_policy_decision d;
  vigil_policy_decide(p, &r, &d);
  return d.outcome;
}

static void test_store_swaps_atomically(void **state) {
  (void)state;
  vigil_policy_store *s;
  vigil_error e;
  assert_int_equal(vigil_policy_store_new(&s, &e), VIGIL_OK);
  const vigil_policy *old = vigil_policy_store_acquire(s);
  assert_int_equal(dm_outcome(old), VIGIL_POLICY_DENY);
  /* A valid file takes effect for new readers... */
  assert_int_equal(vigil_policy_store_reload_text(s, override_text, strlen(override_text), "ops.policy", &e), VIGIL_OK);
  const vigil_policy *cur = vigil_policy_store_acquire(s);
  assert_ptr_not_equal(cur, old);
  assert_int_equal(dm_outcome(cur), VIGIL_POLICY_ALLOW);
  /* ...while a reader still holding the old one keeps using it safely. */
  assert_int_equal(dm_outcome(old), VIGIL_POLICY_DENY);
  vigil_policy_store_release(s, old);
  /* An invalid file is rejected with its line, and nothing changes. */
  static const char bad[] = HDR "rule oops then=allow source=VIGIL \"everything goes\"\nrule broken then=\n";
  assert_int_equal(vigil_policy_store_reload_text(s, bad, strlen(bad), "bad.policy", &e), VIGIL_EINVAL);
  assert_non_null(strstr(e.message, "bad.policy:4:"));
  const vigil_policy *after = vigil_policy_store_acquire(s);
  assert_ptr_equal(after, cur);
  assert_int_equal(dm_outcome(after), VIGIL_POLICY_ALLOW);
  vigil_policy_store_release(s, after);
  /* A missing file likewise. */
  assert_int_equal(vigil_policy_store_reload_file(s, "/nonexistent/ops.policy", &e), VIGIL_EIO);
  after = vigil_policy_store_acquire(s);
  assert_ptr_equal(after, cur);
  vigil_policy_store_release(s, after);
  vigil_policy_store_release(s, cur);
  vigil_policy_store_free(s);
}

/* Runs a shell command; returns its exit status and its stdout+stderr. */
static int run(const char *cmd, char *out, size_t cap) {
  FILE *f = popen(cmd, "r");
  assert_non_null(f);
  size_t n = fread(out, 1, cap - 1, f);
  out[n] = '\0';
  int st = pclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void test_cli(void **state) {
  (void)state;
  char out[65536], cmd[1024];
  write_file("policy_ok.policy", override_text);
  write_file("policy_bad.policy", HDR "\nrule r1 then=allow source=VIGIL \"x\"\nrule r2 actor=teen then=deny source=VIGIL \"y\"\n");
  snprintf(cmd, sizeof cmd, "%s policy check policy_ok.policy 2>&1", VIGIL_CLI);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "policy_ok.policy: ok (32 rules"));
  snprintf(cmd, sizeof cmd, "%s policy check policy_bad.policy 2>&1", VIGIL_CLI);
  assert_int_equal(run(cmd, out, sizeof out), 1);
  assert_non_null(strstr(out, "policy_bad.policy:5:15: unknown band 'teen'"));
  snprintf(cmd, sizeof cmd, "%s policy check 2>&1", VIGIL_CLI);
  assert_int_equal(run(cmd, out, sizeof out), 2);
  /* decide: JSON Lines in, one decision per line out, bad lines reported. */
  write_file("policy_requests.jsonl",
             "{\"id\":\"a\",\"action\":\"dm_media\",\"actor\":{\"band\":\"16-17\"},\"target\":{\"dob\":\"2009-06-01\"},"
             "\"relationship\":{\"friends\":true},\"today\":\"2026-11-24\"}\n"
             "\n"
             "{\"id\":\"b\",\"action\":\"notify\",\"target\":{\"band\":\"13-15\"},\"time\":\"2026-11-24T21:15:00-05:00\","
             "\"trace\":true}\n"
             "{\"id\":\"c\",\"action\":\"teleport\"}\n"
             "[1,2\n"
             "{\"id\":\"d\",\"action\":\"dm_text\",\"actor\":{\"band\":\"adult\",\"risk\":[\"hash_match\"]},"
             "\"target\":{\"age\":{\"band\":\"13-15\",\"method\":\"estimated\",\"confidence\":0.4}},"
             "\"relationship\":{\"known_irl\":true}}\n");
  snprintf(cmd, sizeof cmd, "%s policy decide --policy policy_ok.policy policy_requests.jsonl 2>/dev/null", VIGIL_CLI);
  assert_int_equal(run(cmd, out, sizeof out), 1);
  assert_non_null(strstr(out, "{\"id\":\"a\",\"decision\":\"allow\",\"conditions\":[],\"reasons\":[\"teen-friends-media\"]"));
  assert_non_null(strstr(out, "{\"id\":\"b\",\"decision\":\"deny\""));
  assert_non_null(strstr(out, "\"quiet_hours\""));
  assert_non_null(strstr(out, "\"trace\":[\"request: action notify"));
  assert_non_null(strstr(out, "{\"id\":\"c\",\"error\":{\"line\":4"));
  assert_non_null(strstr(out, "{\"error\":{\"line\":5,\"message\":\"invalid JSON"));
  assert_non_null(strstr(out, "\"reasons\":[\"flagged-actor-minor\",\"actor_hash_match\"]"));
  /* Output order follows input order. */
  const char *pa = strstr(out, "\"id\":\"a\""), *pb = strstr(out, "\"id\":\"b\""), *pd = strstr(out, "\"id\":\"d\"");
  assert_true(pa && pb && pd && pa < pb && pb < pd);
  /* stdin, and the default policy: the 16-17 media DM is denied there. */
  snprintf(cmd, sizeof cmd,
           "printf '%%s\\n' '{\"action\":\"dm_media\",\"actor\":{\"band\":\"16-17\"},\"target\":{\"band\":\"16-17\"},"
           "\"relationship\":{\"friends\":true}}' | %s policy decide 2>&1",
           VIGIL_CLI);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "\"decision\":\"deny\""));
  assert_non_null(strstr(out, "\"reasons\":[\"dm-media-minor\",\"dm_audience_not_met\"]"));
  snprintf(cmd, sizeof cmd, "%s policy decide --policy policy_bad.policy /dev/null 2>&1", VIGIL_CLI);
  assert_int_equal(run(cmd, out, sizeof out), 2);
  assert_non_null(strstr(out, "policy_bad.policy:5:15"));
  /* A request line over 1 MiB is refused; the next line is still decided. */
  FILE *f = fopen("policy_long.jsonl", "w");
  assert_non_null(f);
  fputs("{\"id\":\"", f);
  for (int i = 0; i < (1 << 20); i++) fputc('x', f);
  fputs("\"}\n{\"id\":\"after\",\"action\":\"search\"}\n", f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "%s policy decide policy_long.jsonl 2>/dev/null", VIGIL_CLI);
  assert_int_equal(run(cmd, out, sizeof out), 1);
  assert_non_null(strstr(out, "{\"error\":{\"line\":1,\"message\":\"request line longer than 1 MiB\"}}"));
  assert_non_null(strstr(out, "{\"id\":\"after\",\"decision\":\"deny\""));
  remove("policy_long.jsonl");
  snprintf(cmd, sizeof cmd, "%s policy show --format table 2>&1", VIGIL_CLI);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "adult-dm-unsolicited"));
  remove("policy_ok.policy");
  remove("policy_bad.policy");
  remove("policy_requests.jsonl");
}

static void test_json_requests(void **state) {
  (void)state;
  vigil_policy *p;
  vigil_error e;
  assert_int_equal(vigil_policy_load_default(&p, &e), VIGIL_OK);
  static const struct {
    const char *req, *want; /* want: substring of the output */
    int rc;
  } cases[] = {
      {"{\"action\":\"view_profile\",\"actor\":{\"band\":\"adult\"},\"target\":{\"band\":\"13-15\"}}",
       "\"decision\":\"deny\",\"conditions\":[],\"reasons\":[\"view-profile\",\"visibility_audience_not_met\"]", 0},
      {"{\"id\":7,\"action\":\"follow\",\"actor\":{\"band\":\"adult\"},\"target\":{\"band\":\"13-15\"}}",
       "{\"id\":7,\"decision\":\"allow_with_conditions\",\"conditions\":[\"parent_notified\",\"approval_required\"]", 0},
      {"{\"action\":\"dm_text\",\"relationshp\":{}}", "unknown key 'relationshp'", VIGIL_EINVAL},
      {"{\"action\":\"dm_text\",\"actor\":{\"band\":\"teen\"}}", "actor.band must be one of", VIGIL_EINVAL},
      {"{\"action\":\"dm_text\",\"actor\":{\"band\":\"adult\",\"dob\":\"2000-01-01\"}}", "not both", VIGIL_EINVAL},
      {"{\"action\":\"dm_text\",\"actor\":{\"dob\":\"2000-02-30\"}}", "not a valid date", VIGIL_EINVAL},
      {"{\"action\":\"dm_text\",\"actor\":{\"dob\":\"2000-1-1\"}}", "dob must be a date", VIGIL_EINVAL},
      {"{\"action\":\"dm_text\",\"target\":{\"settings\":{\"dm\":\"all\"}}}", "target.settings.dm: expected", VIGIL_EINVAL},
      {"{\"action\":\"dm_text\",\"target\":{\"age\":{\"band\":\"adult\",\"method\":\"guessed\"}}}", "target.age needs", VIGIL_EINVAL},
      {"{\"action\":\"dm_text\",\"target\":{\"risk\":[\"spam\"]}}", "expected grooming or hash_match", VIGIL_EINVAL},
      {"{\"action\":\"notify\",\"time\":\"24:00\"}", "time must be", VIGIL_EINVAL},
      {"{\"action\":\"notify\",\"time\":\"12:00\",\"time\":\"13:00\"}", "invalid JSON", VIGIL_EINVAL},
      {"{\"action\":\"notify\",\"relationship\":{\"blocked\":1}}", "relationship.blocked must be true or false", VIGIL_EINVAL},
      {"[]", "a request must be a JSON object", VIGIL_EINVAL},
      {"{\"action\":\"caf\xc3\"}", "invalid JSON", VIGIL_EINVAL},
      {"{\"action\":\"dm_text\",\"trace\":true}", "\"trace\":[\"request: action dm_text", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *out = NULL;
    int rc = vigil_policy_decide_json(p, cases[i].req, strlen(cases[i].req), 0, 3, &out, &e);
    if (rc != cases[i].rc || !out || !strstr(out, cases[i].want))
      printf("case %zu: rc %d out %s\n", i, rc, out ? out : "(null)");
    assert_int_equal(rc, cases[i].rc);
    assert_non_null(out);
    assert_non_null(strstr(out, cases[i].want));
    if (rc) assert_non_null(strstr(out, "\"line\":3"));
    free(out);
  }
  /* Deep nesting and a NUL byte are refused, not crashed on. */
  size_t n = 100000;
  char *deep = malloc(2 * n + 1);
  assert_non_null(deep);
  memset(deep, '[', n);
  memset(deep + n, ']', n);
  char *out = NULL;
  assert_int_equal(vigil_policy_decide_json(p, deep, 2 * n, 0, 0, &out, &e), VIGIL_EINVAL);
  free(out);
  free(deep);
  static const char nul[] = "{\"action\":\"dm_\0text\"}";
  assert_int_equal(vigil_policy_decide_json(p, nul, sizeof nul - 1, 0, 0, &out, &e), VIGIL_EINVAL);
  free(out);
  vigil_policy_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_errors_name_their_line), cmocka_unit_test(test_hostile_text),
      cmocka_unit_test(test_override_file),          cmocka_unit_test(test_store_swaps_atomically),
      cmocka_unit_test(test_cli),                    cmocka_unit_test(test_json_requests),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
