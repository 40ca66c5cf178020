
/*
 * ngx_http_ddt_body.c: JSON request bodies.  The media type check (415),
 * the size limit (413: before reading when Content-Length says so, while
 * reading otherwise, through a request body filter that counts and drops
 * what is past the limit), reading with nginx's body reader, and joining
 * the body, in memory or buffered to a temporary file, into one buffer.
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


/* Counts body bytes; past the limit, drops them and remembers it. */

static ngx_int_t
ngx_http_ddt_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    off_t                size;
    ngx_chain_t         *cl, *last, **ll;
    ngx_http_ddt_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ddt_module);

    if (ctx == NULL || ctx->type != NGX_HTTP_DDT_CTX_API
        || !ctx->reading_body)
    {
        return ngx_http_next_request_body_filter(r, in);
    }

    size = 0;

    for (cl = in; cl; cl = cl->next) {
        size += ngx_buf_size(cl->buf);
    }

    ctx->body_seen += size;

    if (ctx->body_seen <= ctx->body_limit && !ctx->body_too_large) {
        return ngx_http_next_request_body_filter(r, in);
    }

    if (!ctx->body_too_large) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ddt: request body over %O bytes, discarding it",
                      ctx->body_limit);
    }

    ctx->body_too_large = 1;

    /* consume everything, pass on only the end of the body */

    last = NULL;
    ll = &last;

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;

        if (cl->buf->in_file) {
            cl->buf->file_pos = cl->buf->file_last;
        }

        if (cl->buf->last_buf) {
            *ll = cl;
            ll = &cl->next;
        }
    }

    if (last) {
        return ngx_http_next_request_body_filter(r, last);
    }

    return NGX_OK;
}


/*
 * After reading: the whole body in ctx->body (in place when it is one
 * buffer in memory, else joined in the pool; not NUL-terminated) and
 * NGX_OK; or NGX_DONE after a 413 reply when it went over the limit, with
 * *reply set to what the request is to be finalized with.
 */

ngx_int_t
ngx_http_ddt_body_collect(ngx_http_request_t *r, ngx_http_ddt_ctx_t *ctx,
    ngx_int_t *reply)
{
    off_t         len;
    u_char       *p;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ctx->reading_body = 0;


    len = 0;

    if (r->request_body) {
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            b = cl->buf;
            len += b->in_file ? b->file_last - b->file_pos
                              : b->last - b->pos;
        }
    }

    if (ctx->body_too_large || len > ctx->body_limit) {
        *reply = ngx_http_ddt_reply_error(r,
                                          NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                          "body_too_large",
                                          "the body is over %O bytes",
                                          ctx->body_limit);
        return NGX_DONE;
    }

    /* one buffer in memory (the usual case): read in place */

    cl = r->request_body ? r->request_body->bufs : NULL;

    if (cl && cl->next == NULL && !cl->buf->in_file
        && cl->buf->last - cl->buf->pos == len)
    {
        ctx->body = cl->buf->pos;
        ctx->body_len = len;
        return NGX_OK;
    }

    ctx->body = ngx_pnalloc(r->pool, len + 1);
    if (ctx->body == NULL) {
        *reply = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DONE;
    }

    p = ctx->body;

    if (r->request_body) {
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            b = cl->buf;

            if (b->in_file) {
                n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                                  b->file_pos);
                if (n != b->file_last - b->file_pos) {
                    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                                  "ddt: cannot read the buffered body");
                    *reply = NGX_HTTP_INTERNAL_SERVER_ERROR;
                    return NGX_DONE;
                }

                p += n;
                continue;
            }

            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    *p = '\0';
    ctx->body_len = p - ctx->body;

    return NGX_OK;
}
