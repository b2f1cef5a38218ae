/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_hash.c - `vigil hash`: PDQ hashes of image files and vPDQ hashes of
 * videos, in parallel.
 *
 * Each input's kind is decided by its content (vigil_video_sniff on its first
 * bytes), never by its name.  A video is decoded in vigil's sandboxed worker
 * (docs/video.md); its frame hashes are kept until its turn to be printed.
 *
 * Inputs are expanded first (directories with -r, sorted by name), then
 * worker threads take them one at a time while the main thread prints the
 * results strictly in input order, so output is deterministic for any -j.
 */
#include "cli.h"

#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "vigil/media.h"
#include "vigil/video.h"

static const char hash_help[] =
    "usage: vigil hash [options] PATH... | -\n"
    "\n"
    "Compute the PDQ hash and quality of each image (JPEG, PNG, WebP, GIF, BMP)\n"
    "and the vPDQ frame hashes, MD5 and SHA-256 of each video (MP4/MOV, MKV/WebM,\n"
    "AVI, MPEG-TS, FLV, 3GP, ...); the kind is detected from the content.  '-'\n"
    "reads one image from stdin.\n"
    "\n"
    "options:\n"
    "  --mode fullres|cli  fullres (default): hash the full-resolution picture, as\n"
    "                      python-threatexchange and HMA do; cli: as the reference\n"
    "                      pdq-photo-hasher (pictures over 512 px resized to 512x512)\n"
    "  --dihedral          also print the 7 rotated/flipped variants\n"
    "  --fast              decode JPEG at reduced scale: faster, approximate hashes\n"
    "  --format csv|json|te|vpdq\n"
    "                      csv (default): hash,quality,path (videos: one line per\n"
    "                      hashed frame, hash,quality,path,frame,timestamp)\n"
    "                      json: one object per input, with md5 and sha256;\n"
    "                      te: threatexchange lines (pdq, md5, sha256; videos\n"
    "                      also video_md5 and vpdq) that\n"
    "                      `vigil bank import --format te` reads; vpdq: a video's\n"
    "                      lines as the reference vpdq-hash-video writes them\n"
    "                      (videos only; a GIF's frames are hashed as a video's)\n"
    "  --seconds-per-hash S  videos: hash one frame every S seconds (default 1;\n"
    "                      0: every frame)\n"
    "  --downsample WxH    videos: hash frames scaled to WxH (default: native size)\n"
    "  --flush-all         videos: output the decoder's last frames even where the\n"
    "                      reference loses them (audio-first files; see docs/video.md)\n"
    "  --threads N         videos: decoder threads for each video (default 1), and\n"
    "                      above 1 a hashing thread beside them; the output is the same\n"
    "  -j, --jobs N        hash N files at a time (default: number of CPUs)\n"
    "  -r, --recursive     descend into directories\n"
    "  --max-pixels N      refuse pictures larger than N pixels (default 100000000)\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 all hashed, 1 some inputs failed (reported on stderr), 2 usage.\n";

typedef struct item {
  char *path;
  int done, rc;
  char md5[33], sha256[65]; /* of the file's bytes; "" when not computed (stdin, a read error) */
  vigil_pdq_result res;
  vigil_image_info info;
  vigil_error err;
  int is_video;
  vigil_video_frame *frames;
  size_t nframes;
  vigil_video_info vinfo;
} item;

typedef struct job {
  item *items;
  size_t n, next, done_count;
  vigil_hash_opts opts;
  vigil_video_opts vopts;
  int video_progress; /* a progress line on stderr (a terminal, one file at a time) */
  int videos_only;    /* --format vpdq: a GIF is hashed as a video (as the reference does), other pictures fail */
  pthread_mutex_t mu;
  pthread_cond_t cv;
} job;

typedef struct pathlist {
  char **v;
  size_t n, cap;
} pathlist;

static int push_path(pathlist *l, const char *p) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    char **nv = realloc(l->v, cap * sizeof *nv);
    if (!nv) return -1;
    l->v = nv;
    l->cap = cap;
  }
  if (!(l->v[l->n] = strdup(p))) return -1;
  l->n++;
  return 0;
}

/* Directories already walked under -r, by device and inode: a symlink
 * loop (ln -s . x) or two links to one tree would otherwise be walked
 * again and again, each level multiplying the paths. */
typedef struct seen_dirs {
  struct {
    dev_t dev;
    ino_t ino;
  } *v;
  size_t n, cap;
} seen_dirs;

/* 1 if (dev, ino) was seen before; otherwise records it.  -1: no memory. */
static int seen_before(seen_dirs *s, const struct stat *st) {
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].dev == st->st_dev && s->v[i].ino == st->st_ino) return 1;
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 64;
    void *nv = realloc(s->v, cap * sizeof *s->v);
    if (!nv) return -1;
    s->v = nv;
    s->cap = cap;
  }
  s->v[s->n].dev = st->st_dev;
  s->v[s->n].ino = st->st_ino;
  s->n++;
  return 0;
}

static int expand(pathlist *l, seen_dirs *seen, const char *path, int recursive, int depth) {
  struct stat st;
  int known = strcmp(path, "-") != 0 && stat(path, &st) == 0;
  if (known && S_ISDIR(st.st_mode)) {
    if (!recursive) return push_path(l, path); /* reported as an error later */
    int again = seen_before(seen, &st);
    if (again < 0) return -1;
    if (again) {
      cli_error("%s: skipped: a directory already walked (a symlink loop?)", path);
      return 0;
    }
    if (depth > 64) return 0;
    struct dirent **names;
    int n = scandir(path, &names, NULL, alphasort);
    if (n < 0) return push_path(l, path);
    int rc = 0;
    for (int i = 0; i < n; i++) {
      const char *nm = names[i]->d_name;
      if (rc == 0 && nm[0] != '.') {
        size_t len = strlen(path) + strlen(nm) + 2;
        char *child = malloc(len);
        if (!child) rc = -1;
        else {
          snprintf(child, len, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", nm);
          rc = expand(l, seen, child, recursive, depth + 1);
          free(child);
        }
      }
      free(names[i]);
    }
    free(names);
    return rc;
  }
  /* Inside a directory walk only regular files are pictures: a FIFO would
   * block, a device never ends.  Named on the command line, any file is
   * read (a pipe from a shell's <(...) is one), within the 256 MiB read limit. */
  if (depth > 0 && known && !S_ISREG(st.st_mode)) {
    cli_error("%s: skipped: not a regular file", path);
    return 0;
  }
  return push_path(l, path);
}

/* An input's kind, by content: the first bytes of the file (stdin is always
 * a picture).  Only a regular file is sniffed: opening a FIFO would wait
 * for a writer, and reading a pipe here would take bytes the picture path
 * then misses. */
enum { KIND_PICTURE, KIND_VIDEO, KIND_GIF };

static int input_kind(const char *path) {
  if (!strcmp(path, "-")) return KIND_PICTURE;
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return KIND_PICTURE; /* the picture path reports why it cannot be opened */
  struct stat st;
  unsigned char head[512];
  ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, head, sizeof head) : -1;
  close(fd);
  if (n > 0 && vigil_image_sniff(head, (size_t)n) == VIGIL_FMT_GIF) return KIND_GIF;
  return n > 0 && vigil_video_sniff(head, (size_t)n) ? KIND_VIDEO : KIND_PICTURE;
}

static void print_json(json_t *o) {
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  if (s) puts(s);
  else cli_error("out of memory");
  free(s);
  json_decref(o);
}

enum { FMT_CSV, FMT_JSON, FMT_VPDQ, FMT_TE };

/* 0, or -1 when a line could not be written (reported on stderr). */
static int print_video(const item *it, int fmt, int many) {
  char hex[VIGIL_PDQ_HEX_LEN + 1], line[VIGIL_VIDEO_LINE_MAX];
  if (fmt == FMT_VPDQ) {
    if (many) printf("# %s\n", it->path);
    for (size_t i = 0; i < it->nframes; i++) {
      vigil_video_format_line(&it->frames[i], line);
      puts(line);
    }
    return 0;
  }
  if (fmt == FMT_TE) { /* a video's exact digests, then its frames as python-threatexchange's vpdq signal */
    printf("# %s\nmd5 %s\nsha256 %s\nvideo_md5 %s\n", it->path, it->vinfo.md5, it->vinfo.sha256, it->vinfo.md5);
    /* no frames (nothing decodable) makes no vpdq entry: an empty list is not one */
    if (!it->nframes) return 0;
    char *te;
    vigil_error e;
    if (vigil_vpdq_to_te(it->frames, it->nframes, &te, NULL, &e)) {
      cli_error("%s: vpdq line: %s", it->path, e.message);
      return -1;
    }
    printf("vpdq %s\n", te);
    free(te);
    return 0;
  }
  if (fmt == FMT_CSV) {
    for (size_t i = 0; i < it->nframes; i++) {
      vigil_pdq_to_hex(&it->frames[i].hash, hex);
      printf("%s,%d,%s,%lld,%.3f\n", hex, it->frames[i].quality, it->path, (long long)it->frames[i].frame_number,
             it->frames[i].timestamp);
    }
    return 0;
  }
  const vigil_video_info *v = &it->vinfo;
  json_t *hashes = json_array();
  for (size_t i = 0; hashes && i < it->nframes; i++) {
    vigil_pdq_to_hex(&it->frames[i].hash, hex);
    json_array_append_new(hashes, json_pack("{s:I, s:i, s:s, s:f}", "frame", (json_int_t)it->frames[i].frame_number,
                                            "quality", it->frames[i].quality, "pdq", hex, "timestamp",
                                            it->frames[i].timestamp));
  }
  print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:f, s:I, s:f, s:I, s:o}", "path", it->path, "kind",
                       "video", "md5", v->md5, "sha256", v->sha256, "container", v->container, "codec", v->codec,
                       "width", v->width, "height", v->height, "fps", v->fps, "frames", (json_int_t)v->frames,
                       "duration", v->duration, "bytes", (json_int_t)v->bytes, "hashes", hashes));
  return 0;
}

typedef struct progress {
  const char *path;
  struct timespec start;
  int shown;
} progress;

/* "path: 1234 frames, 250 fps, 41.1 of 3600.0 s, ETA 14:10" on stderr. */
static void show_progress(void *ctx, uint64_t frames, double seconds, double total) {
  progress *p = ctx;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double el = (double)(now.tv_sec - p->start.tv_sec) + (double)(now.tv_nsec - p->start.tv_nsec) / 1e9;
  if (el < 1 || frames % 250 != 0) return; /* short videos show nothing; a few updates a second */
  double fps = (double)frames / el;
  if (total > seconds && seconds > 0) {
    double eta = el * (total - seconds) / seconds;
    fprintf(stderr, "\r%s: %llu frames, %.0f fps, %.1f of %.1f s, ETA %d:%02d   ", p->path, (unsigned long long)frames,
            fps, seconds, total, (int)(eta / 60), (int)eta % 60);
  } else {
    fprintf(stderr, "\r%s: %llu frames, %.0f fps, %.1f s   ", p->path, (unsigned long long)frames, fps, seconds);
  }
  p->shown = 1;
}

/* MD5 and SHA-256 of a file's bytes, for the formats that show them
 * (json, te): what the service and `vigil match` look up beside PDQ. */
static void file_digests(item *it) {
  it->md5[0] = it->sha256[0] = 0;
  if (!strcmp(it->path, "-")) return;
  FILE *f = fopen(it->path, "rb");
  if (!f) return;
  EVP_MD_CTX *a = EVP_MD_CTX_new(), *b = EVP_MD_CTX_new();
  int ok = a && b && EVP_DigestInit_ex(a, EVP_md5(), NULL) && EVP_DigestInit_ex(b, EVP_sha256(), NULL);
  unsigned char buf[65536];
  size_t n;
  while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0) ok = EVP_DigestUpdate(a, buf, n) && EVP_DigestUpdate(b, buf, n);
  ok = ok && !ferror(f);
  fclose(f);
  unsigned char md[32];
  unsigned int len = 0;
  static const char hx[] = "0123456789abcdef";
  if (ok && EVP_DigestFinal_ex(a, md, &len) && len == 16) {
    for (int i = 0; i < 16; i++) it->md5[2 * i] = hx[md[i] >> 4], it->md5[2 * i + 1] = hx[md[i] & 15];
    it->md5[32] = 0;
  }
  if (ok && EVP_DigestFinal_ex(b, md, &len) && len == 32) {
    for (int i = 0; i < 32; i++) it->sha256[2 * i] = hx[md[i] >> 4], it->sha256[2 * i + 1] = hx[md[i] & 15];
    it->sha256[64] = 0;
  }
  EVP_MD_CTX_free(a);
  EVP_MD_CTX_free(b);
}

static int want_digests;

static void *worker(void *arg) {
  job *j = arg;
  for (;;) {
    pthread_mutex_lock(&j->mu);
    size_t i = j->next++;
    pthread_mutex_unlock(&j->mu);
    if (i >= j->n) return NULL;
    item *it = &j->items[i];
    vigil_error_clear(&it->err);
    int kind = input_kind(it->path);
    it->is_video = kind == KIND_VIDEO || (kind == KIND_GIF && j->videos_only);
    if (!it->is_video && j->videos_only) {
      it->rc = it->err.code = VIGIL_EFORMAT;
      snprintf(it->err.message, sizeof it->err.message,
               "a picture, not a video: --format vpdq writes a video's frame lines (use csv, json or te)");
    } else if (it->is_video) {
      vigil_video_opts vo = j->vopts;
      progress pr = {it->path, {0, 0}, 0};
      if (j->video_progress) {
        clock_gettime(CLOCK_MONOTONIC, &pr.start);
        vo.progress = show_progress;
        vo.progress_ctx = &pr;
      }
      it->rc = vigil_video_hash_all(it->path, &vo, &it->frames, &it->nframes, &it->vinfo, &it->err);
      if (pr.shown) fputc('\n', stderr);
    }
    else
      it->rc = vigil_hash_file(it->path, &j->opts, &it->res, &it->info, &it->err);
    if (it->rc == 0 && !it->is_video && want_digests) file_digests(it);
    pthread_mutex_lock(&j->mu);
    it->done = 1;
    j->done_count++;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
  }
}

/* 0, or -1 when the item could not be written whole. */
static int print_item(const item *it, int fmt, int dihedral, int many) {
  char hex[VIGIL_PDQ_HEX_LEN + 1];
  int json = fmt == FMT_JSON;
  if (it->rc == 0 && it->is_video) {
    return print_video(it, fmt, many);
  }
  if (it->rc != 0) {
    cli_error("%s: %s", it->path, it->err.message);
    if (json) {
      json_t *o = json_pack("{s:s, s:{s:s, s:s}}", "path", it->path, "error", "code",
                            vigil_strerror(it->err.code), "message", it->err.message);
      char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
      if (s) puts(s);
      free(s);
      json_decref(o);
    }
    return 0;
  }
  if (it->info.damaged) /* hashed as a viewer shows it; say so, it may not be what was sent */
    cli_error("%s: damaged file, hashed from the %d of %d rows that decode", it->path, it->info.rows_decoded,
              it->info.height);
  if (fmt == FMT_TE) { /* threatexchange lines, as `vigil bank import --format te` reads them */
    printf("# %s\n", it->path);
    for (int v = 0; v < (dihedral ? VIGIL_DIH_COUNT : 1); v++) {
      vigil_pdq_to_hex(&it->res.hash[v], hex);
      printf("pdq %s\n", hex);
    }
    if (it->md5[0]) printf("md5 %s\n", it->md5);
    if (it->sha256[0]) printf("sha256 %s\n", it->sha256);
    return 0;
  }
  if (!json) {
    for (int v = 0; v < (dihedral ? VIGIL_DIH_COUNT : 1); v++) {
      vigil_pdq_to_hex(&it->res.hash[v], hex);
      if (dihedral) printf("%s,%d,%s,%s\n", hex, it->res.quality, it->path, vigil_dihedral_name(v));
      else printf("%s,%d,%s\n", hex, it->res.quality, it->path);
    }
    return 0;
  }
  vigil_pdq_to_hex(&it->res.hash[0], hex);
  json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:i, s:i}", "path", it->path, "pdq", hex, "quality",
                        it->res.quality, "format", vigil_image_format_name(it->info.format), "width",
                        it->info.width, "height", it->info.height);
  if (o && it->md5[0]) json_object_set_new(o, "md5", json_string(it->md5));
  if (o && it->sha256[0]) json_object_set_new(o, "sha256", json_string(it->sha256));
  if (o && it->info.damaged) {
    json_object_set_new(o, "damaged", json_true());
    json_object_set_new(o, "rows_decoded", json_integer(it->info.rows_decoded));
  }
  if (o && dihedral) {
    json_t *d = json_object();
    for (int v = 1; v < VIGIL_DIH_COUNT; v++) {
      vigil_pdq_to_hex(&it->res.hash[v], hex);
      json_object_set_new(d, vigil_dihedral_name(v), json_string(hex));
    }
    json_object_set_new(o, "dihedral", d);
  }
  char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
  if (s) puts(s);
  free(s);
  json_decref(o);
  return 0;
}

int cmd_hash(int argc, char **argv) {
  cli_tune_allocator();
  enum { OPT_MODE = 256, OPT_DIH, OPT_FAST, OPT_FORMAT, OPT_MAXPX, OPT_SPH, OPT_DOWN, OPT_FLUSH, OPT_THREADS };
  static const struct option longopts[] = {
      {"mode", required_argument, 0, OPT_MODE},     {"dihedral", no_argument, 0, OPT_DIH},
      {"fast", no_argument, 0, OPT_FAST},           {"format", required_argument, 0, OPT_FORMAT},
      {"jobs", required_argument, 0, 'j'},          {"recursive", no_argument, 0, 'r'},
      {"max-pixels", required_argument, 0, OPT_MAXPX}, {"help", no_argument, 0, 'h'},
      {"seconds-per-hash", required_argument, 0, OPT_SPH}, {"downsample", required_argument, 0, OPT_DOWN},
      {"flush-all", no_argument, 0, OPT_FLUSH}, {"threads", required_argument, 0, OPT_THREADS},
      {0, 0, 0, 0}};
  job j;
  memset(&j, 0, sizeof j);
  vigil_hash_opts_default(&j.opts);
  vigil_video_opts_default(&j.vopts);
  int fmt = FMT_CSV, recursive = 0, c;
  long jobs = sysconf(_SC_NPROCESSORS_ONLN);
  if (jobs < 1) jobs = 1;
  optind = 1;
  while ((c = getopt_long(argc, argv, "j:rh", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_MODE:
      if (!strcmp(optarg, "fullres")) j.opts.mode = VIGIL_MODE_FULLRES;
      else if (!strcmp(optarg, "cli")) j.opts.mode = VIGIL_MODE_CLI;
      else {
        cli_error("--mode: expected fullres or cli, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    case OPT_DIH: j.opts.dihedral = 1; break;
    case OPT_FAST: j.opts.fast = 1; break;
    case OPT_FORMAT:
      if (!strcmp(optarg, "csv")) fmt = FMT_CSV;
      else if (!strcmp(optarg, "json")) fmt = FMT_JSON;
      else if (!strcmp(optarg, "vpdq")) fmt = FMT_VPDQ;
      else if (!strcmp(optarg, "te")) fmt = FMT_TE;
      else {
        cli_error("--format: expected csv, json, te or vpdq, got '%s'", optarg);
        return CLI_USAGE;
      }
      break;
    case 'j':
      if ((jobs = cli_parse_long("--jobs", optarg, 1, 1024)) < 0) return CLI_USAGE;
      break;
    case 'r': recursive = 1; break;
    case OPT_MAXPX: {
      long v = cli_parse_long("--max-pixels", optarg, 1, 4000000000L);
      if (v < 0) return CLI_USAGE;
      j.opts.max_pixels = (uint64_t)v;
      break;
    }
    case OPT_SPH: {
      char *end;
      double v = strtod(optarg, &end);
      if (end == optarg || *end || !(v >= 0) || v > 1e6) {
        cli_error("--seconds-per-hash: expected a number of seconds >= 0, got '%s'", optarg);
        return CLI_USAGE;
      }
      j.vopts.seconds_per_hash = v;
      break;
    }
    case OPT_DOWN: {
      int w, h;
      char tail;
      if (sscanf(optarg, "%dx%d%c", &w, &h, &tail) != 2 || w < 5 || h < 5 || w > 16384 || h > 16384) {
        cli_error("--downsample: expected WxH with sides 5..16384, got '%s'", optarg);
        return CLI_USAGE;
      }
      j.vopts.downsample_width = w;
      j.vopts.downsample_height = h;
      break;
    }
    case OPT_FLUSH: j.vopts.flush_all = 1; break;
    case OPT_THREADS: {
      long v = cli_parse_long("--threads", optarg, 1, 64);
      if (v < 0) return CLI_USAGE;
      j.vopts.threads = (int)v;
      break;
    }
    case 'h': fputs(hash_help, stdout); return CLI_OK;
    default: fputs(hash_help, stderr); return CLI_USAGE;
    }
  }
  if (optind >= argc) {
    cli_error("hash: no input (give image paths, a directory with -r, or - for stdin)");
    fputs(hash_help, stderr);
    return CLI_USAGE;
  }
  pathlist paths = {0};
  seen_dirs seen = {0};
  for (int i = optind; i < argc; i++)
    if (expand(&paths, &seen, argv[i], recursive, 0) != 0) {
      cli_error("out of memory");
      free(seen.v);
      return CLI_USAGE;
    }
  free(seen.v);
  j.n = paths.n;
  j.items = calloc(j.n ? j.n : 1, sizeof(item));
  if (!j.items) {
    cli_error("out of memory");
    return CLI_USAGE;
  }
  for (size_t i = 0; i < j.n; i++) j.items[i].path = paths.v[i];
  pthread_mutex_init(&j.mu, NULL);
  pthread_cond_init(&j.cv, NULL);
  want_digests = fmt == FMT_TE || fmt == FMT_JSON;
  j.videos_only = fmt == FMT_VPDQ;
  if ((size_t)jobs > j.n) jobs = (long)j.n;
  j.video_progress = isatty(fileno(stderr)) && jobs == 1;
  pthread_t *threads = calloc((size_t)jobs, sizeof(pthread_t));
  long started = 0;
  for (long t = 0; threads && t < jobs; t++)
    if (pthread_create(&threads[t], NULL, worker, &j) == 0) started++;
  if (started == 0) worker(&j); /* no threads: hash inline */
  int failed = 0;
  cli_progress prog;
  cli_progress_start(&prog, "hashed", j.n);
  for (size_t i = 0; i < j.n; i++) {
    pthread_mutex_lock(&j.mu);
    while (!j.items[i].done) pthread_cond_wait(&j.cv, &j.mu);
    pthread_mutex_unlock(&j.mu);
    int written = print_item(&j.items[i], fmt, j.opts.dihedral, j.n > 1);
    vigil_video_frames_free(j.items[i].frames);
    j.items[i].frames = NULL;
    if (j.items[i].rc || written) failed++;
    cli_progress_step(&prog, 1, j.items[i].rc != 0);
  }
  cli_progress_end(&prog);
  fflush(stdout);
  for (long t = 0; t < started; t++) pthread_join(threads[t], NULL);
  free(threads);
  for (size_t i = 0; i < j.n; i++) free(j.items[i].path);
  free(j.items);
  free(paths.v);
  pthread_mutex_destroy(&j.mu);
  pthread_cond_destroy(&j.cv);
  if (failed) cli_error("%d of %zu inputs failed", failed, j.n);
  return failed ? CLI_PARTIAL : CLI_OK;
}
