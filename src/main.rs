//! The `alliance-map` command: parses the command line and hands each command to its module
//! in `alliance_map::cli`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use alliance_map::cli::{annotate, check_data, import, lookup, pack_data, reload, serve};

#[derive(Parser)]
#[command(
    name = "alliance-map",
    version,
    about = "Which NHS Cancer Alliance and STP covers a point or a postcode in England"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log as JSON lines instead of text.
    #[arg(long, global = true)]
    log_json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API and the map (builds the postcode index on first start).
    Serve(serve::ServeArgs),
    /// Print the answer for one point (--lon/--lat) or one postcode, as the API gives it.
    Lookup(lookup::LookupArgs),
    /// Import postcode files (Code-Point Open zip, ONSPD/NSPL CSV) into an index file.
    ImportPostcodes(import::ImportArgs),
    /// Append alliance and STP columns to a CSV, by its postcode column or by its longitude
    /// and latitude columns.
    Annotate(annotate::AnnotateArgs),
    /// Ask a running server (its admin listener) to reload its data; same as sending it SIGHUP.
    Reload(reload::ReloadArgs),
    /// Validate the data directory (including full OGC validity) and print a summary.
    CheckData(check_data::CheckDataArgs),
    /// Rebuild the packed data embedded in the binary (data/packed) from the official files.
    PackData(pack_data::PackDataArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_json);
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Lookup(args) => lookup::run(args),
        Command::ImportPostcodes(args) => import::run(args),
        Command::Annotate(args) => annotate::run(args),
        Command::Reload(args) => reload::run(args),
        Command::CheckData(args) => check_data::run(args),
        Command::PackData(args) => pack_data::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("alliance-map: {}", failure.message());
            ExitCode::from(failure.exit_code())
        }
    }
}

/// Structured logs on stderr (`RUST_LOG` sets the level; info by default).
fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
