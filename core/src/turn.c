/*
 * turn.c: the flow orchestrator (SPEC 2, 6, 7, 9.4, 9.5, 9.7).  Runs the
 * tasks of the flow from the session's program counter until the dialogue
 * waits for input, ends, transfers, fails, or needs the host to perform an
 * effect (a BackendCall, or an ner/llm layer of the engine); takes edges;
 * keeps the loop guard; builds the turn response.  The DDT engine
 * (engine.c) runs GetData; this file never looks inside a DDT's items except
 * to check `values` keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ddt/ddt.h>
#include "session.h"

static const char *
ddt_session_tz(const ddt_project_t *p, const ddt_session_t *s)
{
    const char  *tz;

    tz = ddt_bs(p, p->hdr->timezone);
    if (tz != NULL && tz[0] != '\0') {
        return tz;
    }
    return s->locale == DDT_LOCALE_EN ? "America/New_York" : "Europe/Rome";
}

/*
 * Hot-path builders for the response and flow messages: an object with
 * room for n members whose keys are string literals (not copied, no
 * duplicate check), and string values that point at storage which lives as
 * long as the session (literals, the session arena).
 */
static ddt_json_t *
ddt_fixed_obj(ddt_arena_t *a, size_t n)
{
    ddt_json_t  *o;

    o = ddt_json_obj(a);
    if (o == NULL) {
        return NULL;
    }
    o->u.obj.m = ddt_arena_alloc(a, n * sizeof(ddt_jmember_t));
    if (o->u.obj.m == NULL) {
        return NULL;
    }
    o->u.obj.cap = n;
    return o;
}

#define ddt_put(o, k, v)  ddt_put_member(o, k, sizeof(k) - 1, v)

static int
ddt_put_member(ddt_json_t *o, const char *key, size_t klen, ddt_json_t *v)
{
    ddt_jmember_t  *m;

    if (o == NULL || v == NULL || o->u.obj.len == o->u.obj.cap) {
        return DDT_ERROR;
    }
    m = &o->u.obj.m[o->u.obj.len++];
    m->key = key;
    m->klen = klen;
    m->val = v;
    return DDT_OK;
}

static ddt_json_t *
ddt_str_ref(ddt_arena_t *a, const char *str, size_t len)
{
    ddt_json_t  *v;

    v = ddt_json_null(a);
    if (v != NULL) {
        v->type = DDT_J_STR;
        v->u.str.s = str;
        v->u.str.len = len;
    }
    return v;
}

void
ddt_turn_result_init(ddt_turn_result_t *r)
{
    memset(r, 0, sizeof(*r));
    ddt_buf_init(&r->response);
}

void
ddt_turn_result_free(ddt_turn_result_t *r)
{
    ddt_buf_free(&r->response);
}

static void
ddt_engine_ctx(const ddt_project_t *p, ddt_session_t *s, ddt_engine_ctx_t *c)
{
    memset(c, 0, sizeof(*c));
    c->p = p;
    c->arena = &s->arena;
    c->memory = s->memory;
    c->locale = s->locale;
    c->now_ms = s->t.now_ms;
    c->st = &s->eng;
    c->messages = s->t.messages;
    c->effect_body = s->effect_body;
}

static void
ddt_engine_ctx_done(ddt_session_t *s, ddt_engine_ctx_t *c)
{
    s->effect_body = c->effect_body;
    if (c->critical) {
        s->t.critical = 1;
    }
}

/* A rendered template as an arena string (JSON string value). */
ddt_json_t *
ddt_render(const ddt_project_t *p, ddt_session_t *s, uint32_t tmpl)
{
    ddt_buf_reset(&s->scratch);
    if (tmpl != DDT_NONE) {
        ddt_tmpl_render(p, tmpl, s->memory, s->locale, &s->scratch);
    }
    if (s->scratch.oom) {
        return NULL;
    }
    return ddt_json_str(&s->arena, s->scratch.data ? s->scratch.data : "",
                        s->scratch.len);
}

/* Free JSON of the block (body, params, headers) with its templates
 * rendered against memory. */
ddt_json_t *
ddt_render_json(const ddt_project_t *p, ddt_session_t *s, ddt_bstr_t src)
{
    ddt_json_t  *j;
    ddt_jerr_t   jerr;

    if (src.off == DDT_NONE || src.len == 0) {
        return NULL;
    }
    /* the compiler checked this text: the yajl-free parser suffices */
    j = ddt_json_parse_fast(&s->arena, ddt_bs(p, src), src.len, NULL,
                            &jerr);
    if (j == NULL) {
        return NULL;
    }
    return ddt_tmpl_render_json(&s->arena, j, s->memory, s->locale);
}

static int
ddt_say(const ddt_project_t *p, ddt_session_t *s, uint32_t tmpl)
{
    ddt_json_t   *m, *text;
    const char   *node;

    text = ddt_render(p, s, tmpl);
    m = ddt_fixed_obj(&s->arena, 2);
    if (text == NULL || m == NULL) {
        return DDT_ERROR;
    }
    /* a copy of the node id: the response may outlive the project view */
    node = ddt_bs(p, p->nodes[s->node].id);
    if (ddt_put(m, "text", text) != DDT_OK
        || ddt_put(m, "node", ddt_json_strz(&s->arena, node ? node : ""))
           != DDT_OK)
    {
        return DDT_ERROR;
    }
    return ddt_json_push(&s->arena, s->t.messages, m);
}

static ddt_json_t *
ddt_action(ddt_session_t *s, const char *type)
{
    ddt_json_t  *a;

    a = ddt_json_obj(&s->arena);
    if (a == NULL) {
        return NULL;
    }
    ddt_json_setl(&s->arena, a, "type", ddt_json_strz(&s->arena, type));
    if (ddt_json_push(&s->arena, s->t.actions, a) != DDT_OK) {
        return NULL;
    }
    return a;
}

/* Close the session on a dialogue failure (SPEC 9.4): 200, status error. */
ddt_run_t
ddt_fail(ddt_session_t *s, const char *code, const char *fmt, const char *arg)
{
    ddt_json_t  *e;
    char         msg[256];

    snprintf(msg, sizeof(msg), fmt, arg ? arg : "");
    e = ddt_json_obj(&s->arena);
    if (e != NULL) {
        ddt_json_setl(&s->arena, e, "code", ddt_json_strz(&s->arena, code));
        ddt_json_setl(&s->arena, e, "message", ddt_json_strz(&s->arena, msg));
    }
    s->error = e;
    s->status = DDT_STATUS_ERROR;
    s->wait = DDT_WAIT_NONE;
    s->t.critical = 1;
    return DDT_RUN_STOP;
}

static ddt_run_t
ddt_engine_rc(const ddt_project_t *p, ddt_session_t *s, ddt_engine_ctx_t *c,
    ddt_engine_rc_t rc, ddt_turn_result_t *res)
{
    ddt_engine_ctx_done(s, c);

    switch (rc) {

    case DDT_ENGINE_WAIT:
        s->wait = DDT_WAIT_INPUT;
        s->status = DDT_STATUS_WAITING;
        s->expecting = ddt_engine_expecting(c);
        if (s->expecting == NULL) {
            s->expecting = ddt_json_null(&s->arena);
        }
        return DDT_RUN_STOP;

    case DDT_ENGINE_DONE:
        s->wait = DDT_WAIT_NONE;
        s->task++;
        s->t.critical = 1;                 /* a GetData ended */
        return DDT_RUN_GO;

    case DDT_ENGINE_EFFECT:
        s->wait = DDT_WAIT_ENGINE;
        res->need_effect = 1;
        res->effect = c->effect;
        return DDT_RUN_EFFECT;

    case DDT_ENGINE_ERROR:
        return DDT_RUN_REJECT;
    }

    return ddt_fail(s, "engine_failed", "the DDT engine answered %s",
                    "an unknown code");
}

static ddt_run_t
ddt_task_setvar(const ddt_project_t *p, ddt_session_t *s,
    const ddt_btask_t *t)
{
    const ddt_json_t  *r;
    ddt_json_t        *v;
    ddt_jerr_t         jerr;
    ddt_eval_ctx_t     ctx;

    v = NULL;
    if (t->expr != DDT_NONE) {
        ctx.memory = s->memory;
        ctx.value = NULL;
        ctx.now_ms = s->t.now_ms;
        ctx.timezone = ddt_session_tz(p, s);
        ctx.arena = &s->arena;
        r = ddt_expr_eval(p, t->expr, &ctx);
        /* a copy: the result may be a part of memory itself */
        v = r ? ddt_json_clone(&s->arena, r) : ddt_json_null(&s->arena);

    } else if (t->json.off != DDT_NONE) {
        /* checked by the compiler: the yajl-free parser suffices */
        v = ddt_json_parse_fast(&s->arena, ddt_bs(p, t->json), t->json.len,
                                NULL, &jerr);
    }

    if (v == NULL) {
        v = ddt_json_null(&s->arena);
    }

    if (v == NULL || ddt_mem_set(&s->arena, p, s->memory, t->path, v)
                     != DDT_OK)
    {
        return ddt_fail(s, "internal", "SetVariable: out of memory%s", NULL);
    }

    s->task++;
    return DDT_RUN_GO;
}

static ddt_run_t
ddt_task_action(const ddt_project_t *p, ddt_session_t *s,
    const ddt_btask_t *t)
{
    ddt_json_t  *a, *params;
    const char  *name;

    switch (t->type) {

    case DDT_TASK_EMAIL:
        a = ddt_action(s, "sendEmail");
        if (a == NULL) {
            break;
        }
        ddt_json_setl(&s->arena, a, "to", ddt_render(p, s, t->a));
        ddt_json_setl(&s->arena, a, "subject", ddt_render(p, s, t->b));
        ddt_json_setl(&s->arena, a, "body", ddt_render(p, s, t->text));
        break;

    case DDT_TASK_SMS:
        a = ddt_action(s, "sendSMS");
        if (a == NULL) {
            break;
        }
        ddt_json_setl(&s->arena, a, "to", ddt_render(p, s, t->a));
        ddt_json_setl(&s->arena, a, "text", ddt_render(p, s, t->text));
        break;

    default: /* Custom */
        a = ddt_action(s, "custom");
        if (a == NULL) {
            break;
        }
        name = ddt_bs(p, t->name);
        ddt_json_setl(&s->arena, a, "name",
                      ddt_json_strz(&s->arena, name ? name : ""));
        params = ddt_render_json(p, s, t->json);
        ddt_json_setl(&s->arena, a, "params",
                      params ? params : ddt_json_obj(&s->arena));
        break;
    }

    if (a == NULL) {
        return ddt_fail(s, "internal", "out of memory%s", NULL);
    }

    s->t.critical = 1;
    s->task++;
    return DDT_RUN_GO;
}

/* After the last task of a node: the first true edge, in file order. */
static ddt_run_t
ddt_take_edge(const ddt_project_t *p, ddt_session_t *s)
{
    uint32_t            i;
    const ddt_bnode_t  *n;
    const ddt_bedge_t  *e;
    ddt_eval_ctx_t      ctx;

    n = &p->nodes[s->node];

    ctx.memory = s->memory;
    ctx.value = NULL;
    ctx.now_ms = s->t.now_ms;
    ctx.timezone = ddt_session_tz(p, s);
    ctx.arena = &s->arena;

    for (i = 0; i < n->edges.count; i++) {
        e = &p->edges[n->edges.first + i];
        if (e->cond == DDT_NONE || ddt_expr_true(p, e->cond, &ctx)) {
            if (++s->t.hops > DDT_LOOP_GUARD) {
                return ddt_fail(s, "loop_guard",
                                "the flow moved more than 1000 times in one "
                                "turn without running a task or waiting for "
                                "input%s", NULL);
            }
            s->node = e->to;
            s->task = 0;
            return DDT_RUN_GO;
        }
    }

    /* no edge taken: the session ends with an endCall action */
    ddt_action(s, "endCall");
    s->status = DDT_STATUS_ENDED;
    s->t.critical = 1;
    return DDT_RUN_STOP;
}

/* Run the flow from the program counter. */
static ddt_run_t
ddt_run(const ddt_project_t *p, ddt_session_t *s, ddt_turn_result_t *res)
{
    ddt_run_t           r;
    const ddt_bnode_t  *n;
    const ddt_btask_t  *t;
    ddt_json_t         *a;
    ddt_engine_ctx_t    c;
    const char         *q;

    for ( ;; ) {
        if (s->node >= p->n_nodes) {
            return ddt_fail(s, "bad_state", "the session points at no flow "
                            "node%s", NULL);
        }

        n = &p->nodes[s->node];

        if (s->task >= n->tasks.count) {
            r = ddt_take_edge(p, s);
            if (r != DDT_RUN_GO) {
                return r;
            }
            continue;
        }

        if (s->t.tasks >= DDT_LOOP_GUARD) {
            return ddt_fail(s, "loop_guard",
                            "the flow ran more than 1000 tasks in one turn "
                            "without waiting for input (node \"%s\")",
                            ddt_bs(p, n->id));
        }
        s->t.tasks++;

        /* the edge guard counts moves between tasks only: the limit of
         * SPEC 2 is on tasks, and a cycle through task-less nodes (which
         * runs none) is what the edge guard is for */
        s->t.hops = 0;

        t = &p->tasks[n->tasks.first + s->task];

        switch (t->type) {

        case DDT_TASK_SAY:
            if (ddt_say(p, s, t->text) != DDT_OK) {
                return ddt_fail(s, "internal", "out of memory%s", NULL);
            }
            s->task++;
            break;

        case DDT_TASK_GETDATA:
            if (t->ddt >= p->n_ddts) {
                return ddt_fail(s, "bad_state", "GetData of no DDT%s", NULL);
            }
            ddt_engine_ctx(p, s, &c);
            r = ddt_engine_rc(p, s, &c, ddt_engine_enter(&c, t->ddt), res);
            if (r == DDT_RUN_REJECT) {
                return ddt_fail(s, "engine_failed", "GetData: %s",
                                c.err.message);
            }
            if (r != DDT_RUN_GO) {
                return r;
            }
            break;

        case DDT_TASK_BACKEND:
            return ddt_backend_effect(p, s, t, res);

        case DDT_TASK_SETVAR:
            r = ddt_task_setvar(p, s, t);
            if (r != DDT_RUN_GO) {
                return r;
            }
            break;

        case DDT_TASK_ENDCALL:
            if (t->text != DDT_NONE && ddt_say(p, s, t->text) != DDT_OK) {
                return ddt_fail(s, "internal", "out of memory%s", NULL);
            }
            ddt_action(s, "endCall");
            s->status = DDT_STATUS_ENDED;
            s->task++;
            s->t.critical = 1;
            return DDT_RUN_STOP;

        case DDT_TASK_TRANSFER:
            if (t->text != DDT_NONE && ddt_say(p, s, t->text) != DDT_OK) {
                return ddt_fail(s, "internal", "out of memory%s", NULL);
            }
            a = ddt_action(s, "transfer");
            if (a != NULL) {
                if (t->a != DDT_NONE) {
                    ddt_json_setl(&s->arena, a, "queue",
                                  ddt_render(p, s, t->a));
                } else {
                    q = "";
                    ddt_json_setl(&s->arena, a, "queue",
                                  ddt_json_strz(&s->arena, q));
                }
            }
            s->status = DDT_STATUS_TRANSFERRED;
            s->task++;
            s->t.critical = 1;
            return DDT_RUN_STOP;

        case DDT_TASK_EMAIL:
        case DDT_TASK_SMS:
        case DDT_TASK_CUSTOM:
            r = ddt_task_action(p, s, t);
            if (r != DDT_RUN_GO) {
                return r;
            }
            break;

        default:
            return ddt_fail(s, "bad_state", "unknown task type%s", NULL);
        }
    }
}

/* ---- response ----------------------------------------------------------- */

static int
ddt_finish(const ddt_project_t *p, ddt_session_t *s, ddt_turn_result_t *res,
    ddt_err_t *err)
{
    ddt_arena_t  *a = &s->arena;
    ddt_json_t   *r;
    const char   *st;

    if (s->status == DDT_STATUS_RUNNING) {
        /* cannot happen: every stop decides a status */
        ddt_fail(s, "internal", "the turn stopped without a status%s", NULL);
    }

    if (s->status != DDT_STATUS_WAITING) {
        s->wait = DDT_WAIT_NONE;
        s->expecting = ddt_json_null(a);
        if (s->status != DDT_STATUS_ERROR) {
            s->error = NULL;
        }
    }

    s->version++;
    s->updated_ms = s->t.now_ms;

    r = ddt_fixed_obj(a, 8);
    if (r == NULL) {
        goto oom;
    }
    st = ddt_status_name(s->status);
    if (ddt_put(r, "sessionId", ddt_str_ref(a, s->id, strlen(s->id)))
        || ddt_put(r, "version", ddt_json_num(a, (double) s->version))
        || ddt_put(r, "status", ddt_str_ref(a, st, strlen(st)))
        || ddt_put(r, "messages", s->t.messages)
        || ddt_put(r, "actions", s->status == DDT_STATUS_ERROR
                                 ? ddt_json_arr(a) : s->t.actions)
        || ddt_put(r, "expecting", s->expecting))
    {
        goto oom;
    }
    if (s->status == DDT_STATUS_ERROR && s->error != NULL
        && ddt_put(r, "error", s->error) != DDT_OK)
    {
        goto oom;
    }

    ddt_buf_reset(&res->response);
    if (ddt_json_write(&res->response, r) != DDT_OK || res->response.oom) {
        goto oom;
    }

    if (s->t.turn_id != NULL && s->t.input != NULL) {
        ddt_session_remember(s, s->t.turn_id, s->t.input, r);
    }

    res->need_effect = 0;
    res->status = s->status;
    res->critical = s->t.critical;

    ddt_session_compact(s);
    return DDT_OK;

oom:
    ddt_err_set(err, 500, "internal", "out of memory");
    return DDT_ERROR;
}

/* Drive the flow after a step and finish the turn unless an effect is out. */
static int
ddt_continue(const ddt_project_t *p, ddt_session_t *s, ddt_run_t r,
    ddt_turn_result_t *res, ddt_err_t *err)
{
    if (r == DDT_RUN_GO) {
        r = ddt_run(p, s, res);
    }
    if (r == DDT_RUN_EFFECT) {
        res->status = DDT_STATUS_RUNNING;
        res->critical = s->t.critical;
        return DDT_OK;
    }
    return ddt_finish(p, s, res, err);
}

static int
ddt_turn_begin(ddt_session_t *s, int64_t now_ms)
{
    memset(&s->t, 0, sizeof(s->t));
    s->t.now_ms = now_ms;
    s->t.messages = ddt_json_arr(&s->arena);
    s->t.actions = ddt_json_arr(&s->arena);
    s->error = NULL;
    return (s->t.messages && s->t.actions) ? DDT_OK : DDT_ERROR;
}

int
ddt_turn_start(const ddt_project_t *p, ddt_session_t *s, int64_t now_ms,
    ddt_turn_result_t *res, ddt_err_t *err)
{
    if (ddt_turn_begin(s, now_ms) != DDT_OK) {
        ddt_err_set(err, 500, "internal", "out of memory");
        return DDT_ERROR;
    }
    res->need_effect = 0;
    s->status = DDT_STATUS_RUNNING;
    s->node = p->hdr->start_node;
    s->task = 0;
    s->wait = DDT_WAIT_NONE;
    return ddt_continue(p, s, DDT_RUN_GO, res, err);
}

/* Decode a loaded engine state against the project, once. */
static int
ddt_engine_ready(const ddt_project_t *p, ddt_session_t *s, ddt_err_t *err)
{
    if (s->eng_ready) {
        return DDT_OK;
    }
    if (s->eng_json == NULL || s->eng_json->type == DDT_J_NULL) {
        ddt_session_engine_reset(&s->eng);
    } else if (ddt_engine_state_from_json(&s->arena, p, s->eng_json, &s->eng,
                                          err) != DDT_OK)
    {
        return DDT_ERROR;
    }
    s->eng_ready = 1;
    s->eng_json = NULL;
    return DDT_OK;
}

/* `values` keys: data ids of the running DDT or "id.sub" (SPEC 9.2). */
static int
ddt_values_known(const ddt_project_t *p, uint32_t ddt, const ddt_json_t *v,
    ddt_err_t *err)
{
    size_t              i, j, dot;
    const ddt_bddt_t   *d;
    const ddt_bitem_t  *it, *par;
    const char         *key, *id, *pid;
    int                 found;

    d = &p->ddts[ddt];

    for (i = 0; i < v->u.obj.len; i++) {
        key = v->u.obj.m[i].key;
        for (dot = 0; key[dot] && key[dot] != '.'; dot++) { /* void */ }
        found = 0;

        for (j = 0; j < d->all_items.count && !found; j++) {
            it = &p->items[d->all_items.first + j];
            id = ddt_bs(p, it->id);
            if (id == NULL) {
                continue;
            }
            if (it->parent == DDT_NONE) {
                found = key[dot] == '\0' && strcmp(id, key) == 0;
            } else if (key[dot] == '.' && it->parent < p->n_items) {
                par = &p->items[it->parent];
                pid = ddt_bs(p, par->id);
                found = pid != NULL && strlen(pid) == dot
                        && strncmp(pid, key, dot) == 0
                        && strcmp(id, key + dot + 1) == 0;
            }
        }

        if (!found) {
            ddt_err_set(err, 400, "bad_input",
                        "\"values\": \"%.64s\" is not a data id of \"%.64s\"",
                        key, ddt_bs(p, d->id));
            return DDT_ERROR;
        }
    }
    return DDT_OK;
}

static int
ddt_turn_check(const ddt_project_t *p, ddt_session_t *s, ddt_err_t *err)
{
    if (strcmp(s->checksum, p->checksum_hex) != 0) {
        ddt_err_set(err, 410, "project_version_gone",
                    "the session is pinned to load %s of \"%s\"",
                    s->checksum, s->project);
        return DDT_ERROR;
    }
    if (s->wait == DDT_WAIT_BACKEND || s->wait == DDT_WAIT_ENGINE) {
        ddt_err_set(err, 409, "conflict", "a turn is already in progress");
        return DDT_ERROR;
    }
    if (s->status != DDT_STATUS_WAITING) {
        ddt_err_set(err, 410, "session_closed", "the session is %s",
                    ddt_status_name(s->status));
        return DDT_ERROR;
    }
    return DDT_OK;
}

int
ddt_turn(const ddt_project_t *p, ddt_session_t *s, const ddt_input_t *in,
    int64_t now_ms, ddt_turn_result_t *res, ddt_err_t *err)
{
    const ddt_bnode_t  *n;
    const ddt_btask_t  *t;
    ddt_engine_ctx_t    c;
    ddt_err_t           e2;
    ddt_run_t           r;

    if (ddt_turn_check(p, s, err) != DDT_OK) {
        return DDT_ERROR;
    }
    if (s->wait != DDT_WAIT_INPUT) {
        ddt_err_set(err, 409, "conflict", "a turn is already in progress");
        return DDT_ERROR;
    }
    if (in->kind == DDT_IN_START) {
        ddt_err_set(err, 400, "bad_input", "a turn needs an input");
        return DDT_ERROR;
    }

    if (ddt_turn_begin(s, now_ms) != DDT_OK) {
        ddt_err_set(err, 500, "internal", "out of memory");
        return DDT_ERROR;
    }
    res->need_effect = 0;

    /* the program counter must sit on the GetData the engine runs */
    t = NULL;
    if (s->node < p->n_nodes) {
        n = &p->nodes[s->node];
        if (s->task < n->tasks.count
            && n->tasks.first + s->task < p->n_tasks)
        {
            t = &p->tasks[n->tasks.first + s->task];
            if (t->type != DDT_TASK_GETDATA || t->ddt >= p->n_ddts) {
                t = NULL;
            }
        }
    }

    if (t == NULL) {
        s->status = DDT_STATUS_RUNNING;
        r = ddt_fail(s, "bad_state", "the session state cannot be resumed: "
                     "%s", "no GetData at the program counter");
        return ddt_continue(p, s, r, res, err);
    }

    if (ddt_engine_ready(p, s, &e2) != DDT_OK || s->eng.ddt != t->ddt) {
        s->status = DDT_STATUS_RUNNING;
        r = ddt_fail(s, "bad_state", "the session state cannot be resumed: "
                     "%s", "the DDT state does not match the project");
        return ddt_continue(p, s, r, res, err);
    }

    if (in->kind == DDT_IN_VALUES
        && (in->values == NULL || in->values->type != DDT_J_OBJ
            || ddt_values_known(p, t->ddt, in->values, err) != DDT_OK))
    {
        if (in->values == NULL || in->values->type != DDT_J_OBJ) {
            ddt_err_set(err, 400, "bad_input", "\"values\" is an object");
        }
        return DDT_ERROR;
    }

    if (in->turn_id != NULL) {
        s->t.turn_id = ddt_arena_strndup(&s->arena, in->turn_id,
                                         strlen(in->turn_id));
        s->t.input = ddt_input_canonical(&s->arena, in);
    }

    s->status = DDT_STATUS_RUNNING;
    ddt_engine_ctx(p, s, &c);
    r = ddt_engine_rc(p, s, &c, ddt_engine_input(&c, in), res);
    if (r == DDT_RUN_REJECT) {
        /* the engine refused the input before changing anything */
        s->status = DDT_STATUS_WAITING;
        s->wait = DDT_WAIT_INPUT;
        *err = c.err;
        if (err->code == NULL) {
            ddt_err_set(err, 400, "bad_input", "the input was refused");
        }
        return DDT_ERROR;
    }
    return ddt_continue(p, s, r, res, err);
}

/*
 * An effect result fits only the turn that asked for it, in this process:
 * the program counter on the task that issued it, the turn's buffers alive
 * (a state saved while an effect is out cannot be resumed).
 */
static int
ddt_pending_ok(const ddt_project_t *p, const ddt_session_t *s)
{
    const ddt_bnode_t  *n;
    const ddt_btask_t  *t;

    if (s->t.messages == NULL || s->t.actions == NULL
        || s->node >= p->n_nodes)
    {
        return 0;
    }
    n = &p->nodes[s->node];
    if (s->task >= n->tasks.count || n->tasks.first + s->task >= p->n_tasks) {
        return 0;
    }
    t = &p->tasks[n->tasks.first + s->task];
    if (s->wait == DDT_WAIT_BACKEND) {
        return t->type == DDT_TASK_BACKEND;
    }
    return t->type == DDT_TASK_GETDATA && s->eng_ready;
}

int
ddt_turn_resume(const ddt_project_t *p, ddt_session_t *s,
    const ddt_effect_result_t *er, ddt_turn_result_t *res, ddt_err_t *err)
{
    ddt_engine_ctx_t  c;
    ddt_run_t         r;

    res->need_effect = 0;

    if (s->wait != DDT_WAIT_BACKEND && s->wait != DDT_WAIT_ENGINE) {
        ddt_err_set(err, 409, "conflict",
                    "no effect is pending on this session");
        return DDT_ERROR;
    }
    if (strcmp(s->checksum, p->checksum_hex) != 0) {
        ddt_err_set(err, 410, "project_version_gone",
                    "the session is pinned to load %s of \"%s\"",
                    s->checksum, s->project);
        return DDT_ERROR;
    }

    if (!ddt_pending_ok(p, s)) {
        if (s->t.messages == NULL || s->t.actions == NULL) {
            if (ddt_turn_begin(s, s->updated_ms) != DDT_OK) {
                ddt_err_set(err, 500, "internal", "out of memory");
                return DDT_ERROR;
            }
        }
        s->status = DDT_STATUS_RUNNING;
        r = ddt_fail(s, "bad_state", "the session state cannot be resumed: "
                     "%s", "no effect of this turn is pending");
        return ddt_continue(p, s, r, res, err);
    }

    if (s->wait == DDT_WAIT_BACKEND) {
        r = ddt_backend_result(p, s, er);
        return ddt_continue(p, s, r, res, err);
    }

    ddt_engine_ctx(p, s, &c);
    r = ddt_engine_rc(p, s, &c, ddt_engine_resume(&c, er), res);
    if (r == DDT_RUN_REJECT) {
        r = ddt_fail(s, "engine_failed", "the DDT engine: %s",
                     c.err.message);
    }
    return ddt_continue(p, s, r, res, err);
}
