/* SPDX-License-Identifier: Apache-2.0 */
/*
 * serveproc.h - `vigil serve` (the built VIGIL_CLI) as a child process for
 * tests: started on an ephemeral loopback port, its bootstrap admin key
 * read back, and JSON calls to it.
 */
#ifndef VIGIL_TEST_SERVEPROC_H
#define VIGIL_TEST_SERVEPROC_H

#include <jansson.h>
#include <sys/types.h>

typedef struct tu_serve {
  pid_t pid;
  int port;
  char key[128]; /* bootstrap admin key, if this start printed one */
} tu_serve;

/* Starts `vigil serve --db db` with its port, key and output files in dir
 * (named after tag).  0 when it listens; -1 otherwise (nothing left running). */
int tu_serve_start(tu_serve *s, const char *db, const char *dir, const char *tag);
/* The same with one more argument for `vigil serve` (NULL: none). */
int tu_serve_start_with(tu_serve *s, const char *db, const char *dir, const char *tag, const char *extra);

/* Waits until the server child pid writes its port to portf; the port, or
 * 0 when the child exited first or TU_SERVE_START_MS passed.  Generous:
 * a server under a sanitizer on a loaded 2-core machine (PostgreSQL
 * schema, key hashing) can take tens of seconds to listen. */
#define TU_SERVE_START_MS 60000
int tu_wait_port_file(pid_t pid, const char *portf);

/* One JSON call (body NULL: none); *status 0 when no response came.
 * Returns the parsed body (NULL if none or not JSON). */
json_t *tu_call(int port, const char *method, const char *path, const char *key, const char *body, int *status);

void tu_sleep_ms(int ms);

/* Request threads share each store's connection: six client threads send
 * 150 match calls each to one `vigil serve` on db, every call an exact
 * lookup, a PDQ hit's entry fetch and a new review case; each must get
 * the right answer and every case must exist.  Fails the test otherwise. */
void tu_check_concurrent_matches(const char *db, const char *dir);

#endif
