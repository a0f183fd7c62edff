"""
Export to ONNX and predict with onnxruntime
===========================================

``import fastbp.onnx`` registers fastbp's estimators with skl2onnx; the
converted model runs in onnxruntime (from Python here, equally from C++,
C#, Java, JavaScript or a phone) and predicts what fastbp predicts.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from skl2onnx import to_onnx

import fastbp.onnx  # noqa: F401  (registers the converters)
from fastbp import BackpropClassifier

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    model = BackpropClassifier((64,), max_iter=50, random_state=0).fit(X, y)

onx = to_onnx(model, X[:1], options={"zipmap": False})
session = onnxruntime.InferenceSession(onx.SerializeToString())
labels, probabilities = session.run(None, {"X": X})

print(f"ONNX file: {len(onx.SerializeToString()) / 1024:.1f} KiB")
print("labels identical:", bool((labels == model.predict(X)).all()))
print("largest difference of probabilities:",
      float(np.abs(probabilities - model.predict_proba(X)).max()))

fig, ax = plt.subplots()
ax.hist(np.abs(probabilities - model.predict_proba(X)).ravel(), bins=40)
ax.set_xlabel("|onnxruntime's probability - fastbp's| (float32)")
ax.set_ylabel("count")
plt.show()
