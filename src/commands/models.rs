//! `djopt models`: what djopt believes the project's models are.

use crate::commands::args::ModelsArgs;
use crate::project::Project;
use crate::settings::Overrides;
use anyhow::Result;
use std::fmt::Write as _;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: ModelsArgs) -> Result<ExitCode> {
    let path = args.path.unwrap_or_else(|| ".".into());
    let project = Project::load(&[path], &Overrides::default())?;
    let index = &project.index;
    let mut out = String::new();
    if args.json {
        let models: Vec<_> = index.models.iter().filter(|m| !m.builtin).collect();
        out = serde_json::to_string_pretty(&models)?;
        out.push('\n');
    } else {
        for model in index.models.iter().filter(|m| !m.builtin) {
            let kind = if model.is_abstract { " (abstract)" } else { "" };
            let _ = writeln!(
                out,
                "{}{kind}  {}:{}",
                model.label(),
                model.path,
                model.line
            );
            if !model.parents.is_empty() {
                let _ = writeln!(out, "  parents: {}", model.parents.join(", "));
            }
            for f in &model.fields {
                let target = f
                    .target
                    .map(|t| index.model(t).label())
                    .or_else(|| f.target_name.clone().map(|n| format!("{n} (unresolved)")));
                let mut line = format!("  {:<24} {:?}", f.name, f.kind);
                if let Some(t) = target {
                    let _ = write!(line, " -> {t}");
                }
                if f.null {
                    line.push_str(" null");
                }
                let _ = writeln!(out, "{}", line.trim_end());
            }
            for m in &model.managers {
                let mut line = format!("  manager {} = {}", m.name, m.class);
                if !m.select_related.is_empty() || m.select_related_all {
                    let _ = write!(line, " select_related{:?}", m.select_related);
                }
                if !m.prefetch_related.is_empty() {
                    let _ = write!(line, " prefetch_related{:?}", m.prefetch_related);
                }
                let _ = writeln!(out, "{line}");
            }
        }
        let count = index.models.iter().filter(|m| !m.builtin).count();
        let _ = writeln!(out, "{count} models");
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
