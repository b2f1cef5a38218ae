/* SPDX-License-Identifier: Apache-2.0 */
/*
 * atomic_file.h - replacing a file whole or not at all, one way for all of
 * lib/.
 *
 * A saved index must never be seen half-written under its name, even after
 * a crash or a power cut, and two processes saving the same path must not
 * write into each other's file.  So a file is written to a temporary file
 * of its own beside it (same directory, hence same file system, so the
 * rename is atomic), then flushed, fsync'd, renamed over the path, and the
 * directory fsync'd so that the rename itself survives a power cut.
 *
 * The temporary file is PATH.tmp.PID.RANDOM, made with O_EXCL (a file or a
 * link already there is never opened, let alone followed) and O_CLOEXEC
 * (a fork-and-exec in another thread does not inherit it), with the
 * caller's mode (0600 for files only the service should read; umask
 * applies).  Every failure removes it, so a failed save leaves the old
 * file as it was and nothing beside it; only a process killed while saving
 * leaves its temporary file behind (its PID is in the name), and the next
 * save of the same path removes it once no live process has that PID.
 *
 * Use: vigil__atomic_file_open, write through af.f (the caller checks its
 * own writes), then vigil__atomic_file_commit, or vigil__atomic_file_abort
 * when the content could not be made.  Either releases af.  An object is
 * used by one thread at a time; different objects in any threads at once.
 */
#ifndef VIGIL_COMMON_ATOMIC_FILE_H
#define VIGIL_COMMON_ATOMIC_FILE_H

#include <stdio.h>
#include <sys/types.h>

#include "vigil/common.h"

/* The steps of a commit, for the test hook fail_at. */
enum {
  VIGIL__ATOMIC_FLUSH = 1, /* fflush and close */
  VIGIL__ATOMIC_SYNC,      /* fsync of the file */
  VIGIL__ATOMIC_RENAME,    /* rename over the path */
  VIGIL__ATOMIC_DIRSYNC    /* fsync of the directory, after the rename */
};

typedef struct vigil__atomic_file {
  FILE *f;          /* the temporary file, open for writing (buffered) */
  char *tmp;        /* its path (malloc'd) */
  const char *path; /* the caller's path: must stay valid until commit or abort */
  int fail_at;      /* test hook: the commit fails at this step as if with EIO; 0 never */
} vigil__atomic_file;

/* Creates the temporary file for path with mode (before umask); on
 * failure af is left empty (nothing to release) and the error says why:
 * VIGIL_EIO (the directory cannot be written, say), VIGIL_ENOMEM. */
int vigil__atomic_file_open(vigil__atomic_file *af, const char *path, mode_t mode, vigil_error *err);

/* Flushes, fsyncs and closes the temporary file, renames it over path and
 * fsyncs the directory.  VIGIL_OK, or VIGIL_EIO with a message naming the
 * step; a failure before the rename removes the temporary file and leaves
 * path as it was, one of the directory's sync says the file is in place
 * but may not survive a power cut.  Releases af either way. */
int vigil__atomic_file_commit(vigil__atomic_file *af, vigil_error *err);

/* Closes and removes the temporary file and releases af; af may be empty
 * (after a failed open, a commit or an abort). */
void vigil__atomic_file_abort(vigil__atomic_file *af);

#endif
