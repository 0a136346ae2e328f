//! `tfrecord`: TFRecord framing, decompression and the record readers. The first input byte
//! selects: `% 3` the compression (none, GZIP, ZLIB); bit 7 the mode. Raw mode: the rest is the
//! file's bytes, read with `TfRecordReader::new` over a `Cursor`, `TfRecordReader::open` (a
//! temporary file), `Dataset::from_tfrecord`, `Dataset::from_tfrecord_examples` and
//! `Dataset::from_tfrecord_example_batches` (memory-mapped when uncompressed), every record read
//! until the end or the first error. Framed mode (so that the fuzzer gets past the CRCs): the rest
//! is records, each a length byte then that many bytes, written with `TfRecordWriter` in the
//! selected compression and read back by all the readers, which must give back exactly the records
//! written. Only `Ok`/`Err` may come out (and the framed round trip must hold).
#![no_main]

#[path = "common.rs"]
mod common;

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use slicestream::io::tfrecord::{Compression, TfRecordReader, TfRecordWriter};
use slicestream::Dataset;

fn read_all(reader: TfRecordReader) -> Result<Vec<Vec<u8>>, slicestream::Error> {
    let mut out = Vec::new();
    for r in reader {
        out.push(r?.data);
    }
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    common::limit_allocations();
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let compression = match sel % 3 {
        0 => Compression::None,
        1 => Compression::Gzip,
        _ => Compression::Zlib,
    };
    let framed = sel & 0x80 != 0;
    let path;
    let mut expected: Option<Vec<Vec<u8>>> = None;
    if framed {
        let mut records = Vec::new();
        let mut rest = rest;
        while let Some((&n, tail)) = rest.split_first() {
            let n = (n as usize).min(tail.len());
            records.push(tail[..n].to_vec());
            rest = &tail[n..];
        }
        let dir = std::env::temp_dir().join(format!("slicestream-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        path = dir.join("framed.tfrecord");
        let mut w = TfRecordWriter::create(&path, compression).expect("create a TFRecord file");
        for r in &records {
            w.write_record(r).expect("write a record");
        }
        w.finish().expect("finish a TFRecord file");
        expected = Some(records);
    } else {
        path = common::temp_file(rest, "tfrecord");
        let from_cursor = read_all(TfRecordReader::new(
            Cursor::new(rest.to_vec()),
            compression,
            "fuzz",
        ));
        let from_file = TfRecordReader::open(&path, compression).and_then(read_all);
        // The two readers differ only in what they know of the size: both succeed or both fail,
        // with the same records.
        match (&from_cursor, &from_file) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "cursor and file readers disagree"),
            (Err(_), Err(_)) => {}
            (a, b) => panic!(
                "cursor reader: {:?}, file reader: {:?}",
                a.as_ref().map(Vec::len),
                b.as_ref().map(Vec::len)
            ),
        }
    }
    if let Some(records) = &expected {
        let back = TfRecordReader::open(&path, compression)
            .and_then(read_all)
            .expect("read back what was written");
        assert_eq!(&back, records, "TFRecord round trip");
        let bytes = std::fs::read(&path).unwrap();
        let back = read_all(TfRecordReader::new(Cursor::new(bytes), compression, "fuzz"))
            .expect("read back (cursor)");
        assert_eq!(&back, records, "TFRecord round trip (cursor)");
    }
    if let Ok(ds) = Dataset::from_tfrecord([&path], compression) {
        let n = common::drain(&ds, 1_000_000);
        if let Some(records) = &expected {
            assert_eq!(n, records.len(), "from_tfrecord record count");
        }
    }
    if let Ok(ds) =
        Dataset::from_tfrecord_examples([&path], compression, common::example_features())
    {
        common::drain(&ds, 1_000_000);
    }
    if let Ok(ds) = Dataset::from_tfrecord_example_batches(
        [&path],
        compression,
        common::fixed_features(),
        2,
        false,
    ) {
        common::drain(&ds, 1_000_000);
    }
});
