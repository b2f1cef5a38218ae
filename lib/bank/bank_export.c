/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bank_export.c - writing banks out in the import formats.
 *
 * CSV and JSON Lines carry every field, removed entries included with
 * their removal time and reason, so an export re-imported elsewhere carries
 * the removals with it.  The threatexchange line format has no room for a
 * removal, so it always lists active entries only.
 *
 * A vpdq entry's value is written as python-threatexchange writes the
 * signal (a JSON array of "hex,quality,ts" strings) in te and CSV; JSON
 * Lines writes the identity as the value and the whole frame list, frame
 * numbers and full-precision timestamps included, as "frames".
 *
 * Disputes (entries reviewers reported as false positives) are the review
 * service's, kept in its own tables; the caller hands their entry ids in
 * and JSON Lines marks each entry "disputed" true or false.  The line
 * formats keep their columns, which other tools read by position.
 */
#include "bank/bank_backend.h"
#include "bank/bank_parse.h"
#include "common/internal.h"

#include <jansson.h>
#include <string.h>

typedef struct exporter {
  FILE *out;
  vigil_bank_format fmt;
  int active_only;
  int io_error;
  const vigil_bank_export_opts *o;
} exporter;

/* Whether entry id is among the sorted disputed ids. */
static int disputed(const vigil_bank_export_opts *o, uint64_t id) {
  size_t lo = 0, hi = o->ndisputed;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (o->disputed[mid] == id) return 1;
    if (o->disputed[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return 0;
}

/* A CSV field, quoted when it holds a comma, a quote or edge blanks.  Text
 * fields hold no control characters (validated on the way in). */
static void csv_field(FILE *f, const char *s, int last) {
  size_t n = strlen(s);
  int quote = strpbrk(s, ",\"") != NULL || (n && (s[0] == ' ' || s[n - 1] == ' '));
  if (quote) {
    fputc('"', f);
    for (const char *p = s; *p; p++) {
      if (*p == '"') fputc('"', f);
      fputc(*p, f);
    }
    fputc('"', f);
  } else {
    fputs(s, f);
  }
  fputc(last ? '\n' : ',', f);
}

/* "frames": [[frame_number, quality, "hex", timestamp], ...] */
static json_t *frames_json(const vigil_bank_entry *e) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < e->nframes; i++) {
    const vigil_video_frame *f = &e->frames[i];
    char h[VIGIL_PDQ_HEX_LEN + 1];
    vigil_pdq_to_hex(&f->hash, h);
    json_t *t = json_pack("[I, i, s, f]", (json_int_t)f->frame_number, f->quality, h, f->timestamp);
    if (!t || json_array_append_new(a, t)) {
      json_decref(a);
      return NULL;
    }
  }
  return a;
}

static int write_entry(void *ctx, const vigil_bank_entry *e) {
  exporter *x = ctx;
  if (x->active_only && e->removed) return 0;
  char hex[2 * VIGIL_BANK_VALUE_MAX + 1], added[32], removed[32] = "";
  vigil_signal_to_hex(e->value, e->value_len, hex);
  char *te = NULL; /* a vpdq entry's value in te and CSV */
  if (e->type == VIGIL_SIGNAL_VPDQ && x->fmt != VIGIL_BANK_FMT_JSONL &&
      vigil_vpdq_to_te(e->frames, e->nframes, &te, NULL, NULL))
    return VIGIL_ENOMEM;
  vigil__bank_time_format(e->added, added);
  if (e->removed) vigil__bank_time_format(e->removed, removed);
  const char *type = vigil_signal_name(e->type) ? vigil_signal_name(e->type) : "unknown";
  switch (x->fmt) {
  case VIGIL_BANK_FMT_TE:
    if (!e->removed) fprintf(x->out, "%s %s\n", type, te ? te : hex);
    break;
  case VIGIL_BANK_FMT_CSV:
    csv_field(x->out, e->bank, 0);
    csv_field(x->out, type, 0);
    csv_field(x->out, te ? te : hex, 0);
    csv_field(x->out, e->external_id, 0);
    csv_field(x->out, e->tags, 0);
    csv_field(x->out, e->source, 0);
    csv_field(x->out, added, 0);
    csv_field(x->out, removed, 0);
    csv_field(x->out, e->removed_reason, 1);
    break;
  case VIGIL_BANK_FMT_JSONL: {
    json_t *tags = json_array();
    const char *p = e->tags;
    while (tags && *p) {
      const char *c = strchr(p, ',');
      size_t n = c ? (size_t)(c - p) : strlen(p);
      json_array_append_new(tags, json_stringn(p, n));
      p += n + (c ? 1 : 0);
    }
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:s}", "id", (json_int_t)e->id, "bank",
                          e->bank, "signal_type", type, "value", hex, "external_id", e->external_id, "tags",
                          tags ? tags : json_array(), "source", e->source, "added", added, "removed",
                          e->removed ? json_string(removed) : json_null(), "removed_reason", e->removed_reason);
    if (o && x->o->mark_disputed && json_object_set_new(o, "disputed", json_boolean(disputed(x->o, e->id))) != 0) {
      json_decref(o);
      o = NULL;
    }
    if (o && e->type == VIGIL_SIGNAL_VPDQ) {
      json_t *fj = frames_json(e);
      if (!fj || json_object_set_new(o, "frames", fj)) {
        json_decref(o);
        o = NULL;
      }
    }
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(o);
    if (!s) return VIGIL_ENOMEM;
    fputs(s, x->out);
    fputc('\n', x->out);
    free(s);
    break;
  }
  default: break;
  }
  free(te);
  if (ferror(x->out)) {
    x->io_error = 1;
    return VIGIL_EIO;
  }
  return 0;
}

void vigil_bank_export_opts_default(vigil_bank_export_opts *o) {
  memset(o, 0, sizeof *o);
  o->format = VIGIL_BANK_FMT_CSV;
}

int vigil_bank_export(vigil_bank_store *st, const char *bank, FILE *out, vigil_bank_format fmt, int active_only,
                      vigil_error *err) {
  vigil_bank_export_opts o;
  vigil_bank_export_opts_default(&o);
  o.format = fmt;
  o.active_only = active_only;
  return vigil_bank_export_with(st, bank, out, &o, err);
}

int vigil_bank_export_with(vigil_bank_store *st, const char *bank, FILE *out, const vigil_bank_export_opts *o,
                           vigil_error *err) {
  vigil_bank_format fmt = o->format;
  if (o->ndisputed && !o->disputed) return vigil__seterr(err, VIGIL_EINVAL, "disputed: no ids for a non-zero count");
  /* disputed() bisects: ids out of order would mark disputed entries as not */
  for (size_t i = 1; i < o->ndisputed; i++)
    if (o->disputed[i] <= o->disputed[i - 1])
      return vigil__seterr(err, VIGIL_EINVAL, "disputed: ids must be ascending and distinct");
  if (fmt == VIGIL_BANK_FMT_VPDQ)
    return vigil__seterr(err, VIGIL_EINVAL, "the vpdq per-frame format holds one video: export as csv, te or jsonl");
  if (fmt != VIGIL_BANK_FMT_CSV && fmt != VIGIL_BANK_FMT_TE && fmt != VIGIL_BANK_FMT_JSONL)
    return vigil__seterr(err, VIGIL_EINVAL, "unknown export format");
  exporter x = {out, fmt, o->active_only || fmt == VIGIL_BANK_FMT_TE, 0, o};
  if (fmt == VIGIL_BANK_FMT_CSV)
    fputs("bank,signal_type,value,external_id,tags,source,added,removed,removed_reason\n", out);
  int rc = vigil_bank_foreach(st, bank, !x.active_only, write_entry, &x, err);
  if (rc == VIGIL_EIO || x.io_error || fflush(out) != 0)
    return vigil__seterr(err, VIGIL_EIO, "write error during export");
  if (rc == VIGIL_ENOMEM) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory during export");
  return rc;
}
