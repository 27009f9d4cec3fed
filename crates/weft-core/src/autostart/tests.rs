//! Start at login on temporary XDG_CONFIG_HOME folders: the entry's text and mode, off
//! removing only Weft's own file, a foreign file left alone, and an unwritable folder.

use super::*;
use crate::testing::names;
use std::os::unix::fs::PermissionsExt;

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// A home of its own: `config/` as XDG_CONFIG_HOME, and a fake `weft-app` in `bin/`.
struct Home {
    dir: tempfile::TempDir,
    paths: Paths,
    app: PathBuf,
}

impl Home {
    fn new() -> std::result::Result<Home, Box<dyn std::error::Error>> {
        Home::with_bin("bin")
    }

    fn with_bin(bin: &str) -> std::result::Result<Home, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("config");
        let paths = Paths::resolve(|name| match name {
            "XDG_CONFIG_HOME" => Some(config.clone()),
            "HOME" => Some(dir.path().to_path_buf()),
            _ => None,
        })?;
        let app = dir.path().join(bin).join("weft-app");
        std::fs::create_dir_all(dir.path().join(bin))?;
        std::fs::write(&app, "#!/bin/sh\n")?;
        Ok(Home { dir, paths, app })
    }

    /// Candidates as the CLI at `bin/weft` makes them (no package installed here, unless
    /// this machine has one: then that comes first, as it should).
    fn candidates(&self) -> Vec<PathBuf> {
        vec![self.dir.path().join("nowhere/weft-app"), self.app.clone()]
    }

    fn autostart_dir(&self) -> PathBuf {
        self.dir.path().join("config/autostart")
    }
}

#[test]
fn folders_it_makes_are_private() -> TestResult {
    let home = Home::new()?;
    let config = home.dir.path().join("config");
    assert!(!config.exists());
    enable(&home.paths, &home.candidates())?;
    for dir in [&config, &home.autostart_dir()] {
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", dir.display());
    }
    // The entry itself is for the desktop to read.
    let mode = std::fs::metadata(home.paths.autostart_file())?
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o644);
    Ok(())
}

#[test]
fn the_file_sits_in_the_autostart_folder_of_xdg_config_home() -> TestResult {
    let home = Home::new()?;
    assert_eq!(
        home.paths.autostart_file(),
        home.dir.path().join("config/autostart/weft.desktop")
    );
    let default = Paths::resolve(|name| (name == "HOME").then(|| PathBuf::from("/home/ana")))?;
    assert_eq!(
        default.autostart_file(),
        PathBuf::from("/home/ana/.config/autostart/weft.desktop")
    );
    Ok(())
}

#[test]
fn on_writes_a_desktop_entry_that_starts_the_app() -> TestResult {
    let home = Home::new()?;
    let status = enable(&home.paths, &home.candidates())?;
    let file = home.paths.autostart_file();
    let text = std::fs::read_to_string(&file)?;
    let exec = format!("Exec=\"{}\"\n", home.app.display());
    assert_eq!(
        text,
        format!(
            "[Desktop Entry]\nType=Application\nVersion=1.4\nName=Weft\n\
             Comment=Switch between focus and coordination\n{exec}Icon=weft-app\n\
             Terminal=false\nX-GNOME-Autostart-enabled=true\nX-Weft-Autostart=true\n"
        )
    );
    let mode = std::fs::metadata(&file)?.permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    assert_eq!(names(&home.autostart_dir())?, ["weft.desktop"]);
    assert_eq!(
        status,
        Autostart {
            on: true,
            file: file.display().to_string(),
            binary: Some(home.app.display().to_string()),
            foreign: false,
        }
    );
    // On again rewrites the same file.
    assert_eq!(enable(&home.paths, &home.candidates())?, status);
    assert_eq!(names(&home.autostart_dir())?, ["weft.desktop"]);
    Ok(())
}

#[test]
fn a_path_with_spaces_and_specials_is_quoted_and_read_back() -> TestResult {
    let home = Home::with_bin("my apps/100% \"weft\" $HOME `x` back\\slash")?;
    enable(&home.paths, &home.candidates())?;
    let text = std::fs::read_to_string(home.paths.autostart_file())?;
    let exec = text.lines().find(|l| l.starts_with("Exec=")).unwrap_or("");
    let dir = home.dir.path().display();
    assert_eq!(
        exec,
        format!(r#"Exec="{dir}/my apps/100%% \\"weft\\" \\$HOME \\`x\\` back\\\\slash/weft-app""#)
    );
    let status = status(&home.paths, &home.candidates())?;
    assert_eq!(status.binary, Some(home.app.display().to_string()));
    Ok(())
}

#[test]
fn a_path_a_desktop_entry_cannot_hold_is_refused() {
    let refused = desktop_entry(Path::new("/opt/weft\nrm -rf/weft-app"));
    assert!(matches!(refused, Err(Error::Invalid(_))), "{refused:?}");
    let relative = desktop_entry(Path::new("target/debug/weft-app"));
    assert!(matches!(relative, Err(Error::Invalid(_))), "{relative:?}");
}

#[test]
fn off_removes_weft_s_own_file_and_nothing_else() -> TestResult {
    let home = Home::new()?;
    enable(&home.paths, &home.candidates())?;
    let neighbour = home.autostart_dir().join("other.desktop");
    std::fs::write(
        &neighbour,
        "[Desktop Entry]\nType=Application\nName=Other\nExec=other\n",
    )?;
    let off = disable(&home.paths, &home.candidates())?;
    assert!(!off.on && !off.foreign, "{off:?}");
    assert_eq!(off.binary, Some(home.app.display().to_string()));
    assert_eq!(names(&home.autostart_dir())?, ["other.desktop"]);
    // Off when already off is fine and changes nothing.
    assert_eq!(disable(&home.paths, &home.candidates())?, off);
    assert_eq!(names(&home.autostart_dir())?, ["other.desktop"]);
    Ok(())
}

#[test]
fn a_foreign_weft_desktop_is_reported_and_left_alone() -> TestResult {
    let home = Home::new()?;
    std::fs::create_dir_all(home.autostart_dir())?;
    let file = home.paths.autostart_file();
    // Someone's own entry: the same name, no marker (or a marker that is not "true").
    let theirs = "[Desktop Entry]\nType=Application\nName=My Weft\nExec=/opt/weft/run --flag\n\
                  [Other Group]\nX-Weft-Autostart=true\n";
    std::fs::write(&file, theirs)?;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
    let seen = status(&home.paths, &home.candidates())?;
    assert!(seen.foreign && !seen.on, "{seen:?}");
    let on = enable(&home.paths, &home.candidates());
    assert!(matches!(on, Err(Error::AutostartForeign { .. })), "{on:?}");
    let off = disable(&home.paths, &home.candidates());
    assert!(
        matches!(off, Err(Error::AutostartForeign { .. })),
        "{off:?}"
    );
    let message = off.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("not written by Weft"), "{message}");
    assert_eq!(std::fs::read_to_string(&file)?, theirs);
    assert_eq!(
        std::fs::metadata(&file)?.permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(names(&home.autostart_dir())?, ["weft.desktop"]);
    Ok(())
}

#[test]
fn no_binary_to_start_is_a_clear_error_and_writes_nothing() -> TestResult {
    let home = Home::new()?;
    let nothing = [home.dir.path().join("nowhere/weft-app")];
    let on = enable(&home.paths, &nothing);
    assert!(matches!(on, Err(Error::NoAppBinary { .. })), "{on:?}");
    assert!(!home.autostart_dir().exists());
    let status = status(&home.paths, &nothing)?;
    assert_eq!((status.on, status.binary), (false, None));
    Ok(())
}

#[test]
fn an_unwritable_folder_is_a_clear_error_and_writes_nothing() -> TestResult {
    let home = Home::new()?;
    let Some(read_only) = ReadOnly::make(&home.autostart_dir())? else {
        return Ok(());
    };
    let on = enable(&home.paths, &home.candidates());
    assert!(
        matches!(on, Err(Error::AutostartUnwritable { .. })),
        "{on:?}"
    );
    let message = on.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("not writable"), "{message}");
    drop(read_only);
    assert_eq!(names(&home.autostart_dir())?, Vec::<String>::new());
    Ok(())
}

/// A folder this process cannot write to: mode 0555 for a user, a read-only tmpfs for root
/// (who ignores modes).
struct ReadOnly {
    dir: PathBuf,
    mounted: bool,
}

impl ReadOnly {
    /// `None` (said on standard error) for root where no tmpfs can be mounted (a container
    /// without CAP_SYS_ADMIN): the e2e test `an_unwritable_folder_is_a_clear_error` covers the
    /// case there, as the unprivileged user `nobody`.
    fn make(dir: &Path) -> std::result::Result<Option<ReadOnly>, Box<dyn std::error::Error>> {
        std::fs::create_dir_all(dir)?;
        if rustix::process::geteuid().as_raw() != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555))?;
            return Ok(Some(ReadOnly {
                dir: dir.to_path_buf(),
                mounted: false,
            }));
        }
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "ro,size=64k", "weft-test-ro"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"skipped: root cannot mount a read-only tmpfs here; the e2e test covers an unwritable folder\n",
            );
            return Ok(None);
        }
        Ok(Some(ReadOnly {
            dir: dir.to_path_buf(),
            mounted: true,
        }))
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        if self.mounted {
            let _ = std::process::Command::new("umount").arg(&self.dir).status();
        } else {
            let _ = std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o755));
        }
    }
}

#[test]
fn candidates_prefer_a_checkouts_build_and_otherwise_the_installed_app() {
    let cli = cli_candidates(Some(Path::new("/src/weft/target/debug/weft")));
    assert_eq!(
        cli,
        [
            PathBuf::from("/src/weft/target/debug/weft-app"),
            PathBuf::from("/usr/bin/weft-app")
        ]
    );
    let app = app_candidates(Some(Path::new("/src/weft/target/release/weft-app")));
    assert_eq!(
        app,
        [
            PathBuf::from("/src/weft/target/release/weft-app"),
            PathBuf::from("/usr/bin/weft-app")
        ]
    );
    // Installed: the installed app first (the same file for the app itself).
    assert_eq!(
        cli_candidates(Some(Path::new("/usr/bin/weft")))[0],
        PathBuf::from("/usr/bin/weft-app")
    );
    assert_eq!(
        app_candidates(Some(Path::new("/usr/local/bin/weft-app")))[0],
        PathBuf::from("/usr/bin/weft-app")
    );
    // A running app rebuilt under it: /proc/self/exe says "(deleted)"; the new file is there.
    assert_eq!(
        app_candidates(Some(Path::new("/src/weft/target/debug/weft-app (deleted)"))),
        [
            PathBuf::from("/src/weft/target/debug/weft-app"),
            PathBuf::from("/usr/bin/weft-app")
        ]
    );
    assert_eq!(app_candidates(None), [PathBuf::from("/usr/bin/weft-app")]);
    // A relative candidate is never started from a desktop entry.
    assert_eq!(find_binary(&[PathBuf::from("weft-app")]), None);
}
