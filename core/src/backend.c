/*
 * backend.c: the BackendCall task (SPEC 2, 7, 9.7): the HTTP effect the
 * host performs (method, rendered url, headers and body with typed
 * single-path strings), and its result: $backend.status and
 * $backend.error, `assign` by RFC 6901 pointer, onError continue or fail.
 */
#include <string.h>
#include <ddt/ddt.h>
#include "session.h"

#define DDT_BACKEND_MAX_BODY  (1024 * 1024)

ddt_run_t
ddt_backend_effect(const ddt_project_t *p, ddt_session_t *s,
    const ddt_btask_t *t, ddt_turn_result_t *res)
{
    ddt_json_t   *url, *headers, *body;
    ddt_effect_t *e = &res->effect;

    memset(e, 0, sizeof(*e));
    e->kind = DDT_EFFECT_HTTP;
    e->purpose = DDT_EFFECT_FOR_BACKEND;
    e->method = ddt_bs(p, t->name);
    if (e->method == NULL || e->method[0] == '\0') {
        e->method = "GET";
    }

    ddt_buf_reset(&s->scratch);
    if (t->a != DDT_NONE) {
        ddt_tmpl_render_url(p, t->a, s->memory, s->locale, &s->scratch);
    }
    url = s->scratch.oom ? NULL
          : ddt_json_str(&s->arena, s->scratch.data ? s->scratch.data : "",
                         s->scratch.len);
    if (url == NULL) {
        return ddt_fail(s, "internal", "out of memory%s", NULL);
    }
    e->url = url->u.str.s;

    headers = ddt_render_json(p, s, t->headers);
    if (headers != NULL) {
        ddt_buf_reset(&s->scratch);
        ddt_json_write(&s->scratch, headers);
        e->headers_json = ddt_arena_strndup(&s->arena, s->scratch.data,
                                            s->scratch.len);
    }

    body = ddt_render_json(p, s, t->json);
    if (body != NULL) {
        ddt_buf_reset(&s->effect_body);
        ddt_json_write(&s->effect_body, body);
        e->body = s->effect_body.data;
        e->body_len = s->effect_body.len;
    }

    e->timeout_ms = t->timeout_ms ? t->timeout_ms : 3000;

    s->wait = DDT_WAIT_BACKEND;
    res->need_effect = 1;
    return DDT_RUN_EFFECT;
}

/* RFC 6901 pointer into a JSON document; NULL when it leads nowhere. */
static const ddt_json_t *
ddt_json_pointer(const ddt_json_t *doc, const char *ptr, size_t len)
{
    size_t             i, j, k, idx;
    char               key[256];
    const ddt_json_t  *cur = doc;

    i = 0;
    while (i < len) {
        if (ptr[i] != '/' || cur == NULL) {
            return NULL;
        }
        i++;
        k = 0;
        for (j = i; j < len && ptr[j] != '/'; j++) {
            if (k + 1 >= sizeof(key)) {
                return NULL;
            }
            if (ptr[j] == '~' && j + 1 < len && ptr[j + 1] == '0') {
                key[k++] = '~'; j++;
            } else if (ptr[j] == '~' && j + 1 < len && ptr[j + 1] == '1') {
                key[k++] = '/'; j++;
            } else {
                key[k++] = ptr[j];
            }
        }
        key[k] = '\0';
        i = j;

        if (cur->type == DDT_J_OBJ) {
            cur = ddt_json_get(cur, key, k);
        } else if (cur->type == DDT_J_ARR) {
            if (k == 0 || (k > 1 && key[0] == '0')) {
                return NULL;
            }
            idx = 0;
            for (j = 0; j < k; j++) {
                if (key[j] < '0' || key[j] > '9' || idx > 100000000) {
                    return NULL;
                }
                idx = idx * 10 + (size_t) (key[j] - '0');
            }
            cur = idx < cur->u.arr.len ? cur->u.arr.items[idx] : NULL;
        } else {
            return NULL;
        }
    }
    return cur;
}

ddt_run_t
ddt_backend_result(const ddt_project_t *p, ddt_session_t *s,
    const ddt_effect_result_t *er)
{
    uint32_t            i;
    const char         *error;
    const ddt_btask_t  *t;
    const ddt_bassign_t *as;
    const ddt_json_t   *v;
    ddt_json_t         *doc, *val;
    ddt_jerr_t          jerr;
    ddt_arena_t        *a = &s->arena;

    t = &p->tasks[p->nodes[s->node].tasks.first + s->task];
    error = er->error;
    doc = NULL;

    if (error == NULL) {
        if (er->status < 200 || er->status > 299) {
            error = er->status == 0 ? "connect" : "status";
        } else if (er->body_len > DDT_BACKEND_MAX_BODY) {
            error = "too_large";
        } else if (t->assigns.count > 0) {
            doc = er->body ? ddt_json_parse(a, er->body, er->body_len, NULL,
                                            &jerr)
                           : NULL;
            if (doc == NULL) {
                error = "bad_json";
            }
        }
    }

    ddt_mem_set_dotted(a, s->memory, "$backend.status", 15,
                       ddt_json_num(a, er->status));
    ddt_mem_set_dotted(a, s->memory, "$backend.error", 14,
                       error ? ddt_json_strz(a, error) : ddt_json_null(a));

    s->wait = DDT_WAIT_NONE;
    s->t.critical = 1;

    if (error != NULL) {
        if (t->on_error == DDT_ONERROR_FAIL) {
            return ddt_fail(s, "backend_failed", "BackendCall failed: %s",
                            error);
        }
        s->task++;
        return DDT_RUN_GO;
    }

    for (i = 0; i < t->assigns.count; i++) {
        as = &p->assigns[t->assigns.first + i];
        v = ddt_json_pointer(doc, ddt_bs(p, as->pointer), as->pointer.len);
        val = v ? (ddt_json_t *) v : ddt_json_null(a);
        ddt_mem_set(a, p, s->memory, as->path, val);
    }

    s->task++;
    return DDT_RUN_GO;
}
