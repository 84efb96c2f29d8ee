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
        let (job, rx) = job(f);
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| {
            StoreError::Database("the write was not carried out: the SQLite writer could not start a transaction (see the log)".into())
        })?
    }
}

/// Wraps `f` as a job whose result arrives on the returned receiver once its group
/// has committed (or failed).
fn job<T, F>(f: F) -> (Job, oneshot::Receiver<Result<T>>)
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
    (job, rx)
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
    let mut jobs = batch.drain(..);
    for job in jobs.by_ref() {
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
        finishes.push(finish);
        // Some errors (disk full, I/O, out of memory) make SQLite roll back the whole
        // transaction, not one statement: the jobs before this one are gone too. sqlx
        // then no longer counts the outer transaction. Fail the whole group rather than
        // acknowledge writes that were rolled back.
        if closed.is_err() || !tx.is_in_transaction() {
            let reason = match closed {
                Err(e) => format!("savepoint could not be closed: {e}"),
                Ok(()) => "SQLite rolled back the whole transaction".to_owned(),
            };
            tracing::error!(error = %reason, jobs = finishes.len(), "sqlite group failed; no write of the group is kept");
            drop(jobs);
            for finish in finishes {
                finish(Some(reason.clone()));
            }
            let _ = tx.rollback().await;
            return;
        }
    }
    drop(jobs);
    let commit_error = tx.commit().await.err().map(|e| e.to_string());
    if let Some(e) = &commit_error {
        tracing::error!(error = %e, jobs = finishes.len(), "sqlite group commit failed");
    }
    for finish in finishes {
        finish(commit_error.clone());
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{ConnectOptions, Executor};

    use super::*;

    async fn connection(dir: &std::path::Path) -> SqliteConnection {
        let mut c = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.join("w.db"))
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        c.execute("CREATE TABLE t (x INTEGER)").await.unwrap();
        c
    }

    fn insert(x: i64) -> (Job, oneshot::Receiver<Result<()>>) {
        job(move |c: &mut SqliteConnection| {
            Box::pin(async move {
                sqlx::query("INSERT INTO t (x) VALUES ($1)")
                    .bind(x)
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
        })
    }

    async fn count(c: &mut SqliteConnection) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(c)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_failing_job_rolls_back_alone_and_the_group_commits() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = connection(dir.path()).await;
        let (a, ra) = insert(1);
        let (bad, rb) = job(|c: &mut SqliteConnection| {
            Box::pin(async move {
                sqlx::query("INSERT INTO t (x) VALUES (2)")
                    .execute(&mut *c)
                    .await?;
                sqlx::query("INSERT INTO missing_table VALUES (1)")
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
        });
        let (c, rc) = insert(3);
        commit_group(&mut conn, &mut vec![a, bad, c]).await;
        assert!(ra.await.unwrap().is_ok());
        assert!(rb.await.unwrap().is_err());
        assert!(rc.await.unwrap().is_ok());
        let xs: Vec<i64> = sqlx::query_scalar("SELECT x FROM t ORDER BY x")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert_eq!(
            xs,
            vec![1, 3],
            "the failing job's own first insert is rolled back too"
        );
    }

    #[tokio::test]
    async fn a_group_whose_transaction_was_rolled_back_acknowledges_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = connection(dir.path()).await;
        let (a, ra) = insert(1);
        // Stands for an error after which SQLite abandons the whole transaction.
        let (abort, rb) = job(|c: &mut SqliteConnection| {
            Box::pin(async move {
                c.execute("ROLLBACK").await?;
                Ok(())
            })
        });
        let (c, rc) = insert(3);
        commit_group(&mut conn, &mut vec![a, abort, c]).await;
        assert!(
            ra.await.unwrap().is_err(),
            "job A was rolled back: it must not be acknowledged"
        );
        assert!(rb.await.unwrap().is_err());
        assert!(
            rc.await.is_err(),
            "job C never ran in a transaction that could commit"
        );
        assert_eq!(count(&mut conn).await, 0);
    }
}
