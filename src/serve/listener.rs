//! The sockets: tokio at the edge. One accept loop per broker listener; per connection a
//! reader (4-byte size prefix, then the frame) and a writer. Everything they learn goes to the
//! engine's thread as an [`Event`] stamped with the virtual time it happened; the engine
//! answers through the connection's writer channel. A size prefix that is negative or over
//! `socket.request.max.bytes` closes the connection, as Kafka's `NetworkReceive` does
//! (`InvalidReceiveException`), and the server goes on serving the others.

use std::net::TcpListener as StdListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::Sender;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::units::{BrokerId, SimTime};

use super::clock::Clock;
use super::engine::Inbound;

/// What the engine's thread is told.
#[derive(Debug)]
pub enum Event {
    /// Something happened on a socket, at this virtual time; a new connection brings its
    /// writer.
    Socket {
        /// What.
        inbound: Inbound,
        /// When.
        at: SimTime,
        /// For `Opened`: where the connection's answers go.
        writer: Option<UnboundedSender<Write>>,
    },
    /// A line for the log, from the sockets' side.
    Log(String),
    /// SIGINT: stop serving.
    Stop,
}

/// What a connection's writer does.
#[derive(Debug)]
pub enum Write {
    /// Write a frame, with its size prefix.
    Frame(Bytes),
    /// Close the connection.
    Close,
}

/// What every task of the sockets' thread shares.
#[derive(Clone)]
struct Shared {
    max_request: usize,
    clock: Arc<Clock>,
    events: Sender<Event>,
    next: Arc<AtomicU32>,
}

impl Shared {
    /// Tells the engine `inbound` happened now; false once the engine is gone.
    fn tell(&self, inbound: Inbound, writer: Option<UnboundedSender<Write>>) -> bool {
        let at = self.clock.now();
        let event = Event::Socket {
            inbound,
            at,
            writer,
        };
        self.events.send(event).is_ok()
    }
}

/// Serves `listeners` until SIGINT or `done`, sending every event to `events`, stamped by
/// `clock`. Runs on its own thread.
pub fn run(
    listeners: Vec<(BrokerId, StdListener)>,
    max_request: usize,
    clock: Arc<Clock>,
    done: tokio::sync::oneshot::Receiver<()>,
    events: Sender<Event>,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let shared = Shared {
        max_request,
        clock,
        events,
        next: Arc::new(AtomicU32::new(1)),
    };
    runtime.block_on(async move {
        for (broker, listener) in listeners {
            listener.set_nonblocking(true)?;
            let listener = TcpListener::from_std(listener)?;
            tokio::spawn(accept(listener, broker, shared.clone()));
        }
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                let _ = shared.events.send(Event::Stop);
            }
            _ = done => {}
        }
        Ok(())
    })
}

async fn accept(listener: TcpListener, broker: BrokerId, shared: Shared) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = shared.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = unbounded_channel();
        let peer = peer.to_string();
        if !shared.tell(Inbound::Opened { conn, broker, peer }, Some(tx)) {
            return;
        }
        let (read, write) = stream.into_split();
        tokio::spawn(reader(read, conn, shared.clone()));
        tokio::spawn(writer(write, rx));
    }
}

async fn reader(mut read: OwnedReadHalf, conn: u32, shared: Shared) {
    let max = shared.max_request;
    while let Ok(size) = read.read_i32().await {
        if size < 0 || size as usize > max {
            let line = format!(
                "connection {conn}: a request size of {size} bytes is over \
                 socket.request.max.bytes ({max}); closing it"
            );
            let _ = shared.events.send(Event::Log(line));
            break;
        }
        let mut frame = vec![0u8; size as usize];
        if read.read_exact(&mut frame).await.is_err() {
            break;
        }
        let frame = Bytes::from(frame);
        if !shared.tell(Inbound::Frame { conn, frame }, None) {
            return;
        }
    }
    shared.tell(Inbound::Closed { conn }, None);
}

async fn writer(mut write: OwnedWriteHalf, mut rx: UnboundedReceiver<Write>) {
    while let Some(what) = rx.recv().await {
        match what {
            Write::Frame(bytes) => {
                let size = (bytes.len() as u32).to_be_bytes();
                if write.write_all(&size).await.is_err() || write.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Write::Close => {
                let _ = write.shutdown().await;
                return;
            }
        }
    }
}
