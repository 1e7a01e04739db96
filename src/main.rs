//! The `semslo` command: parses arguments, installs the diagnostic renderer and
//! dispatches to one subcommand. Exit codes are listed in [`cli::ExitStatus`].

use std::ffi::{c_int, c_long};

mod cli;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` of `mi_option_t`: 15 in both the v2 and the v3 `mimalloc.h`
/// that libmimalloc-sys 0.1.49 builds. The mimalloc crate does not export the option
/// functions without its `extended` feature, so the one function used is declared here.
const MI_OPTION_PURGE_DELAY: c_int = 15;

/// How long memory that was freed stays committed before mimalloc returns it to the OS.
const PURGE_DELAY_MS: c_long = 1000;

unsafe extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
}

fn main() -> std::process::ExitCode {
    // The 1 MiB input chunks are allocated by one thread and freed by another. With a delay
    // of 10 ms (mimalloc v2's default) their pages went back to the OS and were faulted in and
    // zeroed again for the next chunks, a fifth of the CPU at `--jobs 2`. The v3 built here
    // defaults to 1 s, and setting it keeps that delay whichever version is built.
    // SAFETY: `mi_option_set` stores an option value. It is called before any other
    // thread starts, with an option and a value that mimalloc defines.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    cli::main()
}
