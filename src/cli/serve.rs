//! `sockudo-obs serve`: run the exporter until Ctrl-C or SIGTERM, optionally with the demo traffic
//! simulator and its scenario switch.

use std::path::PathBuf;
use std::process::ExitCode;

use sockudo_obs::live::Exporter;
use sockudo_obs::{Metrics, MetricsConfig};

use super::stdio::{errln, outln};
pub(crate) use sockudo_obs::demo::Scenario;
use sockudo_obs::demo::{Demo, SCENARIO_PATH, TICK};

pub(crate) fn run(config: Option<PathBuf>, demo: Option<Scenario>) -> anyhow::Result<ExitCode> {
    let config = MetricsConfig::load(config.as_deref())?;
    if !config.enabled {
        errln!("sockudo-obs: metrics are disabled (metrics.enabled is false); nothing to serve")?;
        return Ok(ExitCode::SUCCESS);
    }
    let metrics = Metrics::new(&config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut exporter = Exporter::new(metrics.clone());
        let demo = demo.map(|scenario| Demo::new(&metrics, scenario));
        if let Some(demo) = &demo {
            exporter = exporter.with_control(demo.switch().control_route());
        }
        let Some(bound) = exporter.bind_configured(&config).await? else {
            return Ok(ExitCode::SUCCESS);
        };
        let addr = bound.local_addr();
        let mut banner = outln!("serving metrics on http://{addr}/metrics");
        if let Some(demo) = demo {
            banner = banner.and_then(|()| {
                outln!(
                    "demo traffic: scenario {}; switch with: curl -d errors http://{addr}{SCENARIO_PATH} \
                     (normal, errors, slow, connections, backlog)",
                    demo.switch().get().as_str()
                )
            });
            demo.spawn(TICK);
        }
        // The banner is for a person watching; a server whose stdout is gone keeps serving.
        if let Err(err) = banner {
            let _ = errln!("sockudo-obs: warning: {err}; serving on http://{addr}/metrics anyway");
        }
        bound.run(shutdown_signal()).await?;
        // Nothing is left to do: a stderr that cannot take the word changes nothing.
        let _ = errln!("sockudo-obs: stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// Completes on Ctrl-C, or on SIGTERM where there is one (containers stop with it).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                () = ctrl_c => {}
                _ = term.recv() => {}
            },
            Err(_) => ctrl_c.await,
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}
