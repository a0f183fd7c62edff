"""ONNX export: file size and time to predict 100k rows, fastbp beside onnxruntime.

``python -m benchmarks.onnx_inference``: a (64, 64) regressor and a 3-class
classifier, float32 and float64, exported with ``fastbp.onnx``; medians of 7
predictions of 100,000 x 8 rows by fastbp and by onnxruntime with one and
two threads (needs the ``onnx`` extra).
"""

import time
import warnings

import numpy as np

from .machine import cpu_name

N_ROWS, REPEATS = 100_000, 7


def _median_ms(predict):
    predict()  # warm up
    seconds = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        predict()
        seconds.append(time.perf_counter() - start)
    return 1e3 * float(np.median(seconds))


def main():
    import onnxruntime
    from skl2onnx import to_onnx

    import fastbp.onnx  # noqa: F401  (registers the converters)
    from fastbp import BackpropClassifier, BackpropRegressor

    print(cpu_name())
    print("| model | file | fastbp | onnxruntime, 1 thread | onnxruntime, 2 threads |")
    print("|---|---|---|---|---|")
    rng = np.random.RandomState(0)
    for dtype in (np.float32, np.float64):
        X = rng.normal(size=(N_ROWS, 8)).astype(dtype)
        classes = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
        for name, model, y, options, predict in [
            ("regressor", BackpropRegressor((64, 64)), X[:, 0] * X[:, 1], None,
             "predict"),
            ("classifier", BackpropClassifier((64, 64)), classes, {"zipmap": False},
             "predict_proba"),
        ]:  # fmt: skip
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.set_params(max_iter=3, random_state=0).fit(X[:5000], y[:5000])
            data = to_onnx(model, X[:1], options=options).SerializeToString()
            times = [_median_ms(lambda: getattr(model, predict)(X))]
            for threads in (1, 2):
                settings = onnxruntime.SessionOptions()
                settings.intra_op_num_threads = threads
                session = onnxruntime.InferenceSession(data, settings)
                times.append(_median_ms(lambda s=session: s.run(None, {"X": X})))
            print(f"| {name}, {np.dtype(dtype).name} | {len(data) / 1024:.1f} KiB | "
                  + " | ".join(f"{t:.1f} ms" for t in times) + " |")  # fmt: skip


if __name__ == "__main__":
    main()
