#!/usr/bin/env node
// pgas-run: start a PGAS job (see runtime/launcher/). The launcher is TypeScript compiled to dist/.
import '../dist/runtime/launcher/cli.js';
