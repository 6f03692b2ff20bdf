#!/usr/bin/env node
// Build step after tsc: marks the CLI entry point executable. Proto files are
// read from ../proto at run time (see node/rpc/proto.ts), so nothing else is
// copied.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const cli = path.join(__dirname, '..', 'dist', 'node', 'cli', 'main.js')
if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755)
