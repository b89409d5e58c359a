// Compiles contracts/src/*.sol with the pinned solc-js (package.json) and settings below, and
// writes each deployable contract's creation bytecode as hex to OUT/<Name>.bin (default
// contracts/out). The committed contracts/out is this script's output: a test rebuilds it and
// compares byte for byte, so compiler or settings drift fails CI.
//
// Usage: node contracts/build.js [OUT]
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const here = __dirname;
const out = path.resolve(process.argv[2] || path.join(here, "out"));
const srcDir = path.join(here, "src");

// Pinned: a change here changes every byte of the output, and the committed bytecode with it.
const settings = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "prague",
  // No metadata hash and no CBOR trailer: the bytecode then depends on the sources' text and
  // these settings only, not on the absolute paths or the compiler's build.
  metadata: { bytecodeHash: "none", appendCBOR: false },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
};

const sources = {};
for (const f of fs.readdirSync(srcDir).sort()) {
  if (f.endsWith(".sol")) {
    // Relative source names, so that where the checkout lies does not reach the output.
    sources["src/" + f] = { content: fs.readFileSync(path.join(srcDir, f), "utf8") };
  }
}

const result = JSON.parse(
  solc.compile(JSON.stringify({ language: "Solidity", sources, settings }), {
    import: (p) => {
      const file = path.join(here, p);
      return fs.existsSync(file)
        ? { contents: fs.readFileSync(file, "utf8") }
        : { error: "not found: " + p };
    },
  })
);
let failed = false;
for (const e of result.errors || []) {
  process.stderr.write(e.formattedMessage || e.message);
  if (e.severity === "error") failed = true;
}
if (failed) process.exit(1);

fs.mkdirSync(out, { recursive: true });
const written = [];
for (const [file, contracts] of Object.entries(result.contracts || {})) {
  for (const [name, c] of Object.entries(contracts)) {
    const code = c.evm.bytecode.object;
    // Abstract contracts compile to nothing, and libraries of internal functions to a stub
    // with nothing to call: only contracts with an interface are deployed.
    if (!code || code.length === 0 || c.abi.length === 0) continue;
    fs.writeFileSync(path.join(out, name + ".bin"), code + "\n");
    fs.writeFileSync(path.join(out, name + ".abi.json"), JSON.stringify(c.abi, null, 1) + "\n");
    written.push(name + " (" + code.length / 2 + " bytes, " + file + ")");
  }
}
process.stderr.write("solc " + solc.version() + ": " + written.join(", ") + "\n");
