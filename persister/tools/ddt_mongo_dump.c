
/*
 * ddt_mongo_dump.c: a small libmongoc client for the persister's tests and
 * benchmark (no mongosh on these machines).  It reads what the persister
 * wrote, the same way against the test server and a real mongod:
 *
 *   ddt-mongo-dump URI DB find COLL [FILTER-JSON]   one document a line
 *                                                   (relaxed extended JSON,
 *                                                   sorted by _id)
 *   ddt-mongo-dump URI DB count COLL
 *   ddt-mongo-dump URI DB indexes COLL              one index a line
 *   ddt-mongo-dump URI DB drop                      drop the database
 *   ddt-mongo-dump URI DB ping
 *
 * Exit 0 on success, 1 when MongoDB failed, 2 on bad usage.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mongoc/mongoc.h>


static int
ddt_dump_cursor(mongoc_cursor_t *cur)
{
    char          *s;
    bson_error_t   err;
    const bson_t  *d;

    while (mongoc_cursor_next(cur, &d)) {
        s = bson_as_relaxed_extended_json(d, NULL);
        printf("%s\n", s);
        bson_free(s);
    }

    if (mongoc_cursor_error(cur, &err)) {
        fprintf(stderr, "ddt-mongo-dump: %s\n", err.message);
        return 1;
    }

    return 0;
}


int
main(int argc, char **argv)
{
    int                   rc;
    bson_t               *filter, opts, sort, cmd, reply;
    int64_t               n;
    bson_error_t          err;
    const bson_t         *doc;
    mongoc_client_t      *c;
    mongoc_cursor_t      *cur;
    mongoc_database_t    *db;
    mongoc_collection_t  *coll;

    if (argc < 4) {
        fprintf(stderr, "usage: ddt-mongo-dump URI DB find|count|indexes "
                "COLL [FILTER] | drop | ping\n");
        return 2;
    }

    mongoc_init();

    c = mongoc_client_new(argv[1]);
    if (c == NULL) {
        fprintf(stderr, "ddt-mongo-dump: bad uri %s\n", argv[1]);
        return 2;
    }

    mongoc_client_set_error_api(c, MONGOC_ERROR_API_VERSION_2);
    db = mongoc_client_get_database(c, argv[2]);
    rc = 0;

    if (strcmp(argv[3], "ping") == 0) {
        bson_init(&cmd);
        BSON_APPEND_INT32(&cmd, "ping", 1);
        if (!mongoc_database_command_simple(db, &cmd, NULL, &reply, &err)) {
            fprintf(stderr, "ddt-mongo-dump: %s\n", err.message);
            rc = 1;
        }
        bson_destroy(&cmd);
        bson_destroy(&reply);

    } else if (strcmp(argv[3], "drop") == 0) {
        if (!mongoc_database_drop(db, &err)) {
            fprintf(stderr, "ddt-mongo-dump: %s\n", err.message);
            rc = 1;
        }

    } else if (argc >= 5 && strcmp(argv[3], "find") == 0) {
        coll = mongoc_database_get_collection(db, argv[4]);

        if (argc >= 6) {
            filter = bson_new_from_json((const uint8_t *) argv[5], -1, &err);
            if (filter == NULL) {
                fprintf(stderr, "ddt-mongo-dump: filter: %s\n", err.message);
                return 2;
            }
        } else {
            filter = bson_new();
        }

        bson_init(&opts);
        BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
        BSON_APPEND_INT32(&sort, "_id", 1);
        bson_append_document_end(&opts, &sort);

        cur = mongoc_collection_find_with_opts(coll, filter, &opts, NULL);
        rc = ddt_dump_cursor(cur);
        mongoc_cursor_destroy(cur);
        bson_destroy(filter);
        bson_destroy(&opts);
        mongoc_collection_destroy(coll);

    } else if (argc >= 5 && strcmp(argv[3], "count") == 0) {
        coll = mongoc_database_get_collection(db, argv[4]);
        /* counted here: the test server has no aggregation */
        filter = bson_new();
        cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
        n = 0;
        while (mongoc_cursor_next(cur, &doc)) {
            n++;
        }
        if (mongoc_cursor_error(cur, &err)) {
            fprintf(stderr, "ddt-mongo-dump: %s\n", err.message);
            rc = 1;
        } else {
            printf("%lld\n", (long long) n);
        }
        mongoc_cursor_destroy(cur);
        bson_destroy(filter);
        mongoc_collection_destroy(coll);

    } else if (argc >= 5 && strcmp(argv[3], "indexes") == 0) {
        coll = mongoc_database_get_collection(db, argv[4]);
        cur = mongoc_collection_find_indexes_with_opts(coll, NULL);
        rc = ddt_dump_cursor(cur);
        mongoc_cursor_destroy(cur);
        mongoc_collection_destroy(coll);

    } else {
        fprintf(stderr, "ddt-mongo-dump: unknown command %s\n", argv[3]);
        rc = 2;
    }

    mongoc_database_destroy(db);
    mongoc_client_destroy(c);
    mongoc_cleanup();

    return rc;
}
