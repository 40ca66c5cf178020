/*
 * fuzz_block.c: libFuzzer target for the block loader against blocks that
 * were corrupted before their checksum was computed (the checksum only
 * catches accidents): the input is a block, its checksum is recomputed,
 * and the load must either fail with a message or give a view whose every
 * expression, template and path can be used, and on which a session runs a
 * few turns.  Seeds are compiled blocks.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <ddt/ddt.h>
#include "runtime.h"

/* The orchestrator and the engine on a view the loader accepted. */
static void
run_session(const ddt_project_t *p, ddt_arena_t *a)
{
    static const char   *turns[] = {
        "{\"text\":\"12 marzo 1980\"}", "{\"text\":\"sì\"}",
        "{\"event\":\"noInput\"}", "{\"dtmf\":\"1\"}",
        "{\"text\":\"Mario Rossi\"}", "{\"event\":\"noMatch\"}",
    };
    ddt_session_opts_t   o;
    ddt_session_t       *s = NULL;
    ddt_turn_result_t    r;
    ddt_err_t            err;
    ddt_input_t          in;
    ddt_effect_result_t  er;
    size_t               i;
    int                  guard;

    memset(&o, 0, sizeof(o));
    o.session_id = "fuzz-block-0001";
    o.now_ms = 1795694400000LL;
    ddt_turn_result_init(&r);
    if (ddt_session_create(p, &o, &s, &r, &err) != DDT_OK) {
        ddt_turn_result_free(&r);
        return;
    }
    for (i = 0; i < sizeof(turns) / sizeof(turns[0]); i++) {
        guard = 0;
        while (r.need_effect && guard++ < 8) {
            memset(&er, 0, sizeof(er));
            er.status = 200;
            er.body = "{\"id\":1}";
            er.body_len = 8;
            ddt_turn_result_free(&r);
            ddt_turn_result_init(&r);
            if (ddt_turn_resume(p, s, &er, &r, &err) != DDT_OK) {
                break;
            }
        }
        if (r.need_effect || ddt_session_status(s) != DDT_STATUS_WAITING) {
            break;
        }
        if (ddt_input_parse(a, turns[i], strlen(turns[i]), &in, &err)
            != DDT_OK)
        {
            continue;
        }
        ddt_turn_result_free(&r);
        ddt_turn_result_init(&r);
        ddt_turn(p, s, &in, o.now_ms, &r, &err);
    }
    ddt_turn_result_free(&r);
    ddt_session_free(s);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t         *b;
    ddt_bheader_t    h;
    uint64_t         sum;
    size_t           i;
    ddt_project_t   *p;
    char             err[128];
    ddt_arena_t      a;
    ddt_eval_ctx_t   ctx;
    ddt_json_t      *mem;
    ddt_jerr_t       je;
    ddt_buf_t        out;

    if (size < sizeof(ddt_bheader_t) || size > (1 << 20)) {
        return 0;
    }
    b = malloc(size);
    if (b == NULL) {
        return 0;
    }
    memcpy(b, data, size);
    memcpy(&h, b, sizeof(h));
    h.size = (uint32_t) size;
    h.checksum = 0;
    memcpy(b, &h, sizeof(h));
    sum = 0xcbf29ce484222325ULL;
    for (i = 0; i < size; i++) {
        sum ^= b[i];
        sum *= 0x100000001b3ULL;
    }
    h.checksum = sum;
    memcpy(b, &h, sizeof(h));

    if (ddt_project_load(b, size, &p, err, sizeof(err)) != DDT_OK) {
        if (err[0] == '\0') {
            abort();
        }
        free(b);
        return 0;
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
        ddt_tmpl_render(p, (uint32_t) i, mem, DDT_LOCALE_IT, &out);
    }
    for (i = 0; i < p->n_paths; i++) {
        ddt_mem_get(p, mem, (uint32_t) i);
    }
    ddt_buf_free(&out);
    run_session(p, &a);
    ddt_arena_free(&a);
    ddt_project_free(p);
    free(b);
    return 0;
}
