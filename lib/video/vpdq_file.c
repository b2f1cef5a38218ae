/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vpdq_file.c - a vPDQ index saved to one file, and loaded back.
 *
 * Building the index of a large bank takes seconds (10 million frame
 * hashes: reading every frame list from the store, then the PDQ index of
 * the unique hashes); a service that restarts should not pay that each
 * time.  So the index is saved as what it holds, and only what cannot be
 * recomputed cheaply:
 *
 *   header (256 bytes, little-endian)
 *     magic "VGLVPDQX", version, header size, byte-order mark,
 *     unique hashes nu, frames nf, videos nv, meta length,
 *     payload size and checksum, offset and length of the PDQ index,
 *     header checksum (of the bytes before it)
 *   payload, each section padded to 64 bytes:
 *     meta               the caller's bytes (the bank matcher's position)
 *     video ids          nv x u64
 *     video frame counts nv x u32 (videos' frames are consecutive, in order)
 *     video removed      nv x u8 (0 or 1)
 *     frame timestamps   nf x f64
 *     frame unique hash  nf x u32 (< nu)
 *     frame quality      nf x u8 (0..100)
 *   zeros up to a 64 KiB boundary (any page size divides it), then
 *   the PDQ index of the unique hashes (id = the hash's number), in
 *   match/'s own file format (pdq_file.c), mapped as that loader maps it.
 *
 * The unique hashes themselves are not stored twice: they are the PDQ
 * index's entries.  The tables, the frame chains and each frame's video
 * are not stored at all: they follow from the rest, are rebuilt on load in
 * one pass (vigil__vpdq_index_derive) and so never have to be trusted (a
 * chain read from a file could loop).
 *
 * Loading trusts nothing: header checksum, sizes that add up to the file's
 * size exactly, the payload checksum, the embedded PDQ index validated by
 * its own loader, its ids exactly 0..nu-1 once each, every frame's hash
 * number below nu, qualities 0..100, timestamps 0..VIGIL_VPDQ_MAX_TIMESTAMP,
 * video frame counts that add up to nf, unique hashes and video ids
 * distinct.  A file that fails any of these is VIGIL_ECORRUPT (another
 * version VIGIL_EFORMAT) with a message naming it; nothing it holds is used.
 * Whether the file reflects the caller's store is the caller's question:
 * meta carries what it needs to answer it (lib/bank/bank_match.c).
 *
 * Saving replaces PATH whole (common/atomic_file.h: a temporary file of its
 * own beside it, mode 0600, fsync, rename, fsync of the directory), so a
 * crash never leaves half a file under PATH and two processes saving the
 * same path do not write into each other's file.
 */
#include "video/vpdq_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "common/internal.h"
#include "match/match_internal.h"

#define MAGIC "VGLVPDQX"
#define VERSION 1
#define HEADER_SIZE 256
#define BOM 0x01020304u
#define PDQ_ALIGN 65536u

typedef struct vhdr {
  char magic[8];
  uint32_t version, header_size, bom, zero;
  uint64_t nu, nf, nv, meta_len;
  uint64_t payload_size, payload_sum;
  uint64_t pdq_off, pdq_len;
  uint64_t reserved[20];
  uint64_t header_sum;
} vhdr;

_Static_assert(sizeof(vhdr) == HEADER_SIZE, "vpdq file header is 256 bytes");

static uint64_t pad64(uint64_t n) { return (n + 63) & ~(uint64_t)63; }

static uint64_t header_sum(const vhdr *h) {
  uint8_t buf[HEADER_SIZE];
  memset(buf, 0, sizeof buf);
  memcpy(buf, h, HEADER_SIZE - 8);
  vigil__sum4 s;
  vigil__sum_init(&s);
  vigil__sum_blocks(&s, buf, sizeof buf);
  return vigil__sum_final(&s);
}

static uint64_t payload_size(uint64_t nf, uint64_t nv, uint64_t meta_len) {
  return pad64(meta_len) + pad64(nv * 8) + pad64(nv * 4) + pad64(nv) + pad64(nf * 8) + pad64(nf * 4) + pad64(nf);
}

/* ---- saving ---- */

#define STAGE 8192

int vigil_vpdq_index_save(const vigil_vpdq_index *ix, const char *path, const void *meta, size_t meta_len,
                          vigil_error *err) {
  if (!ix || !path || (meta_len && !meta))
    return vigil__seterr(err, VIGIL_EINVAL, "vpdq index save: index and path are required");
  if (meta_len > VIGIL_VPDQ_META_MAX)
    return vigil__seterr(err, VIGIL_ELIMIT, "vpdq index save: %zu bytes of meta (limit %d)", meta_len,
                         VIGIL_VPDQ_META_MAX);
  vhdr h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, MAGIC, 8);
  h.version = VERSION;
  h.header_size = HEADER_SIZE;
  h.bom = BOM;
  h.nu = ix->nu;
  h.nf = ix->nf;
  h.nv = ix->nv;
  h.meta_len = meta_len;
  h.payload_size = payload_size(h.nf, h.nv, meta_len);
  h.pdq_off = (HEADER_SIZE + h.payload_size + PDQ_ALIGN - 1) / PDQ_ALIGN * PDQ_ALIGN;

  vigil__writer w = {0};
  w.buf = malloc(VIGIL__WBUF);
  uint8_t *stage = malloc(STAGE * 8);
  if (!w.buf || !stage) {
    free(w.buf);
    free(stage);
    return vigil__seterr(err, VIGIL_ENOMEM, "vpdq index save: out of memory");
  }
  /* owner only, as the service's database: the index lists the frames of
   * known abuse videos */
  vigil__atomic_file af;
  int orc = vigil__atomic_file_open(&af, path, 0600, err);
  if (orc) {
    free(w.buf);
    free(stage);
    return orc;
  }
  w.f = af.f;
  vigil__sum_init(&w.sum);
  if (fwrite(&h, 1, sizeof h, w.f) != sizeof h) vigil__w_fail(&w); /* a placeholder, rewritten at the end */
  vigil__w_put(&w, meta, meta_len);
  vigil__w_pad(&w);
  /* the arrays are written field by field (no struct padding reaches the
   * file), through a small staging buffer */
#define SECTION(count, type, expr)                                                                                     \
  do {                                                                                                                 \
    for (size_t i0 = 0; i0 < (count); i0 += STAGE) {                                                                   \
      size_t k = (count)-i0 < STAGE ? (count)-i0 : STAGE;                                                              \
      type *o = (type *)(void *)stage;                                                                                 \
      for (size_t j = 0; j < k; j++) {                                                                                 \
        size_t i = i0 + j;                                                                                             \
        o[j] = (type)(expr);                                                                                           \
      }                                                                                                                \
      vigil__w_put(&w, stage, k * sizeof(type));                                                                       \
    }                                                                                                                  \
    vigil__w_pad(&w);                                                                                                  \
  } while (0)
  SECTION(ix->nv, uint64_t, ix->v[i].id);
  SECTION(ix->nv, uint32_t, ix->v[i].n);
  SECTION(ix->nv, uint8_t, ix->v[i].dead ? 1 : 0);
  SECTION(ix->nf, double, ix->f[i].ts);
  SECTION(ix->nf, uint32_t, ix->f[i].uid);
  SECTION(ix->nf, uint8_t, ix->f[i].quality);
#undef SECTION
  vigil__w_flush(&w);
  int rc = VIGIL_OK;
  if (!w.fail && w.total != h.payload_size) rc = vigil__seterr(err, VIGIL_EINTERNAL, "vpdq index save: size mismatch");
  /* zeros up to the PDQ index, which its own writer sums */
  memset(stage, 0, STAGE * 8);
  for (uint64_t at = HEADER_SIZE + h.payload_size; !rc && !w.fail && at < h.pdq_off;) {
    size_t k = h.pdq_off - at < STAGE * 8 ? (size_t)(h.pdq_off - at) : STAGE * 8;
    if (fwrite(stage, 1, k, w.f) != k) vigil__w_fail(&w);
    at += k;
  }
  if (!rc && !w.fail) rc = vigil__pdq_index_write(ix->pdq, w.f, af.tmp, &h.pdq_len, err);
  if (!rc && !w.fail) {
    h.payload_sum = vigil__sum_final(&w.sum);
    h.header_sum = header_sum(&h);
    if (fseeko(w.f, 0, SEEK_SET) != 0 || fwrite(&h, 1, sizeof h, w.f) != sizeof h) vigil__w_fail(&w);
  }
  if (!rc && w.fail) rc = vigil__seterr(err, VIGIL_EIO, "%s: write failed: %s", af.tmp, strerror(w.eno));
  if (rc) vigil__atomic_file_abort(&af);
  else rc = vigil__atomic_file_commit(&af, err);
  free(w.buf);
  free(stage);
  return rc;
}

/* ---- loading ---- */

static int bad(vigil_error *err, const char *path, const char *what) {
  return vigil__seterr(err, VIGIL_ECORRUPT, "%s: not a valid vpdq index (%s)", path, what);
}

/* The header read from fd, checked against the file's size. */
static int read_header(int fd, uint64_t fsize, const char *path, vhdr *h, vigil_error *err) {
  if (fsize < HEADER_SIZE) return bad(err, path, "too short");
  ssize_t got = pread(fd, h, sizeof *h, 0);
  if (got < 0) return vigil__seterr(err, VIGIL_EIO, "%s: %s", path, strerror(errno));
  if ((size_t)got != sizeof *h) return bad(err, path, "too short");
  if (memcmp(h->magic, MAGIC, 8)) return bad(err, path, "bad magic");
  if (h->version != VERSION)
    return vigil__seterr(err, VIGIL_EFORMAT, "%s: vpdq index version %u is not supported (this build reads %d)", path,
                         h->version, VERSION);
  if (h->header_size != HEADER_SIZE || h->bom != BOM || h->zero) return bad(err, path, "header size or byte order");
  if (header_sum(h) != h->header_sum) return bad(err, path, "header checksum");
  if (h->nu > VIGIL__VPDQ_MAX_FRAMES || h->nf > VIGIL__VPDQ_MAX_FRAMES || h->nv > VIGIL__VPDQ_MAX_FRAMES ||
      h->nu > h->nf)
    return bad(err, path, "counts");
  if (h->meta_len > VIGIL_VPDQ_META_MAX) return bad(err, path, "meta length");
  if (h->payload_size != payload_size(h->nf, h->nv, h->meta_len)) return bad(err, path, "payload size");
  uint64_t want_off = (HEADER_SIZE + h->payload_size + PDQ_ALIGN - 1) / PDQ_ALIGN * PDQ_ALIGN;
  if (h->pdq_off != want_off || h->pdq_off >= fsize || h->pdq_len != fsize - h->pdq_off)
    return bad(err, path, "file size");
  long page = sysconf(_SC_PAGESIZE);
  if (page <= 0 || h->pdq_off % (uint64_t)page)
    return vigil__seterr(err, VIGIL_EFORMAT, "%s: the PDQ index is not page-aligned on this system", path);
  return VIGIL_OK;
}

/* Fills the index's videos and frames from the payload p (checksummed),
 * checking every field. */
static int read_payload(vigil_vpdq_index *ix, const vhdr *h, const uint8_t *p, const char *path, vigil_error *err) {
  p += pad64(h->meta_len);
  const uint8_t *vid = p, *vn = vid + pad64(h->nv * 8), *vdead = vn + pad64(h->nv * 4);
  const uint8_t *ts = vdead + pad64(h->nv), *uid = ts + pad64(h->nf * 8), *q = uid + pad64(h->nf * 4);
  uint64_t first = 0;
  for (size_t k = 0; k < ix->nv; k++) {
    uint32_t n;
    memcpy(&ix->v[k].id, vid + 8 * k, 8);
    memcpy(&n, vn + 4 * k, 4);
    if (vdead[k] > 1) return bad(err, path, "a video's removed flag");
    if (n > h->nf - first) return bad(err, path, "video frame counts");
    ix->v[k].first = (uint32_t)first;
    ix->v[k].n = n;
    ix->v[k].dead = vdead[k];
    first += n;
  }
  if (first != h->nf) return bad(err, path, "video frame counts");
  for (size_t i = 0; i < ix->nf; i++) {
    vigil__vpdq_frame *f = &ix->f[i];
    memcpy(&f->ts, ts + 8 * i, 8);
    memcpy(&f->uid, uid + 4 * i, 4);
    f->quality = q[i];
    if (f->uid >= h->nu) return bad(err, path, "a frame's hash number");
    if (f->quality > 100) return bad(err, path, "a frame's quality");
    if (!(f->ts >= 0 && f->ts <= VIGIL_VPDQ_MAX_TIMESTAMP)) return bad(err, path, "a frame's timestamp");
  }
  return VIGIL_OK;
}

/* uh[0..nu) from the PDQ index's entries, whose ids must be 0..nu-1, each once. */
static int unique_hashes(vigil_vpdq_index *ix, const char *path, vigil_error *err) {
  const vigil_pdq_hash *hs;
  const uint64_t *ids;
  size_t n;
  vigil__pdq_index_entries(ix->pdq, &hs, &ids, &n);
  if (n != ix->nu) return bad(err, path, "the PDQ index's size");
  if (!n) return VIGIL_OK;
  uint8_t *seen = calloc(n, 1);
  if (!seen) return vigil__seterr(err, VIGIL_ENOMEM, "vpdq: out of memory loading %s", path);
  int rc = VIGIL_OK;
  for (size_t i = 0; i < n && !rc; i++) {
    if (ids[i] >= n || seen[ids[i]]) rc = bad(err, path, "the PDQ index's ids");
    else seen[ids[i]] = 1, ix->uh[ids[i]] = hs[i];
  }
  free(seen);
  return rc;
}

int vigil_vpdq_index_load(vigil_vpdq_index **out, const char *path, void **meta, size_t *meta_len, vigil_error *err) {
  if (!out || !path) return vigil__seterr(err, VIGIL_EINVAL, "vpdq index load: index and path are required");
  *out = NULL;
  if (meta) *meta = NULL;
  if (meta_len) *meta_len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return vigil__seterr(err, errno == ENOENT ? VIGIL_ENOTFOUND : VIGIL_EIO, "%s: %s", path, strerror(errno));
  struct stat st;
  vhdr h;
  int rc = VIGIL_OK;
  if (fstat(fd, &st) != 0) rc = vigil__seterr(err, VIGIL_EIO, "%s: %s", path, strerror(errno));
  else if (!S_ISREG(st.st_mode)) rc = bad(err, path, "not a regular file");
  else rc = read_header(fd, (uint64_t)st.st_size, path, &h, err);
  if (rc) {
    close(fd);
    return rc;
  }
  /* The payload through a mapping (read once, then let go), checksummed
   * before anything in it is believed. */
  size_t plen = (size_t)(HEADER_SIZE + h.payload_size);
  uint8_t *map = mmap(NULL, plen, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) {
    rc = vigil__seterr(err, VIGIL_EIO, "%s: mmap: %s", path, strerror(errno));
    close(fd);
    return rc;
  }
  madvise(map, plen, MADV_SEQUENTIAL);
  vigil__sum4 s;
  vigil__sum_init(&s);
  vigil__sum_blocks(&s, map + HEADER_SIZE, (size_t)h.payload_size);
  if (vigil__sum_final(&s) != h.payload_sum) rc = bad(err, path, "checksum");
  vigil_vpdq_index *ix = rc ? NULL : calloc(1, sizeof *ix);
  if (!rc && !ix) rc = vigil__seterr(err, VIGIL_ENOMEM, "vpdq: out of memory loading %s", path);
  if (!rc) {
    ix->nu = ix->ucap = (size_t)h.nu;
    ix->nf = ix->fcap = (size_t)h.nf;
    ix->nv = ix->vcap = (size_t)h.nv;
    if ((h.nu && !(ix->uh = vigil__mallocarray(h.nu, sizeof *ix->uh))) ||
        (h.nf && !(ix->f = vigil__mallocarray(h.nf, sizeof *ix->f))) ||
        (h.nv && !(ix->v = vigil__mallocarray(h.nv, sizeof *ix->v))))
      rc = vigil__seterr(err, VIGIL_ENOMEM, "vpdq: out of memory loading %s (%llu frames)", path,
                         (unsigned long long)h.nf);
  }
  if (!rc) rc = read_payload(ix, &h, map + HEADER_SIZE, path, err);
  void *m = NULL;
  if (!rc && meta && h.meta_len) {
    if (!(m = malloc((size_t)h.meta_len)))
      rc = vigil__seterr(err, VIGIL_ENOMEM, "vpdq: out of memory loading %s", path);
    else memcpy(m, map + HEADER_SIZE, (size_t)h.meta_len);
  }
  munmap(map, plen);
  if (!rc) rc = vigil__pdq_index_load_fd(&ix->pdq, fd, h.pdq_off, h.pdq_len, path, err);
  close(fd);
  if (!rc && !ix->pdq) rc = vigil__seterr(err, VIGIL_EINTERNAL, "%s: no PDQ index", path);
  if (!rc) rc = unique_hashes(ix, path, err);
  if (!rc) rc = vigil__vpdq_index_derive(ix, path, err);
  if (rc) {
    vigil_vpdq_index_free(ix);
    free(m);
    return rc;
  }
  *out = ix;
  if (meta) *meta = m;
  if (meta_len) *meta_len = (size_t)h.meta_len;
  return VIGIL_OK;
}

int vigil__vpdq_file_reseal(uint8_t *file, size_t len) {
  vhdr h;
  if (len < HEADER_SIZE) return VIGIL_EINVAL;
  memcpy(&h, file, sizeof h);
  if (h.payload_size % 32 || h.payload_size > len - HEADER_SIZE) return VIGIL_EINVAL;
  vigil__sum4 s;
  vigil__sum_init(&s);
  vigil__sum_blocks(&s, file + HEADER_SIZE, (size_t)h.payload_size);
  h.payload_sum = vigil__sum_final(&s);
  h.header_sum = header_sum(&h);
  memcpy(file, &h, sizeof h);
  return VIGIL_OK;
}
