/*
 * fuzz_json.c: libFuzzer target for the strict JSON parser: any bytes either
 * parse or fail cleanly; what parses writes out and parses back equal.
 */
#include <stdlib.h>

#include <ddt/json.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ddt_arena_t   a;
    ddt_jerr_t    err;
    ddt_json_t   *v, *w;
    ddt_buf_t     b;

    ddt_arena_init(&a, 0);
    v = ddt_json_parse(&a, (const char *) data, size, NULL, &err);
    if (v) {
        ddt_buf_init(&b);
        ddt_json_write(&b, v);
        w = ddt_json_parse(&a, b.data, b.len, NULL, &err);
        if (w == NULL || !ddt_json_equal(v, w)) {
            abort();
        }
        ddt_buf_free(&b);
    }
    ddt_arena_free(&a);
    return 0;
}
