/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_media.c - any bytes through format detection, every decoder and
 * the PDQ pipeline.  Must never crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>

#include "vigil/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vigil_hash_opts o;
  vigil_hash_opts_default(&o);
  o.max_pixels = 4000000; /* keep each run quick */
  o.dihedral = (size & 1);
  o.mode = (size & 2) ? VIGIL_MODE_CLI : VIGIL_MODE_FULLRES;
  vigil_pdq_result r;
  vigil_error e;
  (void)vigil_hash_memory(data, size, &o, &r, NULL, &e);
  return 0;
}
