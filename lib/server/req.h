/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server/req.h - the request a handler sees, the route table and the
 * reply helpers.
 *
 * Adding an endpoint = one handler `int h_x(vigil__req *r)` (handlers.h) +
 * one line in routes.c.  A handler reads the request through the
 * vigil__req_* helpers and answers with vigil__reply_json() or
 * vigil__reply_error(); returning a negative VIGIL_E* code without replying
 * is also fine: the core maps it to a status (EINVAL 400, ENOTFOUND 404,
 * EEXIST 409, ELIMIT 413, EFORMAT and ECORRUPT 422, anything else 500 with
 * a generic message; the real message only reaches the server's log).
 */
#ifndef VIGIL_SERVER_REQ_H
#define VIGIL_SERVER_REQ_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/internal.h"
#include "server/spool.h"
#include "vigil/server.h"

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

/* 1 when route rt reads query parameter name (routes.c's table). */
int vigil__route_query_allowed(const vigil__route *rt, const char *name);
/* The k-th query parameter of rt, NULL past the last. */
const char *vigil__route_query_name(const vigil__route *rt, size_t k);

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
  int nul_in_target; /* the raw target held %00 (see on_uri) */
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
  /* a person signed in to the console (accounts.h): "user:<name>", "" for
   * a key; the audit log and case decisions name it instead of key.id */
  char user[8 + VIGIL_USER_NAME_MAX];
  int child_safety;     /* the person may see retained media */
  char set_cookie[256]; /* a Set-Cookie header for the answer; "" none */
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
  /* A video upload goes to a private file instead of memory (spool.h): the
   * route takes video (video_ok), the body was labelled video/... or its
   * first bytes look like a container; spool.fd >= 0 from then on, body
   * stays empty and the digests are in spool.md5_hex / sha_hex. */
  int video_ok;
  int ct_video;
  int sniffed;           /* the body's kind is decided */
  int spool_err;         /* the spool file could not be made or written (logmsg says why): 503 */
  vigil__spool spool;
  /* set when a job runs the handler (jobs.c): query parameters come from
   * here, not from a connection (conn is NULL) */
  json_t *job_query;
  int is_json;           /* the body is to be parsed as JSON */
  /* the answer */
  int status;
  char *resp;            /* serialized body */
  size_t resp_len;
  /* or a file sent from offset 0 instead of resp (evidence: a video of
   * gigabytes is never held in memory); resp_file: resp_fd is open and the
   * request owns it until the answer takes it */
  int resp_file;
  int resp_fd;
  uint64_t resp_file_len;
  const char *content_type;
  int replied;
  char errcode[48];
  char logmsg[600];     /* internal error text, logged, never sent */
  json_t *audit_detail; /* optional, set by handlers of audited routes */
  int force_audit;       /* a call to an unaudited route that changed state (a match opened a case) */
  int retry_after;       /* seconds for a Retry-After header (503 when overloaded); 0: none */
  int audited;           /* the handler wrote the audit row itself (vigil__req_audit_*) */
  _Atomic int offload;   /* 0; 1 while the handler runs on a thread of its own; 2 when it is done */
  vigil_error err;
};

/* Who made the request, for the audit log and case rows: "user:<name>"
 * for a person, the key id for a program, NULL when unauthenticated. */
static inline const char *vigil__req_who(const vigil__req *r) {
  return r->user[0] ? r->user : r->key.id[0] ? r->key.id : NULL;
}

/* Accessors for handlers. */
const char *vigil__req_param(const vigil__req *r, const char *name); /* NULL if absent */
const char *vigil__req_query(const vigil__req *r, const char *name); /* NULL if absent */
const char *vigil__req_header(const vigil__req *r, const char *name);
vigil_server_store *vigil__req_store(const vigil__req *r);
void *vigil__req_app(const vigil__req *r);

/* Replies; json is consumed (decref'd) in every case. */
int vigil__reply_json(vigil__req *r, int status, json_t *json);
int vigil__reply_text(vigil__req *r, int status, const char *content_type, char *text, size_t len); /* takes text */
/* Answers with len bytes of the open file fd from its start; takes fd
 * (closed here when r already has an answer). */
int vigil__reply_file(vigil__req *r, int status, const char *content_type, int fd, uint64_t len);
/* Drops an answer made but not sent (its text or file), so another can be made. */
void vigil__reply_drop(vigil__req *r);
int vigil__reply_error(vigil__req *r, int status, const char *code, const char *fmt, ...) VIGIL__PRINTF(4, 5);
/* Maps r->err (set by a failed call) to a reply as described above. */
int vigil__reply_from_err(vigil__req *r, int rc);

/* Audit rows written by a handler, for changes that must not happen
 * unaudited.  vigil__req_audit_rec fills *a for r's call answered with
 * status (detail: r->audit_detail as text in *detail, to be freed); the
 * handler writes it in its change's transaction and sets r->audited.
 * vigil__req_audit_first writes it now, before an action that has no
 * transaction (reading or deleting evidence): 1 written, 0 after replying
 * 503 audit_unavailable. */
struct vigil__audit_rec;
void vigil__req_audit_rec(vigil__req *r, int status, struct vigil__audit_rec *a, char **detail);
int vigil__req_audit_first(vigil__req *r, int status);

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
/* Boolean query parameter ("true"/"1", "false"/"0") into *out, left alone
 * when absent, or replies 400. */
int vigil__query_bool(vigil__req *r, const char *name, int *out);
/* "a,b,c" query parameter split in place into buf (cap bytes): list gets
 * at most max pointers into buf, *n how many (0 when absent); replies 400
 * when it is longer or has more names. */
int vigil__query_list(vigil__req *r, const char *name, char *buf, size_t cap, const char **list, size_t max,
                      size_t *n);

#endif
