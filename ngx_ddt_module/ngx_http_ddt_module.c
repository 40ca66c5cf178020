
/*
 * ngx_http_ddt_module.c: the directives, the main and location
 * configurations, compiling `ddt_project` files at configuration time, and
 * the per-process init.  The request handlers are in ngx_http_ddt_api.c;
 * the shared zone in ngx_http_ddt_zone.c.
 */

#include "ngx_http_ddt_module.h"
#include "ngx_http_ddt_zone.h"
#include "ngx_http_ddt_store.h"


static void *ngx_http_ddt_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_ddt_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_ddt_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_ddt_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_ddt_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_ddt_init_process(ngx_cycle_t *cycle);
static void ngx_http_ddt_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_ddt_project(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ddt_test_now(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ddt_handler_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_command_t  ngx_http_ddt_commands[] = {

    { ngx_string("ddt_zone_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ddt_main_conf_t, zone_size),
      NULL },

    { ngx_string("ddt_project"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_ddt_project,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ddt_session_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ddt_main_conf_t, session_timeout),
      NULL },

    { ngx_string("ddt_test_now"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_ddt_test_now,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ddt_service"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_ddt_service,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ddt_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_ddt_handler_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) NGX_HTTP_DDT_API },

    { ngx_string("ddt_admin"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_ddt_handler_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) NGX_HTTP_DDT_ADMIN },

    { ngx_string("ddt_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_ddt_handler_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) NGX_HTTP_DDT_METRICS },

    { ngx_string("ddt_max_body_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ddt_loc_conf_t, max_body_size),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_ddt_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_ddt_postconfiguration,        /* postconfiguration */

    ngx_http_ddt_create_main_conf,         /* create main configuration */
    ngx_http_ddt_init_main_conf,           /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_ddt_create_loc_conf,          /* create location configuration */
    ngx_http_ddt_merge_loc_conf            /* merge location configuration */
};


ngx_module_t  ngx_http_ddt_module = {
    NGX_MODULE_V1,
    &ngx_http_ddt_module_ctx,              /* module context */
    ngx_http_ddt_commands,                 /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_ddt_init_process,             /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_ddt_exit_process,             /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_ddt_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_ddt_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_ddt_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    mcf->zone_size = NGX_CONF_UNSET_SIZE;
    mcf->session_timeout = NGX_CONF_UNSET_MSEC;
    mcf->test_now_ms = -1;
    mcf->store = &ngx_http_ddt_store_embedded;

    return mcf;
}


static char *
ngx_http_ddt_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_ddt_main_conf_t  *mcf = conf;

    ngx_conf_init_size_value(mcf->zone_size, 32 * 1024 * 1024);
    ngx_conf_init_msec_value(mcf->session_timeout, 3600 * 1000);

    if (mcf->zone_size < 8 * ngx_pagesize) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "ddt_zone_size %uz is too small", mcf->zone_size);
        return NGX_CONF_ERROR;
    }

    if (!mcf->enabled && mcf->projects == NULL) {
        return NGX_CONF_OK;
    }

    if (ngx_http_ddt_zone_add(cf, mcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_ddt_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_ddt_loc_conf_t  *lcf;

    lcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_ddt_loc_conf_t));
    if (lcf == NULL) {
        return NULL;
    }

    lcf->kind = NGX_HTTP_DDT_NONE;
    lcf->max_body_size = NGX_CONF_UNSET_SIZE;

    return lcf;
}


static char *
ngx_http_ddt_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_ddt_loc_conf_t  *prev = parent;
    ngx_http_ddt_loc_conf_t  *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    /*
     * The default depends on the handler of the location itself (64k for
     * ddt_api, 16m for ddt_admin), so an unset value is inherited as unset
     * and resolved only where a handler is set.
     */

    if (conf->max_body_size == NGX_CONF_UNSET_SIZE) {
        conf->max_body_size = prev->max_body_size;
    }

    if (conf->max_body_size == NGX_CONF_UNSET_SIZE
        && conf->kind != NGX_HTTP_DDT_NONE)
    {
        conf->max_body_size = (conf->kind == NGX_HTTP_DDT_ADMIN)
                              ? 16 * 1024 * 1024 : 64 * 1024;
    }

    if (conf->kind == NGX_HTTP_DDT_API || conf->kind == NGX_HTTP_DDT_ADMIN) {

        /*
         * The body limit of these locations is ddt_max_body_size, answered
         * with a JSON 413; nginx's own client_max_body_size would answer
         * with an HTML page first, so it is lifted here (the core module's
         * configuration of this location is already merged).
         */

        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
        clcf->client_max_body_size = 0;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_ddt_postconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_ddt_body_filter_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_ddt_effect_filter_init(cf);
}


static char *
ngx_http_ddt_handler_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ddt_loc_conf_t  *lcf = conf;

    ngx_http_core_loc_conf_t  *clcf;
    ngx_http_ddt_main_conf_t  *mcf;

    if (lcf->kind != NGX_HTTP_DDT_NONE) {
        return "is duplicate (one of ddt_api, ddt_admin, ddt_metrics "
               "per location)";
    }

    lcf->kind = (ngx_uint_t) cmd->post;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = lcf->kind == NGX_HTTP_DDT_METRICS
                    ? ngx_http_ddt_metrics_handler
                    : ngx_http_ddt_api_handler;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_ddt_module);
    mcf->enabled = 1;

    return NGX_CONF_OK;
}


/* One compiler message: `path: message` (errors emerg, warnings warn). */

static void
ngx_http_ddt_project_diag(ngx_conf_t *cf, ngx_str_t *file, ddt_diag_t *d)
{
    ngx_uint_t  level;

    level = d->warning ? NGX_LOG_WARN : NGX_LOG_EMERG;

    if (d->path && d->path[0]) {
        ngx_conf_log_error(level, cf, 0, "ddt_project \"%V\": %s: %s", file,
                           d->path, d->message ? d->message : "");

    } else {
        ngx_conf_log_error(level, cf, 0, "ddt_project \"%V\": %s", file,
                           d->message ? d->message : "");
    }
}


/*
 * ddt_project FILE: read and compile now, so that `nginx -t` fails with
 * every compiler message of a broken project; the block is published into
 * the shared zone when the zone is initialised.
 */

static char *
ngx_http_ddt_project(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ddt_main_conf_t  *mcf = conf;

    char                          err[256];
    u_char                       *src;
    ssize_t                       n;
    ngx_str_t                    *value, file;
    ngx_uint_t                    i;
    ngx_file_t                    f;
    ngx_file_info_t               fi;
    ngx_http_ddt_compiled_t       c;
    ngx_http_ddt_conf_project_t  *cp;

    value = cf->args->elts;
    file = value[1];

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&f, sizeof(ngx_file_t));
    f.name = file;
    f.log = cf->log;

    f.fd = ngx_open_file(file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (f.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &file);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(f.fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%V\" failed", &file);
        ngx_close_file(f.fd);
        return NGX_CONF_ERROR;
    }

    src = ngx_pnalloc(cf->pool, ngx_file_size(&fi) + 1);
    if (src == NULL) {
        ngx_close_file(f.fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_file(&f, src, ngx_file_size(&fi), 0);
    ngx_close_file(f.fd);

    if (n != (ssize_t) ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "ddt_project: cannot read \"%V\"", &file);
        return NGX_CONF_ERROR;
    }

    src[n] = '\0';

    if (ngx_http_ddt_project_compile(src, n, &c, cf->pool, err, sizeof(err))
        != NGX_OK)
    {
        for (i = 0; i < c.diags.n; i++) {
            ngx_http_ddt_project_diag(cf, &file, &c.diags.items[i]);
        }

        if (c.diags.errors == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "ddt_project \"%V\": %s", &file, err);
        }

        ngx_http_ddt_project_compiled_free(&c);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < c.diags.n; i++) {
        ngx_http_ddt_project_diag(cf, &file, &c.diags.items[i]);
    }

    if (mcf->projects == NULL) {
        mcf->projects = ngx_array_create(cf->pool, 4,
                                         sizeof(ngx_http_ddt_conf_project_t));
        if (mcf->projects == NULL) {
            ngx_http_ddt_project_compiled_free(&c);
            return NGX_CONF_ERROR;
        }
    }

    cp = mcf->projects->elts;

    for (i = 0; i < mcf->projects->nelts; i++) {
        if (cp[i].name.len == c.name.len
            && ngx_strncmp(cp[i].name.data, c.name.data, c.name.len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "ddt_project \"%V\": project \"%V\" is "
                               "already loaded from \"%V\"",
                               &file, &c.name, &cp[i].file);
            ngx_http_ddt_project_compiled_free(&c);
            return NGX_CONF_ERROR;
        }
    }

    cp = ngx_array_push(mcf->projects);
    if (cp == NULL) {
        ngx_http_ddt_project_compiled_free(&c);
        return NGX_CONF_ERROR;
    }

    cp->file = file;
    cp->name = c.name;
    cp->label = c.label;
    ngx_memcpy(cp->checksum, c.checksum, sizeof(cp->checksum));
    cp->source.data = src;
    cp->source.len = n;

    cp->block.len = c.block_len;
    cp->block.data = ngx_pnalloc(cf->pool, c.block_len);
    if (cp->block.data == NULL) {
        ngx_http_ddt_project_compiled_free(&c);
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(cp->block.data, c.block, c.block_len);
    ngx_http_ddt_project_compiled_free(&c);

    mcf->enabled = 1;

    return NGX_CONF_OK;
}


/* Days since 1970-01-01 of a proleptic Gregorian date. */

static int64_t
ngx_http_ddt_days_from_civil(int year, int mon, int day)
{
    int  y, era, yoe, doy, doe;

    y = year - (mon <= 2);
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return (int64_t) era * 146097 + doe - 719468;
}


/*
 * ddt_test_now 2026-03-12T10:00:00Z: pin the clock the core sees.  Also
 * 2026-03-12T11:00:00+01:00, fractions of a second, or a bare date
 * (midnight); no offset means UTC.
 */

static char *
ngx_http_ddt_test_now(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ddt_main_conf_t  *mcf = conf;

    int         year, mon, day, hour, min, sec, n, off;
    char        buf[64], *tz;
    int64_t     ms;
    ngx_str_t  *value;

    value = cf->args->elts;

    if (mcf->test_now_ms != -1) {
        return "is duplicate";
    }

    if (value[1].len >= sizeof(buf)) {
        goto invalid;
    }

    ngx_memcpy(buf, value[1].data, value[1].len);
    buf[value[1].len] = '\0';

    hour = min = sec = 0;
    n = 0;

    if (sscanf(buf, "%4d-%2d-%2dT%2d:%2d:%2d%n",
               &year, &mon, &day, &hour, &min, &sec, &n) != 6)
    {
        n = 0;
        if (sscanf(buf, "%4d-%2d-%2d%n", &year, &mon, &day, &n) != 3) {
            goto invalid;
        }
    }

    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour < 0 || hour > 23
        || min < 0 || min > 59 || sec < 0 || sec > 60)
    {
        goto invalid;
    }

    tz = buf + n;

    if (*tz == '.') {
        do { tz++; } while (*tz >= '0' && *tz <= '9');
    }

    ms = (ngx_http_ddt_days_from_civil(year, mon, day) * 86400
          + hour * 3600 + min * 60 + sec) * 1000;

    if (*tz == 'Z' && tz[1] == '\0') {
        /* UTC */

    } else if ((*tz == '+' || *tz == '-') && ngx_strlen(tz) == 6
               && tz[3] == ':'
               && isdigit((u_char) tz[1]) && isdigit((u_char) tz[2])
               && isdigit((u_char) tz[4]) && isdigit((u_char) tz[5]))
    {
        off = ((tz[1] - '0') * 10 + (tz[2] - '0')) * 60
              + (tz[4] - '0') * 10 + (tz[5] - '0');

        ms += (int64_t) ((*tz == '+') ? -off : off) * 60000;

    } else if (*tz != '\0') {
        goto invalid;
    }

    mcf->test_now_ms = ms;
    mcf->test_now_text = value[1];

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "ddt_test_now: \"%V\" is not an ISO 8601 date-time "
                       "(e.g. 2026-03-12T10:00:00Z)", &value[1]);
    return NGX_CONF_ERROR;
}


int64_t
ngx_http_ddt_now_ms(ngx_http_ddt_main_conf_t *mcf)
{
    ngx_time_t  *tp;

    if (mcf->test_now_ms != -1) {
        return mcf->test_now_ms;
    }

    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + tp->msec;
}


static ngx_int_t
ngx_http_ddt_init_process(ngx_cycle_t *cycle)
{
    ngx_http_ddt_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_ddt_module);
    if (mcf == NULL || mcf->zone == NULL) {
        return NGX_OK;
    }

    return ngx_http_ddt_rand_init(cycle->log);
}


static void
ngx_http_ddt_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_ddt_cache_free();
    ngx_http_ddt_project_views_free();
}
