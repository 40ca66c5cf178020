/*
 * engine_int.h: what the engine's files share (private to engine*.c).
 *   engine.c          entry points, selection, the asking and confirming
 *                     turns, exhaustion, the state codec, `expecting`
 *   engine_extract.c  extraction layers (regex, parser, ner/llm effects),
 *                     mixed initiative, DTMF rules, `values` normalisation
 *   engine_value.c    memory and $meta of items, built-in limits,
 *                     validate rules, prompts and message metadata
 */
#ifndef DDT_ENGINE_INT_H
#define DDT_ENGINE_INT_H

#include "engine.h"

#define ENG_MAX_VALS  64

/* One value produced for an item by some layer. */
typedef struct {
    uint32_t      item;         /* item index (main or sub-data) */
    ddt_json_t   *value;        /* SPEC 3.1 form of that item */
    double        conf;
    uint32_t      layer;        /* ddt_layer_type_t */
} eng_val_t;

/* What extraction found in one utterance. */
typedef struct {
    eng_val_t     act[ENG_MAX_VALS];   /* for the active node (parts) */
    uint32_t      n_act;
    eng_val_t     mi[ENG_MAX_VALS];    /* for other nodes (whole values) */
    uint32_t      n_mi;
} eng_found_t;

/* An ner/llm result kept while a turn waits for it and is replayed. */
struct ddt_engine_effect_s {
    uint32_t      item;
    uint32_t      layer;
    ddt_json_t   *result;       /* parsed response, or NULL: layer failed */
    struct ddt_engine_effect_s *next;
};

/* ---- engine_value.c --------------------------------------------------- */

const ddt_bitem_t *eng_item(ddt_engine_ctx_t *c, uint32_t i);
ddt_item_rt_t *eng_rt(ddt_engine_ctx_t *c, uint32_t i);
uint32_t eng_main_of(ddt_engine_ctx_t *c, uint32_t i);
const char *eng_ddt_id(ddt_engine_ctx_t *c);
const char *eng_id(ddt_engine_ctx_t *c, uint32_t i);

ddt_json_t *eng_ddt_obj(ddt_engine_ctx_t *c, int create);
ddt_json_t *eng_get_value(ddt_engine_ctx_t *c, uint32_t main);
ddt_json_t *eng_get_part(ddt_engine_ctx_t *c, uint32_t sub);
int eng_set_value(ddt_engine_ctx_t *c, uint32_t main, ddt_json_t *v);
int eng_set_part(ddt_engine_ctx_t *c, uint32_t sub, ddt_json_t *v);
void eng_clear_value(ddt_engine_ctx_t *c, uint32_t main);
void eng_clear_part(ddt_engine_ctx_t *c, uint32_t sub);
void eng_set_meta(ddt_engine_ctx_t *c, uint32_t i, double conf,
    uint32_t layer);
void eng_meta_state(ddt_engine_ctx_t *c, uint32_t i);
void eng_clear_meta(ddt_engine_ctx_t *c, uint32_t i);
void eng_meta_forget(ddt_engine_ctx_t *c, uint32_t main);
double eng_confidence(ddt_engine_ctx_t *c, uint32_t main);
void eng_set_status(ddt_engine_ctx_t *c, const char *status,
    uint32_t failed, uint32_t failed_sub);

int eng_has_subs(ddt_engine_ctx_t *c, uint32_t main);
uint32_t eng_first_missing(ddt_engine_ctx_t *c, uint32_t main);
int eng_complete(ddt_engine_ctx_t *c, uint32_t main);
uint32_t eng_sub_by_id(ddt_engine_ctx_t *c, uint32_t main, const char *id,
    size_t len);

int eng_limits_ok(ddt_engine_ctx_t *c, uint32_t i, const ddt_json_t *v);
int eng_calendar_ok(const ddt_json_t *date);
uint32_t eng_validate(ddt_engine_ctx_t *c, uint32_t main);

void eng_say(ddt_engine_ctx_t *c, uint32_t item, ddt_step_t step,
    uint32_t n);
void eng_say_rule(ddt_engine_ctx_t *c, uint32_t item, uint32_t rule,
    uint32_t n);
void eng_log(ddt_engine_ctx_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- engine_extract.c ------------------------------------------------- */

/* Returns DDT_OK, or DDT_ENGINE_EFFECT (as 1) when ctx->effect was filled. */
int eng_extract_text(ddt_engine_ctx_t *c, uint32_t active, const char *text,
    size_t len, int dtmf, eng_found_t *f);
int eng_extract_values(ddt_engine_ctx_t *c, uint32_t active,
    const ddt_json_t *values, eng_found_t *f);
int eng_dtmf_value(ddt_engine_ctx_t *c, uint32_t item, const char *d,
    size_t len, ddt_json_t **out);
void eng_add_val(ddt_engine_ctx_t *c, uint32_t item, ddt_json_t *v,
    double conf, uint32_t layer, eng_val_t *out, uint32_t *n);
int eng_parse_item(ddt_engine_ctx_t *c, uint32_t item, const char *text,
    size_t len, ddt_match_t *m);
ddt_json_t *eng_normalise(ddt_engine_ctx_t *c, uint32_t item,
    const ddt_json_t *v);
int eng_run_layers(ddt_engine_ctx_t *c, uint32_t item, const char *text,
    size_t len, int allow_effect, int mi, eng_val_t *out, uint32_t *n,
    size_t *span_start, size_t *span_end, int *marker);
int eng_find_correction(ddt_engine_ctx_t *c, uint32_t main,
    const char *text, size_t len, eng_val_t *out, uint32_t *n);
int eng_parse_effect_result(ddt_engine_ctx_t *c, uint32_t item,
    const ddt_json_t *res, eng_val_t *out, uint32_t *n, uint32_t layer);

#endif
