/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports, @n8n/community-nodes/no-dangerous-functions, no-console -- not shipped: runs on Node outside n8n, where the rules for node code do not apply */
/**
 * npm run screenshots — the pictures in README.md, taken from the real editor: the demo's set-up (the sandbox, a real
 * n8n of the pinned version with the package, the credentials and the templates, an owner user), one Initial Sync
 * run, then n8n's editor in headless Chromium (Debian's `chromium`, installed with apt-get where missing), driven by
 * playwright-core. Writes docs/images/*.png at 1600×1000: every template's canvas fitted to the view, the open Field
 * Map with its mapping, both credential screens and the finished Initial Sync execution. The same browser run imports
 * a template through the editor's … → Import → From file (n8n saves it) and checks that n8n has it with all its
 * nodes. Everything listens on 127.0.0.1 and is stopped at the end.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

import { chromium, type Browser, type Page } from 'playwright-core';

import type { N8nInstance } from '../test/e2e/n8n';
import { OWNER } from '../test/e2e/n8n';
import { PROJECT_ROOT } from '../test/e2e/runtime';
import { newWebhookSecrets, setupN8n, WORKFLOW_IDS, type TemplateJson } from '../test/e2e/setup';
import { startSandbox, type Sandbox } from '../test/sandbox';
import { live, say, stepLog } from './progress';
import { REPORT_PAGE_NODE } from './build-templates';

export const IMAGES_DIR = path.join(PROJECT_ROOT, 'docs', 'images');
const VIEWPORT = { width: 1600, height: 1000 };

/** The template files and the picture of each canvas. */
export const TEMPLATE_PICTURES: Array<{ file: string; id: string; image: string }> = [
	{ file: 'initial-sync.json', id: WORKFLOW_IDS.initialSync, image: 'template-initial-sync.png' },
	{ file: 'scheduled-sync.json', id: WORKFLOW_IDS.scheduledSync, image: 'template-scheduled-sync.png' },
	{ file: 'opportunity-sync.json', id: WORKFLOW_IDS.opportunities, image: 'template-opportunity-sync.png' },
	{ file: 'marketing-activities.json', id: WORKFLOW_IDS.marketingActivities, image: 'template-marketing-activities.png' },
	{ file: 'sales-actions.json', id: WORKFLOW_IDS.salesActions, image: 'template-sales-actions.png' },
	{ file: 'ac-automation-to-d365.json', id: WORKFLOW_IDS.automationToDynamics, image: 'template-ac-automation-to-d365.png' },
];

/** The template imported through the editor's menu (a small one). */
const IMPORTED_TEMPLATE = 'marketing-activities.json';
/** The Field Map opened in its picture: the contact mapping, defined in the Initial Sync. */
const FIELD_MAP_NODE = 'Map contacts to ActiveCampaign';

// ----------------------------------------------------------------------------------------------- Chromium

const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** Debian's Chromium, installed with apt-get (as root) when it is not there yet. */
export function ensureChromium(log: (message: string) => void = say): string {
	const found = CHROMIUM_PATHS.find((file) => existsSync(file));
	if (found) return found;
	if (process.getuid?.() !== 0) {
		throw new Error('Chromium is not installed and this is not root: run `apt-get update && apt-get install -y chromium` as root, then again.');
	}
	log('Installing Chromium (Debian package chromium, once)…');
	for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'chromium']]) {
		const result = spawnSync('apt-get', args, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
		if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed:\n${(result.stderr || result.stdout).slice(-3000)}`);
	}
	const installed = CHROMIUM_PATHS.find((file) => existsSync(file));
	if (!installed) throw new Error('apt-get installed chromium, but no chromium binary was found in /usr/bin');
	// (Debian's chromium wrapper script prints a harmless shell warning on stderr; only the version is shown.)
	log(`Chromium installed: ${spawnSync(installed, ['--version'], { encoding: 'utf8' }).stdout.trim()}`);
	return installed;
}

// ----------------------------------------------------------------------------------------------- the editor

/** Signs in through n8n's sign-in page, as a user does. */
async function signIn(page: Page, baseUrl: string): Promise<void> {
	await page.goto(`${baseUrl}/signin`);
	await page.locator('input[type="email"], input[name="emailOrLdapLoginId"], input[name="email"]').first().fill(OWNER.email);
	await page.locator('input[type="password"]').first().fill(OWNER.password);
	await page.locator('[data-test-id="form-submit-button"], button[type="submit"]').first().click();
	await page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: 60_000 });
}

/** Closes what n8n may lay over the editor on a first visit (toasts, notices), so pictures show the work. */
async function tidy(page: Page): Promise<void> {
	await page.keyboard.press('Escape').catch(() => undefined);
	for (const close of await page.locator('.el-notification .el-notification__closeBtn').all()) await close.click().catch(() => undefined);
}

async function shoot(page: Page, image: string, options: { keepPointer?: boolean } = {}): Promise<string> {
	const file = path.join(IMAGES_DIR, image);
	if (!options.keepPointer) await page.mouse.move(VIEWPORT.width - 2, VIEWPORT.height - 2); // no hover highlight in the picture
	await page.waitForTimeout(400); // let the canvas finish its last frame
	await page.screenshot({ path: file });
	say(`  docs/images/${image} (${Math.round(statSync(file).size / 1024)} KB)`);
	return file;
}

/** The nodes of a template file (names and count). */
function templateNodes(file: string): string[] {
	return (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'workflows', file), 'utf8')) as TemplateJson).nodes.map((n) => n.name);
}

/** Opens a workflow and waits until its canvas has drawn every node (sticky notes included). */
async function openWorkflow(page: Page, baseUrl: string, id: string, nodeCount: number): Promise<void> {
	await page.goto(`${baseUrl}/workflow/${id}`);
	await page.locator('.vue-flow__node').nth(nodeCount - 1).waitFor({ timeout: 60_000 });
	await tidy(page);
}

/**
 * The editor's own "Zoom to fit" (the canvas button; key 1). The editor lays its "Execute workflow" button over the
 * bottom of the canvas; where that hides the name of a node, the canvas is moved up (not zoomed) as far as the margin
 * the fit left above it allows, as a user would scroll.
 */
async function fitView(page: Page): Promise<void> {
	await page.locator('[data-test-id="zoom-to-fit"]').click();
	await page.waitForTimeout(600); // the fit is animated
	const button = await page.locator('[data-test-id="execute-workflow-button"]').first().boundingBox();
	const canvas = await page.locator('[data-test-id="canvas"]').first().boundingBox();
	if (!button || !canvas) return;
	const extent = await page.evaluate(
		({ left, right }) => {
			let top = Infinity;
			let hidden = -Infinity;
			// Runs in the page (the scripts are compiled without the DOM's types).
			type Box = { top: number; bottom: number; left: number; right: number; width: number; height: number };
			const { document } = globalThis as unknown as { document: { querySelectorAll(selector: string): Iterable<{ getBoundingClientRect(): Box }> } };
			for (const element of document.querySelectorAll('.vue-flow__node, .vue-flow__node *')) {
				const box = element.getBoundingClientRect();
				if (box.width === 0 || box.height === 0) continue;
				top = Math.min(top, box.top);
				if (box.right > left && box.left < right) hidden = Math.max(hidden, box.bottom);
			}
			return { top, hidden };
		},
		{ left: button.x, right: button.x + button.width },
	);
	const overlap = extent.hidden - button.y + 8;
	const room = extent.top - canvas.y - 8;
	if (overlap <= 0 || room <= 0) return;
	await page.mouse.move(canvas.x + canvas.width / 2, canvas.y + canvas.height / 2);
	await page.mouse.wheel(0, Math.min(overlap, room));
	await page.waitForTimeout(400);
}

/** A canvas node by its name. */
const canvasNode = (page: Page, name: string) => page.locator('[data-test-id="canvas-node"]').filter({ has: page.getByText(name, { exact: true }) });

export interface CaptureOptions {
	baseUrl: string;
	chromiumPath: string;
	n8n: N8nInstance;
	/** The finished Initial Sync execution to show. */
	executionId: string;
}

/** Every picture, and the import through the editor. Returns the files written. */
export async function capture(options: CaptureOptions): Promise<string[]> {
	const { baseUrl, n8n } = options;
	mkdirSync(IMAGES_DIR, { recursive: true });
	const written: string[] = [];
	let browser: Browser | undefined;
	try {
		browser = await chromium.launch({
			executablePath: options.chromiumPath,
			headless: true,
			// Root in a container: Chromium's own sandbox needs user namespaces it may not have.
			args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
		});
		const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, locale: 'en-US', timezoneId: 'UTC' });
		const page = await context.newPage();
		page.setDefaultTimeout(30_000);
		await signIn(page, baseUrl);

		// Every template's canvas, fitted to the view.
		for (const picture of TEMPLATE_PICTURES) {
			await openWorkflow(page, baseUrl, picture.id, templateNodes(picture.file).length);
			await fitView(page);
			written.push(await shoot(page, picture.image));
		}

		// The Field Map that defines the contact mapping, open, scrolled to its mapping.
		await openWorkflow(page, baseUrl, WORKFLOW_IDS.initialSync, templateNodes('initial-sync.json').length);
		await canvasNode(page, FIELD_MAP_NODE).dblclick();
		const ndv = page.locator('[data-test-id="ndv"]');
		await ndv.waitFor();
		await ndv.getByText('Standard Mappings', { exact: true }).first().scrollIntoViewIfNeeded();
		await ndv.getByText('Standard Mappings', { exact: true }).first().evaluate((el) => el.scrollIntoView({ block: 'start' }));
		written.push(await shoot(page, 'field-map.png'));
		await page.keyboard.press('Escape');

		// Both credentials, as opened from Overview → Credentials (n8n tests them on opening and masks the secrets).
		for (const [name, image] of [
			['ActiveCampaign', 'credential-activecampaign.png'],
			['Dynamics 365 (client credentials)', 'credential-dynamics365.png'],
		] as const) {
			await page.goto(`${baseUrl}/home/credentials`);
			await page.locator('[data-test-id="resources-list-item"]').filter({ has: page.getByText(name, { exact: true }) }).first().click();
			const modal = page.locator('[data-test-id="editCredential-modal"]');
			await modal.waitFor();
			await modal.locator('[data-test-id="credentials-config-container-test-success"]').waitFor({ timeout: 60_000 });
			written.push(await shoot(page, image));
			await page.keyboard.press('Escape');
		}

		// Where Global Sync is switched: the Dynamics 365 credential's last field, its three choices open.
		await page.goto(`${baseUrl}/home/credentials`);
		await page.locator('[data-test-id="resources-list-item"]').filter({ has: page.getByText('Dynamics 365 (client credentials)', { exact: true }) }).first().click();
		const credential = page.locator('[data-test-id="editCredential-modal"]');
		await credential.waitFor();
		await credential.locator('[data-test-id="credentials-config-container-test-success"]').waitFor({ timeout: 60_000 });
		const globalSync = credential.locator('[data-test-id="parameter-input-globalSync"]');
		await globalSync.scrollIntoViewIfNeeded();
		await globalSync.click();
		await page.getByText('Off: Pause Both Ways', { exact: true }).last().waitFor();
		written.push(await shoot(page, 'global-sync.png'));
		await page.keyboard.press('Escape');
		await page.keyboard.press('Escape');

		// The finished Initial Sync: its execution, every step green with its item counts.
		await page.goto(`${baseUrl}/workflow/${WORKFLOW_IDS.initialSync}/executions/${options.executionId}`);
		await page.locator('[data-test-id="canvas-node-status-success"]').nth(10).waitFor({ timeout: 60_000 });
		await page.waitForTimeout(6000); // the preview fades in
		written.push(await shoot(page, 'execution-initial-sync.png'));

		// Its Sync report, as the HTML step after it shows the page in its output.
		await canvasNode(page, REPORT_PAGE_NODE).dblclick();
		const reportNdv = page.locator('[data-test-id="ndv"]');
		await reportNdv.waitFor();
		await reportNdv.locator('iframe').first().waitFor({ timeout: 30_000 });
		await page.waitForTimeout(1000);
		written.push(await shoot(page, 'sync-report.png'));
		await page.keyboard.press('Escape');

		// A template imported as users do: a new workflow, … → Import → From file.
		const expected = templateNodes(IMPORTED_TEMPLATE);
		await page.goto(`${baseUrl}/workflow/new`);
		await page.locator('[data-test-id="workflow-menu"]').click();
		await page.locator('[data-test-id="workflow-menu-item-import"]').hover();
		await page.locator('[data-test-id="workflow-menu-item-import-from-file"]').waitFor();
		written.push(await shoot(page, 'import-from-file.png', { keepPointer: true }));
		const chooser = page.waitForEvent('filechooser');
		await page.locator('[data-test-id="workflow-menu-item-import-from-file"]').click();
		await (await chooser).setFiles(path.join(PROJECT_ROOT, 'workflows', IMPORTED_TEMPLATE));
		await page.locator('.vue-flow__node').nth(expected.length - 1).waitFor();
		// n8n saves the new workflow by itself (autosave) and moves to its address.
		await page.waitForURL((url) => /^\/workflow\/(?!new\b)[^/]+$/.test(url.pathname), { timeout: 60_000 });
		const importedId = new URL(page.url()).pathname.split('/').pop()!;
		await checkImported(n8n, importedId, expected);
		say(`  Import from file: ${IMPORTED_TEMPLATE} is workflow ${importedId} with its ${expected.length} nodes`);
		return written;
	} finally {
		await browser?.close();
	}
}

/** The imported workflow is saved in n8n with every node of the template, and listed among the workflows. */
async function checkImported(n8n: N8nInstance, id: string, expected: string[]): Promise<void> {
	const deadline = Date.now() + 30_000;
	let names: string[] = [];
	while (Date.now() < deadline) {
		const workflow = await n8n.rest<{ id: string; nodes?: Array<{ name: string }> }>('GET', `/workflows/${id}`).catch(() => undefined);
		names = (workflow?.nodes ?? []).map((n) => n.name);
		if (expected.every((name) => names.includes(name))) break;
		await new Promise((resolve) => setTimeout(resolve, 1000));
	}
	const missing = expected.filter((name) => !names.includes(name));
	if (missing.length) throw new Error(`The workflow imported from file has not been saved with all its nodes; missing: ${missing.join(', ')}`);
	const list = await n8n.rest<Array<{ id: string }> | { data: Array<{ id: string }> }>('GET', '/workflows');
	const ids = (Array.isArray(list) ? list : list.data).map((w) => w.id);
	if (!ids.includes(id)) throw new Error(`The workflow imported from file (${id}) is not in n8n's list of workflows`);
}

// ----------------------------------------------------------------------------------------------- main

async function main() {
	const chromiumPath = ensureChromium();
	say('Starting the sandbox (ActiveCampaign and Dynamics 365 simulators with sample data)…');
	const sandbox: Sandbox = await startSandbox({ seed: 'demo' });
	let n8n: N8nInstance | undefined;
	// Ctrl-C (or a stop from outside) ends n8n and the sandbox too.
	const stop = async (signal: string) => {
		say(`${signal}: stopping n8n and the sandbox…`);
		await n8n?.stop();
		await sandbox.close();
		process.exit(1);
	};
	process.once('SIGINT', () => void stop('SIGINT'));
	process.once('SIGTERM', () => void stop('SIGTERM'));
	try {
		n8n = await setupN8n({
			userFolder: path.join(PROJECT_ROOT, '.demo', 'screenshots'),
			acUrl: sandbox.ac.url,
			d365Url: sandbox.d365.url,
			log: stepLog(),
			webhookSecrets: newWebhookSecrets(),
		});
		// Only the saved execution matters here (n8n lists it below), not the run's data: the CLI's printed result is
		// not read (a large one may reach the pipe incomplete when the CLI exits).
		await live('Running the Initial Sync once (for the picture of a finished execution)…', async () => await n8n!.cli(['execute', `--id=${WORKFLOW_IDS.initialSync}`]));
		await live('Starting n8n…', async () => {
			await n8n!.start();
			await n8n!.login();
		});
		const executions = await n8n.rest<{ results: Array<{ id: string; workflowId: string; status: string }> }>(
			'GET',
			`/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId: WORKFLOW_IDS.initialSync }))}`,
		);
		const execution = executions.results.find((e) => e.status === 'success');
		if (!execution) throw new Error(`n8n lists no successful Initial Sync execution: ${JSON.stringify(executions.results)}`);
		say('Taking the pictures in headless Chromium…');
		const written = await capture({ baseUrl: n8n.url, chromiumPath, n8n, executionId: execution.id });
		say(`Done: ${written.length} pictures in docs/images/.`);
	} finally {
		await n8n?.stop();
		await sandbox.close();
		rmSync(path.join(PROJECT_ROOT, '.demo', 'screenshots', 'import'), { recursive: true, force: true });
	}
}

if (require.main === module) {
	main().then(
		() => process.exit(0),
		(error) => {
			console.error(error instanceof Error ? error.stack ?? error.message : error);
			process.exit(1);
		},
	);
}
