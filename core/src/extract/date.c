/*
 * extract/date.c: the date, time and month kinds.  Dates: numeric
 * (dd/mm/yyyy it-IT, mm/dd/yyyy en-US, ISO yyyy-mm-dd), day + month name +
 * year in digits or words, English month-first forms, ordinals ("1º",
 * "primo", "12th", "twelfth"), two-digit years (1930-2029), relative days
 * from the caller's today.  Times: "15:30", "alle tre e mezza del
 * pomeriggio", "quarter past three", "3:30 pm", noon and midnight; the
 * minute is 0 only with an explicit marker (SPEC 9.6).
 */
#include <string.h>

#include "ex.h"

#define ABSENT  (-1)

typedef struct {
    int      day, month, year;
    size_t   end;
    int      marker;
} date_t;

int
ex_days_in_month(int month, int year)
{
    static const int  dim[13] = {
        0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    if (month < 1 || month > 12) {
        return 0;
    }
    if (month == 2 && year > 0) {
        return ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)
               ? 29 : 28;
    }
    return dim[month];
}

static int
two_digit_year(int y)
{
    return y < 30 ? 2000 + y : 1900 + y;
}

static int
num_val(const ex_ctx_t *c, size_t i, size_t maxlen, size_t minlen)
{
    const char  *s;
    size_t       l, k;
    int          v;

    if (i >= c->n || c->t[i].type != EX_NUM) {
        return -1;
    }
    l = ex_tlen(c, i);
    if (l < minlen || l > maxlen) {
        return -1;
    }
    s = ex_ts(c, i);
    v = 0;
    for (k = 0; k < l; k++) {
        v = v * 10 + (s[k] - '0');
    }
    return v;
}

/* Digits glued to letters on the left ("x12") do not start a date. */
static int
glued_left(const ex_ctx_t *c, size_t i)
{
    return ex_adj(c, i) && c->t[i - 1].type != EX_PUNCT;
}

/* ---- day ------------------------------------------------------------- */

static const char *const  en_ordinals[] = {
    "", "first", "second", "third", "fourth", "fifth", "sixth", "seventh",
    "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth",
    "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
    "nineteenth", "twentieth", NULL
};

static int
en_ordinal(const ex_ctx_t *c, size_t i, size_t *end)
{
    int  k, base;

    base = 0;
    if (ex_is(c, i, "twenty") || ex_is(c, i, "thirty")) {
        base = ex_is(c, i, "twenty") ? 20 : 30;
        if (ex_punct(c, i + 1, '-') && ex_adj(c, i + 1)) {
            i += 2;
        } else {
            i += 1;
        }
    } else if (ex_is(c, i, "thirtieth")) {
        *end = i + 1;
        return 30;
    }

    for (k = 1; en_ordinals[k]; k++) {
        if (ex_is(c, i, en_ordinals[k])) {
            if (base && k > 9) {
                return -1;
            }
            *end = i + 1;
            return base + k;
        }
    }
    return -1;
}

/*
 * A day at i: digits (optionally with an ordinal suffix), "primo", an
 * ordinal or a number word.  *ord tells an ordinal form.  Values up to 99
 * come back so that "the 32nd" can be refused rather than skipped.
 */
static int
day_at(const ex_ctx_t *c, size_t i, size_t *end, int *ord)
{
    ex_num_t  w;
    int       v;

    *ord = 0;
    if (i >= c->n) {
        return -1;
    }

    v = num_val(c, i, 2, 1);
    if (v >= 0) {
        if (glued_left(c, i)) {
            return -1;
        }
        *end = i + 1;
        if (i + 1 < c->n && ex_adj(c, i + 1)) {
            if (ex_is(c, i + 1, "\xc2\xba") || ex_is(c, i + 1, "\xc2\xaa")
                || ex_is(c, i + 1, "\xc2\xb0") || ex_is(c, i + 1, "o")
                || (c->loc == DDT_LOCALE_EN
                    && (ex_is(c, i + 1, "st") || ex_is(c, i + 1, "nd")
                        || ex_is(c, i + 1, "rd") || ex_is(c, i + 1, "th"))))
            {
                *end = i + 2;
                *ord = 1;
            } else if (c->t[i + 1].type == EX_WORD) {
                return -1;
            }
        }
        return v;
    }

    if (c->loc == DDT_LOCALE_IT) {
        if (ex_is(c, i, "primo")) {
            *end = i + 1;
            *ord = 1;
            return 1;
        }
    } else {
        v = en_ordinal(c, i, end);
        if (v > 0) {
            *ord = 1;
            return v;
        }
    }

    if (c->t[i].type == EX_WORD && ex_word_number(c, i, &w)
        && w.v >= 1 && w.v <= 31)
    {
        *end = w.end;
        return (int) w.v;
    }

    return -1;
}

/* ---- year ------------------------------------------------------------ */

static int
year_at(const ex_ctx_t *c, size_t i, size_t *end, int allow2)
{
    ex_num_t  a, b;
    int       v;
    size_t    k;

    if (i >= c->n) {
        return -1;
    }

    /* '88 */
    if (ex_punct(c, i, '\'') && (v = num_val(c, i + 1, 2, 2)) >= 0
        && ex_adj(c, i + 1))
    {
        *end = i + 2;
        return two_digit_year(v);
    }

    if (c->t[i].type == EX_NUM) {
        if (glued_left(c, i)
            || (i + 1 < c->n && ex_adj(c, i + 1)
                && c->t[i + 1].type != EX_PUNCT))
        {
            return -1;
        }
        v = num_val(c, i, 4, 4);
        if (v >= 1000 && v <= 2999) {
            *end = i + 1;
            return v;
        }
        v = num_val(c, i, 2, 2);
        if (v >= 0 && allow2) {
            *end = i + 1;
            return two_digit_year(v);
        }
        return -1;
    }

    if (!ex_word_number(c, i, &a)) {
        return -1;
    }

    v = -1;
    if (a.v >= 1000 && a.v <= 2999) {
        v = (int) a.v;
        *end = a.end;
    } else if (a.v >= 0 && a.v <= 99 && allow2) {
        v = two_digit_year((int) a.v);
        *end = a.end;
    }

    /* English pairs: "nineteen eighty", "twenty fifteen", "nineteen oh
     * five". */
    if (c->loc == DDT_LOCALE_EN && a.v >= 10 && a.v <= 99) {
        k = a.end;
        if (ex_is(c, k, "oh") && (b.v = ex_digit_word(c, k + 1)) > 0) {
            *end = k + 2;
            return (int) a.v * 100 + (int) b.v;
        }
        if (ex_word_number(c, k, &b) && b.v >= 10 && b.v <= 99) {
            *end = b.end;
            return (int) a.v * 100 + (int) b.v;
        }
    }

    return v;
}

/* ---- dates ----------------------------------------------------------- */

static int
is_date_sep(const ex_ctx_t *c, size_t i, char *sep)
{
    if (ex_punct(c, i, '/') || ex_punct(c, i, '-') || ex_punct(c, i, '.')) {
        *sep = ex_ts(c, i)[0];
        return ex_adj(c, i) && ex_adj(c, i + 1);
    }
    return 0;
}

static int
numeric_date(const ex_ctx_t *c, size_t i, date_t *d)
{
    char    s1, s2;
    size_t  la, lb, lc;
    int     a, b, v;

    if (i >= c->n || c->t[i].type != EX_NUM || glued_left(c, i)) {
        return 0;
    }
    if (!is_date_sep(c, i + 1, &s1) || i + 2 >= c->n
        || c->t[i + 2].type != EX_NUM)
    {
        return 0;
    }

    la = ex_tlen(c, i);
    lb = ex_tlen(c, i + 2);
    a = num_val(c, i, 4, 1);
    b = num_val(c, i + 2, 4, 1);
    d->day = d->month = d->year = ABSENT;
    d->marker = 1;

    if (is_date_sep(c, i + 3, &s2) && s2 == s1 && i + 4 < c->n
        && c->t[i + 4].type == EX_NUM)
    {
        lc = ex_tlen(c, i + 4);
        v = num_val(c, i + 4, 4, 1);
        /* Not a longer run such as 12-34-56-78. */
        if (i + 5 < c->n && ex_adj(c, i + 5)
            && c->t[i + 5].type != EX_PUNCT)
        {
            return 0;
        }
        if (i + 6 < c->n && ex_punct(c, i + 5, s1) && ex_adj(c, i + 6)
            && c->t[i + 6].type == EX_NUM)
        {
            return 0;
        }
        if (la == 4 && s1 == '-' && lb <= 2 && lc <= 2) {
            d->year = a;
            d->month = b;
            d->day = v;
        } else if (la <= 2 && lb <= 2 && (lc == 2 || lc == 4)) {
            if (c->loc == DDT_LOCALE_EN) {
                d->month = a;
                d->day = b;
            } else {
                d->day = a;
                d->month = b;
            }
            d->year = lc == 2 ? two_digit_year(v) : v;
        } else {
            return 0;
        }
        d->end = i + 5;
        return 1;
    }

    /* ISO year-month: 1980-03 */
    if (la == 4 && s1 == '-' && lb <= 2
        && !(i + 3 < c->n && ex_adj(c, i + 3)))
    {
        d->year = a;
        d->month = b;
        d->end = i + 3;
        return 1;
    }
    if (s1 == '.' || la > 2) {
        return 0;
    }
    if (i + 3 < c->n && ex_adj(c, i + 3)
        && (c->t[i + 3].type != EX_PUNCT || ex_punct(c, i + 3, s1)))
    {
        return 0;
    }
    if (lb == 4) {
        d->month = a;
        d->year = b;
    } else if (lb <= 2) {
        if (c->loc == DDT_LOCALE_EN) {
            d->month = a;
            d->day = b;
        } else {
            d->day = a;
            d->month = b;
        }
    } else {
        return 0;
    }
    d->end = i + 3;
    return 1;
}

/* Optional connector words between date parts. */
static size_t
skip_conn(const ex_ctx_t *c, size_t k, const char *const *words)
{
    if (ex_punct(c, k, ',')) {
        k++;
    }
    if (ex_is_any(c, k, words)) {
        k++;
    }
    return k;
}

static void
try_date_at(const ex_ctx_t *c, size_t i, date_t *best)
{
    static const char *const  it_of[] = { "di", NULL };
    static const char *const  en_of[] = { "of", NULL };
    static const char *const  it_yr[] = {
        "del", "nel", "dell", "nell", NULL
    };
    static const char *const  en_yr[] = { "of", "in", NULL };
    static const char *const  en_the[] = { "the", NULL };
    date_t   d;
    size_t   k, e, e2;
    int      v, m, y, ord;
    int      en = (c->loc == DDT_LOCALE_EN);

    /* numeric */
    if (numeric_date(c, i, &d) && d.end > best->end) {
        *best = d;
    }

    /* day [di|of] month [del|of|,] [year] */
    v = day_at(c, i, &e, &ord);
    if (v >= 0) {
        k = skip_conn(c, e, en ? en_of : it_of);
        m = ex_month_word(c, k, &e2);
        if (m > 0) {
            d.day = v;
            d.month = m;
            d.year = ABSENT;
            d.end = e2;
            d.marker = 1;
            k = skip_conn(c, e2, en ? en_yr : it_yr);
            y = year_at(c, k, &e, 1);
            if (y > 0) {
                d.year = y;
                d.end = e;
            }
            if (d.end > best->end) {
                *best = d;
            }
        } else if (ord && e > best->end) {
            /* "the 12th", "il primo": a day alone */
            best->day = v;
            best->month = best->year = ABSENT;
            best->end = e;
            best->marker = 0;
        }
    }

    /* month [the] [day] [,] [year] */
    m = ex_month_word(c, i, &e);
    if (m > 0) {
        d.day = ABSENT;
        d.month = m;
        d.year = ABSENT;
        d.end = e;
        d.marker = 1;
        k = e;
        if (en) {
            k = skip_conn(c, k, en_the);
            v = day_at(c, k, &e2, &ord);
            if (v >= 0) {
                d.day = v;
                d.end = e2;
                k = e2;
            } else {
                k = e;
            }
        }
        k = skip_conn(c, k, en ? en_yr : it_yr);
        /* a two-digit year after a month only with a day before it
         * ("March 12 80") or an apostrophe ("marzo '80") */
        y = year_at(c, k, &e2, (en && d.day != ABSENT)
                               || ex_punct(c, k, '\''));
        if (y > 0) {
            d.year = y;
            d.end = e2;
        }
        if (d.end > best->end) {
            *best = d;
        }
    }

    /* "il giorno 7": a day alone, named as such (not "giorno 7 marzo",
     * which the day and month read from the number) */
    if (!en && ex_is(c, i, "giorno")) {
        /* "il giorno è 13", "il giorno era il 13" */
        k = i + 1;
        if (ex_is(c, k, "e") || ex_is(c, k, "era")) {
            k++;
        }
        if (ex_is(c, k, "il")) {
            k++;
        }
        v = day_at(c, k, &e, &ord);
        if (v >= 1 && v <= 31 && e > best->end
            && ex_month_word(c, skip_conn(c, e, it_of), &e2) <= 0)
        {
            best->day = v;
            best->month = best->year = ABSENT;
            best->end = e;
            best->marker = 0;
        }
    }

    /* "nel 1980", "in 1980": a year alone */
    if (ex_is_any(c, i, en ? (const char *const[]) { "in", NULL }
                          : (const char *const[]) { "nel", "del", NULL })
        && !(i > 0 && c->t[i - 1].type == EX_NUM))
    {
        y = year_at(c, i + 1, &e, 0);
        if (y > 0 && e > best->end) {
            best->day = best->month = ABSENT;
            best->year = y;
            best->end = e;
            best->marker = 0;
        }
    }
}

/* Day of the week, 0 Sunday .. 6 Saturday (Sakamoto). */
static int
weekday(int y, int m, int d)
{
    static const int  t[12] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };

    if (m < 3) {
        y--;
    }
    return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

/* "lunedì (prossimo)", "(next) Monday": days from today to the next such
 * day (a week ahead when it is today); -100 if none. */
static int
weekday_at(const ex_ctx_t *c, size_t i, size_t *end)
{
    static const char *const  it[] = {
        "domenica", "lunedi", "martedi", "mercoledi", "giovedi", "venerdi",
        "sabato", NULL
    };
    static const char *const  en[] = {
        "sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
        "saturday", NULL
    };
    const char *const  *tab;
    size_t              k;
    int                 w, off, today;

    k = i;
    tab = (c->loc == DDT_LOCALE_EN) ? en : it;
    if (c->loc == DDT_LOCALE_EN && (ex_is(c, k, "next") || ex_is(c, k, "this")
                                    || ex_is(c, k, "on")))
    {
        k++;
    }
    for (w = 0; tab[w]; w++) {
        if (ex_is(c, k, tab[w])) {
            break;
        }
    }
    if (tab[w] == NULL) {
        return -100;
    }
    k++;
    if (c->loc == DDT_LOCALE_IT
        && (ex_is(c, k, "prossimo") || ex_is(c, k, "prossima")))
    {
        k++;
    }

    today = weekday(c->o->today_year, c->o->today_month, c->o->today_day);
    off = (w - today + 7) % 7;
    *end = k;
    return off == 0 ? 7 : off;
}

/* "fra tre giorni", "tra una settimana", "in 2 weeks". */
static int
in_days_at(const ex_ctx_t *c, size_t i, size_t *end)
{
    ex_num_t  n;
    size_t    k;
    int       mul;

    if (c->loc == DDT_LOCALE_EN ? !ex_is(c, i, "in")
        : !(ex_is(c, i, "fra") || ex_is(c, i, "tra")))
    {
        return -100;
    }
    k = i + 1;
    if (ex_is(c, k, "un") || ex_is(c, k, "una") || ex_is(c, k, "a")
        || ex_is(c, k, "one"))
    {
        n.v = 1;
        n.end = k + 1;
    } else if (!ex_number(c, k, 0, &n) || n.frac || n.v < 1 || n.v > 400) {
        return -100;
    }
    k = n.end;
    if (ex_is(c, k, "giorni") || ex_is(c, k, "giorno") || ex_is(c, k, "days")
        || ex_is(c, k, "day"))
    {
        mul = 1;
    } else if (ex_is(c, k, "settimane") || ex_is(c, k, "settimana")
               || ex_is(c, k, "weeks") || ex_is(c, k, "week"))
    {
        mul = 7;
    } else {
        return -100;
    }
    *end = k + 1;
    return (int) n.v * mul;
}

/* Relative days: oggi, domani, ieri ... from the caller's today. */
static int
relative_at(const ex_ctx_t *c, size_t i, size_t *end)
{
    static const struct { const char *ph; int off; }  it[] = {
        { "oggi", 0 }, { "domani", 1 }, { "dopodomani", 2 },
        { "dopo domani", 2 }, { "ieri", -1 }, { "l ' altro ieri", -2 },
        { "altro ieri", -2 }, { "l ' altroieri", -2 }, { "altroieri", -2 },
        { "ieri l ' altro", -2 },
        { NULL, 0 }
    }, en[] = {
        { "today", 0 }, { "tomorrow", 1 }, { "yesterday", -1 },
        { "the day after tomorrow", 2 }, { "day after tomorrow", 2 },
        { "the day before yesterday", -2 }, { "day before yesterday", -2 },
        { NULL, 0 }
    };
    const char  *ph;
    size_t       best, l;
    int          k, off;

    best = 0;
    off = 0;
    for (k = 0; ; k++) {
        ph = (c->loc == DDT_LOCALE_EN) ? en[k].ph : it[k].ph;
        if (ph == NULL) {
            break;
        }
        l = ex_phrase(c, i, ph, strlen(ph));
        if (l > best) {
            best = l;
            off = (c->loc == DDT_LOCALE_EN) ? en[k].off : it[k].off;
        }
    }
    if (best == 0) {
        return -100;
    }
    *end = i + best;
    return off;
}

static void
add_days(int *d, int *m, int *y, int off)
{
    while (off > 0) {
        if (++*d > ex_days_in_month(*m, *y)) {
            *d = 1;
            if (++*m > 12) {
                *m = 1;
                ++*y;
            }
        }
        off--;
    }
    while (off < 0) {
        if (--*d < 1) {
            if (--*m < 1) {
                *m = 12;
                --*y;
            }
            *d = ex_days_in_month(*m, *y);
        }
        off++;
    }
}

static ddt_json_t *
date_value(ex_ctx_t *c, int d, int m, int y)
{
    ddt_json_t  *o;

    o = ddt_json_obj(c->a);
    if (o == NULL) {
        return NULL;
    }
    if (d != ABSENT && ddt_json_setz(c->a, o, "day", ddt_json_num(c->a, d))) {
        return NULL;
    }
    if (m != ABSENT
        && ddt_json_setz(c->a, o, "month", ddt_json_num(c->a, m)))
    {
        return NULL;
    }
    if (y != ABSENT && ddt_json_setz(c->a, o, "year", ddt_json_num(c->a, y)))
    {
        return NULL;
    }
    return o;
}

static int date_cand(ex_ctx_t *c, size_t i, date_t *b, ex_cand_t *out);

int
ex_parse_date(ex_ctx_t *c, ex_cand_t *out)
{
    date_t  best, may;
    size_t  i, e, may_i;
    int     off, d, m, y, have_may, weak;

    have_may = 0;
    may_i = 0;
    memset(&may, 0, sizeof(may));

    for (i = 0; i < c->n; i++) {
        best.end = 0;
        best.day = best.month = best.year = ABSENT;
        best.marker = 0;

        try_date_at(c, i, &best);

        /* a weekday is weak: "lunedì 12 marzo" is the 12th of March */
        weak = 0;
        off = relative_at(c, i, &e);
        if (off == -100) {
            off = in_days_at(c, i, &e);
        }
        if (off == -100 && best.end == 0 && c->o->today_year > 0
            && c->o->today_month >= 1 && c->o->today_month <= 12
            && c->o->today_day >= 1
            && c->o->today_day <= ex_days_in_month(c->o->today_month,
                                                   c->o->today_year))
        {
            off = weekday_at(c, i, &e);
            weak = 1;
        }
        if (off > -100 && e > best.end) {
            d = c->o->today_day;
            m = c->o->today_month;
            y = c->o->today_year;
            if (y < 1 || m < 1 || m > 12 || d < 1
                || d > ex_days_in_month(m, y))
            {
                return 0;
            }
            add_days(&d, &m, &y, off);
            best.day = d;
            best.month = m;
            best.year = y;
            best.end = e;
            best.marker = 1;
        }

        if (best.end == 0) {
            continue;
        }

        /* English "may" alone is more often the verb, and a weekday is
         * a date only when nothing else in the utterance is one. */
        if (weak
            || (c->loc == DDT_LOCALE_EN && best.end == i + 1
                && best.day == ABSENT && best.year == ABSENT
                && ex_is(c, i, "may")))
        {
            if (!have_may) {
                may = best;
                may_i = i;
                have_may = 1;
            }
            continue;
        }

        return date_cand(c, i, &best, out);
    }

    if (have_may) {
        return date_cand(c, may_i, &may, out);
    }

    return 0;
}

static int
date_cand(ex_ctx_t *c, size_t i, date_t *b, ex_cand_t *out)
{
    date_t  best = *b;

    {
        /*
         * The leftmost-longest candidate decides: if it is not a calendar
         * date the utterance has no value (SPEC 9.3), rather than a
         * shorter reading of it.
         */
        if (best.month != ABSENT && (best.month < 1 || best.month > 12)) {
            return 0;
        }
        if (best.day != ABSENT
            && (best.day < 1
                || best.day > (best.month != ABSENT
                               ? ex_days_in_month(best.month,
                                     best.year != ABSENT ? best.year : 0)
                               : 31)))
        {
            return 0;
        }
        if (best.year != ABSENT && (best.year < 1000 || best.year > 2999)) {
            return 0;
        }

        out->i = i;
        out->j = best.end;
        out->marker = best.marker;
        out->value = date_value(c, best.day, best.month, best.year);
        return out->value != NULL;
    }
}

/* ---- month ----------------------------------------------------------- */

int
ex_parse_month(ex_ctx_t *c, ex_cand_t *out)
{
    size_t  i, e;
    int     m;

    /* A month name anywhere beats a bare number ("il 3 marzo" is March);
     * English "may" only when no other month is named. */
    for (i = 0; i < 2 * c->n; i++) {
        if (i < c->n && c->loc == DDT_LOCALE_EN && ex_is(c, i, "may")) {
            continue;
        }
        if (i >= c->n && !ex_is(c, i - c->n, "may")) {
            continue;
        }
        m = ex_month_word(c, i % c->n, &e);
        if (m > 0) {
            i %= c->n;
            out->i = i;
            out->j = e;
            out->marker = 1;
            out->value = ddt_json_num(c->a, m);
            return out->value != NULL;
        }
    }

    for (i = 0; i < c->n; i++) {
        m = num_val(c, i, 2, 1);
        if (m < 0 || glued_left(c, i)
            || (i + 1 < c->n && ex_adj(c, i + 1)
                && !ex_punct(c, i + 1, ',') && !ex_punct(c, i + 1, '.')
                && !ex_punct(c, i + 1, '!') && !ex_punct(c, i + 1, '?')))
        {
            continue;
        }
        if (m < 1 || m > 12) {
            return 0;
        }
        out->i = i;
        out->j = i + 1;
        out->marker = 0;
        out->value = ddt_json_num(c->a, m);
        return out->value != NULL;
    }

    return 0;
}

/* ---- time ------------------------------------------------------------ */

enum { PER_NONE, PER_AM, PER_PM, PER_NIGHT, PER_MORNING };

typedef struct {
    int      hour, minute;      /* minute ABSENT when not said */
    int      zero_ok;           /* an explicit marker: minute defaults 0 */
    int      marker;
    int      per;               /* the part of the day said after it */
    size_t   end;
} tm_t;

/* Move an hour said with a part of the day to the 24-hour clock. */
static int
per_hour(int per, int h)
{
    if (h > 24) {
        return h;
    }
    if (per == PER_AM) {
        return h == 12 ? 0 : h;
    }
    if (per == PER_PM) {
        return (h >= 1 && h <= 11) ? h + 12 : h;
    }
    if (per == PER_NIGHT) {
        return h == 12 ? 0 : (h >= 6 && h <= 11) ? h + 12 : h;
    }
    return h;
}

/* An hour or minute count in digits or words, in [lo, hi]. */
static int
small_num(const ex_ctx_t *c, size_t i, int lo, int hi, size_t *end,
    int *words)
{
    ex_num_t  w;
    int       v;

    *words = 0;
    v = num_val(c, i, 2, 1);
    if (v >= 0) {
        if (glued_left(c, i)) {
            return -1;
        }
        *end = i + 1;
        return (v >= lo && v <= hi) ? v : -2;
    }
    if (c->loc == DDT_LOCALE_IT && (ex_is(c, i, "una")
                                    || ex_is(c, i, "un")))
    {
        *end = i + 1;
        *words = 1;
        return lo <= 1 && hi >= 1 ? 1 : -1;
    }
    if (i < c->n && c->t[i].type == EX_WORD && ex_word_number(c, i, &w)) {
        *end = w.end;
        *words = 1;
        return (w.v >= lo && w.v <= hi) ? (int) w.v : -2;
    }
    return -1;
}

static int
period_at(const ex_ctx_t *c, size_t i, size_t *end)
{
    static const char *const  it_am[] = {
        "di mattina", "del mattino", "della mattina", "di mattino",
        "la mattina", "al mattino", "di mattinata", "stamattina",
        "stamani", "stamane", "questa mattina", "stamattina presto", NULL
    };
    static const char *const  it_pm[] = {
        "del pomeriggio", "di pomeriggio", "nel pomeriggio", "di sera",
        "della sera", "la sera", "stasera", "in serata", "questa sera",
        "questo pomeriggio", "oggi pomeriggio", NULL
    };
    static const char *const  it_night[] = {
        "di notte", "della notte", "la notte", "stanotte", NULL
    };
    static const char *const  en_am[] = {
        "am", "a . m .", "a . m", "a m", "in the morning", "this morning",
        NULL
    };
    static const char *const  en_pm[] = {
        "pm", "p . m .", "p . m", "p m", "in the afternoon",
        "in the evening", "this afternoon", "this evening", "tonight", NULL
    };
    static const char *const  en_night[] = { "at night", NULL };
    size_t  l;
    int     w;

    if (c->loc == DDT_LOCALE_EN) {
        if ((l = ex_phrases(c, i, en_am, &w)) != 0) {
            *end = i + l;
            return PER_AM;
        }
        if ((l = ex_phrases(c, i, en_pm, &w)) != 0) {
            *end = i + l;
            return PER_PM;
        }
        if ((l = ex_phrases(c, i, en_night, &w)) != 0) {
            *end = i + l;
            return PER_NIGHT;
        }
        return PER_NONE;
    }

    if ((l = ex_phrases(c, i, it_am, &w)) != 0) {
        *end = i + l;
        return PER_MORNING;
    }
    if ((l = ex_phrases(c, i, it_pm, &w)) != 0) {
        *end = i + l;
        return PER_PM;
    }
    if ((l = ex_phrases(c, i, it_night, &w)) != 0) {
        *end = i + l;
        return PER_NIGHT;
    }
    return PER_NONE;
}

/* A part of the day said alone, before the time ("domani pomeriggio
 * alle 4", "tomorrow afternoon at 4"). */
static int
period_word(const ex_ctx_t *c, size_t i, size_t *end)
{
    *end = i + 1;
    if (c->loc == DDT_LOCALE_EN) {
        return ex_is(c, i, "morning") ? PER_AM
               : (ex_is(c, i, "afternoon") || ex_is(c, i, "evening"))
               ? PER_PM : PER_NONE;
    }
    return (ex_is(c, i, "mattina") || ex_is(c, i, "mattino")) ? PER_MORNING
           : (ex_is(c, i, "pomeriggio") || ex_is(c, i, "sera")) ? PER_PM
           : PER_NONE;
}

/* Hour and what follows it, from token k. */
static int
time_hour_at(const ex_ctx_t *c, size_t k, tm_t *t)
{
    size_t  e, e2;
    int     h, mi, words, per, neg;
    int     en = (c->loc == DDT_LOCALE_EN);

    t->minute = ABSENT;
    t->zero_ok = 0;

    if (ex_is(c, k, en ? "noon" : "mezzogiorno")
        || (en && ex_is(c, k, "midday")))
    {
        h = 12;
        e = k + 1;
        t->zero_ok = 1;
        t->marker = 1;
    } else if (ex_is(c, k, en ? "midnight" : "mezzanotte")) {
        h = 0;
        e = k + 1;
        t->zero_ok = 1;
        t->marker = 1;
    } else {
        h = small_num(c, k, 0, 24, &e, &words);
        if (h == -1) {
            return 0;
        }
        if (h == -2) {
            h = 99;     /* out of range: refused after the longest match */
        }
        /* 15:30, 15.30 */
        if (!words && (ex_punct(c, e, ':') || ex_punct(c, e, '.'))
            && ex_adj(c, e) && ex_adj(c, e + 1)
            && (mi = num_val(c, e + 1, 2, 2)) >= 0)
        {
            t->minute = mi;
            t->marker = 1;
            e += 2;
        }
        if (!words && e < c->n && ex_adj(c, e)
            && c->t[e].type == EX_WORD && !ex_is(c, e, "am")
            && !ex_is(c, e, "pm") && !ex_is(c, e, "h")
            && !((ex_is(c, e, "a") || ex_is(c, e, "p"))
                 && ex_punct(c, e + 1, '.')))
        {
            return 0;
        }
        if (!words && ex_is(c, e, "h") && ex_adj(c, e)) {
            /* 15h, 15h30 */
            t->marker = 1;
            e++;
            if (t->minute == ABSENT && ex_adj(c, e)
                && (mi = num_val(c, e, 2, 2)) >= 0)
            {
                t->minute = mi;
                e++;
            }
        }
    }

    if (t->minute == ABSENT) {
        if (!en && ex_is(c, e, "e")) {
            if (ex_is(c, e + 1, "mezza") || ex_is(c, e + 1, "mezzo")) {
                t->minute = 30;
                e += 2;
            } else if (ex_is(c, e + 1, "un") && ex_is(c, e + 2, "quarto")) {
                t->minute = 15;
                e += 3;
            } else if (ex_is(c, e + 1, "quarto")) {
                t->minute = 15;
                e += 2;
            } else if (ex_is(c, e + 1, "tre") && ex_is(c, e + 2, "quarti")) {
                t->minute = 45;
                e += 3;
            } else if ((mi = small_num(c, e + 1, 0, 59, &e2, &words)) >= 0) {
                t->minute = mi;
                e = e2;
                if (ex_is(c, e, "minuti") || ex_is(c, e, "minuto")) {
                    e++;
                }
            }
            if (t->minute != ABSENT) {
                t->marker = 1;
            }
        } else if (!en && ex_is(c, e, "meno")) {
            neg = -1;
            if (ex_is(c, e + 1, "un") && ex_is(c, e + 2, "quarto")) {
                neg = 15;
                e2 = e + 3;
            } else if (ex_is(c, e + 1, "quarto")) {
                neg = 15;
                e2 = e + 2;
            } else if ((mi = small_num(c, e + 1, 1, 59, &e2, &words)) > 0) {
                neg = mi;
                if (ex_is(c, e2, "minuti") || ex_is(c, e2, "minuto")) {
                    e2++;
                }
            }
            if (neg > 0) {
                h = (h == 0) ? 23 : h - 1;
                t->minute = 60 - neg;
                t->marker = 1;
                e = e2;
            }
        } else if (en && (e2 = ex_phrase(c, e, "o ' clock", 9)) != 0) {
            t->minute = 0;
            t->zero_ok = 1;
            t->marker = 1;
            e += e2;
        } else if (en && ex_is(c, e, "oh")
                   && (mi = ex_digit_word(c, e + 1)) > 0)
        {
            t->minute = mi;
            t->marker = 1;
            e += 2;
        } else if (en && e < c->n && c->t[e].type == EX_WORD
                   && (mi = small_num(c, e, 10, 59, &e2, &words)) >= 10)
        {
            /* "three thirty", "seven forty-five" */
            t->minute = mi;
            t->marker = 1;
            e = e2;
        }
    }

    if (!en && ex_phrase(c, e, "in punto", 8)) {
        t->zero_ok = 1;
        t->marker = 1;
        e += 2;
    }

    per = period_at(c, e, &e2);
    if (per != PER_NONE) {
        t->zero_ok = 1;
        t->marker = 1;
        t->per = per;
        e = e2;
        h = per_hour(per, h);
    }

    if (!en && t->minute == ABSENT && ex_phrase(c, e, "in punto", 8)) {
        t->zero_ok = 1;
        t->marker = 1;
        e += 2;
    }

    t->hour = h;
    t->end = e;
    return 1;
}

/* English minute-first forms: "quarter past three", "ten to six". */
static int
en_minute_first(const ex_ctx_t *c, size_t i, tm_t *t)
{
    size_t  k, e;
    int     mi, words, to;

    k = i;
    if (ex_is(c, k, "a") && ex_is(c, k + 1, "quarter")) {
        k++;
    }
    if (ex_is(c, k, "quarter")) {
        mi = 15;
        k++;
    } else if (ex_is(c, k, "half")) {
        mi = 30;
        k++;
    } else {
        mi = small_num(c, k, 1, 59, &e, &words);
        if (mi < 1) {
            return 0;
        }
        k = e;
        if (ex_is(c, k, "minutes") || ex_is(c, k, "minute")) {
            k++;
        }
    }

    if (ex_is(c, k, "past") || ex_is(c, k, "after")) {
        to = 0;
    } else if ((ex_is(c, k, "to") || ex_is(c, k, "of") || ex_is(c, k, "till"))
               && mi != 30)
    {
        to = 1;
    } else {
        return 0;
    }

    if (!time_hour_at(c, k + 1, t) || t->minute != ABSENT) {
        return 0;
    }
    if (to) {
        t->hour = (t->hour == 0) ? 23 : t->hour - 1;
        t->minute = 60 - mi;
    } else {
        t->minute = mi;
    }
    t->marker = 1;
    return 1;
}

static ddt_json_t *
time_value(ex_ctx_t *c, int h, int mi)
{
    ddt_json_t  *o;

    o = ddt_json_obj(c->a);
    if (o == NULL
        || ddt_json_setz(c->a, o, "hour", ddt_json_num(c->a, h)) != DDT_OK)
    {
        return NULL;
    }
    if (mi != ABSENT
        && ddt_json_setz(c->a, o, "minute", ddt_json_num(c->a, mi))
           != DDT_OK)
    {
        return NULL;
    }
    return o;
}

static int time_cand(ex_ctx_t *c, size_t i, tm_t *t, ex_cand_t *out);

int
ex_parse_time(ex_ctx_t *c, ex_cand_t *out)
{
    static const char *const  it_pre[] = {
        "alle ore", "alle", "ore", "all '", "l '", "per le", "verso le",
        "dalle", "le", NULL
    };
    static const char *const  en_pre[] = {
        "at about", "at around", "around", "at", "by", NULL
    };
    tm_t    t, best, bare;
    size_t  i, p, e2, bare_i;
    int     w, mark, have_bare, per;

    have_bare = 0;
    bare_i = 0;
    memset(&bare, 0, sizeof(bare));

    for (i = 0; i < c->n; i++) {
        best.end = 0;

        /* With a prefix word ("alle", "at") or without. */
        p = ex_phrases(c, i, c->loc == DDT_LOCALE_EN ? en_pre : it_pre, &w);
        mark = 0;
        if (p) {
            mark = !(c->loc == DDT_LOCALE_IT && ex_is(c, i, "le"));
            memset(&t, 0, sizeof(t));
            if (time_hour_at(c, i + p, &t)
                || (c->loc == DDT_LOCALE_EN && en_minute_first(c, i + p, &t)))
            {
                t.marker |= mark;
                best = t;
            }
        }

        memset(&t, 0, sizeof(t));
        if ((time_hour_at(c, i, &t)
             || (c->loc == DDT_LOCALE_EN && en_minute_first(c, i, &t)))
            && t.end > best.end)
        {
            best = t;
            p = 0;
        }
        if (c->loc == DDT_LOCALE_EN) {
            memset(&t, 0, sizeof(t));
            if (en_minute_first(c, i, &t) && t.end > best.end) {
                best = t;
                p = 0;
            }
        }

        /* The part of the day first: "stasera alle otto", "tonight at
         * 8", "stamattina alle 9". */
        if (best.end == 0
            && !(i > 0 && (ex_is(c, i - 1, "buona") || ex_is(c, i - 1, "buon")
                           || ex_is(c, i - 1, "good")))
            && ((per = period_at(c, i, &e2)) != PER_NONE
                || (per = period_word(c, i, &e2)) != PER_NONE)
            && per != PER_NIGHT
            && (p = ex_phrases(c, e2, c->loc == DDT_LOCALE_EN ? en_pre
                                                             : it_pre, &w))
               != 0)
        {
            memset(&t, 0, sizeof(t));
            if ((time_hour_at(c, e2 + p, &t)
                 || (c->loc == DDT_LOCALE_EN
                     && en_minute_first(c, e2 + p, &t)))
                && t.per == PER_NONE && t.hour <= 12)
            {
                t.hour = per_hour(per, t.hour);
                t.zero_ok = 1;
                t.marker = 1;
                best = t;
            }
        }

        if (best.end == 0) {
            continue;
        }

        /* A bare number is an hour only when nothing in the utterance
         * is marked as a time ("il 12 marzo alle 15" is 15). */
        if (!best.marker) {
            if (!have_bare) {
                bare = best;
                bare_i = i;
                have_bare = 1;
            }
            continue;
        }

        return time_cand(c, i, &best, out);
    }

    if (have_bare) {
        return time_cand(c, bare_i, &bare, out);
    }

    return 0;
}

static int
time_cand(ex_ctx_t *c, size_t i, tm_t *t, ex_cand_t *out)
{
    if (t->hour < 0 || t->hour > 23
        || (t->minute != ABSENT && (t->minute < 0 || t->minute > 59)))
    {
        return 0;
    }
    if (t->minute == ABSENT && t->zero_ok) {
        t->minute = 0;
    }

    out->i = i;
    out->j = t->end;
    out->marker = t->marker;
    out->value = time_value(c, t->hour, t->minute);
    return out->value != NULL;
}
