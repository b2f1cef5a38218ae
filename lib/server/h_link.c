/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_link.c - POST /v1/ads/link: a batch of ads (JSON Lines, the input of
 * `vigil link`) in, the ranked groups with their evidence out, as the
 * `groups.json` that `vigil link` writes (docs/network.md).
 *
 * Query: min_size (default 2), phones=false to skip identifier links,
 * templates=false to skip text-template links.  Each call links its own
 * batch from scratch; incremental runs over days of ads are the CLI's
 * (`vigil link --add`).  The text capability's extractor is built per
 * call, so calls share nothing.
 */
#include "server/req.h"
#include "server/handlers.h"
#include "server/gate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/network.h"

/* The groups' JSON, written by the linker into memory: ad text never
 * touches the disk. */
static int json_of(vigil_linker *l, char **text, size_t *len, vigil_error *err) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  if (!f) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory for the groups");
  int rc = vigil_linker_fwrite_json(l, f, err);
  if (fclose(f) != 0 && !rc) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory for the groups");
  if (rc) {
    free(buf);
    return rc;
  }
  *text = buf;
  *len = n;
  return VIGIL_OK;
}

/* Work nobody will read stops: the client left, or the server is stopping
 * (SIGTERM must end the process within its grace time). */
static int link_cancelled(void *arg) {
  vigil__req *r = arg;
  return vigil__server_stopping(r->srv) || vigil__req_client_gone(r);
}

static int link_batch(vigil__req *r);

/* Linking is the longest handler: at most max_long run at once and the
 * rest are told to retry (503 + Retry-After) rather than queue, since
 * each may take seconds. */
int vigil__h_link(vigil__req *r) {
  vigil__gate *g = vigil__server_long_gate(r->srv);
  if (!vigil__gate_enter(g)) {
    r->retry_after = VIGIL__RETRY_AFTER_S;
    return vigil__reply_error(r, 503, "overloaded", "too many link requests at once; retry later");
  }
  int rc = link_batch(r);
  vigil__gate_leave(g);
  return rc;
}

static int link_batch(vigil__req *r) {
  vigil_link_opts o;
  vigil_link_opts_init(&o);
  int64_t min_size;
  if (!vigil__query_int(r, "min_size", 2, 1000000, 2, &min_size) || !vigil__query_bool(r, "phones", &o.use_identifiers) ||
      !vigil__query_bool(r, "templates", &o.use_templates))
    return VIGIL_OK;
  o.min_size = (int)min_size;
  o.threads = 1; /* the server's own threads are the parallelism */
  o.cancelled = link_cancelled;
  o.cancel_arg = r;
  if (r->body_len == 0) return vigil__reply_error(r, 400, "empty_body", "send the ads as JSON Lines in the body");
  vigil_linker *l = NULL;
  int rc = vigil_linker_new(&l, &o, &r->err);
  if (rc) return rc;
  size_t bad = 0;
  vigil_error first;
  vigil_error_clear(&first);
  rc = vigil_linker_add_jsonl(l, (const char *)r->body, r->body_len, &bad, &first);
  if (!rc && vigil_linker_ad_count(l) == 0) {
    vigil_linker_free(l);
    return vigil__reply_error(r, 400, "no_ads", "no valid ad in the body%s%s", first.message[0] ? ": " : "",
                              first.message);
  }
  char *text = NULL;
  size_t len = 0;
  if (!rc) rc = vigil_linker_group(l, &r->err);
  if (!rc) rc = json_of(l, &text, &len, &r->err);
  size_t linked = vigil_linker_ad_count(l);
  vigil_linker_free(l);
  if (rc == VIGIL_EINVAL) return vigil__reply_error(r, 400, "invalid", "%s", r->err.message);
  if (rc == VIGIL_EIO && (!strcmp(r->err.message, "cancelled") || !strcmp(first.message, "cancelled"))) {
    r->retry_after = VIGIL__RETRY_AFTER_S; /* a client that left reads nothing; one told of a stop retries */
    /* the log says which, so an operator sees work that was dropped */
    snprintf(r->logmsg, sizeof r->logmsg, "link stopped after %zu ads: %s", linked,
             vigil__server_stopping(r->srv) ? "the server is stopping" : "the client left");
    return vigil__reply_error(r, 503, "unavailable",
                              "the link request was stopped: the client left or the server is stopping");
  }
  if (rc) return rc;
  return vigil__reply_text(r, 200, "application/json", text, len);
}
