/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_report_video.c - a CyberTipline report whose evidence is a video.
 * Needs the schema in ../shared/docs/ncmec/cyber_tipline.xsd (skipped when
 * absent).
 *
 * A WebM clip matched by its MD5 in a bank flagged for review opens a case
 * that keeps the video as evidence (`serve --evidence-dir`).  Confirmed and
 * exported, over the API and by `vigil report export`: the report XML
 * validates, the manifest's entry carries the video's MD5 and SHA-256 as
 * it arrived, names it case-<id>.webm with media type video/webm, and the
 * exported file is the video byte for byte (SHA-256 computed here with
 * OpenSSL, not by the code under test).  Other containers are named by
 * their kind too, not as .bin.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "httpc.h"
#include "report/tipline.h"
#include "run.h"
#include "serveproc.h"
#include "testutil.h"

static char xsd[600], dir[256], cfg[400], evdir[400], outdir[400], db[400], key[128];
static int port;
static pid_t pid;

static void hex_digest(const void *p, size_t n, const EVP_MD *md, char *out) {
  uint8_t d[EVP_MAX_MD_SIZE];
  unsigned k = 0;
  assert_int_equal(EVP_Digest(p, n, d, &k, md, NULL), 1);
  for (unsigned i = 0; i < k; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void start(void) {
  char portf[400], keyf[400], outf[400];
  snprintf(portf, sizeof portf, "%s/port", dir);
  snprintf(keyf, sizeof keyf, "%s/key", dir);
  snprintf(outf, sizeof outf, "%s/out", dir);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(outf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
    execl(VIGIL_CLI, "vigil", "serve", "--init", "--listen", "127.0.0.1:0", "--db", db, "--threads", "2", "--port-file",
          portf, "--admin-key-file", keyf, "--report-config", cfg, "--evidence-dir", evdir, (char *)NULL);
    _exit(127);
  }
  port = tu_wait_port_file(pid, portf);
  assert_true(port > 0);
  FILE *f = fopen(keyf, "r");
  assert_non_null(f);
  assert_non_null(fgets(key, sizeof key, f));
  key[strcspn(key, "\r\n")] = 0;
  fclose(f);
}

/* The export in d: report.xml validates; the one file entry is the video. */
static void check_export(const char *d, long long id, const uint8_t *clip, size_t clip_len, const char *md5,
                         const char *sha) {
  char p[900];
  snprintf(p, sizeof p, "%s/report.xml", d);
  size_t len;
  uint8_t *xml = tu_slurp(p, &len);
  assert_non_null(xml);
  assert_int_equal(vigil__tipline_validate(xsd, (const char *)xml, len, NULL), 0);
  assert_non_null(strstr((const char *)xml, "<espIdentifier>video-user</espIdentifier>"));
  free(xml);
  snprintf(p, sizeof p, "%s/manifest.json", d);
  json_t *m = json_load_file(p, 0, NULL);
  assert_non_null(m);
  assert_int_equal(json_array_size(json_object_get(m, "files")), 1);
  json_t *f0 = json_array_get(json_object_get(m, "files"), 0);
  char name[64];
  snprintf(name, sizeof name, "case-%lld.webm", id);
  assert_string_equal(json_string_value(json_object_get(f0, "file")), name);
  assert_string_equal(json_string_value(json_object_get(f0, "media_type")), "video/webm");
  assert_int_equal(json_integer_value(json_object_get(f0, "bytes")), clip_len);
  assert_string_equal(json_string_value(json_object_get(f0, "md5")), md5);
  assert_string_equal(json_string_value(json_object_get(f0, "sha256")), sha);
  assert_string_equal(json_string_value(json_object_get(f0, "industry_classification")), "A1");
  json_decref(m);
  /* the video itself, intact */
  snprintf(p, sizeof p, "%s/%s", d, name);
  size_t n;
  uint8_t *got = tu_slurp(p, &n);
  assert_non_null(got);
  char got_sha[65];
  assert_int_equal(n, clip_len);
  hex_digest(got, n, EVP_sha256(), got_sha);
  assert_string_equal(got_sha, sha);
  assert_memory_equal(got, clip, clip_len);
  free(got);
  struct stat sb;
  assert_int_equal(stat(p, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
}

static void test_video_report(void **state) {
  (void)state;
  size_t clip_len;
  uint8_t *clip = tu_slurp(VIGIL_SOURCE_DIR "/fuzz/seeds/fuzz_video/vp8.webm", &clip_len);
  assert_non_null(clip);
  char md5[33], sha[65];
  hex_digest(clip, clip_len, EVP_md5(), md5);
  hex_digest(clip, clip_len, EVP_sha256(), sha);
  start();
  int st;
  json_decref(tu_call(port, "POST", "/v1/banks", key, "{\"name\":\"known-videos\",\"review\":true}", &st));
  assert_int_equal(st, 201);
  char body[300];
  snprintf(body, sizeof body, "{\"signal_type\":\"video_md5\",\"value\":\"%s\",\"external_id\":\"v-1\"}", md5);
  json_decref(tu_call(port, "POST", "/v1/banks/known-videos/entries", key, body, &st));
  assert_int_equal(st, 201);
  /* the upload opens a case that keeps the video */
  tu_http_resp r;
  assert_int_equal(tu_http(port, "POST", "/v1/match?content_id=clip-1&uploader_id=video-user", key, "video/webm", clip,
                           clip_len, &r),
                   0);
  json_t *o = json_loadb(r.body, r.body_len, 0, NULL);
  if (r.status != 200) fail_msg("match: HTTP %d: %.*s", r.status, (int)r.body_len, r.body);
  tu_http_free(&r);
  assert_non_null(o);
  assert_true(json_is_true(json_object_get(o, "evidence_kept")));
  long long id = (long long)json_integer_value(json_object_get(o, "case_id"));
  assert_true(id > 0);
  json_decref(o);
  char path[80];
  snprintf(path, sizeof path, "/v1/cases/%lld", id);
  o = tu_call(port, "GET", path, key, NULL, &st);
  assert_int_equal(st, 200);
  assert_string_equal(json_string_value(json_object_get(o, "md5")), md5);
  assert_string_equal(json_string_value(json_object_get(o, "sha256")), sha);
  const char *up = json_string_value(json_object_get(o, "uploader_id"));
  if (!up || strcmp(up, "video-user")) fail_msg("case uploader: %s", up ? up : "(none)");
  json_decref(o);
  /* confirmed and exported over the API */
  snprintf(path, sizeof path, "/v1/cases/%lld/decision", id);
  json_decref(tu_call(port, "POST", path, key, "{\"decision\":\"confirm\",\"classification\":\"A1\"}", &st));
  assert_int_equal(st, 200);
  snprintf(path, sizeof path, "/v1/cases/%lld/report", id);
  o = tu_call(port, "POST", path, key, "{\"viewed_by_esp\":true}", &st);
  assert_int_equal(st, 201);
  const char *d = json_string_value(json_object_get(o, "directory"));
  assert_non_null(d);
  check_export(d, id, clip, clip_len, md5, sha);
  json_decref(o);
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  /* and by the CLI, from the same database and evidence */
  char cmd[2000], out2[500];
  snprintf(out2, sizeof out2, "%s/cli-export", dir);
  snprintf(cmd, sizeof cmd,
           "'%s' report export %lld --out '%s' --config '%s' --evidence-dir '%s' --db '%s' 2>/dev/null", VIGIL_CLI, id,
           out2, cfg, evdir, db);
  assert_int_equal(tu_run(cmd, NULL), 0);
  check_export(out2, id, clip, clip_len, md5, sha);
  free(clip);
}

/* Each sample container is named by its kind, never .bin. */
static void test_media_kinds(void **state) {
  (void)state;
  static const struct {
    const char *file, *ext, *type;
  } k[] = {{"vp8.webm", "webm", "video/webm"},
           {"h264-bframes.mp4", "mp4", "video/mp4"},
           {"mpeg4-bframes.avi", "avi", "video/x-msvideo"},
           {"flv1.flv", "flv", "video/x-flv"},
           {"mpeg2.ts", "ts", "video/mp2t"}};
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
    char p[600];
    snprintf(p, sizeof p, "%s/fuzz/seeds/fuzz_video/%s", VIGIL_SOURCE_DIR, k[i].file);
    size_t n;
    uint8_t *b = tu_slurp(p, &n);
    assert_non_null(b);
    const char *ext = NULL;
    assert_string_equal(vigil__report_media(b, n, &ext), k[i].type);
    assert_string_equal(ext, k[i].ext);
    free(b);
  }
  /* Matroska that is not WebM, and what is not recognised */
  static const uint8_t mkv[] = {0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x88, 'm', 'a', 't', 'r', 'o', 's', 'k', 'a'};
  const char *ext = NULL;
  assert_string_equal(vigil__report_media(mkv, sizeof mkv, &ext), "video/x-matroska");
  assert_string_equal(ext, "mkv");
  assert_string_equal(vigil__report_media((const uint8_t *)"plain text", 10, &ext), "application/octet-stream");
  assert_string_equal(ext, "bin");
  assert_string_equal(vigil__report_media(mkv, 0, NULL), "application/octet-stream");
  /* HEIF and AVIF pictures are ISO media files as MP4 is: only the ftyp
   * box's major brand says they are pictures */
  static const struct {
    const char *brand, *ext, *type;
  } pics[] = {{"heic", "heic", "image/heic"}, {"heix", "heic", "image/heic"},    {"mif1", "heif", "image/heif"},
              {"msf1", "heif", "image/heif"}, {"avif", "avif", "image/avif"},    {"avis", "avif", "image/avif"},
              {"isom", "mp4", "video/mp4"},   {"qt  ", "mov", "video/quicktime"}};
  uint8_t ftyp[24] = {0, 0, 0, 24, 'f', 't', 'y', 'p', 0, 0, 0, 0, 0, 0, 0, 0, 'm', 'i', 'f', '1', 'm', 'i', 'a', 'f'};
  for (size_t i = 0; i < sizeof pics / sizeof pics[0]; i++) {
    memcpy(ftyp + 8, pics[i].brand, 4);
    assert_string_equal(vigil__report_media(ftyp, sizeof ftyp, &ext), pics[i].type);
    assert_string_equal(ext, pics[i].ext);
  }
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/vigil-test-repvideo-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(cfg, sizeof cfg, "%s/report.json", dir);
  snprintf(evdir, sizeof evdir, "%s/evidence", dir);
  snprintf(outdir, sizeof outdir, "%s/exports", dir);
  snprintf(db, sizeof db, "%s/v.db", dir);
  if (mkdir(outdir, 0700) != 0) return -1;
  FILE *f = fopen(cfg, "w");
  if (!f) return -1;
  fprintf(f,
          "{\"ncmec\":{\"schema\":\"%s\",\"export_dir\":\"%s\",\"company\":\"Example Inc.\","
          "\"reporter\":{\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"email\":\"trust@example.org\"}}}",
          xsd, outdir);
  fclose(f);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  return tu_rmtree(dir);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  if (!tu_shared("docs/ncmec/cyber_tipline.xsd", xsd, sizeof xsd) || access(xsd, R_OK) != 0) {
    printf("skipped: ../shared/docs/ncmec/cyber_tipline.xsd is absent\n");
    return 77;
  }
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_media_kinds), cmocka_unit_test(test_video_report)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
