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
