//! Host-native services: long-lived processes speaking JSON lines.
//!
//! This is an edge of the crate, kept out of the simulator core: the core asks through
//! [`ExternalServices`]. One process is started per service and peer on first use,
//! with `AQUA_PEER_NAME` and `AQUA_PEER_ID` in its environment. Each request is one
//! line `{"id", "service", "function", "args", "tetraplets", "particle", "peer_id"}`;
//! the answer is one line `{"id", "result"}` or `{"id", "error"}`. A process that
//! exits, answers garbage or does not answer in time fails its calls with a message
//! saying so; the run goes on.

use crate::compute::WasmServices;
use crate::network::Peer;
use crate::sim::ExternalServices;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

/// How long a process may take to answer one call.
pub const PROCESS_REPLY_TIMEOUT_MS: u64 = 10_000;

#[derive(Debug)]
struct Running {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<std::io::Result<String>>,
    next_id: u64,
}

#[derive(Debug)]
enum Slot {
    Running(Running),
    /// The process could not start or has died: why, for every later call.
    Dead(String),
}

/// Starts and talks to service processes, and hosts the WebAssembly services; kills
/// the processes and removes the services' files when dropped.
#[derive(Debug)]
pub struct ProcessServices {
    /// Directory the commands run in (the network description's directory).
    dir: PathBuf,
    processes: BTreeMap<(String, String), Slot>,
    /// Made on first use, with its files in a directory of its own.
    wasm: Option<Result<WasmServices, String>>,
    wasm_dir: PathBuf,
}

impl ProcessServices {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let wasm_dir = std::env::temp_dir().join(format!("aqua-services-{}-{run}", std::process::id()));
        ProcessServices { dir: dir.into(), processes: BTreeMap::new(), wasm: None, wasm_dir }
    }

    fn start(&self, peer: &Peer, program: &str, args: &[String]) -> Result<Running, String> {
        let mut child = Command::new(program)
            .args(args)
            .current_dir(&self.dir)
            .env("AQUA_PEER_NAME", &peer.name)
            .env("AQUA_PEER_ID", &peer.id)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start `{program}`: {e}"))?;
        let stdin = child.stdin.take().ok_or("the process has no stdin")?;
        let stdout = child.stdout.take().ok_or("the process has no stdout")?;
        // A reader thread turns the blocking pipe into a channel we can wait on with a timeout.
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Running { child, stdin, lines, next_id: 0 })
    }

    fn exchange(running: &mut Running, mut request: Json) -> Result<Result<Json, String>, String> {
        running.next_id += 1;
        let id = running.next_id;
        request["id"] = Json::from(id);
        let mut line = serde_json::to_string(&request).map_err(|e| e.to_string())?;
        line.push('\n');
        running
            .stdin
            .write_all(line.as_bytes())
            .and_then(|()| running.stdin.flush())
            .map_err(|e| format!("the process stopped reading requests ({e})"))?;
        let answer = match running.lines.recv_timeout(Duration::from_millis(PROCESS_REPLY_TIMEOUT_MS)) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => return Err(format!("reading its answer failed ({e})")),
            Err(RecvTimeoutError::Timeout) => return Err(format!("it did not answer within {PROCESS_REPLY_TIMEOUT_MS} ms")),
            Err(RecvTimeoutError::Disconnected) => {
                let status = running.child.wait().map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                return Err(format!("the process exited ({status})"));
            }
        };
        let answer: Json = serde_json::from_str(&answer).map_err(|e| format!("its answer is not JSON ({e}): {answer}"))?;
        if answer.get("id").and_then(Json::as_u64) != Some(id) {
            return Err(format!("its answer has id {} where {id} was expected", answer.get("id").cloned().unwrap_or(Json::Null)));
        }
        match (answer.get("result"), answer.get("error")) {
            (Some(r), None) => Ok(Ok(r.clone())),
            (None, Some(e)) => Ok(Err(e.as_str().map(str::to_owned).unwrap_or_else(|| e.to_string()))),
            _ => Err(format!("its answer has neither `result` nor `error` (or both): {answer}")),
        }
    }
}

impl ExternalServices for ProcessServices {
    fn call(&mut self, peer: &Peer, (program, args): (&str, &[String]), service: &str, request: Json) -> Result<Json, String> {
        let key = (peer.name.clone(), service.to_owned());
        if !self.processes.contains_key(&key) {
            let slot = match self.start(peer, program, args) {
                Ok(r) => Slot::Running(r),
                Err(e) => Slot::Dead(e),
            };
            self.processes.insert(key.clone(), slot);
        }
        let slot = self.processes.get_mut(&key).ok_or("process table lost an entry")?;
        let running = match slot {
            Slot::Dead(why) => return Err(format!("service process '{service}' on {} is not running: {why}", peer.name)),
            Slot::Running(r) => r,
        };
        match Self::exchange(running, request) {
            Ok(answer) => answer,
            Err(why) => {
                let _ = running.child.kill();
                let message = format!("service process '{service}' on {} failed: {why}", peer.name);
                *slot = Slot::Dead(why);
                Err(message)
            }
        }
    }

    fn wasm(&mut self) -> Option<&mut WasmServices> {
        let (dir, base) = (self.wasm_dir.clone(), self.dir.clone());
        self.wasm.get_or_insert_with(|| WasmServices::new(dir, base)).as_mut().ok()
    }
}

impl Drop for ProcessServices {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.wasm_dir);
        for slot in self.processes.values_mut() {
            if let Slot::Running(r) = slot {
                let _ = r.child.kill();
                let _ = r.child.wait();
            }
        }
    }
}
