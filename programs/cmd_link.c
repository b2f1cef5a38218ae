/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_link.c - `vigil link`: group ads into the operations behind them.
 *
 * Reads JSON Lines ads, links them by shared identifiers and templates,
 * and writes to --out DIR: groups.json, graph.graphml, graph.dot,
 * report.html and state.db (what `--add` needs to add more ads later
 * without reprocessing these).  A summary line goes to stdout; on a
 * terminal a progress line (ads read of the inputs' lines, rate, ETA,
 * bad lines so far) is drawn on stderr, stepped from the linker's
 * cancellation poll, which it calls every batch and every 1024 ads.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil/network.h"

static const char link_help[] =
    "usage: vigil link [options] --out DIR ADS.jsonl... | -\n"
    "\n"
    "Link ads into groups by shared identifiers (phones, e-mails, handles, image\n"
    "PDQ hashes) and shared text templates; rank the groups by risk.  Each input\n"
    "line is a JSON object with \"id\" and \"text\" or \"title\"/\"body\"; optional\n"
    "\"posted_at\", \"location\", \"url\", \"images\" (PDQ hex), \"phones\"/\"emails\"/\n"
    "\"handles\" (used instead of extraction), \"score\" (indicator score 0..1).\n"
    "\n"
    "Writes DIR/groups.json, DIR/graph.graphml, DIR/graph.dot, DIR/report.html\n"
    "and DIR/state.db.\n"
    "\n"
    "options:\n"
    "  --out DIR          output directory (created if missing; required)\n"
    "  --add              add the inputs to the run saved in DIR (incremental)\n"
    "  --phones           link by shared identifiers (default: both kinds)\n"
    "  --templates        link by shared templates (default: both kinds)\n"
    "  --min-size N       report groups of at least N ads (default 2)\n"
    "  --jaccard X        template link threshold, 0 < X <= 1 (default 0.5)\n"
    "  --hub-groups N     an identifier touching N separate groups is a hub (default 3)\n"
    "  --hub-max N        an identifier on more than N ads is a hub (default 1000, 0 off)\n"
    "  -j, --jobs N       worker threads (default 2)\n"
    "  -q, --quiet        no summary on stdout\n"
    "  -h, --help         this text\n"
    "\n"
    "Exit status: 0 all read, 1 some inputs or lines failed (reported on stderr),\n"
    "2 usage or nothing could be done.\n";

static char *join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/* The progress of adding ads: lines of inputs already read (base), plus
 * the ads the linker has taken from the one being read. */
typedef struct link_progress {
  cli_progress p;
  vigil_linker *l; /* NULL until made */
  size_t ads_before, base;
} link_progress;

static int link_poll(void *arg) {
  link_progress *lp = arg;
  if (lp->l && lp->p.on) {
    size_t now = lp->base + (vigil_linker_ad_count(lp->l) - lp->ads_before);
    if (now > lp->p.done) cli_progress_step(&lp->p, now - lp->p.done, 0);
  }
  return 0; /* never cancels */
}

static int write_all(vigil_linker *l, const char *dir, vigil_error *err) {
  static const char *const names[] = {"groups.json", "graph.graphml", "graph.dot", "report.html"};
  int (*const fns[])(const vigil_linker *, const char *, vigil_error *) = {
      vigil_linker_write_json, vigil_linker_write_graphml, vigil_linker_write_dot, vigil_linker_write_html};
  for (int i = 0; i < 4; i++) {
    char *p = join(dir, names[i]);
    int rc = p ? fns[i](l, p, err) : VIGIL_ENOMEM;
    free(p);
    if (rc) return rc;
  }
  return VIGIL_OK;
}

int cmd_link(int argc, char **argv) {
  static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
                                       {"add", no_argument, NULL, 'a'},
                                       {"phones", no_argument, NULL, 'p'},
                                       {"templates", no_argument, NULL, 't'},
                                       {"min-size", required_argument, NULL, 'm'},
                                       {"jaccard", required_argument, NULL, 'J'},
                                       {"hub-groups", required_argument, NULL, 'G'},
                                       {"hub-max", required_argument, NULL, 'M'},
                                       {"jobs", required_argument, NULL, 'j'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  vigil_link_opts o;
  vigil_link_opts_init(&o);
  const char *out = NULL;
  int add = 0, phones = 0, templates = 0, quiet = 0, c;
  long v;
  optind = 1;
  while ((c = getopt_long(argc, argv, "j:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case 'a': add = 1; break;
    case 'p': phones = 1; break;
    case 't': templates = 1; break;
    case 'q': quiet = 1; break;
    case 'm':
      if ((v = cli_parse_long("--min-size", optarg, 1, 1000000000)) < 0) return CLI_USAGE;
      o.min_size = (int)v;
      break;
    case 'G':
      if ((v = cli_parse_long("--hub-groups", optarg, 2, 1000000)) < 0) return CLI_USAGE;
      o.hub_min_groups = (int)v;
      break;
    case 'M':
      if ((v = cli_parse_long("--hub-max", optarg, 0, 1000000000)) < 0) return CLI_USAGE;
      o.hub_max_degree = (int)v;
      break;
    case 'j':
      if ((v = cli_parse_long("--jobs", optarg, 1, 256)) < 0) return CLI_USAGE;
      o.threads = (int)v;
      break;
    case 'J': {
      char *end;
      errno = 0;
      double j = strtod(optarg, &end);
      if (errno || *end || !(j > 0 && j <= 1)) {
        cli_error("--jaccard: expected a number in (0, 1], got '%s'", optarg);
        return CLI_USAGE;
      }
      o.jaccard = j;
      break;
    }
    case 'h': fputs(link_help, stdout); return CLI_OK;
    default: fputs(link_help, stderr); return CLI_USAGE;
    }
  }
  if (!out) {
    cli_error("link: --out DIR is required (see 'vigil link --help')");
    return CLI_USAGE;
  }
  if (optind >= argc && !add) {
    cli_error("link: no input files (see 'vigil link --help')");
    return CLI_USAGE;
  }
  if (phones || templates) {
    o.use_identifiers = phones;
    o.use_templates = templates;
  }
  if (mkdir(out, 0777) != 0 && errno != EEXIST) {
    cli_error("%s: %s", out, strerror(errno));
    return CLI_USAGE;
  }
  char *state = join(out, "state.db");
  if (!state) {
    cli_error("out of memory");
    return CLI_USAGE;
  }
  vigil_error err;
  vigil_error_clear(&err);
  vigil_linker *l = NULL;
  int status = CLI_OK;
  link_progress lp;
  memset(&lp, 0, sizeof lp);
  size_t lines = 0, *counts = cli_progress_wanted() ? calloc((size_t)argc, sizeof *counts) : NULL;
  for (int i = optind; i < argc && counts; i++) lines += counts[i] = cli_count_lines(argv[i]);
  cli_progress_start(&lp.p, "ads read", lines);
  if (lp.p.on) {
    o.cancelled = link_poll;
    o.cancel_arg = &lp;
  }
  if (vigil_linker_new(&l, &o, &err)) {
    cli_error("%s", err.message);
    free(state);
    free(counts);
    return CLI_USAGE;
  }
  if (add) {
    if (access(state, R_OK) != 0) {
      cli_error("%s: no saved run to add to (%s)", state, strerror(errno));
      status = CLI_USAGE;
    } else if (vigil_linker_load(l, state, &err)) {
      cli_error("%s", err.message);
      status = CLI_USAGE;
    }
  } else {
    /* a fresh run replaces any saved one */
    static const char *const sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
      char *p = malloc(strlen(state) + 5);
      if (p) {
        snprintf(p, strlen(state) + 5, "%s%s", state, sfx[i]);
        unlink(p);
      }
      free(p);
    }
  }
  size_t before = vigil_linker_ad_count(l), total_bad = 0;
  for (int i = optind; i < argc && status != CLI_USAGE; i++) {
    size_t bad = 0;
    vigil_error_clear(&err);
    lp.ads_before = vigil_linker_ad_count(l);
    lp.l = l;
    int rc = vigil_linker_add_file(l, argv[i], &bad, &err);
    lp.l = NULL;
    lp.base += counts ? counts[i] : 0; /* read whole, good or bad */
    if (lp.p.on && lp.base > lp.p.done) cli_progress_step(&lp.p, lp.base - lp.p.done, bad);
    else if (lp.p.on) cli_progress_step(&lp.p, 0, bad);
    if (lp.p.on && (rc || bad)) fputc('\n', stderr); /* the message below its own line */
    if (rc) {
      cli_error("%s", err.message);
      if (rc == VIGIL_ENOMEM) status = CLI_USAGE;
      else status = CLI_PARTIAL;
    } else if (bad) {
      cli_error("%s (%zu bad lines skipped)", err.message, bad);
      total_bad += bad;
      status = CLI_PARTIAL;
    }
  }
  cli_progress_end(&lp.p);
  if (status != CLI_USAGE) {
    vigil_error_clear(&err);
    if (vigil_linker_group(l, &err) || write_all(l, out, &err) || vigil_linker_save(l, state, &err)) {
      cli_error("%s", err.message);
      status = CLI_USAGE;
    } else if (!quiet) {
      size_t grouped = 0;
      for (size_t g = 0; g < vigil_linker_group_count(l); g++) grouped += vigil_linker_group_get(l, g)->n_ads;
      printf("%zu ads (%zu new, %zu bad lines), %zu groups holding %zu ads; wrote %s/report.html\n",
             vigil_linker_ad_count(l), vigil_linker_ad_count(l) - before, total_bad, vigil_linker_group_count(l),
             grouped, out);
    }
  }
  vigil_linker_free(l);
  free(state);
  free(counts);
  return status;
}
