//! [`FrameOptions`]: the choices a conversion to Arrow or Polars leaves open.

/// What to do with `bfloat16` components, which neither Arrow nor Polars has a type for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Bf16Policy {
    /// An [`Incompatible`](crate::ErrorKind::Incompatible) error naming the component (the default):
    /// cast to `float32` first if that is what you want.
    #[default]
    Error,
    /// Write the raw bits as `UInt16` (no copy), tagged with the field metadata
    /// `slicestream:dtype = bfloat16` so that slicestream reads them back as `bfloat16`. Other
    /// readers (pyarrow, polars) see plain `uint16`.
    Bits,
}

/// How `string` and `bytes` components reach polars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PolarsStrings {
    /// As `Utf8View` / `BinaryView` arrays built over the tensor's values buffer (the default):
    /// values longer than 12 bytes are not copied, shorter ones are inlined in the 16-byte views
    /// (Arrow's view layout), and building the views is one pass over the offsets.
    #[default]
    View,
    /// As `LargeUtf8` / `LargeBinary` arrays (the tensor's own buffers), which polars converts to
    /// its view layout by copying every value.
    Large,
}

/// Options of the conversions to Arrow record batches, Polars data frames and the file writers.
///
/// ```
/// use slicestream::frames::{Bf16Policy, FrameOptions};
/// let options = FrameOptions::default().with_bf16(Bf16Policy::Bits);
/// assert_eq!(options.bf16(), Bf16Policy::Bits);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FrameOptions {
    pub(crate) bf16: Bf16Policy,
    pub(crate) polars_strings: PolarsStrings,
}

impl FrameOptions {
    /// These options with `bfloat16` components handled by `policy`.
    pub fn with_bf16(mut self, policy: Bf16Policy) -> Self {
        self.bf16 = policy;
        self
    }

    /// These options with strings passed to polars as `layout`.
    pub fn with_polars_strings(mut self, layout: PolarsStrings) -> Self {
        self.polars_strings = layout;
        self
    }

    /// The `bfloat16` policy.
    pub fn bf16(&self) -> Bf16Policy {
        self.bf16
    }

    /// How strings reach polars.
    pub fn polars_strings(&self) -> PolarsStrings {
        self.polars_strings
    }

    pub(crate) fn polars_views(&self) -> bool {
        self.polars_strings == PolarsStrings::View
    }
}
