fn main() -> std::process::ExitCode {
    tobira_cli::main()
}
