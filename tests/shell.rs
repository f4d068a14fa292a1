//! `cruddur completions` and `cruddur man`, black-box through the real binary: the
//! bash script is sourced in bash and completes a verb and a flag; the other shells'
//! scripts name every verb; the man page renders with `man -l` (groff underneath)
//! without warnings and lists every verb. Neither needs a cruddur.toml.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Every verb, as `cruddur --help` lists them (so a new verb is checked here too).
fn verbs() -> Vec<String> {
    let help = run(&["--help"]);
    let text = String::from_utf8(help.stdout).unwrap();
    let verbs: Vec<String> = text
        .split("Commands:")
        .nth(1)
        .expect("--help lists the commands")
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|v| v != "help")
        .collect();
    assert!(verbs.len() > 20 && verbs.iter().any(|v| v == "deploy"), "{verbs:?}");
    verbs
}

/// Runs cruddur in an empty folder (no cruddur.toml above it).
fn run(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cruddur")).args(args).current_dir(dir.path()).output().unwrap();
    assert!(out.status.success(), "cruddur {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn stdout(args: &[&str]) -> String {
    String::from_utf8(run(args).stdout).unwrap()
}

/// What bash completes for `line` (the cursor at its end), with the script sourced.
fn bash_complete(script: &std::path::Path, line: &str) -> Vec<String> {
    let words: Vec<&str> = line.split(' ').collect();
    let program = format!(
        "source {script}\nCOMP_LINE='{line}'\nCOMP_POINT=${{#COMP_LINE}}\nCOMP_WORDS=({words})\nCOMP_CWORD={cword}\n\
         _cruddur cruddur '{cur}' '{prev}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script = script.display(),
        words = words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
        cword = words.len() - 1,
        cur = words[words.len() - 1],
        prev = words[words.len() - 2],
    );
    let out = Command::new("bash").arg("-c").arg(&program).output().expect("bash runs");
    assert!(out.status.success(), "bash: {}\n{program}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect()
}

#[test]
fn the_bash_script_sources_and_completes_verbs_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("cruddur.bash");
    std::fs::write(&script, stdout(&["completions", "bash"])).unwrap();
    assert_eq!(bash_complete(&script, "cruddur dep"), ["deploy"]);
    let all = bash_complete(&script, "cruddur ");
    for verb in verbs() {
        assert!(all.contains(&verb), "`cruddur <TAB>` offers no {verb}: {all:?}");
    }
    let flags = bash_complete(&script, "cruddur deploy --no-");
    assert!(flags.contains(&"--no-wait".to_string()) && flags.contains(&"--no-build".to_string()), "{flags:?}");
    let shells = bash_complete(&script, "cruddur completions ");
    for shell in ["bash", "zsh", "fish", "powershell"] {
        assert!(shells.contains(&shell.to_string()), "{shells:?}");
    }
}

#[test]
fn the_other_shells_scripts_name_every_verb() {
    let verbs = verbs();
    for (shell, marker) in [
        ("zsh", "#compdef cruddur"),
        ("fish", "complete -c cruddur"),
        ("powershell", "Register-ArgumentCompleter -Native -CommandName 'cruddur'"),
    ] {
        let script = stdout(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: no `{marker}`:\n{script}");
        for verb in &verbs {
            assert!(script.contains(verb.as_str()), "{shell}: no {verb}");
        }
    }
    let refused = Command::new(env!("CARGO_BIN_EXE_cruddur")).args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2), "an unknown shell is a usage error");
}

/// The page rendered as `man -l` shows it, with groff's warnings on stderr.
fn man_render(roff: &str) -> (String, String) {
    let mut child = Command::new("man")
        .args(["-l", "-"])
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .env("MANROFFOPT", "-ww")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("man (man-db) is installed");
    child.stdin.take().unwrap().write_all(roff.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "man -l: {}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_man_page_renders_and_lists_every_verb() {
    let roff = stdout(&["man"]);
    assert!(roff.starts_with(".ie") || roff.contains(".TH cruddur 1"), "not roff:\n{roff}");
    let (page, warnings) = man_render(&roff);
    assert!(warnings.trim().is_empty(), "groff warns:\n{warnings}");
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SUBCOMMANDS"] {
        assert!(page.contains(section), "no {section}:\n{page}");
    }
    for verb in verbs() {
        assert!(page.contains(&format!("cruddur-{verb}(1)")), "the page lists no {verb}:\n{page}");
    }
    assert!(page.contains("--endpoint-url"), "global flags are on the page");

    let deploy = stdout(&["man", "deploy"]);
    assert!(deploy.contains(".TH cruddur-deploy 1"), "{deploy}");
    let (page, warnings) = man_render(&deploy);
    assert!(warnings.trim().is_empty(), "groff warns:\n{warnings}");
    assert!(page.contains("--no-build") && page.contains("--timeout"), "{page}");

    let unknown = Command::new(env!("CARGO_BIN_EXE_cruddur")).args(["man", "nope"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(err.contains("`nope` is not a cruddur command") && err.contains("hint:"), "{err}");
}
