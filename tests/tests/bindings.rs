//! The TypeScript bindings in `ui/src/bindings` are generated from the protocol crate and
//! committed. This test fails when they drift; `make bindings` (WEFT_UPDATE_BINDINGS=1)
//! rewrites them.

use std::path::PathBuf;
use ts_rs::TS;
use weft_proto::sync::{Member, PingOutcome, PingSent, TeamRef};
use weft_proto::{
    AppCount, Autostart, Connection, DaySummary, DesktopPart, Disposition, ErrorKind, ErrorReport,
    FocusBlock, InboxItem, InboxState, Membership, NotificationSource, NotifyOutcome, Request,
    Response, Segment, Source, State, Status, SwitchEntry, SwitchOutcome, Target, TeamInfo,
    Urgency, View,
};

fn bindings_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings")
}

fn check<T: TS + 'static>(drifted: &mut Vec<String>) {
    let config = ts_rs::Config::default();
    let name = T::name(&config);
    let path = bindings_dir().join(format!("{name}.ts"));
    let generated = match T::export_to_string(&config) {
        Ok(text) => text,
        Err(e) => {
            drifted.push(format!("{name}: cannot generate: {e}"));
            return;
        }
    };
    if std::env::var_os("WEFT_UPDATE_BINDINGS").is_some() {
        if let Err(e) = std::fs::write(&path, &generated) {
            drifted.push(format!("{}: cannot write: {e}", path.display()));
        }
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        drifted.push(format!("{} differs from the Rust types", path.display()));
    }
}

#[test]
fn committed_typescript_bindings_match_the_rust_types() {
    let mut drifted = Vec::new();
    check::<State>(&mut drifted);
    check::<Source>(&mut drifted);
    check::<Target>(&mut drifted);
    check::<Request>(&mut drifted);
    check::<Response>(&mut drifted);
    check::<Status>(&mut drifted);
    check::<Autostart>(&mut drifted);
    check::<DesktopPart>(&mut drifted);
    check::<SwitchEntry>(&mut drifted);
    check::<SwitchOutcome>(&mut drifted);
    check::<ErrorKind>(&mut drifted);
    check::<ErrorReport>(&mut drifted);
    check::<Urgency>(&mut drifted);
    check::<Disposition>(&mut drifted);
    check::<InboxState>(&mut drifted);
    check::<NotificationSource>(&mut drifted);
    check::<InboxItem>(&mut drifted);
    check::<NotifyOutcome>(&mut drifted);
    check::<FocusBlock>(&mut drifted);
    check::<AppCount>(&mut drifted);
    check::<DaySummary>(&mut drifted);
    check::<Segment>(&mut drifted);
    check::<View>(&mut drifted);
    check::<Connection>(&mut drifted);
    check::<Membership>(&mut drifted);
    check::<TeamInfo>(&mut drifted);
    check::<Member>(&mut drifted);
    check::<TeamRef>(&mut drifted);
    check::<PingSent>(&mut drifted);
    check::<PingOutcome>(&mut drifted);
    assert!(
        drifted.is_empty(),
        "TypeScript bindings are out of date; run `make bindings` and commit:\n{}",
        drifted.join("\n")
    );
}
