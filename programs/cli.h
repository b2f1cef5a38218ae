/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli.h - what every `vigil` command shares: exit codes and messages.
 *
 * Exit codes: 0 all done, 1 some inputs failed (the rest were processed),
 * 2 usage error or nothing could be done.
 */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H

#include <stdint.h>
#include <stdio.h>

#define CLI_OK 0
#define CLI_PARTIAL 1
#define CLI_USAGE 2

/* "vigil: " + message + newline, on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For batch commands that decode many pictures: keep their buffers in
 * malloc's arenas between pictures (vigil.c says why). */
void cli_tune_allocator(void);

/* Parses a non-negative integer option value; returns -1 and complains if bad. */
long cli_parse_long(const char *opt, const char *value, long min, long max);

/* The database every command uses unless --db says otherwise: $VIGIL_DB,
 * else ./vigil.db. */
const char *cli_default_db(void);

/* The --db LOC and --db=LOC options that come before a command's
 * subcommand (vigil keys --db x.db list): the last one's location goes
 * into *db, and they are taken out of argv, which keeps the command's name
 * in argv[0] and the rest after it, NULL-terminated.  Returns the new argc.
 * They are taken only while a subcommand can follow: a lone --db=LOC is
 * left for the command to refuse as a subcommand. */
int cli_db_before_sub(int argc, char **argv, const char **db);

/* 1, after saying so on stderr, when db names a SQLite file that does not
 * exist; 0 otherwise (PostgreSQL is never checked here).  Every command but
 * those that create a store (serve --init, bank create, keys create) calls
 * it before opening one. */
int cli_store_missing(const char *db);

/* Who acts, as the service's audit log names a command-line user:
 * "cli:<login name>" (or "cli:uid<N>" when the user has no name). */
const char *cli_actor(void);

/* unix_ms as the API writes times: RFC 3339 in UTC with milliseconds
 * ("2026-11-20T08:15:02.000Z"), so that a time printed by a command is the
 * same text as the service's for the same row.  Returns buf ("-" for a time
 * outside the years 0000-9999). */
const char *cli_time_ms(int64_t unix_ms, char *buf, size_t cap);

/* s made safe to print on a terminal: control bytes, invalid UTF-8, C1
 * controls and bidirectional overrides become \xNN or \u{XXXX}, so that a
 * name chosen by someone else cannot rewrite the screen or reorder a line.
 * Returns buf (truncated to cap). */
const char *cli_printable(const char *s, char *buf, size_t cap);

/* Progress of a long batch on a terminal: "N/M verb, R/s, ETA T, F failed"
 * redrawn on stderr at most a few times a second, only when stderr is a
 * terminal and the batch has at least 50 inputs (a log or a pipe gets
 * nothing).  step adds done inputs, failed of them failures. */
typedef struct cli_progress {
  const char *verb;
  size_t total, done, failed;
  double start, last;
  int on;
} cli_progress;
void cli_progress_start(cli_progress *p, const char *verb, size_t total);
void cli_progress_step(cli_progress *p, size_t done, size_t failed);
void cli_progress_end(cli_progress *p);
/* For a batch read through a library call (progress.c): whether a progress
 * line will be drawn; the lines of a regular file (0: not one, or
 * unreadable); and a stream over in that steps p by the lines read through
 * it (in itself when p is off).  fclose the stream, then in. */
int cli_progress_wanted(void);
size_t cli_count_lines(const char *path);
FILE *cli_progress_wrap(FILE *in, cli_progress *p);

/* A growable list of strings (pointers into argv, not copied). */
typedef struct cli_strvec {
  const char **v;
  size_t n;
} cli_strvec;
int cli_strvec_push(cli_strvec *s, const char *x); /* -1 when out of memory */

/* Each command: argc/argv start at the command name. */
typedef struct cli_command {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
} cli_command;

int cmd_hash(int argc, char **argv);
int cmd_bank(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_convo(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_users(int argc, char **argv);
int cmd_hooks(int argc, char **argv); /* also `vigil outbox` */
int cmd_report(int argc, char **argv);
int cmd_link(int argc, char **argv);
int cmd_text(int argc, char **argv);

#endif
