"""The type stubs describe what the extension has, and every public name has a docstring."""

import ast
import inspect
import os

import slicestream as ss
import slicestream._slicestream as ext

STUB = os.path.join(os.path.dirname(ss.__file__), "_slicestream.pyi")


def stub_tree():
    with open(STUB) as f:
        return ast.parse(f.read())


def test_every_stubbed_class_and_method_exists():
    for node in stub_tree().body:
        if isinstance(node, ast.ClassDef):
            cls = getattr(ext, node.name)
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name != "__init__":
                    assert hasattr(cls, item.name), f"{node.name}.{item.name} is in the stub, not the extension"
        elif isinstance(node, ast.FunctionDef):
            assert hasattr(ext, node.name), node.name


def test_every_public_method_is_stubbed_and_documented():
    stubbed = {
        n.name: {i.name for i in n.body if isinstance(i, ast.FunctionDef)}
        for n in stub_tree().body
        if isinstance(n, ast.ClassDef)
    }
    for name, cls in inspect.getmembers(ext, inspect.isclass):
        if name.startswith("_") or name == "BufferOwner":
            continue
        assert cls.__doc__, f"{name} has no docstring"
        for attr, value in vars(cls).items():
            if attr.startswith("_") or not callable(value):
                continue
            assert attr in stubbed.get(name, set()), f"{name}.{attr} is missing from the stub"
            assert value.__doc__, f"{name}.{attr} has no docstring"


def test_python_modules_are_documented():
    import slicestream.bench
    import slicestream.errors
    import slicestream.spec
    import slicestream.torch

    for module in (ss, slicestream.errors, slicestream.spec, slicestream.torch, slicestream.bench):
        assert module.__doc__
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                assert obj.__doc__, f"{module.__name__}.{name} has no docstring"
