//! `berth`: the server binary. Everything lives in the library.

fn main() -> std::process::ExitCode {
    berth_api::cli::main()
}
