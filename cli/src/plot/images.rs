//! [`image_grid`]: image tensors side by side, as matplotlib's `imshow` grid of the tf.data tutorials.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{draw_error, ChartOptions, PngFile, FAMILY};
use slicestream::error::{Error, Result};
use slicestream::tensor::{DType, Tensor};

/// An image's pixels as f64, with its height, width and channels (1 or 3).
struct Pixels {
    h: usize,
    w: usize,
    c: usize,
    values: Vec<f64>,
}

fn pixels(t: &Tensor, i: usize) -> Result<Pixels> {
    let (h, w, c) = match *t.shape() {
        [h, w] => (h, w, 1),
        [h, w, c] if c == 1 || c == 3 => (h, w, c),
        _ => {
            return Err(Error::invalid_argument(format!(
                "image {i} has shape {:?}: images are [height, width] or [height, width, 1 or 3]",
                t.shape()
            )))
        }
    };
    if t.dtype().is_variable_width() {
        return Err(Error::invalid_argument(format!(
            "image {i} holds {} values, not numbers",
            t.dtype()
        )));
    }
    let values = crate::pipeline_file::cast(t, DType::F64)?
        .as_slice::<f64>()?
        .to_vec();
    Ok(Pixels { h, w, c, values })
}

/// Draws `images` in a grid of `columns` columns, each with its caption below (`captions` may be
/// shorter than `images`, or empty). Images are `[height, width]` (grayscale, drawn dark on light as
/// ink on paper) or `[height, width, 3]` (RGB), any numeric dtype; values are scaled from the
/// smallest to the largest over all the images.
///
/// ```
/// use slicestream_cli::plot::{image_grid, ChartOptions};
/// use slicestream::Tensor;
///
/// let dir = std::env::temp_dir().join(format!("slicestream-grid-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let images: Vec<Tensor> = (0..4u8)
///     .map(|k| Tensor::from_vec(vec![8, 8], (0..64u8).map(|p| (p + k) % 17).collect()))
///     .collect::<Result<_, _>>()?;
/// let captions: Vec<String> = (0..4).map(|k| format!("#{k}")).collect();
/// image_grid(dir.join("grid.png"), &images, &captions, 2, &ChartOptions::new("four images"))?;
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), slicestream::Error>(())
/// ```
///
/// Errors when there are no images, an image has another rank or holds strings, `columns` is 0,
/// `path` does not end in `.png`, or the file cannot be written.
pub fn image_grid(
    path: impl AsRef<Path>,
    images: &[Tensor],
    captions: &[String],
    columns: usize,
    options: &ChartOptions,
) -> Result<()> {
    if images.is_empty() {
        return Err(Error::invalid_argument(
            "an image grid needs at least one image",
        ));
    }
    if columns == 0 {
        return Err(Error::invalid_argument(
            "an image grid needs at least one column",
        ));
    }
    let all: Vec<Pixels> = images
        .iter()
        .enumerate()
        .map(|(i, t)| pixels(t, i))
        .collect::<Result<_>>()?;
    let finite = all
        .iter()
        .flat_map(|p| p.values.iter().copied())
        .filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let span = if hi > lo { hi - lo } else { 1.0 };
    let lo = if lo.is_finite() { lo } else { 0.0 };

    let cell_h = all.iter().map(|p| p.h).max().unwrap_or(1);
    let cell_w = all.iter().map(|p| p.w).max().unwrap_or(1);
    let scale = (96 / cell_h.max(cell_w)).max(1);
    let (pad, caption_h, title_h) = (8usize, 20usize, 40usize);
    let rows = all.len().div_ceil(columns);
    let cols = columns.min(all.len());
    let box_w = cell_w * scale + pad;
    let box_h = cell_h * scale + caption_h + pad;
    let width = (cols * box_w + pad).max(240);
    let height = rows * box_h + title_h + pad;
    let size = (
        u32::try_from(width).map_err(|_| Error::invalid_argument("the grid is too wide"))?,
        u32::try_from(height).map_err(|_| Error::invalid_argument("the grid is too tall"))?,
    );

    let png = PngFile::new(path.as_ref())?;
    let e = |err: &dyn std::fmt::Display| draw_error(err, png.target());
    {
        let root = BitMapBackend::new(png.tmp(), size).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(&x))?;
        let title_style =
            TextStyle::from((FAMILY, 22).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
        root.draw(&Text::new(
            options.title.clone(),
            ((width / 2) as i32, (title_h / 2) as i32),
            title_style,
        ))
        .map_err(|x| e(&x))?;
        let caption_style =
            TextStyle::from((FAMILY, 14).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        for (k, p) in all.iter().enumerate() {
            let x0 = pad + (k % columns) * box_w;
            let y0 = title_h + (k / columns) * box_h;
            for y in 0..p.h {
                for x in 0..p.w {
                    let at = (y * p.w + x) * p.c;
                    let level = |v: f64| {
                        let v = if v.is_finite() { (v - lo) / span } else { 0.0 };
                        (v.clamp(0.0, 1.0) * 255.0).round() as u8
                    };
                    let color = if p.c == 1 {
                        let g = 255 - level(p.values[at]);
                        RGBColor(g, g, g)
                    } else {
                        RGBColor(
                            level(p.values[at]),
                            level(p.values[at + 1]),
                            level(p.values[at + 2]),
                        )
                    };
                    let (px, py) = ((x0 + x * scale) as i32, (y0 + y * scale) as i32);
                    root.draw(&Rectangle::new(
                        [(px, py), (px + scale as i32, py + scale as i32)],
                        color.filled(),
                    ))
                    .map_err(|x| e(&x))?;
                }
            }
            let frame = [
                (x0 as i32 - 1, y0 as i32 - 1),
                ((x0 + p.w * scale) as i32, (y0 + p.h * scale) as i32),
            ];
            root.draw(&Rectangle::new(frame, RGBColor(200, 200, 200)))
                .map_err(|x| e(&x))?;
            if let Some(c) = captions.get(k) {
                let at = (
                    (x0 + p.w * scale / 2) as i32,
                    (y0 + cell_h * scale + 3) as i32,
                );
                root.draw(&Text::new(c.clone(), at, caption_style.clone()))
                    .map_err(|x| e(&x))?;
            }
        }
        root.present().map_err(|x| e(&x))?;
    }
    png.persist()
}
