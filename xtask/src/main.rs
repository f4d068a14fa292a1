//! `cargo xtask gen-ecs-model`: writes the generated ECS definition model (see lib.rs).

fn main() {
    let task = std::env::args().nth(1).unwrap_or_default();
    if task != "gen-ecs-model" {
        eprintln!("usage: cargo xtask gen-ecs-model");
        std::process::exit(2);
    }
    let files = match xtask::generate_from_pins() {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let root = xtask::workspace();
    for dir in ["src/model/generated", "src/aws/generated"] {
        // Files that a smaller model no longer needs go too.
        let _ = std::fs::remove_dir_all(root.join(dir));
        std::fs::create_dir_all(root.join(dir)).expect("the generated directory can be made");
    }
    for (path, text) in &files {
        let path_buf = root.join(path);
        std::fs::create_dir_all(path_buf.parent().expect("a file has a directory")).expect("the directory can be made");
        std::fs::write(root.join(path), text).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    println!("wrote {} files under src/model/generated/ and src/aws/generated/", files.len());
}
