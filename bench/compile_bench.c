/*
 * compile_bench.c: compile-time benchmark of the project compiler.
 * Generates a project of N flow nodes (default 10 000) and D DDTs (default
 * 1 000), each DDT with a text node, a date node with validation and
 * confirmation, and a choice node; every flow node says a templated
 * message, runs a GetData or a SetVariable, and has two conditional edges
 * and a default one.  Times ddt_compile and ddt_project_load (best of R
 * runs) and reports the source and compiled sizes.
 *
 *   bench/compile_bench.sh [nodes] [ddts] [runs]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ddt/ddt.h>

static double
now_s(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time of this process: what the compile costs on a busy machine */
static double
cpu_s(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
gen(ddt_buf_t *b, int nodes, int ddts)
{
    int  i;

    ddt_buf_adds(b, "{\"format\":\"ddt-project/1\",\"name\":\"bench\","
                 "\"version\":\"1\",\"locale\":\"it-IT\",\"variables\":"
                 "{\"brand\":\"ACME\",\"tier\":null},\"flow\":{\"start\":\"n0\","
                 "\"nodes\":[");
    for (i = 0; i < nodes; i++) {
        int d = i % ddts;
        ddt_buf_printf(b, "%s{\"id\":\"n%d\",\"tasks\":[{\"type\":\"SayMessage\","
                       "\"text\":\"Passo %d di {brand}: {d%d.name}\"},",
                       i ? "," : "", i, i, d);
        if (i % 2 == 0) {
            ddt_buf_printf(b, "{\"type\":\"GetData\",\"ddt\":\"d%d\"}]}", d);
        } else {
            ddt_buf_printf(b, "{\"type\":\"SetVariable\",\"name\":\"v.s%d\","
                           "\"value\":\"d%d.born.year + %d\"}]}", i, d, i);
        }
    }
    ddt_buf_adds(b, "],\"edges\":[");
    for (i = 0; i < nodes; i++) {
        int d = i % ddts, to = (i + 1) % nodes, alt = (i * 7 + 3) % nodes;
        ddt_buf_printf(b, "%s{\"from\":\"n%d\",\"to\":\"n%d\",\"condition\":"
                       "\"d%d.$status == \\\"exhausted\\\"\"},"
                       "{\"from\":\"n%d\",\"to\":\"n%d\",\"condition\":"
                       "\"d%d.born.year <= 2008 && d%d.plan in [\\\"gold\\\", "
                       "\\\"silver\\\"]\"},{\"from\":\"n%d\",\"to\":\"n%d\"}",
                       i ? "," : "", i, alt, d, i, to, d, d, i, to);
    }
    ddt_buf_adds(b, "]},\"ddts\":{");
    for (i = 0; i < ddts; i++) {
        ddt_buf_printf(b, "%s\"d%d\":{\"mixedInitiative\":true,\"data\":["
            "{\"id\":\"name\",\"label\":\"nome\",\"steps\":{\"start\":"
            "[\"Come si chiama? (%d)\"],\"noMatch\":[\"Non ho capito.\","
            "\"Mi dica il nome.\"]}},"
            "{\"id\":\"born\",\"kind\":\"date\",\"confirm\":\"always\","
            "\"validate\":[{\"condition\":\"value <= today()\",\"step\":"
            "\"invalid\"}],\"steps\":{\"start\":[\"Data di nascita?\"],"
            "\"confirmation\":[\"Ho capito {d%d.born}. Giusto?\"],"
            "\"invalid\":[\"Non nel futuro.\"]}},"
            "{\"id\":\"plan\",\"kind\":\"choice\",\"choices\":["
            "{\"value\":\"gold\",\"synonyms\":[\"oro\"]},{\"value\":\"silver\","
            "\"synonyms\":[\"argento\"]}],\"extract\":[{\"type\":\"regex\","
            "\"pattern\":\"piano (?<value>\\\\w+)\"},{\"type\":\"parser\"}],"
            "\"steps\":{\"start\":[\"Quale piano?\"]}}]}",
            i ? "," : "", i, i, i);
    }
    ddt_buf_adds(b, "}}");
}

int
main(int argc, char **argv)
{
    int              nodes, ddts, runs, r;
    ddt_buf_t        src;
    ddt_diags_t      d;
    uint8_t         *block;
    size_t           len, i;
    double           t0, c0, tc, cc, tl, best_c, best_cpu, best_l;
    ddt_project_t   *p;
    char             err[128];

    nodes = argc > 1 ? atoi(argv[1]) : 10000;
    ddts = argc > 2 ? atoi(argv[2]) : 1000;
    runs = argc > 3 ? atoi(argv[3]) : 5;
    if (nodes < 1 || ddts < 1 || runs < 1) {
        fprintf(stderr, "usage: compile_bench [nodes] [ddts] [runs]\n");
        return 2;
    }
    ddt_buf_init(&src);
    gen(&src, nodes, ddts);
    best_c = best_cpu = best_l = 1e9;
    len = 0;
    for (r = 0; r < runs; r++) {
        ddt_diags_init(&d);
        t0 = now_s();
        c0 = cpu_s();
        if (ddt_compile(src.data, src.len, &d, &block, &len) != DDT_OK) {
            for (i = 0; i < d.n && i < 10; i++) {
                fprintf(stderr, "%s: %s\n", d.items[i].path,
                        d.items[i].message);
            }
            return 1;
        }
        tc = now_s() - t0;
        cc = cpu_s() - c0;
        t0 = now_s();
        if (ddt_project_load(block, len, &p, err, sizeof(err)) != DDT_OK) {
            fprintf(stderr, "load: %s\n", err);
            return 1;
        }
        tl = now_s() - t0;
        if (r == runs - 1) {
            printf("nodes %d, ddts %d, items %u, edges %u, exprs %u, "
                   "templates %u, regexes %u, warnings %zu\n", nodes, ddts,
                   p->n_items, p->n_edges, p->n_exprs, p->n_tmpls,
                   p->n_regexes, d.warnings);
        }
        ddt_project_free(p);
        free(block);
        ddt_diags_free(&d);
        if (tc < best_c) best_c = tc;
        if (cc < best_cpu) best_cpu = cc;
        if (tl < best_l) best_l = tl;
    }
    printf("source %.2f MiB, compiled %.2f MiB (%zu bytes)\n",
           src.len / 1048576.0, len / 1048576.0, len);
    printf("compile %.3f s wall, %.3f s CPU; load (validate, PCRE2 with "
           "JIT) %.3f s wall (best of %d)\n", best_c, best_cpu, best_l, runs);
    ddt_buf_free(&src);
    return best_cpu < 1.0 ? 0 : 1;
}
