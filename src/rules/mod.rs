//! The rule set: each rule is a folder `rules/<CODE>-<name>/` (tree-sitter query and metadata,
//! embedded at build time) plus one Rust file here that decides with the project index.

mod orm101_select_related_in_loop;
mod orm102_prefetch_related_in_loop;
mod orm103_prefetch_single_valued;
mod orm104_generic_relation_in_loop;
mod orm105_discarded_queryset_method;
mod orm106_deferred_field_in_loop;
mod orm107_only_columns_read;
mod orm201_count_in_loop;
mod orm202_filtered_relation_in_loop;
mod orm203_get_in_loop;
mod orm301_serializer_relations;
mod orm302_admin_list_relations;
mod orm303_template_relations;
mod orm305_form_choice_relations;
mod shared;

use crate::analysis::{FileContext, LoopFacts, loops::analyze_loop};
use crate::diagnostic::{Diagnostic, Kind};
use crate::fix::Applicability;
use crate::text::trigger::Trigger;
use rustc_hash::FxHashSet as HashSet;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;
use tree_sitter::{Node, Query, QueryCursor, StreamingIterator};

/// What a rule's check receives: the captures of one match of its query.
pub struct Captures<'r, 't> {
    items: Vec<(&'r str, Node<'t>)>,
}

impl<'t> Captures<'_, 't> {
    pub fn get(&self, name: &str) -> Option<Node<'t>> {
        self.items
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, node)| *node)
    }
}

pub type CheckFn = for<'c, 'a> fn(&mut Checker<'c, 'a>, &Captures<'_, 'a>);

struct RuleSource {
    folder: &'static str,
    toml: &'static str,
    query: &'static str,
    check: CheckFn,
    triggers: &'static [Trigger],
}

/// A rule: its folder, and its module (its `check` and the `TRIGGERS` phase 2's prefilter
/// looks for).
macro_rules! rule {
    ($folder:literal, $module:ident) => {
        RuleSource {
            folder: $folder,
            toml: include_str!(concat!("../../rules/", $folder, "/rule.toml")),
            query: include_str!(concat!("../../rules/", $folder, "/query.scm")),
            check: $module::check,
            triggers: $module::TRIGGERS,
        }
    };
}

/// The registry: one line per rule.
#[rustfmt::skip]
const SOURCES: &[RuleSource] = &[
    rule!("ORM101-select-related-in-loop", orm101_select_related_in_loop),
    rule!("ORM102-prefetch-related-in-loop", orm102_prefetch_related_in_loop),
    rule!("ORM103-prefetch-single-valued", orm103_prefetch_single_valued),
    rule!("ORM104-generic-relation-in-loop", orm104_generic_relation_in_loop),
    rule!("ORM105-discarded-queryset-method", orm105_discarded_queryset_method),
    rule!("ORM106-deferred-field-in-loop", orm106_deferred_field_in_loop),
    rule!("ORM107-only-columns-read", orm107_only_columns_read),
    rule!("ORM201-count-in-loop", orm201_count_in_loop),
    rule!("ORM202-filtered-relation-in-loop", orm202_filtered_relation_in_loop),
    rule!("ORM203-get-in-loop", orm203_get_in_loop),
    rule!("ORM301-serializer-relations", orm301_serializer_relations),
    rule!("ORM302-admin-list-relations", orm302_admin_list_relations),
    rule!("ORM303-template-relations", orm303_template_relations),
    rule!("ORM305-form-choice-relations", orm305_form_choice_relations),
];

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RuleDocs {
    pub what: String,
    pub why: String,
    pub example: String,
    pub fixed: String,
    pub safety: String,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RuleMeta {
    pub code: String,
    pub name: String,
    pub summary: String,
    pub fix: String,
    pub fix_safety: String,
    /// Words every match of the rule's query holds inside the node it matches at (a keyword
    /// such as `for`, a name its predicates require): djopt runs the query only on the nodes
    /// around them. Empty: the query walks the whole tree.
    #[serde(default)]
    pub anchors: Vec<String>,
    pub docs: RuleDocs,
}

pub struct Rule {
    pub meta: RuleMeta,
    pub folder: &'static str,
    pub query_source: &'static str,
    pub check: CheckFn,
    /// What phase 2's prefilter must see in a scope before the rule can find anything there.
    pub triggers: &'static [Trigger],
    /// Highest safety a fix of this rule may have.
    pub max_applicability: Applicability,
}

impl Rule {
    /// The rule's documentation as `djopt rule CODE` prints it (also SARIF's help text).
    pub fn documentation(&self) -> String {
        let m = &self.meta;
        let d = &m.docs;
        format!(
            "# {code} ({name})\n\n{summary}.\n\nFix safety: {safety_level}. {fix}.\n\n## What it finds\n{what}\n## Why it costs queries\n{why}\n## Example\n```python\n{example}```\n\n## Fixed\n```python\n{fixed}```\n\n## Fix safety\n{safety}",
            code = m.code,
            name = m.name,
            summary = m.summary,
            safety_level = m.fix_safety,
            fix = m.fix,
            what = d.what.trim_start(),
            why = d.why.trim_start(),
            example = d.example.trim_start(),
            fixed = d.fixed.trim_start(),
            safety = d.safety.trim_start(),
        )
    }
}

pub struct Registry {
    pub rules: Vec<Rule>,
    /// The rules' queries, compiled on first use: compiling them is a good part of a small
    /// project's run, and commands that only need the metadata, or a `check` answered from
    /// the cache, do without.
    compiled: OnceLock<Compiled>,
}

struct Compiled {
    /// All rule queries as one query: one traversal per tree serves every rule.
    query: Query,
    /// For each pattern of the combined query, the rules it serves (rules whose query files
    /// are the same text share their patterns: one match, every rule called).
    pattern_rules: Vec<Vec<usize>>,
    capture_names: Vec<String>,
    /// By node kind id: can a pattern start at a node of this kind? (None: some pattern can
    /// start anywhere, the query walks the tree itself.)
    roots: Option<Vec<bool>>,
    /// Every rule's anchors, when every rule has some.
    anchors: Option<HashSet<Vec<u8>>>,
}

/// The node kinds a pattern of a query can start at: `(for_statement …)` or the alternatives
/// of `[(list_comprehension …) (set_comprehension …)]`; None for a wildcard or anything else.
fn pattern_roots(pattern: &str) -> Option<Vec<String>> {
    let mut rest = pattern;
    // Comments and white space before the pattern.
    loop {
        rest = rest.trim_start();
        match rest.strip_prefix(';') {
            Some(comment) => rest = comment.split_once('\n').map_or("", |(_, r)| r),
            None => break,
        }
    }
    let kind_after_paren = |text: &str| -> Option<String> {
        let name: String = text
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        (!name.is_empty() && name != "_").then_some(name)
    };
    if let Some(inner) = rest.strip_prefix('(') {
        return Some(vec![kind_after_paren(inner)?]);
    }
    let inner = rest.strip_prefix('[')?;
    let mut roots = Vec::new();
    let mut depth = 0usize;
    let mut chars = inner.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            ';' => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' => {
                if depth == 0 {
                    return None; // an anonymous node as an alternative
                }
                let mut escaped = false;
                for (_, c) in chars.by_ref() {
                    match c {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => break,
                        _ => escaped = false,
                    }
                }
            }
            '(' | '[' => {
                if depth == 0 {
                    if c == '[' {
                        return None;
                    }
                    roots.push(kind_after_paren(&inner[i + 1..])?);
                }
                depth += 1;
            }
            ')' | ']' => {
                if depth == 0 {
                    return (!roots.is_empty()).then_some(roots);
                }
                depth -= 1;
            }
            _ if depth == 0 && !c.is_whitespace() => return None,
            _ => {}
        }
    }
    None
}

/// [`Compiled::roots`] of a query.
fn root_kinds(
    query: &Query,
    combined: &str,
    language: &tree_sitter::Language,
) -> Option<Vec<bool>> {
    let mut names = Vec::new();
    for p in 0..query.pattern_count() {
        let text = &combined[query.start_byte_for_pattern(p)..query.end_byte_for_pattern(p)];
        names.extend(pattern_roots(text)?);
    }
    let count = language.node_kind_count();
    let mut kinds = vec![false; count];
    for (id, slot) in kinds.iter_mut().enumerate() {
        let id = id as u16;
        *slot = language.node_kind_is_named(id)
            && language
                .node_kind_for_id(id)
                .is_some_and(|kind| names.iter().any(|n| n == kind));
    }
    // Every name must be a kind of the grammar.
    names
        .iter()
        .all(|n| language.id_for_node_kind(n, true) != 0)
        .then_some(kinds)
}

pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY
        .get_or_init(|| load_rules().unwrap_or_else(|e| panic!("built-in rules are invalid: {e}")))
}

/// Load and validate every rule: metadata parses, code matches the folder, the query compiles.
pub fn load_registry() -> Result<Registry, String> {
    let registry = load_rules()?;
    let compiled = compile(&registry.rules)?;
    let _ = registry.compiled.set(compiled);
    Ok(registry)
}

/// Every rule's metadata, checked; the queries are compiled later.
fn load_rules() -> Result<Registry, String> {
    let mut rules = Vec::new();
    for source in SOURCES {
        let meta: RuleMeta =
            toml::from_str(source.toml).map_err(|e| format!("{}/rule.toml: {e}", source.folder))?;
        let expected = format!("{}-{}", meta.code, meta.name);
        if expected != source.folder {
            return Err(format!(
                "{}: folder must be named {expected}",
                source.folder
            ));
        }
        let max_applicability = match meta.fix_safety.as_str() {
            "safe" => Applicability::Safe,
            "unsafe" => Applicability::Unsafe,
            "suggestion" => Applicability::Suggestion,
            other => return Err(format!("{}: unknown fix_safety {other:?}", source.folder)),
        };
        rules.push(Rule {
            meta,
            folder: source.folder,
            query_source: source.query,
            check: source.check,
            triggers: source.triggers,
            max_applicability,
        });
    }
    Ok(Registry {
        rules,
        compiled: OnceLock::new(),
    })
}

/// The rules' queries as one (rules with the same query text share it).
fn compile(rules: &[Rule]) -> Result<Compiled, String> {
    let language = crate::syntax::language();
    let mut combined = String::new();
    // Each distinct query text: where it starts in the combined text, and its rules.
    let mut distinct: Vec<(&str, usize, Vec<usize>)> = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        match distinct
            .iter_mut()
            .find(|(text, _, _)| *text == rule.query_source)
        {
            Some((_, _, users)) => users.push(i),
            None => {
                distinct.push((rule.query_source, combined.len(), vec![i]));
                combined.push_str(rule.query_source);
                combined.push('\n');
            }
        }
    }
    let query = match Query::new(&language, &combined) {
        Ok(query) => query,
        Err(e) => {
            // Name the rule whose query is wrong.
            for rule in rules {
                Query::new(&language, rule.query_source)
                    .map_err(|e| format!("{}/query.scm: {e}", rule.folder))?;
            }
            return Err(format!("combined query: {e}"));
        }
    };
    // A pattern serves the rules of the query text it starts in.
    let pattern_rules: Vec<Vec<usize>> = (0..query.pattern_count())
        .map(|p| {
            let at = query.start_byte_for_pattern(p);
            distinct
                .iter()
                .rev()
                .find(|(_, start, _)| *start <= at)
                .map(|(_, _, users)| users.clone())
                .unwrap_or_default()
        })
        .collect();
    let capture_names = query
        .capture_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let roots = root_kinds(&query, &combined, &language);
    let anchors = rules.iter().all(|r| !r.meta.anchors.is_empty()).then(|| {
        rules
            .iter()
            .flat_map(|r| &r.meta.anchors)
            .map(|a| a.as_bytes().to_vec())
            .collect()
    });
    Ok(Compiled {
        query,
        pattern_rules,
        capture_names,
        roots,
        anchors,
    })
}

impl Registry {
    fn compiled(&self) -> &Compiled {
        self.compiled.get_or_init(|| {
            compile(&self.rules).unwrap_or_else(|e| panic!("built-in rules are invalid: {e}"))
        })
    }

    /// Compile the rules' queries now (say, on another thread while phase 1 runs).
    pub fn prepare(&self) {
        self.compiled();
    }

    pub fn by_code(&self, code: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.meta.code.eq_ignore_ascii_case(code))
    }

    /// Every rule's triggers (for phase 2's prefilter).
    pub fn triggers(&self) -> Vec<Trigger> {
        self.rules
            .iter()
            .flat_map(|r| r.triggers.iter().copied())
            .collect()
    }

    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.meta.code.as_str())
    }
}

/// Per-file state shared by the rules: the context, memoized analyses, and the findings.
pub struct Checker<'c, 'a> {
    pub ctx: &'c FileContext<'a>,
    pub rule: &'static Rule,
    pub diagnostics: Vec<Diagnostic>,
    loops: HashMap<usize, Option<std::rc::Rc<LoopFacts<'a>>>>,
}

impl<'c, 'a> Checker<'c, 'a> {
    /// The loop facts of a loop node, computed once per file whichever rule asks first.
    pub fn loop_facts(&mut self, node: Node<'a>) -> Option<std::rc::Rc<LoopFacts<'a>>> {
        let ctx = self.ctx;
        self.loops
            .entry(node.id())
            .or_insert_with(|| analyze_loop(ctx, node).map(std::rc::Rc::new))
            .clone()
    }

    /// The loop facts of the match's `@loop` capture (every loop rule's query captures one).
    pub fn captured_loop(
        &mut self,
        captures: &Captures<'_, 'a>,
    ) -> Option<std::rc::Rc<LoopFacts<'a>>> {
        let node = captures.get("loop")?;
        self.loop_facts(node)
    }

    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }
}

/// Run the enabled rules over one parsed file. With `anchored`, the queries run only around
/// the rules' anchor words (see below); without (`DJOPT_NO_PREFILTER`, for comparisons), over
/// the whole tree.
pub fn run_rules<'a>(
    ctx: &FileContext<'a>,
    enabled: &dyn Fn(&str) -> bool,
    anchored: bool,
) -> Vec<Diagnostic> {
    let registry = registry();
    let compiled = registry.compiled();
    let tree = ctx.tree;
    let root = tree.root_node();
    let mut checker = Checker {
        ctx,
        rule: &registry.rules[0],
        diagnostics: Vec::new(),
        loops: HashMap::new(),
    };
    let mut dispatch = |m: &tree_sitter::QueryMatch<'_, 'a>| {
        let captures = Captures {
            items: m
                .captures()
                .iter()
                .map(|c| (compiled.capture_names[c.index as usize].as_str(), c.node))
                .collect(),
        };
        for &rule_index in &compiled.pattern_rules[m.pattern_index] {
            let rule = &registry.rules[rule_index];
            if !enabled(&rule.meta.code) {
                continue;
            }
            checker.rule = rule;
            let before = checker.diagnostics.len();
            (rule.check)(&mut checker, &captures);
            let new = &mut checker.diagnostics[before..];
            clamp_fixes(new, rule.max_applicability);
            if rule.max_applicability == Applicability::Suggestion {
                // A suggestion-level rule reports optimizations to weigh, not N+1 findings.
                new.iter_mut().for_each(|d| d.kind = Kind::Suggestion);
            }
        }
    };
    let mut cursor = QueryCursor::new();
    let src = ctx.src.as_bytes();
    match (&compiled.roots, &compiled.anchors) {
        // The query runs only at the nodes a pattern can start at that hold an anchor, and only
        // as deep as its patterns go; the walk enters only nodes that hold an anchor. A query
        // walking the whole tree visits every node, at a higher cost per node.
        (Some(roots), Some(anchors)) if anchored => {
            // A partly parsed file: only the parsed parts can hold a match.
            let at: Vec<usize> = tree
                .included_ranges()
                .iter()
                .flat_map(|r| {
                    let (start, end) = (r.start_byte.min(src.len()), r.end_byte.min(src.len()));
                    anchor_positions(&src[start..end], anchors)
                        .into_iter()
                        .map(move |p| p + start)
                })
                .collect();
            let holds_anchor = |node: Node| {
                let i = at.partition_point(|&p| p < node.start_byte());
                at.get(i).is_some_and(|&p| p < node.end_byte())
            };
            cursor.set_max_start_depth(Some(0));
            let mut walk = root.walk();
            'walk: loop {
                let node = walk.node();
                if holds_anchor(node) {
                    if roots.get(node.kind_id() as usize) == Some(&true) {
                        let mut matches = cursor.matches(&compiled.query, node, src);
                        while let Some(m) = matches.next() {
                            dispatch(m);
                        }
                    }
                    if walk.goto_first_child() {
                        continue;
                    }
                }
                while !walk.goto_next_sibling() {
                    if !walk.goto_parent() {
                        break 'walk;
                    }
                }
            }
        }
        _ => {
            let mut matches = cursor.matches(&compiled.query, root, src);
            while let Some(m) = matches.next() {
                dispatch(m);
            }
        }
    }
    let mut diagnostics = checker.diagnostics;
    diagnostics.sort_by(|a, b| (a.start, &a.rule).cmp(&(b.start, &b.rule)));
    diagnostics.dedup_by(|a, b| a.start == b.start && a.rule == b.rule && a.message == b.message);
    diagnostics
}

/// A rule's `fix_safety` is a ceiling the rule's code cannot break: a fix it marks above its
/// rule's level is lowered to that level (a `suggestion` rule's fixes are never applied, an
/// `unsafe` rule's only with `--unsafe-fixes`).
fn clamp_fixes(diagnostics: &mut [Diagnostic], max: Applicability) {
    for fix in diagnostics.iter_mut().filter_map(|d| d.fix.as_mut()) {
        fix.applicability = fix.applicability.min(max);
    }
}

/// Where the anchor words are in `src` (sorted): every word, also in strings and comments.
fn anchor_positions(src: &[u8], anchors: &HashSet<Vec<u8>>) -> Vec<usize> {
    let mut first = [false; 256];
    for a in anchors {
        first[a[0] as usize] = true;
    }
    crate::text::identifiers(src)
        .filter(|w| first[src[w.start] as usize] && anchors.contains(&src[w.clone()]))
        .map(|w| w.start)
        .collect()
}

#[cfg(test)]
mod root_tests {
    use super::*;

    #[test]
    fn fixes_never_exceed_the_rules_safety_level() {
        let diagnostic = |applicability| Diagnostic {
            kind: crate::diagnostic::Kind::Finding,
            rule: "ORM999",
            message: String::new(),
            start: 0,
            end: 1,
            also_suppressed_at: Vec::new(),
            fix: Some(crate::fix::Fix::new(
                Vec::new(),
                applicability,
                String::new(),
            )),
        };
        let level = |d: &Diagnostic| d.fix.as_ref().map(|f| f.applicability);
        let mut diagnostics = vec![
            diagnostic(Applicability::Safe),
            diagnostic(Applicability::Unsafe),
            diagnostic(Applicability::Suggestion),
        ];
        clamp_fixes(&mut diagnostics, Applicability::Unsafe);
        let levels: Vec<_> = diagnostics.iter().map(level).collect();
        assert_eq!(
            levels,
            [
                Some(Applicability::Unsafe),
                Some(Applicability::Unsafe),
                Some(Applicability::Suggestion)
            ]
        );
        clamp_fixes(&mut diagnostics, Applicability::Suggestion);
        assert!(
            diagnostics
                .iter()
                .all(|d| level(d) == Some(Applicability::Suggestion))
        );
        // A diagnostic without a fix stays without one.
        let mut bare = vec![Diagnostic {
            fix: None,
            ..diagnostic(Applicability::Safe)
        }];
        clamp_fixes(&mut bare, Applicability::Suggestion);
        assert!(bare[0].fix.is_none());
    }

    #[test]
    fn roots_of_patterns() {
        let roots = |p: &str| pattern_roots(p);
        assert_eq!(
            roots("; a loop\n(for_statement left: (_) @row) @loop"),
            Some(vec!["for_statement".to_string()])
        );
        assert_eq!(
            roots(
                "[\n  (list_comprehension (for_in_clause))\n  ; comment (x)\n  (set_comprehension \"(\")\n] @loop"
            ),
            Some(vec![
                "list_comprehension".to_string(),
                "set_comprehension".to_string()
            ])
        );
        assert_eq!(roots("(_ (call)) @x"), None);
        assert_eq!(roots("[\"for\" (call)] @x"), None);
        assert_eq!(roots("\"for\" @x"), None);
        // The built-in rules start at known kinds: the walk serves them.
        let registry = load_registry().unwrap();
        let compiled = registry.compiled();
        let roots = compiled.roots.as_ref().expect("every pattern has roots");
        assert!(roots.iter().filter(|r| **r).count() >= 8);
        assert!(compiled.anchors.is_some(), "every rule has anchors");
    }

    #[test]
    fn thrown_away_methods_are_the_same_in_the_query_the_anchors_and_the_check() {
        let registry = load_registry().unwrap();
        let rule = registry.by_code("ORM105").unwrap();
        assert_eq!(rule.meta.anchors, crate::django::RETURNS_QUERYSET);
        let any_of = rule.query_source.split("#any-of? @method").nth(1).unwrap();
        let listed: Vec<&str> = any_of
            .split(')')
            .next()
            .unwrap()
            .split_whitespace()
            .map(|w| w.trim_matches('"'))
            .collect();
        assert_eq!(listed, crate::django::RETURNS_QUERYSET);
    }

    #[test]
    fn anchors_are_whole_words() {
        let anchors: HashSet<Vec<u8>> = [b"for".to_vec(), b"class".to_vec()].into_iter().collect();
        let src = b"for x in y: pass\nformat(classic)\nclass A: x = [a for a in b]  # for\n";
        assert_eq!(anchor_positions(src, &anchors), [0, 33, 49, 64]);
    }
}

#[cfg(test)]
mod registry_tests {
    #[test]
    fn every_rule_loads_and_every_pattern_serves_a_rule() {
        let registry = super::load_registry().unwrap();
        let compiled = registry.compiled();
        assert!(compiled.pattern_rules.iter().all(|rules| !rules.is_empty()));
        // Every rule is served by some pattern.
        for i in 0..registry.rules.len() {
            assert!(
                compiled
                    .pattern_rules
                    .iter()
                    .any(|rules| rules.contains(&i))
            );
        }
    }
}
