
/*
 * ngx_http_ddt_effect.c: host effects (SPEC 7, 9.7).  When a turn stops
 * with need_effect, the host performs the effect without blocking the
 * worker and resumes the turn with its result.
 *
 * BackendCall: a background subrequest to the task's url (a path that an
 * nginx location serves, e.g. one with proxy_pass), with the task's
 * method, headers and body.  Its response never reaches the client: a
 * header and a body filter capture the status and up to 1 MiB of body
 * into the subrequest's context.  When the subrequest is done its
 * post-subrequest handler posts the main request, which resumes the turn;
 * a timer bounds the wait (timeoutMs): on timeout the subrequest's
 * upstream is closed (so the client's connection is not held by it) and
 * the turn resumes with {0, "timeout"}.
 *
 * ner / llm layers: the same subrequest, POST with the engine's request
 * body, to the URI that `ddt_service NAME URI` gives the layer's service
 * (a service name that starts with '/' is taken as the URI itself).  A
 * service no directive names is answered at once with {0, "connect"}: the
 * layer yields no value and the next one is tried.  A service declared
 * `openai` speaks chat-completions: its request and its answer go through
 * ngx_http_ddt_openai.c, and an answer it cannot use is {status,
 * "bad_json"}.
 *
 * The `ddt_service` directive is parsed here too.
 */

#include "ngx_http_ddt_module.h"
#include "ngx_http_ddt_zone.h"


/* effects one turn may ask for before the host gives up on it */
#define NGX_HTTP_DDT_EFFECTS_MAX     64

/* SPEC 9.7: a body over 1 MiB is too_large */
#define NGX_HTTP_DDT_EFFECT_BODY_MAX (1024 * 1024)


typedef struct {
    ngx_uint_t                  type;           /* NGX_HTTP_DDT_CTX_EFFECT */
    ngx_http_ddt_ctx_t         *ctx;            /* the main request's */
    ngx_http_request_t         *sr;
    ngx_http_ddt_service_t     *svc;            /* ner/llm: the service */
    ngx_str_t                   uri;            /* for the log */
    ngx_uint_t                  status;
    u_char                     *body;
    size_t                      len;
    size_t                      cap;
    unsigned                    header_seen:1;
    unsigned                    too_large:1;
    unsigned                    done:1;
    unsigned                    abandoned:1;
    unsigned                    no_upstream_answer:1;
    ngx_int_t                   special;        /* first error code */
} ngx_http_ddt_effect_sr_t;


static void ngx_http_ddt_effect_next(ngx_http_ddt_ctx_t *ctx);
static void ngx_http_ddt_effect_finish(ngx_http_ddt_ctx_t *ctx,
    ddt_effect_result_t *er);
static ngx_int_t ngx_http_ddt_effect_uri(ngx_http_ddt_ctx_t *ctx,
    const ddt_effect_t *e, ngx_str_t *uri, ngx_http_ddt_service_t **svc);
static ngx_int_t ngx_http_ddt_effect_subrequest(ngx_http_ddt_ctx_t *ctx,
    ngx_str_t *target, ngx_http_ddt_service_t *svc);
static void ngx_http_ddt_effect_translate(ngx_http_ddt_ctx_t *ctx,
    ngx_http_ddt_effect_sr_t *s, ddt_effect_result_t *er);
static ngx_int_t ngx_http_ddt_effect_sr_done(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static void ngx_http_ddt_effect_wake(ngx_http_request_t *r);
static void ngx_http_ddt_effect_abort(ngx_http_ddt_effect_sr_t *s);
static void ngx_http_ddt_effect_timeout(ngx_event_t *ev);
static ngx_int_t ngx_http_ddt_effect_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_ddt_effect_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static const char *ngx_http_ddt_effect_purpose[] = {
    "BackendCall", "ner", "llm"
};


ngx_int_t
ngx_http_ddt_effect_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_ddt_effect_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_ddt_effect_body_filter;

    return NGX_OK;
}


void
ngx_http_ddt_effect_run(ngx_http_ddt_ctx_t *ctx,
    ngx_http_ddt_effect_done_pt done)
{
    ctx->effect_done = done;
    ngx_http_ddt_effect_next(ctx);
}


/* Perform effects until the turn is done or one has to wait. */

static void
ngx_http_ddt_effect_next(ngx_http_ddt_ctx_t *ctx)
{
    ngx_str_t                uri;
    ddt_err_t                err;
    const ddt_effect_t      *e;
    ddt_effect_result_t      er;
    ngx_http_ddt_service_t  *svc;

    if (!ctx->result.need_effect) {
        ctx->effect_done(ctx, NGX_OK, NULL);
        return;
    }

    if (++ctx->effects > NGX_HTTP_DDT_EFFECTS_MAX) {
        ngx_memzero(&err, sizeof(ddt_err_t));
        err.http = NGX_HTTP_INTERNAL_SERVER_ERROR;
        err.code = "internal";
        ngx_cpystrn((u_char *) err.message,
                    (u_char *) "too many effects in one turn",
                    sizeof(err.message));
        ctx->effect_done(ctx, NGX_ERROR, &err);
        return;
    }

    e = &ctx->result.effect;

    ngx_http_ddt_metrics_add(ctx->mcf, &ctx->mcf->sh->counters.effects, 1);

    if (ngx_http_ddt_effect_uri(ctx, e, &uri, &svc) == NGX_OK) {
        if (ngx_http_ddt_effect_subrequest(ctx, &uri, svc) == NGX_AGAIN) {
            return;
        }

        /* could not be started: a transport failure */

    } else {
        ngx_log_error(NGX_LOG_INFO, ctx->r->connection->log, 0,
                      "ddt: %s service \"%s\" not called (no ddt_service "
                      "names it): the layer yields no value",
                      e->purpose <= DDT_EFFECT_FOR_LLM
                      ? ngx_http_ddt_effect_purpose[e->purpose] : "?",
                      e->url ? e->url : "-");
    }

    ngx_memzero(&er, sizeof(ddt_effect_result_t));
    er.status = 0;
    er.error = "connect";

    ngx_http_ddt_effect_finish(ctx, &er);
}


static void
ngx_http_ddt_effect_finish(ngx_http_ddt_ctx_t *ctx, ddt_effect_result_t *er)
{
    ddt_err_t  err;

    ngx_memzero(&err, sizeof(ddt_err_t));

    if (ddt_turn_resume(ctx->project, ctx->session, er, &ctx->result, &err)
        != DDT_OK)
    {
        ctx->effect_done(ctx, NGX_ERROR, &err);
        return;
    }

    ngx_http_ddt_effect_next(ctx);
}


/* The local URI (with its query string) an effect goes to. */

static ngx_int_t
ngx_http_ddt_effect_uri(ngx_http_ddt_ctx_t *ctx, const ddt_effect_t *e,
    ngx_str_t *uri, ngx_http_ddt_service_t **svc)
{
    size_t                   len;
    ngx_uint_t               i;
    ngx_http_ddt_service_t  *sv;

    *svc = NULL;

    if (e->url == NULL) {
        return NGX_DECLINED;
    }

    len = ngx_strlen(e->url);

    if (e->purpose == DDT_EFFECT_FOR_BACKEND || e->url[0] == '/') {
        uri->data = (u_char *) e->url;
        uri->len = len;
        return NGX_OK;
    }

    if (ctx->mcf->services == NULL) {
        return NGX_DECLINED;
    }

    sv = ctx->mcf->services->elts;

    for (i = 0; i < ctx->mcf->services->nelts; i++) {
        if (sv[i].name.len == len
            && ngx_strncmp(sv[i].name.data, e->url, len) == 0)
        {
            *uri = sv[i].uri;
            *svc = &sv[i];
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static ngx_uint_t
ngx_http_ddt_effect_method(const char *m, ngx_str_t *name)
{
    static struct {
        const char  *name;
        ngx_uint_t   method;
    } methods[] = {
        { "GET", NGX_HTTP_GET },
        { "POST", NGX_HTTP_POST },
        { "PUT", NGX_HTTP_PUT },
        { "DELETE", NGX_HTTP_DELETE },
        { "PATCH", NGX_HTTP_PATCH },
        { "HEAD", NGX_HTTP_HEAD },
        { "OPTIONS", NGX_HTTP_OPTIONS },
        { NULL, 0 }
    };

    ngx_uint_t  i;

    if (m == NULL) {
        m = "GET";
    }

    for (i = 0; methods[i].name; i++) {
        if (ngx_strcmp(methods[i].name, m) == 0) {
            name->data = (u_char *) methods[i].name;
            name->len = ngx_strlen(methods[i].name);
            return methods[i].method;
        }
    }

    return 0;
}


/*
 * A header the proxy may copy to the upstream as is: the name an RFC 9110
 * token, the value without CR, LF or NUL (a template value from the
 * caller's words must not add header lines of its own).
 */

static ngx_uint_t
ngx_http_ddt_effect_header_ok(const char *name, size_t nlen,
    const char *value, size_t vlen)
{
    size_t   i;
    u_char   c;

    if (nlen == 0) {
        return 0;
    }

    for (i = 0; i < nlen; i++) {
        c = (u_char) name[i];

        if (c <= ' ' || c >= 0x7f
            || ngx_strchr("\"(),/:;<=>?@[\\]{}", c) != NULL)
        {
            return 0;
        }
    }

    for (i = 0; i < vlen; i++) {
        c = (u_char) value[i];

        if (c == '\r' || c == '\n' || c == '\0') {
            return 0;
        }
    }

    return 1;
}


/* The subrequest's headers: the task's headers, plus the body's type. */

static ngx_int_t
ngx_http_ddt_effect_headers(ngx_http_ddt_ctx_t *ctx, ngx_http_request_t *sr,
    const ddt_effect_t *e, size_t body_len)
{
    size_t            i;
    ddt_jerr_t        jerr;
    ddt_json_t       *h;
    ngx_table_elt_t  *elt;

    if (ngx_list_init(&sr->headers_in.headers, sr->pool, 4,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sr->headers_in.content_type = NULL;
    sr->headers_in.content_length = NULL;
    sr->headers_in.transfer_encoding = NULL;
    sr->headers_in.chunked = 0;
    sr->headers_in.content_length_n = e->body ? (off_t) body_len : -1;

    if (e->body) {
        elt = ngx_list_push(&sr->headers_in.headers);
        if (elt == NULL) {
            return NGX_ERROR;
        }

        elt->hash = 1;
        ngx_str_set(&elt->key, "Content-Type");
        ngx_str_set(&elt->value, "application/json");
        elt->lowcase_key = (u_char *) "content-type";
        sr->headers_in.content_type = elt;
    }

    if (e->headers_json == NULL) {
        return NGX_OK;
    }

    if (!ctx->arena_used) {
        ddt_arena_init(&ctx->arena, 0);
        ctx->arena_used = 1;
    }

    h = ddt_json_parse(&ctx->arena, e->headers_json,
                       ngx_strlen(e->headers_json), NULL, &jerr);
    if (h == NULL || h->type != DDT_J_OBJ) {
        return NGX_OK;
    }

    for (i = 0; i < h->u.obj.len; i++) {
        if (h->u.obj.m[i].val->type != DDT_J_STR) {
            continue;
        }

        if (!ngx_http_ddt_effect_header_ok(h->u.obj.m[i].key,
                                           h->u.obj.m[i].klen,
                                           h->u.obj.m[i].val->u.str.s,
                                           h->u.obj.m[i].val->u.str.len))
        {
            ngx_log_error(NGX_LOG_WARN, sr->connection->log, 0,
                          "ddt: effect header \"%*s\" not sent: its name "
                          "is not a token or its value has a line break "
                          "or a NUL", h->u.obj.m[i].klen > 64
                                      ? (size_t) 64 : h->u.obj.m[i].klen,
                          h->u.obj.m[i].key);
            continue;
        }

        if (sr->headers_in.content_type
            && h->u.obj.m[i].klen == sizeof("Content-Type") - 1
            && ngx_strncasecmp((u_char *) h->u.obj.m[i].key,
                               (u_char *) "Content-Type",
                               sizeof("Content-Type") - 1) == 0)
        {
            /* the task's own type replaces the default */
            sr->headers_in.content_type->value.data =
                                   (u_char *) h->u.obj.m[i].val->u.str.s;
            sr->headers_in.content_type->value.len =
                                   h->u.obj.m[i].val->u.str.len;
            continue;
        }

        elt = ngx_list_push(&sr->headers_in.headers);
        if (elt == NULL) {
            return NGX_ERROR;
        }

        elt->hash = 1;
        elt->key.data = (u_char *) h->u.obj.m[i].key;
        elt->key.len = h->u.obj.m[i].klen;
        elt->value.data = (u_char *) h->u.obj.m[i].val->u.str.s;
        elt->value.len = h->u.obj.m[i].val->u.str.len;

        elt->lowcase_key = ngx_pnalloc(sr->pool, elt->key.len);
        if (elt->lowcase_key == NULL) {
            return NGX_ERROR;
        }

        ngx_strlow(elt->lowcase_key, elt->key.data, elt->key.len);
    }

    return NGX_OK;
}


/* Start the BackendCall subrequest: NGX_AGAIN, or NGX_ERROR. */

static ngx_int_t
ngx_http_ddt_effect_subrequest(ngx_http_ddt_ctx_t *ctx, ngx_str_t *target,
    ngx_http_ddt_service_t *svc)
{
    ngx_str_t                     uri, args, method_name, body;
    ngx_buf_t                    *b;
    ngx_uint_t                    method, flags;
    ngx_chain_t                  *cl;
    ngx_http_request_t           *r, *sr;
    const ddt_effect_t           *e;
    ngx_http_ddt_effect_sr_t     *s;
    ngx_http_post_subrequest_t   *ps;
    ngx_http_core_main_conf_t    *cmcf;

    r = ctx->r;
    e = &ctx->result.effect;

    if (target->len == 0 || target->data[0] != '/') {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ddt: effect url \"%V\" is not a local path", target);
        return NGX_ERROR;
    }

    method = ngx_http_ddt_effect_method(e->method, &method_name);
    if (method == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ddt: effect method \"%s\" is not supported",
                      e->method);
        return NGX_ERROR;
    }

    uri.len = target->len;
    uri.data = ngx_pnalloc(r->pool, uri.len);
    if (uri.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(uri.data, target->data, uri.len);
    ngx_str_null(&args);

    /*
     * As for SSI's include virtual: split off the query string, decode the
     * path (r->uri is always decoded; proxy_pass encodes it again) and
     * refuse ".." segments and NULs, which template values put into the
     * url could otherwise carry to another location or upstream path.
     */

    flags = 0;

    if (ngx_http_parse_unsafe_uri(r, &uri, &args, &flags) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "ddt: effect url \"%V\" is unsafe (a \"..\" segment "
                      "or a NUL): not called", target);
        return NGX_ERROR;
    }

    body.data = (u_char *) e->body;
    body.len = e->body ? e->body_len : 0;

    if (svc && svc->protocol == NGX_HTTP_DDT_SERVICE_OPENAI
        && e->purpose != DDT_EFFECT_FOR_BACKEND)
    {
        if (ngx_http_ddt_openai_request(r->pool, svc, e->body, body.len,
                                        &body)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    s = ngx_pcalloc(r->pool, sizeof(ngx_http_ddt_effect_sr_t));
    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (s == NULL || ps == NULL) {
        return NGX_ERROR;
    }

    s->type = NGX_HTTP_DDT_CTX_EFFECT;
    s->ctx = ctx;
    s->svc = svc;
    s->uri = *target;

    ps->handler = ngx_http_ddt_effect_sr_done;
    ps->data = s;

    if (ngx_http_subrequest(r, &uri, &args, &sr, ps,
                            NGX_HTTP_SUBREQUEST_BACKGROUND)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    s->sr = sr;

    /*
     * Variables of its own (as lua-nginx-module's subrequests by default):
     * a subrequest shares its parent's cached values otherwise, so the
     * second effect of a turn would see the first one's $request_body,
     * $http_* or $request_method, and the client's log line the effect's.
     */

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);

    sr->variables = ngx_pcalloc(r->pool, cmcf->variables.nelts
                                         * sizeof(ngx_http_variable_value_t));
    if (sr->variables == NULL) {
        return NGX_ERROR;
    }

    sr->method = method;
    sr->method_name = method_name;
    sr->header_only = (method == NGX_HTTP_HEAD);

    if (ngx_http_ddt_effect_headers(ctx, sr, e, body.len) != NGX_OK) {
        return NGX_ERROR;
    }

    /* never the client's body: the task's, or none */

    sr->request_body = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    if (sr->request_body == NULL) {
        return NGX_ERROR;
    }

    if (body.len) {
        b = ngx_create_temp_buf(r->pool, body.len);
        cl = ngx_alloc_chain_link(r->pool);
        if (b == NULL || cl == NULL) {
            return NGX_ERROR;
        }

        b->last = ngx_cpymem(b->pos, body.data, body.len);
        b->last_buf = 1;
        b->last_in_chain = 1;

        cl->buf = b;
        cl->next = NULL;
        sr->request_body->bufs = cl;
    }

    ctx->effect_sr = s;

    /* the main request waits: nothing may run its phases again */
    r->write_event_handler = ngx_http_request_empty_handler;

    ctx->effect_timer.handler = ngx_http_ddt_effect_timeout;
    ctx->effect_timer.data = ctx;
    ctx->effect_timer.log = r->connection->log;

    ngx_add_timer(&ctx->effect_timer,
                  e->timeout_ms ? (ngx_msec_t) e->timeout_ms : 3000);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "ddt: BackendCall %V %V?%V", &method_name, &uri, &args);

    return NGX_AGAIN;
}


/* The subrequest is done (called for each finalization: keep the first). */

/*
 * Called on each finalization of the subrequest.  A status code from a
 * handler (`return 404`, `return 204`, an upstream error) comes before its
 * response: nginx then sends its own page or follows an `error_page`
 * (an internal redirect), and finalizes again.  So the answer is the one
 * whose header went through the filter; a code with no header yet waits
 * for it (the effect's timer bounds that wait).
 */

static ngx_int_t
ngx_http_ddt_effect_sr_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_ddt_effect_sr_t  *s = data;

    ngx_http_request_t  *r;

    if (s->done) {
        return rc;
    }

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE && s->special == 0) {
        s->special = rc;
    }

    /* the codes for which ngx_http_finalize_request() makes a response */

    if ((rc >= NGX_HTTP_SPECIAL_RESPONSE || rc == NGX_HTTP_CREATED
         || rc == NGX_HTTP_NO_CONTENT)
        && !s->header_seen && rc != NGX_HTTP_CLOSE
        && !sr->connection->error)
    {
        return rc;
    }

    s->done = 1;

    if (!s->header_seen) {
        s->status = (ngx_uint_t) s->special;
    }

    /* nginx's own page for an upstream that gave no response header */

    if (s->no_upstream_answer) {
        s->status = 0;
    }

    if (s->abandoned) {
        return rc;
    }

    r = s->ctx->r;

    r->write_event_handler = ngx_http_ddt_effect_wake;
    ngx_http_post_request(r, NULL);

    return rc;
}


static void
ngx_http_ddt_effect_wake(ngx_http_request_t *r)
{
    ngx_http_ddt_ctx_t        *ctx;
    ddt_effect_result_t        er;
    ngx_http_ddt_effect_sr_t  *s;

    r->write_event_handler = ngx_http_request_empty_handler;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ddt_module);
    if (ctx == NULL || ctx->type != NGX_HTTP_DDT_CTX_API
        || ctx->effect_sr == NULL)
    {
        return;
    }

    s = ctx->effect_sr;
    ctx->effect_sr = NULL;

    if (ctx->effect_timer.timer_set) {
        ngx_del_timer(&ctx->effect_timer);
    }

    ngx_memzero(&er, sizeof(ddt_effect_result_t));

    er.status = (int) s->status;

    if (s->status == 0) {
        er.error = (s->special == NGX_HTTP_GATEWAY_TIME_OUT) ? "timeout"
                                                             : "connect";

    } else if (s->too_large) {
        er.error = "too_large";
    }

    er.body = (const char *) s->body;
    er.body_len = s->len;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "ddt: effect answered %ui, %uz bytes",
                   s->status, s->len);

    ngx_http_ddt_effect_translate(ctx, s, &er);

    ngx_http_ddt_effect_finish(ctx, &er);
}


/*
 * An answer the turn gets: from a chat-completions service, the engine's
 * own answer in its place; a failure is logged once, at info (the dialogue
 * goes on: $backend.error, onError, or the next layer decide).
 */

static void
ngx_http_ddt_effect_translate(ngx_http_ddt_ctx_t *ctx,
    ngx_http_ddt_effect_sr_t *s, ddt_effect_result_t *er)
{
    ngx_str_t            out;
    const char          *why;
    ngx_connection_t    *c;
    const ddt_effect_t  *e;

    c = ctx->r->connection;
    e = &ctx->result.effect;

    if (er->error == NULL && er->status >= 200 && er->status <= 299
        && s->svc && s->svc->protocol == NGX_HTTP_DDT_SERVICE_OPENAI
        && e->purpose != DDT_EFFECT_FOR_BACKEND)
    {
        if (ngx_http_ddt_openai_response(ctx->r->pool, s->body, s->len,
                                         &out, &why)
            == NGX_OK)
        {
            er->body = (const char *) out.data;
            er->body_len = out.len;
            return;
        }

        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "ddt: %s service \"%V\" (openai) at \"%V\" gave %s: "
                      "the layer yields no value",
                      ngx_http_ddt_effect_purpose[e->purpose],
                      &s->svc->name, &s->uri, why);

        er->error = "bad_json";
        er->body = NULL;
        er->body_len = 0;
        return;
    }

    if (er->error == NULL && er->status >= 200 && er->status <= 299) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "ddt: %s \"%V\" failed: status %d, %s",
                  e->purpose <= DDT_EFFECT_FOR_LLM
                  ? ngx_http_ddt_effect_purpose[e->purpose] : "?",
                  &s->uri, er->status, er->error ? er->error : "status");
}


/*
 * Stop an abandoned subrequest that is still waiting on its upstream: the
 * upstream's own cleanup closes the upstream connection and finalizes the
 * subrequest with NGX_DONE, which releases its hold on the connection, as
 * when the client goes away.  Other subrequests finish on their own.
 */

static void
ngx_http_ddt_effect_abort(ngx_http_ddt_effect_sr_t *s)
{
    ngx_http_request_t   *sr;
    ngx_http_cleanup_pt   cleanup;

    sr = s->sr;

    if (sr == NULL || s->done || sr->upstream == NULL
        || sr->upstream->cleanup == NULL || *sr->upstream->cleanup == NULL)
    {
        return;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, sr->connection->log, 0,
                   "ddt: aborting the effect's upstream");

    s->done = 1;

    cleanup = *sr->upstream->cleanup;
    cleanup(sr);
}


static void
ngx_http_ddt_effect_timeout(ngx_event_t *ev)
{
    ngx_connection_t          *c;
    ngx_http_ddt_ctx_t        *ctx;
    ddt_effect_result_t        er;
    ngx_http_ddt_effect_sr_t  *s;

    ctx = ev->data;
    c = ctx->r->connection;

    if (ctx->effect_sr == NULL) {
        return;
    }

    s = ctx->effect_sr;
    s->abandoned = 1;
    ctx->effect_sr = NULL;

    ngx_http_ddt_effect_abort(s);

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "ddt: effect %s timed out after %ui ms",
                  ctx->result.effect.purpose <= DDT_EFFECT_FOR_LLM
                  ? ngx_http_ddt_effect_purpose[ctx->result.effect.purpose]
                  : "?",
                  (ngx_uint_t) ctx->result.effect.timeout_ms);

    ngx_memzero(&er, sizeof(ddt_effect_result_t));
    er.status = 0;
    er.error = "timeout";

    ngx_http_ddt_effect_finish(ctx, &er);

    ngx_http_run_posted_requests(c);
}


void
ngx_http_ddt_effect_cleanup(ngx_http_ddt_ctx_t *ctx)
{
    if (ctx->effect_timer.timer_set) {
        ngx_del_timer(&ctx->effect_timer);
    }

    if (ctx->effect_sr) {
        ((ngx_http_ddt_effect_sr_t *) ctx->effect_sr)->abandoned = 1;
        ctx->effect_sr = NULL;
    }
}


/* ---- capture of the subrequest's response ---------------------------- */

static ngx_http_ddt_effect_sr_t *
ngx_http_ddt_effect_sr_ctx(ngx_http_request_t *r)
{
    ngx_http_ddt_effect_sr_t  *s;

    /*
     * Found through the post-subrequest handler, not the module's context:
     * an internal redirect (error_page, try_files) clears the contexts, and
     * a called location served by this module sets its own.
     */

    if (r == r->main || r->post_subrequest == NULL
        || r->post_subrequest->handler != ngx_http_ddt_effect_sr_done)
    {
        return NULL;
    }

    s = r->post_subrequest->data;

    if (s == NULL || s->type != NGX_HTTP_DDT_CTX_EFFECT) {
        return NULL;
    }

    return s;
}


static ngx_int_t
ngx_http_ddt_effect_header_filter(ngx_http_request_t *r)
{
    ngx_http_ddt_effect_sr_t  *s;

    s = ngx_http_ddt_effect_sr_ctx(r);
    if (s == NULL) {
        return ngx_http_next_header_filter(r);
    }

    if (s->done) {
        /* an error page after the subrequest was already answered */
        r->header_sent = 1;
        return NGX_OK;
    }

    s->status = r->headers_out.status;
    s->header_seen = 1;

    /*
     * The error page nginx makes when an upstream failed before its
     * response header (refused, reset, timed out) is a transport failure;
     * an error_page that redirects to an answer with another status is not.
     */

    if (s->special && (ngx_int_t) s->status == s->special
        && r->upstream && r->upstream->state
        && r->upstream->state->bytes_received == 0)
    {
        s->no_upstream_answer = 1;
    }

    if (r->headers_out.content_length_n > NGX_HTTP_DDT_EFFECT_BODY_MAX) {
        s->too_large = 1;
    }

    /* swallowed: the client never sees the subrequest's response */
    r->header_sent = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ddt_effect_capture(ngx_http_request_t *r, ngx_http_ddt_effect_sr_t *s,
    ngx_buf_t *b)
{
    off_t    size;
    size_t   cap;
    u_char  *p;
    ssize_t  n;

    if (ngx_buf_in_memory(b)) {
        size = b->last - b->pos;

    } else if (b->in_file) {
        size = b->file_last - b->file_pos;

    } else {
        return NGX_OK;
    }

    if (size == 0 || s->too_large || s->done) {
        return NGX_OK;
    }

    if ((off_t) s->len + size > NGX_HTTP_DDT_EFFECT_BODY_MAX) {
        s->too_large = 1;
        return NGX_OK;
    }

    if (s->len + size > s->cap) {
        cap = ngx_max(s->cap * 2, s->len + (size_t) size);
        cap = ngx_max(cap, 1024);

        p = ngx_palloc(r->pool, cap);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (s->len) {
            ngx_memcpy(p, s->body, s->len);
        }

        if (s->body) {
            ngx_pfree(r->pool, s->body);
        }

        s->body = p;
        s->cap = cap;
    }

    if (ngx_buf_in_memory(b)) {
        ngx_memcpy(s->body + s->len, b->pos, size);

    } else {
        n = ngx_read_file(b->file, s->body + s->len, size, b->file_pos);
        if (n != size) {
            return NGX_ERROR;
        }
    }

    s->len += size;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ddt_effect_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t               *cl;
    ngx_http_ddt_effect_sr_t  *s;

    s = ngx_http_ddt_effect_sr_ctx(r);
    if (s == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {

        if (ngx_http_ddt_effect_capture(r, s, cl->buf) != NGX_OK) {
            return NGX_ERROR;
        }

        cl->buf->pos = cl->buf->last;

        if (cl->buf->in_file) {
            cl->buf->file_pos = cl->buf->file_last;
        }
    }

    return NGX_OK;
}


/* ---- configuration ----------------------------------------------------- */

/*
 * ddt_service NAME URI [openai [model=M]]: where the ner/llm layers naming
 * service NAME send their requests (a local URI, answered by a location of
 * the server), and the protocol the service speaks: the engine's own
 * documented JSON, or OpenAI chat-completions.
 */

char *
ngx_http_ddt_service(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ddt_main_conf_t  *mcf = conf;

    ngx_str_t               *value;
    ngx_uint_t               i;
    ngx_http_ddt_service_t  *sv;

    value = cf->args->elts;

    if (value[2].len == 0 || value[2].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "ddt_service \"%V\": \"%V\" is not a local URI "
                           "(it must start with /)", &value[1], &value[2]);
        return NGX_CONF_ERROR;
    }

    if (mcf->services == NULL) {
        mcf->services = ngx_array_create(cf->pool, 4,
                                         sizeof(ngx_http_ddt_service_t));
        if (mcf->services == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    sv = mcf->services->elts;

    for (i = 0; i < mcf->services->nelts; i++) {
        if (sv[i].name.len == value[1].len
            && ngx_strncmp(sv[i].name.data, value[1].data, value[1].len) == 0)
        {
            return "is duplicate for this service name";
        }
    }

    sv = ngx_array_push(mcf->services);
    if (sv == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(sv, sizeof(ngx_http_ddt_service_t));

    sv->name = value[1];
    sv->uri = value[2];
    sv->protocol = NGX_HTTP_DDT_SERVICE_DDT;

    for (i = 3; i < cf->args->nelts; i++) {

        if (i == 3 && ngx_strcmp(value[i].data, "openai") == 0) {
            sv->protocol = NGX_HTTP_DDT_SERVICE_OPENAI;
            continue;
        }

        if (sv->protocol == NGX_HTTP_DDT_SERVICE_OPENAI
            && ngx_strncmp(value[i].data, "model=", 6) == 0
            && sv->model.data == NULL)
        {
            sv->model.data = value[i].data + 6;
            sv->model.len = value[i].len - 6;

            if (sv->model.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "ddt_service \"%V\": empty model=",
                                   &value[1]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "ddt_service \"%V\": invalid parameter \"%V\" "
                           "(expected: ddt_service name uri "
                           "[openai [model=name]])", &value[1], &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
