//! One tree-sitter parser per thread.

use super::language;
use std::cell::RefCell;
use tree_sitter::{Node, Parser, Tree};

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parse Python source. Returns None only if tree-sitter gives up (it should not).
pub fn parse(text: &str) -> Option<Tree> {
    with_parser(|parser| parser.parse(text, None))
}

/// Parse only `ranges` of `text` (sorted, apart), as if the rest were not there; nodes keep
/// their positions in the whole text. Each range must hold whole statements.
pub fn parse_ranges(text: &str, ranges: &[std::ops::Range<usize>]) -> Option<Tree> {
    let mut included = Vec::with_capacity(ranges.len());
    let (mut row, mut counted, mut line_start) = (0, 0, 0);
    let mut point = |offset: usize| {
        for nl in memchr::memchr_iter(b'\n', &text.as_bytes()[counted..offset]) {
            row += 1;
            line_start = counted + nl + 1;
        }
        counted = offset;
        tree_sitter::Point::new(row, offset - line_start)
    };
    for r in ranges {
        let (start_point, end_point) = (point(r.start), point(r.end));
        included.push(tree_sitter::Range {
            start_byte: r.start,
            end_byte: r.end,
            start_point,
            end_point,
        });
    }
    with_parser(|parser| {
        parser.set_included_ranges(&included).ok()?;
        // Back to whole texts for the next parse on this thread, even after a panic.
        struct Whole<'p>(&'p mut Parser);
        impl Drop for Whole<'_> {
            fn drop(&mut self) {
                let _ = self.0.set_included_ranges(&[]);
            }
        }
        let whole = Whole(parser);
        whole.0.parse(text, None)
    })
}

/// Are the statements of a tree parsed from `ranges` (as [`parse_ranges`] was given them) each
/// within one range? A class's header and each statement of its body count apart. A statement
/// left incomplete at the end of a range (`x = `) is completed by the next range's text in such
/// a tree (`x = y = 1`); in the whole file something else follows it.
pub fn statements_within(tree: &Tree, ranges: &[std::ops::Range<usize>]) -> bool {
    let within = |start: usize, end: usize| {
        let i = ranges.partition_point(|r| r.end <= start);
        ranges
            .get(i)
            .is_some_and(|r| r.start <= start && end <= r.end)
    };
    let root = tree.root_node();
    let mut cursor = root.walk();
    root.children(&mut cursor).all(|st| {
        if within(st.start_byte(), st.end_byte()) {
            return true;
        }
        let class = super::defined_class(st);
        let Some(body) = class.and_then(|c| c.child_by_field_id(crate::field!("body"))) else {
            return false;
        };
        // The header, to its colon.
        let header_end = body
            .prev_sibling()
            .map_or(body.start_byte(), |c| c.end_byte());
        let mut inner = body.walk();
        within(st.start_byte(), header_end)
            && body
                .children(&mut inner)
                .all(|member| within(member.start_byte(), member.end_byte()))
    })
}

fn with_parser<R>(f: impl FnOnce(&mut Parser) -> R) -> R {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let parser = slot.get_or_insert_with(|| {
            let mut parser = Parser::new();
            parser
                .set_language(&language())
                .expect("tree-sitter-python is ABI-compatible with tree-sitter (tested)");
            parser
        });
        f(parser)
    })
}

/// The first ERROR or MISSING node, if the tree has any.
pub fn first_error(tree: &Tree) -> Option<Node<'_>> {
    let root = tree.root_node();
    if !root.has_error() {
        return None;
    }
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            return Some(node);
        }
        if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return None;
            }
        }
    }
}

/// Deepest nesting djopt analyses. Real code stays under 50 levels (the pinned corpus: 40);
/// CPython's own compiler gives up around 3,000. Deeper files are reported and left alone, so
/// the recursive walkers of phase 1 and 2 stay within `crash::STACK_SIZE`.
pub const MAX_NESTING: usize = 3_000;

/// At most this many nodes of a tree-sitter-python tree nest on one byte of text: every level
/// of nesting writes at least one byte (an operator, a bracket, a keyword, an indentation), and
/// the nodes that wrap another with the same span (`expression_statement` around a call, a
/// `block` around its only statement) are a handful at most.
const NODES_PER_BYTE: usize = 16;

/// Whether the tree goes deeper than `limit` (the root is 0): the result is above `limit` exactly
/// when it does (below, it is only a lower bound). Counted without recursion, and a subtree too
/// small to reach past `limit` (too few nodes, or too short: see `NODES_PER_BYTE`) is not
/// entered, so most statements are not walked at all.
pub fn nesting_depth(tree: &Tree, limit: usize) -> usize {
    let mut cursor = tree.walk();
    let mut depth = 0;
    let mut deepest = 0;
    loop {
        deepest = deepest.max(depth);
        if deepest > limit {
            return deepest;
        }
        let node = cursor.node();
        // A path down from the node has at most as many nodes as the node has (a count
        // tree-sitter keeps), and at most `NODES_PER_BYTE` per byte of its text.
        let could_reach = depth
            + node
                .descendant_count()
                .min(NODES_PER_BYTE * (node.end_byte() - node.start_byte() + 1));
        if could_reach > limit && cursor.goto_first_child() {
            depth += 1;
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return deepest;
            }
            depth -= 1;
        }
    }
}

/// Number of ERROR and MISSING nodes in the tree.
pub fn error_count(tree: &Tree) -> usize {
    let root = tree.root_node();
    if !root.has_error() {
        return 0;
    }
    let mut count = 0;
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            count += 1;
        }
        if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return count;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{NodeKind, field_id};

    #[test]
    fn every_field_named_in_the_source_is_a_field_of_the_grammar() {
        fn visit(dir: &std::path::Path, names: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    visit(&path, names);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for part in text.split("field!(\"").skip(1) {
                        names.push(part.split('"').next().unwrap().to_string());
                    }
                }
            }
        }
        let mut names = Vec::new();
        visit(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut names,
        );
        assert!(names.len() > 100);
        for name in names {
            assert_ne!(
                field_id(&name),
                0,
                "{name} is not a field of tree-sitter-python"
            );
        }
    }

    /// The depth of every node, walked in full.
    fn full_depth(tree: &Tree) -> usize {
        fn go(node: tree_sitter::Node, depth: usize) -> usize {
            let mut cursor = node.walk();
            node.children(&mut cursor)
                .map(|c| go(c, depth + 1))
                .fold(depth, usize::max)
        }
        go(tree.root_node(), 0)
    }

    #[test]
    fn nesting_depth_skips_short_subtrees_without_missing_deep_ones() {
        let deep_block = (0..30).fold(String::new(), |acc, i| {
            format!("{acc}{}if x{i}:\n", "    ".repeat(i))
        }) + &"    ".repeat(30)
            + "pass\n";
        let samples = [
            format!("x = {}1\n", "-".repeat(60)),
            format!("x = {}1{}\n", "(".repeat(40), ")".repeat(40)),
            format!("x = 1{}\n", "+1".repeat(80)),
            format!("x = {}\n", "not ".repeat(50) + "y"),
            format!("f({})\n", "[".repeat(30) + &"]".repeat(30)),
            deep_block,
            "def f(a, b=1, *c, **d):\n    return [x.y for x in a if x]\n".to_string(),
            // Many small statements (each too few nodes to be entered) around a deep one.
            (0..200)
                .map(|i| format!("v{i} = [{i}, ({i},)]\n"))
                .collect::<String>()
                + &format!("x = {}1{}\n", "(".repeat(45), ")".repeat(45))
                + &(0..200)
                    .map(|i| format!("w{i} = {i}\n"))
                    .collect::<String>(),
        ];
        for src in &samples {
            let tree = parse(src).unwrap();
            let full = full_depth(&tree);
            for limit in [3, 10, 25, 40, 60, 100, 200] {
                assert_eq!(
                    nesting_depth(&tree, limit) > limit,
                    full > limit,
                    "limit {limit}, depth {full}: {src}"
                );
            }
        }
    }

    #[test]
    fn node_kinds_from_the_table_are_tree_sitters() {
        // Valid code, aliases (`as_pattern_target`), an ERROR and a MISSING node.
        let srcs = [
            "import a.b as c\nwith open(f) as g:\n    print(f\"{x!r:>3}\", *y, **z)\nmatch p:\n    case [1, *r] if r: pass\n",
            "def f(:\n  pass\nx = (1,\n",
            "class A(B, metaclass=M):\n    async def g(self): return [await h() for h in self]\n",
        ];
        let mut seen = 0;
        for src in srcs {
            let tree = parse(src).unwrap();
            let mut cursor = tree.walk();
            loop {
                let node = cursor.node();
                assert_eq!(node.node_kind(), node.kind(), "{src}");
                seen += 1;
                if cursor.goto_first_child() {
                    continue;
                }
                while !cursor.goto_next_sibling() {
                    if !cursor.goto_parent() {
                        break;
                    }
                }
                if cursor.node() == tree.root_node() {
                    break;
                }
            }
        }
        assert!(seen > 100, "{seen}");
    }

    #[test]
    fn grammar_loads_into_this_tree_sitter() {
        let mut parser = Parser::new();
        parser.set_language(&language()).unwrap();
        let tree = parser.parse("x = 1\n", None).unwrap();
        assert_eq!(tree.root_node().node_kind(), "module");
    }

    #[test]
    fn statements_within_their_ranges() {
        let offset = |t: &str, s: &str| t.find(s).unwrap();
        // `x = ` is completed by `y = 1` when `def f` is left out: the assignment spans two
        // ranges. Class headers and members count apart.
        let t = "x = \n\ndef f():\n    return 1\n\ny = 1\n";
        let keep = [0..offset(t, "def f"), offset(t, "y = 1")..t.len()];
        let tree = parse_ranges(t, &keep).unwrap();
        assert!(!tree.root_node().has_error());
        assert!(!statements_within(&tree, &keep));
        assert!(first_error(&parse(t).unwrap()).is_some());
        let t = "import os\n\n@deco\nclass A(B):\n    x = 1\n\n    def f(self):\n        return 2\n\n    def g(self):\n        return 3\n\ny = 1\n";
        let keep = [0..offset(t, "    def f"), offset(t, "    def g")..t.len()];
        let rest = [
            offset(t, "@deco")..offset(t, "    x = 1"),
            offset(t, "    def f")..offset(t, "    def g"),
        ];
        for ranges in [&keep[..], &rest[..]] {
            let tree = parse_ranges(t, ranges).unwrap();
            assert!(!tree.root_node().has_error(), "{ranges:?}");
            assert!(statements_within(&tree, ranges), "{ranges:?}");
        }
    }

    #[test]
    fn measures_nesting_without_recursion() {
        let tree = parse("x = 1\n").unwrap();
        // module > expression_statement > assignment > integer
        assert!(nesting_depth(&tree, 2) > 2);
        assert!(nesting_depth(&tree, 3) <= 3);
        let deep = format!("x = {}1{}\n", "(".repeat(100_000), ")".repeat(100_000));
        let tree = parse(&deep).unwrap();
        assert!(nesting_depth(&tree, MAX_NESTING) > MAX_NESTING);
    }

    #[test]
    fn counts_errors() {
        let tree = parse("def f(:\n  pass\n").unwrap();
        assert!(error_count(&tree) > 0);
        assert!(first_error(&tree).is_some());
        let tree = parse("def f():\n  pass\n").unwrap();
        assert_eq!(error_count(&tree), 0);
    }
}
