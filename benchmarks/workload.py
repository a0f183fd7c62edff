"""The benchmark workload: data, network sizes and the cost model."""

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


def grid(quick=False):
    """(width, depth) pairs of the grid, smallest first."""
    widths, depths = (QUICK_WIDTHS, QUICK_DEPTHS) if quick else (WIDTHS, DEPTHS)
    return [
        (width, depth)
        for width in widths
        for depth in depths
        if depth <= MAX_DEPTH.get(width, max(depths))
    ]


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


def layer_units(width, depth):
    """Units per layer, input and output included."""
    return [N_FEATURES, *([width] * depth), 1]


def flops_per_epoch(width, depth, n_samples=N_SAMPLES):
    """Forward 2 * MACs plus backward 4 * MACs per sample.

    MACs = sum over layers of fan_in * fan_out.
    """
    units = layer_units(width, depth)
    macs = sum(a * b for a, b in zip(units[:-1], units[1:]))
    return 6 * macs * n_samples
