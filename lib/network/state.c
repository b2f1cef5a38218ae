/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state.c - the linker's state in SQLite, for incremental runs.
 *
 * Saved: every ad (id, text, place, time, url, indicator score), its
 * shingle hashes and LSH band keys (blobs of little-endian integers), its
 * evidence (a blob of records: kind u8, start u32, span u32, length u16,
 * value bytes), the verified template links, and the options that shaped
 * them (Jaccard threshold, minimum shingles).  Loading rebuilds the id map,
 * the identifier table, the template union-find and the LSH bucket chains
 * from these in one pass - no text is tokenised or hashed again - so adding
 * a day's ads costs the new ads' text processing plus a linear regrouping.
 *
 * Saving is incremental too: rows already in the file (checked by the id of
 * the last stored ad) are kept and only new ads and links are appended, in
 * one transaction.  Blobs read back are checked for size; a corrupt or
 * foreign file gives VIGIL_ECORRUPT, never a crash.
 */
#include "network/net_internal.h"

#include <string.h>

#include "db/db.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS network_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS network_ads(n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, text BLOB NOT NULL,"
    " title_len INTEGER NOT NULL, location TEXT, posted_at TEXT, url TEXT, score REAL NOT NULL,"
    " shingles BLOB, bands BLOB NOT NULL, evidence BLOB);"
    "CREATE TABLE IF NOT EXISTS network_tlinks(n INTEGER PRIMARY KEY, a INTEGER NOT NULL, b INTEGER NOT NULL,"
    " jaccard REAL NOT NULL);";

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int bind_text(sqlite3_stmt *st, int i, const char *s) {
  return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static int64_t count_rows(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st;
  int64_t n = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
  if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

static int save_ad(sqlite3_stmt *st, const vigil_linker *l, size_t n) {
  const vigil__net_ad *a = &l->ads[n];
  size_t evlen = 0;
  for (uint32_t e = 0; e < a->n_ev; e++) evlen += 11 + strlen(l->idents[a->ev[e].ident].value);
  uint8_t *ev = malloc(evlen ? evlen : 1), *sh = vigil__mallocarray(a->n_sh ? a->n_sh : 1, 4);
  uint8_t bands[NET_BANDS * 8];
  if (!ev || !sh) {
    free(ev);
    free(sh);
    return SQLITE_NOMEM;
  }
  size_t o = 0;
  for (uint32_t e = 0; e < a->n_ev; e++) {
    const char *v = l->idents[a->ev[e].ident].value;
    size_t vl = strlen(v);
    if (vl > 65535) vl = 65535;
    ev[o++] = a->ev[e].kind;
    put32(ev + o, a->ev[e].start);
    put32(ev + o + 4, a->ev[e].span);
    ev[o + 8] = (uint8_t)vl;
    ev[o + 9] = (uint8_t)(vl >> 8);
    memcpy(ev + o + 10, v, vl);
    o += 10 + vl;
  }
  for (uint32_t i = 0; i < a->n_sh; i++) put32(sh + 4 * i, a->sh[i]);
  for (int b = 0; b < NET_BANDS; b++) {
    put32(bands + 8 * b, (uint32_t)a->bands[b]);
    put32(bands + 8 * b + 4, (uint32_t)(a->bands[b] >> 32));
  }
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)n);
  bind_text(st, 2, a->id);
  sqlite3_bind_blob(st, 3, a->text, (int)a->text_len, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, a->title_len);
  bind_text(st, 5, a->location);
  bind_text(st, 6, a->posted_at);
  bind_text(st, 7, a->url);
  sqlite3_bind_double(st, 8, a->score);
  sqlite3_bind_blob(st, 9, sh, (int)(4 * a->n_sh), SQLITE_STATIC);
  sqlite3_bind_blob(st, 10, bands, sizeof bands, SQLITE_STATIC);
  sqlite3_bind_blob(st, 11, ev, (int)o, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  free(ev);
  free(sh);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int vigil_linker_save(const vigil_linker *l, const char *path, vigil_error *err) {
  sqlite3 *db;
  int rc = vigil__db_open(&db, path, err);
  if (rc) return rc;
  if ((rc = vigil__db_exec(db, schema, err)) || (rc = vigil__db_exec(db, "BEGIN IMMEDIATE", err))) {
    vigil__db_close(db);
    return rc;
  }
  int64_t have = count_rows(db, "SELECT count(*) FROM network_ads");
  int64_t have_links = count_rows(db, "SELECT count(*) FROM network_tlinks");
  /* keep what is stored only when it is a prefix of this linker's ads */
  int keep = have >= 0 && have_links >= 0 && (size_t)have <= l->n_ads && (size_t)have_links <= l->n_tedges;
  if (keep && have > 0) {
    sqlite3_stmt *st;
    keep = 0;
    if (sqlite3_prepare_v2(db, "SELECT id FROM network_ads WHERE n = ?", -1, &st, NULL) == SQLITE_OK) {
      sqlite3_bind_int64(st, 1, have - 1);
      if (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        keep = id && !strcmp(id, l->ads[have - 1].id);
      }
      sqlite3_finalize(st);
    }
  }
  if (!keep) {
    have = have_links = 0;
    rc = vigil__db_exec(db, "DELETE FROM network_ads; DELETE FROM network_tlinks; DELETE FROM network_meta;", err);
  }
  char meta[256];
  snprintf(meta, sizeof meta,
           "INSERT OR REPLACE INTO network_meta VALUES('version','1'),('jaccard','%.17g'),('min_shingles','%d');",
           l->o.jaccard, l->o.min_shingles);
  if (!rc) rc = vigil__db_exec(db, meta, err);
  sqlite3_stmt *ins = NULL, *lnk = NULL;
  if (!rc && (sqlite3_prepare_v2(db, "INSERT INTO network_ads VALUES(?,?,?,?,?,?,?,?,?,?,?)", -1, &ins, NULL) ||
              sqlite3_prepare_v2(db, "INSERT INTO network_tlinks VALUES(?,?,?,?)", -1, &lnk, NULL)))
    rc = vigil__db_error(db, "prepare", err);
  for (size_t n = (size_t)have; n < l->n_ads && !rc; n++)
    if (save_ad(ins, l, n) != SQLITE_OK) rc = vigil__db_error(db, "save ad", err);
  for (size_t n = (size_t)have_links; n < l->n_tedges && !rc; n++) {
    sqlite3_reset(lnk);
    sqlite3_bind_int64(lnk, 1, (sqlite3_int64)n);
    sqlite3_bind_int64(lnk, 2, l->tedges[n].a);
    sqlite3_bind_int64(lnk, 3, l->tedges[n].b);
    sqlite3_bind_double(lnk, 4, l->tedges[n].sim);
    if (sqlite3_step(lnk) != SQLITE_DONE) rc = vigil__db_error(db, "save link", err);
  }
  sqlite3_finalize(ins);
  sqlite3_finalize(lnk);
  if (!rc) rc = vigil__db_exec(db, "COMMIT", err);
  else vigil__db_exec(db, "ROLLBACK", NULL);
  vigil__db_close(db);
  return rc;
}

static char *col_dup(sqlite3_stmt *st, int i) {
  const unsigned char *s = sqlite3_column_text(st, i);
  return s ? strdup((const char *)s) : NULL;
}

static int load_ad(vigil_linker *l, sqlite3_stmt *st, vigil_error *err) {
  if (sqlite3_column_int64(st, 0) != (sqlite3_int64)l->n_ads)
    return vigil__seterr(err, VIGIL_ECORRUPT, "state: ads are not numbered 0..n-1");
  int rc = vigil__net_reserve_ads(l, 1, err);
  if (rc) return rc;
  vigil__net_ad a;
  memset(&a, 0, sizeof a);
  int tl = sqlite3_column_bytes(st, 2);
  const void *tb = sqlite3_column_blob(st, 2);
  int64_t title = sqlite3_column_int64(st, 3);
  int shl = sqlite3_column_bytes(st, 8), bl = sqlite3_column_bytes(st, 9), evl = sqlite3_column_bytes(st, 10);
  const uint8_t *shb = sqlite3_column_blob(st, 8), *bb = sqlite3_column_blob(st, 9), *evb = sqlite3_column_blob(st, 10);
  if (tl < 0 || title < 0 || title > tl || shl % 4 || bl != NET_BANDS * 8 || !bb)
    return vigil__seterr(err, VIGIL_ECORRUPT, "state: ad %zu has malformed fields", l->n_ads);
  a.id = col_dup(st, 1);
  a.text = malloc((size_t)tl + 1);
  a.location = col_dup(st, 4);
  a.posted_at = col_dup(st, 5);
  a.url = col_dup(st, 6);
  a.n_sh = (uint32_t)(shl / 4);
  a.sh = vigil__mallocarray(a.n_sh ? a.n_sh : 1, 4);
  if (!a.id || !a.text || !a.sh) {
    vigil__net_ad_free(&a);
    return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  }
  if (tl) memcpy(a.text, tb, (size_t)tl);
  a.text[tl] = 0;
  a.text_len = (uint32_t)tl;
  a.title_len = (uint32_t)title;
  a.score = (float)sqlite3_column_double(st, 7);
  for (uint32_t i = 0; i < a.n_sh; i++) a.sh[i] = get32(shb + 4 * i);
  for (int b = 0; b < NET_BANDS; b++) a.bands[b] = get32(bb + 8 * b) | (uint64_t)get32(bb + 8 * b + 4) << 32;
  /* evidence */
  size_t o = 0, cap = 0;
  while (evb && o < (size_t)evl) {
    if (o + 11 > (size_t)evl) break;
    size_t vl = evb[o + 9] | (size_t)evb[o + 10] << 8;
    if (o + 11 + vl > (size_t)evl || evb[o] >= VIGIL_EV_KINDS) break;
    char *v = strndup((const char *)evb + o + 11, vl);
    if (!v || vigil__grow((void **)&a.ev, &cap, a.n_ev + 1, sizeof *a.ev)) {
      free(v);
      vigil__net_ad_free(&a);
      return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    }
    vigil__net_ev *e = &a.ev[a.n_ev];
    e->kind = evb[o];
    e->start = get32(evb + o + 1);
    e->span = get32(evb + o + 5);
    if ((uint64_t)e->start + e->span > a.text_len) e->start = e->span = 0;
    rc = vigil__net_ident_intern(l, e->kind, v, &e->ident, err);
    free(v);
    if (rc) {
      vigil__net_ad_free(&a);
      return rc;
    }
    a.n_ev++;
    o += 11 + vl;
  }
  if (o != (size_t)evl && evb) {
    vigil__net_ad_free(&a);
    return vigil__seterr(err, VIGIL_ECORRUPT, "state: ad %zu has malformed evidence", l->n_ads);
  }
  uint32_t n = (uint32_t)l->n_ads;
  l->ads[n] = a;
  l->n_ads++;
  if ((rc = vigil__net_ad_index_id(l, n, err)))
    return rc == VIGIL_EEXIST ? vigil__seterr(err, VIGIL_ECORRUPT, "state: duplicate ad id") : rc;
  /* bucket chains without verification: the links are loaded below */
  l->tuf[n] = n;
  for (int b = 0; b < NET_BANDS; b++) {
    l->next[(size_t)n * NET_BANDS + b] = NET_NONE;
    if (a.n_sh < (uint32_t)l->o.min_shingles) continue;
    int created;
    uint32_t *slot = vigil__net_u64map_slot(&l->buckets, a.bands[b], &created);
    if (!slot) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    l->next[(size_t)n * NET_BANDS + b] = *slot;
    *slot = n;
  }
  return VIGIL_OK;
}

int vigil_linker_load(vigil_linker *l, const char *path, vigil_error *err) {
  if (l->n_ads) return vigil__seterr(err, VIGIL_EINVAL, "load: the linker already holds ads");
  sqlite3 *db;
  int rc = vigil__db_open(&db, path, err);
  if (rc) return rc;
  if ((rc = vigil__db_exec(db, schema, err))) {
    vigil__db_close(db);
    return rc;
  }
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, "SELECT key, value FROM network_meta", -1, &st, NULL) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      const char *k = (const char *)sqlite3_column_text(st, 0), *v = (const char *)sqlite3_column_text(st, 1);
      if (!k || !v) continue;
      if (!strcmp(k, "jaccard")) {
        double j = strtod(v, NULL);
        if (j > 0 && j <= 1) l->o.jaccard = j;
      } else if (!strcmp(k, "min_shingles")) {
        long m = strtol(v, NULL, 10);
        if (m >= 1 && m < 100000) l->o.min_shingles = (int)m;
      }
    }
  }
  sqlite3_finalize(st);
  st = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT n, id, text, title_len, location, posted_at, url, score, shingles, bands, evidence "
                         "FROM network_ads ORDER BY n",
                         -1, &st, NULL) != SQLITE_OK)
    rc = vigil__db_error(db, "load ads", err);
  while (!rc) {
    int s = sqlite3_step(st);
    if (s == SQLITE_DONE) break;
    if (s != SQLITE_ROW) {
      rc = vigil__db_error(db, "load ads", err);
      break;
    }
    rc = load_ad(l, st, err);
  }
  sqlite3_finalize(st);
  st = NULL;
  if (!rc && sqlite3_prepare_v2(db, "SELECT a, b, jaccard FROM network_tlinks ORDER BY n", -1, &st, NULL) != SQLITE_OK)
    rc = vigil__db_error(db, "load links", err);
  while (!rc) {
    int s = sqlite3_step(st);
    if (s == SQLITE_DONE) break;
    if (s != SQLITE_ROW) {
      rc = vigil__db_error(db, "load links", err);
      break;
    }
    int64_t a = sqlite3_column_int64(st, 0), b = sqlite3_column_int64(st, 1);
    if (a < 0 || b < 0 || (size_t)a >= l->n_ads || (size_t)b >= l->n_ads) {
      rc = vigil__seterr(err, VIGIL_ECORRUPT, "state: link to an unknown ad");
      break;
    }
    if (vigil__grow((void **)&l->tedges, &l->cap_tedges, l->n_tedges + 1, sizeof *l->tedges)) {
      rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
      break;
    }
    l->tedges[l->n_tedges++] = (vigil__net_edge){(uint32_t)a, (uint32_t)b, (float)sqlite3_column_double(st, 2)};
    vigil__net_uf_union(l->tuf, (uint32_t)a, (uint32_t)b);
  }
  sqlite3_finalize(st);
  vigil__db_close(db);
  l->grouped = 0;
  return rc;
}
