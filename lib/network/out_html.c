/*
 * out_html.c - the self-contained HTML report an analyst opens.
 *
 * One file, no external resources and no script at all: a Content
 * Security Policy forbids scripts, plugins, frames and remote loads
 * (default-src 'none'), and every string that comes from an ad passes
 * through vigil__net_xml_escape (which also replaces invalid UTF-8 and control
 * characters).  So text such as <script> or <img onerror> in an ad is shown
 * as text and never runs, even if an escaping bug slipped through.
 *
 * Contents: a table of all groups (up to NET_HTML_ROWS) ranked by risk; for
 * the top NET_HTML_DETAIL groups a picture of the link graph (inline SVG laid
 * out here with a few hundred Fruchterman-Reingold steps from a fixed start,
 * so the same run draws the same picture), the template with its slots
 * highlighted and example fillers in tooltips, and the member ads with the
 * evidence that links them highlighted.
 */
#include "network/net_internal.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define NET_HTML_ROWS 1000
#define NET_HTML_DETAIL 25
#define NET_HTML_ADS 40    /* member ads listed per group */
#define NET_SVG_ADS 40     /* ads drawn per group */
#define NET_SVG_W 640
#define NET_SVG_H 420

static void esc(FILE *f, const char *s) { vigil__net_xml_escape(f, s, s ? strlen(s) : 0); }

static uint32_t canon(const vigil_linker *l, uint32_t id) {
  while (l->idents[id].canon != id) id = l->idents[id].canon;
  return id;
}

typedef struct vnode {
  double x, y, dx, dy;
  int is_ad;
  uint32_t ref;
} vnode;

typedef struct vedge {
  int a, b, kind; /* 0 template, 1 identifier, 2 hub */
} vedge;

static int find_node(const vnode *v, int n, int is_ad, uint32_t ref) {
  for (int i = 0; i < n; i++)
    if (v[i].is_ad == is_ad && v[i].ref == ref) return i;
  return -1;
}

static void svg_group(FILE *f, const vigil_linker *l, const vigil__net_group *g, const uint32_t *eoff, const uint32_t *eidx) {
  int cap = NET_SVG_ADS * 4 + 8;
  vnode *v = calloc((size_t)cap, sizeof *v);
  vedge *e = calloc((size_t)cap * 4, sizeof *e);
  if (!v || !e) {
    free(v);
    free(e);
    return;
  }
  int nv = 0, ne = 0, ecap = cap * 4;
  size_t shown = g->n < NET_SVG_ADS ? g->n : NET_SVG_ADS;
  for (size_t k = 0; k < shown; k++) v[nv++] = (vnode){0, 0, 0, 0, 1, g->members[k]};
  for (size_t k = 0; k < shown; k++) {
    const vigil__net_ad *a = &l->ads[g->members[k]];
    for (uint32_t q = 0; q < a->n_ev; q++) {
      if (a->ev[q].kind == VIGIL_EV_NAME) continue;
      uint32_t x = canon(l, a->ev[q].ident);
      int j = find_node(v, nv, 0, x);
      if (j < 0) {
        if (nv >= cap) continue;
        j = nv;
        v[nv++] = (vnode){0, 0, 0, 0, 0, x};
      }
      int dup = 0;
      for (int t = 0; t < ne && !dup; t++) dup = e[t].a == (int)k && e[t].b == j;
      if (!dup && ne < ecap) e[ne++] = (vedge){(int)k, j, l->idents[x].hub ? 2 : 1};
    }
  }
  size_t gi = (size_t)(g - l->groups);
  for (uint32_t q = eoff[gi]; q < eoff[gi + 1] && ne < ecap; q++) {
    int a = find_node(v, (int)shown, 1, l->tedges[eidx[q]].a), b = find_node(v, (int)shown, 1, l->tedges[eidx[q]].b);
    if (a >= 0 && b >= 0) e[ne++] = (vedge){a, b, 0};
  }
  /* Fruchterman-Reingold from a circle */
  double W = NET_SVG_W - 40, H = NET_SVG_H - 40, area = W * H, kk = 0.6 * sqrt(area / (nv ? nv : 1));
  for (int i = 0; i < nv; i++) {
    double t = 2 * M_PI * i / (nv ? nv : 1);
    v[i].x = W / 2 + W / 3 * cos(t);
    v[i].y = H / 2 + H / 3 * sin(t);
  }
  double temp = W / 8;
  for (int it = 0; it < 200; it++) {
    for (int i = 0; i < nv; i++) v[i].dx = v[i].dy = 0;
    for (int i = 0; i < nv; i++)
      for (int j = i + 1; j < nv; j++) {
        double dx = v[i].x - v[j].x, dy = v[i].y - v[j].y, d = sqrt(dx * dx + dy * dy) + 0.01, fr = kk * kk / d;
        v[i].dx += dx / d * fr;
        v[i].dy += dy / d * fr;
        v[j].dx -= dx / d * fr;
        v[j].dy -= dy / d * fr;
      }
    for (int q = 0; q < ne; q++) {
      vnode *a = &v[e[q].a], *b = &v[e[q].b];
      double dx = a->x - b->x, dy = a->y - b->y, d = sqrt(dx * dx + dy * dy) + 0.01, fa = d * d / kk;
      if (e[q].kind == 2) fa *= 0.2; /* hubs pull weakly: they do not bind the group */
      a->dx -= dx / d * fa;
      a->dy -= dy / d * fa;
      b->dx += dx / d * fa;
      b->dy += dy / d * fa;
    }
    for (int i = 0; i < nv; i++) {
      /* gravity towards the centre keeps loose parts off the frame */
      v[i].dx -= (v[i].x - W / 2) * 0.6;
      v[i].dy -= (v[i].y - H / 2) * 0.6;
      double d = sqrt(v[i].dx * v[i].dx + v[i].dy * v[i].dy) + 1e-9, s = fmin(d, temp) / d;
      v[i].x = fmin(W, fmax(0, v[i].x + v[i].dx * s));
      v[i].y = fmin(H, fmax(0, v[i].y + v[i].dy * s));
    }
    temp *= 0.98;
  }
  fprintf(f, "<svg class=\"graph\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n", NET_SVG_W,
          NET_SVG_H, NET_SVG_W, NET_SVG_H);
  for (int q = 0; q < ne; q++) {
    const char *cls = e[q].kind == 0 ? "et" : e[q].kind == 1 ? "ei" : "eh";
    fprintf(f, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", cls, v[e[q].a].x + 20,
            v[e[q].a].y + 20, v[e[q].b].x + 20, v[e[q].b].y + 20);
  }
  for (int i = 0; i < nv; i++) {
    if (v[i].is_ad) {
      fprintf(f, "<circle class=\"ad\" cx=\"%.1f\" cy=\"%.1f\" r=\"7\"><title>ad ", v[i].x + 20, v[i].y + 20);
      esc(f, l->ads[v[i].ref].id);
      fputs("</title></circle>\n", f);
    } else {
      const vigil__net_ident *x = &l->idents[v[i].ref];
      fprintf(f, "<rect class=\"id %s%s\" x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\"><title>%s ",
              vigil__net_kind_name(x->kind), x->hub ? " hub" : "", v[i].x + 14, v[i].y + 14, vigil__net_kind_name(x->kind));
      esc(f, x->value);
      fputs(x->hub ? " (hub: not used to link)</title></rect>\n" : "</title></rect>\n", f);
      char lab[24];
      snprintf(lab, sizeof lab, "%.12s", x->value);
      fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", v[i].x + 28, v[i].y + 24);
      esc(f, lab);
      fputs("</text>\n", f);
    }
  }
  fputs("</svg>\n", f);
  free(v);
  free(e);
}

typedef struct span {
  uint32_t s, e;
  int kind;
} span;

static int cmp_span(const void *a, const void *b) {
  const span *x = a, *y = b;
  return x->s < y->s ? -1 : x->s > y->s;
}

/* The ad's text with its evidence marked; everything escaped. */
static void ad_text(FILE *f, const vigil__net_ad *a) {
  span sp[64];
  int n = 0;
  for (uint32_t q = 0; q < a->n_ev && n < 64; q++)
    if (a->ev[q].span > 0 && a->ev[q].start + a->ev[q].span <= a->text_len)
      sp[n++] = (span){a->ev[q].start, a->ev[q].start + a->ev[q].span, a->ev[q].kind};
  qsort(sp, (size_t)n, sizeof *sp, cmp_span);
  uint32_t limit = a->text_len < 3000 ? a->text_len : 3000, pos = 0;
  while (limit < a->text_len && limit > 0 && ((unsigned char)a->text[limit] & 0xC0) == 0x80) limit--;
  for (int i = 0; i < n; i++) {
    if (sp[i].s < pos || sp[i].e > limit) continue; /* overlapping or cut off */
    vigil__net_xml_escape(f, a->text + pos, sp[i].s - pos);
    fprintf(f, "<mark class=\"%s\">", vigil__net_kind_name(sp[i].kind));
    vigil__net_xml_escape(f, a->text + sp[i].s, sp[i].e - sp[i].s);
    fputs("</mark>", f);
    pos = sp[i].e;
  }
  vigil__net_xml_escape(f, a->text + pos, limit - pos);
  if (limit < a->text_len) fputs(" …", f);
}

static void template_html(FILE *f, const vigil_linker *l, const vigil__net_template *t) {
  fprintf(f, "<p class=\"tplmeta\">Template from %u aligned ads (backbone ad ", t->n_used);
  esc(f, l->ads[t->medoid].id);
  fprintf(f, "); words kept when %.0f%% of ads share them, chosen by description length: %.0f bits with the "
             "template vs %.0f bits without.</p>\n<div class=\"tpl\">",
          t->keep * 100, t->mdl_bits, t->raw_bits);
  for (size_t i = 0; i < t->n_items; i++) {
    const vigil__net_titem *it = &t->items[i];
    if (!it->slot) {
      esc(f, it->text);
      fputc(' ', f);
      continue;
    }
    fprintf(f, "<span class=\"slot s%s\" title=\"", it->text);
    for (int k = 0; k < it->n_ex; k++) {
      if (k) fputs(" | ", f);
      esc(f, it->ex[k]);
    }
    fputs("\">[", f);
    esc(f, it->text);
    fputs("]</span> ", f);
  }
  fputs("</div>\n", f);
  for (size_t i = 0; i < t->n_items; i++) {
    const vigil__net_titem *it = &t->items[i];
    if (!it->slot || !it->n_ex) continue;
    fputs("<div class=\"slotex\"><span class=\"slot\">[", f);
    esc(f, it->text);
    fputs("]</span> e.g. ", f);
    for (int k = 0; k < it->n_ex; k++) {
      if (k) fputs(" · ", f);
      fputs("<q>", f);
      esc(f, it->ex[k]);
      fputs("</q>", f);
    }
    fputs("</div>\n", f);
  }
}

static const char css[] =
    "body{font:14px/1.4 sans-serif;margin:1.5em;color:#222;background:#fff}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}"
    "th{background:#eee}.risk{font-weight:bold}.g{border-top:3px solid #446;margin-top:2em}"
    ".graph{border:1px solid #ccc;background:#fafafa}.ad{fill:#4a7fd0}.id{fill:#d08a2a}.id.email{fill:#2aa05a}"
    ".id.handle{fill:#a03aa0}.id.image{fill:#777}.id.hub{fill:#fff;stroke:#c00;stroke-dasharray:2}"
    "line.et{stroke:#4a7fd0;stroke-width:2}line.ei{stroke:#d08a2a}line.eh{stroke:#c00;stroke-dasharray:4}"
    "svg text{font:10px sans-serif;fill:#333}.tpl{background:#f4f4ec;padding:.6em;border-left:4px solid #998;"
    "white-space:pre-wrap;word-break:break-word}.slot{background:#ffd86b;border-radius:3px;padding:0 2px;"
    "font-weight:bold}.sPHONE{background:#f9a}.sNAME{background:#9df}.sAGE{background:#bfb}.sPRICE{background:#fc8}"
    ".tplmeta,.slotex{color:#555;font-size:12px}mark.phone{background:#f9a}mark.email{background:#9e9}"
    "mark.handle{background:#dbf}mark.name{background:#9df}.adtext{white-space:pre-wrap;word-break:break-word;"
    "max-width:60em}.legend span{margin-right:1em}";

int vigil_linker_write_html(const vigil_linker *l, const char *path, vigil_error *err) {
  return vigil__net_write_path(l, path, vigil_linker_fwrite_html, err);
}

int vigil_linker_fwrite_html(const vigil_linker *l, FILE *f, vigil_error *err) {
  int rc0 = vigil__net_begin_out(l, f, err);
  if (rc0) return rc0;
  uint32_t *eoff, *eidx;
  if (vigil__net_edges_by_group(l, &eoff, &eidx)) return vigil__net_end_out(f, VIGIL_ENOMEM, err);
  size_t hubs = 0, grouped = 0;
  for (size_t i = 0; i < l->n_idents; i++) hubs += l->idents[i].hub;
  for (size_t i = 0; i < l->n_groups; i++) grouped += l->groups[i].n;
  fprintf(f,
          "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
          "img-src data:; form-action 'none'; base-uri 'none'\">\n"
          "<meta name=\"referrer\" content=\"no-referrer\">\n"
          "<title>vigil link report</title>\n<style>%s</style></head><body>\n"
          "<h1>Ad networks</h1>\n<p>%zu ads; %zu groups of at least %d ads holding %zu ads; %zu hub identifiers "
          "(shared by several separate groups, shown but not used to link). Links: %s%s%s.</p>\n"
          "<p class=\"legend\"><span style=\"color:#4a7fd0\">&#9679; ad</span><span style=\"color:#d08a2a\">&#9632; "
          "phone</span><span style=\"color:#2aa05a\">&#9632; e-mail</span><span style=\"color:#a03aa0\">&#9632; "
          "handle</span><span style=\"color:#c00\">&#9633; hub</span><span>blue line: template link</span></p>\n",
          css, l->n_ads, l->n_groups, l->o.min_size, grouped, hubs, l->o.use_identifiers ? "shared identifiers" : "",
          l->o.use_identifiers && l->o.use_templates ? " and " : "", l->o.use_templates ? "templates" : "");
  fputs("<h2>Groups by risk</h2>\n<table><tr><th>#</th><th>risk</th><th>ads</th><th>phones</th><th>names</th>"
        "<th>places</th><th>first seen</th><th>last seen</th><th>reasons</th></tr>\n",
        f);
  for (size_t i = 0; i < l->n_groups && i < NET_HTML_ROWS; i++) {
    const vigil__net_group *g = &l->groups[i];
    if (i < NET_HTML_DETAIL) fprintf(f, "<tr><td><a href=\"#g%zu\">%zu</a></td>", i, i);
    else fprintf(f, "<tr><td>%zu</td>", i);
    fprintf(f, "<td class=\"risk\">%.2f</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td>", g->risk, g->n,
            g->pub.n_phones, g->pub.n_names, g->pub.n_locations);
    esc(f, g->first_seen);
    fputs("</td><td>", f);
    esc(f, g->last_seen);
    fputs("</td><td>", f);
    esc(f, g->reasons);
    fputs("</td></tr>\n", f);
  }
  fputs("</table>\n", f);
  for (size_t i = 0; i < l->n_groups && i < NET_HTML_DETAIL; i++) {
    const vigil__net_group *g = &l->groups[i];
    fprintf(f, "<section class=\"g\" id=\"g%zu\"><h2>Group %zu: risk %.2f, %zu ads</h2>\n<p>", i, i, g->risk, g->n);
    esc(f, g->reasons);
    fputs("</p>\n<p>Places: ", f);
    for (size_t k = 0; k < g->n_loc && k < 20; k++) {
      if (k) fputs("; ", f);
      esc(f, g->locations[k]);
    }
    fputs("</p>\n<p>Identifiers: ", f);
    for (size_t k = 0; k < g->n_idents && k < 60; k++) {
      const vigil__net_ident *x = &l->idents[g->idents[k]];
      fprintf(f, "%s<span class=\"%s\">%s ", k ? ", " : "", x->hub ? "hub" : "", vigil__net_kind_name(x->kind));
      esc(f, x->value);
      fputs(x->hub ? " (hub)</span>" : "</span>", f);
    }
    fputs("</p>\n", f);
    svg_group(f, l, g, eoff, eidx);
    if (g->tpl) template_html(f, l, g->tpl);
    fputs("<table><tr><th>ad</th><th>place</th><th>score</th><th>text (evidence highlighted)</th></tr>\n", f);
    for (size_t k = 0; k < g->n && k < NET_HTML_ADS; k++) {
      const vigil__net_ad *a = &l->ads[g->members[k]];
      fputs("<tr><td>", f);
      esc(f, a->id);
      fputs("</td><td>", f);
      esc(f, a->location);
      fprintf(f, "</td><td>%.2f</td><td class=\"adtext\">", (double)a->score);
      ad_text(f, a);
      fputs("</td></tr>\n", f);
    }
    if (g->n > NET_HTML_ADS) fprintf(f, "<tr><td colspan=\"4\">… and %zu more (see groups.json)</td></tr>\n", g->n - NET_HTML_ADS);
    fputs("</table></section>\n", f);
  }
  fputs("</body></html>\n", f);
  free(eoff);
  free(eidx);
  return vigil__net_end_out(f, VIGIL_OK, err);
}
