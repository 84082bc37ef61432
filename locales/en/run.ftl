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
