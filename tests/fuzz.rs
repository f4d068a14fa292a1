//! No panic from any input: property tests (proptest) over what a user or a
//! secret store hands cruddur as text. cruddur.toml parsing and validation (the
//! project's own file mutated line by line, and raw text), template rendering
//! (tera text rich in its syntax), env-file parsing, and the env-file writer's
//! round trip (whatever it writes reads back as the same pairs). Each target runs
//! a fixed number of generated inputs and prints the count; a panic fails the test
//! with the smallest input proptest shrinks it to.

use std::path::PathBuf;
use std::time::Instant;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `cases` inputs of `strategy` through `check`; prints how many and how long.
fn fuzz<S: Strategy>(name: &str, cases: u32, strategy: S, check: impl Fn(S::Value)) -> u32
where
    S::Value: std::fmt::Debug,
{
    let config = Config { cases, failure_persistence: None, max_shrink_iters: 2000, ..Config::default() };
    let started = Instant::now();
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |input| {
        check(input);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    eprintln!("fuzz {name}: {cases} inputs, no panic, {:.1}s", started.elapsed().as_secs_f64());
    cases
}

/// Text from an alphabet that hits the parsers' special characters often.
fn text(special: &'static str, max: usize) -> impl Strategy<Value = String> {
    let chars: Vec<char> = special.chars().chain("aZ09_ ".chars()).collect();
    prop_oneof![
        3 => proptest::collection::vec(proptest::sample::select(chars), 0..max).prop_map(|v| v.into_iter().collect()),
        1 => proptest::string::string_regex(&format!("(?s).{{0,{max}}}")).unwrap(),
    ]
}

/// A TOML value of any shape and edge: numbers at the limits, odd strings, arrays, tables.
fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        prop_oneof![
            Just("0"),
            Just("-1"),
            Just("65536"),
            Just("inf"),
            Just("nan"),
            Just("1e400"),
            Just("9223372036854775807")
        ]
        .prop_map(String::from),
        text("\"'\\{}%#/:.-*$\n", 24).prop_map(|s| toml::Value::String(s).to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("true".to_string()),
        text("\"'\\{}%#/:.-*$", 12).prop_map(|s| format!("[{}]", toml::Value::String(s))),
        prop_oneof![
            Just("\"{{ region }}\""),
            Just("\"{{ nope }}\""),
            Just("\"{% if %}\""),
            Just("\"/\""),
            Just("\"\"")
        ]
        .prop_map(String::from),
    ]
}

/// cruddur.toml with each line kept, dropped, given another value, or followed by a new line.
fn cruddur_toml() -> impl Strategy<Value = String> {
    let original = std::fs::read_to_string(repo().join("cruddur.toml")).unwrap();
    let lines: Vec<String> = original.lines().map(String::from).collect();
    let extra = prop_oneof![
        Just("[env.staging]".to_string()),
        Just("[env.staging.services.backend]".to_string()),
        Just("[services.extra]".to_string()),
        Just("[database]".to_string()),
        Just("[services.backend.routes]".to_string()),
        (
            proptest::sample::select(vec![
                "port",
                "host",
                "paths",
                "domain",
                "desired_count",
                "cpu",
                "memory",
                "health_path",
                "ecs_name",
                "name",
                "secrets",
                "default",
                "priority",
                "log_retention_days",
                "subnets",
                "exec_command",
                "image",
                "registry",
                "region",
                "load_balancer",
                "security_group",
                "deregistration_delay",
                "min_healthy_percent",
            ]),
            toml_value()
        )
            .prop_map(|(k, v)| format!("{k} = {v}")),
    ];
    // A few edits per file (each: a line, what to do there, a value, a new line).
    let edits = proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, toml_value(), extra), 1..6);
    edits.prop_map(move |edits| {
        let mut lines: Vec<String> = lines.clone();
        for (at, op, value, extra) in edits {
            let i = at.index(lines.len());
            match op {
                0 => {
                    lines.remove(i);
                }
                1 => match lines[i].split_once('=') {
                    Some((key, _)) if !lines[i].trim_start().starts_with('#') => lines[i] = format!("{key}= {value}"),
                    _ => lines.insert(i, extra),
                },
                _ => lines.insert(i, extra),
            }
        }
        lines.join("\n")
    })
}

fn config_check(text: &str) {
    let path = repo().join("cruddur.toml");
    for env in [None, Some("staging")] {
        if let Ok(project) = cruddur::config::Project::parse_env(text, &path, repo(), env) {
            let _ = cruddur::validate::project(&project);
        }
    }
}

fn render(text: &str) {
    let mut ctx = tera::Context::new();
    ctx.insert("region", "us-east-1");
    ctx.insert("port", &4567);
    ctx.insert("list", &vec!["a", "b"]);
    ctx.insert("map", &serde_json::json!({"k": {"n": 1}}));
    let _ = cruddur::template::render_str(text, "fuzz.tera", &ctx, &cruddur::template::Unresolved::new());
}

#[test]
fn no_input_makes_cruddur_panic() {
    let mut total = 0;
    total += fuzz("cruddur.toml (mutated)", 8_000, cruddur_toml(), |t| config_check(&t));
    total += fuzz("cruddur.toml (raw text)", 20_000, text("[]=\"'.{}#\n", 80), |t| config_check(&t));
    total += fuzz("template rendering", 35_000, text("{}%#|()'\"=.,~-[]\n", 48), |t| render(&t));
    let real: Vec<String> = ["task-definitions/backend-flask.json", "services/backend-flask.json"]
        .iter()
        .map(|p| std::fs::read_to_string(repo().join(p)).unwrap())
        .collect();
    let mutated = (proptest::sample::select(real), any::<prop::sample::Index>(), text("{}%|\"", 6)).prop_map(
        |(t, at, insert)| {
            let mut i = at.index(t.len() + 1);
            while !t.is_char_boundary(i) {
                i -= 1;
            }
            format!("{}{insert}{}", &t[..i], &t[i..])
        },
    );
    total += fuzz("templates (mutated)", 2_000, mutated, |t| render(&t));
    total += fuzz("env file parsing", 20_000, text("='\"\\#$`\n\r\t ", 60), |t| {
        let _ = cruddur::envfile::parse(&t, "fuzz.env");
        let _ = cruddur::envfile::template_lines(&t, "fuzz.env.tera");
    });
    let pairs = proptest::collection::vec(("[A-Z_][A-Z0-9_]{0,6}", text("='\"\\#$`{}\n\t ", 24)), 0..6);
    total += fuzz("env file round trip", 20_000, pairs, |pairs| {
        if let Ok(written) = cruddur::envfile::render(&pairs, "header", "fuzz.env") {
            let read = cruddur::envfile::parse(&written, "fuzz.env").unwrap();
            assert_eq!(read, pairs, "written:\n{written}");
        }
    });
    eprintln!("fuzz: {total} inputs in all");
    assert!(total >= 100_000);
}
