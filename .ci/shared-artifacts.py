#!/usr/bin/env python3
"""Fails when building the Python package alone (what maturin builds) would compile again a crate
that `cargo test --release` has already built: it would resolve other features for it (and build
polars and arrow a second time). Run after `cargo test --release`; the fix is a line in
python/Cargo.toml naming the crate with the features the workspace turns on.

Only the crates the rest of the workspace does not use (pyo3, numpy, …) may be compiled."""
import json
import subprocess
import sys


def names(args):
    out = subprocess.run(
        ["cargo", "tree", "--prefix", "none", "-f", "{p}", *args], capture_output=True, text=True, check=True
    ).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


shared = names(["-p", "slicestream", "-p", "slicestream-cli", "-e", "normal,build,dev"])
build = subprocess.run(
    ["cargo", "build", "--release", "--lib", "--manifest-path", "python/Cargo.toml", "--message-format=json"],
    capture_output=True, text=True,
)
if build.returncode != 0:
    sys.stderr.write(build.stderr)
    sys.exit(build.returncode)
rebuilt = set()
for line in build.stdout.splitlines():
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("reason") == "compiler-artifact" and not msg.get("fresh"):
        name = msg["package_id"].split("#")[-1].split("@")[0].split("/")[-1]
        if name in shared:
            rebuilt.add(name)
if rebuilt:
    print("the Python package alone rebuilt crates the workspace had built:", ", ".join(sorted(rebuilt)))
    sys.exit(1)
print("the Python package reuses the workspace's artifacts")
