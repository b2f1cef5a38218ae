/* SPDX-License-Identifier: Apache-2.0 */
/*
 * out_html.c - the self-contained HTML report an analyst opens.
 *
 * One file, nothing fetched: a Content Security Policy forbids plugins,
 * frames and remote loads (default-src 'none') and allows exactly one
 * script, the report's own, by its SHA-256 (computed here from the
 * constant below), so no script that came from an ad could ever run, even
 * if an escaping bug slipped through.  Every string from an ad passes
 * through vigil__net_xml_escape (which also replaces invalid UTF-8 and
 * control characters), and a source URL becomes a link only when it is
 * http or https.
 *
 * The groups travel as data, not as markup: one JSON array in a
 * <script type="application/json"> element (a data block: the policy does
 * not apply to it and nothing runs it), written with '<', '>', '&' and
 * U+2028/U+2029 as \u escapes so that no ad text can end the element.
 * The script renders only what is looked at - one page of table rows,
 * and a group's section when it is opened - so a report of ten thousand
 * groups opens in about a second where ten thousand sections of DOM took
 * ten (bench/bench_network_html.c measures both).
 *
 * Contents: a table of every group ranked by risk, paged, with search and
 * filters (phone, name, place, e-mail/handle, minimum risk) run by the
 * script over the data; a section for any group on demand, holding a
 * picture of the link graph (inline SVG laid out here with Fruchterman-
 * Reingold steps from a fixed start, so the same run draws the same
 * picture; labels placed where they overlap nothing, or left to the
 * tooltip), the group's time line when its ads carry dates, the template
 * with its slots highlighted, and the member ads with identical reposts
 * folded into one row with a count, each linked to its source.  The
 * graph, time line and ads table are data (coordinates, bars, text in
 * plain and marked pieces) the script turns into elements, setting ad
 * strings as text; the places/identifiers line and the template are small
 * strings of markup written here with every ad string escaped.
 */
#include "network/net_internal.h"

#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#define NET_HTML_ADS 40    /* distinct ad texts listed per group */
#define NET_HTML_IDS 6     /* ids shown per folded row */
#define NET_LABEL_MAX 12   /* characters of an identifier label in the graph */
#define NET_SVG_ADS 40     /* ads drawn per group */
#define NET_SVG_W 640
#define NET_SVG_H 420

static void esc(FILE *f, const char *s) { vigil__net_xml_escape(f, s, s ? strlen(s) : 0); }

/* s as the body of a JSON string inside <script type="application/json">:
 * '<', '>' and '&' as \u escapes, so no text can end the element or open a
 * comment in it; U+2028/U+2029 escaped too (line ends to older
 * JavaScript); invalid UTF-8, control characters (but \n and \t) and
 * non-characters replaced, as vigil__net_xml_escape does; ASCII letters
 * lower-cased when lower is set (the search's copies: the page lower-cases
 * the rest itself, see lc() in the script). */
static void json_chars(FILE *f, const char *s, size_t n, int lower) {
  if (!s) return;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
      switch (c) {
      case '"': fputs("\\\"", f); break;
      case '\\': fputs("\\\\", f); break;
      case '<': fputs("\\u003c", f); break;
      case '>': fputs("\\u003e", f); break;
      case '&': fputs("\\u0026", f); break;
      case '\n': fputs("\\n", f); break;
      case '\t': fputs("\\t", f); break;
      default:
        if (c < 0x20 || c == 0x7f) fputs("\\ufffd", f);
        else fputc(lower && c >= 'A' && c <= 'Z' ? c + 32 : c, f);
      }
      i++;
      continue;
    }
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
    if (k <= 0 || (cp >= 0x80 && cp < 0xA0) || cp == 0xFFFE || cp == 0xFFFF) {
      fputs("\\ufffd", f);
      i += k > 0 ? (size_t)k : 1;
    } else if (cp == 0x2028 || cp == 0x2029) {
      fprintf(f, "\\u%04x", (unsigned)cp);
      i += (size_t)k;
    } else {
      fwrite(s + i, 1, (size_t)k, f);
      i += (size_t)k;
    }
  }
}

static void json_str(FILE *f, const char *s, int lower) {
  fputc('"', f);
  json_chars(f, s, s ? strlen(s) : 0, lower);
  fputc('"', f);
}

/* The identifiers of one kind of a group, lower-cased and space-separated,
 * as a JSON string for the search. */
static void json_idents(FILE *f, const vigil_linker *l, const vigil__net_group *g, int kind, int kind2) {
  int first = 1;
  fputc('"', f);
  for (size_t k = 0; k < g->n_idents; k++) {
    const vigil__net_ident *x = &l->idents[g->idents[k]];
    if (x->kind != kind && x->kind != kind2) continue;
    if (!first) fputc(' ', f);
    json_chars(f, x->value, strlen(x->value), 1);
    first = 0;
  }
  fputc('"', f);
}


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

/* The picture of the group's links, as data the script draws as SVG (640
 * by 420): {"l": lines [kind (0 template, 1 identifier, 2 hub), x1, y1,
 * x2, y2], "t": labels [x, y, text], "n": nodes [0, cx, cy, ad id] or
 * [1, x, y, kind, hub, value]}, all coordinates final. */
static int graph_json(FILE *f, const vigil_linker *l, const vigil__net_group *g, const uint32_t *eoff,
                      const uint32_t *eidx) {
  int cap = NET_SVG_ADS * 4 + 8;
  vnode *v = calloc((size_t)cap, sizeof *v);
  vedge *e = calloc((size_t)cap * 4, sizeof *e);
  double(*box)[4] = calloc((size_t)cap * 2 + 1, sizeof *box);
  if (!v || !e || !box) {
    free(v);
    free(e);
    free(box);
    return VIGIL_ENOMEM;
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
  fputs("{\"l\":[", f);
  for (int q = 0; q < ne; q++)
    fprintf(f, "%s[%d,%.1f,%.1f,%.1f,%.1f]", q ? "," : "", e[q].kind, v[e[q].a].x + 20, v[e[q].a].y + 20,
            v[e[q].b].x + 20, v[e[q].b].y + 20);
  fputs("],\"t\":[", f);
  /* Labels: each identifier's label goes right, left, above or below its
   * node, at the first place that overlaps no node, no label already placed
   * and stays in the picture; where none is free it is left out (the
   * node's tooltip still names it). */
  int nb = 0, nt = 0;
  for (int i = 0; i < nv; i++) {
    box[nb][0] = v[i].x + 12, box[nb][1] = v[i].y + 12, box[nb][2] = v[i].x + 28, box[nb][3] = v[i].y + 28;
    nb++;
  }
  for (int i = 0; i < nv; i++) {
    if (v[i].is_ad) continue;
    const vigil__net_ident *x = &l->idents[v[i].ref];
    char lab[NET_LABEL_MAX * 4 + 1];
    size_t ll = 0, chars = 0;
    for (const char *c = x->value; *c && chars < NET_LABEL_MAX && ll + 4 < sizeof lab; c++) {
      lab[ll++] = *c;
      if (((unsigned char)c[1] & 0xC0) != 0x80) chars++;
    }
    while (ll > 0 && ((unsigned char)lab[ll - 1] & 0xC0) == 0xC0) ll--; /* never end inside a character */
    lab[ll] = 0;
    double w = 6.0 * (double)chars + 2, h = 11, cx = v[i].x + 20, cy = v[i].y + 20;
    const double cand[4][2] = {{cx + 9, cy - h / 2}, {cx - 9 - w, cy - h / 2}, {cx - w / 2, cy - 9 - h}, {cx - w / 2, cy + 9}};
    int placed = -1;
    for (int c = 0; c < 4 && placed < 0; c++) {
      double x0 = cand[c][0], y0 = cand[c][1], x1 = x0 + w, y1 = y0 + h;
      if (x0 < 0 || y0 < 0 || x1 > NET_SVG_W || y1 > NET_SVG_H) continue;
      int free_ = 1;
      for (int k = 0; k < nb && free_; k++)
        if (k != i && x0 < box[k][2] && box[k][0] < x1 && y0 < box[k][3] && box[k][1] < y1) free_ = 0;
      if (free_) placed = c;
    }
    if (placed < 0) continue;
    double x0 = cand[placed][0], y0 = cand[placed][1];
    box[nb][0] = x0, box[nb][1] = y0, box[nb][2] = x0 + w, box[nb][3] = y0 + h;
    nb++;
    fprintf(f, "%s[%.1f,%.1f,", nt++ ? "," : "", x0 + 1, y0 + h - 2);
    json_str(f, lab, 0);
    fputc(']', f);
  }
  free(box);
  fputs("],\"n\":[", f);
  for (int i = 0; i < nv; i++) {
    if (v[i].is_ad) {
      fprintf(f, "%s[0,%.1f,%.1f,", i ? "," : "", v[i].x + 20, v[i].y + 20);
      json_str(f, l->ads[v[i].ref].id, 0);
    } else {
      const vigil__net_ident *x = &l->idents[v[i].ref];
      fprintf(f, "%s[1,%.1f,%.1f,\"%s\",%d,", i ? "," : "", v[i].x + 14, v[i].y + 14, vigil__net_kind_name(x->kind),
              x->hub ? 1 : 0);
      json_str(f, x->value, 0);
    }
    fputc(']', f);
  }
  fputs("]}", f);
  free(v);
  free(e);
  return VIGIL_OK;
}

typedef struct span {
  uint32_t s, e;
  int kind;
} span;

static int cmp_span(const void *a, const void *b) {
  const span *x = a, *y = b;
  return x->s < y->s ? -1 : x->s > y->s;
}

/* The ad's text with its evidence marked, as a JSON array of pieces: a
 * string is plain text, [kind, text] a marked identifier; cut at 3,000
 * bytes (" …" then ends it). */
static void ad_text(FILE *f, const vigil__net_ad *a) {
  span sp[64];
  int n = 0;
  for (uint32_t q = 0; q < a->n_ev && n < 64; q++)
    if (a->ev[q].span > 0 && a->ev[q].start + a->ev[q].span <= a->text_len)
      sp[n++] = (span){a->ev[q].start, a->ev[q].start + a->ev[q].span, a->ev[q].kind};
  qsort(sp, (size_t)n, sizeof *sp, cmp_span);
  uint32_t limit = a->text_len < 3000 ? a->text_len : 3000, pos = 0;
  while (limit < a->text_len && limit > 0 && ((unsigned char)a->text[limit] & 0xC0) == 0x80) limit--;
  fputs("[\"", f);
  for (int i = 0; i < n; i++) {
    if (sp[i].s < pos || sp[i].e > limit) continue; /* overlapping or cut off */
    json_chars(f, a->text + pos, sp[i].s - pos, 0);
    fprintf(f, "\",[\"%s\",\"", vigil__net_kind_name(sp[i].kind));
    json_chars(f, a->text + sp[i].s, sp[i].e - sp[i].s, 0);
    fputs("\"],\"", f);
    pos = sp[i].e;
  }
  json_chars(f, a->text + pos, limit - pos, 0);
  if (limit < a->text_len) fputs(" …", f);
  fputs("\"]", f);
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
    "th{background:#eee}.risk{font-weight:bold}.g{border-top:3px solid #446;margin-top:2em;"
    "scroll-margin-top:5em}#groups tr{scroll-margin-top:5em}"
    "#controls{position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #ccc;z-index:1}"
    "#controls input{width:22em}#controls>*{margin-right:.6em}#count,#pinfo{color:#555}"
    "#groups td{max-width:28em;overflow-wrap:anywhere}"
    ".graph{border:1px solid #ccc;background:#fafafa}.ad{fill:#4a7fd0}.id{fill:#d08a2a}.id.email{fill:#2aa05a}"
    ".id.handle{fill:#a03aa0}.id.image{fill:#777}.id.hub{fill:#fff;stroke:#c00;stroke-dasharray:2}"
    "line.et{stroke:#4a7fd0;stroke-width:2}line.ei{stroke:#d08a2a}line.eh{stroke:#c00;stroke-dasharray:4}"
    "svg text{font:10px monospace;fill:#333}.tpl{background:#f4f4ec;padding:.6em;border-left:4px solid #998;"
    "white-space:pre-wrap;word-break:break-word}.slot{background:#ffd86b;border-radius:3px;padding:0 2px;"
    "font-weight:bold}.sPHONE{background:#f9a}.sNAME{background:#9df}.sAGE{background:#bfb}.sPRICE{background:#fc8}"
    ".tplmeta,.slotex{color:#555;font-size:12px}mark.phone{background:#f9a}mark.email{background:#9e9}"
    "mark.handle{background:#dbf}mark.name{background:#9df}.adtext{white-space:pre-wrap;word-break:break-word;"
    "max-width:60em}.legend span{margin-right:1em}.times{font-weight:bold;color:#a33}.ids{max-width:14em;"
    "overflow-wrap:anywhere}.tl{border:1px solid #ccc;background:#fafafa}.tl rect{fill:#4a7fd0}"
    ".tl text{font:10px sans-serif;fill:#333}.src{display:block;font-size:12px;overflow-wrap:anywhere}";

/* The report's one script.  It parses the data block (one JSON array per
 * group: [risk, risk shown, ads, phones, names, places, first seen, last
 * seen, reasons, phones, names, e-mails and handles, places (these four
 * for the search: lower-cased for ASCII here, and wholly by lc() at the
 * first search, with the query's own toLowerCase, so "zürich" finds
 * "ZÜRICH"; a final sigma is folded to sigma on both sides, since
 * toLowerCase makes a trailing capital sigma of a query ς), details {"h": places and identifiers
 * (markup), "g": graph_json, "t": timeline, "p": template (markup), "a":
 * ads_table}]) and renders only what is looked
 * at: one page of PG table rows (the search and the risk filter run over
 * the data, not the DOM), and a group's section when it is opened (its
 * link, #gN in the address, or the top group at start).  Row cells are
 * set as text; the details are markup this file wrote with every ad
 * string escaped.  The initial filter may come from the address
 * ("report.html#q=2135550199&f=phone&r=0.5").  body[data-ready-ms]
 * records when the page was usable, for the tests and the benchmark. */
static const char script[] =
    "(function(){'use strict';"
    "function $(i){return document.getElementById(i);}"
    "var G=JSON.parse($('data').textContent),N=G.length,PG=100,shown=[],page=0,filtered=false;"
    "var q=$('q'),fld=$('f'),rk=$('r'),cnt=$('count'),pinfo=$('pinfo'),prev=$('prev'),next=$('next'),"
    "opened=$('open'),tb=document.querySelector('#groups tbody');"
    "function dg(x){return x.replace(/[^0-9]/g,'');}"
    "function lc(x){return x.toLowerCase().replace(/\\u03c2/g,'\\u03c3');}"
    "var low=false;"
    "function lower(){if(low)return;low=true;"
    "for(var i=0;i<N;i++)for(var j=9;j<13;j++)G[i][j]=lc(G[i][j]);}"
    "function hay(g,f){return f==='phone'?g[9]:f==='name'?g[10]:f==='contact'?g[11]:f==='place'?g[12]:"
    "g[9]+' '+g[10]+' '+g[12]+' '+g[11];}"
    "function apply(){var s=lc(q.value.trim()),f=fld.value,r=parseFloat(rk.value)||0,sd=dg(s);"
    "if(s)lower();"
    "filtered=!!s||r>0;shown=[];"
    "for(var i=0;i<N;i++){var g=G[i],ok=g[0]>=r;"
    "if(ok&&s){var h=hay(g,f);ok=h.indexOf(s)>=0||((f==='all'||f==='phone')&&sd.length>=4&&"
    "dg(g[9]).indexOf(sd)>=0);}"
    "if(ok)shown.push(i);}page=0;render();}"
    "function td(tr,t,c){var e=document.createElement('td');if(c)e.className=c;e.textContent=t;tr.appendChild(e);}"
    "function render(){var np=Math.max(1,Math.ceil(shown.length/PG));if(page>=np)page=np-1;if(page<0)page=0;"
    "var a=page*PG,b=Math.min(shown.length,a+PG),fr=document.createDocumentFragment();"
    "for(var k=a;k<b;k++){var i=shown[k],g=G[i],tr=document.createElement('tr'),c=document.createElement('td'),"
    "l=document.createElement('a');tr.setAttribute('data-g','g'+i);l.href='#g'+i;l.textContent=String(i);"
    "c.appendChild(l);tr.appendChild(c);td(tr,g[1],'risk');"
    "for(var j=2;j<6;j++)td(tr,String(g[j]));td(tr,g[6]);td(tr,g[7]);td(tr,g[8]);fr.appendChild(tr);}"
    "tb.textContent='';tb.appendChild(fr);"
    "cnt.textContent=filtered?shown.length+' of '+N+' groups shown':N+' groups';"
    "pinfo.textContent=shown.length?'rows '+(a+1)+'\\u2013'+b+' of '+shown.length:'no rows';"
    "prev.disabled=page===0;next.disabled=page>=np-1;"
    "var c=$('controls').getBoundingClientRect().bottom,t=$('groups').getBoundingClientRect().top;"
    "if(t<c)window.scrollBy(0,t-c);}"
    "var NS='http://www.w3.org/2000/svg';"
    "function put(e,a,t){for(var k in a)e.setAttribute(k,a[k]);if(t!=null)e.textContent=t;return e;}"
    "function E(n,a,t){return put(document.createElement(n),a,t);}"
    "function S(n,a,t){return put(document.createElementNS(NS,n),a,t);}"
    "function add(p,c){p.appendChild(typeof c==='string'?document.createTextNode(c):c);return c;}"
    "function graph(d,p){var s=S('svg',{'class':'graph',width:640,height:420,viewBox:'0 0 640 420',role:'img'});"
    "d.l.forEach(function(l){s.appendChild(S('line',{'class':['et','ei','eh'][l[0]],x1:l[1],y1:l[2],x2:l[3],"
    "y2:l[4]}));});"
    "d.t.forEach(function(t){s.appendChild(S('text',{'class':'lab',x:t[0],y:t[1]},t[2]));});"
    "d.n.forEach(function(n){var e=n[0]?S('rect',{'class':'id '+n[3]+(n[4]?' hub':''),x:n[1],y:n[2],width:12,"
    "height:12}):S('circle',{'class':'ad',cx:n[1],cy:n[2],r:7});"
    "e.appendChild(S('title',{},n[0]?n[3]+' '+n[5]+(n[4]?' (hub: not used to link)':''):'ad '+n[3]));"
    "s.appendChild(e);});p.appendChild(s);}"
    "function tline(t,p){add(p,E('p',{},'Time line: '+t.n+' dated ads, '+(t.d?'one day':'several days')+"
    "' per bar.'));var s=S('svg',{'class':'tl',width:600,height:86,viewBox:'0 0 600 86',role:'img'});"
    "t.b.forEach(function(b){add(s,S('rect',{x:b[0],y:b[1],width:b[2],height:b[3]})).appendChild("
    "S('title',{},b[4]+' ads'));});"
    "add(s,S('text',{x:10,y:84},t.a));add(s,S('text',{x:590,y:84,'text-anchor':'end'},t.z));p.appendChild(s);}"
    "function ads(a,p){add(p,E('p',{},a.n+' ads, '+a.d+' distinct texts.'));var t=E('table'),"
    "h=add(t,E('tr'));['ads','place, date, source','score','text (evidence highlighted)'].forEach("
    "function(x){add(h,E('th',{},x));});"
    "a.r.forEach(function(r){var tr=add(t,E('tr')),c=add(tr,E('td',{'class':'ids'}));"
    "if(r[0]>1){add(c,E('span',{'class':'times'},'\\u00d7'+r[0]));add(c,' ');}"
    "add(c,r[1].join(', ')+(r[0]>6?' and '+(r[0]-6)+' more':''));c=add(tr,E('td',{},r[2]));"
    "r[3].forEach(function(u){if(u[0]!=null){add(c,E('br'));add(c,u[0]);}"
    "if(u[2]&&/^https?:\\/\\//i.test(u[1]))add(c,E('a',{'class':'src',rel:'noopener noreferrer nofollow',"
    "target:'_blank',href:u[1]},u[1]));"
    "else if(u[1])add(c,E('span',{'class':'src'},u[1]+' (not a web address: not linked)'));});"
    "add(tr,E('td',{},r[4]));c=add(tr,E('td',{'class':'adtext'}));"
    "r[5].forEach(function(x){add(c,typeof x==='string'?x:E('mark',{'class':x[0]},x[1]));});});"
    "if(a.m)add(add(t,E('tr')),E('td',{colspan:4},'\\u2026 and '+a.m+' more distinct texts (see groups.json)'));"
    "p.appendChild(t);}"
    "function section(i){var id='g'+i,s=$(id);if(s)return s;var g=G[i];"
    "s=document.createElement('section');s.className='g';s.id=id;"
    "var h=document.createElement('h2');h.textContent='Group '+i+': risk '+g[1]+', '+g[2]+' ads';s.appendChild(h);"
    "var p=document.createElement('p');p.textContent=g[8];s.appendChild(p);"
    "var d=document.createElement('div'),x=g[13];d.className='body';d.innerHTML=x.h;graph(x.g,d);"
    "if(x.t)tline(x.t,d);d.insertAdjacentHTML('beforeend',x.p);ads(x.a,d);s.appendChild(d);"
    "var e=document.createElement('p'),a=document.createElement('a'),x=document.createElement('button');"
    "a.href='#groups';a.textContent='back to the table';x.type='button';x.className='close';x.textContent='close';"
    "x.addEventListener('click',function(){s.remove();});e.appendChild(a);e.appendChild(document.createTextNode(' '));"
    "e.appendChild(x);s.appendChild(e);opened.insertBefore(s,opened.firstChild);return s;}"
    "function go(){var m=/^g([0-9]+)$/.exec(location.hash.slice(1));"
    "if(m&&+m[1]<N){section(+m[1]).scrollIntoView();return true;}return false;}"
    "var hs=location.hash.slice(1).split('&');"
    "for(var i=0;i<hs.length;i++){var kv=hs[i].split('='),v=decodeURIComponent(kv[1]||'');"
    "if(kv[0]==='q')q.value=v;else if(kv[0]==='f')fld.value=v;else if(kv[0]==='r')rk.value=v;}"
    "q.addEventListener('input',apply);fld.addEventListener('change',apply);rk.addEventListener('change',apply);"
    "prev.addEventListener('click',function(){page--;render();});"
    "next.addEventListener('click',function(){page++;render();});"
    "tb.addEventListener('click',function(e){var a=e.target.closest&&e.target.closest('a');if(!a)return;"
    "e.preventDefault();var h='#g'+a.textContent;if(location.hash===h)go();else location.hash=h;});"
    "window.addEventListener('hashchange',go);"
    "apply();if(!go()&&shown.length)section(shown[0]);"
    "document.body.setAttribute('data-ready-ms',String(Math.round(performance.now())));})();";

/* 'sha256-<base64>' of the script, for the Content Security Policy. */
static int script_hash(char out[64]) {
  unsigned char md[32];
  unsigned int mdl = 0;
  if (!EVP_Digest(script, sizeof script - 1, md, &mdl, EVP_sha256(), NULL) || mdl != 32) return -1;
  return EVP_EncodeBlock((unsigned char *)out, md, 32) == 44 ? 0 : -1;
}

static int is_http(const char *u) {
  return u && (!strncasecmp(u, "http://", 7) || !strncasecmp(u, "https://", 8));
}

/* Days since 1970-01-01 of "YYYY-MM-DD..." or -1 (civil-from-days inverse). */
static long day_number(const char *s) {
  if (!s || strlen(s) < 10) return -1;
  for (int i = 0; i < 10; i++)
    if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9')) return -1;
  long y = atol(s), m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
  if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31) return -1;
  y -= m <= 2;
  long era = y / 400, yoe = y - era * 400, doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* The group's time line: ads per day (per 30 days over long ranges), as
 * bars the script draws (600 by 86): {"n": dated ads, "d": 1 when a bar is
 * a day, "b": bars [x, y, width, height, ads], "a"/"z": first and last
 * day}; null when fewer than two members carry a date. */
static int timeline(FILE *f, const vigil_linker *l, const vigil__net_group *g) {
  long lo = -1, hi = -1;
  size_t dated = 0;
  for (size_t k = 0; k < g->n; k++) {
    long d = day_number(l->ads[g->members[k]].posted_at);
    if (d < 0) continue;
    dated++;
    if (lo < 0 || d < lo) lo = d;
    if (hi < 0 || d > hi) hi = d;
  }
  if (dated < 2) {
    fputs("null", f);
    return VIGIL_OK;
  }
  long width = hi - lo + 1, step = width > 120 ? 30 : 1, nbin = (width + step - 1) / step;
  if (nbin > 400) {
    step = (width + 399) / 400;
    nbin = (width + step - 1) / step;
  }
  size_t *bin = calloc((size_t)nbin, sizeof *bin), top = 1;
  if (!bin) return VIGIL_ENOMEM;
  for (size_t k = 0; k < g->n; k++) {
    long d = day_number(l->ads[g->members[k]].posted_at);
    if (d >= 0 && ++bin[(d - lo) / step] > top) top = bin[(d - lo) / step];
  }
  const int W = 600, H = 70;
  double bw = (double)(W - 20) / (double)nbin;
  fprintf(f, "{\"n\":%zu,\"d\":%d,\"b\":[", dated, step == 1);
  int nbar = 0;
  for (long b = 0; b < nbin; b++) {
    if (!bin[b]) continue;
    double h = (double)(H - 10) * (double)bin[b] / (double)top;
    fprintf(f, "%s[%.1f,%.1f,%.1f,%.1f,%zu]", nbar++ ? "," : "", 10 + bw * (double)b, (double)H - h,
            bw > 2 ? bw - 1 : bw, h, bin[b]);
  }
  fputs("],\"a\":\"", f);
  json_chars(f, g->first_seen, g->first_seen ? strnlen(g->first_seen, 10) : 0, 0);
  fputs("\",\"z\":\"", f);
  json_chars(f, g->last_seen, g->last_seen ? strnlen(g->last_seen, 10) : 0, 0);
  fputs("\"}", f);
  free(bin);
  return VIGIL_OK;
}

typedef struct fold {
  uint64_t h;
  uint32_t ad, order;
} fold;

/* By text hash, then by first appearance: equal texts form runs whose
 * first element is the earliest. */
static int cmp_fold(const void *a, const void *b) {
  const fold *x = a, *y = b;
  if (x->h != y->h) return x->h < y->h ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_first(const void *a, const void *b) {
  const fold *x = a, *y = b;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* One row per distinct text among the members (identical reposts folded,
 * with their count), in the order of first appearance, as data the script
 * draws as a table: {"n": ads, "d": distinct texts, "m": texts left out,
 * "r": rows [count, ids, place, [[date, url, 1 when http(s)]...], score,
 * text pieces]}. */
static int ads_table(FILE *f, const vigil_linker *l, const vigil__net_group *g) {
  fold *v = calloc(g->n ? g->n : 1, sizeof *v);
  if (!v) return VIGIL_ENOMEM;
  for (size_t k = 0; k < g->n; k++) {
    const vigil__net_ad *a = &l->ads[g->members[k]];
    v[k] = (fold){vigil__net_hash64(a->text, a->text_len, 0x9e3779b97f4a7c15ull), g->members[k], (uint32_t)k};
  }
  qsort(v, g->n, sizeof *v, cmp_fold);
  /* runs of equal text: the run's first element stands for it (order = first appearance) */
  size_t nrun = 0;
  uint32_t *start = malloc((g->n + 1) * sizeof *start);
  if (!start) {
    free(v);
    return VIGIL_ENOMEM;
  }
  for (size_t k = 0; k < g->n;) {
    size_t e = k + 1;
    const vigil__net_ad *a = &l->ads[v[k].ad];
    while (e < g->n && v[e].h == v[k].h && l->ads[v[e].ad].text_len == a->text_len &&
           !memcmp(l->ads[v[e].ad].text, a->text, a->text_len))
      e++;
    start[nrun++] = (uint32_t)k;
    k = e;
  }
  start[nrun] = (uint32_t)g->n;
  fold *heads = malloc((nrun ? nrun : 1) * sizeof *heads);
  if (!heads) {
    free(v);
    free(start);
    return VIGIL_ENOMEM;
  }
  /* a run's head: h = the run's number (runs are start[h] .. start[h + 1] of v) */
  for (size_t r = 0; r < nrun; r++) heads[r] = (fold){r, v[start[r]].ad, v[start[r]].order};
  qsort(heads, nrun, sizeof *heads, cmp_first);
  fprintf(f, "{\"n\":%zu,\"d\":%zu,\"m\":%zu,\"r\":[", g->n, nrun, nrun > NET_HTML_ADS ? nrun - NET_HTML_ADS : 0);
  for (size_t r = 0; r < nrun && r < NET_HTML_ADS; r++) {
    size_t k0 = start[heads[r].h], k1 = start[heads[r].h + 1], cnt = k1 - k0;
    const vigil__net_ad *a = &l->ads[v[k0].ad];
    fprintf(f, "%s[%zu,[", r ? "," : "", cnt);
    for (size_t q = k0; q < k1 && q < k0 + NET_HTML_IDS; q++) {
      if (q > k0) fputc(',', f);
      json_str(f, l->ads[v[q].ad].id, 0);
    }
    fputs("],", f);
    json_str(f, a->location, 0);
    fputs(",[", f);
    for (size_t q = k0; q < k1 && q < k0 + NET_HTML_IDS; q++) {
      const vigil__net_ad *b = &l->ads[v[q].ad];
      fputs(q > k0 ? ",[" : "[", f);
      if (b->posted_at) json_str(f, b->posted_at, 0);
      else fputs("null", f);
      fputc(',', f);
      json_str(f, b->url, 0);
      fprintf(f, ",%d]", is_http(b->url));
    }
    fprintf(f, "],\"%.2f\",", (double)a->score);
    ad_text(f, a);
    fputc(']', f);
  }
  fputs("]}", f);
  free(heads);
  free(start);
  free(v);
  return VIGIL_OK;
}

/* The places and identifiers of a group, as markup (every string escaped). */
static void head_html(FILE *f, const vigil_linker *l, const vigil__net_group *g) {
  fputs("<p>Places: ", f);
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
}

static void tpl_html(FILE *f, const vigil_linker *l, const vigil__net_group *g) {
  if (g->tpl) template_html(f, l, g->tpl);
}

/* What w writes, as one JSON string. */
static int json_markup(FILE *f, const vigil_linker *l, const vigil__net_group *g,
                       void (*w)(FILE *, const vigil_linker *, const vigil__net_group *)) {
  char *buf = NULL;
  size_t len = 0;
  FILE *d = open_memstream(&buf, &len);
  if (!d) return VIGIL_ENOMEM;
  w(d, l, g);
  int bad = ferror(d);
  if (fclose(d) || bad) {
    free(buf);
    return VIGIL_ENOMEM;
  }
  fputc('"', f);
  json_chars(f, buf, len, 0);
  fputc('"', f);
  free(buf);
  return VIGIL_OK;
}

int vigil_linker_write_html(const vigil_linker *l, const char *path, vigil_error *err) {
  return vigil__net_write_path(l, path, vigil_linker_fwrite_html, err);
}

int vigil_linker_fwrite_html(const vigil_linker *l, FILE *f, vigil_error *err) {
  int rc0 = vigil__net_begin_out(l, f, err);
  if (rc0) return rc0;
  char sha[64];
  if (script_hash(sha)) return vigil__net_end_out(f, VIGIL_EINTERNAL, err);
  uint32_t *eoff, *eidx;
  if (vigil__net_edges_by_group(l, &eoff, &eidx)) return vigil__net_end_out(f, VIGIL_ENOMEM, err);
  size_t hubs = 0, grouped = 0;
  for (size_t i = 0; i < l->n_idents; i++) hubs += l->idents[i].hub;
  for (size_t i = 0; i < l->n_groups; i++) grouped += l->groups[i].n;
  fprintf(f,
          "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
          "script-src 'sha256-%s'; img-src data:; form-action 'none'; base-uri 'none'\">\n"
          "<meta name=\"referrer\" content=\"no-referrer\">\n"
          "<title>vigil link report</title>\n<style>%s</style></head><body>\n"
          "<h1>Ad networks</h1>\n<p>%zu ads; %zu groups of at least %d ads holding %zu ads; %zu hub identifiers "
          "(shared by several separate groups, shown but not used to link). Links: %s%s%s.</p>\n"
          "<p class=\"legend\"><span style=\"color:#4a7fd0\">&#9679; ad</span><span style=\"color:#d08a2a\">&#9632; "
          "phone</span><span style=\"color:#2aa05a\">&#9632; e-mail</span><span style=\"color:#a03aa0\">&#9632; "
          "handle</span><span style=\"color:#c00\">&#9633; hub</span><span>blue line: template link</span></p>\n",
          sha, css, l->n_ads, l->n_groups, l->o.min_size, grouped, hubs, l->o.use_identifiers ? "shared identifiers" : "",
          l->o.use_identifiers && l->o.use_templates ? " and " : "", l->o.use_templates ? "templates" : "");
  fputs("<h2>Groups by risk</h2>\n<div id=\"controls\"><input id=\"q\" type=\"search\" placeholder=\"search: phone, "
        "name, place, e-mail, handle\" aria-label=\"search\"><select id=\"f\" aria-label=\"field\"><option value=\"all\">"
        "any field</option><option value=\"phone\">phone</option><option value=\"name\">name</option><option "
        "value=\"place\">place</option><option value=\"contact\">e-mail or handle</option></select><label>risk &ge; "
        "<select id=\"r\"><option value=\"0\">any</option><option value=\"0.5\">0.50</option><option value=\"0.7\">"
        "0.70</option><option value=\"0.9\">0.90</option></select></label><span id=\"count\"></span>"
        "<button id=\"prev\" type=\"button\">&lsaquo; previous</button><span id=\"pinfo\"></span>"
        "<button id=\"next\" type=\"button\">next &rsaquo;</button></div>\n"
        "<table id=\"groups\"><thead><tr><th>#</th><th>risk</th><th>ads</th><th>phones</th><th>names</th>"
        "<th>places</th><th>first seen</th><th>last seen</th><th>reasons</th></tr></thead><tbody></tbody></table>\n"
        "<noscript><p>The table and the groups' details are drawn by the report's script; groups.json holds the same "
        "groups.</p></noscript>\n<div id=\"open\"></div>\n"
        "<script type=\"application/json\" id=\"data\">[",
        f);
  /* The groups as data: the script renders the rows on screen and a
   * group's details when it is opened, so ten thousand groups cost one
   * JSON.parse instead of ten thousand sections of DOM. */
  int rc = VIGIL_OK;
  for (size_t i = 0; i < l->n_groups && rc == VIGIL_OK; i++) {
    const vigil__net_group *g = &l->groups[i];
    double risk = isfinite(g->risk) ? g->risk : 0; /* JSON has no NaN */
    fprintf(f, "%s\n[%.3f,\"%.2f\",%zu,%zu,%zu,%zu,", i ? "," : "", risk, risk, g->n, g->pub.n_phones, g->pub.n_names,
            g->pub.n_locations);
    json_str(f, g->first_seen, 0);
    fputc(',', f);
    json_str(f, g->last_seen, 0);
    fputc(',', f);
    json_str(f, g->reasons, 0);
    fputc(',', f);
    json_idents(f, l, g, VIGIL_EV_PHONE, VIGIL_EV_PHONE);
    fputc(',', f);
    json_idents(f, l, g, VIGIL_EV_NAME, VIGIL_EV_NAME);
    fputc(',', f);
    json_idents(f, l, g, VIGIL_EV_EMAIL, VIGIL_EV_HANDLE);
    fputs(",\"", f);
    for (size_t k = 0; k < g->n_loc; k++) {
      if (k) fputs(" | ", f);
      json_chars(f, g->locations[k], strlen(g->locations[k]), 1);
    }
    fputs("\",{\"h\":", f);
    rc = json_markup(f, l, g, head_html);
    if (rc == VIGIL_OK) {
      fputs(",\"g\":", f);
      rc = graph_json(f, l, g, eoff, eidx);
    }
    if (rc == VIGIL_OK) {
      fputs(",\"t\":", f);
      rc = timeline(f, l, g);
    }
    if (rc == VIGIL_OK) {
      fputs(",\"p\":", f);
      rc = json_markup(f, l, g, tpl_html);
    }
    if (rc == VIGIL_OK) {
      fputs(",\"a\":", f);
      rc = ads_table(f, l, g);
    }
    fputs("}]", f);
  }
  fputs("]</script>\n", f);
  fprintf(f, "<script>%s</script>\n</body></html>\n", script);
  free(eoff);
  free(eidx);
  return vigil__net_end_out(f, rc, err);
}
