#!/bin/sh
# build.sh: the one entry point for a user of this tree.  It owns installing
# missing Debian packages, building the core, ddtc and the nginx module out of
# tree, running a local demo nginx, and the whole test run (unit tests under
# ASan/UBSan, bounded fuzzing, the t/ HTTP suites).  It does not own what it
# builds: the core's Makefile and the module's `config` say how.
#
# usage: ./build.sh deps | build | run | stop | test | help
#   env: DDT_PORT (run, default 8080), FUZZ_SECONDS (test, default 20),
#        TEST_NGINX_BINARY (default /usr/sbin/nginx), DDT_TEST_JOBS (prove -j, 1)
#        DDT_STORE=redis (run: sessions in a redis-server started in run/,
#        drained by ddt-persister into the MongoDB wire test server, or into
#        DDT_MONGO_URI when set), DDT_REDIS_PORT (run, default 6390)
set -u

ROOT=$(cd "$(dirname "$0")" && pwd)
cd "$ROOT" || exit 1

NGX_SRC=${NGX_SRC:-/usr/share/nginx/src}
NGX_BUILD=$ROOT/build/nginx
MODULE_SO=$NGX_BUILD/objs/ngx_http_ddt_module.so
NGINX_BIN=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
RUN_PREFIX=$ROOT/run

DEBS="build-essential gcc make pkg-config clang nginx nginx-dev \
libyajl-dev libpcre2-dev libutf8proc-dev libhiredis-dev redis-server wrk \
curl libtest-base-perl libipc-run-perl libtext-diff-perl \
liblist-moreutils-perl libhttp-message-perl liburi-perl \
libtest-longstring-perl libmongoc-dev"

say() { printf '%s\n' "build.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# Run a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

cmd_deps() {
    missing=""
    for p in $DEBS; do
        dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    if [ -z "$missing" ]; then
        return 0
    fi
    say "installing:$missing"
    as_root apt-get update -qq || die "apt-get update failed"
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends $missing \
        || die "apt-get install failed"
}

# Configure Debian's nginx sources once (again when the module's config
# changes) with objects in build/nginx/objs, then `make modules`.  The
# sources are reached through a tree of links in build/nginx/tree, so
# nothing is written under /usr/share.
build_module() {
    [ -f "$ROOT/ngx_ddt_module/config" ] \
        || die "ngx_ddt_module/config is missing: no module to build yet"
    [ -x "$NGX_SRC/configure" ] || die "no nginx sources at $NGX_SRC (nginx-dev)"

    tree=$NGX_BUILD/tree
    mkdir -p "$tree"
    for f in auto src configure; do
        [ -L "$tree/$f" ] || ln -s "$NGX_SRC/$f" "$tree/$f"
    done

    args="--with-compat --add-dynamic-module=$ROOT/ngx_ddt_module"
    stamp=$NGX_BUILD/objs/.ddt-configured
    if [ ! -f "$NGX_BUILD/objs/Makefile" ] || [ ! -f "$stamp" ] \
       || [ "$(cat "$stamp")" != "$args" ] \
       || [ "$ROOT/ngx_ddt_module/config" -nt "$stamp" ]
    then
        say "configuring the nginx sources of $NGX_SRC in build/nginx"
        mkdir -p "$NGX_BUILD/objs"
        (cd "$tree" && ./configure --builddir="$NGX_BUILD/objs" $args \
            >"$NGX_BUILD/objs/configure.log" 2>&1) || {
            tail -30 "$NGX_BUILD/objs/configure.log"
            die "nginx configure failed"
        }
        printf '%s' "$args" >"$stamp"
    fi

    # nginx's Makefile does not know the module depends on libddt.a: when
    # the library is newer, make the link step think an object changed (the
    # .so is replaced by the linker, never left missing for a running test).
    what_if=""
    if [ -f "$MODULE_SO" ] && [ "$ROOT/build/core/libddt.a" -nt "$MODULE_SO" ]; then
        what_if="-W $NGX_BUILD/objs/ngx_http_ddt_module_modules.o"
    fi
    make -C "$tree" -f "$NGX_BUILD/objs/Makefile" $what_if modules -j"$(nproc)" \
        >"$NGX_BUILD/objs/make.log" 2>&1 || {
        grep -E 'error|Error' "$NGX_BUILD/objs/make.log" | head -40
        die "module build failed (see build/nginx/objs/make.log)"
    }
    [ -f "$MODULE_SO" ] || die "module build produced no $MODULE_SO"
    say "module: $MODULE_SO"
}

cmd_build() {
    make -C core lib ddtc -j"$(nproc)" || die "core build failed"
    make -C persister -j"$(nproc)" || die "persister build failed"
    build_module
}

# Render a config template: @ROOT@, @PORT@, @MODULE@, @PREFIX@, a line
# "@PROJECTS@" replaced by one ddt_project line per demo project, and a line
# "@STORE@" by the session store's directives ($4; none: embedded).
render_conf() {
    src=$1 dst=$2 port=$3 store=${4:-}
    projects=""
    for p in "$ROOT"/conf/projects/*.json; do
        [ -f "$p" ] || continue
        projects="$projects    ddt_project $p;
"
    done
    awk -v root="$ROOT" -v port="$port" -v module="$MODULE_SO" \
        -v prefix="$RUN_PREFIX" -v projects="$projects" -v store="$store" '
        /^[ \t]*@PROJECTS@[ \t]*$/ { printf "%s", projects; next }
        /^[ \t]*@STORE@[ \t]*$/ { printf "%s", store; next }
        { gsub(/@ROOT@/, root); gsub(/@PORT@/, port);
          gsub(/@MODULE@/, module); gsub(/@PREFIX@/, prefix); print }
    ' "$src" >"$dst"
}

nginx_pid() {
    [ -f "$RUN_PREFIX/logs/nginx.pid" ] && cat "$RUN_PREFIX/logs/nginx.pid"
}

# ---- the Redis mode of `run`: redis-server, MongoDB (the wire test server
# unless DDT_MONGO_URI), ddt-persister; each with a pid file in run/ ------

# stop the process of pid file $1 (TERM, then KILL after 5 s)
stop_pidfile() {
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1; i=$((i + 1))
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        say "stopped $2 (pid $pid)"
    fi
    rm -f "$1"
}

stop_redis_stack() {
    stop_pidfile "$RUN_PREFIX/persister.pid" ddt-persister
    stop_pidfile "$RUN_PREFIX/mongo-wire.pid" "the MongoDB wire test server"
    stop_pidfile "$RUN_PREFIX/redis/redis.pid" redis-server
}

# wait up to 5 s for a TCP port on 127.0.0.1
wait_port() {
    i=0
    until perl -MIO::Socket::INET -e \
        'exit !IO::Socket::INET->new("127.0.0.1:$ARGV[0]")' "$1"; do
        i=$((i + 1)); [ $i -gt 50 ] && return 1
        sleep 0.1
    done
}

start_redis_stack() {
    rport=${DDT_REDIS_PORT:-6390}
    stop_redis_stack
    mkdir -p "$RUN_PREFIX/redis" "$RUN_PREFIX/logs"
    redis-server --port "$rport" --bind 127.0.0.1 --daemonize yes \
        --dir "$RUN_PREFIX/redis" --pidfile "$RUN_PREFIX/redis/redis.pid" \
        --logfile "$RUN_PREFIX/logs/redis.log" --save '' --appendonly no \
        || die "redis-server did not start (see run/logs/redis.log)"
    wait_port "$rport" || die "redis-server does not answer on :$rport"
    if [ -n "${DDT_MONGO_URI:-}" ]; then
        MONGO_URI=$DDT_MONGO_URI
        MONGO_WHAT="$DDT_MONGO_URI"
    else
        mport=$((rport + 1)) cport=$((rport + 2))
        nohup perl "$ROOT/persister/testserver/ddt-mongo-wire.pl" \
            --port "$mport" --control "$cport" \
            >"$RUN_PREFIX/logs/mongo-wire.log" 2>&1 &
        echo $! >"$RUN_PREFIX/mongo-wire.pid"
        wait_port "$mport" || die "the MongoDB wire test server does not answer"
        MONGO_URI="mongodb://127.0.0.1:$mport/?serverSelectionTimeoutMS=2000"
        MONGO_WHAT="the MongoDB wire test server on :$mport (in memory: a demo)"
    fi
    nohup "$ROOT/build/persister/ddt-persister" --redis "127.0.0.1:$rport" \
        --mongo-uri "$MONGO_URI" --database ddt_demo --consumer demo \
        --metrics "127.0.0.1:$((rport + 3))" \
        >"$RUN_PREFIX/logs/persister.log" 2>&1 &
    echo $! >"$RUN_PREFIX/persister.pid"
    i=0
    until [ "$(redis-cli -p "$rport" EXISTS ddt:persister:alive 2>/dev/null)" = 1 ]; do
        i=$((i + 1))
        [ $i -gt 50 ] && die "ddt-persister did not start (see run/logs/persister.log)"
        sleep 0.1
    done
    STORE_CONF="    ddt_redis      127.0.0.1:$rport;
    ddt_persister  on;
"
}

cmd_stop() {
    stop_redis_stack
    pid=$(nginx_pid) || true
    if [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null; then
        kill -QUIT "$pid"
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1; i=$((i + 1))
        done
        say "stopped nginx (pid $pid)"
    else
        say "no demo nginx running"
    fi
}

cmd_run() {
    cmd_deps
    cmd_build
    (console_build) || say "the console was not built (see above): /console/ will be empty"
    port=${DDT_PORT:-8080}
    cmd_stop 2>/dev/null
    mkdir -p "$RUN_PREFIX/conf" "$RUN_PREFIX/logs" "$RUN_PREFIX/tmp"
    STORE_CONF="" STORE_WHAT="sessions in the nginx shared zone (embedded)"
    case ${DDT_STORE:-embedded} in
        embedded) ;;
        redis)
            start_redis_stack
            STORE_WHAT="sessions in redis-server 127.0.0.1:$rport (run/redis, log run/logs/redis.log),
drained by ddt-persister (run/logs/persister.log, metrics
http://127.0.0.1:$((rport + 3))/metrics) into $MONGO_WHAT" ;;
        *) die "DDT_STORE must be embedded or redis" ;;
    esac
    render_conf "$ROOT/conf/nginx-demo.conf" "$RUN_PREFIX/conf/nginx.conf" "$port" \
        "$STORE_CONF"
    "$NGINX_BIN" -p "$RUN_PREFIX/" -c "$RUN_PREFIX/conf/nginx.conf" \
        -e "$RUN_PREFIX/logs/error.log" -t -q \
        || die "the demo configuration does not load (see above)"
    "$NGINX_BIN" -p "$RUN_PREFIX/" -c "$RUN_PREFIX/conf/nginx.conf" \
        -e "$RUN_PREFIX/logs/error.log" || die "nginx did not start"
    i=0
    until curl -s -o /dev/null "http://127.0.0.1:$port/v1/health"; do
        i=$((i + 1)); [ $i -gt 50 ] && die "nginx does not answer on :$port"
        sleep 0.1
    done
    u=http://127.0.0.1:$port
    cat <<EOF

ddt demo is running on $u (prefix run/, log run/logs/error.log).
Store: $STORE_WHAT
Projects: $(curl -s "$u/v1/projects")
Web console: $u/console/

Try a conversation (project "clinic", en-US):
  curl -s -H 'Content-Type: application/json' -d '{"project":"clinic","sessionId":"demo-0001"}' $u/v1/sessions
  curl -s -H 'Content-Type: application/json' -d '{"text":"Mario Rossi"}' $u/v1/sessions/demo-0001/turns
  curl -s -H 'Content-Type: application/json' -d '{"text":"March 12, 1980"}' $u/v1/sessions/demo-0001/turns
  curl -s -H 'Content-Type: application/json' -d '{"text":"mario.rossi@example.com"}' $u/v1/sessions/demo-0001/turns
  curl -s $u/v1/sessions/demo-0001

Stop it with: ./build.sh stop$( [ "${DDT_STORE:-embedded}" = redis ] && printf ' (nginx, ddt-persister, the MongoDB\nserver it started and redis-server)')
EOF
}

# ---- console (console/, owned by the console's engineer) ----------------

# Node and npm (Debian's packages when missing), then `npm ci` when the lock
# changed and `npm run build` into console/dist (served at /console/).
console_build() {
    [ -f "$ROOT/console/package-lock.json" ] || return 0
    if ! command -v npm >/dev/null 2>&1; then
        say "installing nodejs and npm (Debian) for the console"
        as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends nodejs npm \
            || { say "no node/npm: console not built"; return 1; }
    fi
    cd "$ROOT/console" || return 1
    if [ ! -f node_modules/.package-lock.json ] \
       || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        npm ci --no-audit --no-fund || return 1
    fi
    npm run build || return 1
}

# Component tests (Vitest), then the end-to-end run: Debian's chromium
# driven by playwright-core against nginx with the freshly built module.
console_unit() { cd "$ROOT/console" && npm test; }
console_e2e() {
    if [ ! -x /usr/bin/chromium ]; then
        as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends chromium \
            || { say "cannot install chromium"; return 1; }
    fi
    cd "$ROOT/console" && DDT_MODULE=$MODULE_SO TEST_NGINX_BINARY=$NGINX_BIN \
        npm run e2e
}

# ---- test ---------------------------------------------------------------

STEPS=""
FAILED=0

step() {
    name=$1; shift
    t0=$(date +%s)
    say "== $name"
    if ( "$@" ); then r=ok; else r=FAIL; FAILED=1; fi
    t1=$(date +%s)
    STEPS="$STEPS$(printf '%-28s %-4s %4ss' "$name" "$r" $((t1 - t0)))
"
    [ "$r" = ok ]
}

run_suites() {
    [ -f "$MODULE_SO" ] || { say "no module .so"; return 1; }
    # the suites load a snapshot of the module: a rebuild while they run
    # (the linker rewrites the .so in place) must not change it under them
    snap=$ROOT/build/test/ngx_http_ddt_module.so
    mkdir -p "$ROOT/build/test"
    cp "$MODULE_SO" "$snap.tmp.$$" && mv -f "$snap.tmp.$$" "$snap" || return 1
    TEST_NGINX_BINARY=$NGINX_BIN
    TEST_NGINX_LOAD_MODULES=$snap
    export TEST_NGINX_BINARY TEST_NGINX_LOAD_MODULES
    if perl -MTest::Nginx::Socket -e 1 >/dev/null 2>&1; then
        say "t/: using the installed Test::Nginx"
        # the real one shares t/servroot and port 1984 unless randomized
        TEST_NGINX_RANDOMIZE=1; export TEST_NGINX_RANDOMIZE
    else
        say "t/: Test::Nginx not installed, using the fallback in t/lib"
        PERL5LIB="$ROOT/t/lib${PERL5LIB:+:$PERL5LIB}"; export PERL5LIB
    fi
    # one suite at a time by default: several suites time failovers and
    # restarts, and two at once on a 2-core box make them flaky
    prove -j"${DDT_TEST_JOBS:-1}" t/
}

cmd_test() {
    T0=$(date +%s)
    step deps cmd_deps || { printf '%s' "$STEPS"; exit 1; }
    built=1
    step "build (core, ddtc, module)" cmd_build || built=0
    step "core unit tests (ASan/UBSan)" make -C core test
    # the fuzzers build in parallel (each compiles the whole core), then run
    # one after the other for FUZZ_SECONDS each
    step "core fuzz (${FUZZ_SECONDS:-20}s each)" sh -c \
        "make -C core -j$(nproc) fuzz-build >/dev/null && make -C core fuzz FUZZ_SECONDS=${FUZZ_SECONDS:-20}"
    if [ $built -eq 1 ]; then
        step "t/ HTTP suites" run_suites
    else
        # a stale module would test old code: do not pretend
        STEPS="$STEPS$(printf '%-28s %-4s' "t/ HTTP suites" SKIP) (build failed)
"
    fi
    if step "console build (npm ci, vite)" console_build; then
        step "console unit tests (vitest)" console_unit
        [ $built -eq 1 ] && step "console e2e (chromium)" console_e2e
    fi
    T1=$(date +%s)
    printf '\n==== summary (%ss)\n%s' $((T1 - T0)) "$STEPS"
    if [ $FAILED -ne 0 ]; then
        echo "FAILED"; exit 1
    fi
    echo "ALL PASSED"
}

case ${1:-help} in
    deps)  cmd_deps ;;
    build) cmd_deps && cmd_build ;;
    run)   cmd_run ;;
    stop)  cmd_stop ;;
    test)  cmd_test ;;
    *)     sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
