//! Frames: a request's header and body decoded with the `kafka-protocol` crate, a response
//! encoded after its header. The 4-byte size prefix is the listener's business.
//!
//! What Kafka's `SocketServer` and `KafkaApis` do with bad input, followed here: an unknown API
//! key or a body that does not parse closes the connection (`InvalidRequestException`); an
//! ApiVersions request of a version the broker does not know is answered, in version 0, with
//! `UNSUPPORTED_VERSION` and the versions it does know (KIP-511); any other API at a version it
//! did not advertise closes the connection. Requests before ApiVersions are allowed, as Kafka
//! allows them (ApiVersions is optional; old clients never send it).

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion};

use super::versions;

/// Kafka's `UNSUPPORTED_VERSION` error code.
pub const UNSUPPORTED_VERSION: i16 = 35;

/// A request frame whose header was read.
#[derive(Debug)]
pub struct Frame {
    /// The API.
    pub api: ApiKey,
    /// The header (version, correlation id, client id).
    pub header: RequestHeader,
    /// The body, not yet decoded.
    pub body: Bytes,
}

/// What became of a frame's header.
#[derive(Debug)]
pub enum Parsed {
    /// A served API at a served version.
    Request(Frame),
    /// ApiVersions at an unknown version: answer `UNSUPPORTED_VERSION` in version 0.
    UnsupportedApiVersions {
        /// The correlation id to answer with.
        correlation_id: i32,
    },
    /// Close the connection, for this reason (a log line).
    Close(String),
}

/// Reads a frame's header.
pub fn parse(frame: Bytes) -> Parsed {
    if frame.len() < 8 {
        return Parsed::Close(format!("a frame of {} bytes has no header", frame.len()));
    }
    let key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let Ok(api) = ApiKey::try_from(key) else {
        return Parsed::Close(format!("unknown API key {key}"));
    };
    if !versions::supported(api, version) {
        if api == ApiKey::ApiVersions {
            return Parsed::UnsupportedApiVersions { correlation_id };
        }
        return Parsed::Close(format!("{api:?} v{version} is not served"));
    }
    let mut body = frame;
    let header_version = api.request_header_version(version);
    match RequestHeader::decode(&mut body, header_version) {
        Ok(header) => Parsed::Request(Frame { api, header, body }),
        Err(e) => Parsed::Close(format!("{api:?} v{version}: a malformed header: {e:#}")),
    }
}

/// Decodes a frame's body as `T`.
pub fn body<T: Decodable>(frame: &Frame) -> Result<T, String> {
    let mut body = frame.body.clone();
    let version = frame.header.request_api_version;
    T::decode(&mut body, version)
        .map_err(|e| format!("{:?} v{version}: a malformed body: {e:#}", frame.api))
}

/// Encodes a response to the request `frame` holds.
pub fn response<T: Encodable + HeaderVersion>(
    correlation_id: i32,
    version: i16,
    body: &T,
) -> Result<Bytes, String> {
    let mut buf = BytesMut::new();
    let header = ResponseHeader::default().with_correlation_id(correlation_id);
    header
        .encode(&mut buf, T::header_version(version))
        .map_err(|e| format!("encoding a response header: {e:#}"))?;
    body.encode(&mut buf, version)
        .map_err(|e| format!("encoding a response: {e:#}"))?;
    Ok(buf.freeze())
}

/// A topic name as the wire writes it.
pub fn wire_topic(t: &crate::units::TopicName) -> kafka_protocol::messages::TopicName {
    kafka_protocol::messages::TopicName(kafka_protocol::protocol::StrBytes::from_string(
        t.to_string(),
    ))
}

/// The answer to an ApiVersions request of an unknown version.
pub fn unsupported_api_versions(correlation_id: i32) -> Bytes {
    let answer = versions::api_versions(UNSUPPORTED_VERSION);
    response(correlation_id, 0, &answer).expect("ApiVersions v0 encodes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::ApiVersionsRequest;
    use kafka_protocol::protocol::encode_request_header_into_buffer;

    fn frame(key: i16, version: i16) -> Bytes {
        let mut buf = BytesMut::new();
        let header = RequestHeader::default()
            .with_request_api_key(key)
            .with_request_api_version(version)
            .with_correlation_id(9);
        encode_request_header_into_buffer(&mut buf, &header).unwrap();
        buf.freeze()
    }

    #[test]
    fn bad_headers_close_or_answer() {
        assert!(matches!(parse(Bytes::from_static(b"xx")), Parsed::Close(_)));
        let mut unknown = BytesMut::from(&frame(18, 0)[..]);
        unknown[0..2].copy_from_slice(&999i16.to_be_bytes());
        assert!(matches!(parse(unknown.freeze()), Parsed::Close(_)));
        assert!(matches!(parse(frame(1, 99)), Parsed::Close(_)));
        assert!(matches!(
            parse(frame(18, 99)),
            Parsed::UnsupportedApiVersions { correlation_id: 9 }
        ));
    }

    #[test]
    fn an_api_versions_request_parses() {
        let mut buf = BytesMut::from(&frame(18, 3)[..]);
        ApiVersionsRequest::default().encode(&mut buf, 3).unwrap();
        let Parsed::Request(f) = parse(buf.freeze()) else {
            panic!("parsed")
        };
        assert_eq!(f.header.correlation_id, 9);
        body::<ApiVersionsRequest>(&f).unwrap();
    }
}
