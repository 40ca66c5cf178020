
/*
 * ngx_http_ddt_rand.c: session ids.  Generated ids are 128 random bits,
 * base64url without padding (22 characters).  Each worker seeds a ChaCha20
 * keystream once from getrandom(2) (or /dev/urandom) at init and draws
 * from it; ngx_random() is not used, it is not a cryptographic source.
 * Client ids are checked against [A-Za-z0-9_-]{8,128}.
 */

#include "ngx_http_ddt_module.h"

#include <sys/random.h>


typedef struct {
    uint32_t        state[16];
    uint32_t        block[16];
    ngx_uint_t      used;                       /* bytes of block used */
    ngx_uint_t      ready;
    ngx_pid_t       pid;
} ngx_http_ddt_chacha_t;


static ngx_http_ddt_chacha_t  ngx_http_ddt_rng;


#define ngx_http_ddt_rotl(v, n)  (((v) << (n)) | ((v) >> (32 - (n))))

#define ngx_http_ddt_qr(a, b, c, d)                                          \
    a += b; d ^= a; d = ngx_http_ddt_rotl(d, 16);                             \
    c += d; b ^= c; b = ngx_http_ddt_rotl(b, 12);                             \
    a += b; d ^= a; d = ngx_http_ddt_rotl(d, 8);                              \
    c += d; b ^= c; b = ngx_http_ddt_rotl(b, 7)


static void
ngx_http_ddt_chacha_block(ngx_http_ddt_chacha_t *c)
{
    int        i;
    uint32_t  *x;

    x = c->block;
    ngx_memcpy(x, c->state, sizeof(c->state));

    for (i = 0; i < 10; i++) {
        ngx_http_ddt_qr(x[0], x[4], x[8], x[12]);
        ngx_http_ddt_qr(x[1], x[5], x[9], x[13]);
        ngx_http_ddt_qr(x[2], x[6], x[10], x[14]);
        ngx_http_ddt_qr(x[3], x[7], x[11], x[15]);
        ngx_http_ddt_qr(x[0], x[5], x[10], x[15]);
        ngx_http_ddt_qr(x[1], x[6], x[11], x[12]);
        ngx_http_ddt_qr(x[2], x[7], x[8], x[13]);
        ngx_http_ddt_qr(x[3], x[4], x[9], x[14]);
    }

    for (i = 0; i < 16; i++) {
        x[i] += c->state[i];
    }

    /* 64-bit block counter */
    if (++c->state[12] == 0) {
        c->state[13]++;
    }

    c->used = 0;
}


static ngx_int_t
ngx_http_ddt_seed(u_char *buf, size_t n, ngx_log_t *log)
{
    ssize_t   got;
    size_t    have;
    ngx_fd_t  fd;

    have = 0;

    while (have < n) {
        got = getrandom(buf + have, n - have, 0);
        if (got < 0) {
            if (ngx_errno == NGX_EINTR) {
                continue;
            }

            break;
        }

        have += got;
    }

    if (have == n) {
        return NGX_OK;
    }

    fd = ngx_open_file("/dev/urandom", NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "ddt: no random source (getrandom, /dev/urandom)");
        return NGX_ERROR;
    }

    got = read(fd, buf, n);
    ngx_close_file(fd);

    if (got != (ssize_t) n) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "ddt: cannot read /dev/urandom");
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_ddt_rand_init(ngx_log_t *log)
{
    u_char                  seed[40];
    ngx_http_ddt_chacha_t  *c;

    c = &ngx_http_ddt_rng;

    if (ngx_http_ddt_seed(seed, sizeof(seed), log) != NGX_OK) {
        return NGX_ERROR;
    }

    /* "expand 32-byte k", 256-bit key, counter 0, 64-bit nonce */
    c->state[0] = 0x61707865;
    c->state[1] = 0x3320646e;
    c->state[2] = 0x79622d32;
    c->state[3] = 0x6b206574;
    ngx_memcpy(&c->state[4], seed, 32);
    c->state[12] = 0;
    c->state[13] = 0;
    ngx_memcpy(&c->state[14], seed + 32, 8);

    ngx_memzero(seed, sizeof(seed));

    c->used = sizeof(c->block);
    c->ready = 1;
    c->pid = ngx_pid;

    return NGX_OK;
}


void
ngx_http_ddt_rand_bytes(u_char *buf, size_t n)
{
    size_t                  k;
    ngx_http_ddt_chacha_t  *c;

    c = &ngx_http_ddt_rng;

    if (!c->ready || c->pid != ngx_pid) {
        /* not seeded in this process (single process mode, a fork) */
        (void) ngx_http_ddt_rand_init(ngx_cycle->log);
    }

    while (n) {
        if (c->used == sizeof(c->block)) {
            ngx_http_ddt_chacha_block(c);
        }

        k = ngx_min(n, sizeof(c->block) - c->used);
        ngx_memcpy(buf, (u_char *) c->block + c->used, k);

        /* never hand out the same keystream twice */
        ngx_memzero((u_char *) c->block + c->used, k);

        c->used += k;
        buf += k;
        n -= k;
    }
}


ngx_int_t
ngx_http_ddt_session_id_generate(ngx_pool_t *pool, ngx_str_t *id)
{
    u_char     raw[16];
    ngx_str_t  src;

    ngx_http_ddt_rand_bytes(raw, sizeof(raw));

    id->data = ngx_pnalloc(pool, ngx_base64_encoded_length(sizeof(raw)) + 1);
    if (id->data == NULL) {
        return NGX_ERROR;
    }

    src.data = raw;
    src.len = sizeof(raw);

    ngx_encode_base64url(id, &src);
    id->data[id->len] = '\0';

    return NGX_OK;
}


ngx_int_t
ngx_http_ddt_session_id_valid(u_char *s, size_t len)
{
    size_t  i;
    u_char  ch;

    if (len < NGX_HTTP_DDT_ID_MIN || len > NGX_HTTP_DDT_ID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        ch = s[i];

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
            || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')
        {
            continue;
        }

        return 0;
    }

    return 1;
}
