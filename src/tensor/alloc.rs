//! Allocations whose size comes from input, an argument or a length field: overflow-checked
//! arithmetic, a ceiling at the machine's memory, then a fallible reservation. An absurd size is a
//! typed [`ErrorKind::TooLarge`] error that names the bytes asked for and what asked, never an abort.
//!
//! The ceiling is needed beside `try_reserve`: an allocator that maps memory lazily (mimalloc, which
//! the command line uses, or glibc with overcommit) grants a reservation of terabytes, and the
//! process is killed when the pages are touched. TensorFlow raises `ResourceExhaustedError` for the
//! same requests and the process lives.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use arrow_buffer::Buffer;

use crate::error::{Error, Result};

/// A ceiling set by [`set_allocation_limit`] (0: none).
static SET_LIMIT: AtomicUsize = AtomicUsize::new(0);

/// The most bytes one allocation sized by input may ask for: the machine's physical memory (or the
/// memory limit of the process's cgroup, when lower; read once per process), or less if
/// [`set_allocation_limit`] says so.
pub fn allocation_limit() -> usize {
    static MACHINE: OnceLock<usize> = OnceLock::new();
    let machine = *MACHINE.get_or_init(|| {
        let physical = physical_memory().unwrap_or(isize::MAX as usize);
        cgroup_limit().map_or(physical, |c| c.min(physical))
    });
    match SET_LIMIT.load(Ordering::Relaxed) {
        0 => machine,
        set => set.min(machine),
    }
}

/// Lowers the ceiling of [`allocation_limit`] for the whole process (`0`: back to the machine's
/// memory): a service that decodes untrusted files can refuse, say, any tensor over 1 GiB that a
/// few bytes of input ask for. The fuzz targets run with one.
pub fn set_allocation_limit(bytes: usize) {
    SET_LIMIT.store(bytes, Ordering::Relaxed);
}

/// `MemTotal` of `/proc/meminfo`, in bytes (Linux; `None` elsewhere).
fn physical_memory() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The cgroup v2 `memory.max` of this process, when it is a number.
fn cgroup_limit() -> Option<usize> {
    std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The error for `bytes` (`None`: the size overflows) asked for by `what`.
pub fn too_large(what: &str, bytes: Option<usize>) -> Error {
    let text = match bytes {
        Some(b) => format!(
            "{what} needs {b} bytes, more than can be allocated (this machine has {} bytes of memory)",
            allocation_limit()
        ),
        None => format!("{what} needs more bytes than fit in a memory address"),
    };
    Error::too_large(bytes).with_context(text)
}

/// `count * item` bytes for `what`, checked for overflow and against [`allocation_limit`].
pub fn bytes_for(count: usize, item: usize, what: &str) -> Result<usize> {
    let bytes = count
        .checked_mul(item)
        .ok_or_else(|| too_large(what, None))?;
    check(bytes, what)?;
    Ok(bytes)
}

/// Errors when `bytes` is more than [`allocation_limit`].
pub fn check(bytes: usize, what: &str) -> Result<()> {
    if bytes > allocation_limit() {
        return Err(too_large(what, Some(bytes)));
    }
    Ok(())
}

/// An empty `Vec` with room for `capacity` values, allocated fallibly after the checks above.
pub fn try_vec<T>(capacity: usize, what: &str) -> Result<Vec<T>> {
    let bytes = bytes_for(capacity, std::mem::size_of::<T>().max(1), what)?;
    let mut v = Vec::new();
    v.try_reserve_exact(capacity)
        .map_err(|_| too_large(what, Some(bytes)))?;
    Ok(v)
}

/// A `Vec` of `len` copies of `value`, allocated fallibly after the checks above.
pub fn try_filled<T: Clone>(len: usize, value: T, what: &str) -> Result<Vec<T>> {
    let mut v = try_vec(len, what)?;
    v.resize(len, value);
    Ok(v)
}

/// A buffer of `count` copies of `item` (1, 2, 4 or 8 bytes: one fixed-width value), aligned to
/// 8 bytes so that every dtype can be read from it, allocated fallibly after the checks above.
pub fn try_repeated(item: &[u8], count: usize, what: &str) -> Result<Buffer> {
    let width = item.len();
    if !matches!(width, 1 | 2 | 4 | 8) {
        return Err(Error::invalid_argument(format!(
            "{what}: a value of {width} bytes is not a fixed-width dtype's"
        )));
    }
    let bytes = bytes_for(count, width, what)?;
    // Eight bytes of the pattern make one word; every word of the buffer is that word.
    let mut pattern = [0u8; 8];
    for (i, b) in pattern.iter_mut().enumerate() {
        *b = item[i % width];
    }
    let words = try_filled(bytes.div_ceil(8), u64::from_ne_bytes(pattern), what)?;
    Ok(Buffer::from_vec(words).slice_with_length(0, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn sizes_beyond_memory_are_errors_that_say_what_asked() {
        let e = try_vec::<u64>(1 << 40, "a test buffer").unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::TooLarge { .. }));
        assert!(
            e.to_string()
                .contains("a test buffer needs 8796093022208 bytes"),
            "{e}"
        );
        let e = bytes_for(usize::MAX, 2, "an overflow").unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::TooLarge { bytes } if *bytes == usize::MAX));
        assert_eq!(try_filled(3, 7u8, "three").unwrap(), vec![7, 7, 7]);
        assert!(allocation_limit() > 1 << 20);
        let b = try_repeated(&[1, 2], 3, "pairs").unwrap();
        assert_eq!(b.as_slice(), &[1, 2, 1, 2, 1, 2]);
        assert_eq!(b.as_ptr() as usize % 8, 0);
        assert!(try_repeated(&[0; 8], 1 << 60, "huge").is_err());
        // A lower ceiling holds until it is lifted.
        set_allocation_limit(1 << 20);
        assert!(try_vec::<u8>(2 << 20, "two MiB").is_err());
        assert!(try_vec::<u8>(1 << 19, "half a MiB").is_ok());
        set_allocation_limit(0);
        assert!(try_vec::<u8>(2 << 20, "two MiB").is_ok());
    }
}
