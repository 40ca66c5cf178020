/*
 * tmpl_parse.c: template parsing (SPEC 2, 9.6): splits a template into
 * literal and {path} parts; {{ and }} are literal braces and only a path
 * may stand inside braces.  Shared by the compiler (which stores the parts
 * in TMPLS/TPARTS) and by ddt_tmpl_render_json (free JSON at run time).
 * Rendering is in tmpl.c.
 */
#include <string.h>

#include "tmpl.h"


static int
t_id0(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
           || c == '$';
}


static int
t_id(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
           || (c >= '0' && c <= '9');
}


static int
push_part(ddt_arena_t *a, ddt_tmpl_part_t **parts, size_t *n, size_t *cap,
    ddt_tmpl_part_t *p)
{
    ddt_tmpl_part_t  *grown;

    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        grown = ddt_arena_alloc(a, *cap * sizeof(*grown));
        if (grown == NULL) {
            return DDT_ERROR;
        }
        if (*n) {
            memcpy(grown, *parts, *n * sizeof(*grown));
        }
        *parts = grown;
    }
    (*parts)[(*n)++] = *p;
    return DDT_OK;
}


int
ddt_tmpl_parse(ddt_arena_t *a, const char *s, size_t len, size_t max_paths,
    ddt_tmpl_part_t **parts, size_t *n, size_t *err_off, const char **err_msg)
{
    size_t            i, cap, lit_start, paths, j, k;
    ddt_buf_t         lit;
    ddt_tmpl_part_t   part;
    ddt_seg_t         segs[DDT_TMPL_MAX_SEGS];

    *parts = NULL;
    *n = 0;
    cap = 0;
    paths = 0;
    ddt_buf_init(&lit);
    lit_start = 0;
    i = 0;

#define FAIL(off_, msg_) do { *err_off = (off_); *err_msg = (msg_); \
        goto fail; } while (0)
#define FLUSH() do { if (lit.len) { \
        memset(&part, 0, sizeof(part)); \
        part.lit = ddt_arena_strndup(a, lit.data, lit.len); \
        part.lit_len = lit.len; part.off = lit_start; \
        if (part.lit == NULL || lit.oom \
            || push_part(a, parts, n, &cap, &part) != DDT_OK) \
            FAIL(lit_start, "out of memory"); \
        ddt_buf_reset(&lit); } } while (0)

    while (i < len) {
        if (s[i] == '{' && i + 1 < len && s[i + 1] == '{') {
            if (lit.len == 0) lit_start = i;
            ddt_buf_addc(&lit, '{');
            i += 2;
            continue;
        }
        if (s[i] == '}') {
            if (i + 1 < len && s[i + 1] == '}') {
                if (lit.len == 0) lit_start = i;
                ddt_buf_addc(&lit, '}');
                i += 2;
                continue;
            }
            FAIL(i, "unmatched '}' (write '}}' for a literal brace)");
        }
        if (s[i] != '{') {
            if (lit.len == 0) lit_start = i;
            ddt_buf_addc(&lit, s[i]);
            i++;
            continue;
        }

        /* a placeholder: { path } */
        FLUSH();
        memset(&part, 0, sizeof(part));
        part.off = i;
        j = i + 1;
        while (j < len && s[j] == ' ') j++;
        k = 0;
        for ( ;; ) {
            if (j >= len || !t_id0((unsigned char) s[j])) {
                FAIL(j, j >= len ? "unterminated '{'"
                     : "only a path may stand inside braces");
            }
            if (k == DDT_TMPL_MAX_SEGS) {
                FAIL(j, "path too long (limit 64 segments)");
            }
            segs[k].s = s + j;
            j++;
            while (j < len && t_id((unsigned char) s[j])) j++;
            segs[k].len = (size_t) (s + j - segs[k].s);
            k++;
            if (j < len && s[j] == '.') {
                j++;
                continue;
            }
            break;
        }
        while (j < len && s[j] == ' ') j++;
        if (j >= len) {
            FAIL(i, "unterminated '{'");
        }
        if (s[j] != '}') {
            FAIL(j, "only a path may stand inside braces");
        }
        if (++paths > max_paths) {
            FAIL(i, "too many placeholders in one template (limit 1000)");
        }
        part.segs = ddt_arena_alloc(a, k * sizeof(ddt_seg_t));
        if (part.segs == NULL) {
            FAIL(i, "out of memory");
        }
        memcpy(part.segs, segs, k * sizeof(ddt_seg_t));
        part.nsegs = k;
        if (push_part(a, parts, n, &cap, &part) != DDT_OK) {
            FAIL(i, "out of memory");
        }
        i = j + 1;
    }
    FLUSH();
    ddt_buf_free(&lit);
    return DDT_OK;

fail:
    ddt_buf_free(&lit);
    return DDT_ERROR;

#undef FAIL
#undef FLUSH
}
