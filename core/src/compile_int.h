/*
 * compile_int.h: the project compiler's shared state (compile.c: driver,
 * interning, flow, assembly; compile_ddt.c: DDTs and their items).
 */
#ifndef DDT_COMPILE_INT_H
#define DDT_COMPILE_INT_H

#include <ddt/ddt.h>

#include "expr.h"
#include "tmpl.h"

#define CC_PATH_MAX         4096
#define CC_MAX_NODES        100000
#define CC_MAX_PLACEHOLDERS 1000
#define CC_MAX_PROMPT       (1024 * 1024)
#define CC_JSON_DEPTH       256
#define CC_MAX_DIAGS        1000      /* diagnostics stored (all counted) */

/* A string -> u32 map (open addressing; keys are not owned). */
typedef struct {
    const char  *key;
    size_t       len;
    uint64_t     hash;
    uint32_t     val;
    int          used;
} cc_slot_t;

typedef struct {
    cc_slot_t   *slots;
    size_t       cap, count;
} cc_map_t;

/* What pass 1 learns of a DDT (for path checks before its emission). */
typedef struct {
    const char        *id;
    size_t             len;
    ddt_kind_t         kind;
    uint32_t           item;          /* ITEMS index */
    const ddt_json_t  *json;          /* NULL for a date's implicit part */
    int                implicit;      /* 0, or 1 + part (day 0, month 1, year 2) */
} cc_sub_t;

typedef struct {
    const char        *id;
    size_t             len;
    ddt_kind_t         kind;
    uint32_t           item;
    const ddt_json_t  *json;
    cc_sub_t          *subs;
    size_t             nsubs;
} cc_main_t;

typedef struct {
    const char        *id;
    size_t             len;
    const ddt_json_t  *json;
    cc_main_t         *mains;
    size_t             nmains;
    int               *main_of;       /* data[i] -> mains index or -1 */
    size_t             ndata;
    uint32_t           first_item, n_items;
} cc_ddt_t;

typedef struct {
    ddt_diags_t        *diags;
    int                 diags_capped;
    ddt_arena_t         arena;        /* scratch for everything */
    char                path[CC_PATH_MAX];
    size_t              plen;

    ddt_buf_t           sec[DDT_SEC_COUNT];
    cc_map_t            strings;      /* string -> offset */
    cc_map_t            paths;        /* dotted (or "\1" relative) -> PATHS */
    cc_map_t            regexes;      /* "<flags>:<pattern>" -> REGEXES */
    cc_map_t            node_ids;     /* node id -> index */
    cc_map_t            ddt_ids;      /* DDT id -> index */
    cc_map_t            vars;         /* variable names */
    cc_map_t            dyn;          /* SetVariable names, assign keys */
    cc_map_t            dynprefix;    /* every prefix of those */

    cc_ddt_t           *ddts;
    size_t              n_ddts;
    uint32_t            n_items;

    ddt_locale_t        locale;

    /* expression/template context */
    const cc_main_t    *cur_main;     /* for value.<part> */
    const cc_sub_t     *cur_sub;
    int                 in_validate;
} cc_t;

/* compile.c */
void     cc_error(cc_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void     cc_warn(cc_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
size_t   cc_push_key(cc_t *c, const char *key, size_t len);
size_t   cc_push_idx(cc_t *c, size_t i);
void     cc_pop(cc_t *c, size_t save);
void     cc_field_error(cc_t *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int      cc_map_get(const cc_map_t *m, const char *k, size_t len, uint32_t *v);
int      cc_map_put(cc_map_t *m, const char *k, size_t len, uint32_t v);

uint32_t cc_str(cc_t *c, const char *s, size_t len);
ddt_bstr_t cc_bstr(cc_t *c, const char *s, size_t len);
ddt_bstr_t cc_bstr_none(void);
uint32_t cc_rec(cc_t *c, ddt_section_t s, const void *rec, size_t size);
uint32_t cc_count(cc_t *c, ddt_section_t s, size_t size);
uint32_t cc_path_intern(cc_t *c, const ddt_seg_t *segs, size_t n, int rel);
uint32_t cc_regex(cc_t *c, const char *pat, size_t len, uint32_t flags,
    const cc_main_t *names_for, const cc_sub_t *sub_for, const char *what);

void     cc_check_fields(cc_t *c, const ddt_json_t *obj,
    const char *const *allowed);
const ddt_json_t *cc_get(const ddt_json_t *obj, const char *key);
int      cc_want_str(cc_t *c, const ddt_json_t *obj, const char *key,
    int required, const char **s, size_t *len);
int      cc_want_bool(cc_t *c, const ddt_json_t *obj, const char *key,
    int *out);
int      cc_want_uint(cc_t *c, const ddt_json_t *obj, const char *key,
    uint32_t max, uint32_t *out);
int      cc_want_num(cc_t *c, const ddt_json_t *obj, const char *key,
    double *out);

/* Templates and expressions at the current path (the field's own path). */
uint32_t cc_tmpl(cc_t *c, const ddt_json_t *s);
uint32_t cc_tmpl_field(cc_t *c, const ddt_json_t *obj, const char *key,
    int required);
void     cc_check_json_templates(cc_t *c, const ddt_json_t *v);
uint32_t cc_expr(cc_t *c, const char *src, size_t len,
    const ddt_json_t **konst);

/* compile_ddt.c */
void     cc_collect_ddts(cc_t *c, const ddt_json_t *ddts);
void     cc_compile_ddts(cc_t *c);
int      cc_data_path_kind(cc_t *c, const ddt_seg_t *segs, size_t n,
    ddt_kind_t *kind);

#endif
