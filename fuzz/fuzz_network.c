/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_network.c - any bytes through the ad linker: read as JSON Lines, and
 * again wrapped (escaped) as the text of three ads that share a phone so
 * that extraction, shingling, template alignment and every output writer
 * (JSON, GraphML, DOT, HTML) see them.  Must never crash, leak or read out
 * of bounds.  Seeds may be images: they are just bytes here.  The raw
 * bytes go through the built-in extractor, the wrapped ads through the
 * text capability's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/network.h"

/* The text extractor is compiled once and kept (reachable) for all runs. */
static vigil_link_extractor *text_ex;

static void run(const char *buf, size_t n, int text) {
  vigil_link_opts o;
  vigil_link_opts_init(&o);
  o.threads = 1;
  if (text && !text_ex && vigil_link_text_extractor_new(&text_ex, NULL) != VIGIL_OK) text_ex = NULL;
  o.extractor = text && text_ex ? text_ex : vigil_link_builtin_extractor();
  vigil_linker *l;
  vigil_error e;
  if (vigil_linker_new(&l, &o, &e)) return;
  size_t bad;
  (void)vigil_linker_add_jsonl(l, buf, n, &bad, &e);
  if (vigil_linker_group(l, &e) == VIGIL_OK) {
    (void)vigil_linker_write_json(l, "/dev/null", &e);
    (void)vigil_linker_write_graphml(l, "/dev/null", &e);
    (void)vigil_linker_write_dot(l, "/dev/null", &e);
    (void)vigil_linker_write_html(l, "/dev/null", &e);
  }
  vigil_linker_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 512) size = 512; /* keep each run quick: 2 x 14,000 runs in ctest */
  run((const char *)data, size, 0);
  /* the bytes as ad text: JSON-escape everything outside printable ASCII */
  char *w = malloc(size * 6 * 3 + 600);
  if (!w) return 0;
  size_t n = 0;
  for (int ad = 0; ad < 3; ad++) {
    n += (size_t)sprintf(w + n, "{\"id\":\"f%d\",\"title\":\"call 213-555-0100\",\"body\":\"", ad);
    for (size_t i = 0; i < size; i++) {
      unsigned char c = data[i];
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') w[n++] = (char)c;
      else n += (size_t)sprintf(w + n, "\\u%04x", c);
    }
    n += (size_t)sprintf(w + n, " %d\"}\n", ad);
  }
  run(w, n, 1);
  free(w);
  return 0;
}
