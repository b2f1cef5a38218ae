/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_network_html.c - the `vigil link` HTML report in a real browser.
 *
 * Hostile ads (script tags, an <img onerror>, an <svg onload>, markup in
 * ids, places and template slots, invalid UTF-8) are linked into one group
 * so that their text lands in every part of the report.  Headless Debian
 * chromium then dumps the DOM after load and takes a screenshot: the title
 * must still be the report's own (a script from an ad would have changed
 * it), the DOM must hold no <script> but the report's own, and no <img>
 * or event-handler element from the ads (they must show as text), a
 * javascript: URL must not become a link while an https one does, the
 * identical reposts fold into one row, the dated ads draw a time line,
 * graph labels do not overlap, the search in the page (driven through the
 * address: #q=...&f=phone) shows and hides the group, and finds a place
 * whatever the case of its non-ASCII letters, and the screenshot
 * must be a PNG.  The groups travel in a JSON data block: a </script> and
 * U+2028 in an ad's title and place must not end it (no '<' inside, no raw
 * U+2028/U+2029 in the page).  A second report of 2,000 groups checks that
 * only one page of rows and only the opened section are drawn, that every
 * group is reachable (#g1999 builds the last one's section) and prints
 * when the page was ready.
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
    "{\"id\":\"evil1\",\"title\":\"<script>document.title='pwned'</script> Kira </script><script>"
    "document.title='pwned-json'</script><!-- \\u2028\\u2029\",\"body\":\"Hi gentlemen my name is "
    "Kira and I am a sweet girl visiting your city this week only call me at 2135550199 for an unforgettable time with "
    "a real companion who loves to make you smile and relax after a long day at work with soft music and candles <img src=x onerror=\\\"document.title='pwned-img'\\\">\",\"location\":\"<b onmouseover=alert(1)>LA"
    "</b></script><script>document.title='pwned-place'</script>\\u2028\"}\n"
    "{\"id\":\"evil2<script>document.title='pwned-id'</script>\",\"title\":\"<svg onload=\\\"document.title="
    "'pwned-svg'\\\"> Lena\",\"body\":\"Hi gentlemen my name is Lena and I am a sweet girl visiting your city this week "
    "only call me at 2135550199 for an unforgettable time with a real companion who loves to make you smile and relax after a long day at work with soft music and candles \xff\xfe</td></table><script>"
    "document.title='pwned-break'</script>\",\"location\":\"\\\"><script>document.title='pwned-attr'</script>\"}\n"
    "{\"id\":\"evil3\",\"title\":\"Mia\",\"body\":\"Hi gentlemen my name is <iframe src=javascript:alert(1)> and I am a "
    "sweet girl visiting your city this week only call me at 213-555-0199 for an unforgettable time with a real "
    "companion who loves to make you smile and relax after a long day at work with soft music and candles\",\"url\":\"javascript:document.title='pwned-url'\","
    "\"posted_at\":\"2018-03-01T10:00:00\"}\n"
    "{\"id\":\"evil4\",\"title\":\"Mia\",\"body\":\"Hi gentlemen my name is <iframe src=javascript:alert(1)> and I am a "
    "sweet girl visiting your city this week only call me at 213-555-0199 for an unforgettable time with a real "
    "companion who loves to make you smile and relax after a long day at work with soft music and candles\",\"url\":\"https://example.org/ad?id=4&x=\\\"><script>1</script>\","
    "\"posted_at\":\"2018-03-05\"}\n";

/* Runs chromium headless on url and returns the DOM after load. */
static char *dom_of(const char *b, const char *dir, const char *url) {
  char cmd[2048], *dom = NULL;
  snprintf(cmd, sizeof cmd,
           "timeout 120 %s --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions "
           "--virtual-time-budget=5000 --user-data-dir=%s/profile --dump-dom '%s' 2>/dev/null",
           b, dir, url);
  assert_int_equal(tu_run(cmd, &dom), 0);
  return dom;
}

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p++) n++;
  return n;
}

/* Graph labels (<text class="lab" x=.. y=..>label</text>) must not overlap:
 * the boxes the report placed them in (6 px a character, 11 px high). */
static void labels_apart(const char *dom) {
  double bx[256][4];
  int n = 0;
  for (const char *p = dom; n < 256 && (p = strstr(p, "<text class=\"lab\" x=\"")); p++) {
    double x, y;
    assert_int_equal(sscanf(p, "<text class=\"lab\" x=\"%lf\" y=\"%lf\"", &x, &y), 2);
    const char *t = strchr(p, '>') + 1, *e = strstr(t, "</text>");
    assert_non_null(e);
    size_t chars = 0;
    for (const char *c = t; c < e; c++) chars += ((unsigned char)*c & 0xC0) != 0x80;
    bx[n][0] = x - 1, bx[n][1] = y + 2 - 11, bx[n][2] = x - 1 + 6.0 * (double)chars + 2, bx[n][3] = y + 2;
    n++;
  }
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      assert_false(bx[i][0] < bx[j][2] - 0.5 && bx[j][0] < bx[i][2] - 0.5 && bx[i][1] < bx[j][3] - 0.5 &&
                   bx[j][1] < bx[i][3] - 0.5);
}

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
  assert_non_null(strstr(out, "4 ads (4 new, 0 bad lines), 1 groups holding 4 ads"));
  free(out);

  /* the data block: no ad text ends it (no '<' at all inside), and no raw
   * U+2028/U+2029 anywhere in the page */
  snprintf(path, sizeof path, "%s/out/report.html", dir);
  size_t plen = 0;
  char *page = (char *)tu_slurp(path, &plen);
  assert_non_null(page);
  const char *blk = strstr(page, "<script type=\"application/json\" id=\"data\">");
  assert_non_null(blk);
  blk = strchr(blk, '>') + 1;
  const char *blk_end = strstr(blk, "</script>");
  assert_non_null(blk_end);
  assert_null(memchr(blk, '<', (size_t)(blk_end - blk)));
  assert_non_null(strstr(blk, "\\u003c/script\\u003e\\u003cscript\\u003edocument.title='pwned-place'"));
  assert_non_null(strstr(blk, "\\u2028"));
  assert_null(strstr(page, "\xe2\x80\xa8"));
  assert_null(strstr(page, "\xe2\x80\xa9"));
  assert_int_equal(count(page, "</script>"), 2);
  free(page);

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
  /* and nothing from it became an element: the one script is the report's */
  assert_int_equal(count(dom, "<script"), 2);
  assert_non_null(strstr(dom, "<script>(function(){'use strict';"));
  assert_non_null(strstr(dom, "<script type=\"application/json\" id=\"data\">"));
  assert_non_null(strstr(dom, "<section class=\"g\" id=\"g0\">")); /* the top group opens at start */
  assert_null(strstr(dom, "href=\"javascript"));
  assert_non_null(strstr(dom, "href=\"https://example.org/ad?id=4"));
  assert_non_null(strstr(dom, "(not a web address: not linked)"));
  /* evil3 and evil4 are the same text: one row, counted */
  assert_non_null(strstr(dom, "×2"));
  assert_non_null(strstr(dom, "4 ads, 3 distinct texts"));
  assert_non_null(strstr(dom, "<svg class=\"tl\""));
  assert_non_null(strstr(dom, "1 groups"));
  labels_apart(dom);
  assert_null(strstr(dom, "<img"));
  assert_null(strstr(dom, "<iframe"));
  assert_null(strstr(dom, "<svg onload"));
  assert_null(strstr(dom, "<b onmouseover"));
  /* the report's own parts rendered */
  assert_non_null(strstr(dom, "<svg class=\"graph\""));
  assert_non_null(strstr(dom, "class=\"slot"));
  assert_non_null(strstr(dom, "<mark class=\"phone\">"));
  free(dom);

  /* the search in the page, driven through the address */
  char url[512];
  snprintf(url, sizeof url, "file://%s/out/report.html#q=213-555-0199&f=phone", dir);
  dom = dom_of(b, dir, url);
  assert_non_null(strstr(dom, "1 of 1 groups shown"));
  free(dom);
  snprintf(url, sizeof url, "file://%s/out/report.html#q=nobody&f=name", dir);
  dom = dom_of(b, dir, url);
  assert_non_null(strstr(dom, "0 of 1 groups shown"));
  assert_null(strstr(dom, "<a href=\"#g0\">")); /* no row drawn for it */
  assert_null(strstr(dom, "<section class=\"g\""));
  free(dom);
  snprintf(url, sizeof url, "file://%s/out/report.html#q=&r=0.9", dir);
  dom = dom_of(b, dir, url);
  assert_non_null(strstr(dom, " of 1 groups shown"));
  free(dom);

  /* the search ignores case beyond ASCII: a place written ZÜRICH is found
   * as zürich, and ΚΑΣΤΟΡΙΑ as καστορια and as ΚΑΣ (a capital sigma that
   * toLowerCase makes a final ς at the end of the query) */
  snprintf(path, sizeof path, "%s/accents.jsonl", dir);
  f = fopen(path, "w");
  assert_non_null(f);
  for (int k = 0; k < 2; k++)
    fprintf(f,
            "{\"id\":\"z%d\",\"title\":\"new in town\",\"body\":\"sweet girl visiting your city this week only "
            "call me at 213-555-0147 for an unforgettable time\",\"location\":\"ZÜRICH ΚΑΣΤΟΡΙΑ\"}\n",
            k);
  fclose(f);
  snprintf(cmd, sizeof cmd, VIGIL_CLI " link --out %s/accents %s", dir, path);
  assert_int_equal(tu_run(cmd, &out), 0);
  free(out);
  static const char *const finds[] = {"z%C3%BCrich&f=place", "Z%C3%9CRICH&f=all",
                                      "%CE%BA%CE%B1%CF%83%CF%84%CE%BF%CF%81%CE%B9%CE%B1&f=place",
                                      "%CE%9A%CE%91%CE%A3&f=place"};
  for (size_t i = 0; i < sizeof finds / sizeof finds[0]; i++) {
    snprintf(url, sizeof url, "file://%s/accents/report.html#q=%s", dir, finds[i]);
    dom = dom_of(b, dir, url);
    if (!strstr(dom, "1 of 1 groups shown")) fail_msg("#q=%s did not find the group", finds[i]);
    free(dom);
  }

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

  /* 2,000 groups of two ads: every group reachable, the last one's details open on #g1999 */
  snprintf(path, sizeof path, "%s/many.jsonl", dir);
  f = fopen(path, "w");
  assert_non_null(f);
  static const char *const words[] = {"sweet", "girl", "visiting", "city", "week", "only", "unforgettable", "time",
                                      "real", "companion", "smile", "relax", "long", "day", "soft", "music", "candles",
                                      "new", "town", "young", "fun", "upscale", "petite", "curvy", "blonde",
                                      "brunette", "classy", "discreet", "friendly", "private", "outcall", "incall"};
  uint64_t rs = 2018;
  for (int g = 0; g < 2000; g++) {
    char body[512];
    size_t bl = 0;
    for (int w = 0; w < 25; w++)
      bl += (size_t)snprintf(body + bl, sizeof body - bl, "%s ", words[tu_rand(&rs) % (sizeof words / sizeof words[0])]);
    for (int k = 0; k < 2; k++)
      fprintf(f,
              "{\"id\":\"m%d_%d\",\"title\":\"Ad %d\",\"body\":\"%scall me %03d%03d%04d\","
              "\"posted_at\":\"2018-0%d-1%d\",\"url\":\"http://example.com/%d/%d\"}\n",
              g, k, g, body, 201 + g % 700, 200 + g % 751, 1000 + g, 1 + k, g % 10, g, k);
  }
  fclose(f);
  snprintf(cmd, sizeof cmd, VIGIL_CLI " link --out %s/many %s", dir, path);
  assert_int_equal(tu_run(cmd, &out), 0);
  assert_non_null(strstr(out, "2000 groups"));
  free(out);
  snprintf(url, sizeof url, "file://%s/many/report.html#g1999", dir);
  dom = dom_of(b, dir, url);
  assert_non_null(strstr(dom, "2000 groups"));
  assert_int_equal(count(dom, "<section class=\"g\""), 1); /* only the opened one */
  assert_int_equal(count(dom, "<tr data-g="), 100);             /* one page of rows */
  assert_non_null(strstr(dom, "rows 1\u2013100 of 2000"));
  const char *last = strstr(dom, "id=\"g1999\"");
  assert_non_null(last);
  assert_non_null(strstr(last, "<svg class=\"graph\"")); /* its details became elements */
  const char *ready = strstr(dom, "data-ready-ms=\"");
  assert_non_null(ready);
  printf("2,000-group report ready after %ld ms (not asserted: the machine's load decides)\n",
         strtol(ready + 15, NULL, 10));
  free(dom);
  assert_int_equal(tu_rmtree(dir), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_report_in_browser)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
