#!/usr/bin/env python3
"""Reference values for ingot's metrics, computed by scikit-learn on fixed predictions.

Writes tests/data/metrics_reference.json (or the path given), which tests/test_metrics.c
reads and compares against at 1e-6. Needs numpy and scikit-learn (pip install numpy
scikit-learn). The inputs are drawn from a fixed seed and stored in the file, so the C test
uses exactly what scikit-learn saw; scores are float32 values (what ingot takes), widened
to float64 exactly. JSON has no NaN or infinity: NaN is written as null, +inf as "inf".
"""
import json
import math
import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn import metrics
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.preprocessing import label_binarize


def clean(v):
    """Plain JSON: lists of floats and ints, NaN as null, +inf as "inf"."""
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [clean(x) for x in v]
    if isinstance(v, (np.integer, int)) and not isinstance(v, bool):
        return int(v)
    if isinstance(v, (np.floating, float)):
        v = float(v)
        if math.isnan(v):
            return None
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    return v


def prf(labels, pred, classes, zero_division):
    p, r, f, s = metrics.precision_recall_fscore_support(
        labels, pred, labels=list(range(classes)), zero_division=zero_division)
    out = {"per_class": {"precision": p, "recall": r, "f1": f, "support": s}}
    for avg in ("macro", "micro", "weighted"):
        ap, ar, af, _ = metrics.precision_recall_fscore_support(
            labels, pred, labels=list(range(classes)), average=avg, zero_division=zero_division)
        out[avg] = [ap, ar, af]
    return out


def binary_case(labels, scores):
    fpr, tpr, thr = metrics.roc_curve(labels, scores)
    prec, rec, pthr = metrics.precision_recall_curve(labels, scores)
    return {"labels": labels, "scores": scores,
            "roc": {"fpr": fpr, "tpr": tpr, "thresholds": thr},
            "auc": metrics.roc_auc_score(labels, scores),
            "pr": {"precision": prec, "recall": rec, "thresholds": pthr},
            "ap": metrics.average_precision_score(labels, scores)}


def multiclass_case(rng):
    n, classes = 120, 4
    labels = rng.integers(0, classes, n)
    logits = rng.normal(0, 1.5, (n, classes)) + 2.0 * np.eye(classes)[labels] * rng.random((n, 1))
    logits = np.round(logits, 1)
    logits[:, 3] -= 1.0  # class 3 is rarely the arg-max: its precision and recall differ
    # repeated rows tie scores across samples; rows with equal entries tie classes within one
    logits[100:115] = logits[0:15]
    logits[115:] = np.array([0.5, 0.5, 0.1, 0.1])
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    scores = (e / e.sum(axis=1, keepdims=True)).astype(np.float32).astype(np.float64)
    pred = scores.argmax(axis=1)
    onehot = label_binarize(labels, classes=list(range(classes)))
    case = {"labels": labels, "scores": scores, "classes": classes, "pred": pred,
            "accuracy": metrics.accuracy_score(labels, pred),
            "top_k": [metrics.top_k_accuracy_score(labels, scores, k=k, labels=list(range(classes)))
                      for k in range(1, classes + 1)],
            "confusion": metrics.confusion_matrix(labels, pred, labels=list(range(classes))),
            "prf": prf(labels, pred, classes, 0.0)}
    for name, fn in (("roc_auc_ovr", lambda avg: metrics.roc_auc_score(labels, scores, multi_class="ovr", average=avg)),
                     ("ap_ovr", lambda avg: metrics.average_precision_score(onehot, scores, average=avg))):
        case[name] = {"per_class": fn(None), "macro": fn("macro"), "weighted": fn("weighted"), "micro": fn("micro")}
    case["per_class_curves"] = [binary_case((labels == c).astype(int), scores[:, c]) for c in range(classes)]
    for c in case["per_class_curves"]:
        del c["labels"], c["scores"]  # the C test derives them from the matrix
    return case


def prf_cases():
    # five classes: 4 never occurs, 3 is never predicted, so each zero_division applies
    labels = [0, 0, 1, 1, 1, 2, 2, 3, 3, 0, 1, 2, 3, 0]
    pred = [0, 1, 1, 1, 0, 2, 1, 0, 2, 0, 1, 2, 1, 2]
    cases = []
    for zd in (0.0, 1.0, float("nan")):
        c = {"labels": labels, "pred": pred, "classes": 5, "zero_division": zd}
        c.update(prf(labels, pred, 5, zd))
        cases.append(c)
    # binary: average="binary" is class 1's row
    bl, bp = [0, 1, 1, 0, 1, 1, 0, 0, 1, 0], [0, 1, 0, 0, 1, 1, 1, 0, 1, 1]
    c = {"labels": bl, "pred": bp, "classes": 2, "zero_division": 0.0,
         "binary": [metrics.precision_score(bl, bp), metrics.recall_score(bl, bp), metrics.f1_score(bl, bp)]}
    c.update(prf(bl, bp, 2, 0.0))
    cases.append(c)
    return cases


def binary_cases(rng):
    cases = []
    labels = rng.integers(0, 2, 60)
    tied = np.round(rng.random(60) * 0.6 + 0.4 * labels, 1).astype(np.float32).astype(np.float64)
    cases.append(binary_case(labels, tied))
    labels = rng.integers(0, 2, 35)
    logits = (rng.normal(0, 1, 35) + 1.2 * labels).astype(np.float32).astype(np.float64)
    cases.append(binary_case(labels, logits))
    cases.append(binary_case(np.array([0, 1, 0, 1, 1]), np.full(5, 0.5)))  # one threshold
    cases.append(binary_case(np.array([1, 1, 0, 0]), np.array([0.9, 0.8, 0.3, 0.1])))  # perfect
    return cases


def regression_cases(rng):
    cases = []
    t = rng.normal(0, 2, (40, 1))
    p = t + rng.normal(0, 0.5, (40, 1))
    t3 = rng.normal(0, 1, (25, 3))
    t3[:, 2] = 1.5  # constant targets: R² is 0 unless predicted exactly (force_finite)
    p3 = t3 + rng.normal(0, 0.3, (25, 3))
    for t, p in ((t, p), (t3, p3)):
        t = t.astype(np.float32).astype(np.float64)
        p = p.astype(np.float32).astype(np.float64)
        cases.append({"targets": t, "predictions": p,
                      "mse": metrics.mean_squared_error(t, p),
                      "rmse": metrics.root_mean_squared_error(t, p),
                      "mae": metrics.mean_absolute_error(t, p),
                      "r2": metrics.r2_score(t, p)})
    return cases


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "data", "metrics_reference.json")
    warnings.simplefilter("ignore", UndefinedMetricWarning)  # k = classes in top-k is on purpose
    rng = np.random.default_rng(20240607)
    ref = {"generator": f"tools/metrics_reference.py with scikit-learn {sklearn.__version__}, numpy {np.__version__}",
           "multiclass": multiclass_case(rng),
           "prf_cases": prf_cases(),
           "binary": binary_cases(rng),
           "regression": regression_cases(rng)}
    with open(path, "w") as f:
        json.dump(clean(ref), f, indent=1)
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
