/* SPDX-License-Identifier: Apache-2.0 */
/*
 * out_graph.c - the link graph for Gephi (GraphML) and Graphviz (DOT).
 *
 * Nodes: every ad in a reported group ("a<n>") and every identifier such an
 * ad carries ("i<n>", names excluded); edges: ad-identifier ("carries",
 * marked hub when the identifier is a hub and so did not link) and ad-ad
 * template links with their Jaccard similarity.  Text from ads is escaped
 * for XML (invalid UTF-8 and control characters replaced) or for DOT
 * quoted strings.
 */
#include "network/net_internal.h"

#include <errno.h>
#include <string.h>
#include <utf8proc.h>

void vigil__net_xml_escape(FILE *f, const char *s, size_t n) {
  if (!s) return;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
      switch (c) {
      case '&': fputs("&amp;", f); break;
      case '<': fputs("&lt;", f); break;
      case '>': fputs("&gt;", f); break;
      case '"': fputs("&quot;", f); break;
      case '\'': fputs("&#39;", f); break;
      case '\n': case '\t': fputc(c, f); break;
      default:
        if (c < 0x20 || c == 0x7f) fputs("\xEF\xBF\xBD", f);
        else fputc(c, f);
      }
      i++;
      continue;
    }
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
    if (k <= 0 || (cp >= 0x80 && cp < 0xA0) || cp == 0xFFFE || cp == 0xFFFF) {
      fputs("\xEF\xBF\xBD", f);
      i += k > 0 ? (size_t)k : 1;
    } else {
      fwrite(s + i, 1, (size_t)k, f);
      i += (size_t)k;
    }
  }
}

static void xml(FILE *f, const char *s) { vigil__net_xml_escape(f, s, s ? strlen(s) : 0); }

static void dot_str(FILE *f, const char *s) {
  fputc('"', f);
  size_t n = s ? strlen(s) : 0;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      fputc('\\', f);
      fputc(c, f);
      i++;
    } else if (c < 0x20 || c == 0x7f) {
      fputc(' ', f);
      i++;
    } else if (c < 0x80) {
      fputc(c, f);
      i++;
    } else {
      utf8proc_int32_t cp;
      utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
      if (k <= 0) {
        fputs("\xEF\xBF\xBD", f);
        i++;
      } else {
        fwrite(s + i, 1, (size_t)k, f);
        i += (size_t)k;
      }
    }
  }
  fputc('"', f);
}

static uint32_t canon(const vigil_linker *l, uint32_t id) {
  while (l->idents[id].canon != id) id = l->idents[id].canon;
  return id;
}

typedef void (*node_fn)(FILE *f, const vigil_linker *l, int is_ad, uint32_t n, long group);
typedef void (*edge_fn)(FILE *f, const vigil_linker *l, uint32_t a, uint32_t b, int ident, double sim);

/* Visits nodes then edges of the grouped part of the graph. */
static int walk(const vigil_linker *l, FILE *f, node_fn node, edge_fn edge) {
  uint8_t *seen = calloc(l->n_idents ? l->n_idents : 1, 1);
  if (!seen) return VIGIL_ENOMEM;
  for (size_t gi = 0; gi < l->n_groups; gi++) {
    const vigil__net_group *g = &l->groups[gi];
    for (size_t k = 0; k < g->n; k++) node(f, l, 1, g->members[k], (long)gi);
  }
  for (size_t gi = 0; gi < l->n_groups; gi++) {
    const vigil__net_group *g = &l->groups[gi];
    for (size_t k = 0; k < g->n_idents; k++) {
      uint32_t x = g->idents[k];
      if (l->idents[x].kind == VIGIL_EV_NAME || seen[x]) continue;
      seen[x] = 1;
      node(f, l, 0, x, l->idents[x].hub ? -1 : (long)gi);
    }
  }
  for (size_t gi = 0; gi < l->n_groups; gi++) {
    const vigil__net_group *g = &l->groups[gi];
    for (size_t k = 0; k < g->n; k++) {
      const vigil__net_ad *a = &l->ads[g->members[k]];
      for (uint32_t e = 0; e < a->n_ev; e++) {
        if (a->ev[e].kind == VIGIL_EV_NAME) continue;
        int dup = 0; /* one edge per (ad, identifier) */
        for (uint32_t p = 0; p < e && !dup; p++)
          dup = a->ev[p].kind != VIGIL_EV_NAME && canon(l, a->ev[p].ident) == canon(l, a->ev[e].ident);
        if (!dup) edge(f, l, g->members[k], canon(l, a->ev[e].ident), 1, 0);
      }
    }
  }
  if (l->o.use_templates)
    for (size_t i = 0; i < l->n_tedges; i++)
      if (l->group_of[l->tedges[i].a] >= 0) edge(f, l, l->tedges[i].a, l->tedges[i].b, 0, l->tedges[i].sim);
  free(seen);
  return VIGIL_OK;
}

static void gml_node(FILE *f, const vigil_linker *l, int is_ad, uint32_t n, long group) {
  if (is_ad) {
    const vigil__net_ad *a = &l->ads[n];
    fprintf(f, "    <node id=\"a%u\"><data key=\"type\">ad</data><data key=\"label\">", n);
    xml(f, a->id);
    fprintf(f, "</data><data key=\"group\">%ld</data><data key=\"score\">%.3f</data><data key=\"place\">", group,
            (double)a->score);
    xml(f, a->location);
    fputs("</data></node>\n", f);
  } else {
    const vigil__net_ident *x = &l->idents[n];
    fprintf(f, "    <node id=\"i%u\"><data key=\"type\">%s</data><data key=\"label\">", n, vigil__net_kind_name(x->kind));
    xml(f, x->value);
    fprintf(f, "</data><data key=\"group\">%ld</data><data key=\"hub\">%s</data></node>\n", group,
            x->hub ? "true" : "false");
  }
}

static void gml_edge(FILE *f, const vigil_linker *l, uint32_t a, uint32_t b, int ident, double sim) {
  if (ident)
    fprintf(f, "    <edge source=\"a%u\" target=\"i%u\"><data key=\"link\">%s</data></edge>\n", a, b,
            l->idents[b].hub ? "hub" : "carries");
  else
    fprintf(f, "    <edge source=\"a%u\" target=\"a%u\"><data key=\"link\">template</data><data key=\"jaccard\">%.3f</data></edge>\n",
            a, b, sim);
}

static void dot_node(FILE *f, const vigil_linker *l, int is_ad, uint32_t n, long group) {
  if (is_ad) {
    fprintf(f, "  a%u [shape=ellipse, group=%ld, label=", n, group);
    dot_str(f, l->ads[n].id);
    fputs("];\n", f);
  } else {
    const vigil__net_ident *x = &l->idents[n];
    fprintf(f, "  i%u [shape=box, style=%s, kind=%s, label=", n, x->hub ? "dashed" : "filled", vigil__net_kind_name(x->kind));
    char lab[96];
    snprintf(lab, sizeof lab, "%s%s", x->kind == VIGIL_EV_IMAGE ? "pdq " : "", x->value);
    dot_str(f, lab);
    fputs("];\n", f);
  }
}

static void dot_edge(FILE *f, const vigil_linker *l, uint32_t a, uint32_t b, int ident, double sim) {
  if (ident) fprintf(f, "  a%u -- i%u%s;\n", a, b, l->idents[b].hub ? " [style=dashed, label=\"hub\"]" : "");
  else fprintf(f, "  a%u -- a%u [color=blue, label=\"%.2f\"];\n", a, b, sim);
}

int vigil__net_begin_out(const vigil_linker *l, FILE *f, vigil_error *err) {
  if (!l || !f) return vigil__seterr(err, VIGIL_EINVAL, "link: NULL linker or stream");
  if (!l->grouped) return vigil__seterr(err, VIGIL_EINVAL, "link: group the ads before writing");
  return VIGIL_OK;
}

int vigil__net_end_out(FILE *f, int rc, vigil_error *err) {
  /* flushed here so that a full disk is reported by the writer, and a
   * memory stream's buffer is complete when the writer returns */
  int bad = fflush(f) != 0 || ferror(f);
  if (rc) return vigil__seterr(err, rc, "%s", rc == VIGIL_ENOMEM ? "out of memory" : "cannot write");
  return bad ? vigil__seterr(err, VIGIL_EIO, "write failed") : VIGIL_OK;
}

int vigil__net_write_path(const vigil_linker *l, const char *path, vigil__net_fwriter w, vigil_error *err) {
  if (!l || !path) return vigil__seterr(err, VIGIL_EINVAL, "link: NULL linker or path");
  /* not grouped: said before a file is created or truncated */
  if (!l->grouped) return vigil__seterr(err, VIGIL_EINVAL, "link: group the ads before writing");
  FILE *f = fopen(path, "w");
  if (!f) return vigil__seterr(err, VIGIL_EIO, "%s: %s", path, strerror(errno));
  int rc = w(l, f, err);
  if (fclose(f) != 0 && !rc) rc = vigil__seterr(err, VIGIL_EIO, "write failed");
  if (rc && err) vigil__prefixerr(err, rc, path);
  return rc;
}

int vigil_linker_write_graphml(const vigil_linker *l, const char *path, vigil_error *err) {
  return vigil__net_write_path(l, path, vigil_linker_fwrite_graphml, err);
}

int vigil_linker_write_dot(const vigil_linker *l, const char *path, vigil_error *err) {
  return vigil__net_write_path(l, path, vigil_linker_fwrite_dot, err);
}

int vigil_linker_fwrite_graphml(const vigil_linker *l, FILE *f, vigil_error *err) {
  int rc0 = vigil__net_begin_out(l, f, err);
  if (rc0) return rc0;
  fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n"
        "  <key id=\"type\" for=\"node\" attr.name=\"type\" attr.type=\"string\"/>\n"
        "  <key id=\"label\" for=\"node\" attr.name=\"label\" attr.type=\"string\"/>\n"
        "  <key id=\"group\" for=\"node\" attr.name=\"group\" attr.type=\"long\"/>\n"
        "  <key id=\"score\" for=\"node\" attr.name=\"score\" attr.type=\"double\"/>\n"
        "  <key id=\"place\" for=\"node\" attr.name=\"place\" attr.type=\"string\"/>\n"
        "  <key id=\"hub\" for=\"node\" attr.name=\"hub\" attr.type=\"boolean\"/>\n"
        "  <key id=\"link\" for=\"edge\" attr.name=\"link\" attr.type=\"string\"/>\n"
        "  <key id=\"jaccard\" for=\"edge\" attr.name=\"jaccard\" attr.type=\"double\"/>\n"
        "  <graph id=\"ads\" edgedefault=\"undirected\">\n",
        f);
  int rc = walk(l, f, gml_node, gml_edge);
  fputs("  </graph>\n</graphml>\n", f);
  return vigil__net_end_out(f, rc, err);
}

int vigil_linker_fwrite_dot(const vigil_linker *l, FILE *f, vigil_error *err) {
  int rc = vigil__net_begin_out(l, f, err);
  if (rc) return rc;
  fputs("graph ads {\n  graph [overlap=false];\n", f);
  rc = walk(l, f, dot_node, dot_edge);
  fputs("}\n", f);
  return vigil__net_end_out(f, rc, err);
}
