"""Shared fixtures: the repository's data directory and the digits facts."""

import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)


@pytest.fixture(scope="session")
def data_dir():
    return os.path.join(REPO, "data")


@pytest.fixture(scope="session")
def digits(data_dir):
    with open(os.path.join(data_dir, "digits.json")) as f:
        return json.load(f)
