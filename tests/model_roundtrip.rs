//! Every member of the generated model reaches the wire, and comes back: the
//! definitions in tests/fixtures/every_member/ (generated with the model; each sets
//! every modelled member once) go through the model and the SDK's builders, and
//! the JSON the SDK sends is captured by a one-shot HTTP endpoint and compared with
//! the file. The live direction too: a DescribeTaskDefinition answer holding every
//! member reads back into the same definition.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use cruddur::model::generated::UpdateServiceInput;
use cruddur::model::json::from_value;
use cruddur::model::service_definition::ServiceDefinitionSpec;
use cruddur::model::task_definition::TaskDefinitionSpec;
use serde_json::Value;

fn fixture(name: &str) -> (String, Value) {
    let path = format!("{}/tests/fixtures/every_member/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let value = serde_json::from_str(&text).unwrap();
    (text, value)
}

/// An ECS endpoint that answers one request with `reply` and hands back the body it got.
fn endpoint(reply: String) -> (String, mpsc::Receiver<Value>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        tx.send(serde_json::from_slice(&body).unwrap()).unwrap();
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
            reply.len()
        )
        .unwrap();
    });
    (url, rx)
}

fn client(url: &str) -> aws_sdk_ecs::Client {
    let creds = aws_credential_types::Credentials::new("AKID", "secret", None, None, "test");
    let conf = aws_sdk_ecs::Config::builder()
        .behavior_version(aws_sdk_ecs::config::BehaviorVersion::latest())
        .region(aws_sdk_ecs::config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(creds)
        .build();
    aws_sdk_ecs::Client::from_conf(conf)
}

#[tokio::test]
async fn every_task_definition_member_reaches_the_register_call() {
    let (text, every) = fixture("register-task-definition");
    let spec = TaskDefinitionSpec::from_json(&text).unwrap();
    assert_eq!(serde_json::to_value(&spec).unwrap(), every, "the model keeps every member");
    let (url, sent) = endpoint("{}".into());
    let req = cruddur::aws::task_definition::register_input(&spec, client(&url).register_task_definition()).unwrap();
    req.send().await.unwrap();
    assert_eq!(sent.recv().unwrap(), every);
}

#[tokio::test]
async fn every_member_of_a_live_task_definition_reads_back() {
    let (_, mut every) = fixture("register-task-definition");
    every.as_object_mut().unwrap().remove("tags");
    let (url, _asked) = endpoint(serde_json::json!({ "taskDefinition": every }).to_string());
    let out = client(&url).describe_task_definition().task_definition("f").send().await.unwrap();
    let spec = cruddur::aws::task_definition::spec_from_sdk(out.task_definition().unwrap());
    assert_eq!(serde_json::to_value(&spec).unwrap(), every);
}

#[tokio::test]
async fn every_service_member_reaches_create_service_and_update_service() {
    let (text, every) = fixture("create-service");
    let spec = ServiceDefinitionSpec::from_json(&text).unwrap();
    assert_eq!(serde_json::to_value(&spec).unwrap(), every);
    let (url, sent) = endpoint("{}".into());
    spec.apply(client(&url).create_service()).send().await.unwrap();
    assert_eq!(sent.recv().unwrap(), every);

    let (_, every) = fixture("update-service");
    let update: UpdateServiceInput = from_value(every.clone()).unwrap();
    let (url, sent) = endpoint("{}".into());
    update.apply(client(&url).update_service()).send().await.unwrap();
    assert_eq!(sent.recv().unwrap(), every);
}
