/*
 * tmpl.h: template parsing shared by the compiler (compile time) and by
 * ddt_tmpl_render_json (free JSON with templates, run time).  A template
 * is literal text with {path} placeholders; {{ and }} are literal braces
 * (SPEC 2, 9.6).  Rendering is declared in runtime.h.
 */
#ifndef DDT_TMPL_H
#define DDT_TMPL_H

#include "expr.h"

#define DDT_TMPL_MAX_SEGS  64

typedef struct {
    const char  *lit;                /* unescaped literal (arena), or NULL */
    size_t       lit_len;
    ddt_seg_t   *segs;               /* a {path}: segments into the source */
    size_t       nsegs;
    size_t       off;                /* byte offset of the part in the source */
} ddt_tmpl_part_t;

/*
 * Split a template into parts (at most max_paths placeholders).  Returns
 * DDT_OK, or DDT_ERROR with *err_off / *err_msg set.
 */
int ddt_tmpl_parse(ddt_arena_t *a, const char *s, size_t len,
    size_t max_paths, ddt_tmpl_part_t **parts, size_t *n,
    size_t *err_off, const char **err_msg);

#endif
