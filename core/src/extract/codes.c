/*
 * extract/codes.c: the kinds that are codes: email (written or spoken:
 * "mario punto rossi chiocciola gmail punto com"), phone (Italian and US
 * numbers, spoken digits, "doppio tre" / "double three", a '+' and country
 * code only when said), postal codes, the Italian codice fiscale (shape and
 * check character) and IBAN (country length and mod 97).
 */
#include <stdio.h>
#include <string.h>

#include "ex.h"

#define EMAIL_MAX   254
#define PHONE_MAX   20

static int
ascii_alnum_tok(const ex_ctx_t *c, size_t i)
{
    const char  *s;
    size_t       l, k;

    if (i >= c->n || c->t[i].type == EX_PUNCT) {
        return 0;
    }
    s = ex_ts(c, i);
    l = ex_tlen(c, i);
    for (k = 0; k < l; k++) {
        if (!((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= '0' && s[k] <= '9'))) {
            return 0;
        }
    }
    return 1;
}

/* ---- email ----------------------------------------------------------- */

/* A separator at i, written or spoken: its character, *end after it. */
static char
email_sep(const ex_ctx_t *c, size_t i, size_t *end, int local)
{
    static const struct { const char *ph; char ch; }  seps[] = {
        { "punto", '.' }, { "dot", '.' },
        { "trattino basso", '_' }, { "underscore", '_' },
        { "under score", '_' }, { "sottolineato", '_' },
        { "trattino", '-' }, { "dash", '-' }, { "hyphen", '-' },
        { "meno", '-' }, { "minus", '-' },
        { NULL, 0 }
    };
    size_t  l, best;
    char    ch;
    int     k;

    if (i >= c->n) {
        return 0;
    }
    if (c->t[i].type == EX_PUNCT && ex_tlen(c, i) == 1) {
        ch = ex_ts(c, i)[0];
        if (ch == '.' || ch == '-' || ch == '_' || (local && ch == '+')) {
            *end = i + 1;
            return ch;
        }
        return 0;
    }

    best = 0;
    ch = 0;
    for (k = 0; seps[k].ph; k++) {
        l = ex_phrase(c, i, seps[k].ph, strlen(seps[k].ph));
        if (l > best) {
            best = l;
            ch = seps[k].ch;
        }
    }
    if (best) {
        *end = i + best;
    }
    return ch;
}

static size_t
email_at(const ex_ctx_t *c, size_t i)
{
    static const char *const  ats[] = {
        "chiocciola", "chiocciolina", "at", "at sign", NULL
    };
    int  w;

    if (ex_punct(c, i, '@')) {
        return 1;
    }
    return ex_phrases(c, i, ats, &w);
}

/* A run of glued atoms from i ("mario80"): *end after it. */
static int
email_atoms(const ex_ctx_t *c, size_t i, size_t *end)
{
    if (!ascii_alnum_tok(c, i)) {
        return 0;
    }
    i++;
    while (i < c->n && ex_adj(c, i) && ascii_alnum_tok(c, i)) {
        i++;
    }
    *end = i;
    return 1;
}

static int
buf_tok(char *buf, size_t *bl, const ex_ctx_t *c, size_t i, size_t j)
{
    size_t  k, l;

    for (k = i; k < j; k++) {
        l = ex_tlen(c, k);
        if (*bl + l > EMAIL_MAX) {
            return 0;
        }
        memcpy(buf + *bl, ex_ts(c, k), l);
        *bl += l;
    }
    return 1;
}

/* A word that can start a local part before digits said apart. */
static int
email_name_word(const ex_ctx_t *c, size_t i)
{
    static const char *const  stop[] = {
        "is", "il", "la", "le", "lo", "my", "mia", "mio", "mail", "email",
        "address", "indirizzo", "to", "at", "it", "its", "ed", "ad", "al",
        "da", "di", "per", "for", "the", "and", "or", "o", "numero",
        "number", "chiocciola", NULL
    };
    size_t                    e;
    int                       w;

    if (i >= c->n || c->t[i].type != EX_WORD || ex_tlen(c, i) < 2
        || !ascii_alnum_tok(c, i) || email_sep(c, i, &e, 1)
        || email_at(c, i))
    {
        return 0;
    }
    return ex_phrases(c, i, stop, &w) != 1;
}

/* Digits or one number word ("ottanta", "eighty"): its value or -1. */
static long
email_num_val(const ex_ctx_t *c, size_t i)
{
    ex_num_t  w;

    if (i >= c->n) {
        return -1;
    }
    if (c->t[i].type == EX_NUM) {
        return 0;
    }
    if (c->t[i].type == EX_WORD && ex_word_number(c, i, &w)
        && w.end == i + 1 && !w.frac && w.v >= 0 && w.v < 1e6)
    {
        return (long) w.v;
    }
    return -1;
}

static int
email_num_tok(const ex_ctx_t *c, size_t i)
{
    return email_num_val(c, i) >= 0;
}

/* The local part ending just before token a: its first token, or a. */
static size_t
email_local_start(const ex_ctx_t *c, size_t a)
{
    size_t  k, s, e, p;
    int     moved;

    if (a == 0 || !ascii_alnum_tok(c, a - 1)) {
        return a;
    }

    /* Back over glued atoms, then over separators with atoms before. */
    s = a - 1;
    for ( ;; ) {
        /* a local part is at most 64 characters: bound the walk */
        if (a - s > 128) {
            return a;
        }
        while (s > 0 && ex_adj(c, s) && ascii_alnum_tok(c, s - 1)
               && a - s <= 128)
        {
            s--;
        }
        /* digits said apart from the name they belong to: an ASR writes
         * "mario80" as "mario 80" */
        k = s;
        while (k > 0 && s - k < 8 && email_num_tok(c, k) && c->t[k].sp) {
            k--;
        }
        if (k < s && !email_num_tok(c, k) && email_name_word(c, k)) {
            s = k;
            continue;
        }
        moved = 0;
        /* written separator glued on both sides */
        if (s >= 2 && ex_adj(c, s) && ex_adj(c, s - 1)
            && email_sep(c, s - 1, &e, 1) && e == s
            && ascii_alnum_tok(c, s - 2))
        {
            s -= 2;
            moved = 1;
        } else {
            /* spoken separator of one or two words */
            for (p = 1; p <= 2 && !moved; p++) {
                if (s < p + 1) {
                    break;
                }
                k = s - p;
                if (c->t[k].type == EX_WORD && email_sep(c, k, &e, 1)
                    && e == s && ascii_alnum_tok(c, k - 1))
                {
                    s = k - 1;
                    moved = 1;
                }
            }
        }
        if (!moved) {
            break;
        }
    }
    return s;
}

int
ex_parse_email(ex_ctx_t *c, ex_cand_t *out)
{
    char    buf[EMAIL_MAX + 1];
    size_t  a, al, s, k, e, e1, e2, bl, last_dot, dend, labels;
    long    nv;
    char    ch;
    int     ok;

    for (a = 1; a < c->n; a++) {
        al = email_at(c, a);
        if (al == 0) {
            continue;
        }

        s = email_local_start(c, a);
        if (s == a) {
            continue;
        }

        /* local part */
        bl = 0;
        ok = 1;
        k = s;
        while (k < a && ok) {
            if (k > s && c->t[k].type == EX_WORD && c->t[k].sp
                && ascii_alnum_tok(c, k - 1)
                && (nv = email_num_val(c, k)) >= 0 && bl + 8 < EMAIL_MAX)
            {
                /* "neri ottanta" is neri80 */
                bl += (size_t) snprintf(buf + bl, 8, "%ld", nv);
                k++;
            } else if (ascii_alnum_tok(c, k)
                && !(c->t[k].sp && k + 1 < c->n && c->t[k + 1].sp
                     && email_sep(c, k, &e, 1)))
            {
                ok = buf_tok(buf, &bl, c, k, k + 1);
                k++;
            } else if ((ch = email_sep(c, k, &e, 1)) != 0 && bl < EMAIL_MAX) {
                buf[bl++] = ch;
                k = e;
            } else {
                ok = 0;
            }
        }
        if (!ok || bl >= EMAIL_MAX) {
            continue;
        }
        buf[bl++] = '@';

        /* domain: label ((sep) label)*, at least one dot */
        k = a + al;
        if (!email_atoms(c, k, &e)) {
            continue;
        }
        if (!buf_tok(buf, &bl, c, k, e)) {
            continue;
        }
        dend = e;
        k = e;
        labels = 1;
        last_dot = 0;
        for ( ;; ) {
            ch = email_sep(c, k, &e1, 0);
            if (ch == 0 || !email_atoms(c, e1, &e2) || bl + 1 > EMAIL_MAX) {
                break;
            }
            buf[bl++] = ch;
            if (ch == '.') {
                last_dot = bl;
            }
            if (!buf_tok(buf, &bl, c, e1, e2)) {
                break;
            }
            labels++;
            dend = e2;
            k = e2;
        }

        if (last_dot == 0 || bl - last_dot < 2) {
            continue;
        }
        /* the top-level label is letters only */
        for (k = last_dot; k < bl; k++) {
            if (buf[k] < 'a' || buf[k] > 'z') {
                break;
            }
        }
        if (k != bl || labels < 2) {
            continue;
        }
        if (buf[0] == '.' || buf[bl - 1] == '-') {
            continue;
        }

        out->i = s;
        out->j = dend;
        out->marker = 1;
        out->value = ddt_json_str(c->a, buf, bl);
        return out->value != NULL;
    }

    return 0;
}

/* ---- phone ----------------------------------------------------------- */

/* Digits said at i: appended to buf; *end after.  0 if none. */
static int
phone_digits_at(const ex_ctx_t *c, size_t i, char *buf, size_t *bl,
    size_t *end)
{
    ex_num_t  w;
    size_t    l, k;
    int       d, times;
    char      tmp[8];

    if (i >= c->n) {
        return 0;
    }

    if (c->t[i].type == EX_NUM) {
        l = ex_tlen(c, i);
        if (*bl + l > PHONE_MAX) {
            return -1;
        }
        memcpy(buf + *bl, ex_ts(c, i), l);
        *bl += l;
        *end = i + 1;
        return 1;
    }

    times = 0;
    if (ex_is(c, i, "doppio") || ex_is(c, i, "doppia")
        || ex_is(c, i, "double"))
    {
        times = 2;
    } else if (ex_is(c, i, "triplo") || ex_is(c, i, "tripla")
               || ex_is(c, i, "triple"))
    {
        times = 3;
    }
    if (times) {
        if (i + 1 < c->n && c->t[i + 1].type == EX_NUM
            && ex_tlen(c, i + 1) == 1)
        {
            d = ex_ts(c, i + 1)[0] - '0';
        } else {
            d = ex_digit_word(c, i + 1);
        }
        if (d < 0) {
            return 0;
        }
        if (*bl + (size_t) times > PHONE_MAX) {
            return -1;
        }
        while (times--) {
            buf[(*bl)++] = (char) ('0' + d);
        }
        *end = i + 2;
        return 1;
    }

    d = ex_digit_word(c, i);
    if (d >= 0) {
        if (*bl + 1 > PHONE_MAX) {
            return -1;
        }
        buf[(*bl)++] = (char) ('0' + d);
        *end = i + 1;
        return 1;
    }

    /* "trentaquattro", "trecentoquarantasette": the digits of the number */
    if (c->t[i].type == EX_WORD && ex_word_number(c, i, &w)
        && w.v >= 10 && w.v < 1000)
    {
        d = (int) w.v;
        l = 0;
        while (d > 0) {
            tmp[l++] = (char) ('0' + d % 10);
            d /= 10;
        }
        if (*bl + l > PHONE_MAX) {
            return -1;
        }
        for (k = l; k > 0; k--) {
            buf[(*bl)++] = tmp[k - 1];
        }
        *end = w.end;
        return 1;
    }

    return 0;
}

static int
phone_valid(const ex_ctx_t *c, const char *d, size_t n, int plus)
{
    if (plus) {
        return n >= 8 && n <= 15 && d[0] != '0';
    }
    if (c->loc == DDT_LOCALE_EN) {
        return n == 7 || n == 10 || (n == 11 && d[0] == '1')
               || (n >= 11 && n <= 15 && d[0] == '0' && d[1] == '1'
                   && d[2] == '1');
    }
    if (n >= 11 && n <= 15 && d[0] == '0' && d[1] == '0') {
        return 1;
    }
    return n >= 6 && n <= 11 && (d[0] == '0' || d[0] == '3' || d[0] == '8');
}

int
ex_parse_phone(ex_ctx_t *c, ex_cand_t *out)
{
    char    buf[PHONE_MAX + 2];
    size_t  i, k, bl, e, last;
    int     plus, r, any;

    for (i = 0; i < c->n; i++) {
        k = i;
        plus = 0;
        bl = 0;

        if (ex_punct(c, k, '+') || ex_is(c, k, "piu") || ex_is(c, k, "plus")) {
            plus = 1;
            k++;
        }
        if (ex_punct(c, k, '(')) {
            k++;
        }

        if (k < c->n && c->t[k].type == EX_NUM && ex_adj(c, k)
            && c->t[k - 1].type == EX_WORD)
        {
            continue;
        }

        any = 0;
        last = k;
        r = 0;
        for ( ;; ) {
            r = phone_digits_at(c, k, buf, &bl, &e);
            if (r <= 0) {
                break;
            }
            any = 1;
            last = e;
            k = e;
            /* separators between groups */
            while (k < c->n && (ex_punct(c, k, '-') || ex_punct(c, k, '.')
                                || ex_punct(c, k, '/') || ex_punct(c, k, '(')
                                || ex_punct(c, k, ')') || ex_punct(c, k, ',')))
            {
                k++;
            }
        }

        if (!any) {
            continue;
        }
        /* Digits glued to letters ("abc123") are not a phone number. */
        if (last < c->n && ex_adj(c, last) && c->t[last].type == EX_WORD) {
            i = last - 1;
            continue;
        }
        if (r < 0 || !phone_valid(c, buf, bl, plus)) {
            i = last - 1;
            continue;
        }

        if (plus) {
            memmove(buf + 1, buf, bl);
            buf[0] = '+';
            bl++;
        }

        out->i = i;
        out->j = last;
        out->marker = plus || bl >= 9;
        out->value = ddt_json_str(c->a, buf, bl);
        return out->value != NULL;
    }

    return 0;
}

/* ---- postal code ----------------------------------------------------- */

int
ex_parse_postal(ex_ctx_t *c, ex_cand_t *out)
{
    char    buf[16];
    size_t  i, k, bl, e;
    int     d;

    for (i = 0; i < c->n; i++) {
        bl = 0;
        e = i;

        if (c->t[i].type == EX_NUM && ex_tlen(c, i) > 1) {
            if (ex_tlen(c, i) != 5 || (ex_adj(c, i)
                                       && !ex_punct(c, i - 1, '(')
                                       && !ex_punct(c, i - 1, ':')))
            {
                continue;
            }
            memcpy(buf, ex_ts(c, i), 5);
            bl = 5;
            e = i + 1;
            if (c->loc == DDT_LOCALE_EN && ex_punct(c, e, '-')
                && ex_adj(c, e) && ex_adj(c, e + 1)
                && e + 1 < c->n && c->t[e + 1].type == EX_NUM
                && ex_tlen(c, e + 1) == 4)
            {
                memcpy(buf + 5, ex_ts(c, e + 1), 4);
                bl = 9;
                e += 2;
            }
            /* glued to more: a longer code, a decimal, a word */
            if (e < c->n && ex_adj(c, e)
                && (c->t[e].type != EX_PUNCT
                    || (e + 1 < c->n && ex_adj(c, e + 1)
                        && c->t[e + 1].type != EX_PUNCT)))
            {
                continue;
            }
            /* a group of a longer number said with spaces */
            if ((i > 0 && c->t[i - 1].type == EX_NUM)
                || (e < c->n && c->t[e].type == EX_NUM))
            {
                continue;
            }
        } else {
            /* spoken digits: exactly five (or nine for ZIP+4) */
            for (k = i; k < c->n && bl < 10; k++) {
                d = ex_digit_word(c, k);
                if (d < 0 && c->t[k].type == EX_NUM && ex_tlen(c, k) == 1
                    && c->t[k].sp)
                {
                    d = ex_ts(c, k)[0] - '0';
                }
                if (d < 0) {
                    break;
                }
                buf[bl++] = (char) ('0' + d);
            }
            if (bl < 5 || (i > 0 && (ex_digit_word(c, i - 1) >= 0
                                     || c->t[i - 1].type == EX_NUM)))
            {
                continue;
            }
            if (!(bl == 5 || (bl == 9 && c->loc == DDT_LOCALE_EN))) {
                continue;
            }
            e = k;
        }

        out->i = i;
        out->j = e;
        out->marker = 0;
        out->value = ddt_json_str(c->a, buf, bl);
        return out->value != NULL;
    }

    return 0;
}

/* ---- codice fiscale --------------------------------------------------- */

static int
cf_omo(char ch)
{
    static const char  omo[] = "LMNPQRSTUV";
    const char        *p;

    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    p = strchr(omo, ch);
    return (ch && p) ? (int) (p - omo) : -1;
}

/* code: 16 upper-case characters. */
static int
cf_valid(const char *code)
{
    static const int  odd_digit[10] = { 1, 0, 5, 7, 9, 13, 15, 17, 19, 21 };
    static const int  odd_alpha[26] = {
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12,
        14, 16, 10, 22, 25, 24, 23
    };
    static const int  digit_pos[] = { 6, 7, 9, 10, 12, 13, 14 };
    int               k, sum, v, day;
    char              ch;

    for (k = 0; k < 16; k++) {
        ch = code[k];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) {
            return 0;
        }
    }
    for (k = 0; k < 6; k++) {
        if (code[k] < 'A' || code[k] > 'Z') {
            return 0;
        }
    }
    for (k = 0; k < 7; k++) {
        if (cf_omo(code[digit_pos[k]]) < 0) {
            return 0;
        }
    }
    if (strchr("ABCDEHLMPRST", code[8]) == NULL || code[8] == '\0') {
        return 0;
    }
    if (code[11] < 'A' || code[11] > 'Z' || code[15] < 'A'
        || code[15] > 'Z')
    {
        return 0;
    }
    day = cf_omo(code[9]) * 10 + cf_omo(code[10]);
    if (!((day >= 1 && day <= 31) || (day >= 41 && day <= 71))) {
        return 0;
    }

    sum = 0;
    for (k = 0; k < 15; k++) {
        ch = code[k];
        if (k % 2 == 0) {      /* odd positions, 1-based */
            v = (ch >= '0' && ch <= '9') ? odd_digit[ch - '0']
                                         : odd_alpha[ch - 'A'];
        } else {
            v = (ch >= '0' && ch <= '9') ? ch - '0' : ch - 'A';
        }
        sum += v;
    }

    return code[15] == 'A' + sum % 26;
}

/*
 * One piece of a code said or written from token k, upper case, into buf
 * (room for `room` bytes): an alphanumeric token as written, a digit word,
 * "doppio"/"double" + digit, a number word ("sessanta" is 60) or, in
 * Italian, a letter name ("erre", "esse", "acca").  Returns its length
 * (0: not a code piece) and the token after it in *end.
 */
static size_t
code_piece(const ex_ctx_t *c, size_t k, char *buf, size_t room, size_t *end)
{
    static const struct { const char *ph; char ch; }  it_letters[] = {
        { "bi", 'B' }, { "ci", 'C' }, { "di", 'D' }, { "effe", 'F' },
        { "gi", 'G' }, { "acca", 'H' }, { "i lunga", 'J' }, { "cappa", 'K' },
        { "kappa", 'K' }, { "i greca", 'Y' },
        { "elle", 'L' }, { "emme", 'M' }, { "enne", 'N' }, { "pi", 'P' },
        { "cu", 'Q' }, { "erre", 'R' }, { "esse", 'S' }, { "ti", 'T' },
        { "vu", 'V' }, { "vi", 'V' }, { "doppia vu", 'W' },
        { "doppio vu", 'W' }, { "ics", 'X' }, { "ipsilon", 'Y' },
        { "zeta", 'Z' }, { NULL, 0 }
    };
    const char  *s;
    ex_num_t     w;
    size_t       l, m, best;
    char         tmp[8], ch;
    int          d, v, q;

    if (k >= c->n || room == 0) {
        return 0;
    }

    /* a letter name stands alone ("GI12" is written, not "gi" + 12) */
    if (c->loc == DDT_LOCALE_IT && c->t[k].type == EX_WORD
        && !(k + 1 < c->n && ex_adj(c, k + 1)))
    {
        best = 0;
        ch = 0;
        for (q = 0; it_letters[q].ph; q++) {
            l = ex_phrase(c, k, it_letters[q].ph, strlen(it_letters[q].ph));
            if (l > best) {
                best = l;
                ch = it_letters[q].ch;
            }
        }
        if (best) {
            buf[0] = ch;
            *end = k + best;
            return 1;
        }
    }

    /* as written, unless it is a number said in words ("tre" is 3) */
    if (ascii_alnum_tok(c, k)
        && !(c->t[k].type == EX_WORD && ex_tlen(c, k) > 1
             && (ex_digit_word(c, k) >= 0 || ex_word_number(c, k, &w))))
    {
        l = ex_tlen(c, k);
        if (l > room) {
            return 0;
        }
        s = ex_ts(c, k);
        for (m = 0; m < l; m++) {
            buf[m] = (s[m] >= 'a' && s[m] <= 'z') ? s[m] - 32 : s[m];
        }
        *end = k + 1;
        return l;
    }

    if (ex_is(c, k, "doppio") || ex_is(c, k, "doppia")
        || ex_is(c, k, "double"))
    {
        d = ex_digit_word(c, k + 1);
        if (d < 0 && k + 1 < c->n && c->t[k + 1].type == EX_NUM
            && ex_tlen(c, k + 1) == 1)
        {
            d = ex_ts(c, k + 1)[0] - '0';
        }
        if (d < 0 || room < 2) {
            return 0;
        }
        buf[0] = buf[1] = (char) ('0' + d);
        *end = k + 2;
        return 2;
    }

    d = ex_digit_word(c, k);
    if (d >= 0) {
        buf[0] = (char) ('0' + d);
        *end = k + 1;
        return 1;
    }

    if (c->t[k].type == EX_WORD && ex_word_number(c, k, &w) && w.v >= 10
        && w.v < 1000)
    {
        v = (int) w.v;
        l = 0;
        while (v > 0) {
            tmp[l++] = (char) ('0' + v % 10);
            v /= 10;
        }
        if (l > room) {
            return 0;
        }
        for (m = 0; m < l; m++) {
            buf[m] = tmp[l - 1 - m];
        }
        *end = w.end;
        return l;
    }

    return 0;
}

/* Pieces from i while they fit in max, calling check at each piece end:
 * 1 a code, 0 not yet, -1 cannot become one (stop). */
typedef int (*code_check_pt)(const char *buf, size_t len, void *arg);

static size_t
code_scan(const ex_ctx_t *c, size_t i, char *buf, size_t max,
    code_check_pt check, void *arg, size_t *best_end)
{
    size_t  bl, k, e, l, best;
    int     r;

    bl = 0;
    best = 0;
    k = i;

    while (k < c->n && bl < max) {
        /* "IT60-X054-...": dashes between groups */
        if (k > i && ex_punct(c, k, '-') && ex_adj(c, k) && ex_adj(c, k + 1)) {
            k++;
        }
        l = code_piece(c, k, buf + bl, max - bl, &e);
        if (l == 0) {
            break;
        }
        bl += l;
        k = e;
        /* not in the middle of a glued run ("...3456abc") */
        if (k < c->n && ex_adj(c, k) && c->t[k].type != EX_PUNCT) {
            continue;
        }
        r = check(buf, bl, arg);
        if (r < 0) {
            break;
        }
        if (r > 0) {
            best = bl;
            *best_end = k;
        }
    }

    return best;
}

static int
cf_check(const char *buf, size_t len, void *arg)
{
    char    code[17];
    size_t  k;

    for (k = 0; k < len && k < 6; k++) {
        if (buf[k] < 'A' || buf[k] > 'Z') {
            return -1;
        }
    }
    if (len != 16) {
        return 0;
    }
    memcpy(code, buf, 16);
    code[16] = '\0';
    return cf_valid(code);
}

static int
piece_starts(const ex_ctx_t *c, size_t i)
{
    /* a code starts a word: not glued to letters or digits before it */
    return i < c->n && c->t[i].type == EX_WORD
           && !(ex_adj(c, i) && c->t[i - 1].type != EX_PUNCT);
}

int
ex_parse_fiscal(ex_ctx_t *c, ex_cand_t *out)
{
    char    buf[48];
    size_t  i, e, bl;

    for (i = 0; i < c->n; i++) {
        if (!piece_starts(c, i)) {
            continue;
        }
        e = i;
        bl = code_scan(c, i, buf, 16, cf_check, NULL, &e);
        if (bl != 16) {
            continue;
        }
        out->i = i;
        out->j = e;
        out->marker = 1;
        out->value = ddt_json_str(c->a, buf, 16);
        return out->value != NULL;
    }

    return 0;
}

/* ---- IBAN ------------------------------------------------------------ */

static int
iban_country_len(const char *cc)
{
    static const struct { const char cc[3]; int len; }  tab[] = {
        { "IT", 27 }, { "SM", 27 }, { "VA", 22 }, { "DE", 22 },
        { "FR", 27 }, { "ES", 24 }, { "GB", 22 }, { "CH", 21 },
        { "NL", 18 }, { "BE", 16 }, { "AT", 20 }, { "PT", 25 },
        { "IE", 22 }, { "LU", 20 }, { "MC", 27 }, { "DK", 18 },
        { "SE", 24 }, { "NO", 15 }, { "FI", 18 }, { "PL", 28 },
        { "GR", 27 }, { "HR", 21 }, { "SI", 19 }, { "CZ", 24 },
        { "RO", 24 }, { "HU", 28 }, { "SK", 24 }, { "MT", 31 },
        { "LI", 21 }, { "", 0 }
    };
    int  k;

    for (k = 0; tab[k].len; k++) {
        if (tab[k].cc[0] == cc[0] && tab[k].cc[1] == cc[1]) {
            return tab[k].len;
        }
    }
    return 0;
}

static int
iban_mod97(const char *s, size_t n)
{
    size_t  k, p;
    int     r;
    char    ch;

    r = 0;
    for (k = 0; k < n; k++) {
        p = (k + 4) % n;
        ch = s[p];
        if (ch >= '0' && ch <= '9') {
            r = (r * 10 + (ch - '0')) % 97;
        } else if (ch >= 'A' && ch <= 'Z') {
            r = (r * 100 + (ch - 'A' + 10)) % 97;
        } else {
            return 0;
        }
    }
    return r == 1;
}

static int
iban_check(const char *buf, size_t len, void *arg)
{
    int  want;

    if ((len > 0 && (buf[0] < 'A' || buf[0] > 'Z'))
        || (len > 1 && (buf[1] < 'A' || buf[1] > 'Z'))
        || (len > 2 && (buf[2] < '0' || buf[2] > '9'))
        || (len > 3 && (buf[3] < '0' || buf[3] > '9')))
    {
        return -1;
    }
    if (len < 15 || len > 34) {
        return 0;
    }
    want = iban_country_len(buf);
    if (want != 0 && (size_t) want != len) {
        return (size_t) want < len ? -1 : 0;
    }
    return iban_mod97(buf, len);
}

int
ex_parse_iban(ex_ctx_t *c, ex_cand_t *out)
{
    char    buf[40];
    size_t  i, e, bl;

    for (i = 0; i < c->n; i++) {
        if (!piece_starts(c, i)) {
            continue;
        }
        e = i;
        bl = code_scan(c, i, buf, 34, iban_check, NULL, &e);
        if (bl == 0) {
            continue;
        }
        out->i = i;
        out->j = e;
        out->marker = 1;
        out->value = ddt_json_str(c->a, buf, bl);
        return out->value != NULL;
    }

    return 0;
}
