
/*
 * ngx_http_ddt_effect.c: host effects (SPEC 7).  When a turn stops with
 * need_effect (a BackendCall, or an ner/llm extraction layer) the host
 * performs the effect and resumes the turn with its result.
 *
 * The seam: ngx_http_ddt_effect_run() may finish later.  Today it answers
 * every effect at once with {status 0, error "connect"} (what a transport
 * failure looks like to the core: BackendCall follows its onError, an
 * extraction layer yields no value) and logs it at info.  The subrequest
 * transport replaces ngx_http_ddt_effect_perform(): start a subrequest to
 * the configured location, return, and call ngx_http_ddt_effect_resume()
 * from its post-subrequest handler; the caller already copes with `done`
 * running after ngx_http_ddt_effect_run() returned.
 */

#include "ngx_http_ddt_module.h"
#include "ngx_http_ddt_zone.h"


/* effects one turn may ask for before the host gives up on it */
#define NGX_HTTP_DDT_EFFECTS_MAX  64


static const char *ngx_http_ddt_effect_purpose[] = {
    "BackendCall", "ner", "llm"
};


static void
ngx_http_ddt_effect_perform(ngx_http_ddt_ctx_t *ctx, ddt_effect_result_t *er)
{
    const ddt_effect_t  *e;

    e = &ctx->result.effect;

    ngx_log_error(NGX_LOG_INFO, ctx->r->connection->log, 0,
                  "ddt: effect %s %s \"%s\" not performed (no effect "
                  "transport configured): resumed with error \"connect\"",
                  e->purpose <= DDT_EFFECT_FOR_LLM
                  ? ngx_http_ddt_effect_purpose[e->purpose] : "?",
                  e->method ? e->method : "-", e->url ? e->url : "-");

    ngx_http_ddt_metrics_add(ctx->mcf, &ctx->mcf->sh->counters.effects, 1);

    er->status = 0;
    er->error = "connect";
    er->body = NULL;
    er->body_len = 0;
}


void
ngx_http_ddt_effect_run(ngx_http_ddt_ctx_t *ctx,
    ngx_http_ddt_effect_done_pt done)
{
    ddt_err_t            err;
    ngx_uint_t           n;
    ddt_effect_result_t  er;

    for (n = 0; ctx->result.need_effect; n++) {

        if (n == NGX_HTTP_DDT_EFFECTS_MAX) {
            ngx_memzero(&err, sizeof(ddt_err_t));
            err.http = NGX_HTTP_INTERNAL_SERVER_ERROR;
            err.code = "internal";
            ngx_cpystrn((u_char *) err.message,
                        (u_char *) "too many effects in one turn",
                        sizeof(err.message));
            done(ctx, NGX_ERROR, &err);
            return;
        }

        ngx_http_ddt_effect_perform(ctx, &er);

        ngx_memzero(&err, sizeof(ddt_err_t));

        if (ddt_turn_resume(ctx->project, ctx->session, &er, &ctx->result,
                            &err)
            != DDT_OK)
        {
            done(ctx, NGX_ERROR, &err);
            return;
        }
    }

    done(ctx, NGX_OK, NULL);
}
