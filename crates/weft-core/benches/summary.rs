//! The summary of a day and of a week over a synthetic five-year log of more than two million
//! switches (target: a day in 5 ms or less, warm). The log is made once and kept in
//! `target/bench-data/weft-5y.db` (about 150 MB) so later runs start at once.
//! A failed set-up should stop a benchmark loudly, so `expect` is fine here.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use chrono::{DateTime, Days, Duration, NaiveDate, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::path::PathBuf;
use weft_core::machine::Switch;
use weft_core::store::{AppEvent, Store};
use weft_core::summary::{Period, DEFAULT_FRAGMENT_MINUTES};
use weft_proto::{Source, State};

const YEARS: u64 = 5;
/// 1,100 switches a day (a switch every ~45 s of an 14-hour day), five years: 2.0 million.
const SWITCHES_PER_DAY: i64 = 1_100;

fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, 11, 24).unwrap_or_default()
}

fn database() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("bench-data/weft-5y.db")
}

fn make_log(path: &PathBuf) -> usize {
    let ready = path.with_extension("ready");
    if ready.exists() {
        return 0;
    }
    let _ = std::fs::remove_file(path);
    let mut store = Store::open(path).expect("bench database");
    let mut state = State::Coordination;
    let mut total = 0;
    let days = YEARS * 365 + 1;
    for n in 0..days {
        let day = first_day() + Days::new(n);
        let morning: DateTime<Utc> =
            Utc.from_utc_datetime(&day.and_hms_opt(7, 0, 0).unwrap_or_default());
        store
            .record_app_event(AppEvent::Start, morning)
            .expect("start");
        let step = Duration::seconds(14 * 3600 / SWITCHES_PER_DAY);
        let switches: Vec<Switch> = (0..SWITCHES_PER_DAY)
            .map(|i| {
                let to = state.other();
                let from = std::mem::replace(&mut state, to);
                Switch {
                    at: morning + step * (i as i32 + 1),
                    from,
                    to,
                    source: Source::Hotkey,
                    intent: (to == State::Focus && i % 10 == 0).then(|| format!("task {i}")),
                    stash: None,
                    until: None,
                }
            })
            .collect();
        total += switches.len();
        store.record_switches(&switches).expect("switches");
        store
            .record_app_event(AppEvent::Stop, morning + Duration::hours(14))
            .expect("stop");
    }
    std::fs::write(&ready, b"").expect("marker");
    total
}

fn bench(c: &mut Criterion) {
    let path = database();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("bench dir");
    }
    let made = make_log(&path);
    if made > 0 {
        println!("made a log of {made} switches at {}", path.display());
    }
    // A log made by an older build is brought up to this schema first (as the app would).
    drop(Store::open(&path).expect("bench database migrates"));
    let store = Store::open_read_only(&path).expect("bench database");
    let rows = store.switches(None).map(|s| s.len()).unwrap_or(0);
    println!("summary benchmark over {rows} switches");
    let day = first_day() + Days::new(3 * 365);
    let now = Utc::now();
    let fragment = Duration::minutes(DEFAULT_FRAGMENT_MINUTES);
    let zone = chrono_tz::Europe::Berlin;
    c.bench_function("summary of a day (5-year log)", |b| {
        b.iter(|| {
            store
                .summary(Period::Day(black_box(day)), &zone, now, fragment)
                .expect("day")
        })
    });
    c.bench_function("summary of a week (5-year log)", |b| {
        b.iter(|| {
            store
                .summary(Period::WeekEnding(black_box(day)), &zone, now, fragment)
                .expect("week")
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
