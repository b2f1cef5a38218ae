/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bank_store.c - the public bank store API (vigil/bank.h): validates every
 * argument, then calls the backend through its function table.
 *
 * Single writes (add, remove) run in their own transaction, so a returned
 * VIGIL_OK means the change is committed and durable.  Bank-level changes
 * are also written to the audit log in the same transaction; removals are
 * recorded in the backend's append-only removal log, with time and reason.
 * A store may carry a transaction hook (bank_backend.h): every change that
 * changes something calls it before its commit, so what the hook writes
 * (the service's bank.changed deliveries) commits with the change.
 */
#include "bank/bank_backend.h"
#include "db/sql.h"
#include "common/internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int vigil_bank_store_open(vigil_bank_store **out, const char *location, vigil_error *err) {
  *out = NULL;
  if (!location || !*location) return vigil__seterr(err, VIGIL_EINVAL, "no store location given");
  if (!vigil__sql_is_pg(location) && !strcmp(location, "sqlite:"))
    return vigil__seterr(err, VIGIL_EINVAL, "empty SQLite path");
  vigil_bank_store *st = calloc(1, sizeof *st);
  if (!st) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  int rc = vigil__bank_sql_open(&st->be, &st->impl, location, err);
  if (rc) {
    free(st);
    return rc;
  }
  *out = st;
  return VIGIL_OK;
}

void vigil_bank_store_close(vigil_bank_store *st) {
  if (!st) return;
  st->be->close(st->impl);
  free(st);
}

const char *vigil_bank_store_backend(const vigil_bank_store *st) { return st->be->name; }

void vigil__bank_store_set_txhook(vigil_bank_store *st, vigil__bank_txhook fn, void *ctx) {
  st->hook = fn;
  st->hook_ctx = fn ? ctx : NULL;
}

int vigil__bank_store_hook(vigil_bank_store *st, const char *action, const char *bank, const vigil_bank_entry *e,
                           const char *detail, vigil_error *err) {
  if (!st->hook) return VIGIL_OK;
  vigil__bank_change c = {action, bank, e, detail ? detail : ""};
  return st->hook(st->hook_ctx, st->be->sql(st->impl), &c, err);
}

static int check_name(const char *name, vigil_error *err) {
  if (!vigil_bank_name_valid(name))
    return vigil__seterr(err, VIGIL_EINVAL, "invalid bank name '%.80s' (1 to %d of A-Z a-z 0-9 _ . -)",
                         name ? name : "", VIGIL_BANK_NAME_MAX);
  return VIGIL_OK;
}

static int64_t now_s(void) { return (int64_t)time(NULL); }

/* Runs the audit record and the change in one transaction. */
#define TX_BEGIN(st, err)                                                                                              \
  do {                                                                                                                 \
    int _r = (st)->be->begin((st)->impl, err);                                                                         \
    if (_r) return _r;                                                                                                 \
  } while (0)
static int tx_end(vigil_bank_store *st, int rc, vigil_error *err) {
  if (rc) {
    st->be->rollback(st->impl);
    return rc;
  }
  rc = st->be->commit(st->impl, err);
  if (rc) st->be->rollback(st->impl);
  return rc;
}

int vigil_bank_create(vigil_bank_store *st, const char *name, const char *description, vigil_error *err) {
  int rc = check_name(name, err);
  if (rc) return rc;
  if (description && (rc = vigil__bank_text_valid(description, strlen(description), VIGIL_BANK_TEXT_MAX,
                                                  "description", err)))
    return rc;
  int64_t now = now_s();
  TX_BEGIN(st, err);
  rc = st->be->bank_create(st->impl, name, description, now, err);
  if (!rc) rc = st->be->audit(st->impl, now, "create", name, description, err);
  if (!rc) rc = vigil__bank_store_hook(st, "create", name, NULL, description, err);
  return tx_end(st, rc, err);
}

int vigil_bank_drop(vigil_bank_store *st, const char *name, vigil_error *err) {
  int rc = check_name(name, err);
  if (rc) return rc;
  vigil_bank_info info;
  TX_BEGIN(st, err);
  rc = st->be->bank_get(st->impl, name, 1, &info, err);
  if (!rc) rc = st->be->bank_drop(st->impl, name, err);
  if (!rc) {
    char detail[128];
    snprintf(detail, sizeof detail, "%llu active, %llu removed entries deleted", (unsigned long long)info.active,
             (unsigned long long)info.removed);
    rc = st->be->audit(st->impl, now_s(), "drop", name, detail, err);
    if (!rc) rc = vigil__bank_store_hook(st, "drop", name, NULL, detail, err);
  }
  return tx_end(st, rc, err);
}

int vigil_bank_set_enabled(vigil_bank_store *st, const char *name, int enabled, vigil_error *err) {
  int rc = check_name(name, err);
  if (rc) return rc;
  TX_BEGIN(st, err);
  rc = st->be->bank_set_enabled(st->impl, name, enabled, err);
  if (!rc) rc = st->be->audit(st->impl, now_s(), enabled ? "enable" : "disable", name, "", err);
  if (!rc) rc = vigil__bank_store_hook(st, enabled ? "enable" : "disable", name, NULL, NULL, err);
  return tx_end(st, rc, err);
}

int vigil_bank_get(vigil_bank_store *st, const char *name, vigil_bank_info *out, vigil_error *err) {
  int rc = check_name(name, err);
  if (rc) return rc;
  return st->be->bank_get(st->impl, name, 1, out, err);
}

int vigil_bank_list(vigil_bank_store *st, vigil_bank_info **banks, size_t *n, vigil_error *err) {
  return st->be->bank_list(st->impl, 1, banks, n, err);
}

int vigil__bank_entry_check(const vigil_bank_entry *e, vigil_error *err) {
  size_t n = vigil_signal_value_len(e->type);
  if (n == 0) return vigil__seterr(err, VIGIL_EINVAL, "unsupported signal type");
  if (e->value_len != n)
    return vigil__seterr(err, VIGIL_EINVAL, "%s value must be %zu bytes", vigil_signal_name(e->type), n);
  int rc;
  if ((rc = vigil__bank_text_valid(e->external_id, strnlen(e->external_id, sizeof e->external_id),
                                   VIGIL_BANK_TEXT_MAX, "external id", err)) ||
      (rc = vigil__bank_text_valid(e->source, strnlen(e->source, sizeof e->source), VIGIL_BANK_TEXT_MAX, "source",
                                   err)) ||
      (rc = vigil__bank_text_valid(e->removed_reason, strnlen(e->removed_reason, sizeof e->removed_reason),
                                   VIGIL_BANK_TEXT_MAX, "removal reason", err)))
    return rc;
  char canon[VIGIL_BANK_TAGS_MAX + 1];
  size_t tl = strnlen(e->tags, sizeof e->tags);
  if (tl > VIGIL_BANK_TAGS_MAX) return vigil__seterr(err, VIGIL_EINVAL, "tags too long");
  if ((rc = vigil_bank_tags_normalize(e->tags, tl, canon, err))) return rc;
  if (strcmp(canon, e->tags)) return vigil__seterr(err, VIGIL_EINVAL, "tags are not in canonical form");
  if (e->removed < 0) return vigil__seterr(err, VIGIL_EINVAL, "negative removal time");
  if (e->type == VIGIL_SIGNAL_VPDQ) {
    uint8_t id[32];
    if ((rc = vigil_bank_vpdq_identity(e->frames, e->nframes, id, err))) return rc;
    if (memcmp(id, e->value, 32)) return vigil__seterr(err, VIGIL_EINVAL, "vpdq value is not the identity of its frames");
  } else if (e->frames || e->nframes) {
    return vigil__seterr(err, VIGIL_EINVAL, "only vpdq entries carry frames");
  }
  return VIGIL_OK;
}

int vigil_bank_add(vigil_bank_store *st, vigil_bank_entry *e, int *added, vigil_error *err) {
  if (added) *added = 0;
  int rc = check_name(e->bank, err);
  if (rc) return rc;
  /* Accept tags in any separator style; store the canonical form. */
  char canon[VIGIL_BANK_TAGS_MAX + 1];
  if ((rc = vigil_bank_tags_normalize(e->tags, strnlen(e->tags, sizeof e->tags), canon, err))) return rc;
  memcpy(e->tags, canon, sizeof canon);
  if (e->type == VIGIL_SIGNAL_VPDQ) { /* the value is derived from the frames */
    if ((rc = vigil_bank_vpdq_identity(e->frames, e->nframes, e->value, err))) return rc;
    e->value_len = 32;
  }
  if ((rc = vigil__bank_entry_check(e, err))) return rc;
  vigil_bank_info info;
  TX_BEGIN(st, err);
  rc = st->be->bank_get(st->impl, e->bank, 0, &info, err);
  int outcome = 0;
  if (!rc) {
    if (e->added <= 0) e->added = now_s();
    rc = st->be->entry_put(st->impl, info.id, e, 1, &outcome, err);
  }
  if (!rc && outcome != VIGIL__PUT_EXISTING)
    rc = vigil__bank_store_hook(st, outcome == VIGIL__PUT_REMOVED ? "remove" : "add", e->bank, e, NULL, err);
  rc = tx_end(st, rc, err);
  if (!rc && added) *added = outcome == VIGIL__PUT_ADDED;
  return rc;
}

static int check_reason(const char *reason, vigil_error *err) {
  return reason ? vigil__bank_text_valid(reason, strlen(reason), VIGIL_BANK_TEXT_MAX, "removal reason", err)
                : VIGIL_OK;
}

int vigil_bank_remove(vigil_bank_store *st, const char *bank, vigil_signal_type t, const uint8_t *value,
                      const char *reason, vigil_error *err) {
  int rc = check_name(bank, err);
  if (rc || (rc = check_reason(reason, err))) return rc;
  if (!vigil_signal_value_len(t)) return vigil__seterr(err, VIGIL_EINVAL, "unsupported signal type");
  vigil_bank_info info;
  memset(&info, 0, sizeof info); /* read below when the bank is missing */
  int changed = 0;
  TX_BEGIN(st, err);
  rc = st->be->bank_get(st->impl, bank, 0, &info, err);
  if (!rc) rc = st->be->entry_remove(st->impl, info.id, t, value, reason, now_s(), &changed, err);
  if (!rc && changed && st->hook) {
    vigil_bank_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.bank, sizeof e.bank, "%s", bank);
    e.type = t;
    e.value_len = vigil_signal_value_len(t);
    memcpy(e.value, value, e.value_len);
    snprintf(e.removed_reason, sizeof e.removed_reason, "%s", reason ? reason : "");
    rc = vigil__bank_store_hook(st, "remove", bank, &e, NULL, err);
  }
  if (rc == VIGIL_ENOTFOUND && info.id) {
    char hex[2 * VIGIL_BANK_VALUE_MAX + 1];
    vigil_signal_to_hex(value, vigil_signal_value_len(t), hex);
    vigil__seterr(err, VIGIL_ENOTFOUND, "bank '%s' has no %s entry %s", bank, vigil_signal_name(t), hex);
  }
  return tx_end(st, rc, err);
}

int vigil_bank_remove_id(vigil_bank_store *st, uint64_t id, const char *reason, vigil_error *err) {
  int rc = check_reason(reason, err);
  if (rc) return rc;
  int changed = 0;
  TX_BEGIN(st, err);
  rc = st->be->entry_remove_id(st->impl, id, reason, now_s(), &changed, err);
  if (!rc && changed && st->hook) {
    vigil_bank_entry e;
    if (!(rc = st->be->entry_get(st->impl, id, &e, err)))
      rc = vigil__bank_store_hook(st, "remove", e.bank, &e, NULL, err);
  }
  return tx_end(st, rc, err);
}

int vigil_bank_entry_get(vigil_bank_store *st, uint64_t id, vigil_bank_entry *out, vigil_error *err) {
  return st->be->entry_get(st->impl, id, out, err);
}

int vigil_bank_entry_frames(vigil_bank_store *st, uint64_t id, vigil_video_frame **frames, size_t *n,
                            vigil_error *err) {
  *frames = NULL;
  *n = 0;
  return st->be->entry_frames(st->impl, id, frames, n, err);
}

/* foreach hands vpdq entries to the caller with their frames. */
typedef struct with_frames {
  vigil_bank_store *st;
  vigil_bank_entry_fn fn;
  void *ctx;
  vigil_error *err;
} with_frames;

static int add_frames(void *ctx, const vigil_bank_entry *e) {
  with_frames *w = ctx;
  if (e->type != VIGIL_SIGNAL_VPDQ) return w->fn(w->ctx, e);
  vigil_bank_entry *c = malloc(sizeof *c);
  if (!c) return vigil__seterr(w->err, VIGIL_ENOMEM, "out of memory");
  *c = *e;
  vigil_video_frame *f = NULL;
  size_t n = 0;
  int rc = w->st->be->entry_frames(w->st->impl, e->id, &f, &n, w->err);
  if (!rc) {
    c->frames = f;
    c->nframes = n;
    rc = w->fn(w->ctx, c);
  }
  free(f);
  free(c);
  return rc;
}

int vigil_bank_foreach(vigil_bank_store *st, const char *bank, int include_removed, vigil_bank_entry_fn fn,
                       void *ctx, vigil_error *err) {
  with_frames w = {st, fn, ctx, err};
  uint64_t bank_id = 0;
  if (bank) {
    vigil_bank_info info;
    int rc = check_name(bank, err);
    if (rc || (rc = st->be->bank_get(st->impl, bank, 0, &info, err))) return rc;
    bank_id = info.id;
  }
  return st->be->entry_scan(st->impl, bank_id, VIGIL_SIGNAL_NONE, 0, include_removed, 0, add_frames, &w, err);
}
