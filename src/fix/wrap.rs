//! A fix that makes a line longer than the project's limit is wrapped as ruff format (black)
//! would wrap it: the right-hand split of the last bracket pair on that line the fix wrote into
//! (`head(`, the body one level deeper, `)tail`), and when the body is still too long, one
//! element per line with a trailing comma (a comprehension: one clause per line). A line that
//! was over the limit before the fix is left as it is: the project does not format to a limit.
//!
//! The result is the fix's own edits, rewritten ([`wrap_fix`]): what `check --format json`
//! shows, what `fix -i` previews and what `fix` applies are the same. New line breaks only go
//! between the brackets of a pair that opens and closes on the line, outside strings and
//! comments, where Python allows any line break and any indentation.

use super::{Edit, Fix};
use std::cell::OnceCell;

/// The default of ruff and black.
pub const DEFAULT_LINE_LENGTH: usize = 88;

/// Columns a tab advances to (ruff's default `indent-width`).
const TAB_SIZE: usize = 4;

/// How deep splits nest (a body split again, its elements split again…).
const MAX_DEPTH: usize = 8;

/// A group's lines longer than this (bytes) are not looked at: minified or generated code.
const MAX_SPAN: usize = 64 * 1024;

/// The file's layout, read once when some fix has a line to wrap.
pub struct Layout<'t> {
    text: &'t str,
    pub limit: usize,
    style: OnceCell<(String, &'static str)>,
}

impl<'t> Layout<'t> {
    pub fn new(text: &'t str, limit: usize) -> Layout<'t> {
        Layout {
            text,
            limit,
            style: OnceCell::new(),
        }
    }

    /// The indentation unit and the line ending of the file.
    fn style(&self) -> &(String, &'static str) {
        self.style.get_or_init(|| {
            let ending = if self.text.contains("\r\n") {
                "\r\n"
            } else {
                "\n"
            };
            (indent_unit(self.text), ending)
        })
    }
}

/// The file's indentation unit: what the first block opened by a line ending in `:` adds to
/// that line's indentation (a tab, or 1 to 8 spaces); four spaces when there is none.
pub fn indent_unit(text: &str) -> String {
    let mut opener: Option<&str> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = &line[..line.len() - line.trim_start().len()];
        if let Some(prev) = opener
            && indent.len() > prev.len()
            && let Some(extra) = indent.strip_prefix(prev)
        {
            if extra.chars().all(|c| c == '\t') {
                return "\t".into();
            }
            if extra.len() <= 8 && extra.chars().all(|c| c == ' ') {
                return extra.into();
            }
        }
        opener = trimmed.ends_with(':').then_some(indent);
    }
    "    ".into()
}

/// Columns `s` takes from column `col` on: tabs to the next stop, wide characters two.
fn width_from(col: usize, s: &str) -> usize {
    let mut col = col;
    for c in s.chars() {
        col += match c {
            '\t' => TAB_SIZE - col % TAB_SIZE,
            '\r' | '\n' => 0,
            c if is_wide(c) => 2,
            _ => 1,
        };
    }
    col
}

fn width(s: &str) -> usize {
    width_from(0, s)
}

/// East Asian wide and fullwidth characters, and emoji (the ranges that matter in code).
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x1F900..=0x1F9FF
        | 0x20000..=0x3FFFD)
}

/// Rewrite `fix`'s edits so that the lines it makes longer than the limit are wrapped. A fix
/// whose edits do not fit the text, or whose lines cannot be read, is left as it is.
pub fn wrap_fix(text: &str, fix: &mut Fix, layout: &Layout) {
    if fix.edits.is_empty() || !fix.fits(text) {
        return;
    }
    // Groups of edits whose lines (one more on each side: a body line's brackets are on its
    // neighbours) touch.
    let mut groups: Vec<(usize, usize, Vec<Edit>)> = Vec::new();
    for e in &fix.edits {
        // Lines longer than MAX_SPAN (minified code) are not looked at, nor searched through.
        let (Some(own_start), Some(own_end)) = (line_start(text, e.start), line_end(text, e.end))
        else {
            return;
        };
        let start = line_start(text, own_start.saturating_sub(1)).unwrap_or(own_start);
        let end = line_end(text, own_end).unwrap_or(own_end);
        match groups.last_mut() {
            Some((_, group_end, edits)) if start <= *group_end => {
                *group_end = (*group_end).max(end);
                edits.push(e.clone());
            }
            _ => groups.push((start, end, vec![e.clone()])),
        }
    }
    let mut out = Vec::with_capacity(fix.edits.len());
    let mut changed = false;
    for (start, end, edits) in groups {
        match wrap_group(text, start, end, &edits, layout) {
            Some(wrapped) => {
                changed = true;
                out.extend(wrapped);
            }
            None => out.extend(edits),
        }
    }
    if changed {
        out.sort();
        let wrapped = Fix {
            edits: out,
            ..fix.clone()
        };
        if wrapped.fits(text) {
            fix.edits = wrapped.edits;
        }
    }
}

/// The start of the line holding `offset`; None when it is more than MAX_SPAN before.
fn line_start(text: &str, offset: usize) -> Option<usize> {
    let from = offset.saturating_sub(MAX_SPAN);
    match memchr::memrchr(b'\n', &text.as_bytes()[from..offset]) {
        Some(i) => Some(from + i + 1),
        None if from == 0 => Some(0),
        None => None,
    }
}

/// Just past the newline ending the line holding `offset` (the end of the text on the last);
/// None when it is more than MAX_SPAN after.
fn line_end(text: &str, offset: usize) -> Option<usize> {
    let to = (offset + MAX_SPAN).min(text.len());
    match memchr::memchr(b'\n', &text.as_bytes()[offset..to]) {
        Some(i) => Some(offset + i + 1),
        None if to == text.len() => Some(to),
        None => None,
    }
}

/// A part of the group's text after the edits: the original's `orig..` or an edit's content.
#[derive(Clone, Copy, Debug)]
struct Piece {
    /// Range in the local (edited) text.
    start: usize,
    end: usize,
    /// Where it starts in the original text; None for written text.
    orig: Option<usize>,
}

/// Replace the local range `start..end` with `text`.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Op {
    start: usize,
    end: usize,
    text: String,
}

/// The edits of one group with its long lines wrapped; None when no line needs it.
fn wrap_group(
    text: &str,
    start: usize,
    end: usize,
    edits: &[Edit],
    layout: &Layout,
) -> Option<Vec<Edit>> {
    // A lone CR ends a line for Python, not for the lines read here: left as it is.
    let lone_cr = |t: &str| {
        t.bytes()
            .enumerate()
            .any(|(i, b)| b == b'\r' && t.as_bytes().get(i + 1) != Some(&b'\n'))
    };
    if end - start > MAX_SPAN
        || lone_cr(&text[start..end])
        || edits.iter().any(|e| lone_cr(&e.content))
    {
        return None;
    }
    let mut local = String::with_capacity(end - start + 64);
    let mut pieces = Vec::new();
    let mut at = start;
    let mut written = Vec::new();
    for e in edits {
        pieces.push(Piece {
            start: local.len(),
            end: local.len() + (e.start - at),
            orig: Some(at),
        });
        local.push_str(&text[at..e.start]);
        let from = local.len();
        local.push_str(&e.content);
        pieces.push(Piece {
            start: from,
            end: local.len(),
            orig: None,
        });
        written.push((from, local.len()));
        at = e.end;
    }
    pieces.push(Piece {
        start: local.len(),
        end: local.len() + (end - at),
        orig: Some(at),
    });
    local.push_str(&text[at..end]);

    // The original lines of the group that were over the limit, as byte ranges.
    let mut long_before = Vec::new();
    let mut s = start;
    while s < end {
        let e = line_end(text, s)?;
        if width(&text[s..e]) > layout.limit {
            long_before.push((s, e));
        }
        s = e;
    }
    let was_long = |local_start: usize, local_end: usize| {
        pieces.iter().any(|p| {
            let Some(orig) = p.orig else { return false };
            let (a, b) = (p.start.max(local_start), p.end.min(local_end));
            if a >= b {
                return false;
            }
            let (oa, ob) = (orig + (a - p.start), orig + (b - p.start));
            long_before.iter().any(|&(ls, le)| oa < le && ls < ob)
        })
    };

    let lines = line_ranges(&local);
    let mut ops = Vec::new();
    for (i, &(ls, le)) in lines.iter().enumerate() {
        let content_end = ls + local[ls..le].trim_end_matches(['\r', '\n']).len();
        if width(&local[ls..content_end]) <= layout.limit || was_long(ls, le) {
            continue;
        }
        if !written.iter().any(|&(a, b)| a < le && ls < b.max(a + 1)) {
            continue;
        }
        let (unit, ending) = layout.style();
        let Some(line) = Line::lex(&local, ls, content_end) else {
            continue;
        };
        // The line above goes on into this one: it ends in an opening bracket, a comma or a
        // backslash.
        let continued = i.checked_sub(1).is_some_and(|p| {
            let (ps, pe) = lines[p];
            let above = local[ps..pe].trim_end();
            above.ends_with('\\')
                || Line::lex(&local, ps, pe).is_none_or(|l| {
                    l.tokens
                        .last()
                        .is_some_and(|t| matches!(t.kind, Tok::Open(_) | Tok::Comma))
                })
        });
        let fitter = Fitter {
            text: &local,
            line: &line,
            starts_statement: !continued,
            limit: layout.limit,
            unit,
            ending,
            written: &written,
        };
        let indent_end =
            ls + (local[ls..content_end].len() - local[ls..content_end].trim_start().len());
        let indent = &local[ls..indent_end];
        // A body line, between an opening bracket ending the line above and its closing
        // bracket starting the line below, is split by its delimiters first (as black splits
        // a line inside brackets); else, and any other line, at a bracket pair.
        let before = ops.len();
        let prev = i.checked_sub(1).map(|p| lines[p]);
        let next = lines.get(i + 1).copied();
        if let (Some(prev), Some(next)) = (prev, next) {
            fitter.body_line(prev, next, indent, &mut ops);
        }
        if ops.len() == before {
            fitter.fit(indent_end, content_end, indent, true, &mut ops, 0);
        }
    }
    if ops.is_empty() {
        return None;
    }
    ops.sort();
    Some(regenerate(&local, start, end, &pieces, &ops))
}

/// The lines of `s` as ranges, each with its newline.
fn line_ranges(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < s.len() {
        let e = s[at..].find('\n').map_or(s.len(), |i| at + i + 1);
        out.push((at, e));
        at = e;
    }
    out
}

/// The group's edits after `ops` on its local text: every original byte left untouched stays
/// outside an edit, the rest is replaced by what is written there.
fn regenerate(local: &str, start: usize, end: usize, pieces: &[Piece], ops: &[Op]) -> Vec<Edit> {
    enum Item<'a> {
        Kept(usize, usize),
        New(&'a str),
    }
    fn emit<'a>(
        local: &'a str,
        pieces: &[Piece],
        from: usize,
        to: usize,
        items: &mut Vec<Item<'a>>,
    ) {
        for p in pieces {
            let (a, b) = (p.start.max(from), p.end.min(to));
            if a >= b {
                continue;
            }
            match p.orig {
                Some(orig) => items.push(Item::Kept(orig + (a - p.start), orig + (b - p.start))),
                None => items.push(Item::New(&local[a..b])),
            }
        }
    }
    let mut items: Vec<Item> = Vec::new();
    let mut pos = 0;
    for op in ops {
        emit(local, pieces, pos, op.start, &mut items);
        items.push(Item::New(&op.text));
        pos = op.end;
    }
    emit(local, pieces, pos, local.len(), &mut items);
    let mut edits = Vec::new();
    let mut orig = start;
    let mut pending = String::new();
    for item in items {
        match item {
            Item::New(s) => pending.push_str(s),
            Item::Kept(a, b) => {
                if a != orig || !pending.is_empty() {
                    edits.push(Edit::replacement(orig, a, std::mem::take(&mut pending)));
                }
                orig = b;
            }
        }
    }
    if orig != end || !pending.is_empty() {
        edits.push(Edit::replacement(orig, end, pending));
    }
    edits
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Open(u8),
    Close(u8),
    Comma,
    Colon,
    Word,
    Str,
    /// One byte of anything else (an operator, a dot).
    Other,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Tok,
    start: usize,
    end: usize,
    /// Brackets of the line open around the token (for a bracket: around the pair).
    depth: usize,
}

/// A bracket pair that opens and closes on the line (offsets of the two brackets).
#[derive(Clone, Copy, Debug)]
struct Pair {
    open: usize,
    close: usize,
    /// Index of the opening bracket's token.
    token: usize,
}

/// One physical line's tokens: strings are skipped, a comment ends the code.
struct Line {
    tokens: Vec<Token>,
    pairs: Vec<Pair>,
    /// A bracket closes one opened on an earlier line, or one stays open at the end.
    unbalanced: bool,
    /// The last bracket that closes one opened on an earlier line: the pairs before it are
    /// inside that bracket, not in the statement the line ends.
    closes_above: Option<usize>,
}

impl Line {
    /// None when the line cannot be read on its own: a string goes on past it, or a bracket
    /// closes one of another kind.
    fn lex(text: &str, start: usize, end: usize) -> Option<Line> {
        let s = text.as_bytes();
        let mut tokens = Vec::new();
        let mut pairs = Vec::new();
        let mut stack: Vec<(u8, usize, usize)> = Vec::new();
        let mut unbalanced = false;
        let mut closes_above = None;
        let mut i = start;
        while i < end {
            let c = s[i];
            let depth = stack.len();
            match c {
                b' ' | b'\t' | b'\x0c' | b'\r' | b'\n' | b'\\' => i += 1,
                b'#' => break,
                b'"' | b'\'' => {
                    let from = i;
                    i = skip_string(s, i, end)?;
                    tokens.push(Token {
                        kind: Tok::Str,
                        start: from,
                        end: i,
                        depth,
                    });
                }
                b'(' | b'[' | b'{' => {
                    stack.push((c, i, tokens.len()));
                    tokens.push(Token {
                        kind: Tok::Open(c),
                        start: i,
                        end: i + 1,
                        depth,
                    });
                    i += 1;
                }
                b')' | b']' | b'}' => {
                    let opener = match c {
                        b')' => b'(',
                        b']' => b'[',
                        _ => b'{',
                    };
                    match stack.pop() {
                        Some((o, open, token)) if o == opener => pairs.push(Pair {
                            open,
                            close: i,
                            token,
                        }),
                        Some(_) => return None,
                        None => {
                            unbalanced = true;
                            closes_above = Some(i);
                        }
                    }
                    tokens.push(Token {
                        kind: Tok::Close(c),
                        start: i,
                        end: i + 1,
                        depth: stack.len(),
                    });
                    i += 1;
                }
                b',' => {
                    tokens.push(Token {
                        kind: Tok::Comma,
                        start: i,
                        end: i + 1,
                        depth,
                    });
                    i += 1;
                }
                b':' => {
                    tokens.push(Token {
                        kind: Tok::Colon,
                        start: i,
                        end: i + 1,
                        depth,
                    });
                    i += 1;
                }
                c if crate::text::outline::is_ident_byte(c) => {
                    let from = i;
                    while i < end && crate::text::outline::is_ident_byte(s[i]) {
                        i += 1;
                    }
                    tokens.push(Token {
                        kind: Tok::Word,
                        start: from,
                        end: i,
                        depth,
                    });
                }
                _ => {
                    tokens.push(Token {
                        kind: Tok::Other,
                        start: i,
                        end: i + 1,
                        depth,
                    });
                    i += 1;
                }
            }
        }
        unbalanced |= !stack.is_empty();
        pairs.sort_by_key(|p| p.open);
        Some(Line {
            tokens,
            pairs,
            unbalanced,
            closes_above,
        })
    }
}

/// Past the string starting at `at` (its quote); None when it does not end before `end`.
fn skip_string(s: &[u8], at: usize, end: usize) -> Option<usize> {
    let q = s[at];
    let triple = at + 2 < end && s[at + 1] == q && s[at + 2] == q;
    let mut i = if triple { at + 3 } else { at + 1 };
    while i < end {
        match s[i] {
            b'\\' => i += 2,
            c if c == q => {
                if !triple {
                    return Some(i + 1);
                }
                if i + 2 < end && s[i + 1] == q && s[i + 2] == q {
                    return Some(i + 3);
                }
                i += 1;
            }
            b'\n' if !triple => return None,
            _ => i += 1,
        }
    }
    None
}

/// How a body splits: before each clause of a comprehension or each call of a chain (the
/// fluent style), or after each comma.
enum Delimiters {
    Before(Vec<usize>),
    Commas(Vec<usize>),
    None,
}

/// Words after which `(`, `[` open a tuple or a list, not a call or a subscript.
const KEYWORDS: &[&str] = &[
    "and", "as", "assert", "async", "await", "del", "elif", "else", "for", "from", "if", "import",
    "in", "is", "lambda", "not", "or", "return", "while", "with", "yield",
];

struct Fitter<'a> {
    text: &'a str,
    line: &'a Line,
    /// The line starts a statement (the one above does not go on into it).
    starts_statement: bool,
    limit: usize,
    unit: &'a str,
    ending: &'a str,
    /// Local ranges the fix wrote.
    written: &'a [(usize, usize)],
}

impl Fitter<'_> {
    /// Ops that make `indent` + `text[a..b]` (+ `extra` columns) fit, if a split can: the
    /// right-hand split of the last pair not inside another (with `first`, of the last the
    /// fix wrote into).
    #[allow(clippy::too_many_arguments)]
    fn fit(&self, a: usize, b: usize, indent: &str, first: bool, ops: &mut Vec<Op>, depth: usize) {
        self.fit_extra(a, b, indent, 0, first, ops, depth);
    }

    #[allow(clippy::too_many_arguments)]
    fn fit_extra(
        &self,
        a: usize,
        b: usize,
        indent: &str,
        extra: usize,
        first: bool,
        ops: &mut Vec<Op>,
        depth: usize,
    ) {
        if width_from(width(indent), &self.text[a..b]) + extra <= self.limit || depth > MAX_DEPTH {
            return;
        }
        if first
            && let Some((start, end)) = self.parenthesized_rhs()
            && self
                .written
                .iter()
                .any(|&(s, e)| s < end && start < e.max(s + 1))
        {
            self.parenthesize(start, end, indent, ops);
            return;
        }
        let after = self.line.closes_above.unwrap_or(0);
        let pairs: Vec<Pair> = self
            .top_pairs(a, b)
            .into_iter()
            .filter(|p| p.open > after || self.line.closes_above.is_none())
            .filter(|p| !self.text[p.open + 1..p.close].trim().is_empty())
            .collect();
        let Some(last) = pairs
            .iter()
            .filter(|p| !first || self.wrote_into(p))
            .max_by_key(|p| p.close)
            .copied()
        else {
            return;
        };
        // As black omits trailers: when the head would still be too long, an earlier pair
        // whose head fits, and whose tail (holding the last pair) fits too.
        let at = width(indent);
        let head_fits = |p: &Pair| width_from(at, &self.text[a..=p.open]) <= self.limit;
        let pair = if head_fits(&last) {
            last
        } else {
            pairs
                .iter()
                .rev()
                .filter(|p| p.close < last.open)
                .find(|p| {
                    head_fits(p) && width_from(at, &self.text[p.close..b]) + extra <= self.limit
                })
                .copied()
                .unwrap_or(last)
        };
        // A line that goes on from the lines above (a hanging indent) is only split when the
        // split makes it fit.
        if self.line.unbalanced && !head_fits(&pair) {
            return;
        }
        self.split(pair, indent, ops, depth);
    }

    /// The pairs inside `a..b` that no other pair there encloses.
    fn top_pairs(&self, a: usize, b: usize) -> Vec<Pair> {
        let mut out: Vec<Pair> = Vec::new();
        for p in &self.line.pairs {
            if p.open < a || p.close >= b {
                continue;
            }
            if out.last().is_some_and(|top| p.open < top.close) {
                continue;
            }
            out.push(*p);
        }
        out
    }

    fn wrote_into(&self, p: &Pair) -> bool {
        self.written.iter().any(|&(s, e)| {
            if s == e {
                p.open < s && s <= p.close
            } else {
                s < p.close && p.open + 1 < e
            }
        })
    }

    fn split(&self, p: Pair, indent: &str, ops: &mut Vec<Op>, depth: usize) {
        let inner = format!("{indent}{}", self.unit);
        let interior = &self.text[p.open + 1..p.close];
        let bs = p.open + 1 + (interior.len() - interior.trim_start().len());
        let be = p.open + 1 + interior.trim_end().len();
        let body = &self.text[bs..be];
        let break_inner = format!("{}{inner}", self.ending);
        let break_outer = format!("{}{indent}", self.ending);
        ops.push(Op {
            start: p.open + 1,
            end: bs,
            text: break_inner.clone(),
        });
        let inner_depth = self.line.tokens[p.token].depth + 1;
        let delimiters = self.delimiters(bs, be, inner_depth);
        let fits = width_from(width(&inner), body) <= self.limit;
        let magic = match &delimiters {
            Delimiters::Commas(commas) => {
                body.ends_with(',') && (commas.len() > 1 || self.follows_value(p))
            }
            _ => false,
        };
        if fits && !magic {
            ops.push(Op {
                start: be,
                end: p.close,
                text: break_outer,
            });
            return;
        }
        match delimiters {
            Delimiters::Before(starts) => {
                let mut from = bs;
                for &k in &starts {
                    let prev_end = bs + self.text[bs..k].trim_end().len();
                    ops.push(Op {
                        start: prev_end,
                        end: k,
                        text: break_inner.clone(),
                    });
                    self.fit(from, prev_end, &inner, false, ops, depth + 1);
                    from = k;
                }
                self.fit(from, be, &inner, false, ops, depth + 1);
                ops.push(Op {
                    start: be,
                    end: p.close,
                    text: break_outer,
                });
            }
            Delimiters::Commas(commas) => {
                let trailing = body.ends_with(',');
                let mut from = bs;
                for &k in &commas {
                    if k + 1 == be {
                        break;
                    }
                    let rest = &self.text[k + 1..be];
                    let next = k + 1 + (rest.len() - rest.trim_start().len());
                    ops.push(Op {
                        start: k + 1,
                        end: next,
                        text: break_inner.clone(),
                    });
                    self.fit(from, k + 1, &inner, false, ops, depth + 1);
                    from = next;
                }
                let extra = usize::from(!trailing);
                self.fit_extra(from, be, &inner, extra, false, ops, depth + 1);
                ops.push(Op {
                    start: be,
                    end: p.close,
                    text: if trailing {
                        break_outer
                    } else {
                        format!(",{break_outer}")
                    },
                });
            }
            Delimiters::None => {
                self.fit(bs, be, &inner, false, ops, depth + 1);
                ops.push(Op {
                    start: be,
                    end: p.close,
                    text: break_outer,
                });
            }
        }
    }

    /// A body line (between an opening bracket ending the line above and its closing bracket
    /// starting the line below) that is too long: one element (or clause) per line, at its
    /// indentation, a trailing comma after the last element.
    fn body_line(
        &self,
        prev: (usize, usize),
        next: (usize, usize),
        indent: &str,
        ops: &mut Vec<Op>,
    ) {
        let (Some(first), Some(last)) = (self.line.tokens.first(), self.line.tokens.last()) else {
            return;
        };
        if self.line.unbalanced {
            return;
        }
        let (cs, ce) = (first.start, last.end);
        let trim = |(s, e): (usize, usize)| {
            if self.text[..e].ends_with("\r\n") {
                (s, e - 2)
            } else if self.text[..e].ends_with('\n') {
                (s, e - 1)
            } else {
                (s, e)
            }
        };
        let (ps, pe) = trim(prev);
        let (ns, ne) = trim(next);
        let (Some(above), Some(below)) =
            (Line::lex(self.text, ps, pe), Line::lex(self.text, ns, ne))
        else {
            return;
        };
        let opener = match above.tokens.last() {
            Some(Token {
                kind: Tok::Open(o), ..
            }) => *o,
            _ => return,
        };
        let closer = match opener {
            b'(' => b')',
            b'[' => b']',
            _ => b'}',
        };
        if !matches!(below.tokens.first(), Some(Token { kind: Tok::Close(c), .. }) if *c == closer)
        {
            return;
        }
        let break_line = format!("{}{indent}", self.ending);
        match self.delimiters(cs, ce, 0) {
            Delimiters::Before(starts) => {
                let mut from = cs;
                for &k in &starts {
                    let prev_end = cs + self.text[cs..k].trim_end().len();
                    ops.push(Op {
                        start: prev_end,
                        end: k,
                        text: break_line.clone(),
                    });
                    self.fit(from, prev_end, indent, false, ops, 1);
                    from = k;
                }
                self.fit(from, ce, indent, false, ops, 1);
            }
            Delimiters::Commas(commas) => {
                let trailing = self.text[..ce].ends_with(',');
                let mut from = cs;
                for &k in &commas {
                    if k + 1 == ce {
                        break;
                    }
                    let rest = &self.text[k + 1..ce];
                    let next = k + 1 + (rest.len() - rest.trim_start().len());
                    ops.push(Op {
                        start: k + 1,
                        end: next,
                        text: break_line.clone(),
                    });
                    self.fit(from, k + 1, indent, false, ops, 1);
                    from = next;
                }
                self.fit_extra(from, ce, indent, usize::from(!trailing), false, ops, 1);
                if !trailing {
                    ops.push(Op {
                        start: ce,
                        end: ce,
                        text: ",".into(),
                    });
                }
            }
            Delimiters::None => {}
        }
    }

    /// The opening bracket of `p` follows a name or a closing bracket: a call or a subscript.
    fn follows_value(&self, p: Pair) -> bool {
        let Some(prev) = p.token.checked_sub(1).map(|i| self.line.tokens[i]) else {
            return false;
        };
        match prev.kind {
            Tok::Close(_) => true,
            Tok::Word => !KEYWORDS.contains(&&self.text[prev.start..prev.end]),
            _ => false,
        }
    }

    /// The delimiters of `a..b` at bracket depth `depth`, as black ranks them: the clauses
    /// of a comprehension (the start of each `for`, `async for` and `if` after the first
    /// `for`), else its commas (not a lambda's parameters'), else the dots after a call or a
    /// subscript when there are two or more and no operator (`a.b(c).d(e).f()`).
    fn delimiters(&self, a: usize, b: usize, depth: usize) -> Delimiters {
        let mut clauses = Vec::new();
        let mut commas = Vec::new();
        let mut dots = Vec::new();
        let mut operators = false;
        let mut in_lambda = false;
        let tokens = &self.line.tokens;
        let word = |t: &Token| &self.text[t.start..t.end];
        for (i, t) in tokens.iter().enumerate() {
            if t.start < a || t.start >= b || t.depth != depth {
                continue;
            }
            match t.kind {
                Tok::Word => match word(t) {
                    "lambda" => {
                        in_lambda = true;
                        operators = true;
                    }
                    "for" if t.start > a => {
                        let async_before = i > 0
                            && tokens[i - 1].kind == Tok::Word
                            && word(&tokens[i - 1]) == "async";
                        if !async_before {
                            clauses.push(t.start);
                        }
                    }
                    "async"
                        if t.start > a
                            && tokens
                                .get(i + 1)
                                .is_some_and(|n| n.kind == Tok::Word && word(n) == "for") =>
                    {
                        clauses.push(t.start)
                    }
                    "if" if !clauses.is_empty() => clauses.push(t.start),
                    "if" | "else" | "and" | "or" | "not" | "in" | "is" | "await" => {
                        operators = true
                    }
                    _ => {}
                },
                Tok::Colon => {
                    in_lambda = false;
                    operators = true;
                }
                Tok::Comma if !in_lambda => commas.push(t.start),
                // A dot after a call or a subscript; any other (`a.b`, `1.5`) delimits nothing.
                Tok::Other
                    if word(t) == "." && i > 0 && matches!(tokens[i - 1].kind, Tok::Close(_)) =>
                {
                    dots.push(t.start)
                }
                Tok::Other if word(t) == "." => {}
                Tok::Other => operators = true,
                _ => {}
            }
        }
        if !clauses.is_empty() {
            Delimiters::Before(clauses)
        } else if !commas.is_empty() {
            Delimiters::Commas(commas)
        } else if dots.len() >= 2 && !operators {
            Delimiters::Before(dots)
        } else {
            Delimiters::None
        }
    }

    /// The right-hand side of the statement the line starts (`x = <rhs>`, `return <rhs>`),
    /// as a range, when black would wrap it in parentheses: a chain of two or more calls
    /// (`a.b(c).d(e).f()`) that is not in brackets already. The fluent style follows.
    fn parenthesized_rhs(&self) -> Option<(usize, usize)> {
        let tokens = &self.line.tokens;
        let first = tokens.first()?;
        let last = tokens.last()?;
        let word = |t: &Token| &self.text[t.start..t.end];
        if !self.starts_statement
            || self.line.unbalanced
            || matches!(last.kind, Tok::Comma | Tok::Colon)
        {
            return None;
        }
        let start = if first.kind == Tok::Word && word(first) == "return" {
            1
        } else {
            let at = tokens.iter().enumerate().position(|(i, t)| {
                t.depth == 0
                    && t.kind == Tok::Other
                    && word(t) == "="
                    && !(i > 0
                        && tokens[i - 1].end == t.start
                        && matches!(tokens[i - 1].kind, Tok::Other | Tok::Colon))
                    && !tokens
                        .get(i + 1)
                        .is_some_and(|n| n.start == t.end && word(n) == "=")
            })?;
            at + 1
        };
        let rhs = tokens.get(start)?;
        // Already in brackets of its own.
        if let Tok::Open(_) = rhs.kind
            && self
                .line
                .pairs
                .iter()
                .any(|p| p.open == rhs.start && p.close == last.start)
        {
            return None;
        }
        match self.delimiters(rhs.start, last.end, 0) {
            Delimiters::Before(dots) if self.text[dots[0]..].starts_with('.') => {
                Some((rhs.start, last.end))
            }
            _ => None,
        }
    }

    /// `x = (`, the chain one level deeper (one call per line when too long), `)`.
    fn parenthesize(&self, start: usize, end: usize, indent: &str, ops: &mut Vec<Op>) {
        let inner = format!("{indent}{}", self.unit);
        ops.push(Op {
            start,
            end: start,
            text: format!("({}{inner}", self.ending),
        });
        self.fit_body(start, end, &inner, 0, ops, 1);
        ops.push(Op {
            start: end,
            end,
            text: format!("{}{indent})", self.ending),
        });
    }

    /// A line of its own at `indent` holding `text[a..b]` (at bracket depth `depth` of the
    /// line), split by its delimiters when too long.
    fn fit_body(
        &self,
        a: usize,
        b: usize,
        indent: &str,
        depth: usize,
        ops: &mut Vec<Op>,
        level: usize,
    ) {
        if width_from(width(indent), &self.text[a..b]) <= self.limit || level > MAX_DEPTH {
            return;
        }
        let break_line = format!("{}{indent}", self.ending);
        match self.delimiters(a, b, depth) {
            Delimiters::Before(starts) => {
                let mut from = a;
                for &k in &starts {
                    let prev_end = a + self.text[a..k].trim_end().len();
                    ops.push(Op {
                        start: prev_end,
                        end: k,
                        text: break_line.clone(),
                    });
                    self.fit(from, prev_end, indent, false, ops, level + 1);
                    from = k;
                }
                self.fit(from, b, indent, false, ops, level + 1);
            }
            _ => self.fit(a, b, indent, false, ops, level + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::{Applicability, apply_fixes};

    /// `src` with `fix`'s edits, wrapped at `limit`.
    fn wrapped(src: &str, edits: Vec<Edit>, limit: usize) -> String {
        let mut fix = Fix::new(edits, Applicability::Safe, String::new());
        wrap_fix(src, &mut fix, &Layout::new(src, limit));
        assert!(fix.fits(src), "{:?}", fix.edits);
        apply_fixes(src, &[&fix]).0
    }

    /// Insert `text` after the last `needle`.
    fn insert_after(src: &str, needle: &str, text: &str) -> Edit {
        Edit::insertion(src.rfind(needle).unwrap() + needle.len(), text)
    }

    const EXTENDED: &str = "def f(value):\n    members = Member.objects.filter(name__startswith=value).select_related(\"team\")\n    return members\n";

    #[test]
    fn an_extended_call_is_split_after_its_bracket() {
        let edit = insert_after(EXTENDED, "\"team\"", ", \"role\"");
        assert_eq!(
            wrapped(EXTENDED, vec![edit], 88),
            "def f(value):\n    members = Member.objects.filter(name__startswith=value).select_related(\n        \"team\", \"role\"\n    )\n    return members\n"
        );
    }

    #[test]
    fn a_line_within_the_limit_stays() {
        let edit = insert_after(EXTENDED, "\"team\"", ", \"role\"");
        let expected = EXTENDED.replace("\"team\")", "\"team\", \"role\")");
        assert_eq!(wrapped(EXTENDED, vec![edit], 120), expected);
    }

    #[test]
    fn a_line_already_too_long_stays() {
        let edit = insert_after(EXTENDED, "\"team\"", ", \"role\"");
        let expected = EXTENDED.replace("\"team\")", "\"team\", \"role\")");
        assert_eq!(wrapped(EXTENDED, vec![edit], 60), expected);
    }

    #[test]
    fn an_added_call_is_split_and_its_body_exploded_when_still_too_long() {
        let src = "def f(value):\n    members = Member.objects.filter(name__startswith=value)\n";
        let edit = insert_after(
            src,
            "value)",
            ".select_related(\"team__leader__country__region\", \"role__department__manager__office\", \"role__office__building\")",
        );
        assert_eq!(
            wrapped(src, vec![edit], 88),
            "def f(value):\n    members = Member.objects.filter(name__startswith=value).select_related(\n        \"team__leader__country__region\",\n        \"role__department__manager__office\",\n        \"role__office__building\",\n    )\n"
        );
    }

    #[test]
    fn a_head_too_long_splits_an_earlier_pair() {
        let src = "def f(value):\n    members = Member.objects.filter(name__startswith=value, team__name__gt=value)\n";
        let edit = insert_after(src, "value)", ".select_related(\"team\", \"role\")");
        assert_eq!(
            wrapped(src, vec![edit], 88),
            "def f(value):\n    members = Member.objects.filter(\n        name__startswith=value, team__name__gt=value\n    ).select_related(\"team\", \"role\")\n"
        );
    }

    #[test]
    fn a_comprehension_splits_before_its_clauses() {
        let src = "def f():\n    return [(m.name, m.team.name) for m in Member.objects.filter(name=\"abc\")]\n";
        let edit = insert_after(src, "\"abc\")", ".select_related(\"team\")");
        assert_eq!(
            wrapped(src, vec![edit], 88),
            "def f():\n    return [\n        (m.name, m.team.name)\n        for m in Member.objects.filter(name=\"abc\").select_related(\"team\")\n    ]\n"
        );
    }

    #[test]
    fn crlf_and_tabs_are_kept() {
        let src = "def f(value):\r\n\tmembers = Member.objects.filter(name__startswith=value).select_related(\"team\")\r\n";
        let edit = insert_after(src, "\"team\"", ", \"role\"");
        assert_eq!(
            wrapped(src, vec![edit], 88),
            "def f(value):\r\n\tmembers = Member.objects.filter(name__startswith=value).select_related(\r\n\t\t\"team\", \"role\"\r\n\t)\r\n"
        );
    }

    #[test]
    fn brackets_in_strings_and_comments_are_not_pairs() {
        let src = "def f():\n    rows = Member.objects.filter(name=\"(a, b)\", tag=\"[x]\")  # see (this)\n";
        let edit = insert_after(src, "\"[x]\")", ".select_related(\"team\")");
        assert_eq!(
            wrapped(src, vec![edit], 88),
            "def f():\n    rows = Member.objects.filter(name=\"(a, b)\", tag=\"[x]\").select_related(\n        \"team\"\n    )  # see (this)\n"
        );
    }

    #[test]
    fn a_body_line_made_too_long_gets_one_element_per_line() {
        let src = "def f():\n    rows = Member.objects.select_related(\n        \"team__leader__country\", \"role__department\"\n    )\n";
        let edit = insert_after(
            src,
            "\"role__department\"",
            ", \"role__department__manager__country\"",
        );
        assert_eq!(
            wrapped(src, vec![edit], 88),
            "def f():\n    rows = Member.objects.select_related(\n        \"team__leader__country\",\n        \"role__department\",\n        \"role__department__manager__country\",\n    )\n"
        );
    }

    #[test]
    fn a_body_line_is_split_by_its_clauses_before_its_pairs() {
        let src = "def f():\n    return [\n        list(p.membership_set.all()) for p in Person.objects.order_by(\"pk\")\n    ]\n";
        let edit = insert_after(src, "(\"pk\")", ".prefetch_related(\"membership_set\")");
        assert_eq!(
            wrapped(src, vec![edit], 88),
            "def f():\n    return [\n        list(p.membership_set.all())\n        for p in Person.objects.order_by(\"pk\").prefetch_related(\"membership_set\")\n    ]\n"
        );
    }

    #[test]
    fn the_other_edits_of_the_fix_stay() {
        let src = "from x import Q\n\n\ndef f():\n    return [a.books.count() for a in Author.objects.filter(name__startswith=\"abc\")]\n";
        let edits = vec![
            insert_after(src, "import Q", ", Count"),
            Edit::replacement(
                src.find("a.books.count()").unwrap(),
                src.find("a.books.count()").unwrap() + "a.books.count()".len(),
                "a.books_count",
            ),
            insert_after(src, "\"abc\")", ".annotate(books_count=Count(\"books\"))"),
        ];
        assert_eq!(
            wrapped(src, edits, 88),
            "from x import Q, Count\n\n\ndef f():\n    return [\n        a.books_count\n        for a in Author.objects.filter(name__startswith=\"abc\").annotate(\n            books_count=Count(\"books\")\n        )\n    ]\n"
        );
    }

    #[test]
    fn a_string_going_on_past_the_line_is_not_read() {
        let src = "def f():\n    x = \"\"\"abc\n    \"\"\".join(Member.objects.filter(name__startswith=\"abc\", team__name=\"def\"))\n";
        let edit = insert_after(src, "\"def\")", ".select_related(\"team\")");
        let mut fix = Fix::new(vec![edit.clone()], Applicability::Safe, String::new());
        wrap_fix(src, &mut fix, &Layout::new(src, 88));
        assert_eq!(fix.edits, vec![edit]);
    }

    #[test]
    fn a_chain_of_calls_goes_in_parentheses_one_call_per_line() {
        let src = "class V:\n    def get_queryset(self):\n        return super().get_queryset().filter(published=True).select_related(\"editor\")\n";
        let edit = insert_after(src, "(\"editor\")", ".prefetch_related(\"tags\")");
        assert_eq!(
            wrapped(src, vec![edit], 88),
            "class V:\n    def get_queryset(self):\n        return (\n            super()\n            .get_queryset()\n            .filter(published=True)\n            .select_related(\"editor\")\n            .prefetch_related(\"tags\")\n        )\n"
        );
        // When the chain fits on a line of its own: only the parentheses.
        let src = "def f():\n    books = Book.objects.filter(published=True).order_by(\"title\")\n";
        let edit = insert_after(src, "(\"title\")", ".select_related(\"editor\")");
        assert_eq!(
            wrapped(src, vec![edit], 88),
            "def f():\n    books = (\n        Book.objects.filter(published=True).order_by(\"title\").select_related(\"editor\")\n    )\n"
        );
        // A keyword argument on a line of its own is not an assignment.
        let src = "f(\n    queryset=Book.objects.filter(published=True).order_by(\"title\", \"pages\"),\n)\n";
        let edit = insert_after(src, "\"pages\")", ".select_related(\"editor\")");
        assert_eq!(
            wrapped(src, vec![edit], 88),
            "f(\n    queryset=Book.objects.filter(published=True).order_by(\n        \"title\", \"pages\"\n    ).select_related(\"editor\"),\n)\n"
        );
    }

    #[test]
    fn a_line_going_on_from_above_splits_only_its_own_pairs() {
        let src = "def f(sale):\n    payments = Payment.objects.filter(order__event=event, provider='paypal',\n                                  info__icontains=sale['id'])\n";
        let edit = insert_after(
            src,
            "sale['id'])",
            ".select_related('order__event__organizer')",
        );
        assert_eq!(
            wrapped(src, vec![edit], 88),
            "def f(sale):\n    payments = Payment.objects.filter(order__event=event, provider='paypal',\n                                  info__icontains=sale['id']).select_related(\n                                      'order__event__organizer'\n                                  )\n"
        );
        // When even that does not fit, it stays as the fix wrote it.
        let src = src.replace(
            "                                  info",
            "                                               info",
        );
        let edit = insert_after(
            &src,
            "sale['id'])",
            ".select_related('order__event__organizer')",
        );
        let expected = src.replace(
            "sale['id'])",
            "sale['id']).select_related('order__event__organizer')",
        );
        assert_eq!(wrapped(&src, vec![edit], 88), expected);
    }

    #[test]
    fn lines_longer_than_the_span_are_not_read() {
        // Minified code: the line is not searched through for its ends.
        let src = format!(
            "rows = Book.objects.filter(x=[{}])\n",
            "1, ".repeat(MAX_SPAN / 2)
        );
        let edit = insert_after(&src, ")", ".select_related(\"author\")");
        let mut fix = Fix::new(vec![edit.clone()], Applicability::Safe, String::new());
        wrap_fix(&src, &mut fix, &Layout::new(&src, 88));
        assert_eq!(fix.edits, vec![edit]);
    }

    #[test]
    fn indentation_unit() {
        assert_eq!(indent_unit("class A:\n  x = 1\n"), "  ");
        assert_eq!(indent_unit("if a:\n\tb\n"), "\t");
        assert_eq!(indent_unit("x = 1\n"), "    ");
        assert_eq!(indent_unit("def f():\n    # c\n    return 1\n"), "    ");
    }

    #[test]
    fn widths_count_tabs_to_stops_and_wide_characters_twice() {
        assert_eq!(width("\tx"), 5);
        assert_eq!(width("ab\tx"), 5);
        assert_eq!(width("名前"), 4);
    }
}
