
/*
 * ddt_persister_mongo.c: ddt-persister's MongoDB side (SPEC 8, 9.7), over
 * one single-threaded libmongoc client:
 *
 *   turns     {_id: "<sid>:<ver>", sid, ver, at, input, response,
 *              critical}: inserted, a replay is a duplicate key and a
 *              no-op; unique index (sid, ver); TTL index on `at` (config)
 *   sessions  {_id: sid, ver, project, projectVersion, status, state,
 *              updatedAt, endedAt?, deleted?}: an update guarded by
 *              `ver $lt` with upsert, so an older ver never replaces a
 *              newer one (the upsert of a guarded-out update is a
 *              duplicate key: "newer exists"); TTL index on `endedAt`
 *
 * `state` is kept as the exact JSON text of the stream, so that a restore
 * writes back to Redis the bytes the module wrote; `input` and `response`
 * of a turn are documents, for analytics.  One bulk per collection per
 * batch, unordered, with the configured write concern.  It does not talk
 * to Redis.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ddt_persister.h"


static mongoc_client_t         *ddt_pmc;
static mongoc_collection_t     *ddt_psessions;
static mongoc_collection_t     *ddt_pturns;
static mongoc_database_t       *ddt_pdb;
static mongoc_write_concern_t  *ddt_pwc;


int
ddt_pmongo_init(void)
{
    char          *end;
    long           w;
    bson_error_t   err;
    mongoc_uri_t  *uri;

    uri = mongoc_uri_new_with_error(ddt_pconf.mongo_uri, &err);
    if (uri == NULL) {
        ddt_plog(DDT_P_LOG_ERR, "mongodb: bad uri \"%s\": %s",
                 ddt_pconf.mongo_uri, err.message);
        return -1;
    }

    if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS)) {
        mongoc_uri_set_option_as_int32(uri,
                                       MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
                                       2000);
    }

    if (!mongoc_uri_has_option(uri, MONGOC_URI_CONNECTTIMEOUTMS)) {
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS,
                                       2000);
    }

    if (!mongoc_uri_has_option(uri, MONGOC_URI_SOCKETTIMEOUTMS)) {
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS,
                                       ddt_pconf.write_timeout_ms + 5000);
    }

    ddt_pmc = mongoc_client_new_from_uri(uri);
    mongoc_uri_destroy(uri);

    if (ddt_pmc == NULL) {
        ddt_plog(DDT_P_LOG_ERR, "mongodb: cannot make a client for \"%s\"",
                 ddt_pconf.mongo_uri);
        return -1;
    }

    mongoc_client_set_error_api(ddt_pmc, MONGOC_ERROR_API_VERSION_2);
    mongoc_client_set_appname(ddt_pmc, "ddt-persister");

    ddt_pwc = mongoc_write_concern_new();

    w = strtol(ddt_pconf.write_w, &end, 10);
    if (*end == '\0' && end != ddt_pconf.write_w) {
        mongoc_write_concern_set_w(ddt_pwc, (int32_t) w);

    } else if (strcmp(ddt_pconf.write_w, "majority") == 0) {
        mongoc_write_concern_set_w(ddt_pwc, MONGOC_WRITE_CONCERN_W_MAJORITY);

    } else {
        mongoc_write_concern_set_wtag(ddt_pwc, ddt_pconf.write_w);
    }

    mongoc_write_concern_set_journal(ddt_pwc, ddt_pconf.write_j != 0);
    mongoc_write_concern_set_wtimeout_int64(ddt_pwc,
                                            ddt_pconf.write_timeout_ms);

    ddt_pdb = mongoc_client_get_database(ddt_pmc, ddt_pconf.database);
    ddt_psessions = mongoc_client_get_collection(ddt_pmc, ddt_pconf.database,
                                                 "sessions");
    ddt_pturns = mongoc_client_get_collection(ddt_pmc, ddt_pconf.database,
                                              "turns");

    return 0;
}


void
ddt_pmongo_close(void)
{
    if (ddt_pmc == NULL) {
        return;
    }

    mongoc_collection_destroy(ddt_psessions);
    mongoc_collection_destroy(ddt_pturns);
    mongoc_database_destroy(ddt_pdb);
    mongoc_write_concern_destroy(ddt_pwc);
    mongoc_client_destroy(ddt_pmc);
    ddt_pmc = NULL;
}


static int
ddt_pmongo_create_indexes(const char *coll, bson_t *indexes)
{
    int           rc;
    bson_t        cmd, reply;
    bson_error_t  err;

    bson_init(&cmd);
    BSON_APPEND_UTF8(&cmd, "createIndexes", coll);
    BSON_APPEND_ARRAY(&cmd, "indexes", indexes);

    rc = 0;

    if (!mongoc_database_write_command_with_opts(ddt_pdb, &cmd, NULL, &reply,
                                                 &err))
    {
        /* 85, 86: an index of that name with other options (TTL changed) */
        if (err.domain == MONGOC_ERROR_SERVER
            && (err.code == 85 || err.code == 86))
        {
            ddt_plog(DDT_P_LOG_WARN, "mongodb: %s: index options differ "
                     "from the configuration, kept as they are: %s", coll,
                     err.message);

        } else {
            ddt_plog(DDT_P_LOG_ERR, "mongodb: createIndexes on %s: %s", coll,
                     err.message);
            rc = -1;
        }
    }

    bson_destroy(&cmd);
    bson_destroy(&reply);

    return rc;
}


/* indexes of turns and sessions; createIndexes is a no-op when they exist */

int
ddt_pmongo_indexes(void)
{
    int     rc;
    bson_t  idx, one, key;

    bson_init(&idx);

    BSON_APPEND_DOCUMENT_BEGIN(&idx, "0", &one);
    BSON_APPEND_DOCUMENT_BEGIN(&one, "key", &key);
    BSON_APPEND_INT32(&key, "sid", 1);
    BSON_APPEND_INT32(&key, "ver", 1);
    bson_append_document_end(&one, &key);
    BSON_APPEND_UTF8(&one, "name", "sid_ver");
    BSON_APPEND_BOOL(&one, "unique", true);
    bson_append_document_end(&idx, &one);

    if (ddt_pconf.turns_ttl_days > 0) {
        BSON_APPEND_DOCUMENT_BEGIN(&idx, "1", &one);
        BSON_APPEND_DOCUMENT_BEGIN(&one, "key", &key);
        BSON_APPEND_INT32(&key, "at", 1);
        bson_append_document_end(&one, &key);
        BSON_APPEND_UTF8(&one, "name", "at_ttl");
        BSON_APPEND_INT64(&one, "expireAfterSeconds",
                          (int64_t) ddt_pconf.turns_ttl_days * 86400);
        bson_append_document_end(&idx, &one);
    }

    rc = ddt_pmongo_create_indexes("turns", &idx);
    bson_destroy(&idx);

    if (rc != 0) {
        return rc;
    }

    bson_init(&idx);

    BSON_APPEND_DOCUMENT_BEGIN(&idx, "0", &one);
    BSON_APPEND_DOCUMENT_BEGIN(&one, "key", &key);
    BSON_APPEND_INT32(&key, "updatedAt", 1);
    bson_append_document_end(&one, &key);
    BSON_APPEND_UTF8(&one, "name", "updatedAt");
    bson_append_document_end(&idx, &one);

    if (ddt_pconf.sessions_ttl_days > 0) {
        BSON_APPEND_DOCUMENT_BEGIN(&idx, "1", &one);
        BSON_APPEND_DOCUMENT_BEGIN(&one, "key", &key);
        BSON_APPEND_INT32(&key, "endedAt", 1);
        bson_append_document_end(&one, &key);
        BSON_APPEND_UTF8(&one, "name", "endedAt_ttl");
        BSON_APPEND_INT64(&one, "expireAfterSeconds",
                          (int64_t) ddt_pconf.sessions_ttl_days * 86400);
        bson_append_document_end(&idx, &one);
    }

    rc = ddt_pmongo_create_indexes("sessions", &idx);
    bson_destroy(&idx);

    return rc;
}


/* a JSON value (the core's tree) as a BSON value named key */

static int
ddt_pbson_value(bson_t *d, const char *key, int klen, const ddt_json_t *v)
{
    int      ok;
    size_t   i;
    char     ik[24];
    bson_t   sub;
    double   n;

    switch (v->type) {

    case DDT_J_NULL:
        return bson_append_null(d, key, klen) ? 0 : -1;

    case DDT_J_BOOL:
        return bson_append_bool(d, key, klen, v->u.b != 0) ? 0 : -1;

    case DDT_J_NUM:
        n = v->u.n;
        if (ddt_json_is_int(v) && n > -9007199254740992.0
            && n < 9007199254740992.0)
        {
            return bson_append_int64(d, key, klen, (int64_t) n) ? 0 : -1;
        }
        return bson_append_double(d, key, klen, n) ? 0 : -1;

    case DDT_J_STR:
        return bson_append_utf8(d, key, klen, v->u.str.s,
                                (int) v->u.str.len) ? 0 : -1;

    case DDT_J_ARR:
        if (!bson_append_array_begin(d, key, klen, &sub)) {
            return -1;
        }

        ok = 0;
        for (i = 0; i < v->u.arr.len && ok == 0; i++) {
            snprintf(ik, sizeof(ik), "%zu", i);
            ok = ddt_pbson_value(&sub, ik, -1, v->u.arr.items[i]);
        }

        if (!bson_append_array_end(d, &sub)) {
            return -1;
        }
        return ok;

    case DDT_J_OBJ:
        if (!bson_append_document_begin(d, key, klen, &sub)) {
            return -1;
        }

        ok = 0;
        for (i = 0; i < v->u.obj.len && ok == 0; i++) {
            /* a BSON key is a C string: a key holding NUL cannot be one */
            if (memchr(v->u.obj.m[i].key, '\0', v->u.obj.m[i].klen)) {
                ok = -1;
                break;
            }
            ok = ddt_pbson_value(&sub, v->u.obj.m[i].key,
                                 (int) v->u.obj.m[i].klen, v->u.obj.m[i].val);
        }

        if (!bson_append_document_end(d, &sub)) {
            return -1;
        }
        return ok;
    }

    return -1;
}


static void
ddt_pbson_json(bson_t *d, const char *key, const ddt_json_t *v,
    const char *raw, size_t rawlen)
{
    bson_t  tmp;

    if (v == NULL) {
        BSON_APPEND_NULL(d, key);
        return;
    }

    bson_init(&tmp);

    if (ddt_pbson_value(&tmp, key, -1, v) == 0) {
        bson_concat(d, &tmp);

    } else {
        /* not representable as BSON: the JSON text, as it came */
        bson_append_utf8(d, key, -1, raw ? raw : "", raw ? (int) rawlen : 0);
    }

    bson_destroy(&tmp);
}


static int
ddt_pmongo_ended(const char *status)
{
    return status != NULL
           && (strcmp(status, "ended") == 0
               || strcmp(status, "transferred") == 0
               || strcmp(status, "error") == 0);
}


/*
 * The outcome of one bulk: 0 all written (duplicates are replays, fine),
 * 1 some operations failed on their own (entries marked failed), -1 the
 * whole batch must be written again (network, server, write concern).
 */

static int
ddt_pmongo_outcome(const char *coll, int ok, const bson_t *reply,
    const bson_error_t *err, ddt_entry_t **ops, int nops, int strict)
{
    int           rc, idx, code;
    int64_t       done;
    const char   *msg;
    bson_iter_t   it, arr, we;

    if (bson_iter_init_find(&it, reply, "writeConcernErrors")
        && BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &arr)
        && bson_iter_next(&arr))
    {
        ddt_plog(DDT_P_LOG_ERR, "mongodb: %s: write concern not satisfied: "
                 "%s", coll, err->message);
        return -1;
    }

    /*
     * Every operation must be accounted for: inserted, matched, upserted,
     * or a write error of its own.  A command that failed as a whole
     * (ok: 0, a dropped connection) leaves some unaccounted for, whatever
     * the rest of the reply says: then the batch is written again.
     */
    done = 0;

    if (bson_iter_init_find(&it, reply, "nInserted")) {
        done += bson_iter_as_int64(&it);
    }

    if (bson_iter_init_find(&it, reply, "nMatched")) {
        done += bson_iter_as_int64(&it);
    }

    if (bson_iter_init_find(&it, reply, "nUpserted")) {
        done += bson_iter_as_int64(&it);
    }

    if (bson_iter_init_find(&it, reply, "writeErrors")
        && BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &arr))
    {
        while (bson_iter_next(&arr)) {
            done++;
        }
    }

    /* updates without upsert that match nothing are fine: not strict */
    if (!strict && !ok && done == 0) {
        ddt_plog(DDT_P_LOG_ERR, "mongodb: %s: %s", coll, err->message);
        return -1;
    }

    if (strict && done < nops) {
        ddt_plog(DDT_P_LOG_ERR, "mongodb: %s: %s (%lld of %d operations "
                 "acknowledged)", coll, ok ? "incomplete reply" : err->message,
                 (long long) done, nops);
        return -1;
    }

    if (!(bson_iter_init_find(&it, reply, "writeErrors")
          && BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &arr)))
    {
        return 0;
    }

    rc = 0;

    while (bson_iter_next(&arr)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&arr) || !bson_iter_recurse(&arr, &we)) {
            continue;
        }

        idx = -1;
        code = 0;
        msg = "write error";

        while (bson_iter_next(&we)) {
            if (strcmp(bson_iter_key(&we), "index") == 0) {
                idx = bson_iter_as_int64(&we);

            } else if (strcmp(bson_iter_key(&we), "code") == 0) {
                code = bson_iter_as_int64(&we);

            } else if (strcmp(bson_iter_key(&we), "errmsg") == 0
                       && BSON_ITER_HOLDS_UTF8(&we))
            {
                msg = bson_iter_utf8(&we, NULL);
            }
        }

        if (code == 11000) {
            /* a replay (turns) or a newer ver already there (sessions) */
            ddt_pcount(entries_duplicate, 1);
            if (idx >= 0 && idx < nops) {
                ops[idx]->dup = 1;
            }
            continue;
        }

        if (idx < 0 || idx >= nops) {
            ddt_plog(DDT_P_LOG_ERR, "mongodb: %s: %s (code %d)", coll, msg,
                     code);
            return -1;
        }

        ops[idx]->failed = 1;
        snprintf(ops[idx]->error, sizeof(ops[idx]->error),
                 "mongodb %s: %s (code %d)", coll, msg, code);
        rc = 1;
    }

    return rc;
}


static mongoc_bulk_operation_t *
ddt_pmongo_bulk(mongoc_collection_t *c)
{
    bson_t                    opts;
    mongoc_bulk_operation_t  *bulk;

    bson_init(&opts);
    BSON_APPEND_BOOL(&opts, "ordered", false);
    mongoc_write_concern_append(ddt_pwc, &opts);

    bulk = mongoc_collection_create_bulk_operation_with_opts(c, &opts);
    bson_destroy(&opts);

    return bulk;
}


/*
 * The turns of a batch.  raw: again, only for the entries whose document
 * MongoDB refused on its own (a server older than 5.0 refuses field names
 * starting with '$' or holding '.'), with input and response as their JSON
 * text and `raw: true`; what fails then goes to the dead-letter stream.
 */

static void
ddt_pbson_text(bson_t *d, const char *key, const ddt_json_t *v)
{
    ddt_buf_t  buf;

    if (v == NULL) {
        BSON_APPEND_NULL(d, key);
        return;
    }

    ddt_buf_init(&buf);
    ddt_json_write(&buf, v);
    bson_append_utf8(d, key, -1, buf.data ? buf.data : "", (int) buf.len);
    ddt_buf_free(&buf);
}


static int
ddt_pmongo_turns(ddt_batch_t *b, ddt_entry_t **ops, int raw)
{
    int                       i, pass, n, ok, rc;
    char                      id[512];
    bson_t                    doc, reply, iopts;
    bson_error_t              err;
    ddt_entry_t              *e;
    mongoc_bulk_operation_t  *bulk;

    bulk = ddt_pmongo_bulk(ddt_pturns);

    bson_init(&iopts);
    BSON_APPEND_BOOL(&iopts, "validate", false);

    n = 0;

    /* critical entries first (SPEC 8): their waiters are on a clock */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < b->n; i++) {
            e = &b->entries[i];

            if (e->bad || e->deleted || e->critical != (pass == 0)
                || (raw && !e->failed))
            {
                continue;
            }

            e->failed = 0;

            snprintf(id, sizeof(id), "%s:%llu", e->sid,
                     (unsigned long long) e->ver);

            bson_init(&doc);
            BSON_APPEND_UTF8(&doc, "_id", id);
            BSON_APPEND_UTF8(&doc, "sid", e->sid);
            BSON_APPEND_INT64(&doc, "ver", (int64_t) e->ver);
            BSON_APPEND_DATE_TIME(&doc, "at", e->at);
            if (raw) {
                ddt_pbson_text(&doc, "input", e->input);
                ddt_pbson_text(&doc, "response", e->response);

            } else {
                ddt_pbson_json(&doc, "input", e->input, NULL, 0);
                ddt_pbson_json(&doc, "response", e->response, NULL, 0);
            }

            BSON_APPEND_BOOL(&doc, "critical", e->critical != 0);

            if (raw) {
                BSON_APPEND_BOOL(&doc, "raw", true);
            }

            if (!mongoc_bulk_operation_insert_with_opts(bulk, &doc, &iopts,
                                                        &err))
            {
                e->failed = 1;
                snprintf(e->error, sizeof(e->error), "turn document: %s",
                         err.message);
                bson_destroy(&doc);
                continue;
            }

            bson_destroy(&doc);
            ops[n++] = e;
        }
    }

    bson_destroy(&iopts);

    if (n == 0) {
        mongoc_bulk_operation_destroy(bulk);
        return 0;
    }

    ok = mongoc_bulk_operation_execute(bulk, &reply, &err) != 0;
    rc = ddt_pmongo_outcome("turns", ok, &reply, &err, ops, n, 1);

    bson_destroy(&reply);
    mongoc_bulk_operation_destroy(bulk);

    return rc;
}


/*
 * Sessions: a guarded update with upsert for the newest snapshot of each
 * session (each snapshot without coalescing).  upsert 0: again, without
 * upsert, for those whose upsert was a duplicate key: either a newer ver
 * is there (nothing matches, fine), or another persister inserted the
 * session between our update's miss and its insert (it now matches).
 */

static int
ddt_pmongo_sessions(ddt_batch_t *b, ddt_entry_t **ops, int upsert)
{
    int                       i, n, ok, rc;
    bson_t                    sel, guard, upd, set, reply, uopts;
    bson_error_t              err;
    ddt_entry_t              *e;
    mongoc_bulk_operation_t  *bulk;

    bulk = ddt_pmongo_bulk(ddt_psessions);

    bson_init(&uopts);
    BSON_APPEND_BOOL(&uopts, "upsert", upsert != 0);

    n = 0;

    for (i = 0; i < b->n; i++) {
        e = &b->entries[i];

        if (e->bad || (ddt_pconf.coalesce && !e->newest)
            || (!upsert && !e->dup))
        {
            continue;
        }

        bson_init(&sel);
        BSON_APPEND_UTF8(&sel, "_id", e->sid);
        BSON_APPEND_DOCUMENT_BEGIN(&sel, "ver", &guard);
        /* a deletion carries the ver it deleted: it may mark that one */
        if (e->deleted) {
            BSON_APPEND_INT64(&guard, "$lte", (int64_t) e->ver);

        } else {
            BSON_APPEND_INT64(&guard, "$lt", (int64_t) e->ver);
        }
        bson_append_document_end(&sel, &guard);

        bson_init(&upd);
        BSON_APPEND_DOCUMENT_BEGIN(&upd, "$set", &set);
        BSON_APPEND_INT64(&set, "ver", (int64_t) e->ver);
        BSON_APPEND_UTF8(&set, "project", e->project ? e->project : "");
        BSON_APPEND_UTF8(&set, "projectVersion",
                         e->project_version ? e->project_version : "");
        BSON_APPEND_UTF8(&set, "status", e->status ? e->status : "");
        bson_append_utf8(&set, "state", 5, e->state, (int) e->state_len);
        BSON_APPEND_DATE_TIME(&set, "updatedAt", e->at);

        if (e->deleted || ddt_pmongo_ended(e->status)) {
            BSON_APPEND_DATE_TIME(&set, "endedAt", e->at);
        }

        if (e->deleted) {
            BSON_APPEND_BOOL(&set, "deleted", true);
        }

        bson_append_document_end(&upd, &set);

        if (!mongoc_bulk_operation_update_one_with_opts(bulk, &sel, &upd,
                                                        &uopts, &err))
        {
            e->failed = 1;
            snprintf(e->error, sizeof(e->error), "session document: %s",
                     err.message);

        } else {
            ops[n++] = e;
        }

        bson_destroy(&sel);
        bson_destroy(&upd);
    }

    bson_destroy(&uopts);

    if (n == 0) {
        mongoc_bulk_operation_destroy(bulk);
        return 0;
    }

    ok = mongoc_bulk_operation_execute(bulk, &reply, &err) != 0;
    rc = ddt_pmongo_outcome("sessions", ok, &reply, &err, ops, n, upsert);

    bson_destroy(&reply);
    mongoc_bulk_operation_destroy(bulk);

    return rc;
}


/*
 * One batch: turns, then sessions (a sessions document never names a ver
 * whose turn is not written).  0 written (entries that failed on their
 * own are marked), -1 nothing may be acknowledged: write it all again.
 */

int
ddt_pmongo_write(ddt_batch_t *b)
{
    int            i, rc;
    ddt_entry_t  **ops;

    ops = malloc((b->n + 1) * sizeof(ddt_entry_t *));
    if (ops == NULL) {
        return -1;
    }

    for (i = 0; i < b->n; i++) {
        b->entries[i].failed = 0;
    }

    rc = ddt_pmongo_turns(b, ops, 0);

    if (rc == 1) {
        ddt_plog(DDT_P_LOG_WARN, "mongodb: some turns refused as documents, "
                 "writing them with input and response as JSON text");
        rc = ddt_pmongo_turns(b, ops, 1);
    }

    if (rc >= 0) {
        for (i = 0; i < b->n; i++) {
            b->entries[i].dup = 0;
        }

        rc = ddt_pmongo_sessions(b, ops, 1);
    }

    if (rc >= 0) {
        for (i = 0; i < b->n && !b->entries[i].dup; i++) {
            /* void */
        }

        if (i < b->n) {
            rc = ddt_pmongo_sessions(b, ops, 0);
        }
    }

    free(ops);

    if (rc < 0) {
        ddt_pcount(mongo_errors, 1);
        ddt_pset(mongo_up, 0);
        return -1;
    }

    ddt_pset(mongo_up, 1);

    return 0;
}


/* ping while idle: keeps mongo_up (and so the heartbeat) truthful */

int
ddt_pmongo_ping(void)
{
    int           ok;
    bson_t        cmd, reply;
    bson_error_t  err;

    bson_init(&cmd);
    BSON_APPEND_INT32(&cmd, "ping", 1);

    ok = mongoc_client_command_simple(ddt_pmc, "admin", &cmd, NULL, &reply,
                                      &err);
    if (!ok && __atomic_load_n(&ddt_pmetrics.mongo_up, __ATOMIC_RELAXED)) {
        ddt_plog(DDT_P_LOG_ERR, "mongodb: ping: %s", err.message);
    }

    bson_destroy(&cmd);
    bson_destroy(&reply);

    ddt_pset(mongo_up, ok ? 1 : 0);

    return ok ? 0 : -1;
}


/*
 * The sessions document of sid: 1 found, 0 none, -1 MongoDB failed.
 * status and state are malloc'd.
 */

int
ddt_pmongo_load(const char *sid, uint64_t *ver, char **status, char **state,
    size_t *state_len, int64_t *updated, int *deleted)
{
    int               rc;
    uint32_t          len;
    const char       *s;
    bson_t            filter, opts;
    bson_iter_t       it;
    bson_error_t      err;
    const bson_t     *doc;
    mongoc_cursor_t  *cur;

    bson_init(&filter);
    BSON_APPEND_UTF8(&filter, "_id", sid);
    bson_init(&opts);
    BSON_APPEND_INT64(&opts, "limit", 1);

    cur = mongoc_collection_find_with_opts(ddt_psessions, &filter, &opts,
                                           NULL);
    bson_destroy(&filter);
    bson_destroy(&opts);

    rc = 0;
    *status = *state = NULL;
    *ver = 0;
    *updated = 0;
    *deleted = 0;
    *state_len = 0;

    if (mongoc_cursor_next(cur, &doc)) {
        rc = 1;

        if (bson_iter_init(&it, doc)) {
            while (bson_iter_next(&it)) {
                const char *k = bson_iter_key(&it);

                if (strcmp(k, "ver") == 0) {
                    *ver = (uint64_t) bson_iter_as_int64(&it);

                } else if (strcmp(k, "status") == 0
                           && BSON_ITER_HOLDS_UTF8(&it))
                {
                    *status = strdup(bson_iter_utf8(&it, NULL));

                } else if (strcmp(k, "state") == 0
                           && BSON_ITER_HOLDS_UTF8(&it))
                {
                    s = bson_iter_utf8(&it, &len);
                    *state = malloc(len + 1);
                    if (*state) {
                        memcpy(*state, s, len + 1);
                        *state_len = len;
                    }

                } else if (strcmp(k, "updatedAt") == 0
                           && BSON_ITER_HOLDS_DATE_TIME(&it))
                {
                    *updated = bson_iter_date_time(&it);

                } else if (strcmp(k, "deleted") == 0) {
                    *deleted = bson_iter_as_bool(&it);
                }
            }
        }

        if (*state == NULL || *status == NULL) {
            free(*state);
            free(*status);
            *state = *status = NULL;
            rc = -1;
            ddt_plog(DDT_P_LOG_ERR, "mongodb: sessions \"%s\" has no state",
                     sid);
        }
    }

    if (mongoc_cursor_error(cur, &err)) {
        ddt_plog(DDT_P_LOG_ERR, "mongodb: find session \"%s\": %s", sid,
                 err.message);
        ddt_pcount(mongo_errors, 1);
        free(*state);
        free(*status);
        *state = *status = NULL;
        rc = -1;
    }

    mongoc_cursor_destroy(cur);

    return rc;
}
