"""The producer of `kafka-sim bench`'s Python row: one confluent_kafka producer, as the courses
configure it (idempotent, the Java client's partitioner, linger.ms 5), sends RECORDS keyed
records to TOPIC as fast as the broker takes them and waits for every delivery report.

Usage: python bench_producer.py BOOTSTRAP TOPIC RECORDS. Prints one JSON object: the reports
received and the seconds from the first send to the last report."""

import json
import sys
import time

from confluent_kafka import Producer

bootstrap, topic, records = sys.argv[1], sys.argv[2], int(sys.argv[3])
counts = {"delivered": 0, "failed": 0}


def report(err, _msg):
    counts["failed" if err is not None else "delivered"] += 1


producer = Producer({
    "bootstrap.servers": bootstrap,
    "enable.idempotence": True,
    "partitioner": "murmur2_random",
    "linger.ms": 5,
    "queue.buffering.max.messages": 1000000,
})
keys = [f"user-{i}" for i in range(1000)]
started = time.perf_counter()
for n in range(records):
    while True:
        try:
            producer.produce(topic, key=keys[n % 1000], value=f"payment-{n}", callback=report)
            break
        except BufferError:
            producer.poll(0.005)
    if n % 10000 == 0:
        producer.poll(0)
left = producer.flush(120)
seconds = time.perf_counter() - started
print(json.dumps({"delivered": counts["delivered"], "failed": counts["failed"], "left": left,
                  "seconds": seconds}))
