//! The `incident-io` command-line tool (feature `cli`). Placeholder until the agent-surface work
//! lands.

fn main() {
    eprintln!("incident-io: not implemented yet");
    std::process::exit(2);
}
