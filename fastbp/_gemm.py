"""Matrix products with explicit SIMD register tiles, in a fixed order.

:func:`matmul` writes ``C = L @ R``, ``R``'s rows contiguous and ``L`` any
strided view: a layer's forward pass ``A @ W``, its weight gradient
``A.T @ delta`` and, with ``W`` transposed first (:func:`pack_transposed`),
the error it sends back, ``delta @ W.T``. Each ``C[i, j]`` is the sum over ``k``
of ``L[i, k] * R[k, j]`` taken in order, ``k = 0, 1, ...``, with one fused
multiply-add (rounded once) per term: the result depends on the operands
only, not on the tile, the vector width, the CPU or how rows and columns
are split between threads.

A tile of ``MR`` rows and ``NV`` vectors of 512 bits (8 float64, 16
float32) lives in registers: for each ``k`` the row ``R[k, j:j + NV * V]``
is loaded once and multiplied by each row's ``L[i, k]`` broadcast. The code
is LLVM's IR, written through Numba's ``intrinsic``: LLVM does not
vectorise a scalar sum unless allowed to reorder it, which fastbp never
allows. The last vector of a tile is loaded and stored under a mask
(columns not a multiple of ``V``); rows past the end of ``L`` repeat its
last row and are not stored.

The tile follows the CPU (:func:`simd_shape`, checked at import): 6 x 4
vectors with AVX-512 (32 registers of 512 bits), 6 x 1 with AVX2 and FMA
(16 of 256 bits; LLVM splits a 512-bit vector in two) or on ARM's NEON. A
CPU with none of these (no fused multiply-add instruction, whose library
emulation would be slow) uses BLAS (``np.dot``) instead, single threaded,
in BLAS's order. ``FASTBP_KERNELS`` (read at import) forces a path:
``avx512``, ``avx2`` or ``blas``; the tests run each.
"""

import os

import llvmlite.binding as llvm
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from ._jit import jit

__all__ = [
    "SIMD",
    "check_panels",
    "column_sums",
    "matmul",
    "matmul_bias",
    "matmul_transposed",
    "matvec",
    "matvec_transposed",
    "matmul_panels",
    "matmul_panels_relu_derivative",
    "pack_transposed",
    "panel_width",
    "simd_shape",
    "sparse_matmul",
    "sparse_matmul_transposed",
    "sum_of_squares",
]

LANES_BITS = 512


TILES = {"avx512": (6, 4), "avx2": (6, 1)}
KERNELS = ("auto", *TILES, "blas")


def simd_shape(features=None, kernels=None):
    """The register tile for a CPU, or None to use BLAS.

    Parameters
    ----------
    features : str, default=None
        LLVM's CPU feature string (``+avx2,+fma,...``); the host's when None.
    kernels : {"auto", "avx512", "avx2", "blas"}, default=None
        ``"auto"`` decides by the CPU's features; ``"avx512"`` or ``"avx2"``
        takes that tile whatever the CPU (correct on any CPU, fast on its
        own), ``"blas"`` uses BLAS. ``$FASTBP_KERNELS`` when None
        (``"auto"`` if unset).

    Returns
    -------
    shape : tuple of (int, int) or None
        ``(MR, NV)``, :func:`matmul`'s tile of ``MR`` rows by ``NV``
        vectors of 512 bits; None where fastbp uses BLAS.
    """
    if kernels is None:
        kernels = os.environ.get("FASTBP_KERNELS", "auto")
    if kernels not in KERNELS:
        raise ValueError(f"FASTBP_KERNELS must be one of {KERNELS}, got {kernels!r}")
    if kernels != "auto":
        return TILES.get(kernels)
    if features is None:
        features = llvm.get_host_cpu_features().flatten()
    flags = {f[1:] for f in features.split(",") if f.startswith("+")}
    if "avx512f" in flags:
        return TILES["avx512"]
    if ("avx2" in flags and "fma" in flags) or "neon" in flags:
        return TILES["avx2"]
    return None


SHAPE = simd_shape()
SIMD = SHAPE is not None
MR, NV = SHAPE if SIMD else (1, 1)

_IR_FLOAT = {types.float64: ir.DoubleType(), types.float32: ir.FloatType()}
_I64 = ir.IntType(64)
_I32 = ir.IntType(32)
_I1 = ir.IntType(1)


class _Emitter:
    """IR for one tile: vectors of LANES elements of ``real``."""

    def __init__(self, context, builder, real):
        self.builder = builder
        self.real = real
        bits = 64 if isinstance(real, ir.DoubleType) else 32
        self.lanes = LANES_BITS // bits
        self.vector = ir.VectorType(real, self.lanes)
        self.zero = ir.Constant(self.vector, [0.0] * self.lanes)
        self.align = bits // 8  # rows start anywhere: element alignment
        suffix = f"v{self.lanes}f{bits}"
        mask = ir.VectorType(_I1, self.lanes)
        pointer = self.vector.as_pointer()
        vec = self.vector
        self._fma = self._declare(f"llvm.fma.{suffix}", ir.FunctionType(vec, [vec] * 3))
        self._load = self._declare(
            f"llvm.masked.load.{suffix}.p0",
            ir.FunctionType(vec, [pointer, _I32, mask, vec]),
        )
        self._store = self._declare(
            f"llvm.masked.store.{suffix}.p0",
            ir.FunctionType(ir.VoidType(), [vec, pointer, _I32, mask]),
        )

    def _declare(self, name, fnty):
        module = self.builder.module
        if name in module.globals:
            return module.globals[name]
        return ir.Function(module, fnty, name=name)

    @staticmethod
    def i64(value):
        return ir.Constant(_I64, value)

    def splat(self, value, vector_type=None):
        vector_type = vector_type or self.vector
        b = self.builder
        v = b.insert_element(ir.Constant(vector_type, None), value, ir.Constant(_I32, 0))
        zeros = ir.Constant(ir.VectorType(_I32, vector_type.count), [0] * vector_type.count)
        return b.shuffle_vector(v, v, zeros)

    def mask(self, count):
        """Lanes ``0 .. count - 1`` (an i64) set."""
        ids = ir.Constant(ir.VectorType(_I64, self.lanes), list(range(self.lanes)))
        return self.builder.icmp_signed(
            "<", ids, self.splat(count, ir.VectorType(_I64, self.lanes))
        )

    def address(self, data, offset):
        return self.builder.bitcast(self.builder.gep(data, [offset]), self.vector.as_pointer())

    def load(self, data, offset, mask=None):
        if mask is None:
            return self.builder.load(self.address(data, offset), align=self.align)
        align = ir.Constant(_I32, self.align)
        return self.builder.call(self._load, [self.address(data, offset), align, mask, self.zero])

    def store(self, value, data, offset, mask=None):
        if mask is None:
            self.builder.store(value, self.address(data, offset), align=self.align)
        else:
            align = ir.Constant(_I32, self.align)
            self.builder.call(self._store, [value, self.address(data, offset), align, mask])

    def fma(self, a, b, c):
        return self.builder.call(self._fma, [a, b, c])

    def scalar_fma(self, a, b, c):
        bits = 64 if isinstance(self.real, ir.DoubleType) else 32
        fn = self._declare(f"llvm.fma.f{bits}", ir.FunctionType(self.real, [self.real] * 3))
        return self.builder.call(fn, [a, b, c])

    def prefetch(self, pointer):
        """Hint that ``pointer``'s cache line will be read soon."""
        byte = ir.IntType(8).as_pointer()
        fn = self._declare(
            "llvm.prefetch.p0", ir.FunctionType(ir.VoidType(), [byte, _I32, _I32, _I32])
        )
        read, keep, data = (ir.Constant(_I32, c) for c in (0, 3, 1))
        self.builder.call(fn, [self.builder.bitcast(pointer, byte), read, keep, data])

    def clamp(self, index, count):
        """``index`` (a Python int) if below ``count``, else ``count - 1``."""
        b = self.builder
        inside = b.icmp_signed("<", self.i64(index), count)
        return b.select(inside, self.i64(index), b.sub(count, self.i64(1)))

    def lane_sum(self, value):
        """The lanes of ``value`` (a vector of floats, a power of two of
        them) added by a fixed tree: halves, then halves."""
        b = self.builder
        width = value.type.count
        while width > 1:
            width //= 2
            low = b.shuffle_vector(value, value, ir.Constant(
                ir.VectorType(_I32, width), list(range(width))))  # fmt: skip
            high = b.shuffle_vector(value, value, ir.Constant(
                ir.VectorType(_I32, width), list(range(width, 2 * width))))  # fmt: skip
            value = b.fadd(low, high)
        return b.extract_element(value, ir.Constant(_I32, 0))

    def chunked_loop(self, length, initial, body):
        """Values after ``body(start, mask, values)`` for each chunk of
        LANES elements ``start, start + 1, ...`` of ``length``, ``mask``
        setting the lanes inside it (all but in the last chunk)."""
        b = self.builder
        chunks = b.sdiv(b.add(length, self.i64(self.lanes - 1)), self.i64(self.lanes))

        def chunk_body(chunk, values):
            start = b.mul(chunk, self.i64(self.lanes))
            return body(start, self.mask(b.sub(length, start)), values)

        return self.counted_loop(chunks, initial, chunk_body)

    def counted_loop(self, count, initial, body):
        """Values after ``for k in range(count): values = body(k, values)``."""
        b = self.builder
        entry = b.block
        loop = b.append_basic_block("tile.loop")
        done = b.append_basic_block("tile.done")
        b.cbranch(b.icmp_signed(">", count, self.i64(0)), loop, done)
        b.position_at_end(loop)
        k = b.phi(_I64)
        k.add_incoming(self.i64(0), entry)
        values = [b.phi(v.type) for v in initial]
        for phi, v in zip(values, initial):
            phi.add_incoming(v, entry)
        new = body(k, values)
        k_next = b.add(k, self.i64(1))
        end = b.block
        k.add_incoming(k_next, end)
        for phi, v in zip(values, new):
            phi.add_incoming(v, end)
        b.cbranch(b.icmp_signed("<", k_next, count), loop, done)
        b.position_at_end(done)
        final = []
        for v0, v1 in zip(initial, new):
            phi = b.phi(v0.type)
            phi.add_incoming(v0, entry)
            phi.add_incoming(v1, end)
            final.append(phi)
        return final


def _data(context, builder, array_type, value):
    return context.make_array(array_type)(context, builder, value).data


def _nn_codegen(rows, vectors, mask_all=False, ones=False, epilogue=None):
    """IR of :func:`matmul`'s tile; see :func:`_nn_tile`. With ``mask_all``
    every vector is masked (the tile's width is then any number of columns
    up to ``vectors * LANES``), else the last one only. With ``ones``, L is
    not read: every ``L[i, k]`` is 1 (column sums of R; ``fma(1, x, s)`` is
    ``s + x`` rounded once, as an addition). With ``epilogue`` ("bias" or
    "relu"), two more arguments ``b, b_off``: each sum gets ``b[b_off + j]``
    added before it is stored ("relu": then 0 where the result is below 0,
    as ``_activations.add_bias_and_activate``'s, to the bit). With
    "relu_derivative", three more, ``A, a_off, a_ld`` (an array laid out as
    C, from element ``a_off``, rows ``a_ld`` apart): each sum is stored as
    0 where A's element is 0 (relu's f', as
    ``_activations.multiply_by_derivative``'s, to the bit)."""

    def codegen(context, builder, signature, args):
        (L, l_off, l_rs, l_cs, R, r_off, r_ld, C, c_off, c_ld, depth,
         valid_rows, columns) = args[:13]  # fmt: skip
        e = _Emitter(context, builder, _IR_FLOAT[signature.args[7].dtype])
        l_data = _data(context, builder, signature.args[0], L)
        r_data = _data(context, builder, signature.args[4], R)
        c_data = _data(context, builder, signature.args[7], C)
        lanes = e.lanes
        masks = [
            e.mask(builder.sub(columns, e.i64(v * lanes)))
            if mask_all or v == vectors - 1 else None
            for v in range(vectors)
        ]
        l_rows = [
            builder.add(l_off, builder.mul(e.clamp(r, valid_rows), l_rs))
            for r in range(rows)
        ]

        def body(k, acc):
            r_row = builder.add(r_off, builder.mul(k, r_ld))
            w = [e.load(r_data, builder.add(r_row, e.i64(v * lanes)), masks[v])
                 for v in range(vectors)]  # fmt: skip
            l_col = builder.mul(k, l_cs)
            new = []
            for r in range(rows):
                if ones:
                    x = e.splat(ir.Constant(e.real, 1.0))
                else:
                    x = e.splat(builder.load(builder.gep(l_data, [builder.add(l_rows[r], l_col)])))
                new += [e.fma(x, w[v], acc[r * vectors + v]) for v in range(vectors)]
            return new

        acc = e.counted_loop(depth, [e.zero] * (rows * vectors), body)
        if epilogue == "relu_derivative":
            a_data = _data(context, builder, signature.args[13], args[13])
            a_off, a_ld = args[14], args[15]
        elif epilogue is not None:
            b_data = _data(context, builder, signature.args[13], args[13])
            bias = [e.load(b_data, builder.add(args[14], e.i64(v * lanes)), masks[v])
                    for v in range(vectors)]  # fmt: skip
            acc = [builder.fadd(a, bias[i % vectors]) for i, a in enumerate(acc)]
            if epilogue == "relu":  # NaN and -0 kept, as ``0 if z < 0 else z``
                acc = [builder.select(builder.fcmp_ordered("<", a, e.zero), e.zero, a)
                       for a in acc]  # fmt: skip
        for r in range(rows):
            with builder.if_then(builder.icmp_signed("<", e.i64(r), valid_rows)):
                c_row = builder.add(c_off, builder.mul(e.i64(r), c_ld))
                for v in range(vectors):
                    value = acc[r * vectors + v]
                    if epilogue == "relu_derivative":  # 0 where A == 0 (or -0)
                        a_row = builder.add(a_off, builder.mul(e.i64(r), a_ld))
                        a = e.load(a_data, builder.add(a_row, e.i64(v * lanes)), masks[v])
                        value = builder.select(builder.fcmp_ordered("==", a, e.zero),
                                               e.zero, value)  # fmt: skip
                    e.store(value, c_data,
                            builder.add(c_row, e.i64(v * lanes)), masks[v])  # fmt: skip
        return context.get_dummy_value()

    return codegen


def _float_arrays(*arrays):
    """The common float dtype of ``arrays`` (Numba types), or None."""
    if not all(isinstance(a, types.Array) for a in arrays):
        return None
    dtype = arrays[-1].dtype
    if dtype not in _IR_FLOAT or any(a.dtype != dtype for a in arrays):
        return None
    return dtype


def _nn_tile(vectors, rows=None, mask_all=False, ones=False):
    """The intrinsic computing one tile of :func:`matmul` (``rows`` rows,
    ``MR`` by default, and ``vectors`` vectors; see :func:`_nn_codegen`).

    ``tile(L, l_off, l_rs, l_cs, R, r_off, r_ld, C, c_off, c_ld, depth,
    valid_rows, columns)``: offsets and strides count elements from each
    array's data; ``C[i, j] = sum_k L[i, k] R[k, j]`` for the tile's first
    ``valid_rows`` rows and ``columns`` columns (more than
    ``(vectors - 1) * LANES``).
    """

    @intrinsic
    def tile(typingctx, L, l_off, l_rs, l_cs, R, r_off, r_ld, C, c_off, c_ld,
             depth, valid_rows, columns):  # fmt: skip
        if _float_arrays(L, R, C) is None:
            return None
        i = types.int64
        signature = types.void(L, i, i, i, R, i, i, C, i, i, i, i, i)
        rows_ = MR if rows is None else rows
        return signature, _nn_codegen(rows_, vectors, mask_all, ones)

    return tile


_nn1, _nn2, _nn3, _nn4 = (_nn_tile(v) for v in range(1, 5))


def _nn_epilogue_tile(vectors, epilogue):
    """:func:`_nn_tile`'s tile of ``MR`` rows that adds the bias (and applies
    relu) before it stores: ``tile(L, l_off, l_rs, l_cs, R, r_off, r_ld, C,
    c_off, c_ld, depth, valid_rows, columns, b, b_off)``."""

    @intrinsic
    def tile(typingctx, L, l_off, l_rs, l_cs, R, r_off, r_ld, C, c_off, c_ld,
             depth, valid_rows, columns, b, b_off):  # fmt: skip
        if _float_arrays(L, R, b, C) is None:
            return None
        i = types.int64
        signature = types.void(L, i, i, i, R, i, i, C, i, i, i, i, i, b, i)
        return signature, _nn_codegen(MR, vectors, epilogue=epilogue)

    return tile


_bias1, _bias2, _bias3, _bias4 = (_nn_epilogue_tile(v, "bias") for v in range(1, 5))
_relu1, _relu2, _relu3, _relu4 = (_nn_epilogue_tile(v, "relu") for v in range(1, 5))


def _nn_derivative_tile(vectors):
    """:func:`_nn_tile`'s tile of ``MR`` rows that stores 0 where ``A`` is 0
    (relu's f'): ``tile(L, l_off, l_rs, l_cs, R, r_off, r_ld, C, c_off, c_ld,
    depth, valid_rows, columns, A, a_off, a_ld)``."""

    @intrinsic
    def tile(typingctx, L, l_off, l_rs, l_cs, R, r_off, r_ld, C, c_off, c_ld,
             depth, valid_rows, columns, A, a_off, a_ld):  # fmt: skip
        if _float_arrays(L, R, A, C) is None:
            return None
        i = types.int64
        signature = types.void(L, i, i, i, R, i, i, C, i, i, i, i, i, A, i, i)
        return signature, _nn_codegen(MR, vectors, epilogue="relu_derivative")

    return tile


_step1, _step2, _step3, _step4 = (_nn_derivative_tile(v) for v in range(1, 5))
# One row: a vector-matrix product, ``x @ R`` (the weight gradient of a
# one-unit layer, ``delta.T @ A``), without the MR - 1 repeated rows, with
# ROW_VECTORS accumulators (independent chains of fused multiply-adds, enough
# to hide their latency), each masked.
ROW_VECTORS = 8
_row = _nn_tile(ROW_VECTORS, rows=1, mask_all=True)
_row_narrow = _nn_tile(2, rows=1, mask_all=True)  # up to 2 vectors: no waste
# Column sums, the same tiles with every L[0, k] = 1.
_sums = _nn_tile(ROW_VECTORS, rows=1, mask_all=True, ones=True)
_sums_narrow = _nn_tile(2, rows=1, mask_all=True, ones=True)


def _dot_codegen(rows):
    """IR of :func:`matvec`'s tile; see :func:`_dot_tile`."""

    def codegen(context, builder, signature, args):
        L, l_off, l_ld, r, r_off, C, c_off, c_step, length, valid_rows = args
        e = _Emitter(context, builder, _IR_FLOAT[signature.args[5].dtype])
        l_data = _data(context, builder, signature.args[0], L)
        r_data = _data(context, builder, signature.args[3], r)
        c_data = _data(context, builder, signature.args[5], C)
        l_rows = [builder.add(l_off, builder.mul(e.clamp(i, valid_rows), l_ld))
                  for i in range(rows)]  # fmt: skip

        def body(start, mask, acc):
            y = e.load(r_data, builder.add(r_off, start), mask)
            return [e.fma(e.load(l_data, builder.add(base, start), mask), y, a)
                    for base, a in zip(l_rows, acc)]  # fmt: skip

        acc = e.chunked_loop(length, [e.zero] * rows, body)
        for i in range(rows):
            with builder.if_then(builder.icmp_signed("<", e.i64(i), valid_rows)):
                at = builder.add(c_off, builder.mul(e.i64(i), c_step))
                builder.store(e.lane_sum(acc[i]), builder.gep(c_data, [at]))
        return context.get_dummy_value()

    return codegen


@intrinsic
def _dot_tile(typingctx, L, l_off, l_ld, r, r_off, C, c_off, c_step, length,
              valid_rows):  # fmt: skip
    """``C[i] = dot(L[i, :length], r[:length])`` for ``MR`` rows of L (the
    first ``valid_rows``), each in LANES partial sums then a fixed tree.
    ``r``'s terms and ``L``'s rows are contiguous; ``c_step`` is C's step."""
    if _float_arrays(L, r, C) is None:
        return None
    i = types.int64
    signature = types.void(L, i, i, r, i, C, i, i, i, i)
    return signature, _dot_codegen(MR)


# The sparse gather asks for the entries of the row this many rows ahead.
PREFETCH_ROWS = 8


def _sparse_codegen(vectors, scatter, dot=False):
    """IR of the sparse tiles (gather, or ``scatter``; with ``dot``, the
    gather of one column in :func:`matvec`'s lanes); see
    :func:`_sparse_tile`."""

    def codegen(context, builder, signature, args):
        values, indices, indptr, rows, B, b_ld, C, c_ld, col, columns = args
        e = _Emitter(context, builder, _IR_FLOAT[signature.args[4].dtype])
        v_data, i_data, p_data, rows_data, b_data, c_data = (
            _data(context, builder, signature.args[a], args[a]) for a in (0, 1, 2, 3, 4, 6)
        )
        n_rows = context.make_array(signature.args[3])(context, builder, rows).nitems
        lanes = e.lanes
        last = vectors - 1  # only the last vector may be partial
        masks = [None] * last + [e.mask(builder.sub(columns, e.i64(last * lanes)))]

        def prefetch_row(i):
            """Ask for row ``rows[i + PREFETCH_ROWS]``'s entries (the last
            row's, past the end), far in memory when the rows are shuffled.
            Measured, the forward product of the Adult data's batches of 200
            shuffled rows: 14.6 us without, 10-12 us with (8.0 in order)."""
            ahead = builder.add(i, e.i64(PREFETCH_ROWS))
            final = builder.sub(n_rows, e.i64(1))
            ahead = builder.select(builder.icmp_signed("<", ahead, n_rows), ahead, final)
            src = builder.load(builder.gep(rows_data, [ahead]))
            first = builder.load(builder.gep(p_data, [src]))
            end = builder.load(builder.gep(p_data, [builder.add(src, e.i64(1))]))
            for data in (v_data, i_data):
                for at in (first, builder.sub(end, e.i64(1))):
                    e.prefetch(builder.gep(data, [at]))

        def one_row(i, _):
            if not scatter:  # the scatter follows the gather: rows in cache
                prefetch_row(i)
            src = builder.load(builder.gep(rows_data, [i]))
            p0 = builder.load(builder.gep(p_data, [src]))
            count = builder.sub(builder.load(builder.gep(p_data, [builder.add(src, e.i64(1))])), p0)
            dense_row = builder.add(col, builder.mul(i, c_ld if not scatter else b_ld))

            def entry(k, ld):
                """Entry p0 + k: its value, its column index, and where the
                row of the matrix (rows ``ld`` apart) that it names starts."""
                p = builder.add(p0, k)
                index = builder.load(builder.gep(i_data, [p]))
                start = builder.add(col, builder.mul(index, ld))
                return builder.load(builder.gep(v_data, [p])), index, start

            if scatter:
                d = [e.load(b_data, builder.add(dense_row, e.i64(v * lanes)), masks[v])
                     for v in range(vectors)]  # fmt: skip

                def add_outer(k, _):
                    value, _, base = entry(k, c_ld)
                    x = e.splat(value)
                    for v in range(vectors):
                        at = builder.add(base, e.i64(v * lanes))
                        old = e.load(c_data, at, masks[v])
                        e.store(e.fma(x, d[v], old), c_data, at, masks[v])
                    return []

                e.counted_loop(count, [], add_outer)
                return []

            if dot:
                # Term k goes to lane k % LANES, as in matvec's chunks.
                def add_to_lane(k, acc):
                    x, index, at = entry(k, b_ld)
                    w = builder.load(builder.gep(b_data, [at]))
                    lane = builder.and_(index, e.i64(lanes - 1))
                    old = builder.extract_element(acc[0], lane)
                    return [builder.insert_element(acc[0], e.scalar_fma(x, w, old), lane)]

                (acc,) = e.counted_loop(count, [e.zero], add_to_lane)
                builder.store(e.lane_sum(acc), builder.gep(c_data, [dense_row]))
                return []

            def gather(k, acc):
                value, _, base = entry(k, b_ld)
                x = e.splat(value)
                return [
                    e.fma(x, e.load(b_data, builder.add(base, e.i64(v * lanes)), masks[v]), a)
                    for v, a in enumerate(acc)
                ]

            acc = e.counted_loop(count, [e.zero] * vectors, gather)
            for v in range(vectors):
                e.store(acc[v], c_data, builder.add(dense_row, e.i64(v * lanes)), masks[v])
            return []

        e.counted_loop(n_rows, [], one_row)
        return context.get_dummy_value()

    return codegen


def _sparse_tile(vectors, scatter, dot=False):
    """``tile(values, indices, indptr, rows, B, b_ld, C, c_ld, col,
    columns)``: for each row ``i`` of ``rows`` (int64) in order, over the
    stored entries ``p`` of row ``rows[i]`` of the CSR matrix ``(values,
    indices, indptr)`` (int64 indices and pointers) in order, for columns
    ``col + j``, ``j < columns`` (more than ``(vectors - 1) * LANES``: only
    the last vector is masked, which leaves the mask registers free):

    - gather: ``C[i, col + j] = sum_p values[p] * B[indices[p], col + j]``
      (sparse rows times a dense matrix);
    - scatter: ``C[indices[p], col + j] += values[p] * B[i, col + j]`` (each
      sparse row's outer product with a dense row, added).

    Rows are ``b_ld`` and ``c_ld`` elements apart. One fused multiply-add
    per term, as :func:`matmul`'s.
    """

    @intrinsic
    def tile(typingctx, values, indices, indptr, rows, B, b_ld, C, c_ld, col, columns):
        integers = (indices, indptr, rows)
        if _float_arrays(values, B, C) is None or not all(
            isinstance(a, types.Array) and a.dtype == types.int64 for a in integers
        ):
            return None
        i = types.int64
        signature = types.void(values, indices, indptr, rows, B, i, C, i, i, i)
        return signature, _sparse_codegen(vectors, scatter, dot)

    return tile


_gather1, _gather2, _gather4, _gather8 = (
    _sparse_tile(v, scatter=False) for v in (1, 2, 4, 8)
)
_scatter1, _scatter2, _scatter4, _scatter8 = (
    _sparse_tile(v, scatter=True) for v in (1, 2, 4, 8)
)
# One column (a one-unit layer): matvec's lanes and tree, hence its bits.
_gather_dot = _sparse_tile(1, scatter=False, dot=True)


@jit
def sparse_matmul(values, indices, indptr, rows, R, C):
    """Write ``X[rows] @ R`` into ``C`` for a CSR matrix ``X = (values,
    indices, indptr)`` (int64 indices, sorted within each row).

    Each ``C[i, j]`` is summed over row ``rows[i]``'s stored entries in the
    order of their columns, one fused multiply-add per term: :func:`matmul`'s
    sum with its zero terms left out (``fma(0, w, s)`` is ``s``), hence its
    bits, apart from the sign of a zero sum; for one column, :func:`matvec`'s
    lanes and tree (the dense one-unit layer's). ``R`` and ``C`` have
    contiguous rows.
    """
    _sparse_product(values, indices, indptr, rows, R, C, False)


@jit
def sparse_matmul_transposed(values, indices, indptr, rows, D, C):
    """Write ``X[rows].T @ D`` into ``C`` for a CSR matrix ``X`` (as in
    :func:`sparse_matmul`): row ``i``'s outer product with ``D[i]`` added
    for ``i`` in order, so that each ``C[k, j]`` is :func:`matmul`'s sum
    over ``i`` with its zero terms left out. ``D`` and ``C`` have contiguous
    rows."""
    C[:, :] = 0.0
    _sparse_product(values, indices, indptr, rows, D, C, True)


@jit(inline="always")
def _sparse_product(values, indices, indptr, rows, B, C, scatter):
    """The sparse rows against ``B``'s rows, gathered (:func:`sparse_matmul`)
    or ``scatter``ed into a zeroed C (:func:`sparse_matmul_transposed`): by
    the tiles in column chunks of 8, 4, 2 or 1 vectors (the widest that the
    columns left fill, but for the last), each chunk over every row; without
    SIMD, by plain loops."""
    m = B.shape[1]
    if not SIMD:
        for i in range(rows.shape[0]):
            if not scatter:
                C[i, :] = 0.0
            for p in range(indptr[rows[i]], indptr[rows[i] + 1]):
                x, k = values[p], indices[p]
                for j in range(m):
                    if scatter:
                        C[k, j] += x * B[i, j]
                    else:
                        C[i, j] += x * B[k, j]
        return
    size = C.itemsize
    lanes = _lanes(C)
    b_ld, c_ld = B.strides[0] // size, C.strides[0] // size
    if m == 1 and not scatter:
        _gather_dot(values, indices, indptr, rows, B, b_ld, C, c_ld, 0, 1)
        return
    col = 0
    while col < m:
        vectors = (m - col + lanes - 1) // lanes
        v = 8 if vectors >= 8 else 4 if vectors >= 4 else 2 if vectors >= 2 else 1
        columns = min(v * lanes, m - col)
        if scatter and v == 8:
            _scatter8(values, indices, indptr, rows, B, b_ld, C, c_ld, col, columns)
        elif scatter and v == 4:
            _scatter4(values, indices, indptr, rows, B, b_ld, C, c_ld, col, columns)
        elif scatter and v == 2:
            _scatter2(values, indices, indptr, rows, B, b_ld, C, c_ld, col, columns)
        elif scatter:
            _scatter1(values, indices, indptr, rows, B, b_ld, C, c_ld, col, columns)
        elif v == 8:
            _gather8(values, indices, indptr, rows, B, b_ld, C, c_ld, col, columns)
        elif v == 4:
            _gather4(values, indices, indptr, rows, B, b_ld, C, c_ld, col, columns)
        elif v == 2:
            _gather2(values, indices, indptr, rows, B, b_ld, C, c_ld, col, columns)
        else:
            _gather1(values, indices, indptr, rows, B, b_ld, C, c_ld, col, columns)
        col += columns


def _squares_codegen(context, builder, signature, args):
    """IR of :func:`_sum_of_squares`."""
    x, n = args
    e = _Emitter(context, builder, _IR_FLOAT[signature.args[0].dtype])
    x_data = _data(context, builder, signature.args[0], x)
    wide = ir.VectorType(ir.DoubleType(), e.lanes)

    def body(start, mask, acc):
        v = e.load(x_data, start, mask)
        square = builder.fmul(v, v)  # in x's dtype, rounded once
        if not isinstance(e.real, ir.DoubleType):
            square = builder.fpext(square, wide)
        return [builder.fadd(acc[0], square)]

    (acc,) = e.chunked_loop(n, [ir.Constant(wide, [0.0] * e.lanes)], body)
    return e.lane_sum(acc)


@intrinsic
def _sum_of_squares(typingctx, x, n):
    """``sum(x[:n] ** 2)`` as a float64: see :func:`sum_of_squares`."""
    if _float_arrays(x) is None:
        return None
    return types.float64(x, types.int64), _squares_codegen


@jit
def sum_of_squares(x, n):
    """``x[0] ** 2 + ... + x[n - 1] ** 2`` (each square in x's dtype) as a
    float64, in LANES partial sums (lane ``l`` adds the squares ``l, l +
    LANES, ...`` in order) added by a fixed tree: a fixed order, as a single
    running sum's, but LANES short dependency chains instead of one long one
    (measured, 7,100 float64 weights: 0.7 us against 3.3 us). ``x`` is
    contiguous."""
    return _sum_of_squares(x, n)


@jit
def matmul(L, R, C):
    """Write ``L @ R`` into ``C``, each element summed in the order of ``k``.

    Parameters
    ----------
    L : ndarray of shape (n, depth), any strides
    R : ndarray of shape (depth, m), rows contiguous
    C : ndarray of shape (n, m), rows contiguous
    """
    if not SIMD:
        np.dot(L, R, C)
        return
    n, depth = L.shape
    m = R.shape[1]
    size = C.itemsize
    lanes = _lanes(C)
    l_cs, r_ld = L.strides[1] // size, R.strides[0] // size
    if n == 1 and m <= 2 * lanes:
        _row_narrow(L, 0, 0, l_cs, R, 0, r_ld, C, 0, 0, depth, 1, m)
        return
    if n == 1:
        width = ROW_VECTORS * lanes
        for j0 in range(0, m, width):
            columns = min(width, m - j0)
            _row(L, 0, 0, l_cs, R, j0, r_ld, C, j0, 0, depth, 1, columns)
        return
    width = NV * lanes
    for j0 in range(0, m, width):
        _column_tile(L, R, j0, r_ld, C, j0, min(width, m - j0))


@jit(inline="always")
def _column_tile(L, R, r_off, r_ld, C, j0, columns):
    """``C[:, j0:j0 + columns] = L @ R'`` where ``R'`` starts at element
    ``r_off`` of R's data, rows ``r_ld`` apart: every tile of MR rows."""
    n, depth = L.shape
    size = C.itemsize
    lanes = _lanes(C)
    l_rs, l_cs = L.strides[0] // size, L.strides[1] // size
    c_ld = C.strides[0] // size
    vectors = (columns + lanes - 1) // lanes
    for i0 in range(0, n, MR):
        rows = min(MR, n - i0)
        l_off = i0 * l_rs
        c_off = i0 * c_ld + j0
        if vectors == 4:
            _nn4(L, l_off, l_rs, l_cs, R, r_off, r_ld, C, c_off, c_ld, depth, rows, columns)
        elif vectors == 3:
            _nn3(L, l_off, l_rs, l_cs, R, r_off, r_ld, C, c_off, c_ld, depth, rows, columns)
        elif vectors == 2:
            _nn2(L, l_off, l_rs, l_cs, R, r_off, r_ld, C, c_off, c_ld, depth, rows, columns)
        else:
            _nn1(L, l_off, l_rs, l_cs, R, r_off, r_ld, C, c_off, c_ld, depth, rows, columns)


@jit
def matmul_bias(L, R, b, C, relu):
    """Write ``L @ R + b`` into ``C`` (with ``relu``, ``max(L @ R + b, 0)``
    as ``_activations.add_bias_and_activate``'s relu): :func:`matmul`'s sums,
    the bias and relu applied before the store instead of in a pass over C
    (measured: a layer of 64 units on a batch of 200, 8 inputs, float32,
    forward in 1.06 against 1.47 us). Only with the tiles (``SIMD``) and for
    more than one row: the caller takes :func:`matmul` otherwise."""
    n, depth = L.shape
    m = R.shape[1]
    size = C.itemsize
    lanes = _lanes(C)
    l_rs, l_cs = L.strides[0] // size, L.strides[1] // size
    r_ld, c_ld = R.strides[0] // size, C.strides[0] // size
    width = NV * lanes
    for j0 in range(0, m, width):
        columns = min(width, m - j0)
        vectors = (columns + lanes - 1) // lanes
        for i0 in range(0, n, MR):
            tile = (L, i0 * l_rs, l_rs, l_cs, R, j0, r_ld, C, i0 * c_ld + j0, c_ld,
                    depth, min(MR, n - i0), columns, b, j0)  # fmt: skip
            if relu:
                if vectors == 4:
                    _relu4(*tile)
                elif vectors == 3:
                    _relu3(*tile)
                elif vectors == 2:
                    _relu2(*tile)
                else:
                    _relu1(*tile)
            elif vectors == 4:
                _bias4(*tile)
            elif vectors == 3:
                _bias3(*tile)
            elif vectors == 2:
                _bias2(*tile)
            else:
                _bias1(*tile)


@jit
def panel_width(C):
    """Columns of one register tile (and of one packed panel) for C's dtype."""
    return NV * _lanes(C)


@jit(inline="always")
def _lanes(C):
    """Elements of C's dtype in one 512-bit vector."""
    return LANES_BITS // (8 * C.itemsize)


@jit
def pack_transposed(W, panels, start, stop, width):
    """Write columns ``start:stop`` of ``W.T`` (``start`` a multiple of
    ``width``) into ``panels``: ``width`` columns at a time, each panel a
    contiguous (W.shape[1], width) block, the one of columns ``j0:`` at
    ``j0 * W.shape[1]``. A panel's rows are then ``width`` elements apart
    instead of W.shape[0]: a product reads it from a few pages (measured,
    200 x 1024 @ 1024: 3.3 ms from panels against 4.9 ms from a whole
    transposed matrix, float64)."""
    depth = W.shape[1]
    for j0 in range(start, stop, width):
        columns = min(width, stop - j0)
        base = j0 * depth
        for k0 in range(0, depth, 16):
            for c in range(columns):
                row = W[j0 + c]
                for k in range(k0, min(k0 + 16, depth)):
                    panels[base + k * width + c] = row[k]


@jit
def check_panels(W, panels, width):
    """Refuse a scratch too small for W.T's panels (Numba checks no bounds)."""
    if panels.size < (W.shape[0] + width) * W.shape[1]:
        raise ValueError("scratch too small for the transposed weights' panels")


@jit
def matmul_panels(L, panels, C, start, stop, width):
    """``C[:, start:stop] = L @ R[:, start:stop]`` with R's columns packed by
    :func:`pack_transposed`; the same sums as :func:`matmul`'s."""
    depth = L.shape[1]
    for j0 in range(start, stop, width):
        _column_tile(L, panels, j0 * depth, width, C, j0, min(width, stop - j0))


@jit
def matmul_panels_relu_derivative(L, panels, C, start, stop, width, A):
    """:func:`matmul_panels`, each element stored as 0 where ``A`` (laid out
    as C) is 0: ``(L @ R) * relu'`` given relu's output A, in one pass (the
    same bits as :func:`matmul_panels` followed by
    ``_activations.multiply_by_derivative``)."""
    n, depth = L.shape
    size = C.itemsize
    lanes = _lanes(C)
    l_rs, l_cs = L.strides[0] // size, L.strides[1] // size
    c_ld, a_ld = C.strides[0] // size, A.strides[0] // size
    for j0 in range(start, stop, width):
        columns = min(width, stop - j0)
        vectors = (columns + lanes - 1) // lanes
        for i0 in range(0, n, MR):
            tile = (L, i0 * l_rs, l_rs, l_cs, panels, j0 * depth, width, C,
                    i0 * c_ld + j0, c_ld, depth, min(MR, n - i0), columns, A,
                    i0 * a_ld + j0, a_ld)  # fmt: skip
            if vectors == 4:
                _step4(*tile)
            elif vectors == 3:
                _step3(*tile)
            elif vectors == 2:
                _step2(*tile)
            else:
                _step1(*tile)


@jit
def matmul_transposed(L, W, scratch, C):
    """Write ``L @ W.T`` into ``C``, summed in the same order as :func:`matmul`.

    ``W.T`` is first written into ``scratch`` as panels (see
    :func:`pack_transposed`; at least ``(W.shape[0] + 64) * W.shape[1]``
    elements); with BLAS, ``np.dot``.
    """
    if not SIMD:
        np.dot(L, W.T, C)
        return
    width = panel_width(C)
    check_panels(W, scratch, width)
    pack_transposed(W, scratch, 0, W.shape[0], width)
    matmul_panels(L, scratch, C, 0, W.shape[0], width)


@jit
def matvec(L, R, C):
    """Write ``L @ R`` into ``C`` for a one-column ``R``: dot products.

    Parameters
    ----------
    L : ndarray of shape (n, depth), rows contiguous
    R : ndarray of shape (depth, 1), contiguous
    C : ndarray of shape (n, 1)

    Each ``C[i]`` is summed in LANES partial sums (lane ``l`` takes the terms
    ``l, l + LANES, ...`` in order, by fused multiply-adds), added by a fixed
    tree: another order than :func:`matmul`'s, as fixed.
    """
    if not SIMD:
        np.dot(L, R, C)
        return
    n, depth = L.shape
    size = C.itemsize
    l_ld, c_step = L.strides[0] // size, C.strides[0] // size
    for i0 in range(0, n, MR):
        _dot_tile(L, i0 * l_ld, l_ld, R, 0, C, i0 * c_step, c_step, depth,
                  min(MR, n - i0))  # fmt: skip


@jit
def matvec_transposed(A, d, C):
    """Write ``A.T @ d`` into ``C`` (shape (depth, 1)) for ``d`` of shape (n, 1):
    :func:`matmul` on one row, ``d.T @ A``, summed over the rows of A in
    order."""
    if not SIMD:
        np.dot(A.T, d, C)
        return
    matmul(d.T, A, C.T)


@jit
def column_sums(A, out):
    """Write the sum of each column of ``A`` (n, m), rows contiguous, into
    ``out`` (m,), each summed over the rows in order (a layer's bias
    gradient: the same bits as a loop of additions)."""
    n, m = A.shape
    if not SIMD:
        out[:] = 0.0
        for i in range(n):
            for j in range(m):
                out[j] += A[i, j]
        return
    size = A.itemsize
    lanes = _lanes(A)
    a_ld = A.strides[0] // size
    if m <= 2 * lanes:
        _sums_narrow(A, 0, 0, 0, A, 0, a_ld, out, 0, 0, n, 1, m)
        return
    width = ROW_VECTORS * lanes
    for j0 in range(0, m, width):
        _sums(A, 0, 0, 0, A, j0, a_ld, out, j0, 0, n, 1, min(width, m - j0))
