#!/bin/sh
# compile_bench.sh: build and run bench/compile_bench.c against the release
# libddt (goal: a 10 000-node, 1 000-DDT project compiles in under 1 s).
# Usage: bench/compile_bench.sh [nodes] [ddts] [runs]
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
make -s -C "$root/core" lib
out="$root/build/bench"
mkdir -p "$out"
cc -std=c11 -D_GNU_SOURCE -O2 -I"$root/core/include" \
    "$here/compile_bench.c" -o "$out/compile_bench" \
    "$root/build/core/libddt.a" $(pkg-config --libs yajl libpcre2-8 libutf8proc) -lm
exec "$out/compile_bench" "$@"
