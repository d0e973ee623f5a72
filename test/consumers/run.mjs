// The consumer matrix: the package as its users get it. Packs the built package with `npm pack`, installs
// the tarball into a fresh folder per consumer, and runs the README's library snippets there, as written,
// in every runtime the package claims: Node (ESM, and CommonJS through require), tsc (node16 and bundler
// resolution, with and without the DOM lib), esbuild and vite bundles in headless Chromium, a wrangler build
// served by workerd, Deno and Bun. Every run must produce the same MIDI bytes as Node's.
//
// Run by `npm run consumers` (which builds first) and by .ci/run after the test suite. The tools come from
// the npm registry at pinned versions, through npm's cache; Chromium is Debian's. Prints one line per
// check and closes with `consumers: N passed, N failed`; exits non-zero if any check failed.
// KEEP_CONSUMERS=1 keeps the work folder; CHROMIUM_PATH overrides /usr/bin/chromium.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { librarySnippets, readmeCodeBlocks } from './readme_blocks.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const requireFromRoot = createRequire(join(root, 'package.json'));

/** Pinned tool versions, each installed from the npm registry into its own folder. */
const NODE_FOR_WRANGLER = `node-${process.platform}-${process.arch}`;
const TOOLS = {
  esbuild: ['esbuild@0.28.2'],
  wrangler: ['wrangler@4.164.0', `${NODE_FOR_WRANGLER}@22.23.5`], // wrangler 4 needs Node >= 22.12; workerd comes with it
  deno: ['deno@2.9.6'],
  bun: ['bun@1.4.5'],
};
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
const MIDI_MARK = 'README-MIDI ';
const OK_MARK = 'README-OK';

const results = [];
function record(name, ok, detail) {
  results.push({ name, ok });
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
}

/** Runs a command; resolves with its output, rejects with an error that names the command and its output. */
function run(command, args, options = {}) {
  const { timeout = 300_000, ...rest } = options;
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 64 << 20, timeout, ...rest }, (error, stdout, stderr) => {
      if (error) {
        const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-25).join('\n');
        reject(new Error(`\`${[basename(command), ...args].join(' ')}\` (in ${rest.cwd ?? root}) failed: ${error.message.split('\n')[0]}\n${tail}`));
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

const npm = (args, cwd) => run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd });

function newFolder(parent, name, packageJson) {
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `consumer-${name}`, private: true, ...packageJson }, null, 2)}\n`);
  return dir;
}

/** The MIDI bytes a run printed (the harness's report line), or an error naming what was printed instead. */
function midiFromOutput(output) {
  const line = output.split('\n').find((l) => l.startsWith(MIDI_MARK));
  if (!line) throw new Error(`no "${MIDI_MARK}..." line in the output:\n${output.trim().slice(-2000)}`);
  return Uint8Array.from(line.slice(MIDI_MARK.length).trim().split(','), Number);
}

// The snippet as written, then the harness's report line (which needs the `midi` the snippet defines).
function withReport(code) {
  const report = /\bconst midi\b/.test(code)
    ? `console.log(${JSON.stringify(MIDI_MARK)} + Array.from(midi).join(','));`
    : `console.log(${JSON.stringify(OK_MARK)});`;
  return `${code}\n\n// Added by the consumer matrix: report what the snippet made.\n${report}\n`;
}

/** The snippet as CommonJS: its `import { a, b } from 'x'` lines as require, the rest in an async function. */
function asCommonJs(code) {
  const imports = [];
  const body = code.replace(/^import \{([^}]+)\} from (['"][^'"]+['"]);?$/gm, (_, names, from) => {
    imports.push(`const {${names}} = require(${from});`);
    return '';
  });
  if (/^\s*import\s/m.test(body)) throw new Error('the snippet has an import form other than `import { ... } from "..."`, which the CommonJS check cannot convert');
  return `${imports.join('\n')}\n(async () => {\n${withReport(body)}\n})().catch((e) => { console.error(e); process.exitCode = 1; });\n`;
}

/** Checks MIDI bytes the way a user would: a Standard MIDI File with notes, identical to Node's for the same snippet. */
const references = new Map(); // snippet tag (e.g. " (README line 127)") -> the first runtime's MIDI
let importMidi = null;
function checkMidi(name, midi, extra = '') {
  const head = String.fromCharCode(...midi.subarray(0, 4));
  if (head !== 'MThd') return record(name, false, `the MIDI starts with ${JSON.stringify(head)}, not MThd`);
  const notes = Array.from(importMidi(midi, { transpose: false, centre: false }).tokens).filter((t) => t >= 2).length;
  if (notes === 0) return record(name, false, 'the MIDI has no notes');
  const tag = name.slice(name.indexOf(' ') + 1);
  const reference = references.get(tag);
  if (reference === undefined) references.set(tag, midi);
  else if (Buffer.compare(Buffer.from(reference), Buffer.from(midi)) !== 0) {
    return record(name, false, `the MIDI (${midi.length} bytes) differs from Node's (${reference.length} bytes) for the same seed`);
  }
  return record(name, true, `README snippet ran; MIDI of ${midi.length} bytes with ${notes} notes, identical to Node's${extra}`);
}

async function attempt(name, fn) {
  try {
    await fn();
  } catch (e) {
    record(name, false, e.message);
  }
}

/** A static file server on 127.0.0.1 and a free port. */
async function serveFolder(dir) {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

/** Opens a built page in headless Chromium and returns the MIDI its snippet reported. */
let browser = null;
async function midiFromPage(dir) {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  const { chromium } = requireFromRoot('playwright-core');
  browser ??= await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const { server, url } = await serveFolder(dir);
  const page = await browser.newPage();
  try {
    const problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()} for ${r.url()}`));
    const reported = new Promise((resolve) => page.on('console', (m) => m.text().startsWith(MIDI_MARK) && resolve(m.text())));
    await page.goto(url);
    const line = await Promise.race([reported, new Promise((r) => setTimeout(() => r(null), 60_000))]);
    if (problems.length) throw new Error(problems.join('; '));
    if (line === null) throw new Error('the page reported no MIDI within 60 s');
    return midiFromOutput(line);
  } finally {
    await page.close();
    await new Promise((r) => server.close(r));
  }
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

async function main() {
  const started = Date.now();
  const { blocks, problems } = readmeCodeBlocks(readFileSync(join(root, 'README.md'), 'utf8'));
  if (problems.length) record('readme', false, `README.md's code blocks do not parse cleanly:\n  ${problems.join('\n  ')}`);
  const snippets = librarySnippets(blocks);
  if (snippets.length === 0) record('readme', false, "README.md has no js or ts block importing from 'rltuner'");
  const jsSnippets = snippets.filter((s) => s.language === 'js');
  ({ importMidi } = await import(join(root, 'dist', 'index.js')));

  const work = mkdtempSync(join(tmpdir(), 'rltuner-consumers-'));
  console.log(`consumer matrix in ${work}`);
  let toolInstalls = {};
  try {
    // The tarball, exactly as npm would publish it (the build is current: `npm run consumers` builds first).
    const packed = (await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--loglevel=error'], { cwd: root })).stdout.trim().split('\n').at(-1);
    const tarball = join(work, packed);
    console.log(`packed ${packed} (${statSync(tarball).size} bytes)`);

    // Tools, each in its own folder, installed while the consumer folders are made.
    const toolsDir = join(work, 'tools');
    toolInstalls = Object.fromEntries(Object.entries(jsSnippets.length ? TOOLS : {}).map(([tool, specs]) => {
      const dir = newFolder(toolsDir, tool, {});
      return [tool, npm(['install', ...specs], dir).then(() => dir)];
    }));
    for (const p of Object.values(toolInstalls)) p.catch(() => {}); // reported where used
    const tool = async (name) => {
      try {
        return await toolInstalls[name];
      } catch (e) {
        throw new Error(`installing ${TOOLS[name].join(' ')} from the npm registry failed: ${e.message}`);
      }
    };

    const consumers = join(work, 'consumers');
    const consumer = async (name, packageJson = { type: 'module' }) => {
      const dir = newFolder(consumers, name, packageJson);
      await npm(['install', tarball], dir);
      return dir;
    };

    for (const [k, snippet] of jsSnippets.entries()) {
      const tag = jsSnippets.length > 1 ? ` (README line ${snippet.line})` : '';
      const file = `readme_${k}`;

      await attempt(`node-esm${tag}`, async () => {
        const dir = await consumer('node-esm');
        writeFileSync(join(dir, `${file}.mjs`), withReport(snippet.code));
        checkMidi(`node-esm${tag}`, midiFromOutput((await run(process.execPath, [`${file}.mjs`], { cwd: dir })).stdout), ` (Node ${process.version})`);
      });

      await attempt(`node-cjs${tag}`, async () => {
        const dir = await consumer('node-cjs', { type: 'commonjs' });
        writeFileSync(join(dir, `${file}.cjs`), asCommonJs(snippet.code));
        checkMidi(`node-cjs${tag}`, midiFromOutput((await run(process.execPath, [`${file}.cjs`], { cwd: dir })).stdout), ' (require)');
      });

      await attempt(`esbuild+chromium${tag}`, async () => {
        const dir = await consumer('esbuild');
        writeFileSync(join(dir, `${file}.mjs`), withReport(snippet.code));
        writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="./out/bundle.js"></script>\n');
        const esbuild = join(await tool('esbuild'), 'node_modules', '.bin', 'esbuild');
        await run(esbuild, [`${file}.mjs`, '--bundle', '--format=esm', '--outfile=out/bundle.js', '--log-level=warning'], { cwd: dir });
        checkMidi(`esbuild+chromium${tag}`, await midiFromPage(dir), ` (bundle ${statSync(join(dir, 'out', 'bundle.js')).size} bytes)`);
      });

      await attempt(`vite+chromium${tag}`, async () => {
        const dir = await consumer('vite');
        writeFileSync(join(dir, `${file}.js`), withReport(snippet.code));
        writeFileSync(join(dir, 'index.html'), `<!doctype html><title>README</title><script type="module" src="./${file}.js"></script>\n`);
        const vite = join(dirname(requireFromRoot.resolve('vite/package.json')), 'bin', 'vite.js');
        await run(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: dir });
        const assets = readdirSync(join(dir, 'dist', 'assets')).filter((f) => f.endsWith('.js'));
        checkMidi(`vite+chromium${tag}`, await midiFromPage(join(dir, 'dist')), ` (${assets.length} chunks: ${assets.map((f) => statSync(join(dir, 'dist', 'assets', f)).size).join(', ')} bytes)`);
      });

      await attempt(`wrangler+workerd${tag}`, async () => {
        const dir = await consumer('wrangler');
        // The worker module: the snippet as written at top level, and a fetch handler that returns its MIDI.
        writeFileSync(join(dir, 'worker.mjs'), `${snippet.code}\n\n// Added by the consumer matrix: serve what the snippet made.\nexport default { fetch: () => new Response(midi, { headers: { 'content-type': 'audio/midi' } }) };\n`);
        writeFileSync(join(dir, 'wrangler.toml'), 'name = "readme"\nmain = "worker.mjs"\ncompatibility_date = "2026-11-01"\n');
        const tools = await tool('wrangler');
        const node22 = join(tools, 'node_modules', NODE_FOR_WRANGLER, 'bin', 'node');
        const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', XDG_CONFIG_HOME: join(dir, '.config'), PATH: `${dirname(node22)}:${process.env.PATH}` };
        await run(node22, [join(tools, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'deploy', '--dry-run', '--outdir', 'out'], { cwd: dir, env });
        const wasm = readdirSync(join(dir, 'out')).filter((f) => f.endsWith('.wasm'));
        if (wasm.length === 0) throw new Error('the wrangler build holds no .wasm module: the workerd entry was not used');
        const port = await freePort();
        const modules = [
          '(name = "worker.js", esModule = embed "out/worker.js")',
          ...wasm.map((f) => `(name = "${f}", wasm = embed "out/${f}")`),
        ];
        writeFileSync(join(dir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .readme) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const readme :Workerd.Worker = (
  modules = [ ${modules.join(', ')} ],
  compatibilityDate = "2026-11-01",
);
`);
        const workerd = createRequire(join(tools, 'package.json'))('workerd').default;
        const server = spawn(workerd, ['serve', 'config.capnp'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
        let log = '';
        server.stdout.on('data', (d) => { log += d; });
        server.stderr.on('data', (d) => { log += d; });
        try {
          let response = null;
          for (let tries = 0; tries < 100 && response === null && server.exitCode === null; tries++) {
            response = await fetch(`http://127.0.0.1:${port}/`).catch(() => null);
            if (response === null) await new Promise((r) => setTimeout(r, 200));
          }
          if (response === null) throw new Error(`workerd did not answer on 127.0.0.1:${port}:\n${log.trim().slice(-2000)}`);
          if (!response.ok) throw new Error(`workerd answered HTTP ${response.status}: ${(await response.text()).slice(0, 500)}\n${log.trim().slice(-2000)}`);
          checkMidi(`wrangler+workerd${tag}`, new Uint8Array(await response.arrayBuffer()), ` (precompiled ${wasm.join(', ')}, served by workerd)`);
        } finally {
          server.kill();
        }
      });

      await attempt(`deno${tag}`, async () => {
        const dir = await consumer('deno');
        writeFileSync(join(dir, `${file}.mjs`), withReport(snippet.code));
        const deno = join(await tool('deno'), 'node_modules', '.bin', 'deno');
        const env = { ...process.env, DENO_DIR: join(dir, '.deno'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
        const version = (await run(deno, ['--version'], { env })).stdout.split('\n')[0];
        checkMidi(`deno${tag}`, midiFromOutput((await run(deno, ['run', '--allow-read', `${file}.mjs`], { cwd: dir, env })).stdout), ` (${version})`);
      });

      await attempt(`bun${tag}`, async () => {
        const dir = await consumer('bun');
        writeFileSync(join(dir, `${file}.mjs`), withReport(snippet.code));
        const bun = join(await tool('bun'), 'node_modules', '.bin', 'bun');
        const version = (await run(bun, ['--version'])).stdout.trim();
        checkMidi(`bun${tag}`, midiFromOutput((await run(bun, [`${file}.mjs`], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } })).stdout), ` (Bun ${version})`);
      });
    }

    // Kernel threads from the package in Node: rltuner/wasm-shared and rltuner/node-threads, the same bits.
    await attempt('node-esm threads', async () => {
      const dir = await consumer('node-threads');
      writeFileSync(join(dir, 'threads.mjs'), THREADS_CHECK);
      const line = (await run(process.execPath, ['threads.mjs'], { cwd: dir })).stdout.split('\n').find((l) => l.startsWith('THREADS '));
      if (!line) throw new Error('threads.mjs printed no THREADS line');
      const [, bits, parts] = line.split(' ');
      if (bits !== 'same') throw new Error(`tune on two threads wrote other model bytes than on one (${line})`);
      if (!(Number(parts) > 0)) throw new Error(`the helper thread ran no part of the work (${line})`);
      record('node-esm threads', true, `tune on two threads (rltuner/wasm-shared, rltuner/node-threads) wrote the model bytes of one thread; ${parts} parts ran on the helper`);
    });

    // TypeScript: every snippet type-checks as written, and the package's types hold without the DOM lib.
    const tsc = join(dirname(requireFromRoot.resolve('typescript/package.json')), 'bin', 'tsc');
    const typesRoot = join(root, 'node_modules', '@types');
    const variants = [
      { name: 'tsc node16 +dom', module: 'node16', resolution: 'node16', lib: ['es2022', 'dom'], types: [] },
      { name: 'tsc node16 node-only', module: 'node16', resolution: 'node16', lib: ['es2022'], types: ['node'] },
      { name: 'tsc bundler +dom', module: 'esnext', resolution: 'bundler', lib: ['es2022', 'dom'], types: [] },
      { name: 'tsc bundler bare-es2022', module: 'esnext', resolution: 'bundler', lib: ['es2022'], types: [] },
      // skipLibCheck hides errors in the package's declarations; the @ts-expect-error lines still catch an `any`.
      { name: 'tsc bundler node-only skipLibCheck', module: 'esnext', resolution: 'bundler', lib: ['es2022'], types: ['node'], skipLibCheck: true },
    ];
    let tsDir = null;
    for (const variant of variants) {
      await attempt(variant.name, async () => {
        tsDir ??= await consumer('tsc');
        const files = snippets.map((s, k) => {
          writeFileSync(join(tsDir, `readme_${k}.ts`), `${s.code}\nexport {};\n`);
          return `readme_${k}.ts`;
        });
        writeFileSync(join(tsDir, 'package_types.ts'), PACKAGE_TYPES_CHECK);
        const config = `tsconfig.${variant.name.replace(/\W+/g, '-')}.json`;
        writeFileSync(join(tsDir, config), JSON.stringify({
          compilerOptions: {
            target: 'es2022', module: variant.module, moduleResolution: variant.resolution, lib: variant.lib,
            types: variant.types, typeRoots: [typesRoot], strict: true, noEmit: true, skipLibCheck: variant.skipLibCheck ?? false,
          },
          files: [...files, 'package_types.ts'],
        }, null, 2));
        await run(process.execPath, [tsc, '-p', config], { cwd: tsDir });
        record(variant.name, true, `README snippets and the package's types check (lib ${variant.lib.join('+')}${variant.types.length ? ' with @types/node' : ''}, skipLibCheck ${variant.skipLibCheck ?? false})`);
      });
    }
  } finally {
    await browser?.close();
    await Promise.allSettled(Object.values(toolInstalls)); // an install still writing would race the removal
    if (process.env.KEEP_CONSUMERS) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true, maxRetries: 3 });
  }
  const passed = results.filter((r) => r.ok).length;
  console.log(`consumer matrix took ${Math.round((Date.now() - started) / 1000)} s`);
  console.log(`consumers: ${passed} passed, ${results.length - passed} failed`);
  process.exitCode = results.length === passed && passed > 0 ? 0 : 1;
}

// A short tune on one thread and on two, through the package's exports only.
const THREADS_CHECK = `import { defaultNoteRnnBytes, KernelThreads, loadKernels, tune } from 'rltuner';
import sharedKernelsWasm from 'rltuner/wasm-shared';
import { startNodeKernelThread } from 'rltuner/node-threads';

const config = { trainingSteps: 640, explorationSteps: 320, logEvery: 320, evalEvery: 0, evalCompositions: 0, checkpointEvery: 0 };
const bytes = await defaultNoteRnnBytes();
const one = await tune(await loadKernels(), bytes, { config });
const pool = await KernelThreads.start(await loadKernels(sharedKernelsWasm), 2, startNodeKernelThread);
const two = await tune(pool.kernels, bytes, { config });
pool.close();
const same = one.modelBytes.length === two.modelBytes.length && one.modelBytes.every((b, i) => b === two.modelBytes[i]);
console.log(\`THREADS \${same ? 'same' : 'different'} \${pool.partsPosted}\`);
`;

// What every subpath export gives, as TypeScript sees it; each @ts-expect-error fails the check if the
// type it guards were any (as Kernels.module became with skipLibCheck before).
const PACKAGE_TYPES_CHECK = `import { loadKernels, kernelsFromModule, loadNoteRnn, loadDefaultNoteRnn, defaultNoteRnnBytes, tune, KernelThreads, type Kernels } from 'rltuner';
import kernelsWasm from 'rltuner/wasm';
import relaxedKernelsWasm from 'rltuner/wasm-relaxed';
import sharedKernelsWasm from 'rltuner/wasm-shared';
import { startNodeKernelThread } from 'rltuner/node-threads';
import noteRnnBytes from 'rltuner/model';

export async function check(): Promise<number> {
  const kernels: Kernels = await loadKernels(kernelsWasm);
  await loadKernels(relaxedKernelsWasm);
  await loadKernels(new Uint8Array(8).buffer);
  const bytes: Uint8Array = noteRnnBytes;
  loadNoteRnn(kernels, bytes);
  loadNoteRnn(kernels, bytes.slice().buffer);
  const { model } = await loadDefaultNoteRnn(kernels);
  kernelsFromModule(kernels.module);
  await tune(kernels, await defaultNoteRnnBytes(), { config: { trainingSteps: 1 }, onProgress: (p) => p.step });
  const pool: KernelThreads = await KernelThreads.start(await loadKernels(sharedKernelsWasm), 2, startNodeKernelThread);
  const threaded: Kernels = pool.kernels;
  pool.close();
  // @ts-expect-error the shared build is bytes, not a string (nor any)
  const notText: string = sharedKernelsWasm;
  // @ts-expect-error Kernels.module is a WebAssembly module, not a number (nor any)
  const notANumber: number = kernels.module;
  // @ts-expect-error the model bytes are a Uint8Array, not a string (nor any)
  const notAString: string = noteRnnBytes;
  // @ts-expect-error loadNoteRnn takes the model file's bytes, not a path
  loadNoteRnn(kernels, 'note_rnn.safetensors');
  return notANumber + notAString.length + notText.length + threaded.heapBase + model.config.hiddenSizes.length;
}
`;

await main();
