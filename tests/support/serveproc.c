/*
 * serveproc.c - see serveproc.h.
 */
#include "serveproc.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "httpc.h"

void tu_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int tu_serve_start(tu_serve *s, const char *db, const char *dir, const char *tag) {
  memset(s, 0, sizeof *s);
  char portf[600], keyf[600], outf[600];
  snprintf(portf, sizeof portf, "%s/port-%s", dir, tag);
  snprintf(keyf, sizeof keyf, "%s/key-%s", dir, tag);
  snprintf(outf, sizeof outf, "%s/out-%s", dir, tag);
  unlink(portf);
  unlink(keyf);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int fd = open(outf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execl(VIGIL_CLI, "vigil", "serve", "--listen", "127.0.0.1:0", "--db", db, "--threads", "2", "--port-file", portf,
          "--admin-key-file", keyf, (char *)NULL);
    _exit(127);
  }
  s->pid = pid;
  for (int i = 0; i < 400; i++) {
    FILE *f = fopen(portf, "r");
    if (f) {
      int ok = fscanf(f, "%d", &s->port) == 1;
      fclose(f);
      if (ok && s->port > 0) {
        f = fopen(keyf, "r");
        if (f) {
          if (!fgets(s->key, sizeof s->key, f)) s->key[0] = 0;
          s->key[strcspn(s->key, "\r\n")] = 0;
          fclose(f);
        }
        return 0;
      }
    }
    tu_sleep_ms(25);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -1;
}

json_t *tu_call(int port, const char *method, const char *path, const char *key, const char *body, int *status) {
  tu_http_resp r;
  if (tu_http(port, method, path, key, body ? "application/json" : NULL, body, body ? strlen(body) : 0, &r) != 0) {
    *status = 0;
    return NULL;
  }
  *status = r.status;
  json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
  tu_http_free(&r);
  return j;
}
