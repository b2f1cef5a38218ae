/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server.c - the HTTP core of `vigil serve`: libmicrohttpd glue, routing,
 * authentication, body limits, dispatch, request log, graceful stop.
 *
 * libmicrohttpd owns the sockets and the worker threads (a thread pool on
 * epoll where the platform has it); each pool thread serves many
 * connections, so a handler that runs long would hold up every other
 * connection on its thread.  Those that can (uploads to hash, bank calls,
 * which may wait for an import: is_slow()) run on a thread of their own, with the
 * connection suspended meanwhile, and the pool thread goes on serving the
 * others.  For each request it calls on_request()
 * several times: once when the headers are in, once per piece of body,
 * and once more when the body is complete.  The first call decides
 * everything that does not need the body (route, key, role, declared
 * size), and answers at once when the request is refused, so an
 * unauthenticated or oversized upload is never read.  Body pieces are
 * kept only up to the route's limit; a chunked body that goes over is
 * dropped as it streams and answered 413 at its end (or the connection
 * is closed if the client keeps sending far beyond the limit).  The last
 * call runs the handler; respond() writes the audit row (for
 * state-changing routes) before the answer leaves, so an acknowledged
 * change is always audited.  on_completed() records metrics and the log line.
 *
 * Invariants: exactly one response is queued per request (r->replied);
 * every request that reached on_request() is counted in srv->inflight
 * until on_completed(), which is what a graceful stop waits for.
 */
#include "server/store.h"
#include "report/outbox.h"
#include "server/cases.h"
#include "server/req.h"
#include "server/metrics.h"
#include "server/banks.h"
#include "server/signals.h"
#include "server/gate.h"
#include "common/crypto.h"
#include "common/grow.h"
#include "server/handlers.h"
#include "server/accounts.h"
#include "server/jobs.h"
#include "server/hdrwatch.h"
#include "vigil/video.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct vigil_server {
  struct MHD_Daemon *d;
  int fd;
  int port;
  vigil_server_config cfg;
  vigil_server_store *st;
  vigil__banks banks;
  int banks_open;
  vigil__signals *signals;
  vigil__metrics *m;
  atomic_int_fast64_t inflight;
  atomic_uint_fast64_t next_id; /* request ids, unique within a run */
  atomic_int offloaded;         /* handlers running on threads of their own (offload()) */
  atomic_uint_fast64_t slow_bodies; /* connections closed for a body under --body-min-rate */
  int64_t started_s;
  char *tls_cert, *tls_key;
  vigil__gate decode_gate, long_gate, video_gate;
  vigil__jobs *jobs;    /* the asynchronous job runner (jobs.c) */
  size_t decode_budget; /* decode_memory / max_decodes */
  vigil__outbox_worker *outbox; /* the delivery worker (lib/report) */
  atomic_int stopping;  /* vigil_server_stop has begun */
  int db_file;          /* SQLite: the file's identity at start, checked by vigil__server_store_ok */
  dev_t db_dev;
  ino_t db_ino;
  vigil__hdrwatch *hw;  /* the header deadline (--header-timeout); NULL: off */
};

void vigil_server_config_default(vigil_server_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->listen = "127.0.0.1:8080";
  cfg->db_path = "vigil.db";
  cfg->max_body = 50ull * 1000 * 1000;
  cfg->max_json = 1u << 20;
  cfg->max_json_depth = 32;
  cfg->max_connections = 1024;
  cfg->timeout_s = 30;
  /* libmicrohttpd's per-connection pool: headers, read and write buffers.
   * With 0.9.75 a 32 KiB pool sometimes left a connection stalled after a
   * large body (found by fuzz/fuzz_server.c); 128 KiB has not. */
  cfg->header_limit = 128 * 1024;
  cfg->shutdown_grace_s = 30;
  cfg->decode_queue = 64;
  cfg->decode_memory = 2ull << 30;
  cfg->max_long = 2;
  cfg->max_per_ip = 64;
  cfg->max_video = 2000ull * 1000 * 1000;
  cfg->video_workers = 1;
  cfg->video_queue = 4;
  cfg->job_queue = 32;
  cfg->job_keep_s = 86400;
  cfg->header_timeout_s = 15;
  cfg->body_min_rate = 1024;
}

vigil__gate *vigil__server_decode_gate(vigil_server *srv) { return &srv->decode_gate; }
int vigil__server_stopping(vigil_server *srv) { return atomic_load(&srv->stopping); }

/* The body has been read whole, so a readable socket with nothing to read
 * (recv 0) is a client that closed; data is a pipelined request. */
int vigil__req_client_gone(vigil__req *r) {
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (!ci) return 0;
  char c;
  ssize_t n = recv(ci->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}
vigil__gate *vigil__server_long_gate(vigil_server *srv) { return &srv->long_gate; }
vigil__gate *vigil__server_video_gate(vigil_server *srv) { return &srv->video_gate; }
vigil__jobs *vigil__server_jobs(vigil_server *srv) { return srv->jobs; }
const vigil_server_config *vigil__server_config(vigil_server *srv) { return &srv->cfg; }
size_t vigil__server_decode_budget(vigil_server *srv) { return srv->decode_budget; }

vigil__metrics *vigil__server_metrics(vigil_server *srv) { return srv->m; }
int64_t vigil__server_inflight(vigil_server *srv) { return (int64_t)atomic_load(&srv->inflight); }
int64_t vigil__server_started_s(vigil_server *srv) { return srv->started_s; }
uint64_t vigil__server_header_timeouts(vigil_server *srv) { return srv->hw ? vigil__hdrwatch_cut(srv->hw) : 0; }
uint64_t vigil__server_slow_bodies(vigil_server *srv) { return atomic_load(&srv->slow_bodies); }

/* The SQLite file of a location ("sqlite:PATH" or PATH); NULL for PostgreSQL. */
static const char *sqlite_file(const char *loc) {
  if (!strncmp(loc, "postgres://", 11) || !strncmp(loc, "postgresql://", 13)) return NULL;
  return !strncmp(loc, "sqlite:", 7) ? loc + 7 : loc;
}

/* A SQLite file deleted or replaced under a running server still takes
 * writes (into the unlinked inode, WAL and all) and answers 201, and all of
 * it is gone at the next start; one made read-only fails only some writes.
 * So the file's identity is recorded at start and checked before every
 * state change and by /healthz. */
int vigil__server_store_ok(vigil_server *srv, char *why, size_t cap) {
  if (!srv->db_file) return 1;
  const char *path = sqlite_file(srv->cfg.db_path);
  struct stat st;
  if (stat(path, &st) != 0) {
    snprintf(why, cap, "the database file %s is gone (%s); writes would be lost", path, strerror(errno));
    return 0;
  }
  if (st.st_dev != srv->db_dev || st.st_ino != srv->db_ino) {
    snprintf(why, cap, "the database file %s was replaced since the server started; restart it", path);
    return 0;
  }
  if (access(path, W_OK) != 0) {
    snprintf(why, cap, "the database file %s is not writable (%s)", path, strerror(errno));
    return 0;
  }
  return 1;
}
vigil_server_store *vigil_server_get_store(vigil_server *srv) { return srv->st; }
vigil__banks *vigil__server_banks(vigil_server *srv) { return &srv->banks; }
vigil__signals *vigil__server_signals(vigil_server *srv) { return srv->signals; }
const char *vigil__server_evidence_dir(vigil_server *srv) { return srv->cfg.evidence_dir; }
const char *vigil__server_report_config(vigil_server *srv) { return srv->cfg.report_config; }
void vigil__server_session_limits(vigil_server *srv, int64_t *idle_s, int64_t *max_s) {
  *idle_s = srv->cfg.session_idle_s ? srv->cfg.session_idle_s : VIGIL__SESSION_IDLE_S;
  *max_s = srv->cfg.session_max_s ? srv->cfg.session_max_s : VIGIL__SESSION_MAX_S;
}
int vigil__server_tls(vigil_server *srv) { return srv->cfg.tls_cert != NULL; }
void vigil__server_sso(vigil_server *srv, const char **header, const char **proxies) {
  *header = srv->cfg.sso_header;
  *proxies = srv->cfg.sso_proxies;
}
int vigil_server_port(const vigil_server *srv) { return srv->port; }

int vigil_server_gauge_set(vigil_server *srv, const char *name, const char *help, double value, vigil_error *err) {
  return vigil__metrics_gauge_set(srv->m, name, help, value, err);
}

/* ---- the answer ------------------------------------------------------------ */

static void log_request(vigil__req *r, int aborted) {
  FILE *log = r->srv->cfg.log;
  if (!log) return;
  char when[40], path[257];
  vigil__iso_time(vigil__now_us(), when, sizeof when);
  /* the path as sent, made printable ASCII so the log line stays valid JSON */
  size_t k = 0;
  for (const char *p = r->path ? r->path : ""; *p && k + 1 < sizeof path; p++)
    path[k++] = (*p >= 32 && *p < 127) ? *p : '?';
  path[k] = 0;
  json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:f, s:s?, s:I, s:I, s:s, s:s}", "time", when, "method", r->method,
                        "path", path, "status", r->status, "latency_ms",
                        (double)(vigil__now_us() - r->start_us) / 1000.0, "key_id", r->authed ? r->key.id : NULL,
                        "bytes_in", (json_int_t)r->bytes_in, "bytes_out",
                        (json_int_t)(r->resp_file_len ? r->resp_file_len : r->resp_len), "ip", r->ip,
                        "route", r->route ? r->route->name : "unmatched");
  if (!o) return;
  char rid[40];
  snprintf(rid, sizeof rid, "%llx-%llu", (unsigned long long)r->srv->started_s, (unsigned long long)r->id);
  json_object_set_new(o, "request_id", json_string(rid));
  if (r->errcode[0]) json_object_set_new(o, "error", json_string(r->errcode));
  if (r->logmsg[0]) json_object_set_new(o, "detail", json_string(r->logmsg));
  if (aborted) json_object_set_new(o, "aborted", json_true());
  char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
  json_decref(o);
  if (!s) return;
  flockfile(log);
  fputs(s, log);
  fputc('\n', log);
  fflush(log);
  funlockfile(log);
  free(s);
}

/* Audited: calls to state-changing routes that changed something (2xx),
 * and every call refused for the caller's role (403) or made with a key
 * that exists but was revoked or presented with the wrong secret (401,
 * naming that key).  Calls that failed validation change nothing and are
 * left to the request log, and so are keys naming no stored id, so a client
 * sending junk cannot make every request cost a durable write. */
static int wants_audit(const vigil__req *r) {
  if (!r->route || r->audited) return 0;
  if (r->status == 403 && r->authed) return 1;
  if (r->status == 401 && r->key.id[0]) return 1;
  if (r->user[0] && !r->authed && r->status >= 400) return 1; /* a refused sign-in (h_session.c) */
  return r->authed && (r->route->audit || r->force_audit) && r->status < 300;
}

void vigil__req_audit_rec(vigil__req *r, int status, vigil__audit_rec *a, char **detail) {
  *detail = r->audit_detail ? json_dumps(r->audit_detail, JSON_COMPACT) : NULL;
  vigil__audit_rec x = {vigil__req_who(r), r->ip, r->method, r->path, r->route ? r->route->name : "",
                        r->nparams ? r->pvals[0] : NULL, status, *detail, 0};
  *a = x;
}

int vigil__req_audit_first(vigil__req *r, int status) {
  vigil__audit_rec a;
  char *detail;
  vigil__req_audit_rec(r, status, &a, &detail);
  vigil_error e;
  int rc = vigil__audit_append(r->srv->st, &a, &e);
  free(detail);
  if (rc) {
    snprintf(r->logmsg, sizeof r->logmsg, "audit write failed: %s", e.message);
    vigil__reply_error(r, 503, "audit_unavailable", "the audit log cannot be written; nothing was done");
    return 0;
  }
  r->audited = 1;
  return 1;
}

/* Writes r's audit row.  When that fails for a call that succeeded, the
 * answer becomes 503 audit_unavailable: what a client reads as done must be
 * on record.  (Changes whose row can share their transaction write it there
 * and never reach this point undone; see vigil__req_audit_rec.) */
static void audit(vigil__req *r) {
  if (!wants_audit(r)) return;
  vigil__audit_rec a;
  char *detail;
  vigil__req_audit_rec(r, r->status, &a, &detail);
  vigil_error e;
  if (vigil__audit_append(r->srv->st, &a, &e) != VIGIL_OK) {
    snprintf(r->logmsg, sizeof r->logmsg, "audit write failed: %s", e.message);
    if (r->status < 300) {
      vigil__reply_drop(r);
      vigil__reply_error(r, 503, "audit_unavailable", "the audit log cannot be written");
    }
  }
  free(detail);
}

void vigil__server_after_detached(vigil__req *r) { audit(r); }

/* Queues r's reply; called exactly once per request. */
static enum MHD_Result respond(vigil__req *r) {
  if (!r->replied) vigil__reply_error(r, 500, "internal", "the request could not be answered");
  audit(r);
  struct MHD_Response *resp;
  if (r->resp_file) {
    /* sent from the file as the client reads (sendfile where it can) */
    if (r->resp_file_len > (uint64_t)INT64_MAX ||
        !(resp = MHD_create_response_from_fd64(r->resp_file_len, r->resp_fd)))
      return MHD_NO; /* the file is closed when the request ends */
    r->resp_file = 0; /* the response closes it now */
  } else {
    resp = MHD_create_response_from_buffer(r->resp_len, r->resp ? r->resp : (char *)"",
                                           r->resp ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    r->resp = NULL; /* owned by the response now */
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type ? r->content_type : "application/json");
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  char rid[40];
  snprintf(rid, sizeof rid, "%llx-%llu", (unsigned long long)r->srv->started_s, (unsigned long long)r->id);
  MHD_add_response_header(resp, "X-Request-Id", rid);
  /* answers name hashes, cases and sometimes media: nothing on the way keeps a copy */
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  /* the review console (/ui/) is served from here too: no inline script,
   * nothing from elsewhere, never framed, no Referer leaving with a case URL */
  MHD_add_response_header(resp, "Content-Security-Policy",
                          "default-src 'self'; img-src 'self' blob:; media-src 'self' blob:; object-src 'none';"
                          " base-uri 'none';"
                          " form-action 'self'; frame-ancestors 'none'");
  MHD_add_response_header(resp, "X-Frame-Options", "DENY");
  MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
  if (r->set_cookie[0]) MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
  if (r->status == 401) MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"vigil\"");
  if (r->retry_after > 0) {
    char ra[16];
    snprintf(ra, sizeof ra, "%d", r->retry_after);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
  }
  if (r->status == 405) {
    char allow[64] = "";
    for (size_t i = 0; i < vigil__nroutes; i++) {
      char v[VIGIL__MAX_PARAMS][129];
      const char *n[VIGIL__MAX_PARAMS];
      size_t nl[VIGIL__MAX_PARAMS];
      int np;
      if (vigil__route_match(vigil__routes[i].pattern, r->path, v, n, nl, &np) &&
          strlen(allow) + strlen(vigil__routes[i].method) + 3 < sizeof allow) {
        if (allow[0]) strcat(allow, ", ");
        strcat(allow, vigil__routes[i].method);
      }
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
  }
  vigil__metrics_observe(r->srv->m, r->route_index, r->status, vigil__now_us() - r->start_us);
  enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)r->status, resp);
  MHD_destroy_response(resp);
  return ok;
}

/* ---- the first call: route, key, role, declared size ---------------------- */

static const char *header(struct MHD_Connection *c, const char *name) {
  return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* The key from "Authorization: Bearer K" or "X-API-Key: K"; NULL if none.
 * The header's length is the one received: a key followed by a NUL and
 * more bytes is not the key (*len then covers the NUL and fails to verify). */
static const char *presented_key(struct MHD_Connection *c, size_t *len) {
  const char *a = NULL;
  size_t n = 0;
  if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION,
                                    strlen(MHD_HTTP_HEADER_AUTHORIZATION), &a, &n) == MHD_YES && a) {
    if (n < 7 || strncasecmp(a, "Bearer ", 7) != 0) return NULL;
    a += 7;
    n -= 7;
    while (n && *a == ' ') a++, n--;
  } else if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, "X-API-Key", 9, &a, &n) != MHD_YES) {
    a = NULL;
  }
  if (!a) return NULL;
  while (n && (a[n - 1] == ' ' || a[n - 1] == '\t')) n--;
  *len = n;
  return a;
}

static uint64_t route_limit(const vigil__req *r) {
  if (r->spool.fd >= 0) return r->srv->cfg.max_video;
  return r->is_json ? r->srv->cfg.max_json : r->srv->cfg.max_body;
}

/* Routes whose upload may be a video, spooled to a file (spool.h). */
static int takes_video(const vigil__route *rt) {
  static const char *const names[] = {"hash", "match", "hma.lookup_file", "jobs.create"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcmp(rt->name, names[i])) return 1;
  return 0;
}

static int media_is(const char *ct, const char *type) {
  size_t n = strlen(type);
  return ct && strncasecmp(ct, type, n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

static enum MHD_Result multipart_part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                      const char *content_type, const char *transfer_encoding, const char *data,
                                      uint64_t off, size_t size);

typedef struct query_check {
  const vigil__route *rt;
  char bad[64];
  int why; /* 1 unknown name, 2 bad value */
} query_check;

static enum MHD_Result check_query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind;
  query_check *q = cls;
  if (!key || !vigil__text_ok(key, 0) || !vigil__route_query_allowed(q->rt, key)) q->why = 1;
  else if (value && !vigil__text_ok(value, 0)) q->why = 2;
  else return MHD_YES;
  size_t k = 0;
  for (const char *p = key ? key : ""; *p && k + 1 < sizeof q->bad; p++) q->bad[k++] = (*p >= 32 && *p < 127) ? *p : '?';
  q->bad[k] = 0;
  return MHD_NO;
}

/* 1 when r is an HMA lookup from an address the operator listed in
 * hma_anonymous.  Only the lookups: hashing, and every other route, still
 * need a key. */
static int hma_anonymous_ok(const vigil__req *r) {
  const char *list = r->srv->cfg.hma_anonymous;
  if (!list || strncmp(r->route->name, "hma.", 4) != 0 || !strstr(r->route->name, "lookup")) return 0;
  size_t ipl = strlen(r->ip);
  for (const char *p = list; *p;) {
    while (*p == ',' || *p == ' ') p++;
    size_t n = strcspn(p, ", ");
    if (n && n == ipl && !memcmp(p, r->ip, n)) return 1;
    p += n;
  }
  return 0;
}

/* Counts the Content-Length headers (MHD_get_connection_values returns
 * how many the iterator accepted). */
static enum MHD_Result count_content_length(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind;
  (void)value;
  if (key && strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) ++*(int *)cls;
  return MHD_YES;
}

/* 1: carry on reading the body; 0: r has been answered (refused). */
static int begin(vigil__req *r) {
  vigil_server *srv = r->srv;
  int path_known = 0;
  /* A decoded NUL ends the path early ("/v1/cases/1%00/../x" would be
   * routed as its first part) and a control byte has no business in a
   * route: refuse the request rather than guess which part was meant. */
  int bad_path = r->nul_in_target;
  for (const char *p = r->path; *p; p++) bad_path |= (unsigned char)*p < 32 || *p == 127;
  if (bad_path) {
    vigil__reply_error(r, 400, "bad_request", "the request target holds a NUL or control character");
    return 0;
  }
  for (size_t i = 0; i < vigil__nroutes && !r->route; i++) {
    if (!vigil__route_match(vigil__routes[i].pattern, r->path, r->pvals, r->pnames, r->pname_lens, &r->nparams))
      continue;
    path_known = 1;
    if (!strcmp(vigil__routes[i].method, r->method)) {
      r->route = &vigil__routes[i];
      r->route_index = (int)i;
    }
  }
  if (!r->route) {
    r->nparams = 0;
    if (path_known) vigil__reply_error(r, 405, "method_not_allowed", "%s is not allowed on this path", r->method);
    else vigil__reply_error(r, 404, "not_found", "no such endpoint");
    return 0;
  }
  if (r->route->roles) {
    size_t klen = 0;
    const char *key = presented_key(r->conn, &klen);
    if ((!key || klen == 0) && hma_anonymous_ok(r)) {
      /* HMA compatibility, off by default: a listed address may look up
       * without a key, as the submitter it stands in for; its calls are
       * audited under "anonymous" with the address beside it */
      r->authed = 1;
      memset(&r->key, 0, sizeof r->key);
      snprintf(r->key.id, sizeof r->key.id, "anonymous");
      snprintf(r->key.name, sizeof r->key.name, "HMA client %s", r->ip);
      r->key.role = VIGIL_ROLE_SUBMITTER;
    } else if (!key || klen == 0) {
      /* no key: a person's console session, if any (sessions.c) */
      int s = vigil__session_begin(r);
      if (s < 0) return 0;
      if (s == 0) {
        vigil__reply_error(r, 401, "unauthenticated",
                           "an API key is required (Authorization: Bearer <key> or X-API-Key: <key>)");
        return 0;
      }
    }
  }
  if (r->route->roles && !r->authed) {
    size_t klen = 0;
    const char *key = presented_key(r->conn, &klen);
    vigil_error e;
    vigil_key_info seen;
    int rc = vigil__key_verify_seen(srv->st, key, klen, &r->key, &seen, &e);
    if (rc == VIGIL_ENOTFOUND) {
      /* a stored key refused (revoked, or a wrong secret for its id) is
       * audited under its id: someone holds, or guesses at, that key */
      if (seen.id[0]) {
        r->key = seen;
        r->audit_detail = json_pack("{s:s}", "refused", seen.revoked_at ? "revoked key" : "wrong secret");
      }
      vigil__reply_error(r, 401, "invalid_key", "the API key is unknown or revoked");
      return 0;
    }
    if (rc) {
      r->err = e;
      vigil__reply_from_err(r, rc);
      return 0;
    }
    r->authed = 1;
  }
  if (r->route->roles) {
    if (!(r->key.role & (r->route->roles | VIGIL_ROLE_ADMIN))) {
      vigil__reply_error(r, 403, "forbidden", "role %s may not call %s %s", vigil_role_name(r->key.role),
                         r->route->method, r->route->pattern);
      return 0;
    }
  }
  query_check q = {r->route, "", 0};
  MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_query_arg, &q);
  if (q.why == 1) {
    vigil__reply_error(r, 400, "unknown_field", "unknown query parameter '%s' for %s %s", q.bad, r->route->method,
                       r->route->pattern);
    return 0;
  }
  if (q.why == 2) {
    vigil__reply_error(r, 400, "invalid", "query parameter '%s': not valid UTF-8 text (or holds control characters)",
                       q.bad);
    return 0;
  }
  const char *cl = header(r->conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
  int ncl = 0;
  MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_content_length, &ncl);
  if (ncl > 1) {
    /* which one frames the body is what request smuggling plays on */
    vigil__reply_error(r, 400, "bad_request", "more than one Content-Length header");
    return 0;
  }
  uint64_t declared = cl ? strtoull(cl, NULL, 10) : 0;
  const char *ct = header(r->conn, MHD_HTTP_HEADER_CONTENT_TYPE);
  r->is_json = r->route->body == VIGIL__BODY_JSON ||
               (r->route->body == VIGIL__BODY_EITHER && media_is(ct, "application/json"));
  uint64_t limit = route_limit(r);
  if (!r->is_json && takes_video(r->route)) {
    /* which limit applies is known once the first bytes are in (keep()) */
    r->video_ok = 1;
    r->ct_video = ct && !strncasecmp(ct, "video/", 6);
    if (r->srv->cfg.max_video > limit) limit = r->srv->cfg.max_video;
  }
  if (declared > limit) {
    vigil__reply_error(r, 413, "body_too_large", "request body of %llu bytes is over the limit of %llu bytes",
                       (unsigned long long)declared, (unsigned long long)limit);
    return 0;
  }
  if (r->route->body == VIGIL__BODY_JSON && ct && !media_is(ct, "application/json")) {
    vigil__reply_error(r, 415, "unsupported_media_type", "this endpoint takes application/json");
    return 0;
  }
  if (r->route->body == VIGIL__BODY_UPLOAD || r->route->body == VIGIL__BODY_FILE ||
      (r->route->body == VIGIL__BODY_EITHER && !r->is_json)) {
    if (media_is(ct, "multipart/form-data")) {
      r->multipart = 1;
      if (!(r->pp = MHD_create_post_processor(r->conn, 64 * 1024, multipart_part, r))) {
        vigil__reply_error(r, 400, "bad_multipart", "multipart/form-data without a usable boundary");
        return 0;
      }
    } else if (r->route->body != VIGIL__BODY_FILE &&
               (media_is(ct, "application/json") || (ct && strncasecmp(ct, "text/", 5) == 0))) {
      /* (x-www-form-urlencoded is taken as raw bytes: it is what curl
       * --data-binary labels a file with) */
      vigil__reply_error(r, 415, "unsupported_media_type",
                         "send the image bytes as the body (application/octet-stream or image/*) or as "
                         "multipart/form-data");
      return 0;
    }
  }
  if (declared && r->route->body != VIGIL__BODY_NONE && !r->multipart) {
    /* Trust the declared length only so far: a client that announces a
     * large body and sends none must not pin that much memory. */
    if (declared > (1u << 20)) declared = 1u << 20;
    if (!(r->body = malloc((size_t)declared))) {
      vigil__reply_error(r, 503, "overloaded", "out of memory for the request body");
      return 0;
    }
    r->body_cap = (size_t)declared;
  }
  return 1;
}

/* ---- the body ------------------------------------------------------------- */

static void spool_failed(vigil__req *r, const char *why) {
  r->spool_err = 1;
  r->too_large = 1; /* nothing more is kept */
  snprintf(r->logmsg, sizeof r->logmsg, "%s", why);
  free(r->body);
  r->body = NULL;
  r->body_len = r->body_cap = 0;
}

/* The body is a video: what came so far and everything after goes to a
 * private file, so a 2 GB upload never sits in memory. */
static void start_spool(vigil__req *r) {
  vigil_error e;
  if (vigil__spool_open(&r->spool, r->srv->cfg.spool_dir, &e) ||
      (r->body_len && vigil__spool_write(&r->spool, r->body, r->body_len, &e))) {
    vigil__spool_close(&r->spool);
    spool_failed(r, e.message);
    return;
  }
  free(r->body);
  r->body = NULL;
  r->body_len = r->body_cap = 0;
}

/* Bytes of a body enough to tell a video container (vigil_video_sniff
 * recognises MPEG-TS from 377). */
#define SNIFF_BYTES 512

static void keep(vigil__req *r, const char *data, size_t n) {
  if (r->too_large || n == 0) return;
  if (r->video_ok && !r->sniffed && r->ct_video) {
    r->sniffed = 1;
    start_spool(r);
    if (r->too_large) return;
  }
  if (r->spool.fd >= 0) {
    if (r->spool.len + n > r->srv->cfg.max_video) {
      r->too_large = 1; /* the file stays open until the end, so the limit named is the video one */
      return;
    }
    vigil_error e;
    if (vigil__spool_write(&r->spool, data, n, &e)) spool_failed(r, e.message);
    return;
  }
  uint64_t limit = route_limit(r);
  if ((uint64_t)r->body_len + n > limit) {
    r->too_large = 1;
    free(r->body);
    r->body = NULL;
    r->body_len = r->body_cap = 0;
    return;
  }
  if (r->body_len + n > r->body_cap) {
    size_t nc = vigil__grow_cap(r->body_cap, r->body_len + n, 1, 16384);
    if ((uint64_t)nc > limit) nc = (size_t)limit;
    uint8_t *nb = nc ? realloc(r->body, nc) : NULL;
    if (!nb) {
      r->too_large = 1; /* answered 503 below: no memory for it */
      snprintf(r->logmsg, sizeof r->logmsg, "out of memory for the request body");
      free(r->body);
      r->body = NULL;
      r->body_len = r->body_cap = 0;
      return;
    }
    r->body = nb;
    r->body_cap = nc;
  }
  memcpy(r->body + r->body_len, data, n);
  r->body_len += n;
  if (r->video_ok && !r->sniffed && r->body_len >= SNIFF_BYTES) {
    r->sniffed = 1;
    if (vigil_video_sniff(r->body, r->body_len)) start_spool(r);
  }
}

/* Keeps the first file part (or the part named image/file) of a multipart body. */
static enum MHD_Result multipart_part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                      const char *content_type, const char *transfer_encoding, const char *data,
                                      uint64_t off, size_t size) {
  (void)kind;
  (void)content_type;
  (void)transfer_encoding;
  vigil__req *r = cls;
  if (r->part_done || !key) return MHD_YES;
  /* part_name is "=" and the field name, so that an empty name is still a
   * part being kept: comparing the next chunk's name with a stand-in once
   * ended the part after its first chunk, hashing a truncated picture. */
  if (r->part_name[0]) {
    if (strcmp(key, r->part_name + 1) != 0 || off == 0) { /* the next part began: ours is complete */
      r->part_done = 1;
      return MHD_YES;
    }
  } else {
    if (!filename && strcmp(key, "image") != 0 && strcmp(key, "file") != 0) return MHD_YES;
    size_t kl = strlen(key);
    if (kl + 2 > sizeof r->part_name) { /* a name we could not compare whole: refused, never cut */
      snprintf(r->errcode, sizeof r->errcode, "bad_multipart");
      r->part_done = 1;
      return MHD_YES;
    }
    r->part_name[0] = '=';
    memcpy(r->part_name + 1, key, kl + 1);
  }
  keep(r, data, size);
  return MHD_YES;
}

/* Whether r's body comes slower than --body-min-rate on average, past the
 * grace a slow link gets (the header deadline, or 15 s without one).  Every
 * byte restarts libmicrohttpd's idle timeout, so a body trickled a byte at a
 * time would hold its connection, spool file and memory for as long as
 * --max-body lets it last: checked as each piece arrives. */
static int body_too_slow(vigil__req *r) {
  const vigil_server_config *c = &r->srv->cfg;
  if (!c->body_min_rate) return 0;
  double grace = c->header_timeout_s ? (double)c->header_timeout_s : 15.0;
  double elapsed = (double)(vigil__now_us() - r->start_us) / 1e6;
  return elapsed > grace && (double)r->bytes_in < (double)c->body_min_rate * elapsed;
}

static enum MHD_Result take_body(vigil__req *r, const char *data, size_t n) {
  r->bytes_in += n;
  if (body_too_slow(r)) {
    atomic_fetch_add(&r->srv->slow_bodies, 1);
    r->status = 408;
    snprintf(r->logmsg, sizeof r->logmsg, "body slower than %u bytes/s (%llu bytes in %.1f s): connection closed",
             r->srv->cfg.body_min_rate, (unsigned long long)r->bytes_in,
             (double)(vigil__now_us() - r->start_us) / 1e6);
    return MHD_NO;
  }
  if (r->route->body == VIGIL__BODY_NONE) {
    /* a body on a route that takes none is read and dropped, within limits */
    if (r->bytes_in > r->srv->cfg.max_json) r->too_large = 1;
  } else if (!r->too_large) {
    if (r->multipart) {
      if (!r->errcode[0] && MHD_post_process(r->pp, data, n) != MHD_YES)
        snprintf(r->errcode, sizeof r->errcode, "bad_multipart");
    } else {
      keep(r, data, n);
    }
  }
  /* Someone streaming far beyond the limit gets the connection closed. */
  if (r->too_large && r->bytes_in > 2 * route_limit(r) + (1u << 20)) return MHD_NO;
  return MHD_YES;
}

/* ---- the last call: parse, dispatch ---------------------------------------- */

static int json_depth_ok(const json_t *j, unsigned depth, unsigned max) {
  if (depth > max) return 0;
  if (json_is_object(j)) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)j, k, v) if (!json_depth_ok(v, depth + 1, max)) return 0;
  } else if (json_is_array(j)) {
    size_t i;
    json_t *v;
    json_array_foreach(j, i, v) if (!json_depth_ok(v, depth + 1, max)) return 0;
  }
  return 1;
}

static void dispatch(vigil__req *r) {
  char why[512];
  if (r->route && r->route->audit && !vigil__server_store_ok(r->srv, why, sizeof why)) {
    snprintf(r->logmsg, sizeof r->logmsg, "%s", why);
    vigil__reply_error(r, 503, "store_unavailable", "the service database cannot take writes; see /healthz");
    return;
  }
  if (r->spool_err) {
    r->retry_after = VIGIL__RETRY_AFTER_S;
    vigil__reply_error(r, 503, "overloaded", "the upload could not be stored for hashing; retry later");
    return;
  }
  if (r->too_large) {
    if (r->logmsg[0]) {
      r->retry_after = VIGIL__RETRY_AFTER_S;
      vigil__reply_error(r, 503, "overloaded", "out of memory for the request body");
    }
    else vigil__reply_error(r, 413, "body_too_large", "request body is over the limit of %llu bytes",
                            (unsigned long long)route_limit(r));
    return;
  }
  if (r->multipart) {
    int bad = r->errcode[0] != 0;
    r->errcode[0] = 0;
    if (MHD_destroy_post_processor(r->pp) != MHD_YES) bad = 1;
    r->pp = NULL;
    if (bad) {
      vigil__reply_error(r, 400, "bad_multipart", "the multipart/form-data body is malformed");
      return;
    }
    if (!r->part_name[0]) {
      vigil__reply_error(r, 400, "missing_image",
                         "multipart/form-data body has no file part (send it as a part named 'image')");
      return;
    }
  }
  if (r->video_ok && !r->sniffed && r->body_len && (r->ct_video || vigil_video_sniff(r->body, r->body_len))) {
    r->sniffed = 1; /* a short body, decided at its end */
    start_spool(r);
    if (r->spool_err) {
      r->retry_after = VIGIL__RETRY_AFTER_S;
      vigil__reply_error(r, 503, "overloaded", "the upload could not be stored for hashing; retry later");
      return;
    }
  }
  if (r->spool.fd >= 0) {
    vigil_error e;
    if (vigil__spool_finish(&r->spool, &e)) {
      snprintf(r->logmsg, sizeof r->logmsg, "%s", e.message);
      r->retry_after = VIGIL__RETRY_AFTER_S;
      vigil__reply_error(r, 503, "overloaded", "the upload could not be stored for hashing; retry later");
      return;
    }
  }
  if (r->is_json) {
    if (r->body_len == 0) {
      vigil__reply_error(r, 400, "malformed_json", "the body is empty; this endpoint takes a JSON object");
      return;
    }
    json_error_t je;
    r->json = json_loadb((const char *)r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!r->json) {
      vigil__reply_error(r, 400, "malformed_json", "malformed JSON at line %d column %d: %s", je.line, je.column,
                         je.text);
      return;
    }
    if (!json_is_object(r->json)) {
      vigil__reply_error(r, 400, "wrong_type", "the body must be a JSON object");
      return;
    }
    if (!json_depth_ok(r->json, 1, r->srv->cfg.max_json_depth)) {
      vigil__reply_error(r, 400, "json_too_deep", "JSON nesting is deeper than %u levels",
                         r->srv->cfg.max_json_depth);
      return;
    }
  }
  vigil_error_clear(&r->err);
  int rc = r->route->fn(r);
  if (!r->replied) {
    if (rc < 0) vigil__reply_from_err(r, rc);
    else vigil__reply_error(r, 500, "internal", "the request could not be answered");
  }
}

/* Handlers that may run for milliseconds to minutes: hashing an upload,
 * and every bank call, since bank maintenance is one at a time (banksvc.c)
 * and a quick call may wait for an import; likewise a decision that adds a
 * case's hashes to a bank.  Other JSON calls are quick. */
static int is_slow(const vigil__req *r) {
  if (!r->route || r->too_large || r->replied) return 0;
  if (r->route->body == VIGIL__BODY_FILE) return 1;
  if ((r->route->body == VIGIL__BODY_UPLOAD || r->route->body == VIGIL__BODY_EITHER) && !r->is_json) return 1;
  return !strncmp(r->route->name, "banks.", 6) || !strcmp(r->route->name, "cases.decide");
}

static void *run_offloaded(void *arg) {
  vigil__req *r = arg;
  vigil_server *srv = r->srv;
  dispatch(r);
  atomic_store(&r->offload, 2);
  MHD_resume_connection(r->conn); /* on_request is called again and answers */
  atomic_fetch_sub(&srv->offloaded, 1);
  return NULL;
}

/* Runs r's handler on a thread of its own, the connection suspended until
 * it is done.  0 when no thread could be had (the caller runs it inline). */
static int offload(vigil__req *r) {
  pthread_attr_t a;
  if (pthread_attr_init(&a) != 0) return 0;
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  atomic_store(&r->offload, 1);
  atomic_fetch_add(&r->srv->offloaded, 1);
  MHD_suspend_connection(r->conn); /* before the thread exists, so its resume always follows */
  pthread_t t;
  int ok = pthread_create(&t, &a, run_offloaded, r) == 0;
  pthread_attr_destroy(&a);
  if (!ok) {
    atomic_store(&r->offload, 0);
    MHD_resume_connection(r->conn);
    atomic_fetch_sub(&r->srv->offloaded, 1);
  }
  return ok;
}

/* libmicrohttpd hands on_request the target already percent-decoded, cut
 * at the first %00.  It shows the raw target to this callback first, whose
 * answer becomes the request's first *con_cls: a marker when the target
 * holds an encoded NUL, so that begin() refuses it. */
static const char nul_target = 0;
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  (void)cls;
  (void)conn;
  for (const char *p = uri ? strchr(uri, '%') : NULL; p; p = strchr(p + 1, '%'))
    if (p[1] == '0' && p[2] == '0') return (void *)&nul_target;
  return NULL;
}

/* The header deadline's entry of a connection (NULL when it has none). */
static vigil__hdrconn *hdrconn(struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? ci->socket_context : NULL;
}

/* libmicrohttpd calls this on its thread of the connection, CLOSED before
 * it closes the socket (server/hdrwatch.h depends on that). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
  vigil_server *srv = cls;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return;
    if (!(*socket_context = vigil__hdrwatch_open(srv->hw, ci->connect_fd)))
      shutdown(ci->connect_fd, SHUT_RDWR); /* out of memory: a connection that cannot be watched is refused */
  } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
    vigil__hdrwatch_close(srv->hw, *socket_context);
    *socket_context = NULL;
  }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size,
                                  void **con_cls) {
  (void)version;
  vigil_server *srv = cls;
  vigil__req *r = *con_cls;
  int nul_in_target = r == (vigil__req *)&nul_target;
  if (nul_in_target) r = NULL;
  if (!r) {
    if (srv->hw) vigil__hdrwatch_headers_in(srv->hw, hdrconn(conn)); /* the first call: the headers are in */
    if (!(r = calloc(1, sizeof *r))) return MHD_NO;
    r->nul_in_target = nul_in_target;
    vigil__spool_init(&r->spool);
    *con_cls = r;
    atomic_fetch_add(&srv->inflight, 1);
    r->srv = srv;
    r->conn = conn;
    r->route_index = -1;
    r->start_us = vigil__now_us();
    r->id = atomic_fetch_add(&srv->next_id, 1) + 1;
    snprintf(r->method, sizeof r->method, "%s", method);
    for (char *p = r->method; *p; p++)
      if (*p <= 32 || *p >= 127) *p = '?'; /* printable in logs and messages */
    if (!(r->path = strdup(url ? url : ""))) return MHD_NO;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr ||
        getnameinfo(ci->client_addr,
                    ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
                    r->ip, sizeof r->ip, NULL, 0, NI_NUMERICHOST) != 0)
      snprintf(r->ip, sizeof r->ip, "unknown");
    if (begin(r)) return MHD_YES;
    /* Refused.  With a body coming, answer now: MHD then skips the body
     * and closes.  Without one, answer at the final call, which keeps
     * the connection alive for the client's next request. */
    const char *cl = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if ((cl && strcmp(cl, "0") != 0) || header(conn, MHD_HTTP_HEADER_TRANSFER_ENCODING)) return respond(r);
    return MHD_YES;
  }
  if (r->replied) { /* refused at the first call: drop any body, then answer */
    if (*upload_size) {
      *upload_size = 0;
      return MHD_YES;
    }
    return respond(r);
  }
  if (*upload_size) {
    enum MHD_Result ok = take_body(r, upload_data, *upload_size);
    *upload_size = 0;
    return ok;
  }
  if (atomic_load(&r->offload) == 2) return respond(r); /* resumed: the handler has finished */
  if (is_slow(r) && offload(r)) return MHD_YES;
  dispatch(r);
  return respond(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
  vigil_server *srv = cls;
  vigil__req *r = *con_cls;
  *con_cls = NULL;
  if (srv->hw) vigil__hdrwatch_request_done(srv->hw, hdrconn(conn)); /* the next request's headers: a new clock */
  if (!r || r == (vigil__req *)&nul_target) return;
  log_request(r, toe != MHD_REQUEST_TERMINATED_COMPLETED_OK);
  if (r->pp) MHD_destroy_post_processor(r->pp);
  json_decref(r->json);
  json_decref(r->audit_detail);
  json_decref(r->job_query);
  vigil__spool_close(&r->spool);
  free(r->body);
  vigil__reply_drop(r);
  free(r->path);
  free(r);
  atomic_fetch_sub(&srv->inflight, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
  vigil_server *srv = cls;
  if (!srv->cfg.log) return;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  msg[strcspn(msg, "\r\n")] = 0;
  for (char *p = msg; *p; p++)
    if (*p < 32 || *p == 127) *p = ' ';
  char when[40];
  vigil__iso_time(vigil__now_us(), when, sizeof when);
  json_t *o = json_pack("{s:s, s:s, s:s}", "time", when, "level", "http", "msg", msg);
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
  if (s) {
    flockfile(srv->cfg.log);
    fputs(s, srv->cfg.log);
    fputc('\n', srv->cfg.log);
    fflush(srv->cfg.log);
    funlockfile(srv->cfg.log);
  }
  free(s);
  json_decref(o);
}

/* ---- start and stop -------------------------------------------------------- */

static int listen_on(const char *spec, int *fd_out, int *port_out, vigil_error *err) {
  char host[256];
  const char *colon = strrchr(spec, ':');
  if (!colon || (size_t)(colon - spec) >= sizeof host || !colon[1])
    return vigil__seterr(err, VIGIL_EINVAL, "listen address '%s': expected HOST:PORT", spec);
  size_t hl = (size_t)(colon - spec);
  memcpy(host, spec, hl);
  host[hl] = 0;
  if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
    memmove(host, host + 1, hl - 2);
    host[hl - 2] = 0;
  }
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (*end || port < 0 || port > 65535)
    return vigil__seterr(err, VIGIL_EINVAL, "listen address '%s': bad port", spec);
  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  int g = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai);
  if (g != 0) return vigil__seterr(err, VIGIL_EINVAL, "listen address '%s': %s", spec, gai_strerror(g));
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
  int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 512) != 0 ||
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    freeaddrinfo(ai);
    return vigil__seterr(err, VIGIL_EIO, "cannot listen on %s: %s", spec, strerror(e));
  }
  freeaddrinfo(ai);
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  getsockname(fd, (struct sockaddr *)&ss, &sl);
  *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
  *fd_out = fd;
  return VIGIL_OK;
}

/* A PEM file, NUL-terminated as libmicrohttpd wants it. */
static int read_pem(const char *path, char **out, vigil_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return vigil__seterr(err, VIGIL_EIO, "%s: %s", path, strerror(errno));
  size_t cap = 1 << 20, n = 0;
  char *b = malloc(cap + 1);
  if (!b) {
    fclose(f);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  n = fread(b, 1, cap + 1, f);
  int bad = ferror(f);
  fclose(f);
  if (bad || n > cap || n == 0) {
    free(b);
    return vigil__seterr(err, VIGIL_EINVAL, "%s: unreadable, empty or larger than 1 MiB", path);
  }
  b[n] = 0;
  *out = b;
  return VIGIL_OK;
}

/* Everything a server owns but its daemon and socket; srv itself too. */
static void free_parts(vigil_server *srv) {
  vigil__hdrwatch_stop(srv->hw); /* after the daemon: its connections are closed */
  vigil__jobs_stop(srv->jobs); /* its threads use the stores below */
  vigil__outbox_worker_stop(srv->outbox);
  if (srv->banks_open) vigil__banks_close(&srv->banks);
  vigil__signals_close(srv->signals);
  vigil_server_store_close(srv->st);
  vigil__metrics_free(srv->m);
  vigil__gate_destroy(&srv->decode_gate);
  vigil__gate_destroy(&srv->long_gate);
  vigil__gate_destroy(&srv->video_gate);
  free(srv->tls_cert);
  free(srv->tls_key);
  free(srv);
}

int vigil_server_start(vigil_server **out, const vigil_server_config *cfg_in, vigil_error *err) {
  /* before any thread: OpenSSL and libcurl set up (common/crypto.h) */
  vigil__crypto_init();
  vigil__webhook_global_init();
  *out = NULL;
  vigil_server_config def;
  vigil_server_config_default(&def);
  vigil_server *srv = calloc(1, sizeof *srv);
  if (!srv) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  srv->cfg = cfg_in ? *cfg_in : def;
  vigil_server_config *c = &srv->cfg;
  if (!c->listen) c->listen = def.listen;
  if (!c->db_path) c->db_path = def.db_path;
  if (!c->max_body) c->max_body = def.max_body;
  if (!c->max_json) c->max_json = def.max_json;
  if (c->max_json > c->max_body) c->max_json = c->max_body;
  if (!c->max_json_depth) c->max_json_depth = def.max_json_depth;
  if (!c->max_connections) c->max_connections = def.max_connections;
  if (!c->timeout_s) c->timeout_s = def.timeout_s;
  if (!c->header_limit) c->header_limit = def.header_limit;
  if (!c->shutdown_grace_s) c->shutdown_grace_s = def.shutdown_grace_s;
  if (!c->threads) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = n > 0 ? (unsigned)n : 1;
  }
  if (!c->max_decodes) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    c->max_decodes = n <= 0 ? 1 : n > 16 ? 16 : (unsigned)n;
  }
  if (!c->decode_memory) c->decode_memory = def.decode_memory;
  if (!c->max_long) c->max_long = def.max_long;
  if (!c->max_video) c->max_video = def.max_video;
  if (!c->video_workers) c->video_workers = def.video_workers;
  if (!c->job_keep_s) c->job_keep_s = def.job_keep_s;
  srv->decode_budget = (size_t)(c->decode_memory / c->max_decodes);
  srv->fd = -1;
  atomic_init(&srv->inflight, 0);
  atomic_init(&srv->next_id, 0);
  atomic_init(&srv->offloaded, 0);
  atomic_init(&srv->stopping, 0);
  srv->started_s = vigil__now_s();
  int rc = VIGIL_OK;
  /* A queued upload waits at most the connection timeout for its slot. */
  if (vigil__gate_init(&srv->decode_gate, c->max_decodes, c->decode_queue, c->timeout_s) ||
      vigil__gate_init(&srv->long_gate, c->max_long, 0, c->timeout_s) ||
      /* job workers wait in the same queue as requests: room for them too */
      vigil__gate_init(&srv->video_gate, c->video_workers, c->video_queue + c->video_workers, c->timeout_s))
    rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  if (!rc && (!c->tls_cert) != (!c->tls_key)) rc = vigil__seterr(err, VIGIL_EINVAL, "TLS needs both a certificate and a key");
  if (!rc && c->tls_cert && !MHD_is_feature_supported(MHD_FEATURE_TLS))
    rc = vigil__seterr(err, VIGIL_EINVAL, "this libmicrohttpd was built without TLS");
  if (!rc && c->tls_cert) rc = read_pem(c->tls_cert, &srv->tls_cert, err);
  if (!rc && c->tls_key) rc = read_pem(c->tls_key, &srv->tls_key, err);
  if (!rc) rc = vigil__metrics_new(&srv->m, vigil__nroutes) ? vigil__seterr(err, VIGIL_ENOMEM, "out of memory") : 0;
  if (!rc) rc = vigil_server_store_open(&srv->st, c->db_path, err);
  /* the jobs directory's lock first: a second server on it is refused
   * before it opens, saves or claims anything (jobs.c) */
  if (!rc) rc = vigil__jobs_open(&srv->jobs, srv, err);
  if (!rc) srv->st->separate_sightings = c->separate_sightings != 0;
  if (!rc && c->evidence_dir) {
    char sid[33];
    rc = vigil__store_id(srv->st, sid, err);
    if (!rc) rc = vigil__evidence_open(c->evidence_dir, sid, err);
  }
  if (!rc && sqlite_file(c->db_path)) {
    struct stat st;
    if (stat(sqlite_file(c->db_path), &st) == 0 && S_ISREG(st.st_mode)) {
      srv->db_file = 1;
      srv->db_dev = st.st_dev;
      srv->db_ino = st.st_ino;
    }
  }
  if (!rc && !(rc = vigil__banks_open(&srv->banks, c->db_path, c->vpdq_index, c->log, err))) srv->banks_open = 1;
  if (!rc) rc = vigil__signals_open(&srv->signals, c->policy_path, err);
  if (!rc) {
    vigil__outbox_opts oo;
    rc = vigil__report_config_load(c->report_config, &oo, err);
    oo.report_config = c->report_config;
    oo.evidence_dir = c->evidence_dir;
    if (!rc) rc = vigil__outbox_worker_start(&srv->outbox, c->db_path, &oo, c->log, err);
  }
  if (!rc && c->spool_dir) { /* refused at start, not as a 503 on every video later */
    struct stat sd;
    if (stat(c->spool_dir, &sd) != 0 || !S_ISDIR(sd.st_mode) || access(c->spool_dir, W_OK | X_OK) != 0)
      rc = vigil__seterr(err, VIGIL_EINVAL, "spool directory %s: not a writable directory", c->spool_dir);
  }
  if (!rc) rc = vigil__jobs_start(srv->jobs, err);
  if (!rc && c->header_timeout_s && vigil__hdrwatch_start(&srv->hw, c->header_timeout_s))
    rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory (header deadline thread)");
  if (!rc) rc = listen_on(c->listen, &srv->fd, &srv->port, err);
  if (!rc) {
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) ? MHD_USE_EPOLL : MHD_USE_POLL;
    if (c->tls_cert) flags |= MHD_USE_TLS;
    struct MHD_OptionItem opts[20];
    int n = 0;
    /* the logger first, so that even option errors reach it */
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, srv};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, srv->fd, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, c->max_connections, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, c->timeout_s, NULL};
    if (c->max_per_ip) opts[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->max_per_ip, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)c->header_limit, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, srv};
    if (srv->hw) opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, srv};
    if (c->threads > 1) opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, c->threads, NULL};
    if (c->tls_cert) {
      opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert};
      opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key};
    }
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    srv->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!srv->d) rc = vigil__seterr(err, VIGIL_EIO, "the HTTP daemon did not start on %s (see the log)", c->listen);
  }
  if (rc) {
    if (srv->fd >= 0) close(srv->fd);
    free_parts(srv);
    return rc;
  }
  *out = srv;
  return VIGIL_OK;
}

void vigil_server_stop(vigil_server *srv) {
  if (!srv) return;
  atomic_store(&srv->stopping, 1); /* long handlers poll it and stop */
  MHD_quiesce_daemon(srv->d); /* no new connections from here on */
  int64_t deadline = vigil__now_us() + (int64_t)srv->cfg.shutdown_grace_s * 1000000;
  while (atomic_load(&srv->inflight) > 0 && vigil__now_us() < deadline) {
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  /* Past the grace period requests may be cut, but a handler on a thread
   * of its own is never left running: it uses the stores and resumes its
   * connection, both of which stopping frees.  Wait for it however long. */
  while (atomic_load(&srv->offloaded) > 0) {
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  MHD_stop_daemon(srv->d);
  close(srv->fd);
  free_parts(srv);
}

void *vigil__req_app(const vigil__req *r) { return r->srv->cfg.app; }
