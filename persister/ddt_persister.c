
/*
 * ddt_persister.c: ddt-persister's main: the configuration (a file of
 * `key = value` lines and the same keys as --flags), logging, the parse of
 * one stream entry, and the loop:
 *
 *   read own pending entries (after a restart), then new ones with
 *   XREADGROUP; a batch is flushed at batch_max entries, batch_ms after its
 *   first entry, at once when it holds a critical entry or a restore
 *   request waits; flush = dead-letter the malformed, one bulk per
 *   collection (retried until MongoDB acknowledges), XACK, durable marks;
 *   then restore requests; every so often the heartbeat, XAUTOCLAIM of
 *   idle consumers' entries and XTRIM MINID.
 *
 * SIGTERM (or SIGINT) finishes the batch in hand and exits 0.  What talks
 * to Redis and MongoDB lives in ddt_persister_redis.c and _mongo.c.
 */

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "ddt_persister.h"


ddt_pconf_t     ddt_pconf;
ddt_pmetrics_t  ddt_pmetrics;
volatile int    ddt_pstop;


static const char  *ddt_plevels[] = { "error", "warn", "info", "debug" };


int64_t
ddt_pnow_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


void
ddt_plog(int level, const char *fmt, ...)
{
    char             when[32];
    time_t           t;
    va_list          ap;
    int64_t          ms;
    struct tm        tm;

    if (level > ddt_pconf.log_level) {
        return;
    }

    ms = ddt_pnow_ms();
    t = (time_t) (ms / 1000);
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);

    fprintf(stderr, "%s.%03dZ ddt-persister[%d] %s: ", when,
            (int) (ms % 1000), (int) getpid(), ddt_plevels[level]);

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);

    fputc('\n', stderr);
}


/* ---- configuration ------------------------------------------------------ */


static void
ddt_pconf_defaults(void)
{
    char  host[64];

    memset(&ddt_pconf, 0, sizeof(ddt_pconf));

    strcpy(ddt_pconf.redis_host, "127.0.0.1");
    ddt_pconf.redis_port = 6379;
    ddt_pconf.redis_timeout_ms = 3000;
    strcpy(ddt_pconf.mongo_uri, "mongodb://127.0.0.1:27017");
    strcpy(ddt_pconf.database, "ddt");
    strcpy(ddt_pconf.write_w, "majority");
    ddt_pconf.write_j = 1;
    ddt_pconf.write_timeout_ms = 5000;
    strcpy(ddt_pconf.group, "ddt-persister");

    if (gethostname(host, sizeof(host)) != 0) {
        strcpy(host, "persister");
    }
    host[sizeof(host) - 1] = '\0';
    snprintf(ddt_pconf.consumer, sizeof(ddt_pconf.consumer), "%s", host);

    ddt_pconf.shards = 1;
    ddt_pconf.batch_max = 500;
    ddt_pconf.batch_ms = 50;
    ddt_pconf.coalesce = 1;
    ddt_pconf.claim_idle_ms = 30000;
    ddt_pconf.claim_interval_ms = 5000;
    ddt_pconf.trim_interval_ms = 1000;
    ddt_pconf.backlog_warn = 10000;
    ddt_pconf.heartbeat_ttl_ms = 5000;
    ddt_pconf.session_timeout_s = 3600;
    ddt_pconf.turns_ttl_days = 0;
    ddt_pconf.sessions_ttl_days = 0;
    strcpy(ddt_pconf.metrics_listen, "127.0.0.1:9187");
    ddt_pconf.log_level = DDT_P_LOG_INFO;
}


static int
ddt_pconf_str(char *dst, size_t size, const char *v)
{
    if (strlen(v) >= size) {
        return -1;
    }

    strcpy(dst, v);

    return 0;
}


static int
ddt_pconf_int(int *dst, const char *v, long min, long max)
{
    long   n;
    char  *end;

    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max) {
        return -1;
    }

    *dst = (int) n;

    return 0;
}


static int
ddt_pconf_bool(int *dst, const char *v)
{
    if (strcmp(v, "on") == 0 || strcmp(v, "1") == 0
        || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0)
    {
        *dst = 1;
        return 0;
    }

    if (strcmp(v, "off") == 0 || strcmp(v, "0") == 0
        || strcmp(v, "false") == 0 || strcmp(v, "no") == 0)
    {
        *dst = 0;
        return 0;
    }

    return -1;
}


/* one setting; key with '-' or '_' alike.  0 ok, -1 bad value or key */

static int
ddt_pconf_set(const char *key, const char *v)
{
    int    i, n;
    char   k[64], *colon;

    snprintf(k, sizeof(k), "%s", key);
    for (i = 0; k[i]; i++) {
        if (k[i] == '-') {
            k[i] = '_';
        }
    }

    if (strcmp(k, "redis") == 0) {
        colon = strrchr(v, ':');
        if (colon == NULL
            || (size_t) (colon - v) >= sizeof(ddt_pconf.redis_host)
            || ddt_pconf_int(&n, colon + 1, 1, 65535) != 0)
        {
            return -1;
        }
        memcpy(ddt_pconf.redis_host, v, colon - v);
        ddt_pconf.redis_host[colon - v] = '\0';
        ddt_pconf.redis_port = n;
        return 0;
    }

#define DDT_S(name, f)                                                       \
    if (strcmp(k, name) == 0) {                                              \
        return ddt_pconf_str(ddt_pconf.f, sizeof(ddt_pconf.f), v);           \
    }
#define DDT_I(name, f, lo, hi)                                               \
    if (strcmp(k, name) == 0) {                                              \
        return ddt_pconf_int(&ddt_pconf.f, v, lo, hi);                       \
    }
#define DDT_B(name, f)                                                       \
    if (strcmp(k, name) == 0) {                                              \
        return ddt_pconf_bool(&ddt_pconf.f, v);                              \
    }

    DDT_S("redis_password", redis_password)
    DDT_S("sentinel", sentinels)
    DDT_S("sentinel_master", sentinel_master)
    DDT_I("redis_timeout_ms", redis_timeout_ms, 10, 600000)
    DDT_S("mongo_uri", mongo_uri)
    DDT_S("mongo", mongo_uri)
    DDT_S("database", database)
    DDT_S("write_concern", write_w)
    DDT_B("journal", write_j)
    DDT_I("write_timeout_ms", write_timeout_ms, 0, 600000)
    DDT_S("group", group)
    DDT_S("consumer", consumer)
    DDT_I("shards", shards, 1, DDT_P_SHARDS_MAX)
    DDT_I("batch_max", batch_max, 1, 100000)
    DDT_I("batch_ms", batch_ms, 0, 60000)
    DDT_B("coalesce", coalesce)
    DDT_I("claim_idle_ms", claim_idle_ms, 1, 86400000)
    DDT_I("claim_interval_ms", claim_interval_ms, 10, 86400000)
    DDT_I("trim_interval_ms", trim_interval_ms, 10, 86400000)
    DDT_I("heartbeat_ttl_ms", heartbeat_ttl_ms, 300, 600000)
    DDT_I("session_timeout", session_timeout_s, 1, 365 * 86400)
    DDT_I("turns_ttl_days", turns_ttl_days, 0, 36500)
    DDT_I("sessions_ttl_days", sessions_ttl_days, 0, 36500)
    DDT_S("metrics", metrics_listen)

#undef DDT_S
#undef DDT_I
#undef DDT_B

    if (strcmp(k, "backlog_warn") == 0) {
        if (ddt_pconf_int(&n, v, 0, 2000000000) != 0) {
            return -1;
        }
        ddt_pconf.backlog_warn = n;
        return 0;
    }

    if (strcmp(k, "log_level") == 0) {
        for (i = 0; i < 4; i++) {
            if (strcmp(v, ddt_plevels[i]) == 0) {
                ddt_pconf.log_level = i;
                return 0;
            }
        }
        return -1;
    }

    return -1;
}


static int
ddt_pconf_file(const char *path)
{
    int    line;
    char   buf[2048], *k, *v, *e;
    FILE  *f;

    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "ddt-persister: %s: %s\n", path, strerror(errno));
        return -1;
    }

    line = 0;

    while (fgets(buf, sizeof(buf), f)) {
        line++;

        k = buf + strspn(buf, " \t");
        if (*k == '#' || *k == '\n' || *k == '\0') {
            continue;
        }

        e = k + strlen(k);
        while (e > k && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '
                         || e[-1] == '\t'))
        {
            *--e = '\0';
        }

        v = strchr(k, '=');
        if (v == NULL) {
            fprintf(stderr, "ddt-persister: %s:%d: expected key = value\n",
                    path, line);
            fclose(f);
            return -1;
        }

        e = v;
        *v++ = '\0';
        while (e > k && (e[-1] == ' ' || e[-1] == '\t')) {
            *--e = '\0';
        }
        v += strspn(v, " \t");

        if (ddt_pconf_set(k, v) != 0) {
            fprintf(stderr, "ddt-persister: %s:%d: bad setting \"%s\" = "
                    "\"%s\"\n", path, line, k, v);
            fclose(f);
            return -1;
        }
    }

    fclose(f);

    return 0;
}


static void
ddt_pusage(FILE *f)
{
    fprintf(f,
"usage: ddt-persister [--config FILE] [--KEY VALUE ...]\n"
"\n"
"Drains the ddt:{<shard>}:snapshots streams into MongoDB and answers\n"
"restore requests (SPEC 8, 9.7).  Every key of the config file is also a\n"
"flag (--batch-max 500 or --batch_max 500); flags win over the file.\n"
"\n"
"  redis HOST:PORT          [127.0.0.1:6379]\n"
"  redis_password PASS      []          redis_timeout_ms MS [3000]\n"
"  sentinel \"HOST:PORT ...\" []          sentinel_master NAME: the master\n"
"                           is asked of the sentinels (instead of redis)\n"
"  mongo_uri URI            [mongodb://127.0.0.1:27017]\n"
"  database NAME            [ddt]\n"
"  write_concern W          [majority] (or a number, or a tag)\n"
"  journal on|off           [on]        write_timeout_ms [5000]\n"
"  group NAME               [ddt-persister]    consumer NAME [hostname]\n"
"  shards N                 [1] (= the module's ddt_redis_shards)\n"
"  batch_max N              [500]       batch_ms MS [50]\n"
"  coalesce on|off          [on]\n"
"  claim_idle_ms MS         [30000]     claim_interval_ms MS [5000]\n"
"  trim_interval_ms MS      [1000]      backlog_warn N [10000]\n"
"  heartbeat_ttl_ms MS      [5000]      session_timeout SECONDS [3600]\n"
"  turns_ttl_days N         [0: kept]   sessions_ttl_days N [0: kept]\n"
"  metrics HOST:PORT        [127.0.0.1:9187] (loopback only; \"\" off)\n"
"  log_level error|warn|info|debug [info]\n");
}


static int
ddt_pconf_args(int argc, char **argv)
{
    int          i;
    const char  *k;

    /* the file first, so that flags win */
    for (i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0)
            && i + 1 < argc)
        {
            if (ddt_pconf_file(argv[i + 1]) != 0) {
                return -1;
            }
        }
    }

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            ddt_pusage(stdout);
            exit(0);
        }

        if (strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) {
            i++;
            continue;
        }

        if (strcmp(argv[i], "--no-coalesce") == 0) {
            ddt_pconf.coalesce = 0;
            continue;
        }

        if (strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "ddt-persister: unexpected \"%s\"\n", argv[i]);
            ddt_pusage(stderr);
            return -1;
        }

        k = argv[i] + 2;

        if (ddt_pconf_set(k, argv[i + 1]) != 0) {
            fprintf(stderr, "ddt-persister: bad --%s \"%s\"\n", k,
                    argv[i + 1]);
            return -1;
        }

        i++;
    }

    return 0;
}


/* ---- entries ------------------------------------------------------------ */


static const char *
ddt_pjson_strz(ddt_json_t *o, const char *key)
{
    ddt_json_t  *v;

    v = ddt_json_getz(o, key);

    return (v && v->type == DDT_J_STR) ? v->u.str.s : NULL;
}


static int
ddt_psid_valid(const char *s)
{
    size_t  n;

    n = 0;

    for (; *s; s++, n++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
              || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
        {
            return 0;
        }
    }

    return n >= 1 && n <= 128;
}


/* check one entry against SPEC 9.7 and pick what the documents need */

void
ddt_pentry_parse(ddt_batch_t *b, ddt_entry_t *e)
{
    ddt_json_t         *st, *tu, *at;
    ddt_jerr_t          jerr;
    ddt_json_limits_t   lim;

    lim.max_depth = 256;

    if (e->sid == NULL || !ddt_psid_valid(e->sid)) {
        e->bad = "no valid sid";
        return;
    }

    if (e->ver == 0) {
        e->bad = "no valid ver";
        return;
    }

    if (e->state == NULL || e->turn == NULL) {
        e->bad = "state or turn missing";
        return;
    }

    st = ddt_json_parse(&b->arena, e->state, e->state_len, &lim, &jerr);
    if (st == NULL || st->type != DDT_J_OBJ) {
        e->bad = "state is not a JSON object";
        return;
    }

    tu = ddt_json_parse(&b->arena, e->turn, e->turn_len, &lim, &jerr);
    if (tu == NULL || tu->type != DDT_J_OBJ) {
        e->bad = "turn is not a JSON object";
        return;
    }

    e->status = ddt_pjson_strz(st, "status");
    e->project = ddt_pjson_strz(st, "project");
    e->project_version = ddt_pjson_strz(st, "projectVersion");

    if (e->status == NULL) {
        e->bad = "state has no status";
        return;
    }

    e->input = ddt_json_getz(tu, "input");
    e->response = ddt_json_getz(tu, "response");

    at = ddt_json_getz(tu, "at");
    if (at && at->type == DDT_J_NUM && at->u.n > 0) {
        e->at = (int64_t) at->u.n;

    } else {
        at = ddt_json_getz(st, "updatedMs");
        e->at = (at && at->type == DDT_J_NUM) ? (int64_t) at->u.n
                                              : ddt_pnow_ms();
    }
}


/* the newest ver of each session in the batch; the others are coalesced */

static void
ddt_pbatch_newest(ddt_batch_t *b)
{
    int           i, j;
    ddt_entry_t  *e, *f;

    for (i = 0; i < b->n; i++) {
        e = &b->entries[i];
        e->newest = (e->bad == NULL);

        if (!e->newest) {
            continue;
        }

        for (j = 0; j < i; j++) {
            f = &b->entries[j];

            if (!f->newest || strcmp(f->sid, e->sid) != 0) {
                continue;
            }

            if (f->ver < e->ver || (f->ver == e->ver && e->deleted)) {
                f->newest = 0;

            } else {
                e->newest = 0;
                break;
            }
        }
    }
}


static void
ddt_pbatch_reset(ddt_batch_t *b)
{
    b->n = 0;
    b->critical = 0;
    b->started = 0;
    ddt_arena_reset(&b->arena);
}


static void
ddt_psleep_ms(int ms)
{
    struct timespec  ts;

    while (ms > 0 && !ddt_pstop) {
        ts.tv_sec = 0;
        ts.tv_nsec = (ms > 100 ? 100 : ms) * 1000000L;
        nanosleep(&ts, NULL);
        ms -= 100;
    }
}


/*
 * Write a batch: dead letters first, then MongoDB until it acknowledges
 * (backoff 100 ms .. 2 s), then XACK and the durable marks.  0 done, -1
 * stopped or Redis failed (the entries stay pending and are read again).
 */

static int
ddt_pflush(ddt_batch_t *b)
{
    int           i, tries, backoff, coalesced, written;
    ddt_entry_t  *e;

    if (b->n == 0) {
        return 0;
    }

    ddt_pbatch_newest(b);

    for (i = 0; i < b->n; i++) {
        e = &b->entries[i];

        if (e->bad && e->bad[0]) {
            if (ddt_predis_deadletter(e, e->bad) != 0) {
                return -1;
            }
        }
    }

    tries = 0;
    backoff = 100;

    while (ddt_pmongo_write(b) != 0) {
        tries++;

        if (ddt_pstop && tries >= 2) {
            ddt_plog(DDT_P_LOG_WARN, "stopping with %d entries not written; "
                     "they stay pending in Redis", b->n);
            return -1;
        }

        if (tries == 1 || tries % 20 == 0) {
            ddt_plog(DDT_P_LOG_WARN, "mongodb: batch of %d entries not "
                     "acknowledged, retrying (attempt %d)", b->n, tries);
        }

        ddt_psleep_ms(backoff);
        backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;

        /* the backlog metrics (and its warning) while MongoDB is away */
        ddt_predis_trim();
    }

    if (tries) {
        ddt_plog(DDT_P_LOG_INFO, "mongodb: batch written after %d retries",
                 tries);
    }

    coalesced = written = 0;

    for (i = 0; i < b->n; i++) {
        e = &b->entries[i];

        if (e->failed) {
            if (ddt_predis_deadletter(e, e->error) != 0) {
                return -1;
            }
            continue;
        }

        if (e->bad == NULL) {
            written++;
            if (ddt_pconf.coalesce && !e->newest) {
                coalesced++;
            }
        }
    }

    if (ddt_predis_ack(b) != 0 || ddt_predis_durable(b) != 0) {
        return -1;
    }

    ddt_pcount(entries_written, written);
    ddt_pcount(entries_coalesced, coalesced);
    ddt_pcount(batches, 1);
    ddt_pset(last_write_ms, ddt_pnow_ms());

    ddt_plog(DDT_P_LOG_DEBUG, "batch: %d entries, %d written, %d coalesced",
             b->n, written, coalesced);

    return 0;
}


/* ---- restore ------------------------------------------------------------ */


static void
ddt_prestore_latency(const char *id)
{
    int                 i;
    int64_t             ms;
    unsigned long long  t;
    static const int    le[7] = { 1, 5, 10, 25, 50, 100, 500 };

    t = 0;
    sscanf(id, "%llu", &t);
    ms = ddt_pnow_ms() - (int64_t) t;
    if (ms < 0) {
        ms = 0;
    }

    for (i = 0; i < 7 && ms > le[i]; i++) {
        /* void */
    }

    ddt_pcount(restore_ms_bucket[i], 1);
    ddt_pcount(restore_ms_sum, (uint64_t) ms);
}


/* 0 done, -1 Redis failed */

static int
ddt_prestore_one(const char *sid, const char *nonce, const char *id)
{
    int          rc, deleted;
    char        *status, *state;
    size_t       state_len;
    int64_t      updated, idle, timeout;
    uint64_t     ver;
    const char  *what;

    if (nonce[0] == '\0') {
        ddt_plog(DDT_P_LOG_WARN, "restore request %s has no reply nonce", id);
        return ddt_predis_restore_reply(id, "", "missing");
    }

    if (!ddt_psid_valid(sid)) {
        ddt_pcount(restores_missing, 1);
        return ddt_predis_restore_reply(id, nonce, "missing");
    }

    rc = ddt_pmongo_load(sid, &ver, &status, &state, &state_len, &updated,
                         &deleted);

    if (rc < 0) {
        /* no answer: the module times out and says so */
        ddt_pcount(restores_failed, 1);
        ddt_plog(DDT_P_LOG_ERR, "restore of \"%s\" failed: MongoDB did not "
                 "answer", sid);
        return ddt_predis_restore_reply(id, "", "failed");
    }

    timeout = (int64_t) ddt_pconf.session_timeout_s * 1000;
    idle = ddt_pnow_ms() - updated;

    if (rc == 0 || deleted) {
        what = "missing";
        ddt_pcount(restores_missing, 1);

    } else if (idle >= timeout) {
        what = "expired";
        ddt_pcount(restores_expired, 1);

    } else {
        rc = ddt_predis_restore_write(sid, ver, status, state, state_len,
                                      timeout - idle);
        if (rc == -1) {
            free(status);
            free(state);
            return -1;
        }

        if (rc == -2) {
            ddt_pcount(restores_failed, 1);
            free(status);
            free(state);
            return ddt_predis_restore_reply(id, "", "failed");
        }

        what = "found";
        ddt_pcount(restores_found, 1);
        ddt_plog(DDT_P_LOG_INFO, "restored \"%s\" at ver %llu", sid,
                 (unsigned long long) ver);
    }

    free(status);
    free(state);

    ddt_prestore_latency(id);

    return ddt_predis_restore_reply(id, nonce, what);
}


static int
ddt_prestores(void)
{
    char  sid[160], nonce[160], id[48];

    while (ddt_predis_restore_next(sid, sizeof(sid), nonce, sizeof(nonce), id,
                                   sizeof(id)))
    {
        if (ddt_prestore_one(sid, nonce, id) != 0) {
            return -1;
        }
    }

    return 0;
}


/* ---- main --------------------------------------------------------------- */


static void
ddt_psignal(int signo)
{
    ddt_pstop = 1;
}


int
main(int argc, char **argv)
{
    int               n, restores, history, backoff, block, indexed;
    int64_t           now, next_beat, next_claim, next_trim;
    ddt_batch_t       batch;
    struct sigaction  sa;

    ddt_pconf_defaults();

    if (ddt_pconf_args(argc, argv) != 0) {
        return 2;
    }

    if ((ddt_pconf.sentinels[0] != '\0') != (ddt_pconf.sentinel_master[0]
                                             != '\0'))
    {
        fprintf(stderr, "ddt-persister: sentinel and sentinel_master go "
                "together\n");
        return 2;
    }

    setvbuf(stderr, NULL, _IOLBF, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = ddt_psignal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    mongoc_init();

    if (ddt_pmongo_init() != 0) {
        return 1;
    }

    if (ddt_pmetrics_start(ddt_pconf.metrics_listen) != 0) {
        return 1;
    }

    ddt_plog(DDT_P_LOG_INFO, "starting: redis %s:%d, %d shard(s), group "
             "\"%s\", consumer \"%s\", database \"%s\", batch %d/%d ms, "
             "coalesce %s, write concern w=%s j=%s",
             ddt_pconf.redis_host, ddt_pconf.redis_port, ddt_pconf.shards,
             ddt_pconf.group, ddt_pconf.consumer, ddt_pconf.database,
             ddt_pconf.batch_max, ddt_pconf.batch_ms,
             ddt_pconf.coalesce ? "on" : "off", ddt_pconf.write_w,
             ddt_pconf.write_j ? "true" : "false");

    memset(&batch, 0, sizeof(batch));
    ddt_arena_init(&batch.arena, 256 * 1024);

    indexed = 0;
    history = 1;
    backoff = 100;
    next_beat = next_claim = next_trim = 0;

    while (!ddt_pstop || batch.n) {

        if (!ddt_predis_ready()) {
            ddt_predis_close();
            ddt_pbatch_reset(&batch);

            if (ddt_pstop) {
                break;
            }

            if (ddt_predis_connect() != 0 || ddt_predis_setup() != 0) {
                ddt_predis_close();
                ddt_psleep_ms(backoff);
                backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
                continue;
            }

            ddt_plog(DDT_P_LOG_INFO, "redis: connected to %s:%d%s",
                     ddt_pconf.redis_host, ddt_pconf.redis_port,
                     ddt_pconf.sentinels[0] ? " (master from the sentinels)"
                                            : "");
            backoff = 100;
            history = 1;
        }

        if (!indexed) {
            if (ddt_pmongo_indexes() != 0) {
                ddt_pset(mongo_up, 0);
                ddt_psleep_ms(1000);
                continue;
            }
            ddt_pset(mongo_up, 1);
            indexed = 1;
        }

        now = ddt_pnow_ms();

        if (now >= next_beat) {
            if (batch.n == 0) {
                ddt_pmongo_ping();
            }
            ddt_predis_heartbeat(__atomic_load_n(&ddt_pmetrics.mongo_up,
                                                 __ATOMIC_RELAXED) != 0);
            next_beat = now + ddt_pconf.heartbeat_ttl_ms / 3;
        }

        if (now >= next_trim && batch.n == 0) {
            ddt_predis_trim();
            next_trim = now + ddt_pconf.trim_interval_ms;
        }

        /* after a restart: what this consumer read and never acknowledged */
        if (history) {
            n = ddt_predis_read(&batch, -1, ddt_pconf.batch_max, 1, NULL);
            if (n < 0) {
                ddt_predis_close();
                continue;
            }
            if (n == 0) {
                history = 0;
                if (batch.n == 0) {
                    continue;
                }
            } else {
                ddt_plog(DDT_P_LOG_INFO, "re-reading %d entries this "
                         "consumer had not acknowledged", n);
            }
            if (ddt_pflush(&batch) != 0) {
                ddt_predis_close();
            }
            ddt_pbatch_reset(&batch);
            continue;
        }

        if (now >= next_claim && batch.n < ddt_pconf.batch_max && !ddt_pstop) {
            if (ddt_predis_claim(&batch, ddt_pconf.batch_max - batch.n) < 0) {
                ddt_predis_close();
                continue;
            }
            next_claim = now + ddt_pconf.claim_interval_ms;
        }

        restores = 0;

        if (ddt_pstop) {
            block = -2;                  /* no more reading: flush */

        } else if (batch.n == 0) {
            block = 500;

        } else if (batch.critical) {
            block = -1;

        } else {
            block = ddt_pconf.batch_ms - (int) (now - batch.started);
            if (block <= 0) {
                block = -2;
            }
        }

        if (block != -2 && batch.n < ddt_pconf.batch_max) {
            n = ddt_predis_read(&batch, block, ddt_pconf.batch_max - batch.n,
                                0, &restores);
            if (n < 0) {
                ddt_predis_close();
                continue;
            }
        }

        now = ddt_pnow_ms();

        if (batch.n > 0
            && (block == -2 || block == -1 || restores > 0
                || batch.n >= ddt_pconf.batch_max
                || now - batch.started >= ddt_pconf.batch_ms))
        {
            if (ddt_pflush(&batch) != 0) {
                ddt_predis_close();
                ddt_pbatch_reset(&batch);
                continue;
            }
            ddt_pbatch_reset(&batch);
        }

        if (restores > 0 && ddt_prestores() != 0) {
            ddt_predis_close();
        }
    }

    ddt_plog(DDT_P_LOG_INFO, "stopped");

    ddt_predis_close();
    ddt_pmongo_close();
    ddt_arena_free(&batch.arena);
    free(batch.entries);
    mongoc_cleanup();

    return 0;
}
