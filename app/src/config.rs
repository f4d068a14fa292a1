//! Configuration, only from the environment, with the original backend env file's
//! names. Names it does not use are ignored.

#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    /// `None`: embedded SQLite under ./data.
    pub connection_url: Option<String>,
    pub data_dir: String,
    pub frontend_url: Option<String>,
    pub backend_url: Option<String>,
    pub region: Option<String>,
    pub user_pool_id: Option<String>,
    pub client_id: Option<String>,
    pub jwks_url: Option<String>,
    pub service_name: String,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

impl Config {
    pub fn from_env() -> Result<Config, String> {
        let port = match var("PORT") {
            Some(p) => p.parse().map_err(|_| format!("PORT `{p}` is not a port number"))?,
            None => 4567,
        };
        let region = var("AWS_DEFAULT_REGION").or_else(|| var("AWS_REGION"));
        let user_pool_id = var("AWS_COGNITO_USER_POOL_ID");
        let jwks_url = var("AWS_COGNITO_JWKS_URL").or_else(|| match (&region, &user_pool_id) {
            (Some(r), Some(p)) => Some(format!("https://cognito-idp.{r}.amazonaws.com/{p}/.well-known/jwks.json")),
            _ => None,
        });
        Ok(Config {
            port,
            connection_url: var("CONNECTION_URL"),
            data_dir: var("DATA_DIR").unwrap_or_else(|| "./data".into()),
            frontend_url: var("FRONTEND_URL"),
            backend_url: var("BACKEND_URL"),
            region,
            user_pool_id,
            client_id: var("AWS_COGNITO_USER_POOL_CLIENT_ID"),
            jwks_url,
            service_name: var("OTEL_SERVICE_NAME").unwrap_or_else(|| "backend-flask".into()),
        })
    }

    /// The database URL: CONNECTION_URL, or a SQLite file under the data dir.
    pub fn database_url(&self) -> String {
        match &self.connection_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}/cruddur.db?mode=rwc", self.data_dir.trim_end_matches('/')),
        }
    }
}
