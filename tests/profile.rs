//! `--profile` and `AWS_PROFILE`: exactly that profile, from the shared config and
//! credentials files named by AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, wins
//! over keys in the environment (as in the AWS CLI); its region applies unless
//! AWS_REGION or --region says otherwise; its `endpoint_url` reaches moto. Two
//! profiles are two moto accounts: moto serves each request in the account its
//! access key was made in (tests/support/accounts.py). An unknown profile stops
//! before any AWS call.

mod common;

use std::path::Path;
use std::process::Command;

use common::{clean, cruddur_cmd, repo, stack, venv_bin, Moto, Run};

const ALPHA: &str = "111111111111";
const BETA: &str = "222222222222";

fn accounts(moto: &Moto, args: &[&str]) -> serde_json::Value {
    let out = clean(Command::new(venv_bin("python")))
        .arg(repo().join("tests/support/accounts.py"))
        .args(args)
        .envs(moto.env())
        .output()
        .unwrap();
    assert!(out.status.success(), "accounts.py {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

struct Profiles {
    dir: tempfile::TempDir,
}

impl Profiles {
    /// alpha: static keys in the credentials file, region eu-west-1; beta: a
    /// credential_process, region us-west-2. Both reach moto through endpoint_url.
    fn write(moto: &Moto) -> Profiles {
        let dir = tempfile::tempdir().unwrap();
        let alpha = accounts(moto, &["keys", ALPHA]);
        let beta = accounts(moto, &["keys", BETA]);
        let process = dir.path().join("beta-credentials.sh");
        let json = serde_json::json!({"Version": 1, "AccessKeyId": beta["AccessKeyId"], "SecretAccessKey": beta["SecretAccessKey"]});
        std::fs::write(&process, format!("#!/bin/sh\ncat <<'EOF'\n{json}\nEOF\n")).unwrap();
        std::fs::set_permissions(&process, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let url = &moto.url;
        std::fs::write(
            dir.path().join("config"),
            format!(
                "[profile alpha]\nregion = eu-west-1\nendpoint_url = {url}\n\n\
                 [profile beta]\nregion = us-west-2\nendpoint_url = {url}\ncredential_process = {}\n",
                process.display()
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("credentials"),
            format!(
                "[alpha]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                alpha["AccessKeyId"].as_str().unwrap(),
                alpha["SecretAccessKey"].as_str().unwrap()
            ),
        )
        .unwrap();
        Profiles { dir }
    }

    /// cruddur with these files, keys of the default account in the environment
    /// (which an explicit profile must ignore), and no endpoint or region in it.
    fn cruddur(&self, project: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
        let mut cmd = clean(cruddur_cmd(project));
        cmd.env("AWS_CONFIG_FILE", self.dir.path().join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.dir.path().join("credentials"))
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_SESSION_TOKEN", "not-a-session")
            .envs(stack::secrets())
            .envs(env.iter().copied())
            .args(args);
        Run::new(cmd.output().unwrap())
    }
}

/// The account line on stderr, from `account ` on.
fn identity(run: &Run) -> String {
    let line = run.stderr.lines().find_map(|l| l.find("account ").map(|i| &l[i..]));
    line.unwrap_or_else(|| panic!("no account line:\n{}", run.stderr)).to_string()
}

#[test]
fn each_profile_is_its_own_account_and_region() {
    let moto = Moto::start_recording();
    let profiles = Profiles::write(&moto);
    let project = repo();

    let alpha = profiles.cruddur(&project, &[], &["--profile", "alpha", "plan"]).ok();
    assert_eq!(identity(&alpha), format!("account {ALPHA} (profile alpha), region eu-west-1"));

    // What beta writes lands in beta's account and region, and nowhere else.
    let up = profiles.cruddur(&project, &[("AWS_PROFILE", "beta")], &["up"]).ok();
    let first = up.stderr.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        format!("converging stack cruddur: account {BETA} (profile beta), region us-west-2"),
        "{}",
        up.stderr
    );
    let status = profiles.cruddur(&project, &[("AWS_PROFILE", "beta")], &["status"]).ok();
    assert_eq!(identity(&status), format!("account {BETA} (profile beta), region us-west-2"));
    assert!(status.stdout.contains("backend (cruddur/backend-flask): ACTIVE"), "{}", status.stdout);
    let families = serde_json::json!(["backend-flask", "frontend-react-js"]);
    assert_eq!(accounts(&moto, &["families", BETA, "us-west-2"]), families);
    assert_eq!(accounts(&moto, &["families", ALPHA, "us-west-2"]), serde_json::json!([]));
    assert_eq!(accounts(&moto, &["families", "123456789012", "us-west-2"]), serde_json::json!([]));

    // The flag beats AWS_PROFILE; AWS_REGION beats the profile's region; --region beats both.
    let env = [("AWS_PROFILE", "beta"), ("AWS_REGION", "ap-south-1")];
    let flag = profiles.cruddur(&project, &env, &["--profile", "alpha", "plan"]).ok();
    assert_eq!(identity(&flag), format!("account {ALPHA} (profile alpha), region ap-south-1"));
    let env = [("AWS_DEFAULT_REGION", "ap-south-1")];
    let region = profiles.cruddur(&project, &env, &["--profile", "alpha", "--region", "sa-east-1", "plan"]).ok();
    assert_eq!(identity(&region), format!("account {ALPHA} (profile alpha), region sa-east-1"));
    // No profile: the environment's keys, in moto's default account.
    let env = [("AWS_ENDPOINT_URL", moto.url.as_str()), ("AWS_REGION", "us-east-1"), ("AWS_SESSION_TOKEN", "")];
    let default = profiles.cruddur(&project, &env, &["plan"]).ok();
    assert_eq!(identity(&default), "account 123456789012 (default credential chain), region us-east-1");
}

#[test]
fn an_unknown_profile_stops_before_any_call() {
    let moto = Moto::start_recording();
    let profiles = Profiles::write(&moto);
    let mark = moto.mark();
    for (env, args) in [
        (vec![], vec!["--profile", "nosuch", "plan"]),
        (vec![("AWS_PROFILE", "nosuch")], vec!["deploy", "backend", "--no-build"]),
        (vec![("AWS_ENDPOINT_URL", moto.url.as_str())], vec!["--profile", "alhpa", "up"]),
    ] {
        let run = profiles.cruddur(&repo(), &env, &args);
        let line = run.one_line_error(2);
        let profile = if args.contains(&"alhpa") { "alhpa" } else { "nosuch" };
        let dir = profiles.dir.path().display();
        assert_eq!(
            line,
            format!(
                "error: profile `{profile}` is not in {dir}/config and {dir}/credentials (profiles there: alpha, beta)"
            ),
            "{args:?}"
        );
        assert!(run.stderr.contains("hint: check the name (`aws configure list-profiles`)"), "{}", run.stderr);
    }
    assert_eq!(moto.requests().len(), mark, "an unknown profile made AWS calls");
}
