/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_video_serial.c - frame lists in python-threatexchange's vPDQ JSON and
 * the reference's per-frame text.
 *
 * The expected strings were produced by Python 3 itself ('{:.3}'.format(x)
 * and json.dumps of python-threatexchange's item strings), so the writer is
 * checked against the language whose format it imitates, not against its
 * own output.  Readers are checked by round trips and on malformed input,
 * whose errors must name the element or line.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/video.h"

static void test_python_timestamp_format(void **state) {
  (void)state;
  struct {
    double x;
    const char *py;
  } c[] = {
      {0.0, "0.0"},
      {5.0, "5.0"},
      {18.767, "18.8"},
      {123.456, "1.23e+02"},
      {100.0, "1e+02"},
      {99.96, "1e+02"},
      {0.033, "0.033"},
      {0.0001234, "0.000123"},
      {0.00001, "1e-05"},
      {1.0 / 30, "0.0333"},
      {0.9995, "1.0"},
      {9.995, "9.99"},
      {10.05, "10.1"},
      {1234.5, "1.23e+03"},
      {21.4333, "21.4"},
      {0.5, "0.5"},
      {0.9676343202590942, "0.968"},
      {33.36669921875, "33.4"},
      {0.10010010004043579, "0.1"},
  };
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    char out[32];
    int n = vigil_vpdq_format_ts(c[i].x, out);
    if (strcmp(out, c[i].py)) print_message("%.17g: got %s, Python %s\n", c[i].x, out, c[i].py);
    assert_string_equal(out, c[i].py);
    assert_int_equal(n, (int)strlen(c[i].py));
  }
}

static vigil_pdq_hash from_hex(const char *hex) {
  vigil_pdq_hash h;
  assert_int_equal(vigil_pdq_from_hex(hex, 64, &h, NULL), VIGIL_OK);
  return h;
}

static void test_te_json_as_python_writes_it(void **state) {
  (void)state;
  const char *h1 = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
  const char *h2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  vigil_video_frame f[3] = {{0, 100, from_hex(h1), 0.0}, {1, 49, from_hex(h2), 18.767}, {2, 7, from_hex(h2), 123.456}};
  char *text = NULL;
  size_t len = 0;
  vigil_error err = {0};
  assert_int_equal(vigil_vpdq_to_te(f, 3, &text, &len, &err), VIGIL_OK);
  const char *py =
      "[\"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff,100,0.0\", "
      "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef,49,18.8\", "
      "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef,7,1.23e+02\"]";
  assert_string_equal(text, py);
  assert_int_equal(len, strlen(py));
  /* and back: timestamps are what the three digits say */
  vigil_video_frame *g = NULL;
  size_t n = 0;
  assert_int_equal(vigil_vpdq_from_te(text, len, &g, &n, &err), VIGIL_OK);
  assert_int_equal(n, 3);
  for (size_t i = 0; i < 3; i++) {
    assert_memory_equal(g[i].hash.bytes, f[i].hash.bytes, 32);
    assert_int_equal(g[i].quality, f[i].quality);
    assert_int_equal(g[i].frame_number, (int64_t)i);
  }
  assert_true(g[1].timestamp == 18.8 && g[2].timestamp == 123.0);
  vigil_video_frames_free(g);
  free(text);
  /* the empty list both ways */
  assert_int_equal(vigil_vpdq_to_te(NULL, 0, &text, &len, &err), VIGIL_OK);
  assert_string_equal(text, "[]");
  free(text);
  assert_int_equal(vigil_vpdq_from_te("", 0, &g, &n, &err), VIGIL_OK);
  assert_int_equal(n, 0);
  assert_int_equal(vigil_vpdq_from_te("[]", 2, &g, &n, &err), VIGIL_OK);
  assert_int_equal(n, 0);
  vigil_video_frames_free(g);
}

static void test_te_json_errors(void **state) {
  (void)state;
  const char *ok = "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef,50,1.0\"";
  struct {
    const char *item;
    const char *msg;
  } bad[] = {
      {"5", "element 2: not a string"},
      {"\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde,50,1.0\"", "element 2: the hash"},
      {"\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg,50,1.0\"", "element 2: the hash"},
      {"\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef,101,1.0\"", "element 2: quality"},
      {"\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef,-1,1.0\"", "element 2: quality"},
      {"\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef,50,-1\"", "element 2: the timestamp"},
      {"\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef,50,nan\"", "element 2: the timestamp"},
      {"\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef,50,1x\"", "element 2: the timestamp"},
      {"\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef,50,1,2\"", "element 2: not three"},
      {"\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef,50\"", "element 2: not three"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char text[512];
    snprintf(text, sizeof text, "[%s, %s]", ok, bad[i].item);
    vigil_video_frame *g = NULL;
    size_t n = 7;
    vigil_error err = {0};
    assert_int_equal(vigil_vpdq_from_te(text, strlen(text), &g, &n, &err), VIGIL_EINVAL);
    assert_null(g);
    assert_int_equal(n, 0);
    if (!strstr(err.message, bad[i].msg)) print_message("%s -> %s\n", bad[i].item, err.message);
    assert_non_null(strstr(err.message, bad[i].msg));
  }
  vigil_video_frame *g = NULL;
  size_t n = 0;
  vigil_error err = {0};
  assert_int_equal(vigil_vpdq_from_te("{\"a\": 1}", 8, &g, &n, &err), VIGIL_EINVAL);
  assert_int_equal(vigil_vpdq_from_te("[\"x\"", 4, &g, &n, &err), VIGIL_EINVAL);
  assert_non_null(strstr(err.message, "line 1"));
}

static void test_reference_file(void **state) {
  (void)state;
  char text[4096] = "";
  vigil_video_frame f[20];
  for (int i = 0; i < 20; i++) {
    f[i].frame_number = i * 29;
    f[i].quality = i * 5;
    for (int b = 0; b < 32; b++) f[i].hash.bytes[b] = (uint8_t)(i * 7 + b * 13);
    f[i].timestamp = (double)((float)(i * 29) / 29.97f);
    char line[VIGIL_VIDEO_LINE_MAX];
    vigil_video_format_line(&f[i], line);
    strcat(text, line);
    strcat(text, "\n");
  }
  vigil_video_frame *g = NULL;
  size_t n = 0;
  vigil_error err = {0};
  assert_int_equal(vigil_vpdq_from_reference(text, strlen(text), &g, &n, &err), VIGIL_OK);
  assert_int_equal(n, 20);
  for (int i = 0; i < 20; i++) {
    assert_int_equal(g[i].frame_number, f[i].frame_number);
    assert_int_equal(g[i].quality, f[i].quality);
    assert_memory_equal(g[i].hash.bytes, f[i].hash.bytes, 32);
    assert_true(fabs(g[i].timestamp - f[i].timestamp) < 0.0006); /* printed %.3f */
  }
  vigil_video_frames_free(g);
  /* an error names its line */
  strcat(text, "20,50,zz,1.0\n");
  assert_int_equal(vigil_vpdq_from_reference(text, strlen(text), &g, &n, &err), VIGIL_EINVAL);
  assert_non_null(strstr(err.message, "line 21"));
  assert_null(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_python_timestamp_format),
      cmocka_unit_test(test_te_json_as_python_writes_it),
      cmocka_unit_test(test_te_json_errors),
      cmocka_unit_test(test_reference_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
