/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_hooks.c - `vigil hooks create|list|delete` (webhook subscriptions)
 * and `vigil outbox list|retry` (deliveries and dead letters), working
 * directly on the service database like `vigil keys`: the server need not
 * be running, and a running one picks changes up at its next poll.
 */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/report.h"

static const char hooks_help[] =
    "usage: vigil hooks create --url URL --events LIST [--db LOC] [--format text|json]\n"
    "       vigil hooks list [--db LOC] [--format text|json]\n"
    "       vigil hooks delete ID [--db LOC]\n"
    "       vigil outbox list [--state STATE] [--after ID] [--limit N] [--db LOC] [--format text|json]\n"
    "       vigil outbox retry ID [--db LOC]\n"
    "\n"
    "Webhook subscriptions of `vigil serve` and its outbox of deliveries.\n"
    "Events: match, case.opened, case.decided, bank.changed (comma-separated,\n"
    "or * for all).  `hooks create` prints the signing secret once.  `outbox\n"
    "retry` puts a dead delivery back to pending.\n"
    "\n"
    "options:\n"
    "  --db LOC       service database: a SQLite file or a postgresql:// URI\n"
    "                 (default $VIGIL_DB, else ./vigil.db)\n"
    "  --url URL      http:// or https:// URL to POST events to\n"
    "  --events LIST  events to send\n"
    "  --state S      pending, sending, done or dead\n"
    "  --after ID     list deliveries after this id\n"
    "  --limit N      at most N deliveries (default 100, at most 1000)\n"
    "  --format F     text (default) or json (one object per line)\n"
    "  -h, --help     this text\n";

static void print_json(json_t *o) {
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  if (s) puts(s);
  free(s);
  json_decref(o);
}

static int hooks_run(vigil_report_db *db, const char *sub, int nargs, char **args, const char *url, const char *events,
                     int json) {
  vigil_error err;
  vigil_error_clear(&err);
  if (!strcmp(sub, "create")) {
    if (nargs || !url || !events) {
      cli_error("hooks create: needs --url and --events");
      return CLI_USAGE;
    }
    unsigned bits = 0;
    if (!strcmp(events, "*")) bits = VIGIL_EVENT_ALL;
    else {
      char buf[256];
      snprintf(buf, sizeof buf, "%s", events);
      for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        unsigned b = vigil_event_parse(t);
        if (!b) {
          cli_error("hooks create: unknown event '%s' (match, case.opened, case.decided, bank.changed)", t);
          return CLI_USAGE;
        }
        bits |= b;
      }
    }
    char secret[VIGIL_HOOK_SECRET_MAX];
    vigil_hook_info h;
    if (vigil_hook_create(db, url, bits, secret, &h, &err)) {
      cli_error("%s", err.message);
      return CLI_PARTIAL;
    }
    if (json) print_json(json_pack("{s:s, s:s, s:s}", "id", h.id, "url", h.url, "secret", secret));
    else {
      puts(secret);
      fprintf(stderr, "vigil: created webhook %s; its secret is shown only this once\n", h.id);
    }
    memset(secret, 0, sizeof secret);
    if (fflush(stdout) != 0 || ferror(stdout)) {
      cli_error("could not write the secret; delete webhook %s and create another", h.id);
      return CLI_PARTIAL;
    }
    return CLI_OK;
  }
  if (!strcmp(sub, "delete")) {
    if (nargs != 1) {
      cli_error("hooks delete: expected one ID");
      return CLI_USAGE;
    }
    if (vigil_hook_delete(db, args[0], &err)) {
      cli_error("%s", err.message);
      return CLI_PARTIAL;
    }
    printf("deleted %s\n", args[0]);
    return CLI_OK;
  }
  if (!strcmp(sub, "list") && !nargs) {
    vigil_hook_info *h;
    size_t n;
    if (vigil_hook_list(db, &h, &n, &err)) {
      cli_error("%s", err.message);
      return CLI_PARTIAL;
    }
    if (!json) printf("%-15s  %-40s  %s\n", "ID", "EVENTS", "URL");
    for (size_t i = 0; i < n; i++) {
      char ev[96] = "";
      for (unsigned b = 1; b <= VIGIL_EVENT_ALL; b <<= 1)
        if (h[i].events & b) snprintf(ev + strlen(ev), sizeof ev - strlen(ev), "%s%s", ev[0] ? "," : "", vigil_event_name(b));
      char at[32];
      if (json) print_json(json_pack("{s:s, s:s, s:s, s:s}", "id", h[i].id, "url", h[i].url, "events", ev, "created_at",
                                     cli_time_ms((int64_t)h[i].created_at * 1000, at, sizeof at)));
      else printf("%-15s  %-40s  %s\n", h[i].id, ev, h[i].url);
    }
    free(h);
    return CLI_OK;
  }
  cli_error("hooks: unknown subcommand or arguments '%s' (create, list or delete)", sub);
  return CLI_USAGE;
}

static int outbox_run(vigil_report_db *db, const char *sub, int nargs, char **args, const char *state, long after,
                      long limit, int json) {
  vigil_error err;
  vigil_error_clear(&err);
  if (!strcmp(sub, "retry")) {
    long id;
    if (nargs != 1 || (id = cli_parse_long("retry", args[0], 1, 1L << 62)) < 0) {
      cli_error("outbox retry: expected one delivery id");
      return CLI_USAGE;
    }
    if (vigil_delivery_retry(db, id, &err)) {
      cli_error("%s", err.message);
      return CLI_PARTIAL;
    }
    printf("delivery %ld is pending again\n", id);
    return CLI_OK;
  }
  if (!strcmp(sub, "list") && !nargs) {
    vigil_delivery_info *d;
    size_t n;
    if (vigil_delivery_list(db, state, after, (int)limit, &d, &n, &err)) {
      cli_error("%s", err.message);
      return CLI_PARTIAL;
    }
    if (!json) printf("%-8s  %-8s  %-13s  %-8s  %-15s  %s\n", "ID", "STATE", "EVENT", "ATTEMPTS", "TARGET", "LAST ERROR");
    for (size_t i = 0; i < n; i++) {
      char next[32];
      if (json)
        print_json(json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "id", (json_int_t)d[i].id, "kind", d[i].kind,
                             "target", d[i].target, "event", d[i].event, "key", d[i].key, "state", d[i].state,
                             "attempts", d[i].attempts, "next_at", cli_time_ms(d[i].next_at_ms, next, sizeof next),
                             "last_error", d[i].last_error));
      else
        printf("%-8lld  %-8s  %-13s  %-8d  %-15s  %s\n", (long long)d[i].id, d[i].state, d[i].event, d[i].attempts,
               d[i].target, d[i].last_error);
    }
    free(d);
    return CLI_OK;
  }
  cli_error("outbox: unknown subcommand or arguments '%s' (list or retry)", sub);
  return CLI_USAGE;
}

/* Both commands: argv[0] is "hooks" or "outbox". */
int cmd_hooks(int argc, char **argv) {
  enum { OPT_DB = 256, OPT_URL, OPT_EVENTS, OPT_STATE, OPT_AFTER, OPT_LIMIT, OPT_JSON, OPT_FORMAT };
  static const struct option longopts[] = {{"db", required_argument, 0, OPT_DB},
                                           {"url", required_argument, 0, OPT_URL},
                                           {"events", required_argument, 0, OPT_EVENTS},
                                           {"state", required_argument, 0, OPT_STATE},
                                           {"after", required_argument, 0, OPT_AFTER},
                                           {"limit", required_argument, 0, OPT_LIMIT},
                                           {"json", no_argument, 0, OPT_JSON},
                                           {"format", required_argument, 0, OPT_FORMAT},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  int outbox = !strcmp(argv[0], "outbox");
  const char *dbloc = cli_default_db();
  /* --db may come before the subcommand too, as with vigil bank and vigil keys */
  argc = cli_db_before_sub(argc, argv, &dbloc);
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(hooks_help, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_USAGE : CLI_OK;
  }
  const char *sub = argv[1], *url = NULL, *events = NULL, *state = NULL;
  long after = 0, limit = 100;
  int json = 0, c;
  optind = 1;
  while ((c = getopt_long(argc - 1, argv + 1, "h", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_DB: dbloc = optarg; break;
    case OPT_URL: url = optarg; break;
    case OPT_EVENTS: events = optarg; break;
    case OPT_STATE: state = optarg; break;
    case OPT_AFTER:
      if ((after = cli_parse_long("--after", optarg, 0, 1L << 62)) < 0) return CLI_USAGE;
      break;
    case OPT_LIMIT:
      if ((limit = cli_parse_long("--limit", optarg, 1, 1000)) < 0) return CLI_USAGE;
      break;
    case OPT_JSON: /* the old spelling, refused so no script is left on a flag that drifts */
      cli_error("--json is no longer read: use --format json (the one output flag of every command)");
      return CLI_USAGE;
    case OPT_FORMAT:
      if (!strcmp(optarg, "json") || !strcmp(optarg, "text")) json = optarg[0] == 'j';
      else {
        cli_error("--format: expected text or json, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    case 'h': fputs(hooks_help, stdout); return CLI_OK;
    default: fputs(hooks_help, stderr); return CLI_USAGE;
    }
  }
  if (state && strcmp(state, "pending") && strcmp(state, "sending") && strcmp(state, "done") && strcmp(state, "dead")) {
    cli_error("--state: expected pending, sending, done or dead");
    return CLI_USAGE;
  }
  if (cli_store_missing(dbloc)) return CLI_USAGE; /* a typo in --db is not an empty store */
  vigil_report_db *db;
  vigil_error err;
  if (vigil_report_db_open(&db, dbloc, &err)) {
    cli_error("%s", err.message);
    return CLI_USAGE;
  }
  int nargs = argc - 1 - optind;
  char **args = argv + 1 + optind;
  int rc = outbox ? outbox_run(db, sub, nargs, args, state, after, limit, json)
                  : hooks_run(db, sub, nargs, args, url, events, json);
  vigil_report_db_close(db);
  return rc;
}
