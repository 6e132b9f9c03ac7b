//! The `sockudo-obs` command line: print the catalogue, serve `/metrics`, generate and check the
//! deployment bundle. Exit codes: 0 success, 1 failure (a check failed, drift, a runtime error),
//! 2 usage or config error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod cli;

#[derive(Parser)]
#[command(
    name = "sockudo-obs",
    version,
    about = "Metrics, rules and dashboards for Sockudo, from one catalogue"
)]
#[command(propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the metric catalogue: every metric, its type, labels and help.
    Catalogue {
        #[arg(long, value_enum, default_value_t = CatalogueFormat::Table)]
        format: CatalogueFormat,
        /// Prefix to show names under (defaults to the config's, or `sockudo_`).
        #[arg(long)]
        prefix: Option<String>,
    },
    /// Serve `/metrics` with the live registry, as a linked server would.
    Serve {
        /// A Sockudo config.json (whole, or just its `metrics` object). The METRICS_* environment
        /// variables override it.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Drive every recording call with a built-in traffic simulator.
        #[arg(long)]
        demo: bool,
        /// The simulator's starting scenario (it can be switched later at POST /demo/scenario).
        #[arg(long, value_enum, default_value_t = sockudo_obs::demo::Scenario::Normal, requires = "demo")]
        scenario: sockudo_obs::demo::Scenario,
    },
    /// Render the deployment bundle for one environment into generated/<env> (or --out).
    Generate {
        #[command(flatten)]
        inputs: cli::generate::Inputs,
        /// Where to write; defaults to generated/<env>.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Write nothing; exit 1 with a summary when the output folder differs from a fresh render.
        #[arg(long)]
        check: bool,
        /// Replace the output folder even when it holds files sockudo-obs did not write.
        #[arg(long, conflicts_with = "check")]
        force: bool,
    },
    /// Write an embedded profile out for editing, as DIR/environments/<NAME>.yaml; the shipped
    /// profiles are templates, with example hosts and URLs.
    Init {
        #[command(flatten)]
        args: cli::init::InitArgs,
    },
    /// Run the catalogue checks on the specs (every environment unless --env is given).
    Check {
        #[command(flatten)]
        inputs: cli::generate::Inputs,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum CatalogueFormat {
    Table,
    Json,
    Markdown,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Catalogue { format, prefix } => cli::catalogue::run(format, prefix),
        Command::Serve {
            config,
            demo,
            scenario,
        } => cli::serve::run(config, demo.then_some(scenario)),
        Command::Generate {
            inputs,
            out,
            check,
            force,
        } => cli::generate::generate(&inputs, out, check, force),
        Command::Check { inputs } => cli::generate::check(&inputs),
        Command::Init { args } => cli::init::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // A stderr that cannot take the message leaves the exit code to say it.
            let _ = cli::stdio::errln!("sockudo-obs: error: {err:#}");
            cli::exit_code(&err)
        }
    }
}
