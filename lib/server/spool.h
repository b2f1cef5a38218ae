/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server/spool.h - a video upload on its way in, kept in a private
 * temporary file instead of memory (spool.c).
 *
 * Pictures are small and are hashed from memory; a video may be gigabytes,
 * so once the first bytes of a body look like a video container (or the
 * client labels it a video type) the core writes the body, as it streams, into
 * a file no other process can open: O_TMPFILE | O_EXCL where the file
 * system has it (a file with no name at all), else mkostemp (O_EXCL, mode
 * 0600) unlinked at once.  Either way the bytes vanish with the descriptor,
 * so a crash leaves nothing behind.  MD5 and SHA-256 are computed as the
 * bytes arrive, so exact lookups need no second read of the file.
 *
 * One spool belongs to one request (one thread at a time).
 */
#ifndef VIGIL_SERVER_SPOOL_H
#define VIGIL_SERVER_SPOOL_H

#include <stdint.h>

#include "vigil/common.h"

typedef struct vigil__spool {
  int fd;                        /* -1 when there is no file */
  uint64_t len;                  /* bytes written */
  void *md5, *sha;               /* EVP_MD_CTX *, until vigil__spool_finish */
  char md5_hex[33], sha_hex[65]; /* filled by vigil__spool_finish */
} vigil__spool;

/* A spool with no file (fd -1). */
void vigil__spool_init(vigil__spool *s);
/* Creates the private file in dir (NULL: $TMPDIR, else /tmp). */
int vigil__spool_open(vigil__spool *s, const char *dir, vigil_error *err);
/* Appends n bytes (VIGIL_EIO with the reason, e.g. the disk is full). */
int vigil__spool_write(vigil__spool *s, const void *p, size_t n, vigil_error *err);
/* Ends the writing: the digests in md5_hex/sha_hex, the offset back at 0. */
int vigil__spool_finish(vigil__spool *s, vigil_error *err);
/* Copies the spooled bytes into a new file at path (O_EXCL, mode 0600),
 * flushed to disk before it returns: a job's input outlives the request. */
int vigil__spool_copy_to(const vigil__spool *s, const char *path, vigil_error *err);
/* The same into an open file, flushed (fsync) at the end. */
int vigil__spool_copy_fd(const vigil__spool *s, int out, vigil_error *err);
/* Closes the file (its bytes are gone) and frees the digests. */
void vigil__spool_close(vigil__spool *s);

#endif
