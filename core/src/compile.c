/*
 * compile.c: the project compiler (SPEC 2, 3, 5, 9): parses a
 * `ddt-project/1` file, validates it reporting every error with its JSON
 * path, and emits the relocatable block of ddt/project.h.  This file owns
 * the driver, diagnostics, interning of strings/paths/regexes, templates
 * and expressions at a field, the flow (nodes, tasks, edges), reachability
 * and the final assembly with its checksum.  DDTs and their items are in
 * compile_ddt.c.  Output is deterministic: the same source gives the same
 * bytes (records are zeroed before they are filled, interning is in
 * first-use order, maps are never iterated).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "compile_int.h"


/* ---- diagnostics ------------------------------------------------------- */

void
ddt_diags_init(ddt_diags_t *d)
{
    memset(d, 0, sizeof(*d));
}


void
ddt_diags_free(ddt_diags_t *d)
{
    size_t  i;

    for (i = 0; i < d->n; i++) {
        free(d->items[i].path);
        free(d->items[i].message);
    }
    free(d->items);
    memset(d, 0, sizeof(*d));
}


static void
diag_add(cc_t *c, int warning, const char *fmt, va_list ap)
{
    ddt_diag_t  *grown;
    char         msg[512];
    size_t       cap;

    if (c->diags->n >= CC_MAX_DIAGS) {
        /* counted, not stored: a broken file must not flood the answer */
        c->diags->errors += !warning;
        c->diags->warnings += warning;
        if (c->diags->n == CC_MAX_DIAGS && !c->diags_capped && !warning) {
            c->diags_capped = 1;
            grown = &c->diags->items[CC_MAX_DIAGS - 1];
            free(grown->message);
            grown->message = strdup("too many errors: the first 999 are "
                                    "listed");
        }
        return;
    }
    if (c->diags->n == c->diags->cap) {
        cap = c->diags->cap ? c->diags->cap * 2 : 16;
        grown = realloc(c->diags->items, cap * sizeof(*grown));
        if (grown == NULL) {
            c->diags->errors += !warning;
            c->diags->warnings += warning;
            return;
        }
        c->diags->items = grown;
        c->diags->cap = cap;
    }
    vsnprintf(msg, sizeof(msg), fmt, ap);
    grown = &c->diags->items[c->diags->n];
    grown->path = strdup(c->path);
    grown->message = strdup(msg);
    grown->warning = warning;
    if (grown->path == NULL || grown->message == NULL) {
        free(grown->path);
        free(grown->message);
    } else {
        c->diags->n++;
    }
    if (warning) {
        c->diags->warnings++;
    } else {
        c->diags->errors++;
    }
}


void
cc_error(cc_t *c, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    diag_add(c, 0, fmt, ap);
    va_end(ap);
}


void
cc_warn(cc_t *c, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    diag_add(c, 1, fmt, ap);
    va_end(ap);
}


size_t
cc_push_key(cc_t *c, const char *key, size_t len)
{
    size_t  save;

    save = c->plen;
    if (c->plen + len + 2 < CC_PATH_MAX) {
        if (c->plen) {
            c->path[c->plen++] = '.';
        }
        memcpy(c->path + c->plen, key, len);
        c->plen += len;
        c->path[c->plen] = '\0';
    }
    return save;
}


size_t
cc_push_idx(cc_t *c, size_t i)
{
    size_t  save;
    int     n;

    save = c->plen;
    n = snprintf(c->path + c->plen, CC_PATH_MAX - c->plen, "[%zu]", i);
    if (n > 0 && c->plen + (size_t) n < CC_PATH_MAX) {
        c->plen += (size_t) n;
    } else {
        c->path[c->plen] = '\0';
    }
    return save;
}


void
cc_pop(cc_t *c, size_t save)
{
    c->plen = save;
    c->path[save] = '\0';
}


void
cc_field_error(cc_t *c, const char *key, const char *fmt, ...)
{
    size_t   save;
    va_list  ap;

    save = cc_push_key(c, key, strlen(key));
    va_start(ap, fmt);
    diag_add(c, 0, fmt, ap);
    va_end(ap);
    cc_pop(c, save);
}


/* ---- maps ---------------------------------------------------------------- */

static uint64_t
fnv(const char *s, size_t len)
{
    uint64_t  h;
    size_t    i;

    h = 0xcbf29ce484222325ULL;
    for (i = 0; i < len; i++) {
        h ^= (unsigned char) s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}


int
cc_map_get(const cc_map_t *m, const char *k, size_t len, uint32_t *v)
{
    uint64_t  h;
    size_t    i;

    if (m->cap == 0) {
        return 0;
    }
    h = fnv(k, len);
    for (i = h & (m->cap - 1); m->slots[i].used; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].hash == h && m->slots[i].len == len
            && (len == 0 || memcmp(m->slots[i].key, k, len) == 0))
        {
            if (v) {
                *v = m->slots[i].val;
            }
            return 1;
        }
    }
    return 0;
}


static int
map_grow(cc_map_t *m)
{
    cc_slot_t  *old, *s;
    size_t      oldcap, i, j;

    old = m->slots;
    oldcap = m->cap;
    m->cap = oldcap ? oldcap * 2 : 64;
    m->slots = calloc(m->cap, sizeof(cc_slot_t));
    if (m->slots == NULL) {
        m->slots = old;
        m->cap = oldcap;
        return DDT_ERROR;
    }
    for (i = 0; i < oldcap; i++) {
        s = &old[i];
        if (!s->used) {
            continue;
        }
        for (j = s->hash & (m->cap - 1); m->slots[j].used;
             j = (j + 1) & (m->cap - 1))
        {
            /* probe */
        }
        m->slots[j] = *s;
    }
    free(old);
    return DDT_OK;
}


/* Insert if absent (the key must outlive the map); 0 = inserted, 1 = was
 * there, -1 = out of memory. */
int
cc_map_put(cc_map_t *m, const char *k, size_t len, uint32_t v)
{
    uint64_t  h;
    size_t    i;

    if (cc_map_get(m, k, len, NULL)) {
        return 1;
    }
    if ((m->count + 1) * 10 > m->cap * 7 && map_grow(m) != DDT_OK) {
        return -1;
    }
    h = fnv(k, len);
    for (i = h & (m->cap - 1); m->slots[i].used; i = (i + 1) & (m->cap - 1)) {
        /* probe */
    }
    m->slots[i].used = 1;
    m->slots[i].key = k;
    m->slots[i].len = len;
    m->slots[i].hash = h;
    m->slots[i].val = v;
    m->count++;
    return 0;
}


static void
map_free(cc_map_t *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}


/* ---- sections and interning --------------------------------------------- */

uint32_t
cc_rec(cc_t *c, ddt_section_t s, const void *rec, size_t size)
{
    uint32_t  idx;

    idx = (uint32_t) (c->sec[s].len / size);
    ddt_buf_add(&c->sec[s], rec, size);
    return idx;
}


uint32_t
cc_count(cc_t *c, ddt_section_t s, size_t size)
{
    return (uint32_t) (c->sec[s].len / size);
}


uint32_t
cc_str(cc_t *c, const char *s, size_t len)
{
    uint32_t  off;
    char     *key;

    if (cc_map_get(&c->strings, s, len, &off)) {
        return off;
    }
    off = (uint32_t) c->sec[DDT_SEC_STRINGS].len;
    ddt_buf_add(&c->sec[DDT_SEC_STRINGS], s, len);
    ddt_buf_addc(&c->sec[DDT_SEC_STRINGS], '\0');
    key = ddt_arena_strndup(&c->arena, s, len);
    if (key != NULL) {
        cc_map_put(&c->strings, key, len, off);
    }
    return off;
}


ddt_bstr_t
cc_bstr(cc_t *c, const char *s, size_t len)
{
    ddt_bstr_t  b;

    b.off = cc_str(c, s, len);
    b.len = (uint32_t) len;
    return b;
}


ddt_bstr_t
cc_bstr_none(void)
{
    ddt_bstr_t  b;

    b.off = DDT_NONE;
    b.len = 0;
    return b;
}


uint32_t
cc_path_intern(cc_t *c, const ddt_seg_t *segs, size_t n, int rel)
{
    ddt_buf_t     key;
    uint32_t      idx;
    size_t        i;
    ddt_brange_t  r;
    ddt_bstr_t    seg;
    char         *k;

    ddt_buf_init(&key);
    if (rel) {
        ddt_buf_addc(&key, '\1');
    }
    for (i = 0; i < n; i++) {
        if (i) {
            ddt_buf_addc(&key, '.');
        }
        ddt_buf_add(&key, segs[i].s, segs[i].len);
    }
    if (key.oom) {
        ddt_buf_free(&key);
        return DDT_NONE;
    }
    if (cc_map_get(&c->paths, key.data ? key.data : "", key.len, &idx)) {
        ddt_buf_free(&key);
        return idx;
    }
    r.first = cc_count(c, DDT_SEC_SEGS, sizeof(ddt_bstr_t));
    r.count = (uint32_t) n;
    for (i = 0; i < n; i++) {
        seg = cc_bstr(c, segs[i].s, segs[i].len);
        cc_rec(c, DDT_SEC_SEGS, &seg, sizeof(seg));
    }
    idx = cc_rec(c, DDT_SEC_PATHS, &r, sizeof(r));
    k = ddt_arena_strndup(&c->arena, key.data ? key.data : "", key.len);
    if (k != NULL) {
        cc_map_put(&c->paths, k, key.len, idx);
    }
    ddt_buf_free(&key);
    return idx;
}


static int
group_name_ok(const char *name, const cc_main_t *m, const cc_sub_t *sub)
{
    size_t  i, len;

    len = strlen(name);
    if (strcmp(name, "value") == 0) {
        return 1;
    }
    if (sub != NULL) {
        return sub->len == len && memcmp(sub->id, name, len) == 0;
    }
    for (i = 0; m != NULL && i < m->nsubs; i++) {
        if (m->subs[i].len == len && memcmp(m->subs[i].id, name, len) == 0) {
            return 1;
        }
    }
    return 0;
}


uint32_t
cc_regex(cc_t *c, const char *pat, size_t len, uint32_t flags,
    const cc_main_t *names_for, const cc_sub_t *sub_for, const char *what)
{
    pcre2_code   *re;
    int           ec;
    PCRE2_SIZE    eo;
    PCRE2_UCHAR   msg[160];
    uint32_t      opts, idx, count, esize, i;
    ddt_bregex_t  rec;
    char          head[16], *key;
    size_t        hl;
    PCRE2_SPTR    table;
    const char   *name;

    opts = PCRE2_UTF;
    if (flags & DDT_RE_CASELESS) {
        opts |= PCRE2_CASELESS;
    }
    if (flags & DDT_RE_ANCHORED) {
        opts |= PCRE2_ANCHORED | PCRE2_ENDANCHORED;
    }
    re = pcre2_compile((PCRE2_SPTR) pat, len, opts, &ec, &eo, NULL);
    if (re == NULL) {
        pcre2_get_error_message(ec, msg, sizeof(msg));
        cc_error(c, "bad %s: %s, column %u", what, (char *) msg,
                 ddt_src_column(pat, eo <= len ? eo : len));
        return DDT_NONE;
    }
    if (names_for != NULL || sub_for != NULL) {
        count = 0;
        esize = 0;
        table = NULL;
        pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &count);
        pcre2_pattern_info(re, PCRE2_INFO_NAMEENTRYSIZE, &esize);
        pcre2_pattern_info(re, PCRE2_INFO_NAMETABLE, &table);
        for (i = 0; table != NULL && i < count; i++) {
            name = (const char *) (table + i * esize + 2);
            if (!group_name_ok(name, names_for, sub_for)) {
                cc_error(c, "regex group '%s' is neither 'value' nor a "
                         "sub-data id", name);
            }
        }
    }
    pcre2_code_free(re);

    hl = (size_t) snprintf(head, sizeof(head), "%u:", flags);
    key = ddt_arena_alloc(&c->arena, hl + len + 1);
    if (key == NULL) {
        return DDT_NONE;
    }
    memcpy(key, head, hl);
    memcpy(key + hl, pat, len);
    if (cc_map_get(&c->regexes, key, hl + len, &idx)) {
        return idx;
    }
    memset(&rec, 0, sizeof(rec));
    rec.pattern = cc_bstr(c, pat, len);
    rec.flags = flags;
    idx = cc_rec(c, DDT_SEC_REGEXES, &rec, sizeof(rec));
    cc_map_put(&c->regexes, key, hl + len, idx);
    return idx;
}


/* ---- JSON field helpers ------------------------------------------------- */

const ddt_json_t *
cc_get(const ddt_json_t *obj, const char *key)
{
    return obj && obj->type == DDT_J_OBJ ? ddt_json_getz(obj, key) : NULL;
}


void
cc_check_fields(cc_t *c, const ddt_json_t *obj, const char *const *allowed)
{
    size_t        i, j, save;
    const char   *k;
    int           ok;

    if (obj == NULL || obj->type != DDT_J_OBJ) {
        return;
    }
    for (i = 0; i < obj->u.obj.len; i++) {
        k = obj->u.obj.m[i].key;
        if (obj->u.obj.m[i].klen >= 2 && k[0] == 'x' && k[1] == '-') {
            continue;
        }
        ok = 0;
        for (j = 0; allowed[j] != NULL; j++) {
            if (strlen(allowed[j]) == obj->u.obj.m[i].klen
                && memcmp(allowed[j], k, obj->u.obj.m[i].klen) == 0)
            {
                ok = 1;
                break;
            }
        }
        if (!ok) {
            save = cc_push_key(c, k, obj->u.obj.m[i].klen);
            cc_error(c, "unknown field '%s'", k);
            cc_pop(c, save);
        }
    }
}


static const char *
jtype_name(const ddt_json_t *v)
{
    switch (v->type) {
    case DDT_J_NULL: return "null";
    case DDT_J_BOOL: return "a boolean";
    case DDT_J_NUM:  return "a number";
    case DDT_J_STR:  return "a string";
    case DDT_J_ARR:  return "an array";
    default:         return "an object";
    }
}


int
cc_want_str(cc_t *c, const ddt_json_t *obj, const char *key, int required,
    const char **s, size_t *len)
{
    const ddt_json_t  *v;

    *s = NULL;
    *len = 0;
    v = cc_get(obj, key);
    if (v == NULL) {
        if (required) {
            cc_field_error(c, key, "missing required field '%s'", key);
        }
        return 0;
    }
    if (v->type != DDT_J_STR) {
        cc_field_error(c, key, "must be a string, not %s", jtype_name(v));
        return 0;
    }
    *s = v->u.str.s;
    *len = v->u.str.len;
    return 1;
}


int
cc_want_bool(cc_t *c, const ddt_json_t *obj, const char *key, int *out)
{
    const ddt_json_t  *v;

    v = cc_get(obj, key);
    if (v == NULL) {
        return 0;
    }
    if (v->type != DDT_J_BOOL) {
        cc_field_error(c, key, "must be a boolean, not %s", jtype_name(v));
        return 0;
    }
    *out = v->u.b;
    return 1;
}


int
cc_want_uint(cc_t *c, const ddt_json_t *obj, const char *key, uint32_t max,
    uint32_t *out)
{
    const ddt_json_t  *v;

    v = cc_get(obj, key);
    if (v == NULL) {
        return 0;
    }
    if (v->type != DDT_J_NUM || !ddt_json_is_int(v) || v->u.n < 0
        || v->u.n > (double) max)
    {
        cc_field_error(c, key, "must be an integer from 0 to %u", max);
        return 0;
    }
    *out = (uint32_t) v->u.n;
    return 1;
}


int
cc_want_num(cc_t *c, const ddt_json_t *obj, const char *key, double *out)
{
    const ddt_json_t  *v;

    v = cc_get(obj, key);
    if (v == NULL) {
        return 0;
    }
    if (v->type != DDT_J_NUM) {
        cc_field_error(c, key, "must be a number, not %s", jtype_name(v));
        return 0;
    }
    *out = v->u.n;
    return 1;
}


/* ---- known paths ----------------------------------------------------------- */

static int
dotted(const ddt_seg_t *segs, size_t n, ddt_buf_t *b)
{
    size_t  i;

    ddt_buf_reset(b);
    for (i = 0; i < n; i++) {
        if (i) {
            ddt_buf_addc(b, '.');
        }
        ddt_buf_add(b, segs[i].s, segs[i].len);
    }
    return b->oom ? DDT_ERROR : DDT_OK;
}


/* 1 and *kind when the path is known (SPEC 9.5), 0 when not. */
static int
known_path(cc_t *c, const ddt_seg_t *segs, size_t n, ddt_kind_t *kind)
{
    ddt_buf_t  b;
    size_t     i, len;
    int        r;

    *kind = DDT_KIND_NONE;
    if (n == 0) {
        return 0;
    }
    if (segs[0].len == 8 && memcmp(segs[0].s, "$backend", 8) == 0) {
        return n <= 2;
    }
    r = cc_data_path_kind(c, segs, n, kind);
    if (r == 1) {
        return 1;
    }
    if (r < 0 && cc_map_get(&c->vars, segs[0].s, segs[0].len, NULL)) {
        return 1;
    }
    ddt_buf_init(&b);
    if (dotted(segs, n, &b) != DDT_OK) {
        ddt_buf_free(&b);
        return 0;
    }
    r = cc_map_get(&c->dynprefix, b.data, b.len, NULL);
    /* below a SetVariable name or assign key */
    len = 0;
    for (i = 0; !r && i + 1 < n; i++) {
        len += segs[i].len + (i ? 1 : 0);
        r = cc_map_get(&c->dyn, b.data, len, NULL);
    }
    ddt_buf_free(&b);
    return r;
}


static void
unknown_path_error(cc_t *c, const ddt_seg_t *segs, size_t n, int rel,
    unsigned col)
{
    ddt_buf_t  b;

    ddt_buf_init(&b);
    dotted(segs, n, &b);
    cc_error(c, "unknown path '%s%s', column %u", rel ? "value." : "",
             b.data ? b.data : "", col);
    ddt_buf_free(&b);
}


/* value.<part> inside a validate rule */
static int
known_value_path(cc_t *c, const ddt_seg_t *segs, size_t n)
{
    ddt_kind_t        k;
    const cc_main_t  *m;
    size_t            i;

    if (n != 1) {
        return 0;
    }
    m = c->cur_main;
    k = c->cur_sub ? c->cur_sub->kind : (m ? m->kind : DDT_KIND_NONE);
    if (k == DDT_KIND_TIME) {
        return (segs[0].len == 4 && memcmp(segs[0].s, "hour", 4) == 0)
               || (segs[0].len == 6 && memcmp(segs[0].s, "minute", 6) == 0);
    }
    if (k == DDT_KIND_AMOUNT) {
        return (segs[0].len == 5 && memcmp(segs[0].s, "value", 5) == 0)
               || (segs[0].len == 8 && memcmp(segs[0].s, "currency", 8) == 0);
    }
    if (c->cur_sub != NULL || m == NULL) {
        return 0;
    }
    for (i = 0; i < m->nsubs; i++) {
        if (m->subs[i].len == segs[0].len
            && memcmp(m->subs[i].id, segs[0].s, segs[0].len) == 0)
        {
            return 1;
        }
    }
    return 0;
}


/* ---- expressions ------------------------------------------------------------ */

static uint32_t
cb_path(void *ud, const ddt_seg_t *segs, size_t n, int rel, unsigned col)
{
    cc_t        *c = ud;
    ddt_kind_t   k;

    if (rel ? !known_value_path(c, segs, n) : !known_path(c, segs, n, &k)) {
        unknown_path_error(c, segs, n, rel, col);
        return DDT_NONE;
    }
    return cc_path_intern(c, segs, n, rel);
}


static uint32_t
cb_regex(void *ud, const char *pat, size_t len, unsigned col)
{
    (void) col;
    return cc_regex(ud, pat, len, 0, NULL, NULL, "matches() pattern");
}


static uint32_t
cb_str(void *ud, const char *s, size_t len)
{
    return cc_str(ud, s, len);
}


static void
cb_error(void *ud, unsigned col, const char *msg)
{
    cc_error(ud, "%s, column %u", msg, col);
}


uint32_t
cc_expr(cc_t *c, const char *src, size_t len, const ddt_json_t **konst)
{
    ddt_expr_cc_t       ec;
    ddt_bexpr_t         x;
    const ddt_json_t   *k;
    size_t              code_len, n_exprs;

    memset(&ec, 0, sizeof(ec));
    ec.ud = c;
    ec.arena = &c->arena;
    ec.code = &c->sec[DDT_SEC_CODE];
    ec.allow_value = c->in_validate;
    ec.path = cb_path;
    ec.regex = cb_regex;
    ec.str = cb_str;
    ec.error = cb_error;
    code_len = c->sec[DDT_SEC_CODE].len;
    n_exprs = c->sec[DDT_SEC_EXPRS].len;
    if (konst) {
        *konst = NULL;
    }
    if (ddt_expr_compile(&ec, src, len, &x, &k) != DDT_OK) {
        c->sec[DDT_SEC_CODE].len = code_len;
        return DDT_NONE;
    }
    if (konst != NULL && k != NULL) {
        /* the caller folds constants itself: emit nothing */
        *konst = k;
        c->sec[DDT_SEC_CODE].len = code_len;
        c->sec[DDT_SEC_EXPRS].len = n_exprs;
        return DDT_NONE;
    }
    return cc_rec(c, DDT_SEC_EXPRS, &x, sizeof(x));
}


/* ---- templates -------------------------------------------------------------- */

/* Parse and check a template; emit it when emit is set. */
static uint32_t
tmpl_do(cc_t *c, const char *s, size_t len, int emit)
{
    ddt_tmpl_part_t  *parts;
    size_t            n, i, eoff;
    const char       *emsg;
    ddt_btpart_t      tp;
    ddt_btmpl_t       t;
    ddt_kind_t        kind;
    uint32_t          path, single;
    int               bad;

    if (len > CC_MAX_PROMPT) {
        cc_error(c, "template longer than 1 MiB");
        return DDT_NONE;
    }
    if (ddt_tmpl_parse(&c->arena, s, len, CC_MAX_PLACEHOLDERS, &parts, &n,
                       &eoff, &emsg) != DDT_OK)
    {
        cc_error(c, "%s, column %u", emsg, ddt_src_column(s, eoff));
        return DDT_NONE;
    }
    bad = 0;
    for (i = 0; i < n; i++) {
        if (parts[i].segs != NULL
            && !known_path(c, parts[i].segs, parts[i].nsegs, &kind))
        {
            unknown_path_error(c, parts[i].segs, parts[i].nsegs, 0,
                               ddt_src_column(s, parts[i].off));
            bad = 1;
        }
    }
    if (bad || !emit) {
        return DDT_NONE;
    }
    memset(&t, 0, sizeof(t));
    t.parts.first = cc_count(c, DDT_SEC_TPARTS, sizeof(ddt_btpart_t));
    t.parts.count = (uint32_t) n;
    single = DDT_NONE;
    for (i = 0; i < n; i++) {
        memset(&tp, 0, sizeof(tp));
        if (parts[i].segs == NULL) {
            tp.lit = cc_bstr(c, parts[i].lit, parts[i].lit_len);
            tp.path = DDT_NONE;
            tp.kind = DDT_KIND_NONE;
        } else {
            known_path(c, parts[i].segs, parts[i].nsegs, &kind);
            path = cc_path_intern(c, parts[i].segs, parts[i].nsegs, 0);
            tp.lit = cc_bstr_none();
            tp.path = path;
            tp.kind = kind;
            single = path;
        }
        cc_rec(c, DDT_SEC_TPARTS, &tp, sizeof(tp));
    }
    t.single_path = (n == 1 && parts[0].segs != NULL) ? single : DDT_NONE;
    return cc_rec(c, DDT_SEC_TMPLS, &t, sizeof(t));
}


uint32_t
cc_tmpl(cc_t *c, const ddt_json_t *s)
{
    if (s == NULL || s->type != DDT_J_STR) {
        cc_error(c, "must be a string%s%s", s ? ", not " : "",
                 s ? jtype_name(s) : "");
        return DDT_NONE;
    }
    return tmpl_do(c, s->u.str.s, s->u.str.len, 1);
}


uint32_t
cc_tmpl_field(cc_t *c, const ddt_json_t *obj, const char *key, int required)
{
    const ddt_json_t  *v;
    size_t             save;
    uint32_t           t;

    v = cc_get(obj, key);
    if (v == NULL) {
        if (required) {
            cc_field_error(c, key, "missing required field '%s'", key);
        }
        return DDT_NONE;
    }
    save = cc_push_key(c, key, strlen(key));
    t = cc_tmpl(c, v);
    cc_pop(c, save);
    return t;
}


void
cc_check_json_templates(cc_t *c, const ddt_json_t *v)
{
    size_t  i, save;

    switch (v->type) {
    case DDT_J_STR:
        tmpl_do(c, v->u.str.s, v->u.str.len, 0);
        break;
    case DDT_J_ARR:
        for (i = 0; i < v->u.arr.len; i++) {
            save = cc_push_idx(c, i);
            cc_check_json_templates(c, v->u.arr.items[i]);
            cc_pop(c, save);
        }
        break;
    case DDT_J_OBJ:
        for (i = 0; i < v->u.obj.len; i++) {
            save = cc_push_key(c, v->u.obj.m[i].key, v->u.obj.m[i].klen);
            cc_check_json_templates(c, v->u.obj.m[i].val);
            cc_pop(c, save);
        }
        break;
    default:
        break;
    }
}


static ddt_bstr_t
json_text(cc_t *c, const ddt_json_t *v)
{
    ddt_buf_t   b;
    ddt_bstr_t  r;

    ddt_buf_init(&b);
    ddt_json_write(&b, v);
    if (b.oom) {
        ddt_buf_free(&b);
        return cc_bstr_none();
    }
    r = cc_bstr(c, b.data ? b.data : "", b.len);
    ddt_buf_free(&b);
    return r;
}


/* ---- flow --------------------------------------------------------------- */

/* A dotted memory path written by SetVariable / assign: segments
 * [A-Za-z_][A-Za-z0-9_]*; '$' segments are the engine's. */
static size_t
split_name(cc_t *c, const char *s, size_t len, ddt_seg_t *segs, size_t max,
    int report)
{
    size_t  n, i, start;
    char    ch;

    n = 0;
    start = 0;
    for (i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            continue;
        }
        if (i == start || n == max) {
            if (report) {
                cc_error(c, "bad path '%.*s'", (int) len, s);
            }
            return 0;
        }
        segs[n].s = s + start;
        segs[n].len = i - start;
        n++;
        start = i + 1;
    }
    for (i = 0; i < n; i++) {
        if (segs[i].s[0] == '$') {
            if (report) {
                cc_error(c, "segment '%.*s' starts with '$': such names "
                         "belong to the engine", (int) segs[i].len,
                         segs[i].s);
            }
            return 0;
        }
        for (start = 0; start < segs[i].len; start++) {
            ch = segs[i].s[start];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
                  || ch == '_' || (start > 0 && ch >= '0' && ch <= '9')))
            {
                if (report) {
                    cc_error(c, "bad path '%.*s'", (int) len, s);
                }
                return 0;
            }
        }
    }
    return n;
}


static void
add_dyn(cc_t *c, const char *s, size_t len)
{
    size_t  i;

    cc_map_put(&c->dyn, s, len, 1);
    for (i = 1; i <= len; i++) {
        if (i == len || s[i] == '.') {
            cc_map_put(&c->dynprefix, s, i, 1);
        }
    }
}


/* SetVariable names and assign keys are known paths everywhere. */
static void
collect_dyn(cc_t *c, const ddt_json_t *nodes)
{
    size_t             i, j, k;
    const ddt_json_t  *tasks, *t, *type, *name, *assign;
    ddt_seg_t          segs[64];

    if (nodes == NULL || nodes->type != DDT_J_ARR) {
        return;
    }
    for (i = 0; i < nodes->u.arr.len; i++) {
        tasks = cc_get(nodes->u.arr.items[i], "tasks");
        if (tasks == NULL || tasks->type != DDT_J_ARR) {
            continue;
        }
        for (j = 0; j < tasks->u.arr.len; j++) {
            t = tasks->u.arr.items[j];
            type = cc_get(t, "type");
            if (type == NULL || type->type != DDT_J_STR) {
                continue;
            }
            if (strcmp(type->u.str.s, "SetVariable") == 0) {
                name = cc_get(t, "name");
                if (name && name->type == DDT_J_STR
                    && split_name(c, name->u.str.s, name->u.str.len, segs,
                                  64, 0) > 0)
                {
                    add_dyn(c, name->u.str.s, name->u.str.len);
                }
            } else if (strcmp(type->u.str.s, "BackendCall") == 0) {
                assign = cc_get(t, "assign");
                if (assign == NULL || assign->type != DDT_J_OBJ) {
                    continue;
                }
                for (k = 0; k < assign->u.obj.len; k++) {
                    if (split_name(c, assign->u.obj.m[k].key,
                                   assign->u.obj.m[k].klen, segs, 64, 0) > 0)
                    {
                        add_dyn(c, assign->u.obj.m[k].key,
                                assign->u.obj.m[k].klen);
                    }
                }
            }
        }
    }
}


static const char *const task_fields[DDT_TASK_COUNT][10] = {
    [DDT_TASK_SAY]      = { "type", "text", NULL },
    [DDT_TASK_GETDATA]  = { "type", "ddt", NULL },
    [DDT_TASK_BACKEND]  = { "type", "method", "url", "headers", "body",
                            "timeoutMs", "assign", "onError", NULL },
    [DDT_TASK_SETVAR]   = { "type", "name", "value", NULL },
    [DDT_TASK_ENDCALL]  = { "type", "text", NULL },
    [DDT_TASK_TRANSFER] = { "type", "queue", "text", NULL },
    [DDT_TASK_EMAIL]    = { "type", "to", "subject", "body", NULL },
    [DDT_TASK_SMS]      = { "type", "to", "text", NULL },
    [DDT_TASK_CUSTOM]   = { "type", "name", "params", NULL },
};


static void
compile_backend(cc_t *c, const ddt_json_t *t, ddt_btask_t *bt)
{
    const char         *s;
    size_t              len, i, save, s2;
    char                method[16];
    const ddt_json_t   *v, *ptr;
    ddt_bassign_t       as;
    ddt_seg_t           segs[64];
    size_t              n;
    static const char  *methods[] = { "GET", "POST", "PUT", "PATCH",
                                      "DELETE", "HEAD", NULL };

    strcpy(method, "GET");
    if (cc_want_str(c, t, "method", 0, &s, &len)) {
        for (i = 0; i < len && i + 1 < sizeof(method); i++) {
            method[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char) (s[i] - 32)
                                                     : s[i];
        }
        method[i] = '\0';
        for (i = 0; methods[i]; i++) {
            if (len == strlen(methods[i]) && strcmp(methods[i], method) == 0) {
                break;
            }
        }
        if (methods[i] == NULL) {
            cc_field_error(c, "method", "unknown HTTP method '%.*s'",
                           (int) len, s);
        }
    }
    bt->name = cc_bstr(c, method, strlen(method));
    bt->a = cc_tmpl_field(c, t, "url", 1);

    v = cc_get(t, "headers");
    if (v != NULL) {
        save = cc_push_key(c, "headers", 7);
        if (v->type != DDT_J_OBJ) {
            cc_error(c, "must be an object of strings");
        } else {
            for (i = 0; i < v->u.obj.len; i++) {
                s2 = cc_push_key(c, v->u.obj.m[i].key, v->u.obj.m[i].klen);
                if (v->u.obj.m[i].val->type != DDT_J_STR) {
                    cc_error(c, "must be a string");
                } else {
                    cc_check_json_templates(c, v->u.obj.m[i].val);
                }
                cc_pop(c, s2);
            }
            bt->headers = json_text(c, v);
        }
        cc_pop(c, save);
    }

    v = cc_get(t, "body");
    if (v != NULL) {
        save = cc_push_key(c, "body", 4);
        cc_check_json_templates(c, v);
        cc_pop(c, save);
        bt->json = json_text(c, v);
    }

    bt->timeout_ms = 3000;
    if (cc_get(t, "timeoutMs") != NULL
        && cc_want_uint(c, t, "timeoutMs", 600000, &bt->timeout_ms)
        && bt->timeout_ms == 0)
    {
        cc_field_error(c, "timeoutMs", "must be positive");
    }

    bt->on_error = DDT_ONERROR_CONTINUE;
    if (cc_want_str(c, t, "onError", 0, &s, &len)) {
        if (len == 4 && memcmp(s, "fail", 4) == 0) {
            bt->on_error = DDT_ONERROR_FAIL;
        } else if (!(len == 8 && memcmp(s, "continue", 8) == 0)) {
            cc_field_error(c, "onError", "must be \"continue\" or \"fail\"");
        }
    }

    v = cc_get(t, "assign");
    bt->assigns.first = cc_count(c, DDT_SEC_ASSIGNS, sizeof(ddt_bassign_t));
    if (v != NULL) {
        save = cc_push_key(c, "assign", 6);
        if (v->type != DDT_J_OBJ) {
            cc_error(c, "must be an object {memory path: JSON pointer}");
        } else {
            for (i = 0; i < v->u.obj.len; i++) {
                s2 = cc_push_key(c, v->u.obj.m[i].key, v->u.obj.m[i].klen);
                ptr = v->u.obj.m[i].val;
                n = split_name(c, v->u.obj.m[i].key, v->u.obj.m[i].klen, segs,
                               64, 1);
                if (ptr->type != DDT_J_STR
                    || (ptr->u.str.len > 0 && ptr->u.str.s[0] != '/'))
                {
                    cc_error(c, "must be a JSON pointer (\"\" or \"/...\")");
                } else if (n > 0) {
                    memset(&as, 0, sizeof(as));
                    as.path = cc_path_intern(c, segs, n, 0);
                    as.pointer = cc_bstr(c, ptr->u.str.s, ptr->u.str.len);
                    cc_rec(c, DDT_SEC_ASSIGNS, &as, sizeof(as));
                    bt->assigns.count++;
                }
                cc_pop(c, s2);
            }
        }
        cc_pop(c, save);
    }
}


static void
compile_task(cc_t *c, const ddt_json_t *t, uint32_t node, int *terminal)
{
    ddt_btask_t        bt;
    const char        *s;
    size_t             len, save, n;
    ddt_task_type_t    type;
    const ddt_json_t  *v;
    uint32_t           idx;
    ddt_seg_t          segs[64];

    memset(&bt, 0, sizeof(bt));
    bt.node = node;
    bt.text = bt.a = bt.b = bt.ddt = bt.expr = bt.path = DDT_NONE;
    bt.name = bt.json = bt.headers = cc_bstr_none();

    if (t->type != DDT_J_OBJ) {
        cc_error(c, "a task must be an object");
        return;
    }
    if (*terminal) {
        cc_error(c, "task after %s is never run", *terminal == 1
                 ? "EndCall" : "TransferToOperator");
    }
    if (!cc_want_str(c, t, "type", 1, &s, &len)) {
        return;
    }
    if (ddt_task_type_parse(s, len, &type) != DDT_OK) {
        cc_field_error(c, "type", "unknown task type '%.*s'", (int) len, s);
        return;
    }
    bt.type = type;
    cc_check_fields(c, t, task_fields[type]);

    switch (type) {
    case DDT_TASK_SAY:
        bt.text = cc_tmpl_field(c, t, "text", 1);
        break;
    case DDT_TASK_GETDATA:
        if (cc_want_str(c, t, "ddt", 1, &s, &len)) {
            if (!cc_map_get(&c->ddt_ids, s, len, &idx)) {
                cc_field_error(c, "ddt", "unknown DDT '%.*s'", (int) len, s);
            } else {
                bt.ddt = idx;
            }
        }
        break;
    case DDT_TASK_BACKEND:
        compile_backend(c, t, &bt);
        break;
    case DDT_TASK_SETVAR:
        if (cc_want_str(c, t, "name", 1, &s, &len)) {
            save = cc_push_key(c, "name", 4);
            n = split_name(c, s, len, segs, 64, 1);
            cc_pop(c, save);
            if (n > 0) {
                bt.path = cc_path_intern(c, segs, n, 0);
            }
        }
        v = cc_get(t, "value");
        if (v == NULL) {
            cc_field_error(c, "value", "missing required field 'value'");
        } else if (v->type == DDT_J_STR) {
            save = cc_push_key(c, "value", 5);
            bt.expr = cc_expr(c, v->u.str.s, v->u.str.len, NULL);
            cc_pop(c, save);
        } else {
            bt.json = json_text(c, v);
        }
        break;
    case DDT_TASK_ENDCALL:
        bt.text = cc_tmpl_field(c, t, "text", 0);
        *terminal = 1;
        break;
    case DDT_TASK_TRANSFER:
        bt.a = cc_tmpl_field(c, t, "queue", 1);
        bt.text = cc_tmpl_field(c, t, "text", 0);
        *terminal = 2;
        break;
    case DDT_TASK_EMAIL:
        bt.a = cc_tmpl_field(c, t, "to", 1);
        bt.b = cc_tmpl_field(c, t, "subject", 1);
        bt.text = cc_tmpl_field(c, t, "body", 1);
        break;
    case DDT_TASK_SMS:
        bt.a = cc_tmpl_field(c, t, "to", 1);
        bt.text = cc_tmpl_field(c, t, "text", 1);
        break;
    case DDT_TASK_CUSTOM:
        if (cc_want_str(c, t, "name", 1, &s, &len)) {
            if (len == 0) {
                cc_field_error(c, "name", "must not be empty");
            }
            bt.name = cc_bstr(c, s, len);
        }
        v = cc_get(t, "params");
        if (v != NULL) {
            save = cc_push_key(c, "params", 6);
            cc_check_json_templates(c, v);
            cc_pop(c, save);
            bt.json = json_text(c, v);
        }
        break;
    default:
        break;
    }
    cc_rec(c, DDT_SEC_TASKS, &bt, sizeof(bt));
}


typedef struct {
    uint32_t   from, to, cond, order;
} cc_edge_t;


static int
edge_cmp(const void *a, const void *b)
{
    const cc_edge_t  *x = a, *y = b;

    if (x->from != y->from) {
        return x->from < y->from ? -1 : 1;
    }
    return x->order < y->order ? -1 : (x->order > y->order ? 1 : 0);
}


static void
compile_flow(cc_t *c, const ddt_json_t *flow, ddt_bheader_t *h)
{
    static const char *const flow_fields[] = { "start", "nodes", "edges",
                                               NULL };
    static const char *const node_fields[] = { "id", "tasks", NULL };
    static const char *const edge_fields[] = { "from", "to", "condition",
                                               NULL };
    const ddt_json_t  *nodes, *edges, *nd, *tasks, *e, *cond;
    const char        *s;
    size_t             len, i, j, save, save2, s3, n_nodes, n_edges;
    uint32_t           idx, from, to;
    ddt_bnode_t       *bn;
    cc_edge_t         *ce;
    size_t             nce;
    int               *terminal, *reach;
    uint32_t          *queue, qh, qt;
    const ddt_json_t  *k;
    ddt_bedge_t        be;
    ddt_bnode_t        zero;

    save = cc_push_key(c, "flow", 4);
    h->start_node = DDT_NONE;
    if (flow == NULL) {
        cc_error(c, "missing required field 'flow'");
        cc_pop(c, save);
        return;
    }
    if (flow->type != DDT_J_OBJ) {
        cc_error(c, "must be an object");
        cc_pop(c, save);
        return;
    }
    cc_check_fields(c, flow, flow_fields);

    nodes = cc_get(flow, "nodes");
    n_nodes = 0;
    if (nodes == NULL) {
        cc_field_error(c, "nodes", "missing required field 'nodes'");
    } else if (nodes->type != DDT_J_ARR) {
        cc_field_error(c, "nodes", "must be an array");
        nodes = NULL;
    } else if (nodes->u.arr.len > CC_MAX_NODES) {
        cc_field_error(c, "nodes", "too many nodes (%zu, limit 100000)",
                       nodes->u.arr.len);
        nodes = NULL;
    } else {
        n_nodes = nodes->u.arr.len;
    }

    /* node ids first: edges and start refer to them */
    memset(&zero, 0, sizeof(zero));
    for (i = 0; i < n_nodes; i++) {
        nd = nodes->u.arr.items[i];
        zero.id = cc_bstr_none();
        cc_rec(c, DDT_SEC_NODES, &zero, sizeof(zero));
        k = cc_get(nd, "id");
        if (k == NULL || k->type != DDT_J_STR || k->u.str.len == 0) {
            continue;
        }
        if (cc_map_put(&c->node_ids, k->u.str.s, k->u.str.len,
                       (uint32_t) i) == 1)
        {
            save2 = cc_push_key(c, "nodes", 5);
            cc_push_idx(c, i);
            cc_field_error(c, "id", "duplicate node id '%s'", k->u.str.s);
            cc_pop(c, save2);
        }
    }

    terminal = calloc(n_nodes + 1, sizeof(int));
    reach = calloc(n_nodes + 1, sizeof(int));
    queue = calloc(n_nodes + 1, sizeof(uint32_t));
    if (terminal == NULL || reach == NULL || queue == NULL) {
        cc_error(c, "out of memory");
        goto done;
    }

    for (i = 0; i < n_nodes; i++) {
        nd = nodes->u.arr.items[i];
        save2 = cc_push_key(c, "nodes", 5);
        cc_push_idx(c, i);
        bn = (ddt_bnode_t *) c->sec[DDT_SEC_NODES].data + i;
        if (c->sec[DDT_SEC_NODES].oom) {
            cc_pop(c, save2);
            break;
        }
        if (nd->type != DDT_J_OBJ) {
            cc_error(c, "a node must be an object");
            cc_pop(c, save2);
            continue;
        }
        cc_check_fields(c, nd, node_fields);
        if (cc_want_str(c, nd, "id", 1, &s, &len)) {
            if (len == 0) {
                cc_field_error(c, "id", "must not be empty");
            }
            bn = (ddt_bnode_t *) c->sec[DDT_SEC_NODES].data + i;
            bn->id = cc_bstr(c, s, len);
        }
        tasks = cc_get(nd, "tasks");
        idx = cc_count(c, DDT_SEC_TASKS, sizeof(ddt_btask_t));
        if (tasks == NULL) {
            cc_field_error(c, "tasks", "missing required field 'tasks'");
        } else if (tasks->type != DDT_J_ARR) {
            cc_field_error(c, "tasks", "must be an array");
        } else {
            for (j = 0; j < tasks->u.arr.len; j++) {
                s3 = cc_push_key(c, "tasks", 5);
                cc_push_idx(c, j);
                compile_task(c, tasks->u.arr.items[j], (uint32_t) i,
                             &terminal[i]);
                cc_pop(c, s3);
            }
        }
        bn = (ddt_bnode_t *) c->sec[DDT_SEC_NODES].data + i;
        bn->tasks.first = idx;
        bn->tasks.count = cc_count(c, DDT_SEC_TASKS, sizeof(ddt_btask_t)) - idx;
        cc_pop(c, save2);
    }

    /* edges: checked in file order, stored grouped by source node */
    edges = cc_get(flow, "edges");
    n_edges = 0;
    if (edges != NULL && edges->type != DDT_J_ARR) {
        cc_field_error(c, "edges", "must be an array");
    } else if (edges != NULL) {
        n_edges = edges->u.arr.len;
    }
    ce = calloc(n_edges + 1, sizeof(cc_edge_t));
    if (ce == NULL) {
        cc_error(c, "out of memory");
        goto done;
    }
    nce = 0;
    for (i = 0; i < n_edges; i++) {
        e = edges->u.arr.items[i];
        save2 = cc_push_key(c, "edges", 5);
        cc_push_idx(c, i);
        if (e->type != DDT_J_OBJ) {
            cc_error(c, "an edge must be an object");
            cc_pop(c, save2);
            continue;
        }
        cc_check_fields(c, e, edge_fields);
        from = to = DDT_NONE;
        if (cc_want_str(c, e, "from", 1, &s, &len)
            && !cc_map_get(&c->node_ids, s, len, &from))
        {
            cc_field_error(c, "from", "unknown node '%.*s'", (int) len, s);
        }
        if (cc_want_str(c, e, "to", 1, &s, &len)
            && !cc_map_get(&c->node_ids, s, len, &to))
        {
            cc_field_error(c, "to", "unknown node '%.*s'", (int) len, s);
        }
        idx = DDT_NONE;
        k = NULL;
        cond = cc_get(e, "condition");
        if (cond != NULL) {
            s3 = cc_push_key(c, "condition", 9);
            if (cond->type != DDT_J_STR) {
                cc_error(c, "must be a string");
                cond = NULL;
            } else {
                idx = cc_expr(c, cond->u.str.s, cond->u.str.len, &k);
                if (idx == DDT_NONE && k == NULL) {
                    cond = NULL;        /* error reported */
                    from = DDT_NONE;
                }
            }
            cc_pop(c, s3);
        }
        cc_pop(c, save2);
        if (from == DDT_NONE || to == DDT_NONE) {
            continue;
        }
        if (k != NULL && !(k->type == DDT_J_BOOL && k->u.b)) {
            continue;                   /* always false: dropped */
        }
        ce[nce].from = from;
        ce[nce].to = to;
        ce[nce].cond = idx;             /* DDT_NONE when always true */
        ce[nce].order = (uint32_t) i;
        nce++;
    }
    qsort(ce, nce, sizeof(cc_edge_t), edge_cmp);
    for (i = 0; i < nce; i++) {
        memset(&be, 0, sizeof(be));
        be.to = ce[i].to;
        be.cond = ce[i].cond;
        idx = cc_rec(c, DDT_SEC_EDGES, &be, sizeof(be));
        if (c->sec[DDT_SEC_NODES].oom) {
            break;
        }
        bn = (ddt_bnode_t *) c->sec[DDT_SEC_NODES].data + ce[i].from;
        if (bn->edges.count == 0) {
            bn->edges.first = idx;
        }
        bn->edges.count++;
    }

    /* start */
    if (cc_want_str(c, flow, "start", 1, &s, &len)) {
        if (!cc_map_get(&c->node_ids, s, len, &idx)) {
            cc_field_error(c, "start", "unknown node '%.*s'", (int) len, s);
        } else {
            h->start_node = idx;
        }
    }

    /* reachability: edges of a node that ends the call are never taken */
    if (h->start_node != DDT_NONE && !c->sec[DDT_SEC_NODES].oom
        && c->diags->errors == 0)
    {
        qh = qt = 0;
        reach[h->start_node] = 1;
        queue[qt++] = h->start_node;
        while (qh < qt) {
            from = queue[qh++];
            if (terminal[from]) {
                continue;
            }
            bn = (ddt_bnode_t *) c->sec[DDT_SEC_NODES].data + from;
            for (j = 0; j < bn->edges.count; j++) {
                to = ((ddt_bedge_t *) c->sec[DDT_SEC_EDGES].data)
                     [bn->edges.first + j].to;
                if (!reach[to]) {
                    reach[to] = 1;
                    queue[qt++] = to;
                }
            }
        }
        for (i = 0; i < n_nodes; i++) {
            if (!reach[i]) {
                save2 = cc_push_key(c, "nodes", 5);
                cc_push_idx(c, i);
                k = cc_get(nodes->u.arr.items[i], "id");
                cc_warn(c, "node '%s' is unreachable from the start node",
                        k && k->type == DDT_J_STR ? k->u.str.s : "?");
                cc_pop(c, save2);
            }
        }
    }
    free(ce);

done:
    free(terminal);
    free(reach);
    free(queue);
    cc_pop(c, save);
}


/* ---- project ------------------------------------------------------------ */

static int
name_ok(const char *s, size_t len)
{
    size_t  i;

    if (len < 1 || len > 64) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')
              || s[i] == '_' || s[i] == '-'))
        {
            return 0;
        }
    }
    return 1;
}


static int
assemble(cc_t *c, ddt_bheader_t *h, uint8_t **block, size_t *block_len)
{
    size_t    total, off, i, n;
    uint8_t  *b;

    total = (sizeof(ddt_bheader_t) + 7) & ~(size_t) 7;
    for (i = 0; i < DDT_SEC_COUNT; i++) {
        if (c->sec[i].oom) {
            return DDT_ERROR;
        }
        total += (c->sec[i].len + 7) & ~(size_t) 7;
    }
    if (total > 0xfffffff0u) {
        return DDT_ERROR;
    }
    b = calloc(1, total);
    if (b == NULL) {
        return DDT_ERROR;
    }
    off = (sizeof(ddt_bheader_t) + 7) & ~(size_t) 7;
    for (i = 0; i < DDT_SEC_COUNT; i++) {
        n = c->sec[i].len;
        h->sec[i].off = (uint32_t) off;
        h->sec[i].count = (uint32_t) (n / ddt_block_rec_size[i]);
        if (n) {
            memcpy(b + off, c->sec[i].data, n);
        }
        off += (n + 7) & ~(size_t) 7;
    }
    h->magic = DDT_BLOCK_MAGIC;
    h->version = DDT_BLOCK_VERSION;
    h->size = (uint32_t) total;
    h->flags = 0;
    h->checksum = 0;
    memcpy(b, h, sizeof(*h));
    h->checksum = ddt_block_checksum(b, total);
    memcpy(b, h, sizeof(*h));
    *block = b;
    *block_len = total;
    return DDT_OK;
}


int
ddt_compile(const char *src, size_t len, ddt_diags_t *diags, uint8_t **block,
    size_t *block_len)
{
    static const char *const root_fields[] = {
        "format", "name", "version", "locale", "timezone", "variables",
        "flow", "ddts", NULL
    };
    cc_t               *c;
    ddt_json_t         *root;
    const ddt_json_t   *v;
    ddt_json_limits_t   lim;
    ddt_jerr_t          jerr;
    ddt_bheader_t       h;
    const char         *s;
    size_t              slen, i, save;
    int                 rc;
    char                tz[64];

    *block = NULL;
    *block_len = 0;
    c = calloc(1, sizeof(cc_t));
    if (c == NULL) {
        diags->errors++;
        return DDT_ERROR;
    }
    c->diags = diags;
    ddt_arena_init(&c->arena, 64 * 1024);
    for (i = 0; i < DDT_SEC_COUNT; i++) {
        ddt_buf_init(&c->sec[i]);
    }
    memset(&h, 0, sizeof(h));
    rc = DDT_ERROR;

    lim.max_depth = CC_JSON_DEPTH;
    root = ddt_json_parse(&c->arena, src, len, &lim, &jerr);
    if (root == NULL) {
        for (i = 0; jerr.message[i]; i++) {
            if (jerr.message[i] == '\n' || jerr.message[i] == '\r') {
                jerr.message[i] = ' ';
            }
        }
        while (i > 0 && jerr.message[i - 1] == ' ') {
            jerr.message[--i] = '\0';
        }
        cc_error(c, "invalid JSON: %s (line %u, column %u)", jerr.message,
                 jerr.line, jerr.column);
        goto out;
    }
    if (root->type != DDT_J_OBJ) {
        cc_error(c, "a project must be a JSON object");
        goto out;
    }
    cc_check_fields(c, root, root_fields);

    if (cc_want_str(c, root, "format", 1, &s, &slen)
        && !(slen == 13 && memcmp(s, "ddt-project/1", 13) == 0))
    {
        cc_field_error(c, "format", "unsupported format '%.*s' (want "
                       "\"ddt-project/1\")", (int) slen, s);
    }
    h.name = cc_bstr_none();
    if (cc_want_str(c, root, "name", 1, &s, &slen)) {
        if (!name_ok(s, slen)) {
            cc_field_error(c, "name", "must match [a-z0-9_-]{1,64}");
        }
        h.name = cc_bstr(c, s, slen);
    }
    h.label = cc_want_str(c, root, "version", 0, &s, &slen)
              ? cc_bstr(c, s, slen) : cc_bstr(c, "", 0);

    c->locale = DDT_LOCALE_IT;
    if (cc_want_str(c, root, "locale", 0, &s, &slen)
        && ddt_locale_parse(s, slen, &c->locale) != DDT_OK)
    {
        cc_field_error(c, "locale", "unsupported locale '%.*s' (it-IT or "
                       "en-US)", (int) slen, s);
    }
    h.locale = c->locale;
    s = ddt_locale_name(c->locale);
    h.locale_name = cc_bstr(c, s, strlen(s));

    strcpy(tz, c->locale == DDT_LOCALE_EN ? "America/New_York"
                                          : "Europe/Rome");
    if (cc_want_str(c, root, "timezone", 0, &s, &slen)) {
        if (slen >= sizeof(tz) || memchr(s, '\0', slen) != NULL) {
            cc_field_error(c, "timezone", "unknown timezone");
        } else {
            memcpy(tz, s, slen);
            tz[slen] = '\0';
            if (!ddt_tz_known(tz)) {
                cc_field_error(c, "timezone", "unknown or unsupported "
                               "timezone '%s'", tz);
            }
        }
    }
    h.timezone = cc_bstr(c, tz, strlen(tz));

    v = cc_get(root, "variables");
    if (v != NULL && v->type != DDT_J_OBJ) {
        cc_field_error(c, "variables", "must be an object");
        v = NULL;
    }
    if (v != NULL) {
        for (i = 0; i < v->u.obj.len; i++) {
            if (v->u.obj.m[i].klen == 0 || v->u.obj.m[i].key[0] == '$'
                || memchr(v->u.obj.m[i].key, '.', v->u.obj.m[i].klen))
            {
                save = cc_push_key(c, "variables", 9);
                cc_push_key(c, v->u.obj.m[i].key, v->u.obj.m[i].klen);
                cc_error(c, "bad variable name (no '$' start, no '.')");
                cc_pop(c, save);
                continue;
            }
            cc_map_put(&c->vars, v->u.obj.m[i].key, v->u.obj.m[i].klen, 1);
        }
        h.variables = json_text(c, v);
    } else {
        h.variables = cc_bstr(c, "{}", 2);
    }

    v = cc_get(root, "ddts");
    if (v != NULL && v->type != DDT_J_OBJ) {
        cc_field_error(c, "ddts", "must be an object {id: DDT}");
        v = NULL;
    }
    cc_collect_ddts(c, v);
    collect_dyn(c, cc_get(cc_get(root, "flow"), "nodes"));
    cc_compile_ddts(c);
    compile_flow(c, cc_get(root, "flow"), &h);

    if (diags->errors > 0) {
        goto out;
    }
    if (assemble(c, &h, block, block_len) != DDT_OK) {
        cc_error(c, "out of memory or project too large");
        goto out;
    }
    rc = DDT_OK;

out:
    for (i = 0; i < DDT_SEC_COUNT; i++) {
        ddt_buf_free(&c->sec[i]);
    }
    map_free(&c->strings);
    map_free(&c->paths);
    map_free(&c->regexes);
    map_free(&c->node_ids);
    map_free(&c->ddt_ids);
    map_free(&c->vars);
    map_free(&c->dyn);
    map_free(&c->dynprefix);
    ddt_arena_free(&c->arena);
    free(c);
    return rc;
}
