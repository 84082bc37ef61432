# `kafka-sim run --lang fr` : le compte rendu d'une exécution. Les noms des outils de Kafka
# (kafka-topics, kafka-consumer-groups), les noms de configuration et les mots de ses tableaux
# (leader, none) restent tels quels : ce sont ceux que l'on retrouve sur un vrai cluster.

run-header = kafka-sim run { $scenario } (graine { $seed })
run-scenario = scénario : { $name }
run-course = cours : { $course }
run-variant = variante { $variant }
run-variant-described = variante { $variant } : { $description }
run-plain = exécution
run-expectations = attendus :
run-none = (aucun)
run-pass = OK
run-fail = ÉCHEC
run-summary-written = résumé : { $path }
run-plot-written = graphique : { $path }
run-trace-written = trace : { $path }
run-failed = { $failed ->
    [one] { $failed } attendu non tenu
   *[other] { $failed } attendus non tenus
  } ; pour reproduire : { $command }
run-produced = produit :
run-topic-records = { $topic } : { $records ->
    [one] { $records } enregistrement
   *[other] { $records } enregistrements
  } ({ $counts })
run-keys = clés : { $keys }
run-delivery-reports = rapports de livraison (ce que chaque send() a appris) :
run-delivery-failed = ÉCHEC { $error }
run-delivery-offset = partition { $partition } offset { $offset }
run-delivery-no-offset = partition { $partition } (pas d'offset : acks=0)
run-delivery = { $producer }  envoyé à { $sent } ms  clé={ $key } valeur={ $value }  -> { $outcome }
run-duplicates = doublons écrits : { $duplicates }
run-cluster = cluster :
run-broker-fenced = broker { $broker } écarté (fenced)
run-broker-unfenced = broker { $broker } réadmis (unfenced)
run-topics-at = kafka-topics --describe  (à { $t } ms)
run-acked-lost = { $topic } : { $lost ->
    [one] { $lost } enregistrement acquitté perdu
   *[other] { $lost } enregistrements acquittés perdus
  }
run-log-start = { $partition } : log start offset { $start }, { $held ->
    [one] { $held } enregistrement conservé à la fin
   *[other] { $held } enregistrements conservés à la fin
  }
run-rebalances = rééquilibrages :
run-not-completed = pas terminé
run-rebalance = { $start } ms -> { $done }  groupe { $group }  génération { $generation }  { $protocol }  ({ $reason })
run-never = jamais
run-group-totals = groupe { $group } : { $processings } traités ({ $distinct } distincts, { $reprocessed } retraités, { $skipped } sautés), lag résorbé à { $drained }
run-groups-at = kafka-consumer-groups --describe --group { $group }  (à { $t } ms)
run-topic-control = + { $markers ->
    [one] { $markers } enregistrement de contrôle (marqueur de transaction : { $counts }) : il prend un offset, d'où un trou dans les offsets
   *[other] { $markers } enregistrements de contrôle (marqueurs de transaction : { $counts }) : chacun prend un offset, d'où des trous dans les offsets
  }
run-transactions = transactions :
run-txn-id = { $id } : producer id { $pid }, époques { $epochs } ; { $committed ->
    [one] { $committed } validée
   *[other] { $committed } validées
  }, { $aborted ->
    [one] { $aborted } annulée
   *[other] { $aborted } annulées
  }{ $causes }
run-txn-causes = {" "}({ $list })
run-txn-cause-app = { $n } par l'EndTxn de l'application
run-txn-cause-timeout = { $n } par le coordinateur sur transaction.timeout.ms
run-txn-cause-fence = { $n } par l'InitProducerId d'une nouvelle instance
run-txn-cause-other = { $n } sur { $reason }
run-txn-commit = COMMIT  EndTxn(commit) par l'application{ $markers }
run-txn-abort-app = ABORT   EndTxn(abort) par l'application{ $markers }
run-txn-abort-timeout = ABORT   par le coordinateur : ouverte plus de transaction.timeout.ms, époque incrémentée (PrepareEpochFence){ $markers }
run-txn-abort-fence = ABORT   par l'InitProducerId d'une nouvelle instance au même transactional.id, époque incrémentée (PrepareEpochFence){ $markers }
run-txn-abort-other = ABORT   { $reason }{ $markers }
run-txn-markers-on = , marqueurs sur { $partitions }
run-txn-more = ... et { $n } de plus
run-txn-markers = marqueurs : { $list }
run-txn-fenced = écarté (fenced) : { $producer } (producer id { $pid }, époque { $epoch }) : son { $request } a reçu PRODUCER_FENCED
run-txn-open = ouverte à la fin : une transaction depuis { $t } ms, ses enregistrements au-delà du last stable offset
run-lag-note = { $partition } : LAG { $lag } = { $parts }
run-lag-markers = { $n ->
    [one] { $n } marqueur de transaction (enregistrement de contrôle)
   *[other] { $n } marqueurs de transaction (enregistrements de contrôle)
  }
run-lag-aborted = { $n ->
    [one] { $n } enregistrement d'une transaction annulée (read_committed le saute)
   *[other] { $n } enregistrements de transactions annulées (read_committed les saute)
  }
run-lag-open = { $n ->
    [one] { $n } enregistrement d'une transaction ouverte, au-delà du last stable offset { $lso } (read_committed attend son marqueur)
   *[other] { $n } enregistrements de transactions ouvertes, au-delà du last stable offset { $lso } (read_committed attend leurs marqueurs)
  }
run-lag-readable = { $n ->
    [one] { $n } enregistrement à lire
   *[other] { $n } enregistrements à lire
  }
run-lag-nothing = plus rien à lire
run-txn-open-records = { $partition } : { $n ->
    [one] { $n } enregistrement
   *[other] { $n } enregistrements
  } de transactions ouvertes à la fin, au-delà du last stable offset { $lso } : aucun marqueur ne les a suivis
