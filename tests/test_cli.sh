#!/usr/bin/env bash
# test_cli.sh — the `ingot` tool end to end: every subcommand on small data (a few hundred
# Fashion-MNIST samples, a CSV made here), and its answers to bad input: each must fail with
# the right exit status (2: usage, 1: failure) and a message naming what is wrong.
#
#   tests/test_cli.sh path/to/ingot
set -uo pipefail
ingot=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
failures=0

# expect STATUS REGEX command...: the command exits with STATUS and its output (stdout and
# stderr) matches REGEX (extended, grep -E).
expect() {
    local want=$1 pattern=$2
    shift 2
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$want" ] || ! grep -qE -- "$pattern" <<<"$out"; then
        echo "FAIL: $* -> status $rc (expected $want), output should match /$pattern/:"
        head -n 30 <<<"$out" | sed 's/^/    /'
        failures=$((failures + 1))
    else
        echo "ok:   $*"
    fi
}

small=(--limit 300 --epochs 1 --device cpu --progress plain)

# --- the tool and its help
expect 2 'usage: ingot COMMAND' "$ingot"
expect 0 'commands:' "$ingot" --help
expect 0 '^ingot [0-9]+\.[0-9]+\.[0-9]+' "$ingot" --version
expect 2 'unknown command "trian" \(did you mean train\?\)' "$ingot" trian
for cmd in train eval predict summary export bench; do
    expect 0 "usage: ingot $cmd \[options\]" "$ingot" "$cmd" --help
done

# --- option errors name the option and what is valid
expect 2 '--epochs: "0" is not valid; valid: an integer from 1 to' "$ingot" train --epochs 0
expect 2 '--epochs: "ten" is not valid' "$ingot" train --epochs ten
expect 2 'unknown option --epoch; did you mean --epochs\?' "$ingot" train --epoch 3
expect 2 '--optimizer: "adamm" is not valid; valid: sgd, adam, adamw, rmsprop, adagrad, adadelta, nadam, lbfgs' \
    "$ingot" train --optimizer adamm
expect 2 '--lr needs a value' "$ingot" train --lr
expect 2 '--lr: "-1" is not valid; valid: a number from' "$ingot" train --lr -1
expect 2 '--device: "tpu" is not valid; valid: auto, cpu, cuda' "$ingot" train --device tpu
expect 2 'unexpected argument "mnist"' "$ingot" train mnist
expect 2 '--regression takes no value' "$ingot" train --regression=yes
expect 2 '--normalize: "0.5,0" is not valid' "$ingot" train "${small[@]}" --normalize 0.5,0
expect 2 '--lr-milestones: "3,x" is not valid' "$ingot" train "${small[@]}" --schedule multistep --lr-milestones 3,x
expect 1 '--precision bf16: not available in this build yet' "$ingot" train --precision bf16
expect 1 '--model nosuch: not a preset \(mlp, cnn, resnet18\) and no such file or folder' "$ingot" train --model nosuch
expect 1 'no train-images-idx3-ubyte\[.gz\]' "$ingot" train --data "$dir" --data-kind idx
expect 1 'nosuch.csv' "$ingot" train --data nosuch.csv
expect 2 '--loss mse: the data has class labels' "$ingot" train "${small[@]}" --loss mse

# --- training: a preset on Fashion-MNIST, with everything written
expect 0 'epoch +1/1 .*loss [0-9.]+ .*test acc 0\.[0-9]+' "$ingot" train "${small[@]}" --save saved \
    --report report --tensorboard tb --checkpoint-dir ckpt
for f in saved/model.json saved/weights.safetensors report/report.html report/run.json ckpt/model.json; do
    [ -s "$f" ] && echo "ok:   wrote $f" || { echo "FAIL: no $f"; failures=$((failures + 1)); }
done
ls tb/events.out.tfevents.* >/dev/null 2>&1 && echo "ok:   wrote tb/events.out.tfevents.*" || {
    echo "FAIL: no event file"
    failures=$((failures + 1))
}
expect 0 'resumed after epoch 1 \(step 3\)' "$ingot" train "${small[@]}" --epochs 2 --resume ckpt --checkpoint-dir ckpt
expect 0 'epoch +2/2 .*validation acc' "$ingot" train --limit 300 --epochs 2 --device cpu --progress plain --model mlp \
    --optimizer sgd --momentum 0.9 --lr 0.05 --schedule cosine --warmup 0.5 --val-split 0.2
expect 0 'validation acc' "$ingot" train "${small[@]}" --val-split 0.25

# --- eval, predict, summary, export on what training saved
expect 0 'accuracy 0\.[0-9]+ +top-5 accuracy' "$ingot" eval --model saved --limit 200 --device cpu
expect 0 'confusion matrix' "$ingot" eval --model saved --limit 200 --device cpu
expect 0 '"top5_accuracy":' "$ingot" eval --model saved --limit 200 --json --device cpu
expect 0 'accuracy' "$ingot" eval --model ckpt --limit 200 --device cpu
expect 0 'accuracy' "$ingot" eval --model cnn --weights saved/weights.safetensors --normalize 0.2860,0.3530 --limit 200
expect 0 'wrote report2/report.html' "$ingot" eval --model saved --limit 200 --report report2
expect 1 '--model cnn has no trained weights' "$ingot" eval --model cnn --limit 100
expect 1 'nosuch.safetensors' "$ingot" eval --model cnn --weights nosuch.safetensors --limit 100
expect 0 '^index,label,predicted,probability$' "$ingot" predict --model saved --limit 20
expect 0 'wrote' bash -c "'$ingot' predict --model saved --limit 20 --top 2 --probabilities --output pred.csv && echo wrote"
expect 0 '^index,label,predicted_1,probability_1,predicted_2,probability_2,p_0' head -n 1 pred.csv
expect 0 'total: 421642 parameters' "$ingot" summary
expect 0 'layer1.0.conv1 +conv2d +\[2, 64, 32, 32\]' "$ingot" summary --model resnet18 --input 3x32x32 --batch-size 2
expect 2 '--input: "3x" is not valid' "$ingot" summary --input 3x
expect 0 'wrote model.onnx' "$ingot" export --model saved --output model.onnx
expect 2 '--output FILE is required' "$ingot" export --model saved
expect 1 'has no trained weights' "$ingot" export --model mlp --output x.onnx
expect 0 'ms/step' "$ingot" bench --workload mlp_small --warmup 1 --steps 2 --windows 1 --device cpu
expect 0 '"workload":"mlp_small"' "$ingot" bench --workload mlp_small --warmup 1 --steps 1 --windows 1 --device cpu --json
expect 1 '--workload mlp_large: not available in this build yet' "$ingot" bench --workload mlp_large
expect 2 '--workload: "mlp" is not valid; valid: mlp_small, cnn_small, resnet18, all' "$ingot" bench --workload mlp

# --- model files in JSON: a residual network that trains, and files that do not parse or build
cat >res.json <<'EOF'
{
  "input": [1, 28, 28],
  "layers": [
    {"type": "conv2d", "name": "stem", "filters": 8, "kernel": 3, "padding": 1},
    {"type": "relu", "name": "stem_relu"},
    {"type": "conv2d", "filters": 8, "kernel": 3, "padding": 1, "bias": false},
    {"type": "batchnorm"},
    {"type": "relu"},
    {"type": "conv2d", "name": "branch", "filters": 8, "kernel": 3, "padding": 1},
    {"type": "add", "inputs": ["branch", "stem_relu"]},
    {"type": "maxpool2d", "kernel": 2},
    {"type": "global_avgpool"},
    {"type": "dropout", "p": 0.1},
    {"type": "dense", "units": 10}
  ]
}
EOF
expect 0 'epoch +1/1' "$ingot" train "${small[@]}" --model res.json --save res_saved
expect 0 'accuracy' "$ingot" eval --model res_saved --limit 100
expect 0 'add +add +\[1, 8, 28, 28\]|branch' "$ingot" summary --model res.json
printf '{\n  "layers": [\n    {"type": "dense" "units": 10}\n  ]\n}\n' >syntax.json
expect 1 'syntax.json: line 3, column [0-9]+: not valid JSON' "$ingot" summary --model syntax.json
echo '{"layers": [{"type": "flatten"}, {"type": "dense2", "units": 3}]}' >type.json
expect 1 'type.json: layers\[1\].type: "dense2" is not a layer type; valid: dense, conv2d' "$ingot" summary --model type.json
echo '{"layers": [{"type": "flatten"}, {"type": "dense", "units": "ten"}]}' >units.json
expect 1 'units.json: layers\[1\].units: must be an integer >= 1' "$ingot" summary --model units.json
echo '{"layers": [{"type": "flatten"}, {"type": "dense", "units": 4, "activation": "relu"}]}' >key.json
expect 1 'key.json: layers\[1\].activation: a dense layer has no such field' "$ingot" summary --model key.json
echo '{"layers": [{"type": "relu", "name": "a"}, {"type": "add", "inputs": ["a", "b"]}]}' >ref.json
expect 1 'ref.json: layers\[1\].inputs\[1\]: no earlier layer is named "b"' "$ingot" summary --model ref.json
echo '{"layers": [{"type": "dense", "units": 4}]}' >shape.json
expect 1 'shape.json: layers\[0\] \(dense\): ' "$ingot" summary --model shape.json
echo '{"preset": "cnn", "layers": []}' >both.json
expect 1 'both.json: needs exactly one of "layers", "preset" and "onnx"' "$ingot" summary --model both.json
echo '{"layer": []}' >top.json
expect 1 'top.json: layer: not a field of a model file; valid: format, preset, layers' "$ingot" summary --model top.json

# --- CSV: classes by name, a regression target, and a ragged row
awk 'BEGIN { srand(3); print "a,b,c,kind";
             for (i = 0; i < 240; i++) { a = rand() * 2 - 1; b = rand() * 2 - 1; c = rand();
                 printf "%.4f,%.4f,%.4f,%s\n", a, b, c, (a + b > 0 ? "up" : "down") } }' >points.csv
expect 0 'epoch +5/5 .*validation acc' "$ingot" train --data points.csv --model mlp --epochs 5 --batch-size 16 \
    --val-split 0.25 --progress plain --save csv_model
expect 0 ' down +up$' "$ingot" eval --model csv_model --data points.csv
expect 0 '^0,(up|down),(up|down),[01]\.[0-9]+' "$ingot" predict --model csv_model --data points.csv
awk -F, 'NR > 1 { print $1 "," $2 "," $1 + 2 * $2 }' points.csv >target.csv
expect 0 'validation: MSE [0-9.e-]+ +RMSE' "$ingot" train --data target.csv --regression --model mlp --epochs 3 \
    --val-split 0.2 --progress plain --save reg_model
expect 0 'MSE .* R2' "$ingot" eval --model reg_model --data target.csv --regression
printf 'a,b,label\n1,2,0\n3,4\n' >ragged.csv
expect 1 'ragged.csv: line 3, column 3 \("label"\): the row ends after 2 cells' "$ingot" train --data ragged.csv --model mlp
printf 'a,b,label\n1,2,0\n3,x,1\n' >cell.csv
expect 1 'cell.csv: line 3, column 2 \("b"\): "x" is not a number' "$ingot" train --data cell.csv --model mlp

# --- image folders: one file that is no image
mkdir -p images/cat images/dog
printf 'not a png' >images/cat/a.png
printf 'not a jpeg' >images/dog/b.jpg
expect 1 'images/cat/a.png' "$ingot" train --data images --model mlp
expect 1 'images' "$ingot" train --data images --model mlp --skip-unreadable

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
