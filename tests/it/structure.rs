//! The failure cases of the layers redesign: elements whose structure changes mid-stream are a
//! typed error naming the element and the component on every batching path (never a dropped
//! component, an index out of bounds or a worker panic); batch sizes larger than the data do not
//! allocate by the argument; asking for a spec or printing a plan runs nothing it need not.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use slicestream::frames::{FrameOptions, RecordBatchConverter};
use slicestream::io::ipc::IpcWriteOptions;
use slicestream::runtime::Options;
use slicestream::transform::{MapOptions, ParallelCalls};
use slicestream::{
    DType, Dataset, Element, ElementSpec, Error, ErrorKind, Result, Tensor, TensorSpec,
};

fn x_of(e: &Element) -> Result<i64> {
    Ok(e.component(0)?.as_slice::<i64>()?[0])
}

/// `(x, x)` for the first two elements, `(x, x, x)` after (or the other way round with `grow =
/// false`): the mistake a new user makes in a map.
fn changing(grow: bool) -> impl Fn(Element) -> Result<Element> + Send + Sync + 'static {
    move |e| {
        let x = x_of(&e)?;
        let n = if (x < 2) == grow { 2 } else { 3 };
        Ok(Element::tuple(vec![Tensor::scalar(x); n]))
    }
}

fn parallel() -> MapOptions {
    MapOptions::default().with_num_parallel_calls(ParallelCalls::Fixed(2))
}

fn range6() -> Dataset {
    Dataset::range(0, 6, 1).unwrap()
}

/// The first error of `ds`, with the number of elements before it.
fn first_error(ds: &Dataset) -> (usize, Error) {
    let mut ok = 0;
    for e in ds {
        match e {
            Ok(_) => ok += 1,
            Err(e) => return (ok, e),
        }
    }
    panic!("{ds:?}: no error after {ok} elements");
}

fn assert_structure_error(name: &str, ds: &Dataset, element: u64) {
    let (before, err) = first_error(ds);
    assert_eq!(before, 0, "{name}: batches before the error");
    assert!(
        matches!(err.kind(), ErrorKind::StructureMismatch { .. }),
        "{name}: {err:?}"
    );
    assert_eq!(err.position().element, Some(element), "{name}: {err:?}");
    assert!(err.position().stage.is_some(), "{name}: {err:?}");
}

#[test]
fn a_map_that_changes_structure_is_an_error_on_every_batching_path() {
    for grow in [true, false] {
        let seq = range6().map(changing(grow));
        let par = range6().map_with(parallel(), changing(grow));
        let budget = Options::default().with_memory_budget(1 << 20);
        let cases: Vec<(&str, Dataset)> = vec![
            ("sequential map, batch", seq.batch(4, false).unwrap()),
            ("parallel map, fused batch", par.batch(4, false).unwrap()),
            (
                "parallel map, fused batch, drop_remainder",
                par.batch(4, true).unwrap(),
            ),
            (
                "parallel map, batch under a budget (not fused)",
                par.batch(4, false).unwrap().with_options(budget.clone()),
            ),
            (
                "parallel map, prefetch, batch",
                par.prefetch(2).batch(4, false).unwrap(),
            ),
            (
                "sequential map, padded_batch",
                seq.padded_batch(4, None, None, false).unwrap(),
            ),
            (
                "parallel map, padded_batch",
                par.padded_batch(4, None, None, false).unwrap(),
            ),
            (
                "sequential map, batch(1), rebatch(4)",
                seq.batch(1, false)
                    .unwrap()
                    .rebatch(vec![4], false)
                    .unwrap(),
            ),
        ];
        for (name, ds) in &cases {
            let name = format!("{name} (grow {grow})");
            // rebatch sees the rows of its input batches; batch number 2 holds element 2.
            assert_structure_error(&name, ds, 2);
        }
    }
}

#[test]
fn a_map_that_changes_dtype_or_shape_names_the_component() {
    let ds = range6()
        .map(|e| {
            let x = x_of(&e)?;
            let second = if x < 2 {
                Tensor::scalar(x)
            } else {
                Tensor::scalar(x as f32)
            };
            Ok(Element::tuple(vec![Tensor::scalar(x), second]))
        })
        .batch(4, false)
        .unwrap();
    let (_, err) = first_error(&ds);
    assert!(
        matches!(
            err.kind(),
            ErrorKind::DTypeMismatch {
                expected: DType::I64,
                found: DType::F32
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.position().component.as_deref(), Some("1"));
    assert_eq!(err.position().element, Some(2));
}

#[test]
fn frame_conversions_refuse_another_structure() {
    // A batch of another structure than the converter's.
    let two = Element::tuple(vec![Tensor::from_vec1(vec![1i64, 2]); 2]);
    let three = Element::tuple(vec![Tensor::from_vec1(vec![1i64, 2]); 3]);
    let converter = RecordBatchConverter::for_batch(&two).unwrap();
    let err = converter.convert(&three).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::StructureMismatch { .. }),
        "{err:?}"
    );
    let rows = [
        Element::tuple(vec![Tensor::scalar(1i64); 2]),
        Element::tuple(vec![Tensor::scalar(1i64); 3]),
    ];
    let row_spec = rows[0].spec();
    let converter = RecordBatchConverter::new(&row_spec, &FrameOptions::default()).unwrap();
    let err = converter.convert_rows(&rows).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::StructureMismatch { .. }),
        "{err:?}"
    );
    assert_eq!(err.position().element, Some(1));

    // A dataset export: the dataset's own batching finds it, and no file is left.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("changing.arrow");
    let err = range6()
        .map(changing(true))
        .write_ipc(&path, IpcWriteOptions::default())
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::StructureMismatch { .. }),
        "{err:?}"
    );
    assert!(!path.exists());
}

#[test]
fn a_batch_size_larger_than_the_data_is_one_short_batch() {
    let huge = 1usize << 62;
    let gen_spec = ElementSpec::single(TensorSpec::new(DType::I64, &[]));
    let generator = Dataset::from_generator(gen_spec, || {
        (0..10i64).map(|x| Ok(Element::single(Tensor::scalar(x))))
    });
    let cases: Vec<(&str, Dataset)> = vec![
        ("range", Dataset::range(0, 10, 1).unwrap()),
        ("generator", generator.clone()),
        (
            "shuffled",
            Dataset::range(0, 10, 1)
                .unwrap()
                .shuffle(4, Some(1), true)
                .unwrap(),
        ),
        (
            "parallel map (fused)",
            Dataset::range(0, 10, 1).unwrap().map_with(parallel(), Ok),
        ),
    ];
    for (name, ds) in cases {
        let batches: Vec<Element> = ds
            .batch(huge, false)
            .unwrap()
            .iter()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(batches.len(), 1, "{name}");
        assert_eq!(batches[0].component(0).unwrap().shape(), [10], "{name}");
        let padded: Vec<Element> = ds
            .padded_batch(huge, None, None, false)
            .unwrap()
            .iter()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(padded.len(), 1, "{name}");
        assert_eq!(
            ds.batch(huge, true).unwrap().iter().count(),
            0,
            "{name}: drop_remainder drops the one short batch"
        );
    }
    let rebatched: Vec<Element> = generator
        .batch(3, false)
        .unwrap()
        .rebatch(vec![huge], false)
        .unwrap()
        .iter()
        .collect::<Result<_>>()
        .unwrap();
    assert_eq!(rebatched.len(), 1);
    assert_eq!(rebatched[0].component(0).unwrap().shape(), [10]);
}

/// A generator of `n` int64 scalars that counts the elements it is asked for.
fn counted_generator(n: i64, reads: Arc<AtomicUsize>) -> Dataset {
    let spec = ElementSpec::single(TensorSpec::new(DType::I64, &[]));
    Dataset::from_generator(spec, move || {
        let reads = reads.clone();
        (0..n).map(move |x| {
            reads.fetch_add(1, Ordering::SeqCst);
            Ok(Element::single(Tensor::scalar(x)))
        })
    })
}

#[test]
fn the_spec_of_an_undeclared_map_reads_one_element_through_no_buffer() {
    let reads = Arc::new(AtomicUsize::new(0));
    let source = counted_generator(100_000, reads.clone());
    let plans = [
        source
            .shuffle(10_000, Some(1), true)
            .unwrap()
            .map(|e| Ok(Element::tuple(vec![e.component(0)?.clone(); 2]))),
        source
            .shuffle(10_000, Some(1), true)
            .unwrap()
            .prefetch(8)
            .map_with(parallel(), Ok),
        source.prefetch(8).filter(|_| Ok(false)).map(Ok).map(Ok),
    ];
    for (i, ds) in plans.iter().enumerate() {
        reads.store(0, Ordering::SeqCst);
        let spec = ds.element_spec().unwrap();
        assert!(!spec.components().is_empty());
        let n = reads.load(Ordering::SeqCst);
        assert!(
            n <= 1,
            "plan {i}: the spec read {n} elements of the generator"
        );
    }
}

#[test]
fn debug_of_a_dataset_runs_no_user_code() {
    let calls = Arc::new(AtomicUsize::new(0));
    let reads = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let ds = counted_generator(10, reads.clone())
        .shuffle(10_000, Some(1), true)
        .unwrap()
        .map(move |e| {
            c.fetch_add(1, Ordering::SeqCst);
            Ok(e)
        })
        .filter(|_| Ok(true));
    let text = format!("{ds:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 0, "{text}");
    assert_eq!(reads.load(Ordering::SeqCst), 0, "{text}");
    assert_eq!(
        text, "Dataset(from_generator → shuffle → map → filter)",
        "the plan's stages"
    );
    let zipped = Dataset::zip(&[ds.clone(), Dataset::range(0, 3, 1).unwrap()]).unwrap();
    assert_eq!(
        format!("{zipped:?}"),
        "Dataset([from_generator → shuffle → map → filter, range] → zip)"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}
