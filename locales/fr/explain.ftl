# `kafka-sim explain --lang fr` : chaque décision d'une exécution, avec ses causes et ses chiffres.
# Les noms de configuration de Kafka (session.timeout.ms), les noms d'API (JoinGroup,
# LeaveGroup) et les codes d'erreur restent tels quels.

explain-variant = == variante { $variant } ({ $scenario }) ==
explain-unknown = { $what } { $name } introuvable dans { $trace } ; les noms existants les plus proches : { $closest }
explain-what-key = clé
explain-what-member = membre
explain-what-group = groupe
explain-what-partition = partition
explain-what-variant = variante
explain-nothing = (aucune décision ne correspond)
explain-causes-trace = causes, telles que la trace les enregistre :
explain-causes-events = causes, déduites des événements :

# Clés et partitionneurs.
explain-key-masked = clé { $key } envoyée par { $producer } ({ $partitioner }) : { $function } = { $hash }, ({ $hash } & 0x7fffffff) % { $partitions } = { $positive } % { $partitions } = partition { $partition } de { $topic }.
explain-key-unsigned = clé { $key } envoyée par { $producer } ({ $partitioner }) : { $function } = { $hash } (non signé), { $hash } % { $partitions } = partition { $partition } de { $topic }.
explain-key-elsewhere = clé { $key } envoyée par { $producer } ({ $partitioner }) : { $function } = { $hash } donne { $positive } % { $partitions } = { $computed }, mais l'enregistrement est allé sur la partition { $partition } de { $topic } (une partition choisie par l'application).
explain-key-sticky = clé { $key } envoyée par { $producer } ({ $partitioner }) : une clé vide suit le chemin « collant », comme une clé nulle : partition { $partition } de { $topic } ({ $partitions } partitions).
explain-key-random = clé { $key } envoyée par { $producer } ({ $partitioner }) : le partitionneur random ne regarde pas la clé et a tiré la partition { $partition } de { $topic } ({ $partitions } partitions).
explain-key-round-robin = clé { $key } envoyée par { $producer } ({ $partitioner }) : RoundRobinPartitioner ne regarde pas la clé ; son compteur a donné la partition { $partition } de { $topic } ({ $partitions } partitions).
explain-sticky-first = { $producer } ({ $partitioner }) : les enregistrements sans clé restent collés à la partition { $partition } de { $topic } (batch { $batch }).
explain-sticky-switch = { $producer } : les enregistrements sans clé passent de la partition { $from } à la partition { $partition } de { $topic } après { $records ->
    [one] { $records } enregistrement
   *[other] { $records } enregistrements
  } en { $ms } ms ; le premier batch de la nouvelle partition est le { $batch }.
explain-sticky-why-java = Le partitionneur intégré (KIP-794) change de partition dès que batch.size = { $batch_size } octets y sont partis et que son batch est plein ; la suivante est tirée au hasard, de préférence parmi les files les plus courtes (partitioner.adaptive.partitioning.enable).
explain-sticky-why-legacy = Le DefaultPartitioner de Java 2.4 à 3.2 (KIP-480) change de partition à chaque nouveau batch (batch plein, ou linger.ms = { $linger } ms écoulé), jamais pour la même.
explain-sticky-why-round-robin = RoundRobinPartitioner envoie chaque enregistrement à la partition suivante.
explain-sticky-why-librdkafka = librdkafka change de partition après sticky.partitioning.linger.ms passé sur la même (2 x linger.ms = { $sticky } ms, sauf réglage contraire).

# Groupes de consommateurs.
explain-rebalance = Le groupe { $group } se rééquilibre : { $from } -> PreparingRebalance (fin de la génération { $generation }).
explain-why-joined = Déclenché par un JoinGroup : le nouveau membre { $member } (client.id { $client }, assignors { $protocols }).
explain-why-restarted = { $component } a redémarré à { $at } ms : un nouveau processus, qui rejoint le groupe avec un nouvel identifiant de membre.
explain-why-left = Déclenché par un LeaveGroup de { $member } ({ $reason }).
explain-why-close = Déclenché par le LeaveGroup que close() envoie pour { $member } ({ $reason }).
explain-why-poll = Déclenché par un LeaveGroup de { $member } : son application n'a pas appelé poll() dans le délai max.poll.interval.ms = { $limit } ms (dernier poll à { $last } ms).
explain-why-expired = Déclenché par le coordinateur : session.timeout.ms = { $timeout } ms a expiré pour { $member }, { $timeout } ms après son dernier heartbeat, reçu à { $last } ms.
explain-why-join-timeout = Déclenché par le coordinateur : { $member } n'a jamais terminé son JoinGroup en { $timeout } ms (vu pour la dernière fois à { $last } ms).
explain-why-crashed = Son processus { $component } a planté à { $at } ms (kill -9 : pas de LeaveGroup), { $before } ms avant que le coordinateur ne s'en aperçoive.
explain-why-paused = Son processus { $component } s'est figé à { $at } ms (pause du GC, SIGSTOP), { $before } ms avant que le coordinateur ne s'en aperçoive.
explain-why-removed = Déclenché par le coordinateur : il a retiré { $member } ({ $reason }).
explain-why-rejoin = Déclenché par le leader qui rejoint le groupe : ses métadonnées ont changé (un abonnement ou un nombre de partitions) ; le coordinateur indique : { $reason }.
explain-why-cooperative = Déclenché par le second tour du protocole coopératif (KIP-429) : les membres ont révoqué les partitions qui changent de propriétaire et rejoignent le groupe pour qu'elles soient confiées aux nouveaux ; le coordinateur indique : { $reason }.
explain-why-coordinator = Raison donnée par le coordinateur : { $reason }.
explain-generation = Groupe { $group } : génération { $generation } avec { $count ->
    [one] { $count } membre
   *[other] { $count } membres
  } ({ $members }), assignor { $protocol } choisi par vote, leader { $leader }.
explain-assign-head = Groupe { $group }, génération { $generation } : le leader a exécuté { $protocol } pour { $count ->
    [one] { $count } membre
   *[other] { $count } membres
  } sur les topics { $topics }.
explain-assign-input = entrée : { $member } détenait { $owned }
explain-assign-output = sortie : { $member } <- { $partitions }
explain-assign-moved = déplacées : { $moves }
explain-assign-eager = Protocole eager : chaque membre a révoqué toutes ses partitions avant de rejoindre le groupe (révoquées : { $revoked }).
explain-assign-cooperative = Protocole coopératif (KIP-429) : seules les partitions qui changent de propriétaire sont révoquées, les autres continuent d'être lues (révoquées : { $revoked }).
explain-member-expired = Groupe { $group } : { $member } est retiré, aucun heartbeat pendant session.timeout.ms = { $timeout } ms (le dernier à { $last } ms).
explain-member-left = Groupe { $group } : { $member } est parti (LeaveGroup : { $reason }).
explain-member-removed = Groupe { $group } : { $member } est retiré : { $reason }.
explain-poll-timeout = { $component } n'a pas appelé poll() dans le délai max.poll.interval.ms = { $limit } ms (dernier poll à { $last } ms) : il quitte le groupe.
explain-partitions-lost = { $component } perd { $partitions } ({ $reason }).
explain-crash = { $component } plante (kill -9) : aucun LeaveGroup n'est envoyé ; le coordinateur ne l'apprendra qu'à l'expiration de session.timeout.ms.
explain-restart = { $component } redémarre : un nouveau processus, qui ne retrouve que ce que les brokers ont gardé (les offsets commités).
explain-close-leave = { $component } se ferme et envoie un LeaveGroup : le groupe se rééquilibre aussitôt.
explain-close-static = { $component } se ferme sans LeaveGroup (membre statique) : ses partitions attendent l'expiration de session.timeout.ms.

# Doublons, pertes, lettres mortes.
explain-duplicate-retry = Doublon dans { $partition } à l'offset { $offset } : { $producer } a renvoyé le batch (tentative { $attempt }, après { $error }) faute d'avoir reçu la réponse à la première tentative ; sans enable.idempotence, le broker ne peut pas le distinguer d'un nouveau batch.
explain-duplicate-retry-idempotent = Doublon dans { $partition } à l'offset { $offset } : { $producer } a renvoyé le batch (tentative { $attempt }, après { $error }) et le broker l'a ajouté une seconde fois bien qu'enable.idempotence soit actif (nouvelle époque du producteur ou nouvelle séquence).
explain-duplicate-resent = Doublon dans { $partition } à l'offset { $offset } : une valeur déjà présente dans le log est ajoutée de nouveau ; { $producer } l'a envoyée une seconde fois (ce n'est pas un renvoi du même batch).
explain-duplicate-recognised = Pas de doublon dans { $partition } : le broker a reconnu le batch renvoyé par { $producer } (producer id { $pid }, époque { $epoch }, séquences { $first }..{ $last }) et a répondu avec l'offset d'origine { $offset } (enable.idempotence, KIP-98).
explain-loss-acks0 = Perte : une requête de { $producer } vers { $to } s'est perdue ({ $reason }) ; avec acks=0, le producteur a tenu son batch pour envoyé dès qu'il l'a écrit, donc rien ne le renvoie.
explain-reread = { $component } traite de nouveau { $partition }, offsets { $first }..{ $last } ({ $count ->
    [one] { $count } enregistrement
   *[other] { $count } enregistrements
  }) : il a repris à l'offset commité, en deçà de ce que { $before } avait déjà traité.
explain-reread-crash = { $component } traite de nouveau { $partition }, offsets { $first }..{ $last } ({ $count ->
    [one] { $count } enregistrement
   *[other] { $count } enregistrements
  }) : { $before } a planté à { $at } ms sans les avoir commités, et le nouveau propriétaire relit depuis l'offset commité.
explain-dead-letter = Lettre morte : { $partition } offset { $offset } a échoué { $attempts ->
    [one] { $attempts } fois
   *[other] { $attempts } fois
  } ({ $error }) et a été envoyé vers { $dlt }.

# Le cluster.
explain-fenced = Le broker { $broker } est isolé (fenced) par le contrôleur ({ $reason }) : son dernier heartbeat est arrivé à { $last } ms, { $after } ms plus tôt.
explain-election-clean = { $partition } : leader { $previous } -> { $leader }, époque { $epoch }, ISR [{ $isr }], élection propre parmi l'ISR ({ $reason }).
explain-election-unclean = { $partition } : leader { $previous } -> { $leader }, époque { $epoch }, ISR [{ $isr }], élection IMPROPRE hors de l'ISR (unclean.leader.election.enable) : les enregistrements acquittés qui manquent au nouveau leader sont perdus ({ $reason }).
explain-election-none = { $partition } : aucune réplique ne peut prendre la tête (leader { $previous } -> none, époque { $epoch }, ISR [{ $isr }]) : la partition est hors ligne ({ $reason }).
explain-isr-shrunk = { $partition } : l'ISR se réduit à [{ $isr }], sans le(s) broker(s) { $brokers } ({ $reason }).
explain-isr-expanded = { $partition } : le(s) broker(s) { $brokers } ont rattrapé leur retard et rejoignent l'ISR, désormais [{ $isr }].
explain-loss-failover = Perte : { $leader } mène { $partition } à partir de l'époque { $epoch }, depuis la fin de son log, offset { $start }, alors que le log de l'ancien leader { $previous } allait jusqu'à l'offset { $held } : { $lost } enregistrement(s) au-delà de { $start } disparaissent, y compris des enregistrements acquittés si acks=1 ou une élection impropre a laissé mener une réplique qui ne les avait pas.
explain-truncated = { $component } tronque { $partition } à l'offset { $offset } : { $removed } enregistrement(s) supprimé(s) ({ $reason }).
explain-truncated-unclean = Perte : { $component } tronque { $partition } à l'offset { $offset } après une élection impropre : { $removed } enregistrement(s) supprimé(s) ({ $reason }).
explain-truncated-nothing = { $component } tronque { $partition } à l'offset { $offset } : rien à supprimer ({ $reason }).

# --at : l'état à un instant donné.
explain-state-at = État à { $at } ms :
explain-state-group = groupe { $group } : { $state }, génération { $generation }
explain-state-partition = { $partition } : leader { $leader }, ISR [{ $isr }]
explain-state-member = { $member } <- { $partitions }

# Les transactions.
explain-txn-commit = Transaction de { $id } validée (EndTxn) : le coordinateur écrit un marqueur COMMIT sur chacune de ses partitions, et ses enregistrements et ses offsets deviennent visibles des consommateurs read_committed.
explain-txn-abort-app = Transaction de { $id } annulée par l'application (EndTxn abort) : des marqueurs ABORT suivent ; les consommateurs read_committed sautent ses enregistrements.
explain-txn-abort-timeout = Transaction de { $id } annulée par le coordinateur : ouverte plus longtemps que transaction.timeout.ms. Il incrémente l'époque du producteur (PrepareEpochFence), si bien que les requêtes à l'ancienne époque sont refusées (PRODUCER_FENCED) ; des marqueurs ABORT suivent.
explain-txn-abort-fence = Transaction de { $id } annulée par l'InitProducerId d'une nouvelle instance au même transactional.id : l'époque est incrémentée (PrepareEpochFence), ce qui écarte l'ancienne instance ; des marqueurs ABORT suivent.
explain-txn-abort-other = Transaction de { $id } annulée ({ $reason }).
explain-txn-marker = Marqueur { $result } écrit sur { $partition } à l'offset { $offset } (producer id { $pid }, époque { $epoch }) : un enregistrement de contrôle, qui prend un offset mais n'est jamais remis à l'application.
explain-txn-fenced = { $id } : { $request } à l'époque { $epoch } refusé avec PRODUCER_FENCED : une époque plus récente de ce transactional.id existe (une nouvelle instance, ou l'annulation du coordinateur sur transaction.timeout.ms).
explain-txn-unstable = Groupe { $group } : un OffsetFetch avec require_stable a reçu UNSTABLE_OFFSET_COMMIT pour { $partitions } : la transaction ouverte du producer id { $pids } tient un offset en attente (TxnOffsetCommit) que son marqueur validera ou abandonnera ; le consommateur redemande après retry.backoff.ms.
