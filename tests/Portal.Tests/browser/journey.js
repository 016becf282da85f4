// One person's journey through the portal in headless Chromium (Debian's /usr/bin/chromium,
// driven by the pinned playwright-core). Run by tests/Portal.Tests:
//   node journey.js SPEC.json
// SPEC: { journey, baseUrl, user, password, screenshots, tag?, chromium?, ...journey parameters }.
// Prints one JSON line: { ok: true, observed: {...} } or { ok: false, error, observed }.
// The script only reads what is on screen; the xunit test decides whether it is right.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const observed = {};
const TIMEOUT = spec.timeoutMs || 120000;

async function shot(page, name) {
  fs.mkdirSync(spec.screenshots, { recursive: true });
  const file = path.join(spec.screenshots, `${spec.tag || spec.journey}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  (observed.screenshots = observed.screenshots || []).push(file);
}

async function signIn(page) {
  await page.goto(new URL('/SignIn', spec.baseUrl).href);
  await page.fill('#user', spec.user);
  await page.fill('#password', spec.password);
  await Promise.all([page.waitForNavigation(), page.click('form:has(#password) button[type=submit]')]);
  observed.landedOn = new URL(page.url()).pathname;
}

const text = (s) => (s || '').replace(/\s+/g, ' ').trim();

// The physician view: open a patient by id, read the per-site status, the timeline and the
// charts, download the IPS document.
async function physicianSummary(page) {
  await signIn(page);
  await page.fill('#patient', spec.patient);
  await Promise.all([page.waitForNavigation(), page.click('#open-summary')]);
  const problem = await page.$('#care-problem');
  if (problem) observed.problem = text(await problem.textContent());
  observed.sites = await page.$$eval('#sites tbody tr', rows => rows.map(r => ({
    site: r.dataset.site, status: r.dataset.status, text: r.textContent.replace(/\s+/g, ' ').trim() })));
  observed.timeline = await page.$$eval('#timeline tbody tr', rows => rows.map(r => ({
    section: r.dataset.section, code: r.dataset.code, sites: r.dataset.sites.split(' '),
    cells: Array.from(r.cells).map(c => c.textContent.replace(/\s+/g, ' ').trim()) })));
  observed.missing = await page.$eval('#missing', e => e.textContent.replace(/\s+/g, ' ').trim()).catch(() => null);
  // A chart counts as drawn when Chart.js holds a chart for its canvas with the page's points.
  observed.trends = await page.$$eval('figure[data-trend]', figures => figures.map(f => {
    const canvas = f.querySelector('canvas');
    const chart = window.Chart && canvas ? window.Chart.getChart(canvas) : null;
    return { label: f.dataset.trend, drawn: !!chart && canvas.width > 0 && canvas.height > 0,
             points: chart ? chart.data.datasets[0].data.length : 0, dates: chart ? chart.data.labels : [] };
  }));
  await shot(page, 'summary');
  if (spec.downloadIps && await page.$('#download-ips')) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-ips')]);
    const file = path.join(spec.screenshots, `${spec.tag || spec.journey}-ips.json`);
    await download.saveAs(file);
    const bundle = JSON.parse(fs.readFileSync(file, 'utf8'));
    const composition = (bundle.entry || []).map(e => e.resource).find(r => r && r.resourceType === 'Composition');
    observed.ips = {
      file, resourceType: bundle.resourceType, type: bundle.type,
      compositionCode: composition && composition.type && composition.type.coding && composition.type.coding[0].code,
      sections: composition ? composition.section.map(s => s.title) : [],
      resources: (bundle.entry || []).map(e => e.resource && e.resource.resourceType),
    };
  }
}

// The patient view on a phone: read consent per purpose, revoke the given purposes with one
// click each, wait until every site shows the change in force, read the report.
async function patientRevoke(page) {
  await signIn(page);
  const purposes = () => page.$$eval('article.purpose', list => list.map(a => ({
    purpose: a.dataset.purpose, permitted: a.dataset.permitted === 'true',
    change: (a.querySelector('.spread p') || { textContent: '' }).textContent.replace(/\s+/g, ' ').trim(),
    sites: Array.from(a.querySelectorAll('li[data-site]')).map(li => ({ site: li.dataset.site, applied: li.dataset.applied === 'true', text: li.textContent.replace(/\s+/g, ' ').trim() })) })));
  observed.before = await purposes();
  observed.noHorizontalScroll = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  await shot(page, 'before');
  observed.done = [];
  for (const purpose of spec.revoke || []) {
    await Promise.all([page.waitForNavigation(), page.click(`article[data-purpose="${purpose}"] button[data-action="revoke"]`)]);
    observed.done.push(text(await page.$eval('#patient-done', e => e.textContent).catch(() => '')));
  }
  await shot(page, 'revoked');
  // Each site applies the change when the coordinator brings it: reload until all say so.
  const until = Date.now() + TIMEOUT;
  for (;;) {
    observed.after = await purposes();
    const changed = observed.after.filter(p => (spec.revoke || []).includes(p.purpose));
    if (changed.every(p => p.sites.length === spec.siteCount && p.sites.every(s => s.applied))) break;
    if (Date.now() > until) throw new Error('not every site applied the change: ' + JSON.stringify(changed));
    await page.waitForTimeout(500);
    await page.goto(new URL('/Patient', spec.baseUrl).href);
  }
  observed.noHorizontalScrollAfter = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  await shot(page, 'applied');
  // The transparency report is its own page: asking is itself a recorded access at every site.
  await Promise.all([page.waitForNavigation(), page.click('#report-link')]);
  observed.reportSites = await page.$$eval('#report-sites li', l => l.map(li => ({ site: li.dataset.site, status: li.dataset.status })));
  observed.accesses = await page.$$eval('#accesses tbody tr', rows => rows.map(r => ({ purpose: r.dataset.purpose, outcome: r.dataset.outcome, text: r.textContent.replace(/\s+/g, ' ').trim() })));
  observed.research = await page.$$eval('#research-uses li', l => l.map(li => ({ project: li.dataset.project, site: li.dataset.site, text: li.textContent.replace(/\s+/g, ' ').trim() })));
  observed.noHorizontalScrollReport = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  await shot(page, 'report');
}

// The researcher view: a CCDL query typed into the builder's editor, counted live across the network.
async function researcherCount(page) {
  await signIn(page);
  if (spec.search) {
    // The builder: type into the code search, take the offered code, add it as a criterion.
    await page.click('#crit-clear');
    await page.fill('#code-search', spec.search);
    const offered = await page.$$eval('#code-list option', (options, q) => options
      .filter(o => o.value.toLowerCase().includes(q.toLowerCase())).map(o => ({ value: o.value, code: o.dataset.code, system: o.dataset.system })), spec.search);
    observed.offered = offered.map(o => o.code);
    const pick = offered.find(o => o.code === spec.pickCode);
    if (pick) {
      await page.fill('#code-search', pick.value);
      await page.click('#crit-add');
    }
    observed.built = await page.$eval('#ccdl', e => e.value);
    for (const s of spec.stratifyBy || []) await page.check(`#strat-${s}`);
  } else {
    await page.fill('#ccdl', spec.ccdl);
  }
  await shot(page, 'query');
  await page.click('#count-button');
  // The total arrives last, after every site's row.
  await page.waitForFunction(() => (document.getElementById('count-total') || {}).textContent.trim().length > 0
    || (document.getElementById('count-problem') || {}).textContent.trim().length > 0);
  observed.problem = text(await page.$eval('#count-problem', e => e.textContent));
  observed.sites = await page.$$eval('#site-results tbody tr', rows => rows.map(r => ({
    site: r.dataset.site, status: r.children[1].textContent.trim(), count: r.children[2].textContent.trim() })));
  observed.total = text(await page.$eval('#count-total', e => e.textContent));
  if (spec.stratifyBy) {
    // The stratified totals: the table, and the chart drawn from it (what Chart.js holds, and ink on the canvas).
    await page.waitForFunction(() => { const c = document.getElementById('strata-chart'); return c && window.Chart && Chart.getChart(c); }, null, { timeout: TIMEOUT });
    observed.strataTable = await page.$$eval('#strata-total tbody tr', rows => rows.map(r => ({ key: r.children[0].textContent.trim(), count: r.children[1].textContent.trim() })));
    observed.chart = await page.$eval('#strata-chart', c => {
      const chart = Chart.getChart(c);
      const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let inked = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
      // the colour in the middle of each drawn bar (canvas pixels are CSS pixels times the device pixel ratio)
      const ratio = chart.currentDevicePixelRatio || 1;
      const bars = chart.getDatasetMeta(0).data.map(b => {
        const p = c.getContext('2d').getImageData(Math.round((b.x + b.base) / 2 * ratio), Math.round(b.y * ratio), 1, 1).data;
        return '#' + [p[0], p[1], p[2]].map(v => v.toString(16).padStart(2, '0')).join('');
      });
      return { type: chart.config.type, labels: chart.data.labels, values: chart.data.datasets[0].data, colour: chart.data.datasets[0].backgroundColor,
               bars, width: c.width, height: c.height, inked, label: c.getAttribute('aria-label') };
    });
  }
  await shot(page, 'result');
}

// The site-admin view: a pending query type approved with one click.
async function adminApprove(page) {
  await signIn(page);
  const rows = () => page.$$eval('section', sections => sections.map(s => ({
    heading: (s.querySelector('h2') || { textContent: '' }).textContent.trim(),
    types: Array.from(s.querySelectorAll('tbody tr')).map(r => r.children[0].textContent.trim()) })));
  observed.before = await rows();
  await shot(page, 'pending');
  await Promise.all([page.waitForNavigation(), page.click(`tr:has(td:text-is("${spec.queryType}")) form[action*="handler=Approve"] button`)]);
  observed.after = await rows();
  observed.notice = text(await page.$eval('[role=status]', e => e.textContent).catch(() => ''));
  await shot(page, 'approved');
}

const journeys = { 'physician-summary': physicianSummary, 'patient-revoke': patientRevoke, 'researcher-count': researcherCount, 'admin-approve': adminApprove };

(async () => {
  let browser;
  let page;
  try {
    const journey = journeys[spec.journey];
    if (!journey) throw new Error(`unknown journey ${spec.journey}`);
    browser = await chromium.launch({
      executablePath: spec.chromium || '/usr/bin/chromium',
      // CI runs as root, where Chromium's sandbox cannot start.
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    const phone = spec.phone ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : { viewport: { width: 1280, height: 900 } };
    const context = await browser.newContext({ ...phone, ignoreHTTPSErrors: true, acceptDownloads: true, locale: spec.locale || 'en-GB' });
    context.setDefaultTimeout(TIMEOUT);
    page = await context.newPage();
    const consoleErrors = [];
    // Failed requests name their address (a missing favicon is no error of ours).
    page.on('response', r => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) consoleErrors.push(`${r.status()} ${r.url()}`); });
    page.on('console', m => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text()); });
    page.on('pageerror', e => consoleErrors.push(String(e)));
    await journey(page);
    observed.consoleErrors = consoleErrors;
    console.log(JSON.stringify({ ok: true, observed }));
  } catch (e) {
    if (page) await shot(page, 'failure').catch(() => {});
    console.log(JSON.stringify({ ok: false, error: String(e && e.stack || e), observed }));
    process.exitCode = 1;
  } finally {
    if (browser) await browser.close();
  }
})();
