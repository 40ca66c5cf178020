/*
 * engine_extract.c: how the engine gets values out of an input (SPEC 4.2,
 * 9.2, 9.4, 9.5): the extraction layers of an item in order (regex with
 * named groups, the built-in parser, ner/llm as host effects replayed on
 * resume), mixed initiative over the rest of the utterance, the DTMF rules,
 * `values` normalisation, and the correction forms used in confirmation
 * (SPEC 9.3, 9.8).  Nothing here changes memory or item states: it only
 * produces candidate values for engine.c to apply.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "engine_int.h"

#define ENG_MAX_CHOICES  256

/* ---- built-in parser -------------------------------------------------- */

static void
eng_parse_opts(ddt_engine_ctx_t *c, uint32_t item, ddt_parse_opts_t *o)
{
    const ddt_bitem_t   *it;
    const ddt_bchoice_t *ch;
    ddt_choice_t        *cs;
    ddt_localtime_t      lt;
    const char          *tz;
    uint32_t             k, s, n;

    memset(o, 0, sizeof(*o));
    o->locale = c->locale;
    tz = ddt_bs(c->p, c->p->hdr->timezone);
    if (tz != NULL && *tz) {
        memset(&lt, 0, sizeof(lt));
        ddt_tz_local(tz, c->now_ms, &lt);
        o->today_day = lt.day;
        o->today_month = lt.month;
        o->today_year = lt.year;
    }

    it = eng_item(c, item);
    if (it->choices.count == 0) {
        return;
    }
    n = it->choices.count;
    cs = ddt_arena_alloc(c->arena, n * sizeof(ddt_choice_t));
    if (cs == NULL) {
        return;
    }
    for (k = 0; k < n; k++) {
        ch = &c->p->choices[it->choices.first + k];
        cs[k].value = ddt_bs(c->p, ch->value);
        cs[k].n_synonyms = ch->synonyms.count;
        cs[k].synonyms = ddt_arena_alloc(c->arena,
                                         (ch->synonyms.count + 1)
                                         * sizeof(char *));
        if (cs[k].synonyms == NULL) {
            cs[k].n_synonyms = 0;
            continue;
        }
        for (s = 0; s < ch->synonyms.count; s++) {
            cs[k].synonyms[s] = ddt_bs(c->p,
                                       c->p->synonyms[ch->synonyms.first + s]);
        }
    }
    o->choices = cs;
    o->n_choices = n;
}

static int
eng_space(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f'
        || ch == '\v';
}

/* The kind's parser; `text` takes the trimmed text and consumes no span. */
int
eng_parse_item(ddt_engine_ctx_t *c, uint32_t item, const char *text,
    size_t len, ddt_match_t *m)
{
    const ddt_bitem_t  *it;
    ddt_parse_opts_t    o;
    size_t              a, b;

    it = eng_item(c, item);
    memset(m, 0, sizeof(*m));

    if (it->kind == DDT_KIND_TEXT || it->kind == DDT_KIND_NONE) {
        a = 0;
        b = len;
        while (a < b && eng_space((unsigned char) text[a])) {
            a++;
        }
        while (b > a && eng_space((unsigned char) text[b - 1])) {
            b--;
        }
        if (a == b) {
            return 0;
        }
        m->value = ddt_json_str(c->arena, text + a, b - a);
        m->start = m->end = 0;
        return m->value != NULL;
    }
    if (it->kind == DDT_KIND_COMPOSITE) {
        return 0;
    }

    eng_parse_opts(c, item, &o);
    if (ddt_parse((ddt_kind_t) it->kind, &o, text, len, c->arena, m) != 1
        || m->value == NULL)
    {
        return 0;
    }
    if (it->kind == DDT_KIND_TIME
        && (m->value->type != DDT_J_OBJ
            || ddt_json_getz(m->value, "hour") == NULL
            || ddt_json_getz(m->value, "minute") == NULL))
    {
        /* SPEC 3.1: a time is {hour, minute}; an hour said without a
         * minute and without a marker (9.6) is no value */
        m->value = NULL;
        return 0;
    }
    return 1;
}

/* Split a main node's object value into its sub-data parts. */
static void
eng_split(ddt_engine_ctx_t *c, uint32_t main, const ddt_json_t *v,
    double conf, uint32_t layer, eng_val_t *out, uint32_t *n)
{
    size_t    k;
    uint32_t  s, j;

    if (v == NULL || v->type != DDT_J_OBJ) {
        return;
    }
    for (k = 0; k < v->u.obj.len && *n < ENG_MAX_VALS; k++) {
        s = eng_sub_by_id(c, main, v->u.obj.m[k].key, v->u.obj.m[k].klen);
        if (s == DDT_NONE || v->u.obj.m[k].val->type == DDT_J_NULL) {
            continue;
        }
        for (j = 0; j < *n; j++) {
            if (out[j].item == s) {
                break;
            }
        }
        if (j < *n) {
            continue;                 /* first one wins */
        }
        out[*n].item = s;
        out[*n].value = v->u.obj.m[k].val;
        out[*n].conf = conf;
        out[*n].layer = layer;
        (*n)++;
    }
}

void
eng_add_val(ddt_engine_ctx_t *c, uint32_t item, ddt_json_t *v, double conf,
    uint32_t layer, eng_val_t *out, uint32_t *n)
{
    uint32_t  main;

    main = eng_main_of(c, item);
    if (main == item && eng_has_subs(c, main)) {
        eng_split(c, main, v, conf, layer, out, n);
        return;
    }
    if (*n < ENG_MAX_VALS && v != NULL) {
        out[*n].item = item;
        out[*n].value = v;
        out[*n].conf = conf;
        out[*n].layer = layer;
        (*n)++;
    }
}

/* ---- regex layer ------------------------------------------------------ */

static int
eng_regex(ddt_engine_ctx_t *c, uint32_t item, const ddt_blayer_t *l,
    const char *text, size_t len, eng_val_t *out, uint32_t *n,
    size_t *ss, size_t *se)
{
    pcre2_code         *re;
    pcre2_match_data   *md;
    PCRE2_SIZE         *ov;
    PCRE2_SPTR          tab;
    uint32_t            count = 0, esize = 0, k, grp, sub, main, n0;
    const char         *name;
    ddt_match_t         m;
    int                 rc, got_value = 0;

    if (l->regex >= c->p->n_regexes || c->p->regexes == NULL
        || c->p->regexes[l->regex] == NULL)
    {
        return 0;
    }
    re = c->p->regexes[l->regex];
    md = pcre2_match_data_create_from_pattern(re, NULL);
    if (md == NULL) {
        return 0;
    }
    rc = pcre2_match(re, (PCRE2_SPTR) text, len, 0, 0, md, c->p->match_ctx);
    if (rc < 0) {
        if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT
            || rc == PCRE2_ERROR_HEAPLIMIT)
        {
            eng_log(c, "ddt: regex layer of \"%s\" hit the match limits",
                    eng_id(c, item));
        }
        pcre2_match_data_free(md);
        return 0;
    }
    ov = pcre2_get_ovector_pointer(md);
    main = eng_main_of(c, item);
    n0 = *n;

    pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(re, PCRE2_INFO_NAMEENTRYSIZE, &esize);
    pcre2_pattern_info(re, PCRE2_INFO_NAMETABLE, &tab);

    for (k = 0; k < count; k++) {
        grp = ((uint32_t) tab[k * esize] << 8) | tab[k * esize + 1];
        name = (const char *) tab + k * esize + 2;
        if ((int) grp >= rc || ov[2 * grp] == PCRE2_UNSET) {
            continue;
        }
        if (strcmp(name, "value") == 0) {
            if (eng_parse_item(c, item, text + ov[2 * grp],
                               ov[2 * grp + 1] - ov[2 * grp], &m))
            {
                eng_add_val(c, item, m.value, l->confidence,
                            DDT_LAYER_REGEX, out, n);
            }
            got_value = 1;
            continue;
        }
        sub = (item == main) ? eng_sub_by_id(c, main, name, strlen(name))
                             : DDT_NONE;
        if (sub == DDT_NONE) {
            continue;
        }
        got_value = 1;
        if (eng_parse_item(c, sub, text + ov[2 * grp],
                           ov[2 * grp + 1] - ov[2 * grp], &m))
        {
            eng_add_val(c, sub, m.value, l->confidence, DDT_LAYER_REGEX,
                        out, n);
        }
    }

    /* no named group: the whole match goes through the item's parser */
    if (!got_value
        && eng_parse_item(c, item, text + ov[0], ov[1] - ov[0], &m))
    {
        eng_add_val(c, item, m.value, l->confidence, DDT_LAYER_REGEX, out, n);
    }

    *ss = ov[0];
    *se = ov[1];
    pcre2_match_data_free(md);
    return *n > n0;
}

/* ---- ner / llm effects ------------------------------------------------ */

static void
eng_describe_item(ddt_engine_ctx_t *c, ddt_buf_t *b, uint32_t i)
{
    const ddt_bitem_t  *it;
    uint32_t            s;

    it = eng_item(c, i);
    ddt_buf_adds(b, "{\"id\":");
    ddt_json_write_str(b, eng_id(c, i), it->id.len);
    ddt_buf_adds(b, ",\"kind\":");
    ddt_buf_printf(b, "\"%s\"", ddt_kind_name((ddt_kind_t) it->kind));
    ddt_buf_adds(b, ",\"label\":");
    if (ddt_bs(c->p, it->label) != NULL) {
        ddt_json_write_str(b, ddt_bs(c->p, it->label), it->label.len);
    } else {
        ddt_json_write_str(b, eng_id(c, i), it->id.len);
    }
    if (it->parent == DDT_NONE) {
        ddt_buf_adds(b, ",\"sub\":[");
        for (s = it->subs.first; s < it->subs.first + it->subs.count; s++) {
            if (s > it->subs.first) {
                ddt_buf_addc(b, ',');
            }
            eng_describe_item(c, b, s);
        }
        ddt_buf_addc(b, ']');
    }
    ddt_buf_addc(b, '}');
}

/*
 * The request body of an ner/llm layer (documented in docs/engine.md):
 * {"utterance", "locale", "data": [{id, kind, label, sub: [...]}, ...]}
 * with the node being asked first, then (with mixed initiative) the other
 * unfilled nodes of the DDT in file order.
 */
static void
eng_effect_request(ddt_engine_ctx_t *c, uint32_t item, uint32_t layer,
    const char *text, size_t len)
{
    const ddt_blayer_t  *l;
    const ddt_bddt_t    *d;
    ddt_buf_t           *b;
    uint32_t             main, m;

    l = &c->p->layers[layer];
    d = &c->p->ddts[c->st->ddt];
    main = eng_main_of(c, item);
    b = &c->effect_body;
    ddt_buf_reset(b);

    ddt_buf_adds(b, "{\"utterance\":");
    ddt_json_write_str(b, text, len);
    ddt_buf_printf(b, ",\"locale\":\"%s\",\"data\":[",
                   ddt_locale_name(c->locale));
    eng_describe_item(c, b, item);
    if (d->mixed_initiative) {
        for (m = d->items.first; m < d->items.first + d->items.count; m++) {
            if (m == main || eng_rt(c, m)->state == DDT_ITEM_FILLED
                || eng_complete(c, m))
            {
                continue;
            }
            ddt_buf_addc(b, ',');
            eng_describe_item(c, b, m);
        }
    }
    ddt_buf_adds(b, "]}");

    memset(&c->effect, 0, sizeof(c->effect));
    c->effect.kind = DDT_EFFECT_HTTP;
    c->effect.purpose = l->type == DDT_LAYER_LLM ? DDT_EFFECT_FOR_LLM
                                                 : DDT_EFFECT_FOR_NER;
    c->effect.method = "POST";
    c->effect.url = ddt_bs(c->p, l->service);
    c->effect.headers_json = "{\"Content-Type\":\"application/json\"}";
    c->effect.body = b->data;
    c->effect.body_len = b->len;
    c->effect.timeout_ms = l->timeout_ms ? l->timeout_ms : 3000;

    c->st->pending_item = item;
    c->st->pending_layer = layer;
}

static ddt_json_t *
eng_unwrap(const ddt_json_t *v, double *conf)
{
    ddt_json_t  *inner, *cf;

    if (v != NULL && v->type == DDT_J_OBJ && v->u.obj.len >= 1
        && v->u.obj.len <= 2)
    {
        inner = ddt_json_getz(v, "value");
        cf = ddt_json_getz(v, "confidence");
        if (inner != NULL && (v->u.obj.len == 1 || cf != NULL)) {
            if (cf != NULL && cf->type == DDT_J_NUM) {
                *conf = cf->u.n;
            }
            return inner;
        }
    }
    return (ddt_json_t *) v;
}

/* Values of one item in an ner/llm response {values: {...}, confidence}. */
int
eng_parse_effect_result(ddt_engine_ctx_t *c, uint32_t item,
    const ddt_json_t *res, eng_val_t *out, uint32_t *n, uint32_t layer)
{
    const ddt_json_t  *vals, *cf, *v;
    ddt_json_t        *norm;
    double             conf = 0.5, vc;
    uint32_t           main, n0, s;
    char               key[256];
    const ddt_bitem_t *it;

    vals = ddt_json_getz(res, "values");
    if (vals == NULL || vals->type != DDT_J_OBJ) {
        return 0;
    }
    cf = ddt_json_getz(res, "confidence");
    if (cf != NULL && cf->type == DDT_J_NUM) {
        conf = cf->u.n;
    }
    n0 = *n;
    main = eng_main_of(c, item);
    it = eng_item(c, main);

    v = ddt_json_getz(vals, eng_id(c, main));
    if (v != NULL) {
        vc = conf;
        v = eng_unwrap(v, &vc);
        norm = eng_normalise(c, main, v);
        if (norm != NULL) {
            eng_add_val(c, main, norm, vc, layer, out, n);
        }
    }
    for (s = it->subs.first; s < it->subs.first + it->subs.count; s++) {
        snprintf(key, sizeof(key), "%s.%s", eng_id(c, main), eng_id(c, s));
        v = ddt_json_getz(vals, key);
        if (v == NULL && s == item) {
            v = ddt_json_getz(vals, eng_id(c, s));
        }
        if (v == NULL) {
            continue;
        }
        vc = conf;
        v = eng_unwrap(v, &vc);
        norm = eng_normalise(c, s, v);
        if (norm != NULL) {
            eng_add_val(c, s, norm, vc, layer, out, n);
        }
    }
    return *n > n0;
}

static struct ddt_engine_effect_s *
eng_effect_cached(ddt_engine_ctx_t *c, uint32_t item, uint32_t layer)
{
    struct ddt_engine_effect_s  *e;

    for (e = c->st->effects; e != NULL; e = e->next) {
        if (e->item == item && e->layer == layer) {
            return e;
        }
    }
    return NULL;
}

/*
 * Run the layers of one item in order until one yields.  Returns 1 with
 * values in out (parts for a node with sub-data), 0 for none, 2 when an
 * ner/llm effect was requested.  mi: mixed initiative (no effects; the span
 * must carry the kind's marker, a regex match always does).
 */
int
eng_run_layers(ddt_engine_ctx_t *c, uint32_t item, const char *text,
    size_t len, int allow_effect, int mi, eng_val_t *out, uint32_t *n,
    size_t *span_start, size_t *span_end, int *marker)
{
    const ddt_bitem_t           *it;
    const ddt_blayer_t          *l;
    struct ddt_engine_effect_s  *e;
    ddt_match_t                  m;
    uint32_t                     k, n0;

    it = eng_item(c, item);
    *span_start = *span_end = 0;
    *marker = 0;
    n0 = *n;

    for (k = it->layers.first; k < it->layers.first + it->layers.count; k++) {
        l = &c->p->layers[k];
        switch (l->type) {

        case DDT_LAYER_REGEX:
            if (eng_regex(c, item, l, text, len, out, n, span_start,
                          span_end))
            {
                *marker = 1;
                return 1;
            }
            break;

        case DDT_LAYER_PARSER:
            if (eng_parse_item(c, item, text, len, &m)) {
                eng_add_val(c, item, m.value, 1.0, DDT_LAYER_PARSER, out, n);
                if (*n > n0) {
                    *span_start = m.start;
                    *span_end = m.end;
                    *marker = m.marker;
                    return 1;
                }
            }
            break;

        case DDT_LAYER_NER:
        case DDT_LAYER_LLM:
            if (mi || !allow_effect) {
                break;
            }
            e = eng_effect_cached(c, item, k);
            if (e == NULL) {
                eng_effect_request(c, item, k, text, len);
                return 2;
            }
            if (e->result != NULL
                && eng_parse_effect_result(c, item, e->result, out, n,
                                           l->type))
            {
                return 1;
            }
            break;

        default:
            break;
        }
    }
    return 0;
}

/* ---- normalisation (values input, effect results) --------------------- */

/* s starts with the shape f: 'd' a digit, anything else itself */
static int
eng_digits(const char *s, const char *f)
{
    for ( /* void */ ; *f; f++, s++) {
        if (*f == 'd' ? !isdigit((unsigned char) *s) : *s != *f) {
            return 0;
        }
    }
    return 1;
}

static ddt_json_t *
eng_num_obj(ddt_engine_ctx_t *c, const char *k1, int v1, const char *k2,
    int v2, const char *k3, int v3)
{
    ddt_json_t  *o;

    o = ddt_json_obj(c->arena);
    if (o == NULL) {
        return NULL;
    }
    if (k1) {
        ddt_json_setz(c->arena, o, k1, ddt_json_num(c->arena, v1));
    }
    if (k2) {
        ddt_json_setz(c->arena, o, k2, ddt_json_num(c->arena, v2));
    }
    if (k3) {
        ddt_json_setz(c->arena, o, k3, ddt_json_num(c->arena, v3));
    }
    return o;
}

static ddt_json_t *
eng_parse_string(ddt_engine_ctx_t *c, uint32_t item, const ddt_json_t *v)
{
    ddt_match_t  m;

    if (v->type != DDT_J_STR) {
        return NULL;
    }
    return eng_parse_item(c, item, v->u.str.s, v->u.str.len, &m)
           ? m.value : NULL;
}

static int
eng_is_int_in(const ddt_json_t *v, double lo, double hi)
{
    return v != NULL && v->type == DDT_J_NUM && ddt_json_is_int(v)
           && v->u.n >= lo && v->u.n <= hi;
}

/*
 * A `values` entry (or an ner/llm value) in the SPEC 3.1 form of the item:
 * the form itself, an ISO 8601 date/time string, or a string that goes
 * through the kind's parser.  NULL: nothing usable.
 */
ddt_json_t *
eng_normalise(ddt_engine_ctx_t *c, uint32_t item, const ddt_json_t *v)
{
    const ddt_bitem_t    *it;
    const ddt_bchoice_t  *ch;
    ddt_json_t           *o, *x;
    const char           *cur;
    uint32_t              k, s;
    int                   y, mo, d, h, mi;

    if (v == NULL || v->type == DDT_J_NULL) {
        return NULL;
    }
    it = eng_item(c, item);

    switch (it->kind) {

    case DDT_KIND_NUMBER:
        if (v->type == DDT_J_NUM) {
            return ddt_json_num(c->arena, v->u.n);
        }
        return eng_parse_string(c, item, v);

    case DDT_KIND_INTEGER:
        if (v->type == DDT_J_NUM) {
            return ddt_json_is_int(v) ? ddt_json_num(c->arena, v->u.n) : NULL;
        }
        return eng_parse_string(c, item, v);

    case DDT_KIND_MONTH:
        if (v->type == DDT_J_NUM) {
            return eng_is_int_in(v, 1, 12) ? ddt_json_num(c->arena, v->u.n)
                                           : NULL;
        }
        return eng_parse_string(c, item, v);

    case DDT_KIND_YESNO:
        if (v->type == DDT_J_BOOL) {
            return ddt_json_bool(c->arena, v->u.b);
        }
        return eng_parse_string(c, item, v);

    case DDT_KIND_DATE:
        if (v->type == DDT_J_STR) {
            /* "1980-03-12", or an ISO 8601 date-time: its date */
            if (v->u.str.len >= 10
                && sscanf(v->u.str.s, "%4d-%2d-%2d", &y, &mo, &d) == 3
                && eng_digits(v->u.str.s, "dddd-dd-dd")
                && (v->u.str.len == 10 || v->u.str.s[10] == 'T'))
            {
                o = eng_num_obj(c, "day", d, "month", mo, "year", y);
                return eng_calendar_ok(o) ? o : NULL;
            }
            return eng_parse_string(c, item, v);
        }
        if (v->type != DDT_J_OBJ) {
            return NULL;
        }
        o = ddt_json_obj(c->arena);
        if (o == NULL) {
            return NULL;
        }
        if ((x = ddt_json_getz(v, "day")) && eng_is_int_in(x, 1, 31)) {
            ddt_json_setl(c->arena, o, "day", ddt_json_num(c->arena, x->u.n));
        }
        if ((x = ddt_json_getz(v, "month")) && eng_is_int_in(x, 1, 12)) {
            ddt_json_setl(c->arena, o, "month",
                          ddt_json_num(c->arena, x->u.n));
        }
        if ((x = ddt_json_getz(v, "year")) && eng_is_int_in(x, 0, 9999)) {
            ddt_json_setl(c->arena, o, "year", ddt_json_num(c->arena, x->u.n));
        }
        if (o->u.obj.len == 0 || !eng_calendar_ok(o)) {
            return NULL;
        }
        return o;

    case DDT_KIND_TIME:
        if (v->type == DDT_J_STR) {
            /* "15:30", or with seconds ("15:30:00"): hour and minute */
            if (v->u.str.len >= 5
                && sscanf(v->u.str.s, "%2d:%2d", &h, &mi) == 2
                && eng_digits(v->u.str.s, "dd:dd")
                && (v->u.str.len == 5 || v->u.str.s[5] == ':')
                && h >= 0 && h <= 23 && mi >= 0 && mi <= 59)
            {
                return eng_num_obj(c, "hour", h, "minute", mi, NULL, 0);
            }
            return eng_parse_string(c, item, v);
        }
        if (v->type == DDT_J_OBJ
            && eng_is_int_in(ddt_json_getz(v, "hour"), 0, 23)
            && eng_is_int_in(ddt_json_getz(v, "minute"), 0, 59))
        {
            return eng_num_obj(c, "hour",
                               (int) ddt_json_getz(v, "hour")->u.n, "minute",
                               (int) ddt_json_getz(v, "minute")->u.n, NULL, 0);
        }
        return NULL;

    case DDT_KIND_CHOICE:
        if (v->type != DDT_J_STR) {
            return NULL;
        }
        for (k = it->choices.first; k < it->choices.first + it->choices.count;
             k++)
        {
            ch = &c->p->choices[k];
            if (ch->value.len == v->u.str.len
                && memcmp(ddt_bs(c->p, ch->value), v->u.str.s,
                          v->u.str.len) == 0)
            {
                return ddt_json_str(c->arena, v->u.str.s, v->u.str.len);
            }
        }
        return eng_parse_string(c, item, v);

    case DDT_KIND_AMOUNT:
        cur = c->locale == DDT_LOCALE_EN ? "USD" : "EUR";
        if (v->type == DDT_J_NUM) {
            o = ddt_json_obj(c->arena);
            if (o != NULL) {
                ddt_json_setl(c->arena, o, "value",
                              ddt_json_num(c->arena, v->u.n));
                ddt_json_setl(c->arena, o, "currency",
                              ddt_json_strz(c->arena, cur));
            }
            return o;
        }
        if (v->type == DDT_J_OBJ) {
            x = ddt_json_getz(v, "value");
            if (x == NULL || x->type != DDT_J_NUM) {
                return NULL;
            }
            o = ddt_json_obj(c->arena);
            if (o == NULL) {
                return NULL;
            }
            ddt_json_setl(c->arena, o, "value", ddt_json_num(c->arena, x->u.n));
            x = ddt_json_getz(v, "currency");
            if (x != NULL && x->type == DDT_J_STR && x->u.str.len == 3) {
                ddt_json_setl(c->arena, o, "currency",
                              ddt_json_str(c->arena, x->u.str.s, 3));
            } else {
                ddt_json_setl(c->arena, o, "currency",
                              ddt_json_strz(c->arena, cur));
            }
            return o;
        }
        return eng_parse_string(c, item, v);

    case DDT_KIND_COMPOSITE:
        if (v->type != DDT_J_OBJ) {
            return NULL;
        }
        o = ddt_json_obj(c->arena);
        if (o == NULL) {
            return NULL;
        }
        for (s = it->subs.first; s < it->subs.first + it->subs.count; s++) {
            x = eng_normalise(c, s, ddt_json_getz(v, eng_id(c, s)));
            if (x != NULL) {
                ddt_json_setz(c->arena, o, eng_id(c, s), x);
            }
        }
        return o->u.obj.len ? o : NULL;

    case DDT_KIND_TEXT:
    case DDT_KIND_NONE:
        return eng_parse_string(c, item, v);

    default:
        /* email, phone, postalCode, fiscalCode, iban: the parser checks and
         * normalises the string */
        return eng_parse_string(c, item, v);
    }
}

/* ---- DTMF (SPEC 9.4) -------------------------------------------------- */

/*
 * The kind's DTMF rule for the item asked.  Returns 1 when a rule applies
 * (*out is the value, or NULL: no value), 0 when the digits are text.
 */
int
eng_dtmf_value(ddt_engine_ctx_t *c, uint32_t item, const char *d, size_t len,
    ddt_json_t **out)
{
    const ddt_bitem_t  *it;
    char                buf[64], *p;
    size_t              i;
    int                 n, a, b, y, star = 0, digits = 1;
    double              x;
    ddt_json_t         *o;

    it = eng_item(c, item);
    *out = NULL;
    if (len == 0 || len >= sizeof(buf)) {
        return 0;
    }
    memcpy(buf, d, len);
    buf[len] = '\0';
    d = buf;
    for (i = 0; i < len; i++) {
        if (d[i] == '*') {
            star++;
        } else if (!isdigit((unsigned char) d[i])) {
            digits = 0;
        }
    }

    switch (it->kind) {

    case DDT_KIND_YESNO:
        if (len == 1 && (d[0] == '1' || d[0] == '2')) {
            *out = ddt_json_bool(c->arena, d[0] == '1');
        }
        return 1;

    case DDT_KIND_CHOICE:
        if (!digits || star || len > 4) {
            return 1;
        }
        n = atoi(d);
        if (n >= 1 && (uint32_t) n <= it->choices.count) {
            *out = ddt_json_strz(c->arena, ddt_bs(c->p,
                       c->p->choices[it->choices.first + n - 1].value));
        }
        return 1;

    case DDT_KIND_DATE:
        if (len != 8 || !digits || star) {
            return 0;
        }
        a = (d[0] - '0') * 10 + (d[1] - '0');
        b = (d[2] - '0') * 10 + (d[3] - '0');
        y = atoi(d + 4);
        o = c->locale == DDT_LOCALE_EN
            ? eng_num_obj(c, "day", b, "month", a, "year", y)
            : eng_num_obj(c, "day", a, "month", b, "year", y);
        if (o != NULL && eng_calendar_ok(o)
            && eng_is_int_in(ddt_json_getz(o, "day"), 1, 31)
            && eng_is_int_in(ddt_json_getz(o, "month"), 1, 12))
        {
            *out = o;
        }
        return 1;

    case DDT_KIND_TIME:
        if (len != 4 || !digits || star) {
            return 0;
        }
        a = (d[0] - '0') * 10 + (d[1] - '0');
        b = (d[2] - '0') * 10 + (d[3] - '0');
        if (a <= 23 && b <= 59) {
            *out = eng_num_obj(c, "hour", a, "minute", b, NULL, 0);
        }
        return 1;

    case DDT_KIND_NUMBER:
    case DDT_KIND_AMOUNT:
        if (star > 1 || d[0] == '*' || d[len - 1] == '*') {
            return star ? 1 : 0;
        }
        p = strchr(buf, '*');
        if (p != NULL) {
            *p = '.';
        }
        x = strtod(buf, NULL);
        if (it->kind == DDT_KIND_NUMBER) {
            *out = ddt_json_num(c->arena, x);
        } else {
            o = ddt_json_obj(c->arena);
            if (o != NULL) {
                ddt_json_setl(c->arena, o, "value", ddt_json_num(c->arena, x));
                ddt_json_setl(c->arena, o, "currency", ddt_json_strz(c->arena,
                              c->locale == DDT_LOCALE_EN ? "USD" : "EUR"));
            }
            *out = o;
        }
        return 1;

    default:
        return 0;
    }
}

/* ---- the active node and mixed initiative ----------------------------- */

static int
eng_mi_kind_ok(uint32_t kind)
{
    switch (kind) {
    case DDT_KIND_NUMBER:
    case DDT_KIND_INTEGER:
    case DDT_KIND_YESNO:
    case DDT_KIND_POSTALCODE:
    case DDT_KIND_TEXT:
    case DDT_KIND_NONE:
        return 0;
    default:
        return 1;
    }
}

static void
eng_mask(char *buf, size_t len, size_t a, size_t b)
{
    if (b > len) {
        b = len;
    }
    if (a < b) {
        memset(buf + a, ' ', b - a);
    }
}

/*
 * Mixed initiative (SPEC 9.2): every other unfilled main node, in file
 * order, extracts from the utterance with the spans already matched
 * removed; it keeps a value only when the span carries its kind's marker.
 */
static void
eng_mixed(ddt_engine_ctx_t *c, uint32_t active_main, char *buf, size_t len,
    eng_found_t *f)
{
    const ddt_bddt_t  *d;
    uint32_t           m, n, k;
    size_t             ss, se;
    int                marker, rc;
    eng_val_t          tmp[ENG_MAX_VALS];
    ddt_item_rt_t     *rt;

    d = &c->p->ddts[c->st->ddt];
    for (m = d->items.first; m < d->items.first + d->items.count; m++) {
        rt = eng_rt(c, m);
        if (m == active_main || rt->state == DDT_ITEM_FILLED
            || rt->state == DDT_ITEM_CONFIRMING
            || rt->state == DDT_ITEM_EXHAUSTED
            || !eng_mi_kind_ok(eng_item(c, m)->kind) || eng_complete(c, m))
        {
            continue;
        }
        for (k = 0; k < f->n_mi; k++) {
            if (eng_main_of(c, f->mi[k].item) == m) {
                break;                 /* a service already gave it */
            }
        }
        if (k < f->n_mi) {
            continue;
        }
        n = 0;
        rc = eng_run_layers(c, m, buf, len, 0, 1, tmp, &n, &ss, &se, &marker);
        if (rc != 1 || !marker || n == 0) {
            continue;
        }
        for (k = 0; k < n && f->n_mi < ENG_MAX_VALS; k++) {
            f->mi[f->n_mi++] = tmp[k];
        }
        eng_mask(buf, len, ss, se);
    }
}

/*
 * With mixed initiative an ner/llm response may carry values for the other
 * nodes listed in the request: they are taken like mixed-initiative values
 * (same kinds excluded), before the utterance's own spans are tried.
 */
static void
eng_effect_others(ddt_engine_ctx_t *c, uint32_t active_main, eng_found_t *f)
{
    struct ddt_engine_effect_s  *e;
    const ddt_bddt_t            *d;
    uint32_t                     m;
    ddt_item_rt_t               *rt;

    d = &c->p->ddts[c->st->ddt];
    for (e = c->st->effects; e != NULL; e = e->next) {
        if (e->result == NULL || eng_main_of(c, e->item) != active_main) {
            continue;
        }
        for (m = d->items.first; m < d->items.first + d->items.count; m++) {
            rt = eng_rt(c, m);
            if (m == active_main || rt->state == DDT_ITEM_FILLED
                || rt->state == DDT_ITEM_CONFIRMING
                || rt->state == DDT_ITEM_EXHAUSTED
                || !eng_mi_kind_ok(eng_item(c, m)->kind)
                || eng_complete(c, m))
            {
                continue;
            }
            eng_parse_effect_result(c, m, e->result, f->mi, &f->n_mi,
                                    c->p->layers[e->layer].type);
        }
    }
}

/* No digit outside [ss, se): the value is the only number said, so
 * "31/02/1980" (no date: SPEC 9.3) is not the bare day 31. */
static int
eng_only_digits_in(const char *text, size_t len, size_t ss, size_t se)
{
    size_t  i;

    if (se <= ss || se > len) {
        return 1;                      /* no span known (a service) */
    }
    for (i = 0; i < len; i++) {
        if ((i < ss || i >= se) && isdigit((unsigned char) text[i])) {
            return 0;
        }
    }
    return 1;
}

/*
 * A bare value that fits exactly one part's limits (SPEC 9.3 for
 * corrections; also used when a date is asked whole and its parser finds
 * nothing: "1980" is the year).  Only parts still missing when `missing`.
 */
static int
eng_bare(ddt_engine_ctx_t *c, uint32_t main, const char *text, size_t len,
    int missing, eng_val_t *out, uint32_t *n)
{
    const ddt_bitem_t  *it;
    eng_val_t           one[ENG_MAX_VALS], hit;
    uint32_t            s, n1, nfit = 0;
    size_t              ss, se;
    int                 marker;

    it = eng_item(c, main);
    memset(&hit, 0, sizeof(hit));
    for (s = it->subs.first; s < it->subs.first + it->subs.count; s++) {
        if (missing && eng_get_part(c, s) != NULL) {
            continue;
        }
        n1 = 0;
        if (eng_run_layers(c, s, text, len, 0, 0, one, &n1, &ss, &se,
                           &marker) == 1
            && n1 == 1 && eng_limits_ok(c, s, one[0].value)
            && eng_only_digits_in(text, len, ss, se))
        {
            nfit++;
            hit = one[0];
        }
    }
    if (nfit != 1 || *n >= ENG_MAX_VALS) {
        return 0;
    }
    out[(*n)++] = hit;
    return 1;
}

static int
eng_bare_part(ddt_engine_ctx_t *c, uint32_t main, const char *text,
    size_t len, eng_val_t *out, uint32_t *n)
{
    return eng_bare(c, main, text, len, 1, out, n);
}

/*
 * Extraction for a text or DTMF input while `active` is asked (SPEC 4.2,
 * 9.2, 9.4, 9.8).  Returns DDT_OK, or 2 when an effect was requested.
 */
int
eng_extract_text(ddt_engine_ctx_t *c, uint32_t active, const char *text,
    size_t len, int dtmf, eng_found_t *f)
{
    uint32_t     main, first, target;
    size_t       ss = 0, se = 0;
    int          marker, rc = 0;
    char        *buf;
    ddt_json_t  *v;

    main = eng_main_of(c, active);

    if (dtmf) {
        /* the asked item's rule, then the node's (8 digits while a
         * date's part is asked) */
        target = DDT_NONE;
        if (eng_dtmf_value(c, active, text, len, &v)) {
            target = active;
        } else if (active != main && eng_dtmf_value(c, main, text, len, &v)) {
            target = main;
        }
        if (target != DDT_NONE) {
            if (v != NULL) {
                eng_add_val(c, target, v, 1.0, DDT_LAYER_PARSER, f->act,
                            &f->n_act);
            }
            return DDT_OK;
        }
    }

    if (active != main) {
        /* SPEC 9.8: the parent's layers first, then the sub-data's own */
        rc = eng_run_layers(c, main, text, len, !dtmf, 0, f->act, &f->n_act,
                            &ss, &se, &marker);
        if (rc == 2) {
            return 2;
        }
        if (rc == 0) {
            rc = eng_run_layers(c, active, text, len, !dtmf, 0, f->act,
                                &f->n_act, &ss, &se, &marker);
            if (rc == 2) {
                return 2;
            }
        }
    } else {
        rc = eng_run_layers(c, main, text, len, !dtmf, 0, f->act, &f->n_act,
                            &ss, &se, &marker);
        if (rc == 2) {
            return 2;
        }
        if (rc == 0 && eng_item(c, main)->kind == DDT_KIND_DATE) {
            /* a bare part ("1980") that fits exactly one missing part */
            rc = eng_bare_part(c, main, text, len, f->act, &f->n_act);
        }
        if (rc == 0 && eng_item(c, main)->kind == DDT_KIND_COMPOSITE) {
            first = eng_first_missing(c, main);
            if (first != DDT_NONE) {
                rc = eng_run_layers(c, first, text, len, !dtmf, 0, f->act,
                                    &f->n_act, &ss, &se, &marker);
                if (rc == 2) {
                    return 2;
                }
            }
        }
    }

    if (dtmf || !c->p->ddts[c->st->ddt].mixed_initiative) {
        return DDT_OK;
    }

    eng_effect_others(c, main, f);

    buf = ddt_arena_strndup(c->arena, text, len);
    if (buf == NULL) {
        return DDT_OK;
    }
    if (rc == 1) {
        eng_mask(buf, len, ss, se);
    }
    eng_mixed(c, main, buf, len, f);
    return DDT_OK;
}

/* Resolve a `values` key: "id" or "id.sub" of the running DDT. */
static uint32_t
eng_values_key(ddt_engine_ctx_t *c, const char *key, size_t klen)
{
    const ddt_bddt_t  *d;
    const char        *dot;
    size_t             mlen;
    uint32_t           m;

    d = &c->p->ddts[c->st->ddt];
    dot = memchr(key, '.', klen);
    mlen = dot ? (size_t) (dot - key) : klen;
    for (m = d->items.first; m < d->items.first + d->items.count; m++) {
        if (c->p->items[m].id.len == mlen
            && memcmp(eng_id(c, m), key, mlen) == 0)
        {
            if (dot == NULL) {
                return m;
            }
            return eng_sub_by_id(c, m, dot + 1, klen - mlen - 1);
        }
    }
    return DDT_NONE;
}

/* A {"value", "confidence"} wrapper's confidence is a number in [0, 1]. */
static int
eng_values_confidence_ok(const ddt_json_t *v)
{
    const ddt_json_t  *cf;

    if (v == NULL || v->type != DDT_J_OBJ
        || ddt_json_getz(v, "value") == NULL)
    {
        return 1;
    }
    cf = ddt_json_getz(v, "confidence");
    return cf == NULL
           || (cf->type == DDT_J_NUM && cf->u.n >= 0 && cf->u.n <= 1);
}

int
ddt_engine_check_values(ddt_engine_ctx_t *c, const ddt_json_t *values,
    ddt_err_t *err)
{
    size_t  k;

    if (values == NULL || values->type != DDT_J_OBJ
        || c->st->ddt == DDT_NONE)
    {
        ddt_err_set(err, 400, "bad_input", "\"values\" must be an object");
        return DDT_ERROR;
    }
    for (k = 0; k < values->u.obj.len; k++) {
        if (eng_values_key(c, values->u.obj.m[k].key,
                           values->u.obj.m[k].klen) == DDT_NONE)
        {
            ddt_err_set(err, 400, "bad_input",
                        "unknown data \"%.100s\" in \"values\"",
                        values->u.obj.m[k].key);
            return DDT_ERROR;
        }
        if (!eng_values_confidence_ok(values->u.obj.m[k].val)) {
            ddt_err_set(err, 400, "bad_input",
                        "\"values\".\"%.100s\": confidence must be a number "
                        "from 0 to 1", values->u.obj.m[k].key);
            return DDT_ERROR;
        }
    }
    return DDT_OK;
}

/*
 * A `values` input (SPEC 9.2): entries for the active node are its value
 * (or parts); the others are filled like mixed initiative, whatever
 * `mixedInitiative` says.
 */
int
eng_extract_values(ddt_engine_ctx_t *c, uint32_t active,
    const ddt_json_t *values, eng_found_t *f)
{
    uint32_t     item, main, amain;
    size_t       k;
    double       conf;
    ddt_json_t  *v, *norm;

    amain = active == DDT_NONE ? DDT_NONE : eng_main_of(c, active);
    for (k = 0; k < values->u.obj.len; k++) {
        item = eng_values_key(c, values->u.obj.m[k].key,
                              values->u.obj.m[k].klen);
        if (item == DDT_NONE) {
            continue;
        }
        conf = 1.0;
        v = eng_unwrap(values->u.obj.m[k].val, &conf);
        norm = eng_normalise(c, item, v);
        if (norm == NULL) {
            continue;
        }
        main = eng_main_of(c, item);
        if (main == amain) {
            eng_add_val(c, item, norm, conf, DDT_LAYER_VALUES, f->act,
                        &f->n_act);
        } else {
            eng_add_val(c, item, norm, conf, DDT_LAYER_VALUES, f->mi, &f->n_mi);
        }
    }
    return DDT_OK;
}

/* ---- corrections in confirmation (SPEC 9.3, 9.8) ---------------------- */

static int
eng_wordc(unsigned char ch)
{
    return isalnum(ch) || ch >= 0x80;
}

/* Find whole-word `w` (folded) in folded text from `from`. */
static const char *
eng_find_word(const char *s, size_t slen, const char *w, size_t wlen,
    size_t from)
{
    size_t  i;

    if (wlen == 0) {
        return NULL;
    }
    for (i = from; i + wlen <= slen; i++) {
        if (memcmp(s + i, w, wlen) == 0
            && (i == 0 || !eng_wordc((unsigned char) s[i - 1]))
            && (i + wlen == slen || !eng_wordc((unsigned char) s[i + wlen])))
        {
            return s + i;
        }
    }
    return NULL;
}

static const char *
eng_part_word(ddt_engine_ctx_t *c, uint32_t sub, int en)
{
    const char  *id;

    if (eng_item(c, eng_main_of(c, sub))->kind != DDT_KIND_DATE) {
        return NULL;
    }
    id = eng_id(c, sub);
    if (strcmp(id, "day") == 0) {
        return en ? "day" : "giorno";
    }
    if (strcmp(id, "month") == 0) {
        return en ? "month" : "mese";
    }
    if (strcmp(id, "year") == 0) {
        return en ? "year" : "anno";
    }
    return NULL;
}

/* After a name at folded offset `at`: " è|is|=" then the value. */
static int
eng_named_value(ddt_engine_ctx_t *c, uint32_t item, const ddt_folded_t *ft,
    const char *text, size_t len, size_t at, eng_val_t *out, uint32_t *n)
{
    const char  *s;
    size_t       i, o;
    ddt_match_t  m;

    s = ft->s;
    i = at;
    while (i < ft->len && (s[i] == ' ' || s[i] == ':' || s[i] == ',')) {
        i++;
    }
    if (i + 1 <= ft->len && s[i] == 'e'
        && (i + 1 == ft->len || !eng_wordc((unsigned char) s[i + 1])))
    {
        i += 1;
    } else if (i + 2 <= ft->len && memcmp(s + i, "is", 2) == 0
               && (i + 2 == ft->len || !eng_wordc((unsigned char) s[i + 2])))
    {
        i += 2;
    } else if (i < ft->len && s[i] == '=') {
        i += 1;
    } else {
        return 0;
    }
    o = ft->orig[i];
    if (o >= len) {
        return 0;
    }
    if (!eng_parse_item(c, item, text + o, len - o, &m)) {
        return 0;
    }
    eng_add_val(c, item, m.value, 1.0, DDT_LAYER_PARSER, out, n);
    return 1;
}

static int
eng_named(ddt_engine_ctx_t *c, uint32_t item, const ddt_folded_t *ft,
    const char *text, size_t len, eng_val_t *out, uint32_t *n)
{
    const ddt_bitem_t  *it;
    const char         *names[3], *hit;
    ddt_folded_t        fw;
    uint32_t            k;

    it = eng_item(c, item);
    names[0] = ddt_bs(c->p, it->label);
    names[1] = eng_id(c, item);
    names[2] = eng_part_word(c, item, c->locale == DDT_LOCALE_EN);

    for (k = 0; k < 3; k++) {
        if (names[k] == NULL || *names[k] == '\0') {
            continue;
        }
        if (ddt_text_fold(c->arena, names[k], strlen(names[k]), &fw)
            != DDT_OK)
        {
            continue;
        }
        hit = eng_find_word(ft->s, ft->len, fw.s, fw.len, 0);
        while (hit != NULL) {
            if (eng_named_value(c, item, ft, text, len,
                                (size_t) (hit - ft->s) + fw.len, out, n))
            {
                return 1;
            }
            hit = eng_find_word(ft->s, ft->len, fw.s, fw.len,
                                (size_t) (hit - ft->s) + fw.len);
        }
    }
    return 0;
}

/*
 * A correction while confirming (SPEC 9.3): "<label, id or part word>
 * è|is <value>" for the node or any of its sub-data; else the node's
 * layers on the text; else a bare value that fits exactly one part's
 * limits.  Returns 1 with values, 0 none, 2 effect requested.
 */
int
eng_find_correction(ddt_engine_ctx_t *c, uint32_t main, const char *text,
    size_t len, eng_val_t *out, uint32_t *n)
{
    const ddt_bitem_t  *it;
    ddt_folded_t        ft;
    uint32_t            s;
    size_t              ss, se;
    int                 marker, rc;

    it = eng_item(c, main);
    if (len == 0) {
        return 0;
    }

    if (ddt_text_fold(c->arena, text, len, &ft) == DDT_OK) {
        if (it->subs.count) {
            for (s = it->subs.first; s < it->subs.first + it->subs.count;
                 s++)
            {
                eng_named(c, s, &ft, text, len, out, n);
            }
        } else if (it->kind != DDT_KIND_TEXT) {
            eng_named(c, main, &ft, text, len, out, n);
        }
        if (*n > 0) {
            return 1;
        }
    }

    rc = eng_run_layers(c, main, text, len, 1, 0, out, n, &ss, &se, &marker);
    if (rc != 0) {
        return rc;
    }

    return eng_bare(c, main, text, len, 0, out, n);
}
