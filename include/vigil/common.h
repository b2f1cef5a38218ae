/*
 * vigil/common.h - the error convention shared by every vigil capability.
 *
 * Every library function that can fail returns an int status: VIGIL_OK (0)
 * on success or one of the negative VIGIL_E* codes below.  Functions also
 * take an optional `vigil_error *err` (may be NULL); on failure it receives
 * the code and a one-line message the caller can print as it is, e.g.
 *   "truncated JPEG: data ends after row 301 of 768"
 * (the caller adds what it already knows, such as the file's name).  A
 * successful call leaves err untouched.  vigil_strerror() gives a generic
 * text for a bare code.
 *
 * Every public header states at its top which of its functions may run in
 * several threads at once and who owns what its functions take and
 * return; docs/common.md gives the rules they share, the version scheme
 * and what a release may change (the ABI policy).  Both functions here
 * may be called from any thread; vigil_strerror's strings are static.
 */
#ifndef VIGIL_COMMON_H
#define VIGIL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * VIGIL_API marks the library's public functions: libvigil is built with
 * hidden visibility, so only what a public header declares with VIGIL_API
 * is exported from the shared library.  Internal functions are named
 * vigil__* and never carry it.
 */
#if defined(__GNUC__) || defined(__clang__)
#define VIGIL_API __attribute__((visibility("default")))
#else
#define VIGIL_API
#endif

#define VIGIL_VERSION "0.1.0"

enum vigil_status {
  VIGIL_OK = 0,
  VIGIL_EINVAL = -1,    /* invalid argument or malformed input text */
  VIGIL_ENOMEM = -2,    /* allocation failed */
  VIGIL_EIO = -3,       /* operating-system I/O error */
  VIGIL_EFORMAT = -4,   /* unsupported or unrecognised format */
  VIGIL_ECORRUPT = -5,  /* truncated or corrupt data */
  VIGIL_ELIMIT = -6,    /* input exceeds a configured limit */
  VIGIL_ENOTFOUND = -7, /* no such object */
  VIGIL_EEXIST = -8,    /* object already exists */
  VIGIL_ESTORE = -9,    /* storage backend failure */
  VIGIL_EINTERNAL = -10 /* a bug: an invariant did not hold */
};

#define VIGIL_ERROR_MAX 512

typedef struct vigil_error {
  int code;                      /* one of enum vigil_status */
  char message[VIGIL_ERROR_MAX]; /* NUL-terminated, printable */
} vigil_error;

/* Generic description of a status code; never NULL. */
VIGIL_API const char *vigil_strerror(int code);

/* Resets err to VIGIL_OK with an empty message (err may be NULL). */
VIGIL_API void vigil_error_clear(vigil_error *err);

#ifdef __cplusplus
}
#endif
#endif
