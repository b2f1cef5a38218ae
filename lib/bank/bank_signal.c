/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bank_signal.c - the small validators every bank path shares: signal type
 * names and hex values, bank names, tag lists, free-text fields and times.
 *
 * Everything that reaches storage passes through here first, so the rules
 * live in one place: hex of exactly the type's length, bank names of a safe
 * ASCII alphabet (they appear in file names and URLs), tags likewise, and
 * free text that is valid UTF-8 without control characters (it is printed
 * in CSV and terminals), bounded in length.  Also the one piece of
 * bookkeeping both storage backends share: adding up a bank listing's
 * per-type counts.
 */
#include "bank/bank_backend.h"
#include "common/internal.h"
#include "common/hex.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const signal_names[] = {NULL, "pdq", "md5", "sha256", "vpdq", "video_md5"};

const char *vigil_signal_name(vigil_signal_type t) {
  return (t > VIGIL_SIGNAL_NONE && t < VIGIL_SIGNAL_COUNT) ? signal_names[t] : NULL;
}

vigil_signal_type vigil_signal_from_name(const char *name, size_t len) {
  for (int t = VIGIL_SIGNAL_PDQ; t < VIGIL_SIGNAL_COUNT; t++)
    if (strlen(signal_names[t]) == len && !memcmp(signal_names[t], name, len)) return (vigil_signal_type)t;
  return VIGIL_SIGNAL_NONE;
}

size_t vigil_signal_value_len(vigil_signal_type t) {
  switch (t) {
  case VIGIL_SIGNAL_PDQ: return 32;
  case VIGIL_SIGNAL_MD5: return 16;
  case VIGIL_SIGNAL_SHA256: return 32;
  case VIGIL_SIGNAL_VIDEO_MD5: return 16; /* a separate type, as python-threatexchange keeps it */
  case VIGIL_SIGNAL_VPDQ: return 32;      /* the identity of the frame list (bank_vpdq.c) */
  default: return 0;
  }
}

int vigil_signal_parse(vigil_signal_type t, const char *hex, size_t len, uint8_t out[VIGIL_BANK_VALUE_MAX],
                       vigil_error *err) {
  size_t n = vigil_signal_value_len(t);
  if (n == 0)
    return vigil__seterr(err, VIGIL_EINVAL, "signal type %s is not supported yet",
                         vigil_signal_name(t) ? vigil_signal_name(t) : "(none)");
  if (len != 2 * n)
    return vigil__seterr(err, VIGIL_EINVAL, "%s value must be %zu hex digits, got %zu characters",
                         vigil_signal_name(t), 2 * n, len);
  size_t pos = 0;
  if (vigil__hex_decode(hex, n, out, &pos)) {
    unsigned char c = (unsigned char)hex[pos];
    if (c >= 0x21 && c < 0x7f)
      return vigil__seterr(err, VIGIL_EINVAL, "bad hex digit '%c' at position %zu of the %s value", c, pos + 1,
                           vigil_signal_name(t));
    return vigil__seterr(err, VIGIL_EINVAL, "bad hex digit (byte 0x%02x) at position %zu of the %s value", c,
                         pos + 1, vigil_signal_name(t));
  }
  for (size_t i = n; i < VIGIL_BANK_VALUE_MAX; i++) out[i] = 0;
  return VIGIL_OK;
}

void vigil_signal_to_hex(const uint8_t *value, size_t len, char *out) { vigil__hex_encode(value, len, out); }

int vigil_bank_name_valid(const char *name) {
  if (!name) return 0;
  size_t n = strlen(name);
  if (n == 0 || n > VIGIL_BANK_NAME_MAX) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
          c == '.'))
      return 0;
  }
  return 1;
}

static int tag_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == ':';
}

int vigil_bank_tags_has(const char *tags, const char *tag) {
  size_t tl = strlen(tag);
  const char *p = tags;
  while (p && *p) {
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n == tl && !memcmp(p, tag, n)) return 1;
    p = e ? e + 1 : NULL;
  }
  return 0;
}

int vigil_bank_tags_normalize(const char *in, size_t len, char out[VIGIL_BANK_TAGS_MAX + 1], vigil_error *err) {
  size_t o = 0, i = 0;
  out[0] = '\0';
  while (i < len) {
    while (i < len && (in[i] == ',' || in[i] == ';' || in[i] == ' ' || in[i] == '\t')) i++;
    size_t s = i;
    while (i < len && !(in[i] == ',' || in[i] == ';' || in[i] == ' ' || in[i] == '\t')) {
      if (!tag_char(in[i])) {
        unsigned char c = (unsigned char)in[i];
        if (c >= 0x21 && c < 0x7f)
          return vigil__seterr(err, VIGIL_EINVAL, "tag has a character outside [A-Za-z0-9_.:-]: '%c'", c);
        return vigil__seterr(err, VIGIL_EINVAL, "tag has a character outside [A-Za-z0-9_.:-] (byte 0x%02x)", c);
      }
      i++;
    }
    size_t n = i - s;
    if (n == 0) continue;
    if (n > VIGIL_BANK_TAG_MAX) return vigil__seterr(err, VIGIL_EINVAL, "tag longer than %d characters", VIGIL_BANK_TAG_MAX);
    char tag[VIGIL_BANK_TAG_MAX + 1];
    memcpy(tag, in + s, n);
    tag[n] = '\0';
    if (vigil_bank_tags_has(out, tag)) continue;
    if (o + (o ? 1 : 0) + n > VIGIL_BANK_TAGS_MAX)
      return vigil__seterr(err, VIGIL_EINVAL, "tags longer than %d characters in all", VIGIL_BANK_TAGS_MAX);
    if (o) out[o++] = ',';
    memcpy(out + o, tag, n);
    o += n;
    out[o] = '\0';
  }
  return VIGIL_OK;
}

int vigil__bank_text_valid(const char *s, size_t len, size_t max, const char *what, vigil_error *err) {
  if (len > max) return vigil__seterr(err, VIGIL_EINVAL, "%s longer than %zu bytes", what, max);
  size_t i = 0;
  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f)
        return vigil__seterr(err, VIGIL_EINVAL, "%s contains a control character (byte 0x%02x)", what, c);
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      cp = c & 0x07;
    } else {
      return vigil__seterr(err, VIGIL_EINVAL, "%s is not valid UTF-8 (byte 0x%02x at %zu)", what, c, i + 1);
    }
    if (i + n > len) return vigil__seterr(err, VIGIL_EINVAL, "%s is not valid UTF-8 (truncated sequence)", what);
    for (size_t k = 1; k < n; k++) {
      unsigned char d = (unsigned char)s[i + k];
      if ((d & 0xc0) != 0x80)
        return vigil__seterr(err, VIGIL_EINVAL, "%s is not valid UTF-8 (byte 0x%02x at %zu)", what, d, i + k + 1);
      cp = cp << 6 | (d & 0x3f);
    }
    /* overlong forms, surrogates and code points past U+10FFFF */
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
      return vigil__seterr(err, VIGIL_EINVAL, "%s is not valid UTF-8 (bad sequence at %zu)", what, i + 1);
    if (cp >= 0x80 && cp < 0xa0)
      return vigil__seterr(err, VIGIL_EINVAL, "%s contains a control character (U+%04X)", what, (unsigned)cp);
    i += n;
  }
  return VIGIL_OK;
}

void vigil__bank_time_format(int64_t t, char out[32]) {
  time_t tt = (time_t)t;
  struct tm tm;
  if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) snprintf(out, 32, "%lld", (long long)t);
}

/* Strict "YYYY-MM-DDTHH:MM:SSZ" (UTC); 0 on success. */
int vigil__bank_time_parse(const char *s, size_t len, int64_t *out) {
  if (len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
    return -1;
  static const int pos[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
  for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++)
    if (s[pos[i]] < '0' || s[pos[i]] > '9') return -1;
#define D2(p) ((s[p] - '0') * 10 + (s[p + 1] - '0'))
  int year = D2(0) * 100 + D2(2), mon = D2(5), day = D2(8), hh = D2(11), mm = D2(14), ss = D2(17);
#undef D2
  if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return -1;
  /* days from civil (proleptic Gregorian), no timezone involved */
  int y = year - (mon <= 2);
  int era = y / 400, yoe = y - era * 400;
  int doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = (int64_t)era * 146097 + doe - 719468;
  *out = days * 86400 + hh * 3600 + mm * 60 + ss;
  return 0;
}

void vigil__bank_count_into(vigil_bank_info *banks, size_t n, uint64_t bank_id, int64_t type, int removed,
                            uint64_t count) {
  for (size_t i = 0; i < n; i++) {
    if (banks[i].id != bank_id) continue;
    if (removed) {
      banks[i].removed += count;
    } else {
      banks[i].active += count;
      if (type >= 0 && type < VIGIL_SIGNAL_COUNT) banks[i].by_type[type] += count;
    }
  }
}
