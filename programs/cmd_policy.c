/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_policy.c - `vigil policy`: decide, check and show minor-safety policy.
 *
 *   vigil policy decide [--policy FILE] [--trace] [--format json|text] [FILE|-]
 *       JSON Lines in (one request per line), one decision per line out
 *       (JSON, or a tab-separated line), in input order.  A bad line gets
 *       an {"error":...} line (text: "LINE<tab>error<tab>message") naming
 *       its line number and the rest go on; exit 1 if any line was bad.
 *   vigil policy check [--format text|json] FILE...
 *       validate policy files; errors carry FILE:LINE:COL; exit 1 if any is
 *       invalid.
 *   vigil policy show [--policy FILE] [--format text|json|markdown|file]
 *       the effective policy: settings, quiet hours, rules and citations
 *       (text, or the same as JSON), every action x band x relationship
 *       decision (markdown, as in docs/policy.md), or the default policy
 *       file to start an operator's own from (file).
 *
 * --format takes the names every command uses (text, json) where they
 * apply; "table", show's former name for text, is still read.
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

#include "vigil/policy.h"

static const char policy_help[] =
    "usage: vigil policy decide [--policy FILE] [--trace] [--format json|text] [FILE|-]\n"
    "       vigil policy check [--format text|json] FILE...\n"
    "       vigil policy show [--policy FILE] [--format text|json|markdown|file]\n"
    "\n"
    "Minor-safety policy: may account A do an action to account B?\n"
    "\n"
    "decide   reads requests as JSON Lines (FILE or stdin) and prints one\n"
    "         decision per line: decision (allow, allow_with_conditions, deny),\n"
    "         conditions, reasons (machine codes), sentence, source, rule.\n"
    "check    validates policy files; errors name FILE:LINE:COL.\n"
    "show     prints the effective policy (default: the shipped one).\n"
    "\n"
    "options:\n"
    "  --policy FILE     use FILE instead of the shipped default policy\n"
    "  --trace           add the evaluation trace to every decision\n"
    "  --format F        decide: json (default) or text (line, id, decision,\n"
    "                    conditions, rule, sentence; tab-separated);\n"
    "                    check: text (default) or json (one object per file);\n"
    "                    show: text (default: settings, quiet hours, rules,\n"
    "                    citations), json (the same), markdown (every decision)\n"
    "                    or file (the default policy as a file to edit)\n"
    "  -h, --help        this text\n"
    "\n"
    "Exit status: 0 ok, 1 some requests or files were invalid, 2 usage.\n"
    "See docs/policy.md for the request format and the policy file format.\n";

/* Prints o on one line of stdout and frees it. */
static void put_json(json_t *o) {
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  puts(s ? s : "{\"error\":{\"message\":\"out of memory\"}}");
  free(s);
  json_decref(o);
}

/* A string for a tab-separated line: tabs and newlines become spaces. */
static void put_field(const char *s) {
  for (; s && *s; s++) putchar(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
}

#define MAX_LINE_BYTES (1u << 20)

static void print_error(long line, const char *msg, int text) {
  cli_error("line %ld: %s", line, msg);
  if (text) {
    printf("%ld\terror\t", line);
    put_field(msg);
    putchar('\n');
    return;
  }
  put_json(json_pack("{s:{s:i, s:s}}", "error", "line", (json_int_t)line, "message", msg));
}

/* A decision as a text line: line, id, decision, conditions, rule,
 * sentence.  An answer that is an error object prints as one. */
static void print_decision_text(const char *out, long lineno) {
  json_t *o = json_loads(out, 0, NULL);
  json_t *err = json_object_get(o, "error");
  if (!o || err) {
    printf("%ld\terror\t", lineno);
    put_field(o ? json_string_value(json_object_get(err, "message")) : "unreadable answer");
    putchar('\n');
    json_decref(o);
    return;
  }
  printf("%ld\t", lineno);
  put_field(json_string_value(json_object_get(o, "id")));
  printf("\t%s\t",
         json_string_value(json_object_get(o, "decision")) ? json_string_value(json_object_get(o, "decision")) : "");
  json_t *conds = json_object_get(o, "conditions");
  for (size_t i = 0; i < json_array_size(conds); i++)
    printf("%s%s", i ? "," : "",
           json_string_value(json_array_get(conds, i)) ? json_string_value(json_array_get(conds, i)) : "");
  putchar('\t');
  put_field(json_string_value(json_object_get(json_object_get(o, "rule"), "id")));
  putchar('\t');
  put_field(json_string_value(json_object_get(o, "sentence")));
  putchar('\n');
  json_decref(o);
}

/* One request line; returns 0 or -1 (an error was printed). */
static int decide_line(const vigil_policy *p, const char *line, size_t len, long lineno, int trace, int text) {
  char *out = NULL;
  vigil_error e;
  int rc = vigil_policy_decide_json(p, line, len, trace, lineno, &out, &e);
  if (out && text) print_decision_text(out, lineno);
  else if (out) puts(out);
  else print_error(lineno, e.message, text);
  if (rc && out) cli_error("line %ld: %s", lineno, e.message);
  free(out);
  return rc ? -1 : 0;
}

static int load_policy(const char *path, vigil_policy **p) {
  vigil_error e;
  int rc = path ? vigil_policy_load_file(path, p, &e) : vigil_policy_load_default(p, &e);
  if (rc) cli_error("%s", e.message);
  return rc;
}

/* Reads one line into buf (at most MAX_LINE_BYTES kept); a longer line is
 * consumed to its end and reported through *too_long.  Returns the length,
 * or -1 at end of input. */
static long read_line(FILE *f, char *buf, int *too_long) {
  size_t n = 0;
  int c;
  *too_long = 0;
  while ((c = getc(f)) != EOF && c != '\n') {
    if (n < MAX_LINE_BYTES) buf[n++] = (char)c;
    else *too_long = 1;
  }
  if (c == EOF && n == 0 && !*too_long) return -1;
  return (long)n;
}

static int run_decide(const char *policy_path, int trace, int text, const char *input) {
  vigil_policy *p;
  if (load_policy(policy_path, &p)) return CLI_USAGE;
  FILE *f = !input || !strcmp(input, "-") ? stdin : fopen(input, "r");
  if (!f) {
    cli_error("%s: cannot open", input);
    vigil_policy_free(p);
    return CLI_USAGE;
  }
  char *line = malloc(MAX_LINE_BYTES + 1);
  long lineno = 0, bad = 0, n;
  int too_long;
  while (line && (n = read_line(f, line, &too_long)) >= 0) {
    lineno++;
    size_t len = (size_t)n;
    if (too_long) {
      print_error(lineno, "request line longer than 1 MiB", text);
      bad++;
      continue;
    }
    while (len && line[len - 1] == '\r') len--;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
    if (i == len) continue; /* blank line */
    if (decide_line(p, line, len, lineno, trace, text)) bad++;
  }
  if (!line) cli_error("out of memory");
  fflush(stdout);
  free(line);
  if (f != stdin) fclose(f);
  vigil_policy_free(p);
  if (bad) cli_error("%ld of the requests were invalid", bad);
  return !line ? CLI_USAGE : bad ? CLI_PARTIAL : CLI_OK;
}

static int run_check(int argc, char **argv, int first, int json) {
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
      if (json) put_json(json_pack("{s:s, s:b, s:{s:s}}", "file", argv[i], "ok", 0, "error", "message", e.message));
      bad++;
      continue;
    }
    if (json)
      put_json(json_pack("{s:s, s:b, s:I, s:I}", "file", argv[i], "ok", 1, "rules",
                         (json_int_t)vigil_policy_rule_count(p), "citations",
                         (json_int_t)vigil_policy_source_count(p)));
    else
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
  char cells[VIGIL_BAND_COUNT][VIGIL_REL_COUNT][256];
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

/* What show_table prints, as one JSON object. */
static int show_json(const vigil_policy *p) {
  json_t *o = json_object(), *settings = json_array(), *quiet = json_array(), *rules = json_array(),
         *cites = json_array();
  if (!o || !settings || !quiet || !rules || !cites) goto oom;
  json_object_set_new(o, "settings", settings);
  json_object_set_new(o, "quiet_hours", quiet);
  json_object_set_new(o, "rules", rules);
  json_object_set_new(o, "citations", cites);
  for (int st = 0; st < VIGIL_SET_COUNT; st++)
    for (int b = 0; b < VIGIL_BAND_COUNT; b++) {
      vigil_policy_setting_row row;
      vigil_policy_setting(p, st, b, &row);
      if (json_array_append_new(settings,
                                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "setting", vigil_setting_name(st), "band",
                                          vigil_band_name(b), "default", vigil_audience_name(row.def), "self_limit",
                                          vigil_audience_name(row.self_limit), "parent_limit",
                                          vigil_audience_name(row.parent_limit), "source", row.source)))
        goto oom;
    }
  for (int b = 0; b < VIGIL_BAND_COUNT; b++) {
    int st, en;
    char from[32], to[32];
    vigil_policy_quiet(p, b, &st, &en);
    snprintf(from, sizeof from, "%02d:%02d", st / 60, st % 60);
    snprintf(to, sizeof to, "%02d:%02d", en / 60, en % 60);
    json_t *q = st == en
                    ? json_pack("{s:s, s:n}", "band", vigil_band_name(b), "hours")
                    : json_pack("{s:s, s:{s:s, s:s}}", "band", vigil_band_name(b), "hours", "from", from, "to", to);
    if (json_array_append_new(quiet, q)) goto oom;
  }
  for (size_t i = 0; i < vigil_policy_rule_count(p); i++) {
    const char *id, *src, *sent;
    int line;
    vigil_policy_rule_info(p, i, &id, &src, &sent, &line);
    if (json_array_append_new(
            rules, json_pack("{s:s, s:i, s:s, s:s}", "id", id, "line", line, "sentence", sent, "source", src)))
      goto oom;
  }
  for (size_t i = 0; i < vigil_policy_source_count(p); i++) {
    const char *id, *text;
    vigil_policy_source_info(p, i, &id, &text);
    if (json_array_append_new(cites, json_pack("{s:s, s:s}", "id", id, "text", text))) goto oom;
  }
  put_json(o);
  return 0;
oom:
  json_decref(o);
  if (!o) {
    json_decref(settings);
    json_decref(quiet);
    json_decref(rules);
    json_decref(cites);
  }
  cli_error("out of memory");
  return -1;
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
  const char *sub = argv[1], *policy_path = NULL, *format = NULL;
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
    if (format && strcmp(format, "json") && strcmp(format, "text")) {
      cli_error("--format: expected json or text, got '%s'", format);
      return CLI_USAGE;
    }
    if (argc - first > 1) {
      cli_error("policy decide: give at most one input file");
      return CLI_USAGE;
    }
    return run_decide(policy_path, trace, format && !strcmp(format, "text"), first < argc ? argv[first] : NULL);
  }
  if (!strcmp(sub, "check")) {
    if (format && strcmp(format, "text") && strcmp(format, "json")) {
      cli_error("--format: expected text or json, got '%s'", format);
      return CLI_USAGE;
    }
    return run_check(argc, argv, first, format && !strcmp(format, "json"));
  }
  if (!strcmp(sub, "show")) {
    if (!format || !strcmp(format, "table")) format = "text"; /* "table": the former name */
    if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "markdown") && strcmp(format, "file")) {
      cli_error("--format: expected text, json, markdown or file, got '%s'", format);
      return CLI_USAGE;
    }
    if (!strcmp(format, "file")) {
      if (policy_path) {
        cli_error("--format file prints the shipped default; edit a copy and pass it with --policy");
        return CLI_USAGE;
      }
      fputs(vigil_policy_default_text(), stdout);
      return CLI_OK;
    }
    vigil_policy *p;
    if (load_policy(policy_path, &p)) return CLI_USAGE;
    int rc = 0;
    if (!strcmp(format, "markdown")) show_markdown(p);
    else if (!strcmp(format, "json")) rc = show_json(p);
    else show_table(p);
    vigil_policy_free(p);
    return rc ? CLI_USAGE : CLI_OK;
  }
  cli_error("policy: unknown subcommand '%s' (decide, check, show)", sub);
  return CLI_USAGE;
}
