//! Renders the Grafana artifact: one dashboard JSON per spec (the documents stage built them),
//! plus the provisioning files that load them (a Prometheus datasource and a file dashboard provider).

use std::collections::BTreeMap;

use serde::Serialize;
use sockudo_obs_model::Result;

use sockudo_obs_model::layout::{
    dashboard_file, COMPOSE_DATASOURCES_PATH, DASHBOARDS_MOUNT, DATASOURCE_UID, GRAFANA_DIR,
};
use sockudo_obs_model::model::Model;
use sockudo_obs_model::output::Output;

/// Adds the dashboards and the Grafana provisioning files to `out`.
pub fn render(model: &Model, out: &mut Output) -> Result<()> {
    for dashboard in &model.documents.dashboards {
        out.add_json(
            &format!("{GRAFANA_DIR}/{}", dashboard_file(&dashboard.uid)),
            &dashboard.json,
        )?;
    }
    let url = &model.profile.grafana.datasource_url;
    out.add_yaml(
        "grafana/provisioning/datasources/prometheus.yml",
        &datasources(model, url),
    )?;
    // The compose stack's Grafana reads the stack's Prometheus.
    out.add_yaml(
        COMPOSE_DATASOURCES_PATH,
        &datasources(model, &model.topology.compose.prometheus_url),
    )?;
    out.add_yaml(
        "grafana/provisioning/dashboards/sockudo.yml",
        &dashboard_providers(model),
    )
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DatasourceProvisioning {
    api_version: u8,
    datasources: Vec<ProvisionedDatasource>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProvisionedDatasource {
    name: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    uid: &'static str,
    access: &'static str,
    url: String,
    is_default: bool,
    editable: bool,
    json_data: BTreeMap<&'static str, String>,
}

fn datasources(model: &Model, url: &str) -> DatasourceProvisioning {
    DatasourceProvisioning {
        api_version: 1,
        datasources: vec![ProvisionedDatasource {
            name: "Prometheus",
            kind: "prometheus",
            uid: DATASOURCE_UID,
            access: "proxy",
            url: url.to_string(),
            is_default: true,
            editable: false,
            // `$__rate_interval` is at least four scrape intervals only if Grafana knows it.
            json_data: BTreeMap::from([(
                "timeInterval",
                model.profile.prometheus.scrape_interval.to_string(),
            )]),
        }],
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DashboardProvisioning {
    api_version: u8,
    providers: Vec<DashboardProvider>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DashboardProvider {
    name: &'static str,
    org_id: u32,
    folder: String,
    #[serde(rename = "type")]
    kind: &'static str,
    disable_deletion: bool,
    allow_ui_updates: bool,
    update_interval_seconds: u32,
    options: ProviderOptions,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProviderOptions {
    path: &'static str,
    folders_from_files_structure: bool,
}

fn dashboard_providers(model: &Model) -> DashboardProvisioning {
    DashboardProvisioning {
        api_version: 1,
        providers: vec![DashboardProvider {
            name: "sockudo",
            org_id: 1,
            folder: model.profile.kubernetes.grafana_sidecar.folder.clone(),
            kind: "file",
            disable_deletion: true,
            // The files are generated; edits made in the UI would be lost on the next deploy.
            allow_ui_updates: false,
            update_interval_seconds: 30,
            options: ProviderOptions {
                path: DASHBOARDS_MOUNT,
                folders_from_files_structure: false,
            },
        }],
    }
}
