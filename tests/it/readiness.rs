//! `DatasetIter::is_ready` / `wait_ready`: whether `next` would return without waiting, known when
//! the plan ends in `prefetch` (what a Python binding needs to keep its interpreter's lock).

use std::time::Duration;

use slicestream::Dataset;

#[test]
fn a_prefetched_plan_says_when_an_element_waits() {
    let ds = Dataset::range(0, 100, 1)
        .unwrap()
        .batch(10, false)
        .unwrap()
        .prefetch(2);
    let mut it = ds.iter();
    let mut got = 0;
    loop {
        // The producer runs ahead: an element arrives well within a second.
        assert!(it.wait_ready(Duration::from_secs(10)));
        assert!(it.is_ready());
        match it.next() {
            Some(b) => {
                b.unwrap();
                got += 1;
            }
            None => break,
        }
    }
    assert_eq!(got, 10);
    assert!(
        it.is_ready(),
        "an ended epoch is ready: next returns None at once"
    );
}

#[test]
fn readiness_is_unknown_without_a_prefetch_at_the_end() {
    let ds = Dataset::range(0, 10, 1)
        .unwrap()
        .prefetch(2)
        .batch(5, false)
        .unwrap();
    let it = ds.iter();
    assert!(!it.is_ready());
    assert!(!it.wait_ready(Duration::from_millis(1)));
}

#[test]
fn a_slow_producer_is_not_ready_until_it_sends() {
    let ds = Dataset::range(0, 3, 1)
        .unwrap()
        .map(|e| {
            std::thread::sleep(Duration::from_millis(200));
            Ok(e)
        })
        .prefetch(1);
    let mut it = ds.iter();
    assert!(
        !it.wait_ready(Duration::from_millis(1)),
        "nothing can be ready after 1 ms"
    );
    assert!(it.wait_ready(Duration::from_secs(10)));
    assert!(it.next().unwrap().is_ok());
}

/// Counts the elements a generator has made.
fn counted(n: i64) -> (Dataset, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let made = std::sync::Arc::new(AtomicUsize::new(0));
    let m = made.clone();
    let spec = slicestream::ElementSpec::single(slicestream::TensorSpec::new(
        slicestream::DType::I64,
        &[],
    ));
    let ds = Dataset::from_generator(spec, move || {
        let m = m.clone();
        (0..n).map(move |i| {
            m.fetch_add(1, Ordering::SeqCst);
            Ok(slicestream::Element::single(slicestream::Tensor::scalar(i)))
        })
    });
    (ds, made)
}

/// Waits until `made` stops changing for 100 ms; its value.
fn settled(made: &std::sync::atomic::AtomicUsize) -> usize {
    use std::sync::atomic::Ordering;
    let mut last = made.load(Ordering::SeqCst);
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let now = made.load(Ordering::SeqCst);
        if now == last {
            return now;
        }
        last = now;
    }
}

#[test]
fn the_output_prefetch_reads_further_ahead_when_asked_and_keeps_the_order() {
    let (source, made) = counted(1000);
    let ds = source.prefetch(2);
    let mut it = ds.iter();
    assert_eq!(
        it.next()
            .unwrap()
            .unwrap()
            .component(0)
            .unwrap()
            .as_slice::<i64>()
            .unwrap(),
        &[0]
    );
    // The producer holds two in the queue and one in hand, waiting for room.
    let before = settled(&made);
    assert!(before <= 4, "{before} made with a queue of 2");
    assert!(it.is_output_full());
    it.read_ahead(50);
    assert_eq!(it.read_ahead_extra(), 50);
    let after = settled(&made);
    assert!(
        (before + 50..=before + 51).contains(&after),
        "{before} then {after}"
    );
    assert!(it.is_output_full());
    // Less room again: the producer waits until the queue is below it; nothing is lost.
    it.read_ahead(0);
    let rest: Vec<i64> = it
        .by_ref()
        .map(|e| e.unwrap().component(0).unwrap().as_slice::<i64>().unwrap()[0])
        .collect();
    assert_eq!(rest, (1..1000).collect::<Vec<_>>());
    // Dropping an iterator whose producer waits for room ends it.
    let (source, _) = counted(1000);
    let ds = source.prefetch(1);
    let mut it = ds.iter();
    it.next().unwrap().unwrap();
    drop(it);
}
