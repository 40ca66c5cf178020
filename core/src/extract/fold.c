/*
 * extract/fold.c: text folding for matching (ddt_text_fold), the tokenizer
 * over folded text, word/phrase matching helpers, and ddt_parse, the entry
 * point that folds, tokenizes and hands over to the kind's parser.
 *
 * Why utf8proc: SPEC 9.6 wants lexicons, synonyms and month names matched
 * case- and accent-insensitively after NFC ("si" = "sì", "SÌ", or "si"
 * followed by a combining grave).  That needs the Unicode decomposition
 * and case-folding tables, which libc does not have (towlower is
 * locale-dependent and knows nothing of canonical equivalence).  utf8proc
 * gives both per code point, so the folded text can keep a map back to the
 * original byte offsets.  We decompose canonically, case fold and drop the
 * marks: that result is the same for every canonically equivalent input,
 * so it is at least as strong as comparing after NFC, and accents vanish.
 */
#include <string.h>
#include <utf8proc.h>

#include "ex.h"

#define FOLD_OPTS  (UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK)
#define FOLD_MAXCP 32

/*
 * Fold one code point into cps; returns how many.  A few characters are
 * mapped first: controls and separators to a space, typographic quotes to
 * the ASCII apostrophe, dashes to '-', so "that’s" and "that's" match.
 */
static int
fold_cp(int32_t cp, int32_t *cps)
{
    utf8proc_int32_t  buf[FOLD_MAXCP];
    utf8proc_ssize_t  n;
    int               bc, i;

    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)
        || cp == 0x2028 || cp == 0x2029)
    {
        cps[0] = ' ';
        return 1;
    }

    switch (cp) {
    case 0x2018: case 0x2019: case 0x201b: case 0x02bc: case 0x00b4:
    case 0x0060: case 0x2032:
        cps[0] = '\'';
        return 1;
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014:
    case 0x2015: case 0x2212:
        cps[0] = '-';
        return 1;
    case 0x201c: case 0x201d: case 0x00ab: case 0x00bb:
        cps[0] = '"';
        return 1;
    default:
        break;
    }

    if (cp < 0x80) {
        cps[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
        return 1;
    }

    if (utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS) {
        cps[0] = ' ';
        return 1;
    }

    bc = 0;
    n = utf8proc_decompose_char(cp, buf, FOLD_MAXCP, FOLD_OPTS, &bc);
    if (n < 0 || n > FOLD_MAXCP) {
        cps[0] = '?';
        return 1;
    }

    for (i = 0; i < n; i++) {
        cps[i] = buf[i];
    }

    return (int) n;
}

int
ddt_text_fold(ddt_arena_t *a, const char *text, size_t len,
    ddt_folded_t *out)
{
    const uint8_t      *p = (const uint8_t *) text;
    int32_t             cps[FOLD_MAXCP];
    utf8proc_int32_t    cp;
    utf8proc_ssize_t    step;
    utf8proc_uint8_t    enc[4];
    size_t              pos, total, w;
    int                 pass, n, k, e, b;

    memset(out, 0, sizeof(*out));
    total = 0;

    /* Pass 0 measures, pass 1 writes. */
    for (pass = 0; pass < 2; pass++) {
        w = 0;
        pos = 0;

        while (pos < len) {
            step = utf8proc_iterate(p + pos, (utf8proc_ssize_t) (len - pos),
                                    &cp);
            if (step <= 0) {
                cp = '?';
                step = 1;
            }

            n = fold_cp(cp, cps);

            for (k = 0; k < n; k++) {
                e = (int) utf8proc_encode_char(cps[k], enc);
                if (e <= 0) {
                    enc[0] = '?';
                    e = 1;
                }
                if (pass == 1) {
                    for (b = 0; b < e; b++) {
                        out->s[w + b] = (char) enc[b];
                        out->orig[w + b] = pos;
                    }
                }
                w += (size_t) e;
            }

            pos += (size_t) step;
        }

        if (pass == 0) {
            total = w;
            out->s = ddt_arena_alloc(a, total + 1);
            out->orig = ddt_arena_alloc(a, (total + 1) * sizeof(size_t));
            if (out->s == NULL || out->orig == NULL) {
                memset(out, 0, sizeof(*out));
                return DDT_ERROR;
            }
        }
    }

    out->s[total] = '\0';
    out->orig[total] = len;
    out->len = total;

    return DDT_OK;
}

/* ---- tokens ---------------------------------------------------------- */

static int
is_space_cp(int32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r'
           || cp == '\v' || cp == '\f';
}

/* Class of a code point of folded text: 0 space, EX_WORD+1, EX_NUM+1,
 * EX_PUNCT+1. */
static int
cp_class(int32_t cp)
{
    utf8proc_category_t  cat;

    if (cp < 0x80) {
        if (is_space_cp(cp)) {
            return 0;
        }
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) {
            return EX_WORD + 1;
        }
        if (cp >= '0' && cp <= '9') {
            return EX_NUM + 1;
        }
        return EX_PUNCT + 1;
    }

    cat = utf8proc_category(cp);

    switch (cat) {
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return 0;
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return EX_WORD + 1;
    default:
        return EX_PUNCT + 1;
    }
}

static size_t
next_cp(const char *s, size_t len, size_t pos, int32_t *cp)
{
    utf8proc_ssize_t  step;

    step = utf8proc_iterate((const uint8_t *) s + pos,
                            (utf8proc_ssize_t) (len - pos), cp);
    if (step <= 0) {
        *cp = '?';
        return 1;
    }
    return (size_t) step;
}

/* Next token at or after pos; 0 at the end. */
int
ex_next_token(const char *s, size_t len, size_t pos, ex_tok_t *t)
{
    int32_t  cp;
    size_t   step;
    int      cls, sp;

    sp = (pos == 0);

    for ( ;; ) {
        if (pos >= len) {
            return 0;
        }
        step = next_cp(s, len, pos, &cp);
        cls = cp_class(cp);
        if (cls != 0) {
            break;
        }
        sp = 1;
        pos += step;
    }

    t->fs = (uint32_t) pos;
    t->type = (uint8_t) (cls - 1);
    t->sp = (uint8_t) sp;
    pos += step;

    if (cls != EX_PUNCT + 1) {
        while (pos < len) {
            step = next_cp(s, len, pos, &cp);
            if (cp_class(cp) != cls) {
                break;
            }
            pos += step;
        }
    }

    t->fe = (uint32_t) pos;
    return 1;
}

int
ex_tokenize(ex_ctx_t *c)
{
    ex_tok_t  tok;
    size_t    pos, n, cap;

    n = 0;
    pos = 0;
    cap = 0;

    /* Count first (bounded), then fill. */
    while (n < EX_MAX_TOKENS && ex_next_token(c->f.s, c->f.len, pos, &tok)) {
        n++;
        pos = tok.fe;
    }
    cap = n;

    c->t = ddt_arena_alloc(c->a, (cap + 1) * sizeof(ex_tok_t));
    if (c->t == NULL) {
        return DDT_ERROR;
    }

    n = 0;
    pos = 0;
    while (n < cap && ex_next_token(c->f.s, c->f.len, pos, &tok)) {
        c->t[n++] = tok;
        pos = tok.fe;
    }
    c->n = n;

    return DDT_OK;
}

const char *
ex_ts(const ex_ctx_t *c, size_t i)
{
    return c->f.s + c->t[i].fs;
}

size_t
ex_tlen(const ex_ctx_t *c, size_t i)
{
    return c->t[i].fe - c->t[i].fs;
}

int
ex_is(const ex_ctx_t *c, size_t i, const char *w)
{
    size_t  l;

    if (i >= c->n) {
        return 0;
    }
    l = strlen(w);
    return ex_tlen(c, i) == l && memcmp(ex_ts(c, i), w, l) == 0;
}

int
ex_is_any(const ex_ctx_t *c, size_t i, const char *const *ws)
{
    for ( ; *ws; ws++) {
        if (ex_is(c, i, *ws)) {
            return 1;
        }
    }
    return 0;
}

int
ex_adj(const ex_ctx_t *c, size_t i)
{
    return i > 0 && i < c->n && !c->t[i].sp;
}

int
ex_punct(const ex_ctx_t *c, size_t i, char ch)
{
    return i < c->n && c->t[i].type == EX_PUNCT && ex_tlen(c, i) == 1
           && ex_ts(c, i)[0] == ch;
}

size_t
ex_phrase(const ex_ctx_t *c, size_t i, const char *ph, size_t phlen)
{
    ex_tok_t  pt;
    size_t    pos, k;

    pos = 0;
    k = i;

    /* Cheap reject on the first byte before tokenizing the phrase. */
    while (pos < phlen && ph[pos] == ' ') {
        pos++;
    }
    if (i >= c->n || pos >= phlen || ex_ts(c, i)[0] != ph[pos]) {
        return 0;
    }

    while (ex_next_token(ph, phlen, pos, &pt)) {
        if (k >= c->n) {
            return 0;
        }
        if (c->t[k].type != pt.type
            || ex_tlen(c, k) != pt.fe - pt.fs
            || memcmp(ex_ts(c, k), ph + pt.fs, pt.fe - pt.fs) != 0)
        {
            return 0;
        }
        k++;
        pos = pt.fe;
    }

    return k - i;
}

size_t
ex_phrases(const ex_ctx_t *c, size_t i, const char *const *list, int *which)
{
    size_t  best, m;
    int     k;

    best = 0;
    *which = -1;

    for (k = 0; list[k]; k++) {
        m = ex_phrase(c, i, list[k], strlen(list[k]));
        if (m > best) {
            best = m;
            *which = k;
        }
    }

    return best;
}

void
ex_span(const ex_ctx_t *c, size_t i, size_t j, size_t *start, size_t *end)
{
    *start = c->f.orig[c->t[i].fs];
    *end = c->f.orig[c->t[j - 1].fe];
}

/* ---- entry point ----------------------------------------------------- */

static int
parse_text(ex_ctx_t *c, ddt_match_t *m)
{
    size_t  s, e;

    s = 0;
    e = c->len;
    while (s < e && (c->text[s] == ' ' || c->text[s] == '\t'
                     || c->text[s] == '\n' || c->text[s] == '\r'))
    {
        s++;
    }
    while (e > s && (c->text[e - 1] == ' ' || c->text[e - 1] == '\t'
                     || c->text[e - 1] == '\n' || c->text[e - 1] == '\r'))
    {
        e--;
    }
    if (s == e) {
        return 0;
    }

    m->value = ddt_json_str(c->a, c->text + s, e - s);
    if (m->value == NULL) {
        return 0;
    }
    m->start = s;
    m->end = e;
    m->marker = 0;

    return 1;
}

int
ddt_parse(ddt_kind_t kind, const ddt_parse_opts_t *o, const char *text,
    size_t len, ddt_arena_t *a, ddt_match_t *m)
{
    ex_ctx_t   c;
    ex_cand_t  cand;
    int        rc;

    memset(m, 0, sizeof(*m));
    memset(&c, 0, sizeof(c));

    if (o == NULL || text == NULL || a == NULL) {
        return 0;
    }

    c.o = o;
    c.loc = (o->locale == DDT_LOCALE_EN) ? DDT_LOCALE_EN : DDT_LOCALE_IT;
    c.text = text;
    c.len = len;
    c.a = a;

    if (kind == DDT_KIND_TEXT) {
        return parse_text(&c, m);
    }

    if (ddt_text_fold(a, text, len, &c.f) != DDT_OK
        || ex_tokenize(&c) != DDT_OK)
    {
        return 0;
    }

    c.wcache = ddt_arena_alloc(a, (c.n + 1) * sizeof(ex_num_t));
    c.wstate = ddt_arena_alloc(a, c.n + 1);
    if (c.wcache == NULL || c.wstate == NULL) {
        return 0;
    }

    memset(&cand, 0, sizeof(cand));

    switch (kind) {
    case DDT_KIND_NUMBER:      rc = ex_parse_number(&c, 0, &cand); break;
    case DDT_KIND_INTEGER:     rc = ex_parse_number(&c, 1, &cand); break;
    case DDT_KIND_DATE:        rc = ex_parse_date(&c, &cand); break;
    case DDT_KIND_TIME:        rc = ex_parse_time(&c, &cand); break;
    case DDT_KIND_MONTH:       rc = ex_parse_month(&c, &cand); break;
    case DDT_KIND_YESNO:       rc = ex_parse_yesno(&c, &cand); break;
    case DDT_KIND_CHOICE:      rc = ex_parse_choice(&c, &cand); break;
    case DDT_KIND_EMAIL:       rc = ex_parse_email(&c, &cand); break;
    case DDT_KIND_PHONE:       rc = ex_parse_phone(&c, &cand); break;
    case DDT_KIND_POSTALCODE:  rc = ex_parse_postal(&c, &cand); break;
    case DDT_KIND_FISCALCODE:  rc = ex_parse_fiscal(&c, &cand); break;
    case DDT_KIND_IBAN:        rc = ex_parse_iban(&c, &cand); break;
    case DDT_KIND_AMOUNT:      rc = ex_parse_amount(&c, &cand); break;
    default:                   rc = 0; break;
    }

    if (rc != 1 || cand.value == NULL || cand.j <= cand.i
        || cand.j > c.n)
    {
        return 0;
    }

    m->value = cand.value;
    m->marker = cand.marker;
    ex_span(&c, cand.i, cand.j, &m->start, &m->end);

    return 1;
}
