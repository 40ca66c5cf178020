/*
 * test_json.c: the strict JSON parser and the writer: what untrusted bodies
 * must be refused (SPEC 9.8) and that what we write reads back the same.
 */
#include <math.h>
#include <stdlib.h>

#include <ddt/json.h>
#include "t.h"

static ddt_arena_t  A;

static int
parses(const char *s, size_t len, unsigned depth)
{
    ddt_json_limits_t  lim = { depth };
    ddt_jerr_t         err;

    return ddt_json_parse(&A, s, len, &lim, &err) != NULL;
}

#define OK(s)   CHECK_MSG(parses(s, sizeof(s) - 1, 0), "should parse: %s", s)
#define BAD(s)  CHECK_MSG(!parses(s, sizeof(s) - 1, 0), "should fail: %s", s)

static void
roundtrip(const char *in, const char *want)
{
    ddt_jerr_t   err;
    ddt_json_t  *v = ddt_json_parse(&A, in, strlen(in), NULL, &err);
    ddt_buf_t    b;

    ddt_buf_init(&b);
    CHECK_MSG(v != NULL, "%s: %s", in, err.message);
    if (v) {
        ddt_json_write(&b, v);
        CHECK_STR(b.data, want);
    }
    ddt_buf_free(&b);
}

int
main(void)
{
    ddt_jerr_t   err;
    ddt_json_t  *v, *o;
    char         deep[300];
    int          i;

    ddt_arena_init(&A, 0);

    OK("{}");
    OK(" [1, 2.5, -3e2, true, false, null, \"x\"] \n");
    OK("\"\\ud83d\\ude00\"");                 /* a proper surrogate pair */
    OK("{\"a\":{\"a\":1}}");                  /* same key in nested objects */
    OK("\"caff\xc3\xa8\"");

    BAD("");
    BAD("\xEF\xBB\xBF{}");                     /* BOM */
    BAD("{} x");                               /* trailing bytes */
    BAD("{}{}");
    BAD("{} \"abc");                          /* unterminated token after */
    BAD("[1] \"x\\\"");
    BAD("\"a\" tru");
    BAD("1 2");
    BAD("[1,\v2]");                           /* not JSON white space */
    BAD("\f{}");
    OK("\"a\\\"b\" \n");
    BAD("{\"a\":1,\"a\":2}");                  /* duplicate key */
    BAD("\"\\ud800\"");                        /* lone high surrogate */
    BAD("\"\\udc00\"");                        /* lone low surrogate */
    BAD("\"\\ud800\\u0041\"");
    BAD("\"\xc0\xaf\"");                       /* overlong */
    BAD("\"\xed\xa0\x80\"");                   /* encoded surrogate */
    BAD("\"\xf4\x90\x80\x80\"");               /* above U+10FFFF */
    BAD("\"\xff\"");
    BAD("1e400");                              /* outside double range */
    BAD("-1e400");
    BAD("{\"a\":}");
    BAD("[1,]");
    BAD("// c\n{}");
    BAD("\"tab\there\"");                      /* raw control character */

    /* depth: 64 levels pass, 65 fail; a higher limit for projects */
    for (i = 0; i < 65; i++) {
        deep[i] = '[';
    }
    for (i = 0; i < 65; i++) {
        deep[65 + i] = ']';
    }
    CHECK(parses(deep + 1, 128, 0));
    CHECK(!parses(deep, 130, 0));
    CHECK(parses(deep, 130, 256));

    /* the error says where */
    v = ddt_json_parse(&A, "{\n  \"a\": tru }", 14, NULL, &err);
    CHECK(v == NULL);
    CHECK_INT(err.line, 2);

    roundtrip("{\"b\":1,\"a\":[1.5,-0,1e3,0.1]}", "{\"b\":1,\"a\":[1.5,0,1000,0.1]}");
    roundtrip("\"a\\\"b\\\\c\\n\\u0001\"", "\"a\\\"b\\\\c\\n\\u0001\"");
    roundtrip("123456789012345678", "1.2345678901234568e+17");
    roundtrip("3.141592653589793", "3.141592653589793");

    /* equality and mutation */
    v = ddt_json_parse(&A, "{\"x\":1,\"y\":{\"z\":[1,2]}}", 23, NULL, &err);
    o = ddt_json_parse(&A, "{\"y\":{\"z\":[1.0,2]},\"x\":1}", 25, NULL, &err);
    CHECK(v && o && ddt_json_equal(v, o));
    ddt_json_setz(&A, o, "x", ddt_json_num(&A, 2));
    CHECK(!ddt_json_equal(v, o));
    CHECK(ddt_json_del(o, "x", 1) == 1);
    CHECK(ddt_json_getz(o, "x") == NULL);
    CHECK(ddt_json_equal(ddt_json_clone(&A, v), v));
    CHECK(ddt_json_is_int(ddt_json_getz(v, "x")));

    ddt_arena_free(&A);
    return T_DONE();
}
