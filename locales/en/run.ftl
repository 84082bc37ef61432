# `kafka-sim run`: the report of a scenario's run. English is the reference: these lines must
# print exactly what the golden summaries hold. Indentation and alignment stay in the code.
# Kafka's tool names (kafka-topics, kafka-consumer-groups), config names and the words of its
# tables (leader, none) are never translated.

run-header = kafka-sim run { $scenario } (seed { $seed })
run-scenario = scenario: { $name }
run-course = course: { $course }
run-variant = variant { $variant }
run-variant-described = variant { $variant }: { $description }
run-plain = run
run-expectations = expectations:
run-none = (none)
run-pass = PASS
run-fail = FAIL
run-summary-written = summary: { $path }
run-plot-written = plot: { $path }
run-trace-written = trace: { $path }
run-failed = { $failed } expectation(s) failed; reproduce with: { $command }
run-produced = produced:
run-topic-records = { $topic }: { $records } records ({ $counts })
run-keys = keys: { $keys }
run-delivery-reports = delivery reports (what each send() was told):
run-delivery-failed = FAILED { $error }
run-delivery-offset = partition { $partition } offset { $offset }
run-delivery-no-offset = partition { $partition } (no offset: acks=0)
run-delivery = { $producer }  sent at { $sent } ms  key={ $key } value={ $value }  -> { $outcome }
run-duplicates = duplicates appended: { $duplicates }
run-cluster = cluster:
run-broker-fenced = broker { $broker } fenced
run-broker-unfenced = broker { $broker } unfenced
run-topics-at = kafka-topics --describe  (at { $t } ms)
run-acked-lost = { $topic }: { $lost } acknowledged records lost
run-log-start = { $partition }: log start offset { $start }, { $held } records held at the end
run-rebalances = rebalances:
run-not-completed = not completed
run-rebalance = { $start } ms -> { $done }  group { $group }  generation { $generation }  { $protocol }  ({ $reason })
run-never = never
run-group-totals = group { $group }: processed { $processings } (distinct { $distinct }, reprocessed { $reprocessed }, skipped { $skipped }), drained at { $drained }
run-groups-at = kafka-consumer-groups --describe --group { $group }  (at { $t } ms)
run-topic-control = + { $markers ->
    [one] 1 control record (transaction marker: { $counts }): it takes an offset, so the offsets have a hole
   *[other] { $markers } control records (transaction markers: { $counts }): each takes an offset, so the offsets have holes
  }
run-transactions = transactions:
run-txn-id = { $id }: producer id { $pid }, epochs { $epochs }; { $committed } committed, { $aborted } aborted{ $causes }
run-txn-causes = {" "}({ $list })
run-txn-cause-app = { $n } by the application's EndTxn
run-txn-cause-timeout = { $n } by the coordinator on transaction.timeout.ms
run-txn-cause-fence = { $n } by a new instance's InitProducerId
run-txn-cause-other = { $n } on { $reason }
run-txn-commit = COMMIT  EndTxn(commit) by the application{ $markers }
run-txn-abort-app = ABORT   EndTxn(abort) by the application{ $markers }
run-txn-abort-timeout = ABORT   by the coordinator: open longer than transaction.timeout.ms, epoch bumped (PrepareEpochFence){ $markers }
run-txn-abort-fence = ABORT   by the InitProducerId of a new instance with the same transactional.id, epoch bumped (PrepareEpochFence){ $markers }
run-txn-abort-other = ABORT   { $reason }{ $markers }
run-txn-markers-on = , markers on { $partitions }
run-txn-more = ... and { $n } more
run-txn-markers = markers: { $list }
run-txn-fenced = fenced: { $producer } (producer id { $pid }, epoch { $epoch }): its { $request } got PRODUCER_FENCED
run-txn-open = open at the end: a transaction since { $t } ms, its records beyond the last stable offset
run-lag-note = { $partition }: LAG { $lag } = { $parts }
run-lag-markers = { $n ->
    [one] 1 transaction marker (control record)
   *[other] { $n } transaction markers (control records)
  }
run-lag-aborted = { $n ->
    [one] 1 record of an aborted transaction (read_committed skips it)
   *[other] { $n } records of aborted transactions (read_committed skips them)
  }
run-lag-open = { $n ->
    [one] 1 record of an open transaction, beyond the last stable offset { $lso } (read_committed waits for its marker)
   *[other] { $n } records of open transactions, beyond the last stable offset { $lso } (read_committed waits for their markers)
  }
run-lag-readable = { $n ->
    [one] 1 record to read
   *[other] { $n } records to read
  }
run-lag-nothing = nothing left to read
run-txn-open-records = { $partition }: { $n ->
    [one] 1 record
   *[other] { $n } records
  } of open transactions at the end, beyond the last stable offset { $lso }: no marker followed them
