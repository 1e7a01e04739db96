//! The `semslo` command: parses arguments, installs the diagnostic renderer and
//! dispatches to one subcommand. Exit codes are listed in [`cli::ExitStatus`].

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
