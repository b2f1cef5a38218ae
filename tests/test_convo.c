/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_convo.c - the grooming scorer on conversations written for these
 * tests: every stage, ages declared and stated, adults sexting (not
 * grooming), rooms, hostile text (invalid UTF-8, disguised letters) and
 * malformed JSON.  A property test checks the normaliser's offset map on
 * random bytes.  Needs nothing outside the tree.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convo/convo_internal.h"
#include "vigil/convo.h"

static vigil_convo_scorer *sc;

static int setup(void **state) {
  (void)state;
  vigil_error e;
  return vigil_convo_scorer_new(&sc, &e) == VIGIL_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  vigil_convo_scorer_free(sc);
  return 0;
}

typedef struct line {
  const char *from, *text;
} line;

static vigil_convo *run(const line *l, size_t n) {
  vigil_convo *c;
  assert_int_equal(vigil_convo_new(sc, &c, NULL), VIGIL_OK);
  for (size_t i = 0; i < n; i++) assert_int_equal(vigil_convo_add(c, l[i].from, l[i].text, strlen(l[i].text), NULL), VIGIL_OK);
  return c;
}

static int idx(const vigil_convo *c, const char *id) {
  for (size_t i = 0; i < vigil_convo_persons(c); i++)
    if (!strcmp(vigil_convo_person_at(c, i)->id, id)) return (int)i;
  return -1;
}

static const line grooming[] = {
    {"dave", "hey there, asl?"},
    {"kim", "hi"},
    {"dave", "how old are you?"},
    {"kim", "im 13, in 8th grade"},
    {"dave", "you're so mature for your age, really pretty"},
    {"dave", "are you home alone right now?"},
    {"dave", "when does your mom get home?"},
    {"dave", "don't tell anyone about us ok, it's our secret"},
    {"dave", "and delete this chat after"},
    {"dave", "have you ever been kissed? ever had sex?"},
    {"dave", "would you do it for me if I asked?"},
    {"dave", "send me a pic, do you have a webcam?"},
    {"dave", "I'll buy you a new phone"},
    {"dave", "add me on snapchat, text me"},
    {"dave", "wanna meet up saturday? I can pick you up"},
    {"dave", "age is just a number"},
};

static void test_stages_and_minor(void **state) {
  (void)state;
  vigil_convo *c = run(grooming, sizeof grooming / sizeof grooming[0]);
  int d = idx(c, "dave"), k = idx(c, "kim");
  assert_true(d >= 0 && k >= 0);
  const vigil_convo_person *kim = vigil_convo_person_at(c, (size_t)k), *dave = vigil_convo_person_at(c, (size_t)d);
  assert_true(kim->minor);
  assert_int_equal(kim->age, 13);
  assert_int_equal(kim->age_source, VIGIL_AGE_STATED_SELF);
  assert_false(dave->minor);
  for (int s = 0; s < VIGIL_STAGE_COUNT; s++) {
    if (!dave->stage[s].count) printf("stage %s not found\n", vigil_convo_stage_name(s));
    assert_true(dave->stage[s].count > 0);
    assert_true(dave->stage[s].n_evidence > 0);
  }
  /* evidence points at what was written */
  const vigil_convo_evidence *e = &dave->stage[VIGIL_STAGE_RISK].evidence[0];
  assert_int_equal(e->message, 5);
  assert_memory_equal(grooming[5].text + e->start, "are you home alone", e->end - e->start);
  vigil_convo_pair p;
  double r = vigil_convo_risk(c, &p);
  assert_true(r >= 0.9);
  assert_int_equal(p.actor, (size_t)d);
  assert_int_equal(p.level, VIGIL_RISK_HIGH);
  assert_true(p.minor_involved);
  vigil_convo_free(c);
}

/* The same approach with the age statements left out still reaches the
 * threshold on behaviour alone. */
static void test_behaviour_without_age(void **state) {
  (void)state;
  line l[sizeof grooming / sizeof grooming[0]];
  size_t n = 0;
  for (size_t i = 0; i < sizeof grooming / sizeof grooming[0]; i++)
    if (i != 3) l[n++] = grooming[i];
  vigil_convo *c = run(l, n);
  assert_false(vigil_convo_person_at(c, (size_t)idx(c, "kim"))->minor);
  assert_true(vigil_convo_risk(c, NULL) >= VIGIL_CONVO_THRESHOLD);
  vigil_convo_free(c);
}

static const line sexting[] = {
    {"sam", "hey gorgeous, what are you wearing?"},
    {"alex", "just a thong babe"},
    {"sam", "you make me so hard, I want to fuck you"},
    {"alex", "I'm so wet thinking of your cock"},
    {"sam", "send me a pic"},
    {"alex", "come over tonight and fuck me"},
    {"sam", "I'm 34 btw, can't wait"},
    {"alex", "i'm 29, see you at 9"},
};

static void test_adult_sexting_not_grooming(void **state) {
  (void)state;
  vigil_convo *c = run(sexting, sizeof sexting / sizeof sexting[0]);
  const vigil_convo_person *sam = vigil_convo_person_at(c, (size_t)idx(c, "sam"));
  assert_true(sam->stage[VIGIL_STAGE_SEXUAL].count >= 2);
  assert_true(sam->adult);
  vigil_convo_pair p;
  assert_true(vigil_convo_risk(c, &p) < VIGIL_CONVO_THRESHOLD);
  assert_false(p.minor_involved);
  vigil_convo_free(c);
  /* without any age stated either */
  c = run(sexting, 6);
  assert_true(vigil_convo_risk(c, NULL) < VIGIL_CONVO_THRESHOLD);
  vigil_convo_free(c);
}

/* Declared ages: the same sexual chat towards a declared 14-year-old is the
 * highest risk; between two declared 14-year-olds it is not adult-child
 * grooming. */
static void test_declared_ages(void **state) {
  (void)state;
  vigil_convo *c;
  assert_int_equal(vigil_convo_new(sc, &c, NULL), VIGIL_OK);
  assert_true(vigil_convo_declare(c, "alex", 14, NULL, NULL) >= 0);
  assert_true(vigil_convo_declare(c, "sam", -1, "adult", NULL) >= 0);
  for (size_t i = 0; i < 6; i++)
    assert_int_equal(vigil_convo_add(c, sexting[i].from, sexting[i].text, strlen(sexting[i].text), NULL), VIGIL_OK);
  vigil_convo_pair p;
  assert_int_equal(vigil_convo_pair_risk(c, (size_t)idx(c, "sam"), (size_t)idx(c, "alex"), &p), VIGIL_OK);
  assert_true(p.risk >= 0.9);
  assert_int_equal(p.level, VIGIL_RISK_HIGH);
  assert_true(p.minor_involved);
  assert_int_equal(vigil_convo_person_at(c, (size_t)idx(c, "alex"))->age_source, VIGIL_AGE_DECLARED);
  vigil_convo_free(c);

  assert_int_equal(vigil_convo_new(sc, &c, NULL), VIGIL_OK);
  assert_true(vigil_convo_declare(c, "alex", -1, "13-15", NULL) >= 0);
  assert_true(vigil_convo_declare(c, "sam", 14, NULL, NULL) >= 0);
  for (size_t i = 0; i < 6; i++)
    assert_int_equal(vigil_convo_add(c, sexting[i].from, sexting[i].text, strlen(sexting[i].text), NULL), VIGIL_OK);
  assert_true(vigil_convo_risk(c, &p) < VIGIL_CONVO_THRESHOLD);
  assert_false(p.minor_involved);
  vigil_convo_free(c);

  vigil_error e;
  assert_int_equal(vigil_convo_new(sc, &c, NULL), VIGIL_OK);
  assert_int_equal(vigil_convo_declare(c, "x", -1, "sometimes", &e), VIGIL_EINVAL);
  assert_non_null(strstr(e.message, "age band"));
  assert_int_equal(vigil_convo_declare(c, "x", 400, NULL, &e), VIGIL_EINVAL);
  vigil_convo_free(c);
}

/* Age statements: which are, and which are not. */
static void test_age_statements(void **state) {
  (void)state;
  static const struct {
    const char *text;
    int minor, age;
  } cases[] = {
      {"im 13", 1, 13},
      {"i'm only fourteen lol", 1, 14},
      {"15/f/ohio", 1, 15},
      {"im in 8th grade", 1, 13},
      {"I'm a seventh grader", 1, 12},
      {"i'm in middle school", 1, -1},
      {"12 almost 13 white girl", 1, 13},
      {"ya im still 14.", 1, 14},
      {"I'm 45 and single", 0, 45},
      {"14 f mi", 1, 14},
      {"<-----13 riverside", 1, 13},
      {"Yea I'm rly 14", 1, 14},
      {"it sux bein 13", 1, 13},
      {"I'm Serena, 13 from Meriden", 1, 13},
      {"ＩＭ １３", 1, 13},
      {"i’m 16", 1, 16},
      {"im 15 minutes away", -1, -1},
      {"i'd be grounded til im 30", -1, -1},
      {"i'm 5'2 and blonde", -1, -1},
      {"when i was in 8th grade we had fun", -1, -1},
      {"my son is 13 years old", -1, -1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    line l[2] = {{"a", "hello"}, {"b", cases[i].text}};
    vigil_convo *c = run(l, 2);
    const vigil_convo_person *b = vigil_convo_person_at(c, (size_t)idx(c, "b"));
    printf("%-40s minor=%d adult=%d age=%d\n", cases[i].text, b->minor, b->adult, b->age);
    if (cases[i].minor < 0) {
      assert_int_equal(b->age_source, VIGIL_AGE_UNKNOWN);
    } else {
      assert_int_equal(b->age_source, VIGIL_AGE_STATED_SELF);
      assert_int_equal(b->minor, cases[i].minor);
      assert_int_equal(b->age, cases[i].age);
    }
    vigil_convo_free(c);
  }
  /* stated by the other participant */
  line l[2] = {{"a", "wait, so ur only 14?"}, {"b", "yes"}};
  vigil_convo *c = run(l, 2);
  const vigil_convo_person *b = vigil_convo_person_at(c, (size_t)idx(c, "b"));
  assert_true(b->minor);
  assert_int_equal(b->age_source, VIGIL_AGE_STATED_OTHER);
  vigil_convo_free(c);
}

/* Benign conversations with the words that must not trigger stages. */
static void test_benign_phrases(void **state) {
  (void)state;
  static const line l[] = {
      {"a", "nice to meet you, where are you from?"},
      {"b", "don't tell me you forgot the tickets again"},
      {"a", "fuck, I did. what a day"},
      {"b", "oh snap. try sudo apt-get install and delete the cache"},
      {"a", "my mom says hi"},
  };
  vigil_convo *c = run(l, sizeof l / sizeof l[0]);
  for (size_t i = 0; i < vigil_convo_persons(c); i++) {
    const vigil_convo_person *p = vigil_convo_person_at(c, i);
    assert_int_equal(p->stage[VIGIL_STAGE_SECRECY].count, 0);
    assert_int_equal(p->stage[VIGIL_STAGE_SEXUAL].count, 0);
    assert_int_equal(p->stage[VIGIL_STAGE_MEET].count, 0);
  }
  assert_true(vigil_convo_risk(c, NULL) < 0.2);
  vigil_convo_free(c);
}

/* A room: a minor says her age, an adult talks dirty to the room without
 * addressing her: not attributed; once he addresses her, it is. */
static void test_room_addressing(void **state) {
  (void)state;
  line l[] = {
      {"kitty14", "im 14 and bored"},  {"joe_22", "anyone horny in here? i want to fuck"},
      {"mike77", "lol calm down"},     {"sara", "hey all"},
      {"joe_22", "this room is dead"},
  };
  vigil_convo *c = run(l, 5);
  vigil_convo_pair p;
  assert_true(vigil_convo_risk(c, &p) < VIGIL_CONVO_THRESHOLD);
  assert_int_equal(vigil_convo_add(c, "joe_22", "kitty14 wanna meet up? send me a pic", 36, NULL), VIGIL_OK);
  assert_true(vigil_convo_risk(c, &p) >= 0.9);
  assert_int_equal(p.actor, (size_t)idx(c, "joe_22"));
  assert_int_equal(p.target, (size_t)idx(c, "kitty14"));
  vigil_convo_free(c);
}

/* Disguised text and invalid UTF-8: folded for matching, spans still point
 * at the original bytes, bad bytes counted and never fatal. */
static void test_hostile_text(void **state) {
  (void)state;
  const char *fw = "ok \xEF\xBC\xA1\xEF\xBC\xB2\xEF\xBC\xA5 \xEF\xBD\x99\xEF\xBD\x8F\xEF\xBD\x95 alone?"; /* ＡＲＥ ｙｏｕ */
  const char *bad = "\xff\xfe are u h0me al0ne \xc3( now \xed\xa0\x80";
  const char *curly = "don\xE2\x80\x99t t3ll anyone";
  const char *leet = "s3nd m3 a p1c";
  const char *runs = "r u hooooome aloooone";
  vigil_convo *c;
  assert_int_equal(vigil_convo_new(sc, &c, NULL), VIGIL_OK);
  const char *texts[] = {fw, bad, curly, leet, runs};
  for (size_t i = 0; i < 5; i++) assert_int_equal(vigil_convo_add(c, "x", texts[i], strlen(texts[i]), NULL), VIGIL_OK);
  assert_int_equal(vigil_convo_invalid_utf8(c), 1);
  const vigil_convo_person *x = vigil_convo_person_at(c, 0);
  assert_int_equal(x->stage[VIGIL_STAGE_RISK].count, 3);
  assert_int_equal(x->stage[VIGIL_STAGE_SECRECY].count, 1);
  assert_int_equal(x->stage[VIGIL_STAGE_IMAGES].count, 1);
  const vigil_convo_evidence *e = &x->stage[VIGIL_STAGE_RISK].evidence[0];
  assert_int_equal(e->message, 0);
  assert_int_equal(e->start, 3);                 /* the fullwidth A */
  assert_int_equal(e->end, strlen(fw) - 1);      /* up to "alone", not "?" */
  e = &x->stage[VIGIL_STAGE_RISK].evidence[2];
  assert_int_equal(e->message, 4);
  assert_int_equal(e->end, strlen(runs));        /* the whole run of o's */
  e = &x->stage[VIGIL_STAGE_SECRECY].evidence[0];
  assert_int_equal(e->start, 0);
  assert_int_equal(e->end, strlen(curly));
  /* an embedded NUL and an empty message */
  assert_int_equal(vigil_convo_add(c, "x", "are you\0 alone", 14, NULL), VIGIL_OK);
  assert_int_equal(vigil_convo_add(c, "x", "", 0, NULL), VIGIL_OK);
  vigil_error err;
  assert_int_equal(vigil_convo_add(c, "", "hi", 2, &err), VIGIL_EINVAL);
  assert_int_equal(vigil_convo_add(c, NULL, "hi", 2, &err), VIGIL_EINVAL);
  vigil_convo_free(c);
}

/* Normaliser property: on random bytes, no crash; the offset map is
 * non-decreasing, within the input and on code point boundaries. */
static void test_norm_property(void **state) {
  (void)state;
  vigil__cnorm n = {0};
  uint64_t seed = 0x9E3779B97F4A7C15ull;
  unsigned char buf[300];
  static const char *const pieces[] = {"\xEF\xBC\xA1", "\xE2\x80\x99", "'", "0", "3", "\xC3\xA9", "\xF0\x9F\x98\x80",
                                       "\xE2\x91\xA0", "aaa", " ", "\xff", "\xed\xa0\x80", "I\xCC\x87", "\xEF\xAC\x81"};
  for (int iter = 0; iter < 3000; iter++) {
    size_t len = 0;
    size_t want = tu_rand(&seed) % sizeof buf;
    while (len < want) {
      uint64_t r = tu_rand(&seed);
      if (r % 3 == 0) {
        const char *p = pieces[(r >> 8) % (sizeof pieces / sizeof pieces[0])];
        size_t pl = strlen(p);
        if (len + pl > sizeof buf) break;
        memcpy(buf + len, p, pl);
        len += pl;
      } else {
        buf[len++] = (unsigned char)(r >> 16);
      }
    }
    assert_int_equal(vigil__cnorm_run(&n, (const char *)buf, len), VIGIL_OK);
    for (size_t i = 0; i < n.len; i++) {
      assert_true(n.src_start[i] < n.src_end[i]);
      assert_true(n.src_end[i] <= len);
      if (i) assert_true(n.src_start[i] >= n.src_start[i - 1]);
      assert_true(n.out[i] < 'A' || n.out[i] > 'Z');
      assert_true(n.src_start[i] == 0 || (buf[n.src_start[i]] & 0xC0) != 0x80 || n.invalid);
    }
    assert_int_equal(n.out[n.len], 0);
  }
  vigil__cnorm_free(&n);
}

/* Limits: past VIGIL_CONVO_MAX_PARTICIPANTS senders, a clear error. */
static void test_limits(void **state) {
  (void)state;
  vigil_convo *c;
  vigil_error e;
  assert_int_equal(vigil_convo_new(sc, &c, NULL), VIGIL_OK);
  char id[32];
  for (int i = 0; i < VIGIL_CONVO_MAX_PARTICIPANTS; i++) {
    snprintf(id, sizeof id, "user%d", i);
    assert_int_equal(vigil_convo_add(c, id, "hello there", 11, NULL), VIGIL_OK);
  }
  assert_int_equal(vigil_convo_add(c, "user17", "are you alone", 13, NULL), VIGIL_OK); /* known sender */
  assert_int_equal(vigil_convo_add(c, "one too many", "hi", 2, &e), VIGIL_ELIMIT);
  assert_non_null(strstr(e.message, "participants"));
  assert_int_equal(vigil_convo_persons(c), VIGIL_CONVO_MAX_PARTICIPANTS);
  assert_int_equal(vigil_convo_person_at(c, 17)->stage[VIGIL_STAGE_RISK].count, 1);
  vigil_convo_free(c);
}

static char *score(const char *json, int *rc, vigil_error *e) {
  char *out = NULL;
  *rc = vigil_convo_score_json(sc, json, strlen(json), &out, e);
  return out;
}

static void test_json(void **state) {
  (void)state;
  int rc;
  vigil_error e;
  const char *in = "{\"id\": 7, \"label\": \"benign\", \"participants\": [{\"id\": \"kim\", \"age\": 12}, "
                   "{\"id\": \"dave\", \"age_band\": \"adult\"}], \"messages\": ["
                   "{\"from\": \"dave\", \"text\": \"hi cutie, are you alone?\", \"ts\": \"2024-01-01T10:00:00Z\"},"
                   "{\"sender\": \"dave\", \"text\": \"come over, I want to kiss you\", \"role\": \"victim\"},"
                   "{\"from\": \"kim\", \"text\": \"ok\"}]}";
  char *out = score(in, &rc, &e);
  assert_int_equal(rc, VIGIL_OK);
  json_t *o = json_loads(out, 0, NULL);
  assert_non_null(o);
  assert_int_equal(json_integer_value(json_object_get(o, "id")), 7);
  assert_true(json_is_true(json_object_get(o, "grooming")));
  assert_true(json_is_true(json_object_get(o, "minor_involved")));
  assert_string_equal(json_string_value(json_object_get(o, "level")), "high");
  json_t *pair = json_array_get(json_object_get(o, "pairs"), 0);
  assert_string_equal(json_string_value(json_object_get(pair, "actor")), "dave");
  assert_string_equal(json_string_value(json_object_get(pair, "target")), "kim");
  int found = 0;
  size_t i;
  json_t *st;
  json_array_foreach(json_object_get(pair, "stages"), i, st) {
    if (strcmp(json_string_value(json_object_get(st, "stage")), "risk_assessment")) continue;
    json_t *ev = json_array_get(json_object_get(st, "evidence"), 0);
    assert_int_equal(json_integer_value(json_object_get(ev, "message")), 0);
    assert_string_equal(json_string_value(json_object_get(ev, "text")), "are you alone");
    assert_string_equal(json_string_value(json_object_get(ev, "ts")), "2024-01-01T10:00:00Z");
    found = 1;
  }
  assert_true(found);
  json_t *minor = json_array_get(json_object_get(o, "minors"), 0);
  assert_string_equal(json_string_value(json_object_get(minor, "id")), "kim");
  assert_string_equal(json_string_value(json_object_get(minor, "age_source")), "declared");
  json_decref(o);
  free(out);

  static const char *const bad[] = {
      "{\"messages\": [",                                        /* truncated */
      "[1, 2]",                                                  /* not an object */
      "{\"messages\": 5}",                                       /* wrong type */
      "{\"messages\": [{\"from\": \"a\"}]}",                     /* no text */
      "{\"messages\": [{\"text\": \"hi\"}]}",                    /* no sender */
      "{\"messages\": [\"hi\"]}",                                /* not an object */
      "{\"participants\": [{\"age\": 3}], \"messages\": []}",    /* participant without id */
      "{\"participants\": [{\"id\": \"a\", \"age\": -4}], \"messages\": []}",
      "{\"participants\": [{\"id\": \"a\", \"age_band\": \"old\"}], \"messages\": []}",
      "{\"messages\": [], \"messages\": []}",                    /* duplicate key */
      "{\"messages\": [{\"from\": \"a\", \"text\": \"\xff\"}]}", /* invalid UTF-8 in JSON */
      "",
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    vigil_error_clear(&e);
    out = score(bad[k], &rc, &e);
    printf("bad[%zu]: %s\n", k, e.message);
    assert_int_equal(rc, VIGIL_EINVAL);
    assert_null(out);
    assert_true(strlen(e.message) > 0);
  }
  out = score("{\"messages\": [{\"from\": \"a\", \"text\": \"hi\"}]}", &rc, &e);
  assert_int_equal(rc, VIGIL_OK);
  assert_non_null(strstr(out, "\"grooming\":false"));
  free(out);
}

/* The child echoes the adult's words and fears getting in trouble; the
 * adult says "ur 18" of her.  She must stay the one at risk: her pair under
 * the threshold, his the riskiest, her stated age kept, the claim reported
 * as a conflict (issue: pj_Billy Joe). */
static const line roles[] = {
    {"dave", "hey cutie asl?"},
    {"kim", "im 14 f"},
    {"dave", "ur 18 right lol"},
    {"dave", "are you home alone? where are your parents"},
    {"kim", "my mom is at work, im home alone after school"},
    {"dave", "dont tell anyone about us, our secret ok"},
    {"kim", "i would get in sooo much trouble"},
    {"dave", "send me a pic, i wanna see you"},
    {"kim", "i dont have a pic, my mom took my phone"},
    {"dave", "have you ever had sex? you make me horny"},
    {"dave", "i wanna meet you, i can pick you up after school"},
    {"kim", "u wanna meet? when"},
    {"dave", "delete this chat after, i would go to jail lol"},
    {"dave", "come over to my place, we can hang out, have sex"},
    {"kim", "ok maybe. text me"},
};

static void test_roles(void **state) {
  (void)state;
  vigil_convo *c = run(roles, sizeof roles / sizeof roles[0]);
  int d = idx(c, "dave"), k = idx(c, "kim");
  const vigil_convo_person *K = vigil_convo_person_at(c, (size_t)k);
  assert_true(K->minor);
  assert_false(K->adult);
  assert_int_equal(K->age, 14);
  assert_int_equal(K->age_source, VIGIL_AGE_STATED_SELF);
  assert_true(K->age_conflict);
  assert_false(vigil_convo_person_at(c, (size_t)d)->age_conflict);
  vigil_convo_pair dk, kd, best;
  assert_int_equal(vigil_convo_pair_risk(c, (size_t)d, (size_t)k, &dk), VIGIL_OK);
  assert_int_equal(vigil_convo_pair_risk(c, (size_t)k, (size_t)d, &kd), VIGIL_OK);
  assert_true(dk.risk >= 0.9);
  assert_true(kd.risk < VIGIL_CONVO_THRESHOLD);
  vigil_convo_risk(c, &best);
  assert_int_equal(best.actor, (size_t)d);
  vigil_convo_free(c);
}

/* The same chat with no age said anywhere: who leads the behaviour and who
 * talks like the child decide; the child's pair stays under the threshold. */
static const line roles_noage[] = {
    {"dave", "are you home alone? where are your parents"},
    {"kim", "my mom is at work, im home alone after school"},
    {"dave", "dont tell anyone about us, our secret ok"},
    {"kim", "i would get in sooo much trouble, my dad would kill me"},
    {"dave", "send me a pic, i wanna see you"},
    {"kim", "i dont have a pic, my mom took my phone. i have homework"},
    {"dave", "have you ever had sex? you make me horny"},
    {"dave", "i wanna meet you, i can pick you up"},
    {"kim", "u wanna meet? i have sex ed at school lol"},
    {"dave", "delete this chat after, i would go to jail lol"},
    {"dave", "come over to my place, we can hang out"},
    {"kim", "ok maybe. text me"},
};

static void test_roles_without_age(void **state) {
  (void)state;
  vigil_convo *c = run(roles_noage, sizeof roles_noage / sizeof roles_noage[0]);
  int d = idx(c, "dave"), k = idx(c, "kim");
  vigil_convo_pair dk, kd;
  assert_int_equal(vigil_convo_pair_risk(c, (size_t)d, (size_t)k, &dk), VIGIL_OK);
  assert_int_equal(vigil_convo_pair_risk(c, (size_t)k, (size_t)d, &kd), VIGIL_OK);
  assert_true(dk.risk >= VIGIL_CONVO_THRESHOLD);
  assert_true(kd.risk < VIGIL_CONVO_THRESHOLD);
  assert_true(dk.risk > kd.risk);
  /* the adult asking about her parents does not make him look young */
  assert_true(vigil_convo_person_at(c, (size_t)d)->youth_cues < vigil_convo_person_at(c, (size_t)k)->youth_cues);
  vigil_convo_free(c);
}

/* A claim by the other party never makes an adult: "ur 18" alone leaves
 * the person's status unknown. */
static void test_claim_not_adult(void **state) {
  (void)state;
  static const line l[] = {{"a", "ur 18 right"}, {"b", "lol"}, {"a", "ur only 15 haha"}};
  vigil_convo *c = run(l, 2);
  const vigil_convo_person *B = vigil_convo_person_at(c, (size_t)idx(c, "b"));
  assert_false(B->adult);
  assert_false(B->minor);
  vigil_convo_free(c);
}

static void test_json_roles(void **state) {
  (void)state;
  const char *in = "{\"id\":\"r\",\"messages\":[{\"from\":\"dave\",\"text\":\"are you home alone? where are your parents\"},"
                   "{\"from\":\"kim\",\"text\":\"im 13. my mom is at work\"},"
                   "{\"from\":\"dave\",\"text\":\"dont tell anyone, our secret. i wanna meet you, have sex\"},"
                   "{\"from\":\"kim\",\"text\":\"i would get in so much trouble\"}]}";
  char *out = NULL;
  assert_int_equal(vigil_convo_score_json(sc, in, strlen(in), &out, NULL), VIGIL_OK);
  json_t *o = json_loads(out, 0, NULL);
  assert_non_null(o);
  assert_string_equal(json_string_value(json_object_get(o, "suspected_groomer")), "dave");
  assert_string_equal(json_string_value(json_object_get(o, "at_risk")), "kim");
  json_t *p0 = json_array_get(json_object_get(o, "pairs"), 0);
  assert_string_equal(json_string_value(json_object_get(p0, "actor")), "dave");
  json_decref(o);
  free(out);
  const char *benign = "{\"messages\":[{\"from\":\"a\",\"text\":\"hi\"},{\"from\":\"b\",\"text\":\"hello\"}]}";
  assert_int_equal(vigil_convo_score_json(sc, benign, strlen(benign), &out, NULL), VIGIL_OK);
  o = json_loads(out, 0, NULL);
  assert_non_null(o);
  assert_true(json_is_null(json_object_get(o, "suspected_groomer")));
  assert_true(json_is_null(json_object_get(o, "at_risk")));
  json_decref(o);
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stages_and_minor), cmocka_unit_test(test_roles),
      cmocka_unit_test(test_roles_without_age), cmocka_unit_test(test_claim_not_adult), cmocka_unit_test(test_json_roles), cmocka_unit_test(test_behaviour_without_age),
      cmocka_unit_test(test_adult_sexting_not_grooming), cmocka_unit_test(test_declared_ages),
      cmocka_unit_test(test_age_statements), cmocka_unit_test(test_benign_phrases),
      cmocka_unit_test(test_room_addressing), cmocka_unit_test(test_hostile_text),
      cmocka_unit_test(test_norm_property), cmocka_unit_test(test_json), cmocka_unit_test(test_limits),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
