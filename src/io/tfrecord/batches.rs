//! `Dataset::from_tfrecord_example_batches`: TFRecord files of `tf.train.Example`s read as batches
//! and parsed in parallel on the pipeline's pool (tf.data's `make_batched_features_dataset`,
//! without its shuffling and repeating).
//!
//! The consumer's thread only frames records: an uncompressed file is memory-mapped and walked
//! header by header (each length CRC checked, each length checked against the file's size); a
//! compressed one is decompressed record by record. Each batch of `batch_size` record locations is
//! then a task on the pool, which checks the data CRCs and parses the records straight from the
//! mapped bytes into the batch's column buffers. Results come back in order; at most two tasks per
//! pool thread are in flight.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossbeam_channel::{unbounded, Receiver, Sender};
use memmap2::Mmap;

use super::framing::{check_data_crc, read_header, At, FOOTER_BYTES, HEADER_BYTES};
use super::{Compression, FeatureDescription, TfRecordReader};
use crate::dataset::{Cardinality, Context, Dataset, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::{Error, ErrorKind, Result};
use crate::io::FaultFile;

/// Where one record's data is.
struct Loc {
    start: usize,
    len: usize,
    index: u64,
    offset: u64,
}

/// Records of one file within a batch: their bytes (a mapped file, or records copied out of a
/// compressed stream, CRCs already checked) and where each is.
struct Part {
    bytes: Arc<dyn AsRef<[u8]> + Send + Sync>,
    path: Arc<Path>,
    compression: Compression,
    crc_checked: bool,
    records: Vec<Loc>,
}

/// One file being framed.
enum Input {
    Mapped {
        map: Arc<Mmap>,
        path: Arc<Path>,
        pos: usize,
        index: u64,
    },
    Stream {
        reader: TfRecordReader,
        path: Arc<Path>,
    },
}

/// Opens a file for framing; an empty file maps to nothing.
fn open_input(path: &Path, compression: Compression) -> Result<Option<Input>> {
    let shared: Arc<Path> = Arc::from(path);
    if compression != Compression::None {
        let reader = TfRecordReader::open(path, compression)?;
        return Ok(Some(Input::Stream {
            reader,
            path: shared,
        }));
    }
    let file = FaultFile::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::not_found(format!("TFRecord file {}", path.display()))
                .with_source(e)
                .with_file(path)
        } else {
            Error::io(e, path)
        }
    })?;
    let len = file.metadata().map_err(|e| Error::io(e, path))?.len();
    if len == 0 {
        return Ok(None);
    }
    // SAFETY: the map is read-only and private to this reader; as for memory-mapped NPY files,
    // the file must not be truncated or rewritten while it is read (the documented contract of
    // `from_tfrecord_example_batches`).
    let file = file.for_mapping().map_err(|e| Error::io(e, path))?;
    let map = unsafe { Mmap::map(file) }.map_err(|e| Error::io(e, path))?;
    Ok(Some(Input::Mapped {
        map: Arc::new(map),
        path: shared,
        pos: 0,
        index: 0,
    }))
}

struct Framer {
    paths: Arc<[PathBuf]>,
    compression: Compression,
    next_file: usize,
    input: Option<Input>,
}

impl Framer {
    /// Locates the next record of a mapped file: `Ok(None)` at its end.
    fn next_mapped(map: &[u8], pos: &mut usize, index: &mut u64) -> Result<Option<Loc>> {
        if *pos == map.len() {
            return Ok(None);
        }
        let at = At {
            index: *index,
            offset: *pos as u64,
            compression: Compression::None,
        };
        let rest = &map[*pos..];
        let remaining = rest.len().saturating_sub(HEADER_BYTES) as u64;
        let len = read_header(&rest[..rest.len().min(HEADER_BYTES)], at, Some(remaining))?;
        // `read_header` checked that the data and its CRC lie within the map, so these fit.
        let loc = Loc {
            start: *pos + HEADER_BYTES,
            len: len as usize,
            index: *index,
            offset: *pos as u64,
        };
        *pos += HEADER_BYTES + len as usize + FOOTER_BYTES;
        *index += 1;
        Ok(Some(loc))
    }

    /// Up to `n` more records, across files; empty at the end. An error after some records comes
    /// with them.
    fn next_batch(&mut self, n: usize) -> (Vec<Part>, usize, Option<Error>) {
        let mut parts: Vec<Part> = Vec::new();
        let mut got = 0;
        while got < n {
            let input = match &mut self.input {
                Some(i) => i,
                None => {
                    let Some(path) = self.paths.get(self.next_file) else {
                        break;
                    };
                    self.next_file += 1;
                    match open_input(path, self.compression) {
                        Ok(Some(i)) => self.input.insert(i),
                        Ok(None) => continue,
                        Err(e) => return (parts, got, Some(e)),
                    }
                }
            };
            let (part, error, done) = match input {
                Input::Mapped {
                    map,
                    path,
                    pos,
                    index,
                } => {
                    let mut records = Vec::new();
                    let mut error = None;
                    let mut done = false;
                    while got + records.len() < n {
                        match Self::next_mapped(map, pos, index) {
                            Ok(Some(loc)) => records.push(loc),
                            Ok(None) => {
                                done = true;
                                break;
                            }
                            Err(e) => {
                                error = Some(
                                    e.with_file(&**path)
                                        .with_record(*index)
                                        .with_byte_offset(*pos as u64),
                                );
                                break;
                            }
                        }
                    }
                    let bytes: Arc<dyn AsRef<[u8]> + Send + Sync> = map.clone();
                    let part = Part {
                        bytes,
                        path: path.clone(),
                        compression: Compression::None,
                        crc_checked: false,
                        records,
                    };
                    (part, error, done)
                }
                Input::Stream { reader, path } => {
                    let mut data = Vec::new();
                    let mut records = Vec::new();
                    let mut error = None;
                    let mut done = false;
                    while got + records.len() < n {
                        match reader.next_record() {
                            Ok(Some(r)) => {
                                records.push(Loc {
                                    start: data.len(),
                                    len: r.data.len(),
                                    index: r.index,
                                    offset: r.offset,
                                });
                                data.extend_from_slice(&r.data);
                            }
                            Ok(None) => {
                                done = true;
                                break;
                            }
                            Err(e) => {
                                error = Some(e);
                                break;
                            }
                        }
                    }
                    let part = Part {
                        bytes: Arc::new(data),
                        path: path.clone(),
                        compression: self.compression,
                        crc_checked: true,
                        records,
                    };
                    (part, error, done)
                }
            };
            got += part.records.len();
            if !part.records.is_empty() {
                parts.push(part);
            }
            if error.is_some() {
                self.input = None;
                self.next_file = self.paths.len();
                return (parts, got, error);
            }
            if done {
                self.input = None;
            }
        }
        (parts, got, None)
    }
}

/// Checks the data CRCs (where not yet checked) and parses a batch. A bad record gives the batch of
/// the records before it (when there are any) and then its error.
fn parse_parts(features: &FeatureDescription, parts: &[Part], rows: usize) -> Vec<Result<Element>> {
    let locs = || {
        parts
            .iter()
            .flat_map(|p| p.records.iter().map(move |l| (p, l)))
    };
    let records = |n: usize| {
        locs().take(n).map(|(p, l)| {
            let bytes = (*p.bytes).as_ref();
            let data = &bytes[l.start..l.start + l.len];
            if !p.crc_checked {
                let footer = &bytes[l.start + l.len..l.start + l.len + FOOTER_BYTES];
                let at = At {
                    index: l.index,
                    offset: l.offset,
                    compression: p.compression,
                };
                check_data_crc(data, footer, at)?;
            }
            Ok(data)
        })
    };
    let failed = std::cell::Cell::new(None);
    let where_ = |i: usize, e: Error| {
        failed.set(Some(i));
        match locs().nth(i) {
            Some((p, l)) => e
                .with_file(&*p.path)
                .with_record(l.index)
                .with_byte_offset(l.offset),
            None => e,
        }
    };
    match features.parse_many(rows, records(rows), where_) {
        Ok(batch) => vec![Ok(batch)],
        Err(e) => match failed.get() {
            Some(i) if i > 0 => vec![features.parse_many(i, records(i), |_, e| e), Err(e)],
            _ => vec![Err(e)],
        },
    }
}

struct Batches {
    framer: Framer,
    features: Arc<FeatureDescription>,
    batch_size: usize,
    drop_remainder: bool,
    pool: Arc<rayon::ThreadPool>,
    max_in_flight: usize,
    tx: Sender<(u64, Vec<Result<Element>>)>,
    rx: Receiver<(u64, Vec<Result<Element>>)>,
    ready: BTreeMap<u64, VecDeque<Result<Element>>>,
    in_flight: usize,
    next_seq: u64,
    next_out: u64,
    framing_done: bool,
    /// A framing error, yielded once every batch before it is out.
    pending: Option<Error>,
    yielded: u64,
    done: bool,
}

impl Batches {
    fn submit(&mut self) {
        while !self.framing_done && self.in_flight < self.max_in_flight {
            let (parts, rows, error) = self.framer.next_batch(self.batch_size);
            if error.is_some() || rows < self.batch_size {
                self.framing_done = true;
                self.pending = error;
            }
            if rows == 0
                || (rows < self.batch_size && self.drop_remainder && self.pending.is_none())
            {
                break;
            }
            let (seq, tx, features) = (self.next_seq, self.tx.clone(), self.features.clone());
            self.next_seq += 1;
            self.in_flight += 1;
            self.pool.spawn(move || {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    parse_parts(&features, &parts, rows)
                }))
                .unwrap_or_else(|_| {
                    vec![Err(Error::new(ErrorKind::WorkerPanicked(
                        "a worker panicked while parsing Examples".into(),
                    )))]
                });
                let _ = tx.send((seq, result));
            });
        }
    }

    fn step(&mut self) -> Option<Result<Element>> {
        loop {
            if let Some(results) = self.ready.get_mut(&self.next_out) {
                if let Some(r) = results.pop_front() {
                    return Some(r);
                }
                self.ready.remove(&self.next_out);
                self.next_out += 1;
                self.in_flight -= 1;
                continue;
            }
            self.submit();
            if self.in_flight == 0 {
                return self.pending.take().map(Err);
            }
            match self.rx.recv() {
                Ok((seq, r)) => {
                    self.ready.insert(seq, r.into());
                }
                Err(_) => {
                    return Some(Err(Error::new(ErrorKind::ProducerGone)
                        .with_context("the parsing tasks went away")))
                }
            }
        }
    }
}

impl Iterator for Batches {
    type Item = Result<Element>;

    fn next(&mut self) -> Option<Result<Element>> {
        if self.done {
            return None;
        }
        let index = self.yielded;
        let item = self.step();
        self.yielded += 1;
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item.map(|r| {
            r.map_err(|e| {
                e.with_stage("from_tfrecord_example_batches")
                    .with_element(index)
            })
        })
    }
}

struct ExampleBatchSource {
    paths: Arc<[PathBuf]>,
    compression: Compression,
    features: Arc<FeatureDescription>,
    batch_size: usize,
    drop_remainder: bool,
}

impl Node for ExampleBatchSource {
    fn name(&self) -> &'static str {
        "from_tfrecord_example_batches"
    }

    fn spec(&self) -> Result<ElementSpec> {
        let batch = self.drop_remainder.then_some(self.batch_size);
        self.features
            .element_spec()
            .map_components(|s| Ok(s.batched(batch)))
    }

    fn cardinality(&self) -> Cardinality {
        Cardinality::Unknown
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let pool = ctx.runtime.pool()?;
        let (tx, rx) = unbounded();
        Ok(Stream::elements(Batches {
            framer: Framer {
                paths: self.paths.clone(),
                compression: self.compression,
                next_file: 0,
                input: None,
            },
            features: self.features.clone(),
            batch_size: self.batch_size,
            drop_remainder: self.drop_remainder,
            pool,
            max_in_flight: 2 * ctx.runtime.num_threads().max(1),
            tx,
            rx,
            ready: BTreeMap::new(),
            in_flight: 0,
            next_seq: 0,
            next_out: 0,
            framing_done: false,
            pending: None,
            yielded: 0,
            done: false,
        }))
    }
}

impl Dataset {
    /// Batches of parsed `tf.train.Example`s from TFRecord files: `from_tfrecord(..).batch(n)`
    /// followed by `parse_example` on each batch, done in one pass (tf.data's
    /// `make_batched_features_dataset`, without shuffling or repeating). Each element is a dict of
    /// components `[n, ...shape]`, one per feature; batches span files; the last one is shorter
    /// unless `drop_remainder`.
    ///
    /// Parsing runs in parallel on the pipeline's pool ([`crate::runtime::Options::with_num_threads`]),
    /// straight from the file's bytes: uncompressed files are memory-mapped (they must not be
    /// truncated or rewritten while read), compressed ones decompressed on the consumer's thread.
    /// Batches come in file order. Both CRCs of every record are checked.
    ///
    /// Errors now for a `batch_size` of 0 or a var-len feature (a batch of them is ragged: use
    /// [`Dataset::from_tfrecord_examples`] and [`Dataset::padded_batch`]). Iterating, a bad
    /// record ends the epoch after the batches before it, with the error
    /// [`Dataset::from_tfrecord_examples`] gives (file, record index, byte offset); a partial batch
    /// of the good records before it comes first.
    pub fn from_tfrecord_example_batches<P: Into<PathBuf>>(
        paths: impl IntoIterator<Item = P>,
        compression: Compression,
        features: FeatureDescription,
        batch_size: usize,
        drop_remainder: bool,
    ) -> Result<Dataset> {
        const STAGE: &str = "from_tfrecord_example_batches";
        if batch_size == 0 {
            return Err(
                Error::invalid_argument("batch_size must be greater than zero").with_stage(STAGE),
            );
        }
        features
            .check_fixed(STAGE)
            .map_err(|e| e.with_stage(STAGE))?;
        let paths: Vec<PathBuf> = paths.into_iter().map(Into::into).collect();
        if let Some(i) = paths.iter().position(|p| p.as_os_str().is_empty()) {
            return Err(Error::invalid_argument(format!(
                "path {i} of the TFRecord files is empty"
            ))
            .with_stage(STAGE));
        }
        Ok(Dataset::from_node(ExampleBatchSource {
            paths: paths.into(),
            compression,
            features: Arc::new(features),
            batch_size,
            drop_remainder,
        }))
    }
}
