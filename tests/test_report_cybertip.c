/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_report_cybertip.c - submitting reports to a CyberTipline test
 * double: a libmicrohttpd server in this file implementing submit,
 * upload, fileinfo, finish and retract with the documented response
 * codes, checking HTTP Basic credentials and validating every XML it
 * receives against the CyberTipline schema (../shared; skipped when
 * absent), with failure injection per step.
 *
 * Proves: the full flow; a 5xx or a server failure code is retried and
 * the retry resumes (one report, never a second submit); "already
 * finished" on a repeated finish is success; a refused file's details
 * retract the report and end the delivery; bad credentials are a clear,
 * permanent error that never shows the password.  Timeouts: the double
 * stalls past ncmec.api.timeout_s, before doing a step (the step never
 * happened) or after it (the answer is lost); either is retried and the
 * retry resumes, and on the outbox's last attempt a timeout after submit
 * retracts the report.  An attempt keeps its outbox claim while a step
 * hangs, and stops when another node has taken the claim over.  vigil
 * serve killed with -9 while each step is in flight resumes the
 * submission after a restart: one report, one finish.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "db/sql.h"
#include "report/cybertip.h"
#include "report/holds.h"
#include "report/tipline.h"
#include "serveproc.h"
#include "testutil.h"

static char xsd[600], dir[256], cfgpath[400], credpath[400], evdir[400];

/* The first n-byte needle in hay (memmem is not in POSIX). */
static const char *find(const char *hay, size_t len, const char *needle, size_t n) {
  for (size_t i = 0; n <= len && i <= len - n; i++)
    if (!memcmp(hay + i, needle, n)) return hay + i;
  return NULL;
}

static void hex_digest(const void *p, size_t n, const EVP_MD *md, char *out) {
  uint8_t d[EVP_MAX_MD_SIZE];
  unsigned k = 0;
  assert_int_equal(EVP_Digest(p, n, d, &k, md, NULL), 1);
  for (unsigned i = 0; i < k; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* ---- the double ------------------------------------------------------------ */

enum { SUBMIT, UPLOAD, FILEINFO, FINISH, RETRACT, NSTEPS };
static const char *const step_names[] = {"submit", "upload", "fileinfo", "finish", "retract"};

typedef struct body {
  char *p;
  size_t n;
} body;

typedef struct dbl {
  struct MHD_Daemon *d;
  pthread_mutex_t mu;
  int calls[NSTEPS];
  int inject_n[NSTEPS], inject_http[NSTEPS], inject_code[NSTEPS];
  int stall_n[NSTEPS], stall_after[NSTEPS]; /* stall past the client's timeout, before or after the step */
  int stalled[NSTEPS];                      /* stalls begun */
  int slow_ms;                              /* every answer this late (within the client's timeout) */
  int next_report;
  int finished[64], retracted[64];
  int invalid_xml;                 /* XML that did not validate */
  body last_upload, last_fileinfo; /* what the last upload and fileinfo carried, as received */
} dbl;
static dbl D;

static enum MHD_Result send_xml(struct MHD_Connection *c, int http, const char *xml) {
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(xml), (void *)xml, MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(r, "Content-Type", "text/xml");
  enum MHD_Result ok = MHD_queue_response(c, (unsigned)http, r);
  MHD_destroy_response(r);
  return ok;
}

#define STALL_MS 1600 /* past the 1 s of ncmec.api.timeout_s in write_cfg */

static enum MHD_Result reply(struct MHD_Connection *c, int code, const char *desc, const char *extra);

/* A step done but its answer lost: the client has given up by now. */
static enum MHD_Result stalled(struct MHD_Connection *c, int code, const char *desc, const char *extra) {
  tu_sleep_ms(STALL_MS);
  return reply(c, code, desc, extra);
}

static enum MHD_Result reply(struct MHD_Connection *c, int code, const char *desc, const char *extra) {
  char xml[600];
  snprintf(xml, sizeof xml,
           "<?xml version=\"1.0\" encoding=\"UTF-8\"?><reportResponse><responseCode>%d</responseCode>"
           "<responseDescription>%s</responseDescription>%s</reportResponse>",
           code, desc, extra ? extra : "");
  return send_xml(c, 200, xml);
}

/* the report id of "id=N" or of the multipart body's id field */
static int id_of(const body *b) {
  const char *p = b->p ? strstr(b->p, "id=") : NULL;
  if (p) return atoi(p + 3);
  p = b->p ? strstr(b->p, "name=\"id\"") : NULL;
  if (p && (p = strstr(p, "\r\n\r\n"))) return atoi(p + 4);
  return -1;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *data, size_t *size, void **state) {
  (void)cls, (void)version, (void)method;
  body *b = *state;
  if (!b) {
    *state = calloc(1, sizeof(body));
    return *state ? MHD_YES : MHD_NO;
  }
  if (*size) {
    char *q = realloc(b->p, b->n + *size + 1);
    if (!q) return MHD_NO;
    memcpy(q + b->n, data, *size);
    b->p = q;
    b->n += *size;
    b->p[b->n] = 0;
    *size = 0;
    return MHD_YES;
  }
  int step = -1;
  for (int i = 0; i < NSTEPS; i++)
    if (!strcmp(url + 1, step_names[i])) step = i;
  if (step < 0) return reply(c, 4000, "Invalid request", NULL);
  char *user = NULL, *pass = NULL;
  user = MHD_basic_auth_get_username_password(c, &pass);
  int authed = user && pass && !strcmp(user, "esp") && !strcmp(pass, "s3cret");
  MHD_free(user);
  MHD_free(pass);
  if (!authed) return reply(c, 2000, "Authentication Required", NULL);
  pthread_mutex_lock(&D.mu);
  D.calls[step]++;
  int inj = D.inject_n[step] > 0;
  int ihttp = D.inject_http[step], icode = D.inject_code[step];
  if (inj) D.inject_n[step]--;
  int stl = D.stall_n[step] > 0, after = D.stall_after[step];
  if (stl) D.stall_n[step]--, D.stalled[step]++;
  if (stl && !after) D.calls[step]--; /* never done */
  int slow = D.slow_ms;
  pthread_mutex_unlock(&D.mu);
  if (slow) tu_sleep_ms(slow);
  if (stl && !after) {
    tu_sleep_ms(STALL_MS);
    return send_xml(c, 504, "<html>too late</html>");
  }
  enum MHD_Result (*answer_with)(struct MHD_Connection *, int, const char *, const char *) = stl ? stalled : reply;
  if (inj && ihttp) return send_xml(c, ihttp, "<html>unavailable</html>");
  if (inj) return answer_with(c, icode, "Injected failure", NULL);
  char extra[200];
  if (step == UPLOAD || step == FILEINFO) {
    body *keep = step == UPLOAD ? &D.last_upload : &D.last_fileinfo;
    char *copy = malloc(b->n + 1);
    if (!copy) return MHD_NO;
    if (b->n) memcpy(copy, b->p, b->n);
    copy[b->n] = 0;
    pthread_mutex_lock(&D.mu);
    free(keep->p);
    keep->p = copy;
    keep->n = b->n;
    pthread_mutex_unlock(&D.mu);
  }
  if (step == SUBMIT || step == FILEINFO) {
    if (vigil__tipline_validate(xsd, b->p ? b->p : "", b->n, NULL) != VIGIL_OK) {
      pthread_mutex_lock(&D.mu);
      D.invalid_xml++;
      pthread_mutex_unlock(&D.mu);
      return answer_with(c, 4100, "Validation failed", NULL);
    }
  }
  if (step == SUBMIT) {
    pthread_mutex_lock(&D.mu);
    int id = ++D.next_report;
    pthread_mutex_unlock(&D.mu);
    snprintf(extra, sizeof extra, "<reportId>%d</reportId>", id);
    return answer_with(c, 0, "Success", extra);
  }
  if (step == UPLOAD) {
    int id = id_of(b);
    if (id <= 0 || id > D.next_report) return reply(c, 5001, "Report does not exist", NULL);
    snprintf(extra, sizeof extra, "<reportId>%d</reportId><fileId>f%d-%d</fileId><hash>00</hash>", id, id,
             D.calls[UPLOAD]);
    return answer_with(c, 0, "Success", extra);
  }
  if (step == FILEINFO) return answer_with(c, 0, "Success", NULL);
  int id = id_of(b);
  if (id <= 0 || id >= 64 || id > D.next_report) return reply(c, 5001, "Report does not exist", NULL);
  pthread_mutex_lock(&D.mu);
  int code = 0;
  if (step == FINISH) code = D.retracted[id] ? 5101 : D.finished[id]++ ? 5102 : 0;
  else code = D.finished[id] ? 5102 : D.retracted[id]++ ? 5101 : 0;
  pthread_mutex_unlock(&D.mu);
  return answer_with(c, code, code ? "Already done" : "Success", NULL);
}

static void completed(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode t) {
  (void)cls, (void)c, (void)t;
  body *b = *state;
  if (b) free(b->p);
  free(b);
  *state = NULL;
}

static int dbl_start(void) {
  memset(&D, 0, sizeof D);
  pthread_mutex_init(&D.mu, NULL);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  D.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, answer, NULL,
                         MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
                         MHD_OPTION_END);
  assert_non_null(D.d);
  return MHD_get_daemon_info(D.d, MHD_DAEMON_INFO_BIND_PORT)->port;
}

static void dbl_stop(void) {
  MHD_stop_daemon(D.d);
  free(D.last_upload.p);
  free(D.last_fileinfo.p);
  pthread_mutex_destroy(&D.mu);
}

static void inject(int step, int n, int http, int code) {
  pthread_mutex_lock(&D.mu);
  D.inject_n[step] = n;
  D.inject_http[step] = http;
  D.inject_code[step] = code;
  pthread_mutex_unlock(&D.mu);
}

/* The next n calls of step stall past the client's timeout: before the
 * step is done (after 0) or after it (after 1: the answer is lost). */
static void stall(int step, int n, int after) {
  pthread_mutex_lock(&D.mu);
  D.stall_n[step] = n;
  D.stall_after[step] = after;
  pthread_mutex_unlock(&D.mu);
}

/* ---- the sender ----------------------------------------------------------- */

static void write_cfg(int port, const char *password) {
  FILE *f = fopen(credpath, "w");
  assert_non_null(f);
  fprintf(f, "{\"username\":\"esp\",\"password\":\"%s\"}", password);
  fclose(f);
  chmod(credpath, 0600);
  f = fopen(cfgpath, "w");
  assert_non_null(f);
  fprintf(f,
          "{\"ncmec\":{\"schema\":\"%s\",\"reporter\":{\"email\":\"trust@example.org\"},"
          "\"api\":{\"environment\":\"test\",\"url\":\"http://127.0.0.1:%d/\",\"credentials\":\"%s\","
          "\"timeout_s\":1}}}",
          xsd, port, credpath);
  fclose(f);
}

/* A report row for two confirmed cases of one uploader; case 1 has evidence. */
static int64_t new_report(vigil__sql *db) {
  static int n;
  json_t *cases = json_pack("[{s:i, s:s, s:s, s:s, s:s, s:s}, {s:i, s:s, s:s, s:s, s:s, s:s}]", "id", 1, "status",
                            "confirmed", "classification", "A1", "md5", "0123456789abcdef0123456789abcdef",
                            "uploader_id", "u", "created_at", "2026-11-24T22:10:00Z", "id", 2, "status", "confirmed",
                            "classification", "B2", "md5", "fedcba9876543210fedcba9876543210", "uploader_id", "u",
                            "created_at", "2026-11-24T22:11:00Z");
  vigil__tipline_cfg c;
  assert_int_equal(vigil__tipline_cfg_load(cfgpath, &c, NULL), 0);
  char *xml;
  size_t len;
  assert_int_equal(vigil__tipline_build(&c, cases, &xml, &len, NULL), 0);
  vigil__tipline_cfg_free(&c);
  json_t *files = json_pack("[{s:i, s:s, s:s, s:b}, {s:i, s:s, s:s, s:b}]", "case_id", 1, "md5",
                            "0123456789abcdef0123456789abcdef", "classification", "A1", "viewed", 1, "case_id", 2,
                            "md5", "fedcba9876543210fedcba9876543210", "classification", "B2", "viewed", 0);
  char *fj = json_dumps(files, JSON_COMPACT);
  int64_t id;
  assert_int_equal(vigil__report_record(db, 1, "[1,2]", "submit", NULL, "k", xml, "pending", fj, &id, NULL), 0);
  free(fj);
  free(xml);
  json_decref(files);
  json_decref(cases);
  n++;
  return id;
}

static void row(vigil__sql *db, int64_t id, char *state, size_t cap, json_t **responses) {
  const vigil__val p[] = {vigil__vint(id)};
  vigil__rows *r = NULL;
  assert_int_equal(vigil__sql_run(db, "SELECT state, responses FROM report_reports WHERE id = $1", p, 1, &r, NULL, NULL), 0);
  snprintf(state, cap, "%s", vigil__rows_text(r, 0, 0));
  if (responses) *responses = json_loads(vigil__rows_text(r, 0, 1), 0, NULL);
  vigil__rows_free(r);
}

static vigil__sql *open_db(void) {
  char loc[400];
  snprintf(loc, sizeof loc, "%s/ct.db", dir);
  vigil__sql *db;
  assert_int_equal(vigil__sql_open(&db, loc, NULL), 0);
  assert_int_equal(vigil__report_schema(db, NULL), 0);
  return db;
}

static void test_flow(void **state) {
  (void)state;
  int port = dbl_start();
  write_cfg(port, "s3cret");
  vigil__sql *db = open_db();
  char st[32];
  int permanent;
  vigil_error e;

  /* the whole flow: submit, upload and fileinfo of case 1 (case 2 kept no media: its
   * hashes are in the report, it has no file to describe), finish */
  int64_t a = new_report(db);
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, a, NULL, &permanent, &e), 0);
  row(db, a, st, sizeof st, NULL);
  assert_string_equal(st, "finished");
  assert_int_equal(D.calls[SUBMIT], 1);
  assert_int_equal(D.calls[UPLOAD], 1);
  assert_int_equal(D.calls[FILEINFO], 1);
  assert_int_equal(D.calls[FINISH], 1);
  assert_int_equal(D.invalid_xml, 0); /* everything sent validated at the other end */
  /* sending a finished report again does nothing */
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, a, NULL, &permanent, &e), 0);
  assert_int_equal(D.calls[SUBMIT], 1);

  /* a 503 on upload, then a server failure code on finish: retried, resumed */
  int64_t b = new_report(db);
  inject(UPLOAD, 1, 503, 0);
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, b, NULL, &permanent, &e), VIGIL_EIO);
  assert_int_equal(permanent, 0);
  row(db, b, st, sizeof st, NULL);
  assert_string_equal(st, "submitted");
  inject(FINISH, 1, 0, 1000);
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, b, NULL, &permanent, &e), VIGIL_EIO);
  assert_non_null(strstr(e.message, "server failure 1000"));
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, b, NULL, &permanent, &e), 0);
  row(db, b, st, sizeof st, NULL);
  assert_string_equal(st, "finished");
  assert_int_equal(D.calls[SUBMIT], 2); /* one per report, never a second */
  assert_int_equal(D.calls[UPLOAD], 3); /* the failed one and its retry */

  /* finish went through but its answer was lost: 5102 on the retry is success */
  int64_t c = new_report(db);
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, c, NULL, &permanent, &e), 0);
  const vigil__val p[] = {vigil__vint(c)};
  assert_int_equal(vigil__sql_run(db, "UPDATE report_reports SET state = 'submitted' WHERE id = $1", p, 1, NULL, NULL,
                                  NULL), 0);
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, c, NULL, &permanent, &e), 0);
  row(db, c, st, sizeof st, NULL);
  assert_string_equal(st, "finished");

  /* file details refused: the report cannot be completed, so it is retracted */
  int64_t d = new_report(db);
  inject(FILEINFO, 1, 0, 4100);
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, d, NULL, &permanent, &e), VIGIL_EINVAL);
  assert_int_equal(permanent, 1);
  assert_non_null(strstr(e.message, "retracted"));
  row(db, d, st, sizeof st, NULL);
  assert_string_equal(st, "retracted");
  assert_int_equal(D.calls[RETRACT], 1);
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, d, NULL, &permanent, &e), VIGIL_EEXIST);
  assert_int_equal(permanent, 1);

  const vigil__ct_claim last = {NULL, 0, 1}; /* the outbox's last attempt */
  /* timeouts: an upload that never happened is retried, and the retry resumes */
  int64_t t1 = new_report(db);
  int subs = D.calls[SUBMIT], ups = D.calls[UPLOAD], retracts = D.calls[RETRACT];
  stall(UPLOAD, 1, 0);
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, t1, NULL, &permanent, &e), VIGIL_EIO);
  assert_int_equal(permanent, 0);
  assert_non_null(strstr(e.message, "upload: no answer within 1 s (timed out"));
  row(db, t1, st, sizeof st, NULL);
  assert_string_equal(st, "submitted");
  assert_int_equal(D.calls[UPLOAD], ups); /* it never happened */
  /* a finish that went through but whose answer was lost: the retry's 5102 is success */
  stall(FINISH, 1, 1);
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, t1, NULL, &permanent, &e), VIGIL_EIO);
  assert_int_equal(permanent, 0);
  assert_non_null(strstr(e.message, "finish: no answer within 1 s"));
  row(db, t1, st, sizeof st, NULL);
  assert_string_equal(st, "submitted");
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, t1, NULL, &permanent, &e), 0);
  row(db, t1, st, sizeof st, NULL);
  assert_string_equal(st, "finished");
  assert_int_equal(D.calls[SUBMIT], subs + 1); /* one report */
  assert_int_equal(D.calls[UPLOAD], ups + 1);  /* one file */
  assert_int_equal(D.calls[RETRACT], retracts);
  /* a timeout on the outbox's last attempt, after submit: the report can never be
   * completed, so it is retracted and the delivery ends */
  int64_t t2 = new_report(db);
  stall(FILEINFO, 1, 0);
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, t2, &last, &permanent, &e), VIGIL_EIO);
  assert_int_equal(permanent, 1);
  assert_non_null(strstr(e.message, "timed out"));
  assert_non_null(strstr(e.message, "report retracted"));
  row(db, t2, st, sizeof st, NULL);
  assert_string_equal(st, "retracted");
  assert_int_equal(D.calls[RETRACT], retracts + 1);
  /* a timeout of submit itself on the last attempt: no report id, nothing to retract */
  int64_t t3 = new_report(db);
  stall(SUBMIT, 1, 0);
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, t3, &last, &permanent, &e), VIGIL_EIO);
  row(db, t3, st, sizeof st, NULL);
  assert_string_equal(st, "pending");
  assert_int_equal(D.calls[RETRACT], retracts + 1);

  /* bad credentials: permanent, clear, and the password is nowhere */
  write_cfg(port, "wrong-pw");
  int64_t f = new_report(db);
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, f, NULL, &permanent, &e), VIGIL_EINVAL);
  assert_int_equal(permanent, 1);
  assert_non_null(strstr(e.message, "credentials"));
  assert_null(strstr(e.message, "wrong-pw"));
  json_t *resp;
  row(db, f, st, sizeof st, &resp);
  assert_string_equal(st, "failed");
  char *rs = json_dumps(resp, 0);
  assert_null(strstr(rs, "wrong-pw"));
  assert_non_null(strstr(rs, "\"code\": 2000"));
  free(rs);
  json_decref(resp);
  /* credentials readable by others are refused before anything is sent */
  write_cfg(port, "s3cret");
  chmod(credpath, 0644);
  int64_t g = new_report(db);
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, g, NULL, &permanent, &e), VIGIL_EINVAL);
  assert_non_null(strstr(e.message, "chmod 600"));
  vigil__sql_close(db);
  dbl_stop();
}

/* An outbox attempt keeps its claim while it runs: renewed before each
 * call past the call's timeout, so a step that hangs does not let another
 * node claim the delivery mid-submission; and a claim another node has
 * taken over stops the attempt before it calls the CyberTipline again. */
/* A case whose evidence is a video (a WebM clip, as a video match keeps
 * it): the upload names it case-<id>.webm with type video/webm and carries
 * the clip intact; its fileDetails validate and carry the clip's MD5 and
 * SHA-256 as the original file's. */
static void test_video_upload(void **state) {
  (void)state;
  size_t clip_len;
  uint8_t *clip = tu_slurp(VIGIL_SOURCE_DIR "/fuzz/seeds/fuzz_video/vp8.webm", &clip_len);
  assert_non_null(clip);
  char md5[33], sha[65];
  hex_digest(clip, clip_len, EVP_md5(), md5);
  hex_digest(clip, clip_len, EVP_sha256(), sha);
  char vdir[500], ev[600];
  snprintf(vdir, sizeof vdir, "%s/video-evidence", dir);
  assert_int_equal(mkdir(vdir, 0700), 0);
  snprintf(ev, sizeof ev, "%s/case-7.bin", vdir);
  FILE *f = fopen(ev, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(clip, 1, clip_len, f), clip_len);
  fclose(f);
  int port = dbl_start();
  write_cfg(port, "s3cret");
  vigil__sql *db = open_db();
  json_t *cases =
      json_pack("[{s:i, s:s, s:s, s:s, s:s, s:s, s:s}]", "id", 7, "status", "confirmed", "classification", "A1", "md5",
                md5, "sha256", sha, "uploader_id", "video-user", "created_at", "2026-11-24T22:10:00Z");
  vigil__tipline_cfg c;
  assert_int_equal(vigil__tipline_cfg_load(cfgpath, &c, NULL), 0);
  char *xml;
  size_t len;
  assert_int_equal(vigil__tipline_build(&c, cases, &xml, &len, NULL), 0);
  vigil__tipline_cfg_free(&c);
  json_t *files = json_pack("[{s:i, s:s, s:s, s:s, s:b}]", "case_id", 7, "md5", md5, "sha256", sha, "classification",
                            "A1", "viewed", 1);
  char *fj = json_dumps(files, JSON_COMPACT);
  int64_t id;
  assert_int_equal(vigil__report_record(db, 7, "[7]", "submit", NULL, "k", xml, "pending", fj, &id, NULL), 0);
  free(fj);
  free(xml);
  json_decref(files);
  json_decref(cases);
  int permanent;
  vigil_error e;
  if (vigil__cybertip_send(db, cfgpath, vdir, id, NULL, &permanent, &e)) fail_msg("send: %s", e.message);
  char st[32];
  row(db, id, st, sizeof st, NULL);
  assert_string_equal(st, "finished");
  assert_int_equal(D.calls[UPLOAD], 1);
  assert_int_equal(D.calls[FILEINFO], 1);
  assert_int_equal(D.invalid_xml, 0);
  /* the multipart file part: its name, its type, then the clip itself */
  const body *u = &D.last_upload;
  assert_non_null(u->p);
  const char *part = find(u->p, u->n, "filename=\"case-7.webm\"", 22);
  assert_non_null(part);
  const char *hdr_end = find(part, u->n - (size_t)(part - u->p), "\r\n\r\n", 4);
  assert_non_null(hdr_end);
  char hdrs[300];
  snprintf(hdrs, sizeof hdrs, "%.*s", (int)(hdr_end - part), part);
  assert_non_null(strstr(hdrs, "Content-Type: video/webm"));
  const uint8_t *data = (const uint8_t *)hdr_end + 4;
  assert_true((size_t)((const char *)data - u->p) + clip_len + 2 <= u->n);
  char got[65];
  hex_digest(data, clip_len, EVP_sha256(), got);
  assert_string_equal(got, sha);
  assert_memory_equal(data + clip_len, "\r\n--", 4); /* the part ends where the clip does */
  /* the file details: the original file's hashes */
  const body *fi = &D.last_fileinfo;
  assert_non_null(fi->p);
  char want[200];
  snprintf(want, sizeof want, "<originalFileHash hashType=\"MD5\">%s</originalFileHash>", md5);
  assert_non_null(strstr(fi->p, want));
  snprintf(want, sizeof want, "<originalFileHash hashType=\"SHA256\">%s</originalFileHash>", sha);
  assert_non_null(strstr(fi->p, want));
  assert_non_null(strstr(fi->p, "<industryClassification>A1</industryClassification>"));
  assert_non_null(strstr(fi->p, "<fileName>case-7.webm</fileName>"));
  vigil__sql_close(db);
  dbl_stop();
  free(clip);
}

static void test_claim_kept(void **state) {
  (void)state;
  int port = dbl_start();
  write_cfg(port, "s3cret");
  vigil__sql *db = open_db();
  int permanent;
  vigil_error e;
  char target[32];
  /* four calls of 600 ms each outlast a 1 s lease: still this attempt's afterwards */
  int64_t a = new_report(db), did;
  snprintf(target, sizeof target, "%lld", (long long)a);
  assert_int_equal(vigil__outbox_add(db, "ncmec", target, "report", "ct-claim-a", "{}", &did, NULL), 0);
  vigil__delivery *d;
  size_t n;
  assert_int_equal(vigil__outbox_claim(db, 10, 1000, "n1", &d, &n, NULL), 0);
  assert_int_equal(n, 1);
  vigil__ct_claim cl = {&d[0], 1000, 0};
  D.slow_ms = 600;
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, a, &cl, &permanent, &e), 0);
  D.slow_ms = 0;
  vigil__delivery *d2;
  size_t n2;
  assert_int_equal(vigil__outbox_claim(db, 10, 300, "n2", &d2, &n2, NULL), 0);
  assert_int_equal(n2, 0); /* no other node took it while it ran */
  vigil__delivery_free(d, n);
  /* the lease ran out and another node claimed it: no further call from here */
  int64_t b = new_report(db);
  snprintf(target, sizeof target, "%lld", (long long)b);
  assert_int_equal(vigil__outbox_add(db, "ncmec", target, "report", "ct-claim-b", "{}", &did, NULL), 0);
  const vigil__val p[] = {vigil__vint(did)};
  assert_int_equal(
      vigil__sql_run(db, "UPDATE report_deliveries SET next_at = 0 WHERE id != $1", p, 1, NULL, NULL, NULL),
      0); /* only b is due */
  assert_int_equal(
      vigil__sql_run(db, "UPDATE report_deliveries SET state = 'done' WHERE id != $1", p, 1, NULL, NULL, NULL), 0);
  assert_int_equal(vigil__outbox_claim(db, 10, 1, "n1", &d, &n, NULL), 0);
  assert_int_equal(n, 1);
  tu_sleep_ms(20);
  assert_int_equal(vigil__outbox_claim(db, 10, 60000, "n2", &d2, &n2, NULL), 0);
  assert_int_equal(n2, 1); /* n2 holds it now */
  int calls = D.calls[SUBMIT] + D.calls[UPLOAD];
  cl = (vigil__ct_claim){&d[0], 1, 1}; /* even on n1's last attempt */
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, b, &cl, &permanent, &e), VIGIL_EIO);
  assert_non_null(strstr(e.message, "taken over"));
  assert_int_equal(permanent, 0);
  assert_int_equal(D.calls[SUBMIT] + D.calls[UPLOAD], calls); /* nothing sent */
  char st[32];
  row(db, b, st, sizeof st, NULL);
  assert_string_equal(st, "pending"); /* nothing retracted: n2 sends it */
  vigil__ct_claim cl2 = {&d2[0], 60000, 0};
  assert_int_equal(vigil__cybertip_send(db, cfgpath, evdir, b, &cl2, &permanent, &e), 0);
  row(db, b, st, sizeof st, NULL);
  assert_string_equal(st, "finished");
  vigil__delivery_free(d, n);
  vigil__delivery_free(d2, n2);
  vigil__sql_close(db);
  dbl_stop();
}

/* ---- through vigil serve, killed mid-submission ------------------------------ */

static pid_t serve(const char *db, int *port, char *key, size_t cap) {
  char portf[400], keyf[400], outf[400];
  snprintf(portf, sizeof portf, "%s/port", dir);
  snprintf(keyf, sizeof keyf, "%s/key", dir);
  snprintf(outf, sizeof outf, "%s/out", dir);
  unlink(portf);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(outf, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
    execl(VIGIL_CLI, "vigil", "serve", "--init", "--listen", "127.0.0.1:0", "--db", db, "--threads", "2", "--port-file", portf,
          "--admin-key-file", keyf, "--report-config", cfgpath, "--evidence-dir", evdir, (char *)NULL);
    _exit(127);
  }
  *port = 0;
  *port = tu_wait_port_file(pid, portf);
  if (*port <= 0) { /* say why */
    size_t n;
    char *log = (char *)tu_slurp(outf, &n);
    print_message("vigil serve did not start:\n%s\n", log ? (n > 700 ? log + n - 700 : log) : "(no output)");
    free(log);
  }
  assert_true(*port > 0);
  if (!key[0]) {
    FILE *f = fopen(keyf, "r");
    assert_non_null(f);
    assert_non_null(fgets(key, (int)cap, f));
    key[strcspn(key, "\r\n")] = 0;
    fclose(f);
  }
  return pid;
}

/* The double's configuration, with short retries so the tests wait little. */
static void write_serve_cfg(int dport) {
  write_cfg(dport, "s3cret");
  FILE *f = fopen(cfgpath, "r+");
  assert_non_null(f);
  fseek(f, -1, SEEK_END);
  fputs(",\"outbox\":{\"poll_ms\":50,\"lease_s\":2,\"backoff_ms\":100,\"backoff_max_ms\":300},"
        "\"webhooks\":{\"timeout_s\":1}}",
        f);
  fclose(f);
}

static void test_through_serve(void **state) {
  (void)state;
  int dport = dbl_start();
  write_serve_cfg(dport);
  FILE *f;
  char db[400], key[128] = "";
  snprintf(db, sizeof db, "%s/serve.db", dir);
  int port;
  pid_t pid = serve(db, &port, key, sizeof key);
  int st;
  json_t *o = tu_call(port, "POST", "/v1/cases", key,
                      "{\"md5\":\"0123456789abcdef0123456789abcdef\",\"uploader_id\":\"u9\"}", &st);
  assert_int_equal(st, 201);
  int64_t id = (int64_t)json_integer_value(json_object_get(o, "id"));
  json_decref(o);
  char path[80], ev[500];
  snprintf(ev, sizeof ev, "%s/case-%lld.bin", evdir, (long long)id);
  f = fopen(ev, "wb");
  assert_non_null(f);
  fwrite("\x89PNG\r\n\x1a\n png", 1, 12, f);
  fclose(f);
  snprintf(path, sizeof path, "/v1/cases/%lld/decision", (long long)id);
  json_decref(tu_call(port, "POST", path, key, "{\"decision\":\"confirm\",\"classification\":\"A2\"}", &st));
  assert_int_equal(st, 200);
  /* uploads fail for a while: the server is killed during the retries */
  inject(UPLOAD, 1000, 503, 0);
  snprintf(path, sizeof path, "/v1/cases/%lld/report", (long long)id);
  o = tu_call(port, "POST", path, key, "{\"mode\":\"submit\",\"viewed_by_esp\":true}", &st);
  assert_int_equal(st, 202);
  json_decref(o);
  for (int i = 0; i < 200 && D.calls[UPLOAD] < 2; i++) tu_sleep_ms(20);
  assert_true(D.calls[UPLOAD] >= 2);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  inject(UPLOAD, 0, 0, 0);
  pid = serve(db, &port, key, sizeof key);
  for (int i = 0; i < 300 && D.calls[FINISH] < 1; i++) tu_sleep_ms(20);
  assert_int_equal(D.calls[FINISH], 1);
  assert_int_equal(D.calls[SUBMIT], 1); /* the restart resumed; no second report */
  assert_int_equal(D.calls[FILEINFO], 1);
  assert_int_equal(D.invalid_xml, 0);
  json_t *d = NULL;
  for (int i = 0; i < 100; i++) {
    json_decref(d);
    d = tu_call(port, "GET", "/v1/deliveries?state=done", key, NULL, &st);
    if (json_array_size(json_object_get(d, "deliveries")) == 1) break;
    tu_sleep_ms(20);
  }
  assert_int_equal(json_array_size(json_object_get(d, "deliveries")), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(d, "deliveries"), 0), "kind")),
                      "ncmec");
  json_decref(d);
  /* the report as the case shows it: finished, the CyberTipline's id, the file id, every answer */
  snprintf(path, sizeof path, "/v1/cases/%lld/reports", (long long)id);
  o = tu_call(port, "GET", path, key, NULL, &st);
  assert_int_equal(st, 200);
  json_t *rep = json_array_get(json_object_get(o, "reports"), 0);
  assert_string_equal(json_string_value(json_object_get(rep, "state")), "finished");
  assert_string_equal(json_string_value(json_object_get(rep, "ncmec_report_id")), "1");
  assert_non_null(json_string_value(json_object_get(json_array_get(json_object_get(rep, "files"), 0), "file_id")));
  assert_true(json_array_size(json_object_get(rep, "responses")) >= 5); /* submit, uploads, fileinfo, finish */
  /* RFC 3339 like every API time; a year ahead sorts after today as text */
  const char *until = json_string_value(json_object_get(o, "held_until"));
  assert_non_null(until);
  assert_int_equal(strlen(until), 24);
  assert_int_equal(until[23], 'Z');
  char today[32];
  time_t tnow = time(NULL);
  struct tm tm;
  strftime(today, sizeof today, "%Y-%m-%dT%H:%M:%S.000Z", gmtime_r(&tnow, &tm));
  assert_true(strcmp(until, today) > 0);
  json_decref(o);
  /* held for a year */
  snprintf(path, sizeof path, "/v1/cases/%lld/evidence", (long long)id);
  json_decref(tu_call(port, "DELETE", path, key, NULL, &st));
  assert_int_equal(st, 409);
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  dbl_stop();
}

/* A confirmed case of its own uploader with kept evidence, reported with
 * mode submit through the server on port. */
static void report_case(int port, const char *key, int n) {
  char body[200], path[80], ev[500];
  int st;
  snprintf(body, sizeof body, "{\"md5\":\"0123456789abcdef0123456789abcdef\",\"uploader_id\":\"k%d\"}", n);
  json_t *o = tu_call(port, "POST", "/v1/cases", key, body, &st);
  assert_int_equal(st, 201);
  int64_t id = (int64_t)json_integer_value(json_object_get(o, "id"));
  json_decref(o);
  snprintf(ev, sizeof ev, "%s/case-%lld.bin", evdir, (long long)id);
  FILE *f = fopen(ev, "wb");
  assert_non_null(f);
  fwrite("\x89PNG\r\n\x1a\n png", 1, 12, f);
  fclose(f);
  snprintf(path, sizeof path, "/v1/cases/%lld/decision", (long long)id);
  json_decref(tu_call(port, "POST", path, key, "{\"decision\":\"confirm\",\"classification\":\"A1\"}", &st));
  assert_int_equal(st, 200);
  snprintf(path, sizeof path, "/v1/cases/%lld/report", (long long)id);
  json_decref(tu_call(port, "POST", path, key, "{\"mode\":\"submit\"}", &st));
  assert_int_equal(st, 202);
}

/* vigil serve killed with -9 while each step of a submission is in
 * flight at the CyberTipline, before the step is done there or after
 * (its answer then never arrives).  After a restart each submission
 * finishes, with one report at the other end, except where the API gives
 * no way to know: killed after submit went through and before its answer
 * was kept, the restart submits again (the documented window). */
static void test_kill_at_every_step(void **state) {
  (void)state;
  static const struct {
    int step, after, submits;
  } at[] = {{SUBMIT, 0, 1}, {SUBMIT, 1, 2}, {FILEINFO, 1, 1}, {FINISH, 1, 1}}; /* upload: test_through_serve */
  int dport = dbl_start();
  write_serve_cfg(dport);
  char db[400], key[128] = "";
  snprintf(db, sizeof db, "%s/kill.db", dir);
  snprintf(evdir, sizeof evdir, "%s/evidence-kill", dir); /* an evidence directory is bound to one store */
  assert_int_equal(mkdir(evdir, 0700), 0);
  for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
    int port, step = at[k].step;
    pid_t pid = serve(db, &port, key, sizeof key);
    int submits = D.calls[SUBMIT], finishes = D.calls[FINISH], stalled = D.stalled[step];
    stall(step, 1, at[k].after);
    report_case(port, key, (int)k);
    for (int i = 0; i < 250 && D.stalled[step] == stalled; i++) tu_sleep_ms(20);
    assert_int_equal(D.stalled[step], stalled + 1); /* the step is in flight: now */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    pid = serve(db, &port, key, sizeof key);
    int want_finish = finishes + 1 + (step == FINISH && at[k].after); /* a lost finish is repeated */
    for (int i = 0; i < 400 && D.calls[FINISH] < want_finish; i++) tu_sleep_ms(20);
    if (D.calls[FINISH] != want_finish || D.calls[SUBMIT] != submits + at[k].submits)
      print_message("killed in %s (%s): %d finish, %d submit\n", step_names[step], at[k].after ? "after" : "before",
                    D.calls[FINISH] - finishes, D.calls[SUBMIT] - submits);
    assert_int_equal(D.calls[FINISH], want_finish);
    assert_int_equal(D.calls[SUBMIT], submits + at[k].submits);
    int st;
    json_t *d = NULL;
    for (int i = 0; i < 100; i++) { /* the delivery is done */
      json_decref(d);
      d = tu_call(port, "GET", "/v1/deliveries?state=done", key, NULL, &st);
      if (json_array_size(json_object_get(d, "deliveries")) == k + 1) break;
      tu_sleep_ms(20);
    }
    assert_int_equal(json_array_size(json_object_get(d, "deliveries")), k + 1);
    json_decref(d);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
  }
  assert_int_equal(D.invalid_xml, 0);
  dbl_stop();
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  if (!tu_shared("docs/ncmec/cyber_tipline.xsd", xsd, sizeof xsd) || access(xsd, R_OK) != 0) {
    printf("skipped: ../shared/docs/ncmec/cyber_tipline.xsd is absent\n");
    return 77;
  }
  snprintf(dir, sizeof dir, "/tmp/vigil-test-cybertip-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  snprintf(cfgpath, sizeof cfgpath, "%s/report.json", dir);
  snprintf(credpath, sizeof credpath, "%s/cred.json", dir);
  snprintf(evdir, sizeof evdir, "%s/evidence", dir);
  mkdir(evdir, 0700);
  char ev[500];
  snprintf(ev, sizeof ev, "%s/case-1.bin", evdir);
  FILE *f = fopen(ev, "wb");
  if (!f) return 1;
  fwrite("\xFF\xD8\xFF\xE0 jpeg", 1, 9, f);
  fclose(f);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_flow), cmocka_unit_test(test_video_upload),
                                     cmocka_unit_test(test_claim_kept), cmocka_unit_test(test_through_serve),
                                     cmocka_unit_test(test_kill_at_every_step)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  if (tu_rmtree(dir) != 0) return 1;
  return rc;
}
