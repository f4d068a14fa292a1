//! /api/message_groups and /api/messages: direct messages between two users.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::paging::{with_next, PageQuery, Pairs};
use super::{text, AppState, Body, CurrentUser, Writer};
use crate::errors::{ApiError, ApiResult};

pub const MESSAGE_MAX: usize = 1024;
/// Messages of a conversation when no `limit` is given.
pub const MESSAGES_PAGE: i64 = 100;
/// Conversations in the list when no `limit` is given.
pub const GROUPS_PAGE: i64 = 100;

/// The caller's conversations, latest activity first; `cursor` goes on to older.
pub async fn groups(
    State(s): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<Pairs>,
) -> ApiResult<Response> {
    let (limit, cursor) = PageQuery::of(&q).read(GROUPS_PAGE)?;
    let page = s.db.message_groups(&user.uuid, limit, cursor.as_ref()).await?;
    Ok(with_next(page.items, page.next))
}

/// The latest messages of a conversation, oldest first; `cursor` goes back.
pub async fn list(
    State(s): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(group): Path<String>,
    Query(q): Query<Pairs>,
) -> ApiResult<Response> {
    let (limit, cursor) = PageQuery::of(&q).read(MESSAGES_PAGE)?;
    if !s.db.group_exists(&group).await? {
        return Err(ApiError::NotFound("message_group_not_found"));
    }
    if !s.db.is_member(&group, &user.uuid).await? {
        return Err(ApiError::Forbidden("not_a_member"));
    }
    let page = s.db.messages(&group, limit, cursor.as_ref()).await?;
    Ok(with_next(page.items, page.next))
}

#[derive(Deserialize)]
pub struct NewMessage {
    message: Option<String>,
    message_group_uuid: Option<String>,
    handle: Option<String>,
}

pub async fn create(
    State(s): State<AppState>,
    Writer(user): Writer,
    Body(body): Body<NewMessage>,
) -> ApiResult<Json<Value>> {
    let message = text(&body.message);
    let mut errors = Vec::new();
    match message {
        None => errors.push("message_blank"),
        Some(m) if m.chars().count() > MESSAGE_MAX => errors.push("message_exceed_max_chars"),
        Some(_) => {}
    }
    let group = text(&body.message_group_uuid);
    let handle = text(&body.handle).map(|h| h.trim_start_matches('@'));
    if group.is_none() && handle.is_none() {
        errors.push("message_group_uuid_or_handle_blank");
    }
    if handle == Some(user.handle.as_str()) && group.is_none() {
        errors.push("handle_is_self");
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let group_uuid = match (group, handle) {
        (Some(g), _) => {
            if !s.db.group_exists(g).await? {
                return Err(ApiError::NotFound("message_group_not_found"));
            }
            if !s.db.is_member(g, &user.uuid).await? {
                return Err(ApiError::Forbidden("not_a_member"));
            }
            g.to_string()
        }
        (None, Some(h)) => {
            let other = s.db.user_by_handle(h).await?.ok_or(ApiError::NotFound("user_not_found"))?;
            s.db.group_between(&user.uuid, &other.uuid).await?
        }
        (None, None) => unreachable!("validated above"),
    };
    let created = s.db.create_message(&group_uuid, &user.uuid, message.unwrap_or_default()).await?;
    let mut out = json!(created);
    out["message_group_uuid"] = json!(group_uuid);
    Ok(Json(out))
}
