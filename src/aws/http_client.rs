//! One HTTPS client for every AWS service client of a process, its connector built
//! on another thread while the command starts.
//!
//! Left to itself, each of the SDK's service clients makes its own default client,
//! and each of those builds a connector (TLS settings and the platform's root
//! certificates, read and parsed) once when the service client is made, to check it,
//! and once more on its first call. Cruddur makes fifteen service clients per
//! command: some twenty parses of the root store, about 7 ms of a command's start,
//! all before its first call. Here the service clients share one client, whose
//! connector for cruddur's timeouts is built once, by `prepare`, on a thread of its
//! own while the command reads its project and its credentials, and then serves
//! every call (and shares its connections).
//!
//! The connector is the SDK's default (`aws_smithy_runtime`'s `default_https_client`):
//! rustls with aws-lc, the platform's roots, the proxy from the environment
//! (HTTPS_PROXY, NO_PROXY), and the timeouts each call's config gives.

use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use aws_smithy_async::rt::sleep::default_async_sleep;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_http_client::{Builder, Connector, ConnectorBuilder};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::runtime_components::{RuntimeComponents, RuntimeComponentsBuilder};
use aws_smithy_runtime_api::shared::IntoShared;
use aws_smithy_types::config_bag::ConfigBag;

/// How long a connection may take to open: every call's (`super::sdk_config`).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

static CLIENT: OnceLock<SharedHttpClient> = OnceLock::new();

/// Starts building the connector, on a thread of its own (the first call of a
/// process; the next ones do nothing).
pub fn prepare() {
    shared();
}

/// The process's client: the one `prepare` started, or a new one.
pub fn shared() -> SharedHttpClient {
    CLIENT
        .get_or_init(|| {
            let settings = cruddur_settings();
            let for_thread = settings.clone();
            let early = std::thread::Builder::new()
                .name("https-connector".into())
                .spawn(move || connector(Some(&for_thread), None))
                .ok();
            let inner = Builder::new().build_with_connector_fn(connector);
            Shared { inner, settings, early: Mutex::new(early), ready: OnceLock::new() }.into_shared()
        })
        .clone()
}

/// The connector settings of every call cruddur makes (its timeout config sets no
/// read timeout).
fn cruddur_settings() -> HttpConnectorSettings {
    HttpConnectorSettings::builder().connect_timeout(CONNECT_TIMEOUT).build()
}

/// The SDK's default connector for these settings.
fn connector(settings: Option<&HttpConnectorSettings>, components: Option<&RuntimeComponents>) -> Connector {
    let mut builder = ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
    builder.set_connector_settings(settings.cloned());
    builder.set_sleep_impl(components.and_then(|c| c.sleep_impl()).or_else(default_async_sleep));
    builder.set_proxy_config(Some(ProxyConfig::from_env()));
    builder.build()
}

/// The SDK's client (a connector per settings, built when first asked for), with
/// the connector for cruddur's settings built early, and without the check each
/// service client makes when it is built: that check only builds a connector ahead
/// of time (it fails only by a panic over unreadable root certificates, which the
/// first call meets just the same).
#[derive(Debug)]
struct Shared {
    inner: SharedHttpClient,
    /// The settings the early connector was built for.
    settings: HttpConnectorSettings,
    early: Mutex<Option<JoinHandle<Connector>>>,
    ready: OnceLock<SharedHttpConnector>,
}

impl HttpClient for Shared {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        let ours = &self.settings;
        let same =
            (settings.connect_timeout(), settings.read_timeout()) == (ours.connect_timeout(), ours.read_timeout());
        if !same {
            return self.inner.http_connector(settings, components);
        }
        self.ready
            .get_or_init(|| {
                let early = self.early.lock().map(|mut e| e.take()).unwrap_or_default();
                match early.and_then(|thread| thread.join().ok()) {
                    Some(built) => SharedHttpConnector::new(built),
                    None => self.inner.http_connector(settings, components),
                }
            })
            .clone()
    }

    fn validate_base_client_config(&self, _: &RuntimeComponentsBuilder, _: &ConfigBag) -> Result<(), BoxError> {
        Ok(())
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}
