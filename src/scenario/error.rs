//! Errors in scenario files: each names the file, the line and column, the field, and what is
//! allowed, so a teacher can fix a typo without reading Rust.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A scenario file that cannot be run as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    /// The field at fault, as written in the file (`topic.partitions`, `"linger.ms"`).
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl std::error::Error for ScenarioError {}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if self.field.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": field `{}`: {}", self.field, self.message)
        }
    }
}

/// Turns byte spans into line and column numbers for one file.
#[derive(Debug, Clone)]
pub struct SourceMap<'a> {
    path: &'a Path,
    text: &'a str,
}

impl<'a> SourceMap<'a> {
    /// A map over `text`, the contents of `path`.
    pub fn new(path: &'a Path, text: &'a str) -> SourceMap<'a> {
        SourceMap { path, text }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        self.path
    }

    /// An error at `span` about `field`.
    pub fn error(
        &self,
        span: Option<Range<usize>>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> ScenarioError {
        let (line, column) = span.map_or((0, 0), |s| self.line_column(s.start));
        ScenarioError {
            path: self.path.to_path_buf(),
            line,
            column,
            field: field.into(),
            message: message.into(),
        }
    }

    /// An error without a position (a whole-file problem).
    pub fn file_error(&self, message: impl Into<String>) -> ScenarioError {
        self.error(None, "", message)
    }

    /// 1-based line and column (in characters) of byte offset `at`.
    pub fn line_column(&self, at: usize) -> (usize, usize) {
        let at = at.min(self.text.len());
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    /// The key written on the line of `at` (`partitions` in `partitions = 0`), to name the field
    /// of a parse error whose message does not.
    pub fn key_at(&self, at: usize) -> String {
        let at = at.min(self.text.len());
        let start = self.text[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = self.text[at..]
            .find('\n')
            .map_or(self.text.len(), |i| at + i);
        let line = &self.text[start..end];
        match line.split_once('=') {
            Some((key, _)) if !key.trim_start().starts_with('#') => {
                key.trim().trim_matches('"').to_string()
            }
            _ => String::new(),
        }
    }

    /// [`SourceMap::key_at`], or when the line of `at` has no key (a syntax error inside a
    /// multi-line array, a stray character), the nearest key or `[table]` above it: the field
    /// being written when the file broke.
    pub fn key_near(&self, at: usize) -> String {
        let at = at.min(self.text.len());
        for line in self.text[..at].rsplit('\n') {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            let name = match line.strip_prefix('[') {
                Some(table) => table.trim_matches(['[', ']']).trim(),
                None => line.split_once('=').map_or("", |(key, _)| key.trim()),
            };
            let name = name.trim_matches('"');
            if !name.is_empty() {
                return name.to_string();
            }
        }
        // Nothing above: the bare word the error is at (a key written without `= value`).
        let start = self.text[..at].rfind('\n').map_or(0, |i| i + 1);
        let key_char = |c: char| c.is_alphanumeric() || "_-.\"".contains(c);
        let word = self.text[start..at].trim_end();
        let word = &word[word.rfind(|c| !key_char(c)).map_or(0, |i| i + 1)..];
        word.trim_matches('"').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_keys() {
        let text = "[scenario]\nname = \"x\"\npartitions = 0\n";
        let path = PathBuf::from("s.toml");
        let map = SourceMap::new(&path, text);
        let at = text.find('0').unwrap();
        assert_eq!(map.line_column(at), (3, 14));
        assert_eq!(map.key_at(at), "partitions");
        assert_eq!(map.key_near(text.len()), "partitions");
        assert_eq!(map.key_near(text.find("name").unwrap()), "scenario");
        let e = map.error(Some(at..at + 1), "topic.partitions", "must be at least 1");
        assert_eq!(
            e.to_string(),
            "s.toml:3:14: field `topic.partitions`: must be at least 1"
        );
    }
}
