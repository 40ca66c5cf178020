
/*
 * ngx_http_ddt_redis_conn.h: the Redis connections of one worker and the
 * configuration they are made from.  A small pool of pipelined hiredis
 * connections (state: down/backoff, connecting and loading scripts, ready),
 * a timer per command, reconnects with backoff, and Sentinel discovery.
 * The configuration (directives) is ngx_http_ddt_redis_module.c's; the
 * session store on top is ngx_http_ddt_store_redis.c's.
 */

#ifndef _NGX_HTTP_DDT_REDIS_CONN_H_INCLUDED_
#define _NGX_HTTP_DDT_REDIS_CONN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


#define NGX_HTTP_DDT_REDIS_HOST_LEN  (NGX_SOCKADDRLEN + 8)


/* An address resolved at configuration time: hiredis never resolves. */
typedef struct {
    ngx_str_t                   text;           /* as configured, for logs */
    ngx_uint_t                  unix_socket;
    char                        host[NGX_HTTP_DDT_REDIS_HOST_LEN];
    int                         port;
} ngx_http_ddt_redis_addr_t;


typedef struct {
    ngx_flag_t                  enabled;
    ngx_http_ddt_redis_addr_t   addr;           /* ddt_redis */
    ngx_array_t                *sentinels;      /* ngx_http_ddt_redis_addr_t */
    ngx_str_t                   master;         /* sentinel master name */
    ngx_str_t                   password;
    ngx_int_t                   database;
    ngx_msec_t                  connect_timeout;
    ngx_msec_t                  timeout;
    ngx_uint_t                  pool_size;
    ngx_uint_t                  shards;
    ngx_uint_t                  stream_maxlen;  /* 0: no cap */

    /* a ddt-persister drains this Redis (SPEC 8, 9.7) */
    ngx_flag_t                  persister;
    ngx_msec_t                  restore_timeout;
    ngx_flag_t                  critical_sync;
    ngx_msec_t                  critical_wait;
} ngx_http_ddt_redis_main_conf_t;


/*
 * A reply handler: reply is NULL when the command failed (no connection,
 * connection lost, timed out).  The reply is freed after the handler
 * returns: copy what is kept.
 */
typedef void (*ngx_http_ddt_redis_reply_pt)(void *data, redisReply *reply);

typedef struct ngx_http_ddt_redis_pending_s  ngx_http_ddt_redis_pending_t;

/* a message on a subscribed channel; both strings live in the reply */
typedef void (*ngx_http_ddt_redis_message_pt)(ngx_str_t *channel,
    ngx_str_t *payload);
/* the subscriber connection went down: messages may have been missed */
typedef void (*ngx_http_ddt_redis_lost_pt)(void);
/* the subscriptions are confirmed: from now on every message is heard */
typedef void (*ngx_http_ddt_redis_ready_pt)(void);


extern ngx_module_t  ngx_http_ddt_redis_module;


/* per process: connect (init_process), tear down (exit_process) */
ngx_int_t ngx_http_ddt_redis_conn_init(ngx_cycle_t *cycle,
    ngx_http_ddt_redis_main_conf_t *rcf);
void ngx_http_ddt_redis_conn_exit(ngx_cycle_t *cycle);

/*
 * Send one command on a ready (or connecting) connection of the pool.
 * Returns a handle for ngx_http_ddt_redis_cancel(), or NULL when no
 * connection can take it now (the store is unavailable: answer 503).
 */
ngx_http_ddt_redis_pending_t *ngx_http_ddt_redis_command(
    ngx_http_ddt_redis_reply_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);

/* the caller is going away: its handler will not be called */
void ngx_http_ddt_redis_cancel(ngx_http_ddt_redis_pending_t *p);

/* a connection of the pool is ready */
ngx_uint_t ngx_http_ddt_redis_available(void);

/*
 * A reply says this server cannot serve us (READONLY after a failover):
 * drop the pool and find the master again.
 */
void ngx_http_ddt_redis_reset(const char *why);

ngx_http_ddt_redis_main_conf_t *ngx_http_ddt_redis_conf(void);

/*
 * The subscriber connection (ddt:durable, ddt:restored): set the handlers
 * before ngx_http_ddt_redis_conn_init(); without them there is none.
 * ngx_http_ddt_redis_subscribed(): both subscriptions are confirmed now;
 * ngx_http_ddt_redis_subscribing(): they are, or the connection is being
 * made (a worker just started, a reconnect).
 */
void ngx_http_ddt_redis_subscribe(ngx_http_ddt_redis_message_pt on_message,
    ngx_http_ddt_redis_lost_pt on_lost, ngx_http_ddt_redis_ready_pt on_ready);
ngx_uint_t ngx_http_ddt_redis_subscribed(void);
ngx_uint_t ngx_http_ddt_redis_subscribing(void);


#endif /* _NGX_HTTP_DDT_REDIS_CONN_H_INCLUDED_ */
