/*
 * t.h: the unit tests' tiny harness: CHECK macros that count and report
 * failures with file:line, and T_DONE() that returns the exit status.
 */
#ifndef DDT_T_H
#define DDT_T_H

#include <stdio.h>
#include <string.h>

static int t_fail, t_pass;

#define CHECK(cond) do { \
    if (cond) { t_pass++; } else { t_fail++; \
        fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_MSG(cond, ...) do { \
    if (cond) { t_pass++; } else { t_fail++; \
        fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
} while (0)

#define CHECK_STR(got, want) do { \
    const char *g_ = (got), *w_ = (want); \
    if (g_ && w_ && strcmp(g_, w_) == 0) { t_pass++; } else { t_fail++; \
        fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, \
                g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } \
} while (0)

#define CHECK_INT(got, want) do { \
    long long g_ = (long long) (got), w_ = (long long) (want); \
    if (g_ == w_) { t_pass++; } else { t_fail++; \
        fprintf(stderr, "%s:%d: %s = %lld, want %lld\n", __FILE__, __LINE__, \
                #got, g_, w_); } \
} while (0)

#define T_DONE() ( \
    fprintf(stderr, "%s: %d passed, %d failed\n", __FILE__, t_pass, t_fail), \
    t_fail ? 1 : 0)

#endif
