/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_bank_video_samples.c - vpdq bank entries from real videos, end to
 * end through the command line (../shared/vpdq; skipped with exit 77 when
 * it is absent).
 *
 *   - The vPDQ reference's own per-frame output for the Debian-FFmpeg clips,
 *     imported as a bank entry, is the same entry (same identity) as
 *     `vigil bank add --video` of the clip: the two hashers agree byte for
 *     byte and the identity does not depend on which file it came from.
 *   - A bank of the original chair clip: its greyscale copy matches with
 *     both percentages at 100 and one segment covering the clip, an
 *     unrelated video does not match, and the same holds after the bank
 *     travels through a python-threatexchange export into another store.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bank_testutil.h"
#include "run.h"

#define VP VIGIL_SHARED_DIR "/vpdq"

static void test_reference_output_is_the_same_entry(void **state) {
  (void)state;
  static const char *const clips[][2] = {{"c01_h264_640x360_25_pan", "mp4"},
                                         {"c07_vp9_853x479_25_odd", "webm"},
                                         {"c09_mpeg4_640x360_25_bframes", "avi"}};
  char db[600], cmd[4096], *out = NULL;
  bt_path(db, sizeof db, "ref.db");
  snprintf(cmd, sizeof cmd, VIGIL_CLI " bank --db %s create ref", db);
  assert_int_equal(tu_run(cmd, NULL), 0);
  for (size_t i = 0; i < sizeof clips / sizeof clips[0]; i++) {
    snprintf(cmd, sizeof cmd,
             VIGIL_CLI " bank --db %s import ref " VP "/debian-ffmpeg/expected/%s.r1.txt --format vpdq && " VIGIL_CLI
                       " bank --db %s add ref --video " VP "/debian-ffmpeg/videos/%s.%s",
             db, clips[i][0], db, clips[i][0], clips[i][1]);
    assert_int_equal(tu_run(cmd, &out), 0);
    assert_non_null(strstr(out, "1 added"));
    if (!strstr(out, ": already present: entry ")) fail_msg("%s: not the same entry:\n%s", clips[i][0], out);
    free(out);
  }
}

static void test_chair_bank(void **state) {
  (void)state;
  char db[600], db2[600], te[600], cmd[4096], *out = NULL;
  bt_path(db, sizeof db, "chair.db");
  bt_path(db2, sizeof db2, "copy.db");
  bt_path(te, sizeof te, "known.te");
  snprintf(cmd, sizeof cmd,
           VIGIL_CLI " bank --db %s create known && " VIGIL_CLI " bank --db %s add known --video " VP
                     "/videos/chair-orig-22-sd-bar.mp4 " VP "/videos/pattern-longer-no-bar.mp4 --tag csam",
           db, db);
  assert_int_equal(tu_run(cmd, NULL), 0);
  const char *dbs[] = {db, db2};
  for (int k = 0; k < 2; k++) {
    if (k == 1) { /* the bank through python-threatexchange's form into another store */
      snprintf(cmd, sizeof cmd,
               VIGIL_CLI " bank --db %s export known --format te -o %s && " VIGIL_CLI " bank --db %s create known && "
                         VIGIL_CLI " bank --db %s import known %s --tag csam",
               db, te, db2, db2, te);
      assert_int_equal(tu_run(cmd, &out), 0);
      assert_non_null(strstr(out, "4 added"));
      free(out);
    }
    snprintf(cmd, sizeof cmd, VIGIL_CLI " match --db %s " VP "/videos/chair-22-sd-grey-bar.mp4", dbs[k]);
    assert_int_equal(tu_run(cmd, &out), 0);
    if (!strstr(out, ",vpdq,known,") || !strstr(out, ",csam,100.0,100.0,yes,0.000-22.000=0.000-22.000@1.00\n"))
      fail_msg("grey copy, store %d:\n%s", k, out);
    free(out);
    if (k == 1) continue; /* the rest once */
    snprintf(cmd, sizeof cmd, VIGIL_CLI " match --db %s --format json " VP "/videos/chair-22-sd-grey-bar.mp4",
             dbs[k]);
    assert_int_equal(tu_run(cmd, &out), 0);
    assert_non_null(strstr(out, "\"segments\":[{\"query_start\":0.0,\"query_end\":22.0,\"bank_start\":0.0,"
                                "\"bank_end\":22.0,\"speed\":1.0,\"share\":1.0,\"frames\":23}]"));
    free(out);
    snprintf(cmd, sizeof cmd, VIGIL_CLI " match --db %s --reference-semantics " VP "/videos/chair-22-sd-grey-bar.mp4",
             dbs[k]);
    assert_int_equal(tu_run(cmd, &out), 0);
    assert_non_null(strstr(out, ",yes,"));
    free(out);
    snprintf(cmd, sizeof cmd, VIGIL_CLI " match --db %s " VP "/videos/doorknob-hd-no-bar.mp4", dbs[k]);
    assert_int_equal(tu_run(cmd, &out), 0);
    assert_null(strstr(out, ",vpdq,"));
    free(out);
  }
}

static int teardown(void **state) {
  (void)state;
  bt_cleanup();
  return 0;
}

int main(void) {
  if (access(VP "/videos/chair-orig-22-sd-bar.mp4", R_OK) != 0 ||
      access(VP "/debian-ffmpeg/expected/c01_h264_640x360_25_pan.r1.txt", R_OK) != 0) {
    printf("skipped: %s/{videos,debian-ffmpeg} not found\n", VP);
    return 77;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reference_output_is_the_same_entry),
      cmocka_unit_test(test_chair_bank),
  };
  return cmocka_run_group_tests(tests, NULL, teardown);
}
