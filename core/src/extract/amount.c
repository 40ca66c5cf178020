/*
 * extract/amount.c: the amount kind: a number with a currency from a
 * symbol (€ $ £), an ISO code or a word ("cinquanta euro", "$50.00",
 * "fifty dollars and twenty cents"), else the locale's currency (EUR for
 * it-IT, USD for en-US).  An amount with a currency wins over a bare
 * number anywhere in the utterance.
 */
#include <string.h>

#include "ex.h"

typedef struct {
    const char  *ph;
    const char  *iso;
} cur_word_t;

static const cur_word_t  cur_it[] = {
    { "\xe2\x82\xac", "EUR" }, { "$", "USD" }, { "\xc2\xa3", "GBP" },
    { "eur", "EUR" }, { "usd", "USD" }, { "gbp", "GBP" }, { "chf", "CHF" },
    { "euro", "EUR" }, { "euri", "EUR" },
    { "dollari", "USD" }, { "dollaro", "USD" },
    { "dollari americani", "USD" }, { "dollaro americano", "USD" },
    { "sterline", "GBP" }, { "sterlina", "GBP" },
    { "franchi svizzeri", "CHF" }, { "franco svizzero", "CHF" },
    { "franchi", "CHF" },
    { NULL, NULL }
};

static const cur_word_t  cur_en[] = {
    { "\xe2\x82\xac", "EUR" }, { "$", "USD" }, { "\xc2\xa3", "GBP" },
    { "eur", "EUR" }, { "usd", "USD" }, { "gbp", "GBP" }, { "chf", "CHF" },
    { "us $", "USD" },
    { "euro", "EUR" }, { "euros", "EUR" },
    { "dollars", "USD" }, { "dollar", "USD" }, { "bucks", "USD" },
    { "buck", "USD" }, { "us dollars", "USD" },
    { "pounds", "GBP" }, { "pound", "GBP" }, { "quid", "GBP" },
    { "pounds sterling", "GBP" }, { "swiss francs", "CHF" },
    { "francs", "CHF" },
    { NULL, NULL }
};

static const char *
currency_at(const ex_ctx_t *c, size_t i, size_t *end)
{
    const cur_word_t  *t;
    const char        *iso;
    size_t             l, best;

    best = 0;
    iso = NULL;
    for (t = (c->loc == DDT_LOCALE_EN) ? cur_en : cur_it; t->ph; t++) {
        l = ex_phrase(c, i, t->ph, strlen(t->ph));
        if (l > best) {
            best = l;
            iso = t->iso;
        }
    }
    if (best) {
        *end = i + best;
    }
    return iso;
}

static int
cents_word(const ex_ctx_t *c, size_t i)
{
    return ex_is(c, i, "centesimi") || ex_is(c, i, "centesimo")
           || ex_is(c, i, "cents") || ex_is(c, i, "cent")
           || ex_is(c, i, "pence") || ex_is(c, i, "penny");
}

/* A number usable in an amount at i (not glued to letters). */
static int
amount_number(const ex_ctx_t *c, size_t i, ex_num_t *n)
{
    size_t  e;

    if (i >= c->n) {
        return 0;
    }
    /* "un euro", "a dollar" */
    if ((ex_is(c, i, "un") || ex_is(c, i, "a"))
        && currency_at(c, i + 1, &e) != NULL
        && c->t[i + 1].type == EX_WORD)
    {
        n->v = 1;
        n->end = i + 1;
        n->frac = 0;
        n->words = 1;
        return 1;
    }
    if (!ex_number(c, i, 1, n)) {
        return 0;
    }
    if (!n->words && n->end < c->n && ex_adj(c, n->end)
        && c->t[n->end].type == EX_WORD)
    {
        /* "50eur" is fine, "3pm" is not */
        if (currency_at(c, n->end, &e) == NULL) {
            return 0;
        }
    }
    return 1;
}

/* "e cinquanta (centesimi)", "and twenty cents" after a currency. */
static size_t
cents_after(const ex_ctx_t *c, size_t k, double *v)
{
    /* words that end a sentence rather than name what was counted */
    static const char *const  closing[] = {
        "grazie", "per favore", "per piacere", "circa", "esatti", "precisi",
        "ok", "okay", "in tutto", "totali", "thanks", "thank you", "please",
        "exactly", "total", "in total", "altogether", NULL
    };
    ex_num_t                  n;
    size_t                    s;
    int                       w;

    s = k;
    if (ex_is(c, k, "e") || ex_is(c, k, "and")) {
        s = k + 1;
    }
    if (!ex_integral(*v) || !amount_number(c, s, &n) || n.frac
        || n.v < 1 || n.v > 99 || n.end - s > 3)
    {
        return k;
    }
    if (cents_word(c, n.end)) {
        *v = (*v * 100 + n.v) / 100;
        return n.end + 1;
    }
    /* "venti euro e cinquanta", "twenty dollars fifty": cents, unless a
     * word of something else follows ("20 euro e 3 bambini") */
    if (n.end < c->n && c->t[n.end].type == EX_WORD
        && ex_phrases(c, n.end, closing, &w) == 0)
    {
        return k;
    }
    *v = (*v * 100 + n.v) / 100;
    return n.end;
}

typedef struct {
    double       v;
    const char  *iso;
    size_t       end;
} amt_t;

static int
amount_at(const ex_ctx_t *c, size_t i, amt_t *a)
{
    ex_num_t     n;
    const char  *iso;
    size_t       e;

    a->iso = NULL;

    /* symbol or code first: "$50", "€ 20,50", "EUR 100" */
    iso = currency_at(c, i, &e);
    if (iso != NULL && amount_number(c, e, &n)) {
        a->v = n.v;
        a->iso = iso;
        a->end = cents_after(c, n.end, &a->v);
        return 1;
    }

    if (!amount_number(c, i, &n)) {
        return 0;
    }
    a->v = n.v;
    a->end = n.end;

    iso = currency_at(c, n.end, &e);
    /* "un milione di euro" */
    if (iso == NULL && c->loc == DDT_LOCALE_IT && ex_is(c, n.end, "di")
        && c->t[n.end + 1 < c->n ? n.end + 1 : n.end].type == EX_WORD)
    {
        iso = currency_at(c, n.end + 1, &e);
    }
    if (iso != NULL) {
        a->iso = iso;
        a->end = cents_after(c, e, &a->v);
        return 1;
    }
    if (cents_word(c, n.end) && !n.frac) {
        a->v = n.v / 100;
        a->end = n.end + 1;
        a->iso = "";      /* marked, locale currency */
        return 1;
    }
    return 1;
}

int
ex_parse_amount(ex_ctx_t *c, ex_cand_t *out)
{
    amt_t        a, bare;
    size_t       i, bare_i;
    int          have_bare;
    const char  *iso;
    ddt_json_t  *o;

    have_bare = 0;
    bare_i = 0;
    memset(&bare, 0, sizeof(bare));

    for (i = 0; i < c->n; i++) {
        if (!amount_at(c, i, &a)) {
            continue;
        }
        if (a.iso == NULL) {
            if (!have_bare) {
                bare = a;
                bare_i = i;
                have_bare = 1;
            }
            i = a.end - 1;
            continue;
        }
        break;
    }

    if (i >= c->n) {
        if (!have_bare) {
            return 0;
        }
        a = bare;
        i = bare_i;
    }

    if (a.v < 0 || a.v > 1e15) {
        return 0;
    }

    iso = (a.iso && a.iso[0]) ? a.iso
          : (c->loc == DDT_LOCALE_EN ? "USD" : "EUR");

    o = ddt_json_obj(c->a);
    if (o == NULL
        || ddt_json_setz(c->a, o, "value", ddt_json_num(c->a, a.v)) != DDT_OK
        || ddt_json_setz(c->a, o, "currency", ddt_json_strz(c->a, iso))
           != DDT_OK)
    {
        return 0;
    }

    out->i = i;
    out->j = a.end;
    out->marker = a.iso != NULL;
    out->value = o;
    return 1;
}
