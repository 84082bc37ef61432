//! From the raw file to the typed [`Scenario`]: one resolver per section, on one `Builder`.
//!
//! `mod.rs` holds the order in which sections are resolved (later sections refer to earlier
//! ones: a producer names a topic, a fault names a producer) and the helpers every section
//! shares; each sibling resolves one section of the file.

mod expectations;
mod faults;
mod groups;
mod producers;
mod timeline;
mod topics;

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use toml::Spanned;

use crate::client::library::ClientLibrary;
use crate::rng::Ratio;
use crate::scenario::raw::{RawConfig, RawScenario, RawVariant};
use crate::scenario::{Configs, Scenario, ScenarioError, SourceMap};
use crate::trace::Detail;
use crate::units::Millis;

/// Resolves `raw` with `variant`'s overrides applied; `text` is kept as the scenario's source.
pub(super) fn scenario(
    map: SourceMap<'_>,
    text: &str,
    raw: &RawScenario,
    variant: Option<&RawVariant>,
) -> Result<Scenario, ScenarioError> {
    Builder {
        map,
        text,
        raw,
        variant,
    }
    .build()
}

/// The file being resolved, with the chosen variant.
struct Builder<'a> {
    map: SourceMap<'a>,
    text: &'a str,
    raw: &'a RawScenario,
    variant: Option<&'a RawVariant>,
}

type Resolved<T> = Result<T, ScenarioError>;

impl Builder<'_> {
    fn build(&self) -> Resolved<Scenario> {
        let meta = &self.raw.scenario;
        let client = self.client(meta.client.as_ref(), ClientLibrary::Java4)?;
        let cluster = self.cluster()?;
        let topics = self.topics(&cluster)?;
        let producers = self.producers(client, &topics)?;
        let groups = self.groups(client, &topics)?;
        let actions = self.actions(&producers, &groups, &cluster)?;
        let faults = self.faults(&producers, &groups, &cluster)?;
        let expectations = self.expectations()?;
        let duration = *meta.duration_ms.get_ref();
        if duration == 0 {
            return Err(self.err(
                meta.duration_ms.span(),
                "scenario.duration_ms",
                "must be > 0",
            ));
        }
        let detail = match meta
            .trace_detail
            .as_ref()
            .map(|s| (s.get_ref().as_str(), s.span()))
        {
            None | Some(("records", _)) => Detail::Records,
            Some(("batches", _)) => Detail::Batches,
            Some((_, span)) => {
                return Err(self.err(span, "scenario.trace_detail", "use records or batches"));
            }
        };
        Ok(Scenario {
            path: self.map.path().to_path_buf(),
            source: Arc::from(self.text),
            name: meta.name.clone(),
            course: meta.course.clone(),
            notes: meta.notes.clone(),
            notes_fr: meta.notes_fr.clone(),
            seed: meta.seed.unwrap_or(42),
            duration: Millis(duration),
            variant: self.variant.map(|v| v.name.get_ref().clone()),
            variant_description: self.variant.and_then(|v| v.description.clone()),
            variant_description_fr: self.variant.and_then(|v| v.description_fr.clone()),
            detail,
            max_events: meta.max_events.unwrap_or(50_000_000),
            cluster,
            topics,
            producers,
            groups,
            actions,
            faults,
            expectations,
            report: self.report()?,
        })
    }

    /// A variant may only override entities the scenario declares (`[variant.topic.<name>]`).
    fn check_overrides<'n>(
        &self,
        kind: &str,
        overridden: Option<impl Iterator<Item = &'n String>>,
        declared: impl Iterator<Item = &'n String> + Clone,
    ) -> Resolved<()> {
        let (Some(v), Some(overridden)) = (self.variant, overridden) else {
            return Ok(());
        };
        for name in overridden {
            if !declared.clone().any(|d| d == name) {
                return Err(self.err(
                    v.name.span(),
                    &format!("variant.{kind}.{name}"),
                    format!("the variant overrides a {kind} the scenario does not declare"),
                ));
            }
        }
        Ok(())
    }

    fn err(&self, span: Range<usize>, field: &str, message: impl Into<String>) -> ScenarioError {
        self.map.error(Some(span), field, message)
    }

    fn client(
        &self,
        s: Option<&Spanned<String>>,
        default: ClientLibrary,
    ) -> Resolved<ClientLibrary> {
        match s {
            None => Ok(default),
            Some(s) => ClientLibrary::parse(s.get_ref()).ok_or_else(|| {
                self.err(
                    s.span(),
                    "client",
                    format!(
                        "unknown client {:?}; use {}",
                        s.get_ref(),
                        ClientLibrary::ACCEPTED
                    ),
                )
            }),
        }
    }

    fn configs(&self, raw: &RawConfig, overrides: Option<&RawConfig>) -> Resolved<Configs> {
        let mut entries = BTreeMap::new();
        for (name, value) in raw.iter().chain(overrides.into_iter().flatten()) {
            let text = match value.get_ref() {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Array(items) => {
                    let mut parts = Vec::new();
                    for item in items {
                        let Some(s) = item.as_str() else {
                            return Err(self.err(value.span(), name, "a list must hold strings"));
                        };
                        parts.push(s.to_string());
                    }
                    parts.join(",")
                }
                other => {
                    return Err(self.err(
                        value.span(),
                        name,
                        format!(
                            "a Kafka config is a string, an integer, a boolean or a list of \
                             strings, not a {}",
                            other.type_str()
                        ),
                    ));
                }
            };
            entries.insert(name.clone(), (text, value.span()));
        }
        Ok(Configs { entries })
    }

    fn component_name(&self, name: &Spanned<String>, field: &str) -> Resolved<String> {
        let n = name.get_ref();
        if n.is_empty()
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err(self.err(
                name.span(),
                field,
                "use ASCII letters, digits, '.', '_' and '-' (the name is part of component names)",
            ));
        }
        Ok(n.clone())
    }

    fn ratio(&self, s: &Spanned<String>, field: &str) -> Resolved<Ratio> {
        Ratio::parse(s.get_ref()).map_err(|e| self.err(s.span(), field, e.to_string()))
    }
}
