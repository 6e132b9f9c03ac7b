//! Rebuild when the embedded specs, profiles or templates change: `include_dir!` alone does not
//! notice added or removed files.

fn main() {
    for folder in ["environments", "alerts", "dashboards", "templates", "slos"] {
        println!("cargo:rerun-if-changed={folder}");
    }
}
