/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode_gif.c - the first frame of a GIF through giflib.
 *
 * The frame is drawn on the logical screen, which starts filled with the
 * background colour, as PIL shows a GIF's first frame.  Transparency is not
 * applied (the palette colour of a transparent index is hashed).  Records
 * are read one by one, never slurped, so a file with thousands of frames
 * costs no more than one.
 *
 * Memory goes by the frame, not the screen: a 35-byte file can declare a
 * 10000x10000 screen around a 1x1 frame, and a screen-sized canvas would
 * cost 100 MB per request.  Only the part of the frame on the screen is
 * kept; each screen row is built from it and the background as it is
 * hashed.  A frame whose data breaks off keeps the rows read so far; the
 * rest shows the background, as browsers draw it (decode.h).
 */
#include "media/decode.h"
#include "common/internal.h"

#include <gif_lib.h>
#include <string.h>

typedef struct gif_src {
  const uint8_t *data;
  size_t len, pos;
} gif_src;

static int read_fn(GifFileType *g, GifByteType *out, int n) {
  gif_src *s = g->UserData;
  size_t want = n < 0 ? 0 : (size_t)n;
  if (want > s->len - s->pos) want = s->len - s->pos;
  memcpy(out, s->data + s->pos, want);
  s->pos += want;
  return (int)want;
}

int vigil__decode_gif(const uint8_t *data, size_t len, const vigil_hash_opts *o, vigil__pixsink *sink,
                      vigil_image_info *info, vigil_error *err) {
  gif_src src = {data, len, 0};
  int gerr = 0, rc = VIGIL_OK;
  GifFileType *g = DGifOpen(&src, read_fn, &gerr);
  if (!g && gerr == D_GIF_ERR_NOT_ENOUGH_MEM) return vigil__seterr(err, VIGIL_ENOMEM, "out of memory decoding a GIF");
  if (!g) return vigil__seterr(err, VIGIL_ECORRUPT, "corrupt GIF: %s", GifErrorString(gerr));
  uint8_t *frame = NULL, *line = NULL, *row = NULL;
  int W = g->SWidth, H = g->SHeight;
  info->width = W;
  info->height = H;
  rc = vigil__check_dims(W, H, o, "GIF", err);
  if (rc) goto done;
  ColorMapObject *cmap = NULL;
  GifImageDesc *d = NULL;
  int fx0 = 0, fy0 = 0, fw = 0, fh = 0; /* the frame's part on the screen */
  int frame_rows = 0, frame_good = 0;    /* frame rows, and those read before an error */
  const char *broke = NULL;
  while (!d) {
    GifRecordType rt;
    if (DGifGetRecordType(g, &rt) == GIF_ERROR) goto gif_error;
    if (rt == EXTENSION_RECORD_TYPE) {
      int code;
      GifByteType *ext;
      if (DGifGetExtension(g, &code, &ext) == GIF_ERROR) goto gif_error;
      while (ext)
        if (DGifGetExtensionNext(g, &ext) == GIF_ERROR) goto gif_error;
    } else if (rt == IMAGE_DESC_RECORD_TYPE) {
      if (DGifGetImageDesc(g) == GIF_ERROR) goto gif_error;
      d = &g->Image;
    } else {
      rc = vigil__seterr(err, VIGIL_ECORRUPT, "corrupt GIF: no image in file");
      goto done;
    }
  }
  cmap = d->ColorMap ? d->ColorMap : g->SColorMap;
  if (!cmap) {
    rc = vigil__seterr(err, VIGIL_ECORRUPT, "corrupt GIF: no colour table");
    goto done;
  }
  if (d->Width <= 0 || d->Height <= 0 || (int64_t)d->Width * d->Height > (int64_t)o->max_pixels) {
    rc = vigil__seterr(err, VIGIL_ECORRUPT, "corrupt GIF: bad frame size %dx%d", d->Width, d->Height);
    goto done;
  }
  fx0 = d->Left < 0 ? 0 : d->Left;
  fy0 = d->Top < 0 ? 0 : d->Top;
  {
    int64_t x1 = (int64_t)d->Left + d->Width, y1 = (int64_t)d->Top + d->Height;
    fw = x1 > W ? W - fx0 : (int)(x1 - fx0);
    fh = y1 > H ? H - fy0 : (int)(y1 - fy0);
    if (fw < 0) fw = 0;
    if (fh < 0) fh = 0;
  }
  rc = vigil__check_mem((uint64_t)fw * (uint64_t)fh + (uint64_t)d->Width + (uint64_t)W * 3, W, H, o, "GIF", err);
  if (rc) goto done;
  frame = malloc(fw && fh ? (size_t)fw * (size_t)fh : 1);
  line = malloc((size_t)d->Width);
  row = vigil__mallocarray((size_t)W, 3);
  if (!frame || !line || !row) {
    rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory for a %dx%d GIF", W, H);
    goto done;
  }
  /* Rows never read show the background. */
  memset(frame, g->SBackGroundColor, fw && fh ? (size_t)fw * (size_t)fh : 1);
  frame_rows = d->Height;
  {
    static const int start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
    int npasses = d->Interlace ? 4 : 1;
    for (int p = 0; p < npasses && !broke; p++) {
      for (int y = d->Interlace ? start[p] : 0; y < d->Height; y += d->Interlace ? step[p] : 1) {
        if (DGifGetLine(g, line, d->Width) == GIF_ERROR) {
          if (g->Error == D_GIF_ERR_NOT_ENOUGH_MEM) goto gif_error;
          /* Rows above y are final only in the last pass. */
          frame_good = p == npasses - 1 ? y : 0;
          broke = GifErrorString(g->Error);
          break;
        }
        int64_t cy = (int64_t)d->Top + y - fy0;
        if (cy < 0 || cy >= fh) continue;
        memcpy(frame + (size_t)cy * (size_t)fw, line + (fx0 - d->Left), (size_t)fw);
      }
    }
  }
  rc = vigil__pixsink_begin(sink, W, H, 0, err);
  for (int y = 0; rc == VIGIL_OK && y < H; y++) {
    const uint8_t *fr = y >= fy0 && y < fy0 + fh ? frame + (size_t)(y - fy0) * (size_t)fw : NULL;
    for (int x = 0; x < W; x++) {
      int idx = fr && x >= fx0 && x < fx0 + fw ? fr[x - fx0] : g->SBackGroundColor;
      GifColorType c = idx < cmap->ColorCount ? cmap->Colors[idx] : (GifColorType){0, 0, 0};
      row[3 * x] = c.Red;
      row[3 * x + 1] = c.Green;
      row[3 * x + 2] = c.Blue;
    }
    vigil__pixsink_row(sink, row);
  }
  if (rc == VIGIL_OK && broke) {
    /* Screen rows missing = the frame's unread rows that are on the screen. */
    int64_t lost_top = (int64_t)d->Top + frame_good, lost_end = (int64_t)d->Top + frame_rows;
    if (lost_top < 0) lost_top = 0;
    if (lost_end > H) lost_end = H;
    int64_t lost = lost_end > lost_top ? lost_end - lost_top : 0;
    int good = (int)(H - lost);
    /* The picture below the break shows background, as drawn; rows
     * counted as good are those the file's data reached. */
    if (lost) rc = vigil__damaged(sink, good, o, info, "GIF", broke, err);
    else info->damaged = 1, info->rows_decoded = H;
  }
  goto done;
gif_error:
  if (g->Error == D_GIF_ERR_NOT_ENOUGH_MEM) rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory decoding a GIF");
  else rc = vigil__seterr(err, VIGIL_ECORRUPT, "corrupt or truncated GIF: %s", GifErrorString(g->Error));
done:
  DGifCloseFile(g, &gerr);
  free(frame);
  free(line);
  free(row);
  return rc;
}
