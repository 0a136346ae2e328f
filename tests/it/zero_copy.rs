//! Zero-copy claims checked by data pointers (`Tensor::data_ptr()`, `ArrayView::as_ptr()`): owned
//! arrays and vectors move into tensors, views borrow, unshuffled batches slice the source, gathered
//! batches hand their buffer to `into_array`, and unbatched rows share their batch's buffer.

use ndarray::{Array2, ArrayD, IxDyn};
use slicestream::{Dataset, Element, Result, Tensor};

fn collect(ds: &Dataset) -> Vec<Element> {
    ds.iter()
        .collect::<Result<Vec<_>>>()
        .expect("iteration failed")
}

fn addr<T>(p: *const T) -> usize {
    p as usize
}

#[test]
fn an_owned_array_moves_into_a_tensor() {
    let a = ArrayD::<f32>::from_shape_fn(IxDyn(&[4, 3, 2]), |ix| {
        (ix[0] * 6 + ix[1] * 2 + ix[2]) as f32
    });
    let p = addr(a.as_ptr());
    let t = Tensor::from(a);
    assert_eq!(addr(t.data_ptr()), p);
    assert_eq!(t.shape(), &[4, 3, 2]);
    assert_eq!(t.as_slice::<f32>().unwrap()[7], 7.0);

    // A sliced array (its data starts past the allocation's start) keeps its pointer too.
    let a = ndarray::Array1::<i64>::from_iter(0..10).slice_move(ndarray::s![3..]);
    let p = addr(a.as_ptr());
    let t = Tensor::from(a);
    assert_eq!(addr(t.data_ptr()), p);
    assert_eq!(t.as_slice::<i64>().unwrap(), &[3, 4, 5, 6, 7, 8, 9]);

    // Fixed-rank arrays too, and through IntoTensor in from_tensor_slices.
    let a = Array2::<u16>::from_shape_fn((5, 2), |(i, j)| (i * 2 + j) as u16);
    let p = addr(a.as_ptr());
    let ds = Dataset::from_tensor_slices(a).unwrap();
    let first = collect(&ds.take(1)).remove(0);
    assert_eq!(addr(first.component(0).unwrap().data_ptr()), p);
}

#[test]
fn a_vec_moves_into_a_tensor() {
    let v: Vec<i64> = (0..1000).collect();
    let p = addr(v.as_ptr());
    let t = Tensor::from_vec(vec![10, 100], v).unwrap();
    assert_eq!(addr(t.data_ptr()), p);

    let v: Vec<f64> = vec![0.5; 64];
    let p = addr(v.as_ptr());
    assert_eq!(addr(Tensor::from_vec1(v).data_ptr()), p);

    let v = vec![true, false, true];
    let p = addr(v.as_ptr());
    let t = Tensor::from_vec1(v);
    assert_eq!(addr(t.data_ptr()), p);
    assert_eq!(t.as_slice::<bool>().unwrap(), &[true, false, true]);

    // from_tensor_slices over a tuple of Vecs: element k of each component points into its Vec.
    let (x, y): (Vec<f32>, Vec<u8>) = ((0..8).map(|i| i as f32).collect(), (0..8).collect());
    let (px, py) = (addr(x.as_ptr()), addr(y.as_ptr()));
    let ds = Dataset::from_tensor_slices((x, y)).unwrap();
    for (k, e) in collect(&ds).iter().enumerate() {
        assert_eq!(addr(e.get("0").unwrap().data_ptr()), px + 4 * k);
        assert_eq!(addr(e.get("1").unwrap().data_ptr()), py + k);
    }
}

#[test]
fn a_view_borrows_the_buffer() {
    let t = Tensor::from(Array2::<f32>::from_shape_fn((3, 4), |(i, j)| {
        (i * 4 + j) as f32
    }));
    let v = t.view::<f32>().unwrap();
    assert_eq!(addr(v.as_ptr()), addr(t.data_ptr()));
    assert_eq!(v.shape(), &[3, 4]);
    assert_eq!(v[[2, 1]], 9.0);
    let e = Element::single(t.clone());
    assert_eq!(
        addr(e.view::<f32>("0").unwrap().as_ptr()),
        addr(t.data_ptr())
    );
    // A view of a row slice points into the same buffer.
    let row = t.row(2).unwrap();
    assert_eq!(
        addr(row.view::<f32>().unwrap().as_ptr()),
        addr(t.data_ptr()) + 2 * 4 * 4
    );
    // Cloning a tensor shares it.
    assert_eq!(addr(t.clone().data_ptr()), addr(t.data_ptr()));
}

#[test]
fn unshuffled_batches_are_slices_of_the_source() {
    let (rows, width, batch) = (23usize, 5usize, 4usize);
    let x = Array2::<f64>::from_shape_fn((rows, width), |(i, j)| (i * width + j) as f64);
    let labels: Vec<i32> = (0..rows as i32).collect();
    let (px, pl) = (addr(x.as_ptr()), addr(labels.as_ptr()));
    let ds = Dataset::from_tensor_slices((x, labels))
        .unwrap()
        .batch(batch, false)
        .unwrap();
    let batches = collect(&ds);
    assert_eq!(batches.len(), rows.div_ceil(batch));
    let row_bytes = width * 8;
    for (k, b) in batches.iter().enumerate() {
        let images = b.get("0").unwrap();
        assert_eq!(
            addr(images.data_ptr()),
            px + k * batch * row_bytes,
            "batch {k}"
        );
        assert_eq!(
            addr(b.view::<f64>("0").unwrap().as_ptr()),
            px + k * batch * row_bytes
        );
        assert_eq!(addr(b.get("1").unwrap().data_ptr()), pl + k * batch * 4);
        // And the values are right.
        let first = images.view::<f64>().unwrap()[[0, 0]];
        assert_eq!(first, (k * batch * width) as f64);
    }
    // After take / skip / shard, consecutive indices still slice.
    let ds = Dataset::from_tensor_slices(vec![0u32; 40]).unwrap();
    let p = addr(collect(&ds.take(1))[0].component(0).unwrap().data_ptr());
    let b = collect(&ds.skip(6).batch(8, false).unwrap());
    assert_eq!(addr(b[0].component(0).unwrap().data_ptr()), p + 6 * 4);
    assert_eq!(addr(b[1].component(0).unwrap().data_ptr()), p + 14 * 4);
    // Repeating: every repetition slices the same buffer.
    let b = collect(&ds.take(8).repeat(3).batch(8, true).unwrap());
    assert_eq!(b.len(), 3);
    assert!(b
        .iter()
        .all(|b| addr(b.component(0).unwrap().data_ptr()) == p));
}

#[test]
fn into_array_reuses_a_gathered_batch() {
    let x = Array2::<f32>::from_shape_fn((32, 3), |(i, j)| (i * 3 + j) as f32);
    let source = addr(x.as_ptr());
    let ds = Dataset::from_tensor_slices(x)
        .unwrap()
        .shuffle(32, Some(11), true)
        .unwrap()
        .batch(8, false)
        .unwrap();
    let batches = collect(&ds);
    for b in batches {
        let t = b.component(0).unwrap();
        let p = addr(t.data_ptr());
        assert!(
            p < source || p >= source + 32 * 3 * 4,
            "a shuffled batch is a gather (a new buffer)"
        );
        let expected = t.to_array::<f32>().unwrap();
        let array = b.into_array::<f32>("0").unwrap();
        assert_eq!(addr(array.as_ptr()), p, "the only reference: no copy");
        assert_eq!(array, expected);
        // Rows are whole rows of the source.
        for row in array.outer_iter() {
            let i = row[0] as usize / 3;
            assert_eq!(
                row.iter().copied().collect::<Vec<f32>>(),
                vec![(i * 3) as f32, (i * 3 + 1) as f32, (i * 3 + 2) as f32]
            );
        }
    }
    // A batch stacked from an element stream (after a map) is a fresh buffer too.
    let ds = Dataset::range(0, 12, 1)
        .unwrap()
        .map(Ok)
        .batch(4, false)
        .unwrap();
    for b in collect(&ds) {
        let p = addr(b.component(0).unwrap().data_ptr());
        let array = b.into_array::<i64>("0").unwrap();
        assert_eq!(addr(array.as_ptr()), p, "a stacked batch: no copy");
    }
    // A shared buffer is copied rather than taken from its other owner.
    let t = Tensor::from_vec1(vec![1i64, 2, 3]);
    let keep = t.clone();
    let array = t.into_array::<i64>().unwrap();
    assert_ne!(addr(array.as_ptr()), addr(keep.data_ptr()));
    assert_eq!(keep.as_slice::<i64>().unwrap(), &[1, 2, 3]);
    // A tensor made from a Vec gives it back.
    let v = vec![0.25f64; 16];
    let p = addr(v.as_ptr());
    assert_eq!(
        addr(Tensor::from_vec1(v).into_array::<f64>().unwrap().as_ptr()),
        p
    );
}

#[test]
fn unbatched_rows_share_the_batch_buffer() {
    let x = Array2::<i32>::from_shape_fn((12, 4), |(i, j)| (i * 4 + j) as i32);
    let ds = Dataset::from_tensor_slices(x)
        .unwrap()
        .shuffle(12, Some(2), true)
        .unwrap()
        .batch(6, false)
        .unwrap();
    let batch = collect(&ds.take(1)).remove(0);
    let base = addr(batch.component(0).unwrap().data_ptr());
    let row_bytes = 4 * 4;
    let rows = collect(
        &Dataset::from_tensors(batch.clone())
            .unwrap()
            .unbatch()
            .unwrap(),
    );
    assert_eq!(rows.len(), 6);
    let batch_values = batch.component(0).unwrap().as_slice::<i32>().unwrap();
    for (k, r) in rows.iter().enumerate() {
        let t = r.component(0).unwrap();
        assert_eq!(t.shape(), &[4]);
        assert_eq!(addr(t.data_ptr()), base + k * row_bytes, "row {k}");
        assert_eq!(
            t.as_slice::<i32>().unwrap(),
            &batch_values[k * 4..(k + 1) * 4]
        );
    }
    // batch().unbatch() over a source: the rows point into the source.
    let v: Vec<i16> = (0..10).collect();
    let p = addr(v.as_ptr());
    let rows = collect(
        &Dataset::from_tensor_slices(v)
            .unwrap()
            .batch(3, false)
            .unwrap()
            .unbatch()
            .unwrap(),
    );
    for (k, r) in rows.iter().enumerate() {
        assert_eq!(addr(r.component(0).unwrap().data_ptr()), p + 2 * k);
    }
}
