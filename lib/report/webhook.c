/* SPDX-License-Identifier: Apache-2.0 */
/*
 * webhook.c - one webhook call over libcurl: load the subscription, sign
 * the stored body with a fresh timestamp, POST it, judge the answer.
 *
 * Each attempt is signed at send time, so a receiver that refuses old
 * timestamps still accepts a retry hours later.  The body itself never
 * changes between attempts, nor does the Vigil-Delivery header (the
 * idempotency key).  Any 2xx is success; anything else, a timeout or a
 * refused connection is a failure the outbox retries.  Redirects are not
 * followed: a subscription names where its data goes.
 */
#include "report/outbox.h"

#include <curl/curl.h>
#include <pthread.h>
#include <string.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ready;
static void curl_init(void) { curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }

void vigil__webhook_global_init(void) { pthread_once(&curl_once, curl_init); }

/* The receiver's answer is not used; read and drop it (bounded by curl's
 * timeout). */
static size_t discard(char *p, size_t size, size_t n, void *ud) {
  (void)p;
  (void)ud;
  return size * n;
}

int vigil__webhook_send(vigil__sql *db, const vigil__outbox_opts *o, const vigil__delivery *d, int *ok, int *status,
                        int *gone, vigil_error *err) {
  *ok = 0;
  *status = 0;
  *gone = 0;
  const vigil__val p[] = {vigil__vtext(d->target)};
  vigil__rows *rows = NULL;
  int rc = vigil__sql_run(db, "SELECT url, secret, deleted_at FROM report_hooks WHERE id = $1", p, 1, &rows, NULL, err);
  if (rc) return vigil__prefixerr(err, rc, "load webhook");
  if (vigil__rows_count(rows) != 1 || vigil__rows_int(rows, 0, 2) != 0) {
    vigil__rows_free(rows);
    *gone = 1;
    return vigil__seterr(err, VIGIL_ENOTFOUND, "subscription %s deleted", d->target);
  }
  char *url = strdup(vigil__rows_text(rows, 0, 0)), *secret = strdup(vigil__rows_text(rows, 0, 1));
  vigil__rows_free(rows);
  pthread_once(&curl_once, curl_init);
  CURL *c = NULL;
  struct curl_slist *h = NULL;
  char sig[VIGIL_HOOK_SIG_MAX], line[VIGIL_DELIVERY_KEY_MAX + VIGIL_HOOK_SIG_MAX + 64];
  if (!url || !secret) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  else if (!curl_ready || !(c = curl_easy_init())) rc = vigil__seterr(err, VIGIL_EINTERNAL, "libcurl did not start");
  size_t len = strlen(d->payload);
  if (!rc) rc = vigil_hook_sign(secret, vigil__report_now_ms() / 1000, d->payload, len, sig, err);
  struct curl_slist *t;
#define ADD(...)                                                                                                 \
  do {                                                                                                           \
    snprintf(line, sizeof line, __VA_ARGS__);                                                                    \
    if (!rc && !(t = curl_slist_append(h, line))) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");       \
    else if (!rc) h = t;                                                                                         \
  } while (0)
  ADD("Content-Type: application/json");
  ADD("User-Agent: vigil-webhook/1");
  ADD("Vigil-Event: %s", d->event);
  ADD("Vigil-Delivery: %s", d->key);
  ADD("Vigil-Attempt: %d", d->attempt);
  ADD("Vigil-Signature: %s", sig);
  ADD("Expect:"); /* no 100-continue round trip */
#undef ADD
  if (!rc) {
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->payload);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)o->timeout_s);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)(o->timeout_s < 10 ? o->timeout_s : 10));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    CURLcode cr = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    *status = (int)code;
    if (cr != CURLE_OK)
      rc = vigil__seterr(err, VIGIL_EIO, "POST failed: %s", ebuf[0] ? ebuf : curl_easy_strerror(cr));
    else if (code < 200 || code > 299)
      rc = vigil__seterr(err, VIGIL_EIO, "receiver answered HTTP %ld", code);
    else *ok = 1;
  }
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  free(url);
  if (secret) {
    memset(secret, 0, strlen(secret));
    free(secret);
  }
  return rc;
}
