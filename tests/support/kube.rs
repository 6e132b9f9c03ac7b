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

/// Mounts the kubelet never updates: a Secret, ConfigMap or projected volume mounted by
/// `subPath` keeps the content it had when the container started, so a rotated Secret (the
/// htpasswd file) would not take effect until the pod is replaced.
pub fn frozen_mounts(spec: &Value) -> Vec<String> {
    let updated: Vec<&str> = items(&spec["volumes"])
        .filter(|v| v.get("secret").is_some() || v.get("configMap").is_some() || v.get("projected").is_some())
        .filter_map(|v| v["name"].as_str())
        .collect();
    items(&spec["containers"])
        .chain(items(&spec["initContainers"]))
        .flat_map(|c| items(&c["volumeMounts"]).map(move |m| (c, m)))
        .filter(|(_, m)| m.get("subPath").is_some() || m.get("subPathExpr").is_some())
        .filter(|(_, m)| m["name"].as_str().is_some_and(|n| updated.contains(&n)))
        .map(|(c, m)| {
            format!(
                "container {}: volume {} mounted at {} by subPath is never updated",
                c["name"], m["name"], m["mountPath"]
            )
        })
        .collect()
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

/// The volume types Pod Security "restricted" allows.
const RESTRICTED_VOLUMES: [&str; 8] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// The sysctls Pod Security "baseline" (and so "restricted") allows.
const SAFE_SYSCTLS: [&str; 8] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
];

/// Where Pod Security "restricted" (latest, Kubernetes 1.32) rejects a pod spec: the baseline
/// rules (no host namespaces, ports or paths, no privileged container, no added capability but
/// NET_BIND_SERVICE, no unconfined seccomp or AppArmor, default procMount, safe sysctls, no
/// custom SELinux user or role) and the restricted ones (only the allowed volume types, no
/// privilege escalation, non-root with a non-zero uid, RuntimeDefault or Localhost seccomp,
/// every capability dropped), each container judged with the pod's settings it inherits.
pub fn restricted_violations(spec: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let pod = &spec["securityContext"];
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec[field] == true {
            problems.push(format!("pod: {field} is true"));
        }
    }
    for volume in items(&spec["volumes"]) {
        let name = volume["name"].as_str().unwrap_or("?");
        let kinds: Vec<&String> = volume
            .as_object()
            .into_iter()
            .flat_map(|o| o.keys())
            .filter(|k| k.as_str() != "name")
            .collect();
        for kind in kinds {
            if !RESTRICTED_VOLUMES.contains(&kind.as_str()) {
                problems.push(format!("volume {name}: type {kind} is not allowed"));
            }
        }
    }
    for sysctl in items(&pod["sysctls"]) {
        let name = sysctl["name"].as_str().unwrap_or("?");
        if !SAFE_SYSCTLS.contains(&name) {
            problems.push(format!("pod: sysctl {name} is not allowed"));
        }
    }
    problems.extend(context_violations("pod", pod));
    if pod["runAsUser"] == 0 {
        problems.push("pod: runAsUser is 0".to_string());
    }
    let pod_seccomp = seccomp_type(pod);
    let containers = items(&spec["containers"])
        .chain(items(&spec["initContainers"]))
        .chain(items(&spec["ephemeralContainers"]));
    for container in containers {
        let name = format!("container {}", container["name"].as_str().unwrap_or("?"));
        let context = &container["securityContext"];
        problems.extend(context_violations(&name, context));
        if context["privileged"] == true {
            problems.push(format!("{name}: privileged"));
        }
        for port in items(&container["ports"]) {
            if port["hostPort"].as_u64().unwrap_or(0) != 0 {
                problems.push(format!("{name}: hostPort {}", port["hostPort"]));
            }
        }
        if context["allowPrivilegeEscalation"] != false {
            problems.push(format!("{name}: allowPrivilegeEscalation is not false"));
        }
        let non_root = match context["runAsNonRoot"].as_bool() {
            Some(set) => set,
            None => pod["runAsNonRoot"] == true,
        };
        if !non_root {
            problems.push(format!("{name}: runAsNonRoot is not true (here or on the pod)"));
        }
        if context["runAsUser"] == 0 {
            problems.push(format!("{name}: runAsUser is 0"));
        }
        match seccomp_type(context).or(pod_seccomp) {
            Some("RuntimeDefault" | "Localhost") => {}
            other => problems.push(format!(
                "{name}: seccompProfile is {other:?}, not RuntimeDefault or Localhost"
            )),
        }
        let capabilities = &context["capabilities"];
        if !items(&capabilities["drop"]).any(|c| c == "ALL") {
            problems.push(format!("{name}: capabilities.drop lacks ALL"));
        }
        for added in items(&capabilities["add"]) {
            if added != "NET_BIND_SERVICE" {
                problems.push(format!("{name}: adds capability {added}"));
            }
        }
    }
    problems
}

fn seccomp_type(context: &Value) -> Option<&str> {
    context["seccompProfile"]["type"].as_str()
}

/// The rules a pod's and a container's security context share.
fn context_violations(who: &str, context: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if seccomp_type(context) == Some("Unconfined") {
        problems.push(format!("{who}: seccompProfile is Unconfined"));
    }
    if context["appArmorProfile"]["type"] == "Unconfined" {
        problems.push(format!("{who}: appArmorProfile is Unconfined"));
    }
    let selinux = &context["seLinuxOptions"];
    for field in ["user", "role"] {
        if selinux.get(field).is_some() {
            problems.push(format!("{who}: seLinuxOptions.{field} is set"));
        }
    }
    if let Some(kind) = selinux["type"].as_str() {
        if ![
            "",
            "container_t",
            "container_init_t",
            "container_kvm_t",
            "container_engine_t",
        ]
        .contains(&kind)
        {
            problems.push(format!("{who}: seLinuxOptions.type {kind} is not allowed"));
        }
    }
    if context["procMount"].as_str().is_some_and(|m| m != "Default") {
        problems.push(format!("{who}: procMount is not Default"));
    }
    if context["windowsOptions"]["hostProcess"] == true {
        problems.push(format!("{who}: windowsOptions.hostProcess is true"));
    }
    problems
}
