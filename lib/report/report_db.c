/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report_db.c - the public functions of vigil/report.h: a connection of
 * their own to the service database, each call under the handle's lock.
 */
#include "report/outbox.h"

#include <pthread.h>

struct vigil_report_db {
  vigil__sql *db;
  pthread_mutex_t mu;
};

int vigil_report_db_open(vigil_report_db **out, const char *location, vigil_error *err) {
  *out = NULL;
  vigil_report_db *r = calloc(1, sizeof *r);
  if (!r) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  int rc = vigil__sql_open(&r->db, location, err);
  if (!rc) rc = vigil__report_schema(r->db, err);
  if (rc) {
    vigil__sql_close(r->db);
    free(r);
    return rc;
  }
  pthread_mutex_init(&r->mu, NULL);
  *out = r;
  return VIGIL_OK;
}

void vigil_report_db_close(vigil_report_db *r) {
  if (!r) return;
  vigil__sql_close(r->db);
  pthread_mutex_destroy(&r->mu);
  free(r);
}

#define LOCKED(call)                                                                                             \
  do {                                                                                                           \
    pthread_mutex_lock(&r->mu);                                                                                  \
    int rc_ = (call);                                                                                            \
    pthread_mutex_unlock(&r->mu);                                                                                \
    return rc_;                                                                                                  \
  } while (0)

int vigil_hook_create(vigil_report_db *r, const char *url, unsigned events, char secret_out[VIGIL_HOOK_SECRET_MAX],
                      vigil_hook_info *info, vigil_error *err) {
  LOCKED(vigil__hook_create(r->db, url, events, secret_out, info, err));
}

int vigil_hook_list(vigil_report_db *r, vigil_hook_info **out, size_t *n, vigil_error *err) {
  LOCKED(vigil__hook_list(r->db, out, n, err));
}

int vigil_hook_delete(vigil_report_db *r, const char *id, vigil_error *err) { LOCKED(vigil__hook_delete(r->db, id, err)); }

int vigil_delivery_list(vigil_report_db *r, const char *state, int64_t after_id, int limit, vigil_delivery_info **out,
                        size_t *n, vigil_error *err) {
  LOCKED(vigil__delivery_list(r->db, state, after_id, limit, out, n, err));
}

int vigil_delivery_retry(vigil_report_db *r, int64_t id, vigil_error *err) {
  LOCKED(vigil__delivery_retry(r->db, id, err));
}
