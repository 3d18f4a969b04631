//! Where the time goes: `perf record` (when perf is installed) of the emulator while it
//! serves hosted pages, and of the SDK's own child process paginating in each mode. The
//! report gets each profile's self time grouped by kind, plus its top symbols. Profiled runs
//! are never the timed ones.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::child::Opts;

/// One profile: what ran, self time by category, and the top symbols.
#[derive(Debug, Clone)]
pub struct Profile {
    pub title: String,
    pub command: String,
    pub categories: Vec<(String, f64)>,
    pub top: Vec<(f64, String)>,
    pub error: Option<String>,
}

pub fn perf_available() -> bool {
    Command::new("perf")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Profiles this process (the emulator's server threads) while `during` runs.
pub fn profile_self(title: &str, data: &Path, during: impl FnOnce()) -> Profile {
    let pid = std::process::id().to_string();
    let mut perf = match Command::new("perf")
        .args(["record", "-F", "1999", "-o"])
        .arg(data)
        .args(["-p", &pid])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(p) => p,
        Err(e) => return failed(title, format!("cannot start perf: {e}")),
    };
    std::thread::sleep(Duration::from_millis(300));
    during();
    let _ = Command::new("kill")
        .args(["-INT", &perf.id().to_string()])
        .status();
    let _ = perf.wait();
    summarize(
        title,
        "perf record -F 1999 -p <pid of the e2e process, which runs the emulator>",
        data,
    )
}

/// Profiles one child run of our own binary.
pub fn profile_child(title: &str, data: &Path, exe: &Path, opts: &Opts) -> Profile {
    let status = Command::new("perf")
        .args(["record", "-F", "1999", "-o"])
        .arg(data)
        .arg("--")
        .arg(exe)
        .arg("child")
        .args(opts.to_args(true))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => summarize(
            title,
            &format!(
                "perf record -F 1999 -- e2e child paginate --mode {} --impl {} --warmup {}",
                opts.mode, opts.imp, opts.warmup
            ),
            data,
        ),
        Ok(s) => failed(title, format!("perf record exited with {s}")),
        Err(e) => failed(title, format!("cannot run perf: {e}")),
    }
}

fn failed(title: &str, e: String) -> Profile {
    Profile {
        title: title.into(),
        command: String::new(),
        categories: Vec::new(),
        top: Vec::new(),
        error: Some(e),
    }
}

fn summarize(title: &str, command: &str, data: &Path) -> Profile {
    let out = Command::new("perf")
        .args([
            "report",
            "--no-children",
            "--sort",
            "symbol",
            "--stdio",
            "-i",
        ])
        .arg(data)
        .stderr(Stdio::null())
        .output();
    let text = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).to_string(),
        Ok(o) => return failed(title, format!("perf report exited with {}", o.status)),
        Err(e) => return failed(title, format!("cannot run perf report: {e}")),
    };
    let mut rows: Vec<(f64, String)> = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        let Some((pct, rest)) = l.split_once('%') else {
            continue;
        };
        let Ok(p) = pct.trim().parse::<f64>() else {
            continue;
        };
        // perf pads the symbol column and may add columns after it.
        let sym = rest
            .trim()
            .split("  ")
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        if !sym.starts_with('[') {
            continue;
        }
        rows.push((p, sym));
    }
    let mut cats: Vec<(String, f64)> = Vec::new();
    for (p, sym) in &rows {
        let c = category(sym);
        match cats.iter_mut().find(|(n, _)| n == c) {
            Some((_, v)) => *v += p,
            None => cats.push((c.to_string(), *p)),
        }
    }
    cats.sort_by(|a, b| b.1.total_cmp(&a.1));
    rows.truncate(12);
    let _ = std::fs::remove_file(data);
    Profile {
        title: title.into(),
        command: command.into(),
        categories: cats,
        top: rows,
        error: None,
    }
}

/// A coarse kind for a symbol from `perf report --sort symbol` (`[.] user`, `[k] kernel`).
fn category(sym: &str) -> &'static str {
    let s = sym.to_ascii_lowercase();
    if sym.starts_with("[k]") {
        "kernel (loopback TCP, scheduling, page faults)"
    } else if [
        "malloc",
        "free",
        "_int_",
        "unlink_chunk",
        "realloc",
        "calloc",
        "tcache",
    ]
    .iter()
    .any(|k| s.contains(k))
    {
        "allocator (malloc/free)"
    } else if s.contains("serde_json::value") || s.contains("btree") || s.contains("value>") {
        "serde_json::Value trees (build, serialize, drop)"
    } else if s.contains("chrono") || s.contains("datetime") || s.contains("runtime::time") {
        "timestamp parsing (chrono, the runtime's RFC 3339 reader)"
    } else if s.contains("open_enum") || s.contains("from_wire") {
        "open-enum matching"
    } else if s.contains("serde")
        || s.contains("parse_str")
        || s.contains("escape")
        || s.contains("from_utf8")
    {
        "JSON decode/encode (serde_json)"
    } else if s.contains("memmove")
        || s.contains("memcpy")
        || s.contains("memcmp")
        || s.contains("memset")
    {
        "memory copies"
    } else if s.contains("hyper") || s.contains("reqwest") || s.contains("h1") || s.contains("http")
    {
        "HTTP (hyper, reqwest)"
    } else if s.contains("tokio") || s.contains("futures") {
        "async runtime (tokio)"
    } else if s.contains("fmt") || s.contains("write_str") {
        "formatting (core::fmt)"
    } else {
        "other"
    }
}

pub fn render(w: &mut String, profiles: &[Profile], note: Option<&str>) {
    let _ = writeln!(w, "## Where the time goes (profiles)\n");
    if let Some(n) = note {
        let _ = writeln!(w, "{n}\n");
        return;
    }
    let _ = writeln!(
        w,
        "Sampled with `perf record` during extra, untimed runs (self time per symbol, \
         grouped by kind; the top symbols follow). Reproduce with the command shown, then \
         `perf report --no-children --sort symbol`.\n"
    );
    for p in profiles {
        let _ = writeln!(w, "### {}\n", p.title);
        if let Some(e) = &p.error {
            let _ = writeln!(w, "Not available: {e}\n");
            continue;
        }
        let _ = writeln!(w, "`{}`\n", p.command);
        let cats: Vec<String> = p
            .categories
            .iter()
            .filter(|(_, v)| *v >= 1.0)
            .map(|(c, v)| format!("{c} {v:.0}%"))
            .collect();
        let _ = writeln!(w, "By kind: {}.\n", cats.join(", "));
        let _ = writeln!(w, "| Self time | Symbol |\n|---|---|");
        for (pct, sym) in &p.top {
            let sym = sym.replace('|', "\\|");
            let sym = if sym.chars().count() > 140 {
                format!("{}…", sym.chars().take(140).collect::<String>())
            } else {
                sym
            };
            let _ = writeln!(w, "| {pct:.1}% | `{sym}` |");
        }
        let _ = writeln!(w);
    }
}

/// Where profile data files go.
pub fn data_path(work: &Path, name: &str) -> PathBuf {
    work.join(format!("perf-{name}.data"))
}
