/*
 * test_network_html.c - the `vigil link` HTML report in a real browser.
 *
 * Hostile ads (script tags, an <img onerror>, an <svg onload>, markup in
 * ids, places and template slots, invalid UTF-8) are linked into one group
 * so that their text lands in every part of the report.  Headless Debian
 * chromium then dumps the DOM after load and takes a screenshot: the title
 * must still be the report's own (a script from an ad would have changed
 * it), the DOM must hold no <script>, <img> or event-handler element from
 * the ads (they must show as text), and the screenshot must be a PNG.
 * Without chromium (scripts/install-deps --test installs it) the test skips
 * with 77.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

static const char *browser(void) {
  static const char *const names[] = {"chromium", "chromium-browser", "google-chrome"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", names[i]);
    if (tu_run(cmd, NULL) == 0) return names[i];
  }
  return NULL;
}

static const char hostile[] =
    "{\"id\":\"evil1\",\"title\":\"<script>document.title='pwned'</script> Kira\",\"body\":\"Hi gentlemen my name is "
    "Kira and I am a sweet girl visiting your city this week only call me at 2135550199 for an unforgettable time with "
    "a real companion who loves to make you smile and relax after a long day at work with soft music and candles <img src=x onerror=\\\"document.title='pwned-img'\\\">\",\"location\":\"<b onmouseover=alert(1)>LA"
    "</b>\"}\n"
    "{\"id\":\"evil2<script>document.title='pwned-id'</script>\",\"title\":\"<svg onload=\\\"document.title="
    "'pwned-svg'\\\"> Lena\",\"body\":\"Hi gentlemen my name is Lena and I am a sweet girl visiting your city this week "
    "only call me at 2135550199 for an unforgettable time with a real companion who loves to make you smile and relax after a long day at work with soft music and candles \xff\xfe</td></table><script>"
    "document.title='pwned-break'</script>\",\"location\":\"\\\"><script>document.title='pwned-attr'</script>\"}\n"
    "{\"id\":\"evil3\",\"title\":\"Mia\",\"body\":\"Hi gentlemen my name is <iframe src=javascript:alert(1)> and I am a "
    "sweet girl visiting your city this week only call me at 213-555-0199 for an unforgettable time with a real "
    "companion who loves to make you smile and relax after a long day at work with soft music and candles\",\"url\":\"javascript:document.title='pwned-url'\"}\n";

static void test_report_in_browser(void **state) {
  (void)state;
  const char *b = browser();
  if (!b) {
    printf("chromium not found (run scripts/install-deps --test): skipping the browser check\n");
    exit(77);
  }
  char dir[] = "/tmp/vigil_link_htmlXXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[128], cmd[1024], *out;
  snprintf(path, sizeof path, "%s/ads.jsonl", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(hostile, f);
  fclose(f);
  snprintf(cmd, sizeof cmd, VIGIL_CLI " link --out %s/out %s", dir, path);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, "3 ads (3 new, 0 bad lines), 1 groups holding 3 ads"));
  free(out);

  const char *flags = "--headless --no-sandbox --disable-gpu --no-first-run --disable-extensions "
                      "--virtual-time-budget=3000";
  snprintf(cmd, sizeof cmd, "timeout 90 %s %s --user-data-dir=%s/profile --dump-dom file://%s/out/report.html 2>/dev/null",
           b, flags, dir, dir);
  char *dom;
  assert_int_equal(tu_run(cmd, &dom), 0);
  assert_non_null(strstr(dom, "<title>vigil link report</title>"));
  assert_null(strstr(dom, "<title>pwned"));
  /* the hostile markup is there, as text */
  assert_non_null(strstr(dom, "&lt;script&gt;document.title='pwned'&lt;/script&gt;"));
  assert_non_null(strstr(dom, "&lt;img src=x onerror="));
  /* and nothing from it became an element */
  assert_null(strstr(dom, "<script"));
  assert_null(strstr(dom, "<img"));
  assert_null(strstr(dom, "<iframe"));
  assert_null(strstr(dom, "<svg onload"));
  assert_null(strstr(dom, "<b onmouseover"));
  /* the report's own parts rendered */
  assert_non_null(strstr(dom, "<svg class=\"graph\""));
  assert_non_null(strstr(dom, "class=\"slot"));
  assert_non_null(strstr(dom, "<mark class=\"phone\">"));
  free(dom);

  snprintf(cmd, sizeof cmd,
           "timeout 90 %s %s --user-data-dir=%s/profile --window-size=1200,1600 --screenshot=%s/shot.png "
           "file://%s/out/report.html >/dev/null 2>&1",
           b, flags, dir, dir, dir);
  assert_int_equal(tu_run(cmd, NULL), 0);
  snprintf(path, sizeof path, "%s/shot.png", dir);
  size_t n = 0;
  uint8_t *png = tu_slurp(path, &n);
  assert_non_null(png);
  assert_true(n > 10000);
  assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
  free(png);
  assert_int_equal(tu_rmtree(dir), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_report_in_browser)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
