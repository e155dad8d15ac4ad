//! Training straight from a live store: synthesis workers (linking, paths, rationales) run ahead
//! of the training loop and hand it tokenised examples through a bounded queue. No intermediate
//! file; memory is capped by the queue's bound.
//!
//! - Order: workers claim examples in the order the loop will take them and the loop puts them
//!   back in order, so a run streams the same batches, in the same order, as the file-based run
//!   on the same synthesised data (same seed, unchanged store).
//! - Backpressure: a worker claims an example only while fewer than `capacity` are waiting, so a
//!   fast synthesis never outruns memory, and a slow one is the only thing the loop waits on.
//! - Rationale writers: with a language model writing the rationales (see
//!   `kale_datasets::synth::writer`), each worker has its item's rationale written before it is
//!   tokenised, one item per request, so a greedy writer gives the same text whatever the
//!   workers' timing; its cache makes every epoch after the first ask nothing.
//! - Freshness: every epoch starts by catching up with the store (a follower of another writing
//!   process sees its commits), refreshing the adjacency and rebuilding the linker, so examples
//!   synthesised after a committed update see its edges and labels.

use crate::data::{Example, PromptEncoder, Tokenized};
use crate::error::{Result, TrainerError};
use crate::tokenizer::TextTokenizer;
use crate::train::Examples;
use kale_datasets::qa::QaItem;
use kale_datasets::synth::writer::{Rewriter, WriterSummary};
use kale_datasets::synth::{SynthConfig, Synthesized, Synthesizer};
use kg_store::progress::NoProgress;
use kg_store::{Adjacency, Store};
use rustc_hash::FxHashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

/// What workers and the loop share.
struct Shared {
    /// Positions in the epoch's order: next to claim, and taken by the loop.
    claimed: AtomicUsize,
    taken: AtomicUsize,
    ready: Mutex<FxHashMap<usize, Result<(Tokenized, Synthesized)>>>,
    /// Signalled when an example is ready or one is taken.
    changed: Condvar,
    stop: AtomicBool,
    synthesized: AtomicUsize,
}

/// What the writer did, all epochs.
type WriterCounts = Arc<Mutex<WriterSummary>>;

/// How much a stream runs ahead of the loop.
#[derive(Clone, Copy, Debug)]
pub struct StreamLimits {
    /// Synthesis threads.
    pub workers: usize,
    /// Examples waiting for the loop at most.
    pub capacity: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            workers: threads.div_ceil(2),
            capacity: 256,
        }
    }
}

/// Examples synthesised from a live store while training runs.
pub struct StreamingExamples {
    items: Vec<QaItem>,
    student_lens: Vec<usize>,
    store: Store,
    adjacency: Adjacency,
    synth_config: SynthConfig,
    tokenizer: Arc<TextTokenizer>,
    encoder: PromptEncoder,
    workers: usize,
    capacity: usize,
    /// The epoch's order (example indexes) and where each example sits in it.
    order: Arc<Vec<usize>>,
    position: FxHashMap<usize, usize>,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    rewriter: Option<Arc<Rewriter>>,
    written: WriterCounts,
    write: Option<Box<dyn Write + Send>>,
    started: Instant,
}

impl StreamingExamples {
    /// `store` may be a follower (`Store::open_secondary`) of a process that writes it.
    pub fn new(
        store: Store,
        items: Vec<QaItem>,
        synth_config: SynthConfig,
        tokenizer: Arc<TextTokenizer>,
        encoder: PromptEncoder,
        limits: StreamLimits,
    ) -> Result<Self> {
        let adjacency = Adjacency::open(&store)?;
        let mut student_lens = Vec::with_capacity(items.len());
        for item in &items {
            let plain = Example::Qa {
                item: item.clone(),
                rationale: None,
            };
            let len = encoder
                .tokenize(&tokenizer, &plain)?
                .map(|t| t.len())
                .ok_or_else(|| {
                    TrainerError::InvalidInput(format!(
                        "item {} is longer than the model's {} positions",
                        item.id, encoder.max_len
                    ))
                })?;
            student_lens.push(len);
        }
        Ok(Self {
            items,
            student_lens,
            store,
            adjacency,
            synth_config,
            tokenizer,
            encoder,
            workers: limits.workers.max(1),
            capacity: limits.capacity.max(1),
            order: Arc::new(Vec::new()),
            position: FxHashMap::default(),
            shared: Arc::new(Shared {
                claimed: AtomicUsize::new(0),
                taken: AtomicUsize::new(0),
                ready: Mutex::new(FxHashMap::default()),
                changed: Condvar::new(),
                stop: AtomicBool::new(false),
                synthesized: AtomicUsize::new(0),
            }),
            threads: Vec::new(),
            rewriter: None,
            written: Arc::default(),
            write: None,
            started: Instant::now(),
        })
    }

    /// Has a language model write the rationales (the template's stand where its text is
    /// refused).
    pub fn with_rewriter(mut self, rewriter: Rewriter) -> Self {
        self.rewriter = Some(Arc::new(rewriter));
        self
    }

    /// What the rationale writer did so far, when there is one.
    pub fn writer_summary(&self) -> Option<WriterSummary> {
        self.rewriter.as_ref().map(|_| {
            self.written
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone()
        })
    }

    /// Also writes every synthesised item, in the order taken, as JSONL (`kale synth`'s format).
    pub fn write_synthesized(&mut self, out: Box<dyn Write + Send>) {
        self.write = Some(out);
    }

    fn stop_workers(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.changed.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    /// Examples synthesised so far (all epochs).
    pub fn synthesized(&self) -> usize {
        self.shared.synthesized.load(Ordering::Relaxed)
    }
}

impl Drop for StreamingExamples {
    fn drop(&mut self) {
        self.stop_workers();
    }
}

impl Examples for StreamingExamples {
    fn len(&self) -> usize {
        self.items.len()
    }

    fn student_len(&self, i: usize) -> usize {
        self.student_lens[i]
    }

    fn plan(&mut self, _epoch: u64, batches: &[Vec<usize>], start: usize) -> Result<()> {
        self.stop_workers();
        // See the store as it is now: commits of other processes, new edges, new labels.
        self.store.catch_up()?;
        self.adjacency.refresh(&self.store)?;
        let synthesizer = Arc::new(Synthesizer::with_adjacency(
            &self.store,
            self.adjacency.clone(),
            self.synth_config.clone(),
        )?);
        let order: Vec<usize> = batches[start..].concat();
        self.position = order.iter().enumerate().map(|(k, &i)| (i, k)).collect();
        self.order = Arc::new(order);
        self.shared = Arc::new(Shared {
            claimed: AtomicUsize::new(0),
            taken: AtomicUsize::new(0),
            ready: Mutex::new(FxHashMap::default()),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
            synthesized: AtomicUsize::new(self.shared.synthesized.load(Ordering::Relaxed)),
        });
        for _ in 0..self.workers {
            let shared = Arc::clone(&self.shared);
            let order = Arc::clone(&self.order);
            let synthesizer = Arc::clone(&synthesizer);
            let items = self.items.clone();
            let tokenizer = Arc::clone(&self.tokenizer);
            let encoder = self.encoder.clone();
            let capacity = self.capacity;
            let rewriter = self.rewriter.clone();
            let written = Arc::clone(&self.written);
            self.threads.push(std::thread::spawn(move || loop {
                // Claim the next position once fewer than `capacity` wait for the loop.
                let k = {
                    let mut ready = shared.ready.lock().unwrap_or_else(|e| e.into_inner());
                    loop {
                        if shared.stop.load(Ordering::SeqCst) {
                            return;
                        }
                        let claimed = shared.claimed.load(Ordering::SeqCst);
                        if claimed >= order.len() {
                            return;
                        }
                        if claimed < shared.taken.load(Ordering::SeqCst) + capacity {
                            shared.claimed.store(claimed + 1, Ordering::SeqCst);
                            break claimed;
                        }
                        ready = shared
                            .changed
                            .wait(ready)
                            .unwrap_or_else(|e| e.into_inner());
                    }
                };
                let item = &items[order[k]];
                let result = synthesizer
                    .synthesize(item)
                    .and_then(|mut s| {
                        if let Some(rewriter) = &rewriter {
                            let done =
                                rewriter.rewrite(std::slice::from_mut(&mut s), &NoProgress)?;
                            written
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .add(&done);
                        }
                        Ok(s)
                    })
                    .map_err(TrainerError::from)
                    .and_then(|s| {
                        let rationale = (!s.rationale.is_empty()).then(|| s.rationale.clone());
                        let example = Example::Qa {
                            item: item.clone(),
                            rationale,
                        };
                        let tokens = encoder.tokenize(&tokenizer, &example)?.ok_or_else(|| {
                            TrainerError::InvalidInput(format!("item {} no longer fits", item.id))
                        })?;
                        Ok((tokens, s))
                    });
                shared.synthesized.fetch_add(1, Ordering::Relaxed);
                shared
                    .ready
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(k, result);
                shared.changed.notify_all();
            }));
        }
        Ok(())
    }

    fn take(&mut self, i: usize) -> Result<Tokenized> {
        let k = *self
            .position
            .get(&i)
            .ok_or_else(|| TrainerError::InvalidInput(format!("example {i} was not planned")))?;
        let (tokens, synthesized) = {
            let mut ready = self.shared.ready.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if let Some(done) = ready.remove(&k) {
                    break done?;
                }
                ready = self
                    .shared
                    .changed
                    .wait(ready)
                    .unwrap_or_else(|e| e.into_inner());
            }
        };
        self.shared.taken.fetch_max(k + 1, Ordering::SeqCst);
        self.shared.changed.notify_all();
        if let Some(out) = &mut self.write {
            serde_json::to_writer(&mut *out, &synthesized)
                .map_err(|e| TrainerError::InvalidInput(e.to_string()))?;
            out.write_all(b"\n")
                .map_err(TrainerError::io("<synthesised output>"))?;
        }
        Ok(tokens)
    }

    fn status(&self) -> Option<String> {
        let waiting = self.shared.ready.lock().map(|r| r.len()).unwrap_or(0);
        let rate = self.synthesized() as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        Some(format!(
            "queue {waiting}/{}, synth {rate:.0}/s",
            self.capacity
        ))
    }
}
