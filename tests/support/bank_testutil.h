/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bank_testutil.h - helpers for the bank tests: a scratch directory per
 * test program, files written from strings, random hashes.
 */
#ifndef VIGIL_BANK_TESTUTIL_H
#define VIGIL_BANK_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/bank.h"

/* Creates a fresh scratch directory (removed by bt_cleanup) and returns it. */
const char *bt_dir(void);
/* dir/name into buf. */
const char *bt_path(char *buf, size_t cap, const char *name);
/* Writes len bytes (or strlen when len is (size_t)-1) to dir/name; returns the path in buf. */
const char *bt_write(char *buf, size_t cap, const char *name, const void *data, size_t len);
/* Removes the scratch directory and everything in it. */
void bt_cleanup(void);
/* A fresh store in the scratch directory (fails the test if it cannot). */
vigil_bank_store *bt_store(const char *name);
/* Random 32 bytes; and a copy of h with `bits` distinct random bits flipped. */
void bt_random_hash(uint64_t *rng, uint8_t out[32]);
void bt_flip(uint64_t *rng, const uint8_t in[32], int bits, uint8_t out[32]);
/* Number of entries of bank (active + removed). */
uint64_t bt_count(vigil_bank_store *st, const char *bank, int include_removed);

/* kill -9 in the middle of an import: a child process imports csv into
 * bank of the store at loc in batches of `batch` lines and reports each
 * committed batch over a pipe (the acknowledgement); once kill_after are
 * acknowledged it is sent SIGKILL.  Asserts the acknowledgements came in
 * order and that the kill landed; returns how many were acknowledged. */
uint64_t bt_import_killed(const char *loc, const char *bank, const char *csv, uint64_t batch, uint64_t kill_after);

#endif
