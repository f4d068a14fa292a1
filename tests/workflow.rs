//! The shipped GitHub Actions files, read as the runner would: the deploy workflow
//! gives `id-token: write` to the deploy job alone, every action in it and in the
//! composite `action.yml` is pinned by a full commit SHA with its tag in a comment,
//! and the composite action passes its input to the shell through the environment,
//! never by expanding `${{ inputs.* }}` inside a script. The YAML is parsed with the
//! test venv's PyYAML (the aws CLI's dependency).

mod common;

use common::{repo, venv_bin};
use serde_json::Value;

/// The YAML file as JSON, through PyYAML.
fn yaml(path: &str) -> Value {
    let script = "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))";
    let out =
        std::process::Command::new(venv_bin("python")).args(["-c", script]).arg(repo().join(path)).output().unwrap();
    assert!(out.status.success(), "{path}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn text(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap()
}

/// Each `uses:` line that does not pin a full commit SHA with a `# tag` comment.
fn unpinned(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("- uses:").or_else(|| l.strip_prefix("uses:")))
        .map(str::trim)
        .filter(|u| {
            let Some((_, rest)) = u.split_once('@') else { return true };
            let (sha, comment) = rest.split_once(" # ").unwrap_or((rest, ""));
            !(sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()) && !comment.trim().is_empty())
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn the_pin_check_tells_a_sha_from_a_tag() {
    let good = "- uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0";
    assert!(unpinned(good).is_empty());
    assert_eq!(unpinned("  - uses: actions/checkout@v4"), ["actions/checkout@v4"]);
    assert_eq!(unpinned("uses: a/b@11d5960a326750d5838078e36cf38b85af677262").len(), 1, "no tag comment");
}

#[test]
fn only_the_deploy_job_may_mint_an_oidc_token() {
    let workflow = yaml(".github/workflows/deploy.yml");
    assert!(workflow["permissions"].get("id-token").is_none(), "workflow-wide: {}", workflow["permissions"]);
    assert_eq!(workflow["permissions"]["contents"], "read");
    let jobs = workflow["jobs"].as_object().unwrap();
    for (name, job) in jobs {
        let token = &job["permissions"]["id-token"];
        if name == "deploy" {
            assert_eq!(token, "write", "the deploy job assumes the role with OIDC");
        } else {
            assert!(token.is_null() || token == "none", "{name} may mint an OIDC token");
        }
    }
    assert!(jobs["deploy"]["needs"] == "test", "deploy runs after the tests");
}

#[test]
fn every_action_is_pinned_by_commit_sha() {
    for path in [".github/workflows/deploy.yml", "action.yml"] {
        let found = unpinned(&text(path));
        assert!(found.is_empty(), "{path}: pin these by full commit SHA with the tag in a comment: {found:?}");
    }
    assert!(text(".github/workflows/deploy.yml").matches("uses:").count() >= 4);
}

#[test]
fn the_composite_action_installs_cruddur_and_runs_the_command_from_its_input() {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"], "composite");
    assert_eq!(action["inputs"]["command"]["required"], true);
    let steps = action["runs"]["steps"].as_array().unwrap();
    let scripts: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(scripts.iter().any(|s| s.contains("cargo install --locked")), "{scripts:?}");
    for script in &scripts {
        assert!(!script.contains("${{"), "an expression expanded inside a script: {script}");
    }
    let run = steps.iter().find(|s| s["id"] == "run").expect("the step that runs cruddur");
    assert_eq!(run["env"]["CRUDDUR_ARGS"], "${{ inputs.command }}");
    for output in ["task-definition-arn", "image", "service-url"] {
        assert_eq!(action["outputs"][output]["value"], format!("${{{{ steps.run.outputs.{output} }}}}"));
    }
}
