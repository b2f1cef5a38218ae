/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy_store.c - the running policy of a service, swapped atomically.
 *
 * Invariant: `cur` always points to a fully compiled, valid policy.  A
 * reload builds the new policy completely (parse, validate, compile) before
 * it takes the lock; only then does it swap the pointer.  A failed reload
 * therefore leaves `cur` untouched.  Readers hold a reference (refs) while
 * they decide, so the old policy is freed only when its last reader lets go.
 */
#include "common/internal.h"
#include "policy/policy_internal.h"

#include <pthread.h>
#include <stdlib.h>

struct vigil_policy_store {
  pthread_mutex_t mu;
  vigil_policy *cur; /* holds one reference */
};

int vigil_policy_store_new(vigil_policy_store **out, vigil_error *err) {
  if (!out) return vigil__seterr(err, VIGIL_EINVAL, "policy store: NULL output");
  vigil_policy_store *s = calloc(1, sizeof *s);
  if (!s) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  int rc = vigil_policy_load_default(&s->cur, err);
  if (rc) {
    free(s);
    return rc;
  }
  if (pthread_mutex_init(&s->mu, NULL)) {
    vigil_policy_free(s->cur);
    free(s);
    return vigil__seterr(err, VIGIL_EINTERNAL, "policy store: cannot create a mutex");
  }
  *out = s;
  return VIGIL_OK;
}

static void swap_in(vigil_policy_store *s, vigil_policy *np) {
  pthread_mutex_lock(&s->mu);
  vigil_policy *old = s->cur;
  s->cur = np;
  pthread_mutex_unlock(&s->mu);
  vigil_policy_store_release(s, old);
}

int vigil_policy_store_reload_file(vigil_policy_store *s, const char *path, vigil_error *err) {
  if (!s) return vigil__seterr(err, VIGIL_EINVAL, "policy store: NULL store");
  vigil_policy *np = NULL;
  int rc = vigil_policy_load_file(path, &np, err);
  if (rc) return rc; /* the running policy stays */
  swap_in(s, np);
  return VIGIL_OK;
}

int vigil_policy_store_reload_text(vigil_policy_store *s, const char *text, size_t len, const char *name,
                                   vigil_error *err) {
  if (!s) return vigil__seterr(err, VIGIL_EINVAL, "policy store: NULL store");
  vigil_policy *np = NULL;
  int rc = vigil_policy_load(text, len, name, &np, err);
  if (rc) return rc;
  swap_in(s, np);
  return VIGIL_OK;
}

const vigil_policy *vigil_policy_store_acquire(vigil_policy_store *s) {
  if (!s) return NULL;
  pthread_mutex_lock(&s->mu);
  vigil_policy *p = s->cur;
  atomic_fetch_add(&p->refs, 1);
  pthread_mutex_unlock(&s->mu);
  return p;
}

void vigil_policy_store_release(vigil_policy_store *s, const vigil_policy *p) {
  (void)s;
  if (!p) return;
  vigil_policy *mp = (vigil_policy *)p; /* refs is the only mutable field */
  if (atomic_fetch_sub(&mp->refs, 1) == 1) vigil_policy_free(mp);
}

void vigil_policy_store_free(vigil_policy_store *s) {
  if (!s) return;
  vigil_policy_store_release(s, s->cur);
  pthread_mutex_destroy(&s->mu);
  free(s);
}
