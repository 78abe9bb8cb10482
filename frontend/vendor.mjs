// Copy the front-end builds the pages need from node_modules into app/static/vendor and write
// app/static/vendor/VENDOR.md (package, version, licence, files and their SHA-256).
//
//   cd frontend && npm ci && npm run vendor
//
// The service fetches nothing from a CDN: every script and stylesheet is served from app/static.

import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const MODULES = join(HERE, "node_modules");
const VENDOR = join(HERE, "..", "app", "static", "vendor");

// What the pages load: package -> the dist files copied, into vendor/<dir>/ (with its licence
// and notices). `bundlesDependencies`: the build has the package's npm dependencies compiled in,
// so VENDOR.md lists them too (swagger-ui-dist ships their notices in a .LICENSE.txt instead).
const VENDORED = [
  { name: "@zazuko/yasgui", dir: "yasgui", files: ["build/yasgui.min.js", "build/yasgui.min.css"],
    bundlesDependencies: true },
  { name: "cytoscape", dir: "cytoscape", files: ["dist/cytoscape.min.js"] },
  { name: "swagger-ui-dist", dir: "swagger-ui",
    files: ["swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-bundle.js.LICENSE.txt", "NOTICE"] },
];

const LICENCE_FILES = ["LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "license", "license.md"];

const lock = JSON.parse(readFileSync(join(HERE, "package-lock.json"), "utf8"));

function locked(name) {
  const entry = lock.packages[`node_modules/${name}`];
  if (!entry) throw new Error(`${name} is not in package-lock.json: run npm install`);
  return entry;
}

function licenceFile(name) {
  const found = LICENCE_FILES.map((f) => join(MODULES, name, f)).find((p) => existsSync(p));
  return found ?? null;
}

// The lock file's licence field, else the package.json's, else recognised from the LICENSE text.
function licenceOf(name) {
  const fromLock = locked(name).license;
  if (fromLock) return fromLock;
  const manifest = JSON.parse(readFileSync(join(MODULES, name, "package.json"), "utf8"));
  if (manifest.license) return typeof manifest.license === "string" ? manifest.license : manifest.license.type;
  if (Array.isArray(manifest.licenses) && manifest.licenses.length) return manifest.licenses.map((l) => l.type).join(" OR ");
  const file = licenceFile(name);
  if (file && /Permission is hereby granted, free of charge/.test(readFileSync(file, "utf8"))) return "MIT";
  throw new Error(`cannot tell the licence of ${name}`);
}

// Every package a vendored bundle was built from (its runtime dependency closure in the lock file).
function closure(name, seen = new Set()) {
  for (const dep of Object.keys(locked(name).dependencies ?? {})) {
    if (!seen.has(dep)) {
      seen.add(dep);
      closure(dep, seen);
    }
  }
  return seen;
}

function sha256(path) {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

rmSync(VENDOR, { recursive: true, force: true });
const rows = [];
const bundled = new Map();
for (const pkg of VENDORED) {
  const target = join(VENDOR, pkg.dir);
  mkdirSync(target, { recursive: true });
  const copied = [];
  for (const file of pkg.files) {
    const name = file.split("/").pop();
    copyFileSync(join(MODULES, pkg.name, file), join(target, name));
    copied.push(`${pkg.dir}/${name}`);
  }
  const licence = licenceFile(pkg.name);
  if (licence) {
    copyFileSync(licence, join(target, "LICENSE"));
    copied.push(`${pkg.dir}/LICENSE`);
  }
  rows.push({ ...pkg, version: locked(pkg.name).version, licence: licenceOf(pkg.name), copied });
  if (pkg.bundlesDependencies) for (const dep of closure(pkg.name)) bundled.set(dep, pkg.name);
}

const lines = [
  "# Vendored front-end builds",
  "",
  "Written by `frontend/vendor.mjs` from `frontend/node_modules` (`cd frontend && npm ci && npm run vendor`);",
  "do not edit by hand. Versions are those of `frontend/package-lock.json`. The pages load these files",
  "from `/static/vendor/`; nothing is fetched from a CDN.",
  "",
  "| package | version | licence | files |",
  "|---|---|---|---|",
  ...rows.map((r) => `| ${r.name} | ${r.version} | ${r.licence} | ${r.copied.map((f) => "`" + f + "`").join(", ")} |`),
  "",
  "## Files",
  "",
  "| file | sha256 |",
  "|---|---|",
  ...rows.flatMap((r) => r.copied.map((f) => `| \`${f}\` | ${sha256(join(VENDOR, f))} |`)),
  "",
  "## Bundled inside the builds above",
  "",
  "Runtime dependencies of the vendored packages, as resolved in `frontend/package-lock.json`.",
  "",
  "| package | version | licence | bundled in |",
  "|---|---|---|---|",
  ...[...bundled.keys()].sort().map((n) => `| ${n} | ${locked(n).version} | ${licenceOf(n)} | ${bundled.get(n)} |`),
  "",
];
writeFileSync(join(VENDOR, "VENDOR.md"), lines.join("\n"));
console.log(`vendored ${rows.map((r) => `${r.name}@${r.version}`).join(", ")} into ${VENDOR}`);
for (const entry of readdirSync(VENDOR)) console.log(`  ${entry}`);
