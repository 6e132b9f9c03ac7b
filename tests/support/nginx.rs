//! nginx around a generated server block, as the proxy tests and the end-to-end stack run it:
//! one wrapper `nginx.conf` that includes the block inside `http {}` and keeps every path nginx
//! writes inside the test's directory. (`nginx -t` on the bundle's blocks is the bundle
//! validator's, `scripts/validate-bundle.sh`.)

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::tools;

/// The wrapper: nginx in the foreground as one process (no master, so a kill by PID stops all of
/// it), errors to `error_log` (a path, or `stderr` for a log the guard captures), every other
/// path in `dir`.
pub fn wrapper(dir: &Path, server_block: &Path, error_log: &str) -> String {
    let d = dir.display();
    format!(
        "# The tests' wrapper: the generated server block inside http {{}}, all paths in {d}.\n\
         daemon off;\n\
         master_process off;\n\
         worker_processes 1;\n\
         pid {d}/nginx.pid;\n\
         error_log {error_log} info;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n\
         \x20   access_log {d}/access.log;\n\
         \x20   client_body_temp_path {d}/client_body;\n\
         \x20   proxy_temp_path {d}/proxy;\n\
         \x20   fastcgi_temp_path {d}/fastcgi;\n\
         \x20   uwsgi_temp_path {d}/uwsgi;\n\
         \x20   scgi_temp_path {d}/scgi;\n\
         \x20   include {};\n\
         }}\n",
        server_block.display()
    )
}

/// Writes [`wrapper`] to `dir/nginx.conf` and returns the command that runs it (`-p dir`, the
/// same `error_log` for the messages before the config is read).
pub fn command(dir: &Path, server_block: &Path, error_log: &str) -> Result<Command, String> {
    let conf: PathBuf = dir.join("nginx.conf");
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    fs::write(&conf, wrapper(dir, server_block, error_log))
        .map_err(|e| format!("{}: {e}", conf.display()))?;
    let mut nginx = Command::new(tools::find("nginx")?);
    nginx
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(error_log)
        .arg("-c")
        .arg(&conf);
    Ok(nginx)
}
