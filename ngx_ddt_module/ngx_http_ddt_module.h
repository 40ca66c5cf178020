
/*
 * ngx_http_ddt_module.h: what the module's files share: the main and
 * location configurations, the per-request context, the error codes of
 * SPEC 9.4 and the functions each file exports to the others.  The module
 * holds no dialogue logic: everything about dialogues is the core's
 * (core/include/ddt/ddt.h); this is the HTTP and shared-memory glue.
 */

#ifndef _NGX_HTTP_DDT_MODULE_H_INCLUDED_
#define _NGX_HTTP_DDT_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ddt/ddt.h>


#define NGX_HTTP_DDT_NONE         0
#define NGX_HTTP_DDT_API          1
#define NGX_HTTP_DDT_ADMIN        2
#define NGX_HTTP_DDT_METRICS      3

#define NGX_HTTP_DDT_ID_MIN       8
#define NGX_HTTP_DDT_ID_MAX       128
#define NGX_HTTP_DDT_NAME_MAX     64

#ifndef NGX_HTTP_GONE
#define NGX_HTTP_GONE             410
#endif

#ifndef NGX_HTTP_UNPROCESSABLE_ENTITY
#define NGX_HTTP_UNPROCESSABLE_ENTITY  422
#endif

/* loads of one project name always kept, whatever sessions use */
#define NGX_HTTP_DDT_KEEP_LOADS   4


typedef struct ngx_http_ddt_sh_s    ngx_http_ddt_sh_t;
typedef struct ngx_http_ddt_load_s  ngx_http_ddt_load_t;
typedef struct ngx_http_ddt_store_s ngx_http_ddt_store_t;


/* A project compiled at configuration time, published at zone init. */
typedef struct {
    ngx_str_t                   file;
    ngx_str_t                   name;
    ngx_str_t                   label;           /* the "version" field */
    u_char                      checksum[17];
    ngx_str_t                   block;
    ngx_str_t                   source;
} ngx_http_ddt_conf_project_t;


/* `ddt_service`: where an ner/llm layer's service is, what it speaks. */
#define NGX_HTTP_DDT_SERVICE_DDT     0   /* the engine's documented JSON */
#define NGX_HTTP_DDT_SERVICE_OPENAI  1   /* chat-completions, JSON mode */

typedef struct {
    ngx_str_t                   name;
    ngx_str_t                   uri;
    ngx_uint_t                  protocol;
    ngx_str_t                   model;           /* openai; empty: none */
} ngx_http_ddt_service_t;


typedef struct {
    size_t                      zone_size;
    ngx_msec_t                  session_timeout;
    ngx_str_t                   test_now_text;
    int64_t                     test_now_ms;     /* -1: real time */
    ngx_array_t                *projects;  /* ngx_http_ddt_conf_project_t */
    ngx_array_t                *services;  /* ngx_http_ddt_service_t */
    ngx_flag_t                  enabled;
    ngx_shm_zone_t             *zone;
    ngx_slab_pool_t            *shpool;
    ngx_http_ddt_sh_t          *sh;
    ngx_http_ddt_store_t       *store;
} ngx_http_ddt_main_conf_t;


typedef struct {
    ngx_uint_t                  kind;            /* NGX_HTTP_DDT_API, ... */
    size_t                      max_body_size;
} ngx_http_ddt_loc_conf_t;


/* Error codes (SPEC 9.4), in the order metrics count them. */
typedef enum {
    NGX_HTTP_DDT_E_BAD_JSON = 0,
    NGX_HTTP_DDT_E_BAD_INPUT,
    NGX_HTTP_DDT_E_SESSION_NOT_FOUND,
    NGX_HTTP_DDT_E_PROJECT_NOT_FOUND,
    NGX_HTTP_DDT_E_NOT_FOUND,
    NGX_HTTP_DDT_E_METHOD_NOT_ALLOWED,
    NGX_HTTP_DDT_E_CONFLICT,
    NGX_HTTP_DDT_E_SESSION_EXISTS,
    NGX_HTTP_DDT_E_SESSION_CLOSED,
    NGX_HTTP_DDT_E_SESSION_EXPIRED,
    NGX_HTTP_DDT_E_PROJECT_VERSION_GONE,
    NGX_HTTP_DDT_E_BODY_TOO_LARGE,
    NGX_HTTP_DDT_E_UNSUPPORTED_MEDIA_TYPE,
    NGX_HTTP_DDT_E_INVALID_PROJECT,
    NGX_HTTP_DDT_E_TURN_ID_REUSED,
    NGX_HTTP_DDT_E_STORE_UNAVAILABLE,
    NGX_HTTP_DDT_E_INTERNAL,
    NGX_HTTP_DDT_E_OTHER,
    NGX_HTTP_DDT_E_COUNT
} ngx_http_ddt_err_e;


#define NGX_HTTP_DDT_CTX_API      1
#define NGX_HTTP_DDT_CTX_EFFECT   2


typedef struct ngx_http_ddt_ctx_s  ngx_http_ddt_ctx_t;

typedef void (*ngx_http_ddt_effect_done_pt)(ngx_http_ddt_ctx_t *ctx,
    ngx_int_t rc, ddt_err_t *err);


/* Per-request state of an API call; freed by a pool cleanup. */
struct ngx_http_ddt_ctx_s {
    ngx_uint_t                  type;            /* NGX_HTTP_DDT_CTX_API */
    ngx_http_request_t         *r;
    ngx_http_ddt_main_conf_t   *mcf;
    ngx_http_ddt_loc_conf_t    *lcf;

    ngx_str_t                   id;              /* session id */
    ngx_str_t                   name;            /* project name (admin) */
    ngx_uint_t                  route;

    /* body */
    off_t                       body_limit;
    off_t                       body_seen;
    size_t                      body_cap;
    unsigned                    body_too_large:1;
    unsigned                    reading_body:1;
    unsigned                    arena_used:1;
    unsigned                    result_used:1;
    unsigned                    saved_used:1;
    unsigned                    created:1;
    u_char                     *body;
    size_t                      body_len;

    /* the core's objects */
    ddt_arena_t                 arena;
    ddt_session_t              *session;
    ngx_uint_t                  session_uses;    /* turns since loaded */
    ddt_input_t                 input;
    ddt_turn_result_t           result;
    ddt_buf_t                   saved;

    /* project load pinned for this request */
    ngx_http_ddt_load_t        *load;
    ddt_project_t              *project;

    /* session creation: what the first turn needs */
    const ddt_json_t           *create_variables;
    const char                 *create_locale;

    /* store operation in progress */
    void                       *op;
    uint64_t                    version_read;

    /* effect in progress (ngx_http_ddt_effect.c) */
    ngx_http_ddt_effect_done_pt effect_done;
    ngx_uint_t                  effects;
    ngx_event_t                 effect_timer;
    void                       *effect_sr;

    /* latency */
    struct timespec             started;
};


extern ngx_module_t  ngx_http_ddt_module;


/* ngx_http_ddt_api.c: routing and the endpoints */
ngx_int_t ngx_http_ddt_api_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_ddt_metrics_handler(ngx_http_request_t *r);

/* ngx_http_ddt_body.c: JSON request bodies */
ngx_int_t ngx_http_ddt_body_check(ngx_http_request_t *r,
    ngx_http_ddt_ctx_t *ctx, ngx_int_t *reply);
ngx_int_t ngx_http_ddt_body_read(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt post);
ngx_int_t ngx_http_ddt_body_collect(ngx_http_request_t *r,
    ngx_http_ddt_ctx_t *ctx, ngx_int_t *reply);
ngx_int_t ngx_http_ddt_body_filter_init(ngx_conf_t *cf);

/* ngx_http_ddt_reply.c: JSON answers */
ngx_int_t ngx_http_ddt_reply_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *fmt, ...);
ngx_int_t ngx_http_ddt_reply_core_error(ngx_http_request_t *r,
    const ddt_err_t *err);
ngx_int_t ngx_http_ddt_reply_405(ngx_http_request_t *r, const char *allow);
ngx_int_t ngx_http_ddt_reply_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *data, size_t len);
ngx_int_t ngx_http_ddt_reply_text(ngx_http_request_t *r, ngx_str_t *type,
    u_char *data, size_t len);
ngx_int_t ngx_http_ddt_reply_empty(ngx_http_request_t *r, ngx_uint_t status);
u_char *ngx_http_ddt_json_str(u_char *p, u_char *s, size_t len);
size_t ngx_http_ddt_json_str_len(u_char *s, size_t len);

/* ngx_http_ddt_cache.c: this worker's loaded sessions */
ddt_session_t *ngx_http_ddt_cache_take(ngx_str_t *id, uint64_t gen,
    uint64_t version, ngx_uint_t *uses);
ngx_uint_t ngx_http_ddt_cache_put(ngx_str_t *id, uint64_t gen,
    uint64_t version, ddt_session_t *s, ngx_uint_t uses);
void ngx_http_ddt_cache_free(void);

/* ngx_http_ddt_rand.c: session ids */
ngx_int_t ngx_http_ddt_rand_init(ngx_log_t *log);
void ngx_http_ddt_rand_bytes(u_char *buf, size_t n);
ngx_int_t ngx_http_ddt_session_id_generate(ngx_pool_t *pool, ngx_str_t *id);
ngx_int_t ngx_http_ddt_session_id_valid(u_char *s, size_t len);

/* ngx_http_ddt_effect.c: host effects (BackendCall subrequests) */
void ngx_http_ddt_effect_run(ngx_http_ddt_ctx_t *ctx,
    ngx_http_ddt_effect_done_pt done);
void ngx_http_ddt_effect_cleanup(ngx_http_ddt_ctx_t *ctx);
ngx_int_t ngx_http_ddt_effect_filter_init(ngx_conf_t *cf);
char *ngx_http_ddt_service(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* ngx_http_ddt_openai.c: chat-completions <-> the engine's ner/llm JSON */
ngx_int_t ngx_http_ddt_openai_request(ngx_pool_t *pool,
    ngx_http_ddt_service_t *svc, const char *body, size_t len,
    ngx_str_t *out);
ngx_int_t ngx_http_ddt_openai_response(ngx_pool_t *pool, const u_char *body,
    size_t len, ngx_str_t *out, const char **why);

/* the clock the core sees */
int64_t ngx_http_ddt_now_ms(ngx_http_ddt_main_conf_t *mcf);


#endif /* _NGX_HTTP_DDT_MODULE_H_INCLUDED_ */
