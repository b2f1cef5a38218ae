/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reply.c - how handlers read a request and answer it.
 *
 * Every error leaves as {"error":{"code":"...","message":"..."}}.  Codes are
 * short snake_case words a client can switch on; messages are for people.
 * A 500 never carries the internal message: that goes to the server log
 * (r->logmsg) only, so storage paths or SQL never reach a client.
 */
#include "server/req.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

const char *vigil__req_param(const vigil__req *r, const char *name) {
  size_t n = strlen(name);
  for (int i = 0; i < r->nparams; i++)
    if (r->pname_lens[i] == n && !memcmp(r->pnames[i], name, n)) return r->pvals[i];
  return NULL;
}

const char *vigil__req_query(const vigil__req *r, const char *name) {
  if (!r->conn) return r->job_query ? json_string_value(json_object_get(r->job_query, name)) : NULL;
  return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *vigil__req_header(const vigil__req *r, const char *name) {
  return r->conn ? MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name) : NULL;
}

vigil_server_store *vigil__req_store(const vigil__req *r) { return vigil_server_get_store(r->srv); }

int vigil__reply_text(vigil__req *r, int status, const char *content_type, char *text, size_t len) {
  if (r->replied) {
    free(text);
    return VIGIL_OK;
  }
  vigil__reply_drop(r);
  r->resp = text;
  r->resp_len = text ? len : 0;
  r->content_type = content_type;
  r->status = status;
  r->replied = 1;
  return VIGIL_OK;
}

int vigil__reply_file(vigil__req *r, int status, const char *content_type, int fd, uint64_t len) {
  if (r->replied) {
    close(fd);
    return VIGIL_OK;
  }
  vigil__reply_drop(r);
  r->resp_file = 1;
  r->resp_fd = fd;
  r->resp_file_len = len;
  r->content_type = content_type;
  r->status = status;
  r->replied = 1;
  return VIGIL_OK;
}

void vigil__reply_drop(vigil__req *r) {
  free(r->resp);
  r->resp = NULL;
  r->resp_len = 0;
  if (r->resp_file) close(r->resp_fd);
  r->resp_file = 0;
  r->resp_file_len = 0;
  r->replied = 0;
  r->content_type = NULL;
}

int vigil__reply_json(vigil__req *r, int status, json_t *json) {
  char *s = json ? json_dumps(json, JSON_COMPACT) : NULL;
  json_decref(json);
  if (!s) {
    snprintf(r->logmsg, sizeof r->logmsg, "out of memory serializing a reply");
    return vigil__reply_error(r, 500, "internal", "internal error");
  }
  return vigil__reply_text(r, status, "application/json", s, strlen(s));
}

int vigil__reply_error(vigil__req *r, int status, const char *code, const char *fmt, ...) {
  if (r->replied) return VIGIL_OK;
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(r->errcode, sizeof r->errcode, "%s", code);
  /* messages may quote client input: keep them printable and valid UTF-8 */
  json_t *o = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
  if (!o) o = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", "(message not representable)");
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  if (!s) {
    static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
    s = strdup(oom);
    status = 500;
  }
  return vigil__reply_text(r, status, "application/json", s, s ? strlen(s) : 0);
}

int vigil__reply_from_err(vigil__req *r, int rc) {
  const char *m = r->err.message[0] ? r->err.message : vigil_strerror(rc);
  switch (rc) {
  case VIGIL_EINVAL: return vigil__reply_error(r, 400, "invalid", "%s", m);
  case VIGIL_ENOTFOUND: return vigil__reply_error(r, 404, "not_found", "%s", m);
  case VIGIL_EEXIST: return vigil__reply_error(r, 409, "conflict", "%s", m);
  case VIGIL_ELIMIT: return vigil__reply_error(r, 413, "too_large", "%s", m);
  case VIGIL_EFORMAT: return vigil__reply_error(r, 415, "unsupported_format", "%s", m);
  case VIGIL_ECORRUPT: return vigil__reply_error(r, 422, "corrupt_input", "%s", m);
  default:
    snprintf(r->logmsg, sizeof r->logmsg, "%s", m);
    return vigil__reply_error(r, 500, "internal", "internal error");
  }
}

int vigil__json_bool(vigil__req *r, const char *name, int *out) {
  json_t *v = json_object_get(r->json, name);
  if (!v) return 1;
  if (!json_is_boolean(v)) {
    vigil__reply_error(r, 400, "wrong_type", "'%s' must be true or false", name);
    return 0;
  }
  *out = json_is_true(v);
  return 1;
}

int vigil__json_str(vigil__req *r, const char *name, int required, size_t maxlen, const char **out) {
  *out = NULL;
  json_t *v = r->json ? json_object_get(r->json, name) : NULL;
  if (!v || json_is_null(v)) {
    if (!required) return 1;
    vigil__reply_error(r, 400, "missing_field", "'%s' is required", name);
    return 0;
  }
  if (!json_is_string(v)) {
    vigil__reply_error(r, 400, "wrong_type", "'%s' must be a string", name);
    return 0;
  }
  if (json_string_length(v) > maxlen || strlen(json_string_value(v)) != json_string_length(v)) {
    vigil__reply_error(r, 400, "invalid", "'%s' must be at most %zu bytes with no NUL", name, maxlen);
    return 0;
  }
  *out = json_string_value(v);
  return 1;
}

int vigil__json_only(vigil__req *r, const char *const *allowed) {
  const char *k;
  json_t *v;
  json_object_foreach(r->json, k, v) {
    (void)v;
    int ok = 0;
    for (int i = 0; allowed[i] && !ok; i++) ok = !strcmp(k, allowed[i]);
    if (!ok) {
      vigil__reply_error(r, 400, "unknown_field", "unknown field '%.64s'", k);
      return 0;
    }
  }
  return 1;
}

int vigil__param_id(vigil__req *r, const char *name, int64_t *out) {
  const char *s = vigil__req_param(r, name);
  char *end;
  long long v = s ? strtoll(s, &end, 10) : 0;
  if (!s || !*s || *end || v <= 0 || s[0] == '+' || s[0] == ' ') {
    vigil__reply_error(r, 404, "not_found", "no such %s", name);
    return 0;
  }
  *out = v;
  return 1;
}

int vigil__query_int(vigil__req *r, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out) {
  const char *s = vigil__req_query(r, name);
  if (!s) {
    *out = def;
    return 1;
  }
  char *end;
  long long v = strtoll(s, &end, 10);
  if (!*s || *end || v < min || v > max) {
    vigil__reply_error(r, 400, "invalid", "query parameter '%s' must be an integer from %lld to %lld", name,
                       (long long)min, (long long)max);
    return 0;
  }
  *out = v;
  return 1;
}

int vigil__query_bool(vigil__req *r, const char *name, int *out) {
  const char *v = vigil__req_query(r, name);
  if (!v) return 1;
  if (!strcmp(v, "true") || !strcmp(v, "1")) *out = 1;
  else if (!strcmp(v, "false") || !strcmp(v, "0")) *out = 0;
  else {
    vigil__reply_error(r, 400, "invalid", "%s: expected true or false", name);
    return 0;
  }
  return 1;
}

int vigil__query_list(vigil__req *r, const char *name, char *buf, size_t cap, const char **list, size_t max,
                      size_t *n) {
  *n = 0;
  const char *v = vigil__req_query(r, name);
  if (!v) return 1;
  size_t len = strlen(v), k = 0;
  if (len < cap) {
    memcpy(buf, v, len + 1);
    /* strtok_r: request threads run this at the same time */
    char *save = NULL, *tok = strtok_r(buf, ",", &save);
    for (; tok && k < max; tok = strtok_r(NULL, ",", &save)) list[k++] = tok;
    if (!tok) {
      *n = k;
      return 1;
    }
  }
  vigil__reply_error(r, 400, "invalid", "%s: at most %zu comma-separated names in %zu bytes", name, max, cap - 1);
  return 0;
}
