/*
 * fuzz_expr.c: libFuzzer target for expressions: the input is one
 * expression, put in a SetVariable of a small project (as a JSON string)
 * and in a validate rule; it compiles or gives an error with a column, and
 * what compiles evaluates over a fixed memory to some value (runtime errors
 * give null, never a crash).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ddt/ddt.h>
#include "runtime.h"

#define MEM "{\"n\":5,\"s\":\"Ciao\",\"x\":null,\"arr\":[1,2]," \
    "\"d\":{\"day\":12,\"month\":3,\"year\":1980}," \
    "\"c\":{\"born\":{\"day\":1,\"month\":2,\"year\":2000},\"name\":\"Mario\"," \
    "\"$status\":\"ok\",\"$meta\":{\"born\":{\"confidence\":1}}}}"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ddt_buf_t        src;
    ddt_diags_t      d;
    uint8_t         *b;
    size_t           len, i;
    ddt_project_t   *p;
    char             err[128];
    ddt_arena_t      a;
    ddt_eval_ctx_t   ctx;
    ddt_jerr_t       je;
    const ddt_json_t *r;

    if (size > 65536 || !ddt_utf8_valid((const char *) data, size)) {
        return 0;                      /* a project is UTF-8 JSON */
    }
    ddt_buf_init(&src);
    ddt_buf_adds(&src, "{\"format\":\"ddt-project/1\",\"name\":\"f\","
                 "\"variables\":{\"n\":5,\"s\":\"\",\"x\":null,\"arr\":[],"
                 "\"d\":null},\"flow\":{\"start\":\"a\",\"nodes\":[{\"id\":\"a\","
                 "\"tasks\":[{\"type\":\"SetVariable\",\"name\":\"v\","
                 "\"value\":");
    ddt_json_write_str(&src, (const char *) data, size);
    ddt_buf_adds(&src, "}]}]},\"ddts\":{\"c\":{\"data\":[{\"id\":\"name\","
                 "\"steps\":{\"start\":[\"?\"]}},{\"id\":\"born\",\"kind\":"
                 "\"date\",\"steps\":{\"start\":[\"?\"]},\"validate\":"
                 "[{\"condition\":");
    ddt_json_write_str(&src, (const char *) data, size);
    ddt_buf_adds(&src, "}]}]}}}");

    ddt_diags_init(&d);
    if (ddt_compile(src.data, src.len, &d, &b, &len) != DDT_OK) {
        for (i = 0; i < d.n; i++) {
            if (strstr(d.items[i].path, "value") == NULL
                && strstr(d.items[i].path, "condition") == NULL)
            {
                abort();              /* only the expression can be wrong */
            }
        }
        ddt_diags_free(&d);
        ddt_buf_free(&src);
        return 0;
    }
    ddt_diags_free(&d);
    ddt_buf_free(&src);
    if (ddt_project_load(b, len, &p, err, sizeof(err)) != DDT_OK) {
        abort();
    }
    ddt_arena_init(&a, 0);
    memset(&ctx, 0, sizeof(ctx));
    ctx.memory = ddt_json_parse(&a, MEM, strlen(MEM), NULL, &je);
    ctx.value = ddt_json_getz(ddt_json_getz(ctx.memory, "c"), "born");
    ctx.now_ms = 1795694400000LL;
    ctx.arena = &a;
    for (i = 0; i < p->n_exprs; i++) {
        r = ddt_expr_eval(p, (uint32_t) i, &ctx);
        if (r == NULL) {
            abort();
        }
    }
    ddt_arena_free(&a);
    ddt_project_free(p);
    free(b);
    return 0;
}
