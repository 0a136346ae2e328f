//! `prefetch`: a producer thread keeps up to `buffer_size` elements ready ahead of the consumer.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{bounded, Receiver};

use crate::dataset::{Cardinality, Context, Dataset, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::stats::StageCounters;
use crate::runtime::{hand_on, hand_on_mark, take_handed_on, Reservation, WorkerGuard};

struct PrefetchNode {
    input: Arc<dyn Node>,
    buffer_size: usize,
}

enum Message {
    /// An element with the budget it holds while queued.
    Item(Result<Element>, Option<Reservation>),
    End,
}

/// The consumer's end. Dropping it disconnects the channel (the producer's next send fails and it
/// returns) and joins the producer thread.
struct Prefetched {
    rx: Option<Receiver<Message>>,
    handle: Option<JoinHandle<()>>,
    counters: Option<Arc<StageCounters>>,
    finished: bool,
}

impl Iterator for Prefetched {
    type Item = Result<Element>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let rx = self.rx.as_ref()?;
        let start = Instant::now();
        let message = rx.recv();
        if let Some(c) = &self.counters {
            c.add_wait(start.elapsed());
        }
        match message {
            // The element leaves the queue: its bytes go on with it to the stage that pulled it.
            Ok(Message::Item(item, reservation)) => {
                if let Some(r) = reservation {
                    hand_on(r);
                }
                Some(item)
            }
            Ok(Message::End) => {
                self.finished = true;
                None
            }
            Err(_) => {
                self.finished = true;
                Some(Err(Error::new(ErrorKind::Disconnected(
                    "the prefetch thread ended without finishing its input".into(),
                ))
                .with_stage("prefetch")))
            }
        }
    }
}

impl Drop for Prefetched {
    fn drop(&mut self) {
        self.rx.take();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Node for PrefetchNode {
    fn name(&self) -> &'static str {
        "prefetch"
    }

    fn spec(&self) -> Result<ElementSpec> {
        self.input.spec()
    }

    fn cardinality(&self) -> Cardinality {
        self.input.cardinality()
    }

    fn is_random_access(&self) -> bool {
        false
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let input = self.input.open(ctx)?.into_elements();
        let (tx, rx) = bounded(self.buffer_size);
        let budget = ctx.runtime.budget.clone();
        let counters = ctx.stage.clone();
        let producer_counters = counters.clone();
        let handle = std::thread::Builder::new()
            .name("slicestream-prefetch".into())
            .spawn(move || {
                let _live = WorkerGuard::new();
                let mut input = input;
                loop {
                    let mark = hand_on_mark();
                    let Some(item) = input.next() else { break };
                    // The bytes the element already held upstream, if any: only the rest is new.
                    let mut reservation = take_handed_on(&budget, mark);
                    let start = Instant::now();
                    let reservation = match &item {
                        Ok(e) => match reservation.resize(e.nbytes()) {
                            Ok(()) => Some(reservation),
                            Err(err) => {
                                let _ =
                                    tx.send(Message::Item(Err(err.with_stage("prefetch")), None));
                                return;
                            }
                        },
                        Err(_) => None,
                    };
                    let failed = item.is_err();
                    let sent = tx.send(Message::Item(item, reservation));
                    if let Some(c) = &producer_counters {
                        c.add_wait(start.elapsed());
                    }
                    if sent.is_err() || failed {
                        return;
                    }
                }
                drop(input);
                let _ = tx.send(Message::End);
            })
            .map_err(|e| {
                Error::new(ErrorKind::Disconnected(
                    "cannot start the prefetch thread".into(),
                ))
                .with_source(e)
                .with_stage("prefetch")
            })?;
        Ok(Stream::Elements(Box::new(Prefetched {
            rx: Some(rx),
            handle: Some(handle),
            counters,
            finished: false,
        })))
    }
}

impl Dataset {
    /// Produces elements on a separate thread, up to `buffer_size` ahead of the consumer
    /// (tf.data's `prefetch`). Queued elements count against the memory budget
    /// ([`crate::runtime::Options::with_memory_budget`]). Dropping the iteration stops and joins the
    /// thread.
    pub fn prefetch(&self, buffer_size: usize) -> Dataset {
        self.derive(PrefetchNode {
            input: self.node().clone(),
            buffer_size,
        })
    }
}
