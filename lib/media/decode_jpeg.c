/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode_jpeg.c - JPEG through libjpeg-turbo, streamed scanline by scanline.
 *
 * Decoder settings are libjpeg's defaults (accurate integer IDCT, fancy
 * upsampling), the same as PIL and ImageMagick use, so the RGB is the same.
 * CMYK/YCCK pictures are converted to RGB the way PIL's convert('RGB')
 * does, treating Adobe-marked files as inverted CMYK.  EXIF orientation is
 * not applied (neither the reference nor PIL's Image.open apply it).
 *
 * A file that ends early (or whose entropy data breaks off at a marker)
 * is what browsers show: the rows before the break, then grey.  libjpeg
 * does the same, so its rows are kept; the warning tells at which iMCU row
 * the data stopped, and vigil__damaged() decides whether enough rows
 * decoded to hash it (decode.h).  A file missing only its end marker, the
 * common case, decodes every row and hashes as the whole file did.  A
 * fatal error part-way keeps the rows delivered so far the same way.  In
 * fast mode the DCT-domain scaler decodes at 1/2, 1/4 or 1/8 size.
 */
#include "media/decode.h"
#include "common/internal.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

/* Fast mode keeps the shorter decoded side at least this long. */
#define FAST_MIN_SIDE 256

/* A progressive JPEG can hold thousands of scans over the same pixels, each
 * a full pass of entropy decoding: a small file built to burn minutes of
 * CPU.  Real encoders write about 10; libjpeg-turbo's tools suggest
 * refusing over 100-500.  The progress monitor counts them. */
#define MAX_SCANS 500

typedef struct jerr_ctx {
  struct jpeg_error_mgr pub;
  jmp_buf jmp;
  int truncated;      /* the data ran out, or broke off at a marker */
  int good_rows;      /* image rows complete before that (-1: not known yet) */
  const char *why;
  int too_many_scans;
  char msg[JMSG_LENGTH_MAX];
} jerr_ctx;

static void on_error_exit(j_common_ptr cinfo) {
  jerr_ctx *e = (jerr_ctx *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, e->msg);
  longjmp(e->jmp, 1);
}

static void on_message(j_common_ptr cinfo, int level) {
  jerr_ctx *e = (jerr_ctx *)cinfo->err;
  int code = cinfo->err->msg_code;
  if (level < 0 && (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER) && !e->truncated) {
    e->truncated = 1;
    e->why = code == JWRN_JPEG_EOF ? "file ends early" : "data breaks off";
    (*cinfo->err->format_message)(cinfo, e->msg);
    /* Rows of the iMCU rows finished before the one being decoded. */
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (cinfo->is_decompressor)
      e->good_rows = (int)((int64_t)d->input_iMCU_row * d->max_v_samp_factor * DCTSIZE);
  }
}

static inline uint8_t clip8(int v) { return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v; }

/* PIL's cmyk2rgb: each of R, G, B is (255-K) - C*(255-K)/255, rounded as
 * PIL's MULDIV255 rounds. */
static void cmyk_to_rgb(const uint8_t *in, uint8_t *out, int n, int inverted) {
  for (int x = 0; x < n; x++, in += 4, out += 3) {
    int c = in[0], m = in[1], y = in[2], k = in[3];
    if (inverted) {
      c = 255 - c;
      m = 255 - m;
      y = 255 - y;
      k = 255 - k;
    }
    int nk = 255 - k, t;
    t = c * nk + 128;
    out[0] = clip8(nk - (((t >> 8) + t) >> 8));
    t = m * nk + 128;
    out[1] = clip8(nk - (((t >> 8) + t) >> 8));
    t = y * nk + 128;
    out[2] = clip8(nk - (((t >> 8) + t) >> 8));
  }
}

static void on_progress(j_common_ptr cinfo) {
  if (!cinfo->is_decompressor || ((j_decompress_ptr)cinfo)->input_scan_number <= MAX_SCANS) return;
  jerr_ctx *e = (jerr_ctx *)cinfo->err;
  e->too_many_scans = 1;
  snprintf(e->msg, sizeof e->msg, "more than %d scans", MAX_SCANS);
  longjmp(e->jmp, 1);
}

typedef struct jpeg_job {
  struct jpeg_decompress_struct cinfo;
  struct jpeg_progress_mgr progress;
  jerr_ctx jerr;
  uint8_t *rows, *conv;
} jpeg_job;

int vigil__decode_jpeg(const uint8_t *data, size_t len, const vigil_hash_opts *o, vigil__pixsink *sink,
                       vigil_image_info *info, vigil_error *err) {
  /* volatile: these live across setjmp. */
  jpeg_job *volatile job = calloc(1, sizeof(jpeg_job));
  int rc = VIGIL_OK;
  if (!job) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
  struct jpeg_decompress_struct *ci = &job->cinfo;
  ci->err = jpeg_std_error(&job->jerr.pub);
  job->jerr.pub.error_exit = on_error_exit;
  job->jerr.pub.emit_message = on_message;
  job->jerr.good_rows = -1;
  if (setjmp(job->jerr.jmp)) {
    if (job->jerr.too_many_scans) rc = vigil__seterr(err, VIGIL_ELIMIT, "JPEG with %s", job->jerr.msg);
    /* Out of memory is the node's state, not the file's: never "bad image"
     * (which a client takes as final), never a damaged hash. */
    else if (job->jerr.pub.msg_code == JERR_OUT_OF_MEMORY)
      rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory decoding a JPEG: %s", job->jerr.msg);
    else if (sink->begun) rc = vigil__damaged(sink, sink->src_y, o, info, "JPEG", job->jerr.msg, err);
    else rc = vigil__seterr(err, VIGIL_ECORRUPT, "corrupt JPEG: %s", job->jerr.msg);
    goto done;
  }
  jpeg_create_decompress(ci);
  job->progress.progress_monitor = on_progress;
  ci->progress = &job->progress;
  jpeg_mem_src(ci, data, (unsigned long)len);
  jpeg_save_markers(ci, JPEG_APP0 + 14, 12); /* Adobe marker, for CMYK inversion: its first 12 bytes say it */
  jpeg_read_header(ci, TRUE);
  info->width = (int)ci->image_width;
  info->height = (int)ci->image_height;
  rc = vigil__check_dims(ci->image_width, ci->image_height, o, "JPEG", err);
  if (rc) goto done;
  /* Progressive and multi-scan files keep every coefficient of the picture
   * (2 bytes each) until the last scan; others need a few rows. */
  uint64_t need = (uint64_t)ci->image_width * 256;
  if (ci->progressive_mode || jpeg_has_multiple_scans(ci))
    for (int c = 0; c < ci->num_components; c++)
      need += ((uint64_t)ci->comp_info[c].width_in_blocks + 4) * ((uint64_t)ci->comp_info[c].height_in_blocks + 4) *
              DCTSIZE2 * sizeof(JCOEF);
  rc = vigil__check_mem(need, ci->image_width, ci->image_height, o, "JPEG", err);
  if (rc) goto done;

  int cmyk = ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK;
  int grey = ci->jpeg_color_space == JCS_GRAYSCALE;
  ci->out_color_space = cmyk ? JCS_CMYK : grey ? JCS_GRAYSCALE : JCS_RGB;
  if (o->fast) {
    unsigned shorter = ci->image_width < ci->image_height ? ci->image_width : ci->image_height;
    unsigned denom = 1;
    while (denom < 8 && shorter / (denom * 2) >= FAST_MIN_SIDE) denom *= 2;
    ci->scale_num = 1;
    ci->scale_denom = denom;
  }
  jpeg_start_decompress(ci);
  info->grey = grey;
  int w = (int)ci->output_width, h = (int)ci->output_height, nc = ci->output_components;
  int batch = ci->rec_outbuf_height > 0 ? ci->rec_outbuf_height : 1;
  job->rows = vigil__mallocarray((size_t)w * (size_t)nc, (size_t)batch);
  if (cmyk) job->conv = vigil__mallocarray((size_t)w, 3);
  if (!job->rows || (cmyk && !job->conv)) {
    rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory for a %dx%d JPEG", w, h);
    goto done;
  }
  rc = vigil__pixsink_begin(sink, w, h, grey, err);
  if (rc) goto done;
  int inverted = 0;
  for (jpeg_saved_marker_ptr m = ci->marker_list; m; m = m->next)
    if (m->marker == JPEG_APP0 + 14 && m->data_length >= 5 && !memcmp(m->data, "Adobe", 5)) inverted = 1;
  JSAMPROW ptrs[16];
  if (batch > 16) batch = 16;
  for (int i = 0; i < batch; i++) ptrs[i] = job->rows + (size_t)i * (size_t)w * (size_t)nc;
  while (ci->output_scanline < ci->output_height) {
    /* RGB rows go straight into the hasher's staging when it has room for
     * them (one at a time: its slots are not consecutive rows). */
    JSAMPROW direct = cmyk ? NULL : vigil__pixsink_row_buf(sink);
    if (direct) {
      if (jpeg_read_scanlines(ci, &direct, 1) != 1) break; /* no progress: never spin */
      vigil__pixsink_row(sink, direct);
      continue;
    }
    JDIMENSION got = jpeg_read_scanlines(ci, ptrs, (JDIMENSION)batch);
    if (got == 0) break;
    for (JDIMENSION i = 0; i < got; i++) {
      if (cmyk) {
        cmyk_to_rgb(ptrs[i], job->conv, w, inverted);
        vigil__pixsink_row(sink, job->conv);
      } else {
        vigil__pixsink_row(sink, ptrs[i]);
      }
    }
  }
  if (job->jerr.truncated) {
    /* good_rows counts image rows; fast mode decodes fewer. */
    int64_t good = job->jerr.good_rows < 0 ? 0 : job->jerr.good_rows;
    good = good * (int64_t)ci->output_height / (int64_t)ci->image_height;
    if (good > (int64_t)ci->output_scanline) good = ci->output_scanline;
    rc = vigil__damaged(sink, (int)good, o, info, "JPEG",
                        job->jerr.why, err);
    goto done;
  }
  if (ci->output_scanline < ci->output_height) {
    rc = vigil__damaged(sink, (int)ci->output_scanline, o, info, "JPEG", "decoding stopped", err);
    goto done;
  }
  jpeg_finish_decompress(ci);
done:
  jpeg_destroy_decompress(&job->cinfo);
  free(job->rows);
  free(job->conv);
  free(job);
  return rc;
}
