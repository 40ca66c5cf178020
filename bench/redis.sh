#!/bin/sh
# bench/redis.sh: the Redis session store against the embedded store and a
# plain `return 200`, in one run on this machine.  Starts a redis-server on a
# free loopback port and two nginx instances with the same module, project
# and worker count (one embedded, one with `ddt_redis`), creates the
# sessions, then runs wrk (bench/*.lua) against `return 200`, embedded turns
# and Redis turns, one after the other, and prints requests/s, p50, p99 and
# the ratio to `return 200`.  It also reads Redis's INFO commandstats around
# the Redis turn run and prints the Redis commands (= round trips, nothing
# is batched across requests) per turn.  Never fails a build.
#
# env: BENCH_SECONDS (10), BENCH_THREADS (2), BENCH_CONNECTIONS (32),
#      BENCH_WORKERS (2), BENCH_PORT (18190: embedded, +1: Redis),
#      BENCH_SESSIONS (1024), BENCH_REDIS_POOL (2), TEST_NGINX_BINARY
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
secs=${BENCH_SECONDS:-10}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-32}
workers=${BENCH_WORKERS:-2}
port=${BENCH_PORT:-18190}
rport=$((port + 1))
sessions=${BENCH_SESSIONS:-1024}
pool=${BENCH_REDIS_POOL:-2}
nginx=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
module=$root/build/nginx/objs/ngx_http_ddt_module.so
prefix=$root/build/bench-redis

[ "$sessions" -ge "$conns" ] || sessions=$conns

command -v wrk >/dev/null || { echo "bench: wrk is not installed"; exit 0; }
command -v redis-server >/dev/null || { echo "bench: no redis-server"; exit 0; }
[ -f "$module" ] || { echo "bench: no module, run ./build.sh build first"; exit 0; }

# a module copy, so that a rebuild during the run does not pull it away
mkdir -p "$prefix"
cp "$module" "$prefix/module.so"
module=$prefix/module.so

redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rdir=$prefix/redis
mkdir -p "$rdir"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$rdir" --daemonize yes --pidfile "$rdir/redis.pid" \
    --logfile "$rdir/redis.log" || { echo "bench: redis did not start"; exit 0; }
rcli() { redis-cli -p "$redis_port" "$@"; }
i=0
until [ "$(rcli ping 2>/dev/null)" = PONG ]; do
    i=$((i + 1)); [ $i -gt 50 ] && { echo "bench: redis does not answer"; exit 0; }
    sleep 0.1
done

conf() {
    name=$1 p=$2 store=$3
    mkdir -p "$prefix/$name/conf" "$prefix/$name/logs" "$prefix/$name/tmp"
    cat >"$prefix/$name/conf/nginx.conf" <<EOC
load_module $module;
worker_processes $workers;
error_log $prefix/$name/logs/error.log warn;
pid $prefix/$name/logs/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $prefix/$name/tmp;
    ddt_zone_size 256m;
    ddt_project $here/projects/bench.json;
    $store
    server {
        listen 127.0.0.1:$p backlog=4096;
        keepalive_requests 1000000;
        location = /ok { return 200 "ok\n"; }
        location /v1/ { ddt_api; }
    }
}
EOC
}

conf embedded "$port" ""
conf redis "$rport" "ddt_redis 127.0.0.1:$redis_port; ddt_redis_pool_size $pool;"

stop() {
    for n in embedded redis; do
        f=$prefix/$n/logs/nginx.pid
        [ -f "$f" ] && kill -QUIT "$(cat "$f")" 2>/dev/null
    done
    [ -f "$rdir/redis.pid" ] && kill "$(cat "$rdir/redis.pid")" 2>/dev/null
    sleep 0.5
}
trap stop EXIT INT TERM

for n in embedded redis; do
    "$nginx" -p "$prefix/$n/" -c "$prefix/$n/conf/nginx.conf" \
        -e "$prefix/$n/logs/error.log" || { echo "bench: nginx ($n) did not start"; exit 0; }
done
for p in "$port" "$rport"; do
    i=0
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/v1/health")" = 200 ]; do
        i=$((i + 1)); [ $i -gt 50 ] && { echo "bench: nginx on :$p is not healthy"; exit 0; }
        sleep 0.1
    done
done

echo "bench: creating $sessions sessions in each store"
for p in "$port" "$rport"; do
    n=0 bad=0
    while [ $n -lt "$sessions" ]; do
        id=$(printf 'bench-%06d' $n)
        code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
            -d "{\"project\": \"bench\", \"sessionId\": \"$id\"}" "http://127.0.0.1:$p/v1/sessions")
        [ "$code" = 201 ] || bad=$((bad + 1))
        n=$((n + 1))
    done
    [ $bad -eq 0 ] || echo "bench: $bad sessions could not be created on :$p"
done

export BENCH_DIR="$here" BENCH_THREADS="$threads" BENCH_SESSIONS="$sessions"
results=$prefix/results.txt
: >"$results"
# CPU time (ticks) used so far by the nginx workers of one instance and,
# for the redis instance, by redis-server
ticks() {
    pids=$(ps -o pid= --ppid "$(cat "$prefix/$1/logs/nginx.pid")")
    [ "$1" = redis ] && pids="$pids $(cat "$rdir/redis.pid")"
    for p in $pids; do awk '{ print $14 + $15 }' "/proc/$p/stat"; done \
        | awk '{ s += $1 } END { print s + 0 }'
}

rticks() { awk '{ print $14 + $15 }' "/proc/$(cat "$rdir/redis.pid")/stat"; }

run() {
    label=$1 script=$2 p=$3 path=$4 inst=$5
    echo "bench: $label: wrk -t$threads -c$conns -d${secs}s --latency http://127.0.0.1:$p$path"
    t0=$(ticks "$inst") r0=$(rticks)
    wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s "$here/$script" \
        "http://127.0.0.1:$p$path" >"$prefix/wrk-$label.txt" 2>&1
    t1=$(ticks "$inst") r1=$(rticks)
    [ "$inst" = redis ] || r1=$r0
    grep '^RESULT' "$prefix/wrk-$label.txt" \
        | sed "s/^RESULT [a-z0-9]*/RESULT $label/; s/\$/ ticks=$((t1 - t0)) rticks=$((r1 - r0))/" >>"$results" \
        || { echo "bench: $label produced no result:"; tail -5 "$prefix/wrk-$label.txt"; }
}

stat() { rcli info commandstats | tr -d '\r' | awk -F'[:=,]' -v c="cmdstat_$1" '$1 == c { print $3 }'; }

run return200  return200.lua "$port"  /ok embedded
run embedded   redis_turn.lua "$port"  /v1/sessions/bench-000000/turns embedded
rcli config resetstat >/dev/null
run redis      redis_turn.lua "$rport" /v1/sessions/bench-000000/turns redis
hmget=$(stat hmget); evalsha=$(stat evalsha); eval_=$(stat eval); total=$(rcli info stats | tr -d '\r' | awk -F: '$1 == "total_commands_processed" { print $2 }')
turns=$(awk '$2 == "redis" { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "requests") print kv[2] } }' "$results")

echo
echo "nginx $("$nginx" -v 2>&1 | sed 's/.*\///'), $workers workers, redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on the same machine, pool $pool, wrk -t$threads -c$conns -d${secs}s, $(nproc) CPUs"
awk '
    { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[$2, kv[1]] = kv[2] }
      names[++n] = $2 }
    END {
        base = v["return200", "rps"]
        printf "%-10s %12s %10s %10s %8s %9s %10s %10s\n", "scenario", "requests/s", "p50 ms", "p99 ms", "errors", "vs ret200", "CPU us/rq", "in redis"
        for (i = 1; i <= n; i++) {
            k = names[i]
            ratio = base > 0 ? v[k, "rps"] / base : 0
            cpu = v[k, "requests"] > 0 ? v[k, "ticks"] * 10000 / v[k, "requests"] : 0
            rcpu = v[k, "requests"] > 0 ? v[k, "rticks"] * 10000 / v[k, "requests"] : 0
            printf("%-10s %12d %10.3f %10.3f %8d %8.2fx %10.1f %10.1f\n", k, v[k, "rps"],
                   v[k, "p50_ms"], v[k, "p99_ms"], v[k, "errors"], ratio, cpu, rcpu)
        }
    }' "$results"
echo
echo "redis during the redis run: HMGET ${hmget:-0}, EVALSHA ${evalsha:-0}, EVAL ${eval_:-0}, all commands ${total:-0} (incl. this INFO), turns answered ${turns:-0}"
awk -v h="${hmget:-0}" -v e="${evalsha:-0}" -v x="${eval_:-0}" -v t="${turns:-0}" 'BEGIN {
    if (t > 0) printf "round trips per turn: %.3f\n", (h + e + x) / t }'
echo "(CPU: nginx workers, plus redis-server for the redis row, from /proc; raw wrk output in build/bench-redis/wrk-*.txt)"
exit 0
