
/*
 * ngx_http_ddt_redis_adapter.h: hiredis's asynchronous context plugged
 * into nginx's event loop.  This file owns only the plumbing between a
 * redisAsyncContext and an ngx_connection_t (the ev.addRead/delRead/
 * addWrite/delWrite/cleanup hooks); connection state, timeouts and
 * reconnects are ngx_http_ddt_redis_conn.c's.
 */

#ifndef _NGX_HTTP_DDT_REDIS_ADAPTER_H_INCLUDED_
#define _NGX_HTTP_DDT_REDIS_ADAPTER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


/*
 * Attach ac (just created, fd open, connect in progress) to a new nginx
 * connection.  From then on the context's socket is driven by nginx's
 * events; when hiredis frees the context, the cleanup hook gives the
 * connection back and hiredis closes the fd (once).
 */
ngx_int_t ngx_http_ddt_redis_attach(redisAsyncContext *ac, ngx_log_t *log);


#endif /* _NGX_HTTP_DDT_REDIS_ADAPTER_H_INCLUDED_ */
