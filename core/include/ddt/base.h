/*
 * ddt/base.h: the core's foundation types: arenas, growable buffers, error
 * values, and the enums shared by the compiler, the engine and the hosts
 * (kinds, steps, locales, task types).  No I/O, no globals.
 */
#ifndef DDT_BASE_H
#define DDT_BASE_H

#include <stddef.h>
#include <stdint.h>

#define DDT_OK      0
#define DDT_ERROR  -1

#define DDT_NONE    0xffffffffu   /* "absent" index or offset */

/* Arena: many small allocations, one free.  Chunks are malloc'd. */
typedef struct ddt_arena_chunk_s  ddt_arena_chunk_t;

typedef struct {
    ddt_arena_chunk_t  *head;
    size_t              chunk_size;   /* default 8 KiB */
    size_t              total;        /* bytes handed out */
} ddt_arena_t;

void  ddt_arena_init(ddt_arena_t *a, size_t chunk_size);
void *ddt_arena_alloc(ddt_arena_t *a, size_t size);       /* 8-aligned, zeroed; NULL on OOM */
void *ddt_arena_alloc_nz(ddt_arena_t *a, size_t size);    /* not zeroed */
char *ddt_arena_strndup(ddt_arena_t *a, const char *s, size_t len); /* NUL-terminated */
void  ddt_arena_reset(ddt_arena_t *a);                    /* keeps the first chunk */
void  ddt_arena_free(ddt_arena_t *a);

/* Growable byte buffer (malloc'd).  Always NUL-terminated after use. */
typedef struct {
    char    *data;
    size_t   len;
    size_t   cap;
    int      oom;                     /* sticky: set when a realloc failed */
} ddt_buf_t;

void ddt_buf_init(ddt_buf_t *b);
void ddt_buf_free(ddt_buf_t *b);
void ddt_buf_reset(ddt_buf_t *b);
int  ddt_buf_add_slow(ddt_buf_t *b, const void *p, size_t n);
/* Room for n more bytes and the NUL (writers that fill data directly). */
int  ddt_buf_reserve(ddt_buf_t *b, size_t n);

/* Appends are on every hot path (responses, state): the common case, room
 * in the buffer, is inline; growing goes through ddt_buf_add_slow. */
static inline int
ddt_buf_add(ddt_buf_t *b, const void *p, size_t n)
{
    if (b->len + n + 1 <= b->cap && !b->oom) {
        if (n) {
            __builtin_memcpy(b->data + b->len, p, n);
        }
        b->len += n;
        b->data[b->len] = '\0';
        return DDT_OK;
    }
    return ddt_buf_add_slow(b, p, n);
}

static inline int
ddt_buf_addc(ddt_buf_t *b, char c)
{
    if (b->len + 2 <= b->cap && !b->oom) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return DDT_OK;
    }
    return ddt_buf_add_slow(b, &c, 1);
}
int  ddt_buf_adds(ddt_buf_t *b, const char *s);
int  ddt_buf_printf(ddt_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * An error as a value: an API code (the SPEC 9.4 error codes: "bad_json",
 * "bad_input", ...), the HTTP status a host should answer with, and a
 * message for a person.
 */
typedef struct {
    const char  *code;
    int          http;
    char         message[256];
} ddt_err_t;

void ddt_err_set(ddt_err_t *e, int http, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

typedef enum {
    DDT_LOCALE_IT = 0,                /* it-IT */
    DDT_LOCALE_EN,                    /* en-US */
    DDT_LOCALE_COUNT
} ddt_locale_t;

int         ddt_locale_parse(const char *s, size_t len, ddt_locale_t *out);
const char *ddt_locale_name(ddt_locale_t l);

typedef enum {
    DDT_KIND_NONE = 0,                /* a value with no kind (variables) */
    DDT_KIND_TEXT,
    DDT_KIND_NUMBER,
    DDT_KIND_INTEGER,
    DDT_KIND_DATE,
    DDT_KIND_TIME,
    DDT_KIND_MONTH,
    DDT_KIND_YESNO,
    DDT_KIND_CHOICE,
    DDT_KIND_EMAIL,
    DDT_KIND_PHONE,
    DDT_KIND_POSTALCODE,
    DDT_KIND_FISCALCODE,
    DDT_KIND_IBAN,
    DDT_KIND_AMOUNT,
    DDT_KIND_COMPOSITE,
    DDT_KIND_COUNT
} ddt_kind_t;

int         ddt_kind_parse(const char *s, size_t len, ddt_kind_t *out);
const char *ddt_kind_name(ddt_kind_t k);

typedef enum {
    DDT_STEP_START = 0,
    DDT_STEP_NOMATCH,
    DDT_STEP_NOINPUT,
    DDT_STEP_CONFIRMATION,
    DDT_STEP_NOTCONFIRMED,
    DDT_STEP_INVALID,
    DDT_STEP_SUCCESS,
    DDT_STEP_COUNT
} ddt_step_t;

int         ddt_step_parse(const char *s, size_t len, ddt_step_t *out);
const char *ddt_step_name(ddt_step_t s);

/* Counters and limits, in this order everywhere. */
typedef enum {
    DDT_EV_NOMATCH = 0,
    DDT_EV_NOINPUT,
    DDT_EV_NOTCONFIRMED,
    DDT_EV_INVALID,
    DDT_EV_COUNT
} ddt_event_t;

typedef enum {
    DDT_TASK_SAY = 0,                 /* SayMessage */
    DDT_TASK_GETDATA,
    DDT_TASK_BACKEND,                 /* BackendCall */
    DDT_TASK_SETVAR,                  /* SetVariable */
    DDT_TASK_ENDCALL,
    DDT_TASK_TRANSFER,                /* TransferToOperator */
    DDT_TASK_EMAIL,                   /* SendEmail */
    DDT_TASK_SMS,                     /* SendSMS */
    DDT_TASK_CUSTOM,
    DDT_TASK_COUNT
} ddt_task_type_t;

int         ddt_task_type_parse(const char *s, size_t len, ddt_task_type_t *out);
const char *ddt_task_type_name(ddt_task_type_t t);

typedef enum {
    DDT_CONFIRM_NEVER = 0,
    DDT_CONFIRM_ALWAYS,
    DDT_CONFIRM_IFUNCERTAIN
} ddt_confirm_t;

typedef enum {
    DDT_LAYER_REGEX = 0,
    DDT_LAYER_PARSER,
    DDT_LAYER_NER,
    DDT_LAYER_LLM,
    DDT_LAYER_VALUES                  /* only as a $layer name */
} ddt_layer_type_t;

const char *ddt_layer_name(ddt_layer_type_t t);

#endif
