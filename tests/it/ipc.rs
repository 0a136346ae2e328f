//! Arrow IPC: data/digits.arrow (written by pyarrow) reads back as digits.json says; file and stream
//! formats round-trip, the format is detected, and a failed export leaves no file.

use crate::frames_common::{check_digits, collect, data, digits_batch, tensor_dataset};
use half::bf16;
use slicestream::frames::{row_spec_of, Bf16Policy, FrameOptions};
use slicestream::io::ipc::{IpcFormat, IpcWriteOptions, IpcWriter};
use slicestream::{
    DType, Dataset, Element, ElementSpec, Error, ErrorKind, Structure, Tensor, TensorSpec,
};

#[test]
fn digits_arrow_from_pyarrow_reads_back_as_digits_json_says() {
    let ds = Dataset::from_ipc(data().join("digits.arrow")).unwrap();
    let spec = ds.element_spec().unwrap();
    assert_eq!(
        spec.get("image").unwrap(),
        &TensorSpec::new(DType::U8, &[8, 8])
    );
    let batch = collect(&ds.batch(2000, false).unwrap()).remove(0);
    check_digits(batch.get("image").unwrap(), batch.get("label").unwrap());
    assert_eq!(
        ds.iter().count(),
        1797,
        "a second epoch reads the file again"
    );
}

#[test]
fn file_and_stream_formats_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let ds = tensor_dataset(500);
    let expected = collect(&ds);
    for (name, format) in [
        ("f.arrow", IpcFormat::File),
        ("s.arrows", IpcFormat::Stream),
    ] {
        let path = dir.path().join(name);
        let summary = ds
            .write_ipc(
                &path,
                IpcWriteOptions::default()
                    .with_format(format)
                    .with_batch_rows(128),
            )
            .unwrap();
        assert_eq!((summary.rows, summary.chunks), (500, 4));
        let head = std::fs::read(&path).unwrap();
        assert_eq!(&head[..6] == b"ARROW1", format == IpcFormat::File);
        let back = Dataset::from_ipc(&path).unwrap();
        assert_eq!(back.element_spec().unwrap(), ds.element_spec().unwrap());
        assert_eq!(collect(&back), expected, "{name}");
    }
    // arrow-rs's own reader sees the tensor extension on the image column.
    let path = dir.path().join("digits.arrow");
    Dataset::from_tensor_slices(digits_batch())
        .unwrap()
        .write_ipc(&path, IpcWriteOptions::default())
        .unwrap();
    let reader =
        arrow::ipc::reader::FileReader::try_new(std::fs::File::open(&path).unwrap(), None).unwrap();
    let field = reader.schema().field_with_name("image").unwrap().clone();
    assert_eq!(
        field.metadata()["ARROW:extension:name"],
        "arrow.fixed_shape_tensor"
    );
    assert_eq!(
        field.metadata()["ARROW:extension:metadata"],
        r#"{"shape":[8,8]}"#
    );
    let ours = collect(&Dataset::from_ipc(&path).unwrap());
    let pyarrows = collect(&Dataset::from_ipc(data().join("digits.arrow")).unwrap());
    assert_eq!(ours, pyarrows);
}

#[test]
fn a_writer_writes_batches_as_they_come_and_bf16_bits_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.arrow");
    let b = Element::dict([(
        "w",
        Tensor::from_vec([3, 2], vec![bf16::from_f32(1.25); 6]).unwrap(),
    )]);
    let spec = row_spec_of(&b).unwrap();
    let err = IpcWriter::create(&path, &spec, IpcWriteOptions::default()).unwrap_err();
    assert_eq!(err.position().component.as_deref(), Some("w"), "{err}");
    let opts = IpcWriteOptions::default()
        .with_frame_options(FrameOptions::default().with_bf16(Bf16Policy::Bits));
    let mut w = IpcWriter::create(&path, &spec, opts).unwrap();
    w.write_batch(&b).unwrap();
    w.write_batch(&b).unwrap();
    assert_eq!(w.rows_written(), 6);
    w.finish().unwrap();
    let rows = collect(&Dataset::from_ipc(&path).unwrap());
    assert_eq!(rows.len(), 6);
    assert_eq!(
        rows[5].get("w").unwrap().as_slice::<bf16>().unwrap(),
        &[bf16::from_f32(1.25); 2]
    );
}

#[test]
fn a_failed_export_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.arrow");
    let spec = ElementSpec::new(
        Structure::dict_of_tensors(["v"]),
        vec![TensorSpec::new(DType::I32, &[])],
    )
    .unwrap();
    let ds = Dataset::from_generator(spec, || {
        (0..100).map(|i| {
            if i == 70 {
                Err(Error::invalid_argument("broken"))
            } else {
                Ok(Element::dict([("v", Tensor::scalar(i))]))
            }
        })
    });
    for format in [IpcFormat::File, IpcFormat::Stream] {
        let opts = IpcWriteOptions::default()
            .with_format(format)
            .with_batch_rows(16);
        assert!(ds.write_ipc(&path, opts).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}

#[test]
fn missing_and_bad_files_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = Dataset::from_ipc(dir.path().join("nope.arrow")).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotFound(_)), "{err}");
    for (name, bytes) in [
        ("junk", b"definitely not arrow".to_vec()),
        ("empty", vec![]),
        ("magic", b"ARROW1\0\0junk".to_vec()),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let r =
            Dataset::from_ipc(&p).and_then(|ds| ds.iter().collect::<slicestream::Result<Vec<_>>>());
        let err = r.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Format(_) | ErrorKind::Io),
            "{name}: {err}"
        );
    }
    // A stream cut in the middle of a record batch: the rows before it, then an error.
    let good = dir.path().join("good.arrows");
    tensor_dataset(300)
        .write_ipc(
            &good,
            IpcWriteOptions::default()
                .with_format(IpcFormat::Stream)
                .with_batch_rows(100),
        )
        .unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.arrows");
    std::fs::write(&cut, &bytes[..bytes.len() - 200]).unwrap();
    let results: Vec<_> = Dataset::from_ipc(&cut).unwrap().iter().collect();
    assert!(results.last().unwrap().is_err());
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 200);
}

#[test]
fn the_sink_takes_rows_or_batches() {
    use slicestream::io::sink::IpcSink;
    let dir = tempfile::tempdir().unwrap();
    let ds = tensor_dataset(130);
    let expected = collect(&ds);
    let rows = dir.path().join("rows.arrows");
    let opts = IpcWriteOptions::default()
        .with_format(IpcFormat::Stream)
        .with_batch_rows(50);
    assert_eq!(ds.write_to(IpcSink::new(&rows, opts)).unwrap(), 130);
    assert_eq!(collect(&Dataset::from_ipc(&rows).unwrap()), expected);
    let batches = dir.path().join("batches.arrow");
    let n = ds
        .batch(64, false)
        .unwrap()
        .write_batches_to(IpcSink::new(&batches, IpcWriteOptions::default()))
        .unwrap();
    assert_eq!(n, 130);
    assert_eq!(collect(&Dataset::from_ipc(&batches).unwrap()), expected);
}

/// `Dataset::from_ipc_indexed`: an IPC file read by index from its memory map — the same rows as
/// the streaming reader, across record batches; a buffer-free global shuffle that is a permutation;
/// unshuffled batches inside one record batch are views of the map (no copy); bad files are typed
/// errors naming the file.
#[test]
fn an_ipc_file_reads_by_index_from_its_map() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.arrow");
    let ds = tensor_dataset(500);
    ds.write_ipc(&path, IpcWriteOptions::default().with_batch_rows(128))
        .unwrap();
    let indexed = Dataset::from_ipc_indexed(&path).unwrap();
    assert_eq!(indexed.element_spec().unwrap(), ds.element_spec().unwrap());
    assert_eq!(indexed.cardinality().as_tf(), 500);
    assert_eq!(collect(&indexed), collect(&ds));
    // Batches across record batch boundaries (128) are gathered; the values are the same.
    assert_eq!(
        collect(&indexed.batch(100, false).unwrap()),
        collect(&ds.batch(100, false).unwrap())
    );
    // The pyarrow-written digits file, too.
    let digits = Dataset::from_ipc_indexed(data().join("digits.arrow")).unwrap();
    let batch = collect(&digits.batch(2000, false).unwrap()).remove(0);
    check_digits(batch.get("image").unwrap(), batch.get("label").unwrap());

    // A global shuffle is a permutation of the rows, new each epoch, the same for the same seed.
    let key = |e: &Element| format!("{:?}", e.get("x").unwrap().to_array::<f32>().ok());
    let mut rows: Vec<String> = collect(&ds).iter().map(key).collect();
    let shuffled = indexed.global_shuffle(Some(3), true).unwrap();
    let first: Vec<String> = collect(&shuffled).iter().map(key).collect();
    assert_ne!(first, rows);
    let mut sorted = first.clone();
    sorted.sort();
    rows.sort();
    assert_eq!(sorted, rows);
    let again: Vec<String> = collect(&indexed.global_shuffle(Some(3), true).unwrap())
        .iter()
        .map(key)
        .collect();
    assert_eq!(again, first);

    // Unshuffled batches inside one record batch are views of the map: two passes see the same
    // memory, and consecutive batches are adjacent in it.
    let views = indexed.batch(64, true).unwrap();
    let ptrs = |d: &Dataset| -> Vec<*const u8> {
        d.iter()
            .take(2)
            .map(|b| b.unwrap().get("x").unwrap().data_ptr())
            .collect()
    };
    let (a, b) = (ptrs(&views), ptrs(&views));
    assert_eq!(a, b, "the same rows are the same memory in every pass");
    let row_bytes = 3 * 4 * std::mem::size_of::<f32>();
    assert_eq!(a[1] as usize - a[0] as usize, 64 * row_bytes);

    // A stream-format file has no index; a truncated file is damaged; both name the file.
    let stream = dir.path().join("rows.arrows");
    ds.write_ipc(
        &stream,
        IpcWriteOptions::default().with_format(IpcFormat::Stream),
    )
    .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let truncated = dir.path().join("truncated.arrow");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    for bad in [&stream, &truncated] {
        let err = Dataset::from_ipc_indexed(bad).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Format(_)), "{err}");
        assert_eq!(err.position().file.as_deref(), Some(bad.as_path()), "{err}");
    }
    let missing = Dataset::from_ipc_indexed(dir.path().join("none.arrow")).unwrap_err();
    assert!(
        matches!(missing.kind(), ErrorKind::NotFound(_)),
        "{missing}"
    );
}
