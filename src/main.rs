fn main() -> std::process::ExitCode {
    djopt::cli::main()
}
