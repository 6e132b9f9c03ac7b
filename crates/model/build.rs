//! Rebuild when the embedded specs, profiles or templates change: `include_dir!` alone does not
//! notice added or removed files. They live at the repository's root, where users find them, two
//! folders up from this crate.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for folder in ["environments", "alerts", "dashboards", "templates", "slos"] {
        println!("cargo:rerun-if-changed=../../{folder}");
    }
}
