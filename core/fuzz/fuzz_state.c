/*
 * fuzz_state.c: libFuzzer target for the session state codec: any bytes
 * either load or are refused with an error value; a state that loads saves,
 * loads again and saves to the same bytes, and its GET description is
 * written without fault.
 */
#include <stdlib.h>
#include <string.h>

#include <ddt/ddt.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ddt_session_t  *s, *s2;
    ddt_err_t       err;
    ddt_buf_t       b, b2;

    s = NULL;
    if (ddt_session_load((const char *) data, size, &s, &err) != DDT_OK) {
        if (s != NULL || err.code == NULL) {
            abort();
        }
        return 0;
    }

    ddt_buf_init(&b);
    ddt_buf_init(&b2);
    if (ddt_session_save(s, &b) != DDT_OK) {
        abort();
    }
    if (ddt_session_load(b.data, b.len, &s2, &err) != DDT_OK) {
        abort();
    }
    if (ddt_session_save(s2, &b2) != DDT_OK
        || b.len != b2.len || memcmp(b.data, b2.data, b.len) != 0)
    {
        abort();
    }
    ddt_buf_reset(&b);
    if (ddt_session_describe(s2, &b) != DDT_OK) {
        abort();
    }

    ddt_buf_free(&b);
    ddt_buf_free(&b2);
    ddt_session_free(s2);
    ddt_session_free(s);
    return 0;
}
