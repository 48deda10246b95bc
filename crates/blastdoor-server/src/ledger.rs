//! Recording decisions. [`DecisionLog`] is where records go (the audit ledger,
//! [`blastdoor_audit::Ledger`]; the trait also lets tests exercise a ledger that cannot be
//! written). [`LedgerWriter`] is the one thread that writes it: requests redact and encode
//! their record on their own thread, hand it over a channel and wait for the durable sequence
//! number, and the writer commits everything that is queued in one transaction (one fsync), so
//! the serial part per record is only numbering, hashing and the insert. Measured on the bench machine, this replaced a blocking
//! thread per request waiting on the ledger's own group commit, whose context switches cost more
//! than the decisions themselves.

use std::sync::Arc;
use std::sync::mpsc;

use blastdoor_audit::{EncodedRecord, Ledger, Record};

/// Most records committed in one transaction.
const MAX_BATCH: usize = 512;

/// Appends records and returns their sequence numbers once they are durable.
pub trait DecisionLog: Send + Sync + 'static {
    fn append(&self, record: &Record) -> Result<u64, String>;

    /// Appends all of `records` (encoded by [`EncodedRecord::new`]) durably, in order, in one
    /// transaction.
    fn append_encoded_batch(&self, records: &[EncodedRecord]) -> Result<Vec<u64>, String>;
}

impl DecisionLog for Ledger {
    fn append(&self, record: &Record) -> Result<u64, String> {
        Ledger::append(self, record).map_err(|error| error.to_string())
    }

    fn append_encoded_batch(&self, records: &[EncodedRecord]) -> Result<Vec<u64>, String> {
        Ledger::append_encoded_batch(self, records).map_err(|error| error.to_string())
    }
}

type Reply = tokio::sync::oneshot::Sender<Result<u64, String>>;

/// The ledger's single writer thread.
#[derive(Debug)]
pub(crate) struct LedgerWriter {
    jobs: mpsc::Sender<(EncodedRecord, Option<Reply>)>,
}

impl LedgerWriter {
    /// Starts the writer thread; it stops when the writer is dropped.
    pub(crate) fn start(log: Arc<dyn DecisionLog>) -> Result<LedgerWriter, std::io::Error> {
        let (jobs, queue) = mpsc::channel::<(EncodedRecord, Option<Reply>)>();
        std::thread::Builder::new().name("blastdoor-ledger".to_owned()).spawn(move || {
            while let Ok(first) = queue.recv() {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match queue.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let (records, replies): (Vec<EncodedRecord>, Vec<Option<Reply>>) =
                    batch.into_iter().unzip();
                match log.append_encoded_batch(&records) {
                    Ok(seqs) => {
                        for (reply, seq) in replies.into_iter().zip(seqs) {
                            if let Some(reply) = reply {
                                let _ = reply.send(Ok(seq));
                            }
                        }
                    }
                    Err(error) => {
                        tracing::error!(%error, records = records.len(), "ledger append failed");
                        for reply in replies.into_iter().flatten() {
                            let _ = reply.send(Err(error.clone()));
                        }
                    }
                }
            }
        })?;
        Ok(LedgerWriter { jobs })
    }

    /// Appends `record`; returns its sequence number once durable.
    pub(crate) async fn append(&self, record: &Record) -> Result<u64, String> {
        let encoded = EncodedRecord::new(record).map_err(|error| error.to_string())?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send((encoded, Some(reply)))
            .map_err(|_| "the ledger writer has stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "the ledger writer has stopped".to_owned())?
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use blastdoor_core::{Actor, Layer, Operation, OperationKind, Risk, Verdict};

    use super::*;

    /// Counts records and remembers batch sizes; fails when told to.
    #[derive(Default)]
    struct CountingLog {
        batches: Mutex<Vec<usize>>,
        fail: bool,
    }

    impl DecisionLog for CountingLog {
        fn append(&self, _record: &Record) -> Result<u64, String> {
            Err("single appends are not used by the writer".to_owned())
        }

        fn append_encoded_batch(&self, records: &[EncodedRecord]) -> Result<Vec<u64>, String> {
            if self.fail {
                return Err("disk full".to_owned());
            }
            let mut batches = self.batches.lock().unwrap();
            let before: usize = batches.iter().sum();
            batches.push(records.len());
            Ok((before..before + records.len())
                .map(|seq| seq as u64 + 1)
                .collect())
        }
    }

    fn record() -> Record {
        Record {
            time_unix_ms: 0,
            layer: Layer::Gateway,
            actor: Actor::default(),
            operation: Operation::new(OperationKind::Graphql, "query me", Risk::Read, vec![]),
            verdict: Verdict::allow(vec![]),
            hold_id: None,
            approvers: vec![],
            snapshot_id: None,
            upstream_response: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_each_get_their_own_durable_sequence_number() {
        let log = Arc::new(CountingLog::default());
        let writer = Arc::new(LedgerWriter::start(log.clone()).unwrap());
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let writer = Arc::clone(&writer);
            tasks.push(tokio::spawn(async move { writer.append(&record()).await }));
        }
        let mut seqs = Vec::new();
        for task in tasks {
            seqs.push(task.await.unwrap().unwrap());
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=200).collect::<Vec<u64>>());
        assert_eq!(log.batches.lock().unwrap().iter().sum::<usize>(), 200);
    }

    #[tokio::test]
    async fn a_failed_commit_fails_every_waiting_append() {
        let log = Arc::new(CountingLog {
            fail: true,
            ..CountingLog::default()
        });
        let writer = LedgerWriter::start(log).unwrap();
        assert_eq!(writer.append(&record()).await, Err("disk full".to_owned()));
    }
}
