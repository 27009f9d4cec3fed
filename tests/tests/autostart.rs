//! `weft autostart on|off|status` and the app's `autostart` request, on a private desktop's
//! XDG_CONFIG_HOME: the entry passes `desktop-file-validate` and starts the right binary,
//! mode 0644; off removes only Weft's own file; a foreign `weft.desktop` is reported and
//! left alone; an unwritable folder is a clear error (as an unprivileged user).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use weft_e2e::{App, Desktop};
use weft_proto::{Autostart, Request, Response};

const START: Duration = Duration::from_secs(60);

/// The binary an entry should start here: the installed app where a package put one, else
/// the one built beside `weft`.
/// The tests run a checkout's build: the entry starts that build, installed app or not.
fn expected_binary() -> PathBuf {
    weft_e2e::bin_dir().join("weft-app")
}

fn entry(desktop: &Desktop) -> PathBuf {
    desktop.dir().join("config/autostart/weft.desktop")
}

fn status(desktop: &Desktop) -> anyhow::Result<Autostart> {
    let json = desktop.weft_ok(&["autostart", "status", "--json"])?;
    Ok(serde_json::from_str(json.trim_end())?)
}

#[test]
fn on_off_and_status_from_the_command_line() -> anyhow::Result<()> {
    let desktop = Desktop::start()?;
    let file = entry(&desktop);
    let binary = expected_binary();

    let off = status(&desktop)?;
    assert!(!off.on && !off.foreign, "{off:?}");
    assert_eq!(off.binary, Some(binary.display().to_string()));
    assert_eq!(off.file, file.display().to_string());
    let said = desktop.weft_ok(&["autostart"])?;
    assert!(said.starts_with("Weft does not start at login"), "{said}");

    let said = desktop.weft_ok(&["autostart", "on"])?;
    assert_eq!(
        said,
        format!(
            "Weft starts at login: {} (entry {}).\n",
            binary.display(),
            file.display()
        )
    );
    let text = std::fs::read_to_string(&file)?;
    assert!(
        text.contains(&format!("\nExec=\"{}\"\n", binary.display()))
            && text.contains("\nX-Weft-Autostart=true\n")
            && text.starts_with("[Desktop Entry]\nType=Application\n"),
        "{text}"
    );
    assert_eq!(
        std::fs::metadata(&file)?.permissions().mode() & 0o777,
        0o644
    );
    let valid = std::process::Command::new("desktop-file-validate")
        .arg(&file)
        .output()?;
    assert!(
        valid.status.success() && valid.stdout.is_empty(),
        "desktop-file-validate: {}",
        String::from_utf8_lossy(&valid.stdout)
    );
    let on = status(&desktop)?;
    assert!(on.on && !on.foreign, "{on:?}");
    assert_eq!(on.binary, Some(binary.display().to_string()));

    // Off removes Weft's file, and only it.
    let other = file.with_file_name("other.desktop");
    std::fs::write(
        &other,
        "[Desktop Entry]\nType=Application\nName=Other\nExec=other\n",
    )?;
    let said = desktop.weft_ok(&["autostart", "off"])?;
    assert!(said.starts_with("Weft does not start at login"), "{said}");
    assert!(!file.exists());
    assert!(other.exists());

    // A checkout that moved: the entry names a weft-app that is gone, and status says so.
    if !Path::new("/usr/bin/weft-app").exists() {
        let moved = desktop.dir().join("moved");
        std::fs::create_dir_all(&moved)?;
        std::fs::copy(weft_e2e::bin_dir().join("weft"), moved.join("weft"))?;
        std::fs::write(moved.join("weft-app"), "#!/bin/sh\n")?;
        let on = desktop
            .command(moved.join("weft"))
            .args(["autostart", "on"])
            .output()?;
        assert!(
            on.status.success(),
            "{}",
            String::from_utf8_lossy(&on.stderr)
        );
        std::fs::remove_dir_all(&moved)?;
        let said = desktop.weft_ok(&["autostart", "status"])?;
        assert!(
            said.contains(&format!(
                "starts {}, which is not there any more: run `weft autostart on` again",
                moved.join("weft-app").display()
            )),
            "{said}"
        );
        desktop.weft_ok(&["autostart", "on"])?;
        assert_eq!(status(&desktop)?.binary, Some(binary.display().to_string()));
    }
    Ok(())
}

#[test]
fn a_foreign_entry_is_reported_and_left_alone() -> anyhow::Result<()> {
    let desktop = Desktop::start()?;
    let file = entry(&desktop);
    std::fs::create_dir_all(file.parent().unwrap_or(Path::new("/")))?;
    let theirs =
        "[Desktop Entry]\nType=Application\nName=Weft (mine)\nExec=/opt/weft/weft-app --quiet\n";
    std::fs::write(&file, theirs)?;
    for action in ["on", "off"] {
        let refused = desktop.weft(&["autostart", action])?;
        let err = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(1), "{action}: {err}");
        assert!(
            err.contains(&format!("{} was not written by Weft", file.display())),
            "{action}: {err}"
        );
        assert_eq!(std::fs::read_to_string(&file)?, theirs);
    }
    let seen = status(&desktop)?;
    assert!(seen.foreign && !seen.on, "{seen:?}");
    let said = desktop.weft_ok(&["autostart", "status"])?;
    assert!(said.contains("Weft leaves it alone"), "{said}");
    Ok(())
}

#[test]
fn an_unwritable_folder_is_a_clear_error() -> anyhow::Result<()> {
    let desktop = Desktop::start()?;
    // A config folder the user cannot write to: root's, for the unprivileged `nobody`; or,
    // when the tests run unprivileged already, one made read-only.
    let config = desktop.dir().join("locked-config");
    std::fs::create_dir_all(&config)?;
    let root = euid_is_root();
    let weft = weft_e2e::bin_dir().join("weft");
    let mut command = if root {
        std::fs::set_permissions(desktop.dir(), std::fs::Permissions::from_mode(0o755))?;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o755))?;
        // `nobody` may not reach the build's own folder (a clone in a 0700 temporary folder,
        // a home directory): it runs `weft`, with the `weft-app` it looks for beside it, from
        // the desktop's folder, which it can reach.
        for name in ["weft", "weft-app"] {
            let there = desktop.dir().join(name);
            let here = weft_e2e::bin_dir().join(name);
            if std::fs::hard_link(&here, &there).is_err() {
                std::fs::copy(&here, &there)?;
            }
            std::fs::set_permissions(&there, std::fs::Permissions::from_mode(0o755))?;
        }
        let weft = desktop.dir().join("weft");
        let mut command = std::process::Command::new("runuser");
        command.args(["-u", "nobody", "--", "env", "-i", "PATH=/usr/bin:/bin"]);
        command.arg("HOME=/nonexistent");
        command.arg(format!("XDG_CONFIG_HOME={}", config.display()));
        command.arg(&weft);
        command
    } else {
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o555))?;
        let mut command = desktop.command(&weft);
        command.env("XDG_CONFIG_HOME", &config);
        command
    };
    let output = command
        .args(["autostart", "on"])
        .stdin(Stdio::null())
        .output()?;
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "cannot change start at login: the folder {}/autostart is not writable",
            config.display()
        )),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&config)?.count(), 0, "nothing was made");
    if !root {
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// Whether the tests run as root: `/proc/self` is owned by the effective user.
fn euid_is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[test]
fn the_app_turns_it_on_and_off_for_the_window() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    desktop.write_config("hotkey = \"off\"\n")?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    let file = entry(&desktop);
    let ask = |on| match app.call(&Request::Autostart { on }) {
        Ok(Response::Autostart(shown)) => Ok(shown),
        other => Err(anyhow::anyhow!("unexpected answer {other:?}")),
    };
    let on = ask(Some(true))?;
    assert!(on.on, "{on:?}");
    // The app names the installed app, else its own executable.
    assert_eq!(on.binary, Some(expected_binary().display().to_string()));
    assert!(file.exists());
    assert_eq!(status(&desktop)?, on, "the CLI sees what the app wrote");
    assert_eq!(ask(None)?, on);
    let off = ask(Some(false))?;
    assert!(!off.on && !file.exists(), "{off:?}");
    // A foreign file: the app answers with why, and leaves it.
    std::fs::write(&file, "[Desktop Entry]\nType=Application\nName=X\nExec=x\n")?;
    let refused = app.call(&Request::Autostart { on: Some(true) })?;
    assert!(
        matches!(&refused, Response::Error(e) if e.message.contains("not written by Weft")),
        "{refused:?}"
    );
    assert!(ask(None)?.foreign);
    std::fs::remove_file(&file)?;

    // A `weft` with no `weft-app` beside it asks the running app, which names itself.
    let lonely = desktop.dir().join("lonely");
    std::fs::create_dir_all(&lonely)?;
    std::fs::copy(weft_e2e::bin_dir().join("weft"), lonely.join("weft"))?;
    let run = |args: &[&str]| {
        desktop
            .command(lonely.join("weft"))
            .args(args)
            .stdin(Stdio::null())
            .output()
    };
    let on = run(&["autostart", "on", "--json"])?;
    assert!(
        on.status.success(),
        "{}",
        String::from_utf8_lossy(&on.stderr)
    );
    let on: Autostart = serde_json::from_slice(&on.stdout)?;
    // The installed app when there is one (nothing is built beside this `weft`), else the
    // running app's own path.
    let installed = Path::new("/usr/bin/weft-app");
    let lonely_binary = if installed.is_file() {
        installed.to_path_buf()
    } else {
        expected_binary()
    };
    assert_eq!(on.binary, Some(lonely_binary.display().to_string()));
    assert!(on.on && file.exists());
    let mut app = app;
    app.stop();
    std::fs::remove_file(&file)?;
    // Without the app, and with no package installed, it says what it looked for.
    if !Path::new("/usr/bin/weft-app").exists() {
        let missing = run(&["autostart", "on"])?;
        let err = String::from_utf8_lossy(&missing.stderr);
        assert_eq!(missing.status.code(), Some(1), "{err}");
        assert!(
            err.contains(&format!(
                "cannot find weft-app to start at login (looked for {}, /usr/bin/weft-app)",
                lonely.join("weft-app").display()
            )),
            "{err}"
        );
        assert!(!file.exists());
    }
    Ok(())
}

#[test]
fn the_settings_switch_turns_it_on_and_off() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    desktop.write_config("hotkey = \"off\"\n")?;
    let _capture = weft_e2e::notifications::NotificationCapture::start(desktop.bus_address())?;
    let _watcher = weft_e2e::watcher::Watcher::start(desktop.bus_address())?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    let session = weft_e2e::webdriver::Session::start(
        &desktop,
        &weft_e2e::bin_dir().join("weft-app"),
        &["--window", "--view", "settings"],
    )?;
    let file = entry(&desktop);
    let binary = expected_binary().display().to_string();
    let shows = |what: &str, wanted: &str| {
        weft_e2e::wait_for(what, START, || {
            session
                .text("#autostart-text")
                .ok()
                .filter(|t| t.contains(wanted))
        })
    };
    shows("the switch off", &format!("Would start {binary}"))?;
    assert_eq!(
        session.execute("return document.getElementById('autostart').checked")?,
        false
    );

    session.click("#autostart")?;
    shows("the switch on", &format!("Starts {binary}"))?;
    assert!(file.exists());
    assert!(status(&desktop)?.on);
    assert_eq!(
        session.execute("return document.getElementById('autostart').checked")?,
        true
    );

    session.click("#autostart")?;
    shows("the switch off again", "Would start")?;
    assert!(!file.exists());

    // A foreign entry: the switch is shown off and disabled, with why; the file stays.
    let theirs = "[Desktop Entry]\nType=Application\nName=X\nExec=x\n";
    std::fs::write(&file, theirs)?;
    session.execute("location.hash = '#now'; location.hash = '#settings'")?;
    shows("the foreign entry", "was not written by Weft")?;
    assert_eq!(
        session.execute("return document.getElementById('autostart').disabled")?,
        true
    );
    assert_eq!(std::fs::read_to_string(&file)?, theirs);
    Ok(())
}
