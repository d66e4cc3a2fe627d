// The bench report as a browser shows it: headless Chromium renders report.html to a PNG. The
// geometry (labels, marked cells, the log axis) is checked in unit/report-html.test.ts; this
// checks that a real browser lays the page out, at the size asked, with something drawn on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, realpath, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderHtml } from '../../src/bench/report-html.js';
import { sampleReport } from '../helpers/bench-report.js';

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome'];

function which(cmd: string): Promise<string | null> {
  return new Promise((resolve) => execFile('sh', ['-c', `command -v ${cmd}`], (err, out) => resolve(err ? null : out.trim() || null)));
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(buf: Buffer): { width: number; height: number } {
  assert.equal(buf.subarray(1, 4).toString('latin1'), 'PNG', 'a PNG file');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

test('the bench report renders in headless Chromium (screenshot)', { timeout: 120_000 }, async (t) => {
  let browser: string | null = null;
  for (const c of CANDIDATES) if (!browser) browser = await which(c);
  if (!browser) {
    t.skip('no chromium on PATH (Debian: apt-get install chromium); the report is not screenshotted');
    return;
  }
  const dir = await mkdtemp(join(await realpath(tmpdir()), 'winnow-report-'));
  try {
    const html = join(dir, 'report.html');
    const png = join(dir, 'report.png');
    const profile = join(dir, 'profile');
    await mkdir(profile);
    await writeFile(html, renderHtml(sampleReport()));
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--hide-scrollbars',
      `--user-data-dir=${profile}`,
      `--screenshot=${png}`,
      '--window-size=1200,2400',
      `file://${html}`,
    ];
    const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(browser!, args, { timeout: 90_000 }, (err, _out, stderr) => resolve({ code: err ? 1 : 0, stderr })),
    );
    assert.equal(r.code, 0, r.stderr);
    const buf = await readFile(png);
    assert.deepEqual(pngSize(buf), { width: 1200, height: 2400 });
    // A blank page compresses to a few KB; text, tables and charts do not.
    assert.ok(buf.length > 50_000, `screenshot is ${buf.length} bytes: the page looks blank`);
    if (process.env.WINNOW_KEEP_SCREENSHOT) await writeFile(process.env.WINNOW_KEEP_SCREENSHOT, buf);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
