/* SPDX-License-Identifier: Apache-2.0 */
/*
 * error.c - the library-wide error convention (see vigil/common.h).
 *
 * Internal code reports failures with vigil__seterr(), which formats the
 * message into the caller's vigil_error (when given) and returns the code,
 * so a failing path reads `return vigil__seterr(err, VIGIL_EINVAL, ...);`.
 */
#include "common/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <assert.h>
#include <string.h>

const char *vigil_strerror(int code) {
  switch (code) {
  case VIGIL_OK: return "success";
  case VIGIL_EINVAL: return "invalid argument";
  case VIGIL_ENOMEM: return "out of memory";
  case VIGIL_EIO: return "input/output error";
  case VIGIL_EFORMAT: return "unsupported format";
  case VIGIL_ECORRUPT: return "corrupt or truncated data";
  case VIGIL_ELIMIT: return "limit exceeded";
  case VIGIL_ENOTFOUND: return "not found";
  case VIGIL_EEXIST: return "already exists";
  case VIGIL_ESTORE: return "storage error";
  case VIGIL_EINTERNAL: return "internal error";
  default: return "unknown error";
  }
}

void vigil_error_clear(vigil_error *err) {
  if (err) {
    err->code = VIGIL_OK;
    err->message[0] = '\0';
  }
}

int vigil__seterr(vigil_error *err, int code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return code;
}

int vigil__prefixerr(vigil_error *err, int rc, const char *prefix) {
  assert(rc < 0);
  if (!err) return rc;
  if (prefix && *prefix) {
    char tmp[VIGIL_ERROR_MAX];
    size_t n = strlen(prefix);
    if (n > VIGIL_ERROR_MAX / 2) n = VIGIL_ERROR_MAX / 2;
    memcpy(tmp, prefix, n);
    tmp[n] = ':';
    tmp[n + 1] = ' ';
    size_t room = VIGIL_ERROR_MAX - n - 3, m = strlen(err->message);
    if (m > room) m = room;
    memcpy(tmp + n + 2, err->message, m);
    tmp[n + 2 + m] = '\0';
    memcpy(err->message, tmp, sizeof tmp);
  }
  return rc;
}
