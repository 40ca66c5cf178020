/*
 * base.c: arenas, growable buffers, error values and the names of the
 * shared enums (kinds, steps, locales, task types, layers).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ddt/base.h>

struct ddt_arena_chunk_s {
    ddt_arena_chunk_t  *next;
    size_t              size;       /* usable bytes after the header */
    size_t              used;
    /* data follows, 16-aligned */
};

#define DDT_CHUNK_HDR  ((sizeof(ddt_arena_chunk_t) + 15) & ~(size_t) 15)

void
ddt_arena_init(ddt_arena_t *a, size_t chunk_size)
{
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : 8192;
    a->total = 0;
}

/* Room for size bytes, not zeroed: the callers that fill every byte (big
 * scratch structs, copies) skip the memset. */
void *
ddt_arena_alloc_nz(ddt_arena_t *a, size_t size)
{
    ddt_arena_chunk_t  *c;
    size_t              want;
    char               *p;

    size = (size + 7) & ~(size_t) 7;
    if (size == 0) {
        size = 8;
    }

    c = a->head;
    if (c == NULL || c->size - c->used < size) {
        want = a->chunk_size;
        if (size > want / 4) {
            /* a big allocation gets its own chunk, kept behind the head so
             * the head's free space stays usable */
            want = size;
        }
        c = malloc(DDT_CHUNK_HDR + want);
        if (c == NULL) {
            return NULL;
        }
        c->size = want;
        c->used = 0;
        if (want == size && a->head != NULL) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }

    p = (char *) c + DDT_CHUNK_HDR + c->used;
    c->used += size;
    a->total += size;
    return p;
}

void *
ddt_arena_alloc(ddt_arena_t *a, size_t size)
{
    void  *p;

    p = ddt_arena_alloc_nz(a, size);
    if (p != NULL) {
        memset(p, 0, (size + 7) & ~(size_t) 7);
    }
    return p;
}

char *
ddt_arena_strndup(ddt_arena_t *a, const char *s, size_t len)
{
    char  *p;

    p = ddt_arena_alloc_nz(a, len + 1);
    if (p == NULL) {
        return NULL;
    }
    if (len) {
        memcpy(p, s, len);
    }
    p[len] = '\0';
    return p;
}

void
ddt_arena_reset(ddt_arena_t *a)
{
    ddt_arena_chunk_t  *c, *next, *keep;

    keep = NULL;
    for (c = a->head; c; c = next) {
        next = c->next;
        if (keep == NULL && c->size == a->chunk_size) {
            keep = c;
            continue;
        }
        free(c);
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    a->head = keep;
    a->total = 0;
}

void
ddt_arena_free(ddt_arena_t *a)
{
    ddt_arena_chunk_t  *c, *next;

    for (c = a->head; c; c = next) {
        next = c->next;
        free(c);
    }
    a->head = NULL;
    a->total = 0;
}

void
ddt_buf_init(ddt_buf_t *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->oom = 0;
}

void
ddt_buf_free(ddt_buf_t *b)
{
    free(b->data);
    ddt_buf_init(b);
}

void
ddt_buf_reset(ddt_buf_t *b)
{
    b->len = 0;
    b->oom = 0;
    if (b->data) {
        b->data[0] = '\0';
    }
}

static int
ddt_buf_grow(ddt_buf_t *b, size_t extra)
{
    size_t  cap;
    char   *p;

    if (b->oom) {
        return DDT_ERROR;
    }
    if (b->len + extra + 1 <= b->cap) {
        return DDT_OK;
    }
    cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        cap *= 2;
    }
    p = realloc(b->data, cap);
    if (p == NULL) {
        b->oom = 1;
        return DDT_ERROR;
    }
    b->data = p;
    b->cap = cap;
    return DDT_OK;
}

int
ddt_buf_reserve(ddt_buf_t *b, size_t n)
{
    return ddt_buf_grow(b, n);
}

int
ddt_buf_add_slow(ddt_buf_t *b, const void *p, size_t n)
{
    if (ddt_buf_grow(b, n) != DDT_OK) {
        return DDT_ERROR;
    }
    if (n) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return DDT_OK;
}

int
ddt_buf_adds(ddt_buf_t *b, const char *s)
{
    return ddt_buf_add(b, s, strlen(s));
}

int
ddt_buf_printf(ddt_buf_t *b, const char *fmt, ...)
{
    va_list  ap;
    int      n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || ddt_buf_grow(b, (size_t) n) != DDT_OK) {
        return DDT_ERROR;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t) n;
    return DDT_OK;
}

void
ddt_err_set(ddt_err_t *e, int http, const char *code, const char *fmt, ...)
{
    va_list  ap;

    if (e == NULL) {
        return;
    }
    e->http = http;
    e->code = code;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
}

/* Enum names: one table each, looked up both ways. */

static int
ddt_name_lookup(const char *const *names, int n, const char *s, size_t len)
{
    int  i;

    for (i = 0; i < n; i++) {
        if (names[i] && strlen(names[i]) == len
            && memcmp(names[i], s, len) == 0)
        {
            return i;
        }
    }
    return -1;
}

static const char *const ddt_locale_names[DDT_LOCALE_COUNT] = {
    "it-IT", "en-US"
};

int
ddt_locale_parse(const char *s, size_t len, ddt_locale_t *out)
{
    int  i = ddt_name_lookup(ddt_locale_names, DDT_LOCALE_COUNT, s, len);

    if (i < 0) {
        return DDT_ERROR;
    }
    *out = (ddt_locale_t) i;
    return DDT_OK;
}

const char *
ddt_locale_name(ddt_locale_t l)
{
    return (unsigned) l < DDT_LOCALE_COUNT ? ddt_locale_names[l] : "?";
}

static const char *const ddt_kind_names[DDT_KIND_COUNT] = {
    NULL, "text", "number", "integer", "date", "time", "month", "yesno",
    "choice", "email", "phone", "postalCode", "fiscalCode", "iban", "amount",
    "composite"
};

int
ddt_kind_parse(const char *s, size_t len, ddt_kind_t *out)
{
    int  i = ddt_name_lookup(ddt_kind_names, DDT_KIND_COUNT, s, len);

    if (i < 0) {
        return DDT_ERROR;
    }
    *out = (ddt_kind_t) i;
    return DDT_OK;
}

const char *
ddt_kind_name(ddt_kind_t k)
{
    if ((unsigned) k >= DDT_KIND_COUNT || ddt_kind_names[k] == NULL) {
        return "none";
    }
    return ddt_kind_names[k];
}

static const char *const ddt_step_names[DDT_STEP_COUNT] = {
    "start", "noMatch", "noInput", "confirmation", "notConfirmed", "invalid",
    "success"
};

int
ddt_step_parse(const char *s, size_t len, ddt_step_t *out)
{
    int  i = ddt_name_lookup(ddt_step_names, DDT_STEP_COUNT, s, len);

    if (i < 0) {
        return DDT_ERROR;
    }
    *out = (ddt_step_t) i;
    return DDT_OK;
}

const char *
ddt_step_name(ddt_step_t s)
{
    return (unsigned) s < DDT_STEP_COUNT ? ddt_step_names[s] : "?";
}

static const char *const ddt_task_names[DDT_TASK_COUNT] = {
    "SayMessage", "GetData", "BackendCall", "SetVariable", "EndCall",
    "TransferToOperator", "SendEmail", "SendSMS", "Custom"
};

int
ddt_task_type_parse(const char *s, size_t len, ddt_task_type_t *out)
{
    int  i = ddt_name_lookup(ddt_task_names, DDT_TASK_COUNT, s, len);

    if (i < 0) {
        return DDT_ERROR;
    }
    *out = (ddt_task_type_t) i;
    return DDT_OK;
}

const char *
ddt_task_type_name(ddt_task_type_t t)
{
    return (unsigned) t < DDT_TASK_COUNT ? ddt_task_names[t] : "?";
}

const char *
ddt_layer_name(ddt_layer_type_t t)
{
    static const char *const names[] = {
        "regex", "parser", "ner", "llm", "values"
    };

    return (unsigned) t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}
