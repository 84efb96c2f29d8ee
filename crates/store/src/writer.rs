//! SQLite's single writer: one task owns the only write connection and commits the
//! write jobs it receives in groups.
//!
//! SQLite allows one writer at a time; a pool of writers would only queue on the file
//! lock and pay one fsync per commit. Instead, every write is a job sent to this task,
//! which takes all jobs waiting (up to [`MAX_BATCH`]), runs each inside its own
//! savepoint of one `BEGIN IMMEDIATE` transaction, and commits once. A failing job
//! rolls back to its savepoint and fails alone; a failing commit fails the whole group.
//! Every caller is answered only after the commit that holds its job, so "acknowledged"
//! means "on disk" with `synchronous = FULL`.

use futures::future::BoxFuture;
use sqlx::{Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use crate::{Result, StoreError};

/// The most jobs committed together.
pub(crate) const MAX_BATCH: usize = 1024;

type Finish = Box<dyn FnOnce(Option<String>) + Send>;
type Job =
    Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (bool, Finish)> + Send>;

/// A handle that sends write jobs to the writer task.
#[derive(Clone)]
pub(crate) struct SqliteWriter {
    jobs: mpsc::Sender<Job>,
}

impl SqliteWriter {
    /// Starts the writer task on `conn`.
    pub(crate) fn start(conn: SqliteConnection) -> Self {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(conn, rx));
        Self { jobs }
    }

    /// Runs `f` inside a group transaction and returns its result once committed.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let result = f(conn).await;
                let ok = result.is_ok();
                let finish: Finish = Box::new(move |commit_error| {
                    let outcome = match commit_error {
                        None => result,
                        Some(e) => Err(StoreError::Database(format!("commit failed: {e}"))),
                    };
                    let _ = tx.send(outcome);
                });
                (ok, finish)
            })
        });
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| {
            StoreError::Database("the write was not carried out: the SQLite writer could not start a transaction (see the log)".into())
        })?
    }
}

async fn run(mut conn: SqliteConnection, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_group(&mut conn, &mut batch).await;
    }
    let _ = conn.close().await;
}

async fn commit_group(conn: &mut SqliteConnection, batch: &mut Vec<Job>) {
    let mut finishes: Vec<Finish> = Vec::with_capacity(batch.len());
    let mut tx = match conn.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => {
            let msg = e.to_string();
            // The jobs never ran: answer each with the error without running it.
            for job in batch.drain(..) {
                drop(job);
            }
            tracing::error!(error = %msg, "sqlite writer could not begin a transaction");
            return;
        }
    };
    for job in batch.drain(..) {
        let mut savepoint = match tx.begin().await {
            Ok(sp) => sp,
            Err(e) => {
                tracing::error!(error = %e, "sqlite writer could not open a savepoint");
                drop(job);
                continue;
            }
        };
        let (ok, finish) = job(&mut savepoint).await;
        let closed = if ok {
            savepoint.commit().await
        } else {
            savepoint.rollback().await
        };
        if let Err(e) = closed {
            tracing::error!(error = %e, "sqlite writer could not close a savepoint");
        }
        finishes.push(finish);
    }
    let commit_error = tx.commit().await.err().map(|e| e.to_string());
    if let Some(e) = &commit_error {
        tracing::error!(error = %e, jobs = finishes.len(), "sqlite group commit failed");
    }
    for finish in finishes {
        finish(commit_error.clone());
    }
}
