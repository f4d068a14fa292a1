//! Ingress drift on cruddur's security groups (issue 25, item 9), black-box
//! against moto: an IPv6 (`::/0`) rule and a managed-prefix-list rule added by
//! hand, which `ec2_groups` used to read past (so `up` said clean while they let
//! traffic in), are listed by `plan` and revoked by `up`; what cruddur intends
//! stays; a second `plan` is clean. The rules are added and read back with the
//! aws CLI.

mod common;

use common::stack::*;
use common::Moto;
use serde_json::{json, Value};

fn group(moto: &Moto, name: &str) -> Value {
    let filter = format!("Name=group-name,Values={name}");
    aws_json(moto, &["ec2", "describe-security-groups", "--filters", &filter])["SecurityGroups"][0].clone()
}

/// Every (port, source) the group admits, sources written as cruddur's plan writes them.
fn rules(moto: &Moto, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for p in group(moto, name)["IpPermissions"].as_array().unwrap() {
        let port = p["FromPort"].as_i64().unwrap_or(-1);
        let list = |key: &str, field: &str| -> Vec<String> {
            p[key].as_array().map_or(vec![], |a| a.iter().map(|r| r[field].as_str().unwrap().to_string()).collect())
        };
        out.extend(list("IpRanges", "CidrIp").into_iter().map(|c| format!("tcp {port} from {c}")));
        out.extend(list("Ipv6Ranges", "CidrIpv6").into_iter().map(|c| format!("tcp {port} from {c}")));
        out.extend(
            list("PrefixListIds", "PrefixListId").into_iter().map(|c| format!("tcp {port} from prefix list {c}")),
        );
        out.extend(list("UserIdGroupPairs", "GroupId").into_iter().map(|c| format!("tcp {port} from {c}")));
    }
    out.sort();
    out
}

fn allow(moto: &Moto, group_id: &str, permissions: Value) {
    aws_json(
        moto,
        &[
            "ec2",
            "authorize-security-group-ingress",
            "--group-id",
            group_id,
            "--ip-permissions",
            &permissions.to_string(),
        ],
    );
}

fn details(run: &common::Run, name: &str) -> Vec<String> {
    let changes = run.json()["changes"].as_array().unwrap().clone();
    let c = changes.iter().find(|c| c["resource"] == "security-group" && c["name"] == name).unwrap().clone();
    c["details"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string()).collect()
}

#[test]
fn ipv6_and_prefix_list_ingress_show_in_plan_and_up_revokes_them() {
    let moto = Moto::start();
    let dir = workspace(None);
    cruddur(&moto, dir.path(), &["up"]).ok();
    let (srv, alb) = ("crud-srv-sg", "cruddur-alb-sg");
    let intended = (rules(&moto, srv), rules(&moto, alb));
    let alb_id = group(&moto, alb)["GroupId"].as_str().unwrap().to_string();
    assert_eq!(intended.0, vec![format!("tcp 3000 from {alb_id}"), format!("tcp 4567 from {alb_id}")]);

    let pl = aws_json(
        &moto,
        &[
            "ec2",
            "create-managed-prefix-list",
            "--prefix-list-name",
            "office",
            "--max-entries",
            "2",
            "--address-family",
            "IPv4",
            "--entries",
            "Cidr=10.0.0.0/8",
        ],
    )["PrefixList"]["PrefixListId"]
        .as_str()
        .unwrap()
        .to_string();
    let srv_id = group(&moto, srv)["GroupId"].as_str().unwrap().to_string();
    allow(
        &moto,
        &srv_id,
        json!([
            {"IpProtocol": "tcp", "FromPort": 4567, "ToPort": 4567, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
            {"IpProtocol": "tcp", "FromPort": 4567, "ToPort": 4567, "PrefixListIds": [{"PrefixListId": pl}]}
        ]),
    );
    allow(
        &moto,
        &alb_id,
        json!([{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]),
    );
    assert_eq!(rules(&moto, srv).len(), 4);

    let plan = cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok();
    assert_eq!(
        details(&plan, srv),
        vec!["revoke tcp 4567 from ::/0".to_string(), format!("revoke tcp 4567 from prefix list {pl}")]
    );
    assert_eq!(details(&plan, alb), vec!["revoke tcp 443 from ::/0".to_string()]);
    assert_eq!(rules(&moto, srv).len(), 4, "plan revoked something");

    cruddur(&moto, dir.path(), &["up"]).ok();
    assert_eq!((rules(&moto, srv), rules(&moto, alb)), intended);
    let again = cruddur(&moto, dir.path(), &["plan", "--output", "json"]).ok();
    assert_eq!(changed(&again), vec![]);
}
