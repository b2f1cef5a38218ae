/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bank_testutil.c - see bank_testutil.h.
 */
#include "bank_testutil.h"
#include "testutil.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char scratch[256];

const char *bt_dir(void) {
  if (!scratch[0]) {
    snprintf(scratch, sizeof scratch, "/tmp/vigil-banktest-XXXXXX");
    if (!mkdtemp(scratch)) {
      scratch[0] = '\0';
      fail_msg("cannot create a scratch directory");
    }
  }
  return scratch;
}

const char *bt_path(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "%s/%s", bt_dir(), name);
  return buf;
}

const char *bt_write(char *buf, size_t cap, const char *name, const void *data, size_t len) {
  bt_path(buf, cap, name);
  if (len == (size_t)-1) len = strlen(data);
  FILE *f = fopen(buf, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
  return buf;
}

void bt_cleanup(void) {
  if (!scratch[0]) return;
  DIR *d = opendir(scratch);
  struct dirent *de;
  while (d && (de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    char p[600];
    snprintf(p, sizeof p, "%s/%s", scratch, de->d_name);
    unlink(p);
  }
  if (d) closedir(d);
  rmdir(scratch);
  scratch[0] = '\0';
}

vigil_bank_store *bt_store(const char *name) {
  char p[600];
  bt_path(p, sizeof p, name);
  unlink(p);
  vigil_bank_store *st = NULL;
  vigil_error err;
  int rc = vigil_bank_store_open(&st, p, &err);
  if (rc) fail_msg("open %s: %s", p, err.message);
  return st;
}

void bt_random_hash(uint64_t *rng, uint8_t out[32]) {
  for (int i = 0; i < 4; i++) {
    uint64_t x = tu_rand(rng);
    memcpy(out + 8 * i, &x, 8);
  }
}

void bt_flip(uint64_t *rng, const uint8_t in[32], int bits, uint8_t out[32]) {
  memcpy(out, in, 32);
  uint8_t used[256] = {0};
  for (int k = 0; k < bits;) {
    int b = (int)(tu_rand(rng) % 256);
    if (used[b]) continue;
    used[b] = 1;
    out[b / 8] ^= (uint8_t)(1u << (b % 8));
    k++;
  }
}

static int count_fn(void *ctx, const vigil_bank_entry *e) {
  (void)e;
  (*(uint64_t *)ctx)++;
  return 0;
}

uint64_t bt_count(vigil_bank_store *st, const char *bank, int include_removed) {
  uint64_t n = 0;
  vigil_error err;
  int rc = vigil_bank_foreach(st, bank, include_removed, count_fn, &n, &err);
  if (rc) fail_msg("count: %s", err.message);
  return n;
}

static int ack_fd = -1;

static int on_commit(void *ctx, uint64_t batch_no, uint64_t lines) {
  (void)ctx;
  (void)lines;
  if (write(ack_fd, &batch_no, sizeof batch_no) != (ssize_t)sizeof batch_no) _exit(3);
  return 0;
}

uint64_t bt_import_killed(const char *loc, const char *bank, const char *csv, uint64_t batch, uint64_t kill_after) {
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    ack_fd = fds[1];
    vigil_bank_store *cs;
    vigil_error err;
    if (vigil_bank_store_open(&cs, loc, &err)) _exit(4);
    FILE *in = fopen(csv, "rb");
    if (!in) _exit(5);
    vigil_bank_import_opts o;
    vigil_bank_import_opts_default(&o);
    o.batch = batch;
    o.on_commit = on_commit;
    vigil_bank_import_report rep;
    int rc = vigil_bank_import(cs, bank, in, &o, &rep, &err);
    _exit(rc == VIGIL_OK ? 0 : 6); /* reaching here means the kill came too late */
  }
  close(fds[1]);
  uint64_t acked = 0, b;
  int killed = 0;
  while (read(fds[0], &b, sizeof b) == (ssize_t)sizeof b) {
    assert_int_equal(b, acked + 1); /* in order, none skipped */
    acked = b;
    if (!killed && acked >= kill_after) {
      kill(pid, SIGKILL);
      killed = 1;
    }
  }
  close(fds[0]);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  printf("child: %s after %llu acknowledged batches\n", WIFSIGNALED(status) ? "killed" : "exited",
         (unsigned long long)acked);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGKILL);
  assert_true(acked >= kill_after);
  return acked;
}
