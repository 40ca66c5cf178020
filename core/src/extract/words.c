/*
 * extract/words.c: the lexicon kinds: yesno (SPEC 4.5 lexicons plus the
 * usual variants, multi-word phrases such as "non è corretto" / "that's not
 * right" so the longest phrase decides), ddt_parse_yesno_word for the
 * engine's confirmation step, and choice (designer synonyms, whole words,
 * two different choices in one utterance give no value).
 */
#include <string.h>

#include "ex.h"

/* Folded forms: lower case, no accents ("è" is "e", "sì" is "si"). */
static const char *const  it_yes[] = {
    "si", "certo", "certamente", "esatto", "esattamente", "giusto",
    "e giusto", "corretto", "e corretto", "va bene", "va benissimo",
    "confermo", "assolutamente", "assolutamente si", "d ' accordo",
    "ok", "okay", "perfetto", "sicuro", "sicuramente", "affermativo",
    "proprio cosi", "e cosi", "certo che si", "esatto cosi", "ovviamente",
    "ovvio", "giustissimo", "esattissimo", "certissimo", "benissimo",
    "certo che si grazie", NULL
};

static const char *const  it_no[] = {
    "no", "sbagliato", "e sbagliato", "errato", "non e corretto",
    "non corretto", "non e giusto", "non e esatto", "non va bene",
    "non confermo", "negativo", "assolutamente no", "per niente",
    "niente affatto", "non e cosi", "certo che no", "non e vero",
    "nient ' affatto", "certamente no", "sicuramente no", "proprio no",
    "ma no", "ma anche no", NULL
};

static const char *const  en_yes[] = {
    "yes", "yeah", "yep", "yup", "ya", "yes please", "correct",
    "that ' s correct", "that is correct", "it ' s correct",
    "right", "that ' s right", "that is right", "all right", "alright",
    "sure", "of course", "exactly", "ok", "okay", "confirm", "i confirm",
    "confirmed", "absolutely", "affirmative", "definitely", "indeed",
    "sounds good", "that ' s it", "true", "uh huh", "uh - huh",
    "mhm", "mm - hmm", "yes sir", "yes ma ' am", "you bet", "certainly",
    "sure thing", "of course yes", "perfect", "obviously", NULL
};

static const char *const  en_no[] = {
    "no", "nope", "nah", "wrong", "that ' s wrong", "that is wrong",
    "it ' s wrong", "incorrect", "that ' s incorrect", "that is incorrect",
    "not correct", "that ' s not correct", "that is not correct",
    "it ' s not correct", "not right", "that ' s not right",
    "that is not right", "it ' s not right", "isn ' t right",
    "isn ' t correct", "negative", "absolutely not", "of course not",
    "no way", "not really", "false", "not at all", "definitely not",
    "that ' s not it", "that is not it", NULL
};

/* Neither yes nor no, though a yes word is inside ("I'm not sure"). */
static const char *const  it_neither[] = {
    "non sono sicuro", "non sono sicura", "non ne sono sicuro",
    "non ne sono sicura", "non sicuro", "non so se", "non e detto",
    "non proprio", "non esattamente", "non del tutto", "non so",
    "non saprei", "forse si", "forse no", "forse", "probabilmente si",
    "probabilmente no", "probabilmente", NULL
};

static const char *const  en_neither[] = {
    "not sure", "i ' m not sure", "i am not sure", "not exactly",
    "not quite", "not yet", "right now", "right away", "right after",
    "right before", "maybe yes", "maybe no", "maybe not", "maybe",
    "probably", "probably not", "perhaps", "no problem", "no worries",
    NULL
};

int
ex_yesno_at(const ex_ctx_t *c, size_t i, size_t *end)
{
    size_t  y, n, x;
    int     w;

    if (c->loc == DDT_LOCALE_EN) {
        y = ex_phrases(c, i, en_yes, &w);
        n = ex_phrases(c, i, en_no, &w);
        x = ex_phrases(c, i, en_neither, &w);
    } else {
        y = ex_phrases(c, i, it_yes, &w);
        n = ex_phrases(c, i, it_no, &w);
        x = ex_phrases(c, i, it_neither, &w);
    }

    if (x > 0 && x >= y && x >= n) {
        *end = i + x;
        return -2;
    }
    if (y == 0 && n == 0) {
        return -1;
    }
    if (n >= y) {
        *end = i + n;
        return 0;
    }
    *end = i + y;
    return 1;
}

int
ex_parse_yesno(ex_ctx_t *c, ex_cand_t *out)
{
    size_t  i, e;
    int     r;

    for (i = 0; i < c->n; i++) {
        r = ex_yesno_at(c, i, &e);
        if (r == -2) {
            i = e - 1;
            continue;
        }
        if (r < 0) {
            continue;
        }
        out->i = i;
        out->j = e;
        out->marker = 0;
        out->value = ddt_json_bool(c->a, r);
        return out->value != NULL;
    }
    return 0;
}

int
ddt_parse_yesno_word(ddt_locale_t loc, const char *text, size_t len,
    size_t *start, size_t *end)
{
    ddt_parse_opts_t  o;
    ddt_arena_t       a;
    ex_ctx_t          c;
    size_t            i, e;
    int               r;

    if (text == NULL) {
        return -1;
    }

    memset(&o, 0, sizeof(o));
    memset(&c, 0, sizeof(c));
    o.locale = loc;
    c.o = &o;
    c.loc = (loc == DDT_LOCALE_EN) ? DDT_LOCALE_EN : DDT_LOCALE_IT;
    c.text = text;
    c.len = len;
    c.a = &a;

    ddt_arena_init(&a, 0);
    r = -1;

    if (ddt_text_fold(&a, text, len, &c.f) == DDT_OK
        && ex_tokenize(&c) == DDT_OK)
    {
        for (i = 0; i < c.n; i++) {
            r = ex_yesno_at(&c, i, &e);
            if (r >= 0) {
                ex_span(&c, i, e, start, end);
                break;
            }
            if (r == -2) {
                i = e - 1;
            }
            r = -1;
        }
    }

    ddt_arena_free(&a);
    return r;
}

/* ---- choice ---------------------------------------------------------- */

#define CHOICE_MAX_MATCHES  256

typedef struct {
    size_t   i, j;
    size_t   choice;
} choice_hit_t;

int
ex_parse_choice(ex_ctx_t *c, ex_cand_t *out)
{
    const ddt_choice_t  *ch;
    const char          *syn;
    choice_hit_t         hits[CHOICE_MAX_MATCHES];
    ddt_folded_t         f;
    size_t               nh, k, s, i, m, h, g, best;
    int                  dominated;

    if (c->o->choices == NULL || c->o->n_choices == 0) {
        return 0;
    }

    nh = 0;

    for (k = 0; k < c->o->n_choices; k++) {
        ch = &c->o->choices[k];
        if (ch->value == NULL) {
            continue;
        }
        /* The value itself counts as a synonym ("gold" picks gold). */
        for (s = 0; s <= ch->n_synonyms; s++) {
            syn = (s == ch->n_synonyms) ? ch->value
                  : (ch->synonyms ? ch->synonyms[s] : NULL);
            if (syn == NULL
                || ddt_text_fold(c->a, syn, strlen(syn), &f) != DDT_OK)
            {
                continue;
            }
            for (i = 0; i < c->n; i++) {
                m = ex_phrase(c, i, f.s, f.len);
                if (m == 0) {
                    continue;
                }
                if (nh == CHOICE_MAX_MATCHES) {
                    return 0;
                }
                hits[nh].i = i;
                hits[nh].j = i + m;
                hits[nh].choice = k;
                nh++;
            }
        }
    }

    if (nh == 0) {
        return 0;
    }

    /*
     * A hit inside a longer hit of another choice does not count
     * ("carta di credito" is not also "carta").  Of the rest, all must be
     * the same choice; the leftmost-longest gives the span.
     */
    best = nh;
    for (h = 0; h < nh; h++) {
        dominated = 0;
        for (g = 0; g < nh; g++) {
            if (g != h && hits[g].i <= hits[h].i && hits[g].j >= hits[h].j
                && hits[g].j - hits[g].i > hits[h].j - hits[h].i)
            {
                dominated = 1;
                break;
            }
        }
        if (dominated) {
            continue;
        }
        if (best == nh) {
            best = h;
            continue;
        }
        if (hits[h].choice != hits[best].choice) {
            return 0;
        }
        if (hits[h].i < hits[best].i
            || (hits[h].i == hits[best].i && hits[h].j > hits[best].j))
        {
            best = h;
        }
    }

    if (best == nh) {
        return 0;
    }

    out->i = hits[best].i;
    out->j = hits[best].j;
    out->marker = 1;
    out->value = ddt_json_strz(c->a, c->o->choices[hits[best].choice].value);
    return out->value != NULL;
}
