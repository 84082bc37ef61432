//! The two facts about a consumer's group membership that rust-rdkafka has no safe call for:
//! its member id and its generation, which the simulator's `PartitionsAssigned` and
//! `PartitionsRevoked` carry. librdkafka hands them out in a consumer group metadata object
//! (`rd_kafka_consumer_group_metadata`, the one transactions use), read here through its C API.
#![allow(unsafe_code)]

use std::ffi::CStr;

use rdkafka::bindings as rd;
use rdkafka::client::{Client, ClientContext};

/// The consumer's member id (empty before its first join) and generation (-1 before it).
pub(crate) fn member_and_generation<C: ClientContext>(client: &Client<C>) -> (String, i32) {
    // SAFETY: `client` is a live consumer handle for the whole call. The metadata object is a
    // copy owned by us until the destroy below; the member id string lives inside it, so it is
    // copied out before the object is destroyed.
    unsafe {
        let metadata = rd::rd_kafka_consumer_group_metadata(client.native_ptr());
        if metadata.is_null() {
            return (String::new(), -1);
        }
        let id = rd::rd_kafka_consumer_group_metadata_member_id(metadata);
        let member_id = if id.is_null() {
            String::new()
        } else {
            CStr::from_ptr(id).to_string_lossy().into_owned()
        };
        let generation = rd::rd_kafka_consumer_group_metadata_generation_id(metadata);
        rd::rd_kafka_consumer_group_metadata_destroy(metadata);
        (member_id, generation)
    }
}
