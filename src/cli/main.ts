import { randomInt } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { Redactor } from '../log/redactor.js';
import { StdinTooLargeError, type CommandContext } from '../commands/context.js';
import { runCli } from './program.js';

// The second line of defence, set up once before anything can print: every byte this process
// writes to stdout or stderr (commands, commander's help and usage errors, a library's
// warning) passes through the redactor that commands register secrets with.
const redactor = new Redactor();
redactor.guardStream(process.stdout);
redactor.guardStream(process.stderr);

function processContext(): CommandContext {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    random: () => randomInt(0, 2 ** 32) / 2 ** 32,
    redactor,
    readStdin: async (maxBytes) => {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of process.stdin) {
        size += (c as Buffer).length;
        if (maxBytes !== undefined && size > maxBytes) {
          // Stop here: the rest is never read into memory (the writer gets EPIPE).
          process.stdin.destroy();
          throw new StdinTooLargeError(maxBytes);
        }
        chunks.push(c as Buffer);
      }
      return Buffer.concat(chunks);
    },
  };
}

// undici parses HTTP with llhttp compiled to WebAssembly; V8's optimizing tier-up of that
// module costs ~30 MB of memory for a moment, for parsing a few small answers. The baseline
// compiler is plenty for a short run. Set before the first request compiles the module.
setFlagsFromString('--liftoff-only');

// The entry point: the only place that touches the real process.
const code = await runCli(process.argv.slice(2), processContext());
process.exitCode = code;
