/*
 * session.c: the session object: creation (initial memory, options),
 * accessors, the GET description, the turnId replay ring and arena
 * compaction.  The flow itself runs in turn.c; the state codec is state.c.
 */
#include <stdlib.h>
#include <string.h>
#include <ddt/ddt.h>
#include "session.h"

static const char *ddt_status_names[] = {
    "waiting", "ended", "transferred", "error", "running"
};

const char *
ddt_status_name(ddt_status_t s)
{
    if ((unsigned) s > DDT_STATUS_RUNNING) {
        return "error";
    }
    return ddt_status_names[s];
}

void
ddt_session_engine_reset(ddt_engine_state_t *st)
{
    memset(st, 0, sizeof(*st));
    st->ddt = DDT_NONE;
    st->active = DDT_NONE;
    st->pending_layer = DDT_NONE;
    st->pending_item = DDT_NONE;
    st->last_rule = DDT_NONE;
}

/* SPEC 9.4: [A-Za-z0-9_-]{8,128} */
static int
ddt_session_id_valid(const char *id)
{
    size_t  n;
    char    c;

    if (id == NULL) {
        return 0;
    }
    for (n = 0; id[n] != '\0'; n++) {
        c = id[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-')
            || n >= 128)
        {
            return 0;
        }
    }
    return n >= 8;
}

ddt_session_t *
ddt_session_alloc(void)
{
    ddt_session_t  *s;

    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }

    ddt_arena_init(&s->arena, 16 * 1024);
    ddt_buf_init(&s->scratch);
    ddt_buf_init(&s->effect_body);
    s->node = DDT_NONE;
    s->eng_ready = 1;
    ddt_session_engine_reset(&s->eng);
    return s;
}

void
ddt_session_free(ddt_session_t *s)
{
    if (s == NULL) {
        return;
    }
    ddt_arena_free(&s->arena);
    ddt_buf_free(&s->scratch);
    ddt_buf_free(&s->effect_body);
    free(s);
}

int
ddt_session_create(const ddt_project_t *p, const ddt_session_opts_t *o,
    ddt_session_t **out, ddt_turn_result_t *res, ddt_err_t *err)
{
    size_t              i;
    ddt_locale_t        loc;
    ddt_session_t      *s;
    ddt_json_t         *mem;
    ddt_jerr_t          jerr;
    const char         *vars;
    const ddt_jmember_t *m;

    *out = NULL;

    if (!ddt_session_id_valid(o->session_id)) {
        ddt_err_set(err, 400, "bad_input",
                    "a session id is [A-Za-z0-9_-]{8,128}");
        return DDT_ERROR;
    }

    loc = (ddt_locale_t) p->hdr->locale;
    if (o->locale != NULL
        && ddt_locale_parse(o->locale, strlen(o->locale), &loc) != DDT_OK)
    {
        ddt_err_set(err, 400, "bad_input",
                    "unknown locale \"%.32s\" (it-IT or en-US)", o->locale);
        return DDT_ERROR;
    }

    if (o->variables != NULL) {
        if (o->variables->type != DDT_J_OBJ) {
            ddt_err_set(err, 400, "bad_input", "\"variables\" is an object");
            return DDT_ERROR;
        }
        for (i = 0; i < o->variables->u.obj.len; i++) {
            m = &o->variables->u.obj.m[i];
            if (m->klen > 0 && m->key[0] == '$') {
                ddt_err_set(err, 400, "bad_input",
                            "variable \"%.64s\": names starting with $ "
                            "belong to the engine", m->key);
                return DDT_ERROR;
            }
            /* memory is nested objects, never dotted keys (SPEC 9.8) */
            if (m->klen == 0 || memchr(m->key, '.', m->klen) != NULL
                || memchr(m->key, '\0', m->klen) != NULL)
            {
                ddt_err_set(err, 400, "bad_input",
                            "variable \"%.64s\": a name is not empty and "
                            "has no '.' (give nested values as objects)",
                            m->key);
                return DDT_ERROR;
            }
        }
    }

    s = ddt_session_alloc();
    if (s == NULL) {
        ddt_err_set(err, 500, "internal", "out of memory");
        return DDT_ERROR;
    }

    /* initial memory: the project's variables, then the session's on top */
    vars = ddt_bs(p, p->hdr->variables);
    mem = NULL;
    if (vars != NULL && p->hdr->variables.len > 0) {
        mem = ddt_json_parse_fast(&s->arena, vars, p->hdr->variables.len,
                                  NULL, &jerr);
        if (mem != NULL && mem->type != DDT_J_OBJ) {
            mem = NULL;
        }
    }
    if (mem == NULL) {
        mem = ddt_json_obj(&s->arena);
    }
    if (o->variables != NULL) {
        for (i = 0; i < o->variables->u.obj.len; i++) {
            m = &o->variables->u.obj.m[i];
            ddt_json_set(&s->arena, mem, m->key, m->klen,
                         ddt_json_clone(&s->arena, m->val));
        }
    }

    s->memory = mem;
    s->id = ddt_arena_strndup(&s->arena, o->session_id,
                              strlen(o->session_id));
    s->project = ddt_bs(p, p->hdr->name);
    s->project = ddt_arena_strndup(&s->arena, s->project ? s->project : "",
                                   s->project ? strlen(s->project) : 0);
    vars = ddt_bs(p, p->hdr->label);
    s->project_version = ddt_arena_strndup(&s->arena, vars ? vars : "",
                                           vars ? strlen(vars) : 0);
    s->checksum = ddt_arena_strndup(&s->arena, p->checksum_hex,
                                    strlen(p->checksum_hex));
    s->locale = loc;
    s->status = DDT_STATUS_RUNNING;
    s->version = 0;
    s->created_ms = o->now_ms;
    s->updated_ms = o->now_ms;
    s->expecting = ddt_json_null(&s->arena);

    if (s->memory == NULL || s->id == NULL || s->project == NULL
        || s->project_version == NULL || s->checksum == NULL
        || s->expecting == NULL)
    {
        ddt_session_free(s);
        ddt_err_set(err, 500, "internal", "out of memory");
        return DDT_ERROR;
    }

    if (ddt_turn_start(p, s, o->now_ms, res, err) != DDT_OK) {
        ddt_session_free(s);
        return DDT_ERROR;
    }

    *out = s;
    return DDT_OK;
}

const char *
ddt_session_id(const ddt_session_t *s)
{
    return s->id;
}

const char *
ddt_session_project(const ddt_session_t *s)
{
    return s->project;
}

const char *
ddt_session_checksum(const ddt_session_t *s)
{
    return s->checksum;
}

uint64_t
ddt_session_version(const ddt_session_t *s)
{
    return s->version;
}

ddt_status_t
ddt_session_status(const ddt_session_t *s)
{
    return s->status;
}

int64_t
ddt_session_updated_ms(const ddt_session_t *s)
{
    return s->updated_ms;
}

int
ddt_session_describe(const ddt_session_t *s, ddt_buf_t *out)
{
    ddt_buf_adds(out, "{\"sessionId\":");
    ddt_json_write_str(out, s->id, strlen(s->id));
    ddt_buf_adds(out, ",\"project\":");
    ddt_json_write_str(out, s->project, strlen(s->project));
    ddt_buf_adds(out, ",\"projectVersion\":");
    ddt_json_write_str(out, s->project_version, strlen(s->project_version));
    ddt_buf_printf(out, ",\"status\":\"%s\",\"version\":%llu,\"memory\":",
                   ddt_status_name(s->status),
                   (unsigned long long) s->version);
    ddt_json_write(out, s->memory);
    ddt_buf_adds(out, ",\"expecting\":");
    if (s->status == DDT_STATUS_WAITING && s->expecting != NULL) {
        ddt_json_write(out, s->expecting);
    } else {
        ddt_buf_adds(out, "null");
    }
    if (s->error != NULL) {
        ddt_buf_adds(out, ",\"error\":");
        ddt_json_write(out, s->error);
    }
    ddt_buf_addc(out, '}');

    return out->oom ? DDT_ERROR : DDT_OK;
}

/* ---- turnId replay ring ------------------------------------------------ */

int
ddt_session_replay(const ddt_session_t *s, const ddt_input_t *in,
    ddt_buf_t *response, ddt_err_t *err)
{
    uint32_t      i;
    ddt_arena_t   a;
    ddt_json_t   *canon;
    int           same;

    if (in->turn_id == NULL) {
        return 0;
    }

    for (i = 0; i < s->n_replay; i++) {
        if (strcmp(s->replay[i].turn_id, in->turn_id) != 0) {
            continue;
        }

        ddt_arena_init(&a, 4096);
        canon = ddt_input_canonical(&a, in);
        same = canon != NULL && ddt_json_equal(canon, s->replay[i].input);
        ddt_arena_free(&a);

        if (!same) {
            ddt_err_set(err, 422, "turn_id_reused",
                        "turnId \"%.64s\" was used with another input",
                        in->turn_id);
            return -1;
        }

        if (ddt_json_write(response, s->replay[i].response) != DDT_OK) {
            ddt_err_set(err, 500, "internal", "out of memory");
            return -1;
        }
        return 1;
    }

    return 0;
}

void
ddt_session_remember(ddt_session_t *s, const char *turn_id,
    ddt_json_t *input, ddt_json_t *response)
{
    ddt_replay_t  *r;

    if (s->n_replay == DDT_REPLAY_MAX) {
        memmove(&s->replay[0], &s->replay[1],
                (DDT_REPLAY_MAX - 1) * sizeof(ddt_replay_t));
        s->n_replay--;
    }

    r = &s->replay[s->n_replay];
    r->turn_id = ddt_arena_strndup(&s->arena, turn_id, strlen(turn_id));
    r->input = input;
    r->response = response;
    r->raw = NULL;
    r->raw_len = 0;
    if (r->turn_id != NULL && input != NULL && response != NULL) {
        s->n_replay++;
    }
}

/* ---- compaction --------------------------------------------------------- */

static const char *
ddt_dup(ddt_arena_t *a, const char *s, int *bad)
{
    char  *d;

    if (s == NULL) {
        return NULL;
    }
    d = ddt_arena_strndup(a, s, strlen(s));
    if (d == NULL) {
        *bad = 1;
    }
    return d;
}

static ddt_json_t *
ddt_dupj(ddt_arena_t *a, const ddt_json_t *v, int *bad)
{
    ddt_json_t  *d;

    if (v == NULL) {
        return NULL;
    }
    d = ddt_json_clone(a, v);
    if (d == NULL) {
        *bad = 1;
    }
    return d;
}

/*
 * Move the live state into a fresh arena when the old one has grown (a
 * session kept in process memory across many turns).  Only between turns.
 */
int
ddt_session_compact(ddt_session_t *s)
{
    uint32_t            i;
    int                 bad = 0;
    ddt_arena_t         a;
    ddt_session_t       n;

    if (s->arena.total < DDT_COMPACT_BYTES || s->wait == DDT_WAIT_BACKEND
        || s->wait == DDT_WAIT_ENGINE)
    {
        return DDT_OK;
    }

    ddt_arena_init(&a, 16 * 1024);
    n = *s;

    n.id = ddt_dup(&a, s->id, &bad);
    n.project = ddt_dup(&a, s->project, &bad);
    n.project_version = ddt_dup(&a, s->project_version, &bad);
    n.checksum = ddt_dup(&a, s->checksum, &bad);
    n.memory = ddt_dupj(&a, s->memory, &bad);
    n.expecting = ddt_dupj(&a, s->expecting, &bad);
    n.error = ddt_dupj(&a, s->error, &bad);
    n.eng_json = ddt_dupj(&a, s->eng_json, &bad);

    if (s->eng.items != NULL && s->eng.n_items > 0) {
        n.eng.items = ddt_arena_alloc(&a,
                                      s->eng.n_items * sizeof(ddt_item_rt_t));
        if (n.eng.items == NULL) {
            bad = 1;
        } else {
            memcpy(n.eng.items, s->eng.items,
                   s->eng.n_items * sizeof(ddt_item_rt_t));
        }
    }

    for (i = 0; i < s->n_replay; i++) {
        n.replay[i].turn_id = ddt_dup(&a, s->replay[i].turn_id, &bad);
        n.replay[i].input = ddt_dupj(&a, s->replay[i].input, &bad);
        n.replay[i].response = ddt_dupj(&a, s->replay[i].response, &bad);
        if (s->replay[i].raw != NULL) {
            n.replay[i].raw = ddt_arena_strndup(&a, s->replay[i].raw,
                                                s->replay[i].raw_len);
            if (n.replay[i].raw == NULL) {
                bad = 1;
            }
        }
    }

    memset(&n.t, 0, sizeof(n.t));

    /* the engine's per-turn pointers are dead between turns */
    n.eng.pending_text = NULL;
    n.eng.pending_len = 0;
    n.eng.pending_values = NULL;
    n.eng.effects = NULL;

    if (bad) {
        ddt_arena_free(&a);
        return DDT_ERROR;
    }

    ddt_arena_free(&s->arena);
    n.arena = a;
    *s = n;
    return DDT_OK;
}
