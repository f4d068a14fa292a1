//! `cruddur connect` through the built-in Session Manager client, with no
//! session-manager-plugin on PATH, against an agent-like data-channel peer
//! (tests/support/ssm_peer.py, written from amazon-ssm-agent's semantics) that
//! runs the command on a real pty. ECS is the stand-in endpoint; KMS is moto.

mod common;

use common::ecs_exec::{running, Exec, TASK};
use serde_json::{json, Value};

fn with_channel(channel: Value) -> Exec {
    let mut sc = running();
    sc["dataChannel"] = channel;
    Exec::start(sc)
}

fn marker_free(out: &str) -> bool {
    !out.contains("__CRUDDUR_EXIT_")
}

#[test]
fn command_returns_the_remote_exit_status() {
    let exec = with_channel(json!({}));
    let three = exec.cruddur(&["connect", TASK, "--command", "echo out; exit 3"], false);
    let report = exec.report(&three);
    assert_eq!(three.code, 3, "{report}");
    assert_eq!(three.stdout, "out\r\n", "{report}");
    assert!(three.stderr.contains("error: the remote command exited with status 3"), "{report}");

    let zero = exec.cruddur(&["connect", TASK, "--command", "printf 'no newline'"], false);
    let report = exec.report(&zero);
    assert_eq!(zero.code, 0, "{report}");
    assert_eq!(zero.stdout, "no newline", "{report}");
    assert!(marker_free(&zero.stdout) && marker_free(&zero.stderr), "{report}");

    // ECS was asked to run the command wrapped, split by shlex as the agent does.
    let bodies = exec.execute_bodies();
    let sent = bodies[0]["command"].as_str().unwrap();
    assert!(sent.starts_with("/bin/sh -c '(echo out; exit 3\n); printf "), "{sent}");
    // The opening frame was text and carried the token; no plugin was involved.
    let openings = exec.events_named("opening");
    assert_eq!(openings.len(), 2, "{report}");
    assert!(openings.iter().all(|o| o["ok"] == true && o["text"] == true), "{report}");
    assert_eq!(
        openings[0]["keys"],
        json!(["ClientId", "ClientVersion", "MessageSchemaVersion", "RequestId", "TokenValue"]),
        "{report}"
    );
    assert!(exec.plugin_calls().is_empty());
}

#[test]
fn handshake_then_a_withheld_ack_makes_the_client_resend_the_identical_frame() {
    let exec = with_channel(json!({"handshake": true, "withholdAcks": 1, "customerMessage": "hello from the peer"}));
    let run = exec.cruddur_input(&["connect", TASK, "--command", "head -n1"], "typed line\n");
    let report = exec.report(&run);
    assert_eq!(run.code, 0, "{report}");
    assert!(run.stdout.contains("typed line\r\n"), "{report}");
    assert!(run.stderr.contains("hello from the peer"), "{report}");
    let response = &exec.events_named("handshake_response")[0]["response"];
    assert_eq!(response["ProcessedClientActions"][0]["ActionType"], "SessionType", "{report}");
    assert_eq!(response["ProcessedClientActions"][0]["ActionStatus"], 1, "{report}");
    // The first input (the HandshakeResponse) went unacked and came again, byte for byte.
    let again = exec.events_named("input_again");
    assert!(!again.is_empty(), "{report}");
    assert_eq!(again[0]["seq"], 0, "{report}");
    assert!(again.iter().all(|e| e["identical"] == true), "{report}");
    // What was typed reached the pty, followed by ^D for the end of the pipe.
    let typed: String = exec.events_named("stdin").iter().map(|e| e["data"].as_str().unwrap().to_string()).collect();
    assert!(typed.starts_with("typed line\n"), "{report}");
}

#[test]
fn out_of_order_duplicate_and_corrupted_frames() {
    let exec = with_channel(json!({
        "banner": ["first\r\n", "second\r\n", "third\r\n"],
        "order": [1, 0, 0, 2],
        "badDigest": true,
    }));
    let run = exec.cruddur(&["connect", TASK, "--command", "echo done"], false);
    let report = exec.report(&run);
    assert_eq!(run.code, 0, "{report}");
    assert_eq!(run.stdout, "first\r\nsecond\r\nthird\r\ndone\r\n", "{report}");
    let events = exec.events();
    let acks_of = |seq: i64| events.iter().filter(|e| e["event"] == "ack" && e["seq"] == seq).count();
    assert!(acks_of(0) >= 2, "the duplicate is acked again\n{report}");
    // The frame sent with a wrong digest was not acked; its resend was.
    let resend_at = events.iter().position(|e| e["event"] == "peer_resend" && e["seq"] == 1);
    let first_ack = events.iter().position(|e| e["event"] == "ack" && e["seq"] == 1);
    assert!(resend_at.is_some() && first_ack > resend_at, "{report}");
    // Every ack names what it acks, with the flags acks carry.
    assert!(events.iter().filter(|e| e["event"] == "ack").all(|e| e["flags"] == 3
        && e["ackedType"] == "output_stream_data"
        && e["idOk"] == true
        && e["ackedId"].as_str().is_some_and(|s| s.len() == 36)));
}

#[test]
fn paused_publication_holds_input_and_a_short_channel_closed_ends_it() {
    let exec = with_channel(json!({"pause": true, "banner": ["paused\r\n"], "closedHeader": 112}));
    let run = exec.cruddur_input(&["connect", TASK, "--command", "head -n1"], "after start\n");
    let report = exec.report(&run);
    assert_eq!(run.code, 0, "{report}");
    assert!(run.stdout.starts_with("paused\r\n") && run.stdout.contains("after start\r\n"), "{report}");
    let events = exec.events();
    assert!(events.iter().any(|e| e["event"] == "start_publication"), "{report}");
    assert!(!events.iter().any(|e| e["event"] == "input" && e["paused"] == true), "input while paused\n{report}");
    assert_eq!(exec.events_named("channel_closed")[0]["header"], 112, "{report}");
}

#[test]
fn kms_encrypted_session_with_a_moto_key() {
    let exec = with_channel(json!({}));
    let key = exec.moto.aws(&["kms", "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"]);
    assert!(key.status.success(), "{}", String::from_utf8_lossy(&key.stderr));
    let key_id = String::from_utf8_lossy(&key.stdout).trim().to_string();
    let mut sc = running();
    sc["dataChannel"] = json!({"kmsKeyId": key_id, "customerMessage": "encrypted"});
    exec.scenario(sc);
    let run = exec.cruddur_input(&["connect", TASK, "--command", "head -n1"], "secret words\n");
    let report = exec.report(&run);
    assert_eq!(run.code, 0, "{report}");
    assert!(run.stdout.contains("secret words\r\n"), "{report}");
    let challenge = &exec.events_named("challenge");
    assert_eq!(challenge.len(), 1, "{report}");
    assert_eq!(challenge[0]["ok"], true, "{report}");
    assert_eq!(challenge[0]["keyBytes"], 64, "{report}");
    let actions = &exec.events_named("handshake_response")[0]["response"]["ProcessedClientActions"];
    let kms = actions.as_array().unwrap().iter().find(|a| a["ActionType"] == "KMSEncryption").unwrap();
    assert!(kms["ActionResult"]["KMSCipherTextKey"].as_str().is_some_and(|s| !s.is_empty()), "{report}");
    // The peer could only read the typed line by decrypting it with the other half.
    let typed: String = exec.events_named("stdin").iter().map(|e| e["data"].as_str().unwrap().to_string()).collect();
    assert!(typed.starts_with("secret words\n"), "{report}");
}

#[test]
fn a_dropped_connection_is_a_clear_error() {
    let exec = with_channel(json!({"dropAfter": "ready"}));
    let run = exec.cruddur(&["connect", TASK, "--command", "echo ready; sleep 20"], false);
    let report = exec.report(&run);
    assert_eq!(run.code, 1, "{report}");
    assert!(run.stdout.contains("ready"), "{report}");
    let lines: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error: ") || l.starts_with("hint: ")).collect();
    assert_eq!(
        lines,
        [
            "error: the Session Manager data channel: the data channel was closed before the session ended (no channel_closed from the agent)",
            "hint: check the network path to ssmmessages; `--plugin` uses session-manager-plugin instead",
        ],
        "{report}"
    );
}

#[test]
fn an_interactive_shell_on_a_pipe_exits_zero_when_the_channel_closes() {
    let exec = with_channel(json!({"handshake": true}));
    // No --command: the service's exec command (a shell); the pipe's end is ^D.
    let run = exec.cruddur_input(&["connect", TASK], "echo from-shell $((6*7))\n");
    let report = exec.report(&run);
    assert_eq!(run.code, 0, "{report}");
    assert!(run.stdout.contains("from-shell 42"), "{report}");
    assert!(marker_free(&run.stdout), "{report}");
}

/// pyssm-client (PyPI, an independent implementation) against the same peer, to
/// validate the peer with a client we did not write. bin/test makes its venv
/// (.venv-ssm, Python >= 3.12) when such a Python exists.
#[test]
fn pyssm_client_passes_against_the_same_peer() {
    let venv = std::env::var_os("CRUDDUR_SSM_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| common::repo().join(".venv-ssm"));
    let pyssm = venv.join("bin/pyssm");
    if !pyssm.exists() {
        eprintln!(
            "SKIPPED: pyssm-client cross-check: no {} (needs Python >= 3.12; bin/test makes it)",
            pyssm.display()
        );
        return;
    }
    let scenarios = [
        json!({"command": "echo from-peer"}),
        json!({"command": "sh -c 'echo after; exit 0'", "handshake": true, "banner": ["one\r\n", "two\r\n"],
               "order": [1, 0], "closedHeader": 112}),
    ];
    let expected = ["from-peer\r\n", "one\r\ntwo\r\nafter\r\n"];
    for (i, (mut sc, want)) in scenarios.into_iter().zip(expected).enumerate() {
        let dir = tempfile::tempdir().unwrap();
        sc["sessionId"] = json!(format!("pyssm-{i}"));
        sc["token"] = json!("pyssm-token");
        let file = dir.path().join("scenario.json");
        std::fs::write(&file, sc.to_string()).unwrap();
        let url_file = dir.path().join("url");
        let peer_log = std::fs::File::create(dir.path().join("peer.stderr")).unwrap();
        let mut peer = std::process::Command::new(common::venv_bin("python"))
            .arg(common::repo().join("tests/support/ssm_peer.py"))
            .arg(&file)
            .arg(&url_file)
            .stderr(peer_log)
            .spawn()
            .unwrap();
        // The peer writes its URL (atomically) once it listens.
        while !url_file.exists() {
            assert!(
                peer.try_wait().unwrap().is_none(),
                "the peer exited: {:?}",
                std::fs::read_to_string(dir.path().join("peer.stderr"))
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let url = std::fs::read_to_string(&url_file).unwrap();
        let args = json!({"SessionId": sc["sessionId"], "StreamUrl": url, "TokenValue": "pyssm-token"});
        let out = std::process::Command::new(&pyssm)
            .args(["connect", &args.to_string()])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let _ = peer.kill();
        let _ = peer.wait();
        let events = std::fs::read_to_string(dir.path().join("scenario.json.events.jsonl")).unwrap_or_default();
        let report = format!(
            "scenario {sc}\nexit {:?}\nstdout {:?}\nstderr {}\nevents:\n{events}\npeer stderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(dir.path().join("peer.stderr")).unwrap_or_default()
        );
        assert!(out.status.success(), "{report}");
        assert!(String::from_utf8_lossy(&out.stdout).starts_with(want), "{report}");
        let events: Vec<Value> = events.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        assert!(events.iter().any(|e| e["event"] == "opening" && e["ok"] == true), "{report}");
        assert!(events.iter().any(|e| e["event"] == "channel_closed"), "{report}");
        assert!(events.iter().filter(|e| e["event"] == "ack").all(|e| e["idOk"] == true), "{report}");
    }
}

/// cruddur on a real pty (tests/support/pty_drive.py): typing, a resize, Ctrl-D,
/// and the terminal's settings (`stty -g`) back as they were, also after the
/// connection drops mid-session.
#[test]
fn on_a_real_terminal_raw_mode_resize_ctrl_d_and_the_settings_restored() {
    let exec = with_channel(json!({"handshake": true}));
    let drive = |mode: &str, command: &str| -> Value {
        let out = common::clean(std::process::Command::new(common::venv_bin("python")))
            .current_dir(common::repo())
            .envs(exec.env(false))
            .arg(common::repo().join("tests/support/pty_drive.py"))
            .arg(exec.dir.path().join("scenario.json.events.jsonl"))
            .arg(mode)
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_cruddur"))
            .args(["connect", TASK, "--command", command])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("driver: {text}\n{}", String::from_utf8_lossy(&out.stderr)))
    };
    // The quotes keep the prompt the driver waits for out of cruddur's own
    // "connecting to … (command)" line, which is on the same terminal.
    let shell = drive("shell", "env 'PS1=pe''er> ' /bin/sh");
    let report = format!("{shell:#}\nevents: {:?}", exec.events());
    assert_eq!(shell["status"], 0, "{report}");
    assert_eq!(shell["after"], shell["before"], "terminal settings not restored\n{report}");
    assert_ne!(shell["during"], shell["before"], "no raw mode\n{report}");
    let sizes: Vec<(i64, i64)> =
        exec.events_named("size").iter().map(|e| (e["cols"].as_i64().unwrap(), e["rows"].as_i64().unwrap())).collect();
    assert_eq!(sizes.first(), Some(&(100, 30)), "{report}");
    assert_eq!(sizes.last(), Some(&(120, 40)), "{report}");

    let mut sc = running();
    sc["dataChannel"] = json!({"dropAfter": "ready"});
    exec.scenario(sc);
    let dropped = drive("drop", "sh -c 'echo rea\"\"dy; sleep 20'");
    let report = format!("{dropped:#}");
    assert_eq!(dropped["status"], 1, "{report}");
    assert_eq!(dropped["after"], dropped["before"], "terminal settings not restored\n{report}");
    assert!(dropped["output"].as_str().unwrap().contains("error: the Session Manager data channel"), "{report}");
}
