/*
 * ngx_http_ddt_redis_wait.c: requests of this worker waiting for the
 * persister's messages (SPEC 8, 9.7).  Two trees of waiters: restore
 * waiters by nonce (one each), durable waiters by session id (several may
 * wait on one session).  A message finds its waiters, each is taken out
 * of its tree, its timer deleted, and its handler called; a timer that
 * fires first answers TIMEOUT; losing the subscriber answers LOST to all,
 * since what was published meanwhile was not heard.  Waiters live in the
 * request's memory: a request that goes away cancels its own.  Nothing
 * here talks to Redis: the subscriber is ngx_http_ddt_redis_conn.c's, the
 * commands around a wait are ngx_http_ddt_store_redis.c's.
 */

#include "ngx_http_ddt_module.h"
#include "ngx_http_ddt_redis_conn.h"
#include "ngx_http_ddt_redis_wait.h"


static void ngx_http_ddt_redis_wait_message(ngx_str_t *channel,
    ngx_str_t *payload);
static void ngx_http_ddt_redis_wait_lost(void);
static void ngx_http_ddt_redis_wait_ready(void);
static void ngx_http_ddt_redis_wait_timeout(ngx_event_t *ev);


static ngx_rbtree_t       ngx_http_ddt_redis_restores;
static ngx_rbtree_node_t  ngx_http_ddt_redis_restores_sentinel;
static ngx_rbtree_t       ngx_http_ddt_redis_durables;
static ngx_rbtree_node_t  ngx_http_ddt_redis_durables_sentinel;
static ngx_log_t         *ngx_http_ddt_redis_wait_log;
static ngx_uint_t         ngx_http_ddt_redis_nonces;


void
ngx_http_ddt_redis_wait_init(ngx_log_t *log)
{
    ngx_rbtree_init(&ngx_http_ddt_redis_restores,
                    &ngx_http_ddt_redis_restores_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_rbtree_init(&ngx_http_ddt_redis_durables,
                    &ngx_http_ddt_redis_durables_sentinel,
                    ngx_str_rbtree_insert_value);

    ngx_http_ddt_redis_wait_log = log;

    ngx_http_ddt_redis_subscribe(ngx_http_ddt_redis_wait_message,
                                 ngx_http_ddt_redis_wait_lost,
                                 ngx_http_ddt_redis_wait_ready);
}


static void
ngx_http_ddt_redis_wait_start(ngx_http_ddt_redis_waiter_t *w, size_t len,
    ngx_msec_t timeout)
{
    ngx_rbtree_t  *tree;

    w->sn.str.data = w->key;
    w->sn.str.len = len;
    w->sn.node.key = ngx_crc32_short(w->key, len);

    tree = w->restore ? &ngx_http_ddt_redis_restores
                      : &ngx_http_ddt_redis_durables;

    ngx_rbtree_insert(tree, &w->sn.node);

    ngx_memzero(&w->timer, sizeof(ngx_event_t));
    w->timer.handler = ngx_http_ddt_redis_wait_timeout;
    w->timer.data = w;
    w->timer.log = ngx_http_ddt_redis_wait_log;

    /* a reload waits for the requests still waiting, at most this long */
    w->timer.cancelable = 0;

    ngx_add_timer(&w->timer, timeout);

    w->active = 1;
    w->listed = 0;
    w->heard = ngx_http_ddt_redis_subscribed();
}


ngx_int_t
ngx_http_ddt_redis_wait_restore(ngx_http_ddt_redis_waiter_t *w,
    ngx_str_t *sid, ngx_msec_t timeout, ngx_str_t *nonce)
{
    u_char  *p, rnd[8];

    if (!ngx_http_ddt_redis_subscribing() || w->active || w->listed) {
        return NGX_ERROR;
    }

    /* 64 random bits (other workers, other machines) and a counter */

    ngx_http_ddt_rand_bytes(rnd, sizeof(rnd));

    p = ngx_hex_dump(w->key, rnd, sizeof(rnd));
    p = ngx_sprintf(p, "-%ui", ++ngx_http_ddt_redis_nonces);

    w->restore = 1;
    w->ver = 0;

    ngx_http_ddt_redis_wait_start(w, p - w->key, timeout);

    nonce->data = w->key;
    nonce->len = p - w->key;

    return w->heard ? NGX_OK : NGX_AGAIN;
}


ngx_int_t
ngx_http_ddt_redis_wait_durable(ngx_http_ddt_redis_waiter_t *w,
    ngx_str_t *sid, uint64_t ver, ngx_msec_t timeout)
{
    if (!ngx_http_ddt_redis_subscribing() || w->active || w->listed
        || sid->len > sizeof(w->key))
    {
        return NGX_ERROR;
    }

    ngx_memcpy(w->key, sid->data, sid->len);

    w->restore = 0;
    w->ver = ver;

    ngx_http_ddt_redis_wait_start(w, sid->len, timeout);

    return w->heard ? NGX_OK : NGX_AGAIN;
}


static void
ngx_http_ddt_redis_wait_stop(ngx_http_ddt_redis_waiter_t *w)
{
    if (!w->active) {
        return;
    }

    ngx_rbtree_delete(w->restore ? &ngx_http_ddt_redis_restores
                                 : &ngx_http_ddt_redis_durables,
                      &w->sn.node);

    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }

    w->active = 0;
}


void
ngx_http_ddt_redis_wait_cancel(ngx_http_ddt_redis_waiter_t *w)
{
    if (w->listed) {
        /* taken out to be answered, not answered yet: it will not be */
        ngx_queue_remove(&w->queue);
        w->listed = 0;

        if (w->timer.timer_set) {
            ngx_del_timer(&w->timer);
        }
    }

    ngx_http_ddt_redis_wait_stop(w);
}


static void
ngx_http_ddt_redis_wait_done(ngx_http_ddt_redis_waiter_t *w,
    ngx_uint_t result)
{
    ngx_http_ddt_redis_wait_stop(w);
    w->handler(w, result);
}


static void
ngx_http_ddt_redis_wait_timeout(ngx_event_t *ev)
{
    ngx_http_ddt_redis_wait_done(ev->data, NGX_HTTP_DDT_WAIT_TIMEOUT);
}


/* "<key>:<what>": split at the last ':' (ids and nonces have none) */

static ngx_int_t
ngx_http_ddt_redis_wait_split(ngx_str_t *payload, ngx_str_t *key,
    ngx_str_t *what)
{
    u_char  *p;

    for (p = payload->data + payload->len; p > payload->data; p--) {
        if (p[-1] == ':') {
            key->data = payload->data;
            key->len = p - 1 - payload->data;
            what->data = p;
            what->len = payload->data + payload->len - p;
            return key->len ? NGX_OK : NGX_ERROR;
        }
    }

    return NGX_ERROR;
}


static void
ngx_http_ddt_redis_wait_message(ngx_str_t *channel, ngx_str_t *payload)
{
    ngx_int_t                     n;
    ngx_str_t                     key, what;
    ngx_uint_t                    result;
    ngx_queue_t                   done, keep, *q;
    ngx_str_node_t               *sn;
    ngx_http_ddt_redis_waiter_t  *w;

    if (ngx_http_ddt_redis_wait_split(payload, &key, &what) != NGX_OK) {
        return;
    }

    if (channel->len == sizeof("ddt:restored") - 1
        && ngx_strncmp(channel->data, "ddt:restored", channel->len) == 0)
    {
        sn = ngx_str_rbtree_lookup(&ngx_http_ddt_redis_restores, &key,
                                   ngx_crc32_short(key.data, key.len));
        if (sn == NULL) {
            return;             /* another worker's or machine's */
        }

        if (what.len == 5 && ngx_strncmp(what.data, "found", 5) == 0) {
            result = NGX_HTTP_DDT_WAIT_FOUND;

        } else if (what.len == 7 && ngx_strncmp(what.data, "expired", 7) == 0)
        {
            result = NGX_HTTP_DDT_WAIT_EXPIRED;

        } else {
            result = NGX_HTTP_DDT_WAIT_MISSING;
        }

        w = (ngx_http_ddt_redis_waiter_t *) sn;
        ngx_http_ddt_redis_wait_done(w, result);
        return;
    }

    if (channel->len != sizeof("ddt:durable") - 1
        || ngx_strncmp(channel->data, "ddt:durable", channel->len) != 0)
    {
        return;
    }

    n = ngx_atoi(what.data, what.len);
    if (n == NGX_ERROR) {
        return;
    }

    /*
     * Several waiters may wait on one session: take every one out of the
     * tree, answer those the ver covers, put the others back.  Handlers
     * run last, on a list of our own (they may start other waits).
     */

    ngx_queue_init(&done);
    ngx_queue_init(&keep);

    for ( ;; ) {
        sn = ngx_str_rbtree_lookup(&ngx_http_ddt_redis_durables, &key,
                                   ngx_crc32_short(key.data, key.len));
        if (sn == NULL) {
            break;
        }

        w = (ngx_http_ddt_redis_waiter_t *) sn;
        ngx_rbtree_delete(&ngx_http_ddt_redis_durables, &w->sn.node);
        w->active = 0;

        ngx_queue_insert_tail((uint64_t) n >= w->ver ? &done : &keep,
                              &w->queue);
        w->listed = 1;
    }

    while (!ngx_queue_empty(&keep)) {
        q = ngx_queue_head(&keep);
        ngx_queue_remove(q);
        w = ngx_queue_data(q, ngx_http_ddt_redis_waiter_t, queue);
        w->listed = 0;
        w->active = 1;

        /* ngx_rbtree_delete() zeroed the key */
        w->sn.node.key = ngx_crc32_short(w->sn.str.data, w->sn.str.len);
        ngx_rbtree_insert(&ngx_http_ddt_redis_durables, &w->sn.node);
    }

    for (q = ngx_queue_head(&done); q != ngx_queue_sentinel(&done);
         q = ngx_queue_head(&done))
    {
        ngx_queue_remove(q);
        w = ngx_queue_data(q, ngx_http_ddt_redis_waiter_t, queue);
        w->listed = 0;

        /* out of the tree already: only the timer is left to stop */

        if (w->timer.timer_set) {
            ngx_del_timer(&w->timer);
        }

        w->active = 0;
        w->handler(w, NGX_HTTP_DDT_WAIT_FOUND);
    }
}


/*
 * Subscribed at last: the waits that began while the subscriber was
 * connecting send their request (or check) now.  They stay in their trees
 * (their answer may come at any moment); the list only finds them.
 */

static void
ngx_http_ddt_redis_wait_collect(ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel, ngx_queue_t *list)
{
    ngx_http_ddt_redis_waiter_t  *w;

    if (node == sentinel) {
        return;
    }

    ngx_http_ddt_redis_wait_collect(node->left, sentinel, list);
    ngx_http_ddt_redis_wait_collect(node->right, sentinel, list);

    w = (ngx_http_ddt_redis_waiter_t *) node;

    if (!w->heard) {
        w->heard = 1;
        w->listed = 1;
        ngx_queue_insert_tail(list, &w->queue);
    }
}


static void
ngx_http_ddt_redis_wait_ready(void)
{
    ngx_queue_t                   list, *q;
    ngx_http_ddt_redis_waiter_t  *w;

    ngx_queue_init(&list);

    ngx_http_ddt_redis_wait_collect(ngx_http_ddt_redis_restores.root,
                                    ngx_http_ddt_redis_restores.sentinel,
                                    &list);
    ngx_http_ddt_redis_wait_collect(ngx_http_ddt_redis_durables.root,
                                    ngx_http_ddt_redis_durables.sentinel,
                                    &list);

    while (!ngx_queue_empty(&list)) {
        q = ngx_queue_head(&list);
        ngx_queue_remove(q);
        w = ngx_queue_data(q, ngx_http_ddt_redis_waiter_t, queue);
        w->listed = 0;

        w->handler(w, NGX_HTTP_DDT_WAIT_READY);
    }
}


/* Everything waited for may have been published while we were away. */

static void
ngx_http_ddt_redis_wait_lost(void)
{
    ngx_rbtree_t                 *tree;
    ngx_rbtree_node_t            *node;
    ngx_http_ddt_redis_waiter_t  *w;

    tree = &ngx_http_ddt_redis_restores;

    for ( ;; ) {
        if (tree->root == tree->sentinel) {
            if (tree == &ngx_http_ddt_redis_durables) {
                return;
            }

            tree = &ngx_http_ddt_redis_durables;
            continue;
        }

        node = ngx_rbtree_min(tree->root, tree->sentinel);
        w = (ngx_http_ddt_redis_waiter_t *) node;

        ngx_http_ddt_redis_wait_done(w, NGX_HTTP_DDT_WAIT_LOST);
    }
}
