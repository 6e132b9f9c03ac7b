//! Rebuild when the embedded specs, profiles or templates change: `include_dir!` alone does not
//! notice added or removed files. Only the generator embeds them: without it (the live library a
//! server links, `default-features = false`) the folders are not watched, so editing an alert
//! does not rebuild the library, nor the Sockudo server linking it.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_GENERATOR").is_none() {
        return;
    }
    for folder in ["environments", "alerts", "dashboards", "templates", "slos"] {
        println!("cargo:rerun-if-changed={folder}");
    }
}
