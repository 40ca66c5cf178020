/*
 * tmpl.c: template rendering (SPEC 2, 9.6): compiled templates (parts
 * stored by the compiler) and free JSON with templates inside strings.
 * Values are formatted by ddt_format_value (extract/) by the kind the
 * compiler recorded.  Parsing is in tmpl_parse.c.
 */
#include <string.h>

#include "tmpl.h"


/* Append one value formatted by its kind; percent-encoded for a url
 * (everything outside RFC 3986's unreserved set, and a "." or ".." on its
 * own), so what a caller said can never add a path segment, a query or a
 * fragment to the url the designer wrote. */
static void
tmpl_put_value(const ddt_btpart_t *pt, const ddt_json_t *v, ddt_locale_t loc,
    int url, ddt_buf_t *val, ddt_buf_t *out)
{
    static const char  hex[] = "0123456789ABCDEF";
    ddt_kind_t         kind;
    size_t             k;
    unsigned char      c;
    char               enc[3];

    kind = pt->kind < DDT_KIND_COUNT ? (ddt_kind_t) pt->kind : DDT_KIND_NONE;
    if (!url) {
        ddt_format_value(kind, loc, v, out);
        return;
    }
    ddt_buf_reset(val);
    ddt_format_value(kind, loc, v, val);
    for (k = 0; k < val->len; k++) {
        c = (unsigned char) val->data[k];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '~'
            || (c == '.' && val->len > 2))
        {
            ddt_buf_addc(out, (char) c);
            continue;
        }
        enc[0] = '%';
        enc[1] = hex[c >> 4];
        enc[2] = hex[c & 15];
        ddt_buf_add(out, enc, 3);
    }
}

static int
tmpl_render(const ddt_project_t *p, uint32_t tmpl, const ddt_json_t *mem,
    ddt_locale_t loc, int url, ddt_buf_t *out)
{
    const ddt_btmpl_t   *t;
    const ddt_btpart_t  *pt;
    const ddt_json_t    *v;
    ddt_buf_t            val;
    uint32_t             i;

    if (p == NULL || tmpl >= p->n_tmpls) {
        return DDT_ERROR;
    }
    ddt_buf_init(&val);
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
        if (v != NULL && v->type != DDT_J_NULL) {
            tmpl_put_value(pt, v, loc, url, &val, out);
        }
    }
    ddt_buf_free(&val);
    return out->oom ? DDT_ERROR : DDT_OK;
}

int
ddt_tmpl_render(const ddt_project_t *p, uint32_t tmpl, const ddt_json_t *mem,
    ddt_locale_t loc, ddt_buf_t *out)
{
    return tmpl_render(p, tmpl, mem, loc, 0, out);
}

/* A BackendCall url: inserted values are percent-encoded. */
int
ddt_tmpl_render_url(const ddt_project_t *p, uint32_t tmpl,
    const ddt_json_t *mem, ddt_locale_t loc, ddt_buf_t *out)
{
    return tmpl_render(p, tmpl, mem, loc, 1, out);
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
