//! `djopt rule CODE`: a rule's documentation, from its `rule.toml`.

use crate::commands::args::RuleArgs;
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
    let docs: Vec<String> = rules.iter().map(|r| r.documentation()).collect();
    print!("{}", docs.join("\n"));
    Ok(ExitCode::SUCCESS)
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
