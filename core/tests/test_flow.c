/*
 * test_flow.c: the flow orchestrator through the public API (SPEC 2, 6,
 * 9.4, 9.5, 9.7): transcripts of small projects asserting messages, status,
 * actions, expecting and memory; every task type, edges in file order, the
 * loop guard, the end of the flow, BackendCall effects and onError, turnId
 * replay and reuse, closed sessions, input shapes and session options.
 */
#include <stdlib.h>
#include <ddt/ddt.h>
#include "t.h"

#define NOW  1795000000000LL          /* 2026-11-18, pinned */

static ddt_arena_t  A;                /* parsed responses, reset per test */

typedef struct {
    uint8_t        *block;
    size_t          len;
    ddt_project_t  *p;
} proj_t;

static int
compile(proj_t *pj, const char *src)
{
    ddt_diags_t  d;
    char         err[256];
    size_t       i;

    memset(pj, 0, sizeof(*pj));
    ddt_diags_init(&d);
    if (ddt_compile(src, strlen(src), &d, &pj->block, &pj->len) != DDT_OK) {
        for (i = 0; i < d.n; i++) {
            fprintf(stderr, "  %s: %s\n", d.items[i].path, d.items[i].message);
        }
        ddt_diags_free(&d);
        CHECK_MSG(0, "test project does not compile");
        return -1;
    }
    ddt_diags_free(&d);
    if (ddt_project_load(pj->block, pj->len, &pj->p, err, sizeof(err))
        != DDT_OK)
    {
        CHECK_MSG(0, "load: %s", err);
        free(pj->block);
        return -1;
    }
    return 0;
}

static void
proj_free(proj_t *pj)
{
    ddt_project_free(pj->p);
    free(pj->block);
}

/* "a.b.0.c" into a parsed response */
static const ddt_json_t *
jp(const ddt_json_t *j, const char *path)
{
    char         seg[128];
    const char  *s = path, *e;
    size_t       n;

    while (j != NULL && *s) {
        e = strchr(s, '.');
        n = e ? (size_t) (e - s) : strlen(s);
        if (n >= sizeof(seg)) {
            return NULL;
        }
        memcpy(seg, s, n);
        seg[n] = '\0';
        if (j->type == DDT_J_ARR) {
            size_t i = (size_t) atoi(seg);
            j = i < j->u.arr.len ? j->u.arr.items[i] : NULL;
        } else {
            j = ddt_json_getz(j, seg);
        }
        s += n + (e ? 1 : 0);
    }
    return j;
}

static const char *
js(const ddt_json_t *j, const char *path)
{
    j = jp(j, path);
    return j && j->type == DDT_J_STR ? j->u.str.s : NULL;
}

static double
jn(const ddt_json_t *j, const char *path)
{
    j = jp(j, path);
    return j && j->type == DDT_J_NUM ? j->u.n : -12345;
}

static size_t
jlen(const ddt_json_t *j, const char *path)
{
    j = jp(j, path);
    if (j == NULL) {
        return 9999;
    }
    return j->type == DDT_J_ARR ? j->u.arr.len
         : j->type == DDT_J_OBJ ? j->u.obj.len : 9999;
}

static int
jnull(const ddt_json_t *j, const char *path)
{
    j = jp(j, path);
    return j != NULL && j->type == DDT_J_NULL;
}

static ddt_json_t *
parse_resp(const ddt_turn_result_t *r)
{
    ddt_jerr_t   e;
    ddt_json_t  *j;

    j = ddt_json_parse(&A, r->response.data ? r->response.data : "",
                       r->response.len, NULL, &e);
    CHECK_MSG(j != NULL, "response is not JSON: %s", r->response.data);
    return j;
}

/* GET body of the session, parsed */
static ddt_json_t *
get(ddt_session_t *s)
{
    ddt_buf_t    b;
    ddt_jerr_t   e;
    ddt_json_t  *j;

    ddt_buf_init(&b);
    ddt_session_describe(s, &b);
    j = ddt_json_parse(&A, b.data, b.len, NULL, &e);
    CHECK(j != NULL);
    ddt_buf_free(&b);
    return j;
}

static ddt_session_t *
create(proj_t *pj, const char *vars, const char *locale, ddt_turn_result_t *r)
{
    ddt_session_opts_t  o;
    ddt_session_t      *s = NULL;
    ddt_err_t           err;
    ddt_jerr_t          je;

    memset(&o, 0, sizeof(o));
    o.session_id = "test-session-0001";
    o.locale = locale;
    o.now_ms = NOW;
    if (vars != NULL) {
        o.variables = ddt_json_parse(&A, vars, strlen(vars), NULL, &je);
    }
    ddt_turn_result_init(r);
    if (ddt_session_create(pj->p, &o, &s, r, &err) != DDT_OK) {
        CHECK_MSG(0, "create: %s %s", err.code, err.message);
        return NULL;
    }
    return s;
}

/* One turn from a request body; returns the http-ish outcome (200 or the
 * error's status) and the error in *err. */
static int
turn(proj_t *pj, ddt_session_t *s, const char *body, ddt_turn_result_t *r,
    ddt_err_t *err)
{
    ddt_input_t  in;
    int          rc;

    memset(err, 0, sizeof(*err));
    if (ddt_input_parse(&A, body, strlen(body), &in, err) != DDT_OK) {
        return err->http;
    }
    ddt_buf_reset(&r->response);
    rc = ddt_session_replay(s, &in, &r->response, err);
    if (rc < 0) {
        return err->http;
    }
    if (rc == 1) {
        r->need_effect = 0;
        return 200;
    }
    if (ddt_turn(pj->p, s, &in, NOW + 1000, r, err) != DDT_OK) {
        return err->http;
    }
    return 200;
}

/* ---- projects -------------------------------------------------------- */

static const char *P_MAIN =
"{\"format\":\"ddt-project/1\",\"name\":\"flowtest\",\"version\":\"t1\","
" \"locale\":\"it-IT\",\"variables\":{\"brand\":\"ACME\",\"tier\":null},"
" \"flow\":{\"start\":\"welcome\",\"nodes\":["
"  {\"id\":\"welcome\",\"tasks\":["
"    {\"type\":\"SayMessage\",\"text\":\"Benvenuto in {brand}.\"},"
"    {\"type\":\"SetVariable\",\"name\":\"tier\",\"value\":\"\\\"gold\\\"\"},"
"    {\"type\":\"GetData\",\"ddt\":\"ask\"}]},"
"  {\"id\":\"lookup\",\"tasks\":["
"    {\"type\":\"BackendCall\",\"method\":\"POST\",\"url\":\"/backend/customer\","
"     \"headers\":{\"X-Tier\":\"{tier}\"},"
"     \"body\":{\"age\":\"{ask.age}\",\"note\":\"age {ask.age}\"},"
"     \"assign\":{\"customer.plan\":\"/plan\",\"customer.first\":\"/items/0\","
"                 \"customer.missing\":\"/nope\"},"
"     \"timeoutMs\":500,\"onError\":\"continue\"},"
"    {\"type\":\"SendEmail\",\"to\":\"ops@example.com\",\"subject\":\"Nuovo {tier}\","
"     \"body\":\"Eta {ask.age}\"},"
"    {\"type\":\"SendSMS\",\"to\":\"+39333\",\"text\":\"Ciao {brand}\"},"
"    {\"type\":\"Custom\",\"name\":\"crm\",\"params\":{\"age\":\"{ask.age}\",\"fixed\":[1,2]}},"
"    {\"type\":\"SayMessage\",\"text\":\"Piano {customer.plan}, stato {$backend.status}.\"}]},"
"  {\"id\":\"bye\",\"tasks\":[{\"type\":\"EndCall\",\"text\":\"Arrivederci.\"}]},"
"  {\"id\":\"op\",\"tasks\":[{\"type\":\"TransferToOperator\",\"queue\":\"support\","
"     \"text\":\"La passo a un operatore.\"}]}],"
" \"edges\":["
"  {\"from\":\"welcome\",\"to\":\"op\",\"condition\":\"ask.$status == \\\"exhausted\\\"\"},"
"  {\"from\":\"welcome\",\"to\":\"lookup\"},"
"  {\"from\":\"lookup\",\"to\":\"bye\",\"condition\":\"$backend.error == null\"},"
"  {\"from\":\"lookup\",\"to\":\"op\"}]},"
" \"ddts\":{\"ask\":{\"data\":[{\"id\":\"age\",\"kind\":\"integer\",\"min\":0,\"max\":120,"
"   \"steps\":{\"start\":[\"Quanti anni ha?\"],"
"              \"noMatch\":[\"Non ho capito, quanti anni ha?\"],"
"              \"noInput\":[\"Non la sento.\"]},"
"   \"limits\":{\"noMatch\":1,\"noInput\":5}}]}}}";

static const char *P_LOOP =
"{\"format\":\"ddt-project/1\",\"name\":\"looptest\",\"version\":\"t1\","
" \"locale\":\"en-US\",\"variables\":{\"n\":0},"
" \"flow\":{\"start\":\"hello\",\"nodes\":["
"  {\"id\":\"hello\",\"tasks\":[{\"type\":\"SayMessage\",\"text\":\"Hello.\"}]},"
"  {\"id\":\"spin\",\"tasks\":[{\"type\":\"SetVariable\",\"name\":\"n\",\"value\":\"n + 1\"}]}],"
" \"edges\":[{\"from\":\"hello\",\"to\":\"spin\"},{\"from\":\"spin\",\"to\":\"spin\"}]},"
" \"ddts\":{}}";

/* a counting loop through a node without tasks: 600 tasks, 1200 edges */
static const char *P_COUNT =
"{\"format\":\"ddt-project/1\",\"name\":\"counttest\",\"version\":\"t1\","
" \"locale\":\"en-US\",\"variables\":{\"i\":0},"
" \"flow\":{\"start\":\"inc\",\"nodes\":["
"  {\"id\":\"inc\",\"tasks\":[{\"type\":\"SetVariable\",\"name\":\"i\",\"value\":\"i + 1\"}]},"
"  {\"id\":\"check\",\"tasks\":[]},"
"  {\"id\":\"done\",\"tasks\":[{\"type\":\"SayMessage\",\"text\":\"Done {i}.\"}]}],"
" \"edges\":[{\"from\":\"inc\",\"to\":\"check\"},"
"           {\"from\":\"check\",\"to\":\"inc\",\"condition\":\"i < 600\"},"
"           {\"from\":\"check\",\"to\":\"done\"}]},"
" \"ddts\":{}}";

/* a cycle of nodes without tasks never stops by itself */
static const char *P_EMPTY =
"{\"format\":\"ddt-project/1\",\"name\":\"emptytest\",\"version\":\"t1\","
" \"locale\":\"en-US\","
" \"flow\":{\"start\":\"a\",\"nodes\":["
"  {\"id\":\"a\",\"tasks\":[]},{\"id\":\"b\",\"tasks\":[]}],"
" \"edges\":[{\"from\":\"a\",\"to\":\"b\"},{\"from\":\"b\",\"to\":\"a\"}]},"
" \"ddts\":{}}";

static const char *P_END =
"{\"format\":\"ddt-project/1\",\"name\":\"endtest\",\"version\":\"t1\","
" \"locale\":\"en-US\",\"variables\":{\"x\":1},"
" \"flow\":{\"start\":\"a\",\"nodes\":["
"  {\"id\":\"a\",\"tasks\":[{\"type\":\"SayMessage\",\"text\":\"A.\"}]},"
"  {\"id\":\"b\",\"tasks\":[{\"type\":\"SayMessage\",\"text\":\"B.\"}]},"
"  {\"id\":\"c\",\"tasks\":[{\"type\":\"SayMessage\",\"text\":\"C.\"}]}],"
" \"edges\":[{\"from\":\"a\",\"to\":\"b\",\"condition\":\"x == 2\"},"
"           {\"from\":\"a\",\"to\":\"c\",\"condition\":\"x == 1\"},"
"           {\"from\":\"a\",\"to\":\"b\"}]},"
" \"ddts\":{}}";

static const char *P_FAIL =
"{\"format\":\"ddt-project/1\",\"name\":\"failtest\",\"version\":\"t1\","
" \"locale\":\"en-US\",\"variables\":{\"got\":null},"
" \"flow\":{\"start\":\"a\",\"nodes\":["
"  {\"id\":\"a\",\"tasks\":["
"    {\"type\":\"SayMessage\",\"text\":\"One moment.\"},"
"    {\"type\":\"SendSMS\",\"to\":\"+1555\",\"text\":\"hi\"},"
"    {\"type\":\"BackendCall\",\"method\":\"GET\",\"url\":\"/b/x\","
"     \"assign\":{\"got\":\"/v\"},\"onError\":\"fail\"},"
"    {\"type\":\"SayMessage\",\"text\":\"Got {got}.\"}]}],"
" \"edges\":[]},"
" \"ddts\":{}}";

static const char *P_URL =
"{\"format\":\"ddt-project/1\",\"name\":\"urltest\",\"version\":\"t1\","
" \"locale\":\"en-US\",\"variables\":{\"who\":null},"
" \"flow\":{\"start\":\"a\",\"nodes\":["
"  {\"id\":\"a\",\"tasks\":["
"    {\"type\":\"BackendCall\",\"url\":\"/crm/{who}/calls?n=1\"}]}],"
" \"edges\":[]},"
" \"ddts\":{}}";

static const char *P_RING =
"{\"format\":\"ddt-project/1\",\"name\":\"ringtest\",\"version\":\"t1\","
" \"locale\":\"en-US\",\"variables\":{},"
" \"flow\":{\"start\":\"a\",\"nodes\":["
"  {\"id\":\"a\",\"tasks\":[{\"type\":\"GetData\",\"ddt\":\"q\"}]}],"
" \"edges\":[]},"
" \"ddts\":{\"q\":{\"data\":[{\"id\":\"who\",\"kind\":\"text\","
"   \"extract\":[{\"type\":\"ner\",\"service\":\"people\",\"timeoutMs\":700},"
"                {\"type\":\"parser\"}],"
"   \"steps\":{\"start\":[\"Who is calling?\"]},"
"   \"limits\":{\"noInput\":1000}}]}}}";

/* ---- tests ------------------------------------------------------------ */

static void
test_happy_path(void)
{
    proj_t               pj;
    ddt_session_t       *s;
    ddt_turn_result_t    r;
    ddt_json_t          *j, *g;
    ddt_err_t            err;
    ddt_effect_result_t  er;
    const char          *body;

    if (compile(&pj, P_MAIN) != 0) {
        return;
    }
    s = create(&pj, NULL, NULL, &r);
    if (s == NULL) {
        proj_free(&pj);
        return;
    }

    /* creation: welcome text, the first prompt, waiting, version 1 */
    CHECK(!r.need_effect);
    j = parse_resp(&r);
    CHECK_STR(js(j, "sessionId"), "test-session-0001");
    CHECK_INT(jn(j, "version"), 1);
    CHECK_STR(js(j, "status"), "waiting");
    CHECK_INT(jlen(j, "messages"), 2);
    CHECK_STR(js(j, "messages.0.text"), "Benvenuto in ACME.");
    CHECK_STR(js(j, "messages.0.node"), "welcome");
    CHECK(jp(j, "messages.0.step") == NULL);
    CHECK_STR(js(j, "messages.1.text"), "Quanti anni ha?");
    CHECK_STR(js(j, "messages.1.ddt"), "ask");
    CHECK_STR(js(j, "messages.1.data"), "age");
    CHECK_STR(js(j, "messages.1.step"), "start");
    CHECK_INT(jn(j, "messages.1.escalation"), 1);
    CHECK_INT(jlen(j, "actions"), 0);
    CHECK_STR(js(j, "expecting.ddt"), "ask");
    CHECK_STR(js(j, "expecting.data"), "age");
    CHECK_STR(js(j, "expecting.step"), "start");
    CHECK(jnull(j, "expecting.sub"));
    CHECK(jp(j, "error") == NULL);
    CHECK_INT(r.status, DDT_STATUS_WAITING);
    CHECK_INT(ddt_session_version(s), 1);

    /* SetVariable with a string expression wrote memory */
    g = get(s);
    CHECK_STR(js(g, "memory.tier"), "gold");
    CHECK_STR(js(g, "memory.brand"), "ACME");
    CHECK_STR(js(g, "projectVersion"), "t1");
    CHECK_STR(js(g, "project"), "flowtest");

    /* a noInput re-prompts and stays on the same node */
    CHECK_INT(turn(&pj, s, "{\"event\":\"noInput\"}", &r, &err), 200);
    j = parse_resp(&r);
    CHECK_INT(jn(j, "version"), 2);
    CHECK_STR(js(j, "messages.0.step"), "noInput");
    CHECK_STR(js(j, "messages.0.text"), "Non la sento.");
    CHECK_STR(js(j, "expecting.step"), "noInput");

    /* the answer fills the data; the flow reaches the BackendCall */
    CHECK_INT(turn(&pj, s, "{\"text\":\" 42 \"}", &r, &err), 200);
    CHECK(r.need_effect);
    CHECK_INT(r.effect.kind, DDT_EFFECT_HTTP);
    CHECK_INT(r.effect.purpose, DDT_EFFECT_FOR_BACKEND);
    CHECK_STR(r.effect.method, "POST");
    CHECK_STR(r.effect.url, "/backend/customer");
    CHECK_INT(r.effect.timeout_ms, 500);
    /* a string that is one {path} is the typed value; others interpolate */
    body = r.effect.body;
    CHECK_STR(body, "{\"age\":42,\"note\":\"age 42\"}");
    CHECK_STR(r.effect.headers_json, "{\"X-Tier\":\"gold\"}");
    CHECK_INT(ddt_session_version(s), 2);      /* not committed yet */

    memset(&er, 0, sizeof(er));
    er.status = 200;
    er.body = "{\"plan\":\"premium\",\"items\":[{\"k\":1}]}";
    er.body_len = strlen(er.body);
    CHECK_INT(ddt_turn_resume(pj.p, s, &er, &r, &err), DDT_OK);
    CHECK(!r.need_effect);
    j = parse_resp(&r);
    CHECK_INT(jn(j, "version"), 3);
    CHECK_STR(js(j, "status"), "ended");
    CHECK(jnull(j, "expecting"));
    CHECK(r.critical);
    CHECK_INT(jlen(j, "messages"), 2);
    CHECK_STR(js(j, "messages.0.text"), "Piano premium, stato 200.");
    CHECK_STR(js(j, "messages.0.node"), "lookup");
    CHECK_STR(js(j, "messages.1.text"), "Arrivederci.");
    CHECK_STR(js(j, "messages.1.node"), "bye");
    CHECK_INT(jlen(j, "actions"), 4);
    CHECK_STR(js(j, "actions.0.type"), "sendEmail");
    CHECK_STR(js(j, "actions.0.to"), "ops@example.com");
    CHECK_STR(js(j, "actions.0.subject"), "Nuovo gold");
    CHECK_STR(js(j, "actions.0.body"), "Eta 42");
    CHECK_STR(js(j, "actions.1.type"), "sendSMS");
    CHECK_STR(js(j, "actions.1.to"), "+39333");
    CHECK_STR(js(j, "actions.1.text"), "Ciao ACME");
    CHECK_STR(js(j, "actions.2.type"), "custom");
    CHECK_STR(js(j, "actions.2.name"), "crm");
    CHECK_INT(jn(j, "actions.2.params.age"), 42);
    CHECK_INT(jn(j, "actions.2.params.fixed.1"), 2);
    CHECK_STR(js(j, "actions.3.type"), "endCall");

    /* memory: the data, assign by pointer (missing pointer = null), $backend */
    g = get(s);
    CHECK_INT(jn(g, "memory.ask.age"), 42);
    CHECK_STR(js(g, "memory.ask.$status"), "ok");
    CHECK_STR(js(g, "memory.customer.plan"), "premium");
    CHECK_INT(jn(g, "memory.customer.first.k"), 1);
    CHECK(jnull(g, "memory.customer.missing"));
    CHECK_INT(jn(g, "memory.$backend.status"), 200);
    CHECK(jnull(g, "memory.$backend.error"));
    CHECK_STR(js(g, "status"), "ended");
    CHECK(jnull(g, "expecting"));

    /* a closed session takes no turn */
    CHECK_INT(turn(&pj, s, "{\"text\":\"ancora\"}", &r, &err), 410);
    CHECK_STR(err.code, "session_closed");
    CHECK_INT(ddt_session_version(s), 3);

    ddt_turn_result_free(&r);
    ddt_session_free(s);
    proj_free(&pj);
}

/* BackendCall transport error with onError continue: $backend set, the
 * assign targets untouched, the flow follows the error edge */
static void
test_backend_continue(void)
{
    proj_t               pj;
    ddt_session_t       *s;
    ddt_turn_result_t    r;
    ddt_json_t          *j, *g;
    ddt_err_t            err;
    ddt_effect_result_t  er;

    if (compile(&pj, P_MAIN) != 0) {
        return;
    }
    s = create(&pj, NULL, NULL, &r);
    if (s == NULL) {
        proj_free(&pj);
        return;
    }

    CHECK_INT(turn(&pj, s, "{\"dtmf\":\"35#\"}", &r, &err), 200);
    CHECK(r.need_effect);
    memset(&er, 0, sizeof(er));
    er.status = 0;
    er.error = "timeout";
    CHECK_INT(ddt_turn_resume(pj.p, s, &er, &r, &err), DDT_OK);
    j = parse_resp(&r);
    CHECK_STR(js(j, "status"), "transferred");
    CHECK_STR(js(j, "messages.0.text"), "Piano , stato 0.");
    CHECK_STR(js(j, "messages.1.text"), "La passo a un operatore.");
    CHECK_INT(jlen(j, "actions"), 4);
    CHECK_STR(js(j, "actions.3.type"), "transfer");
    CHECK_STR(js(j, "actions.3.queue"), "support");
    CHECK(jnull(j, "expecting"));

    g = get(s);
    CHECK_INT(jn(g, "memory.ask.age"), 35);
    CHECK_INT(jn(g, "memory.$backend.status"), 0);
    CHECK_STR(js(g, "memory.$backend.error"), "timeout");
    CHECK(jp(g, "memory.customer") == NULL);

    ddt_turn_result_free(&r);
    ddt_session_free(s);

    /* a status outside 2xx is an error "status"; a non-JSON body with
     * assign is "bad_json" */
    s = create(&pj, NULL, NULL, &r);
    CHECK_INT(turn(&pj, s, "{\"text\":\"50\"}", &r, &err), 200);
    memset(&er, 0, sizeof(er));
    er.status = 503;
    CHECK_INT(ddt_turn_resume(pj.p, s, &er, &r, &err), DDT_OK);
    g = get(s);
    CHECK_INT(jn(g, "memory.$backend.status"), 503);
    CHECK_STR(js(g, "memory.$backend.error"), "status");
    ddt_turn_result_free(&r);
    ddt_session_free(s);

    s = create(&pj, NULL, NULL, &r);
    CHECK_INT(turn(&pj, s, "{\"text\":\"50\"}", &r, &err), 200);
    memset(&er, 0, sizeof(er));
    er.status = 200;
    er.body = "<html>";
    er.body_len = 6;
    CHECK_INT(ddt_turn_resume(pj.p, s, &er, &r, &err), DDT_OK);
    g = get(s);
    CHECK_STR(js(g, "memory.$backend.error"), "bad_json");
    CHECK_STR(js(g, "status"), "transferred");
    ddt_turn_result_free(&r);
    ddt_session_free(s);

    proj_free(&pj);
}

/* exhaustion: the GetData ends with $status exhausted and the first true
 * edge (in file order) leads to the operator */
static void
test_exhausted(void)
{
    proj_t               pj;
    ddt_session_t       *s;
    ddt_turn_result_t    r;
    ddt_json_t          *j, *g;
    ddt_err_t            err;

    if (compile(&pj, P_MAIN) != 0) {
        return;
    }
    s = create(&pj, NULL, NULL, &r);
    if (s == NULL) {
        proj_free(&pj);
        return;
    }

    CHECK_INT(turn(&pj, s, "{\"event\":\"noMatch\"}", &r, &err), 200);
    j = parse_resp(&r);
    CHECK_STR(js(j, "status"), "waiting");
    CHECK_STR(js(j, "messages.0.step"), "noMatch");
    CHECK_INT(jn(j, "messages.0.escalation"), 1);

    CHECK_INT(turn(&pj, s, "{\"text\":\"boh\"}", &r, &err), 200);
    j = parse_resp(&r);
    CHECK_STR(js(j, "status"), "transferred");
    CHECK_INT(jlen(j, "messages"), 1);
    CHECK_STR(js(j, "messages.0.text"), "La passo a un operatore.");
    CHECK_STR(js(j, "actions.0.type"), "transfer");
    CHECK(r.critical);
    g = get(s);
    CHECK_STR(js(g, "memory.ask.$status"), "exhausted");
    CHECK_STR(js(g, "status"), "transferred");

    ddt_turn_result_free(&r);
    ddt_session_free(s);
    proj_free(&pj);
}

static void
test_loop_guard(void)
{
    proj_t               pj;
    ddt_session_t       *s;
    ddt_turn_result_t    r;
    ddt_json_t          *j, *g;
    ddt_err_t            err;

    if (compile(&pj, P_LOOP) != 0) {
        return;
    }
    s = create(&pj, NULL, NULL, &r);
    if (s == NULL) {
        proj_free(&pj);
        return;
    }

    j = parse_resp(&r);
    CHECK_STR(js(j, "status"), "error");
    CHECK_STR(js(j, "error.code"), "loop_guard");
    CHECK(js(j, "error.message") != NULL
          && strstr(js(j, "error.message"), "1000") != NULL);
    CHECK_INT(jlen(j, "messages"), 1);         /* said before the loop */
    CHECK_STR(js(j, "messages.0.text"), "Hello.");
    CHECK_INT(jlen(j, "actions"), 0);
    CHECK(jnull(j, "expecting"));
    CHECK_INT(jn(j, "version"), 1);
    CHECK(r.critical);
    CHECK_INT(r.status, DDT_STATUS_ERROR);

    /* 1000 tasks ran: Say + 999 SetVariable; memory written is kept */
    g = get(s);
    CHECK_INT(jn(g, "memory.n"), 999);
    CHECK_STR(js(g, "status"), "error");

    CHECK_INT(turn(&pj, s, "{\"text\":\"hi\"}", &r, &err), 410);
    CHECK_STR(err.code, "session_closed");

    ddt_turn_result_free(&r);
    ddt_session_free(s);
    proj_free(&pj);
}

/* SPEC 2: the loop guard is about tasks (more than 1000 in a turn); 600
 * tasks through a task-less node are not a loop, a task-less cycle is */
static void
test_loop_guard_tasks(void)
{
    proj_t               pj;
    ddt_session_t       *s;
    ddt_turn_result_t    r;
    ddt_json_t          *j;

    if (compile(&pj, P_COUNT) == 0) {
        s = create(&pj, NULL, NULL, &r);
        if (s != NULL) {
            j = parse_resp(&r);
            CHECK_STR(js(j, "status"), "ended");
            CHECK_STR(js(j, "messages.0.text"), "Done 600.");
            ddt_session_free(s);
        }
        ddt_turn_result_free(&r);
        proj_free(&pj);
    }

    if (compile(&pj, P_EMPTY) == 0) {
        s = create(&pj, NULL, NULL, &r);
        if (s != NULL) {
            j = parse_resp(&r);
            CHECK_STR(js(j, "status"), "error");
            CHECK_STR(js(j, "error.code"), "loop_guard");
            ddt_session_free(s);
        }
        ddt_turn_result_free(&r);
        proj_free(&pj);
    }
}

/* after the last task the first true edge in file order; none: the
 * session ends with an endCall action */
static void
test_edges_and_end(void)
{
    proj_t               pj;
    ddt_session_t       *s;
    ddt_turn_result_t    r;
    ddt_json_t          *j;

    if (compile(&pj, P_END) != 0) {
        return;
    }

    s = create(&pj, NULL, NULL, &r);
    j = parse_resp(&r);
    CHECK_STR(js(j, "status"), "ended");
    CHECK_INT(jlen(j, "messages"), 2);
    CHECK_STR(js(j, "messages.0.text"), "A.");
    CHECK_STR(js(j, "messages.1.text"), "C.");
    CHECK_INT(jlen(j, "actions"), 1);
    CHECK_STR(js(j, "actions.0.type"), "endCall");
    CHECK_INT(jlen(j, "actions.0"), 1);        /* endCall {} */
    ddt_turn_result_free(&r);
    ddt_session_free(s);

    /* session variables override the project's: now x == 2 goes to b */
    s = create(&pj, "{\"x\":2,\"extra\":\"e\"}", NULL, &r);
    j = parse_resp(&r);
    CHECK_STR(js(j, "messages.1.text"), "B.");
    j = get(s);
    CHECK_STR(js(j, "memory.extra"), "e");
    ddt_turn_result_free(&r);
    ddt_session_free(s);

    proj_free(&pj);
}

/* What a caller said, put into a BackendCall url, is one percent-encoded
 * piece: it can add no path segment, query or fragment. */
static void
test_backend_url_encoding(void)
{
    proj_t              pj;
    ddt_session_t      *s;
    ddt_turn_result_t   r;

    if (compile(&pj, P_URL) != 0) {
        return;
    }
    s = create(&pj, "{\"who\":\"a/../b?x=1#f \u00e8\"}", NULL, &r);
    if (s != NULL) {
        CHECK(r.need_effect);
        CHECK_STR(r.effect.url, "/crm/a%2F..%2Fb%3Fx%3D1%23f%20%C3%A8/calls?n=1");
        ddt_turn_result_free(&r);
        ddt_session_free(s);
    }
    s = create(&pj, "{\"who\":\"..\"}", NULL, &r);
    if (s != NULL) {
        CHECK_STR(r.effect.url, "/crm/%2E%2E/calls?n=1");
        ddt_turn_result_free(&r);
        ddt_session_free(s);
    }
    s = create(&pj, "{\"who\":\"mario.rossi_1\"}", NULL, &r);
    if (s != NULL) {
        CHECK_STR(r.effect.url, "/crm/mario.rossi_1/calls?n=1");
        ddt_turn_result_free(&r);
        ddt_session_free(s);
    }
    proj_free(&pj);
}

static void
test_backend_fail(void)
{
    proj_t               pj;
    ddt_session_t       *s;
    ddt_turn_result_t    r;
    ddt_json_t          *j;
    ddt_err_t            err;
    ddt_effect_result_t  er;

    if (compile(&pj, P_FAIL) != 0) {
        return;
    }
    s = create(&pj, NULL, NULL, &r);
    if (s == NULL) {
        proj_free(&pj);
        return;
    }
    CHECK(r.need_effect);
    CHECK_STR(r.effect.method, "GET");
    CHECK_STR(r.effect.url, "/b/x");
    CHECK_INT(r.effect.timeout_ms, 3000);      /* the default */

    memset(&er, 0, sizeof(er));
    er.status = 0;
    er.error = "connect";
    CHECK_INT(ddt_turn_resume(pj.p, s, &er, &r, &err), DDT_OK);
    j = parse_resp(&r);
    CHECK_INT(jn(j, "version"), 1);
    CHECK_STR(js(j, "status"), "error");
    CHECK_STR(js(j, "error.code"), "backend_failed");
    CHECK_INT(jlen(j, "messages"), 1);
    CHECK_STR(js(j, "messages.0.text"), "One moment.");
    CHECK_INT(jlen(j, "actions"), 0);          /* a failure has no actions */
    CHECK(jnull(j, "expecting"));
    CHECK(r.critical);

    /* a resume when nothing is pending is refused */
    CHECK_INT(ddt_turn_resume(pj.p, s, &er, &r, &err), DDT_ERROR);

    ddt_turn_result_free(&r);
    ddt_session_free(s);
    proj_free(&pj);
}

static void
test_replay(void)
{
    proj_t               pj;
    ddt_session_t       *s;
    ddt_turn_result_t    r;
    ddt_err_t            err;
    ddt_buf_t            first;
    int                  i;
    char                 body[128];

    if (compile(&pj, P_MAIN) != 0) {
        return;
    }
    s = create(&pj, NULL, NULL, &r);
    if (s == NULL) {
        proj_free(&pj);
        return;
    }

    ddt_buf_init(&first);
    CHECK_INT(turn(&pj, s, "{\"event\":\"noInput\",\"turnId\":\"a1\"}", &r,
                   &err), 200);
    ddt_buf_add(&first, r.response.data, r.response.len);
    CHECK_INT(ddt_session_version(s), 2);

    /* same turnId, same input: the stored response, nothing advances */
    CHECK_INT(turn(&pj, s, "{\"turnId\":\"a1\",\"event\":\"noInput\"}", &r,
                   &err), 200);
    CHECK_STR(r.response.data, first.data);
    CHECK_INT(ddt_session_version(s), 2);

    /* same turnId, another input */
    CHECK_INT(turn(&pj, s, "{\"event\":\"noMatch\",\"turnId\":\"a1\"}", &r,
                   &err), 422);
    CHECK_STR(err.code, "turn_id_reused");
    CHECK_INT(ddt_session_version(s), 2);

    /* more turns until the noInput limit sends the caller away */
    for (i = 0; i < 16; i++) {
        snprintf(body, sizeof(body),
                 "{\"event\":\"noInput\",\"turnId\":\"b%d\"}", i);
        turn(&pj, s, body, &r, &err);
        if (ddt_session_status(s) != DDT_STATUS_WAITING) {
            break;
        }
    }
    /* the project allows 5 noInput: the session went to the operator */
    CHECK_INT(ddt_session_status(s), DDT_STATUS_TRANSFERRED);

    /* the ring survives the end: a known turnId still answers */
    CHECK_INT(turn(&pj, s, "{\"event\":\"noInput\",\"turnId\":\"a1\"}", &r,
                   &err), 200);
    CHECK_STR(r.response.data, first.data);

    ddt_buf_free(&first);
    ddt_turn_result_free(&r);
    ddt_session_free(s);
    proj_free(&pj);
}

/* the same conversation with a save/load between every turn answers the
 * same bytes as one kept in memory */
static void
test_reload_equivalence(void)
{
    static const char *script[] = {
        "{\"event\":\"noInput\"}", "{\"text\":\"duecento\"}",
        "{\"text\":\"trenta\"}"
    };
    proj_t               pj;
    ddt_session_t       *a, *b, *b2;
    ddt_turn_result_t    ra, rb;
    ddt_err_t            err;
    ddt_buf_t            st;
    size_t               i;

    if (compile(&pj, P_MAIN) != 0) {
        return;
    }
    a = create(&pj, NULL, NULL, &ra);
    b = create(&pj, NULL, NULL, &rb);
    if (a == NULL || b == NULL) {
        proj_free(&pj);
        return;
    }
    CHECK_STR(ra.response.data, rb.response.data);
    ddt_buf_init(&st);

    for (i = 0; i < sizeof(script) / sizeof(script[0]); i++) {
        ddt_buf_reset(&st);
        CHECK_INT(ddt_session_save(b, &st), DDT_OK);
        ddt_session_free(b);
        b = NULL;
        CHECK_INT(ddt_session_load(st.data, st.len, &b2, &err), DDT_OK);
        b = b2;
        if (b == NULL) {
            break;
        }
        turn(&pj, a, script[i], &ra, &err);
        turn(&pj, b, script[i], &rb, &err);
        CHECK_STR(rb.response.data, ra.response.data);
        CHECK_INT(ra.need_effect, rb.need_effect);

        /* and both sessions save the same state, byte for byte */
        if (!ra.need_effect) {
            ddt_buf_t x, y;
            ddt_buf_init(&x);
            ddt_buf_init(&y);
            ddt_session_save(a, &x);
            ddt_session_save(b, &y);
            CHECK_STR(y.data, x.data);
            ddt_buf_free(&x);
            ddt_buf_free(&y);
        }
    }

    ddt_buf_free(&st);
    ddt_turn_result_free(&ra);
    ddt_turn_result_free(&rb);
    ddt_session_free(a);
    ddt_session_free(b);
    proj_free(&pj);
}

static void
test_input_shapes(void)
{
    ddt_input_t  in;
    ddt_err_t    err;
    size_t       i;

    static const struct { const char *body; const char *code; } bad[] = {
        { "{\"text\":\"a\",\"dtmf\":\"1\"}", "bad_input" },
        { "{}", "bad_input" },
        { "{\"turnId\":\"x\"}", "bad_input" },
        { "{\"text\":1}", "bad_input" },
        { "{\"dtmf\":\"12a\"}", "bad_input" },
        { "{\"dtmf\":\"\"}", "bad_input" },
        { "{\"event\":\"hangup\"}", "bad_input" },
        { "{\"values\":[1]}", "bad_input" },
        { "{\"text\":\"a\",\"other\":1}", "bad_input" },
        { "{\"text\":\"a\",\"turnId\":5}", "bad_input" },
        { "{\"text\":\"a\\u0000b\"}", "bad_input" },
        /* an escaped NUL makes another key or event, not a known one */
        { "{\"event\":\"noInput\\u0000\"}", "bad_input" },
        { "{\"text\\u0000x\":\"a\"}", "bad_input" },
        { "{\"text\":\"a\",\"turnId\\u0000\":\"t\"}", "bad_input" },
        { "{\"text\":\"a\",\"turnId\":\"\\n\"}", "bad_input" },
        { "{\"values\":{},\"event\":\"noInput\"}", "bad_input" },
        { "[\"text\"]", "bad_input" },
        { "\"text\"", "bad_input" },
        { "{\"text\":\"a\"", "bad_json" },
        { "{\"text\":\"a\",\"text\":\"b\"}", "bad_json" },
        { "{\"text\":\"\xff\"}", "bad_json" },
        { "", "bad_json" },
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        CHECK_MSG(ddt_input_parse(&A, bad[i].body, strlen(bad[i].body), &in,
                                  &err) == DDT_ERROR, "%s", bad[i].body);
        CHECK_STR(err.code, bad[i].code);
        CHECK_INT(err.http, 400);
    }

    CHECK_INT(ddt_input_parse(&A, "{\"text\":\"  \\t \"}", 16, &in, &err),
              DDT_OK);
    CHECK_INT(in.kind, DDT_IN_EVENT_NOINPUT);

    const char *t = "{\"text\":\"  ciao mondo \",\"turnId\":\"t9\"}";
    CHECK_INT(ddt_input_parse(&A, t, strlen(t), &in, &err), DDT_OK);
    CHECK_INT(in.kind, DDT_IN_TEXT);
    CHECK_INT(in.text_len, 10);
    CHECK(strncmp(in.text, "ciao mondo", 10) == 0);
    CHECK_STR(in.turn_id, "t9");

    const char *d = "{\"dtmf\":\"12*3#\"}";
    CHECK_INT(ddt_input_parse(&A, d, strlen(d), &in, &err), DDT_OK);
    CHECK_INT(in.kind, DDT_IN_DTMF);
    CHECK_INT(in.text_len, 4);
    CHECK(strncmp(in.text, "12*3", 4) == 0);

    const char *e = "{\"event\":\"noMatch\"}";
    CHECK_INT(ddt_input_parse(&A, e, strlen(e), &in, &err), DDT_OK);
    CHECK_INT(in.kind, DDT_IN_EVENT_NOMATCH);

    const char *v = "{\"values\":{\"age\":3}}";
    CHECK_INT(ddt_input_parse(&A, v, strlen(v), &in, &err), DDT_OK);
    CHECK_INT(in.kind, DDT_IN_VALUES);
    CHECK(in.values != NULL && in.values->type == DDT_J_OBJ);
}

static void
test_session_options(void)
{
    proj_t               pj;
    ddt_session_t       *s;
    ddt_turn_result_t    r;
    ddt_session_opts_t   o;
    ddt_err_t            err;
    ddt_jerr_t           je;
    ddt_json_t          *j;

    if (compile(&pj, P_MAIN) != 0) {
        return;
    }
    ddt_turn_result_init(&r);
    memset(&o, 0, sizeof(o));
    o.session_id = "test-session-0002";
    o.now_ms = NOW;

    o.session_id = "short";
    CHECK_INT(ddt_session_create(pj.p, &o, &s, &r, &err), DDT_ERROR);
    CHECK_STR(err.code, "bad_input");
    o.session_id = "has space inside";
    CHECK_INT(ddt_session_create(pj.p, &o, &s, &r, &err), DDT_ERROR);
    CHECK_STR(err.code, "bad_input");
    o.session_id = "test-session-0002";

    o.locale = "fr-FR";
    s = (ddt_session_t *) 1;
    CHECK_INT(ddt_session_create(pj.p, &o, &s, &r, &err), DDT_ERROR);
    CHECK_STR(err.code, "bad_input");
    CHECK_INT(err.http, 400);
    CHECK(s == NULL);

    o.locale = NULL;
    o.variables = ddt_json_parse(&A, "{\"$backend\":1}", 14, NULL, &je);
    CHECK_INT(ddt_session_create(pj.p, &o, &s, &r, &err), DDT_ERROR);
    CHECK_STR(err.code, "bad_input");

    /* memory never holds dotted keys (SPEC 9.8): a dotted or empty
     * variable name is refused, not stored as one key */
    o.variables = ddt_json_parse(&A, "{\"ask.age\":1}", 13, NULL, &je);
    CHECK_INT(ddt_session_create(pj.p, &o, &s, &r, &err), DDT_ERROR);
    CHECK_STR(err.code, "bad_input");
    o.variables = ddt_json_parse(&A, "{\"\":1}", 6, NULL, &je);
    CHECK_INT(ddt_session_create(pj.p, &o, &s, &r, &err), DDT_ERROR);
    CHECK_STR(err.code, "bad_input");

    o.variables = ddt_json_parse(&A, "[1]", 3, NULL, &je);
    CHECK_INT(ddt_session_create(pj.p, &o, &s, &r, &err), DDT_ERROR);
    CHECK_STR(err.code, "bad_input");

    o.variables = NULL;
    o.locale = "en-US";
    CHECK_INT(ddt_session_create(pj.p, &o, &s, &r, &err), DDT_OK);
    if (s != NULL) {
        /* values for a key the running DDT does not have: 400, no turn */
        CHECK_INT(turn(&pj, s, "{\"values\":{\"height\":3}}", &r, &err), 400);
        CHECK_STR(err.code, "bad_input");
        CHECK_INT(ddt_session_version(s), 1);
        CHECK_INT(ddt_session_status(s), DDT_STATUS_WAITING);

        /* a values input fills the data like an utterance */
        CHECK_INT(turn(&pj, s, "{\"values\":{\"age\":77}}", &r, &err), 200);
        CHECK(r.need_effect);
        j = get(s);
        CHECK_INT(jn(j, "memory.ask.age"), 77);
        ddt_session_free(s);
    }

    ddt_turn_result_free(&r);
    proj_free(&pj);
}

/* the ring keeps the last 16 turnIds; older ones are new turns again */
static void
test_replay_ring(void)
{
    proj_t               pj;
    ddt_session_t       *s;
    ddt_turn_result_t    r;
    ddt_err_t            err;
    char                 body[128];
    int                  i;

    if (compile(&pj, P_RING) != 0) {
        return;
    }
    s = create(&pj, NULL, NULL, &r);
    if (s == NULL) {
        proj_free(&pj);
        return;
    }

    for (i = 0; i < 20; i++) {
        snprintf(body, sizeof(body),
                 "{\"event\":\"noInput\",\"turnId\":\"r%d\"}", i);
        CHECK_INT(turn(&pj, s, body, &r, &err), 200);
    }
    CHECK_INT(ddt_session_version(s), 21);

    /* r4..r19 are the last 16: replayed, nothing advances */
    CHECK_INT(turn(&pj, s, "{\"event\":\"noInput\",\"turnId\":\"r4\"}",
                   &r, &err), 200);
    CHECK_INT(ddt_session_version(s), 21);
    CHECK(strstr(r.response.data, "\"version\":6,") != NULL);

    /* r3 fell out: it runs as a new turn */
    CHECK_INT(turn(&pj, s, "{\"event\":\"noInput\",\"turnId\":\"r3\"}",
                   &r, &err), 200);
    CHECK_INT(ddt_session_version(s), 22);

    ddt_turn_result_free(&r);
    ddt_session_free(s);
    proj_free(&pj);
}

/* an ner layer is an effect the host performs; a failed one counts as no
 * value and the next layer runs; the turn is one version */
static void
test_engine_effect(void)
{
    proj_t               pj;
    ddt_session_t       *s;
    ddt_turn_result_t    r;
    ddt_err_t            err;
    ddt_effect_result_t  er;
    ddt_json_t          *j;

    if (compile(&pj, P_RING) != 0) {
        return;
    }
    s = create(&pj, NULL, NULL, &r);
    if (s == NULL) {
        proj_free(&pj);
        return;
    }

    CHECK_INT(turn(&pj, s, "{\"text\":\"Anna Neri\"}", &r, &err), 200);
    CHECK(r.need_effect);
    CHECK_INT(r.effect.purpose, DDT_EFFECT_FOR_NER);
    CHECK_STR(r.effect.url, "people");
    CHECK_INT(ddt_session_version(s), 1);

    /* another turn while the effect is out is refused */
    CHECK_INT(turn(&pj, s, "{\"text\":\"x\"}", &r, &err), 409);
    CHECK_STR(err.code, "conflict");

    memset(&er, 0, sizeof(er));
    er.status = 0;
    er.error = "timeout";
    CHECK_INT(ddt_turn_resume(pj.p, s, &er, &r, &err), DDT_OK);
    CHECK(!r.need_effect);
    j = parse_resp(&r);
    CHECK_INT(jn(j, "version"), 2);
    CHECK_STR(js(j, "status"), "ended");
    CHECK_STR(js(j, "actions.0.type"), "endCall");
    j = get(s);
    CHECK_STR(js(j, "memory.q.who"), "Anna Neri");
    CHECK_STR(js(j, "memory.q.$meta.who.layer"), "parser");

    ddt_turn_result_free(&r);
    ddt_session_free(s);
    proj_free(&pj);
}

/* a state saved while an effect is out (a host bug) does not resume: the
 * result answers status error bad_state, never a crash */
static void
test_saved_mid_effect(void)
{
    proj_t               pj;
    ddt_session_t       *s, *s2;
    ddt_turn_result_t    r;
    ddt_err_t            err;
    ddt_effect_result_t  er;
    ddt_buf_t            st;
    ddt_json_t          *j;

    if (compile(&pj, P_FAIL) != 0) {
        return;
    }
    s = create(&pj, NULL, NULL, &r);
    if (s == NULL) {
        proj_free(&pj);
        return;
    }
    CHECK(r.need_effect);
    ddt_buf_init(&st);
    CHECK_INT(ddt_session_save(s, &st), DDT_OK);
    CHECK_INT(ddt_session_load(st.data, st.len, &s2, &err), DDT_OK);
    if (s2 != NULL) {
        memset(&er, 0, sizeof(er));
        er.status = 200;
        er.body = "{\"v\":1}";
        er.body_len = 7;
        CHECK_INT(turn(&pj, s2, "{\"text\":\"x\"}", &r, &err), 409);
        CHECK_INT(ddt_turn_resume(pj.p, s2, &er, &r, &err), DDT_OK);
        j = parse_resp(&r);
        CHECK_STR(js(j, "status"), "error");
        CHECK_STR(js(j, "error.code"), "bad_state");
        ddt_session_free(s2);
    }
    ddt_buf_free(&st);
    ddt_turn_result_free(&r);
    ddt_session_free(s);
    proj_free(&pj);
}

/* a session kept in memory for many turns is compacted now and then: it
 * keeps answering, remembering and saving exactly like one that was stored
 * and reloaded between turns (ASan watches for anything left behind) */
static void
test_long_session(void)
{
    proj_t               pj;
    ddt_session_t       *a, *b, *b2;
    ddt_turn_result_t    ra, rb;
    ddt_err_t            err;
    ddt_buf_t            sa, sb;
    char                 body[128];
    int                  i, same = 1;

    if (compile(&pj, P_RING) != 0) {
        return;
    }
    a = create(&pj, NULL, NULL, &ra);
    b = create(&pj, NULL, NULL, &rb);
    ddt_buf_init(&sa);
    ddt_buf_init(&sb);

    for (i = 0; i < 600 && a != NULL && b != NULL; i++) {
        snprintf(body, sizeof(body),
                 "{\"event\":\"noInput\",\"turnId\":\"L%d\"}", i);
        turn(&pj, a, body, &ra, &err);

        ddt_buf_reset(&sb);
        ddt_session_save(b, &sb);
        ddt_session_free(b);
        b = NULL;
        if (ddt_session_load(sb.data, sb.len, &b2, &err) != DDT_OK) {
            CHECK_MSG(0, "reload: %s", err.message);
            break;
        }
        b = b2;
        turn(&pj, b, body, &rb, &err);
        if (strcmp(ra.response.data, rb.response.data) != 0) {
            same = 0;
        }
    }
    CHECK(same);
    CHECK_INT(ddt_session_version(a), 601);

    if (a != NULL && b != NULL) {
        ddt_buf_reset(&sa);
        ddt_buf_reset(&sb);
        ddt_session_save(a, &sa);
        ddt_session_save(b, &sb);
        CHECK_STR(sa.data, sb.data);

        /* the ring still answers after the compactions */
        CHECK_INT(turn(&pj, a, "{\"event\":\"noInput\",\"turnId\":\"L590\"}",
                       &ra, &err), 200);
        CHECK(strstr(ra.response.data, "\"version\":592,") != NULL);
        CHECK_INT(ddt_session_version(a), 601);
    }

    ddt_buf_free(&sa);
    ddt_buf_free(&sb);
    ddt_turn_result_free(&ra);
    ddt_turn_result_free(&rb);
    ddt_session_free(a);
    ddt_session_free(b);
    proj_free(&pj);
}

/* a session is pinned to the load it started on */
static void
test_pinned_project(void)
{
    proj_t               a, b;
    ddt_session_t       *s;
    ddt_turn_result_t    r;
    ddt_err_t            err;

    if (compile(&a, P_MAIN) != 0) {
        return;
    }
    if (compile(&b, P_RING) != 0) {
        proj_free(&a);
        return;
    }
    s = create(&a, NULL, NULL, &r);
    if (s != NULL) {
        CHECK_STR(ddt_session_checksum(s), a.p->checksum_hex);
        CHECK_INT(turn(&b, s, "{\"text\":\"40\"}", &r, &err), 410);
        CHECK_STR(err.code, "project_version_gone");
        CHECK_INT(ddt_session_version(s), 1);
        ddt_session_free(s);
    }
    ddt_turn_result_free(&r);
    proj_free(&a);
    proj_free(&b);
}

int
main(void)
{
    ddt_arena_init(&A, 64 * 1024);

    test_input_shapes();
    test_happy_path();
    test_backend_continue();
    test_exhausted();
    test_loop_guard();
    test_loop_guard_tasks();
    test_edges_and_end();
    test_backend_fail();
    test_backend_url_encoding();
    test_replay();
    test_reload_equivalence();
    test_session_options();
    test_replay_ring();
    test_engine_effect();
    test_pinned_project();
    test_saved_mid_effect();
    test_long_session();

    ddt_arena_free(&A);
    return T_DONE();
}
