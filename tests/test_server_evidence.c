/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_evidence.c - evidence retention (lib/server/evidence.c).
 *
 *   - Off by default: a case opened by an upload keeps hashes, no media,
 *     and its evidence answers 404.
 *   - With an evidence directory: the upload that opened a case is kept
 *     byte for byte (mode 0600), readable by reviewers only, every read and
 *     every refused attempt in the audit log; deleting it is audited too.  A match sent as a hash
 *     keeps nothing (there is no media).
 *   - A directory open to other users is refused at start; staging files a
 *     crash left are swept at start.
 *   - A file changed after it was kept (same size, one byte) is refused 409.
 *   - Large evidence (64 MiB) is sent from its file: the bytes come back
 *     whole, and the serving process's peak memory (VmHWM of a `vigil
 *     serve` child) grows by far less than the file.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httpc.h"
#include "servefix.h"
#include "serveproc.h"
#include "vigil/media.h"
#include "vigil/server.h"

static tu_fix fx; /* the database and a key per role; servers start per test */
static const char *dir;
static char evdir[300];
static const char *k_admin, *k_sub, *k_rev, *k_aud;
static uint8_t *jpg;
static size_t jpg_len;

/* One case per upload when set (the tests that need a case of their own
 * for the same picture); one case per piece of content otherwise. */
static int separate;

static vigil_server *start(const char *evidence, vigil_error *e) {
  vigil_server_config cfg;
  tu_fix_config(&fx, &cfg);
  cfg.evidence_dir = evidence;
  cfg.separate_sightings = separate;
  vigil_server *srv = NULL;
  return vigil_server_start(&srv, &cfg, e) == VIGIL_OK ? srv : NULL;
}

static int request(int port, const char *method, const char *path, const char *key, const char *ctype,
                   const void *body, size_t len, tu_http_resp *out) {
  assert_int_equal(tu_http(port, method, path, key, ctype, body, len, out), 0);
  return out->status;
}

static int json_call(int port, const char *method, const char *path, const char *key, const char *json, json_t **out) {
  return tu_json_call(port, method, path, key, json, out);
}

/* Uploads the picture to /v1/match; returns the case id it opened. */
static int64_t upload_case(int port, const char *content_id, int *kept) {
  char path[128];
  snprintf(path, sizeof path, "/v1/match?content_id=%s", content_id);
  tu_http_resp r;
  assert_int_equal(request(port, "POST", path, k_sub, "image/jpeg", jpg, jpg_len, &r), 200);
  json_t *o = json_loadb(r.body, r.body_len, 0, NULL);
  tu_http_free(&r);
  assert_non_null(o);
  int64_t id = json_integer_value(json_object_get(o, "case_id"));
  *kept = json_is_true(json_object_get(o, "evidence_kept"));
  json_decref(o);
  assert_true(id > 0);
  return id;
}

static int setup(void **state) {
  (void)state;
  if (tu_fix_init(&fx, "evidence")) return -1;
  dir = fx.dir;
  snprintf(evdir, sizeof evdir, "%s/evidence", dir);
  k_admin = fx.admin, k_sub = fx.submitter, k_rev = fx.reviewer, k_aud = fx.auditor;
  jpg = tu_slurp(VIGIL_SOURCE_DIR "/samples/rings.jpg", &jpg_len);
  return !jpg ? -1 : 0;
}

static int teardown(void **state) {
  (void)state;
  free(jpg);
  return tu_fix_end(&fx);
}

/* A bank flagged for review holding the picture's PDQ hash (made once:
 * the tests share the database). */
static void make_bank(int port) {
  vigil_pdq_result res;
  assert_int_equal(vigil_hash_memory(jpg, jpg_len, NULL, &res, NULL, NULL), VIGIL_OK);
  char hex[65], body[300];
  vigil_pdq_to_hex(&res.hash[0], hex);
  int st = json_call(port, "POST", "/v1/banks", k_admin, "{\"name\":\"known\",\"review\":true}", NULL);
  assert_true(st == 201 || st == 409);
  snprintf(body, sizeof body, "{\"signal_type\":\"pdq\",\"value\":\"%s\"}", hex);
  st = json_call(port, "POST", "/v1/banks/known/entries", k_admin, body, NULL);
  assert_true(st == 201 || st == 200);
}

static void test_off_by_default(void **state) {
  (void)state;
  vigil_error e;
  vigil_server *srv = start(NULL, &e);
  assert_non_null(srv);
  int port = vigil_server_port(srv);
  make_bank(port);
  int kept = 1;
  int64_t id = upload_case(port, "c-off", &kept);
  assert_false(kept);
  char path[64];
  snprintf(path, sizeof path, "/v1/cases/%lld/evidence", (long long)id);
  json_t *o;
  assert_int_equal(json_call(port, "GET", path, k_rev, NULL, &o), 404);
  assert_non_null(strstr(json_string_value(json_object_get(json_object_get(o, "error"), "message")), "evidence-dir"));
  json_decref(o);
  vigil_server_stop(srv);
}

static void test_kept_read_deleted(void **state) {
  (void)state;
  vigil_error e;
  vigil_server *srv = start(evdir, &e);
  assert_non_null(srv);
  int port = vigil_server_port(srv);
  struct stat sb;
  assert_int_equal(stat(evdir, &sb), 0);
  assert_int_equal(sb.st_mode & 077, 0); /* created private */
  make_bank(port);
  int kept = 0;
  int64_t id = upload_case(port, "c-on", &kept);
  assert_true(kept);
  char file[400], path[64];
  snprintf(file, sizeof file, "%s/case-%lld.bin", evdir, (long long)id);
  assert_int_equal(stat(file, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
  assert_int_equal((size_t)sb.st_size, jpg_len);
  /* the case says evidence was meant to be kept */
  snprintf(path, sizeof path, "/v1/cases/%lld", (long long)id);
  json_t *c;
  assert_int_equal(json_call(port, "GET", path, k_rev, NULL, &c), 200);
  json_t *ev = json_object_get(json_object_get(c, "detail"), "evidence");
  assert_int_equal(json_integer_value(json_object_get(ev, "bytes")), (json_int_t)jpg_len);
  assert_string_equal(json_string_value(json_object_get(ev, "sha256")), json_string_value(json_object_get(c, "sha256")));
  json_decref(c);

  snprintf(path, sizeof path, "/v1/cases/%lld/evidence", (long long)id);
  tu_http_resp r;
  assert_int_equal(request(port, "GET", path, k_rev, NULL, NULL, 0, &r), 200);
  assert_int_equal(r.body_len, jpg_len);
  assert_memory_equal(r.body, jpg, jpg_len);
  char ct[64];
  assert_string_equal(tu_http_header(&r, "Content-Type", ct, sizeof ct), "image/jpeg");
  assert_string_equal(tu_http_header(&r, "Cache-Control", ct, sizeof ct), "no-store");
  tu_http_free(&r);
  assert_int_equal(json_call(port, "GET", path, k_sub, NULL, NULL), 403);
  assert_int_equal(json_call(port, "GET", path, k_aud, NULL, NULL), 403);
  assert_int_equal(json_call(port, "GET", "/v1/cases/99999/evidence", k_rev, NULL, NULL), 404);

  /* a match by hash has no media to keep */
  vigil_pdq_result res;
  assert_int_equal(vigil_hash_memory(jpg, jpg_len, NULL, &res, NULL, NULL), VIGIL_OK);
  char hex[65], body[200];
  vigil_pdq_to_hex(&res.hash[0], hex);
  snprintf(body, sizeof body, "{\"pdq\":\"%s\"}", hex);
  json_t *o;
  assert_int_equal(json_call(port, "POST", "/v1/match", k_sub, body, &o), 200);
  int64_t hid = json_integer_value(json_object_get(o, "case_id"));
  assert_true(hid > 0);
  assert_null(json_object_get(o, "evidence_kept"));
  json_decref(o);
  snprintf(file, sizeof file, "%s/case-%lld.bin", evdir, (long long)hid);
  assert_int_not_equal(stat(file, &sb), 0);

  /* delete; then it is gone */
  assert_int_equal(json_call(port, "DELETE", path, k_sub, NULL, NULL), 403);
  assert_int_equal(json_call(port, "DELETE", path, k_rev, NULL, NULL), 200);
  assert_int_equal(json_call(port, "GET", path, k_rev, NULL, NULL), 404);
  assert_int_equal(json_call(port, "DELETE", path, k_rev, NULL, NULL), 404);
  /* a repeat of the picture joins the case as a sighting, and does not bring
   * back the evidence that was deleted */
  int again_kept = 1;
  assert_int_equal(upload_case(port, "c-on-again", &again_kept), id);
  assert_false(again_kept);
  assert_int_equal(json_call(port, "GET", path, k_rev, NULL, NULL), 404);

  /* the reviewer's read and the deletion are on record */
  assert_int_equal(json_call(port, "GET", "/v1/audit?limit=1000", k_aud, NULL, &o), 200);
  int reads = 0, refused_reads = 0, deletes = 0, refused_deletes = 0;
  json_t *entries = json_object_get(o, "entries");
  for (size_t i = 0; i < json_array_size(entries); i++) {
    json_t *en = json_array_get(entries, i);
    const char *a = json_string_value(json_object_get(en, "action"));
    json_int_t status = json_integer_value(json_object_get(en, "status"));
    if (a && !strcmp(a, "cases.evidence")) status == 200 ? reads++ : refused_reads++;
    if (a && !strcmp(a, "cases.evidence_delete")) status == 200 ? deletes++ : refused_deletes++;
  }
  json_decref(o);
  assert_int_equal(reads, 1);
  assert_int_equal(refused_reads, 2); /* the submitter and the auditor, 403 */
  assert_int_equal(deletes, 1);
  assert_int_equal(refused_deletes, 1);
  vigil_server_stop(srv);
}

static void test_unsafe_dir_and_sweep(void **state) {
  (void)state;
  char open_dir[400], staged[500];
  snprintf(open_dir, sizeof open_dir, "%s/open", dir);
  assert_int_equal(mkdir(open_dir, 0755), 0);
  assert_int_equal(chmod(open_dir, 0755), 0);
  vigil_error e;
  assert_null(start(open_dir, &e));
  assert_non_null(strstr(e.message, "chmod 700"));
  /* a staging file left by a crash is removed at the next start */
  snprintf(staged, sizeof staged, "%s/.staging-abc123", evdir);
  FILE *f = fopen(staged, "wb");
  assert_non_null(f);
  fputs("partial", f);
  fclose(f);
  vigil_server *srv = start(evdir, &e);
  assert_non_null(srv);
  struct stat sb;
  assert_int_not_equal(stat(staged, &sb), 0);
  vigil_server_stop(srv);
}

static void test_tampered_refused(void **state) {
  (void)state;
  vigil_error e;
  separate = 1; /* a case of its own, whose evidence this test spoils */
  vigil_server *srv = start(evdir, &e);
  separate = 0;
  assert_non_null(srv);
  int port = vigil_server_port(srv);
  make_bank(port);
  int kept = 0;
  int64_t id = upload_case(port, "c-tamper", &kept);
  assert_true(kept);
  char file[400], path[64];
  snprintf(file, sizeof file, "%s/case-%lld.bin", evdir, (long long)id);
  snprintf(path, sizeof path, "/v1/cases/%lld/evidence", (long long)id);
  assert_int_equal(json_call(port, "GET", path, k_rev, NULL, NULL), 200);
  /* one byte changed in the middle, size unchanged */
  FILE *f = fopen(file, "r+b");
  assert_non_null(f);
  assert_int_equal(fseek(f, (long)(jpg_len / 2), SEEK_SET), 0);
  assert_int_equal(fputc(jpg[jpg_len / 2] ^ 0x01, f), jpg[jpg_len / 2] ^ 0x01);
  assert_int_equal(fclose(f), 0);
  json_t *o;
  assert_int_equal(json_call(port, "GET", path, k_rev, NULL, &o), 409);
  assert_string_equal(json_string_value(json_object_get(json_object_get(o, "error"), "code")), "evidence_mismatch");
  json_decref(o);
  /* and a file cut short */
  assert_int_equal(truncate(file, (off_t)(jpg_len - 1)), 0);
  assert_int_equal(json_call(port, "GET", path, k_rev, NULL, NULL), 409);
  vigil_server_stop(srv);
}

#define BIG ((size_t)64 << 20)

/* The large upload: the picture, then a pattern of period PERIOD (a prime,
 * no zeros, so a hole or a misplaced piece shows).  Written and compared a
 * period at a time: byte by byte is slow under the sanitizers. */
#define PERIOD 4093
static uint8_t pattern[PERIOD];

/* Calls fn(at, pattern piece, n) for the pattern's pieces of [jpg_len, BIG). */
static int each_piece(uint8_t *buf, int (*fn)(uint8_t *at, const uint8_t *want, size_t n)) {
  for (size_t k = 0; k < PERIOD; k++) pattern[k] = (uint8_t)(1 + (k * 2654435761u >> 13) % 251);
  for (size_t i = jpg_len; i < BIG;) {
    size_t n = BIG - i < PERIOD ? BIG - i : PERIOD;
    if (fn(buf + i, pattern, n)) return -1;
    i += n;
  }
  return 0;
}
static int put_piece(uint8_t *at, const uint8_t *want, size_t n) {
  memcpy(at, want, n);
  return 0;
}
static int cmp_piece(uint8_t *at, const uint8_t *want, size_t n) { return memcmp(at, want, n) != 0; }

/* VmHWM (peak resident memory) of process pid in KiB; -1 when unknown. */
static long vm_hwm_kb(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char line[256];
  long kb = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
  fclose(f);
  return kb;
}

static void test_large_streamed(void **state) {
  (void)state;
  vigil_server_config cfg;
  tu_fix_config(&fx, &cfg);
  cfg.evidence_dir = evdir;
  cfg.max_body = BIG + 1024;
  vigil_server *srv = NULL;
  vigil_error e;
  assert_int_equal(vigil_server_start(&srv, &cfg, &e), VIGIL_OK);
  int port = vigil_server_port(srv);
  make_bank(port);
  /* a JPEG decoder stops at the picture's end: the rest rides along as
   * part of the upload, and so of the evidence */
  uint8_t *big = malloc(BIG);
  assert_non_null(big);
  memcpy(big, jpg, jpg_len);
  each_piece(big, put_piece);
  tu_http_resp r;
  assert_int_equal(request(port, "POST", "/v1/match?content_id=c-big", k_sub, "image/jpeg", big, BIG, &r), 200);
  free(big);
  json_t *o = json_loadb(r.body, r.body_len, 0, NULL);
  tu_http_free(&r);
  assert_non_null(o);
  int64_t id = json_integer_value(json_object_get(o, "case_id"));
  assert_true(json_is_true(json_object_get(o, "evidence_kept")));
  json_decref(o);
  vigil_server_stop(srv);

  /* served by a `vigil serve` process of its own (exec'd, so sanitizers
   * see a fresh program), whose peak memory is then this read's alone */
  char portf[400];
  snprintf(portf, sizeof portf, "%s/big.port", dir);
  unlink(portf);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int nul = open("/dev/null", O_WRONLY);
    if (nul >= 0) dup2(nul, 1), dup2(nul, 2);
    execl(VIGIL_CLI, "vigil", "serve", "--listen", "127.0.0.1:0", "--db", fx.db, "--threads", "2", "--port-file", portf,
          "--evidence-dir", evdir, (char *)NULL);
    _exit(127);
  }
  int child_port = tu_wait_port_file(pid, portf);
  assert_true(child_port > 0);
  long hwm[2];
  hwm[0] = vm_hwm_kb(pid);
  char path[64];
  snprintf(path, sizeof path, "/v1/cases/%lld/evidence", (long long)id);
  assert_int_equal(request(child_port, "GET", path, k_rev, NULL, NULL, 0, &r), 200);
  hwm[1] = vm_hwm_kb(pid);
  kill(pid, SIGTERM);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);

  assert_int_equal(r.body_len, BIG);
  assert_memory_equal(r.body, jpg, jpg_len);
  assert_int_equal(each_piece((uint8_t *)r.body, cmp_piece), 0);
  char ct[64];
  assert_string_equal(tu_http_header(&r, "Content-Type", ct, sizeof ct), "image/jpeg");
  assert_string_equal(tu_http_header(&r, "Cache-Control", ct, sizeof ct), "no-store");
  assert_non_null(tu_http_header(&r, "Content-Security-Policy", ct, sizeof ct));
  tu_http_free(&r);
  if (hwm[0] < 0 || hwm[1] < 0) {
    printf("no /proc/PID/status: peak memory not checked\n");
    return;
  }
  printf("serving %zu MiB of evidence raised the server's peak memory by %ld KiB\n", BIG >> 20, hwm[1] - hwm[0]);
  assert_true(hwm[1] - hwm[0] < 16 * 1024); /* the file is 64 MiB */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_off_by_default),
      cmocka_unit_test(test_kept_read_deleted),
      cmocka_unit_test(test_unsafe_dir_and_sweep),
      cmocka_unit_test(test_tampered_refused),
      cmocka_unit_test(test_large_streamed),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
