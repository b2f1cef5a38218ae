/* SPDX-License-Identifier: Apache-2.0 */
/*
 * contacts_online.c - e-mail addresses, social handles and URLs.
 *
 * All on the match view (lower case, look-alikes folded).
 *  E-mail: local part, then "@" or a spelled "at" ("at", "(at)", "[at]"),
 *    then labels joined by "." or a spelled "dot".  A spelled form is only
 *    taken when the domain is a known webmail provider or the top-level
 *    domain is a common one, so "meet at noon dot" never is one.  Spelled
 *    forms are flagged obfuscated.
 *  Handles: a platform keyword ("snapchat", "snap", "sc:", "kik", "ig:",
 *    "insta", "telegram", "tg:", "whatsapp", "onlyfans", "cashapp",
 *    "cash app", "venmo"), optional filler (":", "@", "me", "at", "is",
 *    "add", "id"), then a name of 3..30 characters that is not a filler or
 *    number word.  Links to these platforms also give a handle.
 *  URLs: "http(s)://..." and "www...." as written, plus bare domains with
 *    a path on the platforms above ("onlyfans.com/name", "t.me/name").
 */
#include "text/text_internal.h"

#include <stdio.h>
#include <string.h>

static int is_local(int c) { return vigil__isalnum(c) || c == '.' || c == '_' || c == '-' || c == '+' || c == '%'; }
static int is_label(int c) { return vigil__isalnum(c) || c == '-'; }
static int is_handle(int c) { return vigil__isalnum(c) || c == '.' || c == '_' || c == '-'; }
static int is_url(int c) {
  return vigil__isalnum(c) || (c > 0x20 && c < 0x7f && strchr("-._~:/?#[]@!$&'*+,;=%", c) != NULL);
}

static int word_is(const char *m, size_t n, size_t i, const char *w) {
  size_t k = strlen(w);
  if (i + k > n || memcmp(m + i, w, k) != 0) return 0;
  if (i > 0 && vigil__isalnum((unsigned char)m[i - 1])) return 0;
  return i + k == n || !vigil__isalnum((unsigned char)m[i + k]);
}

/* Spelled separators: returns the length of "at"/"dot" written as a word or
 * bracketed, 0 if none at i. */
static size_t spelled(const char *m, size_t n, size_t i, const char *w) {
  size_t k = strlen(w);
  if (i < n && (m[i] == '(' || m[i] == '[' || m[i] == '{')) {
    if (i + 1 + k < n && !memcmp(m + i + 1, w, k) && strchr(")]}", m[i + 1 + k])) return k + 2;
    return 0;
  }
  return word_is(m, n, i, w) ? k : 0;
}

static size_t skip_spaces(const char *m, size_t n, size_t i) {
  while (i < n && m[i] == ' ') i++;
  return i;
}

static int push(const vigil_text *t, vigil_contacts *out, int type, const char *value, const char *platform,
                size_t a, size_t b, int obf) {
  vigil_contact c;
  memset(&c, 0, sizeof c);
  c.type = type;
  snprintf(c.value, sizeof c.value, "%s", value);
  snprintf(c.platform, sizeof c.platform, "%s", platform);
  c.obfuscated = obf;
  c.span = vigil_text_span(t, a, b);
  return vigil__contacts_push(out, &c);
}

static const char *const webmail[] = {"gmail", "yahoo", "hotmail", "outlook", "aol", "icloud", "live",
                                      "msn", "protonmail", "ymail", "mail", "me", "comcast", "att", "gmx"};
static const char *const tlds[] = {"com", "net", "org", "edu", "co", "us", "me", "io", "ca", "info", "uk"};

static int in_list(const char *s, size_t k, const char *const *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strlen(list[i]) == k && !memcmp(list[i], s, k)) return 1;
  return 0;
}

/* Tries an e-mail whose "at" is [p, q); returns the end offset or 0. */
static size_t email_at(const vigil_text *t, vigil_contacts *out, size_t p, size_t q, int spelled_at, int *rc) {
  const char *m = t->match;
  size_t n = t->len;
  size_t le = p;
  while (le > 0 && m[le - 1] == ' ' && spelled_at) le--;
  if (!spelled_at && le != p) return 0;
  size_t ls = le;
  while (ls > 0 && is_local((unsigned char)m[ls - 1]) && le - ls < 64) ls--;
  while (ls < le && (m[ls] == '.' || m[ls] == '-')) ls++;
  if (ls == le) return 0;
  /* domain labels */
  size_t i = spelled_at ? skip_spaces(m, n, q) : q;
  char dom[128];
  size_t dl = 0;
  int labels = 0, spelled_dot = 0;
  size_t last_label = 0, last_len = 0, first_label = 0, first_len = 0, end = i;
  for (;;) {
    size_t s0 = i;
    while (i < n && is_label((unsigned char)m[i]) && i - s0 < 63) i++;
    if (i == s0) break;
    if (dl + (i - s0) + 2 >= sizeof dom) return 0;
    if (labels) dom[dl++] = '.';
    memcpy(dom + dl, m + s0, i - s0);
    dl += i - s0;
    if (!labels) first_label = s0, first_len = i - s0;
    last_label = s0;
    last_len = i - s0;
    labels++;
    end = i;
    size_t j = skip_spaces(m, n, i);
    size_t k;
    if (j < n && m[j] == '.' && j + 1 < n && is_label((unsigned char)m[j + 1])) {
      i = j + 1;
      if (j != i - 1 || j != end) spelled_dot = 1;
    } else if ((k = spelled(m, n, j, "dot")) != 0) {
      i = skip_spaces(m, n, j + k);
      spelled_dot = 1;
    } else {
      break;
    }
  }
  if (labels < 2) return 0;
  /* "zoho.comText": the original's case change ends the top-level domain */
  for (size_t z = 1; z < last_len; z++) {
    size_t o = t->src_start[last_label + z], o1 = t->src_start[last_label + z - 1];
    char cu = t->orig[o], cl = t->orig[o1];
    if (cu >= 'A' && cu <= 'Z' && cl >= 'a' && cl <= 'z' && in_list(m + last_label, z, tlds, sizeof tlds / sizeof tlds[0])) {
      dl -= last_len - z;
      end -= last_len - z;
      last_len = z;
      break;
    }
  }
  int known = in_list(m + first_label, first_len, webmail, sizeof webmail / sizeof webmail[0]) ||
              in_list(m + last_label, last_len, tlds, sizeof tlds / sizeof tlds[0]);
  int tld_alpha = last_len >= 2 && last_len <= 10;
  for (size_t z = 0; z < last_len; z++)
    if (!vigil__isalpha((unsigned char)m[last_label + z])) tld_alpha = 0;
  if (!tld_alpha) return 0;
  if ((spelled_at || spelled_dot) && !known) return 0;
  dom[dl] = 0;
  char v[VIGIL_CONTACT_VALUE_MAX];
  if (le - ls + dl + 2 > sizeof v) return 0;
  memcpy(v, m + ls, le - ls);
  v[le - ls] = '@';
  memcpy(v + (le - ls) + 1, dom, dl + 1);
  *rc = push(t, out, VIGIL_CONTACT_EMAIL, v, "", ls, end, spelled_at || spelled_dot);
  return end;
}

typedef struct platform {
  const char *kw;
  const char *name;
  int need_sep; /* short keyword: only before ':' '-' '@' */
} platform;

static const platform platforms[] = {
    {"snapchat", "snapchat", 0}, {"snap", "snapchat", 0},     {"sc", "snapchat", 1},      {"kik", "kik", 0},
    {"telegram", "telegram", 0}, {"tg", "telegram", 1},       {"whatsapp", "whatsapp", 0}, {"instagram", "instagram", 0},
    {"insta", "instagram", 0},   {"ig", "instagram", 1},      {"onlyfans", "onlyfans", 0}, {"cashapp", "cashapp", 0},
    {"cash app", "cashapp", 0},  {"venmo", "venmo", 0},       {"twitter", "twitter", 0},  {"skype", "skype", 0},
};

static const char *const fillers[] = {"me", "at", "is", "add", "id", "name", "user", "username", "handle", "on",
                                      "only", "and", "or", "the", "for", "with", "my", "to", "or", "text", "call",
                                      "chat", "snap", "app", "pics", "video", "videos", "dm", "us", "it", "now",
                                      "info", "available", "account", "too", "also", "please", "pls", "via",
                                      "just", "you", "u", "ready", "verification", "verify", "i", "and", "im",
                                      "here", "tag", "link", "in", "bio", "com", "page", "free", "msg", "message",
                                      "will", "more", "below", "where", "that", "what", "this", "shows",
                                      "sessions", "feed", "better", "phone", "won", "xxx", "followers", "see",
                                      "follow", "contact", "private", "show", "live", "find", "search", "both"};

static int is_filler(const char *s, size_t k) {
  if (in_list(s, k, fillers, sizeof fillers / sizeof fillers[0])) return 1;
  for (size_t i = 0; i < sizeof platforms / sizeof platforms[0]; i++)
    if (strlen(platforms[i].kw) == k && !memcmp(platforms[i].kw, s, k)) return 1;
  char d[4];
  return vigil__number_word(s, k, d, 0) == k;
}

/* After a platform keyword ending at i: the handle, or 0. */
static size_t handle_after(const vigil_text *t, vigil_contacts *out, size_t kw_start, size_t i, const char *name,
                           int *rc) {
  const char *m = t->match;
  size_t n = t->len;
  int marked = 0; /* an explicit separator or "at"/"is" was seen */
  for (int hops = 0; hops < 4; hops++) {
    while (i < n && (m[i] == ' ' || m[i] == ':' || m[i] == '-' || m[i] == '=' || m[i] == '>' || m[i] == '|' ||
                     m[i] == '@' || m[i] == '$' || m[i] == '(' || m[i] == '[' || m[i] == '~' || m[i] == '*')) {
      if (m[i] != ' ') marked = 1;
      i++;
    }
    size_t s0 = i;
    while (i < n && is_handle((unsigned char)m[i]) && i - s0 < 40) i++;
    while (i > s0 && (m[i - 1] == '.' || m[i - 1] == '-' || m[i - 1] == '_')) i--;
    size_t k = i - s0;
    if (k == 0) return 0;
    if (is_filler(m + s0, k)) {
      if ((k == 2 && !memcmp(m + s0, "at", 2)) || (k == 2 && !memcmp(m + s0, "is", 2))) marked = 1;
      continue;
    }
    if (k < 3 || k > 30 || !vigil__isalpha((unsigned char)m[s0])) return 0;
    /* "Instagram Elite", "Twitter feed": a bare following word is a handle
     * only when it looks like one (digit, '_' or '.') */
    int shaped = 0;
    for (size_t z = s0; z < i; z++)
      if (vigil__isdigit((unsigned char)m[z]) || m[z] == '_' || m[z] == '.') shaped = 1;
    if (!marked && !shaped) return 0;
    char v[64];
    memcpy(v, m + s0, k);
    v[k] = 0;
    *rc = push(t, out, VIGIL_CONTACT_HANDLE, v, name, kw_start, i, 0);
    return i;
  }
  return 0;
}

static const char *url_platform(const char *u, size_t k, size_t *path) {
  static const struct {
    const char *host, *name;
  } hosts[] = {{"onlyfans.com/", "onlyfans"}, {"instagram.com/", "instagram"}, {"t.me/", "telegram"},
               {"snapchat.com/add/", "snapchat"}, {"kik.me/", "kik"}, {"cash.app/$", "cashapp"},
               {"cash.app/", "cashapp"}, {"venmo.com/", "venmo"}, {"twitter.com/", "twitter"}};
  for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
    const char *h = hosts[i].host;
    size_t hl = strlen(h);
    for (size_t at = 0; at + hl <= k; at++)
      if (!memcmp(u + at, h, hl) && (at == 0 || u[at - 1] == '/' || u[at - 1] == '.')) {
        *path = at + hl;
        return hosts[i].name;
      }
  }
  return NULL;
}

static size_t url_at(const vigil_text *t, vigil_contacts *out, size_t i, int *rc) {
  const char *m = t->match;
  size_t n = t->len;
  size_t j = i;
  while (j < n && is_url((unsigned char)m[j]) && j - i < VIGIL_CONTACT_VALUE_MAX - 1) j++;
  while (j > i && strchr(".,;:!?)'*]", m[j - 1])) j--;
  size_t k = j - i;
  char v[VIGIL_CONTACT_VALUE_MAX];
  memcpy(v, m + i, k);
  v[k] = 0;
  size_t path = 0;
  const char *pl = url_platform(v, k, &path);
  int bare = strncmp(v, "http", 4) != 0 && strncmp(v, "www.", 4) != 0;
  if (bare && !pl) return 0;
  if (!strchr(v, '.') || k < 6) return 0;
  *rc = push(t, out, VIGIL_CONTACT_URL, v, "", i, j, 0);
  if (*rc == VIGIL_OK && pl && path < k) {
    size_t e = path;
    while (e < k && is_handle((unsigned char)v[e])) e++;
    if (e - path >= 2 && e - path < 40) {
      char h[48];
      memcpy(h, v + path, e - path);
      h[e - path] = 0;
      *rc = push(t, out, VIGIL_CONTACT_HANDLE, h, pl, i, j, 0);
    }
  }
  return j;
}

/* Looks for a contact starting at i; returns where scanning resumes (> i). */
static size_t online_at(const vigil_text *t, vigil_contacts *out, size_t i, int *rc) {
  const char *m = t->match;
  size_t n = t->len;
  unsigned char c = (unsigned char)m[i];
  if (c == '@') {
    size_t e = email_at(t, out, i, i + 1, 0, rc);
    return e > i ? e : i + 1;
  }
  if ((c == '(' || c == '[' || c == '{') && i > 0) {
    size_t k = spelled(m, n, i, "at");
    size_t e = k ? email_at(t, out, i, i + k, 1, rc) : 0;
    return e > i ? e : i + 1;
  }
  if (!vigil__isalpha(c) || (i > 0 && vigil__isalnum((unsigned char)m[i - 1]))) return i + 1;
  /* at a word start */
  size_t te = i; /* the URL-ish token here: a bare link needs a '.' then a '/' */
  int dot = 0, slash = 0;
  while (te < n && vigil__isalnum((unsigned char)m[te])) te++;
  if (te < n && m[te] == '.') te = i;
  else te = n; /* no '.' after the first label: not a bare link */
  while (te < n && is_url((unsigned char)m[te]) && te - i < 64) {
    if (m[te] == '.') dot = 1;
    else if (m[te] == '/' && dot) slash = 1;
    te++;
  }
  if ((c == 'h' && !strncmp(m + i, "http", 4)) || (c == 'w' && !strncmp(m + i, "www.", 4)) ||
      (slash && url_platform(m + i, te - i, &(size_t){0}))) {
    size_t e = url_at(t, out, i, rc);
    if (e > i) return e;
  }
  size_t k = c == 'a' ? spelled(m, n, i, "at") : 0;
  if (k && i > 0) {
    size_t e = email_at(t, out, i, i + k, 1, rc);
    if (e > i) return e;
  }
  for (size_t p = 0; p < sizeof platforms / sizeof platforms[0]; p++) {
    if (platforms[p].kw[0] != (char)c || !word_is(m, n, i, platforms[p].kw)) continue;
    size_t e = i + strlen(platforms[p].kw);
    if (platforms[p].need_sep && !(e < n && (m[e] == ':' || m[e] == '-' || m[e] == '@' ||
                                             (m[e] == ' ' && e + 1 < n && (m[e + 1] == ':' || m[e + 1] == '@')))))
      continue;
    size_t h = handle_after(t, out, i, e, platforms[p].name, rc);
    return h > i ? h : e;
  }
  while (i < n && vigil__isalnum((unsigned char)m[i])) i++;
  return i;
}

int vigil__online_extract(const vigil_text *t, vigil_contacts *out) {
  int rc = VIGIL_OK;
  for (size_t i = 0; i < t->len && rc == VIGIL_OK;) i = online_at(t, out, i, &rc);
  return rc;
}

/* Cues: every '@', "(at)", and the start of every word that can begin a
 * link, a spelled "at" or a platform keyword.  A position inside what an
 * earlier cue consumed is skipped, as the full scan would skip it. */
int vigil__online_extract_at(const vigil_text *t, vigil_contacts *out, const size_t *cues, size_t n) {
  int rc = VIGIL_OK;
  size_t next = 0;
  for (size_t c = 0; c < n && rc == VIGIL_OK; c++) {
    if (cues[c] < next || cues[c] >= t->len) continue;
    size_t i = cues[c];
    /* the full scan reaches a word start only if the word was not skipped whole */
    next = online_at(t, out, i, &rc);
  }
  return rc;
}
