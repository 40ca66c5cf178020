
/*
 * ngx_http_ddt_metrics.c: counters in the shared zone and the Prometheus
 * text exposition served by `ddt_metrics`.  Workers add with atomic adds;
 * the gauges (sessions, zone usage, loads) are read under the mutex.
 */

#include "ngx_http_ddt_zone.h"
#include "ngx_http_ddt_store.h"


static const ngx_msec_int_t  ngx_http_ddt_lat_bounds_us[] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
    1000000
};

static const char  *ngx_http_ddt_lat_bounds_text[] = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
    "0.025", "0.05", "0.1", "0.25", "1"
};

static const char  *ngx_http_ddt_metric_errs[] = {
    "bad_json", "bad_input", "session_not_found", "project_not_found",
    "not_found", "method_not_allowed", "conflict", "session_exists",
    "session_closed", "session_expired", "project_version_gone",
    "body_too_large", "unsupported_media_type", "invalid_project",
    "turn_id_reused", "store_unavailable", "internal", "other"
};

static const char  *ngx_http_ddt_metric_status[] = {
    "waiting", "ended", "transferred", "error"
};

static const char  *ngx_http_ddt_metric_kind[] = {
    "create", "turn"
};


void
ngx_http_ddt_metrics_add(ngx_http_ddt_main_conf_t *mcf, ngx_atomic_t *counter,
    ngx_atomic_int_t n)
{
    (void) ngx_atomic_fetch_add(counter, n);
}


void
ngx_http_ddt_metrics_error(ngx_http_ddt_main_conf_t *mcf, ngx_uint_t code)
{
    if (code >= NGX_HTTP_DDT_E_COUNT) {
        code = NGX_HTTP_DDT_E_OTHER;
    }

    (void) ngx_atomic_fetch_add(&mcf->sh->counters.errors[code], 1);
}


void
ngx_http_ddt_metrics_turn(ngx_http_ddt_main_conf_t *mcf, ngx_uint_t kind,
    ddt_status_t status, struct timespec *started)
{
    ngx_uint_t                i;
    ngx_msec_int_t            us;
    struct timespec           now;
    ngx_http_ddt_counters_t  *c;

    c = &mcf->sh->counters;

    if ((ngx_uint_t) status < DDT_STATUS_RUNNING && kind < 2) {
        (void) ngx_atomic_fetch_add(&c->turns[kind][status], 1);
    }

    clock_gettime(CLOCK_MONOTONIC, &now);

    us = (now.tv_sec - started->tv_sec) * 1000000
         + (now.tv_nsec - started->tv_nsec) / 1000;

    if (us < 0) {
        us = 0;
    }

    for (i = 0; i < NGX_HTTP_DDT_LAT_BUCKETS; i++) {
        if (us <= ngx_http_ddt_lat_bounds_us[i]) {
            break;
        }
    }

    /* one bucket per observation; the exposition makes them cumulative */
    (void) ngx_atomic_fetch_add(&c->lat_bucket[i], 1);
    (void) ngx_atomic_fetch_add(&c->lat_sum_us, us);
    (void) ngx_atomic_fetch_add(&c->lat_count, 1);
}


#define ngx_http_ddt_help(p, name, type, help)                                \
    p = ngx_sprintf(p, "# HELP " name " " help "\n# TYPE " name " " type "\n")


ngx_int_t
ngx_http_ddt_metrics_render(ngx_http_ddt_main_conf_t *mcf, ngx_pool_t *pool,
    ngx_str_t *out)
{
    u_char                   *p;
    size_t                    used, total;
    ngx_uint_t                i, k, nsessions, nloads, cum;
    ngx_http_ddt_counters_t  *c;

    c = &mcf->sh->counters;

    p = ngx_pnalloc(pool, 8192);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    ngx_shmtx_lock(&mcf->shpool->mutex);
    nsessions = mcf->store->count(mcf);
    nloads = mcf->sh->nloads;
    used = ngx_http_ddt_zone_used(mcf, &total);
    ngx_shmtx_unlock(&mcf->shpool->mutex);

    ngx_http_ddt_help(p, "ddt_turns_total", "counter",
                      "Turns answered (session creation or turn), by the "
                      "session status they left.");

    for (k = 0; k < 2; k++) {
        for (i = 0; i < DDT_STATUS_RUNNING; i++) {
            p = ngx_sprintf(p, "ddt_turns_total{kind=\"%s\",status=\"%s\"} "
                            "%uA\n", ngx_http_ddt_metric_kind[k],
                            ngx_http_ddt_metric_status[i], c->turns[k][i]);
        }
    }

    ngx_http_ddt_help(p, "ddt_turn_replays_total", "counter",
                      "Turns answered from a stored response (turnId).");
    p = ngx_sprintf(p, "ddt_turn_replays_total %uA\n", c->replays);

    ngx_http_ddt_help(p, "ddt_turn_duration_seconds", "histogram",
                      "Time to answer a turn or a session creation, store "
                      "included.");

    cum = 0;

    for (i = 0; i < NGX_HTTP_DDT_LAT_BUCKETS; i++) {
        cum += c->lat_bucket[i];
        p = ngx_sprintf(p, "ddt_turn_duration_seconds_bucket{le=\"%s\"} %ui\n",
                        ngx_http_ddt_lat_bounds_text[i], cum);
    }

    cum += c->lat_bucket[NGX_HTTP_DDT_LAT_BUCKETS];
    p = ngx_sprintf(p, "ddt_turn_duration_seconds_bucket{le=\"+Inf\"} %ui\n"
                    "ddt_turn_duration_seconds_sum %uA.%06uA\n"
                    "ddt_turn_duration_seconds_count %uA\n",
                    cum, c->lat_sum_us / 1000000, c->lat_sum_us % 1000000,
                    c->lat_count);

    ngx_http_ddt_help(p, "ddt_sessions", "gauge",
                      "Sessions kept in the embedded store.");
    p = ngx_sprintf(p, "ddt_sessions %ui\n", nsessions);

    ngx_http_ddt_help(p, "ddt_sessions_created_total", "counter",
                      "Sessions created.");
    p = ngx_sprintf(p, "ddt_sessions_created_total %uA\n",
                    c->sessions_created);

    ngx_http_ddt_help(p, "ddt_sessions_deleted_total", "counter",
                      "Sessions deleted by DELETE.");
    p = ngx_sprintf(p, "ddt_sessions_deleted_total %uA\n",
                    c->sessions_deleted);

    ngx_http_ddt_help(p, "ddt_sessions_expired_total", "counter",
                      "Sessions dropped after ddt_session_timeout.");
    p = ngx_sprintf(p, "ddt_sessions_expired_total %uA\n",
                    c->sessions_expired);

    ngx_http_ddt_help(p, "ddt_sessions_evicted_total", "counter",
                      "Sessions evicted (least recently used) because the "
                      "zone was full.");
    p = ngx_sprintf(p, "ddt_sessions_evicted_total %uA\n", c->evictions);

    ngx_http_ddt_help(p, "ddt_session_locks_broken_total", "counter",
                      "Session locks broken because their owner died or "
                      "held them too long.");
    p = ngx_sprintf(p, "ddt_session_locks_broken_total %uA\n",
                    c->stale_locks);

    ngx_http_ddt_help(p, "ddt_zone_used_bytes", "gauge",
                      "Bytes of the shared zone in use.");
    p = ngx_sprintf(p, "ddt_zone_used_bytes %uz\n", used);

    ngx_http_ddt_help(p, "ddt_zone_size_bytes", "gauge",
                      "Size of the shared zone (ddt_zone_size).");
    p = ngx_sprintf(p, "ddt_zone_size_bytes %uz\n", total);

    ngx_http_ddt_help(p, "ddt_zone_alloc_failures_total", "counter",
                      "Allocations that failed even after evicting.");
    p = ngx_sprintf(p, "ddt_zone_alloc_failures_total %uA\n",
                    c->alloc_failures);

    ngx_http_ddt_help(p, "ddt_effects_total", "counter",
                      "Host effects (BackendCall, ner, llm) asked for.");
    p = ngx_sprintf(p, "ddt_effects_total %uA\n", c->effects);

    ngx_http_ddt_help(p, "ddt_project_loads", "gauge",
                      "Project loads in the shared zone (current and "
                      "superseded).");
    p = ngx_sprintf(p, "ddt_project_loads %ui\n", nloads);

    ngx_http_ddt_help(p, "ddt_project_publishes_total", "counter",
                      "Project loads made current (configuration or PUT).");
    p = ngx_sprintf(p, "ddt_project_publishes_total %uA\n",
                    c->project_publishes);

    ngx_http_ddt_help(p, "ddt_errors_total", "counter",
                      "Error replies, by error code.");

    for (i = 0; i < NGX_HTTP_DDT_E_COUNT; i++) {
        p = ngx_sprintf(p, "ddt_errors_total{code=\"%s\"} %uA\n",
                        ngx_http_ddt_metric_errs[i], c->errors[i]);
    }

    ngx_http_ddt_help(p, "ddt_store_errors_total", "counter",
                      "Session store failures (answered 503).");
    p = ngx_sprintf(p, "ddt_store_errors_total %uA\n",
                    c->errors[NGX_HTTP_DDT_E_STORE_UNAVAILABLE]);

    out->len = p - out->data;

    return NGX_OK;
}
