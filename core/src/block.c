/*
 * block.c: loading a compiled project block (ddt/project.h).  Validates the
 * header (magic, version, size, checksum), every section's bounds and
 * alignment, every string (in range, NUL-terminated), every index and
 * range between records, and every expression program; then compiles the
 * regexes with PCRE2 (JIT when available) and a match context carrying
 * match and depth limits.  A corrupt block is rejected with a message,
 * never read out of bounds.  The view reads the block in place.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "expr.h"

#define DDT_RE_MATCH_LIMIT  100000
#define DDT_RE_DEPTH_LIMIT  1000

const size_t ddt_block_rec_size[DDT_SEC_COUNT] = {
    [DDT_SEC_STRINGS]   = 1,
    [DDT_SEC_NODES]     = sizeof(ddt_bnode_t),
    [DDT_SEC_EDGES]     = sizeof(ddt_bedge_t),
    [DDT_SEC_TASKS]     = sizeof(ddt_btask_t),
    [DDT_SEC_ASSIGNS]   = sizeof(ddt_bassign_t),
    [DDT_SEC_DDTS]      = sizeof(ddt_bddt_t),
    [DDT_SEC_ITEMS]     = sizeof(ddt_bitem_t),
    [DDT_SEC_LAYERS]    = sizeof(ddt_blayer_t),
    [DDT_SEC_VALIDATES] = sizeof(ddt_bvalidate_t),
    [DDT_SEC_CHOICES]   = sizeof(ddt_bchoice_t),
    [DDT_SEC_SYNONYMS]  = sizeof(ddt_bstr_t),
    [DDT_SEC_STEPLISTS] = sizeof(ddt_brange_t),
    [DDT_SEC_PROMPTS]   = sizeof(uint32_t),
    [DDT_SEC_TMPLS]     = sizeof(ddt_btmpl_t),
    [DDT_SEC_TPARTS]    = sizeof(ddt_btpart_t),
    [DDT_SEC_PATHS]     = sizeof(ddt_brange_t),
    [DDT_SEC_SEGS]      = sizeof(ddt_bstr_t),
    [DDT_SEC_EXPRS]     = sizeof(ddt_bexpr_t),
    [DDT_SEC_CODE]      = 1,
    [DDT_SEC_REGEXES]   = sizeof(ddt_bregex_t),
};

typedef struct {
    ddt_project_t  *p;
    char           *err;
    size_t          errlen;
} ld_t;


static int
fail(ld_t *l, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(l->err, l->errlen, fmt, ap);
    va_end(ap);
    return -1;
}


/* A present string: in range and NUL-terminated. */
static int
str_ok(const ld_t *l, ddt_bstr_t s, int optional)
{
    uint32_t  n;

    if (s.off == DDT_NONE) {
        return optional;
    }
    n = l->p->hdr->sec[DDT_SEC_STRINGS].count;
    return s.off < n && s.len < n - s.off
           && l->p->strings[s.off + s.len] == '\0';
}


static int
range_ok(ddt_brange_t r, uint32_t n)
{
    return r.first <= n && r.count <= n - r.first;
}


static int
idx_ok(uint32_t i, uint32_t n, int optional)
{
    return i == DDT_NONE ? optional : i < n;
}


/* FNV-1a 64 of the block with the checksum field read as zeros. */
uint64_t
ddt_block_checksum(const uint8_t *p, size_t len)
{
    uint64_t  h;
    size_t    i, c0, c1;

    c0 = offsetof(ddt_bheader_t, checksum);
    c1 = c0 + sizeof(uint64_t);
    h = 0xcbf29ce484222325ULL;
    for (i = 0; i < len; i++) {
        h ^= (i >= c0 && i < c1) ? 0 : p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}


static int
check_sections(ld_t *l)
{
    const ddt_bheader_t  *h;
    ddt_project_t        *p;
    uint64_t              end;
    int                   i;

    p = l->p;
    h = p->hdr;
    /* the compiler's layout exactly: sections in order, 8-aligned, packed */
    end = (sizeof(ddt_bheader_t) + 7) & ~(uint64_t) 7;
    for (i = 0; i < DDT_SEC_COUNT; i++) {
        if (h->sec[i].off != end) {
            return fail(l, "section %d out of place", i);
        }
        end += ((uint64_t) h->sec[i].count * ddt_block_rec_size[i] + 7) & ~(uint64_t) 7;
        if (end > h->size) {
            return fail(l, "section %d out of bounds", i);
        }
    }
    if (end != h->size) {
        return fail(l, "trailing bytes after the last section");
    }
    if (h->sec[DDT_SEC_STRINGS].count == 0
        || p->base[h->sec[DDT_SEC_STRINGS].off
                   + h->sec[DDT_SEC_STRINGS].count - 1] != '\0')
    {
        return fail(l, "string section not NUL-terminated");
    }

#define SEC(field, nfield, s, type) do { \
        p->field = (const type *) (p->base + h->sec[s].off); \
        p->nfield = h->sec[s].count; } while (0)

    p->strings = (const char *) p->base + h->sec[DDT_SEC_STRINGS].off;
    SEC(nodes, n_nodes, DDT_SEC_NODES, ddt_bnode_t);
    SEC(edges, n_edges, DDT_SEC_EDGES, ddt_bedge_t);
    SEC(tasks, n_tasks, DDT_SEC_TASKS, ddt_btask_t);
    SEC(assigns, n_assigns, DDT_SEC_ASSIGNS, ddt_bassign_t);
    SEC(ddts, n_ddts, DDT_SEC_DDTS, ddt_bddt_t);
    SEC(items, n_items, DDT_SEC_ITEMS, ddt_bitem_t);
    SEC(layers, n_layers, DDT_SEC_LAYERS, ddt_blayer_t);
    SEC(validates, n_validates, DDT_SEC_VALIDATES, ddt_bvalidate_t);
    SEC(choices, n_choices, DDT_SEC_CHOICES, ddt_bchoice_t);
    SEC(synonyms, n_synonyms, DDT_SEC_SYNONYMS, ddt_bstr_t);
    SEC(steplists, n_steplists, DDT_SEC_STEPLISTS, ddt_brange_t);
    SEC(prompts, n_prompts, DDT_SEC_PROMPTS, uint32_t);
    SEC(tmpls, n_tmpls, DDT_SEC_TMPLS, ddt_btmpl_t);
    SEC(tparts, n_tparts, DDT_SEC_TPARTS, ddt_btpart_t);
    SEC(paths, n_paths, DDT_SEC_PATHS, ddt_brange_t);
    SEC(segs, n_segs, DDT_SEC_SEGS, ddt_bstr_t);
    SEC(exprs, n_exprs, DDT_SEC_EXPRS, ddt_bexpr_t);
    SEC(code, code_len, DDT_SEC_CODE, uint8_t);
    SEC(regexdefs, n_regexes, DDT_SEC_REGEXES, ddt_bregex_t);
#undef SEC
    return 0;
}


static int
check_records(ld_t *l)
{
    const ddt_project_t  *p;
    const ddt_bheader_t  *h;
    uint32_t              i, j, t;
    char                  verr[128];

    p = l->p;
    h = p->hdr;

    if (!str_ok(l, h->name, 0) || !str_ok(l, h->label, 0)
        || !str_ok(l, h->locale_name, 0) || !str_ok(l, h->timezone, 0)
        || !str_ok(l, h->variables, 0))
    {
        return fail(l, "bad header string");
    }
    if (h->locale >= DDT_LOCALE_COUNT || h->start_node >= p->n_nodes) {
        return fail(l, "bad locale or start node");
    }

    for (i = 0; i < p->n_segs; i++) {
        if (!str_ok(l, p->segs[i], 0)) {
            return fail(l, "bad path segment %u", i);
        }
    }
    for (i = 0; i < p->n_paths; i++) {
        if (!range_ok(p->paths[i], p->n_segs) || p->paths[i].count == 0
            || p->paths[i].count > 64)
        {
            return fail(l, "bad path %u", i);
        }
    }
    for (i = 0; i < p->n_tparts; i++) {
        if (!str_ok(l, p->tparts[i].lit, 1)
            || !idx_ok(p->tparts[i].path, p->n_paths, 1)
            || p->tparts[i].kind >= DDT_KIND_COUNT)
        {
            return fail(l, "bad template part %u", i);
        }
    }
    for (i = 0; i < p->n_tmpls; i++) {
        if (!range_ok(p->tmpls[i].parts, p->n_tparts)
            || !idx_ok(p->tmpls[i].single_path, p->n_paths, 1))
        {
            return fail(l, "bad template %u", i);
        }
    }
    for (i = 0; i < p->n_prompts; i++) {
        if (p->prompts[i] >= p->n_tmpls) {
            return fail(l, "bad prompt %u", i);
        }
    }
    for (i = 0; i < p->n_steplists; i++) {
        if (!range_ok(p->steplists[i], p->n_prompts)) {
            return fail(l, "bad prompt list %u", i);
        }
    }
    for (i = 0; i < p->n_regexes; i++) {
        if (!str_ok(l, p->regexdefs[i].pattern, 0)
            || (p->regexdefs[i].flags & ~3u))
        {
            return fail(l, "bad regex %u", i);
        }
    }
    for (i = 0; i < p->n_exprs; i++) {
        const ddt_bexpr_t *x = &p->exprs[i];
        if ((uint64_t) x->code_off + x->code_len > p->code_len
            || x->max_stack > DDT_EXPR_MAX_STACK
            || ddt_expr_verify(p->code + x->code_off, x->code_len,
                               p->n_paths, p->n_regexes,
                               h->sec[DDT_SEC_STRINGS].count, verr,
                               sizeof(verr)) != 0)
        {
            return fail(l, "bad expression %u", i);
        }
    }
    for (i = 0; i < p->n_synonyms; i++) {
        if (!str_ok(l, p->synonyms[i], 0)) {
            return fail(l, "bad synonym %u", i);
        }
    }
    for (i = 0; i < p->n_choices; i++) {
        if (!str_ok(l, p->choices[i].value, 0)
            || !range_ok(p->choices[i].synonyms, p->n_synonyms))
        {
            return fail(l, "bad choice %u", i);
        }
    }
    for (i = 0; i < p->n_layers; i++) {
        const ddt_blayer_t *y = &p->layers[i];
        if (y->type > DDT_LAYER_LLM || !str_ok(l, y->service, 1)
            || (y->type == DDT_LAYER_REGEX && y->regex >= p->n_regexes)
            || ((y->type == DDT_LAYER_NER || y->type == DDT_LAYER_LLM)
                && y->service.off == DDT_NONE))
        {
            return fail(l, "bad layer %u", i);
        }
    }
    for (i = 0; i < p->n_validates; i++) {
        const ddt_bvalidate_t *v = &p->validates[i];
        if (!idx_ok(v->cond, p->n_exprs, 1)
            || !idx_ok(v->steplist, p->n_steplists, 1)
            || !idx_ok(v->text, p->n_tmpls, 1) || !str_ok(l, v->step, 0)
            || !idx_ok(v->sub, p->n_items, 1))
        {
            return fail(l, "bad validate rule %u", i);
        }
    }
    for (i = 0; i < p->n_ddts; i++) {
        const ddt_bddt_t *d = &p->ddts[i];
        if (!str_ok(l, d->id, 0) || !range_ok(d->items, p->n_items)
            || !range_ok(d->all_items, p->n_items)
            || d->items.first != d->all_items.first
            || d->items.count > d->all_items.count)
        {
            return fail(l, "bad DDT %u", i);
        }
    }
    for (i = 0; i < p->n_items; i++) {
        const ddt_bitem_t *it = &p->items[i];
        if (!str_ok(l, it->id, 0) || !str_ok(l, it->label, 0)
            || it->kind >= DDT_KIND_COUNT || it->ddt >= p->n_ddts
            || !idx_ok(it->parent, p->n_items, 1)
            || !range_ok(it->subs, p->n_items)
            || it->confirm > DDT_CONFIRM_IFUNCERTAIN
            || !idx_ok(it->pattern, p->n_regexes, 1)
            || !range_ok(it->layers, p->n_layers) || it->layers.count == 0
            || !range_ok(it->validates, p->n_validates)
            || !range_ok(it->choices, p->n_choices)
            || !idx_ok(it->path, p->n_paths, 0))
        {
            return fail(l, "bad item %u", i);
        }
        /* an item belongs to its DDT's run, and so do its sub-data */
        t = it->ddt;
        if (i < p->ddts[t].all_items.first
            || i - p->ddts[t].all_items.first >= p->ddts[t].all_items.count
            || (it->subs.count
                && (it->subs.first < p->ddts[t].all_items.first
                    || it->subs.first + it->subs.count
                       > p->ddts[t].all_items.first
                         + p->ddts[t].all_items.count))
            || (it->parent != DDT_NONE && p->items[it->parent].ddt != t))
        {
            return fail(l, "item %u outside its DDT", i);
        }
        for (j = 0; j < it->subs.count; j++) {
            if (p->items[it->subs.first + j].parent != i) {
                return fail(l, "item %u: sub-data of another item", i);
            }
        }
        for (j = 0; j < it->validates.count; j++) {
            t = p->validates[it->validates.first + j].sub;
            if (t != DDT_NONE && p->items[t].parent != i) {
                return fail(l, "item %u: rule names another item's part", i);
            }
        }
        for (j = 0; j < DDT_STEP_COUNT; j++) {
            if (!idx_ok(it->steps[j], p->n_steplists, 1)) {
                return fail(l, "bad item %u steps", i);
            }
        }
    }
    for (i = 0; i < p->n_assigns; i++) {
        if (p->assigns[i].path >= p->n_paths
            || !str_ok(l, p->assigns[i].pointer, 0))
        {
            return fail(l, "bad assign %u", i);
        }
    }
    for (i = 0; i < p->n_tasks; i++) {
        const ddt_btask_t *k = &p->tasks[i];
        if (k->type >= DDT_TASK_COUNT || k->node >= p->n_nodes
            || !idx_ok(k->text, p->n_tmpls, 1) || !idx_ok(k->a, p->n_tmpls, 1)
            || !idx_ok(k->b, p->n_tmpls, 1) || !idx_ok(k->ddt, p->n_ddts, 1)
            || !idx_ok(k->expr, p->n_exprs, 1)
            || !idx_ok(k->path, p->n_paths, 1) || !str_ok(l, k->name, 1)
            || !str_ok(l, k->json, 1) || !str_ok(l, k->headers, 1)
            || !range_ok(k->assigns, p->n_assigns)
            || k->on_error > DDT_ONERROR_FAIL
            || (k->type == DDT_TASK_GETDATA && k->ddt == DDT_NONE)
            || (k->type == DDT_TASK_SETVAR && k->path == DDT_NONE)
            || (k->type == DDT_TASK_SETVAR && k->expr == DDT_NONE
                && k->json.off == DDT_NONE)
            || (k->type == DDT_TASK_SAY && k->text == DDT_NONE)
            || (k->type == DDT_TASK_BACKEND
                && (k->a == DDT_NONE || k->name.off == DDT_NONE))
            || (k->type == DDT_TASK_TRANSFER && k->a == DDT_NONE)
            || (k->type == DDT_TASK_EMAIL && (k->a == DDT_NONE
                || k->b == DDT_NONE || k->text == DDT_NONE))
            || (k->type == DDT_TASK_SMS
                && (k->a == DDT_NONE || k->text == DDT_NONE))
            || (k->type == DDT_TASK_CUSTOM && k->name.off == DDT_NONE))
        {
            return fail(l, "bad task %u", i);
        }
    }
    for (i = 0; i < p->n_edges; i++) {
        if (p->edges[i].to >= p->n_nodes
            || !idx_ok(p->edges[i].cond, p->n_exprs, 1))
        {
            return fail(l, "bad edge %u", i);
        }
    }
    for (i = 0; i < p->n_nodes; i++) {
        if (!str_ok(l, p->nodes[i].id, 0)
            || !range_ok(p->nodes[i].tasks, p->n_tasks)
            || !range_ok(p->nodes[i].edges, p->n_edges))
        {
            return fail(l, "bad node %u", i);
        }
    }
    return 0;
}


static int
compile_regexes(ld_t *l)
{
    ddt_project_t          *p;
    pcre2_match_context    *mc;
    pcre2_code             *re;
    uint32_t                i, opts;
    int                     ec;
    PCRE2_SIZE              eo;

    p = l->p;
    mc = pcre2_match_context_create(NULL);
    if (mc == NULL) {
        return fail(l, "out of memory");
    }
    pcre2_set_match_limit(mc, DDT_RE_MATCH_LIMIT);
    pcre2_set_depth_limit(mc, DDT_RE_DEPTH_LIMIT);
    p->match_ctx = mc;
    if (p->n_regexes == 0) {
        return 0;
    }
    p->regexes = calloc(p->n_regexes, sizeof(void *));
    if (p->regexes == NULL) {
        return fail(l, "out of memory");
    }
    for (i = 0; i < p->n_regexes; i++) {
        opts = PCRE2_UTF;
        if (p->regexdefs[i].flags & DDT_RE_CASELESS) {
            opts |= PCRE2_CASELESS;
        }
        if (p->regexdefs[i].flags & DDT_RE_ANCHORED) {
            opts |= PCRE2_ANCHORED | PCRE2_ENDANCHORED;
        }
        re = pcre2_compile((PCRE2_SPTR) (p->strings
                                         + p->regexdefs[i].pattern.off),
                           p->regexdefs[i].pattern.len, opts, &ec, &eo, NULL);
        if (re == NULL) {
            return fail(l, "regex %u does not compile", i);
        }
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);   /* optional: may fail */
        p->regexes[i] = re;
    }
    return 0;
}


int
ddt_project_load(const void *block, size_t len, ddt_project_t **out,
    char *err, size_t errlen)
{
    ld_t                  l;
    ddt_project_t        *p;
    ddt_bheader_t         h;
    char                  dummy[8];

    *out = NULL;
    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    l.err = err;
    l.errlen = errlen;
    l.p = NULL;

    if (block == NULL || len < sizeof(ddt_bheader_t)) {
        return fail(&l, "block too short"), DDT_ERROR;
    }
    if (((uintptr_t) block & 7) != 0) {
        return fail(&l, "block not 8-byte aligned"), DDT_ERROR;
    }
    memcpy(&h, block, sizeof(h));
    if (h.magic != DDT_BLOCK_MAGIC) {
        return fail(&l, "bad magic"), DDT_ERROR;
    }
    if (h.version != DDT_BLOCK_VERSION) {
        return fail(&l, "unsupported block version %u", h.version),
               DDT_ERROR;
    }
    if (h.size != len) {
        return fail(&l, "block size %u does not match %zu", h.size, len),
               DDT_ERROR;
    }
    if (ddt_block_checksum(block, len) != h.checksum) {
        return fail(&l, "checksum mismatch"), DDT_ERROR;
    }
    if (h.flags != 0) {
        return fail(&l, "unknown flags"), DDT_ERROR;
    }

    p = calloc(1, sizeof(ddt_project_t));
    if (p == NULL) {
        return fail(&l, "out of memory"), DDT_ERROR;
    }
    l.p = p;
    p->base = block;
    p->size = len;
    p->hdr = block;
    if (check_sections(&l) != 0 || check_records(&l) != 0
        || compile_regexes(&l) != 0)
    {
        ddt_project_free(p);
        return DDT_ERROR;
    }
    snprintf(p->checksum_hex, sizeof(p->checksum_hex), "%016llx",
             (unsigned long long) h.checksum);
    *out = p;
    return DDT_OK;
}


void
ddt_project_free(ddt_project_t *p)
{
    uint32_t  i;

    if (p == NULL) {
        return;
    }
    if (p->regexes != NULL) {
        for (i = 0; i < p->n_regexes; i++) {
            pcre2_code_free(p->regexes[i]);
        }
        free(p->regexes);
    }
    if (p->match_ctx != NULL) {
        pcre2_match_context_free(p->match_ctx);
    }
    free(p);
}
