/* SPDX-License-Identifier: Apache-2.0 */
/*
 * video_io.c - the demuxer's reader over a file descriptor, digesting the
 * file's bytes (MD5 and SHA-256, the hashes NCMEC, StopNCII and GIFCT share)
 * as they go by, so a video is read once, not once per hash.
 *
 * Demuxers seek: an MP4 whose index is at the end is read index first, then
 * media.  A digest needs the bytes in order, so `hashed` marks how far the
 * file has been digested: a read that starts at or before that mark extends
 * it, a read past it (a skip) is not digested yet; the bytes reached again in
 * order later are.  Whatever was never read in order (an index read once,
 * out of order; a tail the demuxer did not need) is read at the end by
 * vigil__video_io_finish.  A pipe cannot seek, so it is digested in order.
 *
 * The OpenSSL digests are initialised here, before the worker's seccomp
 * filter goes on (OpenSSL may read its configuration when first used).
 */
#include "video/video_internal.h"
#include "common/internal.h"
#include "common/hex.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavformat/avio.h>
#include <libavutil/error.h>
#include <libavutil/mem.h>
#include <openssl/evp.h>

#define IO_BUF 65536

struct vigil__video_io {
  int fd;
  int seekable;
  int64_t base; /* fd's offset when we started: the file starts here for us */
  int64_t size; /* -1 when unknown (a pipe) */
  int64_t pos;  /* our read offset, relative to base */
  int64_t hashed;
  int failed; /* a read error: the digests are incomplete */
  EVP_MD_CTX *md5, *sha;
  AVIOContext *avio;
};

static void digest(vigil__video_io *io, const uint8_t *p, size_t n) {
  EVP_DigestUpdate(io->md5, p, n);
  EVP_DigestUpdate(io->sha, p, n);
}

static int read_cb(void *opaque, uint8_t *buf, int size) {
  vigil__video_io *io = opaque;
  ssize_t n;
  do n = read(io->fd, buf, (size_t)size);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    io->failed = 1;
    return AVERROR(errno);
  }
  if (n == 0) return AVERROR_EOF;
  int64_t end = io->pos + n;
  if (io->pos <= io->hashed && end > io->hashed) {
    digest(io, buf + (io->hashed - io->pos), (size_t)(end - io->hashed));
    io->hashed = end;
  }
  io->pos = end;
  return (int)n;
}

static int64_t seek_cb(void *opaque, int64_t offset, int whence) {
  vigil__video_io *io = opaque;
  if (whence & AVSEEK_SIZE) return io->size >= 0 ? io->size : AVERROR(ENOSYS);
  whence &= ~AVSEEK_FORCE;
  int64_t target;
  if (whence == SEEK_SET) target = offset;
  else if (whence == SEEK_CUR) target = io->pos + offset;
  else if (whence == SEEK_END && io->size >= 0) target = io->size + offset;
  else return AVERROR(EINVAL);
  if (target < 0 || target > INT64_MAX - io->base) return AVERROR(EINVAL);
  if (lseek(io->fd, (off_t)(io->base + target), SEEK_SET) < 0) return AVERROR(errno);
  io->pos = target;
  return target;
}

int vigil__video_io_new(vigil__video_io **out, int fd, vigil_error *err) {
  *out = NULL;
  vigil__video_io *io = calloc(1, sizeof *io);
  if (!io) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  io->fd = fd;
  io->size = -1;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    free(io);
    return vigil__seterr(err, VIGIL_EIO, "cannot stat the input: %s", strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    free(io);
    return vigil__seterr(err, VIGIL_EINVAL, "is a directory");
  }
  off_t cur = lseek(fd, 0, SEEK_CUR);
  if (S_ISREG(st.st_mode) && cur >= 0) {
    io->seekable = 1;
    io->base = cur;
    io->size = st.st_size > cur ? (int64_t)(st.st_size - cur) : 0;
  }
  io->md5 = EVP_MD_CTX_new();
  io->sha = EVP_MD_CTX_new();
  uint8_t *buf = av_malloc(IO_BUF);
  int ok = io->md5 && io->sha && buf && EVP_DigestInit_ex(io->md5, EVP_md5(), NULL) == 1 &&
           EVP_DigestInit_ex(io->sha, EVP_sha256(), NULL) == 1;
  if (ok) {
    io->avio = avio_alloc_context(buf, IO_BUF, 0, io, read_cb, NULL, io->seekable ? seek_cb : NULL);
    ok = io->avio != NULL;
  }
  if (!ok) {
    if (!io->avio) av_free(buf);
    vigil__video_io_free(io);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory (digests or reader)");
  }
  if (!io->seekable) io->avio->seekable = 0;
  *out = io;
  return VIGIL_OK;
}

void *vigil__video_io_avio(vigil__video_io *io) { return io->avio; }

int vigil__video_io_finish(vigil__video_io *io, vigil_video_info *info, vigil_error *err) {
  if (io->failed) return vigil__seterr(err, VIGIL_EIO, "reading the input failed");
  uint8_t *buf = malloc(IO_BUF);
  if (!buf) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  /* The rest of the file, from the digest mark on: pread where we can seek,
   * read on (the position is the mark: pipes are digested in order) where not. */
  for (;;) {
    ssize_t n;
    do n = io->seekable ? pread(io->fd, buf, IO_BUF, (off_t)(io->base + io->hashed)) : read(io->fd, buf, IO_BUF);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      int e = errno;
      free(buf);
      return vigil__seterr(err, VIGIL_EIO, "reading the input failed: %s", strerror(e));
    }
    if (n == 0) break;
    digest(io, buf, (size_t)n);
    io->hashed += n;
  }
  free(buf);
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (EVP_DigestFinal_ex(io->md5, d, &len) != 1 || len != 16)
    return vigil__seterr(err, VIGIL_EINTERNAL, "MD5 digest failed");
  vigil__hex_encode(d, 16, info->md5);
  if (EVP_DigestFinal_ex(io->sha, d, &len) != 1 || len != 32)
    return vigil__seterr(err, VIGIL_EINTERNAL, "SHA-256 digest failed");
  vigil__hex_encode(d, 32, info->sha256);
  info->bytes = (uint64_t)io->hashed;
  return VIGIL_OK;
}

void vigil__video_io_free(vigil__video_io *io) {
  if (!io) return;
  if (io->avio) {
    av_freep(&io->avio->buffer);
    avio_context_free(&io->avio);
  }
  EVP_MD_CTX_free(io->md5);
  EVP_MD_CTX_free(io->sha);
  free(io);
}
