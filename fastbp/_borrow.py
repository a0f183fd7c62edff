"""Borrowed arrays: views that the kernels pass around without counting
references.

Numba counts the references to an array's memory: every view taken
(``W[:, j0:j1]``, a layer's block of the workspace) and every array passed
to a function that is not inlined adds one and later removes one, each an
atomic operation on the memory's owner. A mini-batch of a small network
takes hundreds of them: measured (perf, a network of 16 units, float64,
batch 200), ``NRT_incref`` and ``NRT_decref`` took 27% of the compiled
code's time, more than the matrix products.

:func:`borrow` returns a value's arrays as views without an owner (the
``meminfo`` pointer null, as for an array made by ``numba.carray`` from a
pointer), whose counting Numba skips after one comparison. Their type is the
array's own, so every kernel compiles and computes as before, to the bit.
The caller must keep the arrays alive while the borrowed views are used:
an epoch's kernel borrows its arguments, which the Python caller holds for
the duration of the call. A borrowed array must not leave the compiled
code (returned to Python, stored in an object that outlives the call).
"""

from numba.core import cgutils, types
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array

__all__ = ["borrow"]


def _borrowed_type(value):
    """Whether :func:`borrow` takes ``value``'s type (arrays, scalars and
    tuples of them)."""
    if isinstance(value, types.BaseTuple):
        return all(_borrowed_type(item) for item in value)
    return isinstance(value, (types.Array, types.Number, types.Boolean))


def _borrowed_value(context, builder, value_type, value):
    """LLVM value of ``value`` with every array in it borrowed."""
    if isinstance(value_type, types.Array):
        source = make_array(value_type)(context, builder, value)
        view = make_array(value_type)(context, builder)
        populate_array(
            view,
            data=source.data,
            shape=source.shape,
            strides=source.strides,
            itemsize=source.itemsize,
            meminfo=None,
        )
        return view._getvalue()
    if isinstance(value_type, types.BaseTuple):
        result = cgutils.get_null_value(value.type)
        for index, item_type in enumerate(value_type):
            item = builder.extract_value(value, index)
            item = _borrowed_value(context, builder, item_type, item)
            result = builder.insert_value(result, item, index)
        return result
    return value


@intrinsic
def borrow(typingctx, value):
    """``value`` (an array, a scalar, or a tuple of them, nested) with each
    array replaced by a view of the same memory, shape and strides that no
    reference counting touches (see the module docstring).

    Parameters
    ----------
    value : ndarray, scalar or tuple

    Returns
    -------
    borrowed : the same type as ``value``
    """
    if not _borrowed_type(value):
        return None

    def codegen(context, builder, signature, args):
        return _borrowed_value(context, builder, signature.args[0], args[0])

    return value(value), codegen
