
/*
 * ngx_http_ddt_store_embedded.c: the embedded session store, in the shared
 * zone.  Sessions are state blobs (the core's ddt_session_save JSON) in an
 * rbtree keyed by a hash of the id, plus an LRU queue ordered by last
 * write (a turn renews the TTL, a GET does not).  Expired sessions are
 * dropped lazily; when the zone is full the allocator evicts from the LRU
 * tail (ngx_http_ddt_zone_alloc_locked).
 *
 * A turn holds the session's lock between get and put: the lock records
 * the owner's pid, a token and when it was taken, so a second turn gets
 * 409, and a lock left by a worker that died (or older than a bound) is
 * broken.  Only the blob copy happens under the zone mutex; the turn runs
 * unlocked.
 */

#include "ngx_http_ddt_zone.h"
#include "ngx_http_ddt_store.h"

#include <signal.h>


/* a turn holding a lock longer than this is presumed lost */
#define NGX_HTTP_DDT_LOCK_MAX_AGE   60000

/* expired sessions dropped per write, from the LRU tail */
#define NGX_HTTP_DDT_EXPIRE_BATCH   4


typedef struct {
    ngx_rbtree_node_t           node;           /* key: hash of the id */
    ngx_queue_t                 lru;
    ngx_msec_t                  expires;
    uint64_t                    version;
    uint64_t                    gen;            /* this life of the id */
    ngx_uint_t                  status;
    ngx_pid_t                   lock_pid;       /* 0: unlocked */
    uint64_t                    lock_token;
    ngx_msec_t                  lock_time;
    ngx_http_ddt_load_t        *load;
    u_char                     *blob;
    size_t                      blob_len;
    size_t                      blob_cap;
    size_t                      id_len;
    u_char                      id[1];
} ngx_http_ddt_session_node_t;


static ngx_int_t ngx_http_ddt_store_embedded_get(ngx_http_ddt_store_op_t *op);
static ngx_int_t ngx_http_ddt_store_embedded_put(ngx_http_ddt_store_op_t *op);
static ngx_int_t ngx_http_ddt_store_embedded_del(ngx_http_ddt_store_op_t *op);
static void ngx_http_ddt_store_embedded_release(ngx_http_ddt_store_op_t *op);
static ngx_int_t ngx_http_ddt_store_embedded_health(
    ngx_http_ddt_store_op_t *op);
static ngx_uint_t ngx_http_ddt_store_embedded_count(
    ngx_http_ddt_main_conf_t *mcf);


ngx_http_ddt_store_t  ngx_http_ddt_store_embedded = {
    "embedded",
    ngx_http_ddt_store_embedded_get,
    ngx_http_ddt_store_embedded_put,
    ngx_http_ddt_store_embedded_del,
    ngx_http_ddt_store_embedded_release,
    ngx_http_ddt_store_embedded_health,
    ngx_http_ddt_store_embedded_count
};


static uint64_t  ngx_http_ddt_lock_seq;


static void
ngx_http_ddt_session_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t            **p;
    ngx_http_ddt_session_node_t   *sn, *tn;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            sn = (ngx_http_ddt_session_node_t *) node;
            tn = (ngx_http_ddt_session_node_t *) temp;

            p = (ngx_memn2cmp(sn->id, tn->id, sn->id_len, tn->id_len) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


void
ngx_http_ddt_store_embedded_init(ngx_http_ddt_sh_t *sh)
{
    ngx_rbtree_init(&sh->rbtree, &sh->sentinel,
                    ngx_http_ddt_session_insert_value);
    ngx_queue_init(&sh->lru);
    sh->nsessions = 0;
}


static ngx_http_ddt_session_node_t *
ngx_http_ddt_session_lookup_locked(ngx_http_ddt_sh_t *sh, ngx_str_t *id,
    uint32_t hash)
{
    ngx_int_t                     rc;
    ngx_rbtree_node_t            *node, *sentinel;
    ngx_http_ddt_session_node_t  *sn;

    node = sh->rbtree.root;
    sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        sn = (ngx_http_ddt_session_node_t *) node;

        rc = ngx_memn2cmp(id->data, sn->id, id->len, sn->id_len);

        if (rc == 0) {
            return sn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_http_ddt_session_remove_locked(ngx_http_ddt_main_conf_t *mcf,
    ngx_http_ddt_session_node_t *sn)
{
    ngx_http_ddt_load_t  *load;

    load = sn->load;

    ngx_rbtree_delete(&mcf->sh->rbtree, &sn->node);
    ngx_queue_remove(&sn->lru);
    mcf->sh->nsessions--;

    if (sn->blob) {
        ngx_slab_free_locked(mcf->shpool, sn->blob);
    }

    ngx_slab_free_locked(mcf->shpool, sn);

    ngx_http_ddt_project_unref_locked(mcf, load);
}


static ngx_uint_t
ngx_http_ddt_lock_stale(ngx_http_ddt_session_node_t *sn)
{
    if (sn->lock_pid == 0) {
        return 1;
    }

    /*
     * Signed: each process caches its own ngx_current_msec, so another
     * worker's lock may look a little younger than zero.
     */

    if ((ngx_msec_int_t) (ngx_current_msec - sn->lock_time)
        > NGX_HTTP_DDT_LOCK_MAX_AGE)
    {
        return 1;
    }

    if (sn->lock_pid != ngx_pid
        && kill(sn->lock_pid, 0) == -1 && ngx_errno == NGX_ESRCH)
    {
        return 1;
    }

    return 0;
}


/* Drop up to a few expired sessions from the LRU tail. */

static void
ngx_http_ddt_expire_locked(ngx_http_ddt_main_conf_t *mcf)
{
    ngx_uint_t                    n;
    ngx_queue_t                  *q;
    ngx_http_ddt_session_node_t  *sn;

    for (n = 0; n < NGX_HTTP_DDT_EXPIRE_BATCH; n++) {

        if (ngx_queue_empty(&mcf->sh->lru)) {
            return;
        }

        q = ngx_queue_last(&mcf->sh->lru);
        sn = ngx_queue_data(q, ngx_http_ddt_session_node_t, lru);

        if ((ngx_msec_int_t) (sn->expires - ngx_current_msec) > 0) {
            return;
        }

        if (sn->lock_pid && !ngx_http_ddt_lock_stale(sn)) {
            return;
        }

        ngx_http_ddt_session_remove_locked(mcf, sn);
        ngx_atomic_fetch_add(&mcf->sh->counters.sessions_expired, 1);
    }
}


ngx_uint_t
ngx_http_ddt_store_embedded_evict_locked(ngx_http_ddt_main_conf_t *mcf,
    ngx_log_t *log)
{
    ngx_queue_t                  *q;
    ngx_http_ddt_session_node_t  *sn;

    for (q = ngx_queue_last(&mcf->sh->lru);
         q != ngx_queue_sentinel(&mcf->sh->lru);
         q = ngx_queue_prev(q))
    {
        sn = ngx_queue_data(q, ngx_http_ddt_session_node_t, lru);

        if (sn->lock_pid && !ngx_http_ddt_lock_stale(sn)) {
            continue;
        }

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                       "ddt: evicting session \"%*s\"", sn->id_len, sn->id);

        ngx_http_ddt_session_remove_locked(mcf, sn);
        ngx_atomic_fetch_add(&mcf->sh->counters.evictions, 1);

        return 1;
    }

    return 0;
}


/*
 * The live session of this id, or NULL: one past its timeout and not held
 * by a live lock is dropped here (counted as expired).
 */

static ngx_http_ddt_session_node_t *
ngx_http_ddt_session_find_locked(ngx_http_ddt_main_conf_t *mcf, ngx_str_t *id)
{
    uint32_t                      hash;
    ngx_http_ddt_session_node_t  *sn;

    hash = ngx_crc32_short(id->data, id->len);

    sn = ngx_http_ddt_session_lookup_locked(mcf->sh, id, hash);

    if (sn && (ngx_msec_int_t) (sn->expires - ngx_current_msec) <= 0
        && (sn->lock_pid == 0 || ngx_http_ddt_lock_stale(sn)))
    {
        ngx_http_ddt_session_remove_locked(mcf, sn);
        ngx_atomic_fetch_add(&mcf->sh->counters.sessions_expired, 1);
        sn = NULL;
    }

    return sn;
}


static ngx_int_t
ngx_http_ddt_store_embedded_get(ngx_http_ddt_store_op_t *op)
{
    ngx_http_ddt_main_conf_t     *mcf;
    ngx_http_ddt_session_node_t  *sn;

    mcf = op->mcf;

    ngx_shmtx_lock(&mcf->shpool->mutex);

    sn = ngx_http_ddt_session_find_locked(mcf, &op->id);

    if (sn == NULL) {
        ngx_shmtx_unlock(&mcf->shpool->mutex);
        op->rc = NGX_DECLINED;
        return op->rc;
    }

    op->out_version = sn->version;
    op->out_gen = sn->gen;
    op->out_status = sn->status;

    if (op->lock) {
        if (sn->lock_pid) {
            if (!ngx_http_ddt_lock_stale(sn)) {
                op->rc = NGX_BUSY;
                goto copy;
            }

            ngx_atomic_fetch_add(&mcf->sh->counters.stale_locks, 1);
            ngx_log_error(NGX_LOG_WARN, op->log, 0,
                          "ddt: breaking the lock of session \"%V\" left by "
                          "process %P", &op->id, sn->lock_pid);
        }

        sn->lock_pid = ngx_pid;
        sn->lock_token = ((uint64_t) ngx_pid << 40) ^ ++ngx_http_ddt_lock_seq;
        sn->lock_time = ngx_current_msec;

        op->locked = 1;
        op->lock_token = sn->lock_token;
    }

    op->rc = NGX_OK;

copy:

    op->out_blob.data = ngx_pnalloc(op->pool, sn->blob_len + 1);
    if (op->out_blob.data == NULL) {
        if (op->locked) {
            sn->lock_pid = 0;
            op->locked = 0;
        }

        ngx_shmtx_unlock(&mcf->shpool->mutex);
        op->rc = NGX_ERROR;
        return op->rc;
    }

    ngx_memcpy(op->out_blob.data, sn->blob, sn->blob_len);
    op->out_blob.data[sn->blob_len] = '\0';
    op->out_blob.len = sn->blob_len;

    ngx_shmtx_unlock(&mcf->shpool->mutex);

    return op->rc;
}


static ngx_int_t
ngx_http_ddt_store_embedded_put(ngx_http_ddt_store_op_t *op)
{
    size_t                        cap;
    u_char                       *blob;
    uint32_t                      hash;
    ngx_http_ddt_main_conf_t     *mcf;
    ngx_http_ddt_session_node_t  *sn;

    mcf = op->mcf;
    hash = ngx_crc32_short(op->id.data, op->id.len);

    ngx_shmtx_lock(&mcf->shpool->mutex);

    ngx_http_ddt_expire_locked(mcf);

    sn = ngx_http_ddt_session_lookup_locked(mcf->sh, &op->id, hash);

    if (op->expected == 0) {

        /* create */

        if (sn) {
            ngx_shmtx_unlock(&mcf->shpool->mutex);
            op->rc = NGX_ABORT;
            return op->rc;
        }

        sn = ngx_http_ddt_zone_alloc_locked(mcf,
                             offsetof(ngx_http_ddt_session_node_t, id)
                             + op->id.len, op->log);
        if (sn == NULL) {
            ngx_shmtx_unlock(&mcf->shpool->mutex);
            op->rc = NGX_ERROR;
            return op->rc;
        }

        blob = ngx_http_ddt_zone_alloc_locked(mcf, op->blob.len, op->log);
        if (blob == NULL) {
            ngx_slab_free_locked(mcf->shpool, sn);
            ngx_shmtx_unlock(&mcf->shpool->mutex);
            op->rc = NGX_ERROR;
            return op->rc;
        }

        ngx_memzero(sn, offsetof(ngx_http_ddt_session_node_t, id));
        sn->node.key = hash;
        sn->gen = mcf->sh->next_seq++;
        sn->id_len = op->id.len;
        ngx_memcpy(sn->id, op->id.data, op->id.len);
        sn->blob = blob;
        sn->blob_cap = op->blob.len;

        sn->load = op->load;
        if (op->load) {
            op->load->refs++;
        }

        ngx_rbtree_insert(&mcf->sh->rbtree, &sn->node);
        ngx_queue_insert_head(&mcf->sh->lru, &sn->lru);
        mcf->sh->nsessions++;

        ngx_atomic_fetch_add(&mcf->sh->counters.sessions_created, 1);

    } else {

        /* a turn: the version read, and the lock this request holds */

        if (sn == NULL) {
            ngx_shmtx_unlock(&mcf->shpool->mutex);
            op->locked = 0;
            op->rc = NGX_DECLINED;
            return op->rc;
        }

        if (sn->version != op->expected
            || (op->locked && sn->lock_token != op->lock_token))
        {
            if (op->locked && sn->lock_token == op->lock_token) {
                sn->lock_pid = 0;
            }

            ngx_shmtx_unlock(&mcf->shpool->mutex);
            op->locked = 0;
            op->rc = NGX_ABORT;
            return op->rc;
        }

        if (op->blob.len > sn->blob_cap || op->blob.len < sn->blob_cap / 4) {

            blob = ngx_http_ddt_zone_alloc_locked(mcf, op->blob.len, op->log);

            /* the allocator may have evicted sessions, never a locked one */

            if (blob == NULL) {
                if (op->locked) {
                    sn->lock_pid = 0;
                }

                ngx_shmtx_unlock(&mcf->shpool->mutex);
                op->locked = 0;
                op->rc = NGX_ERROR;
                return op->rc;
            }

            cap = op->blob.len;

            if (ngx_http_ddt_session_lookup_locked(mcf->sh, &op->id, hash)
                != sn)
            {
                ngx_slab_free_locked(mcf->shpool, blob);
                ngx_shmtx_unlock(&mcf->shpool->mutex);
                op->locked = 0;
                op->rc = NGX_DECLINED;
                return op->rc;
            }

            ngx_slab_free_locked(mcf->shpool, sn->blob);
            sn->blob = blob;
            sn->blob_cap = cap;
        }

        ngx_queue_remove(&sn->lru);
        ngx_queue_insert_head(&mcf->sh->lru, &sn->lru);
    }

    ngx_memcpy(sn->blob, op->blob.data, op->blob.len);
    sn->blob_len = op->blob.len;
    sn->version = op->version;
    sn->status = op->status;
    sn->expires = ngx_current_msec + mcf->session_timeout;
    sn->lock_pid = 0;
    op->out_gen = sn->gen;

    ngx_shmtx_unlock(&mcf->shpool->mutex);

    op->locked = 0;
    op->rc = NGX_OK;

    return op->rc;
}


static ngx_int_t
ngx_http_ddt_store_embedded_del(ngx_http_ddt_store_op_t *op)
{
    ngx_http_ddt_main_conf_t     *mcf;
    ngx_http_ddt_session_node_t  *sn;

    mcf = op->mcf;

    ngx_shmtx_lock(&mcf->shpool->mutex);

    sn = ngx_http_ddt_session_find_locked(mcf, &op->id);

    if (sn == NULL) {
        ngx_shmtx_unlock(&mcf->shpool->mutex);
        op->rc = NGX_DECLINED;
        return op->rc;
    }

    ngx_http_ddt_session_remove_locked(mcf, sn);
    ngx_atomic_fetch_add(&mcf->sh->counters.sessions_deleted, 1);

    ngx_shmtx_unlock(&mcf->shpool->mutex);

    op->rc = NGX_OK;
    return op->rc;
}


static void
ngx_http_ddt_store_embedded_release(ngx_http_ddt_store_op_t *op)
{
    uint32_t                      hash;
    ngx_http_ddt_main_conf_t     *mcf;
    ngx_http_ddt_session_node_t  *sn;

    if (!op->locked) {
        return;
    }

    mcf = op->mcf;
    hash = ngx_crc32_short(op->id.data, op->id.len);

    ngx_shmtx_lock(&mcf->shpool->mutex);

    sn = ngx_http_ddt_session_lookup_locked(mcf->sh, &op->id, hash);

    if (sn && sn->lock_pid && sn->lock_token == op->lock_token) {
        sn->lock_pid = 0;
    }

    ngx_shmtx_unlock(&mcf->shpool->mutex);

    op->locked = 0;
}


static ngx_int_t
ngx_http_ddt_store_embedded_health(ngx_http_ddt_store_op_t *op)
{
    op->rc = NGX_OK;
    return op->rc;
}


static ngx_uint_t
ngx_http_ddt_store_embedded_count(ngx_http_ddt_main_conf_t *mcf)
{
    return mcf->sh->nsessions;
}
