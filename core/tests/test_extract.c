/*
 * test_extract.c: the built-in parsers and value formatting (extract/).
 * Reads the utterance tables tests/corpus/extract-*.tsv (locale, kind,
 * utterance, expected value as compact JSON or "-" for no value), prints
 * accuracy per kind and fails on any row that fails; then checks spans in
 * the original text, markers, ddt_parse_yesno_word, folding and
 * ddt_format_value.  Run from core/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "runtime.h"

static const char *gold_syn[] = { "oro", "gold", "dorato" };
static const char *silver_syn[] = { "argento", "silver", "argentato" };
static const char *credit_syn[] = { "carta di credito", "credit card" };
static const char *cash_syn[] = { "contanti", "cash", "carta" };

static const ddt_choice_t choices[] = {
    { "gold", gold_syn, 3 },
    { "silver", silver_syn, 3 },
    { "credit", credit_syn, 2 },
    { "cash", cash_syn, 3 },
};

static void
opts_for(ddt_locale_t loc, ddt_parse_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->locale = loc;
    /* A leap day in reach: "ieri" is 29 February. */
    o->today_day = 1;
    o->today_month = 3;
    o->today_year = 2024;
    o->choices = choices;
    o->n_choices = sizeof(choices) / sizeof(choices[0]);
}

typedef struct {
    int  pass, total;
} kstat_t;

static kstat_t  stats[DDT_KIND_COUNT];

static int
run_row(const char *file, int line, const char *loc_s, const char *kind_s,
    const char *utt, const char *want_s)
{
    ddt_arena_t        a;
    ddt_parse_opts_t   o;
    ddt_locale_t       loc;
    ddt_kind_t         kind;
    ddt_match_t        m;
    ddt_json_t        *want;
    ddt_jerr_t         jerr;
    ddt_buf_t          b;
    int                rc, ok;

    if (ddt_locale_parse(loc_s, strlen(loc_s), &loc) != DDT_OK
        || ddt_kind_parse(kind_s, strlen(kind_s), &kind) != DDT_OK)
    {
        fprintf(stderr, "%s:%d: bad locale or kind\n", file, line);
        return 0;
    }

    ddt_arena_init(&a, 0);
    opts_for(loc, &o);
    rc = ddt_parse(kind, &o, utt, strlen(utt), &a, &m);

    want = NULL;
    if (strcmp(want_s, "-") != 0) {
        want = ddt_json_parse(&a, want_s, strlen(want_s), NULL, &jerr);
        if (want == NULL) {
            fprintf(stderr, "%s:%d: bad expected JSON: %s\n", file, line,
                    want_s);
            ddt_arena_free(&a);
            return 0;
        }
    }

    if (want == NULL) {
        ok = (rc == 0);
    } else {
        ok = (rc == 1 && ddt_json_equal(m.value, want));
        /* the span lies inside the text */
        if (ok && (m.start > m.end || m.end > strlen(utt))) {
            ok = 0;
        }
    }

    stats[kind].total++;
    if (ok) {
        stats[kind].pass++;
    } else {
        ddt_buf_init(&b);
        if (rc == 1) {
            ddt_json_write(&b, m.value);
        }
        fprintf(stderr, "%s:%d: %s %s \"%s\": got %s, want %s\n", file, line,
                loc_s, kind_s, utt, rc == 1 ? b.data : "-", want_s);
        ddt_buf_free(&b);
    }

    ddt_arena_free(&a);
    return ok;
}

static int
run_table(const char *path)
{
    FILE   *f;
    char    line[2048], *cols[4], *p;
    int     lineno, n, rows;
    size_t  l;

    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s (run from core/)\n", path);
        t_fail++;
        return 0;
    }

    lineno = 0;
    rows = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        l = strlen(line);
        while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r')) {
            line[--l] = '\0';
        }
        if (l == 0 || line[0] == '#') {
            continue;
        }
        n = 0;
        p = line;
        cols[n++] = p;
        while (n < 4 && (p = strchr(p, '\t')) != NULL) {
            *p++ = '\0';
            cols[n++] = p;
        }
        if (n != 4) {
            fprintf(stderr, "%s:%d: want 4 tab-separated columns\n", path,
                    lineno);
            t_fail++;
            continue;
        }
        rows++;
        CHECK_MSG(run_row(path, lineno, cols[0], cols[1], cols[2], cols[3]),
                  "%s:%d", path, lineno);
    }

    fclose(f);
    return rows;
}

/* ---- spans, markers, yes/no words ------------------------------------ */

static void
span_is(ddt_kind_t kind, ddt_locale_t loc, const char *utt, const char *span,
    int marker)
{
    ddt_arena_t       a;
    ddt_parse_opts_t  o;
    ddt_match_t       m;
    int               rc;

    ddt_arena_init(&a, 0);
    opts_for(loc, &o);
    rc = ddt_parse(kind, &o, utt, strlen(utt), &a, &m);
    CHECK_MSG(rc == 1, "no match in \"%s\"", utt);
    if (rc == 1) {
        CHECK_MSG(m.end - m.start == strlen(span)
                  && memcmp(utt + m.start, span, strlen(span)) == 0,
                  "\"%s\": span \"%.*s\", want \"%s\"", utt,
                  (int) (m.end - m.start), utt + m.start, span);
        CHECK_MSG(m.marker == marker, "\"%s\": marker %d, want %d", utt,
                  m.marker, marker);
    }
    ddt_arena_free(&a);
}

static void
test_spans(void)
{
    span_is(DDT_KIND_DATE, DDT_LOCALE_IT,
            "sono nato il 12 marzo 1980 a Roma", "12 marzo 1980", 1);
    span_is(DDT_KIND_DATE, DDT_LOCALE_IT,
            "SÌ, il 3 FEBBRAIO '88", "3 FEBBRAIO '88", 1);
    span_is(DDT_KIND_DATE, DDT_LOCALE_IT, "nato il 12/03/1980",
            "12/03/1980", 1);
    span_is(DDT_KIND_DATE, DDT_LOCALE_EN, "on the 12th, please", "12th", 0);
    span_is(DDT_KIND_TIME, DDT_LOCALE_IT,
            "vengo alle tre e mezza del pomeriggio, grazie",
            "alle tre e mezza del pomeriggio", 1);
    span_is(DDT_KIND_TIME, DDT_LOCALE_IT, "15", "15", 0);
    span_is(DDT_KIND_EMAIL, DDT_LOCALE_IT,
            "la mia mail è mario punto rossi chiocciola gmail punto com grazie",
            "mario punto rossi chiocciola gmail punto com", 1);
    span_is(DDT_KIND_AMOUNT, DDT_LOCALE_IT, "costa 50 € circa", "50 €", 1);
    span_is(DDT_KIND_AMOUNT, DDT_LOCALE_IT, "cinquanta", "cinquanta", 0);
    span_is(DDT_KIND_PHONE, DDT_LOCALE_IT, "chiamami al 347 123 4567 ok",
            "347 123 4567", 1);
    span_is(DDT_KIND_PHONE, DDT_LOCALE_IT, "06 1234", "06 1234", 0);
    span_is(DDT_KIND_NUMBER, DDT_LOCALE_IT, "ne voglio trentadue",
            "trentadue", 0);
    span_is(DDT_KIND_CHOICE, DDT_LOCALE_IT, "quello d'ORO grazie", "ORO", 1);
    span_is(DDT_KIND_TEXT, DDT_LOCALE_IT, "  vorrei disdire \n",
            "vorrei disdire", 0);
    span_is(DDT_KIND_YESNO, DDT_LOCALE_IT, "no, non è corretto", "no", 0);
    span_is(DDT_KIND_MONTH, DDT_LOCALE_EN, "in Sept. I think", "Sept.", 1);
    /* Accented original, combining mark after the base letter. */
    span_is(DDT_KIND_YESNO, DDT_LOCALE_IT, "si\xcc\x80 certo",
            "si\xcc\x80", 0);
    span_is(DDT_KIND_FISCALCODE, DDT_LOCALE_IT,
            "il codice è rssmra80a01h501u.", "rssmra80a01h501u", 1);
    span_is(DDT_KIND_IBAN, DDT_LOCALE_IT,
            "IBAN: IT60 X054 2811 1010 0000 0123 456 grazie",
            "IT60 X054 2811 1010 0000 0123 456", 1);
}

static void
yesno_word_is(ddt_locale_t loc, const char *utt, int want, const char *word)
{
    size_t  s, e;
    int     r;

    s = e = 0;
    r = ddt_parse_yesno_word(loc, utt, strlen(utt), &s, &e);
    CHECK_MSG(r == want, "\"%s\": %d, want %d", utt, r, want);
    if (r >= 0 && word != NULL) {
        CHECK_MSG(e - s == strlen(word)
                  && memcmp(utt + s, word, strlen(word)) == 0,
                  "\"%s\": word \"%.*s\", want \"%s\"", utt, (int) (e - s),
                  utt + s, word);
    }
}

static void
test_yesno_word(void)
{
    yesno_word_is(DDT_LOCALE_IT, "no, il giorno è 13", 0, "no");
    yesno_word_is(DDT_LOCALE_IT, "Sì, il 13", 1, "Sì");
    yesno_word_is(DDT_LOCALE_IT, "va bene così", 1, "va bene");
    yesno_word_is(DDT_LOCALE_IT, "non è corretto, è il 14", 0,
                  "non è corretto");
    yesno_word_is(DDT_LOCALE_IT, "il 13 marzo", -1, NULL);
    yesno_word_is(DDT_LOCALE_IT, "nonna", -1, NULL);
    yesno_word_is(DDT_LOCALE_EN, "that's not right, it's the 14th", 0,
                  "that's not right");
    yesno_word_is(DDT_LOCALE_EN, "That\xe2\x80\x99s right", 1,
                  "That\xe2\x80\x99s right");
    yesno_word_is(DDT_LOCALE_EN, "nobody knows", -1, NULL);
    yesno_word_is(DDT_LOCALE_EN, "", -1, NULL);
}

static void
test_fold(void)
{
    ddt_arena_t   a;
    ddt_folded_t  f;
    const char   *s = "S\xc3\x8c e\xcc\x81 STRASSE";

    ddt_arena_init(&a, 0);
    CHECK(ddt_text_fold(&a, s, strlen(s), &f) == DDT_OK);
    CHECK_STR(f.s, "si e strasse");
    CHECK_INT(f.orig[0], 0);
    CHECK_INT(f.orig[1], 1);       /* 'i' comes from the 2-byte Ì */
    CHECK_INT(f.orig[3], 4);       /* 'e' before its combining acute */
    CHECK_INT(f.orig[f.len], strlen(s));
    CHECK(ddt_text_fold(&a, "", 0, &f) == DDT_OK);
    CHECK_INT(f.len, 0);
    /* invalid bytes do not stop folding */
    CHECK(ddt_text_fold(&a, "a\xff" "b", 3, &f) == DDT_OK);
    CHECK_INT(f.len, 3);
    ddt_arena_free(&a);
}

/* ---- formatting ------------------------------------------------------ */

static void
fmt_is(ddt_kind_t kind, ddt_locale_t loc, const char *json, const char *want)
{
    ddt_arena_t   a;
    ddt_json_t   *v;
    ddt_jerr_t    jerr;
    ddt_buf_t     b;

    ddt_arena_init(&a, 0);
    ddt_buf_init(&b);
    v = ddt_json_parse(&a, json, strlen(json), NULL, &jerr);
    CHECK_MSG(v != NULL, "bad JSON %s", json);
    CHECK(ddt_format_value(kind, loc, v, &b) == DDT_OK);
    CHECK_MSG(strcmp(b.data ? b.data : "", want) == 0,
              "%s %s %s: \"%s\", want \"%s\"", ddt_kind_name(kind),
              ddt_locale_name(loc), json, b.data ? b.data : "", want);
    ddt_buf_free(&b);
    ddt_arena_free(&a);
}

static void
test_format(void)
{
    ddt_locale_t  it = DDT_LOCALE_IT, en = DDT_LOCALE_EN;

    fmt_is(DDT_KIND_DATE, it, "{\"day\":12,\"month\":3,\"year\":1980}",
           "12 marzo 1980");
    fmt_is(DDT_KIND_DATE, it, "{\"day\":1,\"month\":3,\"year\":1980}",
           "1\xc2\xba marzo 1980");
    fmt_is(DDT_KIND_DATE, en, "{\"day\":12,\"month\":3,\"year\":1980}",
           "March 12, 1980");
    fmt_is(DDT_KIND_DATE, en, "{\"year\":1980,\"month\":3,\"day\":1}",
           "March 1, 1980");
    fmt_is(DDT_KIND_DATE, it, "{\"day\":12,\"month\":3}", "12 marzo");
    fmt_is(DDT_KIND_DATE, it, "{\"month\":3,\"year\":1980}", "marzo 1980");
    fmt_is(DDT_KIND_DATE, it, "{\"year\":1980}", "1980");
    fmt_is(DDT_KIND_DATE, en, "{\"day\":12,\"month\":3}", "March 12");
    fmt_is(DDT_KIND_DATE, en, "{\"month\":3,\"year\":1980}", "March 1980");
    fmt_is(DDT_KIND_DATE, en, "{\"year\":1980}", "1980");
    fmt_is(DDT_KIND_DATE, it, "{\"day\":12,\"month\":13}",
           "{\"day\":12,\"month\":13}");
    fmt_is(DDT_KIND_DATE, it, "\"1980-03-12\"", "1980-03-12");
    fmt_is(DDT_KIND_MONTH, it, "3", "marzo");
    fmt_is(DDT_KIND_MONTH, en, "12", "December");
    fmt_is(DDT_KIND_MONTH, en, "13", "13");
    fmt_is(DDT_KIND_TIME, it, "{\"hour\":15,\"minute\":30}", "15:30");
    fmt_is(DDT_KIND_TIME, it, "{\"hour\":9,\"minute\":5}", "9:05");
    fmt_is(DDT_KIND_TIME, en, "{\"hour\":15,\"minute\":30}", "3:30 PM");
    fmt_is(DDT_KIND_TIME, en, "{\"hour\":0,\"minute\":15}", "12:15 AM");
    fmt_is(DDT_KIND_TIME, en, "{\"hour\":12,\"minute\":0}", "12:00 PM");
    fmt_is(DDT_KIND_NUMBER, it, "48.5", "48,5");
    fmt_is(DDT_KIND_NUMBER, en, "48.5", "48.5");
    fmt_is(DDT_KIND_NUMBER, it, "1234567", "1234567");
    fmt_is(DDT_KIND_NUMBER, it, "100000000000000000000", "100000000000000000000");
    fmt_is(DDT_KIND_NONE, en, "1e20", "100000000000000000000");
    fmt_is(DDT_KIND_INTEGER, en, "-32", "-32");
    fmt_is(DDT_KIND_AMOUNT, it, "{\"value\":50,\"currency\":\"EUR\"}",
           "50,00 \xe2\x82\xac");
    fmt_is(DDT_KIND_AMOUNT, en, "{\"value\":50,\"currency\":\"USD\"}",
           "$50.00");
    fmt_is(DDT_KIND_AMOUNT, en, "{\"value\":1234.5,\"currency\":\"EUR\"}",
           "\xe2\x82\xac" "1234.50");
    fmt_is(DDT_KIND_AMOUNT, it, "{\"value\":20.5,\"currency\":\"CHF\"}",
           "20,50 CHF");
    fmt_is(DDT_KIND_AMOUNT, en, "{\"value\":20.5,\"currency\":\"CHF\"}",
           "20.50 CHF");
    fmt_is(DDT_KIND_YESNO, it, "true", "s\xc3\xac");
    fmt_is(DDT_KIND_YESNO, it, "false", "no");
    fmt_is(DDT_KIND_YESNO, en, "true", "yes");
    fmt_is(DDT_KIND_YESNO, en, "false", "no");
    fmt_is(DDT_KIND_CHOICE, it, "\"gold\"", "gold");
    fmt_is(DDT_KIND_EMAIL, it, "\"mario.rossi@gmail.com\"",
           "mario.rossi@gmail.com");
    fmt_is(DDT_KIND_COMPOSITE, it,
           "{\"street\":\"via Roma\",\"number\":12,\"city\":\"Milano\"}",
           "via Roma, 12, Milano");
    fmt_is(DDT_KIND_COMPOSITE, it,
           "{\"street\":\"via Roma\",\"number\":null,\"city\":\"Milano\"}",
           "via Roma, Milano");
    fmt_is(DDT_KIND_COMPOSITE, en,
           "{\"when\":{\"day\":12,\"month\":3},\"price\":2.5}",
           "March 12, 2.5");
    fmt_is(DDT_KIND_DATE, it, "null", "");
    fmt_is(DDT_KIND_NONE, it, "null", "");
    fmt_is(DDT_KIND_NONE, it, "\"ciao\"", "ciao");
    fmt_is(DDT_KIND_NONE, it, "2.5", "2,5");
    fmt_is(DDT_KIND_NONE, en, "2.5", "2.5");
    fmt_is(DDT_KIND_NONE, en, "true", "true");
    fmt_is(DDT_KIND_NONE, it, "{\"a\":[1,2],\"b\":\"x\"}",
           "{\"a\":[1,2],\"b\":\"x\"}");
    fmt_is(DDT_KIND_NONE, it, "[1,\"due\"]", "[1,\"due\"]");
}

/* ---- robustness: odd inputs for every kind --------------------------- */

static void
test_odd_inputs(void)
{
    static const char *const  odd[] = {
        "", " ", "\xc2\xa0", "@", "@@@ . .", "+", "+++", "31/", "/12/",
        "1.", ".5", ",,,", "e e e e", "doppio", "double", "meno", "virgola",
        "at at at", "chiocciola punto", "12:", ":30", "alle", "the",
        "IT60", "IT", "1º", "º", "'", "'88", "-", "--5",
        "9999999999999999999999999999999999999999999999999",
        "millemillemillemillemillemillemillemillemillemille",
        "123456789012345678901234567890123456789 milioni",
        "1234567890123456789012345678901234567890 billion dollars",
        "999999999999999999999999,5 mila euro", "1.000.000.000.000.000.000",
        "\xf0\x9f\x98\x80 \xf0\x9f\x98\x80", "a\xcc\x80\xcc\x80\xcc\x80",
        NULL
    };
    ddt_arena_t       a;
    ddt_parse_opts_t  o;
    ddt_match_t       m;
    int               k, kind, loc, rc;

    for (loc = 0; loc < DDT_LOCALE_COUNT; loc++) {
        for (kind = 0; kind < DDT_KIND_COUNT; kind++) {
            for (k = 0; odd[k]; k++) {
                ddt_arena_init(&a, 0);
                opts_for((ddt_locale_t) loc, &o);
                rc = ddt_parse((ddt_kind_t) kind, &o, odd[k], strlen(odd[k]),
                               &a, &m);
                CHECK(rc == 0 || (rc == 1 && m.value != NULL
                                  && m.start <= m.end
                                  && m.end <= strlen(odd[k])));
                ddt_arena_free(&a);
            }
        }
    }
}

int
main(void)
{
    int     k, rows, pass, total;

    rows = run_table("tests/corpus/extract-it.tsv");
    rows += run_table("tests/corpus/extract-en.tsv");

    pass = total = 0;
    fprintf(stderr, "extract corpus: %d rows\n", rows);
    for (k = 0; k < DDT_KIND_COUNT; k++) {
        if (stats[k].total == 0) {
            continue;
        }
        fprintf(stderr, "  %-11s %4d/%-4d %5.1f%%\n",
                ddt_kind_name((ddt_kind_t) k), stats[k].pass, stats[k].total,
                100.0 * stats[k].pass / stats[k].total);
        pass += stats[k].pass;
        total += stats[k].total;
    }
    if (total) {
        fprintf(stderr, "  %-11s %4d/%-4d %5.1f%%\n", "all", pass, total,
                100.0 * pass / total);
    }

    test_spans();
    test_yesno_word();
    test_fold();
    test_format();
    test_odd_inputs();

    return T_DONE();
}
