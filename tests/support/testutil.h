/*
 * testutil.h - shared by the cmocka tests.
 */
#ifndef VIGIL_TESTUTIL_H
#define VIGIL_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Path under ../shared, or NULL (after saying so on stdout) when the
 * reference data is absent. */
const char *tu_shared(const char *rel, char *buf, size_t cap);

/* Deterministic pseudo-random numbers. */
uint64_t tu_rand(uint64_t *state);

/* Reads a whole file, with a 0 byte after its *len bytes (not counted) so
 * that text can be searched with the str* functions; NULL if it cannot. */
uint8_t *tu_slurp(const char *path, size_t *len);

#endif
