/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_bank_import.c - any bytes through the bank importer, in each of the
 * three formats (picked from the input length), with and without
 * --skip-bad, into one in-memory store kept across runs.  Seeds are often
 * images, so half the runs put a valid CSV header in front to reach the
 * record parser.  Must never crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/bank.h"

static vigil_bank_store *st;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vigil_error err;
  if (!st) {
    if (vigil_bank_store_open(&st, ":memory:", &err) || vigil_bank_create(st, "f", NULL, &err)) abort();
  }
  static const char header[] = "signal_type,value,external_id,tags,source,removed,removed_reason\n";
  int with_header = size > 0 && (data[0] & 1);
  size_t n = size + (with_header ? sizeof header - 1 : 0);
  char *buf = malloc(n ? n : 1);
  if (!buf) return 0;
  buf[0] = 0;
  if (with_header) memcpy(buf, header, sizeof header - 1);
  if (size) memcpy(buf + (with_header ? sizeof header - 1 : 0), data, size);
  FILE *f = fmemopen(buf, n ? n : 1, "rb");
  if (f) {
    if (n == 0) fgetc(f); /* an empty stream */
    vigil_bank_import_opts o;
    vigil_bank_import_opts_default(&o);
    o.format = (vigil_bank_format)(size % 3);
    o.skip_bad = (size >> 2) & 1;
    o.batch = (size >> 3) & 1 ? 3 : 0;
    vigil_bank_import_report rep;
    (void)vigil_bank_import(st, "f", f, &o, &rep, &err);
    vigil_bank_import_report_free(&rep);
    fclose(f);
  }
  free(buf);
  return 0;
}
