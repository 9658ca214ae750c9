// Opens a cex report in a real headless browser (Debian's Chromium) and fails when the page logs a
// console error, throws, or asks for anything outside the file itself; saves a full-page
// screenshot and a PDF print (the print stylesheet) as CI artefacts.
//
// usage: node check-report.mjs <report.html> <artefact folder>
import { chromium } from 'playwright-core';
import { mkdirSync, statSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [report, artefacts = 'ci-artifacts'] = process.argv.slice(2);
if (!report) {
  console.error('usage: node check-report.mjs <report.html> [artefact folder]');
  process.exit(2);
}
const url = pathToFileURL(resolve(report)).href;
mkdirSync(artefacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('request', (req) => {
    if (req.url() !== url && !req.url().startsWith('data:')) problems.push(`request outside the file: ${req.url()}`);
  });
  const response = await page.goto(url, { waitUntil: 'load' });
  if (!response || !response.ok()) problems.push(`the report did not load: ${response && response.status()}`);

  // What a reader relies on: a title, headings in order, charts with text alternatives.
  const facts = await page.evaluate(() => {
    const levels = [...document.querySelectorAll('h1,h2,h3,h4')].map((h) => Number(h.tagName[1]));
    const skipped = levels.some((l, i) => i > 0 && l > levels[i - 1] + 1);
    const charts = [...document.querySelectorAll('figure svg')];
    const unlabelled = charts.filter((s) => !s.getAttribute('aria-label') || !s.querySelector('desc')?.textContent.trim());
    const tablesWithoutHeaders = [...document.querySelectorAll('table')].filter((t) => !t.querySelector('th'));
    return { title: document.title, h1: levels.filter((l) => l === 1).length, skipped, charts: charts.length,
      unlabelled: unlabelled.length, tables: document.querySelectorAll('table').length,
      tablesWithoutHeaders: tablesWithoutHeaders.length };
  });
  if (!facts.title) problems.push('the page has no title');
  if (facts.h1 !== 1) problems.push(`expected one h1, found ${facts.h1}`);
  if (facts.skipped) problems.push('a heading level is skipped');
  if (facts.charts === 0) problems.push('no charts in the report');
  if (facts.unlabelled) problems.push(`${facts.unlabelled} charts without a text alternative`);
  if (facts.tablesWithoutHeaders) problems.push(`${facts.tablesWithoutHeaders} tables without header cells`);

  const top = join(artefacts, 'report-screenshot.png');
  await page.screenshot({ path: top });
  const full = join(artefacts, 'report-full-page.png');
  await page.screenshot({ path: full, fullPage: true });
  const pdf = join(artefacts, 'report-print.pdf');
  await page.pdf({ path: pdf, format: 'A4', printBackground: true });
  console.log(`report: ${report}`);
  console.log(`  ${facts.charts} charts, ${facts.tables} tables, title "${facts.title}"`);
  for (const f of [top, full, pdf]) console.log(`  artefact: ${f} (${statSync(f).size} bytes)`);
} finally {
  await browser.close();
}
if (problems.length) {
  for (const p of problems) console.error(`FAIL: ${p}`);
  process.exit(1);
}
console.log('browser check passed: loads with no console errors and no request outside the file');
