//! Results streamed to the client as they are serialised: a `Write` for the query's blocking
//! thread that hands chunks to the connection's task, and the response body that takes them.
//!
//! The status line waits for the first full chunk (or the end of the results, whichever comes
//! first), so a query that fails early still gets its error status; one that fails after the
//! first chunk went out ends the response without its last chunk, so the client sees it cut,
//! never a short answer that looks whole. A client that stops reading for [`WRITE_TIMEOUT`] or
//! hangs up stops the query: its next write fails.

use super::reply::{ChannelBody, Reply};
use bytes::Bytes;
use spareval::CancellationToken;
use std::io::{self, Write};
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};

/// Bytes gathered before a chunk is sent: the first one also releases the status line.
pub(super) const CHUNK: usize = 64 << 10;

/// How long a client may leave a chunk untaken before its query is stopped.
pub(super) const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Chunks in flight between the query's thread and the socket.
const IN_FLIGHT: usize = 4;

/// What the connection's task answers with.
pub(super) enum Head {
    /// The whole response, known before anything was sent (small results, errors).
    Whole(Reply),
    /// A 200 whose body follows on the channel.
    Streamed(&'static str),
}

/// The query thread's end: results are written here.
pub(super) struct ChunkWriter {
    content_type: &'static str,
    buffer: Vec<u8>,
    head: Option<oneshot::Sender<Head>>,
    chunks: mpsc::Sender<io::Result<Bytes>>,
    runtime: Handle,
}

/// A writer for the query's thread, the receiver of its head, and its body (cancelling
/// `cancel` when dropped).
pub(super) fn channel(
    content_type: &'static str,
    runtime: Handle,
    cancel: CancellationToken,
) -> (ChunkWriter, oneshot::Receiver<Head>, ChannelBody) {
    let (head, head_receiver) = oneshot::channel();
    let (chunks, receiver) = mpsc::channel(IN_FLIGHT);
    let writer = ChunkWriter {
        content_type,
        buffer: Vec::with_capacity(CHUNK),
        head: Some(head),
        chunks,
        runtime,
    };
    let body = ChannelBody {
        chunks: receiver,
        cancel,
    };
    (writer, head_receiver, body)
}

impl ChunkWriter {
    fn send_chunk(&mut self, chunk: io::Result<Bytes>) -> io::Result<()> {
        if let Some(head) = self.head.take() {
            // The connection's task may be gone (the client left); the send below says so.
            let _ = head.send(Head::Streamed(self.content_type));
        }
        let sent = self
            .runtime
            .block_on(async { tokio::time::timeout(WRITE_TIMEOUT, self.chunks.send(chunk)).await });
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the client went away",
            )),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the client took no results for {}s",
                    WRITE_TIMEOUT.as_secs()
                ),
            )),
        }
    }

    /// The results are complete: a response not yet started goes out whole.
    pub(super) fn finish(mut self) {
        let body = std::mem::take(&mut self.buffer);
        match self.head.take() {
            Some(head) => {
                let _ = head.send(Head::Whole(Reply {
                    status: 200,
                    content_type: self.content_type,
                    body,
                }));
            }
            None if !body.is_empty() => {
                let _ = self.send_chunk(Ok(Bytes::from(body)));
            }
            None => {}
        }
    }

    /// The query failed: its status when nothing was sent yet, else a response cut short.
    pub(super) fn fail(mut self, reply: Reply) {
        match self.head.take() {
            Some(head) => {
                let _ = head.send(Head::Whole(reply));
            }
            None => {
                let message = String::from_utf8_lossy(&reply.body).trim().to_owned();
                let _ = self.send_chunk(Err(io::Error::other(message)));
            }
        }
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
            self.send_chunk(Ok(Bytes::from(chunk)))?;
        }
        Ok(data.len())
    }

    /// Serialisers flush when they finish; chunks go out by size, not on every flush.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
