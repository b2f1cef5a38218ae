/* SPDX-License-Identifier: Apache-2.0 */
/*
 * extract.c - the built-in evidence extractor and indicator score.
 *
 * Deliberately small; vigil_link_extractor is the seam where a fuller
 * contact extractor (obfuscated numbers, spelled digits) plugs in.
 *
 *   phones   ASCII digit groups separated by at most 4 bytes of non-letters
 *            on one line ("702*605*1961", "(213) 555-0123", "562 • 207 • 8921");
 *            the first run of consecutive groups holding exactly 10 digits
 *            (or 11 starting with 1) with a valid NANP area code and exchange
 *            (first digit 2-9) is the number, so "21 702-605-1961" still finds it.
 *   e-mails  plain local@domain.tld, lowercased.
 *   handles  "snap: x", "kik @x", "ig: x", ... as "snap:x" (the service name
 *            needs an explicit ':' '=' '-' or '@' before the handle).
 *   names    "my name is X", "I'm X", "call me X", ... X capitalised and
 *            not a common word; counted per group, never used to link.
 *
 * The indicator score follows the published evidence collected in
 * ../shared/docs/indicators.md: trust language, an obscured phone, youth
 * words and stated ethnicity predicted confirmed trafficking ads; movement
 * words were less likely in them, so they lower the score.
 */
#include "network/net_internal.h"

#include <ctype.h>
#include <pthread.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

static pcre2_code *re_email, *re_handle, *re_name;
static pthread_once_t re_once = PTHREAD_ONCE_INIT;

static void re_init(void) {
  int e;
  PCRE2_SIZE off;
  re_email = pcre2_compile((PCRE2_SPTR) "[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\\.[A-Za-z0-9-]{1,63})*\\.[A-Za-z]{2,10}",
                           PCRE2_ZERO_TERMINATED, 0, &e, &off, NULL);
  re_handle = pcre2_compile(
      (PCRE2_SPTR) "(?i:\\b(snapchat|snap|sc|kik|ig|instagram|insta|twitter|telegram|onlyfans))"
                   "\\s{0,3}(?:[:=]\\s{0,3}@?|-\\s{0,3}@?|@)\\s{0,3}([A-Za-z][A-Za-z0-9._]{2,29})",
      PCRE2_ZERO_TERMINATED, 0, &e, &off, NULL);
  re_name = pcre2_compile(
      (PCRE2_SPTR) "(?i:\\b(?:my name is|my name's|name's|names|i'm|i am|im|call me|ask for))\\s{1,3}([A-Z][a-z]{1,14})\\b",
      PCRE2_ZERO_TERMINATED, 0, &e, &off, NULL);
  /* JIT when the platform has it; matching falls back to the interpreter otherwise */
  if (re_email) pcre2_jit_compile(re_email, PCRE2_JIT_COMPLETE);
  if (re_handle) pcre2_jit_compile(re_handle, PCRE2_JIT_COMPLETE);
  if (re_name) pcre2_jit_compile(re_name, PCRE2_JIT_COMPLETE);
}

static const char *const name_stop[] = {
    "available", "here", "new", "back", "ready", "in", "the", "a", "an", "your", "very", "so", "not", "looking",
    "sexy", "real", "young", "only", "open", "out", "waiting", "visiting", "just", "always", "currently",
    "located", "from", "still", "also", "hot", "down", "up", "on", "at", "sweet", "fun", "petite", "independent",
    "discreet", "all", "one", "clean", "easy", "friendly", "latina", "asian", "ebony", "sorry", "now", "today",
    "tonight", "by", "for", "to", "and", "or", "if", "it", "is", "thick", "busty", "curvy", "blonde", "brunette",
    "mature", "beautiful", "gorgeous", "pretty", "cute", "exotic", "fresh", "incall", "outcall", "outcalls",
    "incalls", "hosting", "offering", "staying", "willing", "able", "sure", "happy", "down", "online", "off",
    "daddy", "baby", "babe", "papi", "honey", "yours", "what", "who", "that", "this", "no", "ur", "u", "me",
    "with", "la", "el", "de", "una", "muy", "su", "tu", "mi", "te", "somebody", "someone", "anyone", "nice"};

static int is_stop_name(const char *s, size_t n) {
  char buf[32];
  if (n >= sizeof buf) return 1;
  for (size_t i = 0; i < n; i++) buf[i] = (char)tolower((unsigned char)s[i]);
  buf[n] = 0;
  for (size_t i = 0; i < sizeof name_stop / sizeof name_stop[0]; i++)
    if (!strcmp(buf, name_stop[i])) return 1;
  return 0;
}

typedef struct dgroup {
  size_t start, end; /* bytes */
  char d[16];
  int nd;
  int odd_sep; /* the separator before this group was unusual */
} dgroup;

/* Finds phones; calls emit for each (emit may be NULL); returns how many had
 * unusual separators (an obscured number). */
static int scan_phones(const char *t, size_t len, vigil_link_emit_fn emit, void *ectx) {
  int obscured = 0;
  size_t i = 0;
  while (i < len) {
    if (!isdigit((unsigned char)t[i])) {
      i++;
      continue;
    }
    /* collect a chain of digit groups */
    dgroup g[12];
    int ng = 0;
    size_t j = i;
    int odd = 0;
    for (;;) {
      if (ng == 12) break;
      dgroup *cur = &g[ng];
      cur->start = j;
      cur->nd = 0;
      cur->odd_sep = odd;
      while (j < len && isdigit((unsigned char)t[j])) {
        if (cur->nd < 15) cur->d[cur->nd++] = t[j];
        j++;
      }
      cur->end = j;
      cur->d[cur->nd] = 0;
      ng++;
      /* separator: up to 4 bytes of non-alnum, no newline */
      size_t k = j;
      odd = 0;
      while (k < len && k - j < 5 && !isalnum((unsigned char)t[k]) && t[k] != '\n' && t[k] != '\r') {
        if (!strchr(" -.()+", t[k])) odd = 1;
        k++;
      }
      if (k < len && k > j && k - j <= 4 && isdigit((unsigned char)t[k])) {
        j = k;
        continue;
      }
      break;
    }
    size_t resume = g[ng - 1].end;
    /* first run of consecutive groups holding a NANP number */
    for (int a = 0; a < ng; a++) {
      char d[40];
      int nd = 0, odd_any = 0;
      for (int b = a; b < ng && nd < 12; b++) {
        if (nd + g[b].nd > 11) break;
        memcpy(d + nd, g[b].d, (size_t)g[b].nd);
        nd += g[b].nd;
        if (b > a && g[b].odd_sep) odd_any = 1;
        d[nd] = 0;
        const char *p = d;
        int np = nd;
        if (np == 11 && p[0] == '1') {
          p++;
          np--;
        }
        if (np == 10 && p[0] >= '2' && p[3] >= '2') {
          char num[11];
          memcpy(num, p, 10);
          num[10] = 0;
          if (emit) emit(ectx, VIGIL_EV_PHONE, num, g[a].start, g[b].end - g[a].start);
          if (odd_any) obscured++;
          resume = g[b].end;
          a = b; /* continue after this number */
          break;
        }
      }
    }
    i = resume > i ? resume : i + 1;
  }
  return obscured;
}

static void scan_re(pcre2_code *re, int group, int kind, const char *t, size_t len, vigil_link_emit_fn emit,
                    void *ectx) {
  if (!re) return;
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
  if (!md) return;
  size_t off = 0;
  while (off < len) {
    int rc = pcre2_match(re, (PCRE2_SPTR)t, len, off, 0, md, NULL);
    if (rc < 0) break;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    size_t ms = ov[0], me = ov[1];
    size_t gs = ov[2 * group], ge = ov[2 * group + 1];
    if (gs != PCRE2_UNSET && ge > gs && ge - gs < 80) {
      char buf[128];
      size_t n = 0;
      if (kind == VIGIL_EV_HANDLE) {
        size_t ss = ov[2], se = ov[3];
        for (size_t x = ss; x < se && n < 20; x++) buf[n++] = (char)tolower((unsigned char)t[x]);
        /* one name per service family */
        buf[n] = 0;
        if (!strcmp(buf, "snapchat") || !strcmp(buf, "sc")) n = (size_t)snprintf(buf, sizeof buf, "snap");
        else if (!strcmp(buf, "instagram") || !strcmp(buf, "insta")) n = (size_t)snprintf(buf, sizeof buf, "ig");
        buf[n++] = ':';
      }
      if (kind == VIGIL_EV_NAME && is_stop_name(t + gs, ge - gs)) {
        off = me > ms ? me : ms + 1;
        continue;
      }
      for (size_t x = gs; x < ge && n < sizeof buf - 1; x++)
        buf[n++] = (char)(kind == VIGIL_EV_NAME ? t[x] : tolower((unsigned char)t[x]));
      buf[n] = 0;
      /* trailing dots are punctuation, not part of a handle */
      while (kind == VIGIL_EV_HANDLE && n > 0 && buf[n - 1] == '.') buf[--n] = 0;
      emit(ectx, kind, buf, gs, ge - gs);
    }
    off = me > ms ? me : ms + 1;
  }
  pcre2_match_data_free(md);
}

void vigil__net_builtin_names(const char *text, size_t len, vigil_link_emit_fn emit, void *ectx) {
  pthread_once(&re_once, re_init);
  scan_re(re_name, 1, VIGIL_EV_NAME, text, len, emit, ectx);
}

static void builtin_extract(const char *text, size_t len, vigil_link_emit_fn emit, void *ectx) {
  pthread_once(&re_once, re_init);
  scan_phones(text, len, emit, ectx);
  if (memchr(text, '@', len)) scan_re(re_email, 0, VIGIL_EV_EMAIL, text, len, emit, ectx);
  scan_re(re_handle, 2, VIGIL_EV_HANDLE, text, len, emit, ectx);
  scan_re(re_name, 1, VIGIL_EV_NAME, text, len, emit, ectx);
}

typedef struct lex {
  const char *const *w;
  double weight;
} lex;

static const char *const w_youth[] = {"young", "fresh", "petite", "student", "just turned 18", "barely legal",
                                      "teen", "new to this", "innocent", "baby face", NULL};
static const char *const w_trust[] = {"100% real", "real pics", "no bait", "no games", "legit", "genuine",
                                      "real photos", "verified", "100% me", "real deal", NULL};
static const char *const w_ethnic[] = {"latina", "asian", "ebony", "korean", "japanese", "thai", "russian",
                                       "chinese", "exotic", "colombian", "filipina", "mexican", "puerto", NULL};
static const char *const w_third[] = {" she ", " her ", " our girls", " we are ", " we have ", "girls", NULL};
static const char *const w_unprot[] = {"bareback", "bbbj", "no condom", "bbfs", "raw", NULL};
static const char *const w_move[] = {"new in town", "just arrived", "few days", "short stay", "passing through",
                                     "visiting", "limited time", "in town", "leaving soon", NULL};

static int has_any(const char *lc, const char *const *w) {
  for (; *w; w++)
    if (strstr(lc, *w)) return 1;
  return 0;
}

static double builtin_score(const char *text, size_t len) {
  if (len > 1 << 20) len = 1 << 20;
  char *lc = malloc(len + 3);
  if (!lc) return 0.0;
  lc[0] = ' ';
  for (size_t i = 0; i < len; i++) lc[i + 1] = text[i] ? (char)tolower((unsigned char)text[i]) : ' ';
  lc[len + 1] = ' ';
  lc[len + 2] = 0;
  double s = 0.2 * has_any(lc, w_youth) + 0.15 * has_any(lc, w_trust) + 0.15 * has_any(lc, w_ethnic) +
             0.15 * has_any(lc, w_third) + 0.15 * has_any(lc, w_unprot) - 0.15 * has_any(lc, w_move);
  free(lc);
  if (scan_phones(text, len, NULL, NULL) > 0) s += 0.2;
  return s < 0 ? 0 : s > 1 ? 1 : s;
}

static double builtin_scan(void *tctx, const char *text, size_t len, vigil_link_emit_fn emit, void *ectx) {
  (void)tctx;
  if (emit) builtin_extract(text, len, emit, ectx);
  return builtin_score(text, len);
}

static const vigil_link_extractor builtin = {NULL, NULL, builtin_scan, NULL};

const vigil_link_extractor *vigil_link_builtin_extractor(void) { return &builtin; }
