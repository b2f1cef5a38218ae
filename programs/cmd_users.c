/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_users.c - `vigil users create|list|unlock|disable`: the people who
 * sign in to the review console (docs/console.md), managed directly in the
 * service's database like `vigil keys`.
 *
 * A password is never an argument (it would sit in the shell's history and
 * in every process listing): `create` reads it from the terminal without
 * echo, twice, or as the first line of standard input when that is not a
 * terminal (scripts, tests).
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vigil/server.h"

static const char users_help[] =
    "usage: vigil users [--db LOC] create NAME --role ROLE [--child-safety]\n"
    "       vigil users [--db LOC] list\n"
    "       vigil users [--db LOC] unlock NAME\n"
    "       vigil users [--db LOC] disable NAME\n"
    "\n"
    "Manage the people who sign in to the review console (/ui/ of `vigil\n"
    "serve`).  Roles are those of API keys: admin, submitter, reviewer,\n"
    "auditor.  --child-safety grants the permission to see retained media\n"
    "of child-abuse cases.  `create` asks for the password twice on the\n"
    "terminal, or reads it as the first line of standard input; it must be\n"
    "at least 10 characters.  `unlock` clears the failed sign-ins that\n"
    "locked an account; `disable` ends its sessions and refuses new ones.\n"
    "\n"
    "options:\n"
    "  --db LOC        service database: a SQLite file or a postgresql:// URI\n"
    "                  (default $VIGIL_DB, else ./vigil.db)\n"
    "  --role ROLE     role of the new account\n"
    "  --child-safety  may see child-abuse queues and media\n"
    "  -h, --help      this text\n";

/* One line of input into buf without its newline; echo off on a terminal. */
static int read_secret(const char *prompt, char *buf, size_t cap) {
  int tty = isatty(STDIN_FILENO);
  struct termios old, quiet;
  if (tty) {
    fputs(prompt, stderr);
    if (tcgetattr(STDIN_FILENO, &old) == 0) {
      quiet = old;
      quiet.c_lflag &= ~(tcflag_t)ECHO;
      tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    } else {
      tty = 0;
    }
  }
  char *ok = fgets(buf, (int)cap, stdin);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
  }
  if (!ok) return -1;
  size_t n = strcspn(buf, "\r\n");
  if (buf[n] == 0 && n + 1 == cap) return -1; /* longer than the buffer */
  buf[n] = 0;
  return 0;
}

int cmd_users(int argc, char **argv) {
  enum { OPT_DB = 256, OPT_ROLE, OPT_CHILD };
  static const struct option longopts[] = {{"db", required_argument, 0, OPT_DB},
                                           {"role", required_argument, 0, OPT_ROLE},
                                           {"child-safety", no_argument, 0, OPT_CHILD},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  const char *db = cli_default_db(), *role = NULL;
  int child = 0, c;
  argc = cli_db_before_sub(argc, argv, &db);
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(users_help, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_USAGE : CLI_OK;
  }
  const char *sub = argv[1];
  optind = 1;
  while ((c = getopt_long(argc - 1, argv + 1, "h", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_DB: db = optarg; break;
    case OPT_ROLE: role = optarg; break;
    case OPT_CHILD: child = 1; break;
    case 'h': fputs(users_help, stdout); return CLI_OK;
    default: fputs(users_help, stderr); return CLI_USAGE;
    }
  }
  int nargs = argc - 1 - optind;
  char **args = argv + 1 + optind;
  int is_create = !strcmp(sub, "create"), is_list = !strcmp(sub, "list"), is_unlock = !strcmp(sub, "unlock"),
      is_disable = !strcmp(sub, "disable");
  if (!is_create && !is_list && !is_unlock && !is_disable) {
    cli_error("users: unknown subcommand '%s' (create, list, unlock or disable)", sub);
    return CLI_USAGE;
  }
  if (nargs != (is_list ? 0 : 1)) {
    cli_error("users %s: %s", sub, is_list ? "unexpected arguments" : "expected one NAME");
    return CLI_USAGE;
  }
  vigil_role ro = VIGIL_ROLE_NONE;
  if (is_create && !(ro = vigil_role_parse(role))) {
    cli_error("users create: --role must be admin, submitter, reviewer or auditor");
    return CLI_USAGE;
  }
  /* people are added to a service that exists: a mistyped --db is an error, not a new store */
  if (cli_store_missing(db)) return CLI_USAGE;
  char pw[VIGIL_USER_PASSWORD_MAX + 2] = "", again[VIGIL_USER_PASSWORD_MAX + 2] = "";
  if (is_create) {
    if (read_secret("password: ", pw, sizeof pw) != 0) {
      cli_error("users create: no password read (a line of at most %d bytes)", VIGIL_USER_PASSWORD_MAX);
      return CLI_USAGE;
    }
    if (isatty(STDIN_FILENO) && (read_secret("again: ", again, sizeof again) != 0 || strcmp(pw, again) != 0)) {
      cli_error("users create: the passwords differ");
      return CLI_USAGE;
    }
  }
  vigil_server_store *st;
  vigil_error err;
  if (vigil_server_store_open(&st, db, &err) != VIGIL_OK) {
    cli_error("%s", err.message);
    return CLI_USAGE;
  }
  int rc = CLI_OK;
  if (vigil_server_store_set_actor(st, cli_actor(), &err) != VIGIL_OK) {
    cli_error("%s", err.message);
    rc = CLI_USAGE;
  } else if (is_create) {
    if (vigil_user_create(st, args[0], ro, child, pw, &err) != VIGIL_OK) {
      cli_error("%s", err.message);
      rc = err.code == VIGIL_EINVAL ? CLI_USAGE : CLI_PARTIAL;
    } else {
      printf("created %s user %s%s\n", vigil_role_name(ro), args[0], child ? " with the child-safety permission" : "");
    }
  } else if (is_unlock || is_disable) {
    if ((is_unlock ? vigil_user_unlock : vigil_user_disable)(st, args[0], &err) != VIGIL_OK) {
      cli_error("%s", err.message);
      rc = CLI_PARTIAL;
    } else {
      printf("%s %s\n", is_unlock ? "unlocked" : "disabled", args[0]);
    }
  } else {
    vigil_user_info *v;
    size_t n;
    if (vigil_user_list(st, &v, &n, &err) != VIGIL_OK) {
      cli_error("%s", err.message);
      rc = CLI_PARTIAL;
    } else {
      printf("%-24s  %-9s  %-12s  %s\n", "NAME", "ROLE", "CHILD-SAFETY", "STATE");
      for (size_t i = 0; i < n; i++)
        printf("%-24s  %-9s  %-12s  %s\n", v[i].name, vigil_role_name(v[i].role) ? vigil_role_name(v[i].role) : "?",
               v[i].child_safety ? "yes" : "no", v[i].disabled_at ? "disabled" : v[i].locked ? "locked" : "active");
      free(v);
    }
  }
  memset(pw, 0, sizeof pw);
  memset(again, 0, sizeof again);
  vigil_server_store_close(st);
  return rc;
}
