/*
 * ngx_http_ddt_redis_wait.h: requests of one worker waiting for the
 * persister (SPEC 8, 9.7): a restore answer "<nonce>:found|missing|expired"
 * on ddt:restored, or "<sid>:<ver>" on ddt:durable with a ver at least the
 * one waited for.  Messages come from the worker's subscriber connection
 * (ngx_http_ddt_redis_conn.c); every wait is bounded by its own timer.
 * What is sent to Redis around a wait is ngx_http_ddt_store_redis.c's.
 */

#ifndef _NGX_HTTP_DDT_REDIS_WAIT_H_INCLUDED_
#define _NGX_HTTP_DDT_REDIS_WAIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>


#define NGX_HTTP_DDT_WAIT_FOUND     1   /* restore: found; durable: yes */
#define NGX_HTTP_DDT_WAIT_MISSING   2
#define NGX_HTTP_DDT_WAIT_EXPIRED   3
#define NGX_HTTP_DDT_WAIT_TIMEOUT   4
#define NGX_HTTP_DDT_WAIT_LOST      5   /* the subscriber went down */
#define NGX_HTTP_DDT_WAIT_READY     6   /* subscribed now: send, go on */

#define NGX_HTTP_DDT_WAIT_NONCE_LEN  40


typedef struct ngx_http_ddt_redis_waiter_s  ngx_http_ddt_redis_waiter_t;

/* called once per wait, from an event handler; never after cancel */
typedef void (*ngx_http_ddt_redis_wait_pt)(ngx_http_ddt_redis_waiter_t *w,
    ngx_uint_t result);


struct ngx_http_ddt_redis_waiter_s {
    ngx_str_node_t              sn;         /* nonce or sid */
    ngx_queue_t                 queue;      /* waiters of one sid */
    ngx_event_t                 timer;
    uint64_t                    ver;        /* durable: at least this */
    ngx_uint_t                  restore;
    ngx_uint_t                  active;     /* in a tree */
    ngx_uint_t                  listed;     /* in a list being answered */
    ngx_uint_t                  heard;      /* subscribed when it began */
    ngx_http_ddt_redis_wait_pt  handler;
    void                       *data;
    u_char                      key[NGX_HTTP_DDT_WAIT_NONCE_LEN + 132];
};


/* per worker: hook the subscriber (before ngx_http_ddt_redis_conn_init) */
void ngx_http_ddt_redis_wait_init(ngx_log_t *log);

/*
 * Wait for the answer to a restore request (restore) or for sid's ver to
 * be durable.  A restore wait makes its nonce (w->key, written into the
 * request).  NGX_OK: subscribed, send what is waited on now; NGX_AGAIN:
 * the subscriber is connecting, send it when the handler gets READY (or
 * the wait ends first); NGX_ERROR: no subscriber, nothing can be heard.
 */
ngx_int_t ngx_http_ddt_redis_wait_restore(ngx_http_ddt_redis_waiter_t *w,
    ngx_str_t *sid, ngx_msec_t timeout, ngx_str_t *nonce);
ngx_int_t ngx_http_ddt_redis_wait_durable(ngx_http_ddt_redis_waiter_t *w,
    ngx_str_t *sid, uint64_t ver, ngx_msec_t timeout);

/* stop waiting: the handler will not be called */
void ngx_http_ddt_redis_wait_cancel(ngx_http_ddt_redis_waiter_t *w);


#endif /* _NGX_HTTP_DDT_REDIS_WAIT_H_INCLUDED_ */
