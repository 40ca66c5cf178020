/*
 * orch_bench.c: orchestrator throughput on one core, in process (no HTTP,
 * no store).  The project is one node (SayMessage, then a GetData) that
 * loops on itself; no turn extracts anything.  Three figures:
 *   create      ddt_session_create: the SayMessage and the GetData's first
 *               prompt (what POST /v1/sessions runs), then free
 *   turn        a noInput turn on a session kept in memory (reprompt);
 *               the session is reloaded from a snapshot every 500 turns
 *               so the noInput counter never exhausts it
 *   host        what the nginx module does per request: parse the body,
 *               load the state, run the turn, save the state, free
 * Build and run: make -C core bench [BENCH_SECONDS=1] [BENCH_ONLY=turn]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ddt/ddt.h>

static const char *project =
"{\"format\":\"ddt-project/1\",\"name\":\"bench\",\"version\":\"1\","
" \"locale\":\"it-IT\",\"variables\":{\"brand\":\"ACME\"},"
" \"flow\":{\"start\":\"ask\",\"nodes\":["
"  {\"id\":\"ask\",\"tasks\":["
"    {\"type\":\"SayMessage\",\"text\":\"Benvenuto in {brand}.\"},"
"    {\"type\":\"GetData\",\"ddt\":\"q\"}]}],"
"  \"edges\":[{\"from\":\"ask\",\"to\":\"ask\"}]},"
" \"ddts\":{\"q\":{\"data\":[{\"id\":\"reason\",\"kind\":\"text\","
"   \"steps\":{\"start\":[\"Come posso aiutarla?\"],"
"              \"noInput\":[\"Non la sento. Come posso aiutarla?\"]},"
"   \"limits\":{\"noInput\":1000}}]}}}";

static double
now_s(void)
{
    struct timespec  ts;

    /* CPU time of this thread: turns per second of one busy core, not
     * disturbed by other processes sharing the machine */
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    ddt_diags_t          d;
    uint8_t             *block;
    size_t               blen, i;
    ddt_project_t       *p;
    char                 err[256];
    ddt_session_opts_t   o;
    ddt_session_t       *s;
    ddt_turn_result_t    r;
    ddt_err_t            e;
    ddt_input_t          in;
    ddt_arena_t          a;
    ddt_buf_t            snap, st;
    double               t0, t1, secs;
    size_t               n;
    const char          *body = "{\"event\":\"noInput\"}";
    const char          *only;

    secs = argc > 1 ? atof(argv[1]) : 1.0;
    only = argc > 2 ? argv[2] : "";

    ddt_diags_init(&d);
    if (ddt_compile(project, strlen(project), &d, &block, &blen) != DDT_OK) {
        for (i = 0; i < d.n; i++) {
            fprintf(stderr, "%s: %s\n", d.items[i].path, d.items[i].message);
        }
        return 1;
    }
    ddt_diags_free(&d);
    if (ddt_project_load(block, blen, &p, err, sizeof(err)) != DDT_OK) {
        fprintf(stderr, "load: %s\n", err);
        return 1;
    }

    memset(&o, 0, sizeof(o));
    o.session_id = "bench-session-000001";
    o.now_ms = 1795000000000LL;
    ddt_turn_result_init(&r);
    ddt_arena_init(&a, 4096);
    ddt_buf_init(&snap);
    ddt_buf_init(&st);

    /* 1. create */
    if (*only && strcmp(only, "create") != 0) {
        goto turns;
    }
    n = 0;
    t0 = now_s();
    do {
        for (i = 0; i < 1000; i++) {
            if (ddt_session_create(p, &o, &s, &r, &e) != DDT_OK) {
                fprintf(stderr, "create: %s\n", e.message);
                return 1;
            }
            ddt_session_free(s);
        }
        n += 1000;
        t1 = now_s();
    } while (t1 - t0 < secs);
    printf("create  %10.0f sessions/s  (SayMessage + GetData start prompt)\n",
           n / (t1 - t0));
    printf("        response: %s\n", r.response.data);

turns:
    /* 2. in-memory turns */
    ddt_session_create(p, &o, &s, &r, &e);
    ddt_session_save(s, &snap);
    ddt_session_free(s);
    if (ddt_input_parse(&a, body, strlen(body), &in, &e) != DDT_OK) {
        return 1;
    }
    n = 0;
    t0 = now_s();
    do {
        if (ddt_session_load(snap.data, snap.len, &s, &e) != DDT_OK) {
            fprintf(stderr, "load: %s\n", e.message);
            return 1;
        }
        for (i = 0; i < 500; i++) {
            if (ddt_turn(p, s, &in, o.now_ms, &r, &e) != DDT_OK
                || r.status != DDT_STATUS_WAITING)
            {
                fprintf(stderr, "turn: %s %s\n", e.message, r.response.data);
                return 1;
            }
        }
        ddt_session_free(s);
        n += 500;
        t1 = now_s();
    } while (t1 - t0 < secs);
    printf("turn    %10.0f turns/s     (noInput reprompt, in memory)\n",
           n / (t1 - t0));
    printf("        response: %s\n", r.response.data);

    if (*only && strcmp(only, "host") != 0) {
        goto done;
    }
    /* 3. host cycle: parse body, load, turn, save */
    ddt_buf_reset(&st);
    ddt_buf_add(&st, snap.data, snap.len);
    n = 0;
    t0 = now_s();
    do {
        for (i = 0; i < 1000; i++) {
            ddt_arena_reset(&a);
            if (ddt_input_parse(&a, body, strlen(body), &in, &e) != DDT_OK
                || ddt_session_load(st.data, st.len, &s, &e) != DDT_OK
                || ddt_turn(p, s, &in, o.now_ms, &r, &e) != DDT_OK)
            {
                fprintf(stderr, "host: %s\n", e.message);
                return 1;
            }
            ddt_buf_reset(&st);
            ddt_session_save(s, &st);
            ddt_session_free(s);
            if (i % 500 == 499) {       /* keep clear of the noInput limit */
                ddt_buf_reset(&st);
                ddt_buf_add(&st, snap.data, snap.len);
            }
        }
        n += 1000;
        t1 = now_s();
    } while (t1 - t0 < secs);
    printf("host    %10.0f turns/s     (parse + load + turn + save, "
           "state %zu bytes)\n", n / (t1 - t0), snap.len);

done:
    ddt_buf_free(&snap);
    ddt_buf_free(&st);
    ddt_arena_free(&a);
    ddt_turn_result_free(&r);
    ddt_project_free(p);
    free(block);
    return 0;
}
