//! A Kafka-protocol TCP proxy that can lose acknowledgements: the simulator's `lost_ack` fault
//! against a broker that has no fault injection of its own (tansu).
//!
//! Every Kafka request and response is a frame: a 4-byte big-endian length, then the body. A
//! request body starts with `api_key: i16, api_version: i16, correlation_id: i32, client_id:
//! nullable string`; a response body starts with the `correlation_id` of its request. The proxy
//! forwards frames unchanged, except that when asked to drop `n` acknowledgements it notes the
//! correlation ids of the next `n` Produce requests (api key 0) and swallows their responses.
//! The broker has appended the records; the producer hears nothing, times out after
//! `request.timeout.ms` and retries: exactly a response lost in the network.
//!
//! The broker must advertise the proxy's address (tansu's `--advertised-listener-url`), or
//! clients would bypass it after their first metadata request. Produce requests with `acks=0`
//! have no response; the proxy assumes producers wait for acknowledgements.

use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use crate::error::{Error, Result};

/// Called with the client id of each producer whose acknowledgement was dropped.
pub type DropObserver = Box<dyn Fn(&str) + Send + Sync>;

struct Shared {
    /// Produce responses still to drop.
    budget: AtomicU32,
    stop: AtomicBool,
    observer: Mutex<Option<DropObserver>>,
}

/// The proxy: listens on 127.0.0.1, forwards to one upstream broker. Stops accepting on drop;
/// open connections end when either side closes.
pub struct AckDropper {
    address: SocketAddr,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for AckDropper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckDropper")
            .field("address", &self.address)
            .finish()
    }
}

impl AckDropper {
    /// Listens on a free port of 127.0.0.1 and forwards every connection to `upstream`.
    pub fn start(upstream: SocketAddr) -> Result<AckDropper> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(Error::io("binding the proxy"))?;
        let address = listener.local_addr().map_err(Error::io("proxy address"))?;
        let shared = Arc::new(Shared {
            budget: AtomicU32::new(0),
            stop: AtomicBool::new(false),
            observer: Mutex::new(None),
        });
        let accept_shared = shared.clone();
        thread::Builder::new()
            .name("ack-dropper".into())
            .spawn(move || {
                for client in listener.incoming() {
                    if accept_shared.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let shared = accept_shared.clone();
                    let _ = thread::Builder::new()
                        .name("ack-dropper-conn".into())
                        .spawn(move || {
                            let _ = serve(client, upstream, &shared);
                        });
                }
            })
            .map_err(Error::io("starting the proxy thread"))?;
        Ok(AckDropper { address, shared })
    }

    /// Where clients connect.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Swallows the responses to the next `count` Produce requests, whoever sends them.
    pub fn drop_next_produce_responses(&self, count: u32) {
        self.shared.budget.fetch_add(count, Ordering::SeqCst);
    }

    /// Calls `observer` with the producer's `client.id` for every response dropped.
    pub fn observe(&self, observer: DropObserver) {
        *self.shared.observer.lock().expect("observer lock") = Some(observer);
    }
}

impl Drop for AckDropper {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.address);
    }
}

/// Ids of requests whose responses are to be dropped, with the requester's client id.
type Doomed = Arc<Mutex<BTreeSet<(i32, String)>>>;

fn serve(client: TcpStream, upstream: SocketAddr, shared: &Arc<Shared>) -> io::Result<()> {
    let broker = TcpStream::connect(upstream)?;
    client.set_nodelay(true)?;
    broker.set_nodelay(true)?;
    let doomed: Doomed = Arc::default();
    let (mut c_read, mut b_write) = (client.try_clone()?, broker.try_clone()?);
    let (req_shared, req_doomed) = (shared.clone(), doomed.clone());
    let requests = thread::spawn(move || {
        let result = forward_requests(&mut c_read, &mut b_write, &req_shared, &req_doomed);
        let _ = b_write.shutdown(Shutdown::Both);
        result
    });
    let (mut b_read, mut c_write) = (broker, client);
    let result = forward_responses(&mut b_read, &mut c_write, shared, &doomed);
    let _ = c_write.shutdown(Shutdown::Both);
    let _ = requests.join();
    result
}

fn read_frame(from: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    from.read_exact(&mut len)?;
    let len = i32::from_be_bytes(len);
    let len = usize::try_from(len).map_err(|_| io::Error::other("negative frame length"))?;
    let mut frame = vec![0u8; 4 + len];
    frame[..4].copy_from_slice(&(len as i32).to_be_bytes());
    from.read_exact(&mut frame[4..])?;
    Ok(frame)
}

fn forward_requests(
    from: &mut TcpStream,
    to: &mut TcpStream,
    shared: &Shared,
    doomed: &Doomed,
) -> io::Result<()> {
    loop {
        let frame = read_frame(from)?;
        if frame.len() >= 12 && i16::from_be_bytes([frame[4], frame[5]]) == 0 {
            let take = shared
                .budget
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1))
                .is_ok();
            if take {
                let id = i32::from_be_bytes([frame[8], frame[9], frame[10], frame[11]]);
                let client_id = client_id(&frame).unwrap_or_default();
                doomed.lock().expect("doomed lock").insert((id, client_id));
            }
        }
        to.write_all(&frame)?;
    }
}

/// The request header's `client_id` (a nullable string with an i16 length, in every version).
fn client_id(frame: &[u8]) -> Option<String> {
    let len = i16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    let len = usize::try_from(len).ok()?;
    let bytes = frame.get(14..14 + len)?;
    Some(String::from_utf8_lossy(bytes).into_owned())
}

fn forward_responses(
    from: &mut TcpStream,
    to: &mut TcpStream,
    shared: &Shared,
    doomed: &Doomed,
) -> io::Result<()> {
    loop {
        let frame = read_frame(from)?;
        if frame.len() >= 8 {
            let id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
            let hit = {
                let mut set = doomed.lock().expect("doomed lock");
                let found = set.iter().find(|(i, _)| *i == id).cloned();
                if let Some(entry) = &found {
                    set.remove(entry);
                }
                found
            };
            if let Some((_, client)) = hit {
                if let Some(observer) = shared.observer.lock().expect("observer lock").as_ref() {
                    observer(&client);
                }
                continue;
            }
        }
        to.write_all(&frame)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Produce request header: length, api key 0, version 9, correlation id 7, client id.
    #[test]
    fn the_request_header_names_its_client() {
        let mut frame = vec![0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 7, 0, 8];
        frame.extend_from_slice(b"checkout");
        assert_eq!(client_id(&frame).as_deref(), Some("checkout"));
        assert_eq!(client_id(&frame[..13]), None);
        let null = [0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 7, 0xff, 0xff];
        assert_eq!(client_id(&null), None);
    }

    /// Two requests through the proxy to an echo server: the first Produce's response is
    /// dropped (and reported), the second passes.
    #[test]
    fn drops_the_next_produce_response_only() {
        let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = upstream.local_addr().unwrap();
        thread::spawn(move || {
            let (mut conn, _) = upstream.accept().unwrap();
            while let Ok(frame) = read_frame(&mut conn) {
                // Respond with the request's correlation id and nothing else.
                let mut response = vec![0, 0, 0, 4];
                response.extend_from_slice(&frame[8..12]);
                conn.write_all(&response).unwrap();
            }
        });
        let proxy = AckDropper::start(address).unwrap();
        let dropped = Arc::new(Mutex::new(Vec::new()));
        let seen = dropped.clone();
        proxy.observe(Box::new(move |c| seen.lock().unwrap().push(c.to_string())));
        proxy.drop_next_produce_responses(1);
        let mut client = TcpStream::connect(proxy.address()).unwrap();
        for id in [1u8, 2] {
            let mut frame = vec![0, 0, 0, 12, 0, 0, 0, 9, 0, 0, 0, id, 0, 2];
            frame.extend_from_slice(b"p1");
            frame[3] = (frame.len() - 4) as u8;
            client.write_all(&frame).unwrap();
        }
        let response = read_frame(&mut client).unwrap();
        assert_eq!(
            response[4..8],
            [0, 0, 0, 2],
            "the first response was dropped"
        );
        assert_eq!(*dropped.lock().unwrap(), vec!["p1".to_string()]);
    }
}
