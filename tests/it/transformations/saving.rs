//! save / load of whole datasets and the random source (issue 13, items 6 and 7).

use super::{range, scalar_of};
use slicestream::io::saved::SaveOptions;
use slicestream::{Dataset, Element, Error, ErrorKind, Tensor};

fn mixed(n: i64) -> Dataset {
    range(0, n).map(|e| {
        let x = scalar_of(&e);
        let word = "ab".repeat(x as usize % 5);
        Ok(Element::dict([
            ("id", Tensor::scalar(x)),
            ("v", Tensor::from_vec1(vec![x as f32; (x % 4) as usize])),
            (
                "w",
                Tensor::from_strings(vec![2], [word.as_str(), "z"]).unwrap(),
            ),
        ]))
    })
}

fn all(ds: &Dataset) -> Vec<Element> {
    ds.iter().collect::<slicestream::Result<_>>().unwrap()
}

#[test]
fn a_saved_dataset_loads_back_the_same_in_shards() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("saved");
    let ds = mixed(100);
    let summary = ds
        .save(&path, SaveOptions::default().with_max_shard_bytes(200))
        .unwrap();
    assert_eq!(summary.elements, 100);
    assert!(summary.shards > 3, "{summary:?}");
    let back = Dataset::load(&path).unwrap();
    assert_eq!(back.cardinality().as_tf(), 100);
    assert_eq!(back.element_spec().unwrap(), ds.element_spec().unwrap());
    assert_eq!(all(&back), all(&ds));
    assert_eq!(all(&back), all(&ds), "a second epoch");
    // Nothing but the directory (no temporary directory left beside it).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let err = ds.save(&path, SaveOptions::default()).unwrap_err();
    assert!(err.to_string().contains("exists"), "{err}");
}

#[test]
fn a_failed_save_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("saved");
    let failing = range(0, 50).map(|e| {
        if scalar_of(&e) == 30 {
            Err(Error::invalid_argument("element 30 is bad"))
        } else {
            Ok(e)
        }
    });
    let err = failing
        .save(&path, SaveOptions::default().with_max_shard_bytes(64))
        .unwrap_err();
    assert!(err.to_string().contains("element 30 is bad"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_damaged_saved_dataset_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("saved");
    mixed(40)
        .save(&path, SaveOptions::default().with_max_shard_bytes(300))
        .unwrap();
    let shard = path.join("shard-00001.elements");
    let good = std::fs::read(&shard).unwrap();
    let count = |ds: &Dataset| ds.iter().take_while(|r| r.is_ok()).count();
    let last_error = |ds: &Dataset| ds.iter().last().unwrap().unwrap_err();

    // A flipped byte in a record.
    let mut bad = good.clone();
    let at = good.len() / 2;
    bad[at] ^= 0x55;
    std::fs::write(&shard, &bad).unwrap();
    let ds = Dataset::load(&path).unwrap();
    let err = last_error(&ds);
    assert!(matches!(err.kind(), ErrorKind::Format(_)), "{err}");
    assert_eq!(err.position().file.as_deref(), Some(shard.as_path()));
    assert!(err.position().byte_offset.is_some());
    assert!(count(&ds) < 40);

    // Truncated, and missing.
    std::fs::write(&shard, &good[..good.len() - 3]).unwrap();
    assert!(last_error(&Dataset::load(&path).unwrap())
        .to_string()
        .contains("truncated"));
    std::fs::remove_file(&shard).unwrap();
    let err = last_error(&Dataset::load(&path).unwrap());
    assert!(matches!(err.kind(), ErrorKind::NotFound(_)), "{err}");
    std::fs::write(&shard, &good).unwrap();
    assert_eq!(count(&Dataset::load(&path).unwrap()), 40);

    // A description that does not match its shards, or is not one.
    let desc = path.join("dataset.json");
    let text = std::fs::read_to_string(&desc).unwrap();
    let changed = text.replacen("\"elements\": ", "\"elements\": 1", 2);
    assert_ne!(changed, text);
    std::fs::write(&desc, &changed).unwrap();
    let err = last_error(&Dataset::load(&path).unwrap());
    assert!(
        err.to_string().contains("the dataset's description says"),
        "{err}"
    );
    std::fs::write(&desc, "{\"format\": \"something else\"}").unwrap();
    let err = Dataset::load(&path).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Format(_)), "{err}");
    std::fs::remove_file(&desc).unwrap();
    let err = Dataset::load(&path).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotFound(_)), "{err}");
}

#[test]
fn random_is_seeded_and_rerandomized_per_epoch_when_asked() {
    let values = |ds: &Dataset, epoch: u64| -> Vec<i64> {
        ds.iter_epoch(epoch)
            .take(20)
            .map(|e| scalar_of(&e.unwrap()))
            .collect()
    };
    let fixed = Dataset::random(Some(42), false);
    assert_eq!(fixed.cardinality().as_tf(), -1);
    assert_eq!(values(&fixed, 0), values(&fixed, 1));
    assert_eq!(
        values(&fixed, 0),
        values(&Dataset::random(Some(42), false), 0)
    );
    assert_ne!(
        values(&fixed, 0),
        values(&Dataset::random(Some(43), false), 0)
    );
    let fresh = Dataset::random(Some(42), true);
    assert_ne!(values(&fresh, 0), values(&fresh, 1));
    assert_eq!(
        values(&fresh, 1),
        values(&Dataset::random(Some(42), true), 1)
    );
    let v = values(&fixed, 0);
    assert!(
        v.iter().any(|&x| x < 0) && v.iter().any(|&x| x > 0),
        "uniform over int64: {v:?}"
    );
}
