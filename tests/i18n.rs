//! French output (issue 16, item 3): `--lang fr` on `run`, `describe` and `plot`, English as the
//! byte-identical default, and a French text for every scenario.

use crate::support::{kafka_sim, stderr, stdout};

/// The crash variant of Black Friday in French: the report's words are French, the notes are
/// the scenario's `notes_fr`, and Kafka's own tool names and table columns are untouched.
#[test]
fn run_in_french_keeps_kafkas_words() {
    let args = [
        "run",
        "scenarios/black_friday.toml",
        "--variant",
        "3p3c-crash",
    ];
    let fr = kafka_sim(&[&args[..], &["--lang", "fr"]].concat());
    assert!(fr.status.success(), "{}", stderr(&fr));
    let text = stdout(&fr);
    for expected in [
        "kafka-sim run scenarios/black_friday.toml (graine 42)\nscénario : black_friday\n",
        "  Le rush envoie 1000 paiements sans clé",
        "== variante 3p3c-crash : 3 partitions, 3 consommateurs",
        "  payment-successful : 1000 enregistrements (p0: ",
        "groupe order-service-group : 1049 traités",
        "kafka-consumer-groups --describe --group order-service-group  (à 60000 ms)",
        "GROUP               TOPIC              PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG",
        "attendus :\n  OK  ",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert!(
        !text.contains("expectations:") && !text.contains("The flood"),
        "{text}"
    );
}

/// `--lang en` is the default, byte for byte (the golden summaries are English).
#[test]
fn english_is_the_default() {
    let args = [
        "run",
        "scenarios/keyed_partitioning.toml",
        "--variant",
        "java",
    ];
    let default = kafka_sim(&args);
    let en = kafka_sim(&[&args[..], &["--lang", "en"]].concat());
    assert!(default.status.success(), "{}", stderr(&default));
    assert_eq!(stdout(&default), stdout(&en));
    assert!(stdout(&default).contains("\nscenario: keyed_partitioning\n"));
    let bad = kafka_sim(&[&args[..], &["--lang", "de"]].concat());
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("expected en or fr"),
        "{}",
        stderr(&bad)
    );
}

/// `describe` and `plot` speak French too; the plot is a PNG like the English one.
#[test]
fn describe_and_plot_in_french() {
    let dir = std::env::temp_dir().join(format!("kafka-sim-i18n-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("k.jsonl");
    let trace_arg = trace.to_str().unwrap();
    let run = kafka_sim(&[
        "run",
        "scenarios/explicit_partitions.toml",
        "--trace",
        trace_arg,
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let missing = kafka_sim(&["describe", trace_arg, "--topic", "nope", "--lang", "fr"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("n'a pas de topic « nope »"),
        "{}",
        stderr(&missing)
    );
    let png = dir.join("p.png");
    let png_arg = png.to_str().unwrap();
    let plot = kafka_sim(&[
        "plot",
        trace_arg,
        "-k",
        "partitions",
        "-o",
        png_arg,
        "--lang",
        "fr",
    ]);
    assert!(plot.status.success(), "{}", stderr(&plot));
    assert!(stdout(&plot).contains("écrit (graphique partitions, 1600x900, 1 trace)"));
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every scenario has `notes_fr`, and every variant with a `description` has `description_fr`.
#[test]
fn every_scenario_has_french_notes() {
    let mut files: Vec<_> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "{files:?}");
    for path in files {
        let table: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        let meta = table["scenario"].as_table().unwrap();
        assert!(
            meta.contains_key("notes_fr"),
            "{}: no notes_fr",
            path.display()
        );
        let variants = table.get("variant").and_then(|v| v.as_array());
        for v in variants.into_iter().flatten() {
            let v = v.as_table().unwrap();
            if v.contains_key("description") {
                let name = v["name"].as_str().unwrap();
                assert!(
                    v.contains_key("description_fr"),
                    "{}: variant {name} has no description_fr",
                    path.display()
                );
            }
        }
    }
}
