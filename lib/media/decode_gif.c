/*
 * decode_gif.c - the first frame of a GIF through giflib.
 *
 * The frame is drawn on the logical screen, which starts filled with the
 * background colour, as PIL shows a GIF's first frame.  Transparency is not
 * applied (the palette colour of a transparent index is hashed).  Records
 * are read one by one, never slurped, so a file with thousands of frames
 * costs no more than one.
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
  if (!g) return vigil__seterr(err, VIGIL_ECORRUPT, "corrupt GIF: %s", GifErrorString(gerr));
  uint8_t *canvas = NULL, *line = NULL, *row = NULL;
  int W = g->SWidth, H = g->SHeight;
  info->width = W;
  info->height = H;
  rc = vigil__check_dims(W, H, o, "GIF", err);
  if (rc) goto done;
  canvas = malloc((size_t)W * (size_t)H);
  row = malloc((size_t)W * 3);
  if (!canvas || !row) {
    rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory for a %dx%d GIF", W, H);
    goto done;
  }
  memset(canvas, g->SBackGroundColor, (size_t)W * (size_t)H);
  ColorMapObject *cmap = NULL;
  int have_frame = 0;
  while (!have_frame) {
    GifRecordType rt;
    if (DGifGetRecordType(g, &rt) == GIF_ERROR) {
      rc = vigil__seterr(err, VIGIL_ECORRUPT, "corrupt GIF: %s", GifErrorString(g->Error));
      goto done;
    }
    if (rt == EXTENSION_RECORD_TYPE) {
      int code;
      GifByteType *ext;
      if (DGifGetExtension(g, &code, &ext) == GIF_ERROR) goto gif_error;
      while (ext)
        if (DGifGetExtensionNext(g, &ext) == GIF_ERROR) goto gif_error;
    } else if (rt == IMAGE_DESC_RECORD_TYPE) {
      if (DGifGetImageDesc(g) == GIF_ERROR) goto gif_error;
      GifImageDesc *d = &g->Image;
      cmap = d->ColorMap ? d->ColorMap : g->SColorMap;
      if (!cmap) {
        rc = vigil__seterr(err, VIGIL_ECORRUPT, "corrupt GIF: no colour table");
        goto done;
      }
      if (d->Width <= 0 || d->Height <= 0 || (int64_t)d->Width * d->Height > (int64_t)o->max_pixels) {
        rc = vigil__seterr(err, VIGIL_ECORRUPT, "corrupt GIF: bad frame size %dx%d", d->Width, d->Height);
        goto done;
      }
      line = malloc((size_t)d->Width);
      if (!line) {
        rc = vigil__seterr(err, VIGIL_ENOMEM, "out of memory");
        goto done;
      }
      static const int start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
      int npasses = d->Interlace ? 4 : 1;
      for (int p = 0; p < npasses; p++) {
        for (int y = d->Interlace ? start[p] : 0; y < d->Height; y += d->Interlace ? step[p] : 1) {
          if (DGifGetLine(g, line, d->Width) == GIF_ERROR) goto gif_error;
          int cy = d->Top + y;
          if (cy < 0 || cy >= H) continue;
          for (int x = 0; x < d->Width; x++) {
            int cx = d->Left + x;
            if (cx >= 0 && cx < W) canvas[(size_t)cy * (size_t)W + (size_t)cx] = line[x];
          }
        }
      }
      have_frame = 1;
    } else {
      rc = vigil__seterr(err, VIGIL_ECORRUPT, "corrupt GIF: no image in file");
      goto done;
    }
  }
  rc = vigil__pixsink_begin(sink, W, H, 0, err);
  for (int y = 0; rc == VIGIL_OK && y < H; y++) {
    const uint8_t *src_row = canvas + (size_t)y * (size_t)W;
    for (int x = 0; x < W; x++) {
      int idx = src_row[x];
      GifColorType c = idx < cmap->ColorCount ? cmap->Colors[idx] : (GifColorType){0, 0, 0};
      row[3 * x] = c.Red;
      row[3 * x + 1] = c.Green;
      row[3 * x + 2] = c.Blue;
    }
    vigil__pixsink_row(sink, row);
  }
  goto done;
gif_error:
  rc = vigil__seterr(err, VIGIL_ECORRUPT, "corrupt or truncated GIF: %s", GifErrorString(g->Error));
done:
  DGifCloseFile(g, &gerr);
  free(canvas);
  free(line);
  free(row);
  return rc;
}
