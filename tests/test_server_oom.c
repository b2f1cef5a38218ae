/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_oom.c - out of memory while hashing an upload is 503 with
 * Retry-After on /v1/match for every format, never a 4xx that a client
 * takes for "this content is bad" (which let an attacker who can exhaust
 * memory turn matches into misses).
 *
 * How memory runs out: `vigil serve` (the built binary, one malloc arena)
 * starts normally and answers a match; then its address space is capped
 * with prlimit(RLIMIT_AS) at what it uses plus 6 MiB.  Each sample is
 * patched to declare a picture of about 100 million pixels (under the
 * pixel limit and the decode budget), so the decoder's buffers and the
 * hashing state need tens to hundreds of MiB: the real allocations of
 * libjpeg, libpng, giflib, libwebp and the BMP reader fail, as they would
 * on a loaded machine.  A baseline JPEG runs out in vigil's hashing state,
 * a progressive one inside libjpeg (its whole-picture coefficient
 * buffer), the path that once answered 422.  Each must answer 503.  With the cap lifted, the
 * same uploads are what they are (damaged pictures with too few rows:
 * 422), and an intact picture matches again: the server survived.
 *
 * The sanitizer builds keep their own allocator, whose address space is
 * reserved up front, so a cap on it never bites; the test says so and
 * skips there.
 */
#define _GNU_SOURCE /* prlimit */
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jpeglib.h>

#include "httpc.h"
#include "serveproc.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define SANITIZED 1
#endif
#endif

static char dir[256];

#ifndef SANITIZED
static uint8_t *load(const char *name, size_t *n) {
  char p[600];
  snprintf(p, sizeof p, "%s/samples/%s", VIGIL_SOURCE_DIR, name);
  uint8_t *d = tu_slurp(p, n);
  assert_non_null(d);
  return d;
}

static void put16le(uint8_t *p, unsigned v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32le(uint8_t *p, uint32_t v) { put16le(p, v & 0xFFFF), put16le(p + 2, v >> 16); }
static void put32be(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t crc32_of(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
  }
  return ~c;
}

/* The first image descriptor of a GIF, after the colour table and the
 * extension blocks. */
static size_t gif_frame(const uint8_t *d, size_t n) {
  size_t i = 13;
  if (d[10] & 0x80) i += 3u * (2u << (d[10] & 7));
  while (i < n && d[i] == 0x21) {
    i += 2;
    while (i < n && d[i]) i += 1u + d[i];
    i++;
  }
  assert_true(i + 9 < n && d[i] == 0x2C);
  return i;
}

/* A small progressive greyscale JPEG made here, for libjpeg's own
 * allocation of every coefficient of the picture. */
static uint8_t *progressive_jpeg(size_t *n) {
  enum { W = 64, H = 64 };
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr jerr;
  c.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&c);
  unsigned char *out = NULL;
  unsigned long len = 0;
  jpeg_mem_dest(&c, &out, &len);
  c.image_width = W;
  c.image_height = H;
  c.input_components = 1;
  c.in_color_space = JCS_GRAYSCALE;
  jpeg_set_defaults(&c);
  jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  uint8_t row[W];
  while (c.next_scanline < H) {
    for (int x = 0; x < W; x++) row[x] = (uint8_t)(x * 4 + c.next_scanline * 2);
    JSAMPROW r = row;
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  uint8_t *d = malloc(len);
  assert_non_null(d);
  memcpy(d, out, len);
  free(out);
  *n = len;
  return d;
}

typedef struct sample {
  const char *name, *type;
  uint8_t *d;
  size_t n;
} sample;

/* Each sample patched to declare about 100 million pixels. */
static void make_big(sample *s) {
  int sof2 = !strcmp(s->name, "progressive");
  s->d = sof2 ? progressive_jpeg(&s->n) : load(s->name, &s->n);
  uint8_t *d = s->d;
  if (!strcmp(s->type, "image/jpeg")) { /* SOF0 or SOF2: height, width */
    size_t i = 2;
    while (i + 9 < s->n && !(d[i] == 0xFF && d[i + 1] == (sof2 ? 0xC2 : 0xC0))) i++;
    assert_true(i + 9 < s->n);
    d[i + 5] = 1500 >> 8, d[i + 6] = 1500 & 255, d[i + 7] = 65000 >> 8, d[i + 8] = 65000 & 255;
  } else if (!strcmp(s->type, "image/png")) { /* IHDR width, height; its CRC */
    put32be(d + 16, 65000);
    put32be(d + 20, 1500);
    put32be(d + 29, crc32_of(d + 12, 17));
  } else if (!strcmp(s->type, "image/gif")) { /* screen and first frame */
    put16le(d + 6, 65000);
    put16le(d + 8, 1500);
    size_t f = gif_frame(d, s->n);
    put16le(d + f + 1, 0), put16le(d + f + 3, 0), put16le(d + f + 5, 65000), put16le(d + f + 7, 1500);
  } else if (!strcmp(s->type, "image/webp")) { /* VP8: 14-bit width and height */
    assert_memory_equal(d + 23, "\x9d\x01\x2a", 3);
    put16le(d + 26, 16383);
    put16le(d + 28, 6000);
  } else { /* BMP */
    put32le(d + 18, 65000);
    put32le(d + 22, 1500);
  }
}

static int match(int port, const char *key, const sample *s, const uint8_t *d, size_t n, char *retry) {
  tu_http_resp r;
  assert_int_equal(tu_http(port, "POST", "/v1/match", key, s->type, d, n, &r), 0);
  if (retry) {
    retry[0] = 0;
    tu_http_header(&r, "Retry-After", retry, 16);
  }
  if (r.status != 503 && r.status != 422 && r.status != 200)
    print_message("%s: %d %s\n", s->name, r.status, r.body ? r.body : "");
  int st = r.status;
  tu_http_free(&r);
  return st;
}

static long vm_size_kb(pid_t pid) {
  char p[64], line[256];
  snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
  FILE *f = fopen(p, "r");
  assert_non_null(f);
  long kb = -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "VmSize:", 7)) kb = strtol(line + 7, NULL, 10);
  fclose(f);
  assert_true(kb > 0);
  return kb;
}

static void cap(pid_t pid, rlim_t bytes) {
  struct rlimit l;
  assert_int_equal(prlimit(pid, RLIMIT_AS, NULL, &l), 0);
  l.rlim_cur = bytes;
  assert_int_equal(prlimit(pid, RLIMIT_AS, &l, NULL), 0);
}

static void test_oom_is_503(void **state) {
  (void)state;
  sample s[] = {{"rings.jpg", "image/jpeg", NULL, 0},  {"progressive", "image/jpeg", NULL, 0},
                {"waves.png", "image/png", NULL, 0},   {"tiles.gif", "image/gif", NULL, 0},
                {"swirl.webp", "image/webp", NULL, 0}, {"square.bmp", "image/bmp", NULL, 0}};
  enum { NS = sizeof s / sizeof s[0] };
  size_t jn;
  uint8_t *jpg = load("rings.jpg", &jn);
  for (int i = 0; i < NS; i++) make_big(&s[i]);
  char db[400];
  snprintf(db, sizeof db, "%s/oom.db", dir);
  setenv("MALLOC_ARENA_MAX", "1", 1); /* no new arena, with its 64 MiB reservation, mid-test */
  tu_serve srv;
  assert_int_equal(tu_serve_start(&srv, db, dir, "oom"), 0);
  unsetenv("MALLOC_ARENA_MAX");
  /* warm: every worker has answered a whole decode once */
  for (int i = 0; i < 4; i++) assert_int_equal(match(srv.port, srv.key, &s[0], jpg, jn, NULL), 200);

  cap(srv.pid, (rlim_t)vm_size_kb(srv.pid) * 1024 + (6u << 20));
  char retry[16];
  for (int i = 0; i < NS; i++) {
    int st = match(srv.port, srv.key, &s[i], s[i].d, s[i].n, retry);
    if (st != 503) print_message("%s under the memory cap: %d\n", s[i].name, st);
    assert_int_equal(st, 503);
    assert_true(retry[0] != 0);
  }
  cap(srv.pid, RLIM_INFINITY);

  /* memory back: the same uploads are damaged pictures (too few rows), the intact one matches */
  for (int i = 0; i < NS; i++) {
    int st = match(srv.port, srv.key, &s[i], s[i].d, s[i].n, NULL);
    if (st != 422) print_message("%s without the cap: %d\n", s[i].name, st);
    assert_int_equal(st, 422);
  }
  assert_int_equal(match(srv.port, srv.key, &s[0], jpg, jn, NULL), 200);
  kill(srv.pid, SIGTERM);
  int ws;
  waitpid(srv.pid, &ws, 0);
  assert_true(WIFEXITED(ws));
  for (int i = 0; i < NS; i++) free(s[i].d);
  free(jpg);
}
#endif

static int setup(void **state) {
  (void)state;
  return tu_mkdtemp(dir, sizeof dir, "oom") ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  return tu_rmtree(dir);
}

int main(void) {
#ifdef SANITIZED
  (void)setup, (void)teardown;
  printf("skipped: a sanitizer's allocator reserves its address space up front, so RLIMIT_AS never bites\n");
  return 77;
#else
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_oom_is_503)};
  return cmocka_run_group_tests(tests, setup, teardown);
#endif
}
