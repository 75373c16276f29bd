//! Saved searches and console settings. Saved searches: each user's named searches of the console's `/search` page, stored as the
//! page's query string (`q=…&tags=…`), so a saved search opens as a link and can be shared as one.
//! Personal: a user sees and deletes only their own; any role may keep them (they change no data).

use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};

use super::Catalog;
use crate::actor::Actor;
use crate::error::{DomainError, DomainResult};
use crate::sql::{Sql, get, get_int};

/// The most searches one user keeps.
pub const MAX_SAVED_SEARCHES: u64 = 100;
/// The longest name, in characters.
pub const MAX_SEARCH_NAME_CHARS: usize = 100;
/// The longest query string, in bytes.
pub const MAX_SEARCH_QUERY_BYTES: usize = 4096;
/// The parameters of the search page's address.
pub const SEARCH_PARAMS: [&str; 8] =
    ["q", "ns", "tags", "expiring", "expires_before", "updated_after", "min_size", "max_size"];

/// A saved search: its name and the search page's query string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSearch {
    pub id: String,
    pub name: String,
    /// The query string of `/search` (without `?`).
    pub query: String,
    pub created_at: i64,
}

/// Checks a saved search's name and query string; answers the name trimmed.
pub fn check_saved_search(name: &str, query: &str) -> DomainResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DomainError::invalid("name", "name: must not be empty"));
    }
    let chars = name.chars().count();
    if chars > MAX_SEARCH_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "name",
            format!("name: at most {MAX_SEARCH_NAME_CHARS} characters, without control characters ({chars} given)"),
        ));
    }
    if query.len() > MAX_SEARCH_QUERY_BYTES {
        return Err(DomainError::invalid(
            "query",
            format!("query: {} bytes is over the limit of {MAX_SEARCH_QUERY_BYTES}", query.len()),
        ));
    }
    if query.is_empty() {
        return Err(DomainError::invalid("query", "query: a search to save has at least one filter"));
    }
    let mut seen = Vec::new();
    for pair in query.split('&') {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        if !SEARCH_PARAMS.contains(&key) {
            return Err(DomainError::invalid(
                "query",
                format!("query: {key:?} is not a search parameter ({})", SEARCH_PARAMS.join(", ")),
            ));
        }
        if seen.contains(&key) {
            return Err(DomainError::invalid("query", format!("query: {key:?} is given twice")));
        }
        if pair.chars().any(|c| c.is_control() || c == ' ' || c == '#') {
            return Err(DomainError::invalid(
                "query",
                "query: must be URL-encoded (no spaces, control characters or #)",
            ));
        }
        seen.push(key);
    }
    Ok(name.to_owned())
}

impl Catalog {
    /// `actor`'s saved searches, by name.
    pub async fn saved_searches(&self, actor: &Actor) -> DomainResult<Vec<SavedSearch>> {
        let mut sql =
            Sql::new(self.backend(), "SELECT id, name, query, created_at FROM saved_searches WHERE user_name = ");
        sql.bind(actor.user.as_str()).push(" ORDER BY name");
        let rows = self.conn.query_all_raw(sql.statement()).await?;
        rows.iter()
            .map(|row| {
                Ok(SavedSearch {
                    id: get(row, "id")?,
                    name: get(row, "name")?,
                    query: get(row, "query")?,
                    created_at: get_int(row, "created_at")?,
                })
            })
            .collect()
    }

    /// Saves a search for `actor` under `name`, replacing one of that name. 409 (`name`) once
    /// the user keeps [`MAX_SAVED_SEARCHES`].
    pub async fn save_search(&self, actor: &Actor, name: &str, query: &str, now: i64) -> DomainResult<SavedSearch> {
        let name = check_saved_search(name, query)?;
        let txn = crate::db::begin_write(&self.conn).await?;
        let mut sql = Sql::new(self.backend(), "DELETE FROM saved_searches WHERE user_name = ");
        sql.bind(actor.user.as_str()).push(" AND name = ").bind(name.as_str());
        txn.execute_raw(sql.statement()).await?;
        let mut sql = Sql::new(self.backend(), "SELECT COUNT(*) AS n FROM saved_searches WHERE user_name = ");
        sql.bind(actor.user.as_str());
        let kept = match txn.query_one_raw(sql.statement()).await? {
            Some(row) => get_int(&row, "n")?,
            None => 0,
        };
        if kept.max(0) as u64 >= MAX_SAVED_SEARCHES {
            return Err(DomainError::conflict(
                "name",
                format!("name: you keep {MAX_SAVED_SEARCHES} saved searches, the most there may be; delete one first"),
            ));
        }
        let saved = SavedSearch {
            id: uuid::Uuid::new_v4().simple().to_string(),
            name,
            query: query.to_owned(),
            created_at: now,
        };
        let mut sql =
            Sql::new(self.backend(), "INSERT INTO saved_searches (id, user_name, name, query, created_at) VALUES (");
        sql.bind(saved.id.as_str()).push(", ").bind(actor.user.as_str()).push(", ").bind(saved.name.as_str());
        sql.push(", ").bind(saved.query.as_str()).push(", ").bind(now).push(")");
        txn.execute_raw(sql.statement()).await?;
        txn.commit().await?;
        Ok(saved)
    }

    /// Deletes one of `actor`'s saved searches (404, `id`, for another's or none).
    pub async fn delete_saved_search(&self, actor: &Actor, id: &str) -> DomainResult<()> {
        let mut sql = Sql::new(self.backend(), "DELETE FROM saved_searches WHERE user_name = ");
        sql.bind(actor.user.as_str()).push(" AND id = ").bind(id);
        if self.conn.execute_raw(sql.statement()).await?.rows_affected() == 0 {
            return Err(DomainError::not_found("id", format!("id: no saved search {id:?} of yours")));
        }
        Ok(())
    }
}

/// The console settings a user may keep, with the values each takes (the first is the default).
pub const SETTINGS: [(&str, &[&str]); 1] = [("namespace_view", &["list", "grid"])];

/// Checks a setting's name and value.
pub fn check_setting(name: &str, value: &str) -> DomainResult<()> {
    let Some((_, values)) = SETTINGS.iter().find(|(n, _)| *n == name) else {
        let names: Vec<&str> = SETTINGS.iter().map(|(n, _)| *n).collect();
        return Err(DomainError::invalid("name", format!("name: {name:?} is not a setting ({})", names.join(", "))));
    };
    if !values.contains(&value) {
        return Err(DomainError::invalid("value", format!("value: {name} is one of {}", values.join(", "))));
    }
    Ok(())
}

impl Catalog {
    /// `actor`'s settings: every one, each as kept or its default.
    pub async fn settings(&self, actor: &Actor) -> DomainResult<Vec<(String, String)>> {
        let mut sql = Sql::new(self.backend(), "SELECT name, value FROM user_settings WHERE user_name = ");
        sql.bind(actor.user.as_str());
        let mut kept = std::collections::HashMap::new();
        for row in self.conn.query_all_raw(sql.statement()).await? {
            kept.insert(get::<String>(&row, "name")?, get::<String>(&row, "value")?);
        }
        Ok(SETTINGS
            .iter()
            .map(|(name, values)| {
                let value = kept.remove(*name).filter(|v| values.contains(&v.as_str())).unwrap_or(values[0].to_owned());
                ((*name).to_owned(), value)
            })
            .collect())
    }

    /// Keeps one of `actor`'s settings.
    pub async fn set_setting(&self, actor: &Actor, name: &str, value: &str, now: i64) -> DomainResult<()> {
        check_setting(name, value)?;
        let txn = crate::db::begin_write(&self.conn).await?;
        let mut sql = Sql::new(self.backend(), "DELETE FROM user_settings WHERE user_name = ");
        sql.bind(actor.user.as_str()).push(" AND name = ").bind(name);
        txn.execute_raw(sql.statement()).await?;
        let mut sql =
            Sql::new(self.backend(), "INSERT INTO user_settings (user_name, name, value, updated_at) VALUES (");
        sql.bind(actor.user.as_str()).push(", ").bind(name).push(", ").bind(value).push(", ").bind(now).push(")");
        txn.execute_raw(sql.statement()).await?;
        txn.commit().await?;
        Ok(())
    }
}
