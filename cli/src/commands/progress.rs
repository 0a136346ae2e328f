//! A progress bar on stderr with elements/s and bytes/s (indicatif); hidden when stderr is not a
//! terminal, so pipes and tests see nothing of it.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Elements and bytes done so far, drawn at most a few times a second.
pub struct Progress {
    bar: ProgressBar,
    bytes: u64,
    start: Instant,
    drawn: Instant,
}

/// Bytes as KiB / MiB / GiB.
pub fn bytes_text(b: f64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = b;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

impl Progress {
    /// A bar out of `total` elements when known, else a spinner.
    pub fn new(total: Option<u64>) -> Self {
        let bar = match total {
            Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
        };
        let template = if total.is_some() {
            "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} elements, {msg} (eta {eta})"
        } else {
            "{spinner} [{elapsed_precise}] {human_pos} elements, {msg}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        let now = Instant::now();
        Progress {
            bar,
            bytes: 0,
            start: now,
            drawn: now,
        }
    }

    /// Counts `elements` more, of `bytes` bytes.
    pub fn add(&mut self, elements: u64, bytes: u64) {
        self.bytes += bytes;
        self.bar.inc(elements);
        if self.drawn.elapsed() >= Duration::from_millis(100) {
            self.drawn = Instant::now();
            let secs = self.start.elapsed().as_secs_f64().max(1e-9);
            let rate = self.bar.position() as f64 / secs;
            self.bar.set_message(format!(
                "{} elements/s, {}/s",
                crate::plot::human(rate),
                bytes_text(self.bytes as f64 / secs)
            ));
        }
    }

    /// Elements counted so far.
    pub fn elements(&self) -> u64 {
        self.bar.position()
    }

    /// Bytes counted so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Seconds since the start.
    pub fn seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
