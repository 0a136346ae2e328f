//! `slicestream demo` (and `slicestream` with no command): one epoch over the digits data set,
//! memory-mapped from data/digits_image.npy and data/digits_label.npy, shuffled, batched and scaled
//! to f32, with per-stage stats, checked against data/digits.json.

use std::time::Instant;

use slicestream::runtime::Options;
use slicestream::{Dataset, Element, Error, Result, Tensor};

use super::{data_dir, fail, CliResult};

/// Runs the demo, then says where to go next.
pub fn run() -> CliResult {
    let ok = demo()?;
    println!();
    println!("next: slicestream --help, or e.g.");
    println!("  slicestream inspect data/digits.tfrecord");
    println!("  slicestream convert data/digits.npz digits.tfrecord --shuffle 1797 --seed 1");
    println!("  slicestream plot images data/digits.npz -o digits.png");
    println!("  slicestream bench --rows 20000");
    if ok {
        Ok(())
    } else {
        Err(fail(
            "the digits demo's class counts do not match data/digits.json",
        ))
    }
}

/// Image pixels (0..=16) as f32 in [0, 1]; labels unchanged (the demo's map, and the bench's
/// `digits_map_batch`).
pub(super) fn scale(batch: Element) -> Result<Element> {
    let image = batch.get("image")?;
    let pixels: Vec<f32> = image
        .as_slice::<u8>()?
        .iter()
        .map(|&p| f32::from(p) / 16.0)
        .collect();
    Ok(Element::dict([
        ("image", Tensor::from_vec(image.shape().to_vec(), pixels)?),
        ("label", batch.get("label")?.clone()),
    ]))
}

/// The demo's work; `Ok(false)` when the counts do not match digits.json.
fn demo() -> Result<bool> {
    let data = data_dir();
    let facts: serde_json::Value = {
        let path = data.join("digits.json");
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(e, &path))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::format(format!("digits.json: {e}")).with_file(&path))?
    };

    let ds = Dataset::from_npy_dict([
        ("image", data.join("digits_image.npy")),
        ("label", data.join("digits_label.npy")),
    ])?
    .shuffle(1797, Some(42), true)?
    .batch(64, false)?
    .map_batch(scale)
    .with_options(Options::default().with_stage_timing(true));

    println!("element_spec: {}", ds.element_spec()?);
    println!("cardinality:  {}", ds.cardinality());

    let start = Instant::now();
    let (mut batches, mut elements, mut counts) = (0usize, 0usize, [0u64; 10]);
    let mut pixel_sum = 0f64;
    let mut it = ds.iter();
    for batch in it.by_ref() {
        let batch = batch?;
        let labels = batch.get("label")?.as_slice::<i64>()?;
        for &l in labels {
            let class = usize::try_from(l).ok().filter(|&c| c < 10);
            let class = class.ok_or_else(|| Error::format(format!("label {l} is not a digit")))?;
            counts[class] += 1;
        }
        pixel_sum += batch
            .get("image")?
            .as_slice::<f32>()?
            .iter()
            .map(|&p| f64::from(p))
            .sum::<f64>();
        batches += 1;
        elements += labels.len();
    }
    let secs = start.elapsed().as_secs_f64();
    let stats = it.stats();
    drop(it);

    println!("batches:      {batches}");
    println!(
        "elements:     {elements} in {:.2} ms ({:.0} elements/s)",
        secs * 1e3,
        elements as f64 / secs
    );
    println!("pixel sum:    {pixel_sum} (x16 = {})", pixel_sum * 16.0);
    println!("class counts: {counts:?}");
    println!("per stage:");
    for line in stats.to_string().lines() {
        println!("  {line}");
    }

    let expected: Vec<u64> = (0..10)
        .map(|c| {
            facts["label_counts"][c.to_string()]
                .as_u64()
                .unwrap_or(u64::MAX)
        })
        .collect();
    let ok = counts.as_slice() == expected.as_slice()
        && elements as u64 == facts["n"].as_u64().unwrap_or(0);
    if ok {
        println!("check:        class counts match digits.json ({elements} digits)");
    } else {
        eprintln!("check FAILED: class counts {counts:?}, digits.json says {expected:?}");
    }
    Ok(ok)
}
