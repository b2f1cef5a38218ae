/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server/cases.h - review cases (cases.c) and the evidence kept for them
 * (evidence.c).  A case row lives in the store; its evidence is a file in
 * the evidence directory, staged and fsynced before the case that names it
 * is committed, so an acknowledged case never points at a missing file.
 */
#ifndef VIGIL_SERVER_CASES_H
#define VIGIL_SERVER_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "server/spool.h"
#include "server/store.h"

/* The cases f lets through (accounts.h), oldest first, with who holds each
 * ("assignee"), its severity and whether it is a child-abuse case. */
struct vigil__case_filter;
int vigil__case_list(vigil_server_store *st, const struct vigil__case_filter *f, int64_t after_id, int limit,
                     json_t **out, vigil_error *err);
int vigil__case_get(vigil_server_store *st, int64_t id, json_t **out, vigil_error *err);
/* VIGIL_ENOTFOUND, VIGIL_EEXIST when the case is already closed.  audit
 * (may be NULL) is written in the decision's transaction: a decision whose
 * audit row cannot be written is not taken. */
int vigil__case_decide(vigil_server_store *st, int64_t id, const char *decision, const char *classification,
                       const char *note, const char *key_id, int dispute, vigil__audit_rec *audit, vigil_error *err);
/* Disputes (h_disputes.c).  With st->mu held in a dismissal's transaction:
 * every bank entry case_id matched is disputed by `by`; VIGIL_EINVAL when
 * it matched none. */
int vigil__disputes_add_locked(vigil_server_store *st, int64_t case_id, const char *by, const char *note,
                               const char *at, vigil_error *err);
/* The number of distinct disputed entries of bank. */
int vigil__disputes_count(vigil_server_store *st, const char *bank, int64_t *n, vigil_error *err);
int vigil__case_valid_classification(const char *c);

/* At most this many bank matches go into a case's detail, whether a match
 * opened it (match_case.c) or a sighting added to it (sightings.c). */
#define VIGIL__CASE_HITS 20

/* What *joined says (bits): a sighting of an open case, or of an escalated
 * one, and whether the case took the sighting's evidence record (it had
 * none), in which case the caller commits the sighting's staged file. */
#define VIGIL__JOINED_OPEN 1
#define VIGIL__JOINED_ESCALATED 2
#define VIGIL__JOINED_EVIDENCE 4

/* vigil_case_open that also says whether c joined an undecided case of the
 * same content as a sighting instead of opening one: *joined 0 for a new
 * case, else the VIGIL__JOINED_* bits above; joined may be NULL. */
int vigil__case_open(vigil_server_store *st, const vigil_case_new *c, int64_t *id, int *joined, vigil_error *err);

/* Sightings (sightings.c): one case per piece of content.  With st->mu
 * held in vigil_case_open's transaction: the undecided case c's content
 * already has (*id 0: none; *escalated 1 when it is escalated), and a sighting of c added to case id. */
int vigil__sighting_find_locked(vigil_server_store *st, const vigil_case_new *c, int64_t *id, int *escalated,
                                vigil_error *err);
int vigil__sighting_add_locked(vigil_server_store *st, int64_t id, const vigil_case_new *c, const char *at,
                               vigil_error *err);
/* With st->mu held in the same transaction: what a sighting's detail adds
 * to case id: its kept evidence record ("evidence": {sha256, bytes}) when
 * the case has none, since the sighting's upload becomes the case's
 * evidence file, and the bank entries it matched that the case had not
 * (the case is then ranked and labelled again from all of them).  *adopted is
 * set when the sighting's evidence record became the case's: only then may its
 * staged file replace the case's (an admin may have deleted the case's file). */
int vigil__sighting_merge_locked(vigil_server_store *st, int64_t id, const char *detail, int *adopted,
                                 vigil_error *err);
/* Adds "related" to case o: up to 10 decided cases of the same content
 * (SHA-256 or content id) or the same uploader, newest first. */
int vigil__related_attach(vigil_server_store *st, int64_t id, json_t *o, vigil_error *err);
/* Adds "sightings": {count, first_seen, last_seen, uploaders} to case o. */
int vigil__sightings_attach(vigil_server_store *st, int64_t id, json_t *o, vigil_error *err);

/* Evidence retention (evidence.c). */

/* Creates dir (0700) if needed, refuses one open to group or others, and
 * removes staging files a crash left behind.  The directory is bound to
 * the store named store_id (vigil__store_id): a directory bound to another
 * store is refused, so a restored or misplaced one never serves one case's
 * media for another's. */
int vigil__evidence_open(const char *dir, const char *store_id, vigil_error *err);
/* Writes data to a new staging file in dir (0600, fsynced); its path into path. */
int vigil__evidence_stage(const char *dir, const void *data, size_t len, char *path, size_t cap, vigil_error *err);
/* The same for a spooled video upload, copied from its file (spool.h). */
int vigil__evidence_stage_spool(const char *dir, const vigil__spool *sp, char *path, size_t cap, vigil_error *err);
/* Renames a staged file to the case's evidence (removes it on failure). */
int vigil__evidence_commit(const char *dir, const char *staged, int64_t case_id, vigil_error *err);
/* Opens the case's evidence (or VIGIL_ENOTFOUND) and reads it through once,
 * in chunks, for its SHA-256 (into sha256) and its first bytes (head, up to
 * 16, for vigil__media_type); *fd is then the open file, to be sent from
 * offset 0 and closed by the caller, *len its size. */
int vigil__evidence_open_file(const char *dir, int64_t case_id, int *fd, uint64_t *len, char sha256[65],
                              uint8_t head[16], size_t *head_len, vigil_error *err);
int vigil__evidence_delete(const char *dir, int64_t case_id, vigil_error *err);
/* SHA-256 of data as 64 lowercase hex digits into hex. */
int vigil__evidence_sha256(const void *data, size_t len, char hex[65], vigil_error *err);
/* VIGIL_OK when the case has evidence, else VIGIL_ENOTFOUND. */
int vigil__evidence_exists(const char *dir, int64_t case_id, vigil_error *err);
/* The media type of the bytes by their signature, else application/octet-stream. */
const char *vigil__media_type(const uint8_t *p, size_t n);
/* The server's evidence directory; NULL when retention is off. */
const char *vigil__server_evidence_dir(vigil_server *srv);

#endif
