/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_bank_video.c - the video_md5 signal type in banks: a type of its own
 * (as python-threatexchange keeps it), with the entry model of md5 (import,
 * counts, exact match, export), written by `vigil hash --format te` for a
 * video and looked up by `vigil match` for a file whose content is a video;
 * the same te output carries the video's vpdq line, which import takes and
 * match finds at 100%.  An empty vpdq
 * list is refused, with a line number (tests/test_bank_vpdq.c covers vpdq entries).
 */
#include "testutil.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank_testutil.h"
#include "run.h"
#include "vigil/bank.h"

static const char M1[] = "1b8fb4e1b8b5d67ab26630faad1f3e10";

static void test_type(void **state) {
  (void)state;
  assert_int_equal(vigil_signal_from_name("video_md5", 9), VIGIL_SIGNAL_VIDEO_MD5);
  assert_string_equal(vigil_signal_name(VIGIL_SIGNAL_VIDEO_MD5), "video_md5");
  assert_int_equal(vigil_signal_value_len(VIGIL_SIGNAL_VIDEO_MD5), 16);
  uint8_t v[VIGIL_BANK_VALUE_MAX];
  vigil_error err = {0};
  assert_int_equal(vigil_signal_parse(VIGIL_SIGNAL_VIDEO_MD5, M1, 32, v, &err), VIGIL_OK);
  assert_int_equal(vigil_signal_parse(VIGIL_SIGNAL_VIDEO_MD5, M1, 31, v, &err), VIGIL_EINVAL);
  assert_non_null(strstr(err.message, "video_md5 value must be 32 hex digits"));
  /* a vpdq value is the 64-hex-digit identity of its frame list */
  assert_int_equal(vigil_signal_value_len(VIGIL_SIGNAL_VPDQ), 32);
  assert_int_equal(vigil_signal_parse(VIGIL_SIGNAL_VPDQ, M1, 32, v, &err), VIGIL_EINVAL);
  assert_non_null(strstr(err.message, "vpdq value must be 64 hex digits"));
}

static void test_import_match_export(void **state) {
  (void)state;
  vigil_bank_store *st = bt_store("v.db");
  vigil_error err = {0};
  assert_int_equal(vigil_bank_create(st, "videos", "known videos", &err), VIGIL_OK);
  char text[256], path[600];
  int len = snprintf(text, sizeof text, "video_md5 %s\nmd5 %s\nvpdq []\n", M1, M1);
  bt_write(path, sizeof path, "in.te", text, (size_t)len);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  vigil_bank_import_opts o;
  vigil_bank_import_opts_default(&o);
  o.format = VIGIL_BANK_FMT_TE;
  o.skip_bad = 1;
  vigil_bank_import_report rep;
  memset(&rep, 0, sizeof rep);
  assert_int_equal(vigil_bank_import(st, "videos", f, &o, &rep, &err), VIGIL_OK);
  fclose(f);
  assert_int_equal(rep.added, 2); /* the empty vpdq list is reported, not imported */
  assert_true(rep.nerrors >= 1);
  assert_int_equal(rep.errors[0].line, 3);
  vigil_bank_import_report_free(&rep);
  vigil_bank_info info;
  assert_int_equal(vigil_bank_get(st, "videos", &info, &err), VIGIL_OK);
  assert_int_equal(info.by_type[VIGIL_SIGNAL_VIDEO_MD5], 1);
  assert_int_equal(info.by_type[VIGIL_SIGNAL_MD5], 1);
  /* exact match keeps the types apart */
  uint8_t v[VIGIL_BANK_VALUE_MAX];
  assert_int_equal(vigil_signal_parse(VIGIL_SIGNAL_VIDEO_MD5, M1, 32, v, &err), VIGIL_OK);
  for (int t = 0; t < 2; t++) {
    vigil_bank_match *m = NULL;
    size_t n = 0;
    vigil_signal_type ty = t ? VIGIL_SIGNAL_MD5 : VIGIL_SIGNAL_VIDEO_MD5;
    assert_int_equal(vigil_bank_match_exact(st, ty, v, NULL, &m, &n, &err), VIGIL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(m[0].entry.type, ty);
    free(m);
  }
  /* export writes it back under its name */
  bt_path(path, sizeof path, "out.te");
  f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(vigil_bank_export(st, "videos", f, VIGIL_BANK_FMT_TE, 1, &err), VIGIL_OK);
  fclose(f);
  char *out = NULL;
  char cmd[700];
  snprintf(cmd, sizeof cmd, "cat %s", path);
  assert_int_equal(tu_run(cmd, &out), 0);
  snprintf(text, sizeof text, "video_md5 %s", M1);
  assert_non_null(strstr(out, text));
  free(out);
  vigil_bank_store_close(st);
}

static void test_cli_match_video(void **state) {
  (void)state;
  const char *video = VIGIL_SOURCE_DIR "/fuzz/seeds/fuzz_video/vp8.webm";
  FILE *f = fopen(video, "rb");
  assert_non_null(f);
  static unsigned char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  unsigned char md5[EVP_MAX_MD_SIZE];
  unsigned int l = 0;
  assert_int_equal(EVP_Digest(buf, n, md5, &l, EVP_md5(), NULL), 1);
  char hex[33], db[600], cmd[2048];
  vigil_signal_to_hex(md5, 16, hex);
  bt_path(db, sizeof db, "cli.db");
  snprintf(cmd, sizeof cmd,
           VIGIL_CLI " bank --db %s create vids && " VIGIL_CLI " bank --db %s add vids video_md5 %s --id V1", db, db,
           hex);
  assert_int_equal(tu_run(cmd, NULL), 0);
  char *out = NULL;
  snprintf(cmd, sizeof cmd, VIGIL_CLI " match --db %s %s", db, video);
  assert_int_equal(tu_run(cmd, &out), 0); /* a video is not an error for the image path */
  assert_non_null(strstr(out, ",video_md5,"));
  assert_non_null(strstr(out, "V1"));
  free(out);
  /* vigil hash --format te writes the video_md5 and vpdq lines that bank import reads */
  snprintf(cmd, sizeof cmd, VIGIL_CLI " hash --format te %s", video);
  assert_int_equal(tu_run(cmd, &out), 0);
  char *vl = strstr(out, "\nvpdq [\"");
  assert_non_null(vl); /* python-threatexchange's serialisation: a JSON list of "hex,quality,timestamp" */
  assert_non_null(strstr(vl, "\"]\n"));
  free(out);
  snprintf(cmd, sizeof cmd,
           VIGIL_CLI " hash --format te %s | " VIGIL_CLI
                     " bank --db %s import fromhash - --format te --create && " VIGIL_CLI
                     " match --db %s --bank fromhash %s",
           video, db, db, video);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, ",video_md5,"));
  assert_non_null(strstr(out, ",md5,"));
  assert_non_null(strstr(out, hex));
  char *vm = strstr(out, ",vpdq,fromhash,"); /* the video's frames against its own list: 100% both ways */
  assert_non_null(vm);
  assert_non_null(strstr(vm, ",100.0,100.0,yes,"));
  free(out);
}

/* A known picture shown in a video: its frames against a PDQ bank, opt-in. */
static void test_cli_video_frames_against_pictures(void **state) {
  (void)state;
  const char *video = VIGIL_SOURCE_DIR "/fuzz/seeds/fuzz_video/vp8.webm";
  char db[600], cmd[2048], *out = NULL;
  bt_path(db, sizeof db, "frames.db");
  /* the clip's one hashed frame, read from vigil hash, 3 bits changed */
  snprintf(cmd, sizeof cmd, VIGIL_CLI " hash --format vpdq %s", video);
  assert_int_equal(tu_run(cmd, &out), 0);
  char hex[65];
  assert_int_equal(sscanf(out, "%*d,%*d,%64[0-9a-f],", hex), 1);
  free(out);
  const char *digits = "0123456789abcdef";
  hex[0] = digits[(strchr(digits, hex[0]) - digits) ^ 7]; /* 3 bits of the first nibble flipped */
  snprintf(cmd, sizeof cmd, VIGIL_CLI " bank --db %s create pics && " VIGIL_CLI " bank --db %s add pics pdq %s --id P1",
           db, db, hex);
  assert_int_equal(tu_run(cmd, NULL), 0);
  /* not without the option */
  snprintf(cmd, sizeof cmd, VIGIL_CLI " match --db %s %s 2>/dev/null", db, video);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_null(strstr(out, ",pdq,"));
  free(out);
  snprintf(cmd, sizeof cmd, VIGIL_CLI " match --db %s --video-frames %s", db, video);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, "vp8.webm#t=0.000,pdq,3,orig,pics,"));
  assert_non_null(strstr(out, "P1"));
  free(out);
  snprintf(cmd, sizeof cmd, VIGIL_CLI " match --db %s --video-frames --format json %s", db, video);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, "\"timestamp\":0.0"));
  free(out);
  /* a picture is unaffected by the option, standard input is refused for frames */
  snprintf(cmd, sizeof cmd, VIGIL_CLI " match --db %s --video-frames - < %s 2>&1", db, video);
  assert_int_equal(tu_run(cmd, &out), 1);
  assert_non_null(strstr(out, "needs a file"));
  free(out);
}

/* vigil bank add --video, its vpdq entry matched by vigil match, exported
 * as python-threatexchange writes it, the reference file imported, and a
 * removal that stops the match. */
static void test_cli_vpdq(void **state) {
  (void)state;
  const char *video = VIGIL_SOURCE_DIR "/fuzz/seeds/fuzz_video/vp8.webm";
  char db[600], ref[600], cmd[3000], *out = NULL;
  bt_path(db, sizeof db, "vpdq.db");
  bt_path(ref, sizeof ref, "clip.vpdq");
  snprintf(cmd, sizeof cmd, VIGIL_CLI " bank --db %s create vids && " VIGIL_CLI " bank --db %s add vids --video %s --tag csam",
           db, db, video);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, "added entry 1 (vpdq "));
  assert_non_null(strstr(out, ", 1 frames)"));
  assert_non_null(strstr(out, "added entry 2"));
  free(out);
  /* again: nothing new */
  snprintf(cmd, sizeof cmd, VIGIL_CLI " bank --db %s add vids --video %s && " VIGIL_CLI " bank --db %s stats vids --format json",
           db, video, db);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, "already present: entry 1"));
  assert_non_null(strstr(out, "\"active\":2,"));
  assert_non_null(strstr(out, "\"video_md5\":1,\"vpdq\":1}"));
  free(out);
  /* the match: video_md5 exactly, vpdq with both percentages and a segment */
  snprintf(cmd, sizeof cmd, VIGIL_CLI " match --db %s %s", db, video);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, "vp8.webm,video_md5,0,orig,vids,2,vp8.webm,csam,"));
  assert_non_null(strstr(out, "vp8.webm,vpdq,vids,1,vp8.webm,csam,100.0,100.0,yes,"));
  free(out);
  snprintf(cmd, sizeof cmd, VIGIL_CLI " match --db %s --format json %s", db, video);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, "\"videos\":[{\"bank\":\"vids\",\"entry_id\":1,"));
  assert_non_null(strstr(out, "\"query_pct\":100.0,\"compared_pct\":100.0,\"matched\":true"));
  assert_non_null(strstr(out, "\"vpdq_frames\":1"));
  free(out);
  /* te export: the list as python-threatexchange writes it */
  snprintf(cmd, sizeof cmd, VIGIL_CLI " bank --db %s export vids --format te", db);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, "vpdq [\"574d4595b652496c54ba512e2e5a8b34268b8badae9a6b2ed2aa55ae594a7556,100,0.0\"]\n"));
  free(out);
  /* the reference's file of the same video into another bank: same identity, external id the file name */
  snprintf(cmd, sizeof cmd,
           VIGIL_CLI " hash --format vpdq %s > %s && " VIGIL_CLI " bank --db %s import refs %s --create && " VIGIL_CLI
                     " bank --db %s export refs --format jsonl",
           video, ref, db, ref, db);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, "1 lines, 1 added"));
  assert_non_null(strstr(out, "\"external_id\":\"clip.vpdq\""));
  assert_non_null(strstr(out, "\"frames\":[[0,100,\"574d4595"));
  free(out);
  /* a bad reference line is named */
  bt_write(ref, sizeof ref, "bad.vpdq", "0,100,zz,0.000\n", (size_t)-1);
  snprintf(cmd, sizeof cmd, VIGIL_CLI " bank --db %s import refs %s 2>&1", db, ref);
  assert_int_equal(tu_run(cmd, &out), 1);
  assert_non_null(strstr(out, "bad.vpdq:1: "));
  free(out);
  /* a still of the video (its one frame's hash, as a picture would give it) against the video banks, opt-in */
  snprintf(cmd, sizeof cmd,
           VIGIL_CLI " match --db %s --bank vids 574d4595b652496c54ba512e2e5a8b34268b8badae9a6b2ed2aa55ae594a7556"
                     " && " VIGIL_CLI " match --db %s --bank vids --video-banks "
                     "574d4595b652496c54ba512e2e5a8b34268b8badae9a6b2ed2aa55ae594a7556",
           db, db);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, ",vpdq_frame,0,orig,vids,1,vp8.webm,csam,"));
  assert_non_null(strstr(out, "#t=0.000\n"));
  assert_int_equal(strstr(out, ",vpdq_frame,") - out, 64); /* only once, from the second command */
  free(out);
  /* a video on standard input is matched by its digests only, and says so */
  snprintf(cmd, sizeof cmd, VIGIL_CLI " match --db %s - < %s 2>&1", db, video);
  assert_int_equal(tu_run(cmd, &out), 1);
  assert_non_null(strstr(out, "-,video_md5,0,orig,vids,2,"));
  assert_non_null(strstr(out, "matched by its digests only"));
  assert_null(strstr(out, ",vpdq,"));
  free(out);
  /* removed: the vpdq line is gone, video_md5 still matches */
  snprintf(cmd, sizeof cmd,
           VIGIL_CLI " bank --db %s remove --id 1 --reason test && " VIGIL_CLI " bank --db %s disable refs && " VIGIL_CLI
                     " match --db %s %s",
           db, db, db, video);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_null(strstr(out, ",vpdq,"));
  assert_non_null(strstr(out, ",video_md5,"));
  free(out);
}

static int teardown(void **state) {
  (void)state;
  bt_cleanup();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_type),
      cmocka_unit_test(test_import_match_export),
      cmocka_unit_test(test_cli_match_video),
      cmocka_unit_test(test_cli_video_frames_against_pictures),
      cmocka_unit_test(test_cli_vpdq),
  };
  return cmocka_run_group_tests(tests, NULL, teardown);
}
