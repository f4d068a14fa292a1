//! `cruddur build` on the engine's BuildKit through the Engine API (no docker CLI,
//! no buildx): a Dockerfile the classic builder refuses (a cache mount and a secret
//! mount) builds; the secret reaches its step from the environment or the env file,
//! and is in no layer of the image, no output line and no error.

mod common;
#[path = "common/docker.rs"]
mod docker_support;

use common::Run;
use docker_support::docker;
use sha2::Digest;

/// A project name of its own, also when cargo test runs these tests as threads of
/// one process (nextest runs each in its own).
fn unique_name(prefix: &str) -> String {
    static PROJECTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = PROJECTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}{}x{n}", std::process::id())
}

/// A one-service project `kit` whose Dockerfile uses a cache mount (its own id, so
/// no other build shares it) and the secret NPM_TOKEN.
fn project(with_secrets: bool) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let unique = format!("{}-{}", std::process::id(), std::time::UNIX_EPOCH.elapsed().unwrap().as_nanos());
    let name = unique_name("kit");
    let base = &docker_support::image_env()[0].1;
    let secrets = if with_secrets { "secrets = [\"NPM_TOKEN\"]\n" } else { "" };
    std::fs::write(
        dir.path().join("cruddur.toml"),
        format!("[project]\nname = \"{name}\"\n[services.kit]\n[services.kit.build]\ncontext = \".\"\n{secrets}[services.kit.build.args]\nBASE = \"{base}\"\n"),
    )
    .unwrap();
    let dockerfile = format!(
        "ARG BASE\nFROM ${{BASE}}\nRUN echo {unique} > /prepared\nCOPY input.txt /input.txt\nCOPY . /context/\n\
         RUN --mount=type=cache,id=cruddur-test-{unique},target=/cache cat /input.txt >> /cache/seen && wc -l < /cache/seen > /cache-lines\n\
         RUN --mount=type=secret,id=NPM_TOKEN sha256sum /run/secrets/NPM_TOKEN | cut -d' ' -f1 > /token.sha256 && echo \"token is $(cat /run/secrets/NPM_TOKEN)\"\n"
    );
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    std::fs::write(dir.path().join("input.txt"), "one\n").unwrap();
    (dir, format!("{name}/kit:latest"))
}

fn build(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = common::clean(common::cruddur_cmd(dir));
    cmd.env_remove("NPM_TOKEN").args(args).envs(env.iter().copied());
    Run::new(cmd.output().unwrap())
}

fn read(image: &str, path: &str) -> String {
    docker(&["run", "--rm", image, "cat", path])
}

fn sha256(value: &str) -> String {
    sha2::Sha256::digest(value.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Every byte of the image as `docker save` writes it: each layer's tar, the config
/// and its history, uncompressed.
fn saved(image: &str) -> Vec<u8> {
    let out = std::process::Command::new("docker").args(["save", image]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn cache_and_secret_mounts_build_on_buildkit_and_the_secret_stays_out_of_the_image() {
    let secret = format!("npm-secret-{}", std::time::UNIX_EPOCH.elapsed().unwrap().as_nanos());
    let (dir, image) = project(true);

    // The secret from the environment.
    let run = build(dir.path(), &["build", "kit", "--output", "json"], &[("NPM_TOKEN", &secret)]).ok();
    assert_eq!(run.json()[0]["builder"], "buildkit", "{}", run.stdout);
    assert!(run.stderr.contains("from Dockerfile (BuildKit)"), "{}", run.stderr);
    // Whole progress lines: the steps numbered, as `docker build --progress=plain`.
    assert!(
        run.stderr.lines().any(|l| l.starts_with("[kit] #") && l.contains("RUN --mount=type=cache")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.lines().any(|l| l.starts_with("[kit] #") && l.contains(" DONE ")), "{}", run.stderr);
    assert!(
        run.stderr.contains("token is [secret NPM_TOKEN]"),
        "the step's output, the value replaced: {}",
        run.stderr
    );
    assert!(!run.stderr.contains(&secret) && !run.stdout.contains(&secret), "{}", run.stderr);
    assert_eq!(read(&image, "/token.sha256"), sha256(&secret), "the step read the secret");
    assert_eq!(read(&image, "/cache-lines"), "1");
    assert!(!contains(&saved(&image), &secret), "the secret is in no layer, config or history of {image}");

    // The secret from the env file; the cache mount kept what the first build wrote,
    // and the steps before the changed input are cached.
    let from_file = format!("{secret}-from-file");
    std::fs::write(dir.path().join("kit.env"), format!("NPM_TOKEN={from_file}\n")).unwrap();
    std::fs::write(dir.path().join("kit.staging.env"), "NPM_TOKEN=staging-value\n").unwrap();
    std::fs::write(dir.path().join("notes.env"), "not cruddur's\n").unwrap();
    std::fs::write(dir.path().join("input.txt"), "two\n").unwrap();
    let run = build(dir.path(), &["build", "kit"], &[]).ok();
    assert!(run.stderr.lines().any(|l| l.starts_with("[kit] #") && l.ends_with(" CACHED")), "{}", run.stderr);
    assert!(!run.stderr.contains(&from_file), "{}", run.stderr);
    assert_eq!(read(&image, "/token.sha256"), sha256(&from_file));
    assert_eq!(read(&image, "/cache-lines"), "2", "the cache mount outlived the first build");
    assert!(!contains(&saved(&image), &from_file));
    // `COPY . /context/` took the whole context: the env file, which holds the
    // secret's value, was never in it.
    let copied = docker(&["run", "--rm", &image, "ls", "-a", "/context"]);
    assert!(copied.contains("input.txt") && copied.contains("cruddur.toml"), "{copied}");
    assert!(
        copied.contains("notes.env") && !copied.contains("kit.env") && !copied.contains("kit.staging.env"),
        "{copied}"
    );

    // Unchanged inputs: the image is re-tagged, and needs no secret value.
    std::fs::remove_file(dir.path().join("kit.env")).unwrap();
    std::fs::remove_file(dir.path().join("kit.staging.env")).unwrap();
    let run = build(dir.path(), &["build", "kit", "--output", "json"], &[]).ok();
    assert_eq!(run.json()[0]["skipped"], true, "{}", run.stderr);

    // No value anywhere: one error naming the secret, before any build.
    std::fs::write(dir.path().join("input.txt"), "three\n").unwrap();
    let run = build(dir.path(), &["build", "kit"], &[]);
    let line = run.one_line_error(2);
    assert_eq!(line, "error: no value for the secrets NPM_TOKEN (build secret of kit)");

    // The classic builder cannot serve secrets: refused before the engine is asked.
    let run = build(dir.path(), &["build", "kit", "--builder", "classic"], &[("NPM_TOKEN", &secret)]);
    assert!(run.one_line_error(2).contains("kit: build secrets need BuildKit"), "{}", run.stderr);
}

#[test]
fn the_classic_builder_refuses_the_mounts_buildkit_runs() {
    let (dir, _) = project(false);
    let run = build(dir.path(), &["build", "kit", "--builder", "classic"], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("the --mount option requires BuildKit"), "{}", run.stderr);
}

#[test]
fn a_build_secret_id_must_be_a_variable_name() {
    let (dir, _) = project(true);
    let toml = dir.path().join("cruddur.toml");
    let text = std::fs::read_to_string(&toml).unwrap().replace("\"NPM_TOKEN\"", "\"npm-token\"");
    std::fs::write(&toml, text).unwrap();
    let line = build(dir.path(), &["build", "kit"], &[]).one_line_error(2);
    assert!(line.contains("services.kit.build.secrets: \"npm-token\" is not a variable name"), "{line}");
}

/// The arm64 base image bin/test makes (bin/lib/arm64.sh).
fn arm64_base() -> String {
    std::env::var("CRUDDUR_ARM64_BASE_IMAGE").unwrap_or_else(|_| {
        panic!("CRUDDUR_ARM64_BASE_IMAGE is not set: run the tests with bin/test, which registers the arm64 emulator and makes the arm64 base image (bin/lib/arm64.sh)")
    })
}

/// A project from `init` with one worker, `kit`, on ARM64: its task definition's
/// runtimePlatform says so, or (`by_key`) `arch = "arm64"` in cruddur.toml over the
/// template's X86_64. Built from `dockerfile` with BASE (arm64) and HOST_BASE (this
/// machine's).
fn arm64_project(dockerfile: &str, by_key: bool) -> (tempfile::TempDir, String) {
    arm64_service(dockerfile, by_key, "kit")
}

/// As arm64_project, for `kit` as init's `--service` gives it (`kit:3000`: a web service).
fn arm64_service(dockerfile: &str, by_key: bool, service: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let name = unique_name("arm");
    let mut init = common::clean(common::cruddur_cmd(dir.path()));
    init.args(["init", "--name", &name, "--region", "us-east-1", "--service", service]);
    Run::new(init.output().unwrap()).ok();
    let td = dir.path().join("task-definitions/kit.json");
    let text = std::fs::read_to_string(&td).unwrap();
    assert!(text.contains("\"cpuArchitecture\": \"X86_64\""), "{text}");
    if !by_key {
        std::fs::write(&td, text.replace("\"X86_64\"", "\"ARM64\"")).unwrap();
    }
    let toml = dir.path().join("cruddur.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    let text = if by_key { text.replace("[services.kit]\n", "[services.kit]\narch = \"arm64\"\n") } else { text };
    std::fs::write(&toml, text).unwrap();
    let host_base = &docker_support::image_env()[0].1;
    let table = format!(
        "\n[services.kit.build]\ncontext = \".\"\n[services.kit.build.args]\nBASE = \"{}\"\nHOST_BASE = \"{host_base}\"\n",
        arm64_base()
    );
    std::fs::write(&toml, std::fs::read_to_string(&toml).unwrap() + &table).unwrap();
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    (dir, name)
}

/// A file of the image, copied out without running anything of it.
fn file_of(image: &str, path: &str) -> Vec<u8> {
    let container = docker(&["create", image, "/bin/true"]);
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("file");
    docker(&["cp", &format!("{container}:{path}"), target.to_str().unwrap()]);
    docker(&["rm", &container]);
    std::fs::read(&target).unwrap_or_else(|e| panic!("{path} of {image}: {e}"))
}

#[test]
fn an_arm64_image_builds_here_under_emulation_and_is_pushed_as_arm64() {
    let moto = common::Moto::start();
    let registry = docker_support::Registry::start(None);
    let dockerfile = "ARG BASE\nFROM ${BASE}\nRUN uname -m > /built-on && cp /bin/busybox /usr/local/bin/tool\n";
    let (dir, name) = arm64_project(dockerfile, false);
    let image = format!("{name}/kit:latest");
    let run = build(dir.path(), &["build", "kit", "--output", "json"], &[]).ok();
    let built = &run.json()[0];
    assert_eq!((built["platform"].as_str(), built["builder"].as_str()), (Some("linux/arm64"), Some("buildkit")));
    assert!(
        run.stderr.contains("kit: building for linux/arm64 under emulation on a linux/amd64 engine"),
        "{}",
        run.stderr
    );
    assert_eq!(docker(&["image", "inspect", "-f", "{{.Os}}/{{.Architecture}}", &image]), "linux/arm64");
    // The build's RUN ran as aarch64, and the binary it wrote is an aarch64 ELF.
    assert_eq!(String::from_utf8_lossy(&file_of(&image, "/built-on")).trim(), "aarch64");
    let tool = file_of(&image, "/usr/local/bin/tool");
    assert_eq!((&tool[..4], tool[4], u16::from_le_bytes([tool[18], tool[19]])), (&b"\x7fELF"[..], 2, 0xb7));

    // Pushed, the registry's manifest names an arm64 image config.
    let mut push = common::clean(common::cruddur_cmd(dir.path()));
    push.envs(moto.env()).args(["push", "kit", "--registry", &registry.host]);
    Run::new(push.output().unwrap()).ok();
    let repo = format!("{name}-kit");
    let manifest = registry.json(&format!("/v2/{repo}/manifests/latest"));
    let config = registry.json(&format!("/v2/{repo}/blobs/{}", manifest["config"]["digest"].as_str().unwrap()));
    assert_eq!((config["os"].as_str(), config["architecture"].as_str()), (Some("linux"), Some("arm64")), "{config}");
}

#[test]
fn without_an_emulator_only_a_dockerfile_that_cross_compiles_builds_for_arm64() {
    let no_handlers = tempfile::tempdir().unwrap();
    let env = [("CRUDDUR_BINFMT_DIR", no_handlers.path().to_str().unwrap())];
    // A RUN in the arm64 stage would need the emulator: refused before the build.
    let (dir, name) = arm64_project("ARG BASE\nFROM ${BASE}\nRUN uname -m > /built-on\n", true);
    let line = build(dir.path(), &["build", "kit"], &env).one_line_error(1);
    assert_eq!(
        line,
        "error: kit: the engine runs linux/amd64, and this host has no emulator for linux/arm64 programs (no binfmt_misc handler)"
    );
    assert_eq!(docker(&["image", "inspect", "-f", "{{.Id}}", &format!("{name}/kit:latest")]), "", "nothing was built");

    // The build stage runs on the engine's own platform; the arm64 stage only copies.
    let cross = "ARG BASE\nARG HOST_BASE\nFROM --platform=$BUILDPLATFORM ${HOST_BASE} AS build\nARG TARGETARCH\n\
                 RUN echo \"built on $(uname -m) for $TARGETARCH\" > /out.txt\nFROM ${BASE}\nCOPY --from=build /out.txt /out.txt\n";
    std::fs::write(dir.path().join("Dockerfile"), cross).unwrap();
    let run = build(dir.path(), &["build", "kit"], &env).ok();
    assert!(run.stderr.contains("kit: cross-compiling for linux/arm64 on a linux/amd64 engine"), "{}", run.stderr);
    let image = format!("{name}/kit:latest");
    assert_eq!(docker(&["image", "inspect", "-f", "{{.Architecture}}", &image]), "arm64");
    assert_eq!(String::from_utf8_lossy(&file_of(&image, "/out.txt")).trim(), "built on x86_64 for arm64");

    // `arch` takes Fargate's two architectures only.
    let toml = dir.path().join("cruddur.toml");
    std::fs::write(&toml, std::fs::read_to_string(&toml).unwrap().replace("arch = \"arm64\"", "arch = \"mips\""))
        .unwrap();
    let line = build(dir.path(), &["build", "kit"], &env).one_line_error(2);
    assert!(line.contains("services.kit.arch = \"mips\": Fargate runs \"arm64\" (Graviton) or \"x86_64\""), "{line}");
}

#[test]
fn an_arm64_web_service_runs_healthy_under_local_up() {
    let moto = common::Moto::start();
    let dockerfile = "ARG BASE\nFROM ${BASE}\nRUN mkdir -p /www && uname -m > /www/arch.txt\n\
        HEALTHCHECK --interval=1s --timeout=5s --retries=60 CMD wget -q -O /dev/null http://127.0.0.1:3000/arch.txt\n\
        CMD [\"httpd\", \"-f\", \"-p\", \"3000\", \"-h\", \"/www\"]\n";
    let (dir, name) = arm64_service(dockerfile, true, "kit:3000");
    build(dir.path(), &["build", "kit", "-q"], &[]).ok();
    let offset = docker_support::free_offset();
    let offset_arg = offset.to_string();
    let mut up = common::clean(common::cruddur_cmd(dir.path()));
    up.envs(moto.env()).args(["local", "up", "--port-offset", &offset_arg, "--timeout", "120s"]);
    let up = Run::new(up.output().unwrap());
    let container = format!("{name}-local-kit");
    let mut health = String::new();
    for _ in 0..120 {
        health = docker(&["inspect", "-f", "{{.State.Health.Status}}", &container]);
        if health == "healthy" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let down = || {
        let mut down = common::clean(common::cruddur_cmd(dir.path()));
        down.envs(moto.env()).args(["local", "down"]);
        Run::new(down.output().unwrap())
    };
    if health != "healthy" {
        let logs = docker(&["logs", &container]);
        down();
        panic!("{container} is {health:?}:\n{}\nlogs: {logs}", up.stderr);
    }
    assert_eq!(up.code, 0, "{}", up.stderr);
    let page = docker_support::http_get(3000 + offset, "/arch.txt");
    down().ok();
    assert!(page.starts_with("HTTP/1.") && page.trim_end().ends_with("aarch64"), "served under emulation: {page}");
}

/// Docker 18.06 in front of this engine (tests/support/old_engine.py): API 1.38 in
/// its /version, and no /session.
struct OldEngine {
    child: std::process::Child,
    dir: tempfile::TempDir,
    host: String,
}

impl OldEngine {
    fn start() -> OldEngine {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("front.log");
        let (child, ready) = common::start_helper("old_engine.py", &[dir.path().as_os_str()], &log);
        OldEngine { child, host: format!("tcp://127.0.0.1:{}", ready["port"]), dir }
    }

    fn requests(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("requests.log")).unwrap_or_default()
    }
}

impl Drop for OldEngine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// On an engine without BuildKit, `build` says so once and builds with the classic
/// builder: no session is opened and no BuildKit build is asked for; `--builder
/// buildkit` is refused before any build.
#[test]
fn an_engine_without_buildkit_builds_with_the_classic_builder_and_says_so() {
    let engine = OldEngine::start();
    let dir = tempfile::tempdir().unwrap();
    let name = unique_name("old");
    let base = &docker_support::image_env()[0].1;
    std::fs::write(
        dir.path().join("cruddur.toml"),
        format!("[project]\nname = \"{name}\"\n[services.kit]\n[services.kit.build]\ncontext = \".\"\n[services.kit.build.args]\nBASE = \"{base}\"\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "ARG BASE\nFROM ${BASE}\nRUN echo built-by-the-classic-builder > /built\n",
    )
    .unwrap();
    let env = [("DOCKER_HOST", engine.host.as_str())];
    let run = build(dir.path(), &["build", "kit", "--output", "json"], &env).ok();
    let note = format!(
        "note: the Docker Engine at {} (API 1.38, linux) has no BuildKit; building with the classic builder",
        engine.host
    );
    assert_eq!(run.stderr.matches(&note).count(), 1, "{}", run.stderr);
    assert_eq!(run.json()[0]["builder"], "classic", "{}", run.stdout);
    let classic = run
        .stderr
        .lines()
        .any(|l| l.starts_with("[kit] Step 3/") && l.ends_with(": RUN echo built-by-the-classic-builder > /built"));
    assert!(classic, "the classic builder's output:\n{}", run.stderr);
    assert_eq!(read(&format!("{name}/kit:latest"), "/built"), "built-by-the-classic-builder");
    let requests = engine.requests();
    let builds: Vec<&str> = requests.lines().filter(|l| l.contains("/build?")).collect();
    assert_eq!(builds.len(), 1, "{requests}");
    assert!(!builds[0].contains("version=2") && !builds[0].contains("session="), "{requests}");
    assert!(!requests.contains("/session"), "{requests}");

    let line = build(dir.path(), &["build", "kit", "--builder", "buildkit"], &env).one_line_error(2);
    assert!(line.contains("(API 1.38, linux) has no BuildKit"), "{line}");
    assert_eq!(engine.requests().matches("/build?").count(), 1, "no second build was asked for");
}
