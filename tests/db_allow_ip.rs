//! `cruddur db allow-ip` against moto: the ingress rule described GITPOD on the
//! database's security group is replaced by this workspace's address, and nothing
//! else on the group changes (read back with boto3).

mod common;

use common::paging::scenario;
use common::stack::*;
use common::{clean, venv_bin, Moto, Run};
use serde_json::{json, Value};

fn python(moto: &Moto, script: &str) -> Value {
    let out =
        clean(std::process::Command::new(venv_bin("python"))).args(["-c", script]).envs(moto.env()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// The database's group, with the workspace rule (old address), an office rule and SSH.
fn seed(moto: &Moto, gitpod_rule: bool) {
    let rule = if gitpod_rule {
        r#"{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "1.2.3.4/32", "Description": "GITPOD"}]},"#
    } else {
        ""
    };
    python(
        moto,
        &format!(
            r#"
import boto3, json
ec2 = boto3.client("ec2")
vpc = ec2.describe_vpcs(Filters=[{{"Name": "isDefault", "Values": ["true"]}}])["Vpcs"][0]["VpcId"]
sg = ec2.create_security_group(GroupName="cruddur-db-sg", Description="rds", VpcId=vpc)["GroupId"]
ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{rule}
    {{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{{"CidrIp": "10.0.0.0/8", "Description": "office"}}]}},
    {{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{{"CidrIp": "0.0.0.0/0"}}]}}])
print(json.dumps(sg))
"#
        ),
    );
}

/// The group's ingress rules: (id, description, port, cidr), sorted by cidr.
fn rules(moto: &Moto) -> Vec<(String, String, i64, String)> {
    let v = python(
        moto,
        r#"
import boto3, json
ec2 = boto3.client("ec2")
sg = ec2.describe_security_groups(GroupNames=["cruddur-db-sg"])["SecurityGroups"][0]["GroupId"]
rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [sg]}])["SecurityGroupRules"]
print(json.dumps([[r["SecurityGroupRuleId"], r.get("Description", ""), r["FromPort"], r["CidrIpv4"]] for r in rules if not r["IsEgress"]]))
"#,
    );
    let mut out: Vec<(String, String, i64, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |i: usize| r[i].as_str().unwrap().to_string();
            (s(0), s(1), r[2].as_i64().unwrap(), s(3))
        })
        .collect();
    out.sort_by(|a, b| a.3.cmp(&b.3));
    out
}

fn with_database(dir: &std::path::Path) {
    let toml = dir.join("cruddur.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("{text}\n[database]\nsecurity_group = \"cruddur-db-sg\"\n")).unwrap();
}

fn allow(moto: &Moto, dir: &std::path::Path, args: &[&str], gitpod_ip: Option<&str>) -> Run {
    let mut cmd = clean(common::cruddur_cmd(dir));
    cmd.envs(moto.env()).args(["db", "allow-ip"]).args(args);
    if let Some(ip) = gitpod_ip {
        cmd.env("GITPOD_IP", ip);
    }
    Run::new(cmd.output().unwrap())
}

#[test]
fn the_gitpod_rule_is_replaced_and_nothing_else_changes() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    with_database(dir.path());
    seed(&moto, true);
    let before = rules(&moto);
    let old = before.iter().find(|r| r.1 == "GITPOD").unwrap().clone();
    assert_eq!(old.3, "1.2.3.4/32");

    let mark = moto.mark();
    let run = allow(&moto, dir.path(), &["--ip", "5.6.7.8", "--output", "json"], None).ok();
    assert_eq!(moto.writes_since(mark), ["ModifySecurityGroupRules"], "{}", run.stderr);
    assert_eq!(run.json()["action"], "replaced");
    assert_eq!(run.json()["was"], json!(["1.2.3.4/32"]));
    let after = rules(&moto);
    let gitpod: Vec<_> = after.iter().filter(|r| r.1 == "GITPOD").collect();
    assert_eq!(gitpod.len(), 1, "{after:?}");
    assert_eq!((gitpod[0].0.clone(), gitpod[0].2, gitpod[0].3.clone()), (old.0.clone(), 5432, "5.6.7.8/32".into()));
    let others =
        |rs: &[(String, String, i64, String)]| rs.iter().filter(|r| r.1 != "GITPOD").cloned().collect::<Vec<_>>();
    assert_eq!(others(&after), others(&before));

    // GITPOD_IP, as .gitpod.yml exports it; the same address again writes nothing.
    let mark = moto.mark();
    let again = allow(&moto, dir.path(), &[], Some("5.6.7.8")).ok();
    assert!(again.stdout.contains("unchanged"), "{}", again.stdout);
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());
}

#[test]
fn a_group_without_the_rule_gets_one() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    with_database(dir.path());
    seed(&moto, false);
    let run = allow(&moto, dir.path(), &[], Some("9.9.9.9")).ok();
    assert!(run.stdout.contains("created"), "{}", run.stdout);
    let gitpod: Vec<_> = rules(&moto).into_iter().filter(|r| r.1 == "GITPOD").collect();
    assert_eq!(gitpod.len(), 1);
    assert_eq!((gitpod[0].2, gitpod[0].3.as_str()), (5432, "9.9.9.9/32"));
}

#[test]
fn bad_input_changes_nothing() {
    let moto = Moto::start_recording();
    let dir = workspace(None);
    let no_table = allow(&moto, dir.path(), &["--ip", "5.6.7.8"], None);
    assert!(no_table.one_line_error(2).contains("[database]"), "{}", no_table.stderr);
    with_database(dir.path());
    let no_ip = allow(&moto, dir.path(), &[], None);
    assert!(no_ip.one_line_error(2).contains("GITPOD_IP"), "{}", no_ip.stderr);
    let bad_ip = allow(&moto, dir.path(), &["--ip", "5.6.7"], None);
    assert!(bad_ip.one_line_error(2).contains("not an IPv4 address"), "{}", bad_ip.stderr);
    assert_eq!(moto.writes_since(0), Vec::<String>::new());
}

/// Two rules described GITPOD, the old address and this one: the one with this address
/// stays (same rule id), the other goes, and a second run writes nothing. The rules
/// come in pages of one (DescribeSecurityGroupRules pages), and the proxy refuses a
/// rewrite to the address a rule of the group already has, as AWS does
/// (InvalidPermission.Duplicate; moto accepts it).
#[test]
fn two_gitpod_rules_become_one_without_a_duplicate() {
    let moto = Moto::with_rules(json!([
        scenario("pages-ec2-DescribeSecurityGroupRules", json!({})),
        scenario("ec2-modify-rule-duplicate", json!({"body_contains": "5.6.7.8", "always": true})),
    ]));
    let dir = workspace(None);
    with_database(dir.path());
    seed(&moto, true);
    python(
        &moto,
        r#"
import boto3
ec2 = boto3.client("ec2")
sg = ec2.describe_security_groups(GroupNames=["cruddur-db-sg"])["SecurityGroups"][0]["GroupId"]
ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
    {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "5.6.7.8/32", "Description": "GITPOD"}]}])
"#,
    );
    let before = rules(&moto);
    let gitpod =
        |rs: &[(String, String, i64, String)]| rs.iter().filter(|r| r.1 == "GITPOD").cloned().collect::<Vec<_>>();
    assert_eq!(gitpod(&before).len(), 2, "{before:?}");
    let kept = before.iter().find(|r| r.3 == "5.6.7.8/32").unwrap().clone();

    let mark = moto.mark();
    let run = moto.cruddur_with(dir.path(), &["db", "allow-ip", "--ip", "5.6.7.8", "--output", "json"], &[]).ok();
    assert_eq!(moto.injected("ec2-modify-rule-duplicate"), 0, "no rewrite into a duplicate: {}", run.stderr);
    assert_eq!(moto.writes_since(mark), ["RevokeSecurityGroupIngress"], "{}", run.stderr);
    assert_eq!(run.json()["action"], "kept");
    let after = rules(&moto);
    assert_eq!(gitpod(&after), vec![kept], "{after:?}");
    let others =
        |rs: &[(String, String, i64, String)]| rs.iter().filter(|r| r.1 != "GITPOD").cloned().collect::<Vec<_>>();
    assert_eq!(others(&after), others(&before));

    let mark = moto.mark();
    let again = moto.cruddur_with(dir.path(), &["db", "allow-ip", "--ip", "5.6.7.8"], &[]).ok();
    assert!(again.stdout.contains("unchanged"), "{}", again.stdout);
    assert_eq!(moto.writes_since(mark), Vec::<String>::new());

    // Two rules again, neither with the new address: the first is rewritten, the other goes.
    python(
        &moto,
        r#"
import boto3
ec2 = boto3.client("ec2")
sg = ec2.describe_security_groups(GroupNames=["cruddur-db-sg"])["SecurityGroups"][0]["GroupId"]
ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
    {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "1.2.3.4/32", "Description": "GITPOD"}]}])
"#,
    );
    let mark = moto.mark();
    let run = moto.cruddur_with(dir.path(), &["db", "allow-ip", "--ip", "9.9.9.9", "--output", "json"], &[]).ok();
    assert_eq!(run.json()["action"], "replaced");
    assert_eq!(moto.writes_since(mark), ["ModifySecurityGroupRules", "RevokeSecurityGroupIngress"]);
    let last = gitpod(&rules(&moto));
    assert_eq!(last.len(), 1, "{last:?}");
    assert_eq!((last[0].2, last[0].3.as_str()), (5432, "9.9.9.9/32"));
}
