// Browser test of the Parley web UI, run by app/src/test/java/org/parley/app/WebUiTest.java (which starts a
// network of real daemons and passes their addresses in a JSON file):  node ui-test.mjs CONFIG.json
// playwright-core drives Debian's Chromium through two users' UIs: sign in (by typed token and by link), contacts
// with presence, send and receive live, unread counts and read markers, a group, a refused oversize message, and
// working offline with queued messages and catch-up. Screenshots go to config.screenshots.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const TIMEOUT = 20_000;
mkdirSync(config.screenshots, { recursive: true });
let shot = 0;

function step(msg) {
  console.log(`[ui-test] ${msg}`);
}

async function screenshot(page, name) {
  shot += 1;
  await page.screenshot({ path: join(config.screenshots, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

const $ = (id) => `[data-testid="${id}"]`;

async function waitText(page, selector, expected, what) {
  try {
    await page.waitForFunction(([s, e]) => {
      const el = document.querySelector(s);
      return el && el.offsetParent !== null && el.textContent.trim() === e;
    }, [selector, expected], { timeout: TIMEOUT });
  } catch (e) {
    const got = await page.evaluate((s) => document.querySelector(s)?.textContent?.trim(), selector);
    throw new Error(`${what}: expected "${expected}" in ${selector}, found "${got}"`);
  }
}

async function waitFor(page, fn, arg, what) {
  try {
    await page.waitForFunction(fn, arg, { timeout: TIMEOUT });
  } catch (e) {
    throw new Error(`timed out waiting for ${what}`);
  }
}

/** Texts of the message lines in the open conversation. */
async function messageTexts(page) {
  return page.$$eval(`${$('message')} ${$('text')}`, (els) => els.map((e) => e.textContent.trim()));
}

async function waitMessage(page, text, what) {
  await waitFor(page, ([sel, t]) => [...document.querySelectorAll(sel)].some((e) => e.textContent.trim() === t),
    [`${$('message')} ${$('text')}`, text], `${what}: message "${text}"`);
}

async function openConversation(page, name) {
  const sel = `${$('conversation')}[data-name="${name}"]`;
  await page.waitForSelector(sel, { timeout: TIMEOUT });
  await page.click(sel);
  await waitText(page, $('chat-title'), name, `title of ${name}`);
}

async function send(page, text) {
  await page.fill($('compose'), text);
  await page.click($('send'));
}

async function messageState(page, text) {
  return page.$$eval($('message'), (els, t) => {
    const el = els.find((e) => e.querySelector('[data-testid="text"]')?.textContent.trim() === t);
    return el ? el.getAttribute('data-state') : null;
  }, text);
}

async function waitState(page, text, state, what) {
  await waitFor(page, ([t, s]) => [...document.querySelectorAll('[data-testid="message"]')].some((e) =>
    e.querySelector('[data-testid="text"]')?.textContent.trim() === t && e.getAttribute('data-state') === s),
  [text, state], `${what}: "${text}" in state ${state} (now ${await messageState(page, text)})`);
}

const browser = await chromium.launch({
  executablePath: config.chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
let failed = false;
const pages = [];
try {
  const alice = await (await browser.newContext({ viewport: { width: 1200, height: 800 } })).newPage();
  const bob = await (await browser.newContext({ viewport: { width: 1200, height: 800 } })).newPage();
  pages.push(['alice', alice], ['bob', bob]);
  for (const [who, p] of pages) {
    p.on('pageerror', (e) => { console.log(`[ui-test] ${who} page error: ${e.message}`); failed = true; });
    p.on('console', (m) => { if (m.type() === 'error') console.log(`[ui-test] ${who} console: ${m.text()}`); });
  }

  step('alice signs in by typing her token');
  await alice.goto(config.alice.url + '/');
  await alice.waitForSelector($('token'), { timeout: TIMEOUT });
  await screenshot(alice, 'alice-sign-in');
  await alice.fill($('token'), 'not-the-token');
  await alice.click($('signin'));
  await alice.waitForTimeout(500);
  if (await alice.isVisible($('app'))) throw new Error('a wrong token signed in');
  await alice.fill($('token'), config.alice.token);
  await alice.click($('signin'));
  await alice.waitForSelector($('app'), { state: 'visible', timeout: TIMEOUT });
  await waitText(alice, $('me'), 'alice', 'alice signed in');
  await waitText(alice, $('link'), 'online', 'alice online');

  step('bob signs in through his link; the token leaves the address bar');
  await bob.goto(config.bob.ui);
  await bob.waitForSelector($('app'), { state: 'visible', timeout: TIMEOUT });
  await waitText(bob, $('me'), 'bob', 'bob signed in');
  await waitFor(bob, () => !location.href.includes('token='), null, 'token removed from the URL');
  await waitText(bob, $('link'), 'online', 'bob online');

  step('alice adds bob as a contact and sees him online');
  await alice.fill($('add-contact-input'), 'bob');
  await alice.click($('add-contact'));
  await waitText(alice, `${$('contact')}[data-user="bob"] ${$('presence')}`, 'online', 'bob presence');
  await screenshot(alice, 'alice-contacts');

  step('alice opens the 1:1 conversation and sends; bob gets it live with an unread count');
  await alice.click(`${$('contact')}[data-user="bob"]`);
  await waitText(alice, $('chat-title'), 'bob', 'dm title');
  await send(alice, 'hello bob');
  await waitMessage(alice, 'hello bob', 'alice sees her message');
  await waitText(bob, `${$('conversation')}[data-name="alice"] ${$('unread')}`, '1', 'bob unread badge');
  await screenshot(bob, 'bob-unread');
  await waitState(alice, 'hello bob', 'delivered', 'delivered to bob');

  step('bob opens it: read marker reaches alice live; bob replies');
  await openConversation(bob, 'alice');
  await waitMessage(bob, 'hello bob', 'bob reads');
  await waitFor(bob, (s) => !document.querySelector(s) || document.querySelector(s).offsetParent === null,
    `${$('conversation')}[data-name="alice"] ${$('unread')}`, 'bob unread badge gone');
  await waitState(alice, 'hello bob', 'read', 'alice sees bob read it');
  await send(bob, 'hi alice!');
  await waitMessage(alice, 'hi alice!', 'alice gets the reply live');
  await screenshot(alice, 'alice-dm');

  step('live-update latency: alice sends, bob\'s open page shows it (10 messages; reported, not asserted)');
  const lat = [];
  for (let i = 1; i <= 10; i++) {
    const t0 = Date.now();
    await send(alice, `latency probe ${i}`);
    await waitMessage(bob, `latency probe ${i}`, 'latency probe');
    lat.push(Date.now() - t0);
  }
  lat.sort((x, y) => x - y);
  step(`LATENCY click-to-other-screen ms: median ${lat[4]}, max ${lat[9]}, all ${JSON.stringify(lat)}`);

  step('an oversize message is refused with a clear error');
  await bob.fill($('compose'), 'x'.repeat(17_000));
  await bob.click($('send'));
  await waitFor(bob, (s) => (document.querySelector(s)?.textContent || '').includes('limit'), $('compose-error'), 'size error shown');
  await bob.fill($('compose'), '');

  step('alice creates a group with bob and carol; it appears for bob live');
  await alice.click($('new-group'));
  await alice.fill($('group-name'), 'field team');
  await alice.fill($('group-members'), 'bob, carol');
  await alice.click($('create-group'));
  await waitText(alice, $('chat-title'), 'field team', 'group opened');
  await alice.waitForSelector(`${$('member')}[data-user="carol"]`, { timeout: TIMEOUT });
  await send(alice, 'meet at the north gate');
  await waitText(bob, `${$('conversation')}[data-name="field team"] ${$('unread')}`, '1', 'group unread for bob');
  await openConversation(bob, 'field team');
  await waitMessage(bob, 'meet at the north gate', 'bob sees the group message');
  await screenshot(alice, 'alice-group');

  step('bob goes offline: his messages queue and he misses alice\'s');
  await bob.click($('toggle-online'));
  await waitText(bob, $('link'), 'offline', 'bob offline');
  await waitText(bob, $('toggle-online'), 'Go online', 'toggle label');
  await waitText(alice, `${$('contact')}[data-user="bob"] ${$('presence')}`, 'offline', 'alice sees bob offline');
  await send(bob, 'written offline');
  await waitMessage(bob, 'written offline', 'bob sees his offline message');
  await waitState(bob, 'written offline', 'queued', 'queued while offline');
  // the outgoing queue counts every own event no one else holds yet (at least this message)
  await waitFor(bob, (sel) => /^[1-9][0-9]* queued$/.test(document.querySelector(sel)?.textContent.trim() || ''), $('queued'), 'queued indicator');
  await send(alice, 'while you were away');
  await waitMessage(alice, 'while you were away', 'alice sends');
  await bob.waitForTimeout(1500);
  if ((await messageTexts(bob)).includes('while you were away')) throw new Error('bob received while offline');
  await screenshot(bob, 'bob-offline');

  step('bob comes back: catch-up both ways, the queue drains');
  await bob.click($('toggle-online'));
  await waitText(bob, $('link'), 'online', 'bob online again');
  await waitMessage(bob, 'while you were away', 'bob catches up');
  await waitMessage(alice, 'written offline', 'alice gets the offline message');
  await waitFor(bob, (s) => !document.querySelector(s) || document.querySelector(s).offsetParent === null, $('queued'), 'queue drained');
  const a = await messageTexts(alice);
  const b = await messageTexts(bob);
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`histories differ: alice ${JSON.stringify(a)} bob ${JSON.stringify(b)}`);
  await screenshot(bob, 'bob-caught-up');
  await screenshot(alice, 'alice-final');

  step('alice calls bob from the conversation; bob answers in his browser; alice hangs up');
  await alice.click(`${$('contact')}[data-user="bob"]`);
  await waitText(alice, $('chat-title'), 'bob', 'dm for the call');
  await alice.click($('call-button'));
  const startsWith = (sel, prefix) => [...document.querySelectorAll(sel)].some((e) => e.offsetParent !== null
    && e.textContent.trim().startsWith(prefix));
  await waitFor(bob, ([sel, p]) => [...document.querySelectorAll(sel)].some((e) => e.offsetParent !== null
    && e.textContent.trim().startsWith(p)), [$('call-state'), 'Incoming call from alice'], 'bob sees the incoming call');
  await screenshot(bob, 'bob-incoming-call');
  await bob.click($('answer-call'));
  for (const [who, p] of [['alice', alice], ['bob', bob]]) {
    await waitFor(p, ([sel, pre]) => [...document.querySelectorAll(sel)].some((e) => e.offsetParent !== null
      && e.textContent.trim().startsWith(pre)), [$('call-state'), 'In call with'], `${who} in the call`);
  }
  await screenshot(alice, 'alice-in-call');
  await alice.click($('hangup-call'));
  await waitFor(bob, (sel) => document.querySelector(sel)?.getAttribute('data-state') === 'ended', $('call-bar'), 'bob sees the call end');
  void startsWith;

  step('bob reloads: the open conversation survives, and signing out shows the sign-in screen');
  await bob.reload();
  await waitText(bob, $('chat-title'), 'field team', 'conversation kept over reload');
  await bob.click($('signout'));
  await bob.waitForSelector($('token'), { state: 'visible', timeout: TIMEOUT });
  if (failed) throw new Error('a page raised an uncaught error (see above)');
  step('PASS');
} catch (e) {
  console.log(`[ui-test] FAIL: ${e.message}`);
  for (const [who, p] of pages) {
    try { await screenshot(p, `failure-${who}`); } catch { /* page gone */ }
  }
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
