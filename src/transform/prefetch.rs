//! `prefetch`: a producer thread keeps up to `buffer_size` elements ready ahead of the consumer.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Receiver};

use crate::dataset::{Cardinality, Context, Dataset, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::{Error, ErrorKind, Result};

struct PrefetchNode {
    input: Arc<dyn Node>,
    buffer_size: usize,
}

enum Message {
    Item(Result<Element>),
    End,
}

/// The consumer's end. Dropping it disconnects the channel (the producer's next send fails and it
/// returns) and joins the producer thread.
struct Prefetched {
    rx: Option<Receiver<Message>>,
    handle: Option<JoinHandle<()>>,
    finished: bool,
}

impl Iterator for Prefetched {
    type Item = Result<Element>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let rx = self.rx.as_ref()?;
        match rx.recv() {
            Ok(Message::Item(item)) => Some(item),
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
    fn spec(&self) -> Result<ElementSpec> {
        self.input.spec()
    }

    fn cardinality(&self) -> Cardinality {
        self.input.cardinality()
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let input = self.input.open(ctx)?.into_elements();
        let (tx, rx) = bounded(self.buffer_size);
        let handle = std::thread::Builder::new()
            .name("slicestream-prefetch".into())
            .spawn(move || {
                for item in input {
                    let failed = item.is_err();
                    if tx.send(Message::Item(item)).is_err() {
                        return;
                    }
                    if failed {
                        return;
                    }
                }
                let _ = tx.send(Message::End);
            })
            .map_err(|e| {
                Error::new(ErrorKind::Disconnected("cannot start the prefetch thread".into()))
                    .with_source(e)
                    .with_stage("prefetch")
            })?;
        Ok(Stream::Elements(Box::new(Prefetched {
            rx: Some(rx),
            handle: Some(handle),
            finished: false,
        })))
    }
}

impl Dataset {
    /// Produces elements on a separate thread, up to `buffer_size` ahead of the consumer
    /// (tf.data's `prefetch`). Dropping the iteration stops and joins the thread.
    pub fn prefetch(&self, buffer_size: usize) -> Dataset {
        Dataset::from_node(PrefetchNode {
            input: self.node().clone(),
            buffer_size,
        })
    }
}
