//! The API versions `serve` implements, and the ApiVersions answer that advertises them (Kafka's
//! `ApiVersionsResponse`: a client then uses, per API, the highest version both sides know).
//!
//! Only what the simulator answers is listed. Fetch stops at v12 and DeleteTopics at v5 because
//! later versions name topics by id (KIP-516), which the model does not carry; Produce stops at
//! v9 for the same reason; AddPartitionsToTxn stops at v3 (v4 batches transactions for the
//! brokers' KIP-890 verification) and EndTxn at v3 (v5 is transaction protocol v2). librdkafka
//! 2.x negotiates down to these. Metadata goes to v12, with topic ids (`topic_ids.rs`), because
//! the KIP-848 consumer protocol names topics by id, and ConsumerGroupHeartbeat must list v1:
//! librdkafka starts `group.protocol=consumer` only then.

use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::api_versions_response::{ApiVersion, ApiVersionsResponse};

/// Every API served, with its lowest and highest version.
pub const SUPPORTED: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 9),
    (ApiKey::Fetch, 4, 12),
    (ApiKey::ListOffsets, 1, 7),
    (ApiKey::Metadata, 0, 12),
    (ApiKey::OffsetCommit, 2, 8),
    (ApiKey::OffsetFetch, 1, 7),
    (ApiKey::FindCoordinator, 0, 3),
    (ApiKey::JoinGroup, 0, 7),
    (ApiKey::Heartbeat, 0, 4),
    (ApiKey::LeaveGroup, 0, 4),
    (ApiKey::SyncGroup, 0, 5),
    (ApiKey::DescribeGroups, 0, 5),
    (ApiKey::ListGroups, 0, 4),
    (ApiKey::ApiVersions, 0, 3),
    (ApiKey::CreateTopics, 2, 5),
    (ApiKey::DeleteTopics, 1, 5),
    (ApiKey::InitProducerId, 0, 4),
    (ApiKey::AddPartitionsToTxn, 0, 3),
    (ApiKey::AddOffsetsToTxn, 0, 3),
    (ApiKey::EndTxn, 0, 3),
    (ApiKey::TxnOffsetCommit, 0, 3),
    (ApiKey::DescribeConfigs, 1, 4),
    (ApiKey::ConsumerGroupHeartbeat, 0, 1),
];

/// True if `version` of `key` is served.
pub fn supported(key: ApiKey, version: i16) -> bool {
    SUPPORTED
        .iter()
        .any(|&(k, min, max)| k == key && (min..=max).contains(&version))
}

/// The ApiVersions answer: every API served, or `UNSUPPORTED_VERSION` (35) with the same list
/// when the client asked with a version this broker does not know (the client then retries
/// with the highest version listed for ApiVersions, as `SocketServer` expects).
pub fn api_versions(error_code: i16) -> ApiVersionsResponse {
    let api_keys = SUPPORTED
        .iter()
        .map(|&(key, min, max)| {
            ApiVersion::default()
                .with_api_key(key as i16)
                .with_min_version(min)
                .with_max_version(max)
        })
        .collect();
    ApiVersionsResponse::default()
        .with_error_code(error_code)
        .with_api_keys(api_keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_stops_before_topic_ids() {
        assert!(supported(ApiKey::Fetch, 12));
        assert!(!supported(ApiKey::Fetch, 13));
        assert!(!supported(ApiKey::SaslHandshake, 0));
    }
}
