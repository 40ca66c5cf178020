/*
 * expr.h: the expression compiler's interface (used by the project
 * compiler) and the bytecode format of the CODE section (read by the VM in
 * expr.c and checked by the block loader).  Evaluation itself is declared in
 * runtime.h (ddt_expr_eval, ddt_expr_true).
 *
 * Bytecode: a stack machine.  Each instruction is one opcode byte followed
 * by its operands, little-endian, unaligned:
 *   u32  = 4 bytes, f64 = 8 bytes (IEEE 754 as stored by memcpy).
 * Jump targets are byte offsets from the start of the expression's code and
 * always point forward, so every program terminates.  The VM checks every
 * operand and stack access at run time as well: a corrupt program yields
 * null, never a crash.
 */
#ifndef DDT_EXPR_H
#define DDT_EXPR_H

#include "runtime.h"

typedef enum {
    DDT_OP_NULL = 1,          /* push null */
    DDT_OP_TRUE,
    DDT_OP_FALSE,
    DDT_OP_NUM,               /* f64: push a number */
    DDT_OP_STR,               /* u32 off, u32 len: push a string (STRINGS) */
    DDT_OP_PATH,              /* u32 path: push the memory value (or null) */
    DDT_OP_VALUE,             /* push `value` (or null) */
    DDT_OP_VALUE_PATH,        /* u32 path: push value.<segs> (or null) */
    DDT_OP_EQ,                /* binary operators: pop b, pop a, push a op b */
    DDT_OP_NE,
    DDT_OP_LT,
    DDT_OP_LE,
    DDT_OP_GT,
    DDT_OP_GE,
    DDT_OP_ADD,
    DDT_OP_SUB,
    DDT_OP_MUL,
    DDT_OP_DIV,
    DDT_OP_MOD,
    DDT_OP_NOT,               /* unary: pop a, push op a */
    DDT_OP_NEG,
    DDT_OP_BOOL,              /* pop a, push (a === true) */
    DDT_OP_AND,               /* u32 target: top not true -> replace by false
                                 and jump; else pop */
    DDT_OP_OR,                /* u32 target: top true -> jump (keeps true);
                                 else pop */
    DDT_OP_IN,                /* u32 n: pop n items and a, push a in items */
    DDT_OP_EXISTS,            /* pop a, push a is present and not null */
    DDT_OP_LEN,
    DDT_OP_TODAY,             /* push {day,month,year} */
    DDT_OP_NOW,               /* push {day,month,year,hour,minute} */
    DDT_OP_AGE,
    DDT_OP_LOWER,
    DDT_OP_UPPER,
    DDT_OP_MATCH,             /* u32 regex: pop s, push matches(s) */
    DDT_OP_GET,               /* u32 off, u32 len: pop o, push o.<key> or
                                 null (member of a call's result:
                                 now().hour) */
    DDT_OP_END_
} ddt_opcode_t;

#define DDT_EXPR_MAX_DEPTH   256
#define DDT_EXPR_MAX_STACK   65536

/* A path segment as written in the source. */
typedef struct {
    const char  *s;
    size_t       len;
} ddt_seg_t;

/*
 * What the project compiler lends the expression compiler: interning of
 * strings, paths and regexes into its sections, path checking, and error
 * reporting (with the 1-based column in the expression source).
 */
typedef struct {
    void         *ud;
    ddt_arena_t  *arena;          /* scratch: AST and folded constants */
    ddt_buf_t    *code;           /* CODE section: bytecode is appended */
    int           allow_value;    /* inside a validate rule */
    /* Check and intern a path; value_rel: segments after `value`.
     * Returns a PATHS index, or DDT_NONE after reporting an error. */
    uint32_t    (*path)(void *ud, const ddt_seg_t *segs, size_t n,
                        int value_rel, unsigned col);
    /* Check and intern a `matches` pattern: REGEXES index or DDT_NONE. */
    uint32_t    (*regex)(void *ud, const char *pat, size_t len, unsigned col);
    /* Intern a string: its offset in STRINGS. */
    uint32_t    (*str)(void *ud, const char *s, size_t len);
    void        (*error)(void *ud, unsigned col, const char *msg);
} ddt_expr_cc_t;

/*
 * Compile one expression.  On success fills out (code_off/code_len relative
 * to the CODE section, max_stack) and sets *konst to the folded constant
 * when the whole expression is constant (else NULL).  Returns DDT_ERROR
 * after reporting at least one error through cc->error.
 */
int ddt_expr_compile(ddt_expr_cc_t *cc, const char *src, size_t len,
    ddt_bexpr_t *out, const ddt_json_t **konst);

/*
 * Check a program of the CODE section: known opcodes, operands inside the
 * code, forward jumps, indexes below the given counts.  0 = fine.
 */
int ddt_expr_verify(const uint8_t *code, size_t len, uint32_t n_paths,
    uint32_t n_regexes, uint32_t strings_len, char *err, size_t errlen);

/* 1-based column (in code points) of byte offset off in s. */
unsigned ddt_src_column(const char *s, size_t off);

#endif
