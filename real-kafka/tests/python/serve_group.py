"""A confluent_kafka program against `kafka-sim serve`: the admin API creates a 6-partition
topic, an idempotent producer with the Java client's partitioner writes 300 keyed records, a
two-member group consumes them and commits, one member closes, the other must then own all six
partitions, and the committed offsets are read back through the admin API.

Usage: python serve_group.py BOOTSTRAP. Prints one JSON object with what it saw."""

import json
import sys
import time

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TOPIC, GROUP, RECORDS, PARTITIONS = "payments", "python-group", 300, 6
bootstrap = sys.argv[1]
admin = AdminClient({"bootstrap.servers": bootstrap})
for future in admin.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS, replication_factor=1)]).values():
    future.result()

delivered = {}


def report(err, msg):
    if err is None:
        delivered[msg.key().decode()] = msg.partition()


producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "partitioner": "murmur2_random"})
for i in range(RECORDS):
    producer.produce(TOPIC, key=f"user-{i}", value=f"payment-{i}", callback=report)
    producer.poll(0)
producer.flush(30)


def member():
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": GROUP,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 6000,
    })
    consumer.subscribe([TOPIC])
    return consumer


a, b = member(), member()
seen = set()
deadline = time.time() + 60
while len(seen) < RECORDS and time.time() < deadline:
    for consumer in (a, b):
        msg = consumer.poll(0.05)
        if msg is not None and msg.error() is None:
            seen.add(msg.key().decode())
for consumer in (a, b):
    try:
        consumer.commit(asynchronous=False)
    except KafkaException:
        pass  # a member that got nothing has nothing to commit
a.close()

owned = 0
deadline = time.time() + 30
while time.time() < deadline:
    b.poll(0.1)
    owned = len(b.assignment())
    if owned == PARTITIONS:
        break

request = ConsumerGroupTopicPartitions(GROUP, [TopicPartition(TOPIC, p) for p in range(PARTITIONS)])
answer = admin.list_consumer_group_offsets([request])[GROUP].result()
committed = sum(tp.offset for tp in answer.topic_partitions if tp.offset >= 0)
b.close()
print(json.dumps({"delivered": delivered, "consumed": len(seen), "owned_after_close": owned,
                  "committed_total": committed}))
