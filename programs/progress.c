/* SPDX-License-Identifier: Apache-2.0 */
/*
 * progress.c - progress of commands that read one long file through a
 * library call (`vigil bank import`, `vigil link`), which cannot step a
 * cli_progress themselves.
 *
 * The total is the file's line count, counted before the call only when a
 * progress line will be drawn (a terminal, or VIGIL_PROGRESS=1), so a pipe
 * or a log never pays for the extra read.  For an import the lines are
 * counted as the library reads them: the FILE it is given is a cookie
 * stream over the real one that passes reads and seeks through and steps
 * the progress by the newlines it hands on.  A seek back to the start (an
 * import validating a file before writing it) starts the count again.
 */
#define _GNU_SOURCE /* fopencookie */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_progress_wanted(void) {
  const char *force = getenv("VIGIL_PROGRESS");
  return (force && !strcmp(force, "1")) || isatty(fileno(stderr));
}

size_t cli_count_lines(const char *path) {
  struct stat sb;
  if (!strcmp(path, "-") || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return 0;
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  static char buf[1 << 16];
  size_t n, lines = 0;
  char last = '\n';
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
    for (const char *p = buf, *e = buf + n; (p = memchr(p, '\n', (size_t)(e - p))); p++) lines++;
    last = buf[n - 1];
  }
  fclose(f);
  return lines + (last != '\n');
}

typedef struct counted {
  FILE *in;
  cli_progress *p;
} counted;

static ssize_t counted_read(void *c, char *buf, size_t size) {
  counted *k = c;
  size_t n = fread(buf, 1, size, k->in);
  if (n == 0 && ferror(k->in)) {
    errno = EIO;
    return -1;
  }
  size_t lines = 0;
  for (const char *p = buf, *e = buf + n; (p = memchr(p, '\n', (size_t)(e - p))); p++) lines++;
  if (n == 0 && k->p->done < k->p->total) lines = k->p->total - k->p->done; /* a last line without '\n' */
  if (lines) cli_progress_step(k->p, lines, 0);
  return (ssize_t)n;
}

static int counted_seek(void *c, off64_t *off, int whence) {
  counted *k = c;
  if (fseeko(k->in, (off_t)*off, whence) != 0) return -1;
  off_t at = ftello(k->in);
  if (at < 0) return -1;
  if (at == 0) k->p->done = 0; /* read again from the start */
  *off = (off64_t)at;
  return 0;
}

static int counted_close(void *c) {
  free(c);
  return 0;
}

FILE *cli_progress_wrap(FILE *in, cli_progress *p) {
  if (!p->on) return in;
  counted *k = malloc(sizeof *k);
  if (!k) return in; /* no progress line, nothing else lost */
  k->in = in;
  k->p = p;
  cookie_io_functions_t io = {counted_read, NULL, counted_seek, counted_close};
  FILE *f = fopencookie(k, "rb", io);
  if (!f) free(k);
  return f ? f : in;
}
