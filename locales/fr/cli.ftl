# Messages de la ligne de commande hors compte rendu : `plot`, `describe`.

plot-wrote = { $path } écrit (graphique { $kind }, { $size }, { $traces ->
    [one] { $traces } trace
   *[other] { $traces } traces
  })
describe-no-topic = { $trace } n'a pas de topic « { $topic } »
describe-no-topics = { $trace } ne crée aucun topic (pas d'événement TopicCreated)
