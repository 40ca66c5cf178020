/*
 * test_transcripts.c: conversations with the demo projects (conf/projects)
 * through the ddtc binary, as a person would have them on the terminal.
 * Each .txt file under tests/transcripts holds:
 *   # project: PATH         the project (relative to core/)
 *   # args: ...             extra ddtc arguments (--now, --backend-stub, ...)
 *   > line                  what the caller says (or /noinput, /dtmf 1, ...)
 *   = line                  a line ddtc must print, in this order
 * The test feeds the `>` lines to `ddtc run` and checks that every `=`
 * line appears in the output in order.  DDTC names the binary (the Makefile
 * passes the sanitizer build).
 */
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
#include <ddt/ddt.h>
#include "t.h"

#define TDIR  "tests/transcripts"

static char *
slurp(FILE *f, size_t *len)
{
    char    *buf = NULL, *nb;
    size_t   cap = 0, n = 0, r;

    for ( ;; ) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }
        r = fread(buf + n, 1, 4096, f);
        n += r;
        if (r == 0) {
            break;
        }
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void
run_one(const char *ddtc, const char *name)
{
    char     path[512], script[] = "/tmp/ddt-transcript-XXXXXX";
    char     project[512] = "", args[1024] = "", cmd[2560];
    char     line[8192];
    FILE    *f, *sf, *out;
    int      fd, lineno = 0, expected = 0, rc;
    char    *output, *at, *nl;
    size_t   len;
    long     pos;

    snprintf(path, sizeof(path), TDIR "/%s", name);
    f = fopen(path, "r");
    if (f == NULL) {
        CHECK_MSG(0, "%s: cannot open", path);
        return;
    }

    fd = mkstemp(script);
    sf = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (sf == NULL) {
        CHECK_MSG(0, "mkstemp");
        fclose(f);
        return;
    }

    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "# project: ", 11) == 0) {
            snprintf(project, sizeof(project), "%.500s", line + 11);
            project[strcspn(project, "\n")] = '\0';
        } else if (strncmp(line, "# args: ", 8) == 0) {
            snprintf(args, sizeof(args), "%.1000s", line + 8);
            args[strcspn(args, "\n")] = '\0';
        } else if (strncmp(line, "> ", 2) == 0) {
            fputs(line + 2, sf);
        }
    }
    fclose(sf);

    snprintf(cmd, sizeof(cmd), "%s run %s --script %s %s 2>&1", ddtc,
             project, script, args);
    out = popen(cmd, "r");
    if (out == NULL) {
        CHECK_MSG(0, "popen %s", cmd);
        fclose(f);
        unlink(script);
        return;
    }
    output = slurp(out, &len);
    rc = pclose(out);
    unlink(script);
    CHECK_MSG(rc == 0, "%s: ddtc exited with %d", name, rc);
    if (output == NULL) {
        fclose(f);
        return;
    }

    /* every `=` line, in order, as a whole output line */
    rewind(f);
    at = output;
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (strncmp(line, "= ", 2) != 0) {
            continue;
        }
        expected++;
        line[strcspn(line, "\n")] = '\0';
        const char *want = line + 2;
        char *found = NULL;
        char *p = at;
        while (*p) {
            nl = strchr(p, '\n');
            size_t n = nl ? (size_t) (nl - p) : strlen(p);
            if (n == strlen(want) && strncmp(p, want, n) == 0) {
                found = p;
                break;
            }
            if (nl == NULL) {
                break;
            }
            p = nl + 1;
        }
        if (found == NULL) {
            pos = (long) (at - output);
            CHECK_MSG(0, "%s:%d: not in the output (after byte %ld): %s\n"
                      "--- output ---\n%s--------------", name, lineno, pos,
                      want, output);
            break;
        }
        t_pass++;
        nl = strchr(found, '\n');
        at = nl ? nl + 1 : found + strlen(found);
    }
    CHECK_MSG(expected > 0, "%s: no expectations", name);

    free(output);
    fclose(f);
}

/* ddtc check: `path: message` per problem, exit 1 on an error, 0 when the
 * project compiles (the demo projects must) */
static void
test_check(const char *ddtc)
{
    static const char *demos[] = {
        "../conf/projects/accettazione.json", "../conf/projects/clinic.json"
    };
    char    cmd[1024];
    FILE   *out;
    char   *text;
    size_t  len, i;
    int     rc;

    snprintf(cmd, sizeof(cmd), "%s check " TDIR "/broken-project.json 2>&1",
             ddtc);
    out = popen(cmd, "r");
    CHECK(out != NULL);
    if (out == NULL) {
        return;
    }
    text = slurp(out, &len);
    rc = pclose(out);
    CHECK_MSG(WIFEXITED(rc) && WEXITSTATUS(rc) == 1, "check exit %d", rc);
    CHECK_MSG(text && strstr(text, "\nflow.nodes[0].tasks[1].text: ") != NULL,
              "%s", text);
    CHECK_MSG(text && strncmp(text, "flow.nodes[0].tasks[0].ddt: ", 28) == 0,
              "%s", text);
    CHECK_MSG(text && strstr(text, "\nflow.edges[0].condition: ") != NULL,
              "%s", text);
    free(text);

    for (i = 0; i < sizeof(demos) / sizeof(demos[0]); i++) {
        snprintf(cmd, sizeof(cmd), "%s check %s 2>&1", ddtc, demos[i]);
        out = popen(cmd, "r");
        if (out == NULL) {
            CHECK(0);
            continue;
        }
        text = slurp(out, &len);
        rc = pclose(out);
        CHECK_MSG(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "%s: %s", demos[i],
                  text);
        free(text);
    }
}

int
main(void)
{
    const char      *ddtc;
    DIR             *d;
    struct dirent   *e;
    size_t           n;
    int              ran = 0;

    ddtc = getenv("DDTC");
    if (ddtc == NULL || ddtc[0] == '\0') {
        ddtc = "../build/core/ddtc-san";
    }

    d = opendir(TDIR);
    if (d == NULL) {
        CHECK_MSG(0, "cannot open " TDIR);
        return T_DONE();
    }
    while ((e = readdir(d)) != NULL) {
        n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".txt") == 0) {
            run_one(ddtc, e->d_name);
            ran++;
        }
    }
    closedir(d);
    CHECK(ran > 0);
    test_check(ddtc);
    return T_DONE();
}
