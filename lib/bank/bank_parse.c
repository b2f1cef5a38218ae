/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bank_parse.c - the three import line formats (see docs/bank.md):
 *
 *   csv    RFC 4180 fields (double quotes, "" inside quotes), one record
 *          per line; the first line is a header naming the columns, in any
 *          order; signal_type and value are required.
 *   te     python-threatexchange's "<signal_type> <value>"; blank lines and
 *          lines starting with '#' are skipped.
 *   jsonl  one JSON object per line with the same keys as the CSV columns;
 *          tags may be a string or an array of strings.
 *
 * A vpdq value is a frame list in python-threatexchange's serialisation, a
 * JSON array of "hex,quality,timestamp" strings: the rest of a te line
 * after "vpdq" (json.dumps writes blanks between items), a CSV field, a
 * JSON Lines string.  JSON Lines also takes "frames", an array of
 * [frame_number, quality, "hex", timestamp] with full-precision timestamps
 * (what vigil exports), and then "value", if given, must be the list's
 * identity.  The entry's value becomes the identity (bank_vpdq.c).
 *
 * Each field goes through the validators of bank_signal.c, so whatever the
 * format, an entry that leaves here is valid for the store.  Columns id,
 * bank and added (written by export) are accepted and ignored: an entry's
 * id and time added belong to the store that holds it.  A removed value
 * (an export of a removed entry) imports the entry as removed, which is how
 * removals travel from one store to another.
 */
#include "bank/bank_parse.h"
#include "bank/bank_backend.h"
#include "common/internal.h"

#include <jansson.h>
#include <string.h>

const char *const vigil__bank_col_names[VIGIL__NCOLS] = {"signal_type", "value", "external_id", "tags",
                                                         "source",      "added", "removed",     "removed_reason",
                                                         "id",          "bank",  "disputed"};

void vigil__bank_parser_done(vigil__bank_parser *p) {
  free(p->frames);
  p->frames = NULL;
  free(p->buf);
  p->buf = NULL;
  p->bufcap = 0;
}

/* Room for the unquoted fields of a CSV line of len bytes (they are never
 * longer than the line): the parser's buffer, grown as lines need. */
static char *csv_buf(vigil__bank_parser *p, size_t len) {
  if (len + 1 > p->bufcap) {
    size_t cap = p->bufcap ? p->bufcap : 4096;
    while (cap < len + 1) cap *= 2;
    char *b = malloc(cap);
    if (!b) return NULL;
    free(p->buf);
    p->buf = b;
    p->bufcap = cap;
  }
  return p->buf;
}

void vigil__bank_parser_init(vigil__bank_parser *p, vigil_bank_format fmt, const char *default_source,
                             const char *extra_tags) {
  memset(p, 0, sizeof *p);
  p->fmt = fmt;
  p->default_source = default_source ? default_source : "";
  p->extra_tags = extra_tags ? extra_tags : "";
}

static int is_blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t') return 0;
  return 1;
}

static void trim(const char **s, size_t *n) {
  while (*n && (**s == ' ' || **s == '\t')) (*s)++, (*n)--;
  while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) (*n)--;
}

/* Starts an entry with the parser's defaults. */
static void entry_init(vigil__bank_parser *p, vigil_bank_entry *e) {
  e->id = 0;
  e->bank[0] = '\0';
  e->type = VIGIL_SIGNAL_NONE;
  e->value_len = 0;
  e->external_id[0] = '\0';
  e->tags[0] = '\0';
  size_t n = strlen(p->default_source);
  memcpy(e->source, p->default_source, n + 1); /* validated, fits */
  e->added = 0;
  e->removed = 0;
  e->removed_reason[0] = '\0';
  e->frames = NULL;
  e->nframes = 0;
  free(p->frames);
  p->frames = NULL;
}

/* Stores field value s[0..n) of kind k into e. */
static int set_field(vigil_bank_entry *e, int k, const char *s, size_t n, vigil_error *err) {
  int rc;
  switch (k) {
  case VIGIL__COL_SIGNAL_TYPE:
    trim(&s, &n);
    e->type = vigil_signal_from_name(s, n);
    if (e->type == VIGIL_SIGNAL_NONE || !vigil_signal_value_len(e->type)) {
      if (vigil__bank_text_valid(s, n, 32, "signal type", NULL) == VIGIL_OK)
        return vigil__seterr(err, VIGIL_EINVAL, "unknown signal type '%.*s' (expected pdq, md5, sha256, vpdq or video_md5)",
                             (int)n, s);
      return vigil__seterr(err, VIGIL_EINVAL, "unknown signal type (expected pdq, md5, sha256, vpdq or video_md5)");
    }
    return VIGIL_OK;
  case VIGIL__COL_VALUE:
    /* parsed once the type is known (columns may come in any order) */
    return VIGIL_OK;
  case VIGIL__COL_EXTERNAL_ID:
    if ((rc = vigil__bank_text_valid(s, n, VIGIL_BANK_TEXT_MAX, "external_id", err))) return rc;
    memcpy(e->external_id, s, n);
    e->external_id[n] = '\0';
    return VIGIL_OK;
  case VIGIL__COL_TAGS:
    return vigil_bank_tags_normalize(s, n, e->tags, err);
  case VIGIL__COL_SOURCE:
    if (n == 0) return VIGIL_OK; /* keep the default */
    if ((rc = vigil__bank_text_valid(s, n, VIGIL_BANK_TEXT_MAX, "source", err))) return rc;
    memcpy(e->source, s, n);
    e->source[n] = '\0';
    return VIGIL_OK;
  case VIGIL__COL_REMOVED:
    trim(&s, &n);
    if (n == 0) return VIGIL_OK;
    if (vigil__bank_time_parse(s, n, &e->removed) || e->removed <= 0)
      return vigil__seterr(err, VIGIL_EINVAL, "removed must be empty or a UTC time like 2024-01-31T12:00:00Z");
    return VIGIL_OK;
  case VIGIL__COL_REMOVED_REASON:
    if ((rc = vigil__bank_text_valid(s, n, VIGIL_BANK_TEXT_MAX, "removed_reason", err))) return rc;
    memcpy(e->removed_reason, s, n);
    e->removed_reason[n] = '\0';
    return VIGIL_OK;
  default: return VIGIL_OK; /* id, bank, added: ignored */
  }
}

/* After all fields: parse the value, merge extra tags, check consistency. */
static int finish_entry(vigil__bank_parser *p, vigil_bank_entry *e, const char *val, size_t vlen, int have_value,
                        vigil_error *err) {
  if (e->type == VIGIL_SIGNAL_NONE) return vigil__seterr(err, VIGIL_EINVAL, "missing signal_type");
  int rc;
  if (e->type == VIGIL_SIGNAL_VPDQ && p->frames) { /* jsonl "frames": value, if any, is the identity */
    if ((rc = vigil_bank_vpdq_identity(p->frames, e->nframes, e->value, err))) return rc;
    e->frames = p->frames;
    e->value_len = 32;
    uint8_t given[VIGIL_BANK_VALUE_MAX];
    if (have_value) {
      trim(&val, &vlen);
      if (vigil_signal_parse(VIGIL_SIGNAL_VPDQ, val, vlen, given, NULL) || memcmp(given, e->value, 32))
        return vigil__seterr(err, VIGIL_EINVAL, "value is not the identity of the frames (64 hex digits)");
    }
  } else if (e->type == VIGIL_SIGNAL_VPDQ) {
    if (!have_value) return vigil__seterr(err, VIGIL_EINVAL, "missing value");
    trim(&val, &vlen);
    if (vlen == 0 || val[0] != '[')
      return vigil__seterr(err, VIGIL_EINVAL,
                           "a vpdq value is a JSON array of \"hex,quality,timestamp\" strings (python-threatexchange)");
    size_t n = 0;
    if ((rc = vigil_vpdq_from_te(val, vlen, &p->frames, &n, err))) return rc;
    if ((rc = vigil_bank_vpdq_identity(p->frames, n, e->value, err))) return rc;
    e->frames = p->frames;
    e->nframes = n;
    e->value_len = 32;
  } else {
    if (!have_value) return vigil__seterr(err, VIGIL_EINVAL, "missing value");
    trim(&val, &vlen);
    if ((rc = vigil_signal_parse(e->type, val, vlen, e->value, err))) return rc;
    e->value_len = vigil_signal_value_len(e->type);
  }
  if (p->extra_tags[0]) {
    char joined[2 * VIGIL_BANK_TAGS_MAX + 2];
    snprintf(joined, sizeof joined, "%s,%s", e->tags, p->extra_tags);
    if ((rc = vigil_bank_tags_normalize(joined, strlen(joined), e->tags, err))) return rc;
  }
  if (e->removed_reason[0] && !e->removed)
    return vigil__seterr(err, VIGIL_EINVAL, "removed_reason given without a removed time");
  return VIGIL_OK;
}

/* ---- CSV ---- */

static int csv_header_in(vigil__bank_parser *p, const char *line, size_t len, char *buf, vigil_error *err);

/* Splits one CSV record into fields; fields are copied (unquoted) into buf,
 * which has room for len bytes. */
static int csv_split(const char *line, size_t len, char *buf, const char **fs, size_t *fl, int *nf, vigil_error *err) {
  size_t i = 0, o = 0;
  int n = 0;
  for (;;) {
    if (n == VIGIL__CSV_MAX_COLS)
      return vigil__seterr(err, VIGIL_EINVAL, "more than %d fields", VIGIL__CSV_MAX_COLS);
    fs[n] = buf + o;
    size_t start = o;
    if (i < len && line[i] == '"') {
      i++;
      for (;;) {
        if (i >= len) return vigil__seterr(err, VIGIL_EINVAL, "unterminated quoted field %d", n + 1);
        if (line[i] == '"') {
          if (i + 1 < len && line[i + 1] == '"') {
            buf[o++] = '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        buf[o++] = line[i++];
      }
      if (i < len && line[i] != ',')
        return vigil__seterr(err, VIGIL_EINVAL, "text after the closing quote of field %d", n + 1);
    } else {
      while (i < len && line[i] != ',') {
        if (line[i] == '"') return vigil__seterr(err, VIGIL_EINVAL, "stray quote in unquoted field %d", n + 1);
        buf[o++] = line[i++];
      }
    }
    fl[n++] = o - start;
    if (i >= len) break;
    i++; /* the comma */
  }
  *nf = n;
  return VIGIL_OK;
}

static int csv_header(vigil__bank_parser *p, const char *line, size_t len, vigil_error *err) {
  char *buf = csv_buf(p, len);
  if (!buf) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  return csv_header_in(p, line, len, buf, err);
}

static int parse_csv_in(vigil__bank_parser *p, const char *line, size_t len, char *buf, vigil_bank_entry *e,
                        vigil_error *err);

static int parse_csv(vigil__bank_parser *p, const char *line, size_t len, vigil_bank_entry *e, vigil_error *err) {
  char *buf = csv_buf(p, len);
  if (!buf) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  return parse_csv_in(p, line, len, buf, e, err);
}

static int csv_header_in(vigil__bank_parser *p, const char *line, size_t len, char *buf, vigil_error *err) {
  const char *fs[VIGIL__CSV_MAX_COLS];
  size_t fl[VIGIL__CSV_MAX_COLS];
  int nf, rc = csv_split(line, len, buf, fs, fl, &nf, err), seen[VIGIL__NCOLS] = {0};
  if (rc) return vigil__prefixerr(err, rc, "bad CSV header");
  for (int c = 0; c < nf; c++) {
    const char *s = fs[c];
    size_t n = fl[c];
    trim(&s, &n);
    int k = -1;
    for (int j = 0; j < VIGIL__NCOLS; j++)
      if (strlen(vigil__bank_col_names[j]) == n && !memcmp(vigil__bank_col_names[j], s, n)) k = j;
    if (k < 0) {
      if (vigil__bank_text_valid(s, n, 64, "column", NULL) == VIGIL_OK)
        return vigil__seterr(err, VIGIL_EINVAL, "bad CSV header: unknown column '%.*s' (see docs/bank.md)", (int)n, s);
      return vigil__seterr(err, VIGIL_EINVAL, "bad CSV header: unknown column %d", c + 1);
    }
    if (seen[k]++) return vigil__seterr(err, VIGIL_EINVAL, "bad CSV header: column '%s' twice", vigil__bank_col_names[k]);
    p->col_kind[c] = k;
  }
  if (!seen[VIGIL__COL_SIGNAL_TYPE] || !seen[VIGIL__COL_VALUE])
    return vigil__seterr(err, VIGIL_EINVAL, "bad CSV header: columns signal_type and value are required");
  p->ncols = nf;
  p->have_header = 1;
  return VIGIL_OK;
}

static int parse_csv_in(vigil__bank_parser *p, const char *line, size_t len, char *buf, vigil_bank_entry *e,
                        vigil_error *err) {
  const char *fs[VIGIL__CSV_MAX_COLS];
  size_t fl[VIGIL__CSV_MAX_COLS];
  int nf, rc = csv_split(line, len, buf, fs, fl, &nf, err);
  if (rc) return rc;
  if (nf != p->ncols) return vigil__seterr(err, VIGIL_EINVAL, "expected %d fields as in the header, got %d", p->ncols, nf);
  entry_init(p, e);
  const char *val = NULL;
  size_t vlen = 0;
  int have_value = 0;
  /* signal type first: the value's checks depend on it */
  for (int c = 0; c < nf; c++) {
    if (p->col_kind[c] == VIGIL__COL_VALUE) {
      val = fs[c];
      vlen = fl[c];
      have_value = 1;
    } else if ((rc = set_field(e, p->col_kind[c], fs[c], fl[c], err)))
      return rc;
  }
  return finish_entry(p, e, val, vlen, have_value, err);
}

/* ---- threatexchange lines ---- */

static int parse_te(vigil__bank_parser *p, const char *line, size_t len, vigil_bank_entry *e, vigil_error *err) {
  const char *tok[3];
  size_t tl[3];
  int nt = 0;
  size_t i = 0;
  while (i < len) {
    if (nt == 1 && tl[0] == 4 && !memcmp(tok[0], "vpdq", 4)) { /* the value is the rest: a JSON array with blanks */
      entry_init(p, e);
      e->type = VIGIL_SIGNAL_VPDQ;
      return finish_entry(p, e, line + i, len - i, 1, err);
    }
    while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
    if (i >= len) break;
    size_t s = i;
    while (i < len && line[i] != ' ' && line[i] != '\t') i++;
    if (nt == 2) return vigil__seterr(err, VIGIL_EINVAL, "expected '<signal_type> <value>', found more fields");
    tok[nt] = line + s;
    tl[nt++] = i - s;
  }
  if (nt < 2) return vigil__seterr(err, VIGIL_EINVAL, "expected '<signal_type> <value>'");
  entry_init(p, e);
  int rc = set_field(e, VIGIL__COL_SIGNAL_TYPE, tok[0], tl[0], err);
  if (rc) return rc;
  return finish_entry(p, e, tok[1], tl[1], 1, err);
}

/* ---- JSON Lines ---- */

/* "frames": [[frame_number, quality, "hex", timestamp], ...], into p->frames. */
static int read_frames(vigil__bank_parser *p, vigil_bank_entry *e, json_t *jf, vigil_error *err) {
  if (e->type != VIGIL_SIGNAL_VPDQ) return vigil__seterr(err, VIGIL_EINVAL, "frames given for a signal_type other than vpdq");
  if (!json_is_array(jf)) return vigil__seterr(err, VIGIL_EINVAL, "frames must be an array");
  size_t n = json_array_size(jf);
  if (n == 0) return vigil__seterr(err, VIGIL_EINVAL, "a vpdq entry needs at least one frame");
  if (n > VIGIL_BANK_FRAMES_MAX)
    return vigil__seterr(err, VIGIL_ELIMIT, "vpdq entry of %zu frames (limit %d)", n, VIGIL_BANK_FRAMES_MAX);
  vigil_video_frame *f = vigil__mallocarray(n, sizeof *f);
  if (!f) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory for %zu frames", n);
  for (size_t i = 0; i < n; i++) {
    json_t *a = json_array_get(jf, i), *jn = json_array_get(a, 0), *jq = json_array_get(a, 1),
           *jh = json_array_get(a, 2), *jt = json_array_get(a, 3);
    if (!json_is_array(a) || json_array_size(a) != 4 || !json_is_integer(jn) || !json_is_integer(jq) ||
        !json_is_string(jh) || !json_is_number(jt)) {
      free(f);
      return vigil__seterr(err, VIGIL_EINVAL, "frames[%zu] is not [frame_number, quality, \"hex\", timestamp]", i);
    }
    json_int_t fn = json_integer_value(jn), q = json_integer_value(jq);
    double ts = json_number_value(jt);
    if (fn < 0 || q < 0 || q > 100 || !(ts >= 0) || ts > VIGIL_VPDQ_MAX_TIMESTAMP ||
        json_string_length(jh) != VIGIL_PDQ_HEX_LEN ||
        vigil_pdq_from_hex(json_string_value(jh), VIGIL_PDQ_HEX_LEN, &f[i].hash, NULL)) {
      free(f);
      return vigil__seterr(err, VIGIL_EINVAL,
                           "frames[%zu]: frame number >= 0, quality 0..100, 64 hex digits and a timestamp 0..%g s "
                           "expected",
                           i, VIGIL_VPDQ_MAX_TIMESTAMP);
    }
    f[i].frame_number = (int64_t)fn;
    f[i].quality = (int)q;
    f[i].timestamp = ts;
  }
  free(p->frames);
  p->frames = f;
  e->nframes = n;
  return VIGIL_OK;
}

static int parse_jsonl(vigil__bank_parser *p, const char *line, size_t len, vigil_bank_entry *e, vigil_error *err) {
  json_error_t je;
  json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
  if (!o) return vigil__seterr(err, VIGIL_EINVAL, "invalid JSON: %s (column %d)", je.text, je.column);
  int rc = VIGIL_OK;
  if (!json_is_object(o)) {
    rc = vigil__seterr(err, VIGIL_EINVAL, "expected a JSON object");
    goto done;
  }
  entry_init(p, e);
  const char *key, *val = NULL;
  size_t vlen = 0;
  int have_value = 0;
  json_t *v;
  /* the signal type first, as in CSV */
  json_t *jt = json_object_get(o, "signal_type");
  if (jt) {
    if (!json_is_string(jt)) {
      rc = vigil__seterr(err, VIGIL_EINVAL, "signal_type must be a string");
      goto done;
    }
    if ((rc = set_field(e, VIGIL__COL_SIGNAL_TYPE, json_string_value(jt), json_string_length(jt), err))) goto done;
  }
  json_t *jf = json_object_get(o, "frames");
  if (jf && (rc = read_frames(p, e, jf, err))) goto done;
  json_object_foreach(o, key, v) {
    if (!strcmp(key, "frames")) continue;
    int k = -1;
    for (int j = 0; j < VIGIL__NCOLS; j++)
      if (!strcmp(vigil__bank_col_names[j], key)) k = j;
    if (k < 0) {
      if (vigil__bank_text_valid(key, strlen(key), 64, "key", NULL) == VIGIL_OK)
        rc = vigil__seterr(err, VIGIL_EINVAL, "unknown key '%s'", key);
      else rc = vigil__seterr(err, VIGIL_EINVAL, "unknown key");
      goto done;
    }
    if (k == VIGIL__COL_DISPUTED && !json_is_boolean(v) && !json_is_null(v)) {
      rc = vigil__seterr(err, VIGIL_EINVAL, "disputed must be true, false or null");
      goto done;
    }
    /* a dispute is the exporting service's record, not the entry's: it does not travel */
    if (k == VIGIL__COL_SIGNAL_TYPE || k == VIGIL__COL_ID || k == VIGIL__COL_BANK || k == VIGIL__COL_ADDED ||
        k == VIGIL__COL_DISPUTED)
      continue;
    if (json_is_null(v) || (k == VIGIL__COL_REMOVED && json_is_false(v))) continue;
    if (k == VIGIL__COL_TAGS && json_is_array(v)) {
      char joined[VIGIL_BANK_TAGS_MAX + 2] = "";
      size_t jl = 0, idx;
      json_t *t;
      json_array_foreach(v, idx, t) {
        if (!json_is_string(t)) {
          rc = vigil__seterr(err, VIGIL_EINVAL, "tags must be strings");
          goto done;
        }
        size_t tl = json_string_length(t);
        if (jl + tl + 1 > VIGIL_BANK_TAGS_MAX) {
          rc = vigil__seterr(err, VIGIL_EINVAL, "tags longer than %d characters in all", VIGIL_BANK_TAGS_MAX);
          goto done;
        }
        if (memchr(json_string_value(t), ',', tl) || memchr(json_string_value(t), ' ', tl) || tl == 0) {
          rc = vigil__seterr(err, VIGIL_EINVAL, "a tag in the tags array is empty or holds a separator");
          goto done;
        }
        if (jl) joined[jl++] = ',';
        memcpy(joined + jl, json_string_value(t), tl);
        jl += tl;
        joined[jl] = '\0';
      }
      if ((rc = vigil_bank_tags_normalize(joined, jl, e->tags, err))) goto done;
      continue;
    }
    if (!json_is_string(v)) {
      rc = vigil__seterr(err, VIGIL_EINVAL, "%s must be a string", key);
      goto done;
    }
    if (k == VIGIL__COL_VALUE) {
      val = json_string_value(v);
      vlen = json_string_length(v);
      have_value = 1;
      continue;
    }
    if ((rc = set_field(e, k, json_string_value(v), json_string_length(v), err))) goto done;
  }
  rc = finish_entry(p, e, val, vlen, have_value, err);
done:
  json_decref(o);
  return rc;
}

int vigil__bank_parse_line(vigil__bank_parser *p, const char *line, size_t len, vigil_bank_entry *e, int *skip,
                           int *fatal, vigil_error *err) {
  *skip = 0;
  *fatal = 0;
  if (len > VIGIL_BANK_LINE_MAX)
    return vigil__seterr(err, VIGIL_ELIMIT, "line longer than %d bytes", VIGIL_BANK_LINE_MAX);
  if (memchr(line, '\0', len)) return vigil__seterr(err, VIGIL_EINVAL, "line contains a NUL byte");
  if (p->fmt == VIGIL_BANK_FMT_CSV && !p->have_header) {
    /* a UTF-8 byte order mark before the header is tolerated */
    if (len >= 3 && !memcmp(line, "\xef\xbb\xbf", 3)) line += 3, len -= 3;
    *skip = 1;
    int rc = csv_header(p, line, len, err);
    if (rc) *fatal = 1;
    return rc;
  }
  if (is_blank(line, len)) {
    *skip = 1;
    return VIGIL_OK;
  }
  switch (p->fmt) {
  case VIGIL_BANK_FMT_CSV: return parse_csv(p, line, len, e, err);
  case VIGIL_BANK_FMT_TE: {
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
    if (line[i] == '#') {
      *skip = 1;
      return VIGIL_OK;
    }
    return parse_te(p, line, len, e, err);
  }
  case VIGIL_BANK_FMT_JSONL: return parse_jsonl(p, line, len, e, err);
  case VIGIL_BANK_FMT_VPDQ: break; /* a whole file, not lines: bank_import.c */
  }
  return vigil__seterr(err, VIGIL_EINVAL, "unknown import format");
}
