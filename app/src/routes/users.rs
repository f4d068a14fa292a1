//! /api/users and /api/profile.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;

use super::{handle_of, text, AppState, Body, Writer};
use crate::db::users::{Profile, ShortUser};
use crate::errors::{ApiError, ApiResult};

pub const BIO_MAX: usize = 500;
pub const DISPLAY_NAME_MAX: usize = 100;

pub async fn short(State(s): State<AppState>, Path(key): Path<String>) -> ApiResult<Json<ShortUser>> {
    let handle = handle_of(&key)?;
    Ok(Json(s.db.user_by_handle(handle).await?.ok_or(ApiError::NotFound("user_not_found"))?))
}

#[derive(Deserialize)]
pub struct ProfileUpdate {
    bio: Option<String>,
    display_name: Option<String>,
}

pub async fn update_profile(
    State(s): State<AppState>,
    Writer(user): Writer,
    Body(body): Body<ProfileUpdate>,
) -> ApiResult<Json<Profile>> {
    let mut errors = Vec::new();
    let display_name = text(&body.display_name);
    match display_name {
        None => errors.push("display_name_blank"),
        Some(d) if d.chars().count() > DISPLAY_NAME_MAX => errors.push("display_name_exceed_max_chars"),
        Some(_) => {}
    }
    let bio = text(&body.bio);
    if bio.is_some_and(|b| b.chars().count() > BIO_MAX) {
        errors.push("bio_exceed_max_chars");
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    s.db.update_profile(&user.uuid, display_name.unwrap_or_default(), bio).await?;
    Ok(Json(s.db.profile(&user.handle).await?.ok_or(ApiError::NotFound("user_not_found"))?))
}
