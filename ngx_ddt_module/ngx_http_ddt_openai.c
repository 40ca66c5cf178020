
/*
 * ngx_http_ddt_openai.c: the adapter that lets an OpenAI-compatible
 * chat-completions server (llama.cpp, vLLM, OpenAI itself) answer an `ner`
 * or `llm` extraction layer (`ddt_service NAME URI openai [model=M]`).
 *
 * It only translates, in memory: the engine's documented request
 * (docs/engine.md: {"utterance", "locale", "data": [...]}) becomes a
 * chat-completions request in JSON mode (a system prompt that asks for the
 * engine's documented answer, the engine's request as the user message);
 * the reply's choices[0].message.content, itself JSON, becomes the engine's
 * documented answer {"values", "confidence"}.  Sending, timeouts and status
 * codes are ngx_http_ddt_effect.c's, like for any other effect.
 *
 * Why here and not in the core: the core's contract with the outside world
 * is the documented ner/llm JSON; which wire protocol a service speaks is a
 * host setting (a directive), as `proxy_pass` is.  The code is still pure
 * (no I/O): it uses the core's JSON parser and writer and nginx's pool.
 */

#include "ngx_http_ddt_module.h"


static ngx_int_t ngx_http_ddt_openai_copy(ngx_pool_t *pool, ddt_buf_t *b,
    ngx_str_t *out);


/*
 * What the model is asked for: the engine's answer, with the value forms
 * of SPEC 3.1 (the engine also accepts ISO dates and strings it parses, so
 * a model that answers "1980-03-12" or "marzo" is still understood).
 */

static const char  ngx_http_ddt_openai_system[] =
    "You extract data from one utterance of a user who talks to a voice or "
    "chat assistant. The user message is a JSON object: \"utterance\" is "
    "what the user said, \"locale\" its language, \"data\" the data items "
    "wanted, each with \"id\", \"kind\", \"label\" and, for an item made of "
    "parts, its parts in \"sub\"; the first item is the one the user was "
    "asked for. Answer with one JSON object and nothing else: "
    "{\"values\": {...}, \"confidence\": c}. In \"values\" put only what "
    "the utterance says, under the item's id (a part given alone under "
    "\"<item id>.<part id>\"), in these forms by kind: text: the words, a "
    "string; number, integer: a JSON number; date: {\"day\", \"month\", "
    "\"year\"} integers, only the parts said; time: {\"hour\", \"minute\"} "
    "on 24 hours; month: 1 to 12; yesno: true or false; choice: the option "
    "said, a string; email: lower case; phone, postalCode: the digits, a "
    "string; fiscalCode, iban: upper case, no spaces; amount: "
    "{\"value\": number, \"currency\": ISO 4217 code}; composite: an object "
    "of its parts. \"confidence\" is a number from 0 to 1: how sure you are "
    "that the values are what the user meant. When the utterance gives none "
    "of the data, answer {\"values\": {}, \"confidence\": 0}.";


/*
 * The chat-completions request for an engine request `body`:
 * {"model"?, "messages": [system, user], "response_format": json_object,
 *  "temperature": 0}.  The user message is the engine's request verbatim.
 */

ngx_int_t
ngx_http_ddt_openai_request(ngx_pool_t *pool, ngx_http_ddt_service_t *svc,
    const char *body, size_t len, ngx_str_t *out)
{
    ngx_int_t  rc;
    ddt_buf_t  b;

    ddt_buf_init(&b);

    ddt_buf_addc(&b, '{');

    if (svc->model.len) {
        ddt_buf_adds(&b, "\"model\":");
        ddt_json_write_str(&b, (const char *) svc->model.data, svc->model.len);
        ddt_buf_addc(&b, ',');
    }

    ddt_buf_adds(&b, "\"messages\":[{\"role\":\"system\",\"content\":");
    ddt_json_write_str(&b, ngx_http_ddt_openai_system,
                       sizeof(ngx_http_ddt_openai_system) - 1);
    ddt_buf_adds(&b, "},{\"role\":\"user\",\"content\":");
    ddt_json_write_str(&b, body ? body : "", body ? len : 0);
    ddt_buf_adds(&b, "}],\"response_format\":{\"type\":\"json_object\"},"
                     "\"temperature\":0,\"stream\":false}");

    rc = ngx_http_ddt_openai_copy(pool, &b, out);

    ddt_buf_free(&b);

    return rc;
}


/*
 * The engine's answer from a chat-completions reply: NGX_OK with `out`, or
 * NGX_DECLINED with a reason in `why` (the layer then yields nothing).  The
 * content must be one JSON object; {"values": {...}, "confidence"?} is
 * passed on, and an object without "values" is taken as the values
 * themselves (a bare {"city": "Torino"}), its "confidence" apart.
 */

ngx_int_t
ngx_http_ddt_openai_response(ngx_pool_t *pool, const u_char *body,
    size_t len, ngx_str_t *out, const char **why)
{
    size_t        i;
    ngx_int_t     rc;
    ddt_buf_t     b;
    ddt_jerr_t    jerr;
    ddt_json_t   *doc, *v, *msg, *content, *values, *conf;
    ddt_arena_t   a;

    ddt_arena_init(&a, 0);
    ddt_buf_init(&b);

    rc = NGX_DECLINED;

    if (body == NULL || len == 0) {
        *why = "an empty reply";
        goto done;
    }

    doc = ddt_json_parse(&a, (const char *) body, len, NULL, &jerr);
    if (doc == NULL || doc->type != DDT_J_OBJ) {
        *why = "a reply that is not a JSON object";
        goto done;
    }

    v = ddt_json_getz(doc, "choices");
    if (v == NULL || v->type != DDT_J_ARR || v->u.arr.len == 0
        || v->u.arr.items[0]->type != DDT_J_OBJ)
    {
        *why = "a reply without choices[0]";
        goto done;
    }

    msg = ddt_json_getz(v->u.arr.items[0], "message");
    content = msg && msg->type == DDT_J_OBJ
              ? ddt_json_getz(msg, "content") : NULL;

    if (content == NULL || content->type != DDT_J_STR) {
        *why = "a reply without choices[0].message.content";
        goto done;
    }

    doc = ddt_json_parse(&a, content->u.str.s, content->u.str.len, NULL,
                         &jerr);
    if (doc == NULL || doc->type != DDT_J_OBJ) {
        *why = "an answer (message content) that is not a JSON object";
        goto done;
    }

    values = ddt_json_getz(doc, "values");
    conf = ddt_json_getz(doc, "confidence");

    if (values == NULL) {
        /* the values alone: everything but "confidence" */
        values = ddt_json_obj(&a);
        if (values == NULL) {
            *why = "no memory";
            goto done;
        }

        for (i = 0; i < doc->u.obj.len; i++) {
            if (ngx_strcmp(doc->u.obj.m[i].key, "confidence") == 0) {
                continue;
            }

            if (ddt_json_set_nocopy(&a, values, doc->u.obj.m[i].key,
                                    doc->u.obj.m[i].klen,
                                    doc->u.obj.m[i].val)
                != DDT_OK)
            {
                *why = "no memory";
                goto done;
            }
        }

    } else if (values->type != DDT_J_OBJ) {
        *why = "an answer whose \"values\" is not an object";
        goto done;
    }

    ddt_buf_adds(&b, "{\"values\":");
    ddt_json_write(&b, values);

    if (conf != NULL && conf->type == DDT_J_NUM) {
        ddt_buf_adds(&b, ",\"confidence\":");
        ddt_json_write_num(&b, conf->u.n);
    }

    ddt_buf_addc(&b, '}');

    rc = ngx_http_ddt_openai_copy(pool, &b, out);
    if (rc != NGX_OK) {
        *why = "no memory";
        rc = NGX_DECLINED;
    }

done:

    ddt_buf_free(&b);
    ddt_arena_free(&a);

    return rc;
}


static ngx_int_t
ngx_http_ddt_openai_copy(ngx_pool_t *pool, ddt_buf_t *b, ngx_str_t *out)
{
    if (b->oom || b->data == NULL || b->len == 0) {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(pool, b->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = b->len;
    ngx_memcpy(out->data, b->data, b->len);

    return NGX_OK;
}
