/* SPDX-License-Identifier: Apache-2.0 */
/*
 * atomic_file.c - a file replaced whole or not at all (atomic_file.h says
 * why and how).
 *
 * The temporary name takes 32 random bits after the PID: O_EXCL alone
 * makes it safe, the randomness only makes a clash (a file left by an
 * earlier process of the same PID) unlikely, and a clash is an EEXIST and
 * another name.  A failed step is reported with the errno of that step,
 * taken before any clean-up call can change it.  Opening first sweeps the
 * temporary files of the same path whose PID is no live process's.
 */
#define _GNU_SOURCE
#include "common/atomic_file.h"
#include "common/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Names tried before giving up; each after the first follows an EEXIST. */
#define TRIES 16

static uint32_t name_bits(unsigned attempt) {
  uint32_t r;
  if (getrandom(&r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r) return r;
  /* no entropy yet (early boot): the clock and the attempt number still
   * change between tries, and O_EXCL turns any clash into a retry */
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint32_t)ts.tv_nsec ^ ((uint32_t)ts.tv_sec * 2654435761u) ^ attempt;
}

/* Whether name is base.tmp.PID.XXXXXXXX, a temporary file of this scheme;
 * its PID in *pid. */
static int temp_of(const char *name, const char *base, size_t blen, long *pid) {
  if (strncmp(name, base, blen) || strncmp(name + blen, ".tmp.", 5)) return 0;
  const char *p = name + blen + 5;
  char *end;
  errno = 0;
  long v = strtol(p, &end, 10);
  if (end == p || *p == '-' || *p == '+' || errno || *end != '.' || v <= 0) return 0;
  if (strlen(end + 1) != 8 || strspn(end + 1, "0123456789abcdef") != 8) return 0;
  *pid = v;
  return 1;
}

/* Removes the temporary files of path that a process killed while saving
 * left behind (an index file can be a gigabyte): those whose PID names no
 * live process.  A live PID, this process's or another's, keeps its file
 * (it may be saving now, or be a new process that took an old PID: then
 * the file stays until that one ends).  Best effort: a failure here costs
 * disk space, not the save. */
static void sweep_stale(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  char *dirname = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
  if (!dirname) return;
  DIR *d = opendir(dirname);
  free(dirname);
  if (!d) return;
  size_t blen = strlen(base);
  long self = (long)getpid(), pid;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (temp_of(e->d_name, base, blen, &pid) && pid != self && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
      (void)unlinkat(dirfd(d), e->d_name, 0);
  closedir(d);
}

int vigil__atomic_file_open(vigil__atomic_file *af, const char *path, mode_t mode, vigil_error *err) {
  memset(af, 0, sizeof *af);
  if (!path || !*path) return vigil__seterr(err, VIGIL_EINVAL, "no file name to save to");
  sweep_stale(path);
  size_t cap = strlen(path) + 48;
  char *tmp = malloc(cap);
  if (!tmp) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  int fd = -1, e = EEXIST;
  for (unsigned i = 0; fd < 0 && (e == EEXIST || e == EINTR) && i < TRIES; i++) {
    snprintf(tmp, cap, "%s.tmp.%ld.%08x", path, (long)getpid(), (unsigned)name_bits(i));
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) e = errno;
  }
  if (fd < 0) {
    int rc = vigil__seterr(err, VIGIL_EIO, "%s: %s", tmp, strerror(e));
    free(tmp);
    return rc;
  }
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    e = errno;
    close(fd);
    unlink(tmp);
    int rc = e == ENOMEM ? vigil__seterr(err, VIGIL_ENOMEM, "out of memory")
                         : vigil__seterr(err, VIGIL_EIO, "%s: %s", tmp, strerror(e));
    free(tmp);
    return rc;
  }
  af->f = f;
  af->tmp = tmp;
  af->path = path;
  return VIGIL_OK;
}

/* The errno of a step that failed, 0 when it worked; the test hook fails
 * a step without taking it (a rename it fails must not have happened). */
#define STEP(af, which, call) ((af)->fail_at == (which) ? EIO : (call) != 0 ? (errno ? errno : EIO) : 0)

/* fsync of path's directory: the rename is an entry of the directory. */
static int sync_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
  if (!dir) return ENOMEM;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(dir);
  if (fd < 0) return errno;
  int e = fsync(fd) != 0 ? errno : 0;
  close(fd);
  /* a file system that cannot sync a directory says EINVAL: it has no
   * more durable state to reach, and the rename stands */
  return e == EINVAL ? 0 : e;
}

int vigil__atomic_file_commit(vigil__atomic_file *af, vigil_error *err) {
  if (!af->f || !af->tmp) return vigil__seterr(err, VIGIL_EINTERNAL, "atomic file: commit of a file not open");
  /* a write the caller did not check has left its mark in the stream */
  int step = VIGIL__ATOMIC_FLUSH, e = ferror(af->f) ? EIO : 0;
  if (!e) e = STEP(af, step, fflush(af->f));
  if (!e) e = STEP(af, step = VIGIL__ATOMIC_SYNC, fsync(fileno(af->f)));
  int ce = fclose(af->f) != 0 ? errno : 0;
  af->f = NULL;
  if (!e && ce) {
    e = ce;
    step = VIGIL__ATOMIC_FLUSH;
  }
  if (!e) e = STEP(af, step = VIGIL__ATOMIC_RENAME, rename(af->tmp, af->path));
  int rc = VIGIL_OK;
  if (e) {
    rc = step == VIGIL__ATOMIC_RENAME
             ? vigil__seterr(err, VIGIL_EIO, "%s: rename to %s: %s", af->tmp, af->path, strerror(e))
             : vigil__seterr(err, VIGIL_EIO, "%s: %s failed: %s", af->tmp,
                             step == VIGIL__ATOMIC_SYNC ? "fsync" : "write", strerror(e));
    vigil__atomic_file_abort(af);
    return rc;
  }
  e = af->fail_at == VIGIL__ATOMIC_DIRSYNC ? EIO : sync_dir(af->path);
  if (e)
    rc = vigil__seterr(err, VIGIL_EIO, "%s: saved, but its directory could not be synced (%s): a power cut may undo it",
                       af->path, strerror(e));
  free(af->tmp);
  memset(af, 0, sizeof *af);
  return rc;
}

void vigil__atomic_file_abort(vigil__atomic_file *af) {
  if (af->f) fclose(af->f);
  if (af->tmp) unlink(af->tmp);
  free(af->tmp);
  memset(af, 0, sizeof *af);
}
