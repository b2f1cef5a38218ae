/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_bank_import.c - bulk import speed of `vigil bank import` (CSV).
 *
 * Writes a CSV of N entries (80% PDQ, 10% MD5, 10% SHA-256, each with an
 * external id and tags), then measures in the same run:
 *   vigil      vigil_bank_import() of the file: read, parse, validate, write
 *              in acknowledged batches (WAL, synchronous=FULL);
 *   raw        the floor: the same rows, already binary in memory, inserted
 *              into the same schema by one prepared statement with the same
 *              batch size and durability, with no parsing or validation;
 *   naive      one INSERT statement per autocommit transaction (an fsync per
 *              row), as a script would do, on a small sample.
 * and prints lines/s for each and vigil's ratio to both baselines.
 * With --pg URI, also vigil_bank_import() of the same file into a bank of
 * that PostgreSQL database (created, then dropped), as a ratio to SQLite.
 *
 *   bench_bank_import [--n N] [--batch B] [--dir DIR] [--pg URI] [--smoke]
 * Defaults: N = 1,000,000, B = 100,000, DIR = /tmp.  --smoke: N = 2,000.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vigil/bank.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t xs(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

/* Row i: its type and value bytes, from a per-row seed (so both the CSV
 * writer and the raw baseline produce the same rows). */
static vigil_signal_type row(uint64_t i, uint8_t v[32]) {
  uint64_t s = 0x9E3779B97F4A7C15ull * (i + 1);
  for (int k = 0; k < 4; k++) {
    uint64_t x = xs(&s);
    memcpy(v + 8 * k, &x, 8);
  }
  int m = (int)(i % 10);
  return m == 8 ? VIGIL_SIGNAL_MD5 : m == 9 ? VIGIL_SIGNAL_SHA256 : VIGIL_SIGNAL_PDQ;
}

static const char *const tagsets[] = {"csam,A1", "csam,B1", "ncii", "csam"};

static void rm_db(const char *p) {
  char b[1200];
  unlink(p);
  snprintf(b, sizeof b, "%s-wal", p);
  unlink(b);
  snprintf(b, sizeof b, "%s-shm", p);
  unlink(b);
}

static int open_raw(const char *path, sqlite3 **db) {
  /* create the schema through the store, then talk to SQLite directly */
  vigil_bank_store *st;
  vigil_error err;
  if (vigil_bank_store_open(&st, path, &err) || vigil_bank_create(st, "b", NULL, &err)) {
    fprintf(stderr, "store: %s\n", err.message);
    return -1;
  }
  vigil_bank_store_close(st);
  if (sqlite3_open(path, db) != SQLITE_OK) return -1;
  sqlite3_exec(*db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                    "PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=16384;",
               NULL, NULL, NULL);
  return 0;
}

int main(int argc, char **argv) {
  uint64_t n = 1000000, batch = 100000;
  const char *dir = "/tmp", *pg = NULL;
  int smoke = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--smoke")) smoke = 1, n = 2000, batch = 500;
    else if (!strcmp(argv[i], "--n") && i + 1 < argc) n = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
    else if (!strcmp(argv[i], "--pg") && i + 1 < argc) pg = argv[++i];
    else {
      fprintf(stderr, "usage: bench_bank_import [--n N] [--batch B] [--dir DIR] [--pg URI] [--smoke]\n");
      return 2;
    }
  }
  if (n == 0 || batch == 0) return 2;
  char csv[1024], db1[1024], db2[1024], db3[1024];
  snprintf(csv, sizeof csv, "%s/bench-bank-%d.csv", dir, (int)getpid());
  snprintf(db1, sizeof db1, "%s/bench-bank-%d-vigil.db", dir, (int)getpid());
  snprintf(db2, sizeof db2, "%s/bench-bank-%d-raw.db", dir, (int)getpid());
  snprintf(db3, sizeof db3, "%s/bench-bank-%d-naive.db", dir, (int)getpid());

  FILE *f = fopen(csv, "wb");
  if (!f) {
    perror(csv);
    return 1;
  }
  fputs("signal_type,value,external_id,tags,source\n", f);
  for (uint64_t i = 0; i < n; i++) {
    uint8_t v[32];
    vigil_signal_type t = row(i, v);
    char hex[65];
    vigil_signal_to_hex(v, vigil_signal_value_len(t), hex);
    fprintf(f, "%s,%s,case-%llu,\"%s\",bench\n", vigil_signal_name(t), hex, (unsigned long long)i, tagsets[i % 4]);
  }
  long csv_bytes = ftell(f);
  if (fclose(f) != 0) return 1;

  /* vigil */
  rm_db(db1);
  vigil_bank_store *st;
  vigil_error err;
  if (vigil_bank_store_open(&st, db1, &err) || vigil_bank_create(st, "b", NULL, &err)) {
    fprintf(stderr, "store: %s\n", err.message);
    return 1;
  }
  vigil_bank_import_opts o;
  vigil_bank_import_opts_default(&o);
  o.batch = batch;
  vigil_bank_import_report rep;
  FILE *in = fopen(csv, "rb");
  double t0 = now(), c0 = cpu();
  int rc = in ? vigil_bank_import(st, "b", in, &o, &rep, &err) : -1;
  double t_vigil = now() - t0, c_vigil = cpu() - c0;
  if (in) fclose(in);
  if (rc || rep.added != n) {
    fprintf(stderr, "import failed: %s (added %llu of %llu)\n", rc ? err.message : "",
            (unsigned long long)rep.added, (unsigned long long)n);
    return 1;
  }
  vigil_bank_import_report_free(&rep);
  /* re-import of the same file: idempotent, every row existing (skipped
   * past 2M lines to keep big runs short) */
  double t_again = 0;
  if (n <= 2000000) {
    in = fopen(csv, "rb");
    t0 = now();
    rc = in ? vigil_bank_import(st, "b", in, &o, &rep, &err) : -1;
    t_again = now() - t0;
    if (in) fclose(in);
    if (rc || rep.existing != n) return 1;
    vigil_bank_import_report_free(&rep);
  }
  vigil_bank_store_close(st);

  /* raw: prepared INSERT of in-memory rows, same batches */
  rm_db(db2);
  sqlite3 *db;
  if (open_raw(db2, &db)) return 1;
  sqlite3_stmt *ins;
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO bank_entries(bank_id, signal_type, value, external_id, tags, source, added)"
                         " VALUES(1, ?1, ?2, ?3, ?4, 'bench', ?5) ON CONFLICT DO NOTHING",
                         -1, &ins, NULL) != SQLITE_OK)
    return 1;
  t0 = now();
  c0 = cpu();
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  for (uint64_t i = 0; i < n; i++) {
    uint8_t v[32];
    char ext[32];
    vigil_signal_type t = row(i, v);
    int el = snprintf(ext, sizeof ext, "case-%llu", (unsigned long long)i);
    sqlite3_bind_int(ins, 1, (int)t);
    sqlite3_bind_blob(ins, 2, v, (int)vigil_signal_value_len(t), SQLITE_STATIC);
    sqlite3_bind_text(ins, 3, ext, el, SQLITE_STATIC);
    sqlite3_bind_text(ins, 4, tagsets[i % 4], -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 5, 1700000000);
    if (sqlite3_step(ins) != SQLITE_DONE) return 1;
    sqlite3_reset(ins);
    if ((i + 1) % batch == 0) {
      sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
      sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    }
  }
  if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) return 1;
  double t_raw = now() - t0, c_raw = cpu() - c0;
  sqlite3_finalize(ins);
  sqlite3_close(db);

  /* naive: one INSERT per autocommit transaction, on a sample */
  uint64_t ns = smoke ? 100 : (n < 2000 ? n : 2000);
  rm_db(db3);
  if (open_raw(db3, &db)) return 1;
  t0 = now();
  for (uint64_t i = 0; i < ns; i++) {
    uint8_t v[32];
    char hex[65], sql[512];
    vigil_signal_type t = row(i, v);
    vigil_signal_to_hex(v, vigil_signal_value_len(t), hex);
    snprintf(sql, sizeof sql,
             "INSERT INTO bank_entries(bank_id, signal_type, value, external_id, tags, source, added)"
             " VALUES(1, %d, x'%s', 'case-%llu', '%s', 'bench', 1700000000)",
             (int)t, hex, (unsigned long long)i, tagsets[i % 4]);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) return 1;
  }
  double t_naive = now() - t0;
  sqlite3_close(db);

  /* vigil on PostgreSQL: the same import into a throwaway bank */
  double t_pg = 0;
  if (pg) {
    char bank[64];
    snprintf(bank, sizeof bank, "bench-%d", (int)getpid());
    if (vigil_bank_store_open(&st, pg, &err) || vigil_bank_create(st, bank, NULL, &err)) {
      fprintf(stderr, "postgresql store: %s\n", err.message);
      return 1;
    }
    in = fopen(csv, "rb");
    t0 = now();
    rc = in ? vigil_bank_import(st, bank, in, &o, &rep, &err) : -1;
    t_pg = now() - t0;
    if (in) fclose(in);
    if (rc || rep.added != n) {
      fprintf(stderr, "postgresql import failed: %s\n", rc ? err.message : "count");
      return 1;
    }
    vigil_bank_import_report_free(&rep);
    vigil_bank_drop(st, bank, &err);
    vigil_bank_store_close(st);
  }

  double r_vigil = (double)n / t_vigil, r_raw = (double)n / t_raw, r_naive = (double)ns / t_naive;
  printf("bench_bank_import: %llu CSV lines (%.1f MB), batches of %llu, WAL + synchronous=FULL\n",
         (unsigned long long)n, (double)csv_bytes / 1e6, (unsigned long long)batch);
  printf("  vigil import      %10.0f lines/s  (%.2f s; CPU %.2f s = %.0f lines per CPU-second)\n", r_vigil,
         t_vigil, c_vigil, (double)n / c_vigil);
  if (t_again > 0)
    printf("  vigil re-import   %10.0f lines/s  (%.2f s, all existing)\n", (double)n / t_again, t_again);
  if (t_pg > 0)
    printf("  vigil on postgres %10.0f lines/s  (%.2f s; %.2fx the SQLite import's time)\n", (double)n / t_pg, t_pg,
           t_pg / t_vigil);
  printf("  raw prepared      %10.0f rows/s   (%.2f s; CPU %.2f s; no parsing or validation)\n", r_raw, t_raw,
         c_raw);
  printf("  naive autocommit  %10.0f rows/s   (%.2f s for a %llu-row sample)\n", r_naive, t_naive,
         (unsigned long long)ns);
  printf("  ratio vigil/raw %.2f, vigil/naive %.0fx; 10M lines projected at %.0f s\n", r_vigil / r_raw,
         r_vigil / r_naive, 1e7 / r_vigil);
  unlink(csv);
  rm_db(db1);
  rm_db(db2);
  rm_db(db3);
  return 0;
}
