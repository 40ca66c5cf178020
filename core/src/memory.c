/*
 * memory.c: memory paths (runtime.h): reading and writing the session's
 * memory object by compiled path, by segments or by dotted string.  The
 * metadata paths d.n.$confidence / d.n.$layer (and d.n.s.$confidence) read
 * d.$meta.n.confidence / .layer (d.$meta.n.sub.s.confidence), SPEC 9.3.
 * Does not own the memory object's lifetime (the session does).
 */
#include <string.h>

#include "runtime.h"

#define MEM_MAX_SEGS  64


static int
is_meta_seg(const char *s, size_t len, const char **field)
{
    if (len == 11 && memcmp(s, "$confidence", 11) == 0) {
        *field = "confidence";
        return 1;
    }
    if (len == 6 && memcmp(s, "$layer", 6) == 0) {
        *field = "layer";
        return 1;
    }
    return 0;
}


const ddt_json_t *
ddt_mem_get_segs(const ddt_json_t *mem, const char *const *segs,
    const size_t *lens, size_t n)
{
    const ddt_json_t  *v;
    const char        *field;
    size_t             i;

    if (mem == NULL || n == 0) {
        return NULL;
    }

    /* d.n.$confidence, d.n.s.$confidence */
    if ((n == 3 || n == 4) && is_meta_seg(segs[n - 1], lens[n - 1], &field)) {
        v = ddt_json_get(mem, segs[0], lens[0]);
        v = ddt_json_get(v, "$meta", 5);
        v = ddt_json_get(v, segs[1], lens[1]);
        if (n == 4) {
            v = ddt_json_get(v, "sub", 3);
            v = ddt_json_get(v, segs[2], lens[2]);
        }
        return ddt_json_getz(v, field);
    }

    v = mem;
    for (i = 0; i < n && v != NULL; i++) {
        v = ddt_json_get(v, segs[i], lens[i]);
    }
    return v;
}


const ddt_json_t *
ddt_mem_get(const ddt_project_t *p, const ddt_json_t *mem, uint32_t path)
{
    const char        *segs[MEM_MAX_SEGS];
    size_t             lens[MEM_MAX_SEGS];
    ddt_brange_t       r;
    uint32_t           i;

    if (p == NULL || path >= p->n_paths) {
        return NULL;
    }
    r = p->paths[path];
    if (r.count == 0 || r.count > MEM_MAX_SEGS) {
        return NULL;
    }
    for (i = 0; i < r.count; i++) {
        segs[i] = p->strings + p->segs[r.first + i].off;
        lens[i] = p->segs[r.first + i].len;
    }
    return ddt_mem_get_segs(mem, segs, lens, r.count);
}


static size_t
split_dotted(const char *path, size_t len, const char **segs, size_t *lens)
{
    size_t  n, i, start;

    n = 0;
    start = 0;
    for (i = 0; i <= len; i++) {
        if (i == len || path[i] == '.') {
            if (n == MEM_MAX_SEGS || i == start) {
                return 0;
            }
            segs[n] = path + start;
            lens[n] = i - start;
            n++;
            start = i + 1;
        }
    }
    return n;
}


const ddt_json_t *
ddt_mem_get_dotted(const ddt_json_t *mem, const char *path, size_t len)
{
    const char  *segs[MEM_MAX_SEGS];
    size_t       lens[MEM_MAX_SEGS], n;

    n = split_dotted(path, len, segs, lens);
    if (n == 0) {
        return NULL;
    }
    return ddt_mem_get_segs(mem, segs, lens, n);
}


static int
mem_set_segs(ddt_arena_t *a, ddt_json_t *mem, const char *const *segs,
    const size_t *lens, size_t n, ddt_json_t *v)
{
    ddt_json_t  *cur, *next;
    size_t       i;

    if (mem == NULL || mem->type != DDT_J_OBJ || n == 0) {
        return DDT_ERROR;
    }
    if (v == NULL) {
        v = ddt_json_null(a);
        if (v == NULL) {
            return DDT_ERROR;
        }
    }
    cur = mem;
    for (i = 0; i + 1 < n; i++) {
        next = ddt_json_get(cur, segs[i], lens[i]);
        if (next == NULL || next->type != DDT_J_OBJ) {
            next = ddt_json_obj(a);
            if (next == NULL
                || ddt_json_set(a, cur, segs[i], lens[i], next) != DDT_OK)
            {
                return DDT_ERROR;
            }
        }
        cur = next;
    }
    return ddt_json_set(a, cur, segs[n - 1], lens[n - 1], v);
}


int
ddt_mem_set(ddt_arena_t *a, const ddt_project_t *p, ddt_json_t *mem,
    uint32_t path, ddt_json_t *v)
{
    const char    *segs[MEM_MAX_SEGS];
    size_t         lens[MEM_MAX_SEGS];
    ddt_brange_t   r;
    uint32_t       i;

    if (p == NULL || path >= p->n_paths) {
        return DDT_ERROR;
    }
    r = p->paths[path];
    if (r.count == 0 || r.count > MEM_MAX_SEGS) {
        return DDT_ERROR;
    }
    for (i = 0; i < r.count; i++) {
        segs[i] = p->strings + p->segs[r.first + i].off;
        lens[i] = p->segs[r.first + i].len;
    }
    return mem_set_segs(a, mem, segs, lens, r.count, v);
}


int
ddt_mem_set_dotted(ddt_arena_t *a, ddt_json_t *mem, const char *path,
    size_t len, ddt_json_t *v)
{
    const char  *segs[MEM_MAX_SEGS];
    size_t       lens[MEM_MAX_SEGS], n;

    n = split_dotted(path, len, segs, lens);
    if (n == 0) {
        return DDT_ERROR;
    }
    return mem_set_segs(a, mem, segs, lens, n, v);
}
