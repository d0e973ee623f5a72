/**
 * The web page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core): build the
 * page with vite, serve dist-web/ from 127.0.0.1 on a random port, generate a melody, check the piano
 * roll and the MIDI download, play it, run a short tune in the worker to the end, compare samples, and
 * save a screenshot to dist-web/screenshot.png. Skips only when Chromium is not installed.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMidi } from '../../src/index.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  console.warn(`browser test SKIPPED: Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
}
const root = fileURLToPath(new URL('../..', import.meta.url));
const outDir = join(root, 'dist-web');

/** The flags this machine's closed network needs (see .library/env/machines/node.md). */
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required',
];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm',
  '.safetensors': 'application/octet-stream', '.png': 'image/png', '.svg': 'image/svg+xml',
};

/** A static file server for dist-web/ on 127.0.0.1 and a free port. */
async function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(dir)) return void res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

const noteCount = async (page: Page, selector: string): Promise<number> => Number(await page.getAttribute(selector, 'data-note-count'));

describe.skipIf(!HAVE_CHROMIUM)(
  HAVE_CHROMIUM ? 'web page in headless Chromium' : `web page (SKIPPED: ${CHROMIUM} is not installed; apt-get install -y chromium)`,
  () => {
    let server: Server;
    let url: string;
    let profile: string;
    let context: BrowserContext;
    let page: Page;
    const problems: string[] = [];

    beforeAll(async () => {
      await build({ configFile: join(root, 'web/vite.config.ts'), logLevel: 'warn' });
      ({ server, url } = await serve(outDir));
      profile = await mkdtemp(join(tmpdir(), 'rltuner-chromium-'));
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, acceptDownloads: true,
        viewport: { width: 1100, height: 900 },
      });
      page = context.pages()[0] ?? (await context.newPage());
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
      page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()} for ${r.url()}`));
      await page.goto(url);
      await page.waitForSelector('#status[data-state="ready"]', { timeout: 20_000 });
    }, 45_000);

    afterAll(async () => {
      await context?.close();
      await new Promise((r) => server?.close(r));
      if (profile) await rm(profile, { recursive: true, force: true });
    });

    it('generates a melody and draws it as a piano roll', async () => {
      const before = await page.getAttribute('#roll-main', 'data-seed');
      await page.click('#generate');
      await page.waitForFunction((s) => document.getElementById('roll-main')?.dataset.seed !== s, before);
      expect(await noteCount(page, '#roll-main')).toBeGreaterThan(0);
      expect(await page.getAttribute('#roll-main', 'data-steps')).toBe('64');
      // Note bars are painted: count pixels in the Note RNN blue (#2f6fd0).
      const bluePixels = await page.evaluate(() => {
        const c = document.getElementById('roll-main') as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] === 0x2f && d[i + 1] === 0x6f && d[i + 2] === 0xd0) n++;
        return n;
      });
      expect(bluePixels).toBeGreaterThan(100);
      expect(problems).toEqual([]);
    });

    it('offers the melody as a MIDI download that parses', async () => {
      const href = await page.getAttribute('#download-midi', 'href');
      expect(href).toMatch(/^blob:/);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-midi')]);
      expect(download.suggestedFilename()).toMatch(/\.mid$/);
      const bytes = new Uint8Array(await readFile(await download.path()));
      expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('MThd');
      const { tokens } = importMidi(bytes, { transpose: false, centre: false });
      expect(Array.from(tokens).filter((t) => t >= 2).length).toBe(await noteCount(page, '#roll-main'));
    });

    it('plays the melody through Web Audio (one oscillator per note, sound at the output) and stops', async () => {
      // Instrument the page's audio before the first click: count the oscillators the synth starts, and tap
      // everything it connects to the speakers with an analyser, so the test hears what the page plays.
      await page.evaluate(() => {
        const probe = { started: 0, contexts: [] as BaseAudioContext[], taps: [] as AnalyserNode[] };
        (window as unknown as { audioProbe: typeof probe }).audioProbe = probe;
        const start = OscillatorNode.prototype.start;
        OscillatorNode.prototype.start = function (this: OscillatorNode, when?: number) {
          probe.started++;
          if (!probe.contexts.includes(this.context)) probe.contexts.push(this.context);
          return start.call(this, when);
        };
        const connect = AudioNode.prototype.connect as (this: AudioNode, destination: AudioNode) => AudioNode;
        AudioNode.prototype.connect = function (this: AudioNode, destination: AudioNode) {
          if (destination instanceof AudioDestinationNode) {
            const tap = this.context.createAnalyser();
            connect.call(this, tap);
            probe.taps.push(tap);
          }
          return connect.call(this, destination);
        } as typeof AudioNode.prototype.connect;
      });
      const loudness = () => page.evaluate(() => {
        const { taps } = (window as unknown as { audioProbe: { taps: AnalyserNode[] } }).audioProbe;
        let peak = 0;
        for (const tap of taps) {
          const samples = new Float32Array(tap.fftSize);
          tap.getFloatTimeDomainData(samples);
          for (const v of samples) peak = Math.max(peak, Math.abs(v));
        }
        return peak;
      });

      await page.click('#play-main');
      expect(await page.getAttribute('#play-main', 'data-playing')).toBe('true');
      const started = await page.evaluate(() => {
        const probe = (window as unknown as { audioProbe: { started: number; contexts: BaseAudioContext[]; taps: AnalyserNode[] } }).audioProbe;
        return { oscillators: probe.started, contexts: probe.contexts.length, taps: probe.taps.length, state: probe.contexts[0]?.state };
      });
      expect(started.oscillators).toBe(await noteCount(page, '#roll-main'));
      expect(started.contexts).toBe(1);
      expect(started.taps).toBe(1);
      // The first notes sound within a few seconds (64 steps last 8 s); the synth's master gain is 0.2.
      let peak = 0;
      for (let tries = 0; tries < 100 && peak < 0.02; tries++) {
        await page.waitForTimeout(50);
        peak = Math.max(peak, await loudness());
      }
      expect(peak).toBeGreaterThan(0.02);
      expect(await page.evaluate(() => (window as unknown as { audioProbe: { contexts: BaseAudioContext[] } }).audioProbe.contexts[0].state)).toBe('running');

      await page.click('#play-main');
      expect(await page.getAttribute('#play-main', 'data-playing')).toBe('false');
      // stopping fades the master gain out in ~10 ms and disconnects it: the output falls silent
      let after = 1;
      for (let tries = 0; tries < 40 && after > 1e-3; tries++) {
        await page.waitForTimeout(50);
        after = await loudness();
      }
      expect(after).toBeLessThan(1e-3);
      expect(problems).toEqual([]);
    });

    it('tunes in the worker with a live reward chart, then compares samples', async () => {
      await page.fill('#tune-steps', '3000');
      const started = Date.now();
      await page.click('#tune');
      await page.waitForSelector('#tune-status[data-state="done"], #tune-status[data-state="error"]', { timeout: 40_000 });
      expect(await page.textContent('#tune-status')).toMatch(/^Tuned after 3,008 steps/); // 3,000 rounded up to whole compositions
      expect(Date.now() - started).toBeLessThan(40_000);
      expect(await page.evaluate(() => (document.getElementById('tune-progress') as HTMLProgressElement).value)).toBe(1);
      // Three curves (total, music theory, Note RNN) with one point per logging interval.
      const points = Number(await page.getAttribute('#reward-chart', 'data-points'));
      expect(points).toBeGreaterThanOrEqual(10);
      for (const series of ['total', 'musicTheory', 'noteRnn']) {
        const line = await page.getAttribute(`#reward-chart polyline[data-series="${series}"]`, 'points');
        expect(line!.trim().split(/\s+/)).toHaveLength(points);
      }
      await page.waitForSelector('#compare-section[data-ready="true"]');
      expect(await noteCount(page, '#roll-note-rnn')).toBeGreaterThan(0);
      expect(await noteCount(page, '#roll-tuned')).toBeGreaterThan(0);
      expect(await page.getAttribute('#download-tuned', 'href')).toMatch(/^blob:/);
      expect(await page.locator('#evaluation tbody tr').count()).toBe(6);
      await page.click('#play-tuned');
      expect(await page.getAttribute('#play-tuned', 'data-playing')).toBe('true');
      await page.click('#play-note-rnn');
      expect(await page.getAttribute('#play-tuned', 'data-playing')).toBe('false');
      expect(await page.getAttribute('#play-note-rnn', 'data-playing')).toBe('true');
      await page.click('#play-note-rnn');
      expect(problems).toEqual([]);
    }, 50_000);

    it('saves a screenshot', async () => {
      await page.screenshot({ path: join(outDir, 'screenshot.png'), fullPage: true });
      expect(existsSync(join(outDir, 'screenshot.png'))).toBe(true);
    });
  },
);
