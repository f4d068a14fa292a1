//! Whether the engine can build for another architecture than its own, checked
//! before a build. A `RUN` in an image of another architecture needs the kernel to
//! hand that architecture's programs to an emulator: a binfmt_misc handler whose
//! magic matches the ELF header (Debian's qemu-user-static registers them; Docker
//! Desktop has its own). A Dockerfile that cross-compiles (its build stage
//! `FROM --platform=$BUILDPLATFORM`) runs nothing of the other architecture and
//! needs none. The handlers are read from this host's /proc, so only for an engine
//! on this host's kernel; for another engine the build runs and tells.

use std::path::{Path, PathBuf};

/// Where the kernel lists its binfmt_misc handlers (CRUDDUR_BINFMT_DIR in tests).
pub fn binfmt_dir() -> PathBuf {
    std::env::var_os("CRUDDUR_BINFMT_DIR").map_or_else(|| PathBuf::from("/proc/sys/fs/binfmt_misc"), PathBuf::from)
}

/// The ELF machine of an image platform's architecture (`linux/arm64` → aarch64).
fn elf_machine(platform: &str) -> Option<u16> {
    match platform.rsplit('/').next()? {
        "arm64" | "aarch64" => Some(0xb7),
        "amd64" | "x86_64" => Some(0x3e),
        _ => None,
    }
}

/// The first 20 bytes of a 64-bit little-endian ELF executable for `machine`.
fn elf_header(machine: u16) -> [u8; 20] {
    let mut h = [0u8; 20];
    h[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    h[16] = 2; // ET_EXEC
    h[18..20].copy_from_slice(&machine.to_le_bytes());
    h
}

fn hex(text: &str) -> Option<Vec<u8>> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// True when one of the enabled handlers in `dir` takes `platform`'s executables.
pub fn has_handler(dir: &Path, platform: &str) -> bool {
    let Some(machine) = elf_machine(platform) else { return false };
    let header = elf_header(machine);
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.flatten().any(|entry| {
        let name = entry.file_name();
        if name == "register" || name == "status" {
            return false;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else { return false };
        let field = |key: &str| text.lines().find_map(|l| l.strip_prefix(key)).map(str::trim);
        let (Some(magic), offset) = (field("magic ").and_then(hex), field("offset ").unwrap_or("0")) else {
            return false;
        };
        let mask = field("mask ").and_then(hex).unwrap_or_else(|| vec![0xff; magic.len()]);
        let offset: usize = offset.parse().unwrap_or(usize::MAX);
        text.lines().next() == Some("enabled")
            && magic.iter().enumerate().all(|(i, m)| {
                let b = header.get(offset + i).copied().unwrap_or(0);
                b & mask.get(i).copied().unwrap_or(0xff) == m & mask.get(i).copied().unwrap_or(0xff)
            })
    })
}

/// True when a stage of the Dockerfile is built for the builder's own platform.
pub fn cross_compiles(dockerfile: &str) -> bool {
    dockerfile.lines().any(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        words.first().is_some_and(|w| w.eq_ignore_ascii_case("FROM"))
            && words.iter().any(|w| matches!(*w, "--platform=$BUILDPLATFORM" | "--platform=${BUILDPLATFORM}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Debian's qemu-user-static aarch64 handler, as /proc shows it.
    const AARCH64: &str = "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POF\noffset 0\n\
                           magic 7f454c460201010000000000000000000200b700\n\
                           mask ffffffffffffff00fffffffffffffffffeffffff\n";

    #[test]
    fn the_aarch64_handler_takes_arm64_programs_only_while_enabled() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("status"), "enabled\n").unwrap();
        assert!(!has_handler(dir.path(), "linux/arm64"), "no handler");
        std::fs::write(dir.path().join("qemu-aarch64"), AARCH64).unwrap();
        assert!(has_handler(dir.path(), "linux/arm64"));
        assert!(!has_handler(dir.path(), "linux/amd64"), "the aarch64 handler does not take x86_64");
        assert!(!has_handler(dir.path(), "linux/riscv64"));
        std::fs::write(dir.path().join("qemu-aarch64"), AARCH64.replacen("enabled", "disabled", 1)).unwrap();
        assert!(!has_handler(dir.path(), "linux/arm64"), "a disabled handler");
        assert!(!has_handler(Path::new("/nonexistent"), "linux/arm64"));
    }

    #[test]
    fn a_build_stage_on_the_build_platform_is_a_cross_compile() {
        assert!(cross_compiles("FROM --platform=$BUILDPLATFORM rust AS build\nFROM scratch\n"));
        assert!(cross_compiles("from --platform=${BUILDPLATFORM} rust\n"));
        assert!(!cross_compiles("FROM --platform=linux/arm64 rust\nRUN make\n"));
        assert!(!cross_compiles("# FROM --platform=$BUILDPLATFORM\nFROM rust\n"));
    }
}
