//! The rule set: each rule is a folder `rules/<CODE>-<name>/` (tree-sitter query and metadata,
//! embedded at build time) plus one Rust file here that decides with the project index.

mod framework_sites;
mod imports;
mod nested_prefetch;
mod orm101_select_related_in_loop;
mod orm102_prefetch_related_in_loop;
mod orm103_prefetch_single_valued;
mod orm104_generic_relation_in_loop;
mod orm105_discarded_queryset_method;
pub use orm105_discarded_queryset_method::RETURNS_QUERYSET;
mod orm106_deferred_field_in_loop;
mod orm107_only_columns_read;
mod orm201_count_in_loop;
mod orm202_filtered_relation_in_loop;
mod orm203_get_in_loop;
mod orm301_serializer_relations;
mod orm302_admin_list_relations;
mod orm303_template_relations;
mod queryset_edits;

use crate::analysis::{FileContext, LoopFacts, loops::analyze_loop};
use crate::diagnostic::Diagnostic;
use crate::fix::Applicability;
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
}

macro_rules! rule {
    ($folder:literal, $check:path) => {
        RuleSource {
            folder: $folder,
            toml: include_str!(concat!("../../rules/", $folder, "/rule.toml")),
            query: include_str!(concat!("../../rules/", $folder, "/query.scm")),
            check: $check,
        }
    };
}

/// The registry: one line per rule.
#[rustfmt::skip]
const SOURCES: &[RuleSource] = &[
    rule!("ORM101-select-related-in-loop", orm101_select_related_in_loop::check),
    rule!("ORM102-prefetch-related-in-loop", orm102_prefetch_related_in_loop::check),
    rule!("ORM103-prefetch-single-valued", orm103_prefetch_single_valued::check),
    rule!("ORM104-generic-relation-in-loop", orm104_generic_relation_in_loop::check),
    rule!("ORM105-discarded-queryset-method", orm105_discarded_queryset_method::check),
    rule!("ORM106-deferred-field-in-loop", orm106_deferred_field_in_loop::check),
    rule!("ORM107-only-columns-read", orm107_only_columns_read::check),
    rule!("ORM201-count-in-loop", orm201_count_in_loop::check),
    rule!("ORM202-filtered-relation-in-loop", orm202_filtered_relation_in_loop::check),
    rule!("ORM203-get-in-loop", orm203_get_in_loop::check),
    rule!("ORM301-serializer-relations", orm301_serializer_relations::check),
    rule!("ORM302-admin-list-relations", orm302_admin_list_relations::check),
    rule!("ORM303-template-relations", orm303_template_relations::check),
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
    pub docs: RuleDocs,
}

pub struct Rule {
    pub meta: RuleMeta,
    pub folder: &'static str,
    pub query_source: &'static str,
    pub check: CheckFn,
    /// Highest safety a fix of this rule may have.
    pub max_applicability: Applicability,
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
    let language = crate::parse::language();
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
    Ok(Compiled {
        query,
        pattern_rules,
        capture_names,
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

    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }
}

/// Run the enabled rules over one parsed file.
pub fn run_rules(ctx: &FileContext<'_>, enabled: &dyn Fn(&str) -> bool) -> Vec<Diagnostic> {
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
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(&compiled.query, root, ctx.src.as_bytes());
    while let Some(m) = matches.next() {
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
            (rule.check)(&mut checker, &captures);
        }
    }
    let mut diagnostics = checker.diagnostics;
    diagnostics.sort_by(|a, b| (a.start, &a.rule).cmp(&(b.start, &b.rule)));
    diagnostics.dedup_by(|a, b| a.start == b.start && a.rule == b.rule && a.message == b.message);
    diagnostics
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
