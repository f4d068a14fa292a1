//! The frontend's build args in the repository's own cruddur.toml: the Cognito
//! endpoint is derived from the region unless CRUDDUR_COGNITO_ENDPOINT names one.

use std::path::{Path, PathBuf};

use cruddur::config::Project;
use cruddur::image::build_args;

#[test]
fn the_cognito_endpoint_follows_the_region() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("cruddur.toml")).unwrap();
    let project = Project::parse(&text, Path::new("cruddur.toml"), root).unwrap();
    let args = build_args(&project, project.service("frontend").unwrap(), "eu-west-1").unwrap();
    let expected = std::env::var("CRUDDUR_COGNITO_ENDPOINT")
        .unwrap_or_else(|_| "https://cognito-idp.eu-west-1.amazonaws.com/".into());
    assert_eq!(args["REACT_APP_AWS_COGNITO_ENDPOINT"], expected);
    assert_eq!(args["REACT_APP_AWS_COGNITO_REGION"], "eu-west-1");
}
