//! One pass over a dataset: per component min / max / mean (lengths for strings and bytes), class
//! counts for scalar integer components, and the first elements.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use slicestream::{DType, Dataset, Element, Tensor};

use super::{interrupted, CliResult, Failure};

/// More distinct values than this and a component is not a class label.
const MAX_CLASSES: usize = 64;

/// What one component holds over the whole dataset.
#[derive(Debug, Clone)]
pub struct ComponentSummary {
    /// The component's path.
    pub path: String,
    /// Its dtype.
    pub dtype: DType,
    /// Values seen (lengths, for strings and bytes).
    pub count: u64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// The sum of the values.
    pub sum: f64,
    /// NaN values (not in min / max / mean).
    pub nan: u64,
    /// Counts per value, for integer and bool components counted as classes.
    pub classes: Option<BTreeMap<i64, u64>>,
}

impl ComponentSummary {
    fn new(path: String, dtype: DType, classes: bool) -> Self {
        ComponentSummary {
            path,
            dtype,
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: 0.0,
            nan: 0,
            classes: (classes && (dtype.is_integer() || dtype == DType::Bool)).then(BTreeMap::new),
        }
    }

    /// The mean value, if any value was seen.
    pub fn mean(&self) -> Option<f64> {
        (self.count > self.nan).then(|| self.sum / (self.count - self.nan) as f64)
    }

    fn add(&mut self, v: f64) {
        self.count += 1;
        if v.is_nan() {
            self.nan += 1;
            return;
        }
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += v;
    }

    fn add_class(&mut self, v: i64) {
        if let Some(c) = &mut self.classes {
            *c.entry(v).or_insert(0) += 1;
            if c.len() > MAX_CLASSES {
                self.classes = None;
            }
        }
    }

    fn add_tensor(&mut self, t: &Tensor) -> slicestream::Result<()> {
        macro_rules! each {
            ($ty:ty, $f:expr, $class:expr) => {{
                let f = $f;
                for v in t.as_slice::<$ty>()? {
                    self.add(f(*v));
                    if self.classes.is_some() {
                        self.add_class($class(*v));
                    }
                }
            }};
        }
        match t.dtype() {
            DType::Bool => each!(bool, |v: bool| f64::from(u8::from(v)), |v: bool| i64::from(
                v
            )),
            DType::U8 => each!(u8, f64::from, i64::from),
            DType::U16 => each!(u16, f64::from, i64::from),
            DType::U32 => each!(u32, f64::from, i64::from),
            DType::U64 => each!(u64, |v: u64| v as f64, |v: u64| i64::try_from(v)
                .unwrap_or(i64::MAX)),
            DType::I8 => each!(i8, f64::from, i64::from),
            DType::I16 => each!(i16, f64::from, i64::from),
            DType::I32 => each!(i32, f64::from, i64::from),
            DType::I64 => each!(i64, |v: i64| v as f64, |v: i64| v),
            DType::F16 => each!(half::f16, |v: half::f16| v.to_f64(), |_| 0i64),
            DType::BF16 => each!(half::bf16, |v: half::bf16| v.to_f64(), |_| 0i64),
            DType::F32 => each!(f32, f64::from, |_| 0i64),
            DType::F64 => each!(f64, |v: f64| v, |_| 0i64),
            DType::String | DType::Bytes => {
                for i in 0..t.num_elements() {
                    self.add(t.bytes_at(i)?.len() as f64);
                }
            }
        }
        Ok(())
    }

    /// As JSON: `{"path","dtype","count","min","max","mean","nan","classes"?}`.
    pub fn to_json(&self) -> Value {
        let num = |v: f64| if v.is_finite() { json!(v) } else { Value::Null };
        let mut o = json!({
            "path": self.path,
            "dtype": self.dtype.name(),
            "count": self.count,
            "min": num(self.min),
            "max": num(self.max),
            "mean": self.mean().map_or(Value::Null, num),
            "nan": self.nan,
        });
        if self.dtype.is_variable_width() {
            o["of"] = json!("lengths");
        }
        if let Some(c) = &self.classes {
            let counts: serde_json::Map<String, Value> =
                c.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
            o["classes"] = Value::Object(counts);
        }
        o
    }
}

/// A dataset's summary.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Elements seen.
    pub elements: u64,
    /// Bytes of the elements seen.
    pub bytes: u64,
    /// One summary per component, in the element's order.
    pub components: Vec<ComponentSummary>,
    /// The first elements.
    pub head: Vec<Element>,
}

/// What to gather.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// How many first elements to keep.
    pub head: usize,
    /// Count classes of every integer component, not only scalar ones.
    pub all_classes: bool,
    /// Stop after this many elements.
    pub limit: Option<u64>,
}

/// One pass over `ds` (element by element: any element shapes), stopping early on Ctrl-C.
pub fn summarize(ds: &Dataset, options: &Options) -> CliResult<Summary> {
    let spec = ds.element_spec()?;
    let components = spec
        .paths()
        .into_iter()
        .zip(spec.components())
        .map(|(path, s)| {
            let scalar = s.shape.iter().all(|d| *d == Some(1));
            ComponentSummary::new(path, s.dtype, scalar || options.all_classes)
        })
        .collect();
    let mut summary = Summary {
        elements: 0,
        bytes: 0,
        components,
        head: Vec::new(),
    };
    for element in ds.iter() {
        if interrupted() {
            return Err(Failure::Interrupted);
        }
        if options.limit.is_some_and(|l| summary.elements >= l) {
            break;
        }
        let element = element?;
        for (c, t) in summary.components.iter_mut().zip(element.components()) {
            c.add_tensor(t)
                .map_err(|e| e.with_component(c.path.clone()))?;
        }
        summary.elements += 1;
        summary.bytes += element.nbytes() as u64;
        if summary.head.len() < options.head {
            summary.head.push(element);
        }
    }
    Ok(summary)
}

/// A tensor in one short line: `uint8[8, 8] [0, 0, 5, 13, …]`.
pub fn short(t: &Tensor) -> String {
    const SHOW: usize = 10;
    let n = t.num_elements();
    let values: Vec<String> = if t.dtype().is_variable_width() {
        (0..n.min(SHOW))
            .map(|i| match t.bytes_at(i) {
                Ok(b) if t.dtype() == DType::String => format!("{:?}", String::from_utf8_lossy(b)),
                Ok(b) if b.len() > 16 => format!("<{} bytes>", b.len()),
                Ok(b) => format!("b{:?}", String::from_utf8_lossy(b)),
                Err(_) => "?".into(),
            })
            .collect()
    } else {
        let json = crate::pipeline_file::encoding::tensor_to_json(t);
        let mut flat = Vec::new();
        flatten(&json["values"], &mut flat, SHOW + 1);
        flat.into_iter().take(SHOW).collect()
    };
    let more = if n > SHOW { ", …" } else { "" };
    let shape = t
        .shape()
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if t.rank() == 0 {
        values.first().cloned().unwrap_or_default()
    } else {
        format!("{}[{shape}] [{}{more}]", t.dtype(), values.join(", "))
    }
}

fn flatten(v: &Value, out: &mut Vec<String>, max: usize) {
    if out.len() >= max {
        return;
    }
    match v {
        Value::Array(items) => items.iter().for_each(|i| flatten(i, out, max)),
        other => out.push(other.to_string()),
    }
}
