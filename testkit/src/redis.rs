//! A real `redis-server` (Debian's package, installed by
//! `scripts/setup.d/35-servers.sh`) on a free loopback port; killed when
//! dropped, and also when the test process ends without dropping it (a
//! `static`, a crash): a small shell watchdog holds the server and kills it
//! once the test's end of its standard input closes. It can be stopped and
//! started again on the same port with its data (saved to a temporary folder
//! only at that stop), for tests of a store that goes away and comes back.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `redis-server "$@"`, prints its pid, and kills it when standard
/// input closes (SIGCONT too, should it be paused).
const WATCHDOG: &str = r#"redis-server "$@" >/dev/null 2>&1 & pid=$!; echo "$pid"; cat >/dev/null; kill "$pid" 2>/dev/null; kill -CONT "$pid" 2>/dev/null; wait "$pid""#;

/// A running Redis.
pub struct TestRedis {
    port: u16,
    dir: std::path::PathBuf,
    /// The watchdog shell (its stdin is the lifeline) and the server's pid.
    child: Option<(Child, u32)>,
}

impl TestRedis {
    /// Starts one and waits until it answers `PING`.
    pub fn start() -> Self {
        let port = crate::free_port();
        let dir = std::env::temp_dir().join(format!("th-test-redis-{port}"));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let mut redis = Self {
            port,
            dir,
            child: None,
        };
        redis.start_again();
        redis
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops the server, keeping its data for [`Self::start_again`].
    pub fn stop(&mut self) {
        if self.child.is_some() {
            let _ = self.command(&["SHUTDOWN", "SAVE"]);
        }
        self.end_watchdog();
    }

    /// Closes the lifeline (the watchdog kills the server) and reaps it.
    fn end_watchdog(&mut self) {
        if let Some((mut shell, _)) = self.child.take() {
            drop(shell.stdin.take());
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = shell.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = shell.kill();
            let _ = shell.wait();
        }
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing answers.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a paused server (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        if let Some((_, pid)) = &self.child {
            let _ = Command::new("kill")
                .args([which, &pid.to_string()])
                .status();
        }
    }

    /// Starts the server again on the same port.
    pub fn start_again(&mut self) {
        self.stop();
        let mut shell = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                &self.dir.to_string_lossy(),
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sh and redis-server run (scripts/setup.d/35-servers.sh installs it)");
        let mut first_line = String::new();
        if let Some(out) = shell.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut first_line);
        }
        let pid = first_line
            .trim()
            .parse()
            .expect("the watchdog names the server's pid");
        self.child = Some((shell, pid));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self
                .command(&["PING"])
                .is_some_and(|r| r.starts_with("+PONG"))
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not answer PING on port {}", self.port);
    }

    /// Sends one command (RESP) and answers the raw reply, `None` when the
    /// server is not there.
    pub fn command(&self, args: &[&str]) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        stream.write_all(request.as_bytes()).ok()?;
        let mut reply = Vec::new();
        let mut buf = [0u8; 65536];
        // One read is a whole reply for the small commands tests send; keep
        // reading while more arrives quickly.
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    reply.extend_from_slice(&buf[..n]);
                    stream
                        .set_read_timeout(Some(Duration::from_millis(50)))
                        .ok()?;
                }
                Err(_) => break,
            }
        }
        Some(String::from_utf8_lossy(&reply).into_owned())
    }

    /// How many times the server has run `command` (lower case, e.g.
    /// `mget`) since it started, from `INFO commandstats`.
    pub fn calls_of(&self, command: &str) -> u64 {
        let stats = self.command(&["INFO", "commandstats"]).unwrap_or_default();
        let prefix = format!("cmdstat_{command}:calls=");
        stats
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .and_then(|rest| rest.split(',').next())
            .and_then(|calls| calls.parse().ok())
            .unwrap_or(0)
    }

    /// Every key and its value (`SCAN` + `GET`), as a dump would show them.
    pub fn dump(&self) -> Vec<(String, String)> {
        let keys = self.command(&["KEYS", "*"]).unwrap_or_default();
        keys.lines()
            .filter(|l| !l.starts_with('*') && !l.starts_with('$'))
            .map(|key| {
                let value = self.command(&["GET", key]).unwrap_or_default();
                (key.to_owned(), value)
            })
            .collect()
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.end_watchdog();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
