#!/usr/bin/env node
// Runs bpmn.io's bpmnlint (its Linter API, with bpmn-moddle) on BPMN files and prints one JSON
// document on stdout: [{file, parseError?, reports: [{rule, id, message, category}]}].
// Usage: node bpmnlint-json.js <node_modules dir> <.bpmnlintrc> <file.bpmn>...
// Called by service/engine/lint.py; the Python side turns the reports into the product's problems.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');

async function main(argv) {
  const [nodeModules, configPath, ...files] = argv;
  // Resolve bpmnlint, its rules and bpmn-moddle from the product's node_modules, wherever it is.
  const scopedRequire = Module.createRequire(path.join(path.resolve(nodeModules), '__placeholder__.js'));
  const { Linter } = scopedRequire('bpmnlint');
  const NodeResolver = scopedRequire('bpmnlint/lib/resolver/node-resolver');
  const { BpmnModdle } = scopedRequire('bpmn-moddle');

  const config = JSON.parse(fs.readFileSync(configPath, 'utf-8'));
  const linter = new Linter({
    config,
    resolver: new NodeResolver({ require: scopedRequire })
  });
  const moddle = new BpmnModdle();
  const results = [];
  for (const file of files) {
    const xml = fs.readFileSync(file, 'utf-8');
    let definitions;
    const reports = [];
    try {
      // Import warnings (unresolved references and the like) are left out: the product's own
      // checks of the file report those, with the line.
      definitions = (await moddle.fromXML(xml)).rootElement;
    } catch (error) {
      results.push({ file, parseError: String(error.message).split('\n')[0], reports });
      continue;
    }
    const byRule = await linter.lint(definitions);
    for (const [rule, found] of Object.entries(byRule)) {
      for (const report of found) {
        reports.push({
          rule,
          id: report.id || null,
          message: report.message,
          category: report.category
        });
      }
    }
    results.push({ file, reports });
  }
  process.stdout.write(JSON.stringify(results));
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(String(error && error.stack || error) + '\n');
  process.exit(2);
});
