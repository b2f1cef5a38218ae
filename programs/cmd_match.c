/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_match.c - `vigil match`: look images or hashes up in the enabled
 * banks (see docs/bank.md).
 *
 * An argument of 64 hex digits is a PDQ hash (or "pdq:", "md5:",
 * "sha256:" followed by hex, for exact signals); anything else is a file.
 * A file's bytes are digested with MD5 and SHA-256 (OpenSSL EVP) and, when
 * it decodes as an image, hashed with PDQ; all three are looked up.  A
 * video (by content) is hashed with vPDQ as it streams by (never read into
 * memory whole), which also gives its MD5 and SHA-256: it is looked up by
 * MD5, SHA-256 and video_md5 (the same MD5, under python-threatexchange's
 * video type), and its frames are compared with every vpdq entry (one line
 * per bank video with the two percentages and the aligned segments).  PDQ
 * hashes of quality below 50 are too flat to match reliably and are not
 * looked up unless --force.  The PDQ index is loaded once from the store
 * for all arguments.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/bank.h"
#include "vigil/media.h"
#include "vigil/video.h"

static const char match_help[] =
    "usage: vigil match [options] IMAGE|HASH...\n"
    "\n"
    "Look each image or hash up in the enabled hash banks.  A 64-hex-digit\n"
    "argument is a PDQ hash; md5:HEX, sha256:HEX and pdq:HEX name the type.\n"
    "Any other argument is a file ('-' = stdin): its MD5 and SHA-256 are looked\n"
    "up exactly and, if it is an image, its PDQ hash by Hamming distance; a\n"
    "video's MD5 is also looked up as video_md5, and its vPDQ frames (one per\n"
    "second) are compared with the banks' vpdq entries.\n"
    "\n"
    "options:\n"
    "  --db LOC           the bank store: a SQLite file or a postgresql:// URI\n"
    "                     (default $VIGIL_DB, else ./vigil.db)\n"
    "  --bank NAME        only this bank (repeatable; default all enabled banks)\n"
    "  --tag TAG          only entries with this tag (repeatable: any of them)\n"
    "  --threshold N      PDQ distance to match, inclusive (default 31, 0..64);\n"
    "                     also the vPDQ frame distance\n"
    "  --query-pct P      vPDQ: a bank video matches when this share of the\n"
    "                     query's frames matched (default 80, 0..100)...\n"
    "  --compared-pct P   ...and this share of its own (default 0)\n"
    "  --reference-semantics\n"
    "                     vPDQ as the C++ reference counts: distance below the\n"
    "                     threshold, every frame (default: python-threatexchange\n"
    "                     and HMA: within it, unique frame hashes)\n"
    "  --dihedral         also match the 7 rotations/flips of each image or hash\n"
    "  --force            match PDQ hashes of quality below 50 too\n"
    "  --video-banks      also match each picture or PDQ hash against the frames of\n"
    "                     the banks' vpdq videos: a still of a known video (line\n"
    "                     type vpdq_frame, the value HEX#t=SECONDS of the frame)\n"
    "  --video-frames     also match a video's frames (one per second) against\n"
    "                     the PDQ banks: a known picture shown in a video; the\n"
    "                     input is then PATH#t=SECONDS of the frame\n"
    "  -r, --recursive    look up the regular files under directories (symbolic\n"
    "                     links and other files skipped, said on stderr)\n"
    "  --format csv|json  csv (default): one line per match:\n"
    "                       input,signal_type,distance,variant,bank,entry_id,\n"
    "                       external_id,tags,value\n"
    "                     and per bank video a video matched or aligned with:\n"
    "                       input,vpdq,bank,entry_id,external_id,tags,\n"
    "                       query_pct,compared_pct,matched,segments\n"
    "                     segments: QS-QE=BS-BE@SHARE;... in seconds\n"
    "                     json: one object per input with its hashes and matches\n"
    "  -h, --help         this text\n"
    "\n"
    "Exit status: 0 all inputs looked up (matched or not), 1 some inputs could\n"
    "not be (reported on stderr), 2 usage or no store.\n";


typedef struct matchctx {
  vigil_bank_store *st;
  vigil_bank_matcher *m;
  vigil_bank_filter filter;
  int threshold, dihedral, force, json, video_frames, video_banks;
  vigil_vpdq_opts vopts;
} matchctx;

static void csv_field(const char *s, int last) {
  if (strpbrk(s, ",\"\n\r")) {
    putchar('"');
    for (; *s; s++) {
      if (*s == '"') putchar('"');
      putchar(*s);
    }
    putchar('"');
  } else {
    fputs(s, stdout);
  }
  putchar(last ? '\n' : ',');
}

/* Prints (csv) or appends to arr (json) the matches of one lookup; ts >= 0
 * is the time of the video frame that was looked up. */
static void emit(const matchctx *c, const char *input, const vigil_bank_match *v, size_t n, json_t *arr, double ts) {
  for (size_t i = 0; i < n; i++) {
    const vigil_bank_entry *e = &v[i].entry;
    char hex[2 * VIGIL_BANK_VALUE_MAX + 1], num[32];
    vigil_signal_to_hex(e->value, e->value_len, hex);
    const char *type = vigil_signal_name(e->type);
    const char *var = vigil_dihedral_name(v[i].variant);
    if (c->json) {
      json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "signal_type", type, "distance",
                            v[i].distance, "variant", var ? var : "orig", "bank", e->bank, "entry_id",
                            (json_int_t)e->id, "external_id", e->external_id, "tags", e->tags, "source", e->source,
                            "value", hex);
      if (o && ts >= 0) json_object_set_new(o, "timestamp", json_real(ts));
      if (o) json_array_append_new(arr, o);
      continue;
    }
    csv_field(input, 0);
    csv_field(type, 0);
    snprintf(num, sizeof num, "%d", v[i].distance);
    csv_field(num, 0);
    csv_field(var ? var : "orig", 0);
    csv_field(e->bank, 0);
    snprintf(num, sizeof num, "%llu", (unsigned long long)e->id);
    csv_field(num, 0);
    csv_field(e->external_id, 0);
    csv_field(e->tags, 0);
    csv_field(hex, 1);
  }
}

static int lookup_exact(const matchctx *c, const char *input, vigil_signal_type t, const uint8_t *value,
                        json_t *arr) {
  vigil_bank_match *v;
  size_t n;
  vigil_error err;
  if (vigil_bank_match_exact(c->st, t, value, &c->filter, &v, &n, &err)) {
    cli_error("%s: %s", input, err.message);
    return -1;
  }
  emit(c, input, v, n, arr, -1);
  free(v);
  return 0;
}

static int lookup_pdq(const matchctx *c, const char *input, const vigil_pdq_hash *qs, int nq, json_t *arr, double ts) {
  vigil_bank_match *v;
  size_t n;
  vigil_error err;
  if (vigil_bank_match_pdq(c->m, qs, nq, c->threshold, &c->filter, &v, &n, &err)) {
    cli_error("%s: %s", input, err.message);
    return -1;
  }
  emit(c, input, v, n, arr, ts);
  free(v);
  return 0;
}

/* A picture against the banks' videos (--video-banks): a still of a known
 * video.  One line per bank video, its closest frame's time after the
 * value as a media fragment; JSON adds bank_timestamp. */
static int lookup_stills(const matchctx *c, const char *input, const vigil_pdq_hash *qs, int nq, json_t *arr) {
  vigil_bank_frame_match *v = NULL;
  size_t n = 0;
  vigil_error err;
  if (vigil_bank_match_pdq_in_videos(c->m, qs, nq, c->threshold, &c->filter, &v, &n, &err)) {
    cli_error("%s: not matched against videos: %s", input, err.message);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    const vigil_bank_entry *e = &v[i].entry;
    char hex[2 * VIGIL_BANK_VALUE_MAX + 1], val[128], num[32];
    vigil_signal_to_hex(e->value, e->value_len, hex);
    const char *var = vigil_dihedral_name(v[i].variant);
    if (c->json) {
      json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:f}", "signal_type", "vpdq", "distance",
                            v[i].distance, "variant", var ? var : "orig", "bank", e->bank, "entry_id",
                            (json_int_t)e->id, "external_id", e->external_id, "tags", e->tags, "source", e->source,
                            "value", hex, "bank_timestamp", v[i].timestamp);
      if (o) json_array_append_new(arr, o);
      continue;
    }
    csv_field(input, 0);
    csv_field("vpdq_frame", 0);
    snprintf(num, sizeof num, "%d", v[i].distance);
    csv_field(num, 0);
    csv_field(var ? var : "orig", 0);
    csv_field(e->bank, 0);
    snprintf(num, sizeof num, "%llu", (unsigned long long)e->id);
    csv_field(num, 0);
    csv_field(e->external_id, 0);
    csv_field(e->tags, 0);
    snprintf(val, sizeof val, "%s#t=%.3f", hex, v[i].timestamp);
    csv_field(val, 1);
  }
  free(v);
  return 0;
}

typedef struct frame_ref {
  const vigil_video_frame *f;
} frame_ref;

static int cmp_frame_hash(const void *a, const void *b) {
  const vigil_video_frame *x = ((const frame_ref *)a)->f, *y = ((const frame_ref *)b)->f;
  int d = memcmp(x->hash.bytes, y->hash.bytes, VIGIL_PDQ_BYTES);
  return d ? d : (x > y) - (x < y);
}

/* A video's frames (one per second) against the PDQ banks: each distinct
 * frame hash of quality >= 50 once, at its first time; a match's input is
 * PATH#t=SECONDS (a media fragment), and JSON adds "timestamp". */
static int lookup_frames(const matchctx *c, const char *path, const vigil_video_frame *fr, size_t n, json_t *arr) {
  frame_ref *refs = calloc(n ? n : 1, sizeof *refs);
  uint8_t *first = calloc(n ? n : 1, 1);
  int rc = 0;
  if (!refs || !first) {
    cli_error("%s: out of memory for %zu frames", path, n);
    rc = -1;
    goto done;
  }
  for (size_t i = 0; i < n; i++) refs[i].f = &fr[i];
  qsort(refs, n, sizeof *refs, cmp_frame_hash);
  for (size_t i = 0; i < n; i++)
    if (i == 0 || memcmp(refs[i].f->hash.bytes, refs[i - 1].f->hash.bytes, VIGIL_PDQ_BYTES))
      first[refs[i].f - fr] = 1;
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (!first[i] || (fr[i].quality < VIGIL_PDQ_MIN_QUALITY && !c->force)) continue;
    char in[4200];
    snprintf(in, sizeof in, "%s#t=%.3f", path, fr[i].timestamp);
    rc = lookup_pdq(c, in, &fr[i].hash, 1, arr, fr[i].timestamp);
  }
done:
  free(first);
  free(refs);
  return rc;
}

/* "QS-QE=BS-BE@SHARE;..." */
static void segments_text(const vigil_bank_video_hit *h, char *out, size_t cap) {
  size_t o = 0;
  out[0] = '\0';
  for (size_t i = 0; i < h->nsegments && o < cap; i++) {
    const vigil_vpdq_segment *g = &h->segments[i];
    int k = snprintf(out + o, cap - o, "%s%.3f-%.3f=%.3f-%.3f@%.2f", i ? ";" : "", g->query_start, g->query_end,
                     g->bank_start, g->bank_end, g->share);
    if (k < 0) break;
    o += (size_t)k;
  }
}

/* The video's frames against the vpdq entries: every bank video that
 * matched, or that some part of the query aligned with (a clip of a known
 * video inside a longer upload matches few of the upload's frames, and its
 * segments are what a reviewer needs). */
static int lookup_vpdq(const matchctx *c, const char *input, const vigil_video_frame *fr, size_t n, json_t *obj) {
  vigil_bank_video_hit *h = NULL;
  size_t nh = 0;
  vigil_error err;
  if (vigil_bank_match_video_filtered(c->m, fr, n, &c->vopts, &c->filter, &h, &nh, &err)) {
    cli_error("%s: not matched by vPDQ: %s", input, err.message);
    return -1;
  }
  json_t *arr = c->json ? json_array() : NULL;
  for (size_t i = 0; i < nh; i++) {
    const vigil_bank_video_hit *v = &h[i];
    if (!v->matched && v->nsegments == 0) continue;
    const vigil_bank_entry *e = &v->entry;
    if (c->json) {
      json_t *segs = json_array();
      for (size_t k = 0; k < v->nsegments; k++) {
        const vigil_vpdq_segment *g = &v->segments[k];
        json_array_append_new(segs, json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:I}", "query_start", g->query_start,
                                              "query_end", g->query_end, "bank_start", g->bank_start, "bank_end",
                                              g->bank_end, "speed", g->speed, "share", g->share, "frames",
                                              (json_int_t)g->frames));
      }
      char hex[2 * VIGIL_BANK_VALUE_MAX + 1];
      vigil_signal_to_hex(e->value, e->value_len, hex);
      json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:f, s:f, s:b, s:I, s:I, s:I, s:I, s:o}", "bank",
                            e->bank, "entry_id", (json_int_t)e->id, "external_id", e->external_id, "tags", e->tags,
                            "source", e->source, "value", hex, "query_pct", v->query_pct, "compared_pct",
                            v->compared_pct, "matched", v->matched, "query_matched", (json_int_t)v->query_matched,
                            "query_total", (json_int_t)v->query_total, "compared_matched",
                            (json_int_t)v->compared_matched, "compared_total", (json_int_t)v->compared_total,
                            "segments", segs ? segs : json_array());
      if (o) json_array_append_new(arr, o);
      continue;
    }
    char num[64], segtxt[4096];
    csv_field(input, 0);
    csv_field("vpdq", 0);
    csv_field(e->bank, 0);
    snprintf(num, sizeof num, "%llu", (unsigned long long)e->id);
    csv_field(num, 0);
    csv_field(e->external_id, 0);
    csv_field(e->tags, 0);
    snprintf(num, sizeof num, "%.1f", v->query_pct);
    csv_field(num, 0);
    snprintf(num, sizeof num, "%.1f", v->compared_pct);
    csv_field(num, 0);
    csv_field(v->matched ? "yes" : "no", 0);
    segments_text(v, segtxt, sizeof segtxt);
    csv_field(segtxt, 1);
  }
  if (c->json) json_object_set_new(obj, "videos", arr);
  vigil_bank_video_hits_free(h, nh);
  return 0;
}

/* A video file: hashed once as it streams (vPDQ, MD5, SHA-256), then its
 * digests looked up exactly and its frames compared; *hashed = 0 when it
 * could not be hashed (the caller then digests the bytes itself). */
static int do_video(const matchctx *c, const char *path, json_t *obj, json_t *arr, int *hashed) {
  vigil_video_frame *fr = NULL;
  size_t n = 0;
  vigil_video_info info;
  vigil_error err;
  *hashed = 0;
  if (vigil_video_hash_all(path, NULL, &fr, &n, &info, &err)) {
    cli_error("%s: not matched by vPDQ: %s", path, err.message);
    return 1;
  }
  *hashed = 1;
  int failed = 0;
  uint8_t md5[VIGIL_BANK_VALUE_MAX], sha[VIGIL_BANK_VALUE_MAX];
  if (vigil_signal_parse(VIGIL_SIGNAL_MD5, info.md5, 32, md5, &err) ||
      vigil_signal_parse(VIGIL_SIGNAL_SHA256, info.sha256, 64, sha, &err)) {
    cli_error("%s: %s", path, err.message);
    failed = 1;
  } else {
    if (c->json) {
      json_object_set_new(obj, "md5", json_string(info.md5));
      json_object_set_new(obj, "sha256", json_string(info.sha256));
      json_object_set_new(obj, "vpdq_frames", json_integer((json_int_t)n));
      json_object_set_new(obj, "duration", json_real(info.duration));
    }
    failed |= lookup_exact(c, path, VIGIL_SIGNAL_MD5, md5, arr) != 0;
    failed |= lookup_exact(c, path, VIGIL_SIGNAL_SHA256, sha, arr) != 0;
    failed |= lookup_exact(c, path, VIGIL_SIGNAL_VIDEO_MD5, md5, arr) != 0;
  }
  if (n == 0) {
    cli_error("%s: no frame was hashed: not matched by vPDQ", path);
    failed = 1;
  } else {
    failed |= lookup_vpdq(c, path, fr, n, obj) != 0;
    if (c->video_frames) failed |= lookup_frames(c, path, fr, n, arr) != 0;
  }
  vigil_video_frames_free(fr);
  return failed;
}

/* Whether the file at path starts like a video (its first bytes only).
 * Regular files only: sniffing a FIFO would eat the bytes the hasher
 * needs, so other files take the path that reads them once. */
static int file_is_video(const char *path) {
  struct stat sb;
  if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return 0;
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  unsigned char head[376];
  size_t n = fread(head, 1, sizeof head, f);
  fclose(f);
  return vigil_video_sniff(head, n);
}

/* An argument of hex digits that is no file was meant as a hash: say what
 * is wrong with it rather than "no such file". */
static int hash_typo(const char *arg) {
  size_t n = strlen(arg);
  if (n < 16 || strspn(arg, "0123456789abcdefABCDEF") != n) return 0;
  struct stat sb;
  if (stat(arg, &sb) == 0) return 0;
  if (n == 32)
    cli_error("%s: 32 hex digits is an MD5 digest; write md5:%s (a bare hash is PDQ, 64 hex digits)", arg, arg);
  else
    cli_error("%s: looks like a hash but has %zu hex digits: a PDQ hash has 64 (md5:HEX has 32, sha256:HEX 64); "
              "no file has this name either",
              arg, n);
  return 1;
}

static int do_input(const matchctx *c, const char *arg) {
  json_t *obj = c->json ? json_object() : NULL, *arr = c->json ? json_array() : NULL;
  if (c->json) json_object_set_new(obj, "input", json_string(arg));
  int failed = 0, hashed = 0, tried = 0;
  size_t alen = strlen(arg);
  const char *colon = strchr(arg, ':');
  vigil_signal_type named = VIGIL_SIGNAL_NONE;
  if (colon) named = vigil_signal_from_name(arg, (size_t)(colon - arg));
  int is_hex64 = alen == 64 && strspn(arg, "0123456789abcdefABCDEF") == 64;
  if (named != VIGIL_SIGNAL_NONE || is_hex64) {
    vigil_signal_type t = is_hex64 ? VIGIL_SIGNAL_PDQ : named;
    const char *hex = is_hex64 ? arg : colon + 1;
    uint8_t value[VIGIL_BANK_VALUE_MAX];
    vigil_error err;
    if (vigil_signal_parse(t, hex, strlen(hex), value, &err)) {
      cli_error("%s: %s", arg, err.message);
      failed = 1;
    } else if (t == VIGIL_SIGNAL_PDQ) {
      vigil_pdq_hash q;
      memcpy(q.bytes, value, VIGIL_PDQ_BYTES);
      /* the variants come from the DCT before thresholding, so a bare hash
       * cannot be rotated: only images get them */
      if (c->dihedral) cli_error("%s: --dihedral needs an image; the hash is matched as given", arg);
      if (c->json) json_object_set_new(obj, "pdq", json_string(hex));
      failed = lookup_pdq(c, arg, &q, 1, arr, -1) != 0;
      if (c->video_banks) failed |= lookup_stills(c, arg, &q, 1, arr) != 0;
    } else {
      if (c->json) json_object_set_new(obj, vigil_signal_name(t), json_string(hex));
      failed = lookup_exact(c, arg, t, value, arr) != 0;
    }
  } else if (hash_typo(arg)) {
    failed = 1;
  } else if (strcmp(arg, "-") && (tried = file_is_video(arg)) &&
             (failed = do_video(c, arg, obj, arr, &hashed), hashed)) {
    /* done: a video, hashed as it streamed */
  } else {
    uint8_t *data = NULL;
    size_t len = 0;
    vigil_error err;
    if (vigil_read_file(arg, VIGIL_DEFAULT_MAX_BYTES, &data, &len, &err)) {
      cli_error("%s: %s", arg, err.message);
      failed = 1;
    } else {
      int is_video = vigil_video_sniff(data, len);
      unsigned char md5[EVP_MAX_MD_SIZE], sha[EVP_MAX_MD_SIZE];
      unsigned int l1 = 0, l2 = 0;
      char hex[2 * EVP_MAX_MD_SIZE + 1];
      if (EVP_Digest(data, len, md5, &l1, EVP_md5(), NULL) != 1 ||
          EVP_Digest(data, len, sha, &l2, EVP_sha256(), NULL) != 1 || l1 != 16 || l2 != 32) {
        cli_error("%s: digest failed", arg);
        failed = 1;
      } else {
        if (c->json) {
          vigil_signal_to_hex(md5, 16, hex);
          json_object_set_new(obj, "md5", json_string(hex));
          vigil_signal_to_hex(sha, 32, hex);
          json_object_set_new(obj, "sha256", json_string(hex));
        }
        failed |= lookup_exact(c, arg, VIGIL_SIGNAL_MD5, md5, arr) != 0;
        failed |= lookup_exact(c, arg, VIGIL_SIGNAL_SHA256, sha, arr) != 0;
        if (is_video) failed |= lookup_exact(c, arg, VIGIL_SIGNAL_VIDEO_MD5, md5, arr) != 0;
      }
      vigil_hash_opts o;
      vigil_hash_opts_default(&o);
      o.dihedral = c->dihedral;
      vigil_pdq_result r;
      if (is_video) {
        /* a video that could not be hashed (said above), or one on standard input or a pipe */
        if (!tried) {
          cli_error("%s: a video %s is matched by its digests only: give a regular file for vPDQ%s", arg,
                    strcmp(arg, "-") ? "that is not a regular file" : "on standard input",
                    c->video_frames ? " (--video-frames needs a file too)" : "");
          failed = 1;
        }
      } else if (vigil_hash_memory(data, len, &o, &r, NULL, &err)) {
        cli_error("%s: not matched by PDQ: %s", arg, err.message);
        failed = 1;
      } else {
        char phex[VIGIL_PDQ_HEX_LEN + 1];
        vigil_pdq_to_hex(&r.hash[0], phex);
        if (c->json) {
          json_object_set_new(obj, "pdq", json_string(phex));
          json_object_set_new(obj, "quality", json_integer(r.quality));
        }
        if (r.quality < VIGIL_PDQ_MIN_QUALITY && !c->force) {
          cli_error("%s: PDQ quality %d is below %d: not matched by PDQ (use --force)", arg, r.quality,
                    VIGIL_PDQ_MIN_QUALITY);
          if (c->json) json_object_set_new(obj, "pdq_skipped", json_string("low quality"));
          failed = 1;
        } else {
          failed |= lookup_pdq(c, arg, r.hash, r.nhashes, arr, -1) != 0;
          if (c->video_banks) failed |= lookup_stills(c, arg, r.hash, r.nhashes, arr) != 0;
        }
      }
      free(data);
    }
  }
  if (c->json) {
    if (failed) json_object_set_new(obj, "incomplete", json_true());
    json_object_set_new(obj, "matches", arr);
    char *txt = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (txt) puts(txt);
    free(txt);
    json_decref(obj);
  }
  return failed;
}

/* -r: the regular files under dir, by name, into out; symbolic links and
 * other non-regular files are skipped (said once each), and depth is
 * bounded, so a link loop or a FIFO cannot stall or explode the walk. */
static int walk(const char *dir, int depth, cli_strvec *out, char ***owned, size_t *nowned) {
  if (depth > 64) {
    cli_error("%s: deeper than 64 directories, not descended", dir);
    return 0;
  }
  struct dirent **names;
  int n = scandir(dir, &names, NULL, alphasort);
  if (n < 0) {
    cli_error("%s: %s", dir, strerror(errno));
    return 1;
  }
  int failed = 0;
  for (int i = 0; i < n; i++) {
    const char *nm = names[i]->d_name;
    if (nm[0] != '.') {
      size_t len = strlen(dir) + strlen(nm) + 2;
      char *child = malloc(len);
      char **grown = child ? realloc(*owned, (*nowned + 1) * sizeof *grown) : NULL;
      if (!grown) {
        free(child);
        cli_error("out of memory");
        failed++;
      } else {
        *owned = grown;
        (*owned)[(*nowned)++] = child;
        snprintf(child, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", nm);
        struct stat sb;
        if (lstat(child, &sb) != 0) cli_error("%s: %s", child, strerror(errno)), failed++;
        else if (S_ISDIR(sb.st_mode)) failed += walk(child, depth + 1, out, owned, nowned);
        else if (S_ISREG(sb.st_mode)) {
          if (cli_strvec_push(out, child)) cli_error("out of memory"), failed++;
        } else cli_error("%s: skipped: not a regular file", child);
      }
    }
    free(names[i]);
  }
  free(names);
  return failed;
}

int cmd_match(int argc, char **argv) {
  cli_tune_allocator();
  enum { OPT_DB = 256, OPT_BANK, OPT_TAG, OPT_THRESH, OPT_DIH, OPT_FORCE, OPT_FORMAT, OPT_FRAMES, OPT_QPCT, OPT_CPCT,
         OPT_REFSEM, OPT_VBANKS };
  static const struct option longopts[] = {
      {"db", required_argument, 0, OPT_DB},         {"bank", required_argument, 0, OPT_BANK},
      {"tag", required_argument, 0, OPT_TAG},       {"threshold", required_argument, 0, OPT_THRESH},
      {"dihedral", no_argument, 0, OPT_DIH},        {"force", no_argument, 0, OPT_FORCE},
      {"format", required_argument, 0, OPT_FORMAT}, {"help", no_argument, 0, 'h'},
      {"recursive", no_argument, 0, 'r'},           {"video-frames", no_argument, 0, OPT_FRAMES},
      {"query-pct", required_argument, 0, OPT_QPCT}, {"compared-pct", required_argument, 0, OPT_CPCT},
      {"reference-semantics", no_argument, 0, OPT_REFSEM}, {"video-banks", no_argument, 0, OPT_VBANKS},
      {0, 0, 0, 0}};
  matchctx c;
  int recursive = 0;
  cli_strvec inputs = {0};
  char **owned = NULL;
  size_t nowned = 0;
  memset(&c, 0, sizeof c);
  c.threshold = VIGIL_PDQ_MATCH_THRESHOLD;
  long qpct = -1, cpct = -1;
  int refsem = 0;
  cli_strvec banks = {0}, tags = {0};
  const char *db = cli_default_db();
  int opt, rc = CLI_USAGE;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "hr", longopts, NULL)) != -1) {
    switch (opt) {
    case 'r': recursive = 1; break;
    case OPT_DB: db = optarg; break;
    case OPT_BANK:
    case OPT_TAG:
      if (cli_strvec_push(opt == OPT_BANK ? &banks : &tags, optarg)) {
        cli_error("out of memory");
        goto out;
      }
      break;
    case OPT_THRESH: {
      long v = cli_parse_long("--threshold", optarg, 0, VIGIL_BANK_MAX_THRESHOLD);
      if (v < 0) goto out;
      c.threshold = (int)v;
      break;
    }
    case OPT_DIH: c.dihedral = 1; break;
    case OPT_FORCE: c.force = 1; break;
    case OPT_FRAMES: c.video_frames = 1; break;
    case OPT_QPCT:
    case OPT_CPCT: {
      long v = cli_parse_long(opt == OPT_QPCT ? "--query-pct" : "--compared-pct", optarg, 0, 100);
      if (v < 0) goto out;
      *(opt == OPT_QPCT ? &qpct : &cpct) = v;
      break;
    }
    case OPT_REFSEM: refsem = 1; break;
    case OPT_VBANKS: c.video_banks = 1; break;
    case OPT_FORMAT:
      if (!strcmp(optarg, "csv")) c.json = 0;
      else if (!strcmp(optarg, "json")) c.json = 1;
      else {
        cli_error("--format: expected csv or json, got '%s'", optarg);
        goto out;
      }
      break;
    case 'h': fputs(match_help, stdout); rc = CLI_OK; goto out;
    default: fputs(match_help, stderr); goto out;
    }
  }
  if (refsem) vigil_vpdq_opts_reference(&c.vopts);
  else vigil_vpdq_opts_default(&c.vopts);
  c.vopts.threshold = c.threshold;
  if (qpct >= 0) c.vopts.query_pct_min = (double)qpct;
  if (cpct >= 0) c.vopts.compared_pct_min = (double)cpct;
  if (optind >= argc) {
    cli_error("match: give images or hashes to look up");
    fputs(match_help, stderr);
    goto out;
  }
  for (size_t i = 0; i < tags.n; i++) {
    char canon[VIGIL_BANK_TAGS_MAX + 1];
    if (vigil_bank_tags_normalize(tags.v[i], strlen(tags.v[i]), canon, NULL) || strcmp(canon, tags.v[i])) {
      cli_error("--tag: '%s' is not a single valid tag", tags.v[i]);
      goto out;
    }
  }
  vigil_error err;
  if (cli_store_missing(db)) goto out;
  if (vigil_bank_store_open(&c.st, db, &err)) {
    cli_error("%s", err.message);
    goto out;
  }
  for (size_t i = 0; i < banks.n; i++) {
    vigil_bank_info b;
    if (vigil_bank_get(c.st, banks.v[i], &b, &err)) {
      cli_error("--bank: %s", err.message);
      goto out;
    }
    if (!b.enabled) cli_error("bank %s is disabled: it is not matched (vigil bank enable %s)", b.name, b.name);
  }
  c.filter.banks = banks.v;
  c.filter.nbanks = banks.n;
  c.filter.tags = tags.v;
  c.filter.ntags = tags.n;
  if (vigil_bank_matcher_open(&c.m, c.st, &err)) {
    cli_error("%s", err.message);
    goto out;
  }
  { /* "no match" against nothing is no answer: say so */
    vigil_bank_info *all = NULL;
    size_t nb = 0, enabled = 0;
    if (vigil_bank_list(c.st, &all, &nb, &err) == VIGIL_OK)
      for (size_t i = 0; i < nb; i++) enabled += all[i].enabled != 0;
    free(all);
    if (!enabled) cli_error("warning: no bank is enabled in %s: nothing can match", db);
    else if (vigil_bank_matcher_size(c.m) == 0 && vigil_bank_matcher_videos(c.m) == 0)
      cli_error("warning: the enabled banks of %s hold no PDQ hash and no vPDQ video: pictures and videos match "
                "by MD5/SHA-256 only",
                db);
  }
  int failed = 0;
  for (int i = optind; i < argc; i++) {
    struct stat sb;
    if (recursive && stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) failed += walk(argv[i], 0, &inputs, &owned, &nowned);
    else if (!recursive && strcmp(argv[i], "-") && stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode))
      cli_error("%s: is a directory (use -r to look up the files under it)", argv[i]), failed++;
    else if (cli_strvec_push(&inputs, argv[i])) cli_error("out of memory"), failed++;
  }
  cli_progress prog;
  cli_progress_start(&prog, "looked up", inputs.n);
  for (size_t i = 0; i < inputs.n; i++) {
    int f = do_input(&c, inputs.v[i]);
    failed += f;
    cli_progress_step(&prog, 1, f);
  }
  cli_progress_end(&prog);
  if (fflush(stdout) != 0) failed++;
  rc = failed ? CLI_PARTIAL : CLI_OK;
out:
  for (size_t i = 0; i < nowned; i++) free(owned[i]);
  free(owned);
  free(inputs.v);
  vigil_bank_matcher_free(c.m);
  vigil_bank_store_close(c.st);
  free(banks.v);
  free(tags.v);
  return rc;
}
