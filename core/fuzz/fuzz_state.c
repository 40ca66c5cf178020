/*
 * fuzz_state.c: libFuzzer target for the session state codec.  Any bytes
 * either load or are refused with an error value.  A state that loads
 * saves, loads again and saves to the same bytes, and its GET description
 * is written without fault.  Then the state is resumed against a fixed
 * project (its pin rewritten to that load) and a turn runs: a state that
 * does not fit the project must end in a clean error, never a crash.
 */
#include <stdlib.h>
#include <string.h>

#include <ddt/ddt.h>
#include "session.h"

static const char *project =
"{\"format\":\"ddt-project/1\",\"name\":\"fz\",\"version\":\"1\","
" \"locale\":\"it-IT\",\"variables\":{\"x\":1},"
" \"flow\":{\"start\":\"a\",\"nodes\":["
"  {\"id\":\"a\",\"tasks\":[{\"type\":\"SayMessage\",\"text\":\"Ciao {x}.\"},"
"    {\"type\":\"GetData\",\"ddt\":\"c\"}]},"
"  {\"id\":\"b\",\"tasks\":[{\"type\":\"BackendCall\",\"url\":\"/b\","
"    \"assign\":{\"y\":\"/y\"}},{\"type\":\"SetVariable\",\"name\":\"x\","
"    \"value\":\"x + 1\"},{\"type\":\"GetData\",\"ddt\":\"k\"}]}],"
" \"edges\":[{\"from\":\"a\",\"to\":\"b\"}]},"
" \"ddts\":{\"c\":{\"mixedInitiative\":true,\"data\":["
"  {\"id\":\"name\",\"kind\":\"text\",\"steps\":{\"start\":[\"Nome?\"]}},"
"  {\"id\":\"d\",\"kind\":\"date\",\"confirm\":\"always\","
"   \"steps\":{\"start\":[\"Data?\"],\"confirmation\":[\"{c.d}?\"]}}]},"
"  \"k\":{\"data\":[{\"id\":\"ok\",\"kind\":\"yesno\","
"   \"steps\":{\"start\":[\"Va bene?\"]}}]}}}";

static ddt_project_t  *fz_p;
static uint8_t        *fz_block;

static void
fz_init(void)
{
    ddt_diags_t  d;
    size_t       len;
    char         err[256];

    ddt_diags_init(&d);
    if (ddt_compile(project, strlen(project), &d, &fz_block, &len) != DDT_OK
        || ddt_project_load(fz_block, len, &fz_p, err, sizeof(err)) != DDT_OK)
    {
        abort();
    }
    ddt_diags_free(&d);
}

static void
fz_turn(ddt_session_t *s)
{
    static const char  *bodies[] = {
        "{\"text\":\"Mario, 12 marzo 1980\"}", "{\"text\":\"sì\"}",
        "{\"event\":\"noInput\"}", "{\"values\":{\"d\":\"1980-03-12\"}}"
    };
    ddt_arena_t          a;
    ddt_input_t          in;
    ddt_err_t            err;
    ddt_turn_result_t    r;
    ddt_effect_result_t  er;
    ddt_buf_t            b;
    size_t               i;
    int                  guard;

    s->checksum = fz_p->checksum_hex;
    ddt_arena_init(&a, 0);
    ddt_turn_result_init(&r);
    ddt_buf_init(&b);

    /* a state saved while an effect was out: resuming must fail cleanly */
    memset(&er, 0, sizeof(er));
    if (ddt_turn_resume(fz_p, s, &er, &r, &err) != DDT_OK
        && err.code == NULL)
    {
        abort();
    }

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        if (ddt_input_parse(&a, bodies[i], strlen(bodies[i]), &in, &err)
            != DDT_OK)
        {
            abort();
        }
        if (ddt_turn(fz_p, s, &in, 1795000000000LL, &r, &err) != DDT_OK) {
            if (err.code == NULL) {
                abort();
            }
            continue;
        }
        for (guard = 0; r.need_effect && guard < 100; guard++) {
            memset(&er, 0, sizeof(er));
            er.status = 200;
            er.body = "{\"y\":2}";
            er.body_len = 7;
            if (ddt_turn_resume(fz_p, s, &er, &r, &err) != DDT_OK) {
                break;
            }
        }
        ddt_buf_reset(&b);
        ddt_session_save(s, &b);
    }

    ddt_buf_free(&b);
    ddt_turn_result_free(&r);
    ddt_arena_free(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ddt_session_t  *s, *s2;
    ddt_err_t       err;
    ddt_buf_t       b, b2;

    if (fz_p == NULL) {
        fz_init();
    }

    s = NULL;
    if (ddt_session_load((const char *) data, size, &s, &err) != DDT_OK) {
        if (s != NULL || err.code == NULL) {
            abort();
        }
        return 0;
    }

    ddt_buf_init(&b);
    ddt_buf_init(&b2);
    if (ddt_session_save(s, &b) != DDT_OK) {
        abort();
    }
    if (ddt_session_load(b.data, b.len, &s2, &err) != DDT_OK) {
        abort();
    }
    if (ddt_session_save(s2, &b2) != DDT_OK
        || b.len != b2.len || memcmp(b.data, b2.data, b.len) != 0)
    {
        abort();
    }
    ddt_buf_reset(&b);
    if (ddt_session_describe(s2, &b) != DDT_OK) {
        abort();
    }

    fz_turn(s2);

    ddt_buf_free(&b);
    ddt_buf_free(&b2);
    ddt_session_free(s2);
    ddt_session_free(s);
    return 0;
}
