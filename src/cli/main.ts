import { setFlagsFromString } from 'node:v8';
import { runCli } from './program.js';
import { streamContext } from './stream-context.js';

// The process's context, built first: stdout and stderr are wrapped by the redactor before
// anything can print (stream-context.ts).
const ctx = streamContext({
  env: process.env,
  cwd: process.cwd(),
  stdin: () => process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  stderrIsTTY: Boolean(process.stderr.isTTY),
});

// undici parses HTTP with llhttp compiled to WebAssembly; V8's optimizing tier-up of that
// module costs ~30 MB of memory for a moment, for parsing a few small answers. The baseline
// compiler is plenty for a short run. Set before the first request compiles the module.
setFlagsFromString('--liftoff-only');

// The entry point: the only place that touches the real process.
const code = await runCli(process.argv.slice(2), ctx);
process.exitCode = code;
