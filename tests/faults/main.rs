//! Faults in a running pipeline: panics in user closures, source errors mid-stream, a consumer that
//! walks away mid-epoch, and memory budgets too small or just small enough. Every failure must reach
//! the consumer as an error naming the stage and element, the epoch must never end early without
//! one, nothing may hang, and dropping the iterator must end every worker thread.
//!
//! The tests share the process-wide count of live workers
//! ([`slicestream::runtime::live_workers`]), so they run one at a time (a static mutex), and each
//! runs under a watchdog so that a hang fails the test instead of blocking CI.

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

use slicestream::runtime::{live_workers, Options};
use slicestream::transform::MapOptions;
use slicestream::{
    DType, Dataset, DatasetIter, Element, ElementSpec, Error, ErrorKind, Structure, Tensor,
    TensorSpec,
};

/// Bytes of one test element: an `i64` id and a `u8` payload, 1 KiB in all.
const ELEMENT_BYTES: usize = 1024;
const PAYLOAD: usize = ELEMENT_BYTES - 8;

static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `body` alone (no other test of this binary has a pipeline alive) and under a watchdog: a
/// body still running after 20 s fails the test.
fn run_alone(body: impl FnOnce() + Send + 'static) {
    let _guard: MutexGuard<'_, ()> = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    quiet_expected_panics();
    // A previous test's pool threads may still be exiting.
    wait_for_no_workers(Duration::from_secs(5), "before the test");
    let (done_tx, done_rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        body();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(Duration::from_secs(20)) {
        Ok(()) => handle.join().expect("test body"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The body panicked: report its panic.
            if let Err(payload) = handle.join() {
                std::panic::resume_unwind(payload);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("the pipeline hung: no result after 20 s")
        }
    }
}

/// Keeps the panics these tests cause on purpose out of the output; others print as usual.
fn quiet_expected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("");
            if !message.starts_with(EXPECTED_PANIC) {
                default(info);
            }
        }));
    });
}

/// How the panics caused on purpose begin.
const EXPECTED_PANIC: &str = "on purpose:";

/// Polls `live_workers()` until it is 0, failing after `deadline`.
fn wait_for_no_workers(deadline: Duration, when: &str) {
    let start = Instant::now();
    loop {
        let n = live_workers();
        if n == 0 {
            return;
        }
        assert!(
            start.elapsed() < deadline,
            "{n} worker threads still alive {deadline:?} {when}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Drops the iterator and checks that every worker thread is gone within 1 s.
fn drop_and_check_threads(it: DatasetIter) {
    drop(it);
    wait_for_no_workers(Duration::from_secs(1), "after dropping the iterator");
}

fn spec_1k() -> ElementSpec {
    ElementSpec::new(
        Structure::tuple_of_tensors(2),
        vec![
            TensorSpec::new(DType::I64, &[]),
            TensorSpec::new(DType::U8, &[PAYLOAD]),
        ],
    )
    .unwrap()
}

/// A 1 KiB element whose component 0 is `id`.
fn element_1k(id: i64) -> Element {
    Element::tuple(vec![
        Tensor::scalar(id),
        Tensor::from_vec1(vec![(id % 251) as u8; PAYLOAD]),
    ])
}

/// A stream (not random-access) of `n` 1 KiB elements with ids `0..n`.
fn stream_1k(n: i64) -> Dataset {
    Dataset::from_generator(spec_1k(), move || (0..n).map(|i| Ok(element_1k(i))))
}

fn id_of(e: &Element) -> i64 {
    e.component(0).unwrap().as_slice::<i64>().unwrap()[0]
}

fn parallel(calls: usize, deterministic: bool) -> MapOptions {
    MapOptions::default()
        .with_num_parallel_calls(calls)
        .with_deterministic(deterministic)
}

fn describe(err: &Error) -> String {
    format!("{err} / {err:?}")
}

/// Reads the iterator until its first error, checking the ids before it; returns the error.
/// `ordered`: the ids before the error must be exactly `0..expected_before`; otherwise only distinct
/// and without the failing one.
fn ids_then_error(it: &mut DatasetIter, expected_before: i64, ordered: bool) -> Error {
    let mut ids = Vec::new();
    for item in it.by_ref() {
        match item {
            Ok(e) => ids.push(id_of(&e)),
            Err(err) => {
                if ordered {
                    assert_eq!(
                        ids,
                        (0..expected_before).collect::<Vec<_>>(),
                        "elements lost before the error {}",
                        describe(&err)
                    );
                } else {
                    let distinct: BTreeSet<i64> = ids.iter().copied().collect();
                    assert_eq!(distinct.len(), ids.len(), "duplicated elements: {ids:?}");
                    // Out of order, later elements may come first; the failing one never does.
                    assert!(!ids.contains(&expected_before), "{ids:?}");
                }
                return err;
            }
        }
    }
    panic!(
        "the epoch ended after {} elements without an error",
        ids.len()
    );
}

// ---------------------------------------------------------------------------------------------
// A panicking map closure
// ---------------------------------------------------------------------------------------------

const PANIC_AT: i64 = 37;

/// range(0, 200) → map (panics at element 37) → optionally prefetch.
fn panicking_map(calls: usize, deterministic: bool, prefetch: bool) -> Dataset {
    let ds = Dataset::range(0, 200, 1).unwrap().map_with(
        parallel(calls, deterministic),
        |e: Element| {
            let x = e.component(0)?.as_slice::<i64>()?[0];
            if x == PANIC_AT {
                panic!("on purpose: bad element {x}");
            }
            // A little work, so that chunks finish out of order.
            std::thread::sleep(Duration::from_micros(200 * (x as u64 % 3)));
            Ok(Element::tuple(vec![Tensor::scalar(x)]))
        },
    );
    let ds = if prefetch { ds.prefetch(2) } else { ds };
    ds.with_options(Options::default().with_num_threads(4))
}

fn check_map_panic(calls: usize, deterministic: bool, prefetch: bool) {
    let ds = panicking_map(calls, deterministic, prefetch);
    let mut it = ds.iter();
    let ordered = deterministic || calls == 1;
    let err = ids_then_error(&mut it, PANIC_AT, ordered);
    let case = format!("calls {calls}, deterministic {deterministic}, prefetch {prefetch}");
    assert!(
        matches!(err.kind(), ErrorKind::Panic(m) if m.contains("bad element 37")),
        "{case}: {}",
        describe(&err)
    );
    assert_eq!(
        err.position().stage.as_deref(),
        Some("map"),
        "{case}: {}",
        describe(&err)
    );
    assert_eq!(
        err.position().element,
        Some(PANIC_AT as u64),
        "{case}: {}",
        describe(&err)
    );
    assert!(it.next().is_none(), "{case}: an element after the error");
    assert!(it.next().is_none(), "{case}: the iterator is not fused");
    drop_and_check_threads(it);
}

#[test]
fn a_panic_in_a_sequential_map_is_an_error_naming_map_and_the_element() {
    run_alone(|| {
        check_map_panic(1, true, false);
        check_map_panic(1, true, true);
    });
}

#[test]
fn a_panic_in_a_deterministic_parallel_map_keeps_every_element_before_it() {
    run_alone(|| {
        // Several runs: which chunk reaches the panic first varies.
        for _ in 0..5 {
            check_map_panic(4, true, false);
            check_map_panic(4, true, true);
        }
    });
}

#[test]
fn a_panic_in_a_nondeterministic_parallel_map_is_an_error_naming_map_and_the_element() {
    run_alone(|| {
        for _ in 0..5 {
            check_map_panic(4, false, false);
            check_map_panic(4, false, true);
        }
    });
}

#[test]
fn worker_threads_are_counted_while_a_pipeline_runs() {
    run_alone(|| {
        let ds = Dataset::range(0, 1000, 1)
            .unwrap()
            .map_with(parallel(4, true), Ok)
            .prefetch(2)
            .with_options(Options::default().with_num_threads(2));
        let mut it = ds.iter();
        assert_eq!(id_of(&it.next().unwrap().unwrap()), 0);
        // The prefetch thread and at least one pool thread have started.
        assert!(live_workers() >= 2, "live workers: {}", live_workers());
        drop_and_check_threads(it);
    });
}

// ---------------------------------------------------------------------------------------------
// A source error mid-stream
// ---------------------------------------------------------------------------------------------

const FAIL_AT: i64 = 53;

/// A generator of 1 KiB elements that returns an `Err` (or panics) at element 53.
fn failing_source(panics: bool) -> Dataset {
    Dataset::from_generator(spec_1k(), move || {
        (0..200i64).map(move |i| {
            if i == FAIL_AT {
                if panics {
                    panic!("on purpose: the source broke at {i}");
                }
                return Err(Error::user(format!("cannot read record {i}")));
            }
            Ok(element_1k(i))
        })
    })
}

/// The pipelines a source error must cross.
fn through_stages(source: Dataset) -> Vec<(&'static str, Dataset)> {
    let double = |e: Element| {
        let id = id_of(&e);
        Ok(Element::tuple(vec![
            Tensor::scalar(id),
            Tensor::scalar(id * 2),
        ]))
    };
    vec![
        ("prefetch", source.prefetch(4)),
        ("parallel map", source.map_with(parallel(4, true), double)),
        (
            "prefetch, parallel map, prefetch",
            source
                .prefetch(4)
                .map_with(parallel(4, true), double)
                .prefetch(1),
        ),
        (
            "parallel map, prefetch, with a memory budget",
            source
                .map_with(parallel(4, true), double)
                .prefetch(8)
                .with_options(Options::default().with_memory_budget(64 * ELEMENT_BYTES)),
        ),
    ]
}

fn check_source_failure(panics: bool) {
    for round in 0..3 {
        for (name, ds) in through_stages(failing_source(panics)) {
            let mut it = ds.iter();
            let err = ids_then_error(&mut it, FAIL_AT, true);
            let case = format!("{name} (round {round})");
            if panics {
                assert!(
                    matches!(err.kind(), ErrorKind::Panic(m) if m.contains("the source broke at 53")),
                    "{case}: {}",
                    describe(&err)
                );
            } else {
                assert!(
                    matches!(err.kind(), ErrorKind::User)
                        && err.chain().contains("cannot read record 53"),
                    "{case}: {}",
                    describe(&err)
                );
            }
            assert_eq!(
                err.position().stage.as_deref(),
                Some("from_generator"),
                "{case}: {}",
                describe(&err)
            );
            assert_eq!(
                err.position().element,
                Some(FAIL_AT as u64),
                "{case}: {}",
                describe(&err)
            );
            assert!(it.next().is_none(), "{case}: an element after the error");
            drop_and_check_threads(it);
        }
    }
}

#[test]
fn a_source_error_mid_stream_arrives_after_every_element_before_it() {
    run_alone(|| check_source_failure(false));
}

#[test]
fn a_source_panic_mid_stream_arrives_after_every_element_before_it() {
    run_alone(|| check_source_failure(true));
}

// ---------------------------------------------------------------------------------------------
// The consumer walks away mid-epoch
// ---------------------------------------------------------------------------------------------

/// A fast endless source → prefetch(1) → a slow-ish parallel map → prefetch(1), under a budget of
/// four elements: every stage soon waits on a full channel or the full budget.
fn blocked_pipeline(deterministic: bool) -> Dataset {
    Dataset::from_generator(spec_1k(), || (0..).map(|i| Ok(element_1k(i))))
        .prefetch(1)
        .map_with(parallel(4, deterministic), |e: Element| {
            std::thread::sleep(Duration::from_millis(2));
            Ok(e)
        })
        .prefetch(1)
        .with_options(
            Options::default()
                .with_memory_budget(4 * ELEMENT_BYTES)
                .with_num_threads(4),
        )
}

#[test]
fn dropping_the_iterator_while_stages_are_blocked_ends_every_thread() {
    run_alone(|| {
        for deterministic in [true, false] {
            for taken in [0usize, 1, 10] {
                let mut it = blocked_pipeline(deterministic).iter();
                for _ in 0..taken {
                    it.next().expect("an element").expect("no error");
                }
                // Let every stage fill its channel and the budget.
                std::thread::sleep(Duration::from_millis(50));
                drop_and_check_threads(it);
            }
        }
    });
}

#[test]
fn dropping_the_iterator_of_a_shuffled_budgeted_pipeline_ends_every_thread() {
    run_alone(|| {
        let ds = Dataset::from_generator(spec_1k(), || (0..).map(|i| Ok(element_1k(i))))
            .prefetch(1)
            .shuffle(100, Some(7), true)
            .unwrap()
            .prefetch(2)
            .map_with(parallel(4, true), Ok)
            .with_options(Options::default().with_memory_budget(16 * ELEMENT_BYTES));
        let mut it = ds.iter();
        it.next().expect("an element").expect("no error");
        std::thread::sleep(Duration::from_millis(50));
        drop_and_check_threads(it);
    });
}

// ---------------------------------------------------------------------------------------------
// Memory budgets
// ---------------------------------------------------------------------------------------------

#[test]
fn a_budget_smaller_than_one_element_is_an_error_not_a_deadlock() {
    run_alone(|| {
        let budget = || Options::default().with_memory_budget(100);
        let source = stream_1k(50);
        let slices =
            Dataset::from_tensor_slices(ndarray::Array2::<u8>::zeros((50, ELEMENT_BYTES))).unwrap();
        let cases: Vec<(&str, Dataset)> = vec![
            ("prefetch", source.prefetch(4)),
            ("shuffle", source.shuffle(10, Some(1), true).unwrap()),
            ("parallel map", source.map_with(parallel(4, true), Ok)),
            (
                "prefetch, shuffle, parallel map",
                source
                    .prefetch(4)
                    .shuffle(1000, Some(1), true)
                    .unwrap()
                    .map_with(parallel(4, true), Ok)
                    .prefetch(2),
            ),
            (
                "slices, shuffle, parallel map, prefetch",
                slices
                    .shuffle(1000, Some(1), true)
                    .unwrap()
                    .map_with(parallel(4, false), Ok)
                    .prefetch(2),
            ),
        ];
        for (name, ds) in cases {
            let mut it = ds.with_options(budget()).iter();
            let mut ok = 0;
            let err = loop {
                match it.next() {
                    Some(Ok(_)) => ok += 1,
                    Some(Err(e)) => break e,
                    None => panic!("{name}: the epoch ended without an error"),
                }
            };
            assert_eq!(ok, 0, "{name}: elements larger than the budget came out");
            assert!(
                matches!(err.kind(), ErrorKind::ExceedsMemoryBudget { bytes, budget } if bytes > budget),
                "{name}: {}",
                describe(&err)
            );
            assert!(err.position().stage.is_some(), "{name}: {}", describe(&err));
            assert!(it.next().is_none(), "{name}: an element after the error");
            drop_and_check_threads(it);
        }
    });
}

/// Runs `ds` to the end; every id in `0..n` must come exactly once and the peak bytes in flight must
/// stay within `budget`.
fn check_complete_within_budget(name: &str, ds: &Dataset, n: i64, budget: usize) {
    let mut it = ds.iter();
    // Component 0 of each element, or of each batch, flattened.
    let mut ids: Vec<i64> = it
        .by_ref()
        .flat_map(|e| {
            let e = e.unwrap_or_else(|err| panic!("{name}: {}", describe(&err)));
            e.component(0).unwrap().as_slice::<i64>().unwrap().to_vec()
        })
        .collect();
    let stats = it.stats();
    ids.sort_unstable();
    assert_eq!(ids, (0..n).collect::<Vec<_>>(), "{name}");
    assert_eq!(stats.memory_budget, Some(budget), "{name}");
    assert!(
        stats.peak_bytes_in_flight <= budget,
        "{name}: peak {} bytes over a budget of {budget}",
        stats.peak_bytes_in_flight
    );
    assert!(
        stats.peak_bytes_in_flight > 0,
        "{name}: nothing was counted"
    );
    drop_and_check_threads(it);
}

#[test]
fn a_budget_of_a_few_elements_completes_within_the_budget() {
    run_alone(|| {
        let n = 500;
        let budget = 8 * ELEMENT_BYTES;
        let options = || {
            Options::default()
                .with_memory_budget(budget)
                .with_num_threads(4)
        };
        let source = stream_1k(n);
        let cases: Vec<(&str, Dataset)> = vec![
            (
                "shuffle(1000), prefetch(8), parallel map",
                source
                    .shuffle(1000, Some(3), true)
                    .unwrap()
                    .prefetch(8)
                    .map_with(parallel(4, true), Ok),
            ),
            (
                "shuffle(1000), parallel map, prefetch(8)",
                source
                    .shuffle(1000, Some(3), true)
                    .unwrap()
                    .map_with(parallel(4, false), Ok)
                    .prefetch(8),
            ),
            (
                "prefetch(8), shuffle(1000), prefetch(8), parallel map, prefetch(8)",
                source
                    .prefetch(8)
                    .shuffle(1000, Some(3), true)
                    .unwrap()
                    .prefetch(8)
                    .map_with(parallel(4, true), Ok)
                    .prefetch(8),
            ),
            (
                "shuffle(1000), batch(4), prefetch(2)",
                source
                    .shuffle(1000, Some(3), true)
                    .unwrap()
                    .batch(4, false)
                    .unwrap()
                    .prefetch(2),
            ),
            (
                "prefetch(1), shuffle(1000), batch(2), parallel map_batch, prefetch(2)",
                source
                    .prefetch(1)
                    .shuffle(1000, Some(3), true)
                    .unwrap()
                    .batch(2, false)
                    .unwrap()
                    .map_batch_with(parallel(2, false), Ok)
                    .prefetch(2),
            ),
        ];
        for round in 0..3 {
            for (name, ds) in &cases {
                let name = format!("{name} (round {round})");
                check_complete_within_budget(&name, &ds.with_options(options()), n, budget);
            }
        }
    });
}

mod io_faults;
