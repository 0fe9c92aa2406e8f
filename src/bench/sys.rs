//! What the operating system says about CPU, memory and file limits: our own
//! CPU (getrusage), a server's CPU and RSS (/proc/<pid>/stat and status), the
//! machine's busy time (/proc/stat), and which process listens on a port.

use std::path::Path;

/// CPU seconds (user + system) this process has used.
pub fn self_cpu_secs() -> f64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe {
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn clock_ticks() -> f64 {
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// CPU seconds (user + system) process `pid` has used, from /proc/<pid>/stat.
pub fn proc_cpu_secs(pid: i32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_cpu(&s).map(|ticks| ticks as f64 / clock_ticks())
}

/// utime + stime (fields 14 and 15) of a /proc/<pid>/stat line, in ticks.
pub fn parse_stat_cpu(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces and parentheses: skip to the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14 -> index 11.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Resident set size of `pid` in KiB (VmRSS).
pub fn proc_rss_kib(pid: i32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_kib(&s, "VmRSS:")
}

pub fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// (busy, total) jiffies of the whole machine, from the first line of /proc/stat.
pub fn machine_jiffies() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    let line = s.lines().next()?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    if v.len() < 5 {
        return None;
    }
    let total: u64 = v.iter().take(8).sum();
    let idle = v[3] + v[4];
    Some((total - idle, total))
}

/// Raises the soft RLIMIT_NOFILE to the hard limit; returns (soft, hard).
/// Children started afterwards inherit it.
pub fn raise_nofile() -> (u64, u64) {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut r);
        if r.rlim_cur < r.rlim_max {
            let want = libc::rlimit {
                rlim_cur: r.rlim_max,
                rlim_max: r.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                r.rlim_cur = r.rlim_max;
            }
        }
    }
    (r.rlim_cur, r.rlim_max)
}

/// The process listening on TCP `port` on this machine, if we can see it
/// (/proc/net/tcp{,6} for the socket inode, then /proc/*/fd for its owner).
pub fn listener_pid(port: u16) -> Option<i32> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(s) = std::fs::read_to_string(table) {
            inodes.extend(listen_inodes(&s, port));
        }
    }
    if inodes.is_empty() {
        return None;
    }
    let targets: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    let mut best: Option<i32> = None;
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(Path::new("/proc").join(pid.to_string()).join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(link) = std::fs::read_link(fd.path())
                && targets.iter().any(|t| link.as_os_str() == t.as_str())
            {
                // Several processes may share a listening socket (a forking
                // server): the lowest pid is the parent.
                best = Some(best.map_or(pid, |b| b.min(pid)));
                break;
            }
        }
    }
    best
}

/// Socket inodes in LISTEN state on `port` in a /proc/net/tcp table.
pub fn listen_inodes(table: &str, port: u16) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let local = f.get(1)?;
            let p = u16::from_str_radix(local.rsplit_once(':')?.1, 16).ok()?;
            (p == port && *f.get(3)? == "0A").then(|| f.get(9)?.parse().ok())?
        })
        .collect()
}

/// CPU and wall-time snapshot of the load generator, a server and the machine.
#[derive(Debug, Clone, Copy)]
pub struct CpuSnapshot {
    pub at: std::time::Instant,
    pub own: f64,
    pub server: Option<f64>,
    pub machine: Option<(u64, u64)>,
}

impl CpuSnapshot {
    pub fn take(server_pid: Option<i32>) -> CpuSnapshot {
        CpuSnapshot {
            at: std::time::Instant::now(),
            own: self_cpu_secs(),
            server: server_pid.and_then(proc_cpu_secs),
            machine: machine_jiffies(),
        }
    }

    /// (own cores, server cores, machine busy fraction) between two snapshots.
    pub fn usage_since(&self, earlier: &CpuSnapshot) -> (f64, Option<f64>, Option<f64>) {
        let wall = (self.at - earlier.at).as_secs_f64().max(1e-9);
        let own = (self.own - earlier.own) / wall;
        let server = match (self.server, earlier.server) {
            (Some(a), Some(b)) => Some((a - b) / wall),
            _ => None,
        };
        let machine = match (self.machine, earlier.machine) {
            (Some((b1, t1)), Some((b0, t0))) if t1 > t0 => {
                Some((b1 - b0) as f64 / (t1 - t0) as f64)
            }
            _ => None,
        };
        (own, server, machine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_and_status_parsing() {
        let stat = "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 4 0 100 1000000 300";
        assert_eq!(parse_stat_cpu(stat), Some(300));
        let status = "Name:\tnode\nVmPeak:\t 1000 kB\nVmRSS:\t   51234 kB\n";
        assert_eq!(parse_status_kib(status, "VmRSS:"), Some(51234));
    }

    #[test]
    fn own_process_is_visible() {
        let pid = std::process::id() as i32;
        assert!(proc_cpu_secs(pid).is_some());
        assert!(proc_rss_kib(pid).unwrap() > 0);
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert_eq!(listener_pid(port), Some(pid));
    }

    #[test]
    fn listen_table_parsing() {
        let t = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1\n   1: 0100007F:1F90 0100007F:D000 01 00000000:00000000 00:00000000 00000000     0        0 4343 1\n";
        assert_eq!(listen_inodes(t, 8080), vec![4242]);
        assert!(listen_inodes(t, 8081).is_empty());
    }
}
