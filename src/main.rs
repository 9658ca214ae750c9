//! The `cex` binary: parses the command line, runs the chosen command, maps the outcome to an exit
//! code. All work happens in the library.

use clap::Parser;

use cex_insight::cli::Cli;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            // A bad command line is one line too (clap adds a usage hint on more lines).
            let text = e.to_string();
            eprintln!(
                "{}",
                text.lines().next().unwrap_or("error: bad command line")
            );
            std::process::exit(e.exit_code());
        }
    };
    cex_insight::log::set_format(cli.log_format);
    cex_insight::log::set_verbose(cli.verbose);
    let code = match cex_insight::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // One line for the cause chain, so cron mail and logs stay readable.
            cex_insight::log::error(&format!("{err:#}"));
            cex_insight::run::exit_code(&err)
        }
    };
    std::process::exit(code.code());
}
