//! `semslo export`: write the SLOs of a policy set as Prometheus rules or OpenSLO
//! documents, for aggregation and alerting in other systems.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use semslo::compile;
use semslo::export;

use super::{ExitStatus, print_diagnostics};

#[derive(Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    format: ExportFormat,
}

#[derive(Subcommand)]
enum ExportFormat {
    /// Prometheus recording rules and multi-window, multi-burn-rate alerting rules for every SLO.
    PrometheusRules(TargetArgs),
    /// OpenSLO v1 documents (Service, SLI, SLO, AlertPolicy, AlertCondition, AlertNotificationTarget).
    Openslo(TargetArgs),
}

#[derive(Args)]
struct TargetArgs {
    /// Policy file (`.slo`) or directory of policy files.
    #[arg(long, short = 'p', value_name = "PATH")]
    policy: PathBuf,

    /// File to write the YAML to, replacing it; default: standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(args: ExportArgs) -> ExitStatus {
    let (target, render): (&TargetArgs, fn(&compile::PolicySet) -> Option<String>) = match &args.format {
        ExportFormat::PrometheusRules(target) => (target, |set| Some(export::prometheus_rules(set))),
        ExportFormat::Openslo(target) => (target, render_openslo),
    };

    let (set, diagnostics) = compile::load(&target.policy);
    print_diagnostics(diagnostics.iter());
    let Some(set) = set else {
        eprintln!("semslo: the policy set has errors; nothing was exported");
        return ExitStatus::InvalidPolicy;
    };
    if set.slos.is_empty() {
        eprintln!("semslo: warning: the policy set declares no SLO, so the export is empty");
    }

    let Some(yaml) = render(&set) else {
        eprintln!("semslo: the SLOs cannot be exported as they are; nothing was written");
        return ExitStatus::InvalidPolicy;
    };
    write_output(target.output.as_ref(), &yaml)
}

/// Renders OpenSLO documents, printing the warnings and errors about SLOs that
/// OpenSLO cannot express.
fn render_openslo(set: &compile::PolicySet) -> Option<String> {
    let (yaml, diagnostics) = export::openslo(set);
    print_diagnostics(diagnostics.iter());
    yaml
}

fn write_output(output: Option<&PathBuf>, yaml: &str) -> ExitStatus {
    let written = match output {
        Some(path) => std::fs::write(path, yaml).map_err(|error| format!("cannot write `{}`: {error}", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(yaml.as_bytes()).and_then(|()| stdout.flush()) {
                // A closed pipe (`| head`) is the reader's choice, not a failure.
                Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.map_err(|error| format!("cannot write to standard output: {error}")),
            }
        }
    };
    match written {
        Ok(()) => ExitStatus::Success,
        Err(message) => {
            eprintln!("semslo: {message}");
            ExitStatus::InvalidInput
        }
    }
}
