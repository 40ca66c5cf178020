
/*
 * ngx_http_ddt_store.h: the session store interface.  A store keeps the
 * core's session state blobs (ddt_session_save JSON) by session id.  Every
 * operation may finish now or later: it returns NGX_AGAIN when it will
 * call op->handler later (a Redis round trip), or its result (also left in
 * op->rc) when it finished at once, in which case the handler is not
 * called.  Results:
 *
 *   NGX_OK        done (get: found, blob copied into op->pool)
 *   NGX_DECLINED  no such session (never created, deleted or expired)
 *   NGX_BUSY      get with lock: a turn holds the session's lock
 *   NGX_ABORT     put: the stored version is not op->expected (or, with
 *                 expected 0, the id exists)
 *   NGX_ERROR     the store is unavailable (503)
 *
 * The embedded store (ngx_http_ddt_store_embedded.c) lives in the shared
 * zone; a Redis store implements the same table.
 */

#ifndef _NGX_HTTP_DDT_STORE_H_INCLUDED_
#define _NGX_HTTP_DDT_STORE_H_INCLUDED_


#include "ngx_http_ddt_module.h"


typedef struct ngx_http_ddt_store_op_s  ngx_http_ddt_store_op_t;

typedef void (*ngx_http_ddt_store_done_pt)(ngx_http_ddt_store_op_t *op);


struct ngx_http_ddt_store_op_s {
    ngx_http_ddt_main_conf_t   *mcf;
    ngx_pool_t                 *pool;           /* copies go here */
    ngx_log_t                  *log;
    ngx_str_t                   id;

    /* get */
    unsigned                    lock:1;         /* take the session's lock */

    /*
     * get and del: a session the store does not have may be brought back
     * (Redis with a persister, SPEC 9.7: turns and DELETE ask for it)
     */
    unsigned                    restore:1;

    /* put */
    ngx_str_t                   blob;
    uint64_t                    version;        /* the new version */
    uint64_t                    expected;       /* 0: create, id must be new */
    ngx_uint_t                  status;         /* ddt_status_t */
    ngx_http_ddt_load_t        *load;           /* the load it is pinned to */

    /* results */
    ngx_int_t                   rc;
    ngx_str_t                   out_blob;
    uint64_t                    out_version;
    uint64_t                    out_gen;        /* get/put: this life of the
                                                   id, 0 if the store has
                                                   no such number */
    ngx_uint_t                  out_status;
    unsigned                    out_expired:1;  /* NGX_DECLINED: the store
                                                   knows it expired (410) */

    /*
     * put, read by the Redis store for the snapshot stream (SPEC 9.7):
     * the request body, the turn response, its turnId, whether the turn
     * was critical, and the time of the turn (ms)
     */
    ngx_str_t                   input;
    ngx_str_t                   response;
    ngx_str_t                   turn_id;
    unsigned                    critical:1;
    int64_t                     at;

    /*
     * set by the store: JSON members added to every turn response (Redis:
     * ",\"durable\":false", or true after critical sync, and "restored",
     * "restoredFrom" after a restore); empty for the embedded store
     */
    ngx_str_t                   response_extra;

    /* the store's own per-request data */
    void                       *store_data;

    /* the lock this request holds, released by put or release */
    unsigned                    locked:1;
    uint64_t                    lock_token;

    ngx_http_ddt_store_done_pt  handler;
    void                       *data;
};


struct ngx_http_ddt_store_s {
    const char                 *name;
    ngx_int_t                 (*get)(ngx_http_ddt_store_op_t *op);
    ngx_int_t                 (*put)(ngx_http_ddt_store_op_t *op);
    ngx_int_t                 (*del)(ngx_http_ddt_store_op_t *op);
    /* drop the lock without writing (error paths, client gone) */
    void                      (*release)(ngx_http_ddt_store_op_t *op);
    ngx_int_t                 (*health)(ngx_http_ddt_store_op_t *op);
    ngx_uint_t                (*count)(ngx_http_ddt_main_conf_t *mcf);
};


extern ngx_http_ddt_store_t  ngx_http_ddt_store_embedded;
extern ngx_http_ddt_store_t  ngx_http_ddt_store_redis;     /* ddt_redis */

/* zone init: reset or keep the embedded store's tree */
void ngx_http_ddt_store_embedded_init(ngx_http_ddt_sh_t *sh);
/* evict the least recently used unlocked session; 0 if none could go */
ngx_uint_t ngx_http_ddt_store_embedded_evict_locked(
    ngx_http_ddt_main_conf_t *mcf, ngx_log_t *log);


#endif /* _NGX_HTTP_DDT_STORE_H_INCLUDED_ */
