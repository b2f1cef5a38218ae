/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pdq_file.c - saving a PDQ index to one file and loading it with mmap.
 *
 * The file is the in-memory layout, so that loading is a mapping plus
 * validation, not a rebuild:
 *
 *   header (256 bytes, little-endian)
 *     magic "VGLPDQIX", version, header size, byte-order mark,
 *     n, bits (b), m, pool lengths of tables 0..11, payload size,
 *     payload checksum, pool lengths of tables 12..23 (zero past m),
 *     header checksum (of the bytes before it)
 *   payload, each section padded to 64 bytes:
 *     hashes   n x 32 bytes
 *     ids      n x u64
 *     per table: headers 2^b x u64, pool pool_len x u32
 *
 * Saving packs every bucket into the smallest class that holds it (free
 * blocks left by churn are not written) and replaces PATH whole
 * (common/atomic_file.h: a temporary file of its own beside it, fsync,
 * rename, fsync of the directory), so a crash never leaves a half-written
 * index under PATH.
 *
 * Loading trusts nothing: sizes must add up to the file's size exactly, both
 * checksums must match, and every bucket must lie inside its pool and every
 * slot number be below n.  Only then do queries run on the mapping, so a
 * corrupt or hostile file is an error, never a crash.  The id map is built
 * later, on the first change (queries do not need it), which keeps a 10M
 * load to a checksum pass over the file.
 *
 * The same bytes can sit inside another file at a page-aligned offset (the
 * vPDQ index file embeds the index of its unique frame hashes this way):
 * vigil__pdq_index_write writes at a FILE's position, and
 * vigil__pdq_index_load_fd maps and validates a range of a descriptor.
 */
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

#define MAGIC "VGLPDQIX"
#define VERSION 2 /* 2: tables keyed by DCT parity class (vigil__key_words) */
#define HEADER_SIZE 256
#define BOM 0x01020304u

typedef struct file_header {
  char magic[8];
  uint32_t version, header_size, bom, bits;
  uint64_t n, m;
  uint64_t pool_len_lo[12]; /* tables 0..11 */
  uint64_t payload_size, payload_sum;
  /* Tables 12..23 where the first files had reserved zero bytes, so files
   * of 12 tables keep their layout; zero past m. */
  uint64_t pool_len_hi[VIGIL__MIH_MAXTABLES - 12];
  uint64_t header_sum;
} file_header;

static uint64_t *pool_len(file_header *h, uint64_t i) { return i < 12 ? &h->pool_len_lo[i] : &h->pool_len_hi[i - 12]; }

_Static_assert(sizeof(file_header) == HEADER_SIZE, "file header is 256 bytes");

/* Four-lane multiply-rotate checksum over 32-byte blocks (xxHash-style
 * rounds): fast enough to cover a 1 GB file on load.  Shared with the vPDQ
 * index file (lib/video/vpdq_file.c) through match_internal.h. */
typedef vigil__sum4 sum4;

void vigil__sum_init(sum4 *s) {
  s->l[0] = 0x9e3779b185ebca87ull;
  s->l[1] = 0xc2b2ae3d27d4eb4full;
  s->l[2] = 0x165667b19e3779f9ull;
  s->l[3] = 0x27d4eb2f165667c5ull;
}

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

void vigil__sum_blocks(sum4 *s, const uint8_t *p, size_t n) { /* n % 32 == 0 */
  uint64_t a = s->l[0], b = s->l[1], c = s->l[2], d = s->l[3];
  for (size_t i = 0; i < n; i += 32) {
    uint64_t w[4];
    memcpy(w, p + i, 32);
    a = rotl(a + w[0] * 0xc2b2ae3d27d4eb4full, 31) * 0x9e3779b185ebca87ull;
    b = rotl(b + w[1] * 0xc2b2ae3d27d4eb4full, 31) * 0x9e3779b185ebca87ull;
    c = rotl(c + w[2] * 0xc2b2ae3d27d4eb4full, 31) * 0x9e3779b185ebca87ull;
    d = rotl(d + w[3] * 0xc2b2ae3d27d4eb4full, 31) * 0x9e3779b185ebca87ull;
  }
  s->l[0] = a, s->l[1] = b, s->l[2] = c, s->l[3] = d;
}

uint64_t vigil__sum_final(const sum4 *s) {
  uint64_t h = rotl(s->l[0], 1) + rotl(s->l[1], 7) + rotl(s->l[2], 12) + rotl(s->l[3], 18);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

static uint64_t header_sum(const file_header *h) {
  uint8_t buf[HEADER_SIZE - 8 + 24];
  memset(buf, 0, sizeof buf);
  memcpy(buf, h, HEADER_SIZE - 8);
  sum4 s;
  vigil__sum_init(&s);
  vigil__sum_blocks(&s, buf, (HEADER_SIZE - 8 + 24) / 32 * 32);
  return vigil__sum_final(&s);
}

static uint64_t pad64(uint64_t n) { return (n + 63) & ~(uint64_t)63; }

/* ---- writing ---- */

#define WBUF VIGIL__WBUF

typedef vigil__writer writer;

void vigil__w_fail(writer *w) {
  if (!w->fail) w->eno = errno ? errno : EIO;
  w->fail = true;
}

void vigil__w_flush(writer *w) {
  if (w->fail || w->fill == 0) return;
  vigil__sum_blocks(&w->sum, w->buf, w->fill); /* every flush is a multiple of 64 bytes */
  if (fwrite(w->buf, 1, w->fill, w->f) != w->fill) vigil__w_fail(w);
  w->total += w->fill;
  w->fill = 0;
}

void vigil__w_put(writer *w, const void *p, size_t n) {
  const uint8_t *s = p;
  while (n && !w->fail) {
    size_t k = WBUF - w->fill < n ? WBUF - w->fill : n;
    memcpy(w->buf + w->fill, s, k);
    w->fill += k;
    s += k;
    n -= k;
    if (w->fill == WBUF) vigil__w_flush(w);
  }
}

void vigil__w_pad(writer *w) {
  static const uint8_t zero[64];
  size_t used = (size_t)((w->total + w->fill) & 63);
  if (used) vigil__w_put(w, zero, 64 - used);
}


int vigil__pdq_index_write(const vigil_pdq_index *ix, FILE *f, const char *what, uint64_t *written,
                           vigil_error *err) {
  file_header h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, MAGIC, 8);
  h.version = VERSION;
  h.header_size = HEADER_SIZE;
  h.bom = BOM;
  h.n = ix->n;
  h.bits = (uint32_t)ix->bits;
  h.m = (uint64_t)ix->m;
  size_t nb = ix->m ? (size_t)1 << ix->bits : 0;
  /* Packed pool sizes. */
  for (int i = 0; i < ix->m; i++) {
    uint64_t tot = 0;
    for (size_t k = 0; k < nb; k++) tot += vigil__class_cap(vigil__class_for(vigil__hdr_len(ix->t[i].hdr[k])));
    *pool_len(&h, i) = tot;
  }
  uint64_t payload = pad64(ix->n * 32) + pad64(ix->n * 8);
  for (int i = 0; i < ix->m; i++) payload += pad64(nb * 8) + pad64(*pool_len(&h, i) * 4);
  h.payload_size = payload;

  writer w = {0};
  w.f = f;
  w.buf = malloc(WBUF);
  uint64_t *nh = nb ? vigil__mallocarray(nb, sizeof *nh) : NULL;
  uint32_t *np = NULL;
  off_t base = ftello(f);
  if (!w.buf || (nb && !nh)) {
    free(w.buf);
    free(nh);
    return vigil__seterr(err, VIGIL_ENOMEM, "pdq index save: out of memory");
  }
  if (base < 0) vigil__w_fail(&w);
  vigil__sum_init(&w.sum);
  /* Header first as a placeholder; rewritten with the checksum at the end. */
  if (fwrite(&h, 1, sizeof h, w.f) != sizeof h) vigil__w_fail(&w);
  vigil__w_put(&w, ix->hashes, ix->n * 32);
  vigil__w_pad(&w);
  vigil__w_put(&w, ix->ids, ix->n * 8);
  vigil__w_pad(&w);
  int rc = VIGIL_OK;
  for (int i = 0; i < ix->m && !w.fail && !rc; i++) {
    const vigil__table *t = &ix->t[i];
    np = vigil__mallocarray(*pool_len(&h, i) ? *pool_len(&h, i) : 1, sizeof *np);
    if (!np) {
      rc = vigil__seterr(err, VIGIL_ENOMEM, "pdq index save: out of memory");
      break;
    }
    uint64_t off = 0;
    for (size_t k = 0; k < nb; k++) {
      uint32_t len = vigil__hdr_len(t->hdr[k]);
      unsigned cls = vigil__class_for(len);
      memcpy(np + off, t->pool + vigil__hdr_off(t->hdr[k]), (size_t)len * 4);
      if (vigil__class_cap(cls) > len) memset(np + off + len, 0, (size_t)(vigil__class_cap(cls) - len) * 4);
      nh[k] = vigil__hdr_pack((uint32_t)off, len, cls);
      off += vigil__class_cap(cls);
    }
    vigil__w_put(&w, nh, nb * 8);
    vigil__w_pad(&w);
    vigil__w_put(&w, np, *pool_len(&h, i) * 4);
    vigil__w_pad(&w);
    free(np);
    np = NULL;
  }
  vigil__w_flush(&w);
  if (!rc && !w.fail && w.total != payload) rc = vigil__seterr(err, VIGIL_EINTERNAL, "pdq index save: size mismatch");
  if (!rc && !w.fail) {
    h.payload_sum = vigil__sum_final(&w.sum);
    h.header_sum = header_sum(&h);
    if (fseeko(w.f, base, SEEK_SET) != 0 || fwrite(&h, 1, sizeof h, w.f) != sizeof h ||
        fseeko(w.f, 0, SEEK_END) != 0)
      vigil__w_fail(&w);
  }
  if (!rc && w.fail) rc = vigil__seterr(err, VIGIL_EIO, "%s: write failed: %s", what, strerror(w.eno));
  if (!rc) *written = HEADER_SIZE + payload;
  free(w.buf);
  free(nh);
  return rc;
}

int vigil_pdq_index_save(const vigil_pdq_index *ix, const char *path, vigil_error *err) {
  if (!ix || !path) return vigil__seterr(err, VIGIL_EINVAL, "pdq index save: NULL argument");
  vigil__atomic_file af;
  /* Its owner's only (0600), as the vPDQ index file: it lists known content. */
  int rc = vigil__atomic_file_open(&af, path, 0600, err);
  if (rc) return rc;
  uint64_t written = 0;
  rc = vigil__pdq_index_write(ix, af.f, af.tmp, &written, err);
  if (rc) {
    vigil__atomic_file_abort(&af);
    return rc;
  }
  return vigil__atomic_file_commit(&af, err);
}

/* ---- loading ---- */

static int bad(vigil_error *err, const char *path, const char *what) {
  return vigil__seterr(err, VIGIL_ECORRUPT, "%s: not a valid vigil PDQ index (%s)", path, what);
}

int vigil_pdq_index_load(vigil_pdq_index **out, const char *path, vigil_error *err) {
  if (!out || !path) return vigil__seterr(err, VIGIL_EINVAL, "pdq index load: NULL argument");
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return vigil__seterr(err, errno == ENOENT ? VIGIL_ENOTFOUND : VIGIL_EIO, "%s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return vigil__seterr(err, VIGIL_EIO, "%s: %s", path, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return bad(err, path, "too short");
  }
  int rc = vigil__pdq_index_load_fd(out, fd, 0, (uint64_t)st.st_size, path, err);
  close(fd);
  return rc;
}

int vigil__pdq_index_load_fd(vigil_pdq_index **out, int fd, uint64_t offset, uint64_t flen, const char *path,
                             vigil_error *err) {
  *out = NULL;
  if (flen < HEADER_SIZE || flen > SIZE_MAX) return bad(err, path, "too short");
  size_t len = (size_t)flen;
  uint8_t *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, (off_t)offset);
  if (map == MAP_FAILED) return vigil__seterr(err, VIGIL_EIO, "%s: mmap: %s", path, strerror(errno));
  /* Hints only: huge pages where the file system's page cache has them
   * (queries are random reads), and read-ahead for the checksum pass. */
#ifdef MADV_HUGEPAGE
  madvise(map, len, MADV_HUGEPAGE);
#endif
  madvise(map, len, MADV_WILLNEED);
  int rc = VIGIL_OK;
  file_header h;
  memcpy(&h, map, sizeof h);
  size_t nb = 0;
  if (memcmp(h.magic, MAGIC, 8)) rc = bad(err, path, "bad magic");
  else if (h.version != VERSION) rc = vigil__seterr(err, VIGIL_EFORMAT, "%s: PDQ index version %u is not supported", path, h.version);
  else if (h.header_size != HEADER_SIZE || h.bom != BOM) rc = bad(err, path, "header size or byte order");
  else if (header_sum(&h) != h.header_sum) rc = bad(err, path, "header checksum");
  else if (h.n > VIGIL__MAX_ENTRIES) rc = bad(err, path, "too many entries");
  else if (!((h.m == 0 && h.bits == 0) ||
             (h.m >= 1 && h.m <= VIGIL__MIH_MAXTABLES && h.bits >= VIGIL__MIH_MINBITS &&
              h.bits <= VIGIL__MIH_MAXBITS && h.m * h.bits <= 256)))
    rc = bad(err, path, "table shape");
  for (uint64_t i = h.m; i < VIGIL__MIH_MAXTABLES && !rc; i++)
    if (*pool_len(&h, i)) rc = bad(err, path, "table shape");
  if (!rc) {
    nb = h.m ? (size_t)1 << h.bits : 0;
    uint64_t payload = pad64(h.n * 32) + pad64(h.n * 8);
    for (uint64_t i = 0; i < h.m && !rc; i++) {
      if (*pool_len(&h, i) > UINT32_MAX) rc = bad(err, path, "pool size");
      payload += pad64(nb * 8) + pad64(*pool_len(&h, i) * 4);
    }
    if (!rc && (payload != h.payload_size || payload != len - HEADER_SIZE)) rc = bad(err, path, "file size");
  }
  if (!rc) {
    sum4 s;
    vigil__sum_init(&s);
    vigil__sum_blocks(&s, map + HEADER_SIZE, (size_t)h.payload_size);
    if (vigil__sum_final(&s) != h.payload_sum) rc = bad(err, path, "checksum");
  }
  vigil_pdq_index *ix = NULL;
  if (!rc && !(ix = calloc(1, sizeof *ix))) rc = vigil__seterr(err, VIGIL_ENOMEM, "pdq index load: out of memory");
  if (!rc) {
    ix->tune = vigil__qtune_default();
    uint8_t *p = map + HEADER_SIZE;
    ix->n = ix->cap = (size_t)h.n;
    ix->hashes = (vigil_pdq_hash *)p;
    p += pad64(h.n * 32);
    ix->ids = (uint64_t *)p;
    p += pad64(h.n * 8);
    ix->bits = (int)h.bits;
    ix->built_n = ix->n;
    ix->m = (int)h.m;
    vigil__set_layout(ix);
    ix->map = map;
    ix->map_len = len;
    ix->idmap_ok = false;
    for (int i = 0; i < ix->m && !rc; i++) {
      vigil__table *t = &ix->t[i];
      t->hdr = (uint64_t *)p;
      p += pad64(nb * 8);
      t->pool = (uint32_t *)p;
      p += pad64(*pool_len(&h, i) * 4);
      t->pool_len = t->pool_cap = *pool_len(&h, i);
      for (int c = 0; c < VIGIL__MIH_CLASSES; c++) t->free_head[c] = VIGIL__NONE;
      /* Bounds: the only facts queries rely on for memory safety. */
      uint64_t total = 0;
      for (size_t k = 0; k < nb && !rc; k++) {
        uint64_t hd = t->hdr[k];
        uint32_t off = vigil__hdr_off(hd), l = vigil__hdr_len(hd);
        uint64_t cap = vigil__class_cap(vigil__hdr_class(hd));
        if (l > cap || (uint64_t)off + cap > t->pool_len) rc = bad(err, path, "bucket out of bounds");
        total += l;
      }
      if (!rc && total != h.n) rc = bad(err, path, "table size");
      uint32_t mx = 0;
      for (uint64_t k = 0; k < t->pool_len; k++) mx |= t->pool[k] >= h.n ? 1u : 0u;
      if (!rc && mx && h.n) {
        /* Padding inside blocks is zero, so a slot >= n is corruption
         * unless it lies past some bucket's len; check bucket by bucket. */
        for (size_t k = 0; k < nb && !rc; k++) {
          uint64_t hd = t->hdr[k];
          for (uint32_t j = 0; j < vigil__hdr_len(hd) && !rc; j++)
            if (t->pool[vigil__hdr_off(hd) + j] >= h.n) rc = bad(err, path, "slot out of range");
        }
      } else if (!rc && mx) {
        rc = bad(err, path, "slot out of range");
      }
    }
  }
  if (rc) {
    if (ix) {
      ix->map = NULL;
      ix->m = 0;
      ix->hashes = NULL;
      ix->ids = NULL;
      free(ix);
    }
    munmap(map, len);
    return rc;
  }
  *out = ix;
  return VIGIL_OK;
}

int vigil__pdq_file_reseal(uint8_t *file, size_t len) {
  if (len < HEADER_SIZE || (len - HEADER_SIZE) % 32) return VIGIL_EINVAL;
  file_header h;
  memcpy(&h, file, sizeof h);
  sum4 s;
  vigil__sum_init(&s);
  vigil__sum_blocks(&s, file + HEADER_SIZE, len - HEADER_SIZE);
  h.payload_sum = vigil__sum_final(&s);
  h.header_sum = header_sum(&h);
  memcpy(file, &h, sizeof h);
  return VIGIL_OK;
}

void vigil__pdq_index_entries(const vigil_pdq_index *ix, const vigil_pdq_hash **hashes, const uint64_t **ids,
                              size_t *n) {
  *hashes = ix->hashes;
  *ids = ix->ids;
  *n = ix->n;
}
