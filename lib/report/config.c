/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.c - the report configuration file (`vigil serve --report-config`):
 * JSON, with an "outbox" section (how deliveries are retried) and a
 * "webhooks" section (how long one call may take).  docs/report.md lists
 * every member.  Unknown members are refused, so a misspelt setting is
 * an error at start rather than a default silently kept.
 */
#include "report/outbox.h"

#include <string.h>

static int get_int(json_t *sec, const char *sname, const char *name, int min, int max, int *out, vigil_error *err) {
  json_t *v = json_object_get(sec, name);
  if (!v) return VIGIL_OK;
  if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
    return vigil__seterr(err, VIGIL_EINVAL, "%s.%s: expected an integer from %d to %d", sname, name, min, max);
  *out = (int)json_integer_value(v);
  return VIGIL_OK;
}

static int only(json_t *o, const char *sname, const char *const *allowed, vigil_error *err) {
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    int ok = 0;
    for (int i = 0; allowed[i]; i++) ok |= !strcmp(k, allowed[i]);
    if (!ok) return vigil__seterr(err, VIGIL_EINVAL, "%s: unknown member '%.64s'", sname, k);
  }
  return VIGIL_OK;
}

int vigil__report_config_load(const char *path, vigil__outbox_opts *o, vigil_error *err) {
  vigil__outbox_opts_default(o);
  if (!path) return VIGIL_OK;
  json_error_t je;
  json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
  if (!root) return vigil__seterr(err, VIGIL_EINVAL, "%s:%d: %s", path, je.line, je.text);
  static const char *const top[] = {"outbox", "webhooks", "ncmec", NULL};
  static const char *const ob[] = {"poll_ms", "lease_s", "max_attempts", "backoff_ms", "backoff_max_ms", "node", NULL};
  static const char *const wh[] = {"timeout_s", NULL};
  int rc = json_is_object(root) ? only(root, "report config", top, err)
                                : vigil__seterr(err, VIGIL_EINVAL, "report config: expected a JSON object");
  json_t *obx = json_object_get(root, "outbox"), *whk = json_object_get(root, "webhooks");
  if (!rc && obx && !json_is_object(obx)) rc = vigil__seterr(err, VIGIL_EINVAL, "outbox: expected an object");
  if (!rc && whk && !json_is_object(whk)) rc = vigil__seterr(err, VIGIL_EINVAL, "webhooks: expected an object");
  if (!rc && obx) rc = only(obx, "outbox", ob, err);
  if (!rc && whk) rc = only(whk, "webhooks", wh, err);
  if (!rc) rc = get_int(obx, "outbox", "poll_ms", 10, 60000, &o->poll_ms, err);
  if (!rc) rc = get_int(obx, "outbox", "lease_s", 1, 86400, &o->lease_s, err);
  if (!rc) rc = get_int(obx, "outbox", "max_attempts", 1, 1000, &o->max_attempts, err);
  if (!rc) rc = get_int(obx, "outbox", "backoff_ms", 1, 86400000, &o->backoff_ms, err);
  if (!rc) rc = get_int(obx, "outbox", "backoff_max_ms", 1, 86400000, &o->backoff_max_ms, err);
  if (!rc) rc = get_int(whk, "webhooks", "timeout_s", 1, 600, &o->timeout_s, err);
  json_t *node = json_object_get(obx, "node");
  if (!rc && node) {
    if (!json_is_string(node) || json_string_length(node) >= sizeof o->node)
      rc = vigil__seterr(err, VIGIL_EINVAL, "outbox.node: expected a string of at most %zu bytes", sizeof o->node - 1);
    else snprintf(o->node, sizeof o->node, "%s", json_string_value(node));
  }
  if (!rc && o->lease_s <= o->timeout_s)
    rc = vigil__seterr(err, VIGIL_EINVAL,
                       "outbox.lease_s (%d) must be longer than webhooks.timeout_s (%d): a claim must outlast a call",
                       o->lease_s, o->timeout_s);
  json_decref(root);
  return rc ? vigil__prefixerr(err, rc, path) : VIGIL_OK;
}
