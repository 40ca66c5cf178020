/*
 * fuzz_parse.c: libFuzzer target for the built-in parsers (extract/).
 * The first byte picks the kind (low 4 bits) and the locale (bit 4); the
 * rest is the utterance.  Texts reaching the parsers are valid UTF-8 in
 * production, but the parsers must also survive anything else, so invalid
 * bytes go through as they are.  Every match must lie inside the text and
 * its value must format; ddt_parse_yesno_word and ddt_format_value of the
 * value in the other locale run too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

static const char *syn_a[] = { "oro", "gold", "carta di credito" };
static const char *syn_b[] = { "argento", "", "carta", "s\xc3\xac" };

static const ddt_choice_t  choices[] = {
    { "gold", syn_a, 3 },
    { "silver", syn_b, 4 },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ddt_arena_t       a;
    ddt_parse_opts_t  o;
    ddt_match_t       m;
    ddt_buf_t         b;
    ddt_kind_t        kind;
    ddt_locale_t      loc;
    const char       *text;
    size_t            len, s, e;

    if (size < 1) {
        return 0;
    }

    kind = (ddt_kind_t) (data[0] & 0x0f);
    if (kind >= DDT_KIND_COUNT) {
        kind = DDT_KIND_DATE;
    }
    loc = (data[0] & 0x10) ? DDT_LOCALE_EN : DDT_LOCALE_IT;
    text = (const char *) data + 1;
    len = size - 1;

    memset(&o, 0, sizeof(o));
    o.locale = loc;
    o.today_day = 31;
    o.today_month = 12;
    o.today_year = 2024;
    o.choices = choices;
    o.n_choices = 2;

    ddt_arena_init(&a, 0);
    ddt_buf_init(&b);

    if (ddt_parse(kind, &o, text, len, &a, &m) == 1) {
        if (m.value == NULL || m.start > m.end || m.end > len) {
            abort();
        }
        if (ddt_format_value(kind, loc, m.value, &b) != DDT_OK) {
            abort();
        }
        ddt_format_value(kind, loc == DDT_LOCALE_IT ? DDT_LOCALE_EN
                                                    : DDT_LOCALE_IT,
                         m.value, &b);
    }

    if (ddt_parse_yesno_word(loc, text, len, &s, &e) >= 0
        && (s > e || e > len))
    {
        abort();
    }

    ddt_buf_free(&b);
    ddt_arena_free(&a);
    return 0;
}
