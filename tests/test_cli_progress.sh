#!/usr/bin/env bash
# test_cli_progress.sh — `ingot train`'s progress under a pseudo-terminal (script(1) gives it one):
# each epoch's bar is redrawn in place (carriage returns, the step count growing, samples/s,
# loss and ETA) and then replaced by the epoch's summary line. Through a pipe the same run
# prints only the summary lines.
#
#   tests/test_cli_progress.sh path/to/ingot
set -uo pipefail
ingot=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
args="--limit 600 --epochs 2 --batch-size 20 --device cpu --model mlp"

# script -q: no banner; -e: its status is the command's; -c: the command; the typescript
# goes to /dev/null, the terminal's output to our stdout
script -qec "$ingot train $args" /dev/null >"$dir/tty.txt" </dev/null || { echo "FAIL: ingot train under a pty"; exit 1; }
"$ingot" train $args >"$dir/pipe.txt" || { echo "FAIL: ingot train into a pipe"; exit 1; }

python3 - "$dir/tty.txt" "$dir/pipe.txt" <<'EOF'
import re, sys
tty = open(sys.argv[1], encoding="utf-8", errors="replace", newline="").read()
pipe = open(sys.argv[2], encoding="utf-8", newline="").read()
fail = []
for epoch in (1, 2):
    # every redraw starts with a carriage return and shows "epoch E/2 [bar] done/30 ..."
    draws = re.findall(r"\repoch %d/2 \[[=>.]+\] +(\d+)/30 +\d+ samples/s  loss +\d+\.\d+.*?ETA +\d+:\d\d" % epoch, tty)
    steps = [int(d) for d in draws]
    if len(steps) < 3:
        fail.append("epoch %d: %d redraws of the bar (want at least 3): %r" % (epoch, len(steps), tty[:400]))
    elif steps != sorted(steps) or steps[-1] != 30:
        fail.append("epoch %d: the step counts %s do not grow to 30" % (epoch, steps))
    # the bar is erased (ESC [K) and the summary line printed in its place
    if not re.search(r"\r\x1b\[Kepoch +%d/2 .*loss \d" % epoch, tty):
        fail.append("epoch %d: no summary line replacing the bar" % epoch)
if not re.search(r"\repoch 2/2 \[[^\r]*test acc 0\.\d+", tty):
    fail.append("the second epoch's bar does not show the first epoch's test accuracy")
lines = [l for l in pipe.splitlines() if l.startswith("epoch")]
if "\r" in pipe or "\x1b" in pipe or len(lines) != 2:
    fail.append("through a pipe: want two plain epoch lines, got %r" % pipe)
for f in fail:
    print("FAIL:", f)
if fail:
    sys.exit(1)
print("ok: the bar was redrawn in place under a pty; plain lines through a pipe")
EOF
