/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy_parse.c - reads the line-based policy format (docs/policy.md) into
 * a vigil_policy, validating as it goes so every error names its line and
 * column: "name:LINE:COL: message".
 *
 * A line is tokens separated by blanks; a token in double quotes may hold
 * blanks and the escapes \" and \\; '#' outside quotes starts a comment.
 * The text must be valid UTF-8 without NUL bytes, at most 1 MiB, lines at
 * most 4096 bytes.  The first line that is not blank or a comment must be
 * `vigil-policy 1`; `base default` may follow it, in which case the shipped
 * default is parsed first and this file's settings and quiet hours replace
 * its entries while this file's rules go before the default's.
 *
 * The parser only ever adds to p; the caller frees p whole on failure, so a
 * half-parsed policy is never visible to anyone.
 */
#include "common/internal.h"
#include "common/grow.h"
#include "policy/policy_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TEXT (1u << 20)
#define MAX_LINE 4096
#define MAX_TOKS 32

typedef struct tok {
  char *s; /* NUL-terminated, unescaped */
  int col; /* 1-based byte column of its first character */
  int quoted;
} tok;

typedef struct pctx {
  vigil_policy *p;
  const char *name;
  int line;
  int is_default;
  int layered;       /* a `base default` was applied */
  size_t first_rule; /* index of this text's first rule */
  vigil_error *err;
} pctx;

static int perr(pctx *c, int col, const char *fmt, ...) VIGIL__PRINTF(3, 4);
static int perr(pctx *c, int col, const char *fmt, ...) {
  char msg[VIGIL_ERROR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (col > 0) return vigil__seterr(c->err, VIGIL_EINVAL, "%s:%d:%d: %s", c->name, c->line, col, msg);
  return vigil__seterr(c->err, VIGIL_EINVAL, "%s:%d: %s", c->name, c->line, msg);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  if (c < 0x80) return 1;
  size_t len;
  unsigned min;
  if ((c & 0xe0) == 0xc0) len = 2, min = 0x80, c &= 0x1f;
  else if ((c & 0xf0) == 0xe0) len = 3, min = 0x800, c &= 0x0f;
  else if ((c & 0xf8) == 0xf0) len = 4, min = 0x10000, c &= 0x07;
  else return 0;
  if (len > n) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    c = (c << 6) | (s[i] & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
  return len;
}

/* Splits buf (one line, NUL-terminated) into tokens in place. */
static int tokenize(pctx *c, char *buf, tok *t, int *nt) {
  int n = 0;
  char *s = buf;
  for (;;) {
    while (*s == ' ' || *s == '\t') s++;
    if (!*s || *s == '#') break;
    if (n == MAX_TOKS) return perr(c, (int)(s - buf) + 1, "too many words on one line (at most %d)", MAX_TOKS);
    t[n].col = (int)(s - buf) + 1;
    if (*s == '"') {
      char *w = s, *r = s + 1;
      t[n].s = w;
      t[n].quoted = 1;
      for (;;) {
        if (!*r) return perr(c, t[n].col, "unterminated quoted string");
        if (*r == '"') break;
        if (*r == '\\') {
          if (r[1] != '"' && r[1] != '\\')
            return perr(c, (int)(r - buf) + 1, "unknown escape '\\%c' (only \\\" and \\\\)", r[1] ? r[1] : ' ');
          r++;
        }
        *w++ = *r++;
      }
      *w = '\0';
      s = r + 1;
      if (*s && *s != ' ' && *s != '\t' && *s != '#')
        return perr(c, (int)(s - buf) + 1, "expected a blank after the closing quote");
    } else {
      t[n].s = s;
      t[n].quoted = 0;
      while (*s && *s != ' ' && *s != '\t') {
        if (*s == '"') return perr(c, (int)(s - buf) + 1, "quote inside a word");
        s++;
      }
      if (*s) *s++ = '\0';
      n++;
      continue;
    }
    n++;
  }
  *nt = n;
  return VIGIL_OK;
}

static int valid_id(const char *s) {
  size_t n = strlen(s);
  if (n < 1 || n > P_ID_MAX || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
          ch == '_' || ch == '.'))
      return 0;
  }
  return 1;
}

/* Parses a comma-separated list of names into a bitmask with lookup();
 * "*" is every value.  extra() handles aliases (may be NULL). */
typedef int (*name_fn)(const char *);
static int parse_list(pctx *c, const tok *t, const char *val, int valcol, name_fn fn, int count,
                      const char *what, uint32_t *mask) {
  (void)t;
  *mask = 0;
  if (!strcmp(val, "*")) {
    *mask = count >= 32 ? 0xffffffffu : (1u << count) - 1;
    return VIGIL_OK;
  }
  const char *s = val;
  for (;;) {
    const char *e = strchr(s, ',');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    char one[64];
    if (n == 0 || n >= sizeof one) return perr(c, valcol + (int)(s - val), "empty or overlong %s name", what);
    memcpy(one, s, n);
    one[n] = '\0';
    if (fn == vigil_band_from_name && !strcmp(one, "minor")) {
      *mask |= (1u << VIGIL_BAND_UNDER13) | (1u << VIGIL_BAND_13_15) | (1u << VIGIL_BAND_16_17);
    } else {
      int v = fn(one);
      if (v < 0) return perr(c, valcol + (int)(s - val), "unknown %s '%s'", what, one);
      *mask |= 1u << v;
    }
    if (!e) break;
    s = e + 1;
  }
  return VIGIL_OK;
}

static int cond_fn(const char *s) {
  int bit = vigil_condition_from_name(s);
  if (bit < 0) return -1;
  for (int i = 0; i < VIGIL_COND_COUNT; i++)
    if (bit == 1 << i) return i;
  return -1;
}

static int risk_fn(const char *s) {
  /* classes: none, actor, target, both */
  if (!strcmp(s, "none")) return PRISK_NONE;
  if (!strcmp(s, "actor")) return PRISK_ACTOR;
  if (!strcmp(s, "target")) return PRISK_TARGET;
  if (!strcmp(s, "both")) return PRISK_BOTH;
  return -1;
}

/* Checks each id of a comma list of citations was declared; returns a copy. */
static int parse_sources(pctx *c, const char *val, int col, char **out) {
  const char *s = val;
  for (;;) {
    const char *e = strchr(s, ',');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    int found = 0;
    for (size_t i = 0; i < c->p->nsources && !found; i++)
      found = strlen(c->p->sources[i].id) == n && !memcmp(c->p->sources[i].id, s, n);
    if (!found)
      return perr(c, col + (int)(s - val), "citation '%.*s' is not declared (declare it with a `source` line first)",
                  (int)(n > 60 ? 60 : n), s);
    if (!e) break;
    s = e + 1;
  }
  if (!(*out = strdup(val))) return vigil__seterr(c->err, VIGIL_ENOMEM, "out of memory");
  return VIGIL_OK;
}

/* Splits "key=value"; returns value or NULL. */
static char *kv(tok *t, const char *key) {
  size_t n = strlen(key);
  if (t->quoted || strncmp(t->s, key, n) || t->s[n] != '=') return NULL;
  return t->s + n + 1;
}

static int parse_source_line(pctx *c, tok *t, int n) {
  vigil_policy *p = c->p;
  if (n != 3 || t[1].quoted || !t[2].quoted)
    return perr(c, t[0].col, "expected: source ID \"citation text\"");
  if (!valid_id(t[1].s))
    return perr(c, t[1].col, "bad citation id '%s' (letters, digits, - _ . ; at most %d)", t[1].s, P_ID_MAX);
  for (size_t i = 0; i < p->nsources; i++)
    if (!strcmp(p->sources[i].id, t[1].s)) return perr(c, t[1].col, "citation '%s' is already declared", t[1].s);
  if (p->nsources == P_MAX_SOURCES) return perr(c, t[0].col, "too many citations (at most %d)", P_MAX_SOURCES);
  if (!*t[2].s) return perr(c, t[2].col, "empty citation text");
  if (vigil__grow((void **)&p->sources, &p->capsources, p->nsources + 1, sizeof *p->sources))
    return vigil__seterr(c->err, VIGIL_ENOMEM, "out of memory");
  psource *s = &p->sources[p->nsources];
  snprintf(s->id, sizeof s->id, "%s", t[1].s);
  if (!(s->text = strdup(t[2].s))) return vigil__seterr(c->err, VIGIL_ENOMEM, "out of memory");
  p->nsources++;
  return VIGIL_OK;
}

static int parse_aud(pctx *c, tok *t, const char *key, int *out) {
  char *v = kv(t, key);
  if (!v) return 1;
  int a = vigil_audience_from_name(v);
  if (a < 0)
    return perr(c, t->col + (int)strlen(key) + 1,
                "unknown audience '%s' (everyone, followers, following, friends, known, none)", v);
  *out = a;
  return VIGIL_OK;
}

static int parse_setting_line(pctx *c, tok *t, int n) {
  if (n < 2) return perr(c, t[0].col, "expected: setting NAME BANDS default=A self=A parent=A source=IDS");
  int s = vigil_setting_from_name(t[1].s);
  if (s < 0 || t[1].quoted)
    return perr(c, t[1].col,
                "unknown setting '%s' (visibility, dm, comment, mention, remix, download, discoverable, location)",
                t[1].s);
  if (n < 3) return perr(c, t[1].col, "missing the band list");
  uint32_t bands;
  int rc = parse_list(c, &t[2], t[2].s, t[2].col, vigil_band_from_name, VIGIL_BAND_COUNT, "band", &bands);
  if (rc) return rc;
  int def = -1, self = -1, parent = -1;
  char *src = NULL;
  int srccol = 0;
  for (int i = 3; i < n; i++) {
    int *slot = NULL;
    const char *key = NULL;
    if (kv(&t[i], "default")) slot = &def, key = "default";
    else if (kv(&t[i], "self")) slot = &self, key = "self";
    else if (kv(&t[i], "parent")) slot = &parent, key = "parent";
    if (slot) {
      if (*slot >= 0) return perr(c, t[i].col, "%s= given twice", key);
      if ((rc = parse_aud(c, &t[i], key, slot)) != 0) return rc;
    } else if (kv(&t[i], "source")) {
      if (src) return perr(c, t[i].col, "source= given twice");
      src = kv(&t[i], "source");
      srccol = t[i].col + 7;
    } else {
      return perr(c, t[i].col, "unexpected '%s' (expected default=, self=, parent= or source=)", t[i].s);
    }
  }
  if (def < 0 || self < 0 || parent < 0 || !src)
    return perr(c, t[0].col, "a setting needs default=, self=, parent= and source=");
  if (self < parent)
    return perr(c, t[0].col, "parent=%s is stricter than self=%s: a parent can always loosen at least as far as the minor alone",
                vigil_audience_name(parent), vigil_audience_name(self));
  if (def < self)
    return perr(c, t[0].col, "default=%s is looser than self=%s: the default must be within what the user may choose",
                vigil_audience_name(def), vigil_audience_name(self));
  for (int b = 0; b < VIGIL_BAND_COUNT; b++) {
    if (!(bands >> b & 1)) continue;
    psetting *ps = &c->p->set[s][b];
    if (ps->defined == (c->is_default ? 1 : 2))
      return perr(c, t[2].col, "setting %s for band %s is already defined on line %d", vigil_setting_name(s),
                  vigil_band_name(b), ps->line);
    char *copy = NULL;
    if ((rc = parse_sources(c, src, srccol, &copy)) != 0) return rc;
    free(ps->source);
    ps->source = copy;
    ps->def = (uint8_t)def;
    ps->self_limit = (uint8_t)self;
    ps->parent_limit = (uint8_t)parent;
    ps->defined = c->is_default ? 1 : 2;
    ps->line = c->line;
  }
  return VIGIL_OK;
}

static int parse_hhmm(const char *s, int *min) {
  if (!(s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] == ':' && s[3] >= '0' &&
        s[3] <= '9' && s[4] >= '0' && s[4] <= '9'))
    return -1;
  int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return -1;
  *min = h * 60 + m;
  return 0;
}

static int parse_quiet_line(pctx *c, tok *t, int n) {
  if (n != 4 || t[1].quoted || t[2].quoted)
    return perr(c, t[0].col, "expected: quiet BANDS HH:MM-HH:MM|none source=IDS");
  uint32_t bands;
  int rc = parse_list(c, &t[1], t[1].s, t[1].col, vigil_band_from_name, VIGIL_BAND_COUNT, "band", &bands);
  if (rc) return rc;
  int start = 0, end = 0;
  if (strcmp(t[2].s, "none")) {
    if (strlen(t[2].s) != 11 || t[2].s[5] != '-' || parse_hhmm(t[2].s, &start) || parse_hhmm(t[2].s + 6, &end))
      return perr(c, t[2].col, "expected quiet hours as HH:MM-HH:MM (24-hour, local time) or none, got '%s'", t[2].s);
    if (start == end) return perr(c, t[2].col, "quiet hours start and end at the same time (write none for no quiet hours)");
  }
  char *src = kv(&t[3], "source");
  if (!src) return perr(c, t[3].col, "expected source=IDS");
  for (int b = 0; b < VIGIL_BAND_COUNT; b++) {
    if (!(bands >> b & 1)) continue;
    pquiet *q = &c->p->quiet[b];
    if (q->defined == (c->is_default ? 1 : 2))
      return perr(c, t[1].col, "quiet hours for band %s are already defined", vigil_band_name(b));
    char *copy = NULL;
    if ((rc = parse_sources(c, src, t[3].col + 7, &copy)) != 0) return rc;
    free(q->source);
    q->source = copy;
    q->start = (int16_t)start;
    q->end = (int16_t)end;
    q->defined = c->is_default ? 1 : 2;
  }
  return VIGIL_OK;
}

static int parse_rule_line(pctx *c, tok *t, int n) {
  vigil_policy *p = c->p;
  if (n < 2 || t[1].quoted) return perr(c, t[0].col, "expected: rule ID key=value... \"sentence\"");
  if (!valid_id(t[1].s))
    return perr(c, t[1].col, "bad rule id '%s' (a letter, then letters, digits, - _ . ; at most %d)", t[1].s, P_ID_MAX);
  for (size_t i = 0; i < p->nrules; i++)
    if (!strcmp(p->rules[i].id, t[1].s))
      return perr(c, t[1].col, "rule id '%s' is already used on line %d%s", t[1].s, p->rules[i].line,
                  p->rules[i].origin == p->origin_default && !c->is_default ? " of the default policy" : "");
  if (p->nrules >= P_MAX_RULES) return perr(c, t[0].col, "too many rules (at most %d)", P_MAX_RULES);
  prule r;
  memset(&r, 0, sizeof r);
  snprintf(r.id, sizeof r.id, "%s", t[1].s);
  r.action_mask = (1u << VIGIL_ACT_COUNT) - 1;
  r.actor_mask = r.target_mask = (1u << VIGIL_BAND_COUNT) - 1;
  r.rel_mask = (1u << VIGIL_REL_COUNT) - 1;
  r.risk_mask = (1u << PRISK_COUNT) - 1;
  r.kind = 0xff;
  r.else_kind = PK_DENY;
  r.line = c->line;
  r.origin = c->is_default ? p->origin_default : p->origin_file;
  unsigned seen = 0;
  const char *sentence = NULL, *src = NULL;
  int sentcol = 0, srccol = 0, withcol = 0, elsecol = 0, rc;
  static const char *const keys[] = {"action", "actor", "target", "rel", "risk", "then", "with", "else", "source"};
  for (int i = 2; i < n; i++) {
    if (t[i].quoted) {
      if (sentence) return perr(c, t[i].col, "only one sentence per rule");
      sentence = t[i].s;
      sentcol = t[i].col;
      continue;
    }
    int k = -1;
    char *v = NULL;
    for (int j = 0; j < 9 && k < 0; j++)
      if ((v = kv(&t[i], keys[j]))) k = j;
    if (k < 0)
      return perr(c, t[i].col, "unexpected '%s' (expected action=, actor=, target=, rel=, risk=, then=, with=, else=, source= or a \"sentence\")",
                  t[i].s);
    if (seen >> k & 1) return perr(c, t[i].col, "%s= given twice", keys[k]);
    seen |= 1u << k;
    int vcol = t[i].col + (int)strlen(keys[k]) + 1;
    uint32_t m = 0;
    switch (k) {
    case 0:
      if ((rc = parse_list(c, &t[i], v, vcol, vigil_action_from_name, VIGIL_ACT_COUNT, "action", &m))) return rc;
      r.action_mask = m;
      break;
    case 1:
    case 2:
      if ((rc = parse_list(c, &t[i], v, vcol, vigil_band_from_name, VIGIL_BAND_COUNT, "band", &m))) return rc;
      if (k == 1) r.actor_mask = (uint8_t)m;
      else r.target_mask = (uint8_t)m;
      break;
    case 3:
      if ((rc = parse_list(c, &t[i], v, vcol, vigil_rel_from_name, VIGIL_REL_COUNT, "relationship", &m))) return rc;
      r.rel_mask = (uint8_t)m;
      break;
    case 4:
      if (!strcmp(v, "any")) m = (1u << PRISK_ACTOR) | (1u << PRISK_TARGET) | (1u << PRISK_BOTH);
      else if ((rc = parse_list(c, &t[i], v, vcol, risk_fn, PRISK_COUNT, "risk class (none, actor, target, both, any)", &m)))
        return rc;
      /* "actor" means "the actor is flagged", whether or not the target is too. */
      if (m & (1u << PRISK_ACTOR)) m |= 1u << PRISK_BOTH;
      if (m & (1u << PRISK_TARGET)) m |= 1u << PRISK_BOTH;
      r.risk_mask = (uint8_t)m;
      break;
    case 5:
      if (!strcmp(v, "allow")) r.kind = PK_ALLOW;
      else if (!strcmp(v, "deny")) r.kind = PK_DENY;
      else if (!strcmp(v, "quiet")) r.kind = PK_QUIET;
      else if (!strncmp(v, "check:", 6)) {
        const char *w = v + 6;
        if (!strncmp(w, "target.", 7)) r.whose = PWHO_TARGET, w += 7;
        else if (!strncmp(w, "actor.", 6)) r.whose = PWHO_ACTOR, w += 6;
        else return perr(c, vcol + 6, "expected check:target.SETTING or check:actor.SETTING");
        int s = vigil_setting_from_name(w);
        if (s < 0) return perr(c, vcol + (int)(w - v), "unknown setting '%s'", w);
        r.kind = PK_CHECK;
        r.setting = (uint8_t)s;
      } else
        return perr(c, vcol, "unknown verdict '%s' (allow, deny, quiet, check:target.SETTING, check:actor.SETTING)", v);
      break;
    case 6:
      if ((rc = parse_list(c, &t[i], v, vcol, cond_fn, VIGIL_COND_COUNT, "condition", &m))) return rc;
      r.with = (uint8_t)m;
      withcol = t[i].col;
      break;
    case 7:
      elsecol = t[i].col;
      if (!strcmp(v, "deny")) r.else_kind = PK_DENY;
      else if (!strcmp(v, "allow")) r.else_kind = PK_ALLOW;
      else {
        if ((rc = parse_list(c, &t[i], v, vcol, cond_fn, VIGIL_COND_COUNT, "condition", &m))) return rc;
        r.else_kind = PK_ALLOW;
        r.else_with = (uint8_t)m;
      }
      break;
    case 8:
      src = v;
      srccol = vcol;
      break;
    }
  }
  if (r.kind == 0xff) return perr(c, t[0].col, "rule '%s' has no then= verdict", r.id);
  if (r.with && (r.kind == PK_DENY || r.kind == PK_QUIET))
    return perr(c, withcol, "with= conditions only apply to then=allow or then=check:...");
  if (elsecol && r.kind != PK_CHECK) return perr(c, elsecol, "else= only applies to then=check:...");
  if (!r.action_mask || !r.actor_mask || !r.target_mask || !r.rel_mask || !r.risk_mask)
    return perr(c, t[1].col, "rule '%s' can never match (an empty list)", r.id);
  if (!src) return perr(c, t[0].col, "rule '%s' needs source= (the citation ids it rests on)", r.id);
  if (!sentence || !*sentence) return perr(c, t[0].col, "rule '%s' needs a \"sentence\" explaining it", r.id);
  if (strlen(sentence) >= P_SENT_MAX)
    return perr(c, sentcol, "sentence is too long (%zu bytes, at most %d)", strlen(sentence), P_SENT_MAX - 1);
  if ((rc = parse_sources(c, src, srccol, &r.source))) return rc;
  if (!(r.sentence = strdup(sentence))) {
    free(r.source);
    return vigil__seterr(c->err, VIGIL_ENOMEM, "out of memory");
  }
  if (vigil__grow((void **)&p->rules, &p->caprules, p->nrules + 1, sizeof *p->rules)) {
    free(r.source);
    free(r.sentence);
    return vigil__seterr(c->err, VIGIL_ENOMEM, "out of memory");
  }
  p->rules[p->nrules++] = r;
  return VIGIL_OK;
}

static int parse_line(pctx *c, tok *t, int n, int *state) {
  const char *w = t[0].quoted ? "" : t[0].s;
  if (*state == 0) {
    if (strcmp(w, "vigil-policy") || n != 2 || strcmp(t[1].s, "1"))
      return perr(c, t[0].col, "the first line must be `vigil-policy 1`");
    *state = 1;
    return VIGIL_OK;
  }
  if (!strcmp(w, "base")) {
    if (*state != 1 || c->is_default) return perr(c, t[0].col, "`base` must come right after `vigil-policy 1`");
    *state = 2;
    if (n != 2 || t[1].quoted || (strcmp(t[1].s, "default") && strcmp(t[1].s, "none")))
      return perr(c, t[0].col, "expected: base default | base none");
    if (!strcmp(t[1].s, "default")) {
      const char *d = vigil_policy_default_text();
      vigil_error sub;
      int rc = vigil__policy_parse(c->p, d, strlen(d), "default", 1, &sub);
      if (rc) return perr(c, t[0].col, "the default policy does not load: %s", sub.message);
      c->layered = 1;
      c->first_rule = c->p->nrules;
    }
    return VIGIL_OK;
  }
  *state = 2;
  if (!strcmp(w, "source")) return parse_source_line(c, t, n);
  if (!strcmp(w, "setting")) return parse_setting_line(c, t, n);
  if (!strcmp(w, "quiet")) return parse_quiet_line(c, t, n);
  if (!strcmp(w, "rule")) return parse_rule_line(c, t, n);
  if (!strcmp(w, "min-confidence")) {
    char *end;
    errno = 0;
    double v = n == 2 ? strtod(t[1].s, &end) : -1;
    if (n != 2 || errno || end == t[1].s || *end || !(v >= 0.0 && v <= 1.0))
      return perr(c, t[0].col, "expected: min-confidence X (a number from 0 to 1)");
    c->p->min_confidence = v;
    return VIGIL_OK;
  }
  return perr(c, t[0].col, "unknown directive '%s' (source, setting, quiet, rule, min-confidence, base)", w);
}

/* After the whole text: every setting and quiet entry exists, and the
 * unknown band is at least as protected as every minor band. */
static int check_complete(pctx *c) {
  vigil_policy *p = c->p;
  for (int s = 0; s < VIGIL_SET_COUNT; s++)
    for (int b = 0; b < VIGIL_BAND_COUNT; b++)
      if (!p->set[s][b].defined)
        return perr(c, 0, "no `setting %s` line covers band %s", vigil_setting_name(s), vigil_band_name(b));
  for (int b = 0; b < VIGIL_BAND_COUNT; b++)
    if (!p->quiet[b].defined) return perr(c, 0, "no `quiet` line covers band %s", vigil_band_name(b));
  for (int s = 0; s < VIGIL_SET_COUNT; s++) {
    const psetting *u = &p->set[s][VIGIL_BAND_UNKNOWN];
    for (int b = VIGIL_BAND_UNDER13; b <= VIGIL_BAND_16_17; b++) {
      const psetting *m = &p->set[s][b];
      if (u->def < m->def || u->self_limit < m->self_limit || u->parent_limit < m->parent_limit) {
        c->line = u->line;
        return perr(c, 0,
                    "setting %s: band unknown (default=%s self=%s parent=%s) must be at least as strict as band %s "
                    "(default=%s self=%s parent=%s): unknown ages are treated protectively",
                    vigil_setting_name(s), vigil_audience_name(u->def), vigil_audience_name(u->self_limit),
                    vigil_audience_name(u->parent_limit), vigil_band_name(b), vigil_audience_name(m->def),
                    vigil_audience_name(m->self_limit), vigil_audience_name(m->parent_limit));
      }
    }
  }
  return VIGIL_OK;
}

int vigil__policy_parse(vigil_policy *p, const char *text, size_t len, const char *name, int is_default,
                        vigil_error *err) {
  pctx c = {p, name ? name : "policy", 0, is_default, 0, p->nrules, err};
  if (!text) return vigil__seterr(err, VIGIL_EINVAL, "%s: no text", c.name);
  if (len > MAX_TEXT)
    return vigil__seterr(err, VIGIL_ELIMIT, "%s: policy text is %zu bytes, more than the %u allowed", c.name, len,
                         MAX_TEXT);
  char *buf = malloc(MAX_LINE + 1);
  if (!buf) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  tok t[MAX_TOKS];
  int state = 0, rc = VIGIL_OK;
  size_t pos = 0;
  while (pos < len && rc == VIGIL_OK) {
    c.line++;
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
    const char *ln = text + pos;
    pos += n + (nl ? 1 : 0);
    if (n && ln[n - 1] == '\r') n--;
    if (n > MAX_LINE) {
      rc = perr(&c, 0, "line is %zu bytes long (at most %d)", n, MAX_LINE);
      break;
    }
    for (size_t i = 0; i < n && rc == VIGIL_OK;) {
      if (ln[i] == '\0') rc = perr(&c, (int)i + 1, "NUL byte");
      else {
        size_t k = utf8_len((const unsigned char *)ln + i, n - i);
        if (!k) rc = perr(&c, (int)i + 1, "invalid UTF-8");
        else if (k == 1 && (unsigned char)ln[i] < 0x20 && ln[i] != '\t') rc = perr(&c, (int)i + 1, "control character");
        i += k ? k : 1;
      }
    }
    if (rc) break;
    memcpy(buf, ln, n);
    buf[n] = '\0';
    int nt = 0;
    if ((rc = tokenize(&c, buf, t, &nt)) || nt == 0) continue;
    rc = parse_line(&c, t, nt, &state);
  }
  free(buf);
  if (rc) return rc;
  if (state == 0) return vigil__seterr(err, VIGIL_EINVAL, "%s:1: empty policy (the first line must be `vigil-policy 1`)", c.name);
  c.line++;
  if (c.layered && c.first_rule < p->nrules) {
    /* This file's rules were appended after the default's: rotate them to the
     * front so they are matched first. */
    size_t nd = c.first_rule, no = p->nrules - nd;
    prule *tmp = vigil__mallocarray(nd, sizeof *tmp);
    if (!tmp) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
    memcpy(tmp, p->rules, nd * sizeof *tmp);
    memmove(p->rules, p->rules + nd, no * sizeof *tmp);
    memcpy(p->rules + no, tmp, nd * sizeof *tmp);
    free(tmp);
  }
  return check_complete(&c);
}

void vigil__policy_clear(vigil_policy *p) {
  for (size_t i = 0; i < p->nrules; i++) {
    free(p->rules[i].source);
    free(p->rules[i].sentence);
  }
  free(p->rules);
  for (size_t i = 0; i < p->nsources; i++) free(p->sources[i].text);
  free(p->sources);
  for (int s = 0; s < VIGIL_SET_COUNT; s++)
    for (int b = 0; b < VIGIL_BAND_COUNT; b++) free(p->set[s][b].source);
  for (int b = 0; b < VIGIL_BAND_COUNT; b++) free(p->quiet[b].source);
  free(p->origin_default);
  free(p->origin_file);
}
