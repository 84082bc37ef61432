//! The languages kafka-sim speaks: every user-facing text of the command line and the plots is
//! looked up here by message id, in English (the default) or French (`--lang fr`).
//!
//! The texts are [Project Fluent](https://projectfluent.org) files, `locales/<lang>/<area>.ftl`
//! at the root of the repository, embedded in the binary with `include_str!`: nothing is read
//! at run time, and the environment's locale (`LANG`, `LC_*`) is never consulted, so a run's
//! output is a function of its arguments only (the determinism contract). English is the
//! reference: its messages reproduce, byte for byte, what the golden summaries in `sim-traces/`
//! hold.
//!
//! What is never translated: Kafka's config names (`session.timeout.ms`), API names
//! (`JoinGroup`), error codes (`NOT_ENOUGH_REPLICAS`), and the column headers Kafka's own tools
//! print (`GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...`): a student must find the
//! same words in Kafka's documentation and on a real cluster. Those stay in the code, outside
//! the `.ftl` files.
//!
//! Adding a text: add the message to `locales/en/<area>.ftl` and `locales/fr/<area>.ftl` with the
//! same id and the same variables (a unit test below fails otherwise), then call
//! [`Lang::msg`] or [`Lang::fmt`] with that id. Adding an area (`explain.ftl`, `page.ftl`): add
//! one line to [`RESOURCES`].
//!
//! ```
//! use kafka_sim::i18n::Lang;
//!
//! assert_eq!(Lang::En.fmt("run-scenario", &[("name", "black_friday".into())]),
//!            "scenario: black_friday");
//! assert_eq!(Lang::Fr.fmt("run-scenario", &[("name", "black_friday".into())]),
//!            "scénario : black_friday");
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// A language of the user-facing output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lang {
    /// English, the default: the golden outputs are in English.
    #[default]
    En,
    /// French, for the French-speaking courses.
    Fr,
}

/// One area's texts: its file name and the English and French sources.
#[derive(Clone, Copy, Debug)]
pub struct Resource {
    /// The file name under `locales/<lang>/`, e.g. `run.ftl`.
    pub file: &'static str,
    /// `locales/en/<file>`.
    pub en: &'static str,
    /// `locales/fr/<file>`.
    pub fr: &'static str,
}

/// `resource!("run.ftl")`: both languages' versions of one file, embedded.
macro_rules! resource {
    ($file:literal) => {
        Resource {
            file: $file,
            en: include_str!(concat!("../../locales/en/", $file)),
            fr: include_str!(concat!("../../locales/fr/", $file)),
        }
    };
}

/// Every area's texts. One line per `.ftl` file pair.
pub const RESOURCES: &[Resource] = &[
    resource!("cli.ftl"),
    resource!("run.ftl"),
    resource!("plot.ftl"),
    resource!("explain.ftl"),
];

/// A value for a message's variable: a text, or a count (which also selects plural forms, such
/// as French `enregistrement` / `enregistrements`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// Shown as it is.
    Text(String),
    /// A number; Fluent picks the plural form from it. Printed without grouping: `1000`.
    Count(u64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_string())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Text(s.clone())
    }
}

impl From<u64> for Arg {
    fn from(n: u64) -> Arg {
        Arg::Count(n)
    }
}

impl From<usize> for Arg {
    fn from(n: usize) -> Arg {
        Arg::Count(n as u64)
    }
}

impl From<u32> for Arg {
    fn from(n: u32) -> Arg {
        Arg::Count(u64::from(n))
    }
}

impl Lang {
    /// Every language, English first.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// The code on the command line and in the `locales/` folder: `en`, `fr`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The text of message `id`, which takes no variable.
    pub fn msg(self, id: &str) -> String {
        self.fmt(id, &[])
    }

    /// The text of message `id` with its variables. A message missing from the bundle yields
    /// its id (the tests make sure none is missing), so a slip never hides the output.
    pub fn fmt(self, id: &str, args: &[(&str, Arg)]) -> String {
        let bundle = bundle(self);
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            return id.to_string();
        };
        let mut fluent_args = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            fluent_args.set(*name, fluent_value(value));
        }
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned()
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Lang, String> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code() == s)
            .ok_or_else(|| format!("unknown language {s:?}; expected en or fr"))
    }
}

/// Counts beyond 2^53 do not fit Fluent's numbers (`f64`) exactly: they are shown as text.
fn fluent_value(arg: &Arg) -> FluentValue<'static> {
    match arg {
        Arg::Text(s) => FluentValue::from(s.clone()),
        Arg::Count(n) if *n < (1 << 53) => FluentValue::from(*n as f64),
        Arg::Count(n) => FluentValue::from(n.to_string()),
    }
}

/// The bundle of `lang`, built once per process from the embedded sources.
fn bundle(lang: Lang) -> &'static FluentBundle<FluentResource> {
    static EN: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    static FR: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    let cell = match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    };
    cell.get_or_init(|| build(lang))
}

/// Parses every resource of `lang` into one bundle. The sources are part of the binary, so a
/// syntax error or a duplicated id is a bug in this crate: it panics (the tests build both).
fn build(lang: Lang) -> FluentBundle<FluentResource> {
    let id: LanguageIdentifier = lang.code().parse().expect("en and fr are language ids");
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // No Unicode bidi isolation marks around variables: the output is plain left-to-right text
    // and English must stay byte-identical to the golden files.
    bundle.set_use_isolating(false);
    for r in RESOURCES {
        let source = match lang {
            Lang::En => r.en,
            Lang::Fr => r.fr,
        };
        let parsed = FluentResource::try_new(source.to_string())
            .unwrap_or_else(|(_, e)| panic!("locales/{lang}/{}: {e:?}", r.file));
        if let Err(e) = bundle.add_resource(parsed) {
            panic!("locales/{lang}/{}: {e:?}", r.file);
        }
    }
    bundle
}

#[cfg(test)]
mod tests;
