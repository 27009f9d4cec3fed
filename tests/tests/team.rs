//! End-to-end tests of the team: two Weft apps, each on its own private desktop (display,
//! D-Bus session, XDG folders; hotkey off), share their states through a real `weft-sync`
//! server on loopback, ping each other through their hold policies, and outlive the server
//! going down and coming back.

use std::time::{Duration, Instant};
use weft_e2e::notifications::NotificationCapture;
use weft_e2e::sync::SyncServer;
use weft_e2e::tray::TrayItem;
use weft_e2e::watcher::Watcher;
use weft_e2e::{wait_for, App, Desktop};
use weft_proto::sync::Member;
use weft_proto::{Connection, Request, Response, State, TeamInfo};
use weft_sync::testing::proxy::{Kind, Proxy};

const START: Duration = Duration::from_secs(60);
const SOON: Duration = Duration::from_secs(30);
/// How soon a teammate's switch must show (the figure).
const LIVE: Duration = Duration::from_secs(2);
/// Long enough for the client's backoff (at most 30 s plus jitter) to come round.
const CATCH_UP: Duration = Duration::from_secs(60);

/// One person: a desktop, its notification server and tray watcher, and Weft on it.
struct Person {
    app: App,
    capture: NotificationCapture,
    watcher: Watcher,
    desktop: Desktop,
}

impl Person {
    fn start() -> anyhow::Result<Person> {
        Person::start_with(&[])
    }

    /// A person whose Weft runs with these environment variables.
    fn start_with(env: &[(&str, &str)]) -> anyhow::Result<Person> {
        let desktop = Desktop::start()?;
        desktop.write_config("hotkey = \"off\"\n")?;
        let capture = NotificationCapture::start(desktop.bus_address())?;
        let watcher = Watcher::start(desktop.bus_address())?;
        let app = App::start_with(&desktop, &weft_e2e::bin_dir().join("weft-app"), &[], env)?;
        app.wait_until_serving(START)?;
        Ok(Person {
            app,
            capture,
            watcher,
            desktop,
        })
    }

    fn join(
        &self,
        server: &SyncServer,
        invite: &str,
        name: &str,
        extra: &[&str],
    ) -> anyhow::Result<()> {
        self.join_at(&server.url(), invite, name, extra)
    }

    /// Joins through `url` (the server's, or a proxy's in front of it).
    fn join_at(&self, url: &str, invite: &str, name: &str, extra: &[&str]) -> anyhow::Result<()> {
        let mut args = vec!["team", "join", url, invite, "--name", name];
        args.extend_from_slice(extra);
        let out = self.desktop.weft_ok(&args)?;
        assert!(out.contains(name), "{out}");
        Ok(())
    }

    fn team(&self) -> anyhow::Result<TeamInfo> {
        match self.app.call(&Request::Team)? {
            Response::Team(info) => Ok(info),
            other => anyhow::bail!("unexpected answer {other:?}"),
        }
    }

    /// Waits until this Weft sees `name` as `test` says.
    fn sees(
        &self,
        name: &str,
        timeout: Duration,
        test: impl Fn(&Member) -> bool,
    ) -> anyhow::Result<Member> {
        wait_for(&format!("{name} as expected"), timeout, || {
            let info = self.team().ok()?;
            info.members.into_iter().find(|m| m.name == name && test(m))
        })
        .map_err(|e| {
            anyhow::anyhow!(
                "{e}; the team was {:?}\n--- app log ---\n{}",
                self.team(),
                self.app.log()
            )
        })
    }

    fn online(&self) -> anyhow::Result<()> {
        wait_for("the team stream to connect", SOON, || {
            (self.team().ok()?.connection == Connection::Online).then_some(())
        })
        .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", self.app.log()))
    }
}

/// A server, a team, and Ana and Bo in it, both connected.
fn two_in_a_team(
    dir: &std::path::Path,
    server_args: &[&str],
) -> anyhow::Result<(SyncServer, Person, Person)> {
    let server = SyncServer::start(dir, server_args)?;
    let invite = server.create_team("Platform")?;
    let ana = Person::start()?;
    let bo = Person::start()?;
    ana.join(&server, &invite, "Ana", &[])?;
    bo.join(&server, &invite, "Bo", &["--share-intent"])?;
    ana.online()?;
    bo.online()?;
    Ok((server, ana, bo))
}

#[test]
fn two_apps_see_each_others_switches_live() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let dir = tempfile::tempdir()?;
    let (server, ana, bo) = two_in_a_team(dir.path(), &[])?;

    // Each sees the other, online, in the state it started in.
    bo.sees("Ana", SOON, |m| {
        m.online && m.state == Some(State::Coordination)
    })?;
    ana.sees("Bo", SOON, |m| {
        m.online && m.state == Some(State::Coordination)
    })?;

    // A switch on Ana's desktop reaches Bo's Weft within two seconds, with its planned end,
    // but without the intent (Ana did not opt in).
    ana.desktop
        .weft_ok(&["focus", "--for", "50m", "release", "notes"])?;
    let switched = Instant::now();
    let seen = bo.sees("Ana", LIVE, |m| m.state == Some(State::Focus))?;
    println!("Bo saw Ana's switch after {:?}", switched.elapsed());
    assert!(seen.until.is_some(), "the planned end is shared: {seen:?}");
    assert_eq!(seen.intent, None, "Ana did not opt in to share the intent");

    // Bo opted in: his intent is shared.
    bo.desktop.weft_ok(&["focus", "parser", "refactor"])?;
    let seen = ana.sees("Bo", LIVE, |m| m.state == Some(State::Focus))?;
    assert_eq!(seen.intent.as_deref(), Some("parser refactor"));
    assert_eq!(seen.until, None);
    // And stops sharing it when he opts out.
    bo.desktop.weft_ok(&["team", "share", "off"])?;
    ana.sees("Bo", LIVE, |m| {
        m.state == Some(State::Focus) && m.intent.is_none()
    })?;

    // And back, through the CLI's JSON: an array of members with name, state, since, until.
    ana.desktop.weft_ok(&["coordinate"])?;
    bo.sees("Ana", LIVE, |m| m.state == Some(State::Coordination))?;
    let json: serde_json::Value = serde_json::from_str(&bo.desktop.weft_ok(&["team", "--json"])?)?;
    let members = json.as_array().cloned().unwrap_or_default();
    let ana_line = members
        .iter()
        .find(|m| m["name"] == "Ana")
        .ok_or_else(|| anyhow::anyhow!("no Ana in {json}"))?;
    assert_eq!(ana_line["state"], "coordination");
    assert!(ana_line["since"].is_string());
    assert!(ana_line["until"].is_null(), "{ana_line}");
    assert!(members.iter().any(|m| m["name"] == "Bo" && m["me"] == true));

    // Bo's tray lists Ana in its Team submenu.
    let bus = bo.desktop.bus()?;
    let item = wait_for("Bo's tray item", SOON, || {
        bo.watcher.items().last().cloned()
    })?;
    let tray = TrayItem::new(&bus, item);
    let team_menu = wait_for("the Team submenu to list Ana", SOON, || {
        let team = tray.find("Team").ok()?;
        team.children
            .iter()
            .any(|e| e.label.starts_with("Ana · Coordination"))
            .then_some(team)
    })?;
    assert!(
        team_menu.children.iter().any(|e| e.label == "Open Team…"),
        "{team_menu:?}"
    );

    // When Ana quits, Bo sees her go offline (her last state stays).
    let mut ana = ana;
    ana.app.stop();
    bo.sees("Ana", SOON, |m| {
        !m.online && m.state == Some(State::Coordination)
    })?;
    drop(server);
    Ok(())
}

/// A stock nginx (`location / { proxy_pass …; }`) between the apps and the real server: the
/// stream is live through it, so switches and pings arrive as they happen.
#[test]
fn two_apps_behind_a_stock_nginx_see_each_others_switches_live() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let dir = tempfile::tempdir()?;
    let server = SyncServer::start(dir.path(), &[])?;
    let invite = server.create_team("Platform")?;
    let proxy = Proxy::start(&Kind::Nginx(String::new()), &server.url())?;
    let ana = Person::start()?;
    let bo = Person::start()?;
    ana.join_at(&proxy.url, &invite, "Ana", &[])?;
    bo.join_at(&proxy.url, &invite, "Bo", &[])?;
    ana.online()
        .and_then(|()| bo.online())
        .map_err(|e| anyhow::anyhow!("{e}\n--- nginx ---\n{}", proxy.log()))?;
    ana.desktop.weft_ok(&["focus", "--for", "50m"])?;
    bo.sees("Ana", SOON, |m| m.online && m.state == Some(State::Focus))?;
    bo.desktop.weft_ok(&["focus"])?;
    ana.sees("Bo", SOON, |m| m.state == Some(State::Focus))?;
    let out = ana.desktop.weft_ok(&["ping", "Bo", "after the release?"])?;
    assert!(out.starts_with("Held until"), "{out}");
    wait_for("Bo's ping, held", SOON, || {
        let inbox = bo.desktop.weft_ok(&["inbox"]).ok()?;
        inbox.contains("after the release?").then_some(())
    })?;
    Ok(())
}

/// Ana's computer runs two hours fast (libfaketime moves the app's wall clock): the server
/// refuses her statuses and says by how much, `weft team` shows it, and Bo never sees her
/// wrong times.
#[test]
fn an_app_whose_clock_runs_two_hours_fast_is_told_so_and_shares_nothing_wrong() -> anyhow::Result<()>
{
    let _serial = weft_e2e::serial();
    let dir = tempfile::tempdir()?;
    let server = SyncServer::start(dir.path(), &[])?;
    let invite = server.create_team("Platform")?;
    let library = [
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
        "/usr/lib/faketime/libfaketimeMT.so.1",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).is_file())
    .ok_or_else(|| anyhow::anyhow!("libfaketime is missing: scripts/setup.sh test installs it"))?;
    let ana = Person::start_with(&[
        ("LD_PRELOAD", library),
        ("FAKETIME", "+2h"),
        ("DONT_FAKE_MONOTONIC", "1"),
    ])?;
    ana.join(&server, &invite, "Ana", &[])?;
    ana.desktop.weft_ok(&["focus", "--for", "50m"])?;
    let shown = wait_for("Ana's Weft to say her clock is off", SOON, || {
        let out = ana.desktop.weft_ok(&["team"]).ok()?;
        out.contains("your clock is about 2 h ahead of the server's")
            .then_some(out)
    })
    .map_err(|e| anyhow::anyhow!("{e}: {:?}\n--- app log ---\n{}", ana.team(), ana.app.log()))?;
    assert!(
        shown.contains("Offline: your status was not shared"),
        "{shown}"
    );

    let joined = weft_sync_client::Client::new(&server.url())?.join(&invite, "Bo")?;
    let bo = weft_sync_client::Client::new(&server.url())?.with_token(&joined.token);
    let view = bo.team(joined.team.id)?;
    let ana_seen = view.members.iter().find(|m| m.name == "Ana");
    assert!(
        ana_seen.is_some_and(|m| m.state.is_none() && m.since.is_none()),
        "{view:?}"
    );
    Ok(())
}

#[test]
fn pings_are_delivered_or_held_by_the_recipients_state() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let dir = tempfile::tempdir()?;
    let (_server, ana, bo) = two_in_a_team(dir.path(), &["--urgent-budget", "1"])?;

    // Bo coordinates: delivered, a popup on Bo's desktop from Ana.
    let out = ana.desktop.weft_ok(&["ping", "Bo", "lunch?"])?;
    assert!(out.starts_with("Delivered to Bo"), "{out}");
    let popup = wait_for("the ping's popup", SOON, || {
        bo.capture
            .received()
            .into_iter()
            .find(|n| n.body.contains("lunch?"))
    })?;
    assert!(popup.summary.contains("Ana"), "{popup:?}");

    // Bo focuses for 30 minutes: held, and Ana is told until about when.
    bo.desktop.weft_ok(&["focus", "--for", "30m"])?;
    ana.sees("Bo", LIVE, |m| m.state == Some(State::Focus))?;
    let out = ana.desktop.weft_ok(&["ping", "Bo", "review my PR"])?;
    assert!(out.starts_with("Held until about "), "{out}");
    wait_for("the ping to be held on Bo's Weft", SOON, || {
        let status = bo.desktop.weft_ok(&["status", "--json"]).ok()?;
        status.contains("\"held\":1").then_some(())
    })?;

    // An urgent one breaks through; the next is over the budget (1 here) and is held.
    let out = ana
        .desktop
        .weft_ok(&["ping", "Bo", "prod is down", "--urgent"])?;
    assert!(out.contains("Delivered to Bo now (urgent)"), "{out}");
    let fire = wait_for("the urgent ping's popup", SOON, || {
        bo.capture
            .received()
            .into_iter()
            .find(|n| n.body.contains("prod is down"))
    })?;
    assert_eq!(fire.urgency, Some(2), "sent as critical");
    let out = ana
        .desktop
        .weft_ok(&["ping", "Bo", "still down", "--urgent"])?;
    assert!(out.contains("used up"), "{out}");
    wait_for("the second ping to be held", SOON, || {
        let status = bo.desktop.weft_ok(&["status", "--json"]).ok()?;
        status.contains("\"held\":2").then_some(())
    })?;

    let inbox = bo.desktop.weft_ok(&["inbox"])?;
    assert!(
        inbox
            .lines()
            .any(|l| l.contains("held") && l.ends_with("Ping from Ana · review my PR")),
        "{inbox}"
    );

    // Coordination brings them in one digest that names Ana.
    bo.desktop.weft_ok(&["coordinate"])?;
    let digest = wait_for("the digest", SOON, || {
        bo.capture
            .received()
            .into_iter()
            .find(|n| n.summary.contains("held while you focused"))
    })?;
    assert!(digest.body.contains("Ana"), "{digest:?}");
    // Popups go out in order, so with the digest in, a popup for a held ping would be too.
    assert!(
        !bo.capture
            .received()
            .iter()
            .any(|n| n.body.contains("review my PR") || n.body.contains("still down")),
        "held pings must not pop up on their own"
    );

    // Both summaries count them.
    let sent: serde_json::Value =
        serde_json::from_str(&ana.desktop.weft_ok(&["summary", "--format", "json"])?)?;
    assert_eq!(sent["pings_sent"], 4, "{sent}");
    let received: serde_json::Value =
        serde_json::from_str(&bo.desktop.weft_ok(&["summary", "--format", "json"])?)?;
    assert_eq!(received["pings_received"], 4, "{received}");

    // Pinging someone who is not in the team is a clear error, and exits non-zero.
    let out = ana.desktop.weft(&["ping", "Cy", "hello"])?;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Cy"), "{err}");
    Ok(())
}

#[test]
fn clients_outlive_the_server_and_statuses_survive_its_restart() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let dir = tempfile::tempdir()?;
    let (mut server, ana, bo) = two_in_a_team(dir.path(), &[])?;
    ana.desktop.weft_ok(&["focus", "--for", "25m"])?;
    bo.sees("Ana", LIVE, |m| m.state == Some(State::Focus))?;

    // The server goes down: both keep working, and say they are offline.
    server.stop()?;
    wait_for("Bo to notice the outage", SOON, || {
        matches!(bo.team().ok()?.connection, Connection::Offline { .. }).then_some(())
    })?;
    let out = ana.desktop.weft_ok(&["coordinate"])?;
    assert!(
        out.starts_with("Coordination"),
        "switching works offline: {out}"
    );
    let offline = bo.desktop.weft_ok(&["team"])?;
    assert!(offline.contains("Offline"), "{offline}");

    // It comes back: Ana's client sends its latest state, Bo's catches up.
    server.restart()?;
    bo.sees("Ana", CATCH_UP, |m| {
        m.online && m.state == Some(State::Coordination)
    })?;

    // A restart keeps what was shared: with Ana gone, Bo still sees her last state.
    let mut ana = ana;
    ana.app.stop();
    bo.sees("Ana", SOON, |m| !m.online)?;
    server.stop()?;
    wait_for("Bo to notice the second outage", SOON, || {
        matches!(bo.team().ok()?.connection, Connection::Offline { .. }).then_some(())
    })?;
    server.restart()?;
    // Online again means a fresh snapshot from the restarted server.
    bo.online()?;
    let seen = bo.sees("Ana", SOON, |m| !m.online)?;
    assert_eq!(seen.state, Some(State::Coordination), "{seen:?}");
    assert!(seen.seq > 0);
    Ok(())
}

#[test]
fn the_window_joins_a_team_shows_it_live_and_pings_over_webdriver() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let dir = tempfile::tempdir()?;
    let server = SyncServer::start(dir.path(), &[])?;
    let invite = server.create_team("Platform")?;
    let ana = Person::start()?;
    ana.join(&server, &invite, "Ana", &["--share-intent"])?;
    let bo = Person::start()?;
    let app_path = weft_e2e::bin_dir().join("weft-app");
    let session = weft_e2e::webdriver::Session::start(
        &bo.desktop,
        &app_path,
        &["--window", "--view", "team"],
    )?;

    // Not in a team yet: the Team view says so; Settings has the join form.
    wait_for("the Team view's invitation to join", START, || {
        session
            .text("#team-none")
            .ok()
            .filter(|t| t.contains("not in a team"))
    })?;
    session.execute("location.hash = '#settings'")?;
    session.type_into("#join-server", &server.url())?;
    session.type_into("#join-invite", "wfi_not-the-code")?;
    session.type_into("#join-name", "Bo")?;
    session.click("#join")?;
    wait_for("a wrong invite to be refused", SOON, || {
        session
            .text("#join-error")
            .ok()
            .filter(|t| t.contains("invite code is not valid"))
    })?;
    session.execute("document.getElementById('join-invite').value = ''")?;
    session.type_into("#join-invite", &invite)?;
    session.click("#join")?;
    wait_for("the membership to show", SOON, || {
        session
            .text("#membership-text")
            .ok()
            .filter(|t| t.contains("You are Bo in Platform"))
    })?;
    bo.online()?;

    // The Team view lists Ana, and follows her switches live.
    session.execute("location.hash = '#team'")?;
    let row = "li.member[data-name=\"Ana\"]";
    wait_for("Ana's row", SOON, || {
        session
            .text(&format!("{row} .what"))
            .ok()
            .filter(|t| t.starts_with("Coordination"))
    })?;
    ana.desktop
        .weft_ok(&["focus", "--for", "50m", "release", "notes"])?;
    wait_for("Ana's row to show focus", SOON, || {
        session
            .text(&format!("{row} .what"))
            .ok()
            .filter(|t| t.starts_with("Focus") && t.contains("until"))
    })?;
    assert_eq!(
        session.text(&format!("{row} .member-intent"))?,
        "release notes"
    );

    // A ping from the row: Ana is focusing, so it is held, and the window says until when.
    session.click(&format!("{row} button.ping"))?;
    session.type_into("#ping-text", "lunch at noon?")?;
    session.click("#ping-send")?;
    let result = wait_for("the ping's outcome", SOON, || {
        session.text("#ping-result").ok().filter(|t| !t.is_empty())
    })?;
    assert!(result.starts_with("Held until about"), "{result}");
    wait_for("the ping to be held on Ana's Weft", SOON, || {
        let status = ana.desktop.weft_ok(&["status", "--json"]).ok()?;
        status.contains("\"held\":1").then_some(())
    })?;
    session.screenshot(&weft_e2e::artifacts_dir().join("team.png"))?;

    // Leaving from Settings takes two clicks; then Ana's Weft no longer lists Bo.
    ana.sees("Bo", SOON, |m| m.online)?;
    let membership = bo.desktop.dir().join("config/weft/team.json");
    assert!(membership.exists());
    session.execute("location.hash = '#settings'")?;
    session.click("#leave")?;
    assert!(session.text("#leave")?.contains("for sure"));
    session.click("#leave")?;
    wait_for("the join form to come back", SOON, || {
        session
            .execute("return document.getElementById('join-form').hidden")
            .ok()
            .filter(|hidden| hidden == &serde_json::Value::Bool(false))
    })?;
    wait_for("Ana's Weft to drop Bo", SOON, || {
        let info = ana.team().ok()?;
        (!info.members.iter().any(|m| m.name == "Bo")).then_some(())
    })?;
    assert!(!membership.exists());
    Ok(())
}

#[test]
fn a_damaged_membership_is_kept_aside_and_explained() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let _watcher = Watcher::start(desktop.bus_address())?;
    let _capture = NotificationCapture::start(desktop.bus_address())?;
    let dir = desktop.dir().join("config/weft");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("team.json"),
        "{\"server\": \"http://127.0.0.1:9\", \"tok",
    )?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    let out = desktop.weft_ok(&["team"])?;
    assert!(
        out.starts_with("Not in a team: the team membership"),
        "{out}"
    );
    assert!(out.contains("unreadable-"), "{out}");
    let kept: Vec<_> = std::fs::read_dir(&dir)?
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("team.json.unreadable-")
        })
        .collect();
    assert_eq!(kept.len(), 1, "the damaged file is kept, not deleted");
    // Switching works as ever.
    assert!(desktop.weft_ok(&["focus"])?.starts_with("Focus"));
    Ok(())
}
