//! Datasets over memory-mapped NPY files and NPZ archives: batches are slices of the map, shuffles
//! gather from it, components stay paired, and errors are typed.

use std::path::Path;

use slicestream::io::npy::{write_npy, NpyFile};
use slicestream::{Dataset, Element, ErrorKind, Structure, Tensor};

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npy")
}

#[test]
fn datasets_over_mapped_files_slice_the_map() {
    let dir = tempfile::tempdir().unwrap();
    let x = Tensor::from_vec([10, 3], (0..30).map(|v| v as f32).collect::<Vec<_>>()).unwrap();
    let y = Tensor::from_vec1((0..10).map(|v| v * 7).collect::<Vec<i64>>());
    let (xp, yp) = (dir.path().join("x.npy"), dir.path().join("y.npy"));
    write_npy(&xp, &x).unwrap();
    write_npy(&yp, &y).unwrap();

    let ds = Dataset::from_npy_dict([("x", &xp), ("y", &yp)]).unwrap();
    assert_eq!(ds.cardinality().as_tf(), 10);
    assert_eq!(
        ds.element_spec().unwrap().to_string(),
        Dataset::from_tensor_slices(Element::dict([("x", x.clone()), ("y", y.clone())]))
            .unwrap()
            .element_spec()
            .unwrap()
            .to_string()
    );
    let batches: Vec<_> = ds
        .batch(4, false)
        .unwrap()
        .iter()
        .map(|b| b.unwrap())
        .collect();
    assert_eq!(batches.len(), 3);
    assert_eq!(batches[0].get("x").unwrap(), &x.slice_rows(0, 4).unwrap());
    assert_eq!(batches[2].get("y").unwrap(), &y.slice_rows(8, 10).unwrap());
    // Over files opened here, a batch's buffer is the file's map itself: 4 rows of 12 bytes in.
    let (fx, fy) = (NpyFile::open(&xp).unwrap(), NpyFile::open(&yp).unwrap());
    let structure = Structure::dict_of_tensors(["x", "y"]);
    let mapped = Dataset::from_npy_files(structure, vec![fx.clone(), fy.clone()]).unwrap();
    let b1 = mapped
        .batch(4, false)
        .unwrap()
        .iter()
        .nth(1)
        .unwrap()
        .unwrap();
    assert_eq!(
        b1.get("x").unwrap().data_ptr(),
        fx.raw_data().as_slice()[4 * 12..].as_ptr()
    );
    assert_eq!(
        b1.get("y").unwrap().data_ptr(),
        fy.raw_data().as_slice()[4 * 8..].as_ptr()
    );

    // Shuffled: every row once, x and y still paired.
    let ds = ds
        .shuffle(10, Some(3), true)
        .unwrap()
        .batch(3, false)
        .unwrap();
    let mut seen = Vec::new();
    for b in &ds {
        let b = b.unwrap();
        let xs = b.get("x").unwrap().as_slice::<f32>().unwrap().to_vec();
        for (r, &label) in b
            .get("y")
            .unwrap()
            .as_slice::<i64>()
            .unwrap()
            .iter()
            .enumerate()
        {
            assert_eq!(xs[r * 3] as i64 * 7, label * 3);
            seen.push(label / 7);
        }
    }
    seen.sort();
    assert_eq!(seen, (0..10).collect::<Vec<_>>());

    // Single-tensor and tuple elements.
    let single = Dataset::from_npy(&yp).unwrap();
    let first = single.iter().next().unwrap().unwrap();
    assert_eq!(first.component(0).unwrap(), &Tensor::scalar(0i64));
    let tuple = Dataset::from_npy_tuple([&xp, &yp]).unwrap();
    let e = tuple.iter().nth(2).unwrap().unwrap();
    assert_eq!(e.get("0").unwrap(), &x.row(2).unwrap());
    assert_eq!(e.get("1").unwrap(), &Tensor::scalar(14i64));
}

#[test]
fn dataset_errors_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, s) = (
        dir.path().join("a.npy"),
        dir.path().join("b.npy"),
        dir.path().join("s.npy"),
    );
    write_npy(&a, &Tensor::from_vec1(vec![1u8, 2, 3])).unwrap();
    write_npy(&b, &Tensor::from_vec1(vec![1u8, 2])).unwrap();
    write_npy(&s, &Tensor::scalar(1u8)).unwrap();
    let e = Dataset::from_npy_tuple([&a, &b]).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Incompatible(_)), "{e}");
    assert_eq!(e.position().file.as_deref(), Some(b.as_path()));
    let e = Dataset::from_npy(&s).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidArgument(_)), "{e}");
    let e = Dataset::from_npy(dir.path().join("missing.npy")).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::NotFound(_)), "{e}");
    assert_eq!(e.position().stage.as_deref(), Some("from_npy"));
    let f = NpyFile::open(&a).unwrap();
    assert!(matches!(
        f.slice_rows(2, 5).unwrap_err().kind(),
        ErrorKind::InvalidArgument(_)
    ));
    assert!(matches!(
        f.gather_rows(&[0, 3]).unwrap_err().kind(),
        ErrorKind::InvalidArgument(_)
    ));
    assert!(matches!(
        f.row(3).unwrap_err().kind(),
        ErrorKind::InvalidArgument(_)
    ));
    let scalar = NpyFile::open(&s).unwrap();
    assert_eq!(scalar.num_rows(), None);
    assert!(matches!(
        scalar.slice_rows(0, 0).unwrap_err().kind(),
        ErrorKind::InvalidArgument(_)
    ));
}

#[test]
fn npz_datasets_list_every_array() {
    let ds = Dataset::from_npz(fixtures().join("two_arrays_compressed.npz"));
    // a has 2 rows and b 3: not one dataset.
    assert!(matches!(ds.unwrap_err().kind(), ErrorKind::Incompatible(_)));
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/digits.npz");
    let ds = Dataset::from_npz(&data).unwrap();
    assert_eq!(ds.cardinality().as_tf(), 1797);
    assert_eq!(ds.element_spec().unwrap().paths(), ["image", "label"]);
}
