"""The benchmark workload: data, network sizes and the cost model.

Two tasks share the inputs: regression (one output, squared error) and
classification (``N_CLASSES`` classes, softmax output, log loss), whose
labels are the regression target cut at its deciles.
"""

import numpy as np

N_SAMPLES = 8192
N_FEATURES = 8
BATCH_SIZE = 200
LEARNING_RATE = 1e-3
ALPHA = 1e-4

WIDTHS = (16, 64, 256, 1024)
DEPTHS = (1, 2, 4, 8)
# The widest networks stop at two hidden layers (one epoch of 1024 x 8 would
# take scikit-learn most of a minute).
MAX_DEPTH = {1024: 2}
DTYPES = ("float64", "float32")

QUICK_WIDTHS = (16, 256)
QUICK_DEPTHS = (1, 2, 4)

N_CLASSES = 10
CLASSIFICATION_WIDTHS = (64, 256)
CLASSIFICATION_DEPTHS = (1, 4)
# The smallest and the largest network of the classification grid.
QUICK_CLASSIFICATION_SIZES = ((64, 1), (256, 4))
# Networks on which the softmax and the log loss are weighed against the same
# network with N_CLASSES identity outputs and the squared error.
SOFTMAX_OVERHEAD_SIZES = ((64, 1), (64, 4))


def grid(quick=False):
    """(width, depth) pairs of the grid, smallest first."""
    widths, depths = (QUICK_WIDTHS, QUICK_DEPTHS) if quick else (WIDTHS, DEPTHS)
    return [
        (width, depth)
        for width in widths
        for depth in depths
        if depth <= MAX_DEPTH.get(width, max(depths))
    ]


def classification_grid(quick=False):
    """(width, depth) pairs of the classification grid, smallest first."""
    if quick:
        return list(QUICK_CLASSIFICATION_SIZES)
    return [(w, d) for w in CLASSIFICATION_WIDTHS for d in CLASSIFICATION_DEPTHS]


def make_data(dtype, n_samples=N_SAMPLES, seed=0):
    """Seeded synthetic regression data: X (n, 8) standard normal, y (n,)."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, N_FEATURES))
    y = (
        np.sin(X[:, 0])
        + X[:, 1] * X[:, 2]
        - 0.5 * X[:, 3]
        + 0.1 * rng.normal(size=n_samples)
    )
    return X.astype(dtype), y.astype(dtype)


def make_classification_data(dtype, n_samples=N_SAMPLES, seed=0, n_classes=N_CLASSES):
    """make_data's X (n, 8) and labels y (n,) in 0..n_classes - 1: the
    regression target cut at its quantiles, so the classes are balanced."""
    X, target = make_data("float64", n_samples, seed)  # the same labels in any dtype
    edges = np.quantile(target, np.linspace(0, 1, n_classes + 1)[1:-1])
    labels = np.searchsorted(edges, target, side="right").astype(np.int64)
    return X.astype(dtype), labels


def one_hot(labels, n_classes=N_CLASSES, dtype="float64"):
    """(n, n_classes) indicator targets of labels in 0..n_classes - 1."""
    return np.eye(n_classes, dtype=dtype)[labels]


def layer_units(width, depth, n_outputs=1):
    """Units per layer, input and output included."""
    return [N_FEATURES, *([width] * depth), n_outputs]


def flops_per_epoch(width, depth, n_samples=N_SAMPLES, n_outputs=1):
    """Forward 2 * MACs plus backward 4 * MACs per sample.

    MACs = sum over layers of fan_in * fan_out. The softmax, the loss and the
    activations are not counted (a few FLOPs per unit, not per weight).
    """
    units = layer_units(width, depth, n_outputs)
    macs = sum(a * b for a, b in zip(units[:-1], units[1:]))
    return 6 * macs * n_samples
