/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bank_vfile.h - the matcher's video index saved between runs (bank_vfile.c).
 */
#ifndef VIGIL_BANK_VFILE_H
#define VIGIL_BANK_VFILE_H

#include "vigil/bank.h"

/* Saves vx to path with the store position it reflects (max_id,
 * removal_seq, the bank set) and its live videos' identities, read from st. */
int vigil__bank_vfile_save(const char *path, vigil_bank_store *st, const vigil_vpdq_index *vx, uint64_t max_id,
                           uint64_t removal_seq, const vigil_bank_info *banks, size_t nbanks, vigil_error *err);

/* The saved index, when it matches the store `from` (banks: the store's
 * bank set now; hi: its highest entry id): *vx then holds the videos up to
 * *max_id with every removal logged so far applied, and the caller adds the
 * entries after *max_id.  Otherwise *vx is NULL and why says why (a
 * missing, invalid or stale file is not an error).  Errors: the store's. */
int vigil__bank_vfile_load(const char *path, vigil_bank_store *from, const vigil_bank_info *banks, size_t nbanks,
                           uint64_t hi, vigil_vpdq_index **vx, uint64_t *max_id, char *why, size_t whycap,
                           vigil_error *err);

#endif
