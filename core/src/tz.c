/*
 * tz.c: local time for a project timezone, from built-in rules (no tzdata,
 * no file I/O, no libc time zone state).  Supported zones:
 *
 *   UTC, Etc/UTC, GMT                      UTC, no DST
 *   Europe/London, Europe/Dublin,
 *   Europe/Lisbon                          UTC+0, EU DST
 *   Europe/Rome, Paris, Berlin, Madrid, Amsterdam, Brussels, Vienna,
 *   Zurich, Stockholm, Oslo, Copenhagen, Prague, Warsaw, Budapest,
 *   Luxembourg, Ljubljana, Zagreb, Bratislava, Monaco, Malta,
 *   Vatican, San_Marino                    UTC+1, EU DST
 *   Europe/Athens, Helsinki, Bucharest, Sofia, Riga, Tallinn, Vilnius
 *                                          UTC+2, EU DST
 *   America/New_York -5, America/Chicago -6, America/Denver -7,
 *   America/Los_Angeles -8                 US DST
 *   America/Phoenix -7                     no DST
 *
 * EU rule (since 1996): summer time from the last Sunday of March 01:00 UTC
 * to the last Sunday of October 01:00 UTC.  US rule (since 2007): from the
 * second Sunday of March 02:00 local standard time to the first Sunday of
 * November 02:00 local daylight time.  Historical rule changes are not
 * modelled: dates before 2007 use the same rules.
 */
#include <string.h>

#include "runtime.h"

typedef enum { RULE_NONE = 0, RULE_EU, RULE_US } rule_t;

typedef struct {
    const char  *name;
    int          offset_min;          /* standard offset from UTC */
    rule_t       rule;
} zone_t;

static const zone_t zones[] = {
    { "UTC", 0, RULE_NONE },
    { "Etc/UTC", 0, RULE_NONE },
    { "GMT", 0, RULE_NONE },
    { "Europe/London", 0, RULE_EU },
    { "Europe/Dublin", 0, RULE_EU },
    { "Europe/Lisbon", 0, RULE_EU },
    { "Europe/Rome", 60, RULE_EU },
    { "Europe/Paris", 60, RULE_EU },
    { "Europe/Berlin", 60, RULE_EU },
    { "Europe/Madrid", 60, RULE_EU },
    { "Europe/Amsterdam", 60, RULE_EU },
    { "Europe/Brussels", 60, RULE_EU },
    { "Europe/Vienna", 60, RULE_EU },
    { "Europe/Zurich", 60, RULE_EU },
    { "Europe/Stockholm", 60, RULE_EU },
    { "Europe/Oslo", 60, RULE_EU },
    { "Europe/Copenhagen", 60, RULE_EU },
    { "Europe/Prague", 60, RULE_EU },
    { "Europe/Warsaw", 60, RULE_EU },
    { "Europe/Budapest", 60, RULE_EU },
    { "Europe/Luxembourg", 60, RULE_EU },
    { "Europe/Ljubljana", 60, RULE_EU },
    { "Europe/Zagreb", 60, RULE_EU },
    { "Europe/Bratislava", 60, RULE_EU },
    { "Europe/Monaco", 60, RULE_EU },
    { "Europe/Malta", 60, RULE_EU },
    { "Europe/Vatican", 60, RULE_EU },
    { "Europe/San_Marino", 60, RULE_EU },
    { "Europe/Athens", 120, RULE_EU },
    { "Europe/Helsinki", 120, RULE_EU },
    { "Europe/Bucharest", 120, RULE_EU },
    { "Europe/Sofia", 120, RULE_EU },
    { "Europe/Riga", 120, RULE_EU },
    { "Europe/Tallinn", 120, RULE_EU },
    { "Europe/Vilnius", 120, RULE_EU },
    { "America/New_York", -300, RULE_US },
    { "America/Chicago", -360, RULE_US },
    { "America/Denver", -420, RULE_US },
    { "America/Los_Angeles", -480, RULE_US },
    { "America/Phoenix", -420, RULE_NONE },
};


static const zone_t *
find_zone(const char *tz)
{
    size_t  i;

    if (tz == NULL) {
        return NULL;
    }
    for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        if (strcmp(zones[i].name, tz) == 0) {
            return &zones[i];
        }
    }
    return NULL;
}


int
ddt_tz_known(const char *tz)
{
    return find_zone(tz) != NULL;
}


/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t  era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}


static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
    int64_t  era, doe, yoe, doy, mp, yy;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    yy = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int) (doy - (153 * mp + 2) / 5 + 1);
    *m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y = (int) (yy + (*m <= 2));
}


/* 0 = Sunday */
static int
weekday(int64_t days)
{
    int64_t  w;

    w = (days + 4) % 7;               /* 1970-01-01 was a Thursday */
    return (int) (w < 0 ? w + 7 : w);
}


static int64_t
last_sunday(int y, int m)
{
    int64_t  d;
    int      dim;
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                 31 };

    dim = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        dim = 29;
    }
    d = days_from_civil(y, m, dim);
    return d - weekday(d);
}


static int64_t
nth_sunday(int y, int m, int n)
{
    int64_t  d;

    d = days_from_civil(y, m, 1);
    d += (7 - weekday(d)) % 7;
    return d + 7 * (n - 1);
}


static int
in_dst(const zone_t *z, int64_t utc_s, int year)
{
    int64_t  start, end;

    switch (z->rule) {
    case RULE_EU:
        start = last_sunday(year, 3) * 86400 + 3600;
        end = last_sunday(year, 10) * 86400 + 3600;
        return utc_s >= start && utc_s < end;
    case RULE_US:
        start = nth_sunday(year, 3, 2) * 86400 + 7200
                - (int64_t) z->offset_min * 60;
        end = nth_sunday(year, 11, 1) * 86400 + 7200
              - ((int64_t) z->offset_min + 60) * 60;
        return utc_s >= start && utc_s < end;
    default:
        return 0;
    }
}


void
ddt_tz_local(const char *tz, int64_t now_ms, ddt_localtime_t *out)
{
    const zone_t  *z;
    int64_t        s, local, days, rem;
    int            y, m, d;

    z = find_zone(tz);
    if (z == NULL) {
        z = &zones[0];
    }
    /* keep far-away clocks sane: years 1..9999 */
    if (now_ms < -62135596800000LL) {
        now_ms = -62135596800000LL;
    } else if (now_ms > 253402300799000LL) {
        now_ms = 253402300799000LL;
    }
    s = now_ms >= 0 ? now_ms / 1000 : -((-now_ms + 999) / 1000);
    local = s + (int64_t) z->offset_min * 60;
    days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    civil_from_days(days, &y, &m, &d);
    if (in_dst(z, s, y)) {
        local += 3600;
        days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
        civil_from_days(days, &y, &m, &d);
    }
    rem = local - days * 86400;
    out->year = y;
    out->month = m;
    out->day = d;
    out->hour = (int) (rem / 3600);
    out->minute = (int) (rem % 3600 / 60);
    out->second = (int) (rem % 60);
}
