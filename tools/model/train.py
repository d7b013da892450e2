#!/usr/bin/env python3
"""Train the spoofing model on `chronos simulate` rows and export it to ONNX.

Data: the built `chronos simulate` (CHRONOS_BIN, default .build/release/chronos) writes
labeled rows of the risk engine's own Swift feature code; Python only trains, evaluates and
exports. Splits are by seed (whole days), never by random rows:

  train       seeds --train-seeds, spoofers and layerers
  validation  --validation-seed: picks the flag threshold (1 % false-positive rate)
  test        --test-seed: the held-out seed, same manipulator kinds
  split       --variant-seed with only split spoofers (spoof spread over many normal-sized
              orders), a kind never seen in training
  mimic       --variant-seed + 1000 with only market-maker-mimicking spoofers (inflate the size
              of their own ladder behind the touch), never seen in training either

Models: logistic regression (StandardScaler + LogisticRegression in one sklearn Pipeline, so
the ONNX graph includes the scaling) and LightGBM (100 trees, <= 31 leaves). Both export with
one float input `input` [None, 20] and outputs `label` (int64) and `probabilities` (float
[None, 2]), opset 15, no ZipMap. The one with the better held-out PR-AUC becomes
models/spoofing-v1.onnx; the logistic regression is also kept as models/spoofing-lr-v1.onnx.

Writes (under --out-dir, default models/): spoofing-v1.onnx, spoofing-lr-v1.onnx,
spoofing-v1.json (schema, features, thresholds, metrics), spoofing-v1-parity.csv (held-out rows
with the onnxruntime probability of class 1 of both models, for the Swift parity test).
Prints the evaluation as Markdown tables (docs/risk-model.md quotes them).
"""

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import time

import numpy as np

FEATURE_COUNT = 20
SCHEMA_VERSION = 1
OPSET = 15  # onnxmltools refuses higher with the current onnx package
META_COLUMNS = ["day_seed", "ts", "agent_type", "agent_id", "episode_id", "order_id", "label"]
TARGET_FPR = 0.01


# ----------------------------------------------------------------------------------------------
# Data


def chronos_binary():
    path = os.environ.get("CHRONOS_BIN", ".build/release/chronos")
    if not os.access(path, os.X_OK):
        sys.exit(f"train.py: no chronos binary at {path}: run `swift build -c release --product chronos` "
                 "or set CHRONOS_BIN")
    return path


def simulate(binary, seed, days, orders_per_day, manipulators, path):
    """Runs chronos simulate unless `path` already holds this exact run's output."""
    stamp = f"{path}.args"
    args = [binary, "simulate", "--seed", str(seed), "--days", str(days), "--orders-per-day",
            str(orders_per_day), "--manipulators", manipulators, "--out", path, "--quiet"]
    status = os.stat(binary)
    key = " ".join(args[1:]) + f" [binary {status.st_size} {status.st_mtime_ns}]"
    if os.path.exists(path) and os.path.exists(stamp) and open(stamp).read() == key:
        return path
    subprocess.run(args, check=True)
    with open(stamp, "w") as f:
        f.write(key)
    return path


class Dataset:
    """Rows of one or more simulate runs: features float32 [n, 20] and the label columns."""

    def __init__(self, paths):
        parts = [self._load(p) for p in paths]
        self.names = parts[0][0]
        self.x = np.concatenate([p[1] for p in parts])
        self.day = np.concatenate([p[2] for p in parts])
        self.agent = np.concatenate([p[3] for p in parts])
        self.episode = np.concatenate([p[4] for p in parts])
        self.y = np.concatenate([p[5] for p in parts])
        self.account = np.concatenate([p[6] for p in parts])

    @staticmethod
    def _load(path):
        with open(path) as f:
            header = f.readline().strip().split(",")
        if header[:len(META_COLUMNS)] != META_COLUMNS or len(header) != len(META_COLUMNS) + FEATURE_COUNT:
            sys.exit(f"train.py: {path}: unexpected header {header[:8]}…")
        x = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32,
                       usecols=range(len(META_COLUMNS), len(header)), ndmin=2)
        meta = np.loadtxt(path, delimiter=",", skiprows=1, dtype=str, usecols=(0, 2, 3, 4, 6), ndmin=2)
        return (header[len(META_COLUMNS):], x, meta[:, 0], meta[:, 1], meta[:, 3].astype(np.int64),
                meta[:, 4].astype(np.int8), meta[:, 2].astype(np.int64))

    def __len__(self):
        return len(self.y)

    def describe(self):
        days = len(set(self.day))
        return f"{len(self):,} rows, {days} days, {int(self.y.sum()):,} spoof legs ({self.y.mean():.2%})"


# ----------------------------------------------------------------------------------------------
# Models


def train_logistic_regression(x, y):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    model = Pipeline([("scale", StandardScaler()), ("classify", LogisticRegression(C=1.0, max_iter=2000))])
    model.fit(x, y)
    return model


def train_lightgbm(x, y, trees, leaves, jobs):
    import lightgbm
    model = lightgbm.LGBMClassifier(
        n_estimators=trees, num_leaves=leaves, learning_rate=0.1, min_child_samples=50, subsample=0.8,
        subsample_freq=1, colsample_bytree=0.9, reg_lambda=1.0, n_jobs=jobs, random_state=7, verbose=-1)
    model.fit(x, y)
    return model


def export_logistic_regression(model):
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LogisticRegression
    return convert_sklearn(model, initial_types=[("input", FloatTensorType([None, FEATURE_COUNT]))],
                           target_opset=OPSET, options={LogisticRegression: {"zipmap": False}})


def export_lightgbm(model):
    import onnxmltools
    from onnxmltools.convert.common.data_types import FloatTensorType
    return onnxmltools.convert_lightgbm(model, initial_types=[("input", FloatTensorType([None, FEATURE_COUNT]))],
                                        target_opset=OPSET, zipmap=False)


def finish_onnx(onx, kind, names, description):
    """Checks the graph's interface and stamps the schema into its metadata."""
    import onnx
    # Converters declare the batch dimension of outputs differently ([1], unknown): make every
    # batch dimension the symbolic "N" so a runtime never warns or pre-binds a wrong shape.
    for value in list(onx.graph.input) + list(onx.graph.output):
        dims = value.type.tensor_type.shape.dim
        if len(dims) > 0:
            dims[0].ClearField("dim_value")
            dims[0].dim_param = "N"
    unique = {}
    for opset in onx.opset_import:
        unique[opset.domain] = max(unique.get(opset.domain, 0), opset.version)
    del onx.opset_import[:]
    for domain, version in sorted(unique.items()):
        entry = onx.opset_import.add()
        entry.domain, entry.version = domain, version
    inputs = [(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]) for i in onx.graph.input]
    outputs = [o.name for o in onx.graph.output]
    assert len(inputs) == 1 and inputs[0][0] == "input" and inputs[0][1][1] == FEATURE_COUNT, inputs
    assert outputs == ["label", "probabilities"], outputs
    onx.doc_string = description
    onx.graph.name = f"chronos_spoofing_{kind}_v{SCHEMA_VERSION}"  # converters pick a random one
    onx.producer_name = "chronos tools/model/train.py"
    for key, value in [("schema_version", str(SCHEMA_VERSION)), ("model", kind), ("features", ",".join(names))]:
        entry = onx.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(onx)
    return onx


def onnx_probabilities(onx, x):
    import onnxruntime
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(onx.SerializeToString(), options, providers=["CPUExecutionProvider"])
    label, probabilities = session.run(["label", "probabilities"], {"input": np.ascontiguousarray(x, np.float32)})
    assert probabilities.shape == (len(x), 2) and label.dtype == np.int64
    return probabilities[:, 1]


def check_parity(name, onx, model, x, tolerance):
    """ONNX Runtime vs the Python model on the same float32 rows."""
    expected = model.predict_proba(x)[:, 1]
    actual = onnx_probabilities(onx, x)
    difference = np.abs(expected - actual)
    worst = float(difference.max()) if len(difference) else 0.0
    share = float((difference > tolerance).mean()) if len(difference) else 0.0
    print(f"parity {name}: max |onnx - python| = {worst:.2e} over {len(x):,} rows ({share:.4%} above {tolerance})")
    if share > 0.001 or worst > 0.05:
        raise AssertionError(f"{name}: ONNX output differs from the Python model (max {worst}, share {share})")
    return worst


# ----------------------------------------------------------------------------------------------
# Evaluation


def threshold_at_fpr(scores, y, fpr):
    """The score above which `fpr` of the negatives lie."""
    negatives = np.sort(scores[y == 0])
    if len(negatives) == 0:
        return 1.0
    return float(negatives[min(int(np.ceil((1 - fpr) * len(negatives))), len(negatives) - 1)])


def evaluate(data, scores, threshold):
    from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve
    y = data.y
    result = {"rows": int(len(y)), "spoof_legs": int(y.sum())}
    if y.sum() == 0 or y.sum() == len(y):
        return result
    result["pr_auc"] = float(average_precision_score(y, scores))
    result["roc_auc"] = float(roc_auc_score(y, scores))
    fpr, tpr, _ = roc_curve(y, scores)
    result["recall_at_1pct_fpr"] = float(tpr[fpr <= TARGET_FPR].max())
    flagged = scores >= threshold
    negatives = y == 0
    result["threshold"] = float(threshold)
    result["fpr_at_threshold"] = float(flagged[negatives].mean())
    result["recall_at_threshold"] = float(flagged[y == 1].mean())
    result["precision_at_threshold"] = float(y[flagged].mean()) if flagged.any() else 0.0
    per_type = {}
    for kind in sorted(set(data.agent)):
        mask = (data.agent == kind) & negatives
        if mask.any():
            per_type[kind] = float(flagged[mask].mean())
    result["fpr_by_agent_type"] = per_type
    result["market_maker_fpr"] = per_type.get("market_maker", 0.0)
    legs = y == 1
    episodes = {}
    first = {}  # (day, account) -> its first episode with a spoof leg
    for day, account, episode, hit in zip(data.day[legs], data.account[legs], data.episode[legs], flagged[legs]):
        key = (day, episode)
        episodes[key] = episodes.get(key, False) or bool(hit)
        first[(day, account)] = min(first.get((day, account), episode), episode)
    result["episodes"] = len(episodes)
    result["episode_recall"] = float(np.mean(list(episodes.values())))
    # A manipulator's first episode of the day: no history of its own yet (pre-trade's hard case).
    result["first_episodes"] = len(first)
    result["first_episode_recall"] = float(np.mean([episodes[(d, e)] for (d, _), e in first.items()]))
    return result


class RulesBaseline:
    """What a rules desk would write: an order that is a large share of the near-touch depth of its
    side AND an account with a high order-to-trade ratio (RTS 9 style). Score = min of the two
    features' ranks (training ECDF), so one number sweeps the pair of thresholds together. (Of the
    pairs of size and cancel/OTR features tried on the training seeds, this pair did best.)"""

    FEATURES = ("share_of_near_depth", "log_order_to_trade_ratio")

    def __init__(self, names, x):
        self.columns = [names.index(f) for f in self.FEATURES]
        self.sorted = [np.sort(x[:, c]) for c in self.columns]

    def score(self, x):
        ranks = [np.searchsorted(s, x[:, c], side="right") / len(s) for c, s in zip(self.columns, self.sorted)]
        return np.minimum(*ranks)


# ----------------------------------------------------------------------------------------------
# Reports


def markdown_tables(metrics):
    lines = []
    for split, title in [("test", "held-out seed"), ("split", "left-out variant: split spoofer"),
                         ("mimic", "left-out variant: market-maker-mimicking spoofer")]:
        lines.append(f"\n**{title}** — {metrics['datasets'][split]}\n")
        lines.append("| model | PR-AUC | ROC-AUC | recall @ 1 % FPR | FPR @ threshold | recall @ threshold "
                     "| precision @ threshold | market-maker FPR | episode recall | first-episode recall |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|")
        for model in ("lightgbm", "logistic_regression", "rules"):
            m = metrics["evaluation"][model][split]
            if "pr_auc" not in m:
                continue
            lines.append(
                f"| {model} | {m['pr_auc']:.3f} | {m['roc_auc']:.3f} | {m['recall_at_1pct_fpr']:.1%} "
                f"| {m['fpr_at_threshold']:.2%} | {m['recall_at_threshold']:.1%} | {m['precision_at_threshold']:.1%} "
                f"| {m['market_maker_fpr']:.2%} | {m['episode_recall']:.1%} ({m['episodes']}) "
                f"| {m['first_episode_recall']:.1%} ({m['first_episodes']}) |")
        kinds = sorted(metrics["evaluation"]["lightgbm"][split].get("fpr_by_agent_type", {}))
        if kinds:
            lines.append("\nFalse-positive rate by agent type at the threshold (label-0 rows):\n")
            lines.append("| model | " + " | ".join(kinds) + " |")
            lines.append("|---|" + "---|" * len(kinds))
            for model in ("lightgbm", "logistic_regression", "rules"):
                per = metrics["evaluation"][model][split].get("fpr_by_agent_type", {})
                lines.append(f"| {model} | " + " | ".join(f"{per.get(k, 0):.2%}" for k in kinds) + " |")
    return "\n".join(lines)


def write_parity(path, names, x, lightgbm_scores, lr_scores, y, rng, count=200):
    positives = np.flatnonzero(y == 1)
    negatives = np.flatnonzero(y == 0)
    take = min(len(positives), count // 4)
    chosen = np.concatenate([rng.choice(positives, take, replace=False),
                             rng.choice(negatives, min(len(negatives), count - take), replace=False)])
    chosen.sort()
    with open(path, "w") as f:
        f.write(",".join(list(names) + ["spoofing_v1", "spoofing_lr_v1"]) + "\n")
        for i in chosen:
            values = [f"{v:.9g}" for v in x[i]] + [f"{lightgbm_scores[i]:.9g}", f"{lr_scores[i]:.9g}"]
            f.write(",".join(values) + "\n")


# ----------------------------------------------------------------------------------------------


def parse_seeds(text):
    return [int(s) for s in text.split(",") if s]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", default="models")
    parser.add_argument("--data-dir", default=".build/model-data")
    parser.add_argument("--train-seeds", default="1,2,3,4")
    parser.add_argument("--train-days", type=int, default=8)
    parser.add_argument("--validation-seed", type=int, default=500)
    parser.add_argument("--validation-days", type=int, default=4)
    parser.add_argument("--test-seed", type=int, default=1001)
    parser.add_argument("--test-days", type=int, default=6)
    parser.add_argument("--variant-seed", type=int, default=2001)
    parser.add_argument("--variant-days", type=int, default=6)
    parser.add_argument("--orders-per-day", type=int, default=40_000)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--leaves", type=int, default=31)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    started = time.time()
    binary = chronos_binary()
    os.makedirs(args.data_dir, exist_ok=True)
    os.makedirs(args.out_dir, exist_ok=True)

    # 1. Simulate (one process per seed, --jobs at a time).
    runs = {"train": [], "validation": [], "test": [], "split": [], "mimic": []}
    jobs = []
    for seed in parse_seeds(args.train_seeds):
        jobs.append(("train", seed, args.train_days, "spoofer,layerer"))
    jobs.append(("validation", args.validation_seed, args.validation_days, "spoofer,layerer"))
    jobs.append(("test", args.test_seed, args.test_days, "spoofer,layerer"))
    jobs.append(("split", args.variant_seed, args.variant_days, "split_spoofer"))
    jobs.append(("mimic", args.variant_seed + 1000, args.variant_days, "mimic_spoofer"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = []
        for split, seed, days, manipulators in jobs:
            path = os.path.join(args.data_dir, f"{split}-seed{seed}-{days}x{args.orders_per_day}-{manipulators}.csv")
            futures.append((split, pool.submit(simulate, binary, seed, days, args.orders_per_day, manipulators, path)))
        for split, future in futures:
            runs[split].append(future.result())
    data = {split: Dataset(paths) for split, paths in runs.items()}
    names = data["train"].names
    for split, d in data.items():
        print(f"{split:>10}: {d.describe()}")
    simulated = time.time()

    # 2. Train.
    x, y = data["train"].x, data["train"].y
    logistic = train_logistic_regression(x, y)
    boosted = train_lightgbm(x, y, args.trees, args.leaves, args.jobs)
    rules = RulesBaseline(names, x)
    trained = time.time()

    # 3. Export and check ONNX against the Python models.
    lr_onnx = finish_onnx(export_logistic_regression(logistic), "logistic_regression", names,
                          "Chronos spoofing model (logistic regression with standardization), schema v1")
    gbm_onnx = finish_onnx(export_lightgbm(boosted), "lightgbm", names,
                           f"Chronos spoofing model (LightGBM, {args.trees} trees, <= {args.leaves} leaves), schema v1")
    check_parity("logistic_regression", lr_onnx, logistic, data["test"].x, 1e-4)
    check_parity("lightgbm", gbm_onnx, boosted, data["test"].x, 1e-4)

    # 4. Evaluate: thresholds from the validation seed, metrics on the held-out seed and variant.
    scorers = {
        "lightgbm": lambda a: onnx_probabilities(gbm_onnx, a),
        "logistic_regression": lambda a: onnx_probabilities(lr_onnx, a),
        "rules": rules.score,
    }
    evaluation = {}
    thresholds = {}
    for name, score in scorers.items():
        thresholds[name] = threshold_at_fpr(score(data["validation"].x), data["validation"].y, TARGET_FPR)
        evaluation[name] = {split: evaluate(data[split], score(data[split].x), thresholds[name])
                            for split in ("validation", "test", "split", "mimic")}
    chosen = max(("lightgbm", "logistic_regression"), key=lambda m: evaluation[m]["test"].get("pr_auc", 0))
    importance = sorted(zip(names, boosted.booster_.feature_importance("gain")), key=lambda p: -p[1])

    # 5. Write the models, the description and the parity rows.
    main_path = os.path.join(args.out_dir, "spoofing-v1.onnx")
    lr_path = os.path.join(args.out_dir, "spoofing-lr-v1.onnx")
    with open(main_path, "wb") as f:
        f.write((gbm_onnx if chosen == "lightgbm" else lr_onnx).SerializeToString())
    with open(lr_path, "wb") as f:
        f.write(lr_onnx.SerializeToString())
    test = data["test"]
    write_parity(os.path.join(args.out_dir, "spoofing-v1-parity.csv"), names, test.x,
                 onnx_probabilities(gbm_onnx if chosen == "lightgbm" else lr_onnx, test.x),
                 onnx_probabilities(lr_onnx, test.x), test.y, np.random.default_rng(7))
    import lightgbm
    import onnx
    import onnxruntime
    import sklearn
    metrics = {
        "schema_version": SCHEMA_VERSION,
        "feature_names": names,
        "input": {"name": "input", "shape": [None, FEATURE_COUNT], "type": "float32"},
        "outputs": {"label": "int64 [None]", "probabilities": "float32 [None, 2]; column 1 = spoofing"},
        "opset": OPSET,
        "models": {
            "spoofing-v1.onnx": chosen,
            "spoofing-lr-v1.onnx": "logistic_regression",
        },
        "chosen_because": f"higher PR-AUC on the held-out seed {args.test_seed}",
        "thresholds": {
            "flag": thresholds[chosen],
            "flag_note": f"score >= this flags ~{TARGET_FPR:.0%} of legitimate orders (validation seed "
                         f"{args.validation_seed}); throttle/reject thresholds are policy, not model",
            "by_model": thresholds,
        },
        "datasets": {split: data[split].describe() for split in data},
        "seeds": {"train": parse_seeds(args.train_seeds), "validation": args.validation_seed,
                  "test": args.test_seed, "split": args.variant_seed, "mimic": args.variant_seed + 1000,
                  "train_days_per_seed": args.train_days,
                  "orders_per_day": args.orders_per_day},
        "lightgbm": {"trees": args.trees, "leaves": args.leaves,
                     "feature_importance_gain": {n: float(g) for n, g in importance}},
        "evaluation": evaluation,
        "versions": {"numpy": np.__version__, "scikit-learn": sklearn.__version__, "lightgbm": lightgbm.__version__,
                     "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__},
        "seconds": {"simulate_and_load": round(simulated - started, 1), "train": round(trained - simulated, 1),
                    "total": round(time.time() - started, 1)},
    }
    with open(os.path.join(args.out_dir, "spoofing-v1.json"), "w") as f:
        json.dump(metrics, f, indent=1)
        f.write("\n")

    print(markdown_tables(metrics))
    print(f"\nchosen: {chosen} (held-out PR-AUC {evaluation[chosen]['test'].get('pr_auc', 0):.3f}); "
          f"{main_path} {os.path.getsize(main_path):,} bytes, {lr_path} {os.path.getsize(lr_path):,} bytes")
    print("flag thresholds (1 % FPR on validation): " + ", ".join(f"{k} {v:.4f}" for k, v in thresholds.items()))
    print("LightGBM gain: " + ", ".join(f"{n} {g:.0f}" for n, g in importance[:8]))
    print(f"total {time.time() - started:.0f} s (simulate+load {simulated - started:.0f} s, train {trained - simulated:.0f} s)")
    return metrics


if __name__ == "__main__":
    main()
