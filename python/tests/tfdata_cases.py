"""TensorFlow's golden tf.data cases (tests/fixtures/tfdata, made by TensorFlow 2.21), built with one
piece of code for any backend: ``slicestream`` or ``tensorflow``. Only the few operations NumPy and
TensorFlow spell differently (fill, cast, as_string, a constant bool) come from the backend; the map
and predicate functions are the same Python lambdas for both.
"""

import json
import os

import numpy as np

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "tfdata")
FILES = ["pipelines.json", "extra_pipelines.json", "extra_pipelines_nonfinite.json"]


def load_cases():
    cases = []
    for name in FILES:
        with open(os.path.join(FIXTURES, name)) as f:
            for case in json.load(f)["cases"]:
                cases.append((name, case))
    return cases


class SlicestreamBackend:
    name = "slicestream"

    def __init__(self):
        import slicestream

        self.Dataset = slicestream.Dataset

    # tf.fill truncates float dims; np.full wants ints.
    fill = staticmethod(lambda dims, value: np.full([int(d) for d in dims], value))
    cast_float32 = staticmethod(lambda x: np.asarray(x).astype(np.float32))
    constant = staticmethod(lambda v: np.bool_(v))

    @staticmethod
    def as_string(x):
        # tf.strings.as_string: ints in decimal, floats with 6 decimals, bools as true/false.
        a = np.asarray(x)
        if a.dtype.kind in "OSU":
            return x  # strings: the identity, as in TensorFlow 2.21
        if a.dtype.kind == "f":
            fmt = lambda v: "%f" % v  # noqa: E731
        elif a.dtype.kind == "b":
            fmt = lambda v: "true" if v else "false"  # noqa: E731
        else:
            fmt = lambda v: str(int(v))  # noqa: E731
        out = np.empty(a.shape, dtype=object)
        for i, v in np.ndenumerate(a):
            out[i] = fmt(v)
        return out[()] if a.ndim == 0 else out

    shape = staticmethod(lambda j: j)
    dtype = staticmethod(lambda name: name)

    def is_dataset(self, w):
        return isinstance(w, self.Dataset)


class TensorFlowBackend:
    name = "tensorflow"

    def __init__(self):
        import tensorflow as tf

        self.tf = tf
        self.Dataset = tf.data.Dataset
        self.fill = tf.fill
        self.cast_float32 = lambda x: tf.cast(x, tf.float32)
        self.as_string = tf.strings.as_string
        self.constant = tf.constant
        self.shape = tf.TensorShape
        self.dtype = tf.as_dtype

    def is_dataset(self, w):
        return isinstance(w, self.tf.data.Dataset)


def map_fns(b):
    return {
        "x*2": lambda x: x * 2,
        "x+1": lambda x: x + 1,
        "x*x": lambda x: x * x,
        "x->(x,x*x)": lambda x: (x, x * x),
        "(x,y)->(x*2,y)": lambda x, y: (x * 2, y),
        "(x,y)->(y,x)": lambda x, y: (y, x),
        "x->fill([x],x)": lambda x: b.fill([x], x),
        "x->(fill([x],x),x)": lambda x: (b.fill([x], x), x),
        "x->cast_float32": lambda x: b.cast_float32(x),
        "x->as_string": lambda x: b.as_string(x),
        "x->x%2==0": lambda x: x % 2 == 0,
        "{a,b}->{a:a*2,b}": lambda d: {"a": d["a"] * 2, "b": d["b"]},
    }


def predicates(b):
    return {
        "x % 2 == 0": lambda x: x % 2 == 0,
        "x > 3": lambda x: x > 3,
        "x < 5": lambda x: x < 5,
        "y % 2 == 0": lambda x, y: y % 2 == 0,
        "a > 1": lambda d: d["a"] > 1,
        "true": lambda *args: b.constant(True),
        "false": lambda *args: b.constant(False),
    }


def window_to_batch(b, batch_size):
    def fn(*args):
        w = args[0] if len(args) == 1 else args
        if b.is_dataset(w):
            return w.batch(batch_size)
        # TensorFlow's windows of tuples and dicts are tuples and dicts of datasets.
        if isinstance(w, dict):
            return b.Dataset.zip({k: d.batch(batch_size) for k, d in w.items()})
        return b.Dataset.zip(tuple(d.batch(batch_size) for d in w))

    return fn


# ------------------------------------------------------------------------------------------------
# JSON → NumPy values (the same input for both backends)
# ------------------------------------------------------------------------------------------------
NP_DTYPES = {"string": object, "bfloat16": None}


def float_value(v):
    if isinstance(v, list):
        return [float_value(x) for x in v]
    return {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}.get(v, v)


def value_from_json(j):
    if "tuple" in j:
        return tuple(value_from_json(x) for x in j["tuple"])
    if "dict" in j:
        return {k: value_from_json(v) for k, v in j["dict"].items()}
    if j["dtype"] == "string":

        def enc(v):
            return [enc(x) for x in v] if isinstance(v, list) else v.encode("utf-8")

        out = np.empty(j["shape"], dtype=object)
        flat = np.array(enc(j["values"]), dtype=object).reshape(j["shape"])
        out[...] = flat
        return out
    return np.array(float_value(j["values"]), dtype=j["dtype"]).reshape(j["shape"])


def shapes_from_json(b, j):
    if isinstance(j, dict) and "tuple" in j:
        return tuple(shapes_from_json(b, x) for x in j["tuple"])
    if isinstance(j, dict) and "dict" in j:
        return {k: shapes_from_json(b, v) for k, v in j["dict"].items()}
    return b.shape(j)


def build_source(b, inp):
    src = inp["source"]
    if src == "range":
        return b.Dataset.range(*inp["args"], output_type=b.dtype(inp.get("dtype", "int64")))
    if src == "from_tensor_slices":
        return b.Dataset.from_tensor_slices(value_from_json(inp["tensors"]))
    if src == "from_tensors":
        return b.Dataset.from_tensors(value_from_json(inp["tensors"]))
    if src == "from_python_list":
        return b.Dataset.from_tensor_slices(inp["value"])
    if src == "zip":
        sub = inp["datasets"]
        if isinstance(sub, dict):
            return b.Dataset.zip({k: build(b, v) for k, v in sub.items()})
        return b.Dataset.zip(tuple(build(b, v) for v in sub))
    raise KeyError(src)


def apply_op(b, ds, op):
    name = op["op"]
    if name == "batch":
        return ds.batch(op["batch_size"], drop_remainder=op.get("drop_remainder", False))
    if name == "padded_batch":
        shapes = op.get("padded_shapes")
        values = op.get("padding_values")
        return ds.padded_batch(
            op["batch_size"],
            padded_shapes=None if shapes is None else shapes_from_json(b, shapes),
            padding_values=None if values is None else value_from_json(values),
            drop_remainder=op.get("drop_remainder", False),
        )
    if name == "unbatch":
        return ds.unbatch()
    if name == "rebatch":
        return ds.rebatch(op["batch_size"], drop_remainder=op.get("drop_remainder", False))
    if name == "take":
        return ds.take(op["count"])
    if name == "skip":
        return ds.skip(op["count"])
    if name == "repeat":
        return ds.repeat(op.get("count"))
    if name == "shard":
        return ds.shard(op["num_shards"], op["index"])
    if name == "concatenate":
        return ds.concatenate(build(b, op["dataset"]))
    if name == "enumerate":
        return ds.enumerate(op.get("start", 0))
    if name == "filter":
        return ds.filter(predicates(b)[op["predicate"]])
    if name == "take_while":
        return ds.take_while(predicates(b)[op["predicate"]])
    if name == "map":
        return ds.map(map_fns(b)[op["fn"]])
    if name == "window":
        return ds.window(
            op["size"],
            shift=op.get("shift"),
            stride=op.get("stride", 1),
            drop_remainder=op.get("drop_remainder", False),
        )
    if name == "flat_map":
        return ds.flat_map(window_to_batch(b, op["batch_size"]))
    raise KeyError(name)


def build(b, desc):
    ds = build_source(b, desc["input"])
    for op in desc.get("pipeline", []):
        ds = apply_op(b, ds, op)
    return ds


# ------------------------------------------------------------------------------------------------
# Outputs → one comparable form (for NumPy values, TensorFlow's as_numpy_iterator, and the JSON)
# ------------------------------------------------------------------------------------------------
def canon(v):
    """A NumPy value (array, NumPy scalar, bytes, tuple, dict) as {dtype, shape, values} JSON."""
    if isinstance(v, tuple):
        return {"tuple": [canon(x) for x in v]}
    if isinstance(v, dict):
        return {"dict": {k: canon(v[k]) for k in sorted(v)}}
    if isinstance(v, bytes):
        return {"dtype": "string", "shape": [], "values": v.decode("utf-8")}
    a = np.asarray(v)
    if a.dtype == object:

        def dec(x):
            return [dec(y) for y in x] if isinstance(x, list) else x.decode("utf-8")

        return {"dtype": "string", "shape": list(a.shape), "values": dec(a.tolist())}
    values = a.tolist()
    if a.dtype.kind == "f":
        values = float_json(values)
    return {"dtype": a.dtype.name, "shape": list(a.shape), "values": values}


def float_json(v):
    if isinstance(v, list):
        return [float_json(x) for x in v]
    if v != v:
        return "nan"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    return v


def golden(j):
    """The JSON's element in the same form (dict keys sorted)."""
    if "tuple" in j:
        return {"tuple": [golden(x) for x in j["tuple"]]}
    if "dict" in j:
        return {"dict": {k: golden(j["dict"][k]) for k in sorted(j["dict"])}}
    return j


def spec_canon(s):
    if isinstance(s, tuple):
        return {"tuple": [spec_canon(x) for x in s]}
    if isinstance(s, dict):
        return {"dict": {k: spec_canon(s[k]) for k in sorted(s)}}
    shape = s.shape
    if hasattr(shape, "rank"):  # tf.TensorShape
        shape = None if shape.rank is None else shape.as_list()
    else:
        shape = list(shape)
    dtype = s.dtype
    dtype = "string" if getattr(dtype, "name", dtype) in ("string", "bytes") else getattr(dtype, "name", dtype)
    return {"dtype": dtype, "shape": shape}

