//! What the server under test runs, read from Linux's /proc: its descendant
//! processes (the MCP bridge's children and what they started), whether a
//! process is gone, and the server's resident memory. The steps
//! `expectServerChildren`, `expectProcessGone` and `expectServerRss` use it.

use std::collections::BTreeMap;

/// One process as /proc shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    pub pid: u32,
    pub ppid: u32,
    /// The state letter (`R`, `S`, `Z` for a zombie, ...).
    pub state: char,
    /// The command name (at most 15 characters, as the kernel keeps it).
    pub comm: String,
}

impl Proc {
    pub fn describe(&self) -> String {
        let zombie = if self.state == 'Z' {
            " (zombie: not reaped)"
        } else {
            ""
        };
        format!("pid {} {}{zombie}", self.pid, self.comm)
    }
}

/// Parse `/proc/PID/stat`: `pid (comm) state ppid ...`; comm may hold
/// spaces and parentheses, so the fields after it are found from the last `)`.
pub fn parse_stat(text: &str) -> Option<Proc> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let comm = text[open + 1..close].to_string();
    let mut rest = text[close + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some(Proc {
        pid,
        ppid,
        state,
        comm,
    })
}

/// Every process this machine shows.
pub fn all() -> Result<Vec<Proc>, String> {
    let dir = std::fs::read_dir("/proc").map_err(|e| format!("reading /proc: {e}"))?;
    Ok(dir
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        // A process may end between the listing and the read: skip it.
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|t| parse_stat(&t))
        .collect())
}

/// The descendants of `root` (children, their children, ...), zombies included.
pub fn descendants(root: u32, procs: &[Proc]) -> Vec<Proc> {
    let mut by_parent: BTreeMap<u32, Vec<&Proc>> = BTreeMap::new();
    for p in procs {
        by_parent.entry(p.ppid).or_default().push(p);
    }
    let mut out = Vec::new();
    let mut todo = vec![root];
    while let Some(p) = todo.pop() {
        for c in by_parent.get(&p).into_iter().flatten() {
            // pid 0's "children" are the kernel's roots: never loop on them.
            if c.pid != root && c.pid != 0 {
                out.push((*c).clone());
                todo.push(c.pid);
            }
        }
    }
    out.sort_by_key(|p| p.pid);
    out
}

/// Whether `pid` still runs: it exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(t) => parse_stat(&t).is_some_and(|p| p.state != 'Z'),
        Err(_) => false,
    }
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

/// The exit status of `pid`, a child of this process that has ended (a
/// zombie), read without reaping it (`waitid` with `WNOWAIT`): its owner
/// still reaps it. `None` when it is not our child or still runs.
pub fn exit_status(pid: u32) -> Option<Exit> {
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let r = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOWAIT | libc::WNOHANG,
        )
    };
    if r != 0 {
        return None;
    }
    let (got, status) = unsafe { (info.si_pid(), info.si_status()) };
    if got != pid as i32 {
        return None;
    }
    match info.si_code {
        libc::CLD_EXITED => Some(Exit::Code(status)),
        libc::CLD_KILLED | libc::CLD_DUMPED => Some(Exit::Signal(status)),
        _ => None,
    }
}

/// The resident set size of `pid` in octets (`VmRSS` of /proc/PID/status).
pub fn rss(pid: u32) -> Result<u64, String> {
    let t = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("reading /proc/{pid}/status: {e}"))?;
    parse_vm_rss(&t).ok_or_else(|| format!("/proc/{pid}/status has no VmRSS line"))
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line["VmRSS:".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Octets as `N MiB` (or `N KiB` under a MiB).
pub fn human(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{} MiB", n >> 20)
    } else {
        format!("{} KiB", n >> 10)
    }
}

/// `256MiB`, `512KiB`, `1GiB` or a plain number of octets.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let n: u64 = t[..digits]
        .parse()
        .map_err(|_| format!("expected a size such as 256MiB, got {s:?}"))?;
    let mult = match t[digits..].trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit {other:?} in {s:?} (B, KiB, MiB, GiB)"
            ));
        }
    };
    Ok(n * mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_is_read_without_reaping() {
        let mut c = std::process::Command::new("sh")
            .args(["-c", "exit 3"])
            .spawn()
            .unwrap();
        let pid = c.id();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while alive(pid) {
            assert!(std::time::Instant::now() < deadline, "sh did not exit");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(exit_status(pid), Some(Exit::Code(3)));
        assert_eq!(
            exit_status(pid),
            Some(Exit::Code(3)),
            "still there: not reaped"
        );
        assert_eq!(c.wait().unwrap().code(), Some(3), "its owner reaps it");
        assert_eq!(exit_status(pid), None);
        let mut k = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap();
        unsafe {
            libc::kill(k.id() as i32, libc::SIGKILL);
        }
        while alive(k.id()) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(exit_status(k.id()), Some(Exit::Signal(9)));
        let _ = k.wait();
    }

    #[test]
    fn stat_lines_with_odd_command_names() {
        let p = parse_stat("4242 (my (odd) name) S 17 4242 4242 0 -1").unwrap();
        assert_eq!(
            p,
            Proc {
                pid: 4242,
                ppid: 17,
                state: 'S',
                comm: "my (odd) name".into()
            }
        );
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn descendants_walk_the_tree() {
        let p = |pid, ppid, state| Proc {
            pid,
            ppid,
            state,
            comm: format!("p{pid}"),
        };
        let procs = vec![
            p(1, 0, 'S'),
            p(10, 1, 'S'),
            p(11, 10, 'S'),
            p(12, 11, 'Z'),
            p(13, 1, 'S'),
            p(14, 10, 'R'),
        ];
        let d: Vec<u32> = descendants(10, &procs).iter().map(|p| p.pid).collect();
        assert_eq!(d, vec![11, 12, 14]);
        assert!(descendants(13, &procs).is_empty());
        assert!(descendants(12, &procs)[..].is_empty());
    }

    #[test]
    fn this_process_is_seen() {
        let me = std::process::id();
        assert!(alive(me));
        assert!(rss(me).unwrap() > 1 << 20);
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let d = descendants(me, &all().unwrap());
        assert!(d.iter().any(|p| p.pid == child.id()), "{d:?}");
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!alive(child.id()));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("256MiB").unwrap(), 256 << 20);
        assert_eq!(parse_size("512 KiB").unwrap(), 512 << 10);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert!(parse_size("12MB").is_err());
        assert_eq!(
            parse_vm_rss("Name: x\nVmRSS:\t  2048 kB\n"),
            Some(2048 * 1024)
        );
    }
}
