/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_decide_race.c - a decision that feeds a bank (add_to_bank)
 * racing drops of that bank is all or nothing.  One thread drops and
 * re-creates the bank over and over while three reviewers confirm cases
 * into it; every answer must be one of two:
 *
 *   200  the case is confirmed and its two hashes were added to the bank
 *        (a fresh bank holds neither before, so "entries": 2);
 *   404  the case is still open, and the refused decision is in the audit
 *        log (action cases.decide, status 404, the case as its target).
 *
 * A 404 after the decision committed, a 200 without the entries, or any
 * other status fails.  The bank service's lock makes a drop come wholly
 * before or after a decision; this test is what says so.
 */
#include "testutil.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "servefix.h"

#define DECIDERS 3
#define PER_DECIDER 40

static tu_fix fx;

typedef struct decided {
  long long case_id;
  int status;
  long long entries; /* added_to_bank.entries of a 200 */
} decided;

static decided results[DECIDERS][PER_DECIDER];
static atomic_int stop_dropper;
static atomic_int drops, creates;

/* Drops and re-creates the bank until told to stop. */
static void *dropper(void *arg) {
  (void)arg;
  while (!atomic_load(&stop_dropper)) {
    if (tu_json_call(fx.port, "DELETE", "/v1/banks/feed", fx.admin, NULL, NULL) == 200) atomic_fetch_add(&drops, 1);
    if (tu_json_call(fx.port, "POST", "/v1/banks", fx.admin, "{\"name\":\"feed\"}", NULL) == 201)
      atomic_fetch_add(&creates, 1);
  }
  return NULL;
}

/* Opens PER_DECIDER cases with hashes of their own and confirms each into
 * the bank, recording the answers. */
static void *decider(void *arg) {
  int t = (int)(intptr_t)arg;
  for (int i = 0; i < PER_DECIDER; i++) {
    char body[256], path[64];
    /* hashes unique to this case: thread and index in the digits */
    snprintf(body, sizeof body,
             "{\"md5\":\"%08x%08x0000000000000000\",\"sha256\":\"%08x%08x"
             "000000000000000000000000000000000000000000000000\",\"content_id\":\"race-%d-%d\"}",
             (unsigned)t + 1, (unsigned)i + 1, (unsigned)t + 1, (unsigned)i + 1, t, i);
    json_t *o = NULL;
    decided *d = &results[t][i];
    d->status = tu_json_call(fx.port, "POST", "/v1/cases", fx.submitter, body, &o);
    if (d->status != 201) {
      json_decref(o);
      continue; /* reported by the checks below */
    }
    d->case_id = (long long)json_integer_value(json_object_get(o, "id"));
    json_decref(o);
    snprintf(path, sizeof path, "/v1/cases/%lld/decision", d->case_id);
    o = NULL;
    d->status = tu_json_call(fx.port, "POST", path, fx.reviewer,
                             "{\"decision\":\"confirm\",\"classification\":\"A1\",\"add_to_bank\":\"feed\"}", &o);
    d->entries = (long long)json_integer_value(json_object_get(json_object_get(o, "added_to_bank"), "entries"));
    json_decref(o);
  }
  return NULL;
}

/* Whether the audit log holds a cases.decide row for the case with status. */
static int audited(json_t *entries, long long case_id, int status) {
  char target[32];
  snprintf(target, sizeof target, "%lld", case_id);
  size_t i;
  json_t *e;
  json_array_foreach(entries, i, e) {
    if (!json_is_string(json_object_get(e, "target")) || !json_is_string(json_object_get(e, "action"))) continue;
    if (!strcmp(json_string_value(json_object_get(e, "target")), target) &&
        !strcmp(json_string_value(json_object_get(e, "action")), "cases.decide") &&
        json_integer_value(json_object_get(e, "status")) == status)
      return 1;
  }
  return 0;
}

static void test_add_to_bank_races_drop(void **state) {
  (void)state;
  assert_int_equal(tu_fix_init(&fx, "race"), 0);
  vigil_server_config cfg;
  tu_fix_config(&fx, &cfg);
  cfg.threads = 4;
  assert_int_equal(tu_fix_start(&fx, &cfg), 0);
  assert_int_equal(tu_json_call(fx.port, "POST", "/v1/banks", fx.admin, "{\"name\":\"feed\"}", NULL), 201);
  pthread_t dt, th[DECIDERS];
  assert_int_equal(pthread_create(&dt, NULL, dropper, NULL), 0);
  for (int t = 0; t < DECIDERS; t++) assert_int_equal(pthread_create(&th[t], NULL, decider, (void *)(intptr_t)t), 0);
  for (int t = 0; t < DECIDERS; t++) pthread_join(th[t], NULL);
  atomic_store(&stop_dropper, 1);
  pthread_join(dt, NULL);

  /* every decision's audit rows (cases.decide only; at most 1000 a page) */
  json_t *all = json_array();
  long long after = 0;
  for (;;) {
    char path[128];
    snprintf(path, sizeof path, "/v1/audit?action=cases.decide&limit=1000&after_id=%lld", after);
    json_t *o = NULL;
    assert_int_equal(tu_json_call(fx.port, "GET", path, fx.auditor, NULL, &o), 200);
    json_t *es = json_object_get(o, "entries");
    assert_non_null(es);
    json_array_extend(all, es);
    json_t *next = json_object_get(o, "next_after");
    int more = json_is_integer(next);
    if (more) after = (long long)json_integer_value(next);
    json_decref(o);
    if (!more) break;
  }

  int ok = 0, refused = 0;
  for (int t = 0; t < DECIDERS; t++)
    for (int i = 0; i < PER_DECIDER; i++) {
      decided *d = &results[t][i];
      assert_true(d->case_id > 0);
      char path[64];
      snprintf(path, sizeof path, "/v1/cases/%lld", d->case_id);
      json_t *c = NULL;
      assert_int_equal(tu_json_call(fx.port, "GET", path, fx.reviewer, NULL, &c), 200);
      const char *st = json_string_value(json_object_get(c, "status"));
      assert_non_null(st);
      if (d->status == 200) {
        ok++;
        assert_string_equal(st, "confirmed");
        assert_int_equal(d->entries, 2);
        assert_true(audited(all, d->case_id, 200));
      } else {
        if (d->status != 404) printf("case %lld: decision answered %d\n", d->case_id, d->status);
        assert_int_equal(d->status, 404);
        refused++;
        assert_string_equal(st, "open");
        assert_true(audited(all, d->case_id, 404));
      }
      json_decref(c);
    }
  printf("%d confirmed into the bank, %d refused (bank gone); %d drops, %d creates\n", ok, refused, atomic_load(&drops),
         atomic_load(&creates));
  assert_true(ok > 0);
  assert_true(atomic_load(&drops) > 0);
  /* the race was met: some decisions found the bank gone (else the refusal's
   * checks above never ran) */
  assert_true(refused > 0);
  json_decref(all);
  assert_int_equal(tu_fix_end(&fx), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_add_to_bank_races_drop)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
