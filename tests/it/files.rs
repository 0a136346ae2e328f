//! Several files as one dataset: globs, sharding by file, interleaving, every format's opener, and
//! the errors of each.

use std::path::{Path, PathBuf};

use slicestream::io::csv::CsvOptions;
use slicestream::io::files::{
    open_csv, open_npy, open_npz, open_tfrecord, open_tfrecord_examples, Files, FilesOptions,
};
use slicestream::io::sink::CsvSink;
use slicestream::io::sink::{NpySink, TfRecordSink};
use slicestream::io::tfrecord::{Compression, FeatureDescription, FeatureSpec};
use slicestream::{DType, Dataset, ErrorKind, Tensor};

/// Writes `files` NPY files of `per_file` int64 rows each: file f holds 100*f, 100*f+1, ….
fn npy_files(dir: &Path, files: usize, per_file: i64) -> Vec<PathBuf> {
    (0..files)
        .map(|f| {
            let path = dir.join(format!("part-{f:02}.npy"));
            let start = 100 * f as i64;
            Dataset::range(start, start + per_file, 1)
                .unwrap()
                .write_to(NpySink::with_files([("0", &path)]))
                .unwrap();
            path
        })
        .collect()
}

fn ints(ds: &Dataset) -> Vec<i64> {
    ds.iter()
        .map(|e| e.unwrap().component(0).unwrap().as_slice::<i64>().unwrap()[0])
        .collect()
}

#[test]
fn glob_lists_files_sorted_and_reads_them_in_order() {
    let dir = tempfile::tempdir().unwrap();
    npy_files(dir.path(), 3, 4);
    std::fs::write(dir.path().join("notes.txt"), "not data").unwrap();
    let files = Files::glob(&format!("{}/part-*.npy", dir.path().display())).unwrap();
    assert_eq!(files.len(), 3);
    let ds = Dataset::from_files(&files, FilesOptions::default(), open_npy()).unwrap();
    assert_eq!(
        ints(&ds),
        [0, 1, 2, 3, 100, 101, 102, 103, 200, 201, 202, 203]
    );
    let names = files.to_dataset().unwrap();
    let first = names.iter().next().unwrap().unwrap();
    assert!(first
        .component(0)
        .unwrap()
        .str_at(0)
        .unwrap()
        .ends_with("part-00.npy"));
}

#[test]
fn interleaving_files_follows_tf_data() {
    let dir = tempfile::tempdir().unwrap();
    let paths = npy_files(dir.path(), 3, 5);
    let options = FilesOptions::default()
        .with_cycle_length(2)
        .with_block_length(2);
    let ds = Dataset::from_files(&Files::new(&paths), options.clone(), open_npy()).unwrap();
    // tf.data: files 0 and 1 alternate two rows at a time; file 2 takes file 0's place when the
    // cycle comes back to it after file 0 ends.
    let want = [
        0, 1, 100, 101, 2, 3, 102, 103, 4, 104, 200, 201, 202, 203, 204,
    ];
    assert_eq!(ints(&ds), want);
    // The same through Dataset::interleave over file names.
    let by_name = Files::new(&paths)
        .to_dataset()
        .unwrap()
        .interleave(|e| Dataset::from_npy(e.component(0)?.str_at(0)?), 2, 2)
        .unwrap();
    assert_eq!(ints(&by_name), want);
    // Reading ahead on threads: the same order.
    let ahead =
        Dataset::from_files(&Files::new(&paths), options.with_read_ahead(3), open_npy()).unwrap();
    assert_eq!(ints(&ahead), want);
}

#[test]
fn sharding_by_file_gives_each_worker_its_own_files() {
    let dir = tempfile::tempdir().unwrap();
    let paths = npy_files(dir.path(), 5, 3);
    let files = Files::new(&paths);
    let mut seen = Vec::new();
    for worker in 0..2 {
        let mine = files.shard(2, worker).unwrap();
        assert_eq!(mine.len(), if worker == 0 { 3 } else { 2 });
        let ds = Dataset::from_files(&mine, FilesOptions::default(), open_npy()).unwrap();
        let got = ints(&ds);
        // Whole files only.
        for v in &got {
            assert_eq!((v / 100) as u64 % 2, worker);
        }
        seen.extend(got);
    }
    seen.sort();
    let mut all = ints(&Dataset::from_files(&files, FilesOptions::default(), open_npy()).unwrap());
    all.sort();
    assert_eq!(seen, all);
    let err = files.shard(6, 0).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidArgument(_)),
        "{err:?}"
    );
    assert!(files.shard(0, 0).is_err() && files.shard(2, 2).is_err());
    // Shuffled file order is a permutation, fixed by the seed.
    let s = files.shuffled(7);
    assert_eq!(s, files.shuffled(7));
    let mut sorted = s.paths().to_vec();
    sorted.sort();
    assert_eq!(sorted, files.paths());
}

#[test]
fn every_format_plugs_in() {
    let dir = tempfile::tempdir().unwrap();
    let base = Dataset::range(0, 10, 1).unwrap();
    let csv = [dir.path().join("a.csv"), dir.path().join("b.csv")];
    let tfr = [dir.path().join("a.tfrecord"), dir.path().join("b.tfrecord")];
    let npz = [dir.path().join("a.npz")];
    for (k, (c, t)) in csv.iter().zip(&tfr).enumerate() {
        let part = base.shard(2, k as u64).unwrap();
        part.write_to(CsvSink::create(c)).unwrap();
        part.write_to(TfRecordSink::create(t, Compression::Gzip))
            .unwrap();
    }
    let npy = dir.path().join("x.npy");
    base.write_to(NpySink::with_files([("0", &npy)])).unwrap();
    // An NPZ of that array, stored (zip of one member written by hand with the zip crate).
    {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::fs::File::create(&npz[0]).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        w.start_file("x.npy", options).unwrap();
        w.write_all(&std::fs::read(&npy).unwrap()).unwrap();
        w.finish().unwrap();
    }
    let interleaved = FilesOptions::default().with_cycle_length(2);
    let from_csv = Dataset::from_files(
        &Files::new(&csv),
        interleaved.clone(),
        open_csv(CsvOptions::default().with_column_type("0", DType::I64)),
    )
    .unwrap();
    let features = FeatureDescription::new([("0", FeatureSpec::fixed(DType::I64, []))]).unwrap();
    let from_tfr = Dataset::from_files(
        &Files::new(&tfr),
        interleaved,
        open_tfrecord_examples(Compression::Gzip, features),
    )
    .unwrap();
    let want: Vec<i64> = (0..10).collect();
    assert_eq!(ints(&from_csv), want);
    assert_eq!(ints(&from_tfr), want);
    let raw = Dataset::from_files(
        &Files::new(&tfr),
        FilesOptions::default(),
        open_tfrecord(Compression::Gzip),
    )
    .unwrap();
    assert_eq!(raw.iter().count(), 10);
    let from_npz =
        Dataset::from_files(&Files::new(&npz), FilesOptions::default(), open_npz()).unwrap();
    let values: Vec<i64> = from_npz
        .iter()
        .map(|e| e.unwrap().get("x").unwrap().as_slice::<i64>().unwrap()[0])
        .collect();
    assert_eq!(values, want);
}

#[test]
fn errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = Files::glob(&format!("{}/*.nothing", dir.path().display())).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotFound(_)), "{err:?}");
    let err = Files::glob("[unclosed").unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidArgument(_)),
        "{err:?}"
    );
    let err = Dataset::from_files(
        &Files::new(Vec::<PathBuf>::new()),
        FilesOptions::default(),
        open_npy(),
    )
    .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidArgument(_)),
        "{err:?}"
    );

    let good = npy_files(dir.path(), 1, 3).remove(0);
    let missing = dir.path().join("missing.npy");
    // The first file is opened at once.
    let err = Dataset::from_files(&Files::new([&missing]), FilesOptions::default(), open_npy())
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotFound(_)), "{err:?}");
    assert_eq!(err.position().file.as_deref(), Some(missing.as_path()));
    // A later one when it is reached, after the elements before it.
    let ds = Dataset::from_files(
        &Files::new([&good, &missing]),
        FilesOptions::default(),
        open_npy(),
    )
    .unwrap();
    let items: Vec<_> = ds.iter().collect();
    assert_eq!(items.len(), 4);
    let err = items[3].as_ref().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotFound(_)), "{err:?}");
    assert_eq!(err.position().file.as_deref(), Some(missing.as_path()));
    // A file whose elements do not fit the first one's spec.
    let floats = dir.path().join("floats.npy");
    Dataset::from_tensor_slices(Tensor::from_vec1(vec![1.0f32, 2.0]))
        .unwrap()
        .write_to(NpySink::with_files([("0", &floats)]))
        .unwrap();
    let ds = Dataset::from_files(
        &Files::new([&good, &floats]),
        FilesOptions::default(),
        open_npy(),
    )
    .unwrap();
    let err = ds.iter().find_map(|r| r.err()).unwrap();
    assert!(matches!(err.kind(), ErrorKind::Incompatible(_)), "{err:?}");
    assert_eq!(err.position().file.as_deref(), Some(floats.as_path()));
    let err = Dataset::from_files(
        &Files::new([&good]),
        FilesOptions::default().with_cycle_length(0),
        open_npy(),
    )
    .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidArgument(_)),
        "{err:?}"
    );
}
