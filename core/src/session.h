/*
 * session.h: the session object shared by session.c (create, free,
 * accessors, describe, replay ring), turn.c (the flow orchestrator) and
 * state.c (the versioned state codec).  Private to the core: hosts see
 * only the opaque ddt_session_t of ddt.h.
 *
 * Everything a session holds lives in its one arena; values written to
 * memory during a turn go there too.  A long-lived session (ddtc chat, the
 * bench) is compacted after a turn when the arena has grown: the live
 * values are cloned into a fresh arena and the old one is freed.
 */
#ifndef DDT_SESSION_H
#define DDT_SESSION_H

#include "engine.h"

#define DDT_STATE_FORMAT      "ddt-session/1"
#define DDT_REPLAY_MAX        16
#define DDT_LOOP_GUARD        1000          /* tasks per turn (SPEC 2) */
#define DDT_COMPACT_BYTES     (256 * 1024)  /* compact past this arena size */

/* What the program counter waits on between calls. */
typedef enum {
    DDT_WAIT_NONE = 0,           /* not inside a task (new or closed) */
    DDT_WAIT_INPUT,              /* a GetData waits for user input */
    DDT_WAIT_BACKEND,            /* a BackendCall effect is out */
    DDT_WAIT_ENGINE              /* an ner/llm effect of the engine is out */
} ddt_wait_t;

typedef struct {
    const char      *turn_id;
    ddt_json_t      *input;      /* the turn body without turnId */
    ddt_json_t      *response;   /* the response as sent */
    const char      *raw;        /* the entry's text as loaded, saved back
                                    as is (no re-serialising the ring each
                                    turn); NULL for an entry made here */
    size_t           raw_len;
} ddt_replay_t;

struct ddt_session_s {
    ddt_arena_t          arena;

    const char          *id;
    const char          *project;          /* name */
    const char          *project_version;  /* the project's "version" label */
    const char          *checksum;         /* hex of the pinned load */
    ddt_locale_t         locale;
    ddt_status_t         status;
    uint64_t             version;
    int64_t              created_ms;
    int64_t              updated_ms;

    /* program counter: flow node index, task index inside the node */
    uint32_t             node;
    uint32_t             task;
    uint32_t             wait;             /* ddt_wait_t */

    ddt_json_t          *memory;           /* object */
    ddt_json_t          *expecting;        /* JSON null unless waiting */
    ddt_json_t          *error;            /* {"code","message"} or NULL */

    /* engine state: decoded against the project on the first turn after
     * a load (the codec has no project), kept as JSON until then */
    ddt_engine_state_t   eng;
    int                  eng_ready;
    ddt_json_t          *eng_json;

    ddt_replay_t         replay[DDT_REPLAY_MAX];   /* oldest first */
    uint32_t             n_replay;

    /* scratch, malloc'd, reused across turns; never serialised */
    ddt_buf_t            scratch;
    ddt_buf_t            effect_body;

    /* the turn in progress */
    struct {
        ddt_json_t      *messages;
        ddt_json_t      *actions;
        ddt_json_t      *input;            /* canonical input, for the ring */
        const char      *turn_id;
        int64_t          now_ms;
        uint32_t         tasks;            /* loop guard counters */
        uint32_t         hops;
        int              critical;
    } t;
};

typedef enum {
    DDT_RUN_GO = 0,              /* keep running the flow */
    DDT_RUN_STOP,                /* the turn is over (status decided) */
    DDT_RUN_EFFECT,              /* res->effect is out */
    DDT_RUN_REJECT               /* the input is refused (4xx), nothing ran */
} ddt_run_t;

/* session.c */
ddt_session_t *ddt_session_alloc(void);
void ddt_session_engine_reset(ddt_engine_state_t *st);
int  ddt_session_compact(ddt_session_t *s);
void ddt_session_remember(ddt_session_t *s, const char *turn_id,
    ddt_json_t *input, ddt_json_t *response);
ddt_json_t *ddt_input_canonical(ddt_arena_t *a, const ddt_input_t *in);

/* turn.c */
ddt_json_t *ddt_render(const ddt_project_t *p, ddt_session_t *s,
    uint32_t tmpl);
ddt_json_t *ddt_render_json(const ddt_project_t *p, ddt_session_t *s,
    ddt_bstr_t src);
ddt_run_t ddt_fail(ddt_session_t *s, const char *code, const char *fmt,
    const char *arg);
int ddt_turn_start(const ddt_project_t *p, ddt_session_t *s,
    int64_t now_ms, ddt_turn_result_t *res, ddt_err_t *err);


/* backend.c */
ddt_run_t ddt_backend_effect(const ddt_project_t *p, ddt_session_t *s,
    const ddt_btask_t *t, ddt_turn_result_t *res);
ddt_run_t ddt_backend_result(const ddt_project_t *p, ddt_session_t *s,
    const ddt_effect_result_t *er);

#endif
