/*
 * engine.c: the DDT engine's state machine (SPEC 4, 9.1-9.3, 9.8): entering
 * a GetData (reset, re-entry of values already in memory), selection of the
 * active item, the asking turn (extraction, mixed initiative, built-in
 * limits, validate rules, partial fills, confirm decision), the confirming
 * turn (yes, plain no, correction, anything else), counters, escalation and
 * exhaustion, ner/llm effects replayed on resume, `expecting` and the
 * engine's part of the session state.  Extraction is in engine_extract.c,
 * memory/$meta/limits/prompts in engine_value.c.
 */
#include <string.h>

#include "engine_int.h"

static ddt_engine_rc_t eng_advance(ddt_engine_ctx_t *c);

/* ---- counters, filling, exhaustion ------------------------------------ */

/* Count an event for an item: 1 when it is past the limit. */
static int
eng_bump(ddt_engine_ctx_t *c, uint32_t item, ddt_event_t ev)
{
    ddt_item_rt_t  *rt;

    rt = eng_rt(c, item);
    if (rt->count[ev] < UINT16_MAX) {
        rt->count[ev]++;
    }
    return rt->count[ev] > eng_item(c, item)->limits[ev];
}

static void
eng_set_state(ddt_engine_ctx_t *c, uint32_t item, ddt_item_state_t s)
{
    eng_rt(c, item)->state = (uint8_t) s;
}

static void
eng_finish(ddt_engine_ctx_t *c)
{
    c->st->active = DDT_NONE;
    c->st->last_rule = DDT_NONE;
    c->critical = 1;
}

/* The item's event went past its limit: the GetData ends (SPEC 4.6, 9.1). */
static ddt_engine_rc_t
eng_exhaust(ddt_engine_ctx_t *c, uint32_t item)
{
    const ddt_bitem_t  *it;
    uint32_t            main, s;

    main = eng_main_of(c, item);
    it = eng_item(c, main);
    eng_clear_value(c, main);
    eng_set_state(c, main, DDT_ITEM_EXHAUSTED);
    for (s = it->subs.first; s < it->subs.first + it->subs.count; s++) {
        eng_set_state(c, s, s == item ? DDT_ITEM_EXHAUSTED : DDT_ITEM_IDLE);
    }
    eng_clear_meta(c, main);
    eng_set_status(c, "exhausted", main, item != main ? item : DDT_NONE);
    eng_finish(c);
    return DDT_ENGINE_DONE;
}

static void
eng_reset_counters(ddt_engine_ctx_t *c, uint32_t item)
{
    memset(eng_rt(c, item)->count, 0, sizeof(eng_rt(c, item)->count));
}

/* Whole value not kept (not confirmed, invalid): parts and $meta go. */
static void
eng_drop_value(ddt_engine_ctx_t *c, uint32_t main)
{
    const ddt_bitem_t  *it;
    uint32_t            s;

    it = eng_item(c, main);
    eng_clear_value(c, main);
    for (s = it->subs.first; s < it->subs.first + it->subs.count; s++) {
        eng_set_state(c, s, DDT_ITEM_IDLE);
    }
    eng_rt(c, main)->said[DDT_STEP_CONFIRMATION] = 0;
    eng_clear_meta(c, main);
}

static void
eng_drop_part(ddt_engine_ctx_t *c, uint32_t sub)
{
    uint32_t  main;

    main = eng_main_of(c, sub);
    eng_clear_part(c, sub);
    eng_set_state(c, sub, DDT_ITEM_IDLE);
    eng_clear_meta(c, sub);
    eng_rt(c, main)->said[DDT_STEP_CONFIRMATION] = 0;
    if (eng_get_value(c, main) == NULL) {
        eng_clear_meta(c, main);
    }
}

/* The node is filled: counters reset, `success` said (SPEC 4.4, 9.8). */
static void
eng_fill(ddt_engine_ctx_t *c, uint32_t main, int say_success)
{
    const ddt_bitem_t  *it;
    ddt_item_rt_t      *rt;
    uint32_t            s;

    it = eng_item(c, main);
    rt = eng_rt(c, main);
    rt->state = DDT_ITEM_FILLED;
    eng_reset_counters(c, main);
    for (s = it->subs.first; s < it->subs.first + it->subs.count; s++) {
        eng_reset_counters(c, s);
        if (eng_get_part(c, s) != NULL) {
            eng_set_state(c, s, DDT_ITEM_FILLED);
            eng_meta_state(c, s);
        }
    }
    eng_meta_state(c, main);
    c->critical = 1;

    if (say_success && it->steps[DDT_STEP_SUCCESS] != DDT_NONE) {
        rt->said[DDT_STEP_SUCCESS]++;
        eng_say(c, main, DDT_STEP_SUCCESS, rt->said[DDT_STEP_SUCCESS]);
    }
}

static int
eng_needs_confirm(ddt_engine_ctx_t *c, uint32_t main)
{
    const ddt_bitem_t  *it;

    it = eng_item(c, main);
    switch (it->confirm) {
    case DDT_CONFIRM_ALWAYS:
        return 1;
    case DDT_CONFIRM_IFUNCERTAIN:
        return eng_confidence(c, main) < it->confidence_threshold;
    default:
        return 0;
    }
}

/* Say the confirmation list (again): n counts since the value changed. */
static ddt_engine_rc_t
eng_ask_confirm(ddt_engine_ctx_t *c, uint32_t main)
{
    ddt_item_rt_t  *rt;

    rt = eng_rt(c, main);
    rt->state = DDT_ITEM_CONFIRMING;
    eng_meta_state(c, main);
    if (rt->said[DDT_STEP_CONFIRMATION] < UINT16_MAX) {
        rt->said[DDT_STEP_CONFIRMATION]++;
    }
    eng_say(c, main, DDT_STEP_CONFIRMATION, rt->said[DDT_STEP_CONFIRMATION]);
    c->st->active = main;
    return DDT_ENGINE_WAIT;
}

/* noMatch / noInput / ... on an item: its prompt, or exhaustion. */
static ddt_engine_rc_t
eng_reprompt(ddt_engine_ctx_t *c, uint32_t item, ddt_event_t ev,
    ddt_step_t step)
{
    if (eng_bump(c, item, ev)) {
        return eng_exhaust(c, item);
    }
    eng_say(c, item, step, eng_rt(c, item)->count[ev]);
    c->st->active = item;
    return DDT_ENGINE_WAIT;
}

/* ---- selection -------------------------------------------------------- */

/* SPEC 4.1: the first required node, in file order, that is not filled;
 * a node with some parts asks its first missing sub-data. */
static ddt_engine_rc_t
eng_advance(ddt_engine_ctx_t *c)
{
    const ddt_bddt_t  *d;
    ddt_item_rt_t     *rt;
    uint32_t           m, a;

    d = &c->p->ddts[c->st->ddt];
    for (m = d->items.first; m < d->items.first + d->items.count; m++) {
        if (c->p->items[m].required
            && eng_rt(c, m)->state != DDT_ITEM_FILLED)
        {
            break;
        }
    }
    if (m == d->items.first + d->items.count) {
        eng_set_status(c, "ok", DDT_NONE, DDT_NONE);
        eng_finish(c);
        return DDT_ENGINE_DONE;
    }

    rt = eng_rt(c, m);
    if (rt->state == DDT_ITEM_CONFIRMING) {
        /* a value kept for confirmation by mixed initiative or `values` */
        return eng_ask_confirm(c, m);
    }

    a = m;
    if (eng_has_subs(c, m) && eng_get_value(c, m) != NULL) {
        a = eng_first_missing(c, m);
        if (a == DDT_NONE) {
            /* complete but never accepted (re-entry race): take it */
            eng_fill(c, m, 0);
            return eng_advance(c);
        }
    }

    rt->state = DDT_ITEM_ASKING;
    eng_meta_state(c, m);
    eng_set_state(c, a, DDT_ITEM_ASKING);
    rt = eng_rt(c, a);
    if (rt->said[DDT_STEP_START] < UINT16_MAX) {
        rt->said[DDT_STEP_START]++;
    }
    eng_say(c, a, DDT_STEP_START, rt->said[DDT_STEP_START]);
    c->st->active = a;
    return DDT_ENGINE_WAIT;
}

/* ---- applying values -------------------------------------------------- */

/* After a failed check: the failing part goes (or, with part DDT_NONE,
 * the whole value), and the value is asked for again. */
static void
eng_drop_failed(ddt_engine_ctx_t *c, uint32_t main, uint32_t part)
{
    if (part != DDT_NONE) {
        eng_drop_part(c, part);
    } else {
        eng_drop_value(c, main);
    }
    eng_set_state(c, main, DDT_ITEM_ASKING);
    eng_meta_state(c, main);
}


/* A validate rule failed on the complete value (SPEC 4.4, 9.3). */
static ddt_engine_rc_t
eng_rule_failed(ddt_engine_ctx_t *c, uint32_t main, uint32_t rule)
{
    uint32_t  sub, target;

    sub = c->p->validates[rule].sub;
    target = sub != DDT_NONE ? sub : main;
    c->critical = 1;
    if (eng_bump(c, target, DDT_EV_INVALID)) {
        return eng_exhaust(c, target);
    }
    /* said while the candidate is still in memory, so the prompt can
     * name it; then the failing part (or the whole value) goes */
    eng_say_rule(c, target, rule, eng_rt(c, target)->count[DDT_EV_INVALID]);
    eng_drop_failed(c, main, sub);
    eng_set_state(c, target, DDT_ITEM_ASKING);
    c->st->active = target;
    return DDT_ENGINE_WAIT;
}

/* A part (or a plain value) failed its built-in limits: said, dropped. */
static ddt_engine_rc_t
eng_limit_failed(ddt_engine_ctx_t *c, uint32_t item)
{
    uint32_t  main, next;

    main = eng_main_of(c, item);
    c->critical = 1;
    if (eng_bump(c, item, DDT_EV_INVALID)) {
        return eng_exhaust(c, item);
    }
    eng_say(c, item, DDT_STEP_INVALID, eng_rt(c, item)->count[DDT_EV_INVALID]);
    eng_drop_failed(c, main, item != main ? item : DDT_NONE);
    next = item;
    if (item == main && eng_has_subs(c, main)
        && eng_get_value(c, main) != NULL)
    {
        next = eng_first_missing(c, main);
    }
    eng_set_state(c, next, DDT_ITEM_ASKING);
    c->st->active = next;
    return DDT_ENGINE_WAIT;
}

/*
 * Values for the active node (new parts, or a correction that replaces
 * parts): built-in limits per part, calendar, then on a complete value the
 * validate rules and the confirm decision (SPEC 4.4, 9.3).
 *   any: something else was filled this turn (no noMatch when nothing new)
 *   correction: replace parts; a valid result is confirmed again
 */
static ddt_engine_rc_t
eng_apply_active(ddt_engine_ctx_t *c, uint32_t active, eng_val_t *vals,
    uint32_t n, int any, int correction)
{
    const ddt_bitem_t  *it;
    uint32_t            main, k, j, item, bad = DDT_NONE, rule;
    uint32_t            fresh[ENG_MAX_VALS], n_fresh = 0;
    ddt_json_t         *cur;
    ddt_item_rt_t      *rt;
    int                 had_parts;

    main = eng_main_of(c, active);
    it = eng_item(c, main);
    rt = eng_rt(c, main);

    for (k = 0; k < n; k++) {
        item = vals[k].item;
        if (eng_main_of(c, item) != main) {
            continue;
        }
        if (item == main && it->subs.count) {
            continue;                  /* split into parts by extraction */
        }
        for (j = 0; j < n_fresh; j++) {
            if (vals[fresh[j]].item == item) {
                break;
            }
        }
        if (j < n_fresh) {
            continue;
        }
        cur = item == main ? eng_get_value(c, main) : eng_get_part(c, item);
        if (cur != NULL && !correction) {
            continue;                  /* a filled part is never overwritten */
        }
        if (cur != NULL && ddt_json_equal(cur, vals[k].value)) {
            continue;
        }
        fresh[n_fresh++] = k;
    }

    if (n_fresh == 0) {
        if (any) {
            return eng_advance(c);
        }
        return eng_reprompt(c, active, DDT_EV_NOMATCH, DDT_STEP_NOMATCH);
    }

    had_parts = it->subs.count > 0 && eng_get_value(c, main) != NULL;

    /* set every part; the first one outside its limits is the reply
     * (said with the part in memory, then dropped) */
    for (k = 0; k < n_fresh; k++) {
        item = vals[fresh[k]].item;
        if (item == main) {
            eng_set_value(c, main, vals[fresh[k]].value);
        } else {
            eng_set_part(c, item, vals[fresh[k]].value);
            eng_set_state(c, item, DDT_ITEM_FILLED);
        }
        eng_set_meta(c, item, vals[fresh[k]].conf, vals[fresh[k]].layer);
        if (bad == DDT_NONE && !eng_limits_ok(c, item, vals[fresh[k]].value)) {
            bad = item;
        }
    }
    rt->said[DDT_STEP_CONFIRMATION] = 0;

    if (bad == DDT_NONE && it->kind == DDT_KIND_DATE
        && !eng_calendar_ok(eng_get_value(c, main)) && !had_parts)
    {
        /* SPEC 9.3: impossible inside one utterance: no value */
        for (k = 0; k < n_fresh; k++) {
            eng_drop_part(c, vals[fresh[k]].item);
        }
        if (any) {
            return eng_advance(c);
        }
        return eng_reprompt(c, active, DDT_EV_NOMATCH, DDT_STEP_NOMATCH);
    }

    if (bad == DDT_NONE && it->kind == DDT_KIND_DATE
        && !eng_calendar_ok(eng_get_value(c, main)))
    {
        /* SPEC 9.3: invalid on the part just given */
        bad = vals[fresh[0]].item;
        for (k = 0; k < n_fresh; k++) {
            if (vals[fresh[k]].item == active) {
                bad = active;
            }
        }
    }

    if (bad != DDT_NONE) {
        /* parts given with the bad one stay; the bad one is dropped */
        return eng_limit_failed(c, bad);
    }

    if (!eng_complete(c, main)) {
        rt->state = DDT_ITEM_ASKING;
        eng_meta_state(c, main);
        return eng_advance(c);
    }

    rule = eng_validate(c, main);
    if (rule != DDT_NONE) {
        return eng_rule_failed(c, main, rule);
    }

    if (correction || eng_needs_confirm(c, main)) {
        return eng_ask_confirm(c, main);
    }

    eng_fill(c, main, 1);
    return eng_advance(c);
}

/*
 * Mixed-initiative (and non-active `values`) candidates: validated at once,
 * dropped silently when they fail; complete ones needing confirmation are
 * kept with the node in `confirming` (SPEC 9.2).  Returns how many nodes
 * took a value.
 */
static uint32_t
eng_apply_others(ddt_engine_ctx_t *c, eng_found_t *f, uint32_t active_main)
{
    uint32_t      k, j, m, item, took = 0, ok, used_whole;
    ddt_json_t   *saved;
    ddt_item_rt_t *rt;
    uint8_t       done[ENG_MAX_VALS];

    memset(done, 0, sizeof(done));
    for (k = 0; k < f->n_mi; k++) {
        if (done[k]) {
            continue;
        }
        m = eng_main_of(c, f->mi[k].item);
        rt = eng_rt(c, m);
        if (m == active_main || rt->state == DDT_ITEM_FILLED
            || rt->state == DDT_ITEM_CONFIRMING || eng_complete(c, m))
        {
            continue;
        }

        saved = eng_get_value(c, m);
        saved = saved ? ddt_json_clone(c->arena, saved) : NULL;
        ok = 1;
        used_whole = 0;

        for (j = k; j < f->n_mi; j++) {
            if (eng_main_of(c, f->mi[j].item) != m || done[j]) {
                continue;
            }
            done[j] = 1;
            item = f->mi[j].item;
            if (item == m) {
                if (used_whole) {
                    continue;          /* the first value wins */
                }
                used_whole = 1;
                if (!eng_limits_ok(c, m, f->mi[j].value)) {
                    ok = 0;
                }
                eng_set_value(c, m, f->mi[j].value);
                done[j] = 2;
            } else if (eng_get_part(c, item) == NULL) {
                if (!eng_limits_ok(c, item, f->mi[j].value)) {
                    ok = 0;
                }
                eng_set_part(c, item, f->mi[j].value);
                done[j] = 2;
            }
        }
        if (ok && eng_item(c, m)->kind == DDT_KIND_DATE
            && !eng_calendar_ok(eng_get_value(c, m)))
        {
            ok = 0;
        }
        if (ok && eng_complete(c, m) && eng_validate(c, m) != DDT_NONE) {
            ok = 0;
        }
        if (!ok) {
            if (saved != NULL) {
                eng_set_value(c, m, saved);
            } else {
                eng_clear_value(c, m);
            }
            continue;
        }

        /* accepted: states and $meta */
        for (j = k; j < f->n_mi; j++) {
            if (eng_main_of(c, f->mi[j].item) != m || done[j] != 2) {
                continue;
            }
            if (f->mi[j].item != m) {
                eng_set_state(c, f->mi[j].item, DDT_ITEM_FILLED);
            }
            eng_set_meta(c, f->mi[j].item, f->mi[j].conf, f->mi[j].layer);
        }
        took++;
        if (!eng_complete(c, m)) {
            continue;
        }
        if (eng_item(c, m)->required && eng_needs_confirm(c, m)) {
            /* optional nodes are never confirmed (SPEC 9.2) */
            rt->state = DDT_ITEM_CONFIRMING;
            rt->said[DDT_STEP_CONFIRMATION] = 0;
            eng_meta_state(c, m);
        } else {
            eng_fill(c, m, 0);
        }
    }
    return took;
}

/* ---- the asking turn -------------------------------------------------- */

static ddt_engine_rc_t
eng_turn_asking(ddt_engine_ctx_t *c, const ddt_input_t *in)
{
    eng_found_t  *f;
    uint32_t      active, main, took;
    int           rc;

    active = c->st->active;
    main = eng_main_of(c, active);

    switch (in->kind) {
    case DDT_IN_EVENT_NOINPUT:
        return eng_reprompt(c, active, DDT_EV_NOINPUT, DDT_STEP_NOINPUT);
    case DDT_IN_EVENT_NOMATCH:
        return eng_reprompt(c, active, DDT_EV_NOMATCH, DDT_STEP_NOMATCH);
    default:
        break;
    }

    /* 4 KiB: not zeroed, entries are written before they are counted */
    f = ddt_arena_alloc_nz(c->arena, sizeof(*f));
    if (f == NULL) {
        return DDT_ENGINE_ERROR;
    }
    f->n_act = 0;
    f->n_mi = 0;
    if (in->kind == DDT_IN_VALUES) {
        eng_extract_values(c, active, in->values, f);
    } else {
        rc = eng_extract_text(c, active, in->text ? in->text : "",
                              in->text_len, in->kind == DDT_IN_DTMF, f);
        if (rc == 2) {
            return DDT_ENGINE_EFFECT;
        }
    }

    took = eng_apply_others(c, f, main);
    if (f->n_act > 0) {
        return eng_apply_active(c, active, f->act, f->n_act, took > 0, 0);
    }
    if (took > 0) {
        /* SPEC 9.1: not a noMatch; the active item is asked again */
        return eng_advance(c);
    }
    return eng_reprompt(c, active, DDT_EV_NOMATCH, DDT_STEP_NOMATCH);
}

/* ---- the confirming turn ---------------------------------------------- */

static ddt_engine_rc_t
eng_confirmed(ddt_engine_ctx_t *c, uint32_t main)
{
    eng_fill(c, main, 1);
    return eng_advance(c);
}

static ddt_engine_rc_t
eng_not_confirmed(ddt_engine_ctx_t *c, uint32_t main)
{
    if (eng_bump(c, main, DDT_EV_NOTCONFIRMED)) {
        return eng_exhaust(c, main);
    }
    eng_say(c, main, DDT_STEP_NOTCONFIRMED,
            eng_rt(c, main)->count[DDT_EV_NOTCONFIRMED]);
    eng_drop_value(c, main);
    eng_set_state(c, main, DDT_ITEM_ASKING);
    eng_meta_state(c, main);
    c->st->active = main;
    return DDT_ENGINE_WAIT;
}

static ddt_engine_rc_t
eng_noevent_confirm(ddt_engine_ctx_t *c, uint32_t main, ddt_event_t ev)
{
    if (eng_bump(c, main, ev)) {
        return eng_exhaust(c, main);
    }
    return eng_ask_confirm(c, main);
}

/* Values that all equal the candidate are a yes (SPEC 9.3, 9.8). */
static int
eng_all_equal(ddt_engine_ctx_t *c, uint32_t main, eng_val_t *v, uint32_t n)
{
    uint32_t     k;
    ddt_json_t  *cur;

    for (k = 0; k < n; k++) {
        if (eng_main_of(c, v[k].item) != main) {
            continue;
        }
        cur = v[k].item == main ? eng_get_value(c, main)
                                : eng_get_part(c, v[k].item);
        if (cur == NULL || !ddt_json_equal(cur, v[k].value)) {
            return 0;
        }
    }
    return 1;
}

static ddt_engine_rc_t
eng_correction(ddt_engine_ctx_t *c, uint32_t main, eng_val_t *v, uint32_t n)
{
    if (eng_all_equal(c, main, v, n)) {
        return eng_confirmed(c, main);
    }
    if (eng_bump(c, main, DDT_EV_NOTCONFIRMED)) {
        return eng_exhaust(c, main);
    }
    return eng_apply_active(c, main, v, n, 0, 1);
}

static int
eng_trim_char(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == ','
        || ch == '.' || ch == '!' || ch == '?' || ch == ';' || ch == ':';
}

/* The utterance without [ws, we), trimmed of spaces and punctuation. */
static char *
eng_rest(ddt_engine_ctx_t *c, const char *t, size_t len, size_t ws,
    size_t we, size_t *rlen)
{
    char    *r;
    size_t   a, b, n;

    r = ddt_arena_alloc(c->arena, len + 2);
    if (r == NULL) {
        *rlen = 0;
        return NULL;
    }
    memcpy(r, t, ws);
    r[ws] = ' ';
    memcpy(r + ws + 1, t + we, len - we);
    n = ws + 1 + (len - we);
    r[n] = '\0';
    a = 0;
    b = n;
    while (a < b && eng_trim_char((unsigned char) r[a])) {
        a++;
    }
    while (b > a && eng_trim_char((unsigned char) r[b - 1])) {
        b--;
    }
    r[b] = '\0';
    *rlen = b - a;
    return r + a;
}

static ddt_engine_rc_t
eng_turn_confirming(ddt_engine_ctx_t *c, const ddt_input_t *in)
{
    const ddt_bitem_t  *it;
    eng_found_t        *f;
    uint32_t            main;
    const char         *text, *src;
    size_t              len, ws = 0, we = 0, slen;
    ddt_json_t         *v;
    ddt_match_t         m;
    int                 yn, rc, mk;

    main = c->st->active;
    it = eng_item(c, main);

    switch (in->kind) {
    case DDT_IN_EVENT_NOINPUT:
        return eng_noevent_confirm(c, main, DDT_EV_NOINPUT);
    case DDT_IN_EVENT_NOMATCH:
        return eng_noevent_confirm(c, main, DDT_EV_NOMATCH);
    default:
        break;
    }

    /* 4 KiB: not zeroed, entries are written before they are counted */
    f = ddt_arena_alloc_nz(c->arena, sizeof(*f));
    if (f == NULL) {
        return DDT_ENGINE_ERROR;
    }
    f->n_act = 0;
    f->n_mi = 0;

    if (in->kind == DDT_IN_VALUES) {
        eng_extract_values(c, main, in->values, f);
        if (f->n_act == 0) {
            /* only other nodes: not a noMatch if one took its value */
            if (eng_apply_others(c, f, main) > 0) {
                return eng_ask_confirm(c, main);
            }
            return eng_noevent_confirm(c, main, DDT_EV_NOMATCH);
        }
        eng_apply_others(c, f, main);
        return eng_correction(c, main, f->act, f->n_act);
    }

    text = in->text ? in->text : "";
    len = in->text_len;

    if (in->kind == DDT_IN_DTMF) {
        if (len == 1 && text[0] == '1') {
            return eng_confirmed(c, main);
        }
        if (len == 1 && text[0] == '2') {
            return eng_not_confirmed(c, main);
        }
        if (eng_dtmf_value(c, main, text, len, &v)) {
            if (v == NULL) {
                return eng_noevent_confirm(c, main, DDT_EV_NOMATCH);
            }
            eng_add_val(c, main, v, 1.0, DDT_LAYER_PARSER, f->act,
                        &f->n_act);
            if (f->n_act == 0) {
                return eng_noevent_confirm(c, main, DDT_EV_NOMATCH);
            }
            return eng_correction(c, main, f->act, f->n_act);
        }
    }

    yn = ddt_parse_yesno_word(c->locale, text, len, &ws, &we);
    src = text;
    slen = len;
    if (yn >= 0 && ws <= we && we <= len) {
        src = eng_rest(c, text, len, ws, we, &slen);
        if (src == NULL) {
            return DDT_ENGINE_ERROR;
        }
        if (slen == 0) {
            return yn == 1 ? eng_confirmed(c, main)
                           : eng_not_confirmed(c, main);
        }
    } else {
        yn = -1;
    }

    if ((it->kind == DDT_KIND_TEXT || it->kind == DDT_KIND_NONE)
        && it->subs.count == 0)
    {
        /* SPEC 9.8: a text node takes any other reply as a correction */
        if (yn == 1) {
            return eng_confirmed(c, main);
        }
        /* the node's layers first ("no, sono Mario Bianchi" through a
         * regex), else the whole reply */
        rc = eng_run_layers(c, main, src, slen, 1, 0, f->act, &f->n_act,
                            &ws, &we, &mk);
        if (rc == 2) {
            return DDT_ENGINE_EFFECT;
        }
        if (rc == 1 && f->n_act > 0) {
            return eng_correction(c, main, f->act, f->n_act);
        }
        if (!eng_parse_item(c, main, src, slen, &m)) {
            return eng_noevent_confirm(c, main, DDT_EV_NOMATCH);
        }
        f->act[0].item = main;
        f->act[0].value = m.value;
        f->act[0].conf = 1.0;
        f->act[0].layer = DDT_LAYER_PARSER;
        return eng_correction(c, main, f->act, 1);
    }

    rc = eng_find_correction(c, main, src, slen, f->act, &f->n_act);
    if (rc == 2) {
        return DDT_ENGINE_EFFECT;
    }
    if (rc == 1 && f->n_act > 0) {
        return eng_correction(c, main, f->act, f->n_act);
    }
    if (yn == 1) {
        return eng_confirmed(c, main);
    }
    if (yn == 0) {
        return eng_not_confirmed(c, main);
    }
    return eng_noevent_confirm(c, main, DDT_EV_NOMATCH);
}

/* ---- entry points ----------------------------------------------------- */

static void
eng_clear_pending(ddt_engine_ctx_t *c)
{
    c->st->pending_layer = DDT_NONE;
    c->st->pending_item = DDT_NONE;
    c->st->pending_kind = 0;
    c->st->pending_text = NULL;
    c->st->pending_len = 0;
    c->st->pending_values = NULL;
    c->st->effects = NULL;
}

ddt_engine_rc_t
ddt_engine_enter(ddt_engine_ctx_t *c, uint32_t ddt)
{
    const ddt_bddt_t   *d;
    const ddt_bitem_t  *it;
    uint32_t            n, m, s;

    if (ddt >= c->p->n_ddts) {
        ddt_err_set(&c->err, 500, "bad_state", "no such DDT");
        return DDT_ENGINE_ERROR;
    }
    d = &c->p->ddts[ddt];
    n = d->all_items.count;

    if (c->st->items == NULL || c->st->n_items < n) {
        c->st->items = ddt_arena_alloc(c->arena,
                                       (n ? n : 1) * sizeof(ddt_item_rt_t));
        if (c->st->items == NULL) {
            ddt_err_set(&c->err, 500, "internal", "out of memory");
            return DDT_ENGINE_ERROR;
        }
    }
    memset(c->st->items, 0, (n ? n : 1) * sizeof(ddt_item_rt_t));
    c->st->n_items = n;
    c->st->ddt = ddt;
    c->st->active = DDT_NONE;
    c->st->last_step = DDT_STEP_START;
    c->st->last_escalation = 0;
    c->st->last_rule = DDT_NONE;
    eng_clear_pending(c);

    eng_set_status(c, NULL, DDT_NONE, DDT_NONE);

    /* SPEC 9.2: values already in memory count as filled (FIA) */
    for (m = d->items.first; m < d->items.first + d->items.count; m++) {
        it = eng_item(c, m);
        if (eng_get_value(c, m) == NULL) {
            eng_meta_forget(c, m);
            continue;
        }
        for (s = it->subs.first; s < it->subs.first + it->subs.count; s++) {
            if (eng_get_part(c, s) != NULL) {
                eng_set_state(c, s, DDT_ITEM_FILLED);
            }
        }
        if (eng_complete(c, m)) {
            eng_set_state(c, m, DDT_ITEM_FILLED);
        }
        eng_meta_state(c, m);
    }

    return eng_advance(c);
}

static ddt_engine_rc_t
eng_dispatch(ddt_engine_ctx_t *c, const ddt_input_t *in)
{
    uint32_t  main;

    if (c->st->active == DDT_NONE) {
        return eng_advance(c);
    }
    main = eng_main_of(c, c->st->active);
    if (eng_rt(c, main)->state == DDT_ITEM_CONFIRMING) {
        c->st->active = main;
        return eng_turn_confirming(c, in);
    }
    return eng_turn_asking(c, in);
}

ddt_engine_rc_t
ddt_engine_input(ddt_engine_ctx_t *c, const ddt_input_t *in)
{
    ddt_engine_rc_t  rc;

    if (c->st->ddt == DDT_NONE || c->st->ddt >= c->p->n_ddts
        || c->st->items == NULL)
    {
        ddt_err_set(&c->err, 409, "conflict", "no GetData is waiting");
        return DDT_ENGINE_ERROR;
    }
    if (in->kind == DDT_IN_VALUES
        && ddt_engine_check_values(c, in->values, &c->err) != DDT_OK)
    {
        return DDT_ENGINE_ERROR;
    }

    eng_clear_pending(c);
    c->st->pending_kind = in->kind;
    if (in->text != NULL) {
        c->st->pending_text = ddt_arena_strndup(c->arena, in->text,
                                                in->text_len);
        c->st->pending_len = in->text_len;
    }
    c->st->pending_values = (ddt_json_t *) in->values;
    if (in->values != NULL) {
        c->st->pending_values = ddt_json_clone(c->arena, in->values);
    }

    rc = eng_dispatch(c, in);
    if (rc != DDT_ENGINE_EFFECT) {
        eng_clear_pending(c);
    }
    return rc;
}

ddt_engine_rc_t
ddt_engine_resume(ddt_engine_ctx_t *c, const ddt_effect_result_t *er)
{
    struct ddt_engine_effect_s  *e;
    ddt_input_t                  in;
    ddt_jerr_t                   jerr;
    ddt_engine_rc_t              rc;

    if (c->st->ddt == DDT_NONE || c->st->pending_layer == DDT_NONE
        || c->st->items == NULL)
    {
        ddt_err_set(&c->err, 409, "conflict", "no ner/llm effect is out");
        return DDT_ENGINE_ERROR;
    }

    e = ddt_arena_alloc(c->arena, sizeof(*e));
    if (e == NULL) {
        return DDT_ENGINE_ERROR;
    }
    e->item = c->st->pending_item;
    e->layer = c->st->pending_layer;
    e->result = NULL;
    if (er != NULL && er->error == NULL && er->status >= 200
        && er->status <= 299 && er->body != NULL)
    {
        e->result = ddt_json_parse(c->arena, er->body, er->body_len, NULL,
                                   &jerr);
        if (e->result != NULL && e->result->type != DDT_J_OBJ) {
            e->result = NULL;
        }
    }
    if (e->result == NULL) {
        eng_log(c, "ddt: %s layer of \"%s\" failed: %s",
                ddt_layer_name(c->p->layers[e->layer].type),
                eng_id(c, e->item),
                er && er->error ? er->error : "bad response");
    }
    e->next = c->st->effects;
    c->st->effects = e;
    c->st->pending_layer = DDT_NONE;
    c->st->pending_item = DDT_NONE;

    /* replay the input: layers before this one yield the same nothing */
    memset(&in, 0, sizeof(in));
    in.kind = (ddt_input_kind_t) c->st->pending_kind;
    in.text = c->st->pending_text;
    in.text_len = c->st->pending_len;
    in.values = c->st->pending_values;

    rc = eng_dispatch(c, &in);
    if (rc != DDT_ENGINE_EFFECT) {
        eng_clear_pending(c);
    }
    return rc;
}

ddt_json_t *
ddt_engine_expecting(ddt_engine_ctx_t *c)
{
    const ddt_bitem_t  *it;
    ddt_json_t         *o;
    uint32_t            a, main;
    const char         *step;
    int                 confirming;

    if (c->st->ddt == DDT_NONE || c->st->active == DDT_NONE
        || c->st->items == NULL)
    {
        return ddt_json_null(c->arena);
    }
    a = c->st->active;
    main = eng_main_of(c, a);
    it = eng_item(c, a);
    confirming = eng_rt(c, main)->state == DDT_ITEM_CONFIRMING;

    step = ddt_step_name((ddt_step_t) c->st->last_step);
    if (c->st->last_rule != DDT_NONE && c->st->last_rule < c->p->n_validates
        && ddt_bs(c->p, c->p->validates[c->st->last_rule].step) != NULL)
    {
        step = ddt_bs(c->p, c->p->validates[c->st->last_rule].step);
    }

    o = ddt_json_obj(c->arena);
    if (o == NULL) {
        return NULL;
    }
    ddt_json_setl(c->arena, o, "ddt", ddt_json_strz(c->arena, eng_ddt_id(c)));
    ddt_json_setl(c->arena, o, "data", ddt_json_strz(c->arena,
                                                     eng_id(c, main)));
    ddt_json_setl(c->arena, o, "sub", a == main ? ddt_json_null(c->arena)
                  : ddt_json_strz(c->arena, eng_id(c, a)));
    ddt_json_setl(c->arena, o, "step", ddt_json_strz(c->arena,
                                                     step ? step : "start"));
    ddt_json_setl(c->arena, o, "kind", ddt_json_strz(c->arena,
                  confirming ? "yesno" : ddt_kind_name((ddt_kind_t) it->kind)));
    ddt_json_setl(c->arena, o, "escalation",
                  ddt_json_num(c->arena, c->st->last_escalation));
    return o;
}

/* ---- state codec ------------------------------------------------------ */

/*
 * {"ddt": i|null, "active": i|null, "step": n, "escalation": n,
 *  "rule": i|null, "items": [[state, 4 counters, 7 said], ...]}
 * Indices are into the pinned project load, which never changes under a
 * session.
 */
static ddt_json_t *
eng_idx(ddt_arena_t *a, uint32_t v)
{
    return v == DDT_NONE ? ddt_json_null(a) : ddt_json_num(a, v);
}

int
ddt_engine_state_to_json(ddt_arena_t *a, const ddt_engine_state_t *st,
    ddt_json_t **out)
{
    ddt_json_t  *o, *items, *row;
    uint32_t     i, k;

    o = ddt_json_obj(a);
    items = ddt_json_arr(a);
    if (o == NULL || items == NULL) {
        return DDT_ERROR;
    }
    ddt_json_setl(a, o, "ddt", eng_idx(a, st->ddt));
    ddt_json_setl(a, o, "active", eng_idx(a, st->active));
    ddt_json_setl(a, o, "step", ddt_json_num(a, st->last_step));
    ddt_json_setl(a, o, "escalation", ddt_json_num(a, st->last_escalation));
    ddt_json_setl(a, o, "rule", eng_idx(a, st->last_rule));
    for (i = 0; st->items != NULL && i < st->n_items; i++) {
        row = ddt_json_arr(a);
        if (row == NULL) {
            return DDT_ERROR;
        }
        ddt_json_push(a, row, ddt_json_num(a, st->items[i].state));
        for (k = 0; k < DDT_EV_COUNT; k++) {
            ddt_json_push(a, row, ddt_json_num(a, st->items[i].count[k]));
        }
        for (k = 0; k < DDT_STEP_COUNT; k++) {
            ddt_json_push(a, row, ddt_json_num(a, st->items[i].said[k]));
        }
        if (ddt_json_push(a, items, row) != DDT_OK) {
            return DDT_ERROR;
        }
    }
    ddt_json_setl(a, o, "items", items);
    *out = o;
    return DDT_OK;
}

static int
eng_read_idx(const ddt_json_t *o, const char *key, uint32_t lim,
    uint32_t *out)
{
    const ddt_json_t  *v;

    v = ddt_json_getz(o, key);
    if (v == NULL || v->type == DDT_J_NULL) {
        *out = DDT_NONE;
        return DDT_OK;
    }
    if (v->type != DDT_J_NUM || !ddt_json_is_int(v) || v->u.n < 0
        || v->u.n >= lim)
    {
        return DDT_ERROR;
    }
    *out = (uint32_t) v->u.n;
    return DDT_OK;
}

static int
eng_read_u(const ddt_json_t *v, uint32_t max, uint32_t *out)
{
    if (v == NULL || v->type != DDT_J_NUM || !ddt_json_is_int(v)
        || v->u.n < 0 || v->u.n > max)
    {
        return DDT_ERROR;
    }
    *out = (uint32_t) v->u.n;
    return DDT_OK;
}

/* An optional count: *out is left as it is when key is absent. */
static int
eng_read_opt_u(const ddt_json_t *o, const char *key, uint32_t max,
    uint32_t *out)
{
    const ddt_json_t  *v;

    v = ddt_json_getz(o, key);
    return v == NULL ? DDT_OK : eng_read_u(v, max, out);
}

int
ddt_engine_state_from_json(ddt_arena_t *a, const ddt_project_t *p,
    const ddt_json_t *j, ddt_engine_state_t *st, ddt_err_t *err)
{
    const ddt_json_t  *items, *row;
    const ddt_bddt_t  *d;
    uint32_t           i, k, v, ddt, active, rule, step = 0, esc = 0;

    memset(st, 0, sizeof(*st));
    st->ddt = st->active = st->pending_layer = st->pending_item = DDT_NONE;
    st->last_rule = DDT_NONE;

    if (j == NULL || j->type != DDT_J_OBJ
        || eng_read_idx(j, "ddt", p->n_ddts, &ddt) != DDT_OK
        || eng_read_idx(j, "active", p->n_items, &active) != DDT_OK
        || eng_read_idx(j, "rule", p->n_validates, &rule) != DDT_OK
        || eng_read_opt_u(j, "step", DDT_STEP_COUNT - 1, &step) != DDT_OK
        || eng_read_opt_u(j, "escalation", UINT16_MAX, &esc) != DDT_OK)
    {
        goto bad;
    }
    st->last_step = step;
    st->last_escalation = esc;
    st->last_rule = rule;
    if (ddt == DDT_NONE) {
        return DDT_OK;
    }

    d = &p->ddts[ddt];
    if (active != DDT_NONE
        && (active < d->all_items.first
            || active >= d->all_items.first + d->all_items.count))
    {
        goto bad;
    }
    items = ddt_json_getz(j, "items");
    if (items == NULL || items->type != DDT_J_ARR
        || items->u.arr.len != d->all_items.count)
    {
        goto bad;
    }
    st->items = ddt_arena_alloc(a, (d->all_items.count ? d->all_items.count
                                                       : 1)
                                   * sizeof(ddt_item_rt_t));
    if (st->items == NULL) {
        goto bad;
    }
    for (i = 0; i < items->u.arr.len; i++) {
        row = items->u.arr.items[i];
        if (row->type != DDT_J_ARR
            || row->u.arr.len != 1 + DDT_EV_COUNT + DDT_STEP_COUNT)
        {
            goto bad;
        }
        if (eng_read_u(row->u.arr.items[0], DDT_ITEM_EXHAUSTED, &v)) {
            goto bad;
        }
        st->items[i].state = (uint8_t) v;
        for (k = 0; k < DDT_EV_COUNT; k++) {
            if (eng_read_u(row->u.arr.items[1 + k], UINT16_MAX, &v)) {
                goto bad;
            }
            st->items[i].count[k] = (uint16_t) v;
        }
        for (k = 0; k < DDT_STEP_COUNT; k++) {
            if (eng_read_u(row->u.arr.items[1 + DDT_EV_COUNT + k],
                           UINT16_MAX, &v))
            {
                goto bad;
            }
            st->items[i].said[k] = (uint16_t) v;
        }
    }
    st->n_items = d->all_items.count;
    st->ddt = ddt;
    st->active = active;
    return DDT_OK;

bad:
    memset(st, 0, sizeof(*st));
    st->ddt = st->active = st->pending_layer = st->pending_item = DDT_NONE;
    st->last_rule = DDT_NONE;
    ddt_err_set(err, 500, "bad_state", "the DDT engine state is not valid "
                "for this project");
    return DDT_ERROR;
}
