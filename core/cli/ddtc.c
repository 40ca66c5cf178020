/*
 * ddtc: the project compiler and a terminal client for the core.
 *
 *   ddtc check FILE                      errors and warnings, `path: message`
 *   ddtc compile FILE -o OUT             write the compiled block
 *   ddtc chat FILE [options]             a conversation on the terminal
 *   ddtc run FILE --script SCRIPT [opts] the same, reading a script, echoing
 *                                        each input (for transcript tests)
 *
 * Options of chat/run: --locale xx-XX, --now ISO8601 (pins the clock),
 * --backend-stub FILE (answers for BackendCall effects), --var name=json
 * (session variables), --raw (also print each response as JSON, `<< {...}`).
 * Every turn goes through ddt_input_parse, then
 * load -> turn -> save of the session state, as the nginx module does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ddt/ddt.h>

typedef struct {
    const char        *file;
    const char        *out;
    const char        *script;
    const char        *locale;
    const char        *stub_file;
    const char        *now;
    int64_t            now_ms;
    int                echo;
    ddt_arena_t        arena;
    ddt_json_t        *stub;
    ddt_json_t        *vars;
} ddtc_opts_t;

static int
ddtc_read_file(const char *path, char **out, size_t *len)
{
    FILE    *f;
    char    *buf;
    size_t   cap, n;

    f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "ddtc: %s: %s\n", path, strerror(errno));
        return -1;
    }

    cap = 64 * 1024;
    n = 0;
    buf = malloc(cap + 1);
    while (buf != NULL) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap) {
            break;
        }
        cap *= 2;
        char *nb = realloc(buf, cap + 1);
        if (nb == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
    }
    if (f != stdin) {
        fclose(f);
    }
    if (buf == NULL) {
        fprintf(stderr, "ddtc: %s: out of memory\n", path);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

static void
ddtc_print_diags(const ddt_diags_t *d)
{
    size_t  i;

    for (i = 0; i < d->n; i++) {
        printf("%s: %s%s\n", d->items[i].path ? d->items[i].path : "",
               d->items[i].warning ? "warning: " : "",
               d->items[i].message ? d->items[i].message : "");
    }
}

/* Compile FILE (a project, or an already compiled block) and load it. */
static int
ddtc_project(const char *file, uint8_t **block, size_t *block_len,
    ddt_project_t **p)
{
    char         *src, err[256];
    size_t        len;
    ddt_diags_t   d;

    if (ddtc_read_file(file, &src, &len) != 0) {
        return -1;
    }

    if (len >= 4 && memcmp(src, "DDTB", 4) == 0) {
        *block = (uint8_t *) src;
        *block_len = len;
    } else {
        ddt_diags_init(&d);
        if (ddt_compile(src, len, &d, block, block_len) != DDT_OK) {
            fprintf(stderr, "ddtc: %s does not compile:\n", file);
            fflush(stderr);
            ddtc_print_diags(&d);
            ddt_diags_free(&d);
            free(src);
            return -1;
        }
        ddt_diags_free(&d);
        free(src);
    }

    if (ddt_project_load(*block, *block_len, p, err, sizeof(err)) != DDT_OK) {
        fprintf(stderr, "ddtc: %s: %s\n", file, err);
        free(*block);
        return -1;
    }
    return 0;
}

static int
ddtc_check(ddtc_opts_t *o)
{
    char         *src;
    size_t        len, blen;
    uint8_t      *block = NULL;
    ddt_diags_t   d;
    int           rc;

    if (ddtc_read_file(o->file, &src, &len) != 0) {
        return 2;
    }

    ddt_diags_init(&d);
    rc = ddt_compile(src, len, &d, &block, &blen);
    ddtc_print_diags(&d);

    if (rc == DDT_OK && o->out != NULL) {
        FILE *f = fopen(o->out, "wb");
        if (f == NULL || fwrite(block, 1, blen, f) != blen) {
            fprintf(stderr, "ddtc: %s: %s\n", o->out, strerror(errno));
            rc = DDT_ERROR;
        }
        if (f != NULL && fclose(f) != 0) {
            rc = DDT_ERROR;
        }
    }

    if (rc == DDT_OK && o->out == NULL) {
        printf("%s: ok, %zu warning%s\n", o->file, d.warnings,
               d.warnings == 1 ? "" : "s");
    }

    free(block);
    free(src);
    ddt_diags_free(&d);
    return rc == DDT_OK ? 0 : 1;
}

/* ---- chat ------------------------------------------------------------- */

static int64_t
ddtc_parse_now(const char *s)
{
    struct tm  tm;
    int        y, mo, d, h = 0, mi = 0, sec = 0;

    if (sscanf(s, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec) < 3) {
        return -1;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    return (int64_t) timegm(&tm) * 1000;
}

static int64_t
ddtc_now(const ddtc_opts_t *o)
{
    struct timespec  ts;

    if (o->now_ms >= 0) {
        return o->now_ms;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
ddtc_s(const ddt_json_t *o, const char *key)
{
    const ddt_json_t *v = ddt_json_getz(o, key);

    return v != NULL && v->type == DDT_J_STR ? v->u.str.s : NULL;
}

static int  ddtc_raw;

/* Print a turn response: messages with their tags, actions, status. */
static void
ddtc_print_response(const char *json, size_t len)
{
    size_t             i;
    ddt_arena_t        a;
    ddt_json_t        *r, *msgs, *acts, *m, *v, *err;
    ddt_jerr_t         jerr;
    const char        *status;
    ddt_buf_t          b;

    ddt_arena_init(&a, 8192);
    r = ddt_json_parse(&a, json, len, NULL, &jerr);
    if (r == NULL) {
        printf("?? unreadable response: %.*s\n", (int) len, json);
        ddt_arena_free(&a);
        return;
    }

    msgs = ddt_json_getz(r, "messages");
    for (i = 0; msgs != NULL && msgs->type == DDT_J_ARR
                && i < msgs->u.arr.len; i++)
    {
        m = msgs->u.arr.items[i];
        if (ddtc_s(m, "step") != NULL) {
            const char *sub = ddtc_s(m, "sub");
            v = ddt_json_getz(m, "escalation");
            printf("[%s.%s%s%s %s#%d] %s\n", ddtc_s(m, "ddt"),
                   ddtc_s(m, "data"), sub ? "." : "", sub ? sub : "",
                   ddtc_s(m, "step"),
                   v && v->type == DDT_J_NUM ? (int) v->u.n : 0,
                   ddtc_s(m, "text"));
        } else {
            printf("[%s] %s\n", ddtc_s(m, "node") ? ddtc_s(m, "node") : "",
                   ddtc_s(m, "text") ? ddtc_s(m, "text") : "");
        }
    }

    ddt_buf_init(&b);
    acts = ddt_json_getz(r, "actions");
    for (i = 0; acts != NULL && acts->type == DDT_J_ARR
                && i < acts->u.arr.len; i++)
    {
        ddt_buf_reset(&b);
        ddt_json_write(&b, acts->u.arr.items[i]);
        printf("-- action %s\n", b.data);
    }

    status = ddtc_s(r, "status");
    if (status != NULL && strcmp(status, "waiting") != 0) {
        err = ddt_json_getz(r, "error");
        if (err != NULL) {
            printf("-- %s: %s: %s\n", status, ddtc_s(err, "code"),
                   ddtc_s(err, "message"));
        } else {
            printf("-- %s\n", status);
        }
    }

    if (ddtc_raw) {
        printf("<< %.*s\n", (int) len, json);
    }

    ddt_buf_free(&b);
    ddt_arena_free(&a);
}

/* Answer an effect: the stub file for BackendCall, else connect errors. */
static void
ddtc_effect(ddtc_opts_t *o, const ddt_effect_t *e, ddt_effect_result_t *er,
    ddt_buf_t *body)
{
    char               key[1024];
    const ddt_json_t  *ans, *v;

    memset(er, 0, sizeof(*er));
    er->status = 0;
    er->error = "connect";

    if (e->purpose != DDT_EFFECT_FOR_BACKEND || o->stub == NULL) {
        return;
    }

    snprintf(key, sizeof(key), "%s %s", e->method, e->url);
    ans = ddt_json_getz(o->stub, key);
    if (ans == NULL) {
        ans = ddt_json_getz(o->stub, e->url);
    }
    if (ans == NULL || ans->type != DDT_J_OBJ) {
        return;
    }

    v = ddt_json_getz(ans, "status");
    er->status = v && v->type == DDT_J_NUM ? (int) v->u.n : 200;
    v = ddt_json_getz(ans, "error");
    er->error = v && v->type == DDT_J_STR ? v->u.str.s : NULL;
    v = ddt_json_getz(ans, "body");
    ddt_buf_reset(body);
    if (v != NULL) {
        ddt_json_write(body, v);
        er->body = body->data;
        er->body_len = body->len;
    }
}

/* Run a turn (or creation) to its end, answering effects. */
static int
ddtc_drive(ddtc_opts_t *o, const ddt_project_t *p, ddt_session_t *s,
    ddt_turn_result_t *res, ddt_err_t *err)
{
    ddt_effect_result_t  er;
    ddt_buf_t            body;
    int                  rc = DDT_OK;

    ddt_buf_init(&body);
    while (rc == DDT_OK && res->need_effect) {
        printf("-- effect %s %s%s%s\n", res->effect.method, res->effect.url,
               res->effect.body ? " " : "",
               res->effect.body ? res->effect.body : "");
        ddtc_effect(o, &res->effect, &er, &body);
        rc = ddt_turn_resume(p, s, &er, res, err);
    }
    ddt_buf_free(&body);
    return rc;
}

static void
ddtc_state(ddt_session_t *s)
{
    ddt_buf_t    b;
    ddt_arena_t  a;
    ddt_json_t  *j;
    ddt_jerr_t   jerr;

    ddt_buf_init(&b);
    ddt_session_describe(s, &b);
    printf("%s\n", b.data);
    ddt_buf_reset(&b);
    ddt_session_save(s, &b);
    ddt_arena_init(&a, 8192);
    j = ddt_json_parse(&a, b.data, b.len, NULL, &jerr);
    if (j != NULL) {
        ddt_buf_t e;
        ddt_buf_init(&e);
        ddt_json_write(&e, ddt_json_getz(j, "engine"));
        printf("engine: %s\n", e.data);
        ddt_buf_free(&e);
    }
    ddt_arena_free(&a);
    ddt_buf_free(&b);
}

/* A line of the user into a turn body; 0 = not a turn (command done). */
static int
ddtc_body(const char *line, ddt_buf_t *b, int *quit)
{
    ddt_buf_reset(b);
    if (strcmp(line, "/quit") == 0 || strcmp(line, "/exit") == 0) {
        *quit = 1;
        return 0;
    }
    if (strcmp(line, "/noinput") == 0) {
        ddt_buf_adds(b, "{\"event\":\"noInput\"}");
    } else if (strcmp(line, "/nomatch") == 0) {
        ddt_buf_adds(b, "{\"event\":\"noMatch\"}");
    } else if (strncmp(line, "/dtmf ", 6) == 0) {
        ddt_buf_adds(b, "{\"dtmf\":");
        ddt_json_write_str(b, line + 6, strlen(line + 6));
        ddt_buf_addc(b, '}');
    } else if (strncmp(line, "/values ", 8) == 0) {
        ddt_buf_printf(b, "{\"values\":%s}", line + 8);
    } else if (strncmp(line, "/json ", 6) == 0) {
        ddt_buf_adds(b, line + 6);
    } else if (line[0] == '/' && strcmp(line, "/state") != 0) {
        printf("?? commands: /noinput /nomatch /dtmf N /values {json} "
               "/json {body} /state /quit\n");
        return 0;
    } else {
        ddt_buf_adds(b, "{\"text\":");
        ddt_json_write_str(b, line, strlen(line));
        ddt_buf_addc(b, '}');
    }
    return 1;
}

static int
ddtc_chat(ddtc_opts_t *o)
{
    uint8_t             *block = NULL;
    size_t               block_len, n;
    ddt_project_t       *p = NULL;
    ddt_session_t       *s = NULL;
    ddt_session_opts_t   so;
    ddt_turn_result_t    res;
    ddt_err_t            err;
    ddt_input_t          in;
    ddt_arena_t          ta;
    ddt_buf_t            state, body;
    FILE                *f;
    char                 line[8192];
    int                  quit = 0, rc = 0, r;

    if (ddtc_project(o->file, &block, &block_len, &p) != 0) {
        return 2;
    }

    f = stdin;
    if (o->script != NULL) {
        f = fopen(o->script, "r");
        if (f == NULL) {
            fprintf(stderr, "ddtc: %s: %s\n", o->script, strerror(errno));
            ddt_project_free(p);
            free(block);
            return 2;
        }
    }

    memset(&so, 0, sizeof(so));
    so.session_id = "ddtc-session-0001";
    so.locale = o->locale;
    so.variables = o->vars;
    so.now_ms = ddtc_now(o);

    ddt_turn_result_init(&res);
    ddt_buf_init(&state);
    ddt_buf_init(&body);
    ddt_arena_init(&ta, 8192);

    if (ddt_session_create(p, &so, &s, &res, &err) != DDT_OK
        || ddtc_drive(o, p, s, &res, &err) != DDT_OK)
    {
        fprintf(stderr, "ddtc: %s: %s\n", err.code, err.message);
        rc = 1;
        goto done;
    }
    ddtc_print_response(res.response.data, res.response.len);

    while (!quit && ddt_session_status(s) == DDT_STATUS_WAITING) {
        if (o->script == NULL) {
            printf("> ");
            fflush(stdout);
        }
        if (fgets(line, sizeof(line), f) == NULL) {
            break;
        }
        n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            line[--n] = '\0';
        }
        if (n == 0 && o->script != NULL) {
            continue;
        }
        if (line[0] == '#') {
            continue;
        }
        if (o->echo) {
            printf("> %s\n", line);
        }
        if (strcmp(line, "/state") == 0) {
            ddtc_state(s);
            continue;
        }
        if (!ddtc_body(line, &body, &quit)) {
            continue;
        }

        /* as a host: parse, save and reload the state, turn, save */
        ddt_arena_reset(&ta);
        if (ddt_input_parse(&ta, body.data, body.len, &in, &err) != DDT_OK) {
            printf("!! %d %s: %s\n", err.http, err.code, err.message);
            continue;
        }

        ddt_buf_reset(&state);
        if (ddt_session_save(s, &state) != DDT_OK) {
            fprintf(stderr, "ddtc: cannot save the session\n");
            rc = 1;
            break;
        }
        ddt_session_free(s);
        s = NULL;
        if (ddt_session_load(state.data, state.len, &s, &err) != DDT_OK) {
            fprintf(stderr, "ddtc: reload: %s: %s\n", err.code, err.message);
            rc = 1;
            break;
        }

        ddt_buf_reset(&res.response);
        r = ddt_session_replay(s, &in, &res.response, &err);
        if (r < 0) {
            printf("!! %d %s: %s\n", err.http, err.code, err.message);
            continue;
        }
        if (r == 1) {
            printf("-- replay\n");
            ddtc_print_response(res.response.data, res.response.len);
            continue;
        }

        if (ddt_turn(p, s, &in, ddtc_now(o), &res, &err) != DDT_OK
            || ddtc_drive(o, p, s, &res, &err) != DDT_OK)
        {
            printf("!! %d %s: %s\n", err.http, err.code, err.message);
            continue;
        }
        ddtc_print_response(res.response.data, res.response.len);
    }

    /* input left after the session closed: the host would answer 410 */
    if (!quit && o->script != NULL && s != NULL
        && ddt_session_status(s) != DDT_STATUS_WAITING)
    {
        while (fgets(line, sizeof(line), f) != NULL) {
            n = strlen(line);
            while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
                line[--n] = '\0';
            }
            if (n == 0 || line[0] == '#') {
                continue;
            }
            if (o->echo) {
                printf("> %s\n", line);
            }
            if (strcmp(line, "/state") == 0) {
                ddtc_state(s);
            } else if (strcmp(line, "/quit") != 0) {
                printf("!! 410 session_closed: the session is %s\n",
                       ddt_status_name(ddt_session_status(s)));
            }
        }
    }

done:
    if (f != stdin) {
        fclose(f);
    }
    ddt_arena_free(&ta);
    ddt_buf_free(&state);
    ddt_buf_free(&body);
    ddt_turn_result_free(&res);
    ddt_session_free(s);
    ddt_project_free(p);
    free(block);
    return rc;
}

static void
ddtc_usage(void)
{
    fprintf(stderr,
        "usage: ddtc check FILE\n"
        "       ddtc compile FILE -o OUT\n"
        "       ddtc chat FILE [--locale xx-XX] [--now ISO8601]"
        " [--backend-stub FILE] [--var name=json] [--raw]\n"
        "       ddtc run FILE --script SCRIPT [chat options]\n");
}

static int
ddtc_load_stub(ddtc_opts_t *o)
{
    char        *src;
    size_t       len;
    ddt_jerr_t   jerr;

    if (o->stub_file == NULL) {
        return 0;
    }
    if (ddtc_read_file(o->stub_file, &src, &len) != 0) {
        return -1;
    }
    o->stub = ddt_json_parse(&o->arena, src, len, NULL, &jerr);
    free(src);
    if (o->stub == NULL || o->stub->type != DDT_J_OBJ) {
        fprintf(stderr, "ddtc: %s: not a JSON object (%s)\n", o->stub_file,
                o->stub ? "" : jerr.message);
        return -1;
    }
    return 0;
}

static int
ddtc_add_var(ddtc_opts_t *o, const char *arg)
{
    const char  *eq;
    ddt_json_t  *v;
    ddt_jerr_t   jerr;

    eq = strchr(arg, '=');
    if (eq == NULL) {
        return -1;
    }
    v = ddt_json_parse(&o->arena, eq + 1, strlen(eq + 1), NULL, &jerr);
    if (v == NULL) {
        v = ddt_json_strz(&o->arena, eq + 1);
    }
    if (o->vars == NULL) {
        o->vars = ddt_json_obj(&o->arena);
    }
    return ddt_json_set(&o->arena, o->vars, arg, (size_t) (eq - arg), v);
}

int
main(int argc, char **argv)
{
    ddtc_opts_t  o;
    const char  *cmd;
    int          i, rc;

    if (argc < 3) {
        ddtc_usage();
        return 2;
    }

    memset(&o, 0, sizeof(o));
    o.now_ms = -1;
    ddt_arena_init(&o.arena, 8192);
    cmd = argv[1];
    o.file = argv[2];

    for (i = 3; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            o.out = argv[++i];
        } else if (strcmp(argv[i], "--script") == 0 && i + 1 < argc) {
            o.script = argv[++i];
        } else if (strcmp(argv[i], "--locale") == 0 && i + 1 < argc) {
            o.locale = argv[++i];
        } else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
            o.now = argv[++i];
            o.now_ms = ddtc_parse_now(o.now);
            if (o.now_ms < 0) {
                fprintf(stderr, "ddtc: --now %s: not ISO 8601\n", o.now);
                return 2;
            }
        } else if (strcmp(argv[i], "--raw") == 0) {
            ddtc_raw = 1;
        } else if (strcmp(argv[i], "--backend-stub") == 0 && i + 1 < argc) {
            o.stub_file = argv[++i];
        } else if (strcmp(argv[i], "--var") == 0 && i + 1 < argc) {
            if (ddtc_add_var(&o, argv[++i]) != 0) {
                fprintf(stderr, "ddtc: --var wants name=json\n");
                return 2;
            }
        } else {
            ddtc_usage();
            return 2;
        }
    }

    if (ddtc_load_stub(&o) != 0) {
        return 2;
    }

    if (strcmp(cmd, "check") == 0) {
        rc = ddtc_check(&o);
    } else if (strcmp(cmd, "compile") == 0) {
        if (o.out == NULL) {
            ddtc_usage();
            return 2;
        }
        rc = ddtc_check(&o);
    } else if (strcmp(cmd, "chat") == 0) {
        o.echo = o.script != NULL;
        rc = ddtc_chat(&o);
    } else if (strcmp(cmd, "run") == 0) {
        if (o.script == NULL) {
            ddtc_usage();
            return 2;
        }
        o.echo = 1;
        rc = ddtc_chat(&o);
    } else {
        ddtc_usage();
        rc = 2;
    }

    ddt_arena_free(&o.arena);
    return rc;
}
