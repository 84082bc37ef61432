//! Regular-expression subscriptions of KIP-848 (`subscribe(Pattern)` in Java,
//! `^`-prefixed topic names in librdkafka, sent as `SubscribedTopicRegex`): the coordinator
//! resolves them against the cluster's topics, not the client (Kafka 4's
//! `GroupMetadataManager` with RE2J, a full match of the topic name).
//!
//! The simulator has no regex engine dependency, so this is a small backtracking matcher for
//! the subset topic patterns use: literals, `.`, escapes (`\.`, `\d`, `\w`), classes
//! (`[a-z0-9_-]`, `[^x]`), the quantifiers `*`, `+`, `?`, and top-level alternation `a|b`.
//! Anchors `^` and `$` are accepted and change nothing (the match is always whole). Groups
//! `( )` and counted repetition `{n}` are refused when the pattern is parsed.

/// A parsed pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TopicRegex {
    alternatives: Vec<Vec<Piece>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Piece {
    atom: Atom,
    min: usize,
    max: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Atom {
    Any,
    Char(char),
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl TopicRegex {
    /// Parses `pattern`, or says what it does not support.
    pub(super) fn parse(pattern: &str) -> Result<TopicRegex, String> {
        let alternatives = pattern
            .split('|')
            .map(parse_sequence)
            .collect::<Result<_, _>>()?;
        Ok(TopicRegex { alternatives })
    }

    /// Whether the whole of `topic` matches.
    pub(super) fn matches(&self, topic: &str) -> bool {
        let chars: Vec<char> = topic.chars().collect();
        self.alternatives.iter().any(|seq| match_here(seq, &chars))
    }
}

fn parse_sequence(text: &str) -> Result<Vec<Piece>, String> {
    let text = text.strip_prefix('^').unwrap_or(text);
    let text = text.strip_suffix('$').unwrap_or(text);
    let mut chars = text.chars().peekable();
    let mut pieces: Vec<Piece> = Vec::new();
    while let Some(c) = chars.next() {
        let atom = match c {
            '.' => Atom::Any,
            '\\' => match chars.next() {
                Some('d') => class(false, vec![('0', '9')]),
                Some('w') => class(false, vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')]),
                Some(other) => Atom::Char(other),
                None => return Err("a trailing backslash".to_string()),
            },
            '[' => parse_class(&mut chars)?,
            '*' | '+' | '?' => {
                let last = pieces
                    .last_mut()
                    .filter(|p| p.min == 1 && p.max == Some(1))
                    .ok_or_else(|| format!("{c:?} repeats nothing"))?;
                (last.min, last.max) = match c {
                    '*' => (0, None),
                    '+' => (1, None),
                    _ => (0, Some(1)),
                };
                continue;
            }
            '(' | ')' | '{' | '}' => return Err(format!("{c:?} is not supported")),
            other => Atom::Char(other),
        };
        pieces.push(Piece {
            atom,
            min: 1,
            max: Some(1),
        });
    }
    Ok(pieces)
}

fn class(negated: bool, ranges: Vec<(char, char)>) -> Atom {
    Atom::Class { negated, ranges }
}

fn parse_class(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Atom, String> {
    let negated = chars.next_if_eq(&'^').is_some();
    let mut ranges = Vec::new();
    loop {
        let c = chars.next().ok_or("an unclosed '['")?;
        if c == ']' && !ranges.is_empty() {
            return Ok(class(negated, ranges));
        }
        let c = if c == '\\' {
            chars.next().ok_or("an unclosed '['")?
        } else {
            c
        };
        if chars.peek() == Some(&'-') {
            chars.next();
            match chars.next() {
                Some(']') => {
                    ranges.extend([(c, c), ('-', '-')]);
                    return Ok(class(negated, ranges));
                }
                Some(end) => ranges.push((c, end)),
                None => return Err("an unclosed '['".to_string()),
            }
        } else {
            ranges.push((c, c));
        }
    }
}

fn matches_atom(atom: &Atom, c: char) -> bool {
    match atom {
        Atom::Any => true,
        Atom::Char(x) => *x == c,
        Atom::Class { negated, ranges } => {
            ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&c)) != *negated
        }
    }
}

/// Backtracking: the first piece takes as many characters as it may, then gives them back one
/// by one until the rest matches.
fn match_here(pieces: &[Piece], text: &[char]) -> bool {
    let Some((piece, rest)) = pieces.split_first() else {
        return text.is_empty();
    };
    let max = piece.max.unwrap_or(text.len()).min(text.len());
    let mut taken = 0;
    while taken < max && matches_atom(&piece.atom, text[taken]) {
        taken += 1;
    }
    (piece.min..=taken)
        .rev()
        .any(|n| match_here(rest, &text[n..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, topic: &str) -> bool {
        TopicRegex::parse(pattern).unwrap().matches(topic)
    }

    #[test]
    fn matches_whole_names_like_java_matches() {
        assert!(m("orders\\..*", "orders.created"));
        assert!(!m("orders\\..*", "orders"));
        assert!(!m("orders", "orders.created"), "a full match, not a search");
        assert!(m("^orders.*$", "orders.created"));
        assert!(m("[a-c]+-\\d", "abc-7"));
        assert!(!m("[^a]x", "ax"));
        assert!(m("payments|orders.*", "payments"));
        assert!(m("t-?x", "tx") && m("t-?x", "t-x"));
    }

    #[test]
    fn refuses_what_it_cannot_match() {
        assert!(TopicRegex::parse("(a|b)").is_err());
        assert!(TopicRegex::parse("a{2}").is_err());
        assert!(TopicRegex::parse("*a").is_err());
    }
}
