/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bank_sync.h - bringing a matcher up to date in two steps, for callers
 * that keep answering queries meanwhile (the service, lib/server/banksvc.c).
 *
 *   fetch  reads from `from` (any store on the same database; the service
 *          uses a connection of its own) what changed since the matcher's
 *          position, building a whole new index when the set of enabled
 *          banks changed.  It reads the matcher's position and bank set but
 *          changes nothing in it, so queries may run meanwhile; fetches and
 *          applies of one matcher must not overlap each other.
 *   apply  puts a fetched delta into the matcher (and frees it): removals,
 *          additions, or the swap to the new index.  Queries must be
 *          excluded while it runs; it does no I/O.
 *
 * vigil_bank_matcher_sync() is fetch from the matcher's own store + apply.
 */
#ifndef VIGIL_BANK_SYNC_H
#define VIGIL_BANK_SYNC_H

#include "vigil/bank.h"

typedef struct vigil__bank_delta vigil__bank_delta;

int vigil__bank_matcher_fetch(vigil_bank_matcher *m, vigil_bank_store *from, vigil__bank_delta **out,
                              vigil_error *err);
int vigil__bank_matcher_apply(vigil_bank_matcher *m, vigil__bank_delta *d, vigil_error *err);
void vigil__bank_delta_free(vigil__bank_delta *d);

#endif
