#!/usr/bin/env python3
"""The ratios of docs/performance.md: slicestream's `bench --json` lines beside the peer script's JSON.

    python3 benches/peers/ratios.py PEERS.json SLICESTREAM.jsonl

PEERS.json is what `tf_bench.py --out` wrote, SLICESTREAM.jsonl what `slicestream bench --json`
printed (run both in the same sitting: the machine is noisy). Prints a Markdown table, one row per
target of the issues, with both medians and the ratio.
"""
import json
import sys


def median(v):
    return v.get("median") if isinstance(v, dict) else v


def main(peers_path, ours_path):
    peers = {c["name"]: c for c in json.load(open(peers_path)) if "name" in c}
    ours = {}
    for line in open(ours_path):
        line = line.strip()
        if line.startswith("{"):
            r = json.loads(line)
            ours[(r["case"], r.get("form", "ndarray"))] = r

    def peer(name, key):
        c = peers.get(name)
        return median(c.get(key)) if c else None

    def own(case, key, form="ndarray"):
        r = ours.get((case, form))
        return r.get(key) if r else None

    us_per_el = own("per_element", "seconds")
    us_per_el = us_per_el / own("per_element", "elements") * 1e6 if us_per_el else None
    rows = [
        # (what, slicestream value, peer value, unit, higher is better, target)
        ("batch(256) → ndarray views, elements/s vs tf.data", own("batch", "elements_per_s"),
         peer("tf_batch", "elements_per_s"), "el/s", True, ">= 100x"),
        ("batch(256) → ndarray views, batches/s vs numpy's loop x[i:i+256], y[i:i+256]",
         own("batch", "elements_per_s") / 256 if own("batch", "elements_per_s") else None,
         peer("np_slice_views", "batches_per_s"), "batches/s", True, ">= 1x"),
        ("shuffle(10000).batch(256).prefetch(2), GB/s vs numpy x[perm[i:i+256]]",
         own("shuffle_batch_prefetch", "gb_per_s"), peer("np_gather_shuffled", "x_gb_per_s"), "GB/s", True, ">= 1.5x"),
        ("the same, GB/s vs tf.data", own("shuffle_batch_prefetch", "gb_per_s"),
         peer("tf_shuffle_batch_prefetch", "x_gb_per_s"), "GB/s", True, "about 4x"),
        ("global_shuffle + batch(256), GB/s vs numpy gather", own("indexed_shuffle_batch", "gb_per_s"),
         peer("np_gather_shuffled", "x_gb_per_s"), "GB/s", True, ">= 1.5x"),
        ("the same vs memcpy (np.copyto of 1 GiB: the physical limit)", own("indexed_shuffle_batch", "gb_per_s"),
         peer("np_copyto", "gb_per_s"), "GB/s", True, "-"),
        ("map(x*2, parallel) + batch(256), elements/s vs tf.data", own("map_batch", "elements_per_s"),
         peer("tf_map_batch", "elements_per_s"), "el/s", True, ">= 20x"),
        ("batch(256).map_batch(x*2), GB/s vs numpy x[i:i+256]*2 over the same batches",
         own("map_batch_vectorized", "gb_per_s"), peer("np_double_batches", "x_gb_per_s"), "GB/s", True, ">= 0.5x"),
        ("shuffle + map + batch + prefetch, elements/s vs tf.data", own("shuffle_map_batch_prefetch", "elements_per_s"),
         peer("tf_shuffle_map_batch_prefetch", "elements_per_s"), "el/s", True, "-"),
        ("per-element iteration, µs per element vs tf.data", us_per_el,
         peer("tf_per_element", "us_per_element"), "µs", False, "<= 1 µs"),
        ("padded_batch(64) of 100k int32 sequences, elements/s vs tf.data (ragged)",
         own("padded_batch", "elements_per_s"), peer("tf_padded_batch_ragged", "elements_per_s"), "el/s", True, ">= 20x"),
        ("the same vs tf.data (from_generator)", own("padded_batch", "elements_per_s"),
         peer("tf_padded_batch_generator", "elements_per_s"), "el/s", True, ">= 20x"),
        ("2 GiB NPY through shuffle(10000).batch(256), GB/s vs tf.data's chunked generator",
         own("stream_npy", "gb_per_s"), peer("stream_gen_chunks", "x_gb_per_s"), "GB/s", True, ">= 2x"),
    ]
    print("| work | slicestream | peer | ratio | target |")
    print("|---|---|---|---|---|")
    for what, a, b, unit, higher, target in rows:
        if a is None or b is None:
            print(f"| {what} | {a} | {b} | not measured | {target} |")
            continue
        ratio = a / b if higher else b / a
        fmt = (lambda x: f"{x:,.0f}") if unit in ("el/s", "batches/s") else (lambda x: f"{x:.3g}")
        print(f"| {what} | {fmt(a)} {unit} | {fmt(b)} {unit} | {ratio:.2f}x | {target} |")
    print()
    print("| memory | peak RssAnon above baseline |")
    print("|---|---|")
    for case in ("generator_shuffle_batch", "generator_big_shuffle_batch",
                 "generator_big_shuffle_batch_budget64", "stream_npy"):
        v = own(case, "peak_anon_mib")
        b = own(case, "peak_bytes_in_flight_mib")
        print(f"| {case} | {v:.0f} MiB (peak bytes in flight {b:.0f} MiB) |" if v is not None else f"| {case} | not measured |")
    print()
    print("| output form | batch el/s | shuffle_batch_prefetch GB/s | map_batch el/s |")
    print("|---|---|---|---|")
    for form in ("ndarray", "arrow", "polars"):
        vals = [own("batch", "elements_per_s", form), own("shuffle_batch_prefetch", "gb_per_s", form),
                own("map_batch", "elements_per_s", form)]
        print("| " + form + " | " + " | ".join("-" if v is None else f"{v:,.3g}" for v in vals) + " |")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
