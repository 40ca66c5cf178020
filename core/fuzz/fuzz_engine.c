/*
 * fuzz_engine.c: libFuzzer target for the DDT engine: a conversation with a
 * project that has every engine path (sub-data, confirmation, rules, mixed
 * initiative, optional nodes, a regex layer, an ner layer).  The input is
 * split in lines, one turn each: "#..." DTMF keys, "!i" noInput, "!m"
 * noMatch, "{..." a `values` object, "~..." the ner service's answer when
 * an effect is out, anything else text.  No input may crash, leak or leave
 * the session in a state that does not save and load back.
 */
#include <stdlib.h>
#include <string.h>

#include <ddt/ddt.h>

static const char *src =
"{\"format\":\"ddt-project/1\",\"name\":\"fz\",\"version\":\"1\","
"\"locale\":\"it-IT\",\"flow\":{\"start\":\"a\",\"nodes\":["
"{\"id\":\"a\",\"tasks\":[{\"type\":\"GetData\",\"ddt\":\"c\"},"
"{\"type\":\"GetData\",\"ddt\":\"c\"}]}],\"edges\":[{\"from\":\"a\","
"\"to\":\"a\",\"condition\":\"c.$status == \\\"exhausted\\\"\"}]},"
"\"ddts\":{\"c\":{\"mixedInitiative\":true,\"data\":["
"{\"id\":\"name\",\"kind\":\"text\",\"confirm\":\"ifUncertain\","
"\"extract\":[{\"type\":\"regex\",\"confidence\":0.5,"
"\"pattern\":\"sono (?<value>\\\\w+ \\\\w+)\"},"
"{\"type\":\"ner\",\"service\":\"nlu\"},{\"type\":\"parser\"}],"
"\"steps\":{\"start\":[\"N?\"],\"confirmation\":[\"{c.name}?\"]}},"
"{\"id\":\"birth\",\"kind\":\"date\",\"confirm\":\"always\","
"\"subData\":[{\"id\":\"day\",\"kind\":\"integer\",\"min\":1,\"max\":31},"
"{\"id\":\"month\",\"kind\":\"month\"},{\"id\":\"year\",\"kind\":\"integer\","
"\"min\":1900,\"max\":2100,\"steps\":{\"start\":[\"Y?\"]}}],"
"\"validate\":[{\"condition\":\"value <= today()\",\"step\":\"invalid\"},"
"{\"condition\":\"value.day != 13\",\"sub\":\"day\",\"text\":\"no 13\"},"
"{\"condition\":\"value.year != 1999\",\"step\":\"custom\"}],"
"\"steps\":{\"start\":[\"D?\"],\"noMatch\":[\"D1\",\"D2\"],"
"\"confirmation\":[\"{c.birth}?\"],\"notConfirmed\":[\"again\"],"
"\"invalid\":[\"bad\"],\"custom\":[\"c\"],\"success\":[\"ok\"]},"
"\"limits\":{\"noMatch\":4,\"notConfirmed\":3}},"
"{\"id\":\"kids\",\"kind\":\"integer\",\"max\":20,"
"\"steps\":{\"start\":[\"K?\"]},\"limits\":{\"invalid\":0}},"
"{\"id\":\"slot\",\"kind\":\"time\",\"confirm\":\"always\","
"\"steps\":{\"start\":[\"T?\"],\"confirmation\":[\"{c.slot}?\"]}},"
"{\"id\":\"ok\",\"kind\":\"yesno\",\"steps\":{\"start\":[\"OK?\"]}},"
"{\"id\":\"plan\",\"kind\":\"choice\",\"choices\":[{\"value\":\"gold\","
"\"synonyms\":[\"oro\"]},{\"value\":\"silver\"}],"
"\"steps\":{\"start\":[\"P?\"]}},"
"{\"id\":\"mail\",\"kind\":\"email\",\"required\":false,"
"\"confirm\":\"always\",\"steps\":{\"start\":[\"M?\"],"
"\"confirmation\":[\"{c.mail}?\"]}}]}}}";

static ddt_project_t  *proj;
static uint8_t        *block;

static void
setup(void)
{
    ddt_diags_t  d;
    size_t       len;
    char         err[128];

    ddt_diags_init(&d);
    if (ddt_compile(src, strlen(src), &d, &block, &len) != DDT_OK
        || ddt_project_load(block, len, &proj, err, sizeof(err)) != DDT_OK)
    {
        abort();
    }
    ddt_diags_free(&d);
}

static void
one_turn(ddt_session_t *s, ddt_arena_t *a, const char *line, size_t n,
    ddt_turn_result_t *r)
{
    ddt_buf_t            body;
    ddt_input_t          in;
    ddt_err_t            err;
    ddt_effect_result_t  er;

    ddt_buf_init(&body);
    if (n > 0 && line[0] == '#') {
        ddt_buf_adds(&body, "{\"dtmf\":");
        ddt_json_write_str(&body, line + 1, n - 1);
        ddt_buf_addc(&body, '}');
    } else if (n == 2 && line[0] == '!') {
        ddt_buf_adds(&body, line[1] == 'i' ? "{\"event\":\"noInput\"}"
                                           : "{\"event\":\"noMatch\"}");
    } else if (n > 0 && line[0] == '{') {
        ddt_buf_adds(&body, "{\"values\":");
        ddt_buf_add(&body, line, n);
        ddt_buf_addc(&body, '}');
    } else {
        ddt_buf_adds(&body, "{\"text\":");
        ddt_json_write_str(&body, line, n);
        ddt_buf_addc(&body, '}');
    }

    if (!body.oom
        && ddt_input_parse(a, body.data, body.len, &in, &err) == DDT_OK
        && ddt_session_status(s) == DDT_STATUS_WAITING)
    {
        ddt_turn_result_free(r);
        ddt_turn_result_init(r);
        if (ddt_turn(proj, s, &in, 1795000000000LL, r, &err) == DDT_OK) {
            while (r->need_effect) {
                memset(&er, 0, sizeof(er));
                er.status = 200;
                er.body = "{\"values\":{\"name\":\"Anna Neri\","
                          "\"birth\":\"1980-03-12\",\"kids\":3}}";
                er.body_len = strlen(er.body);
                ddt_turn_result_free(r);
                ddt_turn_result_init(r);
                if (ddt_turn_resume(proj, s, &er, r, &err) != DDT_OK) {
                    break;
                }
            }
        }
    }
    ddt_buf_free(&body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ddt_arena_t          a;
    ddt_session_opts_t   o;
    ddt_session_t       *s = NULL, *s2 = NULL;
    ddt_turn_result_t    r;
    ddt_err_t            err;
    ddt_buf_t            st;
    const char          *p, *e, *end;
    int                  turns = 0;

    if (proj == NULL) {
        setup();
    }
    if (!ddt_utf8_valid((const char *) data, size)) {
        return 0;
    }

    ddt_arena_init(&a, 0);
    memset(&o, 0, sizeof(o));
    o.session_id = "fuzz-session-0001";
    o.now_ms = 1795000000000LL;
    ddt_turn_result_init(&r);
    if (ddt_session_create(proj, &o, &s, &r, &err) != DDT_OK) {
        abort();
    }

    p = (const char *) data;
    end = p + size;
    while (p < end && turns++ < 64) {
        e = memchr(p, '\n', (size_t) (end - p));
        if (e == NULL) {
            e = end;
        }
        one_turn(s, &a, p, (size_t) (e - p), &r);
        p = e + 1;

        /* every committed state saves and loads back */
        if (!r.need_effect) {
            ddt_buf_init(&st);
            if (ddt_session_save(s, &st) != DDT_OK
                || ddt_session_load(st.data, st.len, &s2, &err) != DDT_OK)
            {
                abort();
            }
            ddt_session_free(s2);
            s2 = NULL;
            ddt_buf_free(&st);
        }
    }

    ddt_turn_result_free(&r);
    ddt_session_free(s);
    ddt_arena_free(&a);
    return 0;
}
