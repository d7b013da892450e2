#!/usr/bin/env python3
"""Scores rows with Python's ONNX Runtime for SpoofingModelTests' live parity test.

    python3 score_rows.py MODEL.onnx ROWS.csv

ROWS.csv has one row of comma-separated features per line (no header). Prints probabilities[:, 1]
of each row, one per line, as float32 with 9 significant digits. Exits 3 when onnxruntime or numpy
cannot be imported, so the test can tell "not installed" from a failure.
"""

import sys

try:
    import numpy as np
    import onnxruntime as ort
except ImportError as error:
    print(f"score_rows.py: {error}", file=sys.stderr)
    sys.exit(3)


def main(model, rows_path):
    rows = np.loadtxt(rows_path, delimiter=",", dtype=np.float32, ndmin=2)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    probabilities = session.run(["probabilities"], {input_name: rows})[0]
    sys.stdout.write("".join(f"{p:.9g}\n" for p in probabilities[:, 1]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
