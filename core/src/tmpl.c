/*
 * tmpl.c: templates (SPEC 2, 9.6).  Parsing into literal and {path} parts
 * (used by the compiler, which stores the parts in TMPLS/TPARTS, and by
 * ddt_tmpl_render_json for free JSON), rendering of compiled templates and
 * of JSON with templates inside strings.  Values are formatted by
 * ddt_format_value (extract/), by the kind the compiler recorded.
 */
#include <string.h>

#include "tmpl.h"


static int
t_id0(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
           || c == '$';
}


static int
t_id(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
           || (c >= '0' && c <= '9');
}


static int
push_part(ddt_arena_t *a, ddt_tmpl_part_t **parts, size_t *n, size_t *cap,
    ddt_tmpl_part_t *p)
{
    ddt_tmpl_part_t  *grown;

    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        grown = ddt_arena_alloc(a, *cap * sizeof(*grown));
        if (grown == NULL) {
            return DDT_ERROR;
        }
        if (*n) {
            memcpy(grown, *parts, *n * sizeof(*grown));
        }
        *parts = grown;
    }
    (*parts)[(*n)++] = *p;
    return DDT_OK;
}


int
ddt_tmpl_parse(ddt_arena_t *a, const char *s, size_t len, size_t max_paths,
    ddt_tmpl_part_t **parts, size_t *n, size_t *err_off, const char **err_msg)
{
    size_t            i, cap, lit_start, paths, j, k;
    ddt_buf_t         lit;
    ddt_tmpl_part_t   part;
    ddt_seg_t         segs[DDT_TMPL_MAX_SEGS];

    *parts = NULL;
    *n = 0;
    cap = 0;
    paths = 0;
    ddt_buf_init(&lit);
    lit_start = 0;
    i = 0;

#define FAIL(off_, msg_) do { *err_off = (off_); *err_msg = (msg_); \
        goto fail; } while (0)
#define FLUSH() do { if (lit.len) { \
        memset(&part, 0, sizeof(part)); \
        part.lit = ddt_arena_strndup(a, lit.data, lit.len); \
        part.lit_len = lit.len; part.off = lit_start; \
        if (part.lit == NULL || lit.oom \
            || push_part(a, parts, n, &cap, &part) != DDT_OK) \
            FAIL(lit_start, "out of memory"); \
        ddt_buf_reset(&lit); } } while (0)

    while (i < len) {
        if (s[i] == '{' && i + 1 < len && s[i + 1] == '{') {
            if (lit.len == 0) lit_start = i;
            ddt_buf_addc(&lit, '{');
            i += 2;
            continue;
        }
        if (s[i] == '}') {
            if (i + 1 < len && s[i + 1] == '}') {
                if (lit.len == 0) lit_start = i;
                ddt_buf_addc(&lit, '}');
                i += 2;
                continue;
            }
            FAIL(i, "unmatched '}' (write '}}' for a literal brace)");
        }
        if (s[i] != '{') {
            if (lit.len == 0) lit_start = i;
            ddt_buf_addc(&lit, s[i]);
            i++;
            continue;
        }

        /* a placeholder: { path } */
        FLUSH();
        memset(&part, 0, sizeof(part));
        part.off = i;
        j = i + 1;
        while (j < len && s[j] == ' ') j++;
        k = 0;
        for ( ;; ) {
            if (j >= len || !t_id0((unsigned char) s[j])) {
                FAIL(j, j >= len ? "unterminated '{'"
                     : "only a path may stand inside braces");
            }
            if (k == DDT_TMPL_MAX_SEGS) {
                FAIL(j, "path too long (limit 64 segments)");
            }
            segs[k].s = s + j;
            j++;
            while (j < len && t_id((unsigned char) s[j])) j++;
            segs[k].len = (size_t) (s + j - segs[k].s);
            k++;
            if (j < len && s[j] == '.') {
                j++;
                continue;
            }
            break;
        }
        while (j < len && s[j] == ' ') j++;
        if (j >= len) {
            FAIL(i, "unterminated '{'");
        }
        if (s[j] != '}') {
            FAIL(j, "only a path may stand inside braces");
        }
        if (++paths > max_paths) {
            FAIL(i, "too many placeholders in one template (limit 1000)");
        }
        part.segs = ddt_arena_alloc(a, k * sizeof(ddt_seg_t));
        if (part.segs == NULL) {
            FAIL(i, "out of memory");
        }
        memcpy(part.segs, segs, k * sizeof(ddt_seg_t));
        part.nsegs = k;
        if (push_part(a, parts, n, &cap, &part) != DDT_OK) {
            FAIL(i, "out of memory");
        }
        i = j + 1;
    }
    FLUSH();
    ddt_buf_free(&lit);
    return DDT_OK;

fail:
    ddt_buf_free(&lit);
    return DDT_ERROR;

#undef FAIL
#undef FLUSH
}


int
ddt_tmpl_render(const ddt_project_t *p, uint32_t tmpl, const ddt_json_t *mem,
    ddt_locale_t loc, ddt_buf_t *out)
{
    const ddt_btmpl_t   *t;
    const ddt_btpart_t  *pt;
    const ddt_json_t    *v;
    uint32_t             i;

    if (p == NULL || tmpl >= p->n_tmpls) {
        return DDT_ERROR;
    }
    t = &p->tmpls[tmpl];
    for (i = 0; i < t->parts.count; i++) {
        pt = &p->tparts[t->parts.first + i];
        if (pt->path == DDT_NONE) {
            if (pt->lit.off != DDT_NONE) {
                ddt_buf_add(out, p->strings + pt->lit.off, pt->lit.len);
            }
            continue;
        }
        v = ddt_mem_get(p, mem, pt->path);
        if (v == NULL || v->type == DDT_J_NULL) {
            continue;
        }
        ddt_format_value(pt->kind < DDT_KIND_COUNT ? (ddt_kind_t) pt->kind
                         : DDT_KIND_NONE, loc, v, out);
    }
    return out->oom ? DDT_ERROR : DDT_OK;
}


static ddt_json_t *
render_string(ddt_arena_t *a, const ddt_json_t *src, const ddt_json_t *mem,
    ddt_locale_t loc)
{
    ddt_tmpl_part_t   *parts;
    size_t             n, i, eoff;
    const char        *emsg;
    const char        *segs[DDT_TMPL_MAX_SEGS];
    size_t             lens[DDT_TMPL_MAX_SEGS], k;
    const ddt_json_t  *v;
    ddt_buf_t          b;
    ddt_json_t        *r;

    if (ddt_tmpl_parse(a, src->u.str.s, src->u.str.len, 1000, &parts, &n,
                       &eoff, &emsg) != DDT_OK)
    {
        return ddt_json_str(a, src->u.str.s, src->u.str.len);
    }
    if (n == 1 && parts[0].segs != NULL) {
        for (k = 0; k < parts[0].nsegs; k++) {
            segs[k] = parts[0].segs[k].s;
            lens[k] = parts[0].segs[k].len;
        }
        v = ddt_mem_get_segs(mem, segs, lens, parts[0].nsegs);
        return v ? ddt_json_clone(a, v) : ddt_json_null(a);
    }
    ddt_buf_init(&b);
    for (i = 0; i < n; i++) {
        if (parts[i].segs == NULL) {
            ddt_buf_add(&b, parts[i].lit, parts[i].lit_len);
            continue;
        }
        for (k = 0; k < parts[i].nsegs; k++) {
            segs[k] = parts[i].segs[k].s;
            lens[k] = parts[i].segs[k].len;
        }
        v = ddt_mem_get_segs(mem, segs, lens, parts[i].nsegs);
        if (v != NULL && v->type != DDT_J_NULL) {
            ddt_format_value(DDT_KIND_NONE, loc, v, &b);
        }
    }
    r = b.oom ? NULL : ddt_json_str(a, b.data ? b.data : "", b.len);
    ddt_buf_free(&b);
    return r;
}


ddt_json_t *
ddt_tmpl_render_json(ddt_arena_t *a, const ddt_json_t *src,
    const ddt_json_t *mem, ddt_locale_t loc)
{
    ddt_json_t  *r, *v;
    size_t       i;

    if (src == NULL) {
        return ddt_json_null(a);
    }
    switch (src->type) {
    case DDT_J_STR:
        return render_string(a, src, mem, loc);
    case DDT_J_ARR:
        r = ddt_json_arr(a);
        for (i = 0; r != NULL && i < src->u.arr.len; i++) {
            v = ddt_tmpl_render_json(a, src->u.arr.items[i], mem, loc);
            if (v == NULL || ddt_json_push(a, r, v) != DDT_OK) {
                return NULL;
            }
        }
        return r;
    case DDT_J_OBJ:
        r = ddt_json_obj(a);
        for (i = 0; r != NULL && i < src->u.obj.len; i++) {
            v = ddt_tmpl_render_json(a, src->u.obj.m[i].val, mem, loc);
            if (v == NULL
                || ddt_json_set(a, r, src->u.obj.m[i].key,
                                src->u.obj.m[i].klen, v) != DDT_OK)
            {
                return NULL;
            }
        }
        return r;
    default:
        return ddt_json_clone(a, src);
    }
}
