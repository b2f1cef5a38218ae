/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_convo.c - `vigil convo`: grooming risk of conversations.
 *
 *   vigil convo score FILE.jsonl|-   one conversation per line in, one
 *                                    result per line out (same order)
 *   vigil convo eval [DIR]           measures the scorer on the chat corpora
 *                                    (convo_eval.c)
 *
 * A bad line (malformed JSON, wrong shape) is reported on stderr with its
 * line number and as {"line": N, "error": {...}} on stdout, and the batch
 * goes on; the exit status then is 1.  Lines are read whole whatever their
 * length, up to a bound that keeps one hostile line from exhausting memory.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/convo.h"

#define MAX_LINE (256u << 20)

static const char convo_help[] =
    "usage: vigil convo score [options] FILE.jsonl | -\n"
    "       vigil convo eval [options] [DIR]\n"
    "\n"
    "score: grooming risk of each conversation, one JSON object per input line:\n"
    "  {\"id\": ..., \"participants\": [{\"id\": \"a\", \"age\": 13}, {\"id\": \"b\", \"age_band\": \"adult\"}],\n"
    "   \"messages\": [{\"from\": \"b\", \"text\": \"...\", \"ts\": ...}, ...]}\n"
    "Output, one line per input line: id, line, risk (0..1), level, grooming\n"
    "(risk >= 0.5), minor_involved, minors, pairs (actor -> target, highest risk\n"
    "first) with the stages detected and their evidence (message index, byte\n"
    "offsets, text), participants.  Bad lines give {\"line\": N, \"error\": ...}.\n"
    "\n"
    "eval: F1 and false-positive rates on the chat corpora in DIR (default\n"
    "../shared/corpora/chat); see 'vigil convo eval --help'.\n"
    "\n"
    "options (score):\n"
    "  --format json  one JSON object per conversation (the default and only format)\n"

    "  -h, --help  this text\n"
    "\n"
    "Exit status: 0 all scored, 1 some lines failed (reported), 2 usage.\n";

int cmd_convo_eval(int argc, char **argv); /* convo_eval.c */

static void print_error(long line, const vigil_error *e) {
  json_t *o = json_pack("{s:I, s:{s:s, s:s}}", "line", (json_int_t)line, "error", "code", vigil_strerror(e->code), "message",
                        e->message);
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  if (s) puts(s);
  free(s);
  json_decref(o);
}

/* Adds "line" to a result and prints it. */
static void print_result(const char *res, long line) {
  json_t *o = json_loads(res, 0, NULL);
  if (!o) {
    puts(res);
    return;
  }
  json_object_set_new(o, "line", json_integer(line));
  char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(4));
  if (s) puts(s);
  free(s);
  json_decref(o);
}

static int convo_score(int argc, char **argv) {
  static const struct option longopts[] = {{"pretty", no_argument, 0, 'p'}, {"format", required_argument, 0, 'f'},
                                           {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'p': /* one output flag across commands: no second way to shape the output */
      cli_error(
          "--pretty is no longer read: the output is --format json, one object per line; to indent it, "
          "pipe it through 'jq .'");
      return CLI_USAGE;
    case 'f': /* the one output flag every command takes; scores are JSON only */
      if (strcmp(optarg, "json") != 0) {
        cli_error("--format: expected json (the only output of convo score), got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    case 'h': fputs(convo_help, stdout); return CLI_OK;
    default: fputs(convo_help, stderr); return CLI_USAGE;
    }
  }
  if (optind != argc - 1) {
    cli_error("convo score: give one input file, or - for stdin");
    fputs(convo_help, stderr);
    return CLI_USAGE;
  }
  const char *path = argv[optind];
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!f) {
    cli_error("%s: cannot open: %s", path, strerror(errno));
    return CLI_USAGE;
  }
  vigil_convo_scorer *sc;
  vigil_error err;
  if (vigil_convo_scorer_new(&sc, &err) != VIGIL_OK) {
    cli_error("%s", err.message);
    if (f != stdin) fclose(f);
    return CLI_USAGE;
  }
  char *buf = NULL;
  size_t cap = 0;
  ssize_t n;
  long line = 0, failed = 0, done = 0;
  while ((n = getline(&buf, &cap, f)) >= 0) {
    line++;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
    size_t k = 0;
    while (k < (size_t)n && (buf[k] == ' ' || buf[k] == '\t')) k++;
    if (k == (size_t)n) continue; /* blank line */
    vigil_error_clear(&err);
    char *res = NULL;
    int rc = (size_t)n > MAX_LINE ? (err.code = VIGIL_ELIMIT,
                                     snprintf(err.message, sizeof err.message, "line longer than %u bytes", MAX_LINE),
                                     VIGIL_ELIMIT)
                                  : vigil_convo_score_json(sc, buf, (size_t)n, &res, &err);
    if (rc != VIGIL_OK) {
      cli_error("%s:%ld: %s", path, line, err.message);
      print_error(line, &err);
      failed++;
    } else {
      print_result(res, line);
      done++;
    }
    free(res);
  }
  int read_error = ferror(f);
  free(buf);
  if (f != stdin) fclose(f);
  vigil_convo_scorer_free(sc);
  fflush(stdout);
  if (read_error) {
    cli_error("%s: read error after line %ld", path, line);
    return CLI_PARTIAL;
  }
  if (failed) cli_error("%ld of %ld records failed", failed, failed + done);
  return failed ? CLI_PARTIAL : CLI_OK;
}

int cmd_convo(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
    fputs(convo_help, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_USAGE : CLI_OK;
  }
  if (!strcmp(argv[1], "score")) return convo_score(argc - 1, argv + 1);
  if (!strcmp(argv[1], "eval")) return cmd_convo_eval(argc - 1, argv + 1);
  cli_error("convo: unknown subcommand '%s' (score or eval)", argv[1]);
  fputs(convo_help, stderr);
  return CLI_USAGE;
}
