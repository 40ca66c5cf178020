
/*
 * ngx_http_ddt_reply.c: every answer the module sends: JSON bodies, the
 * SPEC 9.4 error object {"error": {"code", "message"}} with its status
 * (counted in metrics by code), 405 with Allow, 204, and text for metrics.
 * Bodies are built in the request pool and sent as one buffer.
 */

#include "ngx_http_ddt_module.h"
#include "ngx_http_ddt_zone.h"


static const char  *ngx_http_ddt_err_codes[] = {
    "bad_json",
    "bad_input",
    "session_not_found",
    "project_not_found",
    "not_found",
    "method_not_allowed",
    "conflict",
    "session_exists",
    "session_closed",
    "session_expired",
    "project_version_gone",
    "body_too_large",
    "unsupported_media_type",
    "invalid_project",
    "turn_id_reused",
    "store_unavailable",
    "internal",
    NULL
};


static ngx_str_t  ngx_http_ddt_json_type =
    ngx_string("application/json");


size_t
ngx_http_ddt_json_str_len(u_char *s, size_t len)
{
    return len + 2 + ngx_escape_json(NULL, s, len);
}


/* A quoted, escaped JSON string; p must have json_str_len bytes. */

u_char *
ngx_http_ddt_json_str(u_char *p, u_char *s, size_t len)
{
    *p++ = '"';
    p = (u_char *) ngx_escape_json(p, s, len);
    *p++ = '"';

    return p;
}


static ngx_uint_t
ngx_http_ddt_err_index(const char *code)
{
    ngx_uint_t  i;

    for (i = 0; ngx_http_ddt_err_codes[i]; i++) {
        if (ngx_strcmp(ngx_http_ddt_err_codes[i], code) == 0) {
            return i;
        }
    }

    return NGX_HTTP_DDT_E_OTHER;
}


/* send the headers already set, then the body unless header_only */

static ngx_int_t
ngx_http_ddt_reply_send(ngx_http_request_t *r, u_char *data, size_t len,
    ngx_uint_t last_buf)
{
    ngx_int_t    rc;
    ngx_buf_t   *b;
    ngx_chain_t  out;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = data;
    b->last = data + len;
    b->memory = 1;
    b->last_buf = last_buf;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_ddt_reply_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *data, size_t len)
{
    r->headers_out.status = status;

    /* nginx has no reason phrase for 422: send "HTTP/1.1 422 " no more */
    if (status == 422) {
        ngx_str_set(&r->headers_out.status_line, "422 Unprocessable Entity");
    }

    r->headers_out.content_type = ngx_http_ddt_json_type;
    r->headers_out.content_type_len = ngx_http_ddt_json_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = len;

    if (r->method == NGX_HTTP_HEAD || len == 0) {
        r->header_only = 1;
    }

    return ngx_http_ddt_reply_send(r, data, len, (r == r->main) ? 1 : 0);
}


ngx_int_t
ngx_http_ddt_reply_text(ngx_http_request_t *r, ngx_str_t *type, u_char *data,
    size_t len)
{
    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = len;

    if (r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
    }

    return ngx_http_ddt_reply_send(r, data, len, 1);
}


ngx_int_t
ngx_http_ddt_reply_empty(ngx_http_request_t *r, ngx_uint_t status)
{
    r->headers_out.status = status;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    return ngx_http_send_header(r);
}


/*
 * {"error":{"code":"...","message":"..."}}.  Client mistakes are logged at
 * info, server-side failures (5xx) at error.
 */

ngx_int_t
ngx_http_ddt_reply_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *fmt, ...)
{
    u_char                    *p, *body;
    size_t                     len, clen;
    ngx_uint_t                 level;
    va_list                    args;
    u_char                     msg[512], *last;
    ngx_http_ddt_main_conf_t  *mcf;

    va_start(args, fmt);
    last = ngx_vslprintf(msg, msg + sizeof(msg), fmt, args);
    va_end(args);

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ddt_module);
    if (mcf && mcf->sh) {
        ngx_http_ddt_metrics_error(mcf, ngx_http_ddt_err_index(code));
    }

    level = (status >= NGX_HTTP_INTERNAL_SERVER_ERROR) ? NGX_LOG_ERR
                                                       : NGX_LOG_INFO;

    /* the store logs its outage once per burst, not once per request */
    if (ngx_strcmp(code, "store_unavailable") == 0) {
        level = NGX_LOG_INFO;
    }

    ngx_log_error(level, r->connection->log, 0, "ddt: %ui %s: %*s",
                  status, code, last - msg, msg);

    clen = ngx_strlen(code);

    len = sizeof("{\"error\":{\"code\":,\"message\":}}") - 1
          + ngx_http_ddt_json_str_len((u_char *) code, clen)
          + ngx_http_ddt_json_str_len(msg, last - msg);

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(body, "{\"error\":{\"code\":",
                   sizeof("{\"error\":{\"code\":") - 1);
    p = ngx_http_ddt_json_str(p, (u_char *) code, clen);
    p = ngx_cpymem(p, ",\"message\":", sizeof(",\"message\":") - 1);
    p = ngx_http_ddt_json_str(p, msg, last - msg);
    *p++ = '}';
    *p++ = '}';

    return ngx_http_ddt_reply_json(r, status, body, p - body);
}


ngx_int_t
ngx_http_ddt_reply_core_error(ngx_http_request_t *r, const ddt_err_t *err)
{
    ngx_uint_t   status;
    const char  *code;

    status = err->http ? (ngx_uint_t) err->http
                       : NGX_HTTP_INTERNAL_SERVER_ERROR;
    code = err->code ? err->code : "internal";

    return ngx_http_ddt_reply_error(r, status, code, "%s",
                                    err->message[0] ? err->message
                                                    : "the core failed");
}


ngx_int_t
ngx_http_ddt_reply_405(ngx_http_request_t *r, const char *allow)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Allow");
    h->value.data = (u_char *) allow;
    h->value.len = ngx_strlen(allow);

    return ngx_http_ddt_reply_error(r, NGX_HTTP_NOT_ALLOWED,
                                    "method_not_allowed",
                                    "method %V is not allowed here "
                                    "(allowed: %s)",
                                    &r->method_name, allow);
}
