/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spool.c - private temporary files for video uploads (spool.h).
 */
#define _GNU_SOURCE
#include "server/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hex.h"
#include "common/internal.h"

void vigil__spool_init(vigil__spool *s) {
  memset(s, 0, sizeof *s);
  s->fd = -1;
}

static const char *spool_dir(const char *dir) {
  if (dir && *dir) return dir;
  const char *t = getenv("TMPDIR");
  return t && *t ? t : "/tmp";
}

int vigil__spool_open(vigil__spool *s, const char *dir, vigil_error *err) {
  vigil__spool_init(s);
  const char *d = spool_dir(dir);
  int fd = -1;
#ifdef O_TMPFILE
  /* no name ever exists; O_EXCL: it can never be given one either */
  fd = open(d, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
#endif
  if (fd < 0) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s/vigil-upload-XXXXXX", d) >= (int)sizeof path)
      return vigil__seterr(err, VIGIL_EINVAL, "spool directory name too long");
    fd = mkostemp(path, O_CLOEXEC); /* O_EXCL, mode 0600 */
    if (fd < 0) return vigil__seterr(err, VIGIL_EIO, "cannot create a spool file in %s: %s", d, strerror(errno));
    unlink(path);
  }
  s->md5 = EVP_MD_CTX_new();
  s->sha = EVP_MD_CTX_new();
  if (!s->md5 || !s->sha || !EVP_DigestInit_ex(s->md5, EVP_md5(), NULL) ||
      !EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL)) {
    close(fd);
    vigil__spool_close(s);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory for the upload's digests");
  }
  s->fd = fd;
  return VIGIL_OK;
}

int vigil__spool_write(vigil__spool *s, const void *p, size_t n, vigil_error *err) {
  if (s->fd < 0) return vigil__seterr(err, VIGIL_EINVAL, "no spool file");
  if (!EVP_DigestUpdate(s->md5, p, n) || !EVP_DigestUpdate(s->sha, p, n))
    return vigil__seterr(err, VIGIL_EINTERNAL, "digest failed");
  const char *c = p;
  while (n) {
    ssize_t w = write(s->fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return vigil__seterr(err, VIGIL_EIO, "cannot write the upload to its spool file: %s", strerror(errno));
    c += w;
    n -= (size_t)w;
    s->len += (uint64_t)w;
  }
  return VIGIL_OK;
}

int vigil__spool_finish(vigil__spool *s, vigil_error *err) {
  uint8_t d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  if (!s->md5 || !EVP_DigestFinal_ex(s->md5, d, &n)) return vigil__seterr(err, VIGIL_EINTERNAL, "digest failed");
  vigil__hex_encode(d, n, s->md5_hex);
  if (!EVP_DigestFinal_ex(s->sha, d, &n)) return vigil__seterr(err, VIGIL_EINTERNAL, "digest failed");
  vigil__hex_encode(d, n, s->sha_hex);
  EVP_MD_CTX_free(s->md5);
  EVP_MD_CTX_free(s->sha);
  s->md5 = s->sha = NULL;
  if (lseek(s->fd, 0, SEEK_SET) != 0)
    return vigil__seterr(err, VIGIL_EIO, "cannot rewind the spool file: %s", strerror(errno));
  return VIGIL_OK;
}

int vigil__spool_copy_fd(const vigil__spool *s, int out, vigil_error *err) {
  char *buf = malloc(1 << 20);
  int rc = buf ? VIGIL_OK : vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  off_t off = 0;
  while (!rc) {
    ssize_t r = pread(s->fd, buf, 1 << 20, off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) rc = vigil__seterr(err, VIGIL_EIO, "cannot read the spool file: %s", strerror(errno));
    if (r <= 0) break;
    for (ssize_t k = 0; !rc && k < r;) {
      ssize_t w = write(out, buf + k, (size_t)(r - k));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) rc = vigil__seterr(err, VIGIL_EIO, "cannot copy the upload: %s", strerror(w < 0 ? errno : ENOSPC));
      else k += w;
    }
    off += r;
  }
  free(buf);
  if (!rc && fsync(out) != 0) rc = vigil__seterr(err, VIGIL_EIO, "cannot flush the copy: %s", strerror(errno));
  return rc;
}

int vigil__spool_copy_to(const vigil__spool *s, const char *path, vigil_error *err) {
  int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) return vigil__seterr(err, VIGIL_EIO, "cannot create %s: %s", path, strerror(errno));
  int rc = vigil__spool_copy_fd(s, out, err);
  if (close(out) != 0 && !rc) rc = vigil__seterr(err, VIGIL_EIO, "cannot close %s: %s", path, strerror(errno));
  if (rc) unlink(path);
  return rc;
}

void vigil__spool_close(vigil__spool *s) {
  if (s->fd >= 0) close(s->fd);
  EVP_MD_CTX_free(s->md5);
  EVP_MD_CTX_free(s->sha);
  s->md5 = s->sha = NULL;
  s->fd = -1;
}
