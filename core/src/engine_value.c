/*
 * engine_value.c: the engine's view of items and their values: reading and
 * writing an item's value and its $meta in memory (SPEC 3, 9.3), built-in
 * limits per part, calendar checks, validate rules, and the prompts with
 * their fallbacks and message metadata (SPEC 4.7, 9.1, 9.8).  The turn
 * logic itself is in engine.c.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "engine_int.h"

static const char *eng_state_names[] = {
    "idle", "asking", "confirming", "filled", "exhausted"
};

/* ---- items ------------------------------------------------------------ */

const ddt_bitem_t *
eng_item(ddt_engine_ctx_t *c, uint32_t i)
{
    return &c->p->items[i];
}

ddt_item_rt_t *
eng_rt(ddt_engine_ctx_t *c, uint32_t i)
{
    return &c->st->items[i - c->p->ddts[c->st->ddt].all_items.first];
}

uint32_t
eng_main_of(ddt_engine_ctx_t *c, uint32_t i)
{
    uint32_t  parent;

    parent = c->p->items[i].parent;
    return parent == DDT_NONE ? i : parent;
}

const char *
eng_ddt_id(ddt_engine_ctx_t *c)
{
    return ddt_bs(c->p, c->p->ddts[c->st->ddt].id);
}

const char *
eng_id(ddt_engine_ctx_t *c, uint32_t i)
{
    return ddt_bs(c->p, c->p->items[i].id);
}

int
eng_has_subs(ddt_engine_ctx_t *c, uint32_t main)
{
    return c->p->items[main].subs.count > 0;
}

uint32_t
eng_sub_by_id(ddt_engine_ctx_t *c, uint32_t main, const char *id,
    size_t len)
{
    uint32_t            s;
    const ddt_bitem_t  *it;

    it = eng_item(c, main);
    for (s = it->subs.first; s < it->subs.first + it->subs.count; s++) {
        if (c->p->items[s].id.len == len
            && memcmp(eng_id(c, s), id, len) == 0)
        {
            return s;
        }
    }
    return DDT_NONE;
}

/* ---- memory ----------------------------------------------------------- */

ddt_json_t *
eng_ddt_obj(ddt_engine_ctx_t *c, int create)
{
    const char  *id;
    ddt_json_t  *d;

    id = eng_ddt_id(c);
    d = ddt_json_getz(c->memory, id);
    if (d != NULL && d->type == DDT_J_OBJ) {
        return d;
    }
    if (!create) {
        return NULL;
    }
    d = ddt_json_obj(c->arena);
    if (d == NULL || ddt_json_setz(c->arena, c->memory, id, d) != DDT_OK) {
        return NULL;
    }
    return d;
}

/* A main node's value: NULL when absent or JSON null. */
ddt_json_t *
eng_get_value(ddt_engine_ctx_t *c, uint32_t main)
{
    ddt_json_t  *d, *v;

    d = eng_ddt_obj(c, 0);
    if (d == NULL) {
        return NULL;
    }
    v = ddt_json_getz(d, eng_id(c, main));
    if (v == NULL || v->type == DDT_J_NULL) {
        return NULL;
    }
    return v;
}

ddt_json_t *
eng_get_part(ddt_engine_ctx_t *c, uint32_t sub)
{
    ddt_json_t  *v, *part;

    v = eng_get_value(c, eng_main_of(c, sub));
    if (v == NULL || v->type != DDT_J_OBJ) {
        return NULL;
    }
    part = ddt_json_getz(v, eng_id(c, sub));
    if (part == NULL || part->type == DDT_J_NULL) {
        return NULL;
    }
    return part;
}

int
eng_set_value(ddt_engine_ctx_t *c, uint32_t main, ddt_json_t *v)
{
    ddt_json_t  *d;

    d = eng_ddt_obj(c, 1);
    if (d == NULL) {
        return DDT_ERROR;
    }
    return ddt_json_setz(c->arena, d, eng_id(c, main), v);
}

/* Parts in sub-data order, whatever order they arrived in (a regex's named
 * groups come alphabetically): a composite is formatted part by part in
 * that order (SPEC 9.6), and GET memory reads day, month, year. */
static void
eng_order_parts(ddt_engine_ctx_t *c, uint32_t main, ddt_json_t *obj)
{
    ddt_jmember_t  t;
    size_t         i, j;
    uint32_t       ki, kj;

    for (i = 1; i < obj->u.obj.len; i++) {
        t = obj->u.obj.m[i];
        ki = eng_sub_by_id(c, main, t.key, t.klen);
        for (j = i; j > 0; j--) {
            kj = eng_sub_by_id(c, main, obj->u.obj.m[j - 1].key,
                               obj->u.obj.m[j - 1].klen);
            if (kj <= ki) {
                break;
            }
            obj->u.obj.m[j] = obj->u.obj.m[j - 1];
        }
        obj->u.obj.m[j] = t;
    }
}

int
eng_set_part(ddt_engine_ctx_t *c, uint32_t sub, ddt_json_t *v)
{
    uint32_t     main;
    ddt_json_t  *obj;

    main = eng_main_of(c, sub);
    obj = eng_get_value(c, main);
    if (obj == NULL || obj->type != DDT_J_OBJ) {
        obj = ddt_json_obj(c->arena);
        if (obj == NULL || eng_set_value(c, main, obj) != DDT_OK) {
            return DDT_ERROR;
        }
    }
    if (ddt_json_setz(c->arena, obj, eng_id(c, sub), v) != DDT_OK) {
        return DDT_ERROR;
    }
    eng_order_parts(c, main, obj);
    return DDT_OK;
}

void
eng_clear_value(ddt_engine_ctx_t *c, uint32_t main)
{
    ddt_json_t  *d;
    const char  *id;

    d = eng_ddt_obj(c, 0);
    if (d != NULL) {
        id = eng_id(c, main);
        ddt_json_del(d, id, strlen(id));
    }
}

void
eng_clear_part(ddt_engine_ctx_t *c, uint32_t sub)
{
    ddt_json_t  *v;
    const char  *id;
    uint32_t     main;

    main = eng_main_of(c, sub);
    v = eng_get_value(c, main);
    if (v != NULL && v->type == DDT_J_OBJ) {
        id = eng_id(c, sub);
        ddt_json_del(v, id, strlen(id));
        if (v->u.obj.len == 0) {
            eng_clear_value(c, main);
        }
    }
}

/* The object member key of parent, created (empty) when asked; a key
 * that is a literal is not copied. */
static ddt_json_t *
eng_child_obj(ddt_engine_ctx_t *c, ddt_json_t *parent, const char *key,
    int literal, int create)
{
    ddt_json_t  *o;

    o = ddt_json_getz(parent, key);
    if (o == NULL || o->type != DDT_J_OBJ) {
        if (!create) {
            return NULL;
        }
        o = ddt_json_obj(c->arena);
        if (o == NULL
            || (literal
                ? ddt_json_set_nocopy(c->arena, parent, key, strlen(key), o)
                : ddt_json_setz(c->arena, parent, key, o)))
        {
            return NULL;
        }
    }
    return o;
}

/* d.$meta.<n> (and d.$meta.<n>.sub.<s>): create when asked. */
static ddt_json_t *
eng_meta_obj(ddt_engine_ctx_t *c, uint32_t i, int create)
{
    ddt_json_t  *d, *meta, *m, *subs;
    uint32_t     main;

    d = eng_ddt_obj(c, create);
    if (d == NULL) {
        return NULL;
    }
    main = eng_main_of(c, i);

    meta = eng_child_obj(c, d, "$meta", 1, create);
    if (meta == NULL) {
        return NULL;
    }
    m = eng_child_obj(c, meta, eng_id(c, main), 0, create);
    if (m == NULL || i == main) {
        return m;
    }
    subs = eng_child_obj(c, m, "sub", 1, create);
    if (subs == NULL) {
        return NULL;
    }
    return eng_child_obj(c, subs, eng_id(c, i), 0, create);
}

static const char *
eng_state_name(ddt_engine_ctx_t *c, uint32_t i)
{
    uint8_t  s;

    s = eng_rt(c, i)->state;
    return s <= DDT_ITEM_EXHAUSTED ? eng_state_names[s] : "idle";
}

/* Record how an item's value was obtained; for a part, the parent's
 * confidence becomes the lowest of its parts and its layer the last one. */
void
eng_set_meta(ddt_engine_ctx_t *c, uint32_t i, double conf, uint32_t layer)
{
    ddt_json_t  *m;
    uint32_t     main;

    m = eng_meta_obj(c, i, 1);
    if (m == NULL) {
        return;
    }
    ddt_json_setl(c->arena, m, "confidence", ddt_json_num(c->arena, conf));
    ddt_json_setl(c->arena, m, "layer",
                  ddt_json_strz(c->arena, ddt_layer_name(layer)));
    ddt_json_setl(c->arena, m, "state",
                  ddt_json_strz(c->arena, eng_state_name(c, i)));

    main = eng_main_of(c, i);
    if (main != i) {
        m = eng_meta_obj(c, main, 1);
        if (m == NULL) {
            return;
        }
        ddt_json_setl(c->arena, m, "confidence",
                      ddt_json_num(c->arena, eng_confidence(c, main)));
        ddt_json_setl(c->arena, m, "layer",
                      ddt_json_strz(c->arena, ddt_layer_name(layer)));
        ddt_json_setl(c->arena, m, "state",
                      ddt_json_strz(c->arena, eng_state_name(c, main)));
    }
}

/* Refresh the "state" of an item's $meta (created if the item has one). */
void
eng_meta_state(ddt_engine_ctx_t *c, uint32_t i)
{
    ddt_json_t  *m;

    m = eng_meta_obj(c, i, 1);
    if (m != NULL) {
        ddt_json_setl(c->arena, m, "state",
                      ddt_json_strz(c->arena, eng_state_name(c, i)));
    }
}

void
eng_clear_meta(ddt_engine_ctx_t *c, uint32_t i)
{
    ddt_json_t  *m;
    uint32_t     main;

    main = eng_main_of(c, i);
    m = eng_meta_obj(c, i, 0);
    if (m == NULL) {
        return;
    }
    ddt_json_del(m, "confidence", 10);
    ddt_json_del(m, "layer", 5);
    if (main == i) {
        ddt_json_del(m, "sub", 3);
    }
    ddt_json_setl(c->arena, m, "state",
                  ddt_json_strz(c->arena, eng_state_name(c, i)));
}

/* Forget a main node's $meta altogether (entering a GetData with no
 * value for it). */
void
eng_meta_forget(ddt_engine_ctx_t *c, uint32_t main)
{
    ddt_json_t  *d, *meta;
    const char  *id;

    d = eng_ddt_obj(c, 0);
    meta = d ? ddt_json_getz(d, "$meta") : NULL;
    if (meta != NULL && meta->type == DDT_J_OBJ) {
        id = eng_id(c, main);
        ddt_json_del(meta, id, strlen(id));
    }
}

/* Confidence of a main node: its own, or the lowest of its parts. */
double
eng_confidence(ddt_engine_ctx_t *c, uint32_t main)
{
    ddt_json_t         *m, *subs, *cf;
    double              low = 1.0;
    size_t              k;

    m = eng_meta_obj(c, main, 0);
    if (m == NULL) {
        return 1.0;
    }
    subs = ddt_json_getz(m, "sub");
    if (subs != NULL && subs->type == DDT_J_OBJ && subs->u.obj.len > 0) {
        for (k = 0; k < subs->u.obj.len; k++) {
            cf = ddt_json_getz(subs->u.obj.m[k].val, "confidence");
            if (cf != NULL && cf->type == DDT_J_NUM && cf->u.n < low) {
                low = cf->u.n;
            }
        }
        return low;
    }
    cf = ddt_json_getz(m, "confidence");
    return (cf != NULL && cf->type == DDT_J_NUM) ? cf->u.n : 1.0;
}

void
eng_set_status(ddt_engine_ctx_t *c, const char *status, uint32_t failed,
    uint32_t failed_sub)
{
    ddt_json_t  *d;

    d = eng_ddt_obj(c, 1);
    if (d == NULL) {
        return;
    }
    if (status == NULL) {
        ddt_json_del(d, "$status", 7);
    } else {
        ddt_json_setl(c->arena, d, "$status", ddt_json_strz(c->arena, status));
    }
    if (failed == DDT_NONE) {
        ddt_json_del(d, "$failed", 7);
    } else {
        ddt_json_setl(c->arena, d, "$failed",
                      ddt_json_strz(c->arena, eng_id(c, failed)));
    }
    if (failed_sub == DDT_NONE) {
        ddt_json_del(d, "$failedSub", 10);
    } else {
        ddt_json_setl(c->arena, d, "$failedSub",
                      ddt_json_strz(c->arena, eng_id(c, failed_sub)));
    }
}

/* ---- completeness ----------------------------------------------------- */

/* First required sub-data with no part in memory, in file order. */
uint32_t
eng_first_missing(ddt_engine_ctx_t *c, uint32_t main)
{
    const ddt_bitem_t  *it;
    uint32_t            s;

    it = eng_item(c, main);
    for (s = it->subs.first; s < it->subs.first + it->subs.count; s++) {
        if (c->p->items[s].required && eng_get_part(c, s) == NULL) {
            return s;
        }
    }
    return DDT_NONE;
}

int
eng_complete(ddt_engine_ctx_t *c, uint32_t main)
{
    if (eng_get_value(c, main) == NULL) {
        return 0;
    }
    if (!eng_has_subs(c, main)) {
        return 1;
    }
    return eng_first_missing(c, main) == DDT_NONE;
}

/* ---- built-in limits -------------------------------------------------- */

static size_t
eng_utf8_len(const char *s, size_t len)
{
    size_t  i, n = 0;

    for (i = 0; i < len; i++) {
        if (((unsigned char) s[i] & 0xc0) != 0x80) {
            n++;
        }
    }
    return n;
}

/* min/max/minLength/maxLength/pattern of one item on one value (SPEC 3,
 * 9.3, 9.8: pattern on the normalised value, anchored, case-sensitive). */
int
eng_limits_ok(ddt_engine_ctx_t *c, uint32_t i, const ddt_json_t *v)
{
    const ddt_bitem_t  *it;
    const ddt_json_t   *num = NULL;
    pcre2_match_data   *md;
    size_t              n;
    int                 rc;

    it = eng_item(c, i);
    if (v == NULL) {
        return 0;
    }

    if (v->type == DDT_J_NUM) {
        num = v;
    } else if (it->kind == DDT_KIND_AMOUNT && v->type == DDT_J_OBJ) {
        num = ddt_json_getz(v, "value");
    }
    if (it->kind == DDT_KIND_INTEGER && v->type == DDT_J_NUM
        && !ddt_json_is_int(v))
    {
        return 0;
    }
    if (num != NULL && num->type == DDT_J_NUM) {
        if (it->has_min && num->u.n < it->min) {
            return 0;
        }
        if (it->has_max && num->u.n > it->max) {
            return 0;
        }
    }

    if (v->type == DDT_J_STR) {
        n = eng_utf8_len(v->u.str.s, v->u.str.len);
        if (it->min_len != DDT_NONE && n < it->min_len) {
            return 0;
        }
        if (it->max_len != DDT_NONE && n > it->max_len) {
            return 0;
        }
        if (it->pattern != DDT_NONE && it->pattern < c->p->n_regexes
            && c->p->regexes != NULL && c->p->regexes[it->pattern] != NULL)
        {
            md = pcre2_match_data_create(1, NULL);
            if (md == NULL) {
                return 0;
            }
            rc = pcre2_match(c->p->regexes[it->pattern],
                             (PCRE2_SPTR) v->u.str.s, v->u.str.len, 0,
                             PCRE2_ANCHORED | PCRE2_ENDANCHORED, md,
                             c->p->match_ctx);
            pcre2_match_data_free(md);
            if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT) {
                eng_log(c, "ddt: pattern of \"%s\" hit the match limits",
                        eng_id(c, i));
            }
            if (rc < 0) {
                return 0;
            }
        }
    }
    return 1;
}

static int
eng_int_field(const ddt_json_t *o, const char *k, int *out)
{
    const ddt_json_t  *v;

    v = ddt_json_getz(o, k);
    if (v == NULL || v->type != DDT_J_NUM || !ddt_json_is_int(v)) {
        return 0;
    }
    /* out of int's range the cast is undefined (fuzz_state found one);
     * INT_MIN is what x86 gave and what the checks below refuse */
    *out = (v->u.n >= -2147483648.0 && v->u.n <= 2147483647.0)
           ? (int) v->u.n : (-2147483647 - 1);
    return 1;
}

/* A (possibly partial) date is possible on the calendar. */
int
eng_calendar_ok(const ddt_json_t *date)
{
    static const int  mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
                                  30, 31 };
    int  d = 0, m = 0, y = 0, hd, hm, hy, max;

    if (date == NULL || date->type != DDT_J_OBJ) {
        return 1;
    }
    hd = eng_int_field(date, "day", &d);
    hm = eng_int_field(date, "month", &m);
    hy = eng_int_field(date, "year", &y);
    if (hm && (m < 1 || m > 12)) {
        return 0;
    }
    if (hd && (d < 1 || d > 31)) {
        return 0;
    }
    if (!hd || !hm) {
        return 1;
    }
    max = mdays[m - 1];
    if (m == 2 && hy) {
        max = ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : 28;
    }
    return d <= max;
}

/*
 * Run the node's validate rules on its complete value in memory; the first
 * rule whose condition is not exactly true wins.  Returns its index in
 * VALIDATES, or DDT_NONE when every rule holds.
 */
uint32_t
eng_validate(ddt_engine_ctx_t *c, uint32_t main)
{
    const ddt_bitem_t  *it;
    ddt_eval_ctx_t      ec;
    uint32_t            r;

    it = eng_item(c, main);
    if (it->validates.count == 0) {
        return DDT_NONE;
    }
    memset(&ec, 0, sizeof(ec));
    ec.memory = c->memory;
    ec.value = eng_get_value(c, main);
    ec.now_ms = c->now_ms;
    ec.timezone = ddt_bs(c->p, c->p->hdr->timezone);
    ec.arena = c->arena;

    for (r = it->validates.first;
         r < it->validates.first + it->validates.count; r++)
    {
        if (!ddt_expr_true(c->p, c->p->validates[r].cond, &ec)) {
            return r;
        }
    }
    return DDT_NONE;
}

/* ---- prompts ---------------------------------------------------------- */

void
eng_log(ddt_engine_ctx_t *c, const char *fmt, ...)
{
    char     msg[256];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->log != NULL) {
        c->log(c->log_data, msg);
    } else {
        /* nginx sends a worker's stderr to its error log */
        fprintf(stderr, "%s\n", msg);
    }
}

static void
eng_message(ddt_engine_ctx_t *c, uint32_t item, uint32_t tmpl,
    const char *step, uint32_t n)
{
    ddt_buf_t    b;
    ddt_json_t  *m;
    uint32_t     main;

    ddt_buf_init(&b);
    if (ddt_tmpl_render(c->p, tmpl, c->memory, c->locale, &b) != DDT_OK
        || b.oom)
    {
        ddt_buf_free(&b);
        eng_log(c, "ddt: a prompt of \"%s\" could not be rendered",
                eng_id(c, item));
        return;
    }

    main = eng_main_of(c, item);
    m = ddt_json_obj(c->arena);
    if (m != NULL) {
        ddt_json_setl(c->arena, m, "text",
                      ddt_json_str(c->arena, b.data ? b.data : "", b.len));
        ddt_json_setl(c->arena, m, "ddt", ddt_json_strz(c->arena,
                                                        eng_ddt_id(c)));
        ddt_json_setl(c->arena, m, "data", ddt_json_strz(c->arena,
                                                         eng_id(c, main)));
        ddt_json_setl(c->arena, m, "sub", main == item
                      ? ddt_json_null(c->arena)
                      : ddt_json_strz(c->arena, eng_id(c, item)));
        ddt_json_setl(c->arena, m, "step", ddt_json_strz(c->arena, step));
        ddt_json_setl(c->arena, m, "escalation", ddt_json_num(c->arena, n));
        if (c->messages != NULL) {
            ddt_json_push(c->arena, c->messages, m);
        }
    }
    ddt_buf_free(&b);
}

/* Prompt min(n, len) - 1 of a step list. */
static int
eng_pick(ddt_engine_ctx_t *c, uint32_t steplist, uint32_t n, uint32_t *tmpl)
{
    ddt_brange_t  r;
    uint32_t      k;

    if (steplist == DDT_NONE || steplist >= c->p->n_steplists) {
        return 0;
    }
    r = c->p->steplists[steplist];
    if (r.count == 0) {
        return 0;
    }
    k = n < 1 ? 1 : n;
    if (k > r.count) {
        k = r.count;
    }
    *tmpl = c->p->prompts[r.first + k - 1];
    return 1;
}

/*
 * Say the prompt of a step at escalation n, with the fallbacks of SPEC 4.7
 * and 9.1: noMatch/noInput/notConfirmed/invalid -> start; a sub-data:
 * sub.<step> -> sub.start -> parent.<step> -> parent.start.  success and
 * confirmation have no fallback.  The message keeps the original step and n.
 */
void
eng_say(ddt_engine_ctx_t *c, uint32_t item, ddt_step_t step, uint32_t n)
{
    const ddt_bitem_t  *it, *pt;
    uint32_t            chain[4], k, nchain = 0, tmpl, main;
    int                 fallback;

    it = eng_item(c, item);
    main = eng_main_of(c, item);
    pt = eng_item(c, main);
    fallback = step != DDT_STEP_SUCCESS && step != DDT_STEP_CONFIRMATION;

    chain[nchain++] = it->steps[step];
    if (fallback) {
        chain[nchain++] = it->steps[DDT_STEP_START];
    }
    if (main != item) {
        chain[nchain++] = pt->steps[step];
        if (fallback) {
            chain[nchain++] = pt->steps[DDT_STEP_START];
        }
    }

    c->st->last_step = step;
    c->st->last_escalation = n;
    c->st->last_rule = DDT_NONE;

    for (k = 0; k < nchain; k++) {
        if (eng_pick(c, chain[k], n, &tmpl)) {
            eng_message(c, item, tmpl, ddt_step_name(step), n);
            return;
        }
    }
}

/* The reply of a failing validate rule: its text, its step list, or the
 * invalid chain of the item it clears. */
void
eng_say_rule(ddt_engine_ctx_t *c, uint32_t item, uint32_t rule, uint32_t n)
{
    const ddt_bvalidate_t  *v;
    const char             *step;
    uint32_t                tmpl;
    ddt_step_t              st;

    v = &c->p->validates[rule];
    if (v->text != DDT_NONE) {
        eng_message(c, item, v->text, "invalid", n);
        c->st->last_step = DDT_STEP_INVALID;
        c->st->last_escalation = n;
        c->st->last_rule = DDT_NONE;
        return;
    }

    step = ddt_bs(c->p, v->step);
    if (step == NULL || strcmp(step, "invalid") == 0
        || v->steplist == DDT_NONE)
    {
        if (step != NULL && ddt_step_parse(step, strlen(step), &st) == DDT_OK
            && st != DDT_STEP_INVALID && v->steplist == DDT_NONE)
        {
            eng_say(c, item, st, n);
            return;
        }
        eng_say(c, item, DDT_STEP_INVALID, n);
        return;
    }

    if (eng_pick(c, v->steplist, n, &tmpl)) {
        eng_message(c, item, tmpl, step, n);
    }
    c->st->last_step = DDT_STEP_INVALID;
    c->st->last_escalation = n;
    c->st->last_rule = rule;
}
