/*
 * json_int.h: the core's private additions to the JSON layer (json.h):
 * the fast parser can tell where the items of one array stand in the text,
 * so the state codec can keep them as text (state.c, the turn ring).
 */
#ifndef DDT_JSON_INT_H
#define DDT_JSON_INT_H

#include <ddt/json.h>

/*
 * The items of the array that is the root object's member `key`: their
 * byte offsets in the parsed text, [start[i], end[i]).  n counts all of
 * them, even past max (then only max are filled).
 */
typedef struct {
    const char  *key;
    size_t       klen;
    size_t      *start, *end;
    size_t       max, n;
} ddt_json_spans_t;

ddt_json_t *ddt_json_parse_fast_spans(ddt_arena_t *a, const char *buf,
    size_t len, const ddt_json_limits_t *lim, ddt_jerr_t *err,
    ddt_json_spans_t *spans);

/* Shared by both parsers: fill err (position from the offset) and find the
 * first invalid UTF-8 sequence. */
void   ddt_jerr_at(ddt_jerr_t *err, const char *buf, size_t len, size_t off,
    const char *msg);
size_t ddt_utf8_bad_offset(const char *s, size_t len);
/* Four hex digits of a \u escape: 1 and the code unit, or 0. */
int    ddt_json_hex4(const char *s, unsigned *out);

#endif
