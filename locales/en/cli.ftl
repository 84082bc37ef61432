# Messages of the command line that are not part of one report: `plot`, `describe`.

plot-wrote = wrote { $path } ({ $kind } plot, { $size }, { $traces ->
    [one] { $traces } trace
   *[other] { $traces } traces
  })
describe-no-topic = { $trace } has no topic "{ $topic }"
describe-no-topics = { $trace } creates no topic (no TopicCreated event)
