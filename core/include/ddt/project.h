/*
 * ddt/project.h: the compiled project block and the read-only view of it.
 *
 * The compiler (src/compile*.c) writes one contiguous, relocatable block:
 * a header, then sections of fixed-size records that refer to each other by
 * index and to strings by (offset, length) into the string section.  There
 * are no pointers in the block, so a host can copy it anywhere (the nginx
 * module keeps it in shared memory) and every process reads it in place.
 * Loading a block (src/block.c) validates magic, version, size, checksum and
 * every offset and index, and builds a small per-process view: section base
 * pointers plus the PCRE2 regexes compiled (and JIT-compiled) once per
 * process.  Nothing in the view is written after load.
 */
#ifndef DDT_PROJECT_H
#define DDT_PROJECT_H

#include <ddt/base.h>
#include <ddt/json.h>

#define DDT_BLOCK_MAGIC    0x42544444u       /* "DDTB" little-endian */
#define DDT_BLOCK_VERSION  1u

/* A string: offset/length into the string section (always NUL-terminated
 * there).  off == DDT_NONE means absent. */
typedef struct { uint32_t off, len; } ddt_bstr_t;

/* A run of records in some section: [first, first + count). */
typedef struct { uint32_t first, count; } ddt_brange_t;

typedef enum {
    DDT_SEC_STRINGS = 0,   /* bytes */
    DDT_SEC_NODES,         /* ddt_bnode_t     flow nodes */
    DDT_SEC_EDGES,         /* ddt_bedge_t */
    DDT_SEC_TASKS,         /* ddt_btask_t     all tasks, node by node, in order */
    DDT_SEC_ASSIGNS,       /* ddt_bassign_t   BackendCall assign pairs */
    DDT_SEC_DDTS,          /* ddt_bddt_t */
    DDT_SEC_ITEMS,         /* ddt_bitem_t     main nodes of a DDT contiguous,
                                              sub-data of a main node contiguous */
    DDT_SEC_LAYERS,        /* ddt_blayer_t */
    DDT_SEC_VALIDATES,     /* ddt_bvalidate_t */
    DDT_SEC_CHOICES,       /* ddt_bchoice_t */
    DDT_SEC_SYNONYMS,      /* ddt_bstr_t */
    DDT_SEC_STEPLISTS,     /* ddt_brange_t    a prompt list: range in PROMPTS */
    DDT_SEC_PROMPTS,       /* uint32_t        template index */
    DDT_SEC_TMPLS,         /* ddt_btmpl_t */
    DDT_SEC_TPARTS,        /* ddt_btpart_t */
    DDT_SEC_PATHS,         /* ddt_brange_t    a memory path: range in SEGS */
    DDT_SEC_SEGS,          /* ddt_bstr_t      path segments */
    DDT_SEC_EXPRS,         /* ddt_bexpr_t */
    DDT_SEC_CODE,          /* bytes: expression bytecode (see src/expr.h) */
    DDT_SEC_REGEXES,       /* ddt_bregex_t */
    DDT_SEC_COUNT
} ddt_section_t;

typedef struct { uint32_t off, count; } ddt_bsection_t;  /* off from block start */

/* Record size of each section (1 for the byte sections); block.c. */
extern const size_t ddt_block_rec_size[DDT_SEC_COUNT];

/* The header's checksum: FNV-1a 64 of the whole block with the checksum
 * field read as zeros; block.c, used by the compiler and the loader. */
uint64_t ddt_block_checksum(const uint8_t *p, size_t len);

typedef struct {
    uint32_t        magic;
    uint32_t        version;
    uint32_t        size;              /* whole block, header included */
    uint32_t        flags;
    uint64_t        checksum;          /* FNV-1a 64 of the whole block, header
                                          included, with these 8 bytes taken
                                          as zero */
    ddt_bstr_t      name, label, locale_name, timezone;  /* label = "version" field */
    uint32_t        locale;            /* ddt_locale_t */
    uint32_t        start_node;
    ddt_bstr_t      variables;         /* JSON text of the initial memory object */
    ddt_bsection_t  sec[DDT_SEC_COUNT];
} ddt_bheader_t;

typedef struct {
    ddt_bstr_t      id;
    ddt_brange_t    tasks;             /* in TASKS */
    ddt_brange_t    edges;             /* in EDGES, file order */
} ddt_bnode_t;

typedef struct {
    uint32_t        to;                /* node index */
    uint32_t        cond;              /* expr index, DDT_NONE = always true;
                                          constant conditions are folded: an
                                          edge that is always false is dropped */
} ddt_bedge_t;

typedef enum { DDT_ONERROR_CONTINUE = 0, DDT_ONERROR_FAIL } ddt_onerror_t;

typedef struct {
    uint32_t        type;              /* ddt_task_type_t */
    uint32_t        node;              /* owning flow node */
    /* templates (DDT_NONE when absent):
       Say: text; EndCall: text; Transfer: text, queue(a);
       Email: to(a), subject(b), text=body; SMS: to(a), text;
       BackendCall: url(a) */
    uint32_t        text, a, b;
    uint32_t        ddt;               /* GetData */
    uint32_t        expr;              /* SetVariable expression, or DDT_NONE */
    uint32_t        path;              /* SetVariable target (PATHS) */
    ddt_bstr_t      name;              /* Custom name; BackendCall method (upper case) */
    ddt_bstr_t      json;              /* SetVariable constant value; BackendCall body;
                                          Custom params: JSON text, strings inside
                                          are templates (checked at compile time) */
    ddt_bstr_t      headers;           /* BackendCall headers: JSON object text */
    ddt_brange_t    assigns;           /* in ASSIGNS */
    uint32_t        timeout_ms;        /* BackendCall, default 3000 */
    uint32_t        on_error;          /* ddt_onerror_t */
} ddt_btask_t;

typedef struct {
    uint32_t        path;              /* memory path (PATHS) */
    ddt_bstr_t      pointer;           /* RFC 6901 JSON pointer into the response */
} ddt_bassign_t;

typedef struct {
    ddt_bstr_t      id;
    uint32_t        mixed_initiative;
    ddt_brange_t    items;             /* main data nodes, in ITEMS, file order */
    ddt_brange_t    all_items;         /* every item of the DDT (mains first, then
                                          each main's sub-data): one contiguous run */
} ddt_bddt_t;

typedef struct {
    ddt_bstr_t      id, label;         /* label defaults to the id */
    uint32_t        kind;              /* ddt_kind_t */
    uint32_t        ddt;               /* owning DDT */
    uint32_t        parent;            /* main item index, DDT_NONE for a main node */
    uint32_t        implicit;          /* 1: a date's implicit day/month/year */
    ddt_brange_t    subs;              /* sub-data items, in ITEMS */
    uint32_t        required;          /* 1/0 */
    uint32_t        confirm;           /* ddt_confirm_t */
    uint32_t        sensitive;
    uint32_t        has_min, has_max;
    double          min, max;
    uint32_t        min_len, max_len;  /* DDT_NONE when absent */
    uint32_t        pattern;           /* REGEXES index (anchored, case-sensitive), DDT_NONE */
    double          confidence_threshold;   /* default 0.7 */
    ddt_brange_t    layers;            /* in LAYERS; never empty (default parser) */
    ddt_brange_t    validates;         /* in VALIDATES */
    ddt_brange_t    choices;           /* in CHOICES */
    uint32_t        steps[DDT_STEP_COUNT];  /* STEPLISTS index, DDT_NONE if absent or empty */
    uint32_t        limits[DDT_EV_COUNT];   /* sub-data: inherited from the parent */
    uint32_t        path;              /* memory path of the value: d.n or d.n.s */
} ddt_bitem_t;

typedef struct {
    uint32_t        type;              /* ddt_layer_type_t */
    uint32_t        regex;             /* REGEXES index for regex layers */
    ddt_bstr_t      service;           /* ner/llm */
    uint32_t        timeout_ms;        /* ner/llm, default 3000 */
    double          confidence;        /* regex: default 1.0 */
} ddt_blayer_t;

typedef struct {
    uint32_t        cond;              /* expr index */
    uint32_t        steplist;          /* prompts to say (STEPLISTS) or DDT_NONE */
    uint32_t        text;              /* template when the rule has "text", else DDT_NONE */
    ddt_bstr_t      step;              /* step name for the message ("invalid" for text) */
    uint32_t        sub;               /* sub-data item index, DDT_NONE = whole value */
} ddt_bvalidate_t;

typedef struct {
    ddt_bstr_t      value;
    ddt_brange_t    synonyms;          /* in SYNONYMS (the value itself is always one too) */
} ddt_bchoice_t;

typedef struct {
    ddt_brange_t    parts;             /* in TPARTS */
    uint32_t        single_path;       /* PATHS index when the template is exactly
                                          one {path}, else DDT_NONE */
} ddt_btmpl_t;

typedef struct {
    ddt_bstr_t      lit;               /* literal text (braces unescaped), or absent */
    uint32_t        path;              /* PATHS index for a {path}, else DDT_NONE */
    uint32_t        kind;              /* ddt_kind_t of the value when the compiler
                                          knows it (a DDT data path), else NONE */
} ddt_btpart_t;

typedef struct {
    uint32_t        code_off, code_len;  /* in CODE */
    uint32_t        max_stack;
} ddt_bexpr_t;

typedef enum {
    DDT_RE_ANCHORED  = 1,              /* `pattern`: whole value, case-sensitive */
    DDT_RE_CASELESS  = 2
} ddt_regex_flags_t;

typedef struct {
    ddt_bstr_t      pattern;
    uint32_t        flags;
} ddt_bregex_t;

/* The per-process view of a loaded block (src/block.c). */
typedef struct ddt_project_s {
    const uint8_t        *base;
    size_t                size;
    const ddt_bheader_t  *hdr;
    const char           *strings;
    const ddt_bnode_t    *nodes;      uint32_t n_nodes;
    const ddt_bedge_t    *edges;      uint32_t n_edges;
    const ddt_btask_t    *tasks;      uint32_t n_tasks;
    const ddt_bassign_t  *assigns;    uint32_t n_assigns;
    const ddt_bddt_t     *ddts;       uint32_t n_ddts;
    const ddt_bitem_t    *items;      uint32_t n_items;
    const ddt_blayer_t   *layers;     uint32_t n_layers;
    const ddt_bvalidate_t *validates; uint32_t n_validates;
    const ddt_bchoice_t  *choices;    uint32_t n_choices;
    const ddt_bstr_t     *synonyms;   uint32_t n_synonyms;
    const ddt_brange_t   *steplists;  uint32_t n_steplists;
    const uint32_t       *prompts;    uint32_t n_prompts;
    const ddt_btmpl_t    *tmpls;      uint32_t n_tmpls;
    const ddt_btpart_t   *tparts;     uint32_t n_tparts;
    const ddt_brange_t   *paths;      uint32_t n_paths;
    const ddt_bstr_t     *segs;       uint32_t n_segs;
    const ddt_bexpr_t    *exprs;      uint32_t n_exprs;
    const uint8_t        *code;       uint32_t code_len;
    const ddt_bregex_t   *regexdefs;  uint32_t n_regexes;
    void                **regexes;    /* pcre2_code_8 *, one per REGEXES entry */
    void                 *match_ctx;  /* pcre2_match_context_8 * with limits */
    char                  checksum_hex[17];
} ddt_project_t;

/* A string of the block, or NULL when absent. */
static inline const char *
ddt_bs(const ddt_project_t *p, ddt_bstr_t s)
{
    return s.off == DDT_NONE ? NULL : p->strings + s.off;
}

#endif
