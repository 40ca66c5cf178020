/*
 * state.c: the session state codec (SPEC 8): one JSON document with a
 * format version, written by ddt_session_save and read back by
 * ddt_session_load.  Loading checks every field; a state of an unknown
 * format, or one that is corrupt, is an error value, never a crash.
 * save(load(x)) == x byte for byte for any x that save wrote.
 *
 *   {"format":"ddt-session/1","sessionId","project","projectVersion",
 *    "checksum","locale","status","version","createdMs","updatedMs",
 *    "pc":{"node","task","wait"},"memory":{...},"expecting":{...}|null,
 *    "error":{...}|null,"engine":{...}|null,
 *    "turns":[{"turnId","input","response"}, ...]}
 *
 * The engine part is the engine's own codec (engine.c); it is decoded
 * against the project on the next turn, since loading has no project.
 */
#include <string.h>
#include <ddt/ddt.h>
#include "session.h"
#include "json_int.h"

#define DDT_STATE_MAX_DEPTH  256

static const char *ddt_wait_names[] = { "none", "input", "backend", "engine" };

/* ,"key":"value" -- key is a literal that needs no escaping */
static void
ddt_w_str(ddt_buf_t *b, const char *key, const char *v)
{
    ddt_buf_add(b, ",\"", 2);
    ddt_buf_adds(b, key);
    ddt_buf_add(b, "\":", 2);
    ddt_json_write_str(b, v, strlen(v));
}

/* ,"key":123 -- without printf, which dominates a small state's cost */
static void
ddt_w_int(ddt_buf_t *b, const char *key, int64_t v)
{
    char      tmp[24], *e, *q;
    uint64_t  u;

    if (key != NULL) {
        ddt_buf_add(b, ",\"", 2);
        ddt_buf_adds(b, key);
        ddt_buf_add(b, "\":", 2);
    }
    u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
    e = tmp + sizeof(tmp);
    q = e;
    do {
        *--q = (char) ('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        *--q = '-';
    }
    ddt_buf_add(b, q, (size_t) (e - q));
}

int
ddt_session_save(const ddt_session_t *s, ddt_buf_t *out)
{
    uint32_t      i;
    ddt_arena_t   a;
    ddt_json_t   *eng;

    ddt_buf_adds(out, "{\"format\":\"" DDT_STATE_FORMAT "\"");
    ddt_w_str(out, "sessionId", s->id);
    ddt_w_str(out, "project", s->project);
    ddt_w_str(out, "projectVersion", s->project_version);
    ddt_w_str(out, "checksum", s->checksum);
    ddt_w_str(out, "locale", ddt_locale_name(s->locale));
    ddt_w_str(out, "status", ddt_status_name(s->status));
    ddt_w_int(out, "version", (int64_t) s->version);
    ddt_w_int(out, "createdMs", s->created_ms);
    ddt_w_int(out, "updatedMs", s->updated_ms);

    ddt_buf_adds(out, ",\"pc\":{\"node\":");
    if (s->node == DDT_NONE) {
        ddt_buf_adds(out, "null");
    } else {
        ddt_w_int(out, NULL, s->node);
    }
    ddt_w_int(out, "task", s->task);
    ddt_w_str(out, "wait", s->wait <= DDT_WAIT_ENGINE
                           ? ddt_wait_names[s->wait] : "none");
    ddt_buf_addc(out, '}');

    ddt_buf_adds(out, ",\"memory\":");
    ddt_json_write(out, s->memory);
    ddt_buf_adds(out, ",\"expecting\":");
    if (s->expecting != NULL) {
        ddt_json_write(out, s->expecting);
    } else {
        ddt_buf_adds(out, "null");
    }
    ddt_buf_adds(out, ",\"error\":");
    if (s->error != NULL) {
        ddt_json_write(out, s->error);
    } else {
        ddt_buf_adds(out, "null");
    }

    ddt_buf_adds(out, ",\"engine\":");
    if (!s->eng_ready) {
        if (s->eng_json != NULL) {
            ddt_json_write(out, s->eng_json);
        } else {
            ddt_buf_adds(out, "null");
        }
    } else if (s->eng.ddt == DDT_NONE) {
        ddt_buf_adds(out, "null");
    } else {
        ddt_arena_init(&a, 4096);
        eng = NULL;
        if (ddt_engine_state_to_json(&a, &s->eng, &eng) != DDT_OK
            || eng == NULL)
        {
            ddt_arena_free(&a);
            return DDT_ERROR;
        }
        ddt_json_write(out, eng);
        ddt_arena_free(&a);
    }

    ddt_buf_adds(out, ",\"turns\":[");
    for (i = 0; i < s->n_replay; i++) {
        if (i) {
            ddt_buf_addc(out, ',');
        }
        if (s->replay[i].raw != NULL) {
            ddt_buf_add(out, s->replay[i].raw, s->replay[i].raw_len);
            continue;
        }
        ddt_buf_adds(out, "{\"turnId\":");
        ddt_json_write_str(out, s->replay[i].turn_id,
                           strlen(s->replay[i].turn_id));
        ddt_buf_adds(out, ",\"input\":");
        ddt_json_write(out, s->replay[i].input);
        ddt_buf_adds(out, ",\"response\":");
        ddt_json_write(out, s->replay[i].response);
        ddt_buf_addc(out, '}');
    }
    ddt_buf_adds(out, "]}");

    return out->oom ? DDT_ERROR : DDT_OK;
}

/* ---- load ---------------------------------------------------------------- */

static int
ddt_bad(ddt_err_t *err, const char *what)
{
    ddt_err_set(err, 500, "bad_state", "session state: %s", what);
    return DDT_ERROR;
}

/*
 * A member looked up where save writes it first (a state save wrote has
 * its fields in that order), anywhere in the object otherwise.
 */
static const ddt_json_t *
ddt_member(const ddt_json_t *o, size_t at, const char *key, size_t klen)
{
    if (o->type == DDT_J_OBJ && at < o->u.obj.len
        && o->u.obj.m[at].klen == klen
        && memcmp(o->u.obj.m[at].key, key, klen) == 0)
    {
        return o->u.obj.m[at].val;
    }
    return ddt_json_get(o, key, klen);
}

#define ddt_at(o, at, lit)  ddt_member(o, at, "" lit "", sizeof(lit) - 1)

static const char *
ddt_get_str(const ddt_json_t *v, int nonempty)
{
    if (v == NULL || v->type != DDT_J_STR || (nonempty && v->u.str.len == 0)
        || strlen(v->u.str.s) != v->u.str.len)
    {
        return NULL;
    }
    return v->u.str.s;
}

/* A non-negative integer below 2^53. */
static int
ddt_get_uint(const ddt_json_t *v, double max, double *out)
{
    if (v == NULL || v->type != DDT_J_NUM || !ddt_json_is_int(v)
        || v->u.n < 0 || v->u.n > max)
    {
        return DDT_ERROR;
    }
    *out = v->u.n;
    return DDT_OK;
}

static int
ddt_load_pc(ddt_session_t *s, const ddt_json_t *pc, ddt_err_t *err)
{
    uint32_t           i;
    double             d;
    const ddt_json_t  *v;

    if (pc == NULL || pc->type != DDT_J_OBJ) {
        return ddt_bad(err, "\"pc\" is not an object");
    }

    v = ddt_at(pc, 0, "node");
    if (v != NULL && v->type == DDT_J_NULL) {
        s->node = DDT_NONE;
    } else if (ddt_get_uint(v, 0xfffffffe, &d) == DDT_OK) {
        s->node = (uint32_t) d;
    } else {
        return ddt_bad(err, "\"pc.node\" is not a node index");
    }

    if (ddt_get_uint(ddt_at(pc, 1, "task"), 0xfffffffe, &d) != DDT_OK) {
        return ddt_bad(err, "\"pc.task\" is not a task index");
    }
    s->task = (uint32_t) d;

    v = ddt_at(pc, 2, "wait");
    if (v == NULL || v->type != DDT_J_STR) {
        return ddt_bad(err, "\"pc.wait\" is missing");
    }
    for (i = 0; i <= DDT_WAIT_ENGINE; i++) {
        if (strcmp(v->u.str.s, ddt_wait_names[i]) == 0) {
            s->wait = i;
            return DDT_OK;
        }
    }
    return ddt_bad(err, "\"pc.wait\" is unknown");
}

static int
ddt_load_turns(ddt_session_t *s, const ddt_json_t *turns, ddt_err_t *err)
{
    size_t             i;
    const ddt_json_t  *t, *id, *in, *resp;

    if (turns == NULL || turns->type != DDT_J_ARR
        || turns->u.arr.len > DDT_REPLAY_MAX)
    {
        return ddt_bad(err, "\"turns\" is not an array of at most 16");
    }

    for (i = 0; i < turns->u.arr.len; i++) {
        t = turns->u.arr.items[i];
        id = ddt_at(t, 0, "turnId");
        in = ddt_at(t, 1, "input");
        resp = ddt_at(t, 2, "response");
        if (t->type != DDT_J_OBJ || id == NULL || id->type != DDT_J_STR
            || id->u.str.len == 0 || strlen(id->u.str.s) != id->u.str.len
            || in == NULL || in->type != DDT_J_OBJ
            || resp == NULL || resp->type != DDT_J_OBJ)
        {
            return ddt_bad(err, "a \"turns\" entry is malformed");
        }
        s->replay[i].turn_id = id->u.str.s;
        s->replay[i].input = (ddt_json_t *) in;
        s->replay[i].response = (ddt_json_t *) resp;
    }
    s->n_replay = (uint32_t) turns->u.arr.len;
    return DDT_OK;
}

static int
ddt_load_fields(ddt_session_t *s, const ddt_json_t *j, ddt_err_t *err)
{
    uint32_t           i;
    double             d;
    const char        *str;
    const ddt_json_t  *v;

    if (j->type != DDT_J_OBJ) {
        return ddt_bad(err, "not a JSON object");
    }

    str = ddt_get_str(ddt_at(j, 0, "format"), 0);
    if (str == NULL || strcmp(str, DDT_STATE_FORMAT) != 0) {
        ddt_err_set(err, 500, "bad_state",
                    "session state: unknown format \"%.40s\" (this build "
                    "reads " DDT_STATE_FORMAT ")", str ? str : "");
        return DDT_ERROR;
    }

    s->id = ddt_get_str(ddt_at(j, 1, "sessionId"), 1);
    s->project = ddt_get_str(ddt_at(j, 2, "project"), 0);
    s->project_version = ddt_get_str(ddt_at(j, 3, "projectVersion"), 0);
    s->checksum = ddt_get_str(ddt_at(j, 4, "checksum"), 0);
    if (s->id == NULL || s->project == NULL || s->project_version == NULL
        || s->checksum == NULL)
    {
        return ddt_bad(err, "an id field is missing or not a string");
    }

    str = ddt_get_str(ddt_at(j, 5, "locale"), 1);
    if (str == NULL || ddt_locale_parse(str, strlen(str), &s->locale)
                       != DDT_OK)
    {
        return ddt_bad(err, "\"locale\" is unknown");
    }

    str = ddt_get_str(ddt_at(j, 6, "status"), 1);
    for (i = 0; str != NULL && i <= DDT_STATUS_RUNNING; i++) {
        if (strcmp(str, ddt_status_name((ddt_status_t) i)) == 0) {
            break;
        }
    }
    if (str == NULL || i > DDT_STATUS_RUNNING) {
        return ddt_bad(err, "\"status\" is unknown");
    }
    s->status = (ddt_status_t) i;

    if (ddt_get_uint(ddt_at(j, 7, "version"), 9007199254740991.0, &d)
        != DDT_OK)
    {
        return ddt_bad(err, "\"version\" is not a count");
    }
    s->version = (uint64_t) d;
    if (ddt_get_uint(ddt_at(j, 8, "createdMs"), 9007199254740991.0, &d)
        != DDT_OK)
    {
        return ddt_bad(err, "\"createdMs\" is not a time");
    }
    s->created_ms = (int64_t) d;
    if (ddt_get_uint(ddt_at(j, 9, "updatedMs"), 9007199254740991.0, &d)
        != DDT_OK)
    {
        return ddt_bad(err, "\"updatedMs\" is not a time");
    }
    s->updated_ms = (int64_t) d;

    if (ddt_load_pc(s, ddt_at(j, 10, "pc"), err) != DDT_OK) {
        return DDT_ERROR;
    }
    if (s->status == DDT_STATUS_WAITING && s->wait != DDT_WAIT_INPUT) {
        return ddt_bad(err, "a waiting session must wait for input");
    }

    v = ddt_at(j, 11, "memory");
    if (v == NULL || v->type != DDT_J_OBJ) {
        return ddt_bad(err, "\"memory\" is not an object");
    }
    s->memory = (ddt_json_t *) v;

    v = ddt_at(j, 12, "expecting");
    if (v == NULL || (v->type != DDT_J_NULL && v->type != DDT_J_OBJ)) {
        return ddt_bad(err, "\"expecting\" is not an object or null");
    }
    s->expecting = (ddt_json_t *) v;

    v = ddt_at(j, 13, "error");
    if (v == NULL || (v->type != DDT_J_NULL && v->type != DDT_J_OBJ)) {
        return ddt_bad(err, "\"error\" is not an object or null");
    }
    s->error = v->type == DDT_J_OBJ ? (ddt_json_t *) v : NULL;

    v = ddt_at(j, 14, "engine");
    if (v == NULL || (v->type != DDT_J_NULL && v->type != DDT_J_OBJ)) {
        return ddt_bad(err, "\"engine\" is not an object or null");
    }
    s->eng_ready = 0;
    s->eng_json = (ddt_json_t *) v;

    if (ddt_load_turns(s, ddt_at(j, 15, "turns"), err) != DDT_OK) {
        return DDT_ERROR;
    }

    if (j->u.obj.len != 16) {
        return ddt_bad(err, "unknown or missing fields");
    }

    return DDT_OK;
}

/*
 * The ring's text.  A full ring is most of a state (16 responses) and it
 * changes by one entry a turn: each loaded entry keeps its text, which
 * save writes back as is instead of serialising the entry's trees again.
 * The parser says where each entry stands.
 */
static void
ddt_load_ring_text(ddt_session_t *s, const char *t,
    const ddt_json_spans_t *sp)
{
    uint32_t  i;
    size_t    n;

    if (sp->n != s->n_replay || sp->n > sp->max) {
        return;
    }
    for (i = 0; i < s->n_replay; i++) {
        n = sp->end[i] - sp->start[i];
        s->replay[i].raw = ddt_arena_strndup(&s->arena, t + sp->start[i], n);
        s->replay[i].raw_len = s->replay[i].raw ? n : 0;
    }
}

int
ddt_session_load(const char *json, size_t len, ddt_session_t **out,
    ddt_err_t *err)
{
    ddt_session_t      *s;
    ddt_json_t         *j;
    ddt_jerr_t          jerr;
    ddt_json_limits_t   lim;
    ddt_json_spans_t    sp;
    size_t              at[DDT_REPLAY_MAX], end[DDT_REPLAY_MAX];

    *out = NULL;

    s = ddt_session_alloc();
    if (s == NULL) {
        ddt_err_set(err, 500, "internal", "out of memory");
        return DDT_ERROR;
    }

    memset(&lim, 0, sizeof(lim));
    lim.max_depth = DDT_STATE_MAX_DEPTH;

    sp.key = "turns";
    sp.klen = sizeof("turns") - 1;
    sp.start = at;
    sp.end = end;
    sp.max = DDT_REPLAY_MAX;
    j = ddt_json_parse_fast_spans(&s->arena, json, len, &lim, &jerr, &sp);
    if (j == NULL) {
        ddt_err_set(err, 500, "bad_state", "session state: %s at offset %zu",
                    jerr.message, jerr.offset);
        ddt_session_free(s);
        return DDT_ERROR;
    }

    if (ddt_load_fields(s, j, err) != DDT_OK) {
        ddt_session_free(s);
        return DDT_ERROR;
    }

    if (s->n_replay > 0) {
        ddt_load_ring_text(s, json, &sp);
    }

    *out = s;
    return DDT_OK;
}
