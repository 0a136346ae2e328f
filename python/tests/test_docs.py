"""Every Python snippet of docs/python.md and of the README's "From Python" section runs, from the
repository's root (so that data/ paths resolve)."""

import os
import re

import pytest

from conftest import REPO


def snippets(path, section=None):
    with open(os.path.join(REPO, path)) as f:
        text = f.read()
    if section is not None:
        start = text.index(section)
        end = text.find("\n## ", start + len(section))
        text = text[start : end if end != -1 else None]
    return re.findall(r"```python\n(.*?)```", text, re.S)


DOCS = [("docs/python.md", i, code) for i, code in enumerate(snippets("docs/python.md"))]
README = [("README.md", i, code) for i, code in enumerate(snippets("README.md", "## From Python"))]


def test_there_are_snippets():
    assert len(DOCS) >= 10 and len(README) >= 1


@pytest.mark.parametrize("path,index,code", DOCS + README, ids=[f"{p}#{i}" for p, i, _ in DOCS + README])
def test_snippet_runs(path, index, code, monkeypatch):
    if "import matplotlib" in code:
        pytest.importorskip("matplotlib", reason="SKIPPED: matplotlib is not installed")
    monkeypatch.chdir(REPO)
    exec(compile(code, f"{path} snippet {index}", "exec"), {"__name__": "__snippet__"})
