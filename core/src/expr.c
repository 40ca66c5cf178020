/*
 * expr.c: expressions (SPEC 5, 9.6): tokenizer, parser to a small AST with
 * constant folding, bytecode emission (format in expr.h), the verifier the
 * block loader runs, and the VM.  Runtime errors (type errors, division by
 * zero, a regex that hits its limits, a corrupt program) give null.
 * Does not own: path lookups (memory.c), time zones (tz.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <utf8proc.h>

#include "expr.h"

static const ddt_json_t  j_null  = { DDT_J_NULL, { 0 } };
static const ddt_json_t  j_true  = { DDT_J_BOOL, { .b = 1 } };
static const ddt_json_t  j_false = { DDT_J_BOOL, { .b = 0 } };

#define JB(x)  ((x) ? &j_true : &j_false)


unsigned
ddt_src_column(const char *s, size_t off)
{
    unsigned  col;
    size_t    i;

    col = 1;
    for (i = 0; i < off; i++) {
        if (((unsigned char) s[i] & 0xc0) != 0x80) {
            col++;
        }
    }
    return col;
}


/* ---- values ---------------------------------------------------------- */

static int
is_true(const ddt_json_t *v)
{
    return v != NULL && v->type == DDT_J_BOOL && v->u.b;
}


static const ddt_json_t *
mk_num(ddt_arena_t *a, double n)
{
    ddt_json_t  *v;

    if (isnan(n) || isinf(n)) {
        return &j_null;
    }
    v = ddt_json_num(a, n);
    return v ? v : &j_null;
}


static int
int_member(const ddt_json_t *o, const char *k, long long *out)
{
    const ddt_json_t  *v;

    v = ddt_json_getz(o, k);
    if (v == NULL || v->type != DDT_J_NUM || !ddt_json_is_int(v)
        || v->u.n < -1e15 || v->u.n > 1e15)
    {
        return 0;
    }
    *out = (long long) v->u.n;
    return 1;
}


/* A complete date: key y*10000+m*100+d; with hh:mm when has_time. */
static int
date_key(const ddt_json_t *v, long long *key, long long *tkey, int *has_time)
{
    long long  d, m, y, h, mi;

    if (v == NULL || v->type != DDT_J_OBJ) {
        return 0;
    }
    if (!int_member(v, "day", &d) || !int_member(v, "month", &m)
        || !int_member(v, "year", &y))
    {
        return 0;
    }
    *key = y * 10000 + m * 100 + d;
    *has_time = int_member(v, "hour", &h) && int_member(v, "minute", &mi);
    *tkey = *has_time ? h * 100 + mi : 0;
    return 1;
}


static int
time_key(const ddt_json_t *v, long long *key)
{
    long long  h, mi;

    if (v == NULL || v->type != DDT_J_OBJ || ddt_json_getz(v, "day")
        || ddt_json_getz(v, "year"))
    {
        return 0;
    }
    if (!int_member(v, "hour", &h) || !int_member(v, "minute", &mi)) {
        return 0;
    }
    *key = h * 100 + mi;
    return 1;
}


/* Ordering: -2 when not comparable, else -1/0/1. */
static int
order(const ddt_json_t *a, const ddt_json_t *b)
{
    long long  ka, kb, ta, tb;
    int        ha, hb, r;
    size_t     n;

    if (a == NULL || b == NULL) {
        return -2;
    }
    if (a->type == DDT_J_NUM && b->type == DDT_J_NUM) {
        return a->u.n < b->u.n ? -1 : (a->u.n > b->u.n ? 1 : 0);
    }
    if (a->type == DDT_J_STR && b->type == DDT_J_STR) {
        /* UTF-8 byte order is code point order */
        n = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
        r = n ? memcmp(a->u.str.s, b->u.str.s, n) : 0;
        if (r == 0) {
            r = a->u.str.len < b->u.str.len ? -1
                : (a->u.str.len > b->u.str.len ? 1 : 0);
        }
        return r < 0 ? -1 : (r > 0 ? 1 : 0);
    }
    if (date_key(a, &ka, &ta, &ha) && date_key(b, &kb, &tb, &hb)) {
        if (ka != kb) {
            return ka < kb ? -1 : 1;
        }
        if (ha && hb && ta != tb) {
            return ta < tb ? -1 : 1;
        }
        return 0;
    }
    if (time_key(a, &ka) && time_key(b, &kb)) {
        return ka < kb ? -1 : (ka > kb ? 1 : 0);
    }
    return -2;
}


static int
value_eq(const ddt_json_t *a, const ddt_json_t *b)
{
    int  an, bn;

    an = (a == NULL || a->type == DDT_J_NULL);
    bn = (b == NULL || b->type == DDT_J_NULL);
    if (an || bn) {
        return an && bn;
    }
    return ddt_json_equal(a, b);
}


static const ddt_json_t *
binop(int op, const ddt_json_t *a, const ddt_json_t *b, ddt_arena_t *ar)
{
    int          o;
    double       x, y;
    ddt_json_t  *s;
    char        *p;

    switch (op) {
    case DDT_OP_EQ:
        return JB(value_eq(a, b));
    case DDT_OP_NE:
        return JB(!value_eq(a, b));
    case DDT_OP_LT:
    case DDT_OP_LE:
    case DDT_OP_GT:
    case DDT_OP_GE:
        o = order(a, b);
        if (o == -2) {
            return &j_false;
        }
        switch (op) {
        case DDT_OP_LT: return JB(o < 0);
        case DDT_OP_LE: return JB(o <= 0);
        case DDT_OP_GT: return JB(o > 0);
        default:        return JB(o >= 0);
        }
    default:
        break;
    }

    if (a == NULL || b == NULL) {
        return &j_null;
    }

    if (op == DDT_OP_ADD && a->type == DDT_J_STR && b->type == DDT_J_STR) {
        if (a->u.str.len + b->u.str.len > 16 * 1024 * 1024) {
            return &j_null;
        }
        p = ddt_arena_alloc(ar, a->u.str.len + b->u.str.len + 1);
        if (p == NULL) {
            return &j_null;
        }
        memcpy(p, a->u.str.s, a->u.str.len);
        memcpy(p + a->u.str.len, b->u.str.s, b->u.str.len);
        s = ddt_json_str(ar, p, a->u.str.len + b->u.str.len);
        return s ? s : &j_null;
    }
    if (a->type != DDT_J_NUM || b->type != DDT_J_NUM) {
        return &j_null;
    }
    x = a->u.n;
    y = b->u.n;
    switch (op) {
    case DDT_OP_ADD: return mk_num(ar, x + y);
    case DDT_OP_SUB: return mk_num(ar, x - y);
    case DDT_OP_MUL: return mk_num(ar, x * y);
    case DDT_OP_DIV: return y == 0 ? &j_null : mk_num(ar, x / y);
    case DDT_OP_MOD: return y == 0 ? &j_null : mk_num(ar, fmod(x, y));
    default:         return &j_null;
    }
}


static const ddt_json_t *
fn_len(const ddt_json_t *a, ddt_arena_t *ar)
{
    size_t  i, n;

    if (a == NULL) {
        return &j_null;
    }
    switch (a->type) {
    case DDT_J_STR:
        n = 0;
        for (i = 0; i < a->u.str.len; i++) {
            if (((unsigned char) a->u.str.s[i] & 0xc0) != 0x80) {
                n++;
            }
        }
        return mk_num(ar, (double) n);
    case DDT_J_ARR:
        return mk_num(ar, (double) a->u.arr.len);
    case DDT_J_OBJ:
        return mk_num(ar, (double) a->u.obj.len);
    default:
        return &j_null;
    }
}


static const ddt_json_t *
fn_case(const ddt_json_t *a, int upper, ddt_arena_t *ar)
{
    const utf8proc_uint8_t  *s;
    utf8proc_int32_t         c;
    utf8proc_ssize_t         n, i;
    ddt_buf_t                b;
    utf8proc_uint8_t         enc[4];
    ddt_json_t              *r;

    if (a == NULL || a->type != DDT_J_STR) {
        return &j_null;
    }
    s = (const utf8proc_uint8_t *) a->u.str.s;
    ddt_buf_init(&b);
    for (i = 0; i < (utf8proc_ssize_t) a->u.str.len; i += n) {
        n = utf8proc_iterate(s + i, (utf8proc_ssize_t) a->u.str.len - i, &c);
        if (n <= 0) {
            ddt_buf_free(&b);
            return &j_null;
        }
        c = upper ? utf8proc_toupper(c) : utf8proc_tolower(c);
        ddt_buf_add(&b, enc, (size_t) utf8proc_encode_char(c, enc));
    }
    if (b.oom) {
        ddt_buf_free(&b);
        return &j_null;
    }
    r = ddt_json_str(ar, b.data ? b.data : "", b.len);
    ddt_buf_free(&b);
    return r ? r : &j_null;
}


static const ddt_json_t *
mk_today(ddt_arena_t *ar, const ddt_localtime_t *lt, int with_time)
{
    ddt_json_t  *o;

    o = ddt_json_obj(ar);
    if (o == NULL) {
        return &j_null;
    }
    ddt_json_setl(ar, o, "day", ddt_json_num(ar, lt->day));
    ddt_json_setl(ar, o, "month", ddt_json_num(ar, lt->month));
    ddt_json_setl(ar, o, "year", ddt_json_num(ar, lt->year));
    if (with_time) {
        ddt_json_setl(ar, o, "hour", ddt_json_num(ar, lt->hour));
        ddt_json_setl(ar, o, "minute", ddt_json_num(ar, lt->minute));
    }
    return o;
}


static const ddt_json_t *
fn_age(const ddt_json_t *a, const ddt_localtime_t *lt, ddt_arena_t *ar)
{
    long long  d, m, y, age;

    if (a == NULL || a->type != DDT_J_OBJ || !int_member(a, "day", &d)
        || !int_member(a, "month", &m) || !int_member(a, "year", &y))
    {
        return &j_null;
    }
    age = lt->year - y;
    if (lt->month < m || (lt->month == m && lt->day < d)) {
        age--;
    }
    return mk_num(ar, (double) age);
}


static const ddt_json_t *
fn_in(const ddt_json_t *a, const ddt_json_t *const *items, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (value_eq(a, items[i])) {
            return &j_true;
        }
    }
    return &j_false;
}


static const ddt_json_t *
value_path(const ddt_json_t *v, const ddt_project_t *p, uint32_t path)
{
    ddt_brange_t      r;
    const ddt_bstr_t *seg;
    uint32_t          i;

    if (path >= p->n_paths) {
        return NULL;
    }
    r = p->paths[path];
    for (i = 0; i < r.count && v != NULL; i++) {
        seg = &p->segs[r.first + i];
        v = ddt_json_get(v, p->strings + seg->off, seg->len);
    }
    return v;
}


/* ---- AST and parser ---------------------------------------------------- */

typedef enum {
    N_LIT = 0, N_PATH, N_VALUE, N_BIN, N_UN, N_AND, N_OR, N_IN, N_CALL, N_GET
} nkind_t;

enum { F_EXISTS = 0, F_LEN, F_TODAY, F_NOW, F_AGE, F_LOWER, F_UPPER,
       F_MATCHES };

static const struct { const char *name; int argc; } fns[] = {
    { "exists", 1 }, { "len", 1 }, { "today", 0 }, { "now", 0 },
    { "age", 1 }, { "lower", 1 }, { "upper", 1 }, { "matches", 2 },
};

typedef struct node_s  node_t;

struct node_s {
    nkind_t             kind;
    int                 op;           /* opcode or F_* */
    unsigned            col;
    int                 depth;
    const ddt_json_t   *lit;
    uint32_t            idx;          /* path or regex index */
    node_t             *a, *b;
    node_t            **items;
    size_t              n;
};

typedef enum {
    T_EOF = 0, T_NUM, T_STR, T_IDENT, T_OP, T_ERR
} ttype_t;

typedef struct {
    ddt_expr_cc_t   *cc;
    const char      *src;
    size_t           len, pos;
    /* current token */
    ttype_t          t;
    size_t           tstart, tend;
    double           num;
    char            *str;
    size_t           slen;
    char             opc[3];
    int              failed;          /* a syntax error was reported */
    int              errors;
} parser_t;


static void
perr(parser_t *ps, size_t off, const char *msg)
{
    if (ps->failed) {
        return;
    }
    ps->failed = 1;
    ps->errors++;
    ps->cc->error(ps->cc->ud, ddt_src_column(ps->src, off), msg);
}


static void
serr(parser_t *ps, size_t off, const char *msg)
{
    ps->errors++;
    ps->cc->error(ps->cc->ud, ddt_src_column(ps->src, off), msg);
}


static int
is_id0(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
           || c == '$';
}


static int
is_id(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
           || (c >= '0' && c <= '9');
}


static void
lex_string(parser_t *ps, char q)
{
    ddt_buf_t   b;
    size_t      i;
    unsigned          cp, lo;
    int               k;
    char              c, h;
    utf8proc_uint8_t  enc[4];

    ddt_buf_init(&b);
    i = ps->pos + 1;
    for ( ;; ) {
        if (i >= ps->len) {
            perr(ps, ps->tstart, "unterminated string");
            goto fail;
        }
        c = ps->src[i++];
        if (c == q) {
            break;
        }
        if (c != '\\') {
            ddt_buf_addc(&b, c);
            continue;
        }
        if (i >= ps->len) {
            perr(ps, ps->tstart, "unterminated string");
            goto fail;
        }
        c = ps->src[i++];
        switch (c) {
        case 'n': ddt_buf_addc(&b, '\n'); break;
        case 't': ddt_buf_addc(&b, '\t'); break;
        case 'r': ddt_buf_addc(&b, '\r'); break;
        case '"': case '\'': case '\\': case '/': ddt_buf_addc(&b, c); break;
        case 'u':
            cp = 0;
            for (k = 0; k < 4; k++) {
                if (i >= ps->len) {
                    perr(ps, i, "bad \\u escape");
                    goto fail;
                }
                h = ps->src[i++];
                cp <<= 4;
                if (h >= '0' && h <= '9') cp |= (unsigned) (h - '0');
                else if (h >= 'a' && h <= 'f') cp |= (unsigned) (h - 'a' + 10);
                else if (h >= 'A' && h <= 'F') cp |= (unsigned) (h - 'A' + 10);
                else { perr(ps, i - 1, "bad \\u escape"); goto fail; }
            }
            if (cp >= 0xd800 && cp < 0xdc00 && i + 6 <= ps->len
                && ps->src[i] == '\\' && ps->src[i + 1] == 'u')
            {
                lo = (unsigned) strtoul((char []) { ps->src[i + 2],
                    ps->src[i + 3], ps->src[i + 4], ps->src[i + 5], 0 },
                    NULL, 16);
                if (lo >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    i += 6;
                }
            }
            if (cp >= 0xd800 && cp < 0xe000) {
                perr(ps, i - 1, "lone surrogate in \\u escape");
                goto fail;
            }
            ddt_buf_add(&b, enc, (size_t) utf8proc_encode_char(
                (utf8proc_int32_t) cp, enc));
            break;
        default:
            perr(ps, i - 2, "bad escape in string");
            goto fail;
        }
    }
    if (b.oom) {
        perr(ps, ps->tstart, "out of memory");
        goto fail;
    }
    ps->str = ddt_arena_strndup(ps->cc->arena, b.data ? b.data : "", b.len);
    ps->slen = b.len;
    ps->pos = i;
    ps->t = T_STR;
    ddt_buf_free(&b);
    if (ps->str == NULL) {
        perr(ps, ps->tstart, "out of memory");
        ps->t = T_ERR;
    }
    return;

fail:
    ddt_buf_free(&b);
    ps->t = T_ERR;
}


static void
next(parser_t *ps)
{
    const char  *s;
    size_t       i, j;
    char         c, buf[64], *end;
    static const char *ops2[] = { "==", "!=", "<=", ">=", "&&", "||" };
    unsigned     k;

    s = ps->src;
    while (ps->pos < ps->len
           && (s[ps->pos] == ' ' || s[ps->pos] == '\t' || s[ps->pos] == '\n'
               || s[ps->pos] == '\r'))
    {
        ps->pos++;
    }
    ps->tstart = ps->pos;
    if (ps->failed) {
        ps->t = T_ERR;
        return;
    }
    if (ps->pos >= ps->len) {
        ps->t = T_EOF;
        ps->tend = ps->pos;
        return;
    }
    c = s[ps->pos];

    if (c >= '0' && c <= '9') {
        i = ps->pos;
        while (i < ps->len && s[i] >= '0' && s[i] <= '9') i++;
        if (i + 1 < ps->len && s[i] == '.' && s[i + 1] >= '0'
            && s[i + 1] <= '9')
        {
            i++;
            while (i < ps->len && s[i] >= '0' && s[i] <= '9') i++;
        }
        if (i < ps->len && (s[i] == 'e' || s[i] == 'E')) {
            j = i + 1;
            if (j < ps->len && (s[j] == '+' || s[j] == '-')) j++;
            if (j < ps->len && s[j] >= '0' && s[j] <= '9') {
                while (j < ps->len && s[j] >= '0' && s[j] <= '9') j++;
                i = j;
            }
        }
        if (i - ps->pos >= sizeof(buf)) {
            perr(ps, ps->pos, "number too long");
            ps->t = T_ERR;
            return;
        }
        memcpy(buf, s + ps->pos, i - ps->pos);
        buf[i - ps->pos] = '\0';
        ps->num = strtod(buf, &end);
        if (isinf(ps->num) || isnan(ps->num)) {
            perr(ps, ps->pos, "number out of range");
            ps->t = T_ERR;
            return;
        }
        if (i < ps->len && is_id0((unsigned char) s[i])) {
            perr(ps, i, "unexpected character after number");
            ps->t = T_ERR;
            return;
        }
        ps->pos = i;
        ps->tend = i;
        ps->t = T_NUM;
        return;
    }

    if (c == '"' || c == '\'') {
        lex_string(ps, c);
        ps->tend = ps->pos;
        return;
    }

    if (is_id0((unsigned char) c)) {
        i = ps->pos + 1;
        while (i < ps->len && is_id((unsigned char) s[i])) i++;
        ps->pos = i;
        ps->tend = i;
        ps->t = T_IDENT;
        return;
    }

    for (k = 0; k < sizeof(ops2) / sizeof(ops2[0]); k++) {
        if (ps->pos + 1 < ps->len && s[ps->pos] == ops2[k][0]
            && s[ps->pos + 1] == ops2[k][1])
        {
            ps->opc[0] = ops2[k][0];
            ps->opc[1] = ops2[k][1];
            ps->opc[2] = '\0';
            ps->pos += 2;
            ps->tend = ps->pos;
            ps->t = T_OP;
            return;
        }
    }
    if (strchr("<>!+-*/%()[],.", c) != NULL) {
        ps->opc[0] = c;
        ps->opc[1] = '\0';
        ps->pos++;
        ps->tend = ps->pos;
        ps->t = T_OP;
        return;
    }
    if (c == '=' || c == '&' || c == '|') {
        perr(ps, ps->pos, c == '=' ? "'=' is not an operator, use '=='"
             : "use '&&' or '||'");
    } else {
        perr(ps, ps->pos, "unexpected character");
    }
    ps->t = T_ERR;
}


static int
is_op(parser_t *ps, const char *op)
{
    return ps->t == T_OP && strcmp(ps->opc, op) == 0;
}


static node_t *
mk(parser_t *ps, nkind_t k, size_t off)
{
    node_t  *n;

    n = ddt_arena_alloc(ps->cc->arena, sizeof(node_t));
    if (n == NULL) {
        perr(ps, off, "out of memory");
        return NULL;
    }
    n->kind = k;
    n->col = ddt_src_column(ps->src, off);
    n->depth = 1;
    n->idx = DDT_NONE;
    return n;
}


static int
set_depth(parser_t *ps, node_t *n, size_t off)
{
    int  d;

    d = 0;
    if (n->a && n->a->depth > d) d = n->a->depth;
    if (n->b && n->b->depth > d) d = n->b->depth;
    n->depth = d + 1;
    if (n->depth > DDT_EXPR_MAX_DEPTH) {
        perr(ps, off, "expression nested too deeply (limit 256)");
        return -1;
    }
    return 0;
}


/* Folding: a node whose operands are literals becomes a literal. */
static void
fold(parser_t *ps, node_t *n)
{
    const ddt_json_t  *r;
    size_t             i;
    const ddt_json_t **vals;

    r = NULL;
    switch (n->kind) {
    case N_BIN:
        if (n->a->kind == N_LIT && n->b->kind == N_LIT) {
            r = binop(n->op, n->a->lit, n->b->lit, ps->cc->arena);
        }
        break;
    case N_UN:
        if (n->a->kind == N_LIT) {
            if (n->op == DDT_OP_NOT) {
                r = JB(!is_true(n->a->lit));
            } else if (n->op == DDT_OP_BOOL) {
                r = JB(is_true(n->a->lit));
            } else {
                r = n->a->lit->type == DDT_J_NUM
                    ? mk_num(ps->cc->arena, -n->a->lit->u.n) : &j_null;
            }
        }
        break;
    case N_AND:
    case N_OR:
        if (n->a->kind == N_LIT) {
            if (n->kind == N_AND ? !is_true(n->a->lit) : is_true(n->a->lit)) {
                r = JB(n->kind == N_OR);
            } else if (n->b->kind == N_LIT) {
                r = JB(is_true(n->b->lit));
            } else {
                /* `true && x` is x as a boolean (`false || x` too) */
                n->kind = N_UN;
                n->op = DDT_OP_BOOL;
                n->a = n->b;
                n->b = NULL;
                return;
            }
        } else if (n->b->kind == N_LIT
                   && (n->kind == N_AND ? !is_true(n->b->lit)
                                        : is_true(n->b->lit)))
        {
            /* operands have no side effects: `x && false` is false and
             * `x || true` is true */
            r = JB(n->kind == N_OR);
        }
        break;
    case N_IN:
        if (n->a->kind != N_LIT) {
            return;
        }
        vals = ddt_arena_alloc(ps->cc->arena, (n->n + 1) * sizeof(*vals));
        if (vals == NULL) {
            return;
        }
        for (i = 0; i < n->n; i++) {
            if (n->items[i]->kind != N_LIT) {
                return;
            }
            vals[i] = n->items[i]->lit;
        }
        r = fn_in(n->a->lit, vals, n->n);
        break;
    case N_CALL:
        if (n->op == F_LEN && n->a->kind == N_LIT) {
            r = fn_len(n->a->lit, ps->cc->arena);
        } else if ((n->op == F_LOWER || n->op == F_UPPER)
                   && n->a->kind == N_LIT)
        {
            r = fn_case(n->a->lit, n->op == F_UPPER, ps->cc->arena);
        } else if (n->op == F_EXISTS && n->a->kind == N_LIT) {
            r = JB(n->a->lit->type != DDT_J_NULL);
        }
        break;
    default:
        break;
    }
    if (r != NULL) {
        n->kind = N_LIT;
        n->lit = r;
        n->a = n->b = NULL;
        n->items = NULL;
        n->n = 0;
        n->depth = 1;
    }
}


static node_t *parse_or(parser_t *ps, int depth);


/* A dotted path starting at the current identifier. */
static node_t *
parse_path(parser_t *ps, size_t start)
{
    ddt_seg_t   segs[64];
    size_t      n;
    node_t     *nd;
    int         isval;
    ddt_seg_t  *copy;

    n = 0;
    segs[n].s = ps->src + ps->tstart;
    segs[n].len = ps->tend - ps->tstart;
    n++;
    next(ps);
    while (is_op(ps, ".")) {
        if (ps->pos >= ps->len || !is_id0((unsigned char) ps->src[ps->pos])) {
            perr(ps, ps->pos, "expected a name after '.'");
            return NULL;
        }
        next(ps);
        if (ps->t != T_IDENT) {
            perr(ps, ps->tstart, "expected a name after '.'");
            return NULL;
        }
        if (n == sizeof(segs) / sizeof(segs[0])) {
            perr(ps, ps->tstart, "path too long (limit 64 segments)");
            return NULL;
        }
        segs[n].s = ps->src + ps->tstart;
        segs[n].len = ps->tend - ps->tstart;
        n++;
        next(ps);
    }
    isval = (segs[0].len == 5 && memcmp(segs[0].s, "value", 5) == 0);
    nd = mk(ps, isval ? N_VALUE : N_PATH, start);
    if (nd == NULL) {
        return NULL;
    }
    if (isval && !ps->cc->allow_value) {
        serr(ps, start, "'value' is only known inside validate rules");
        return nd;
    }
    if (isval && n == 1) {
        return nd;
    }
    copy = segs;
    nd->idx = ps->cc->path(ps->cc->ud, isval ? copy + 1 : copy,
                           isval ? n - 1 : n, isval,
                           ddt_src_column(ps->src, start));
    if (nd->idx == DDT_NONE) {
        ps->errors++;
    }
    return nd;
}


static node_t *
parse_call(parser_t *ps, size_t start, int depth)
{
    const char  *name;
    size_t       nlen;
    unsigned     f;
    node_t      *nd, *args[2];
    int          argc;

    name = ps->src + ps->tstart;
    nlen = ps->tend - ps->tstart;
    for (f = 0; f < sizeof(fns) / sizeof(fns[0]); f++) {
        if (strlen(fns[f].name) == nlen && memcmp(fns[f].name, name, nlen) == 0)
        {
            break;
        }
    }
    if (f == sizeof(fns) / sizeof(fns[0])) {
        perr(ps, start, "unknown function");
        return NULL;
    }
    next(ps);                          /* the identifier */
    next(ps);                          /* '(' */
    argc = 0;
    args[0] = args[1] = NULL;
    if (!is_op(ps, ")")) {
        for ( ;; ) {
            if (argc == 2) {
                perr(ps, ps->tstart, "too many arguments");
                return NULL;
            }
            args[argc] = parse_or(ps, depth + 1);
            if (args[argc] == NULL) {
                return NULL;
            }
            argc++;
            if (is_op(ps, ",")) {
                next(ps);
                continue;
            }
            break;
        }
    }
    if (!is_op(ps, ")")) {
        perr(ps, ps->tstart, "expected ')'");
        return NULL;
    }
    next(ps);
    if (argc != fns[f].argc) {
        perr(ps, start, fns[f].argc == 0 ? "function takes no arguments"
             : fns[f].argc == 1 ? "function takes one argument"
             : "function takes two arguments");
        return NULL;
    }
    nd = mk(ps, N_CALL, start);
    if (nd == NULL) {
        return NULL;
    }
    nd->op = (int) f;
    nd->a = args[0];
    nd->b = args[1];
    if (f == F_EXISTS && args[0]->kind != N_PATH && args[0]->kind != N_VALUE) {
        serr(ps, start, "exists() takes a path");
    }
    if (f == F_MATCHES) {
        if (args[1]->kind != N_LIT || args[1]->lit->type != DDT_J_STR) {
            serr(ps, start, "matches() takes a literal pattern string");
        } else {
            nd->idx = ps->cc->regex(ps->cc->ud, args[1]->lit->u.str.s,
                                    args[1]->lit->u.str.len,
                                    ddt_src_column(ps->src, start));
            if (nd->idx == DDT_NONE) {
                ps->errors++;
            }
        }
        nd->b = NULL;
    }
    if (set_depth(ps, nd, start) < 0) {
        return NULL;
    }
    fold(ps, nd);
    return nd;
}


static node_t *parse_primary_(parser_t *ps, int depth);


/* `f(..).member` and `(..).member`: a member of a computed object */
static node_t *
parse_primary(parser_t *ps, int depth)
{
    node_t   *nd, *g;
    size_t    start;
    int       computed;

    start = ps->tstart;
    computed = is_op(ps, "(")
               || (ps->t == T_IDENT && ps->tend < ps->len
                   && (ps->src[ps->tend] == '(' || ps->src[ps->tend] == ' '));
    nd = parse_primary_(ps, depth);
    while (nd != NULL && computed && is_op(ps, "."))
    {
        next(ps);
        if (ps->t != T_IDENT) {
            perr(ps, ps->tstart, "expected a name after '.'");
            return NULL;
        }
        g = mk(ps, N_GET, start);
        if (g == NULL) {
            return NULL;
        }
        g->a = nd;
        g->lit = ddt_json_str(ps->cc->arena, ps->src + ps->tstart,
                              ps->tend - ps->tstart);
        if (g->lit == NULL || set_depth(ps, g, start) < 0) {
            return NULL;
        }
        next(ps);
        nd = g;
    }
    return nd;
}


static node_t *
parse_primary_(parser_t *ps, int depth)
{
    node_t      *nd;
    size_t       start, idlen, j;
    const char  *id;

    start = ps->tstart;
    if (depth > DDT_EXPR_MAX_DEPTH) {
        perr(ps, start, "expression nested too deeply (limit 256)");
        return NULL;
    }
    switch (ps->t) {
    case T_NUM:
        nd = mk(ps, N_LIT, start);
        if (nd) {
            nd->lit = mk_num(ps->cc->arena, ps->num);
        }
        next(ps);
        return nd;
    case T_STR:
        nd = mk(ps, N_LIT, start);
        if (nd) {
            nd->lit = ddt_json_str(ps->cc->arena, ps->str, ps->slen);
            if (nd->lit == NULL) {
                nd->lit = &j_null;
            }
        }
        next(ps);
        return nd;
    case T_IDENT:
        id = ps->src + ps->tstart;
        idlen = ps->tend - ps->tstart;
        if ((idlen == 4 && memcmp(id, "true", 4) == 0)
            || (idlen == 5 && memcmp(id, "false", 5) == 0)
            || (idlen == 4 && memcmp(id, "null", 4) == 0))
        {
            nd = mk(ps, N_LIT, start);
            if (nd) {
                nd->lit = id[0] == 't' ? &j_true
                          : id[0] == 'f' ? &j_false : &j_null;
            }
            next(ps);
            return nd;
        }
        if (ps->tend < ps->len && ps->src[ps->tend] == '(') {
            return parse_call(ps, start, depth);
        }
        /* allow spaces before '(' too */
        j = ps->tend;
        while (j < ps->len && ps->src[j] == ' ') j++;
        if (j < ps->len && ps->src[j] == '(') {
            return parse_call(ps, start, depth);
        }
        return parse_path(ps, start);
    case T_OP:
        if (is_op(ps, "(")) {
            next(ps);
            nd = parse_or(ps, depth + 1);
            if (nd == NULL) {
                return NULL;
            }
            if (!is_op(ps, ")")) {
                perr(ps, ps->tstart, "expected ')'");
                return NULL;
            }
            next(ps);
            return nd;
        }
        if (is_op(ps, "[")) {
            perr(ps, start, "a list is only allowed after 'in'");
            return NULL;
        }
        break;
    case T_EOF:
        perr(ps, start, "unexpected end of expression");
        return NULL;
    default:
        return NULL;
    }
    perr(ps, start, "unexpected token");
    return NULL;
}


static node_t *
parse_unary(parser_t *ps, int depth)
{
    node_t  *nd, *a;
    size_t   start;
    int      op;

    start = ps->tstart;
    if (depth > DDT_EXPR_MAX_DEPTH) {
        perr(ps, start, "expression nested too deeply (limit 256)");
        return NULL;
    }
    if (is_op(ps, "!") || is_op(ps, "-")) {
        op = is_op(ps, "!") ? DDT_OP_NOT : DDT_OP_NEG;
        next(ps);
        a = parse_unary(ps, depth + 1);
        if (a == NULL) {
            return NULL;
        }
        nd = mk(ps, N_UN, start);
        if (nd == NULL) {
            return NULL;
        }
        nd->op = op;
        nd->a = a;
        if (set_depth(ps, nd, start) < 0) {
            return NULL;
        }
        fold(ps, nd);
        return nd;
    }
    return parse_primary(ps, depth);
}


static node_t *
binary(parser_t *ps, nkind_t k, int op, node_t *a, node_t *b, size_t off)
{
    node_t  *nd;

    nd = mk(ps, k, off);
    if (nd == NULL) {
        return NULL;
    }
    nd->op = op;
    nd->a = a;
    nd->b = b;
    if (set_depth(ps, nd, off) < 0) {
        return NULL;
    }
    fold(ps, nd);
    return nd;
}


/* The right operand after the operator at the current token, joined to
 * a as a node of kind k; NULL on an error. */
static node_t *
parse_rhs(parser_t *ps, int depth, node_t *a, nkind_t k, int op,
    node_t *(*operand)(parser_t *, int))
{
    node_t  *b;
    size_t   off;

    off = ps->tstart;
    next(ps);
    b = operand(ps, depth);
    if (b == NULL) {
        return NULL;
    }
    return binary(ps, k, op, a, b, off);
}


static node_t *
parse_mul(parser_t *ps, int depth)
{
    node_t  *a;
    int      op;

    a = parse_unary(ps, depth);
    while (a && (is_op(ps, "*") || is_op(ps, "/") || is_op(ps, "%"))) {
        op = ps->opc[0] == '*' ? DDT_OP_MUL
             : ps->opc[0] == '/' ? DDT_OP_DIV : DDT_OP_MOD;
        a = parse_rhs(ps, depth, a, N_BIN, op, parse_unary);
    }
    return a;
}


static node_t *
parse_add(parser_t *ps, int depth)
{
    node_t  *a;
    int      op;

    a = parse_mul(ps, depth);
    while (a && (is_op(ps, "+") || is_op(ps, "-"))) {
        op = ps->opc[0] == '+' ? DDT_OP_ADD : DDT_OP_SUB;
        a = parse_rhs(ps, depth, a, N_BIN, op, parse_mul);
    }
    return a;
}


static node_t *
parse_in_list(parser_t *ps, node_t *a, size_t off, int depth)
{
    node_t   *nd, *it, **items, **grown;
    size_t    n, cap;

    next(ps);                          /* 'in' */
    if (!is_op(ps, "[")) {
        perr(ps, ps->tstart, "expected '[' after 'in'");
        return NULL;
    }
    next(ps);
    n = 0;
    cap = 8;
    items = ddt_arena_alloc(ps->cc->arena, cap * sizeof(node_t *));
    if (items == NULL) {
        perr(ps, off, "out of memory");
        return NULL;
    }
    if (!is_op(ps, "]")) {
        for ( ;; ) {
            it = parse_or(ps, depth + 1);
            if (it == NULL) {
                return NULL;
            }
            if (n == cap) {
                if (cap >= 65536) {
                    perr(ps, ps->tstart, "list too long");
                    return NULL;
                }
                grown = ddt_arena_alloc(ps->cc->arena,
                                        2 * cap * sizeof(node_t *));
                if (grown == NULL) {
                    perr(ps, off, "out of memory");
                    return NULL;
                }
                memcpy(grown, items, cap * sizeof(node_t *));
                items = grown;
                cap *= 2;
            }
            items[n++] = it;
            if (is_op(ps, ",")) {
                next(ps);
                continue;
            }
            break;
        }
    }
    if (!is_op(ps, "]")) {
        perr(ps, ps->tstart, "expected ']'");
        return NULL;
    }
    next(ps);
    nd = mk(ps, N_IN, off);
    if (nd == NULL) {
        return NULL;
    }
    nd->a = a;
    nd->items = items;
    nd->n = n;
    if (set_depth(ps, nd, off) < 0) {
        return NULL;
    }
    for (cap = 0; cap < n; cap++) {
        if (items[cap]->depth + 1 > DDT_EXPR_MAX_DEPTH) {
            perr(ps, off, "expression nested too deeply (limit 256)");
            return NULL;
        }
        if (items[cap]->depth + 1 > nd->depth) {
            nd->depth = items[cap]->depth + 1;
        }
    }
    fold(ps, nd);
    return nd;
}


static node_t *
parse_rel(parser_t *ps, int depth)
{
    node_t  *a;
    int      op;
    size_t   off;

    a = parse_add(ps, depth);
    for ( ;; ) {
        if (a == NULL) {
            return NULL;
        }
        off = ps->tstart;
        if (ps->t == T_IDENT && ps->tend - ps->tstart == 2
            && memcmp(ps->src + ps->tstart, "in", 2) == 0)
        {
            a = parse_in_list(ps, a, off, depth);
            continue;
        }
        if (is_op(ps, "<")) op = DDT_OP_LT;
        else if (is_op(ps, "<=")) op = DDT_OP_LE;
        else if (is_op(ps, ">")) op = DDT_OP_GT;
        else if (is_op(ps, ">=")) op = DDT_OP_GE;
        else return a;
        a = parse_rhs(ps, depth, a, N_BIN, op, parse_add);
    }
}


static node_t *
parse_eq(parser_t *ps, int depth)
{
    node_t  *a;
    int      op;

    a = parse_rel(ps, depth);
    while (a && (is_op(ps, "==") || is_op(ps, "!="))) {
        op = ps->opc[0] == '=' ? DDT_OP_EQ : DDT_OP_NE;
        a = parse_rhs(ps, depth, a, N_BIN, op, parse_rel);
    }
    return a;
}


static node_t *
parse_and(parser_t *ps, int depth)
{
    node_t  *a;

    a = parse_eq(ps, depth);
    while (a && is_op(ps, "&&")) {
        a = parse_rhs(ps, depth, a, N_AND, 0, parse_eq);
    }
    return a;
}


static node_t *
parse_or(parser_t *ps, int depth)
{
    node_t  *a;

    if (depth > DDT_EXPR_MAX_DEPTH) {
        perr(ps, ps->tstart, "expression nested too deeply (limit 256)");
        return NULL;
    }
    a = parse_and(ps, depth);
    while (a && is_op(ps, "||")) {
        a = parse_rhs(ps, depth, a, N_OR, 0, parse_and);
    }
    return a;
}


/* ---- emission ---------------------------------------------------------- */

typedef struct {
    ddt_expr_cc_t  *cc;
    size_t          base;             /* code offset of the expression */
    uint32_t        sp, max;
} emit_t;


static void
emit_op(emit_t *e, int op, int effect)
{
    ddt_buf_addc(e->cc->code, (char) op);
    e->sp = (uint32_t) ((int) e->sp + effect);
    if (e->sp > e->max) {
        e->max = e->sp;
    }
}


static void
emit_u32(emit_t *e, uint32_t v)
{
    uint8_t  b[4];

    b[0] = (uint8_t) v;
    b[1] = (uint8_t) (v >> 8);
    b[2] = (uint8_t) (v >> 16);
    b[3] = (uint8_t) (v >> 24);
    ddt_buf_add(e->cc->code, b, 4);
}


static void
patch_u32(emit_t *e, size_t at, uint32_t v)
{
    uint8_t  *p;

    if (e->cc->code->oom || at + 4 > e->cc->code->len) {
        return;
    }
    p = (uint8_t *) e->cc->code->data + at;
    p[0] = (uint8_t) v;
    p[1] = (uint8_t) (v >> 8);
    p[2] = (uint8_t) (v >> 16);
    p[3] = (uint8_t) (v >> 24);
}


static void
emit_lit(emit_t *e, const ddt_json_t *v)
{
    uint64_t  bits;
    uint8_t   b[8];
    int       i;

    switch (v->type) {
    case DDT_J_NULL:
        emit_op(e, DDT_OP_NULL, 1);
        break;
    case DDT_J_BOOL:
        emit_op(e, v->u.b ? DDT_OP_TRUE : DDT_OP_FALSE, 1);
        break;
    case DDT_J_NUM:
        emit_op(e, DDT_OP_NUM, 1);
        memcpy(&bits, &v->u.n, 8);
        for (i = 0; i < 8; i++) {
            b[i] = (uint8_t) (bits >> (8 * i));
        }
        ddt_buf_add(e->cc->code, b, 8);
        break;
    case DDT_J_STR:
        emit_op(e, DDT_OP_STR, 1);
        emit_u32(e, e->cc->str(e->cc->ud, v->u.str.s, v->u.str.len));
        emit_u32(e, (uint32_t) v->u.str.len);
        break;
    default:
        emit_op(e, DDT_OP_NULL, 1);   /* no object literals: unreachable */
        break;
    }
}


static void
emit(emit_t *e, const node_t *n)
{
    size_t  at, i;

    switch (n->kind) {
    case N_LIT:
        emit_lit(e, n->lit);
        break;
    case N_PATH:
        emit_op(e, DDT_OP_PATH, 1);
        emit_u32(e, n->idx);
        break;
    case N_VALUE:
        if (n->idx == DDT_NONE) {
            emit_op(e, DDT_OP_VALUE, 1);
        } else {
            emit_op(e, DDT_OP_VALUE_PATH, 1);
            emit_u32(e, n->idx);
        }
        break;
    case N_BIN:
        emit(e, n->a);
        emit(e, n->b);
        emit_op(e, n->op, -1);
        break;
    case N_UN:
        emit(e, n->a);
        emit_op(e, n->op, 0);
        break;
    case N_AND:
    case N_OR:
        emit(e, n->a);
        emit_op(e, n->kind == N_AND ? DDT_OP_AND : DDT_OP_OR, -1);
        at = e->cc->code->len;
        emit_u32(e, 0);
        emit(e, n->b);
        emit_op(e, DDT_OP_BOOL, 0);
        patch_u32(e, at, (uint32_t) (e->cc->code->len - e->base));
        break;
    case N_IN:
        emit(e, n->a);
        for (i = 0; i < n->n; i++) {
            emit(e, n->items[i]);
        }
        emit_op(e, DDT_OP_IN, -(int) n->n);
        emit_u32(e, (uint32_t) n->n);
        break;
    case N_GET:
        emit(e, n->a);
        emit_op(e, DDT_OP_GET, 0);
        emit_u32(e, e->cc->str(e->cc->ud, n->lit->u.str.s, n->lit->u.str.len));
        emit_u32(e, (uint32_t) n->lit->u.str.len);
        break;
    case N_CALL:
        switch (n->op) {
        case F_TODAY: emit_op(e, DDT_OP_TODAY, 1); break;
        case F_NOW:   emit_op(e, DDT_OP_NOW, 1); break;
        case F_MATCHES:
            emit(e, n->a);
            emit_op(e, DDT_OP_MATCH, 0);
            emit_u32(e, n->idx);
            break;
        default:
            emit(e, n->a);
            emit_op(e, n->op == F_EXISTS ? DDT_OP_EXISTS
                    : n->op == F_LEN ? DDT_OP_LEN
                    : n->op == F_AGE ? DDT_OP_AGE
                    : n->op == F_LOWER ? DDT_OP_LOWER : DDT_OP_UPPER, 0);
            break;
        }
        break;
    }
}


int
ddt_expr_compile(ddt_expr_cc_t *cc, const char *src, size_t len,
    ddt_bexpr_t *out, const ddt_json_t **konst)
{
    parser_t  ps;
    node_t   *root;
    emit_t    e;

    memset(&ps, 0, sizeof(ps));
    ps.cc = cc;
    ps.src = src;
    ps.len = len;
    *konst = NULL;
    out->code_off = 0;
    out->code_len = 0;
    out->max_stack = 0;

    next(&ps);
    if (ps.t == T_EOF) {
        perr(&ps, 0, "empty expression");
        return DDT_ERROR;
    }
    root = parse_or(&ps, 0);
    if (root != NULL && ps.t != T_EOF) {
        perr(&ps, ps.tstart, ps.t == T_OP && is_op(&ps, ")")
             ? "unmatched ')'" : "unexpected token after expression");
    }
    if (root == NULL || ps.errors > 0) {
        if (ps.errors == 0) {
            perr(&ps, ps.tstart, "syntax error");
        }
        return DDT_ERROR;
    }
    if (root->kind == N_LIT) {
        *konst = root->lit;
    }
    e.cc = cc;
    e.base = cc->code->len;
    e.sp = 0;
    e.max = 0;
    emit(&e, root);
    if (cc->code->oom || cc->code->len > 0xfffffff0u) {
        cc->error(cc->ud, 1, "out of memory");
        return DDT_ERROR;
    }
    out->code_off = (uint32_t) e.base;
    out->code_len = (uint32_t) (cc->code->len - e.base);
    out->max_stack = e.max;
    return DDT_OK;
}


/* ---- verifier ---------------------------------------------------------- */

static uint32_t
rd_u32(const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}


static int
operand_size(int op)
{
    switch (op) {
    case DDT_OP_NUM:  return 8;
    case DDT_OP_STR:  return 8;
    case DDT_OP_GET:  return 8;
    case DDT_OP_PATH: case DDT_OP_VALUE_PATH: case DDT_OP_AND:
    case DDT_OP_OR:   case DDT_OP_IN: case DDT_OP_MATCH:
        return 4;
    default:
        return (op >= DDT_OP_NULL && op < DDT_OP_END_) ? 0 : -1;
    }
}


int
ddt_expr_verify(const uint8_t *code, size_t len, uint32_t n_paths,
    uint32_t n_regexes, uint32_t strings_len, char *err, size_t errlen)
{
    size_t    pc;
    int       op, sz;
    uint32_t  v, l;

    pc = 0;
    while (pc < len) {
        op = code[pc];
        sz = operand_size(op);
        if (sz < 0 || pc + 1 + (size_t) sz > len) {
            snprintf(err, errlen, "bad opcode or operand at %zu", pc);
            return -1;
        }
        v = sz >= 4 ? rd_u32(code + pc + 1) : 0;
        switch (op) {
        case DDT_OP_STR:
        case DDT_OP_GET:
            l = rd_u32(code + pc + 5);
            if (v >= strings_len || l >= strings_len - v) {
                snprintf(err, errlen, "string out of range at %zu", pc);
                return -1;
            }
            break;
        case DDT_OP_PATH:
        case DDT_OP_VALUE_PATH:
            if (v >= n_paths) {
                snprintf(err, errlen, "path out of range at %zu", pc);
                return -1;
            }
            break;
        case DDT_OP_MATCH:
            if (v >= n_regexes) {
                snprintf(err, errlen, "regex out of range at %zu", pc);
                return -1;
            }
            break;
        case DDT_OP_AND:
        case DDT_OP_OR:
            if (v <= pc || v > len) {
                snprintf(err, errlen, "bad jump at %zu", pc);
                return -1;
            }
            break;
        default:
            break;
        }
        pc += 1 + (size_t) sz;
    }
    return 0;
}


/* ---- VM ------------------------------------------------------------------ */

static const ddt_json_t *
run(const ddt_project_t *p, const ddt_bexpr_t *x, const ddt_eval_ctx_t *ctx)
{
    const ddt_json_t  *local[32], **st, *a, *b, *r;
    const uint8_t     *code;
    size_t             pc, len, cap, sp, n;
    uint32_t           v;
    uint64_t           bits;
    double             d;
    int                op, sz, i, have_lt;
    ddt_localtime_t    lt;
    ddt_arena_t       *ar;
    const char        *tz;
    pcre2_match_data  *md;
    ddt_json_t        *sv;

    if ((uint64_t) x->code_off + x->code_len > p->code_len) {
        return &j_null;
    }
    code = p->code + x->code_off;
    len = x->code_len;
    ar = ctx->arena;
    cap = x->max_stack;
    if (cap > DDT_EXPR_MAX_STACK) {
        return &j_null;
    }
    if (cap <= 32) {
        st = local;
        cap = 32;
    } else {
        st = ddt_arena_alloc(ar, cap * sizeof(*st));
        if (st == NULL) {
            return &j_null;
        }
    }
    tz = ctx->timezone ? ctx->timezone : ddt_bs(p, p->hdr->timezone);
    have_lt = 0;
    memset(&lt, 0, sizeof(lt));
    sp = 0;
    pc = 0;

#define NEED(k)  do { if (sp < (k)) return &j_null; } while (0)
#define PUSH(v_) do { if (sp >= cap) return &j_null; st[sp++] = (v_); } while (0)
#define LOCALTIME() do { if (!have_lt) { \
        ddt_tz_local(tz ? tz : "UTC", ctx->now_ms, &lt); have_lt = 1; } } while (0)

    while (pc < len) {
        op = code[pc];
        sz = operand_size(op);
        if (sz < 0 || pc + 1 + (size_t) sz > len) {
            return &j_null;
        }
        v = sz >= 4 ? rd_u32(code + pc + 1) : 0;
        pc += 1 + (size_t) sz;

        switch (op) {
        case DDT_OP_NULL:  PUSH(&j_null); break;
        case DDT_OP_TRUE:  PUSH(&j_true); break;
        case DDT_OP_FALSE: PUSH(&j_false); break;
        case DDT_OP_NUM:
            bits = 0;
            for (i = 0; i < 8; i++) {
                bits |= (uint64_t) code[pc - 8 + (size_t) i] << (8 * i);
            }
            memcpy(&d, &bits, 8);
            PUSH(mk_num(ar, d));
            break;
        case DDT_OP_STR:
            n = rd_u32(code + pc - 4);
            if (p->hdr->sec[DDT_SEC_STRINGS].count <= v
                || n >= p->hdr->sec[DDT_SEC_STRINGS].count - v)
            {
                return &j_null;
            }
            sv = ddt_json_str(ar, p->strings + v, n);
            PUSH(sv ? sv : &j_null);
            break;
        case DDT_OP_GET:
            NEED(1);
            n = rd_u32(code + pc - 4);
            if (p->hdr->sec[DDT_SEC_STRINGS].count <= v
                || n >= p->hdr->sec[DDT_SEC_STRINGS].count - v)
            {
                return &j_null;
            }
            a = ddt_json_get(st[sp - 1], p->strings + v, n);
            st[sp - 1] = a ? a : &j_null;
            break;
        case DDT_OP_PATH:
            if (v >= p->n_paths) {
                return &j_null;
            }
            a = ctx->memory ? ddt_mem_get(p, ctx->memory, v) : NULL;
            PUSH(a ? a : &j_null);
            break;
        case DDT_OP_VALUE:
            PUSH(ctx->value ? ctx->value : &j_null);
            break;
        case DDT_OP_VALUE_PATH:
            a = ctx->value ? value_path(ctx->value, p, v) : NULL;
            PUSH(a ? a : &j_null);
            break;
        case DDT_OP_EQ: case DDT_OP_NE: case DDT_OP_LT: case DDT_OP_LE:
        case DDT_OP_GT: case DDT_OP_GE: case DDT_OP_ADD: case DDT_OP_SUB:
        case DDT_OP_MUL: case DDT_OP_DIV: case DDT_OP_MOD:
            NEED(2);
            b = st[--sp];
            a = st[sp - 1];
            st[sp - 1] = binop(op, a, b, ar);
            break;
        case DDT_OP_NOT:
            NEED(1);
            st[sp - 1] = JB(!is_true(st[sp - 1]));
            break;
        case DDT_OP_BOOL:
            NEED(1);
            st[sp - 1] = JB(is_true(st[sp - 1]));
            break;
        case DDT_OP_NEG:
            NEED(1);
            a = st[sp - 1];
            st[sp - 1] = a->type == DDT_J_NUM ? mk_num(ar, -a->u.n) : &j_null;
            break;
        case DDT_OP_AND:
        case DDT_OP_OR:
            NEED(1);
            if (v <= pc - 5 || v > len) {
                return &j_null;
            }
            if (op == DDT_OP_AND ? !is_true(st[sp - 1]) : is_true(st[sp - 1]))
            {
                st[sp - 1] = JB(op == DDT_OP_OR);
                pc = v;
            } else {
                sp--;
            }
            break;
        case DDT_OP_IN:
            if (v >= sp) {
                return &j_null;
            }
            r = fn_in(st[sp - v - 1], st + sp - v, v);
            sp -= v;
            st[sp - 1] = r;
            break;
        case DDT_OP_EXISTS:
            NEED(1);
            st[sp - 1] = JB(st[sp - 1]->type != DDT_J_NULL);
            break;
        case DDT_OP_LEN:
            NEED(1);
            st[sp - 1] = fn_len(st[sp - 1], ar);
            break;
        case DDT_OP_TODAY:
        case DDT_OP_NOW:
            LOCALTIME();
            PUSH(mk_today(ar, &lt, op == DDT_OP_NOW));
            break;
        case DDT_OP_AGE:
            NEED(1);
            LOCALTIME();
            st[sp - 1] = fn_age(st[sp - 1], &lt, ar);
            break;
        case DDT_OP_LOWER:
        case DDT_OP_UPPER:
            NEED(1);
            st[sp - 1] = fn_case(st[sp - 1], op == DDT_OP_UPPER, ar);
            break;
        case DDT_OP_MATCH:
            NEED(1);
            a = st[sp - 1];
            if (a->type != DDT_J_STR || v >= p->n_regexes
                || p->regexes == NULL || p->regexes[v] == NULL)
            {
                st[sp - 1] = &j_null;
                break;
            }
            md = pcre2_match_data_create_from_pattern(p->regexes[v], NULL);
            if (md == NULL) {
                st[sp - 1] = &j_null;
                break;
            }
            i = pcre2_match(p->regexes[v], (PCRE2_SPTR) a->u.str.s,
                            a->u.str.len, 0, 0, md, p->match_ctx);
            pcre2_match_data_free(md);
            st[sp - 1] = i >= 0 ? &j_true
                         : i == PCRE2_ERROR_NOMATCH ? &j_false : &j_null;
            break;
        default:
            return &j_null;
        }
    }
#undef NEED
#undef PUSH
#undef LOCALTIME

    return sp == 1 ? st[0] : &j_null;
}


const ddt_json_t *
ddt_expr_eval(const ddt_project_t *p, uint32_t expr, const ddt_eval_ctx_t *ctx)
{
    if (p == NULL || ctx == NULL || ctx->arena == NULL
        || expr >= p->n_exprs)
    {
        return &j_null;
    }
    return run(p, &p->exprs[expr], ctx);
}


int
ddt_expr_true(const ddt_project_t *p, uint32_t expr, const ddt_eval_ctx_t *ctx)
{
    return is_true(ddt_expr_eval(p, expr, ctx));
}
