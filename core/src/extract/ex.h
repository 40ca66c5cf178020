/*
 * extract/ex.h: what the built-in parsers share inside extract/: the token
 * view of a folded utterance, word and phrase matching, number reading and
 * the per-kind entry points.  Not part of the core's contract (runtime.h
 * holds that); only files in extract/ include this.
 */
#ifndef DDT_EXTRACT_EX_H
#define DDT_EXTRACT_EX_H

#include "runtime.h"

/*
 * A token of the folded text: a run of ASCII letters (or other letters,
 * marks and non-ASCII digits), a run of ASCII digits, or one other
 * character.  Whitespace separates tokens and is not one.
 */
enum {
    EX_WORD = 0,
    EX_NUM,
    EX_PUNCT
};

typedef struct {
    uint32_t   fs, fe;       /* folded byte span */
    uint8_t    type;
    uint8_t    sp;           /* whitespace (or the start) before it */
} ex_tok_t;

/* Bounds: longer inputs are cut (a turn's text is at most 64 KiB). */
#define EX_MAX_TOKENS  8192

typedef struct {
    const ddt_parse_opts_t  *o;
    ddt_locale_t             loc;
    const char              *text;     /* original */
    size_t                   len;
    ddt_folded_t             f;
    ex_tok_t                *t;
    size_t                   n;
    ddt_arena_t             *a;
    struct ex_num_s         *wcache;   /* ex_word_number per token, or NULL */
    uint8_t                 *wstate;   /* 0 unknown, 1 number, 2 none */
} ex_ctx_t;

/* A candidate: tokens [i, j) and the value. */
typedef struct {
    size_t        i, j;
    ddt_json_t   *value;
    int           marker;
} ex_cand_t;

/* A number read from tokens. */
typedef struct ex_num_s {
    double   v;
    size_t   end;            /* token after the number */
    int      frac;           /* had a decimal part */
    int      words;          /* said in words */
    int      ndigits;        /* digits when written as one digit run */
} ex_num_t;

int  ex_tokenize(ex_ctx_t *c);
int  ex_next_token(const char *s, size_t len, size_t pos, ex_tok_t *t);

/* Token tests. */
int  ex_is(const ex_ctx_t *c, size_t i, const char *w);
int  ex_is_any(const ex_ctx_t *c, size_t i, const char *const *ws);
int  ex_adj(const ex_ctx_t *c, size_t i);           /* no space before i */
size_t ex_tlen(const ex_ctx_t *c, size_t i);
const char *ex_ts(const ex_ctx_t *c, size_t i);
int  ex_punct(const ex_ctx_t *c, size_t i, char ch);

/* A folded phrase ("that's right") against tokens from i; tokens matched
 * or 0. */
size_t ex_phrase(const ex_ctx_t *c, size_t i, const char *ph, size_t phlen);
/* The longest of a NULL-terminated list; index in *which. */
size_t ex_phrases(const ex_ctx_t *c, size_t i, const char *const *list,
    int *which);

/* Original byte span of tokens [i, j). */
void ex_span(const ex_ctx_t *c, size_t i, size_t j, size_t *start,
    size_t *end);

/* Numbers (num.c). */
int  ex_integral(double v);       /* finite, no fraction (no cast UB) */
int  ex_number(const ex_ctx_t *c, size_t i, int allow_frac, ex_num_t *out);
int  ex_digits_number(const ex_ctx_t *c, size_t i, int allow_frac,
    ex_num_t *out);
int  ex_word_number(const ex_ctx_t *c, size_t i, ex_num_t *out);
int  ex_it_compound(const char *s, size_t len, long *out);
int  ex_digit_word(const ex_ctx_t *c, size_t i);    /* 0-9 or -1 */
int  ex_month_word(const ex_ctx_t *c, size_t i, size_t *end);

/* Kinds. */
int ex_parse_number(ex_ctx_t *c, int integer, ex_cand_t *out);
int ex_parse_date(ex_ctx_t *c, ex_cand_t *out);
int ex_parse_time(ex_ctx_t *c, ex_cand_t *out);
int ex_parse_month(ex_ctx_t *c, ex_cand_t *out);
int ex_parse_yesno(ex_ctx_t *c, ex_cand_t *out);
int ex_parse_choice(ex_ctx_t *c, ex_cand_t *out);
int ex_parse_email(ex_ctx_t *c, ex_cand_t *out);
int ex_parse_phone(ex_ctx_t *c, ex_cand_t *out);
int ex_parse_postal(ex_ctx_t *c, ex_cand_t *out);
int ex_parse_fiscal(ex_ctx_t *c, ex_cand_t *out);
int ex_parse_iban(ex_ctx_t *c, ex_cand_t *out);
int ex_parse_amount(ex_ctx_t *c, ex_cand_t *out);

/* Yes/no phrase at token i: 1 yes, 0 no, -1 none, -2 a "neither" phrase
 * ("not sure"); *end token after. */
int ex_yesno_at(const ex_ctx_t *c, size_t i, size_t *end);

/* Dates (date.c), shared with formatting. */
int ex_days_in_month(int month, int year);    /* year 0: unknown (29 Feb) */
extern const char *const ex_month_names_it[13];
extern const char *const ex_month_names_en[13];

#endif
