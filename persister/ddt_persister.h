
/*
 * ddt_persister.h: what the parts of ddt-persister share (SPEC 8, 9.7): the
 * configuration, the stream entry of one snapshot, the batch, logging and
 * the metrics counters.  The parts: ddt_persister.c (main, configuration,
 * the loop), ddt_persister_redis.c (streams, acknowledgements, trimming,
 * claiming, dead letters, durable marks, heartbeat, restore replies),
 * ddt_persister_mongo.c (bulk writes, indexes, restore reads),
 * ddt_persister_metrics.c (the Prometheus endpoint on loopback).
 */

#ifndef DDT_PERSISTER_H
#define DDT_PERSISTER_H

#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>
#include <mongoc/mongoc.h>
#include <ddt/base.h>
#include <ddt/json.h>


#define DDT_P_LOG_ERR    0
#define DDT_P_LOG_WARN   1
#define DDT_P_LOG_INFO   2
#define DDT_P_LOG_DEBUG  3

#define DDT_P_SHARDS_MAX  16384


typedef struct {
    char          redis_host[256];
    int           redis_port;
    char          redis_password[256];
    char          sentinels[1024];      /* "host:port host:port ..." */
    char          sentinel_master[128];
    int           redis_timeout_ms;

    char          mongo_uri[1024];
    char          database[128];
    char          write_w[32];          /* "majority" or a number */
    int           write_j;
    int           write_timeout_ms;

    char          group[128];
    char          consumer[128];
    int           shards;

    int           batch_max;            /* entries */
    int           batch_ms;             /* wait for more, from the first */
    int           coalesce;

    int           claim_idle_ms;        /* XAUTOCLAIM min-idle */
    int           claim_interval_ms;
    int           trim_interval_ms;
    long          backlog_warn;

    int           heartbeat_ttl_ms;
    int           session_timeout_s;    /* SPEC 9.4 session_timeout */
    int           turns_ttl_days;       /* 0: turns kept for ever */
    int           sessions_ttl_days;    /* ended sessions; 0: for ever */

    char          metrics_listen[64];   /* "127.0.0.1:9187"; "" off */
    int           log_level;
} ddt_pconf_t;


/* One snapshot stream entry, copied into the batch's arena. */
typedef struct {
    int           shard;
    char          id[48];               /* stream entry id */
    long          deliveries;           /* from XAUTOCLAIM/XPENDING, 0 new */

    const char   *sid;
    uint64_t      ver;
    int           critical;
    int           deleted;
    const char   *state;
    size_t        state_len;
    const char   *turn;
    size_t        turn_len;

    /* from the state and the turn */
    const char   *status;
    const char   *project;
    const char   *project_version;
    int64_t       at;                   /* ms */
    ddt_json_t   *input;
    ddt_json_t   *response;

    const char   *bad;                  /* malformed: why; NULL when fine */
    int           newest;               /* newest ver of its sid in batch */
    int           failed;               /* a write error of its own */
    int           dup;                  /* duplicate key in the last bulk */
    char          error[640];
} ddt_entry_t;


typedef struct {
    ddt_arena_t   arena;
    ddt_entry_t  *entries;
    int           n;
    int           cap;
    int           critical;             /* holds a critical entry */
    int64_t       started;              /* ms, first entry read */
} ddt_batch_t;


/* Counters, read by the metrics thread (relaxed atomics). */
typedef struct {
    uint64_t      entries_read;
    uint64_t      entries_written;      /* turns acknowledged by MongoDB */
    uint64_t      entries_coalesced;
    uint64_t      entries_duplicate;    /* replays: already in MongoDB */
    uint64_t      entries_deadletter;
    uint64_t      entries_claimed;
    uint64_t      batches;
    uint64_t      mongo_errors;
    uint64_t      redis_errors;
    uint64_t      restores_found;
    uint64_t      restores_missing;
    uint64_t      restores_expired;
    uint64_t      restores_failed;
    uint64_t      restore_ms_bucket[8]; /* <=1,5,10,25,50,100,500,+Inf */
    uint64_t      restore_ms_sum;
    int64_t       pending;              /* gauges */
    int64_t       lag;
    int64_t       last_write_ms;
    int64_t       mongo_up;
    int64_t       redis_up;
} ddt_pmetrics_t;


extern ddt_pconf_t     ddt_pconf;
extern ddt_pmetrics_t  ddt_pmetrics;
extern volatile int    ddt_pstop;


void ddt_plog(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int64_t ddt_pnow_ms(void);
#define ddt_pcount(f, n)  __atomic_add_fetch(&ddt_pmetrics.f, (n),          \
                                             __ATOMIC_RELAXED)
#define ddt_pset(f, v)    __atomic_store_n(&ddt_pmetrics.f, (v),            \
                                           __ATOMIC_RELAXED)


/* ddt_persister_redis.c */
int ddt_predis_connect(void);
void ddt_predis_close(void);
int ddt_predis_ready(void);
int ddt_predis_setup(void);
int ddt_predis_read(ddt_batch_t *b, int block_ms, int count, int pending,
    int *restores);
int ddt_predis_claim(ddt_batch_t *b, int count);
int ddt_predis_ack(ddt_batch_t *b);
int ddt_predis_deadletter(ddt_entry_t *e, const char *reason);
int ddt_predis_durable(ddt_batch_t *b);
void ddt_predis_heartbeat(int alive);
void ddt_predis_trim(void);
int ddt_predis_restore_next(char *sid, size_t sidlen, char *nonce,
    size_t noncelen, char *id, size_t idlen);
int ddt_predis_restore_write(const char *sid, uint64_t ver,
    const char *status, const char *state, size_t state_len, int64_t ttl_ms);
int ddt_predis_restore_reply(const char *id, const char *nonce,
    const char *what);
int ddt_predis_restore_stale(const char *id);
int ddt_pshard(const char *sid, size_t len);

/* ddt_persister_mongo.c */
int ddt_pmongo_init(void);
void ddt_pmongo_close(void);
int ddt_pmongo_indexes(void);
int ddt_pmongo_write(ddt_batch_t *b);
int ddt_pmongo_ping(void);
int ddt_pmongo_load(const char *sid, uint64_t *ver, char **status,
    char **state, size_t *state_len, int64_t *updated, int *deleted);

/* ddt_persister_metrics.c */
int ddt_pmetrics_start(const char *listen);

/* ddt_persister_entry (in ddt_persister.c) */
void ddt_pentry_parse(ddt_batch_t *b, ddt_entry_t *e);

#endif /* DDT_PERSISTER_H */
