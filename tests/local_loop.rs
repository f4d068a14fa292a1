//! The local loop, black-box: `generate-env --all` then `local up` (with
//! `--port-offset`, and under a faked Gitpod workspace) gives healthy containers
//! whose URLs work together: the backend's FRONTEND_URL/BACKEND_URL and CORS, the
//! frontend's config.js and Content-Security-Policy all name the published ports;
//! the backend's data lives on a named volume that outlives a recreated container.
//! Needs the running Docker Engine and the images of bin/lib/images.sh (bin/test).

mod common;
#[path = "common/docker.rs"]
mod docker_support;

use common::Moto;
use docker_support::{docker, free_offset, http_get, http_get_with, Workspace};

fn header(response: &str, name: &str) -> Option<String> {
    let head = response.split("\r\n\r\n").next().unwrap_or_default();
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

/// What a browser on `frontend` sees: config.js and the CSP name `backend`, and
/// the backend answers a request from the frontend's origin with CORS.
fn assert_wired(frontend_port: u16, backend_port: u16, frontend: &str, backend: &str) {
    let config = http_get(frontend_port, "/config.js");
    assert!(config.contains(&format!("window.CRUDDUR_CONFIG.backendUrl = \"{backend}\";")), "{config}");
    let page = http_get(frontend_port, "/");
    let csp = header(&page, "content-security-policy").unwrap_or_default();
    assert!(csp.contains(&format!("connect-src {backend} ")), "{csp}");
    let answer = http_get_with(backend_port, "/api/health-check", &format!("Origin: {frontend}\r\n"));
    assert_eq!(header(&answer, "access-control-allow-origin").as_deref(), Some(frontend), "{answer}");
}

#[test]
fn generate_env_then_local_up_wires_every_url_to_the_published_ports() {
    let moto = Moto::start();
    let ws = Workspace::new();
    let secrets = [("ROLLBAR_ACCESS_TOKEN", "rb-local-7f3"), ("HONEYCOMB_API_KEY", "hc-local-9a1")];
    ws.cruddur_with(&moto, &["generate-env", "--all", "--allow-missing"], &secrets).ok();
    // The file is the host's: its database is a path on this machine.
    let file = std::fs::read_to_string(ws.path().join("backend-flask.env")).unwrap();
    assert!(file.contains("sqlite://./data/cruddur.db"), "{file}");
    ws.cruddur(&moto, &["build", "--all", "-q"]).ok();

    let offset = free_offset();
    let (fp, bp) = (3000 + offset, 4567 + offset);
    let offset_arg = offset.to_string();
    let up_args = ["local", "up", "--port-offset", &offset_arg, "--health-interval", "1s", "--timeout", "120s"];
    let up = ws.cruddur(&moto, &up_args).ok();
    assert!(!up.stderr.contains("rb-local-7f3") && !up.stdout.contains("rb-local-7f3"), "a secret was printed");
    assert!(up.stdout.contains(&format!("frontend: http://localhost:{fp}")), "{}", up.stdout);
    assert!(up.stdout.contains(&format!("backend: http://localhost:{bp}")), "{}", up.stdout);
    let backend = format!("{}-local-backend-flask", ws.project);
    let env = docker(&["inspect", "-f", "{{json .Config.Env}}", &backend]);
    assert!(env.contains(&format!("\"FRONTEND_URL=http://localhost:{fp}\"")), "{env}");
    assert!(env.contains(&format!("\"BACKEND_URL=http://localhost:{bp}\"")), "{env}");
    assert!(env.contains("ROLLBAR_ACCESS_TOKEN=rb-local-7f3"), "the secret from the env file");
    assert!(!env.contains("CONNECTION_URL="), "the host's database path stays on the host: {env}");
    let mounts = docker(&["inspect", "-f", "{{range .Mounts}}{{.Name}}:{{.Destination}} {{end}}", &backend]);
    assert_eq!(mounts, format!("{backend}-data:/data"));
    assert_wired(fp, bp, &format!("http://localhost:{fp}"), &format!("http://localhost:{bp}"));

    // connect --local --command: through the container's shell, with the command's status.
    let connect =
        |command: &str| ws.cruddur(&moto, &["connect", "--local", "--service", "backend", "--command", command]);
    assert_eq!(connect("/bin/sh -c 'exit 3'").code, 3);
    assert_eq!(connect("printf '%s' 'a   b'").ok().stdout, "a   b");

    // Data written in the container outlives a recreated container (here: the Gitpod run).
    connect("echo kept > /data/marker").ok();

    // Inside a Gitpod workspace, every URL is the workspace's public URL of the published port.
    let gitpod = [("GITPOD_WORKSPACE_ID", "cruddur-ws1"), ("GITPOD_WORKSPACE_CLUSTER_HOST", "ws-eu1.gitpod.io")];
    let public = |port: u16| format!("https://{port}-cruddur-ws1.ws-eu1.gitpod.io");
    let up = ws.cruddur_with(&moto, &up_args, &gitpod).ok();
    assert!(up.stdout.contains(&format!("frontend: {}", public(fp))), "{}", up.stdout);
    let env = docker(&["inspect", "-f", "{{json .Config.Env}}", &backend]);
    assert!(env.contains(&format!("\"FRONTEND_URL={}\"", public(fp))), "{env}");
    assert_wired(fp, bp, &public(fp), &public(bp));
    assert_eq!(connect("cat /data/marker").ok().stdout.trim(), "kept");

    ws.cruddur(&moto, &["local", "down"]).ok();
    assert_eq!(docker(&["ps", "-aq", "--filter", &format!("label=dev.cruddur.project={}", ws.project)]), "");
}

#[test]
fn an_offset_that_passes_65535_is_refused_before_anything_starts() {
    let dir = common::project_copy();
    let mut cmd = common::clean(common::cruddur_cmd(dir.path()));
    // No engine either: the check comes first.
    cmd.env("DOCKER_HOST", "unix:///nonexistent/docker.sock").args(["local", "up", "--port-offset", "61000"]);
    let run = common::Run::new(cmd.output().unwrap());
    let error = run.one_line_error(2);
    assert_eq!(error, "error: backend: port 4567 + --port-offset 61000 is past 65535");
    assert!(run.stderr.contains("hint: pick an offset of at most 60968"), "{}", run.stderr);
}

#[test]
fn local_commands_say_what_they_do_and_leave_nothing_behind() {
    let moto = Moto::start();
    let ws = Workspace::new();
    // Every secret in the env file: no AWS settings at all are needed below.
    ws.write(
        "backend-flask.env",
        "CONNECTION_URL=sqlite://./data/cruddur.db?mode=rwc\nROLLBAR_ACCESS_TOKEN=r\nOTEL_EXPORTER_OTLP_HEADERS=x=y\n",
    );
    ws.cruddur(&moto, &["build", "--all", "-q"]).ok();
    let no_aws = |args: &[&str]| {
        let mut cmd = common::clean(common::cruddur_cmd(ws.path()));
        cmd.envs(docker_support::image_env()).args(args);
        common::Run::new(cmd.output().unwrap())
    };
    let project = format!("label=dev.cruddur.project={}", ws.project);
    let network = format!("{}-local", ws.project);

    let ps = no_aws(&["local", "ps"]).ok();
    assert_eq!(ps.stdout, "");
    assert!(ps.stderr.contains("nothing running"), "{}", ps.stderr);
    assert!(no_aws(&["local", "down"]).ok().stderr.contains("nothing to remove"));

    // A port another program holds: named, with the way out, and nothing is left.
    let offset = free_offset();
    let offset_arg = offset.to_string();
    let up_args = ["local", "up", "--port-offset", &offset_arg, "--health-interval", "1s", "--timeout", "120s"];
    let holder = std::net::TcpListener::bind(("127.0.0.1", 3000 + offset)).unwrap();
    let failed = no_aws(&up_args);
    let error = failed.stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_default().to_string();
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert_eq!(error, format!("error: frontend: host port {} is taken by another program", 3000 + offset));
    assert!(failed.stderr.contains("hint: free it, or publish every port elsewhere: `cruddur local up --port-offset "));
    assert_eq!(docker(&["ps", "-aq", "--filter", &project]), "", "no container is left");
    assert_eq!(docker(&["network", "ls", "-q", "--filter", &format!("name=^{network}$")]), "", "no network is left");
    drop(holder);

    // Up, then up again: the unchanged healthy containers are kept.
    no_aws(&up_args).ok();
    let backend = format!("{}-local-backend-flask", ws.project);
    let id = docker(&["inspect", "-f", "{{.Id}}", &backend]);
    let again = no_aws(&up_args).ok();
    assert!(again.stderr.contains(&format!("backend: unchanged: keeping {backend} (healthy)")), "{}", again.stderr);
    assert_eq!(docker(&["inspect", "-f", "{{.Id}}", &backend]), id, "the same container");
    assert!(again.stdout.contains(&format!("backend: http://localhost:{}", 4567 + offset)), "{}", again.stdout);

    let ps = no_aws(&["local", "ps", "--output", "json"]).ok().json();
    let row = ps.as_array().unwrap().iter().find(|r| r["service"] == "backend").unwrap().clone();
    assert_eq!(row["ports"][0], format!("127.0.0.1:{}->4567", 4567 + offset), "{ps}");
    assert_eq!(row["url"], format!("http://localhost:{}", 4567 + offset), "{ps}");
    let text = no_aws(&["local", "ps"]).ok().stdout;
    assert!(
        text.contains(&format!("\thealthy\t127.0.0.1:{}->3000\thttp://localhost:{}", 3000 + offset, 3000 + offset)),
        "{text}"
    );

    no_aws(&["local", "down"]).ok();
    assert_eq!(docker(&["ps", "-aq", "--filter", &project]), "");
}

/// A child process killed and waited for on drop; its output in a log file.
struct Child(std::process::Child, std::path::PathBuf);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        if std::thread::panicking() {
            eprintln!("--- {} ---\n{}", self.1.display(), common::tail(&self.1, 30));
        }
    }
}

/// `sh -c script` in `dir`, as a .gitpod.yml task runs it; waits until `port` answers.
fn task(dir: &std::path::Path, name: &str, script: &str, port: u16, env: &[(&str, String)]) -> Child {
    let log = dir.join(format!("{name}.log"));
    let out = std::fs::File::create(&log).unwrap();
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", script]).current_dir(dir).stdout(out.try_clone().unwrap()).stderr(out);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = Child(cmd.spawn().unwrap(), log);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!("{name} exited ({status}):\n{}", common::tail(&child.1, 30));
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{name} did not listen on {port}:\n{}",
            common::tail(&child.1, 30)
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child
}

#[test]
fn the_gitpod_tasks_from_the_env_files_call_each_other_by_their_public_urls() {
    let dir = common::project_copy();
    let gitpod = [("GITPOD_WORKSPACE_ID", "cruddur-ws2"), ("GITPOD_WORKSPACE_CLUSTER_HOST", "ws-us1.gitpod.io")];
    let mut cmd = common::clean(common::cruddur_cmd(dir.path()));
    cmd.envs(gitpod).env("AWS_REGION", "us-east-1").args(["generate-env", "--all", "--allow-missing"]);
    common::Run::new(cmd.output().unwrap()).ok();
    let (frontend, backend) =
        ("https://3000-cruddur-ws2.ws-us1.gitpod.io", "https://4567-cruddur-ws2.ws-us1.gitpod.io");

    // The binaries `cargo test --workspace` built next to this test's folder.
    let bin = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().to_path_buf();
    let (bp, fp) = (common::free_port(), common::free_port());
    // .gitpod.yml's backend and frontend tasks, on free ports instead of 4567 and 3000.
    let _backend = task(
        dir.path(),
        "backend",
        "set -a; . ./backend-flask.env; set +a; \"$APP\" seed && PORT=$P exec \"$APP\"",
        bp,
        &[("APP", bin.join("app").display().to_string()), ("P", bp.to_string())],
    );
    let _frontend = task(
        dir.path(),
        "frontend",
        "set -a; . ./frontend-react-js.env; set +a; PORT=$P WEB_ROOT=\"$ROOT\" exec \"$FE\"",
        fp,
        &[
            ("FE", bin.join("frontend-server").display().to_string()),
            ("P", fp.to_string()),
            ("ROOT", common::repo().join("frontend/public").display().to_string()),
        ],
    );
    assert_wired(fp, bp, frontend, backend);
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let ok = std::process::Command::new("git").args(args).current_dir(dir).output().unwrap().status.success();
    assert!(ok, "git {args:?}");
}

#[test]
fn generate_env_checks_every_out_path_and_keeps_gits_messages_to_itself() {
    let dir = common::project_copy();
    git(dir.path(), &["init", "-q"]);
    let generate = |out: &str| {
        let mut cmd = common::clean(common::cruddur_cmd(dir.path()));
        cmd.env("AWS_REGION", "us-east-1").args(["generate-env", "frontend", "--allow-missing", "--out", out]);
        common::Run::new(cmd.output().unwrap()).ok()
    };
    // A bare file name is in the current folder, which git tracks.
    let bare = generate("secrets.txt");
    assert!(bare.stderr.contains("warning: secrets.txt is not git-ignored"), "{}", bare.stderr);
    // Outside any repository: nothing to warn about, and git's own message stays out.
    let outside = tempfile::tempdir().unwrap();
    let path = outside.path().join("x.env");
    let run = generate(&path.display().to_string());
    assert!(!run.stderr.contains("fatal") && !run.stderr.contains("not git-ignored"), "{}", run.stderr);
}

#[test]
fn bin_scripts_use_a_cruddur_of_this_version_on_path_without_building() {
    // The built binary on PATH, and no cargo there: the script must not build.
    let path_dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_cruddur"), path_dir.path().join("cruddur")).unwrap();
    let run = common::Run::new(
        common::clean(std::process::Command::new(common::repo().join("bin/frontend/generate-env")))
            .current_dir(common::repo())
            .env_remove("CRUDDUR_BIN")
            .env("PATH", format!("{}:/usr/bin:/bin", path_dir.path().display()))
            .env("AWS_REGION", "us-east-1")
            .args(["--allow-missing", "--dry-run"])
            .output()
            .unwrap(),
    );
    let run = run.ok();
    assert!(run.stdout.contains("dry-run: would write"), "{}", run.stdout);
}

#[test]
fn the_build_hint_names_the_environment() {
    let dir = common::project_copy();
    let toml = dir.path().join("cruddur.toml");
    let text = std::fs::read_to_string(&toml).unwrap().replacen("name = \"cruddur\"", "name = \"hintcheck\"", 1);
    std::fs::write(&toml, format!("{text}\n[env.staging]\n")).unwrap();
    let mut cmd = common::clean(common::cruddur_cmd(dir.path()));
    cmd.args(["--env", "staging", "local", "up", "frontend"]);
    let run = common::Run::new(cmd.output().unwrap());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("hint: build it first: `cruddur --env staging build frontend`"), "{}", run.stderr);
}

#[test]
fn images_change_only_when_what_their_dockerfile_reads_does() {
    let moto = Moto::start();
    let ws = Workspace::new();
    let build = || {
        let out = ws.cruddur(&moto, &["build", "--all", "-q", "--output", "json"]).ok().json();
        let by = |name: &str| {
            let b = out.as_array().unwrap().iter().find(|b| b["service"] == name).unwrap();
            (b["imageId"].as_str().unwrap().to_string(), b["skipped"] == true)
        };
        (by("backend"), by("frontend"))
    };
    // (Workspace::new writes a file unique to the workspace into each image's context.)
    let ((backend, _), (frontend, _)) = build();
    // Files neither Dockerfile reads: the README, a comment in cruddur.toml, an untracked file.
    let readme = std::fs::read_to_string(ws.path().join("README.md")).unwrap();
    ws.write("README.md", &format!("{readme}\nOne more line.\n"));
    let toml = std::fs::read_to_string(ws.path().join("cruddur.toml")).unwrap();
    ws.write("cruddur.toml", &format!("{toml}\n# a comment\n"));
    ws.write("notes.txt", "scratch\n");
    let ((b, b_skipped), (f, f_skipped)) = build();
    assert_eq!((b.as_str(), b_skipped, f.as_str(), f_skipped), (backend.as_str(), true, frontend.as_str(), true));
    // A backend source edit: only the backend's image changes.
    let lib = std::fs::read_to_string(ws.path().join("app/src/lib.rs")).unwrap();
    ws.write("app/src/lib.rs", &format!("{lib}\n// an edit\n"));
    let ((b, b_skipped), (f, f_skipped)) = build();
    assert!(!b_skipped && b != backend, "the backend is rebuilt");
    assert_eq!((f.as_str(), f_skipped), (frontend.as_str(), true), "the frontend does not read app/src/");
}
