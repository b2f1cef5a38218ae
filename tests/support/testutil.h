/* SPDX-License-Identifier: Apache-2.0 */
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

/* TU_ASAN is 1 in an AddressSanitizer build (gcc or clang), else 0: some
 * checks cost minutes there, and some libraries' own leaks would be laid
 * at a test's door. */
#if defined(__SANITIZE_ADDRESS__)
#define TU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_ASAN 1
#endif
#endif
#ifndef TU_ASAN
#define TU_ASAN 0
#endif

/* Path under ../shared, or NULL (after saying so on stdout) when the
 * reference data is absent. */
const char *tu_shared(const char *rel, char *buf, size_t cap);

/* Deterministic pseudo-random numbers. */
uint64_t tu_rand(uint64_t *state);

/* Reads a whole file, with a NUL after its *len bytes; NULL if it cannot. */
uint8_t *tu_slurp(const char *path, size_t *len);

/* Makes a fresh private directory $TMPDIR/vigil-test-<tag>-XXXXXX (TMPDIR
 * defaults to /tmp) into buf; returns buf, or NULL. */
const char *tu_mkdtemp(char *buf, size_t cap, const char *tag);

/* Removes dir and everything under it (without following links, without
 * a shell); 0, or -1 if something could not be removed. */
int tu_rmtree(const char *dir);

#endif
