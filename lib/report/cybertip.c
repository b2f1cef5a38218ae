/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cybertip.c - one call to the CyberTipline reporting API, and what its
 * answer means.
 *
 * Calls are HTTP POSTs with Basic authentication: submit and fileinfo send
 * XML, upload sends multipart/form-data (the report id and the file,
 * typed by its first bytes: a video goes as video/webm, video/mp4...),
 * finish and retract a form with the id.  Every answer is a small
 * reportResponse (or reportDoneResponse) document, parsed with libxml2
 * without network access or entity expansion.  Credentials are read from
 * their own file, are never logged and never reach the audit log or an
 * error message.
 */
#include "report/cybertip.h"
#include "report/tipline.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int ready;
static void init(void) {
  ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  xmlInitParser();
}

int vigil__cybertip_load(const char *config_path, vigil__cybertip *c, vigil_error *err) {
  memset(c, 0, sizeof *c);
  c->timeout_s = 60;
  if (!config_path) return vigil__seterr(err, VIGIL_EINVAL, "no report configuration");
  json_t *root = json_load_file(config_path, JSON_REJECT_DUPLICATES, NULL);
  json_t *n = json_object_get(root, "ncmec");
  json_t *api = json_object_get(n, "api");
  int rc = VIGIL_OK;
  const char *env = json_string_value(json_object_get(api, "environment"));
  const char *url = json_string_value(json_object_get(api, "url"));
  const char *cred = json_string_value(json_object_get(api, "credentials"));
  if (!json_is_object(api)) rc = vigil__seterr(err, VIGIL_EINVAL, "%s: no ncmec.api section", config_path);
  else if (env && strcmp(env, "test") && strcmp(env, "production"))
    rc = vigil__seterr(err, VIGIL_EINVAL, "ncmec.api.environment: expected test or production");
  else if (!cred) rc = vigil__seterr(err, VIGIL_EINVAL, "ncmec.api.credentials: expected the credentials file");
  json_t *to = json_object_get(api, "timeout_s");
  if (!rc && to) {
    if (!json_is_integer(to) || json_integer_value(to) < 1 || json_integer_value(to) > 600)
      rc = vigil__seterr(err, VIGIL_EINVAL, "ncmec.api.timeout_s: expected whole seconds from 1 to 600");
    else c->timeout_s = (int)json_integer_value(to);
  }
  if (!rc) {
    snprintf(c->url, sizeof c->url, "%s",
             url ? url : env && !strcmp(env, "production") ? VIGIL__CYBERTIP_PROD : VIGIL__CYBERTIP_TEST);
    size_t l = strlen(c->url);
    while (l && c->url[l - 1] == '/') c->url[--l] = 0;
    struct stat sb;
    if (stat(cred, &sb) != 0 || (sb.st_mode & 077))
      rc = vigil__seterr(err, VIGIL_EINVAL, "%s: missing, or readable by group or others (chmod 600)", cred);
  }
  json_t *cj = rc ? NULL : json_load_file(cred, JSON_REJECT_DUPLICATES, NULL);
  const char *u = json_string_value(json_object_get(cj, "username"));
  const char *p = json_string_value(json_object_get(cj, "password"));
  if (!rc && (!u || !p || strchr(u, ':')))
    rc = vigil__seterr(err, VIGIL_EINVAL, "%s: expected {\"username\", \"password\"}", cred);
  if (!rc) snprintf(c->userpwd, sizeof c->userpwd, "%s:%s", u, p);
  json_decref(cj);
  json_decref(root);
  return rc;
}

int vigil__ct_check(const char *step, const vigil__ct_resp *r, vigil_error *err) {
  int k = r->code;
  if (k == 0) return VIGIL_OK;
  if (k < 0)
    return vigil__seterr(err, VIGIL_EIO, "%s: no CyberTipline answer (HTTP %d)", step, r->http);
  if (k >= 1000 && k <= 1111)
    return vigil__seterr(err, VIGIL_EIO, "%s: CyberTipline server failure %d: %s", step, k, r->desc);
  if (k == 2000)
    return vigil__seterr(err, VIGIL_EINVAL, "%s: authentication required (check the credentials file): %s", step, r->desc);
  if (k >= 3000 && k <= 3300)
    return vigil__seterr(err, VIGIL_EINVAL, "%s: not authorised (%d): %s", step, k, r->desc);
  if (k >= 4000 && k <= 4200)
    return vigil__seterr(err, VIGIL_EINVAL, "%s: refused as invalid (%d): %s", step, k, r->desc);
  if (k == 5001 || k == 5002)
    return vigil__seterr(err, VIGIL_ENOTFOUND, "%s: %s does not exist (%d)", step, k == 5001 ? "report" : "file", k);
  if (k == 5101) return vigil__seterr(err, VIGIL_EEXIST, "%s: report already retracted (5101)", step);
  if (k == 5102) return vigil__seterr(err, VIGIL_EEXIST, "%s: report already finished (5102)", step);
  return vigil__seterr(err, VIGIL_EINVAL, "%s: unexpected response code %d: %s", step, k, r->desc);
}

typedef struct buf {
  char *p;
  size_t n;
} buf;

static size_t collect(char *p, size_t size, size_t n, void *ud) {
  buf *b = ud;
  size_t k = size * n;
  if (b->n + k > 65536) return 0; /* answers are small; a huge one is an error */
  char *q = realloc(b->p, b->n + k + 1);
  if (!q) return 0;
  memcpy(q + b->n, p, k);
  b->p = q;
  b->n += k;
  b->p[b->n] = 0;
  return k;
}

static void text_of(xmlNodePtr root, const char *name, char *out, size_t cap) {
  for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next)
    if (n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name)) {
      xmlChar *t = xmlNodeGetContent(n);
      snprintf(out, cap, "%s", t ? (const char *)t : "");
      xmlFree(t);
      return;
    }
}

static void parse_resp(const buf *b, vigil__ct_resp *r) { vigil__ct_parse(b->p, b->n, r); }

void vigil__ct_parse(const char *p, size_t n, vigil__ct_resp *r) {
  memset(r->desc, 0, sizeof r->desc);
  r->code = -1;
  r->report_id[0] = r->file_id[0] = r->hash[0] = 0;
  if (!p || n > 65536) return;
  pthread_once(&once, init);
  xmlDocPtr d = xmlReadMemory(p, (int)n, "response.xml", NULL,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  xmlNodePtr root = d ? xmlDocGetRootElement(d) : NULL;
  char code[16] = "";
  text_of(root, "responseCode", code, sizeof code);
  char *end;
  long v = strtol(code, &end, 10);
  if (code[0] && !*end && v >= 0 && v < 100000) r->code = (int)v;
  text_of(root, "responseDescription", r->desc, sizeof r->desc);
  text_of(root, "reportId", r->report_id, sizeof r->report_id);
  text_of(root, "fileId", r->file_id, sizeof r->file_id);
  text_of(root, "hash", r->hash, sizeof r->hash);
  xmlFreeDoc(d);
}

int vigil__ct_call(const vigil__cybertip *c, const char *step, const char *xml, const char *id, const char *fname,
                   const void *data, size_t len, vigil__ct_resp *out, vigil_error *err) {
  memset(out, 0, sizeof *out);
  out->code = -1;
  pthread_once(&once, init);
  CURL *h = ready ? curl_easy_init() : NULL;
  if (!h) return vigil__seterr(err, VIGIL_EINTERNAL, "libcurl did not start");
  char url[600];
  snprintf(url, sizeof url, "%s/%s", c->url, step);
  struct curl_slist *hdr = NULL;
  curl_mime *mime = NULL;
  char *form = NULL;
  int rc = VIGIL_OK;
  if (xml) {
    hdr = curl_slist_append(NULL, "Content-Type: text/xml; charset=utf-8");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, xml);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(xml));
  } else if (data) {
    mime = curl_mime_init(h);
    curl_mimepart *part = mime ? curl_mime_addpart(mime) : NULL;
    if (part) curl_mime_name(part, "id"), curl_mime_data(part, id, CURL_ZERO_TERMINATED);
    part = mime ? curl_mime_addpart(mime) : NULL;
    if (part) {
      curl_mime_name(part, "file");
      curl_mime_filename(part, fname);
      /* the file's own type (a WebM video as video/webm), not a guess from its name */
      curl_mime_type(part, vigil__report_media(data, len, NULL));
      curl_mime_data(part, data, len);
    } else rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
  } else {
    char *e = curl_easy_escape(h, id ? id : "", 0);
    size_t n = e ? strlen(e) + 4 : 0;
    form = e ? malloc(n) : NULL;
    if (form) snprintf(form, n, "id=%s", e);
    else rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    curl_free(e);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, form ? form : "");
  }
  buf b = {NULL, 0};
  char ebuf[CURL_ERROR_SIZE] = "";
  hdr = curl_slist_append(hdr, "Expect:");
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
  curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
  curl_easy_setopt(h, CURLOPT_USERPWD, c->userpwd);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)c->timeout_s);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
  if (!rc) {
    CURLcode cr = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    out->http = (int)code;
    if (cr == CURLE_OPERATION_TIMEDOUT)
      rc = vigil__seterr(err, VIGIL_EIO, "%s: no answer within %d s (timed out; ncmec.api.timeout_s)", step,
                         c->timeout_s);
    else if (cr != CURLE_OK)
      rc = vigil__seterr(err, VIGIL_EIO, "%s: %s", step, ebuf[0] ? ebuf : curl_easy_strerror(cr));
    else {
      parse_resp(&b, out);
      rc = vigil__ct_check(step, out, err);
    }
  }
  free(b.p);
  free(form);
  curl_mime_free(mime);
  curl_slist_free_all(hdr);
  curl_easy_cleanup(h);
  return rc;
}
