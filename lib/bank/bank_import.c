/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bank_import.c - importing a file into a bank, all or nothing.
 *
 * Lines are read through a bounded reader: a line longer than
 * VIGIL_BANK_LINE_MAX is reported and skipped without ever being held in
 * memory whole, so a hostile file costs at most one buffer.
 *
 * Transactions.  Without a batch size the whole input is one transaction:
 * the first bad line stops the writing, the rest is still parsed so that
 * every error is reported, and the transaction is rolled back.  With a
 * batch size a transaction is committed every `batch` entries and reported
 * through on_commit once durable; to keep "nothing written if any line is
 * bad", a seekable input is validated completely first.  With skip_bad the
 * good lines are written and the bad ones reported.
 *
 * Idempotence: entries are put by identity (bank, type, value), so a line
 * already present counts as existing and changes nothing.
 *
 * Speed: parsed entries are buffered (compactly: fixed part plus a string
 * arena) and written sorted by identity, a window at a time.  Random hash
 * values land all over the identity index; sorted, consecutive inserts hit
 * the same index pages, which stay hot in cache and are written to the WAL
 * once per window rather than once per entry.  Ties keep input order, so
 * the first of two lines with one identity still wins.  Within a batch the
 * row ids therefore follow identity order, not line order.
 */
#include "bank/bank_backend.h"
#include "bank/bank_parse.h"
#include "common/internal.h"
#include "common/grow.h"

#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#define READ_BUF (1u << 20) /* > VIGIL_BANK_LINE_MAX + 1: a whole line always fits */

typedef struct reader {
  FILE *f;
  char *buf;
  size_t start, end;
  int eof;
} reader;

/* Next line (without "\n" or "\r\n") into line and len; *too_long when the
 * line exceeded VIGIL_BANK_LINE_MAX (it is then skipped, *len = limit+1).
 * Returns 1 for a line, 0 at the end, VIGIL_EIO on a read error. */
static int rd_line(reader *r, const char **line, size_t *len) {
  for (;;) {
    size_t have = r->end - r->start;
    char *nl = memchr(r->buf + r->start, '\n', have);
    if (nl) {
      *line = r->buf + r->start;
      *len = (size_t)(nl - *line);
      r->start += *len + 1;
      break;
    }
    if (r->eof) {
      if (have == 0) return 0;
      *line = r->buf + r->start;
      *len = have;
      r->start = r->end;
      break;
    }
    if (have > VIGIL_BANK_LINE_MAX) {
      /* discard up to the next newline, a buffer at a time */
      *line = r->buf;
      *len = VIGIL_BANK_LINE_MAX + 1;
      for (;;) {
        size_t n = fread(r->buf, 1, READ_BUF, r->f);
        if (n == 0) {
          if (ferror(r->f)) return VIGIL_EIO;
          r->eof = 1;
          r->start = r->end = 0;
          return 1;
        }
        char *p = memchr(r->buf, '\n', n);
        if (p) {
          r->start = (size_t)(p - r->buf) + 1;
          r->end = n;
          return 1;
        }
      }
    }
    memmove(r->buf, r->buf + r->start, have);
    r->start = 0;
    r->end = have;
    size_t n = fread(r->buf + r->end, 1, READ_BUF - r->end, r->f);
    if (n == 0) {
      if (ferror(r->f)) return VIGIL_EIO;
      r->eof = 1;
    }
    r->end += n;
  }
  if (*len && (*line)[*len - 1] == '\r') (*len)--;
  return 1;
}

void vigil_bank_import_opts_default(vigil_bank_import_opts *o) {
  memset(o, 0, sizeof *o);
  o->format = VIGIL_BANK_FMT_CSV;
  o->max_errors = 20;
}

void vigil_bank_import_report_free(vigil_bank_import_report *r) {
  if (!r) return;
  free(r->errors);
  r->errors = NULL;
  r->nerrors = 0;
}

int vigil_bank_format_from_name(const char *name) {
  if (!name) return VIGIL_EINVAL;
  if (!strcmp(name, "csv")) return VIGIL_BANK_FMT_CSV;
  if (!strcmp(name, "te") || !strcmp(name, "txt")) return VIGIL_BANK_FMT_TE;
  if (!strcmp(name, "jsonl") || !strcmp(name, "json")) return VIGIL_BANK_FMT_JSONL;
  if (!strcmp(name, "vpdq")) return VIGIL_BANK_FMT_VPDQ;
  return VIGIL_EINVAL;
}

/* Largest sort window (entries buffered before they are written). */
#define SORT_WINDOW (1u << 19)

/* One buffered entry: the fixed fields, its strings in the arena. */
typedef struct prow {
  uint64_t line;
  int64_t removed;
  size_t off; /* external_id, tags, source, removed_reason: 4 NUL-terminated strings */
  size_t foff, nfr; /* vpdq: its frames in pending.fr */
  uint8_t type;
  uint8_t value[VIGIL_BANK_VALUE_MAX];
} prow;

typedef struct pending {
  prow *rows;
  size_t n, cap;
  char *arena;
  size_t alen, acap;
  vigil_video_frame *fr; /* the frames of buffered vpdq entries */
  size_t nfr, frcap;
} pending;

/* Buffered frames past which the window is written early (about 200 MB). */
#define FRAMES_WINDOW ((size_t)1 << 22)

typedef struct importer {
  vigil_bank_store *st;
  pending pend;
  const vigil_bank_import_opts *o;
  vigil_bank_import_report *rep;
  int max_errors;
  char tags[VIGIL_BANK_TAGS_MAX + 1];
  vigil_bank_entry e;
  vigil_bank_entry *many; /* VIGIL__PUT_MANY_MAX entries, for backends with entry_put_many */
} importer;

static int arena_put(pending *p, const char *s) {
  size_t n = strlen(s) + 1;
  if (vigil__grow_from((void **)&p->arena, &p->acap, p->alen + n, 1, 1u << 20)) return -1;
  memcpy(p->arena + p->alen, s, n);
  p->alen += n;
  return 0;
}

static int pend_push(pending *p, const vigil_bank_entry *e, uint64_t line) {
  if (p->n == p->cap && vigil__grow_from((void **)&p->rows, &p->cap, p->n + 1, sizeof *p->rows, 4096)) return -1;
  prow *r = &p->rows[p->n];
  r->line = line;
  r->removed = e->removed;
  r->off = p->alen;
  r->type = (uint8_t)e->type;
  memcpy(r->value, e->value, VIGIL_BANK_VALUE_MAX);
  r->foff = p->nfr;
  r->nfr = e->frames ? e->nframes : 0;
  if (r->nfr) {
    if (vigil__grow_from((void **)&p->fr, &p->frcap, p->nfr + r->nfr, sizeof *p->fr, 4096)) return -1;
    memcpy(p->fr + p->nfr, e->frames, r->nfr * sizeof *p->fr);
  }
  if (arena_put(p, e->external_id) || arena_put(p, e->tags) || arena_put(p, e->source) ||
      arena_put(p, e->removed_reason))
    return -1;
  p->nfr += r->nfr;
  p->n++;
  return 0;
}

static int prow_cmp(const void *a, const void *b) {
  const prow *x = a, *y = b;
  if (x->type != y->type) return x->type < y->type ? -1 : 1;
  int c = memcmp(x->value, y->value, VIGIL_BANK_VALUE_MAX);
  if (c) return c;
  return x->line < y->line ? -1 : x->line > y->line;
}

static void copy_str(char *dst, size_t cap, const char **src) {
  size_t n = strlen(*src);
  if (n >= cap) n = cap - 1; /* cannot happen: validated on the way in */
  memcpy(dst, *src, n);
  dst[n] = '\0';
  *src += strlen(*src) + 1;
}

static void record_error(importer *im, uint64_t line, const char *msg) {
  vigil_bank_import_report *r = im->rep;
  r->bad++;
  if (r->nerrors >= (size_t)im->max_errors) return;
  if (!r->errors) {
    r->errors = vigil__mallocarray((size_t)im->max_errors, sizeof *r->errors);
    if (!r->errors) return; /* the count above still tells */
  }
  vigil_bank_import_error *e = &r->errors[r->nerrors++];
  e->line = line;
  size_t n = strlen(msg);
  if (n >= sizeof e->message) {
    n = sizeof e->message - 1;
    while (n && ((unsigned char)msg[n] & 0xc0) == 0x80) n--; /* cut on a UTF-8 boundary */
  }
  memcpy(e->message, msg, n);
  e->message[n] = '\0';
}

/* Pending row r as an entry. */
static void fill_entry(const pending *p, const prow *r, int64_t now, vigil_bank_entry *e) {
  const char *s = p->arena + r->off;
  e->id = 0;
  e->type = (vigil_signal_type)r->type;
  e->value_len = vigil_signal_value_len(e->type);
  memcpy(e->value, r->value, VIGIL_BANK_VALUE_MAX);
  copy_str(e->external_id, sizeof e->external_id, &s);
  copy_str(e->tags, sizeof e->tags, &s);
  copy_str(e->source, sizeof e->source, &s);
  copy_str(e->removed_reason, sizeof e->removed_reason, &s);
  e->added = now;
  e->removed = r->removed;
  e->frames = r->nfr ? p->fr + r->foff : NULL;
  e->nframes = r->nfr;
}

static void count_outcome(importer *im, int outcome) {
  if (outcome == VIGIL__PUT_ADDED) im->rep->added++;
  else if (outcome == VIGIL__PUT_REMOVED) im->rep->removed++;
  else im->rep->existing++;
}

/* Writes the buffered entries, sorted by identity, into the open
 * transaction; counts the outcomes.  Backends with entry_put_many get them
 * VIGIL__PUT_MANY_MAX at a time. */
static int flush(importer *im, uint64_t bank_id, int64_t now, vigil_error *err) {
  pending *p = &im->pend;
  if (p->n > 1) qsort(p->rows, p->n, sizeof *p->rows, prow_cmp);
  const vigil__bank_backend *be = im->st->be;
  if (be->entry_put_many && !im->many && !(im->many = vigil__mallocarray(VIGIL__PUT_MANY_MAX, sizeof *im->many)))
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  int outcomes[VIGIL__PUT_MANY_MAX];
  for (size_t i = 0; i < p->n;) {
    int rc;
    size_t k = 1;
    if (be->entry_put_many) {
      k = p->n - i < VIGIL__PUT_MANY_MAX ? p->n - i : VIGIL__PUT_MANY_MAX;
      for (size_t j = 0; j < k; j++) fill_entry(p, &p->rows[i + j], now, &im->many[j]);
      rc = be->entry_put_many(im->st->impl, bank_id, im->many, k, outcomes, err);
    } else {
      fill_entry(p, &p->rows[i], now, &im->e);
      rc = be->entry_put(im->st->impl, bank_id, &im->e, 0, &outcomes[0], err);
    }
    if (rc) {
      vigil__prefixerr(err, rc, "import");
      return rc;
    }
    for (size_t j = 0; j < k; j++) count_outcome(im, outcomes[j]);
    i += k;
  }
  p->n = 0;
  p->alen = 0;
  p->nfr = 0;
  return VIGIL_OK;
}

/* Validation-only pass over the input (seekable inputs with batches). */
static int validate_all(importer *im, reader *rd, vigil_error *err) {
  vigil__bank_parser p;
  vigil__bank_parser_init(&p, im->o->format, im->o->source, im->tags);
  const char *line;
  size_t len;
  uint64_t ln = 0;
  int rc;
  vigil_error le;
  while ((rc = rd_line(rd, &line, &len)) == 1) {
    ln++;
    int skip, fatal;
    if (vigil__bank_parse_line(&p, line, len, &im->e, &skip, &fatal, &le)) {
      record_error(im, ln, le.message);
      if (fatal) break;
    }
  }
  vigil__bank_parser_done(&p);
  if (rc < 0) return vigil__seterr(err, VIGIL_EIO, "read error after line %llu", (unsigned long long)ln);
  if (im->o->format == VIGIL_BANK_FMT_CSV && !p.have_header && im->rep->bad == 0)
    record_error(im, 1, "empty input: a CSV header line is required");
  return VIGIL_OK;
}

/* The reference's per-frame file ("frame,quality,hash,timestamp" lines, as
 * vpdq-hash-video writes them): the whole input is one vpdq entry, so it
 * is read whole (bounded by VIGIL_BANK_FRAMES_MAX lines) and added as
 * vigil_bank_add adds, with the import's audit record in the same
 * transaction.  Bad lines are reported by number; with skip_bad the entry
 * is the good ones. */
static int import_reference(vigil_bank_store *st, const char *bank, FILE *in, const vigil_bank_import_opts *o,
                            vigil_bank_import_report *rep, vigil_error *err) {
  importer im;
  memset(&im, 0, sizeof im);
  im.rep = rep;
  im.max_errors = o->max_errors > 0 ? o->max_errors : 20;
  vigil_bank_entry *e = calloc(1, sizeof *e);
  reader rd = {in, malloc(READ_BUF), 0, 0, 0};
  vigil_video_frame *fr = NULL;
  size_t nfr = 0, cap = 0;
  int rc = VIGIL_OK, r;
  if (!e || !rd.buf) {
    rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    goto out;
  }
  if (o->external_id &&
      (rc = vigil__bank_text_valid(o->external_id, strlen(o->external_id), VIGIL_BANK_TEXT_MAX, "external id", err)))
    goto out;
  const char *line;
  size_t len;
  while ((r = rd_line(&rd, &line, &len)) == 1) {
    rep->lines++;
    vigil_video_frame *one = NULL;
    size_t n1 = 0;
    vigil_error le;
    if (len > VIGIL_VIDEO_LINE_MAX) {
      record_error(&im, rep->lines, "line longer than a frame line (frame,quality,hash,timestamp)");
      continue;
    }
    if (vigil_vpdq_from_reference(line, len, &one, &n1, &le)) {
      const char *msg = strstr(le.message, "line 1: "); /* the number is ours, not the one-line parse's */
      record_error(&im, rep->lines, msg ? msg + 8 : le.message);
      continue;
    }
    if (n1 && nfr >= VIGIL_BANK_FRAMES_MAX) {
      vigil_video_frames_free(one);
      record_error(&im, rep->lines, "more frames than a vpdq entry holds");
      break;
    }
    if (n1 && vigil__grow((void **)&fr, &cap, nfr + 1, sizeof *fr)) {
      vigil_video_frames_free(one);
      rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory at line %llu", (unsigned long long)rep->lines);
      goto out;
    }
    if (n1) fr[nfr++] = one[0];
    vigil_video_frames_free(one);
  }
  if (r < 0) {
    rc = vigil__seterr(err, VIGIL_EIO, "read error after line %llu", (unsigned long long)rep->lines);
    goto out;
  }
  if (rep->bad && !o->skip_bad) {
    rc = vigil__seterr(err, VIGIL_EINVAL, "%llu bad line%s: nothing imported", (unsigned long long)rep->bad,
                       rep->bad == 1 ? "" : "s");
    goto out;
  }
  if (nfr == 0) {
    record_error(&im, rep->lines ? rep->lines : 1, "no frames: a vpdq file has one line per frame");
    rc = vigil__seterr(err, VIGIL_EINVAL, "no frames in the input: nothing imported");
    goto out;
  }
  snprintf(e->bank, sizeof e->bank, "%s", bank);
  e->type = VIGIL_SIGNAL_VPDQ;
  e->frames = fr;
  e->nframes = nfr;
  if (o->external_id) snprintf(e->external_id, sizeof e->external_id, "%s", o->external_id);
  if (o->source) snprintf(e->source, sizeof e->source, "%s", o->source);
  if (o->tags && (rc = vigil_bank_tags_normalize(o->tags, strlen(o->tags), e->tags, err))) goto out;
  if ((rc = vigil_bank_vpdq_identity(fr, nfr, e->value, err))) goto out;
  e->value_len = 32;
  if ((rc = vigil__bank_entry_check(e, err))) goto out;
  vigil_bank_info info;
  int64_t now = (int64_t)time(NULL);
  if ((rc = st->be->begin(st->impl, err))) goto out;
  int outcome = 0;
  e->added = now;
  rc = st->be->bank_get(st->impl, bank, 0, &info, err);
  if (!rc) rc = st->be->entry_put(st->impl, info.id, e, 0, &outcome, err);
  if (!rc) {
    char detail[200];
    snprintf(detail, sizeof detail, "vpdq file, %llu lines: %s, %llu bad", (unsigned long long)rep->lines,
             outcome == VIGIL__PUT_ADDED ? "added" : "existing", (unsigned long long)rep->bad);
    rc = st->be->audit(st->impl, now, "import", bank, detail, err);
  }
  if (!rc) rc = st->be->commit(st->impl, err);
  if (rc) {
    st->be->rollback(st->impl);
    goto out;
  }
  rep->batches = 1;
  rep->committed = 1;
  if (outcome == VIGIL__PUT_ADDED) rep->added = 1;
  else rep->existing = 1;
  if (o->on_commit) o->on_commit(o->ctx, 1, rep->lines);
out:
  free(fr);
  free(rd.buf);
  free(e);
  return rc;
}

int vigil_bank_import(vigil_bank_store *st, const char *bank, FILE *in, const vigil_bank_import_opts *opts,
                      vigil_bank_import_report *rep, vigil_error *err) {
  memset(rep, 0, sizeof *rep);
  vigil_bank_import_opts dflt;
  if (!opts) {
    vigil_bank_import_opts_default(&dflt);
    opts = &dflt;
  }
  if (opts->format != VIGIL_BANK_FMT_CSV && opts->format != VIGIL_BANK_FMT_TE &&
      opts->format != VIGIL_BANK_FMT_JSONL && opts->format != VIGIL_BANK_FMT_VPDQ)
    return vigil__seterr(err, VIGIL_EINVAL, "unknown import format");
  if (!vigil_bank_name_valid(bank)) return vigil__seterr(err, VIGIL_EINVAL, "invalid bank name");
  int rc;
  if (opts->source &&
      (rc = vigil__bank_text_valid(opts->source, strlen(opts->source), VIGIL_BANK_TEXT_MAX, "source", err)))
    return rc;
  if (opts->format == VIGIL_BANK_FMT_VPDQ) return import_reference(st, bank, in, opts, rep, err);
  importer *im = calloc(1, sizeof *im);
  reader rd = {in, NULL, 0, 0, 0};
  vigil__bank_parser p;
  memset(&p, 0, sizeof p);
  if (!im || !(rd.buf = malloc(READ_BUF))) {
    free(im);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  im->st = st;
  im->o = opts;
  im->rep = rep;
  im->max_errors = opts->max_errors > 0 ? opts->max_errors : 20;
  if (opts->tags && (rc = vigil_bank_tags_normalize(opts->tags, strlen(opts->tags), im->tags, err))) goto out;
  vigil_bank_info info;
  if ((rc = st->be->bank_get(st->impl, bank, 0, &info, err))) goto out;

  /* Batches without skip_bad: validate a seekable input first. */
  if (opts->batch && !opts->skip_bad) {
    off_t pos = ftello(in);
    if (pos >= 0 && fseeko(in, pos, SEEK_SET) == 0) {
      if ((rc = validate_all(im, &rd, err))) goto out;
      if (rep->bad) {
        rep->lines = 0;
        rc = vigil__seterr(err, VIGIL_EINVAL, "%llu bad line%s: nothing imported", (unsigned long long)rep->bad,
                           rep->bad == 1 ? "" : "s");
        goto out;
      }
      if (fseeko(in, pos, SEEK_SET) != 0) {
        rc = vigil__seterr(err, VIGIL_EIO, "cannot rewind the input");
        goto out;
      }
      clearerr(in);
      rd.start = rd.end = 0;
      rd.eof = 0;
    }
  }

  vigil__bank_parser_init(&p, opts->format, opts->source, im->tags);
  int64_t now = (int64_t)time(NULL);
  int in_tx = 0, writing = 1;
  uint64_t in_batch = 0, ln = 0;
  uint64_t ok_added = 0, ok_existing = 0, ok_removed = 0; /* as of the last commit */
  const char *line;
  size_t len;
  int r;
  vigil_error le;
  rc = VIGIL_OK;
  while ((r = rd_line(&rd, &line, &len)) == 1) {
    ln++;
    rep->lines = ln;
    int skip, fatal;
    if (vigil__bank_parse_line(&p, line, len, &im->e, &skip, &fatal, &le)) {
      record_error(im, ln, le.message);
      if (fatal) break;
      if (!opts->skip_bad) writing = 0; /* keep parsing to report every error */
      continue;
    }
    if (skip || !writing) continue;
    if (!in_tx) {
      if ((rc = st->be->begin(st->impl, err))) goto fail;
      in_tx = 1;
    }
    if (pend_push(&im->pend, &im->e, ln)) {
      rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory buffering line %llu", (unsigned long long)ln);
      goto fail;
    }
    int batch_full = opts->batch && ++in_batch >= opts->batch;
    if ((batch_full || im->pend.n >= SORT_WINDOW || im->pend.nfr >= FRAMES_WINDOW) &&
        (rc = flush(im, info.id, now, err)))
      goto fail;
    if (batch_full) {
      char what[80];
      snprintf(what, sizeof what, "batch %llu, through line %llu", (unsigned long long)rep->batches + 1,
               (unsigned long long)ln);
      if (rep->added + rep->removed > ok_added + ok_removed &&
          (rc = vigil__bank_store_hook(st, "import", bank, NULL, what, err)))
        goto fail;
      if ((rc = st->be->commit(st->impl, err))) goto fail;
      in_tx = 0;
      in_batch = 0;
      ok_added = rep->added;
      ok_existing = rep->existing;
      ok_removed = rep->removed;
      rep->batches++;
      rep->committed = 1;
      if (opts->on_commit && opts->on_commit(opts->ctx, rep->batches, ln)) {
        rc = vigil__seterr(err, VIGIL_EINVAL, "import stopped by the caller after batch %llu",
                           (unsigned long long)rep->batches);
        goto out;
      }
    }
  }
  if (r < 0) {
    rc = vigil__seterr(err, VIGIL_EIO, "read error after line %llu", (unsigned long long)ln);
    goto fail;
  }
  if (opts->format == VIGIL_BANK_FMT_CSV && !p.have_header && rep->bad == 0)
    record_error(im, 1, "empty input: a CSV header line is required");
  if (rep->bad && !opts->skip_bad) {
    rc = vigil__seterr(err, VIGIL_EINVAL, "%llu bad line%s: %s", (unsigned long long)rep->bad,
                       rep->bad == 1 ? "" : "s",
                       rep->committed ? "import stopped (earlier batches stay committed)" : "nothing imported");
    goto fail;
  }
  /* The rest, and the audit record, ride in the last transaction. */
  if (!in_tx) {
    if ((rc = st->be->begin(st->impl, err))) goto fail;
    in_tx = 1;
  }
  if ((rc = flush(im, info.id, now, err))) goto fail;
  char detail[200];
  snprintf(detail, sizeof detail, "%llu lines: %llu added, %llu existing, %llu removed, %llu bad",
           (unsigned long long)rep->lines, (unsigned long long)rep->added, (unsigned long long)rep->existing,
           (unsigned long long)rep->removed, (unsigned long long)rep->bad);
  if ((rc = st->be->audit(st->impl, now, "import", bank, detail, err))) goto fail;
  if (rep->added + rep->removed > ok_added + ok_removed &&
      (rc = vigil__bank_store_hook(st, "import", bank, NULL, detail, err)))
    goto fail;
  if ((rc = st->be->commit(st->impl, err))) goto fail;
  in_tx = 0;
  rep->batches++;
  rep->committed = 1;
  if (opts->on_commit) opts->on_commit(opts->ctx, rep->batches, ln);
  goto out;
fail:
  if (in_tx) st->be->rollback(st->impl);
  /* report only what is committed */
  rep->added = ok_added;
  rep->existing = ok_existing;
  rep->removed = ok_removed;
out:
  vigil__bank_parser_done(&p);
  free(rd.buf);
  if (im) {
    free(im->pend.rows);
    free(im->pend.arena);
    free(im->pend.fr);
    free(im->many);
  }
  free(im);
  return rc;
}
