#!/usr/bin/env bash
# `ambient-spec logs` beside `grep -c` and an awk extraction, on one generated file, in one run.
#
# Absolute times depend on the machine; the ratios are what to compare between runs and
# machines. Needs bash, coreutils, awk, grep and cargo; not part of `cargo test`.
#
#   bash support/bench/logs.sh              # 150 MB, 5 timed runs of each command
#   BENCH_MB=20 BENCH_RUNS=3 bash support/bench/logs.sh
#
# BENCH_DIR (default $TMPDIR/ambient-logs-bench) holds the generated file; it is rewritten on
# every run (the generator is deterministic).
set -euo pipefail

# One locale for every tool: grep and awk are at their fastest, and the generator's bytes stay
# bytes.
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
mb=${BENCH_MB:-150}
runs=${BENCH_RUNS:-5}
work=${BENCH_DIR:-${TMPDIR:-/tmp}/ambient-logs-bench}
bin=${CARGO_TARGET_DIR:-$root/target}/release/ambient-spec

if ! [[ $mb =~ ^[1-9][0-9]*$ && $runs =~ ^[1-9][0-9]*$ ]]; then
    echo "logs.sh: BENCH_MB and BENCH_RUNS must be positive integers" >&2
    exit 2
fi

echo "building the release binary..."
(cd "$root" && cargo build --release --locked --quiet -p ambient-support --bin ambient-spec)

mkdir -p "$work"
file=$work/ztunnel-${mb}MB.log
awk -v mb="$mb" -v seed=15 -f "$here/gen-logs.awk" "$root"/fixtures/recorded/*.log >"$file"

# The awk a maintainer would write to pull the connection's addresses and direction.
extract='{
    s = d = r = ""
    for (i = 1; i <= NF; i++) {
        if (index($i, "src.addr=") == 1) s = substr($i, 10)
        else if (index($i, "dst.addr=") == 1) d = substr($i, 10)
        else if (index($i, "direction=") == 1) r = substr($i, 11)
    }
    if (s != "" || d != "") print s, d, r
}'

names=("ambient-spec logs" "grep -c connection" "awk src.addr/dst.addr/direction")
run() {
    case $1 in
        0) "$bin" logs <"$file" ;;
        1) grep -c connection "$file" || [[ $? == 1 ]] ;;
        2) awk "$extract" "$file" ;;
    esac
}

# What each command makes of the file, once: they all did the work being timed.
lines=$(wc -l <"$file")
bytes=$(wc -c <"$file")
records=$(run 0 | grep -c '"record":"access"' || true)
counted=$(run 1)
extracted=$(run 2 | wc -l)
echo "input: $file, $bytes bytes, $lines lines"
echo "  ambient-spec logs: $records access records; grep -c: $counted; awk: $extracted lines"

# Microseconds since the epoch, from bash itself (EPOCHREALTIME is seconds.microseconds).
now() {
    local t=$EPOCHREALTIME
    echo "${t/./}"
}

declare -a times0 times1 times2
# Runs alternate between the commands so that a slower moment of the machine touches all three.
for ((i = 0; i < runs; i++)); do
    for c in 0 1 2; do
        start=$(now)
        # GNU grep stops at the first match when its output is /dev/null: give it a file.
        if ((c == 1)); then run "$c" >"$work/count"; else run "$c" >/dev/null; fi
        end=$(now)
        eval "times$c+=($((end - start)))"
    done
done

median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
        print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
spread() {
    printf '%s\n' "$@" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo, hi }'
}

printf '\n%-34s %9s %9s %9s   (%d runs, seconds)\n' command median min max "$runs"
declare -a medians
for c in 0 1 2; do
    eval "set -- \"\${times$c[@]}\""
    medians[c]=$(median "$@")
    read -r lo hi < <(spread "$@")
    awk -v n="${names[c]}" -v m="${medians[c]}" -v lo="$lo" -v hi="$hi" \
        'BEGIN { printf "%-34s %9.3f %9.3f %9.3f\n", n, m / 1e6, lo / 1e6, hi / 1e6 }'
done
awk -v a="${medians[0]}" -v g="${medians[1]}" -v k="${medians[2]}" -v b="$bytes" 'BEGIN {
    printf "\nambient-spec logs / grep -c:  %.2f\n", a / g
    printf "ambient-spec logs / awk:      %.2f\n", a / k
    printf "ambient-spec logs throughput: %.0f MB/s\n", b / a
}'
