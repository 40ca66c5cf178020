#!/bin/sh
# ngx_ddt_module/smoke.sh: a quick end-to-end check of the module by hand.
# Starts nginx (two workers) on 127.0.0.1 with the built module in a prefix
# under build/, runs a conversation, the error answers, a PUT, a BackendCall
# subrequest and two turns racing on one session, then stops nginx.  Not a
# test suite (that is t/): it prints what it sees and fails on the first
# surprise.
#
# usage: ngx_ddt_module/smoke.sh [module.so]   (env SMOKE_PORT, default 18480)

set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SO=${1:-$ROOT/build/nginx/objs/ngx_http_ddt_module.so}
PORT=${SMOKE_PORT:-18480}
PREFIX=$ROOT/build/smoke
B=http://127.0.0.1:$PORT
J='Content-Type: application/json'
FAIL=0

[ -f "$SO" ] || { echo "smoke: no module at $SO (./build.sh build)"; exit 1; }

rm -rf "$PREFIX"
mkdir -p "$PREFIX/conf" "$PREFIX/logs" "$PREFIX/proj"

cat >"$PREFIX/proj/smoke.json" <<'EOF'
{
  "format": "ddt-project/1", "name": "smoke", "version": "1", "locale": "en-US",
  "variables": {},
  "flow": { "start": "ask", "nodes": [
      { "id": "ask", "tasks": [
          { "type": "SetVariable", "name": "n.text", "value": null },
          { "type": "GetData", "ddt": "n" },
          { "type": "BackendCall", "method": "POST", "url": "/smoke_backend",
            "body": { "said": "{n.text}" }, "assign": { "got": "/ok" } },
          { "type": "SayMessage", "text": "Backend {$backend.status} {got}." } ] } ],
    "edges": [ { "from": "ask", "to": "ask" } ] },
  "ddts": { "n": { "data": [ { "id": "text", "kind": "text",
                               "steps": { "start": ["Say something."] } } ] } }
}
EOF

cat >"$PREFIX/conf/nginx.conf" <<EOF
load_module $SO;
worker_processes 2;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_buffer_size 1k;
    client_body_temp_path $PREFIX/body;
    proxy_temp_path $PREFIX/proxy;
    ddt_zone_size 4m;
    ddt_project $PREFIX/proj/smoke.json;
    server {
        listen 127.0.0.1:$PORT;
        location /v1/ { ddt_api; }
        location /v1/projects/ { ddt_admin; allow 127.0.0.1; deny all; }
        location = /metrics { ddt_metrics; }
        location = /smoke_backend {
            proxy_pass http://127.0.0.1:$PORT/smoke_origin;
        }
        location = /smoke_origin {
            limit_rate 200;
            default_type application/json;
            return 200 '{"ok": "yes", "pad": "................................................................................................................................................................................................................................................"}';
        }
    }
}
EOF

nginx -p "$PREFIX/" -c "$PREFIX/conf/nginx.conf" -t -q || exit 1
nginx -p "$PREFIX/" -c "$PREFIX/conf/nginx.conf" || exit 1
trap 'kill $(cat "$PREFIX/logs/nginx.pid") 2>/dev/null' EXIT
sleep 0.3

# expect WHAT CODE METHOD PATH [BODY [CONTENT-TYPE [CURL-OPTION]]]
expect() {
    what=$1 code=$2 method=$3 path=$4 body=${5:-} ct=${6:-application/json}
    opt=${7:--s}
    if [ -n "$body" ]; then
        got=$(curl -s $opt -o "$PREFIX/out" -w '%{http_code}' -X "$method" \
              -H "Content-Type: $ct" --data-binary "$body" "$B$path")
    else
        got=$(curl -s -o "$PREFIX/out" -w '%{http_code}' -X "$method" "$B$path")
    fi
    if [ "$got" = "$code" ]; then
        printf 'ok    %s %s  %.100s\n' "$code" "$what" "$(cat "$PREFIX/out")"
    else
        printf 'FAIL  %s (want %s) %s  %.200s\n' "$got" "$code" "$what" \
               "$(cat "$PREFIX/out")"
        FAIL=1
    fi
}

expect "health" 200 GET /v1/health
expect "projects" 200 GET /v1/projects
expect "create" 201 POST /v1/sessions '{"project": "smoke", "sessionId": "smoke-0001"}'
expect "session exists" 409 POST /v1/sessions '{"project": "smoke", "sessionId": "smoke-0001"}'
expect "turn with BackendCall" 200 POST /v1/sessions/smoke-0001/turns '{"text": "hello", "turnId": "a"}'
grep -q 'Backend 200 yes' "$PREFIX/out" || { echo "FAIL  the BackendCall answer is not in the turn"; FAIL=1; }
expect "replay" 200 POST /v1/sessions/smoke-0001/turns '{"text": "hello", "turnId": "a"}'
expect "turnId reused" 422 POST /v1/sessions/smoke-0001/turns '{"text": "other", "turnId": "a"}'
expect "get" 200 GET /v1/sessions/smoke-0001
expect "bad json" 400 POST /v1/sessions/smoke-0001/turns '{"text": '
expect "bad input" 400 POST /v1/sessions/smoke-0001/turns '{"text": "x", "dtmf": "1"}'
expect "not json" 415 POST /v1/sessions/smoke-0001/turns 'x' text/plain
expect "method" 405 PUT /v1/sessions/smoke-0001
big=$(head -c 70000 /dev/zero | tr '\0' ' ')
expect "body over 64k" 413 POST /v1/sessions "{$big}"
expect "chunked body over 64k" 413 POST /v1/sessions "{$big}" \
       application/json "-HTransfer-Encoding:chunked"
expect "chunked body" 201 POST /v1/sessions \
       "{$(head -c 5000 /dev/zero | tr '\0' ' ')\"project\": \"smoke\"}" \
       application/json "-HTransfer-Encoding:chunked"
expect "unknown session" 404 GET /v1/sessions/nope-nope-nope
expect "unknown project" 404 POST /v1/sessions '{"project": "nope"}'
expect "put same" 200 PUT /v1/projects/smoke "$(cat "$PREFIX/proj/smoke.json")"
expect "put new" 201 PUT /v1/projects/smoke "$(sed 's/"version": "1"/"version": "2"/' "$PREFIX/proj/smoke.json")"
expect "put broken" 422 PUT /v1/projects/smoke '{"format": "ddt-project/1", "name": "smoke", "flow": {}}'
expect "pinned session still turns" 200 POST /v1/sessions/smoke-0001/turns '{"text": "again"}'

# two turns at once: the BackendCall (~1.5 s) holds the first
curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "$J" \
     -d '{"text": "one"}' "$B/v1/sessions/smoke-0001/turns" >"$PREFIX/race1" &
sleep 0.3
curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "$J" \
     -d '{"text": "two"}' "$B/v1/sessions/smoke-0001/turns" >"$PREFIX/race2"
wait
race="$(cat "$PREFIX/race1") $(cat "$PREFIX/race2")"
if [ "$race" = "200 409" ]; then
    echo "ok    200 409 two turns at once"
else
    echo "FAIL  two turns at once: $race (want 200 409)"; FAIL=1
fi

expect "delete" 204 DELETE /v1/sessions/smoke-0001
expect "deleted" 404 GET /v1/sessions/smoke-0001
expect "metrics" 200 GET /metrics

if grep -E '\[(alert|crit|emerg)\]' "$PREFIX/logs/error.log"; then
    echo "FAIL  alerts in $PREFIX/logs/error.log"; FAIL=1
fi

[ $FAIL = 0 ] && echo "smoke: all good" || echo "smoke: FAILED"
exit $FAIL
