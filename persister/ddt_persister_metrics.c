
/*
 * ddt_persister_metrics.c: the Prometheus endpoint of ddt-persister,
 * `GET /metrics` in the text format, on a loopback address only.
 *
 * Hand-written rather than libmicrohttpd: one path, one GET, a handful of
 * counters, served by one thread that reads relaxed atomics.  The whole
 * server is shorter than the glue libmicrohttpd would need, and the
 * daemon keeps its dependencies to hiredis and libmongoc.  Requests are
 * read with a 1 s timeout and answered one at a time; a slow scraper
 * cannot touch the persister's loop.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "ddt_persister.h"


static int  ddt_pmetrics_fd = -1;

static const char  *ddt_pmetrics_le[] = {
    "1", "5", "10", "25", "50", "100", "500", "+Inf"
};


#define DDT_LOAD(f)  __atomic_load_n(&ddt_pmetrics.f, __ATOMIC_RELAXED)


static void
ddt_pmetrics_counter(ddt_buf_t *b, const char *name, const char *help,
    uint64_t v)
{
    ddt_buf_printf(b, "# HELP ddt_persister_%s %s\n"
                   "# TYPE ddt_persister_%s counter\n"
                   "ddt_persister_%s %llu\n", name, help, name, name,
                   (unsigned long long) v);
}


static void
ddt_pmetrics_gauge(ddt_buf_t *b, const char *name, const char *help,
    int64_t v)
{
    ddt_buf_printf(b, "# HELP ddt_persister_%s %s\n"
                   "# TYPE ddt_persister_%s gauge\n"
                   "ddt_persister_%s %lld\n", name, help, name, name,
                   (long long) v);
}


static void
ddt_pmetrics_render(ddt_buf_t *b)
{
    int       i;
    uint64_t  cum, total;

    ddt_pmetrics_counter(b, "entries_read_total",
                         "Stream entries read (new, pending or claimed).",
                         DDT_LOAD(entries_read));
    ddt_pmetrics_counter(b, "entries_written_total",
                         "Entries acknowledged after MongoDB acknowledged "
                         "them.", DDT_LOAD(entries_written));
    ddt_pmetrics_counter(b, "entries_coalesced_total",
                         "Snapshots whose session write was folded into a "
                         "newer one of the same batch.",
                         DDT_LOAD(entries_coalesced));
    ddt_pmetrics_counter(b, "entries_duplicate_total",
                         "Writes MongoDB already had (replays, older vers).",
                         DDT_LOAD(entries_duplicate));
    ddt_pmetrics_counter(b, "entries_deadletter_total",
                         "Entries moved to the dead-letter stream.",
                         DDT_LOAD(entries_deadletter));
    ddt_pmetrics_counter(b, "entries_claimed_total",
                         "Entries claimed from idle consumers.",
                         DDT_LOAD(entries_claimed));
    ddt_pmetrics_counter(b, "batches_total", "Batches written.",
                         DDT_LOAD(batches));
    ddt_pmetrics_counter(b, "mongo_errors_total",
                         "Failed MongoDB writes and reads.",
                         DDT_LOAD(mongo_errors));
    ddt_pmetrics_counter(b, "redis_errors_total", "Failed Redis commands.",
                         DDT_LOAD(redis_errors));

    ddt_buf_printf(b, "# HELP ddt_persister_restores_total Restore requests "
                   "answered, by outcome.\n"
                   "# TYPE ddt_persister_restores_total counter\n");
    ddt_buf_printf(b, "ddt_persister_restores_total{result=\"found\"} %llu\n",
                   (unsigned long long) DDT_LOAD(restores_found));
    ddt_buf_printf(b, "ddt_persister_restores_total{result=\"missing\"} "
                   "%llu\n", (unsigned long long) DDT_LOAD(restores_missing));
    ddt_buf_printf(b, "ddt_persister_restores_total{result=\"expired\"} "
                   "%llu\n", (unsigned long long) DDT_LOAD(restores_expired));
    ddt_buf_printf(b, "ddt_persister_restores_total{result=\"failed\"} %llu\n",
                   (unsigned long long) DDT_LOAD(restores_failed));

    ddt_buf_printf(b, "# HELP ddt_persister_restore_seconds From the restore "
                   "request to its reply.\n"
                   "# TYPE ddt_persister_restore_seconds histogram\n");
    cum = 0;
    for (i = 0; i < 8; i++) {
        cum += DDT_LOAD(restore_ms_bucket[i]);
        if (i < 7) {
            ddt_buf_printf(b, "ddt_persister_restore_seconds_bucket"
                           "{le=\"%g\"} %llu\n",
                           atof(ddt_pmetrics_le[i]) / 1000.0,
                           (unsigned long long) cum);
        } else {
            ddt_buf_printf(b, "ddt_persister_restore_seconds_bucket"
                           "{le=\"+Inf\"} %llu\n", (unsigned long long) cum);
        }
    }
    total = cum;
    ddt_buf_printf(b, "ddt_persister_restore_seconds_sum %.3f\n"
                   "ddt_persister_restore_seconds_count %llu\n",
                   DDT_LOAD(restore_ms_sum) / 1000.0,
                   (unsigned long long) total);

    ddt_pmetrics_gauge(b, "pending",
                       "Entries read by the group, not yet acknowledged.",
                       DDT_LOAD(pending));
    ddt_pmetrics_gauge(b, "lag", "Entries not yet read by the group.",
                       DDT_LOAD(lag));
    ddt_pmetrics_gauge(b, "last_write_timestamp_ms",
                       "When MongoDB last acknowledged a batch (ms).",
                       DDT_LOAD(last_write_ms));
    ddt_pmetrics_gauge(b, "mongo_up", "1 when the last MongoDB write "
                       "succeeded.", DDT_LOAD(mongo_up));
    ddt_pmetrics_gauge(b, "redis_up", "1 while connected to Redis.",
                       DDT_LOAD(redis_up));
}


static void
ddt_pmetrics_serve(int c)
{
    char            req[2048];
    size_t          n;
    ssize_t         r;
    ddt_buf_t       body, out;
    struct timeval  tv;

    tv.tv_sec = 1;
    tv.tv_usec = 0;
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

    n = 0;

    while (n < sizeof(req) - 1) {
        r = read(c, req + n, sizeof(req) - 1 - n);
        if (r <= 0) {
            return;
        }
        n += r;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n")) {
            break;
        }
    }

    ddt_buf_init(&body);
    ddt_buf_init(&out);

    if (strncmp(req, "GET /metrics ", 13) == 0
        || strncmp(req, "GET /metrics?", 13) == 0)
    {
        ddt_pmetrics_render(&body);
        ddt_buf_printf(&out, "HTTP/1.0 200 OK\r\n"
                       "Content-Type: text/plain; version=0.0.4\r\n"
                       "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                       body.len);
        ddt_buf_add(&out, body.data, body.len);

    } else {
        ddt_buf_adds(&out, "HTTP/1.0 404 Not Found\r\nContent-Length: 10\r\n"
                     "Connection: close\r\n\r\nnot found\n");
    }

    n = 0;
    while (n < out.len) {
        r = write(c, out.data + n, out.len - n);
        if (r <= 0) {
            break;
        }
        n += r;
    }

    ddt_buf_free(&body);
    ddt_buf_free(&out);
}


static void *
ddt_pmetrics_thread(void *arg)
{
    int  c;

    for ( ;; ) {
        c = accept(ddt_pmetrics_fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            usleep(100000);
            continue;
        }

        ddt_pmetrics_serve(c);
        close(c);
    }

    return NULL;
}


int
ddt_pmetrics_start(const char *listen_on)
{
    int                 one, port;
    char                host[64], *colon;
    pthread_t           t;
    sigset_t            all, old;
    struct sockaddr_in  sin;

    if (listen_on == NULL || listen_on[0] == '\0') {
        return 0;
    }

    snprintf(host, sizeof(host), "%s", listen_on);
    colon = strrchr(host, ':');
    if (colon == NULL) {
        ddt_plog(DDT_P_LOG_ERR, "metrics: \"%s\" is not host:port",
                 listen_on);
        return -1;
    }
    *colon = '\0';
    port = atoi(colon + 1);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);

    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1
        || (ntohl(sin.sin_addr.s_addr) >> 24) != 127 || port <= 0
        || port > 65535)
    {
        ddt_plog(DDT_P_LOG_ERR, "metrics: \"%s\" is not a loopback "
                 "address:port (127.0.0.0/8)", listen_on);
        return -1;
    }

    ddt_pmetrics_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ddt_pmetrics_fd < 0) {
        return -1;
    }

    one = 1;
    setsockopt(ddt_pmetrics_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    if (bind(ddt_pmetrics_fd, (struct sockaddr *) &sin, sizeof(sin)) != 0
        || listen(ddt_pmetrics_fd, 16) != 0)
    {
        ddt_plog(DDT_P_LOG_ERR, "metrics: cannot listen on %s: %s",
                 listen_on, strerror(errno));
        close(ddt_pmetrics_fd);
        ddt_pmetrics_fd = -1;
        return -1;
    }

    /* signals are the main thread's business */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);

    if (pthread_create(&t, NULL, ddt_pmetrics_thread, NULL) != 0) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return -1;
    }

    pthread_detach(t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    ddt_plog(DDT_P_LOG_INFO, "metrics on http://%s/metrics", listen_on);

    return 0;
}
