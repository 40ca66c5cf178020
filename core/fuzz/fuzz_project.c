/*
 * fuzz_project.c: libFuzzer target for the project compiler and the block
 * loader: any bytes either compile or give diagnostics (never a crash); a
 * block that compiles loads, compiles the same bytes again (determinism),
 * and its expressions, templates and paths can all be used.
 */
#include <stdlib.h>
#include <string.h>

#include <ddt/ddt.h>
#include "runtime.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ddt_diags_t      d;
    uint8_t         *b, *b2;
    size_t           len, len2, i;
    ddt_project_t   *p;
    char             err[128];
    ddt_arena_t      a;
    ddt_eval_ctx_t   ctx;
    ddt_json_t      *mem;
    ddt_jerr_t       je;
    ddt_buf_t        out;

    ddt_diags_init(&d);
    if (ddt_compile((const char *) data, size, &d, &b, &len) != DDT_OK) {
        if (d.errors == 0) {
            abort();                   /* a failure always says why */
        }
        ddt_diags_free(&d);
        return 0;
    }
    ddt_diags_free(&d);

    ddt_diags_init(&d);
    if (ddt_compile((const char *) data, size, &d, &b2, &len2) != DDT_OK
        || len2 != len || memcmp(b, b2, len) != 0)
    {
        abort();                       /* not deterministic */
    }
    free(b2);
    ddt_diags_free(&d);

    if (ddt_project_load(b, len, &p, err, sizeof(err)) != DDT_OK) {
        abort();                       /* what compiles must load */
    }
    ddt_arena_init(&a, 0);
    mem = ddt_json_parse(&a, ddt_bs(p, p->hdr->variables),
                         p->hdr->variables.len, NULL, &je);
    memset(&ctx, 0, sizeof(ctx));
    ctx.memory = mem;
    ctx.value = mem;
    ctx.now_ms = 1795694400000LL;
    ctx.arena = &a;
    for (i = 0; i < p->n_exprs; i++) {
        ddt_expr_eval(p, (uint32_t) i, &ctx);
    }
    ddt_buf_init(&out);
    for (i = 0; i < p->n_tmpls; i++) {
        ddt_tmpl_render(p, (uint32_t) i, mem, (ddt_locale_t) p->hdr->locale,
                        &out);
    }
    for (i = 0; i < p->n_paths; i++) {
        ddt_mem_get(p, mem, (uint32_t) i);
    }
    ddt_buf_free(&out);
    ddt_arena_free(&a);
    ddt_project_free(p);
    free(b);
    return 0;
}
