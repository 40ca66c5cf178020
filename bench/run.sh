#!/bin/sh
# bench/run.sh: starts nginx with the ddt module and a `return 200` location
# on the same server, then runs wrk against `return 200` (the baseline),
# session creation and a turn loop, each for BENCH_SECONDS, and prints
# requests/s, p50 and p99 latency and each scenario's ratio to the baseline.
# It never fails a build: numbers are for bench/RESULTS.md, not a gate.
#
#   bench/run.sh                      # defaults below
#   BENCH_SECONDS=30 BENCH_THREADS=2 BENCH_CONNECTIONS=64 bench/run.sh
#
# env: BENCH_SECONDS (10), BENCH_THREADS (2), BENCH_CONNECTIONS (32),
#      BENCH_WORKERS (nginx workers, 2), BENCH_PORT (18090),
#      BENCH_SESSIONS (sessions the turn loop creates first, 1024),
#      TEST_NGINX_BINARY (/usr/sbin/nginx)
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
secs=${BENCH_SECONDS:-10}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-32}
workers=${BENCH_WORKERS:-2}
port=${BENCH_PORT:-18090}
sessions=${BENCH_SESSIONS:-1024}
nginx=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
module=$root/build/nginx/objs/ngx_http_ddt_module.so
prefix=$root/build/bench
url=http://127.0.0.1:$port

[ "$sessions" -ge "$conns" ] || sessions=$conns

command -v wrk >/dev/null || { echo "bench: wrk is not installed (./build.sh deps)"; exit 0; }
[ -f "$module" ] || { echo "bench: no module, run ./build.sh build first"; exit 0; }

mkdir -p "$prefix/conf" "$prefix/logs" "$prefix/tmp"
cat >"$prefix/conf/nginx.conf" <<EOC
load_module $module;
worker_processes $workers;
error_log $prefix/logs/error.log warn;
pid $prefix/logs/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $prefix/tmp/body;
    proxy_temp_path $prefix/tmp/proxy;
    fastcgi_temp_path $prefix/tmp/fastcgi;
    uwsgi_temp_path $prefix/tmp/uwsgi;
    scgi_temp_path $prefix/tmp/scgi;
    ddt_zone_size 256m;
    ddt_project $here/projects/bench.json;
    server {
        listen 127.0.0.1:$port backlog=4096;
        keepalive_requests 1000000;
        location = /ok { return 200 "ok\n"; }
        location /v1/ { ddt_api; }
        location = /metrics { ddt_metrics; }
    }
}
EOC

stop() {
    [ -f "$prefix/logs/nginx.pid" ] && kill -QUIT "$(cat "$prefix/logs/nginx.pid")" 2>/dev/null
    sleep 0.5
}
trap stop EXIT INT TERM

stop
"$nginx" -p "$prefix/" -c "$prefix/conf/nginx.conf" -e "$prefix/logs/error.log" \
    || { echo "bench: nginx did not start"; exit 0; }
i=0
until curl -s -o /dev/null "$url/v1/health"; do
    i=$((i + 1)); [ $i -gt 50 ] && { echo "bench: nginx does not answer"; exit 0; }
    sleep 0.1
done

export BENCH_DIR="$here" BENCH_THREADS="$threads" BENCH_SESSIONS="$sessions"
results=$prefix/results.txt
: >"$results"
run() {
    name=$1 script=$2 path=$3
    echo "bench: $name: wrk -t$threads -c$conns -d${secs}s --latency $url$path"
    wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s "$here/$script" \
        "$url$path" >"$prefix/wrk-$name.txt" 2>&1
    grep '^RESULT' "$prefix/wrk-$name.txt" >>"$results" \
        || { echo "bench: $name produced no result:"; tail -5 "$prefix/wrk-$name.txt"; }
}

run return200 return200.lua /ok
run create    create.lua    /v1/sessions
run turn      turn.lua      /v1/sessions/bench-000000/turns

echo
echo "nginx $("$nginx" -v 2>&1 | sed 's/.*\///'), $workers workers, wrk -t$threads -c$conns -d${secs}s, $(nproc) CPUs"
awk '
    { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[$2, kv[1]] = kv[2] }
      names[++n] = $2 }
    END {
        base = v["return200", "rps"]
        printf "%-10s %12s %10s %10s %8s %9s\n", "scenario", "requests/s", "p50 ms", "p99 ms", "errors", "vs ret200"
        for (i = 1; i <= n; i++) {
            k = names[i]
            ratio = base > 0 ? v[k, "rps"] / base : 0
            printf("%-10s %12d %10.3f %10.3f %8d %8.2fx\n", k, v[k, "rps"],
                   v[k, "p50_ms"], v[k, "p99_ms"], v[k, "errors"], ratio)
        }
    }' "$results"
echo "(raw wrk output in build/bench/wrk-*.txt)"
exit 0
