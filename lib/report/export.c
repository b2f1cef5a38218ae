/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export.c - a CyberTipline report for manual filing: the validated
 * report XML, each case's evidence and a manifest, written into a new
 * directory for a provider that files through NCMEC's web form.
 *
 * Nothing is written unless the XML validates.  The directory is created
 * with mode 0700 and must not exist yet (so an export never mixes with an
 * older one); every file is 0600 and fsynced, and the directory too,
 * before success is reported: it holds abuse media.  Evidence is read
 * from the service's evidence directory, whose layout docs/server.md
 * documents (DIR/case-<id>.bin); a case without kept evidence is listed in
 * the manifest with "file": null.
 */
#include "common/rfc3339.h"
#include "report/outbox.h"
#include "report/tipline.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_file(const char *dir, const char *name, const void *p, size_t n, vigil_error *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return vigil__seterr(err, VIGIL_EIO, "%s: %s", path, strerror(errno));
  const char *c = p;
  while (n) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = w < 0 ? errno : ENOSPC; /* a write of nothing sets no errno */
      close(fd);
      return vigil__seterr(err, VIGIL_EIO, "%s: %s", path, strerror(e));
    }
    c += w;
    n -= (size_t)w;
  }
  /* the descriptor is closed whatever fsync says, and the message names
   * the first failure, read before close can change errno */
  int e = fsync(fd) != 0 ? errno : 0;
  if (close(fd) != 0 && !e) e = errno;
  if (e) return vigil__seterr(err, VIGIL_EIO, "%s: %s", path, strerror(e));
  return VIGIL_OK;
}

/* The evidence of case id, or *data NULL when none is kept. */
static int read_evidence(const char *dir, int64_t id, uint8_t **data, size_t *len, vigil_error *err) {
  *data = NULL;
  *len = 0;
  if (!dir) return VIGIL_OK;
  char path[4096];
  snprintf(path, sizeof path, "%s/case-%lld.bin", dir, (long long)id);
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? VIGIL_OK : vigil__seterr(err, VIGIL_EIO, "%s: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 0 || (uint64_t)sb.st_size > ((uint64_t)1 << 34)) {
    close(fd);
    return vigil__seterr(err, VIGIL_EIO, "%s: not a regular file of at most 16 GiB", path);
  }
  size_t n = (size_t)sb.st_size;
  uint8_t *b = malloc(n ? n : 1);
  if (!b) {
    close(fd);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, b + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  if (got != n) {
    free(b);
    return vigil__seterr(err, VIGIL_EIO, "%s: short read", path);
  }
  *data = b;
  *len = n;
  return VIGIL_OK;
}

int vigil__tipline_export(const vigil__tipline_cfg *c, json_t *cases, const char *evidence_dir, int viewed,
                          const char *out_dir, char **xml_out, vigil_error *err) {
  if (xml_out) *xml_out = NULL;
  char *xml = NULL;
  size_t len = 0;
  int rc = vigil__tipline_build(c, cases, &xml, &len, err);
  if (!rc) rc = vigil__tipline_validate(c->schema, xml, len, err);
  if (rc) {
    free(xml);
    return rc;
  }
  if (mkdir(out_dir, 0700) != 0) {
    int e = errno;
    free(xml);
    return vigil__seterr(err, e == EEXIST ? VIGIL_EEXIST : VIGIL_EIO, "%s: %s", out_dir,
                         e == EEXIST ? "exists already (an export goes into a new directory)" : strerror(e));
  }
  rc = write_file(out_dir, "report.xml", xml, len, err);
  json_t *files = json_array();
  if (!files && !rc) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  for (size_t i = 0; !rc && i < json_array_size(cases); i++) {
    json_t *k = json_array_get(cases, i);
    int64_t id = (int64_t)json_integer_value(json_object_get(k, "id"));
    uint8_t *data;
    size_t n;
    if ((rc = read_evidence(evidence_dir, id, &data, &n, err))) break;
    const char *ext = "none", *type = data ? vigil__report_media(data, n, &ext) : NULL;
    char name[64];
    snprintf(name, sizeof name, "case-%lld.%s", (long long)id, ext);
    int have = data != NULL; /* the pointer is not looked at once freed */
    if (data) rc = write_file(out_dir, name, data, n, err);
    free(data);
    const char *cls = json_string_value(json_object_get(k, "classification"));
    int industry = cls && (!strcmp(cls, "A1") || !strcmp(cls, "A2") || !strcmp(cls, "B1") || !strcmp(cls, "B2"));
    if (!rc && json_array_append_new(files, json_pack("{s:I, s:s?, s:s?, s:I, s:s?, s:s?, s:s?, s:b}", "case_id",
                                                      (json_int_t)id, "file", have ? name : NULL, "media_type", type,
                                                      "bytes", (json_int_t)(have ? n : 0),
                                                      "industry_classification", industry ? cls : NULL, "md5",
                                                      json_string_value(json_object_get(k, "md5")), "sha256",
                                                      json_string_value(json_object_get(k, "sha256")),
                                                      "file_viewed_by_esp", viewed)) != 0)
      rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  if (!rc) {
    char at[VIGIL__RFC3339_MAX];
    vigil__rfc3339_ms(vigil__report_now_ms(), at);
    json_t *m = json_pack("{s:s, s:O, s:s}", "report", "report.xml", "files", files, "created_at", at);
    char *s = m ? json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    rc = s ? write_file(out_dir, "manifest.json", s, strlen(s), err) : vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    free(s);
    json_decref(m);
  }
  json_decref(files);
  if (!rc) {
    int dfd = open(out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int e = dfd < 0 || fsync(dfd) != 0 ? errno : 0;
    if (dfd >= 0) close(dfd);
    if (e) rc = vigil__seterr(err, VIGIL_EIO, "%s: %s", out_dir, strerror(e));
  }
  if (!rc && xml_out) *xml_out = xml;
  else free(xml);
  return rc;
}

int vigil_tipline_export(const char *config_path, const char *cases_json, const char *evidence_dir,
                         int viewed_by_esp, const char *out_dir, char **xml, vigil_error *err) {
  if (xml) *xml = NULL;
  json_error_t je;
  json_t *cases = json_loads(cases_json, JSON_REJECT_DUPLICATES, &je);
  if (!json_is_array(cases)) {
    json_decref(cases);
    return vigil__seterr(err, VIGIL_EINVAL, "cases: expected a JSON array of cases");
  }
  vigil__tipline_cfg c;
  int rc = vigil__tipline_cfg_load(config_path, &c, err);
  if (!rc) rc = vigil__tipline_export(&c, cases, evidence_dir, viewed_by_esp, out_dir, xml, err);
  vigil__tipline_cfg_free(&c);
  json_decref(cases);
  return rc;
}
