// bench/nlpjs/compare.mjs: the NLP.js (node-nlp) side of bench/compare.sh, and the report.
//
// Trains NLP.js on exactly the phrasings massagebot matches against (each answer's `title` and
// `questions:`; safety/ rules are not answers), scores it on the evaluation set at every threshold
// of a sweep, with and without its None feature, and times process() in-process over the same
// question stream that bench/compare.sh timed `massagebot ask --json` on.  Then it scores
// massagebot's `ask --json` output on the same set and prints one table and a final line
// `COMPARE_JSON {...}`.
//
// usage: node compare.mjs --knowledge DIR --questions FILE.tsv [--holdout FILE.tsv]
//          [--questions-label NAME] [--holdout-label NAME] --stream FILE [--runs N] --mb-questions FILE.jsonl [--mb-holdout FILE.jsonl]
//          --mb-times-ns N,N,N [--mb-load-ns N,N,N] [--mb-eval FILE] [--mb-threshold TEXT] [--mb-version TEXT]
// Exit 0 when everything ran (targets met or not), 2 on bad input or a failure to run.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep, basename } from 'node:path';
import { createRequire } from 'node:module';
import os from 'node:os';

const require = createRequire(import.meta.url);

function die(msg) {
	process.stderr.write(`compare.mjs: ${msg}\n`);
	process.exit(2);
}

/* ---- arguments ------------------------------------------------------------------------- */

const opt = {};
for (let i = 2; i < process.argv.length; i++) {
	const a = process.argv[i];
	if (!a.startsWith('--') || i + 1 >= process.argv.length)
		die(`bad argument '${a}'`);
	opt[a.slice(2)] = process.argv[++i];
}
for (const k of ['knowledge', 'questions', 'stream', 'mb-questions', 'mb-times-ns'])
	if (!opt[k])
		die(`--${k} is required`);
const RUNS = Math.max(1, parseInt(opt.runs || '3', 10) || 3);

/* ---- knowledge: the same files and phrasings massagebot uses ------------------------------ */

// bot/knowledge.c knowledge_file_kind(): *.md except README.md, SOURCES.md and dotfiles;
// safety/ = rules, messages/ = the bot's own fixed lines.
function answerFiles(dir) {
	const out = [];
	const walk = (d) => {
		for (const name of readdirSync(d).sort()) {
			if (name.startsWith('.'))
				continue;
			const p = join(d, name);
			if (statSync(p).isDirectory()) {
				walk(p);
				continue;
			}
			const rel = relative(dir, p).split(sep).join('/');
			const lower = name.toLowerCase();
			if (!name.endsWith('.md') || lower === 'readme.md' || lower === 'sources.md')
				continue;
			if (rel.startsWith('safety/') || rel.startsWith('messages/'))
				continue;
			out.push(p);
		}
	};
	walk(dir);
	return out;
}

function loadKnowledge(dir) {
	const YAML = require('yaml');
	const answers = [];
	for (const file of answerFiles(dir)) {
		const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
		const m = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(\r?\n|$)/.exec(text);
		if (!m)
			die(`${file}: no front matter`);
		let fm;
		try {
			fm = YAML.parse(m[1]);
		} catch (e) {
			die(`${file}: ${e.message}`);
		}
		if (!fm || typeof fm.id !== 'string')
			die(`${file}: no id`);
		const phrasings = [];
		if (fm.title != null)
			phrasings.push(String(fm.title));
		for (const q of fm.questions || [])
			phrasings.push(String(q));
		answers.push({ id: fm.id, file, nquestions: (fm.questions || []).length, phrasings });
	}
	if (answers.length === 0)
		die(`${dir}: no answers`);
	return answers;
}

/* ---- evaluation sets (same rules as `massagebot eval`) ------------------------------------ */

function loadTsv(file, ids) {
	const rows = [];
	readFileSync(file, 'utf8').split('\n').forEach((raw, i) => {
		const line = raw.replace(/\r+$/, '');
		if (line === '' || line.startsWith('#'))
			return;
		const f = line.split('\t');
		if (f.length !== 2)
			die(`${file}:${i + 1}: expected 'question<TAB>expected-id'`);
		if (f[1] !== '-' && !ids.has(f[1]))
			die(`${file}:${i + 1}: unknown answer id '${f[1]}'`);
		rows.push({ q: f[0], want: f[1] === '-' ? null : f[1] });
	});
	if (rows.length === 0)
		die(`${file}: no cases`);
	return rows;
}

// got: intent id or null (fallback), one per row.
function score(rows, got) {
	let inT = 0, inOk = 0, oosT = 0, oosOk = 0;
	rows.forEach((r, i) => {
		if (r.want) {
			inT++;
			inOk += got[i] === r.want;
		} else {
			oosT++;
			oosOk += got[i] === null;
		}
	});
	return {
		in_scope: inT ? inOk / inT : 1, in_scope_ok: inOk, in_scope_n: inT,
		oos_rejection: oosT ? oosOk / oosT : 1, oos_ok: oosOk, oos_n: oosT,
		overall: (inOk + oosOk) / rows.length,
	};
}

function readJsonl(file, n, what) {
	const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
	if (lines.length !== n)
		die(`${what}: ${lines.length} answers for ${n} questions`);
	return lines.map((l, i) => {
		try {
			return JSON.parse(l);
		} catch (e) {
			die(`${what}: line ${i + 1}: ${e.message}`);
		}
	});
}

/* ---- NLP.js -------------------------------------------------------------------------------- */

const THRESHOLDS = [];
for (let i = 0; i <= 99; i++)
	THRESHOLDS.push(i / 100); // 0.00 .. 0.99

const CONFIGS = [
	{ name: 'none-on', useNoneFeature: true, spellCheck: false },
	{ name: 'none-off', useNoneFeature: false, spellCheck: false },
	{ name: 'none-on+spell', useNoneFeature: true, spellCheck: true },
	{ name: 'none-off+spell', useNoneFeature: false, spellCheck: true },
];

function fallback(res, t) {
	return !res.intent || res.intent === 'None' || res.score < t;
}

function pick(res, t) {
	return fallback(res, t) ? null : res.intent;
}

// Best threshold: maximise min(in-scope accuracy, out-of-scope rejection), then their sum.
function sweep(rows, results) {
	let best = null;
	const all = [];
	for (const t of THRESHOLDS) {
		const s = score(rows, results.map((r) => pick(r, t)));
		const key = [Math.min(s.in_scope, s.oos_rejection), s.in_scope + s.oos_rejection];
		all.push([t, +s.in_scope.toFixed(4), +s.oos_rejection.toFixed(4)]);
		if (!best || key[0] > best.key[0] + 1e-12 ||
		    (Math.abs(key[0] - best.key[0]) <= 1e-12 && key[1] > best.key[1] + 1e-12))
			best = { key, threshold: t, ...s };
	}
	delete best.key;
	return { best, all };
}

function median(v) {
	const s = [...v].sort((a, b) => a - b);
	const m = s.length >> 1;
	return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const ns = () => process.hrtime.bigint();
const secs = (a, b) => Number(b - a) / 1e9;

async function runNlp(cfg, answers, rows, holdout, stream) {
	const { NlpManager } = require('node-nlp');
	const manager = new NlpManager({
		languages: ['en'],
		threshold: 0, // keep the raw score: the sweep applies the threshold
		autoSave: false, // train() would otherwise write model.nlp into the working directory
		autoLoad: false,
		calculateSentiment: false, // not needed for the intent, only costs time
		nlu: { log: false, useNoneFeature: cfg.useNoneFeature, spellCheck: cfg.spellCheck },
	});
	let ndocs = 0;
	for (const a of answers)
		for (const p of a.phrasings) {
			manager.addDocument('en', p, a.id);
			ndocs++;
		}
	const t0 = ns();
	await manager.train();
	const trainS = secs(t0, ns());

	const ask = async (q) => {
		const r = await manager.process('en', q);
		return { intent: r.intent, score: r.score };
	};
	const res = [];
	for (const r of rows)
		res.push(await ask(r.q));
	const sw = sweep(rows, res);
	let hold = null;
	if (holdout) {
		const hres = [];
		for (const r of holdout)
			hres.push(await ask(r.q));
		hold = score(holdout, hres.map((r) => pick(r, sw.best.threshold)));
	}

	// Throughput: the whole stream, in-process, after training and one warm-up pass.  NLP.js
	// memoises each text's normalised tokens (nlu cache, tokenizer cache), so a stream of
	// repeated questions is mostly cache hits for it: "stream" is that, as specified (its best
	// case); "cold" clears those per-text memos whenever a text comes round again, so every
	// call is a first sight, as with distinct real questions (word-level stem caches are kept,
	// as massagebot keeps its own).
	for (const r of rows)
		await manager.process('en', r.q);
	const memos = textMemos(manager);
	const clearMemos = () => {
		for (const o of memos.nlu)
			o.cache.results = {};
		for (const o of memos.tokenizers)
			o.cache = undefined;
	};
	const times = [], cold = [];
	for (let k = 0; k < RUNS; k++) {
		const a = ns();
		for (const q of stream)
			await manager.process('en', q);
		times.push(secs(a, ns()));
	}
	for (let k = 0; k < RUNS; k++) {
		const seen = new Set();
		clearMemos();
		const a = ns();
		for (const q of stream) {
			if (seen.has(q)) {
				clearMemos();
				seen.clear();
			}
			seen.add(q);
			await manager.process('en', q);
		}
		cold.push(secs(a, ns()));
	}
	const n = stream.length;
	return {
		engine: 'nlpjs', setting: cfg.name, use_none_feature: cfg.useNoneFeature,
		spell_check: cfg.spellCheck, documents: ndocs, train_s: trainS,
		threshold: sw.best.threshold,
		in_scope: sw.best.in_scope, in_scope_ok: sw.best.in_scope_ok, in_scope_n: sw.best.in_scope_n,
		oos_rejection: sw.best.oos_rejection, oos_ok: sw.best.oos_ok, oos_n: sw.best.oos_n,
		holdout: hold, sweep: sw.all,
		questions: n, runs_s: times, cold_runs_s: cold,
		qps_best: n / Math.min(...times), qps_median: n / median(times),
		cold_qps_best: n / Math.min(...cold), cold_qps_median: n / median(cold),
	};
}

// NLP.js's per-text memos, found by walking the manager: Nlu objects (cache.results: text ->
// tokens) and tokenizers (cache.normalized / nonNormalized: text -> tokens).
function textMemos(manager) {
	const nlu = [], tokenizers = [], seen = new Set();
	const walk = (o) => {
		if (!o || typeof o !== 'object' || seen.has(o))
			return;
		seen.add(o);
		if (o.cache && typeof o.cache === 'object') {
			if (o.cache.results && typeof o.cache.results === 'object')
				nlu.push(o);
			else if (o.cache.normalized && o.cache.nonNormalized)
				tokenizers.push(o);
		}
		for (const k of Object.keys(o))
			if (k !== 'cache')
				walk(o[k]);
	};
	walk(manager);
	if (nlu.length === 0)
		die('cannot find NLP.js\'s per-text cache (has node-nlp changed?)');
	return { nlu, tokenizers };
}

/* ---- main ---------------------------------------------------------------------------------- */

const answers = loadKnowledge(opt.knowledge);
const ids = new Set(answers.map((a) => a.id));
const rows = loadTsv(opt.questions, ids);
const holdout = opt.holdout ? loadTsv(opt.holdout, ids) : null;
const stream = readFileSync(opt.stream, 'utf8').split('\n').map((l) => l.replace(/\r$/, ''));
if (stream.length && stream[stream.length - 1] === '')
	stream.pop();
if (stream.length === 0)
	die(`${opt.stream}: empty`);

// massagebot: its `ask --json` answers to the same questions, and the timed runs.
const mbAns = readJsonl(opt['mb-questions'], rows.length, opt['mb-questions']);
rows.forEach((r, i) => {
	if (mbAns[i].question !== r.q)
		die(`${opt['mb-questions']}: line ${i + 1} answers a different question`);
});
const mbScore = score(rows, mbAns.map((o) => o.intent ?? null));
let mbHold = null;
if (holdout && opt['mb-holdout']) {
	const h = readJsonl(opt['mb-holdout'], holdout.length, opt['mb-holdout']);
	mbHold = score(holdout, h.map((o) => o.intent ?? null));
}
// Cross-check against `massagebot eval` (same matcher, its own scoring).
let evalAgrees = null;
if (opt['mb-eval']) {
	const ev = readFileSync(opt['mb-eval'], 'utf8');
	const a = /in-scope accuracy: [\d.]+ \((\d+)\/(\d+)\)/.exec(ev);
	const o = /out-of-scope rejection: [\d.]+ \((\d+)\/(\d+)\)/.exec(ev);
	evalAgrees = !!(a && o && +a[1] === mbScore.in_scope_ok && +a[2] === mbScore.in_scope_n &&
			+o[1] === mbScore.oos_ok && +o[2] === mbScore.oos_n);
	if (!evalAgrees)
		process.stderr.write('compare.mjs: warning: `massagebot eval` and `ask --json` disagree\n');
}
const mbTimes = opt['mb-times-ns'].split(',').map((x) => Number(x) / 1e9);
if (mbTimes.some((x) => !(x > 0)))
	die(`bad --mb-times-ns '${opt['mb-times-ns']}'`);
const mbLoads = opt['mb-load-ns'] ? opt['mb-load-ns'].split(',').map((x) => Number(x) / 1e9) : null;
const mb = {
	engine: 'massagebot', setting: 'ask --json (whole process)',
	threshold: opt['mb-threshold'] || 'default',
	...mbScore, holdout: mbHold, eval_agrees: evalAgrees,
	questions: stream.length, runs_s: mbTimes,
	qps_best: stream.length / Math.min(...mbTimes), qps_median: stream.length / median(mbTimes),
	load_runs_s: mbLoads, load_s_median: mbLoads ? median(mbLoads) : null,
	qps_median_excl_load: mbLoads && median(mbTimes) > median(mbLoads)
		? stream.length / (median(mbTimes) - median(mbLoads)) : null,
};

const tImport = ns();
require('node-nlp');
const importS = secs(tImport, ns());
const nlpVersion = require('node-nlp/package.json').version;
const nlp = [];
for (const cfg of CONFIGS)
	nlp.push(await runNlp(cfg, answers, rows, holdout, stream));

/* ---- report -------------------------------------------------------------------------------- */

const pct = (x) => (x * 100).toFixed(1) + '%';
const frac = (ok, n) => `${ok}/${n}`;
const fmtQps = (x) => Math.round(x).toLocaleString('en-US');
const thr = (t) => (typeof t === 'number' ? t.toFixed(2) : String(t));
const qLabel = opt['questions-label'] || opt.questions;
const hLabel = opt['holdout-label'] || opt.holdout || null;

const nphr = answers.reduce((s, a) => s + a.phrasings.length, 0);
console.log(`massagebot vs NLP.js ${nlpVersion} on ${qLabel} ` +
	    `(${rows.length} cases: ${mbScore.in_scope_n} in scope, ${mbScore.oos_n} out of scope); ` +
	    `both trained on ${answers.length} answers, ${nphr} phrasings (titles + questions)`);
console.log(`speed: ${stream.length} questions in one stream (the evaluation questions repeated), ${RUNS} runs; ` +
	    'massagebot = whole `ask --json` process, load included; NLP.js = process() in-process after training');
console.log('');
const head = ['engine', 'setting', 'thresh', 'in-scope acc', 'oos rejection', 'q/s median', 'q/s best',
	      'cold q/s', 'train s'];
const table = [head];
table.push(['massagebot', mb.setting, thr(mb.threshold), `${pct(mb.in_scope)} ${frac(mb.in_scope_ok, mb.in_scope_n)}`,
	    `${pct(mb.oos_rejection)} ${frac(mb.oos_ok, mb.oos_n)}`, fmtQps(mb.qps_median), fmtQps(mb.qps_best),
	    fmtQps(mb.qps_median), '-']);
for (const r of nlp)
	table.push(['nlpjs', r.setting, thr(r.threshold), `${pct(r.in_scope)} ${frac(r.in_scope_ok, r.in_scope_n)}`,
		    `${pct(r.oos_rejection)} ${frac(r.oos_ok, r.oos_n)}`, fmtQps(r.qps_median), fmtQps(r.qps_best),
		    fmtQps(r.cold_qps_median), r.train_s.toFixed(2)]);
const w = head.map((_, c) => Math.max(...table.map((row) => row[c].length)));
for (const row of table)
	console.log(row.map((cell, c) => (c >= 2 ? cell.padStart(w[c]) : cell.padEnd(w[c]))).join('  ').trimEnd());
console.log('thresh: NLP.js at its best of 0.00..0.99 step 0.01 (max of min(in-scope, oos), then sum), tuned on this set;');
console.log('  "none-on/off" = its None feature, "+spell" = its spell check.  cold q/s (median): NLP.js with its');
console.log('  per-text memo cleared whenever a text repeats, as with distinct questions; massagebot keeps no');
console.log('  per-question memo, so its stream figure is already cold.');

if (holdout) {
	console.log('');
	console.log(`held out (${hLabel}, ${holdout.length} cases; NLP.js at the threshold picked above):`);
	const hl = [['massagebot', mbHold]].concat(nlp.map((r) => [`nlpjs ${r.setting}`, r.holdout]));
	for (const [name, s] of hl)
		if (s)
			console.log(`  ${name.padEnd(20)}  in-scope ${pct(s.in_scope).padStart(6)} ` +
				    `${frac(s.in_scope_ok, s.in_scope_n).padStart(7)}  oos rejection ` +
				    `${pct(s.oos_rejection).padStart(6)} ${frac(s.oos_ok, s.oos_n).padStart(5)}`);
}

// Targets: at least as accurate as NLP.js's best in scope and out of scope (each against the best
// of any setting), and >= 20x its throughput, judged conservatively: massagebot's median run
// against NLP.js's fastest single run of any setting, memo warm.
const bestIn = Math.max(...nlp.map((r) => r.in_scope));
const bestOos = Math.max(...nlp.map((r) => r.oos_rejection));
const fastest = nlp.reduce((a, b) => (b.qps_best > a.qps_best ? b : a));
const fastestCold = nlp.reduce((a, b) => (b.cold_qps_median > a.cold_qps_median ? b : a));
const ratio = mb.qps_median / fastest.qps_best;
const ratioCold = mb.qps_median / fastestCold.cold_qps_median;
const targets = {
	in_scope_at_least_nlpjs: mb.in_scope >= bestIn - 1e-12,
	oos_at_least_nlpjs: mb.oos_rejection >= bestOos - 1e-12,
	nlpjs_best_in_scope: bestIn,
	nlpjs_best_oos_rejection: bestOos,
	speed_ratio: ratio,
	speed_ratio_vs: `massagebot median vs NLP.js ${fastest.setting} best run (memo warm)`,
	speed_ratio_cold: ratioCold,
	speed_ratio_cold_vs: `massagebot median vs NLP.js ${fastestCold.setting} cold median`,
	speed_at_least_20x: ratio >= 20,
};
const verdict = (ok) => (ok ? 'target met' : 'TARGET MISSED');
console.log('');
console.log(`accuracy: massagebot ${pct(mb.in_scope)} in scope, ${pct(mb.oos_rejection)} oos rejection; ` +
	    `NLP.js best ${pct(bestIn)}, ${pct(bestOos)}: ` +
	    verdict(targets.in_scope_at_least_nlpjs && targets.oos_at_least_nlpjs));
console.log(`speed: massagebot ${fmtQps(mb.qps_median)} q/s (median, load included) vs NLP.js ` +
	    `${fmtQps(fastest.qps_best)} q/s (${fastest.setting}, best run) = ${ratio.toFixed(2)}x; ` +
	    `vs NLP.js cold ${fmtQps(fastestCold.cold_qps_median)} q/s = ${ratioCold.toFixed(2)}x: ` +
	    `${verdict(targets.speed_at_least_20x)} (>= 20x)`);
if (mb.load_s_median != null)
	console.log(`massagebot: load alone (empty input) ${(mb.load_s_median * 1000).toFixed(0)} ms median, ` +
		    `stream ${(median(mbTimes) * 1000).toFixed(0)} ms median` +
		    (mb.qps_median_excl_load ? ` = ${fmtQps(mb.qps_median_excl_load)} q/s once loaded` : ''));
console.log(`NLP.js: require('node-nlp') ${importS.toFixed(2)} s, training ` +
	    nlp.map((r) => `${r.setting} ${r.train_s.toFixed(2)} s`).join(', ') + ' (not in q/s)');
if (evalAgrees === false)
	console.log('warning: `massagebot eval` and `ask --json` disagree on this set');

const result = {
	date: new Date().toISOString(),
	machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version },
	questions_file: qLabel, holdout_file: hLabel,
	answers: answers.length, phrasings: nphr, stream_questions: stream.length, runs: RUNS,
	nlpjs_version: nlpVersion, nlpjs_require_s: importS,
	thresholds_swept: { from: THRESHOLDS[0], to: THRESHOLDS[THRESHOLDS.length - 1], step: 0.01 },
	sweep_format: '[threshold, in_scope, oos_rejection]',
	massagebot: mb, nlpjs: nlp, targets,
};
console.log('COMPARE_JSON ' + JSON.stringify(result));
