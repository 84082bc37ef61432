//! The payloads of a served session's events (`ServeStarted`, `EdgeConnected`, `EdgeRequest`,
//! `EdgeDisconnected`): what `kafka-sim serve` saw on its sockets, each at its virtual time, so
//! that `kafka-sim replay` can hand the same inputs to the same world. Held by their
//! `TraceEvent` variants; serde writes the fields inline after `"event"`.

use serde::{Deserialize, Serialize};

/// A served session began.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServeStarted {
    /// The scenario file served, if any (else one broker with the defaults).
    pub scenario: Option<String>,
    /// Its variant, if it has several.
    #[serde(default)]
    pub variant: Option<String>,
    /// Each broker's advertised `host:port`, in broker order.
    pub listeners: Vec<String>,
    /// The wall-clock time of virtual time zero, in ms since the Unix epoch.
    pub epoch_ms: i64,
    /// `--speed` as given: virtual ms per wall ms.
    pub speed: String,
}

/// A program connected to a broker's listener.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeConnected {
    /// The connection's number.
    pub connection: u32,
    /// The broker.
    pub broker: u32,
    /// The program's address.
    pub peer: String,
}

/// A request frame arrived (before it is parsed: a malformed one is kept as it came).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeRequest {
    /// The connection.
    pub connection: u32,
    /// The frame without its size prefix, as lowercase hex.
    pub frame: String,
}

/// The program closed its connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeDisconnected {
    /// The connection.
    pub connection: u32,
}
