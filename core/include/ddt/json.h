/*
 * ddt/json.h: the core's JSON value tree (arena-allocated, mutable, key order
 * kept), its strict parser (yajl underneath, plus the SPEC 9.8 rules for
 * untrusted input) and its writer.  Memory, session state, HTTP bodies and
 * project files all go through here.
 */
#ifndef DDT_JSON_H
#define DDT_JSON_H

#include <ddt/base.h>

typedef enum {
    DDT_J_NULL = 0,
    DDT_J_BOOL,
    DDT_J_NUM,
    DDT_J_STR,
    DDT_J_ARR,
    DDT_J_OBJ
} ddt_jtype_t;

typedef struct ddt_json_s  ddt_json_t;

typedef struct {
    const char   *key;                /* NUL-terminated, UTF-8 */
    size_t        klen;
    ddt_json_t   *val;
} ddt_jmember_t;

struct ddt_json_s {
    ddt_jtype_t   type;
    union {
        int       b;
        double    n;
        struct { const char *s; size_t len; }                 str;  /* NUL-terminated */
        struct { ddt_json_t **items; size_t len, cap; }       arr;
        struct { ddt_jmember_t *m; size_t len, cap; }         obj;
    } u;
};

/* Parse limits; zero fields mean the defaults in brackets. */
typedef struct {
    unsigned      max_depth;          /* [64]  nesting of arrays/objects */
} ddt_json_limits_t;

/* A parse error: what (message, without the position) and where (byte
 * offset, 1-based line and column). */
typedef struct {
    char          message[160];
    size_t        offset;
    unsigned      line, column;
} ddt_jerr_t;

/*
 * Strict parse of one JSON text: valid UTF-8 only (RFC 3629), no escaped lone
 * surrogate, no duplicate keys, no BOM, no trailing bytes after the value
 * (whitespace allowed), numbers inside the double range, depth limit.
 * Returns NULL and fills err on any violation.
 */
ddt_json_t *ddt_json_parse(ddt_arena_t *a, const char *buf, size_t len,
    const ddt_json_limits_t *lim, ddt_jerr_t *err);

/*
 * The same parse without yajl, for documents the core wrote itself and
 * reads on every request (the session state): it accepts the texts
 * ddt_json_parse accepts and builds the same tree, several times faster
 * (one difference: yajl lets a value be followed by an unterminated
 * string, this parser does not).  Strings point into one arena copy of
 * the text.  (json_fast.c)
 */
ddt_json_t *ddt_json_parse_fast(ddt_arena_t *a, const char *buf, size_t len,
    const ddt_json_limits_t *lim, ddt_jerr_t *err);

/* Constructors (arena-allocated). */
ddt_json_t *ddt_json_null(ddt_arena_t *a);
ddt_json_t *ddt_json_bool(ddt_arena_t *a, int b);
ddt_json_t *ddt_json_num(ddt_arena_t *a, double n);
ddt_json_t *ddt_json_str(ddt_arena_t *a, const char *s, size_t len);   /* copies */
ddt_json_t *ddt_json_strz(ddt_arena_t *a, const char *s);              /* copies */
ddt_json_t *ddt_json_arr(ddt_arena_t *a);
ddt_json_t *ddt_json_obj(ddt_arena_t *a);

int  ddt_json_push(ddt_arena_t *a, ddt_json_t *arr, ddt_json_t *v);
/* Set (replace or append) a member; the key is copied. */
int  ddt_json_set(ddt_arena_t *a, ddt_json_t *obj, const char *key,
    size_t klen, ddt_json_t *v);
int  ddt_json_setz(ddt_arena_t *a, ddt_json_t *obj, const char *key,
    ddt_json_t *v);
/* Set with a key that outlives the tree (a string literal): not copied. */
int  ddt_json_set_nocopy(ddt_arena_t *a, ddt_json_t *obj, const char *key,
    size_t klen, ddt_json_t *v);
#define ddt_json_setl(a, obj, lit, v) \
    ddt_json_set_nocopy(a, obj, "" lit "", sizeof(lit) - 1, v)

/* Remove a member (keeps the order of the others); 1 if it was there. */
int  ddt_json_del(ddt_json_t *obj, const char *key, size_t klen);

/* Lookups: NULL when absent or when obj is not an object. */
ddt_json_t *ddt_json_get(const ddt_json_t *obj, const char *key, size_t klen);
ddt_json_t *ddt_json_getz(const ddt_json_t *obj, const char *key);

/* Deep copy into another arena. */
ddt_json_t *ddt_json_clone(ddt_arena_t *a, const ddt_json_t *v);

/* Value equality: numbers by value (1 == 1.0), objects by members regardless
 * of order, arrays in order.  NULL counts as JSON null. */
int  ddt_json_equal(const ddt_json_t *x, const ddt_json_t *y);

int  ddt_json_is_int(const ddt_json_t *v);       /* a number with no fraction */

/*
 * Writer: compact JSON, UTF-8 kept as is, control characters and '"' '\\'
 * escaped; numbers written as integers when integral and |n| < 2^53, else
 * with the shortest "%.17g" form that reads back equal.
 */
int  ddt_json_write(ddt_buf_t *b, const ddt_json_t *v);
int  ddt_json_write_str(ddt_buf_t *b, const char *s, size_t len);  /* quoted, escaped */
int  ddt_json_write_num(ddt_buf_t *b, double n);

/* UTF-8 check (RFC 3629: no overlong forms, no surrogates, <= U+10FFFF). */
int  ddt_utf8_valid(const char *s, size_t len);

#endif
