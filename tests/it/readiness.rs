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
