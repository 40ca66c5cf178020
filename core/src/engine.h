/*
 * engine.h: the DDT engine (SPEC 3, 4, 9.1-9.3, 9.8), driven by the
 * orchestrator's GetData task.  engine.c owns the per-item state machine,
 * extraction layers, mixed initiative, validation, confirmation and
 * prompts; the orchestrator owns the flow and the session.  The engine state
 * lives inside the session and is serialised by the state codec through
 * ddt_engine_state_to_json / _from_json.
 */
#ifndef DDT_ENGINE_H
#define DDT_ENGINE_H

#include "runtime.h"

typedef enum {
    DDT_ITEM_IDLE = 0,
    DDT_ITEM_ASKING,
    DDT_ITEM_CONFIRMING,
    DDT_ITEM_FILLED,
    DDT_ITEM_EXHAUSTED
} ddt_item_state_t;

typedef struct {
    uint8_t     state;                 /* ddt_item_state_t */
    uint16_t    count[DDT_EV_COUNT];   /* noMatch, noInput, notConfirmed, invalid */
    uint16_t    said[DDT_STEP_COUNT];  /* times start / confirmation / success said */
} ddt_item_rt_t;

/* The engine's part of a session: the running GetData, if any. */
typedef struct {
    uint32_t        ddt;               /* DDT index, DDT_NONE when none runs */
    uint32_t        active;            /* item index last asked, DDT_NONE */
    uint32_t        last_step;         /* ddt_step_t last said for the active item */
    uint32_t        last_escalation;
    uint32_t        n_items;           /* = p->ddts[ddt].all_items.count */
    ddt_item_rt_t  *items;             /* indexed by item - all_items.first */
    uint32_t        pending_layer;     /* ner/llm layer awaiting a result, DDT_NONE */
    uint32_t        pending_item;
    /* additions (engine.c): */
    uint32_t        last_rule;         /* validate index when the last step
                                          said was a rule's custom step, else
                                          DDT_NONE */
    /* only while an ner/llm effect is out (never saved: the session is not
       saved in between); allocated in the ctx arena */
    uint32_t        pending_kind;      /* ddt_input_kind_t of the input */
    char           *pending_text;
    size_t          pending_len;
    ddt_json_t     *pending_values;
    struct ddt_engine_effect_s *effects;   /* results received this turn */
} ddt_engine_state_t;

typedef enum {
    DDT_ENGINE_WAIT = 0,               /* a prompt was said: wait for input */
    DDT_ENGINE_DONE,                   /* GetData complete: $status ok or exhausted */
    DDT_ENGINE_EFFECT,                 /* ctx->effect must be performed */
    DDT_ENGINE_ERROR                   /* bad input (ctx->err): nothing changed */
} ddt_engine_rc_t;

/*
 * Everything the engine touches during one call.  `arena` must own `memory`
 * and the state's `items` (the session arena): values written to memory and
 * the items array allocated by ddt_engine_enter live there.
 */
typedef struct {
    const ddt_project_t  *p;
    ddt_arena_t          *arena;       /* turn arena: values, messages */
    ddt_json_t           *memory;      /* the session memory object */
    ddt_locale_t          locale;
    int64_t               now_ms;
    ddt_engine_state_t   *st;
    ddt_json_t           *messages;    /* array: the engine appends DDT prompts */
    int                   critical;    /* set when a critical event happened */
    ddt_effect_t          effect;      /* filled when DDT_ENGINE_EFFECT */
    ddt_buf_t             effect_body; /* owned by the caller, reset by the engine */
    /* additions: */
    ddt_err_t             err;         /* DDT_ENGINE_ERROR: e.g. unknown `values` key */
    void                (*log)(void *log_data, const char *msg);  /* NULL: stderr */
    void                 *log_data;
} ddt_engine_ctx_t;

/* Enter a GetData: reset the DDT's items and counters, $status, $failed;
 * select and ask.  DONE when nothing needs asking. */
ddt_engine_rc_t ddt_engine_enter(ddt_engine_ctx_t *c, uint32_t ddt);

/* One input while the GetData waits. */
ddt_engine_rc_t ddt_engine_input(ddt_engine_ctx_t *c, const ddt_input_t *in);

/* The result of an ner/llm effect requested by the last call. */
ddt_engine_rc_t ddt_engine_resume(ddt_engine_ctx_t *c,
    const ddt_effect_result_t *er);

/*
 * Check a `values` input against the running DDT (SPEC 9.2): keys are data
 * ids or "id.sub"; an unknown key is 400 bad_input.  ddt_engine_input does
 * the same check before it changes anything (DDT_ENGINE_ERROR).
 */
int ddt_engine_check_values(ddt_engine_ctx_t *c, const ddt_json_t *values,
    ddt_err_t *err);

/* The `expecting` object (SPEC 9.4) while waiting, else JSON null. */
ddt_json_t *ddt_engine_expecting(ddt_engine_ctx_t *c);

/* State codec pieces (versioned by the session format). */
int ddt_engine_state_to_json(ddt_arena_t *a, const ddt_engine_state_t *st,
    ddt_json_t **out);
int ddt_engine_state_from_json(ddt_arena_t *a, const ddt_project_t *p,
    const ddt_json_t *j, ddt_engine_state_t *st, ddt_err_t *err);

#endif
