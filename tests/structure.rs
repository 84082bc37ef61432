//! The shape of the tree, checked mechanically (issue 15): no import circles, between top-level
//! modules or between files; no source file over 800 lines before its tests; no function over
//! 70 lines (TigerStyle), with an allow-list that may only shrink.
//!
//! Imports are read as text, as a reader of the code sees them: every `crate::`, `super::` and
//! `self::` path before a file's `#[cfg(test)]` (doc links included: a doc that links upward is
//! knowledge running the wrong way too), `use` trees expanded. A path names the deepest module file
//! it reaches. An import of an ancestor module (a child's `use super::World`) is the child's own
//! parent and is not an edge: a parent and the files it declares are one room.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use crate::support::root;
use crate::tidy::rust_files;

/// A source file of the library and its module path (`src/broker/log.rs` -> `broker::log`).
struct SourceFile {
    /// Path relative to the repository root, with `/` separators.
    path: String,
    /// Module path segments (`["broker", "log"]`; `[]` for `lib.rs`).
    module: Vec<String>,
    /// The text before the first `#[cfg(test)]`.
    code: String,
}

fn library_files() -> Vec<SourceFile> {
    let src = root().join("src");
    let mut out = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(&src).unwrap();
                if relative == Path::new("main.rs") {
                    continue;
                }
                let text = fs::read_to_string(&path).unwrap();
                let code = match text.find("#[cfg(test)]") {
                    Some(at) => text[..at].to_string(),
                    None => text,
                };
                out.push(SourceFile {
                    path: format!("src/{}", slashes(relative)),
                    module: module_of(relative),
                    code,
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn slashes(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// Every path the code names from `crate`, `super` or `self`, made absolute (module segments
/// from the crate root, possibly ending in an item name).
fn named_paths(file: &SourceFile) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let code = &file.code;
    let mut rest = code.as_str();
    // `use` trees, with braces expanded.
    while let Some(at) = rest.find("use ") {
        let before_ok = at == 0
            || !rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let tail = &rest[at + 4..];
        let Some(end) = tail.find(';') else { break };
        if before_ok {
            let tree: String = tail[..end].chars().filter(|c| !c.is_whitespace()).collect();
            if tree.starts_with("crate::")
                || tree.starts_with("super::")
                || tree.starts_with("self::")
            {
                for path in expand_use_tree(&tree) {
                    out.push(absolute(file, &path));
                }
            }
        }
        rest = &tail[end..];
    }
    // Inline paths anywhere in the text (code and doc links).
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(found) = code[from..].find(start) {
            let at = from + found;
            from = at + start.len();
            let boundary = code[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'));
            if !boundary {
                continue;
            }
            let path: String = code[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let segments: Vec<String> = path
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            out.push(absolute(file, &segments));
        }
    }
    out
}

/// `crate::a::{b, c::{d, e}}` -> `crate::a::b`, `crate::a::c::d`, `crate::a::c::e`.
fn expand_use_tree(tree: &str) -> Vec<Vec<String>> {
    fn walk(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
        let tree = tree.trim_matches(',');
        if tree.is_empty() {
            return;
        }
        if let Some(open) = tree.find('{') {
            let head: Vec<String> = tree[..open]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            let mut base = prefix.to_vec();
            base.extend(head);
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let mut depth = 0;
            let mut piece = String::new();
            for c in inner.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        walk(&base, &piece, out);
                        piece.clear();
                        continue;
                    }
                    _ => {}
                }
                piece.push(c);
            }
            walk(&base, &piece, out);
        } else {
            let mut path = prefix.to_vec();
            let tree = tree.split(" as ").next().unwrap_or(tree);
            path.extend(
                tree.split("::")
                    .filter(|s| !s.is_empty() && *s != "*")
                    .map(str::to_string),
            );
            out.push(path);
        }
    }
    let mut out = Vec::new();
    walk(&[], tree, &mut out);
    out
}

/// Resolves a leading `crate` / `super` / `self` against the file's module.
fn absolute(file: &SourceFile, segments: &[String]) -> Vec<String> {
    let mut base: Vec<String> = Vec::new();
    let mut rest = segments;
    match segments.first().map(String::as_str) {
        Some("crate") => rest = &segments[1..],
        Some("self") | Some("super") => {
            base = file.module.clone();
            // A mod.rs file is its folder's module: `super` of `broker/mod.rs` is the crate.
            while let Some(first) = rest.first() {
                match first.as_str() {
                    "self" => rest = &rest[1..],
                    "super" => {
                        base.pop();
                        rest = &rest[1..];
                    }
                    _ => break,
                }
            }
        }
        _ => {}
    }
    base.extend(rest.iter().cloned());
    base
}

/// The deepest module file a path reaches, by module path.
fn resolve(modules: &BTreeMap<Vec<String>, usize>, path: &[String]) -> Option<usize> {
    (1..=path.len())
        .rev()
        .find_map(|n| modules.get(&path[..n]).copied())
}

/// File -> files it imports (ancestors excluded), by index into `files`.
fn file_edges(files: &[SourceFile]) -> Vec<BTreeSet<usize>> {
    let modules: BTreeMap<Vec<String>, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.module.clone(), i))
        .collect();
    files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            named_paths(file)
                .iter()
                .filter_map(|path| resolve(&modules, path))
                .filter(|&j| j != i && !file.module.starts_with(&files[j].module))
                .collect()
        })
        .collect()
}

/// The strongly connected components of more than one node (Tarjan), each sorted.
fn circles(edges: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        edges: &'a [BTreeSet<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        found: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in s.edges[v].iter() {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(index) if s.on_stack[w] => s.low[v] = s.low[v].min(index),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let n = edges.len();
    let mut state = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in 0..n {
        if state.index[v].is_none() {
            visit(&mut state, v);
        }
    }
    state.found.sort();
    state.found
}

fn describe_circles(names: &[String], edges: &[BTreeSet<usize>], found: &[Vec<usize>]) -> String {
    let mut text = String::new();
    for component in found {
        text.push_str("circle:\n");
        for &a in component {
            for &b in edges[a].iter().filter(|b| component.contains(b)) {
                text.push_str(&format!("  {} -> {}\n", names[a], names[b]));
            }
        }
    }
    text
}

/// No two files import each other, directly or through others.
#[test]
fn no_import_circle_between_files() {
    let files = library_files();
    let edges = file_edges(&files);
    let found = circles(&edges);
    let names: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    assert!(
        found.is_empty(),
        "import circles between files (break them: move the shared item to a leaf both \
         import):\n{}",
        describe_circles(&names, &edges, &found)
    );
}

/// The top-level modules (`broker`, `client`, `report`, ...) form layers: none imports,
/// directly or through others, a module that imports it back. `lib.rs` only declares them.
#[test]
fn no_import_circle_between_top_level_modules() {
    let files = library_files();
    let file_level = file_edges(&files);
    let mut rooms: Vec<String> = files
        .iter()
        .filter_map(|f| f.module.first().cloned())
        .collect();
    rooms.sort();
    rooms.dedup();
    let room_of = |f: &SourceFile| {
        f.module
            .first()
            .map(|m| rooms.iter().position(|r| r == m).unwrap())
    };
    let mut edges = vec![BTreeSet::new(); rooms.len()];
    for (i, file) in files.iter().enumerate() {
        let Some(from) = room_of(file) else { continue };
        for &j in &file_level[i] {
            if let Some(to) = room_of(&files[j]).filter(|&to| to != from) {
                edges[from].insert(to);
            }
        }
    }
    let found = circles(&edges);
    assert!(
        found.is_empty(),
        "import circles between top-level modules (a lower layer must not name a higher one, \
         not even in a doc link):\n{}",
        describe_circles(&rooms, &edges, &found)
    );
}

/// The longest a source file may run before its tests (`#[cfg(test)]`).
const FILE_LINES_MAX: usize = 800;

#[test]
fn no_source_file_over_800_lines_before_its_tests() {
    let mut long = Vec::new();
    for dir in ["src", "real-kafka/src"] {
        for file in rust_files(&root().join(dir)) {
            let text = fs::read_to_string(&file).unwrap();
            let lines = text
                .lines()
                .take_while(|l| !l.starts_with("#[cfg(test)]"))
                .count();
            if lines > FILE_LINES_MAX {
                long.push(format!("{}: {lines} lines", file.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "files over {FILE_LINES_MAX} lines before their tests (split by concept):\n{}",
        long.join("\n")
    );
}

/// The longest a function may be (TigerStyle's 70 lines, signature and closing brace included).
const FUNCTION_LINES_MAX: usize = 70;

/// Functions still over the limit, to be cut down. This list may only shrink: an entry that is
/// now short enough, or no longer exists, fails the test so that it is removed.
const LONG_FUNCTIONS_ALLOWED: &[&str] = &[];

#[test]
fn no_function_over_70_lines() {
    let mut long = BTreeSet::new();
    for dir in ["src", "real-kafka/src"] {
        for file in rust_files(&root().join(dir)) {
            let text = fs::read_to_string(&file).unwrap();
            let relative = slashes(file.strip_prefix(root()).unwrap());
            for (name, lines) in function_lengths(&text) {
                if lines > FUNCTION_LINES_MAX {
                    long.insert(format!("{relative}::{name}"));
                }
            }
        }
    }
    let allowed: BTreeSet<String> = LONG_FUNCTIONS_ALLOWED
        .iter()
        .map(|s| s.to_string())
        .collect();
    let new: Vec<_> = long.difference(&allowed).collect();
    let stale: Vec<_> = allowed.difference(&long).collect();
    assert!(
        new.is_empty(),
        "functions over {FUNCTION_LINES_MAX} lines (cut them down, control flow in the parent): \
         {new:#?}"
    );
    assert!(
        stale.is_empty(),
        "LONG_FUNCTIONS_ALLOWED names functions that are now short or gone: remove {stale:#?}"
    );
}

/// (name, lines) of every `fn` with a body before the file's tests, nested ones included.
fn function_lengths(text: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .collect();
    let mut out = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let Some(name) = function_name(line) else {
            continue;
        };
        let mut depth = 0i64;
        let mut opened = false;
        for (offset, body_line) in lines[start..].iter().enumerate() {
            for c in strip_strings_and_comments(body_line).chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if !opened && body_line.trim_end().ends_with(';') {
                break; // A declaration without a body (a trait method).
            }
            if opened && depth <= 0 {
                out.push((name.clone(), offset + 1));
                break;
            }
        }
    }
    out
}

fn function_name(line: &str) -> Option<String> {
    let trimmed = line.trim_start();
    if trimmed.starts_with("//") {
        return None;
    }
    let mut words = trimmed.split_whitespace().peekable();
    while let Some(word) = words.next() {
        match word {
            "pub" | "const" | "async" | "unsafe" | "extern" => continue,
            w if w.starts_with("pub(") => continue,
            "fn" => {
                let next = words.next()?;
                let name: String = next
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                return (!name.is_empty()).then_some(name);
            }
            _ => return None,
        }
    }
    None
}

/// The line without string or char literals and `//` comments, so their braces don't count.
fn strip_strings_and_comments(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '/' if chars.peek() == Some(&'/') => break,
            '\'' => {
                // A char literal ('{', '\'') or a lifetime ('a): skip a literal only.
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with("\\") {
                    chars.next();
                    chars.next();
                    chars.next();
                } else if rest.chars().nth(1) == Some('\'') {
                    chars.next();
                    chars.next();
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The checker itself, on small inputs: a use tree expands, a circle is found.
#[test]
fn the_structure_checker_reads_use_trees_and_finds_circles() {
    let paths = expand_use_tree("crate::a::{b,c::{d,e as f},g::*}");
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        joined,
        [
            "crate::a::b",
            "crate::a::c::d",
            "crate::a::c::e",
            "crate::a::g"
        ]
    );
    let edges = vec![
        BTreeSet::from([1]),
        BTreeSet::from([2]),
        BTreeSet::from([0]),
        BTreeSet::new(),
    ];
    assert_eq!(circles(&edges), vec![vec![0, 1, 2]]);
    assert_eq!(
        function_lengths("fn a() {\n    let s = \"}\";\n}\n"),
        [("a".into(), 3)]
    );
}
