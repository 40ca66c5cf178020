/*
 * fuzz_turn.c: libFuzzer target for the orchestrator driven by untrusted
 * turn bodies.  The input is split at newlines into up to 12 bodies; each
 * goes through ddt_input_parse and, on a session of a fixed project that
 * uses every task type, through replay check, turn and effects, with a
 * save and load of the state between turns as a host does.  Bodies are
 * refused with an error value or run; a session that loads back must save
 * to the same bytes; nothing crashes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ddt/ddt.h>

static const char *project =
"{\"format\":\"ddt-project/1\",\"name\":\"fzt\",\"version\":\"1\","
" \"locale\":\"it-IT\",\"variables\":{\"brand\":\"ACME\",\"n\":0},"
" \"flow\":{\"start\":\"a\",\"nodes\":["
"  {\"id\":\"a\",\"tasks\":[{\"type\":\"SayMessage\",\"text\":\"Ciao {brand}.\"},"
"    {\"type\":\"GetData\",\"ddt\":\"c\"}]},"
"  {\"id\":\"b\",\"tasks\":["
"    {\"type\":\"BackendCall\",\"method\":\"POST\",\"url\":\"/b/{c.name}\","
"     \"body\":{\"d\":\"{c.d}\",\"t\":\"x {c.name}\"},\"assign\":{\"y\":\"/y\"}},"
"    {\"type\":\"SetVariable\",\"name\":\"n\",\"value\":\"n + 1\"},"
"    {\"type\":\"SendEmail\",\"to\":\"a@b.it\",\"subject\":\"{c.name}\",\"body\":\"{c.d}\"},"
"    {\"type\":\"SendSMS\",\"to\":\"123\",\"text\":\"{y}\"},"
"    {\"type\":\"Custom\",\"name\":\"k\",\"params\":{\"v\":\"{c.d}\"}},"
"    {\"type\":\"GetData\",\"ddt\":\"k\"}]},"
"  {\"id\":\"e\",\"tasks\":[{\"type\":\"EndCall\",\"text\":\"Fine {n}.\"}]},"
"  {\"id\":\"o\",\"tasks\":[{\"type\":\"TransferToOperator\",\"queue\":\"q\"}]}],"
" \"edges\":[{\"from\":\"a\",\"to\":\"o\",\"condition\":\"c.$status == \\\"exhausted\\\"\"},"
"  {\"from\":\"a\",\"to\":\"b\"},"
"  {\"from\":\"b\",\"to\":\"a\",\"condition\":\"k.ok == false && n < 3\"},"
"  {\"from\":\"b\",\"to\":\"e\",\"condition\":\"k.ok == true\"},"
"  {\"from\":\"b\",\"to\":\"o\"}]},"
" \"ddts\":{\"c\":{\"mixedInitiative\":true,\"data\":["
"  {\"id\":\"name\",\"kind\":\"text\",\"extract\":[{\"type\":\"regex\","
"   \"pattern\":\"sono (?<value>\\\\w+)\"},{\"type\":\"parser\"}],"
"   \"steps\":{\"start\":[\"Nome?\"]},\"limits\":{\"noMatch\":1,\"noInput\":1}},"
"  {\"id\":\"d\",\"kind\":\"date\",\"confirm\":\"always\","
"   \"validate\":[{\"condition\":\"value <= today()\",\"step\":\"invalid\"}],"
"   \"steps\":{\"start\":[\"Data?\"],\"confirmation\":[\"{c.d}?\"],"
"    \"invalid\":[\"No.\"]}}]},"
"  \"k\":{\"data\":[{\"id\":\"ok\",\"kind\":\"yesno\",\"steps\":{\"start\":[\"Ok?\"]}},"
"   {\"id\":\"when\",\"kind\":\"time\",\"required\":false}]}}}";

static ddt_project_t  *fz_p;
static uint8_t        *fz_block;

static void
fz_init(void)
{
    ddt_diags_t  d;
    size_t       len, i;
    char         err[256];

    ddt_diags_init(&d);
    if (ddt_compile(project, strlen(project), &d, &fz_block, &len)
        != DDT_OK)
    {
        for (i = 0; i < d.n; i++) {
            fprintf(stderr, "%s: %s\n", d.items[i].path, d.items[i].message);
        }
        abort();
    }
    if (ddt_project_load(fz_block, len, &fz_p, err, sizeof(err)) != DDT_OK) {
        abort();
    }
    ddt_diags_free(&d);
}

static void
fz_effects(ddt_session_t *s, ddt_turn_result_t *r, unsigned salt)
{
    ddt_effect_result_t  er;
    ddt_err_t            err;
    int                  guard;

    for (guard = 0; r->need_effect && guard < 64; guard++) {
        memset(&er, 0, sizeof(er));
        if (salt & 1) {
            er.status = 200;
            er.body = "{\"y\":\"ok\"}";
            er.body_len = 10;
        } else {
            er.status = 0;
            er.error = "timeout";
        }
        if (ddt_turn_resume(fz_p, s, &er, r, &err) != DDT_OK) {
            if (err.code == NULL) {
                abort();
            }
            return;
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ddt_session_opts_t   o;
    ddt_session_t       *s, *s2;
    ddt_turn_result_t    r;
    ddt_err_t            err;
    ddt_input_t          in;
    ddt_arena_t          a;
    ddt_buf_t            st, st2;
    const char          *p, *end, *nl;
    int                  turns, rc;

    if (fz_p == NULL) {
        fz_init();
    }

    memset(&o, 0, sizeof(o));
    o.session_id = "fuzz-turn-000001";
    o.now_ms = 1795000000000LL;
    ddt_turn_result_init(&r);
    if (ddt_session_create(fz_p, &o, &s, &r, &err) != DDT_OK) {
        abort();
    }
    fz_effects(s, &r, 1);

    ddt_arena_init(&a, 0);
    ddt_buf_init(&st);
    ddt_buf_init(&st2);

    p = (const char *) data;
    end = p + size;
    for (turns = 0; p < end && turns < 12; turns++) {
        nl = memchr(p, '\n', (size_t) (end - p));
        if (nl == NULL) {
            nl = end;
        }

        if (ddt_input_parse(&a, p, (size_t) (nl - p), &in, &err) == DDT_OK) {
            /* as a host: save, load, replay check, turn */
            ddt_buf_reset(&st);
            if (ddt_session_save(s, &st) != DDT_OK) {
                abort();
            }
            if (ddt_session_load(st.data, st.len, &s2, &err) != DDT_OK) {
                abort();
            }
            ddt_buf_reset(&st2);
            if (ddt_session_save(s2, &st2) != DDT_OK || st.len != st2.len
                || memcmp(st.data, st2.data, st.len) != 0)
            {
                abort();
            }
            ddt_session_free(s);
            s = s2;

            ddt_buf_reset(&r.response);
            rc = ddt_session_replay(s, &in, &r.response, &err);
            if (rc == 0) {
                if (ddt_turn(fz_p, s, &in, o.now_ms + turns * 1000, &r, &err)
                    == DDT_OK)
                {
                    fz_effects(s, &r, (unsigned) turns);
                } else if (err.code == NULL) {
                    abort();
                }
            }
        } else if (err.code == NULL) {
            abort();
        }

        p = nl + 1;
    }

    ddt_buf_reset(&st);
    ddt_session_describe(s, &st);

    ddt_buf_free(&st);
    ddt_buf_free(&st2);
    ddt_arena_free(&a);
    ddt_turn_result_free(&r);
    ddt_session_free(s);
    return 0;
}
