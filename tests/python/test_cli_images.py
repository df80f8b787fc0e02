"""`ingot train`, `eval` and `predict` on an image folder (root/<class>/*.png|jpg) made here with
Pillow: two classes of images the model can tell apart (bright or dark), PNG and JPEG mixed; the
saved model predicts the folders' names."""
import csv
import io
import os
import random
import subprocess
import sys
import tempfile

from PIL import Image


def main():
    ingot = os.path.join(os.environ["INGOT_BIN"], "ingot")
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "images")
        for cls, base in (("bright", 200), ("dark", 40)):
            os.makedirs(os.path.join(root, cls))
            for i in range(40):
                img = Image.new("RGB", (20 + i % 5, 18), tuple(base + rng.randint(-30, 30) for _ in range(3)))
                ext = "png" if i % 2 else "jpg"
                img.save(os.path.join(root, cls, "%02d.%s" % (i, ext)))
        saved = os.path.join(tmp, "model")
        out = subprocess.run([ingot, "train", "--data", root, "--image-size", "8x8", "--model", "mlp", "--epochs", "3",
                              "--batch-size", "16", "--val-split", "0.25", "--device", "cpu", "--progress", "plain",
                              "--save", saved], check=True, capture_output=True, text=True).stdout
        assert "80 training samples" not in out and "60 training samples, 2 classes" in out, out
        assert "validation acc" in out, out
        ev = subprocess.run([ingot, "eval", "--model", saved, "--data", root, "--image-size", "8x8", "--device", "cpu"],
                            check=True, capture_output=True, text=True).stdout
        assert "bright" in ev and "dark" in ev and "accuracy 1.0000" in ev, ev
        pred = subprocess.run([ingot, "predict", "--model", saved, "--data", root, "--image-size", "8x8", "--device", "cpu"],
                              check=True, capture_output=True, text=True).stdout
        rows = list(csv.DictReader(io.StringIO(pred)))
        assert len(rows) == 80 and all(r["label"] == r["predicted"] for r in rows), pred[:500]
        assert {r["label"] for r in rows} == {"bright", "dark"}
    print("an image folder trained, evaluated and predicted with its class names")
    return 0


if __name__ == "__main__":
    sys.exit(main())
