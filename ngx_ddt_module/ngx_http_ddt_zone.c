
/*
 * ngx_http_ddt_zone.c: the shared zone "ddt": creation, init (fresh, or
 * reusing the old zone's data on `nginx -s reload` so loaded projects and
 * sessions survive), and slab allocation that evicts least recently used
 * sessions when the zone is full.  The layout is in ngx_http_ddt_zone.h.
 */

#include "ngx_http_ddt_zone.h"
#include "ngx_http_ddt_store.h"


static ngx_int_t ngx_http_ddt_zone_init(ngx_shm_zone_t *shm_zone,
    void *data);


/* how many sessions one allocation may evict before it gives up */
#define NGX_HTTP_DDT_EVICT_MAX  64


ngx_int_t
ngx_http_ddt_zone_add(ngx_conf_t *cf, ngx_http_ddt_main_conf_t *mcf)
{
    ngx_str_t  name = ngx_string("ddt");

    mcf->zone = ngx_shared_memory_add(cf, &name, mcf->zone_size,
                                      &ngx_http_ddt_module);
    if (mcf->zone == NULL) {
        return NGX_ERROR;
    }

    if (mcf->zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "ddt: shared zone \"ddt\" is already used");
        return NGX_ERROR;
    }

    mcf->zone->init = ngx_http_ddt_zone_init;
    mcf->zone->data = mcf;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ddt_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_ddt_main_conf_t  *omcf = data;

    ngx_http_ddt_main_conf_t  *mcf;
    ngx_http_ddt_sh_t         *sh;
    ngx_slab_pool_t           *shpool;

    mcf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (omcf) {

        /* reload: the old cycle's zone of the same size, data kept */

        mcf->shpool = omcf->shpool;
        mcf->sh = omcf->sh;

        if (mcf->sh == NULL || mcf->sh->magic != NGX_HTTP_DDT_ZONE_MAGIC) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "ddt: the shared zone's layout changed, "
                          "restart nginx instead of reloading it");
            return NGX_ERROR;
        }

        return ngx_http_ddt_project_publish_conf(mcf, omcf,
                                                 shm_zone->shm.log);
    }

    mcf->shpool = shpool;

    if (shm_zone->shm.exists) {
        mcf->sh = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_ddt_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = sh;
    mcf->sh = sh;

    ngx_http_ddt_store_embedded_init(sh);

    ngx_queue_init(&sh->loads);
    sh->nloads = 0;
    sh->next_seq = 1;
    sh->generation = 1;

    shpool->log_ctx = ngx_slab_alloc(shpool, sizeof(" in ddt zone \"\"")
                                             + shm_zone->shm.name.len);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in ddt zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* the allocation failures this module handles itself */
    shpool->log_nomem = 0;

    sh->magic = NGX_HTTP_DDT_ZONE_MAGIC;

    return ngx_http_ddt_project_publish_conf(mcf, NULL, shm_zone->shm.log);
}


/*
 * Allocate under the zone mutex; when the zone is full, evict least
 * recently used sessions one at a time and retry.  Logged once per burst
 * per worker; every eviction is counted in metrics.
 */

void *
ngx_http_ddt_zone_alloc_locked(ngx_http_ddt_main_conf_t *mcf, size_t size,
    ngx_log_t *log)
{
    void        *p;
    ngx_uint_t   i, evicted;

    static ngx_msec_t  last_logged;

    p = ngx_slab_alloc_locked(mcf->shpool, size);
    if (p != NULL) {
        return p;
    }

    evicted = 0;

    for (i = 0; i < NGX_HTTP_DDT_EVICT_MAX; i++) {

        if (ngx_http_ddt_store_embedded_evict_locked(mcf, log) == 0) {
            break;
        }

        evicted++;

        p = ngx_slab_alloc_locked(mcf->shpool, size);
        if (p != NULL) {
            break;
        }
    }

    if (evicted && (last_logged == 0 || ngx_current_msec - last_logged > 1000))
    {
        last_logged = ngx_current_msec;
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "ddt: shared zone is full, evicted %ui least recently "
                      "used session(s) to store %uz bytes", evicted, size);
    }

    if (p == NULL) {
        ngx_http_ddt_metrics_add(mcf, &mcf->sh->counters.alloc_failures, 1);
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "ddt: shared zone is full: cannot allocate %uz bytes "
                      "(raise ddt_zone_size)", size);
    }

    return p;
}


size_t
ngx_http_ddt_zone_used(ngx_http_ddt_main_conf_t *mcf, size_t *total)
{
    size_t            pages, free_pages;
    ngx_slab_pool_t  *pool;

    pool = mcf->shpool;

    pages = (pool->end - pool->start) / ngx_pagesize;
    free_pages = pool->pfree;

    *total = mcf->zone_size;

    return (pages - free_pages) * ngx_pagesize;
}
