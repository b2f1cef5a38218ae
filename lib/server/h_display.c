/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_display.c - how the review console shows media: blur strength,
 * greyscale, and whether video starts muted and paused.  An organisation
 * default (admin) and a per-person setting, kept in the store
 * (server_display) so they follow a reviewer from browser to browser.
 *
 *   GET  /v1/settings/display               the organisation's, the caller's own and the effective one
 *   POST /v1/settings/display               the caller's own ({"reset": true}: back to the organisation's)
 *   POST /v1/settings/display/organisation  the organisation default (admin)
 *
 * The blur never goes below MIN_BLUR pixels: a setting makes viewing
 * gentler or a little plainer, never clear without the audited unblur.
 * Without any row the built-in default applies: the strongest veil the
 * console had before settings existed (28 px, grey, muted, paused).
 */
#include "server/handlers.h"
#include "server/store.h"

#include <string.h>

#include "db/sql.h"

#define ORG_SCOPE "*organisation*"
#define MIN_BLUR 4
#define MAX_BLUR 64

typedef struct display {
  int blur, greyscale, video_muted, video_paused;
} display;

static const display builtin = {28, 1, 1, 1};

/* The row of scope into *d; 0 when there is none (d untouched), 1 found, or a negative code. */
static int load(vigil_server_store *st, const char *scope, display *d, vigil_error *err) {
  const vigil__val p[] = {vigil__vtext(scope)};
  vigil__rows *rows = NULL;
  pthread_mutex_lock(&st->mu);
  int rc =
      vigil__sql_run(st->db, "SELECT blur, greyscale, video_muted, video_paused FROM server_display WHERE scope = $1",
                     p, 1, &rows, NULL, err);
  pthread_mutex_unlock(&st->mu);
  if (rc) return vigil__prefixerr(err, rc, "display settings");
  int found = vigil__rows_count(rows) == 1;
  if (found) {
    int b = (int)vigil__rows_int(rows, 0, 0);
    d->blur = b < MIN_BLUR ? MIN_BLUR : b > MAX_BLUR ? MAX_BLUR : b; /* a row edited by hand is clamped */
    d->greyscale = vigil__rows_int(rows, 0, 1) != 0;
    d->video_muted = vigil__rows_int(rows, 0, 2) != 0;
    d->video_paused = vigil__rows_int(rows, 0, 3) != 0;
  }
  vigil__rows_free(rows);
  return found;
}

static int save(vigil_server_store *st, const char *scope, const display *d, vigil_error *err) {
  const vigil__val p[] = {vigil__vtext(scope), vigil__vint(d->blur), vigil__vint(d->greyscale),
                          vigil__vint(d->video_muted), vigil__vint(d->video_paused)};
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db,
                          "INSERT INTO server_display(scope, blur, greyscale, video_muted, video_paused)"
                          " VALUES($1, $2, $3, $4, $5) ON CONFLICT(scope) DO UPDATE SET blur = excluded.blur,"
                          " greyscale = excluded.greyscale, video_muted = excluded.video_muted,"
                          " video_paused = excluded.video_paused",
                          p, 5, NULL, NULL, err);
  pthread_mutex_unlock(&st->mu);
  return rc ? vigil__prefixerr(err, rc, "display settings") : VIGIL_OK;
}

static int forget(vigil_server_store *st, const char *scope, vigil_error *err) {
  const vigil__val p[] = {vigil__vtext(scope)};
  pthread_mutex_lock(&st->mu);
  int rc = vigil__sql_run(st->db, "DELETE FROM server_display WHERE scope = $1", p, 1, NULL, NULL, err);
  pthread_mutex_unlock(&st->mu);
  return rc ? vigil__prefixerr(err, rc, "display settings") : VIGIL_OK;
}

static json_t *display_json(const display *d) {
  return json_pack("{s:i, s:b, s:b, s:b}", "blur", d->blur, "greyscale", d->greyscale, "video_muted", d->video_muted,
                   "video_paused", d->video_paused);
}

static int reply_settings(vigil__req *r, int status) {
  vigil_server_store *st = vigil__req_store(r);
  display org = builtin, mine = builtin;
  int rc = load(st, ORG_SCOPE, &org, &r->err);
  if (rc < 0) return rc;
  mine = org;
  int own = load(st, vigil__req_who(r), &mine, &r->err);
  if (own < 0) return own;
  json_t *o = json_pack("{s:o, s:o, s:o}", "organisation", display_json(&org), "mine",
                        own ? display_json(&mine) : json_null(), "effective", display_json(&mine));
  return o ? vigil__reply_json(r, status, o) : vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
}

/* The members of the body over base into *d; 0 after replying 400. */
static int parse(vigil__req *r, display *d) {
  json_t *b = json_object_get(r->json, "blur");
  if (b) {
    if (!json_is_integer(b) || json_integer_value(b) < MIN_BLUR || json_integer_value(b) > MAX_BLUR) {
      vigil__reply_error(r, 400, "invalid", "blur: an integer from %d to %d (pixels)", MIN_BLUR, MAX_BLUR);
      return 0;
    }
    d->blur = (int)json_integer_value(b);
  }
  return vigil__json_bool(r, "greyscale", &d->greyscale) && vigil__json_bool(r, "video_muted", &d->video_muted) &&
         vigil__json_bool(r, "video_paused", &d->video_paused);
}

int vigil__h_display_get(vigil__req *r) { return reply_settings(r, 200); }

int vigil__h_display_set(vigil__req *r) {
  static const char *const allowed[] = {"blur", "greyscale", "video_muted", "video_paused", "reset", NULL};
  if (!vigil__json_only(r, allowed)) return VIGIL_OK;
  int reset = 0;
  if (!vigil__json_bool(r, "reset", &reset)) return VIGIL_OK;
  vigil_server_store *st = vigil__req_store(r);
  const char *who = vigil__req_who(r);
  int rc;
  if (reset) {
    if (json_object_size(r->json) != 1) return vigil__reply_error(r, 400, "invalid", "reset: send it alone");
    if ((rc = forget(st, who, &r->err))) return rc;
    r->audit_detail = json_pack("{s:b}", "reset", 1);
    return reply_settings(r, 200);
  }
  /* what is not sent stays as it shows now */
  display d = builtin;
  if ((rc = load(st, ORG_SCOPE, &d, &r->err)) < 0 || (rc = load(st, who, &d, &r->err)) < 0) return rc;
  if (!parse(r, &d)) return VIGIL_OK;
  if ((rc = save(st, who, &d, &r->err))) return rc;
  r->audit_detail = display_json(&d);
  return reply_settings(r, 200);
}

int vigil__h_display_org(vigil__req *r) {
  static const char *const allowed[] = {"blur", "greyscale", "video_muted", "video_paused", NULL};
  if (!vigil__json_only(r, allowed)) return VIGIL_OK;
  vigil_server_store *st = vigil__req_store(r);
  display d = builtin;
  int rc = load(st, ORG_SCOPE, &d, &r->err);
  if (rc < 0) return rc;
  if (!parse(r, &d)) return VIGIL_OK;
  if ((rc = save(st, ORG_SCOPE, &d, &r->err))) return rc;
  r->audit_detail = display_json(&d);
  return reply_settings(r, 200);
}
