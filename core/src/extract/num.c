/*
 * extract/num.c: numbers in digits ("1.234,5" it-IT, "1,234.5" en-US) and
 * in words (Italian compounds such as "millenovecentottanta", written as
 * one word or several; English "one hundred and five", "twenty-one"),
 * decimals said as "virgola" / "point", month names, and the number and
 * integer kinds.  Everything works on tokens of the folded text (fold.c).
 */
#include <math.h>
#include <string.h>

#include "ex.h"

#define NUM_MAX_DIGITS   40
#define IT_MAX_WORDS     6
#define IT_MAX_JOINED    160

typedef struct {
    const char  *w;
    int          v;
} num_word_t;

/* Longest forms first where one is a prefix of another. */
static const num_word_t  it_units[] = {
    { "quattro", 4 }, { "cinque", 5 }, { "sette", 7 }, { "nove", 9 },
    { "otto", 8 }, { "sei", 6 }, { "tre", 3 }, { "due", 2 },
    { "uno", 1 }, { "una", 1 }, { "un", 1 }, { NULL, 0 }
};

static const num_word_t  it_teens[] = {
    { "diciassette", 17 }, { "diciannove", 19 }, { "quattordici", 14 },
    { "diciotto", 18 }, { "quindici", 15 }, { "tredici", 13 },
    { "undici", 11 }, { "dodici", 12 }, { "sedici", 16 }, { "dieci", 10 },
    { NULL, 0 }
};

static const num_word_t  it_tens[] = {
    { "venti", 20 }, { "trenta", 30 }, { "quaranta", 40 },
    { "cinquanta", 50 }, { "sessanta", 60 }, { "settanta", 70 },
    { "ottanta", 80 }, { "novanta", 90 }, { NULL, 0 }
};

static const num_word_t  en_small[] = {
    { "zero", 0 }, { "one", 1 }, { "two", 2 }, { "three", 3 },
    { "four", 4 }, { "five", 5 }, { "six", 6 }, { "seven", 7 },
    { "eight", 8 }, { "nine", 9 }, { "ten", 10 }, { "eleven", 11 },
    { "twelve", 12 }, { "thirteen", 13 }, { "fourteen", 14 },
    { "fifteen", 15 }, { "sixteen", 16 }, { "seventeen", 17 },
    { "eighteen", 18 }, { "nineteen", 19 }, { NULL, 0 }
};

static const num_word_t  en_tens[] = {
    { "twenty", 20 }, { "thirty", 30 }, { "forty", 40 }, { "fourty", 40 },
    { "fifty", 50 }, { "sixty", 60 }, { "seventy", 70 }, { "eighty", 80 },
    { "ninety", 90 }, { NULL, 0 }
};

const char *const ex_month_names_it[13] = {
    "", "gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno",
    "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"
};

const char *const ex_month_names_en[13] = {
    "", "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December"
};

static const num_word_t  it_months[] = {
    { "gennaio", 1 }, { "febbraio", 2 }, { "marzo", 3 }, { "aprile", 4 },
    { "maggio", 5 }, { "giugno", 6 }, { "luglio", 7 }, { "agosto", 8 },
    { "settembre", 9 }, { "ottobre", 10 }, { "novembre", 11 },
    { "dicembre", 12 },
    { "gen", 1 }, { "feb", 2 }, { "mar", 3 }, { "apr", 4 }, { "mag", 5 },
    { "giu", 6 }, { "lug", 7 }, { "ago", 8 }, { "set", 9 }, { "sett", 9 },
    { "ott", 10 }, { "nov", 11 }, { "dic", 12 }, { NULL, 0 }
};

static const num_word_t  en_months[] = {
    { "january", 1 }, { "february", 2 }, { "march", 3 }, { "april", 4 },
    { "may", 5 }, { "june", 6 }, { "july", 7 }, { "august", 8 },
    { "september", 9 }, { "october", 10 }, { "november", 11 },
    { "december", 12 },
    { "jan", 1 }, { "feb", 2 }, { "mar", 3 }, { "apr", 4 }, { "jun", 6 },
    { "jul", 7 }, { "aug", 8 }, { "sep", 9 }, { "sept", 9 }, { "oct", 10 },
    { "nov", 11 }, { "dec", 12 }, { NULL, 0 }
};

static int
tok_word(const ex_ctx_t *c, size_t i, const num_word_t *tab)
{
    size_t  l;

    if (i >= c->n || c->t[i].type != EX_WORD) {
        return -1;
    }
    l = ex_tlen(c, i);
    for ( ; tab->w; tab++) {
        if (strlen(tab->w) == l && memcmp(tab->w, ex_ts(c, i), l) == 0) {
            return tab->v;
        }
    }
    return -1;
}

int
ex_month_word(const ex_ctx_t *c, size_t i, size_t *end)
{
    int     m;
    size_t  l;

    m = tok_word(c, i, c->loc == DDT_LOCALE_EN ? en_months : it_months);
    if (m < 0) {
        return 0;
    }
    *end = i + 1;
    l = ex_tlen(c, i);
    /* "feb." and friends: the dot belongs to the abbreviation. */
    if (l <= 4 && ex_punct(c, i + 1, '.') && ex_adj(c, i + 1)) {
        *end = i + 2;
    }
    return m;
}

int
ex_digit_word(const ex_ctx_t *c, size_t i)
{
    static const char *const  it[] = {
        "zero", "uno", "due", "tre", "quattro", "cinque", "sei", "sette",
        "otto", "nove", NULL
    };
    static const char *const  en[] = {
        "zero", "one", "two", "three", "four", "five", "six", "seven",
        "eight", "nine", NULL
    };
    const char *const  *tab;
    int                 k;

    if (i >= c->n || c->t[i].type != EX_WORD) {
        return -1;
    }
    tab = (c->loc == DDT_LOCALE_EN) ? en : it;
    for (k = 0; tab[k]; k++) {
        if (ex_is(c, i, tab[k])) {
            return k;
        }
    }
    if (c->loc == DDT_LOCALE_EN && ex_is(c, i, "oh")) {
        return 0;
    }
    return -1;
}

/* ---- Italian compounds ----------------------------------------------- */

static size_t
pfx(const char *s, size_t len, size_t pos, const char *w)
{
    size_t  l = strlen(w);

    if (pos + l <= len && memcmp(s + pos, w, l) == 0) {
        return l;
    }
    return 0;
}

/* A unit at pos: its value and length, or 0. */
static size_t
it_unit(const char *s, size_t len, size_t pos, int *v, int allow_un)
{
    const num_word_t  *u;
    size_t             l;

    for (u = it_units; u->w; u++) {
        if (!allow_un && u->v == 1 && strcmp(u->w, "uno") != 0) {
            continue;
        }
        l = pfx(s, len, pos, u->w);
        if (l) {
            *v = u->v;
            return l;
        }
    }
    return 0;
}

/* Tens and units after pos (the part below one hundred); the longest. */
static size_t
it_below100(const char *s, size_t len, size_t pos, int *v)
{
    const num_word_t  *t;
    size_t             l, best, u;
    int                uv, bv;

    best = 0;
    bv = 0;

    for (t = it_tens; t->w; t++) {
        l = pfx(s, len, pos, t->w);
        if (l) {
            if (l > best) {
                best = l;
                bv = t->v;
            }
            u = it_unit(s, len, pos + l, &uv, 1);
            if (u && l + u > best) {
                best = l + u;
                bv = t->v + uv;
            }
        }
        /* Elided before a vowel: vent-uno, trent-otto. */
        l = strlen(t->w) - 1;
        if (pos + l < len && memcmp(s + pos, t->w, l) == 0
            && (s[pos + l] == 'u' || s[pos + l] == 'o'))
        {
            u = it_unit(s, len, pos + l, &uv, 1);
            if (u && l + u > best) {
                best = l + u;
                bv = t->v + uv;
            }
        }
    }

    for (t = it_teens; t->w; t++) {
        l = pfx(s, len, pos, t->w);
        if (l > best) {
            best = l;
            bv = t->v;
        }
    }

    l = it_unit(s, len, pos, &uv, 1);
    if (l > best) {
        best = l;
        bv = uv;
    }

    *v = bv;
    return best;
}

/* 1-999 at pos; returns the longest length, 0 if none. */
static size_t
it_below1000(const char *s, size_t len, size_t pos, long *v)
{
    size_t  best, hl, l, r;
    int     hv, uv, k, tv;
    long    bv;

    best = it_below100(s, len, pos, &tv);
    bv = tv;

    /* hundreds: "cento" (k = 0) or "<unit>cento" (k = 1) */
    for (k = 0; k < 2; k++) {
        hl = 0;
        hv = 1;
        if (k == 1) {
            hl = it_unit(s, len, pos, &uv, 0);
            if (hl == 0 || uv < 2) {
                break;
            }
            hv = uv;
        }

        l = pfx(s, len, pos + hl, "cento");
        if (l) {
            if (hl + l > best) {
                best = hl + l;
                bv = hv * 100L;
            }
            r = it_below100(s, len, pos + hl + l, &tv);
            if (r && hl + l + r > best) {
                best = hl + l + r;
                bv = hv * 100L + tv;
            }
        }
        /* "cent" before a vowel: centotto, centottanta, centuno. */
        l = pfx(s, len, pos + hl, "cent");
        if (l && pos + hl + l < len
            && (s[pos + hl + l] == 'o' || s[pos + hl + l] == 'u'))
        {
            r = it_below100(s, len, pos + hl + l, &tv);
            if (r && hl + l + r > best) {
                best = hl + l + r;
                bv = hv * 100L + tv;
            }
        }
    }

    *v = bv;
    return best;
}

/*
 * An Italian number written as one compound ("duemilaquindici") or as
 * words joined without spaces ("mille" "novecento" "ottanta").  Every
 * part is a fixed morpheme and the parts come in a fixed order, so the
 * work is linear in the length (a constant number of tries per part).
 */
int
ex_it_compound(const char *s, size_t len, long *out)
{
    static const char *const  big[][3] = {
        { "miliardi", "miliardo", NULL },
        { "milioni", "milione", NULL }
    };
    static const long         bigv[] = { 1000000000L, 1000000L };
    size_t                    pos, l, m;
    long                      total, g;
    int                       b, k, any;

    if (len == 0 || len > IT_MAX_JOINED) {
        return 0;
    }
    if (len == 4 && memcmp(s, "zero", 4) == 0) {
        *out = 0;
        return 1;
    }

    pos = 0;
    total = 0;
    any = 0;

    for (b = 0; b < 2; b++) {
        l = it_below1000(s, len, pos, &g);
        if (l == 0) {
            continue;
        }
        for (k = 0; big[b][k]; k++) {
            m = pfx(s, len, pos + l, big[b][k]);
            if (m) {
                total += g * bigv[b];
                pos += l + m;
                any = 1;
                break;
            }
        }
    }

    l = pfx(s, len, pos, "mille");
    if (l) {
        total += 1000;
        pos += l;
        any = 1;
    } else {
        l = it_below1000(s, len, pos, &g);
        if (l && g >= 2 && (m = pfx(s, len, pos + l, "mila")) != 0) {
            total += g * 1000;
            pos += l + m;
            any = 1;
        }
    }

    l = it_below1000(s, len, pos, &g);
    if (l) {
        total += g;
        pos += l;
        any = 1;
    }

    if (!any || pos != len) {
        return 0;
    }

    *out = total;
    return 1;
}

static int
is_ascii_word(const ex_ctx_t *c, size_t i)
{
    const char  *s;
    size_t       l, k;

    if (i >= c->n || c->t[i].type != EX_WORD) {
        return 0;
    }
    s = ex_ts(c, i);
    l = ex_tlen(c, i);
    for (k = 0; k < l; k++) {
        if (s[k] < 'a' || s[k] > 'z') {
            return 0;
        }
    }
    return 1;
}

static int
it_scale_word(const ex_ctx_t *c, size_t j)
{
    return ex_is(c, j, "mila") || ex_is(c, j, "milioni")
           || ex_is(c, j, "milione") || ex_is(c, j, "miliardi")
           || ex_is(c, j, "miliardo");
}

/* The scale that ends buf: what may follow it after "e", or 0. */
static long
it_ends_scale(const char *buf, size_t bl)
{
    static const char *const  sc[] = {
        "mille", "mila", "milione", "milioni", "miliardo", "miliardi", NULL
    };
    static const long         below[] = {
        1000, 1000, 1000000, 1000000, 1000000000, 1000000000
    };
    size_t                    k, l;

    for (k = 0; sc[k]; k++) {
        l = strlen(sc[k]);
        if (bl >= l && memcmp(buf + bl - l, sc[k], l) == 0) {
            return below[k];
        }
    }
    return 0;
}

/* The longest run of number words read, as the answer; none when
 * best_end is 0. */
static int
word_number_out(long best, size_t best_end, ex_num_t *out)
{
    if (best_end == 0) {
        return 0;
    }

    out->v = (double) best;
    out->end = best_end;
    out->frac = 0;
    out->words = 1;
    out->ndigits = 0;
    return 1;
}

static int
it_word_number(const ex_ctx_t *c, size_t i, ex_num_t *out)
{
    char    buf[IT_MAX_JOINED + 1];
    size_t  j, bl, l, best_end;
    long    v, best, sl;

    bl = 0;
    best_end = 0;
    best = 0;

    for (j = i; j < c->n && j < i + IT_MAX_WORDS; j++) {
        if (!is_ascii_word(c, j) || (j > i && !c->t[j].sp)) {
            break;
        }
        /* "mille e duecento", "duemila e cinque": an "e" after a scale */
        if (j > i && ex_is(c, j, "e") && (sl = it_ends_scale(buf, bl)) != 0
            && j + 1 < c->n && j + 1 < i + IT_MAX_WORDS
            && is_ascii_word(c, j + 1) && c->t[j + 1].sp
            && ex_it_compound(ex_ts(c, j + 1), ex_tlen(c, j + 1), &v)
            && v > 0 && v < sl)
        {
            continue;
        }
        l = ex_tlen(c, j);
        if (bl + l > IT_MAX_JOINED) {
            break;
        }
        /*
         * Every word of a number said in several words is a number on its
         * own ("mille" "novecento"), a scale ("milioni", "mila") or the
         * "un" of "un milione"; this keeps ordinary words cheap.
         */
        if (!(ex_it_compound(ex_ts(c, j), l, &v) || it_scale_word(c, j)
              || (j == i && (ex_is(c, j, "un") || ex_is(c, j, "una")))))
        {
            break;
        }
        memcpy(buf + bl, ex_ts(c, j), l);
        bl += l;
        buf[bl] = '\0';

        /* "un" / "una" alone are articles, not numbers. */
        if (j == i && (strcmp(buf, "un") == 0 || strcmp(buf, "una") == 0)) {
            continue;
        }
        if (ex_it_compound(buf, bl, &v)) {
            best = v;
            best_end = j + 1;
        } else if (j > i) {
            /* the parts come in a fixed order: no longer join can parse */
            break;
        }
    }

    return word_number_out(best, best_end, out);
}

/* ---- English --------------------------------------------------------- */

enum { EN_NONE, EN_UNIT, EN_TEEN, EN_TENS, EN_HUNDRED, EN_SCALE, EN_A };

static int
en_word_number(const ex_ctx_t *c, size_t i, ex_num_t *out)
{
    size_t  k, best_end;
    long    total, cur, best, scale_last, sc;
    int     last, v, ok;

    total = 0;
    cur = 0;
    last = EN_NONE;
    best_end = 0;
    best = 0;
    scale_last = 0;

    for (k = i; k < c->n && k < i + 24; k++) {
        ok = 0;

        if (k > i && ex_punct(c, k, '-')) {
            /* twenty-one */
            if (last == EN_TENS && ex_adj(c, k) && ex_adj(c, k + 1)
                && (v = tok_word(c, k + 1, en_small)) >= 1 && v <= 9)
            {
                continue;
            }
            break;
        }

        if (k > i && ex_is(c, k, "and")) {
            if ((last == EN_HUNDRED || last == EN_SCALE)
                && (tok_word(c, k + 1, en_small) > 0
                    || tok_word(c, k + 1, en_tens) > 0))
            {
                continue;
            }
            break;
        }

        if (k == i && ex_is(c, k, "a")) {
            if (ex_is(c, k + 1, "hundred") || ex_is(c, k + 1, "thousand")
                || ex_is(c, k + 1, "million"))
            {
                cur = 1;
                last = EN_A;
                continue;
            }
            break;
        }

        if ((v = tok_word(c, k, en_small)) >= 0) {
            if (v == 0) {
                if (k != i) {
                    break;
                }
                best = 0;
                best_end = k + 1;
                break;
            }
            if (last == EN_UNIT || last == EN_TEEN) {
                break;
            }
            if (last == EN_TENS) {
                if (v >= 10) {
                    break;
                }
            } else if (cur % 100 != 0) {
                break;
            }
            cur += v;
            last = v >= 10 ? EN_TEEN : EN_UNIT;
            ok = 1;

        } else if ((v = tok_word(c, k, en_tens)) >= 0) {
            if (last == EN_UNIT || last == EN_TEEN || last == EN_TENS
                || cur % 100 != 0)
            {
                break;
            }
            cur += v;
            last = EN_TENS;
            ok = 1;

        } else if (ex_is(c, k, "hundred")) {
            if (cur < 1 || cur > 9 || last == EN_HUNDRED) {
                /* "nineteen hundred": a year form, taken as 1900 */
                if (cur >= 10 && cur <= 99 && last != EN_HUNDRED) {
                    cur *= 100;
                    last = EN_HUNDRED;
                    ok = 1;
                } else {
                    break;
                }
            } else {
                cur *= 100;
                last = EN_HUNDRED;
                ok = 1;
            }

        } else if (ex_is(c, k, "thousand") || ex_is(c, k, "million")
                   || ex_is(c, k, "billion"))
        {
            sc = ex_is(c, k, "thousand") ? 1000L
                 : ex_is(c, k, "million") ? 1000000L : 1000000000L;

            if (cur == 0 || (scale_last && sc >= scale_last)) {
                break;
            }
            total += cur * sc;
            cur = 0;
            scale_last = sc;
            last = EN_SCALE;
            ok = 1;

        } else {
            break;
        }

        if (ok) {
            best = total + cur;
            best_end = k + 1;
        }
    }

    return word_number_out(best, best_end, out);
}

int
ex_word_number(const ex_ctx_t *c, size_t i, ex_num_t *out)
{
    int  r;

    /* Parsers ask the same token many times: remember the answer. */
    if (c->wstate != NULL && i < c->n && c->wstate[i] != 0) {
        if (c->wstate[i] == 1) {
            *out = c->wcache[i];
            return 1;
        }
        return 0;
    }

    if (c->loc == DDT_LOCALE_EN) {
        r = en_word_number(c, i, out);
    } else {
        r = it_word_number(c, i, out);
    }

    if (c->wstate != NULL && i < c->n) {
        c->wstate[i] = r ? 1 : 2;
        if (r) {
            c->wcache[i] = *out;
        }
    }
    return r;
}

/* ---- digits ---------------------------------------------------------- */

static double
digits_value(const char *ip, size_t il, const char *fp, size_t fl)
{
    double  v, scale;
    size_t  k;

    v = 0;
    for (k = 0; k < il; k++) {
        v = v * 10 + (ip[k] - '0');
    }
    scale = 1;
    for (k = 0; k < fl; k++) {
        v = v * 10 + (fp[k] - '0');
        scale *= 10;
    }
    /* One division: correctly rounded while v stays exact (< 2^53). */
    return v / scale;
}

int
ex_digits_number(const ex_ctx_t *c, size_t i, int allow_frac, ex_num_t *out)
{
    char    ip[NUM_MAX_DIGITS], fp[NUM_MAX_DIGITS];
    size_t  il, fl, k, l;
    char    grp, dec;
    int     grouped;

    if (i >= c->n || c->t[i].type != EX_NUM) {
        return 0;
    }
    /* Not the tail of "1.234" or "x2". */
    if (ex_adj(c, i)) {
        if (c->t[i - 1].type == EX_WORD) {
            return 0;
        }
        if ((ex_punct(c, i - 1, '.') || ex_punct(c, i - 1, ','))
            && i >= 2 && ex_adj(c, i - 1) && c->t[i - 2].type == EX_NUM)
        {
            return 0;
        }
    }

    grp = (c->loc == DDT_LOCALE_EN) ? ',' : '.';
    dec = (c->loc == DDT_LOCALE_EN) ? '.' : ',';

    l = ex_tlen(c, i);
    if (l > NUM_MAX_DIGITS) {
        return 0;
    }
    memcpy(ip, ex_ts(c, i), l);
    il = l;
    fl = 0;
    k = i;
    grouped = 0;

    if (l <= 3) {
        while (ex_punct(c, k + 1, grp) && ex_adj(c, k + 1)
               && k + 2 < c->n && c->t[k + 2].type == EX_NUM
               && ex_adj(c, k + 2) && ex_tlen(c, k + 2) == 3
               && il + 3 <= NUM_MAX_DIGITS)
        {
            memcpy(ip + il, ex_ts(c, k + 2), 3);
            il += 3;
            k += 2;
            grouped = 1;
        }
    }

    if (k + 2 < c->n && c->t[k + 2].type == EX_NUM && ex_adj(c, k + 1)
        && ex_adj(c, k + 2))
    {
        l = ex_tlen(c, k + 2);
        /* The decimal mark; it-IT also takes "3.5" (a '.' not followed by
         * exactly three digits cannot be grouping). */
        if ((ex_punct(c, k + 1, dec)
             || (c->loc == DDT_LOCALE_IT && !grouped
                 && ex_punct(c, k + 1, '.') && l != 3))
            && l <= NUM_MAX_DIGITS && allow_frac)
        {
            memcpy(fp, ex_ts(c, k + 2), l);
            fl = l;
            k += 2;
        }
    }

    out->v = digits_value(ip, il, fp, fl);
    out->end = k + 1;
    out->frac = fl > 0;
    out->words = 0;
    out->ndigits = grouped || fl ? 0 : (int) il;
    return 1;
}

/* ---- numbers with decimals ------------------------------------------- */

int
ex_integral(double v)
{
    return isfinite(v) && floor(v) == v;
}

/* A scale word after digits: its value, or 0. */
static double
digits_scale(const ex_ctx_t *c, size_t k)
{
    if (k >= c->n) {
        return 0;
    }
    if (c->loc == DDT_LOCALE_EN) {
        if (!c->t[k].sp) {
            return 0;       /* "12k" is not said */
        }
        return ex_is(c, k, "thousand") ? 1e3 : ex_is(c, k, "million") ? 1e6
               : ex_is(c, k, "billion") ? 1e9 : 0;
    }
    /* "2 mila", and glued as Italian transcripts write it: "12mila" */
    return ex_is(c, k, "mila") ? 1e3
           : (ex_is(c, k, "milioni") || ex_is(c, k, "milione")) ? 1e6
           : (ex_is(c, k, "miliardi") || ex_is(c, k, "miliardo")) ? 1e9 : 0;
}

/* Half of the scale word at k-1 ("un milione e mezzo"), else 0.5. */
static double
half_of(const ex_ctx_t *c, size_t k, double v)
{
    const char  *s;
    size_t       l;

    if (k > 0 && c->t[k - 1].type == EX_WORD) {
        s = ex_ts(c, k - 1);
        l = ex_tlen(c, k - 1);
        if ((l >= 7 && memcmp(s + l - 7, "milione", 7) == 0)
            || (l >= 7 && memcmp(s + l - 7, "milioni", 7) == 0)
            || ex_is(c, k - 1, "million"))
        {
            return 500000;
        }
        if ((l >= 4 && memcmp(s + l - 4, "mila", 4) == 0)
            || (l >= 5 && memcmp(s + l - 5, "mille", 5) == 0)
            || ex_is(c, k - 1, "thousand"))
        {
            return 500;
        }
    }
    return v < 1000 ? 0.5 : 0;
}

int
ex_number(const ex_ctx_t *c, size_t i, int allow_frac, ex_num_t *out)
{
    char    fp[NUM_MAX_DIGITS + 8];
    size_t  fl, k, l;
    int     d;
    double  scale, fv, sc;
    long    wv;
    ex_num_t  w;

    if (i >= c->n) {
        return 0;
    }

    if (c->t[i].type == EX_NUM) {
        if (!ex_digits_number(c, i, allow_frac, out)) {
            return 0;
        }
        /* "2 mila", "1,5 milioni", "4 million" */
        sc = digits_scale(c, out->end);
        if (sc > 0) {
            out->v *= sc;
            out->end++;
            out->frac = !ex_integral(out->v);
            out->ndigits = 0;
            return 1;
        }
        if (out->frac) {
            return 1;
        }
    } else if (!ex_word_number(c, i, out)) {
        return 0;
    }

    /* "quarantotto virgola cinque", "three point one four" */
    k = out->end;
    if (ex_is(c, k, c->loc == DDT_LOCALE_EN ? "point" : "virgola")) {
        fl = 0;
        k++;
        while (k < c->n && fl < NUM_MAX_DIGITS) {
            d = ex_digit_word(c, k);
            if (d >= 0) {
                fp[fl++] = (char) ('0' + d);
                k++;
                continue;
            }
            if (c->t[k].type == EX_NUM && fl == 0) {
                l = ex_tlen(c, k);
                if (l <= NUM_MAX_DIGITS) {
                    memcpy(fp, ex_ts(c, k), l);
                    fl = l;
                    k++;
                }
                break;
            }
            if (fl == 0 && ex_word_number(c, k, &w) && w.v < 1000) {
                wv = (long) w.v;
                fl = (size_t) (wv >= 100 ? 3 : wv >= 10 ? 2 : 1);
                for (l = fl; l > 0; l--) {
                    fp[l - 1] = (char) ('0' + wv % 10);
                    wv /= 10;
                }
                k = w.end;
            }
            break;
        }
        if (fl > 0) {
            scale = 1;
            fv = 0;
            for (l = 0; l < fl; l++) {
                fv = fv * 10 + (fp[l] - '0');
                scale *= 10;
            }
            out->v = (out->v * scale + fv) / scale;
            out->frac = 1;
            out->end = k;
            out->ndigits = 0;
        }
        return 1;
    }

    /* "due e mezzo", "two and a half" */
    if (c->loc == DDT_LOCALE_EN) {
        if (ex_is(c, k, "and") && ex_is(c, k + 1, "a")
            && ex_is(c, k + 2, "half") && (fv = half_of(c, k, out->v)) > 0)
        {
            out->v += fv;
            out->frac = !ex_integral(out->v);
            out->end = k + 3;
        }
    } else if (ex_is(c, k, "e") && ex_is(c, k + 1, "mezzo")
               && (fv = half_of(c, k, out->v)) > 0)
    {
        out->v += fv;
        out->frac = !ex_integral(out->v);
        out->end = k + 2;
    }

    return 1;
}

/* ---- kinds number and integer ---------------------------------------- */

int
ex_parse_number(ex_ctx_t *c, int integer, ex_cand_t *out)
{
    double    f, sc;
    size_t    q;
    ex_num_t  num;
    size_t    i, s;
    int       neg;

    for (i = 0; i < c->n; i++) {
        s = i;
        neg = 0;

        if (ex_punct(c, i, '-') && i + 1 < c->n
            && c->t[i + 1].type == EX_NUM && ex_adj(c, i + 1)
            && !(ex_adj(c, i) && c->t[i - 1].type != EX_PUNCT))
        {
            neg = 1;
            i++;
        } else if ((ex_is(c, i, "meno") || ex_is(c, i, "minus")
                    || (c->loc == DDT_LOCALE_EN
                        && ex_is(c, i, "negative")))
                   && i + 1 < c->n && c->t[i + 1].type != EX_PUNCT)
        {
            if (ex_number(c, i + 1, 1, &num)) {
                neg = 1;
                i++;
            }
        }

        if (ex_punct(c, i, c->loc == DDT_LOCALE_EN ? '.' : ',')
            && i + 1 < c->n && c->t[i + 1].type == EX_NUM
            && ex_adj(c, i + 1)
            && !(ex_adj(c, i) && c->t[i - 1].type != EX_PUNCT)
            && ex_tlen(c, i + 1) <= 15)
        {
            /* ".5" */
            f = 0;
            sc = 1;
            for (q = 0; q < ex_tlen(c, i + 1); q++) {
                f = f * 10 + (ex_ts(c, i + 1)[q] - '0');
                sc *= 10;
            }
            num.v = f / sc;
            num.end = i + 2;
            num.frac = 1;
            num.words = 0;
        } else if (!ex_number(c, i, 1, &num)) {
            i = s;
            continue;
        }

        /* Digits glued to letters ("3pm", "12th", "mp3") are not a
         * number. */
        if (!num.words && num.end < c->n && ex_adj(c, num.end)
            && c->t[num.end].type == EX_WORD)
        {
            i = s;
            continue;
        }
        /* "twenty-first" is an ordinal */
        if (num.words && ex_punct(c, num.end, '-') && ex_adj(c, num.end)
            && ex_adj(c, num.end + 1) && num.end + 1 < c->n
            && c->t[num.end + 1].type == EX_WORD)
        {
            i = num.end;
            continue;
        }

        if (neg) {
            num.v = -num.v;
        }

        if (integer) {
            if (num.frac || !ex_integral(num.v)
                || num.v > 9007199254740992.0 || num.v < -9007199254740992.0)
            {
                return 0;
            }
        }

        out->i = s;
        out->j = num.end;
        out->value = ddt_json_num(c->a, num.v);
        out->marker = 0;
        return out->value != NULL;
    }

    return 0;
}
