
/*
 * ngx_http_ddt_store_redis.c: the session store in Redis (SPEC 8, 9.7),
 * behind ngx_http_ddt_store.h.  Keys carry the shard's hash tag:
 *
 *   ddt:{<shard>}:s:<id>       hash: ver, status, state (with the TTL)
 *   ddt:{<shard>}:t:<id>       hash: turnId -> ver
 *   ddt:{<shard>}:snapshots    stream: sid, ver, critical, state, turn
 *   ddt:{<shard>}:outbox       stream: sid, ver, type, action
 *
 * shard = CRC16(id) mod ddt_redis_shards.  A turn is two round trips: an
 * HMGET of the session, then the turn script (lua/turn.lua, EVALSHA) that
 * writes only if the version is still the one read, renews the TTL, XADDs
 * the snapshot and appends the outbox, atomically.  No lock: two turns on
 * one session both run, the second write finds a newer version and is a
 * 409 with nothing written.  Every operation completes from a reply
 * callback (NGX_AGAIN); a request that goes away unhooks its command
 * through a pool cleanup, so its memory is never touched afterwards.
 * Connections, timeouts and reconnects are ngx_http_ddt_redis_conn.c's.
 *
 * With a persister (ddt_persister on, SPEC 9.7), two more steps:
 *
 *   restore   a turn (or DELETE) that finds no session: EXISTS of the
 *             heartbeat ddt:persister:alive (absent, and not seen by this
 *             worker for 10 s: 404 as without a persister), a wait by
 *             nonce, XADD ddt:restore * sid <id> reply <nonce>; on
 *             "found" the session is read again and the turn goes on
 *             ("restored": true, "restoredFrom": <ver>),
 *             "missing" is 404, "expired" 410, no answer within
 *             ddt_restore_timeout 503;
 *   durable   a critical turn that committed (ddt_critical_sync on): a
 *             wait for "<id>:<ver>" on ddt:durable, then one MGET of the
 *             heartbeat and ddt:{<shard>}:d:<id> (a ver published before
 *             the wait began is read there); "durable": true when either
 *             covers the turn's ver within ddt_critical_wait, false when
 *             the heartbeat is absent (at once) or the time is up.
 *
 * The waits are ngx_http_ddt_redis_wait.c's.
 */

#include "ngx_http_ddt_module.h"
#include "ngx_http_ddt_store.h"
#include "ngx_http_ddt_redis_conn.h"
#include "ngx_http_ddt_redis_wait.h"
#include "ngx_http_ddt_redis_scripts.h"


#define NGX_HTTP_DDT_REDIS_KEY_MAX  (NGX_HTTP_DDT_ID_MAX + 64)

#define NGX_HTTP_DDT_REDIS_OP_GET     1
#define NGX_HTTP_DDT_REDIS_OP_PUT     2
#define NGX_HTTP_DDT_REDIS_OP_DEL     3
#define NGX_HTTP_DDT_REDIS_OP_HEALTH  4
#define NGX_HTTP_DDT_REDIS_OP_ALIVE   5     /* restore: the heartbeat */
#define NGX_HTTP_DDT_REDIS_OP_RESTORE 6     /* restore: the request */
#define NGX_HTTP_DDT_REDIS_OP_DURABLE 7     /* heartbeat and d: key */

#define NGX_HTTP_DDT_REDIS_ALIVE_KEY  "ddt:persister:alive"
#define NGX_HTTP_DDT_REDIS_RESTORE_STREAM  "ddt:restore"
/* a guard for requests no persister reads; the persister trims it */
#define NGX_HTTP_DDT_REDIS_RESTORE_CAP     "10000"

/*
 * A heartbeat this worker saw within this time still counts for a restore
 * when it is missing now: a FLUSHALL (or a Redis restarted empty) takes
 * the heartbeat with the sessions, and the persister sets it again only
 * at its next beat, just when the turns that need a restore come in.
 */
#define NGX_HTTP_DDT_REDIS_ALIVE_GRACE     10000

/* arguments of the turn script: EVALSHA sha 4 keys... args... */
#define NGX_HTTP_DDT_REDIS_PUT_ARGC   18


typedef struct {
    ngx_http_ddt_redis_pending_t  *pending;
    ngx_uint_t                     kind;
    ngx_uint_t                     retried;     /* EVAL after NOSCRIPT */
    int                            argc;
    const char                    *argv[NGX_HTTP_DDT_REDIS_PUT_ARGC];
    size_t                         argvlen[NGX_HTTP_DDT_REDIS_PUT_ARGC];
    u_char                         keys[4][NGX_HTTP_DDT_REDIS_KEY_MAX];
    u_char                         nums[4][NGX_INT64_LEN + 1];

    /* restore and critical sync */
    ngx_http_ddt_store_op_t       *op;
    ngx_http_ddt_redis_waiter_t    waiter;
    ngx_uint_t                     restore_of;  /* GET or DEL, again */
    uint64_t                       restored_from;
    unsigned                       restoring:1;
    unsigned                       durable:1;
    u_char                         extra[sizeof(",\"durable\":false"
                                                ",\"restored\":true"
                                                ",\"restoredFrom\":")
                                         + NGX_INT64_LEN];
} ngx_http_ddt_redis_op_t;


static ngx_int_t ngx_http_ddt_store_redis_get(ngx_http_ddt_store_op_t *op);
static ngx_int_t ngx_http_ddt_store_redis_put(ngx_http_ddt_store_op_t *op);
static ngx_int_t ngx_http_ddt_store_redis_del(ngx_http_ddt_store_op_t *op);
static void ngx_http_ddt_store_redis_release(ngx_http_ddt_store_op_t *op);
static ngx_int_t ngx_http_ddt_store_redis_health(
    ngx_http_ddt_store_op_t *op);
static ngx_uint_t ngx_http_ddt_store_redis_count(
    ngx_http_ddt_main_conf_t *mcf);
static void ngx_http_ddt_store_redis_reply(void *data, redisReply *reply);
static void ngx_http_ddt_redis_waited(ngx_http_ddt_redis_waiter_t *w,
    ngx_uint_t result);
static void ngx_http_ddt_redis_restore_send(ngx_http_ddt_store_op_t *op,
    ngx_http_ddt_redis_op_t *ro);
static void ngx_http_ddt_redis_durable_send(ngx_http_ddt_store_op_t *op,
    ngx_http_ddt_redis_op_t *ro);


/* when this worker last saw the persister's heartbeat (0: never) */
static ngx_msec_t  ngx_http_ddt_redis_alive_seen;


ngx_http_ddt_store_t  ngx_http_ddt_store_redis = {
    "redis",
    ngx_http_ddt_store_redis_get,
    ngx_http_ddt_store_redis_put,
    ngx_http_ddt_store_redis_del,
    ngx_http_ddt_store_redis_release,
    ngx_http_ddt_store_redis_health,
    ngx_http_ddt_store_redis_count
};


/* CRC16-CCITT (XMODEM), the one Redis Cluster hashes keys with */

static uint16_t
ngx_http_ddt_redis_crc16(u_char *p, size_t len)
{
    int       i;
    uint16_t  crc;

    crc = 0;

    while (len--) {
        crc ^= (uint16_t) *p++ << 8;

        for (i = 0; i < 8; i++) {
            crc = (crc & 0x8000) ? (uint16_t) ((crc << 1) ^ 0x1021)
                                 : (uint16_t) (crc << 1);
        }
    }

    return crc;
}


/* "ddt:{<shard>}:<what>" with ":<id>" unless id is NULL; returns length */

static size_t
ngx_http_ddt_redis_key(u_char *buf, ngx_str_t *id, ngx_str_t *sid,
    const char *what)
{
    u_char                          *p;
    ngx_uint_t                       shard;
    ngx_http_ddt_redis_main_conf_t  *rcf;

    rcf = ngx_http_ddt_redis_conf();

    shard = ngx_http_ddt_redis_crc16(sid->data, sid->len) % rcf->shards;

    p = ngx_sprintf(buf, "ddt:{%ui}:%s", shard, what);

    if (id) {
        p = ngx_sprintf(p, ":%V", id);
    }

    return p - buf;
}


static void
ngx_http_ddt_store_redis_cleanup(void *data)
{
    ngx_http_ddt_redis_op_t  *ro = data;

    if (ro->pending) {
        ngx_http_ddt_redis_cancel(ro->pending);
        ro->pending = NULL;
    }

    ngx_http_ddt_redis_wait_cancel(&ro->waiter);
}


/* what every turn response gets: "durable", and "restored" after one */

static void
ngx_http_ddt_redis_extra(ngx_http_ddt_store_op_t *op,
    ngx_http_ddt_redis_op_t *ro)
{
    u_char  *p;

    p = ngx_sprintf(ro->extra, ",\"durable\":%s",
                    ro->durable ? "true" : "false");

    if (ro->restored_from) {
        p = ngx_sprintf(p, ",\"restored\":true,\"restoredFrom\":%uL",
                        ro->restored_from);
    }

    op->response_extra.data = ro->extra;
    op->response_extra.len = p - ro->extra;
}


/* The op's Redis state, with a pool cleanup that unhooks its command. */

static ngx_http_ddt_redis_op_t *
ngx_http_ddt_redis_op(ngx_http_ddt_store_op_t *op, ngx_uint_t kind)
{
    ngx_pool_cleanup_t       *cln;
    ngx_http_ddt_redis_op_t  *ro;

    ro = op->store_data;

    if (ro == NULL) {
        ro = ngx_pcalloc(op->pool, sizeof(ngx_http_ddt_redis_op_t));
        if (ro == NULL) {
            return NULL;
        }

        cln = ngx_pool_cleanup_add(op->pool, 0);
        if (cln == NULL) {
            return NULL;
        }

        cln->handler = ngx_http_ddt_store_redis_cleanup;
        cln->data = ro;

        ro->op = op;
        ro->waiter.data = ro;
        ro->waiter.handler = ngx_http_ddt_redis_waited;

        op->store_data = ro;
    }

    ro->kind = kind;
    ro->retried = 0;
    ro->durable = 0;

    /* every turn response says whether it is durable (SPEC 9.7) */
    ngx_http_ddt_redis_extra(op, ro);

    return ro;
}


static ngx_int_t
ngx_http_ddt_redis_send(ngx_http_ddt_store_op_t *op,
    ngx_http_ddt_redis_op_t *ro)
{
    ro->pending = ngx_http_ddt_redis_command(ngx_http_ddt_store_redis_reply,
                                             op, ro->argc, ro->argv,
                                             ro->argvlen);
    if (ro->pending == NULL) {
        op->rc = NGX_ERROR;
        return op->rc;
    }

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_ddt_store_redis_get(ngx_http_ddt_store_op_t *op)
{
    ngx_http_ddt_redis_op_t  *ro;

    ro = ngx_http_ddt_redis_op(op, NGX_HTTP_DDT_REDIS_OP_GET);
    if (ro == NULL) {
        op->rc = NGX_ERROR;
        return op->rc;
    }

    ro->argv[0] = "HMGET";
    ro->argvlen[0] = 5;
    ro->argv[1] = (const char *) ro->keys[0];
    ro->argvlen[1] = ngx_http_ddt_redis_key(ro->keys[0], &op->id, &op->id,
                                            "s");
    ro->argv[2] = "ver";
    ro->argvlen[2] = 3;
    ro->argv[3] = "status";
    ro->argvlen[3] = 6;
    ro->argv[4] = "state";
    ro->argvlen[4] = 5;
    ro->argc = 5;

    return ngx_http_ddt_redis_send(op, ro);
}


static u_char *
ngx_http_ddt_redis_num(ngx_http_ddt_redis_op_t *ro, ngx_uint_t i,
    int64_t n, size_t *len)
{
    *len = ngx_sprintf(ro->nums[i], "%L", n) - ro->nums[i];
    return ro->nums[i];
}


/* {"input":...,"response":...,"at":...}: the stream's `turn` field */

static ngx_int_t
ngx_http_ddt_redis_turn_json(ngx_http_ddt_store_op_t *op, ngx_str_t *out)
{
    u_char  *p;
    size_t   len;

    len = sizeof("{\"input\":,\"response\":,\"at\":}") - 1
          + (op->input.len ? op->input.len : 4)
          + (op->response.len ? op->response.len : 4)
          + NGX_INT64_LEN;

    out->data = ngx_pnalloc(op->pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(out->data, "{\"input\":", sizeof("{\"input\":") - 1);

    if (op->input.len) {
        p = ngx_cpymem(p, op->input.data, op->input.len);

    } else {
        p = ngx_cpymem(p, "null", 4);
    }

    p = ngx_cpymem(p, ",\"response\":", sizeof(",\"response\":") - 1);

    if (op->response.len) {
        p = ngx_cpymem(p, op->response.data, op->response.len);

    } else {
        p = ngx_cpymem(p, "null", 4);
    }

    p = ngx_sprintf(p, ",\"at\":%L}", op->at);

    out->len = p - out->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ddt_store_redis_put(ngx_http_ddt_store_op_t *op)
{
    int                              i;
    ngx_str_t                        turn;
    ngx_http_ddt_redis_op_t         *ro;
    ngx_http_ddt_redis_main_conf_t  *rcf;
    const ngx_http_ddt_redis_script_t  *sc;

    rcf = ngx_http_ddt_redis_conf();

    ro = ngx_http_ddt_redis_op(op, NGX_HTTP_DDT_REDIS_OP_PUT);
    if (ro == NULL || ngx_http_ddt_redis_turn_json(op, &turn) != NGX_OK) {
        op->rc = NGX_ERROR;
        return op->rc;
    }

    sc = &ngx_http_ddt_redis_scripts[NGX_HTTP_DDT_REDIS_LUA_TURN];

    i = 0;
    ro->argv[i] = "EVALSHA";
    ro->argvlen[i++] = 7;
    ro->argv[i] = sc->sha1;
    ro->argvlen[i++] = 40;
    ro->argv[i] = "4";
    ro->argvlen[i++] = 1;

    ro->argv[i] = (const char *) ro->keys[0];
    ro->argvlen[i++] = ngx_http_ddt_redis_key(ro->keys[0], &op->id, &op->id,
                                              "s");
    ro->argv[i] = (const char *) ro->keys[1];
    ro->argvlen[i++] = ngx_http_ddt_redis_key(ro->keys[1], &op->id, &op->id,
                                              "t");
    ro->argv[i] = (const char *) ro->keys[2];
    ro->argvlen[i++] = ngx_http_ddt_redis_key(ro->keys[2], NULL, &op->id,
                                              "snapshots");
    ro->argv[i] = (const char *) ro->keys[3];
    ro->argvlen[i++] = ngx_http_ddt_redis_key(ro->keys[3], NULL, &op->id,
                                              "outbox");

    ro->argv[i] = (const char *) ngx_http_ddt_redis_num(ro, 0,
                                          (int64_t) op->expected,
                                          &ro->argvlen[i]);
    i++;
    ro->argv[i] = (const char *) ngx_http_ddt_redis_num(ro, 1,
                                          (int64_t) op->version,
                                          &ro->argvlen[i]);
    i++;
    ro->argv[i] = ddt_status_name((ddt_status_t) op->status);
    ro->argvlen[i] = ngx_strlen(ro->argv[i]);
    i++;
    ro->argv[i] = (const char *) op->blob.data;
    ro->argvlen[i++] = op->blob.len;
    ro->argv[i] = (const char *) ngx_http_ddt_redis_num(ro, 2,
                                          (int64_t) op->mcf->session_timeout,
                                          &ro->argvlen[i]);
    i++;
    ro->argv[i] = (const char *) op->id.data;
    ro->argvlen[i++] = op->id.len;
    ro->argv[i] = op->critical ? "1" : "0";
    ro->argvlen[i++] = 1;
    ro->argv[i] = (const char *) turn.data;
    ro->argvlen[i++] = turn.len;
    ro->argv[i] = (const char *) ngx_http_ddt_redis_num(ro, 3,
                                          (int64_t) rcf->stream_maxlen,
                                          &ro->argvlen[i]);
    i++;
    ro->argv[i] = op->turn_id.len ? (const char *) op->turn_id.data : "";
    ro->argvlen[i++] = op->turn_id.len;
    ro->argv[i] = op->response.len ? (const char *) op->response.data : "";
    ro->argvlen[i++] = op->response.len;

    ro->argc = i;

    return ngx_http_ddt_redis_send(op, ro);
}


static ngx_int_t
ngx_http_ddt_store_redis_del(ngx_http_ddt_store_op_t *op)
{
    ngx_str_t                           turn;
    ngx_http_ddt_redis_op_t            *ro;
    ngx_http_ddt_redis_main_conf_t     *rcf;
    const ngx_http_ddt_redis_script_t  *sc;

    rcf = ngx_http_ddt_redis_conf();

    ro = ngx_http_ddt_redis_op(op, NGX_HTTP_DDT_REDIS_OP_DEL);
    if (ro == NULL) {
        op->rc = NGX_ERROR;
        return op->rc;
    }

    ngx_str_null(&op->input);
    ngx_str_null(&op->response);
    op->at = ngx_http_ddt_now_ms(op->mcf);

    if (ngx_http_ddt_redis_turn_json(op, &turn) != NGX_OK) {
        op->rc = NGX_ERROR;
        return op->rc;
    }

    sc = &ngx_http_ddt_redis_scripts[NGX_HTTP_DDT_REDIS_LUA_DELETE];

    ro->argv[0] = "EVALSHA";
    ro->argvlen[0] = 7;
    ro->argv[1] = sc->sha1;
    ro->argvlen[1] = 40;
    ro->argv[2] = "3";
    ro->argvlen[2] = 1;
    ro->argv[3] = (const char *) ro->keys[0];
    ro->argvlen[3] = ngx_http_ddt_redis_key(ro->keys[0], &op->id, &op->id,
                                            "s");
    ro->argv[4] = (const char *) ro->keys[1];
    ro->argvlen[4] = ngx_http_ddt_redis_key(ro->keys[1], &op->id, &op->id,
                                            "t");
    ro->argv[5] = (const char *) ro->keys[2];
    ro->argvlen[5] = ngx_http_ddt_redis_key(ro->keys[2], NULL, &op->id,
                                            "snapshots");
    ro->argv[6] = (const char *) op->id.data;
    ro->argvlen[6] = op->id.len;
    ro->argv[7] = (const char *) ngx_http_ddt_redis_num(ro, 0,
                                          (int64_t) rcf->stream_maxlen,
                                          &ro->argvlen[7]);
    ro->argv[8] = (const char *) turn.data;
    ro->argvlen[8] = turn.len;
    ro->argc = 9;

    return ngx_http_ddt_redis_send(op, ro);
}


static void
ngx_http_ddt_store_redis_release(ngx_http_ddt_store_op_t *op)
{
    /* no locks: concurrency is the version check of the turn script */
    op->locked = 0;
}


static ngx_int_t
ngx_http_ddt_store_redis_health(ngx_http_ddt_store_op_t *op)
{
    ngx_http_ddt_redis_op_t  *ro;

    /*
     * A PING through the pool: 503 at once when no connection is up or
     * coming up, else whatever Redis answers within ddt_redis_timeout (a
     * worker that is still connecting answers after its handshake).
     */

    ro = ngx_http_ddt_redis_op(op, NGX_HTTP_DDT_REDIS_OP_HEALTH);
    if (ro == NULL) {
        op->rc = NGX_ERROR;
        return op->rc;
    }

    ro->argv[0] = "PING";
    ro->argvlen[0] = 4;
    ro->argc = 1;

    return ngx_http_ddt_redis_send(op, ro);
}


static ngx_uint_t
ngx_http_ddt_store_redis_count(ngx_http_ddt_main_conf_t *mcf)
{
    /* sessions live in Redis: this worker does not count them */
    return 0;
}


/* ---- replies ----------------------------------------------------------- */

static ngx_int_t
ngx_http_ddt_redis_got(ngx_http_ddt_store_op_t *op, redisReply *reply)
{
    redisReply  *ver, *status, *state;
    ngx_int_t    n;
    ngx_uint_t   s;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
        return NGX_ERROR;
    }

    ver = reply->element[0];
    status = reply->element[1];
    state = reply->element[2];

    if (ver->type == REDIS_REPLY_NIL || state->type != REDIS_REPLY_STRING) {
        return NGX_DECLINED;
    }

    if (ver->type != REDIS_REPLY_STRING) {
        return NGX_ERROR;
    }

    n = ngx_atoi((u_char *) ver->str, ver->len);
    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    op->out_version = (uint64_t) n;
    op->out_status = DDT_STATUS_WAITING;

    if (status->type == REDIS_REPLY_STRING) {
        for (s = DDT_STATUS_WAITING; s < DDT_STATUS_RUNNING; s++) {
            if (ngx_strcmp(status->str, ddt_status_name((ddt_status_t) s))
                == 0)
            {
                op->out_status = s;
                break;
            }
        }
    }

    /* the reply is freed after this callback: copy into the request */

    op->out_blob.data = ngx_pnalloc(op->pool, state->len + 1);
    if (op->out_blob.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(op->out_blob.data, state->str, state->len);
    op->out_blob.data[state->len] = '\0';
    op->out_blob.len = state->len;

    return NGX_OK;
}


/* The request's connection, for running what a handler posted. */

static ngx_connection_t *
ngx_http_ddt_redis_conn_of(ngx_http_ddt_store_op_t *op)
{
    ngx_http_ddt_ctx_t  *ctx;

    ctx = op->data;

    return (ctx && ctx->type == NGX_HTTP_DDT_CTX_API) ? ctx->r->connection
                                                      : NULL;
}


/* The op is over: nothing of it stays hooked, the caller goes on. */

static void
ngx_http_ddt_redis_finish(ngx_http_ddt_store_op_t *op, ngx_int_t rc)
{
    ngx_http_ddt_redis_op_t  *ro;

    ro = op->store_data;

    if (ro->pending) {
        ngx_http_ddt_redis_cancel(ro->pending);
        ro->pending = NULL;
    }

    ngx_http_ddt_redis_wait_cancel(&ro->waiter);

    op->rc = rc;
    ngx_http_ddt_redis_extra(op, ro);

    op->handler(op);
}


/* ---- restore (SPEC 9.7) ------------------------------------------------ */

static void
ngx_http_ddt_redis_restore(ngx_http_ddt_store_op_t *op,
    ngx_http_ddt_redis_op_t *ro)
{
    ro->restoring = 1;
    ro->restore_of = ro->kind;
    ro->kind = NGX_HTTP_DDT_REDIS_OP_ALIVE;

    ro->argv[0] = "EXISTS";
    ro->argvlen[0] = 6;
    ro->argv[1] = NGX_HTTP_DDT_REDIS_ALIVE_KEY;
    ro->argvlen[1] = sizeof(NGX_HTTP_DDT_REDIS_ALIVE_KEY) - 1;
    ro->argc = 2;

    if (ngx_http_ddt_redis_send(op, ro) != NGX_AGAIN) {
        ngx_http_ddt_redis_finish(op, NGX_ERROR);
    }
}


/* the heartbeat answered: ask the persister, or say 404 at once */

static void
ngx_http_ddt_redis_restore_ask(ngx_http_ddt_store_op_t *op,
    ngx_http_ddt_redis_op_t *ro, redisReply *reply)
{
    ngx_int_t                        rc;
    ngx_str_t                        nonce;
    ngx_http_ddt_redis_main_conf_t  *rcf;

    rcf = ngx_http_ddt_redis_conf();

    if (reply->type != REDIS_REPLY_INTEGER) {
        ngx_http_ddt_redis_finish(op, NGX_ERROR);
        return;
    }

    if (reply->integer) {
        ngx_http_ddt_redis_alive_seen = ngx_current_msec;

    } else if (ngx_http_ddt_redis_alive_seen == 0
               || ngx_current_msec - ngx_http_ddt_redis_alive_seen
                  > NGX_HTTP_DDT_REDIS_ALIVE_GRACE)
    {
        /* no persister alive: no store knows the session */
        ngx_log_error(NGX_LOG_INFO, op->log, 0,
                      "ddt: session \"%V\" not in redis and no persister "
                      "alive to restore it", &op->id);
        ngx_http_ddt_redis_finish(op, NGX_DECLINED);
        return;
    }

    rc = ngx_http_ddt_redis_wait_restore(&ro->waiter, &op->id,
                                         rcf->restore_timeout, &nonce);

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_WARN, op->log, 0,
                      "ddt: session \"%V\" cannot be restored now: the "
                      "worker's redis subscriber is down", &op->id);
        ngx_http_ddt_redis_finish(op, NGX_ERROR);
        return;
    }

    ro->kind = NGX_HTTP_DDT_REDIS_OP_RESTORE;

    if (rc == NGX_OK) {
        ngx_http_ddt_redis_restore_send(op, ro);
    }

    /* else sent once the subscriber is up (READY) */
}


/* XADD ddt:restore: the answer comes on ddt:restored, or the timer */

static void
ngx_http_ddt_redis_restore_send(ngx_http_ddt_store_op_t *op,
    ngx_http_ddt_redis_op_t *ro)
{
    ngx_str_t  nonce;

    nonce = ro->waiter.sn.str;

    ro->argv[0] = "XADD";
    ro->argvlen[0] = 4;
    ro->argv[1] = NGX_HTTP_DDT_REDIS_RESTORE_STREAM;
    ro->argvlen[1] = sizeof(NGX_HTTP_DDT_REDIS_RESTORE_STREAM) - 1;
    ro->argv[2] = "MAXLEN";
    ro->argvlen[2] = 6;
    ro->argv[3] = "~";
    ro->argvlen[3] = 1;
    ro->argv[4] = NGX_HTTP_DDT_REDIS_RESTORE_CAP;
    ro->argvlen[4] = sizeof(NGX_HTTP_DDT_REDIS_RESTORE_CAP) - 1;
    ro->argv[5] = "*";
    ro->argvlen[5] = 1;
    ro->argv[6] = "sid";
    ro->argvlen[6] = 3;
    ro->argv[7] = (const char *) op->id.data;
    ro->argvlen[7] = op->id.len;
    ro->argv[8] = "reply";
    ro->argvlen[8] = 5;
    ro->argv[9] = (const char *) nonce.data;
    ro->argvlen[9] = nonce.len;
    ro->argc = 10;

    if (ngx_http_ddt_redis_send(op, ro) != NGX_AGAIN) {
        ngx_http_ddt_redis_finish(op, NGX_ERROR);
    }
}


static void
ngx_http_ddt_redis_restore_answer(ngx_http_ddt_store_op_t *op,
    ngx_http_ddt_redis_op_t *ro, ngx_uint_t result)
{
    ngx_int_t                        rc;
    ngx_http_ddt_redis_main_conf_t  *rcf;

    rcf = ngx_http_ddt_redis_conf();

    if (ro->pending) {
        /* the answer came before the XADD's reply: it was written */
        ngx_http_ddt_redis_cancel(ro->pending);
        ro->pending = NULL;
    }

    switch (result) {

    case NGX_HTTP_DDT_WAIT_FOUND:

        /* read it again, as asked the first time */

        rc = (ro->restore_of == NGX_HTTP_DDT_REDIS_OP_DEL)
             ? ngx_http_ddt_store_redis_del(op)
             : ngx_http_ddt_store_redis_get(op);

        if (rc != NGX_AGAIN) {
            ngx_http_ddt_redis_finish(op, rc);
        }
        return;

    case NGX_HTTP_DDT_WAIT_EXPIRED:
        op->out_expired = 1;
        ngx_http_ddt_redis_finish(op, NGX_DECLINED);
        return;

    case NGX_HTTP_DDT_WAIT_MISSING:
        ngx_http_ddt_redis_finish(op, NGX_DECLINED);
        return;

    case NGX_HTTP_DDT_WAIT_TIMEOUT:
        ngx_log_error(NGX_LOG_WARN, op->log, 0,
                      "ddt: session \"%V\" not in redis and the persister "
                      "did not answer its restore within %M ms",
                      &op->id, rcf->restore_timeout);
        ngx_http_ddt_redis_finish(op, NGX_ERROR);
        return;

    default: /* NGX_HTTP_DDT_WAIT_LOST */
        ngx_http_ddt_redis_finish(op, NGX_ERROR);
        return;
    }
}


/* ---- critical sync (SPEC 8, 9.7) --------------------------------------- */

static void
ngx_http_ddt_redis_durable_wait(ngx_http_ddt_store_op_t *op,
    ngx_http_ddt_redis_op_t *ro)
{
    ngx_http_ddt_redis_main_conf_t  *rcf;

    rcf = ngx_http_ddt_redis_conf();

    /*
     * The wait begins before the MGET is sent: a ver published after the
     * MGET read the d: key is heard, one published before is read there.
     */

    switch (ngx_http_ddt_redis_wait_durable(&ro->waiter, &op->id,
                                            op->version, rcf->critical_wait))
    {
    case NGX_OK:
        ngx_http_ddt_redis_durable_send(op, ro);
        return;

    case NGX_AGAIN:
        /* checked once the subscriber is up (READY) */
        ro->kind = NGX_HTTP_DDT_REDIS_OP_DURABLE;
        return;

    default:
        /* no subscriber: durable false, at once */
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, op->log, 0,
                       "ddt: session \"%V\" not waited for: no subscriber",
                       &op->id);
        ngx_http_ddt_redis_finish(op, NGX_OK);
        return;
    }
}


static void
ngx_http_ddt_redis_durable_send(ngx_http_ddt_store_op_t *op,
    ngx_http_ddt_redis_op_t *ro)
{
    ro->kind = NGX_HTTP_DDT_REDIS_OP_DURABLE;

    ro->argv[0] = "MGET";
    ro->argvlen[0] = 4;
    ro->argv[1] = NGX_HTTP_DDT_REDIS_ALIVE_KEY;
    ro->argvlen[1] = sizeof(NGX_HTTP_DDT_REDIS_ALIVE_KEY) - 1;
    ro->argv[2] = (const char *) ro->keys[0];
    ro->argvlen[2] = ngx_http_ddt_redis_key(ro->keys[0], &op->id, &op->id,
                                            "d");
    ro->argc = 3;

    if (ngx_http_ddt_redis_send(op, ro) != NGX_AGAIN) {
        ngx_http_ddt_redis_finish(op, NGX_OK);
    }
}


static void
ngx_http_ddt_redis_durable_checked(ngx_http_ddt_store_op_t *op,
    ngx_http_ddt_redis_op_t *ro, redisReply *reply)
{
    ngx_int_t    n;
    redisReply  *alive, *d;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, op->log, 0,
                   "ddt: session \"%V\" ver %uL durable check: %s", &op->id,
                   op->version, reply ? "answered" : "failed");

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 2)
    {
        /* the turn is written; only its durability is unknown */
        ngx_http_ddt_redis_finish(op, NGX_OK);
        return;
    }

    alive = reply->element[0];
    d = reply->element[1];

    if (d->type == REDIS_REPLY_STRING) {
        n = ngx_atoi((u_char *) d->str, d->len);

        if (n != NGX_ERROR && (uint64_t) n >= op->version) {
            ro->durable = 1;
            ngx_http_ddt_redis_finish(op, NGX_OK);
            return;
        }
    }

    if (alive->type != REDIS_REPLY_STRING) {
        /* no heartbeat: no persister to wait for */
        ngx_http_ddt_redis_finish(op, NGX_OK);
        return;
    }

    ngx_http_ddt_redis_alive_seen = ngx_current_msec;

    /* wait for ddt:durable (the waiter's timer bounds it) */
}


/* A wait is over: a message, its timer, or the subscriber lost. */

static void
ngx_http_ddt_redis_waited(ngx_http_ddt_redis_waiter_t *w, ngx_uint_t result)
{
    ngx_connection_t         *c;
    ngx_http_ddt_redis_op_t  *ro;
    ngx_http_ddt_store_op_t  *op;

    ro = w->data;
    op = ro->op;
    c = ngx_http_ddt_redis_conn_of(op);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, op->log, 0,
                   "ddt: session \"%V\" %s wait: %ui", &op->id,
                   w->restore ? "restore" : "durable", result);

    if (result == NGX_HTTP_DDT_WAIT_READY) {

        /* the subscriber is up: send what waited for it */

        if (w->restore) {
            ngx_http_ddt_redis_restore_send(op, ro);

        } else {
            ngx_http_ddt_redis_durable_send(op, ro);
        }

    } else if (w->restore) {
        ngx_http_ddt_redis_restore_answer(op, ro, result);

    } else {
        if (result == NGX_HTTP_DDT_WAIT_FOUND) {
            /* a persister acknowledged it: one is alive */
            ngx_http_ddt_redis_alive_seen = ngx_current_msec;
        }

        ro->durable = (result == NGX_HTTP_DDT_WAIT_FOUND);
        ngx_http_ddt_redis_finish(op, NGX_OK);
    }

    if (c) {
        ngx_http_run_posted_requests(c);
    }
}


/* ---- replies ----------------------------------------------------------- */

static void
ngx_http_ddt_store_redis_reply(void *data, redisReply *reply)
{
    ngx_http_ddt_store_op_t  *op = data;

    ngx_int_t                           rc;
    ngx_connection_t                   *c;
    const ngx_http_ddt_redis_script_t  *sc;
    ngx_http_ddt_redis_op_t            *ro;
    ngx_http_ddt_redis_main_conf_t     *rcf;

    ro = op->store_data;
    rcf = ngx_http_ddt_redis_conf();

    /*
     * The handler runs outside the request's own events: what it posts
     * (a BackendCall subrequest, the end of the request) is run here.
     */

    c = ngx_http_ddt_redis_conn_of(op);
    ro->pending = NULL;

    if (ro->kind == NGX_HTTP_DDT_REDIS_OP_DURABLE) {
        ngx_http_ddt_redis_durable_checked(op, ro,
                                           (reply && reply->type
                                            != REDIS_REPLY_ERROR)
                                           ? reply : NULL);
        goto posted;
    }

    if (reply == NULL) {
        /* lost connection or timeout: conn.c has logged the burst */
        rc = NGX_ERROR;
        goto done;
    }

    if (reply->type == REDIS_REPLY_ERROR) {

        if (ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0 && !ro->retried
            && (ro->kind == NGX_HTTP_DDT_REDIS_OP_PUT
                || ro->kind == NGX_HTTP_DDT_REDIS_OP_DEL))
        {
            /* flushed or failed over: EVAL loads the script again */

            sc = &ngx_http_ddt_redis_scripts[ro->kind
                                             == NGX_HTTP_DDT_REDIS_OP_PUT
                                             ? NGX_HTTP_DDT_REDIS_LUA_TURN
                                             : NGX_HTTP_DDT_REDIS_LUA_DELETE];
            ro->retried = 1;
            ro->argv[0] = "EVAL";
            ro->argvlen[0] = 4;
            ro->argv[1] = sc->text;
            ro->argvlen[1] = sc->len;

            if (ngx_http_ddt_redis_send(op, ro) == NGX_AGAIN) {
                goto posted;
            }

            rc = NGX_ERROR;
            goto done;
        }

        if (ngx_strncmp(reply->str, "READONLY", 8) == 0
            || ngx_strncmp(reply->str, "NOREPLICAS", 10) == 0
            || ngx_strncmp(reply->str, "LOADING", 7) == 0
            || ngx_strncmp(reply->str, "MASTERDOWN", 10) == 0)
        {
            /*
             * Not (or no longer) a master that may write: nothing was
             * written; find the master again (logged once by conn.c).
             */

            ngx_log_error(NGX_LOG_INFO, op->log, 0,
                          "ddt: redis refused session \"%V\": %s",
                          &op->id, reply->str);

            ngx_http_ddt_redis_reset(reply->str);

        } else {
            ngx_log_error(NGX_LOG_ERR, op->log, 0,
                          "ddt: redis error for session \"%V\": %s",
                          &op->id, reply->str);
        }

        rc = NGX_ERROR;
        goto done;
    }

    switch (ro->kind) {

    case NGX_HTTP_DDT_REDIS_OP_GET:
        rc = ngx_http_ddt_redis_got(op, reply);

        if (rc == NGX_OK && ro->restoring && ro->restored_from == 0) {
            ro->restored_from = op->out_version;

            ngx_log_error(NGX_LOG_INFO, op->log, 0,
                          "ddt: session \"%V\" restored at ver %uL",
                          &op->id, op->out_version);
        }

        if (rc == NGX_DECLINED && op->restore && rcf->persister
            && !ro->restoring)
        {
            ngx_http_ddt_redis_restore(op, ro);
            goto posted;
        }
        break;

    case NGX_HTTP_DDT_REDIS_OP_PUT:
        if (reply->type != REDIS_REPLY_INTEGER) {
            rc = NGX_ERROR;
            break;
        }

        rc = (reply->integer == 1) ? NGX_OK
             : (reply->integer == 0) ? NGX_ABORT : NGX_DECLINED;

        if (rc == NGX_OK && op->critical && rcf->persister
            && rcf->critical_sync)
        {
            ngx_http_ddt_redis_durable_wait(op, ro);
            goto posted;
        }
        break;

    case NGX_HTTP_DDT_REDIS_OP_DEL:
        if (reply->type != REDIS_REPLY_INTEGER) {
            rc = NGX_ERROR;
            break;
        }

        rc = (reply->integer == 1) ? NGX_OK : NGX_DECLINED;

        if (rc == NGX_DECLINED && op->restore && rcf->persister
            && !ro->restoring)
        {
            /* bring it back so that its `deleted` snapshot is written */
            ngx_http_ddt_redis_restore(op, ro);
            goto posted;
        }
        break;

    case NGX_HTTP_DDT_REDIS_OP_ALIVE:
        ngx_http_ddt_redis_restore_ask(op, ro, reply);
        goto posted;

    case NGX_HTTP_DDT_REDIS_OP_RESTORE:
        if (reply->type != REDIS_REPLY_STRING) {
            rc = NGX_ERROR;
            break;
        }

        /* written: the answer comes on ddt:restored */
        goto posted;

    default: /* NGX_HTTP_DDT_REDIS_OP_HEALTH */
        rc = (reply->type == REDIS_REPLY_STATUS
              || reply->type == REDIS_REPLY_STRING)
             ? NGX_OK : NGX_ERROR;
        break;
    }

done:

    ngx_http_ddt_redis_finish(op, rc);

posted:

    if (c) {
        ngx_http_run_posted_requests(c);
    }
}
