//! The `semslo` command: parses arguments, installs the diagnostic renderer and
//! dispatches to one subcommand. Exit codes are listed in [`cli::ExitStatus`].

mod cli;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
