//! The Debian packages `make package` builds, met the way a user and an admin meet them:
//! `dpkg-deb` reads what they hold, `desktop-file-validate` and `systemd-analyze` check the
//! menu entry and the unit, apt resolves their Depends. On a throwaway machine
//! (`make test-package PACKAGE_INSTALL=1` as root; .ci/run) `apt-get install` then puts them on this
//! machine: the installed `weft-app` must come up in the tray with `weft status` answering,
//! keep running and keep its data when the package is upgraded under it, and the installed
//! `weft-sync`'s ExecStart line must serve as its own system user (under setpriv when systemd
//! is not PID 1: the unit's sandbox itself is then only verified, not run).
//!
//! `make test-package` runs these (it sets `WEFT_PACKAGE_DIR`); `make test` does not: each
//! test is `#[ignore]`d. An install test not asked to install says "skipped:" and why; one
//! asked to install (`WEFT_PACKAGE_INSTALL=1`) that cannot (not root) fails.

use anyhow::Context;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use weft_e2e::panel::Panel;
use weft_e2e::proc::Proc;
use weft_e2e::{wait_for, App};
use weft_proto::{Request, Response, State, Status};

/// Generous, because the machine is shared: these bound a hang, they do not time anything.
const START: Duration = Duration::from_secs(60);
const SOON: Duration = Duration::from_secs(20);

/// The hicolor sizes the desktop package installs (bundle.icon in src-tauri/tauri.conf.json).
const ICON_SIZES: [u32; 6] = [32, 48, 64, 128, 256, 512];

/// The two packages under test.
struct Packages {
    /// `weft_VERSION_ARCH.deb`: weft-app, weft, the menu entry, the icons.
    desktop: PathBuf,
    /// `weft-sync_VERSION_ARCH.deb`: the server and its systemd unit.
    sync: PathBuf,
}

fn packages() -> anyhow::Result<Packages> {
    let dir = std::env::var_os("WEFT_PACKAGE_DIR")
        .map(PathBuf::from)
        .context(
            "WEFT_PACKAGE_DIR is not set: run these tests with `make test-package`, which builds \
         the packages first",
        )?;
    let find = |prefix: &str| -> anyhow::Result<PathBuf> {
        let found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".deb"))
            })
            .collect();
        match found.as_slice() {
            [one] => Ok(one.clone()),
            _ => anyhow::bail!(
                "expected one {prefix}*.deb in {}, found {found:?}",
                dir.display()
            ),
        }
    };
    let packages = Packages {
        desktop: find("weft_")?,
        sync: find("weft-sync_")?,
    };
    // Both carry the workspace's version (Cargo.toml; tauri.conf.json must agree).
    for deb in [&packages.desktop, &packages.sync] {
        let version = control_field(deb, "Version")?;
        anyhow::ensure!(
            version == env!("CARGO_PKG_VERSION"),
            "{} has version {version}, the workspace {}",
            deb.display(),
            env!("CARGO_PKG_VERSION")
        );
    }
    Ok(packages)
}

/// Runs `command`; fails with its standard error unless it succeeds; returns standard output.
fn run(command: &mut Command) -> anyhow::Result<String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {command:?}"))?;
    anyhow::ensure!(
        output.status.success(),
        "{command:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// One line of `dpkg-deb -c`: `-rwxr-xr-x root/root 5102408 2026-12-01 03:48 ./usr/bin/x`
/// (`path` always as `./usr/bin/x`, a folder without its trailing `/`; the root is `./`).
#[derive(Debug)]
struct Member {
    mode: String,
    owner: String,
    path: String,
}

fn contents(deb: &Path) -> anyhow::Result<Vec<Member>> {
    run(Command::new("dpkg-deb").arg("-c").arg(deb))?
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            anyhow::ensure!(fields.len() >= 6, "unexpected dpkg-deb -c line {line:?}");
            // dpkg-deb writes `./usr/...` and `root/root`; the Tauri bundler's tar has
            // `usr/...` and numeric `0/0`. Both are the same to dpkg: make them one.
            let path = fields[5..].join(" ");
            let path = path.trim_start_matches("./").trim_end_matches('/');
            let owner = match fields[1] {
                "0/0" => "root/root",
                other => other,
            };
            Ok(Member {
                mode: fields[0].to_owned(),
                owner: owner.to_owned(),
                path: format!("./{path}"),
            })
        })
        .collect()
}

/// The member at `path` (`./usr/bin/weft`), with `mode` and owned by root.
fn expect_member<'a>(members: &'a [Member], path: &str, mode: &str) -> anyhow::Result<&'a Member> {
    let member = members
        .iter()
        .find(|m| m.path == path)
        .with_context(|| format!("{path} is not in the package: {members:#?}"))?;
    anyhow::ensure!(
        member.mode == mode && member.owner == "root/root",
        "{path} is {} {}, expected {mode} root/root",
        member.mode,
        member.owner
    );
    Ok(member)
}

/// A control field of the package (`dpkg-deb -f`).
fn control_field(deb: &Path, field: &str) -> anyhow::Result<String> {
    Ok(run(Command::new("dpkg-deb").arg("-f").arg(deb).arg(field))?
        .trim()
        .to_owned())
}

/// The Maintainer field names a person or team and an e-mail address (Debian policy 5.6.2).
fn expect_maintainer_with_address(deb: &Path) -> anyhow::Result<()> {
    let maintainer = control_field(deb, "Maintainer")?;
    let address = maintainer
        .split_once(" <")
        .and_then(|(name, rest)| Some((name, rest.strip_suffix('>')?)));
    anyhow::ensure!(
        address.is_some_and(|(name, mail)| !name.trim().is_empty()
            && mail
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())),
        "{}: Maintainer {maintainer:?} is not `Name <address>`",
        deb.display()
    );
    Ok(())
}

/// The package's files, unpacked into a new temporary folder.
fn extract(deb: &Path) -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(dir.path()))?;
    Ok(dir)
}

/// `key=value` lines of a desktop entry or a systemd unit, in order (comments, blank lines
/// and `[Section]` headers left out).
fn key_values(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The app's identifier (`dev.weft.app`) from src-tauri/tauri.conf.json.
fn tauri_identifier() -> anyhow::Result<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src-tauri/tauri.conf.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let config: serde_json::Value = serde_json::from_str(&text)?;
    config["identifier"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no identifier in {}", path.display()))
}

/// Width and height of a PNG, from its IHDR chunk.
fn png_size(path: &Path) -> anyhow::Result<(u32, u32)> {
    let mut head = [0u8; 24];
    std::fs::File::open(path)?.read_exact(&mut head)?;
    anyhow::ensure!(
        &head[..8] == b"\x89PNG\r\n\x1a\n" && &head[12..16] == b"IHDR",
        "{} is not a PNG",
        path.display()
    );
    let word = |at: usize| u32::from_be_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
    Ok((word(16), word(20)))
}

#[test]
// Ignored by `make test`: it needs the release .debs that `make test-package` builds first
// (~17 min from a cold build, too slow for every run); `.ci/run` runs it there.
#[ignore = "run by make test-package"]
fn desktop_package_holds_both_binaries_the_menu_entry_and_the_icons() -> anyhow::Result<()> {
    let packages = packages()?;
    let deb = &packages.desktop;
    let members = contents(deb)?;
    expect_member(&members, "./usr/bin/weft-app", "-rwxr-xr-x")?;
    expect_member(&members, "./usr/bin/weft", "-rwxr-xr-x")?;
    expect_maintainer_with_address(deb)?;
    for member in &members {
        anyhow::ensure!(
            ["-rwxr-xr-x", "-rw-r--r--", "drwxr-xr-x"].contains(&member.mode.as_str())
                && member.owner == "root/root",
            "unexpected mode or owner: {member:?}"
        );
        anyhow::ensure!(
            member.path == "./" || member.path == "./usr" || member.path.starts_with("./usr/"),
            "the desktop package writes only under /usr: {member:?}"
        );
    }
    let entries: Vec<&Member> = members
        .iter()
        .filter(|m| m.path.starts_with("./usr/share/applications/") && m.path.ends_with(".desktop"))
        .collect();
    let [entry] = entries.as_slice() else {
        anyhow::bail!("expected one desktop entry, found {entries:?}");
    };
    anyhow::ensure!(entry.mode == "-rw-r--r--", "{entry:?}");
    // The desktop portal finds the app's entry by the application id the app registers with
    // (the tauri identifier, src-tauri/src/hotkey/portal.rs): the file must carry that name.
    let identifier = tauri_identifier()?;
    assert_eq!(
        entry.path,
        format!("./usr/share/applications/{identifier}.desktop"),
        "the desktop entry is named after the app id"
    );

    let root = extract(deb)?;
    let entry_path = root.path().join(entry.path.trim_start_matches("./"));
    // desktop-file-validate exits non-zero on errors and prints warnings and hints.
    let findings = run(Command::new("desktop-file-validate").arg(&entry_path))?;
    anyhow::ensure!(
        findings.trim().is_empty(),
        "desktop-file-validate: {findings}"
    );
    let text = std::fs::read_to_string(&entry_path)?;
    let fields = key_values(&text);
    assert_eq!(value(&fields, "Type"), Some("Application"), "{text}");
    assert_eq!(value(&fields, "Name"), Some("Weft"), "{text}");
    assert_eq!(value(&fields, "Categories"), Some("Utility;"), "{text}");
    assert!(
        value(&fields, "Comment").is_some_and(|c| !c.is_empty()),
        "{text}"
    );
    // Exec names a binary the package puts on PATH; Icon names the hicolor icon it installs.
    let exec = value(&fields, "Exec").context("no Exec")?;
    assert_eq!(exec, "weft-app", "{text}");
    // GTK's program name (X11 WM_CLASS, Wayland app_id) is the binary's name.
    assert_eq!(value(&fields, "StartupWMClass"), Some("weft-app"), "{text}");
    let icon = value(&fields, "Icon").context("no Icon")?;
    for size in ICON_SIZES {
        let path = format!("./usr/share/icons/hicolor/{size}x{size}/apps/{icon}.png");
        expect_member(&members, &path, "-rw-r--r--")?;
        let file = root.path().join(path.trim_start_matches("./"));
        assert_eq!(png_size(&file)?, (size, size), "{}", file.display());
    }
    // The packaged CLI is the real one, and runs from the package's files.
    let help = run(Command::new(root.path().join("usr/bin/weft")).arg("--help"))?;
    assert!(
        help.contains("Switch between focus and coordination"),
        "{help}"
    );
    Ok(())
}

#[test]
// Ignored by `make test`: it needs the release .debs that `make test-package` builds first
// (~17 min from a cold build, too slow for every run); `.ci/run` runs it there.
#[ignore = "run by make test-package"]
fn desktop_package_depends_name_the_gui_libraries_and_each_is_installable() -> anyhow::Result<()> {
    let packages = packages()?;
    let depends = control_field(&packages.desktop, "Depends")?;
    // `a (>= 1), b | c`: the first alternative of each group, without its version.
    let names: Vec<String> = depends
        .split(',')
        .filter_map(|group| group.split('|').next())
        .map(|alt| alt.split('(').next().unwrap_or(alt).trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect();
    for library in [
        "libwebkit2gtk-4.1-",
        "libgtk-3-",
        "libayatana-appindicator3-",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(library)),
            "Depends ({depends}) names no {library}* package"
        );
    }
    let system = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let pretty = key_values(&system)
        .into_iter()
        .find(|(k, _)| k == "PRETTY_NAME")
        .map(|(_, v)| v.trim_matches('"').to_owned())
        .unwrap_or_else(|| "an unknown system".into());
    for name in &names {
        let policy = run(Command::new("apt-cache").args(["policy", name]))?;
        let candidate = policy
            .lines()
            .find_map(|l| l.trim().strip_prefix("Candidate:"))
            .map(str::trim);
        assert!(
            candidate.is_some_and(|c| c != "(none)"),
            "{name} has no installation candidate on {pretty} (has `apt-get update` run?):\n{policy}"
        );
    }
    // All of them together, as apt would resolve the package's own install.
    run(Command::new("apt-get")
        .args(["install", "--simulate", "--no-install-recommends"])
        .args(&names))?;
    eprintln!("Depends: {depends}\nall installable on {pretty}");
    Ok(())
}

#[test]
// Ignored by `make test`: it needs the release .debs that `make test-package` builds first
// (~17 min from a cold build, too slow for every run); `.ci/run` runs it there.
#[ignore = "run by make test-package"]
fn sync_package_holds_the_server_a_hardened_unit_its_user_and_the_default_config(
) -> anyhow::Result<()> {
    let packages = packages()?;
    let deb = &packages.sync;
    let members = contents(deb)?;
    expect_member(&members, "./usr/bin/weft-sync", "-rwxr-xr-x")?;
    expect_member(
        &members,
        "./usr/lib/systemd/system/weft-sync.service",
        "-rw-r--r--",
    )?;
    expect_member(
        &members,
        "./usr/lib/sysusers.d/weft-sync.conf",
        "-rw-r--r--",
    )?;
    expect_member(&members, "./etc/default/weft-sync", "-rw-r--r--")?;
    let conffiles = run(Command::new("dpkg-deb").arg("-I").arg(deb).arg("conffiles"))?;
    assert_eq!(conffiles.trim(), "/etc/default/weft-sync");
    let depends = control_field(deb, "Depends")?;
    assert!(depends.contains("libc6"), "Depends: {depends}");
    expect_maintainer_with_address(deb)?;
    // md5sums lists every file the package installs but the conffile, with its sum.
    let sums = run(Command::new("dpkg-deb").arg("-I").arg(deb).arg("md5sums"))?;
    let files: Vec<&str> = members
        .iter()
        .filter(|m| m.mode.starts_with('-') && m.path != "./etc/default/weft-sync")
        .map(|m| m.path.trim_start_matches("./"))
        .collect();
    let mut summed: Vec<&str> = sums
        .lines()
        .filter_map(|l| l.split_once("  ").map(|(_, path)| path))
        .collect();
    summed.sort_unstable();
    let mut expected = files.clone();
    expected.sort_unstable();
    assert_eq!(summed, expected, "md5sums:\n{sums}");

    let root = extract(deb)?;
    let default = std::fs::read_to_string(root.path().join("etc/default/weft-sync"))?;
    assert!(
        default
            .lines()
            .any(|l| l.starts_with("WEFT_SYNC_ARGS=") && l.contains("--listen 127.0.0.1:7070")),
        "{default}"
    );
    let sysusers = std::fs::read_to_string(root.path().join("usr/lib/sysusers.d/weft-sync.conf"))?;
    assert!(
        sysusers
            .lines()
            .any(|l| l.starts_with("u weft-sync ") && l.contains("/var/lib/weft-sync")),
        "{sysusers}"
    );

    let unit_path = root.path().join("usr/lib/systemd/system/weft-sync.service");
    let unit = key_values(&std::fs::read_to_string(&unit_path)?);
    for (key, expected) in [
        ("User", "weft-sync"),
        ("Group", "weft-sync"),
        ("StateDirectory", "weft-sync"),
        ("EnvironmentFile", "-/etc/default/weft-sync"),
        ("CapabilityBoundingSet", ""),
        ("AmbientCapabilities", ""),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("SystemCallFilter", "@system-service"),
    ] {
        assert_eq!(value(&unit, key), Some(expected), "{key}= in {unit:?}");
    }
    // --root: the unit and the binary it starts as the package lays them out, beside this
    // system's own units (the targets the unit's default dependencies name).
    let system_units = root.path().join("usr/lib/systemd/system");
    for entry in std::fs::read_dir("/usr/lib/systemd/system")?.flatten() {
        let to = system_units.join(entry.file_name());
        if !to.exists() && entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to)?;
        }
    }
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(format!("--root={}", root.path().display()))
        .arg("/usr/lib/systemd/system/weft-sync.service")
        .stdin(Stdio::null())
        .output()?;
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(
        verify.status.success() && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );
    let exposure = exposure(&unit_path)?;
    eprintln!("systemd-analyze security: exposure {exposure} (0 safest, 10 unsafe)");
    assert!(exposure <= 2.0, "exposure {exposure} is above 2.0");
    Ok(())
}

/// The overall exposure `systemd-analyze security` gives the unit file (offline: no systemd
/// needs to run).
fn exposure(unit: &Path) -> anyhow::Result<f64> {
    let output = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(unit)
        .stdin(Stdio::null())
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|l| l.split_once("Overall exposure level for"))
        .and_then(|(_, rest)| rest.split_once(':'))
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .with_context(|| {
            format!(
                "no exposure level in systemd-analyze security's output:\n{text}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}

/// Whether the install tests may install onto this machine: only when asked to
/// (`WEFT_PACKAGE_INSTALL=1`, which `make test-package PACKAGE_INSTALL=1` sets); otherwise the
/// test says it was skipped. Asked to but not root: an error, not a skip, so a run that was
/// meant to install cannot pass without installing.
fn may_install(test: &str) -> anyhow::Result<bool> {
    match std::env::var("WEFT_PACKAGE_INSTALL").as_deref() {
        Ok("1") => {}
        Ok("0") | Err(std::env::VarError::NotPresent) => {
            eprintln!(
                "skipped: {test} installs the packages onto this machine; run it with \
                 `make test-package PACKAGE_INSTALL=1` as root on a throwaway machine (.ci/run \
                 does)"
            );
            return Ok(false);
        }
        Ok(other) => anyhow::bail!("WEFT_PACKAGE_INSTALL is {other:?}: set it to 1 or 0"),
        Err(e) => anyhow::bail!("WEFT_PACKAGE_INSTALL: {e}"),
    }
    // /proc/self belongs to the process's effective user.
    let euid = std::fs::metadata("/proc/self")?.uid();
    anyhow::ensure!(
        euid == 0,
        "{test} was asked to install the packages (WEFT_PACKAGE_INSTALL=1) but runs as uid \
         {euid}: apt-get install needs root"
    );
    Ok(true)
}

/// A package this test installed: purged again on drop, unless it was installed before the
/// test (then it is left as the test left it, and said so).
struct Installed {
    name: String,
    was_installed: bool,
}

fn is_installed(name: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", name])
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

/// `apt-get install ./PACKAGE.deb`, as the README tells a user to.
fn apt_install(deb: &Path) -> anyhow::Result<()> {
    let local = if deb.is_absolute() {
        deb.to_owned()
    } else {
        std::env::current_dir()?.join(deb)
    };
    run(Command::new("apt-get")
        .args([
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "--reinstall",
            "--allow-downgrades",
        ])
        .arg(&local)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    Ok(())
}

fn install(deb: &Path) -> anyhow::Result<Installed> {
    let name = control_field(deb, "Package")?;
    let was_installed = is_installed(&name);
    apt_install(deb)?;
    anyhow::ensure!(
        is_installed(&name),
        "{name} is not installed after apt-get install"
    );
    Ok(Installed {
        name,
        was_installed,
    })
}

impl Drop for Installed {
    fn drop(&mut self) {
        if self.was_installed {
            eprintln!(
                "{} was installed before this test: left installed",
                self.name
            );
            return;
        }
        let purged = Command::new("apt-get")
            .args(["purge", "-y", "-q", &self.name])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .output();
        if !purged.is_ok_and(|o| o.status.success()) {
            eprintln!("could not purge {}", self.name);
        }
    }
}

fn status(app: &App) -> anyhow::Result<Status> {
    match app.call(&Request::Status)? {
        Response::Status(status) => Ok(status),
        other => anyhow::bail!("unexpected answer {other:?}"),
    }
}

/// The installed CLI on `panel`'s desktop; fails unless it succeeds.
fn installed_weft(panel: &Panel, args: &[&str]) -> anyhow::Result<String> {
    run(panel.desktop.command("/usr/bin/weft").args(args))
}

/// Where `pid`'s program was loaded from (`/usr/bin/weft-app`, with ` (deleted)` once the
/// file was replaced).
fn exe(pid: u32) -> String {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

#[test]
// Ignored by `make test`: it needs the release .debs that `make test-package` builds first
// (~17 min from a cold build, too slow for every run); `.ci/run` runs it there.
#[ignore = "run by make test-package"]
fn installed_weft_app_comes_up_in_the_tray_and_weft_status_answers() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    if !may_install("installed_weft_app_comes_up_in_the_tray_and_weft_status_answers")? {
        return Ok(());
    }
    let packages = packages()?;
    let _installed = install(&packages.desktop)?;
    let listed = run(Command::new("dpkg").args(["-L", "weft"]))?;
    for path in ["/usr/bin/weft-app", "/usr/bin/weft"] {
        assert!(listed.lines().any(|l| l == path), "{path} in {listed}");
    }

    // Nothing but the installed files: the app from /usr/bin, on a desktop with a panel.
    let panel = Panel::start()?;
    let app = App::start_with(&panel.desktop, Path::new("/usr/bin/weft-app"), &[], &[])?;
    assert_eq!(exe(app.pid()), "/usr/bin/weft-app");
    let tray = panel.tray(&app)?;
    wait_for("the tray menu", START, || tray.find("Switch to Focus").ok())
        .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", app.log()))?;
    app.wait_until_serving(START)?;
    let said = installed_weft(&panel, &["status"])?;
    assert!(said.contains("Coordination"), "weft status: {said}");

    installed_weft(&panel, &["focus", "packaged"])?;
    wait_for("the state to become focus", SOON, || {
        status(&app).ok().filter(|s| s.state == State::Focus)
    })?;
    let said = installed_weft(&panel, &["status"])?;
    assert!(said.contains("Focus"), "weft status: {said}");
    Ok(())
}

/// The desktop package again, with `suffix` added to its version: a newer package to upgrade to.
fn newer_package(deb: &Path, suffix: &str, dir: &Path) -> anyhow::Result<PathBuf> {
    let tree = dir.join("tree");
    run(Command::new("dpkg-deb").arg("-R").arg(deb).arg(&tree))?;
    let control_path = tree.join("DEBIAN/control");
    let control = std::fs::read_to_string(&control_path)?;
    let version = control
        .lines()
        .find_map(|l| l.strip_prefix("Version: "))
        .context("no Version in the control file")?
        .to_owned();
    std::fs::write(
        &control_path,
        control.replace(
            &format!("Version: {version}\n"),
            &format!("Version: {version}{suffix}\n"),
        ),
    )?;
    let newer = dir.join(format!("weft_{version}{suffix}.deb"));
    run(Command::new("dpkg-deb")
        .args(["--root-owner-group", "--build"])
        .arg(&tree)
        .arg(&newer))?;
    Ok(newer)
}

/// The id of a viewable X11 window of process `pid` on `panel`'s display (`_NET_WM_PID`).
fn mapped_window_of(panel: &Panel, pid: u32) -> Option<String> {
    let found = run(panel.desktop.command("xdotool").args([
        "search",
        "--onlyvisible",
        "--pid",
        &pid.to_string(),
    ]))
    .ok()?;
    found.lines().next().map(|l| l.trim().to_owned())
}

#[test]
// Ignored by `make test`: it needs the release .debs that `make test-package` builds first
// (~17 min from a cold build, too slow for every run); `.ci/run` runs it there.
#[ignore = "run by make test-package"]
fn upgrading_the_package_under_a_running_weft_keeps_it_running_and_its_data() -> anyhow::Result<()>
{
    let _serial = weft_e2e::serial();
    if !may_install("upgrading_the_package_under_a_running_weft_keeps_it_running_and_its_data")? {
        return Ok(());
    }
    let packages = packages()?;
    let _installed = install(&packages.desktop)?;
    let work = tempfile::tempdir()?;
    let newer = newer_package(&packages.desktop, "+upgrade1", work.path())?;

    let panel = Panel::start()?;
    let mut app = App::start_with(&panel.desktop, Path::new("/usr/bin/weft-app"), &[], &[])?;
    let tray = panel.tray(&app)?;
    app.wait_until_serving(START)?;
    installed_weft(&panel, &["focus", "before the upgrade"])?;
    let before = wait_for("the state to become focus", SOON, || {
        status(&app).ok().filter(|s| s.state == State::Focus)
    })?;

    // dpkg unpacks each file beside the old one and renames it over: the running app keeps
    // the program it was started from, and its data is in the user's folders, not the package.
    apt_install(&newer)?;
    let version = run(Command::new("dpkg-query").args(["-W", "-f=${Version}", "weft"]))?;
    assert!(
        version.ends_with("+upgrade1"),
        "installed version {version}"
    );
    assert!(
        app.exited().is_none(),
        "the app ended during the upgrade:\n{}",
        app.log()
    );
    let image = exe(app.pid());
    eprintln!("after the upgrade the running app runs {image}");
    assert!(
        image.ends_with("(deleted)"),
        "the app still runs the replaced file: {image}"
    );
    // It still serves the new CLI, its tray, and the same state.
    let during = status(&app)?;
    assert_eq!(
        (during.state, &during.since, &during.intent),
        (before.state, &before.since, &before.intent)
    );
    let said = installed_weft(&panel, &["status"])?;
    assert!(said.contains("Focus"), "weft status: {said}");
    tray.find("Switch to Coordination")?;
    // The window is a process of its own, started on demand: it comes from the running image
    // (the same version as the tray process it talks to), not from the new file.
    installed_weft(&panel, &["open"])?;
    let window_pid = wait_for(
        "the window process, from the running version",
        START,
        || {
            app.process_tree()
                .into_iter()
                .find(|pid| *pid != app.pid() && exe(*pid) == image)
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", app.log()))?;
    // Started from /proc/self/exe, it still goes by weft-app: its process name, its argv[0],
    // and GTK's program name, which is the X11 WM_CLASS the menu entry's StartupWMClass names.
    // (It renames itself first thing after it starts: wait for that, not for a fixed moment.)
    wait_for("the window process to be named weft-app", SOON, || {
        (weft_e2e::app::process_name(window_pid) == "weft-app").then_some(())
    })
    .map_err(|e| anyhow::anyhow!("{e}: it is {:?}", weft_e2e::app::process_name(window_pid)))?;
    let cmdline = std::fs::read(format!("/proc/{window_pid}/cmdline"))?;
    let arg0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    assert_eq!(
        String::from_utf8_lossy(arg0),
        "/usr/bin/weft-app",
        "the window process's argv[0]"
    );
    let window = wait_for("the window to be mapped", START, || {
        mapped_window_of(&panel, window_pid)
    })
    .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", app.log()))?;
    let class = run(panel
        .desktop
        .command("xprop")
        .args(["-id", &window, "WM_CLASS"]))?;
    assert!(class.contains("\"weft-app\""), "WM_CLASS: {class}");
    // The page has drawn: a shot of the window holds more than a blank surface's few colours.
    let shot = weft_e2e::artifacts_dir().join("window-after-upgrade.png");
    let colours = wait_for("the window to draw its page", START, || {
        run(panel
            .desktop
            .command("import")
            .args(["-window", &window])
            .arg(&shot))
        .ok()?;
        let colours = run(Command::new("convert")
            .arg(&shot)
            .args(["-format", "%k", "info:"]))
        .ok()?;
        colours.trim().parse::<u32>().ok().filter(|n| *n > 16)
    })?;
    eprintln!(
        "the window after the upgrade: {} ({colours} colours)",
        shot.display()
    );

    // The upgraded app, started as the next login would, finds everything where it was.
    let stopped = app.stop();
    assert!(
        stopped.is_some_and(|s| s.success()),
        "{stopped:?}\n{}",
        app.log()
    );
    let app = App::start_with(&panel.desktop, Path::new("/usr/bin/weft-app"), &[], &[])?;
    app.wait_until_serving(START)?;
    assert_eq!(exe(app.pid()), "/usr/bin/weft-app");
    let after = status(&app)?;
    assert_eq!(
        (after.state, &after.since, &after.intent),
        (before.state, &before.since, &before.intent),
        "the state and its start survive the upgrade and the restart"
    );
    let switches =
        weft_core::store::Store::open_read_only(&panel.desktop.database())?.switches(None)?;
    assert_eq!(switches.len(), 1, "{switches:?}");
    Ok(())
}

/// `getent passwd NAME`: (uid, gid, home, shell).
fn passwd(name: &str) -> anyhow::Result<(u32, u32, String, String)> {
    let line = run(Command::new("getent").args(["passwd", name]))?;
    let fields: Vec<&str> = line.trim().split(':').collect();
    anyhow::ensure!(fields.len() == 7, "unexpected passwd line {line:?}");
    Ok((
        fields[2].parse()?,
        fields[3].parse()?,
        fields[5].to_owned(),
        fields[6].to_owned(),
    ))
}

/// The unit's ExecStart with `$WEFT_SYNC_ARGS` from its EnvironmentFile expanded, as systemd
/// splits it (on white space: the line has no quotes).
fn exec_start(unit: &[(String, String)], environment: &str) -> anyhow::Result<Vec<String>> {
    let line = value(unit, "ExecStart").context("no ExecStart")?;
    let args = key_values(environment)
        .into_iter()
        .find(|(k, _)| k == "WEFT_SYNC_ARGS")
        .map(|(_, v)| v.trim_matches('"').to_owned())
        .context("no WEFT_SYNC_ARGS in /etc/default/weft-sync")?;
    Ok(line
        .split_whitespace()
        .flat_map(|word| {
            if word == "$WEFT_SYNC_ARGS" {
                args.split_whitespace().map(str::to_owned).collect()
            } else {
                vec![word.to_owned()]
            }
        })
        .collect())
}

/// What this checks: installing makes the system user weft-sync; the installed unit passes
/// `systemd-analyze verify`; its ExecStart line, with /etc/default/weft-sync's arguments,
/// serves `/v1/health` when run as that user (setpriv: no capabilities, no new privileges)
/// and writes its database in /var/lib/weft-sync (which the package made) as that user.
/// What it does not check without systemd as PID 1 (a container, as in CI): the unit's
/// sandbox (ProtectSystem=, SystemCallFilter=, ... are not applied by setpriv) and
/// StateDirectory=; those are checked only by `systemd-analyze verify` and `security`, and the
/// test says which way it ran. With systemd as PID 1 it checks the started service instead.
#[test]
// Ignored by `make test`: it needs the release .debs that `make test-package` builds first
// (~17 min from a cold build, too slow for every run); `.ci/run` runs it there.
#[ignore = "run by make test-package"]
fn installed_weft_sync_makes_its_user_and_its_exec_start_line_serves_as_that_user(
) -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    if !may_install(
        "installed_weft_sync_makes_its_user_and_its_exec_start_line_serves_as_that_user",
    )? {
        return Ok(());
    }
    let packages = packages()?;
    let _installed = install(&packages.sync)?;
    let (uid, gid, home, shell) = passwd("weft-sync")?;
    assert!(
        uid > 0 && uid < 1000,
        "weft-sync is a system user (uid {uid})"
    );
    assert_eq!(
        (home.as_str(), shell.as_str()),
        ("/var/lib/weft-sync", "/usr/sbin/nologin")
    );

    let unit_path = "/usr/lib/systemd/system/weft-sync.service";
    let verify = Command::new("systemd-analyze")
        .args(["verify", unit_path])
        .stdin(Stdio::null())
        .output()?;
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(
        verify.status.success() && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );
    let unit = key_values(&std::fs::read_to_string(unit_path)?);
    let environment = std::fs::read_to_string("/etc/default/weft-sync")?;
    let mut argv = exec_start(&unit, &environment)?;
    assert!(
        argv.windows(2).any(|w| w == ["--listen", "127.0.0.1:7070"]),
        "{argv:?}"
    );

    if Path::new("/run/systemd/system").exists() {
        // systemd is PID 1: the package's postinst has started the service itself.
        wait_for("weft-sync.service to be active", START, || {
            run(Command::new("systemctl").args(["is-active", "weft-sync.service"])).ok()
        })?;
        let health: serde_json::Value = ureq::get("http://127.0.0.1:7070/v1/health")
            .call()?
            .into_json()?;
        assert_eq!(health["status"], "ok", "{health}");
        return Ok(());
    }
    let init = std::fs::read_to_string("/proc/1/comm").unwrap_or_default();
    eprintln!(
        "systemd is not PID 1 here (PID 1 is {}): running the unit's ExecStart as its User, \
         under setpriv; the unit's sandbox is NOT exercised",
        init.trim()
    );
    // A free port instead of 7070, so the test does not depend on what else runs here.
    let listen = argv
        .iter()
        .position(|a| a == "--listen")
        .map(|at| at + 1)
        .filter(|at| *at < argv.len())
        .context("no --listen value in ExecStart")?;
    argv[listen] = "127.0.0.1:0".into();
    // The package's postinst made the state folder (systemd's StateDirectory= is not there to).
    let state = Path::new("/var/lib/weft-sync");
    let made = std::fs::metadata(state).context("the package did not make /var/lib/weft-sync")?;
    assert_eq!(
        (made.is_dir(), made.uid(), made.gid(), made.mode() & 0o7777),
        (true, uid, gid, 0o700),
        "/var/lib/weft-sync: a folder of weft-sync's, mode 0700"
    );

    let logs = tempfile::tempdir()?;
    let out = logs.path().join("out");
    let err = logs.path().join("err");
    let (program, rest) = argv.split_first().context("empty ExecStart")?;
    let _server = Proc::spawn(
        "weft-sync",
        Command::new("setpriv")
            .args([
                "--reuid=weft-sync",
                "--regid=weft-sync",
                "--clear-groups",
                "--no-new-privs",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--",
            ])
            .arg(program)
            .args(rest)
            .current_dir("/")
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out)?)
            .stderr(std::fs::File::create(&err)?),
    )?;
    let url = wait_for("weft-sync to listen", START, || {
        std::fs::read_to_string(&out)
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("weft-sync listening on "))
            .map(str::to_owned)
    })
    .map_err(|e| {
        anyhow::anyhow!(
            "{e}\n--- weft-sync's log ---\n{}",
            std::fs::read_to_string(&err).unwrap_or_default()
        )
    })?;
    let health: serde_json::Value = ureq::get(&format!("{url}/v1/health")).call()?.into_json()?;
    assert_eq!(health["status"], "ok", "{health}");
    let version = control_field(&packages.sync, "Version")?;
    assert_eq!(health["version"], version.as_str(), "{health}");
    let db = std::fs::metadata(state.join("weft-sync.db"))?;
    assert_eq!(db.uid(), uid, "the database belongs to weft-sync");
    Ok(())
}
