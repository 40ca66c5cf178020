
/*
 * ngx_http_ddt_project.c: the project registry in the shared zone.
 *
 * A load is a compiled block plus its source, identified by (name,
 * checksum); one load per name is current.  Publishing (configuration or
 * PUT) happens under the zone mutex, so every worker sees a new load at
 * once and no reload is needed.  A session pins the load it started on
 * (refs) and a request pins the load whose block it reads in place (pins);
 * a superseded load is freed once neither pins it and it is not among the
 * last NGX_HTTP_DDT_KEEP_LOADS loads of its name.
 *
 * Each worker keeps a small cache of ddt_project_t views (the core's
 * per-process index over a block, with its compiled regexes) keyed by the
 * load's seq, built on first use and dropped when the load is gone (or,
 * when the cache is full, the oldest one no request of the worker uses).
 */

#include "ngx_http_ddt_zone.h"


typedef struct {
    uint64_t                    seq;
    ddt_project_t              *view;
    ngx_uint_t                  busy;           /* requests of this process */
} ngx_http_ddt_view_t;


#define NGX_HTTP_DDT_VIEWS_MAX  64


static void ngx_http_ddt_project_gc_locked(ngx_http_ddt_main_conf_t *mcf,
    u_char *name, size_t name_len);
static void ngx_http_ddt_project_free_locked(ngx_http_ddt_main_conf_t *mcf,
    ngx_http_ddt_load_t *load);
static void ngx_http_ddt_project_views_sweep_locked(
    ngx_http_ddt_main_conf_t *mcf);


/* per process */
static ngx_http_ddt_view_t  ngx_http_ddt_views[NGX_HTTP_DDT_VIEWS_MAX];
static ngx_uint_t           ngx_http_ddt_nviews;
static ngx_atomic_uint_t    ngx_http_ddt_views_generation;
static ddt_project_t       *ngx_http_ddt_views_dead[NGX_HTTP_DDT_VIEWS_MAX];
static ngx_uint_t           ngx_http_ddt_ndead;


/*
 * Compile a project and check that its block loads; fills name, label and
 * checksum (copied into pool).  On NGX_ERROR out->diags holds the
 * compiler's errors, or err says why when there are none.
 */

ngx_int_t
ngx_http_ddt_project_compile(u_char *src, size_t len,
    ngx_http_ddt_compiled_t *out, ngx_pool_t *pool, char *err, size_t errlen)
{
    const char     *s;
    ddt_project_t  *view;

    ngx_memzero(out, sizeof(ngx_http_ddt_compiled_t));
    ddt_diags_init(&out->diags);
    err[0] = '\0';

    if (ddt_compile((const char *) src, len, &out->diags, &out->block,
                    &out->block_len)
        != DDT_OK || out->diags.errors > 0)
    {
        if (out->diags.errors == 0) {
            ngx_cpystrn((u_char *) err, (u_char *) "the compiler failed",
                        errlen);
        }

        return NGX_ERROR;
    }

    if (ddt_project_load(out->block, out->block_len, &view, err, errlen)
        != DDT_OK)
    {
        return NGX_ERROR;
    }

    ngx_memcpy(out->checksum, view->checksum_hex, 16);
    out->checksum[16] = '\0';

    s = ddt_bs(view, view->hdr->name);
    out->name.len = s ? ngx_strlen(s) : 0;
    out->name.data = ngx_pstrdup(pool, &(ngx_str_t) { out->name.len,
                                                      (u_char *) s });

    s = ddt_bs(view, view->hdr->label);
    out->label.len = s ? ngx_strlen(s) : 0;
    out->label.data = ngx_pstrdup(pool, &(ngx_str_t) { out->label.len,
                                                       (u_char *) s });

    ddt_project_free(view);

    if ((out->name.len && out->name.data == NULL)
        || (out->label.len && out->label.data == NULL))
    {
        ngx_cpystrn((u_char *) err, (u_char *) "out of memory", errlen);
        return NGX_ERROR;
    }

    if (out->name.len == 0 || out->name.len > NGX_HTTP_DDT_NAME_MAX) {
        ngx_cpystrn((u_char *) err, (u_char *) "the project has no valid name",
                    errlen);
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_ddt_project_compiled_free(ngx_http_ddt_compiled_t *c)
{
    if (c->block) {
        free(c->block);
        c->block = NULL;
    }

    ddt_diags_free(&c->diags);
}


static ngx_http_ddt_load_t *
ngx_http_ddt_project_find_locked(ngx_http_ddt_main_conf_t *mcf, u_char *name,
    size_t name_len, const char *checksum)
{
    ngx_queue_t          *q;
    ngx_http_ddt_load_t  *load;

    for (q = ngx_queue_head(&mcf->sh->loads);
         q != ngx_queue_sentinel(&mcf->sh->loads);
         q = ngx_queue_next(q))
    {
        load = ngx_queue_data(q, ngx_http_ddt_load_t, queue);

        if (load->name_len != name_len
            || ngx_memcmp(load->name, name, name_len) != 0)
        {
            continue;
        }

        if (checksum == NULL) {
            if (load->current) {
                return load;
            }

            continue;
        }

        if (ngx_strcmp(load->checksum, checksum) == 0) {
            return load;
        }
    }

    return NULL;
}


/*
 * Make (name, checksum) the current load of name.  Returns
 * NGX_HTTP_DDT_PUBLISH_SAME when it already was, NGX_HTTP_DDT_PUBLISH_NEW
 * when it now is (a superseded load of the same checksum is made current
 * again rather than copied), NGX_ERROR when the zone has no room.
 */

ngx_int_t
ngx_http_ddt_project_publish_locked(ngx_http_ddt_main_conf_t *mcf,
    ngx_str_t *name, ngx_str_t *label, u_char *checksum, u_char *block,
    size_t block_len, u_char *source, size_t source_len,
    ngx_log_t *log)
{
    ngx_http_ddt_sh_t    *sh;
    ngx_http_ddt_load_t  *load, *cur;

    sh = mcf->sh;

    cur = ngx_http_ddt_project_find_locked(mcf, name->data, name->len, NULL);

    if (cur && ngx_strcmp(cur->checksum, checksum) == 0) {
        return NGX_HTTP_DDT_PUBLISH_SAME;
    }

    load = ngx_http_ddt_project_find_locked(mcf, name->data, name->len,
                                            (const char *) checksum);

    if (load == NULL) {
        load = ngx_http_ddt_zone_alloc_locked(mcf, sizeof(ngx_http_ddt_load_t),
                                              log);
        if (load == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(load, sizeof(ngx_http_ddt_load_t));

        load->block = ngx_http_ddt_zone_alloc_locked(mcf, block_len, log);
        load->source = ngx_http_ddt_zone_alloc_locked(mcf, source_len + 1,
                                                      log);
        load->label = ngx_http_ddt_zone_alloc_locked(mcf, label->len + 1, log);

        if (load->block == NULL || load->source == NULL
            || load->label == NULL)
        {
            if (load->block) {
                ngx_slab_free_locked(mcf->shpool, load->block);
            }

            if (load->source) {
                ngx_slab_free_locked(mcf->shpool, load->source);
            }

            if (load->label) {
                ngx_slab_free_locked(mcf->shpool, load->label);
            }

            ngx_slab_free_locked(mcf->shpool, load);
            return NGX_ERROR;
        }

        ngx_memcpy(load->block, block, block_len);
        load->block_len = block_len;
        ngx_memcpy(load->source, source, source_len);
        load->source[source_len] = '\0';
        load->source_len = source_len;
        ngx_memcpy(load->label, label->data, label->len);
        load->label[label->len] = '\0';
        load->label_len = label->len;
        ngx_memcpy(load->name, name->data, name->len);
        load->name[name->len] = '\0';
        load->name_len = name->len;
        ngx_memcpy(load->checksum, checksum, 17);
        load->seq = sh->next_seq++;
        sh->nloads++;

    } else {
        ngx_queue_remove(&load->queue);
    }

    /* newest first: a load made current again counts as the newest */
    ngx_queue_insert_head(&sh->loads, &load->queue);

    load->loaded_at = ngx_time();
    load->current = 1;

    if (cur) {
        cur->current = 0;
    }

    ngx_atomic_fetch_add(&sh->generation, 1);
    ngx_atomic_fetch_add(&sh->counters.project_publishes, 1);

    ngx_http_ddt_project_gc_locked(mcf, name->data, name->len);

    return NGX_HTTP_DDT_PUBLISH_NEW;
}


/*
 * Zone init: publish the `ddt_project` files of this configuration.  At a
 * reload (omcf: the previous configuration) only a file whose compiled
 * content differs from what the previous configuration loaded for that
 * name is published, so projects PUT since stay current across reloads
 * that do not change their file.
 */

static ngx_uint_t
ngx_http_ddt_project_conf_unchanged(ngx_http_ddt_main_conf_t *omcf,
    ngx_http_ddt_conf_project_t *cp)
{
    ngx_uint_t                    i;
    ngx_http_ddt_conf_project_t  *op;

    if (omcf == NULL || omcf->projects == NULL) {
        return 0;
    }

    op = omcf->projects->elts;

    for (i = 0; i < omcf->projects->nelts; i++) {
        if (op[i].name.len == cp->name.len
            && ngx_strncmp(op[i].name.data, cp->name.data, cp->name.len) == 0
            && ngx_strcmp(op[i].checksum, cp->checksum) == 0)
        {
            return 1;
        }
    }

    return 0;
}


ngx_int_t
ngx_http_ddt_project_publish_conf(ngx_http_ddt_main_conf_t *mcf,
    ngx_http_ddt_main_conf_t *omcf, ngx_log_t *log)
{
    ngx_int_t                     rc;
    ngx_uint_t                    i;
    ngx_http_ddt_conf_project_t  *cp;

    if (mcf->projects == NULL) {
        return NGX_OK;
    }

    cp = mcf->projects->elts;

    ngx_shmtx_lock(&mcf->shpool->mutex);

    for (i = 0; i < mcf->projects->nelts; i++) {

        if (ngx_http_ddt_project_conf_unchanged(omcf, &cp[i])
            && ngx_http_ddt_project_find_locked(mcf, cp[i].name.data,
                                                cp[i].name.len, NULL))
        {
            continue;
        }

        rc = ngx_http_ddt_project_publish_locked(mcf, &cp[i].name,
                                                 &cp[i].label, cp[i].checksum,
                                                 cp[i].block.data,
                                                 cp[i].block.len,
                                                 cp[i].source.data,
                                                 cp[i].source.len, log);
        if (rc == NGX_ERROR) {
            ngx_shmtx_unlock(&mcf->shpool->mutex);
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "ddt: no room in the shared zone for project "
                          "\"%V\" (raise ddt_zone_size)", &cp[i].name);
            return NGX_ERROR;
        }
    }

    ngx_shmtx_unlock(&mcf->shpool->mutex);

    return NGX_OK;
}


static void
ngx_http_ddt_project_gc_locked(ngx_http_ddt_main_conf_t *mcf, u_char *name,
    size_t name_len)
{
    ngx_uint_t            n;
    ngx_queue_t          *q, *next;
    ngx_http_ddt_load_t  *load;

    n = 0;

    for (q = ngx_queue_head(&mcf->sh->loads);
         q != ngx_queue_sentinel(&mcf->sh->loads);
         q = next)
    {
        next = ngx_queue_next(q);
        load = ngx_queue_data(q, ngx_http_ddt_load_t, queue);

        if (load->name_len != name_len
            || ngx_memcmp(load->name, name, name_len) != 0)
        {
            continue;
        }

        if (++n <= NGX_HTTP_DDT_KEEP_LOADS) {
            continue;
        }

        if (load->current || load->refs || load->pins) {
            continue;
        }

        ngx_http_ddt_project_free_locked(mcf, load);
    }
}


static void
ngx_http_ddt_project_free_locked(ngx_http_ddt_main_conf_t *mcf,
    ngx_http_ddt_load_t *load)
{
    ngx_queue_remove(&load->queue);
    mcf->sh->nloads--;

    ngx_slab_free_locked(mcf->shpool, load->block);
    ngx_slab_free_locked(mcf->shpool, load->source);
    ngx_slab_free_locked(mcf->shpool, load->label);
    ngx_slab_free_locked(mcf->shpool, load);

    ngx_atomic_fetch_add(&mcf->sh->generation, 1);
}


/*
 * Find a load (checksum NULL: the current one of name) and pin it for the
 * request; NULL when there is none.
 */

ngx_http_ddt_load_t *
ngx_http_ddt_project_acquire(ngx_http_ddt_main_conf_t *mcf, u_char *name,
    size_t name_len, const char *checksum)
{
    ngx_http_ddt_load_t  *load;

    ngx_shmtx_lock(&mcf->shpool->mutex);

    load = ngx_http_ddt_project_find_locked(mcf, name, name_len, checksum);
    if (load) {
        load->pins++;
    }

    if (ngx_http_ddt_views_generation != mcf->sh->generation) {
        ngx_http_ddt_project_views_sweep_locked(mcf);
    }

    ngx_shmtx_unlock(&mcf->shpool->mutex);

    /* views of freed loads are released outside the mutex */

    while (ngx_http_ddt_ndead) {
        ddt_project_free(ngx_http_ddt_views_dead[--ngx_http_ddt_ndead]);
    }

    return load;
}


void
ngx_http_ddt_project_release(ngx_http_ddt_main_conf_t *mcf,
    ngx_http_ddt_load_t *load, ngx_uint_t viewed)
{
    ngx_uint_t  i;

    if (viewed) {
        for (i = 0; i < ngx_http_ddt_nviews; i++) {
            if (ngx_http_ddt_views[i].seq == load->seq) {
                ngx_http_ddt_views[i].busy--;
                break;
            }
        }
    }

    ngx_shmtx_lock(&mcf->shpool->mutex);

    load->pins--;

    if (!load->current && load->refs == 0 && load->pins == 0) {
        ngx_http_ddt_project_gc_locked(mcf, load->name, load->name_len);
    }

    ngx_shmtx_unlock(&mcf->shpool->mutex);
}


/* A session pinned to load is gone (the store calls this). */

void
ngx_http_ddt_project_unref_locked(ngx_http_ddt_main_conf_t *mcf,
    ngx_http_ddt_load_t *load)
{
    if (load == NULL) {
        return;
    }

    if (load->refs) {
        load->refs--;
    }

    if (!load->current && load->refs == 0 && load->pins == 0) {
        ngx_http_ddt_project_gc_locked(mcf, load->name, load->name_len);
    }
}


static void
ngx_http_ddt_project_views_sweep_locked(ngx_http_ddt_main_conf_t *mcf)
{
    ngx_uint_t            i, live;
    ngx_queue_t          *q;
    ngx_http_ddt_load_t  *load;

    for (i = 0; i < ngx_http_ddt_nviews; /* void */ ) {

        live = 0;

        for (q = ngx_queue_head(&mcf->sh->loads);
             q != ngx_queue_sentinel(&mcf->sh->loads);
             q = ngx_queue_next(q))
        {
            load = ngx_queue_data(q, ngx_http_ddt_load_t, queue);

            if (load->seq == ngx_http_ddt_views[i].seq) {
                live = 1;
                break;
            }
        }

        if (live) {
            i++;
            continue;
        }

        ngx_http_ddt_views_dead[ngx_http_ddt_ndead++] =
                                                  ngx_http_ddt_views[i].view;
        ngx_http_ddt_views[i] = ngx_http_ddt_views[--ngx_http_ddt_nviews];
    }

    ngx_http_ddt_views_generation = mcf->sh->generation;
}


/* The view of a pinned load, from this worker's cache or built now. */

ddt_project_t *
ngx_http_ddt_project_view(ngx_http_ddt_main_conf_t *mcf,
    ngx_http_ddt_load_t *load, ngx_log_t *log)
{
    char            err[256];
    ngx_uint_t      i;
    ddt_project_t  *view;

    for (i = 0; i < ngx_http_ddt_nviews; i++) {
        if (ngx_http_ddt_views[i].seq == load->seq) {
            ngx_http_ddt_views[i].busy++;
            return ngx_http_ddt_views[i].view;
        }
    }

    err[0] = '\0';

    if (ddt_project_load(load->block, load->block_len, &view, err,
                         sizeof(err))
        != DDT_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "ddt: project \"%s\" (%s) in the shared zone does not "
                      "load: %s", load->name, load->checksum, err);
        return NULL;
    }

    if (ngx_http_ddt_nviews == NGX_HTTP_DDT_VIEWS_MAX) {

        /* full: drop the oldest view no request of this worker uses */

        for (i = 0; i < ngx_http_ddt_nviews; i++) {
            if (ngx_http_ddt_views[i].busy == 0) {
                break;
            }
        }

        if (i == ngx_http_ddt_nviews) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "ddt: more than %d project loads in use at once "
                          "in this worker", NGX_HTTP_DDT_VIEWS_MAX);
            ddt_project_free(view);
            return NULL;
        }

        ddt_project_free(ngx_http_ddt_views[i].view);
        ngx_memmove(&ngx_http_ddt_views[i], &ngx_http_ddt_views[i + 1],
                    sizeof(ngx_http_ddt_view_t)
                    * (ngx_http_ddt_nviews - i - 1));
        ngx_http_ddt_nviews--;
    }

    ngx_http_ddt_views[ngx_http_ddt_nviews].seq = load->seq;
    ngx_http_ddt_views[ngx_http_ddt_nviews].view = view;
    ngx_http_ddt_views[ngx_http_ddt_nviews].busy = 1;
    ngx_http_ddt_nviews++;

    return view;
}


void
ngx_http_ddt_project_views_free(void)
{
    while (ngx_http_ddt_nviews) {
        ddt_project_free(ngx_http_ddt_views[--ngx_http_ddt_nviews].view);
    }
}


/*
 * GET /v1/projects: {"projects": [{name, version, checksum, loadedAt,
 * size, current}]}, newest first.  Built under the mutex into the pool.
 */

ngx_int_t
ngx_http_ddt_project_list_json(ngx_http_ddt_main_conf_t *mcf,
    ngx_pool_t *pool, ngx_str_t *out)
{
    size_t                len;
    u_char               *p;
    ngx_tm_t              tm;
    ngx_queue_t          *q;
    ngx_http_ddt_load_t  *load;

    static u_char  head[] = "{\"projects\":[";
    static u_char  tail[] = "]}";

    ngx_shmtx_lock(&mcf->shpool->mutex);

    len = sizeof(head) + sizeof(tail);

    for (q = ngx_queue_head(&mcf->sh->loads);
         q != ngx_queue_sentinel(&mcf->sh->loads);
         q = ngx_queue_next(q))
    {
        load = ngx_queue_data(q, ngx_http_ddt_load_t, queue);

        len += sizeof("{\"name\":,\"version\":,\"checksum\":\"\","
                      "\"loadedAt\":\"2026-01-01T00:00:00Z\",\"size\":,"
                      "\"current\":false},")
               + ngx_http_ddt_json_str_len(load->name, load->name_len)
               + ngx_http_ddt_json_str_len(load->label, load->label_len)
               + 16 + NGX_SIZE_T_LEN;
    }

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        ngx_shmtx_unlock(&mcf->shpool->mutex);
        return NGX_ERROR;
    }

    out->data = p;
    p = ngx_cpymem(p, head, sizeof(head) - 1);

    for (q = ngx_queue_head(&mcf->sh->loads);
         q != ngx_queue_sentinel(&mcf->sh->loads);
         q = ngx_queue_next(q))
    {
        load = ngx_queue_data(q, ngx_http_ddt_load_t, queue);

        if (q != ngx_queue_head(&mcf->sh->loads)) {
            *p++ = ',';
        }

        ngx_gmtime(load->loaded_at, &tm);

        p = ngx_cpymem(p, "{\"name\":", sizeof("{\"name\":") - 1);
        p = ngx_http_ddt_json_str(p, load->name, load->name_len);
        p = ngx_cpymem(p, ",\"version\":", sizeof(",\"version\":") - 1);
        p = ngx_http_ddt_json_str(p, load->label, load->label_len);
        p = ngx_sprintf(p, ",\"checksum\":\"%s\",\"loadedAt\":"
                        "\"%4d-%02d-%02dT%02d:%02d:%02dZ\",\"size\":%uz,"
                        "\"current\":%s}",
                        load->checksum, tm.ngx_tm_year, tm.ngx_tm_mon,
                        tm.ngx_tm_mday, tm.ngx_tm_hour, tm.ngx_tm_min,
                        tm.ngx_tm_sec, load->block_len,
                        load->current ? "true" : "false");
    }

    ngx_shmtx_unlock(&mcf->shpool->mutex);

    p = ngx_cpymem(p, tail, sizeof(tail) - 1);
    out->len = p - out->data;

    return NGX_OK;
}


/*
 * GET /v1/projects/{name} (admin): {name, version, checksum, source} of the
 * current load; NGX_DECLINED when there is none.
 */

ngx_int_t
ngx_http_ddt_project_get_json(ngx_http_ddt_main_conf_t *mcf,
    ngx_pool_t *pool, ngx_str_t *name, ngx_str_t *out)
{
    size_t                len;
    u_char               *p;
    ngx_http_ddt_load_t  *load;

    ngx_shmtx_lock(&mcf->shpool->mutex);

    load = ngx_http_ddt_project_find_locked(mcf, name->data, name->len, NULL);
    if (load == NULL) {
        ngx_shmtx_unlock(&mcf->shpool->mutex);
        return NGX_DECLINED;
    }

    len = sizeof("{\"name\":,\"version\":,\"checksum\":\"\",\"source\":}")
          + ngx_http_ddt_json_str_len(load->name, load->name_len)
          + ngx_http_ddt_json_str_len(load->label, load->label_len)
          + 16 + load->source_len;

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        ngx_shmtx_unlock(&mcf->shpool->mutex);
        return NGX_ERROR;
    }

    out->data = p;

    p = ngx_cpymem(p, "{\"name\":", sizeof("{\"name\":") - 1);
    p = ngx_http_ddt_json_str(p, load->name, load->name_len);
    p = ngx_cpymem(p, ",\"version\":", sizeof(",\"version\":") - 1);
    p = ngx_http_ddt_json_str(p, load->label, load->label_len);
    p = ngx_sprintf(p, ",\"checksum\":\"%s\",\"source\":", load->checksum);
    p = ngx_cpymem(p, load->source, load->source_len);
    *p++ = '}';

    ngx_shmtx_unlock(&mcf->shpool->mutex);

    out->len = p - out->data;

    return NGX_OK;
}
