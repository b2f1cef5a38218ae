/*
 * server/internal.h - what the pieces of lib/server share: the request a
 * handler sees, the route table, the store's internals, metrics.
 *
 * Adding an endpoint = one handler `int h_x(vigil__req *r)` + one line in
 * routes.c.  A handler reads the request through the vigil__req_* helpers
 * and answers with vigil__reply_json() or vigil__reply_error(); returning a
 * negative VIGIL_E* code without replying is also fine: the core maps it to
 * a status (EINVAL 400, ENOTFOUND 404, EEXIST 409, ELIMIT 413, EFORMAT and
 * ECORRUPT 422, anything else 500 with a generic message; the real message
 * only reaches the server's log).
 */
#ifndef VIGIL_SERVER_INTERNAL_H
#define VIGIL_SERVER_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "common/internal.h"
#include "db/sql.h"
#include "vigil/server.h"

/* ---- store ---------------------------------------------------------------- */

/* Keys verified recently, so most requests skip SQL.  An entry holds the
 * stored digest of an active key and lives VIGIL__KEY_CACHE_US; revoking
 * through this store drops it at once, revoking from another process
 * (the CLI) takes effect when it expires. */
#define VIGIL__KEY_CACHE_SLOTS 256
#define VIGIL__KEY_CACHE_US 1000000
typedef struct vigil__key_slot {
  vigil_key_info info; /* info.id[0] == 0: empty */
  uint8_t digest[32];
  int64_t expires_us;
} vigil__key_slot;

struct vigil_server_store {
  vigil__sql *db;     /* SQLite or PostgreSQL */
  pthread_mutex_t mu; /* one statement sequence at a time on db */
  pthread_mutex_t cache_mu;
  vigil__key_slot cache[VIGIL__KEY_CACHE_SLOTS];
};

/* Unix time in seconds / microseconds. */
int64_t vigil__now_s(void);
int64_t vigil__now_us(void);
/* "2026-11-24T22:10:00.123Z" into buf (>= 32 bytes). */
void vigil__iso_time(int64_t us, char *buf, size_t cap);

/* Row i of r as a JSON object: column name -> value; a column named
 * "detail" holding JSON text is embedded as JSON.  NULL on ENOMEM. */
json_t *vigil__row_json(const vigil__rows *r, size_t i);
/* Runs sql and returns its rows as a JSON array of vigil__row_json. */
int vigil__query_json(vigil_server_store *st, const char *sql, const vigil__val *p, int np, json_t **out,
                      vigil_error *err);

/* ---- keys ----------------------------------------------------------------- */

/* vigil_key_revoke, but VIGIL_EEXIST instead of revoking the last active
 * admin key (the API never locks everyone out; the CLI may). */
int vigil__key_revoke_keep_admin(vigil_server_store *st, const char *id, vigil_error *err);

/* ---- audit ---------------------------------------------------------------- */

typedef struct vigil__audit_rec {
  const char *key_id; /* may be NULL */
  const char *ip;
  const char *method;
  const char *path;
  const char *action; /* route name */
  const char *target; /* {id} of the route, if any */
  int status;
  const char *detail_json; /* may be NULL */
} vigil__audit_rec;

int vigil__audit_append(vigil_server_store *st, const vigil__audit_rec *a, vigil_error *err);
/* Rows with id > after_id, ascending, at most limit; returns a JSON array. */
int vigil__audit_list(vigil_server_store *st, int64_t after_id, int limit, const char *key_id, json_t **out,
                      vigil_error *err);

/* ---- cases ---------------------------------------------------------------- */

/* status NULL: all. */
int vigil__case_list(vigil_server_store *st, const char *status, int64_t after_id, int limit, json_t **out,
                     vigil_error *err);
int vigil__case_get(vigil_server_store *st, int64_t id, json_t **out, vigil_error *err);
/* VIGIL_ENOTFOUND, VIGIL_EEXIST when the case is already closed. */
int vigil__case_decide(vigil_server_store *st, int64_t id, const char *decision, const char *classification,
                       const char *note, const char *key_id, vigil_error *err);
int vigil__case_valid_classification(const char *c);

/* ---- evidence retention (evidence.c) -------------------------------------- */

/* Creates dir (0700) if needed, refuses one open to group or others, and
 * removes staging files a crash left behind. */
int vigil__evidence_open(const char *dir, vigil_error *err);
/* Writes data to a new staging file in dir (0600, fsynced); its path into path. */
int vigil__evidence_stage(const char *dir, const void *data, size_t len, char *path, size_t cap, vigil_error *err);
/* Renames a staged file to the case's evidence (removes it on failure). */
int vigil__evidence_commit(const char *dir, const char *staged, int64_t case_id, vigil_error *err);
/* The case's evidence (malloc'd) or VIGIL_ENOTFOUND. */
int vigil__evidence_read(const char *dir, int64_t case_id, uint8_t **data, size_t *len, vigil_error *err);
int vigil__evidence_delete(const char *dir, int64_t case_id, vigil_error *err);
/* The media type of the bytes by their signature, else application/octet-stream. */
const char *vigil__media_type(const uint8_t *p, size_t n);
/* The server's evidence directory; NULL when retention is off. */
const char *vigil__server_evidence_dir(vigil_server *srv);

/* ---- requests and routes ----------------------------------------------- */

#define VIGIL__MAX_PARAMS 4

typedef struct vigil__req vigil__req;
typedef int (*vigil__handler)(vigil__req *r);

enum vigil__body_kind {
  VIGIL__BODY_NONE = 0, /* no body expected (GET, DELETE); one sent is ignored */
  VIGIL__BODY_JSON,     /* application/json, up to max_json, parsed before the handler */
  VIGIL__BODY_UPLOAD,   /* raw bytes or multipart/form-data (first file part), up to max_body */
  VIGIL__BODY_EITHER,   /* application/json as BODY_JSON, anything else as BODY_UPLOAD */
  VIGIL__BODY_FILE      /* as BODY_UPLOAD, but text and JSON bodies too (a file to import) */
};

typedef struct vigil__route {
  const char *method;
  const char *pattern;
  unsigned roles; /* 0: no key needed */
  int body;       /* enum vigil__body_kind */
  int audit;      /* state-changing: every authenticated call goes to the audit log */
  const char *name;
  vigil__handler fn;
} vigil__route;

extern const vigil__route vigil__routes[];
extern const size_t vigil__nroutes;

/* Matches path against pattern; fills names/values (pointers into the
 * pattern, copies of path segments in vals).  1 on match. */
int vigil__route_match(const char *pattern, const char *path, char vals[VIGIL__MAX_PARAMS][129],
                       const char *names[VIGIL__MAX_PARAMS], size_t name_lens[VIGIL__MAX_PARAMS], int *nparams);

struct MHD_Connection;

struct vigil__req {
  vigil_server *srv;
  struct MHD_Connection *conn;
  const vigil__route *route;
  int route_index; /* -1: no route */
  char method[16];
  char *path;
  char ip[64];
  int64_t start_us;
  uint64_t id; /* sequence number of the request in this run */
  /* parameters from the path pattern */
  int nparams;
  const char *pnames[VIGIL__MAX_PARAMS];
  size_t pname_lens[VIGIL__MAX_PARAMS];
  char pvals[VIGIL__MAX_PARAMS][129];
  /* the caller */
  int authed;
  vigil_key_info key;
  /* the body */
  uint8_t *body;
  size_t body_len, body_cap;
  uint64_t bytes_in;     /* every body byte received, kept or not */
  int too_large;         /* body went over the limit while streaming */
  int multipart;         /* body is multipart/form-data, parsed by pp */
  void *pp;              /* struct MHD_PostProcessor * */
  int part_done;         /* first file part finished */
  char part_name[64];    /* field name of the part being kept */
  json_t *json;          /* parsed JSON body (BODY_JSON, or BODY_EITHER sent as JSON) */
  int is_json;           /* the body is to be parsed as JSON */
  /* the answer */
  int status;
  char *resp;            /* serialized body */
  size_t resp_len;
  const char *content_type;
  int replied;
  char errcode[48];
  char logmsg[600];     /* internal error text, logged, never sent */
  json_t *audit_detail; /* optional, set by handlers of audited routes */
  int force_audit;       /* a call to an unaudited route that changed state (a match opened a case) */
  _Atomic int offload;   /* 0; 1 while the handler runs on a thread of its own; 2 when it is done */
  vigil_error err;
};

/* Accessors for handlers. */
const char *vigil__req_param(const vigil__req *r, const char *name); /* NULL if absent */
const char *vigil__req_query(const vigil__req *r, const char *name); /* NULL if absent */
const char *vigil__req_header(const vigil__req *r, const char *name);
vigil_server_store *vigil__req_store(const vigil__req *r);
void *vigil__req_app(const vigil__req *r);

/* Replies; json is consumed (decref'd) in every case. */
int vigil__reply_json(vigil__req *r, int status, json_t *json);
int vigil__reply_text(vigil__req *r, int status, const char *content_type, char *text, size_t len); /* takes text */
int vigil__reply_error(vigil__req *r, int status, const char *code, const char *fmt, ...) VIGIL__PRINTF(4, 5);
/* Maps r->err (set by a failed call) to a reply as described above. */
int vigil__reply_from_err(vigil__req *r, int rc);

/* JSON body helpers: fetch a member with the right type or reply 400.
 * Return 1 ok (value or absent-and-optional), 0 after replying 400. */
int vigil__json_str(vigil__req *r, const char *name, int required, size_t maxlen, const char **out);
/* An optional boolean member into *out (left alone when absent), or 400. */
int vigil__json_bool(vigil__req *r, const char *name, int *out);
/* Replies 400 if the body has members outside allowed (NULL-terminated). */
int vigil__json_only(vigil__req *r, const char *const *allowed);
/* Parses a positive int64 path parameter or replies 404. */
int vigil__param_id(vigil__req *r, const char *name, int64_t *out);
/* Integer query parameter in [min,max] (default def) or replies 400. */
int vigil__query_int(vigil__req *r, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out);

/* ---- metrics ---------------------------------------------------------------- */

typedef struct vigil__metrics vigil__metrics;
int vigil__metrics_new(vigil__metrics **out, size_t nroutes);
void vigil__metrics_free(vigil__metrics *m);
/* route -1: unmatched. */
void vigil__metrics_observe(vigil__metrics *m, int route, int status, int64_t latency_us);
int vigil__metrics_gauge_set(vigil__metrics *m, const char *name, const char *help, double v, vigil_error *err);
/* Prometheus text exposition; malloc'd. */
char *vigil__metrics_render(vigil__metrics *m, size_t *len);
vigil__metrics *vigil__server_metrics(vigil_server *srv);
int64_t vigil__server_inflight(vigil_server *srv);
int64_t vigil__server_started_s(vigil_server *srv);

/* ---- hash banks, shared by the handlers (banksvc.c) ----------------------- */

struct vigil_bank_store;
struct vigil_bank_matcher;

/* The bank store and the in-memory PDQ index of the enabled banks (see
 * banksvc.c for why there are two connections and two locks).  The index
 * is brought up to date with the store (other nodes' changes included)
 * when it is more than VIGIL__BANK_SYNC_US old, and at once after a change
 * made through this server. */
#define VIGIL__BANK_SYNC_US 1000000
typedef struct vigil__banks {
  struct vigil_bank_store *st;  /* queries: exact lookups, the hits' entries */
  struct vigil_bank_store *wst; /* changes, imports, exports, listings, syncs */
  struct vigil_bank_matcher *m; /* reads its entries through st */
  pthread_rwlock_t rw;          /* queries share it; applying a sync takes it alone */
  pthread_mutex_t wmu;          /* one user of wst at a time */
  _Atomic int64_t synced_us;
} vigil__banks;

int vigil__banks_open(vigil__banks *b, const char *db_path, vigil_error *err);
void vigil__banks_close(vigil__banks *b);
/* Everything but queries: begin gives the store to use (waiting for other
 * writers only); end syncs the index when changed, then releases it. */
int vigil__banks_begin(vigil__banks *b, struct vigil_bank_store **st);
int vigil__banks_end(vigil__banks *b, int changed, vigil_error *err);
/* Queries: shared with other queries; syncs a stale index first. */
int vigil__banks_lock_query(vigil__banks *b, vigil_error *err);
void vigil__banks_unlock_query(vigil__banks *b);
/* PDQ hashes in the index. */
size_t vigil__banks_indexed(vigil__banks *b);
vigil__banks *vigil__server_banks(vigil_server *srv);

struct vigil_bank_entry;
/* An entry as the API shows it: id, bank, signal_type, value (hex), tags... */
json_t *vigil__entry_json(const struct vigil_bank_entry *e);

/* Banks whose matches open review cases (server_bank_review). */
int vigil__bank_review_get(vigil_server_store *st, const char *bank, int *review, vigil_error *err);
int vigil__bank_review_set(vigil_server_store *st, const char *bank, int review, vigil_error *err);

/* ---- text signals and policy (h_signals.c) ------------------------------- */

typedef struct vigil__signals vigil__signals;
/* policy_path NULL: the shipped default policy. */
int vigil__signals_open(vigil__signals **out, const char *policy_path, vigil_error *err);
void vigil__signals_close(vigil__signals *s);
vigil__signals *vigil__server_signals(vigil_server *srv);

/* ---- handlers (h_*.c) --------------------------------------------------- */

int vigil__h_healthz(vigil__req *r);
int vigil__h_metrics(vigil__req *r);
int vigil__h_hash(vigil__req *r);
int vigil__h_match(vigil__req *r);
int vigil__h_banks_list(vigil__req *r);
int vigil__h_banks_create(vigil__req *r);
int vigil__h_bank_get(vigil__req *r);
int vigil__h_bank_update(vigil__req *r);
int vigil__h_bank_drop(vigil__req *r);
int vigil__h_bank_add(vigil__req *r);
int vigil__h_bank_remove(vigil__req *r);
int vigil__h_bank_import(vigil__req *r);
int vigil__h_bank_export(vigil__req *r);
int vigil__h_policy_decide(vigil__req *r);
int vigil__h_policy_batch(vigil__req *r);
int vigil__h_convo_score(vigil__req *r);
int vigil__h_link(vigil__req *r);
int vigil__h_text_scan(vigil__req *r);
int vigil__h_hma_raw_lookup(vigil__req *r);
int vigil__h_hma_lookup(vigil__req *r);
int vigil__h_hma_lookup_post(vigil__req *r);
int vigil__h_hma_hash(vigil__req *r);
int vigil__h_hma_hash_get(vigil__req *r);
int vigil__h_cases_list(vigil__req *r);
int vigil__h_case_create(vigil__req *r);
int vigil__h_case_get(vigil__req *r);
int vigil__h_case_decide(vigil__req *r);
int vigil__h_case_evidence(vigil__req *r);
int vigil__h_case_evidence_delete(vigil__req *r);
int vigil__h_audit(vigil__req *r);
int vigil__h_keys_create(vigil__req *r);
int vigil__h_keys_list(vigil__req *r);
int vigil__h_keys_revoke(vigil__req *r);

#endif
