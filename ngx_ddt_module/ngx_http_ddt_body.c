
/*
 * ngx_http_ddt_body.c: JSON request bodies.  The media type check (415),
 * the size limit (413: before reading when Content-Length says so, while
 * reading otherwise), reading with nginx's body reader, and a request body
 * filter that collects the body into one buffer in the pool as it arrives
 * (so a body never goes to a temporary file) and drops what is past the
 * limit.
 */

#include "ngx_http_ddt_module.h"


static ngx_int_t ngx_http_ddt_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_request_body_filter_pt   ngx_http_next_request_body_filter;


ngx_int_t
ngx_http_ddt_body_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = ngx_http_ddt_body_filter;

    return NGX_OK;
}


/*
 * application/json, case-insensitive, with optional parameters; a charset
 * parameter other than utf-8 is refused.
 */

static ngx_int_t
ngx_http_ddt_media_type_ok(ngx_str_t *ct)
{
    u_char  *p, *last, *v;
    size_t   n;

    static u_char  json[] = "application/json";

    p = ct->data;
    last = p + ct->len;

    if ((size_t) (last - p) < sizeof(json) - 1
        || ngx_strncasecmp(p, json, sizeof(json) - 1) != 0)
    {
        return 0;
    }

    p += sizeof(json) - 1;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p == last) {
        return 1;
    }

    if (*p != ';') {
        return 0;
    }

    /* parameters: only charset is looked at */

    while (p < last) {
        p++;

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if ((size_t) (last - p) >= sizeof("charset=") - 1
            && ngx_strncasecmp(p, (u_char *) "charset=",
                               sizeof("charset=") - 1) == 0)
        {
            v = p + sizeof("charset=") - 1;

            if (v < last && *v == '"') {
                v++;
            }

            for (n = 0; v + n < last && v[n] != '"' && v[n] != ';'
                        && v[n] != ' '; n++) { /* void */ }

            if (!((n == 5 && ngx_strncasecmp(v, (u_char *) "utf-8", 5) == 0)
                  || (n == 4 && ngx_strncasecmp(v, (u_char *) "utf8", 4) == 0)))
            {
                return 0;
            }
        }

        while (p < last && *p != ';') {
            p++;
        }
    }

    return 1;
}


/*
 * Before reading: 415 for another media type, 413 when Content-Length is
 * over the limit.  Returns NGX_OK to go on, or NGX_DONE after answering
 * with *reply set to what the request is to be finalized with.
 */

ngx_int_t
ngx_http_ddt_body_check(ngx_http_request_t *r, ngx_http_ddt_ctx_t *ctx,
    ngx_int_t *reply)
{
    ngx_int_t  rc;

    ctx->body_limit = ctx->lcf->max_body_size;

    if (r->headers_in.content_type == NULL
        || !ngx_http_ddt_media_type_ok(&r->headers_in.content_type->value))
    {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            *reply = rc;
            return NGX_DONE;
        }

        *reply = ngx_http_ddt_reply_error(r, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                          "unsupported_media_type",
                                          "the body must be application/json");
        return NGX_DONE;
    }

    if (r->headers_in.content_length_n > ctx->body_limit) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            *reply = rc;
            return NGX_DONE;
        }

        *reply = ngx_http_ddt_reply_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                          "body_too_large",
                                          "the body is over %O bytes",
                                          ctx->body_limit);
        return NGX_DONE;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_ddt_body_read(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt post)
{
    ngx_http_ddt_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ddt_module);
    ctx->reading_body = 1;

    return ngx_http_read_client_request_body(r, post);
}


/*
 * Collects the body into the request pool as it arrives, up to the limit;
 * past it, remembers that and drops the rest.  Every buffer is consumed
 * here and only the end-of-body mark goes on to nginx's save filter, so
 * nothing is buffered twice (or to a file) and a body over the limit never
 * fills nginx's buffers.
 */

static ngx_int_t
ngx_http_ddt_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    off_t                size;
    size_t               cap;
    u_char              *p;
    ngx_buf_t           *b;
    ngx_chain_t         *cl, *out, **ll;
    ngx_http_ddt_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ddt_module);

    if (ctx == NULL || ctx->type != NGX_HTTP_DDT_CTX_API
        || !ctx->reading_body)
    {
        return ngx_http_next_request_body_filter(r, in);
    }

    out = NULL;
    ll = &out;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;
        size = ngx_buf_in_memory(b) ? b->last - b->pos : 0;

        if (size && !ctx->body_too_large) {

            if (ctx->body_seen + size > ctx->body_limit) {
                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "ddt: request body over %O bytes, "
                              "discarding it", ctx->body_limit);
                ctx->body_too_large = 1;

            } else {
                if ((size_t) (ctx->body_seen + size) > ctx->body_cap) {
                    cap = ngx_max(ctx->body_cap * 2,
                                  (size_t) (ctx->body_seen + size));

                    if (ctx->body_cap == 0
                        && r->headers_in.content_length_n > 0)
                    {
                        /* the announced length, in one allocation */
                        cap = ngx_max(cap, (size_t)
                                      r->headers_in.content_length_n);

                    } else {
                        cap = ngx_max(cap, 4096);
                    }

                    cap = ngx_min(cap, (size_t) ctx->body_limit);

                    p = ngx_palloc(r->pool, cap);
                    if (p == NULL) {
                        return NGX_HTTP_INTERNAL_SERVER_ERROR;
                    }

                    if (ctx->body_seen) {
                        ngx_memcpy(p, ctx->body, ctx->body_seen);
                    }

                    if (ctx->body) {
                        ngx_pfree(r->pool, ctx->body);
                    }

                    ctx->body = p;
                    ctx->body_cap = cap;
                }

                ngx_memcpy(ctx->body + ctx->body_seen, b->pos, size);
                ctx->body_seen += size;
            }
        }

        b->pos = b->last;

        if (b->in_file) {
            b->file_pos = b->file_last;
        }

        if (b->last_buf) {
            *ll = ngx_alloc_chain_link(r->pool);
            if (*ll == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            (*ll)->buf = b;
            (*ll)->next = NULL;
            ll = &(*ll)->next;
        }
    }

    if (out) {
        return ngx_http_next_request_body_filter(r, out);
    }

    return NGX_OK;
}


/*
 * After reading: the whole body in ctx->body (collected by the filter, in
 * the pool; not NUL-terminated) and NGX_OK; or NGX_DONE after a 413 reply
 * when it went over the limit, with *reply set to what the request is to
 * be finalized with.
 */

ngx_int_t
ngx_http_ddt_body_collect(ngx_http_request_t *r, ngx_http_ddt_ctx_t *ctx,
    ngx_int_t *reply)
{
    ctx->reading_body = 0;

    if (ctx->body_too_large) {
        *reply = ngx_http_ddt_reply_error(r,
                                          NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                          "body_too_large",
                                          "the body is over %O bytes",
                                          ctx->body_limit);
        return NGX_DONE;
    }

    if (ctx->body == NULL) {
        ctx->body = (u_char *) "";
    }

    ctx->body_len = ctx->body_seen;

    return NGX_OK;
}
