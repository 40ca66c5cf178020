
/*
 * ngx_http_ddt_cache.c: a per-worker cache of loaded sessions, so that a
 * turn on a session this worker answered last skips ddt_session_load (the
 * largest part of a turn's cost in the core).
 *
 * An entry is the core's session object exactly as this worker saved it,
 * keyed by (id, generation, version): the generation is the store's
 * number for one life of the id (a deleted, expired or evicted session
 * that is created again has another), the version the one it wrote.  A
 * turn that holds the session's lock and reads that very (generation,
 * version) from the store takes the object out of the cache instead of
 * loading the blob; any other version (another worker wrote since) is a
 * miss.  Only stores that give a generation (the embedded store) use it.
 *
 * Entries are direct-mapped by a hash of the id (a collision replaces),
 * and an object serves a bounded number of turns before it is dropped, so
 * the core's per-session arena never grows without bound.
 */

#include "ngx_http_ddt_module.h"


#define NGX_HTTP_DDT_CACHE_SLOTS     1024       /* a power of 2 */
#define NGX_HTTP_DDT_CACHE_MAX_USES  16


typedef struct {
    ddt_session_t              *session;
    uint64_t                    gen;
    uint64_t                    version;
    ngx_uint_t                  uses;
    size_t                      id_len;
    u_char                      id[NGX_HTTP_DDT_ID_MAX];
} ngx_http_ddt_cache_entry_t;


static ngx_http_ddt_cache_entry_t  *ngx_http_ddt_cache;


static ngx_http_ddt_cache_entry_t *
ngx_http_ddt_cache_slot(ngx_str_t *id)
{
    if (ngx_http_ddt_cache == NULL) {
        ngx_http_ddt_cache = ngx_calloc(sizeof(ngx_http_ddt_cache_entry_t)
                                        * NGX_HTTP_DDT_CACHE_SLOTS,
                                        ngx_cycle->log);
        if (ngx_http_ddt_cache == NULL) {
            return NULL;
        }
    }

    return &ngx_http_ddt_cache[ngx_crc32_short(id->data, id->len)
                               & (NGX_HTTP_DDT_CACHE_SLOTS - 1)];
}


/* The cached object of (id, gen, version), now the caller's; or NULL. */

ddt_session_t *
ngx_http_ddt_cache_take(ngx_str_t *id, uint64_t gen, uint64_t version,
    ngx_uint_t *uses)
{
    ddt_session_t               *s;
    ngx_http_ddt_cache_entry_t  *e;

    if (gen == 0 || id->len > NGX_HTTP_DDT_ID_MAX) {
        return NULL;
    }

    e = ngx_http_ddt_cache_slot(id);

    if (e == NULL || e->session == NULL || e->gen != gen
        || e->version != version || e->id_len != id->len
        || ngx_memcmp(e->id, id->data, id->len) != 0)
    {
        return NULL;
    }

    s = e->session;
    *uses = e->uses;
    e->session = NULL;

    return s;
}


/*
 * Keep s (which the store now holds as (id, gen, version)) for the next
 * turn.  Takes ownership: returns 1 if kept, 0 if the caller still frees.
 */

ngx_uint_t
ngx_http_ddt_cache_put(ngx_str_t *id, uint64_t gen, uint64_t version,
    ddt_session_t *s, ngx_uint_t uses)
{
    ngx_http_ddt_cache_entry_t  *e;

    if (gen == 0 || id->len > NGX_HTTP_DDT_ID_MAX
        || uses >= NGX_HTTP_DDT_CACHE_MAX_USES
        || ddt_session_status(s) != DDT_STATUS_WAITING)
    {
        return 0;
    }

    e = ngx_http_ddt_cache_slot(id);
    if (e == NULL) {
        return 0;
    }

    if (e->session) {
        ddt_session_free(e->session);
    }

    e->session = s;
    e->gen = gen;
    e->version = version;
    e->uses = uses;
    e->id_len = id->len;
    ngx_memcpy(e->id, id->data, id->len);

    return 1;
}


void
ngx_http_ddt_cache_free(void)
{
    ngx_uint_t  i;

    if (ngx_http_ddt_cache == NULL) {
        return;
    }

    for (i = 0; i < NGX_HTTP_DDT_CACHE_SLOTS; i++) {
        if (ngx_http_ddt_cache[i].session) {
            ddt_session_free(ngx_http_ddt_cache[i].session);
        }
    }

    ngx_free(ngx_http_ddt_cache);
    ngx_http_ddt_cache = NULL;
}
