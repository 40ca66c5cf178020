/*
 * json.c: the JSON value tree, its strict parser and its writer.
 *
 * Parsing uses yajl's event parser to build the tree and adds the rules
 * SPEC 9.8 sets for untrusted input that yajl does not enforce by itself:
 * strict RFC 3629 UTF-8 (yajl accepts overlong forms and encoded
 * surrogates), no escaped lone surrogate (yajl turns it into '?'), no
 * duplicate keys, no BOM, a depth limit, numbers inside the double range.
 * Duplicate keys: an object of fewer than 16 keys is scanned, a bigger
 * one goes to a hash table (one per parse), so a hostile object with many
 * keys costs linear time and a small request body allocates no table.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl_parse.h>

#include <ddt/json.h>
#include "json_int.h"

#define DDT_JSON_DEFAULT_DEPTH  64
#define DDT_JSON_SCAN_KEYS      16    /* duplicate keys: scan below this */

/* ---- constructors and accessors ------------------------------------- */

static ddt_json_t *
ddt_json_new(ddt_arena_t *a, ddt_jtype_t t)
{
    ddt_json_t  *v = ddt_arena_alloc(a, sizeof(ddt_json_t));

    if (v) {
        v->type = t;
    }
    return v;
}

ddt_json_t *
ddt_json_null(ddt_arena_t *a)
{
    return ddt_json_new(a, DDT_J_NULL);
}

ddt_json_t *
ddt_json_bool(ddt_arena_t *a, int b)
{
    ddt_json_t  *v = ddt_json_new(a, DDT_J_BOOL);

    if (v) {
        v->u.b = b ? 1 : 0;
    }
    return v;
}

ddt_json_t *
ddt_json_num(ddt_arena_t *a, double n)
{
    ddt_json_t  *v = ddt_json_new(a, DDT_J_NUM);

    if (v) {
        v->u.n = n;
    }
    return v;
}

ddt_json_t *
ddt_json_str(ddt_arena_t *a, const char *s, size_t len)
{
    ddt_json_t  *v = ddt_json_new(a, DDT_J_STR);

    if (v) {
        v->u.str.s = ddt_arena_strndup(a, s, len);
        if (v->u.str.s == NULL) {
            return NULL;
        }
        v->u.str.len = len;
    }
    return v;
}

ddt_json_t *
ddt_json_strz(ddt_arena_t *a, const char *s)
{
    return ddt_json_str(a, s, strlen(s));
}

ddt_json_t *
ddt_json_arr(ddt_arena_t *a)
{
    return ddt_json_new(a, DDT_J_ARR);
}

ddt_json_t *
ddt_json_obj(ddt_arena_t *a)
{
    return ddt_json_new(a, DDT_J_OBJ);
}

int
ddt_json_push(ddt_arena_t *a, ddt_json_t *arr, ddt_json_t *v)
{
    ddt_json_t  **items;
    size_t        cap;

    if (arr == NULL || arr->type != DDT_J_ARR || v == NULL) {
        return DDT_ERROR;
    }
    if (arr->u.arr.len == arr->u.arr.cap) {
        cap = arr->u.arr.cap ? arr->u.arr.cap * 2 : 4;
        items = ddt_arena_alloc(a, cap * sizeof(ddt_json_t *));
        if (items == NULL) {
            return DDT_ERROR;
        }
        if (arr->u.arr.len) {
            memcpy(items, arr->u.arr.items,
                   arr->u.arr.len * sizeof(ddt_json_t *));
        }
        arr->u.arr.items = items;
        arr->u.arr.cap = cap;
    }
    arr->u.arr.items[arr->u.arr.len++] = v;
    return DDT_OK;
}

static int
ddt_json_append_member(ddt_arena_t *a, ddt_json_t *obj, const char *key,
    size_t klen, ddt_json_t *v, int copy)
{
    ddt_jmember_t  *m;
    size_t          cap;

    if (obj->u.obj.len == obj->u.obj.cap) {
        cap = obj->u.obj.cap ? obj->u.obj.cap * 2 : 4;
        m = ddt_arena_alloc(a, cap * sizeof(ddt_jmember_t));
        if (m == NULL) {
            return DDT_ERROR;
        }
        if (obj->u.obj.len) {
            memcpy(m, obj->u.obj.m, obj->u.obj.len * sizeof(ddt_jmember_t));
        }
        obj->u.obj.m = m;
        obj->u.obj.cap = cap;
    }
    m = &obj->u.obj.m[obj->u.obj.len];
    m->key = copy ? ddt_arena_strndup(a, key, klen) : key;
    if (m->key == NULL) {
        return DDT_ERROR;
    }
    m->klen = klen;
    m->val = v;
    obj->u.obj.len++;
    return DDT_OK;
}

/* Replace the member `key` or append it; copy says whether the key is
 * copied into the arena. */
static int
ddt_json_put(ddt_arena_t *a, ddt_json_t *obj, const char *key, size_t klen,
    ddt_json_t *v, int copy)
{
    size_t  i;

    if (obj == NULL || obj->type != DDT_J_OBJ || v == NULL) {
        return DDT_ERROR;
    }
    for (i = 0; i < obj->u.obj.len; i++) {
        if (obj->u.obj.m[i].klen == klen
            && memcmp(obj->u.obj.m[i].key, key, klen) == 0)
        {
            obj->u.obj.m[i].val = v;
            return DDT_OK;
        }
    }
    return ddt_json_append_member(a, obj, key, klen, v, copy);
}

int
ddt_json_set(ddt_arena_t *a, ddt_json_t *obj, const char *key, size_t klen,
    ddt_json_t *v)
{
    return ddt_json_put(a, obj, key, klen, v, 1);
}

int
ddt_json_set_nocopy(ddt_arena_t *a, ddt_json_t *obj, const char *key,
    size_t klen, ddt_json_t *v)
{
    return ddt_json_put(a, obj, key, klen, v, 0);
}

int
ddt_json_setz(ddt_arena_t *a, ddt_json_t *obj, const char *key,
    ddt_json_t *v)
{
    return ddt_json_set(a, obj, key, strlen(key), v);
}

int
ddt_json_del(ddt_json_t *obj, const char *key, size_t klen)
{
    size_t  i;

    if (obj == NULL || obj->type != DDT_J_OBJ) {
        return 0;
    }
    for (i = 0; i < obj->u.obj.len; i++) {
        if (obj->u.obj.m[i].klen == klen
            && memcmp(obj->u.obj.m[i].key, key, klen) == 0)
        {
            memmove(&obj->u.obj.m[i], &obj->u.obj.m[i + 1],
                    (obj->u.obj.len - i - 1) * sizeof(ddt_jmember_t));
            obj->u.obj.len--;
            return 1;
        }
    }
    return 0;
}

ddt_json_t *
ddt_json_get(const ddt_json_t *obj, const char *key, size_t klen)
{
    size_t  i;

    if (obj == NULL || obj->type != DDT_J_OBJ) {
        return NULL;
    }
    for (i = 0; i < obj->u.obj.len; i++) {
        if (obj->u.obj.m[i].klen == klen
            && memcmp(obj->u.obj.m[i].key, key, klen) == 0)
        {
            return obj->u.obj.m[i].val;
        }
    }
    return NULL;
}

ddt_json_t *
ddt_json_getz(const ddt_json_t *obj, const char *key)
{
    return ddt_json_get(obj, key, strlen(key));
}

ddt_json_t *
ddt_json_clone(ddt_arena_t *a, const ddt_json_t *v)
{
    ddt_json_t  *c;
    size_t       i;

    if (v == NULL) {
        return ddt_json_null(a);
    }
    switch (v->type) {
    case DDT_J_NULL:
        return ddt_json_null(a);
    case DDT_J_BOOL:
        return ddt_json_bool(a, v->u.b);
    case DDT_J_NUM:
        return ddt_json_num(a, v->u.n);
    case DDT_J_STR:
        return ddt_json_str(a, v->u.str.s, v->u.str.len);
    case DDT_J_ARR:
        c = ddt_json_arr(a);
        if (c == NULL) {
            return NULL;
        }
        for (i = 0; i < v->u.arr.len; i++) {
            if (ddt_json_push(a, c, ddt_json_clone(a, v->u.arr.items[i]))
                != DDT_OK)
            {
                return NULL;
            }
        }
        return c;
    case DDT_J_OBJ:
        c = ddt_json_obj(a);
        if (c == NULL) {
            return NULL;
        }
        for (i = 0; i < v->u.obj.len; i++) {
            ddt_json_t  *m = ddt_json_clone(a, v->u.obj.m[i].val);

            if (m == NULL
                || ddt_json_append_member(a, c, v->u.obj.m[i].key,
                                          v->u.obj.m[i].klen, m, 1)
                   != DDT_OK)
            {
                return NULL;
            }
        }
        return c;
    }
    return NULL;
}

int
ddt_json_equal(const ddt_json_t *x, const ddt_json_t *y)
{
    size_t       i;
    ddt_json_t  *o;

    if (x == NULL || y == NULL) {
        return (x == NULL || x->type == DDT_J_NULL)
               && (y == NULL || y->type == DDT_J_NULL);
    }
    if (x->type != y->type) {
        return 0;
    }
    switch (x->type) {
    case DDT_J_NULL:
        return 1;
    case DDT_J_BOOL:
        return x->u.b == y->u.b;
    case DDT_J_NUM:
        return x->u.n == y->u.n;
    case DDT_J_STR:
        return x->u.str.len == y->u.str.len
               && memcmp(x->u.str.s, y->u.str.s, x->u.str.len) == 0;
    case DDT_J_ARR:
        if (x->u.arr.len != y->u.arr.len) {
            return 0;
        }
        for (i = 0; i < x->u.arr.len; i++) {
            if (!ddt_json_equal(x->u.arr.items[i], y->u.arr.items[i])) {
                return 0;
            }
        }
        return 1;
    case DDT_J_OBJ:
        if (x->u.obj.len != y->u.obj.len) {
            return 0;
        }
        for (i = 0; i < x->u.obj.len; i++) {
            o = ddt_json_get(y, x->u.obj.m[i].key, x->u.obj.m[i].klen);
            if (o == NULL || !ddt_json_equal(x->u.obj.m[i].val, o)) {
                return 0;
            }
        }
        return 1;
    }
    return 0;
}

int
ddt_json_is_int(const ddt_json_t *v)
{
    return v && v->type == DDT_J_NUM && isfinite(v->u.n)
           && v->u.n == floor(v->u.n);
}

/* ---- UTF-8 ------------------------------------------------------------ */

int
ddt_utf8_valid(const char *str, size_t len)
{
    const unsigned char  *s = (const unsigned char *) str;
    size_t                i = 0;
    unsigned              c;

    while (i < len) {
        c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 >= len || (s[i + 1] & 0xC0) != 0x80) {
                return 0;
            }
            i += 2;
            continue;
        }
        if (c >= 0xE0 && c <= 0xEF) {
            if (i + 2 >= len || (s[i + 1] & 0xC0) != 0x80
                || (s[i + 2] & 0xC0) != 0x80)
            {
                return 0;
            }
            if (c == 0xE0 && s[i + 1] < 0xA0) {
                return 0;               /* overlong */
            }
            if (c == 0xED && s[i + 1] >= 0xA0) {
                return 0;               /* UTF-16 surrogate */
            }
            i += 3;
            continue;
        }
        if (c >= 0xF0 && c <= 0xF4) {
            if (i + 3 >= len || (s[i + 1] & 0xC0) != 0x80
                || (s[i + 2] & 0xC0) != 0x80 || (s[i + 3] & 0xC0) != 0x80)
            {
                return 0;
            }
            if (c == 0xF0 && s[i + 1] < 0x90) {
                return 0;               /* overlong */
            }
            if (c == 0xF4 && s[i + 1] >= 0x90) {
                return 0;               /* above U+10FFFF */
            }
            i += 4;
            continue;
        }
        return 0;
    }
    return 1;
}

/* ---- parser ------------------------------------------------------------ */

typedef struct {
    const ddt_json_t  *obj;
    uint64_t           hash;
} ddt_jkey_slot_t;

typedef struct {
    ddt_arena_t       *a;
    ddt_json_t        *root;
    ddt_json_t       **stack;        /* open containers */
    unsigned           depth, max_depth;
    const char        *key;          /* pending key of the innermost object */
    size_t             klen;
    const char        *error;        /* our own error, beats yajl's */
    /* duplicate-key detection: (object, key hash) set */
    ddt_jkey_slot_t   *slots;
    size_t             nslots, used;
} ddt_jparse_t;

static uint64_t
ddt_jhash(const ddt_json_t *obj, const char *k, size_t len)
{
    uint64_t  h = 1469598103934665603ULL ^ (uint64_t) (uintptr_t) obj;
    size_t    i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char) k[i];
        h *= 1099511628211ULL;
    }
    return h | 1;                     /* 0 marks an empty slot */
}

/* 1 if (obj, key) was already seen; the key compare is exact on a hash hit
 * by scanning the object (rare). */
static int
ddt_jkey_seen(ddt_jparse_t *p, const ddt_json_t *obj, const char *k,
    size_t len, int check)
{
    uint64_t          h;
    size_t            i, n;
    ddt_jkey_slot_t  *ns;
    int               dup = 0;

    if (p->used * 2 >= p->nslots) {
        n = p->nslots ? p->nslots * 2 : 64;
        ns = calloc(n, sizeof(*ns));
        if (ns == NULL) {
            return -1;
        }
        for (i = 0; i < p->nslots; i++) {
            if (p->slots[i].hash) {
                size_t  j = p->slots[i].hash & (n - 1);

                while (ns[j].hash) {
                    j = (j + 1) & (n - 1);
                }
                ns[j] = p->slots[i];
            }
        }
        free(p->slots);
        p->slots = ns;
        p->nslots = n;
    }

    h = ddt_jhash(obj, k, len);
    i = h & (p->nslots - 1);
    while (p->slots[i].hash) {
        if (check && p->slots[i].hash == h && p->slots[i].obj == obj) {
            dup = ddt_json_get(obj, k, len) != NULL;
            if (dup) {
                return 1;
            }
        }
        i = (i + 1) & (p->nslots - 1);
    }
    p->slots[i].hash = h;
    p->slots[i].obj = obj;
    p->used++;
    return 0;
}

static int
ddt_jp_add(ddt_jparse_t *p, ddt_json_t *v)
{
    ddt_json_t  *top;

    if (v == NULL) {
        p->error = "out of memory";
        return 0;
    }
    if (p->depth == 0) {
        p->root = v;
        return 1;
    }
    top = p->stack[p->depth - 1];
    if (top->type == DDT_J_ARR) {
        if (ddt_json_push(p->a, top, v) != DDT_OK) {
            p->error = "out of memory";
            return 0;
        }
        return 1;
    }
    if (ddt_json_append_member(p->a, top, p->key, p->klen, v, 0) != DDT_OK) {
        p->error = "out of memory";
        return 0;
    }
    return 1;
}

static int
ddt_jp_null(void *ctx)
{
    ddt_jparse_t  *p = ctx;

    return ddt_jp_add(p, ddt_json_null(p->a));
}

static int
ddt_jp_bool(void *ctx, int b)
{
    ddt_jparse_t  *p = ctx;

    return ddt_jp_add(p, ddt_json_bool(p->a, b));
}

static int
ddt_jp_number(void *ctx, const char *s, size_t len)
{
    ddt_jparse_t  *p = ctx;
    char           tmp[64], *end, *heap = NULL;
    const char    *z;
    double         d;

    if (len < sizeof(tmp)) {
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        z = tmp;
    } else {
        heap = malloc(len + 1);
        if (heap == NULL) {
            p->error = "out of memory";
            return 0;
        }
        memcpy(heap, s, len);
        heap[len] = '\0';
        z = heap;
    }
    errno = 0;
    d = strtod(z, &end);
    free(heap);
    if (!isfinite(d) || (errno == ERANGE && fabs(d) > 1.0)) {
        p->error = "number outside the range of a double";
        return 0;
    }
    return ddt_jp_add(p, ddt_json_num(p->a, d));
}

static int
ddt_jp_string(void *ctx, const unsigned char *s, size_t len)
{
    ddt_jparse_t  *p = ctx;

    return ddt_jp_add(p, ddt_json_str(p->a, (const char *) s, len));
}

static int
ddt_jp_open(ddt_jparse_t *p, ddt_json_t *v)
{
    if (p->depth >= p->max_depth) {
        p->error = "nesting too deep";
        return 0;
    }
    if (!ddt_jp_add(p, v)) {
        return 0;
    }
    p->stack[p->depth++] = v;
    return 1;
}

static int
ddt_jp_start_map(void *ctx)
{
    ddt_jparse_t  *p = ctx;

    return ddt_jp_open(p, ddt_json_obj(p->a));
}

static int
ddt_jp_start_array(void *ctx)
{
    ddt_jparse_t  *p = ctx;

    return ddt_jp_open(p, ddt_json_arr(p->a));
}

static int
ddt_jp_end(void *ctx)
{
    ddt_jparse_t  *p = ctx;

    p->depth--;
    return 1;
}

static int
ddt_jp_map_key(void *ctx, const unsigned char *k, size_t len)
{
    ddt_jparse_t  *p = ctx;
    ddt_json_t    *top = p->stack[p->depth - 1];
    int            seen;
    size_t         i;

    /* a small object is scanned (no table to allocate for a request
     * body); from the 16th key on, its keys go to the hash set */
    if (top->u.obj.len < DDT_JSON_SCAN_KEYS) {
        seen = ddt_json_get(top, (const char *) k, len) != NULL;
    } else {
        seen = 0;
        if (top->u.obj.len == DDT_JSON_SCAN_KEYS) {
            for (i = 0; i < DDT_JSON_SCAN_KEYS && seen == 0; i++) {
                /* keys already in: no check, just entered */
                seen = ddt_jkey_seen(p, top, top->u.obj.m[i].key,
                                     top->u.obj.m[i].klen, 0);
            }
        }
        if (seen == 0) {
            seen = ddt_jkey_seen(p, top, (const char *) k, len, 1);
        }
    }
    if (seen) {
        p->error = seen < 0 ? "out of memory" : "duplicate key";
        return 0;
    }
    p->key = ddt_arena_strndup(p->a, (const char *) k, len);
    if (p->key == NULL) {
        p->error = "out of memory";
        return 0;
    }
    p->klen = len;
    return 1;
}

static const yajl_callbacks ddt_jp_callbacks = {
    ddt_jp_null, ddt_jp_bool, NULL, NULL, ddt_jp_number, ddt_jp_string,
    ddt_jp_start_map, ddt_jp_map_key, ddt_jp_end,
    ddt_jp_start_array, ddt_jp_end
};

void
ddt_jerr_at(ddt_jerr_t *err, const char *buf, size_t len, size_t off,
    const char *msg)
{
    size_t  i;

    if (err == NULL) {
        return;
    }
    if (off > len) {
        off = len;
    }
    err->offset = off;
    err->line = 1;
    err->column = 1;
    for (i = 0; i < off; i++) {
        if (buf[i] == '\n') {
            err->line++;
            err->column = 1;
        } else if (((unsigned char) buf[i] & 0xC0) != 0x80) {
            err->column++;
        }
    }
    snprintf(err->message, sizeof(err->message), "%s", msg);
}

int
ddt_json_hex4(const char *s, unsigned *out)
{
    unsigned  v = 0;
    int       i;

    for (i = 0; i < 4; i++) {
        char  c = s[i];

        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (unsigned) (c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= (unsigned) (c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= (unsigned) (c - 'A' + 10);
        } else {
            return 0;
        }
    }
    *out = v;
    return 1;
}

/* Offset of the first \u escape of a lone surrogate, or len when none.
 * Only escapes inside strings matter; outside strings a backslash is a
 * syntax error that yajl reports. */
static size_t
ddt_find_lone_surrogate(const char *b, size_t len)
{
    size_t    i;
    int       in_str = 0;
    unsigned  u, lo;

    for (i = 0; i < len; i++) {
        if (!in_str) {
            if (b[i] == '"') {
                in_str = 1;
            }
            continue;
        }
        if (b[i] == '"') {
            in_str = 0;
            continue;
        }
        if (b[i] != '\\') {
            continue;
        }
        if (i + 1 >= len) {
            break;
        }
        if (b[i + 1] != 'u') {
            i++;
            continue;
        }
        if (i + 6 > len || !ddt_json_hex4(b + i + 2, &u)) {
            i++;
            continue;
        }
        if (u >= 0xDC00 && u <= 0xDFFF) {
            return i;
        }
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (i + 12 > len || b[i + 6] != '\\' || b[i + 7] != 'u'
                || !ddt_json_hex4(b + i + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF)
            {
                return i;
            }
            i += 11;
            continue;
        }
        i += 5;
    }
    return len;
}

/* Offset of the first invalid UTF-8 byte sequence. */
size_t
ddt_utf8_bad_offset(const char *s, size_t len)
{
    size_t          i = 0, n;
    unsigned char   c;

    while (i < len) {
        c = (unsigned char) s[i];
        n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        if (i + n > len || !ddt_utf8_valid(s + i, n)) {
            return i;
        }
        i += n;
    }
    return len;
}

/*
 * Offset just after the first JSON value of a text yajl accepted.  yajl
 * keeps an unterminated token after the value in its lexer and still says
 * ok ("{} \"abc"), so the "nothing after the value" rule is checked here:
 * a linear scan that only needs to tell strings from the rest.
 */
static size_t
ddt_json_value_end(const char *b, size_t len)
{
    size_t  i = 0, depth = 0;

    while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n'
                       || b[i] == '\r'))
    {
        i++;
    }
    if (i < len && b[i] != '{' && b[i] != '[' && b[i] != '"') {
        while (i < len && (b[i] == '-' || b[i] == '+' || b[i] == '.'
                           || (b[i] >= '0' && b[i] <= '9')
                           || (b[i] >= 'a' && b[i] <= 'z')
                           || (b[i] >= 'A' && b[i] <= 'Z')))
        {
            i++;
        }
        return i;
    }
    for (; i < len; i++) {
        if (b[i] == '"') {
            for (i++; i < len && b[i] != '"'; i++) {
                if (b[i] == '\\') {
                    i++;
                }
            }
            if (depth == 0) {
                return i + 1;
            }
        } else if (b[i] == '{' || b[i] == '[') {
            depth++;
        } else if (b[i] == '}' || b[i] == ']') {
            if (--depth == 0) {
                return i + 1;
            }
        }
    }
    return len;
}

ddt_json_t *
ddt_json_parse(ddt_arena_t *a, const char *buf, size_t len,
    const ddt_json_limits_t *lim, ddt_jerr_t *err)
{
    ddt_jparse_t   p;
    yajl_handle    h;
    yajl_status    st;
    size_t         off;
    unsigned char *msg;
    ddt_json_t    *stack_small[64];

    if (err) {
        memset(err, 0, sizeof(*err));
    }
    if (len == 0) {
        ddt_jerr_at(err, buf, len, 0, "empty body");
        return NULL;
    }
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        ddt_jerr_at(err, buf, len, 0, "byte order mark not allowed");
        return NULL;
    }
    if (!ddt_utf8_valid(buf, len)) {
        ddt_jerr_at(err, buf, len, ddt_utf8_bad_offset(buf, len),
                    "invalid UTF-8");
        return NULL;
    }
    /* yajl takes \v and \f as white space; RFC 8259 does not, and inside a
     * string a raw control character is refused anyway */
    for (off = 0; off < len; off++) {
        if (buf[off] == '\v' || buf[off] == '\f') {
            ddt_jerr_at(err, buf, len, off, "invalid character");
            return NULL;
        }
    }
    off = ddt_find_lone_surrogate(buf, len);
    if (off < len) {
        ddt_jerr_at(err, buf, len, off, "escaped lone surrogate");
        return NULL;
    }

    memset(&p, 0, sizeof(p));
    p.a = a;
    p.max_depth = (lim && lim->max_depth) ? lim->max_depth
                                          : DDT_JSON_DEFAULT_DEPTH;
    if (p.max_depth <= 64) {
        p.stack = stack_small;
    } else {
        p.stack = ddt_arena_alloc(a, p.max_depth * sizeof(ddt_json_t *));
        if (p.stack == NULL) {
            ddt_jerr_at(err, buf, len, 0, "out of memory");
            return NULL;
        }
    }

    h = yajl_alloc(&ddt_jp_callbacks, NULL, &p);
    if (h == NULL) {
        ddt_jerr_at(err, buf, len, 0, "out of memory");
        return NULL;
    }
    st = yajl_parse(h, (const unsigned char *) buf, len);
    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);
    }
    if (st != yajl_status_ok || p.root == NULL || p.depth != 0) {
        off = yajl_get_bytes_consumed(h);
        if (p.error) {
            ddt_jerr_at(err, buf, len, off ? off - 1 : 0, p.error);
        } else if (st == yajl_status_ok) {
            ddt_jerr_at(err, buf, len, len, "incomplete JSON value");
        } else {
            msg = yajl_get_error(h, 0, NULL, 0);
            ddt_jerr_at(err, buf, len, off,
                        msg ? (const char *) msg : "syntax error");
            if (msg) {
                yajl_free_error(h, msg);
            }
        }
        yajl_free(h);
        free(p.slots);
        return NULL;
    }
    yajl_free(h);
    free(p.slots);

    off = ddt_json_value_end(buf, len);
    while (off < len && (buf[off] == ' ' || buf[off] == '\t'
                         || buf[off] == '\n' || buf[off] == '\r'))
    {
        off++;
    }
    if (off < len) {
        ddt_jerr_at(err, buf, len, off, "trailing bytes after the JSON value");
        return NULL;
    }
    return p.root;
}

/* ---- writer ------------------------------------------------------------ */

/* 1 for the bytes a JSON string cannot hold as they are */
static const unsigned char ddt_json_esc[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,      /* '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0       /* '\\' */
};

#define DDT_ONES   0x0101010101010101ULL
#define DDT_HIGHS  0x8080808080808080ULL

/* No byte of the word needs escaping: none < 0x20, '"' or '\\'. */
static inline int
ddt_json_word_plain(uint64_t x)
{
    uint64_t  q = x ^ (DDT_ONES * '"'), k = x ^ (DDT_ONES * '\\');

    /* exact for "is there such a byte", the classic has-zero test */
    return ((((x - DDT_ONES * 0x20) & ~x)
             | ((q - DDT_ONES) & ~q)
             | ((k - DDT_ONES) & ~k)) & DDT_HIGHS) == 0;
}

/*
 * Quoted and escaped.  Room for the worst case (6 bytes a byte) is made
 * once, then the string is copied a word at a time while no byte of the
 * word needs an escape.
 */
int
ddt_json_write_str(ddt_buf_t *b, const char *s, size_t len)
{
    static const char  hex[] = "0123456789abcdef";
    size_t             i, end;
    unsigned char      c;
    char              *w;
    uint64_t           x;

    if (b->oom || b->len + len * 6 + 3 > b->cap) {
        if (len > ((size_t) -1 - 3) / 6
            || ddt_buf_reserve(b, len * 6 + 2) != DDT_OK)
        {
            b->oom = 1;
            return DDT_ERROR;
        }
    }

    w = b->data + b->len;
    *w++ = '"';
    i = 0;
    for ( ;; ) {
        while (i + 8 <= len) {
            memcpy(&x, s + i, 8);
            if (!ddt_json_word_plain(x)) {
                break;
            }
            memcpy(w, &x, 8);
            w += 8;
            i += 8;
        }

        /* the tail, or the word holding a byte to escape, byte by byte */
        end = len - i > 8 ? i + 8 : len;
        for ( /* void */ ; i < end; i++) {
            c = (unsigned char) s[i];
            if (!ddt_json_esc[c]) {
                *w++ = (char) c;
                continue;
            }
            *w++ = '\\';
            switch (c) {
            case '"':  *w++ = '"'; break;
            case '\\': *w++ = '\\'; break;
            case '\n': *w++ = 'n'; break;
            case '\r': *w++ = 'r'; break;
            case '\t': *w++ = 't'; break;
            default:
                *w++ = 'u'; *w++ = '0'; *w++ = '0';
                *w++ = hex[c >> 4]; *w++ = hex[c & 15];
            }
        }
        if (i >= len) {
            break;
        }
    }
    *w++ = '"';
    *w = '\0';
    b->len = (size_t) (w - b->data);
    return DDT_OK;
}

int
ddt_json_write_num(ddt_buf_t *b, double n)
{
    char  tmp[40];

    if (!isfinite(n)) {
        return ddt_buf_add(b, "null", 4);
    }
    if (n == floor(n) && fabs(n) < 9007199254740992.0) {
        /* integers without printf: they are most numbers we write
         * (versions, counters, dates); -0 is written as 0 */
        uint64_t  u = (uint64_t) fabs(n);
        char     *e = tmp + sizeof(tmp), *q = e;

        do {
            *--q = (char) ('0' + u % 10);
            u /= 10;
        } while (u);
        if (n < 0) {
            *--q = '-';
        }
        return ddt_buf_add(b, q, (size_t) (e - q));
    }
    snprintf(tmp, sizeof(tmp), "%.15g", n);
    if (strtod(tmp, NULL) != n) {
        snprintf(tmp, sizeof(tmp), "%.16g", n);
        if (strtod(tmp, NULL) != n) {
            snprintf(tmp, sizeof(tmp), "%.17g", n);
        }
    }
    return ddt_buf_adds(b, tmp);
}

int
ddt_json_write(ddt_buf_t *b, const ddt_json_t *v)
{
    size_t  i;

    if (v == NULL) {
        return ddt_buf_add(b, "null", 4);
    }
    switch (v->type) {
    case DDT_J_NULL:
        return ddt_buf_add(b, "null", 4);
    case DDT_J_BOOL:
        return v->u.b ? ddt_buf_add(b, "true", 4) : ddt_buf_add(b, "false", 5);
    case DDT_J_NUM:
        return ddt_json_write_num(b, v->u.n);
    case DDT_J_STR:
        return ddt_json_write_str(b, v->u.str.s, v->u.str.len);
    case DDT_J_ARR:
        ddt_buf_addc(b, '[');
        for (i = 0; i < v->u.arr.len; i++) {
            if (i) {
                ddt_buf_addc(b, ',');
            }
            ddt_json_write(b, v->u.arr.items[i]);
        }
        return ddt_buf_addc(b, ']');
    case DDT_J_OBJ:
        ddt_buf_addc(b, '{');
        for (i = 0; i < v->u.obj.len; i++) {
            if (i) {
                ddt_buf_addc(b, ',');
            }
            ddt_json_write_str(b, v->u.obj.m[i].key, v->u.obj.m[i].klen);
            ddt_buf_addc(b, ':');
            ddt_json_write(b, v->u.obj.m[i].val);
        }
        return ddt_buf_addc(b, '}');
    }
    return DDT_ERROR;
}
