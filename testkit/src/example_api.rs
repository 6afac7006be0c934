//! The example upstream API (`example-api`), in-process on a free loopback
//! port: the real JWT validation against the test provider's keys.

use crate::TestProvider;
use th_example_api::{Application, VerifierSettings};

/// The example API trusting `provider`'s access tokens for its API
/// audience, and its phantom tokens; answers its base URL. Call it from
/// within a Tokio runtime.
pub fn spawn_example_api(provider: &TestProvider) -> String {
    spawn_example_api_for(provider, &provider.options().api_audience)
}

/// [`spawn_example_api`] for another `audience` (an API that the provider's
/// tokens are not meant for).
pub fn spawn_example_api_for(provider: &TestProvider, audience: &str) -> String {
    let app = Application::build(
        "127.0.0.1:0",
        VerifierSettings {
            issuer: provider.issuer().to_owned(),
            audience: audience.to_owned(),
            gateway_client_id: Some(provider.options().introspect_client_id.clone()),
        },
    )
    .expect("the example API starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    base
}
