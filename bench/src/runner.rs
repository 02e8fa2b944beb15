//! Runs the scenarios asked for, one after another, prints each one's
//! tables and a `result:` line as it ends, then the final markdown table
//! (also written to `--markdown PATH`).

use crate::cli::Args;
use crate::daemon::fleetd_path;
use crate::machine;
use crate::report::{Outcome, Verdict, markdown};
use crate::scenarios::{self, Ctx};
use crate::stats::Human;
use anyhow::Context as _;
use std::time::Instant;

/// Runs `args.scenario` (or all); `Ok(false)` when a scenario failed.
///
/// # Errors
/// When `fleetd` cannot be found or built, or the markdown file cannot be
/// written.
pub async fn run(args: Args) -> anyhow::Result<bool> {
    let names: Vec<&str> = if args.scenario == "all" {
        scenarios::ALL.to_vec()
    } else {
        vec![args.scenario.as_str()]
    };
    let fleetd = fleetd_path()?;
    let ctx = Ctx {
        fleetd,
        quick: args.quick,
        cluster: args.cluster,
        soak_minutes: args.minutes,
        seed: args.seed,
        runs: args.runs.max(1),
        scale_one: args.scale_one,
        previous: args.previous,
    };
    if ctx.scale_one.is_some() {
        // A child of `scale`: only its result line on stdout.
        return scenarios::run(&args.scenario, &ctx).await.map(|_| true);
    }
    let machine = machine::describe();
    println!("fleetcache bench: {}", names.join(", "));
    let age = std::fs::metadata(&ctx.fleetd)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .map_or_else(
            || "age unknown".to_owned(),
            |d| format!("built {} ago", Human(d)),
        );
    println!(
        "fleetd: {} ({age}; rebuild with `cargo build -p daemon --release` after changing it)",
        ctx.fleetd.display()
    );
    print!("{machine}");
    if ctx.quick {
        println!("--quick: smoke mode, small sizes and short windows; no verdicts");
    }
    let started = Instant::now();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut ok = true;
    for name in &names {
        println!("\n=== {name} ===");
        let began = Instant::now();
        match scenarios::run(name, &ctx).await {
            Ok(report) => {
                print!("{}", report.render());
                println!(
                    "result: {}: done in {}",
                    report.name,
                    Human(began.elapsed())
                );
                outcomes.extend(report.outcomes);
            }
            Err(e) => {
                ok = false;
                println!(
                    "result: {name}: FAILED after {}: {e:#}",
                    Human(began.elapsed())
                );
                outcomes.push(Outcome {
                    scenario: scenarios::ALL
                        .iter()
                        .chain(&["naive-net", "soak", "scale"])
                        .find(|n| *n == name)
                        .copied()
                        .unwrap_or("?"),
                    metric: "scenario failed".into(),
                    result: format!("{e:#}").lines().next().unwrap_or("").to_owned(),
                    baseline: "-".into(),
                    ratio: "-".into(),
                    goal: "-".into(),
                    verdict: Verdict::Missed,
                });
            }
        }
    }
    let total = started.elapsed();
    let table = markdown(&outcomes);
    println!(
        "\n=== summary ({} in {}) ===\n",
        names.join(", "),
        Human(total)
    );
    print!("{table}");
    if let Some(path) = &args.markdown {
        let command = format!(
            "cargo run -p bench --release -- {}{}",
            args.scenario,
            if args.quick { " --quick" } else { "" }
        );
        let text = format!(
            "Results of `{command}` ({} in total)\n\n{machine}\n{table}",
            Human(total)
        );
        std::fs::write(path, text).with_context(|| format!("write {}", path.display()))?;
        println!("\nwritten to {}", path.display());
    }
    Ok(ok)
}
