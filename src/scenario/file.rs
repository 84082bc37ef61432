//! A scenario file as parsed, its variants, and choosing one to resolve.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::resolve;
use crate::scenario::raw::RawScenario;
use crate::scenario::{Scenario, ScenarioError, SourceMap};

/// A parsed scenario file, before a variant is chosen.
#[derive(Debug)]
pub struct ScenarioFile {
    path: PathBuf,
    text: String,
    raw: RawScenario,
}

impl ScenarioFile {
    /// Parses `text`, the contents of `path`.
    pub fn parse(path: &Path, text: String) -> Result<ScenarioFile, ScenarioError> {
        let map = SourceMap::new(path, &text);
        let raw: RawScenario = toml::from_str(&text).map_err(|e| {
            let span = e.span();
            // A missing table or key has no text of its own: its name is in the message.
            let missing = e
                .message()
                .strip_prefix("missing field `")
                .and_then(|m| m.split_once('`'))
                .map(|(name, _)| name.to_string());
            let field = match (missing, span.clone()) {
                (Some(name), _) => name,
                (None, Some(s)) => map.key_near(s.start),
                (None, None) => String::new(),
            };
            map.error(span, field, e.message().trim().to_string())
        })?;
        let mut seen = BTreeSet::new();
        for v in &raw.variant {
            if !seen.insert(v.name.get_ref().clone()) {
                return Err(map.error(
                    Some(v.name.span()),
                    "variant.name",
                    "duplicate variant name",
                ));
            }
        }
        Ok(ScenarioFile {
            path: path.to_path_buf(),
            text,
            raw,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `[scenario] name`.
    pub fn name(&self) -> &str {
        &self.raw.scenario.name
    }

    /// Variant names in file order (empty if the file has none).
    pub fn variants(&self) -> Vec<String> {
        self.raw
            .variant
            .iter()
            .map(|v| v.name.get_ref().clone())
            .collect()
    }

    /// Builds the scenario for `variant` (`None` when the file has no variants).
    pub fn resolve(&self, variant: Option<&str>) -> Result<Scenario, ScenarioError> {
        let map = SourceMap::new(&self.path, &self.text);
        let chosen = match variant {
            None if !self.raw.variant.is_empty() => {
                return Err(map.file_error(format!(
                    "this scenario has variants; choose one of: {}",
                    self.variants().join(", ")
                )));
            }
            None => None,
            Some(name) => Some(
                self.raw
                    .variant
                    .iter()
                    .find(|v| v.name.get_ref() == name)
                    .ok_or_else(|| {
                        map.file_error(format!(
                            "no variant {name:?}; the variants are: {}",
                            self.variants().join(", ")
                        ))
                    })?,
            ),
        };
        resolve::scenario(map, &self.text, &self.raw, chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[scenario]
name = "demo"
duration_ms = 60_000

[[topic]]
name = "orders"
partitions = 3

[[producer]]
name = "checkout"
topic = "orders"
records = 100
rate_per_s = 10
key = { pattern = "user-{n}", distinct = 5 }
config = { "acks" = "all", "linger.ms" = 5, "enable.idempotence" = true }

[[consumer_group]]
group_id = "analytics"
topics = ["orders"]
members = 3
processing_ms = 100
config = { "partition.assignment.strategy" = ["range", "cooperative-sticky"] }

[[timeline]]
at_ms = 30_000
action = "crash"
target = "consumer/analytics/2"

[[variant]]
name = "one"
consumer_group.analytics.members = 1
[variant.topic.orders]
partitions = 1

[[variant]]
name = "three"

[[expect]]
metric = "group.analytics.drained_at_ms"
op = "about"
value = 10_000
tolerance = 500
variants = ["three"]
"#;

    fn parse(text: &str) -> Result<ScenarioFile, ScenarioError> {
        ScenarioFile::parse(Path::new("demo.toml"), text.to_string())
    }

    #[test]
    fn variants_override_and_filter_expectations() {
        let file = parse(BASE).unwrap();
        assert_eq!(file.variants(), vec!["one", "three"]);
        let three = file.resolve(Some("three")).unwrap();
        assert_eq!(three.topics[0].partitions, 3);
        assert_eq!(three.groups[0].members(), 3);
        assert_eq!(three.expectations.len(), 1);
        assert_eq!(three.producers[0].config.get("linger.ms"), Some("5"));
        assert_eq!(
            three.groups[0].config.get("partition.assignment.strategy"),
            Some("range,cooperative-sticky")
        );
        // Variant "one" has 1 member, so the crash target consumer/analytics/2 does not exist.
        let err = file.resolve(Some("one")).unwrap_err();
        assert_eq!(err.field, "timeline.target");
        assert!(err.message.contains("members 1 to 1"), "{err}");
        assert!(
            file.resolve(None)
                .unwrap_err()
                .message
                .contains("choose one of: one, three")
        );
    }

    #[test]
    fn unknown_keys_name_the_line_and_field() {
        let text = BASE.replace("partitions = 3", "partitons = 3");
        let err = parse(&text).unwrap_err();
        assert_eq!(err.line, 8, "{err}");
        assert!(err.message.contains("unknown field `partitons`"), "{err}");
        assert!(err.to_string().starts_with("demo.toml:8:"), "{err}");
    }

    #[test]
    fn wrong_types_name_the_field() {
        let text = BASE.replace("records = 100", "records = \"many\"");
        let err = parse(&text).unwrap_err();
        assert_eq!(err.field, "records", "{err}");
        assert_eq!(err.line, 13);
    }

    #[test]
    fn impossible_values_are_refused() {
        let zero = BASE.replace("partitions = 3", "partitions = 0");
        let err = parse(&zero).unwrap().resolve(Some("three")).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.line),
            ("topic.partitions", 8),
            "{err}"
        );
        let rf = BASE.replace("partitions = 3", "partitions = 3\nreplication_factor = 3");
        let err = parse(&rf).unwrap().resolve(Some("three")).unwrap_err();
        assert!(err.message.contains("impossible with 1 broker(s)"), "{err}");
        let topic = BASE.replace("topics = [\"orders\"]", "topics = [\"ordres\"]");
        let err = parse(&topic).unwrap().resolve(Some("three")).unwrap_err();
        assert!(err.message.contains("no topic \"ordres\""), "{err}");
        let bad_name = BASE.replace("name = \"orders\"", "name = \"or ders\"");
        let err = parse(&bad_name)
            .unwrap()
            .resolve(Some("three"))
            .unwrap_err();
        assert_eq!(err.field, "topic.name");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for text in ["", "[[[", "scenario = 3", "[scenario]\nname = 1", "\u{0}"] {
            assert!(parse(text).is_err(), "{text:?}");
        }
    }
}
