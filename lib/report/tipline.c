/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tipline.c - NCMEC CyberTipline report XML from confirmed review cases,
 * built with libxml2 and validated against the CyberTipline schema before
 * anything leaves vigil.
 *
 * Input is the cases as the service shows them (JSON objects: id, status,
 * classification, hashes, content and uploader ids, url, created_at, and
 * the caller's detail object), all of one uploader as reviewers gather
 * them; the reporting person and company come from the "ncmec" section
 * of the report configuration.  The caller may describe the reported user
 * in a case's detail.user: {"screen_name", "email", "esp_id", "profile_url",
 * "ip_events": [{"ip", "event", "at"}]}.  What is sent is exactly what the
 * XML holds; nothing is guessed (an IP event's name is sent only when
 * given, and a wrong one fails validation rather than being rewritten).
 *
 * The schema is not shipped with vigil: an operator downloads it from the
 * CyberTipline (GET /xsd) and names the file in the configuration.  A
 * report that does not validate is refused with libxml2's message for the
 * first error, so the operator sees which element is wrong.
 */
#include "report/outbox.h"
#include "report/tipline.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <pthread.h>
#include <string.h>

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;
static void xml_init(void) { xmlInitParser(); }

void vigil__tipline_cfg_free(vigil__tipline_cfg *c) {
  if (!c) return;
  json_decref(c->root);
  memset(c, 0, sizeof *c);
}

static const char *str(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

int vigil__tipline_cfg_load(const char *path, vigil__tipline_cfg *c, vigil_error *err) {
  memset(c, 0, sizeof *c);
  if (!path) return vigil__seterr(err, VIGIL_EINVAL, "no report configuration (--report-config) with an \"ncmec\" section");
  json_error_t je;
  json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
  if (!root) return vigil__seterr(err, VIGIL_EINVAL, "%s:%d: %s", path, je.line, je.text);
  json_t *n = json_object_get(root, "ncmec");
  if (!json_is_object(n)) {
    json_decref(root);
    return vigil__seterr(err, VIGIL_EINVAL, "%s: no \"ncmec\" object (reporter, schema)", path);
  }
  static const char *const allowed[] = {"schema", "reporter", "company", "terms_of_service", "legal_url", "platform",
                                        "incident_type", "export_dir", "api", NULL};
  const char *k;
  json_t *v;
  json_object_foreach(n, k, v) {
    int ok = 0;
    for (int i = 0; allowed[i]; i++) ok |= !strcmp(k, allowed[i]);
    if (!ok || (strcmp(k, "reporter") && strcmp(k, "api") && !json_is_string(v))) {
      json_decref(root);
      return vigil__seterr(err, VIGIL_EINVAL, "%s: ncmec.%.64s: %s", path, k, ok ? "expected a string" : "unknown member");
    }
  }
  json_t *rep = json_object_get(n, "reporter");
  if (!json_is_object(rep) || !str(rep, "email")) {
    json_decref(root);
    return vigil__seterr(err, VIGIL_EINVAL, "%s: ncmec.reporter: expected an object with at least \"email\"", path);
  }
  c->root = root;
  c->ncmec = n;
  c->reporter = rep;
  c->schema = str(n, "schema");
  c->export_dir = str(n, "export_dir");
  c->incident_type = str(n, "incident_type") ? str(n, "incident_type")
                                              : "Child Pornography (possession, manufacture, and distribution)";
  return VIGIL_OK;
}

/* xmlNewTextChild escapes the text; NULL or empty text adds nothing. */
static xmlNodePtr add(xmlNodePtr parent, const char *name, const char *text) {
  if (!text || !*text) return NULL;
  return xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST text);
}

static int is_industry(const char *c) {
  return c && (!strcmp(c, "A1") || !strcmp(c, "A2") || !strcmp(c, "B1") || !strcmp(c, "B2"));
}

static void add_ip_events(xmlNodePtr parent, json_t *events) {
  size_t i;
  json_t *e;
  json_array_foreach(events, i, e) {
    if (!str(e, "ip")) continue;
    xmlNodePtr ev = xmlNewChild(parent, NULL, BAD_CAST "ipCaptureEvent", NULL);
    add(ev, "ipAddress", str(e, "ip"));
    add(ev, "eventName", str(e, "event"));
    add(ev, "dateTime", str(e, "at"));
  }
}

int vigil__tipline_build(const vigil__tipline_cfg *c, json_t *cases, char **xml, size_t *len, vigil_error *err) {
  *xml = NULL;
  *len = 0;
  size_t n = json_array_size(cases);
  if (!n) return vigil__seterr(err, VIGIL_EINVAL, "a report needs at least one case");
  const char *uploader = str(json_array_get(cases, 0), "uploader_id");
  for (size_t i = 0; i < n; i++) {
    json_t *k = json_array_get(cases, i);
    long long id = (long long)json_integer_value(json_object_get(k, "id"));
    const char *status = str(k, "status");
    if (!status || strcmp(status, "confirmed"))
      return vigil__seterr(err, VIGIL_EEXIST, "case %lld is %s: only confirmed cases are reported", id,
                           status ? status : "unknown");
    const char *u = str(k, "uploader_id");
    if ((u || uploader) && (!u || !uploader || strcmp(u, uploader)))
      return vigil__seterr(err, VIGIL_EINVAL, "case %lld has another uploader: one report covers one uploader", id);
  }
  pthread_once(&xml_once, xml_init);
  xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
  xmlNodePtr root = doc ? xmlNewNode(NULL, BAD_CAST "report") : NULL;
  if (!root) {
    xmlFreeDoc(doc);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  xmlDocSetRootElement(doc, root);
  /* incidentSummary: the earliest case is when the incident was seen */
  const char *first = NULL;
  for (size_t i = 0; i < n; i++) {
    const char *t = str(json_array_get(cases, i), "created_at");
    if (t && (!first || strcmp(t, first) < 0)) first = t;
  }
  xmlNodePtr sum = xmlNewChild(root, NULL, BAD_CAST "incidentSummary", NULL);
  add(sum, "incidentType", c->incident_type);
  add(sum, "platform", str(c->ncmec, "platform"));
  add(sum, "incidentDateTime", first);
  /* internetDetails: the pages the content was at */
  xmlNodePtr web = NULL;
  for (size_t i = 0; i < n; i++) {
    const char *url = str(json_array_get(cases, i), "url");
    if (!url) continue;
    if (!web) web = xmlNewChild(xmlNewChild(root, NULL, BAD_CAST "internetDetails", NULL), NULL,
                                BAD_CAST "webPageIncident", NULL);
    add(web, "url", url);
  }
  /* reporter, from configuration */
  xmlNodePtr rep = xmlNewChild(root, NULL, BAD_CAST "reporter", NULL);
  xmlNodePtr who = xmlNewChild(rep, NULL, BAD_CAST "reportingPerson", NULL);
  add(who, "firstName", str(c->reporter, "first_name"));
  add(who, "lastName", str(c->reporter, "last_name"));
  add(who, "phone", str(c->reporter, "phone"));
  add(who, "email", str(c->reporter, "email"));
  add(rep, "companyTemplate", str(c->ncmec, "company"));
  add(rep, "termsOfService", str(c->ncmec, "terms_of_service"));
  add(rep, "legalURL", str(c->ncmec, "legal_url"));
  /* the reported user: the platform's id, and what callers supplied */
  json_t *user = NULL;
  for (size_t i = 0; i < n && !user; i++) {
    json_t *u = json_object_get(json_object_get(json_array_get(cases, i), "detail"), "user");
    if (json_is_object(u)) user = u;
  }
  if (uploader || user) {
    xmlNodePtr p = xmlNewChild(root, NULL, BAD_CAST "personOrUserReported", NULL);
    if (str(user, "email")) add(xmlNewChild(p, NULL, BAD_CAST "personOrUserReportedPerson", NULL), "email",
                                str(user, "email"));
    add(p, "espIdentifier", str(user, "esp_id") ? str(user, "esp_id") : uploader);
    add(p, "screenName", str(user, "screen_name"));
    add(p, "profileUrl", str(user, "profile_url"));
    add_ip_events(p, json_object_get(user, "ip_events"));
  }
  char info[512];
  size_t o = (size_t)snprintf(info, sizeof info, "vigil review case%s", n > 1 ? "s" : "");
  for (size_t i = 0; i < n && o < sizeof info - 24; i++)
    o += (size_t)snprintf(info + o, sizeof info - o, "%s %lld", i ? "," : "",
                          (long long)json_integer_value(json_object_get(json_array_get(cases, i), "id")));
  add(root, "additionalInfo", info);
  xmlChar *buf = NULL;
  int blen = 0;
  xmlDocDumpFormatMemoryEnc(doc, &buf, &blen, "UTF-8", 1);
  xmlFreeDoc(doc);
  if (!buf || blen <= 0) {
    xmlFree(buf);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  *xml = malloc((size_t)blen + 1);
  if (*xml) {
    memcpy(*xml, buf, (size_t)blen);
    (*xml)[blen] = 0;
    *len = (size_t)blen;
  }
  xmlFree(buf);
  return *xml ? VIGIL_OK : vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
}

int vigil__tipline_file_xml(json_t *k, int64_t report_id, const char *file_id, int viewed, char **xml, size_t *len,
                            vigil_error *err) {
  *xml = NULL;
  *len = 0;
  pthread_once(&xml_once, xml_init);
  xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
  xmlNodePtr root = doc ? xmlNewNode(NULL, BAD_CAST "fileDetails") : NULL;
  if (!root) {
    xmlFreeDoc(doc);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  xmlDocSetRootElement(doc, root);
  char rid[24];
  snprintf(rid, sizeof rid, "%lld", (long long)report_id);
  add(root, "reportId", rid);
  add(root, "fileId", file_id);
  add(root, "fileName", str(k, "file_name")); /* as uploaded: case-<id>.<ext> */
  add(root, "fileViewedByEsp", viewed ? "true" : "false");
  add(root, "fileRelevance", "Reported");
  const char *cls = str(k, "classification");
  if (is_industry(cls)) add(root, "industryClassification", cls);
  static const char *const hashes[][2] = {{"md5", "MD5"}, {"sha256", "SHA256"}};
  for (int i = 0; i < 2; i++) {
    xmlNodePtr h = add(root, "originalFileHash", str(k, hashes[i][0]));
    if (h) xmlNewProp(h, BAD_CAST "hashType", BAD_CAST hashes[i][1]);
  }
  xmlChar *buf = NULL;
  int blen = 0;
  xmlDocDumpFormatMemoryEnc(doc, &buf, &blen, "UTF-8", 1);
  xmlFreeDoc(doc);
  *xml = buf && blen > 0 ? malloc((size_t)blen + 1) : NULL;
  if (*xml) {
    memcpy(*xml, buf, (size_t)blen);
    (*xml)[blen] = 0;
    *len = (size_t)blen;
  }
  xmlFree(buf);
  return *xml ? VIGIL_OK : vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
}

/* The first schema error, kept for the message. */
typedef struct first_error {
  char msg[400];
  int line;
} first_error;

static void on_error(void *ctx, const xmlError *e) {
  first_error *f = ctx;
  if (f->msg[0] || !e || !e->message) return;
  snprintf(f->msg, sizeof f->msg, "%s", e->message);
  f->msg[strcspn(f->msg, "\n")] = 0;
  f->line = e->line;
}

int vigil__tipline_validate(const char *schema_path, const char *xml, size_t len, vigil_error *err) {
  if (!schema_path)
    return vigil__seterr(err, VIGIL_EINVAL,
                         "no CyberTipline schema configured (ncmec.schema): nothing is sent or exported unvalidated");
  pthread_once(&xml_once, xml_init);
  first_error fe = {"", 0};
  /* parsed here, quietly and without the network, rather than by the
   * schema parser (which would print parse errors on stderr) */
  const int quiet = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  xmlDocPtr xsd = xmlReadFile(schema_path, NULL, quiet);
  xmlSchemaParserCtxtPtr pc = xsd ? xmlSchemaNewDocParserCtxt(xsd) : NULL;
  if (pc) xmlSchemaSetParserStructuredErrors(pc, (xmlStructuredErrorFunc)on_error, &fe);
  xmlSchemaPtr schema = pc ? xmlSchemaParse(pc) : NULL;
  xmlSchemaFreeParserCtxt(pc);
  xmlFreeDoc(xsd);
  if (!schema)
    return vigil__seterr(err, VIGIL_EINVAL, "%s: not a readable XML schema%s%s", schema_path, fe.msg[0] ? ": " : "",
                         fe.msg);
  fe.msg[0] = 0;
  int rc = VIGIL_OK;
  if (len > (size_t)INT32_MAX) {
    xmlSchemaFree(schema);
    return vigil__seterr(err, VIGIL_ELIMIT, "report XML over 2 GiB");
  }
  xmlDocPtr doc = xmlReadMemory(xml, (int)len, "report.xml", NULL, quiet);
  xmlSchemaValidCtxtPtr vc = doc ? xmlSchemaNewValidCtxt(schema) : NULL;
  if (!doc) rc = vigil__seterr(err, VIGIL_EINVAL, "report XML does not parse");
  else if (!vc) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  else {
    xmlSchemaSetValidStructuredErrors(vc, (xmlStructuredErrorFunc)on_error, &fe);
    int v = xmlSchemaValidateDoc(vc, doc);
    if (v != 0)
      rc = vigil__seterr(err, VIGIL_EINVAL, "the report does not validate against the CyberTipline schema: line %d: %s",
                         fe.line, fe.msg[0] ? fe.msg : "invalid");
  }
  xmlSchemaFreeValidCtxt(vc);
  xmlFreeDoc(doc);
  xmlSchemaFree(schema);
  return rc;
}
