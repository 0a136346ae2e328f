//! `slicestream plot …`: PNG charts of data files and of benchmark results.

use std::path::{Path, PathBuf};

use crate::plot::{self, ChartOptions};
use clap::Subcommand;
use serde_json::Value;
use slicestream::{DType, Dataset, ElementSpec, Error, Tensor};

use super::formats::{self, Format, ReadOptions};
use super::summary::{self, summarize};
use super::{check_output, fail, interrupted, CliResult, Failure};

/// Arguments of `plot`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  slicestream plot counts data/digits.npz --component label -o counts.png\n  \
slicestream plot images data/digits.npz -o digits.png\n  slicestream plot hist data/digits.npz --component image -o pixels.png\n  \
slicestream bench --json --rows 20000 > results.jsonl && slicestream plot bench results.jsonl -o throughput.png"
)]
pub struct Args {
    /// The chart.
    #[command(subcommand)]
    chart: Chart,
}

/// Options every chart takes.
#[derive(Debug, clap::Args)]
struct Common {
    /// The PNG file to write.
    #[arg(long, short, value_name = "OUT.png")]
    output: PathBuf,
    /// Replace an existing output.
    #[arg(long)]
    force: bool,
    /// The chart's title (default: what it shows).
    #[arg(long)]
    title: Option<String>,
    /// Width and height in pixels.
    #[arg(long, value_name = "WxH", value_parser = parse_size, default_value = "800x500")]
    size: (u32, u32),
}

/// Options for reading data files.
#[derive(Debug, clap::Args)]
struct Data {
    /// Data files (one format) or a pipeline file.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The component to draw (a path such as `label` or `0`; default: the only one that fits).
    #[arg(long, short)]
    component: Option<String>,
    /// Read only the first N elements.
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// The input format, instead of detecting it.
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<Format>,
}

#[derive(Debug, Subcommand)]
enum Chart {
    /// Bar chart of how often each value of an integer component occurs (class counts).
    Counts {
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        common: Common,
    },
    /// Histogram of a numeric component's values over all elements.
    Hist {
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        common: Common,
        /// Number of bins.
        #[arg(long, default_value_t = 30)]
        bins: usize,
    },
    /// Bar chart of one element's values (e.g. a model's predictions for one input).
    Values {
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        common: Common,
        /// Which element (0-based).
        #[arg(long, default_value_t = 0)]
        element: u64,
    },
    /// Grid of image components ([H, W] or [H, W, 3]) of the first elements, captioned with a label.
    Images {
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        common: Common,
        /// The component to caption each image with (default: a scalar integer component, if any).
        #[arg(long)]
        label: Option<String>,
        /// How many images.
        #[arg(long, default_value_t = 32)]
        count: u64,
        /// Images per row.
        #[arg(long, default_value_t = 8)]
        columns: usize,
    },
    /// Throughput per case from `bench --json` output (JSON lines) or the peer benchmark's JSON.
    Bench {
        /// Result files ('-' for stdin).
        #[arg(required = true, value_name = "RESULTS")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        common: Common,
        /// What to draw.
        #[arg(long, default_value = "elements_per_s", value_parser = ["elements_per_s", "gb_per_s", "batches_per_s", "peak_anon_mib", "seconds"])]
        metric: String,
    },
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WxH, got {s:?}"))?;
    let w: u32 = w.parse().map_err(|_| format!("bad width {w:?}"))?;
    let h: u32 = h.parse().map_err(|_| format!("bad height {h:?}"))?;
    if !(100..=8000).contains(&w) || !(100..=8000).contains(&h) {
        return Err("width and height must be within 100..=8000".into());
    }
    Ok((w, h))
}

fn options(common: &Common, default_title: String) -> ChartOptions {
    ChartOptions::new(common.title.clone().unwrap_or(default_title))
        .with_size(common.size.0, common.size.1)
}

/// Runs `plot`.
pub fn run(args: Args) -> CliResult {
    let (common, written) = match &args.chart {
        Chart::Counts { data, common } => (common, counts(data, common)?),
        Chart::Hist { data, common, bins } => (common, hist(data, common, *bins)?),
        Chart::Values {
            data,
            common,
            element,
        } => (common, values(data, common, *element)?),
        Chart::Images {
            data,
            common,
            label,
            count,
            columns,
        } => (
            common,
            images(data, common, label.as_deref(), *count, *columns)?,
        ),
        Chart::Bench {
            files,
            common,
            metric,
        } => (common, bench(files, common, metric)?),
    };
    eprintln!("wrote {} ({written})", common.output.display());
    Ok(())
}

fn open(data: &Data, common: &Common) -> CliResult<Dataset> {
    check_output(&common.output, common.force)?;
    let input = formats::open(
        &data.files,
        &ReadOptions {
            format: data.format,
            raw: false,
        },
    )?;
    Ok(match data.limit {
        Some(n) => input.dataset.take(n),
        None => input.dataset,
    })
}

/// The component to draw: the named one, or the only one for which `fits` holds.
fn pick(
    spec: &ElementSpec,
    named: Option<&str>,
    what: &str,
    fits: impl Fn(&slicestream::TensorSpec) -> bool,
) -> CliResult<usize> {
    let paths = spec.paths();
    if let Some(name) = named {
        let i = spec.structure().leaf_index(name)?;
        if !fits(&spec.components()[i]) {
            return Err(fail(format!(
                "component {name:?} ({}) is not {what}",
                spec.components()[i]
            )));
        }
        return Ok(i);
    }
    let fitting: Vec<usize> = (0..paths.len())
        .filter(|&i| fits(&spec.components()[i]))
        .collect();
    match fitting.as_slice() {
        [i] => Ok(*i),
        [] => Err(fail(format!(
            "no component is {what}; the components are {paths:?}"
        ))),
        _ => Err(fail(format!(
            "several components are {what} ({:?}): choose one with --component",
            fitting.iter().map(|&i| &paths[i]).collect::<Vec<_>>()
        ))),
    }
}

fn is_int(s: &slicestream::TensorSpec) -> bool {
    s.dtype.is_integer() || s.dtype == DType::Bool
}

fn is_number(s: &slicestream::TensorSpec) -> bool {
    !s.dtype.is_variable_width()
}

fn is_image(s: &slicestream::TensorSpec) -> bool {
    is_number(s) && (s.rank() == 2 || (s.rank() == 3 && matches!(s.shape[2], Some(1) | Some(3))))
}

fn counts(data: &Data, common: &Common) -> CliResult<String> {
    let ds = open(data, common)?;
    let spec = ds.element_spec()?;
    let leaf = pick(&spec, data.component.as_deref(), "integer", is_int)?;
    let ds = ds.map(move |e| Ok(slicestream::Element::single(e.components()[leaf].clone())));
    let s = summarize(
        &ds,
        &summary::Options {
            head: 0,
            all_classes: true,
            limit: None,
        },
    )?;
    let name = &spec.paths()[leaf];
    let classes = s.components[0].classes.clone().ok_or_else(|| {
        fail(format!(
            "{name:?} has more than 64 distinct values: draw a histogram (plot hist) instead"
        ))
    })?;
    let labels: Vec<String> = classes.keys().map(|k| k.to_string()).collect();
    let values: Vec<f64> = classes.values().map(|&v| v as f64).collect();
    let o = options(
        common,
        format!("counts of {name} ({} elements)", s.elements),
    )
    .with_axes(name.clone(), "count");
    plot::bar_chart(&common.output, &labels, &values, &o)?;
    Ok(format!("{} classes", labels.len()))
}

fn hist(data: &Data, common: &Common, bins: usize) -> CliResult<String> {
    if !(1..=10_000).contains(&bins) {
        return Err(fail("--bins must be within 1..=10000"));
    }
    let ds = open(data, common)?;
    let spec = ds.element_spec()?;
    let leaf = pick(&spec, data.component.as_deref(), "numeric", is_number)?;
    let one = ds.map(move |e| Ok(slicestream::Element::single(e.components()[leaf].clone())));
    // Two passes: the range, then the counts (the values are never all in memory).
    let range = summarize(&one, &summary::Options::default())?;
    let c = &range.components[0];
    if !(c.min.is_finite() && c.max.is_finite()) {
        return Err(fail("the component has no finite values to draw"));
    }
    let (edges, _) = plot::bin(&[c.min, c.max], bins);
    let (lo, hi) = (edges[0], edges[bins]);
    let mut counts = vec![0u64; bins];
    for e in one.iter() {
        if interrupted() {
            return Err(Failure::Interrupted);
        }
        let t = crate::pipeline_file::cast(e?.component(0)?, DType::F64)?;
        for &v in t.as_slice::<f64>()?.iter().filter(|v| v.is_finite()) {
            let i = (((v - lo) / (hi - lo) * bins as f64) as usize).min(bins - 1);
            counts[i] += 1;
        }
    }
    let name = &spec.paths()[leaf];
    let o = options(common, format!("{name}: {} values", c.count - c.nan))
        .with_axes(name.clone(), "count");
    plot::histogram_of_bins(&common.output, &edges, &counts, &o)?;
    Ok(format!("{} values in {bins} bins", c.count - c.nan))
}

fn values(data: &Data, common: &Common, element: u64) -> CliResult<String> {
    let ds = open(data, common)?;
    let spec = ds.element_spec()?;
    let leaf = pick(&spec, data.component.as_deref(), "numeric", is_number)?;
    let e = ds
        .skip(element)
        .iter()
        .next()
        .ok_or_else(|| fail(format!("there is no element {element}")))??;
    let t = crate::pipeline_file::cast(&e.components()[leaf], DType::F64)?;
    let v = t.as_slice::<f64>()?.to_vec();
    if v.len() > 200 {
        return Err(fail(format!(
            "element {element} has {} values: too many bars (plot hist draws them)",
            v.len()
        )));
    }
    let labels: Vec<String> = (0..v.len()).map(|i| i.to_string()).collect();
    let name = &spec.paths()[leaf];
    let o =
        options(common, format!("{name} of element {element}")).with_axes("index", name.clone());
    plot::bar_chart(&common.output, &labels, &v, &o)?;
    Ok(format!("{} values", v.len()))
}

fn images(
    data: &Data,
    common: &Common,
    label: Option<&str>,
    count: u64,
    columns: usize,
) -> CliResult<String> {
    if !(1..=4096).contains(&count) || columns == 0 {
        return Err(fail(
            "--count must be within 1..=4096 and --columns at least 1",
        ));
    }
    let mut ds = open(data, common)?;
    let mut spec = ds.element_spec()?;
    // Batches of images: draw the images of the batches.
    let batched_image = |s: &slicestream::TensorSpec| s.unbatched().is_ok_and(|u| is_image(&u));
    let batched = match data.component.as_deref() {
        Some(name) => spec
            .get(name)
            .is_ok_and(|s| !is_image(s) && batched_image(s)),
        None => {
            !spec.components().iter().any(is_image) && spec.components().iter().any(batched_image)
        }
    };
    if batched {
        ds = ds.unbatch()?;
        spec = ds.element_spec()?;
    }
    let leaf = pick(
        &spec,
        data.component.as_deref(),
        "an image ([H, W] or [H, W, 1 or 3] numbers)",
        is_image,
    )?;
    let scalar_int = |s: &slicestream::TensorSpec| is_int(s) && s.rank() == 0;
    let label = match label {
        Some(l) => Some(pick(&spec, Some(l), "a scalar", |s| s.rank() == 0)?),
        None => pick(&spec, None, "", scalar_int).ok(),
    };
    let (mut pictures, mut captions): (Vec<Tensor>, Vec<String>) = (Vec::new(), Vec::new());
    for e in ds.take(count).iter() {
        let e = e?;
        pictures.push(e.components()[leaf].clone());
        if let Some(l) = label {
            captions.push(summary::short(&e.components()[l]));
        }
    }
    let name = &spec.paths()[leaf];
    let o = options(
        common,
        format!("{name}: the first {} elements", pictures.len()),
    );
    plot::image_grid(&common.output, &pictures, &captions, columns, &o)?;
    Ok(format!("{} images", pictures.len()))
}

/// A metric of one result: a number, or the peer benchmark's `{"median": x}`.
fn metric_of(r: &Value, metric: &str) -> Option<f64> {
    match &r[metric] {
        Value::Number(n) => n.as_f64(),
        Value::Object(o) => o.get("median").and_then(Value::as_f64),
        _ => None,
    }
}

fn read_results(path: &Path) -> CliResult<Vec<Value>> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| fail(format!("cannot read stdin: {e}")))?
    } else {
        std::fs::read_to_string(path).map_err(|e| Error::io(e, path))?
    };
    if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(&text) {
        return Ok(items);
    }
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| fail(format!("{} line {}: not JSON: {e}", path.display(), i + 1)))
        })
        .collect()
}

fn bench(files: &[PathBuf], common: &Common, metric: &str) -> CliResult<String> {
    check_output(&common.output, common.force)?;
    let (mut labels, mut values) = (Vec::new(), Vec::new());
    for f in files {
        for r in read_results(f)? {
            let name = r["case"].as_str().or_else(|| r["name"].as_str());
            if let (Some(name), Some(v)) = (name, metric_of(&r, metric)) {
                labels.push(match r["form"].as_str() {
                    Some(form) => format!("{name} [{form}]"),
                    None => name.to_string(),
                });
                values.push(v);
            }
        }
    }
    if labels.is_empty() {
        return Err(fail(format!(
            "no results with a {metric:?} in the {} file(s)",
            files.len()
        )));
    }
    let unit = match metric {
        "elements_per_s" => "elements/s",
        "gb_per_s" => "GB/s",
        "batches_per_s" => "batches/s",
        "peak_anon_mib" => "MiB",
        _ => "s",
    };
    let height = (labels.len() as u32 * 28 + 120).max(common.size.1);
    let o = options(common, format!("slicestream bench: {metric}"))
        .with_size(common.size.0.max(900), height);
    plot::horizontal_bar_chart(&common.output, &labels, &values, unit, &o)?;
    Ok(format!("{} cases", labels.len()))
}
