/*
 * test_expr.c: expressions (SPEC 5, 9.6): a table of expressions over a
 * fixed memory and clock with their results, null semantics, date and time
 * ordering, `in`, functions, `value` inside validate rules, time zones, and
 * runtime errors that give null.
 */
#include <stdlib.h>

#include <ddt/ddt.h>
#include "runtime.h"
#include "t.h"

#define VARS \
    "{\"brand\":\"ACME\",\"n\":5,\"f\":2.5,\"z\":0,\"x\":null,\"s\":\"Ciao\"," \
    "\"up\":\"\\u00c8 Così\",\"yes\":true,\"no\":false,\"arr\":[1,2,3]," \
    "\"obj\":{\"a\":1,\"b\":{\"c\":\"deep\"}}," \
    "\"t1\":{\"hour\":9,\"minute\":5},\"t2\":{\"hour\":15,\"minute\":30}," \
    "\"d1\":{\"day\":12,\"month\":3,\"year\":1980}," \
    "\"d2\":{\"day\":26,\"month\":11,\"year\":2026}," \
    "\"dp\":{\"month\":3,\"year\":1980}," \
    "\"bday\":{\"day\":27,\"month\":11,\"year\":2000}}"

/* memory: the variables plus a DDT's values and metadata */
#define MEMORY \
    "{\"brand\":\"ACME\",\"n\":5,\"f\":2.5,\"z\":0,\"x\":null,\"s\":\"Ciao\"," \
    "\"up\":\"\\u00c8 Così\",\"yes\":true,\"no\":false,\"arr\":[1,2,3]," \
    "\"obj\":{\"a\":1,\"b\":{\"c\":\"deep\"}}," \
    "\"t1\":{\"hour\":9,\"minute\":5},\"t2\":{\"hour\":15,\"minute\":30}," \
    "\"d1\":{\"day\":12,\"month\":3,\"year\":1980}," \
    "\"d2\":{\"day\":26,\"month\":11,\"year\":2026}," \
    "\"dp\":{\"month\":3,\"year\":1980}," \
    "\"bday\":{\"day\":27,\"month\":11,\"year\":2000}," \
    "\"c\":{\"born\":{\"day\":12,\"month\":3,\"year\":1980},\"name\":\"Mario\"," \
    "\"$status\":\"ok\",\"$meta\":{\"born\":{\"confidence\":0.9," \
    "\"layer\":\"parser\",\"sub\":{\"day\":{\"confidence\":0.5}}}}}}"

/* 2026-11-26 12:00:00 UTC: 13:00 in Rome, 07:00 in New York */
#define NOW_MS 1795694400000LL

static ddt_arena_t  arena;
static ddt_json_t  *memory;

/* Compile a project whose only task is SetVariable v = expr; evaluate it. */
static const ddt_json_t *
eval_in(const char *expr, const char *tz, int64_t now, int *compiled)
{
    char            *src, *esc, *p;
    const char      *e;
    ddt_diags_t      d;
    uint8_t         *block;
    size_t           len, i;
    ddt_project_t   *proj;
    ddt_eval_ctx_t   ctx;
    const ddt_json_t *r;
    char             err[200];

    esc = malloc(strlen(expr) * 2 + 1);
    for (e = expr, p = esc; *e; e++) {
        if (*e == '"' || *e == '\\') *p++ = '\\';
        *p++ = *e;
    }
    *p = '\0';
    src = malloc(strlen(esc) + 4096);
    sprintf(src, "{\"format\":\"ddt-project/1\",\"name\":\"e\",\"timezone\":\"%s\","
            "\"variables\":" VARS ",\"flow\":{\"start\":\"a\",\"nodes\":[{\"id\":\"a\","
            "\"tasks\":[{\"type\":\"SetVariable\",\"name\":\"v\",\"value\":\"%s\"}]}]},"
            "\"ddts\":{\"c\":{\"data\":[{\"id\":\"name\",\"steps\":{\"start\":[\"?\"]}},"
            "{\"id\":\"born\",\"kind\":\"date\",\"steps\":{\"start\":[\"?\"]}}]}}}",
            tz, esc);
    free(esc);
    ddt_diags_init(&d);
    *compiled = ddt_compile(src, strlen(src), &d, &block, &len) == DDT_OK;
    free(src);
    if (!*compiled) {
        for (i = 0; i < d.n; i++) {
            fprintf(stderr, "  %s: %s: %s\n", expr, d.items[i].path,
                    d.items[i].message);
        }
        ddt_diags_free(&d);
        return NULL;
    }
    ddt_diags_free(&d);
    if (ddt_project_load(block, len, &proj, err, sizeof(err)) != DDT_OK) {
        fprintf(stderr, "load: %s\n", err);
        free(block);
        *compiled = 0;
        return NULL;
    }
    memset(&ctx, 0, sizeof(ctx));
    ctx.memory = memory;
    ctx.now_ms = now;
    ctx.arena = &arena;
    r = ddt_expr_eval(proj, proj->tasks[0].expr, &ctx);
    /* results live in the arena or are static: safe after free */
    r = ddt_json_clone(&arena, r);
    ddt_project_free(proj);
    free(block);
    return r;
}

static int
same(const ddt_json_t *got, const char *want)
{
    ddt_jerr_t   je;
    ddt_json_t  *w;

    w = ddt_json_parse(&arena, want, strlen(want), NULL, &je);
    if (w == NULL || got == NULL) {
        return 0;
    }
    if (w->type == DDT_J_NULL || got->type == DDT_J_NULL) {
        return w->type == got->type;
    }
    return ddt_json_equal(got, w);
}

static void
expect(const char *expr, const char *want, const char *tz, int64_t now,
    int line)
{
    int               ok;
    const ddt_json_t *r;
    ddt_buf_t         b;

    r = eval_in(expr, tz, now, &ok);
    if (!ok) {
        CHECK_MSG(0, "line %d: %s does not compile", line, expr);
        return;
    }
    ddt_buf_init(&b);
    ddt_json_write(&b, r);
    CHECK_MSG(same(r, want), "line %d: %s = %s, want %s", line, expr,
              b.data ? b.data : "?", want);
    ddt_buf_free(&b);
}

#define E(expr, want) expect(expr, want, "Europe/Rome", NOW_MS, __LINE__)


static void
test_table(void)
{
    /* literals and arithmetic */
    E("1 + 2 * 3", "7");
    E("(1 + 2) * 3", "9");
    E("7 % 3", "1");
    E("7 / 2", "3.5");
    E("-n + 1", "-4");
    E("1.5e2", "150");
    E("\"a\" + \"b\"", "\"ab\"");
    E("brand + \"!\"", "\"ACME!\"");
    E("'single'", "\"single\"");
    E("\"esc\\\"aped\"", "\"esc\\\"aped\"");
    /* null semantics */
    E("x", "null");
    E("x.y", "null");
    E("x + 1", "null");
    E("n + x", "null");
    E("-x", "null");
    E("n / z", "null");
    E("n % z", "null");
    E("\"a\" + 1", "null");
    E("x == null", "true");
    E("x.y.z == null", "true");
    E("null == null", "true");
    E("n != null", "true");
    E("x != null", "false");
    E("x < 1", "false");
    E("x >= 1", "false");
    E("x > x", "false");
    E("!x", "true");
    E("x && true", "false");
    E("x || true", "true");
    /* equality by value */
    E("1 == 1.0", "true");
    E("\"1\" == 1", "false");
    E("\"1\" != 1", "true");
    E("obj == obj", "true");
    E("d1 == c.born", "true");
    E("arr == arr", "true");
    /* ordering */
    E("2 < 10", "true");
    E("\"2\" < \"10\"", "false");
    E("\"abc\" < \"abd\"", "true");
    E("\"ab\" < \"abc\"", "true");
    E("\"é\" > \"z\"", "true");
    E("\"1\" < 2", "false");
    E("yes < no", "false");
    /* dates and times */
    E("c.born.year <= 2008", "true");
    E("d1 < d2", "true");
    E("d2 <= today()", "true");
    E("d2 == today()", "true");
    E("d2 >= today()", "true");
    E("d1 > today()", "false");
    E("today() > d1", "true");
    E("today().year - d1.year", "46");
    E("(d1).month", "3");
    E("dp < d2", "false");
    E("dp >= d2", "false");
    E("t1 < t2", "true");
    E("t2 > t1", "true");
    E("t1 < d1", "false");
    E("today()", "{\"day\":26,\"month\":11,\"year\":2026}");
    E("now()", "{\"day\":26,\"month\":11,\"year\":2026,\"hour\":13,\"minute\":0}");
    E("now() > today()", "false");
    E("now() >= d2", "true");
    E("age(d1)", "46");
    E("age(bday)", "25");
    E("age(dp)", "null");
    E("age(n)", "null");
    /* logic: only true is true */
    E("yes && n", "false");
    E("n || no", "false");
    E("!n", "true");
    E("!yes", "false");
    E("yes && !no", "true");
    E("no || yes", "true");
    E("n > 1 && n < 10", "true");
    E("brand == \"ACME\" || x.y.z", "true");
    /* in */
    E("n in [1, 5, 9]", "true");
    E("n in [1, 2]", "false");
    E("brand in [\"ACME\", \"X\"]", "true");
    E("x in [1, null]", "true");
    E("x in []", "false");
    E("\"5\" in [5]", "false");
    /* functions */
    E("exists(brand)", "true");
    E("exists(x)", "false");
    E("exists(c.name)", "true");
    E("exists(c.born.day)", "true");
    E("len(brand)", "4");
    E("len(up)", "6");
    E("len(arr)", "3");
    E("len(obj)", "2");
    E("len(n)", "null");
    E("lower(brand)", "\"acme\"");
    E("upper(up)", "\"È COSÌ\"");
    E("lower(up)", "\"è così\"");
    E("upper(n)", "null");
    E("matches(brand, \"^AC\")", "true");
    E("matches(brand, \"me$\")", "false");
    E("matches(s, \"ia\")", "true");
    E("matches(n, \"5\")", "null");
    E("matches(up, \"^.\\\\s\")", "true");
    /* paths: nested, DDT metadata */
    E("obj.b.c", "\"deep\"");
    E("c.$status", "\"ok\"");
    E("c.born.$confidence", "0.9");
    E("c.born.$layer", "\"parser\"");
    E("c.born.day.$confidence", "0.5");
    E("c.name.$confidence", "null");
    E("$backend.status", "null");
    /* constant folding keeps the semantics */
    E("1 / 0", "null");
    E("null < 1", "false");
    E("true && 1", "false");
    E("(1 + 1 == 2) && yes", "true");
}


static void
test_timezones(void)
{
    /* 2026-03-29 00:30 UTC: Rome still in winter time (01:30); 01:30 UTC:
     * summer time (03:30) */
    expect("now().hour", "1", "Europe/Rome", 1774744200000LL, __LINE__);
    expect("now().hour", "3", "Europe/Rome", 1774747800000LL, __LINE__);
    expect("now().hour", "2", "Europe/London", 1774747800000LL, __LINE__);
    /* 2026-10-25 00:59 UTC summer, 01:00 UTC winter */
    expect("now().hour", "2", "Europe/Berlin", 1792889940000LL, __LINE__);
    expect("now().hour", "2", "Europe/Paris", 1792890000000LL, __LINE__);
    /* New York: 2026-03-08 06:59 UTC is 01:59 EST, 07:00 UTC is 03:00 EDT */
    expect("now().hour", "1", "America/New_York", 1772953140000LL, __LINE__);
    expect("now().hour", "3", "America/New_York", 1772953200000LL, __LINE__);
    /* 2026-11-01 05:59 UTC is 01:59 EDT, 06:00 UTC is 01:00 EST */
    expect("now().minute", "59", "America/New_York", 1793512740000LL, __LINE__);
    expect("now().hour", "1", "America/New_York", 1793512800000LL, __LINE__);
    /* Phoenix has no DST; Los Angeles in July is UTC-7 */
    expect("now().hour", "5", "America/Phoenix", NOW_MS, __LINE__);
    expect("now().hour", "4", "America/Los_Angeles", NOW_MS, __LINE__);
    /* today() in the zone: 2026-11-27 03:00 UTC is still the 26th in NY */
    expect("today().day", "26", "America/New_York", NOW_MS + 15 * 3600000LL,
           __LINE__);
    expect("today().day", "27", "Europe/Rome", NOW_MS + 15 * 3600000LL,
           __LINE__);
    expect("today()", "{\"day\":1,\"month\":1,\"year\":2027}", "UTC",
           1798761600000LL, __LINE__);
    CHECK(ddt_tz_known("Europe/Lisbon"));
    CHECK(ddt_tz_known("Europe/Dublin"));
    CHECK(ddt_tz_known("Europe/Madrid"));
    CHECK(ddt_tz_known("America/Chicago"));
    CHECK(ddt_tz_known("America/Denver"));
    CHECK(!ddt_tz_known("Mars/Olympus"));
    CHECK(!ddt_tz_known(""));
}


static ddt_json_t *
js(const char *s)
{
    ddt_jerr_t  je;

    return ddt_json_parse(&arena, s, strlen(s), NULL, &je);
}


/* `value` and value.<part> inside validate rules */
static void
test_value(void)
{
    const char *src =
        "{\"format\":\"ddt-project/1\",\"name\":\"v\",\"flow\":{\"start\":\"a\","
        "\"nodes\":[{\"id\":\"a\",\"tasks\":[]}]},\"ddts\":{\"c\":{\"data\":["
        "{\"id\":\"born\",\"kind\":\"date\",\"steps\":{\"start\":[\"?\"]},"
        "\"validate\":[{\"condition\":\"value <= today()\"},"
        "{\"condition\":\"value.year >= 1900\",\"sub\":\"year\"},"
        "{\"condition\":\"age(value) >= 18\"}]}]}}}";
    ddt_diags_t      d;
    uint8_t         *block;
    size_t           len;
    ddt_project_t   *p;
    ddt_eval_ctx_t   ctx;
    const ddt_bvalidate_t *v;
    char             err[100];

    ddt_diags_init(&d);
    CHECK(ddt_compile(src, strlen(src), &d, &block, &len) == DDT_OK);
    ddt_diags_free(&d);
    if (block == NULL || ddt_project_load(block, len, &p, err, sizeof(err))
        != DDT_OK)
    {
        CHECK(0);
        free(block);
        return;
    }
    v = &p->validates[p->items[0].validates.first];
    memset(&ctx, 0, sizeof(ctx));
    ctx.memory = memory;
    ctx.now_ms = NOW_MS;
    ctx.arena = &arena;
    ctx.value = js("{\"day\":12,\"month\":3,\"year\":1980}");
    CHECK(ddt_expr_true(p, v[0].cond, &ctx));
    CHECK(ddt_expr_true(p, v[1].cond, &ctx));
    CHECK(ddt_expr_true(p, v[2].cond, &ctx));
    ctx.value = js("{\"day\":12,\"month\":3,\"year\":2030}");
    CHECK(!ddt_expr_true(p, v[0].cond, &ctx));
    CHECK(!ddt_expr_true(p, v[2].cond, &ctx));
    ctx.value = js("{\"day\":12,\"month\":3,\"year\":1800}");
    CHECK(!ddt_expr_true(p, v[1].cond, &ctx));
    /* no value: null, so the rule fails (not exactly true) */
    ctx.value = NULL;
    CHECK(!ddt_expr_true(p, v[0].cond, &ctx));
    CHECK(ddt_expr_eval(p, v[1].cond, &ctx)->type == DDT_J_BOOL);
    /* out-of-range expression index: null, no crash */
    CHECK(ddt_expr_eval(p, 999, &ctx)->type == DDT_J_NULL);
    ddt_project_free(p);
    free(block);
}


/* memory paths: dotted get/set, intermediate objects, $meta reads */
static void
test_memory(void)
{
    ddt_json_t        *m;
    const ddt_json_t  *v;
    const char        *segs[4] = { "c", "born", "day", "$confidence" };
    size_t             lens[4] = { 1, 4, 3, 11 };

    m = js("{\"a\":1}");
    CHECK(ddt_mem_set_dotted(&arena, m, "x.y.z", 5, ddt_json_num(&arena, 7))
          == DDT_OK);
    v = ddt_mem_get_dotted(m, "x.y.z", 5);
    CHECK(v != NULL && v->type == DDT_J_NUM && v->u.n == 7);
    /* a non-object on the way is replaced */
    CHECK(ddt_mem_set_dotted(&arena, m, "a.b", 3, ddt_json_bool(&arena, 1))
          == DDT_OK);
    v = ddt_mem_get_dotted(m, "a.b", 3);
    CHECK(v != NULL && v->type == DDT_J_BOOL);
    CHECK(ddt_mem_get_dotted(m, "a..b", 4) == NULL);
    CHECK(ddt_mem_get_dotted(m, "nope", 4) == NULL);
    CHECK(ddt_mem_set_dotted(&arena, m, "", 0, NULL) == DDT_ERROR);
    /* d.n.s.$confidence reads d.$meta.n.sub.s.confidence */
    v = ddt_mem_get_segs(memory, segs, lens, 4);
    CHECK(v != NULL && v->type == DDT_J_NUM && v->u.n == 0.5);
    v = ddt_mem_get_segs(memory, segs, lens, 2);
    CHECK(v != NULL && v->type == DDT_J_OBJ);
    segs[2] = "$layer";
    lens[2] = 6;
    v = ddt_mem_get_segs(memory, segs, lens, 3);
    CHECK(v != NULL && v->type == DDT_J_STR && strcmp(v->u.str.s, "parser") == 0);
}


int
main(void)
{
    ddt_jerr_t  je;

    ddt_arena_init(&arena, 0);
    memory = ddt_json_parse(&arena, MEMORY, strlen(MEMORY), NULL, &je);
    if (memory == NULL) {
        fprintf(stderr, "memory: %s\n", je.message);
        return 1;
    }
    test_table();
    test_timezones();
    test_value();
    test_memory();
    ddt_arena_free(&arena);
    return T_DONE();
}
