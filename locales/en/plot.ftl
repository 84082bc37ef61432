# The PNG charts: axes, legends, the marker key. The `plot-title-*`, `plot-mark-*` and
# `plot-series-*` messages are the words around the names of scenarios, groups, variants and
# components in titles, legends and markers (src/plot/label.rs renders them).

plot-axis-time = virtual time (s)
plot-axis-lag = lag (records)
plot-axis-partition = partition
plot-axis-partition-bars = partition (topic-number)
plot-axis-records-appended = records appended
plot-axis-rate = records/s (per { $bucket } bucket)
plot-even-share = even share: { $share }
plot-even-share-of = { $label }: even share { $share }
plot-key-entry = { $n }  { $t }  { $label }
plot-title-lag = consumer lag
plot-title-partitions = records per partition
plot-title-assignments = partition assignments
plot-title-throughput = throughput
plot-title-seed = seed { $seed }
plot-title-seeds = seeds { $seeds }
plot-series-group = group { $group }
plot-series-run = { $run }: { $label }
plot-series-records-appended = records appended
plot-series-produced-to = produced to { $name }
plot-series-processed-by = processed by { $name }
plot-mark-crash = crash { $what }
plot-mark-rebalance = rebalance { $what }
plot-mark-generation = generation { $generation } { $what }
plot-mark-of = { $label } ({ $runs })
