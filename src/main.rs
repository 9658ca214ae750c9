//! The `cex` binary: parses the command line, runs the chosen command, maps the outcome to an exit
//! code. All work happens in the library.

use clap::Parser;

use cex_insight::cli::Cli;
use cex_insight::exit_codes;

fn main() {
    let cli = Cli::parse();
    cex_insight::log::set_format(cli.log_format);
    let code = match cex_insight::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // One line for the cause chain, so cron mail and logs stay readable.
            cex_insight::log::error(&format!("{err:#}"));
            exit_codes::for_error(&err)
        }
    };
    std::process::exit(code.code());
}
