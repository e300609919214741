//! Training batches rendered on a second thread while the current step computes.
//!
//! [`Prefetch`] draws exactly the batches the training loop would draw itself (the same
//! `sample_batch` calls on the same [`RandomState`], in order) a few steps ahead, and hands each one
//! over with the data RNG's state just after it, which is what a checkpoint must store: a run that
//! stops and resumes draws the same batches as one that never stopped. Dropping the [`Prefetch`]
//! stops the thread; the batches it had drawn ahead are discarded.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use disc_data::{DataError, GroundTruthData, RandomState};

/// One rendered batch: the NHWC images and the data RNG's state after drawing them.
pub type Batch = (Vec<f32>, RandomState);

/// A background thread drawing batches of `batch` observations from a dataset.
pub struct Prefetch {
    data: Arc<dyn GroundTruthData>,
    batch: usize,
    /// The data RNG's state after the last batch handed out.
    rng: RandomState,
    receiver: Option<Receiver<Result<Batch, DataError>>>,
    worker: Option<JoinHandle<()>>,
}

impl Prefetch {
    /// Starts drawing batches from `rng`'s current state, at most `ahead` (≥ 1) beyond the one
    /// being consumed.
    pub fn spawn(
        data: Arc<dyn GroundTruthData>,
        batch: usize,
        rng: RandomState,
        ahead: usize,
    ) -> Self {
        let (sender, receiver) = sync_channel(ahead.max(1));
        let (thread_data, thread_rng) = (Arc::clone(&data), rng.clone());
        let worker = std::thread::Builder::new()
            .name("disc-batches".into())
            .spawn(move || draw(thread_data.as_ref(), batch, thread_rng, sender))
            .ok();
        Prefetch {
            data,
            batch,
            rng,
            receiver: worker.is_some().then_some(receiver),
            worker,
        }
    }

    /// The next batch, in the order the loop would have drawn them. If the thread could not be
    /// started or has died, the batch is drawn here, from the state after the last one.
    pub fn next_batch(&mut self) -> Result<Batch, DataError> {
        let received = self.receiver.as_ref().and_then(|r| r.recv().ok());
        let drawn = match received {
            Some(drawn) => drawn,
            None => {
                self.receiver = None;
                let mut rng = self.rng.clone();
                disc_data::sample_batch(self.data.as_ref(), self.batch, &mut rng)
                    .map(|(_, images)| (images, rng))
            }
        }?;
        self.rng = drawn.1.clone();
        Ok(drawn)
    }
}

fn draw(
    data: &dyn GroundTruthData,
    batch: usize,
    mut rng: RandomState,
    sender: SyncSender<Result<Batch, DataError>>,
) {
    loop {
        let drawn =
            disc_data::sample_batch(data, batch, &mut rng).map(|(_, images)| (images, rng.clone()));
        let failed = drawn.is_err();
        // A closed channel means the consumer is gone: stop.
        if sender.send(drawn).is_err() || failed {
            return;
        }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        // Closing the channel first makes the thread's next send fail, so the join returns.
        self.receiver.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
