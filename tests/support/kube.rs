//! Rules `kubectl kustomize` cannot check and an API server would only enforce at apply time,
//! encoded over kustomize's parsed output: every namespaced object names its namespace, and
//! every ConfigMap, Secret and ServiceAccount a pod template references exists in its namespace.
//! Each returns one line per violation, naming the object; empty when the output holds.

use serde_json::Value;

/// The cluster-scoped kinds (everything else is namespaced, an unknown kind included, so a new
/// kind is held to the stricter rule).
const CLUSTER_SCOPED: [&str; 16] = [
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
    "RuntimeClass",
    "CSIDriver",
    "VolumeAttachment",
    "APIService",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
];

/// `Kind namespace/name` of an object, for messages.
pub fn describe(object: &Value) -> String {
    let meta = &object["metadata"];
    format!(
        "{} {}/{}",
        object["kind"].as_str().unwrap_or("?"),
        meta["namespace"].as_str().unwrap_or(""),
        meta["name"].as_str().unwrap_or("?")
    )
}

/// A namespaced object without `metadata.namespace` goes wherever `kubectl`'s context points.
pub fn missing_namespaces(docs: &[Value]) -> Vec<String> {
    docs.iter()
        .filter(|d| !CLUSTER_SCOPED.contains(&d["kind"].as_str().unwrap_or("")))
        .filter(|d| d["metadata"]["namespace"].as_str().unwrap_or("").is_empty())
        .map(|d| format!("{} has no metadata.namespace", describe(d)))
        .collect()
}

/// The pod spec of a workload (or a Pod), with its namespace.
pub fn pod_specs(docs: &[Value]) -> Vec<(&Value, &Value)> {
    docs.iter()
        .filter_map(|d| {
            let spec = match d["kind"].as_str()? {
                "Pod" => &d["spec"],
                "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
                    &d["spec"]["template"]["spec"]
                }
                "CronJob" => &d["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                _ => return None,
            };
            Some((d, spec))
        })
        .collect()
}

fn items(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_array().into_iter().flatten()
}

fn optional(reference: &Value) -> bool {
    reference["optional"] == true
}

/// (kind, name) of every ConfigMap, Secret and ServiceAccount a pod spec needs: volumes
/// (projected too), `env[].valueFrom`, `envFrom`, `imagePullSecrets` and
/// `serviceAccountName`. References marked `optional` are left out: the pod starts without them.
pub fn pod_references(spec: &Value) -> Vec<(&'static str, String)> {
    let mut refs = Vec::new();
    let mut add = |kind: &'static str, name: &Value| {
        if let Some(name) = name.as_str() {
            refs.push((kind, name.to_string()));
        }
    };
    for volume in items(&spec["volumes"]) {
        if !optional(&volume["configMap"]) {
            add("ConfigMap", &volume["configMap"]["name"]);
        }
        if !optional(&volume["secret"]) {
            add("Secret", &volume["secret"]["secretName"]);
        }
        for source in items(&volume["projected"]["sources"]) {
            if !optional(&source["configMap"]) {
                add("ConfigMap", &source["configMap"]["name"]);
            }
            if !optional(&source["secret"]) {
                add("Secret", &source["secret"]["name"]);
            }
        }
    }
    for container in items(&spec["containers"]).chain(items(&spec["initContainers"])) {
        for var in items(&container["env"]) {
            let from = &var["valueFrom"];
            if !optional(&from["configMapKeyRef"]) {
                add("ConfigMap", &from["configMapKeyRef"]["name"]);
            }
            if !optional(&from["secretKeyRef"]) {
                add("Secret", &from["secretKeyRef"]["name"]);
            }
        }
        for from in items(&container["envFrom"]) {
            if !optional(&from["configMapRef"]) {
                add("ConfigMap", &from["configMapRef"]["name"]);
            }
            if !optional(&from["secretRef"]) {
                add("Secret", &from["secretRef"]["name"]);
            }
        }
    }
    for secret in items(&spec["imagePullSecrets"]) {
        add("Secret", &secret["name"]);
    }
    // Every namespace has the ServiceAccount `default`; any other must be applied with the pod.
    match spec["serviceAccountName"].as_str() {
        None | Some("default") => {}
        Some(name) => refs.push(("ServiceAccount", name.to_string())),
    }
    refs
}

/// Every reference of every pod template resolves to an object of the output in the pod's own
/// namespace, or to one of `provided` (kind, namespace, name): what the operator creates outside
/// the bundle, as its README tells them to.
pub fn unresolved_references(docs: &[Value], provided: &[(&str, &str, &str)]) -> Vec<String> {
    let exists = |kind: &str, namespace: &str, name: &str| {
        provided.contains(&(kind, namespace, name))
            || docs.iter().any(|d| {
                d["kind"] == kind
                    && d["metadata"]["name"] == name
                    && d["metadata"]["namespace"].as_str().unwrap_or("") == namespace
            })
    };
    let mut problems = Vec::new();
    for (workload, spec) in pod_specs(docs) {
        let namespace = workload["metadata"]["namespace"].as_str().unwrap_or("");
        for (kind, name) in pod_references(spec) {
            if !exists(kind, namespace, &name) {
                problems.push(format!(
                    "{} references {kind} {name}, which is not in its namespace {namespace:?}",
                    describe(workload)
                ));
            }
        }
    }
    problems
}
