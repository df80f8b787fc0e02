#!/usr/bin/env bash
# run.sh — runs every fuzz target of a libFuzzer build (make fuzz) for a bounded time, starting
# from its corpus under fuzz/corpus. A finding fails the run; the input is printed (base64) and
# kept in $FUZZ_ARTIFACTS (default: a temporary folder, removed): add it to the target's
# corpus, where the ordinary test suite replays it (fuzz_corpus_<target>).
#
#   fuzz/run.sh BIN_DIR [SECONDS]
set -euo pipefail
bin=$1
secs=${2:-25}
root=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts=${FUZZ_ARTIFACTS:-$work}
status=0
for exe in "$bin"/fuzz_*; do
    target=${exe##*/fuzz_}
    case $target in *_replay) continue ;; esac
    mkdir -p "$work/$target"
    # a new corpus in $work (what it finds stays out of the source tree); the allocation limit
    # catches a forged size taken at its word
    if "$exe" -max_total_time="$secs" -malloc_limit_mb=256 -rss_limit_mb=2048 -timeout=20 \
        -artifact_prefix="$artifacts/$target-" -print_final_stats=1 "$work/$target" "$root/corpus/$target" \
        >"$work/$target.log" 2>&1; then
        echo "fuzz_$target: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$work/$target.log"), no finding"
    else
        status=1
        echo "fuzz_$target: FINDING" >&2
        tail -n 60 "$work/$target.log" >&2
        for f in "$artifacts/$target"-*; do
            [ -f "$f" ] && { echo "input $f (base64):" >&2; base64 "$f" >&2; }
        done
    fi
done
exit $status
