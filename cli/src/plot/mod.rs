//! PNG charts with [plotters]: bar charts (class counts, a model's predictions), histograms of
//! values, grids of image tensors, and horizontal bar charts (throughput). `slicestream plot` draws
//! them from files; they work on plain data, so any program can use them.
//!
//! Every function writes a PNG under a temporary name beside `path` and renames it when complete,
//! so a file at `path` is always a whole chart. Text is drawn with DejaVu Sans, built into the
//! library (`assets/DejaVuSans.ttf`, Bitstream Vera licence): no system fonts are needed.
//!
//! ```
//! use slicestream_cli::plot::{bar_chart, ChartOptions};
//!
//! let dir = std::env::temp_dir().join(format!("slicestream-plot-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let labels: Vec<String> = (0..10).map(|d| d.to_string()).collect();
//! let predictions = [0.01, 0.02, 0.9, 0.01, 0.0, 0.03, 0.0, 0.01, 0.01, 0.01];
//! bar_chart(dir.join("predictions.png"), &labels, &predictions, &ChartOptions::new("predictions"))?;
//! assert!(dir.join("predictions.png").exists());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), slicestream::Error>(())
//! ```

mod images;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::prelude::*;

use slicestream::error::{Error, Result};

pub use images::image_grid;

/// The font family name the charts use (registered from the embedded DejaVu Sans).
const FAMILY: &str = "sans-serif";

/// Bar colour.
const BAR: RGBColor = RGBColor(52, 101, 164);

/// Title, axis descriptions and size of a chart. Build with [`ChartOptions::new`] and the `with_*`
/// methods.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ChartOptions {
    /// The caption above the chart.
    pub title: String,
    /// The x axis description (empty for none).
    pub x_label: String,
    /// The y axis description (empty for none).
    pub y_label: String,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

impl Default for ChartOptions {
    fn default() -> Self {
        ChartOptions {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            size: (800, 500),
        }
    }
}

impl ChartOptions {
    /// Options with this title and the default size (800 x 500).
    pub fn new(title: impl Into<String>) -> Self {
        ChartOptions {
            title: title.into(),
            ..ChartOptions::default()
        }
    }

    /// Sets the axis descriptions.
    pub fn with_axes(mut self, x: impl Into<String>, y: impl Into<String>) -> Self {
        self.x_label = x.into();
        self.y_label = y.into();
        self
    }

    /// Sets the size in pixels.
    pub fn with_size(mut self, width: u32, height: u32) -> Self {
        self.size = (width, height);
        self
    }
}

/// Registers the embedded font once; an error if it cannot be read (it always can).
fn font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(
            FAMILY,
            FontStyle::Normal,
            include_bytes!("../../assets/DejaVuSans.ttf"),
        )
        .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::format("the embedded chart font cannot be read"))
    }
}

/// A drawing failure as this crate's error, naming the file.
fn draw_error(e: impl std::fmt::Display, path: &Path) -> Error {
    Error::user(format!("cannot draw the chart: {e}")).with_file(path)
}

/// A PNG being drawn under a temporary name, renamed to the target by [`PngFile::persist`] and
/// removed when dropped before that.
pub(crate) struct PngFile {
    target: PathBuf,
    tmp: PathBuf,
    done: bool,
}

impl PngFile {
    /// Checks that `path` names a `.png` file and picks the temporary name beside it.
    pub(crate) fn new(path: &Path) -> Result<PngFile> {
        font()?;
        let is_png = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"));
        let name = path.file_name().filter(|_| is_png).ok_or_else(|| {
            Error::invalid_argument(format!(
                "charts are PNG files: {} must end in .png",
                path.display()
            ))
        })?;
        let tmp = path.with_file_name(format!(
            ".{}.{}.tmp.png",
            name.to_string_lossy(),
            std::process::id()
        ));
        Ok(PngFile {
            target: path.to_path_buf(),
            tmp,
            done: false,
        })
    }

    /// The path to draw to.
    pub(crate) fn tmp(&self) -> &Path {
        &self.tmp
    }

    /// Renames the drawn file to the target.
    pub(crate) fn persist(mut self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.target).map_err(|e| Error::io(e, &self.target))?;
        self.done = true;
        Ok(())
    }

    /// The target, for errors.
    pub(crate) fn target(&self) -> &Path {
        &self.target
    }
}

impl Drop for PngFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// The largest of `values` (at least a small positive number, so an all-zero chart has an axis).
fn top(values: &[f64]) -> f64 {
    let m = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    if m > 0.0 {
        m * 1.1
    } else {
        1.0
    }
}

fn check_bars(labels: &[String], values: &[f64]) -> Result<()> {
    if labels.len() != values.len() {
        return Err(Error::invalid_argument(format!(
            "{} labels for {} values",
            labels.len(),
            values.len()
        )));
    }
    if values.is_empty() {
        return Err(Error::invalid_argument(
            "a bar chart needs at least one value",
        ));
    }
    if let Some(v) = values.iter().find(|v| !v.is_finite() || **v < 0.0) {
        return Err(Error::invalid_argument(format!(
            "bar values must be finite and not negative, got {v}"
        )));
    }
    Ok(())
}

/// A vertical bar chart: one bar per label (class counts, a model's predictions for one input).
///
/// Errors when the lengths differ, there are no values, a value is negative or not finite, `path`
/// does not end in `.png`, or the file cannot be written.
pub fn bar_chart(
    path: impl AsRef<Path>,
    labels: &[String],
    values: &[f64],
    options: &ChartOptions,
) -> Result<()> {
    check_bars(labels, values)?;
    let png = PngFile::new(path.as_ref())?;
    let e = |err: &dyn std::fmt::Display| draw_error(err, png.target());
    {
        let root = BitMapBackend::new(png.tmp(), options.size).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(&x))?;
        let n = values.len() as i32;
        let mut chart = ChartBuilder::on(&root)
            .caption(&options.title, (FAMILY, 24))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((0..n - 1).into_segmented(), 0.0..top(values))
            .map_err(|x| e(&x))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(values.len())
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => labels
                    .get(usize::try_from(*i).unwrap_or(usize::MAX))
                    .cloned()
                    .unwrap_or_default(),
                SegmentValue::Last => String::new(),
            })
            .x_desc(&options.x_label)
            .y_desc(&options.y_label)
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 16))
            .draw()
            .map_err(|x| e(&x))?;
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(BAR.filled())
                    .margin(4)
                    .data(values.iter().enumerate().map(|(i, v)| (i as i32, *v))),
            )
            .map_err(|x| e(&x))?;
        root.present().map_err(|x| e(&x))?;
    }
    png.persist()
}

/// A horizontal bar chart with each bar's value written beside it, the first item at the top:
/// throughput per benchmark case, or any named quantity. `unit` follows each value (`"elements/s"`).
pub fn horizontal_bar_chart(
    path: impl AsRef<Path>,
    labels: &[String],
    values: &[f64],
    unit: &str,
    options: &ChartOptions,
) -> Result<()> {
    check_bars(labels, values)?;
    let png = PngFile::new(path.as_ref())?;
    let e = |err: &dyn std::fmt::Display| draw_error(err, png.target());
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u32;
    // The first bar at the top: row i of the chart (counted from the bottom) shows item n - 1 - i.
    let top_down = |i: usize| values.len().saturating_sub(1).saturating_sub(i);
    {
        let root = BitMapBackend::new(png.tmp(), options.size).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(&x))?;
        let n = values.len() as i32;
        let mut chart = ChartBuilder::on(&root)
            .caption(&options.title, (FAMILY, 24))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size((longest * 8 + 10).clamp(60, 360))
            .build_cartesian_2d(0.0..top(values) * 1.25, (0..n - 1).into_segmented())
            .map_err(|x| e(&x))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(values.len())
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => usize::try_from(*i)
                    .ok()
                    .and_then(|i| labels.get(top_down(i)))
                    .cloned()
                    .unwrap_or_default(),
                SegmentValue::Last => String::new(),
            })
            .x_label_formatter(&|v| human(*v))
            .x_desc(if options.x_label.is_empty() {
                unit
            } else {
                &options.x_label
            })
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 16))
            .draw()
            .map_err(|x| e(&x))?;
        chart
            .draw_series(
                Histogram::horizontal(&chart)
                    .style(BAR.filled())
                    .margin(3)
                    .data(
                        values
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (top_down(i) as i32, *v)),
                    ),
            )
            .map_err(|x| e(&x))?;
        chart
            .draw_series(values.iter().enumerate().map(|(i, v)| {
                Text::new(
                    format!(" {} {unit}", human(*v)),
                    (*v, SegmentValue::CenterOf(top_down(i) as i32)),
                    (FAMILY, 13).into_font(),
                )
            }))
            .map_err(|x| e(&x))?;
        root.present().map_err(|x| e(&x))?;
    }
    png.persist()
}

/// A number in a few significant digits with a k / M / G suffix.
pub fn human(v: f64) -> String {
    let a = v.abs();
    let (x, s) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let digits = if x.abs() >= 100.0 {
        0
    } else if x.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{x:.digits$}{s}")
}

/// Bins `values` into `bins` equal-width bins over their range: `(edges, counts)` with
/// `edges.len() == counts.len() + 1`. Non-finite values are left out.
pub fn bin(values: &[f64], bins: usize) -> (Vec<f64>, Vec<u64>) {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let bins = bins.max(1);
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if finite.is_empty() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    let width = (hi - lo) / bins as f64;
    let edges = (0..=bins).map(|i| lo + width * i as f64).collect();
    let mut counts = vec![0u64; bins];
    for v in finite {
        let i = (((v - lo) / width) as usize).min(bins - 1);
        counts[i] += 1;
    }
    (edges, counts)
}

/// A histogram of `values` in `bins` equal-width bins (non-finite values are left out).
///
/// Errors when `values` has no finite value, `path` does not end in `.png`, or the file cannot be
/// written.
pub fn histogram(
    path: impl AsRef<Path>,
    values: &[f64],
    bins: usize,
    options: &ChartOptions,
) -> Result<()> {
    if !values.iter().any(|v| v.is_finite()) {
        return Err(Error::invalid_argument(
            "a histogram needs at least one finite value",
        ));
    }
    let (edges, counts) = bin(values, bins);
    histogram_of_bins(path, &edges, &counts, options)
}

/// A histogram of counts already binned: `edges` (one more than `counts`, increasing) and the count
/// of each bin, e.g. from [`bin`] or from a pass over data too large to hold.
///
/// Errors when the lengths do not fit, the edges do not increase, `path` does not end in `.png`, or
/// the file cannot be written.
pub fn histogram_of_bins(
    path: impl AsRef<Path>,
    edges: &[f64],
    counts: &[u64],
    options: &ChartOptions,
) -> Result<()> {
    if counts.is_empty() || edges.len() != counts.len() + 1 {
        return Err(Error::invalid_argument(format!(
            "a histogram needs one more edge than bins, got {} edges for {} bins",
            edges.len(),
            counts.len()
        )));
    }
    if edges
        .windows(2)
        .any(|w| !w[0].is_finite() || !w[1].is_finite() || w[0] >= w[1])
    {
        return Err(Error::invalid_argument(
            "histogram edges must be finite and increasing",
        ));
    }
    let png = PngFile::new(path.as_ref())?;
    let e = |err: &dyn std::fmt::Display| draw_error(err, png.target());
    let (lo, hi) = (edges[0], edges[edges.len() - 1]);
    let ymax = counts.iter().copied().max().unwrap_or(1) as f64 * 1.1;
    {
        let root = BitMapBackend::new(png.tmp(), options.size).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(&x))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&options.title, (FAMILY, 24))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(lo..hi, 0.0..ymax.max(1.0))
            .map_err(|x| e(&x))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc(&options.x_label)
            .y_desc(if options.y_label.is_empty() {
                "count"
            } else {
                &options.y_label
            })
            .y_label_formatter(&|v| human(*v))
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 16))
            .draw()
            .map_err(|x| e(&x))?;
        chart
            .draw_series(counts.iter().enumerate().map(|(i, &c)| {
                Rectangle::new([(edges[i], 0.0), (edges[i + 1], c as f64)], BAR.filled())
            }))
            .map_err(|x| e(&x))?;
        root.present().map_err(|x| e(&x))?;
    }
    png.persist()
}
