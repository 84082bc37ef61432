//! The two languages must offer the same messages with the same variables: a message missing in
//! French would print its id, a variable missing would print `{$name}`.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use fluent_syntax::ast;

use super::*;

/// Per message (and attribute, `id.attr`) id, the variables it uses, of one `.ftl` source.
fn variables(file: &str, source: &str) -> BTreeMap<String, BTreeSet<String>> {
    let resource = fluent_syntax::parser::parse(source)
        .unwrap_or_else(|(_, errors)| panic!("{file}: {errors:?}"));
    let mut out = BTreeMap::new();
    for entry in &resource.body {
        let (id, value, attributes) = match entry {
            ast::Entry::Message(m) => (m.id.name.to_string(), m.value.as_ref(), &m.attributes),
            ast::Entry::Term(t) => (format!("-{}", t.id.name), Some(&t.value), &t.attributes),
            _ => continue,
        };
        let mut vars = BTreeSet::new();
        if let Some(p) = value {
            pattern_vars(p, &mut vars);
        }
        assert!(out.insert(id.clone(), vars).is_none(), "{file}: {id} twice");
        for a in attributes {
            let mut vars = BTreeSet::new();
            pattern_vars(&a.value, &mut vars);
            out.insert(format!("{id}.{}", a.id.name), vars);
        }
    }
    out
}

fn pattern_vars(pattern: &ast::Pattern<&str>, vars: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expression_vars(expression, vars);
        }
    }
}

fn expression_vars(expression: &ast::Expression<&str>, vars: &mut BTreeSet<String>) {
    match expression {
        ast::Expression::Select { selector, variants } => {
            inline_vars(selector, vars);
            for v in variants {
                pattern_vars(&v.value, vars);
            }
        }
        ast::Expression::Inline(inline) => inline_vars(inline, vars),
    }
}

fn inline_vars(inline: &ast::InlineExpression<&str>, vars: &mut BTreeSet<String>) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            vars.insert(id.name.to_string());
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                inline_vars(a, vars);
            }
            for a in &arguments.named {
                inline_vars(&a.value, vars);
            }
        }
        ast::InlineExpression::Placeable { expression } => expression_vars(expression, vars),
        _ => {}
    }
}

#[test]
fn both_languages_have_the_same_messages_and_variables() {
    for r in RESOURCES {
        let en = variables(&format!("locales/en/{}", r.file), r.en);
        let fr = variables(&format!("locales/fr/{}", r.file), r.fr);
        let en_ids: BTreeSet<&String> = en.keys().collect();
        let fr_ids: BTreeSet<&String> = fr.keys().collect();
        let only_en: Vec<_> = en_ids.difference(&fr_ids).collect();
        let only_fr: Vec<_> = fr_ids.difference(&en_ids).collect();
        assert!(
            only_en.is_empty(),
            "{}: missing in French: {only_en:?}",
            r.file
        );
        assert!(
            only_fr.is_empty(),
            "{}: missing in English: {only_fr:?}",
            r.file
        );
        for (id, vars) in &en {
            assert_eq!(vars, &fr[id], "{}: {id} uses other variables in fr", r.file);
        }
    }
}

#[test]
fn the_comparison_sees_a_missing_variable() {
    let en = variables("en", "a = { $n } records\nb = plain\n");
    let fr = variables(
        "fr",
        "a = { $n ->\n [one] un\n *[other] { $m }\n}\nb = brut\n",
    );
    assert_eq!(en["a"], BTreeSet::from(["n".to_string()]));
    assert_eq!(fr["a"], BTreeSet::from(["m".to_string(), "n".to_string()]));
    assert!(en["b"].is_empty());
}

#[test]
fn no_message_id_is_used_that_english_lacks() {
    let en: BTreeSet<String> = RESOURCES
        .iter()
        .flat_map(|r| variables(r.file, r.en).into_keys())
        .collect();
    let mut used = Vec::new();
    collect_used_ids(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut used,
    );
    assert!(used.len() > 20, "the scan found the call sites: {used:?}");
    let missing: Vec<_> = used.iter().filter(|(_, id)| !en.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "ids used in src/ but not in locales/en: {missing:?}"
    );
}

/// Every literal id passed to `.msg("...")` or `.fmt("...", ...)` in the Rust files under `dir`.
fn collect_used_ids(dir: std::path::PathBuf, used: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_used_ids(path, used);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for call in [".msg(\"", ".fmt(\"", "msg!(\""] {
                for (at, _) in text.match_indices(call) {
                    let rest = &text[at + call.len()..];
                    let id = &rest[..rest.find('"').unwrap()];
                    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                        used.push((path.display().to_string(), id.to_string()));
                    }
                }
            }
        }
    }
}

#[test]
fn languages_parse_by_code_and_english_is_the_default() {
    assert_eq!("fr".parse::<Lang>(), Ok(Lang::Fr));
    assert_eq!("en".parse::<Lang>(), Ok(Lang::En));
    assert!("de".parse::<Lang>().unwrap_err().contains("en or fr"));
    assert_eq!(Lang::default(), Lang::En);
}

#[test]
fn counts_select_plurals_and_print_without_grouping() {
    let one = Lang::Fr.fmt("run-topic-records", &args(1));
    let many = Lang::Fr.fmt("run-topic-records", &args(1000));
    assert!(one.contains("1 enregistrement ("), "{one}");
    assert!(many.contains("1000 enregistrements"), "{many}");
    assert_eq!(
        Lang::En.fmt("run-topic-records", &args(1000)),
        "orders: 1000 records (p0: 1000)"
    );
}

fn args(n: u64) -> Vec<(&'static str, Arg)> {
    vec![
        ("topic", "orders".into()),
        ("records", n.into()),
        ("counts", format!("p0: {n}").into()),
    ]
}
