//! The Kubernetes path as an operator applies it: the rendered manifests, parsed back.

use crate::support::kube;
use crate::support::specs;

use std::path::PathBuf;

use serde_json::Value;

/// The generated components, by the folder names an overlay lists.
const WORKLOAD_COMPONENT: &str = "workload";
const OPERATOR_COMPONENT: &str = "operator";
const POD_MONITOR_COMPONENT: &str = "pod-monitor";
use sockudo_obs::bundle::{self, Overrides, SpecSource};

fn k8s_yaml(env: &str, overrides: &Overrides, file: &str) -> Value {
    let out = bundle::build(&SpecSource::Embedded, env, overrides).unwrap();
    serde_norway::from_str(&specs::text(&out, &format!("k8s/{file}"))).unwrap()
}

/// (from peers?, port) of every port the policy names; fails on an `endPort` range.
fn policy_ports(policy: &Value) -> Vec<(bool, u64)> {
    let mut ports = Vec::new();
    for rule in policy["spec"]["ingress"].as_array().unwrap() {
        for port in rule["ports"].as_array().unwrap() {
            assert!(port.get("endPort").is_none(), "a port range: {port}");
            ports.push((rule.get("from").is_some(), port["port"].as_u64().unwrap()));
        }
    }
    ports
}

#[test]
fn the_network_policy_names_real_ports_only() {
    let policy = k8s_yaml("production", &Overrides::default(), "networkpolicy.yaml");
    assert_eq!(policy_ports(&policy), [(true, 9601), (true, 9602), (false, 6001)]);
    // A metrics port from `--config` moves the guarded port, never the app's.
    let moved = Overrides {
        port: Some(9700),
        ..Overrides::default()
    };
    let policy = k8s_yaml("production", &moved, "networkpolicy.yaml");
    assert_eq!(policy_ports(&policy), [(true, 9602), (true, 9700), (false, 6001)]);
}

/// The object of `kind` (and `name`) in kustomize's output.
fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in the overlay"))
}

/// Every overlay yields the Sockudo Deployment patched for scraping: the pod annotations that
/// pod discovery reads name a container port, the monitors scrape a port of that name, and with
/// the proxy the nginx sidecar mounts the ConfigMap the overlay holds and the htpasswd Secret at
/// the path its config reads, and an emptyDir at /tmp.
#[test]
fn every_overlay_yields_the_deployment_with_its_scrape_port_and_sidecar() {
    let root = tempfile::tempdir().unwrap();
    for env in specs::environments() {
        let overlay = specs::overlay_on_fresh_bundle(root.path(), &env);
        let docs = specs::kustomize(&overlay);
        let profile = sockudo_obs::bundle::Model::load(&SpecSource::Embedded, &env, &Overrides::default())
            .unwrap()
            .profile;
        let deployment = find(&docs, "Deployment", &profile.kubernetes.workload.deployment);
        let pod = &deployment["spec"]["template"];
        let annotations = &pod["metadata"]["annotations"];
        assert_eq!(annotations["sockudo-obs.io/scrape"], "true", "{env}");
        let generic: Vec<&String> = annotations
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with("prometheus.io/"))
            .collect();
        assert!(
            generic.is_empty(),
            "{env}: generic scrape annotations {generic:?}"
        );
        let port: u64 = annotations["sockudo-obs.io/port"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let containers = pod["spec"]["containers"].as_array().unwrap();
        let (port_name, container) = containers
            .iter()
            .flat_map(|c| c["ports"].as_array().into_iter().flatten().map(move |p| (p, c)))
            .find(|(p, _)| p["containerPort"] == port)
            .map(|(p, c)| (p["name"].as_str().unwrap().to_string(), c))
            .unwrap_or_else(|| panic!("{env}: no container exposes the annotated port {port}"));
        let service = find(&docs, "Service", "sockudo-metrics");
        assert_eq!(service["spec"]["ports"][0]["name"], port_name.as_str(), "{env}");
        assert_eq!(service["spec"]["ports"][0]["targetPort"], port, "{env}");
        for monitor in docs.iter().filter(|d| d["kind"] == "ServiceMonitor") {
            assert_eq!(
                monitor["spec"]["endpoints"][0]["port"],
                port_name.as_str(),
                "{env}"
            );
        }
        let server = find_container(containers, &profile.kubernetes.workload.container);
        let env_var = |name: &str| {
            server["env"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["name"] == name)
                .unwrap()["value"]
                .clone()
        };
        assert_eq!(env_var("METRICS_PORT"), profile.metrics.port.to_string(), "{env}");
        assert!(
            server["image"].is_string(),
            "{env}: the overlay's Deployment supplies the image"
        );
        if !profile.proxy.enabled {
            assert_eq!(container["name"], server["name"], "{env}: scraped directly");
            continue;
        }
        assert_eq!(
            container["name"], "sockudo-metrics-proxy",
            "{env}: the sidecar serves the port"
        );
        let volumes = pod["spec"]["volumes"].as_array().unwrap();
        let volume = |name: &str| volumes.iter().find(|v| v["name"] == name).unwrap();
        let mounts = container["volumeMounts"].as_array().unwrap();
        for mount in mounts {
            let source = volume(mount["name"].as_str().unwrap());
            if let Some(map) = source.get("configMap") {
                let config = find(&docs, "ConfigMap", map["name"].as_str().unwrap());
                assert!(config["data"]["sockudo-metrics.conf"].is_string(), "{env}");
                assert_eq!(mount["mountPath"], "/etc/nginx/conf.d", "{env}");
            } else if source.get("emptyDir").is_some() {
                assert_eq!(
                    mount["mountPath"], "/tmp",
                    "{env}: the read-only root's one writable place"
                );
            } else {
                let secret = &source["secret"];
                assert_eq!(
                    secret["secretName"],
                    profile.kubernetes.proxy_sidecar.htpasswd_secret.as_str()
                );
                // The Secret is a folder (no subPath, so rotations reach it) holding the file
                // the sidecar's nginx reads: its key, where auth_basic_user_file points.
                assert!(mount.get("subPath").is_none(), "{env}: {mount:?}");
                let conf = volumes
                    .iter()
                    .find_map(|v| v["configMap"]["name"].as_str())
                    .map(|name| find(&docs, "ConfigMap", name)["data"]["sockudo-metrics.conf"].clone())
                    .unwrap();
                let user_file = conf
                    .as_str()
                    .unwrap()
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("auth_basic_user_file "))
                    .map(|f| f.trim_end_matches(';'))
                    .expect("the sidecar's nginx reads an htpasswd file");
                let expected = format!(
                    "{}/{}",
                    mount["mountPath"].as_str().unwrap(),
                    profile.kubernetes.proxy_sidecar.htpasswd_key
                );
                assert_eq!(user_file, expected, "{env}: where auth_basic_user_file points");
            }
        }
        assert_eq!(mounts.len(), 3, "{env}: config, htpasswd and /tmp");
    }
}

fn find_container<'a>(containers: &'a [Value], name: &str) -> &'a Value {
    containers
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no container {name}"))
}

/// Without the Operator's component the overlay holds no monitoring.coreos.com object, so a
/// cluster without its CRDs takes the plain path; pod discovery gets its RBAC there.
#[test]
fn the_plain_path_needs_no_operator_crds() {
    let root = tempfile::tempdir().unwrap();
    let plain = specs::overlay_on_fresh_bundle(root.path(), "production");
    // As the README says: remove the operator component from the overlay.
    let file = plain.join("kustomization.yaml");
    let mut kustomization: Value = serde_norway::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let components = kustomization["components"].as_array_mut().unwrap();
    let before = components.len();
    components.retain(|c| !c.as_str().unwrap().ends_with("/operator"));
    assert_eq!(
        components.len(),
        before - 1,
        "the overlay lists the operator component"
    );
    std::fs::write(&file, serde_norway::to_string(&kustomization).unwrap()).unwrap();
    let docs = specs::kustomize(&plain);
    assert!(docs.iter().all(|d| !d["apiVersion"]
        .as_str()
        .unwrap()
        .starts_with("monitoring.coreos.com")));
    let role = find(&docs, "Role", "sockudo-prometheus-pod-discovery");
    assert_eq!(role["rules"][0]["resources"][0], "pods");
    let verbs: Vec<&str> = role["rules"][0]["verbs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(verbs.contains(&"list") && verbs.contains(&"watch"), "{verbs:?}");
    let binding = find(&docs, "RoleBinding", "sockudo-prometheus-pod-discovery");
    assert_eq!(binding["roleRef"]["name"], "sockudo-prometheus-pod-discovery");
    assert_eq!(binding["subjects"][0]["kind"], "ServiceAccount");
    // The plain Prometheus's config discovers the namespace the Role is in.
    let config = find(&docs, "ConfigMap", "sockudo-prometheus");
    let prometheus: Value =
        serde_norway::from_str(config["data"]["prometheus.yml"].as_str().unwrap()).unwrap();
    let pod_job = prometheus["scrape_configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j.get("kubernetes_sd_configs").is_some())
        .unwrap();
    assert_eq!(
        pod_job["kubernetes_sd_configs"][0]["namespaces"]["names"][0],
        role["metadata"]["namespace"]
    );
}

/// Rewrites one YAML file in place.
fn edit_yaml(file: &std::path::Path, edit: impl FnOnce(&mut Value)) {
    let mut doc: Value = serde_norway::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    edit(&mut doc);
    std::fs::write(file, serde_norway::to_string(&doc).unwrap()).unwrap();
}

/// The overlay's `components`, replaced by the generated components named in `components`.
fn with_components(overlay: &std::path::Path, env: &str, components: &[&str]) {
    edit_yaml(&overlay.join("kustomization.yaml"), |k| {
        k["components"] = components
            .iter()
            .map(|c| Value::from(format!("../../generated/{env}/k8s/{c}")))
            .collect();
    });
}

/// The Secrets the README tells the operator to create, in the namespace it names: the only
/// references the bundle leaves to the outside.
fn operator_secrets(profile: &sockudo_obs::bundle::Profile) -> Vec<(&'static str, String, String)> {
    vec![(
        "Secret",
        profile.kubernetes.namespace.clone(),
        profile.kubernetes.proxy_sidecar.htpasswd_secret.clone(),
    )]
}

/// The namespace and reference rules over one kustomize output; empty when it holds.
fn namespace_problems(docs: &[Value], profile: &sockudo_obs::bundle::Profile) -> Vec<String> {
    let secrets = operator_secrets(profile);
    let provided: Vec<(&str, &str, &str)> = secrets
        .iter()
        .map(|(k, ns, n)| (*k, ns.as_str(), n.as_str()))
        .collect();
    let mut problems = kube::missing_namespaces(docs);
    problems.extend(kube::unresolved_references(docs, &provided));
    problems
}

/// Every environment's overlay on a freshly generated bundle under `root`, with its profile.
fn fresh_overlays(root: &std::path::Path) -> impl Iterator<Item = (String, bundle::Profile, PathBuf)> + '_ {
    specs::environments().into_iter().map(move |env| {
        let profile = profile_of(&env);
        let overlay = specs::overlay_on_fresh_bundle(root, &env);
        (env, profile, overlay)
    })
}

fn profile_of(env: &str) -> sockudo_obs::bundle::Profile {
    sockudo_obs::bundle::Model::load(&SpecSource::Embedded, env, &Overrides::default())
        .unwrap()
        .profile
}

/// Every way an overlay can combine the generated base and components (as shipped, the base
/// alone, each component added in turn) gives objects that all name their namespace, pods whose
/// ConfigMaps, Secrets and ServiceAccounts are in the pods' namespace, and the plain
/// Prometheus's ConfigMap where that Prometheus runs.
#[test]
fn every_overlay_and_component_puts_each_object_in_its_namespace() {
    let root = tempfile::tempdir().unwrap();
    for (env, profile, overlay) in fresh_overlays(root.path()) {
        let mut variants: Vec<Vec<&str>> = vec![vec![], vec![WORKLOAD_COMPONENT]];
        if profile.kubernetes.operator.enabled {
            variants.push(vec![WORKLOAD_COMPONENT, OPERATOR_COMPONENT]);
            variants.push(vec![
                WORKLOAD_COMPONENT,
                OPERATOR_COMPONENT,
                POD_MONITOR_COMPONENT,
            ]);
        }
        // The overlay as shipped first, then each combination.
        let shipped = specs::kustomize(&overlay);
        let problems = namespace_problems(&shipped, &profile);
        assert!(problems.is_empty(), "k8s/{env}:\n{}", problems.join("\n"));
        for components in variants {
            with_components(&overlay, &env, &components);
            let docs = specs::kustomize(&overlay);
            let problems = namespace_problems(&docs, &profile);
            assert!(
                problems.is_empty(),
                "k8s/{env} with {components:?}:\n{}",
                problems.join("\n")
            );
            let config = find(&docs, "ConfigMap", "sockudo-prometheus");
            assert_eq!(
                config["metadata"]["namespace"],
                profile.kubernetes.prometheus_service_account.namespace.as_str(),
                "{env}: the plain Prometheus's config is where that Prometheus runs"
            );
        }
    }
}

/// What keeps the Grafana sidecar from loading the bundle's dashboards as written: one
/// ConfigMap per file of `dashboards`, in the profile's namespace with the sidecar's label and
/// folder, holding that very file.
fn sidecar_dashboard_problems(
    docs: &[Value],
    profile: &bundle::Profile,
    dashboards: &std::path::Path,
) -> Vec<String> {
    let sidecar = &profile.kubernetes.grafana_sidecar;
    let configmaps: Vec<&Value> = docs
        .iter()
        .filter(|d| {
            d["kind"] == "ConfigMap" && d["metadata"]["labels"][&sidecar.label] == sidecar.value.as_str()
        })
        .collect();
    let files: Vec<PathBuf> = std::fs::read_dir(dashboards)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    let mut problems = Vec::new();
    if files.is_empty() || configmaps.len() != files.len() {
        problems.push(format!(
            "{} sidecar ConfigMaps for {} dashboard files",
            configmaps.len(),
            files.len()
        ));
    }
    for file in files {
        let key = file.file_name().unwrap().to_str().unwrap();
        let Some(configmap) = configmaps.iter().find(|c| c["data"].get(key).is_some()) else {
            problems.push(format!("no sidecar ConfigMap holds {key}"));
            continue;
        };
        let held: Value = serde_json::from_str(configmap["data"][key].as_str().unwrap()).unwrap();
        let written: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        if held != written {
            problems.push(format!("the ConfigMap's {key} is not the file"));
        }
        let metadata = &configmap["metadata"];
        if metadata["namespace"] != profile.kubernetes.namespace.as_str() {
            problems.push(format!("{key}: namespace {}", metadata["namespace"]));
        }
        if metadata["annotations"]["grafana_folder"] != sidecar.folder.as_str() {
            problems.push(format!(
                "{key}: folder {}",
                metadata["annotations"]["grafana_folder"]
            ));
        }
    }
    problems
}

/// Every overlay gives the Grafana sidecar the bundle's dashboard files: kustomize makes its
/// ConfigMaps from `grafana/dashboards/`, the files provisioned Grafana reads too.
#[test]
fn every_overlay_gives_the_grafana_sidecar_the_bundle_dashboard_files() {
    let root = tempfile::tempdir().unwrap();
    for (env, profile, overlay) in fresh_overlays(root.path()) {
        let dashboards = root
            .path()
            .join("generated")
            .join(&env)
            .join("grafana/dashboards");
        let problems = sidecar_dashboard_problems(&specs::kustomize(&overlay), &profile, &dashboards);
        assert!(problems.is_empty(), "k8s/{env}:\n{}", problems.join("\n"));
    }
}

/// The dashboards' generator without its sidecar label, or without its namespace: the check
/// names each on kustomize's real output.
#[test]
fn a_dashboard_configmap_the_sidecar_cannot_load_is_caught() {
    let (root, profile, overlay, _) = production_overlay();
    let generated = root.path().join("generated/production/grafana");
    let dashboards = generated.join("dashboards");
    let kustomization = generated.join("kustomization.yaml");
    let original = std::fs::read_to_string(&kustomization).unwrap();
    edit_yaml(&kustomization, |k| {
        let labels = k["configMapGenerator"][0]["options"]["labels"]
            .as_object_mut()
            .unwrap();
        labels
            .remove(&profile.kubernetes.grafana_sidecar.label)
            .expect("the generator labels for the sidecar");
    });
    let problems = sidecar_dashboard_problems(&specs::kustomize(&overlay), &profile, &dashboards);
    assert!(
        problems.iter().any(|p| p.starts_with("0 sidecar ConfigMaps")),
        "{problems:#?}"
    );

    std::fs::write(&kustomization, original).unwrap();
    edit_yaml(&kustomization, |k| {
        k["configMapGenerator"][0]
            .as_object_mut()
            .unwrap()
            .remove("namespace")
            .expect("the generator names its namespace");
    });
    let problems = sidecar_dashboard_problems(&specs::kustomize(&overlay), &profile, &dashboards);
    assert!(
        problems.iter().any(|p| p.ends_with("namespace null")),
        "{problems:#?}"
    );
}

/// A fresh production bundle with its overlay in a temporary folder (kept alive by the returned
/// guard), the profile, the overlay folder and the workload component's kustomization.
fn production_overlay() -> (tempfile::TempDir, bundle::Profile, PathBuf, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let profile = profile_of("production");
    let overlay = specs::overlay_on_fresh_bundle(root.path(), "production");
    let component = root
        .path()
        .join("generated/production/k8s/workload/kustomization.yaml");
    (root, profile, overlay, component)
}

/// The workload component's generator without its namespace: kustomize leaves the sidecar's
/// ConfigMap to the current context, and both rules fire on the real output.
#[test]
fn a_generated_configmap_without_its_namespace_is_caught() {
    let (_root, profile, overlay, component) = production_overlay();
    edit_yaml(&component, |k| {
        k["configMapGenerator"][0]
            .as_object_mut()
            .unwrap()
            .remove("namespace")
            .expect("the generator names its namespace");
    });
    let problems = namespace_problems(&specs::kustomize(&overlay), &profile);
    assert!(
        problems
            .iter()
            .any(|p| p == "ConfigMap /sockudo-metrics-proxy has no metadata.namespace"),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("Deployment sockudo/sockudo references ConfigMap sockudo-metrics-proxy")),
        "{problems:#?}"
    );
}

/// A pod whose ConfigMap, Secret or ServiceAccount is in another namespace (or nowhere) cannot
/// start: each is named; the same objects in the pod's namespace pass.
#[test]
fn a_pod_reference_outside_its_namespace_is_caught() {
    let (_root, profile, overlay, component) = production_overlay();
    edit_yaml(&component, |k| {
        k["configMapGenerator"][0]["namespace"] = "monitoring".into();
    });
    edit_yaml(&overlay.join("deployment.yaml"), |d| {
        d["spec"]["template"]["spec"]["serviceAccountName"] = "sockudo".into();
    });
    let docs = specs::kustomize(&overlay);
    let problems = namespace_problems(&docs, &profile);
    assert!(kube::missing_namespaces(&docs).is_empty(), "every object has one");
    let expected = [
        "Deployment sockudo/sockudo references ConfigMap sockudo-metrics-proxy, which is not in its namespace \"sockudo\"",
        "Deployment sockudo/sockudo references ServiceAccount sockudo, which is not in its namespace \"sockudo\"",
    ];
    assert_eq!(problems, expected);
    // The Secret the operator creates is the only outside reference; without it, it is named.
    let outside = kube::unresolved_references(&docs, &[]);
    assert!(
        outside
            .iter()
            .any(|p| p.contains("references Secret sockudo-metrics-htpasswd")),
        "{outside:#?}"
    );
    // In the pod's namespace, both resolve.
    edit_yaml(&component, |k| {
        k["configMapGenerator"][0]["namespace"] = "sockudo".into();
    });
    std::fs::write(
        overlay.join("serviceaccount.yaml"),
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sockudo\n  namespace: sockudo\n",
    )
    .unwrap();
    edit_yaml(&overlay.join("kustomization.yaml"), |k| {
        k["resources"]
            .as_array_mut()
            .unwrap()
            .push("serviceaccount.yaml".into());
    });
    let problems = namespace_problems(&specs::kustomize(&overlay), &profile);
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The patched pod template of every overlay passes Pod Security "restricted", and so does the
/// sidecar on its own (whatever the operator's pod sets): non-root, no escalation, every
/// capability dropped, RuntimeDefault seccomp; its root filesystem is read-only and its one
/// writable place, /tmp (the unprivileged image's pid and temp files), an emptyDir.
#[test]
fn every_patched_pod_passes_pod_security_restricted() {
    let root = tempfile::tempdir().unwrap();
    for (env, profile, overlay) in fresh_overlays(root.path()) {
        let docs = specs::kustomize(&overlay);
        let pods = kube::pod_specs(&docs);
        assert!(!pods.is_empty(), "{env}: no pod template");
        for (workload, spec) in pods {
            let problems = kube::restricted_violations(spec);
            assert!(
                problems.is_empty(),
                "{env}: {}:\n{}",
                kube::describe(workload),
                problems.join("\n")
            );
        }
        if !profile.proxy.enabled {
            continue;
        }
        let deployment = find(&docs, "Deployment", &profile.kubernetes.workload.deployment);
        let spec = &deployment["spec"]["template"]["spec"];
        let sidecar = find_container(spec["containers"].as_array().unwrap(), "sockudo-metrics-proxy");
        let alone = serde_json::json!({
            "containers": [sidecar],
            "volumes": spec["volumes"],
        });
        let problems = kube::restricted_violations(&alone);
        assert!(
            problems.is_empty(),
            "{env}: the sidecar alone:\n{}",
            problems.join("\n")
        );
        assert_eq!(
            sidecar["securityContext"]["readOnlyRootFilesystem"], true,
            "{env}"
        );
        let tmp = sidecar["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["mountPath"] == "/tmp")
            .unwrap_or_else(|| panic!("{env}: nothing writable at /tmp"));
        assert_ne!(tmp["readOnly"], true, "{env}");
        let volume = spec["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == tmp["name"])
            .unwrap();
        assert!(volume.get("emptyDir").is_some(), "{env}: {volume}");
    }
}

/// The restricted check against pods the profile admits and rejects (the cases of the Pod
/// Security Standards page): a compliant pod passes; each single change below is rejected.
#[test]
fn the_restricted_check_admits_and_rejects_as_pod_security_does() {
    use serde_json::json;
    let admitted = json!({
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "app",
            "ports": [{"containerPort": 8080}],
            "securityContext": {
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
            },
        }],
        "volumes": [
            {"name": "c", "configMap": {"name": "c"}},
            {"name": "s", "secret": {"secretName": "s"}},
            {"name": "t", "emptyDir": {}},
        ],
    });
    assert_eq!(kube::restricted_violations(&admitted), Vec::<String>::new());
    // Settings on each container instead of the pod are admitted too.
    let mut per_container = admitted.clone();
    per_container["securityContext"] = json!({});
    per_container["containers"][0]["securityContext"]["runAsNonRoot"] = true.into();
    per_container["containers"][0]["securityContext"]["seccompProfile"] =
        json!({"type": "Localhost", "localhostProfile": "p.json"});
    assert_eq!(kube::restricted_violations(&per_container), Vec::<String>::new());

    let c = "/containers/0/securityContext";
    let rejected: [(&str, Value); 18] = [
        ("/hostNetwork", true.into()),
        ("/hostPID", true.into()),
        ("/hostIPC", true.into()),
        (&format!("{c}/privileged"), true.into()),
        (&format!("{c}/allowPrivilegeEscalation"), Value::Null),
        (&format!("{c}/allowPrivilegeEscalation"), true.into()),
        (&format!("{c}/runAsNonRoot"), false.into()),
        ("/securityContext/runAsNonRoot", Value::Null),
        (&format!("{c}/runAsUser"), 0.into()),
        ("/securityContext/seccompProfile", Value::Null),
        (&format!("{c}/seccompProfile"), json!({"type": "Unconfined"})),
        (&format!("{c}/capabilities/drop"), json!(["NET_RAW"])),
        (&format!("{c}/capabilities/add"), json!(["SYS_ADMIN"])),
        ("/containers/0/ports/0/hostPort", 8080.into()),
        ("/volumes/2", json!({"name": "h", "hostPath": {"path": "/"}})),
        (&format!("{c}/procMount"), "Unmasked".into()),
        (&format!("{c}/seLinuxOptions"), json!({"user": "system_u"})),
        (
            "/securityContext/sysctls",
            json!([{"name": "kernel.msgmax", "value": "1"}]),
        ),
    ];
    for (pointer, value) in rejected {
        let mut pod = admitted.clone();
        set_pointer(&mut pod, pointer, value.clone());
        assert!(
            !kube::restricted_violations(&pod).is_empty(),
            "{pointer} = {value} must be rejected"
        );
    }
    // An init container is held to the same rules.
    let mut init = admitted.clone();
    init["initContainers"] = json!([{"name": "init"}]);
    let problems = kube::restricted_violations(&init);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("container init: allowPrivilegeEscalation")),
        "{problems:#?}"
    );
}

/// Sets (or, with null, removes) the value at a JSON pointer whose parent exists.
fn set_pointer(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = doc.pointer_mut(parent).unwrap_or_else(|| panic!("no {parent}"));
    match parent {
        Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
        Value::Object(map) if value.is_null() => {
            map.remove(key);
        }
        Value::Object(map) => {
            map.insert(key.to_string(), value);
        }
        other => panic!("{pointer}: {other} holds no field"),
    }
}

/// The htpasswd Secret is mounted as a folder in every overlay's patched pods, so a rotated Secret
/// reaches the sidecar's nginx (which reads the file on every request) without a restart; the
/// check finds a Secret mounted by `subPath` in a pod that has one.
#[test]
fn a_rotated_secret_reaches_the_patched_pods() {
    let root = tempfile::tempdir().unwrap();
    for env in specs::environments() {
        let overlay = specs::overlay_on_fresh_bundle(root.path(), &env);
        let docs = specs::kustomize(&overlay);
        for (workload, spec) in kube::pod_specs(&docs) {
            let problems = kube::frozen_mounts(spec);
            assert!(
                problems.is_empty(),
                "{env}: {}:\n{}",
                kube::describe(workload),
                problems.join("\n")
            );
        }
    }
    let pod = serde_json::json!({
        "containers": [{"name": "nginx", "volumeMounts": [
            {"name": "htpasswd", "mountPath": "/etc/nginx/htpasswd", "subPath": "htpasswd"},
            {"name": "scratch", "mountPath": "/tmp/x", "subPath": "x"},
        ]}],
        "volumes": [
            {"name": "htpasswd", "secret": {"secretName": "s"}},
            {"name": "scratch", "emptyDir": {}},
        ],
    });
    let problems = kube::frozen_mounts(&pod);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("volume \"htpasswd\""), "{problems:?}");
}
