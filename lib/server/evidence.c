/* SPDX-License-Identifier: Apache-2.0 */
/*
 * evidence.c - evidence retention: the media of a review case, kept only
 * when the operator asks for it (`vigil serve --evidence-dir DIR`).
 *
 * Off by default: a case keeps hashes and the caller's metadata, never the
 * media.  Some operators must keep what a reviewer decides on (a report to
 * NCMEC, a court order); for them the bytes of an upload that opened a
 * case go to DIR/case-<id>.bin, readable by the service's user only.
 *
 * Why the file is written before the case and renamed after: the case row
 * carries the upload's SHA-256 and size, so a reviewer knows evidence was
 * meant to be kept.  Staging the bytes first (a ".staging-" file, written
 * and fsynced) means a case never exists whose evidence was never written;
 * the rename to the case's name follows its commit.  A crash between the
 * two leaves a staging file, removed at the next start (vigil__evidence_open
 * sweeps them), and a case whose evidence reads as missing: the window is
 * one rename.
 *
 * The directory must not be readable by group or others, must belong to
 * the service's user and sit in a parent others cannot write: vigil refuses
 * to start otherwise, as ssh does with a private key.  Files are found by
 * case number, which means nothing outside one database, so the directory
 * is bound to its store (DIR/.store holds the store's id) and every read
 * compares the file's SHA-256 with the one the case recorded.  With several nodes, the
 * directory is each node's own unless it is shared storage: a node answers
 * 404 for evidence another node kept.
 */
#include "server/cases.h"
#include "common/hex.h"
#include "report/tipline.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <libgen.h>
#include <openssl/evp.h>

#define STAGING ".staging-"

static int fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

/* DIR/.store holds the id of the store the directory's files belong to. */
static int bind_store(const char *dir, const char *store_id, vigil_error *err) {
  char path[4096], have[64] = "";
  snprintf(path, sizeof path, "%s/.store", dir);
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, have, sizeof have - 1);
    close(fd);
    have[n > 0 ? n : 0] = 0;
    have[strcspn(have, "\r\n")] = 0;
    if (strcmp(have, store_id) != 0)
      return vigil__seterr(err, VIGIL_EINVAL,
                           "evidence directory %s belongs to another store (%s; this database is %s): its files "
                           "name other cases; give this store its own directory",
                           dir, have[0] ? have : "unreadable", store_id);
    return VIGIL_OK;
  }
  if (errno != ENOENT) return vigil__seterr(err, VIGIL_EIO, "evidence directory %s: %s: %s", dir, path, strerror(errno));
  /* first use (or a directory from before binding): it is this store's */
  char line[80];
  snprintf(line, sizeof line, "%s\n", store_id);
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  /* errno is read where the first step fails (a short write sets none) */
  int e = 0;
  if (fd < 0) e = errno;
  else {
    ssize_t w = write(fd, line, strlen(line));
    if (w != (ssize_t)strlen(line)) e = w < 0 ? errno : ENOSPC;
    else if (fsync(fd) != 0) e = errno;
    if (close(fd) != 0 && !e) e = errno;
  }
  if (e) return vigil__seterr(err, VIGIL_EIO, "evidence directory %s: cannot write %s: %s", dir, path, strerror(e));
  (void)fsync_dir(dir);
  return VIGIL_OK;
}

int vigil__evidence_open(const char *dir, const char *store_id, vigil_error *err) {
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return vigil__seterr(err, VIGIL_EIO, "evidence directory %s: %s", dir, strerror(errno));
  struct stat sb;
  if (lstat(dir, &sb) != 0) return vigil__seterr(err, VIGIL_EIO, "evidence directory %s: %s", dir, strerror(errno));
  if (!S_ISDIR(sb.st_mode))
    return vigil__seterr(err, VIGIL_EINVAL, "evidence directory %s is not a directory (a symbolic link is refused)", dir);
  if (sb.st_mode & 077)
    return vigil__seterr(err, VIGIL_EINVAL,
                         "evidence directory %s is open to other users (mode %03o): it holds abuse media; "
                         "chmod 700 it",
                         dir, (unsigned)(sb.st_mode & 0777));
  if (sb.st_uid != geteuid())
    return vigil__seterr(err, VIGIL_EINVAL,
                         "evidence directory %s belongs to uid %u, not to the service's user (uid %u): chown it", dir,
                         (unsigned)sb.st_uid, (unsigned)geteuid());
  /* Whoever may write the parent may rename the directory away and put one
   * of theirs in its place; a sticky parent (/tmp) forbids that. */
  char copy[4096];
  snprintf(copy, sizeof copy, "%s", dir);
  const char *parent = dirname(copy);
  struct stat pb;
  if (stat(parent, &pb) != 0)
    return vigil__seterr(err, VIGIL_EIO, "evidence directory's parent %s: %s", parent, strerror(errno));
  if ((pb.st_mode & 022) && !(pb.st_mode & S_ISVTX))
    return vigil__seterr(err, VIGIL_EINVAL,
                         "evidence directory %s is in %s, which other users may write (mode %03o): they could "
                         "replace it; use a directory whose parent only its owner writes",
                         dir, parent, (unsigned)(pb.st_mode & 0777));
  if (pb.st_uid != geteuid() && pb.st_uid != 0 && (pb.st_mode & 0200) && !(pb.st_mode & S_ISVTX))
    return vigil__seterr(err, VIGIL_EINVAL, "evidence directory %s is in %s, owned by another user (uid %u)", dir,
                         parent, (unsigned)pb.st_uid);
  if (access(dir, W_OK | X_OK) != 0)
    return vigil__seterr(err, VIGIL_EIO, "evidence directory %s is not writable: %s", dir, strerror(errno));
  DIR *d = opendir(dir);
  if (!d) return vigil__seterr(err, VIGIL_EIO, "evidence directory %s: %s", dir, strerror(errno));
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strncmp(de->d_name, STAGING, strlen(STAGING)) != 0) continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    unlink(path); /* bytes staged by a request that never committed its case */
  }
  closedir(d);
  return bind_store(dir, store_id, err);
}

int vigil__evidence_stage(const char *dir, const void *data, size_t len, char *path, size_t cap, vigil_error *err) {
  if (snprintf(path, cap, "%s/" STAGING "XXXXXX", dir) >= (int)cap)
    return vigil__seterr(err, VIGIL_EINVAL, "evidence directory path too long");
  int fd = mkstemp(path);
  if (fd < 0) return vigil__seterr(err, VIGIL_EIO, "evidence: %s", strerror(errno));
  const char *p = data;
  size_t left = len;
  /* saved is errno where the first step failed: close may change it */
  int saved = fchmod(fd, 0600) != 0 ? errno : 0;
  while (!saved && left) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) saved = w < 0 ? errno : ENOSPC; /* a write of nothing sets no errno */
    else p += w, left -= (size_t)w;
  }
  if (!saved && fsync(fd) != 0) saved = errno;
  if (close(fd) != 0 && !saved) saved = errno;
  if (saved) {
    unlink(path);
    return vigil__seterr(err, VIGIL_EIO, "evidence: %s", strerror(saved));
  }
  return VIGIL_OK;
}

int vigil__evidence_stage_spool(const char *dir, const vigil__spool *sp, char *path, size_t cap, vigil_error *err) {
  if (snprintf(path, cap, "%s/" STAGING "XXXXXX", dir) >= (int)cap)
    return vigil__seterr(err, VIGIL_EINVAL, "evidence directory path too long");
  int fd = mkstemp(path); /* mode 0600 */
  if (fd < 0) return vigil__seterr(err, VIGIL_EIO, "evidence: %s", strerror(errno));
  int rc = vigil__spool_copy_fd(sp, fd, err);
  if (close(fd) != 0 && !rc) rc = vigil__seterr(err, VIGIL_EIO, "evidence: %s", strerror(errno));
  if (rc) unlink(path);
  return rc;
}

static void case_path(const char *dir, int64_t id, char *out, size_t cap) {
  snprintf(out, cap, "%s/case-%lld.bin", dir, (long long)id);
}

int vigil__evidence_commit(const char *dir, const char *staged, int64_t case_id, vigil_error *err) {
  char final[4096];
  case_path(dir, case_id, final, sizeof final);
  /* The case is committed: its bytes are never thrown away here.  A failed
   * rename leaves them in the staging file, named in the error (the sweep
   * at the next start removes staging files, so the operator has until
   * then); a failed directory fsync only weakens the rename's durability. */
  if (rename(staged, final) != 0)
    return vigil__seterr(err, VIGIL_EIO, "evidence of case %lld left in %s: %s", (long long)case_id, staged,
                         strerror(errno));
  (void)fsync_dir(dir);
  return VIGIL_OK;
}

/* The file is read in pieces of this size: evidence can be a retained
 * video of gigabytes, and checking its digest must not hold it in memory. */
#define CHUNK (1u << 20)

int vigil__evidence_open_file(const char *dir, int64_t case_id, int *fd_out, uint64_t *len, char sha256[65],
                              uint8_t head[16], size_t *head_len, vigil_error *err) {
  *fd_out = -1;
  *len = 0;
  *head_len = 0;
  char path[4096];
  case_path(dir, case_id, path, sizeof path);
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return vigil__seterr(err, VIGIL_ENOTFOUND, "no evidence kept for case %lld", (long long)case_id);
    return vigil__seterr(err, VIGIL_EIO, "evidence of case %lld: %s", (long long)case_id, strerror(errno));
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 0) {
    close(fd);
    return vigil__seterr(err, VIGIL_ECORRUPT, "evidence of case %lld is not a regular file", (long long)case_id);
  }
  uint8_t *buf = malloc(CHUNK);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int rc = VIGIL_OK;
  if (!buf || !md) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  else if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL)) rc = vigil__seterr(err, VIGIL_EINTERNAL, "SHA-256 failed");
  uint64_t got = 0;
  while (!rc) {
    ssize_t r = read(fd, buf, CHUNK);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      rc = vigil__seterr(err, VIGIL_EIO, "evidence of case %lld: %s", (long long)case_id, strerror(errno));
      break;
    }
    if (r == 0) break;
    if (*head_len < 16) {
      size_t k = (size_t)r < 16 - *head_len ? (size_t)r : 16 - *head_len;
      memcpy(head + *head_len, buf, k);
      *head_len += k;
    }
    if (!EVP_DigestUpdate(md, buf, (size_t)r)) rc = vigil__seterr(err, VIGIL_EINTERNAL, "SHA-256 failed");
    got += (uint64_t)r;
  }
  unsigned char d[32];
  unsigned int n = 0;
  if (!rc && (!EVP_DigestFinal_ex(md, d, &n) || n != 32)) rc = vigil__seterr(err, VIGIL_EINTERNAL, "SHA-256 failed");
  /* the bytes digested are the bytes served: a file that changed size
   * while it was read is not the one the case recorded */
  if (!rc && got != (uint64_t)sb.st_size)
    rc = vigil__seterr(err, VIGIL_EIO, "evidence of case %lld changed while it was read", (long long)case_id);
  EVP_MD_CTX_free(md);
  free(buf);
  if (rc) {
    close(fd);
    return rc;
  }
  vigil__hex_encode(d, 32, sha256);
  *fd_out = fd;
  *len = got;
  return VIGIL_OK;
}

int vigil__evidence_sha256(const void *data, size_t len, char hex[65], vigil_error *err) {
  unsigned char md[32];
  unsigned int n = 0;
  if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
    return vigil__seterr(err, VIGIL_EINTERNAL, "SHA-256 failed");
  vigil__hex_encode(md, 32, hex);
  return VIGIL_OK;
}

int vigil__evidence_exists(const char *dir, int64_t case_id, vigil_error *err) {
  char path[4096];
  case_path(dir, case_id, path, sizeof path);
  struct stat sb;
  if (lstat(path, &sb) == 0) return VIGIL_OK;
  if (errno == ENOENT) return vigil__seterr(err, VIGIL_ENOTFOUND, "no evidence kept for case %lld", (long long)case_id);
  return vigil__seterr(err, VIGIL_EIO, "evidence of case %lld: %s", (long long)case_id, strerror(errno));
}

int vigil__evidence_delete(const char *dir, int64_t case_id, vigil_error *err) {
  char path[4096];
  case_path(dir, case_id, path, sizeof path);
  if (unlink(path) != 0) {
    if (errno == ENOENT) return vigil__seterr(err, VIGIL_ENOTFOUND, "no evidence kept for case %lld", (long long)case_id);
    return vigil__seterr(err, VIGIL_EIO, "evidence of case %lld: %s", (long long)case_id, strerror(errno));
  }
  fsync_dir(dir);
  return VIGIL_OK;
}

const char *vigil__media_type(const uint8_t *p, size_t n) {
  return vigil__report_media(p, n, NULL); /* one sniffer for the console and for reports */
}
