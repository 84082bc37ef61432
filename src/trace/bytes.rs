//! Values as a trace writes them: bytes, record headers and member assignments.
//!
//! The conversions from model types live here, on the trace side, so that the model
//! (`crate::record`) never names a trace type: only this module knows the trace format.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::record::{Header, Value};

/// Bytes as they appear in a trace: a string when they are UTF-8, else `{"hex": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TraceBytes {
    /// Valid UTF-8.
    Utf8(String),
    /// Anything else, hex-encoded.
    Hex {
        /// Lower-case hex digits.
        hex: String,
    },
}

impl TraceBytes {
    /// Encodes `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> TraceBytes {
        match std::str::from_utf8(bytes) {
            Ok(s) => TraceBytes::Utf8(s.to_string()),
            Err(_) => TraceBytes::Hex {
                hex: bytes.iter().map(|b| format!("{b:02x}")).collect(),
            },
        }
    }

    /// A record value as a trace field. A synthetic value is rendered through its template (with
    /// the poison-pill prefix when it is malformed); a template is text, so there is no second
    /// copy to check and convert.
    pub fn from_value(value: &Value) -> TraceBytes {
        match value {
            Value::Bytes(b) => TraceBytes::from_bytes(b),
            Value::Synthetic { template, n } => TraceBytes::Utf8(template.render(*n)),
        }
    }

    /// The text [`Display`](fmt::Display) writes (a UTF-8 value as it is, anything else as
    /// `0x` and its hex digits), copied directly: `to_string()` goes through the formatter, and
    /// reports copy every record's key and value.
    pub fn to_text(&self) -> String {
        match self {
            TraceBytes::Utf8(s) => s.clone(),
            TraceBytes::Hex { hex } => {
                let mut text = String::with_capacity(hex.len() + 2);
                text.push_str("0x");
                text.push_str(hex);
                text
            }
        }
    }

    /// Decodes back to bytes (invalid hex digits decode as zero).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            TraceBytes::Utf8(s) => s.as_bytes().to_vec(),
            TraceBytes::Hex { hex } => (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0))
                .collect(),
        }
    }
}

impl fmt::Display for TraceBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceBytes::Utf8(s) => f.write_str(s),
            TraceBytes::Hex { hex } => write!(f, "0x{hex}"),
        }
    }
}

/// One member's partitions in an `AssignmentStored` event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberAssignment {
    /// The member id.
    pub member_id: Arc<str>,
    /// Its partitions as `topic-partition`, sorted by topic then partition.
    pub partitions: Vec<Arc<str>>,
}

/// One record header in a trace: `{"key": ..., "value": ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordHeader {
    /// The header key.
    pub key: Arc<str>,
    /// The header value, or null.
    pub value: Option<TraceBytes>,
}

impl RecordHeader {
    /// A record's header as written in a trace.
    pub fn from_header(h: &Header) -> RecordHeader {
        RecordHeader {
            key: Arc::from(&*h.key),
            value: h.value.as_deref().map(TraceBytes::from_bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_text_when_they_can_be() {
        assert_eq!(
            TraceBytes::from_bytes(b"user123"),
            TraceBytes::Utf8("user123".into())
        );
        let raw = TraceBytes::from_bytes(&[0xff, 0x00]);
        assert_eq!(raw, TraceBytes::Hex { hex: "ff00".into() });
        assert_eq!(raw.to_bytes(), vec![0xff, 0x00]);
        assert_eq!(serde_json::to_string(&raw).unwrap(), r#"{"hex":"ff00"}"#);
        assert_eq!(raw.to_text(), raw.to_string());
        let text = TraceBytes::from_bytes(b"user123");
        assert_eq!(text.to_text(), text.to_string());
    }
}
