#!/usr/bin/env python3
"""Makes the SpoofingModelTests fixtures: two small ONNX classifiers over 20 features and a CSV of
rows with the probabilities Python's ONNX Runtime gives them.

Run once by hand when the fixtures change (the outputs are committed; tests never run this):

    pip install scikit-learn skl2onnx lightgbm onnxmltools onnx onnxruntime numpy
    python3 Tests/SpoofingModelTests/Fixtures/make_fixtures.py

Outputs, next to this file:
    logistic.onnx         LogisticRegression, skl2onnx, zipmap off, opset 15
    lightgbm.onnx         LGBMClassifier (50 trees), onnxmltools, zipmap off, opset 15
    logistic_zipmap.onnx  the same LogisticRegression with zipmap on: no `probabilities` tensor
                          (the loader must reject it)
    square.onnx           hand-built: probabilities = input * input over [N, 2], so a test can make
                          the model return values outside 0...1 and infinity
    two_inputs.onnx       hand-built: two float inputs [N, 20] (the loader must reject it)
    rows.csv              f0..f19, then probabilities[:, 1] of logistic and lightgbm

The data is random (seeded) with a nonlinear rule for the label, so both models give a spread of
probabilities; it is not a spoofing data set. onnxmltools needs target_opset=15 (newer opsets
are not supported by its LightGBM converter with this onnx).
"""

import csv
import os

import lightgbm
import numpy as np
import onnx
from onnx import TensorProto, helper
import onnxmltools
import onnxruntime as ort
from onnxmltools.convert.common.data_types import FloatTensorType as MLFloatTensorType
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.linear_model import LogisticRegression

FEATURES = 20
OPSET = 15
HERE = os.path.dirname(os.path.abspath(__file__))


def data(rng, n):
    x = rng.normal(size=(n, FEATURES)).astype(np.float32)
    score = 1.5 * x[:, 0] - x[:, 1] + 0.8 * x[:, 2] * x[:, 3] + np.sin(2 * x[:, 4]) + 0.5 * np.abs(x[:, 5])
    y = (score + rng.normal(scale=0.7, size=n) > 0.5).astype(np.int64)
    return x, y


def save(model, name):
    path = os.path.join(HERE, name)
    onnx.checker.check_model(model)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return path


def hand_built(name, inputs, node, width=2):
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info(i, TensorProto.FLOAT, [None, n]) for i, n in inputs],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, width])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=8)


def main():
    rng = np.random.default_rng(20_250_601)
    x_train, y_train = data(rng, 4_000)

    logistic = LogisticRegression(max_iter=1_000).fit(x_train, y_train)
    input_type = [("input", FloatTensorType([None, FEATURES]))]
    logistic_path = save(
        convert_sklearn(logistic, initial_types=input_type, options={id(logistic): {"zipmap": False}},
                        target_opset=OPSET),
        "logistic.onnx")
    save(convert_sklearn(logistic, initial_types=input_type, target_opset=OPSET), "logistic_zipmap.onnx")

    gbm = lightgbm.LGBMClassifier(n_estimators=50, max_depth=6, num_leaves=31, learning_rate=0.1,
                                  random_state=7, verbose=-1).fit(x_train, y_train)
    gbm_path = save(
        onnxmltools.convert_lightgbm(gbm, initial_types=[("input", MLFloatTensorType([None, FEATURES]))],
                                     zipmap=False, target_opset=OPSET),
        "lightgbm.onnx")

    save(hand_built("square", [("input", 2)], helper.make_node("Mul", ["input", "input"], ["probabilities"])),
         "square.onnx")
    save(hand_built("two_inputs", [("a", FEATURES), ("b", FEATURES)],
                    helper.make_node("Add", ["a", "b"], ["probabilities"]), width=FEATURES),
         "two_inputs.onnx")

    # Rows: fresh samples, a few scaled to the extremes, and an all-zero row.
    rows, _ = data(rng, 250)
    rows = np.concatenate([rows, (rows[:5] * 8).astype(np.float32), np.zeros((1, FEATURES), np.float32)])
    columns = []
    for path in (logistic_path, gbm_path):
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]
        assert names == ["label", "probabilities"], names
        probabilities = session.run(["probabilities"], {"input": rows})[0]
        columns.append(probabilities[:, 1].astype(np.float32))
    with open(os.path.join(HERE, "rows.csv"), "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow([f"f{i}" for i in range(FEATURES)] + ["logistic", "lightgbm"])
        for row, p_logistic, p_gbm in zip(rows, *columns):
            writer.writerow([f"{v:.9g}" for v in row] + [f"{p_logistic:.9g}", f"{p_gbm:.9g}"])
    print(f"wrote {len(rows)} rows; onnxruntime {ort.__version__}")


if __name__ == "__main__":
    main()
