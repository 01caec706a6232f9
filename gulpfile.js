const { src, dest } = require('gulp');

// `n8n-node build` compiles with tsc and copies the icons (light and dark SVG), but not the codex files
// (`<Node>.node.json`: categories and documentation links) n8n reads next to each node. This task copies those.
function copyCodex() {
	return src(['nodes/**/*.node.json'], { base: '.' }).pipe(dest('dist'));
}

exports['build:codex'] = copyCodex;
