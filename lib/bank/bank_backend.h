/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bank_backend.h - the storage interface behind vigil/bank.h.
 *
 * The public bank functions (bank_store.c, bank_import.c, bank_match.c)
 * validate their arguments and then talk to storage only through this
 * table of function pointers.  Today one backend (bank_sql.c) fills it for
 * both engines of db/sql.h, SQLite and PostgreSQL; a store of another kind
 * would be one more file and one more line in vigil_bank_store_open().  Backends receive validated input: names
 * are valid bank names, values have the length of their type, strings fit
 * their VIGIL_BANK_*_MAX.
 *
 * Transactions: begin/commit/rollback bracket a batch of entry_put calls;
 * outside them every call is its own transaction.  A commit that returned
 * VIGIL_OK is durable (survives kill -9 and power loss as far as the
 * backend's fsync can promise).
 *
 * Entry outcomes of entry_put: VIGIL__PUT_ADDED (new row),
 * VIGIL__PUT_EXISTING (identity present, nothing changed),
 * VIGIL__PUT_REMOVED (identity present and active, now marked removed
 * because the incoming entry carries a removal).
 */
#ifndef VIGIL_BANK_BACKEND_H
#define VIGIL_BANK_BACKEND_H

#include "vigil/bank.h"

enum { VIGIL__PUT_ADDED = 1, VIGIL__PUT_EXISTING = 2, VIGIL__PUT_REMOVED = 3 };

/* One row of the removal log: entries whose removal a matcher must apply. */
typedef int (*vigil__removal_fn)(void *ctx, uint64_t seq, uint64_t entry_id);
/* One vpdq entry with its frames (vpdq_scan). */
typedef int (*vigil__frames_fn)(void *ctx, uint64_t entry_id, const vigil_video_frame *frames, size_t n);

typedef struct vigil__bank_backend {
  const char *name;
  void (*close)(void *impl);

  int (*begin)(void *impl, vigil_error *err);
  int (*commit)(void *impl, vigil_error *err);
  int (*rollback)(void *impl);

  int (*bank_create)(void *impl, const char *name, const char *description, int64_t now, vigil_error *err);
  int (*bank_drop)(void *impl, const char *name, vigil_error *err);
  int (*bank_set_enabled)(void *impl, const char *name, int enabled, vigil_error *err);
  /* counts: also fill active/removed/by_type (a scan of the bank). */
  int (*bank_get)(void *impl, const char *name, int counts, vigil_bank_info *out, vigil_error *err);
  int (*bank_list)(void *impl, int counts, vigil_bank_info **out, size_t *n, vigil_error *err);

  /* want_id: also set e->id when the identity already existed (an extra
   * lookup; bulk imports skip it unless the entry carries a removal). */
  int (*entry_put)(void *impl, uint64_t bank_id, vigil_bank_entry *e, int want_id, int *outcome, vigil_error *err);
  /* Marks removed; *changed = 0 when it already was.  VIGIL_ENOTFOUND if absent. */
  int (*entry_remove)(void *impl, uint64_t bank_id, vigil_signal_type t, const uint8_t *value, const char *reason,
                      int64_t now, int *changed, vigil_error *err);
  int (*entry_remove_id)(void *impl, uint64_t id, const char *reason, int64_t now, int *changed, vigil_error *err);
  int (*entry_get)(void *impl, uint64_t id, vigil_bank_entry *out, vigil_error *err);
  /* Entries with id > after_id, in id order, of bank_id (0: every bank) and
   * type (VIGIL_SIGNAL_NONE: every type); removed ones if include_removed;
   * only_enabled restricts to enabled banks. */
  int (*entry_scan)(void *impl, uint64_t bank_id, vigil_signal_type t, uint64_t after_id, int include_removed,
                    int only_enabled, vigil_bank_entry_fn fn, void *ctx, vigil_error *err);
  /* Active entries of enabled banks with exactly this value, in id order. */
  int (*entry_lookup)(void *impl, vigil_signal_type t, const uint8_t *value, vigil_bank_entry_fn fn, void *ctx,
                      vigil_error *err);
  /* Removal log rows with seq > after_seq, in order. */
  int (*removals_since)(void *impl, uint64_t after_seq, vigil__removal_fn fn, void *ctx, vigil_error *err);
  /* Appends to the audit log (bank-level operations, imports). */
  int (*audit)(void *impl, int64_t now, const char *action, const char *bank, const char *detail, vigil_error *err);

  /* Optional (NULL: imports call entry_put once per entry).  entry_put with
   * want_id 0 for es[0..n), n <= VIGIL__PUT_MANY_MAX, in the open
   * transaction, with the outcomes entry_put would have given one by one,
   * in order; ids set for added entries.  For backends where every
   * statement is a network round trip. */
  int (*entry_put_many)(void *impl, uint64_t bank_id, vigil_bank_entry *es, size_t n, int *outcomes,
                        vigil_error *err);

  /* vpdq entries.  entry_put and entry_put_many store e->frames with every
   * vpdq entry they add.  entry_frames: the frames of entry id (malloc'd);
   * VIGIL_ENOTFOUND when it has none.  vpdq_scan: active vpdq entries of
   * enabled banks with id > after_id, in id order, with their frames (valid
   * during the callback). */
  int (*entry_frames)(void *impl, uint64_t id, vigil_video_frame **frames, size_t *n, vigil_error *err);
  int (*vpdq_scan)(void *impl, uint64_t after_id, vigil__frames_fn fn, void *ctx, vigil_error *err);
  /* The highest entry id committed (0 when none): a matcher's bound for
   * scans of several kinds, so that what one scan skipped (an id above it)
   * no other scan can have moved the position past. */
  int (*entry_max_id)(void *impl, uint64_t *out, vigil_error *err);
  /* The connection the store's transactions run on (for its hook). */
  struct vigil__sql *(*sql)(void *impl);
} vigil__bank_backend;

#define VIGIL__PUT_MANY_MAX 128

/* A change made through a store, as its transaction hook sees it. */
typedef struct vigil__bank_change {
  const char *action;            /* create, drop, enable, disable, add, remove, import */
  const char *bank;              /* the bank's name */
  const vigil_bank_entry *entry; /* add, remove: the entry (id 0 when unknown); else NULL */
  const char *detail;            /* create: the description; drop, import: a summary; else "" */
} vigil__bank_change;

/* Called inside the transaction of every change made through the store,
 * after the change and before its commit, on the store's own connection:
 * what it writes commits with the change or not at all, and a failure
 * rolls the change back (the caller gets that failure).  Changes that
 * change nothing (an entry already present, a removal already made) do
 * not call it.  The service writes its bank.changed webhook deliveries
 * this way (server/banksvc.c), so an acknowledged change always has them. */
typedef int (*vigil__bank_txhook)(void *ctx, struct vigil__sql *db, const vigil__bank_change *c, vigil_error *err);

struct vigil_bank_store {
  const vigil__bank_backend *be;
  void *impl;
  vigil__bank_txhook hook; /* NULL: none */
  void *hook_ctx;
};

/* Sets (fn NULL: clears) the store's transaction hook. */
void vigil__bank_store_set_txhook(vigil_bank_store *st, vigil__bank_txhook fn, void *ctx);

/* Runs the store's hook, if any, for a change in the open transaction. */
int vigil__bank_store_hook(vigil_bank_store *st, const char *action, const char *bank, const vigil_bank_entry *e,
                           const char *detail, vigil_error *err);

/* The backend (bank_sql.c) over db/sql.h: location as vigil__sql_open()
 * takes it (a libpq URI, "sqlite:PATH" or a plain path); its name is the
 * engine's ("sqlite" or "postgresql"). */
int vigil__bank_sql_open(const vigil__bank_backend **be, void **impl, const char *location, vigil_error *err);

/* Validation shared by the store layer and the parsers (bank_signal.c):
 * text fields are UTF-8 without control characters, at most max bytes. */
int vigil__bank_text_valid(const char *s, size_t len, size_t max, const char *what, vigil_error *err);

/* Validates the caller-supplied fields of an entry (type, value length,
 * text fields, canonical tags). */
int vigil__bank_entry_check(const vigil_bank_entry *e, vigil_error *err);

/* Adds count entries of (bank_id, type, removed or not) to the matching
 * bank of banks[0..n): the per-type counts of a bank listing. */
void vigil__bank_count_into(vigil_bank_info *banks, size_t n, uint64_t bank_id, int64_t type, int removed,
                            uint64_t count);

/* vpdq frame lists (bank_vpdq.c): the checks every stored list passes
 * (1..VIGIL_BANK_FRAMES_MAX frames, fields in range), and the stored byte
 * form (encode: *out malloc'd; decode: VIGIL_ECORRUPT for a damaged row). */
int vigil__bank_frames_check(const vigil_video_frame *f, size_t n, vigil_error *err);
int vigil__bank_frames_encode(const vigil_video_frame *f, size_t n, uint8_t **out, size_t *len, vigil_error *err);
int vigil__bank_frames_decode(const uint8_t *b, size_t len, vigil_video_frame **out, size_t *n, vigil_error *err);

/* Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" (out: 21 bytes) and back. */
void vigil__bank_time_format(int64_t t, char out[32]);
int vigil__bank_time_parse(const char *s, size_t len, int64_t *out);

#endif
