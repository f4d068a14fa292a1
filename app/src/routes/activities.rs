//! /api/activities: feeds, a status with its replies, posting and replying.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::paging::{param, with_next, PageQuery, Pairs};
use super::{handle_of, text, AppState, Body, CurrentUser, Writer};
use crate::db::activities::{Activity, PAGE};
use crate::errors::{ApiError, ApiResult};

pub const MESSAGE_MAX: usize = 280;
pub const REPLY_MAX: usize = 1024;
/// Replies on a status page when no `limit` is given.
pub const REPLIES_PAGE: i64 = 100;

/// The allowed time-to-live values and their length in hours.
const TTLS: &[(&str, i64)] = &[
    ("30-days", 720),
    ("7-days", 168),
    ("3-days", 72),
    ("1-day", 24),
    ("12-hours", 12),
    ("3-hours", 3),
    ("1-hour", 1),
];

pub async fn home(State(s): State<AppState>) -> ApiResult<Json<Vec<Activity>>> {
    Ok(Json(s.db.home().await?))
}

pub async fn notifications(
    State(s): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Vec<Activity>>> {
    Ok(Json(s.db.notifications(&user.uuid).await?))
}

pub async fn search(State(s): State<AppState>, Query(q): Query<Pairs>) -> ApiResult<Response> {
    let term = param(&q, "term");
    let term = text(&term).ok_or(ApiError::Invalid(vec!["search_term_blank"]))?;
    let (limit, cursor) = PageQuery::of(&q).read(PAGE)?;
    let page = s.db.search(term, limit, cursor.as_ref()).await?;
    Ok(with_next(page.items, page.next))
}

pub async fn user_feed(State(s): State<AppState>, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let handle = handle_of(&key)?;
    let profile = s.db.profile(handle).await?.ok_or(ApiError::NotFound("user_not_found"))?;
    let activities = s.db.user_activities(&profile.uuid).await?;
    Ok(Json(json!({ "profile": profile, "activities": activities })))
}

/// A live activity and a page of its replies (`limit`, `cursor` page the replies).
pub async fn status(
    State(s): State<AppState>,
    Path((key, uuid)): Path<(String, String)>,
    Query(q): Query<Pairs>,
) -> ApiResult<Response> {
    let handle = handle_of(&key)?;
    let (limit, cursor) = PageQuery::of(&q).read(REPLIES_PAGE)?;
    let activity =
        s.db.activity(&uuid).await?.filter(|a| a.handle == handle).ok_or(ApiError::NotFound("activity_not_found"))?;
    let replies = s.db.replies(&activity.uuid, limit, cursor.as_ref()).await?;
    Ok(with_next(json!({ "activity": activity, "replies": replies.items }), replies.next))
}

#[derive(Deserialize)]
pub struct NewActivity {
    message: Option<String>,
    ttl: Option<String>,
}

fn check_message(message: Option<&str>, max: usize, errors: &mut Vec<&'static str>) {
    match message {
        None => errors.push("message_blank"),
        Some(m) if m.chars().count() > max => errors.push("message_exceed_max_chars"),
        Some(_) => {}
    }
}

pub async fn create(
    State(s): State<AppState>,
    Writer(user): Writer,
    Body(body): Body<NewActivity>,
) -> ApiResult<Json<Activity>> {
    let message = text(&body.message);
    let mut errors = Vec::new();
    check_message(message, MESSAGE_MAX, &mut errors);
    let hours = match text(&body.ttl) {
        None => {
            errors.push("ttl_blank");
            None
        }
        Some(ttl) => match TTLS.iter().find(|(name, _)| *name == ttl) {
            Some((_, hours)) => Some(*hours),
            None => {
                errors.push("ttl_invalid");
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let expires_at = hours.map(|h| crate::db::timestamp(chrono::Utc::now() + chrono::Duration::hours(h)));
    let message = message.unwrap_or_default();
    Ok(Json(s.db.create_activity(&user.uuid, message, expires_at, None).await?))
}

#[derive(Deserialize)]
pub struct NewReply {
    message: Option<String>,
}

pub async fn reply(
    State(s): State<AppState>,
    Writer(user): Writer,
    Path(key): Path<String>,
    Body(body): Body<NewReply>,
) -> ApiResult<Json<Activity>> {
    let message = text(&body.message);
    let mut errors = Vec::new();
    check_message(message, REPLY_MAX, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let parent = s.db.activity(&key).await?.ok_or(ApiError::NotFound("activity_not_found"))?;
    let message = message.unwrap_or_default();
    Ok(Json(s.db.create_activity(&user.uuid, message, None, Some(&parent.uuid)).await?))
}
