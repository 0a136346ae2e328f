//! The NPY header: magic, version, header length and the Python-literal dict
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`, read and written as `np.save` does.

use super::literal::{format_at, Lit, Parser};
use crate::error::{Error, Result};
use crate::tensor::DType;

/// The six bytes every NPY file starts with.
pub(crate) const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// numpy aligns the data (magic + length + header) to this many bytes.
const ARRAY_ALIGN: usize = 64;
/// numpy pads the header so that the growth axis can take this many digits in place.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// The descrs this crate reads (each also with `>`, big-endian, converted on read).
pub const SUPPORTED_DESCRS: &str =
    "|b1, |u1, |i1, <u2, <u4, <u8, <i2, <i4, <i8, <f2, <f4, <f8 (and '>' big-endian forms of the multi-byte ones)";

/// The byte order of a file's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Least significant byte first (`<`): what numpy writes on every common machine.
    Little,
    /// Most significant byte first (`>`).
    Big,
}

impl ByteOrder {
    /// The byte order of this machine.
    pub const NATIVE: ByteOrder = if cfg!(target_endian = "big") {
        ByteOrder::Big
    } else {
        ByteOrder::Little
    };
}

/// What an NPY header says: format version, dtype, layout, shape and where the data lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    pub(crate) version: (u8, u8),
    pub(crate) descr: String,
    pub(crate) dtype: DType,
    pub(crate) byte_order: ByteOrder,
    pub(crate) fortran_order: bool,
    pub(crate) shape: Vec<usize>,
    pub(crate) data_offset: usize,
    pub(crate) data_len: usize,
}

impl NpyHeader {
    /// The format version: `(1, 0)`, `(2, 0)` or `(3, 0)`.
    pub fn version(&self) -> (u8, u8) {
        self.version
    }

    /// numpy's dtype string as written in the file, e.g. `"<f4"` or `"|u1"`.
    pub fn descr(&self) -> &str {
        &self.descr
    }

    /// The dtype of the values.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The byte order of the values in the file (one-byte dtypes report [`ByteOrder::NATIVE`]).
    pub fn byte_order(&self) -> ByteOrder {
        self.byte_order
    }

    /// Whether the values are stored in Fortran (column-major) order.
    pub fn fortran_order(&self) -> bool {
        self.fortran_order
    }

    /// The shape (empty for a 0-d array).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The byte offset of the first value: magic, version, length and header text included.
    pub fn data_offset(&self) -> usize {
        self.data_offset
    }

    /// The number of data bytes: values times item size.
    pub fn data_len(&self) -> usize {
        self.data_len
    }
}

/// Where the header text starts and how long it is, from the first bytes of a file.
pub(crate) struct Preamble {
    pub version: (u8, u8),
    pub header_start: usize,
    pub header_len: usize,
}

/// Reads magic, version and header length; `bytes` may be just the first 12 bytes of the file.
pub(crate) fn parse_preamble(bytes: &[u8]) -> Result<Preamble> {
    if bytes.is_empty() {
        return Err(format_at(
            0,
            "empty file: an NPY file starts with the magic \\x93NUMPY".into(),
        ));
    }
    let n = bytes.len().min(MAGIC.len());
    if bytes[..n] != MAGIC[..n] {
        return Err(format_at(
            0,
            format!(
                "bad magic: an NPY file starts with \\x93NUMPY, this one with \"{}\"",
                bytes[..n].escape_ascii()
            ),
        ));
    }
    if bytes.len() < 8 {
        return Err(format_at(
            bytes.len(),
            format!(
                "file ends after {} bytes, before the NPY version",
                bytes.len()
            ),
        ));
    }
    let version = (bytes[6], bytes[7]);
    let len_size = match version {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        (a, b) => {
            return Err(format_at(
                6,
                format!("unsupported NPY format version {a}.{b}; supported: 1.0, 2.0, 3.0"),
            ))
        }
    };
    let header_start = 8 + len_size;
    if bytes.len() < header_start {
        return Err(format_at(
            bytes.len(),
            format!(
                "file ends after {} bytes, within the NPY header length",
                bytes.len()
            ),
        ));
    }
    let header_len = if len_size == 2 {
        u16::from_le_bytes([bytes[8], bytes[9]]) as usize
    } else {
        u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize
    };
    Ok(Preamble {
        version,
        header_start,
        header_len,
    })
}

/// Parses the header of an NPY file. `bytes` holds at least the preamble and header text;
/// `total_len` is the length of the whole file, which must hold the data the header announces.
pub(crate) fn parse_header(bytes: &[u8], total_len: usize) -> Result<NpyHeader> {
    let pre = parse_preamble(bytes)?;
    let end = pre
        .header_start
        .checked_add(pre.header_len)
        .filter(|&e| e <= total_len.min(bytes.len()));
    let Some(data_offset) = end else {
        return Err(format_at(
            8,
            format!(
                "header says it is {} bytes long (to byte {}), but the file ends at byte {}",
                pre.header_len,
                pre.header_start as u64 + pre.header_len as u64,
                total_len.min(bytes.len())
            ),
        ));
    };
    let text = &bytes[pre.header_start..data_offset];
    if pre.version == (3, 0) {
        if let Err(e) = std::str::from_utf8(text) {
            return Err(format_at(
                pre.header_start + e.valid_up_to(),
                "a version 3.0 header must be UTF-8".into(),
            ));
        }
    }
    let mut parser = Parser::new(text, pre.header_start);
    let dict = parser.parse_dict_header()?;
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (key, key_at, value) in dict {
        let at = pre.header_start + key_at;
        match key.as_str() {
            "descr" => descr = Some((value, at)),
            "fortran_order" => fortran = Some((value, at)),
            "shape" => shape = Some((value, at)),
            other => {
                return Err(format_at(
                    at,
                    format!("unexpected key {other:?} in the NPY header; it has only 'descr', 'fortran_order', 'shape'"),
                ))
            }
        }
    }
    let missing = |k: &str| format_at(pre.header_start, format!("the NPY header has no {k:?} key"));
    let (descr, descr_at) = descr.ok_or_else(|| missing("descr"))?;
    let (fortran, fortran_at) = fortran.ok_or_else(|| missing("fortran_order"))?;
    let (shape, shape_at) = shape.ok_or_else(|| missing("shape"))?;

    let descr_text = match descr {
        Lit::Str(s) => s,
        other => {
            return Err(format_at(
                descr_at,
                format!(
                    "unsupported NPY dtype {} (structured); supported: {SUPPORTED_DESCRS}",
                    other.render()
                ),
            ))
        }
    };
    let (dtype, byte_order) =
        parse_descr(&descr_text).map_err(|e| e.with_byte_offset(descr_at as u64))?;
    let fortran_order = match fortran {
        Lit::Bool(b) => b,
        other => {
            return Err(format_at(
                fortran_at,
                format!(
                    "'fortran_order' must be True or False, not {}",
                    other.render()
                ),
            ))
        }
    };
    let dims = match shape {
        Lit::Tuple(items) => items,
        other => {
            return Err(format_at(
                shape_at,
                format!(
                    "'shape' must be a tuple of integers, not {}",
                    other.render()
                ),
            ))
        }
    };
    let mut shape = Vec::with_capacity(dims.len());
    for d in &dims {
        match d {
            Lit::Int(v) if *v >= 0 && *v <= usize::MAX as i128 => shape.push(*v as usize),
            other => {
                return Err(format_at(
                    shape_at,
                    format!("'shape' dimension {} is not a size (a non-negative integer that fits in memory)", other.render()),
                ))
            }
        }
    }
    // Like numpy, the size must fit even ignoring zero dimensions: an empty (0, 2**40, 2**40)
    // array would still overflow every row-length computation.
    let item = dtype.item_size().unwrap_or(1);
    let nonzero_len = shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(item, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            format_at(
                shape_at,
                format!("shape {shape:?} of {dtype} has more bytes than fit in memory (the product overflows)"),
            )
        })?;
    let data_len = if shape.contains(&0) { 0 } else { nonzero_len };
    if data_offset
        .checked_add(data_len)
        .is_none_or(|end| end > total_len)
    {
        return Err(format_at(
            data_offset,
            format!(
                "file is shorter than its header says: shape {shape:?} of {dtype} needs {data_len} data bytes from byte {data_offset}, but the file ends at byte {total_len}"
            ),
        ));
    }
    Ok(NpyHeader {
        version: pre.version,
        descr: descr_text,
        dtype,
        byte_order,
        fortran_order,
        shape,
        data_offset,
        data_len,
    })
}

/// The dtype and byte order of a numpy type string such as `<f4`, or an error naming it.
pub(crate) fn parse_descr(descr: &str) -> Result<(DType, ByteOrder)> {
    let unsupported = |what: &str| {
        Error::format(format!(
            "unsupported NPY dtype {descr:?}{what}; supported: {SUPPORTED_DESCRS}"
        ))
    };
    let bytes = descr.as_bytes();
    let (order, code) = match bytes.first() {
        Some(b'<') => (Some(ByteOrder::Little), &descr[1..]),
        Some(b'>') => (Some(ByteOrder::Big), &descr[1..]),
        Some(b'|') | Some(b'=') => (None, &descr[1..]),
        _ => (None, descr),
    };
    let dtype = match code {
        "b1" | "?" => DType::Bool,
        "u1" => DType::U8,
        "i1" => DType::I8,
        "u2" => DType::U16,
        "u4" => DType::U32,
        "u8" => DType::U64,
        "i2" => DType::I16,
        "i4" => DType::I32,
        "i8" => DType::I64,
        "f2" => DType::F16,
        "f4" => DType::F32,
        "f8" => DType::F64,
        _ => {
            let kind = match code.as_bytes().first() {
                Some(b'c') => " (complex)",
                Some(b'O') => " (Python objects)",
                Some(b'U') => " (unicode text)",
                Some(b'S') | Some(b'a') => " (byte strings)",
                Some(b'V') => " (raw void)",
                Some(b'M') => " (datetime)",
                Some(b'm') => " (timedelta)",
                Some(b'f') => " (float of an unsupported width)",
                Some(b'i') | Some(b'u') => " (integer of an unsupported width)",
                _ => "",
            };
            return Err(unsupported(kind));
        }
    };
    let one_byte = dtype.item_size() == Some(1);
    let order = if one_byte {
        ByteOrder::NATIVE
    } else {
        order.unwrap_or(ByteOrder::NATIVE)
    };
    Ok((dtype, order))
}

/// numpy's type string for `dtype` in this machine's byte order, or an error for dtypes numpy
/// files cannot hold here (`bfloat16`, strings, bytes).
pub(crate) fn descr_of(dtype: DType) -> Result<String> {
    let code = match dtype {
        DType::Bool => return Ok("|b1".into()),
        DType::U8 => return Ok("|u1".into()),
        DType::I8 => return Ok("|i1".into()),
        DType::U16 => "u2",
        DType::U32 => "u4",
        DType::U64 => "u8",
        DType::I16 => "i2",
        DType::I32 => "i4",
        DType::I64 => "i8",
        DType::F16 => "f2",
        DType::F32 => "f4",
        DType::F64 => "f8",
        DType::BF16 | DType::String | DType::Bytes => {
            return Err(Error::invalid_argument(format!(
                "{dtype} tensors cannot be written as NPY; supported: bool, uint8..uint64, int8..int64, float16, float32, float64"
            )))
        }
    };
    let order = if ByteOrder::NATIVE == ByteOrder::Big {
        '>'
    } else {
        '<'
    };
    Ok(format!("{order}{code}"))
}

/// The header `np.save` writes for a C-order array of `dtype` and `shape`, byte for byte: magic,
/// version (1.0, or 2.0 when the header does not fit 65,535 bytes), length, the dict text with
/// numpy's room for a 21-digit growth axis, spaces to a multiple of 64 bytes, and `'\n'`.
///
/// Its length does not depend on the first dimension (numpy's growth-axis padding), which is what
/// lets [`super::NpyWriter`] write the final header in place.
pub(crate) fn encode_header(dtype: DType, shape: &[usize]) -> Result<Vec<u8>> {
    let descr = descr_of(dtype)?;
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = match dims.len() {
        0 => "()".to_string(),
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut text =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    if let Some(first) = dims.first() {
        text.push_str(&" ".repeat(GROWTH_AXIS_MAX_DIGITS.saturating_sub(first.len())));
    }
    let hlen = text.len() + 1;
    let pad = |prefix: usize| ARRAY_ALIGN - (prefix + hlen) % ARRAY_ALIGN;
    let (version, len_bytes, padlen) = if hlen + pad(10) <= u16::MAX as usize {
        (
            (1u8, 0u8),
            ((hlen + pad(10)) as u16).to_le_bytes().to_vec(),
            pad(10),
        )
    } else {
        let total = u32::try_from(hlen + pad(12)).map_err(|_| {
            Error::invalid_argument(format!("an NPY header for shape {shape:?} is too long"))
        })?;
        ((2, 0), total.to_le_bytes().to_vec(), pad(12))
    };
    let mut out = Vec::with_capacity(12 + hlen + padlen);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[version.0, version.1]);
    out.extend_from_slice(&len_bytes);
    out.extend_from_slice(text.as_bytes());
    out.resize(out.len() + padlen, b' ');
    out.push(b'\n');
    Ok(out)
}
