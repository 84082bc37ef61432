# Les graphiques PNG : axes, légendes, liste des repères. Les noms de groupes, de variantes et
# de composants restent tels qu'ils sont dans le scénario.

plot-axis-time = temps virtuel (s)
plot-axis-lag = lag (enregistrements)
plot-axis-partition = partition
plot-axis-partition-bars = partition (topic-numéro)
plot-axis-records-appended = enregistrements écrits
plot-axis-rate = enreg./s (par tranche de { $bucket })
plot-even-share = part égale : { $share }
plot-even-share-of = { $label } : part égale { $share }
plot-key-entry = { $n }  { $t }  { $label }
plot-title-lag = lag des consommateurs
plot-title-partitions = enregistrements par partition
plot-title-assignments = affectation des partitions
plot-title-throughput = débit
plot-title-seed = graine { $seed }
plot-title-seeds = graines { $seeds }
plot-series-group = groupe { $group }
plot-series-run = { $run } : { $label }
plot-series-records-appended = enregistrements écrits
plot-series-produced-to = produits vers { $name }
plot-series-processed-by = traités par { $name }
plot-mark-crash = panne { $what }
plot-mark-rebalance = rééquilibrage { $what }
plot-mark-generation = génération { $generation } { $what }
plot-mark-of = { $label } ({ $runs })
