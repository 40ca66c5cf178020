/*
 * test_block.c: loading compiled blocks (ddt/project.h): a good block loads;
 * truncated blocks, bad magic, version, size and checksum are rejected;
 * flipped bytes anywhere are rejected by the checksum; and with the
 * checksum recomputed (a block corrupted before it was summed) every record
 * check holds: the load either fails with a message or gives a view whose
 * every expression, template and path can be used without a crash.
 */
#include <stddef.h>
#include <stdlib.h>

#include <ddt/ddt.h>
#include "runtime.h"
#include "t.h"

static const char *project =
    "{\"format\":\"ddt-project/1\",\"name\":\"b\",\"locale\":\"en-US\","
    "\"variables\":{\"brand\":\"ACME\",\"n\":3},"
    "\"flow\":{\"start\":\"a\",\"nodes\":["
    "{\"id\":\"a\",\"tasks\":[{\"type\":\"SayMessage\",\"text\":\"Hi {brand} {{x}}\"},"
    "{\"type\":\"GetData\",\"ddt\":\"c\"},"
    "{\"type\":\"SetVariable\",\"name\":\"k\",\"value\":\"lower(brand) + \\\"x\\\"\"},"
    "{\"type\":\"BackendCall\",\"method\":\"post\",\"url\":\"/x/{c.name}\","
    "\"body\":{\"a\":\"{c.born}\"},\"assign\":{\"r.id\":\"/id\"}}]},"
    "{\"id\":\"b\",\"tasks\":[{\"type\":\"EndCall\",\"text\":\"Bye {c.name} {r.id}\"}]}],"
    "\"edges\":[{\"from\":\"a\",\"to\":\"b\",\"condition\":"
    "\"c.$status == \\\"ok\\\" && n in [1, 2, 3] && matches(brand, \\\"^A\\\")\"},"
    "{\"from\":\"a\",\"to\":\"b\"}]},"
    "\"ddts\":{\"c\":{\"data\":["
    "{\"id\":\"name\",\"pattern\":\"[A-Z][a-z]+\",\"extract\":[{\"type\":\"regex\","
    "\"pattern\":\"(?<value>[a-z]+)\"},{\"type\":\"parser\"}],"
    "\"steps\":{\"start\":[\"Name?\"],\"noMatch\":[\"Again?\",\"Once more?\"]}},"
    "{\"id\":\"color\",\"kind\":\"choice\",\"choices\":[{\"value\":\"red\","
    "\"synonyms\":[\"rosso\"]}],\"steps\":{\"start\":[\"Color?\"]}},"
    "{\"id\":\"born\",\"kind\":\"date\",\"confirm\":\"always\","
    "\"validate\":[{\"condition\":\"value <= today()\",\"step\":\"future\"}],"
    "\"steps\":{\"start\":[\"Born?\"],\"confirmation\":[\"{c.born}?\"],"
    "\"future\":[\"Not in the future\"]}}]}}}";

static uint8_t *
compile_ok(size_t *len)
{
    ddt_diags_t  d;
    uint8_t     *b = NULL;
    size_t       i;

    ddt_diags_init(&d);
    if (ddt_compile(project, strlen(project), &d, &b, len) != DDT_OK) {
        for (i = 0; i < d.n; i++) {
            fprintf(stderr, "%s: %s\n", d.items[i].path, d.items[i].message);
        }
    }
    ddt_diags_free(&d);
    return b;
}

/* FNV-1a 64 over the block with the checksum field as zeros (project.h) */
static void
reseal(uint8_t *b, size_t len)
{
    ddt_bheader_t  h;
    uint64_t       sum = 0xcbf29ce484222325ULL;
    size_t         i;

    memcpy(&h, b, sizeof(h));
    h.checksum = 0;
    memcpy(b, &h, sizeof(h));
    for (i = 0; i < len; i++) {
        sum ^= b[i];
        sum *= 0x100000001b3ULL;
    }
    h.checksum = sum;
    memcpy(b, &h, sizeof(h));
}

/* Use everything a loaded view offers. */
static void
exercise(const ddt_project_t *p)
{
    ddt_arena_t      a;
    ddt_eval_ctx_t   ctx;
    ddt_json_t      *mem;
    ddt_jerr_t       je;
    ddt_buf_t        out;
    uint32_t         i;
    const char      *m = "{\"brand\":\"ACME\",\"n\":3,\"c\":{\"name\":\"Bob\","
                          "\"born\":{\"day\":1,\"month\":2,\"year\":1990}}}";

    ddt_arena_init(&a, 0);
    mem = ddt_json_parse(&a, m, strlen(m), NULL, &je);
    memset(&ctx, 0, sizeof(ctx));
    ctx.memory = mem;
    ctx.value = ddt_json_get(ddt_json_getz(mem, "c"), "born", 4);
    ctx.now_ms = 1795694400000LL;
    ctx.arena = &a;
    for (i = 0; i < p->n_exprs; i++) {
        ddt_expr_eval(p, i, &ctx);
    }
    ddt_buf_init(&out);
    for (i = 0; i < p->n_tmpls; i++) {
        ddt_tmpl_render(p, i, mem, DDT_LOCALE_EN, &out);
    }
    for (i = 0; i < p->n_paths; i++) {
        ddt_mem_get(p, mem, i);
    }
    ddt_buf_free(&out);
    ddt_arena_free(&a);
}

static void
test_good(const uint8_t *b, size_t len)
{
    ddt_project_t  *p;
    char            err[128];

    CHECK(ddt_project_load(b, len, &p, err, sizeof(err)) == DDT_OK);
    if (p == NULL) {
        fprintf(stderr, "load: %s\n", err);
        return;
    }
    CHECK_INT(strlen(p->checksum_hex), 16);
    CHECK_INT(p->n_regexes, 3);        /* pattern, regex layer, matches() */
    CHECK(p->regexes != NULL && p->regexes[0] != NULL);
    exercise(p);
    ddt_project_free(p);
}

static int
load_fails(const uint8_t *b, size_t len, char *err, size_t errlen)
{
    ddt_project_t  *p = NULL;
    int             rc;

    rc = ddt_project_load(b, len, &p, err, errlen);
    if (rc == DDT_OK) {
        exercise(p);
        ddt_project_free(p);
        return 0;
    }
    return p == NULL && err[0] != '\0';
}

static void
test_header(const uint8_t *good, size_t len)
{
    uint8_t        *b;
    ddt_bheader_t   h;
    char            err[128];
    size_t          n;

    b = malloc(len + 16);
    /* truncated at every length */
    for (n = 0; n < len; n++) {
        memcpy(b, good, n);
        CHECK_MSG(load_fails(b, n, err, sizeof(err)), "truncated at %zu", n);
    }
    /* bad magic, version, size */
    memcpy(b, good, len);
    memcpy(&h, b, sizeof(h));
    h.magic ^= 1;
    memcpy(b, &h, sizeof(h));
    CHECK(load_fails(b, len, err, sizeof(err)) && strstr(err, "magic"));
    memcpy(b, good, len);
    h.magic ^= 1;
    h.version = 2;
    memcpy(b, &h, sizeof(h));
    CHECK(load_fails(b, len, err, sizeof(err)) && strstr(err, "version"));
    memcpy(b, good, len);
    memset(b + len, 0, 8);
    CHECK(load_fails(b, len + 8, err, sizeof(err)));
    /* checksum */
    memcpy(b, good, len);
    b[len - 1] ^= 0x40;
    CHECK(load_fails(b, len, err, sizeof(err)) && strstr(err, "checksum"));
    /* misaligned */
    memcpy(b + 1, good, len);
    CHECK(load_fails(b + 1, len, err, sizeof(err)));
    CHECK(ddt_project_load(NULL, 0, NULL == NULL ? &(ddt_project_t *){0} : NULL,
                           err, sizeof(err)) == DDT_ERROR);
    free(b);
}

static void
test_flips(const uint8_t *good, size_t len)
{
    uint8_t  *b;
    char      err[128];
    size_t    off;
    int       k, rejected, loaded;
    static const uint8_t masks[] = { 0x01, 0x80, 0xff };

    b = malloc(len);
    /* any flipped byte: the checksum catches it */
    for (off = 0; off < len; off++) {
        memcpy(b, good, len);
        b[off] ^= 0x10;
        CHECK_MSG(load_fails(b, len, err, sizeof(err)), "flip at %zu", off);
    }
    /* flipped and resealed: the record checks must hold */
    rejected = loaded = 0;
    for (off = 0; off < len; off++)
    {
        for (k = 0; k < 3; k++) {
            memcpy(b, good, len);
            b[off] ^= masks[k];
            if (off >= offsetof(ddt_bheader_t, checksum)
                && off < offsetof(ddt_bheader_t, checksum) + 8)
            {
                continue;              /* the checksum itself */
            }
            reseal(b, len);
            if (load_fails(b, len, err, sizeof(err))) {
                rejected++;
            } else {
                loaded++;
            }
        }
    }
    fprintf(stderr, "resealed flips: %d rejected, %d loaded and used\n",
            rejected, loaded);
    CHECK(rejected > 0);
    free(b);
}

int
main(void)
{
    uint8_t  *b;
    size_t    len = 0;

    b = compile_ok(&len);
    CHECK(b != NULL);
    if (b == NULL) {
        return T_DONE();
    }
    test_good(b, len);
    test_header(b, len);
    test_flips(b, len);
    free(b);
    return T_DONE();
}
