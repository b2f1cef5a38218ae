/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil/server.h - the HTTP service (`vigil serve`) and the state it keeps:
 * API keys with roles, the review-case queue and the append-only audit log.
 *
 * The service is libmicrohttpd (its own thread pool, epoll where available)
 * in front of a route table: each route is a method, a path pattern with
 * {param} segments, the roles allowed to call it and one handler function.
 * Slow handlers (hashing an upload, bank calls that may wait for an import)
 * run on a thread of their own with the connection suspended, so a pool
 * thread keeps serving its other connections.
 *
 * State lives in a vigil_server_store: SQLite (a path, or "sqlite:PATH";
 * WAL and synchronous=FULL, so a write acknowledged to a client survives
 * kill -9) or PostgreSQL (a postgresql:// URI, shared by several nodes),
 * through the SQL layer of lib/db.  The hash banks live in the same
 * database (vigil/bank.h).  The store functions below are what other
 * modules and the CLI call; none of them takes SQL or returns a database
 * type.
 *
 * API keys look like "vk_<12 hex id>_<64 hex secret>".  Only the id and the
 * SHA-256 of the key are stored; the full key is returned once, at creation.
 * Verification looks the row up by id and compares the SHA-256 of the
 * presented key with the stored one in constant time.  A verified key is
 * remembered for up to a second, so most requests skip the database; a key
 * revoked through this store is forgotten at once, but one revoked by
 * another node sharing a PostgreSQL database may still pass for that
 * second.
 *
 * Threads: a store may be shared by every thread (its calls take its
 * lock).  vigil_server_start and vigil_server_stop of one server are
 * called from one thread; vigil_server_gauge_set may be called from any.
 *
 * Ownership: vigil_server_start copies the config structure but keeps the
 * pointers in it: listen, db_path, policy_path, evidence_dir, report_config, log and app
 * must stay valid (and log open) until vigil_server_stop returns.  The TLS
 * files are read at start.  The store of vigil_server_get_store belongs
 * to the server and is closed by vigil_server_stop.  Strings of
 * vigil_route_info are static.
 */
#ifndef VIGIL_SERVER_H
#define VIGIL_SERVER_H

#include <stdint.h>
#include <stdio.h>

#include "vigil/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- roles --------------------------------------------------------------- */

typedef enum vigil_role {
  VIGIL_ROLE_NONE = 0,
  VIGIL_ROLE_ADMIN = 1 << 0,     /* banks, keys; allowed everywhere */
  VIGIL_ROLE_SUBMITTER = 1 << 1, /* hash, match, report content */
  VIGIL_ROLE_REVIEWER = 1 << 2,  /* review cases */
  VIGIL_ROLE_AUDITOR = 1 << 3    /* audit log and read-only views */
} vigil_role;

/* "admin", "submitter", ... ; NULL for anything else. */
VIGIL_API const char *vigil_role_name(vigil_role r);
/* VIGIL_ROLE_NONE when name is not a role. */
VIGIL_API vigil_role vigil_role_parse(const char *name);

/* ---- the store ------------------------------------------------------------ */

typedef struct vigil_server_store vigil_server_store;

/* Opens (creating its tables if needed) the service database at path: a
 * SQLite file ("sqlite:PATH" or PATH) or a postgresql:// URI.  Thread-safe:
 * one store may be shared by every thread of a server. */
VIGIL_API int vigil_server_store_open(vigil_server_store **out, const char *path, vigil_error *err);
VIGIL_API void vigil_server_store_close(vigil_server_store *st);

/* ---- the audit log from outside the service --------------------------------- */

/* Names who acts through this store when no API key does: a command-line
 * tool sets "cli:<os user>".  From then on keys created or revoked through
 * st are audited under that name, in the same transaction as the change.
 * actor: 1 to 64 printable ASCII bytes; NULL clears it.  Not thread-safe
 * against other calls on st: set it once, right after opening. */
VIGIL_API int vigil_server_store_set_actor(vigil_server_store *st, const char *actor, vigil_error *err);
/* Appends one row to the audit log as the store's actor (VIGIL_EINVAL when
 * none is set): action names what was done ("banks.drop"), target what to
 * (may be NULL), status an HTTP-like outcome (200 done, 500 failed), detail_json a
 * JSON object or NULL.  The caller does the recorded action only after this
 * returned VIGIL_OK, so nothing it does goes unrecorded. */
VIGIL_API int vigil_server_audit_record(vigil_server_store *st, const char *action, const char *target, int status,
                                        const char *detail_json, vigil_error *err);

/* ---- banks as the service sees them ----------------------------------------- */

/* Whether matches in bank open review cases (the service's own flag, kept
 * in its store beside the bank): *review 0 for a bank never flagged. */
VIGIL_API int vigil_server_bank_review_get(vigil_server_store *st, const char *bank, int *review, vigil_error *err);
VIGIL_API int vigil_server_bank_review_set(vigil_server_store *st, const char *bank, int review, vigil_error *err);
/* The ids of bank's entries reviewers disputed as false positives (of every
 * bank when bank is NULL), distinct and sorted ascending, for
 * vigil_bank_export_opts.disputed: *ids (NULL when *n is 0) is the
 * caller's to free(). */
VIGIL_API int vigil_server_disputed_entries(vigil_server_store *st, const char *bank, uint64_t **ids, size_t *n,
                                            vigil_error *err);

/* ---- API keys ----------------------------------------------------------- */

#define VIGIL_KEY_ID_LEN 12   /* hex digits of the public id */
#define VIGIL_KEY_MAX 96      /* room for a whole key string and its NUL */
#define VIGIL_KEY_NAME_MAX 128

typedef struct vigil_key_info {
  char id[VIGIL_KEY_ID_LEN + 1];
  vigil_role role;
  char name[VIGIL_KEY_NAME_MAX + 1];
  int64_t created_at; /* Unix seconds */
  int64_t revoked_at; /* 0 while active */
} vigil_key_info;

/* People of the review console (docs/console.md): a name (a-z 0-9 . _ -),
 * a role as keys have, the child-safety permission (the only one that may
 * see retained media), an Argon2id password hash.  Sign-in, sessions and
 * lock-out are the server's; these manage the table. */
#define VIGIL_USER_NAME_MAX 48
#define VIGIL_USER_PASSWORD_MIN 10
#define VIGIL_USER_PASSWORD_MAX 1024
typedef struct vigil_user_info {
  char name[VIGIL_USER_NAME_MAX + 1];
  vigil_role role;
  int child_safety;
  int64_t created_at;  /* Unix seconds */
  int64_t disabled_at; /* 0 while enabled */
  int failures;        /* failed sign-ins in a row */
  int locked;          /* locked out by failures until vigil_user_unlock */
} vigil_user_info;
/* VIGIL_EEXIST for a name taken, VIGIL_EINVAL for a bad name or a password
 * shorter than VIGIL_USER_PASSWORD_MIN. */
VIGIL_API int vigil_user_create(vigil_server_store *st, const char *name, vigil_role role, int child_safety,
                                const char *password, vigil_error *err);
/* Clears the failed sign-ins of name (VIGIL_ENOTFOUND: no such user). */
VIGIL_API int vigil_user_unlock(vigil_server_store *st, const char *name, vigil_error *err);
/* Disables name and ends its sessions. */
VIGIL_API int vigil_user_disable(vigil_server_store *st, const char *name, vigil_error *err);
/* Every user, by name; *out is malloc'd (free it). */
VIGIL_API int vigil_user_list(vigil_server_store *st, vigil_user_info **out, size_t *n, vigil_error *err);

/* Creates a key; key_out receives the whole key (shown once, never stored).
 * name may be NULL.  info may be NULL. */
VIGIL_API int vigil_key_create(vigil_server_store *st, vigil_role role, const char *name, char key_out[VIGIL_KEY_MAX],
                     vigil_key_info *info, vigil_error *err);
/* VIGIL_ENOTFOUND for an unknown or already revoked id. */
VIGIL_API int vigil_key_revoke(vigil_server_store *st, const char *id, vigil_error *err);
/* Every key, active and revoked, oldest first; free(*out). */
VIGIL_API int vigil_key_list(vigil_server_store *st, vigil_key_info **out, size_t *n, vigil_error *err);
/* Number of keys ever created (revoked ones included). */
VIGIL_API int vigil_key_count(vigil_server_store *st, int64_t *n, vigil_error *err);
/* Checks a presented key: VIGIL_OK and *info for an active key,
 * VIGIL_ENOTFOUND for a malformed, unknown or revoked one. */
VIGIL_API int vigil_key_verify(vigil_server_store *st, const char *key, size_t len, vigil_key_info *info, vigil_error *err);

/* ---- review cases --------------------------------------------------------- */

/* What a module knows when it opens a case: the content's hashes and the
 * caller's metadata, never the media itself.  Every field may be NULL. */
typedef struct vigil_case_new {
  const char *source;      /* what opened it: "match", "report", ... (default "report") */
  const char *pdq;         /* 64 hex digits */
  const char *md5;         /* 32 hex digits */
  const char *sha256;      /* 64 hex digits */
  const char *content_id;  /* the platform's id for the content */
  const char *uploader_id; /* the platform's id for the uploader */
  const char *url;
  const char *reason;      /* free text, e.g. "matched bank ncii-hashes at distance 4" */
  const char *detail_json; /* a JSON object kept as it is (e.g. the matches); must parse */
  const char *opened_by;   /* key id of the caller, if any */
} vigil_case_new;

/* Opens a case in status "open"; *id receives its number.  Hash fields are
 * checked (hex of the right length), strings capped at 2048 bytes. */
VIGIL_API int vigil_case_open(vigil_server_store *st, const vigil_case_new *c, int64_t *id, vigil_error *err);
/* The case as GET /v1/cases/{id} shows it, as JSON text (*json is the
 * caller's to free); VIGIL_ENOTFOUND for an unknown id. */
VIGIL_API int vigil_case_get_json(vigil_server_store *st, int64_t id, char **json, vigil_error *err);
/* Records a report of case_ids[0..n) (one uploader's confirmed cases)
 * that was exported for manual filing into directory, with xml its
 * report.xml; holds every case for a year (18 U.S.C. 2258A(h)) and
 * audits it as the store's actor (vigil_server_store_set_actor, required),
 * all in one transaction, as POST /v1/cases/{id}/report does.
 * *held_until (may be NULL): the end of the first case's hold, Unix s. */
VIGIL_API int vigil_case_report_exported(vigil_server_store *st, const int64_t *case_ids, size_t n,
                                         const char *directory, const char *xml, int64_t *held_until, vigil_error *err);

/* ---- the server ------------------------------------------------------------ */

typedef struct vigil_server vigil_server;

typedef struct vigil_server_config {
  const char *listen;        /* "HOST:PORT" ("[v6]:PORT"); port 0 picks a free one */
  const char *db_path;       /* service database: SQLite path or postgresql:// URI */
  unsigned threads;          /* worker threads (0: number of CPUs) */
  uint64_t max_body;         /* largest request body in bytes (default 50 MB) */
  uint64_t max_json;         /* largest JSON request body (default 1 MB) */
  unsigned max_json_depth;   /* deepest nesting accepted in a JSON body (default 32) */
  unsigned max_connections;  /* concurrent connections (default 1024) */
  unsigned max_per_ip;       /* concurrent connections from one address (default 64; 0: no limit) */
  unsigned timeout_s;        /* idle connection timeout (default 30): every byte received starts it
                                again, so it does not bound a client that sends its headers slowly */
  size_t header_limit;       /* per-connection memory for headers and buffers (default 128 KiB) */
  unsigned shutdown_grace_s; /* longest wait for in-flight requests on stop (default 30) */
  const char *tls_cert;      /* PEM files; both or neither */
  const char *tls_key;
  FILE *log;                 /* one JSON line per request; NULL: no request log */
  void *app;                 /* handed to handlers (for modules wired in later) */
  const char *policy_path;   /* minor-safety policy file; NULL: the shipped default */
  const char *evidence_dir;  /* keep the media of uploads that open cases here (mode 0700); NULL: never
                                keep media (the default) */
  unsigned max_decodes;      /* pictures decoded at once (0: the number of CPUs, at most 16) */
  unsigned decode_queue;     /* uploads waiting for a decode slot before 503 (default 64) */
  uint64_t decode_memory;    /* bytes all decodes together may use (default 2 GiB); each gets an equal share */
  unsigned max_long;         /* long handlers (ad linking) at once (default 2); more get 503 */
  const char *report_config; /* the outbox and webhook settings (docs/report.md); NULL: defaults */
  const char *hma_anonymous; /* client addresses (comma-separated, exact) that may call the HMA lookup
                                routes without a key, as HMA clients do; NULL: none (the default) */
  unsigned session_idle_s;   /* a console session ends after this long unused (0: 30 minutes) */
  unsigned session_max_s;    /* ...and this long after sign-in in any case (0: 12 hours) */
  const char *sso_header;    /* single sign-on: a header naming the account (e.g. "X-Forwarded-User")
                                that an authenticating proxy sets; NULL: off */
  const char *sso_proxies;   /* the proxies' addresses (comma-separated, exact) it is taken from */
  int separate_sightings;    /* one case per upload: a repeat of content with an undecided case opens a
                                case of its own (default off: it adds a sighting to that case, so each
                                piece of content is one case) */
  /* Video uploads (docs/server.md): streamed to a private temporary file, never held in memory. */
  uint64_t max_video;        /* largest video upload in bytes (default 2 GB) */
  const char *spool_dir;     /* where video uploads are spooled (NULL: $TMPDIR, else /tmp) */
  unsigned video_workers;    /* videos hashed at once on this node, requests and jobs together (default 1) */
  unsigned video_queue;      /* requests waiting for a video slot before 503 (default 4) */
  /* Asynchronous jobs (POST /v1/jobs): durable in the service database. */
  unsigned job_queue;        /* jobs waiting on this node before 503 (default 32) */
  unsigned job_keep_s;       /* finished jobs and their results are kept this long (default 86400) */
  const char *jobs_dir;      /* the inputs of waiting jobs (NULL: DB-FILE.jobs beside a SQLite file,
                                $TMPDIR/vigil-jobs for PostgreSQL); one server per directory: a
                                second one on it is refused at start (VIGIL_EINVAL) */
  const char *vpdq_index;    /* the video index kept between runs, loaded at start when it matches the
                                store (NULL: DB-FILE.vpdq-index beside a SQLite file, none for
                                PostgreSQL; "off": none) */
  unsigned header_timeout_s; /* seconds a client has for a request's headers, from the connection's
                                start or its previous request's end (default 15; 0: no deadline);
                                the connection is closed past it (docs/server.md, "Sizing") */
  unsigned body_min_rate;    /* bytes per second a request body must average once header_timeout_s
                                (15 s when that is 0) have passed since its headers, or the
                                connection is closed (default 1024; 0: no minimum) */
} vigil_server_config;

/* Fills cfg with the defaults above (listen 127.0.0.1:8080, db ./vigil.db). */
VIGIL_API void vigil_server_config_default(vigil_server_config *cfg);

/* Opens the store, binds and starts serving in background threads. */
VIGIL_API int vigil_server_start(vigil_server **out, const vigil_server_config *cfg, vigil_error *err);
/* The bound port (useful after asking for port 0). */
VIGIL_API int vigil_server_port(const vigil_server *srv);
/* The store the server uses, for modules that open cases or keep state. */
VIGIL_API vigil_server_store *vigil_server_get_store(vigil_server *srv);
/* Graceful stop: stops accepting, waits up to shutdown_grace_s for requests
 * in flight to finish, closes everything and frees srv.  A handler running
 * on a thread of its own (an import, say) is waited for even past the
 * grace period, since it uses the stores that stopping closes. */
VIGIL_API void vigil_server_stop(vigil_server *srv);

/* A gauge shown by GET /metrics ("vigil_<name>"), e.g. the index size set by
 * the matching module.  name: [a-z0-9_], at most 63 characters; up to 32
 * gauges.  Thread-safe. */
VIGIL_API int vigil_server_gauge_set(vigil_server *srv, const char *name, const char *help, double value, vigil_error *err);

/* ---- the route table (read-only view, e.g. to check docs/openapi.yaml) --- */

typedef struct vigil_route_info {
  const char *method;  /* "GET", "POST", ... */
  const char *pattern; /* "/v1/cases/{id}" */
  unsigned roles;      /* vigil_role bits; 0 = no authentication */
  const char *name;    /* label in metrics and the audit log */
} vigil_route_info;

VIGIL_API size_t vigil_server_route_count(void);
/* NULL past the end. */
VIGIL_API int vigil_server_route_get(size_t i, vigil_route_info *out);
/* The k-th query parameter route i accepts (others are refused with 400),
 * or VIGIL_ENOTFOUND past the last. */
VIGIL_API int vigil_server_route_query(size_t i, size_t k, const char **name);

#ifdef __cplusplus
}
#endif
#endif
