/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil.c - entry point of the `vigil` command: dispatches to one command
 * per file (cmd_<name>.c).  Kept apart from lib/ as zstd keeps programs/.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <pwd.h>
#include <unistd.h>

#include "vigil/common.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

static const cli_command commands[] = {
    {"hash", "compute PDQ hashes of images", cmd_hash},
    {"bank", "manage hash banks (create, import, export, remove, ...)", cmd_bank},
    {"match", "look images or hashes up in the hash banks", cmd_match},
    {"policy", "minor-safety policy decisions (decide, check, show)", cmd_policy},
    {"convo", "grooming risk of conversations", cmd_convo},
    {"serve", "run the HTTP service", cmd_serve},
    {"keys", "create, revoke and list API keys of the service", cmd_keys},
    {"users", "people who sign in to the review console (create, list, unlock)", cmd_users},
    {"hooks", "webhook subscriptions of the service (create, list, delete)", cmd_hooks},
    {"outbox", "deliveries of the service: list, retry dead ones", cmd_hooks},
    {"report", "CyberTipline reports of confirmed cases, for manual filing", cmd_report},
    {"link", "link ads into groups by shared contacts and templates", cmd_link},
    {"text", "text signals: contacts, ages, trafficking-ad indicators", cmd_text},
};

void cli_error(const char *fmt, ...) {
  va_list ap;
  fputs("vigil: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

long cli_parse_long(const char *opt, const char *value, long min, long max) {
  char *end;
  errno = 0;
  long v = value ? strtol(value, &end, 10) : 0;
  if (!value || !*value || *end || errno || v < min || v > max) {
    cli_error("%s: expected an integer from %ld to %ld, got '%s'", opt, min, max, value ? value : "");
    return -1;
  }
  return v;
}

const char *cli_actor(void) {
  static char actor[72];
  if (!actor[0]) {
    struct passwd *pw = getpwuid(geteuid());
    size_t k = (size_t)snprintf(actor, sizeof actor, "cli:");
    if (pw && pw->pw_name)
      for (const char *p = pw->pw_name; *p && k + 1 < 64; p++) actor[k++] = (*p > 32 && *p < 127) ? *p : '?';
    actor[k] = 0;
    if (k == 4) snprintf(actor, sizeof actor, "cli:uid%u", (unsigned)geteuid());
  }
  return actor;
}

/* Length of the UTF-8 sequence at p and its code point; 0 if invalid. */
static int utf8_at(const unsigned char *p, unsigned *cp) {
  unsigned c = p[0];
  int n = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : -1;
  if (n < 0) return 0;
  unsigned v = c & (0x3fu >> n);
  for (int i = 1; i <= n; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    v = (v << 6) | (p[i] & 0x3f);
  }
  if ((n == 2 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))) || (n == 3 && (v < 0x10000 || v > 0x10ffff))) return 0;
  *cp = v;
  return n + 1;
}

const char *cli_time_ms(int64_t unix_ms, char *buf, size_t cap) {
  time_t s = (time_t)(unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000);
  int ms = (int)(unix_ms - (int64_t)s * 1000);
  struct tm tm;
  char day[32];
  if (!gmtime_r(&s, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900 ||
      !strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm))
    snprintf(buf, cap, "-");
  else snprintf(buf, cap, "%s.%03dZ", day, ms);
  return buf;
}

const char *cli_printable(const char *s, char *buf, size_t cap) {
  size_t k = 0;
  const unsigned char *p = (const unsigned char *)s;
  if (!cap) return buf;
  while (*p && k + 12 < cap) {
    unsigned cp = 0;
    int n = *p < 0x80 ? 1 : utf8_at(p, &cp);
    if (*p < 0x80) cp = *p;
    int unsafe = n == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || cp == 0x61c || cp == 0x200e ||
                 cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
    if (n == 0) {
      k += (size_t)snprintf(buf + k, cap - k, "\\x%02x", *p);
      p++;
    } else if (unsafe) {
      k += (size_t)snprintf(buf + k, cap - k, cp < 0x80 ? "\\x%02x" : "\\u{%04x}", cp);
      p += n;
    } else {
      memcpy(buf + k, p, (size_t)n);
      k += (size_t)n;
      p += n;
    }
  }
  buf[k] = 0;
  return buf;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress_draw(cli_progress *p) {
  double el = now_s() - p->start;
  double rate = el > 0 ? (double)p->done / el : 0;
  char eta[32] = "?";
  if (rate > 0 && p->total >= p->done) {
    double left = (double)(p->total - p->done) / rate;
    if (left < 120) snprintf(eta, sizeof eta, "%.0fs", left);
    else if (left < 7200) snprintf(eta, sizeof eta, "%.0fm%02.0fs", left / 60, (double)((long)left % 60));
    else snprintf(eta, sizeof eta, "%.1fh", left / 3600);
  }
  fprintf(stderr, "\r%zu/%zu %s, %.1f/s, ETA %s, %zu failed  ", p->done, p->total, p->verb, rate, eta, p->failed);
}

void cli_progress_start(cli_progress *p, const char *verb, size_t total) {
  memset(p, 0, sizeof *p);
  p->verb = verb;
  p->total = total;
  const char *force = getenv("VIGIL_PROGRESS"); /* "1": draw even off a terminal (tests) */
  p->on = total >= 50 && ((force && !strcmp(force, "1")) || isatty(fileno(stderr)));
  p->start = p->last = now_s();
}

void cli_progress_step(cli_progress *p, size_t done, size_t failed) {
  p->done += done;
  p->failed += failed;
  if (!p->on) return;
  double t = now_s();
  if (t - p->last < 0.2 && p->done < p->total) return;
  p->last = t;
  progress_draw(p);
}

void cli_progress_end(cli_progress *p) {
  if (!p->on) return;
  progress_draw(p);
  fputc('\n', stderr);
}

const char *cli_default_db(void) {
  const char *e = getenv("VIGIL_DB");
  return e && *e ? e : "./vigil.db";
}

int cli_db_before_sub(int argc, char **argv, const char **db) {
  int k = 1;
  while (argc - k >= 2 && (!strcmp(argv[k], "--db") || !strncmp(argv[k], "--db=", 5))) {
    int eq = argv[k][4] == '=';
    *db = eq ? argv[k] + 5 : argv[k + 1];
    k += eq ? 1 : 2;
  }
  memmove(argv + 1, argv + k, (size_t)(argc - k + 1) * sizeof *argv); /* with the NULL after the last */
  return argc - (k - 1);
}

/* Only a few commands create a store; any other given a path where none is
 * would create an empty one and report "no match" against it, so a typo in
 * --db would pass for a clean result. */
int cli_store_missing(const char *db) {
  if (!strncmp(db, "postgres://", 11) || !strncmp(db, "postgresql://", 13)) return 0;
  const char *path = !strncmp(db, "sqlite:", 7) ? db + 7 : db;
  struct stat st;
  if (stat(path, &st) == 0) return 0;
  cli_error("no vigil database at %s (%s): give the right --db or $VIGIL_DB, or create one with "
            "'vigil serve --init', 'vigil bank create' or 'vigil keys create'",
            path, strerror(errno));
  return 1;
}

int cli_strvec_push(cli_strvec *s, const char *x) {
  const char **nv = realloc(s->v, (s->n + 1) * sizeof *nv);
  if (!nv) return -1;
  s->v = nv;
  s->v[s->n++] = x;
  return 0;
}

static void usage(FILE *f) {
  fprintf(f, "usage: vigil <command> [options] [arguments]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\n'vigil <command> --help' describes a command.  'vigil --version' prints the version.\n");
}

/* Decoders allocate whole-picture buffers afresh for every picture
 * (libjpeg's coefficient arrays for a progressive JPEG: about 5 MB at
 * 1.6 MP).  glibc's sliding threshold maps any block at least as large as
 * the last mapped one freed, so pictures of one size in a row each paid a
 * fresh mapping, page faults and page clearing: 1.4-1.5x the time for a
 * run of same-size progressive JPEGs (bench_pdq).  Below 32 MiB, blocks now stay in the allocator's
 * arenas and are reused, up to 64 MiB free at a heap's top; larger ones
 * are still mapped and unmapped.  Only the batch commands that decode
 * pictures ask for this: a long-running service would keep that memory
 * per arena, and a user's own MALLOC_* or GLIBC_TUNABLES settings win. */
void cli_tune_allocator(void) {
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
  if (getenv("GLIBC_TUNABLES") || getenv("MALLOC_MMAP_THRESHOLD_") || getenv("MALLOC_TRIM_THRESHOLD_")) return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return CLI_OK;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("vigil %s\n", vigil_version());
    return CLI_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  cli_error("unknown command '%s' (see 'vigil --help')", argv[1]);
  return CLI_USAGE;
}
