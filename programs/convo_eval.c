/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convo_eval.c - `vigil convo eval`: the grooming scorer measured on the
 * chat corpora (../shared/corpora/chat, see ../shared/README.md).
 *
 * Conversation level: a record is flagged when its risk reaches
 * VIGIL_CONVO_THRESHOLD.  Perverted-Justice records (label grooming) are
 * the positives, every benign set the negatives; the program prints
 * precision, recall and F1, and the false-positive rate of each benign set.
 * Labels and roles are read here, by the evaluation, and never passed to
 * the scorer.
 *
 * Split: a record belongs to the "dev" half when the FNV-1a hash of its id
 * is even, to "test" otherwise.  Rules and weights were tuned looking at
 * dev only; docs/convo.md reports test (and all).  The split is
 * deterministic and needs no file.
 *
 * Age masking (--mask-ages): PJ decoys state their age in almost every
 * chat, real victims often do not, so the same measure is taken with age
 * statements replaced by "[age]" in every message before scoring: "im 13",
 * "13/f", "13 yo", "8th grade", "middle school", "ur only 14", every
 * standalone number 9-18 and teen number word, "kid", "hs", "old enough",
 * "when u turn 18", "when ur older".  The mask is deliberately broader than
 * the scorer's own age rules.
 *
 * Early detection: PJ records keep each speaker's messages in order but
 * lose the turn order between speakers, so the decoy's messages are given
 * first (as context) and the suspect's one by one; the count is the number
 * of suspect messages after which the suspect -> decoy risk first reaches
 * the threshold (median and 90th percentile over detected records).
 *
 * Without the corpora the program says so and exits 77 (skipped).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <getopt.h>
#include <jansson.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "vigil/convo.h"

static const char eval_help[] =
    "usage: vigil convo eval [options] [DIR]\n"
    "\n"
    "Scores every conversation of DIR (default ../shared/corpora/chat):\n"
    "grooming_pj.jsonl (positives) and benign_*.jsonl (negatives); prints F1,\n"
    "per-set false-positive rates and early detection.  Exit 77 when DIR is absent.\n"
    "\n"
    "options:\n"
    "  --mask-ages        mask age statements in every message before scoring\n"
    "  --split all|dev|test  which half to measure (default all; by hash of id)\n"
    "  --limit N          at most N records per file (a quick run)\n"
    "  --errors           list the misclassified records on stderr\n"
    "  -h, --help         this text\n";

static const char *const files[] = {"grooming_pj.jsonl", "benign_nps_windows50.jsonl", "benign_sexting_adults.jsonl",
                                    "benign_dailydialog.jsonl", "benign_ubuntu_irc.jsonl"};
#define NFILES (sizeof files / sizeof files[0])

/* Replaced by "[age]" when masking; case-insensitive. */
static const char mask_pattern[] =
    "\\b(?:i\\s*'?\\s*m|i\\s+am|iam|am)\\s+(?:only\\s+|just\\s+|almost\\s+|nearly\\s+|turning\\s+|about\\s+|like\\s+)?"
    "(?:\\d{1,2}|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen)\\b(?:\\s*(?:yrs?|years?|yo|y/o)"
    "(?:\\s*old)?)?"
    "|\\b\\d{1,2}\\s*(?:yo|y/o|yrs?|years?|yr)(?:\\s*old)?\\b"
    "|\\b\\d{1,2}\\s*[/,.-]?\\s*(?:m|f|male|female|boy|girl)\\b"
    "|\\b[mf]\\s*/\\s*\\d{1,2}\\b"
    "|\\b(?:\\d{1,2}(?:st|nd|rd|th)?|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth)"
    "\\s*grade(?:rs?)?\\b"
    "|\\b(?:middle\\s*school|junior\\s*high|jr\\.?\\s*high|high\\s*school|freshman|sophomore|elementary)\\b"
    "|\\b(?:you\\s*'?\\s*re|your|ur|u\\s+r|you\\s+are|u\\s+are)\\s+(?:only\\s+|just\\s+|so\\s+|still\\s+)?"
    "(?:\\d{1,2}|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen)\\b"
    "|\\b(?:minor|underage|under\\s*age|jail\\s*bait|too\\s+young|pre\\s*teen|tween|not\\s+18|not\\s+legal)\\b"
    "|\\b(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|9|1[0-7])\\b"
    "|\\b(?:kid|kiddo|child|hs|jhs|old\\s+enough|legal\\s+age|18|eighteen)\\b"
    "|\\bwhen\\s+(?:you|u|ur|you'?re|your)\\s+(?:r\\s+|are\\s+)?(?:turn|get|older|grow|bigger|legal)\\w*"
    "|\\bage\\s*:?\\s*\\d{1,2}\\b";

typedef struct masker {
  pcre2_code *re;
  pcre2_match_data *md;
  char *buf;
  size_t cap;
} masker;

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* Returns the masked text (in m->buf) or the text itself. */
static const char *mask_text(masker *m, const char *t, size_t len, size_t *out_len) {
  *out_len = len;
  if (!m) return t;
  size_t need = len * 2 + 64;
  for (int tries = 0; tries < 4; tries++) {
    if (need > m->cap) {
      char *nb = realloc(m->buf, need);
      if (!nb) return t;
      m->buf = nb;
      m->cap = need;
    }
    PCRE2_SIZE ol = m->cap;
    int rc = pcre2_substitute(m->re, (PCRE2_SPTR)t, len, 0, PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH,
                              m->md, NULL, (PCRE2_SPTR) "[age]", 5, (PCRE2_UCHAR *)m->buf, &ol);
    if (rc >= 0) {
      *out_len = ol;
      return m->buf;
    }
    if (rc != PCRE2_ERROR_NOMEMORY) return t; /* e.g. invalid UTF-8: leave as is */
    need = ol + 1;
  }
  return t;
}

typedef struct setstat {
  long n, flagged;
} setstat;

typedef struct evalctx {
  vigil_convo_scorer *sc;
  masker *mask;
  int split; /* 0 all, 1 dev, 2 test */
  long limit;
  int errors;
  setstat set[NFILES];
  long *early;
  size_t n_early, cap_early;
  long pj_never;
  long pj_minor; /* PJ records where the decoy was found to be a minor */
  /* Per role (PJ ground truth: "suspect" is the offender, "other" the decoy). */
  long pj_flagged, offender_top; /* flagged records; of them, offender -> decoy strictly riskiest */
  long decoy_below;              /* records where decoy -> offender stays under the threshold */
  long role_tp, role_fn, role_fp, role_neg; /* participants flagged as actor of a risky pair */
} evalctx;

static int add_msg(evalctx *e, vigil_convo *c, json_t *m) {
  json_t *f = json_object_get(m, "from"), *t = json_object_get(m, "text");
  if (!json_is_string(f) || !json_is_string(t) || !*json_string_value(f)) return 0; /* skipped */
  size_t len;
  const char *txt = mask_text(e->mask, json_string_value(t), json_string_length(t), &len);
  return vigil_convo_add(c, json_string_value(f), txt, len, NULL);
}

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

static int idx_of(const vigil_convo *c, const char *id) {
  for (size_t i = 0; i < vigil_convo_persons(c); i++)
    if (!strcmp(vigil_convo_person_at(c, i)->id, id)) return (int)i;
  return -1;
}

/* A participant is flagged as a groomer when a pair it is the actor of
 * reaches the threshold; on PJ the suspect is the one positive, the decoy a
 * negative, and every participant of a benign record a negative. */
static void count_roles(evalctx *e, const vigil_convo *c, int pj, const char *id) {
  size_t np = vigil_convo_persons(c);
  int si = pj ? idx_of(c, "suspect") : -1, oi = pj ? idx_of(c, "other") : -1;
  for (size_t a = 0; a < np; a++) {
    int flagged = 0;
    for (size_t b = 0; b < np && !flagged; b++) {
      vigil_convo_pair p;
      if (a != b && vigil_convo_pair_risk(c, a, b, &p) == VIGIL_OK && p.risk >= VIGIL_CONVO_THRESHOLD) flagged = 1;
    }
    if (pj && (int)a == si) {
      if (flagged) e->role_tp++;
      else e->role_fn++;
    } else {
      e->role_neg++;
      e->role_fp += flagged;
    }
  }
  if (!pj || si < 0) return;
  vigil_convo_pair ps, po;
  memset(&po, 0, sizeof po);
  if (vigil_convo_pair_risk(c, (size_t)si, oi >= 0 ? (size_t)oi : (size_t)si, &ps) != VIGIL_OK) return;
  if (oi >= 0 && vigil_convo_pair_risk(c, (size_t)oi, (size_t)si, &po) != VIGIL_OK) return;
  if (po.risk < VIGIL_CONVO_THRESHOLD) e->decoy_below++;
  if (e->errors && (po.risk >= VIGIL_CONVO_THRESHOLD || ps.risk < VIGIL_CONVO_THRESHOLD || (ps.risk <= po.risk && po.risk > 0))) {
    fprintf(stderr, "ROLE %s offender=%.3f decoy=%.3f", id, ps.risk, po.risk);
    for (int who = 0; who < 2; who++) {
      const vigil_convo_person *p = vigil_convo_person_at(c, (size_t)(who ? oi : si));
      fprintf(stderr, " %s[minor=%d adult=%d cues=%u]:", who ? "decoy" : "offender", p->minor, p->adult, p->youth_cues);
      for (int k = 0; k < VIGIL_STAGE_COUNT; k++)
        if (p->stage[k].count) fprintf(stderr, "%.4s=%u,", vigil_convo_stage_name(k), p->stage[k].count);
    }
    fputc('\n', stderr);
  }
  if (ps.risk >= VIGIL_CONVO_THRESHOLD || po.risk >= VIGIL_CONVO_THRESHOLD) {
    e->pj_flagged++;
    if (ps.risk > po.risk) e->offender_top++;
  }
}

static int eval_record(evalctx *e, size_t fi, json_t *rec) {
  json_t *msgs = json_object_get(rec, "messages");
  const char *id = json_string_value(json_object_get(rec, "id"));
  if (!json_is_array(msgs) || !id) return -1;
  int dev = (fnv1a(id) & 1) == 0;
  if ((e->split == 1 && !dev) || (e->split == 2 && dev)) return 0;
  int pj = fi == 0;
  vigil_convo *c;
  if (vigil_convo_new(e->sc, &c, NULL) != VIGIL_OK) return -1;
  size_t i;
  json_t *m;
  double risk;
  if (pj) {
    /* the decoy's messages first (context), then the suspect's in order */
    json_array_foreach(msgs, i, m) {
      if (strcmp(json_string_value(json_object_get(m, "from")) ? json_string_value(json_object_get(m, "from")) : "",
                 "suspect"))
        add_msg(e, c, m);
    }
    long nsus = 0, first = -1;
    json_array_foreach(msgs, i, m) {
      const char *f = json_string_value(json_object_get(m, "from"));
      if (!f || strcmp(f, "suspect")) continue;
      if (add_msg(e, c, m) != VIGIL_OK) continue;
      nsus++;
      if (first < 0 && vigil_convo_persons(c) == 2) {
        size_t si = !strcmp(vigil_convo_person_at(c, 0)->id, "suspect") ? 0 : 1;
        vigil_convo_pair p;
        if (vigil_convo_pair_risk(c, si, 1 - si, &p) == VIGIL_OK && p.risk >= VIGIL_CONVO_THRESHOLD) first = nsus;
      }
    }
    int oi = idx_of(c, "other");
    if (oi >= 0 && vigil_convo_person_at(c, (size_t)oi)->minor) e->pj_minor++;
    if (first >= 0) {
      if (e->n_early == e->cap_early) {
        size_t cap = e->cap_early ? e->cap_early * 2 : 256;
        long *nv = realloc(e->early, cap * sizeof *nv);
        if (nv) {
          e->early = nv;
          e->cap_early = cap;
        }
      }
      if (e->n_early < e->cap_early) e->early[e->n_early++] = first;
    } else {
      e->pj_never++;
    }
  } else {
    json_array_foreach(msgs, i, m) add_msg(e, c, m);
  }
  vigil_convo_pair best;
  risk = vigil_convo_risk(c, &best);
  count_roles(e, c, pj, id);
  int flagged = risk >= VIGIL_CONVO_THRESHOLD;
  e->set[fi].n++;
  e->set[fi].flagged += flagged;
  if (e->errors && flagged != pj) {
    unsigned st = best.stages;
    const vigil_convo_person *ta = vigil_convo_person_at(c, best.target), *ac = vigil_convo_person_at(c, best.actor);
    fprintf(stderr, "%s %s risk=%.3f minor=%d actor_age=%d target_age=%d target_cues=%u stages=", pj ? "MISS" : "FP", id,
            risk, best.minor_involved, ac ? ac->age : -1, ta ? ta->age : -1, ta ? ta->youth_cues : 0);
    for (int k = 0; k < VIGIL_STAGE_COUNT; k++)
      if (st & (1u << k))
        fprintf(stderr, "%s:%u,", vigil_convo_stage_name(k), vigil_convo_person_at(c, best.actor)->stage[k].count);
    fputc('\n', stderr);
  }
  vigil_convo_free(c);
  return 0;
}

static int eval_file(evalctx *e, const char *dir, size_t fi) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, files[fi]);
  FILE *f = fopen(path, "rb");
  if (!f) {
    cli_error("%s: cannot open", path);
    return -1;
  }
  char *buf = NULL;
  size_t cap = 0;
  ssize_t n;
  long line = 0, bad = 0;
  while ((n = getline(&buf, &cap, f)) >= 0 && (e->limit <= 0 || line < e->limit)) {
    line++;
    json_t *rec = json_loadb(buf, (size_t)n, 0, NULL);
    if (!rec || eval_record(e, fi, rec) != 0) bad++;
    json_decref(rec);
  }
  free(buf);
  fclose(f);
  if (bad) cli_error("%s: %ld records could not be read", path, bad);
  return bad ? -1 : 0;
}

int cmd_convo_eval(int argc, char **argv) {
  enum { OPT_MASK = 256, OPT_SPLIT, OPT_LIMIT, OPT_ERRORS };
  static const struct option longopts[] = {{"mask-ages", no_argument, 0, OPT_MASK},
                                           {"split", required_argument, 0, OPT_SPLIT},
                                           {"limit", required_argument, 0, OPT_LIMIT},
                                           {"errors", no_argument, 0, OPT_ERRORS},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  evalctx e;
  memset(&e, 0, sizeof e);
  int masked = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_MASK: masked = 1; break;
    case OPT_SPLIT:
      if (!strcmp(optarg, "all")) e.split = 0;
      else if (!strcmp(optarg, "dev")) e.split = 1;
      else if (!strcmp(optarg, "test")) e.split = 2;
      else {
        cli_error("--split: expected all, dev or test, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    case OPT_LIMIT:
      if ((e.limit = cli_parse_long("--limit", optarg, 1, 100000000)) < 0) return CLI_USAGE;
      break;
    case OPT_ERRORS: e.errors = 1; break;
    case 'h': fputs(eval_help, stdout); return CLI_OK;
    default: fputs(eval_help, stderr); return CLI_USAGE;
    }
  }
  if (argc - optind > 1) {
    fputs(eval_help, stderr);
    return CLI_USAGE;
  }
  const char *dir = optind < argc ? argv[optind] : "../shared/corpora/chat";
  struct stat st;
  char probe[4096];
  snprintf(probe, sizeof probe, "%s/%s", dir, files[0]);
  if (stat(probe, &st) != 0) {
    printf("SKIP: %s is absent (the chat corpora are not present)\n", probe);
    return 77;
  }
  vigil_error err;
  if (vigil_convo_scorer_new(&e.sc, &err) != VIGIL_OK) {
    cli_error("%s", err.message);
    return CLI_USAGE;
  }
  masker mk = {0};
  if (masked) {
    int ec;
    PCRE2_SIZE eo;
    mk.re = pcre2_compile((PCRE2_SPTR)mask_pattern, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
                          &ec, &eo, NULL);
    mk.md = mk.re ? pcre2_match_data_create_from_pattern(mk.re, NULL) : NULL;
    if (!mk.re || !mk.md) {
      cli_error("convo eval: age mask does not compile (offset %zu)", (size_t)eo);
      pcre2_code_free(mk.re);
      vigil_convo_scorer_free(e.sc);
      return CLI_USAGE;
    }
    pcre2_jit_compile(mk.re, PCRE2_JIT_COMPLETE);
    e.mask = &mk;
  }
  int failed = 0;
  for (size_t fi = 0; fi < NFILES; fi++)
    if (eval_file(&e, dir, fi) != 0) failed = 1;
  long tp = e.set[0].flagged, fn = e.set[0].n - tp, fp = 0, neg = 0;
  for (size_t fi = 1; fi < NFILES; fi++) {
    fp += e.set[fi].flagged;
    neg += e.set[fi].n;
  }
  double prec = tp + fp ? (double)tp / (double)(tp + fp) : 0, rec = tp + fn ? (double)tp / (double)(tp + fn) : 0;
  double f1 = prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
  static const char *const split_name[] = {"all", "dev", "test"};
  printf("convo eval: split=%s ages=%s threshold=%.2f\n", split_name[e.split], masked ? "masked" : "as written",
         VIGIL_CONVO_THRESHOLD);
  printf("%-30s %6s %8s %8s\n", "set", "n", "flagged", "rate");
  for (size_t fi = 0; fi < NFILES; fi++)
    printf("%-30s %6ld %8ld %7.2f%%\n", files[fi], e.set[fi].n, e.set[fi].flagged,
           e.set[fi].n ? 100.0 * (double)e.set[fi].flagged / (double)e.set[fi].n : 0.0);
  printf("PJ vs benign: precision %.4f recall %.4f F1 %.4f (tp %ld fp %ld fn %ld, negatives %ld)\n", prec, rec, f1, tp,
         fp, fn, neg);
  printf("PJ records where the decoy is found to be a minor (declared or stated): %ld of %ld\n", e.pj_minor,
         e.set[0].n);
  {
    long rtp = e.role_tp, rfp = e.role_fp, rfn = e.role_fn;
    double rp = rtp + rfp ? (double)rtp / (double)(rtp + rfp) : 0, rr = rtp + rfn ? (double)rtp / (double)(rtp + rfn) : 0;
    double rf = rp + rr > 0 ? 2 * rp * rr / (rp + rr) : 0;
    printf("per role: offender riskiest in %.4f of flagged PJ records (%ld of %ld)\n",
           e.pj_flagged ? (double)e.offender_top / (double)e.pj_flagged : 0.0, e.offender_top, e.pj_flagged);
    printf("per role: decoy -> offender below threshold in %.4f of PJ records (%ld of %ld)\n",
           e.set[0].n ? (double)e.decoy_below / (double)e.set[0].n : 0.0, e.decoy_below, e.set[0].n);
    printf("per role: groomer precision %.4f recall %.4f F1 %.4f (tp %ld fp %ld fn %ld, negative participants %ld)\n",
           rp, rr, rf, rtp, rfp, rfn, e.role_neg);
  }
  if (e.n_early) {
    qsort(e.early, e.n_early, sizeof *e.early, cmp_long);
    size_t p90 = (e.n_early * 9 + 9) / 10;
    if (p90 > 0) p90--;
    printf("early detection: suspect messages until risk >= %.2f: median %ld, p90 %ld (%zu detected, %ld never)\n",
           VIGIL_CONVO_THRESHOLD, e.early[e.n_early / 2], e.early[p90], e.n_early, e.pj_never);
  }
  free(e.early);
  free(mk.buf);
  pcre2_match_data_free(mk.md);
  pcre2_code_free(mk.re);
  vigil_convo_scorer_free(e.sc);
  return failed ? CLI_PARTIAL : CLI_OK;
}
