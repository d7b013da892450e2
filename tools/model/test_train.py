"""End-to-end check of tools/model/train.py on a tiny simulation (< 1 minute).

Needs the built chronos binary (CHRONOS_BIN, default .build/release/chronos) and the packages
of requirements.txt. Run: python3 -m unittest discover -s tools/model
"""

import csv
import json
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402


class TrainPipelineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.TemporaryDirectory()
        cls.out = os.path.join(cls.directory.name, "models")
        cls.metrics = train.main([
            "--out-dir", cls.out, "--data-dir", os.path.join(cls.directory.name, "data"),
            "--train-seeds", "1,2", "--train-days", "2", "--validation-days", "2", "--test-days", "2",
            "--variant-days", "2", "--orders-per-day", "6000", "--trees", "20", "--leaves", "15",
        ])

    @classmethod
    def tearDownClass(cls):
        cls.directory.cleanup()

    def test_models_are_valid_onnx_with_the_agreed_interface(self):
        import onnx
        for name in ("spoofing-v1.onnx", "spoofing-lr-v1.onnx"):
            model = onnx.load(os.path.join(self.out, name))
            onnx.checker.check_model(model)
            self.assertEqual([i.name for i in model.graph.input], ["input"])
            dims = model.graph.input[0].type.tensor_type.shape.dim
            self.assertEqual(dims[1].dim_value, train.FEATURE_COUNT)
            self.assertEqual([o.name for o in model.graph.output], ["label", "probabilities"])
            self.assertLessEqual(max(o.version for o in model.opset_import if o.domain == ""), train.OPSET)
            props = {p.key: p.value for p in model.metadata_props}
            self.assertEqual(props["schema_version"], "1")
            self.assertEqual(props["features"].split(","), self.metrics["feature_names"])
            self.assertLess(os.path.getsize(os.path.join(self.out, name)), 1 << 20)

    def test_onnx_outputs_match_the_python_models(self):
        import onnx
        rows = list(csv.reader(open(os.path.join(self.out, "spoofing-v1-parity.csv"))))
        header, body = rows[0], rows[1:]
        self.assertEqual(header[:train.FEATURE_COUNT], self.metrics["feature_names"])
        self.assertGreater(len(body), 50)
        x = np.array([[float(v) for v in r[:train.FEATURE_COUNT]] for r in body], dtype=np.float32)
        for column, name in ((train.FEATURE_COUNT, "spoofing-v1.onnx"), (train.FEATURE_COUNT + 1, "spoofing-lr-v1.onnx")):
            expected = np.array([float(r[column]) for r in body])
            actual = train.onnx_probabilities(onnx.load(os.path.join(self.out, name)), x)
            self.assertTrue(np.all((actual >= 0) & (actual <= 1)))
            np.testing.assert_allclose(actual, expected, atol=1e-6)

    def test_python_models_and_onnx_agree_on_fresh_rows(self):
        # train.main already asserts parity on the held-out rows; do it again on a fitted pair here.
        rng = np.random.default_rng(1)
        x = rng.normal(size=(400, train.FEATURE_COUNT)).astype(np.float32)
        y = (x[:, 0] + 0.5 * x[:, 3] > 0.8).astype(np.int8)
        logistic = train.train_logistic_regression(x, y)
        names = [f"f{i}" for i in range(train.FEATURE_COUNT)]
        onx = train.finish_onnx(train.export_logistic_regression(logistic), "logistic_regression", names, "test")
        self.assertLess(train.check_parity("lr", onx, logistic, x, 1e-4), 1e-4)
        boosted = train.train_lightgbm(x, y, 10, 7, 1)
        onx = train.finish_onnx(train.export_lightgbm(boosted), "lightgbm", names, "test")
        self.assertLess(train.check_parity("lgbm", onx, boosted, x, 1e-4), 1e-3)

    def test_risk_engine_in_replay_flags_exactly_what_python_flags(self):
        # The rows' features are the risk engine's own: replaying the same day through
        # `chronos replay --risk` with the exported model must flag the very same orders.
        import subprocess
        import onnx
        directory = self.directory.name
        rows, commands = os.path.join(directory, "day.csv"), os.path.join(directory, "day.jsonl")
        subprocess.run([train.chronos_binary(), "simulate", "--seed", "77", "--days", "1", "--orders-per-day", "4000",
                        "--out", rows, "--commands", commands, "--quiet"], check=True)
        model = os.path.join(self.out, "spoofing-v1.onnx")
        threshold = self.metrics["thresholds"]["flag"]
        config = os.path.join(directory, "risk.toml")
        with open(config, "w") as f:
            f.write(f'[risk.model]\npath = "{model}"\nmode = "flag"\nthreshold = {threshold!r}\n')
        with open(commands) as stdin:
            out = subprocess.run([train.chronos_binary(), "replay", "--risk", "--config", config], stdin=stdin,
                                 capture_output=True, text=True, check=True).stdout
        risk = [json.loads(line) for line in out.splitlines() if '"ev":"risk"' in line]
        data = train.Dataset([rows])
        self.assertEqual(len(risk), len(data))
        swift = np.array([r["action"] == "flag" for r in risk])
        python = train.onnx_probabilities(onnx.load(model), data.x) >= threshold
        self.assertEqual(swift.tolist(), python.tolist())

    def test_description_names_thresholds_and_metrics(self):
        description = json.load(open(os.path.join(self.out, "spoofing-v1.json")))
        self.assertEqual(description["schema_version"], 1)
        self.assertEqual(len(description["feature_names"]), train.FEATURE_COUNT)
        self.assertIn(description["models"]["spoofing-v1.onnx"], ("lightgbm", "logistic_regression"))
        self.assertTrue(0 <= description["thresholds"]["flag"] <= 1)
        for split in ("test", "split", "mimic"):
            metrics = description["evaluation"]["lightgbm"][split]
            self.assertGreater(metrics["rows"], 1000)
            if "pr_auc" in metrics:
                self.assertTrue(0 <= metrics["pr_auc"] <= 1)
                self.assertIn("market_maker", metrics["fpr_by_agent_type"])


if __name__ == "__main__":
    unittest.main()
