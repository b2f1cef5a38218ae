/* SPDX-License-Identifier: Apache-2.0 */
/*
 * match_case.c - the review case a match opens, shared by image matches
 * (h_match.c) and video matches (h_match_video.c).
 *
 * Both build the case's detail from the first VIGIL__CASE_HITS matches
 * (and the total when there were more, so a reviewer knows the list is
 * cut), stage the upload as evidence before the case exists, and name the
 * staged file after the case once it does.  The order matters: a case
 * whose evidence could not be staged is not opened (the caller returns
 * the staging error), and a staged file whose case was not opened is
 * removed, so no evidence file outlives a failed request.  A staged file
 * that cannot be named after its case leaves the case standing; its
 * evidence then reads as missing and the reason goes to the log.
 */
#include "server/cases.h"
#include "server/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vigil/server.h"

json_t *vigil__match_case_detail(json_t *matches) {
  json_t *kept = json_array();
  for (size_t i = 0; kept && i < json_array_size(matches) && i < VIGIL__CASE_HITS; i++)
    json_array_append(kept, json_array_get(matches, i));
  json_t *wrap = kept ? json_pack("{s:o}", "matches", kept) : NULL;
  if (wrap && json_array_size(matches) > VIGIL__CASE_HITS)
    json_object_set_new(wrap, "matches_total", json_integer((json_int_t)json_array_size(matches)));
  return wrap;
}

int vigil__match_case_open(vigil__req *r, vigil_case_new *c, json_t *wrap, const char *evdir, const char *staged,
                           json_t *out) {
  char *detail = wrap ? json_dumps(wrap, JSON_COMPACT) : NULL;
  json_decref(wrap);
  if (!detail) {
    if (staged[0]) unlink(staged);
    return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  }
  c->detail_json = detail;
  c->opened_by = vigil__req_who(r);
  int64_t id = 0;
  int joined = 0;
  int rc = vigil__case_open(vigil__req_store(r), c, &id, &joined, &r->err);
  c->detail_json = NULL;
  free(detail);
  if (rc) {
    if (staged[0]) unlink(staged);
    return rc;
  }
  json_object_set_new(out, "case_id", json_integer(id));
  /* a repeat of content with an undecided case joined it (sightings.c) */
  json_object_set_new(out, "sighting", json_boolean(joined != 0));
  /* a sighting's file replaces the case's only where the case took its
   * record (it had none): never over a file an admin deleted, nor again
   * over the same bytes */
  if (staged[0] && joined && !(joined & VIGIL__JOINED_EVIDENCE)) {
    unlink(staged);
    vigil_error e;
    if (vigil__evidence_exists(evdir, id, &e) == VIGIL_OK) json_object_set_new(out, "evidence_kept", json_true());
  } else if (staged[0]) {
    vigil_error e;
    if (vigil__evidence_commit(evdir, staged, id, &e) == VIGIL_OK) json_object_set_new(out, "evidence_kept", json_true());
    else snprintf(r->logmsg, sizeof r->logmsg, "%s", e.message); /* the case stands; its evidence reads as missing */
  }
  return VIGIL_OK;
}
