/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server/ui.h - the review console's files (ui/ in the source tree),
 * embedded into the library at build time by cmake/embed-ui.cmake and
 * served under /ui/ by h_ui.c.
 */
#ifndef VIGIL_SERVER_UI_H
#define VIGIL_SERVER_UI_H

#include <stddef.h>

typedef struct vigil__ui_file {
  const char *name; /* "index.html" */
  const char *type; /* its Content-Type */
  const unsigned char *data;
  size_t len;
} vigil__ui_file;

extern const vigil__ui_file vigil__ui_files[];
extern const size_t vigil__ui_nfiles;

#endif
