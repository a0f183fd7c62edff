"""Peak memory of a fit on 1,000,000 x 8 float32 rows, in a fresh process.

The child process imports fastbp, compiles on a small fit, measures its
resident memory (the baseline), creates the data, resets the kernel's peak
counter (Linux: ``/proc/self/clear_refs``), fits, and reports the peak
resident memory during the fit. The overhead is the peak minus the baseline
minus the data's own size; the target is at most 64 MB.
"""

import json
import subprocess
import sys

_CHILD = """
import json, warnings
import numpy as np
from fastbp import BackpropRegressor

def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
warnings.simplefilter("ignore")
rng = np.random.RandomState(0)
small = rng.normal(size=(500, 8)).astype(np.float32)
model = BackpropRegressor({hidden}, max_iter=1, random_state=0)
model.fit(small, small[:, 0])
baseline = status("VmRSS")
X = rng.normal(size=({n}, 8)).astype(np.float32)
y = (X[:, 0] - 0.5 * X[:, 1]).astype(np.float32)
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current resident size
before_fit = status("VmRSS")
model.set_params(max_iter={epochs}).fit(X, y)
print(json.dumps({{"baseline": baseline, "before_fit": before_fit,
                  "peak": status("VmHWM"), "data": X.nbytes + y.nbytes}}))
"""


BYTE_FIELDS = ("baseline", "before_fit", "peak", "data", "overhead")


def fit_memory(n_rows=1_000_000, hidden=(64,), epochs=2):
    """Peak RSS figures (bytes) of a float32 fit in a fresh process."""
    code = _CHILD.format(n=n_rows, hidden=hidden, epochs=epochs)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"the memory measurement failed:\n{out.stderr}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures["overhead"] = figures["peak"] - figures["baseline"] - figures["data"]
    figures.update(n_rows=n_rows, hidden=list(hidden), epochs=epochs)
    return figures


if __name__ == "__main__":
    result = fit_memory()
    for key in BYTE_FIELDS:
        print(f"{key}: {result[key] / 2**20:.1f} MB")
