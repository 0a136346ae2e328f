"""tf.data parity through the Python API: every golden case of tests/fixtures/tfdata (made by
TensorFlow 2.21) is built with slicestream.Dataset by the same code that builds it with
tf.data.Dataset (tfdata_cases.py), its map and filter functions real Python lambdas. It must give
TensorFlow's element_spec, cardinality and elements (values, dtypes, shapes), or fail where
TensorFlow fails (after the same elements). Where TensorFlow is installed, each case also runs
through tf.data itself in this interpreter, and slicestream must match that run in the same way.

The known differences, each asserted to still differ (so the lists cannot go stale):
- A Python function cannot be traced, so a `map`'s element_spec has its dimensions unknown (ranks
  and dtypes known): where TensorFlow's trace knows a dimension, ours says None (`LOOSE_SPEC`);
  the elements themselves have exactly TensorFlow's shapes.
- For the same reason an error TensorFlow's trace finds at construction (a function of the wrong
  arity, an op on the wrong dtype) is raised by slicestream at the first element, as the function's
  own exception.
- Functions run with NumPy's semantics, not TensorFlow's kernels: `b"a" * 2` is `b"aa"`, a bool
  times 2 is an int, `bool % 2` works, `astype(float32)` parses byte strings (`NUMPY_SEMANTICS`).
- The two differences of the Rust parity test (cli/tests/it/tf_parity.rs): `take(-3)`'s cardinality
  and concatenating different ranks (`KNOWN_DIFFERENCES`).
"""

import json
import warnings

import pytest

import slicestream as ss
from tfdata_cases import SlicestreamBackend, TensorFlowBackend, build, canon, golden, load_cases, spec_canon

CASES = load_cases()
IDS = [f"{f}:{c['name']}" for f, c in CASES]
OURS = SlicestreamBackend()
MAX_ELEMENTS = 10_000

KNOWN_DIFFERENCES = {"x_take_minus3", "x_concat_ranks_differ"}
NUMPY_SEMANTICS = {
    "x_error_map_x2_on_string",
    "x_error_map_mod_on_bool",
    "x_map_x2_on_bool",
    "x_error_map_cast_string",
}


def run(backend, case):
    """The case's outcome in the fixtures' form: element_spec, cardinality, output, or an error
    with its stage ("construct" / "iterate") and the elements before it."""
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's integer overflow warnings
        try:
            ds = build(backend, case)
        except Exception as e:  # noqa: BLE001 - the comparison checks which
            return {"error": {"stage": "construct", "exception": e}}
        elements = []
        try:
            out["element_spec"] = spec_canon(ds.element_spec)
            out["cardinality"] = int(ds.cardinality())
            for el in ds.as_numpy_iterator():
                elements.append(canon(el))
                assert len(elements) <= MAX_ELEMENTS
        except AssertionError:
            raise
        except Exception as e:  # noqa: BLE001
            out["error"] = {"stage": "iterate", "exception": e}
            out["elements_before_error"] = elements
            return out
    out["output"] = elements
    return out


def spec_matches(ours, truth, loose):
    if "tuple" in truth:
        return "tuple" in ours and len(ours["tuple"]) == len(truth["tuple"]) and all(
            spec_matches(o, t, loose) for o, t in zip(ours["tuple"], truth["tuple"])
        )
    if "dict" in truth:
        return "dict" in ours and ours["dict"].keys() == truth["dict"].keys() and all(
            spec_matches(ours["dict"][k], truth["dict"][k], loose) for k in truth["dict"]
        )
    if ours.get("dtype") != truth["dtype"]:
        return False
    if truth["shape"] is None:
        return True
    if len(ours["shape"]) != len(truth["shape"]):
        return False
    return all(o == t or (loose and o is None) for o, t in zip(ours["shape"], truth["shape"]))


def has_map(desc):
    return '"op": "map"' in json.dumps(desc)


def mismatch(ours, truth, case):
    """Why `ours` differs from `truth` (the fixtures' form), or None."""
    if "error" in truth:
        stage = truth["error"]["stage"]
        if "error" not in ours:
            return f"TensorFlow fails at {stage} ({truth['error'].get('core_message', '')}); we do not"
        e = ours["error"]["exception"]
        if not isinstance(e, (ss.Error, ValueError, TypeError, KeyError, IndexError, OverflowError)):
            return f"unexpected exception type {e!r}"
        ours_stage = ours["error"]["stage"]
        if stage == "construct" and ours_stage == "iterate":
            # A trace-time error of TensorFlow: ours must come at the first element.
            if ours["elements_before_error"]:
                return f"TensorFlow fails at construction; we yielded {ours['elements_before_error']}"
            return None
        if ours_stage != stage:
            return f"TensorFlow fails at {stage}, we at {ours_stage}: {e!r}"
        if stage == "iterate":
            before = [golden(e) for e in truth["elements_before_error"]]
            if ours["elements_before_error"] != before:
                return f"elements before the error: {ours['elements_before_error']} vs {before}"
        return None
    if "error" in ours:
        return f"we fail at {ours['error']['stage']} where TensorFlow does not: {ours['error']['exception']!r}"
    if not spec_matches(ours["element_spec"], golden(truth["element_spec"]), has_map(case)):
        return f"element_spec {ours['element_spec']} vs {truth['element_spec']}"
    if ours["cardinality"] != truth["cardinality"]:
        return f"cardinality {ours['cardinality']} vs {truth['cardinality']}"
    want = [golden(e) for e in truth["output"]]
    if ours["output"] != want:
        return f"output {ours['output']} vs {want}"
    return None


def check(case, truth):
    why = mismatch(run(OURS, case), truth, case)
    if case["name"] in KNOWN_DIFFERENCES | NUMPY_SEMANTICS:
        assert why is not None, f"{case['name']} now matches TensorFlow: take it off the list"
        return
    assert why is None, why


@pytest.mark.parametrize("file,case", CASES, ids=IDS)
def test_golden_case(file, case):
    check(case, case)


@pytest.fixture(scope="module")
def tensorflow():
    try:
        return TensorFlowBackend()
    except ImportError:
        print("SKIPPED: TensorFlow is not installed: tf.data is not run beside slicestream")
        pytest.skip("SKIPPED: tensorflow is not installed (pip install tensorflow-cpu)")


def tf_truth(tf_backend, case):
    """tf.data's own run of the case, in the fixtures' form."""
    got = run(tf_backend, case)
    if "error" in got:
        got["error"] = {"stage": got["error"]["stage"], "core_message": repr(got["error"]["exception"])}
    return got


@pytest.mark.parametrize("file,case", CASES, ids=IDS)
def test_beside_tfdata(tensorflow, file, case):
    truth = tf_truth(tensorflow, case)
    # tf.data in this interpreter agrees with the fixtures, and slicestream with tf.data.
    assert ("error" in truth) == ("error" in case), (truth, case.get("error"))
    check(case, truth)
