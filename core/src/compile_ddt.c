/*
 * compile_ddt.c: the DDT half of the project compiler (SPEC 3, 9.1-9.3,
 * 9.5): pass 1 learns every DDT's data nodes and sub-data (so templates and
 * conditions anywhere can be checked against them) and fixes their ITEMS
 * indexes; pass 2 validates each node and emits its item with the defaults
 * filled in (labels, limits, a date's implicit day/month/year, the default
 * parser layer), its layers, choices, prompt lists and validate rules.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "compile_int.h"

static const char *const date_parts[3] = { "day", "month", "year" };
static const ddt_kind_t  date_kinds[3] = { DDT_KIND_INTEGER, DDT_KIND_MONTH,
                                           DDT_KIND_INTEGER };
static const double      date_min[3] = { 1, 1, 1000 };
static const double      date_max[3] = { 31, 12, 2999 };
static const uint32_t    default_limits[DDT_EV_COUNT] = { 3, 3, 2, 3 };
static const char *const limit_names[DDT_EV_COUNT + 1] = {
    "noMatch", "noInput", "notConfirmed", "invalid", NULL
};


static int
ident_ok(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > 128) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || s[i] == '_' || (i > 0 && s[i] >= '0' && s[i] <= '9')))
        {
            return 0;
        }
    }
    return 1;
}


static int
date_part(const char *s, size_t len)
{
    int  i;

    for (i = 0; i < 3; i++) {
        if (strlen(date_parts[i]) == len && memcmp(date_parts[i], s, len) == 0)
        {
            return i;
        }
    }
    return -1;
}


static ddt_kind_t
json_kind(const ddt_json_t *node, ddt_kind_t dflt)
{
    const ddt_json_t  *k;
    ddt_kind_t         kind;

    k = cc_get(node, "kind");
    if (k == NULL || k->type != DDT_J_STR
        || ddt_kind_parse(k->u.str.s, k->u.str.len, &kind) != DDT_OK)
    {
        return dflt;
    }
    return kind;
}


static const ddt_json_t *
json_id(const ddt_json_t *node)
{
    const ddt_json_t  *id;

    id = cc_get(node, "id");
    if (id == NULL || id->type != DDT_J_STR
        || !ident_ok(id->u.str.s, id->u.str.len))
    {
        return NULL;
    }
    return id;
}


/* The part of m with this id, or NULL. */
static const cc_sub_t *
cc_find_sub(const cc_main_t *m, const char *id, size_t len)
{
    size_t  i;

    for (i = 0; i < m->nsubs; i++) {
        if (m->subs[i].len == len && memcmp(m->subs[i].id, id, len) == 0) {
            return &m->subs[i];
        }
    }
    return NULL;
}

/* The data item of d with this id, or NULL. */
static const cc_main_t *
cc_find_main(const cc_ddt_t *d, const char *id, size_t len)
{
    size_t  i;

    for (i = 0; i < d->nmains; i++) {
        if (d->mains[i].len == len && memcmp(d->mains[i].id, id, len) == 0) {
            return &d->mains[i];
        }
    }
    return NULL;
}


/* ---- pass 1 ------------------------------------------------------------- */

static void
collect_subs(cc_t *c, cc_main_t *m)
{
    const ddt_json_t  *sd, *id;
    size_t             i, n;
    int                part, seen[3];
    cc_sub_t          *s;

    sd = cc_get(m->json, "subData");
    if (sd != NULL && sd->type != DDT_J_ARR) {
        sd = NULL;
    }
    if (m->kind != DDT_KIND_DATE && m->kind != DDT_KIND_COMPOSITE) {
        return;
    }
    n = (sd ? sd->u.arr.len : 0) + 3;
    m->subs = ddt_arena_alloc(&c->arena, n * sizeof(cc_sub_t));
    if (m->subs == NULL) {
        return;
    }
    seen[0] = seen[1] = seen[2] = 0;
    for (i = 0; sd != NULL && i < sd->u.arr.len; i++) {
        id = json_id(sd->u.arr.items[i]);
        if (id == NULL) {
            continue;
        }
        part = -1;
        if (m->kind == DDT_KIND_DATE) {
            part = date_part(id->u.str.s, id->u.str.len);
            if (part < 0 || seen[part]) {
                continue;
            }
            seen[part] = 1;
        } else {
            if (cc_find_sub(m, id->u.str.s, id->u.str.len) != NULL) {
                continue;
            }
        }
        s = &m->subs[m->nsubs++];
        s->id = id->u.str.s;
        s->len = id->u.str.len;
        s->json = sd->u.arr.items[i];
        s->kind = json_kind(s->json, part >= 0 ? date_kinds[part]
                                               : DDT_KIND_TEXT);
        s->implicit = 0;
    }
    if (m->kind == DDT_KIND_DATE) {
        for (part = 0; part < 3; part++) {
            if (seen[part]) {
                continue;
            }
            s = &m->subs[m->nsubs++];
            s->id = date_parts[part];
            s->len = strlen(date_parts[part]);
            s->json = NULL;
            s->kind = date_kinds[part];
            s->implicit = 1 + part;
        }
    }
}


void
cc_collect_ddts(cc_t *c, const ddt_json_t *ddts)
{
    size_t             i, j, k;
    cc_ddt_t          *d;
    const ddt_json_t  *data, *id;
    cc_main_t         *m;

    c->n_ddts = ddts ? ddts->u.obj.len : 0;
    if (c->n_ddts == 0) {
        return;
    }
    c->ddts = ddt_arena_alloc(&c->arena, c->n_ddts * sizeof(cc_ddt_t));
    if (c->ddts == NULL) {
        c->n_ddts = 0;
        cc_error(c, "out of memory");
        return;
    }
    for (i = 0; i < c->n_ddts; i++) {
        d = &c->ddts[i];
        d->id = ddts->u.obj.m[i].key;
        d->len = ddts->u.obj.m[i].klen;
        d->json = ddts->u.obj.m[i].val;
        cc_map_put(&c->ddt_ids, d->id, d->len, (uint32_t) i);
        data = cc_get(d->json, "data");
        if (data == NULL || data->type != DDT_J_ARR) {
            continue;
        }
        d->ndata = data->u.arr.len;
        d->mains = ddt_arena_alloc(&c->arena,
                                   (d->ndata + 1) * sizeof(cc_main_t));
        d->main_of = ddt_arena_alloc(&c->arena, (d->ndata + 1) * sizeof(int));
        if (d->mains == NULL || d->main_of == NULL) {
            d->ndata = 0;
            continue;
        }
        for (j = 0; j < d->ndata; j++) {
            d->main_of[j] = -1;
            id = json_id(data->u.arr.items[j]);
            if (id == NULL) {
                continue;
            }
            if (cc_find_main(d, id->u.str.s, id->u.str.len) != NULL) {
                continue;
            }
            m = &d->mains[d->nmains];
            d->main_of[j] = (int) d->nmains;
            d->nmains++;
            m->id = id->u.str.s;
            m->len = id->u.str.len;
            m->json = data->u.arr.items[j];
            m->kind = json_kind(m->json, DDT_KIND_TEXT);
            collect_subs(c, m);
        }
    }

    /* ITEMS indexes: per DDT, its mains, then each main's sub-data */
    for (i = 0; i < c->n_ddts; i++) {
        d = &c->ddts[i];
        d->first_item = c->n_items;
        for (j = 0; j < d->nmains; j++) {
            d->mains[j].item = c->n_items++;
        }
        for (j = 0; j < d->nmains; j++) {
            for (k = 0; k < d->mains[j].nsubs; k++) {
                d->mains[j].subs[k].item = c->n_items++;
            }
        }
        d->n_items = c->n_items - d->first_item;
    }
}


static int
seg_is(const ddt_seg_t *s, const char *z)
{
    return s->len == strlen(z) && memcmp(s->s, z, s->len) == 0;
}


int
cc_data_path_kind(cc_t *c, const ddt_seg_t *segs, size_t n, ddt_kind_t *kind)
{
    uint32_t          di;
    const cc_ddt_t   *d;
    const cc_main_t  *m;
    const cc_sub_t   *s;

    *kind = DDT_KIND_NONE;
    if (!cc_map_get(&c->ddt_ids, segs[0].s, segs[0].len, &di)) {
        return -1;
    }
    if (n == 1) {
        return 1;
    }
    if (seg_is(&segs[1], "$meta")) {
        return 1;
    }
    if (seg_is(&segs[1], "$status") || seg_is(&segs[1], "$failed")
        || seg_is(&segs[1], "$failedSub"))
    {
        return n == 2;
    }
    d = &c->ddts[di];
    m = cc_find_main(d, segs[1].s, segs[1].len);
    if (m == NULL) {
        return 0;
    }
    if (n == 2) {
        *kind = m->kind;
        return 1;
    }
    if (n == 3 && (seg_is(&segs[2], "$confidence")
                   || seg_is(&segs[2], "$layer")))
    {
        return 1;
    }
    if (m->kind == DDT_KIND_TIME && n == 3
        && (seg_is(&segs[2], "hour") || seg_is(&segs[2], "minute")))
    {
        *kind = DDT_KIND_INTEGER;
        return 1;
    }
    if (m->kind == DDT_KIND_AMOUNT && n == 3) {
        if (seg_is(&segs[2], "value")) {
            *kind = DDT_KIND_NUMBER;
            return 1;
        }
        return seg_is(&segs[2], "currency");
    }
    s = cc_find_sub(m, segs[2].s, segs[2].len);
    if (s == NULL) {
        return 0;
    }
    if (n == 3) {
        *kind = s->kind;
        return 1;
    }
    return n == 4 && (seg_is(&segs[3], "$confidence")
                      || seg_is(&segs[3], "$layer"));
}


/* ---- pass 2 ------------------------------------------------------------- */

typedef struct {
    const char  *name;
    size_t       len;
    uint32_t     steplist;
    int          used;                /* named by a validate rule */
} custom_step_t;

static const char *const item_fields[] = {
    "id", "kind", "label", "choices", "min", "max", "minLength", "maxLength",
    "pattern", "required", "subData", "extract", "validate", "confirm",
    "confidenceThreshold", "sensitive", "steps", "limits", NULL
};


static uint32_t
compile_steplist(cc_t *c, const ddt_json_t *list)
{
    size_t        i, save;
    uint32_t      t;
    ddt_brange_t  r;

    if (list->type != DDT_J_ARR) {
        cc_error(c, "must be an array of prompt templates");
        return DDT_NONE;
    }
    if (list->u.arr.len == 0) {
        return DDT_NONE;              /* an empty list equals an absent one */
    }
    r.first = cc_count(c, DDT_SEC_PROMPTS, sizeof(uint32_t));
    r.count = 0;
    for (i = 0; i < list->u.arr.len; i++) {
        save = cc_push_idx(c, i);
        t = cc_tmpl(c, list->u.arr.items[i]);
        cc_pop(c, save);
        if (t != DDT_NONE) {
            cc_rec(c, DDT_SEC_PROMPTS, &t, sizeof(t));
            r.count++;
        }
    }
    return cc_rec(c, DDT_SEC_STEPLISTS, &r, sizeof(r));
}


static void
compile_steps(cc_t *c, const ddt_json_t *steps, int is_sub, ddt_bitem_t *it,
    custom_step_t **custom, size_t *ncustom)
{
    size_t        i, save, s2;
    ddt_step_t    st;
    const char   *k;
    size_t        klen;
    uint32_t      sl;

    *custom = NULL;
    *ncustom = 0;
    if (steps == NULL) {
        return;
    }
    save = cc_push_key(c, "steps", 5);
    if (steps->type != DDT_J_OBJ) {
        cc_error(c, "must be an object {step: [prompts]}");
        cc_pop(c, save);
        return;
    }
    *custom = ddt_arena_alloc(&c->arena,
                              (steps->u.obj.len + 1) * sizeof(custom_step_t));
    for (i = 0; i < steps->u.obj.len; i++) {
        k = steps->u.obj.m[i].key;
        klen = steps->u.obj.m[i].klen;
        if (klen >= 2 && k[0] == 'x' && k[1] == '-') {
            continue;
        }
        s2 = cc_push_key(c, k, klen);
        if (ddt_step_parse(k, klen, &st) == DDT_OK) {
            if (is_sub && (st == DDT_STEP_CONFIRMATION
                           || st == DDT_STEP_NOTCONFIRMED
                           || st == DDT_STEP_SUCCESS))
            {
                cc_error(c, "sub-data have no '%s' step", k);
            } else {
                it->steps[st] = compile_steplist(c, steps->u.obj.m[i].val);
            }
        } else if (!ident_ok(k, klen)) {
            cc_error(c, "bad step name '%s'", k);
        } else {
            sl = compile_steplist(c, steps->u.obj.m[i].val);
            if (*custom != NULL) {
                (*custom)[*ncustom].name = k;
                (*custom)[*ncustom].len = klen;
                (*custom)[*ncustom].steplist = sl;
                (*custom)[*ncustom].used = 0;
                (*ncustom)++;
            }
        }
        cc_pop(c, s2);
    }
    cc_pop(c, save);
}


static void
compile_layers(cc_t *c, const ddt_json_t *ex, ddt_bitem_t *it,
    const cc_main_t *m, const cc_sub_t *s)
{
    static const char *const regex_f[] = { "type", "pattern", "confidence",
                                           NULL };
    static const char *const parser_f[] = { "type", NULL };
    static const char *const svc_f[] = { "type", "service", "timeoutMs",
                                         NULL };
    size_t             i, save, s2, s3, len;
    const ddt_json_t  *l, *pat;
    const char        *type, *svc;
    ddt_blayer_t       bl;

    it->layers.first = cc_count(c, DDT_SEC_LAYERS, sizeof(ddt_blayer_t));
    it->layers.count = 0;
    if (ex != NULL) {
        save = cc_push_key(c, "extract", 7);
        if (ex->type != DDT_J_ARR) {
            cc_error(c, "must be an array of layers");
            ex = NULL;
        }
        for (i = 0; ex != NULL && i < ex->u.arr.len; i++) {
            l = ex->u.arr.items[i];
            s2 = cc_push_idx(c, i);
            memset(&bl, 0, sizeof(bl));
            bl.regex = DDT_NONE;
            bl.service = cc_bstr_none();
            bl.confidence = 1.0;
            bl.timeout_ms = 3000;
            if (l->type != DDT_J_OBJ) {
                cc_error(c, "a layer must be an object");
                cc_pop(c, s2);
                continue;
            }
            if (!cc_want_str(c, l, "type", 1, &type, &len)) {
                cc_pop(c, s2);
                continue;
            }
            if (strcmp(type, "regex") == 0) {
                cc_check_fields(c, l, regex_f);
                bl.type = DDT_LAYER_REGEX;
                pat = cc_get(l, "pattern");
                if (pat == NULL) {
                    cc_field_error(c, "pattern",
                                   "missing required field 'pattern'");
                } else if (pat->type != DDT_J_STR) {
                    cc_field_error(c, "pattern", "must be a string");
                } else {
                    s3 = cc_push_key(c, "pattern", 7);
                    bl.regex = cc_regex(c, pat->u.str.s, pat->u.str.len,
                                        DDT_RE_CASELESS, s ? NULL : m, s,
                                        "regex");
                    cc_pop(c, s3);
                }
                if (cc_want_num(c, l, "confidence", &bl.confidence)
                    && (bl.confidence < 0 || bl.confidence > 1))
                {
                    cc_field_error(c, "confidence", "must be from 0 to 1");
                }
            } else if (strcmp(type, "parser") == 0) {
                cc_check_fields(c, l, parser_f);
                bl.type = DDT_LAYER_PARSER;
            } else if (strcmp(type, "ner") == 0 || strcmp(type, "llm") == 0) {
                cc_check_fields(c, l, svc_f);
                bl.type = type[0] == 'n' ? DDT_LAYER_NER : DDT_LAYER_LLM;
                if (cc_want_str(c, l, "service", 1, &svc, &len)) {
                    if (len == 0) {
                        cc_field_error(c, "service", "must not be empty");
                    }
                    bl.service = cc_bstr(c, svc, len);
                }
                if (cc_want_uint(c, l, "timeoutMs", 600000, &bl.timeout_ms)
                    && bl.timeout_ms == 0)
                {
                    cc_field_error(c, "timeoutMs", "must be positive");
                }
            } else {
                cc_field_error(c, "type", "unknown layer type '%s' (regex, "
                               "parser, ner, llm)", type);
                cc_pop(c, s2);
                continue;
            }
            cc_rec(c, DDT_SEC_LAYERS, &bl, sizeof(bl));
            it->layers.count++;
            cc_pop(c, s2);
        }
        cc_pop(c, save);
    }
    if (it->layers.count == 0) {
        memset(&bl, 0, sizeof(bl));
        bl.type = DDT_LAYER_PARSER;
        bl.regex = DDT_NONE;
        bl.service = cc_bstr_none();
        bl.confidence = 1.0;
        bl.timeout_ms = 3000;
        cc_rec(c, DDT_SEC_LAYERS, &bl, sizeof(bl));
        it->layers.count = 1;
    }
}


static void
compile_choices(cc_t *c, const ddt_json_t *ch, ddt_bitem_t *it)
{
    static const char *const choice_f[] = { "value", "synonyms", NULL };
    size_t             i, j, k, save, s2, s3, len;
    const ddt_json_t  *e, *syn, *sv;
    const char        *val;
    ddt_bchoice_t      bc;
    ddt_bstr_t         bs;

    it->choices.first = cc_count(c, DDT_SEC_CHOICES, sizeof(ddt_bchoice_t));
    it->choices.count = 0;
    if (ch == NULL) {
        if (it->kind == DDT_KIND_CHOICE) {
            cc_field_error(c, "choices", "kind choice needs 'choices'");
        }
        return;
    }
    save = cc_push_key(c, "choices", 7);
    if (it->kind != DDT_KIND_CHOICE) {
        cc_error(c, "'choices' is only for kind choice");
    } else if (ch->type != DDT_J_ARR || ch->u.arr.len == 0) {
        cc_error(c, "must be a non-empty array of {value, synonyms}");
    } else {
        for (i = 0; i < ch->u.arr.len; i++) {
            e = ch->u.arr.items[i];
            s2 = cc_push_idx(c, i);
            if (e->type != DDT_J_OBJ) {
                cc_error(c, "a choice must be an object");
                cc_pop(c, s2);
                continue;
            }
            cc_check_fields(c, e, choice_f);
            if (!cc_want_str(c, e, "value", 1, &val, &len)) {
                cc_pop(c, s2);
                continue;
            }
            for (k = 0; k < i; k++) {
                sv = cc_get(ch->u.arr.items[k], "value");
                if (sv && sv->type == DDT_J_STR && sv->u.str.len == len
                    && memcmp(sv->u.str.s, val, len) == 0)
                {
                    cc_field_error(c, "value", "duplicate choice '%s'", val);
                    break;
                }
            }
            memset(&bc, 0, sizeof(bc));
            bc.value = cc_bstr(c, val, len);
            bc.synonyms.first = cc_count(c, DDT_SEC_SYNONYMS,
                                         sizeof(ddt_bstr_t));
            bs = bc.value;
            cc_rec(c, DDT_SEC_SYNONYMS, &bs, sizeof(bs));
            bc.synonyms.count = 1;
            syn = cc_get(e, "synonyms");
            if (syn != NULL && syn->type != DDT_J_ARR) {
                cc_field_error(c, "synonyms", "must be an array of strings");
            } else if (syn != NULL) {
                for (j = 0; j < syn->u.arr.len; j++) {
                    sv = syn->u.arr.items[j];
                    if (sv->type != DDT_J_STR || sv->u.str.len == 0) {
                        s3 = cc_push_key(c, "synonyms", 8);
                        cc_push_idx(c, j);
                        cc_error(c, "must be a non-empty string");
                        cc_pop(c, s3);
                        continue;
                    }
                    if (sv->u.str.len == len
                        && memcmp(sv->u.str.s, val, len) == 0)
                    {
                        continue;
                    }
                    bs = cc_bstr(c, sv->u.str.s, sv->u.str.len);
                    cc_rec(c, DDT_SEC_SYNONYMS, &bs, sizeof(bs));
                    bc.synonyms.count++;
                }
            }
            cc_rec(c, DDT_SEC_CHOICES, &bc, sizeof(bc));
            it->choices.count++;
            cc_pop(c, s2);
        }
    }
    cc_pop(c, save);
}


static void
compile_validates(cc_t *c, const ddt_json_t *vs, ddt_bitem_t *it,
    const cc_main_t *m, const cc_sub_t *sub, custom_step_t *custom,
    size_t ncustom)
{
    static const char *const rule_f[] = { "condition", "step", "text", "sub",
                                          NULL };
    size_t             i, k, save, s2, s3, len;
    const ddt_json_t  *r, *cond;
    const char        *s;
    ddt_bvalidate_t    bv;
    ddt_step_t         st;
    int                found;

    it->validates.first = cc_count(c, DDT_SEC_VALIDATES,
                                   sizeof(ddt_bvalidate_t));
    it->validates.count = 0;
    if (vs == NULL) {
        return;
    }
    save = cc_push_key(c, "validate", 8);
    if (vs->type != DDT_J_ARR) {
        cc_error(c, "must be an array of rules");
        cc_pop(c, save);
        return;
    }
    for (i = 0; i < vs->u.arr.len; i++) {
        r = vs->u.arr.items[i];
        s2 = cc_push_idx(c, i);
        if (r->type != DDT_J_OBJ) {
            cc_error(c, "a rule must be an object");
            cc_pop(c, s2);
            continue;
        }
        cc_check_fields(c, r, rule_f);
        memset(&bv, 0, sizeof(bv));
        bv.cond = bv.steplist = bv.text = bv.sub = DDT_NONE;
        bv.step = cc_bstr(c, "invalid", 7);
        bv.steplist = it->steps[DDT_STEP_INVALID];

        cond = cc_get(r, "condition");
        if (cond == NULL) {
            cc_field_error(c, "condition", "missing required field "
                           "'condition'");
        } else if (cond->type != DDT_J_STR) {
            cc_field_error(c, "condition", "must be a string");
        } else {
            s3 = cc_push_key(c, "condition", 9);
            c->in_validate = 1;
            c->cur_main = m;
            c->cur_sub = sub;
            bv.cond = cc_expr(c, cond->u.str.s, cond->u.str.len, NULL);
            c->in_validate = 0;
            c->cur_main = NULL;
            c->cur_sub = NULL;
            cc_pop(c, s3);
        }

        if (cc_get(r, "step") != NULL && cc_get(r, "text") != NULL) {
            cc_error(c, "a rule has either 'step' or 'text', not both");
        } else if (cc_want_str(c, r, "step", 0, &s, &len)) {
            found = 0;
            if (ddt_step_parse(s, len, &st) == DDT_OK) {
                bv.steplist = it->steps[st];
                found = 1;
            } else {
                for (k = 0; k < ncustom; k++) {
                    if (custom[k].len == len
                        && memcmp(custom[k].name, s, len) == 0)
                    {
                        bv.steplist = custom[k].steplist;
                        custom[k].used = 1;
                        found = 1;
                    }
                }
            }
            if (!found) {
                cc_field_error(c, "step", "unknown step '%s': not a key of "
                               "this node's steps", s);
            }
            bv.step = cc_bstr(c, s, len);
        } else if (cc_get(r, "text") != NULL) {
            bv.steplist = DDT_NONE;
            bv.text = cc_tmpl_field(c, r, "text", 1);
        }

        if (cc_want_str(c, r, "sub", 0, &s, &len)) {
            found = 0;
            for (k = 0; sub == NULL && m != NULL && k < m->nsubs; k++) {
                if (m->subs[k].len == len
                    && memcmp(m->subs[k].id, s, len) == 0)
                {
                    bv.sub = m->subs[k].item;
                    found = 1;
                }
            }
            if (!found) {
                cc_field_error(c, "sub", "unknown sub-data '%s'", s);
            }
        }
        cc_rec(c, DDT_SEC_VALIDATES, &bv, sizeof(bv));
        it->validates.count++;
        cc_pop(c, s2);
    }
    cc_pop(c, save);
}


/* A custom step key is an invalid step: some validate rule must name it
 * (this also catches misspelt step names such as "nomatch"). */
static void
unused_steps(cc_t *c, const custom_step_t *custom, size_t ncustom)
{
    size_t       i, save;
    int          st;
    const char  *hint;

    for (i = 0; i < ncustom; i++) {
        if (custom[i].used) {
            continue;
        }
        hint = NULL;
        for (st = 0; st < DDT_STEP_COUNT; st++) {
            if (strlen(ddt_step_name((ddt_step_t) st)) == custom[i].len
                && strncasecmp(ddt_step_name((ddt_step_t) st), custom[i].name,
                               custom[i].len) == 0)
            {
                hint = ddt_step_name((ddt_step_t) st);
            }
        }
        save = cc_push_key(c, "steps", 5);
        cc_push_key(c, custom[i].name, custom[i].len);
        if (hint != NULL) {
            cc_error(c, "unknown step '%s' (did you mean '%s'?)",
                     custom[i].name, hint);
        } else {
            cc_error(c, "unknown step '%s': a custom step must be named by "
                     "a validate rule", custom[i].name);
        }
        cc_pop(c, save);
    }
}


static void
put_item(cc_t *c, uint32_t idx, const ddt_bitem_t *it)
{
    if (idx == DDT_NONE || c->sec[DDT_SEC_ITEMS].oom
        || (size_t) (idx + 1) * sizeof(ddt_bitem_t) > c->sec[DDT_SEC_ITEMS].len)
    {
        return;
    }
    memcpy((ddt_bitem_t *) c->sec[DDT_SEC_ITEMS].data + idx, it, sizeof(*it));
}


static void
item_defaults(ddt_bitem_t *it)
{
    int  i;

    memset(it, 0, sizeof(*it));
    it->id = it->label = cc_bstr_none();
    it->parent = DDT_NONE;
    it->subs.first = 0;
    it->required = 1;
    it->min_len = it->max_len = DDT_NONE;
    it->pattern = DDT_NONE;
    it->confidence_threshold = 0.7;
    it->path = DDT_NONE;
    for (i = 0; i < DDT_STEP_COUNT; i++) {
        it->steps[i] = DDT_NONE;
    }
}


/*
 * Validate one data node (main when parent == NULL) and fill *it.  m is the
 * pass-1 entry (NULL when pass 1 rejected the node), s the sub entry.
 */
static void
compile_node(cc_t *c, const cc_ddt_t *d, uint32_t ddt_idx,
    const ddt_json_t *js, const cc_main_t *m, const cc_sub_t *s,
    const ddt_bitem_t *parent, ddt_bitem_t *it)
{
    const char        *str;
    size_t             len, i, ncustom, save;
    ddt_kind_t         kind;
    int                b, part;
    const ddt_json_t  *v, *lim;
    custom_step_t     *custom;
    ddt_seg_t          segs[3];
    double             dv;

    item_defaults(it);
    it->ddt = ddt_idx;
    if (js->type != DDT_J_OBJ) {
        cc_error(c, "a data node must be an object");
        return;
    }
    cc_check_fields(c, js, item_fields);
    if (parent != NULL) {
        if (cc_get(js, "subData") != NULL) {
            cc_field_error(c, "subData", "sub-data cannot have sub-data");
        }
        if (cc_get(js, "confirm") != NULL) {
            cc_field_error(c, "confirm", "sub-data cannot have 'confirm'");
        }
    }

    part = -1;
    if (cc_want_str(c, js, "id", 1, &str, &len)) {
        if (!ident_ok(str, len)) {
            cc_field_error(c, "id", "bad id '%s' (want "
                           "[A-Za-z_][A-Za-z0-9_]*)", str);
        } else if (parent != NULL && parent->kind == DDT_KIND_DATE
                   && (part = date_part(str, len)) < 0)
        {
            cc_field_error(c, "id", "a date's sub-data are day, month and "
                           "year, not '%s'", str);
        } else if (parent == NULL ? m == NULL : s == NULL) {
            cc_field_error(c, "id", "duplicate data id '%s'", str);
        }
        it->id = cc_bstr(c, str, len);
        it->label = it->id;
    }

    kind = part >= 0 ? date_kinds[part] : DDT_KIND_TEXT;
    if (cc_want_str(c, js, "kind", 0, &str, &len)) {
        if (ddt_kind_parse(str, len, &kind) != DDT_OK) {
            cc_field_error(c, "kind", "unknown kind '%s'", str);
            kind = DDT_KIND_TEXT;
        } else if (part >= 0 && kind != date_kinds[part]
                   && !(part == 1 && kind == DDT_KIND_INTEGER))
        {
            cc_field_error(c, "kind", "a date's %s is of kind %s",
                           date_parts[part], ddt_kind_name(date_kinds[part]));
        } else if (parent != NULL && kind == DDT_KIND_COMPOSITE) {
            cc_field_error(c, "kind", "sub-data cannot be composite");
        }
    }
    it->kind = kind;

    if (cc_want_str(c, js, "label", 0, &str, &len)) {
        it->label = cc_bstr(c, str, len);
    }
    if (cc_want_bool(c, js, "required", &b)) {
        it->required = (uint32_t) b;
    }
    if (cc_want_bool(c, js, "sensitive", &b)) {
        it->sensitive = (uint32_t) b;
    }
    if (cc_want_num(c, js, "confidenceThreshold", &dv)) {
        if (dv < 0 || dv > 1) {
            cc_field_error(c, "confidenceThreshold", "must be from 0 to 1");
        }
        it->confidence_threshold = dv;
    }
    if (cc_want_num(c, js, "min", &it->min)) {
        it->has_min = 1;
    }
    if (cc_want_num(c, js, "max", &it->max)) {
        it->has_max = 1;
    }
    if (part >= 0) {
        if (it->has_min && it->min < date_min[part]) {
            cc_field_error(c, "min", "may only narrow the %s's range (%g-%g)",
                           date_parts[part], date_min[part], date_max[part]);
        }
        if (it->has_max && it->max > date_max[part]) {
            cc_field_error(c, "max", "may only narrow the %s's range (%g-%g)",
                           date_parts[part], date_min[part], date_max[part]);
        }
        if (!it->has_min) {
            it->has_min = 1;
            it->min = date_min[part];
        }
        if (!it->has_max) {
            it->has_max = 1;
            it->max = date_max[part];
        }
    }
    if (it->has_min && it->has_max && it->min > it->max) {
        cc_field_error(c, "min", "min is greater than max");
    }
    cc_want_uint(c, js, "minLength", 0x7fffffff, &it->min_len);
    cc_want_uint(c, js, "maxLength", 0x7fffffff, &it->max_len);
    if (it->min_len != DDT_NONE && it->max_len != DDT_NONE
        && it->min_len > it->max_len)
    {
        cc_field_error(c, "minLength", "minLength is greater than maxLength");
    }
    v = cc_get(js, "pattern");
    if (v != NULL) {
        save = cc_push_key(c, "pattern", 7);
        if (v->type != DDT_J_STR) {
            cc_error(c, "must be a string");
        } else {
            it->pattern = cc_regex(c, v->u.str.s, v->u.str.len,
                                   DDT_RE_ANCHORED, NULL, NULL, "pattern");
        }
        cc_pop(c, save);
    }

    it->confirm = DDT_CONFIRM_NEVER;
    if (parent == NULL && cc_want_str(c, js, "confirm", 0, &str, &len)) {
        if (strcmp(str, "always") == 0) {
            it->confirm = DDT_CONFIRM_ALWAYS;
        } else if (strcmp(str, "ifUncertain") == 0) {
            it->confirm = DDT_CONFIRM_IFUNCERTAIN;
        } else if (strcmp(str, "never") != 0) {
            cc_field_error(c, "confirm", "must be never, always or "
                           "ifUncertain");
        }
    }

    /* limits: defaults, or the parent's for sub-data */
    for (i = 0; i < DDT_EV_COUNT; i++) {
        it->limits[i] = parent ? parent->limits[i] : default_limits[i];
    }
    lim = cc_get(js, "limits");
    if (lim != NULL) {
        save = cc_push_key(c, "limits", 6);
        if (lim->type != DDT_J_OBJ) {
            cc_error(c, "must be an object");
        } else {
            cc_check_fields(c, lim, limit_names);
            for (i = 0; i < DDT_EV_COUNT; i++) {
                cc_want_uint(c, lim, limit_names[i], 1000, &it->limits[i]);
            }
        }
        cc_pop(c, save);
    }

    compile_steps(c, cc_get(js, "steps"), parent != NULL, it, &custom,
                  &ncustom);
    compile_choices(c, cc_get(js, "choices"), it);
    compile_layers(c, cc_get(js, "extract"), it, m, s);
    compile_validates(c, cc_get(js, "validate"), it, m, s, custom, ncustom);
    unused_steps(c, custom, ncustom);

    if (parent == NULL && it->required && it->steps[DDT_STEP_START] == DDT_NONE)
    {
        save = cc_push_key(c, "steps", 5);
        cc_field_error(c, "start", "a required node is asked: it needs a "
                       "'start' prompt");
        cc_pop(c, save);
    }
    if (it->confirm != DDT_CONFIRM_NEVER
        && it->steps[DDT_STEP_CONFIRMATION] == DDT_NONE)
    {
        cc_field_error(c, "confirm", "confirm '%s' needs a 'confirmation' "
                       "prompt", it->confirm == DDT_CONFIRM_ALWAYS
                       ? "always" : "ifUncertain");
    }

    if (parent == NULL) {
        v = cc_get(js, "subData");
        if (kind == DDT_KIND_COMPOSITE
            && (v == NULL || v->type != DDT_J_ARR || v->u.arr.len == 0))
        {
            cc_field_error(c, "subData", "a composite node needs subData");
        } else if (v != NULL && kind != DDT_KIND_DATE
                   && kind != DDT_KIND_COMPOSITE)
        {
            cc_field_error(c, "subData", "only date and composite nodes "
                           "have subData");
        } else if (v != NULL && v->type != DDT_J_ARR) {
            cc_field_error(c, "subData", "must be an array");
        }
    }

    /* memory path */
    segs[0].s = d->id;
    segs[0].len = d->len;
    if (parent == NULL && m != NULL) {
        segs[1].s = m->id;
        segs[1].len = m->len;
        it->path = cc_path_intern(c, segs, 2, 0);
    } else if (parent != NULL && m != NULL && s != NULL) {
        segs[1].s = m->id;
        segs[1].len = m->len;
        segs[2].s = s->id;
        segs[2].len = s->len;
        it->path = cc_path_intern(c, segs, 3, 0);
    }
}


static void
implicit_sub(cc_t *c, const cc_ddt_t *d, uint32_t ddt_idx, const cc_main_t *m,
    const cc_sub_t *s, const ddt_bitem_t *parent, ddt_bitem_t *it)
{
    ddt_blayer_t  bl;
    ddt_seg_t     segs[3];
    int           part, i;

    part = s->implicit - 1;
    item_defaults(it);
    it->ddt = ddt_idx;
    it->id = cc_bstr(c, s->id, s->len);
    it->label = it->id;
    it->kind = date_kinds[part];
    it->implicit = 1;
    it->has_min = it->has_max = 1;
    it->min = date_min[part];
    it->max = date_max[part];
    for (i = 0; i < DDT_EV_COUNT; i++) {
        it->limits[i] = parent->limits[i];
    }
    memset(&bl, 0, sizeof(bl));
    bl.type = DDT_LAYER_PARSER;
    bl.regex = DDT_NONE;
    bl.service = cc_bstr_none();
    bl.confidence = 1.0;
    bl.timeout_ms = 3000;
    it->layers.first = cc_rec(c, DDT_SEC_LAYERS, &bl, sizeof(bl));
    it->layers.count = 1;
    it->validates.first = cc_count(c, DDT_SEC_VALIDATES,
                                   sizeof(ddt_bvalidate_t));
    it->choices.first = cc_count(c, DDT_SEC_CHOICES, sizeof(ddt_bchoice_t));
    segs[0].s = d->id;
    segs[0].len = d->len;
    segs[1].s = m->id;
    segs[1].len = m->len;
    segs[2].s = s->id;
    segs[2].len = s->len;
    it->path = cc_path_intern(c, segs, 3, 0);
}


static void
compile_main(cc_t *c, const cc_ddt_t *d, uint32_t ddt_idx,
    const ddt_json_t *js, const cc_main_t *m)
{
    ddt_bitem_t        it, sit;
    const ddt_json_t  *sd;
    const cc_sub_t    *s;
    size_t             i, k, save;

    compile_node(c, d, ddt_idx, js, m, NULL, NULL, &it);
    if (m != NULL) {
        it.subs.first = m->nsubs ? m->subs[0].item : 0;
        it.subs.count = (uint32_t) m->nsubs;
    }

    sd = cc_get(js, "subData");
    if (sd != NULL && sd->type == DDT_J_ARR
        && (it.kind == DDT_KIND_DATE || it.kind == DDT_KIND_COMPOSITE))
    {
        for (i = 0; i < sd->u.arr.len; i++) {
            s = NULL;
            for (k = 0; m != NULL && k < m->nsubs; k++) {
                if (m->subs[k].json == sd->u.arr.items[i]) {
                    s = &m->subs[k];
                }
            }
            save = cc_push_key(c, "subData", 7);
            cc_push_idx(c, i);
            compile_node(c, d, ddt_idx, sd->u.arr.items[i], m, s, &it, &sit);
            cc_pop(c, save);
            if (s != NULL) {
                sit.parent = m->item;
                put_item(c, s->item, &sit);
            }
        }
    }
    for (k = 0; m != NULL && k < m->nsubs; k++) {
        if (m->subs[k].implicit) {
            implicit_sub(c, d, ddt_idx, m, &m->subs[k], &it, &sit);
            sit.parent = m->item;
            put_item(c, m->subs[k].item, &sit);
        }
    }
    if (m != NULL) {
        put_item(c, m->item, &it);
    }
}


void
cc_compile_ddts(cc_t *c)
{
    static const char *const ddt_fields[] = { "data", "mixedInitiative",
                                              NULL };
    size_t             i, j, save, s2;
    cc_ddt_t          *d;
    const ddt_json_t  *data;
    ddt_bddt_t         bd;
    ddt_bitem_t        zero;
    int                mi;

    memset(&zero, 0, sizeof(zero));
    for (i = 0; i < c->n_items; i++) {
        cc_rec(c, DDT_SEC_ITEMS, &zero, sizeof(zero));
    }
    for (i = 0; i < c->n_ddts; i++) {
        d = &c->ddts[i];
        save = cc_push_key(c, "ddts", 4);
        cc_push_key(c, d->id, d->len);
        memset(&bd, 0, sizeof(bd));
        bd.id = cc_bstr(c, d->id, d->len);
        if (!ident_ok(d->id, d->len)) {
            cc_error(c, "bad DDT id '%s' (want [A-Za-z_][A-Za-z0-9_]*)",
                     d->id);
        }
        if (d->json->type != DDT_J_OBJ) {
            cc_error(c, "a DDT must be an object");
            cc_rec(c, DDT_SEC_DDTS, &bd, sizeof(bd));
            cc_pop(c, save);
            continue;
        }
        cc_check_fields(c, d->json, ddt_fields);
        mi = 0;
        cc_want_bool(c, d->json, "mixedInitiative", &mi);
        bd.mixed_initiative = (uint32_t) mi;
        data = cc_get(d->json, "data");
        if (data == NULL) {
            cc_field_error(c, "data", "missing required field 'data'");
        } else if (data->type != DDT_J_ARR || data->u.arr.len == 0) {
            cc_field_error(c, "data", "must be a non-empty array of data "
                           "nodes");
        } else {
            for (j = 0; j < data->u.arr.len; j++) {
                s2 = cc_push_key(c, "data", 4);
                cc_push_idx(c, j);
                compile_main(c, d, (uint32_t) i, data->u.arr.items[j],
                             j < d->ndata && d->main_of[j] >= 0
                             ? &d->mains[d->main_of[j]] : NULL);
                cc_pop(c, s2);
            }
        }
        bd.items.first = d->first_item;
        bd.items.count = (uint32_t) d->nmains;
        bd.all_items.first = d->first_item;
        bd.all_items.count = d->n_items;
        cc_rec(c, DDT_SEC_DDTS, &bd, sizeof(bd));
        cc_pop(c, save);
    }
}
