/*
 * fuzz_json.c: libFuzzer target for the strict JSON parsers: any bytes
 * either parse or fail cleanly; what parses writes out and parses back
 * equal; the yajl parser and the fast one (json_fast.c) accept the same
 * texts and build the same trees.
 */
#include <stdlib.h>
#include <string.h>

#include <ddt/json.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ddt_arena_t        a;
    ddt_jerr_t         err, ferr;
    ddt_json_t        *v, *w, *f;
    ddt_buf_t          b, fb;
    ddt_json_limits_t  lim;

    ddt_arena_init(&a, 0);
    memset(&lim, 0, sizeof(lim));
    lim.max_depth = size > 0 && (data[0] & 1) ? 8 : 0;
    v = ddt_json_parse(&a, (const char *) data, size, &lim, &err);
    f = ddt_json_parse_fast(&a, (const char *) data, size, &lim, &ferr);
    /* one known difference: yajl takes a value followed by an unterminated
     * string ("{} \"abc") as complete; the fast parser refuses it */
    if ((v == NULL) != (f == NULL)
        && !(v != NULL && strcmp(ferr.message, "trailing garbage") == 0))
    {
        abort();
    }
    if (v && f) {
        ddt_buf_init(&b);
        ddt_buf_init(&fb);
        ddt_json_write(&b, v);
        ddt_json_write(&fb, f);
        if (b.len != fb.len || memcmp(b.data, fb.data, b.len) != 0
            || !ddt_json_equal(v, f))
        {
            abort();
        }
        w = ddt_json_parse_fast(&a, b.data, b.len, NULL, &err);
        if (w == NULL || !ddt_json_equal(v, w)) {
            abort();
        }
        ddt_buf_free(&b);
        ddt_buf_free(&fb);
    }
    ddt_arena_free(&a);
    return 0;
}
