/*
 * cmd_policy.c - `vigil policy`: decide, check and show minor-safety policy.
 *
 *   vigil policy decide [--policy FILE] [--trace] [FILE|-]
 *       JSON Lines in (one request per line), one JSON decision per line out,
 *       in input order.  A bad line gets an {"error":...} line naming its
 *       line number and the rest go on; exit 1 if any line was bad.
 *   vigil policy check FILE...
 *       validate policy files; errors carry FILE:LINE:COL; exit 1 if any is
 *       invalid.
 *   vigil policy show [--policy FILE] [--format table|markdown|text]
 *       the effective policy: settings, quiet hours and rules (table), every
 *       action x band x relationship decision (markdown, as in docs/policy.md),
 *       or the default policy text to start an operator's file from (text).
 *
 * Request JSON (docs/policy.md has the full description):
 *   {"id":"r1", "action":"dm_text", "time":"21:30" or "2026-11-24T21:30:00+01:00",
 *    "today":"2026-11-24", "trace":false,
 *    "actor":{"band":"adult"} or {"dob":"2011-02-03"} or
 *            {"age":{"band":"13-15","confidence":0.8,"method":"estimated"}},
 *            plus "settings":{"dm":"following"}, "parent_linked":true,
 *            "parent_approved":["dm"], "risk":["grooming","hash_match"],
 *    "target":{...}, "relationship":{"actor_follows":true,"target_follows":true,
 *            "friends":true,"blocked":false,"known_irl":false}}
 */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/policy.h"

static const char policy_help[] =
    "usage: vigil policy decide [--policy FILE] [--trace] [FILE|-]\n"
    "       vigil policy check FILE...\n"
    "       vigil policy show [--policy FILE] [--format table|markdown|text]\n"
    "\n"
    "Minor-safety policy: may account A do an action to account B?\n"
    "\n"
    "decide   reads requests as JSON Lines (FILE or stdin) and prints one JSON\n"
    "         decision per line: decision (allow, allow_with_conditions, deny),\n"
    "         conditions, reasons (machine codes), sentence, source, rule.\n"
    "check    validates policy files; errors name FILE:LINE:COL.\n"
    "show     prints the effective policy (default: the shipped one).\n"
    "\n"
    "options:\n"
    "  --policy FILE     use FILE instead of the shipped default policy\n"
    "  --trace           add the evaluation trace to every decision\n"
    "  --format F        show: table (default), markdown (every decision),\n"
    "                    text (the default policy as a file to edit)\n"
    "  -h, --help        this text\n"
    "\n"
    "Exit status: 0 ok, 1 some requests or files were invalid, 2 usage.\n"
    "See docs/policy.md for the request format and the policy file format.\n";

#define MAX_LINE_BYTES (1u << 20)

/* ---- request parsing --------------------------------------------------- */

static int parse_date(const char *s, int *y, int *m, int *d) {
  if (!s || strlen(s) < 10) return -1;
  for (int i = 0; i < 10; i++)
    if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9')) return -1;
  *y = atoi(s);
  *m = (s[5] - '0') * 10 + (s[6] - '0');
  *d = (s[8] - '0') * 10 + (s[9] - '0');
  return 0;
}

/* "HH:MM" or an ISO 8601 date-time whose clock part is the local time. */
static int parse_time(const char *s, int *minute, int *y, int *m, int *d, int *has_date) {
  const char *c = s;
  *has_date = 0;
  if (strlen(s) >= 16 && (s[10] == 'T' || s[10] == 't' || s[10] == ' ')) {
    if (parse_date(s, y, m, d)) return -1;
    *has_date = 1;
    c = s + 11;
  }
  if (!(c[0] >= '0' && c[0] <= '2' && c[1] >= '0' && c[1] <= '9' && c[2] == ':' && c[3] >= '0' && c[3] <= '5' &&
        c[4] >= '0' && c[4] <= '9'))
    return -1;
  int h = (c[0] - '0') * 10 + (c[1] - '0');
  if (h > 23) return -1;
  if (!*has_date && c[5]) return -1;
  *minute = h * 60 + (c[3] - '0') * 10 + (c[4] - '0');
  return 0;
}

static int keys_ok(json_t *o, const char *const *allowed, char *why, size_t cap, const char *where) {
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    int ok = 0;
    for (int i = 0; allowed[i] && !ok; i++) ok = !strcmp(k, allowed[i]);
    if (!ok) {
      snprintf(why, cap, "%s: unknown key '%.60s'", where, k);
      return -1;
    }
  }
  return 0;
}

static int parse_account(const vigil_policy *p, json_t *o, const char *where, int ty, int tm, int td,
                         vigil_policy_account *a, char *why, size_t cap) {
  static const char *const allowed[] = {"id", "band", "dob", "age", "settings", "parent_linked",
                                        "parent_approved", "risk", NULL};
  vigil_policy_account_init(a);
  if (!o) return 0; /* absent party: unknown band */
  if (!json_is_object(o)) return snprintf(why, cap, "%s must be an object", where), -1;
  if (keys_ok(o, allowed, why, cap, where)) return -1;
  json_t *v;
  if ((v = json_object_get(o, "id"))) {
    if (!json_is_string(v)) return snprintf(why, cap, "%s.id must be a string", where), -1;
    a->id = json_string_value(v);
  }
  vigil_age_input in;
  memset(&in, 0, sizeof in);
  in.today_year = ty, in.today_month = tm, in.today_day = td;
  int have_band = 0;
  if ((v = json_object_get(o, "band"))) {
    int b = json_is_string(v) ? vigil_band_from_name(json_string_value(v)) : -1;
    if (b < 0) return snprintf(why, cap, "%s.band must be one of u13, 13-15, 16-17, adult, unknown", where), -1;
    a->band = (uint8_t)b;
    have_band = 1;
  }
  if ((v = json_object_get(o, "dob"))) {
    if (!json_is_string(v) || strlen(json_string_value(v)) != 10 ||
        parse_date(json_string_value(v), &in.dob_year, &in.dob_month, &in.dob_day))
      return snprintf(why, cap, "%s.dob must be a date YYYY-MM-DD", where), -1;
  }
  if ((v = json_object_get(o, "age"))) {
    static const char *const age_keys[] = {"band", "confidence", "method", NULL};
    if (!json_is_object(v)) return snprintf(why, cap, "%s.age must be an object", where), -1;
    if (keys_ok(v, age_keys, why, cap, where)) return -1;
    json_t *b = json_object_get(v, "band"), *c = json_object_get(v, "confidence"), *m = json_object_get(v, "method");
    int band = b && json_is_string(b) ? vigil_band_from_name(json_string_value(b)) : -1;
    const char *ms = m && json_is_string(m) ? json_string_value(m) : "";
    int method = !strcmp(ms, "self_declared") || !strcmp(ms, "self-declared") ? VIGIL_ASSURE_SELF_DECLARED
                 : !strcmp(ms, "estimated")                                    ? VIGIL_ASSURE_ESTIMATED
                 : !strcmp(ms, "verified")                                     ? VIGIL_ASSURE_VERIFIED
                                                                               : -1;
    if (band < 0 || method < 0 || (c && !json_is_number(c)))
      return snprintf(why, cap,
                      "%s.age needs band (u13, 13-15, 16-17, adult), method (self_declared, estimated, verified) "
                      "and a numeric confidence",
                      where),
             -1;
    in.assured_band = band;
    in.method = method;
    in.confidence = c ? json_number_value(c) : (method == VIGIL_ASSURE_VERIFIED ? 1.0 : 0.0);
  }
  if (have_band && (in.dob_year || in.method))
    return snprintf(why, cap, "%s: give either band or dob/age, not both", where), -1;
  if (!have_band) {
    vigil_error e;
    int band;
    if (vigil_policy_resolve_band(p, &in, &band, &e)) return snprintf(why, cap, "%s: %.400s", where, e.message), -1;
    a->band = (uint8_t)band;
  }
  if ((v = json_object_get(o, "settings"))) {
    if (!json_is_object(v)) return snprintf(why, cap, "%s.settings must be an object", where), -1;
    const char *k;
    json_t *sv;
    json_object_foreach(v, k, sv) {
      int s = vigil_setting_from_name(k);
      int aud = json_is_string(sv) ? vigil_audience_from_name(json_string_value(sv)) : -1;
      if (s < 0) return snprintf(why, cap, "%s.settings: unknown setting '%.60s'", where, k), -1;
      if (aud < 0)
        return snprintf(why, cap, "%s.settings.%s: expected everyone, followers, following, friends, known or none",
                        where, k),
               -1;
      a->settings[s] = (uint8_t)aud;
    }
  }
  if ((v = json_object_get(o, "parent_linked"))) {
    if (!json_is_boolean(v)) return snprintf(why, cap, "%s.parent_linked must be true or false", where), -1;
    a->parent_linked = json_is_true(v);
  }
  if ((v = json_object_get(o, "parent_approved"))) {
    if (!json_is_array(v)) return snprintf(why, cap, "%s.parent_approved must be an array of setting names", where), -1;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
      int s = json_is_string(e) ? vigil_setting_from_name(json_string_value(e)) : -1;
      if (s < 0) return snprintf(why, cap, "%s.parent_approved[%zu] is not a setting name", where, i), -1;
      a->parent_approved |= (uint16_t)(1u << s);
    }
  }
  if ((v = json_object_get(o, "risk"))) {
    if (!json_is_array(v)) return snprintf(why, cap, "%s.risk must be an array", where), -1;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
      const char *r = json_is_string(e) ? json_string_value(e) : "";
      if (!strcmp(r, "grooming") || !strcmp(r, "grooming_risk")) a->risk |= VIGIL_RISK_GROOMING;
      else if (!strcmp(r, "hash_match")) a->risk |= VIGIL_RISK_HASH_MATCH;
      else return snprintf(why, cap, "%s.risk[%zu]: expected grooming or hash_match", where, i), -1;
    }
  }
  return 0;
}

static int parse_rel(json_t *o, unsigned *flags, char *why, size_t cap) {
  static const char *const names[] = {"actor_follows", "target_follows", "friends", "blocked", "known_irl", NULL};
  static const unsigned bits[] = {VIGIL_RELF_ACTOR_FOLLOWS, VIGIL_RELF_TARGET_FOLLOWS, VIGIL_RELF_FRIENDS,
                                  VIGIL_RELF_BLOCKED, VIGIL_RELF_KNOWN_IRL};
  *flags = 0;
  if (!o) return 0;
  if (!json_is_object(o)) return snprintf(why, cap, "relationship must be an object"), -1;
  if (keys_ok(o, names, why, cap, "relationship")) return -1;
  for (int i = 0; names[i]; i++) {
    json_t *v = json_object_get(o, names[i]);
    if (!v) continue;
    if (!json_is_boolean(v)) return snprintf(why, cap, "relationship.%s must be true or false", names[i]), -1;
    if (json_is_true(v)) *flags |= bits[i];
  }
  return 0;
}

static json_t *decision_json(const vigil_policy_decision *d, json_t *id, const vigil_policy_request *rq,
                             const char *trace) {
  json_t *o = json_object(), *reasons = json_array(), *conds = json_array();
  if (!o || !reasons || !conds) {
    json_decref(o);
    json_decref(reasons);
    json_decref(conds);
    return NULL;
  }
  if (id) json_object_set(o, "id", id);
  json_object_set_new(o, "decision", json_string(vigil_outcome_name(d->outcome)));
  for (int i = 0; i < VIGIL_COND_COUNT; i++)
    if (d->conditions & (1u << i)) json_array_append_new(conds, json_string(vigil_condition_name(1u << i)));
  json_object_set_new(o, "conditions", conds);
  for (int i = 0; i < d->nreasons; i++) json_array_append_new(reasons, json_string(d->reasons[i]));
  json_object_set_new(o, "reasons", reasons);
  json_object_set_new(o, "sentence", json_string(d->sentence));
  json_object_set_new(o, "source", json_string(d->source));
  if (d->rule_line)
    json_object_set_new(o, "rule", json_pack("{s:s, s:s, s:i}", "id", d->reasons[0], "origin", d->rule_origin,
                                             "line", d->rule_line));
  json_object_set_new(o, "actor_band", json_string(vigil_band_name(rq->actor->band)));
  json_object_set_new(o, "target_band", json_string(vigil_band_name(rq->target->band)));
  json_object_set_new(o, "relationship", json_string(vigil_rel_name(vigil_rel_from_flags(rq->rel_flags))));
  if (trace) {
    json_t *t = json_array();
    const char *s = trace;
    while (t && *s) {
      const char *e = strchr(s, '\n');
      size_t n = e ? (size_t)(e - s) : strlen(s);
      json_array_append_new(t, json_stringn(s, n));
      s += n + (e ? 1 : 0);
    }
    json_object_set_new(o, "trace", t);
  }
  return o;
}

static void print_json(json_t *o) {
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  if (s) puts(s);
  else puts("{\"error\":{\"message\":\"out of memory\"}}");
  free(s);
}

static void print_error(long line, json_t *id, const char *msg) {
  cli_error("line %ld: %s", line, msg);
  json_t *o = json_object();
  if (o && id) json_object_set(o, "id", id);
  if (o) json_object_set_new(o, "error", json_pack("{s:i, s:s}", "line", (json_int_t)line, "message", msg));
  print_json(o);
  json_decref(o);
}

/* One request line; returns 0 or -1 (an error line was printed). */
static int decide_line(const vigil_policy *p, const char *line, size_t len, long lineno, int trace_all,
                       char *tracebuf, size_t tracecap) {
  json_error_t je;
  char why[512];
  json_t *rq = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
  if (!rq) {
    snprintf(why, sizeof why, "invalid JSON at column %d: %s", je.column, je.text);
    print_error(lineno, NULL, why);
    return -1;
  }
  json_t *id = json_is_object(rq) ? json_object_get(rq, "id") : NULL;
  static const char *const allowed[] = {"id", "action", "actor", "target", "relationship", "time", "today", "trace",
                                        NULL};
  int rc = -1;
  vigil_policy_account actor, target;
  vigil_policy_request r;
  memset(&r, 0, sizeof r);
  r.local_minute = -1;
  if (!json_is_object(rq)) {
    snprintf(why, sizeof why, "a request must be a JSON object");
    goto out;
  }
  if (keys_ok(rq, allowed, why, sizeof why, "request")) goto out;
  json_t *v = json_object_get(rq, "action");
  r.action = v && json_is_string(v) ? vigil_action_from_name(json_string_value(v)) : -1;
  if (r.action < 0) {
    snprintf(why, sizeof why,
             "action must be one of view_profile, follow, dm_text, dm_media, comment, mention, duet, stitch, download, "
             "suggest, search, live_host, live_comment, gift, location_share, notify");
    goto out;
  }
  /* "today" for dates of birth: the request's, else the date of its time,
   * else the system's UTC date. */
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  int ty = tmv.tm_year + 1900, tm = tmv.tm_mon + 1, td = tmv.tm_mday, y, m, d, has_date = 0, minute = -1;
  if ((v = json_object_get(rq, "time"))) {
    if (!json_is_string(v) || parse_time(json_string_value(v), &minute, &y, &m, &d, &has_date)) {
      snprintf(why, sizeof why, "time must be local HH:MM or an ISO 8601 date-time (YYYY-MM-DDTHH:MM...)");
      goto out;
    }
    r.local_minute = minute;
    if (has_date) ty = y, tm = m, td = d;
  }
  if ((v = json_object_get(rq, "today"))) {
    if (!json_is_string(v) || strlen(json_string_value(v)) != 10 || parse_date(json_string_value(v), &ty, &tm, &td)) {
      snprintf(why, sizeof why, "today must be a date YYYY-MM-DD");
      goto out;
    }
  }
  int trace = trace_all;
  if ((v = json_object_get(rq, "trace"))) {
    if (!json_is_boolean(v)) {
      snprintf(why, sizeof why, "trace must be true or false");
      goto out;
    }
    trace |= json_is_true(v);
  }
  if (parse_account(p, json_object_get(rq, "actor"), "actor", ty, tm, td, &actor, why, sizeof why) ||
      parse_account(p, json_object_get(rq, "target"), "target", ty, tm, td, &target, why, sizeof why) ||
      parse_rel(json_object_get(rq, "relationship"), &r.rel_flags, why, sizeof why))
    goto out;
  r.actor = &actor;
  r.target = &target;
  vigil_policy_decision dec;
  if (trace) vigil_policy_decide_traced(p, &r, &dec, tracebuf, tracecap);
  else vigil_policy_decide(p, &r, &dec);
  json_t *o = decision_json(&dec, id, &r, trace ? tracebuf : NULL);
  print_json(o);
  json_decref(o);
  rc = 0;
out:
  if (rc) print_error(lineno, id, why);
  json_decref(rq);
  return rc;
}

static int load_policy(const char *path, vigil_policy **p) {
  vigil_error e;
  int rc = path ? vigil_policy_load_file(path, p, &e) : vigil_policy_load_default(p, &e);
  if (rc) cli_error("%s", e.message);
  return rc;
}

static int run_decide(const char *policy_path, int trace, const char *input) {
  vigil_policy *p;
  if (load_policy(policy_path, &p)) return CLI_USAGE;
  FILE *f = !input || !strcmp(input, "-") ? stdin : fopen(input, "r");
  if (!f) {
    cli_error("%s: cannot open", input);
    vigil_policy_free(p);
    return CLI_USAGE;
  }
  size_t tracecap = 16384;
  char *tracebuf = malloc(tracecap), *line = NULL;
  size_t cap = 0;
  ssize_t n;
  long lineno = 0, bad = 0;
  while (tracebuf && (n = getline(&line, &cap, f)) >= 0) {
    lineno++;
    size_t len = (size_t)n;
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
    if (i == len) continue; /* blank line */
    if (len > MAX_LINE_BYTES) {
      print_error(lineno, NULL, "request line longer than 1 MiB");
      bad++;
      continue;
    }
    if (decide_line(p, line, len, lineno, trace, tracebuf, tracecap)) bad++;
  }
  if (!tracebuf) cli_error("out of memory");
  fflush(stdout);
  free(line);
  free(tracebuf);
  if (f != stdin) fclose(f);
  vigil_policy_free(p);
  if (bad) cli_error("%ld of the requests were invalid", bad);
  return !tracebuf ? CLI_USAGE : bad ? CLI_PARTIAL : CLI_OK;
}

static int run_check(int argc, char **argv, int first) {
  if (first >= argc) {
    cli_error("policy check: give a policy file");
    return CLI_USAGE;
  }
  int bad = 0;
  for (int i = first; i < argc; i++) {
    vigil_policy *p;
    vigil_error e;
    if (vigil_policy_load_file(argv[i], &p, &e)) {
      fprintf(stderr, "%s\n", e.message);
      bad++;
      continue;
    }
    printf("%s: ok (%zu rules, %zu citations)\n", argv[i], vigil_policy_rule_count(p), vigil_policy_source_count(p));
    vigil_policy_free(p);
  }
  return bad ? CLI_PARTIAL : CLI_OK;
}

/* ---- show -------------------------------------------------------------- */

/* The text of one decision cell as docs/policy.md writes it:
 * "deny · rule", "allow+cond+cond · rule", "quiet · rule" (allowed outside
 * the target's quiet hours, held inside). */
static void cell_text(const vigil_policy *p, int act, int ab, int tb, int rel, char *out, size_t cap) {
  vigil_policy_account a, t;
  vigil_policy_account_init(&a);
  vigil_policy_account_init(&t);
  a.band = (uint8_t)ab;
  t.band = (uint8_t)tb;
  static const unsigned flags_of_rel[VIGIL_REL_COUNT] = {
      0, VIGIL_RELF_ACTOR_FOLLOWS, VIGIL_RELF_TARGET_FOLLOWS, VIGIL_RELF_ACTOR_FOLLOWS | VIGIL_RELF_TARGET_FOLLOWS,
      VIGIL_RELF_KNOWN_IRL, VIGIL_RELF_BLOCKED};
  vigil_policy_request r = {act, &a, &t, flags_of_rel[rel], 12 * 60};
  vigil_policy_decision day, night;
  vigil_policy_decide(p, &r, &day);
  r.local_minute = 23 * 60 + 30;
  vigil_policy_decide(p, &r, &night);
  size_t n = 0;
  if (day.outcome != VIGIL_POLICY_DENY && night.outcome == VIGIL_POLICY_DENY &&
      !strcmp(night.reasons[night.nreasons - 1], "quiet_hours"))
    n = (size_t)snprintf(out, cap, "quiet");
  else n = (size_t)snprintf(out, cap, "%s", day.outcome == VIGIL_POLICY_DENY ? "deny" : "allow");
  for (int i = 0; i < VIGIL_COND_COUNT && n < cap; i++)
    if (day.conditions & (1u << i)) n += (size_t)snprintf(out + n, cap - n, "+%s", vigil_condition_name(1u << i));
  if (n < cap) snprintf(out + n, cap - n, " · %s", day.reasons[0]);
}

static void show_markdown(const vigil_policy *p) {
  printf("| action | actor | target |");
  for (int r = 0; r < VIGIL_REL_COUNT; r++) printf(" %s |", vigil_rel_name(r));
  printf("\n|---|---|---|");
  for (int r = 0; r < VIGIL_REL_COUNT; r++) printf("---|");
  printf("\n");
  char cells[VIGIL_BAND_COUNT][VIGIL_REL_COUNT][128];
  for (int act = 0; act < VIGIL_ACT_COUNT; act++)
    for (int tb = 0; tb < VIGIL_BAND_COUNT; tb++) {
      memset(cells, 0, sizeof cells); /* rows are compared whole with memcmp */
      for (int ab = 0; ab < VIGIL_BAND_COUNT; ab++)
        for (int r = 0; r < VIGIL_REL_COUNT; r++) cell_text(p, act, ab, tb, r, cells[ab][r], sizeof cells[ab][r]);
      /* One line per group of actor bands whose decisions are identical. */
      int done[VIGIL_BAND_COUNT] = {0};
      for (int ab = 0; ab < VIGIL_BAND_COUNT; ab++) {
        if (done[ab]) continue;
        printf("| %s | %s", vigil_action_name(act), vigil_band_name(ab));
        for (int ob = ab + 1; ob < VIGIL_BAND_COUNT; ob++)
          if (!done[ob] && !memcmp(cells[ab], cells[ob], sizeof cells[ab])) {
            done[ob] = 1;
            printf(", %s", vigil_band_name(ob));
          }
        printf(" | %s |", vigil_band_name(tb));
        for (int r = 0; r < VIGIL_REL_COUNT; r++) printf(" %s |", cells[ab][r]);
        printf("\n");
      }
    }
}

static void show_table(const vigil_policy *p) {
  printf("SETTINGS (default / loosest alone / loosest with a parent)\n");
  printf("%-13s", "setting");
  for (int b = 0; b < VIGIL_BAND_COUNT; b++) printf(" %-30s", vigil_band_name(b));
  printf("\n");
  for (int s = 0; s < VIGIL_SET_COUNT; s++) {
    printf("%-13s", vigil_setting_name(s));
    for (int b = 0; b < VIGIL_BAND_COUNT; b++) {
      vigil_policy_setting_row row;
      vigil_policy_setting(p, s, b, &row);
      char cell[64];
      snprintf(cell, sizeof cell, "%s/%s/%s", vigil_audience_name(row.def), vigil_audience_name(row.self_limit),
               vigil_audience_name(row.parent_limit));
      printf(" %-30s", cell);
    }
    printf("\n");
  }
  printf("\nQUIET HOURS (recipient's local time)\n");
  for (int b = 0; b < VIGIL_BAND_COUNT; b++) {
    int st, en;
    vigil_policy_quiet(p, b, &st, &en);
    if (st == en) printf("%-8s none\n", vigil_band_name(b));
    else printf("%-8s %02d:%02d-%02d:%02d\n", vigil_band_name(b), st / 60, st % 60, en / 60, en % 60);
  }
  printf("\nRULES (first match wins)\n");
  for (size_t i = 0; i < vigil_policy_rule_count(p); i++) {
    const char *id, *src, *sent;
    int line;
    vigil_policy_rule_info(p, i, &id, &src, &sent, &line);
    printf("%3zu %-22s line %-4d %s [%s]\n", i + 1, id, line, sent, src);
  }
  printf("\nCITATIONS\n");
  for (size_t i = 0; i < vigil_policy_source_count(p); i++) {
    const char *id, *text;
    vigil_policy_source_info(p, i, &id, &text);
    printf("%-11s %s\n", id, text);
  }
}

int cmd_policy(int argc, char **argv) {
  enum { OPT_POLICY = 256, OPT_TRACE, OPT_FORMAT };
  static const struct option longopts[] = {{"policy", required_argument, 0, OPT_POLICY},
                                           {"trace", no_argument, 0, OPT_TRACE},
                                           {"format", required_argument, 0, OPT_FORMAT},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  if (argc < 2) {
    fputs(policy_help, stderr);
    return CLI_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(policy_help, stdout);
    return CLI_OK;
  }
  const char *sub = argv[1], *policy_path = NULL, *format = "table";
  int trace = 0, c;
  optind = 1;
  while ((c = getopt_long(argc - 1, argv + 1, "h", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_POLICY: policy_path = optarg; break;
    case OPT_TRACE: trace = 1; break;
    case OPT_FORMAT: format = optarg; break;
    case 'h': fputs(policy_help, stdout); return CLI_OK;
    default: fputs(policy_help, stderr); return CLI_USAGE;
    }
  }
  int first = optind + 1; /* index into argv */
  if (!strcmp(sub, "decide")) {
    if (argc - first > 1) {
      cli_error("policy decide: give at most one input file");
      return CLI_USAGE;
    }
    return run_decide(policy_path, trace, first < argc ? argv[first] : NULL);
  }
  if (!strcmp(sub, "check")) return run_check(argc, argv, first);
  if (!strcmp(sub, "show")) {
    if (strcmp(format, "table") && strcmp(format, "markdown") && strcmp(format, "text")) {
      cli_error("--format: expected table, markdown or text, got '%s'", format);
      return CLI_USAGE;
    }
    if (!strcmp(format, "text")) {
      if (policy_path) {
        cli_error("--format text prints the shipped default; edit a copy and pass it with --policy");
        return CLI_USAGE;
      }
      fputs(vigil_policy_default_text(), stdout);
      return CLI_OK;
    }
    vigil_policy *p;
    if (load_policy(policy_path, &p)) return CLI_USAGE;
    if (!strcmp(format, "markdown")) show_markdown(p);
    else show_table(p);
    vigil_policy_free(p);
    return CLI_OK;
  }
  cli_error("policy: unknown subcommand '%s' (decide, check, show)", sub);
  return CLI_USAGE;
}
