/* SPDX-License-Identifier: Apache-2.0 */
/*
 * linker.c - the linker's lifecycle and how ads come in.
 *
 * Ads arrive as JSON Lines.  Lines are processed in batches: worker threads
 * parse a line, extract its evidence (through the extractor seam), tokenise
 * and shingle its text and compute its LSH band keys - all the per-ad work,
 * which needs no shared state.  The main thread then commits the batch in
 * input order: rejects duplicate ids, interns identifiers, and inserts the
 * ad into the LSH buckets, which verifies candidate template links.  So the
 * result is the same for any number of threads.
 *
 * Every string from an ad is hostile: a line that is not a JSON object with
 * an id is counted as bad and skipped; invalid UTF-8 inside a line is
 * replaced by U+FFFD and the line parsed again rather than lost.
 */
#include "network/net_internal.h"
#include "vigil/match.h"
#include "vigil/pdq.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <utf8proc.h>

#define NET_MAX_LINE (1u << 20)
#define NET_BATCH 32768

void vigil_link_opts_init(vigil_link_opts *o) {
  memset(o, 0, sizeof *o);
  o->use_identifiers = 1;
  o->use_templates = 1;
  o->min_size = 2;
  o->jaccard = 0.5;
  o->min_shingles = 8;
  o->pdq_distance = 31;
  o->hub_min_groups = 3;
  o->hub_min_cover = 0.5;
  o->hub_max_degree = 1000;
  o->threads = 2;
  o->max_templates = 200;
}

int vigil_linker_new(vigil_linker **out, const vigil_link_opts *opts, vigil_error *err) {
  *out = NULL;
  vigil_linker *l = calloc(1, sizeof *l);
  if (!l) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  if (opts) l->o = *opts;
  else vigil_link_opts_init(&l->o);
  if (l->o.jaccard <= 0 || l->o.jaccard > 1 || l->o.min_size < 1 || l->o.threads < 0 || l->o.threads > 256 ||
      l->o.pdq_distance < 0 || l->o.pdq_distance > 256 || l->o.min_shingles < 1) {
    free(l);
    return vigil__seterr(err, VIGIL_EINVAL, "link options out of range");
  }
  if (l->o.threads == 0) l->o.threads = 1;
  if (l->o.extractor) l->ex = *l->o.extractor;
  else if (vigil_link_text_extractor_new(&l->owned_ex, NULL) == VIGIL_OK) l->ex = *l->owned_ex;
  else l->ex = *vigil_link_builtin_extractor(); /* the text scanner could not be built */
  if (!l->ex.scan) {
    vigil_link_text_extractor_free(l->owned_ex);
    free(l);
    return vigil__seterr(err, VIGIL_EINVAL, "link: extractor without a scan function");
  }
  if (vigil__net_u64map_init(&l->idmap, 1024) || vigil__net_u64map_init(&l->identmap, 1024) ||
      vigil__net_u64map_init(&l->buckets, 1024)) {
    vigil_linker_free(l);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  *out = l;
  return VIGIL_OK;
}

void vigil__net_ad_free(vigil__net_ad *a) {
  free(a->id);
  free(a->text);
  free(a->location);
  free(a->posted_at);
  free(a->url);
  free(a->ev);
  free(a->sh);
}

void vigil_linker_free(vigil_linker *l) {
  if (!l) return;
  vigil__net_groups_free(l);
  for (size_t i = 0; i < l->n_ads; i++) vigil__net_ad_free(&l->ads[i]);
  free(l->ads);
  for (size_t i = 0; i < l->n_idents; i++) free(l->idents[i].value);
  free(l->idents);
  vigil__net_u64map_free(&l->idmap);
  vigil__net_u64map_free(&l->identmap);
  vigil_pdq_index_free(l->img_ix);
  vigil__net_u64map_free(&l->buckets);
  free(l->next);
  free(l->tuf);
  free(l->tedges);
  vigil_link_text_extractor_free(l->owned_ex);
  free(l);
}

size_t vigil_linker_ad_count(const vigil_linker *l) { return l->n_ads; }

/* ---- interning ---- */

uint32_t vigil__net_ad_lookup(const vigil_linker *l, const char *id) {
  uint64_t key = vigil__net_hash64(id, strlen(id), 17);
  for (;;) {
    uint32_t v = vigil__net_u64map_get(&l->idmap, key);
    if (v == NET_NONE) return NET_NONE;
    if (!strcmp(l->ads[v].id, id)) return v;
    key = vigil__net_mix64(key + 1);
  }
}

int vigil__net_ad_index_id(vigil_linker *l, uint32_t ad, vigil_error *err) {
  const char *id = l->ads[ad].id;
  uint64_t key = vigil__net_hash64(id, strlen(id), 17);
  for (;;) {
    int created;
    uint32_t *slot = vigil__net_u64map_slot(&l->idmap, key, &created);
    if (!slot) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    if (created) {
      *slot = ad;
      return VIGIL_OK;
    }
    if (!strcmp(l->ads[*slot].id, id)) return vigil__seterr(err, VIGIL_EEXIST, "duplicate ad id");
    key = vigil__net_mix64(key + 1);
  }
}

/* An image identifier is a PDQ hash in hex, read and compared by pdq.h's own functions. */
static int pdq_parse(const char *hex, vigil_pdq_hash *out) {
  return hex && vigil_pdq_from_hex(hex, strlen(hex), out, NULL) == VIGIL_OK;
}

static uint32_t ident_root(const vigil_linker *l, uint32_t a) {
  while (l->idents[a].canon != a) a = l->idents[a].canon;
  return a;
}

/* Images: a new hash joins the class of every earlier hash within the
 * distance.  Earlier hashes are found in a PDQ radius index (lib/match),
 * not by comparing with each: the scan made 10,000 ads with one image each
 * cost 48 s, and 60,000 ran for minutes (docs/network.md). */
int vigil__net_image_link(vigil_linker *l, uint32_t id, vigil_error *err) {
  vigil_pdq_hash h;
  if (!pdq_parse(l->idents[id].value, &h)) return VIGIL_OK;
  int rc = VIGIL_OK;
  if (!l->img_ix) rc = vigil_pdq_index_new(&l->img_ix, err);
  vigil_pdq_hit *hits = NULL;
  size_t n = 0;
  if (rc == VIGIL_OK) rc = vigil_pdq_index_query(l->img_ix, &h, l->o.pdq_distance, &hits, &n, err);
  for (size_t i = 0; rc == VIGIL_OK && i < n; i++) {
    uint32_t a = ident_root(l, id), b = ident_root(l, (uint32_t)hits[i].id);
    if (a != b) {
      if (a < b) l->idents[b].canon = a;
      else l->idents[a].canon = b;
    }
  }
  free(hits);
  if (rc == VIGIL_OK) rc = vigil_pdq_index_add(l->img_ix, &h, id, err);
  return rc;
}

int vigil__net_ident_intern(vigil_linker *l, int kind, const char *value, uint32_t *out, vigil_error *err) {
  size_t vl = strlen(value);
  uint64_t key = vigil__net_hash64(value, vl, (uint64_t)kind + 101);
  for (;;) {
    int created;
    uint32_t *slot = vigil__net_u64map_slot(&l->identmap, key, &created);
    if (!slot) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    if (!created) {
      vigil__net_ident *x = &l->idents[*slot];
      if (x->kind == kind && !strcmp(x->value, value)) {
        *out = *slot;
        return VIGIL_OK;
      }
      key = vigil__net_mix64(key + 1);
      continue;
    }
    if (l->n_idents >= NET_NONE - 1 ||
        vigil__grow((void **)&l->idents, &l->cap_idents, l->n_idents + 1, sizeof *l->idents)) {
      return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    }
    vigil__net_ident *x = &l->idents[l->n_idents];
    if (!(x->value = strdup(value))) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    x->kind = (uint8_t)kind;
    x->hub = 0;
    x->canon = (uint32_t)l->n_idents;
    *slot = (uint32_t)l->n_idents;
    *out = (uint32_t)l->n_idents++;
    if (kind == VIGIL_EV_IMAGE) return vigil__net_image_link(l, *out, err);
    return VIGIL_OK;
  }
}

int vigil__net_reserve_ads(vigil_linker *l, size_t n, vigil_error *err) {
  size_t need = l->n_ads + n;
  if (need >= NET_NONE - 1) return vigil__seterr(err, VIGIL_ELIMIT, "too many ads");
  size_t cap = l->cap_ads;
  if (vigil__grow((void **)&l->ads, &l->cap_ads, need, sizeof *l->ads))
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  if (l->cap_ads != cap || !l->tuf) {
    uint32_t *nx = vigil__reallocarray(l->next, l->cap_ads, NET_BANDS * sizeof *nx);
    if (!nx) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    l->next = nx;
    uint32_t *tu = vigil__reallocarray(l->tuf, l->cap_ads, sizeof *tu);
    if (!tu) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    l->tuf = tu;
  }
  return VIGIL_OK;
}

/* ---- LSH ---- */

int vigil__net_lsh_insert(vigil_linker *l, uint32_t ad, vigil_error *err) {
  vigil__net_ad *a = &l->ads[ad];
  l->tuf[ad] = ad;
  for (int b = 0; b < NET_BANDS; b++) l->next[(size_t)ad * NET_BANDS + b] = NET_NONE;
  if (a->n_sh < (uint32_t)l->o.min_shingles) return VIGIL_OK;
  for (int b = 0; b < NET_BANDS; b++) {
    int created;
    uint32_t *slot = vigil__net_u64map_slot(&l->buckets, a->bands[b], &created);
    if (!slot) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    uint32_t c = *slot;
    for (int k = 0; k < NET_VERIFY && c != NET_NONE; k++, c = l->next[(size_t)c * NET_BANDS + b]) {
      if (vigil__net_uf_find(l->tuf, c) == vigil__net_uf_find(l->tuf, ad)) continue;
      const vigil__net_ad *o = &l->ads[c];
      double j = vigil__net_jaccard(a->sh, a->n_sh, o->sh, o->n_sh);
      if (j < l->o.jaccard) continue;
      if (vigil__grow((void **)&l->tedges, &l->cap_tedges, l->n_tedges + 1, sizeof *l->tedges))
        return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
      l->tedges[l->n_tedges++] = (vigil__net_edge){c, ad, (float)j};
      vigil__net_uf_union(l->tuf, c, ad);
    }
    /* re-read: the map may have grown while we verified (it did not: no inserts above) */
    l->next[(size_t)ad * NET_BANDS + b] = *slot;
    *slot = ad;
  }
  return VIGIL_OK;
}

/* ---- parsing (worker side) ---- */

typedef struct raw_ev {
  char *value;
  uint32_t start, span;
  uint8_t kind;
} raw_ev;

typedef struct prep {
  vigil__net_ad ad;
  raw_ev *ev;
  size_t n_ev, cap_ev;
  int bad;    /* 0 ok, else a VIGIL_E* code */
  char msg[160];
  int oom;
} prep;

static void emit_cb(void *ectx, int kind, const char *value, size_t start, size_t span) {
  prep *p = ectx;
  if (p->oom || kind < 0 || kind >= VIGIL_EV_KINDS || !value || !*value) return;
  if (p->n_ev >= 4096) return; /* a hostile ad cannot flood the identifier table */
  if (vigil__grow((void **)&p->ev, &p->cap_ev, p->n_ev + 1, sizeof *p->ev)) {
    p->oom = 1;
    return;
  }
  raw_ev *e = &p->ev[p->n_ev];
  if (!(e->value = strdup(value))) {
    p->oom = 1;
    return;
  }
  e->kind = (uint8_t)kind;
  e->start = (uint32_t)start;
  e->span = (uint32_t)span;
  p->n_ev++;
}

static char *dup_str(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  if (json_is_string(v)) return strndup(json_string_value(v), json_string_length(v));
  if (json_is_integer(v)) {
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)json_integer_value(v));
    return strdup(b);
  }
  return NULL;
}

/* Copy of s with every invalid UTF-8 sequence replaced by U+FFFD. */
static char *fix_utf8(const char *s, size_t n, size_t *outn) {
  char *o = vigil__mallocarray(n, 3);
  if (!o) return NULL;
  size_t j = 0;
  for (size_t i = 0; i < n;) {
    utf8proc_int32_t c;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &c);
    if (k <= 0) {
      memcpy(o + j, "\xEF\xBF\xBD", 3);
      j += 3;
      i++;
    } else {
      memcpy(o + j, s + i, (size_t)k);
      j += (size_t)k;
      i += (size_t)k;
    }
  }
  *outn = j;
  return o;
}

static void add_listed(prep *p, json_t *o, const char *key, int kind) {
  json_t *arr = json_object_get(o, key);
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    const char *s = NULL;
    if (json_is_string(v)) s = json_string_value(v);
    else if (json_is_object(v) && json_is_string(json_object_get(v, "pdq")))
      s = json_string_value(json_object_get(v, "pdq"));
    if (!s) continue;
    char buf[256];
    size_t n = 0;
    for (const char *c = s; *c && n < sizeof buf - 1; c++) {
      if (kind == VIGIL_EV_PHONE) {
        if (*c >= '0' && *c <= '9') buf[n++] = *c;
      } else buf[n++] = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
    }
    /* a long value is cut before a character, never inside one */
    if (n == sizeof buf - 1)
      while (n && ((unsigned char)buf[n] & 0xC0) == 0x80) n--;
    buf[n] = 0;
    if (kind == VIGIL_EV_PHONE && n == 11 && buf[0] == '1') memmove(buf, buf + 1, n--);
    if (kind == VIGIL_EV_PHONE && n < 7) continue;
    vigil_pdq_hash h;
    if (kind == VIGIL_EV_IMAGE && !pdq_parse(buf, &h)) continue;
    emit_cb(p, kind, buf, 0, 0);
  }
}

static void prep_line(const vigil_linker *l, void *tctx, const char *line, size_t len, prep *p) {
  memset(p, 0, sizeof *p);
  if (len > NET_MAX_LINE) {
    p->bad = VIGIL_ELIMIT;
    snprintf(p->msg, sizeof p->msg, "line longer than %u bytes", NET_MAX_LINE);
    return;
  }
  json_error_t je;
  json_t *o = json_loadb(line, len, 0, &je);
  if (!o && json_error_code(&je) == json_error_invalid_utf8) { /* only then can repairing the bytes help */
    size_t fl;
    char *fixed = fix_utf8(line, len, &fl);
    if (fixed) o = json_loadb(fixed, fl, 0, &je);
    free(fixed);
  }
  if (!o || !json_is_object(o)) {
    p->bad = VIGIL_EFORMAT;
    snprintf(p->msg, sizeof p->msg, "not a JSON object: %.100s", o ? "wrong type" : je.text);
    json_decref(o);
    return;
  }
  vigil__net_ad *a = &p->ad;
  a->id = dup_str(o, "id");
  if (!a->id || !*a->id) {
    p->bad = VIGIL_EINVAL;
    snprintf(p->msg, sizeof p->msg, "ad without an \"id\"");
    goto done;
  }
  char *title = dup_str(o, "title"), *body = dup_str(o, "body"), *text = dup_str(o, "text");
  if (!body && text) {
    body = text;
    text = NULL;
  }
  free(text);
  size_t tl = title ? strlen(title) : 0, bl = body ? strlen(body) : 0;
  a->text = malloc(tl + bl + 2);
  if (!a->text) {
    free(title);
    free(body);
    p->oom = 1;
    goto done;
  }
  if (tl) memcpy(a->text, title, tl);
  a->text[tl] = '\n';
  if (bl) memcpy(a->text + tl + 1, body, bl);
  a->text[tl + 1 + bl] = 0;
  a->text_len = (uint32_t)(tl + 1 + bl);
  a->title_len = (uint32_t)tl;
  free(title);
  free(body);
  a->location = dup_str(o, "location");
  a->posted_at = dup_str(o, "posted_at");
  a->url = dup_str(o, "url");

  int listed = json_is_array(json_object_get(o, "phones")) || json_is_array(json_object_get(o, "emails")) ||
               json_is_array(json_object_get(o, "handles"));
  if (listed) {
    add_listed(p, o, "phones", VIGIL_EV_PHONE);
    add_listed(p, o, "emails", VIGIL_EV_EMAIL);
    add_listed(p, o, "handles", VIGIL_EV_HANDLE);
  }
  json_t *sc = json_object_get(o, "score");
  /* listed identifiers replace extraction; a given score replaces scoring */
  if (!listed || !json_is_number(sc)) {
    double s = l->ex.scan(tctx, a->text, a->text_len, listed ? NULL : emit_cb, p);
    a->score = (float)s;
  }
  add_listed(p, o, "images", VIGIL_EV_IMAGE);
  if (json_is_number(sc)) a->score = (float)json_number_value(sc);
  if (!(a->score >= 0)) a->score = 0;
  if (a->score > 1) a->score = 1;

  vigil__net_tok *t;
  size_t nt;
  if (vigil__net_tokenize(a->text, a->text_len, &t, &nt) != VIGIL_OK) {
    p->oom = 1;
    goto done;
  }
  int rc = vigil__net_shingles(t, nt, &a->sh, &a->n_sh);
  free(t);
  if (rc != VIGIL_OK) {
    p->oom = 1;
    goto done;
  }
  vigil__net_band_keys(a->sh, a->n_sh, a->bands);
done:
  json_decref(o);
}

typedef struct work {
  const vigil_linker *l;
  const char **lines;
  const size_t *lens;
  prep *preps;
  size_t n;
  int stride, first;
  int stopped;      /* the caller's cancel said stop: the rest of this share is left empty */
  atomic_int *stop; /* shared by the batch's threads: set by the polling one, read by all */
} work;

/* Lines prepared between two polls of the cancel function: a batch of
 * NET_BATCH lines takes about a second (several under a sanitizer), too
 * long for a server that must stop within its grace time. */
#define NET_CANCEL_EVERY 512

static void *worker(void *arg) {
  work *w = arg;
  void *tctx = w->l->ex.ctx;
  int own = 0;
  if (w->l->ex.thread_init) {
    if (w->l->ex.thread_init(w->l->ex.ctx, &tctx) != VIGIL_OK) {
      for (size_t i = (size_t)w->first; i < w->n; i += (size_t)w->stride) {
        memset(&w->preps[i], 0, sizeof w->preps[i]);
        w->preps[i].oom = 1;
      }
      return NULL;
    }
    own = 1;
  }
  /* Only the share run on the calling thread polls: the cancel function is
   * the caller's, and may not expect other threads.  It tells the others
   * through the batch's stop flag, which each reads before every line. */
  int polls = w->first == 0 && w->l->o.cancelled;
  size_t k = 0;
  for (size_t i = (size_t)w->first; i < w->n; i += (size_t)w->stride, k++) {
    if (polls && k % NET_CANCEL_EVERY == NET_CANCEL_EVERY - 1 && w->l->o.cancelled(w->l->o.cancel_arg))
      atomic_store_explicit(w->stop, 1, memory_order_relaxed);
    if (atomic_load_explicit(w->stop, memory_order_relaxed)) {
      w->stopped = 1;
      for (; i < w->n; i += (size_t)w->stride) memset(&w->preps[i], 0, sizeof w->preps[i]); /* freed as empty */
      break;
    }
    prep_line(w->l, tctx, w->lines[i], w->lens[i], &w->preps[i]);
  }
  if (own && w->l->ex.thread_done) w->l->ex.thread_done(tctx);
  return NULL;
}

static void prep_free(prep *p) {
  vigil__net_ad_free(&p->ad);
  for (size_t i = 0; i < p->n_ev; i++) free(p->ev[i].value);
  free(p->ev);
}

static int commit(vigil_linker *l, prep *p, size_t lineno, size_t *bad, vigil_error *err, int *first_bad) {
  if (p->oom) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  if (!p->bad) {
    if (vigil__net_ad_lookup(l, p->ad.id) != NET_NONE) {
      p->bad = VIGIL_EEXIST;
      snprintf(p->msg, sizeof p->msg, "duplicate ad id");
    }
  }
  if (p->bad) {
    if (bad) (*bad)++;
    if (*first_bad) {
      vigil__seterr(err, p->bad, "line %zu: %s", lineno, p->msg);
      *first_bad = 0;
    }
    return VIGIL_OK;
  }
  int rc = vigil__net_reserve_ads(l, 1, err);
  if (rc) return rc;
  vigil__net_ev *ev = p->n_ev ? vigil__mallocarray(p->n_ev, sizeof *ev) : NULL;
  if (p->n_ev && !ev) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  for (size_t i = 0; i < p->n_ev; i++) {
    rc = vigil__net_ident_intern(l, p->ev[i].kind, p->ev[i].value, &ev[i].ident, err);
    if (rc) {
      free(ev);
      return rc;
    }
    ev[i].kind = p->ev[i].kind;
    ev[i].start = p->ev[i].start;
    ev[i].span = p->ev[i].span;
  }
  uint32_t ad = (uint32_t)l->n_ads;
  l->ads[ad] = p->ad;
  l->ads[ad].ev = ev;
  l->ads[ad].n_ev = (uint32_t)p->n_ev;
  memset(&p->ad, 0, sizeof p->ad);
  l->n_ads++;
  if ((rc = vigil__net_ad_index_id(l, ad, err))) return rc;
  return vigil__net_lsh_insert(l, ad, err);
}

int vigil_linker_add_jsonl(vigil_linker *l, const char *buf, size_t len, size_t *bad, vigil_error *err) {
  if (bad) *bad = 0;
  l->grouped = 0;
  /* batch arrays sized to the input: small calls stay cheap */
  size_t nlines = 1;
  for (const char *p = buf, *e = buf + len; p < e && nlines < NET_BATCH; nlines++) {
    p = memchr(p, '\n', (size_t)(e - p));
    if (!p) break;
    p++;
  }
  size_t bcap = nlines < NET_BATCH ? nlines : NET_BATCH;
  const char **lines = vigil__mallocarray(bcap, sizeof *lines);
  size_t *lens = vigil__mallocarray(bcap, sizeof *lens);
  size_t *nos = vigil__mallocarray(bcap, sizeof *nos);
  prep *preps = vigil__mallocarray(bcap, sizeof *preps);
  if (!lines || !lens || !preps || !nos) {
    free(nos);
    free(lines);
    free(lens);
    free(preps);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  int rc = VIGIL_OK, first_bad = 1;
  size_t pos = 0, lineno = 0;
  while (pos < len && rc == VIGIL_OK) {
    if (l->o.cancelled && l->o.cancelled(l->o.cancel_arg)) {
      rc = vigil__seterr(err, VIGIL_EIO, "cancelled");
      break;
    }
    size_t n = 0;
    while (pos < len && n < bcap) {
      const char *s = buf + pos;
      const char *e = memchr(s, '\n', len - pos);
      size_t ll = e ? (size_t)(e - s) : len - pos;
      pos += ll + (e ? 1 : 0);
      lineno++;
      size_t k = 0;
      while (k < ll && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r')) k++;
      if (k == ll) continue; /* blank lines are not ads */
      lines[n] = s;
      lens[n] = ll;
      nos[n] = lineno;
      n++;
    }
    int nt = l->o.threads > 1 && n > 64 ? l->o.threads : 1;
    pthread_t th[256];
    work w[256];
    atomic_int stop = 0;
    int started = 0;
    for (int t = 0; t < nt; t++) {
      w[t] = (work){l, lines, lens, preps, n, nt, t, 0, &stop};
      if (t > 0) {
        if (pthread_create(&th[t], NULL, worker, &w[t]) != 0) break;
        started = t;
      }
    }
    if (started < nt - 1) { /* could not start them all: do the lot here */
      for (int t = 1; t <= started; t++) pthread_join(th[t], NULL);
      w[0].stride = 1;
      started = 0;
    }
    worker(&w[0]);
    for (int t = 1; t <= started; t++) pthread_join(th[t], NULL);
    if (atomic_load(&stop)) rc = vigil__seterr(err, VIGIL_EIO, "cancelled"); /* nothing of this batch is committed */
    for (size_t i = 0; i < n; i++) {
      if (rc == VIGIL_OK && (i & 1023) == 1023 && l->o.cancelled && l->o.cancelled(l->o.cancel_arg))
        rc = vigil__seterr(err, VIGIL_EIO, "cancelled");
      if (rc == VIGIL_OK) rc = commit(l, &preps[i], nos[i], bad, err, &first_bad);
      prep_free(&preps[i]);
    }
  }
  free(lines);
  free(lens);
  free(nos);
  free(preps);
  return rc;
}

int vigil_linker_add_file(vigil_linker *l, const char *path, size_t *bad, vigil_error *err) {
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!f) return vigil__seterr(err, VIGIL_EIO, "%s: %s", path, strerror(errno));
  char *buf = NULL;
  size_t n = 0, cap = 0;
  int rc = VIGIL_OK;
  for (;;) {
    if (vigil__grow((void **)&buf, &cap, n + 65536, 1)) {
      rc = vigil__seterr(err, VIGIL_ENOMEM, "%s: out of memory", path);
      break;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f)) rc = vigil__seterr(err, VIGIL_EIO, "%s: read error", path);
      break;
    }
  }
  if (f != stdin) fclose(f);
  if (rc == VIGIL_OK) {
    rc = vigil_linker_add_jsonl(l, buf, n, bad, err);
    if (err && err->code) vigil__prefixerr(err, err->code, path);
  }
  free(buf);
  return rc;
}
