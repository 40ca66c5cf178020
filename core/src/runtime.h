/*
 * runtime.h: the internal interfaces between the core's parts.  Owners:
 *   memory.c    memory paths (get/set, $confidence/$layer via $meta)
 *   expr.c      expression tokenizer, parser, bytecode, VM (SPEC 5, 9.6)
 *   tmpl.c      template parse (compile time) and render (run time)
 *   tz.c        local time for a project timezone (built-in rules, no I/O)
 *   extract/    built-in parsers per kind and locale, value formatting
 * The engine and orchestrator (engine.c, orchestrator.c) use these.
 */
#ifndef DDT_RUNTIME_H
#define DDT_RUNTIME_H

#include <ddt/ddt.h>

/* ---- memory.c --------------------------------------------------------- */

/* Value at a compiled path (PATHS index) in the memory object, or NULL.
 * "d.n.$confidence" / "d.n.$layer" read d.$meta.n.confidence / .layer;
 * "d.n.s.$confidence" reads d.$meta.n.sub.s.confidence. */
const ddt_json_t *ddt_mem_get(const ddt_project_t *p, const ddt_json_t *mem,
    uint32_t path);
/* Same with segments given as strings (runtime-built paths). */
const ddt_json_t *ddt_mem_get_segs(const ddt_json_t *mem,
    const char *const *segs, const size_t *lens, size_t n);
/* Dotted path "a.b.c". */
const ddt_json_t *ddt_mem_get_dotted(const ddt_json_t *mem, const char *path,
    size_t len);
/* Set a value, creating intermediate objects (replacing non-objects). */
int ddt_mem_set(ddt_arena_t *a, const ddt_project_t *p, ddt_json_t *mem,
    uint32_t path, ddt_json_t *v);
int ddt_mem_set_dotted(ddt_arena_t *a, ddt_json_t *mem, const char *path,
    size_t len, ddt_json_t *v);

/* ---- tz.c ------------------------------------------------------------- */

typedef struct {
    int year, month, day, hour, minute, second;
} ddt_localtime_t;

/* 1 if the zone is supported (IANA names with built-in rules). */
int ddt_tz_known(const char *tz);
void ddt_tz_local(const char *tz, int64_t now_ms, ddt_localtime_t *out);

/* ---- expr.c ----------------------------------------------------------- */

typedef struct {
    const ddt_json_t  *memory;
    const ddt_json_t  *value;        /* `value` inside validate rules, or NULL */
    int64_t            now_ms;
    const char        *timezone;     /* IANA name */
    ddt_arena_t       *arena;        /* results are allocated here */
} ddt_eval_ctx_t;

/* Evaluate a compiled expression.  Never fails: runtime errors give null. */
const ddt_json_t *ddt_expr_eval(const ddt_project_t *p, uint32_t expr,
    const ddt_eval_ctx_t *ctx);
/* Only JSON true is true (SPEC 9.6). */
int ddt_expr_true(const ddt_project_t *p, uint32_t expr,
    const ddt_eval_ctx_t *ctx);

/* ---- tmpl.c ----------------------------------------------------------- */

/* Render a compiled template into out (appends). */
int ddt_tmpl_render(const ddt_project_t *p, uint32_t tmpl,
    const ddt_json_t *mem, ddt_locale_t loc, ddt_buf_t *out);
/* The same for a url: inserted values are percent-encoded. */
int ddt_tmpl_render_url(const ddt_project_t *p, uint32_t tmpl,
    const ddt_json_t *mem, ddt_locale_t loc, ddt_buf_t *out);
/*
 * Render free JSON with templates inside strings (BackendCall body, Custom
 * params, headers): a string that is exactly one {path} becomes the typed
 * value at path; other strings interpolate.  Returns a new tree.
 */
ddt_json_t *ddt_tmpl_render_json(ddt_arena_t *a, const ddt_json_t *src,
    const ddt_json_t *mem, ddt_locale_t loc);

/* ---- extract/ (parsers and formatting) ------------------------------- */

/* One match of a built-in parser: value in the SPEC 3.1 form and the byte
 * span [start, end) in the input it came from. */
typedef struct {
    ddt_json_t   *value;
    size_t        start, end;
    int           marker;   /* the span carries the kind's marker (SPEC 9.2):
                               month name or date separators, time word or ':',
                               currency, '@'/at/chiocciola, 9+ digits or '+',
                               fiscal code / IBAN shape, a choice synonym */
} ddt_match_t;

typedef struct {
    const char   *value;              /* choice value */
    const char  **synonyms;           /* n_synonyms strings */
    size_t        n_synonyms;
} ddt_choice_t;

typedef struct {
    ddt_locale_t         locale;
    int                  today_day, today_month, today_year;  /* for oggi/today */
    const ddt_choice_t  *choices;     /* kind choice */
    size_t               n_choices;
} ddt_parse_opts_t;

/*
 * Run the built-in parser of `kind` on text[0, len).  Returns 1 and fills m
 * with the leftmost-longest candidate, 0 when there is no value (including
 * ambiguity: two different choices).  Values allocated in a.
 */
int ddt_parse(ddt_kind_t kind, const ddt_parse_opts_t *o, const char *text,
    size_t len, ddt_arena_t *a, ddt_match_t *m);

/* Yes/no lexicon of the locale, whole words: 1 yes, 0 no, -1 neither.
 * *end gets the byte offset after the word (for "no, il giorno è 13"). */
int ddt_parse_yesno_word(ddt_locale_t loc, const char *text, size_t len,
    size_t *start, size_t *end);

/* Format a value for a prompt (SPEC 9.6); kind NONE formats by JSON type. */
int ddt_format_value(ddt_kind_t kind, ddt_locale_t loc, const ddt_json_t *v,
    ddt_buf_t *out);

/*
 * Text folding for matching: NFC, case fold, accents stripped, with a map
 * from each folded byte back to the byte offset in the original (utf8proc).
 */
typedef struct {
    char     *s;            /* folded, NUL-terminated */
    size_t    len;
    size_t   *orig;         /* len + 1 entries: folded byte -> original offset */
} ddt_folded_t;

int ddt_text_fold(ddt_arena_t *a, const char *text, size_t len,
    ddt_folded_t *out);

#endif
