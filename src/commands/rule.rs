//! `djopt rule CODE`: a rule's documentation, from its `rule.toml`.

use crate::cli::RuleArgs;
use crate::rules::{Rule, registry};
use anyhow::{Result, bail};
use std::process::ExitCode;

pub fn run(args: RuleArgs) -> Result<ExitCode> {
    let registry = registry();
    if args.table {
        print!("{}", markdown_table());
        return Ok(ExitCode::SUCCESS);
    }
    let rules: Vec<&Rule> = match (&args.code, args.all) {
        (_, true) => registry.rules.iter().collect(),
        (Some(code), false) => match registry.by_code(code) {
            Some(rule) => vec![rule],
            None => bail!(
                "unknown rule `{code}` (known: {})",
                registry.codes().collect::<Vec<_>>().join(", ")
            ),
        },
        (None, false) => bail!("name a rule (`djopt rule ORM101`) or pass --all"),
    };
    let docs: Vec<String> = rules.iter().map(|r| documentation(r)).collect();
    print!("{}", docs.join("\n"));
    Ok(ExitCode::SUCCESS)
}

pub fn documentation(rule: &Rule) -> String {
    let m = &rule.meta;
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

/// The README's rule table, generated from the rules' metadata.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| code | name | finds | fix | fix safety |\n| --- | --- | --- | --- | --- |\n",
    );
    for rule in &registry().rules {
        let m = &rule.meta;
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            m.code, m.name, m.summary, m.fix, m.fix_safety
        ));
    }
    out
}
