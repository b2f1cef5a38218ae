/*
 * cmd_text.c - `vigil text scan` and `vigil text contacts`: text signals
 * over JSON Lines.
 *
 * One JSON object per input line; one result per record on stdout, in
 * input order.  The text of a record is "text" (or "message"), or "title"
 * and "body" joined by a newline (ads); spans in the output name the field
 * they fall in and byte offsets within that field's UTF-8 value, plus the
 * evidence excerpt itself.  A bad record (not JSON, not an object, no text
 * field) is reported on stderr as FILE:LINE and, with --format json, as an
 * {"line":N,"error":...} result; the batch goes on and the exit status
 * is 1.  The ad rule database is compiled once per run.
 */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/text.h"

static const char text_help[] =
    "usage: vigil text scan [--kind ad|message] [--format json|tsv] FILE.jsonl|-\n"
    "       vigil text contacts [--format json|tsv] FILE.jsonl|-\n"
    "\n"
    "Text signals for each JSON record of the input (one object per line).  The\n"
    "text is the record's \"text\" or \"message\" field, or \"title\" + newline +\n"
    "\"body\".  \"id\" is copied to the output when present.\n"
    "\n"
    "  scan      contacts, stated ages and normalisation flags; with --kind ad\n"
    "            (default) also the trafficking-ad indicators with evidence\n"
    "            spans and a risk score 0..1 (see docs/text.md)\n"
    "  contacts  phones (E.164), e-mails, social handles and URLs only\n"
    "\n"
    "options:\n"
    "  --kind ad|message   what the records are (scan only; default ad)\n"
    "  --format json|tsv   json (default): one object per line;\n"
    "                      tsv: line, id, risk, families, contacts\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 all records processed, 1 some were bad (reported on stderr\n"
    "with their line numbers), 2 usage or unreadable input.\n";

typedef struct opts {
  int contacts_only, ad, json;
} opts;

typedef struct record {
  const char *title; /* NULL when the record has a single text field */
  size_t title_len;
  const char *field2_name;
  char *buf; /* the scanned text */
  size_t len;
} record;

/* Field name and offset within it of original offset `at`. */
static const char *where(const record *r, size_t at, size_t *off) {
  if (r->title) {
    if (at <= r->title_len) {
      *off = at;
      return "title";
    }
    *off = at - r->title_len - 1;
    return "body";
  }
  *off = at;
  return r->field2_name;
}

static void put_span(json_t *o, const record *r, vigil_span sp) {
  size_t a, b;
  const char *f = where(r, sp.start, &a);
  const char *g = where(r, sp.end > sp.start ? sp.end - 1 : sp.start, &b);
  size_t end = strcmp(f, g) ? (r->title && !strcmp(f, "title") ? r->title_len : a) : (sp.end > sp.start ? b + 1 : a);
  json_object_set_new(o, "field", json_string(f));
  json_object_set_new(o, "start", json_integer((json_int_t)a));
  json_object_set_new(o, "end", json_integer((json_int_t)end));
  json_t *ex = json_stringn(r->buf + sp.start, sp.end - sp.start);
  if (ex) json_object_set_new(o, "text", ex); /* absent when the bytes are not valid UTF-8 */
}

static json_t *contacts_json(const vigil_contacts *c, const record *r) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < c->n; i++) {
    const vigil_contact *x = &c->v[i];
    json_t *o = json_object();
    if (!o) break;
    json_object_set_new(o, "type", json_string(vigil_contact_type_name(x->type)));
    json_object_set_new(o, "value", json_string(x->value));
    if (x->type == VIGIL_CONTACT_PHONE) {
      json_object_set_new(o, "digits", json_string(x->digits));
      json_object_set_new(o, "e164", json_boolean(x->e164_valid));
    }
    if (x->platform[0]) json_object_set_new(o, "platform", json_string(x->platform));
    json_object_set_new(o, "obfuscated", json_boolean(x->obfuscated));
    put_span(o, r, x->span);
    json_array_append_new(a, o);
  }
  return a;
}

static json_t *result_json(const opts *op, const vigil_text *t, const vigil_ad_result *res, const record *r) {
  json_t *o = json_object();
  if (!o) return NULL;
  json_object_set_new(o, "contacts", contacts_json(&res->contacts, r));
  if (op->contacts_only) return o;
  json_t *ages = json_array();
  for (size_t i = 0; ages && i < res->ages.n; i++) {
    json_t *a = json_object();
    json_object_set_new(a, "years", json_integer(res->ages.v[i].years));
    put_span(a, r, res->ages.v[i].span);
    json_array_append_new(ages, a);
  }
  json_object_set_new(o, "ages", ages);
  if (res->min_age >= 0) json_object_set_new(o, "min_age", json_integer(res->min_age));
  json_t *fl = json_array();
  if (t->flags & VIGIL_TEXT_REPLACED) json_array_append_new(fl, json_string("invalid_utf8"));
  if (t->flags & VIGIL_TEXT_LOOKALIKE) json_array_append_new(fl, json_string("lookalike_letters"));
  if (t->flags & VIGIL_TEXT_ODD_DIGITS) json_array_append_new(fl, json_string("lookalike_digits"));
  if (t->flags & VIGIL_TEXT_LEET) json_array_append_new(fl, json_string("leetspeak"));
  json_object_set_new(o, "normalisation", fl);
  if (!op->ad) return o;
  json_object_set_new(o, "risk", json_real((double)(long)(res->risk * 1000 + 0.5) / 1000));
  json_t *fam = json_array(), *hits = json_array();
  for (int f = 0; f < VIGIL_AD_NFAMILIES; f++)
    if (res->fired & (1u << f)) json_array_append_new(fam, json_string(vigil_ad_family_name(f)));
  for (size_t i = 0; hits && i < res->nhits; i++) {
    json_t *h = json_object();
    json_object_set_new(h, "family", json_string(vigil_ad_family_name(res->hits[i].family)));
    const char *rule = vigil_ad_rule_text(res->hits[i].rule);
    json_object_set_new(h, "rule", json_string(rule ? rule : res->hits[i].family == VIGIL_AD_OBSCURED_CONTACT ? "obfuscated phone"
                                                          : res->hits[i].family == VIGIL_AD_MINOR ? "stated age under 18"
                                                                                                 : "stated age"));
    put_span(h, r, res->hits[i].span);
    json_array_append_new(hits, h);
  }
  json_object_set_new(o, "families", fam);
  json_object_set_new(o, "indicators", hits);
  return o;
}

static void print_tsv(const opts *op, long line, const char *id, const vigil_ad_result *res) {
  printf("%ld\t%s\t", line, id ? id : "");
  if (!op->contacts_only && op->ad) printf("%.3f", res->risk);
  putchar('\t');
  int first = 1;
  for (int f = 0; !op->contacts_only && f < VIGIL_AD_NFAMILIES; f++)
    if (res->fired & (1u << f)) {
      printf("%s%s", first ? "" : ",", vigil_ad_family_name(f));
      first = 0;
    }
  putchar('\t');
  for (size_t i = 0; i < res->contacts.n; i++)
    printf("%s%s:%s", i ? "," : "", vigil_contact_type_name(res->contacts.v[i].type), res->contacts.v[i].value);
  putchar('\n');
}

static void bad_record(const opts *op, const char *file, long line, const char *msg) {
  cli_error("%s:%ld: %s", file, line, msg);
  if (op->json) {
    json_t *o = json_pack("{s:I, s:{s:s}}", "line", (json_int_t)line, "error", "message", msg);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (s) puts(s);
    free(s);
    json_decref(o);
  }
}

/* Builds the text of record o; returns an error message or NULL. */
static const char *get_text(json_t *o, record *r) {
  memset(r, 0, sizeof *r);
  if (!json_is_object(o)) return "record is not a JSON object";
  static const char *const single[] = {"text", "message", "body"};
  json_t *ti = json_object_get(o, "title"), *bo = json_object_get(o, "body");
  if (json_is_string(ti) && json_is_string(bo)) {
    size_t a = json_string_length(ti), b = json_string_length(bo);
    if (!(r->buf = malloc(a + b + 2))) return "out of memory";
    memcpy(r->buf, json_string_value(ti), a);
    r->buf[a] = '\n';
    memcpy(r->buf + a + 1, json_string_value(bo), b);
    r->len = a + b + 1;
    r->buf[r->len] = 0;
    r->title = r->buf;
    r->title_len = a;
    return NULL;
  }
  for (size_t i = 0; i < sizeof single / sizeof single[0]; i++) {
    json_t *v = json_object_get(o, single[i]);
    if (!json_is_string(v)) continue;
    size_t n = json_string_length(v);
    if (!(r->buf = malloc(n + 1))) return "out of memory";
    memcpy(r->buf, json_string_value(v), n + 1);
    r->len = n;
    r->field2_name = single[i];
    return NULL;
  }
  return "record has no \"text\", \"message\" or \"title\"/\"body\" string field";
}

static int run_file(const opts *op, const char *path, vigil_ad_scanner *sc, vigil_ad_scratch *scr, long *bad) {
  FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
  if (!f) {
    cli_error("%s: cannot open", path);
    return -1;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t got;
  long lineno = 0;
  vigil_text t;
  vigil_text_init(&t);
  vigil_ad_result res;
  vigil_ad_result_init(&res);
  while ((got = getline(&line, &cap, f)) >= 0) {
    lineno++;
    size_t n = (size_t)got;
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    if (n == 0) continue;
    json_error_t je;
    json_t *o = json_loadb(line, n, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
      char msg[300];
      snprintf(msg, sizeof msg, "malformed JSON: %s", je.text);
      bad_record(op, path, lineno, msg);
      (*bad)++;
      continue;
    }
    record r;
    const char *msg = get_text(o, &r);
    vigil_error err;
    vigil_error_clear(&err);
    int rc = VIGIL_OK;
    if (!msg) {
      rc = vigil_text_normalize(&t, r.buf, r.len, 0, &err);
      if (rc == VIGIL_OK && !op->contacts_only && op->ad) rc = vigil_ad_scan(sc, scr, &t, &res, &err);
      else if (rc == VIGIL_OK) {
        res.contacts.n = res.ages.n = res.nhits = 0;
        res.min_age = -1;
        res.fired = 0;
        rc = vigil_contacts_extract(&t, &res.contacts, &err);
        if (rc == VIGIL_OK && !op->contacts_only) {
          rc = vigil_ages_extract(&t, &res.ages, &err);
          for (size_t i = 0; i < res.ages.n; i++)
            if (res.min_age < 0 || res.ages.v[i].years < res.min_age) res.min_age = res.ages.v[i].years;
        }
      }
      if (rc != VIGIL_OK) msg = err.message;
    }
    json_t *idv = json_object_get(o, "id");
    if (msg) {
      bad_record(op, path, lineno, msg);
      (*bad)++;
    } else if (op->json) {
      json_t *out = result_json(op, &t, &res, &r);
      if (out) {
        json_object_set_new(out, "line", json_integer(lineno));
        if (idv) json_object_set(out, "id", idv);
        char *s = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
        if (s) puts(s);
        free(s);
        json_decref(out);
      }
    } else {
      print_tsv(op, lineno, json_is_string(idv) ? json_string_value(idv) : NULL, &res);
    }
    free(r.buf);
    json_decref(o);
  }
  free(line);
  vigil_ad_result_free(&res);
  vigil_text_free(&t);
  if (f != stdin) fclose(f);
  return 0;
}

int cmd_text(int argc, char **argv) {
  enum { OPT_KIND = 256, OPT_FORMAT };
  static const struct option longopts[] = {{"kind", required_argument, 0, OPT_KIND},
                                           {"format", required_argument, 0, OPT_FORMAT},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(text_help, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_USAGE : CLI_OK;
  }
  opts op = {0, 1, 1};
  if (!strcmp(argv[1], "contacts")) op.contacts_only = 1;
  else if (strcmp(argv[1], "scan")) {
    cli_error("text: unknown subcommand '%s' (scan or contacts)", argv[1]);
    return CLI_USAGE;
  }
  argc--;
  argv++;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_KIND:
      if (!strcmp(optarg, "ad")) op.ad = 1;
      else if (!strcmp(optarg, "message")) op.ad = 0;
      else {
        cli_error("--kind: expected ad or message, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    case OPT_FORMAT:
      if (!strcmp(optarg, "json")) op.json = 1;
      else if (!strcmp(optarg, "tsv")) op.json = 0;
      else {
        cli_error("--format: expected json or tsv, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    case 'h': fputs(text_help, stdout); return CLI_OK;
    default: fputs(text_help, stderr); return CLI_USAGE;
    }
  }
  if (optind >= argc) {
    cli_error("text: no input (give FILE.jsonl or - for stdin)");
    return CLI_USAGE;
  }
  vigil_ad_scanner *sc = NULL;
  vigil_ad_scratch *scr = NULL;
  vigil_error err;
  if (vigil_ad_scanner_new(&sc, &err) != VIGIL_OK || vigil_ad_scratch_new(sc, &scr, &err) != VIGIL_OK) {
    cli_error("%s", err.message);
    vigil_ad_scanner_free(sc);
    return CLI_USAGE;
  }
  long bad = 0;
  int unreadable = 0;
  for (int i = optind; i < argc; i++)
    if (run_file(&op, argv[i], sc, scr, &bad) != 0) unreadable++;
  fflush(stdout);
  vigil_ad_scratch_free(scr);
  vigil_ad_scanner_free(sc);
  if (unreadable && unreadable == argc - optind) return CLI_USAGE;
  if (bad) cli_error("%ld bad record(s)", bad);
  return bad || unreadable ? CLI_PARTIAL : CLI_OK;
}
