//! The checked-in generated model is what the generator makes from the pinned
//! botocore and aws-sdk-ecs. Needs the test venv (bin/test makes it); without it
//! this fails, it does not skip.

#[test]
fn the_generated_model_is_fresh() {
    let files = xtask::generate_from_pins().expect("the generator runs (the test venv holds botocore)");
    let root = xtask::workspace();
    let mut stale = Vec::new();
    for (path, text) in &files {
        if std::fs::read_to_string(root.join(path)).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.clone());
        }
    }
    for dir in ["src/model/generated", "src/aws/generated"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("the generated directory exists") {
            let path = format!("{dir}/{}", entry.unwrap().file_name().to_string_lossy());
            if !files.iter().any(|(p, _)| *p == path) {
                stale.push(format!("{path} (no longer generated)"));
            }
        }
    }
    assert!(stale.is_empty(), "stale generated files, run `cargo xtask gen-ecs-model`: {stale:?}");
}
