//! `weft summary` against a log seeded through the store API, without the app, in a named
//! time zone: JSON fields, Markdown times and CSV, and the exit code 2 for bad arguments.

use weft_e2e::Desktop;

fn seed(desktop: &Desktop) -> anyhow::Result<()> {
    weft_e2e::seed::berlin_day(desktop)
}

fn summary(desktop: &Desktop, args: &[&str]) -> anyhow::Result<std::process::Output> {
    Ok(desktop
        .command(weft_e2e::bin_dir().join("weft"))
        .arg("summary")
        .args(args)
        .env("TZ", weft_e2e::seed::ZONE)
        .output()?)
}

#[test]
fn the_json_summary_matches_the_seeded_log() -> anyhow::Result<()> {
    let desktop = Desktop::start()?;
    seed(&desktop)?;
    let output = summary(&desktop, &["--date", "2026-11-10", "--format", "json"])?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(json["date"], "2026-11-10");
    assert_eq!(json["focus_seconds"], 50 * 60);
    assert_eq!(json["coordination_seconds"], (10 + 7 * 60) * 60);
    assert_eq!(json["untracked_seconds"], 16 * 3600);
    assert_eq!(json["switches"], 2);
    assert_eq!(json["longest_focus_seconds"], 50 * 60);
    assert_eq!(json["fragmented_blocks"], 0);
    assert_eq!(json["held"], 0);
    assert_eq!(json["digests"], 0);
    assert_eq!(json["break_throughs"], 0);
    let block = &json["focus_blocks"][0];
    assert_eq!(block["start"], "2026-11-10T08:10:00.000Z");
    assert_eq!(block["end"], "2026-11-10T09:00:00.000Z");
    assert_eq!(block["seconds"], 3000);
    assert_eq!(block["intent"], "parser");
    assert_eq!(block["stash"], "left off at abc");

    let md = summary(&desktop, &["--date", "2026-11-10", "--format", "md"])?;
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.contains("- 09:10–10:00 (50 min): parser — left off: left off at abc"),
        "{md}"
    );

    let csv = summary(
        &desktop,
        &["--date", "2026-11-10", "--week", "--format", "csv"],
    )?;
    let csv = String::from_utf8_lossy(&csv.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 8, "header and seven days: {csv}");
    assert_eq!(lines[7], "2026-11-10,3000,25800,57600,2,1,3000,0,0,0,0,0,0");
    Ok(())
}

#[test]
fn bad_arguments_exit_2() -> anyhow::Result<()> {
    let desktop = Desktop::start()?;
    for args in [
        &["--date", "2026-02-30"][..],
        &["--date", "last week"],
        &["--format", "xml"],
    ] {
        let output = summary(&desktop, args)?;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(!output.stderr.is_empty());
    }
    Ok(())
}
