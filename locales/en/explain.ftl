# `kafka-sim explain`: each decision of a run with its causes and its numbers. Kafka's config
# names (session.timeout.ms), API names (JoinGroup, LeaveGroup) and error codes stay verbatim.

explain-variant = == variant { $variant } ({ $scenario }) ==
explain-unknown = unknown { $what } { $name } in { $trace }; the closest that exist: { $closest }
explain-what-key = key
explain-what-member = member
explain-what-group = group
explain-what-partition = partition
explain-what-variant = variant
explain-nothing = (no decision matches)
explain-causes-trace = causes, as the trace records them:
explain-causes-events = causes, read from the events:

# Keys and partitioners.
explain-key-masked = key { $key } from { $producer } ({ $partitioner }): { $function } = { $hash }, ({ $hash } & 0x7fffffff) % { $partitions } = { $positive } % { $partitions } = partition { $partition } of { $topic }.
explain-key-unsigned = key { $key } from { $producer } ({ $partitioner }): { $function } = { $hash } (unsigned), { $hash } % { $partitions } = partition { $partition } of { $topic }.
explain-key-elsewhere = key { $key } from { $producer } ({ $partitioner }): { $function } = { $hash } gives { $positive } % { $partitions } = { $computed }, but the record went to partition { $partition } of { $topic } (a partition set by the application).
explain-key-sticky = key { $key } from { $producer } ({ $partitioner }): an empty key takes the sticky path, like a null key: partition { $partition } of { $topic } ({ $partitions } partitions).
explain-key-random = key { $key } from { $producer } ({ $partitioner }): the random partitioner ignores the key and drew partition { $partition } of { $topic } ({ $partitions } partitions).
explain-key-round-robin = key { $key } from { $producer } ({ $partitioner }): RoundRobinPartitioner ignores the key; its counter gave partition { $partition } of { $topic } ({ $partitions } partitions).
explain-sticky-first = { $producer } ({ $partitioner }): records without a key stick to partition { $partition } of { $topic } (batch { $batch }).
explain-sticky-switch = { $producer }: records without a key switch from partition { $from } to { $partition } of { $topic } after { $records ->
    [one] { $records } record
   *[other] { $records } records
  } in { $ms } ms; the new partition's first batch is { $batch }.
explain-sticky-why-java = The built-in partitioner (KIP-794) moves on once batch.size = { $batch_size } bytes went to one partition and its batch is full; the next one is drawn at random, weighted towards shorter queues (partitioner.adaptive.partitioning.enable).
explain-sticky-why-legacy = The DefaultPartitioner of Java 2.4 to 3.2 (KIP-480) moves on each time a new batch is needed (batch full, or linger.ms = { $linger } ms expired), never to the same partition.
explain-sticky-why-round-robin = RoundRobinPartitioner sends each record to the next partition.
explain-sticky-why-librdkafka = librdkafka moves on after sticky.partitioning.linger.ms (2 x linger.ms = { $sticky } ms unless set) on one partition.

# Consumer groups.
explain-rebalance = Group { $group } rebalances: { $from } -> PreparingRebalance (generation { $generation } ends).
explain-why-joined = Started by a JoinGroup: the new member { $member } (client.id { $client }, assignors { $protocols }).
explain-why-restarted = { $component } restarted at { $at } ms: a new process, which joins with a new member id.
explain-why-left = Started by a LeaveGroup from { $member } ({ $reason }).
explain-why-close = Started by a LeaveGroup on close() from { $member } ({ $reason }).
explain-why-poll = Started by a LeaveGroup from { $member }: its application did not call poll() within max.poll.interval.ms = { $limit } ms (last poll at { $last } ms).
explain-why-expired = Started by the coordinator: session.timeout.ms = { $timeout } ms expired for { $member }, { $timeout } ms after its last heartbeat at { $last } ms.
explain-why-join-timeout = Started by the coordinator: { $member } never completed its JoinGroup within { $timeout } ms (last seen at { $last } ms).
explain-why-crashed = Its process { $component } crashed at { $at } ms (kill -9: no LeaveGroup), { $before } ms before the coordinator noticed.
explain-why-paused = Its process { $component } froze at { $at } ms (a GC pause, SIGSTOP), { $before } ms before the coordinator noticed.
explain-why-removed = Started by the coordinator: it removed { $member } ({ $reason }).
explain-why-rejoin = Started by the leader's re-join: its metadata changed (a subscription or a partition count); the coordinator says: { $reason }.
explain-why-cooperative = Started by the cooperative protocol's second round (KIP-429): the members revoked the partitions that move and re-join so that they can go to their new owners; the coordinator says: { $reason }.
explain-why-coordinator = The coordinator's reason: { $reason }.
explain-generation = Group { $group }: generation { $generation } with { $count ->
    [one] { $count } member
   *[other] { $count } members
  } ({ $members }), assignor { $protocol } chosen by vote, leader { $leader }.
explain-assign-head = Group { $group }, generation { $generation }: the leader ran { $protocol } for { $count ->
    [one] { $count } member
   *[other] { $count } members
  } on topics { $topics }.
explain-assign-input = input: { $member } owned { $owned }
explain-assign-output = output: { $member } <- { $partitions }
explain-assign-moved = moved: { $moves }
explain-assign-eager = Eager protocol: every member revoked all its partitions before re-joining (revoked: { $revoked }).
explain-assign-cooperative = Cooperative protocol (KIP-429): only partitions that change owner are revoked, the others keep being read (revoked: { $revoked }).
explain-member-expired = Group { $group }: { $member } removed, no heartbeat for session.timeout.ms = { $timeout } ms (last one at { $last } ms).
explain-member-left = Group { $group }: { $member } left (LeaveGroup: { $reason }).
explain-member-removed = Group { $group }: { $member } removed: { $reason }.
explain-poll-timeout = { $component } did not call poll() within max.poll.interval.ms = { $limit } ms (last poll at { $last } ms): it leaves the group.
explain-partitions-lost = { $component } lost { $partitions } ({ $reason }).
explain-crash = { $component } crashes (kill -9): no LeaveGroup is sent; the coordinator learns of it only when session.timeout.ms expires.
explain-restart = { $component } restarts: a new process, with only what the brokers kept (committed offsets).
explain-close-leave = { $component } closes and sends LeaveGroup: the group rebalances at once.
explain-close-static = { $component } closes without LeaveGroup (a static member): its partitions wait for session.timeout.ms.

# Duplicates, losses, dead letters.
explain-duplicate-retry = Duplicate in { $partition } at offset { $offset }: { $producer } sent the batch again (attempt { $attempt }, after { $error }) because the answer to the first attempt never came, and without enable.idempotence the broker cannot tell it from a new batch.
explain-duplicate-retry-idempotent = Duplicate in { $partition } at offset { $offset }: { $producer } retried the batch (attempt { $attempt }, after { $error }) and the broker appended it again although enable.idempotence is on (a new producer epoch or sequence).
explain-duplicate-resent = Duplicate in { $partition } at offset { $offset }: a value already in the log is appended again; { $producer } sent it anew (not a retry of the same batch).
explain-duplicate-recognised = No duplicate in { $partition }: the broker recognised the retried batch of { $producer } (producer id { $pid }, epoch { $epoch }, sequences { $first }..{ $last }) and answered with the original offset { $offset } (enable.idempotence, KIP-98).
explain-loss-acks0 = Loss: a request of { $producer } to { $to } was lost ({ $reason }); with acks=0 the producer counted its batch as sent when it wrote it, so nothing retries it.
explain-reread = { $component } processes { $partition } offsets { $first }..{ $last } again ({ $count ->
    [one] { $count } record
   *[other] { $count } records
  }): it resumed from the committed offset, behind what { $before } had processed.
explain-reread-crash = { $component } processes { $partition } offsets { $first }..{ $last } again ({ $count ->
    [one] { $count } record
   *[other] { $count } records
  }): { $before } crashed at { $at } ms before committing them, and the new owner re-reads from the committed offset.
explain-dead-letter = Dead letter: { $partition } offset { $offset } failed { $attempts ->
    [one] { $attempts } time
   *[other] { $attempts } times
  } ({ $error }) and was sent to { $dlt }.

# The cluster.
explain-fenced = Broker { $broker } fenced by the controller ({ $reason }): its last heartbeat arrived at { $last } ms, { $after } ms before.
explain-election-clean = { $partition }: leader { $previous } -> { $leader }, epoch { $epoch }, ISR [{ $isr }], a clean election from the ISR ({ $reason }).
explain-election-unclean = { $partition }: leader { $previous } -> { $leader }, epoch { $epoch }, ISR [{ $isr }], an UNCLEAN election from outside the ISR (unclean.leader.election.enable): acknowledged records the new leader lacks are lost ({ $reason }).
explain-election-none = { $partition }: no replica can lead (leader { $previous } -> none, epoch { $epoch }, ISR [{ $isr }]): the partition is offline ({ $reason }).
explain-isr-shrunk = { $partition }: ISR shrinks to [{ $isr }], without broker(s) { $brokers } ({ $reason }).
explain-isr-expanded = { $partition }: broker(s) { $brokers } caught up and join the ISR, now [{ $isr }].
explain-loss-failover = Loss: { $leader } leads { $partition } from epoch { $epoch } at its log end, offset { $start }, but the log of the previous leader { $previous } ended at offset { $held }: { $lost } record(s) beyond { $start } are gone, acknowledged ones included when acks=1 or an unclean election let a replica lead without them.
explain-truncated = { $component } truncates { $partition } to offset { $offset }: { $removed } record(s) removed ({ $reason }).
explain-truncated-unclean = Loss: { $component } truncates { $partition } to offset { $offset } after an unclean election: { $removed } record(s) removed ({ $reason }).
explain-truncated-nothing = { $component } truncates { $partition } to offset { $offset }: nothing to remove ({ $reason }).

# --at: the state at one time.
explain-state-at = State at { $at } ms:
explain-state-group = group { $group }: { $state }, generation { $generation }
explain-state-partition = { $partition }: leader { $leader }, ISR [{ $isr }]
explain-state-member = { $member } <- { $partitions }

# Transactions.
explain-txn-commit = Transaction of { $id } committed (EndTxn): the coordinator writes a COMMIT marker to each of its partitions, and its records and offsets become visible to read_committed consumers.
explain-txn-abort-app = Transaction of { $id } aborted by the application (EndTxn abort): ABORT markers follow; read_committed consumers skip its records.
explain-txn-abort-timeout = Transaction of { $id } aborted by the coordinator: open longer than transaction.timeout.ms. It bumps the producer's epoch (PrepareEpochFence), so that requests with the old epoch are refused (PRODUCER_FENCED); ABORT markers follow.
explain-txn-abort-fence = Transaction of { $id } aborted by a new instance's InitProducerId with the same transactional.id: the epoch is bumped (PrepareEpochFence), which fences the old instance; ABORT markers follow.
explain-txn-abort-other = Transaction of { $id } aborted ({ $reason }).
explain-txn-marker = { $result } marker written to { $partition } at offset { $offset } (producer id { $pid }, epoch { $epoch }): a control record, which takes an offset but is never handed to the application.
explain-txn-fenced = { $id }: { $request } with epoch { $epoch } refused with PRODUCER_FENCED: a newer epoch of this transactional.id exists (a new instance, or the coordinator's abort on transaction.timeout.ms).
explain-txn-unstable = Group { $group }: an OffsetFetch with require_stable got UNSTABLE_OFFSET_COMMIT for { $partitions }: the open transaction of producer id { $pids } holds a pending offset (TxnOffsetCommit) that its marker will commit or drop; the consumer asks again after retry.backoff.ms.
