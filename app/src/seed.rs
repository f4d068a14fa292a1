//! `app seed`: the four users of the original, a couple of activities and one
//! conversation. Running it twice adds nothing.

use crate::db::users::NewUser;
use crate::db::{timestamp, Db, DbResult};

pub const USERS: &[(&str, &str, &str, &str)] = &[
    ("Andrew Brown", "andrewbrown", "andrew@exampro.co", "mock-cognito-andrewbrown"),
    ("Alt Brown", "altbrown", "alt@exampro.co", "mock-cognito-altbrown"),
    ("Andrew Bayko", "bayko", "bayko@exampro.co", "mock-cognito-bayko"),
    ("Londo Mollari", "londo", "lmollari@centari.com", "mock-cognito-londo"),
];

/// Returns true when it added the seed data, false when it was already there.
pub async fn seed(db: &Db) -> DbResult<bool> {
    let mut users = Vec::new();
    let fresh = db.user_by_handle("andrewbrown").await?.is_none();
    for (name, handle, email, sub) in USERS {
        let user = db
            .ensure_user(NewUser { display_name: name, handle, email, cognito_user_id: Some(sub), bio: None })
            .await?;
        users.push(user);
    }
    if !fresh {
        return Ok(false);
    }
    let far = Some(timestamp(chrono::Utc::now() + chrono::Duration::days(3650)));
    let first = db.create_activity(&users[0].uuid, "This was imported as seed data!", far.clone(), None).await?;
    db.create_activity(&users[1].uuid, "I am the other!", far.clone(), None).await?;
    db.create_activity(&users[2].uuid, "I am Andrew Bayko, welcome to Cruddur.", far, None).await?;
    db.create_activity(&users[2].uuid, "Welcome back, seed data!", None, Some(&first.uuid)).await?;
    let group = db.group_between(&users[0].uuid, &users[2].uuid).await?;
    db.create_message(&group, &users[0].uuid, "Have you watched Babylon 5?").await?;
    db.create_message(&group, &users[2].uuid, "Yes, I have. Londo is my favourite.").await?;
    Ok(true)
}
