"""Export to ONNX: fastbp's estimators registered with skl2onnx.

``import fastbp.onnx`` registers :class:`~fastbp.BackpropRegressor` and
:class:`~fastbp.BackpropClassifier` with skl2onnx (its documented
``update_registered_converter``), so that ``skl2onnx.to_onnx(model, X[:1])``
converts them, alone or inside a Pipeline or ColumnTransformer (the whole
pipeline as one graph), for onnxruntime to serve from C++, C#, Java,
JavaScript or mobile. ``import fastbp`` never imports skl2onnx: install the
``onnx`` extra and import this module to export.

The graph is the network: per layer ``MatMul`` and ``Add``, then the
activation (``Relu``, ``Tanh``, ``Sigmoid``, ``Exp`` for the Poisson
loss's output, ``Softmax``; leaky_relu as ``Max(z, 0.01 z)`` and elu as
``Where(z < 0, Exp(z) - 1, z)``, from elementary operators, as onnxruntime
has no float64 LeakyRelu or Elu), in the input's precision (float32 or
float64). A regressor's output is
(n_samples, n_outputs). A classifier's outputs are scikit-learn's: the
labels (as fastbp predicts them: the most probable class, the second of two
above 0.5, each label above 0.5 for multilabel y) and the probabilities
(``zipmap=False`` gives them as one tensor).

Examples
--------
>>> import numpy as np
>>> import fastbp.onnx  # registers the converters
>>> import onnxruntime
>>> from skl2onnx import to_onnx
>>> from fastbp import BackpropRegressor
>>> X = np.random.RandomState(0).normal(size=(50, 3)).astype(np.float32)
>>> model = BackpropRegressor((8,), max_iter=20, random_state=0).fit(X, X[:, 0])
>>> session = onnxruntime.InferenceSession(to_onnx(model, X[:1]).SerializeToString())
>>> onnx_y = session.run(None, {"X": X})[0]
>>> bool(np.allclose(onnx_y.ravel(), model.predict(X), rtol=1e-5, atol=1e-6))
True
"""

import numpy as np
from skl2onnx import update_registered_converter
from skl2onnx.common._apply_operation import apply_cast
from skl2onnx.common.data_types import Int64TensorType, guess_proto_type
from skl2onnx.common.shape_calculator import (
    calculate_linear_classifier_output_shapes,
    calculate_linear_regressor_output_shapes,
)
from skl2onnx.proto import onnx_proto
from sklearn.utils.validation import check_is_fitted

from ._classifier import BackpropClassifier
from ._regressor import BackpropRegressor

__all__ = ["register_converters"]

# ONNX operators of the activations; leaky_relu and elu are built from
# elementary operators below (onnxruntime has no float64 LeakyRelu or Elu).
_ACTIVATIONS = {
    "identity": ("Identity", {}),
    "logistic": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "relu": ("Relu", {}),
    "exp": ("Exp", {}),
    "softmax": ("Softmax", {"axis": 1}),
}


def _precision(operator):
    """float64 for a float64 input, float32 otherwise (as skl2onnx)."""
    proto = guess_proto_type(operator.inputs[0].type)
    return proto if proto == onnx_proto.TensorProto.DOUBLE else onnx_proto.TensorProto.FLOAT


def _network(scope, operator, container, model):
    """Add the network's layers to the graph; return its output's name
    (the shape functions, which skl2onnx runs first, checked it is fitted)."""
    proto = _precision(operator)
    dtype = np.float64 if proto == onnx_proto.TensorProto.DOUBLE else np.float32
    A = scope.get_unique_variable_name("input")
    apply_cast(scope, operator.inputs[0].full_name, A, container, to=proto)
    names = [model.activation] * (len(model.coefs_) - 1) + [model.out_activation_]
    for W, b, name in zip(model.coefs_, model.intercepts_, names):
        W_name = scope.get_unique_variable_name("W")
        b_name = scope.get_unique_variable_name("b")
        container.add_initializer(W_name, proto, W.shape, np.asarray(W, dtype).ravel())
        container.add_initializer(b_name, proto, [1, len(b)], np.asarray(b, dtype))
        product = _node(scope, container, "MatMul", [A, W_name])
        Z = _node(scope, container, "Add", [product, b_name])
        A = _activate(scope, container, Z, name, proto)
    return A


def _constant(scope, container, proto, values, shape=()):
    """A constant tensor of the graph; its name."""
    name = scope.get_unique_variable_name("constant")
    container.add_initializer(name, proto, list(shape), list(np.ravel(values)))
    return name


def _node(scope, container, op_type, inputs, output=None, **attributes):
    """Add an ``op_type`` node; its output's name (a new one unless given)."""
    output = output or scope.get_unique_variable_name(op_type.lower())
    container.add_node(op_type, inputs, output,
                       name=scope.get_unique_operator_name(op_type), **attributes)  # fmt: skip
    return output


def _activate(scope, container, Z, name, proto):
    """The activation ``name`` of ``Z``, as fastbp computes it."""
    if name == "leaky_relu":  # max(z, 0.01 z), the slope in the dtype
        slope = _constant(scope, container, proto, 0.01)
        return _node(scope, container, "Max", [Z, _node(scope, container, "Mul", [Z, slope])])
    if name == "elu":  # exp(z) - 1 below 0, z above
        zero, one = (_constant(scope, container, proto, v) for v in (0.0, 1.0))
        below = _node(scope, container, "Less", [Z, zero])
        curve = _node(scope, container, "Sub", [_node(scope, container, "Exp", [Z]), one])
        return _node(scope, container, "Where", [below, curve, Z])
    op_type, attributes = _ACTIVATIONS[name]
    return _node(scope, container, op_type, [Z], **attributes)


def _convert_regressor(scope, operator, container):
    P = _network(scope, operator, container, operator.raw_operator)
    _node(scope, container, "Identity", [P], operator.outputs[0].full_name)


def _label_tensor(classes):
    """The classes as an ONNX tensor type and values: strings or int64."""
    if classes.dtype.kind in "biu":
        return onnx_proto.TensorProto.INT64, classes.astype(np.int64)
    if classes.dtype.kind == "f" and np.array_equal(classes, np.round(classes)):
        return onnx_proto.TensorProto.INT64, classes.astype(np.int64)
    if classes.dtype.kind in "US" or classes.dtype == object:
        return onnx_proto.TensorProto.STRING, np.array(
            [str(c).encode("utf-8") for c in classes]
        )
    raise ValueError(
        f"ONNX labels are integers or strings; this model's classes are "
        f"{classes.dtype} ({classes[:3].tolist()}...): fit it on integer or "
        "string labels to export it."
    )


def _convert_classifier(scope, operator, container):
    model = operator.raw_operator
    if model._y_type != "multilabel-indicator" and len(model.classes_) < 2:
        raise ValueError(
            "A classifier fitted on one class always predicts it; there is "
            "no network worth exporting. Fit it on at least two classes."
        )
    proto = _precision(operator)
    zipmap = container.get_options(model, dict(zipmap=True))["zipmap"]
    if proto == onnx_proto.TensorProto.DOUBLE and zipmap is not False:
        raise ValueError(
            "ONNX's ZipMap (a dictionary of probabilities per row, skl2onnx's "
            "default) takes float32 only; export a float64 classifier with "
            "options={'zipmap': False}, or convert it with float32 input."
        )
    P = _network(scope, operator, container, model)
    probabilities, labels = operator.outputs[1].full_name, operator.outputs[0].full_name
    if model._y_type == "multilabel-indicator":
        _node(scope, container, "Identity", [P], probabilities)
        half = _constant(scope, container, proto, 0.5)
        above = _node(scope, container, "Greater", [P, half])
        apply_cast(scope, above, labels, container, to=onnx_proto.TensorProto.INT64)
        return
    if len(model.classes_) == 2:
        negative = _node(scope, container, "Sub", [_constant(scope, container, proto, 1.0), P])
        _node(scope, container, "Concat", [negative, P], probabilities, axis=1)
    else:
        _node(scope, container, "Identity", [P], probabilities)
    label_type, values = _label_tensor(model.classes_)
    classes = _constant(scope, container, label_type, values.tolist(), values.shape)
    index = _node(scope, container, "ArgMax", [probabilities], axis=1)
    picked = _node(scope, container, "ArrayFeatureExtractor", [classes, index],
                   op_domain="ai.onnx.ml")  # fmt: skip
    shape = _constant(scope, container, onnx_proto.TensorProto.INT64, [-1], [1])
    _node(scope, container, "Reshape", [picked, shape], labels)


def _regressor_shapes(operator):
    """One output of shape (n_samples, n_outputs)."""
    check_is_fitted(operator.raw_operator, "coefs_")
    calculate_linear_regressor_output_shapes(operator)
    n = operator.inputs[0].get_first_dimension()
    output = operator.outputs[0]
    output.type = output.type.__class__([n, operator.raw_operator.n_outputs_])


def _classifier_shapes(operator):
    """scikit-learn's classifier outputs; multilabel labels are a matrix."""
    check_is_fitted(operator.raw_operator, "classes_")
    calculate_linear_classifier_output_shapes(operator)
    model = operator.raw_operator
    if getattr(model, "_y_type", None) == "multilabel-indicator":
        n = operator.inputs[0].get_first_dimension()
        operator.outputs[0].type = Int64TensorType([n, len(model.classes_)])


def register_converters():
    """Register both estimators with skl2onnx (done by importing this module;
    calling it again is harmless)."""
    update_registered_converter(
        BackpropRegressor, "FastbpBackpropRegressor",
        _regressor_shapes, _convert_regressor,
    )  # fmt: skip
    update_registered_converter(
        BackpropClassifier, "FastbpBackpropClassifier",
        _classifier_shapes, _convert_classifier,
        options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
    )  # fmt: skip


register_converters()
