/*
 * test_tmpl.c: templates (SPEC 2, 9.6): {path} replaced by the memory value
 * formatted by its kind and the locale, {{ and }} literal braces, missing or
 * null values render empty; free JSON with templates (BackendCall body,
 * Custom params): a string that is exactly one {path} becomes the typed
 * value, other strings interpolate.
 */
#include <stdlib.h>

#include <ddt/ddt.h>
#include "runtime.h"
#include "t.h"

static const char *project =
    "{\"format\":\"ddt-project/1\",\"name\":\"t\",\"variables\":{\"brand\":\"ACME\","
    "\"n\":2.5,\"o\":{\"a\":[1,2]},\"none\":null},"
    "\"flow\":{\"start\":\"a\",\"nodes\":[{\"id\":\"a\",\"tasks\":["
    "{\"type\":\"SayMessage\",\"text\":\"Benvenuto in {brand}.\"},"
    "{\"type\":\"SayMessage\",\"text\":\"{{brand}} = {brand}, }}{{\"},"
    "{\"type\":\"SayMessage\",\"text\":\"Nato il {c.born}, mese {c.m}, ore {c.t}.\"},"
    "{\"type\":\"SayMessage\",\"text\":\"[{none}][{c.name}][{o}][{n}]\"},"
    "{\"type\":\"SayMessage\",\"text\":\"{ brand }\"},"
    "{\"type\":\"SayMessage\",\"text\":\"\"}]}]},"
    "\"ddts\":{\"c\":{\"data\":[{\"id\":\"name\",\"steps\":{\"start\":[\"?\"]}},"
    "{\"id\":\"born\",\"kind\":\"date\",\"steps\":{\"start\":[\"?\"]}},"
    "{\"id\":\"m\",\"kind\":\"month\",\"steps\":{\"start\":[\"?\"]}},"
    "{\"id\":\"t\",\"kind\":\"time\",\"steps\":{\"start\":[\"?\"]}}]}}}";

static const char *memory =
    "{\"brand\":\"ACME\",\"n\":2.5,\"o\":{\"a\":[1,2]},\"none\":null,"
    "\"c\":{\"born\":{\"day\":12,\"month\":3,\"year\":1980},\"m\":3,"
    "\"t\":{\"hour\":15,\"minute\":30}}}";

static ddt_project_t  *p;
static ddt_arena_t     arena;
static ddt_json_t     *mem;

static void
expect(uint32_t task, ddt_locale_t loc, const char *want, int line)
{
    ddt_buf_t  b;

    ddt_buf_init(&b);
    CHECK(ddt_tmpl_render(p, p->tasks[task].text, mem, loc, &b) == DDT_OK);
    CHECK_MSG(strcmp(b.data ? b.data : "", want) == 0, "line %d: got \"%s\", "
              "want \"%s\"", line, b.data ? b.data : "", want);
    ddt_buf_free(&b);
}

static void
expect_json(const char *src, const char *want, int line)
{
    ddt_jerr_t   je;
    ddt_json_t  *in, *out, *w;
    ddt_buf_t    b;

    in = ddt_json_parse(&arena, src, strlen(src), NULL, &je);
    w = ddt_json_parse(&arena, want, strlen(want), NULL, &je);
    out = ddt_tmpl_render_json(&arena, in, mem, DDT_LOCALE_IT);
    ddt_buf_init(&b);
    ddt_json_write(&b, out);
    CHECK_MSG(out != NULL && w != NULL && ddt_json_equal(out, w),
              "line %d: got %s, want %s", line, b.data ? b.data : "?", want);
    ddt_buf_free(&b);
}

int
main(void)
{
    ddt_diags_t  d;
    uint8_t     *block;
    size_t       len, i;
    char         err[100];
    ddt_jerr_t   je;

    ddt_diags_init(&d);
    if (ddt_compile(project, strlen(project), &d, &block, &len) != DDT_OK) {
        for (i = 0; i < d.n; i++) {
            fprintf(stderr, "%s: %s\n", d.items[i].path, d.items[i].message);
        }
        CHECK(0);
        return T_DONE();
    }
    ddt_diags_free(&d);
    CHECK(ddt_project_load(block, len, &p, err, sizeof(err)) == DDT_OK);
    ddt_arena_init(&arena, 0);
    mem = ddt_json_parse(&arena, memory, strlen(memory), NULL, &je);

    expect(0, DDT_LOCALE_IT, "Benvenuto in ACME.", __LINE__);
    expect(1, DDT_LOCALE_IT, "{brand} = ACME, }{", __LINE__);
    expect(2, DDT_LOCALE_IT, "Nato il 12 marzo 1980, mese marzo, ore 15:30.",
           __LINE__);
    expect(2, DDT_LOCALE_EN, "Nato il March 12, 1980, mese March, "
           "ore 3:30 PM.", __LINE__);
    expect(3, DDT_LOCALE_IT, "[][][{\"a\":[1,2]}][2,5]", __LINE__);
    expect(3, DDT_LOCALE_EN, "[][][{\"a\":[1,2]}][2.5]", __LINE__);
    expect(4, DDT_LOCALE_IT, "ACME", __LINE__);
    expect(5, DDT_LOCALE_IT, "", __LINE__);
    /* a template that is exactly one path knows it */
    CHECK(p->tmpls[p->tasks[4].text].single_path != DDT_NONE);
    CHECK(p->tmpls[p->tasks[0].text].single_path == DDT_NONE);

    expect_json("{\"d\":\"{c.born}\",\"m\":\"{c.m}\",\"x\":\"{nothing}\"}",
                "{\"d\":{\"day\":12,\"month\":3,\"year\":1980},\"m\":3,"
                "\"x\":null}", __LINE__);
    expect_json("[\"a {brand} b\",\"{{lit}}\",1,true,null,{\"k\":[\"{n}\"]}]",
                "[\"a ACME b\",\"{lit}\",1,true,null,{\"k\":[2.5]}]", __LINE__);
    expect_json("\"{brand}{brand}\"", "\"ACMEACME\"", __LINE__);

    ddt_arena_free(&arena);
    ddt_project_free(p);
    free(block);
    return T_DONE();
}
