/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_bank.c - `vigil bank`: create, list, fill, empty and inspect hash
 * banks (see docs/bank.md).
 *
 * One subcommand per function below; each parses its own options with
 * getopt_long so that --db and --help work before or after the subcommand
 * name.  The store location is --db, else $VIGIL_DB, else ./vigil.db.
 * Every write is acknowledged only once committed: a success line printed
 * here means the change is durable.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/bank.h"
#include "vigil/server.h"

static const char bank_help[] =
    "usage: vigil bank [--db LOC] COMMAND [options] [arguments]\n"
    "\n"
    "Hash banks: named lists of PDQ, MD5 and SHA-256 hashes of known media,\n"
    "and of known videos (vPDQ frame lists, video_md5).\n"
    "\n"
    "commands:\n"
    "  create NAME [--description TEXT] [--review]\n"
    "                                       create an empty bank (enabled); with\n"
    "                                       --review its matches open review cases\n"
    "  list [--format text|json]            banks with their entry counts\n"
    "  drop NAME [--yes]                    delete a bank and all its entries\n"
    "                                       (--yes needed when it has entries)\n"
    "  import NAME FILE...                  import files ('-' = stdin); options:\n"
    "      --format csv|te|jsonl|vpdq       default from the extension (.csv, .txt/.te,\n"
    "                                       .jsonl/.json, .vpdq), else csv; vpdq: the\n"
    "                                       reference's per-frame file, one video, its\n"
    "                                       external id --id or the file name\n"
    "      --skip-bad                       import the good lines, report the bad ones\n"
    "      --batch N                        commit every N entries (default: one\n"
    "                                       transaction per file)\n"
    "      --source TEXT                    source of entries that name none\n"
    "      --tag TAG                        add TAG to every entry (repeatable)\n"
    "      --create                         create the bank if it does not exist\n"
    "  export NAME|--all [--format csv|te|jsonl] [--active] [-o FILE]\n"
    "                                       write entries (removed ones too, marked,\n"
    "                                       unless --active; te: active only)\n"
    "  add NAME TYPE VALUE [--id EXTID] [--tag TAG]... [--source TEXT]\n"
    "                                       add one entry (TYPE: pdq, md5, sha256, video_md5;\n"
    "                                       vpdq with python-threatexchange's JSON list)\n"
    "  add NAME --video FILE... [--id EXTID] [--tag TAG]... [--source TEXT]\n"
    "                                       hash videos and add each as a vpdq entry and a\n"
    "                                       video_md5 entry (external id: --id, or the\n"
    "                                       file name)\n"
    "  remove NAME TYPE VALUE [--reason TEXT]\n"
    "  remove --id ID [--reason TEXT]       mark an entry removed (kept for audit;\n"
    "                                       it no longer matches)\n"
    "  stats [NAME] [--format text|json]    counts per bank and signal type\n"
    "  enable NAME | disable NAME           include or exclude a bank from matching\n"
    "\n"
    "options:\n"
    "  --db LOC     the bank store: a SQLite file or a postgresql:// URI\n"
    "               (default $VIGIL_DB, else ./vigil.db)\n"
    "  -h, --help   this text\n"
    "\n"
    "Exit status: 0 done, 1 some inputs failed (reported on stderr), 2 usage or\n"
    "nothing could be done.\n";



static vigil_bank_store *open_store(const char *db) {
  vigil_bank_store *st;
  vigil_error err;
  if (vigil_bank_store_open(&st, db, &err)) {
    cli_error("%s", err.message);
    return NULL;
  }
  return st;
}

/* Options every subcommand accepts. */
enum { OPT_DB = 300, OPT_FORMAT, OPT_DESC, OPT_YES, OPT_SKIP, OPT_BATCH, OPT_SOURCE, OPT_TAG, OPT_CREATE, OPT_ALL,
       OPT_ACTIVE, OPT_ID, OPT_REASON, OPT_REVIEW, OPT_VIDEO };

static const struct option sub_opts[] = {
    {"db", required_argument, 0, OPT_DB},          {"format", required_argument, 0, OPT_FORMAT},
    {"description", required_argument, 0, OPT_DESC}, {"yes", no_argument, 0, OPT_YES},
    {"skip-bad", no_argument, 0, OPT_SKIP},        {"batch", required_argument, 0, OPT_BATCH},
    {"source", required_argument, 0, OPT_SOURCE},  {"tag", required_argument, 0, OPT_TAG},
    {"create", no_argument, 0, OPT_CREATE},        {"all", no_argument, 0, OPT_ALL},
    {"active", no_argument, 0, OPT_ACTIVE},        {"id", required_argument, 0, OPT_ID},
    {"reason", required_argument, 0, OPT_REASON},  {"output", required_argument, 0, 'o'},
    {"review", no_argument, 0, OPT_REVIEW},        {"video", no_argument, 0, OPT_VIDEO},
    {"help", no_argument, 0, 'h'},                 {0, 0, 0, 0}};

typedef struct args {
  const char *db, *format, *description, *source, *id, *reason, *output;
  int yes, skip_bad, create, all, active, review, video;
  long batch;
  cli_strvec tags;
  char **pos; /* positional arguments after the subcommand */
  int npos;
} args;

/* Parses argv (starting at the subcommand name) into a; which options are
 * meaningful is checked by each subcommand.  Returns -1 after --help, 2 on
 * a usage error, 0 otherwise. */
static int parse_args(int argc, char **argv, args *a) {
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:h", sub_opts, NULL)) != -1) {
    switch (c) {
    case OPT_DB: a->db = optarg; break;
    case OPT_FORMAT: a->format = optarg; break;
    case OPT_DESC: a->description = optarg; break;
    case OPT_YES: a->yes = 1; break;
    case OPT_SKIP: a->skip_bad = 1; break;
    case OPT_BATCH:
      if ((a->batch = cli_parse_long("--batch", optarg, 1, 1000000000L)) < 0) return CLI_USAGE;
      break;
    case OPT_SOURCE: a->source = optarg; break;
    case OPT_TAG:
      if (cli_strvec_push(&a->tags, optarg)) {
        cli_error("out of memory");
        return CLI_USAGE;
      }
      break;
    case OPT_CREATE: a->create = 1; break;
    case OPT_ALL: a->all = 1; break;
    case OPT_ACTIVE: a->active = 1; break;
    case OPT_ID: a->id = optarg; break;
    case OPT_REASON: a->reason = optarg; break;
    case OPT_REVIEW: a->review = 1; break;
    case OPT_VIDEO: a->video = 1; break;
    case 'o': a->output = optarg; break;
    case 'h': fputs(bank_help, stdout); return -1;
    default: fputs(bank_help, stderr); return CLI_USAGE;
    }
  }
  a->pos = argv + optind;
  a->npos = argc - optind;
  return 0;
}

static int need_pos(const args *a, int lo, int hi, const char *what) {
  if (a->npos < lo || a->npos > hi) {
    cli_error("bank %s: wrong number of arguments (see 'vigil bank --help')", what);
    return 0;
  }
  return 1;
}

/* The service's store on the same database: its audit log and the review
 * flag of banks live there (opened by cmd_bank for every subcommand). */
static vigil_server_store *service;

static int review_of(const char *bank) {
  int review = 0;
  vigil_error err;
  if (service && vigil_server_bank_review_get(service, bank, &review, &err)) review = 0;
  return review;
}

static int bank_create(args *a, vigil_bank_store *st) {
  if (!need_pos(a, 1, 1, "create")) return CLI_USAGE;
  vigil_error err;
  if (vigil_bank_create(st, a->pos[0], a->description, &err)) {
    cli_error("%s", err.message);
    return err.code == VIGIL_EEXIST ? CLI_PARTIAL : CLI_USAGE;
  }
  if (a->review && vigil_server_bank_review_set(service, a->pos[0], 1, &err)) {
    cli_error("bank %s was created, but not flagged for review: %s", a->pos[0], err.message);
    return CLI_PARTIAL;
  }
  printf("created bank %s%s\n", a->pos[0], a->review ? " (its matches open review cases)" : "");
  return CLI_OK;
}

static json_t *bank_json(const vigil_bank_info *b) {
  return json_pack("{s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "name", b->name, "description", b->description,
                   "enabled", b->enabled, "review", review_of(b->name), "active", (json_int_t)b->active, "removed",
                   (json_int_t)b->removed, "pdq", (json_int_t)b->by_type[VIGIL_SIGNAL_PDQ], "md5",
                   (json_int_t)b->by_type[VIGIL_SIGNAL_MD5], "sha256", (json_int_t)b->by_type[VIGIL_SIGNAL_SHA256],
                   "video_md5", (json_int_t)b->by_type[VIGIL_SIGNAL_VIDEO_MD5], "vpdq",
                   (json_int_t)b->by_type[VIGIL_SIGNAL_VPDQ]);
}

static void print_json(json_t *o) {
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  if (s) puts(s);
  free(s);
  json_decref(o);
}

static int json_format(const args *a, int *json) {
  *json = 0;
  if (!a->format || !strcmp(a->format, "text")) return 1;
  if (!strcmp(a->format, "json")) return *json = 1;
  cli_error("--format: expected text or json, got '%s'", a->format);
  return 0;
}

static void print_banks(const vigil_bank_info *v, size_t n, int json, int header) {
  if (!json && header)
    printf("%-24s %-8s %-6s %10s %10s %10s %10s %10s %10s  %s\n", "bank", "state", "review", "active", "removed", "pdq",
           "md5", "sha256", "vpdq", "description");
  for (size_t i = 0; i < n; i++) {
    const vigil_bank_info *b = &v[i];
    if (json) print_json(bank_json(b));
    else
      printf("%-24s %-8s %-6s %10llu %10llu %10llu %10llu %10llu %10llu  %s\n", b->name,
             b->enabled ? "enabled" : "disabled", review_of(b->name) ? "yes" : "no", (unsigned long long)b->active,
             (unsigned long long)b->removed, (unsigned long long)b->by_type[VIGIL_SIGNAL_PDQ],
             (unsigned long long)b->by_type[VIGIL_SIGNAL_MD5], (unsigned long long)b->by_type[VIGIL_SIGNAL_SHA256],
             (unsigned long long)b->by_type[VIGIL_SIGNAL_VPDQ], b->description);
  }
}

static int bank_list(args *a, vigil_bank_store *st) {
  int json;
  if (!need_pos(a, 0, 0, "list") || !json_format(a, &json)) return CLI_USAGE;
  vigil_bank_info *v;
  size_t n;
  vigil_error err;
  if (vigil_bank_list(st, &v, &n, &err)) {
    cli_error("%s", err.message);
    return CLI_USAGE;
  }
  print_banks(v, n, json, 1);
  free(v);
  return CLI_OK;
}

static int bank_stats(args *a, vigil_bank_store *st) {
  int json;
  if (!need_pos(a, 0, 1, "stats") || !json_format(a, &json)) return CLI_USAGE;
  vigil_error err;
  if (a->npos == 1) {
    vigil_bank_info b;
    if (vigil_bank_get(st, a->pos[0], &b, &err)) {
      cli_error("%s", err.message);
      return CLI_USAGE;
    }
    print_banks(&b, 1, json, 1);
    return CLI_OK;
  }
  vigil_bank_info *v, total;
  size_t n;
  if (vigil_bank_list(st, &v, &n, &err)) {
    cli_error("%s", err.message);
    return CLI_USAGE;
  }
  memset(&total, 0, sizeof total);
  snprintf(total.name, sizeof total.name, "(all)");
  snprintf(total.description, sizeof total.description, "%zu banks", n);
  for (size_t i = 0; i < n; i++) {
    total.enabled |= v[i].enabled;
    total.active += v[i].active;
    total.removed += v[i].removed;
    for (int t = 0; t < VIGIL_SIGNAL_COUNT; t++) total.by_type[t] += v[i].by_type[t];
  }
  print_banks(v, n, json, 1);
  if (json) print_json(bank_json(&total));
  else print_banks(&total, 1, 0, n == 0);
  free(v);
  return CLI_OK;
}

static int bank_drop(args *a, vigil_bank_store *st) {
  if (!need_pos(a, 1, 1, "drop")) return CLI_USAGE;
  vigil_error err;
  vigil_bank_info b;
  if (vigil_bank_get(st, a->pos[0], &b, &err)) {
    cli_error("%s", err.message);
    return CLI_PARTIAL;
  }
  if (b.active + b.removed > 0 && !a->yes) {
    cli_error("bank %s has %llu entries: add --yes to delete them with the bank", b.name,
              (unsigned long long)(b.active + b.removed));
    return CLI_USAGE;
  }
  if (vigil_bank_drop(st, a->pos[0], &err)) {
    cli_error("%s", err.message);
    return CLI_PARTIAL;
  }
  printf("dropped bank %s (%llu entries)\n", b.name, (unsigned long long)(b.active + b.removed));
  return CLI_OK;
}

static int bank_enable(args *a, vigil_bank_store *st, int on) {
  if (!need_pos(a, 1, 1, on ? "enable" : "disable")) return CLI_USAGE;
  vigil_error err;
  if (vigil_bank_set_enabled(st, a->pos[0], on, &err)) {
    cli_error("%s", err.message);
    return CLI_PARTIAL;
  }
  printf("%s bank %s\n", on ? "enabled" : "disabled", a->pos[0]);
  return CLI_OK;
}

static int format_for(const char *fmt, const char *path) {
  if (fmt) return vigil_bank_format_from_name(fmt);
  const char *dot = strrchr(path, '.');
  if (dot && (!strcmp(dot, ".jsonl") || !strcmp(dot, ".json"))) return VIGIL_BANK_FMT_JSONL;
  if (dot && (!strcmp(dot, ".txt") || !strcmp(dot, ".te"))) return VIGIL_BANK_FMT_TE;
  if (dot && !strcmp(dot, ".vpdq")) return VIGIL_BANK_FMT_VPDQ;
  return VIGIL_BANK_FMT_CSV;
}

/* Joins --tag values with commas into buf; 0 if they do not fit. */
static int join_tags(const cli_strvec *t, char *buf, size_t cap) {
  size_t o = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < t->n; i++) {
    int k = snprintf(buf + o, cap - o, "%s%s", o ? "," : "", t->v[i]);
    if (k < 0 || (size_t)k >= cap - o) return 0;
    o += (size_t)k;
  }
  return 1;
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static int bank_import(args *a, vigil_bank_store *st) {
  if (a->npos < 2) {
    cli_error("bank import: give a bank name and at least one file (or -)");
    return CLI_USAGE;
  }
  if (a->format && vigil_bank_format_from_name(a->format) < 0) {
    cli_error("--format: expected csv, te, jsonl or vpdq, got '%s'", a->format);
    return CLI_USAGE;
  }
  char tags[2048];
  if (!join_tags(&a->tags, tags, sizeof tags)) {
    cli_error("--tag: too many tags");
    return CLI_USAGE;
  }
  const char *bank = a->pos[0];
  vigil_error err;
  vigil_bank_info info;
  if (vigil_bank_get(st, bank, &info, &err)) {
    if (err.code != VIGIL_ENOTFOUND || !a->create) {
      cli_error("%s%s", err.message, err.code == VIGIL_ENOTFOUND ? " (create it, or add --create)" : "");
      return CLI_USAGE;
    }
    if (vigil_bank_create(st, bank, NULL, &err)) {
      cli_error("%s", err.message);
      return CLI_USAGE;
    }
  }
  int failed = 0;
  for (int i = 1; i < a->npos; i++) {
    const char *path = a->pos[i];
    int stdin_in = !strcmp(path, "-");
    FILE *f = stdin_in ? stdin : fopen(path, "rb");
    if (!f) {
      cli_error("%s: cannot open: %s", path, strerror(errno));
      failed++;
      continue;
    }
    vigil_bank_import_opts o;
    vigil_bank_import_opts_default(&o);
    o.format = (vigil_bank_format)format_for(a->format, stdin_in ? "" : path);
    o.skip_bad = a->skip_bad;
    o.batch = a->batch > 0 ? (uint64_t)a->batch : 0;
    o.source = a->source;
    o.tags = tags[0] ? tags : NULL;
    o.external_id = a->id ? a->id : stdin_in ? NULL : base_name(path);
    vigil_bank_import_report rep;
    /* a long import draws its progress on a terminal (progress.c) */
    cli_progress prog;
    cli_progress_start(&prog, "lines imported", cli_progress_wanted() ? cli_count_lines(path) : 0);
    FILE *in = cli_progress_wrap(f, &prog);
    int rc = vigil_bank_import(st, bank, in, &o, &rep, &err);
    cli_progress_step(&prog, 0, (size_t)rep.bad);
    cli_progress_end(&prog);
    if (in != f) fclose(in);
    if (!stdin_in) fclose(f);
    for (size_t k = 0; k < rep.nerrors; k++)
      cli_error("%s:%llu: %s", path, (unsigned long long)rep.errors[k].line, rep.errors[k].message);
    if (rep.bad > rep.nerrors)
      cli_error("%s: ... and %llu more bad lines", path, (unsigned long long)(rep.bad - rep.nerrors));
    if (rc) cli_error("%s: %s", path, err.message);
    if (rc == VIGIL_OK || rep.committed)
      printf("%s: %llu lines, %llu added, %llu existing, %llu removed, %llu bad%s\n", path,
             (unsigned long long)rep.lines, (unsigned long long)rep.added, (unsigned long long)rep.existing,
             (unsigned long long)rep.removed, (unsigned long long)rep.bad, rc ? " (incomplete)" : "");
    if (rc || rep.bad) failed++;
    vigil_bank_import_report_free(&rep);
  }
  return failed ? CLI_PARTIAL : CLI_OK;
}

static int bank_export(args *a, vigil_bank_store *st) {
  if (a->all ? !need_pos(a, 0, 0, "export") : !need_pos(a, 1, 1, "export")) return CLI_USAGE;
  int fmt = vigil_bank_format_from_name(a->format ? a->format : "csv");
  if (fmt == VIGIL_BANK_FMT_VPDQ) {
    cli_error("--format vpdq holds one video; export a bank as csv, te or jsonl");
    return CLI_USAGE;
  }
  if (fmt < 0) {
    cli_error("--format: expected csv, te or jsonl, got '%s'", a->format);
    return CLI_USAGE;
  }
  /* the entries the service's reviewers disputed are marked in JSON Lines */
  vigil_error err;
  vigil_bank_export_opts o;
  vigil_bank_export_opts_default(&o);
  o.format = (vigil_bank_format)fmt;
  o.active_only = a->active;
  o.mark_disputed = service != NULL;
  uint64_t *ids = NULL;
  if (service && vigil_server_disputed_entries(service, a->all ? NULL : a->pos[0], &ids, &o.ndisputed, &err)) {
    cli_error("%s", err.message);
    return CLI_USAGE;
  }
  o.disputed = ids;
  FILE *out = stdout;
  if (a->output && strcmp(a->output, "-") && !(out = fopen(a->output, "wb"))) {
    cli_error("%s: cannot create", a->output);
    free(ids);
    return CLI_USAGE;
  }
  int rc = vigil_bank_export_with(st, a->all ? NULL : a->pos[0], out, &o, &err);
  free(ids);
  int close_failed = out != stdout && fclose(out) != 0;
  if (rc || close_failed) {
    cli_error("%s", rc ? err.message : "write error");
    return CLI_USAGE;
  }
  return CLI_OK;
}

/* TYPE VALUE arguments into t and value. */
static int parse_signal(const char *type, const char *hex, vigil_signal_type *t, uint8_t *value) {
  *t = vigil_signal_from_name(type, strlen(type));
  if (!vigil_signal_value_len(*t)) {
    cli_error("unknown signal type '%s' (expected pdq, md5, sha256, vpdq or video_md5)", type);
    return 0;
  }
  vigil_error err;
  if (*t == VIGIL_SIGNAL_VPDQ && hex[0] == '[') {
    cli_error("a vpdq list identifies an entry by its value, 64 hex digits (vigil bank export shows it)");
    return 0;
  }
  if (vigil_signal_parse(*t, hex, strlen(hex), value, &err)) {
    cli_error("%s", err.message);
    return 0;
  }
  return 1;
}

static int copy_field(char *dst, size_t cap, const char *src, const char *what) {
  if (!src) return 1;
  if (strlen(src) >= cap) {
    cli_error("%s: longer than %zu bytes", what, cap - 1);
    return 0;
  }
  memcpy(dst, src, strlen(src) + 1);
  return 1;
}

/* Puts e (its bank, type, value and frames set) with the common fields of
 * the options; prints the outcome. */
static int add_common(args *a, vigil_bank_store *st, vigil_bank_entry *e, const char *extid, const char *what) {
  char tags[2048];
  if (!copy_field(e->external_id, sizeof e->external_id, extid, "--id") ||
      !copy_field(e->source, sizeof e->source, a->source, "--source") || !join_tags(&a->tags, tags, sizeof tags) ||
      !copy_field(e->tags, sizeof e->tags, tags, "--tag"))
    return CLI_USAGE;
  vigil_error err;
  int added;
  if (vigil_bank_add(st, e, &added, &err)) {
    cli_error("%s%s", what, err.message);
    return CLI_PARTIAL;
  }
  char hex[2 * VIGIL_BANK_VALUE_MAX + 1];
  vigil_signal_to_hex(e->value, e->value_len, hex);
  if (e->type == VIGIL_SIGNAL_VPDQ)
    printf("%s%s entry %llu (vpdq %s, %zu frames)\n", what, added ? "added" : "already present:",
           (unsigned long long)e->id, hex, e->nframes);
  else printf("%s%s entry %llu\n", what, added ? "added" : "already present:", (unsigned long long)e->id);
  return CLI_OK;
}

/* add NAME --video FILE...: each video hashed (vPDQ, one frame a second,
 * and the MD5 of its bytes) and added as a vpdq and a video_md5 entry. */
static int bank_add_videos(args *a, vigil_bank_store *st) {
  if (a->npos < 2) {
    cli_error("bank add --video: give a bank name and at least one video file");
    return CLI_USAGE;
  }
  if (a->id && a->npos > 2) {
    cli_error("bank add --video: --id names one video; with several the file names are their ids");
    return CLI_USAGE;
  }
  vigil_bank_entry *e = calloc(1, sizeof *e);
  if (!e) {
    cli_error("out of memory");
    return CLI_USAGE;
  }
  int failed = 0, usage = 0;
  for (int i = 1; i < a->npos && !usage; i++) {
    const char *path = a->pos[i];
    char what[4200];
    snprintf(what, sizeof what, "%s: ", path);
    vigil_video_frame *fr = NULL;
    size_t n = 0;
    vigil_video_info info;
    vigil_error err;
    if (vigil_video_hash_all(path, NULL, &fr, &n, &info, &err)) {
      cli_error("%s: not added: %s", path, err.message);
      failed++;
      continue;
    }
    const char *extid = a->id ? a->id : base_name(path);
    memset(e, 0, sizeof *e);
    int rc = copy_field(e->bank, sizeof e->bank, a->pos[0], "bank name") ? CLI_OK : CLI_USAGE;
    if (rc == CLI_OK && n == 0) {
      cli_error("%s: no frames were hashed: only its video_md5 is added", path);
      failed++;
    } else if (rc == CLI_OK) {
      e->type = VIGIL_SIGNAL_VPDQ;
      e->frames = fr;
      e->nframes = n;
      rc = add_common(a, st, e, extid, what);
    }
    if (rc != CLI_USAGE) {
      int rc2;
      memset(e, 0, sizeof *e);
      copy_field(e->bank, sizeof e->bank, a->pos[0], "bank name");
      e->type = VIGIL_SIGNAL_VIDEO_MD5;
      e->value_len = 16;
      if (vigil_signal_parse(VIGIL_SIGNAL_VIDEO_MD5, info.md5, 32, e->value, &err)) {
        cli_error("%s: %s", path, err.message);
        rc2 = CLI_PARTIAL;
      } else {
        rc2 = add_common(a, st, e, extid, what);
      }
      if (rc == CLI_OK) rc = rc2;
    }
    vigil_video_frames_free(fr);
    if (rc == CLI_USAGE) usage = 1;
    else if (rc) failed++;
  }
  free(e);
  return usage ? CLI_USAGE : failed ? CLI_PARTIAL : CLI_OK;
}

static int bank_add(args *a, vigil_bank_store *st) {
  if (a->video) return bank_add_videos(a, st);
  if (!need_pos(a, 3, 3, "add")) return CLI_USAGE;
  if (!strcmp(a->pos[1], "vpdq") && a->pos[2][0] == '[') { /* python-threatexchange's list */
    vigil_bank_entry *e = calloc(1, sizeof *e);
    vigil_video_frame *fr = NULL;
    size_t n = 0;
    vigil_error err;
    int rc = CLI_USAGE;
    if (!e) cli_error("out of memory");
    else if (vigil_vpdq_from_te(a->pos[2], strlen(a->pos[2]), &fr, &n, &err)) cli_error("%s", err.message);
    else if (copy_field(e->bank, sizeof e->bank, a->pos[0], "bank name")) {
      e->type = VIGIL_SIGNAL_VPDQ;
      e->frames = fr;
      e->nframes = n;
      rc = add_common(a, st, e, a->id, "");
      if (rc == CLI_PARTIAL) rc = CLI_USAGE;
    }
    vigil_video_frames_free(fr);
    free(e);
    return rc;
  }
  vigil_bank_entry *e = calloc(1, sizeof *e);
  if (!e) {
    cli_error("out of memory");
    return CLI_USAGE;
  }
  int rc = CLI_USAGE;
  char tags[2048];
  if (!copy_field(e->bank, sizeof e->bank, a->pos[0], "bank name") ||
      !parse_signal(a->pos[1], a->pos[2], &e->type, e->value) ||
      !copy_field(e->external_id, sizeof e->external_id, a->id, "--id") ||
      !copy_field(e->source, sizeof e->source, a->source, "--source") || !join_tags(&a->tags, tags, sizeof tags) ||
      !copy_field(e->tags, sizeof e->tags, tags, "--tag"))
    goto done;
  e->value_len = vigil_signal_value_len(e->type);
  vigil_error err;
  int added;
  if (vigil_bank_add(st, e, &added, &err)) {
    cli_error("%s", err.message);
    goto done;
  }
  printf("%s entry %llu\n", added ? "added" : "already present:", (unsigned long long)e->id);
  rc = CLI_OK;
done:
  free(e);
  return rc;
}

static int bank_remove(args *a, vigil_bank_store *st) {
  vigil_error err;
  int rc;
  if (a->id) {
    if (!need_pos(a, 0, 0, "remove --id")) return CLI_USAGE;
    char *end;
    unsigned long long id = strtoull(a->id, &end, 10);
    if (!*a->id || *end || a->id[0] == '-') {
      cli_error("--id: expected an entry id, got '%s'", a->id);
      return CLI_USAGE;
    }
    rc = vigil_bank_remove_id(st, id, a->reason, &err);
  } else {
    if (!need_pos(a, 3, 3, "remove")) return CLI_USAGE;
    vigil_signal_type t;
    uint8_t value[VIGIL_BANK_VALUE_MAX];
    if (!parse_signal(a->pos[1], a->pos[2], &t, value)) return CLI_USAGE;
    rc = vigil_bank_remove(st, a->pos[0], t, value, a->reason, &err);
  }
  if (rc) {
    cli_error("%s", err.message);
    return rc == VIGIL_ENOTFOUND ? CLI_PARTIAL : CLI_USAGE;
  }
  printf("removed\n");
  return CLI_OK;
}

int cmd_bank(int argc, char **argv) {
  /* options before the subcommand: --db, --help */
  const char *db = NULL;
  int i = 1;
  while (i < argc && argv[i][0] == '-') {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(bank_help, stdout);
      return CLI_OK;
    } else if (!strcmp(argv[i], "--db") && i + 1 < argc) {
      db = argv[i + 1];
      i += 2;
    } else if (!strncmp(argv[i], "--db=", 5)) {
      db = argv[i] + 5;
      i++;
    } else {
      cli_error("bank: unknown option '%s'", argv[i]);
      fputs(bank_help, stderr);
      return CLI_USAGE;
    }
  }
  if (i >= argc) {
    cli_error("bank: no command given");
    fputs(bank_help, stderr);
    return CLI_USAGE;
  }
  static const char *const subs[] = {"create", "list", "drop", "import", "export", "add",
                                     "remove", "stats", "enable", "disable"};
  const char *sub = argv[i];
  size_t k = 0;
  while (k < sizeof subs / sizeof subs[0] && strcmp(subs[k], sub)) k++;
  if (k == sizeof subs / sizeof subs[0]) {
    cli_error("bank: unknown command '%s' (see 'vigil bank --help')", sub);
    return CLI_USAGE;
  }
  args a;
  memset(&a, 0, sizeof a);
  a.db = db;
  int rc = parse_args(argc - i, argv + i, &a);
  if (rc) {
    free(a.tags.v);
    return rc < 0 ? CLI_OK : rc;
  }
  if (strcmp(sub, "create") != 0 && cli_store_missing(a.db ? a.db : cli_default_db())) {
    free(a.tags.v);
    return CLI_USAGE;
  }
  vigil_bank_store *st = open_store(a.db ? a.db : cli_default_db());
  if (!st) {
    free(a.tags.v);
    return CLI_USAGE;
  }
  /* Changes, and exports (a whole bank leaving), go to the service's audit
   * log as "cli:<user>", recorded before they run so that none happens
   * unrecorded; one that then fails gets a second row with status 500. */
  static const char *const actions[] = {"banks.create", NULL,          "banks.drop",   "banks.import", "banks.export",
                                        "banks.add",    "banks.remove", NULL,          "banks.update", "banks.update"};
  vigil_server_store *audit = NULL;
  const char *target = a.npos > 0 ? a.pos[0] : a.id;
  {
    vigil_error err;
    int arc = vigil_server_store_open(&audit, a.db ? a.db : cli_default_db(), &err);
    if (arc) {
      cli_error("bank %s: %s", sub, err.message);
      vigil_bank_store_close(st);
      free(a.tags.v);
      return CLI_USAGE;
    }
    service = audit;
  }
  if (actions[k]) {
    vigil_error err;
    json_t *d = json_pack("{s:s}", "command", sub);
    char *dj = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    int arc = vigil_server_store_set_actor(audit, cli_actor(), &err);
    if (!arc) arc = vigil_server_audit_record(audit, actions[k], target, 200, dj, &err);
    free(dj);
    if (arc) {
      cli_error("bank %s: the audit log cannot be written, nothing done: %s", sub, err.message);
      vigil_server_store_close(audit);
      vigil_bank_store_close(st);
      free(a.tags.v);
      return CLI_USAGE;
    }
  }
  switch (k) {
  case 0: rc = bank_create(&a, st); break;
  case 1: rc = bank_list(&a, st); break;
  case 2: rc = bank_drop(&a, st); break;
  case 3: rc = bank_import(&a, st); break;
  case 4: rc = bank_export(&a, st); break;
  case 5: rc = bank_add(&a, st); break;
  case 6: rc = bank_remove(&a, st); break;
  case 7: rc = bank_stats(&a, st); break;
  case 8: rc = bank_enable(&a, st, 1); break;
  default: rc = bank_enable(&a, st, 0); break;
  }
  if (fflush(stdout) != 0 && rc == CLI_OK) rc = CLI_PARTIAL;
  if (audit && actions[k] && rc != CLI_OK) {
    vigil_error err;
    if (vigil_server_audit_record(audit, actions[k], target, 500, "{\"failed\":true}", &err))
      cli_error("bank %s: could not record its failure in the audit log: %s", sub, err.message);
  }
  vigil_server_store_close(audit);
  service = NULL;
  vigil_bank_store_close(st);
  free(a.tags.v);
  return rc;
}
