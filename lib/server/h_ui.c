/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_ui.c - GET /ui/ and /ui/{file}: the review console's pages, scripts
 * and style, from the copies embedded in the binary (server/ui.h).
 *
 * Only names in the embedded table are served, so no path from a request
 * ever reaches the file system.  The pages hold no data: each script asks
 * the JSON API for it with the session cookie, and the core's headers
 * (strict CSP, X-Frame-Options DENY, no-store, no Referer) cover them.
 */
#include "server/handlers.h"
#include "server/ui.h"

#include <stdlib.h>
#include <string.h>

int vigil__h_ui(vigil__req *r) {
  const char *name = vigil__req_param(r, "file");
  if (!name) name = "index.html";
  for (size_t i = 0; i < vigil__ui_nfiles; i++) {
    if (strcmp(vigil__ui_files[i].name, name) != 0) continue;
    char *copy = malloc(vigil__ui_files[i].len + 1);
    if (!copy) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
    memcpy(copy, vigil__ui_files[i].data, vigil__ui_files[i].len);
    copy[vigil__ui_files[i].len] = 0;
    return vigil__reply_text(r, 200, vigil__ui_files[i].type, copy, vigil__ui_files[i].len);
  }
  return vigil__reply_error(r, 404, "not_found", "no such console file");
}
