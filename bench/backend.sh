#!/bin/sh
# bench/backend.sh: what a BackendCall costs.  Starts a local upstream (an
# nginx answering a small JSON document, 1 worker) and a front nginx with
# the module, then runs wrk, one after the other in the same run, against:
#
#   proxy     GET /plain: plain proxy_pass to the upstream (keepalive)
#   turn      a dialogue turn without any call (bench/projects/bench.json)
#   turncall  the same turn plus one BackendCall: POST with a templated JSON
#             body to /be/lookup, a location with the same proxy_pass, and
#             one `assign` from the answer (bench/projects/benchcall.json)
#
# and prints requests/s, p50, p99, front nginx CPU per request and the
# upstream's requests per scenario request (from its stub_status: 1.00 for
# proxy and turncall, 0 for turn).  Never fails a build.
#
# env: BENCH_SECONDS (10), BENCH_THREADS (2), BENCH_CONNECTIONS (32),
#      BENCH_WORKERS (2), BENCH_PORT (18290: front, +1: upstream),
#      BENCH_SESSIONS (1024), TEST_NGINX_BINARY
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
secs=${BENCH_SECONDS:-10}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-32}
workers=${BENCH_WORKERS:-2}
port=${BENCH_PORT:-18290}
uport=$((port + 1))
sessions=${BENCH_SESSIONS:-1024}
nginx=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
module=$root/build/nginx/objs/ngx_http_ddt_module.so
prefix=$root/build/bench-backend

[ "$sessions" -ge "$conns" ] || sessions=$conns

command -v wrk >/dev/null || { echo "bench: wrk is not installed"; exit 0; }
command -v curl >/dev/null || { echo "bench: curl is not installed"; exit 0; }
[ -f "$module" ] || { echo "bench: no module, run ./build.sh build first"; exit 0; }

# a module copy, so that a rebuild during the run does not pull it away
mkdir -p "$prefix/front/conf" "$prefix/front/logs" "$prefix/front/tmp" \
         "$prefix/up/conf" "$prefix/up/logs" "$prefix/up/tmp"
cp "$module" "$prefix/module.so"
module=$prefix/module.so

cat >"$prefix/up/conf/nginx.conf" <<EOC
worker_processes 1;
error_log $prefix/up/logs/error.log warn;
pid $prefix/up/logs/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $prefix/up/tmp;
    server {
        listen 127.0.0.1:$uport backlog=4096;
        keepalive_requests 1000000;
        location = /lookup {
            default_type application/json;
            return 200 '{"id": 42, "name": "ACME Corp", "tier": "gold", "ok": true}';
        }
        location = /status { stub_status; }
    }
}
EOC

cat >"$prefix/front/conf/nginx.conf" <<EOC
load_module $module;
worker_processes $workers;
error_log $prefix/front/logs/error.log warn;
pid $prefix/front/logs/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $prefix/front/tmp;
    ddt_zone_size 256m;
    ddt_project $here/projects/bench.json;
    ddt_project $here/projects/benchcall.json;
    upstream up {
        server 127.0.0.1:$uport;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$port backlog=4096;
        keepalive_requests 1000000;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        location = /plain { proxy_pass http://up/lookup; }
        location /be/ { internal; proxy_pass http://up/; }
        location /v1/ { ddt_api; }
    }
}
EOC

stop() {
    for n in front up; do
        f=$prefix/$n/logs/nginx.pid
        [ -f "$f" ] && kill -QUIT "$(cat "$f")" 2>/dev/null
    done
    sleep 0.5
}
trap stop EXIT INT TERM

for n in up front; do
    "$nginx" -p "$prefix/$n/" -c "$prefix/$n/conf/nginx.conf" \
        -e "$prefix/$n/logs/error.log" || { echo "bench: nginx ($n) did not start"; exit 0; }
done
i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/plain")" = 200 ]; do
    i=$((i + 1)); [ $i -gt 50 ] && { echo "bench: the front nginx does not answer"; exit 0; }
    sleep 0.1
done

echo "bench: creating $sessions sessions for each project"
for project in bench benchcall; do
    n=0 bad=0
    while [ $n -lt "$sessions" ]; do
        id=$(printf '%s-%06d' "$project" $n)
        code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
            -d "{\"project\": \"$project\", \"sessionId\": \"$id\"}" "http://127.0.0.1:$port/v1/sessions")
        [ "$code" = 201 ] || bad=$((bad + 1))
        n=$((n + 1))
    done
    [ $bad -eq 0 ] || echo "bench: $bad $project sessions could not be created"
done

# one turn with its call, checked before measuring
out=$(curl -s -H 'Content-Type: application/json' -d '{"text": "check"}' \
    "http://127.0.0.1:$port/v1/sessions/benchcall-000000/turns")
case $out in
    *"ACME heard: check (ACME Corp)."*) ;;
    *) echo "bench: the BackendCall turn does not work: $out"; exit 0 ;;
esac

export BENCH_DIR="$here" BENCH_THREADS="$threads" BENCH_SESSIONS="$sessions"
results=$prefix/results.txt
: >"$results"

# CPU ticks used so far by the front nginx's workers
ticks() {
    for p in $(ps -o pid= --ppid "$(cat "$prefix/front/logs/nginx.pid")"); do
        awk '{ print $14 + $15 }' "/proc/$p/stat"
    done | awk '{ s += $1 } END { print s + 0 }'
}

# requests the upstream has served so far
upreq() {
    curl -s "http://127.0.0.1:$uport/status" | awk 'NR == 3 { print $3 }'
}

run() {
    label=$1 script=$2 path=$3
    echo "bench: $label: wrk -t$threads -c$conns -d${secs}s --latency http://127.0.0.1:$port$path"
    t0=$(ticks) u0=$(upreq)
    BENCH_PREFIX=$4 wrk -t"$threads" -c"$conns" -d"${secs}s" --latency \
        -s "$here/$script" "http://127.0.0.1:$port$path" >"$prefix/wrk-$label.txt" 2>&1
    t1=$(ticks) u1=$(upreq)
    grep '^RESULT' "$prefix/wrk-$label.txt" \
        | sed "s/^RESULT [a-z0-9]*/RESULT $label/; s/\$/ ticks=$((t1 - t0)) up=$((u1 - u0 - 1))/" >>"$results" \
        || { echo "bench: $label produced no result:"; tail -5 "$prefix/wrk-$label.txt"; }
}

run proxy    return200.lua     /plain                         -
run turn     backend_turn.lua  /v1/sessions/bench-000000/turns bench
run turncall backend_turn.lua  /v1/sessions/benchcall-000000/turns benchcall

echo
echo "nginx $("$nginx" -v 2>&1 | sed 's/.*\///'), front $workers workers, upstream 1 worker, wrk -t$threads -c$conns -d${secs}s, $(nproc) CPUs"
awk '
    { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[$2, kv[1]] = kv[2] }
      names[++n] = $2 }
    END {
        base = v["proxy", "rps"]
        printf "%-9s %12s %10s %10s %8s %9s %10s %9s\n", "scenario", "requests/s", "p50 ms", "p99 ms", "errors", "vs proxy", "CPU us/rq", "up/rq"
        for (i = 1; i <= n; i++) {
            k = names[i]
            ratio = base > 0 ? v[k, "rps"] / base : 0
            cpu = v[k, "requests"] > 0 ? v[k, "ticks"] * 10000 / v[k, "requests"] : 0
            up = v[k, "requests"] > 0 ? v[k, "up"] / v[k, "requests"] : 0
            printf("%-9s %12d %10.3f %10.3f %8d %8.2fx %10.1f %9.2f\n", k, v[k, "rps"],
                   v[k, "p50_ms"], v[k, "p99_ms"], v[k, "errors"], ratio, cpu, up)
        }
    }' "$results"
echo "(CPU: the front nginx's workers from /proc, not the upstream's; up/rq: upstream requests per answered request, wrk's in-flight requests at the end make it slightly above 1; raw wrk output in build/bench-backend/wrk-*.txt)"
exit 0
