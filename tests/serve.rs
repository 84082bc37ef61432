//! `serve`'s engine without sockets: frames in, frames out, through a world, at virtual times;
//! bad input answered or refused as Kafka does; and `replay` of the recorded session reaching
//! the same decisions.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, FetchRequest, FetchResponse, MetadataRequest,
    MetadataResponse, ProduceRequest, ProduceResponse, RequestHeader, ResponseHeader, TopicName,
};
use kafka_protocol::protocol::{
    Decodable, Encodable, HeaderVersion, StrBytes, encode_request_header_into_buffer,
};
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use kafka_sim::serve::engine::{Engine, Inbound, Outbound};
use kafka_sim::serve::responses::Cluster;
use kafka_sim::serve::{self, replay};
use kafka_sim::trace::{Detail, TraceEvent, TraceRecord, VecSink};
use kafka_sim::units::{BrokerId, Millis, SimTime};
use kafka_sim::world::{World, WorldConfig};

fn frame<T: Encodable>(api: ApiKey, version: i16, correlation_id: i32, body: &T) -> Bytes {
    let mut buf = BytesMut::new();
    let header = RequestHeader::default()
        .with_request_api_key(api as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str("test")));
    encode_request_header_into_buffer(&mut buf, &header).unwrap();
    body.encode(&mut buf, version)
        .unwrap_or_else(|e| panic!("{api:?} v{version}: {e}"));
    buf.freeze()
}

fn answer<T: Decodable + HeaderVersion>(bytes: &Bytes, version: i16) -> (i32, T) {
    let mut buf = bytes.clone();
    let header = ResponseHeader::decode(&mut buf, T::header_version(version)).unwrap();
    (header.correlation_id, T::decode(&mut buf, version).unwrap())
}

fn batch() -> Bytes {
    let record = |offset: i64, key: &'static str| Record {
        transactional: false,
        control: false,
        delete_horizon: false,
        partition_leader_epoch: 0,
        producer_id: -1,
        producer_epoch: -1,
        timestamp_type: TimestampType::Creation,
        offset,
        sequence: -1,
        timestamp: 0,
        key: Some(Bytes::from_static(key.as_bytes())),
        value: Some(Bytes::from_static(b"v")),
        headers: Default::default(),
    };
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression: Compression::Gzip,
    };
    let records = [record(0, "user-1"), record(1, "user-2")];
    RecordBatchEncoder::encode(&mut buf, records.iter(), &options).unwrap();
    buf.freeze()
}

/// The session's frames: ApiVersions, Metadata (auto-creating `t`), Produce, Fetch, and bad
/// input (an unknown ApiVersions version; then, on another connection, an unknown API key).
fn requests() -> Vec<(u32, Bytes)> {
    use kafka_protocol::messages::{fetch_request, metadata_request, produce_request};
    let t = TopicName(StrBytes::from_static_str("t"));
    let metadata = MetadataRequest::default()
        .with_topics(Some(vec![
            metadata_request::MetadataRequestTopic::default().with_name(Some(t.clone())),
        ]))
        .with_allow_auto_topic_creation(true);
    let partition = produce_request::PartitionProduceData::default().with_records(Some(batch()));
    let produce = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(1000)
        .with_topic_data(vec![
            produce_request::TopicProduceData::default()
                .with_name(t.clone())
                .with_partition_data(vec![partition]),
        ]);
    let fetch_partition =
        fetch_request::FetchPartition::default().with_partition_max_bytes(1 << 20);
    let fetch = FetchRequest::default()
        .with_max_wait_ms(500)
        .with_max_bytes(1 << 20)
        .with_topics(vec![
            fetch_request::FetchTopic::default()
                .with_topic(t)
                .with_partitions(vec![fetch_partition]),
        ]);
    let patched = |at: usize, value: i16, cid: i32| {
        let mut bytes = frame(ApiKey::ApiVersions, 3, cid, &ApiVersionsRequest::default()).to_vec();
        bytes[at..at + 2].copy_from_slice(&value.to_be_bytes());
        Bytes::from(bytes)
    };
    vec![
        (
            1,
            frame(ApiKey::ApiVersions, 3, 1, &ApiVersionsRequest::default()),
        ),
        (1, patched(2, 99, 2)),
        (1, frame(ApiKey::Metadata, 9, 3, &metadata)),
        (1, frame(ApiKey::Produce, 9, 4, &produce)),
        (1, frame(ApiKey::Fetch, 12, 5, &fetch)),
        (2, patched(0, 999, 9)),
    ]
}

fn cluster() -> Cluster {
    let addr: SocketAddr = "127.0.0.1:9092".parse().unwrap();
    Cluster {
        listeners: BTreeMap::from([(BrokerId(1), addr)]),
        cluster_id: "kafka-sim".into(),
        epoch_ms: 0,
    }
}

/// Serves the session in virtual time, a request every 20 ms, up to 2 s; returns the frames
/// written.
fn serve_session(world: &mut World<'_>) -> Vec<Outbound> {
    let mut engine = Engine::new(cluster(), serve::default_topics());
    let mut out = Vec::new();
    let mut at = SimTime::ZERO;
    for conn in [1, 2] {
        let inbound = Inbound::Opened {
            conn,
            broker: BrokerId(1),
            peer: "127.0.0.1:1".into(),
        };
        out.extend(engine.input(world, at, inbound).unwrap());
    }
    for (conn, bytes) in requests() {
        at += Millis(20);
        out.extend(
            engine
                .input(world, at, Inbound::Frame { conn, frame: bytes })
                .unwrap(),
        );
        out.extend(engine.run_to(world, at + Millis(10)).unwrap());
    }
    out.extend(engine.run_to(world, SimTime(2000)).unwrap());
    out
}

fn frames_of(out: &[Outbound], conn: u32) -> Vec<Bytes> {
    out.iter()
        .filter_map(|o| match o {
            Outbound::Frame { conn: c, bytes } if *c == conn => Some(bytes.clone()),
            _ => None,
        })
        .collect()
}

fn check_answers(out: &[Outbound]) {
    let frames = frames_of(out, 1);
    assert_eq!(frames.len(), 5, "one answer per request of connection 1");
    let (cid, versions) = answer::<ApiVersionsResponse>(&frames[0], 3);
    assert_eq!(cid, 1);
    assert!(
        versions
            .api_keys
            .iter()
            .any(|k| k.api_key == ApiKey::Fetch as i16 && k.max_version == 12)
    );
    let (cid, unsupported) = answer::<ApiVersionsResponse>(&frames[1], 0);
    assert_eq!(
        (cid, unsupported.error_code),
        (2, 35),
        "UNSUPPORTED_VERSION in v0"
    );
    let (_, metadata) = answer::<MetadataResponse>(&frames[2], 9);
    assert_eq!(
        metadata.topics[0].partitions.len(),
        1,
        "auto-created, num.partitions=1"
    );
    assert_eq!(metadata.brokers[0].port, 9092);
    let (_, produced) = answer::<ProduceResponse>(&frames[3], 9);
    let p = &produced.responses[0].partition_responses[0];
    assert_eq!((p.error_code, p.base_offset), (0, 0));
    let (_, fetched) = answer::<FetchResponse>(&frames[4], 12);
    let mut records = fetched.responses[0].partitions[0].records.clone().unwrap();
    let sets = RecordBatchDecoder::decode_all(&mut records).unwrap();
    let keys: Vec<&[u8]> = sets[0]
        .records
        .iter()
        .map(|r| r.key.as_deref().unwrap())
        .collect();
    assert_eq!(
        keys,
        [&b"user-1"[..], &b"user-2"[..]],
        "gzip-produced, fetched back"
    );
    assert!(
        out.contains(&Outbound::Close { conn: 2 }),
        "an unknown API key closes"
    );
    assert!(
        out.iter()
            .any(|o| matches!(o, Outbound::Log(l) if l.contains("unknown API key")))
    );
}

fn events(records: &[TraceRecord]) -> Vec<(u64, TraceEvent)> {
    records.iter().map(|r| (r.t_ms, r.event.clone())).collect()
}

#[test]
fn a_session_is_served_and_replays_to_the_same_decisions() {
    let mut sink = VecSink::new(Detail::Records);
    let mut world = World::new(WorldConfig::default(), &mut sink);
    serve::build(&mut world, None).unwrap();
    let started = kafka_sim::trace::ServeStarted {
        scenario: None,
        variant: None,
        listeners: vec!["127.0.0.1:9092".into()],
        epoch_ms: 0,
        speed: "1".into(),
    };
    world.record_edge(
        SimTime::ZERO,
        &"serve".into(),
        TraceEvent::ServeStarted(started),
    );
    let out = serve_session(&mut world);
    world.finish(SimTime(2000), false);
    drop(world);
    check_answers(&out);
    let served = sink.records;
    let session = replay::read(&served).unwrap();
    assert_eq!(session.inputs.len(), 8, "two connections, six frames");
    let mut again = VecSink::new(Detail::Records);
    let mut world = World::new(WorldConfig::default(), &mut again);
    serve::build(&mut world, None).unwrap();
    replay::replay(&mut world, &session, serve::default_topics()).unwrap();
    world.finish(SimTime(2000), false);
    drop(world);
    assert_eq!(events(&again.records), events(&served));
}

/// ApiVersions v0 with a null client id, as raw bytes: size prefix, key 18, version 0,
/// correlation id, client id length -1.
fn raw_api_versions(correlation_id: i32) -> Vec<u8> {
    let mut body = vec![0, 18, 0, 0];
    body.extend_from_slice(&correlation_id.to_be_bytes());
    body.extend_from_slice(&(-1i16).to_be_bytes());
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend(body);
    out
}

#[test]
fn an_oversized_request_closes_its_connection_and_the_server_goes_on() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;
    let served = serve::inprocess::spawn(None, serve::ServeConfig::loopback(1.0)).unwrap();
    let addr = served.bootstrap().to_string();
    let mut big = TcpStream::connect(&addr).unwrap();
    big.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let over = (serve::SOCKET_REQUEST_MAX_BYTES as u32 + 1).to_be_bytes();
    big.write_all(&over).unwrap();
    let mut byte = [0u8; 1];
    let closed = match big.read(&mut byte) {
        Ok(n) => n == 0,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    };
    assert!(closed, "closed by the server, not left open");
    let mut good = TcpStream::connect(&addr).unwrap();
    good.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    good.write_all(&raw_api_versions(7)).unwrap();
    let mut head = [0u8; 8];
    good.read_exact(&mut head).unwrap();
    assert_eq!(
        i32::from_be_bytes(head[4..8].try_into().unwrap()),
        7,
        "answered"
    );
    drop((big, good));
    let records = served.stop().unwrap();
    assert!(
        records
            .iter()
            .any(|r| matches!(r.event, TraceEvent::EdgeRequest(_)))
    );
}

#[test]
fn a_non_loopback_address_needs_the_flag() {
    let mut config = serve::ServeConfig::loopback(1.0);
    config.listen = "0.0.0.0:0".parse().unwrap();
    let refused = serve::bind(&config, &[BrokerId(1)]);
    assert!(matches!(refused, Err(serve::ServeError::NotLoopback(_))));
}

/// `kafka-sim serve SCENARIO --html FILE` (issue 20): SIGINT writes the session's page beside its
/// trace, the page `kafka-sim run --html` writes, with the scenario's group and its lag.
#[test]
fn sigint_writes_the_served_sessions_page() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("serve-page");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (trace, page) = (dir.join("session.jsonl"), dir.join("session.html"));
    let mut server = Command::new(env!("CARGO_BIN_EXE_kafka-sim"))
        .args(["serve", "scenarios/consumer_group_scaling.toml"])
        .args(["--variant", "3-consumers", "--listen", "127.0.0.1:0"])
        .args(["--speed", "50", "--trace", trace.to_str().unwrap()])
        .args(["--html", page.to_str().unwrap()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let listening = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.starts_with("bootstrap.servers="));
    assert!(listening, "it says where it listens");
    // 40 s of virtual time at speed 50: the group is assigned and every record produced.
    std::thread::sleep(std::time::Duration::from_millis(800));
    let signalled = Command::new("kill")
        .args(["-INT", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = server.wait().unwrap();
    assert!(status.success(), "{rest:?}");
    assert!(rest.iter().any(|l| l.starts_with("page: ")), "{rest:?}");
    let html = std::fs::read_to_string(&page).unwrap();
    let start = r#"<script id="page-data" type="application/json">"#;
    let json = html
        .split(start)
        .nth(1)
        .and_then(|s| s.split("</script>").next());
    let data: serde_json::Value = serde_json::from_str(json.expect("the page's data")).unwrap();
    let variant = &data["variants"][0];
    assert_eq!(variant["groups"][0]["group"], "order-service-group");
    let snapshots = variant["groups"][0]["snapshots"].as_array().unwrap();
    assert!(snapshots.len() > 1, "the group's tables over time");
    assert_eq!(variant["lag"][0]["group"], "order-service-group");
    assert!(
        !variant["lag"][0]["points"].as_array().unwrap().is_empty(),
        "the group's lag"
    );
}
