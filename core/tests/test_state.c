/*
 * test_state.c: the session state codec (SPEC 8): what a store keeps must
 * read back to the same session byte for byte; states of another format
 * version, truncated or corrupt ones are refused with an error value and
 * never crash; replay ring and GET description survive a round trip.
 */
#include <stdlib.h>
#include <ddt/ddt.h>
#include "t.h"

/* A session as a store would hold it: waiting in a GetData, a nested
 * memory, an engine part and one remembered turn. */
static const char *state_ok =
    "{\"format\":\"ddt-session/1\",\"sessionId\":\"abcDEF12-_x\","
    "\"project\":\"intake\",\"projectVersion\":\"2026-11-24.1\","
    "\"checksum\":\"0123456789abcdef\",\"locale\":\"it-IT\","
    "\"status\":\"waiting\",\"version\":3,\"createdMs\":1795000000000,"
    "\"updatedMs\":1795000060000,"
    "\"pc\":{\"node\":0,\"task\":1,\"wait\":\"input\"},"
    "\"memory\":{\"brand\":\"ACME\",\"customer\":{\"name\":\"Mario Rossi\","
    "\"birthDate\":{\"day\":12,\"month\":3,\"year\":1980},"
    "\"$meta\":{\"name\":{\"confidence\":1,\"layer\":\"regex\","
    "\"state\":\"filled\"}}},\"ratio\":0.1,\"big\":1e+300,"
    "\"s\":\"\\u0001 \\\"q\\\" \\\\ \xc3\xa8\"},"
    "\"expecting\":{\"ddt\":\"customer\",\"data\":\"birthDate\","
    "\"sub\":null,\"step\":\"confirmation\",\"kind\":\"yesno\","
    "\"escalation\":1},"
    "\"error\":null,"
    "\"engine\":{\"ddt\":0,\"items\":[[2,0,0,0,0,1,0,0,0,0,0,0]]},"
    "\"turns\":[{\"turnId\":\"t-1\",\"input\":{\"text\":\"Mario Rossi\"},"
    "\"response\":{\"sessionId\":\"abcDEF12-_x\",\"version\":2,"
    "\"status\":\"waiting\",\"messages\":[{\"text\":\"Qual \xc3\xa8 la sua "
    "data di nascita?\",\"ddt\":\"customer\",\"data\":\"birthDate\","
    "\"sub\":null,\"step\":\"start\",\"escalation\":1}],\"actions\":[],"
    "\"expecting\":null}}]}";

static ddt_session_t *
load(const char *s, size_t len, ddt_err_t *err)
{
    ddt_session_t  *out = NULL;

    memset(err, 0, sizeof(*err));
    if (ddt_session_load(s, len, &out, err) != DDT_OK) {
        CHECK(out == NULL);
        return NULL;
    }
    return out;
}

/* load then save: the bytes stay the same */
static void
test_round_trip(void)
{
    ddt_err_t       err;
    ddt_session_t  *s, *s2;
    ddt_buf_t       b, b2;

    s = load(state_ok, strlen(state_ok), &err);
    CHECK_MSG(s != NULL, "%s", err.message);
    if (s == NULL) {
        return;
    }

    CHECK_STR(ddt_session_id(s), "abcDEF12-_x");
    CHECK_STR(ddt_session_project(s), "intake");
    CHECK_STR(ddt_session_checksum(s), "0123456789abcdef");
    CHECK_INT(ddt_session_version(s), 3);
    CHECK_INT(ddt_session_status(s), DDT_STATUS_WAITING);
    CHECK_INT(ddt_session_updated_ms(s), 1795000060000LL);

    ddt_buf_init(&b);
    CHECK_INT(ddt_session_save(s, &b), DDT_OK);
    CHECK_STR(b.data, state_ok);

    /* and again, from what was saved */
    s2 = load(b.data, b.len, &err);
    CHECK(s2 != NULL);
    if (s2 != NULL) {
        ddt_buf_init(&b2);
        CHECK_INT(ddt_session_save(s2, &b2), DDT_OK);
        CHECK_STR(b2.data, b.data);
        ddt_buf_free(&b2);
        ddt_session_free(s2);
    }

    ddt_buf_free(&b);
    ddt_session_free(s);
}

/* GET /v1/sessions/{id}: nested memory, expecting while waiting */
static void
test_describe(void)
{
    ddt_err_t       err;
    ddt_session_t  *s;
    ddt_buf_t       b;
    ddt_arena_t     a;
    ddt_json_t     *j, *v;
    ddt_jerr_t      jerr;

    s = load(state_ok, strlen(state_ok), &err);
    CHECK(s != NULL);
    if (s == NULL) {
        return;
    }

    ddt_buf_init(&b);
    CHECK_INT(ddt_session_describe(s, &b), DDT_OK);
    ddt_arena_init(&a, 4096);
    j = ddt_json_parse(&a, b.data, b.len, NULL, &jerr);
    CHECK(j != NULL);
    if (j != NULL) {
        v = ddt_json_getz(j, "sessionId");
        CHECK(v && v->type == DDT_J_STR && !strcmp(v->u.str.s, "abcDEF12-_x"));
        v = ddt_json_getz(j, "projectVersion");
        CHECK(v && v->type == DDT_J_STR
              && !strcmp(v->u.str.s, "2026-11-24.1"));
        v = ddt_json_getz(j, "status");
        CHECK(v && v->type == DDT_J_STR && !strcmp(v->u.str.s, "waiting"));
        v = ddt_json_getz(j, "version");
        CHECK(v && v->type == DDT_J_NUM && v->u.n == 3);
        v = ddt_json_getz(ddt_json_getz(ddt_json_getz(ddt_json_getz(j,
                "memory"), "customer"), "birthDate"), "year");
        CHECK(v && v->type == DDT_J_NUM && v->u.n == 1980);
        v = ddt_json_getz(ddt_json_getz(j, "expecting"), "step");
        CHECK(v && v->type == DDT_J_STR
              && !strcmp(v->u.str.s, "confirmation"));
        /* the engine and the replay ring are not part of GET */
        CHECK(ddt_json_getz(j, "engine") == NULL);
        CHECK(ddt_json_getz(j, "turns") == NULL);
    }
    ddt_arena_free(&a);
    ddt_buf_free(&b);
    ddt_session_free(s);
}

/* the replay ring survives the store: same turnId -> same response */
static void
test_replay_after_load(void)
{
    ddt_err_t       err;
    ddt_session_t  *s;
    ddt_arena_t     a;
    ddt_input_t     in;
    ddt_buf_t       b;
    const char     *want;

    s = load(state_ok, strlen(state_ok), &err);
    CHECK(s != NULL);
    if (s == NULL) {
        return;
    }
    ddt_arena_init(&a, 4096);
    ddt_buf_init(&b);

    const char *same = "{\"turnId\":\"t-1\",\"text\":\"Mario Rossi\"}";
    CHECK_INT(ddt_input_parse(&a, same, strlen(same), &in, &err), DDT_OK);
    CHECK_INT(ddt_session_replay(s, &in, &b, &err), 1);
    want = strstr(state_ok, "\"response\":") + strlen("\"response\":");
    CHECK(b.data != NULL && strncmp(b.data, want, b.len) == 0);
    CHECK_INT(ddt_session_version(s), 3);

    const char *other = "{\"text\":\"Luigi\",\"turnId\":\"t-1\"}";
    CHECK_INT(ddt_input_parse(&a, other, strlen(other), &in, &err), DDT_OK);
    ddt_buf_reset(&b);
    CHECK_INT(ddt_session_replay(s, &in, &b, &err), -1);
    CHECK_STR(err.code, "turn_id_reused");
    CHECK_INT(err.http, 422);

    const char *fresh = "{\"text\":\"Luigi\",\"turnId\":\"t-2\"}";
    CHECK_INT(ddt_input_parse(&a, fresh, strlen(fresh), &in, &err), DDT_OK);
    CHECK_INT(ddt_session_replay(s, &in, &b, &err), 0);

    ddt_buf_free(&b);
    ddt_arena_free(&a);
    ddt_session_free(s);
}

static void
expect_refused(const char *what, const char *text)
{
    ddt_err_t       err;
    ddt_session_t  *s;

    s = load(text, strlen(text), &err);
    CHECK_MSG(s == NULL, "%s was accepted", what);
    if (s != NULL) {
        ddt_session_free(s);
        return;
    }
    CHECK_MSG(err.code != NULL && err.message[0] != '\0', "%s: no error",
              what);
}

/* replace the first `from` in state_ok by `to` */
static char *
edit(const char *from, const char *to)
{
    const char  *at;
    char        *out;
    size_t       n;

    at = strstr(state_ok, from);
    if (at == NULL) {
        return NULL;
    }
    n = strlen(state_ok) - strlen(from) + strlen(to) + 1;
    out = malloc(n);
    snprintf(out, n, "%.*s%s%s", (int) (at - state_ok), state_ok, to,
             at + strlen(from));
    return out;
}

static void
test_refused(void)
{
    size_t       i;
    char        *e;
    ddt_err_t    err;
    ddt_session_t *s;

    static const char *edits[][2] = {
        { "ddt-session/1", "ddt-session/2" },      /* unknown version */
        { "\"format\":\"ddt-session/1\",", "" },  /* no version */
        { "\"version\":3", "\"version\":-3" },
        { "\"version\":3", "\"version\":3.5" },
        { "\"version\":3", "\"version\":\"3\"" },
        { "\"status\":\"waiting\"", "\"status\":\"sleeping\"" },
        { "\"locale\":\"it-IT\"", "\"locale\":\"fr-FR\"" },
        { "\"wait\":\"input\"", "\"wait\":\"later\"" },
        { "\"wait\":\"input\"", "\"wait\":\"none\"" }, /* waiting on nothing */
        { "\"task\":1", "\"task\":-1" },
        { "\"node\":0", "\"node\":\"welcome\"" },
        { "\"memory\":{", "\"memory\":[{" },
        { "\"error\":null,", "" },
        { "\"error\":null", "\"error\":null,\"x\":1" },
        { "\"turns\":[", "\"turns\":{\"a\":[" },
        { "\"turnId\":\"t-1\"", "\"turnId\":7" },
        { "\"sessionId\":\"abcDEF12-_x\"", "\"sessionId\":\"\"" },
        { "\"engine\":{", "\"engine\":[{" },
    };

    for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        e = edit(edits[i][0], edits[i][1]);
        CHECK_MSG(e != NULL, "edit %zu does not apply", i);
        if (e != NULL) {
            expect_refused(edits[i][1], e);
            free(e);
        }
    }

    s = load("ddt-session/1", 13, &err);
    CHECK(s == NULL);
    CHECK_STR(err.code, "bad_state");

    expect_refused("empty", "");
    expect_refused("null", "null");
    expect_refused("array", "[]");
    expect_refused("object", "{}");
    expect_refused("format only", "{\"format\":\"ddt-session/1\"}");

    /* 17 remembered turns: more than the ring holds */
    {
        ddt_buf_t b;
        ddt_buf_init(&b);
        ddt_buf_adds(&b, "\"turns\":[");
        for (i = 0; i < 17; i++) {
            ddt_buf_printf(&b, "%s{\"turnId\":\"t%zu\",\"input\":{},"
                           "\"response\":{}}", i ? "," : "", i);
        }
        ddt_buf_adds(&b, "]}");
        e = malloc(strlen(state_ok) + b.len + 1);
        const char *t = strstr(state_ok, "\"turns\":[");
        sprintf(e, "%.*s%s", (int) (t - state_ok), state_ok, b.data);
        expect_refused("17 turns", e);
        free(e);
        ddt_buf_free(&b);
    }
}

/* every prefix of a valid state is refused; no crash on any of them */
static void
test_truncated(void)
{
    size_t          n, len;
    ddt_err_t       err;
    ddt_session_t  *s;
    int             accepted = 0;

    len = strlen(state_ok);
    for (n = 0; n < len; n++) {
        char *cut = malloc(n + 1);
        memcpy(cut, state_ok, n);
        cut[n] = '\0';
        s = load(cut, n, &err);
        if (s != NULL) {
            accepted++;
            ddt_session_free(s);
        }
        free(cut);
    }
    CHECK_INT(accepted, 0);
}

/* flip bytes: refused, or accepted and then stable under save/load */
static void
test_flipped(void)
{
    size_t          i, len;
    ddt_err_t       err;
    ddt_session_t  *s, *s2;
    ddt_buf_t       b, b2;
    int             unstable = 0;
    static const char flips[] = { '0', '}', '"', '\\', '\x80', 'x', ',' };
    size_t          f;

    len = strlen(state_ok);
    ddt_buf_init(&b);
    ddt_buf_init(&b2);

    for (i = 0; i < len; i++) {
        for (f = 0; f < sizeof(flips); f++) {
            char *c = malloc(len + 1);
            memcpy(c, state_ok, len + 1);
            c[i] = flips[f];
            s = load(c, len, &err);
            if (s != NULL) {
                ddt_buf_reset(&b);
                ddt_session_save(s, &b);
                s2 = load(b.data, b.len, &err);
                if (s2 == NULL) {
                    unstable++;
                } else {
                    ddt_buf_reset(&b2);
                    ddt_session_save(s2, &b2);
                    if (b.len != b2.len || memcmp(b.data, b2.data, b.len)) {
                        unstable++;
                    }
                    ddt_session_free(s2);
                }
                ddt_session_free(s);
            }
            free(c);
        }
    }
    CHECK_INT(unstable, 0);
    ddt_buf_free(&b);
    ddt_buf_free(&b2);
}

/* a closed session's state keeps its error and answers 410 to turns */
static void
test_closed_state(void)
{
    char           *e1, *e2;
    ddt_err_t       err;
    ddt_session_t  *s;
    ddt_buf_t       b;

    e1 = edit("\"status\":\"waiting\"", "\"status\":\"error\"");
    e2 = NULL;
    if (e1 != NULL) {
        char *at = strstr(e1, "\"error\":null");
        if (at != NULL) {
            size_t n = strlen(e1) + 64;
            e2 = malloc(n);
            snprintf(e2, n, "%.*s\"error\":{\"code\":\"loop_guard\","
                     "\"message\":\"m\"}%s", (int) (at - e1), e1,
                     at + strlen("\"error\":null"));
        }
    }
    CHECK(e2 != NULL);
    if (e2 != NULL) {
        s = load(e2, strlen(e2), &err);
        CHECK(s != NULL);
        if (s != NULL) {
            CHECK_INT(ddt_session_status(s), DDT_STATUS_ERROR);
            ddt_buf_init(&b);
            ddt_session_save(s, &b);
            CHECK_STR(b.data, e2);
            ddt_buf_reset(&b);
            ddt_session_describe(s, &b);
            CHECK(strstr(b.data, "\"expecting\":null") != NULL);
            CHECK(strstr(b.data, "loop_guard") != NULL);
            ddt_buf_free(&b);
            ddt_session_free(s);
        }
    }
    free(e1);
    free(e2);
}


/*
 * SPEC 9.4: the last 16 turnIds replay their responses, across a store:
 * each turn here is a load of what the previous one saved, as in the
 * module.  After 20 turns the first 4 are forgotten, the other 16 answer
 * with the very response they gave; every saved state reads back to the
 * same bytes; a ring stored with spaces (not written by save) still
 * replays after another turn.
 */
static const char *ring_project =
    "{\"format\":\"ddt-project/1\",\"name\":\"ring\",\"version\":\"1\","
    "\"locale\":\"en-US\",\"variables\":{\"brand\":\"ACME\"},"
    "\"flow\":{\"start\":\"ask\",\"nodes\":["
    "{\"id\":\"ask\",\"tasks\":[{\"type\":\"GetData\",\"ddt\":\"b\"}]},"
    "{\"id\":\"say\",\"tasks\":[{\"type\":\"SayMessage\","
    "\"text\":\"{brand} heard: {b.what}.\"},{\"type\":\"SetVariable\","
    "\"name\":\"b.what\",\"value\":null}]}],"
    "\"edges\":[{\"from\":\"ask\",\"to\":\"say\"},"
    "{\"from\":\"say\",\"to\":\"ask\"}]},"
    "\"ddts\":{\"b\":{\"data\":[{\"id\":\"what\",\"kind\":\"text\","
    "\"steps\":{\"start\":[\"Tell me something.\"]}}]}}}";

static int
ring_turn(const ddt_project_t *p, ddt_buf_t *st, const char *body,
    ddt_buf_t *resp)
{
    ddt_arena_t         a;
    ddt_input_t         in;
    ddt_err_t           err;
    ddt_session_t      *s;
    ddt_turn_result_t   r;
    int                 rc = DDT_ERROR;

    ddt_arena_init(&a, 0);
    ddt_turn_result_init(&r);
    if (ddt_input_parse(&a, body, strlen(body), &in, &err) == DDT_OK
        && ddt_session_load(st->data, st->len, &s, &err) == DDT_OK)
    {
        if (ddt_session_replay(s, &in, resp, &err) == 0
            && ddt_turn(p, s, &in, 1795000000000LL, &r, &err) == DDT_OK)
        {
            ddt_buf_reset(resp);
            ddt_buf_add(resp, r.response.data, r.response.len);
            ddt_buf_reset(st);
            rc = ddt_session_save(s, st);
        }
        ddt_session_free(s);
    }
    ddt_turn_result_free(&r);
    ddt_arena_free(&a);
    return rc;
}

static void
test_ring_through_store(void)
{
    ddt_diags_t          d;
    uint8_t             *block;
    size_t               blen, i;
    ddt_project_t       *p;
    char                 err[256], body[128], *spaced, *q;
    const char          *c, *ring;
    int                  in_str;
    ddt_session_opts_t   o;
    ddt_session_t       *s;
    ddt_turn_result_t    r;
    ddt_err_t            e;
    ddt_buf_t            st, resp, b, last, sent[20];
    ddt_arena_t          a;
    ddt_input_t          in;

    ddt_diags_init(&d);
    CHECK_INT(ddt_compile(ring_project, strlen(ring_project), &d, &block,
                          &blen), DDT_OK);
    ddt_diags_free(&d);
    CHECK_INT(ddt_project_load(block, blen, &p, err, sizeof(err)), DDT_OK);

    memset(&o, 0, sizeof(o));
    o.session_id = "ring-session-01";
    o.now_ms = 1795000000000LL;
    ddt_turn_result_init(&r);
    ddt_buf_init(&st);
    ddt_buf_init(&resp);
    ddt_buf_init(&b);
    CHECK_INT(ddt_session_create(p, &o, &s, &r, &e), DDT_OK);
    ddt_session_save(s, &st);
    ddt_session_free(s);

    for (i = 0; i < 20; i++) {
        snprintf(body, sizeof(body),
                 "{\"text\":\"hello %zu\",\"turnId\":\"turn-%zu\"}", i, i);
        ddt_buf_init(&sent[i]);
        CHECK_INT(ring_turn(p, &st, body, &sent[i]), DDT_OK);
        CHECK(strstr(sent[i].data, "heard: hello") != NULL);

        /* what was saved reads back to the same bytes */
        CHECK_INT(ddt_session_load(st.data, st.len, &s, &e), DDT_OK);
        ddt_buf_reset(&b);
        ddt_session_save(s, &b);
        CHECK(b.len == st.len && memcmp(b.data, st.data, b.len) == 0);
        ddt_session_free(s);
    }

    CHECK_INT(ddt_session_load(st.data, st.len, &s, &e), DDT_OK);
    ddt_arena_init(&a, 0);
    for (i = 0; i < 20; i++) {
        snprintf(body, sizeof(body),
                 "{\"text\":\"hello %zu\",\"turnId\":\"turn-%zu\"}", i, i);
        CHECK_INT(ddt_input_parse(&a, body, strlen(body), &in, &e), DDT_OK);
        ddt_buf_reset(&b);
        CHECK_INT(ddt_session_replay(s, &in, &b, &e), i < 4 ? 0 : 1);
        if (i >= 4) {
            CHECK_STR(b.data, sent[i].data);
        }
    }
    ddt_session_free(s);

    /* the same state with spaces around the ring's entries and members */
    spaced = malloc(st.len * 3 + 1);
    in_str = 0;
    ring = strstr(st.data, "\"turns\"");
    for (c = st.data, q = spaced; *c; c++) {
        if (in_str) {
            if (*c == '\\') {
                *q++ = *c++;
            } else if (*c == '"') {
                in_str = 0;
            }
        } else if (*c == '"') {
            in_str = 1;
        } else if ((*c == ',' || *c == ':') && c > ring) {
            *q++ = ' ';
            *q++ = *c;
            *q++ = '\n';
            continue;
        }
        *q++ = *c;
    }
    *q = '\0';
    ddt_buf_reset(&st);
    ddt_buf_adds(&st, spaced);
    free(spaced);
    ddt_buf_init(&last);
    CHECK_INT(ring_turn(p, &st, "{\"text\":\"x\",\"turnId\":\"turn-20\"}",
                        &last), DDT_OK);
    ddt_buf_free(&last);
    CHECK_INT(ddt_session_load(st.data, st.len, &s, &e), DDT_OK);
    snprintf(body, sizeof(body),
             "{\"text\":\"hello 19\",\"turnId\":\"turn-19\"}");
    CHECK_INT(ddt_input_parse(&a, body, strlen(body), &in, &e), DDT_OK);
    ddt_buf_reset(&b);
    CHECK_INT(ddt_session_replay(s, &in, &b, &e), 1);
    CHECK_STR(b.data, sent[19].data);
    snprintf(body, sizeof(body),
             "{\"text\":\"hello 4\",\"turnId\":\"turn-4\"}");
    CHECK_INT(ddt_input_parse(&a, body, strlen(body), &in, &e), DDT_OK);
    CHECK_INT(ddt_session_replay(s, &in, &b, &e), 0);
    ddt_session_free(s);

    for (i = 0; i < 20; i++) {
        ddt_buf_free(&sent[i]);
    }
    ddt_arena_free(&a);
    ddt_buf_free(&b);
    ddt_buf_free(&resp);
    ddt_buf_free(&st);
    ddt_turn_result_free(&r);
    ddt_project_free(p);
    free(block);
}

int
main(void)
{
    test_round_trip();
    test_describe();
    test_replay_after_load();
    test_refused();
    test_truncated();
    test_flipped();
    test_closed_state();
    test_ring_through_store();
    return T_DONE();
}
