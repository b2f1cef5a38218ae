/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hooks.c - webhook subscriptions, the events they receive, and signing.
 *
 * A subscription is a URL, a set of events and a secret.  The secret is
 * kept in the database in clear, since signing needs it (protect the
 * database as you protect the API keys' table; the secret is returned
 * once, at creation, and never listed).  An event becomes one outbox row
 * per subscription, written by vigil__hooks_emit inside the caller's
 * transaction.  A deleted subscription stays as a row with deleted_at set,
 * so its deliveries' history still names it.
 *
 * Signature: HMAC-SHA256 over "<unix seconds>.<body>", sent as
 * "Vigil-Signature: t=<seconds>,v1=<hex>".  The timestamp inside the MAC
 * is what lets a receiver refuse a replay: a captured call cannot be
 * re-sent with a fresh timestamp without the secret.
 */
#include "report/outbox.h"
#include "common/hex.h"
#include "common/rfc3339.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <string.h>
#include <strings.h>

static const char *const event_names[] = {"match", "case.opened", "case.decided", "bank.changed"};
#define NEVENTS 4

const char *vigil_event_name(unsigned event) {
  for (int i = 0; i < NEVENTS; i++)
    if (event == (1u << i)) return event_names[i];
  return NULL;
}

unsigned vigil_event_parse(const char *name) {
  for (int i = 0; name && i < NEVENTS; i++)
    if (!strcmp(name, event_names[i])) return 1u << i;
  return 0;
}

void vigil__events_format(unsigned events, char *buf, size_t cap) {
  size_t o = 0;
  buf[0] = 0;
  for (int i = 0; i < NEVENTS; i++)
    if (events & (1u << i)) {
      int k = snprintf(buf + o, cap - o, "%s%s", o ? "," : "", event_names[i]);
      if (k < 0 || (size_t)k >= cap - o) return;
      o += (size_t)k;
    }
}

unsigned vigil__events_parse_list(const char *list, vigil_error *err) {
  if (!list || !*list) {
    vigil__seterr(err, VIGIL_EINVAL, "events: expected one or more of match, case.opened, case.decided, bank.changed");
    return 0;
  }
  if (!strcmp(list, "*")) return VIGIL_EVENT_ALL;
  unsigned bits = 0;
  const char *p = list;
  while (*p) {
    size_t len = strcspn(p, ",");
    char name[32];
    if (len == 0 || len >= sizeof name) {
      vigil__seterr(err, VIGIL_EINVAL, "events: empty or overlong name in '%.64s'", list);
      return 0;
    }
    memcpy(name, p, len);
    name[len] = 0;
    unsigned b = vigil_event_parse(name);
    if (!b) {
      vigil__seterr(err, VIGIL_EINVAL,
                    "events: unknown event '%s' (expected match, case.opened, case.decided, bank.changed)", name);
      return 0;
    }
    bits |= b;
    p += len;
    if (*p == ',') p++;
  }
  return bits;
}

static int url_ok(const char *url) {
  size_t n = strlen(url);
  if (n > VIGIL_HOOK_URL_MAX) return 0;
  if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] >= 127) return 0;
  return strchr(url, ':')[3] != 0;
}

int vigil__hook_create(vigil__sql *db, const char *url, unsigned events, char secret_out[VIGIL_HOOK_SECRET_MAX],
                       vigil_hook_info *info, vigil_error *err) {
  secret_out[0] = 0;
  if (!url || !url_ok(url))
    return vigil__seterr(err, VIGIL_EINVAL, "url: expected an http:// or https:// URL of at most %d printable bytes",
                         VIGIL_HOOK_URL_MAX);
  if (!events || (events & ~VIGIL_EVENT_ALL)) return vigil__seterr(err, VIGIL_EINVAL, "events: none or unknown");
  uint8_t idb[6], sb[32];
  if (RAND_bytes(idb, sizeof idb) != 1 || RAND_bytes(sb, sizeof sb) != 1)
    return vigil__seterr(err, VIGIL_EINTERNAL, "no random bytes for a webhook secret");
  vigil_hook_info h;
  memset(&h, 0, sizeof h);
  memcpy(h.id, "wh_", 3);
  vigil__hex_encode(idb, sizeof idb, h.id + 3);
  char secret[VIGIL_HOOK_SECRET_MAX];
  memcpy(secret, "whsec_", 6);
  vigil__hex_encode(sb, sizeof sb, secret + 6);
  snprintf(h.url, sizeof h.url, "%s", url);
  h.events = events;
  h.created_at = vigil__report_now_ms() / 1000;
  char ev[96];
  vigil__events_format(events, ev, sizeof ev);
  const vigil__val p[] = {vigil__vtext(h.id), vigil__vtext(url), vigil__vtext(ev), vigil__vtext(secret),
                          vigil__vint(h.created_at)};
  int rc = vigil__sql_run(db, "INSERT INTO report_hooks(id, url, events, secret, created_at) VALUES($1,$2,$3,$4,$5)", p,
                          5, NULL, NULL, err);
  OPENSSL_cleanse(sb, sizeof sb);
  if (rc) {
    OPENSSL_cleanse(secret, sizeof secret);
    return vigil__prefixerr(err, rc, "create webhook");
  }
  memcpy(secret_out, secret, sizeof secret);
  OPENSSL_cleanse(secret, sizeof secret);
  if (info) *info = h;
  return VIGIL_OK;
}

int vigil__hook_list(vigil__sql *db, vigil_hook_info **out, size_t *n, vigil_error *err) {
  *out = NULL;
  *n = 0;
  vigil__rows *rows = NULL;
  int rc = vigil__sql_run(db, "SELECT id, url, events, created_at FROM report_hooks WHERE deleted_at = 0 ORDER BY created_at, id",
                          NULL, 0, &rows, NULL, err);
  if (rc) return vigil__prefixerr(err, rc, "list webhooks");
  size_t k = vigil__rows_count(rows);
  vigil_hook_info *h = k ? calloc(k, sizeof *h) : NULL;
  if (k && !h) {
    vigil__rows_free(rows);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < k; i++) {
    snprintf(h[i].id, sizeof h[i].id, "%s", vigil__rows_text(rows, i, 0));
    snprintf(h[i].url, sizeof h[i].url, "%s", vigil__rows_text(rows, i, 1));
    h[i].events = vigil__events_parse_list(vigil__rows_text(rows, i, 2), NULL);
    h[i].created_at = vigil__rows_int(rows, i, 3);
  }
  vigil__rows_free(rows);
  *out = h;
  *n = k;
  return VIGIL_OK;
}

int vigil__hook_delete(vigil__sql *db, const char *id, vigil_error *err) {
  int64_t now = vigil__report_now_ms(), changed = 0;
  const vigil__val p[] = {vigil__vtext(id), vigil__vint(now / 1000), vigil__vint(now)};
  int own = !vigil__sql_in_tx(db); /* joins the caller's transaction, if any */
  int rc = own ? vigil__sql_begin(db, err) : VIGIL_OK;
  if (!rc)
    rc = vigil__sql_run(db, "UPDATE report_hooks SET deleted_at = $2 WHERE id = $1 AND deleted_at = 0", p, 2, NULL,
                        &changed, err);
  if (!rc && !changed) rc = vigil__seterr(err, VIGIL_ENOTFOUND, "no webhook '%.40s'", id);
  /* what was still to be sent has nowhere to go: dead, visible, retryable
   * if the operator subscribes the URL again and retries by hand */
  if (!rc)
    rc = vigil__sql_run(db,
                        "UPDATE report_deliveries SET state = 'dead', updated_at = $3,"
                        " last_error = 'subscription deleted' WHERE kind = 'webhook' AND target = $1 AND state = 'pending'",
                        p, 3, NULL, NULL, err);
  if (own && !rc) rc = vigil__sql_commit(db, err);
  else if (own) vigil__sql_rollback(db);
  if (rc == VIGIL_ENOTFOUND) return rc;
  return rc ? vigil__prefixerr(err, rc, "delete webhook") : VIGIL_OK;
}

int vigil__hooks_wanted(vigil__sql *db, unsigned event, int *wanted, vigil_error *err) {
  *wanted = 0;
  vigil__rows *rows = NULL;
  int rc = vigil__sql_run(db, "SELECT events FROM report_hooks WHERE deleted_at = 0", NULL, 0, &rows, NULL, err);
  if (rc) return vigil__prefixerr(err, rc, "webhooks");
  for (size_t i = 0; i < vigil__rows_count(rows); i++)
    if (vigil__events_parse_list(vigil__rows_text(rows, i, 0), NULL) & event) *wanted = 1;
  vigil__rows_free(rows);
  return VIGIL_OK;
}

int vigil__hooks_emit(vigil__sql *db, unsigned event, json_t *data, vigil_error *err) {
  const char *name = vigil_event_name(event);
  if (!name) return vigil__seterr(err, VIGIL_EINTERNAL, "emit: unknown event %u", event);
  vigil__rows *rows = NULL;
  int rc = vigil__sql_run(db, "SELECT id, events FROM report_hooks WHERE deleted_at = 0 ORDER BY id", NULL, 0, &rows,
                          NULL, err);
  if (rc) return vigil__prefixerr(err, rc, "emit event");
  size_t k = vigil__rows_count(rows);
  char *body = NULL;
  char evt[40];
  for (size_t i = 0; !rc && i < k; i++) {
    if (!(vigil__events_parse_list(vigil__rows_text(rows, i, 1), NULL) & event)) continue;
    if (!body) { /* one event id and one body for every subscriber */
      uint8_t b[12];
      if (RAND_bytes(b, sizeof b) != 1) {
        rc = vigil__seterr(err, VIGIL_EINTERNAL, "no random bytes for an event id");
        break;
      }
      memcpy(evt, "evt_", 4);
      vigil__hex_encode(b, sizeof b, evt + 4);
      /* the body is fixed now and signed as sent, so its time is text
       * in the API's one format (RFC 3339 UTC, milliseconds) */
      char at[VIGIL__RFC3339_MAX];
      if (vigil__rfc3339_ms(vigil__report_now_ms(), at)) {
        rc = vigil__seterr(err, VIGIL_EINTERNAL, "emit event: the clock is out of range");
        break;
      }
      json_t *o = json_pack("{s:s, s:s, s:s, s:O}", "id", evt, "event", name, "created_at", at, "data", data);
      body = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
      json_decref(o);
      if (!body) {
        rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
        break;
      }
    }
    const char *hook = vigil__rows_text(rows, i, 0);
    char key[VIGIL_DELIVERY_KEY_MAX];
    snprintf(key, sizeof key, "%s.%s", evt, hook);
    int64_t id;
    rc = vigil__outbox_add(db, "webhook", hook, name, key, body, &id, err);
  }
  free(body);
  vigil__rows_free(rows);
  return rc;
}

/* ---- signatures ----------------------------------------------------------- */

static int mac(const char *secret, int64_t ts, const void *body, size_t len, uint8_t out[32]) {
  char prefix[32];
  int pn = snprintf(prefix, sizeof prefix, "%lld.", (long long)ts);
  /* EVP_MAC takes the two pieces without joining them in one buffer */
  EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0), OSSL_PARAM_construct_end()};
  size_t outl = 0;
  int ok = ctx && EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret), params) == 1 &&
           EVP_MAC_update(ctx, (const unsigned char *)prefix, (size_t)pn) == 1 &&
           EVP_MAC_update(ctx, body, len) == 1 && EVP_MAC_final(ctx, out, &outl, 32) == 1 && outl == 32;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(m);
  return ok;
}

int vigil_hook_sign(const char *secret, int64_t ts, const void *body, size_t len, char out[VIGIL_HOOK_SIG_MAX],
                    vigil_error *err) {
  uint8_t m[32];
  char h[65];
  out[0] = 0;
  if (!secret || !*secret) return vigil__seterr(err, VIGIL_EINVAL, "sign: empty secret");
  if (!mac(secret, ts, body, len, m)) return vigil__seterr(err, VIGIL_EINTERNAL, "sign: HMAC-SHA256 failed");
  vigil__hex_encode(m, 32, h);
  snprintf(out, VIGIL_HOOK_SIG_MAX, "t=%lld,v1=%s", (long long)ts, h);
  return VIGIL_OK;
}

int vigil_hook_verify(const char *secret, const char *header, const void *body, size_t len, int64_t now,
                      int tolerance_s, vigil_error *err) {
  if (!header) return vigil__seterr(err, VIGIL_EINVAL, "no signature header");
  long long ts = 0;
  char h[65];
  int used = 0;
  if (sscanf(header, "t=%lld,v1=%64[0-9a-f]%n", &ts, h, &used) != 2 || header[used] != 0 || strlen(h) != 64)
    return vigil__seterr(err, VIGIL_EINVAL, "malformed signature header (expected t=<seconds>,v1=<64 hex>)");
  if (ts < now - tolerance_s || ts > now + tolerance_s)
    return vigil__seterr(err, VIGIL_EINVAL, "signature timestamp %lld is more than %d s from now (replay?)", ts,
                         tolerance_s);
  uint8_t m[32];
  char want[65];
  if (!mac(secret, (int64_t)ts, body, len, m)) return vigil__seterr(err, VIGIL_EINTERNAL, "HMAC-SHA256 failed");
  vigil__hex_encode(m, 32, want);
  if (CRYPTO_memcmp(want, h, 64) != 0) return vigil__seterr(err, VIGIL_EINVAL, "signature does not match the body");
  return VIGIL_OK;
}
