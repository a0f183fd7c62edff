"""
Classification on Adult with a ColumnTransformer
================================================

The Adult census data (will a person earn more than 50K a year?) mixes six
numeric columns and eight categorical ones, with ``?`` for missing values.
A ``ColumnTransformer`` scales the numbers and one-hot encodes the
categories (``?`` as a category of its own), on the DataFrame itself; the
pipeline ends in a :class:`~fastbp.BackpropClassifier`. Without the data
directory, scikit-learn's bundled breast-cancer data stands in, with one
column cut into categories.
"""

import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from fastbp import BackpropClassifier
from fastbp.datasets import load_adult

home = Path(os.environ.get("FASTBP_DOCS_SHARED", "../shared/datasets"))
try:
    X_train, X_test, y_train, y_test = load_adult(data_home=home)
    title = "Adult (published split)"
except (FileNotFoundError, OSError, ValueError):
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.drop(columns="target")
    frame["size"] = pd.cut(frame["mean radius"], 3, labels=["small", "mid", "large"])
    frame["size"] = frame["size"].astype(str)
    labels = np.where(data.target == 1, "benign", "malignant")
    X_train, X_test, y_train, y_test = train_test_split(
        frame, labels, random_state=0, stratify=labels
    )
    title = "breast cancer (Adult is not here)"

encode = make_column_transformer(
    (StandardScaler(), make_column_selector(dtype_include="number")),
    (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
)
model = make_pipeline(encode, BackpropClassifier((64,), max_iter=20, random_state=0))
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    model.fit(X_train, y_train)
print(f"{title}: test accuracy {model.score(X_test, y_test):.4f}")
print(model.predict_proba(X_test[:3]))

ConfusionMatrixDisplay.from_estimator(model, X_test, y_test, normalize="true")
plt.title(title)
plt.show()
