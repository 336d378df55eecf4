fn main() -> std::process::ExitCode {
    djopt::crash::install_panic_hook();
    djopt::interrupt::install();
    djopt::crash::run_with_stack(djopt::cli::main)
}
