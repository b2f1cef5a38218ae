/* SPDX-License-Identifier: Apache-2.0 */
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
 * is 1.  The ad rule database is compiled once per run.  --format takes
 * the names every command uses: json, or text (a tab-separated line per
 * record; "tsv", its former name, is still read).
 */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/text.h"

static const char text_help[] =
    "usage: vigil text scan [--kind ad|message] [--format json|text] [--region CC] FILE.jsonl|-\n"
    "       vigil text contacts [--format json|text] [--region CC] FILE.jsonl|-\n"
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
    "  --format json|text  json (default): one object per line;\n"
    "                      text: line, id, risk, families, contacts, tab-separated\n"
    "  --region CC         default country of national phone numbers (GB, DE,\n"
    "                      IN, ...; a record's own \"country\" or \"region\"\n"
    "                      field wins); without it, North American numbers\n"
    "                      and numbers written with + only\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 all records processed, 1 some were bad (reported on stderr\n"
    "with their line numbers), 2 usage or unreadable input.\n";

typedef struct opts {
  int contacts_only, ad, json;
  const char *region;
} opts;

/* One TSV line from a result: line, id, risk, families, contacts. */
static void print_tsv(long line, json_t *res) {
  json_t *id = json_object_get(res, "id"), *risk = json_object_get(res, "risk");
  printf("%ld\t%s\t", line, json_is_string(id) ? json_string_value(id) : "");
  if (risk) printf("%.3f", json_number_value(risk));
  putchar('\t');
  json_t *fam = json_object_get(res, "families"), *c = json_object_get(res, "contacts");
  for (size_t i = 0; i < json_array_size(fam); i++)
    printf("%s%s", i ? "," : "", json_string_value(json_array_get(fam, i)));
  putchar('\t');
  for (size_t i = 0; i < json_array_size(c); i++) {
    json_t *x = json_array_get(c, i);
    printf("%s%s:%s", i ? "," : "", json_string_value(json_object_get(x, "type")),
           json_string_value(json_object_get(x, "value")));
  }
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

static int run_file(const opts *op, const char *path, vigil_ad_scanner *sc, vigil_ad_scratch *scr, long *bad) {
  FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
  if (!f) {
    cli_error("%s: cannot open", path);
    return -1;
  }
  vigil_text_scan_kind kind = op->contacts_only ? VIGIL_SCAN_CONTACTS : op->ad ? VIGIL_SCAN_AD : VIGIL_SCAN_MESSAGE;
  char *line = NULL;
  size_t cap = 0;
  ssize_t got;
  long lineno = 0;
  while ((got = getline(&line, &cap, f)) >= 0) {
    lineno++;
    size_t n = (size_t)got;
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    if (n == 0) continue;
    char *out = NULL;
    vigil_error err;
    vigil_error_clear(&err);
    if (vigil_text_scan_json_region(sc, scr, line, n, kind, op->region, &out, &err) != VIGIL_OK) {
      bad_record(op, path, lineno, err.message);
      (*bad)++;
      continue;
    }
    json_t *res = json_loads(out, 0, NULL);
    free(out);
    if (!res) {
      bad_record(op, path, lineno, "out of memory");
      (*bad)++;
      continue;
    }
    if (op->json) {
      json_object_set_new(res, "line", json_integer(lineno));
      char *s2 = json_dumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
      if (s2) puts(s2);
      free(s2);
    } else {
      print_tsv(lineno, res);
    }
    json_decref(res);
  }
  free(line);
  if (f != stdin) fclose(f);
  return 0;
}

int cmd_text(int argc, char **argv) {
  enum { OPT_KIND = 256, OPT_FORMAT, OPT_REGION };
  static const struct option longopts[] = {{"kind", required_argument, 0, OPT_KIND},
                                           {"format", required_argument, 0, OPT_FORMAT},
                                           {"region", required_argument, 0, OPT_REGION},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(text_help, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_USAGE : CLI_OK;
  }
  opts op = {0, 1, 1, NULL};
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
      else if (!strcmp(optarg, "text") || !strcmp(optarg, "tsv")) op.json = 0;
      else {
        cli_error("--format: expected json or text, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    case OPT_REGION: op.region = optarg; break;
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
  if (op.region && vigil_ad_scratch_set_region(scr, op.region, &err) != VIGIL_OK) { /* checks the code */
    cli_error("--region: %s", err.message);
    vigil_ad_scratch_free(scr);
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
