/*
 * json_fast.c: a second strict JSON parser, without yajl, for the documents
 * the core reads on every request that it wrote itself (the session state).
 * It accepts what ddt_json_parse accepts (RFC 8259, strict UTF-8, no
 * escaped lone surrogate, no duplicate key, no BOM, depth limit, numbers
 * inside the double range, yajl's whitespace) and builds the same tree,
 * but cheaply (fuzz_json checks both agree; the one difference: yajl takes
 * a value followed by an unterminated string, this parser refuses it):
 *
 *   - the text is copied once into the arena and strings are decoded in
 *     place there (a decoded string is never longer than its source), so a
 *     string costs no allocation of its own;
 *   - members and items wait on one scratch stack until their container
 *     closes, then get one exact-size array;
 *   - value nodes are carved from blocks of the arena;
 *   - integers of up to 15 digits are converted without strtod.
 *
 * A stored state is still input: corrupt bytes are refused with an error,
 * never trusted.  ddt_json_parse (yajl) stays the parser of request bodies.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ddt/json.h>
#include "json_int.h"

#define DDT_JF_DEFAULT_DEPTH   64
#define DDT_JF_NODE_BLOCK      32
#define DDT_JF_LINEAR_KEYS     24      /* past this, keys go to a hash set */

typedef struct {
    uint64_t      hash;               /* 0: empty */
    uint64_t      id;                 /* the object */
    size_t        idx;                /* scratch index of the member */
} ddt_jf_slot_t;

typedef struct {
    ddt_arena_t     *a;
    char            *p, *end, *base;  /* the arena copy, NUL at end */
    unsigned         depth, max_depth;
    const char      *error;
    char            *error_at;

    ddt_jmember_t   *st;              /* scratch: members and items */
    size_t           n, cap;
    ddt_jmember_t    st_small[64];

    ddt_json_t      *nodes;           /* free nodes of the current block */
    size_t           n_nodes;
    size_t           block;           /* nodes a block holds */

    ddt_jf_slot_t   *slots;           /* duplicate keys of big objects */
    size_t           nslots, used;
    uint64_t         obj_id;

    ddt_json_spans_t *spans;          /* NULL, or the items to locate */
    ddt_json_t       *span_arr;       /* that array, once met */
} ddt_jf_t;

static int ddt_jf_value(ddt_jf_t *f, ddt_json_t *v);

/* 1: a byte that ends the plain run of a string ('"', '\\', < 0x20) */
static const unsigned char ddt_jf_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0
};

/* 1: JSON white space (RFC 8259: \t \n \r and space; the strict parser
 * refuses \v and \f too) */
static const unsigned char ddt_jf_space[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1
};

static int
ddt_jf_fail(ddt_jf_t *f, const char *at, const char *msg)
{
    if (f->error == NULL) {
        f->error = msg;
        f->error_at = (char *) at;
    }
    return DDT_ERROR;
}

static inline ddt_json_t *
ddt_jf_node(ddt_jf_t *f)
{
    if (f->n_nodes == 0) {
        f->nodes = ddt_arena_alloc(f->a, f->block * sizeof(ddt_json_t));
        if (f->nodes == NULL) {
            return NULL;
        }
        f->n_nodes = f->block;
    }
    f->n_nodes--;
    return f->nodes++;
}

static int
ddt_jf_grow(ddt_jf_t *f)
{
    ddt_jmember_t  *ns;
    size_t          ncap;

    ncap = f->cap * 2;
    ns = malloc(ncap * sizeof(*ns));
    if (ns == NULL) {
        return ddt_jf_fail(f, f->p, "out of memory");
    }
    memcpy(ns, f->st, f->n * sizeof(*ns));
    if (f->st != f->st_small) {
        free(f->st);
    }
    f->st = ns;
    f->cap = ncap;
    return DDT_OK;
}

static inline int
ddt_jf_push(ddt_jf_t *f, const char *key, size_t klen, ddt_json_t *v)
{
    if (f->n == f->cap && ddt_jf_grow(f) != DDT_OK) {
        return DDT_ERROR;
    }
    f->st[f->n].key = key;
    f->st[f->n].klen = klen;
    f->st[f->n].val = v;
    f->n++;
    return DDT_OK;
}

static inline void
ddt_jf_ws(ddt_jf_t *f)
{
    char  *p = f->p;

    /* yajl's whitespace, so both parsers accept the same texts */
    while (ddt_jf_space[(unsigned char) *p]) {
        p++;
    }
    f->p = p;
}

/*
 * A string starting after its opening quote; decoded in place, NUL
 * terminated.  The text was checked as UTF-8 as a whole before.
 */
static int
ddt_jf_string(ddt_jf_t *f, const char **out, size_t *len)
{
    unsigned char  *p, *w, *start;
    unsigned        u, lo;

    start = (unsigned char *) f->p;
    p = start;

    /* the common case: no escape */
    for ( ;; ) {
        while (!ddt_jf_stop[*p]) {
            p++;
        }
        if (*p == '"') {
            *p = '\0';
            *out = (const char *) start;
            *len = (size_t) (p - start);
            f->p = (char *) p + 1;
            return DDT_OK;
        }
        if (*p == '\\') {
            break;
        }
        if (*p < 0x20) {
            if (p == (unsigned char *) f->end) {
                return ddt_jf_fail(f, (char *) p, "unterminated string");
            }
            return ddt_jf_fail(f, (char *) p,
                               "invalid character inside string");
        }
        p++;
    }

    w = p;
    for ( ;; ) {
        if (*p == '"') {
            break;
        }
        if (*p < 0x20) {
            if (p == (unsigned char *) f->end) {
                return ddt_jf_fail(f, (char *) p, "unterminated string");
            }
            return ddt_jf_fail(f, (char *) p,
                               "invalid character inside string");
        }
        if (*p != '\\') {
            *w++ = *p++;
            continue;
        }
        p++;
        switch (*p) {
        case '"':  *w++ = '"'; p++; continue;
        case '\\': *w++ = '\\'; p++; continue;
        case '/':  *w++ = '/'; p++; continue;
        case 'b':  *w++ = '\b'; p++; continue;
        case 'f':  *w++ = '\f'; p++; continue;
        case 'n':  *w++ = '\n'; p++; continue;
        case 'r':  *w++ = '\r'; p++; continue;
        case 't':  *w++ = '\t'; p++; continue;
        case 'u':
            break;
        default:
            return ddt_jf_fail(f, (char *) p - 1,
                               "invalid escape inside string");
        }
        /* the bytes up to the NUL at the end are readable: hex4 stops at
         * the first non-hex byte */
        if (!ddt_json_hex4((char *) p + 1, &u)) {
            return ddt_jf_fail(f, (char *) p - 1,
                               "invalid \\u escape inside string");
        }
        if (u >= 0xDC00 && u <= 0xDFFF) {
            return ddt_jf_fail(f, (char *) p - 1, "escaped lone surrogate");
        }
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (p[5] != '\\' || p[6] != 'u'
                || !ddt_json_hex4((char *) p + 7, &lo)
                || lo < 0xDC00 || lo > 0xDFFF)
            {
                return ddt_jf_fail(f, (char *) p - 1,
                                   "escaped lone surrogate");
            }
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            p += 11;
        } else {
            p += 5;
        }
        /* the encoding is never longer than the escape (6 or 12 bytes) */
        if (u < 0x80) {
            *w++ = (unsigned char) u;
        } else if (u < 0x800) {
            *w++ = (unsigned char) (0xC0 | (u >> 6));
            *w++ = (unsigned char) (0x80 | (u & 0x3F));
        } else if (u < 0x10000) {
            *w++ = (unsigned char) (0xE0 | (u >> 12));
            *w++ = (unsigned char) (0x80 | ((u >> 6) & 0x3F));
            *w++ = (unsigned char) (0x80 | (u & 0x3F));
        } else {
            *w++ = (unsigned char) (0xF0 | (u >> 18));
            *w++ = (unsigned char) (0x80 | ((u >> 12) & 0x3F));
            *w++ = (unsigned char) (0x80 | ((u >> 6) & 0x3F));
            *w++ = (unsigned char) (0x80 | (u & 0x3F));
        }
    }

    *w = '\0';
    *out = (const char *) start;
    *len = (size_t) (w - start);
    f->p = (char *) p + 1;
    return DDT_OK;
}

static int
ddt_jf_number(ddt_jf_t *f, ddt_json_t *v)
{
    char      *p = f->p, *s = f->p, *digits, *end, save;
    int        neg = 0, frac = 0;
    uint64_t   u = 0;
    double     d;

    if (*p == '-') {
        neg = 1;
        p++;
    }
    digits = p;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (*p >= '0' && *p <= '9') {
            u = u * 10 + (uint64_t) (*p - '0');
            p++;
        }
    } else {
        return ddt_jf_fail(f, s, "invalid number");
    }
    if (*p == '.') {
        frac = 1;
        p++;
        if (!(*p >= '0' && *p <= '9')) {
            return ddt_jf_fail(f, s, "invalid number");
        }
        while (*p >= '0' && *p <= '9') {
            p++;
        }
    }
    if (*p == 'e' || *p == 'E') {
        frac = 1;
        p++;
        if (*p == '+' || *p == '-') {
            p++;
        }
        if (!(*p >= '0' && *p <= '9')) {
            return ddt_jf_fail(f, s, "invalid number");
        }
        while (*p >= '0' && *p <= '9') {
            p++;
        }
    }

    v->type = DDT_J_NUM;
    if (!frac && p - digits <= 15) {
        /* exact in a double */
        d = (double) u;
        v->u.n = neg ? -d : d;
        f->p = p;
        return DDT_OK;
    }

    /* the byte after the number is a delimiter strtod stops at, or the
     * final NUL; cut there anyway so strtod sees exactly the number */
    save = *p;
    *p = '\0';
    errno = 0;
    d = strtod(s, &end);
    *p = save;
    if (end != p) {
        return ddt_jf_fail(f, s, "invalid number");
    }
    if (!isfinite(d) || (errno == ERANGE && fabs(d) > 1.0)) {
        return ddt_jf_fail(f, s, "number outside the range of a double");
    }
    v->u.n = d;
    f->p = p;
    return DDT_OK;
}

static uint64_t
ddt_jf_hash(uint64_t id, const char *k, size_t len)
{
    uint64_t  h = 1469598103934665603ULL ^ (id * 0x9E3779B97F4A7C15ULL);
    size_t    i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char) k[i];
        h *= 1099511628211ULL;
    }
    return h | 1;
}

/* Insert scratch member idx of object id; 1 if its key was already there. */
static int
ddt_jf_key_seen(ddt_jf_t *f, uint64_t id, size_t idx)
{
    ddt_jf_slot_t  *ns;
    size_t          i, j, n;
    uint64_t        h;
    ddt_jmember_t  *m = &f->st[idx], *o;

    if (f->used * 2 >= f->nslots) {
        n = f->nslots ? f->nslots * 2 : 128;
        ns = calloc(n, sizeof(*ns));
        if (ns == NULL) {
            return -1;
        }
        for (i = 0; i < f->nslots; i++) {
            if (f->slots[i].hash) {
                j = f->slots[i].hash & (n - 1);
                while (ns[j].hash) {
                    j = (j + 1) & (n - 1);
                }
                ns[j] = f->slots[i];
            }
        }
        free(f->slots);
        f->slots = ns;
        f->nslots = n;
    }

    h = ddt_jf_hash(id, m->key, m->klen);
    i = h & (f->nslots - 1);
    while (f->slots[i].hash) {
        if (f->slots[i].hash == h && f->slots[i].id == id) {
            /* the object is the open one, so its members are in place */
            o = &f->st[f->slots[i].idx];
            if (o->klen == m->klen
                && memcmp(o->key, m->key, m->klen) == 0)
            {
                return 1;
            }
        }
        i = (i + 1) & (f->nslots - 1);
    }
    f->slots[i].hash = h;
    f->slots[i].id = id;
    f->slots[i].idx = idx;
    f->used++;
    return 0;
}

/* After an item of an object or array: 1 when a ',' says more follow,
 * 0 when the closing bracket ends it, else DDT_ERROR. */
static inline int
ddt_jf_sep(ddt_jf_t *f, char close)
{
    ddt_jf_ws(f);
    if (*f->p == ',') {
        f->p++;
        ddt_jf_ws(f);
        return 1;
    }
    if (*f->p == close) {
        f->p++;
        return 0;
    }
    return ddt_jf_fail(f, f->p, close == '}'
                                ? "',' or '}' expected in an object"
                                : "',' or ']' expected in an array");
}

static int
ddt_jf_object(ddt_jf_t *f, ddt_json_t *v)
{
    size_t          first, i, n, h;
    const char     *key;
    size_t          klen;
    ddt_json_t     *val;
    ddt_jmember_t  *m;
    uint64_t        id, mask, bit;
    int             seen, rc;

    v->type = DDT_J_OBJ;
    mask = 0;
    first = f->n;
    id = ++f->obj_id;

    ddt_jf_ws(f);
    if (*f->p == '}') {
        f->p++;
        return DDT_OK;
    }

    for ( ;; ) {
        if (*f->p != '"') {
            return ddt_jf_fail(f, f->p, "object key expected");
        }
        f->p++;
        if (ddt_jf_string(f, &key, &klen) != DDT_OK) {
            return DDT_ERROR;
        }

        n = f->n - first;
        /* a 64-bit filter of (length, first and last byte): the members
         * are compared only when a key like this one may have been seen */
        h = klen * 7;
        if (klen) {
            h += (size_t) (unsigned char) key[0] * 3
                 + (unsigned char) key[klen - 1];
        }
        bit = (uint64_t) 1 << (h & 63);
        if (n < DDT_JF_LINEAR_KEYS && (mask & bit)) {
            for (i = first; i < f->n; i++) {
                if (f->st[i].klen == klen
                    && memcmp(f->st[i].key, key, klen) == 0)
                {
                    return ddt_jf_fail(f, key, "duplicate key");
                }
            }
        }
        mask |= bit;

        ddt_jf_ws(f);
        if (*f->p != ':') {
            return ddt_jf_fail(f, f->p, "':' expected after an object key");
        }
        f->p++;
        ddt_jf_ws(f);

        val = ddt_jf_node(f);
        if (val == NULL || ddt_jf_push(f, key, klen, val) != DDT_OK) {
            return ddt_jf_fail(f, f->p, "out of memory");
        }

        if (n >= DDT_JF_LINEAR_KEYS) {
            if (n == DDT_JF_LINEAR_KEYS) {
                /* this object got big: hash the keys seen so far */
                for (i = first; i < f->n - 1; i++) {
                    if (ddt_jf_key_seen(f, id, i) < 0) {
                        return ddt_jf_fail(f, f->p, "out of memory");
                    }
                }
            }
            seen = ddt_jf_key_seen(f, id, f->n - 1);
            if (seen) {
                return ddt_jf_fail(f, key, seen < 0 ? "out of memory"
                                                    : "duplicate key");
            }
        }

        if (f->spans != NULL && f->depth == 1
            && klen == f->spans->klen
            && memcmp(key, f->spans->key, klen) == 0)
        {
            f->span_arr = val;
        }

        if (ddt_jf_value(f, val) != DDT_OK) {
            return DDT_ERROR;
        }

        rc = ddt_jf_sep(f, '}');
        if (rc == DDT_ERROR) {
            return DDT_ERROR;
        }
        if (rc == 0) {
            break;
        }
    }

    n = f->n - first;
    m = ddt_arena_alloc_nz(f->a, n * sizeof(ddt_jmember_t));
    if (m == NULL) {
        return ddt_jf_fail(f, f->p, "out of memory");
    }
    memcpy(m, &f->st[first], n * sizeof(ddt_jmember_t));
    v->u.obj.m = m;
    v->u.obj.len = n;
    v->u.obj.cap = n;
    f->n = first;
    return DDT_OK;
}

static int
ddt_jf_array(ddt_jf_t *f, ddt_json_t *v)
{
    size_t             first, i, n;
    ddt_json_t        *val, **items;
    char              *start;
    ddt_json_spans_t  *sp;
    int                rc;

    v->type = DDT_J_ARR;
    first = f->n;

    ddt_jf_ws(f);
    if (*f->p == ']') {
        f->p++;
        return DDT_OK;
    }

    for ( ;; ) {
        val = ddt_jf_node(f);
        if (val == NULL || ddt_jf_push(f, NULL, 0, val) != DDT_OK) {
            return ddt_jf_fail(f, f->p, "out of memory");
        }
        start = f->p;
        if (ddt_jf_value(f, val) != DDT_OK) {
            return DDT_ERROR;
        }
        if (v == f->span_arr) {
            /* the spans asked for: where each item's text is */
            sp = f->spans;
            if (sp->n < sp->max) {
                sp->start[sp->n] = (size_t) (start - f->base);
                sp->end[sp->n] = (size_t) (f->p - f->base);
            }
            sp->n++;
        }
        rc = ddt_jf_sep(f, ']');
        if (rc == DDT_ERROR) {
            return DDT_ERROR;
        }
        if (rc == 0) {
            break;
        }
    }

    n = f->n - first;
    items = ddt_arena_alloc_nz(f->a, n * sizeof(ddt_json_t *));
    if (items == NULL) {
        return ddt_jf_fail(f, f->p, "out of memory");
    }
    for (i = 0; i < n; i++) {
        items[i] = f->st[first + i].val;
    }
    v->u.arr.items = items;
    v->u.arr.len = n;
    v->u.arr.cap = n;
    f->n = first;
    return DDT_OK;
}

/* One value at f->p (no leading whitespace) into v. */
static int
ddt_jf_value(ddt_jf_t *f, ddt_json_t *v)
{
    char  *p = f->p;
    int    rc;

    switch (*p) {
    case '{':
    case '[':
        if (f->depth >= f->max_depth) {
            return ddt_jf_fail(f, p, "nesting too deep");
        }
        f->depth++;
        f->p = p + 1;
        rc = *p == '{' ? ddt_jf_object(f, v) : ddt_jf_array(f, v);
        f->depth--;
        return rc;
    case '"':
        v->type = DDT_J_STR;
        f->p = p + 1;
        return ddt_jf_string(f, &v->u.str.s, &v->u.str.len);
    case 't':
        if (strncmp(p, "true", 4) == 0) {
            v->type = DDT_J_BOOL;
            v->u.b = 1;
            f->p = p + 4;
            return DDT_OK;
        }
        break;
    case 'f':
        if (strncmp(p, "false", 5) == 0) {
            v->type = DDT_J_BOOL;
            v->u.b = 0;
            f->p = p + 5;
            return DDT_OK;
        }
        break;
    case 'n':
        if (strncmp(p, "null", 4) == 0) {
            v->type = DDT_J_NULL;
            f->p = p + 4;
            return DDT_OK;
        }
        break;
    default:
        if (*p == '-' || (*p >= '0' && *p <= '9')) {
            return ddt_jf_number(f, v);
        }
        break;
    }
    if (p == f->end) {
        return ddt_jf_fail(f, p, "incomplete JSON value");
    }
    return ddt_jf_fail(f, p, "value expected");
}

/* UTF-8 check with a word-at-a-time run over ASCII. */
static int
ddt_jf_utf8(const char *s, size_t len)
{
    size_t    i = 0;
    uint64_t  w;

    while (i + 8 <= len) {
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ULL) {
            break;
        }
        i += 8;
    }
    if (i == len) {
        return 1;
    }
    /* back up to a character start is not needed: i is at an ASCII
     * boundary or at the start of the word holding the first non-ASCII */
    return ddt_utf8_valid(s + i, len - i);
}

ddt_json_t *
ddt_json_parse_fast(ddt_arena_t *a, const char *buf, size_t len,
    const ddt_json_limits_t *lim, ddt_jerr_t *err)
{
    return ddt_json_parse_fast_spans(a, buf, len, lim, err, NULL);
}

ddt_json_t *
ddt_json_parse_fast_spans(ddt_arena_t *a, const char *buf, size_t len,
    const ddt_json_limits_t *lim, ddt_jerr_t *err, ddt_json_spans_t *spans)
{
    ddt_jf_t     f;
    ddt_json_t  *root;
    char        *copy;

    if (err) {
        err->message[0] = '\0';
        err->offset = 0;
        err->line = 0;
        err->column = 0;
    }
    if (len == 0) {
        ddt_jerr_at(err, buf, len, 0, "empty body");
        return NULL;
    }
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        ddt_jerr_at(err, buf, len, 0, "byte order mark not allowed");
        return NULL;
    }
    if (!ddt_jf_utf8(buf, len)) {
        ddt_jerr_at(err, buf, len, ddt_utf8_bad_offset(buf, len), "invalid UTF-8");
        return NULL;
    }

    copy = ddt_arena_alloc_nz(a, len + 1);
    if (copy == NULL) {
        ddt_jerr_at(err, buf, len, 0, "out of memory");
        return NULL;
    }
    memcpy(copy, buf, len);
    copy[len] = '\0';

    f.a = a;
    f.base = copy;
    f.p = copy;
    f.end = copy + len;
    f.depth = 0;
    f.max_depth = (lim && lim->max_depth) ? lim->max_depth
                                          : DDT_JF_DEFAULT_DEPTH;
    f.error = NULL;
    f.error_at = NULL;
    f.st = f.st_small;
    f.n = 0;
    f.cap = sizeof(f.st_small) / sizeof(f.st_small[0]);
    f.nodes = NULL;
    f.n_nodes = 0;
    /* a value takes a byte of text at least: a short text (a SetVariable
     * value parsed each turn) gets a block its size, not 32 nodes */
    f.block = len < DDT_JF_NODE_BLOCK ? len : DDT_JF_NODE_BLOCK;
    f.slots = NULL;
    f.nslots = 0;
    f.used = 0;
    f.obj_id = 0;
    f.spans = spans;
    f.span_arr = NULL;
    if (spans != NULL) {
        spans->n = 0;
    }

    root = ddt_jf_node(&f);
    if (root == NULL) {
        ddt_jf_fail(&f, f.p, "out of memory");
    } else {
        ddt_jf_ws(&f);
        if (ddt_jf_value(&f, root) == DDT_OK) {
            ddt_jf_ws(&f);
            if (f.p != f.end) {
                /* a NUL inside the text ends up here too */
                ddt_jf_fail(&f, f.p, "trailing garbage");
            }
        }
    }

    if (f.st != f.st_small) {
        free(f.st);
    }
    free(f.slots);

    if (f.error != NULL) {
        ddt_jerr_at(err, buf, len, (size_t) (f.error_at - f.base), f.error);
        return NULL;
    }
    return root;
}
