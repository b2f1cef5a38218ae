/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vpdq_serial.c - frame lists as other systems write them.
 *
 * python-threatexchange (and so HMA) exchanges a vPDQ signal as a JSON
 * array of strings "<hex>,<quality>,<timestamp>", the timestamp written with
 * Python's "{:.3}" format: three significant digits, fixed-point with at
 * least one decimal while the exponent is below 2, scientific after
 * (18.767 -> "18.8", 5.0 -> "5.0", 123.456 -> "1.23e+02";
 * vpdq_util.py, VpdqCompactFeature.__str__).  Written here exactly so, so
 * that a list vigil exports is the string python-threatexchange would write
 * and hashes of it compare equal.  The frame number is not carried; frames
 * read back are numbered from 0 in list order.
 *
 * The reference's per-frame file is one line "frame,quality,hash,timestamp"
 * per frame (vigil_video_format_line writes it).
 *
 * Reading is stricter than Python where Python's leniency is an accident:
 * quality is decimal digits only (Python's int() also takes "+5", " 5",
 * "5_0"), and a timestamp must be finite (Python lets "nan" through its
 * "timestamp < 0" check).  Errors name the element or line.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "common/internal.h"
#include "vigil/video.h"

int vigil_vpdq_format_ts(double ts, char out[32]) {
  if (!isfinite(ts)) return snprintf(out, 32, "%s", isnan(ts) ? "nan" : ts < 0 ? "-inf" : "inf");
  if (ts == 0) return snprintf(out, 32, "%s", signbit(ts) ? "-0.0" : "0.0");
  char e[32];
  snprintf(e, sizeof e, "%.2e", ts); /* rounded to 3 significant digits: the exponent after rounding */
  const char *ep = strchr(e, 'e');
  int exp10 = ep ? atoi(ep + 1) : 0;
  if (exp10 < -4 || exp10 >= 2) { /* scientific: mantissa without trailing zeros */
    char mant[16];
    size_t ml = (size_t)(ep - e);
    if (ml >= sizeof mant) ml = sizeof mant - 1;
    memcpy(mant, e, ml);
    mant[ml] = 0;
    char *dot = strchr(mant, '.');
    if (dot) {
      char *end = mant + strlen(mant);
      while (end > dot + 1 && end[-1] == '0') *--end = 0;
      if (end == dot + 1) *dot = 0;
    }
    return snprintf(out, 32, "%se%c%02d", mant, exp10 < 0 ? '-' : '+', abs(exp10));
  }
  int n = snprintf(out, 32, "%.*f", 2 - exp10, ts);
  char *dot = strchr(out, '.');
  if (!dot) return n;                                                 /* cannot happen: 2 - exp10 >= 1 */
  while (n > (int)(dot - out) + 2 && out[n - 1] == '0') out[--n] = 0; /* keep one decimal */
  return n;
}

/* Parses "hex,quality,timestamp" (len bytes) into f. */
static int parse_te_item(const char *s, size_t len, vigil_video_frame *f, const char **why) {
  const char *c1 = memchr(s, ',', len);
  const char *c2 = c1 ? memchr(c1 + 1, ',', len - (size_t)(c1 + 1 - s)) : NULL;
  if (!c1 || !c2 || memchr(c2 + 1, ',', len - (size_t)(c2 + 1 - s)))
    return *why = "not three comma-separated fields (hex,quality,timestamp)", VIGIL_EINVAL;
  if (c1 - s != VIGIL_PDQ_HEX_LEN || vigil_pdq_from_hex(s, VIGIL_PDQ_HEX_LEN, &f->hash, NULL))
    return *why = "the hash is not 64 hex digits", VIGIL_EINVAL;
  const char *q = c1 + 1;
  if (q == c2 || c2 - q > 3) return *why = "quality is not 0..100", VIGIL_EINVAL;
  int quality = 0;
  for (; q < c2; q++) {
    if (*q < '0' || *q > '9') return *why = "quality is not 0..100", VIGIL_EINVAL;
    quality = quality * 10 + (*q - '0');
  }
  if (quality > 100) return *why = "quality is not 0..100", VIGIL_EINVAL;
  char num[64];
  size_t tl = len - (size_t)(c2 + 1 - s);
  if (tl == 0 || tl >= sizeof num) return *why = "the timestamp is not a number", VIGIL_EINVAL;
  memcpy(num, c2 + 1, tl);
  num[tl] = 0;
  char *end;
  errno = 0;
  double ts = strtod(num, &end);
  if (*end || end == num || num[0] == ' ' || num[0] == '\t')
    return *why = "the timestamp is not a number", VIGIL_EINVAL;
  if (!isfinite(ts) || ts < 0) return *why = "the timestamp is not a finite number >= 0", VIGIL_EINVAL;
  f->quality = quality;
  f->timestamp = ts;
  return VIGIL_OK;
}

int vigil_vpdq_from_te(const char *text, size_t len, vigil_video_frame **frames, size_t *n, vigil_error *err) {
  if (!frames || !n) return vigil__seterr(err, VIGIL_EINVAL, "vpdq JSON: no output given");
  *frames = NULL;
  *n = 0;
  if (len == 0) return VIGIL_OK; /* python-threatexchange reads "" as [] */
  if (!text) return vigil__seterr(err, VIGIL_EINVAL, "vpdq JSON: no text given");
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!root) return vigil__seterr(err, VIGIL_EINVAL, "vpdq JSON: line %d column %d: %s", je.line, je.column, je.text);
  int rc = VIGIL_OK;
  if (!json_is_array(root)) {
    rc = vigil__seterr(err, VIGIL_EINVAL, "vpdq JSON: not an array of \"hex,quality,timestamp\" strings");
    goto done;
  }
  size_t m = json_array_size(root);
  vigil_video_frame *f = vigil__mallocarray(m, sizeof *f);
  if (!f) {
    rc = vigil__seterr(err, VIGIL_ENOMEM, "vpdq JSON: out of memory for %zu frames", m);
    goto done;
  }
  for (size_t i = 0; i < m; i++) {
    json_t *it = json_array_get(root, i);
    const char *why = "not a string";
    if (!json_is_string(it) || parse_te_item(json_string_value(it), json_string_length(it), &f[i], &why) != VIGIL_OK) {
      free(f);
      rc = vigil__seterr(err, VIGIL_EINVAL, "vpdq JSON: element %zu: %s", i + 1, why);
      goto done;
    }
    f[i].frame_number = (int64_t)i;
  }
  *frames = f;
  *n = m;
done:
  json_decref(root);
  return rc;
}

int vigil_vpdq_to_te(const vigil_video_frame *frames, size_t n, char **text, size_t *len, vigil_error *err) {
  if (!text) return vigil__seterr(err, VIGIL_EINVAL, "vpdq JSON: no output given");
  *text = NULL;
  if (len) *len = 0;
  if (n && !frames) return vigil__seterr(err, VIGIL_EINVAL, "vpdq JSON: no frames given");
  /* Each item is at most 2 + 64 + 1 + 3 + 1 + 31 + 2 bytes: '"', hex, quality, ts, '", ' */
  if (n > ((size_t)-1 - 3) / 112) return vigil__seterr(err, VIGIL_ELIMIT, "vpdq JSON: %zu frames is too many", n);
  char *out = malloc(n * 112 + 3);
  if (!out) return vigil__seterr(err, VIGIL_ENOMEM, "vpdq JSON: out of memory for %zu frames", n);
  size_t o = 0;
  out[o++] = '[';
  for (size_t i = 0; i < n; i++) {
    const vigil_video_frame *f = &frames[i];
    if (f->quality < 0 || f->quality > 100 || !(f->timestamp >= 0) || !isfinite(f->timestamp)) {
      free(out);
      return vigil__seterr(err, VIGIL_EINVAL,
                           "vpdq JSON: frame %zu: quality must be 0..100 and the timestamp a "
                           "finite number >= 0",
                           i);
    }
    char hex[VIGIL_PDQ_HEX_LEN + 1], ts[32];
    vigil_pdq_to_hex(&f->hash, hex);
    vigil_vpdq_format_ts(f->timestamp, ts);
    /* json.dumps separates items with ", " */
    o += (size_t)snprintf(out + o, 112, "%s\"%s,%d,%s\"", i ? ", " : "", hex, f->quality, ts);
  }
  out[o++] = ']';
  out[o] = 0;
  *text = out;
  if (len) *len = o;
  return VIGIL_OK;
}

int vigil_vpdq_from_reference(const char *text, size_t len, vigil_video_frame **frames, size_t *n, vigil_error *err) {
  if (!frames || !n) return vigil__seterr(err, VIGIL_EINVAL, "vpdq file: no output given");
  *frames = NULL;
  *n = 0;
  if (len && !text) return vigil__seterr(err, VIGIL_EINVAL, "vpdq file: no text given");
  vigil_video_frame *f = NULL;
  size_t m = 0, cap = 0, lineno = 0;
  for (size_t pos = 0; pos < len;) {
    const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
    size_t ll = nl ? (size_t)(nl - s) : len - pos;
    pos += ll + (nl ? 1 : 0);
    lineno++;
    if (ll && s[ll - 1] == '\r') ll--;
    if (ll == 0) continue;
    char line[VIGIL_VIDEO_LINE_MAX + 1], hex[VIGIL_PDQ_HEX_LEN + 2];
    long long fn;
    int q, used = 0;
    double ts;
    const char *why = NULL;
    if (ll > VIGIL_VIDEO_LINE_MAX) why = "line too long";
    else {
      memcpy(line, s, ll);
      line[ll] = 0;
      if (sscanf(line, "%lld,%d,%65[0-9a-fA-F],%lf%n", &fn, &q, hex, &ts, &used) != 4 || (size_t)used != ll)
        why = "not frame,quality,hash,timestamp";
      else if (fn < 0) why = "negative frame number";
      else if (q < 0 || q > 100) why = "quality is not 0..100";
      else if (strlen(hex) != VIGIL_PDQ_HEX_LEN) why = "the hash is not 64 hex digits";
      else if (!isfinite(ts) || ts < 0) why = "the timestamp is not a finite number >= 0";
    }
    if (!why && vigil__grow((void **)&f, &cap, m + 1, sizeof *f)) {
      free(f);
      return vigil__seterr(err, VIGIL_ENOMEM, "vpdq file: out of memory at line %zu", lineno);
    }
    if (why || vigil_pdq_from_hex(hex, VIGIL_PDQ_HEX_LEN, &f[m].hash, NULL)) {
      free(f);
      return vigil__seterr(err, VIGIL_EINVAL, "vpdq file: line %zu: %s", lineno, why ? why : "bad hash");
    }
    f[m].frame_number = fn;
    f[m].quality = q;
    f[m].timestamp = ts;
    m++;
  }
  *frames = f;
  *n = m;
  return VIGIL_OK;
}
