/* SPDX-License-Identifier: Apache-2.0 */
/*
 * consumer.c - a program built against an installed vigil, the way a user
 * of the library builds one (tests/test_common_install.sh): only
 * <vigil/...> headers, linked through pkg-config or find_package.  It
 * touches the decoders (JPEG, PNG), PDQ and a SQLite bank store, so a
 * static link that lacks a library fails here, and checks that the headers
 * and the library it runs with are the same version.
 * Usage: consumer SAMPLES_DIR WORK_DIR; prints "ok VERSION" and exits 0.
 */
#include <stdio.h>
#include <string.h>

#include <vigil/bank.h>
#include <vigil/common.h>
#include <vigil/media.h>
#include <vigil/pdq.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: consumer SAMPLES_DIR WORK_DIR\n");
    return 2;
  }
  if (strcmp(vigil_version(), VIGIL_VERSION_STRING) != 0 || vigil_version_number() != VIGIL_VERSION_NUMBER) {
    fprintf(stderr, "headers say %s, library says %s\n", VIGIL_VERSION_STRING, vigil_version());
    return 1;
  }
  const char *pics[] = {"rings.jpg", "rings-mirrored.jpg", "waves.png"};
  vigil_pdq_result res[3];
  for (int i = 0; i < 3; i++) {
    char path[4096];
    vigil_error err;
    snprintf(path, sizeof path, "%s/%s", argv[1], pics[i]);
    if (vigil_hash_file(path, NULL, &res[i], NULL, &err) != VIGIL_OK) {
      fprintf(stderr, "%s: %s\n", path, err.message);
      return 1;
    }
  }
  int mirrored = vigil_pdq_distance(&res[0].hash[0], &res[1].hash[0]);
  int other = vigil_pdq_distance(&res[0].hash[0], &res[2].hash[0]);
  if (mirrored <= 0 || other <= 0) {
    fprintf(stderr, "unexpected distances %d %d\n", mirrored, other);
    return 1;
  }
  char db[4096];
  snprintf(db, sizeof db, "sqlite:%s/consumer.db", argv[2]);
  vigil_bank_store *st = NULL;
  vigil_error err;
  if (vigil_bank_store_open(&st, db, &err) != VIGIL_OK || vigil_bank_create(st, "demo", "", &err) != VIGIL_OK) {
    fprintf(stderr, "%s: %s\n", db, err.message);
    vigil_bank_store_close(st);
    return 1;
  }
  printf("ok %s %s\n", vigil_version(), vigil_bank_store_backend(st));
  vigil_bank_store_close(st);
  return 0;
}
