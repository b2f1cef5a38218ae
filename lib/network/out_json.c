/* SPDX-License-Identifier: Apache-2.0 */
/*
 * out_json.c - groups.json, the machine-readable result.
 *
 * {"ads": N, "groups": [ {rank, risk, reasons, size, members, counts,
 *   first_seen, last_seen, places, scores, identifiers: [{kind, value, ads,
 *   hub}], template: {text, keep, mdl_bits, raw_bits, medoid, items},
 *   template_links: [{a, b, jaccard}]} ... ], "hubs": [...]}
 * Strings from ads are valid UTF-8 (the reader repaired them); jansson
 * escapes them.
 */
#include "network/net_internal.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

const char *vigil__net_kind_name(int kind) {
  static const char *const n[] = {"phone", "email", "handle", "image", "name"};
  return kind >= 0 && kind < VIGIL_EV_KINDS ? n[kind] : "?";
}

static json_t *jstr(const char *s) {
  json_t *j = json_string(s ? s : "");
  return j ? j : json_string("\xEF\xBF\xBD");
}

static uint32_t ident_deg(const vigil_linker *l, uint32_t id) { return l->ident_off[id + 1] - l->ident_off[id]; }

/* Template links bucketed by group: offsets per group into an index array. */
int vigil__net_edges_by_group(const vigil_linker *l, uint32_t **off, uint32_t **idx) {
  *off = calloc(l->n_groups + 1, sizeof **off);
  *idx = vigil__mallocarray(l->n_tedges ? l->n_tedges : 1, sizeof **idx);
  uint32_t *fill = calloc(l->n_groups + 1, sizeof *fill);
  if (!*off || !*idx || !fill) {
    free(*off);
    free(*idx);
    free(fill);
    return VIGIL_ENOMEM;
  }
  if (!l->o.use_templates) {
    free(fill);
    return VIGIL_OK;
  }
  for (size_t i = 0; i < l->n_tedges; i++) {
    long g = l->group_of[l->tedges[i].a];
    if (g >= 0) (*off)[g + 1]++;
  }
  for (size_t g = 0; g < l->n_groups; g++) (*off)[g + 1] += (*off)[g];
  for (size_t i = 0; i < l->n_tedges; i++) {
    long g = l->group_of[l->tedges[i].a];
    if (g >= 0) (*idx)[(*off)[g] + fill[g]++] = (uint32_t)i;
  }
  free(fill);
  return VIGIL_OK;
}

static json_t *template_json(const vigil_linker *l, const vigil__net_template *t) {
  json_t *o = json_object(), *items = json_array();
  if (!o || !items) {
    json_decref(o);
    json_decref(items);
    return NULL;
  }
  json_object_set_new(o, "text", jstr(t->rendered));
  json_object_set_new(o, "keep", json_real(t->keep));
  json_object_set_new(o, "mdl_bits", json_real(t->mdl_bits));
  json_object_set_new(o, "raw_bits", json_real(t->raw_bits));
  json_object_set_new(o, "medoid", jstr(l->ads[t->medoid].id));
  json_object_set_new(o, "aligned", json_integer(t->n_used));
  for (size_t i = 0; i < t->n_items; i++) {
    json_t *it = json_object();
    if (!it) continue;
    if (t->items[i].slot) {
      json_object_set_new(it, "slot", jstr(t->items[i].text));
      json_t *ex = json_array();
      for (int k = 0; k < t->items[i].n_ex; k++) json_array_append_new(ex, jstr(t->items[i].ex[k]));
      json_object_set_new(it, "examples", ex);
    } else json_object_set_new(it, "text", jstr(t->items[i].text));
    json_array_append_new(items, it);
  }
  json_object_set_new(o, "items", items);
  return o;
}

static json_t *group_json(const vigil_linker *l, const vigil__net_group *g, const uint32_t *eoff, const uint32_t *eidx) {
  const vigil_link_group *p = &g->pub;
  json_t *o = json_object();
  if (!o) return NULL;
  json_object_set_new(o, "rank", json_integer((json_int_t)p->rank));
  json_object_set_new(o, "risk", json_real(p->risk));
  json_object_set_new(o, "reasons", jstr(p->reasons));
  json_object_set_new(o, "size", json_integer((json_int_t)p->n_ads));
  json_t *mem = json_array();
  for (size_t i = 0; i < g->n; i++) json_array_append_new(mem, jstr(l->ads[g->members[i]].id));
  json_object_set_new(o, "members", mem);
  json_object_set_new(o, "counts",
                      json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "phones", (json_int_t)p->n_phones,
                                "emails", (json_int_t)p->n_emails, "handles", (json_int_t)p->n_handles, "images",
                                (json_int_t)p->n_images, "names", (json_int_t)p->n_names, "places",
                                (json_int_t)p->n_locations, "hubs", (json_int_t)p->n_hubs, "template_links",
                                (json_int_t)p->n_template_links, "identifier_links",
                                (json_int_t)p->n_identifier_links));
  json_object_set_new(o, "first_seen", g->first_seen ? jstr(g->first_seen) : json_null());
  json_object_set_new(o, "last_seen", g->last_seen ? jstr(g->last_seen) : json_null());
  json_t *pl = json_array();
  for (size_t i = 0; i < g->n_loc; i++) json_array_append_new(pl, jstr(g->locations[i]));
  json_object_set_new(o, "places", pl);
  json_object_set_new(o, "scores", json_pack("{s:f, s:f}", "mean", p->score_mean, "max", p->score_max));
  json_t *ids = json_array();
  for (size_t i = 0; i < g->n_idents; i++) {
    const vigil__net_ident *x = &l->idents[g->idents[i]];
    json_t *io = json_pack("{s:s, s:o, s:I, s:b}", "kind", vigil__net_kind_name(x->kind), "value", jstr(x->value), "ads",
                           (json_int_t)(x->kind == VIGIL_EV_NAME ? 0 : ident_deg(l, g->idents[i])), "hub", x->hub);
    if (io) json_array_append_new(ids, io);
  }
  json_object_set_new(o, "identifiers", ids);
  json_object_set_new(o, "template", g->tpl ? template_json(l, g->tpl) : json_null());
  json_t *te = json_array();
  size_t gi = (size_t)(g - l->groups);
  for (uint32_t k = eoff[gi]; k < eoff[gi + 1]; k++) {
    const vigil__net_edge *e = &l->tedges[eidx[k]];
    json_t *eo = json_pack("{s:o, s:o, s:f}", "a", jstr(l->ads[e->a].id), "b", jstr(l->ads[e->b].id), "jaccard",
                           (double)e->sim);
    if (eo) json_array_append_new(te, eo);
  }
  json_object_set_new(o, "template_links", te);
  return o;
}

int vigil_linker_write_json(const vigil_linker *l, const char *path, vigil_error *err) {
  return vigil__net_write_path(l, path, vigil_linker_fwrite_json, err);
}

int vigil_linker_fwrite_json(const vigil_linker *l, FILE *f, vigil_error *err) {
  int rc0 = vigil__net_begin_out(l, f, err);
  if (rc0) return rc0;
  uint32_t *eoff, *eidx;
  if (vigil__net_edges_by_group(l, &eoff, &eidx)) return vigil__net_end_out(f, VIGIL_ENOMEM, err);
  /* written group by group so that a million ads never sit in one json_t */
  fprintf(f, "{\"ads\": %zu, \"options\": {\"identifiers\": %s, \"templates\": %s, \"min_size\": %d, "
             "\"jaccard\": %g},\n \"groups\": [\n",
          l->n_ads, l->o.use_identifiers ? "true" : "false", l->o.use_templates ? "true" : "false", l->o.min_size,
          l->o.jaccard);
  int rc = VIGIL_OK;
  for (size_t i = 0; i < l->n_groups && !rc; i++) {
    json_t *g = group_json(l, &l->groups[i], eoff, eidx);
    char *s = g ? json_dumps(g, JSON_COMPACT) : NULL;
    if (!s) rc = VIGIL_ENOMEM;
    else fprintf(f, "  %s%s\n", s, i + 1 < l->n_groups ? "," : "");
    free(s);
    json_decref(g);
  }
  fprintf(f, " ],\n \"hubs\": [");
  int first = 1;
  for (size_t i = 0; i < l->n_idents && !rc; i++) {
    if (!l->idents[i].hub) continue;
    json_t *h = json_pack("{s:s, s:o, s:I}", "kind", vigil__net_kind_name(l->idents[i].kind), "value",
                          jstr(l->idents[i].value), "ads", (json_int_t)ident_deg(l, (uint32_t)i));
    char *s = h ? json_dumps(h, JSON_COMPACT) : NULL;
    if (s) fprintf(f, "%s\n  %s", first ? "" : ",", s);
    else rc = VIGIL_ENOMEM; /* a hub left out would make the file lie */
    first = 0;
    free(s);
    json_decref(h);
  }
  fprintf(f, "]}\n");
  free(eoff);
  free(eidx);
  return vigil__net_end_out(f, rc, err);
}
