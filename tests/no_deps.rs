//! The zero-dependency promise: memseg's dependency graph holds memseg and
//! nothing else, and its manifest declares no dependency table.

use std::path::Path;
use std::process::Command;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `cargo tree` over every kind of edge (normal, build, dev) lists one package.
#[test]
fn dependency_graph_is_only_memseg() {
    let cargo = option_env!("CARGO").unwrap_or("cargo");
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "--prefix",
            "none",
            "-e",
            "all",
            "--target",
            "all",
        ])
        .arg("--manifest-path")
        .arg(manifest_dir().join("Cargo.toml"))
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut packages: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    packages.sort_unstable();
    packages.dedup();
    assert_eq!(packages, ["memseg"], "dependency graph:\n{}", text);
}

/// The manifest itself has no dependency tables (so no optional or
/// target-specific dependency can hide from the graph check).
#[test]
fn manifest_declares_no_dependency_tables() {
    let manifest = std::fs::read_to_string(manifest_dir().join("Cargo.toml")).unwrap();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            assert!(
                !line.contains("dependencies"),
                "Cargo.toml declares a dependency table: {}",
                line
            );
        }
    }
}
