/*
 * input.c: the turn body (SPEC 4, 9.4): exactly one of text, dtmf, event
 * or values, plus an optional turnId.  Checks the shape and normalises it
 * (text trimmed, empty text is a noInput, dtmf's trailing '#' dropped); it
 * does not look at the project (unknown `values` keys are checked by the
 * orchestrator against the running DDT).
 */
#include <string.h>
#include <ddt/ddt.h>
#include "session.h"

#define DDT_TURN_ID_MAX  128

/* A JSON key or string equal to a literal, embedded NULs included
 * ("text\u0000x" is not "text"). */
#define ddt_is(s, len, lit)                                                  \
    ((len) == sizeof(lit) - 1 && memcmp(s, lit, sizeof(lit) - 1) == 0)

static int
ddt_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
        || c == '\v';
}

static int
ddt_input_text(ddt_input_t *in, const ddt_json_t *v, ddt_err_t *err)
{
    const char  *s;
    size_t       len;

    if (v->type != DDT_J_STR) {
        ddt_err_set(err, 400, "bad_input", "\"text\" must be a string");
        return DDT_ERROR;
    }

    s = v->u.str.s;
    len = v->u.str.len;

    if (memchr(s, '\0', len) != NULL) {
        ddt_err_set(err, 400, "bad_input", "\"text\" must not hold U+0000");
        return DDT_ERROR;
    }

    /* trim ASCII white space and U+00A0 */
    for ( ;; ) {
        if (len && ddt_is_space((unsigned char) s[0])) {
            s++; len--;
        } else if (len >= 2 && (unsigned char) s[0] == 0xc2
                   && (unsigned char) s[1] == 0xa0)
        {
            s += 2; len -= 2;
        } else {
            break;
        }
    }
    for ( ;; ) {
        if (len && ddt_is_space((unsigned char) s[len - 1])) {
            len--;
        } else if (len >= 2 && (unsigned char) s[len - 2] == 0xc2
                   && (unsigned char) s[len - 1] == 0xa0)
        {
            len -= 2;
        } else {
            break;
        }
    }

    if (len == 0) {
        in->kind = DDT_IN_EVENT_NOINPUT;
        return DDT_OK;
    }

    in->kind = DDT_IN_TEXT;
    in->text = s;
    in->text_len = len;
    return DDT_OK;
}

static int
ddt_input_dtmf(ddt_input_t *in, const ddt_json_t *v, ddt_err_t *err)
{
    size_t  i, len;

    if (v->type != DDT_J_STR || v->u.str.len == 0) {
        ddt_err_set(err, 400, "bad_input",
                    "\"dtmf\" must be a non-empty string of 0-9 * #");
        return DDT_ERROR;
    }

    len = v->u.str.len;
    for (i = 0; i < len; i++) {
        char c = v->u.str.s[i];
        if (!((c >= '0' && c <= '9') || c == '*' || c == '#')) {
            ddt_err_set(err, 400, "bad_input",
                        "\"dtmf\" must match [0-9*#]+");
            return DDT_ERROR;
        }
    }

    if (v->u.str.s[len - 1] == '#') {
        len--;
    }

    if (len == 0) {
        /* a lone '#': the caller pressed only the terminator */
        in->kind = DDT_IN_EVENT_NOINPUT;
        return DDT_OK;
    }

    in->kind = DDT_IN_DTMF;
    in->text = v->u.str.s;
    in->text_len = len;
    return DDT_OK;
}

static int
ddt_input_turn_id(ddt_input_t *in, const ddt_json_t *v, ddt_err_t *err)
{
    size_t  i;

    if (v->type != DDT_J_STR || v->u.str.len == 0
        || v->u.str.len > DDT_TURN_ID_MAX)
    {
        ddt_err_set(err, 400, "bad_input",
                    "\"turnId\" must be a string of 1 to %d characters",
                    DDT_TURN_ID_MAX);
        return DDT_ERROR;
    }

    for (i = 0; i < v->u.str.len; i++) {
        if ((unsigned char) v->u.str.s[i] < 0x20) {
            ddt_err_set(err, 400, "bad_input",
                        "\"turnId\" must not hold control characters");
            return DDT_ERROR;
        }
    }

    in->turn_id = v->u.str.s;
    return DDT_OK;
}

int
ddt_input_parse(ddt_arena_t *a, const char *body, size_t len,
    ddt_input_t *in, ddt_err_t *err)
{
    size_t              i, n;
    ddt_json_t         *j;
    const ddt_jmember_t *m;
    ddt_jerr_t          jerr;
    const ddt_json_t   *what = NULL;
    const char         *what_key = NULL;

    memset(in, 0, sizeof(*in));

    j = ddt_json_parse(a, body, len, NULL, &jerr);
    if (j == NULL) {
        ddt_err_set(err, 400, "bad_json", "%s at line %u, column %u",
                    jerr.message, jerr.line, jerr.column);
        return DDT_ERROR;
    }

    if (j->type != DDT_J_OBJ) {
        ddt_err_set(err, 400, "bad_input", "a turn body is a JSON object");
        return DDT_ERROR;
    }

    in->raw = j;
    n = 0;

    for (i = 0; i < j->u.obj.len; i++) {
        m = &j->u.obj.m[i];

        if (ddt_is(m->key, m->klen, "turnId")) {
            if (ddt_input_turn_id(in, m->val, err) != DDT_OK) {
                return DDT_ERROR;
            }
            continue;
        }

        if (!ddt_is(m->key, m->klen, "text")
            && !ddt_is(m->key, m->klen, "dtmf")
            && !ddt_is(m->key, m->klen, "event")
            && !ddt_is(m->key, m->klen, "values"))
        {
            ddt_err_set(err, 400, "bad_input", "unknown field \"%.64s\"",
                        m->key);
            return DDT_ERROR;
        }

        n++;
        what = m->val;
        what_key = m->key;
    }

    if (n != 1) {
        ddt_err_set(err, 400, "bad_input",
                    "a turn has exactly one of text, dtmf, event, values");
        return DDT_ERROR;
    }

    switch (what_key[0]) {

    case 't':
        return ddt_input_text(in, what, err);

    case 'd':
        return ddt_input_dtmf(in, what, err);

    case 'e':
        if (what->type == DDT_J_STR
            && ddt_is(what->u.str.s, what->u.str.len, "noInput"))
        {
            in->kind = DDT_IN_EVENT_NOINPUT;
            return DDT_OK;
        }
        if (what->type == DDT_J_STR
            && ddt_is(what->u.str.s, what->u.str.len, "noMatch"))
        {
            in->kind = DDT_IN_EVENT_NOMATCH;
            return DDT_OK;
        }
        ddt_err_set(err, 400, "bad_input",
                    "\"event\" is \"noInput\" or \"noMatch\"");
        return DDT_ERROR;

    default: /* values */
        if (what->type != DDT_J_OBJ) {
            ddt_err_set(err, 400, "bad_input", "\"values\" must be an object");
            return DDT_ERROR;
        }
        in->kind = DDT_IN_VALUES;
        in->values = what;
        return DDT_OK;
    }
}

/*
 * The input as the replay ring compares it: the body without turnId, or
 * when the host built the input itself, an equivalent body.
 */
ddt_json_t *
ddt_input_canonical(ddt_arena_t *a, const ddt_input_t *in)
{
    size_t       i;
    ddt_json_t  *o;

    o = ddt_json_obj(a);
    if (o == NULL) {
        return NULL;
    }

    if (in->raw != NULL && in->raw->type == DDT_J_OBJ) {
        for (i = 0; i < in->raw->u.obj.len; i++) {
            const ddt_jmember_t *m = &in->raw->u.obj.m[i];
            if (ddt_is(m->key, m->klen, "turnId")) {
                continue;
            }
            if (ddt_json_set(a, o, m->key, m->klen,
                             ddt_json_clone(a, m->val)) != DDT_OK)
            {
                return NULL;
            }
        }
        return o;
    }

    switch (in->kind) {
    case DDT_IN_TEXT:
        ddt_json_setl(a, o, "text", ddt_json_str(a, in->text, in->text_len));
        break;
    case DDT_IN_DTMF:
        ddt_json_setl(a, o, "dtmf", ddt_json_str(a, in->text, in->text_len));
        break;
    case DDT_IN_EVENT_NOINPUT:
        ddt_json_setl(a, o, "event", ddt_json_strz(a, "noInput"));
        break;
    case DDT_IN_EVENT_NOMATCH:
        ddt_json_setl(a, o, "event", ddt_json_strz(a, "noMatch"));
        break;
    case DDT_IN_VALUES:
        ddt_json_setl(a, o, "values", ddt_json_clone(a, in->values));
        break;
    default:
        break;
    }
    return o;
}
