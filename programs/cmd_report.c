/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_report.c - `vigil report export`: a CyberTipline report of one or
 * more confirmed cases (one uploader), validated against the schema and
 * written with the cases' evidence into a new directory for manual
 * filing.  Works on the service database directly, like `vigil keys`,
 * and like the API's export records the report, holds every case for a
 * year and audits it (as the operating-system user) in one transaction.
 */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/report.h"
#include "vigil/server.h"

static const char report_help[] =
    "usage: vigil report export CASE_ID... --out DIR --config FILE [--evidence-dir DIR]\n"
    "                          [--viewed] [--db LOC]\n"
    "\n"
    "Writes a CyberTipline report of confirmed review cases (all of one uploader) for\n"
    "manual filing: DIR (new, mode 0700) receives report.xml, validated against the\n"
    "CyberTipline schema named in FILE first, each case's kept evidence and\n"
    "manifest.json.  A report that does not validate is refused with the schema's\n"
    "message and nothing is written.  The report is recorded with the cases, which\n"
    "are held for a year (preservation), and the audit log names the user.\n"
    "\n"
    "options:\n"
    "  --out DIR           the directory to create\n"
    "  --config FILE       the report configuration with its \"ncmec\" section\n"
    "  --evidence-dir DIR  where vigil serve keeps evidence (--evidence-dir of serve)\n"
    "  --viewed            a person at the provider viewed the files (fileViewedByEsp)\n"
    "  --db LOC            service database (default $VIGIL_DB, else ./vigil.db)\n"
    "  -h, --help          this text\n";

int cmd_report(int argc, char **argv) {
  enum { OPT_DB = 256, OPT_OUT, OPT_CONFIG, OPT_EVIDENCE, OPT_VIEWED };
  static const struct option longopts[] = {
      {"db", required_argument, 0, OPT_DB},           {"out", required_argument, 0, OPT_OUT},
      {"config", required_argument, 0, OPT_CONFIG},   {"evidence-dir", required_argument, 0, OPT_EVIDENCE},
      {"viewed", no_argument, 0, OPT_VIEWED},         {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  const char *db = cli_default_db(), *out = NULL, *config = NULL, *evidence = NULL;
  /* --db may come before the subcommand too, as with vigil bank and vigil keys */
  argc = cli_db_before_sub(argc, argv, &db);
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(report_help, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_USAGE : CLI_OK;
  }
  if (strcmp(argv[1], "export")) {
    cli_error("report: unknown subcommand '%s' (export)", argv[1]);
    return CLI_USAGE;
  }
  int viewed = 0, c;
  optind = 1;
  while ((c = getopt_long(argc - 1, argv + 1, "h", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_DB: db = optarg; break;
    case OPT_OUT: out = optarg; break;
    case OPT_CONFIG: config = optarg; break;
    case OPT_EVIDENCE: evidence = optarg; break;
    case OPT_VIEWED: viewed = 1; break;
    case 'h': fputs(report_help, stdout); return CLI_OK;
    default: fputs(report_help, stderr); return CLI_USAGE;
    }
  }
  int nargs = argc - 1 - optind;
  char **args = argv + 1 + optind;
  if (!out || !config || nargs < 1) {
    cli_error("report export: needs case ids, --out and --config");
    return CLI_USAGE;
  }
  if (cli_store_missing(db)) return CLI_USAGE; /* a typo in --db is not an empty store */
  json_t *cases = json_array();
  if (!cases) return CLI_USAGE;
  vigil_server_store *st;
  vigil_error err;
  if (vigil_server_store_open(&st, db, &err)) {
    cli_error("%s", err.message);
    json_decref(cases);
    return CLI_USAGE;
  }
  if (vigil_server_store_set_actor(st, cli_actor(), &err)) {
    cli_error("%s", err.message);
    vigil_server_store_close(st);
    json_decref(cases);
    return CLI_USAGE;
  }
  int64_t *ids = calloc((size_t)nargs, sizeof *ids);
  int rc = ids ? CLI_OK : CLI_USAGE;
  for (int i = 0; i < nargs && rc == CLI_OK; i++) {
    long id = cli_parse_long("case id", args[i], 1, 1L << 62);
    char *js = NULL;
    if (id < 0) rc = CLI_USAGE;
    else if (vigil_case_get_json(st, id, &js, &err)) {
      cli_error("case %ld: %s", id, err.message);
      rc = CLI_USAGE;
    } else {
      ids[i] = id;
      json_t *o = json_loads(js, 0, NULL);
      if (!o || json_array_append_new(cases, o)) rc = CLI_USAGE;
    }
    free(js);
  }
  char *cj = rc == CLI_OK ? json_dumps(cases, JSON_COMPACT) : NULL;
  json_decref(cases);
  if (rc == CLI_OK && !cj) rc = CLI_USAGE;
  char *xml = NULL;
  int64_t held = 0;
  if (rc != CLI_OK) {
    /* nothing exported */
  } else if (vigil_tipline_export(config, cj, evidence, viewed, out, &xml, &err)) {
    cli_error("%s", err.message);
    rc = CLI_PARTIAL;
  } else if (vigil_case_report_exported(st, ids, (size_t)nargs, out, xml, &held, &err)) {
    /* the files are written; say that they are neither recorded nor held */
    cli_error("%s: report written but not recorded, and the cases are not held: %s", out, err.message);
    rc = CLI_PARTIAL;
  } else {
    char when[32];
    cli_time_ms((int64_t)held * 1000, when, sizeof when);
    printf("%s/report.xml\n", out);
    fprintf(stderr,
            "vigil: report of %d case%s written to %s (validated), held until %s; file it at the CyberTipline\n", nargs,
            nargs > 1 ? "s" : "", out, when);
  }
  vigil_server_store_close(st);
  free(ids);
  free(xml);
  free(cj);
  return rc;
}
