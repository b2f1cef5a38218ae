/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group.c - from stored links to ranked groups.
 *
 * Steps, each linear or n log n in the number of links:
 *   1. identifier -> ads lists (CSR), with near-equal image hashes folded
 *      into one canonical identifier; names are evidence only and never link;
 *   2. hub detection, per identifier X carried by d >= 2 ads: X's ads are
 *      joined locally when they share another linking identifier or a
 *      template component; a local component is "established" when one of
 *      its ads carries another identifier that at least one more ad carries,
 *      or has a template link, i.e. it belongs to some group without X.  X is
 *      a hub when it touches >= hub_min_groups established components that
 *      together cover >= hub_min_cover of its ads (a hotel or agency line
 *      printed in the ads of several operations that each have their own
 *      contacts), or when d > hub_max_degree.  Hubs are reported, never used
 *      to merge.  The price: one operation whose sub-groups each keep their
 *      own number and share one more line is split at that line (and the
 *      line is shown as a hub shared by those groups);
 *   3. union-find over template links and non-hub identifiers;
 *   4. per component of at least min_size ads: counts, spans, scores, risk;
 *      sorted by risk, then size;
 *   5. templates for the top max_templates groups (template.c).
 *
 * Risk (all parts in [0,1]) = 0.20 size (log2(n)/6) + 0.20 places
 * ((distinct cities-1)/4) + 0.15 names ((distinct names-1)/3) + 0.15 phones
 * ((distinct phones-1)/3) + 0.30 mean indicator score.  Cluster-level
 * counts of phones, names and places are the signals used in the literature
 * (docs/network.md); the weights are a documented starting point, not fitted.
 */
#include "network/net_internal.h"

#include <math.h>
#include <string.h>

void vigil__net_groups_free(vigil_linker *l) {
  for (size_t i = 0; i < l->n_groups; i++) {
    vigil__net_group *g = &l->groups[i];
    free(g->members);
    free(g->idents);
    free(g->locations);
    free(g->placebuf);
    free(g->reasons);
    vigil__net_template_free(g->tpl);
  }
  free(l->groups);
  l->groups = NULL;
  l->n_groups = 0;
  free(l->group_of);
  l->group_of = NULL;
  free(l->uf);
  l->uf = NULL;
  free(l->ident_off);
  free(l->ident_ads);
  l->ident_off = l->ident_ads = NULL;
  l->grouped = 0;
}

static uint32_t canon(const vigil_linker *l, uint32_t id) {
  while (l->idents[id].canon != id) id = l->idents[id].canon;
  return id;
}

static int links(int kind) { return kind != VIGIL_EV_NAME; }

typedef struct kv {
  uint64_t key;
  uint32_t k;
} kv;

static int cmp_kv(const void *a, const void *b) {
  const kv *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->k < y->k ? -1 : x->k > y->k;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* CSR of canonical linking identifier -> distinct ads. */
static int build_csr(vigil_linker *l) {
  size_t ni = l->n_idents;
  l->ident_off = calloc(ni + 1, sizeof *l->ident_off);
  if (!l->ident_off) return VIGIL_ENOMEM;
  size_t total = 0;
  for (size_t a = 0; a < l->n_ads; a++)
    for (uint32_t e = 0; e < l->ads[a].n_ev; e++)
      if (links(l->ads[a].ev[e].kind)) {
        l->ident_off[canon(l, l->ads[a].ev[e].ident) + 1]++;
        total++;
      }
  for (size_t i = 0; i < ni; i++) l->ident_off[i + 1] += l->ident_off[i];
  l->ident_ads = vigil__mallocarray(total ? total : 1, sizeof *l->ident_ads);
  uint32_t *fill = calloc(ni + 1, sizeof *fill);
  if (!l->ident_ads || !fill) {
    free(fill);
    return VIGIL_ENOMEM;
  }
  for (size_t a = 0; a < l->n_ads; a++)
    for (uint32_t e = 0; e < l->ads[a].n_ev; e++)
      if (links(l->ads[a].ev[e].kind)) {
        uint32_t c = canon(l, l->ads[a].ev[e].ident);
        l->ident_ads[l->ident_off[c] + fill[c]++] = (uint32_t)a;
      }
  /* ads were visited in order, so each list is sorted; drop repeats in place */
  uint32_t w = 0;
  for (size_t i = 0; i < ni; i++) {
    uint32_t s = l->ident_off[i], e = s + fill[i];
    l->ident_off[i] = w;
    for (uint32_t j = s; j < e; j++)
      if (j == s || l->ident_ads[j] != l->ident_ads[j - 1]) l->ident_ads[w++] = l->ident_ads[j];
  }
  l->ident_off[ni] = w;
  free(fill);
  return VIGIL_OK;
}

static uint32_t deg(const vigil_linker *l, uint32_t id) { return l->ident_off[id + 1] - l->ident_off[id]; }

static int detect_hubs(vigil_linker *l, const uint32_t *tsize) {
  kv *v = NULL;
  size_t cap = 0;
  uint32_t *lp = NULL, *csize = NULL;
  uint8_t *est = NULL;
  size_t lcap = 0;
  int rc = VIGIL_OK;
  for (uint32_t x = 0; x < l->n_idents; x++) {
    l->idents[x].hub = 0;
    if (canon(l, x) != x || !links(l->idents[x].kind)) continue;
    uint32_t d = deg(l, x);
    if (d < 2) continue;
    if (l->o.hub_max_degree > 0 && d > (uint32_t)l->o.hub_max_degree) {
      l->idents[x].hub = 1;
      continue;
    }
    if (d < (uint32_t)l->o.hub_min_groups * 2) continue; /* cannot touch enough established groups */
    const uint32_t *ads = l->ident_ads + l->ident_off[x];
    size_t nv = 0;
    if (d > lcap) {
      free(lp);
      free(csize);
      free(est);
      lcap = d;
      lp = vigil__mallocarray(d, sizeof *lp);
      csize = vigil__mallocarray(d, sizeof *csize);
      est = vigil__mallocarray(d, 1);
      if (!lp || !csize || !est) {
        rc = VIGIL_ENOMEM;
        break;
      }
    }
    for (uint32_t k = 0; k < d; k++) {
      lp[k] = k;
      csize[k] = 0;
      est[k] = 0;
      const vigil__net_ad *a = &l->ads[ads[k]];
      if (l->o.use_templates && tsize[vigil__net_uf_find(l->tuf, ads[k])] > 1) {
        est[k] = 1;
        if (vigil__grow((void **)&v, &cap, nv + 1, sizeof *v)) {
          rc = VIGIL_ENOMEM;
          break;
        }
        v[nv++] = (kv){((uint64_t)1 << 63) | vigil__net_uf_find(l->tuf, ads[k]), k};
      }
      for (uint32_t e = 0; e < a->n_ev; e++) {
        if (!links(a->ev[e].kind)) continue;
        uint32_t y = canon(l, a->ev[e].ident);
        if (y == x || deg(l, y) < 2) continue;
        est[k] = 1;
        if (vigil__grow((void **)&v, &cap, nv + 1, sizeof *v)) {
          rc = VIGIL_ENOMEM;
          break;
        }
        v[nv++] = (kv){y, k};
      }
      if (rc) break;
    }
    if (rc) break;
    if (nv) qsort(v, nv, sizeof *v, cmp_kv);
    for (size_t i = 1; i < nv; i++)
      if (v[i].key == v[i - 1].key) vigil__net_uf_union(lp, v[i].k, v[i - 1].k);
    for (uint32_t k = 0; k < d; k++) {
      uint32_t r = vigil__net_uf_find(lp, k);
      csize[r]++;
      if (est[k]) est[r] |= 2;
    }
    uint32_t n_est = 0, covered = 0;
    for (uint32_t k = 0; k < d; k++)
      if (vigil__net_uf_find(lp, k) == k && (est[k] & 2)) {
        n_est++;
        covered += csize[k];
      }
    if (n_est >= (uint32_t)l->o.hub_min_groups && (double)covered >= l->o.hub_min_cover * d) l->idents[x].hub = 1;
  }
  free(v);
  free(lp);
  free(csize);
  free(est);
  return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A place key: the city label of a backpage-style URL host, else the location. */
static const char *place_of(const vigil__net_ad *a, char *buf, size_t cap) {
  if (a->url) {
    const char *p = strstr(a->url, "://");
    if (p) {
      p += 3;
      size_t n = strcspn(p, "./:");
      if (n > 0 && n < cap && strncmp(p, "www", n) != 0) {
        memcpy(buf, p, n);
        buf[n] = 0;
        return buf;
      }
    }
  }
  return a->location;
}

static int add_reason(char **r, size_t *len, const char *fmt, double v1, double v2) {
  char tmp[160];
  int n = snprintf(tmp, sizeof tmp, fmt, v1, v2);
  if (n < 0) return VIGIL_OK;
  char *nr = realloc(*r, *len + (size_t)n + 3);
  if (!nr) return VIGIL_ENOMEM;
  *r = nr;
  if (*len) {
    memcpy(nr + *len, "; ", 2);
    *len += 2;
  }
  memcpy(nr + *len, tmp, (size_t)n + 1);
  *len += (size_t)n;
  return VIGIL_OK;
}

static int describe(vigil_linker *l, vigil__net_group *g, const uint32_t *tcount) {
  vigil_link_group *p = &g->pub;
  p->n_ads = g->n;
  /* distinct identifiers */
  uint32_t *ids = NULL;
  size_t nid = 0, cid = 0;
  char **places = vigil__mallocarray(g->n, sizeof *places);
  char **placekeys = vigil__mallocarray(g->n, sizeof *placekeys);
  if (!places || !placekeys) {
    free(places);
    free(placekeys);
    return VIGIL_ENOMEM;
  }
  size_t np = 0;
  double ssum = 0, smax = 0;
  char *keybuf = malloc(g->n * 64);
  if (!keybuf) {
    free(places);
    free(placekeys);
    return VIGIL_ENOMEM;
  }
  for (size_t i = 0; i < g->n; i++) {
    const vigil__net_ad *a = &l->ads[g->members[i]];
    ssum += a->score;
    if (a->score > smax) smax = a->score;
    const char *pk = place_of(a, keybuf + i * 64, 64);
    if (pk && *pk) {
      placekeys[np] = (char *)pk;
      places[np] = a->location ? a->location : (char *)pk;
      np++;
    }
    if (a->posted_at && *a->posted_at) {
      if (!g->first_seen || strcmp(a->posted_at, g->first_seen) < 0) g->first_seen = a->posted_at;
      if (!g->last_seen || strcmp(a->posted_at, g->last_seen) > 0) g->last_seen = a->posted_at;
    }
    for (uint32_t e = 0; e < a->n_ev; e++) {
      if (vigil__grow((void **)&ids, &cid, nid + 1, sizeof *ids)) {
        free(ids);
        free(places);
        free(placekeys);
        free(keybuf);
        return VIGIL_ENOMEM;
      }
      ids[nid++] = links(a->ev[e].kind) ? canon(l, a->ev[e].ident) : a->ev[e].ident;
    }
  }
  if (nid) qsort(ids, nid, sizeof *ids, cmp_u32);
  size_t u = 0;
  for (size_t i = 0; i < nid; i++)
    if (!u || ids[u - 1] != ids[i]) ids[u++] = ids[i];
  g->idents = ids;
  g->n_idents = u;
  size_t kinds[VIGIL_EV_KINDS] = {0};
  for (size_t i = 0; i < u; i++) {
    const vigil__net_ident *x = &l->idents[ids[i]];
    if (x->hub) p->n_hubs++;
    else kinds[x->kind]++;
    if (links(x->kind) && !x->hub && deg(l, ids[i]) >= 2) p->n_identifier_links += deg(l, ids[i]) - 1;
  }
  p->n_phones = kinds[VIGIL_EV_PHONE];
  p->n_emails = kinds[VIGIL_EV_EMAIL];
  p->n_handles = kinds[VIGIL_EV_HANDLE];
  p->n_images = kinds[VIGIL_EV_IMAGE];
  p->n_names = kinds[VIGIL_EV_NAME];
  /* distinct places: sort keys, keep a display string for each */
  size_t *order = vigil__mallocarray(np ? np : 1, sizeof *order);
  g->locations = vigil__mallocarray(np ? np : 1, sizeof *g->locations);
  if (!order || !g->locations) {
    free(order);
    free(places);
    free(placekeys);
    free(keybuf);
    return VIGIL_ENOMEM;
  }
  /* simple insertion dedupe: groups are small on average; cap the work */
  size_t nl = 0;
  for (size_t i = 0; i < np; i++) {
    size_t j = 0;
    for (; j < nl && j < 4096; j++)
      if (!strcmp(placekeys[order[j]], placekeys[i])) break;
    if (j == nl) order[nl++] = i;
  }
  for (size_t i = 0; i < nl; i++) g->locations[i] = places[order[i]];
  g->n_loc = nl;
  p->n_locations = nl;
  free(order);
  free(places);
  free(placekeys);
  /* a place read from an ad's URL lives in keybuf: the group keeps it */
  free(g->placebuf);
  g->placebuf = keybuf;
  (void)cmp_str;

  size_t te = tcount[g - l->groups];
  p->n_template_links = te;

  p->score_mean = g->n ? ssum / (double)g->n : 0;
  p->score_max = smax;
  double n = (double)g->n;
  double c_size = fmin(1.0, log2(n) / 6.0);
  double c_loc = nl > 1 ? fmin(1.0, (double)(nl - 1) / 4.0) : 0;
  double c_names = p->n_names > 1 ? fmin(1.0, (double)(p->n_names - 1) / 3.0) : 0;
  double c_ph = p->n_phones > 1 ? fmin(1.0, (double)(p->n_phones - 1) / 3.0) : 0;
  g->risk = 0.20 * c_size + 0.20 * c_loc + 0.15 * c_names + 0.15 * c_ph + 0.30 * p->score_mean;
  p->risk = g->risk;
  char *r = NULL;
  size_t rl = 0;
  int rc = add_reason(&r, &rl, "%.0f ads", n, 0);
  if (!rc && nl > 1) rc = add_reason(&r, &rl, "%.0f places", (double)nl, 0);
  if (!rc && p->n_names > 1) rc = add_reason(&r, &rl, "%.0f names", (double)p->n_names, 0);
  if (!rc && p->n_phones > 1) rc = add_reason(&r, &rl, "%.0f phones", (double)p->n_phones, 0);
  if (!rc && p->score_mean > 0) rc = add_reason(&r, &rl, "indicators mean %.2f, max %.2f", p->score_mean, p->score_max);
  if (!rc && te > 0) rc = add_reason(&r, &rl, "%.0f template links", (double)te, 0);
  if (!rc && p->n_identifier_links > 0)
    rc = add_reason(&r, &rl, "%.0f shared-identifier links", (double)p->n_identifier_links, 0);
  if (!rc && p->n_hubs > 0) rc = add_reason(&r, &rl, "%.0f hub identifiers seen (not used to link)", (double)p->n_hubs, 0);
  if (rc) {
    free(r);
    return rc;
  }
  g->reasons = r;
  p->reasons = r ? r : "";
  p->template_text = "";
  return VIGIL_OK;
}

static int cmp_group(const void *a, const void *b) {
  const vigil__net_group *x = a, *y = b;
  if (x->risk != y->risk) return x->risk > y->risk ? -1 : 1;
  if (x->n != y->n) return x->n > y->n ? -1 : 1;
  return x->members[0] < y->members[0] ? -1 : 1;
}

int vigil_linker_group(vigil_linker *l, vigil_error *err) {
  if (l->o.cancelled && l->o.cancelled(l->o.cancel_arg)) return vigil__seterr(err, VIGIL_EIO, "cancelled");
  vigil__net_groups_free(l);
  size_t n = l->n_ads;
  int rc = build_csr(l);
  uint32_t *tsize = calloc(n ? n : 1, sizeof *tsize);
  l->uf = vigil__mallocarray(n ? n : 1, sizeof *l->uf);
  l->group_of = vigil__mallocarray(n ? n : 1, sizeof *l->group_of);
  if (rc || !tsize || !l->uf || !l->group_of) {
    free(tsize);
    vigil__net_groups_free(l);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  for (size_t a = 0; a < n; a++) tsize[vigil__net_uf_find(l->tuf, (uint32_t)a)]++;
  if (l->o.use_identifiers && (rc = detect_hubs(l, tsize))) {
    free(tsize);
    vigil__net_groups_free(l);
    return vigil__seterr(err, rc, "out of memory");
  }
  for (size_t a = 0; a < n; a++) l->uf[a] = (uint32_t)a;
  if (l->o.use_templates)
    for (size_t i = 0; i < l->n_tedges; i++) vigil__net_uf_union(l->uf, l->tedges[i].a, l->tedges[i].b);
  if (l->o.use_identifiers)
    for (uint32_t x = 0; x < l->n_idents; x++) {
      if (l->idents[x].hub || !links(l->idents[x].kind) || canon(l, x) != x) continue;
      for (uint32_t j = l->ident_off[x] + 1; j < l->ident_off[x + 1]; j++)
        vigil__net_uf_union(l->uf, l->ident_ads[l->ident_off[x]], l->ident_ads[j]);
    }
  /* components: count, then fill members in ascending order */
  uint32_t *csize = calloc(n ? n : 1, sizeof *csize);
  if (!csize) {
    free(tsize);
    vigil__net_groups_free(l);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  size_t ng = 0;
  for (size_t a = 0; a < n; a++) csize[vigil__net_uf_find(l->uf, (uint32_t)a)]++;
  for (size_t a = 0; a < n; a++)
    if (l->uf[a] == a && csize[a] >= (uint32_t)l->o.min_size) ng++;
  l->groups = calloc(ng ? ng : 1, sizeof *l->groups);
  if (!l->groups) rc = VIGIL_ENOMEM;
  size_t gi = 0;
  for (size_t a = 0; a < n && !rc; a++) {
    l->group_of[a] = -1;
    if (l->uf[a] == a && csize[a] >= (uint32_t)l->o.min_size) {
      vigil__net_group *g = &l->groups[gi];
      g->root = (uint32_t)a;
      g->members = vigil__mallocarray(csize[a], sizeof *g->members);
      if (!g->members) rc = VIGIL_ENOMEM;
      csize[a] = (uint32_t)gi | 0x80000000u; /* root now maps to its group */
      gi++;
    }
  }
  l->n_groups = gi;
  for (size_t a = 0; a < n && !rc; a++) {
    uint32_t r = vigil__net_uf_find(l->uf, (uint32_t)a);
    if (csize[r] & 0x80000000u) {
      vigil__net_group *g = &l->groups[csize[r] & 0x7fffffffu];
      g->members[g->n++] = (uint32_t)a;
      l->group_of[a] = (long)(csize[r] & 0x7fffffffu);
    }
  }
  uint32_t *tcount = calloc(l->n_groups ? l->n_groups : 1, sizeof *tcount);
  if (!tcount) rc = VIGIL_ENOMEM;
  for (size_t i = 0; i < l->n_tedges && !rc && l->o.use_templates; i++)
    if (l->group_of[l->tedges[i].a] >= 0) tcount[l->group_of[l->tedges[i].a]]++;
  for (size_t i = 0; i < l->n_groups && !rc; i++) rc = describe(l, &l->groups[i], tcount);
  free(tcount);
  if (!rc) {
    qsort(l->groups, l->n_groups, sizeof *l->groups, cmp_group);
    for (size_t i = 0; i < l->n_groups; i++) {
      l->groups[i].pub.rank = i;
      for (size_t k = 0; k < l->groups[i].n; k++) l->group_of[l->groups[i].members[k]] = (long)i;
    }
  }
  /* templates of the top groups: the largest template component in each */
  for (size_t i = 0; i < l->n_groups && (int)i < l->o.max_templates && !rc && l->o.use_templates; i++) {
    vigil__net_group *g = &l->groups[i];
    uint32_t best = NET_NONE, bsz = 1;
    for (size_t k = 0; k < g->n; k++) {
      uint32_t r = vigil__net_uf_find(l->tuf, g->members[k]);
      if (tsize[r] > bsz) {
        bsz = tsize[r];
        best = r;
      }
    }
    if (best == NET_NONE) continue;
    uint32_t *m = vigil__mallocarray(bsz, sizeof *m);
    if (!m) {
      rc = VIGIL_ENOMEM;
      break;
    }
    size_t nm = 0;
    for (size_t k = 0; k < g->n; k++)
      if (vigil__net_uf_find(l->tuf, g->members[k]) == best) m[nm++] = g->members[k];
    vigil_error e2;
    rc = vigil__net_template_build(l, m, nm, &g->tpl, &e2);
    free(m);
    if (g->tpl) g->pub.template_text = g->tpl->rendered;
  }
  free(tsize);
  free(csize);
  if (rc) {
    vigil__net_groups_free(l);
    return vigil__seterr(err, rc, "grouping: %s", vigil_strerror(rc));
  }
  l->grouped = 1;
  return VIGIL_OK;
}

size_t vigil_linker_group_count(const vigil_linker *l) { return l->grouped ? l->n_groups : 0; }

const vigil_link_group *vigil_linker_group_get(const vigil_linker *l, size_t rank) {
  if (!l->grouped || rank >= l->n_groups) return NULL;
  return &l->groups[rank].pub;
}

int vigil_linker_group_of(const vigil_linker *l, const char *ad_id, size_t *rank, vigil_error *err) {
  if (!l || !ad_id || !rank) return vigil__seterr(err, VIGIL_EINVAL, "link: NULL argument");
  if (!l->grouped) return vigil__seterr(err, VIGIL_EINVAL, "link: group the ads first");
  uint32_t a = vigil__net_ad_lookup(l, ad_id);
  if (a == NET_NONE) return vigil__seterr(err, VIGIL_ENOTFOUND, "no ad with this id");
  if (l->group_of[a] < 0) return vigil__seterr(err, VIGIL_ENOTFOUND, "the ad is in no group of the minimum size");
  *rank = (size_t)l->group_of[a];
  return VIGIL_OK;
}

int vigil_linker_group_members(const vigil_linker *l, size_t rank, const char ***ids, size_t *n, vigil_error *err) {
  if (!l || !ids || !n) return vigil__seterr(err, VIGIL_EINVAL, "link: NULL argument");
  *ids = NULL;
  *n = 0;
  if (!l->grouped || rank >= l->n_groups) return vigil__seterr(err, VIGIL_ENOTFOUND, "no group %zu", rank);
  /* a fresh array for the caller: the linker is not changed behind its const */
  const vigil__net_group *g = &l->groups[rank];
  const char **v = vigil__mallocarray(g->n, sizeof *v);
  if (!v) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  for (size_t i = 0; i < g->n; i++) v[i] = l->ads[g->members[i]].id;
  *ids = v;
  *n = g->n;
  return VIGIL_OK;
}

int vigil_linker_is_hub(const vigil_linker *l, int kind, const char *value) {
  if (!value) return 0;
  for (size_t i = 0; i < l->n_idents; i++)
    if (l->idents[i].kind == kind && !strcmp(l->idents[i].value, value)) return l->idents[canon(l, (uint32_t)i)].hub;
  return 0;
}
