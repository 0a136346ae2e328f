//! `prefetch`: a producer thread keeps up to `buffer_size` elements ready ahead of the consumer.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Receiver};

use crate::dataset::{Cardinality, Context, Dataset, Item, Node, OutputQueue, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::stats::StageCounters;
use crate::runtime::WorkerGuard;

struct PrefetchNode {
    input: Arc<dyn Node>,
    buffer_size: usize,
}

enum Message {
    /// An item, holding its bytes of the budget while queued.
    Item(Result<Item>),
    End,
}

/// The consumer's end. Dropping it disconnects the channel (the producer's next send fails and it
/// returns) and joins the producer thread.
struct Prefetched {
    rx: Option<Receiver<Message>>,
    handle: Option<JoinHandle<()>>,
    counters: Option<Arc<StageCounters>>,
    finished: bool,
    /// The plan's output queue count, when this is the plan's last stage.
    queued: Option<Arc<OutputQueue>>,
}

impl Iterator for Prefetched {
    type Item = Result<Item>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let rx = self.rx.as_ref()?;
        let start = self.counters.as_ref().and_then(|c| c.wait_start());
        let message = rx.recv();
        if let Some(c) = &self.counters {
            c.wait_end(start);
        }
        if let (Ok(_), Some(q)) = (&message, &self.queued) {
            q.lower();
        }
        match message {
            // The item leaves the queue: its bytes go on with it to the stage that pulled it.
            Ok(Message::Item(item)) => Some(item),
            Ok(Message::End) => {
                self.finished = true;
                None
            }
            Err(_) => {
                self.finished = true;
                Some(Err(
                    Error::new(ErrorKind::ProducerGone).with_stage("prefetch")
                ))
            }
        }
    }
}

impl Drop for Prefetched {
    fn drop(&mut self) {
        if let Some(q) = &self.queued {
            q.close();
        }
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

    fn sample(&self, ctx: &Context) -> Result<Option<Element>> {
        self.input.sample(ctx)
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        // The input runs on the producer thread: its time is not the consumer's.
        let input = self.input.open(&ctx.on_own_thread())?.into_items();
        // The channel allocates its slots up front: a size beyond any real need is held at a bound.
        let base = self.buffer_size.min(MAX_PREFETCH_SLOTS);
        // At the plan's output the consumer may let the producer run further ahead (the queue
        // then keeps to the capacity it asks for: see OutputQueue).
        let slots = match &ctx.output_queue {
            Some(q) => {
                q.set_base(base);
                base + MAX_EXTRA_SLOTS
            }
            None => base,
        };
        let (tx, rx) = bounded(slots);
        let budget = ctx.runtime.budget.clone();
        let counters = ctx.stage.clone();
        let producer_counters = counters.clone();
        // Counted before each send, so the count is never below what the queue holds (a producer
        // blocked on a full queue counts one more, and the queue is then not empty).
        let queued = ctx.output_queue.clone();
        let producer_queued = queued.clone();
        let count = move || {
            if let Some(q) = &producer_queued {
                q.wait_room();
                q.raise();
            }
        };
        let handle = std::thread::Builder::new()
            .name("slicestream-prefetch".into())
            .spawn(move || {
                let _live = WorkerGuard::new();
                let mut input = input;
                loop {
                    let Some(item) = input.next() else { break };
                    let start = producer_counters.as_ref().and_then(|c| c.wait_start());
                    // The item's bytes wait in the queue: only what it did not hold upstream is new.
                    let item = match item {
                        Ok(mut item) => match item.hold(&budget, true) {
                            Ok(_) => Ok(item),
                            Err(e) => Err(e.with_stage("prefetch")),
                        },
                        Err(e) => Err(e),
                    };
                    let failed = item.is_err();
                    count();
                    let sent = tx.send(Message::Item(item));
                    if let Some(c) = &producer_counters {
                        c.wait_end(start);
                    }
                    if sent.is_err() || failed {
                        return;
                    }
                }
                drop(input);
                count();
                let _ = tx.send(Message::End);
            })
            .map_err(|e| {
                Error::new(ErrorKind::ThreadSpawn)
                    .with_source(e)
                    .with_stage("prefetch")
            })?;
        Ok(Stream::Items(Box::new(Prefetched {
            rx: Some(rx),
            handle: Some(handle),
            counters,
            finished: false,
            queued,
        })))
    }
}

/// The most elements a prefetch queue holds, whatever its `buffer_size`.
const MAX_PREFETCH_SLOTS: usize = 1 << 16;

/// The most slots a consumer may add to the output prefetch ([`crate::DatasetIter::read_ahead`]).
pub(crate) const MAX_EXTRA_SLOTS: usize = 1024;

impl Dataset {
    /// Produces elements on a separate thread, up to `buffer_size` ahead of the consumer
    /// (tf.data's `prefetch`). Queued elements count against the memory budget
    /// ([`crate::runtime::Options::with_memory_budget`]). Dropping the iteration stops and joins the
    /// thread. A `buffer_size` above 65,536 buffers 65,536 elements (the queue's slots are allocated
    /// up front; the elements produced are the same).
    pub fn prefetch(&self, buffer_size: usize) -> Dataset {
        self.derive(PrefetchNode {
            input: self.node().clone(),
            buffer_size,
        })
    }
}
