#!/usr/bin/env python3
"""Regenerates fuzz/seeds/<target>/ from the repository's data and test fixtures.

Run from anywhere: `python3 fuzz/make_seeds.py` (needs numpy and pyarrow). Every seed is < 64 KiB,
at most ~200 per target. Targets that take a selector byte get seeds prefixed with one.
"""
import glob
import gzip
import hashlib
import io
import json
import os
import shutil
import struct
import zipfile
import zlib

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")
MAX = 64 * 1024 - 1


def out(target, name, data):
    if len(data) > MAX:
        return
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


def files(pattern):
    return sorted(glob.glob(os.path.join(ROOT, pattern)))


def npy_bytes(a):
    b = io.BytesIO()
    np.save(b, a, allow_pickle=False)
    return b.getvalue()


def tfrecords(data):
    """The records of an uncompressed TFRecord file (framing not checked)."""
    recs, i = [], 0
    while i + 12 <= len(data):
        (n,) = struct.unpack("<Q", data[i : i + 8])
        if i + 12 + n + 4 > len(data):
            break
        recs.append(data[i + 12 : i + 12 + n])
        i += 12 + n + 4
    return recs


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def frame(records):
    outb = b""
    for r in records:
        ln = struct.pack("<Q", len(r))
        outb += ln + struct.pack("<I", masked(ln)) + r + struct.pack("<I", masked(r))
    return outb


def main():
    if os.path.isdir(SEEDS):
        shutil.rmtree(SEEDS)

    # ---- npy ----
    for p in files("tests/fixtures/npy/*.npy") + files("tests/fixtures/bad/npy/*.npy"):
        out("npy", os.path.basename(os.path.dirname(p)) + "_" + os.path.basename(p), read(p))
    out("npy", "digits_label.npy", read("data/digits_label.npy"))
    img = np.load(os.path.join(ROOT, "data/digits_image.npy"))
    small = {
        "digits_image_10.npy": img[:10],
        "f2.npy": np.arange(12, dtype=np.float16).reshape(3, 4),
        "f8_be.npy": np.arange(6, dtype=">f8").reshape(2, 3),
        "i4_fortran.npy": np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4)),
        "u2_be_fortran.npy": np.asfortranarray(np.arange(6, dtype=">u2").reshape(3, 2)),
        "i8_empty.npy": np.zeros((0, 3), dtype=np.int64),
        "u8_scalar.npy": np.array(7, dtype=np.uint64),
        "i1_3d.npy": np.arange(-8, 16, dtype=np.int8).reshape(2, 3, 4),
        "bool_2d.npy": np.array([[True, False], [False, True]]),
        "u4_zero_dim.npy": np.zeros((4, 0), dtype=np.uint32),
        "i2_1.npy": np.array([-32768], dtype=np.int16),
    }
    for name, a in small.items():
        out("npy", name, npy_bytes(a))
    # Format versions 2.0 and 3.0 (numpy writes them only for long / non-latin1 headers).
    for ver in (2, 3):
        a = np.arange(6, dtype="<f4").reshape(2, 3)
        hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
        total = 8 + 4 + len(hdr) + 1
        hdr += " " * ((64 - total % 64) % 64) + "\n"
        out("npy", f"v{ver}.npy", b"\x93NUMPY" + bytes([ver, 0]) + struct.pack("<I", len(hdr)) + hdr.encode() + a.tobytes())

    # ---- npz ----
    for p in files("tests/fixtures/npy/*.npz") + files("tests/fixtures/bad/npy/*.npz"):
        out("npz", os.path.basename(os.path.dirname(p)) + "_" + os.path.basename(p), read(p))
    lab = np.load(os.path.join(ROOT, "data/digits_label.npy"))
    for comp, tag in ((zipfile.ZIP_STORED, "stored"), (zipfile.ZIP_DEFLATED, "deflated")):
        b = io.BytesIO()
        with zipfile.ZipFile(b, "w", comp) as z:
            z.writestr("image.npy", npy_bytes(img[:20]))
            z.writestr("label.npy", npy_bytes(lab[:20]))
            z.writestr("notes.txt", b"not an array")
        out("npz", f"digits20_{tag}.npz", b.getvalue())
        b = io.BytesIO()
        with zipfile.ZipFile(b, "w", comp) as z:
            z.writestr("a.npy", npy_bytes(np.arange(5, dtype=">i8")))
            z.writestr("b.npy", npy_bytes(np.asfortranarray(np.ones((5, 2, 2), dtype=np.float32))))
            z.writestr("dir/c.npy", npy_bytes(np.array([True] * 5)))
        out("npz", f"mixed_{tag}.npz", b.getvalue())

    # ---- csv (selector byte first: see fuzz_targets/csv.rs) ----
    csvs = {os.path.basename(p): read(p) for p in files("tests/fixtures/bad/csv/*.csv")}
    lines = read("data/digits.csv").split(b"\n")
    csvs["digits_head.csv"] = b"\n".join(lines[:30]) + b"\n"
    csvs["abcd.csv"] = b"a,b,c,d,e\n1,2.5,x,3,0\n-4,nan,\"q,uo\"\"te\",255,1\n,,,,\n"
    csvs["abcd_noheader.csv"] = b"1,2.5,x,3\n-4,1e3,y,0\n"
    csvs["abcd_semicolon.csv"] = b"a;b;c;d;e\ntrue;1.5;zz;7;1\nNA;NA;;NA;2\n"
    csvs["bool_typed.csv"] = b"a,b,c,d\nTrue,0.5,\xff\xfe,12\n0,inf,,-2147483648\n"
    for name, data in csvs.items():
        for sel in (0, 1, 2, 3, 4 | 2, 16 | 32, 64 | 128, 8 | 3):
            out("csv", f"{sel:03d}_{name}", bytes([sel]) + data)

    # ---- tfrecord (selector: % 3 compression, bit 7 framed mode) ----
    ex = tfrecords(read("tests/fixtures/tfrecord/examples.tfrecord"))
    dg = tfrecords(read("data/digits.tfrecord"))
    few = frame(ex[:20])
    out("tfrecord", "raw_none_examples20", b"\x00" + few)
    out("tfrecord", "raw_gzip_examples20", b"\x01" + gzip.compress(few))
    out("tfrecord", "raw_zlib_examples20", b"\x02" + zlib.compress(few))
    out("tfrecord", "raw_none_digits20", b"\x00" + frame(dg[:20]))
    out("tfrecord", "raw_gzip_concat", b"\x01" + gzip.compress(frame(ex[:2])) + gzip.compress(frame(ex[2:4])))
    out("tfrecord", "raw_none_corrupted", b"\x00" + read("tests/fixtures/tfrecord/examples_corrupted.tfrecord")[:4000])
    out("tfrecord", "raw_none_truncated", b"\x00" + few[:-7])
    for p in files("tests/fixtures/bad/tfrecord/*"):
        sel = b"\x01" if p.endswith(".gz") else b"\x00"
        out("tfrecord", "raw_bad_" + os.path.basename(p), sel + read(p))
    for c in (0, 1, 2):
        framed = b"".join(bytes([len(r)]) + r for r in (ex[:3] + dg[:3]) if len(r) < 256)
        out("tfrecord", f"framed_{c}", bytes([0x80 | c]) + framed)
        out("tfrecord", f"framed_{c}_empty_records", bytes([0x80 | c]) + b"\x00\x00\x01x")

    # ---- example: single serialized records ----
    for i, r in enumerate(ex[:15]):
        out("example", f"examples_{i:02d}", r)
    for i, r in enumerate(dg[:5]):
        out("example", f"digits_{i:02d}", r)
    for p in files("tests/fixtures/bad/tfrecord/*.tfrecord"):
        for i, r in enumerate(tfrecords(read(p))[:3]):
            out("example", f"bad_{os.path.basename(p)}_{i}", r)

    # ---- tensor_proto ----
    for p in files("tests/fixtures/tensor_protos/*.pb") + files("tests/fixtures/bad/tensor_proto/*.pb"):
        out("tensor_proto", os.path.basename(os.path.dirname(p)) + "_" + os.path.basename(p), read(p))

    # ---- parquet / ipc / arrow_import ----
    for p in files("tests/fixtures/bad/parquet/*"):
        out("parquet", "bad_" + os.path.basename(p), read(p))
    image = pa.FixedSizeListArray.from_arrays(pa.array(img[:40].reshape(-1), pa.uint8()), 64)
    label = pa.array(lab[:40], pa.int64())
    ext_field = pa.field("image", image.type, nullable=False,
                         metadata={b"ARROW:extension:name": b"arrow.fixed_shape_tensor",
                                   b"ARROW:extension:metadata": b'{"shape":[8,8]}'})
    digits = pa.Table.from_arrays([image, label], schema=pa.schema([ext_field, pa.field("label", pa.int64(), nullable=False)]))
    misc = pa.table({
        "a": pa.array([1.5, -2.0, 3.0], pa.float32()),
        "s": pa.array(["x", "", "zz"], pa.large_string()),
        "b": pa.array([b"\x00", b"ab", b""], pa.binary()),
        "t": pa.array([True, False, True]),
        "l": pa.array([[1, 2], [3, 4], [5, 6]], pa.list_(pa.int16())),
        "h": pa.array(np.arange(3, dtype=np.float16)),
        "v": pa.array(["p", "q", "r"], pa.string_view()),
        "n/0": pa.array([1, 2, 3], pa.uint32()),
        "n/1": pa.array([[[1], [2]], [[3], [4]], [[5], [6]]], pa.large_list(pa.list_(pa.int8(), 1))),
    })
    ragged = pa.table({"r": pa.array([[1], [2, 3], []], pa.list_(pa.int64()))})
    nulls = pa.table({"x": pa.array([1, None, 3], pa.int64())})
    tables = {"digits40": digits, "misc": misc, "ragged": ragged, "nulls": nulls}
    for name, t in tables.items():
        for comp in ("NONE", "SNAPPY", "ZSTD"):
            b = io.BytesIO()
            try:
                pq.write_table(t, b, compression=comp, row_group_size=16)
            except Exception:
                continue
            out("parquet", f"{name}_{comp.lower()}.parquet", b.getvalue())
        for fmt in ("file", "stream"):
            b = io.BytesIO()
            opener = ipc.new_file if fmt == "file" else ipc.new_stream
            with opener(b, t.schema) as w:
                for batch in t.to_batches(max_chunksize=16):
                    w.write_batch(batch)
            data = b.getvalue()
            out("ipc", f"{name}_{fmt}.arrow", data)
            if fmt == "stream":
                out("arrow_import", f"ipc_{name}_stream", b"\x00" + data)
    b = io.BytesIO()
    with ipc.new_file(b, digits.schema, options=ipc.IpcWriteOptions(compression="zstd")) as w:
        w.write_table(digits)
    out("ipc", "digits40_zstd_file.arrow", b.getvalue())
    for i in range(16):
        out("arrow_import", f"gen_{i:02d}", b"\x01" + hashlib.sha256(bytes([i])).digest() * (1 + i))

    # ---- pipeline / expr ----
    fns = set()
    n = 0
    for f in ("pipelines", "extra_pipelines_nonfinite", "extra_pipelines"):
        d = json.loads(read(f"tests/fixtures/tfdata/{f}.json"))
        fns.update(d.get("map_vocabulary", []))
        fns.update(d.get("predicate_vocabulary", []))
        for case in d["cases"]:
            for op in case.get("pipeline", []):
                for k in ("fn", "predicate"):
                    if isinstance(op.get(k), str):
                        fns.add(op[k])
            if n >= 180:
                continue
            text = json.dumps({"input": case["input"], "pipeline": case.get("pipeline", [])}).encode()
            if len(text) <= MAX:
                out("pipeline", f"{f}_{case.get('name', n)}.json", text)
                n += 1
    files_cases = [
        {"input": {"source": "npy", "path": "data/digits_label.npy"}, "pipeline": [{"op": "batch", "batch_size": 500}]},
        {"input": {"source": "npy", "paths": {"image": "data/digits_image.npy", "label": "data/digits_label.npy"}}, "pipeline": [{"op": "take", "count": 3}]},
        {"input": {"source": "npz", "path": "data/digits.npz"}, "pipeline": [{"op": "shuffle", "buffer_size": 10, "seed": 1}, {"op": "take", "count": 5}]},
        {"input": {"source": "tfrecord", "path": "data/digits.tfrecord", "features": "infer"}, "pipeline": [{"op": "take", "count": 4}]},
        {"input": {"source": "tfrecord", "path": "tests/fixtures/tfrecord/examples.tfrecord.gz", "compression": "GZIP", "features": "infer"}, "pipeline": [{"op": "take", "count": 2}]},
        {"input": {"source": "tfrecord", "path": "tests/fixtures/tfrecord/examples.tfrecord"}, "pipeline": [{"op": "skip", "count": 998}]},
        {"input": {"source": "csv", "path": "data/digits.csv"}, "pipeline": [{"op": "take", "count": 2}]},
        {"input": {"source": "parquet", "path": "data/digits.parquet"}, "pipeline": [{"op": "batch", "batch_size": 1000}]},
        {"input": {"source": "ipc", "path": "data/digits.arrow"}, "pipeline": [{"op": "take", "count": 3}, {"op": "cast", "dtype": "float32"}]},
        {"input": {"source": "range", "args": [10]}, "pipeline": [{"op": "window", "size": 3, "shift": 2}, {"op": "flat_map", "fn": "window_to_batch", "batch_size": 3}]},
        {"input": {"source": "range", "args": [10]}, "pipeline": [{"op": "map", "fn": "x->(x, fill([x], x))"}, {"op": "padded_batch", "batch_size": 4}]},
        {"input": {"source": "range", "args": [6]}, "pipeline": [{"op": "repeat"}, {"op": "take", "count": 20}, {"op": "rebatch", "batch_size": [2, 3]}]},
        {"input": {"source": "range", "args": [0]}, "pipeline": [{"op": "repeat"}]},
        {"input": {"source": "range", "args": [8]}, "pipeline": [{"op": "scale", "a": 2.0, "b": 1.0}, {"op": "one_hot", "depth": 10}]},
    ]
    for i, c in enumerate(files_cases):
        out("pipeline", f"files_{i:02d}.json", json.dumps(c).encode())
    for i, f in enumerate(sorted(fns)):
        out("expr", f"fn_{i:03d}", f.encode())
    for i, f in enumerate(["x->x/0", "x->x%0", "-x", "x->cast_uint8(x*300)", "x->fill([x,2],as_string(x))",
                           "(x,y)->x+y", "{a,b}->{a:a>=1,b}", "x->(x,(x,x))", "99999999999999999999", "x->1e400"]):
        out("expr", f"extra_{i:02d}", f.encode())


if __name__ == "__main__":
    main()
