
/*
 * ngx_http_ddt_redis_conn.c: the Redis connections of one worker.
 *
 * A pool of ddt_redis_pool_size pipelined hiredis connections, each in one
 * of three states:
 *
 *   DOWN        no context; a backoff timer (or, with Sentinel, the master's
 *               address) brings it back;
 *   CONNECTING  context made, AUTH / SELECT / SCRIPT LOAD queued; commands
 *               may be queued behind them; ddt_redis_connect_timeout bounds
 *               the whole handshake;
 *   READY       the handshake answered.
 *
 * Every command carries a timer (hiredis 0.14 has none): when one expires
 * the connection is freed at once, so every pending callback fires with a
 * NULL reply (each request answers 503) and the connection goes DOWN.
 * Pending records are owned here, not by requests: a request that goes
 * away only unhooks itself (ngx_http_ddt_redis_cancel) and its reply is
 * dropped when it comes.
 *
 * With Sentinel, one more context talks to a sentinel: it asks for the
 * master's address and subscribes to +switch-master; the pool connects to
 * what it answers and is dropped and reconnected when the master moves.
 *
 * With a persister (ddt_persister on), one more connection per worker is
 * the subscriber: outside the pool, it SUBSCRIBEs to the persister's
 * channels (ddt:durable, ddt:restored) on every connect and hands each
 * message to ngx_http_ddt_redis_wait.c; it is READY once both
 * subscriptions are confirmed, follows the master like the pool, and
 * tells the waiters when it is lost (a message may have been missed).
 *
 * The error log says a burst of failures once (when the worker loses its
 * last ready connection) and the recovery once.  Nothing here blocks:
 * addresses were resolved at configuration time, hiredis only connects.
 */

#include "ngx_http_ddt_redis_conn.h"
#include "ngx_http_ddt_redis_adapter.h"
#include "ngx_http_ddt_redis_scripts.h"


#define NGX_HTTP_DDT_REDIS_DOWN        0
#define NGX_HTTP_DDT_REDIS_CONNECTING  1
#define NGX_HTTP_DDT_REDIS_READY       2

#define NGX_HTTP_DDT_REDIS_BACKOFF_MIN   50
#define NGX_HTTP_DDT_REDIS_BACKOFF_MAX   1000


typedef struct {
    ngx_uint_t                  index;
    ngx_uint_t                  subscriber;     /* not in the pool */
    ngx_uint_t                  state;
    redisAsyncContext          *ac;
    ngx_uint_t                  init_left;      /* handshake replies due */
    ngx_event_t                 timer;          /* connect timeout, backoff */
    ngx_msec_t                  backoff;
    ngx_queue_t                 pending;
} ngx_http_ddt_redis_conn_t;


struct ngx_http_ddt_redis_pending_s {
    ngx_queue_t                 queue;
    ngx_event_t                 timer;
    ngx_http_ddt_redis_conn_t  *conn;           /* NULL: waiting for one */
    ngx_http_ddt_redis_reply_pt handler;
    void                       *data;
    char                       *cmd;            /* formatted, while waiting */
    int                         cmdlen;
};


typedef struct {
    redisAsyncContext          *ac;
    ngx_uint_t                  next;           /* sentinel to ask next */
    ngx_uint_t                  answered;
    ngx_event_t                 timer;
    ngx_msec_t                  backoff;
} ngx_http_ddt_redis_sentinel_t;


static void ngx_http_ddt_redis_connect(ngx_http_ddt_redis_conn_t *conn);
static void ngx_http_ddt_redis_fail(ngx_http_ddt_redis_conn_t *conn,
    const char *why, const char *detail);
static void ngx_http_ddt_redis_timer_handler(ngx_event_t *ev);
static void ngx_http_ddt_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_ddt_redis_disconnected(const redisAsyncContext *ac,
    int status);
static void ngx_http_ddt_redis_init_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_ddt_redis_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_ddt_redis_pending_timeout(ngx_event_t *ev);
static void ngx_http_ddt_redis_ready(ngx_http_ddt_redis_conn_t *conn);
static void ngx_http_ddt_redis_sub_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_ddt_redis_flush_waiting(void);
static void ngx_http_ddt_redis_sentinel_connect(void);
static void ngx_http_ddt_redis_sentinel_drop(const char *why);
static void ngx_http_ddt_redis_sentinel_timer(ngx_event_t *ev);
static void ngx_http_ddt_redis_sentinel_master(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_ddt_redis_sentinel_message(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_ddt_redis_sentinel_disconnected(
    const redisAsyncContext *ac, int status);


static ngx_http_ddt_redis_main_conf_t  *ngx_http_ddt_redis_rcf;
static ngx_http_ddt_redis_conn_t       *ngx_http_ddt_redis_pool;
static ngx_uint_t                       ngx_http_ddt_redis_npool;
static ngx_uint_t                       ngx_http_ddt_redis_rr;
static ngx_queue_t                      ngx_http_ddt_redis_free;

/*
 * Commands that arrived before a worker knew where the master is (with
 * Sentinel, at start): sent when the pool starts connecting, or answered
 * NULL by their timer.
 */
static ngx_queue_t                      ngx_http_ddt_redis_waiting;
static ngx_log_t                       *ngx_http_ddt_redis_log;
static ngx_uint_t                       ngx_http_ddt_redis_exiting;

/* the worker's view of Redis, for logging a burst once */
static ngx_uint_t                       ngx_http_ddt_redis_was_up;
static ngx_uint_t                       ngx_http_ddt_redis_failed;

/* the address the pool connects to (the master, with Sentinel) */
static ngx_http_ddt_redis_addr_t        ngx_http_ddt_redis_target;
static ngx_uint_t                       ngx_http_ddt_redis_have_target;
static ngx_http_ddt_redis_sentinel_t    ngx_http_ddt_redis_sentinel;

/* the subscriber connection and who gets its messages */
static ngx_http_ddt_redis_conn_t        ngx_http_ddt_redis_sub;
static ngx_http_ddt_redis_message_pt    ngx_http_ddt_redis_on_message;
static ngx_http_ddt_redis_lost_pt       ngx_http_ddt_redis_on_lost;
static ngx_http_ddt_redis_ready_pt      ngx_http_ddt_redis_on_ready;
static const char                      *ngx_http_ddt_redis_channels[] = {
    "ddt:durable", "ddt:restored"
};


/* "host:port" or "unix:/path" of the pool's target, for the error log */

static const char *
ngx_http_ddt_redis_where(void)
{
    static u_char  buf[NGX_HTTP_DDT_REDIS_HOST_LEN + 16];

    ngx_http_ddt_redis_addr_t  *t;

    t = &ngx_http_ddt_redis_target;

    if (t->unix_socket) {
        *ngx_snprintf(buf, sizeof(buf) - 1, "unix:%s", t->host) = '\0';

    } else {
        *ngx_snprintf(buf, sizeof(buf) - 1, "%s:%d", t->host, t->port) = '\0';
    }

    return (const char *) buf;
}


ngx_http_ddt_redis_main_conf_t *
ngx_http_ddt_redis_conf(void)
{
    return ngx_http_ddt_redis_rcf;
}


/* a zeroed connection made ready: down, shortest backoff, its own timer */

static void
ngx_http_ddt_redis_conn_setup(ngx_http_ddt_redis_conn_t *conn, ngx_log_t *log)
{
    conn->state = NGX_HTTP_DDT_REDIS_DOWN;
    conn->backoff = NGX_HTTP_DDT_REDIS_BACKOFF_MIN;
    ngx_queue_init(&conn->pending);

    conn->timer.handler = ngx_http_ddt_redis_timer_handler;
    conn->timer.data = conn;
    conn->timer.log = log;
    conn->timer.cancelable = 1;
}


/* a record is done: back to the free list, then its handler (if any) */

static void
ngx_http_ddt_redis_pending_done(ngx_http_ddt_redis_pending_t *p,
    redisReply *reply)
{
    void                         *data;
    ngx_http_ddt_redis_reply_pt   handler;

    handler = p->handler;
    data = p->data;

    ngx_queue_insert_head(&ngx_http_ddt_redis_free, &p->queue);

    if (handler) {
        handler(data, reply);
    }
}


ngx_int_t
ngx_http_ddt_redis_conn_init(ngx_cycle_t *cycle,
    ngx_http_ddt_redis_main_conf_t *rcf)
{
    ngx_uint_t                  i;
    ngx_http_ddt_redis_conn_t  *conn;

    ngx_http_ddt_redis_rcf = rcf;
    ngx_http_ddt_redis_log = cycle->log;
    ngx_http_ddt_redis_exiting = 0;
    ngx_http_ddt_redis_was_up = 1;
    ngx_http_ddt_redis_failed = 0;
    ngx_queue_init(&ngx_http_ddt_redis_free);
    ngx_queue_init(&ngx_http_ddt_redis_waiting);

    ngx_http_ddt_redis_npool = rcf->pool_size;
    ngx_http_ddt_redis_pool = ngx_pcalloc(cycle->pool,
                                  rcf->pool_size
                                  * sizeof(ngx_http_ddt_redis_conn_t));
    if (ngx_http_ddt_redis_pool == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < rcf->pool_size; i++) {
        conn = &ngx_http_ddt_redis_pool[i];
        conn->index = i;
        ngx_http_ddt_redis_conn_setup(conn, cycle->log);
    }

    conn = &ngx_http_ddt_redis_sub;
    ngx_memzero(conn, sizeof(ngx_http_ddt_redis_conn_t));
    conn->subscriber = 1;
    ngx_http_ddt_redis_conn_setup(conn, cycle->log);

    if (rcf->sentinels) {
        ngx_memzero(&ngx_http_ddt_redis_sentinel,
                    sizeof(ngx_http_ddt_redis_sentinel_t));
        ngx_http_ddt_redis_sentinel.backoff = NGX_HTTP_DDT_REDIS_BACKOFF_MIN;
        ngx_http_ddt_redis_sentinel.timer.handler =
                                        ngx_http_ddt_redis_sentinel_timer;
        ngx_http_ddt_redis_sentinel.timer.log = cycle->log;

        /* never NULL: nginx's debug log reads the "fd" of a timer's data */
        ngx_http_ddt_redis_sentinel.timer.data = &ngx_http_ddt_redis_sentinel;
        ngx_http_ddt_redis_sentinel.timer.cancelable = 1;

        ngx_http_ddt_redis_have_target = 0;
        ngx_http_ddt_redis_sentinel_connect();

        return NGX_OK;
    }

    ngx_http_ddt_redis_target = rcf->addr;
    ngx_http_ddt_redis_have_target = 1;

    for (i = 0; i < rcf->pool_size; i++) {
        ngx_http_ddt_redis_connect(&ngx_http_ddt_redis_pool[i]);
    }

    ngx_http_ddt_redis_connect(&ngx_http_ddt_redis_sub);

    return NGX_OK;
}


void
ngx_http_ddt_redis_subscribe(ngx_http_ddt_redis_message_pt on_message,
    ngx_http_ddt_redis_lost_pt on_lost, ngx_http_ddt_redis_ready_pt on_ready)
{
    ngx_http_ddt_redis_on_message = on_message;
    ngx_http_ddt_redis_on_lost = on_lost;
    ngx_http_ddt_redis_on_ready = on_ready;
}


ngx_uint_t
ngx_http_ddt_redis_subscribed(void)
{
    return ngx_http_ddt_redis_on_message
           && ngx_http_ddt_redis_sub.state == NGX_HTTP_DDT_REDIS_READY;
}


ngx_uint_t
ngx_http_ddt_redis_subscribing(void)
{
    return ngx_http_ddt_redis_on_message
           && ngx_http_ddt_redis_sub.state != NGX_HTTP_DDT_REDIS_DOWN;
}


/* worker exit: stop the connection's timer and free its context, unhooked */

static void
ngx_http_ddt_redis_conn_shut(ngx_http_ddt_redis_conn_t *conn)
{
    redisAsyncContext  *ac;

    if (conn->timer.timer_set) {
        ngx_del_timer(&conn->timer);
    }

    ac = conn->ac;
    conn->ac = NULL;
    conn->state = NGX_HTTP_DDT_REDIS_DOWN;

    if (ac) {
        ac->onDisconnect = NULL;
        redisAsyncFree(ac);
    }
}


/*
 * Worker exit: unhook what is still pending (no request code runs in an
 * exiting process), free every context (a command in flight either ran
 * whole in Redis or not at all), no synchronous command, no timer left.
 */

void
ngx_http_ddt_redis_conn_exit(ngx_cycle_t *cycle)
{
    ngx_uint_t                     i;
    ngx_queue_t                   *q;
    redisAsyncContext             *ac;
    ngx_http_ddt_redis_conn_t     *conn;
    ngx_http_ddt_redis_pending_t  *p;

    if (ngx_http_ddt_redis_rcf == NULL) {
        return;
    }

    ngx_http_ddt_redis_exiting = 1;

    for (i = 0; i < ngx_http_ddt_redis_npool; i++) {
        conn = &ngx_http_ddt_redis_pool[i];

        /* the process is going: no request code runs from here on */

        for (q = ngx_queue_head(&conn->pending);
             q != ngx_queue_sentinel(&conn->pending);
             q = ngx_queue_next(q))
        {
            p = ngx_queue_data(q, ngx_http_ddt_redis_pending_t, queue);
            p->handler = NULL;
            p->data = NULL;
        }

        ngx_http_ddt_redis_conn_shut(conn);
    }

    ngx_http_ddt_redis_conn_shut(&ngx_http_ddt_redis_sub);

    ngx_http_ddt_redis_on_message = NULL;
    ngx_http_ddt_redis_on_lost = NULL;
    ngx_http_ddt_redis_on_ready = NULL;

    if (ngx_http_ddt_redis_sentinel.timer.timer_set) {
        ngx_del_timer(&ngx_http_ddt_redis_sentinel.timer);
    }

    ac = ngx_http_ddt_redis_sentinel.ac;
    ngx_http_ddt_redis_sentinel.ac = NULL;

    if (ac) {
        ac->onDisconnect = NULL;
        redisAsyncFree(ac);
    }

    while (!ngx_queue_empty(&ngx_http_ddt_redis_waiting)) {
        q = ngx_queue_head(&ngx_http_ddt_redis_waiting);
        ngx_queue_remove(q);
        p = ngx_queue_data(q, ngx_http_ddt_redis_pending_t, queue);

        if (p->timer.timer_set) {
            ngx_del_timer(&p->timer);
        }

        redisFreeCommand(p->cmd);
        ngx_free(p);
    }

    while (!ngx_queue_empty(&ngx_http_ddt_redis_free)) {
        q = ngx_queue_head(&ngx_http_ddt_redis_free);
        ngx_queue_remove(q);
        p = ngx_queue_data(q, ngx_http_ddt_redis_pending_t, queue);
        ngx_free(p);
    }

    ngx_http_ddt_redis_rcf = NULL;
}


ngx_uint_t
ngx_http_ddt_redis_available(void)
{
    ngx_uint_t  i;

    for (i = 0; i < ngx_http_ddt_redis_npool; i++) {
        if (ngx_http_ddt_redis_pool[i].state == NGX_HTTP_DDT_REDIS_READY) {
            return 1;
        }
    }

    return 0;
}


/* ---- connecting ---------------------------------------------------------- */

static void
ngx_http_ddt_redis_connect(ngx_http_ddt_redis_conn_t *conn)
{
    int                              argc;
    char                             db[NGX_INT_T_LEN + 1];
    ngx_uint_t                       i;
    const char                      *argv[3];
    size_t                           argvlen[3];
    redisAsyncContext               *ac;
    ngx_http_ddt_redis_addr_t       *a;
    ngx_http_ddt_redis_main_conf_t  *rcf;

    rcf = ngx_http_ddt_redis_rcf;

    if (ngx_http_ddt_redis_exiting || !ngx_http_ddt_redis_have_target
        || (conn->subscriber && ngx_http_ddt_redis_on_message == NULL))
    {
        return;
    }

    a = &ngx_http_ddt_redis_target;

    ac = a->unix_socket ? redisAsyncConnectUnix(a->host)
                        : redisAsyncConnect(a->host, a->port);

    if (ac == NULL) {
        ngx_http_ddt_redis_fail(conn, "cannot connect", "out of memory");
        return;
    }

    if (ac->err) {
        ngx_http_ddt_redis_fail(conn, "cannot connect", ac->errstr);
        redisAsyncFree(ac);
        return;
    }

    if (ngx_http_ddt_redis_attach(ac, ngx_http_ddt_redis_log) != NGX_OK) {
        redisAsyncFree(ac);
        ngx_http_ddt_redis_fail(conn, "cannot connect", "no free connection");
        return;
    }

    ac->data = conn;
    redisAsyncSetConnectCallback(ac, ngx_http_ddt_redis_connected);
    redisAsyncSetDisconnectCallback(ac, ngx_http_ddt_redis_disconnected);

    conn->ac = ac;
    conn->state = NGX_HTTP_DDT_REDIS_CONNECTING;
    conn->init_left = 0;

    /* the handshake, queued: it is written as soon as the socket connects */

    if (rcf->password.len) {
        argv[0] = "AUTH";
        argvlen[0] = 4;
        argv[1] = (const char *) rcf->password.data;
        argvlen[1] = rcf->password.len;
        argc = 2;

        if (redisAsyncCommandArgv(ac, ngx_http_ddt_redis_init_reply, conn,
                                  argc, argv, argvlen)
            == REDIS_OK)
        {
            conn->init_left++;
        }
    }

    if (conn->subscriber) {

        /*
         * Channels are not per database: no SELECT.  Each subscription is
         * confirmed to the same callback as the messages that follow.
         */

        argv[0] = "SUBSCRIBE";
        argvlen[0] = 9;

        for (i = 0; i < 2; i++) {
            argv[1] = ngx_http_ddt_redis_channels[i];
            argvlen[1] = ngx_strlen(argv[1]);

            if (redisAsyncCommandArgv(ac, ngx_http_ddt_redis_sub_reply, conn,
                                      2, argv, argvlen)
                == REDIS_OK)
            {
                conn->init_left++;
            }
        }

        goto timer;
    }

    if (rcf->database) {
        argv[0] = "SELECT";
        argvlen[0] = 6;
        argv[1] = db;
        argvlen[1] = ngx_sprintf((u_char *) db, "%i", rcf->database)
                     - (u_char *) db;

        if (redisAsyncCommandArgv(ac, ngx_http_ddt_redis_init_reply, conn,
                                  2, argv, argvlen)
            == REDIS_OK)
        {
            conn->init_left++;
        }
    }

    for (i = 0; i < NGX_HTTP_DDT_REDIS_LUA_N; i++) {
        argv[0] = "SCRIPT";
        argvlen[0] = 6;
        argv[1] = "LOAD";
        argvlen[1] = 4;
        argv[2] = ngx_http_ddt_redis_scripts[i].text;
        argvlen[2] = ngx_http_ddt_redis_scripts[i].len;

        if (redisAsyncCommandArgv(ac, ngx_http_ddt_redis_init_reply, conn,
                                  3, argv, argvlen)
            == REDIS_OK)
        {
            conn->init_left++;
        }
    }

timer:

    if (conn->timer.timer_set) {
        ngx_del_timer(&conn->timer);
    }

    ngx_add_timer(&conn->timer, rcf->connect_timeout);
}


static void
ngx_http_ddt_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_http_ddt_redis_conn_t  *conn = ac->data;

    if (status != REDIS_OK && conn && conn->ac == ac) {
        /* hiredis frees the context after this: it is no longer ours */
        conn->ac = NULL;
        ngx_http_ddt_redis_fail(conn, "cannot connect", ac->errstr);
    }
}


static void
ngx_http_ddt_redis_disconnected(const redisAsyncContext *ac, int status)
{
    ngx_http_ddt_redis_conn_t  *conn = ac->data;

    if (conn && conn->ac == ac) {
        conn->ac = NULL;
        ngx_http_ddt_redis_fail(conn, "connection lost",
                                ac->errstr ? ac->errstr : "closed");
    }
}


static void
ngx_http_ddt_redis_init_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply                 *reply = r;
    ngx_http_ddt_redis_conn_t  *conn = privdata;

    if (conn->ac != ac) {
        return;
    }

    if (reply == NULL) {
        return;                 /* the connection is going: fail() follows */
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_http_ddt_redis_fail(conn, "handshake refused", reply->str);
        return;
    }

    if (--conn->init_left > 0) {
        return;
    }

    ngx_http_ddt_redis_ready(conn);
}


static void
ngx_http_ddt_redis_ready(ngx_http_ddt_redis_conn_t *conn)
{
    if (conn->timer.timer_set) {
        ngx_del_timer(&conn->timer);
    }

    conn->state = NGX_HTTP_DDT_REDIS_READY;
    conn->backoff = NGX_HTTP_DDT_REDIS_BACKOFF_MIN;

    if (conn->subscriber) {
        if (ngx_http_ddt_redis_on_ready) {
            ngx_http_ddt_redis_on_ready();
        }
        return;
    }

    if (!ngx_http_ddt_redis_was_up) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_http_ddt_redis_log, 0,
                      "ddt: redis %s is back after %ui failures",
                      ngx_http_ddt_redis_where(), ngx_http_ddt_redis_failed);
        ngx_http_ddt_redis_was_up = 1;
        ngx_http_ddt_redis_failed = 0;
    }
}


/*
 * The connection is unusable: free the context now (every pending reply
 * is answered NULL), go DOWN and retry after a backoff.  The first failure
 * after a working period is logged; the rest of the burst is counted.
 */

static void
ngx_http_ddt_redis_fail(ngx_http_ddt_redis_conn_t *conn, const char *why,
    const char *detail)
{
    ngx_uint_t          was_ready;
    redisAsyncContext  *ac;

    ac = conn->ac;
    was_ready = (conn->state == NGX_HTTP_DDT_REDIS_READY);
    conn->ac = NULL;
    conn->state = NGX_HTTP_DDT_REDIS_DOWN;
    conn->init_left = 0;

    if (conn->timer.timer_set) {
        ngx_del_timer(&conn->timer);
    }

    if (ngx_http_ddt_redis_exiting) {
        if (ac) {
            ac->onDisconnect = NULL;
            redisAsyncFree(ac);
        }
        return;
    }

    if (conn->subscriber) {
        if (was_ready) {
            ngx_log_error(NGX_LOG_WARN, ngx_http_ddt_redis_log, 0,
                          "ddt: redis %s: subscriber %s: %s; critical "
                          "turns answer durable false until it is back",
                          ngx_http_ddt_redis_where(), why,
                          detail ? detail : "");
        }

        ngx_add_timer(&conn->timer, conn->backoff);

        conn->backoff *= 2;
        if (conn->backoff > NGX_HTTP_DDT_REDIS_BACKOFF_MAX) {
            conn->backoff = NGX_HTTP_DDT_REDIS_BACKOFF_MAX;
        }

        if (ac) {
            ac->onDisconnect = NULL;
            redisAsyncFree(ac);
        }

        /* what was published meanwhile is lost to the waiters */
        if (ngx_http_ddt_redis_on_lost) {
            ngx_http_ddt_redis_on_lost();
        }

        return;
    }

    ngx_http_ddt_redis_failed++;

    if (ngx_http_ddt_redis_was_up && !ngx_http_ddt_redis_available()) {
        ngx_log_error(NGX_LOG_ERR, ngx_http_ddt_redis_log, 0,
                      "ddt: redis %s: %s: %s; session requests answer "
                      "503 until it is back",
                      ngx_http_ddt_redis_where(), why,
                      detail ? detail : "");
        ngx_http_ddt_redis_was_up = 0;
    }

    ngx_add_timer(&conn->timer, conn->backoff);

    conn->backoff *= 2;
    if (conn->backoff > NGX_HTTP_DDT_REDIS_BACKOFF_MAX) {
        conn->backoff = NGX_HTTP_DDT_REDIS_BACKOFF_MAX;
    }

    if (ac) {
        ac->onDisconnect = NULL;
        redisAsyncFree(ac);
    }

    if (was_ready && ngx_http_ddt_redis_rcf->sentinels
        && ngx_http_ddt_redis_sentinel.ac
        && ngx_http_ddt_redis_sentinel.answered)
    {
        /* a working master went away: it may have moved, ask again */
        ngx_http_ddt_redis_sentinel_drop(NULL);
    }
}


static void
ngx_http_ddt_redis_timer_handler(ngx_event_t *ev)
{
    ngx_http_ddt_redis_conn_t  *conn = ev->data;

    if (conn->state == NGX_HTTP_DDT_REDIS_CONNECTING) {
        ngx_http_ddt_redis_fail(conn, "connect timed out",
                                "no answer to the handshake");
        return;
    }

    if (conn->state == NGX_HTTP_DDT_REDIS_DOWN) {
        ngx_http_ddt_redis_connect(conn);
    }
}


void
ngx_http_ddt_redis_reset(const char *why)
{
    ngx_uint_t                  i;
    ngx_http_ddt_redis_conn_t  *conn;

    for (i = 0; i < ngx_http_ddt_redis_npool; i++) {
        conn = &ngx_http_ddt_redis_pool[i];

        if (conn->state != NGX_HTTP_DDT_REDIS_DOWN) {
            ngx_http_ddt_redis_fail(conn, "dropped", why);
        }
    }

    if (ngx_http_ddt_redis_sub.state != NGX_HTTP_DDT_REDIS_DOWN) {
        ngx_http_ddt_redis_fail(&ngx_http_ddt_redis_sub, "dropped", why);
    }
}


/* ---- commands ------------------------------------------------------------ */

ngx_http_ddt_redis_pending_t *
ngx_http_ddt_redis_command(ngx_http_ddt_redis_reply_pt handler, void *data,
    int argc, const char **argv, const size_t *argvlen)
{
    ngx_uint_t                     i, n;
    ngx_queue_t                   *q;
    ngx_http_ddt_redis_conn_t     *conn, *c;
    ngx_http_ddt_redis_pending_t  *p;

    if (ngx_http_ddt_redis_rcf == NULL || ngx_http_ddt_redis_exiting) {
        return NULL;
    }

    /* round robin over ready connections, else one that is connecting */

    conn = NULL;
    n = ngx_http_ddt_redis_npool;

    for (i = 0; i < n; i++) {
        c = &ngx_http_ddt_redis_pool[(ngx_http_ddt_redis_rr + i) % n];

        if (c->state == NGX_HTTP_DDT_REDIS_READY) {
            conn = c;
            ngx_http_ddt_redis_rr = (ngx_http_ddt_redis_rr + i + 1) % n;
            break;
        }

        if (c->state == NGX_HTTP_DDT_REDIS_CONNECTING && conn == NULL) {
            conn = c;
        }
    }

    if (conn == NULL && ngx_http_ddt_redis_have_target) {
        return NULL;
    }

    if (!ngx_queue_empty(&ngx_http_ddt_redis_free)) {
        q = ngx_queue_head(&ngx_http_ddt_redis_free);
        ngx_queue_remove(q);
        p = ngx_queue_data(q, ngx_http_ddt_redis_pending_t, queue);

    } else {
        p = ngx_alloc(sizeof(ngx_http_ddt_redis_pending_t),
                      ngx_http_ddt_redis_log);
        if (p == NULL) {
            return NULL;
        }
    }

    ngx_memzero(p, sizeof(ngx_http_ddt_redis_pending_t));
    p->conn = conn;
    p->handler = handler;
    p->data = data;
    p->timer.handler = ngx_http_ddt_redis_pending_timeout;
    p->timer.data = p;
    p->timer.log = ngx_http_ddt_redis_log;

    /*
     * Not cancelable: a worker shutting down gracefully (reload) waits for
     * the requests it still serves, at most ddt_redis_timeout each.  The
     * connect, backoff and sentinel timers are cancelable.
     */
    p->timer.cancelable = 0;

    if (conn == NULL) {

        /* no master known yet: keep the command until there is one */

        p->cmdlen = redisFormatCommandArgv(&p->cmd, argc, argv, argvlen);
        if (p->cmdlen < 0) {
            p->cmd = NULL;
            ngx_queue_insert_head(&ngx_http_ddt_redis_free, &p->queue);
            return NULL;
        }

        ngx_queue_insert_tail(&ngx_http_ddt_redis_waiting, &p->queue);
        ngx_add_timer(&p->timer, ngx_http_ddt_redis_rcf->timeout);

        return p;
    }

    if (redisAsyncCommandArgv(conn->ac, ngx_http_ddt_redis_reply, p, argc,
                              argv, argvlen)
        != REDIS_OK)
    {
        ngx_queue_insert_head(&ngx_http_ddt_redis_free, &p->queue);
        return NULL;
    }

    ngx_queue_insert_tail(&conn->pending, &p->queue);
    ngx_add_timer(&p->timer, ngx_http_ddt_redis_rcf->timeout);

    return p;
}


/* The pool has a connection again: send what waited for one. */

static void
ngx_http_ddt_redis_flush_waiting(void)
{
    ngx_uint_t                     i;
    ngx_queue_t                   *q;
    ngx_http_ddt_redis_conn_t     *conn, *c;
    ngx_http_ddt_redis_pending_t  *p;

    while (!ngx_queue_empty(&ngx_http_ddt_redis_waiting)) {

        conn = NULL;

        for (i = 0; i < ngx_http_ddt_redis_npool; i++) {
            c = &ngx_http_ddt_redis_pool[(ngx_http_ddt_redis_rr + i)
                                         % ngx_http_ddt_redis_npool];

            if (c->state != NGX_HTTP_DDT_REDIS_DOWN) {
                conn = c;
                ngx_http_ddt_redis_rr++;
                break;
            }
        }

        if (conn == NULL) {
            return;
        }

        q = ngx_queue_head(&ngx_http_ddt_redis_waiting);
        ngx_queue_remove(q);
        p = ngx_queue_data(q, ngx_http_ddt_redis_pending_t, queue);

        if (redisAsyncFormattedCommand(conn->ac, ngx_http_ddt_redis_reply, p,
                                       p->cmd, p->cmdlen)
            == REDIS_OK)
        {
            redisFreeCommand(p->cmd);
            p->cmd = NULL;
            p->conn = conn;
            ngx_queue_insert_tail(&conn->pending, &p->queue);
            continue;
        }

        /* could not be sent: it fails now */

        if (p->timer.timer_set) {
            ngx_del_timer(&p->timer);
        }

        redisFreeCommand(p->cmd);
        p->cmd = NULL;
        ngx_http_ddt_redis_pending_done(p, NULL);
    }
}


void
ngx_http_ddt_redis_cancel(ngx_http_ddt_redis_pending_t *p)
{
    /* the timer stays: a connection that never answers is still dropped */

    p->handler = NULL;
    p->data = NULL;
}


static void
ngx_http_ddt_redis_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    ngx_http_ddt_redis_pending_t  *p = privdata;

    if (p->timer.timer_set) {
        ngx_del_timer(&p->timer);
    }

    ngx_queue_remove(&p->queue);

    ngx_http_ddt_redis_pending_done(p, r);
}


static void
ngx_http_ddt_redis_pending_timeout(ngx_event_t *ev)
{
    ngx_http_ddt_redis_pending_t  *p = ev->data;

    if (p->conn == NULL) {
        /* waited for a master that was not found in time */

        ngx_queue_remove(&p->queue);
        redisFreeCommand(p->cmd);
        p->cmd = NULL;
        ngx_http_ddt_redis_pending_done(p, NULL);

        return;
    }

    /* frees the context: this record's callback runs with NULL too */

    ngx_http_ddt_redis_fail(p->conn, "command timed out",
                            "no reply within ddt_redis_timeout");
}


/* ---- the subscriber ------------------------------------------------------ */

/*
 * Subscription confirmations ("subscribe", channel, count) finish the
 * handshake; messages ("message", channel, payload) go to the waiters.
 * A NULL reply means the context is being freed: fail() or the
 * disconnect callback deals with it.
 */

static void
ngx_http_ddt_redis_sub_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    ngx_str_t                   channel, payload;
    redisReply                 *reply = r, *kind;
    ngx_http_ddt_redis_conn_t  *conn = privdata;

    if (conn->ac != ac || reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_http_ddt_redis_fail(conn, "subscribe refused", reply->str);
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    kind = reply->element[0];

    if (kind->len == 9 && ngx_strncmp(kind->str, "subscribe", 9) == 0) {
        if (conn->init_left > 0 && --conn->init_left == 0) {
            ngx_http_ddt_redis_ready(conn);
        }
        return;
    }

    if (kind->len != 7 || ngx_strncmp(kind->str, "message", 7) != 0
        || reply->element[2]->type != REDIS_REPLY_STRING
        || ngx_http_ddt_redis_on_message == NULL)
    {
        return;
    }

    channel.data = (u_char *) reply->element[1]->str;
    channel.len = reply->element[1]->len;
    payload.data = (u_char *) reply->element[2]->str;
    payload.len = reply->element[2]->len;

    ngx_http_ddt_redis_on_message(&channel, &payload);
}


/* ---- Sentinel ------------------------------------------------------------ */

static void
ngx_http_ddt_redis_sentinel_connect(void)
{
    const char                      *argv[4];
    size_t                           argvlen[4];
    redisAsyncContext               *ac;
    ngx_http_ddt_redis_addr_t       *sa;
    ngx_http_ddt_redis_main_conf_t  *rcf;
    ngx_http_ddt_redis_sentinel_t   *s;

    rcf = ngx_http_ddt_redis_rcf;
    s = &ngx_http_ddt_redis_sentinel;

    if (ngx_http_ddt_redis_exiting || s->ac) {
        return;
    }

    sa = rcf->sentinels->elts;
    sa = &sa[s->next % rcf->sentinels->nelts];
    s->next++;
    s->answered = 0;

    ac = sa->unix_socket ? redisAsyncConnectUnix(sa->host)
                         : redisAsyncConnect(sa->host, sa->port);

    if (ac == NULL || ac->err
        || ngx_http_ddt_redis_attach(ac, ngx_http_ddt_redis_log) != NGX_OK)
    {
        if (ac) {
            redisAsyncFree(ac);
        }

        ngx_http_ddt_redis_sentinel_drop("cannot connect");
        return;
    }

    s->ac = ac;
    ac->data = s;
    redisAsyncSetDisconnectCallback(ac,
                                    ngx_http_ddt_redis_sentinel_disconnected);

    argv[0] = "SENTINEL";
    argvlen[0] = 8;
    argv[1] = "get-master-addr-by-name";
    argvlen[1] = sizeof("get-master-addr-by-name") - 1;
    argv[2] = (const char *) rcf->master.data;
    argvlen[2] = rcf->master.len;

    (void) redisAsyncCommandArgv(ac, ngx_http_ddt_redis_sentinel_master, s,
                                 3, argv, argvlen);

    argv[0] = "SUBSCRIBE";
    argvlen[0] = 9;
    argv[1] = "+switch-master";
    argvlen[1] = sizeof("+switch-master") - 1;

    (void) redisAsyncCommandArgv(ac, ngx_http_ddt_redis_sentinel_message, s,
                                 2, argv, argvlen);

    if (s->timer.timer_set) {
        ngx_del_timer(&s->timer);
    }

    ngx_add_timer(&s->timer, rcf->connect_timeout);
}


/* Drop the sentinel context and ask the next sentinel (after a backoff). */

static void
ngx_http_ddt_redis_sentinel_drop(const char *why)
{
    redisAsyncContext              *ac;
    ngx_http_ddt_redis_sentinel_t  *s;

    s = &ngx_http_ddt_redis_sentinel;

    ac = s->ac;
    s->ac = NULL;

    if (s->timer.timer_set) {
        ngx_del_timer(&s->timer);
    }

    if (ngx_http_ddt_redis_exiting) {
        return;
    }

    if (why) {
        ngx_log_error(NGX_LOG_WARN, ngx_http_ddt_redis_log, 0,
                      "ddt: redis sentinel: %s", why);
    }

    ngx_add_timer(&s->timer, why ? s->backoff : 1);

    if (why) {
        s->backoff *= 2;
        if (s->backoff > NGX_HTTP_DDT_REDIS_BACKOFF_MAX) {
            s->backoff = NGX_HTTP_DDT_REDIS_BACKOFF_MAX;
        }
    }

    if (ac) {
        ac->onDisconnect = NULL;
        redisAsyncFree(ac);
    }
}


static void
ngx_http_ddt_redis_sentinel_timer(ngx_event_t *ev)
{
    ngx_http_ddt_redis_sentinel_t  *s = &ngx_http_ddt_redis_sentinel;

    if (s->ac && !s->answered) {
        ngx_http_ddt_redis_sentinel_drop("no answer");
        return;
    }

    if (s->ac == NULL) {
        ngx_http_ddt_redis_sentinel_connect();
    }
}


static void
ngx_http_ddt_redis_sentinel_disconnected(const redisAsyncContext *ac,
    int status)
{
    ngx_http_ddt_redis_sentinel_t  *s = ac->data;

    if (s->ac == ac) {
        s->ac = NULL;
        ngx_http_ddt_redis_sentinel_drop("connection lost");
    }
}


/* Point the pool at host:port; drop connections to any other address. */

static void
ngx_http_ddt_redis_set_master(const char *host, size_t hlen, int port)
{
    ngx_uint_t                  i, same;
    ngx_http_ddt_redis_conn_t  *conn;
    ngx_http_ddt_redis_addr_t  *t;

    t = &ngx_http_ddt_redis_target;

    if (hlen >= sizeof(t->host)) {
        return;
    }

    same = ngx_http_ddt_redis_have_target && t->port == port
           && ngx_strlen(t->host) == hlen
           && ngx_strncmp(t->host, host, hlen) == 0;

    if (!same) {
        if (ngx_http_ddt_redis_have_target) {
            ngx_log_error(NGX_LOG_NOTICE, ngx_http_ddt_redis_log, 0,
                          "ddt: redis master \"%V\" is now %*s:%d",
                          &ngx_http_ddt_redis_rcf->master, hlen, host, port);
        }

        ngx_memcpy(t->host, host, hlen);
        t->host[hlen] = '\0';
        t->port = port;
        t->unix_socket = 0;
        ngx_http_ddt_redis_have_target = 1;
    }

    for (i = 0; i < ngx_http_ddt_redis_npool; i++) {
        conn = &ngx_http_ddt_redis_pool[i];

        if (!same && conn->state != NGX_HTTP_DDT_REDIS_DOWN) {
            ngx_http_ddt_redis_fail(conn, "master moved",
                                    "reconnecting to the new master");
        }

        if (!same && conn->state == NGX_HTTP_DDT_REDIS_DOWN) {
            /* now, not after the backoff */
            conn->backoff = NGX_HTTP_DDT_REDIS_BACKOFF_MIN;
            ngx_http_ddt_redis_connect(conn);
        }
    }

    conn = &ngx_http_ddt_redis_sub;

    if (!same && conn->state != NGX_HTTP_DDT_REDIS_DOWN) {
        ngx_http_ddt_redis_fail(conn, "master moved",
                                "reconnecting to the new master");
    }

    if (conn->state == NGX_HTTP_DDT_REDIS_DOWN && conn->ac == NULL) {
        conn->backoff = NGX_HTTP_DDT_REDIS_BACKOFF_MIN;
        ngx_http_ddt_redis_connect(conn);
    }

    ngx_http_ddt_redis_flush_waiting();
}


static void
ngx_http_ddt_redis_sentinel_master(redisAsyncContext *ac, void *r,
    void *privdata)
{
    int                             port;
    redisReply                     *reply = r;
    ngx_http_ddt_redis_sentinel_t  *s = privdata;

    if (s->ac != ac || reply == NULL) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_STRING)
    {
        ngx_http_ddt_redis_sentinel_drop("the sentinel does not know the "
                                         "master");
        return;
    }

    port = ngx_atoi((u_char *) reply->element[1]->str,
                    reply->element[1]->len);
    if (port <= 0 || port > 65535) {
        ngx_http_ddt_redis_sentinel_drop("bad master port");
        return;
    }

    s->answered = 1;
    s->backoff = NGX_HTTP_DDT_REDIS_BACKOFF_MIN;

    if (s->timer.timer_set) {
        ngx_del_timer(&s->timer);
    }

    s->next--;                  /* keep asking the one that answers */

    ngx_http_ddt_redis_set_master(reply->element[0]->str,
                                  reply->element[0]->len, port);
}


/* "+switch-master" message: "<name> <old-ip> <old-port> <ip> <port>" */

static void
ngx_http_ddt_redis_sentinel_message(redisAsyncContext *ac, void *r,
    void *privdata)
{
    u_char                          *p, *last, *f[5];
    size_t                           fl[5];
    ngx_int_t                        port;
    ngx_uint_t                       n;
    redisReply                      *reply = r, *msg;
    ngx_http_ddt_redis_main_conf_t  *rcf;
    ngx_http_ddt_redis_sentinel_t   *s = privdata;

    rcf = ngx_http_ddt_redis_rcf;

    if (s->ac != ac || reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 3
        || reply->element[0]->type != REDIS_REPLY_STRING
        || ngx_strncmp(reply->element[0]->str, "message", 7) != 0)
    {
        return;
    }

    msg = reply->element[2];
    if (msg->type != REDIS_REPLY_STRING) {
        return;
    }

    p = (u_char *) msg->str;
    last = p + msg->len;

    for (n = 0; n < 5 && p < last; n++) {
        f[n] = p;
        while (p < last && *p != ' ') {
            p++;
        }
        fl[n] = p - f[n];
        while (p < last && *p == ' ') {
            p++;
        }
    }

    if (n != 5 || fl[0] != rcf->master.len
        || ngx_strncmp(f[0], rcf->master.data, fl[0]) != 0)
    {
        return;
    }

    port = ngx_atoi(f[4], fl[4]);
    if (port <= 0 || port > 65535) {
        return;
    }

    ngx_http_ddt_redis_set_master((const char *) f[3], fl[3], (int) port);
}
