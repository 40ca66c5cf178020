
/*
 * ngx_http_ddt_api.c: routing on the full URI and the endpoints of SPEC 6
 * (ddt_api: sessions, turns, the project list, health; ddt_admin: PUT and
 * GET of one project; ddt_metrics).  Each endpoint is a chain of steps
 * that may pause on the session store (NGX_AGAIN) and go on from its
 * completion callback; the last step sends the answer and finalizes the
 * request once.  Dialogue work is the core's: this file parses the
 * envelope, moves state blobs between the store and the core, and maps
 * results to HTTP.
 */

#include "ngx_http_ddt_module.h"
#include "ngx_http_ddt_zone.h"
#include "ngx_http_ddt_store.h"


enum {
    NGX_HTTP_DDT_R_NONE = 0,
    NGX_HTTP_DDT_R_SESSIONS,        /* /v1/sessions */
    NGX_HTTP_DDT_R_SESSION,         /* /v1/sessions/{id} */
    NGX_HTTP_DDT_R_TURNS,           /* /v1/sessions/{id}/turns */
    NGX_HTTP_DDT_R_PROJECTS,        /* /v1/projects */
    NGX_HTTP_DDT_R_PROJECT,         /* /v1/projects/{name} */
    NGX_HTTP_DDT_R_HEALTH           /* /v1/health */
};


static ngx_http_ddt_ctx_t *ngx_http_ddt_ctx_create(ngx_http_request_t *r);
static void ngx_http_ddt_cleanup(void *data);
static ngx_uint_t ngx_http_ddt_route(ngx_http_request_t *r,
    ngx_http_ddt_ctx_t *ctx);
static void ngx_http_ddt_body_done(ngx_http_request_t *r);
static void ngx_http_ddt_dispatch(ngx_http_ddt_ctx_t *ctx);
static void ngx_http_ddt_finalize(ngx_http_ddt_ctx_t *ctx, ngx_int_t rc);

static void ngx_http_ddt_session_create(ngx_http_ddt_ctx_t *ctx);
static void ngx_http_ddt_session_create_checked(ngx_http_ddt_store_op_t *op);
static void ngx_http_ddt_session_create_run(ngx_http_ddt_ctx_t *ctx);
static void ngx_http_ddt_turn(ngx_http_ddt_ctx_t *ctx);
static void ngx_http_ddt_turn_got(ngx_http_ddt_store_op_t *op);
static void ngx_http_ddt_turn_done(ngx_http_ddt_ctx_t *ctx, ngx_int_t rc,
    ddt_err_t *err);
static void ngx_http_ddt_put_done(ngx_http_ddt_store_op_t *op);
static void ngx_http_ddt_session_get(ngx_http_ddt_ctx_t *ctx);
static void ngx_http_ddt_session_got(ngx_http_ddt_store_op_t *op);
static void ngx_http_ddt_session_delete(ngx_http_ddt_ctx_t *ctx);
static void ngx_http_ddt_session_deleted(ngx_http_ddt_store_op_t *op);
static void ngx_http_ddt_health(ngx_http_ddt_ctx_t *ctx);
static void ngx_http_ddt_health_done(ngx_http_ddt_store_op_t *op);
static void ngx_http_ddt_projects_list(ngx_http_ddt_ctx_t *ctx);
static void ngx_http_ddt_project_get(ngx_http_ddt_ctx_t *ctx);
static void ngx_http_ddt_project_put(ngx_http_ddt_ctx_t *ctx);


static ngx_str_t  ngx_http_ddt_metrics_type =
    ngx_string("text/plain; version=0.0.4; charset=utf-8");


/* ---- entry, routing, finalization -------------------------------------- */

ngx_int_t
ngx_http_ddt_api_handler(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_uint_t           method, body;
    const char          *allow;
    ngx_http_ddt_ctx_t  *ctx;

    ctx = ngx_http_ddt_ctx_create(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->mcf->sh == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    ctx->route = ngx_http_ddt_route(r, ctx);

    method = r->method;
    if (method == NGX_HTTP_HEAD) {
        method = NGX_HTTP_GET;
    }

    allow = NULL;
    body = 0;

    switch (ctx->route) {

    case NGX_HTTP_DDT_R_SESSIONS:
        allow = "POST";
        body = (method == NGX_HTTP_POST);
        break;

    case NGX_HTTP_DDT_R_SESSION:
        allow = "GET, DELETE";
        body = 0;
        if (method != NGX_HTTP_GET && method != NGX_HTTP_DELETE) {
            body = 2;
        }
        break;

    case NGX_HTTP_DDT_R_TURNS:
        allow = "POST";
        body = (method == NGX_HTTP_POST);
        break;

    case NGX_HTTP_DDT_R_PROJECTS:
    case NGX_HTTP_DDT_R_HEALTH:
        allow = "GET";
        if (method != NGX_HTTP_GET) {
            body = 2;
        }
        break;

    case NGX_HTTP_DDT_R_PROJECT:
        allow = "GET, PUT";
        if (method == NGX_HTTP_PUT) {
            body = 1;

        } else if (method != NGX_HTTP_GET) {
            body = 2;
        }
        break;

    default:
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_ddt_reply_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                        "no such endpoint: %V", &r->uri);
    }

    if (allow && (ctx->route == NGX_HTTP_DDT_R_SESSIONS
                  || ctx->route == NGX_HTTP_DDT_R_TURNS)
        && method != NGX_HTTP_POST)
    {
        body = 2;
    }

    if (body == 2) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_ddt_reply_405(r, allow);
    }

    if (body) {
        if (ngx_http_ddt_body_check(r, ctx, &rc) != NGX_OK) {
            return rc;
        }

        rc = ngx_http_ddt_body_read(r, ngx_http_ddt_body_done);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    r->main->count++;

    ngx_http_ddt_dispatch(ctx);

    return NGX_DONE;
}


static ngx_http_ddt_ctx_t *
ngx_http_ddt_ctx_create(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;
    ngx_http_ddt_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_ddt_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_ddt_cleanup;
    cln->data = ctx;

    ctx->type = NGX_HTTP_DDT_CTX_API;
    ctx->r = r;
    ctx->mcf = ngx_http_get_module_main_conf(r, ngx_http_ddt_module);
    ctx->lcf = ngx_http_get_module_loc_conf(r, ngx_http_ddt_module);

    clock_gettime(CLOCK_MONOTONIC, &ctx->started);

    ngx_http_set_ctx(r, ctx, ngx_http_ddt_module);

    return ctx;
}


/* Everything the core or the store lent to this request goes back here. */

static void
ngx_http_ddt_cleanup(void *data)
{
    ngx_http_ddt_ctx_t  *ctx = data;

    ngx_http_ddt_store_op_t  *op;

    ngx_http_ddt_effect_cleanup(ctx);

    op = ctx->op;

    if (op && op->locked) {
        ctx->mcf->store->release(op);
    }

    if (ctx->load) {
        ngx_http_ddt_project_release(ctx->mcf, ctx->load,
                                     ctx->project != NULL);
        ctx->load = NULL;
    }

    if (ctx->session) {
        ddt_session_free(ctx->session);
        ctx->session = NULL;
    }

    if (ctx->result_used) {
        ddt_turn_result_free(&ctx->result);
        ctx->result_used = 0;
    }

    if (ctx->saved_used) {
        ddt_buf_free(&ctx->saved);
        ctx->saved_used = 0;
    }

    if (ctx->arena_used) {
        ddt_arena_free(&ctx->arena);
        ctx->arena_used = 0;
    }
}


/* The segment after prefix up to the next '/' (or the end). */

static ngx_uint_t
ngx_http_ddt_segment(u_char *p, u_char *last, ngx_str_t *seg)
{
    u_char  *s;

    s = p;

    while (p < last && *p != '/') {
        p++;
    }

    seg->data = s;
    seg->len = p - s;

    return p - s;
}


static ngx_uint_t
ngx_http_ddt_route(ngx_http_request_t *r, ngx_http_ddt_ctx_t *ctx)
{
    u_char     *p, *last;
    ngx_str_t   seg;
    ngx_uint_t  admin;

    p = r->uri.data;
    last = p + r->uri.len;
    admin = (ctx->lcf->kind == NGX_HTTP_DDT_ADMIN);

#define ngx_http_ddt_prefix(s)                                                \
    ((size_t) (last - p) >= sizeof(s) - 1                                     \
     && ngx_strncmp(p, s, sizeof(s) - 1) == 0)

    if (!ngx_http_ddt_prefix("/v1/")) {
        return NGX_HTTP_DDT_R_NONE;
    }

    p += sizeof("/v1/") - 1;

    if (ngx_http_ddt_prefix("projects")) {
        p += sizeof("projects") - 1;

        if (p == last) {
            return NGX_HTTP_DDT_R_PROJECTS;
        }

        if (*p != '/' || !admin) {
            return NGX_HTTP_DDT_R_NONE;
        }

        p++;

        if (ngx_http_ddt_segment(p, last, &seg) == 0 || p + seg.len != last) {
            return NGX_HTTP_DDT_R_NONE;
        }

        ctx->name = seg;

        return NGX_HTTP_DDT_R_PROJECT;
    }

    if (admin) {
        return NGX_HTTP_DDT_R_NONE;
    }

    if (ngx_http_ddt_prefix("health") && last - p == sizeof("health") - 1) {
        return NGX_HTTP_DDT_R_HEALTH;
    }

    if (!ngx_http_ddt_prefix("sessions")) {
        return NGX_HTTP_DDT_R_NONE;
    }

    p += sizeof("sessions") - 1;

    if (p == last) {
        return NGX_HTTP_DDT_R_SESSIONS;
    }

    if (*p++ != '/') {
        return NGX_HTTP_DDT_R_NONE;
    }

    if (ngx_http_ddt_segment(p, last, &seg) == 0) {
        return NGX_HTTP_DDT_R_NONE;
    }

    ctx->id = seg;
    p += seg.len;

    if (p == last) {
        return NGX_HTTP_DDT_R_SESSION;
    }

    if (ngx_http_ddt_prefix("/turns") && last - p == sizeof("/turns") - 1) {
        return NGX_HTTP_DDT_R_TURNS;
    }

#undef ngx_http_ddt_prefix

    return NGX_HTTP_DDT_R_NONE;
}


static void
ngx_http_ddt_body_done(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_http_ddt_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ddt_module);

    if (ngx_http_ddt_body_collect(r, ctx, &rc) != NGX_OK) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    ngx_http_ddt_dispatch(ctx);
}


static void
ngx_http_ddt_dispatch(ngx_http_ddt_ctx_t *ctx)
{
    ngx_uint_t  method;

    method = ctx->r->method;

    switch (ctx->route) {

    case NGX_HTTP_DDT_R_SESSIONS:
        ngx_http_ddt_session_create(ctx);
        return;

    case NGX_HTTP_DDT_R_TURNS:
        ngx_http_ddt_turn(ctx);
        return;

    case NGX_HTTP_DDT_R_SESSION:
        if (method == NGX_HTTP_DELETE) {
            ngx_http_ddt_session_delete(ctx);

        } else {
            ngx_http_ddt_session_get(ctx);
        }
        return;

    case NGX_HTTP_DDT_R_PROJECTS:
        ngx_http_ddt_projects_list(ctx);
        return;

    case NGX_HTTP_DDT_R_PROJECT:
        if (method == NGX_HTTP_PUT) {
            ngx_http_ddt_project_put(ctx);

        } else {
            ngx_http_ddt_project_get(ctx);
        }
        return;

    case NGX_HTTP_DDT_R_HEALTH:
        ngx_http_ddt_health(ctx);
        return;
    }

    ngx_http_ddt_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
}


static void
ngx_http_ddt_finalize(ngx_http_ddt_ctx_t *ctx, ngx_int_t rc)
{
    ngx_http_finalize_request(ctx->r, rc);
}


static ngx_http_ddt_store_op_t *
ngx_http_ddt_op(ngx_http_ddt_ctx_t *ctx, ngx_http_ddt_store_done_pt handler)
{
    ngx_http_ddt_store_op_t  *op;

    op = ctx->op;

    if (op == NULL) {
        op = ngx_pcalloc(ctx->r->pool, sizeof(ngx_http_ddt_store_op_t));
        if (op == NULL) {
            return NULL;
        }

        ctx->op = op;
        op->mcf = ctx->mcf;
        op->pool = ctx->r->pool;
        op->log = ctx->r->connection->log;
        op->data = ctx;
    }

    op->id = ctx->id;
    op->handler = handler;
    op->rc = NGX_ERROR;

    return op;
}


/* read the session (no lock, no restore), then go on in handler */

static void
ngx_http_ddt_get(ngx_http_ddt_ctx_t *ctx, ngx_http_ddt_store_done_pt handler)
{
    ngx_http_ddt_store_op_t  *op;

    op = ngx_http_ddt_op(ctx, handler);
    if (op == NULL) {
        ngx_http_ddt_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ctx->mcf->store->get(op) == NGX_AGAIN) {
        return;
    }

    handler(op);
}


static ngx_int_t
ngx_http_ddt_reply_buf(ngx_http_ddt_ctx_t *ctx, ngx_uint_t status,
    ddt_buf_t *b)
{
    if (b->oom || b->data == NULL) {
        return ngx_http_ddt_reply_error(ctx->r,
                                        NGX_HTTP_INTERNAL_SERVER_ERROR,
                                        "internal", "out of memory");
    }

    return ngx_http_ddt_reply_json(ctx->r, status, (u_char *) b->data,
                                   b->len);
}


/*
 * A turn response, with the members the store adds to every one (Redis:
 * "durable") spliced in before the closing brace.
 */

static ngx_int_t
ngx_http_ddt_reply_turn(ngx_http_ddt_ctx_t *ctx, ngx_uint_t status,
    ddt_buf_t *b)
{
    u_char                   *p, *body;
    ngx_http_ddt_store_op_t  *op;

    op = ctx->op;

    if (op == NULL || op->response_extra.len == 0 || b->oom
        || b->data == NULL || b->len < 2 || b->data[b->len - 1] != '}')
    {
        return ngx_http_ddt_reply_buf(ctx, status, b);
    }

    body = ngx_pnalloc(ctx->r->pool, b->len + op->response_extra.len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(body, b->data, b->len - 1);
    p = ngx_cpymem(p, op->response_extra.data, op->response_extra.len);
    *p++ = '}';

    return ngx_http_ddt_reply_json(ctx->r, status, body, p - body);
}


static ngx_int_t
ngx_http_ddt_reply_store_error(ngx_http_ddt_ctx_t *ctx)
{
    return ngx_http_ddt_reply_error(ctx->r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "store_unavailable",
                                    "the session store is unavailable");
}


/* 404, or 410 session_expired when the store can tell (SPEC 9.4) */

static ngx_int_t
ngx_http_ddt_reply_not_found(ngx_http_ddt_ctx_t *ctx,
    ngx_http_ddt_store_op_t *op)
{
    if (op->out_expired) {
        return ngx_http_ddt_reply_error(ctx->r, NGX_HTTP_GONE,
                                        "session_expired",
                                        "session \"%V\" expired", &ctx->id);
    }

    return ngx_http_ddt_reply_error(ctx->r, NGX_HTTP_NOT_FOUND,
                                    "session_not_found",
                                    "no session \"%V\"", &ctx->id);
}


static void
ngx_http_ddt_arena(ngx_http_ddt_ctx_t *ctx)
{
    if (!ctx->arena_used) {
        ddt_arena_init(&ctx->arena, 0);
        ctx->arena_used = 1;
    }
}


/* ---- POST /v1/sessions ------------------------------------------------- */

/* A member's key equal to a literal, embedded NULs included. */
#define ngx_http_ddt_key_is(m, lit)                                          \
    ((m)->klen == sizeof(lit) - 1                                            \
     && ngx_memcmp((m)->key, lit, sizeof(lit) - 1) == 0)


static void
ngx_http_ddt_session_create(ngx_http_ddt_ctx_t *ctx)
{
    size_t               i;
    ngx_str_t            pname;
    ddt_jerr_t           jerr;
    ddt_json_t          *root, *v, *project, *variables, *locale, *sid;
    ddt_jmember_t       *m;
    ngx_http_request_t  *r;

    r = ctx->r;

    ngx_http_ddt_arena(ctx);
    ngx_memzero(&jerr, sizeof(ddt_jerr_t));

    root = ddt_json_parse(&ctx->arena, (const char *) ctx->body,
                          ctx->body_len, NULL, &jerr);
    if (root == NULL) {
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_BAD_REQUEST, "bad_json",
                                     "%s at line %ui, column %ui",
                                     jerr.message, (ngx_uint_t) jerr.line,
                                     (ngx_uint_t) jerr.column));
        return;
    }

    if (root->type != DDT_J_OBJ) {
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_BAD_REQUEST, "bad_input",
                                     "the body must be a JSON object"));
        return;
    }

    project = variables = locale = sid = NULL;

    for (i = 0; i < root->u.obj.len; i++) {
        m = &root->u.obj.m[i];
        v = m->val;

        if (ngx_http_ddt_key_is(m, "project") && v->type == DDT_J_STR) {
            project = v;

        } else if (ngx_http_ddt_key_is(m, "variables")
                   && (v->type == DDT_J_OBJ || v->type == DDT_J_NULL))
        {
            variables = (v->type == DDT_J_OBJ) ? v : NULL;

        } else if (ngx_http_ddt_key_is(m, "locale")
                   && (v->type == DDT_J_STR || v->type == DDT_J_NULL))
        {
            locale = (v->type == DDT_J_STR) ? v : NULL;

        } else if (ngx_http_ddt_key_is(m, "sessionId")
                   && (v->type == DDT_J_STR || v->type == DDT_J_NULL))
        {
            sid = (v->type == DDT_J_STR) ? v : NULL;

        } else {
            ngx_http_ddt_finalize(ctx,
                ngx_http_ddt_reply_error(r, NGX_HTTP_BAD_REQUEST, "bad_input",
                                         "unexpected field or type: \"%s\"",
                                         m->key));
            return;
        }
    }

    if (project == NULL) {
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_BAD_REQUEST, "bad_input",
                                     "\"project\" (a project name) is "
                                     "required"));
        return;
    }

    /* the core reads the locale as a C string: "en-US\u0000x" is not en-US */
    if (locale && ngx_strlen(locale->u.str.s) != locale->u.str.len) {
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_BAD_REQUEST, "bad_input",
                                     "unknown locale (it-IT or en-US)"));
        return;
    }

    if (sid) {
        if (!ngx_http_ddt_session_id_valid((u_char *) sid->u.str.s,
                                           sid->u.str.len))
        {
            ngx_http_ddt_finalize(ctx,
                ngx_http_ddt_reply_error(r, NGX_HTTP_BAD_REQUEST,
                                         "bad_input",
                                         "\"sessionId\" must match "
                                         "[A-Za-z0-9_-]{8,128}"));
            return;
        }

        ctx->id.data = (u_char *) sid->u.str.s;
        ctx->id.len = sid->u.str.len;

    } else if (ngx_http_ddt_session_id_generate(r->pool, &ctx->id) != NGX_OK) {
        ngx_http_ddt_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    pname.data = (u_char *) project->u.str.s;
    pname.len = project->u.str.len;

    ctx->load = ngx_http_ddt_project_acquire(ctx->mcf, pname.data, pname.len,
                                             NULL);
    if (ctx->load == NULL) {
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_NOT_FOUND,
                                     "project_not_found",
                                     "no project \"%V\" is loaded", &pname));
        return;
    }

    ctx->project = ngx_http_ddt_project_view(ctx->mcf, ctx->load,
                                             r->connection->log);
    if (ctx->project == NULL) {
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "internal", "the project does not load"));
        return;
    }

    ctx->create_variables = variables;
    ctx->create_locale = locale ? locale->u.str.s : NULL;

    if (sid == NULL) {
        ngx_http_ddt_session_create_run(ctx);
        return;
    }

    /*
     * A client's id may exist: say so before the first turn runs (and
     * calls backends); the write is still conditional on the id being new.
     */

    ngx_http_ddt_get(ctx, ngx_http_ddt_session_create_checked);
}


static void
ngx_http_ddt_session_create_checked(ngx_http_ddt_store_op_t *op)
{
    ngx_http_ddt_ctx_t  *ctx;

    ctx = op->data;

    switch (op->rc) {

    case NGX_DECLINED:
        ngx_http_ddt_session_create_run(ctx);
        return;

    case NGX_OK:
    case NGX_BUSY:
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(ctx->r, NGX_HTTP_CONFLICT,
                                     "session_exists",
                                     "session \"%V\" already exists",
                                     &ctx->id));
        return;

    default:
        ngx_http_ddt_finalize(ctx, ngx_http_ddt_reply_store_error(ctx));
        return;
    }
}


static void
ngx_http_ddt_session_create_run(ngx_http_ddt_ctx_t *ctx)
{
    ddt_err_t            err;
    ngx_http_request_t  *r;
    ddt_session_opts_t   opts;

    r = ctx->r;

    ngx_memzero(&opts, sizeof(ddt_session_opts_t));
    opts.session_id = (const char *) ctx->id.data;
    opts.variables = ctx->create_variables;
    opts.locale = ctx->create_locale;
    opts.now_ms = ngx_http_ddt_now_ms(ctx->mcf);

    ddt_turn_result_init(&ctx->result);
    ctx->result_used = 1;
    ctx->created = 1;

    ngx_memzero(&err, sizeof(ddt_err_t));

    if (ddt_session_create(ctx->project, &opts, &ctx->session, &ctx->result,
                           &err)
        != DDT_OK)
    {
        ngx_http_ddt_finalize(ctx, ngx_http_ddt_reply_core_error(r, &err));
        return;
    }

    ngx_http_ddt_effect_run(ctx, ngx_http_ddt_turn_done);
}


/* ---- POST /v1/sessions/{id}/turns -------------------------------------- */

static void
ngx_http_ddt_turn(ngx_http_ddt_ctx_t *ctx)
{
    ngx_int_t                 rc;
    ddt_err_t                 err;
    ngx_http_request_t       *r;
    ngx_http_ddt_store_op_t  *op;

    r = ctx->r;

    if (!ngx_http_ddt_session_id_valid(ctx->id.data, ctx->id.len)) {
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_NOT_FOUND,
                                     "session_not_found",
                                     "no session \"%V\"", &ctx->id));
        return;
    }

    ngx_http_ddt_arena(ctx);
    ngx_memzero(&err, sizeof(ddt_err_t));

    if (ddt_input_parse(&ctx->arena, (const char *) ctx->body, ctx->body_len,
                        &ctx->input, &err)
        != DDT_OK)
    {
        ngx_http_ddt_finalize(ctx, ngx_http_ddt_reply_core_error(r, &err));
        return;
    }

    op = ngx_http_ddt_op(ctx, ngx_http_ddt_turn_got);
    if (op == NULL) {
        ngx_http_ddt_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    op->lock = 1;

    /* a session the store lost is asked of the persister (SPEC 9.7) */
    op->restore = 1;

    rc = ctx->mcf->store->get(op);
    if (rc == NGX_AGAIN) {
        return;
    }

    ngx_http_ddt_turn_got(op);
}


/* A known turnId answers from the session's stored responses. */

static ngx_int_t
ngx_http_ddt_turn_replay(ngx_http_ddt_ctx_t *ctx, ngx_uint_t *done)
{
    int                  rc;
    ddt_err_t            err;
    ngx_http_request_t  *r;

    r = ctx->r;
    *done = 1;

    ngx_memzero(&err, sizeof(ddt_err_t));
    ddt_buf_init(&ctx->saved);
    ctx->saved_used = 1;

    rc = ddt_session_replay(ctx->session, &ctx->input, &ctx->saved, &err);

    if (rc == 1) {
        ngx_http_ddt_metrics_add(ctx->mcf, &ctx->mcf->sh->counters.replays,
                                 1);
        return ngx_http_ddt_reply_turn(ctx, NGX_HTTP_OK, &ctx->saved);
    }

    if (rc < 0) {
        return ngx_http_ddt_reply_core_error(r, &err);
    }

    *done = 0;

    return NGX_OK;
}


static void
ngx_http_ddt_turn_got(ngx_http_ddt_store_op_t *op)
{
    ngx_int_t            rc;
    ngx_uint_t           done;
    ddt_err_t            err;
    const char          *name, *checksum;
    ngx_http_request_t  *r;
    ngx_http_ddt_ctx_t  *ctx;

    ctx = op->data;
    r = ctx->r;

    switch (op->rc) {

    case NGX_OK:
    case NGX_BUSY:
        break;

    case NGX_DECLINED:
        ngx_http_ddt_finalize(ctx, ngx_http_ddt_reply_not_found(ctx, op));
        return;

    default:
        ngx_http_ddt_finalize(ctx, ngx_http_ddt_reply_store_error(ctx));
        return;
    }

    ctx->version_read = op->out_version;

    ngx_memzero(&err, sizeof(ddt_err_t));

    /* the object this worker saved as that very version, if it kept it */

    if (op->rc == NGX_OK) {
        ctx->session = ngx_http_ddt_cache_take(&ctx->id, op->out_gen,
                                               op->out_version,
                                               &ctx->session_uses);
    }

    if (ctx->session == NULL
        && ddt_session_load((const char *) op->out_blob.data,
                            op->out_blob.len, &ctx->session, &err)
           != DDT_OK)
    {
        ctx->session = NULL;
        ctx->mcf->store->release(op);

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ddt: session \"%V\" state does not load: %s",
                      &ctx->id, err.message);

        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "internal",
                                     "the session state does not load"));
        return;
    }

    if (ctx->input.turn_id) {
        rc = ngx_http_ddt_turn_replay(ctx, &done);

        if (done) {
            ctx->mcf->store->release(op);
            ngx_http_ddt_finalize(ctx, rc);
            return;
        }
    }

    if (op->rc == NGX_BUSY) {
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_CONFLICT, "conflict",
                                     "another turn of session \"%V\" is in "
                                     "progress", &ctx->id));
        return;
    }

    if (ddt_session_status(ctx->session) != DDT_STATUS_WAITING) {
        ctx->mcf->store->release(op);
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_GONE, "session_closed",
                                     "session \"%V\" is %s", &ctx->id,
                                     ddt_status_name(
                                         ddt_session_status(ctx->session))));
        return;
    }

    name = ddt_session_project(ctx->session);
    checksum = ddt_session_checksum(ctx->session);

    if (name == NULL || checksum == NULL) {
        ctx->mcf->store->release(op);
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_GONE,
                                     "project_version_gone",
                                     "the session names no project load"));
        return;
    }

    ctx->load = ngx_http_ddt_project_acquire(ctx->mcf, (u_char *) name,
                                             ngx_strlen(name), checksum);
    if (ctx->load == NULL) {
        ctx->mcf->store->release(op);
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_GONE,
                                     "project_version_gone",
                                     "project \"%s\" version %s is no longer "
                                     "loaded", name, checksum));
        return;
    }

    ctx->project = ngx_http_ddt_project_view(ctx->mcf, ctx->load,
                                             r->connection->log);
    if (ctx->project == NULL) {
        ctx->mcf->store->release(op);
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "internal", "the project does not load"));
        return;
    }

    ddt_turn_result_init(&ctx->result);
    ctx->result_used = 1;

    if (ddt_turn(ctx->project, ctx->session, &ctx->input,
                 ngx_http_ddt_now_ms(ctx->mcf), &ctx->result, &err)
        != DDT_OK)
    {
        ctx->mcf->store->release(op);
        ngx_http_ddt_finalize(ctx, ngx_http_ddt_reply_core_error(r, &err));
        return;
    }

    ngx_http_ddt_effect_run(ctx, ngx_http_ddt_turn_done);
}


/* The turn (or the creation) is done: save the state, write it back. */

static void
ngx_http_ddt_turn_done(ngx_http_ddt_ctx_t *ctx, ngx_int_t rc, ddt_err_t *err)
{
    ngx_http_request_t       *r;
    ngx_http_ddt_store_op_t  *op;

    r = ctx->r;

    if (rc != NGX_OK) {
        if (ctx->op) {
            ctx->mcf->store->release(ctx->op);
        }

        ngx_http_ddt_finalize(ctx, ngx_http_ddt_reply_core_error(r, err));
        return;
    }

    if (ctx->saved_used) {
        ddt_buf_free(&ctx->saved);
    }

    ddt_buf_init(&ctx->saved);
    ctx->saved_used = 1;

    if (ddt_session_save(ctx->session, &ctx->saved) != DDT_OK
        || ctx->saved.oom)
    {
        if (ctx->op) {
            ctx->mcf->store->release(ctx->op);
        }

        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "internal",
                                     "the session state does not save"));
        return;
    }

    op = ngx_http_ddt_op(ctx, ngx_http_ddt_put_done);
    if (op == NULL) {
        ngx_http_ddt_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    op->blob.data = (u_char *) ctx->saved.data;
    op->blob.len = ctx->saved.len;
    op->version = ddt_session_version(ctx->session);
    op->expected = ctx->created ? 0 : ctx->version_read;
    op->status = ddt_session_status(ctx->session);
    op->load = ctx->load;

    /* the turn's log, for a store that keeps one (Redis: the stream) */
    op->input.data = ctx->body;
    op->input.len = ctx->body_len;
    op->response.data = (u_char *) ctx->result.response.data;
    op->response.len = ctx->result.response.len;
    op->critical = ctx->result.critical ? 1 : 0;
    op->at = ngx_http_ddt_now_ms(ctx->mcf);

    if (ctx->input.turn_id) {
        op->turn_id.data = (u_char *) ctx->input.turn_id;
        op->turn_id.len = ngx_strlen(ctx->input.turn_id);
    }

    if (ctx->mcf->store->put(op) == NGX_AGAIN) {
        return;
    }

    ngx_http_ddt_put_done(op);
}


static void
ngx_http_ddt_put_done(ngx_http_ddt_store_op_t *op)
{
    ngx_http_request_t  *r;
    ngx_http_ddt_ctx_t  *ctx;

    ctx = op->data;
    r = ctx->r;

    switch (op->rc) {

    case NGX_OK:
        ngx_http_ddt_metrics_turn(ctx->mcf,
                                  ctx->created ? NGX_HTTP_DDT_TURN_CREATE
                                               : NGX_HTTP_DDT_TURN_TURN,
                                  ddt_session_status(ctx->session),
                                  &ctx->started);

        /* what the store now holds, kept for this worker's next turn */

        if (ngx_http_ddt_cache_put(&ctx->id, op->out_gen, op->version,
                                   ctx->session, ctx->session_uses + 1))
        {
            ctx->session = NULL;
        }

        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_turn(ctx, ctx->created ? NGX_HTTP_CREATED
                                                     : NGX_HTTP_OK,
                                   &ctx->result.response));
        return;

    case NGX_ABORT:
        if (ctx->created) {
            ngx_http_ddt_finalize(ctx,
                ngx_http_ddt_reply_error(r, NGX_HTTP_CONFLICT,
                                         "session_exists",
                                         "session \"%V\" already exists",
                                         &ctx->id));
            return;
        }

        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_CONFLICT, "conflict",
                                     "session \"%V\" changed during the "
                                     "turn; nothing was written", &ctx->id));
        return;

    case NGX_DECLINED:
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_NOT_FOUND,
                                     "session_not_found",
                                     "session \"%V\" was deleted during the "
                                     "turn", &ctx->id));
        return;

    default:
        ngx_http_ddt_finalize(ctx, ngx_http_ddt_reply_store_error(ctx));
        return;
    }
}


/* ---- GET /v1/sessions/{id} --------------------------------------------- */

static void
ngx_http_ddt_session_get(ngx_http_ddt_ctx_t *ctx)
{
    if (!ngx_http_ddt_session_id_valid(ctx->id.data, ctx->id.len)) {
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(ctx->r, NGX_HTTP_NOT_FOUND,
                                     "session_not_found",
                                     "no session \"%V\"", &ctx->id));
        return;
    }

    ngx_http_ddt_get(ctx, ngx_http_ddt_session_got);
}


static void
ngx_http_ddt_session_got(ngx_http_ddt_store_op_t *op)
{
    ddt_err_t            err;
    ngx_http_request_t  *r;
    ngx_http_ddt_ctx_t  *ctx;

    ctx = op->data;
    r = ctx->r;

    if (op->rc == NGX_DECLINED) {
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_NOT_FOUND,
                                     "session_not_found",
                                     "no session \"%V\"", &ctx->id));
        return;
    }

    if (op->rc != NGX_OK && op->rc != NGX_BUSY) {
        ngx_http_ddt_finalize(ctx, ngx_http_ddt_reply_store_error(ctx));
        return;
    }

    ngx_memzero(&err, sizeof(ddt_err_t));

    if (ddt_session_load((const char *) op->out_blob.data, op->out_blob.len,
                         &ctx->session, &err)
        != DDT_OK)
    {
        ctx->session = NULL;
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "internal",
                                     "the session state does not load: %s",
                                     err.message));
        return;
    }

    ddt_buf_init(&ctx->saved);
    ctx->saved_used = 1;

    if (ddt_session_describe(ctx->session, &ctx->saved) != DDT_OK) {
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "internal",
                                     "the session cannot be described"));
        return;
    }

    ngx_http_ddt_finalize(ctx,
                          ngx_http_ddt_reply_buf(ctx, NGX_HTTP_OK,
                                                 &ctx->saved));
}


/* ---- DELETE /v1/sessions/{id} ------------------------------------------ */

static void
ngx_http_ddt_session_delete(ngx_http_ddt_ctx_t *ctx)
{
    ngx_http_ddt_store_op_t  *op;

    if (!ngx_http_ddt_session_id_valid(ctx->id.data, ctx->id.len)) {
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(ctx->r, NGX_HTTP_NOT_FOUND,
                                     "session_not_found",
                                     "no session \"%V\"", &ctx->id));
        return;
    }

    op = ngx_http_ddt_op(ctx, ngx_http_ddt_session_deleted);
    if (op == NULL) {
        ngx_http_ddt_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* one the store lost comes back first, so its deletion is recorded */
    op->restore = 1;

    if (ctx->mcf->store->del(op) == NGX_AGAIN) {
        return;
    }

    ngx_http_ddt_session_deleted(op);
}


static void
ngx_http_ddt_session_deleted(ngx_http_ddt_store_op_t *op)
{
    ngx_http_ddt_ctx_t  *ctx;

    ctx = op->data;

    switch (op->rc) {

    case NGX_OK:
        ngx_http_ddt_finalize(ctx,
                              ngx_http_ddt_reply_empty(ctx->r,
                                                       NGX_HTTP_NO_CONTENT));
        return;

    case NGX_DECLINED:
        ngx_http_ddt_finalize(ctx, ngx_http_ddt_reply_not_found(ctx, op));
        return;

    default:
        ngx_http_ddt_finalize(ctx, ngx_http_ddt_reply_store_error(ctx));
        return;
    }
}


/* ---- GET /v1/health ---------------------------------------------------- */

static void
ngx_http_ddt_health(ngx_http_ddt_ctx_t *ctx)
{
    ngx_http_ddt_store_op_t  *op;

    op = ngx_http_ddt_op(ctx, ngx_http_ddt_health_done);
    if (op == NULL) {
        ngx_http_ddt_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ctx->mcf->store->health(op) == NGX_AGAIN) {
        return;
    }

    ngx_http_ddt_health_done(op);
}


static void
ngx_http_ddt_health_done(ngx_http_ddt_store_op_t *op)
{
    ngx_http_ddt_ctx_t  *ctx;

    static u_char  ok[] = "{\"status\":\"ok\"}";

    ctx = op->data;

    if (op->rc != NGX_OK) {
        ngx_http_ddt_finalize(ctx, ngx_http_ddt_reply_store_error(ctx));
        return;
    }

    ngx_http_ddt_finalize(ctx,
                          ngx_http_ddt_reply_json(ctx->r, NGX_HTTP_OK, ok,
                                                  sizeof(ok) - 1));
}


/* ---- projects ---------------------------------------------------------- */

static void
ngx_http_ddt_projects_list(ngx_http_ddt_ctx_t *ctx)
{
    ngx_str_t  out;

    if (ngx_http_ddt_project_list_json(ctx->mcf, ctx->r->pool, &out)
        != NGX_OK)
    {
        ngx_http_ddt_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_ddt_finalize(ctx,
                          ngx_http_ddt_reply_json(ctx->r, NGX_HTTP_OK,
                                                  out.data, out.len));
}


static void
ngx_http_ddt_project_get(ngx_http_ddt_ctx_t *ctx)
{
    ngx_int_t  rc;
    ngx_str_t  out;

    rc = ngx_http_ddt_project_get_json(ctx->mcf, ctx->r->pool, &ctx->name,
                                       &out);

    if (rc == NGX_DECLINED) {
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(ctx->r, NGX_HTTP_NOT_FOUND,
                                     "project_not_found",
                                     "no project \"%V\" is loaded",
                                     &ctx->name));
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_ddt_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_ddt_finalize(ctx,
                          ngx_http_ddt_reply_json(ctx->r, NGX_HTTP_OK,
                                                  out.data, out.len));
}


/* [{"path","message"}, ...] of the errors (or warnings) in diags. */

static u_char *
ngx_http_ddt_diags_json(ngx_pool_t *pool, ddt_diags_t *d, int warnings,
    ngx_str_t *extra_path, ngx_str_t *extra_msg, size_t *len)
{
    size_t       n, i, plen, mlen;
    u_char      *buf, *p;
    ddt_diag_t  *it;

    n = 2;

    for (i = 0; i < d->n; i++) {
        it = &d->items[i];

        if (it->warning != warnings) {
            continue;
        }

        plen = it->path ? ngx_strlen(it->path) : 0;
        mlen = it->message ? ngx_strlen(it->message) : 0;

        n += sizeof("{\"path\":,\"message\":},") - 1
             + ngx_http_ddt_json_str_len((u_char *) it->path, plen)
             + ngx_http_ddt_json_str_len((u_char *) it->message, mlen);
    }

    if (extra_path) {
        n += sizeof("{\"path\":,\"message\":},") - 1
             + ngx_http_ddt_json_str_len(extra_path->data, extra_path->len)
             + ngx_http_ddt_json_str_len(extra_msg->data, extra_msg->len);
    }

    buf = ngx_pnalloc(pool, n);
    if (buf == NULL) {
        return NULL;
    }

    p = buf;
    *p++ = '[';

    for (i = 0; i < d->n; i++) {
        it = &d->items[i];

        if (it->warning != warnings) {
            continue;
        }

        plen = it->path ? ngx_strlen(it->path) : 0;
        mlen = it->message ? ngx_strlen(it->message) : 0;

        if (p != buf + 1) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, "{\"path\":", sizeof("{\"path\":") - 1);
        p = ngx_http_ddt_json_str(p, (u_char *) it->path, plen);
        p = ngx_cpymem(p, ",\"message\":", sizeof(",\"message\":") - 1);
        p = ngx_http_ddt_json_str(p, (u_char *) it->message, mlen);
        *p++ = '}';
    }

    if (extra_path) {
        if (p != buf + 1) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, "{\"path\":", sizeof("{\"path\":") - 1);
        p = ngx_http_ddt_json_str(p, extra_path->data, extra_path->len);
        p = ngx_cpymem(p, ",\"message\":", sizeof(",\"message\":") - 1);
        p = ngx_http_ddt_json_str(p, extra_msg->data, extra_msg->len);
        *p++ = '}';
    }

    *p++ = ']';
    *len = p - buf;

    return buf;
}


static ngx_int_t
ngx_http_ddt_reply_invalid_project(ngx_http_ddt_ctx_t *ctx, ddt_diags_t *d,
    ngx_str_t *extra_path, ngx_str_t *extra_msg, size_t nerrors)
{
    u_char     *list, *body, *p;
    size_t      len, blen;
    ngx_uint_t  i;

    list = ngx_http_ddt_diags_json(ctx->r->pool, d, 0, extra_path, extra_msg,
                                   &len);
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    blen = len + 128;
    body = ngx_pnalloc(ctx->r->pool, blen);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(body, "{\"error\":{\"code\":\"invalid_project\","
                    "\"message\":\"the project has %uz error%s\","
                    "\"errors\":", nerrors, nerrors == 1 ? "" : "s");
    p = ngx_cpymem(p, list, len);
    *p++ = '}';
    *p++ = '}';

    ngx_http_ddt_metrics_error(ctx->mcf, NGX_HTTP_DDT_E_INVALID_PROJECT);

    for (i = 0; i < d->n && i < 8; i++) {
        if (!d->items[i].warning) {
            ngx_log_error(NGX_LOG_INFO, ctx->r->connection->log, 0,
                          "ddt: PUT project \"%V\": %s: %s", &ctx->name,
                          d->items[i].path ? d->items[i].path : "",
                          d->items[i].message ? d->items[i].message : "");
        }
    }

    return ngx_http_ddt_reply_json(ctx->r, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                   body, p - body);
}


static ngx_uint_t
ngx_http_ddt_project_name_valid(ngx_str_t *name)
{
    size_t  i;
    u_char  ch;

    if (name->len == 0 || name->len > NGX_HTTP_DDT_NAME_MAX) {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        ch = name->data[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
              || ch == '_' || ch == '-'))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * PUT /v1/projects/{name}: compile, check the name, publish atomically.
 * 200 identical to the current load, 201 new and current, 422 with every
 * compile error.
 */

static void
ngx_http_ddt_project_put(ngx_http_ddt_ctx_t *ctx)
{
    char                      errbuf[256];
    u_char                   *body, *p, *warn;
    size_t                    wlen, len;
    ngx_int_t                 rc;
    ngx_str_t                 epath, emsg;
    ngx_http_request_t       *r;
    ngx_http_ddt_compiled_t   c;

    r = ctx->r;

    rc = ngx_http_ddt_project_compile(ctx->body, ctx->body_len, &c, r->pool,
                                      errbuf, sizeof(errbuf));

    if (rc != NGX_OK && c.diags.errors == 0) {
        ngx_str_set(&epath, "");
        emsg.data = (u_char *) errbuf;
        emsg.len = ngx_strlen(errbuf);

        rc = ngx_http_ddt_reply_invalid_project(ctx, &c.diags, &epath, &emsg,
                                                1);
        ngx_http_ddt_project_compiled_free(&c);
        ngx_http_ddt_finalize(ctx, rc);
        return;
    }

    if (rc != NGX_OK) {
        rc = ngx_http_ddt_reply_invalid_project(ctx, &c.diags, NULL, NULL,
                                                c.diags.errors);
        ngx_http_ddt_project_compiled_free(&c);
        ngx_http_ddt_finalize(ctx, rc);
        return;
    }

    if (!ngx_http_ddt_project_name_valid(&ctx->name)
        || c.name.len != ctx->name.len
        || ngx_strncmp(c.name.data, ctx->name.data, c.name.len) != 0)
    {
        ngx_str_set(&epath, "name");
        emsg.data = ngx_pnalloc(r->pool, 256 + ctx->name.len + c.name.len);
        if (emsg.data == NULL) {
            ngx_http_ddt_project_compiled_free(&c);
            ngx_http_ddt_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        emsg.len = ngx_sprintf(emsg.data, "the project is named \"%V\" but "
                               "is PUT as \"%V\"", &c.name, &ctx->name)
                   - emsg.data;

        rc = ngx_http_ddt_reply_invalid_project(ctx, &c.diags, &epath, &emsg,
                                                1);
        ngx_http_ddt_project_compiled_free(&c);
        ngx_http_ddt_finalize(ctx, rc);
        return;
    }

    ngx_shmtx_lock(&ctx->mcf->shpool->mutex);

    rc = ngx_http_ddt_project_publish_locked(ctx->mcf, &c.name, &c.label,
                                             c.checksum, c.block, c.block_len,
                                             ctx->body, ctx->body_len,
                                             r->connection->log);

    ngx_shmtx_unlock(&ctx->mcf->shpool->mutex);

    if (rc == NGX_ERROR) {
        ngx_http_ddt_project_compiled_free(&c);
        ngx_http_ddt_finalize(ctx,
            ngx_http_ddt_reply_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "store_unavailable",
                                     "no room in the shared zone for the "
                                     "project (raise ddt_zone_size)"));
        return;
    }

    if (rc == NGX_HTTP_DDT_PUBLISH_NEW) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "ddt: project \"%V\" version \"%V\" (%s) is now current",
                      &c.name, &c.label, c.checksum);
    }

    warn = ngx_http_ddt_diags_json(r->pool, &c.diags, 1, NULL, NULL, &wlen);
    if (warn == NULL) {
        ngx_http_ddt_project_compiled_free(&c);
        ngx_http_ddt_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    len = sizeof("{\"name\":,\"version\":,\"checksum\":\"\",\"warnings\":}")
          + ngx_http_ddt_json_str_len(c.name.data, c.name.len)
          + ngx_http_ddt_json_str_len(c.label.data, c.label.len)
          + 16 + wlen;

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        ngx_http_ddt_project_compiled_free(&c);
        ngx_http_ddt_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_cpymem(body, "{\"name\":", sizeof("{\"name\":") - 1);
    p = ngx_http_ddt_json_str(p, c.name.data, c.name.len);
    p = ngx_cpymem(p, ",\"version\":", sizeof(",\"version\":") - 1);
    p = ngx_http_ddt_json_str(p, c.label.data, c.label.len);
    p = ngx_sprintf(p, ",\"checksum\":\"%s\",\"warnings\":", c.checksum);
    p = ngx_cpymem(p, warn, wlen);
    *p++ = '}';

    ngx_http_ddt_project_compiled_free(&c);

    ngx_http_ddt_finalize(ctx,
        ngx_http_ddt_reply_json(r, rc == NGX_HTTP_DDT_PUBLISH_NEW
                                   ? NGX_HTTP_CREATED : NGX_HTTP_OK,
                                body, p - body));
}


/* ---- GET /metrics ------------------------------------------------------ */

ngx_int_t
ngx_http_ddt_metrics_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_str_t                  out;
    ngx_http_ddt_main_conf_t  *mcf;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ddt_reply_405(r, "GET");
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ddt_module);
    if (mcf->sh == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    if (ngx_http_ddt_metrics_render(mcf, r->pool, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ddt_reply_text(r, &ngx_http_ddt_metrics_type, out.data,
                                   out.len);
}
