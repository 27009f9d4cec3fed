//! Runs a program with some shared libraries hidden for real, as on a machine where they are
//! not installed: in a private mount namespace (`unshare --mount`), `/dev/null` is bind-mounted
//! over each library file, so `dlopen` fails ("file too short") for that process alone. Needs
//! the right to create a mount namespace (root, or CAP_SYS_ADMIN); [`Hidden::prepare`] says
//! when it is missing so a test can skip with that reason.

use anyhow::Context;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A wrapper script that starts a program with libraries hidden.
#[derive(Debug)]
pub struct Hidden {
    /// The script to run instead of the program (it takes the program's arguments).
    pub script: PathBuf,
    /// The library files hidden (after following symlinks).
    pub files: Vec<PathBuf>,
}

/// Why libraries cannot be hidden on this machine.
#[derive(Debug)]
pub struct Unsupported(pub String);

impl Hidden {
    /// Writes a script in `dir` that runs `program` with every file that the loader would
    /// find for `sonames` hidden. `Ok(Err(_))`: this machine does not allow it (and why).
    pub fn prepare(
        dir: &Path,
        program: &Path,
        sonames: &[&str],
    ) -> anyhow::Result<Result<Hidden, Unsupported>> {
        let probe = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "true"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output();
        match probe {
            Ok(output) if output.status.success() => {}
            Ok(output) => {
                return Ok(Err(Unsupported(format!(
                    "`unshare --mount` is not permitted here: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                ))))
            }
            Err(e) => return Ok(Err(Unsupported(format!("cannot run unshare: {e}")))),
        }
        let files = library_files(sonames)?;
        let mut script = String::from("#!/bin/sh\n# Written by weft_e2e::hide.\nset -e\n");
        script.push_str(
            "if [ -z \"$WEFT_E2E_HIDDEN\" ]; then\n  export WEFT_E2E_HIDDEN=1\n  exec unshare --mount --propagation private \"$0\" \"$@\"\nfi\n",
        );
        for file in &files {
            let file = quote(file)?;
            script.push_str(&format!(
                "mount --bind /dev/null {file}\n# Hidden means empty now.\n[ ! -s {file} ] || exit 98\n"
            ));
        }
        script.push_str(&format!("exec {} \"$@\"\n", quote(program)?));
        let path = dir.join("hide-and-run.sh");
        std::fs::write(&path, script)?;
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        Ok(Ok(Hidden {
            script: path,
            files,
        }))
    }
}

/// The files the dynamic loader would open for `sonames`: those in its cache (`ldconfig -p`)
/// and in the default folders, with symlinks followed.
fn library_files(sonames: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    let cache = Command::new("ldconfig")
        .arg("-p")
        .output()
        .context("cannot run ldconfig -p")?;
    for line in String::from_utf8_lossy(&cache.stdout).lines() {
        let Some((name, path)) = line.trim().split_once(" => ") else {
            continue;
        };
        let name = name.split_whitespace().next().unwrap_or_default();
        if sonames.contains(&name) {
            candidates.push(PathBuf::from(path.trim()));
        }
    }
    for dir in [
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/lib/aarch64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/lib64",
        "/usr/lib64",
        "/lib",
        "/usr/lib",
    ] {
        for name in sonames {
            candidates.push(Path::new(dir).join(name));
        }
    }
    let files: BTreeSet<PathBuf> = candidates
        .iter()
        .filter_map(|c| std::fs::canonicalize(c).ok())
        .filter(|c| c.is_file())
        .collect();
    Ok(files.into_iter().collect())
}

/// Single-quotes a path for sh.
fn quote(path: &Path) -> anyhow::Result<String> {
    let text = path
        .to_str()
        .with_context(|| format!("{} is not UTF-8", path.display()))?;
    Ok(format!("'{}'", text.replace('\'', r"'\''")))
}
