/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_report_export_io.c - an export for manual filing whose disk refuses
 * to sync fails with the disk's own error and leaks no descriptor.
 *
 * The program defines fsync itself (the library is linked statically, so
 * its calls land here) and makes the Nth call fail with EIO: the report,
 * the evidence, the manifest and the directory are each synced in turn.
 * Every failure must be VIGIL_EIO naming "Input/output error", and the
 * number of open descriptors must be what it was before the call: a
 * service that exports on every request would otherwise run out of them.
 * Needs the schema in ../shared/docs/ncmec/cyber_tipline.xsd (skipped when
 * absent: nothing is written unless the report validates).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "vigil/report.h"

static int fsync_calls, fsync_fail_at; /* 0: never fail */

int fsync(int fd) {
  if (++fsync_calls == fsync_fail_at) {
    errno = EIO;
    return -1;
  }
  return (int)syscall(SYS_fsync, fd);
}

static char xsd[600], dir[256], cfg[400], ev[400];

static int open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  int n = 0;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

static const char cases[] =
    "[{\"id\":1,\"status\":\"confirmed\",\"classification\":\"A1\",\"md5\":\"0123456789abcdef0123456789abcdef\","
    "\"sha256\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\",\"uploader_id\":\"u1\","
    "\"url\":\"https://photos.example.org/p/1\",\"created_at\":\"2026-11-24T22:10:00.123Z\"}]";

static void test_sync_failures(void **state) {
  (void)state;
  /* a clean run first: it counts the syncs the failures are spread over */
  char out[512];
  snprintf(out, sizeof out, "%s/ok", dir);
  int before = open_fds();
  vigil_error e;
  vigil_error_clear(&e);
  fsync_calls = fsync_fail_at = 0;
  char *xml = NULL;
  int rc = vigil_tipline_export(cfg, cases, ev, 0, out, &xml, &e);
  if (rc) fail_msg("clean export: %s", e.message);
  free(xml);
  assert_int_equal(open_fds(), before);
  int syncs = fsync_calls;
  assert_int_equal(syncs, 4); /* report.xml, the evidence, manifest.json, the directory */
  for (int n = 1; n <= syncs; n++) {
    snprintf(out, sizeof out, "%s/fail-%d", dir, n);
    vigil_error_clear(&e);
    fsync_calls = 0;
    fsync_fail_at = n;
    xml = NULL;
    rc = vigil_tipline_export(cfg, cases, ev, 0, out, &xml, &e);
    fsync_fail_at = 0;
    if (rc != VIGIL_EIO) fail_msg("sync %d failing: rc %d (%s)", n, rc, e.message);
    assert_null(xml);
    if (!strstr(e.message, strerror(EIO))) fail_msg("sync %d failing: '%s' does not say why", n, e.message);
    if (open_fds() != before) fail_msg("sync %d failing: %d descriptors open, %d before", n, open_fds(), before);
  }
}

int main(void) {
  if (!tu_shared("docs/ncmec/cyber_tipline.xsd", xsd, sizeof xsd) || access(xsd, R_OK) != 0) {
    printf("skipped: ../shared/docs/ncmec/cyber_tipline.xsd is absent\n");
    return 77;
  }
  if (!tu_mkdtemp(dir, sizeof dir, "export-io")) return 1;
  snprintf(cfg, sizeof cfg, "%s/report.json", dir);
  FILE *f = fopen(cfg, "w");
  if (!f) return 1;
  fprintf(f,
          "{\"ncmec\":{\"schema\":\"%s\",\"platform\":\"Example Photos\",\"company\":\"Example Inc.\","
          "\"reporter\":{\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"email\":\"trust@example.org\"}}}",
          xsd);
  fclose(f);
  /* the case's evidence, a JPEG by its first bytes */
  snprintf(ev, sizeof ev, "%s/evidence", dir);
  char bin[512];
  snprintf(bin, sizeof bin, "%s/case-1.bin", ev);
  static const unsigned char jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1};
  if (mkdir(ev, 0700) != 0 || !(f = fopen(bin, "wb"))) return 1;
  fwrite(jpeg, 1, sizeof jpeg, f);
  fclose(f);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_sync_failures)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  tu_rmtree(dir);
  return rc;
}
