
/*
 * ddt_persister_redis.c: everything ddt-persister says to Redis (SPEC 9.7),
 * over one blocking hiredis connection:
 *
 *   ddt:{<shard>}:snapshots    XREADGROUP (group created with MKSTREAM),
 *                              XAUTOCLAIM, XACK, XTRIM MINID
 *   ddt:{<shard>}:deadletter   malformed or unwritable entries (+ XACK)
 *   ddt:{<shard>}:d:<sid>      the highest durable ver, PUBLISH ddt:durable
 *   ddt:restore                restore requests (sid, reply), same group
 *   ddt:{<shard>}:s:<sid>      restored sessions, only if absent or older,
 *                              PUBLISH ddt:restored <nonce>:<what>
 *   ddt:persister:alive        the heartbeat, with a TTL
 *
 * It does not decide when to do these: the loop in ddt_persister.c does.
 * Every function returns -1 when the connection failed; the loop then
 * closes it and connects again with a backoff.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ddt_persister.h"


#define DDT_P_RESTORE_STREAM  "ddt:restore"
#define DDT_P_RESTORE_MAX     256
#define DDT_P_RESTORE_STALE   30000         /* ms: the module gave up */
#define DDT_P_DEADLETTER_CAP  "100000"


typedef struct {
    char          id[48];
    char          sid[160];
    char          nonce[160];
} ddt_prestore_req_t;


static redisContext        *ddt_predis;
static char               **ddt_pstreams;    /* shard -> stream name */
static ddt_prestore_req_t   ddt_prestores[DDT_P_RESTORE_MAX];
static int                  ddt_prestore_head;
static int                  ddt_prestore_n;
static char                 ddt_pclaim_cursor[DDT_P_SHARDS_MAX][48];
static int                  ddt_pbacklog_warned;


static const char  ddt_pdurable_lua[] =
    "local c = redis.call('GET', KEYS[1])\n"
    "if not c or tonumber(c) < tonumber(ARGV[1]) then\n"
    "    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "end\n"
    "redis.call('PUBLISH', 'ddt:durable', ARGV[3])\n"
    "return 1\n";

static const char  ddt_prestore_lua[] =
    "local c = redis.call('HGET', KEYS[1], 'ver')\n"
    "if c and tonumber(c) >= tonumber(ARGV[1]) then\n"
    "    return 0\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'ver', ARGV[1], 'status', ARGV[2],\n"
    "           'state', ARGV[3])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[4])\n"
    "local d = redis.call('GET', KEYS[2])\n"
    "if not d or tonumber(d) < tonumber(ARGV[1]) then\n"
    "    redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[4])\n"
    "end\n"
    "return 1\n";


/* CRC16-CCITT (XMODEM), as Redis Cluster and the module hash keys */

int
ddt_pshard(const char *sid, size_t len)
{
    int       i;
    uint16_t  crc;

    crc = 0;

    while (len--) {
        crc ^= (uint16_t) (unsigned char) *sid++ << 8;

        for (i = 0; i < 8; i++) {
            crc = (crc & 0x8000) ? (uint16_t) ((crc << 1) ^ 0x1021)
                                 : (uint16_t) (crc << 1);
        }
    }

    return crc % ddt_pconf.shards;
}


static void
ddt_predis_failed(const char *what)
{
    int64_t         now;
    static int64_t  last_connect;

    ddt_pcount(redis_errors, 1);

    /* while Redis is down: one line per 10 s, not one per attempt */
    if (strcmp(what, "connect") == 0) {
        now = ddt_pnow_ms();
        if (now - last_connect < 10000) {
            return;
        }
        last_connect = now;
    }

    if (ddt_predis && ddt_predis->err) {
        ddt_plog(DDT_P_LOG_ERR, "redis: %s: %s", what, ddt_predis->errstr);

    } else {
        ddt_plog(DDT_P_LOG_ERR, "redis: %s failed", what);
    }
}


/*
 * A server that is no longer the master (READONLY after a failover, or
 * MASTERDOWN, LOADING): the connection is dropped so that the loop
 * connects again (through the sentinels when configured).
 */

static int
ddt_predis_moved(redisReply *r, const char *what)
{
    if (r->type != REDIS_REPLY_ERROR
        || (strncmp(r->str, "READONLY", 8) != 0
            && strncmp(r->str, "MASTERDOWN", 10) != 0
            && strncmp(r->str, "LOADING", 7) != 0))
    {
        return 0;
    }

    ddt_pcount(redis_errors, 1);
    ddt_plog(DDT_P_LOG_ERR, "redis: %s: %s; connecting again", what, r->str);

    if (ddt_predis) {
        redisFree(ddt_predis);
        ddt_predis = NULL;
    }

    return 1;
}


static redisReply *
ddt_predis_cmd(int argc, const char **argv, const size_t *argvlen)
{
    redisReply  *r;

    if (ddt_predis == NULL) {
        return NULL;
    }

    r = redisCommandArgv(ddt_predis, argc, argv, argvlen);
    if (r == NULL) {
        ddt_predis_failed(argv[0]);
        return NULL;
    }

    if (ddt_predis_moved(r, argv[0])) {
        freeReplyObject(r);
        return NULL;
    }

    return r;
}


/* a command given as C strings, NULL-terminated */

static redisReply *
ddt_predis_cmdv(const char *first, ...)
{
    int          argc;
    va_list      ap;
    const char  *argv[32];

    argc = 0;
    argv[argc++] = first;

    va_start(ap, first);
    while (argc < 32 && (argv[argc] = va_arg(ap, const char *)) != NULL) {
        argc++;
    }
    va_end(ap);

    return ddt_predis_cmd(argc, argv, NULL);
}


static void
ddt_predis_timeout(int ms)
{
    struct timeval  tv;

    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    redisSetTimeout(ddt_predis, tv);
}


/*
 * Sentinel: the master's address from the first sentinel that knows it
 * (SENTINEL get-master-addr-by-name), into redis_host/redis_port.
 */

static int
ddt_predis_sentinel(void)
{
    int              port;
    char             list[1024], *tok, *save, host[256], *colon;
    redisReply      *r;
    redisContext    *c;
    struct timeval   tv;

    tv.tv_sec = ddt_pconf.redis_timeout_ms / 1000;
    tv.tv_usec = (ddt_pconf.redis_timeout_ms % 1000) * 1000;

    snprintf(list, sizeof(list), "%s", ddt_pconf.sentinels);

    for (tok = strtok_r(list, " ,", &save); tok;
         tok = strtok_r(NULL, " ,", &save))
    {
        snprintf(host, sizeof(host), "%s", tok);
        colon = strrchr(host, ':');
        if (colon == NULL) {
            continue;
        }
        *colon = '\0';
        port = atoi(colon + 1);

        c = redisConnectWithTimeout(host, port, tv);
        if (c == NULL || c->err) {
            if (c) {
                redisFree(c);
            }
            continue;
        }

        redisSetTimeout(c, tv);
        r = redisCommand(c, "SENTINEL get-master-addr-by-name %s",
                         ddt_pconf.sentinel_master);

        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2
            && r->element[0]->type == REDIS_REPLY_STRING
            && r->element[1]->type == REDIS_REPLY_STRING
            && r->element[0]->len < sizeof(ddt_pconf.redis_host))
        {
            snprintf(ddt_pconf.redis_host, sizeof(ddt_pconf.redis_host),
                     "%s", r->element[0]->str);
            ddt_pconf.redis_port = atoi(r->element[1]->str);
            freeReplyObject(r);
            redisFree(c);
            return 0;
        }

        if (r) {
            freeReplyObject(r);
        }
        redisFree(c);
    }

    ddt_predis_failed("connect");
    ddt_plog(DDT_P_LOG_DEBUG, "no sentinel of \"%s\" named master \"%s\"",
             ddt_pconf.sentinels, ddt_pconf.sentinel_master);

    return -1;
}


/* a replica (a failover happened): not the server to read from */

static int
ddt_predis_is_master(void)
{
    int          ok;
    redisReply  *r;

    r = redisCommand(ddt_predis, "ROLE");
    if (r == NULL) {
        return 0;
    }

    ok = !(r->type == REDIS_REPLY_ARRAY && r->elements > 0
           && r->element[0]->type == REDIS_REPLY_STRING
           && strcmp(r->element[0]->str, "master") != 0);

    freeReplyObject(r);

    return ok;
}


int
ddt_predis_connect(void)
{
    int              i;
    char             name[64];
    redisReply      *r;
    struct timeval   tv;

    if (ddt_pstreams == NULL) {
        ddt_pstreams = calloc(ddt_pconf.shards, sizeof(char *));
        if (ddt_pstreams == NULL) {
            return -1;
        }

        for (i = 0; i < ddt_pconf.shards; i++) {
            snprintf(name, sizeof(name), "ddt:{%d}:snapshots", i);
            ddt_pstreams[i] = strdup(name);
            if (ddt_pstreams[i] == NULL) {
                return -1;
            }

            strcpy(ddt_pclaim_cursor[i], "0-0");
        }
    }

    tv.tv_sec = ddt_pconf.redis_timeout_ms / 1000;
    tv.tv_usec = (ddt_pconf.redis_timeout_ms % 1000) * 1000;

    if (ddt_pconf.sentinels[0] && ddt_predis_sentinel() != 0) {
        return -1;
    }

    ddt_predis = redisConnectWithTimeout(ddt_pconf.redis_host,
                                         ddt_pconf.redis_port, tv);
    if (ddt_predis == NULL || ddt_predis->err) {
        ddt_predis_failed("connect");
        ddt_predis_close();
        return -1;
    }

    ddt_predis_timeout(ddt_pconf.redis_timeout_ms);

    if (ddt_pconf.redis_password[0]) {
        r = ddt_predis_cmdv("AUTH", ddt_pconf.redis_password, NULL);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            ddt_plog(DDT_P_LOG_ERR, "redis: AUTH: %s",
                     r ? r->str : "no reply");
            if (r) {
                freeReplyObject(r);
            }
            ddt_predis_close();
            return -1;
        }
        freeReplyObject(r);
    }

    if (ddt_pconf.sentinels[0] && !ddt_predis_is_master()) {
        ddt_plog(DDT_P_LOG_WARN, "redis: %s:%d is not the master (yet), "
                 "asking the sentinels again", ddt_pconf.redis_host,
                 ddt_pconf.redis_port);
        ddt_predis_close();
        return -1;
    }

    return 0;
}


void
ddt_predis_close(void)
{
    if (ddt_predis) {
        redisFree(ddt_predis);
        ddt_predis = NULL;
    }

    ddt_pset(redis_up, 0);
}


int
ddt_predis_ready(void)
{
    return ddt_predis != NULL && ddt_predis->err == 0;
}


static int
ddt_predis_group(const char *stream, const char *start)
{
    int          rc;
    redisReply  *r;

    r = ddt_predis_cmdv("XGROUP", "CREATE", stream, ddt_pconf.group, start,
                        "MKSTREAM", NULL);
    if (r == NULL) {
        return -1;
    }

    rc = 0;

    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9)) {
        ddt_plog(DDT_P_LOG_ERR, "redis: XGROUP CREATE %s: %s", stream, r->str);
        rc = -1;
    }

    freeReplyObject(r);

    return rc;
}


/*
 * Streams of shards this persister does not read (its `shards` differs
 * from the module's ddt_redis_shards): said once, loudly.  A bounded SCAN
 * (at most 64 rounds of 1000 keys), so a large keyspace costs little.
 */

static void
ddt_predis_check_shards(void)
{
    int          round, shard;
    char         cursor[32];
    size_t       k;
    redisReply  *r, *keys;
    static int   checked;

    if (checked) {
        return;
    }

    checked = 1;
    strcpy(cursor, "0");

    for (round = 0; round < 64; round++) {
        r = ddt_predis_cmdv("SCAN", cursor, "MATCH", "ddt:{*}:snapshots",
                            "COUNT", "1000", "TYPE", "stream", NULL);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
            if (r) {
                freeReplyObject(r);
            }
            return;
        }

        keys = r->element[1];

        for (k = 0; keys->type == REDIS_REPLY_ARRAY && k < keys->elements;
             k++)
        {
            if (sscanf(keys->element[k]->str, "ddt:{%d}:", &shard) == 1
                && shard >= ddt_pconf.shards)
            {
                ddt_plog(DDT_P_LOG_ERR, "redis: stream %s is not read: "
                         "shards is %d here; set it to the module's "
                         "ddt_redis_shards", keys->element[k]->str,
                         ddt_pconf.shards);
                freeReplyObject(r);
                return;
            }
        }

        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        freeReplyObject(r);

        if (strcmp(cursor, "0") == 0) {
            return;
        }
    }
}


/* consumer groups on every shard's stream and on the restore stream */

int
ddt_predis_setup(void)
{
    int  i;

    for (i = 0; i < ddt_pconf.shards; i++) {
        if (ddt_predis_group(ddt_pstreams[i], "0") != 0) {
            return -1;
        }
    }

    /* old restore requests are stale: their turn has long answered */
    if (ddt_predis_group(DDT_P_RESTORE_STREAM, "$") != 0) {
        return -1;
    }

    ddt_predis_check_shards();

    ddt_pset(redis_up, 1);

    return 0;
}


static int
ddt_predis_shard_of(const char *stream)
{
    long   n;
    char  *end;

    if (strncmp(stream, "ddt:{", 5) != 0) {
        return -1;
    }

    errno = 0;
    n = strtol(stream + 5, &end, 10);
    if (errno || end == stream + 5 || strcmp(end, "}:snapshots") != 0
        || n < 0 || n >= ddt_pconf.shards)
    {
        return -1;
    }

    return (int) n;
}


static int
ddt_pbatch_grow(ddt_batch_t *b)
{
    int           cap;
    ddt_entry_t  *e;

    if (b->n < b->cap) {
        return 0;
    }

    cap = b->cap ? b->cap * 2 : 256;
    e = realloc(b->entries, cap * sizeof(ddt_entry_t));
    if (e == NULL) {
        return -1;
    }

    b->entries = e;
    b->cap = cap;

    return 0;
}


/* one [id, [field, value, ...]] of a snapshot stream into the batch */

static void
ddt_predis_entry(ddt_batch_t *b, int shard, redisReply *item)
{
    size_t        i;
    redisReply   *f, *k, *v;
    ddt_entry_t  *e;

    if (item->type != REDIS_REPLY_ARRAY || item->elements < 2
        || item->element[0]->type != REDIS_REPLY_STRING
        || item->element[0]->len >= sizeof(e->id))
    {
        return;
    }

    if (ddt_pbatch_grow(b) != 0) {
        ddt_plog(DDT_P_LOG_ERR, "out of memory");
        return;
    }

    e = &b->entries[b->n++];
    memset(e, 0, sizeof(ddt_entry_t));
    e->shard = shard;
    memcpy(e->id, item->element[0]->str, item->element[0]->len);

    if (b->n == 1) {
        b->started = ddt_pnow_ms();
    }

    ddt_pcount(entries_read, 1);

    f = item->element[1];

    if (f->type != REDIS_REPLY_ARRAY) {
        /* trimmed or deleted while pending: nothing to write, ack it */
        e->bad = "";
        return;
    }

    for (i = 0; i + 1 < f->elements; i += 2) {
        k = f->element[i];
        v = f->element[i + 1];

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            continue;
        }

        if (k->len == 3 && memcmp(k->str, "sid", 3) == 0) {
            e->sid = ddt_arena_strndup(&b->arena, v->str, v->len);

        } else if (k->len == 3 && memcmp(k->str, "ver", 3) == 0) {
            char *end;
            const char *s = ddt_arena_strndup(&b->arena, v->str, v->len);

            errno = 0;
            e->ver = s ? strtoull(s, &end, 10) : 0;
            if (s == NULL || errno || end == s || *end || s[0] == '-'
                || s[0] == '+' || s[0] == ' ')
            {
                e->ver = 0;
            }

        } else if (k->len == 8 && memcmp(k->str, "critical", 8) == 0) {
            e->critical = (v->len == 1 && v->str[0] == '1');

        } else if (k->len == 7 && memcmp(k->str, "deleted", 7) == 0) {
            e->deleted = (v->len == 1 && v->str[0] == '1');

        } else if (k->len == 5 && memcmp(k->str, "state", 5) == 0) {
            e->state = ddt_arena_strndup(&b->arena, v->str, v->len);
            e->state_len = v->len;

        } else if (k->len == 4 && memcmp(k->str, "turn", 4) == 0) {
            e->turn = ddt_arena_strndup(&b->arena, v->str, v->len);
            e->turn_len = v->len;
        }
    }

    ddt_pentry_parse(b, e);

    if (e->critical && e->bad == NULL) {
        b->critical = 1;
    }
}


static void
ddt_predis_restore_entry(redisReply *item)
{
    size_t               i;
    redisReply          *f, *k, *v;
    ddt_prestore_req_t  *q;

    if (item->type != REDIS_REPLY_ARRAY || item->elements < 2
        || item->element[0]->type != REDIS_REPLY_STRING
        || item->element[0]->len >= sizeof(q->id))
    {
        return;
    }

    if (ddt_prestore_n == DDT_P_RESTORE_MAX) {
        /* left pending: read again by XAUTOCLAIM later */
        return;
    }

    q = &ddt_prestores[(ddt_prestore_head + ddt_prestore_n)
                       % DDT_P_RESTORE_MAX];
    memset(q, 0, sizeof(ddt_prestore_req_t));
    memcpy(q->id, item->element[0]->str, item->element[0]->len);

    f = item->element[1];

    if (f->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i + 1 < f->elements; i += 2) {
            k = f->element[i];
            v = f->element[i + 1];

            if (k->type != REDIS_REPLY_STRING
                || v->type != REDIS_REPLY_STRING)
            {
                continue;
            }

            if (strcmp(k->str, "sid") == 0 && v->len < sizeof(q->sid)) {
                memcpy(q->sid, v->str, v->len);

            } else if (strcmp(k->str, "reply") == 0
                       && v->len < sizeof(q->nonce))
            {
                memcpy(q->nonce, v->str, v->len);
            }
        }
    }

    ddt_prestore_n++;
}


/*
 * XREADGROUP on every shard's stream (and the restore stream when reading
 * new entries): new entries (">") or this consumer's own pending ones
 * ("0", after a restart).  block_ms < 0: do not block.  Returns the
 * number of snapshot entries added, -1 on a connection failure.
 */

int
ddt_predis_read(ddt_batch_t *b, int block_ms, int count, int pending,
    int *restores)
{
    int           argc, i, n, shard, nstreams;
    char          cnt[32], blk[32];
    size_t        j, k;
    const char  **argv;
    redisReply   *r, *s;

    nstreams = ddt_pconf.shards + (pending ? 0 : 1);

    argv = malloc((10 + 2 * nstreams) * sizeof(char *));
    if (argv == NULL) {
        return -1;
    }

    snprintf(cnt, sizeof(cnt), "%d", count > 0 ? count : 1);
    snprintf(blk, sizeof(blk), "%d", block_ms > 0 ? block_ms : 1);

    argc = 0;
    argv[argc++] = "XREADGROUP";
    argv[argc++] = "GROUP";
    argv[argc++] = ddt_pconf.group;
    argv[argc++] = ddt_pconf.consumer;
    argv[argc++] = "COUNT";
    argv[argc++] = cnt;

    if (block_ms >= 0 && !pending) {
        argv[argc++] = "BLOCK";
        argv[argc++] = blk;
    }

    argv[argc++] = "STREAMS";

    for (i = 0; i < ddt_pconf.shards; i++) {
        argv[argc++] = ddt_pstreams[i];
    }

    if (!pending) {
        argv[argc++] = DDT_P_RESTORE_STREAM;
    }

    for (i = 0; i < nstreams; i++) {
        argv[argc++] = pending ? "0" : ">";
    }

    if (block_ms > 0) {
        ddt_predis_timeout(ddt_pconf.redis_timeout_ms + block_ms);
    }

    r = ddt_predis_cmd(argc, argv, NULL);

    if (block_ms > 0 && ddt_predis) {
        ddt_predis_timeout(ddt_pconf.redis_timeout_ms);
    }

    free(argv);

    if (r == NULL) {
        return -1;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        ddt_plog(DDT_P_LOG_ERR, "redis: XREADGROUP: %s", r->str);
        ddt_pcount(redis_errors, 1);
        /* NOGROUP after a FLUSHALL: make the groups again */
        if (strncmp(r->str, "NOGROUP", 7) == 0) {
            ddt_predis_setup();
        }
        freeReplyObject(r);
        return 0;
    }

    n = 0;

    if (r->type == REDIS_REPLY_ARRAY) {
        for (j = 0; j < r->elements; j++) {
            s = r->element[j];

            if (s->type != REDIS_REPLY_ARRAY || s->elements < 2
                || s->element[0]->type != REDIS_REPLY_STRING
                || s->element[1]->type != REDIS_REPLY_ARRAY)
            {
                continue;
            }

            if (strcmp(s->element[0]->str, DDT_P_RESTORE_STREAM) == 0) {
                for (k = 0; k < s->element[1]->elements; k++) {
                    ddt_predis_restore_entry(s->element[1]->element[k]);
                }
                continue;
            }

            shard = ddt_predis_shard_of(s->element[0]->str);
            if (shard < 0) {
                continue;
            }

            for (k = 0; k < s->element[1]->elements; k++) {
                ddt_predis_entry(b, shard, s->element[1]->element[k]);
                n++;
            }
        }
    }

    freeReplyObject(r);

    if (restores) {
        *restores = ddt_prestore_n;
    }

    return n;
}


/*
 * XAUTOCLAIM: entries that another consumer read and did not acknowledge
 * for claim_idle_ms (it died) become ours.  Restore requests too.
 */

int
ddt_predis_claim(ddt_batch_t *b, int count)
{
    int          i, n;
    char         idle[32], cnt[32];
    size_t       k;
    redisReply  *r;

    snprintf(idle, sizeof(idle), "%d", ddt_pconf.claim_idle_ms);

    n = 0;

    for (i = 0; i < ddt_pconf.shards && n < count; i++) {
        snprintf(cnt, sizeof(cnt), "%d", count - n);

        r = ddt_predis_cmdv("XAUTOCLAIM", ddt_pstreams[i], ddt_pconf.group,
                            ddt_pconf.consumer, idle, ddt_pclaim_cursor[i],
                            "COUNT", cnt, NULL);
        if (r == NULL) {
            return -1;
        }

        if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2
            && r->element[0]->type == REDIS_REPLY_STRING
            && r->element[1]->type == REDIS_REPLY_ARRAY)
        {
            if (r->element[0]->len < sizeof(ddt_pclaim_cursor[i])) {
                memcpy(ddt_pclaim_cursor[i], r->element[0]->str,
                       r->element[0]->len);
                ddt_pclaim_cursor[i][r->element[0]->len] = '\0';
            }

            for (k = 0; k < r->element[1]->elements; k++) {
                ddt_predis_entry(b, i, r->element[1]->element[k]);
                n++;
            }

            /* ids whose entries were trimmed: nothing left to write */
            if (r->elements >= 3 && r->element[2]->type == REDIS_REPLY_ARRAY
                && r->element[2]->elements)
            {
                for (k = 0; k < r->element[2]->elements; k++) {
                    redisReply *x;

                    x = ddt_predis_cmdv("XACK", ddt_pstreams[i],
                                        ddt_pconf.group,
                                        r->element[2]->element[k]->str, NULL);
                    if (x) {
                        freeReplyObject(x);
                    }
                }
            }

        } else if (r->type == REDIS_REPLY_ERROR) {
            ddt_plog(DDT_P_LOG_WARN, "redis: XAUTOCLAIM %s: %s",
                     ddt_pstreams[i], r->str);
        }

        freeReplyObject(r);
    }

    /* the restore stream: requests of a dead persister */
    r = ddt_predis_cmdv("XAUTOCLAIM", DDT_P_RESTORE_STREAM, ddt_pconf.group,
                        ddt_pconf.consumer, idle, "0-0", "COUNT", "64", NULL);
    if (r == NULL) {
        return -1;
    }

    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2
        && r->element[1]->type == REDIS_REPLY_ARRAY)
    {
        for (k = 0; k < r->element[1]->elements; k++) {
            ddt_predis_restore_entry(r->element[1]->element[k]);
        }
    }

    freeReplyObject(r);

    if (n) {
        ddt_pcount(entries_claimed, n);
        ddt_plog(DDT_P_LOG_INFO, "claimed %d entries of a consumer idle for "
                 "%d ms or more", n, ddt_pconf.claim_idle_ms);
    }

    return n;
}


/* read the replies of `n` pipelined commands; -1 if the connection broke */

static int
ddt_predis_drain(int n, const char *what)
{
    int          rc;
    void        *rp;
    redisReply  *r;

    rc = 0;

    while (n--) {
        if (redisGetReply(ddt_predis, &rp) != REDIS_OK) {
            ddt_predis_failed(what);
            return -1;
        }

        r = rp;

        if (r && ddt_predis_moved(r, what)) {
            freeReplyObject(r);
            return -1;
        }

        if (r && r->type == REDIS_REPLY_ERROR) {
            ddt_plog(DDT_P_LOG_ERR, "redis: %s: %s", what, r->str);
            ddt_pcount(redis_errors, 1);
        }

        if (r) {
            freeReplyObject(r);
        }
    }

    return rc;
}


/* XACK every written entry, one command per shard, pipelined */

int
ddt_predis_ack(ddt_batch_t *b)
{
    int           i, s, argc, cmds;
    const char  **argv;

    if (b->n == 0) {
        return 0;
    }

    if (ddt_predis == NULL) {
        return -1;
    }

    argv = malloc((b->n + 3) * sizeof(char *));
    if (argv == NULL) {
        return -1;
    }

    cmds = 0;

    for (s = 0; s < ddt_pconf.shards; s++) {
        argc = 0;
        argv[argc++] = "XACK";
        argv[argc++] = ddt_pstreams[s];
        argv[argc++] = ddt_pconf.group;

        for (i = 0; i < b->n; i++) {
            if (b->entries[i].shard == s) {
                argv[argc++] = b->entries[i].id;
            }
        }

        if (argc > 3) {
            redisAppendCommandArgv(ddt_predis, argc, argv, NULL);
            cmds++;
        }
    }

    free(argv);

    return ddt_predis_drain(cmds, "XACK");
}


/* MULTI: XADD to the shard's dead-letter stream, XACK the entry */

int
ddt_predis_deadletter(ddt_entry_t *e, const char *reason)
{
    int          argc;
    char         dl[64], ver[32];
    const char  *argv[24];
    size_t       argvlen[24];

    if (ddt_predis == NULL) {
        return -1;
    }

    snprintf(dl, sizeof(dl), "ddt:{%d}:deadletter", e->shard);
    snprintf(ver, sizeof(ver), "%llu", (unsigned long long) e->ver);

    redisAppendCommand(ddt_predis, "MULTI");

    argc = 0;
#define DDT_ARG(s, l)  do { argv[argc] = (s); argvlen[argc++] = (l); } while (0)
    DDT_ARG("XADD", 4);
    DDT_ARG(dl, strlen(dl));
    DDT_ARG("MAXLEN", 6);
    DDT_ARG("~", 1);
    DDT_ARG(DDT_P_DEADLETTER_CAP, strlen(DDT_P_DEADLETTER_CAP));
    DDT_ARG("*", 1);
    DDT_ARG("stream", 6);
    DDT_ARG(ddt_pstreams[e->shard], strlen(ddt_pstreams[e->shard]));
    DDT_ARG("id", 2);
    DDT_ARG(e->id, strlen(e->id));
    DDT_ARG("reason", 6);
    DDT_ARG(reason, strlen(reason));
    DDT_ARG("consumer", 8);
    DDT_ARG(ddt_pconf.consumer, strlen(ddt_pconf.consumer));
    DDT_ARG("sid", 3);
    DDT_ARG(e->sid ? e->sid : "", e->sid ? strlen(e->sid) : 0);
    DDT_ARG("ver", 3);
    DDT_ARG(ver, strlen(ver));
    DDT_ARG("state", 5);
    DDT_ARG(e->state ? e->state : "", e->state ? e->state_len : 0);
    DDT_ARG("turn", 4);
    DDT_ARG(e->turn ? e->turn : "", e->turn ? e->turn_len : 0);
#undef DDT_ARG

    redisAppendCommandArgv(ddt_predis, argc, argv, argvlen);
    redisAppendCommand(ddt_predis, "XACK %s %s %s", ddt_pstreams[e->shard],
                       ddt_pconf.group, e->id);
    redisAppendCommand(ddt_predis, "EXEC");

    ddt_pcount(entries_deadletter, 1);
    ddt_plog(DDT_P_LOG_ERR, "entry %s of %s (sid \"%s\" ver %s) moved to %s: "
             "%s", e->id, ddt_pstreams[e->shard], e->sid ? e->sid : "", ver,
             dl, reason);

    return ddt_predis_drain(4, "dead letter");
}


/*
 * After MongoDB acknowledged a batch: ddt:{<shard>}:d:<sid> raised to the
 * newest durable ver of each session, and "<sid>:<ver>" on ddt:durable.
 */

int
ddt_predis_durable(ddt_batch_t *b)
{
    int           i, cmds;
    char          key[256], ver[32], ttl[32], msg[256];
    const char   *argv[8];
    ddt_entry_t  *e;

    if (ddt_predis == NULL) {
        return -1;
    }

    snprintf(ttl, sizeof(ttl), "%lld",
             (long long) ddt_pconf.session_timeout_s * 1000);

    cmds = 0;

    for (i = 0; i < b->n; i++) {
        e = &b->entries[i];

        if (e->bad || e->failed || !e->newest || e->deleted) {
            continue;
        }

        snprintf(key, sizeof(key), "ddt:{%d}:d:%s", e->shard, e->sid);
        snprintf(ver, sizeof(ver), "%llu", (unsigned long long) e->ver);
        snprintf(msg, sizeof(msg), "%s:%s", e->sid, ver);

        argv[0] = "EVAL";
        argv[1] = ddt_pdurable_lua;
        argv[2] = "1";
        argv[3] = key;
        argv[4] = ver;
        argv[5] = ttl;
        argv[6] = msg;

        redisAppendCommandArgv(ddt_predis, 7, argv, NULL);
        cmds++;
    }

    return ddt_predis_drain(cmds, "durable mark");
}


void
ddt_predis_heartbeat(int alive)
{
    char         ttl[32];
    redisReply  *r;

    if (!alive) {
        return;         /* let it expire: the module stops waiting */
    }

    snprintf(ttl, sizeof(ttl), "%d", ddt_pconf.heartbeat_ttl_ms);

    r = ddt_predis_cmdv("SET", "ddt:persister:alive", ddt_pconf.consumer,
                        "PX", ttl, NULL);
    if (r) {
        freeReplyObject(r);
    }
}


static long long
ddt_predis_int(redisReply *r)
{
    if (r == NULL) {
        return 0;
    }

    if (r->type == REDIS_REPLY_INTEGER) {
        return r->integer;
    }

    if (r->type == REDIS_REPLY_STRING) {
        return atoll(r->str);
    }

    return 0;
}


/* "a-b" < "c-d" as stream ids */

static int
ddt_pid_cmp(const char *x, const char *y)
{
    unsigned long long  xa, xb, ya, yb;

    xa = xb = ya = yb = 0;
    sscanf(x, "%llu-%llu", &xa, &xb);
    sscanf(y, "%llu-%llu", &ya, &yb);

    if (xa != ya) {
        return xa < ya ? -1 : 1;
    }

    return xb < yb ? -1 : (xb > yb);
}


/*
 * The oldest id some group still needs: the first pending entry of a group
 * that has some, else the one after what it was last delivered.  Entries
 * below it are trimmed (XTRIM MINID); a group that has not read them keeps
 * them, so a MongoDB outage never loses a turn to trimming.
 */

static void
ddt_predis_trim_stream(const char *stream, int ours, long long *pending,
    long long *lag)
{
    int                 have;
    char                min[48], cand[48], *name, *last;
    size_t              g, k;
    long long           gpend, glag;
    unsigned long long  ms, seq;
    redisReply         *r, *x, *grp;

    r = ddt_predis_cmdv("XINFO", "GROUPS", stream, NULL);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        if (r) {
            freeReplyObject(r);
        }
        return;
    }

    have = 0;
    min[0] = '\0';

    for (g = 0; g < r->elements; g++) {
        grp = r->element[g];
        name = last = NULL;
        gpend = glag = 0;

        if (grp->type != REDIS_REPLY_ARRAY) {
            continue;
        }

        for (k = 0; k + 1 < grp->elements; k += 2) {
            x = grp->element[k];

            if (x->type != REDIS_REPLY_STRING) {
                continue;
            }

            if (strcmp(x->str, "name") == 0) {
                name = grp->element[k + 1]->str;

            } else if (strcmp(x->str, "pending") == 0) {
                gpend = ddt_predis_int(grp->element[k + 1]);

            } else if (strcmp(x->str, "last-delivered-id") == 0) {
                last = grp->element[k + 1]->str;

            } else if (strcmp(x->str, "lag") == 0) {
                glag = ddt_predis_int(grp->element[k + 1]);
            }
        }

        if (name == NULL || last == NULL) {
            continue;
        }

        if (ours && strcmp(name, ddt_pconf.group) == 0) {
            *pending += gpend;
            *lag += glag;
        }

        if (gpend > 0) {
            x = ddt_predis_cmdv("XPENDING", stream, name, NULL);
            if (x == NULL) {
                break;
            }

            if (x->type == REDIS_REPLY_ARRAY && x->elements >= 2
                && x->element[1]->type == REDIS_REPLY_STRING
                && x->element[1]->len < sizeof(cand))
            {
                memcpy(cand, x->element[1]->str, x->element[1]->len + 1);

            } else {
                freeReplyObject(x);
                have = -1;          /* do not trim what we cannot see */
                break;
            }

            freeReplyObject(x);

        } else {
            ms = seq = 0;
            sscanf(last, "%llu-%llu", &ms, &seq);
            snprintf(cand, sizeof(cand), "%llu-%llu", ms, seq + 1);
        }

        if (!have || ddt_pid_cmp(cand, min) < 0) {
            strcpy(min, cand);
            have = 1;
        }
    }

    freeReplyObject(r);

    if (have == 1 && strcmp(min, "0-1") != 0) {
        x = ddt_predis_cmdv("XTRIM", stream, "MINID", min, NULL);
        if (x) {
            if (x->type == REDIS_REPLY_INTEGER && x->integer > 0) {
                ddt_plog(DDT_P_LOG_DEBUG, "trimmed %lld entries of %s",
                         x->integer, stream);
            }
            freeReplyObject(x);
        }
    }
}


void
ddt_predis_trim(void)
{
    int        i;
    long long  pending, lag, dummy;

    pending = lag = dummy = 0;

    for (i = 0; i < ddt_pconf.shards && ddt_predis_ready(); i++) {
        ddt_predis_trim_stream(ddt_pstreams[i], 1, &pending, &lag);
    }

    if (ddt_predis_ready()) {
        ddt_predis_trim_stream(DDT_P_RESTORE_STREAM, 0, &dummy, &dummy);
    }

    ddt_pset(pending, pending);
    ddt_pset(lag, lag);

    if (ddt_pconf.backlog_warn > 0) {
        if (pending + lag > ddt_pconf.backlog_warn && !ddt_pbacklog_warned) {
            ddt_plog(DDT_P_LOG_WARN, "backlog: %lld entries not yet in "
                     "MongoDB (%lld pending, %lld unread)", pending + lag,
                     pending, lag);
            ddt_pbacklog_warned = 1;

        } else if (pending + lag <= ddt_pconf.backlog_warn / 2
                   && ddt_pbacklog_warned)
        {
            ddt_plog(DDT_P_LOG_INFO, "backlog back to %lld entries",
                     pending + lag);
            ddt_pbacklog_warned = 0;
        }
    }
}


/* the next restore request; 0 none, 1 one (stale ones answered missing) */

int
ddt_predis_restore_next(char *sid, size_t sidlen, char *nonce,
    size_t noncelen, char *id, size_t idlen)
{
    ddt_prestore_req_t  *q;

    if (ddt_prestore_n == 0) {
        return 0;
    }

    q = &ddt_prestores[ddt_prestore_head];
    ddt_prestore_head = (ddt_prestore_head + 1) % DDT_P_RESTORE_MAX;
    ddt_prestore_n--;

    snprintf(sid, sidlen, "%s", q->sid);
    snprintf(nonce, noncelen, "%s", q->nonce);
    snprintf(id, idlen, "%s", q->id);

    return 1;
}


/* write a restored session back: only if Redis has none or an older one */

int
ddt_predis_restore_write(const char *sid, uint64_t ver, const char *status,
    const char *state, size_t state_len, int64_t ttl_ms)
{
    int          rc, shard;
    char         key[256], dkey[256], v[32], ttl[32];
    const char  *argv[9];
    size_t       argvlen[9];
    redisReply  *r;

    shard = ddt_pshard(sid, strlen(sid));
    snprintf(key, sizeof(key), "ddt:{%d}:s:%s", shard, sid);
    snprintf(dkey, sizeof(dkey), "ddt:{%d}:d:%s", shard, sid);
    snprintf(v, sizeof(v), "%llu", (unsigned long long) ver);
    snprintf(ttl, sizeof(ttl), "%lld", (long long) (ttl_ms > 0 ? ttl_ms : 1));

    argv[0] = "EVAL";
    argv[1] = ddt_prestore_lua;
    argv[2] = "2";
    argv[3] = key;
    argv[4] = dkey;
    argv[5] = v;
    argv[6] = status;
    argv[7] = state;
    argv[8] = ttl;

    for (rc = 0; rc < 9; rc++) {
        argvlen[rc] = strlen(argv[rc]);
    }
    argvlen[7] = state_len;

    r = ddt_predis_cmd(9, argv, argvlen);
    if (r == NULL) {
        return -1;
    }

    rc = 0;

    if (r->type == REDIS_REPLY_ERROR) {
        ddt_plog(DDT_P_LOG_ERR, "redis: restore of \"%s\": %s", sid, r->str);
        rc = -2;

    } else if (r->type == REDIS_REPLY_INTEGER && r->integer == 0) {
        ddt_plog(DDT_P_LOG_INFO, "restore of \"%s\": Redis already has ver "
                 "%s or newer", sid, v);
    }

    freeReplyObject(r);

    return rc;
}


int
ddt_predis_restore_reply(const char *id, const char *nonce, const char *what)
{
    int   n;
    char  msg[256];

    if (ddt_predis == NULL) {
        return -1;
    }

    n = 1;

    /* no nonce (or no answer to give): acknowledge, publish nothing */
    if (nonce[0]) {
        snprintf(msg, sizeof(msg), "%s:%s", nonce, what);
        redisAppendCommand(ddt_predis, "PUBLISH ddt:restored %s", msg);
        n++;
    }

    redisAppendCommand(ddt_predis, "XACK %s %s %s", DDT_P_RESTORE_STREAM,
                       ddt_pconf.group, id);

    return ddt_predis_drain(n, "restore reply");
}


int
ddt_predis_restore_stale(const char *id)
{
    unsigned long long  ms;

    ms = 0;
    sscanf(id, "%llu", &ms);

    return (int64_t) ms + DDT_P_RESTORE_STALE < ddt_pnow_ms();
}
