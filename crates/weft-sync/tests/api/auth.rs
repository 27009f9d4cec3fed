//! What is not yours is refused: tokens, teams, members, and the rate limit.

use crate::support::*;
use weft_proto::sync::*;
use weft_proto::State;
use weft_sync::testing::TestServer;
use weft_sync::Config;
use weft_sync_client::{Client, Error};

#[test]
fn what_is_not_yours_is_refused() -> R {
    let server = TestServer::start(config())?;
    let (_, team, (ana, ana_j), (bo, bo_j)) = core(&server)?;
    let other = invite(&server, "Other")?;
    let (eve, eve_j) = join(&server.url, &other, "Eve")?;
    let before = eve.team(eve_j.team.id)?;
    let update = status(1, State::Focus, None);
    let code = refused::<StatusAck>;

    let anonymous = Client::new(&server.url)?;
    assert_eq!(
        code(anonymous.put_status(team, ana_j.member_id, &update)),
        (401, "unauthorized".into())
    );
    let forged =
        Client::new(&server.url)?.with_token("wft_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(
        code(forged.put_status(team, ana_j.member_id, &update)),
        (401, "unauthorized".into())
    );
    assert!(matches!(forged.team(team), Err(e) if e.is_auth()));
    assert!(matches!(
        anonymous.events(team, 0),
        Err(Error::Refused { status: 401, .. })
    ));
    assert_eq!(
        code(eve.put_status(team, ana_j.member_id, &update)),
        (403, "forbidden".into())
    );
    assert_eq!(
        code(eve.put_status(team, eve_j.member_id, &update)),
        (403, "forbidden".into())
    );
    assert_eq!(
        code(bo.put_status(team, ana_j.member_id, &update)),
        (403, "forbidden".into())
    );
    assert!(matches!(
        ana.team(eve_j.team.id),
        Err(Error::Refused { status: 403, .. })
    ));
    assert!(matches!(
        ana.team(9999),
        Err(Error::Refused { status: 403, .. })
    ));
    assert!(matches!(
        ana.events(eve_j.team.id, 0),
        Err(Error::Refused { status: 403, .. })
    ));
    let ping = PingRequest {
        to: "Eve".into(),
        text: "hi".into(),
        urgent: true,
    };
    assert!(matches!(
        ana.ping(eve_j.team.id, &ping),
        Err(Error::Refused { status: 403, .. })
    ));
    assert!(matches!(
        ana.ping(team, &ping),
        Err(Error::Refused { status: 404, .. })
    ));
    assert!(matches!(
        Client::new(&server.url)?.join("wfi_nope", "Mallory"),
        Err(Error::Refused { status: 403, .. })
    ));

    // A header is there on 401.
    let raw = raw_get(
        &server.url,
        &format!("/v1/teams/{team}"),
        None,
        "WWW-Authenticate",
    )?;
    assert_eq!(raw, (401, Some("Bearer".into())));
    assert_eq!(eve.team(eve_j.team.id)?, before);
    assert!(ana
        .team(team)?
        .members
        .iter()
        .all(|m| m.seq == 0 && m.id != eve_j.member_id));
    assert_eq!(bo.team(team)?.me, bo_j.member_id);
    Ok(())
}

#[test]
fn each_token_is_rate_limited() -> R {
    let server = TestServer::start(Config {
        rate_per_second: 2,
        ..Config::default()
    })?;
    let (_, team, (ana, ana_j), (bo, _)) = core(&server)?;
    let mut answers = Vec::new();
    for _ in 0..8 {
        answers.push(ana.team(team).map(|_| ()));
    }
    assert!(answers[..4].iter().all(|a| a.is_ok()), "{answers:?}");
    assert!(
        answers
            .iter()
            .any(|a| matches!(a, Err(Error::RateLimited { retry_after }) if *retry_after >= 1)),
        "{answers:?}"
    );
    // Keep asking until refused (a stalled test machine may refill a token in between).
    let path = format!("/v1/teams/{team}");
    let refused = (0..50)
        .map(|_| ana.raw("GET", &path, b""))
        .find(|answer| matches!(answer, Ok((429, _)) | Err(_)));
    let Some(Ok((_, body))) = refused else {
        return Err(format!("no JSON 429: {refused:?}").into());
    };
    assert_eq!(
        serde_json::from_str::<ApiError>(&body)?.error,
        "rate_limited"
    );
    let refused = (0..50)
        .map(|_| raw_get(&server.url, &path, Some(&ana_j.token), "Retry-After"))
        .find(|answer| !matches!(answer, Ok((200, _))));
    let Some(Ok((429, Some(retry_after)))) = refused else {
        return Err(format!("no 429 with Retry-After: {refused:?}").into());
    };
    assert!(retry_after.parse::<u64>()? >= 1);
    assert!(bo.team(team).is_ok(), "other tokens are not limited");
    Ok(())
}
