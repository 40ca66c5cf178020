
/*
 * ngx_http_ddt_redis_module.c: the ddt_redis* directives (http main
 * level), their main configuration, and the per-process hooks that open
 * and close the worker's Redis connections.  A second module compiled into
 * the same .so as ngx_http_ddt_module: when `ddt_redis` or
 * `ddt_redis_sentinel` is present it makes the Redis store the session
 * store of ngx_http_ddt_module (ngx_http_ddt_store_redis.c); without them
 * it does nothing.  Addresses are resolved here, at configuration time,
 * because hiredis would resolve them with a blocking getaddrinfo.
 * The persister's directives (ddt_persister, ddt_restore_timeout,
 * ddt_critical_sync, ddt_critical_wait) are here too: they only mean
 * something with the Redis store.
 */

#include "ngx_http_ddt_module.h"
#include "ngx_http_ddt_store.h"
#include "ngx_http_ddt_redis_conn.h"
#include "ngx_http_ddt_redis_wait.h"


static void *ngx_http_ddt_redis_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_ddt_redis_init_main_conf(ngx_conf_t *cf, void *conf);
static ngx_int_t ngx_http_ddt_redis_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_ddt_redis_init_process(ngx_cycle_t *cycle);
static void ngx_http_ddt_redis_exit_process(ngx_cycle_t *cycle);
static char *ngx_http_ddt_redis_address(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ddt_redis_sentinel(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ddt_redis_maxlen(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_command_t  ngx_http_ddt_redis_commands[] = {

    { ngx_string("ddt_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_ddt_redis_address,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ddt_redis_sentinel"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_ddt_redis_sentinel,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ddt_redis_password"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ddt_redis_main_conf_t, password),
      NULL },

    { ngx_string("ddt_redis_database"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ddt_redis_main_conf_t, database),
      NULL },

    { ngx_string("ddt_redis_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ddt_redis_main_conf_t, connect_timeout),
      NULL },

    { ngx_string("ddt_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ddt_redis_main_conf_t, timeout),
      NULL },

    { ngx_string("ddt_redis_pool_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ddt_redis_main_conf_t, pool_size),
      NULL },

    { ngx_string("ddt_redis_shards"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ddt_redis_main_conf_t, shards),
      NULL },

    { ngx_string("ddt_redis_stream_maxlen"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_ddt_redis_maxlen,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ddt_persister"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ddt_redis_main_conf_t, persister),
      NULL },

    { ngx_string("ddt_restore_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ddt_redis_main_conf_t, restore_timeout),
      NULL },

    { ngx_string("ddt_critical_sync"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ddt_redis_main_conf_t, critical_sync),
      NULL },

    { ngx_string("ddt_critical_wait"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ddt_redis_main_conf_t, critical_wait),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_ddt_redis_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_ddt_redis_postconfiguration,  /* postconfiguration */

    ngx_http_ddt_redis_create_main_conf,   /* create main configuration */
    ngx_http_ddt_redis_init_main_conf,     /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_ddt_redis_module = {
    NGX_MODULE_V1,
    &ngx_http_ddt_redis_module_ctx,        /* module context */
    ngx_http_ddt_redis_commands,           /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_ddt_redis_init_process,       /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_ddt_redis_exit_process,       /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_ddt_redis_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_ddt_redis_main_conf_t  *rcf;

    rcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_ddt_redis_main_conf_t));
    if (rcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     rcf->enabled = 0;
     *     rcf->sentinels = NULL;
     *     rcf->password = { 0, NULL };
     */

    rcf->database = NGX_CONF_UNSET;
    rcf->connect_timeout = NGX_CONF_UNSET_MSEC;
    rcf->timeout = NGX_CONF_UNSET_MSEC;
    rcf->pool_size = NGX_CONF_UNSET_UINT;
    rcf->shards = NGX_CONF_UNSET_UINT;
    rcf->stream_maxlen = NGX_CONF_UNSET_UINT;
    rcf->persister = NGX_CONF_UNSET;
    rcf->restore_timeout = NGX_CONF_UNSET_MSEC;
    rcf->critical_sync = NGX_CONF_UNSET;
    rcf->critical_wait = NGX_CONF_UNSET_MSEC;

    return rcf;
}


static char *
ngx_http_ddt_redis_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_ddt_redis_main_conf_t  *rcf = conf;

    ngx_conf_init_value(rcf->database, 0);
    ngx_conf_init_msec_value(rcf->connect_timeout, 1000);
    ngx_conf_init_msec_value(rcf->timeout, 1000);
    ngx_conf_init_uint_value(rcf->pool_size, 2);
    ngx_conf_init_uint_value(rcf->shards, 1);
    ngx_conf_init_value(rcf->persister, 0);
    ngx_conf_init_msec_value(rcf->restore_timeout, 500);
    ngx_conf_init_msec_value(rcf->critical_wait, 200);

    if (rcf->persister && !rcf->enabled) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "ddt_persister on needs ddt_redis or "
                           "ddt_redis_sentinel");
        return NGX_CONF_ERROR;
    }

    if (rcf->critical_sync == 1 && !rcf->persister) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "ddt_critical_sync on needs ddt_persister on");
        return NGX_CONF_ERROR;
    }

    /* on with a persister, unless said otherwise */
    ngx_conf_init_value(rcf->critical_sync, rcf->persister);

    /*
     * With a persister, trimming is its job (it trims what every group
     * has read): no cap unless one is asked for.
     */
    ngx_conf_init_uint_value(rcf->stream_maxlen,
                             rcf->persister ? 0 : 100000);

    if (rcf->restore_timeout == 0 || rcf->critical_wait == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "ddt_restore_timeout and ddt_critical_wait must "
                           "not be 0");
        return NGX_CONF_ERROR;
    }

    if (rcf->pool_size == 0 || rcf->pool_size > 64) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "ddt_redis_pool_size must be 1..64");
        return NGX_CONF_ERROR;
    }

    if (rcf->shards == 0 || rcf->shards > 16384) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "ddt_redis_shards must be 1..16384");
        return NGX_CONF_ERROR;
    }

    if (rcf->database < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "ddt_redis_database must not be negative");
        return NGX_CONF_ERROR;
    }

    if (rcf->timeout == 0 || rcf->connect_timeout == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "ddt_redis timeouts must not be 0");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* The Redis store replaces the embedded one when an address is given. */

static ngx_int_t
ngx_http_ddt_redis_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_ddt_main_conf_t        *mcf;
    ngx_http_ddt_redis_main_conf_t  *rcf;

    rcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_ddt_redis_module);

    if (!rcf->enabled) {
        return NGX_OK;
    }

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_ddt_module);
    mcf->store = &ngx_http_ddt_store_redis;

    return NGX_OK;
}


/* "host:port", "ip:port" or "unix:/path", resolved now. */

static char *
ngx_http_ddt_redis_parse(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_ddt_redis_addr_t *a, in_port_t default_port)
{
    size_t     len;
    ngx_url_t  u;

    ngx_memzero(a, sizeof(ngx_http_ddt_redis_addr_t));
    a->text = *value;

    if (value->len > 5 && ngx_strncmp(value->data, "unix:", 5) == 0) {
        len = value->len - 5;

        if (len >= sizeof(a->host)) {
            return "has a unix socket path that is too long";
        }

        a->unix_socket = 1;
        ngx_memcpy(a->host, value->data + 5, len);
        a->host[len] = '\0';

        return NGX_CONF_OK;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = *value;
    u.default_port = default_port;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in \"%V\"",
                           u.err ? u.err : "invalid address", value);
        return NGX_CONF_ERROR;
    }

    if (u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" does not resolve",
                           value);
        return NGX_CONF_ERROR;
    }

    /* the first address, numeric: hiredis will not need to resolve it */

    len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen,
                        (u_char *) a->host, sizeof(a->host) - 1, 0);
    a->host[len] = '\0';
    a->port = ngx_inet_get_port(u.addrs[0].sockaddr);

    return NGX_CONF_OK;
}


static char *
ngx_http_ddt_redis_address(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ddt_redis_main_conf_t  *rcf = conf;

    ngx_str_t  *value;

    if (rcf->enabled) {
        return "is duplicate (one ddt_redis or ddt_redis_sentinel)";
    }

    value = cf->args->elts;
    rcf->enabled = 1;

    return ngx_http_ddt_redis_parse(cf, &value[1], &rcf->addr, 6379);
}


/* ddt_redis_sentinel ADDR... master=NAME */

static char *
ngx_http_ddt_redis_sentinel(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ddt_redis_main_conf_t  *rcf = conf;

    char                       *rv;
    ngx_str_t                  *value;
    ngx_uint_t                  i;
    ngx_http_ddt_redis_addr_t  *a;

    if (rcf->enabled) {
        return "is duplicate (one ddt_redis or ddt_redis_sentinel)";
    }

    value = cf->args->elts;

    rcf->sentinels = ngx_array_create(cf->pool, 3,
                                      sizeof(ngx_http_ddt_redis_addr_t));
    if (rcf->sentinels == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "master=", 7) == 0) {
            rcf->master.data = value[i].data + 7;
            rcf->master.len = value[i].len - 7;
            continue;
        }

        a = ngx_array_push(rcf->sentinels);
        if (a == NULL) {
            return NGX_CONF_ERROR;
        }

        rv = ngx_http_ddt_redis_parse(cf, &value[i], a, 26379);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    if (rcf->master.len == 0) {
        return "needs master=NAME";
    }

    if (rcf->sentinels->nelts == 0) {
        return "needs at least one sentinel address";
    }

    rcf->enabled = 1;

    return NGX_CONF_OK;
}


/* ddt_redis_stream_maxlen number | off */

static char *
ngx_http_ddt_redis_maxlen(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ddt_redis_main_conf_t  *rcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (rcf->stream_maxlen != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        rcf->stream_maxlen = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[1].data, value[1].len);
    if (n == NGX_ERROR || n == 0) {
        return "must be a positive number or \"off\"";
    }

    rcf->stream_maxlen = (ngx_uint_t) n;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_ddt_redis_init_process(ngx_cycle_t *cycle)
{
    ngx_http_ddt_main_conf_t        *mcf;
    ngx_http_ddt_redis_main_conf_t  *rcf;

    rcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_ddt_redis_module);
    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_ddt_module);

    if (rcf == NULL || !rcf->enabled || mcf == NULL || mcf->zone == NULL) {
        return NGX_OK;
    }

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    if (rcf->persister) {
        /* the subscriber and its waiters, before the connections open */
        ngx_http_ddt_redis_wait_init(cycle->log);
    }

    return ngx_http_ddt_redis_conn_init(cycle, rcf);
}


static void
ngx_http_ddt_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_ddt_redis_conn_exit(cycle);
}
