#!/usr/bin/env node
// validate-crds.mjs: validate the prometheus-operator objects (ServiceMonitor,
// PodMonitor, PrometheusRule, ... of group monitoring.coreos.com) in rendered
// Kubernetes manifests against the CRD schemas shipped in
// @kubernetes-models/prometheus-operator, and hand everything else to the
// core-kind validator. Used by scripts/validate-bundle.sh.
//
// usage: node scripts/validate-crds.mjs MANIFESTS.yaml --core-out FILE --rules-dir DIR --ts-dir DIR
//   MANIFESTS.yaml  multi-document YAML (`kubectl kustomize` output)
//   --core-out      every object NOT in monitoring.coreos.com is written here
//                   (for kubernetes-validate)
//   --rules-dir     each PrometheusRule's spec is written here as
//                   NAMESPACE.NAME.yml (for promtool check rules)
//   --ts-dir        each operator object is written here as a typed .ts
//                   wrapper (for scripts/typecheck.sh). The CRD JSON schemas
//                   accept unknown fields (the API server prunes them
//                   silently); tsc's excess-property check catches them.
// Exits 1 naming each object that fails; 2 on usage or input errors.
import { createRequire } from "node:module";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const GROUP = "monitoring.coreos.com";
const TOOLS = process.env.SOCKUDO_OBS_TOOLS ?? join(dirname(fileURLToPath(import.meta.url)), "..", ".tools");
const NODE_MODULES = join(TOOLS, "node", "node_modules");
// The packages live in .tools/node (ESM import ignores NODE_PATH): load them from there.
const requireTools = createRequire(join(TOOLS, "node", "package.json"));
const YAML = requireTools("yaml");

function usage(message) {
  console.error(`validate-crds: ${message}\nusage: validate-crds.mjs MANIFESTS.yaml --core-out FILE --rules-dir DIR --ts-dir DIR`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = { input: null, coreOut: null, rulesDir: null, tsDir: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--core-out") args.coreOut = argv[++i];
    else if (argv[i] === "--rules-dir") args.rulesDir = argv[++i];
    else if (argv[i] === "--ts-dir") args.tsDir = argv[++i];
    else if (args.input === null) args.input = argv[i];
    else usage(`unexpected argument ${argv[i]}`);
  }
  if (!args.input || !args.coreOut || !args.rulesDir || !args.tsDir) usage("missing argument");
  return args;
}

// Load the model classes of one monitoring.coreos.com version (v1, v1alpha1, ...).
const modelModules = new Map();
async function modelsFor(version) {
  if (!modelModules.has(version)) {
    const file = join(NODE_MODULES, "@kubernetes-models", "prometheus-operator", GROUP, version, "index.js");
    modelModules.set(version, existsSync(file) ? await import(pathToFileURL(file).href) : null);
  }
  return modelModules.get(version);
}

function describe(obj) {
  const m = obj?.metadata ?? {};
  return `${obj?.kind ?? "?"} ${m.namespace ? m.namespace + "/" : ""}${m.name ?? "?"}`;
}

// Validate one monitoring.coreos.com object; return an error string or null.
async function validateOperatorObject(obj) {
  const version = obj.apiVersion.slice(GROUP.length + 1);
  const models = await modelsFor(version);
  const Model = models?.[obj.kind];
  if (typeof Model !== "function" || Model.kind !== obj.kind) {
    return `no schema for ${obj.apiVersion} ${obj.kind} in @kubernetes-models/prometheus-operator`;
  }
  try {
    new Model(obj).validate();
    return null;
  } catch (err) {
    const details = (err.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ""}`);
    return details.length ? details.join("; ") : String(err.message ?? err);
  }
}

// Write OBJ as `const o: JsonOf<IKind> = {...}` for tsc's excess-property check.
function writeTypedWrapper(dir, obj) {
  const m = obj.metadata ?? {};
  const module = `@kubernetes-models/prometheus-operator/${obj.apiVersion}`;
  const file = join(dir, `${obj.kind}.${m.namespace ?? "default"}.${m.name}.ts`.replace(/[^A-Za-z0-9._-]/g, "_"));
  writeFileSync(
    file,
    `// ${describe(obj)}\n` +
      `import type { I${obj.kind} } from "${module}";\nimport type { JsonOf } from "./json-of";\n` +
      `const o: JsonOf<I${obj.kind}> = ${JSON.stringify(obj, null, 2)};\nexport default o;\n`,
  );
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const docs = YAML.parseAllDocuments(readFileSync(args.input, "utf8"));
  const core = [];
  let failures = 0;
  let checked = 0;
  mkdirSync(args.rulesDir, { recursive: true });
  mkdirSync(args.tsDir, { recursive: true });

  for (const doc of docs) {
    if (doc.errors.length) usage(`${args.input}: YAML error: ${doc.errors[0].message}`);
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue;
    if (typeof obj.apiVersion !== "string" || !obj.apiVersion.startsWith(GROUP + "/")) {
      core.push(doc.toString());
      continue;
    }
    checked++;
    const error = await validateOperatorObject(obj);
    if (error) {
      failures++;
      console.error(`validate-crds: FAIL ${describe(obj)} (${obj.apiVersion}): ${error}`);
      continue;
    }
    console.log(`validate-crds: ok ${describe(obj)} (${obj.apiVersion})`);
    writeTypedWrapper(args.tsDir, obj);
    if (obj.kind === "PrometheusRule") {
      const m = obj.metadata;
      const file = join(args.rulesDir, `${m.namespace ?? "default"}.${m.name}.yml`);
      writeFileSync(file, YAML.stringify(obj.spec ?? {}));
    }
  }

  writeFileSync(args.coreOut, core.map((d) => (d.startsWith("---") ? d : `---\n${d}`)).join(""));
  console.log(`validate-crds: ${checked} ${GROUP} object(s) checked, ${failures} failed; ${core.length} other object(s) passed on`);
  process.exit(failures ? 1 : 0);
}

main().catch((err) => {
  console.error(`validate-crds: ${err.stack ?? err}`);
  process.exit(2);
});
