/*
 * extract/format.c: values formatted back for prompts (SPEC 9.6), per kind
 * and locale: "12 marzo 1980" / "March 12, 1980", "15:30" / "3:30 PM",
 * "50,00 €" / "$50.00", numbers without grouping.  A value that does not
 * have its kind's form is formatted by its JSON type, so a prompt never
 * fails on odd memory.
 */
#include <stdio.h>
#include <math.h>
#include <string.h>

#include "ex.h"

static int fmt_generic(ddt_locale_t loc, const ddt_json_t *v, ddt_buf_t *out);

static int
get_int(const ddt_json_t *o, const char *key, int lo, int hi, int *out)
{
    const ddt_json_t  *m;

    m = ddt_json_getz(o, key);
    if (m == NULL || m->type != DDT_J_NUM || !ddt_json_is_int(m)
        || m->u.n < lo || m->u.n > hi)
    {
        return 0;
    }
    *out = (int) m->u.n;
    return 1;
}

/* Only the given keys (any subset, at least one) are in the object. */
static int
only_keys(const ddt_json_t *o, const char *const *keys)
{
    const char *const  *k;
    size_t              i;
    int                 found;

    if (o == NULL || o->type != DDT_J_OBJ || o->u.obj.len == 0) {
        return 0;
    }
    for (i = 0; i < o->u.obj.len; i++) {
        found = 0;
        for (k = keys; *k; k++) {
            if (strcmp(o->u.obj.m[i].key, *k) == 0) {
                found = 1;
                break;
            }
        }
        if (!found) {
            return 0;
        }
    }
    return 1;
}

static int
fmt_number(ddt_locale_t loc, double n, ddt_buf_t *out)
{
    size_t  from, k;

    from = out->len;
    if (isfinite(n) && n == floor(n) && fabs(n) >= 9007199254740992.0
        && fabs(n) < 1e21)
    {
        /* a large whole number is said as digits, not as 1e+20 */
        if (ddt_buf_printf(out, "%.0f", n) != DDT_OK) {
            return DDT_ERROR;
        }
    } else if (ddt_json_write_num(out, n) != DDT_OK) {
        return DDT_ERROR;
    }
    if (loc == DDT_LOCALE_IT && out->data != NULL) {
        for (k = from; k < out->len; k++) {
            if (out->data[k] == '.') {
                out->data[k] = ',';
            }
        }
    }
    return DDT_OK;
}

static int
fmt_date(ddt_locale_t loc, const ddt_json_t *v, ddt_buf_t *out)
{
    static const char *const  keys[] = { "day", "month", "year", NULL };
    int  d = 0, m = 0, y = 0, hd, hm, hy;

    if (!only_keys(v, keys)) {
        return fmt_generic(loc, v, out);
    }
    hd = get_int(v, "day", 1, 31, &d);
    hm = get_int(v, "month", 1, 12, &m);
    hy = get_int(v, "year", -9999, 99999, &y);
    if ((ddt_json_getz(v, "day") && !hd) || (ddt_json_getz(v, "month") && !hm)
        || (ddt_json_getz(v, "year") && !hy))
    {
        return fmt_generic(loc, v, out);
    }

    if (loc == DDT_LOCALE_EN) {
        if (hm) {
            ddt_buf_adds(out, ex_month_names_en[m]);
            if (hd) {
                ddt_buf_printf(out, " %d", d);
            }
            if (hy) {
                ddt_buf_printf(out, hd ? ", %d" : " %d", y);
            }
        } else if (hd) {
            ddt_buf_printf(out, "%d", d);
            if (hy) {
                ddt_buf_printf(out, ", %d", y);
            }
        } else if (hy) {
            ddt_buf_printf(out, "%d", y);
        }
    } else {
        if (hd) {
            ddt_buf_printf(out, d == 1 ? "1\xc2\xba" : "%d", d);
        }
        if (hm) {
            ddt_buf_printf(out, "%s%s", hd ? " " : "", ex_month_names_it[m]);
        }
        if (hy) {
            ddt_buf_printf(out, "%s%d", hd || hm ? " " : "", y);
        }
    }

    return out->oom ? DDT_ERROR : DDT_OK;
}

static int
fmt_time(ddt_locale_t loc, const ddt_json_t *v, ddt_buf_t *out)
{
    static const char *const  keys[] = { "hour", "minute", NULL };
    int  h = 0, mi = 0, hm;

    if (!only_keys(v, keys) || !get_int(v, "hour", 0, 23, &h)) {
        return fmt_generic(loc, v, out);
    }
    hm = get_int(v, "minute", 0, 59, &mi);
    if (ddt_json_getz(v, "minute") && !hm) {
        return fmt_generic(loc, v, out);
    }
    if (!hm) {
        mi = 0;
    }

    if (loc == DDT_LOCALE_EN) {
        ddt_buf_printf(out, "%d:%02d %s", h % 12 == 0 ? 12 : h % 12, mi,
                       h < 12 ? "AM" : "PM");
    } else {
        ddt_buf_printf(out, "%d:%02d", h, mi);
    }

    return out->oom ? DDT_ERROR : DDT_OK;
}

static int
fmt_amount(ddt_locale_t loc, const ddt_json_t *v, ddt_buf_t *out)
{
    static const char *const  keys[] = { "value", "currency", NULL };
    const ddt_json_t  *val, *cur;
    const char        *sym, *code;
    char               num[400];
    double             n;
    int                k, len;

    val = ddt_json_getz(v, "value");
    cur = ddt_json_getz(v, "currency");
    if (!only_keys(v, keys) || val == NULL || val->type != DDT_J_NUM
        || (cur != NULL && cur->type != DDT_J_STR)
        || val->u.n > 1e300 || val->u.n < -1e300)
    {
        return fmt_generic(loc, v, out);
    }

    code = cur ? cur->u.str.s : (loc == DDT_LOCALE_EN ? "USD" : "EUR");
    sym = NULL;
    if (strcmp(code, "EUR") == 0) {
        sym = "\xe2\x82\xac";
    } else if (strcmp(code, "USD") == 0) {
        sym = "$";
    } else if (strcmp(code, "GBP") == 0) {
        sym = "\xc2\xa3";
    }

    n = val->u.n;
    len = snprintf(num, sizeof(num), "%.2f", n < 0 ? -n : n);
    if (len < 0 || (size_t) len >= sizeof(num)) {
        return fmt_generic(loc, v, out);
    }
    /* The decimal mark is ours, whatever the C locale says. */
    for (k = 0; k < len; k++) {
        if (num[k] < '0' || num[k] > '9') {
            num[k] = (loc == DDT_LOCALE_EN) ? '.' : ',';
        }
    }

    if (loc == DDT_LOCALE_EN) {
        if (sym) {
            ddt_buf_printf(out, "%s%s%s", n < 0 ? "-" : "", sym, num);
        } else {
            ddt_buf_printf(out, "%s%s %s", n < 0 ? "-" : "", num, code);
        }
    } else {
        ddt_buf_printf(out, "%s%s %s", n < 0 ? "-" : "", num,
                       sym ? sym : code);
    }

    return out->oom ? DDT_ERROR : DDT_OK;
}

static int
fmt_generic(ddt_locale_t loc, const ddt_json_t *v, ddt_buf_t *out)
{
    if (v == NULL) {
        return DDT_OK;
    }
    switch (v->type) {
    case DDT_J_NULL:
        return DDT_OK;
    case DDT_J_BOOL:
        return ddt_buf_adds(out, v->u.b ? "true" : "false");
    case DDT_J_NUM:
        return fmt_number(loc, v->u.n, out);
    case DDT_J_STR:
        return ddt_buf_add(out, v->u.str.s, v->u.str.len);
    default:
        return ddt_json_write(out, v);
    }
}

/* A composite's part: known shapes format as their kind. */
static int
fmt_part(ddt_locale_t loc, const ddt_json_t *v, ddt_buf_t *out)
{
    static const char *const  dk[] = { "day", "month", "year", NULL };
    static const char *const  tk[] = { "hour", "minute", NULL };
    static const char *const  ak[] = { "value", "currency", NULL };

    if (v != NULL && v->type == DDT_J_OBJ) {
        if (only_keys(v, dk)) {
            return fmt_date(loc, v, out);
        }
        if (only_keys(v, tk) && ddt_json_getz(v, "hour")) {
            return fmt_time(loc, v, out);
        }
        if (only_keys(v, ak) && ddt_json_getz(v, "value")) {
            return fmt_amount(loc, v, out);
        }
    }
    if (v != NULL && v->type == DDT_J_BOOL) {
        return ddt_buf_adds(out, v->u.b ? (loc == DDT_LOCALE_EN ? "yes"
                                                                : "s\xc3\xac")
                                        : "no");
    }
    return fmt_generic(loc, v, out);
}

int
ddt_format_value(ddt_kind_t kind, ddt_locale_t loc, const ddt_json_t *v,
    ddt_buf_t *out)
{
    const ddt_json_t  *m;
    size_t             i, before;
    int                first;

    if (v == NULL || v->type == DDT_J_NULL) {
        return DDT_OK;
    }
    if (loc != DDT_LOCALE_EN) {
        loc = DDT_LOCALE_IT;
    }

    switch (kind) {
    case DDT_KIND_DATE:
        return fmt_date(loc, v, out);

    case DDT_KIND_TIME:
        return fmt_time(loc, v, out);

    case DDT_KIND_AMOUNT:
        return fmt_amount(loc, v, out);

    case DDT_KIND_MONTH:
        if (v->type == DDT_J_NUM && ddt_json_is_int(v) && v->u.n >= 1
            && v->u.n <= 12)
        {
            return ddt_buf_adds(out, loc == DDT_LOCALE_EN
                                     ? ex_month_names_en[(int) v->u.n]
                                     : ex_month_names_it[(int) v->u.n]);
        }
        return fmt_generic(loc, v, out);

    case DDT_KIND_YESNO:
        if (v->type == DDT_J_BOOL) {
            return fmt_part(loc, v, out);
        }
        return fmt_generic(loc, v, out);

    case DDT_KIND_COMPOSITE:
        if (v->type != DDT_J_OBJ) {
            return fmt_generic(loc, v, out);
        }
        first = 1;
        for (i = 0; i < v->u.obj.len; i++) {
            m = v->u.obj.m[i].val;
            if (m == NULL || m->type == DDT_J_NULL
                || v->u.obj.m[i].key[0] == '$')
            {
                continue;
            }
            before = out->len;
            if (!first && ddt_buf_adds(out, ", ") != DDT_OK) {
                return DDT_ERROR;
            }
            if (fmt_part(loc, m, out) != DDT_OK) {
                return DDT_ERROR;
            }
            if (out->len == before + (first ? 0 : 2)) {
                /* an empty part leaves no dangling separator */
                out->len = before;
                if (out->data) {
                    out->data[before] = '\0';
                }
                continue;
            }
            first = 0;
        }
        return out->oom ? DDT_ERROR : DDT_OK;

    default:
        return fmt_generic(loc, v, out);
    }
}
