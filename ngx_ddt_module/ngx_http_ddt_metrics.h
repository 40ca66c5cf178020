
/*
 * ngx_http_ddt_metrics.h: the counters the module keeps in the shared zone
 * (every worker adds to them with atomic adds, no lock) and the Prometheus
 * text writer that reads them (ngx_http_ddt_metrics.c).
 */

#ifndef _NGX_HTTP_DDT_METRICS_H_INCLUDED_
#define _NGX_HTTP_DDT_METRICS_H_INCLUDED_


#include "ngx_http_ddt_module.h"


/* latency histogram upper bounds, in microseconds; +Inf is implicit */
#define NGX_HTTP_DDT_LAT_BUCKETS  12

#define NGX_HTTP_DDT_TURN_CREATE  0
#define NGX_HTTP_DDT_TURN_TURN    1


typedef struct {
    /* [create | turn][status] */
    ngx_atomic_t                turns[2][DDT_STATUS_RUNNING];
    ngx_atomic_t                replays;
    ngx_atomic_t                lat_bucket[NGX_HTTP_DDT_LAT_BUCKETS + 1];
    ngx_atomic_t                lat_sum_us;
    ngx_atomic_t                lat_count;
    ngx_atomic_t                sessions_created;
    ngx_atomic_t                sessions_deleted;
    ngx_atomic_t                sessions_expired;
    ngx_atomic_t                evictions;
    ngx_atomic_t                alloc_failures;
    ngx_atomic_t                stale_locks;
    ngx_atomic_t                effects;
    ngx_atomic_t                project_publishes;
    ngx_atomic_t                errors[NGX_HTTP_DDT_E_COUNT];
} ngx_http_ddt_counters_t;


void ngx_http_ddt_metrics_turn(ngx_http_ddt_main_conf_t *mcf,
    ngx_uint_t kind, ddt_status_t status, struct timespec *started);
void ngx_http_ddt_metrics_error(ngx_http_ddt_main_conf_t *mcf,
    ngx_uint_t code);
void ngx_http_ddt_metrics_add(ngx_http_ddt_main_conf_t *mcf,
    ngx_atomic_t *counter, ngx_atomic_int_t n);
ngx_int_t ngx_http_ddt_metrics_render(ngx_http_ddt_main_conf_t *mcf,
    ngx_pool_t *pool, ngx_str_t *out);


#endif /* _NGX_HTTP_DDT_METRICS_H_INCLUDED_ */
