/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rfc3339.c - Unix milliseconds to RFC 3339 UTC text (see rfc3339.h).
 *
 * Floor division keeps times before 1970 correct (-1 ms is
 * 1969-12-31T23:59:59.999Z, not a negative millisecond field).  Years
 * outside 0000-9999 are refused: RFC 3339 cannot write them.
 */
#include "common/rfc3339.h"
#include "common/internal.h"

#include <stdio.h>
#include <time.h>

int vigil__rfc3339_ms(int64_t unix_ms, char out[VIGIL__RFC3339_MAX]) {
  out[0] = 0;
  int64_t s = unix_ms / 1000, ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    s -= 1;
  }
  time_t t = (time_t)s;
  struct tm tm;
  /* RFC 3339 has four-digit years; gmtime_r would go far beyond */
  if ((int64_t)t != s || !gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) return VIGIL_EINVAL;
  char base[VIGIL__RFC3339_MAX];
  if (!strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm)) return VIGIL_EINVAL;
  int n = snprintf(out, VIGIL__RFC3339_MAX, "%s.%03dZ", base, (int)ms);
  if (n < 0 || n >= VIGIL__RFC3339_MAX) {
    out[0] = 0;
    return VIGIL_EINVAL;
  }
  return VIGIL_OK;
}
