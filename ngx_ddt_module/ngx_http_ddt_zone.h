
/*
 * ngx_http_ddt_zone.h: the layout of the one shared zone ("ddt") that
 * holds compiled projects, embedded sessions and metrics counters, and the
 * project registry that lives in it (ngx_http_ddt_project.c).  Everything
 * here is read and written under the slab pool's mutex unless a field says
 * it is atomic.
 */

#ifndef _NGX_HTTP_DDT_ZONE_H_INCLUDED_
#define _NGX_HTTP_DDT_ZONE_H_INCLUDED_


#include "ngx_http_ddt_module.h"
#include "ngx_http_ddt_metrics.h"


/* bumped whenever the layout below changes */
#define NGX_HTTP_DDT_ZONE_MAGIC   0x3144445aU


/*
 * One load of a project: the compiled block and its source, identified by
 * (name, checksum).  Sessions pin a load (refs); requests pin it while they
 * read the block in place (pins).  seq is never reused, so a worker's view
 * cache keyed by seq never mistakes a new load at a recycled address for
 * an old one.
 */
struct ngx_http_ddt_load_s {
    ngx_queue_t                 queue;          /* sh->loads, newest first */
    uint64_t                    seq;
    u_char                      name[NGX_HTTP_DDT_NAME_MAX + 1];
    size_t                      name_len;
    u_char                      checksum[17];
    u_char                     *label;
    size_t                      label_len;
    time_t                      loaded_at;
    ngx_uint_t                  current;
    ngx_uint_t                  refs;
    ngx_uint_t                  pins;
    u_char                     *block;
    size_t                      block_len;
    u_char                     *source;
    size_t                      source_len;
};


struct ngx_http_ddt_sh_s {
    uint32_t                    magic;

    /* sessions (ngx_http_ddt_store_embedded.c) */
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 lru;            /* newest write first */
    ngx_uint_t                  nsessions;

    /* projects (ngx_http_ddt_project.c) */
    ngx_queue_t                 loads;
    ngx_uint_t                  nloads;
    uint64_t                    next_seq;
    ngx_atomic_t                generation;     /* changes when loads do */

    ngx_http_ddt_counters_t     counters;       /* atomic adds */
};


/* ngx_http_ddt_zone.c */
ngx_int_t ngx_http_ddt_zone_add(ngx_conf_t *cf,
    ngx_http_ddt_main_conf_t *mcf);
void *ngx_http_ddt_zone_alloc_locked(ngx_http_ddt_main_conf_t *mcf,
    size_t size, ngx_log_t *log);
size_t ngx_http_ddt_zone_used(ngx_http_ddt_main_conf_t *mcf, size_t *total);

/* ngx_http_ddt_project.c */
typedef struct {
    u_char                     *block;          /* malloc'd by the core */
    size_t                      block_len;
    u_char                      checksum[17];
    ngx_str_t                   name;
    ngx_str_t                   label;
    ddt_diags_t                 diags;
} ngx_http_ddt_compiled_t;

ngx_int_t ngx_http_ddt_project_compile(u_char *src, size_t len,
    ngx_http_ddt_compiled_t *out, ngx_pool_t *pool, char *err,
    size_t errlen);
void ngx_http_ddt_project_compiled_free(ngx_http_ddt_compiled_t *c);

#define NGX_HTTP_DDT_PUBLISH_SAME     0        /* identical to current */
#define NGX_HTTP_DDT_PUBLISH_NEW      1        /* now current */

ngx_int_t ngx_http_ddt_project_publish_locked(ngx_http_ddt_main_conf_t *mcf,
    ngx_str_t *name, ngx_str_t *label, u_char *checksum, u_char *block,
    size_t block_len, u_char *source, size_t source_len,
    ngx_log_t *log);
ngx_int_t ngx_http_ddt_project_publish_conf(ngx_http_ddt_main_conf_t *mcf,
    ngx_http_ddt_main_conf_t *omcf, ngx_log_t *log);

ngx_http_ddt_load_t *ngx_http_ddt_project_acquire(
    ngx_http_ddt_main_conf_t *mcf, u_char *name, size_t name_len,
    const char *checksum);
void ngx_http_ddt_project_release(ngx_http_ddt_main_conf_t *mcf,
    ngx_http_ddt_load_t *load, ngx_uint_t viewed);
ddt_project_t *ngx_http_ddt_project_view(ngx_http_ddt_main_conf_t *mcf,
    ngx_http_ddt_load_t *load, ngx_log_t *log);
void ngx_http_ddt_project_unref_locked(ngx_http_ddt_main_conf_t *mcf,
    ngx_http_ddt_load_t *load);
void ngx_http_ddt_project_views_free(void);

ngx_int_t ngx_http_ddt_project_list_json(ngx_http_ddt_main_conf_t *mcf,
    ngx_pool_t *pool, ngx_str_t *out);
ngx_int_t ngx_http_ddt_project_get_json(ngx_http_ddt_main_conf_t *mcf,
    ngx_pool_t *pool, ngx_str_t *name, ngx_str_t *out);


#endif /* _NGX_HTTP_DDT_ZONE_H_INCLUDED_ */
