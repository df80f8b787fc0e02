"""`ingot train --tensorboard DIR`: TensorBoard's own reader (EventAccumulator) loads every scalar the
run wrote, with the values the run reports in its run.json; a record whose bytes are damaged is
refused by the reader's CRC check, so the check is real."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from tensorboard.backend.event_processing import event_accumulator


def load(logdir):
    acc = event_accumulator.EventAccumulator(logdir, size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    return acc


def main():
    ingot = os.path.join(os.environ["INGOT_BIN"], "ingot")
    with tempfile.TemporaryDirectory() as tmp:
        tb, report = os.path.join(tmp, "tb"), os.path.join(tmp, "report")
        subprocess.run([ingot, "train", "--limit", "400", "--epochs", "2", "--device", "cpu", "--progress", "off",
                        "--model", "mlp", "--schedule", "cosine", "--tensorboard", tb, "--report", report],
                       check=True, stdout=subprocess.DEVNULL)
        run = json.load(open(os.path.join(report, "run.json")))
        history = run["history"]
        acc = load(tb)
        tags = set(acc.Tags()["scalars"])
        want = {"loss/train_step", "learning_rate", "loss/train", "loss/train_eval", "accuracy/train", "loss/test",
                "accuracy/test", "epoch", "final/test_accuracy"}
        assert want <= tags, "missing tags: %s (have %s)" % (want - tags, tags)

        steps = acc.Scalars("loss/train_step")
        assert [e.step for e in steps] == list(range(1, len(history["loss"]) + 1)), [e.step for e in steps]
        for e, loss in zip(steps, history["loss"]):
            assert abs(e.value - loss) <= 1e-6 * max(1, abs(loss)), (e.step, e.value, loss)
        lrs = [e.value for e in acc.Scalars("learning_rate")]
        assert lrs[0] > lrs[-1] > 0, "a cosine schedule decays: %s" % lrs
        for e, lr in zip(acc.Scalars("learning_rate"), history["learning_rate"]):
            assert abs(e.value - lr) <= 1e-6 * lr, (e.step, e.value, lr)

        epochs = history["epochs"]
        for tag, key in (("loss/train", "train_loss"), ("accuracy/train", "train_accuracy"), ("loss/test", "val_loss"),
                         ("accuracy/test", "val_accuracy")):
            got = acc.Scalars(tag)
            assert [e.step for e in got] == [r["end_step"] for r in epochs], (tag, got)
            for e, r in zip(got, epochs):
                assert abs(e.value - r[key]) <= 1e-5, (tag, e.value, r[key])
        final = acc.Scalars("final/test_accuracy")[0].value
        assert abs(final - run["evaluation"]["accuracy"]) <= 1e-6, (final, run["evaluation"]["accuracy"])

        # one flipped byte inside the last record's payload: the reader must not return it
        bad = os.path.join(tmp, "bad")
        shutil.copytree(tb, bad)
        (name,) = os.listdir(bad)
        path = os.path.join(bad, name)
        data = bytearray(open(path, "rb").read())
        data[-10] ^= 0xFF
        open(path, "wb").write(bytes(data))
        try:
            damaged = load(bad)
            n = len(damaged.Scalars("final/test_accuracy")) if "final/test_accuracy" in damaged.Tags()["scalars"] else 0
        except Exception:  # DataLossError from the CRC check: the record is refused
            n = 0
        assert n == 0, "a record with a bad CRC was read"
    print("TensorBoard read %d scalar series of %d steps" % (len(tags), len(steps)))


if __name__ == "__main__":
    sys.exit(main())
