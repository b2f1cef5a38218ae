/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server/accounts.h - people who sign in to the review console (accounts.c),
 * their browser sessions (sessions.c) and the case leases of the queue
 * (claims.c).
 *
 * API keys serve programs; accounts serve people.  An account has a name,
 * one of the key roles, a child-safety permission (the only one that may
 * see retained media), and an Argon2id password hash (libsodium's
 * crypto_pwhash_str).  A session is a random token in an HttpOnly,
 * SameSite=Strict cookie; the store keeps only its SHA-256, with a CSRF
 * token that every state-changing call made with the session must echo in
 * X-CSRF-Token.  Everything a person does is audited as "user:<name>".
 */
#ifndef VIGIL_SERVER_ACCOUNTS_H
#define VIGIL_SERVER_ACCOUNTS_H

#include <stdint.h>

#include "server/req.h"
#include "server/store.h"

#define VIGIL__SESSION_COOKIE "vigil_session"
#define VIGIL__SESSION_TOKEN_HEX 64 /* 32 random bytes */
#define VIGIL__CSRF_HEX 64
/* Sign-in failures: from the FREE+1st failure in a row each attempt waits
 * twice as long as the one before (1 s, 2 s, 4 s ...); after LOCK failures
 * the account is locked until an admin unlocks it. */
#define VIGIL__SIGNIN_FREE 3
#define VIGIL__SIGNIN_LOCK 10
/* Defaults of vigil_server_config's session_idle_s and session_max_s. */
#define VIGIL__SESSION_IDLE_S (30 * 60)
#define VIGIL__SESSION_MAX_S (12 * 60 * 60)
/* How long "next case" holds a case for its reviewer unless renewed. */
#define VIGIL__LEASE_S 300

/* The tables (server_users, server_sessions, server_case_claims), created
 * idempotently when the store opens. */
int vigil__accounts_schema(vigil_server_store *st, vigil_error *err);

typedef struct vigil__account {
  char name[VIGIL_USER_NAME_MAX + 1];
  vigil_role role;
  int child_safety;
} vigil__account;

/* Outcome of a sign-in attempt. */
enum {
  VIGIL__SIGNIN_OK = 0,
  VIGIL__SIGNIN_BAD = 1,    /* unknown name or wrong password (never said which) */
  VIGIL__SIGNIN_WAIT = 2,   /* too soon after failures: *wait_s seconds to go */
  VIGIL__SIGNIN_LOCKED = 3, /* locked or disabled until an admin acts */
  VIGIL__SIGNIN_BUSY = 4,   /* VIGIL__SIGNIN_MAX_ACTIVE checks run already: try again shortly */
};
/* Password checks at once: each takes 64 MiB, so a burst of sign-ins
 * (or guesses) cannot take the machine's memory. */
#define VIGIL__SIGNIN_MAX_ACTIVE 4
/* Checks name and password (a wrong one counts a failure, a right one
 * clears them).  Returns one of the above (>= 0) or a negative VIGIL_E*. */
int vigil__signin(vigil_server_store *st, const char *name, const char *password, vigil__account *acct,
                  int64_t *wait_s, vigil_error *err);

/* Starts a session for acct: token (hex, for the cookie) and csrf. */
int vigil__session_create(vigil_server_store *st, const char *name, char token[VIGIL__SESSION_TOKEN_HEX + 1],
                          char csrf[VIGIL__CSRF_HEX + 1], vigil_error *err);
/* The CSRF token of the session with this token into csrf;
 * VIGIL_ENOTFOUND when it has ended. */
int vigil__session_csrf(vigil_server_store *st, const char *token, char csrf[VIGIL__CSRF_HEX + 1], vigil_error *err);
/* Ends the session with this token (no error if there is none). */
int vigil__session_end(vigil_server_store *st, const char *token, vigil_error *err);

/* Called by the core for a route that needs a caller and got no API key:
 * authenticates r by its session cookie.  1: r->authed with the person's
 * role (r->user "user:<name>"); 0: no session cookie; -1: r was answered
 * (expired or unknown session 401, missing CSRF token 403). */
int vigil__session_begin(vigil__req *r);

/* The session cookie's token of r, copied into token; 0 if none. */
int vigil__session_token(vigil__req *r, char token[VIGIL__SESSION_TOKEN_HEX + 1]);

/* With st->mu held in vigil_case_open's transaction: records the most
 * severe label (A1 .. B2) among the matched entries in detail_json, which
 * orders the queue (claims.c). */
int vigil__case_rank_locked(vigil_server_store *st, int64_t id, const char *detail_json, vigil_error *err);

/* The queue (queue.c).  A case is in the child-safety queue when it
 * matched a label A1, A2, B1, B2 or csam, or a bank flagged child_abuse,
 * or was classified in one of those categories; the SQL condition over a
 * case row aliased c. */
#define VIGIL__CHILD_SQL                                                                                               \
  "(COALESCE(c.classification, '') IN ('A1','A2','B1','B2','csam') OR EXISTS(SELECT 1 FROM server_case_labels l"       \
  " WHERE l.case_id = c.id AND (l.tag IN ('a1','a2','b1','b2','csam')"                                                 \
  " OR l.bank IN (SELECT bank FROM server_bank_child))))"
enum { VIGIL__QUEUE_ALL = 0, VIGIL__QUEUE_CHILD = 1, VIGIL__QUEUE_GENERAL = 2 };
typedef struct vigil__case_filter {
  const char *status;   /* NULL: any */
  const char *bank;     /* a matched bank, NULL: any */
  const char *tag;      /* a matched tag (any case), NULL: any */
  const char *assignee; /* who holds or decided it; "none": nobody; NULL: anyone */
  int child;            /* the caller may see child-abuse cases */
  int queue;            /* VIGIL__QUEUE_*: both, only child-abuse cases, only the others */
} vigil__case_filter;
/* With st->mu held in vigil_case_open's transaction: one row per matched
 * bank and tag of detail's "matches" into server_case_labels. */
int vigil__case_labels_locked(vigil_server_store *st, int64_t id, json_t *detail, vigil_error *err);
/* Appends f's conditions (" AND ...", over a case row aliased c) to sql
 * and their parameters to p from p[*np] on (at most 5 more); 0 when sql's
 * cap is too small. */
int vigil__case_filter_sql(const vigil__case_filter *f, int64_t now, char *sql, size_t cap, vigil__val *p, int *np);
/* *child 1 when case id is in the child-safety queue; VIGIL_ENOTFOUND. */
int vigil__case_is_child(vigil_server_store *st, int64_t id, int *child, vigil_error *err);

/* Case leases (claims.c).  Hands holder the most severe, then oldest, open
 * case nobody holds (or one whose lease ran out) among those f lets
 * through (f's status is ignored), leased for lease_s; *id 0 when none.
 * Atomic across threads and, on PostgreSQL, across nodes. */
int vigil__claim_next(vigil_server_store *st, const char *holder, const vigil__case_filter *f, int64_t lease_s,
                      int64_t *id, int64_t *until, vigil_error *err);
/* Renews holder's lease on case id: VIGIL_ENOTFOUND when holder does not
 * hold it (never held, expired and taken, or released). */
int vigil__claim_renew(vigil_server_store *st, int64_t id, const char *holder, int64_t lease_s, int64_t *until,
                       vigil_error *err);
/* Returns case id to the queue (skip); VIGIL_ENOTFOUND as above. */
int vigil__claim_release(vigil_server_store *st, int64_t id, const char *holder, vigil_error *err);

/* Changes an account (the console's people page): role (0 keeps it),
 * child_safety (-1 keeps it), enabled 1 enables a disabled account and
 * clears its failures (-1 or 0 keep it; disabling is vigil_user_disable,
 * which also ends sessions).  VIGIL_ENOTFOUND. */
int vigil__user_update(vigil_server_store *st, const char *name, vigil_role role, int child_safety, int enabled,
                       vigil_error *err);

/* The server's session timeouts, defaults applied. */
void vigil__server_session_limits(vigil_server *srv, int64_t *idle_s, int64_t *max_s);
/* The single sign-on header and the proxies it is taken from (NULL: off). */
void vigil__server_sso(vigil_server *srv, const char **header, const char **proxies);
/* The account name (enabled and not locked) into acct, for a sign-in that
 * an authenticating proxy vouched for: VIGIL__SIGNIN_OK, _BAD (no such
 * account), _LOCKED, or a negative VIGIL_E*. */
int vigil__account_get(vigil_server_store *st, const char *name, vigil__account *acct, vigil_error *err);
/* 1 when the server speaks TLS (the cookie is then Secure). */
int vigil__server_tls(vigil_server *srv);

#endif
