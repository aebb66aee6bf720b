// Validates an AsyncAPI document with the official parser (@asyncapi/parser).
//
// Usage: node tools/asyncapi/validate.mjs FILE
// Prints one line per error (where in the document, and what), and exits 1 if there is any;
// prints one line and exits 0 otherwise. Warnings and hints are not failures.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";

import { DiagnosticSeverity, Parser } from "@asyncapi/parser";

function where(path) {
  return path.length === 0 ? "(document)" : "/" + path.join("/");
}

async function main(argv) {
  if (argv.length !== 1) {
    console.error("usage: node tools/asyncapi/validate.mjs FILE");
    return 2;
  }
  const file = resolve(argv[0]);
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    console.error(`${argv[0]}: cannot read it (${error.code ?? error.message})`);
    return 2;
  }
  const { document, diagnostics } = await new Parser().parse(text, { source: file });
  const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
  for (const error of errors) {
    console.log(`${argv[0]}: error at ${where(error.path)}: ${error.message} [${error.code}]`);
  }
  if (errors.length > 0 || document === undefined) {
    const counted = errors.length === 1 ? "1 error" : `${errors.length} errors`;
    console.log(`${argv[0]}: not a valid AsyncAPI document (${counted})`);
    return 1;
  }
  const counted = `${document.channels().length} channels, ${document.operations().length} operations`;
  console.log(`${argv[0]}: valid AsyncAPI ${document.version()} (${counted})`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
