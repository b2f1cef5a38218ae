/*
 * vigil.c - entry point of the `vigil` command: dispatches to one command
 * per file (cmd_<name>.c).  Kept apart from lib/ as zstd keeps programs/.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
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

const char *cli_default_db(void) {
  const char *e = getenv("VIGIL_DB");
  return e && *e ? e : "./vigil.db";
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
