//! A scenario's texts for the reader, in the language of the output: `notes` and a variant's
//! `description` have French twins, `notes_fr` and `description_fr`, written for the French
//! courses. English is the default, and a text with no French version is shown in English
//! rather than not at all.

use super::Scenario;
use crate::i18n::Lang;

impl Scenario {
    /// The notes in `lang`: `notes_fr` for French when the file has it, else `notes`.
    pub fn notes_in(&self, lang: Lang) -> Option<&str> {
        pick(lang, self.notes.as_deref(), self.notes_fr.as_deref())
    }

    /// The variant's description in `lang`: `description_fr` for French when the variant has
    /// it, else `description`.
    pub fn variant_description_in(&self, lang: Lang) -> Option<&str> {
        let en = self.variant_description.as_deref();
        pick(lang, en, self.variant_description_fr.as_deref())
    }
}

fn pick<'a>(lang: Lang, en: Option<&'a str>, fr: Option<&'a str>) -> Option<&'a str> {
    match lang {
        Lang::En => en,
        Lang::Fr => fr.or(en),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_falls_back_to_english_and_english_never_shows_french() {
        assert_eq!(pick(Lang::Fr, Some("en"), Some("fr")), Some("fr"));
        assert_eq!(pick(Lang::Fr, Some("en"), None), Some("en"));
        assert_eq!(pick(Lang::En, Some("en"), Some("fr")), Some("en"));
        assert_eq!(pick(Lang::En, None, Some("fr")), None);
    }
}
