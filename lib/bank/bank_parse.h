/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bank_parse.h - turning one line of an import file into a bank entry.
 *
 * A parser is created per input; for CSV the first line is the header that
 * maps columns.  vigil__bank_parse_line() never trusts the line: it may
 * hold NULs, invalid UTF-8 or anything else, and the answer is then an
 * error message (without the line number, which the caller adds).
 */
#ifndef VIGIL_BANK_PARSE_H
#define VIGIL_BANK_PARSE_H

#include "vigil/bank.h"

enum {
  VIGIL__COL_SIGNAL_TYPE,
  VIGIL__COL_VALUE,
  VIGIL__COL_EXTERNAL_ID,
  VIGIL__COL_TAGS,
  VIGIL__COL_SOURCE,
  VIGIL__COL_ADDED,
  VIGIL__COL_REMOVED,
  VIGIL__COL_REMOVED_REASON,
  VIGIL__COL_ID,
  VIGIL__COL_BANK,
  VIGIL__COL_DISPUTED, /* written by the service's JSON Lines export; read and ignored */
  VIGIL__NCOLS
};
#define VIGIL__CSV_MAX_COLS 16

typedef struct vigil__bank_parser {
  vigil_bank_format fmt;
  int have_header;                     /* CSV: header seen */
  int ncols;                           /* CSV: columns in the header */
  int col_kind[VIGIL__CSV_MAX_COLS];   /* CSV: VIGIL__COL_* of each column */
  const char *default_source;          /* validated by the caller */
  const char *extra_tags;              /* canonical, added to every entry */
  vigil_video_frame *frames;           /* the last vpdq entry's frames (e->frames points here) */
  char *buf;                           /* CSV: unquoted fields, grown to the longest line */
  size_t bufcap;
} vigil__bank_parser;

/* Names of the CSV columns, in export order. */
extern const char *const vigil__bank_col_names[VIGIL__NCOLS];

void vigil__bank_parser_init(vigil__bank_parser *p, vigil_bank_format fmt, const char *default_source,
                             const char *extra_tags);
/* Frees what the parser holds (the last entry's frames, its buffer). */
void vigil__bank_parser_done(vigil__bank_parser *p);
/* Returns VIGIL_OK with *skip = 1 for lines that hold no entry (blank,
 * comment, the CSV header), VIGIL_OK with e filled, or an error.  A vpdq
 * entry's frames belong to the parser and last until the next line.  A bad CSV
 * header is reported with *fatal = 1: nothing after it can be read. */
int vigil__bank_parse_line(vigil__bank_parser *p, const char *line, size_t len, vigil_bank_entry *e, int *skip,
                           int *fatal, vigil_error *err);

#endif
