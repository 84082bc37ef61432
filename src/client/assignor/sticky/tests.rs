use std::collections::BTreeMap;

use super::*;
use crate::client::assignor::MemberSubscription;
use crate::client::assignor::test_support::{names, t};

fn tp(s: &str) -> TopicPartition {
    TopicPartition::parse(s).unwrap()
}

fn tps(list: &[&str]) -> Vec<TopicPartition> {
    list.iter().map(|s| tp(s)).collect()
}

fn group(topics: &[(&str, u32)], members: Vec<MemberSubscription>) -> GroupSubscription {
    GroupSubscription::new(topics.iter().map(|(n, c)| (t(n), *c)).collect(), members).unwrap()
}

#[test]
fn class_doc_example_1_from_scratch_equals_round_robin() {
    let all = vec![t("t0"), t("t1"), t("t2"), t("t3")];
    let members = ["C0", "C1", "C2"]
        .map(|id| MemberSubscription::new(id, all.clone()))
        .to_vec();
    let g = group(&[("t0", 2), ("t1", 2), ("t2", 2), ("t3", 2)], members);
    let result = assign_detailed(&g);
    assert_eq!(result.path, StickyPath::Constrained);
    assert_eq!(names(&result.assignment, "C0"), ["t0-0", "t1-1", "t3-0"]);
    assert_eq!(names(&result.assignment, "C1"), ["t0-1", "t2-0", "t3-1"]);
    assert_eq!(names(&result.assignment, "C2"), ["t1-0", "t2-1"]);
    let round_robin = crate::client::assignor::round_robin::assign(&g);
    assert_eq!(result.assignment.owners(), round_robin.owners());
}

#[test]
fn class_doc_example_1_after_c1_leaves_keeps_every_surviving_partition() {
    // The class doc (written for KIP-54's original algorithm) gives C0 t2p0 and C2 t0p1, t3p1.
    // Since the constrained builder (KAFKA-9987, Kafka 2.7; reworked since) owned partitions
    // are kept sorted by partition number and the three freed ones go round-robin to C0, C2 in
    // member-id order.
    let all = vec![t("t0"), t("t1"), t("t2"), t("t3")];
    let members = vec![
        MemberSubscription::new("C0", all.clone()).with_owned(tps(&["t0-0", "t1-1", "t3-0"]), 1),
        MemberSubscription::new("C2", all).with_owned(tps(&["t1-0", "t2-1"]), 1),
    ];
    let g = group(&[("t0", 2), ("t1", 2), ("t2", 2), ("t3", 2)], members);
    let result = assign_detailed(&g);
    assert_eq!(
        names(&result.assignment, "C0"),
        ["t0-0", "t3-0", "t1-1", "t0-1"]
    );
    assert_eq!(
        names(&result.assignment, "C2"),
        ["t1-0", "t2-1", "t2-0", "t3-1"]
    );
    assert_eq!(
        result.partitions_transferring_ownership,
        Some(BTreeMap::new())
    );
}

#[test]
fn class_doc_example_2_general_path() {
    let topics = [("t0", 1), ("t1", 2), ("t2", 3)];
    let members = vec![
        MemberSubscription::new("C0", vec![t("t0")]),
        MemberSubscription::new("C1", vec![t("t0"), t("t1")]),
        MemberSubscription::new("C2", vec![t("t0"), t("t1"), t("t2")]),
    ];
    let result = assign_detailed(&group(&topics, members));
    assert_eq!(result.path, StickyPath::General);
    assert_eq!(result.partitions_transferring_ownership, None);
    assert_eq!(names(&result.assignment, "C0"), ["t0-0"]);
    assert_eq!(names(&result.assignment, "C1"), ["t1-0", "t1-1"]);
    assert_eq!(names(&result.assignment, "C2"), ["t2-0", "t2-1", "t2-2"]);

    // C0 leaves: only t0p0 moves.
    let members = vec![
        MemberSubscription::new("C1", vec![t("t0"), t("t1")]).with_owned(tps(&["t1-0", "t1-1"]), 1),
        MemberSubscription::new("C2", vec![t("t0"), t("t1"), t("t2")])
            .with_owned(tps(&["t2-0", "t2-1", "t2-2"]), 1),
    ];
    let after = assign(&group(&topics, members));
    assert_eq!(names(&after, "C1"), ["t1-0", "t1-1", "t0-0"]);
    assert_eq!(names(&after, "C2"), ["t2-0", "t2-1", "t2-2"]);
}

#[test]
fn who_keeps_the_max_quota_is_decided_by_java_hash_map_order() {
    // AbstractStickyAssignorTest.testMaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers:
    // 4 partitions, 3 members, so only one member may keep 2. consumer2 (bucket 11) is visited
    // before consumer1 (bucket 12), so consumer2 keeps both and consumer1 gives up topic2-0.
    let both = vec![t("topic1"), t("topic2")];
    let members = vec![
        MemberSubscription::new("consumer1", both.clone())
            .with_owned(tps(&["topic1-0", "topic2-0"]), 1),
        MemberSubscription::new("consumer2", both.clone())
            .with_owned(tps(&["topic1-1", "topic2-1"]), 1),
        MemberSubscription::new("consumer3", both).with_owned(vec![], 1),
    ];
    let result = assign_detailed(&group(&[("topic1", 2), ("topic2", 2)], members));
    assert_eq!(names(&result.assignment, "consumer1"), ["topic1-0"]);
    assert_eq!(
        names(&result.assignment, "consumer2"),
        ["topic1-1", "topic2-1"]
    );
    assert_eq!(names(&result.assignment, "consumer3"), ["topic2-0"]);
    let transferring = result.partitions_transferring_ownership.unwrap();
    assert_eq!(transferring.len(), 1);
    assert_eq!(transferring[&tp("topic2-0")].to_string(), "consumer3");
    let order: Vec<String> = result
        .assignment
        .members
        .iter()
        .map(|m| m.member_id.to_string())
        .collect();
    assert_eq!(
        order,
        ["consumer3", "consumer2", "consumer1"],
        "leader HashMap order"
    );
}

#[test]
fn the_newer_generation_wins_a_double_claim() {
    let topic = vec![t("t")];
    let members = vec![
        MemberSubscription::new("old", topic.clone()).with_owned(tps(&["t-0", "t-1"]), 3),
        MemberSubscription::new("new", topic).with_owned(tps(&["t-0"]), 4),
    ];
    let result = assign(&group(&[("t", 2)], members));
    assert_eq!(names(&result, "new"), ["t-0"]);
    assert_eq!(names(&result, "old"), ["t-1"]);
}

#[test]
fn an_empty_subscription_visited_first_does_not_break_equality() {
    // Kafka quirk, reproduced on purpose: allSubscriptionsEqual seeds its comparison set with
    // the first subscription it visits, and an empty one seeds nothing. "a" (bucket 1) is
    // visited before "b" (bucket 2), so the constrained path runs and "a" gets a partition of
    // a topic it does not subscribe to (its consumer then rejoins, as the assignment does not
    // match its subscription).
    let members = vec![
        MemberSubscription::new("a", vec![]),
        MemberSubscription::new("b", vec![t("t")]),
    ];
    let result = assign_detailed(&group(&[("t", 2)], members));
    assert_eq!(result.path, StickyPath::Constrained);
    assert_eq!(names(&result.assignment, "a"), ["t-0"]);

    // Visited second, the empty subscription is a difference: the general path gives it nothing.
    let members = vec![
        MemberSubscription::new("b", vec![]),
        MemberSubscription::new("a", vec![t("t")]),
    ];
    let result = assign_detailed(&group(&[("t", 2)], members));
    assert_eq!(result.path, StickyPath::General);
    assert!(names(&result.assignment, "b").is_empty());
    assert_eq!(names(&result.assignment, "a"), ["t-0", "t-1"]);
}

#[test]
fn eager_sticky_reads_owned_partitions_grouped_by_topic() {
    // StickyAssignor's userData groups the previous assignment by topic ("topic1" is in bucket
    // 0, "topic3" in bucket 6 of a 16-bucket HashMap), so on the general path a member's kept
    // partitions come back grouped. The cooperative assignor reads ownedPartitions as given.
    let members = vec![
        MemberSubscription::new("a", vec![t("topic1"), t("topic3")])
            .with_owned(tps(&["topic3-0", "topic1-0", "topic3-1"]), 1),
        MemberSubscription::new("b", vec![t("zeta")]).with_owned(vec![], 1),
    ];
    let g = group(&[("topic1", 1), ("topic3", 2), ("zeta", 1)], members);
    assert_eq!(
        names(&assign(&g), "a"),
        ["topic1-0", "topic3-0", "topic3-1"]
    );
    let cooperative = crate::client::assignor::cooperative_sticky::assign(&g);
    assert_eq!(
        names(&cooperative, "a"),
        ["topic3-0", "topic1-0", "topic3-1"]
    );
    assert_eq!(names(&cooperative, "b"), ["zeta-0"]);
}

#[test]
fn a_previous_owner_can_get_back_a_topic_it_left() {
    // Kafka quirk, reproduced on purpose: GeneralAssignmentBuilder remembers owners from older
    // generations (prepopulateCurrentAssignments) from their raw owned partitions, and
    // performReassignments moves a partition back to such an owner without checking that it
    // still subscribes to the topic. "b" owned orders-0 in an older generation and now reads
    // only payments; "a" (generation 2) holds 2 partitions to b's 0, so orders-0 goes to b,
    // and c, the only other reader of orders, gets nothing. The Java client avoids this input
    // under the cooperative protocol by revoking unsubscribed partitions before rejoining.
    let members = vec![
        MemberSubscription::new("a", vec![t("orders"), t("payments")])
            .with_owned(tps(&["orders-0", "payments-0"]), 2),
        MemberSubscription::new("b", vec![t("payments")]).with_owned(tps(&["orders-0"]), 1),
        MemberSubscription::new("c", vec![t("orders")]),
    ];
    let result = assign_detailed(&group(&[("orders", 1), ("payments", 1)], members));
    assert_eq!(result.path, StickyPath::General);
    assert_eq!(names(&result.assignment, "a"), ["payments-0"]);
    assert_eq!(names(&result.assignment, "b"), ["orders-0"]);
    assert!(names(&result.assignment, "c").is_empty());
}

#[test]
fn a_previous_owner_set_aside_is_skipped_where_kafka_would_throw() {
    // Deviation from Kafka, on purpose: f owned orders-0 in generation 1 and now reads only
    // `solo`, which nobody else reads, so the general builder sets f aside as unable to change.
    // When the balancing loop reaches orders-0, Java looks up f's current assignment, finds
    // none and throws a NullPointerException (the leader's assignment fails). This port skips
    // the previous-owner rule for that partition and balances as usual.
    let members = vec![
        MemberSubscription::new("f", vec![t("solo")]).with_owned(tps(&["solo-0", "orders-0"]), 1),
        MemberSubscription::new("a", vec![t("orders")])
            .with_owned(tps(&["orders-0", "orders-1", "orders-2", "orders-3"]), 2),
        MemberSubscription::new("b", vec![t("orders")]).with_owned(vec![], 2),
    ];
    let result = assign(&group(&[("orders", 4), ("solo", 1)], members));
    assert_eq!(names(&result, "f"), ["solo-0"]);
    assert_eq!(names(&result, "a"), ["orders-2", "orders-3"]);
    assert_eq!(names(&result, "b"), ["orders-0", "orders-1"]);
}
