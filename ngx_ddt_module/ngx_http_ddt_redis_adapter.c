
/*
 * ngx_http_ddt_redis_adapter.c: the hiredis <-> ngx_connection_t plumbing
 * and nothing else.  hiredis asks for events through five hooks; nginx
 * delivers them to the two handlers below.  Who owns what:
 *
 *   - the fd is hiredis's until the cleanup hook; there nginx's
 *     ngx_close_connection() removes the events (and any posted one),
 *     returns the connection and closes the fd, and the context's fd is set
 *     to -1 so that redisFree() does not close it a second time;
 *   - with edge-triggered events (epoll) an event that was already
 *     reported is not reported again: data left unread after hiredis's
 *     16 KB read is read while FIONREAD says there is more, and a write
 *     asked for while the socket is known writable is posted instead of
 *     waited for;
 *   - after any call into hiredis the context may be gone (a callback freed
 *     it, an error did): the connection's fd and number tell.
 */

#include "ngx_http_ddt_redis_adapter.h"

#include <sys/ioctl.h>


/* reads in one event before yielding to the rest of the loop */
#define NGX_HTTP_DDT_REDIS_READS  32


static void ngx_http_ddt_redis_read_handler(ngx_event_t *rev);
static void ngx_http_ddt_redis_write_handler(ngx_event_t *wev);
static void ngx_http_ddt_redis_add_read(void *privdata);
static void ngx_http_ddt_redis_del_read(void *privdata);
static void ngx_http_ddt_redis_add_write(void *privdata);
static void ngx_http_ddt_redis_del_write(void *privdata);
static void ngx_http_ddt_redis_cleanup(void *privdata);


ngx_int_t
ngx_http_ddt_redis_attach(redisAsyncContext *ac, ngx_log_t *log)
{
    ngx_connection_t  *c;

    if (ac->ev.data != NULL) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "ddt: redis context is already attached");
        return NGX_ERROR;
    }

    c = ngx_get_connection(ac->c.fd, log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = ac;
    c->log = log;
    c->read->log = log;
    c->write->log = log;
    c->read->handler = ngx_http_ddt_redis_read_handler;
    c->write->handler = ngx_http_ddt_redis_write_handler;

    /* a number no other connection has: tells a reused connection apart */
    c->number = ngx_atomic_fetch_add(ngx_connection_counter, 1);

    ac->ev.data = c;
    ac->ev.addRead = ngx_http_ddt_redis_add_read;
    ac->ev.delRead = ngx_http_ddt_redis_del_read;
    ac->ev.addWrite = ngx_http_ddt_redis_add_write;
    ac->ev.delWrite = ngx_http_ddt_redis_del_write;
    ac->ev.cleanup = ngx_http_ddt_redis_cleanup;

    return NGX_OK;
}


/* The context behind c was freed (and c maybe given to someone else). */

static ngx_inline ngx_uint_t
ngx_http_ddt_redis_gone(ngx_connection_t *c, ngx_atomic_uint_t number)
{
    return c->fd == (ngx_socket_t) -1 || c->number != number;
}


static void
ngx_http_ddt_redis_read_handler(ngx_event_t *rev)
{
    int                 n;
    ngx_uint_t          i;
    ngx_connection_t   *c;
    ngx_atomic_uint_t   number;
    redisAsyncContext  *ac;

    c = rev->data;
    ac = c->data;
    number = c->number;

    for (i = 0; i < NGX_HTTP_DDT_REDIS_READS; i++) {

        redisAsyncHandleRead(ac);

        if (ngx_http_ddt_redis_gone(c, number)) {
            return;
        }

        n = 0;

        if (ioctl(c->fd, FIONREAD, &n) == -1 || n <= 0) {
            return;
        }
    }

    /* more is waiting: come back after the other events of this cycle */

    ngx_post_event(rev, &ngx_posted_events);
}


static void
ngx_http_ddt_redis_write_handler(ngx_event_t *wev)
{
    ngx_connection_t   *c;
    ngx_atomic_uint_t   number;
    redisAsyncContext  *ac;

    c = wev->data;
    ac = c->data;
    number = c->number;

    redisAsyncHandleWrite(ac);

    if (ngx_http_ddt_redis_gone(c, number)) {
        return;
    }

    if (ac->c.obuf && sdslen(ac->c.obuf) > 0) {
        /* a partial write: the socket is full, wait for the kernel */
        wev->ready = 0;
    }
}


static void
ngx_http_ddt_redis_add_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "ddt: redis: cannot add the read event");
    }
}


static void
ngx_http_ddt_redis_del_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    /* edge-triggered events stay: a stray one reads nothing */

    if (!(ngx_event_flags & NGX_USE_CLEAR_EVENT) && c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_ddt_redis_add_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    ngx_event_t  *wev;

    wev = c->write;

    if (wev->ready) {
        /*
         * Writable already, and an edge-triggered event would not come
         * again: write after the current handlers, together with every
         * other command asked for in this cycle.
         */

        if (!wev->posted) {
            ngx_post_event(wev, &ngx_posted_events);
        }

        return;
    }

    if (ngx_handle_write_event(wev, 0) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "ddt: redis: cannot add the write event");
    }
}


static void
ngx_http_ddt_redis_del_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (!(ngx_event_flags & NGX_USE_CLEAR_EVENT) && c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


static void
ngx_http_ddt_redis_cleanup(void *privdata)
{
    ngx_connection_t  *c = privdata;

    redisAsyncContext  *ac;

    if (c == NULL) {
        return;
    }

    ac = c->data;

    /* nginx closes the fd (once); hiredis must not close it again */

    ac->c.fd = -1;
    ac->ev.data = NULL;

    ngx_close_connection(c);
}
