/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_network.c - the ad linker on small hand-made ad sets whose groups
 * are known, including the adversarial cases: one template with different
 * phones, one phone with different texts, a hotel line printed in the ads
 * of three unrelated groups, hostile text, near-equal image hashes, a
 * swapped-in extractor, and incremental runs that must give the same
 * groups as one run over everything.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/network.h"

/* A templated ad: same words, different name and phone. */
static void tpl_ad(char *buf, size_t cap, const char *id, const char *name, const char *phone) {
  snprintf(buf, cap,
           "{\"id\":\"%s\",\"title\":\"Sweet %s visiting this week\",\"body\":\"Hi gentlemen my name is %s and I am a "
           "sweet girl visiting your city this week only call me at %s for an unforgettable time with a real companion "
           "who loves to make you smile and relax after a long day at work\",\"location\":\"Fresno\"}\n",
           id, name, name, phone);
}

static const char *unrelated[] = {
    "Quiet evenings by the lake with good books and warm tea, nothing else planned for the weekend at all",
    "Selling a used mountain bike with new tyres and a fresh chain, frame is medium and brakes were serviced",
    "Looking for a roommate who enjoys cooking, gardening and long walks around the old harbour district",
    "Piano lessons for beginners on tuesdays and thursdays, bring your own sheet music and a notebook please",
    "The museum opens a new exhibit of northern landscapes painted by local artists during the last century",
    "Fresh vegetables from the farm every saturday morning at the market square near the railway station",
};

static char *build_set(void) {
  size_t cap = 1 << 16, n = 0;
  char *s = malloc(cap), line[1024];
  assert_non_null(s);
  s[0] = 0;
#define ADD(...)                                                                                                        \
  do {                                                                                                                 \
    snprintf(line, sizeof line, __VA_ARGS__);                                                                          \
    n += (size_t)snprintf(s + n, cap - n, "%s", line);                                                                 \
  } while (0)
  /* group T: one template, four different phones and names */
  static const char *names[] = {"Lily", "Rose", "Dana", "Kira"};
  static const char *phones[] = {"213-555-0101", "(310) 555-0102", "415.555.0103", "702*555*0104"};
  for (int i = 0; i < 4; i++) {
    tpl_ad(line, sizeof line, (char[]){'t', (char)('1' + i), 0}, names[i], phones[i]);
    n += (size_t)snprintf(s + n, cap - n, "%s", line);
  }
  /* group P: one phone, three unrelated texts */
  ADD("{\"id\":\"p1\",\"text\":\"Blue car for sale, call 9165550177 after six\"}\n");
  ADD("{\"id\":\"p2\",\"title\":\"new here\",\"body\":\"ask for Maya 916 555 0177\"}\n");
  ADD("{\"id\":\"p3\",\"text\":\"Tutoring in maths and physics. Text 1-916-555-0177.\"}\n");
  /* groups H1..H3: each its own phone, all printing the same hotel line */
  static const char *own[] = {"5105550111", "5105550122", "5105550133"};
  static const char *texts[] = {"Golden dragon spa with soothing music and hot stones",
                                "Downtown studio, quiet and clean, parking behind the building",
                                "Beach cottage weekend specials for couples only"};
  for (int g = 0; g < 3; g++)
    for (int k = 0; k < 2; k++)
      ADD("{\"id\":\"h%d%d\",\"text\":\"%s %s. Room at the Grand Hotel 800-555-0199. Call %s\"}\n", g, k, texts[g],
          k ? "today" : "tonight", own[g]);
  /* unrelated singles */
  for (int i = 0; i < 6; i++) ADD("{\"id\":\"u%d\",\"text\":\"%s\"}\n", i, unrelated[i]);
#undef ADD
  return s;
}

/* Most tests use the built-in extractor: the linker logic is under test
 * here, and compiling the text scanner for every linker is slow under
 * sanitizers.  test_text_extractor covers the default one. */
static const vigil_link_opts *bopt(void) {
  static vigil_link_opts o;
  vigil_link_opts_init(&o);
  o.extractor = vigil_link_builtin_extractor();
  return &o;
}

/* The group rank of an ad, or -1 when vigil_linker_group_of says
 * VIGIL_ENOTFOUND (any other answer fails the test). */
static long group_of(const vigil_linker *l, const char *id) {
  size_t rank = 0;
  vigil_error e;
  int rc = vigil_linker_group_of(l, id, &rank, &e);
  if (rc == VIGIL_ENOTFOUND) return -1;
  assert_int_equal(rc, VIGIL_OK);
  return (long)rank;
}

static vigil_linker *link_set(const char *jsonl, int idents, int templates) {
  vigil_link_opts o = *bopt();
  o.use_identifiers = idents;
  o.use_templates = templates;
  vigil_linker *l;
  vigil_error err;
  assert_int_equal(vigil_linker_new(&l, &o, &err), VIGIL_OK);
  size_t bad = 99;
  assert_int_equal(vigil_linker_add_jsonl(l, jsonl, strlen(jsonl), &bad, &err), VIGIL_OK);
  assert_int_equal(bad, 0);
  assert_int_equal(vigil_linker_group(l, &err), VIGIL_OK);
  return l;
}

static void test_known_groups(void **state) {
  (void)state;
  char *s = build_set();
  vigil_linker *l = link_set(s, 1, 1);
  /* template group */
  long t = group_of(l, "t1");
  assert_true(t >= 0);
  for (int i = 2; i <= 4; i++) assert_int_equal(group_of(l, (char[]){'t', (char)('0' + i), 0}), t);
  const vigil_link_group *g = vigil_linker_group_get(l, (size_t)t);
  assert_int_equal(g->n_ads, 4);
  assert_int_equal(g->n_phones, 4);
  assert_true(g->n_template_links >= 3);
  assert_non_null(strstr(g->template_text, "unforgettable time"));
  assert_non_null(strstr(g->template_text, "[NAME]"));
  assert_non_null(strstr(g->reasons, "4 phones"));
  /* same phone, different text */
  long p = group_of(l, "p1");
  assert_true(p >= 0 && p != t);
  assert_int_equal(group_of(l, "p2"), p);
  assert_int_equal(group_of(l, "p3"), p);
  assert_int_equal(vigil_linker_group_get(l, (size_t)p)->n_phones, 1);
  assert_int_equal(vigil_linker_group_get(l, (size_t)p)->n_template_links, 0);
  /* the hotel line is a hub: three separate groups */
  assert_true(vigil_linker_is_hub(l, VIGIL_EV_PHONE, "8005550199"));
  assert_false(vigil_linker_is_hub(l, VIGIL_EV_PHONE, "9165550177"));
  long h[3];
  for (int k = 0; k < 3; k++) {
    char a[8], b[8];
    snprintf(a, sizeof a, "h%d0", k);
    snprintf(b, sizeof b, "h%d1", k);
    h[k] = group_of(l, a);
    assert_true(h[k] >= 0);
    assert_int_equal(group_of(l, b), h[k]);
    assert_int_equal(vigil_linker_group_get(l, (size_t)h[k])->n_ads, 2);
    assert_int_equal(vigil_linker_group_get(l, (size_t)h[k])->n_hubs, 1);
  }
  assert_true(h[0] != h[1] && h[1] != h[2] && h[0] != h[2]);
  for (int i = 0; i < 6; i++) {
    char u[8];
    snprintf(u, sizeof u, "u%d", i);
    assert_int_equal(group_of(l, u), -1);
  }
  assert_int_equal(vigil_linker_group_count(l), 5);
  const char **ids;
  size_t n;
  assert_int_equal(vigil_linker_group_members(l, (size_t)p, &ids, &n, NULL), VIGIL_OK);
  assert_int_equal(n, 3);
  assert_string_equal(ids[0], "p1");
  for (size_t i = 0; i < n; i++) assert_int_equal(group_of(l, ids[i]), p);
  free(ids);
  /* past the last group: not found, with the outputs emptied */
  assert_int_equal(vigil_linker_group_members(l, vigil_linker_group_count(l), &ids, &n, NULL), VIGIL_ENOTFOUND);
  assert_null(ids);
  assert_int_equal(n, 0);
  size_t rank = 99;
  vigil_error ge;
  assert_int_equal(vigil_linker_group_of(l, "no-such-ad", &rank, &ge), VIGIL_ENOTFOUND);
  assert_int_equal(rank, 99);
  assert_int_equal(vigil_linker_group_of(l, "u0", &rank, &ge), VIGIL_ENOTFOUND); /* in no group of 2 */
  /* ranks are by risk */
  for (size_t r = 1; r < vigil_linker_group_count(l); r++)
    assert_true(vigil_linker_group_get(l, r - 1)->risk >= vigil_linker_group_get(l, r)->risk);
  vigil_linker_free(l);

  /* identifiers only: the template group falls apart, the phone group stays */
  l = link_set(s, 1, 0);
  assert_int_equal(group_of(l, "t1"), -1);
  assert_true(group_of(l, "p1") >= 0);
  vigil_linker_free(l);
  /* templates only: the phone group falls apart, the template group stays */
  l = link_set(s, 0, 1);
  assert_true(group_of(l, "t1") >= 0);
  assert_int_equal(group_of(l, "p1"), -1);
  vigil_linker_free(l);
  free(s);
}

static void test_hub_needs_separate_groups(void **state) {
  (void)state;
  /* one phone on eight ads that have nothing else in common is an
   * operation's number, not a hub: it must link them */
  char buf[8192];
  size_t n = 0;
  for (int i = 0; i < 8; i++)
    n += (size_t)snprintf(buf + n, sizeof buf - n, "{\"id\":\"m%d\",\"text\":\"%s call 3235550188\"}\n", i,
                          unrelated[i % 6]);
  vigil_linker *l = link_set(buf, 1, 1);
  assert_false(vigil_linker_is_hub(l, VIGIL_EV_PHONE, "3235550188"));
  assert_int_equal(vigil_linker_group_count(l), 1);
  assert_int_equal(vigil_linker_group_get(l, 0)->n_ads, 8);
  vigil_linker_free(l);
  /* with a degree cap of 5 it becomes a hub and links nothing */
  vigil_link_opts o = *bopt();
  o.hub_max_degree = 5;
  vigil_error err;
  assert_int_equal(vigil_linker_new(&l, &o, &err), VIGIL_OK);
  assert_int_equal(vigil_linker_add_jsonl(l, buf, n, NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_linker_group(l, &err), VIGIL_OK);
  assert_true(vigil_linker_is_hub(l, VIGIL_EV_PHONE, "3235550188"));
  /* only the repeated texts (m0 = m6, m1 = m7) still link, by template */
  assert_int_equal(vigil_linker_group_count(l), 2);
  assert_int_equal(vigil_linker_group_get(l, 0)->n_ads, 2);
  assert_int_equal(group_of(l, "m6"), group_of(l, "m0"));
  assert_int_equal(group_of(l, "m2"), -1);
  vigil_linker_free(l);
}

static void test_hostile(void **state) {
  (void)state;
  const char in[] =
      "{\"id\":\"x1\",\"text\":\"<script>document.title='pwned'</script> call 2135550142 \xff\xfe bad bytes\"}\n"
      "{\"id\":\"x2\",\"text\":\"<img src=x onerror=alert(1)> 213.555.0142 \xc3\"}\n"
      "not json at all\n"
      "{\"text\":\"no id\"}\n"
      "[1,2,3]\n"
      "{\"id\":\"x1\",\"text\":\"duplicate id\"}\n"
      "\n   \n"
      "{\"id\":42,\"title\":null,\"body\":{\"nested\":true}}\n"
      "{\"id\":\"x3\",\"text\":\"emoji only \xf0\x9f\x8c\xb9\xf0\x9f\x8c\xb9 \\u0000\"}\n";
  vigil_linker *l;
  vigil_error err;
  assert_int_equal(vigil_linker_new(&l, bopt(), &err), VIGIL_OK);
  size_t bad = 0;
  assert_int_equal(vigil_linker_add_jsonl(l, in, sizeof in - 1, &bad, &err), VIGIL_OK);
  assert_int_equal(bad, 5); /* not json, no id, array, duplicate, \u0000 */
  assert_true(err.code != VIGIL_OK);
  assert_non_null(strstr(err.message, "line 3"));
  assert_int_equal(vigil_linker_ad_count(l), 3); /* x1, x2, 42 */
  assert_int_equal(vigil_linker_group(l, &err), VIGIL_OK);
  assert_true(group_of(l, "x1") >= 0);
  assert_int_equal(group_of(l, "x1"), group_of(l, "x2"));
  assert_int_equal(group_of(l, "42"), -1);
  /* a line over the limit is refused, not read */
  size_t big = (1u << 20) + 100;
  char *huge = malloc(big + 32);
  assert_non_null(huge);
  memcpy(huge, "{\"id\":\"big\",\"text\":\"", 20);
  memset(huge + 20, 'a', big - 22);
  memcpy(huge + big - 2, "\"}", 2);
  assert_int_equal(vigil_linker_add_jsonl(l, huge, big, &bad, &err), VIGIL_OK);
  assert_int_equal(bad, 1);
  free(huge);
  /* empty input is fine */
  assert_int_equal(vigil_linker_add_jsonl(l, "", 0, &bad, &err), VIGIL_OK);
  assert_int_equal(bad, 0);
  vigil_linker_free(l);
  vigil_link_opts o;
  vigil_link_opts_init(&o);
  o.jaccard = 1.5;
  assert_int_equal(vigil_linker_new(&l, &o, &err), VIGIL_EINVAL);
}

static void emit_collect(void *ectx, int kind, const char *value, size_t start, size_t span) {
  char *out = ectx;
  size_t n = strlen(out);
  snprintf(out + n, 512 - n, "%d:%s@%zu+%zu;", kind, value, start, span);
}

static void test_builtin_extractor(void **state) {
  (void)state;
  const vigil_link_extractor *ex = vigil_link_builtin_extractor();
  char out[512];
  const char *t = "Draya 702*605*1961 or (213) 555-0123, age 21 702-605-1962; mail Me.Here@Example.COM snap: cutie.pie";
  out[0] = 0;
  ex->scan(NULL, t, strlen(t), emit_collect, out);
  assert_non_null(strstr(out, "0:7026051961@6+12;"));
  assert_non_null(strstr(out, "0:2135550123@"));
  assert_non_null(strstr(out, "0:7026051962@"));
  assert_non_null(strstr(out, "1:me.here@example.com@"));
  assert_non_null(strstr(out, "2:snap:cutie.pie@"));
  /* prices and short numbers are not phones; a number split across lines is not one */
  const char *u = "$150 30min 200 1hr 12345\n213\n555\n0123";
  out[0] = 0;
  ex->scan(NULL, u, strlen(u), emit_collect, out);
  assert_null(strstr(out, "0:"));
  const char *nm = "Hi, my name is Sasha and I'm New here";
  out[0] = 0;
  ex->scan(NULL, nm, strlen(nm), emit_collect, out);
  assert_non_null(strstr(out, "4:Sasha@"));
  assert_null(strstr(out, "4:New"));
  const char *y = "young petite latina 100% real, call 702*605*1961", *m = "new in town for a few days";
  double s1 = ex->scan(NULL, y, strlen(y), NULL, NULL);
  double s2 = ex->scan(NULL, m, strlen(m), NULL, NULL);
  assert_true(s1 > 0.5 && s1 <= 1.0);
  assert_true(s2 == 0.0);
}

/* A swapped extractor: every word starting with '#' is a handle; the
 * score is 0.9 for long texts.  Per-thread state counts the scans. */
static int tag_threads;
static int tag_init(void *ctx, void **tctx) {
  (void)ctx;
  __atomic_add_fetch(&tag_threads, 1, __ATOMIC_SEQ_CST);
  *tctx = calloc(1, sizeof(int));
  return *tctx ? VIGIL_OK : VIGIL_ENOMEM;
}
static void tag_done(void *tctx) { free(tctx); }
static double tag_scan(void *tctx, const char *text, size_t len, vigil_link_emit_fn emit, void *ectx) {
  ++*(int *)tctx;
  for (size_t i = 0; emit && i < len; i++)
    if (text[i] == '#') {
      size_t j = i + 1;
      while (j < len && text[j] >= 'a' && text[j] <= 'z') j++;
      char v[64];
      snprintf(v, sizeof v, "tag:%.*s", (int)(j - i - 1), text + i + 1);
      emit(ectx, VIGIL_EV_HANDLE, v, i, j - i);
    }
  return len > 20 ? 0.9 : 0.1;
}

static void test_extractor_swap_and_images(void **state) {
  (void)state;
  vigil_link_extractor ex = {tag_init, tag_done, tag_scan, NULL};
  vigil_link_opts o;
  vigil_link_opts_init(&o);
  o.extractor = &ex;
  vigil_linker *l;
  vigil_error err;
  assert_int_equal(vigil_linker_new(&l, &o, &err), VIGIL_OK);
  const char in[] =
      "{\"id\":\"a\",\"text\":\"first #blue 2135550100\"}\n"
      "{\"id\":\"b\",\"text\":\"second #blue\"}\n"
      "{\"id\":\"c\",\"text\":\"third 2135550100\"}\n"
      /* images: d and e differ in 4 bits, f is far; listed phones replace extraction */
      "{\"id\":\"d\",\"text\":\"x\",\"images\":[\"f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0\"]}\n"
      "{\"id\":\"e\",\"text\":\"y\",\"images\":[{\"pdq\":\"F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0FF\"}]}\n"
      "{\"id\":\"f\",\"text\":\"z\",\"images\":[\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\", \"nothex\"]}\n"
      "{\"id\":\"g\",\"text\":\"w #blue\",\"phones\":[\"+1 (916) 555-0100\"]}\n"
      "{\"id\":\"h\",\"text\":\"v\",\"phones\":[\"916.555.0100\"]}\n";
  assert_int_equal(vigil_linker_add_jsonl(l, in, sizeof in - 1, NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_linker_group(l, &err), VIGIL_OK);
  long a = group_of(l, "a");
  assert_true(a >= 0);
  assert_int_equal(group_of(l, "b"), a);
  assert_int_equal(group_of(l, "c"), -1); /* the swapped extractor finds no phones */
  /* g lists a phone: no extraction for it, so its #blue does not link it to a */
  assert_int_equal(group_of(l, "g"), group_of(l, "h"));
  assert_true(group_of(l, "g") >= 0 && group_of(l, "g") != a);
  long d = group_of(l, "d");
  assert_true(d >= 0);
  assert_int_equal(group_of(l, "e"), d);
  assert_int_equal(group_of(l, "f"), -1);
  assert_int_equal(vigil_linker_group_get(l, (size_t)d)->n_images, 1); /* near-equal hashes count once */
  assert_true(vigil_linker_group_get(l, (size_t)a)->score_mean < 0.5);
  assert_true(tag_threads >= 1);
  vigil_linker_free(l);
}

static void test_text_extractor(void **state) {
  (void)state;
  vigil_link_extractor *ex;
  vigil_error err;
  assert_int_equal(vigil_link_text_extractor_new(&ex, &err), VIGIL_OK);
  vigil_link_opts o;
  vigil_link_opts_init(&o);
  o.extractor = ex;
  vigil_linker *l;
  assert_int_equal(vigil_linker_new(&l, &o, &err), VIGIL_OK);
  /* the same number plainly, spelled out and in fullwidth digits */
  const char in[] = "{\"id\":\"o1\",\"text\":\"call 216-625-9594 tonight\"}\n"
                    "{\"id\":\"o2\",\"text\":\"text me 2ONE6-SIX2FIVE-9FIVE9FOUR\"}\n"
                    "{\"id\":\"o3\",\"text\":\"\uff12\uff11\uff16 \uff16\uff12\uff15 \uff19\uff15\uff19\uff14 ask for Maya\"}\n"
                    "{\"id\":\"o4\",\"text\":\"unrelated text with no number\"}\n";
  assert_int_equal(vigil_linker_add_jsonl(l, in, sizeof in - 1, NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_linker_group(l, &err), VIGIL_OK);
  long g = group_of(l, "o1");
  assert_true(g >= 0);
  assert_int_equal(group_of(l, "o2"), g);
  assert_int_equal(group_of(l, "o3"), g);
  assert_int_equal(group_of(l, "o4"), -1);
  assert_int_equal(vigil_linker_group_get(l, (size_t)g)->n_phones, 1);
  assert_int_equal(vigil_linker_group_get(l, (size_t)g)->n_names, 1);
  vigil_linker_free(l);
  vigil_link_text_extractor_free(ex);
}

static void partition(vigil_linker *l, const char *const *ids, size_t n, long *out) {
  /* group numbers renamed by first appearance, so two runs compare */
  long map[64];
  int nm = 0;
  for (size_t i = 0; i < n; i++) {
    long g = group_of(l, ids[i]);
    if (g < 0) {
      out[i] = -1;
      continue;
    }
    int k = 0;
    while (k < nm && map[k] != g) k++;
    if (k == nm) map[nm++] = g;
    out[i] = k;
  }
}

static void test_incremental(void **state) {
  (void)state;
  char *s = build_set();
  /* split the set in two "days" at a line boundary in the middle */
  size_t len = strlen(s), half = len / 2;
  while (s[half - 1] != '\n') half++;
  char path[] = "/tmp/vigil_net_stateXXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  unlink(path);
  vigil_error err;
  vigil_linker *l1, *l2, *all;
  assert_int_equal(vigil_linker_new(&l1, bopt(), &err), VIGIL_OK);
  assert_int_equal(vigil_linker_add_jsonl(l1, s, half, NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_linker_save(l1, path, &err), VIGIL_OK);
  assert_int_equal(vigil_linker_new(&l2, bopt(), &err), VIGIL_OK);
  int lrc = vigil_linker_load(l2, path, &err);
  if (lrc) print_message("load: %s\n", err.message);
  assert_int_equal(lrc, VIGIL_OK);
  assert_int_equal(vigil_linker_ad_count(l2), vigil_linker_ad_count(l1));
  assert_int_equal(vigil_linker_add_jsonl(l2, s + half, len - half, NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_linker_group(l2, &err), VIGIL_OK);
  assert_int_equal(vigil_linker_save(l2, path, &err), VIGIL_OK); /* appends */
  assert_int_equal(vigil_linker_new(&all, bopt(), &err), VIGIL_OK);
  assert_int_equal(vigil_linker_add_jsonl(all, s, len, NULL, &err), VIGIL_OK);
  assert_int_equal(vigil_linker_group(all, &err), VIGIL_OK);
  static const char *const ids[] = {"t1", "t2", "t3", "t4", "p1", "p2", "p3", "h00", "h01", "h10",
                                    "h11", "h20", "h21", "u0", "u1", "u2", "u3", "u4", "u5"};
  size_t n = sizeof ids / sizeof ids[0];
  long pa[32], pb[32];
  partition(l2, ids, n, pa);
  partition(all, ids, n, pb);
  for (size_t i = 0; i < n; i++) assert_int_equal(pa[i], pb[i]);
  assert_int_equal(vigil_linker_group_count(l2), vigil_linker_group_count(all));
  /* the appended state loads to the same thing again */
  vigil_linker *l3;
  assert_int_equal(vigil_linker_new(&l3, bopt(), &err), VIGIL_OK);
  assert_int_equal(vigil_linker_load(l3, path, &err), VIGIL_OK);
  assert_int_equal(vigil_linker_ad_count(l3), vigil_linker_ad_count(all));
  assert_int_equal(vigil_linker_group(l3, &err), VIGIL_OK);
  partition(l3, ids, n, pa);
  for (size_t i = 0; i < n; i++) assert_int_equal(pa[i], pb[i]);
  /* loading into a linker that holds ads is refused; a non-database is an error */
  assert_int_equal(vigil_linker_load(l3, path, &err), VIGIL_EINVAL);
  vigil_linker_free(l1);
  vigil_linker_free(l2);
  vigil_linker_free(l3);
  vigil_linker_free(all);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("this is not sqlite, just text that is long enough to look like a header of a file", f);
  fclose(f);
  char wal[64], shm[64];
  snprintf(wal, sizeof wal, "%s-wal", path);
  snprintf(shm, sizeof shm, "%s-shm", path);
  unlink(wal);
  unlink(shm);
  assert_int_equal(vigil_linker_new(&l1, bopt(), &err), VIGIL_OK);
  assert_true(vigil_linker_load(l1, path, &err) != VIGIL_OK);
  vigil_linker_free(l1);
  unlink(path);
  unlink(wal);
  unlink(shm);
  free(s);
}

static void test_outputs(void **state) {
  (void)state;
  char *s = build_set();
  vigil_linker *l = link_set(s, 1, 1);
  char dir[] = "/tmp/vigil_net_outXXXXXX";
  assert_non_null(mkdtemp(dir));
  char p[4][128];
  snprintf(p[0], sizeof p[0], "%s/g.json", dir);
  snprintf(p[1], sizeof p[1], "%s/g.graphml", dir);
  snprintf(p[2], sizeof p[2], "%s/g.dot", dir);
  snprintf(p[3], sizeof p[3], "%s/r.html", dir);
  vigil_error err;
  assert_int_equal(vigil_linker_write_json(l, p[0], &err), VIGIL_OK);
  assert_int_equal(vigil_linker_write_graphml(l, p[1], &err), VIGIL_OK);
  assert_int_equal(vigil_linker_write_dot(l, p[2], &err), VIGIL_OK);
  assert_int_equal(vigil_linker_write_html(l, p[3], &err), VIGIL_OK);
  size_t lens[4];
  char *j = (char *)tu_slurp(p[0], &lens[0]);
  assert_non_null(j);
  assert_non_null(strstr(j, "\"hub\":true"));
  assert_non_null(strstr(j, "\"slot\":\"NAME\""));
  char *g = (char *)tu_slurp(p[1], &lens[1]);
  assert_non_null(g);
  assert_non_null(strstr(g, "<graphml"));
  assert_non_null(strstr(g, ">template</data>"));
  char *d = (char *)tu_slurp(p[2], &lens[2]);
  assert_non_null(d);
  assert_non_null(strstr(d, "graph ads {"));
  assert_non_null(strstr(d, "label=\"hub\""));
  char *h = (char *)tu_slurp(p[3], &lens[3]);
  assert_non_null(h);
  assert_non_null(strstr(h, "Content-Security-Policy"));
  /* the groups' details travel in the JSON data block: the graph, the
   * marked ad text as data, the template as markup with '<' escaped */
  assert_non_null(strstr(h, "<script type=\"application/json\" id=\"data\">"));
  assert_non_null(strstr(h, "\"g\":{\"l\":[["));
  assert_non_null(strstr(h, "\\u003cspan class=\\\"slot sNAME\\\""));
  assert_non_null(strstr(h, "[\"phone\",\""));
  /* the FILE* writers give the same bytes into a memory stream, which is
   * complete when they return (flushed, not closed) */
  int (*fw[4])(const vigil_linker *, FILE *, vigil_error *) = {vigil_linker_fwrite_json, vigil_linker_fwrite_graphml,
                                                               vigil_linker_fwrite_dot, vigil_linker_fwrite_html};
  const char *whole[4] = {j, g, d, h};
  for (int i = 0; i < 4; i++) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    assert_int_equal(fw[i](l, m, &err), VIGIL_OK);
    assert_int_equal(len, lens[i]);
    assert_memory_equal(buf, whole[i], len);
    fclose(m);
    free(buf);
  }
  free(j);
  free(g);
  free(d);
  free(h);
  for (int i = 0; i < 4; i++) unlink(p[i]);
  rmdir(dir);
  /* an ungrouped linker refuses to write or answer */
  vigil_linker *e;
  assert_int_equal(vigil_linker_new(&e, bopt(), &err), VIGIL_OK);
  assert_int_equal(vigil_linker_write_json(e, "/nonexistent/x", &err), VIGIL_EINVAL);
  assert_int_equal(vigil_linker_fwrite_json(e, stdout, &err), VIGIL_EINVAL);
  size_t rank;
  assert_int_equal(vigil_linker_group_of(e, "a", &rank, &err), VIGIL_EINVAL);
  assert_int_equal(vigil_linker_group(e, &err), VIGIL_OK);
  assert_int_equal(vigil_linker_write_json(e, "/nonexistent/x", &err), VIGIL_EIO);
  vigil_linker_free(e);
  vigil_linker_free(l);
  free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_groups),       cmocka_unit_test(test_hub_needs_separate_groups),
      cmocka_unit_test(test_hostile),            cmocka_unit_test(test_builtin_extractor),
      cmocka_unit_test(test_extractor_swap_and_images), cmocka_unit_test(test_incremental),
      cmocka_unit_test(test_outputs),            cmocka_unit_test(test_text_extractor),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
