/* SPDX-License-Identifier: Apache-2.0 */
/*
 * submit.c - submitting one report to the CyberTipline, resumably.
 *
 * The report_reports row holds everything a submission needs and
 * everything it learnt: the validated XML, per case the facts for its
 * fileDetails and, once uploaded, its file id and whether its fileinfo
 * was accepted, the CyberTipline's report id, the step reached and every
 * answer.  The row is updated after each step, so the outbox's next
 * attempt (after a 5xx, a timeout or a crash) continues from there: a
 * report id once recorded is never submitted again, a file once uploaded
 * never uploaded again.  The one window left is a crash between the
 * CyberTipline's answer to submit and the row's update, which the API
 * gives no way to close (there is no idempotency key); the history shows
 * the attempt.
 *
 * When a step after submit fails in a way retrying cannot fix (the
 * CyberTipline refuses a file or its details), or fails on the outbox's
 * last attempt in a way that was worth retrying (a timeout, a 5xx), the
 * report cannot be completed: it is retracted and the delivery goes dead
 * with the reason.
 * "Already finished" (5102) means an earlier attempt's finish went through
 * and is success; "already retracted" (5101) is the end.
 */
#include "report/cybertip.h"
#include "report/tipline.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct sub {
  char state[16];
  char report_id[32];
  json_t *files;     /* [{case_id, md5, sha256, classification, viewed, file_id, info}] */
  json_t *responses; /* [{step, http, code, description, at}] */
  char *xml;
} sub;

static int load(vigil__sql *db, int64_t rid, sub *s, vigil_error *err) {
  memset(s, 0, sizeof *s);
  const vigil__val p[] = {vigil__vint(rid)};
  vigil__rows *rows = NULL;
  int rc = vigil__sql_run(db, "SELECT state, ncmec_report_id, files, responses, xml FROM report_reports WHERE id = $1",
                          p, 1, &rows, NULL, err);
  if (rc) return vigil__prefixerr(err, rc, "load report");
  if (vigil__rows_count(rows) != 1) {
    vigil__rows_free(rows);
    return vigil__seterr(err, VIGIL_ENOTFOUND, "no report %lld", (long long)rid);
  }
  snprintf(s->state, sizeof s->state, "%s", vigil__rows_text(rows, 0, 0));
  snprintf(s->report_id, sizeof s->report_id, "%s", vigil__rows_text(rows, 0, 1));
  s->files = json_loads(vigil__rows_text(rows, 0, 2), 0, NULL);
  s->responses = json_loads(vigil__rows_text(rows, 0, 3), 0, NULL);
  s->xml = strdup(vigil__rows_text(rows, 0, 4));
  vigil__rows_free(rows);
  if (!json_is_array(s->files) || !json_is_array(s->responses) || !s->xml)
    return vigil__seterr(err, VIGIL_ECORRUPT, "report %lld: unreadable submission state", (long long)rid);
  return VIGIL_OK;
}

static void unload(sub *s) {
  json_decref(s->files);
  json_decref(s->responses);
  free(s->xml);
}

static int save(vigil__sql *db, int64_t rid, sub *s, vigil_error *err) {
  char *f = json_dumps(s->files, JSON_COMPACT), *r = json_dumps(s->responses, JSON_COMPACT);
  int rc = VIGIL_OK;
  if (!f || !r) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  const vigil__val p[] = {vigil__vtext(s->state), vigil__vtext(s->report_id[0] ? s->report_id : NULL),
                          vigil__vtext(f), vigil__vtext(r), vigil__vint(rid)};
  if (!rc)
    rc = vigil__sql_run(db,
                        "UPDATE report_reports SET state = $1, ncmec_report_id = $2, files = $3, responses = $4"
                        " WHERE id = $5",
                        p, 5, NULL, NULL, err);
  free(f);
  free(r);
  return rc ? vigil__prefixerr(err, rc, "save report state") : VIGIL_OK;
}

static void note(sub *s, const char *step, const vigil__ct_resp *r, const char *error) {
  json_array_append_new(s->responses,
                        json_pack("{s:s, s:i, s:i, s:s, s:s?, s:I}", "step", step, "http", r->http, "code", r->code,
                                  "description", r->desc, "error", error, "at",
                                  (json_int_t)(vigil__report_now_ms() / 1000)));
}

static int read_evidence(const char *dir, int64_t id, uint8_t **data, size_t *len) {
  *data = NULL;
  *len = 0;
  if (!dir) return 0;
  char path[4096];
  snprintf(path, sizeof path, "%s/case-%lld.bin", dir, (long long)id);
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 0 : -1;
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 0 || sb.st_size > ((off_t)1 << 32)) {
    close(fd);
    return -1;
  }
  size_t n = (size_t)sb.st_size, got = 0;
  uint8_t *b = malloc(n ? n : 1);
  while (b && got < n) {
    ssize_t r = read(fd, b + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  if (!b || got != n) {
    free(b);
    return -1;
  }
  *data = b;
  *len = n;
  return 0;
}

/* After a failure that retrying cannot fix: retract, record, give up. */
static int give_up(vigil__sql *db, const vigil__cybertip *c, int64_t rid, sub *s, int rc, vigil_error *err) {
  char why[VIGIL_ERROR_MAX];
  snprintf(why, sizeof why, "%s", err ? err->message : "refused");
  if (s->report_id[0]) {
    vigil__ct_resp r;
    vigil_error e2;
    int rrc = vigil__ct_call(c, "retract", NULL, s->report_id, NULL, NULL, 0, &r, &e2);
    note(s, "retract", &r, rrc ? e2.message : NULL);
    snprintf(s->state, sizeof s->state, "%s", rrc == VIGIL_OK || r.code == 5101 ? "retracted" : "failed");
  } else {
    snprintf(s->state, sizeof s->state, "failed");
  }
  save(db, rid, s, NULL);
  vigil__seterr(err, rc, "%s; report %s", why, s->state);
  return rc;
}

/* Before each call of an outbox attempt: the claim is renewed for the
 * call's timeout plus the outbox's lease (time for the row's update after
 * it), or the attempt stops when another node has claimed the delivery
 * since. */
static int keep_claim(vigil__sql *db, const vigil__ct_claim *claim, const vigil__cybertip *c, const char *step,
                      int *lost, vigil_error *err) {
  if (!claim || !claim->d) return VIGIL_OK;
  int64_t lease = (int64_t)c->timeout_s * 1000 + claim->lease_ms;
  int held = 0;
  int rc = vigil__outbox_renew(db, claim->d, lease, &held, err);
  if (!rc && !held) {
    *lost = 1;
    rc = vigil__seterr(err, VIGIL_EIO, "%s: not sent: the delivery's claim was taken over (lease ran out)", step);
  }
  return rc;
}

int vigil__cybertip_send(vigil__sql *db, const char *config_path, const char *evidence_dir, int64_t rid,
                         const vigil__ct_claim *claim, int *permanent, vigil_error *err) {
  int last = claim && claim->last, lost = 0;
  *permanent = 0;
  sub s;
  int rc = load(db, rid, &s, err);
  if (rc) {
    *permanent = rc != VIGIL_ESTORE;
    unload(&s);
    return rc;
  }
  if (!strcmp(s.state, "finished")) {
    unload(&s);
    return VIGIL_OK;
  }
  if (!strcmp(s.state, "retracted") || !strcmp(s.state, "failed")) {
    *permanent = 1;
    unload(&s);
    return vigil__seterr(err, VIGIL_EEXIST, "report %lld was %s", (long long)rid, s.state);
  }
  vigil__cybertip c;
  if ((rc = vigil__cybertip_load(config_path, &c, err))) {
    unload(&s);
    return rc; /* configuration: retried, so fixing it lets the delivery through */
  }
  vigil__ct_resp r;
  if (!s.report_id[0]) {
    if ((rc = keep_claim(db, claim, &c, "submit", &lost, err))) goto out;
    rc = vigil__ct_call(&c, "submit", s.xml, NULL, NULL, NULL, 0, &r, err);
    note(&s, "submit", &r, rc ? err->message : NULL);
    if (!rc && !r.report_id[0]) rc = vigil__seterr(err, VIGIL_EIO, "submit: no reportId in the answer");
    if (!rc) {
      snprintf(s.report_id, sizeof s.report_id, "%s", r.report_id);
      snprintf(s.state, sizeof s.state, "submitted");
    }
    save(db, rid, &s, NULL); /* a failed save is retried with the next step's */
    if (rc) goto out;
  }
  size_t i;
  json_t *f;
  json_array_foreach(s.files, i, f) {
    int64_t cid = (int64_t)json_integer_value(json_object_get(f, "case_id"));
    if (!json_string_value(json_object_get(f, "file_id"))) {
      uint8_t *data;
      size_t len;
      if (read_evidence(evidence_dir, cid, &data, &len) != 0) {
        rc = vigil__seterr(err, VIGIL_EIO, "evidence of case %lld unreadable", (long long)cid);
        goto out;
      }
      if (!data) continue; /* no media kept: the report carries the hashes only */
      /* named with its kind's extension, so a video arrives as one */
      const char *ext;
      vigil__report_media(data, len, &ext);
      char fname[64];
      snprintf(fname, sizeof fname, "case-%lld.%s", (long long)cid, ext);
      if ((rc = keep_claim(db, claim, &c, "upload", &lost, err))) {
        free(data);
        goto out;
      }
      rc = vigil__ct_call(&c, "upload", NULL, s.report_id, fname, data, len, &r, err);
      free(data);
      note(&s, "upload", &r, rc ? err->message : NULL);
      if (!rc) {
        json_object_set_new(f, "file_id", json_string(r.file_id));
        json_object_set_new(f, "file_name", json_string(fname)); /* fileDetails names it so */
      }
      save(db, rid, &s, NULL);
      if (rc) goto out;
    }
    if (!json_is_true(json_object_get(f, "info"))) {
      char *fx;
      size_t fl;
      char rid_s[32];
      snprintf(rid_s, sizeof rid_s, "%s", s.report_id);
      rc = vigil__tipline_file_xml(f, strtoll(rid_s, NULL, 10), json_string_value(json_object_get(f, "file_id")),
                                   json_is_true(json_object_get(f, "viewed")), &fx, &fl, err);
      if (rc) goto out;
      if ((rc = keep_claim(db, claim, &c, "fileinfo", &lost, err))) {
        free(fx);
        goto out;
      }
      rc = vigil__ct_call(&c, "fileinfo", fx, NULL, NULL, NULL, 0, &r, err);
      free(fx);
      note(&s, "fileinfo", &r, rc ? err->message : NULL);
      if (!rc) json_object_set_new(f, "info", json_true());
      save(db, rid, &s, NULL);
      if (rc) goto out;
    }
  }
  if ((rc = keep_claim(db, claim, &c, "finish", &lost, err))) goto out;
  rc = vigil__ct_call(&c, "finish", NULL, s.report_id, NULL, NULL, 0, &r, err);
  note(&s, "finish", &r, rc ? err->message : NULL);
  if (rc == VIGIL_EEXIST && r.code == 5102) rc = VIGIL_OK; /* an earlier finish went through */
  if (!rc) snprintf(s.state, sizeof s.state, "finished");
  save(db, rid, &s, NULL);
out:
  if (lost) {
    /* another node sends it now: leave the row and the report to it */
  } else if (rc && rc != VIGIL_EIO && rc != VIGIL_ENOMEM && rc != VIGIL_ESTORE) {
    *permanent = 1;
    rc = give_up(db, &c, rid, &s, rc, err);
  } else if (rc == VIGIL_EIO && last && s.report_id[0]) {
    /* the outbox's last attempt: nothing will complete this report */
    *permanent = 1;
    vigil__prefixerr(err, rc, "last attempt");
    rc = give_up(db, &c, rid, &s, rc, err);
  }
  memset(&c, 0, sizeof c);
  unload(&s);
  return rc;
}
