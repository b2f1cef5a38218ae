/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pdq_conformance.c - vigil against the reference's own hashes of its
 * 49 test images (../shared/pdq), in both modes and all 8 dihedral variants.
 * Every image must match bit for bit.  Skips (exit 77) without ../shared.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/media.h"

static char shared_dir[4096];

/* Checks each row "hash,quality,path" of expected/<csv> in the given mode. */
static void check_table(const char *csv, int mode) {
  char path[4200], line[1024];
  snprintf(path, sizeof path, "%s/pdq/expected/%s", shared_dir, csv);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  int rows = 0, exact = 0;
  assert_non_null(fgets(line, sizeof line, f)); /* header */
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    char *hash = strtok(line, ","), *q = strtok(NULL, ","), *rel = strtok(NULL, ",");
    assert_non_null(rel);
    char img[4500];
    snprintf(img, sizeof img, "%s/pdq/images/%s", shared_dir, rel);
    vigil_hash_opts o;
    vigil_hash_opts_default(&o);
    o.mode = mode;
    vigil_pdq_result r;
    vigil_error e;
    int rc = vigil_hash_file(img, &o, &r, NULL, &e);
    char hex[65] = "";
    if (rc == 0) vigil_pdq_to_hex(&r.hash[0], hex);
    int ok = rc == 0 && !strcmp(hex, hash) && r.quality == atoi(q);
    if (!ok) {
      vigil_pdq_hash want;
      vigil_pdq_from_hex(hash, 64, &want, NULL);
      printf("MISMATCH %s %s: got %s q=%d (distance %d), want %s q=%s %s\n", csv, rel, hex, r.quality,
             rc ? -1 : vigil_pdq_distance(&want, &r.hash[0]), hash, q, rc ? e.message : "");
    }
    rows++;
    exact += ok;
  }
  fclose(f);
  printf("%s: %d/%d bit-exact\n", csv, exact, rows);
  assert_int_equal(rows, 49);
  assert_int_equal(exact, rows);
}

static void test_fullres(void **state) {
  (void)state;
  check_table("fullres.csv", VIGIL_MODE_FULLRES);
}

static void test_cli(void **state) {
  (void)state;
  check_table("cli.csv", VIGIL_MODE_CLI);
}

static void test_dihedral(void **state) {
  (void)state;
  char path[4200], line[1024];
  snprintf(path, sizeof path, "%s/pdq/expected/fullres-dihedral.csv", shared_dir);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  assert_non_null(fgets(line, sizeof line, f));
  int rows = 0, exact = 0;
  char last[1024] = "";
  vigil_pdq_result r;
  memset(&r, 0, sizeof r);
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    char *rel = strtok(line, ","), *var = strtok(NULL, ","), *hash = strtok(NULL, ",");
    assert_non_null(hash);
    if (strcmp(rel, last)) {
      char img[4500];
      snprintf(img, sizeof img, "%s/pdq/images/%s", shared_dir, rel);
      vigil_hash_opts o;
      vigil_hash_opts_default(&o);
      o.dihedral = 1;
      assert_int_equal(vigil_hash_file(img, &o, &r, NULL, NULL), 0);
      snprintf(last, sizeof last, "%s", rel);
    }
    int v = 0;
    while (v < VIGIL_DIH_COUNT && strcmp(vigil_dihedral_name(v), var)) v++;
    assert_true(v < VIGIL_DIH_COUNT);
    char hex[65];
    vigil_pdq_to_hex(&r.hash[v], hex);
    if (strcmp(hex, hash)) printf("MISMATCH dihedral %s %s: got %s want %s\n", rel, var, hex, hash);
    else exact++;
    rows++;
  }
  fclose(f);
  printf("fullres-dihedral.csv: %d/%d bit-exact\n", exact, rows);
  assert_int_equal(rows, 49 * 8);
  assert_int_equal(exact, rows);
}

int main(void) {
  if (!tu_shared("pdq/expected/fullres.csv", shared_dir, sizeof shared_dir)) return 77;
  snprintf(shared_dir, sizeof shared_dir, "%s", VIGIL_SHARED_DIR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fullres),
      cmocka_unit_test(test_cli),
      cmocka_unit_test(test_dihedral),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
