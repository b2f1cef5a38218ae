/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_keys.c - `vigil keys create|revoke|list`: API keys of the service,
 * managed directly in its database (the server need not be running; a
 * running server sees changes within a second: it caches a verified key
 * for that long).
 */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/server.h"

static const char keys_help[] =
    "usage: vigil keys [--db LOC] create --role ROLE [--name NAME] [--format text|json]\n"
    "       vigil keys [--db LOC] revoke ID\n"
    "       vigil keys [--db LOC] list [--format text|json]\n"
    "\n"
    "Manage the API keys of `vigil serve`.  Roles: admin (banks, keys; allowed\n"
    "everywhere), submitter (hash, match, report), reviewer (cases), auditor\n"
    "(audit log, read-only).  `create` prints the new key once on stdout: only\n"
    "its SHA-256 is stored, so it cannot be shown again.\n"
    "\n"
    "options:\n"
    "  --db LOC      service database: a SQLite file or a postgresql:// URI\n"
    "                (default $VIGIL_DB, else ./vigil.db)\n"
    "  --role ROLE   role of the new key\n"
    "  --name NAME   a label for the key (who or what uses it)\n"
    "  --format F    text (default) or json (one object per line)\n"
    "  -h, --help    this text\n";



int cmd_keys(int argc, char **argv) {
  enum { OPT_DB = 256, OPT_ROLE, OPT_NAME, OPT_JSON, OPT_FORMAT };
  static const struct option longopts[] = {{"db", required_argument, 0, OPT_DB},     {"role", required_argument, 0, OPT_ROLE},
                                           {"name", required_argument, 0, OPT_NAME}, {"json", no_argument, 0, OPT_JSON},
                                           {"format", required_argument, 0, OPT_FORMAT},
                                           {"help", no_argument, 0, 'h'},            {0, 0, 0, 0}};
  const char *db = cli_default_db(), *role = NULL, *name = NULL;
  /* --db may come before the subcommand too, as with vigil bank */
  argc = cli_db_before_sub(argc, argv, &db);
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(keys_help, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_USAGE : CLI_OK;
  }
  const char *sub = argv[1];
  int json = 0, c;
  optind = 1;
  while ((c = getopt_long(argc - 1, argv + 1, "h", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_DB: db = optarg; break;
    case OPT_ROLE: role = optarg; break;
    case OPT_NAME: name = optarg; break;
    case OPT_JSON: /* the old spelling, refused so no script is left on a flag that drifts */
      cli_error("--json is no longer read: use --format json (the one output flag of every command)");
      return CLI_USAGE;
    case OPT_FORMAT:
      if (!strcmp(optarg, "json")) json = 1;
      else if (!strcmp(optarg, "text")) json = 0;
      else {
        cli_error("--format: expected text or json, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    case 'h': fputs(keys_help, stdout); return CLI_OK;
    default: fputs(keys_help, stderr); return CLI_USAGE;
    }
  }
  int nargs = argc - 1 - optind;
  char **args = argv + 1 + optind;
  int is_create = !strcmp(sub, "create"), is_revoke = !strcmp(sub, "revoke"), is_list = !strcmp(sub, "list");
  if (!is_create && !is_revoke && !is_list) {
    cli_error("keys: unknown subcommand '%s' (create, revoke or list)", sub);
    return CLI_USAGE;
  }
  if ((is_revoke && nargs != 1) || (!is_revoke && nargs != 0)) {
    cli_error("keys %s: unexpected arguments", sub);
    fputs(keys_help, stderr);
    return CLI_USAGE;
  }
  vigil_role ro = VIGIL_ROLE_NONE;
  if (is_create && !(ro = vigil_role_parse(role))) {
    cli_error("keys create: --role must be admin, submitter, reviewer or auditor");
    return CLI_USAGE;
  }
  if (!is_create && cli_store_missing(db)) return CLI_USAGE;
  vigil_server_store *st;
  vigil_error err;
  if (vigil_server_store_open(&st, db, &err) != VIGIL_OK) {
    cli_error("%s", err.message);
    return CLI_USAGE;
  }
  /* keys created or revoked here are audited as the service's own are */
  if (vigil_server_store_set_actor(st, cli_actor(), &err) != VIGIL_OK) {
    cli_error("%s", err.message);
    vigil_server_store_close(st);
    return CLI_USAGE;
  }
  int rc = CLI_OK;
  if (is_create) {
    char key[VIGIL_KEY_MAX];
    vigil_key_info info;
    if (vigil_key_create(st, ro, name, key, &info, &err) != VIGIL_OK) {
      cli_error("%s", err.message);
      rc = CLI_PARTIAL;
    } else if (json) {
      json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "id", info.id, "role", vigil_role_name(ro), "name", info.name,
                            "key", key);
      char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
      if (s) puts(s);
      free(s);
      json_decref(o);
    } else {
      puts(key);
      fprintf(stderr, "vigil: created %s key %s; it is shown only this once\n", vigil_role_name(ro), info.id);
    }
    /* The only copy of the key is what was just written: if it did not get
     * out (closed pipe, full disk), say which key to revoke. */
    if (rc == CLI_OK && (fflush(stdout) != 0 || ferror(stdout))) {
      cli_error("could not write the new key; revoke key %s (vigil keys revoke %s)", info.id, info.id);
      rc = CLI_PARTIAL;
    }
  } else if (is_revoke) {
    if (vigil_key_revoke(st, args[0], &err) != VIGIL_OK) {
      cli_error("%s", err.message);
      rc = CLI_PARTIAL;
    } else {
      printf("revoked %s\n", args[0]);
    }
  } else {
    vigil_key_info *v;
    size_t n;
    if (vigil_key_list(st, &v, &n, &err) != VIGIL_OK) {
      cli_error("%s", err.message);
      rc = CLI_PARTIAL;
    } else {
      if (!json) printf("%-12s  %-9s  %-7s  %-20s  %s\n", "ID", "ROLE", "STATE", "CREATED", "NAME");
      for (size_t i = 0; i < n; i++) {
        char created[32];
        cli_time_ms((int64_t)(v[i].created_at) * 1000, created, sizeof created);
        const char *state = v[i].revoked_at ? "revoked" : "active";
        if (!json) {
          char name[4 * VIGIL_KEY_NAME_MAX + 16];
          printf("%-12s  %-9s  %-7s  %-20s  %s\n", v[i].id, vigil_role_name(v[i].role) ? vigil_role_name(v[i].role) : "?",
                 state, created, cli_printable(v[i].name, name, sizeof name));
          continue;
        }
        json_t *o = json_pack("{s:s, s:s?, s:s, s:s, s:s}", "id", v[i].id, "role", vigil_role_name(v[i].role), "state",
                              state, "created", created, "name", v[i].name);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (s) puts(s);
        free(s);
        json_decref(o);
      }
      free(v);
    }
  }
  vigil_server_store_close(st);
  return rc;
}
